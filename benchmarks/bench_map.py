"""Benchmark the HTML map (covgap.export.map) for a province-sized run.

A synthetic province (seeded, so every run builds the same one) in UTM 48N
(EPSG:32648), 100 km x 120 km, about Thanh Hóa's size:

- 300 communes: a Voronoi tessellation whose boundaries are densified to 60 m and bent
  by a smooth displacement field, so they wiggle like digitised boundaries (about
  130,000 vertices) and neighbours still share their edges;
- 5,000 villages with Vietnamese names, the west more often lõm sóng, every column of
  ``villages.csv`` that the map shows;
- 5,000 BTS sites of four operators (three cells each, some 2G/3G/5G), 15% of them at
  a location shared with another operator;
- 1,500 fibre routes and 500 nodes;
- best-server 4G and 5G signal rasters of every operator on a 100 m grid
  (1,000 x 1,200 cells), smooth random fields;
- 50 candidate sites.

It builds the result tables directly (no coverage model runs), then times and prints:

- **covgap**: ``write_map`` (build + write), the file size and what makes it up, and in
  headless chromium (/usr/bin/chromium, network off) the time to the ``load`` event,
  until the Leaflet map is ready (``covgap.ready``: every layer built and fitted), until
  the 5,000 site markers are clustered, the JS heap, and a re-render after a zoom;
- **baseline**, folium's default output for the same data: CDN links (not inlined),
  communes as one ``GeoJson`` with a tooltip (not simplified), 5,000 ``CircleMarker``
  objects with ``Popup`` tables, 5,000 ``Marker`` objects in a ``MarkerCluster``, fibre
  as ``GeoJson``, coverage as RGBA ``ImageOverlay`` arrays: its build time and size.
  It cannot be opened offline (its scripts are on CDNs), so only its size is compared.

Run from the repository root::

    .venv/bin/python benchmarks/bench_map.py
    .venv/bin/python benchmarks/bench_map.py --villages 10000 --sites 10000 --loads 5
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import MarkerCluster
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.warp import reproject

from covgap.analysis import Analysis
from covgap.config import load_config
from covgap.coverage import Coverage
from covgap.coverage.grid import Grid
from covgap.export.leaflet import esc
from covgap.export.map import write_map
from covgap.io import Inputs

UTM = CRS.from_epsg(32648)
WEST, SOUTH = 500_000.0, 2_150_000.0
WIDTH_M, HEIGHT_M = 100_000.0, 120_000.0
CELL_M = 100.0
OPERATORS = ("Viettel", "VNPT", "MobiFone", "Vietnamobile")
OPERATOR_SHARE = (0.4, 0.25, 0.25, 0.1)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SYLLABLES = ("Pù", "Nhi", "Lát", "Đông", "Hạ", "Trung", "Hoà", "Mường", "Khê", "Sáy", "Ngàm",
             "Kéo", "Chai", "Thịnh", "Giang", "Xuân", "Cẩm", "Lương", "Sơn", "Ngọc", "Lặc",
             "Thường", "Bá", "Thước", "Quan", "Hóa", "Yên", "Cát", "Tân", "Phúc")


# --------------------------------------------------------------------------- province

def _names(rng: np.random.Generator, prefixes: tuple[str, ...], n: int) -> list[str]:
    pre = rng.choice(prefixes, n)
    a, b = rng.choice(SYLLABLES, n), rng.choice(SYLLABLES, n)
    return [f"{p} {x} {y}" for p, x, y in zip(pre, a, b, strict=True)]


def _wiggle(xy: np.ndarray) -> np.ndarray:
    """Bend coordinates by a smooth field: the same point always moves the same way."""
    x, y = xy[:, 0], xy[:, 1]
    dx = 500 * np.sin(x / 3100 + 1.3) + 160 * np.sin(y / 730) + 35 * np.sin((x + y) / 140)
    dy = 500 * np.cos(y / 3700) + 160 * np.sin(x / 910 + 0.5) + 35 * np.cos((x - y) / 170)
    return np.column_stack([x + dx, y + dy])


def _communes(rng: np.random.Generator, n: int) -> gpd.GeoDataFrame:
    frame = shapely.box(WEST, SOUTH, WEST + WIDTH_M, SOUTH + HEIGHT_M)
    seeds = shapely.points(rng.uniform(WEST, WEST + WIDTH_M, n),
                           rng.uniform(SOUTH, SOUTH + HEIGHT_M, n))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds),
                                                       extend_to=frame))
    cells = shapely.intersection(cells, frame)
    cells = shapely.transform(shapely.segmentize(cells, 60.0), _wiggle)
    cells = shapely.make_valid(cells)
    codes = [f"{28000 + i:05d}" for i in range(len(cells))]
    region = rng.choice(["I", "II", "III", ""], len(cells), p=[0.3, 0.3, 0.2, 0.2])
    return gpd.GeoDataFrame({
        "commune_code": codes, "commune_name": _names(rng, ("Xã", "Xã", "Phường"), len(cells)),
        "region": region, "district": [f"Huyện {s}" for s in rng.choice(SYLLABLES, len(cells))],
    }, geometry=cells, crs=UTM)


def _villages(rng: np.random.Generator, communes: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
    xmin, ymin, xmax, ymax = communes.total_bounds
    pts = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(xmin, xmax, 2 * n),
                                                   rng.uniform(ymin, ymax, 2 * n)), crs=UTM)
    joined = gpd.sjoin(pts, communes[["commune_code", "commune_name", "district", "region",
                                      "geometry"]], predicate="within")
    v = joined.drop_duplicates(subset=joined.geometry.name).iloc[:n].reset_index(drop=True)
    x = v.geometry.x.to_numpy()
    west = (x - xmin) / (xmax - xmin)
    p_gap = 0.35 * (1 - west) ** 2  # the mountainous west keeps the gaps
    u = rng.uniform(size=len(v))
    status = np.where(u < p_gap, "lom_song", np.where(u < p_gap + 0.03, "partial", "covered"))
    share = np.where(status == "covered", 1.0, np.where(status == "partial",
                                                        rng.uniform(0.2, 0.79, len(v)), 0.0))
    fibre_m = rng.gamma(1.5, 900, len(v)).round(1)
    ftth = fibre_m <= 1000
    difficult = rng.uniform(size=len(v)) < 0.15
    gap = (status != "covered") | ~ftth
    usp = gap & ((v["region"] == "III").to_numpy() | difficult)
    ops = [";".join(sorted(rng.choice(OPERATORS, rng.integers(1, 4), replace=False)))
           if s == "covered" else "" for s in status]
    best_op = np.where(status != "covered", rng.choice(OPERATORS, len(v)), None)
    reason = np.where(
        status == "lom_song",
        [f"no 4G/5G signal: terrain shadow from site TH-{rng.integers(1, 5000):04d} "
         f"(Viettel, -9{rng.integers(0, 9)} dBm without terrain); nearest 4G/5G site "
         f"TH-{rng.integers(1, 5000):04d} (VNPT) {rng.uniform(2, 9):.1f} km"
         for _ in range(len(v))],
        np.where(~ftth, [f"nearest fibre route {m / 1000:.1f} km (VNPT)" for m in fibre_m], ""))
    lonlat = v.geometry.to_crs("EPSG:4326")
    out = pd.DataFrame({
        "village_id": [f"V{i + 1:05d}" for i in range(len(v))],
        "village_name": _names(rng, ("Bản", "Thôn", "Làng", "Khu phố"), len(v)),
        "commune_code": v["commune_code"], "population": rng.integers(80, 2500, len(v)),
        "lon": lonlat.x.round(6), "lat": lonlat.y.round(6), "mbb_share": share,
        "mbb_covered": status == "covered", "operators": ops, "fibre_distance_m": fibre_m,
        "ftth": ftth, "lom_song": status != "covered", "region": v["region"],
        "difficult": difficult, "usp_eligible": usp, "commune_name": v["commune_name"],
        "district": v["district"], "households": rng.integers(20, 600, len(v)),
        "status": status, "share_basis": "population",
        "best_signal_dbm": np.where(status == "covered", rng.uniform(-108, -60, len(v)),
                                    np.nan).round(1),
        "fibre_operator": rng.choice(OPERATORS[:3], len(v)), "reason": reason,
        "best_operator": best_op,
    })
    return gpd.GeoDataFrame(out, geometry=lonlat.to_numpy(), crs="EPSG:4326")


def _commune_table(communes: gpd.GeoDataFrame, villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    g = villages.groupby("commune_code")
    table = pd.DataFrame({
        "villages": g.size(), "villages_mbb": g["mbb_covered"].sum(),
        "villages_ftth": g["ftth"].sum(), "population": g["population"].sum(),
        "population_mbb": g.apply(lambda f: f["population"][f["mbb_covered"]].sum(),
                                  include_groups=False),
        "usp_villages": g["usp_eligible"].sum()})
    out = communes.join(table, on="commune_code")
    out["villages"] = out["villages"].fillna(0).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["villages_mbb_pct"] = (100 * out["villages_mbb"] / out["villages"]).round(1)
        out["villages_ftth_pct"] = (100 * out["villages_ftth"] / out["villages"]).round(1)
        out["population_mbb_pct"] = (100 * out["population_mbb"] / out["population"]).round(1)
    out["site_locations"] = 17
    out["shared_locations"] = 3
    return out.to_crs("EPSG:4326")


def _sites(rng: np.random.Generator, n: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    x = rng.uniform(WEST, WEST + WIDTH_M, n)
    y = rng.uniform(SOUTH, SOUTH + HEIGHT_M, n)
    ops = rng.choice(OPERATORS, n, p=OPERATOR_SHARE)
    shared = rng.uniform(size=n) < 0.15
    # a shared site stands on the previous site's spot (a neighbour's tower)
    for i in np.flatnonzero(shared[1:]) + 1:
        x[i], y[i] = x[i - 1], y[i - 1]
    ids = [f"TH-{i + 1:04d}" for i in range(n)]
    rows = []
    for i in range(n):
        techs = ["4G", "4G", "4G"] + (["2G"] if rng.uniform() < 0.3 else []) + (
            ["5G"] if rng.uniform() < 0.05 else [])
        rows += [(ids[i], ops[i], t, x[i], y[i]) for t in techs]
    cells = pd.DataFrame(rows, columns=["site_id", "operator", "technology", "x", "y"])
    sites = gpd.GeoDataFrame(cells[["site_id", "operator", "technology"]],
                             geometry=shapely.points(cells["x"], cells["y"]),
                             crs=UTM).to_crs("EPSG:4326")
    loc_key = pd.Series(list(zip(x.round(1), y.round(1), strict=True)))
    loc = pd.DataFrame({"site_id": ids, "operator": ops, "key": loc_key})
    g = loc.groupby("key", sort=False)
    locations = pd.DataFrame({
        "location_id": [f"L{i + 1:05d}" for i in range(g.ngroups)],
        "site_ids": g["site_id"].agg(";".join).to_numpy(),
        "operators": g["operator"].agg(lambda s: ";".join(sorted(set(s)))).to_numpy(),
        "n_operators": g["operator"].nunique().to_numpy()})
    locations["shared"] = locations["n_operators"] >= 2
    first = g.head(1).index
    locations = gpd.GeoDataFrame(locations, geometry=shapely.points(x[first], y[first]),
                                 crs=UTM).to_crs("EPSG:4326")
    return sites, locations


def _fibre(rng: np.random.Generator, routes: int, nodes: int) -> gpd.GeoDataFrame:
    start = np.column_stack([rng.uniform(WEST, WEST + WIDTH_M, routes),
                             rng.uniform(SOUTH, SOUTH + HEIGHT_M, routes)])
    steps = rng.normal(0, 300, (routes, 30, 2)).cumsum(axis=1)
    lines = shapely.linestrings(start[:, None, :] + steps)
    pts = shapely.points(rng.uniform(WEST, WEST + WIDTH_M, nodes),
                         rng.uniform(SOUTH, SOUTH + HEIGHT_M, nodes))
    geoms = np.concatenate([lines, pts])
    return gpd.GeoDataFrame({
        "operator": rng.choice(OPERATORS[:3], routes + nodes),
        "kind": ["route"] * routes + ["node"] * nodes,
        "fibre_id": [f"FO-{i + 1:05d}" for i in range(routes + nodes)]},
        geometry=geoms, crs=UTM).to_crs("EPSG:4326")


def _coverage(rng: np.random.Generator) -> Coverage:
    width, height = int(WIDTH_M / CELL_M), int(HEIGHT_M / CELL_M)
    transform = from_origin(WEST, SOUTH + HEIGHT_M, CELL_M, CELL_M)
    grid = Grid(crs=UTM, transform=transform, width=width, height=height)
    signal = {}
    for k, op in enumerate(OPERATORS):
        for tech, offset in (("4G", 0.0), ("5G", -25.0)):
            coarse = rng.normal(-95 + offset - 4 * k, 18, (height // 25, width // 25))
            coarse = coarse.astype(np.float32)
            fine = np.empty((height, width), dtype=np.float32)
            reproject(coarse, fine, src_transform=from_origin(WEST, SOUTH + HEIGHT_M,
                                                              CELL_M * 25, CELL_M * 25),
                      src_crs=UTM, dst_transform=transform, dst_crs=UTM,
                      resampling=Resampling.bilinear)
            fine[fine < -130] = np.nan
            signal[op, tech] = fine
    return Coverage(model="terrain", parameters={}, min_rsrp_dbm=-110.0,
                    cells=gpd.GeoDataFrame(geometry=[], crs=UTM), grid=grid, signal=signal)


def _candidates(rng: np.random.Generator, n: int) -> pd.DataFrame:
    pts = gpd.GeoSeries(shapely.points(rng.uniform(WEST, WEST + WIDTH_M / 3, n),
                                       rng.uniform(SOUTH, SOUTH + HEIGHT_M, n)),
                        crs=UTM).to_crs("EPSG:4326")
    gained = np.sort(rng.integers(300, 8000, n))[::-1]
    kind = rng.choice(["new", "share"], n, p=[0.7, 0.3])
    return pd.DataFrame({
        "rank": np.arange(1, n + 1), "lon": pts.x, "lat": pts.y, "kind": kind,
        "host_site_id": [f"TH-{rng.integers(1, 5000):04d}" if k == "share" else None
                         for k in kind],
        "operator": [rng.choice(OPERATORS) if k == "share" else None for k in kind],
        "population_gained": gained, "villages": rng.integers(1, 30, n),
        "cumulative_population": np.cumsum(gained)})


class BenchResult:
    """What the map reads from a run, built from the synthetic tables."""

    def __init__(self, *, villages: int, sites: int, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        communes = _communes(rng, 300)
        village_table = _villages(rng, communes, villages)
        cells, locations = _sites(rng, sites)
        fibre = _fibre(rng, 1500, 500)
        self.config = load_config({
            "run": {"name": "tinh-thu", "year": 2025},
            "inputs": {"communes": "c.gpkg", "villages": "v.gpkg", "sites": "s.csv"},
            "coverage": {"model": "terrain", "technologies": ["4G", "5G"],
                         "min_rsrp_dbm": -110}})
        self.inputs = Inputs(communes=communes.to_crs("EPSG:4326"),
                             villages=village_table[["village_id", "village_name",
                                                     "commune_code", "geometry"]],
                             sites=cells, fibre=fibre, dem=None, population=None,
                             metric_crs=UTM)
        self.coverage = _coverage(rng)
        commune_table = _commune_table(communes, village_table)
        indicators = pd.DataFrame({
            "level": "province", "code": "tinh-thu", "name": "tinh-thu",
            "indicator": ["villages_mbb_pct", "villages_ftth_pct", "bts_sharing_pct"],
            "value": [round(100 * village_table["mbb_covered"].mean(), 1),
                      round(100 * village_table["ftth"].mean(), 1),
                      round(100 * locations["shared"].mean(), 1)],
            "target": [100.0, 100.0, 15.0]})
        indicators["met"] = indicators["value"] >= indicators["target"]
        self.analysis = Analysis(villages=village_table, communes=commune_table,
                                 indicators=indicators, gaps=village_table.iloc[:0],
                                 locations=locations)
        self.candidates = _candidates(rng, 50)
        self.n_vertices = int(shapely.get_num_coordinates(communes.geometry.to_numpy()).sum())

    @property
    def indicators(self) -> pd.DataFrame:
        """The indicator table, as ``Result.indicators``."""
        return self.analysis.indicators

    @property
    def villages(self) -> gpd.GeoDataFrame:
        """The village table, as ``Result.villages``."""
        return self.analysis.villages


# --------------------------------------------------------------------------- baseline

def baseline_map(result: BenchResult, path: Path) -> Path:
    """Write what a straightforward folium script makes of the same layers."""
    a = result.analysis
    west, south, east, north = a.communes.total_bounds
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=10)
    communes = a.communes[["commune_name", "villages_mbb_pct", "geometry"]].copy()
    colors = {0: "#08519c", 1: "#3182bd", 2: "#6baed6", 3: "#bdd7e7", 4: "#f4f8fd"}

    def style(feature):
        pct = feature["properties"]["villages_mbb_pct"]
        k = 4 if pct is None else int(np.digitize(pct, [50, 80, 95, 100]))
        return {"fillColor": colors[k], "fillOpacity": 0.6, "color": "#444", "weight": 1}

    folium.GeoJson(communes, name="Communes", style_function=style,
                   tooltip=folium.GeoJsonTooltip(["commune_name", "villages_mbb_pct"])).add_to(m)
    fg = folium.FeatureGroup(name="Villages").add_to(m)
    status_color = {"covered": "#1a9641", "partial": "#fdae61", "lom_song": "#d7191c"}
    for v in a.villages.itertuples():
        rows = "".join(f"<tr><th>{k}</th><td>{esc(getattr(v, k))}</td></tr>" for k in (
            "village_id", "commune_name", "population", "mbb_share", "operators",
            "fibre_distance_m", "region", "difficult", "usp_eligible", "reason"))
        folium.CircleMarker([v.lat, v.lon], radius=5, color=status_color[v.status],
                            fill=True, popup=folium.Popup(
                                f"<b>{esc(v.village_name)}</b><table>{rows}</table>",
                                max_width=350)).add_to(fg)
    sites = result.inputs.sites.drop_duplicates("site_id")
    cluster = MarkerCluster(name="Sites").add_to(m)
    for s in sites.itertuples():
        folium.Marker([s.geometry.y, s.geometry.x],
                      popup=f"{esc(s.site_id)} {esc(s.operator)}").add_to(cluster)
    folium.GeoJson(result.inputs.fibre[["operator", "geometry"]], name="Fibre").add_to(m)
    cov = result.coverage
    for (op, tech), sig in cov.signal.items():
        rgba = np.zeros((*sig.shape, 4), dtype=np.uint8)
        ok = np.nan_to_num(sig, nan=-999) >= cov.min_rsrp_dbm
        rgba[ok] = (120, 198, 121, 160)
        folium.raster_layers.ImageOverlay(rgba, bounds=[[south, west], [north, east]],
                                          name=f"{op} {tech}", show=False).add_to(m)
    folium.LayerControl().add_to(m)
    m.save(str(path))
    return path


# --------------------------------------------------------------------------- browser

def browser_timings(path: Path, loads: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(loads):
            ctx = b.new_context(viewport={"width": 1400, "height": 900}, offline=True)
            page = ctx.new_page()
            errors = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(
                m.text))
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_function("window.covgap && window.covgap.ready", timeout=60000)
            # every operator's sites are in the one cluster group: the last chunk is done
            page.wait_for_function("""() => { const st = covgap.state;
                return !st.siteCluster || st.siteCluster.getLayers().length ===
                    st.sites.reduce((n, s) => n + s.markers.length, 0); }""", timeout=60000)
            t = page.evaluate("""() => {
                const nav = performance.getEntriesByType('navigation')[0];
                return {load: nav.loadEventEnd, dom: nav.domContentLoadedEventEnd,
                        ready: covgap.readyAt, sites: covgap.sitesLoadedAt || covgap.readyAt,
                        heap: performance.memory ? performance.memory.usedJSHeapSize : 0};
            }""")
            t["zoom"] = page.evaluate("""() => new Promise(done => {
                const map = covgap.state.map, t0 = performance.now();
                map.setZoom(map.getZoom() + 2, {animate: false});
                requestAnimationFrame(() => requestAnimationFrame(
                    () => done(performance.now() - t0)));
            })""")
            if errors:
                raise RuntimeError(f"errors in the page: {errors[:3]}")
            rows.append(t)
            ctx.close()
        b.close()
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def payload_sizes(text: str) -> dict[str, int]:
    """Bytes of every data block and of the inlined assets in the page."""
    sizes: dict[str, int] = {}
    for m in re.finditer(r'<script type="application/json" id="covgap_([a-z]+)_[0-9a-f]+_data">'
                         r"(.*?)</script>", text, flags=re.S):
        sizes[m.group(1)] = sizes.get(m.group(1), 0) + len(m.group(2).encode())
    head = text[:text.index("</head>")]
    sizes["(inlined JS/CSS)"] = sum(
        len(m.group(1).encode()) for m in re.finditer(r"<(?:script|style)>(.*?)</(?:script|style)>",
                                                      head, flags=re.S))
    return sizes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--villages", type=int, default=5000)
    ap.add_argument("--sites", type=int, default=5000)
    ap.add_argument("--loads", type=int, default=3, help="page loads to take the median of")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--keep", type=Path, help="also copy the map to this file")
    args = ap.parse_args()

    t0 = time.perf_counter()
    result = BenchResult(villages=args.villages, sites=args.sites)
    print(f"synthetic province: {len(result.analysis.communes)} communes "
          f"({result.n_vertices:,} boundary vertices), {len(result.villages):,} villages, "
          f"{result.inputs.sites['site_id'].nunique():,} sites "
          f"({len(result.inputs.sites):,} cells), {len(result.inputs.fibre):,} fibre features, "
          f"{len(result.coverage.signal)} signal rasters of "
          f"{result.coverage.grid.width}x{result.coverage.grid.height}, "
          f"{len(result.candidates)} candidates  [{time.perf_counter() - t0:.1f} s to build]")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "map.html"
        t0 = time.perf_counter()
        write_map(result, out)
        build_s = time.perf_counter() - t0
        text = out.read_text(encoding="utf-8")
        size = out.stat().st_size
        if args.keep:
            args.keep.write_text(text, encoding="utf-8")
        print(f"\ncovgap write_map: {build_s:.2f} s, {size / 1e6:.2f} MB, "
              f"{text.count('http://') + text.count('https://')} http(s) strings, "
              f"{len(re.findall(r'<script[^>]*src=', text))} external scripts")
        for name, n in sorted(payload_sizes(text).items(), key=lambda kv: -kv[1]):
            print(f"  {name:<18} {n / 1e3:9.1f} kB")
        t = browser_timings(out, args.loads)
        print(f"headless chromium, offline, median of {args.loads} loads:")
        print(f"  DOMContentLoaded      {t['dom']:8.0f} ms")
        print(f"  load event            {t['load']:8.0f} ms")
        print(f"  Leaflet map ready     {t['ready']:8.0f} ms  (every layer built and fitted)")
        print(f"  sites clustered       {t['sites']:8.0f} ms  (marker-cluster chunked loading)")
        print(f"  zoom +2, redrawn      {t['zoom']:8.0f} ms")
        print(f"  JS heap               {t['heap'] / 1e6:8.1f} MB")

        if not args.no_baseline:
            base = Path(tmp) / "baseline.html"
            t0 = time.perf_counter()
            baseline_map(result, base)
            base_s = time.perf_counter() - t0
            btext = base.read_text(encoding="utf-8")
            ext = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(https?://[^"]+)"', btext)
            print(f"\nbaseline folium default: {base_s:.2f} s, "
                  f"{base.stat().st_size / 1e6:.2f} MB, {len(ext)} CDN scripts/styles "
                  "(needs internet; not loadable offline)")
            print(f"ratio: covgap file is {size / base.stat().st_size:.2f}x the baseline's "
                  f"size; written {base_s / build_s:.1f}x faster")


if __name__ == "__main__":
    main()
