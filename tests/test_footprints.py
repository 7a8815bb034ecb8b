"""The radius model without unions (issue 15): points against footprints, unions on demand.

:class:`covgap.coverage.radius.Footprints` must say exactly what ``shapely.contains_xy``
says of the drawn footprint polygons, and the village stage must give the same tables
whether it reads the footprints or the unions they replace.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import SAMPLE_TOML
from hypothesis import given, settings
from hypothesis import strategies as st

import covgap
from covgap.analysis import analyse
from covgap.analysis.shares import coverage_shares
from covgap.coverage import compute_coverage
from covgap.coverage.radius import Footprints, footprints

REPO = Path(__file__).resolve().parents[1]


def _cells(x, y, azimuth, beamwidth, operator="Viettel", technology="4G"):
    n = len(x)
    return gpd.GeoDataFrame({
        "x": np.asarray(x, float), "y": np.asarray(y, float),
        "azimuth_deg": np.asarray(azimuth, float), "beamwidth_deg": np.asarray(beamwidth, float),
        "operator": np.broadcast_to(operator, n), "technology": np.broadcast_to(technology, n)},
        geometry=gpd.points_from_xy(x, y), crs=32648)


def _assert_agrees_with_unions(got, cells, radius, px, py):
    """Each key's hits are contains_xy of the union of its drawn footprints."""
    polys = footprints(cells, radius, pathloss_exponent=3.5)
    for key, hit in got.items():
        mine = ((cells["operator"] == key[0]) & (cells["technology"] == key[1])).to_numpy()
        union = shapely.union_all(polys[mine])
        assert hit.tolist() == shapely.contains_xy(union, px, py).tolist(), key
        assert 0 < hit.sum() < len(px)


def _polygon_verdict(cells, radius, x, y, n=3.5):
    shapes = footprints(cells, radius, pathloss_exponent=n)
    return np.array([shapely.contains_xy(shapely.union_all(shapes), x, y)]).ravel()


# ------------------------------------------------------------------ the point test


@settings(max_examples=60, deadline=None)
@given(azimuth=st.one_of(st.just(math.nan), st.floats(0, 360)),
       beamwidth=st.floats(20, 180), radius=st.floats(100, 20000),
       bearing=st.floats(0, 360), exponent=st.floats(2.0, 5.0),
       where=st.sampled_from(["vertex", "between", "random"]),
       offset=st.sampled_from([-1e-6, 1e-6, -1e-3, 1e-3, -0.05, 0.05]))
def test_points_at_the_reach_boundary_get_the_polygons_verdict(
        azimuth, beamwidth, radius, bearing, exponent, where, offset):
    # points just inside and just outside the outline, on a vertex, halfway along an edge
    # (where the straight edge is inside the curve of the formula) or anywhere
    cells = _cells([500_000.0], [2_000_000.0], [azimuth], [beamwidth])
    shape = footprints(cells, np.array([radius]), pathloss_exponent=exponent)[0]
    steps = 144 if not math.isnan(azimuth) else 128
    if where == "vertex":
        bearing = math.floor(bearing / (360 / steps)) * (360 / steps)
        if math.isnan(azimuth):  # the disc's vertices start east
            bearing = (bearing + 90.0) % 360.0
    elif where == "between":
        bearing = (math.floor(bearing / (360 / steps)) + 0.5) * (360 / steps)
        if math.isnan(azimuth):
            bearing = (bearing + 90.0) % 360.0
    far = shapely.LineString([(500_000.0, 2_000_000.0),
                              (500_000.0 + 3 * radius * math.sin(math.radians(bearing)),
                               2_000_000.0 + 3 * radius * math.cos(math.radians(bearing)))])
    edge = far.intersection(shape).length  # distance to the outline along the bearing
    d = edge * (1.0 + offset)
    x = np.array([500_000.0 + d * math.sin(math.radians(bearing))])
    y = np.array([2_000_000.0 + d * math.cos(math.radians(bearing))])
    feet = Footprints(cells, np.array([radius]), pathloss_exponent=exponent, crs=32648)
    got = feet.covered(x, y)[("Viettel", "4G")]
    assert got.tolist() == shapely.contains_xy(shape, x, y).tolist()
    assert got[0] == (offset < 0)


