"""The pathloss and terrain models: best-server signal rasters from every cell.

For each cell, the received signal on every grid cell within its reach is

    signal (dBm) = EIRP - reference_signal_db - path loss + antenna pattern [- diffraction]

with the empirical path loss of :func:`covgap.coverage.propagation.pathloss_db`
(COST-231/Okumura-Hata below 3 GHz, 3GPP TR 38.901 RMa/UMa for 5G) and the 3GPP
parabolic horizontal pattern for sectors.  The terrain model changes two things, both
checked against Longley-Rice (``benchmarks/bench_itm.py``):

- the path loss is taken at the antenna's effective height above the average terrain
  of the path (:func:`covgap.coverage.propagation.effective_height_m`), as the
  empirical models were fitted, not at the mast height: a mast on a hilltop serves the
  plain below as a tall antenna;
- it adds what the terrain's knife edges take beyond smooth ground
  (:attr:`covgap.coverage.los.TerrainWindow.excess_db`: ITU-R P.526 Deygout on every
  path, continuous through the line-of-sight boundary, less the same over smooth
  ground, which the empirical models already hold).

5G uses TR 38.901's LOS formula in the terrain model, since there the terrain itself
decides what is obstructed.  Rays are cast to the square of ``[coverage]
max_distance_m`` and the loss table spans it too, so a cell's value does not depend on
the window or tile that computed it.  The terrain model also keeps the signal without
diffraction (at the same effective height), so a gap can be explained as a terrain
shadow of a named site.

Cells at one location with the same height, frequency, technology and environment
share their path loss and terrain; only the antenna pattern differs between sectors.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numba import njit, prange

from covgap.compute import map_ordered
from covgap.config import ComputeConfig, CoverageConfig
from covgap.coverage.grid import Grid
from covgap.coverage.los import (
    TerrainWindow,
    WindowBound,
    terrain_window,
    terrain_windows,
    window_bounds,
)
from covgap.coverage.losstable import LossGrid, interpolate_loss, pattern_gain_db
from covgap.coverage.propagation import effective_height_m, pathloss_db
from covgap.coverage.result import ModelOutput
from covgap.progress import Tick

__all__ = ["SIGNAL_FLOOR_BELOW_THRESHOLD_DB", "service_distance_m", "signal_coverage"]

log = logging.getLogger(__name__)

#: Signals are computed down to this many dB below the "covered" threshold, so maps
#: show where coverage is close; weaker signals are not computed at all.
SIGNAL_FLOOR_BELOW_THRESHOLD_DB = 10.0

#: Path loss is tabulated against distance at this step (metres) and interpolated:
#: the loss changes by < 0.05 dB between table points beyond 100 m.
_TABLE_STEP_M = 5.0



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


def highest_effective_m(groups: pd.DataFrame, grid: Grid, dem: np.ndarray) -> np.ndarray:
    """Highest effective height each group's antenna can have, metres: over the lowest ground.

    The terrain model gives the path loss the antenna's height above the average terrain
    of each path (:func:`~covgap.coverage.propagation.effective_height_m`), so a mast on
    a hilltop reaches farther than its height alone says; its service distance is taken
    at this height, an upper bound over every path.
    """
    row, col = grid.rowcol(groups["x"].to_numpy(), groups["y"].to_numpy())
    r = np.clip(np.floor(row).astype(int), 0, grid.height - 1)
    c = np.clip(np.floor(col).astype(int), 0, grid.width - 1)
    ground = dem[r, c].astype(float)
    low = float(np.nanmin(dem)) if np.isfinite(dem).any() else np.nan
    mast = groups["height_m"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        top = np.asarray(effective_height_m(mast, ground, np.full(mast.shape, low)))
    return np.where(np.isfinite(top), top, mast)


def _reach(groups: pd.DataFrame, grid: Grid, config: CoverageConfig, floor_dbm: float,
           dem: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Service distance (metres) and the height it is taken at, per group.

    Over a DEM the effective height can exceed the mast, so the distance is taken at the
    highest one (:func:`highest_effective_m`); without one, at the mast.
    """
    top = (highest_effective_m(groups, grid, dem) if dem is not None
           else groups["height_m"].to_numpy(float))
    radius = service_distance_m(groups.assign(height_m=top), floor_dbm=floor_dbm,
                                max_distance_m=config.max_distance_m,
                                rx_height_m=config.rx_height_m, terrain=dem is not None)
    return radius, top


