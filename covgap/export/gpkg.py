"""The run's layers in one GeoPackage, ``results.gpkg``, for QGIS.

Layers, all in WGS84 (EPSG:4326), the CRS of the CSVs' ``lon``/``lat``:

- ``villages``: the village table (points, or polygons when the input had them).
- ``communes``: the commune table with the commune polygons.
- ``sites``: the BTS cells, one feature per cell, with their site location and whether
  it is shared.
- ``site_locations``: site locations with their operators and the ``shared`` flag (the
  base of ``bts_sharing_pct``).
- ``fibre``: the fibre network as read.  Routes (lines) and nodes (points) stay in one
  layer; when both are present its geometry type is GEOMETRY, which QGIS opens as one
  sub-layer per geometry type.
- ``candidates``: candidate sites, written only when the run has them.
- ``coverage``: coverage (MultiPolygon) per operator and technology: the radius model's
  footprints, or each raster model's covered cells polygonised and simplified to the grid
  resolution.

Attribute names are lowercase ASCII snake_case of at most 63 characters
(``share_MobiFone`` becomes ``share_mobifone``); booleans are GeoPackage boolean fields;
text is UTF-8 with its Vietnamese diacritics.  Each layer's description states the run
and the coverage rule that produced it.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio.features
import shapely

from covgap.analysis.rules import rule_text

if TYPE_CHECKING:
    from covgap.coverage import Coverage
    from covgap.result import Result

__all__ = [
    "GPKG_CRS",
    "LAYERS",
    "coverage_polygons",
    "field_names",
    "geopackage_layers",
    "write_geopackage",
]

log = logging.getLogger(__name__)

#: Every layer is written in WGS84 lon/lat, what QGIS users and the CSVs share.
GPKG_CRS = "EPSG:4326"

#: The layers a GeoPackage may hold, in the order they are written.
LAYERS: tuple[str, ...] = (
    "villages", "communes", "sites", "site_locations", "fibre", "candidates", "coverage")

#: GeoPackage attribute names are limited by no standard, but shapefile-minded tools and
#: PostgreSQL (a common next stop) cut identifiers at 63 bytes.
_MAX_NAME = 63
#: Names the GeoPackage driver uses for the feature id and the geometry column.
_RESERVED = {"fid", "geom", "geometry"}

_DESCRIPTIONS = {
    "villages": "Villages: coverage, FTTH reach, lõm sóng, programme flags, gap and suggested fix",
    "communes": "Communes: village counts and the plan's indicators",
    "sites": "BTS cells, one feature per cell",
    "site_locations": "BTS site locations; shared = used by two or more operators",
    "fibre": "Fibre network: routes (lines) and nodes (points)",
    "candidates": "Candidate sites, best first",
    "coverage": "Coverage per operator and technology",
}


def field_names(columns: Iterable[Any]) -> list[str]:
    """Return GeoPackage-friendly attribute names for ``columns``, unique and in order.

    Lowercase ASCII snake_case (diacritics dropped, đ becomes d), at most 63
    characters, never starting with a digit and never ``fid`` or ``geom``; a name that
    would repeat an earlier one gets ``_2``, ``_3``, ...

    Examples
    --------
    >>> field_names(["share_MobiFone", "Tên thôn", "2G sites", "fid", "share_mobifone"])
    ['share_mobifone', 'ten_thon', 'f_2g_sites', 'fid_1', 'share_mobifone_2']
    """
    out: list[str] = []
    seen: set[str] = set()
    for col in columns:
        text = str(col).replace("đ", "d").replace("Đ", "D")
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        name = re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_") or "field"
        if name[0].isdigit():
            name = f"f_{name}"
        if name in _RESERVED:
            name = f"{name}_1"
        name = name[:_MAX_NAME]
        base, n = name, 1
        while name in seen:
            n += 1
            suffix = f"_{n}"
            name = base[:_MAX_NAME - len(suffix)] + suffix
        seen.add(name)
        out.append(name)
    return out


def _attributes(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy with friendly names and types GeoPackage stores faithfully."""
    geom_col = frame.geometry.name
    data = frame.drop(columns=[geom_col])
    out = pd.DataFrame(index=frame.index)
    for name, col in zip(field_names(data.columns), data.columns, strict=True):
        s = data[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype("string")
        elif s.dtype == object and s.notna().any():
            kinds = s.dropna().map(type)
            if kinds.map(lambda k: issubclass(k, bool | np.bool_)).all():
                s = s.astype("boolean")  # a bool column with gaps: keep it boolean
            elif not kinds.map(lambda k: issubclass(k, str)).all():
                s = s.astype("string")  # mixed values: text rather than an OGR error
        out[name] = s
    return gpd.GeoDataFrame(out, geometry=frame.geometry.to_numpy(), crs=frame.crs)


def _to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise ValueError("a layer without a CRS cannot be written: covgap's layers always "
                         "carry one, so this is a bug")
    return frame.to_crs(GPKG_CRS)


def _sites(result: Result) -> gpd.GeoDataFrame:
    """Return the cells, each with the id of its site location and whether it is shared."""
    cells = result.sites
    analysis = result.analysis
    if analysis is None or analysis.locations is None or cells.empty:
        return cells
    loc = analysis.locations
    per_site = pd.DataFrame({
        "site_id": loc["site_ids"].astype("string").str.split(";"),
        "location_id": loc["location_id"].to_numpy(),
        "shared_location": loc["shared"].to_numpy(dtype=bool),
    }).explode("site_id").drop_duplicates("site_id").set_index("site_id")
    out = cells.copy()
    out["location_id"] = cells["site_id"].map(per_site["location_id"]).astype("string")
    out["shared_location"] = cells["site_id"].map(per_site["shared_location"]).astype(
        "boolean")
    return out


def _villages(result: Result) -> gpd.GeoDataFrame:
    """Return the villages with their gap and suggested fix (in English, the run's record)."""
    gaps = result.gaps
    if gaps is None:
        return result.villages
    fix = gaps.set_index("village_id")[["gap", "fix"]]
    return result.villages.join(fix, on="village_id")


def _candidates(result: Result) -> gpd.GeoDataFrame | None:
    cand = result.candidates
    if cand is None:
        return None
    if isinstance(cand, gpd.GeoDataFrame) and cand.geometry.name in cand:
        return cand
    return gpd.GeoDataFrame(cand, geometry=gpd.points_from_xy(cand["lon"], cand["lat"]),
                            crs=GPKG_CRS)


def coverage_polygons(coverage: Coverage, *, technologies: Iterable[str] = ()) -> gpd.GeoDataFrame:
    """Return the coverage as polygons per operator and technology (metric CRS).

    Vector coverage (``coverage.areas``: the radius model, polygon maps) is taken as it
    is; every raster (signal or binary) is polygonised where it counts as covered and
    simplified with a tolerance of one grid cell, which removes the staircase of the
    cell edges without moving a boundary by more than the data's resolution.

    Parameters
    ----------
    coverage : Coverage
        The run's coverage.
    technologies : iterable of str
        The technologies that count as mobile broadband, for the ``mbb`` flag.

    Returns
    -------
    GeoDataFrame
        ``operator, technology, mbb, model, min_rsrp_dbm, area_km2`` and the geometry,
        in the run's metric CRS; operators and technologies with no coverage at all are
        left out.

    Examples
    --------
    >>> result = covgap.run("data/sample.toml")  # doctest: +SKIP
    >>> polygons = coverage_polygons(result.coverage, technologies=["4G", "5G"])  # doctest: +SKIP
    >>> polygons.groupby("technology")["area_km2"].max()  # doctest: +SKIP
    """
    techs = set(technologies)
    rows: list[dict[str, Any]] = []
    crs = coverage.cells.crs
    done: set[tuple[str, str]] = set()
    if coverage.areas is not None and len(coverage.areas):
        crs = coverage.areas.crs or crs
        for op, tech, geom in zip(coverage.areas["operator"], coverage.areas["technology"],
                                  coverage.areas.geometry, strict=True):
            rows.append({"operator": op, "technology": tech, "source": "vector",
                         "geometry": geom})
            done.add((op, tech))
    grid = coverage.grid
    if grid is not None:
        for op, tech in coverage.keys():
            if (op, tech) in done or ((op, tech) not in coverage.signal
                                      and (op, tech) not in coverage.binary):
                continue
            mask = np.asarray(coverage.covered(op, tech), dtype=bool)
            if not mask.any():
                continue
            parts = [shapely.geometry.shape(g) for g, _ in rasterio.features.shapes(
                mask.astype("uint8"), mask=mask, transform=grid.transform)]
            # the pieces tile the mask edge to edge: a coverage union is exact and fast
            geom = shapely.coverage_union_all(parts)
            geom = shapely.simplify(geom, grid.cell_size_m, preserve_topology=True)
            rows.append({"operator": op, "technology": tech,
                         "source": "signal" if (op, tech) in coverage.signal else "binary",
                         "geometry": geom})
    frame = gpd.GeoDataFrame(rows or None, columns=["operator", "technology", "source",
                                                    "geometry"],
                             geometry="geometry", crs=crs)
    frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
    frame = frame.sort_values(["operator", "technology"], kind="stable").reset_index(drop=True)
    out = gpd.GeoDataFrame({
        "operator": frame["operator"].astype("string"),
        "technology": frame["technology"].astype("string"),
        "mbb": frame["technology"].isin(techs).astype(bool),
        "model": pd.Series(coverage.model, index=frame.index, dtype="string"),
        "min_rsrp_dbm": np.where(frame["source"] == "signal",
                                 float(coverage.min_rsrp_dbm), np.nan),
        "area_km2": (frame.geometry.area / 1e6).round(3).astype(float),
    }, geometry=frame.geometry.to_numpy(), crs=crs)
    return out


def geopackage_layers(result: Result) -> dict[str, gpd.GeoDataFrame]:
    """Return the layers :func:`write_geopackage` writes, by name, in EPSG:4326.

    Parameters
    ----------
    result : Result
        A run (:func:`covgap.run`).

    Returns
    -------
    dict of str to GeoDataFrame
        Attribute names as written (see :func:`field_names`); ``fibre``,
        ``site_locations``, ``candidates`` and ``coverage`` only when the run has them.

    Examples
    --------
    >>> layers = geopackage_layers(covgap.run("data/sample.toml"))  # doctest: +SKIP
    >>> layers["villages"].crs.to_epsg()  # doctest: +SKIP
    4326
    """
    layers: dict[str, gpd.GeoDataFrame] = {
        "villages": _villages(result), "communes": result.communes, "sites": _sites(result)}
    analysis = result.analysis
    if analysis is not None and analysis.locations is not None:
        layers["site_locations"] = analysis.locations
    fibre = result.inputs.fibre
    if fibre is not None:
        layers["fibre"] = fibre
    candidates = _candidates(result)
    if candidates is not None:
        layers["candidates"] = candidates
    if result.coverage is not None:
        techs = list(result.config.coverage.technologies)
        layers["coverage"] = coverage_polygons(result.coverage, technologies=techs)
    return {name: _attributes(_to_wgs84(layers[name])) for name in LAYERS if name in layers}


def write_geopackage(result: Result, path: str | Path) -> Path:
    """Write ``results.gpkg``: every layer of the run, in EPSG:4326.

    See the module docstring for the layers.  ``candidates`` is written only when the
    run has candidates (``result.candidates``); ``fibre`` only with a fibre input.

    Parameters
    ----------
    result : Result
        A run (:func:`covgap.run`).
    path : str or Path
        The file to write; an existing file is replaced.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> result = covgap.run("data/sample.toml")  # doctest: +SKIP
    >>> write_geopackage(result, "out/results.gpkg")  # doctest: +SKIP
    >>> [name for name, _ in pyogrio.list_layers("out/results.gpkg")]  # doctest: +SKIP
    ['villages', 'communes', 'sites', 'site_locations', 'fibre', 'coverage']
    """
    path = Path(path)
    if path.exists():
        path.unlink()  # the GeoPackage driver would add layers to the old file
    config = result.config
    run_label = f"covgap run {config.display_name} {config.run.year}"
    rule = rule_text(config, result.coverage)
    for name, layer in geopackage_layers(result).items():
        description = f"{_DESCRIPTIONS[name]} ({run_label}; {rule}; CRS {GPKG_CRS})"
        # pyogrio gives a layer mixing points and lines the GEOMETRY type ("Unknown");
        # coverage is always areal, typed so even when empty
        shape = ({"geometry_type": "MultiPolygon", "promote_to_multi": True}
                 if name == "coverage" else {})
        pyogrio.write_dataframe(layer, path, layer=name, driver="GPKG",
                                layer_options={"DESCRIPTION": description}, **shape)
        log.debug("wrote layer %s (%d features) to %s", name, len(layer), path)
    return path
