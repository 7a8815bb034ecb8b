"""Village coverage shares on small worlds whose answers are known by hand.

Everything is in UTM 48N (EPSG:32648) around (590000, 2200000), about lon 105.85,
lat 19.9, like tests/test_coverage.py.
"""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from conftest import write_raster
from pyproj import CRS
from shapely.geometry import LineString, MultiPoint, Point, box

from covgap.analysis.shares import coverage_shares
from covgap.config import LayerInput, load_config
from covgap.coverage import compute_coverage
from covgap.coverage.grid import Grid
from covgap.coverage.result import Coverage
from covgap.errors import InputError
from covgap.io import Inputs, read_raster

UTM = CRS.from_epsg(32648)
X0, Y0 = 590000.0, 2200000.0
RES = 100.0


def vector_coverage(shapes):
    """A Coverage whose vector areas are ``{(operator, technology): geometry}``."""
    areas = gpd.GeoDataFrame({"operator": [k[0] for k in shapes],
                              "technology": [k[1] for k in shapes]},
                             geometry=list(shapes.values()), crs=UTM)
    return Coverage(model="radius", parameters={}, min_rsrp_dbm=-110.0,
                    cells=gpd.GeoDataFrame(geometry=[], crs=UTM), areas=areas)


def raster_grid(width=10, height=10):
    """A 100 m grid whose north-west corner is (X0, Y0 + height * 100)."""
    return Grid(crs=UTM, transform=Affine(RES, 0.0, X0, 0.0, -RES, Y0 + height * RES),
                width=width, height=height)


def raster_coverage(masks, grid=None):
    """A Coverage with binary rasters ``{(operator, technology): bool array}``."""
    return Coverage(model="raster", parameters={}, min_rsrp_dbm=-110.0,
                    cells=gpd.GeoDataFrame(geometry=[], crs=UTM), grid=grid or raster_grid(),
                    binary=masks)


def cells_box(col0, row0, col1, row1, height=10):
    """Box over grid columns col0..col1 and rows row0..row1 (row 0 at the top)."""
    top = Y0 + height * RES
    return box(X0 + col0 * RES, top - row1 * RES, X0 + col1 * RES, top - row0 * RES)


def frame(geoms, crs=UTM):
    return gpd.GeoDataFrame({"village_id": [f"V{i}" for i in range(len(geoms))]},
                            geometry=list(geoms), crs=crs)


def population_layer(tmp_path, data, *, crs="EPSG:32648", west=X0, north=Y0 + 1000.0,
                     res=RES, nodata=-1.0):
    path = write_raster(tmp_path / "pop.tif", np.asarray(data, dtype="float32"), west=west,
                        north=north, res=res, crs=crs, nodata=nodata)
    return read_raster(LayerInput(path=path), kind="population")


# ------------------------------------------------------------------ area shares, vector


def test_a_village_half_inside_a_coverage_disc_has_area_share_one_half():
    centre = (X0 + 10000, Y0 + 10000)
    communes = gpd.GeoDataFrame({"commune_code": ["00001"], "commune_name": ["Xã Thử"]},
                                geometry=[box(X0, Y0, X0 + 20000, Y0 + 20000)],
                                crs=UTM).to_crs(4326)
    site = {"site_id": "A", "operator": "Viettel", "technology": "4G", "azimuth_deg": np.nan,
            "beamwidth_deg": np.nan, "height_m": 30.0, "eirp_dbm": 61.0,
            "frequency_mhz": 1800.0, "geometry": Point(centre)}
    sites = gpd.GeoDataFrame([site], geometry="geometry", crs=UTM).to_crs(4326)
    inputs = Inputs(communes=communes, villages=frame([Point(centre)]).to_crs(4326),
                    sites=sites, fibre=None, dem=None, population=None, metric_crs=UTM)
    config = load_config({"inputs": {"communes": "c", "villages": "v", "sites": "s"},
                          "coverage": {"model": "radius", "radius_m": {"4G": 5000}}})
    cov = compute_coverage(inputs, config)
    # a narrow rectangle (20 m x 400 m) crossing the circle radially, midpoint on it
    east = box(centre[0] + 4800, centre[1] - 10, centre[0] + 5200, centre[1] + 10)
    north = shapely.affinity.rotate(east, 90, origin=centre)
    out = coverage_shares(frame([east, north]), cov, layers={"mbb": [("Viettel", "4G")]})
    assert out["mbb"].to_numpy() == pytest.approx([0.5, 0.5], abs=0.001)
    assert out["basis"].tolist() == ["area", "area"]
    assert out["weight"].to_numpy() == pytest.approx([8000.0, 8000.0])