def test_footprints_are_the_vertex_formula_cell_by_cell():
    # footprints() works the pattern out once per (azimuth, beamwidth); every vertex must
    # be, bit for bit, the one _sector_vertices gives that cell alone (the edge test's)
    from covgap.coverage.radius import _SECTOR_STEPS, _sector_vertices

    rng = np.random.default_rng(15)
    n = 400
    az = rng.choice([0.0, 120.0, 240.0, 37.5, 359.9], n)  # repeated pairs ...
    bw = rng.choice([65.0, 90.0], n)
    az[:50], bw[:50] = rng.uniform(0, 360, 50), rng.uniform(20, 180, 50)  # ... and unique
    x, y = rng.uniform(0, 1e5, n), rng.uniform(0, 1e5, n)
    radius = rng.uniform(500, 20000, n)
    shapes = footprints(_cells(x, y, az, bw), radius, pathloss_exponent=3.2)
    k = np.arange(_SECTOR_STEPS)
    for i in range(n):
        px, py = _sector_vertices(x[i], y[i], radius[i], az[i], bw[i], k, 3.2)
        ring = shapely.get_coordinates(shapes[i])
        assert np.array_equal(ring[:-1], np.column_stack([px, py]))
        assert np.array_equal(ring[-1], ring[0])


def test_many_cells_and_points_agree_with_the_unions():
    rng = np.random.default_rng(7)
    n = 200
    x, y = rng.uniform(0, 20000, n), rng.uniform(0, 20000, n)
    x[:12], y[:12] = x[0], y[0]  # a tower with twelve cells
    az = np.where(rng.random(n) < 0.3, np.nan, rng.uniform(0, 360, n))
    cells = _cells(x, y, az, rng.uniform(30, 120, n))
    cells["operator"] = rng.choice(["A", "B"], n)
    cells["technology"] = rng.choice(["4G", "5G"], n)
    radius = rng.uniform(300, 5000, n)
    px, py = rng.uniform(-3000, 23000, 40000), rng.uniform(-3000, 23000, 40000)
    feet = Footprints(cells, radius, pathloss_exponent=3.5, crs=32648)
    got = feet.covered(px, py)
    _assert_agrees_with_unions(got, cells, radius, px, py)
    # a key it does not have covers nothing; asking again reuses the answer
    assert not feet.covered(px, py, [("C", "4G")])[("C", "4G")].any()
    assert feet.covered(px, py)[("A", "4G")].tolist() == got[("A", "4G")].tolist()


def test_areas_are_built_on_first_read_only(tmp_path):
    cells = _cells([0.0, 3000.0], [0.0, 0.0], [math.nan, 90.0], [65.0, 65.0])
    cells["technology"] = ["4G", "5G"]
    feet = Footprints(cells, np.array([2000.0, 1000.0]), pathloss_exponent=3.5, crs=32648)
    cov = covgap.coverage.Coverage(model="radius", parameters={}, min_rsrp_dbm=-110.0,
                                   cells=cells, footprints=feet)
    assert cov.keys() == [("Viettel", "4G"), ("Viettel", "5G")]
    assert cov.vector_keys() == cov.keys()
    assert feet._areas is None and cov.__dict__.get("_areas") is None  # keys: no union
    back = pickle.loads(pickle.dumps(cov))  # e.g. to a process that writes maps
    areas = cov.areas
    assert list(areas["technology"]) == ["4G", "5G"]
    assert areas.geometry.iloc[0].area == pytest.approx(math.pi * 2000**2, rel=1e-3)
    assert cov.areas is areas  # once
    assert back.areas.geometry.iloc[0].equals(areas.geometry.iloc[0])
    # a coverage with areas given keeps them
    other = dataclasses.replace(cov, areas=areas.iloc[:1])
    assert len(other.areas) == 1


