"""The interactive map: one self-contained HTML file a planner can open anywhere.

:func:`build_map` turns a run's :class:`~covgap.result.Result` into a
:class:`folium.Map` (shown inline in a notebook) and :func:`write_map` writes it as one
HTML file that works without internet: Leaflet, its marker-cluster plugin and covgap's
own script and styles are inlined from ``covgap/export/assets/`` (see the README there
for versions and licences) instead of folium's CDN links.

Layers, bottom to top:

* base: a plain background (the default, so the map never waits for tiles) or
  OpenStreetMap tiles, which only load with internet;
* communes coloured by the share of their villages with mobile broadband, red (worst)
  to green (ColorBrewer RdYlGn), with names from zoom 10 on; a click anywhere in a
  commune opens its figures;
* coverage of every operator and counted technology, and of all operators together:
  the best-server signal in classes of RSRP, as images (raster models), or the coverage
  polygons (radius model);
* fibre routes and nodes, by operator;
* villages as circles coloured by ``signal_status`` (covered / partly covered / 2G/3G
  only / no signal, lõm sóng), ringed
  when eligible for the universal-service programme, with a popup of their figures;
* BTS sites, one layer per operator, clustered when there are many (grey squares with
  a count, unlike the round numbered candidates);
* candidate sites, numbered by rank, when the run has them.

Points are drawn on a canvas and their data are shipped as compact columns, so a
province of 5,000 villages and 5,000 sites stays a few MB and opens in about a second
(``benchmarks/bench_map.py``).

Every string from the data is HTML-escaped here, in Python, before it reaches the page;
curly braces are escaped too, because folium passes rendered pieces through Jinja again.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import logging
import re
import struct
import time
import warnings
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from rasterio.enums import Resampling
from rasterio.transform import array_bounds
from rasterio.warp import calculate_default_transform, reproject

from covgap.analysis.indicators import INDICATORS
from covgap.analysis.provinces import NO_PROVINCE, commune_provinces, split_by_province
from covgap.analysis.rules import rule_text
from covgap.config import TECHNOLOGIES, Config
from covgap.errors import CovgapWarning

# the frame's helpers keep their module-private names here, as map.py has always called them
from covgap.export.leaflet import COORD_DECIMALS, finish_map, offline_map
from covgap.export.leaflet import Piece as _Piece
from covgap.export.leaflet import bools as _bools
from covgap.export.leaflet import esc as _esc
from covgap.export.leaflet import fmt as _fmt
from covgap.export.leaflet import missing as _missing
from covgap.export.leaflet import numbers as _numbers
from covgap.export.leaflet import pct as _pct
from covgap.export.leaflet import rounded_geojson as _rounded_geojson
from covgap.export.leaflet import simplify as _simplify
from covgap.export.leaflet import texts as _texts
from covgap.export.leaflet import write_html as _write
from covgap.export.names import file_part

if TYPE_CHECKING:
    from covgap.analysis import Analysis
    from covgap.coverage import Coverage
    from covgap.coverage.grid import Grid
    from covgap.io.rasters import RasterLayer
    from covgap.result import Result

__all__ = ["build_map", "file_part", "write_map", "write_maps"]

log = logging.getLogger(__name__)

#: Classes of a commune's villages-covered share, percent (lower edges).  The
#: indicator is QĐ 885/QĐ-BTTTT's "villages covered by mobile broadband"; 100% is both
#: provinces' 2025 target, so it is a class of its own.
COMMUNE_CLASS_EDGES_PCT: tuple[float, ...] = (50.0, 80.0, 95.0, 100.0)
#: Fill colours of the commune classes, worst first: ColorBrewer RdYlGn (5 classes),
#: worst red, 100% green, as planners read a traffic light; and of communes without
#: villages.
COMMUNE_COLORS: tuple[str, ...] = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")
COMMUNE_NO_DATA_COLOR = "#d9d9d9"

#: Upper RSRP classes of the coverage images, dBm: the usual LTE bands of drive-test
#: practice (>= -80 excellent, -90 good, -100 fair); the lowest class starts at the run's
#: ``[coverage] min_rsrp_dbm`` and anything weaker is not drawn.
SIGNAL_CLASS_EDGES_DBM: tuple[float, ...] = (-100.0, -90.0, -80.0)
#: ColorBrewer YlGn: weak signal light, strong dark.
SIGNAL_COLORS: tuple[str, ...] = ("#ffffb2", "#c2e699", "#78c679", "#238443")
SIGNAL_WORDS: tuple[str, ...] = ("yếu / weak", "khá / fair", "tốt / good", "rất tốt / excellent")
BINARY_COLOR = "#78c679"
COVERAGE_OPACITY = 0.6

#: Village colours by ``signal_status``: covered, partly covered, 2G/3G only, no signal
#: at all (lõm sóng as provincial reports say it); the USP ring.
STATUS_COLORS: tuple[str, ...] = ("#1a9641", "#fdae61", "#f46d43", "#a50026")
STATUS_NAMES: tuple[str, ...] = ("covered", "partial", "no_broadband", "no_signal")
#: The legend's and popups' wording of the states, provincial reports' first.
STATUS_WORDS: tuple[str, ...] = (
    "Thôn được phủ sóng / Covered", "Thôn được phủ sóng một phần / Partly covered",
    "Thôn chỉ có sóng 2G/3G, chưa có 4G/5G / 2G/3G only",
    "Thôn chưa có sóng di động (lõm sóng) / No mobile signal")
USP_COLOR = "#6a3d9a"

#: Operator colours, in covgap.config.OPERATORS order, then for any other operator.
#: Red, green and orange are left to village status.
OPERATOR_COLORS: dict[str, str] = {
    "Viettel": "#00838f", "VNPT": "#1f4fbf", "MobiFone": "#8c510a", "Vietnamobile": "#c51b7d",
    "Gmobile": "#5e3c99", "FPT": "#b35806", "CMC": "#4d4d4d", "SCTV": "#01665e"}
EXTRA_COLORS: tuple[str, ...] = ("#7570b3", "#e7298a", "#666666", "#a6761d", "#1b9e77")

#: Sites are clustered when the province has more site locations than this.
CLUSTER_SITES_ABOVE = 300
#: A province's map also draws the sites, fibre and coverage this far beyond its
#: communes, metres: border villages are served from across the border (5 km is the
#: radius model's 4G service radius, ``[coverage] radius_m``).
PROVINCE_MARGIN_M = 5000.0
#: Folder of the province maps in a run directory.
PROVINCE_DIR = "maps"
#: File names Windows reserves whatever their extension (``con.html`` cannot be opened).
_RESERVED_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                             *(f"lpt{i}" for i in range(10))})
_MAX_SLUG = 60


# --------------------------------------------------------------------------- public API

def build_map(result: Result, *, tiles: bool = True, coverage_overlays: bool = True,
              max_overlay_px: int = 2048, simplify_m: float = 50.0) -> folium.Map:
    """Build the interactive map of a run.

    Parameters
    ----------
    result : Result
        A run (:func:`covgap.run`) with its village analysis; coverage overlays are
        drawn when it has coverage, candidate sites when it has ``candidates``.
    tiles : bool
        Offer OpenStreetMap tiles as a second base layer (they load only with internet;
        the default base layer is a plain background).
    coverage_overlays : bool
        Draw the coverage of every operator and counted technology, and of all operators.
    max_overlay_px : int
        Largest width or height of a coverage image, pixels; larger grids are resampled
        (most common class) so the file stays small.
    simplify_m : float
        Simplification of commune boundaries, fibre routes and coverage polygons, metres
        in the run's metric CRS: no line moves by more than about half of it (commune
        boundaries are simplified together, Visvalingam-Whyatt over the whole coverage,
        so neighbours keep a shared edge; lines and coverage by Douglas-Peucker at half
        the tolerance).  0 keeps every vertex.

    Returns
    -------
    folium.Map
        Shown inline in a notebook; :func:`write_map` saves it as one HTML file.

    Raises
    ------
    ValueError
        When the result has no village analysis.

    Examples
    --------
    >>> result = covgap.run("data/sample.toml")  # doctest: +SKIP
    >>> build_map(result)  # doctest: +SKIP
    <folium.folium.Map object at ...>
    """
    return _build(_Layers.of(result), tiles=tiles, coverage_overlays=coverage_overlays,
                  max_overlay_px=max_overlay_px, simplify_m=simplify_m)


def _build(layers: _Layers, *, tiles: bool = True, coverage_overlays: bool = True,
           max_overlay_px: int = 2048, simplify_m: float = 50.0,
           links: Sequence[_Link] | None = None,
           back: tuple[str, str] | None = None) -> folium.Map:
    """Build a map (:func:`build_map`); with ``links`` the national overview.

    The overview draws the communes, only the villages with a gap (partly covered or
    lõm sóng) and the candidate sites, no sites, fibre or coverage, and lists ``links``
    to the province maps in the legend.  ``back`` is (href, name) of the overview, linked from
    the title of a province map.
    """
    cfg = layers.config
    metric = layers.metric_crs
    villages = layers.villages
    communes = layers.communes
    sites = layers.sites
    fibre = layers.fibre
    coverage = layers.coverage
    candidates = layers.candidates
    techs = [t for t in TECHNOLOGIES if t in cfg.coverage.technologies]

    operators = sorted(set(sites["operator"].dropna().astype(str)))
    if fibre is not None and "operator" in fibre:
        operators = sorted(set(operators) | set(fibre["operator"].dropna().astype(str)))
    colors = _operator_colors(operators)

    bounds = tuple(float(v) for v in communes.total_bounds)
    m = offline_map(bounds, title=f"{cfg.display_name} {cfg.run.year} — lõm sóng và cáp "
                    "quang / mobile and fibre gaps (covgap)", tiles=tiles)

    _add_base_layers(m, layers, simplify_m=simplify_m)
    commune_data, commune_counts = _commune_payload(communes, metric, simplify_m)
    _Piece("communes", data=commune_data, options={
        "colors": [*COMMUNE_COLORS, COMMUNE_NO_DATA_COLOR], "fill_opacity": 0.6,
        "line_color": "#4d4d4d"},
        name="Xã theo % thôn được phủ sóng / Communes by villages covered").add_to(m)

    overview = links is not None
    shown = villages
    village_layer = "Thôn / Villages"
    if overview:
        shown = villages[_column(villages, "status").fillna("lom_song").ne("covered")
                         .to_numpy()]
        village_layer = "Thôn lõm sóng, phủ một phần / Villages with gaps"
    village_data, basis_words = _village_payload(shown, communes, cfg)
    _Piece("villages", data=village_data, options={
        "colors": list(STATUS_COLORS), "usp_color": USP_COLOR, "line_color": "#333333",
        "radius": [3.5, 4.5, 5.5, 5.5], "basis": basis_words,
        "words": list(STATUS_WORDS)}, name=village_layer).add_to(m)

    n_candidates = 0
    if overview:  # the province maps have them; the ranked plan is national and small
        sites, fibre, coverage_overlays = sites.iloc[:0], None, False
    if candidates is not None and len(candidates):
        cand_data = _candidate_payload(candidates)
        n_candidates = len(cand_data["rank"])
        _Piece("candidates", data=cand_data,
               name="Điểm đề xuất theo thứ hạng / Candidate sites, ranked").add_to(m)

    if layers.places is not None and len(layers.places):
        _Piece("places", data=_place_payload(layers.places), options={
            "colors": list(PLACE_COLORS)},
            name="Địa điểm: xanh có 5G, cam chỉ 4G, đỏ không có / Places: green 5G, amber "
                 "4G only, red neither").add_to(m)
    if not overview and layers.measurements is not None and len(layers.measurements):
        _Piece("measurements", data=_measurement_payload(layers.measurements),
               options=_measurement_options(cfg.coverage.min_rsrp_dbm),
               name="Đo kiểm (RSRP) / Measured tests (RSRP)").add_to(m)

    site_tables = _site_payloads(sites, layers.locations)
    cluster = sum(len(t["id"]) for t in site_tables.values()) > CLUSTER_SITES_ABOVE
    for op, table in site_tables.items():
        _Piece("sites", data=table, options={
            "operator": _esc(op), "color": colors[op], "cluster": cluster},
            name=f"Trạm BTS {_esc(op)} / {_esc(op)} sites").add_to(m)

    fibre_kinds: list[str] = []
    if fibre is not None and len(fibre):
        for kind, data in _fibre_payloads(fibre, metric, simplify_m, operators).items():
            fibre_kinds.append(kind)
            label = ("Tuyến cáp quang / Fibre routes" if kind == "route"
                     else "Điểm cáp quang / Fibre nodes")
            _Piece("fibre", data=data, name=label, options={
                "colors": [colors[op] for op in operators],
                "operators": [_esc(op) for op in operators]}).add_to(m)

    coverage_kind = None
    if coverage_overlays and coverage is not None:
        coverage_kind = _add_coverage(m, coverage, techs, max_px=max_overlay_px,
                                      simplify_m=simplify_m)

    title_html = _title_html(layers, villages, techs)
    if overview:
        title_html += ('<div class="cg-rule">Bản đồ tổng quan: mở bản đồ đầy đủ của từng tỉnh '
                       'trong chú giải <span class="cg-muted">/ Overview: each province\'s '
                       "full map is linked in the legend</span></div>")
    if back is not None:
        href, name = back
        title_html += (f'<div class="cg-rule"><a href="{html.escape(href, quote=True)}">'
                       f"← Bản đồ tổng quan / Overview: {_esc(name)}</a></div>")
    _Piece("title", data={"html": title_html}, control=False).add_to(m)
    _Piece("scale", control=False).add_to(m)  # bottom left, under the legend
    legend_html = _legend_html(
        commune_counts=commune_counts, villages=villages, site_tables=site_tables,
        colors=colors, fibre_ops=_present_fibre_ops(fibre, operators), fibre_kinds=fibre_kinds,
        coverage_kind=coverage_kind, min_dbm=coverage.min_rsrp_dbm if coverage else None,
        n_candidates=n_candidates, links=links)
    _Piece("legend", data={"html": legend_html}, control=False).add_to(m)
    _Piece("search", control=False, options={
        "placeholder": "Tìm thôn, xã / Find a village or commune", "limit": 12}).add_to(m)
    return finish_map(m, bounds)


def write_map(result: Result, path: str | Path, **options: Any) -> Path:
    """Write the map of a run as one self-contained HTML file.

    The file needs no internet: every script and style is inlined, and the default
    base layer is a plain background, so the communes show without tiles.

    Parameters
    ----------
    result : Result
        A run (:func:`covgap.run`).
    path : str or Path
        The HTML file to write (``map.html`` in a run directory).
    **options
        Passed to :func:`build_map` (``tiles``, ``coverage_overlays``,
        ``max_overlay_px``, ``simplify_m``).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> write_map(covgap.run("data/sample.toml"), "map.html")  # doctest: +SKIP
    PosixPath('map.html')
    """
    return _write(build_map(result, **options), Path(path))


def write_maps(result: Result, folder: str | Path, *, max_villages: int = 20000,
               **options: Any) -> list[Path]:
    """Write ``map.html`` into a run directory, split by province when the run is large.

    Up to ``max_villages`` villages (or with ``max_villages=0``) this is
    :func:`write_map`.  Above it, when the communes have a ``province`` column,
    ``map.html`` becomes a national overview -- the communes by villages covered, the
    villages with a gap (partly covered or lõm sóng), the ranked candidate sites and a
    link to every province's map -- and ``maps/<province>.html`` holds each province's
    full map: its communes, villages and candidate sites, the sites and fibre within
    :data:`PROVINCE_MARGIN_M` of them, the coverage clipped to the same box, and its own
    indicators.  Without a ``province`` column the single map is written and a
    :class:`~covgap.errors.CovgapWarning` says it is large.

    Parameters
    ----------
    result : Result
        A run (:func:`covgap.run`).
    folder : str or Path
        The run directory; ``maps/`` is created in it when the map is split.
    max_villages : int
        ``[output] map_max_villages``: split above this many villages; 0 never splits.
    **options
        Passed to :func:`build_map` (``tiles``, ``coverage_overlays``,
        ``max_overlay_px``, ``simplify_m``).

    Returns
    -------
    list of Path
        ``map.html`` first, then the province maps in the order of their names.

    Raises
    ------
    ValueError
        When the result has no village analysis.

    Examples
    --------
    >>> write_maps(covgap.run("national.toml"), "out/vn/2025")  # doctest: +SKIP
    [PosixPath('out/vn/2025/map.html'), PosixPath('out/vn/2025/maps/an-giang.html'), ...]
    """
    folder = Path(folder)
    analysis = _analysis(result)
    n = len(analysis.villages)
    if not max_villages or n <= max_villages:
        return [write_map(result, folder / "map.html", **options)]
    province = commune_provinces(analysis.communes, result.inputs.communes)
    if province is None:
        warnings.warn(
            f"map.html shows {n:,} villages, more than [output] map_max_villages = "
            f"{max_villages:,}: it is large and slow to open. Give the communes a "
            "'province' column to write a national overview and one map per province "
            f"(maps/<province>.html), or raise map_max_villages", CovgapWarning,
            stacklevel=2)
        return [write_map(result, folder / "map.html", **options)]
    t0 = time.perf_counter()
    views, links = _province_views(result, province)
    national = result.config.display_name
    overview = dataclasses.replace(
        _Layers.of(result), locations=None,
        communes=_with_province(analysis.communes, province))
    paths = [_write(_build(overview, links=links, **options), folder / "map.html")]
    (folder / PROVINCE_DIR).mkdir(parents=True, exist_ok=True)
    for view, link in zip(views, links, strict=True):
        m = _build(view, back=("../map.html", national), **options)
        paths.append(_write(m, folder / link.href))
    log.info("map split into an overview and %d province maps in %.1f s", len(links),
             time.perf_counter() - t0)
    return paths


class _Link(NamedTuple):
    """A province map, as the overview lists it."""

    name: str
    href: str  # relative to the run directory
    villages: int
    lom_song: int


@dataclasses.dataclass(frozen=True)
class _Layers:
    """What one map draws: a whole run, one province of it, or the national overview."""

    config: Config
    metric_crs: CRS
    villages: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    locations: gpd.GeoDataFrame | None
    sites: gpd.GeoDataFrame
    fibre: gpd.GeoDataFrame | None
    coverage: Coverage | None
    candidates: pd.DataFrame | None
    indicators: pd.DataFrame | None
    places: pd.DataFrame | None = None
    dem: RasterLayer | None = None  # the base map's relief
    roads: gpd.GeoDataFrame | None = None  # the base map's roads
    basemap: gpd.GeoDataFrame | None = None  # rivers, lakes, place names
    measurements: gpd.GeoDataFrame | None = None

    @classmethod
    def of(cls, result: Result) -> _Layers:
        """Return the layers of a whole run (with its village analysis)."""
        analysis = _analysis(result)
        return cls(config=result.config, metric_crs=result.inputs.metric_crs,
                   villages=analysis.villages, communes=analysis.communes,
                   locations=analysis.locations, sites=result.inputs.sites,
                   fibre=result.inputs.fibre, coverage=result.coverage,
                   candidates=result.candidates, indicators=result.indicators,
                   places=analysis.places,
                   dem=result.inputs.dem, roads=result.inputs.roads,
                   basemap=result.inputs.basemap,
                   measurements=result.inputs.measurements)


def _analysis(result: Result) -> Analysis:
    if result.analysis is None:
        raise ValueError("build_map needs a run with its village analysis (covgap.run "
                         "computes it); this result has only the inputs")
    return result.analysis


def _with_province(communes: gpd.GeoDataFrame, province: pd.Series) -> gpd.GeoDataFrame:
    """Communes whose popup and search line names the province after the district."""
    district = _column(communes, "district")
    has = district.notna() & district.astype(str).ne("")
    text = province.where(~has, district.astype(str) + " · " + province)
    return communes.assign(district=text.to_numpy())


def _province_slugs(names: Sequence[str]) -> list[str]:
    """Distinct lower-case file names (without ``.html``) for the province names."""
    out: list[str] = []
    for name in names:
        base = file_part(name, default="province").lower()[:_MAX_SLUG].strip("-")
        if base in _RESERVED_NAMES:
            base = f"{base}-1"
        slug, k = base, 1
        while slug in out:
            k += 1
            slug = f"{base}-{k}"
        out.append(slug)
    return out


def _province_views(result: Result, province: pd.Series) -> tuple[list[_Layers], list[_Link]]:
    """One map's layers per province, in the order of their names, and their links.

    What each province holds is computed by :func:`covgap.analysis.provinces.split_by_province`;
    here it only gets its title and its file name.
    """
    cfg = result.config
    names = sorted(set(province), key=lambda v: (v == NO_PROVINCE, _sort_key(v)))
    slugs = _province_slugs(names)
    split = split_by_province(
        province, names, inputs=result.inputs, analysis=_analysis(result),
        coverage=result.coverage, candidates=result.candidates, margin_m=PROVINCE_MARGIN_M,
        targets={k: getattr(cfg.targets, k, None) for k in INDICATORS}, codes=slugs)
    views, links = [], []
    for part, slug in zip(split, slugs, strict=True):
        views.append(_Layers(
            config=dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, title=part.name)),
            metric_crs=result.inputs.metric_crs, villages=part.villages,
            communes=part.communes, locations=part.locations, sites=part.sites,
            fibre=part.fibre, coverage=part.coverage, candidates=part.candidates,
            indicators=part.indicators))
        status = _column(part.villages, "status").fillna("lom_song")
        links.append(_Link(name=part.name, href=f"{PROVINCE_DIR}/{slug}.html",
                           villages=len(part.villages),
                           lom_song=int(status.eq("lom_song").sum())))
    return views, links


def _sort_key(name: str) -> tuple[str, str]:
    """Alphabetical order as Vietnamese readers expect it, ignoring "Tỉnh"/"Thành phố"."""
    bare = file_part(name, default="").casefold()
    short = re.sub(r"^(tinh|thanh-pho|tp)-", "", bare)
    return (short, name)


# --------------------------------------------------------------------------- columns

def _column(frame: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    if name in frame:
        return frame[name]
    return pd.Series(default, index=frame.index, dtype=object)


# --------------------------------------------------------------------------- payloads

def _operator_colors(operators: Sequence[str]) -> dict[str, str]:
    out, extra = {}, iter(EXTRA_COLORS * (1 + len(operators) // len(EXTRA_COLORS)))
    for op in operators:
        out[op] = OPERATOR_COLORS.get(op) or next(extra)
    return out


def _commune_class(pct: np.ndarray) -> np.ndarray:
    """Index into COMMUNE_COLORS (and no-data last) of villages-covered percentages."""
    pct = np.asarray(pct, dtype=float)
    cls = np.digitize(np.nan_to_num(pct, nan=0.0), COMMUNE_CLASS_EDGES_PCT)
    return np.where(np.isnan(pct), len(COMMUNE_COLORS), cls)


def _commune_payload(communes: gpd.GeoDataFrame, metric: CRS,
                     simplify_m: float) -> tuple[dict, list[int]]:
    pct = pd.to_numeric(_column(communes, "villages_mbb_pct"), errors="coerce").to_numpy(float)
    n_villages = pd.to_numeric(_column(communes, "villages"), errors="coerce").to_numpy(float)
    pct = np.where(n_villages > 0, pct, np.nan)
    classes = _commune_class(pct)
    geoms = _rounded_geojson(_simplify(communes.geometry, metric, simplify_m, coverage=True))
    at = communes.geometry.representative_point()
    props = pd.DataFrame({
        "n": _texts(communes["commune_name"]), "code": _texts(communes["commune_code"]),
        "dist": _texts(_column(communes, "district")), "rg": _texts(_column(communes, "region")),
        "k": classes.astype(int).tolist(),
        "v": _numbers(_column(communes, "villages")),
        "vm": _numbers(_column(communes, "villages_mbb")),
        "vm_pct": _numbers(pct, 1),
        "ftth_pct": _numbers(_column(communes, "villages_ftth_pct"), 1),
        "pop": _numbers(_column(communes, "population")),
        "pop_pct": _numbers(_column(communes, "population_mbb_pct"), 1),
        "usp": _numbers(_column(communes, "usp_villages")),
        "sites": _numbers(_column(communes, "site_locations")),
        "shared": _numbers(_column(communes, "shared_locations")),
        "at": [[round(p.y, COORD_DECIMALS), round(p.x, COORD_DECIMALS)] for p in at],
    }).astype(object).where(lambda f: f.notna(), None)
    features = [{"type": "Feature", "geometry": g, "properties": p}
                for g, p in zip(geoms, props.to_dict("records"), strict=True) if g is not None]
    counts = np.bincount(classes.astype(int), minlength=len(COMMUNE_COLORS) + 1).tolist()
    return {"type": "FeatureCollection", "features": features}, counts


_BASIS_WORDS = {"population": "theo dân số / of the people", "area": "theo diện tích / of the area",
                "point": "tại điểm thôn / at the village point"}


def _village_payload(villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame,
                     cfg: Config) -> tuple[dict, list[str]]:
    codes = communes["commune_code"].astype(str).tolist()
    index = {c: i for i, c in enumerate(codes)}
    commune_idx = [index.get(str(c)) if not _missing(c) else None
                   for c in villages["commune_code"]]
    status = _column(villages, "signal_status").fillna(
        _column(villages, "status", "lom_song").replace({"lom_song": "no_signal"})).map(
        {s: i for i, s in enumerate(STATUS_NAMES)}).fillna(len(STATUS_NAMES) - 1).astype(int)
    basis_names = list(_BASIS_WORDS)
    basis = [basis_names.index(b) if b in _BASIS_WORDS else None
             for b in _column(villages, "share_basis")]
    lon = _column(villages, "lon")
    lat = _column(villages, "lat")
    if lon.isna().all():  # a table without lon/lat columns: the point of the geometry
        pts = villages.geometry.representative_point()
        lon, lat = pts.x, pts.y
    data = {
        "lat": _numbers(lat, COORD_DECIMALS), "lon": _numbers(lon, COORD_DECIMALS),
        "st": status.tolist(),
        "usp": [1 if v else 0 for v in _bools(_column(villages, "usp_eligible", False))],
        "n": _texts(villages["village_name"]), "id": _texts(villages["village_id"]),
        "c": commune_idx, "cn": _texts(communes["commune_name"]),
        "cd": _texts(_column(communes, "district")),
        "pop": _numbers(_column(villages, "population")),
        "hh": _numbers(_column(villages, "households")),
        "sh": _numbers(_column(villages, "mbb_share"), 3), "basis": basis,
        "ops": _texts(_column(villages, "operators").map(
            lambda s: "; ".join(str(s).split(";")) if isinstance(s, str) and s else None)),
        "dbm": _numbers(_column(villages, "best_signal_dbm"), 1),
        "fd": _numbers(_column(villages, "fibre_distance_m")),
        "fo": _texts(_column(villages, "fibre_operator")),
        "ftth": _bools(_column(villages, "ftth")),
        "rg": _texts(_column(villages, "region")),
        "df": _bools(_column(villages, "difficult")),
        "bo": _texts(_column(villages, "best_operator")),
        "rs": _texts(_column(villages, "reason").map(lambda s: s or None)),
    }
    keep = [i for i, (x, y) in enumerate(zip(data["lon"], data["lat"], strict=True))
            if x is not None and y is not None]
    if len(keep) < len(data["lat"]):
        log.warning("%d villages without a position are left off the map",
                    len(data["lat"]) - len(keep))
        for key in data:
            if key not in ("cn", "cd"):
                data[key] = [data[key][i] for i in keep]
    return data, [_BASIS_WORDS[b] for b in basis_names]


def _site_payloads(sites: gpd.GeoDataFrame,
                   locations: gpd.GeoDataFrame | None) -> dict[str, dict]:
    """One table per operator: a row per site with its technologies and sharing."""
    if sites is None or not len(sites):
        return {}
    cells = pd.DataFrame({
        "site_id": sites["site_id"].astype(str), "operator": sites["operator"].astype(str),
        "technology": _column(sites, "technology").astype("string").fillna(""),
        "lon": sites.geometry.x, "lat": sites.geometry.y})
    grouped = cells.groupby(["operator", "site_id"], sort=True)
    table = grouped.agg(lon=("lon", "first"), lat=("lat", "first"),
                        cells=("technology", "size")).reset_index()
    # each site's technologies in TECHNOLOGIES order (others after, alphabetically)
    order = {t: i for i, t in enumerate(TECHNOLOGIES)}
    techs = cells.loc[cells["technology"] != "", ["operator", "site_id", "technology"]]
    techs = techs.drop_duplicates().assign(rank=lambda f: f["technology"].map(order).fillna(99))
    techs = techs.sort_values(["operator", "site_id", "rank", "technology"])
    first, joined = _join_runs(techs[["operator", "site_id"]].to_numpy(), techs["technology"],
                               ", ")
    by_site = pd.Series(joined, index=pd.MultiIndex.from_frame(
        techs[["operator", "site_id"]].iloc[first]), dtype=object)
    table["tech"] = by_site.reindex(pd.MultiIndex.from_frame(
        table[["operator", "site_id"]])).fillna("").to_numpy()
    table["shared_with"] = None
    if locations is not None and len(locations) and "site_ids" in locations:
        loc = pd.DataFrame({"location": np.arange(len(locations)),
                            "site_id": locations["site_ids"].astype(str).str.split(";")})
        loc = loc.explode("site_id")
        site_loc = dict(zip(loc["site_id"], loc["location"], strict=True))
        table["location"] = table["site_id"].map(site_loc)
        # the other operators at each site's location, sorted
        mine = table[["location", "operator"]].dropna(subset=["location"])
        pairs = mine.reset_index().merge(mine.drop_duplicates(), on="location",
                                         suffixes=("", "_other"))
        pairs = pairs[pairs["operator"] != pairs["operator_other"]].sort_values(
            ["index", "operator_other"])
        first, joined = _join_runs(pairs[["index"]].to_numpy(), pairs["operator_other"], "; ")
        table.loc[pairs["index"].to_numpy()[first], "shared_with"] = joined
    out = {}
    for op, rows in table.groupby("operator", sort=True):
        out[str(op)] = {
            "lat": _numbers(rows["lat"], COORD_DECIMALS),
            "lon": _numbers(rows["lon"], COORD_DECIMALS),
            "id": _texts(rows["site_id"]), "tech": _texts(rows["tech"].replace("", None)),
            "cells": _numbers(rows["cells"]), "sw": _texts(rows["shared_with"])}
    return out


def _join_runs(keys: np.ndarray, values: pd.Series, sep: str) -> tuple[np.ndarray, list[str]]:
    """Join the values of each run of equal keys (rows sorted by key) with ``sep``.

    Returns the first row of each run and its text, without a Python call per run (tens
    of thousands of sites): the texts are concatenated with ``np.add.reduceat``.
    """
    if not len(keys):
        return np.zeros(0, dtype=np.int64), []
    starts = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)])
    texts = np.array([f"{v}{sep}" for v in values], dtype=object)
    return starts, [t[:-len(sep)] for t in np.add.reduceat(texts, starts)]


def _fibre_payloads(fibre: gpd.GeoDataFrame, metric: CRS, simplify_m: float,
                    operators: list[str]) -> dict[str, dict]:
    geom_kind = np.where(fibre.geometry.geom_type.isin(["Point", "MultiPoint"]), "node",
                         "route")
    op_index = {op: i for i, op in enumerate(operators)}
    out = {}
    for kind in ("route", "node"):
        rows = fibre[geom_kind == kind]
        if not len(rows):
            continue
        geoms = _simplify(rows.geometry, metric, simplify_m / 2) if kind == "route" \
            else rows.geometry.to_numpy()
        ids = _column(rows, "fibre_id") if "fibre_id" in rows else _column(rows, "id")
        props = [{"o": op_index.get(str(o), 0), "id": i, "k": k}
                 for o, i, k in zip(_column(rows, "operator"), _texts(ids),
                                    _texts(_column(rows, "kind", kind)), strict=True)]
        features = [{"type": "Feature", "geometry": g, "properties": p}
                    for g, p in zip(_rounded_geojson(np.asarray(geoms)), props, strict=True)
                    if g is not None]
        out[kind] = {"type": "FeatureCollection", "features": features}
    return out


def _present_fibre_ops(fibre: gpd.GeoDataFrame | None, operators: list[str]) -> list[str]:
    """Operators with fibre routes (lines), for the legend."""
    if fibre is None or not len(fibre) or "operator" not in fibre:
        return []
    lines = fibre[~fibre.geometry.geom_type.isin(["Point", "MultiPoint"])]
    present = set(lines["operator"].dropna().astype(str))
    return [op for op in operators if op in present]


#: Places by their signal: 5G, 4G only, neither (green, amber, red).
PLACE_COLORS: tuple[str, ...] = ("#1a9641", "#fdae61", "#d7191c")


def _place_payload(places: pd.DataFrame) -> dict:
    """Return the places of ``places.csv``, escaped, with a class: 0 5G, 1 4G only, 2 none."""
    has5 = places["has_5g"].to_numpy(dtype=bool)
    has4 = places["has_4g"].to_numpy(dtype=bool)
    return {
        "lat": _numbers(places["lat"], COORD_DECIMALS),
        "lon": _numbers(places["lon"], COORD_DECIMALS),
        "name": _texts(places["name"]), "kind": _texts(places["kind"]),
        "cls": np.where(has5, 0, np.where(has4, 1, 2)).tolist(),
        "op5": _texts(places["operators_5g"]), "op4": _texts(places["operators_4g"]),
        "fibre_m": _numbers(places["fibre_distance_m"]),
    }
#: Colours of measured RSRP, weakest class first (a speed-only test is grey).
MEASUREMENT_COLORS = ("#d7191c", "#fdae61", "#a6d96a", "#1a9641")


def _measurement_options(min_dbm: float) -> dict:
    """Classes of measured RSRP: below the threshold, up to 10 and 20 dB over, above."""
    return {"edges": [min_dbm, min_dbm + 10.0, min_dbm + 20.0],
            "colors": list(MEASUREMENT_COLORS), "none": "#9e9e9e"}


def _measurement_payload(tests: gpd.GeoDataFrame) -> dict:
    """Column arrays of the measured tests for the map (EPSG:4326)."""
    pts = tests.geometry.to_crs("EPSG:4326")
    return {"lat": _numbers(pts.y, COORD_DECIMALS), "lon": _numbers(pts.x, COORD_DECIMALS),
            "op": _texts(tests["operator"]), "tech": _texts(tests["technology"]),
            "rsrp": _numbers(tests["rsrp_dbm"]), "dl": _numbers(tests["download_mbps"], 1),
            "at": _texts(_column(tests, "measured_at")), "src": _texts(_column(tests, "source"))}


def _candidate_payload(candidates: pd.DataFrame) -> dict:
    table = pd.DataFrame(candidates).copy()
    if "lon" not in table and isinstance(table, gpd.GeoDataFrame):
        pts = table.geometry.to_crs("EPSG:4326")
        table["lon"], table["lat"] = pts.x, pts.y
    if "rank" not in table:
        table["rank"] = np.arange(1, len(table) + 1)
    table = table.sort_values("rank", kind="stable")
    villages = _column(table, "villages")
    numeric = pd.to_numeric(villages, errors="coerce")
    out = {
        "rank": _numbers(table["rank"]),
        "lat": _numbers(table["lat"], COORD_DECIMALS), "lon": _numbers(table["lon"],
                                                                        COORD_DECIMALS),
        "kind": _texts(_column(table, "kind")), "host": _texts(_column(table, "host_site_id")),
        "op": _texts(_column(table, "operator")),
        "pg": _numbers(_column(table, "population_gained")),
        "vil": _numbers(numeric) if numeric.notna().all() and len(numeric) else _texts(
            villages.map(lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v)),
        "cum": _numbers(_column(table, "cumulative_population")),
    }
    if "usp_villages" in table:
        out["usp"] = _numbers(table["usp_villages"])
    if "plan" in table and table["plan"].nunique() > 1:  # say which plan a rank belongs to
        out["plan"] = _texts(table["plan"])
    return out


# --------------------------------------------------------------------------- base map

#: Largest width or height of the relief image, pixels (a province: under 1 MB inlined).
RELIEF_MAX_PX = 1200
#: Opacity of the relief, multiplied over the communes' colours.
RELIEF_OPACITY = 0.6
ROAD_COLOR = "#8c6d46"
WATER_COLOR = "#3a7bbf"


def _add_base_layers(m: folium.Map, layers: _Layers, *, simplify_m: float) -> None:
    """Add the relief of the DEM and the roads, when the run has them, under the communes."""
    if layers.dem is not None:
        try:
            url, bounds = hillshade_image(layers.dem, max_px=RELIEF_MAX_PX)
        except (OSError, ValueError) as exc:  # a base map is never worth failing a run
            log.warning("no relief on the map: %s could not be shaded (%s)",
                        layers.dem.path, exc)
        else:
            _Piece("relief", data={"url": url, "bounds": bounds},
                   options={"opacity": RELIEF_OPACITY},
                   name="Địa hình / Relief (hillshade)").add_to(m)
    roads = layers.roads
    if roads is not None and len(roads):
        lines = roads[roads.geometry.notna() & ~roads.geometry.is_empty]
        geoms = _simplify(lines.geometry, layers.metric_crs, simplify_m / 2)
        features = [{"type": "Feature", "geometry": g, "properties": {}}
                    for g in _rounded_geojson(geoms) if g is not None]
        _Piece("roads", data={"type": "FeatureCollection", "features": features},
               options={"color": ROAD_COLOR}, name="Đường giao thông / Roads").add_to(m)
    base = layers.basemap
    if base is not None and len(base):
        base = base[base.geometry.notna() & ~base.geometry.is_empty]
        points = base.geom_type.isin(["Point", "MultiPoint"]).to_numpy()
        geoms = _simplify(base.geometry[~points], layers.metric_crs, simplify_m / 2)
        features = [{"type": "Feature", "geometry": g, "properties": {}}
                    for g in _rounded_geojson(geoms) if g is not None]
        names = (base["name"] if "name" in base.columns
                 else pd.Series(None, index=base.index, dtype=object))[points]
        for g, name in zip(_rounded_geojson(base.geometry[points]), names, strict=True):
            if g is not None:
                features.append({"type": "Feature", "geometry": g, "properties": {
                    "n": _esc(name) if isinstance(name, str) and name else None}})
        _Piece("basemap", data={"type": "FeatureCollection", "features": features},
               options={"color": WATER_COLOR},
               name="Sông suối, địa danh / Rivers, place names").add_to(m)


def hillshade(elevation: np.ndarray, *, cell_x_m: float, cell_y_m: float,
              azimuth_deg: float = 315.0, altitude_deg: float = 45.0) -> np.ndarray:
    """Return the hillshade of an elevation grid, 0 (dark) to 1 (lit); NaN where no data.

    The standard formula (Horn's slope and aspect, light from the north-west at 45°).

    Parameters
    ----------
    elevation : ndarray
        Metres, rows north to south; NaN where no data.
    cell_x_m, cell_y_m : float
        Cell width and height, metres.
    azimuth_deg, altitude_deg : float
        Where the light comes from, degrees clockwise from north, and its height.

    Examples
    --------
    >>> flat = np.zeros((3, 3))
    >>> float(hillshade(flat, cell_x_m=30, cell_y_m=30)[1, 1]).__round__(4)
    0.7071
    """
    z = np.asarray(elevation, dtype=np.float64)
    dzdy, dzdx = np.gradient(z, cell_y_m, cell_x_m)
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(dzdy, -dzdx)  # rows run south: dzdy is d/d(south), as ESRI's
    az = np.radians(360.0 - azimuth_deg + 90.0)
    alt = np.radians(altitude_deg)
    shade = (np.sin(alt) * np.cos(slope)
             + np.cos(alt) * np.sin(slope) * np.cos(az - aspect))
    return np.clip(shade, 0.0, 1.0)


def hillshade_image(dem: RasterLayer, *, max_px: int = RELIEF_MAX_PX
                    ) -> tuple[str, list[list[float]]]:
    """Shade a DEM once, in Web Mercator, as an inlined grey PNG with its bounds.

    Parameters
    ----------
    dem : RasterLayer
        The run's DEM (metres).
    max_px : int
        Largest width or height of the image, pixels.

    Returns
    -------
    (str, list)
        A ``data:image/png;base64`` URL and ``[[south, west], [north, east]]`` (degrees).
    """
    import rasterio

    with rasterio.open(dem.path) as src:
        transform, width, height = calculate_default_transform(
            dem.rasterio_crs, "EPSG:3857", src.width, src.height, *src.bounds)
        scale = max(width, height) / max_px
        if scale > 1:
            width, height = max(1, round(width / scale)), max(1, round(height / scale))
            transform = transform * transform.scale(scale, scale)
        out = np.full((height, width), np.nan, dtype=np.float32)
        reproject(rasterio.band(src, 1), out, src_crs=dem.rasterio_crs, dst_transform=transform,
                  dst_crs="EPSG:3857", resampling=Resampling.bilinear,
                  src_nodata=dem.nodata, dst_nodata=np.nan)
    x0, y0 = transform.c, transform.f
    x1, y1 = x0 + width * transform.a, y0 + height * transform.e
    to_ll = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    (w, e), (n, s) = to_ll.transform([x0, x1], [y0, y1])
    shrink = np.cos(np.radians((n + s) / 2))  # Mercator metres to ground metres
    shade = hillshade(out, cell_x_m=abs(transform.a) * shrink, cell_y_m=abs(transform.e) * shrink)
    index = np.where(np.isnan(out) | np.isnan(shade), 0,
                     1 + np.round(np.nan_to_num(shade) * 254)).astype(np.uint8)
    palette = [(0, 0, 0, 0)] + [(v, v, v, 255) for v in np.linspace(40, 255, 255).astype(int)]
    url = "data:image/png;base64," + base64.b64encode(_png(index, palette)).decode("ascii")
    return url, [[round(s, 6), round(w, 6)], [round(n, 6), round(e, 6)]]


# --------------------------------------------------------------------------- coverage

def _add_coverage(m: folium.Map, coverage: Coverage, techs: list[str], *, max_px: int,
                  simplify_m: float) -> str | None:
    """Add the coverage layers; return "signal", "binary" or "areas" (None if none)."""
    keys = [k for k in coverage.keys() if k[1] in techs]
    if not keys:
        return None
    tech_label = "/".join(techs)
    if coverage.grid is None:
        areas = coverage.areas
        layers = []
        union = coverage.area_union(techs)
        layers.append((f"Vùng phủ {tech_label} mọi nhà mạng / {tech_label} coverage, all "
                       "operators", union))
        for op, tech in keys:
            rows = areas[(areas["operator"] == op) & (areas["technology"] == tech)]
            geoms = rows.geometry.to_numpy()
            # the models give one union per operator and technology: no second union
            layers.append((f"Vùng phủ {_esc(op)} {tech} / {_esc(op)} {tech} coverage",
                           geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)))
        for name, geom in layers:
            simplified = _simplify(gpd.GeoSeries([geom], crs=areas.crs), areas.crs,
                                   simplify_m / 2)
            features = [{"type": "Feature", "geometry": g, "properties": {}}
                        for g in _rounded_geojson(simplified) if g is not None]
            _Piece("areas", data={"type": "FeatureCollection", "features": features},
                   name=name, show=False,
                   options={"color": BINARY_COLOR, "opacity": 0.35}).add_to(m)
        return "areas"
    binary = any(k in coverage.binary for k in keys)
    grid = coverage.grid
    if binary:
        union = coverage.covered_any(techs).astype(np.uint8)
        palette = [(0, 0, 0, 0), _rgba(BINARY_COLOR)]
    else:
        best = np.full(grid.shape, np.nan, dtype=np.float32)
        for k in keys:
            best = np.fmax(best, coverage.signal[k])
        union = _signal_classes(best, coverage.min_rsrp_dbm)
        palette = _signal_palette(coverage.min_rsrp_dbm)
    images = [(f"Vùng phủ {tech_label} mọi nhà mạng / {tech_label} coverage, all operators",
               union)]
    for op, tech in keys:
        if (op, tech) in coverage.binary or binary:
            classes = coverage.covered(op, tech).astype(np.uint8)
        else:
            classes = _signal_classes(coverage.signal[op, tech], coverage.min_rsrp_dbm)
        images.append((f"Vùng phủ {_esc(op)} {tech} / {_esc(op)} {tech} coverage", classes))
    for name, classes in images:
        url, bounds = _overlay_image(classes, grid, palette, max_px=max_px)
        _Piece("image", data={"url": url, "bounds": bounds}, name=name, show=False,
               options={"opacity": COVERAGE_OPACITY}).add_to(m)
    return "binary" if binary else "signal"


def _signal_edges(min_dbm: float) -> list[float]:
    return [float(min_dbm)] + [e for e in SIGNAL_CLASS_EDGES_DBM if e > min_dbm]


def _signal_classes(signal: np.ndarray, min_dbm: float) -> np.ndarray:
    """Class 1.. of a dBm raster (0: below the threshold or no signal)."""
    classes = np.zeros(np.shape(signal), dtype=np.uint8)
    for edge in _signal_edges(min_dbm):  # the number of edges reached; NaN reaches none
        classes += np.asarray(signal) >= edge
    return classes


def _signal_palette(min_dbm: float) -> list[tuple[int, int, int, int]]:
    n = len(_signal_edges(min_dbm))
    colors = SIGNAL_COLORS[len(SIGNAL_COLORS) - n:]
    return [(0, 0, 0, 0)] + [_rgba(c) for c in colors]


def _rgba(color: str) -> tuple[int, int, int, int]:
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16), 255)


def _overlay_image(classes: np.ndarray, grid: Grid, palette: list[tuple[int, int, int, int]],
                   *, max_px: int) -> tuple[str, list[list[float]]]:
    """Reproject a class raster to Web Mercator; return a PNG data URL and its bounds."""
    src_crs = grid.rasterio_crs
    left, bottom, right, top = array_bounds(grid.height, grid.width, grid.transform)
    transform, width, height = calculate_default_transform(
        src_crs, "EPSG:3857", grid.width, grid.height, left=left, bottom=bottom, right=right,
        top=top)
    scale = max(width, height) / max_px
    resampling = Resampling.nearest
    if scale > 1:
        width, height = max(1, round(width / scale)), max(1, round(height / scale))
        transform = transform * transform.scale(scale, scale)
        resampling = Resampling.mode
    out = np.zeros((height, width), dtype=np.uint8)
    reproject(classes.astype(np.uint8), out, src_transform=grid.transform, src_crs=src_crs,
              dst_transform=transform, dst_crs="EPSG:3857", resampling=resampling,
              src_nodata=0, dst_nodata=0)
    x0, y0 = transform.c, transform.f
    x1, y1 = x0 + width * transform.a, y0 + height * transform.e
    to_ll = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    (w, e), (n, s) = to_ll.transform([x0, x1], [y0, y1])
    png = _png(out, palette)
    url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return url, [[round(s, 6), round(w, 6)], [round(n, 6), round(e, 6)]]


def _png(index: np.ndarray, palette: Sequence[tuple[int, int, int, int]]) -> bytes:
    """Encode an 8-bit palette image (with alpha per colour) as PNG."""
    height, width = index.shape
    raw = np.zeros((height, width + 1), dtype=np.uint8)  # filter byte 0 on every row
    raw[:, 1:] = index

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
            + chunk(b"PLTE", bytes(c for rgba in palette for c in rgba[:3]))
            + chunk(b"tRNS", bytes(rgba[3] for rgba in palette))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9))
            + chunk(b"IEND", b""))


# --------------------------------------------------------------------------- title, legend

def _title_html(layers: _Layers, villages: pd.DataFrame, techs: list[str]) -> str:
    cfg = layers.config
    signal, where_vi, where_en = rule_text(
        cfg, layers.coverage, form="map", technologies=techs,
        bases=list(_column(villages, "share_basis").dropna()))
    model = layers.coverage.model if layers.coverage is not None else cfg.coverage.model
    parts = [
        f"<h1>{_esc(cfg.display_name)} · {_esc(cfg.run.year)} — Lõm sóng và cáp quang "
        '<span class="cg-muted">/ Mobile and fibre gaps</span></h1>',
        f'<div class="cg-rule"><b>Thôn được phủ sóng / Village covered:</b> {_esc(signal)} '
        f'{_esc(where_vi)} <span class="cg-muted">/ {_esc(where_en)}</span></div>',
        f'<div class="cg-rule"><b>FTTH:</b> ≤ {_fmt(cfg.rules.ftth_max_distance_m)} m tới '
        'cáp quang <span class="cg-muted">/ to fibre</span> · <b>Mô hình / Model:</b> '
        f"{_esc(model)}</div>",
    ]
    kpis = []
    indicators = layers.indicators
    if indicators is not None and len(indicators):
        prov = indicators[indicators["level"] == "province"].drop_duplicates(
            "indicator").set_index("indicator")
        labels = [("villages_mbb_pct", "Thôn có BRDĐ", "Villages covered"),
                  ("villages_ftth_pct",
                   f"Thôn có cáp quang ≤ {_fmt(cfg.rules.ftth_max_distance_m / 1000, 1)} km",
                   f"Villages with fibre ≤ {cfg.rules.ftth_max_distance_m / 1000:g} km"),
                  ("bts_sharing_pct",
                   f"Vị trí BTS ≥ 2 DN (≤ {_fmt(cfg.rules.site_sharing_m)} m)",
                   f"Sites shared by ≥ 2 operators (≤ {cfg.rules.site_sharing_m:g} m)")]
        for ind, vi_label, en_label in labels:
            if ind not in prov.index:
                continue
            value, target = prov.at[ind, "value"], prov.at[ind, "target"]
            met = prov.at[ind, "met"] if "met" in prov else None
            cls = "" if _missing(met) else ("cg-met" if met else "cg-miss")
            goal = "" if _missing(target) else f"mục tiêu / target {_pct(target, 0)}"
            kpis.append((vi_label, en_label, _pct(value), cls, goal))
    states = _signal_states(villages).value_counts()
    n_usp = int(_column(villages, "usp_eligible", False).fillna(False).astype(bool).sum())
    kpis.append(("Thôn chưa có sóng di động (lõm sóng)", "No mobile signal",
                 _fmt(int(states.get("no_signal", 0))), "", ""))
    kpis.append(("Thôn chỉ có 2G/3G", "2G/3G only",
                 _fmt(int(states.get("no_broadband", 0))), "", ""))
    kpis.append(("Diện công ích", "USP eligible", _fmt(n_usp), "", ""))
    cells = "".join(
        f'<div><span class="cg-k">{vi} <span class="cg-muted">/ {en}</span></span>'
        f'<b class="{cls}">{value}</b><small class="cg-muted">{goal}</small></div>'
        for vi, en, value, cls, goal in kpis)
    parts.append(f'<div class="cg-kpis">{cells}</div>')
    return "".join(parts)


def _signal_states(villages: pd.DataFrame) -> pd.Series:
    """Return each village's ``signal_status`` (a run without it: from ``status``)."""
    status = _column(villages, "status", "lom_song").replace({"lom_song": "no_signal"})
    return _column(villages, "signal_status").fillna(status).astype(str)


def _sw(cls: str, style: str) -> str:
    return f'<span class="cg-sw {cls}" style="{style}"></span>'


def _legend_html(*, commune_counts: list[int], villages: pd.DataFrame,
                 site_tables: dict[str, dict], colors: dict[str, str], fibre_ops: list[str],
                 fibre_kinds: list[str], coverage_kind: str | None, min_dbm: float | None,
                 n_candidates: int, links: Sequence[_Link] | None = None) -> str:
    out = ['<details open><summary>Chú giải / Legend</summary>']
    # communes
    edges = [0.0, *COMMUNE_CLASS_EDGES_PCT]
    labels = [f"{_fmt(edges[i])}–{_fmt(edges[i + 1])}%" if i else f"< {_fmt(edges[1])}%"
              for i in range(len(edges) - 1)]
    labels[-1] = f"{_fmt(edges[-2])}–< 100%"
    labels.append("100%")
    out.append("<h5>Xã: % thôn được phủ sóng / Communes: villages covered</h5><ul>")
    for label, color, count in zip([*labels, "không có thôn / no villages"],
                                   [*COMMUNE_COLORS, COMMUNE_NO_DATA_COLOR], commune_counts,
                                   strict=True):
        if count or color != COMMUNE_NO_DATA_COLOR:
            out.append(f"<li>{_sw('', f'background:{color}')}{label} "
                       f'<span class="cg-count">({_fmt(count)} xã)</span></li>')
    out.append("</ul>")
    # villages
    status = _signal_states(villages).value_counts()
    out.append("<h5>Thôn / Villages</h5><ul>")
    for key, name, color in zip(STATUS_NAMES, STATUS_WORDS, STATUS_COLORS, strict=True):
        out.append(f"<li>{_sw('cg-dot', f'background:{color}')}{name} "
                   f'<span class="cg-count">({_fmt(int(status.get(key, 0)))})</span></li>')
    n_usp = int(_column(villages, "usp_eligible", False).fillna(False).astype(bool).sum())
    out.append(f"<li>{_sw('cg-ring', f'border-color:{USP_COLOR}')}Diện công ích / USP "
               f'eligible <span class="cg-count">({_fmt(n_usp)})</span></li></ul>')
    if links is not None:
        out.append('<ul class="cg-one"><li class="cg-muted">chỉ vẽ thôn chưa được phủ sóng '
                   "/ only villages with a gap are drawn</li></ul>"
                   "<h5>Bản đồ từng tỉnh / Province maps "
                   '<span class="cg-count">(số thôn chưa phủ 4G/5G / villages without '
                   'mobile broadband)</span>'
                   "</h5><ul>")
        for link in links:
            out.append(f'<li><a href="{html.escape(link.href, quote=True)}">{_esc(link.name)}'
                       f'</a> <span class="cg-count">({_fmt(link.lom_song)})</span></li>')
        out.append("</ul>")
    if n_candidates:
        out.append("<h5>Điểm đề xuất / Candidate sites</h5><ul>"
                   '<li><span class="cg-cand cg-cand-new cg-inline"><span>1</span></span> '
                   "trạm mới / new site</li>"
                   '<li><span class="cg-cand cg-cand-share cg-inline"><span>2</span></span> '
                   "dùng chung / share a site</li></ul>")
    if site_tables:
        out.append("<h5>Trạm BTS / Sites</h5><ul>")
        for op, table in site_tables.items():
            out.append(f"<li>{_sw('cg-sq', f'background:{colors[op]}')}{_esc(op)} "
                       f'<span class="cg-count">({_fmt(len(table["id"]))})</span></li>')
        out.append(f"<li>{_sw('cg-sq cg-sq-shared', 'background:#999')}dùng chung / "
                   "shared location</li></ul>")
    if fibre_kinds:
        out.append("<h5>Cáp quang / Fibre</h5><ul>")
        for op in fibre_ops:
            out.append(f"<li>{_sw('cg-line', f'border-top-color:{colors[op]}')}{_esc(op)}"
                       "</li>")
        if "node" in fibre_kinds:
            out.append(f"<li>{_sw('cg-dot', 'background:#777;border-color:#fff')}"
                       "điểm / node</li>")
        out.append("</ul>")
    if coverage_kind == "signal" and min_dbm is not None:
        edges_dbm = _signal_edges(min_dbm)
        colors_sig = _signal_palette(min_dbm)[1:]
        words = SIGNAL_WORDS[len(SIGNAL_WORDS) - len(edges_dbm):]
        out.append('<div class="cg-cov-legend" hidden>'
                   "<h5>Vùng phủ / Coverage (RSRP, dBm)</h5><ul>")
        for i in reversed(range(len(edges_dbm))):
            lo = _fmt(edges_dbm[i])
            rng = f"≥ {lo}" if i == len(edges_dbm) - 1 else f"{lo} … {_fmt(edges_dbm[i + 1])}"
            color = "#{:02x}{:02x}{:02x}".format(*colors_sig[i][:3])
            out.append(f"<li>{_sw('', f'background:{color};opacity:{COVERAGE_OPACITY + 0.2}')}"
                       f"{rng} <span class='cg-muted'>{words[i]}</span></li>")
        out.append(f'<li class="cg-muted">dưới {_fmt(min_dbm)} dBm: không tô / '
                   "below: not drawn</li></ul></div>")
    elif coverage_kind in ("binary", "areas"):
        out.append('<div class="cg-cov-legend" hidden><h5>Vùng phủ / Coverage</h5><ul>'
                   f"<li>{_sw('', f'background:{BINARY_COLOR};opacity:0.8')}"
                   "có phủ sóng / covered</li></ul></div>")
    out.append("</details>")
    return "".join(out)