def test_area_share_is_exact_for_a_straight_boundary():
    cov = vector_coverage({("Viettel", "4G"): box(X0 - 5000, Y0 - 5000, X0, Y0 + 5000)})
    villages = frame([box(X0 - 150, Y0, X0 + 150, Y0 + 200),   # half
                      box(X0 - 300, Y0, X0 - 100, Y0 + 200),   # inside
                      box(X0 + 10, Y0, X0 + 210, Y0 + 200),    # outside
                      box(X0 - 75, Y0, X0 + 225, Y0 + 100)])   # a quarter
    out = coverage_shares(villages, cov, layers={"Viettel": [("Viettel", "4G")]})
    assert out["Viettel"].to_numpy() == pytest.approx([0.5, 1.0, 0.0, 0.25], abs=1e-12)


def test_many_villages_on_a_fragmented_union_agree_with_plain_intersection():
    # enough discs that the union is cut into many pieces
    rng = np.random.default_rng(7)
    discs = shapely.buffer(shapely.points(rng.uniform(X0, X0 + 20000, 300),
                                          rng.uniform(Y0, Y0 + 20000, 300)), 800.0)
    union = shapely.union_all(discs)
    cov = vector_coverage({("VNPT", "4G"): union})
    villages = shapely.buffer(shapely.points(rng.uniform(X0, X0 + 20000, 500),
                                             rng.uniform(Y0, Y0 + 20000, 500)), 300.0,
                              quad_segs=4)
    out = coverage_shares(frame(villages), cov, layers={"mbb": [("VNPT", "4G")]})
    expected = shapely.area(shapely.intersection(villages, union)) / shapely.area(villages)
    assert out["mbb"].to_numpy() == pytest.approx(expected, abs=1e-9)


# ------------------------------------------------------------------ area shares, raster


def test_raster_area_share_is_the_covered_fraction_of_aligned_cells():
    mask = np.zeros((10, 10), dtype=bool)
    mask[2:4, 2:5] = True  # 6 covered cells
    cov = raster_coverage({("MobiFone", "4G"): mask})
    villages = frame([cells_box(2, 2, 6, 6),          # 16 cells, 6 covered
                      cells_box(2, 2, 4.5, 3),        # 2.5 cells, all covered
                      cells_box(4, 3, 6, 4),          # 2 cells, 1 covered
                      cells_box(8, 2, 12, 4)])        # half outside the grid, none covered
    out = coverage_shares(villages, cov, layers={"MobiFone": [("MobiFone", "4G")]})
    assert out["MobiFone"].to_numpy() == pytest.approx([6 / 16, 1.0, 0.5, 0.0], abs=1e-12)
    # the part outside the grid counts as not covered
    mask[:, 8:] = True
    out = coverage_shares(villages.iloc[[3]], cov, layers={"m": [("MobiFone", "4G")]})
    assert out["m"].iloc[0] == pytest.approx(0.5, abs=1e-12)


def test_signal_rasters_use_the_threshold():
    signal = np.full((10, 10), -100.0, dtype="float32")
    signal[:, 5:] = -115.0
    cov = Coverage(model="pathloss", parameters={}, min_rsrp_dbm=-110.0,
                   cells=gpd.GeoDataFrame(geometry=[], crs=UTM), grid=raster_grid(),
                   signal={("Viettel", "4G"): signal})
    out = coverage_shares(frame([cells_box(3, 0, 7, 2)]), cov,
                          layers={"Viettel": [("Viettel", "4G")]})
    assert out["Viettel"].iloc[0] == pytest.approx(0.5, abs=1e-12)


# ------------------------------------------------------------------ population shares


POP = np.arange(1, 101, dtype=float).reshape(10, 10)  # row r, column c holds 10 r + c + 1


def hand_sums(covered_cols):
    """People in the village over rows 3..5, columns 2..7.5, and those covered."""
    rows = POP[3:6]
    total = rows[:, 2:7].sum() + 0.5 * rows[:, 7].sum()
    covered = rows[:, covered_cols].sum()
    return total, covered


