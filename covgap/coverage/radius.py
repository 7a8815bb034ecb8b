"""The radius model: a disc, or a sector shaped by the antenna pattern, per cell.

The simplest model a planner can explain: each cell covers everything within its
technology's service radius (``[coverage.radius_m]``, or ``radius_urban_m`` for urban
sites).  A sector (azimuth given) reaches the full radius on its boresight and less off
it: at an angle where the 3GPP pattern attenuates A dB, the reach is
``radius x 10^(-A / (10 n))`` with n the path-loss exponent, the distance at which a
power-law path loss gives back those A dB.  Terrain is ignored, which is exactly why
valleys behind ridges come out covered here and not in the terrain model.

A cell's footprint is a polygon: a disc drawn with 128 vertices, or a sector outline with
a vertex every 2.5 degrees.  :class:`Footprints` answers "which cells cover this point"
without drawing them: a spatial index of the points, one ball query per site location,
bounds on the reach that settle most (cell, point) pairs (compiled with numba), then the
point against the one edge of the outline facing it for the rest.  That is the polygon's own
test (the polygon is star-shaped around its site), so the verdicts are those of the
drawn footprints; the polygons, and each operator's union of them, are built only when
an output draws them (maps, GeoPackage, area shares of polygon villages).
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numba import njit
from pyproj import CRS

from covgap.config import CoverageConfig
from covgap.coverage.cells import site_positions
from covgap.coverage.propagation import antenna_gain_db
from covgap.coverage.result import ModelOutput

__all__ = ["Footprints", "cell_radius_m", "footprints", "radius_coverage"]

#: Vertices of a sector's outline: one every 2.5 degrees.
_SECTOR_STEPS = 144
#: A disc is a buffer with 32 segments per quarter circle (area within 0.1% of pi r^2).
_DISC_QUAD_SEGS = 32
#: GEOS draws that disc from angle 0 (east) clockwise, a vertex every 2 pi / 128.
_DISC_STEPS = 4 * _DISC_QUAD_SEGS
#: The sector outline's bearings, degrees clockwise from north, and in radians.
_SECTOR_BEARINGS = np.linspace(0.0, 360.0, _SECTOR_STEPS, endpoint=False)
_SECTOR_THETA = np.radians(_SECTOR_BEARINGS)
#: Relative margin of the reach bounds that decide a point without the edge test
#: (:func:`_verdict`); rounding in either test is some 1e-13.
_SURE_RTOL = 1e-9
#: Pairs of (cell, point) tested at once: bounds the memory of a national run.
_PAIR_CHUNK = 2_000_000
#: The point test buckets points on a square grid of about this many points per bucket,
#: with at most this many buckets along a side.
_POINTS_PER_BUCKET = 4.0
_MAX_BUCKETS_SIDE = 4096

Key = tuple[str, str]


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


def _sector_vertices(x: np.ndarray, y: np.ndarray, radius_m: np.ndarray, az: np.ndarray,
                     bw: np.ndarray, k: np.ndarray, pathloss_exponent: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Vertex ``k`` of each sector's outline (arrays broadcast together), metres.

    The one formula of a sector's reach: ``radius x 10^(gain / (10 n))`` at the bearings
    of :data:`_SECTOR_BEARINGS`.  :func:`footprints` draws the outline with it and
    :meth:`Footprints.covered` tests points against it, element by element the same
    arithmetic.
    """
    return _vertices_at(x, y, radius_m * _reach_factor(az, bw, k, pathloss_exponent), k)


