"""The analysis grid: one raster grid in the run's metric CRS for every signal raster.

The grid covers the communes and every site (so terrain profiles from sites across the
border stay on the DEM), with square cells whose size is the DEM's resolution in metres
unless configured.  The DEM and the population raster are resampled onto it once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import rasterio
import rasterio.warp
from affine import Affine
from pyproj import CRS
from rasterio.enums import Resampling

from covgap.io.rasters import RasterLayer

__all__ = ["Grid", "dem_resolution_m", "make_grid", "resample_to_grid"]

#: Without a DEM or a configured resolution, signal rasters have 100 m cells, the
#: resolution of WorldPop's population grids (DOMAIN.md).
DEFAULT_RESOLUTION_M = 100.0


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid with square cells in a projected CRS (metres).

    Attributes
    ----------
    crs : pyproj.CRS
    transform : affine.Affine
        Pixel to map coordinates; ``transform.a`` is the cell size in metres.
    width, height : int
    """

    crs: CRS
    transform: Affine
    width: int
    height: int

    @property
    def cell_size_m(self) -> float:
        """Cell size in metres."""
        return float(self.transform.a)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width)."""
        return (self.height, self.width)

    @property
    def rasterio_crs(self) -> rasterio.crs.CRS:
        """The CRS as rasterio wants it."""
        return rasterio.crs.CRS.from_wkt(self.crs.to_wkt())

    def rowcol(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (row, col) of map coordinates; cell centres are at i + 0.5."""
        col, row = ~self.transform * (np.asarray(x, float), np.asarray(y, float))
        return np.asarray(row), np.asarray(col)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates (x of each column, y of each row) of the cell centres."""
        cols = np.arange(self.width) + 0.5
        rows = np.arange(self.height) + 0.5
        x = self.transform.c + cols * self.transform.a
        y = self.transform.f + rows * self.transform.e
        return x, y


def make_grid(bounds: tuple[float, float, float, float], crs: CRS, *,
              cell_size_m: float, margin_m: float = 1000.0) -> Grid:
    """Make a grid covering ``bounds`` (metric CRS) plus a margin, snapped to the cell size.

    Parameters
    ----------
    bounds : tuple of float
        (xmin, ymin, xmax, ymax) in ``crs`` metres.
    crs : pyproj.CRS
        Projected CRS in metres.
    cell_size_m : float
        Cell size in metres.
    margin_m : float
        Added on every side, metres.

    Returns
    -------
    Grid

    Examples
    --------
    >>> g = make_grid((1000, 2000, 1950, 2400), CRS.from_epsg(32648), cell_size_m=100,
    ...               margin_m=0)
    >>> g.width, g.height, g.transform.c, g.transform.f
    (10, 4, 1000.0, 2400.0)
    """
    xmin, ymin, xmax, ymax = bounds
    res = float(cell_size_m)
    # snapping to multiples of the cell size makes grids of the same area line up
    west = math.floor((xmin - margin_m) / res) * res
    south = math.floor((ymin - margin_m) / res) * res
    east = math.ceil((xmax + margin_m) / res) * res
    north = math.ceil((ymax + margin_m) / res) * res
    width = max(1, round((east - west) / res))
    height = max(1, round((north - south) / res))
    return Grid(crs=crs, transform=Affine(res, 0.0, west, 0.0, -res, north), width=width,
                height=height)


def dem_resolution_m(dem: RasterLayer) -> float:
    """Return the DEM's cell size in metres (north-south for geographic DEMs), to 10 m.

    Examples
    --------
    A 3 arc-second DEM (SRTM) has about 92.6 m cells: ``dem_resolution_m`` gives 90.
    """
    res = abs(dem.transform.e)
    if dem.crs.is_geographic:
        # one degree of latitude is 111.32 km (WGS84 mean); DEMs of Vietnam are near
        # enough to the equator that the north-south size is the one to keep
        res *= 111_320.0
    return max(10.0, round(res / 10.0) * 10.0)


def resample_to_grid(layer: RasterLayer, grid: Grid, *, resampling: Resampling) -> np.ndarray:
    """Resample band 1 of a raster onto the grid.

    Parameters
    ----------
    layer : RasterLayer
        A checked DEM or population raster.
    grid : Grid
    resampling : rasterio.enums.Resampling
        ``bilinear`` for elevations; ``sum`` for counts such as population, so the
        grid's total equals the raster's over the same area.

    Returns
    -------
    numpy.ndarray
        float32 (height, width); NaN where the raster has no data.
    """
    out = np.full(grid.shape, np.nan, dtype="float32")
    with rasterio.open(layer.path) as src:
        rasterio.warp.reproject(
            source=rasterio.band(src, 1), destination=out,
            src_crs=layer.rasterio_crs, src_nodata=src.nodata,
            dst_transform=grid.transform, dst_crs=grid.rasterio_crs, dst_nodata=np.nan,
            resampling=resampling)
    return out