def test_population_share_is_the_hand_sum_with_vector_coverage(tmp_path):
    pop = population_layer(tmp_path, POP)
    # covers the centres of columns 0..4 exactly (its edge runs between cells)
    cov = vector_coverage({("VNPT", "4G"): box(X0 - 1000, Y0 - 1000, X0 + 500, Y0 + 2000)})
    village = cells_box(2, 3, 7.5, 6)
    out = coverage_shares(frame([village]), cov, layers={"VNPT": [("VNPT", "4G")]},
                          population=pop)
    total, covered = hand_sums([2, 3, 4])
    assert out["basis"].iloc[0] == "population"
    assert out["weight"].iloc[0] == pytest.approx(total, abs=1e-9)
    assert out["VNPT"].iloc[0] == pytest.approx(covered / total, abs=1e-9)


def test_population_share_is_the_hand_sum_with_raster_coverage(tmp_path):
    pop = population_layer(tmp_path, POP)
    mask = np.zeros((10, 10), dtype=bool)
    mask[:, [3, 7]] = True  # the half cell of column 7 counts half
    cov = raster_coverage({("VNPT", "4G"): mask})
    out = coverage_shares(frame([cells_box(2, 3, 7.5, 6)]), cov,
                          layers={"VNPT": [("VNPT", "4G")]}, population=pop)
    total, _ = hand_sums([])
    covered = POP[3:6, 3].sum() + 0.5 * POP[3:6, 7].sum()
    assert out["weight"].iloc[0] == pytest.approx(total, abs=1e-9)
    assert out["VNPT"].iloc[0] == pytest.approx(covered / total, abs=1e-9)


def test_population_raster_in_degrees(tmp_path):
    # 0.001 degree cells; the village's corners are cell corners in degrees
    res, west, north = 0.001, 105.85, 19.9
    pop = population_layer(tmp_path, POP, crs="EPSG:4326", west=west, north=north, res=res)
    village = gpd.GeoSeries([box(west + 2 * res, north - 6 * res, west + 7.5 * res,
                                 north - 3 * res)], crs=4326).to_crs(UTM)
    covered_area = gpd.GeoSeries([box(west - 0.01, north - 0.01, west + 5 * res, north)],
                                 crs=4326).to_crs(UTM)
    cov = vector_coverage({("VNPT", "4G"): covered_area.iloc[0]})
    out = coverage_shares(frame(village), cov, layers={"VNPT": [("VNPT", "4G")]},
                          population=pop)
    total, covered = hand_sums([2, 3, 4])
    assert out["weight"].iloc[0] == pytest.approx(total, rel=1e-6)
    assert out["VNPT"].iloc[0] == pytest.approx(covered / total, rel=1e-6)


def test_a_village_without_people_falls_back_to_area(tmp_path):
    data = POP.copy()
    data[:, :5] = 0.0   # nobody in the west half
    data[0, :] = -1.0   # nodata in the top row
    pop = population_layer(tmp_path, data)
    cov = vector_coverage({("VNPT", "4G"): box(X0, Y0, X0 + 150, Y0 + 5000)})
    villages = frame([cells_box(0, 2, 4, 4),     # 8 cells, no people; 1.5 of 4 columns covered
                      cells_box(0, 0, 1, 1),     # nodata only
                      cells_box(20, 0, 22, 2),   # outside the raster
                      cells_box(0, 2, 6, 3)])    # people only in column 5 (not covered)
    out = coverage_shares(villages, cov, layers={"VNPT": [("VNPT", "4G")]}, population=pop)
    assert out["basis"].tolist() == ["area", "area", "area", "population"]
    assert out["weight"].to_numpy() == pytest.approx([80000.0, 10000.0, 40000.0, POP[2, 5]])
    assert out["VNPT"].to_numpy() == pytest.approx([1.5 / 4, 1.0, 0.0, 0.0], abs=1e-12)


# ------------------------------------------------------------------ point villages


def test_point_villages_are_covered_or_not():
    cov = vector_coverage({("Viettel", "4G"): box(X0, Y0, X0 + 1000, Y0 + 1000)})
    villages = frame([Point(X0 + 500, Y0 + 500), Point(X0 + 1500, Y0 + 500),
                      MultiPoint([(X0 + 500, Y0 + 500), (X0 + 1500, Y0 + 500)])])
    out = coverage_shares(villages, cov, layers={"mbb": [("Viettel", "4G")]})
    assert out["mbb"].tolist() == [1.0, 0.0, 0.5]
    assert out["basis"].tolist() == ["point"] * 3
    assert out["weight"].isna().all()


