"""The cells as the coverage models see them: every radio parameter filled in.

Sites come one row per cell, with optional azimuth, beamwidth, height, EIRP and
frequency.  Missing values take the configured defaults per technology, each cell gets
its propagation environment (urban / suburban / rural) and metric coordinates, and the
table records which values were defaults so the run record can say so.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS, Transformer
from rasterio.windows import Window

from covgap.config import CoverageConfig
from covgap.io.rasters import RasterLayer

__all__ = ["ENVIRONMENTS", "environment_from_density", "prepare_cells", "site_positions"]

ENVIRONMENTS = ("rural", "suburban", "urban")

#: The population density is taken over a 2 km x 2 km square centred on the site,
#: about the area a rural macro cell's nearest ring serves.
DENSITY_BOX_M = 2000.0
# WGS84's mean metres per degree of latitude; good to 0.5% over Vietnam.
_METRES_PER_DEGREE = 111_320.0


def prepare_cells(sites: gpd.GeoDataFrame, config: CoverageConfig, metric_crs: CRS, *,
                  density_per_km2: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """Return the cells in the metric CRS with every radio parameter filled in.

    Parameters
    ----------
    sites : GeoDataFrame
        Checked sites (EPSG:4326), one row per cell (see :func:`covgap.io.read_sites`).
    config : CoverageConfig
        Defaults per technology and the environment rules.
    metric_crs : pyproj.CRS
        The run's projected CRS; the result is in it.
    density_per_km2 : array of float, optional
        Population density around each cell's site (people per km²); cells at or above
        ``config.urban_density_per_km2`` are urban, the rest rural.  Without it (and
        without an ``environment`` column) every cell has ``config.environment``.

    Returns
    -------
    GeoDataFrame
        In ``metric_crs`` with ``x``, ``y`` (metres), ``height_m``, ``eirp_dbm``,
        ``frequency_mhz``, ``beamwidth_deg`` (NaN for omni cells), ``azimuth_deg``,
        ``environment`` and ``defaulted`` (the names of the parameters that took
        defaults, ";"-separated).
    """
    cells = sites.to_crs(metric_crs)
    cells = cells.reset_index(drop=True)
    tech = cells["technology"].astype(str)
    filled: list[tuple[str, np.ndarray]] = []  # (parameter, the cells that took its default)

    def fill(column: str, values: pd.Series) -> None:
        missing = cells[column].isna() if column in cells else pd.Series(True, cells.index)
        if column not in cells:
            cells[column] = np.nan
        cells.loc[missing, column] = values[missing]
        filled.append((column, missing.to_numpy(dtype=bool)))

    fill("height_m", pd.Series(config.default_height_m, index=cells.index))
    fill("eirp_dbm", tech.map(config.default_eirp_dbm).astype(float))
    fill("frequency_mhz", tech.map(config.default_frequency_mhz).astype(float))
    sector = cells["azimuth_deg"].notna()
    missing_bw = sector & cells["beamwidth_deg"].isna()
    cells.loc[missing_bw, "beamwidth_deg"] = config.default_beamwidth_deg
    filled.append(("beamwidth_deg", missing_bw.to_numpy(dtype=bool)))
    cells["defaulted"] = _defaulted(filled, cells.index)
    cells["environment"] = _environment(cells, config, density_per_km2)
    geoms = cells.geometry.to_numpy()
    cells["x"] = shapely.get_x(geoms)
    cells["y"] = shapely.get_y(geoms)
    return cells


def _defaulted(filled: list[tuple[str, np.ndarray]], index: pd.Index) -> pd.Series:
    """Return the ";"-separated names of the parameters each cell took by default.

    Each combination of defaulted parameters is spelled once (a cell's combination is a
    bit per parameter), not once per cell.
    """
    code = np.zeros(len(index), dtype=np.int64)
    for bit, (_name, mask) in enumerate(filled):
        code |= mask.astype(np.int64) << bit
    spelled = np.array([";".join(name for bit, (name, _m) in enumerate(filled)
                                 if combo >> bit & 1)
                        for combo in range(1 << len(filled))], dtype=object)
    return pd.Series(spelled[code], index=index)


def site_positions(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the distinct positions of cells, the first cell at each and each cell's.

    Cells of one site share a position.  The answer is ``np.unique`` of the (x, y) rows
    (``axis=0``: sorted by x, then y), found ten times as fast by sorting each pair as
    one complex number, which orders the same way.

    Parameters
    ----------
    x, y : arrays of float
        Finite cell coordinates (any CRS).

    Returns
    -------
    positions : numpy.ndarray
        (n, 2) distinct positions, sorted by x then y.
    first : numpy.ndarray
        The first cell at each position.
    inverse : numpy.ndarray
        Each cell's position, an index into ``positions``.

    Examples
    --------
    >>> pos, first, inv = site_positions(np.array([5.0, 1.0, 5.0]), np.array([2.0, 9.0, 2.0]))
    >>> pos.tolist(), first.tolist(), inv.tolist()
    ([[1.0, 9.0], [5.0, 2.0]], [1, 0], [1, 0, 1])
    """
    pairs = np.empty(len(x), dtype=np.complex128)
    pairs.real, pairs.imag = x, y
    unique, first, inverse = np.unique(pairs, return_index=True, return_inverse=True)
    return np.column_stack([unique.real, unique.imag]), first, inverse.ravel()