# ------------------------------------------------------------------ whole runs


def _by_unions(cov):
    """The same coverage judged the old way: the unions, no footprints."""
    return dataclasses.replace(cov, footprints=None, areas=cov.areas.copy())


@pytest.fixture(scope="module")
def sample_radius():
    cfg = covgap.load_config(SAMPLE_TOML)
    cfg = dataclasses.replace(cfg, coverage=dataclasses.replace(cfg.coverage, model="radius"))
    inputs = covgap.read_inputs(cfg)
    return cfg, inputs, compute_coverage(inputs, cfg)


@pytest.mark.filterwarnings("ignore::covgap.errors.CovgapWarning")
def test_sample_villages_are_the_same_without_unions(sample_radius):
    cfg, inputs, cov = sample_radius
    assert cov.__dict__.get("_areas") is None  # the model built no union
    fast = analyse(inputs, cov, cfg)
    assert cov.footprints._areas is None  # nor did the village stage, for point villages
    slow = analyse(inputs, _by_unions(cov), cfg)
    pd.testing.assert_frame_equal(pd.DataFrame(fast.villages), pd.DataFrame(slow.villages))
    pd.testing.assert_frame_equal(fast.gaps, slow.gaps)
    pd.testing.assert_frame_equal(fast.indicators, slow.indicators)
    assert fast.villages["mbb_covered"].sum() > 0 and (~fast.villages["mbb_covered"]).sum() > 0


@pytest.mark.parametrize("with_population", [True, False])
def test_sample_village_discs_get_the_same_shares(sample_radius, with_population):
    # villages as 800 m discs: people (population cell centres tested against the
    # footprints) or area (the union, built on demand)
    _cfg, inputs, cov = sample_radius
    layers = {op: [(op, "4G"), (op, "5G")] for op in sorted(set(cov.cells["operator"]))}
    layers["any"] = [k for v in layers.values() for k in v]
    villages = inputs.villages.to_crs(inputs.metric_crs)
    population = inputs.population if with_population else None
    fast = coverage_shares(villages, cov, layers=layers, population=population,
                           point_radius_m=800.0)
    slow = coverage_shares(villages, _by_unions(cov), layers=layers, population=population,
                           point_radius_m=800.0)
    assert set(fast["basis"]) == {"population" if with_population else "area"}
    pd.testing.assert_frame_equal(fast, slow, rtol=1e-9)
    assert 0 < fast["any"].mean() < 1


@pytest.mark.filterwarnings("ignore::covgap.errors.CovgapWarning")
def test_national_slice_villages_are_the_same_without_unions(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from make_national import generate
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    generate(tmp_path, seed=11, scale=0.01)
    cfg = covgap.load_config(tmp_path / "radius.toml")
    inputs = covgap.read_inputs(cfg)
    cov = compute_coverage(inputs, cfg)
    fast = analyse(inputs, cov, cfg)
    slow = analyse(inputs, _by_unions(cov), cfg)
    pd.testing.assert_frame_equal(pd.DataFrame(fast.villages), pd.DataFrame(slow.villages))
    pd.testing.assert_frame_equal(fast.gaps, slow.gaps)
    covered = fast.villages["mbb_covered"]
    assert 0 < covered.sum() < len(covered)


def test_the_all_operator_union_is_computed_once_per_coverage():
    cells = _cells([0.0, 3000.0], [0.0, 0.0], [math.nan, math.nan], [65.0, 65.0])
    cells["operator"] = ["A", "B"]
    feet = Footprints(cells, np.array([2000.0, 2000.0]), pathloss_exponent=3.5, crs=32648)
    cov = covgap.coverage.Coverage(model="radius", parameters={}, min_rsrp_dbm=-110.0,
                                   cells=cells, footprints=feet)
    union = cov.area_union(["4G"])
    assert cov.area_union(["4G"]) is union  # the second map reads the first one's
    assert union.area == pytest.approx(2 * math.pi * 2000**2 - _lens(2000.0, 3000.0), rel=2e-3)
    assert cov.area_union(["4G"], operator="A").area == pytest.approx(math.pi * 2000**2,
                                                                       rel=1e-3)
    cov.areas = cov.areas.iloc[:1]  # new areas: a new union
    assert cov.area_union(["4G"]).area == pytest.approx(math.pi * 2000**2, rel=1e-3)


def _lens(r, d):
    """Area of the overlap of two discs of radius r whose centres are d apart."""
    return 2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)


