"""Nearest fibre by kd-tree (nodes) and STR-tree (routes): the answers of one STR-tree.

``covgap.analysis.fibre.nearest_features`` replaced ``sindex.nearest`` over every
feature of an operator.  These tests hold it to the old answer: the distance against a
brute force over every pair, the feature against ``STRtree.query_nearest`` (ties
included: they fall as the STR-tree lets them fall).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from covgap.analysis.fibre import fibre_reach, nearest_features

UTM = "EPSG:32648"


def _world(seed: int, *, n_points: int = 300, n_nodes: int = 60, n_routes: int = 8):
    """Random points, nodes and routes, with ties built in."""
    rng = np.random.default_rng(seed)
    points = shapely.points(rng.uniform(0, 10_000, (n_points, 2)))
    nodes = shapely.points(rng.uniform(0, 10_000, (n_nodes, 2)))
    routes = [shapely.linestrings(rng.uniform(0, 10_000, (int(rng.integers(2, 6)), 2)))
              for _ in range(n_routes)]
    features = np.concatenate([nodes, np.array(routes, dtype=object)])
    # ties: a node twice, a node on a route's vertex, points on both
    twin = shapely.Point(shapely.get_coordinates(nodes[0])[0])
    on_route = shapely.Point(shapely.get_coordinates(routes[0])[1])
    features = np.concatenate([features, [twin, on_route, None, shapely.Point()]])
    points = np.concatenate([points, [nodes[0], on_route, None, shapely.Point()]])
    rng.shuffle(features)
    return points, features


def _brute(points: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The least distance from each point to any feature (inf for none)."""
    d = shapely.distance(points[:, None], features[None, :])
    d = np.where(np.isnan(d), np.inf, d)
    return d.min(axis=1)


@pytest.mark.parametrize("seed", range(6))
def test_nearest_features_are_the_str_trees_and_as_near_as_brute_force(seed):
    points, features = _world(seed)
    which, feature, dist = nearest_features(points, features)
    (ref_which, ref_feature), ref_dist = shapely.STRtree(features).query_nearest(
        points, return_distance=True, all_matches=False)
    assert which.tolist() == ref_which.tolist()
    assert feature.tolist() == ref_feature.tolist()
    assert dist.tolist() == ref_dist.tolist()  # GEOS's distances, bit for bit
    assert dist.tolist() == _brute(points, features)[which].tolist()
    # missing and empty points get no answer; the others all do
    assert set(range(len(points))) - set(which.tolist()) == {len(points) - 2,
                                                             len(points) - 1}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n_nodes=st.integers(0, 40), n_routes=st.integers(0, 5))
def test_nearest_features_random_layers(seed, n_nodes, n_routes):
    # integer coordinates on a coarse grid make exact ties common
    rng = np.random.default_rng(seed)
    points = shapely.points(rng.integers(0, 20, (50, 2)).astype(float))
    nodes = shapely.points(rng.integers(0, 20, (n_nodes, 2)).astype(float))
    routes = [shapely.linestrings(rng.integers(0, 20, (3, 2)).astype(float))
              for _ in range(n_routes)]
    features = np.concatenate([nodes, np.array(routes, dtype=object)])
    which, feature, dist = nearest_features(points, features)
    if not len(features):
        assert len(which) == 0
        return
    (ref_which, ref_feature), ref_dist = shapely.STRtree(features).query_nearest(
        points, return_distance=True, all_matches=False)
    assert which.tolist() == ref_which.tolist()
    assert feature.tolist() == ref_feature.tolist()
    assert dist.tolist() == ref_dist.tolist()
    assert dist.tolist() == _brute(points, features).tolist()


def _old_fibre_reach(points: gpd.GeoSeries, fibre: gpd.GeoDataFrame) -> pd.DataFrame:
    """fibre_reach before the kd-tree: ``sindex.nearest`` over each operator's features."""
    out = pd.DataFrame(index=points.index)
    out["fibre_distance_m"] = np.nan
    for col in ("fibre_operator", "fibre_kind", "fibre_id"):
        out[col] = pd.Series(pd.NA, index=points.index, dtype="string")
    fibre = fibre.to_crs(points.crs).reset_index(drop=True)
    geoms = points.to_numpy()
    for operator, part in fibre.groupby("operator", sort=True):
        (which, feature), dist = part.sindex.nearest(geoms, return_distance=True,
                                                     return_all=False)
        column = np.full(len(points), np.nan)
        column[which] = dist
        kind = np.full(len(points), None, dtype=object)
        kind[which] = part["kind"].to_numpy()[feature]
        ident = np.full(len(points), None, dtype=object)
        ident[which] = part["fibre_id"].to_numpy()[feature]
        out[f"fibre_distance_{operator}_m"] = column
        nearer = column < out["fibre_distance_m"].fillna(np.inf).to_numpy()
        out.loc[nearer, "fibre_distance_m"] = column[nearer]
        out.loc[nearer, "fibre_operator"] = operator
        out.loc[nearer, "fibre_kind"] = kind[nearer]
        out.loc[nearer, "fibre_id"] = ident[nearer]
    return out


@pytest.mark.parametrize("seed", range(3))
def test_fibre_reach_equals_the_str_tree_version(seed):
    points, features = _world(seed)
    keep = ~shapely.is_missing(features) & ~shapely.is_empty(features)
    features = features[keep]
    rng = np.random.default_rng(seed)
    kinds = np.where(shapely.get_type_id(features) == 0, "node", "route")
    fibre = gpd.GeoDataFrame(
        {"operator": rng.choice(["VNPT", "Viettel", "MobiFone"], len(features)),
         "kind": kinds, "fibre_id": [f"F{i}" for i in range(len(features))]},
        geometry=features, crs=UTM).to_crs(4326)
    villages = gpd.GeoSeries(points, crs=UTM, index=pd.RangeIndex(len(points)) + 100)
    got = fibre_reach(villages, fibre)
    pd.testing.assert_frame_equal(got, _old_fibre_reach(villages, fibre), check_exact=True)