def test_point_villages_on_a_raster():
    mask = np.zeros((10, 10), dtype=bool)
    mask[9, 0] = True  # the south-west cell
    cov = raster_coverage({("Viettel", "4G"): mask})
    villages = frame([Point(X0 + 50, Y0 + 50), Point(X0 + 150, Y0 + 50),
                      Point(X0 - 50, Y0 + 50), Point(X0 + 50, Y0 - 50)])
    out = coverage_shares(villages, cov, layers={"mbb": [("Viettel", "4G")]})
    assert out["mbb"].tolist() == [1.0, 0.0, 0.0, 0.0]  # the last two are off the grid


def test_point_villages_with_a_radius_are_discs():
    cov = vector_coverage({("Viettel", "4G"): box(X0 - 5000, Y0 - 5000, X0, Y0 + 5000)})
    villages = frame([Point(X0, Y0), Point(X0 - 1000, Y0)])
    out = coverage_shares(villages, cov, layers={"mbb": [("Viettel", "4G")]},
                          point_radius_m=300.0)
    assert out["mbb"].to_numpy() == pytest.approx([0.5, 1.0], abs=1e-12)
    assert out["basis"].tolist() == ["area", "area"]
    assert out["weight"].to_numpy() == pytest.approx([math.pi * 300**2] * 2, rel=1e-3)


def test_point_discs_count_people(tmp_path):
    pop = population_layer(tmp_path, np.ones((10, 10)))
    cov = vector_coverage({("Viettel", "4G"): box(X0 - 5000, Y0, X0 + 500, Y0 + 5000)})
    village = frame([Point(X0 + 500, Y0 + 500)])
    out = coverage_shares(village, cov, layers={"mbb": [("Viettel", "4G")]}, population=pop,
                          point_radius_m=200.0)
    # a disc symmetric about the coverage's edge, on a uniform raster
    assert out["basis"].iloc[0] == "population"
    assert out["weight"].iloc[0] == pytest.approx(math.pi * 200**2 / RES**2, rel=1e-3)
    assert out["mbb"].iloc[0] == pytest.approx(0.5, abs=1e-9)


# ------------------------------------------------------------------ layers


def test_a_layer_is_the_union_of_its_keys():
    left, right = box(X0, Y0, X0 + 100, Y0 + 200), box(X0 + 100, Y0, X0 + 200, Y0 + 200)
    cov = vector_coverage({("Viettel", "4G"): left, ("Viettel", "5G"): right,
                           ("VNPT", "4G"): left})
    layers = {"Viettel": [("Viettel", "4G"), ("Viettel", "5G")],
              "Viettel 4G": [("Viettel", "4G")],
              "mbb": [("Viettel", "4G"), ("VNPT", "4G")],
              "MobiFone": [("MobiFone", "4G")],
              "none": []}
    out = coverage_shares(frame([box(X0, Y0, X0 + 200, Y0 + 200)]), cov, layers=layers)
    assert out.columns.tolist() == [*layers, "basis", "weight"]
    assert out.iloc[0][list(layers)].tolist() == pytest.approx([1.0, 0.5, 0.5, 0.0, 0.0],
                                                               abs=1e-12)


def test_raster_layers_are_unions_too():
    a4, a5 = np.zeros((10, 10), dtype=bool), np.zeros((10, 10), dtype=bool)
    a4[:, :5], a5[:, 5:] = True, True
    cov = raster_coverage({("Viettel", "4G"): a4, ("Viettel", "5G"): a5})
    out = coverage_shares(frame([cells_box(3, 3, 7, 5), Point(X0 + 750, Y0 + 250)]), cov,
                          layers={"Viettel": [("Viettel", "4G"), ("Viettel", "5G")],
                                  "4G": [("Viettel", "4G")]})
    assert out["Viettel"].tolist() == pytest.approx([1.0, 1.0], abs=1e-12)
    assert out["4G"].tolist() == pytest.approx([0.5, 0.0], abs=1e-12)