@pytest.mark.parametrize("exponent", [2.0, 3.5, 4.5])
def test_reach_bounds_decide_most_pairs_and_agree_with_each_polygon(exponent):
    # the reach bounds (radius._verdict, compiled) settle most sector pairs without the
    # edge test: every verdict must still be the polygon's own, cell by cell
    rng = np.random.default_rng(int(exponent * 10))
    n = 60
    x, y = rng.uniform(0, 10000, n), rng.uniform(0, 10000, n)
    az = np.where(rng.random(n) < 0.3, np.nan, rng.uniform(0, 360, n))  # some omni
    cells = _cells(x, y, az, rng.uniform(20, 180, n))
    radius = rng.uniform(200, 4000, n)
    feet = Footprints(cells, radius, pathloss_exponent=exponent, crs=32648)
    polys = footprints(cells, radius, pathloss_exponent=exponent)
    ci = np.repeat(np.arange(n), 2000)
    # points around each site, many close to its outline
    bearing = rng.uniform(0, 2 * np.pi, len(ci))
    d = radius[ci] * rng.uniform(0, 1.05, len(ci))
    px, py = x[ci] + d * np.sin(bearing), y[ci] + d * np.cos(bearing)
    got = feet._inside(ci, px, py)
    want = shapely.contains_xy(polys[ci], px, py)
    assert got.tolist() == want.tolist()
    status = feet._status(ci, px, py)
    sure, todo = status == 1, status == 2
    assert todo.mean() < 0.2 and sure.any() and (status == 0).any()
    assert got[sure].all() and not got[status == 0].any()


def test_point_test_on_two_threads_agrees_with_the_unions():
    # Enough points x locations (over 1e7) for the point test to split the locations over
    # two threads; the answer must not depend on it.
    rng = np.random.default_rng(11)
    n = 150
    x, y = rng.uniform(0, 30000, n), rng.uniform(0, 30000, n)
    az = np.where(rng.random(n) < 0.5, np.nan, rng.uniform(0, 360, n))
    cells = _cells(x, y, az, rng.uniform(30, 120, n))
    cells["operator"] = rng.choice(["A", "B"], n)
    radius = rng.uniform(500, 6000, n)
    px, py = rng.uniform(-2000, 32000, 80000), rng.uniform(-2000, 32000, 80000)
    feet = Footprints(cells, radius, pathloss_exponent=3.5, crs=32648)
    _assert_agrees_with_unions(feet.covered(px, py), cells, radius, px, py)


def test_point_test_with_tiny_pair_lists_agrees(monkeypatch):
    # Lists of undecided pairs too small for one location: they grow, and full lists are
    # settled before the next location; the answer is the same.
    import covgap.coverage.radius as radius_module

    rng = np.random.default_rng(12)
    n = 40
    x, y = rng.uniform(0, 10000, n), rng.uniform(0, 10000, n)
    cells = _cells(x, y, np.full(n, np.nan), np.full(n, 65.0))
    radius = rng.uniform(500, 3000, n)
    px, py = rng.uniform(0, 10000, 20000), rng.uniform(0, 10000, 20000)
    want = Footprints(cells, radius, pathloss_exponent=3.5, crs=32648).covered(px, py)
    monkeypatch.setattr(radius_module, "_PAIR_CHUNK", 3)
    got = Footprints(cells, radius, pathloss_exponent=3.5, crs=32648).covered(px, py)
    assert got[("Viettel", "4G")].tolist() == want[("Viettel", "4G")].tolist()
    assert 0 < want[("Viettel", "4G")].sum() < len(px)
