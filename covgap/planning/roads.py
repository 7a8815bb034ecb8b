"""Fibre extension length along the road network, when a road layer is supplied.

Cables are laid along roads, so the straight-line distance to the nearest fibre
understates an extension.  The roads are noded into a graph (every crossing is a
junction); each village and each fibre feature is joined to its nearest road vertex by
a straight connector; one multi-source Dijkstra per operator (scipy's csgraph) then
gives every village its distance along the roads to that operator's nearest fibre.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

__all__ = ["road_distances", "road_graph"]


def road_graph(roads: gpd.GeoDataFrame) -> tuple[np.ndarray, coo_matrix]:
    """Node the road lines and return (vertex coordinates, symmetric edge matrix).

    Parameters
    ----------
    roads : GeoDataFrame
        Lines in a metric CRS.

    Returns
    -------
    vertices : array (n, 2)
        Junction and shape vertices, metres.
    edges : scipy.sparse.coo_matrix (n, n)
        Segment lengths in metres, both directions.
    """
    lines = roads.geometry[roads.geometry.geom_type.isin(
        ["LineString", "MultiLineString"])].to_numpy()
    if len(lines) == 0:
        return np.empty((0, 2)), coo_matrix((0, 0))
    # noding splits the lines where they cross, so crossings become junctions
    noded = shapely.get_parts(shapely.node(shapely.multilinestrings(
        shapely.get_parts(lines))))
    coords, owner = shapely.get_coordinates(noded, return_index=True)
    same_line = owner[1:] == owner[:-1]
    start = coords[:-1][same_line]
    end = coords[1:][same_line]
    vertices, inverse = np.unique(np.round(np.vstack([start, end]), 2), axis=0,
                                  return_inverse=True)
    inverse = inverse.ravel()
    a, b = inverse[: len(start)], inverse[len(start):]
    length = np.hypot(*(end - start).T)
    keep = a != b
    n = len(vertices)
    edges = coo_matrix((np.r_[length[keep], length[keep]],
                        (np.r_[a[keep], b[keep]], np.r_[b[keep], a[keep]])), shape=(n, n))
    return vertices, edges


def road_distances(points: gpd.GeoSeries, fibre: gpd.GeoDataFrame,
                   roads: gpd.GeoDataFrame) -> pd.DataFrame:
    """Distance along the roads from each point to the nearest fibre, per operator.

    Parameters
    ----------
    points : GeoSeries
        Village points in a metric CRS.
    fibre : GeoDataFrame
        Fibre routes and nodes with ``operator``; any CRS.
    roads : GeoDataFrame
        Road lines; any CRS.

    Returns
    -------
    DataFrame
        Indexed like ``points``: ``road_distance_<operator>_m`` per operator and
        ``road_distance_m`` (the nearest operator's), metres: connector from the point to
        its nearest road vertex, the road path, and the connector from the road to the
        fibre.  NaN where the roads do not connect them.
    """
    out = pd.DataFrame(index=points.index)
    out["road_distance_m"] = np.nan
    vertices, edges = road_graph(roads.to_crs(points.crs))
    if len(vertices) == 0 or fibre is None or fibre.empty or points.empty:
        return out
    tree = shapely.STRtree(shapely.points(vertices))
    (_, v_node), v_gap = tree.query_nearest(points.to_numpy(), return_distance=True,
                                            all_matches=False)
    fibre = fibre.to_crs(points.crs)
    n = len(vertices)
    best = np.full(len(points), np.inf)
    for operator, part in fibre.groupby("operator", sort=True):
        # every fibre vertex is a place to splice in
        pts = shapely.points(shapely.get_coordinates(part.geometry.to_numpy()))
        (_, f_node), f_gap = tree.query_nearest(pts, return_distance=True,
                                                all_matches=False)
        # a super-source joined to each fibre's road vertex by its connector length
        source = np.full(len(f_node), n)
        graph = coo_matrix((np.r_[edges.data, f_gap + 1e-9],
                            (np.r_[edges.row, source], np.r_[edges.col, f_node])),
                           shape=(n + 1, n + 1)).tocsr()
        dist = dijkstra(graph, directed=True, indices=n)
        along = dist[v_node] + v_gap
        out[f"road_distance_{operator}_m"] = np.where(np.isfinite(along), along.round(1),
                                                      np.nan)
        best = np.fmin(best, along)
    out["road_distance_m"] = np.where(np.isfinite(best), best.round(1), np.nan)
    return out
