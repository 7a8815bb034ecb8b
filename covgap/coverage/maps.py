"""The raster model: operators' own coverage maps, put onto the analysis grid as they are.

The maps of ``[coverage.maps]`` are read and checked with the other inputs
(:mod:`covgap.io.maps`, into ``Inputs.maps``).  Here rasters are resampled onto the
analysis grid; polygons are kept as they are and also burnt into the grid.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from rasterio.enums import Resampling
from rasterio.features import rasterize

from covgap.coverage.grid import Grid, resample_to_grid
from covgap.coverage.result import ModelOutput
from covgap.errors import InputError
from covgap.io.maps import CoverageMap

__all__ = ["map_coverage"]


def map_coverage(maps: list[CoverageMap], grid: Grid, *, unit: str = "dbm") -> ModelOutput:
    """Put the operators' checked coverage maps onto the grid.

    Parameters
    ----------
    maps : list of CoverageMap
        ``Inputs.maps``: the checked maps of ``[coverage.maps]``.
    grid : Grid
        The analysis grid (metric CRS).
    unit : {"dbm", "binary"}
        What the rasters hold (``[coverage] maps_unit``): signal in dBm, or 1 covered.

    Returns
    -------
    ModelOutput
        ``signal`` (dBm rasters), ``binary`` (bool rasters, from 0/1 rasters and
        polygons) and ``areas`` (the polygon maps in ``grid.crs``, or None).

    Raises
    ------
    InputError
        No maps at all.
    """
    if not maps:
        raise InputError("[coverage] model = \"raster\" needs [coverage.maps]: one file per "
                         "operator and technology, e.g. \"Viettel 4G\" = \"viettel_4g.tif\"")
    out = ModelOutput()
    areas = []
    for m in maps:
        key = (m.operator, m.technology)
        if m.areas is not None:
            geom = m.areas.to_crs(grid.crs).geometry
            areas.append({"operator": m.operator, "technology": m.technology,
                          "geometry": geom.union_all()})
            out.binary[key] = rasterize(
                ((g, 1) for g in geom), out_shape=grid.shape, transform=grid.transform,
                fill=0, dtype="uint8").astype(bool)
        elif m.raster is not None and unit == "dbm":
            out.signal[key] = resample_to_grid(m.raster, grid, resampling=Resampling.bilinear)
        elif m.raster is not None:
            values = resample_to_grid(m.raster, grid, resampling=Resampling.nearest)
            out.binary[key] = np.nan_to_num(values, nan=0.0) >= 0.5
    if areas:
        out.areas = gpd.GeoDataFrame(areas, geometry="geometry", crs=grid.crs)
    return out
