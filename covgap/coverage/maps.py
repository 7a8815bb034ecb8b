"""The raster model: operators' own coverage maps, read as they are.

Provinces often get coverage maps from the operators themselves.  ``[coverage.maps]``
names one file per operator and technology (``"Viettel 4G" = "maps/viettel_4g.tif"``):
a raster of signal in dBm or of 0/1 coverage (``maps_unit``), or polygons of the
covered area.  Rasters are resampled onto the analysis grid; polygons are kept as they
are and also burnt into the grid.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.features import rasterize

from covgap.config import CoverageConfig, LayerInput
from covgap.coverage.grid import Grid, resample_to_grid
from covgap.errors import InputError
from covgap.io.layers import normalize_operator, normalize_technology
from covgap.io.problems import Problems
from covgap.io.rasters import read_raster
from covgap.io.vector import TABLE_SUFFIXES, read_vector

__all__ = ["map_coverage", "parse_map_key"]

_VECTOR_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".fgb", ".kml", ".gml", ".sqlite"}


def parse_map_key(key: str, aliases: dict[str, str] | None = None) -> tuple[str, str] | None:
    """Split ``"Viettel 4G"`` into canonical (operator, technology); None if unknown.

    Examples
    --------
    >>> parse_map_key("VIETTEL LTE")
    ('Viettel', '4G')
    """
    parts = key.replace("_", " ").replace("/", " ").split()
    if len(parts) < 2:
        return None
    op = normalize_operator(pd.Series([" ".join(parts[:-1])]), aliases).iloc[0]
    tech = normalize_technology(pd.Series([parts[-1]])).iloc[0]
    if pd.isna(op) or pd.isna(tech):
        return None
    return str(op), str(tech)


def _is_vector(spec: LayerInput) -> bool:
    suffix = Path(spec.path).suffix.lower()
    if suffix in _VECTOR_SUFFIXES or suffix in TABLE_SUFFIXES:
        return True
    try:
        with rasterio.open(spec.path):
            return False
    except RasterioIOError:
        return True


def map_coverage(config: CoverageConfig, grid: Grid, *,
                 operator_aliases: dict[str, str] | None = None) -> dict:
    """Read the operators' coverage maps onto the grid.

    Parameters
    ----------
    config : CoverageConfig
        ``maps`` and ``maps_unit``.
    grid : Grid
        The analysis grid (metric CRS).
    operator_aliases : dict, optional
        Extra operator spellings for the map keys.

    Returns
    -------
    dict
        ``signal`` (dBm rasters), ``binary`` (bool rasters, from 0/1 rasters and
        polygons) and ``areas`` (GeoDataFrame of the polygon maps in ``grid.crs``, or
        None).

    Raises
    ------
    InputError
        Unknown operator or technology in a key, unreadable files; every problem listed.
    """
    lines: list[str] = []
    signal: dict[tuple[str, str], np.ndarray] = {}
    binary: dict[tuple[str, str], np.ndarray] = {}
    areas = []
    if not config.maps:
        raise InputError("[coverage] model = \"raster\" needs [coverage.maps]: one file per "
                         "operator and technology, e.g. \"Viettel 4G\" = \"viettel_4g.tif\"")
    for key, spec in config.maps.items():
        parsed = parse_map_key(key, operator_aliases)
        if parsed is None:
            lines.append(f"[coverage.maps] {key!r}: expected \"<operator> <technology>\", "
                         "e.g. \"Viettel 4G\"")
            continue
        problems = Problems(Path(spec.path).name)
        if _is_vector(spec):
            gdf = read_vector(spec, name=f"coverage.maps.{key}", problems=problems)
            if gdf is not None and not problems:
                geom = gdf.to_crs(grid.crs).geometry
                geom = geom[geom.geom_type.isin(["Polygon", "MultiPolygon"])]
                areas.append({"operator": parsed[0], "technology": parsed[1],
                              "geometry": geom.union_all()})
                binary[parsed] = rasterize(
                    ((g, 1) for g in geom), out_shape=grid.shape, transform=grid.transform,
                    fill=0, dtype="uint8").astype(bool)
        else:
            layer = read_raster(spec, kind="coverage", problems=problems)
            if layer is not None:
                if config.maps_unit == "dbm":
                    signal[parsed] = resample_to_grid(layer, grid,
                                                      resampling=Resampling.bilinear)
                else:
                    values = resample_to_grid(layer, grid, resampling=Resampling.nearest)
                    binary[parsed] = np.nan_to_num(values, nan=0.0) >= 0.5
        lines.extend(problems.lines)
    if lines:
        raise InputError(f"[coverage.maps]: {len(lines)} problem(s)", lines)
    area_frame = (gpd.GeoDataFrame(areas, geometry="geometry", crs=grid.crs)
                  if areas else None)
    return {"signal": signal, "binary": binary, "areas": area_frame}
