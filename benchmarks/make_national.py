"""Generate a synthetic Vietnam-sized country for the national-scale benchmark.

Everything is SYNTHETIC and seeded (the same seed gives the same files, byte for
byte apart from GeoPackage timestamps).  At ``--scale 1`` it has about the figures of
Vietnam after the 2025 administrative reform:

- 34 provinces (a Voronoi tessellation of a jittered 6 x 6 lattice, two left out) over
  a 576 km x 578 km block of lon 103.3-108.7, lat 13.4-18.6 (about 333,000 km²,
  Vietnam's land area); mountains in the west, a plain in the east;
- about 3,300 communes (a Voronoi tessellation per province of seeds drawn where
  people live), region I/II/III from their elevation, and a ``province`` column;
- about 100,000 village points with about 100 million people;
- about 40,000 site locations of 4 operators (36,000 sites, 12% of them shared by a
  second operator) with about 128,000 cells: three 4G sectors per site, three 5G
  sectors on the densest 6% of sites; sites follow the people, so mountain villages
  are gaps;
- about 30,000 fibre nodes of the four operators near villages;
- a coarse DEM (0.0025°, about 280 m) and a population grid (0.01°) holding exactly the
  villages' people.

Files are written once to ``benchmarks/cache/national-<seed>-<scale>/`` (git-ignored;
never committed) with ``radius.toml``, ``pathloss.toml`` and ``terrain.toml`` run
configurations beside them.  A second call finds them and does nothing.

Run from the repository root::

    .venv/bin/python benchmarks/make_national.py               # the full country
    .venv/bin/python benchmarks/make_national.py --scale 0.05  # 5% of the counts
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.transform import from_origin

WEST, EAST, SOUTH, NORTH = 103.3, 108.7, 13.4, 18.6
OPERATORS = {"Viettel": 0.40, "VinaPhone": 0.28, "MobiFone": 0.25, "Vietnamobile": 0.07}
PROVINCES = 34
COMMUNES = 3321
VILLAGES = 100_000
SITES = 36_000
FIBRE_NODES = 30_000
DEM_STEP = 0.0025
POP_STEP = 0.01
SYLLABLES = ("An", "Bình", "Cầu", "Đồng", "Hòa", "Khê", "Làng", "Mường", "Nà", "Phú",
             "Quảng", "Sơn", "Tân", "Thạch", "Trung", "Vĩnh", "Xuân", "Yên", "Bản",
             "Pác", "Nậm", "Hồng", "Lũng", "Thượng")

ROOT = Path(__file__).resolve().parent / "cache"


def elevation(lon: np.ndarray, lat: np.ndarray, rng_seed: int) -> np.ndarray:
    """Elevation in metres: high ridged mountains in the west, hills, a plain in the east."""
    rng = np.random.default_rng(rng_seed)
    west = np.clip((107.8 - lon) / 4.0, 0.0, 1.0) ** 1.3
    noise = np.zeros(np.broadcast(lon, lat).shape)
    for _ in range(24):  # random Fourier ridges, 6-60 km wavelengths
        k = rng.uniform(2 * np.pi / 0.55, 2 * np.pi / 0.055)
        a = rng.uniform(0, np.pi)
        noise += np.cos(k * (lon * np.cos(a) + lat * np.sin(a)) + rng.uniform(0, 2 * np.pi)) / (
            1 + 0.004 * k**2)
    noise = (noise - noise.min()) / (np.ptp(noise) + 1e-9)
    return (5 + 2200 * west * (0.25 + 0.75 * noise) + 30 * noise).astype("float32")


def names(rng: np.random.Generator, prefix: str, n: int) -> list[str]:
    """``prefix`` plus two Vietnamese syllables, with a number to keep names apart."""
    a = rng.integers(0, len(SYLLABLES), n)
    b = rng.integers(0, len(SYLLABLES), n)
    return [f"{prefix} {SYLLABLES[i]} {SYLLABLES[j]} {k + 1}"
            for k, (i, j) in enumerate(zip(a, b, strict=True))]


def weighted_points(rng: np.random.Generator, n: int, seed: int, *, polygon=None,
                    alpha: float = 500.0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` lon/lat points, denser where the land is low (people live in valleys)."""
    box = polygon.bounds if polygon is not None else (WEST, SOUTH, EAST, NORTH)
    xs, ys = [], []
    have = 0
    while have < n:
        m = max(4 * (n - have), 64)
        x = rng.uniform(box[0], box[2], m)
        y = rng.uniform(box[1], box[3], m)
        keep = rng.uniform(size=m) < np.exp(-elevation(x, y, seed) / alpha)
        if polygon is not None:
            keep &= shapely.contains_xy(polygon, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        have += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def generate(out: Path, *, seed: int, scale: float) -> None:
    """Write the country's layers, rasters and configurations to ``out``."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    n_communes = max(PROVINCES, round(COMMUNES * scale))
    n_villages = max(n_communes, round(VILLAGES * scale))
    n_sites = max(8, round(SITES * scale))
    n_nodes = max(8, round(FIBRE_NODES * scale))
    box = shapely.box(WEST, SOUTH, EAST, NORTH)

    # provinces: Voronoi cells of a jittered 6 x 6 lattice with two corners left out
    gx, gy = np.meshgrid(np.linspace(WEST, EAST, 13)[1::2], np.linspace(SOUTH, NORTH, 13)[1::2])
    px = gx.ravel() + rng.uniform(-0.25, 0.25, 36)
    py = gy.ravel() + rng.uniform(-0.25, 0.25, 36)
    keep = np.ones(36, bool)
    keep[[0, 35]] = False  # two corners go to their neighbours: 34 provinces
    pvor = shapely.voronoi_polygons(shapely.multipoints(np.c_[px[keep], py[keep]]),
                                    extend_to=box)
    pcells = [shapely.intersection(g, box) for g in shapely.get_parts(pvor)]
    pcells = sorted(pcells, key=lambda g: (-round(g.centroid.y, 1), g.centroid.x))
    provinces = gpd.GeoDataFrame({"province": names(rng, "Tỉnh", len(pcells))},
                                 geometry=pcells, crs="EPSG:4326")

    # communes: Voronoi per province of seeds where people live, share by area
    area = shapely.area(provinces.geometry.to_numpy())  # degrees², only as weights
    per = np.maximum(1, np.round(n_communes * area / area.sum())).astype(int)
    geoms, prov_of = [], []
    for i, poly in enumerate(provinces.geometry):
        cx, cy = weighted_points(rng, int(per[i]), seed, polygon=poly, alpha=900.0)
        if len(cx) == 1:
            parts = [poly]
        else:
            vor = shapely.voronoi_polygons(shapely.multipoints(np.c_[cx, cy]), extend_to=poly)
            parts = [p for p in shapely.intersection(shapely.get_parts(vor), poly)
                     if not p.is_empty and p.area > 0]
        geoms += parts
        prov_of += [i] * len(parts)
    communes = gpd.GeoDataFrame(geometry=geoms, crs="EPSG:4326")
    communes["commune_code"] = [f"{k + 1:05d}" for k in range(len(communes))]
    communes["commune_name"] = names(rng, "Xã", len(communes))
    communes["province"] = provinces["province"].to_numpy()[prov_of]
    c = communes.geometry.representative_point()
    mean_elev = elevation(c.x.to_numpy(), c.y.to_numpy(), seed)
    communes["region"] = np.where(mean_elev > 700, "III", np.where(mean_elev > 250, "II", "I"))
    # no district: the 2025 reform left provinces and communes
    communes = communes[["commune_code", "commune_name", "region", "province", "geometry"]]

    # villages: points where people live, each in the commune that contains it
    vx, vy = weighted_points(rng, n_villages, seed, alpha=600.0)
    tree = shapely.STRtree(communes.geometry.to_numpy())
    pts = shapely.points(vx, vy)
    hit_v, hit_c = tree.query(pts, predicate="within")
    owner = np.full(len(pts), -1)
    owner[hit_v] = hit_c
    ok = owner >= 0  # a point exactly on a border is dropped
    vx, vy, owner = vx[ok], vy[ok], owner[ok]
    # every commune gets at least one village: its representative point
    empty = np.setdiff1d(np.arange(len(communes)), owner)
    vx = np.r_[vx, c.x.to_numpy()[empty]]
    vy = np.r_[vy, c.y.to_numpy()[empty]]
    owner = np.r_[owner, empty]
    n_v = len(vx)
    elev_v = elevation(vx, vy, seed)
    pop = np.maximum(20, rng.lognormal(np.log(700), 0.6, n_v)).round().astype(int)
    villages = gpd.GeoDataFrame({
        "village_id": [f"V{k + 1:06d}" for k in range(n_v)],
        "village_name": names(rng, "Thôn", n_v),
        "commune_code": communes["commune_code"].to_numpy()[owner],
        "population": pop,
        "households": np.maximum(1, pop // 4),
        "difficult": (elev_v > 900) & (rng.uniform(size=n_v) < 0.6),
    }, geometry=shapely.points(vx, vy), crs="EPSG:4326")

    # sites: where people live, fewer in the mountains; 12% of locations shared
    weight = pop * np.exp(-elev_v / 350.0)
    pick = rng.choice(n_v, size=n_sites, p=weight / weight.sum())
    jitter_km = rng.uniform(0.3, 1.5, n_sites)
    ang = rng.uniform(0, 2 * np.pi, n_sites)
    sx = vx[pick] + jitter_km * np.cos(ang) / 107.0
    sy = vy[pick] + jitter_km * np.sin(ang) / 111.0
    ops = np.array(list(OPERATORS))
    share = np.array(list(OPERATORS.values()))
    site_op = rng.choice(len(ops), size=n_sites, p=share)
    shared = rng.uniform(size=n_sites) < 0.12
    second = (site_op + rng.integers(1, len(ops), n_sites)) % len(ops)
    loc_x = np.r_[sx, sx[shared] + rng.uniform(-5e-5, 5e-5, shared.sum())]
    loc_y = np.r_[sy, sy[shared] + rng.uniform(-5e-5, 5e-5, shared.sum())]
    loc_op = np.r_[site_op, second[shared]]
    n_loc = len(loc_x)
    density = weight[np.r_[pick, pick[shared]]]
    five_g = density >= np.quantile(density, 0.94)
    height = rng.choice([25, 30, 36, 42], n_loc)
    base_az = rng.uniform(0, 120, n_loc)
    rows = []
    for tech, sel, eirp, freq in (("4G", np.ones(n_loc, bool), 59.5, 1800),
                                  ("5G", five_g, 64.0, 3500)):
        k = np.flatnonzero(sel)
        for s in range(3):
            rows.append(pd.DataFrame({
                "loc": k, "technology": tech,
                "azimuth_deg": ((base_az[k] + 120 * s) % 360).round(0),
                "beamwidth_deg": 65, "height_m": height[k], "eirp_dbm": eirp,
                "frequency_mhz": np.where(ops[loc_op[k]] == "Viettel", freq,
                                          freq + (300 if tech == "4G" else 0))}))
    cells = pd.concat(rows, ignore_index=True).sort_values(["loc", "technology"], kind="stable")
    loc = cells.pop("loc").to_numpy()
    prefix = np.array([o[:2].upper() for o in ops])[loc_op[loc]]
    cells.insert(0, "site_id", [f"{p}-{i + 1:06d}" for p, i in zip(prefix, loc, strict=True)])
    cells.insert(1, "operator", ops[loc_op[loc]])
    cells["lon"] = loc_x[loc].round(6)
    cells["lat"] = loc_y[loc].round(6)

    # fibre nodes near villages of the lower land
    fw = pop * np.exp(-elev_v / 500.0)
    fpick = rng.choice(n_v, size=n_nodes, p=fw / fw.sum())
    f_op = ops[rng.choice(len(ops), size=n_nodes, p=share)]
    fibre = gpd.GeoDataFrame({
        "operator": f_op, "kind": "node",
        "fibre_id": [f"FO-{k + 1:06d}" for k in range(n_nodes)]},
        geometry=shapely.points(vx[fpick] + rng.normal(0, 0.004, n_nodes),
                                vy[fpick] + rng.normal(0, 0.004, n_nodes)), crs="EPSG:4326")

    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    communes.to_file(tmp / "communes.gpkg", layer="communes", engine="pyogrio")
    villages.to_file(tmp / "villages.gpkg", layer="villages", engine="pyogrio")
    fibre.to_file(tmp / "fibre.gpkg", layer="fibre", engine="pyogrio")
    cells.to_csv(tmp / "bts.csv", index=False)

    # DEM and population grid (WGS84, like SRTM and WorldPop)
    w, h = round((EAST - WEST) / DEM_STEP), round((NORTH - SOUTH) / DEM_STEP)
    lon = WEST + (np.arange(w) + 0.5) * DEM_STEP
    dem = np.vstack([elevation(lon, np.full(w, NORTH - (r + 0.5) * DEM_STEP), seed)
                     for r in range(h)])
    profile = {"driver": "GTiff", "width": w, "height": h, "count": 1, "crs": "EPSG:4326",
               "dtype": "float32", "compress": "deflate", "tiled": True, "nodata": -9999.0}
    with rasterio.open(tmp / "dem.tif", "w", transform=from_origin(WEST, NORTH, DEM_STEP,
                                                                   DEM_STEP), **profile) as dst:
        dst.write(dem, 1)
    w, h = round((EAST - WEST) / POP_STEP), round((NORTH - SOUTH) / POP_STEP)
    grid = np.zeros((h, w), "float32")
    col = np.clip(((vx - WEST) / POP_STEP).astype(int), 0, w - 1)
    row = np.clip(((NORTH - vy) / POP_STEP).astype(int), 0, h - 1)
    np.add.at(grid, (row, col), pop)
    with rasterio.open(tmp / "population.tif", "w", **{
            **profile, "width": w, "height": h,
            "transform": from_origin(WEST, NORTH, POP_STEP, POP_STEP)}) as dst:
        dst.write(grid, 1)

    for model in ("radius", "pathloss", "terrain"):
        (tmp / f"{model}.toml").write_text(config_text(model), encoding="utf-8")
    facts = {"seed": seed, "scale": scale, "provinces": len(provinces),
             "communes": len(communes), "villages": n_v, "people": int(pop.sum()),
             "site_locations": n_loc, "cells": len(cells), "fibre_nodes": n_nodes,
             "seconds": round(time.perf_counter() - t0, 1)}
    (tmp / "facts.json").write_text(json.dumps(facts, indent=1), encoding="utf-8")
    tmp.rename(out)


def config_text(model: str) -> str:
    """Return a run configuration for the generated country with ``model``."""
    extra = {"radius": "", "pathloss": "", "terrain": 'dem = "dem.tif"\n'}[model]
    return f"""# Synthetic country for benchmarks/bench_national.py (model {model}).
[run]
name = "national-{model}"
title = "Synthetic country ({model})"
year = 2025

[inputs]
communes = "communes.gpkg"
villages = "villages.gpkg"
sites = {{ path = "bts.csv", x = "lon", y = "lat", crs = "EPSG:4326" }}
fibre = "fibre.gpkg"
population = "population.tif"
{extra}
[coverage]
model = "{model}"
technologies = ["4G", "5G"]
min_rsrp_dbm = -110

[coverage.radius_m]
"4G" = 5000
"5G" = 1000

[output]
dir = "runs"
"""


def national_dir(seed: int = 2025, scale: float = 1.0) -> Path:
    """Folder of the generated country for ``seed`` and ``scale``."""
    return ROOT / f"national-{seed}-{scale:g}"


def main(argv: list[str] | None = None) -> int:
    """Command line: generate the country unless it is there already."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply every count (communes, villages, sites, nodes); 1 = Vietnam")
    ap.add_argument("--out", type=Path, help="folder (default benchmarks/cache/national-...)")
    args = ap.parse_args(argv)
    out = args.out or national_dir(args.seed, args.scale)
    if (out / "facts.json").is_file():
        print(f"{out} is there already")
    else:
        generate(out, seed=args.seed, scale=args.scale)
    print((out / "facts.json").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
