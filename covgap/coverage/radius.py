"""The radius model: a disc, or a sector shaped by the antenna pattern, per cell.

The simplest model a planner can explain: each cell covers everything within its
technology's service radius (``[coverage.radius_m]``, or ``radius_urban_m`` for urban
sites).  A sector (azimuth given) reaches the full radius on its boresight and less off
it: at an angle where the 3GPP pattern attenuates A dB, the reach is
``radius x 10^(-A / (10 n))`` with n the path-loss exponent, the distance at which a
power-law path loss gives back those A dB.  Terrain is ignored, which is exactly why
valleys behind ridges come out covered here and not in the terrain model.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import shapely

from covgap.config import CoverageConfig
from covgap.coverage.propagation import antenna_gain_db
from covgap.coverage.result import ModelOutput

__all__ = ["cell_radius_m", "footprints", "radius_coverage"]

#: Vertices of a sector's outline: one every 2.5 degrees.
_SECTOR_STEPS = 144
#: A disc is a buffer with 32 segments per quarter circle (area within 0.1% of pi r^2).
_DISC_QUAD_SEGS = 32


def cell_radius_m(cells: gpd.GeoDataFrame, config: CoverageConfig) -> np.ndarray:
    """Return the service radius of each cell, metres, from technology and environment.

    Urban cells use ``radius_urban_m`` when it has their technology; every other cell
    uses ``radius_m``.
    """
    tech = cells["technology"].astype(str)
    radius = tech.map(config.radius_m).astype(float).to_numpy(copy=True)
    if config.radius_urban_m:
        urban = (cells["environment"] == "urban").to_numpy()
        urban_r = tech.map(config.radius_urban_m).astype(float).to_numpy()
        use = urban & ~np.isnan(urban_r)
        radius[use] = urban_r[use]
    return radius


def footprints(cells: gpd.GeoDataFrame, radius_m: np.ndarray, *,
               pathloss_exponent: float = 3.5) -> np.ndarray:
    """Coverage polygon of each cell in the cells' metric CRS.

    Parameters
    ----------
    cells : GeoDataFrame
        Prepared cells (:func:`covgap.coverage.cells.prepare_cells`) with ``x``, ``y``
        in metres, ``azimuth_deg`` (NaN for omni) and ``beamwidth_deg``.
    radius_m : array of float
        Service radius on boresight, metres.
    pathloss_exponent : float
        How fast the reach shrinks off boresight (see the module docstring).

    Returns
    -------
    numpy.ndarray of shapely Polygons
    """
    x = cells["x"].to_numpy(float)
    y = cells["y"].to_numpy(float)
    az = cells["azimuth_deg"].to_numpy(float)
    bw = cells["beamwidth_deg"].to_numpy(float)
    radius_m = np.asarray(radius_m, float)
    out = np.empty(len(cells), dtype=object)
    omni = np.isnan(az)
    if omni.any():
        out[omni] = shapely.buffer(shapely.points(x[omni], y[omni]), radius_m[omni],
                                   quad_segs=_DISC_QUAD_SEGS)
    sector = ~omni
    if sector.any():
        bearings = np.linspace(0.0, 360.0, _SECTOR_STEPS, endpoint=False)
        gain = antenna_gain_db(bearings[None, :], azimuth_deg=az[sector, None],
                               beamwidth_deg=bw[sector, None])
        reach = radius_m[sector, None] * 10.0 ** (gain / (10.0 * pathloss_exponent))
        theta = np.radians(bearings)[None, :]
        px = x[sector, None] + reach * np.sin(theta)
        py = y[sector, None] + reach * np.cos(theta)
        ring = np.stack([px, py], axis=-1)
        ring = np.concatenate([ring, ring[:, :1]], axis=1)  # close the rings
        out[sector] = shapely.polygons(ring)
    return out


def radius_coverage(cells: gpd.GeoDataFrame, config: CoverageConfig) -> ModelOutput:
    """Run the radius model.

    Parameters
    ----------
    cells : GeoDataFrame
        Prepared cells in the metric CRS.
    config : CoverageConfig

    Returns
    -------
    ModelOutput
        ``cells``: the cells with ``radius_m`` and their footprint polygons as geometry;
        ``areas``: one row per (operator, technology), the union of its cells'
        footprints.
    """
    radius = cell_radius_m(cells, config)
    shapes = footprints(cells, radius, pathloss_exponent=config.pathloss_exponent)
    out = cells.copy()
    out["radius_m"] = radius
    out = out.set_geometry(gpd.GeoSeries(shapes, index=cells.index, crs=cells.crs))
    parts = {key: g.to_numpy() for key, g in
             out.groupby(["operator", "technology"], sort=True).geometry}
    # GEOS releases the GIL: the operators' unions run side by side, largest first
    order = sorted(parts, key=lambda k: -len(parts[k]))
    with ThreadPoolExecutor(max_workers=min(len(order), os.cpu_count() or 1) or 1) as pool:
        unions = dict(zip(order, pool.map(shapely.union_all, (parts[k] for k in order)),
                          strict=True))
    keys = list(parts)  # sorted by operator, technology
    areas = gpd.GeoDataFrame(
        {"operator": [k[0] for k in keys], "technology": [k[1] for k in keys]},
        geometry=[unions[k] for k in keys], crs=cells.crs)
    return ModelOutput(cells=out, areas=areas)
