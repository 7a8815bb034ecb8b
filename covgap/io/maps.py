"""Operators' own coverage maps (``[coverage.maps]``): read and checked like every layer.

Provinces often get coverage maps from the operators themselves.  ``[coverage.maps]``
names one file per operator and technology (``"Viettel 4G" = "maps/viettel_4g.tif"``):
a raster of signal in dBm or of 0/1 coverage (``[coverage] maps_unit``), or polygons of
the covered area.  This module checks the keys and the files; the raster coverage model
(:mod:`covgap.coverage.maps`) puts them onto the analysis grid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import rasterio
from rasterio.errors import RasterioIOError

from covgap.config import LayerInput
from covgap.errors import InputError
from covgap.io.layers import normalize_operator, normalize_technology
from covgap.io.problems import ROW, Problems
from covgap.io.rasters import RasterLayer, read_raster
from covgap.io.vector import TABLE_SUFFIXES, read_vector

__all__ = ["CoverageMap", "parse_map_key", "read_coverage_maps"]

_VECTOR_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".fgb", ".kml", ".gml", ".sqlite"}

#: A ``Problems`` collector for one file: ``problems_for(spec)``.
ProblemsFor = Callable[[LayerInput], Problems]


@dataclass(frozen=True)
class CoverageMap:
    """One operator's coverage map of one technology, checked.

    Attributes
    ----------
    key : str
        The key as written in ``[coverage.maps]`` ("VIETTEL LTE").
    operator, technology : str
        Canonical operator and technology ("Viettel", "4G").
    raster : RasterLayer or None
        A gridded map (signal in dBm or 0/1 coverage); not loaded, opened again when used.
    areas : GeoDataFrame or None
        A polygon map: the covered area's polygons in WGS84 (EPSG:4326).
    """

    key: str
    operator: str
    technology: str
    raster: RasterLayer | None = None
    areas: gpd.GeoDataFrame | None = None


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


def read_coverage_maps(
    maps: dict[str, LayerInput],
    *,
    operator_aliases: dict[str, str] | None = None,
    problems_for: ProblemsFor | None = None,
    keys: Problems | None = None,
) -> list[CoverageMap]:
    """Read and check every file of ``[coverage.maps]``.

    Parameters
    ----------
    maps : dict
        ``[coverage.maps]``: key ("Viettel 4G") -> file.
    operator_aliases : dict, optional
        Extra operator spellings for the keys (``[inputs] operator_aliases``).
    problems_for : callable, optional
        Returns the problem collector of one file (:func:`covgap.read_inputs` passes
        its own, to list every layer's problems together).
    keys : Problems, optional
        Collector for problems of the keys themselves.

    Returns
    -------
    list of CoverageMap
        The usable maps, in the order given.

    Raises
    ------
    InputError
        Listing every problem, when no collectors are given.
    """
    own: list[Problems] = []
    if keys is None:
        keys = Problems("[coverage.maps]")
        own.append(keys)
    if problems_for is None:
        def problems_for(spec: LayerInput) -> Problems:
            own.append(Problems(Path(spec.path).name))
            return own[-1]
    out = []
    for key, spec in maps.items():
        parsed = parse_map_key(key, operator_aliases)
        if parsed is None:
            keys.add(f"{key!r}: expected \"<operator> <technology>\", e.g. \"Viettel 4G\"")
            continue
        problems = problems_for(spec)
        found = _read_map(key, spec, problems)
        if found is not None and not problems:
            raster, areas = found
            out.append(CoverageMap(key=key, operator=parsed[0], technology=parsed[1],
                                   raster=raster, areas=areas))
    lines = [line for p in own for line in p.lines]
    if lines:
        raise InputError(f"[coverage.maps]: {len(lines)} problem(s)", lines)
    return out


def _read_map(key: str, spec: LayerInput, problems: Problems
              ) -> tuple[RasterLayer | None, gpd.GeoDataFrame | None] | None:
    """Read one map file: (raster, None) or (None, polygons); None when unusable."""
    path = Path(spec.path)
    if not path.exists():
        problems.add(f"file not found ({path}); check [coverage.maps] {key!r}")
        return None
    if _is_vector(path):
        gdf = read_vector(spec, name=f"coverage.maps.{key}", problems=problems)
        if gdf is None:
            return None
        polygons = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
        if polygons.empty:
            problems.add(f"has no polygons ([coverage.maps] {key!r}); a polygon map needs "
                         "the covered area as polygons")
            return None
        return None, polygons.drop(columns=[ROW], errors="ignore").reset_index(drop=True)
    if not spec.crs:
        with rasterio.open(path) as src:
            if src.crs is None:
                problems.add(
                    f"has no CRS; give it in [coverage.maps], e.g. {key!r} = "
                    f"{{ path = \"{path.name}\", crs = \"EPSG:32648\" }}")
                return None
    layer = read_raster(spec, kind="coverage", problems=problems)
    return (layer, None) if layer is not None else None


def _is_vector(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix in _VECTOR_SUFFIXES or suffix in TABLE_SUFFIXES:
        return True
    try:
        with rasterio.open(path):
            return False
    except RasterioIOError:
        return True