def test_polygon_maps_mixed_with_raster_maps_are_burnt_into_the_grid():
    mask = np.zeros((10, 10), dtype=bool)
    mask[:, :2] = True
    cov = raster_coverage({("Viettel", "4G"): mask})
    # a polygon map for VNPT with no raster of its own: burnt in by cell centre
    cov.areas = gpd.GeoDataFrame({"operator": ["VNPT"], "technology": ["4G"]},
                                 geometry=[cells_box(2, 0, 4.6, 10)], crs=UTM)
    village = frame([cells_box(0, 0, 10, 1)])
    out = coverage_shares(village, cov, layers={"mbb": [("Viettel", "4G"), ("VNPT", "4G")],
                                                "VNPT": [("VNPT", "4G")]})
    assert out["mbb"].iloc[0] == pytest.approx(0.5, abs=1e-12)  # columns 0..4
    assert out["VNPT"].iloc[0] == pytest.approx(0.26, abs=1e-12)  # vector alone: exact


# ------------------------------------------------------------------ contract


def test_inputs_are_not_mutated_and_other_crs_are_reprojected(tmp_path):
    pop = population_layer(tmp_path, POP)
    cov = vector_coverage({("VNPT", "4G"): box(X0 - 1000, Y0 - 1000, X0 + 500, Y0 + 2000)})
    villages = frame([cells_box(2, 3, 7.5, 6), Point(X0 + 50, Y0 + 50)]).set_index("village_id")
    villages_before = villages.copy()
    areas_before = cov.areas.copy()
    out = coverage_shares(villages, cov, layers={"VNPT": [("VNPT", "4G")]}, population=pop,
                          point_radius_m=100.0)
    pd.testing.assert_frame_equal(villages, villages_before)
    pd.testing.assert_frame_equal(cov.areas, areas_before)
    assert out.index.tolist() == ["V0", "V1"]
    in_degrees = coverage_shares(villages.to_crs(4326), cov, layers={"VNPT": [("VNPT", "4G")]},
                                 population=pop, point_radius_m=100.0)
    assert in_degrees["VNPT"].to_numpy() == pytest.approx(out["VNPT"].to_numpy(), abs=1e-6)


def test_missing_geometry_gives_nan():
    cov = vector_coverage({("VNPT", "4G"): box(X0, Y0, X0 + 100, Y0 + 100)})
    out = coverage_shares(frame([None, Point(X0 + 50, Y0 + 50)]), cov,
                          layers={"mbb": [("VNPT", "4G")]})
    assert np.isnan(out["mbb"].iloc[0]) and out["mbb"].iloc[1] == 1.0
    assert out["basis"].tolist() == ["none", "point"]


def test_empty_villages():
    cov = vector_coverage({("VNPT", "4G"): box(X0, Y0, X0 + 100, Y0 + 100)})
    out = coverage_shares(frame([]), cov, layers={"mbb": [("VNPT", "4G")]})
    assert out.empty and out.columns.tolist() == ["mbb", "basis", "weight"]


def test_lines_are_rejected_with_their_feature_number():
    cov = vector_coverage({("VNPT", "4G"): box(X0, Y0, X0 + 100, Y0 + 100)})
    villages = frame([Point(X0, Y0), LineString([(X0, Y0), (X0 + 10, Y0)])])
    # the second feature, numbered from 1 as everywhere (covgap.io.problems.ROW)
    with pytest.raises(InputError, match=r"villages feature 2 \(village_id=V1\): is a "
                                         r"LineString, "
                                         r"expected a point or a polygon"):
        coverage_shares(villages, cov, layers={"mbb": [("VNPT", "4G")]})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"layers": {"basis": []}}, r"'basis' is a column of the result"),
    ({"layers": {"mbb": []}, "point_radius_m": -5.0}, r"point_radius_m must be a distance >= 0"),
])
def test_bad_options(kwargs, message):
    cov = vector_coverage({("VNPT", "4G"): box(X0, Y0, X0 + 100, Y0 + 100)})
    with pytest.raises(ValueError, match=message):
        coverage_shares(frame([Point(X0, Y0)]), cov, **kwargs)


def test_villages_need_a_crs():
    cov = vector_coverage({("VNPT", "4G"): box(X0, Y0, X0 + 100, Y0 + 100)})
    with pytest.raises(ValueError, match=r"villages have no CRS; set it"):
        coverage_shares(frame([Point(X0, Y0)], crs=None), cov, layers={"mbb": []})


