"""Candidate sites judged by the run's own model; sharing, satellite and fibre."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point
from test_analysis import world_with_villages
from test_coverage import X0, Y0, cell

import covgap
from covgap.analysis import analyse
from covgap.coverage import compute_coverage
from covgap.planning import CANDIDATE_COLUMNS, plan
from covgap.planning.candidates import candidate_cover


def run_plan(inputs, **sections):
    cfg = covgap.load_config({"inputs": {"communes": "c", "villages": "v", "sites": "s"},
                              "coverage": {"resolution_m": 100.0},
                              **{k: v for k, v in sections.items()}})
    cov = compute_coverage(inputs, cfg)
    analysis = analyse(inputs, cov, cfg)
    return cov, analysis, plan(inputs, cov, analysis, cfg), cfg


def test_a_candidate_behind_a_ridge_gets_no_credit(tmp_path):
    # village in a valley at x = 9 km; a ridge at x = 7 km; an existing tower of
    # another operator at x = 5 km (behind the ridge) and none in the valley
    dem = np.full((200, 200), 100.0)
    dem[:, 70] = 600.0
    villages = [{"village_id": "valley", "village_name": "Bản Khuất",
                 "geometry": Point(X0 + 9050, Y0 + 10050)}]
    tower = cell("VNPT-1", X0 + 5050, Y0 + 10050, operator="VNPT")
    inputs = world_with_villages(tmp_path, villages, dem=dem, cells=[tower])
    cov, analysis, _, cfg = run_plan(inputs, coverage={"model": "terrain",
                                                        "resolution_m": 100.0})
    assert analysis.villages["lom_song"].all()
    demand = gpd.GeoDataFrame(geometry=[Point(X0 + 9050, Y0 + 10050)], crs=inputs.metric_crs)
    cands = pd.DataFrame({"x": [X0 + 5050, X0 + 9550], "y": [Y0 + 10050] * 2,
                          "height_m": [35.0, 35.0]})
    indptr, _ = candidate_cover(cands, demand, cov, cfg)
    assert indptr.tolist() == [0, 0, 1]  # the tower behind the ridge covers nothing
    # the radius model would have credited the tower
    cov_r, _, _, cfg_r = run_plan(inputs, coverage={"model": "radius", "resolution_m": 100.0})
    indptr, _ = candidate_cover(cands, demand, cov_r, cfg_r)
    assert indptr.tolist() == [0, 1, 2]


def test_sharing_is_chosen_over_a_new_site_covering_the_same_people(tmp_path):
    # Viettel covers nothing near the village; VNPT's tower 300 m from it does; a grid
    # node would cover the same village: the shared tower is proposed for Viettel
    villages = [{"village_id": "v1", "village_name": "Thôn Một",
                 "geometry": Point(X0 + 4000, Y0 + 4000)}]
    cells = [cell("VT-1", X0 + 16000, Y0 + 16000), cell("VN-1", X0 + 4300, Y0 + 4000,
                                                        operator="VNPT")]
    inputs = world_with_villages(tmp_path, villages, cells=cells)
    for mode in ("greedy", "exact"):
        _, _, p, _ = run_plan(inputs, coverage={"model": "radius", "radius_m": {"4G": 2000}},
                              candidates={"per_operator": True, "grid_spacing_m": 2000,
                                          "mode": mode})
        viettel = p.candidates[p.candidates["plan"] == "Viettel"]
        assert len(viettel) == 1
        first = viettel.iloc[0]
        assert (first["kind"], first["host_site_id"], first["operator"]) == (
            "share", "VN-1", "Viettel")
        assert first["population_gained"] == 100


def test_unreachable_villages_are_satellite_candidates(tmp_path):
    villages = [{"village_id": "near", "village_name": "Thôn Gần",
                 "geometry": Point(X0 + 16000, Y0 + 10000)},
                {"village_id": "far", "village_name": "Bản Xa",
                 "geometry": Point(X0 + 1000, Y0 + 1000)}]
    inputs = world_with_villages(tmp_path, villages, cells=[cell("A", X0 + 10000,
                                                                 Y0 + 10000)])
    # candidates reach 500 m; the grid is 5 km: no grid node within 500 m of "far"
    _, _, p, _ = run_plan(inputs, coverage={"model": "radius", "radius_m": {"4G": 500}},
                          candidates={"grid_spacing_m": 5000, "high_point_radius_m": 0})
    v = p.villages.set_index(inputs.villages["village_id"])
    assert bool(v.loc["far", "satellite"])
    assert pd.isna(v.loc["far", "terrestrial_cost_per_person"])


def test_fibre_extensions_are_priced(tmp_path):
    villages = [{"village_id": "v1", "village_name": "Thôn Một",
                 "geometry": Point(X0 + 10050, Y0 + 10050)}]
    fibre = [{"operator": "VNPT", "kind": "node", "fibre_id": "N1",
              "geometry": Point(X0 + 10050 + 3200, Y0 + 10050)}]
    inputs = world_with_villages(tmp_path, villages, fibre=fibre)
    _, _, p, _ = run_plan(inputs, coverage={"model": "radius"},
                          candidates={"fibre_cost_per_km": 100.0})
    row = p.villages.iloc[0]
    assert row["fibre_extension_m"] == pytest.approx(3200, abs=1)
    assert row["fibre_extension_cost"] == pytest.approx(320.0, abs=0.1)


def test_costs_are_empty_without_unit_prices(tmp_path):
    # one village 3.2 km from a fibre node, uncovered: a candidate reaches it
    villages = [{"village_id": "v1", "village_name": "Thôn Một",
                 "geometry": Point(X0 + 4000, Y0 + 4000)}]
    fibre = [{"operator": "VNPT", "kind": "node", "fibre_id": "N1",
              "geometry": Point(X0 + 4000 + 3200, Y0 + 4000)}]
    inputs = world_with_villages(tmp_path, villages, fibre=fibre,
                                 cells=[cell("A", X0 + 16000, Y0 + 16000)])
    radius = {"model": "radius", "radius_m": {"4G": 2000}}
    _, _, p, _ = run_plan(inputs, coverage=radius, candidates={"grid_spacing_m": 2000})
    assert len(p.candidates) == 1 and p.candidates.iloc[0]["population_gained"] == 100
    assert p.candidates[["cost", "cumulative_cost"]].isna().all().all()
    row = p.villages.iloc[0]
    assert pd.isna(row["fibre_extension_cost"]) and pd.isna(row["terrestrial_cost_per_person"])
    assert row["fibre_extension_m"] == pytest.approx(3200, abs=1)
    assert not row["satellite"]  # a candidate reaches it: not a satellite village
    # with unit prices, the same plan carries them
    _, _, p, _ = run_plan(inputs, coverage=radius, candidates={
        "grid_spacing_m": 2000, "cost_new_site": 1500.0, "cost_shared_site": 500.0,
        "fibre_cost_per_km": 100.0, "cost_source": "test prices"})
    assert p.candidates.iloc[0]["cost"] == 1500.0
    assert p.villages.iloc[0]["fibre_extension_cost"] == pytest.approx(320.0, abs=0.1)
    assert p.villages.iloc[0]["terrestrial_cost_per_person"] == pytest.approx(15.0)


def test_a_budget_needs_unit_prices():
    base = {"inputs": {"communes": "c", "villages": "v", "sites": "s"}}
    with pytest.raises(covgap.ConfigError, match="budget needs unit prices"):
        covgap.load_config({**base, "candidates": {"budget": 1000.0}})
    with pytest.raises(covgap.ConfigError, match="go together"):
        covgap.load_config({**base, "candidates": {"cost_new_site": 1000.0}})


def test_sample_candidates_csv(sample_result, tmp_path):
    cands = sample_result.candidates
    assert tuple(cands.columns[: len(CANDIDATE_COLUMNS)]) == CANDIDATE_COLUMNS
    assert cands["rank"].tolist() == list(range(1, len(cands) + 1))
    assert (np.diff(cands["cumulative_population"]) >= 0).all()
    gained = sample_result.gaps["candidate_rank"].notna()
    assert gained.sum() == cands["villages"].sum()


def test_fibre_extension_along_roads_uses_junctions():
    from shapely.geometry import LineString
    from test_coverage import UTM

    from covgap.planning.roads import road_distances
    # village at the west end of an east-west road; the fibre node at the north end of
    # a north-south road that crosses it (no shared vertex: the crossing must be found)
    roads = gpd.GeoDataFrame(geometry=[LineString([(X0, Y0), (X0 + 2000, Y0)]),
                                       LineString([(X0 + 1000, Y0 - 1000),
                                                   (X0 + 1000, Y0 + 1000)])], crs=UTM)
    fibre = gpd.GeoDataFrame({"operator": ["VNPT"], "kind": ["node"]},
                             geometry=[Point(X0 + 1000, Y0 + 1000)], crs=UTM)
    points = gpd.GeoSeries([Point(X0, Y0), Point(X0 + 30, Y0 + 40)], crs=UTM)
    d = road_distances(points, fibre, roads)
    # 1 km east to the crossing, 1 km north; the second village is 50 m off its road
    # vertex (30, 40) and joins it by a straight connector
    assert d["road_distance_VNPT_m"].tolist() == pytest.approx([2000.0, 2050.0], abs=0.1)
    # roads that do not connect the village to the fibre give no distance
    apart = gpd.GeoDataFrame(geometry=[LineString([(X0, Y0), (X0 + 100, Y0)]),
                                       LineString([(X0 + 900, Y0 + 1000),
                                                   (X0 + 1100, Y0 + 1000)])], crs=UTM)
    assert d.index.equals(points.index)
    assert road_distances(points, fibre, apart)["road_distance_m"].isna().all()


def test_road_layer_prices_fibre_extensions_along_roads(tmp_path):
    from shapely.geometry import LineString

    villages = [{"village_id": "v1", "village_name": "Thôn Một",
                 "geometry": Point(X0 + 10050, Y0 + 10050)}]
    fibre = [{"operator": "VNPT", "kind": "node", "fibre_id": "N1",
              "geometry": Point(X0 + 10050 + 3000, Y0 + 10050 + 3000)}]
    inputs = world_with_villages(tmp_path, villages, fibre=fibre)
    inputs.roads = gpd.GeoDataFrame(geometry=[LineString([
        (X0 + 10050, Y0 + 10050), (X0 + 13050, Y0 + 10050), (X0 + 13050, Y0 + 13050)])],
        crs=inputs.metric_crs).to_crs(4326)
    _, _, p, _ = run_plan(inputs, coverage={"model": "radius"},
                          candidates={"fibre_cost_per_km": 100.0})
    row = p.villages.iloc[0]
    assert row["fibre_extension_m"] == pytest.approx(np.hypot(3000, 3000), abs=1)
    assert row["fibre_extension_road_m"] == pytest.approx(6000, abs=1)
    assert row["fibre_extension_basis"] == "roads"
    assert row["fibre_extension_cost"] == pytest.approx(600.0, abs=0.1)


def test_planning_reads_the_analysis_verdicts_and_applies_no_threshold(tmp_path):
    # one uncovered village: planning proposes a site for it; when the analysis'
    # verdicts say it is covered (per operator too), planning proposes nothing, and when
    # they say it is a USP priority, the chosen site counts it as a USP village
    villages = [{"village_id": "v1", "village_name": "Thôn Một",
                 "geometry": Point(X0 + 4000, Y0 + 4000)}]
    inputs = world_with_villages(tmp_path, villages,
                                 cells=[cell("VT-1", X0 + 16000, Y0 + 16000)])
    for per_operator in (False, True):
        sections = {"coverage": {"model": "radius", "radius_m": {"4G": 2000}},
                    "candidates": {"grid_spacing_m": 2000, "per_operator": per_operator},
                    "rules": {"usp_regions": []}}
        cov, analysis, p, cfg = run_plan(inputs, **sections)
        assert not analysis.villages["mbb_covered"].any()
        assert analysis.operator_covered.columns.tolist() == ["Viettel"]
        assert not analysis.usp_priority.any()
        assert len(p.candidates) == 1 and p.candidates["usp_villages"].tolist() == [0]
        analysis.usp_priority[:] = True
        assert plan(inputs, cov, analysis, cfg).candidates["usp_villages"].tolist() == [1]
        analysis.villages["mbb_covered"] = True
        analysis.operator_covered["Viettel"] = True
        assert plan(inputs, cov, analysis, cfg).candidates.empty


def test_planning_refuses_an_analysis_without_verdicts(tmp_path):
    villages = [{"village_id": "v1", "village_name": "Thôn Một",
                 "geometry": Point(X0 + 4000, Y0 + 4000)}]
    inputs = world_with_villages(tmp_path, villages)
    cov, analysis, _, cfg = run_plan(inputs, coverage={"model": "radius"})
    analysis.usp_priority = analysis.usp_priority.iloc[:0]
    with pytest.raises(ValueError, match="no verdicts for its villages"):
        plan(inputs, cov, analysis, cfg)
