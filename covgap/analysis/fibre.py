"""FTTH reach: how far each village is from the fibre network, per operator.

A village counts as FTTH-ready (thôn được phủ băng rộng cố định) when its point, the
village cultural house (nhà văn hóa thôn) if the data give one, else a point inside the
village, lies within ``[rules] ftth_max_distance_m`` of any operator's fibre route or
node.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree

__all__ = ["fibre_reach", "lacks_ftth", "nearest_features", "village_points"]

#: Optional village columns locating the cultural house, WGS84 degrees.
HOUSE_COLUMNS = ("cultural_house_lon", "cultural_house_lat")

#: shapely.get_type_id of a Point.
_POINT = 0


def lacks_ftth(ftth: pd.Series) -> pd.Series:
    """Return True where a village is known to lack FTTH.

    ``ftth`` is NA without a fibre layer: unknown, so not a gap.

    Examples
    --------
    >>> lacks_ftth(pd.Series([True, False, pd.NA], dtype="boolean")).tolist()
    [False, True, False]
    """
    return (~ftth.astype("boolean")).fillna(False).astype(bool)


def village_points(villages: gpd.GeoDataFrame, metric_crs: CRS, *,
                   projected: gpd.GeoSeries | None = None) -> gpd.GeoSeries:
    """Return each village's point in ``metric_crs``: its cultural house, else a point on it.

    Parameters
    ----------
    villages : GeoDataFrame
        Checked villages in EPSG:4326; ``cultural_house_lon``/``cultural_house_lat``
        are used where both are given.
    metric_crs : pyproj.CRS
    projected : GeoSeries, optional
        ``villages.geometry.to_crs(metric_crs)`` when the caller has it: a point
        village's own point is taken from it instead of being projected again.

    Returns
    -------
    GeoSeries
        Points in ``metric_crs``, indexed like ``villages``.
    """
    geoms = villages.geometry.to_numpy()
    has = np.zeros(len(villages), dtype=bool)
    if all(c in villages for c in HOUSE_COLUMNS):
        lon = pd.to_numeric(villages[HOUSE_COLUMNS[0]], errors="coerce")
        lat = pd.to_numeric(villages[HOUSE_COLUMNS[1]], errors="coerce")
        has = (lon.notna() & lat.notna()).to_numpy()
    # a point village's point is the village itself (representative_point of a point is
    # the point): when the caller has the villages projected, it is taken from there
    reuse = projected is not None and CRS.from_user_input(projected.crs).equals(metric_crs)
    own = ((shapely.get_type_id(geoms) == _POINT) & ~shapely.is_empty(geoms) & ~has
           if reuse else np.zeros(len(villages), dtype=bool))
    rest = ~own
    points = np.empty(len(villages), dtype=object)
    if rest.any():
        chosen = np.array(shapely.point_on_surface(geoms[rest]), dtype=object)
        if has.any():
            house = shapely.points(lon.to_numpy(float), lat.to_numpy(float))
            chosen = np.where(has[rest], house[rest], chosen)
        points[rest] = gpd.GeoSeries(chosen, crs=villages.crs).to_crs(metric_crs).to_numpy()
    if own.any():
        points[own] = projected.to_numpy()[own]  # type: ignore[union-attr]
    return gpd.GeoSeries(points, index=villages.index, crs=metric_crs)


def fibre_reach(points: gpd.GeoSeries, fibre: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Distance from each village point to the nearest fibre feature, per operator.

    Parameters
    ----------
    points : GeoSeries
        Village points in a metric CRS (:func:`village_points`).
    fibre : GeoDataFrame or None
        Checked fibre routes and nodes (any CRS; ``operator``, ``kind``, optional
        ``fibre_id``).

    Returns
    -------
    DataFrame
        Indexed like ``points``: ``fibre_distance_m`` (metres to the nearest feature of
        any operator; NaN without a fibre layer), ``fibre_operator``, ``fibre_kind``
        ("route"/"node"), ``fibre_id`` of that feature, and one
        ``fibre_distance_<operator>_m`` column per operator.

    Notes
    -----
    Each operator's nodes (points) are searched with a kd-tree and its routes (and any
    other shape) with an STR-tree; the distance is GEOS's, as ``shapely.distance``
    gives it.  Where two features of an operator are exactly as near, the first in the
    fibre layer is named; where two operators are, the first in sorted order.
    """
    n = len(points)
    best = np.full(n, np.nan)
    operator = np.full(n, None, dtype=object)
    kind = np.full(n, None, dtype=object)
    ident = np.full(n, None, dtype=object)
    per_operator: dict[str, np.ndarray] = {}
    if fibre is not None and not fibre.empty and not points.empty:
        fibre = fibre.to_crs(points.crs).reset_index(drop=True)
        queries = _Queries.of(points.to_numpy())
        for name, part in fibre.groupby("operator", sort=True):
            which, feature, dist = _nearest(queries, part.geometry.to_numpy())
            column = np.full(n, np.nan)
            column[which] = dist
            per_operator[f"fibre_distance_{name}_m"] = column
            nearer = np.flatnonzero(column < np.where(np.isnan(best), np.inf, best))
            row = np.full(n, -1)
            row[which] = feature
            best[nearer] = column[nearer]
            operator[nearer] = name
            kind[nearer] = part["kind"].to_numpy()[row[nearer]]
            if "fibre_id" in part:
                ident[nearer] = part["fibre_id"].to_numpy()[row[nearer]]
            else:
                ident[nearer] = None
    out = pd.DataFrame({"fibre_distance_m": best,
                        "fibre_operator": pd.array(operator, dtype="string"),
                        "fibre_kind": pd.array(kind, dtype="string"),
                        "fibre_id": pd.array(ident, dtype="string")}, index=points.index)
    for col, values in per_operator.items():
        out[col] = values
    return out