def _effective_heights(tw: TerrainWindow, dem: np.ndarray, origin: tuple[int, int],
                       row_f: float, col_f: float, mast_m: float) -> np.ndarray:
    """Effective antenna height over a terrain window, metres (float64)."""
    ground = float(dem[int(row_f) - origin[0], int(col_f) - origin[1]])
    return np.asarray(effective_height_m(mast_m, ground, tw.mean_elevation_m), "float64")


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
    progress: Tick | None = None,
    compute: ComputeConfig | None = None,
) -> ModelOutput:
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
        ``progress(done, total)`` after each loss group (each tile with Dask).
    compute : ComputeConfig, optional
        Tile size and scheduler (``[compute]``); default: 50 km tiles in this process.
        Every scheduler gives the same rasters, bit for bit.

    Returns
    -------
    ModelOutput
        ``signal`` and ``server`` (and, with a DEM, ``clear_signal`` and
        ``clear_server``): dicts keyed by (operator, technology) of float32 dBm (NaN:
        below the floor) and int32 cell rows (-1: none); ``parameters["tiles"]``: how
        many tiles.
    """
    terrain = dem is not None
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
    groups["radius_m"], groups["top_m"] = _reach(groups, grid, config, floor, dem)

    groups["row_f"], groups["col_f"] = grid.rowcol(groups["x"].to_numpy(),
                                                   groups["y"].to_numpy())
    bounds = np.array([_window(r, c, rad, grid, terrain) for r, c, rad in zip(
        groups["row_f"], groups["col_f"], groups["radius_m"], strict=True)], dtype=np.int64)
    groups["r0"], groups["r1"], groups["c0"], groups["c1"] = bounds.T
    groups = groups[(groups["r1"] > groups["r0"]) & (groups["c1"] > groups["c0"])]

    keys = sorted(set(zip(cells["operator"], cells["technology"], strict=True)))
    best = {key: np.full(grid.shape, -np.inf, dtype="float32") for key in keys}
    serve = {key: np.full(grid.shape, -1, dtype="int32") for key in keys}
    clear = {key: np.full(grid.shape, -np.inf, dtype="float32") for key in keys} \
        if terrain else {}
    clear_serve = {key: np.full(grid.shape, -1, dtype="int32") for key in keys} \
        if terrain else {}

    cells["eirp_ref"] = cells["eirp_dbm"] - cells["ref_db"]
    cells["index"] = np.arange(len(cells), dtype="int32")
    compute = compute or ComputeConfig()  # [compute]'s defaults: 50 km tiles, here
    tasks = tile_tasks(groups, cells, grid, config, dem=dem, tile_m=compute.tile_m)
    total = len(groups)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    local = compute.scheduler == "local"
    results = (run_tile(t, tick=tick) for t in tasks) if local else map_ordered(
        run_tile, tasks, compute, on_done=lambda t: tick(len(t.groups)))
    for task, part in zip(tasks, results, strict=True):
        merge_tile(part, task.bounds, best, serve, clear, clear_serve)

    return ModelOutput(signal=_finish(best), server=serve,
                       clear_signal=_finish(clear) if terrain else {},
                       clear_server=clear_serve, parameters={"tiles": len(tasks)})


def _window(row_f: float, col_f: float, radius: float, grid: Grid, terrain: bool
            ) -> tuple[int, int, int, int]:
    """Grid rows and columns (r0, r1, c0, c1) a loss group can reach."""
    if terrain:
        return window_bounds(row_f, col_f, radius, grid.cell_size_m, grid.shape)
    span = math.ceil(radius / grid.cell_size_m) + 1
    return (max(0, math.floor(row_f) - span), min(grid.height, math.floor(row_f) + span + 1),
            max(0, math.floor(col_f) - span), min(grid.width, math.floor(col_f) + span + 1))


@dataclass
class TileTask:
    """One tile's loss groups and everything needed to compute them, and no more.

    A task is self-contained and picklable (a Dask worker gets it whole): the groups
    whose sites stand in the tile, their cells, the scalar settings, the grid's
    geometry and, for the terrain model, the part of the DEM their windows read.

    Attributes
    ----------
    bounds : tuple of int
        Grid (r0, r1, c0, c1) of the part of the rasters the tile's groups reach.
    groups : DataFrame
        One row per loss group, in the run's order.
    cells : DataFrame
        The groups' cells: ``group``, ``operator``, ``technology``, ``eirp_ref`` (dB),
        ``azimuth_deg``, ``beamwidth_deg``, ``index`` (row in the run's cells).
    """

    bounds: tuple[int, int, int, int]
    groups: pd.DataFrame
    cells: pd.DataFrame
    west: float
    north: float
    cell_size_m: float
    shape: tuple[int, int]
    floor_dbm: float
    rx_height_m: float
    k_factor: float
    diffraction: str
    dem: np.ndarray | None = None
    dem_origin: tuple[int, int] = (0, 0)
    ray_radius_m: float | None = None


def tile_tasks(groups: pd.DataFrame, cells: pd.DataFrame, grid: Grid,
               config: CoverageConfig, *, dem: np.ndarray | None, tile_m: float
               ) -> list[TileTask]:
    """Batch loss groups by the tile their site stands in, in a fixed order.

    Tiles are squares of ``tile_m`` metres on the grid, taken row by row from the
    north-west; within a tile the groups keep the run's order.  Merging the tiles'
    rasters in this order (:func:`merge_tile`) gives exactly what computing every
    group in one pass over the whole grid gives.
    """
    n = max(1, round(tile_m / grid.cell_size_m))
    tile_r = np.floor(groups["row_f"].to_numpy()).astype(np.int64) // n
    tile_c = np.floor(groups["col_f"].to_numpy()).astype(np.int64) // n
    order = np.lexsort((np.arange(len(groups)), tile_c, tile_r))
    groups = groups.iloc[order]
    tile = (tile_r[order] * (grid.width // n + 1) + tile_c[order])
    cols = ["group", "operator", "technology", "eirp_ref", "azimuth_deg", "beamwidth_deg",
            "index"]
    cell_tile = cells["group"].map(pd.Series(tile, index=groups.index))
    by_tile = dict(iter(cells[cols].groupby(cell_tile.to_numpy(), sort=False)))
    tasks = []
    for t, part in groups.groupby(tile, sort=False):
        b = (int(part["r0"].min()), int(part["r1"].max()),
             int(part["c0"].min()), int(part["c1"].max()))
        dem_part, origin = None, (0, 0)
        if dem is not None:  # the rays read one cell around each window
            r0, c0 = max(b[0] - 1, 0), max(b[2] - 1, 0)
            dem_part = np.ascontiguousarray(
                dem[r0:min(b[1] + 1, grid.height), c0:min(b[3] + 1, grid.width)])
            origin = (r0, c0)
        members = by_tile[t]
        tasks.append(TileTask(
            bounds=b, groups=part, cells=members, west=grid.transform.c,
            north=grid.transform.f, cell_size_m=grid.cell_size_m, shape=grid.shape,
            floor_dbm=config.min_rsrp_dbm - SIGNAL_FLOOR_BELOW_THRESHOLD_DB,
            rx_height_m=config.rx_height_m, k_factor=config.k_factor,
            diffraction=config.diffraction, dem=dem_part, dem_origin=origin,
            ray_radius_m=config.max_distance_m))
    return tasks


TileResult = dict[tuple[str, str], tuple[np.ndarray, ...]]


def run_tile(task: TileTask, tick: Callable[[int], None] | None = None) -> TileResult:
    """Compute one tile's groups over the part of the grid they reach.

    Returns
    -------
    dict
        (operator, technology) -> (best, server) or, with a DEM, (best, server, clear,
        clear_server), arrays over ``task.bounds`` (-inf / -1 where nothing reaches).
    """
    terrain = task.dem is not None
    cells = _TileCells(task)
    out = cells.rasters()
    no_terrain = np.empty((0, 0), dtype="float32")
    no_heights = np.empty((0, 0), dtype="float64")
    no_table = np.empty(0, dtype="float64")
    no_grid = LossGrid(np.empty((0, 0)), 0.0, 1.0, 0.0, 1.0)
    pending: dict[int, tuple[TerrainWindow, np.ndarray, LossGrid]] = {}
    for gid, g in task.groups.iterrows():
        radius = float(g["radius_m"])
        r0, c0 = int(g["r0"]), int(g["c0"])
        h, w = int(g["r1"]) - r0, int(g["c1"]) - c0
        if terrain:
            if gid not in pending:
                pending.update(_terrain_batch(task, cells, cells.antennas[gid], out))
            tw, heights, grid_loss = pending.pop(gid)
            # the group's own window within the batch's (the widest reach)
            part = (slice(r0 - tw.row0, r0 - tw.row0 + h), slice(c0 - tw.col0, c0 - tw.col0 + w))
            # what the terrain adds to smooth ground, on every path (P.526 through nu =
            # 0): the empirical models already hold smooth ground's loss
            cells.add(out, gid, g, (r0, c0, h, w), radius, no_table,
                      np.ascontiguousarray(tw.excess_db[part]),
                      np.ascontiguousarray(heights[part]), grid_loss)
        else:
            _, table_loss = _loss_table(g, radius, task.rx_height_m, terrain)
            cells.add(out, gid, g, (r0, c0, h, w), radius, table_loss, no_terrain,
                      no_heights, no_grid)
        if tick:
            tick(1)
    return out


class _TileCells:
    """A tile's cells as arrays, and how to add one group's signal to rasters."""

    def __init__(self, task: TileTask) -> None:
        self.task = task
        self.terrain = task.dem is not None
        self.members = task.cells.groupby("group", sort=False).indices
        self.operators = task.cells["operator"].to_numpy()
        self.technologies = task.cells["technology"].to_numpy()
        self.eirp_ref = task.cells["eirp_ref"].to_numpy(float)
        self.azimuth = task.cells["azimuth_deg"].to_numpy(float)
        self.beamwidth = task.cells["beamwidth_deg"].to_numpy(float)
        self.index = task.cells["index"].to_numpy("int32")
        # the groups on each antenna (same position and mast): their terrain is one walk
        # for every frequency (covgap.coverage.los.terrain_windows)
        self.antennas: dict[int, list[int]] = {}
        if self.terrain:
            same = task.groups.groupby(["row_f", "col_f", "height_m"], sort=False).groups
            for ids in same.values():
                for gid in ids:
                    self.antennas[gid] = list(ids)

    def keys(self, gid: int) -> set[tuple[str, str]]:
        """(operator, technology) of a group's cells."""
        idx = self.members[gid]
        return set(zip(self.operators[idx], self.technologies[idx], strict=True))

    def rasters(self) -> TileResult:
        """Empty rasters over the tile's bounds, one set per (operator, technology)."""
        b0, b1, d0, d1 = self.task.bounds
        shape = (b1 - b0, d1 - d0)
        out: TileResult = {}
        for key in sorted(set(zip(self.operators, self.technologies, strict=True))):
            arrays = [np.full(shape, -np.inf, dtype="float32"),
                      np.full(shape, -1, dtype="int32")]
            if self.terrain:
                arrays += [np.full(shape, -np.inf, dtype="float32"),
                           np.full(shape, -1, dtype="int32")]
            out[key] = tuple(arrays)
        return out

    def add(self, out: TileResult, gid: int, g: pd.Series, window: tuple[int, int, int, int],
            radius: float, table_loss: np.ndarray, extra: np.ndarray, heights: np.ndarray,
            grid_loss: LossGrid) -> None:
        """Add group ``gid``'s cells within ``radius`` over ``window`` (r0, c0, h, w)."""
        task, terrain = self.task, self.terrain
        idx = self.members[gid]
        r0, c0, h, w = window
        # co-located cells of several operators share the loss but not the rasters
        for key in self.keys(gid):
            sub = idx[(self.operators[idx] == key[0]) & (self.technologies[idx] == key[1])]
            arrays = out[key]
            _accumulate(
                arrays[0], arrays[1], arrays[2] if terrain else arrays[0],
                arrays[3] if terrain else arrays[1], terrain, task.bounds[0],
                task.bounds[2], r0, c0, h, w, task.west, task.north, task.cell_size_m,
                float(g["x"]), float(g["y"]), radius, _TABLE_STEP_M, table_loss, extra,
                heights, grid_loss.loss, grid_loss.log_d0, grid_loss.step_d, grid_loss.log_h0,
                grid_loss.step_h, self.eirp_ref[sub], self.azimuth[sub], self.beamwidth[sub],
                self.index[sub], task.floor_dbm)


def _terrain_batch(task: TileTask, cells: _TileCells, gids: list[int], out: TileResult
                   ) -> dict[int, tuple[TerrainWindow, np.ndarray, LossGrid]]:
    """Terrain windows, effective heights and loss tables of the groups on one antenna.

    One walk over the widest group's window serves them all.  The knife-edge search is
    skipped where no group can beat the rasters' best so far even without terrain loss
    (:class:`covgap.coverage.los.WindowBound`): the best only grows, so a group is
    skipped only where it could not win when its turn comes either, and the rasters are
    exactly those of a full search.
    """
    groups = task.groups.loc[gids]
    g0 = groups.iloc[0]
    row_f, col_f, mast = float(g0["row_f"]), float(g0["col_f"]), float(g0["height_m"])
    radius = float(groups["radius_m"].max())
    # one table per group over the whole ray radius: a cell's loss does not depend on
    # the group's radius either
    tables = [LossGrid.build(g, max(float(g["radius_m"]), task.ray_radius_m or 0.0),
                             float(g["top_m"]), task.rx_height_m)
              for _, g in groups.iterrows()]
    r0, r1, c0, c1 = window_bounds(row_f, col_f, radius, task.cell_size_m, task.shape)
    b0, d0 = task.bounds[0], task.bounds[2]
    window = (slice(r0 - b0, r1 - b0), slice(c0 - d0, c1 - d0))
    best = np.empty((len(gids), r1 - r0, c1 - c0), dtype="float32")
    for f, gid in enumerate(gids):
        best[f] = np.minimum.reduce([out[key][0][window] for key in cells.keys(gid)])
    bound = WindowBound.from_tables(
        eirp_dbm=[cells.eirp_ref[cells.members[gid]] for gid in gids],
        azimuth_deg=[cells.azimuth[cells.members[gid]] for gid in gids],
        beamwidth_deg=[cells.beamwidth[cells.members[gid]] for gid in gids],
        floor_dbm=task.floor_dbm, best_dbm=best,
        radius_m=groups["radius_m"].to_numpy(float), tables=tables)
    windows = terrain_windows(task.dem, cell_size_m=task.cell_size_m, site_row=row_f,
                              site_col=col_f, tx_height_m=mast,
                              rx_height_m=task.rx_height_m,
                              frequencies_mhz=groups["frequency_mhz"].to_numpy(float),
                              radius_m=radius, k_factor=task.k_factor,
                              method=task.diffraction, origin=task.dem_origin,
                              extent=task.shape, ray_radius_m=task.ray_radius_m, bound=bound)
    heights = _effective_heights(windows[0], task.dem, task.dem_origin, row_f, col_f, mast)
    return {gid: (tw, heights, table) for gid, tw, table in zip(gids, windows, tables,
                                                                 strict=True)}


def merge_tile(part: TileResult, bounds: tuple[int, int, int, int],
               best: dict, serve: dict, clear: dict, clear_serve: dict) -> None:
    """Merge a tile's rasters into the whole grid's, in place.

    A tile's value replaces the grid's only where it is strictly stronger, as within a
    tile a later group's does: merging tiles in order equals one pass over all groups.
    """
    sl = (slice(bounds[0], bounds[1]), slice(bounds[2], bounds[3]))
    for key, arrays in part.items():
        pairs = [(best, serve, arrays[0], arrays[1])]
        if len(arrays) == 4:
            pairs.append((clear, clear_serve, arrays[2], arrays[3]))
        for level, server, t_level, t_server in pairs:
            whole = level[key][sl]
            better = t_level > whole
            whole[better] = t_level[better]
            server[key][sl][better] = t_server[better]


@njit(cache=True, nogil=True, parallel=True)
def _accumulate(best, server, clear, clear_server, terrain, o0, p0, r0, c0, h, w, west, north,
                res, sx, sy, radius, step, table, extra, heights, grid, log_d0, step_d, log_h0,
                step_h, eirp_ref, azimuth, beamwidth, index,
                floor):  # pragma: no cover - compiled; tested through signal_coverage
    """Add a group's cells to the best-server rasters over one window.

    For every grid cell of the window within ``radius`` of the site: the path loss by
    linear interpolation in ``table`` (one value every ``step`` metres), the 3GPP
    parabolic pattern of each sector (TR 36.814 Table A.2.1.1-2, A_m = 25 dB).  With
    ``terrain`` the path loss comes instead from ``grid`` (a :class:`LossGrid`) at the
    cell's effective antenna height ``heights``, and the diffraction loss ``extra`` is
    added; the strongest signal at or above
    ``floor`` wins, and ``clear`` keeps the winner without terrain.  Rows and columns
    (``r0``, ``c0``, the window's) are the whole grid's; the rasters hold the grid's part
    from row ``o0``, column ``p0``.
    """
    n = eirp_ref.shape[0]
    last = table.shape[0] - 1
    sectors = False
    eirp_max = -np.inf
    for s in range(n):
        if not math.isnan(azimuth[s]):
            sectors = True
        eirp_max = max(eirp_max, eirp_ref[s])
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
            if terrain:
                loss = interpolate_loss(grid, log_d0, step_d, log_h0, step_h, d, heights[i, j])
            else:
                pos = d / step
                k = int(pos)
                if k >= last:
                    loss = table[last]
                else:
                    loss = table[k] + (table[k + 1] - table[k]) * (pos - k)
            # no sector can beat its strongest cell on boresight (the pattern only takes
            # away): skip the pattern where that bound cannot win.  The comparisons are
            # those below, so the rasters are exactly the same without the skip.
            upper = eirp_max - loss
            if upper < floor:
                continue
            if terrain:
                if upper <= clear[r - o0, c - p0] and upper - ex <= best[r - o0, c - p0]:
                    continue
            elif upper <= best[r - o0, c - p0]:
                continue
            bearing = 0.0
            if sectors:
                bearing = math.degrees(math.atan2(dx, dy))
            for s in range(n):
                gain = pattern_gain_db(bearing, azimuth[s], beamwidth[s])
                level = eirp_ref[s] - loss + gain
                if terrain and level >= floor and level > clear[r - o0, c - p0]:
                    clear[r - o0, c - p0] = level
                    clear_server[r - o0, c - p0] = index[s]
                level -= ex
                if level >= floor and level > best[r - o0, c - p0]:
                    best[r - o0, c - p0] = level
                    server[r - o0, c - p0] = index[s]


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
    floor = config.min_rsrp_dbm - SIGNAL_FLOOR_BELOW_THRESHOLD_DB
    sites = sites.copy()
    sites["ref_db"] = sites["technology"].map(config.reference_signal_db).astype(float)
    radius, sites["top_m"] = _reach(sites, grid, config, floor, dem)
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
        if not terrain:
            _, table = _loss_table(s, r, config.rx_height_m, terrain)
            loss = np.interp(d[near], np.arange(table.size) * _TABLE_STEP_M, table)
            level = s["eirp_dbm"] - s["ref_db"] - loss
        else:
            row_f, col_f = grid.rowcol(s["x"], s["y"])
            tw = terrain_window(dem, cell_size_m=grid.cell_size_m, site_row=float(row_f),
                                site_col=float(col_f), tx_height_m=float(s["height_m"]),
                                rx_height_m=config.rx_height_m,
                                frequency_mhz=float(s["frequency_mhz"]), radius_m=r,
                                k_factor=config.k_factor, method=config.diffraction,
                                ray_radius_m=config.max_distance_m)
            h, w = tw.los.shape
            i = prow[near] - tw.row0
            j = pcol[near] - tw.col0
            inside = (i >= 0) & (i < h) & (j >= 0) & (j < w)
            ii, jj = i[inside], j[inside]
            heights = _effective_heights(tw, dem, (0, 0), float(row_f), float(col_f),
                                         float(s["height_m"]))
            grid_loss = LossGrid.build(s, max(r, config.max_distance_m), float(s["top_m"]),
                                       config.rx_height_m)
            # the same loss as the signal rasters: at the point's grid cell (distance
            # and effective height of its centre) with what the terrain adds
            level = np.full(near.size, np.nan)
            level[inside] = (s["eirp_dbm"] - s["ref_db"]
                             - grid_loss.at(tw.distance_m[ii, jj], heights[ii, jj])
                             - tw.excess_db[ii, jj])
            # NaN (off the DEM, out of reach) stays uncovered
        keep = ~np.isnan(level)
        out.append((near[keep], level[keep]))
    return out