def _vertices_at(x: np.ndarray, y: np.ndarray, reach: np.ndarray, k: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Return the point ``reach`` metres from ``x, y`` on the bearing of vertex ``k``."""
    theta = _SECTOR_THETA[k]
    return x + reach * np.sin(theta), y + reach * np.cos(theta)


def _reach_factor(az: np.ndarray, bw: np.ndarray, k: np.ndarray, pathloss_exponent: float
                  ) -> np.ndarray:
    """``10^(gain / (10 n))`` at vertex ``k`` of a sector (arrays broadcast together).

    A sector's reach there is its radius times this; it depends on the azimuth and the
    beamwidth alone, so :func:`footprints` works it out once per distinct pair.
    """
    gain = antenna_gain_db(_SECTOR_BEARINGS[k], azimuth_deg=az, beamwidth_deg=bw)
    return 10.0 ** (gain / (10.0 * pathloss_exponent))


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
        # _sector_vertices' arithmetic, with the pattern worked out once per distinct
        # (azimuth, beamwidth): a register has a few hundred of them for 100,000 cells
        k = np.arange(_SECTOR_STEPS)[None, :]
        pairs, which = np.unique(np.column_stack([az[sector], bw[sector]]), axis=0,
                                 return_inverse=True)
        factor = _reach_factor(pairs[:, :1], pairs[:, 1:], k, pathloss_exponent)
        reach = radius_m[sector, None] * factor[which.ravel()]
        ring = np.empty((len(reach), _SECTOR_STEPS + 1, 2))
        ring[:, :-1, 0], ring[:, :-1, 1] = _vertices_at(x[sector, None], y[sector, None],
                                                        reach, k)
        ring[:, -1] = ring[:, 0]  # close the rings
        out[sector] = shapely.polygons(ring)
    return out


#: What the reach bounds say of a (cell, point) pair (:func:`_verdict`).
_OUT, _IN, _EDGE = 0, 1, 2
_STEP_DEG = 360.0 / _SECTOR_STEPS
_COS_STEP = math.cos(math.radians(_STEP_DEG))
#: The disc polygon's inscribed circle: its edges come no nearer the site than this.
_COS_DISC = math.cos(math.pi / _DISC_STEPS)


@njit(cache=True, nogil=True)
def _verdict(dx: float, dy: float, r: float, az: float, bw: float, n10: float) -> int:
    """Say from bounds on the reach alone whether a point is in a cell's footprint.

    The point lies ``dx, dy`` metres from the site; the answer is :data:`_OUT`,
    :data:`_IN`, or :data:`_EDGE` (undecided: the edge test decides).

    The footprint lies within the disc of radius ``r`` (a point on it is on the outline
    at most, never strictly inside): outside it, out, as exactly as ``dx² + dy² < r²``
    in numpy.  A disc polygon's edges come no nearer than ``r cos(pi / 128)``.  A sector's
    outline at the point's bearing is the edge between two vertices at most one step
    (2.5 degrees) away, whose reaches lie between the reach one step further off
    boresight and one step nearer (the pattern only falls off boresight): the edge is no
    farther than the larger and no nearer than the smaller times cos(step).  Each bound
    keeps a relative margin (:data:`_SURE_RTOL`) far above the rounding of either test,
    so the edge test would say the same.  The gain is :func:`antenna_gain_db`'s 3GPP
    pattern, ``-min(12 (phi / bw)², 25)`` dB; ``n10`` is 10 x the path-loss exponent.
    """
    d2 = dx * dx + dy * dy
    if not d2 < r * r:
        return _OUT
    dist = math.sqrt(d2)
    if math.isnan(az):
        return _IN if dist < r * _COS_DISC * (1.0 - _SURE_RTOL) else _EDGE
    off = abs((math.degrees(math.atan2(dx, dy)) - az + 180.0) % 360.0 - 180.0)
    near = max(off - _STEP_DEG, 0.0) / bw
    if dist >= r * 10.0 ** (-min(12.0 * near * near, 25.0) / n10) * (1.0 + _SURE_RTOL):
        return _OUT
    far = min(off + _STEP_DEG, 180.0) / bw
    if dist < (r * 10.0 ** (-min(12.0 * far * far, 25.0) / n10) * _COS_STEP
               * (1.0 - _SURE_RTOL)):
        return _IN
    return _EDGE


@njit(cache=True, nogil=True)
def _pair_status(ci: np.ndarray, px: np.ndarray, py: np.ndarray, x: np.ndarray,
                 y: np.ndarray, r: np.ndarray, az: np.ndarray, bw: np.ndarray,
                 n10: float) -> np.ndarray:
    """:func:`_verdict` of each (cell ``ci``, point ``px, py``) pair, int8."""
    out = np.empty(len(ci), dtype=np.int8)
    for i in range(len(ci)):
        c = ci[i]
        out[i] = _verdict(px[i] - x[c], py[i] - y[c], r[c], az[c], bw[c], n10)
    return out


@njit(cache=True, nogil=True)
def _bucket_pairs(locs: np.ndarray, at: int, reach: np.ndarray, loc_xy: np.ndarray,
                  x0: float, y0: float, side: float, nbx: int, nby: int,
                  b_start: np.ndarray, b_points: np.ndarray, starts: np.ndarray,
                  counts: np.ndarray, order: np.ndarray, key_index: np.ndarray,
                  px: np.ndarray, py: np.ndarray, x: np.ndarray, y: np.ndarray,
                  r: np.ndarray, az: np.ndarray, bw: np.ndarray, n10: float,
                  hit: np.ndarray, todo_c: np.ndarray, todo_p: np.ndarray
                  ) -> tuple[int, int]:
    """Test the cells of locations ``locs[at:]`` against the points within their reach.

    The points are bucketed on a square grid (``side`` metres, ``nbx`` x ``nby`` buckets
    from ``x0, y0``; bucket ``b`` holds ``b_points[b_start[b]:b_start[b + 1]]``). For a
    point within the location's ``reach``, each cell of the location (``order[starts[l]:
    starts[l] + counts[l]]``) is settled by :func:`_verdict`: ``hit[key, point]`` set
    where the bounds say inside, undecided pairs listed in ``todo_c`` (cell) and
    ``todo_p`` (point); a key already covering the point skips its other cells. Stops
    before a location whose points might not fit in the lists; returns how many pairs
    were listed and the next position in ``locs``.
    """
    cap = todo_c.shape[0]
    m = 0
    a = at
    while a < locs.shape[0]:
        loc = locs[a]
        cx, cy, rr = loc_xy[loc, 0], loc_xy[loc, 1], reach[loc]
        bx0 = max(math.floor((cx - rr - x0) / side), 0)
        bx1 = min(math.floor((cx + rr - x0) / side), nbx - 1)
        by0 = max(math.floor((cy - rr - y0) / side), 0)
        by1 = min(math.floor((cy + rr - y0) / side), nby - 1)
        if bx0 > bx1 or by0 > by1:
            a += 1
            continue
        n_near = 0
        for by in range(by0, by1 + 1):
            n_near += b_start[by * nbx + bx1 + 1] - b_start[by * nbx + bx0]
        if m + n_near * counts[loc] > cap:
            return m, a
        s = starts[loc]
        r2 = rr * rr
        for by in range(by0, by1 + 1):
            for t in range(b_start[by * nbx + bx0], b_start[by * nbx + bx1 + 1]):
                q = b_points[t]
                dx, dy = px[q] - cx, py[q] - cy
                if dx * dx + dy * dy > r2:
                    continue
                for k in range(counts[loc]):
                    c = order[s + k]
                    if hit[key_index[c], q]:
                        continue
                    v = _verdict(px[q] - x[c], py[q] - y[c], r[c], az[c], bw[c], n10)
                    if v == _IN:
                        hit[key_index[c], q] = True
                    elif v == _EDGE:
                        todo_c[m] = c
                        todo_p[m] = q
                        m += 1
        a += 1
    return m, a


class Footprints:
    """The radius model's cells as footprints: a point test, and polygons on demand.

    Parameters
    ----------
    cells : GeoDataFrame
        Prepared cells with ``x``, ``y`` (metres, in ``crs``), ``azimuth_deg`` (NaN for
        omni), ``beamwidth_deg``, ``operator`` and ``technology``.
    radius_m : array of float
        Each cell's service radius on boresight, metres (:func:`cell_radius_m`).
    pathloss_exponent : float
        How fast a sector's reach shrinks off boresight.
    crs : CRS or str
        The metric CRS of ``x``, ``y``.

    Notes
    -----
    :meth:`covered` decides exactly what ``shapely.contains_xy`` would say of the
    polygons :func:`footprints` draws (a point on an outline is not covered), without
    drawing them.  The polygons (:meth:`polygons`) and the union of each operator's
    technology (:meth:`areas`) are built once, on first use, safely from several
    threads.
    """

    def __init__(self, cells: gpd.GeoDataFrame, radius_m: np.ndarray, *,
                 pathloss_exponent: float, crs: Any) -> None:
        self.x = cells["x"].to_numpy(float)
        self.y = cells["y"].to_numpy(float)
        self.azimuth = cells["azimuth_deg"].to_numpy(float)
        self.beamwidth = cells["beamwidth_deg"].to_numpy(float)
        self.radius_m = np.asarray(radius_m, float)
        self.operator = cells["operator"].astype(str).to_numpy()
        self.technology = cells["technology"].astype(str).to_numpy()
        self.pathloss_exponent = float(pathloss_exponent)
        self.crs = CRS.from_user_input(crs)
        pairs = sorted(set(zip(self.operator.tolist(), self.technology.tolist(), strict=True)))
        self._keys: list[Key] = pairs
        lookup = {k: i for i, k in enumerate(pairs)}
        self.key_index = np.array([lookup[k] for k in zip(
            self.operator.tolist(), self.technology.tolist(), strict=True)], dtype=np.intp)
        # site locations: cells at the same point share one ball query
        self.location_xy, _first, self.location = site_positions(self.x, self.y)
        self._order = np.argsort(self.location, kind="stable")
        self._starts = np.searchsorted(self.location[self._order], np.arange(len(self.location_xy)))
        self._lock = threading.Lock()
        self._polygons: np.ndarray | None = None
        self._areas: gpd.GeoDataFrame | None = None
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]  # locks do not pickle
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.x)

    def keys(self) -> list[Key]:
        """Every (operator, technology) with a cell, sorted."""
        return list(self._keys)

    # ------------------------------------------------------------------ point test

    def covered(self, x: np.ndarray, y: np.ndarray,
                keys: list[Key] | None = None) -> dict[Key, np.ndarray]:
        """Which (operator, technology) covers each point.

        Parameters
        ----------
        x, y : array of float
            Points in the footprints' metric CRS, metres.
        keys : list of (str, str), optional
            The keys to answer for (default: every key); keys without cells cover
            nothing.

        Returns
        -------
        dict of (str, str) to numpy.ndarray of bool
            Per key, whether some cell of it covers each point: the point lies strictly
            inside the cell's footprint polygon.

        Notes
        -----
        The answer for every key is kept for the last points asked about, so the
        village stage's several questions about the same points cost one query.
        """
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        keys = self.keys() if keys is None else [tuple(k) for k in keys]
        with self._lock:
            last = self._last
            if last is None or not (np.array_equal(last[0], x, equal_nan=True)
                                    and np.array_equal(last[1], y, equal_nan=True)):
                last = (x.copy(), y.copy(), self._hits(x, y))
                self._last = last
        hit = last[2]
        index = {k: i for i, k in enumerate(self._keys)}
        return {k: hit[index[k]].copy() if k in index else np.zeros(len(x), dtype=bool)
                for k in keys}

    def _hits(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Boolean (keys, points): some cell of the key covers the point."""
        hit = np.zeros((len(self._keys), len(x)), dtype=bool)
        points = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if not len(points) or not len(self.x):
            return hit
        reach = np.zeros(len(self.location_xy))
        np.fmax.at(reach, self.location, self.radius_m)
        # a footprint lies within its disc of radius r: each location looks at the points
        # in the buckets of a square grid its reach overlaps (a hair more than the reach;
        # the bounds and the edge test decide)
        px, py = x[points], y[points]
        x0, y0 = float(px.min()), float(py.min())
        width, height = float(px.max()) - x0, float(py.max()) - y0
        extent = max(width, height, 1.0)
        side = max(extent / math.sqrt(len(points) / _POINTS_PER_BUCKET), extent / _MAX_BUCKETS_SIDE)
        nbx = int(width // side) + 1
        nby = int(height // side) + 1
        bucket = (np.floor((py - y0) / side).astype(np.int64) * nbx
                  + np.floor((px - x0) / side).astype(np.int64))
        order = points[np.argsort(bucket, kind="stable")]
        b_start = np.concatenate([[0], np.cumsum(np.bincount(bucket, minlength=nbx * nby))])
        counts = np.diff(np.append(self._starts, len(self.x)))
        locs = np.flatnonzero(reach > 0)
        grow = reach * (1.0 + 1e-9)
        n10 = 10.0 * self.pathloss_exponent

        def run(part: np.ndarray) -> None:
            # The kernel releases the GIL: parts run side by side, each with its own lists
            # of undecided pairs; they only set ``hit`` to True, so the order is free.
            capacity = _PAIR_CHUNK
            todo_c = np.empty(capacity, dtype=np.intp)
            todo_p = np.empty(capacity, dtype=np.intp)
            at = 0
            while at < len(part):
                m, at_next = _bucket_pairs(part, at, grow, self.location_xy, x0, y0, side,
                                           nbx, nby, b_start, order, self._starts, counts,
                                           self._order, self.key_index, x, y, self.x,
                                           self.y, self.radius_m, self.azimuth,
                                           self.beamwidth, n10, hit, todo_c, todo_p)
                if at_next == at and m == 0:  # one location needs more room than there is
                    capacity *= 4
                    todo_c = np.empty(capacity, dtype=np.intp)
                    todo_p = np.empty(capacity, dtype=np.intp)
                    continue
                at = at_next
                ci, pi = todo_c[:m], todo_p[:m]
                inside = self._edge(ci, x[pi], y[pi])
                hit[self.key_index[ci[inside]], pi[inside]] = True

        workers = min(os.cpu_count() or 1, 2 if len(points) * len(locs) > 1e7 else 1)
        if workers == 1:
            run(locs)
        else:  # interleaved, so each part has locations everywhere
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(run, [locs[w::workers] for w in range(workers)]))
        return hit

    def _status(self, ci: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Return what the reach bounds say of each (cell ``ci``, point) pair.

        :data:`_OUT`, :data:`_IN` or :data:`_EDGE` (the edge test decides), int8.
        """
        ci = np.asarray(ci, dtype=np.intp)
        return _pair_status(ci, np.asarray(px, float), np.asarray(py, float), self.x,
                            self.y, self.radius_m, self.azimuth, self.beamwidth,
                            10.0 * self.pathloss_exponent)

    def _inside(self, ci: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Whether each point lies strictly inside the footprint of cell ``ci``."""
        status = self._status(ci, px, py)
        out = status == _IN
        edge = np.flatnonzero(status == _EDGE)
        out[edge] = self._edge(np.asarray(ci, dtype=np.intp)[edge], np.asarray(px)[edge],
                               np.asarray(py)[edge])
        return out

    def _edge(self, ci: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Whether each point lies strictly inside the footprint of cell ``ci`` (edge test).

        For points within the cell's disc.  The polygon is a fan of triangles (site,
        vertex k, vertex k + 1) in bearing order; the point is in the one whose wedge
        holds its bearing, on the site's side of the edge from vertex k to vertex k + 1.
        The vertices are those :func:`footprints` draws, by the same arithmetic (numpy,
        element by element).
        """
        if not len(ci):
            return np.zeros(0, dtype=bool)
        cx, cy = self.x[ci], self.y[ci]
        r = self.radius_m[ci]
        dx, dy = px - cx, py - cy
        az = self.azimuth[ci]
        omni = np.isnan(az)
        x0, y0, x1, y1 = (np.empty(len(ci)) for _ in range(4))
        if omni.any():
            # GEOS's disc: vertex i at angle -i 2 pi / 128 from east
            step = 2.0 * np.pi / _DISC_STEPS
            turn = np.mod(-np.arctan2(dy[omni], dx[omni]), 2.0 * np.pi)
            k = np.minimum(np.floor(turn / step), _DISC_STEPS - 1)
            a0, a1 = -k * step, -(k + 1.0) * step
            x0[omni] = cx[omni] + r[omni] * np.cos(a0)
            y0[omni] = cy[omni] + r[omni] * np.sin(a0)
            x1[omni] = cx[omni] + r[omni] * np.cos(a1)
            y1[omni] = cy[omni] + r[omni] * np.sin(a1)
        sector = ~omni
        if sector.any():
            bearing = np.mod(np.degrees(np.arctan2(dx[sector], dy[sector])), 360.0)
            step = 360.0 / _SECTOR_STEPS
            k = np.minimum(np.floor(bearing / step), _SECTOR_STEPS - 1).astype(np.intp)
            args = (cx[sector], cy[sector], r[sector], az[sector], self.beamwidth[ci][sector])
            x0[sector], y0[sector] = _sector_vertices(*args, k, self.pathloss_exponent)
            x1[sector], y1[sector] = _sector_vertices(*args, (k + 1) % _SECTOR_STEPS,
                                                      self.pathloss_exponent)
        ex, ey = x1 - x0, y1 - y0
        side_point = ex * (py - y0) - ey * (px - x0)
        side_site = ex * (cy - y0) - ey * (cx - x0)
        return side_point * side_site > 0

    # ------------------------------------------------------------------ polygons

    def polygons(self) -> np.ndarray:
        """Each cell's footprint polygon (metric CRS), built on first use."""
        with self._lock:
            if self._polygons is None:
                frame = gpd.GeoDataFrame({"x": self.x, "y": self.y,
                                          "azimuth_deg": self.azimuth,
                                          "beamwidth_deg": self.beamwidth})
                self._polygons = footprints(frame, self.radius_m,
                                            pathloss_exponent=self.pathloss_exponent)
            return self._polygons

    def areas(self) -> gpd.GeoDataFrame:
        """Return the union of each (operator, technology)'s footprints, built on first use.

        Returns
        -------
        GeoDataFrame
            ``operator, technology`` and the union polygon, one row per key in sorted
            order, in the footprints' metric CRS.
        """
        shapes = self.polygons()
        with self._lock:
            if self._areas is None:
                parts = {k: shapes[self.key_index == i] for i, k in enumerate(self._keys)}
                # GEOS releases the GIL: the operators' unions run side by side, largest
                # first
                order = sorted(parts, key=lambda k: -len(parts[k]))
                workers = min(len(order), os.cpu_count() or 1) or 1
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    unions = dict(zip(order, pool.map(shapely.union_all,
                                                      (parts[k] for k in order)), strict=True))
                self._areas = gpd.GeoDataFrame(
                    {"operator": [k[0] for k in self._keys],
                     "technology": [k[1] for k in self._keys]},
                    geometry=[unions[k] for k in self._keys], crs=self.crs)
            return self._areas


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
        ``cells``: the cells with ``radius_m``; ``footprints``: their
        :class:`Footprints`, which decide coverage at points and give the footprint
        polygons and each (operator, technology)'s union when an output draws them
        (``Coverage.areas`` reads them on first use).
    """
    radius = cell_radius_m(cells, config)
    out = cells.copy()
    out["radius_m"] = radius
    feet = Footprints(out, radius, pathloss_exponent=config.pathloss_exponent, crs=cells.crs)
    return ModelOutput(cells=out, footprints=feet)
