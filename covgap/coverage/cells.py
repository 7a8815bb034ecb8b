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
from pyproj import CRS

from covgap.config import CoverageConfig

__all__ = ["ENVIRONMENTS", "environment_from_density", "prepare_cells"]

ENVIRONMENTS = ("rural", "suburban", "urban")

#: The population density is taken over a 2 km x 2 km square centred on the site,
#: about the area a rural macro cell's nearest ring serves.
DENSITY_BOX_M = 2000.0


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
    defaulted = pd.Series("", index=cells.index)

    def fill(column: str, values: pd.Series) -> None:
        nonlocal defaulted
        missing = cells[column].isna() if column in cells else pd.Series(True, cells.index)
        if column not in cells:
            cells[column] = np.nan
        cells.loc[missing, column] = values[missing]
        defaulted = defaulted.where(~missing, defaulted + column + ";")

    fill("height_m", pd.Series(config.default_height_m, index=cells.index))
    fill("eirp_dbm", tech.map(config.default_eirp_dbm).astype(float))
    fill("frequency_mhz", tech.map(config.default_frequency_mhz).astype(float))
    sector = cells["azimuth_deg"].notna()
    missing_bw = sector & cells["beamwidth_deg"].isna()
    cells.loc[missing_bw, "beamwidth_deg"] = config.default_beamwidth_deg
    defaulted = defaulted.where(~missing_bw, defaulted + "beamwidth_deg;")
    cells["defaulted"] = defaulted.str.rstrip(";")
    cells["environment"] = _environment(cells, config, density_per_km2)
    cells["x"] = cells.geometry.x
    cells["y"] = cells.geometry.y
    return cells


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


def density_at(points_x: np.ndarray, points_y: np.ndarray, population: np.ndarray,
               transform: object, cell_size_m: float) -> np.ndarray:
    """Return the population density (people per km²) in a 2 km square around each point.

    Parameters
    ----------
    points_x, points_y : arrays of float
        Map coordinates of the sites in the grid's CRS, metres.
    population : 2-D array
        People per grid cell (NaN = none).
    transform : affine.Affine
        The grid's transform.
    cell_size_m : float
        The grid's cell size, metres.

    Returns
    -------
    numpy.ndarray
        People per km²; 0 for points off the grid.
    """
    pop = np.nan_to_num(population.astype("float64"), nan=0.0)
    # summed-area table: any box sum in four look-ups
    sat = np.zeros((pop.shape[0] + 1, pop.shape[1] + 1))
    sat[1:, 1:] = pop.cumsum(0).cumsum(1)
    half = max(1, round(DENSITY_BOX_M / 2 / cell_size_m))
    col, row = ~transform * (np.asarray(points_x), np.asarray(points_y))
    r = np.floor(row).astype(int)
    c = np.floor(col).astype(int)
    r0 = np.clip(r - half, 0, pop.shape[0])
    r1 = np.clip(r + half + 1, 0, pop.shape[0])
    c0 = np.clip(c - half, 0, pop.shape[1])
    c1 = np.clip(c + half + 1, 0, pop.shape[1])
    total = sat[r1, c1] - sat[r0, c1] - sat[r1, c0] + sat[r0, c0]
    area_km2 = (2 * half + 1) ** 2 * (cell_size_m / 1000.0) ** 2
    return total / area_km2