def environment_from_density(density_per_km2: np.ndarray, urban_density_per_km2: float
                             ) -> np.ndarray:
    """Return "urban" where the density reaches the threshold, else "rural".

    Examples
    --------
    >>> environment_from_density(np.array([50.0, 2500.0]), 1000.0).tolist()
    ['rural', 'urban']
    """
    return np.where(np.asarray(density_per_km2) >= urban_density_per_km2, "urban", "rural")


def _environment(cells: gpd.GeoDataFrame, config: CoverageConfig,
                 density_per_km2: np.ndarray | None) -> pd.Series:
    if density_per_km2 is not None:
        env = pd.Series(environment_from_density(density_per_km2,
                                                 config.urban_density_per_km2),
                        index=cells.index)
    else:
        env = pd.Series(config.environment, index=cells.index)
    if "environment" in cells:
        given = cells["environment"].astype("string").str.strip().str.casefold()
        given = given.where(given.isin(ENVIRONMENTS))
        env = given.fillna(env)
    return env.astype(str)


def density_at(population: RasterLayer, x: np.ndarray, y: np.ndarray, crs: CRS
               ) -> np.ndarray:
    """Return the population density (people per km²) in a 2 km square around each point.

    The square is summed on the population raster's own grid, with the cells it cuts
    counted by the share of their area inside (people spread evenly over a cell): an
    integral image read at fractional cell positions by bilinear interpolation.  Only
    the part of the raster around the points is read, and nothing is resampled.

    Parameters
    ----------
    population : RasterLayer
        A checked population raster (people per cell), projected or geographic.
    x, y : arrays of float
        The points (sites), metres in ``crs``.
    crs : pyproj.CRS
        The points' CRS.

    Returns
    -------
    numpy.ndarray
        People per km²; the part of a square off the raster counts as empty.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if x.size == 0:
        return np.zeros(0)
    px, py = Transformer.from_crs(crs, population.crs, always_xy=True).transform(x, y)
    px, py = np.asarray(px, float), np.asarray(py, float)
    half = DENSITY_BOX_M / 2
    if population.crs.is_geographic:  # metres to degrees at each point's latitude
        hy = np.full(px.shape, half / _METRES_PER_DEGREE)
        hx = hy / np.cos(np.radians(np.clip(py, -89.0, 89.0)))
    else:
        hx = hy = np.full(px.shape, half)
    inv = ~population.transform
    corners = [inv * (px + sx * hx, py + sy * hy) for sx in (-1, 1) for sy in (-1, 1)]
    cols = np.concatenate([c[0] for c in corners])
    rows = np.concatenate([c[1] for c in corners])
    r0 = int(np.clip(np.floor(rows.min()), 0, population.height))
    r1 = int(np.clip(np.ceil(rows.max()), 0, population.height))
    c0 = int(np.clip(np.floor(cols.min()), 0, population.width))
    c1 = int(np.clip(np.ceil(cols.max()), 0, population.width))
    if r1 <= r0 or c1 <= c0:
        return np.zeros(x.size)
    with rasterio.open(population.path) as src:
        pop = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
    pop = np.clip(pop.filled(0.0).astype("float64"), 0.0, None)
    pop[~np.isfinite(pop)] = 0.0
    sat = np.zeros((pop.shape[0] + 1, pop.shape[1] + 1))
    sat[1:, 1:] = pop.cumsum(0).cumsum(1)

    def below(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """People above row r and left of column c (fractional, window pixels)."""
        r = np.clip(r - r0, 0, pop.shape[0])
        c = np.clip(c - c0, 0, pop.shape[1])
        i = np.minimum(np.floor(r).astype(int), pop.shape[0] - 1)
        j = np.minimum(np.floor(c).astype(int), pop.shape[1] - 1)
        fr, fc = r - i, c - j
        return ((1 - fr) * (1 - fc) * sat[i, j] + (1 - fr) * fc * sat[i, j + 1]
                + fr * (1 - fc) * sat[i + 1, j] + fr * fc * sat[i + 1, j + 1])

    n = x.size
    (ca, ra), (cb, rb) = (cols[:n], rows[:n]), (cols[3 * n:], rows[3 * n:])
    r_lo, r_hi = np.minimum(ra, rb), np.maximum(ra, rb)
    c_lo, c_hi = np.minimum(ca, cb), np.maximum(ca, cb)
    total = below(r_hi, c_hi) - below(r_lo, c_hi) - below(r_hi, c_lo) + below(r_lo, c_lo)
    return np.maximum(total, 0.0) / (DENSITY_BOX_M / 1000.0) ** 2