def test_population_raster_must_be_north_up(tmp_path):
    pop = population_layer(tmp_path, POP)
    south_up = type(pop)(**{**pop.__dict__, "transform": Affine(RES, 0, X0, 0, RES, Y0)})
    cov = vector_coverage({("VNPT", "4G"): box(X0, Y0, X0 + 100, Y0 + 100)})
    with pytest.raises(InputError, match=r"pop.tif: the population raster must be north-up"):
        coverage_shares(frame([box(X0, Y0, X0 + 50, Y0 + 50)]), cov,
                        layers={"mbb": [("VNPT", "4G")]}, population=south_up)


def test_large_rasters_are_read_in_windows(tmp_path, monkeypatch):
    import covgap.analysis.shares as shares

    rng = np.random.default_rng(3)
    pop = population_layer(tmp_path, rng.uniform(0, 50, (10, 10)))
    cov = vector_coverage({("VNPT", "4G"): box(X0, Y0, X0 + 430, Y0 + 610)})
    villages = frame(shapely.buffer(shapely.points(rng.uniform(X0, X0 + 1000, 40),
                                                   rng.uniform(Y0, Y0 + 1000, 40)), 120.0))
    layers = {"VNPT": [("VNPT", "4G")]}
    whole = coverage_shares(villages, cov, layers=layers, population=pop)
    monkeypatch.setattr(shares, "_MAX_WINDOW_CELLS", 9)
    two_clusters = np.array([[0, 0, 3, 3]] * 20 + [[7, 7, 10, 10]] * 20)
    assert len(shares._groups(np.arange(40), two_clusters)) == 2
    windowed = coverage_shares(villages, cov, layers=layers, population=pop)
    pd.testing.assert_frame_equal(windowed, whole, atol=1e-9)
    # no layers at all: only the basis and the weight
    bare = coverage_shares(villages, cov, layers={}, population=pop)
    assert bare.columns.tolist() == ["basis", "weight"]
    assert bare["weight"].to_numpy() == pytest.approx(whole["weight"].to_numpy())


def test_raster_sequential_sums_are_feature_sequential_sums(tmp_path, monkeypatch):
    """exactextract's raster-sequential strategy (the raster handed over once) gives the
    very sums of its default, village after village, on overlapping villages of every
    size and a raster with nodata and a coverage edge through it."""
    import covgap.analysis.shares as shares

    rng = np.random.default_rng(11)
    values = rng.uniform(0, 80, (40, 40))
    values[rng.uniform(size=values.shape) < 0.05] = -1.0  # the layer's nodata
    pop = population_layer(tmp_path, values, north=Y0 + 4000.0)
    cov = vector_coverage({("VNPT", "4G"): Point(X0 + 1700, Y0 + 2100).buffer(1300)})
    villages = frame(shapely.buffer(shapely.points(rng.uniform(X0, X0 + 4000, 300),
                                                   rng.uniform(Y0, Y0 + 4000, 300)),
                                    rng.uniform(20, 900, 300)))
    layers = {"VNPT": [("VNPT", "4G")]}
    ours = coverage_shares(villages, cov, layers=layers, population=pop)
    monkeypatch.setattr(shares, "_STRATEGY", "feature-sequential")
    default = coverage_shares(villages, cov, layers=layers, population=pop)
    assert (ours["weight"] > 0).sum() > 250 and 0 < ours["VNPT"].mean() < 1
    pd.testing.assert_frame_equal(ours, default, check_exact=True)


def test_many_partly_covered_villages_take_the_threaded_intersections():
    # 10,000 unit-square villages (metres x 100), each with its lower half under one of
    # 100 strips: 10,000 (village, piece) pairs, none covered whole, enough for the
    # intersections to run in chunks side by side; every share is exactly one half.
    k = np.arange(100) * 100.0
    xx, yy = np.meshgrid(k, k)
    villages = gpd.GeoDataFrame(geometry=shapely.box(xx.ravel(), yy.ravel(), xx.ravel() + 100,
                                                     yy.ravel() + 100), crs=UTM)
    strips = shapely.multipolygons(shapely.box(0.0, k, 10_000.0, k + 50.0))
    cov = vector_coverage({("Viettel", "4G"): strips})
    got = coverage_shares(villages, cov, layers={"mbb": [("Viettel", "4G")]})
    assert (got["basis"] == "area").all()
    assert np.allclose(got["mbb"], 0.5, rtol=0, atol=1e-12)