def nearest_features(points: np.ndarray, features: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the nearest feature to each point, and its distance.

    The answer of ``shapely.STRtree(features).query_nearest(points,
    return_distance=True, all_matches=False)``, found faster: point features (fibre
    nodes) with a kd-tree, the others (routes) with an STR-tree of their own.  The
    distance is GEOS's (``shapely.distance``).  Where several features are (about) as
    near, the STR-tree of every feature is asked, so ties fall as they always did.

    Parameters
    ----------
    points : array of shapely geometries
        Query geometries, one CRS with ``features``; missing and empty ones get no
        answer.  Queries that are not finite points go to the STR-tree as they are.
    features : array of shapely geometries
        Missing and empty features are never the answer.

    Returns
    -------
    (which, feature, distance) : arrays
        Positions in ``points`` that have an answer, in increasing order; the position
        of the nearest feature in ``features``; the distance, CRS units.

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> which, feature, dist = nearest_features(
    ...     np.array([Point(0, 0), None, Point(10, 0)]),
    ...     np.array([Point(0, 3), LineString([(9, -1), (9, 1)]), Point(0, -4)]))
    >>> which.tolist(), feature.tolist(), dist.tolist()
    ([0, 2], [0, 1], [3.0, 1.0])
    """
    return _nearest(_Queries.of(points), features)


#: Two candidates this close (relative) are a possible tie: the STR-tree decides.
_TIE_RTOL = 1e-9


@dataclass(frozen=True)
class _Queries:
    """Query geometries and what :func:`_nearest` needs of them, computed once."""

    geoms: np.ndarray
    asked: np.ndarray  # bool: a geometry to answer for
    point: np.ndarray  # bool: a finite point (the kd-tree's)
    xy: np.ndarray  # (points, 2): coordinates of the finite points

    @classmethod
    def of(cls, points: np.ndarray) -> _Queries:
        geoms = np.asarray(points, dtype=object)
        asked = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
        point = asked & (shapely.get_type_id(geoms) == _POINT)
        xy = shapely.get_coordinates(geoms[point])  # one pair per non-empty point
        finite = np.isfinite(xy).all(axis=1)
        point[np.flatnonzero(point)[~finite]] = False
        return cls(geoms, asked, point, xy[finite])


def _nearest(queries: _Queries, features: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`nearest_features` of prepared queries."""
    points = queries.geoms
    features = np.asarray(features, dtype=object)
    n = len(points)
    dist = np.full(n, np.inf)
    feature = np.full(n, -1, dtype=np.intp)
    usable = ~shapely.is_missing(features) & ~shapely.is_empty(features)
    if not usable.any() or not queries.asked.any():
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), np.zeros(0)
    is_node = usable & (shapely.get_type_id(features) == _POINT)
    nodes, routes = np.flatnonzero(is_node), np.flatnonzero(usable & ~is_node)
    q = np.flatnonzero(queries.point)
    # the nearest candidate (exact distance) and the distance of the next one
    second = np.full(len(q), np.inf)
    if len(nodes) and len(q):
        tree = cKDTree(shapely.get_coordinates(features[nodes]))
        k = min(2, len(nodes))
        d, j = tree.query(queries.xy, k=k, workers=-1)  # every core: same answer
        d, j = d.reshape(len(q), k), j.reshape(len(q), k)
        feature[q] = nodes[j[:, 0]]
        dist[q] = shapely.distance(points[q], features[feature[q]])
        if k == 2:
            second = d[:, 1]
    if len(routes) and len(q):
        # every route at the least distance (all_matches): their number tells a tie
        (qi, fi), d = shapely.STRtree(features[routes]).query_nearest(
            points[q], return_distance=True, all_matches=True)
        route_d = np.full(len(q), np.inf)
        route_d[qi] = d  # all of one query's matches are at its least distance
        route_f = np.full(len(q), -1, dtype=np.intp)
        route_f[qi] = routes[fi]
        many = np.bincount(qi, minlength=len(q)) > 1
        node_d = dist[q]
        closer = route_d < node_d
        second = np.where(closer, np.where(many, route_d, node_d),
                          np.minimum(second, route_d))
        dist[q[closer]] = route_d[closer]
        feature[q[closer]] = route_f[closer]
    best = dist[q]
    tied = q[second <= best + _TIE_RTOL * np.maximum(best, 1.0)]
    # possible ties and queries that are not points: the STR-tree of every feature
    rest = np.union1d(tied, np.flatnonzero(queries.asked & ~queries.point))
    if len(rest):
        (qi, fi), d = shapely.STRtree(features).query_nearest(
            points[rest], return_distance=True, all_matches=False)
        dist[rest], feature[rest] = np.inf, -1
        dist[rest[qi]] = d
        feature[rest[qi]] = fi
    which = np.flatnonzero(feature >= 0)
    return which, feature[which], dist[which]
