"""The pathloss and terrain models: best-server signal rasters from every cell.

For each cell, the received signal on every grid cell within its reach is

    signal (dBm) = EIRP - reference_signal_db - path loss + antenna pattern [- diffraction]

with the empirical path loss of :func:`covgap.coverage.propagation.pathloss_db`
(COST-231/Okumura-Hata below 3 GHz, 3GPP TR 38.901 RMa/UMa for 5G), the 3GPP parabolic
horizontal pattern for sectors, and, in the terrain model, the knife-edge diffraction
loss of the terrain profile from the antenna to a receiver 1.5 m above the ground
(:mod:`covgap.coverage.los`) wherever the terrain blocks the line of sight.  Hata is an
empirical median over ordinary ground, so clear paths take no diffraction loss (that
would count smooth ground twice); 5G uses TR 38.901's LOS formula in the terrain model,
since there the terrain itself decides what is obstructed.  The terrain model also
keeps the signal without the terrain losses, so a gap can be explained as a terrain
shadow of a named site.

Cells at one location with the same height, frequency, technology and environment
share their path loss and terrain; only the antenna pattern differs between sectors.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
from numba import njit, prange

from covgap.config import CoverageConfig
from covgap.coverage.grid import Grid
from covgap.coverage.propagation import pathloss_db

__all__ = ["SIGNAL_FLOOR_BELOW_THRESHOLD_DB", "service_distance_m", "signal_coverage"]

log = logging.getLogger(__name__)

#: Signals are computed down to this many dB below the "covered" threshold, so maps
#: show where coverage is close; weaker signals are not computed at all.
SIGNAL_FLOOR_BELOW_THRESHOLD_DB = 10.0

#: Path loss is tabulated against distance at this step (metres) and interpolated:
#: the loss changes by < 0.05 dB between table points beyond 100 m.
_TABLE_STEP_M = 5.0

Progress = Callable[[int, int], None]


def service_distance_m(groups: pd.DataFrame, *, floor_dbm: float, max_distance_m: float,
                       rx_height_m: float, terrain: bool) -> np.ndarray:
    """Distance at which each group's strongest possible signal falls to ``floor_dbm``.

    Terrain only adds loss and the pattern only removes gain, so no grid cell beyond
    this distance can receive ``floor_dbm`` from the group's cells.

    Parameters
    ----------
    groups : DataFrame
        One row per loss group: ``eirp_dbm`` (the strongest cell's), ``ref_db``,
        ``frequency_mhz``, ``height_m``, ``technology``, ``environment``.
    floor_dbm : float
        Weakest signal computed, dBm.
    max_distance_m : float
        Upper bound, metres.
    rx_height_m : float
        Receiver height, metres.
    terrain : bool
        Whether the terrain model's (LOS) 5G path loss applies.

    Returns
    -------
    numpy.ndarray
        Metres, between 10 m and ``max_distance_m``.
    """
    d = np.geomspace(10.0, max_distance_m, 512)[None, :]
    out = np.full(len(groups), float(max_distance_m))
    for env, part in groups.groupby("environment", sort=False):
        loss = pathloss_db(d, part["frequency_mhz"].to_numpy()[:, None],
                           tx_height_m=part["height_m"].to_numpy()[:, None],
                           rx_height_m=rx_height_m, environment=env,
                           technology=part["technology"].to_numpy()[:, None],
                           los=True if terrain else None)
        budget = (part["eirp_dbm"] - part["ref_db"] - floor_dbm).to_numpy()[:, None]
        beyond = loss > budget
        first = np.where(beyond.any(axis=1), beyond.argmax(axis=1), d.shape[1] - 1)
        out[np.flatnonzero(groups.index.isin(part.index))] = d[0, first]
    return out


def _loss_table(row: pd.Series, radius_m: float, rx_height_m: float, terrain: bool
                ) -> tuple[np.ndarray, np.ndarray]:
    dist = np.arange(0.0, radius_m + 2 * _TABLE_STEP_M, _TABLE_STEP_M)
    loss = pathloss_db(dist, row["frequency_mhz"], tx_height_m=row["height_m"],
                       rx_height_m=rx_height_m, environment=row["environment"],
                       technology=row["technology"], los=True if terrain else None)
    return dist, np.asarray(loss, dtype="float64")


def signal_coverage(
    cells: gpd.GeoDataFrame,
    grid: Grid,
    config: CoverageConfig,
    *,
    dem: np.ndarray | None = None,
    progress: Progress | None = None,
) -> dict[str, dict]:
    """Compute best-server signal rasters for every operator and technology.

    Parameters
    ----------
    cells : GeoDataFrame
        Prepared cells (:func:`covgap.coverage.cells.prepare_cells`) in ``grid.crs``.
    grid : Grid
        The analysis grid (metric CRS, square cells).
    config : CoverageConfig
        Threshold, receiver height, reference-signal offsets, k factor, diffraction
        method, maximum distance.
    dem : 2-D array, optional
        Elevations on ``grid`` in metres (NaN nodata).  Given: the terrain model.
    progress : callable, optional
        ``progress(done, total)`` after each loss group.

    Returns
    -------
    dict
        ``signal`` and ``server`` (and, with a DEM, ``clear_signal`` and
        ``clear_server``): dicts keyed by (operator, technology) of float32 dBm (NaN:
        below the floor) and int32 cell rows (-1: none).
    """
    terrain = dem is not None
    if terrain:
        from covgap.coverage.los import terrain_window
    floor = config.min_rsrp_dbm - SIGNAL_FLOOR_BELOW_THRESHOLD_DB
    cells = cells.copy()
    cells["ref_db"] = cells["technology"].map(config.reference_signal_db).astype(float)
    key_cols = ["x_key", "y_key", "height_m", "frequency_mhz", "technology", "environment"]
    # cells within 1 m share a location: one loss field serves them all
    cells["x_key"] = cells["x"].round(0)
    cells["y_key"] = cells["y"].round(0)
    cells["group"] = cells.groupby(key_cols, sort=False).ngroup()
    groups = cells.groupby("group").agg(
        x=("x", "mean"), y=("y", "mean"), height_m=("height_m", "first"),
        frequency_mhz=("frequency_mhz", "first"), technology=("technology", "first"),
        environment=("environment", "first"), eirp_dbm=("eirp_dbm", "max"),
        ref_db=("ref_db", "first"))
    groups["radius_m"] = service_distance_m(
        groups, floor_dbm=floor, max_distance_m=config.max_distance_m,
        rx_height_m=config.rx_height_m, terrain=terrain)

    best: dict[tuple[str, str], np.ndarray] = {}
    serve: dict[tuple[str, str], np.ndarray] = {}
    clear: dict[tuple[str, str], np.ndarray] = {}
    clear_serve: dict[tuple[str, str], np.ndarray] = {}
    for key in sorted(set(zip(cells["operator"], cells["technology"], strict=True))):
        best[key] = np.full(grid.shape, -np.inf, dtype="float32")
        serve[key] = np.full(grid.shape, -1, dtype="int32")
        if terrain:
            clear[key] = np.full(grid.shape, -np.inf, dtype="float32")
            clear_serve[key] = np.full(grid.shape, -1, dtype="int32")

    res = grid.cell_size_m
    west, north = grid.transform.c, grid.transform.f
    members = cells.groupby("group").indices
    eirp_ref = (cells["eirp_dbm"] - cells["ref_db"]).to_numpy(float)
    azimuth = cells["azimuth_deg"].to_numpy(float)
    beamwidth = cells["beamwidth_deg"].to_numpy(float)
    operators = cells["operator"].to_numpy()
    technologies = cells["technology"].to_numpy()
    no_terrain = np.empty((0, 0), dtype="float32")
    total = len(groups)
    for done, (gid, g) in enumerate(groups.iterrows(), start=1):
        radius = float(g["radius_m"])
        row_f, col_f = grid.rowcol(g["x"], g["y"])
        row_f, col_f = float(row_f), float(col_f)
        if terrain:
            tw = terrain_window(dem, cell_size_m=res, site_row=row_f, site_col=col_f,
                                tx_height_m=float(g["height_m"]),
                                rx_height_m=config.rx_height_m,
                                frequency_mhz=float(g["frequency_mhz"]), radius_m=radius,
                                k_factor=config.k_factor, method=config.diffraction)
            r0, c0 = tw.row0, tw.col0
            h, w = tw.loss_db.shape
            # diffraction counts only where the terrain blocks the line of sight: on a
            # clear path the empirical model already holds the ground's effect (see
            # the Limits of covgap.coverage.los)
            extra = np.where(tw.los, np.float32(0.0), tw.loss_db).astype("float32")
        else:
            span = math.ceil(radius / res) + 1
            r0 = max(0, math.floor(row_f) - span)
            c0 = max(0, math.floor(col_f) - span)
            h = min(grid.height, math.floor(row_f) + span + 1) - r0
            w = min(grid.width, math.floor(col_f) + span + 1) - c0
            extra = no_terrain
        if h <= 0 or w <= 0:
            continue
        _, table_loss = _loss_table(g, radius, config.rx_height_m, terrain)
        idx = members[gid]
        # co-located cells of several operators share the loss but not the rasters
        for key in set(zip(operators[idx], technologies[idx], strict=True)):
            sub = idx[(operators[idx] == key[0]) & (technologies[idx] == key[1])]
            _accumulate(
                best[key], serve[key], clear.get(key, best[key]),
                clear_serve.get(key, serve[key]), terrain, r0, c0, h, w, west, north, res,
                float(g["x"]), float(g["y"]), radius, _TABLE_STEP_M, table_loss, extra,
                eirp_ref[sub], azimuth[sub], beamwidth[sub], sub.astype("int32"), floor)
        if progress:
            progress(done, total)

    out = {"signal": _finish(best), "server": serve}
    if terrain:
        out["clear_signal"] = _finish(clear)
        out["clear_server"] = clear_serve
    return out


@njit(cache=True, nogil=True, parallel=True)
def _accumulate(best, server, clear, clear_server, terrain, r0, c0, h, w, west, north, res,
                sx, sy, radius, step, table, extra, eirp_ref, azimuth, beamwidth, index,
                floor):  # pragma: no cover - compiled; tested through signal_coverage
    """Add a group's cells to the best-server rasters over one window.

    For every grid cell of the window within ``radius`` of the site: the path loss by
    linear interpolation in ``table`` (one value every ``step`` metres), the 3GPP
    parabolic pattern of each sector (TR 36.814 Table A.2.1.1-2, A_m = 25 dB), and with
    ``terrain`` the diffraction loss ``extra``; the strongest signal at or above
    ``floor`` wins, and ``clear`` keeps the winner without terrain.
    """
    n = eirp_ref.shape[0]
    last = table.shape[0] - 1
    sectors = False
    for s in range(n):
        if not math.isnan(azimuth[s]):
            sectors = True
    r2 = radius * radius
    for i in prange(h):  # rows are independent: each writes its own row of the rasters
        r = r0 + i
        dy = north - (r + 0.5) * res - sy
        if dy * dy > r2:
            continue
        # only the columns inside the disc of this row
        half = math.sqrt(r2 - dy * dy)
        j0 = max(0, math.floor((sx - half - west) / res - 0.5) - c0)
        j1 = min(w, math.ceil((sx + half - west) / res - 0.5) - c0 + 1)
        for j in range(j0, j1):
            c = c0 + j
            dx = west + (c + 0.5) * res - sx
            d = math.sqrt(dx * dx + dy * dy)
            if d > radius:
                continue
            ex = 0.0
            if terrain:
                ex = extra[i, j]
                if math.isnan(ex):
                    continue
            pos = d / step
            k = int(pos)
            if k >= last:
                loss = table[last]
            else:
                loss = table[k] + (table[k + 1] - table[k]) * (pos - k)
            bearing = 0.0
            if sectors:
                bearing = math.degrees(math.atan2(dx, dy))
            for s in range(n):
                gain = 0.0
                if not math.isnan(azimuth[s]):
                    phi = (bearing - azimuth[s] + 540.0) % 360.0 - 180.0
                    gain = -min(12.0 * (phi / beamwidth[s]) ** 2, 25.0)
                level = eirp_ref[s] - loss + gain
                if terrain and level >= floor and level > clear[r, c]:
                    clear[r, c] = level
                    clear_server[r, c] = index[s]
                level -= ex
                if level >= floor and level > best[r, c]:
                    best[r, c] = level
                    server[r, c] = index[s]


def _finish(best: dict[tuple[str, str], np.ndarray]) -> dict[tuple[str, str], np.ndarray]:
    for arr in best.values():
        arr[np.isneginf(arr)] = np.nan
    return best


def signal_at_points(
    sites: pd.DataFrame,
    x: np.ndarray,
    y: np.ndarray,
    grid: Grid,
    config: CoverageConfig,
    *,
    dem: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Signal of each omni site at given points, by the pathloss or terrain model.

    What-if sites (candidates) are judged by the same model as the real ones: the same
    path loss, and over the DEM the same line of sight and diffraction.

    Parameters
    ----------
    sites : DataFrame
        One row per omni site: ``x``, ``y`` (metres, ``grid.crs``), ``height_m``,
        ``eirp_dbm``, ``frequency_mhz``, ``technology``, ``environment``.
    x, y : arrays of float
        The points (e.g. villages), metres in ``grid.crs``.
    grid : Grid
    config : CoverageConfig
    dem : 2-D array, optional
        The DEM on ``grid``: the terrain model.

    Returns
    -------
    list of (indices, dbm)
        Per site, the points within its reach and their signal, dBm.
    """
    terrain = dem is not None
    if terrain:
        from covgap.coverage.los import terrain_window
    floor = config.min_rsrp_dbm - SIGNAL_FLOOR_BELOW_THRESHOLD_DB
    sites = sites.copy()
    sites["ref_db"] = sites["technology"].map(config.reference_signal_db).astype(float)
    radius = service_distance_m(sites, floor_dbm=floor, max_distance_m=config.max_distance_m,
                                rx_height_m=config.rx_height_m, terrain=terrain)
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    prow, pcol = grid.rowcol(x, y)
    prow = np.floor(prow).astype(int)
    pcol = np.floor(pcol).astype(int)
    out = []
    for k, (_, s) in enumerate(sites.iterrows()):
        r = float(radius[k])
        d = np.hypot(x - s["x"], y - s["y"])
        near = np.flatnonzero(d <= r)
        if near.size == 0:
            out.append((near, np.empty(0)))
            continue
        _, table = _loss_table(s, r, config.rx_height_m, terrain)
        loss = np.interp(d[near], np.arange(table.size) * _TABLE_STEP_M, table)
        level = s["eirp_dbm"] - s["ref_db"] - loss
        if terrain:
            row_f, col_f = grid.rowcol(s["x"], s["y"])
            tw = terrain_window(dem, cell_size_m=grid.cell_size_m, site_row=float(row_f),
                                site_col=float(col_f), tx_height_m=float(s["height_m"]),
                                rx_height_m=config.rx_height_m,
                                frequency_mhz=float(s["frequency_mhz"]), radius_m=r,
                                k_factor=config.k_factor, method=config.diffraction)
            h, w = tw.los.shape
            i = prow[near] - tw.row0
            j = pcol[near] - tw.col0
            inside = (i >= 0) & (i < h) & (j >= 0) & (j < w)
            extra = np.full(near.size, np.nan)
            ii, jj = i[inside], j[inside]
            extra[inside] = np.where(tw.los[ii, jj], 0.0, tw.loss_db[ii, jj])
            level = level - extra  # NaN (off the DEM, out of reach) stays uncovered
        keep = ~np.isnan(level)
        out.append((near[keep], level[keep]))
    return out
