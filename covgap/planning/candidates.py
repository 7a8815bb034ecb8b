"""Candidate sites and what each would cover, judged by the run's own coverage model.

Three kinds of position could serve people no one covers yet:

- **share**: an existing tower (any operator's, or another operator's in a per-operator
  plan): adding equipment there is cheaper and the plans push site sharing;
- **new** on a grid over uncovered populated land (``[candidates] grid_spacing_m``);
- **new** on high ground: the highest DEM point near each uncovered village
  (``high_point_radius_m``), since a valley is best seen from its rim.

Each candidate is an omni site with the configured height, EIRP and frequency (a
shared tower keeps its own height), and its coverage of the demand villages comes from
the same model as the run: the radius table, or the path loss (and, over the DEM, the
terrain) of :func:`covgap.coverage.pathloss.signal_at_points`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from covgap.config import Config
from covgap.coverage import Coverage
from covgap.coverage.pathloss import signal_at_points

__all__ = ["candidate_cover", "generate_candidates"]


def generate_candidates(
    demand: gpd.GeoDataFrame,
    coverage: Coverage,
    config: Config,
    *,
    operator: str | None = None,
) -> pd.DataFrame:
    """Return positions that could serve the demand villages.

    Parameters
    ----------
    demand : GeoDataFrame
        The uncovered villages as points in the metric CRS.
    coverage : Coverage
        The run's coverage (its cells and, for the terrain model, its DEM and grid).
    config : Config
    operator : str, optional
        Per-operator plan: towers of this operator are not "share" candidates (it is
        already there).

    Returns
    -------
    DataFrame
        ``candidate_id, kind ("share"/"new"), source ("tower"/"grid"/"high point"), x, y,
        height_m, host_site_id, host_operator``.
    """
    cc = config.candidates
    cells = coverage.cells
    frames = []
    if not cells.empty:
        grouped = cells.assign(xr=cells["x"].round(0), yr=cells["y"].round(0)).groupby(
            ["xr", "yr"], sort=True)
        towers = grouped.agg(x=("x", "mean"), y=("y", "mean"), height_m=("height_m", "max"))
        group = grouped.ngroup().to_numpy()
        towers["host_site_id"] = _joined_sets(group, cells["site_id"], len(towers))
        towers["host_operator"] = _joined_sets(group, cells["operator"], len(towers))
        if operator is not None:
            towers = towers[~towers["host_operator"].str.split(";").map(
                lambda ops: operator in ops)]
        towers = towers.reset_index(drop=True).assign(kind="share", source="tower")
        frames.append(_near_demand(towers, demand, config))
    if len(demand):
        frames.append(_grid_points(demand, cc.grid_spacing_m, config))
        if coverage.dem is not None and coverage.grid is not None and cc.high_point_radius_m:
            frames.append(_high_points(demand, coverage, cc.high_point_radius_m))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["candidate_id", "kind", "source", "x", "y", "height_m",
                                     "host_site_id", "host_operator"])
    out = pd.concat(frames, ignore_index=True)
    out["height_m"] = out["height_m"].fillna(cc.height_m)
    out = out.drop_duplicates(subset=["x", "y"]).reset_index(drop=True)
    out.insert(0, "candidate_id", [f"C{i + 1:05d}" for i in range(len(out))])
    return out[["candidate_id", "kind", "source", "x", "y", "height_m", "host_site_id",
                "host_operator"]]


def _joined_sets(group: np.ndarray, values: pd.Series, n: int) -> list[str]:
    """``";".join(sorted(set(...)))`` of the values of each group ``0 .. n - 1``.

    One pass over the rows (a pandas aggregation with a Python function slices the
    column once per group: 8 of the national run's 9 s of candidates, profiled).
    Rows of no group (``group`` NaN or negative) are left out.
    """
    sets: list[set] = [set() for _ in range(n)]
    for g, v in zip(group.tolist(), values.tolist(), strict=True):
        if g == g and g >= 0:  # not NaN
            sets[int(g)].add(v)
    return [";".join(sorted(s)) for s in sets]


def _reach_m(config: Config) -> float:
    """Return how far a candidate could serve: the radius table's, else the model's cap."""
    cov = config.coverage
    if cov.model == "radius":
        return float(cov.radius_m.get(config.candidates.technology, 5000.0))
    return float(cov.max_distance_m)


def _near_demand(points: pd.DataFrame, demand: gpd.GeoDataFrame, config: Config
                 ) -> pd.DataFrame:
    """Keep candidate points within reach of at least one demand village."""
    if points.empty or demand.empty:
        return points.iloc[0:0]
    tree = shapely.STRtree(demand.geometry.to_numpy())
    pts = shapely.points(points["x"].to_numpy(), points["y"].to_numpy())
    src, _ = tree.query(pts, predicate="dwithin", distance=_reach_m(config))
    return points.iloc[np.unique(src)]


def _grid_points(demand: gpd.GeoDataFrame, spacing_m: float, config: Config) -> pd.DataFrame:
    """Return the nodes of a regular grid over the demand within one spacing of a village."""
    xmin, ymin, xmax, ymax = demand.total_bounds
    xs = np.arange(np.floor(xmin / spacing_m) * spacing_m, xmax + spacing_m, spacing_m)
    ys = np.arange(np.floor(ymin / spacing_m) * spacing_m, ymax + spacing_m, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    pts = shapely.points(gx.ravel(), gy.ravel())
    tree = shapely.STRtree(demand.geometry.to_numpy())
    src, _ = tree.query(pts, predicate="dwithin", distance=spacing_m)
    keep = np.unique(src)
    return pd.DataFrame({"x": gx.ravel()[keep], "y": gy.ravel()[keep], "height_m": np.nan,
                         "host_site_id": pd.NA, "host_operator": pd.NA, "kind": "new",
                         "source": "grid"})


def _high_points(demand: gpd.GeoDataFrame, coverage: Coverage, radius_m: float
                 ) -> pd.DataFrame:
    """Return the highest DEM cell within ``radius_m`` of each demand village."""
    grid, dem = coverage.grid, coverage.dem
    r = max(1, round(radius_m / grid.cell_size_m))
    rows, cols = grid.rowcol(demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy())
    rows = np.floor(rows).astype(int)
    cols = np.floor(cols).astype(int)
    off = np.arange(-r, r + 1)
    di, dj = np.meshgrid(off, off, indexing="ij")
    disc = (di**2 + dj**2) <= r * r
    di, dj = di[disc], dj[disc]
    ii = np.clip(rows[:, None] + di[None, :], 0, grid.height - 1)
    jj = np.clip(cols[:, None] + dj[None, :], 0, grid.width - 1)
    z = np.nan_to_num(dem[ii, jj], nan=-np.inf)
    best = z.argmax(axis=1)
    bi = ii[np.arange(len(rows)), best]
    bj = jj[np.arange(len(rows)), best]
    x0, y0 = grid.transform.c, grid.transform.f
    res = grid.cell_size_m
    return pd.DataFrame({"x": x0 + (bj + 0.5) * res, "y": y0 - (bi + 0.5) * res,
                         "height_m": np.nan, "host_site_id": pd.NA, "host_operator": pd.NA,
                         "kind": "new", "source": "high point"})


def candidate_cover(candidates: pd.DataFrame, demand: gpd.GeoDataFrame,
                    coverage: Coverage, config: Config) -> tuple[np.ndarray, np.ndarray]:
    """Return which demand villages each candidate would cover, by the run's model.

    Parameters
    ----------
    candidates : DataFrame
        :func:`generate_candidates`.
    demand : GeoDataFrame
        Demand village points in the metric CRS.
    coverage : Coverage
        The run's coverage (model, grid, DEM).
    config : Config

    Returns
    -------
    indptr, indices : arrays of int
        CSR lists: candidate ``i`` covers demand rows
        ``indices[indptr[i]:indptr[i + 1]]``.
    """
    cc, cov = config.candidates, config.coverage
    x = demand.geometry.x.to_numpy()
    y = demand.geometry.y.to_numpy()
    lists: list[np.ndarray] = []
    if cov.model in ("pathloss", "terrain") and coverage.grid is not None:
        sites = candidates.assign(
            eirp_dbm=cc.eirp_dbm, frequency_mhz=cc.frequency_mhz, technology=cc.technology,
            environment=cov.environment)
        dem = coverage.dem if cov.model == "terrain" else None
        for idx, level in signal_at_points(sites, x, y, coverage.grid, cov, dem=dem):
            lists.append(np.sort(idx[level >= cov.min_rsrp_dbm]))
    else:  # radius (and operators' maps): the radius table of the candidate technology
        reach = _reach_m(config)
        tree = shapely.STRtree(shapely.points(x, y))
        pts = shapely.points(candidates["x"].to_numpy(), candidates["y"].to_numpy())
        src, tgt = tree.query(pts, predicate="dwithin", distance=reach)
        order = np.lexsort((tgt, src))
        src, tgt = src[order], tgt[order]
        bounds = np.searchsorted(src, np.arange(len(candidates) + 1))
        lists = [tgt[bounds[i]:bounds[i + 1]] for i in range(len(candidates))]
    indptr = np.zeros(len(lists) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(a) for a in lists])
    indices = np.concatenate(lists).astype(np.int64) if lists else np.empty(0, np.int64)
    return indptr, indices
