"""Village flags, FTTH reach, reasons and indicators on cases with known answers."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point
from test_coverage import UTM, X0, Y0, cell, config, world

import covgap
from covgap.analysis import analyse, percent, site_locations
from covgap.analysis.fibre import fibre_reach
from covgap.analysis.indicators import indicator_table
from covgap.coverage import compute_coverage

# ------------------------------------------------------------------ seed 004 examples


def test_seed_004_worked_examples():
    # Quyết định 885/QĐ-BTTTT guidance, seed 004: 1,520 of 1,543 villages -> 98.5%;
    # 120 shared of 1,000 site locations -> 12%; 2,400 of 2,500 villages FTTH -> 96%
    assert percent(1520, 1543) == 98.5
    assert percent(120, 1000) == 12.0
    assert percent(2400, 2500) == 96.0
    assert np.isnan(percent(0, 0))


def village_rows(n, covered, ftth, *, codes=None):
    return pd.DataFrame({
        "village_id": [f"V{i}" for i in range(n)],
        "commune_code": codes if codes is not None else ["00001"] * n,
        "population": np.full(n, 100.0),
        "mbb_share": np.r_[np.ones(covered), np.zeros(n - covered)],
        "mbb_covered": np.r_[np.ones(covered, bool), np.zeros(n - covered, bool)],
        "ftth": pd.array(np.r_[np.ones(ftth, bool), np.zeros(n - ftth, bool)], "boolean"),
        "usp_eligible": np.zeros(n, bool),
    })


def test_indicator_table_reproduces_the_province_figures():
    villages = village_rows(1543, 1520, 1500)
    communes = pd.DataFrame({"commune_code": ["00001"], "commune_name": ["Xã A"],
                             "region": ["I"], "district": [pd.NA], "centre_5g": [True],
                             "site_locations": [1000], "shared_locations": [120]})
    table = indicator_table(villages, communes, province_code="p", province_name="P",
                            targets={"villages_mbb_pct": 100, "bts_sharing_pct": 15,
                                     "usp_villages": 0},
                            reported={"mobile_subscriptions_per_100": 128.4})
    province = table[table["level"] == "province"].set_index("indicator")
    assert province.loc["villages_mbb_pct", "value"] == 98.5
    assert province.loc["villages_mbb_pct", "numerator"] == 1520
    assert province.loc["villages_mbb_pct", "denominator"] == 1543
    assert not province.loc["villages_mbb_pct", "met"]
    assert province.loc["bts_sharing_pct", "value"] == 12.0
    assert not province.loc["bts_sharing_pct", "met"]
    assert province.loc["villages_ftth_pct", "value"] == percent(1500, 1543)
    assert pd.isna(province.loc["villages_ftth_pct", "met"])  # no target
    assert province.loc["usp_villages", "met"]  # 0 <= 0
    assert province.loc["commune_centres_5g_pct", "value"] == 100.0
    supplied = province.loc["mobile_subscriptions_per_100"]
    assert supplied["value"] == 128.4 and supplied["source"] == "supplied"


def test_site_locations_merge_colocated_operators():
    # three operators: A and B 20 m apart (shared), C alone, A2 alone 1 km away;
    # one site with two cells counts once
    rows = [cell("A", X0, Y0), cell("A", X0, Y0, azimuth=120.0),
            cell("B", X0 + 20, Y0, operator="VNPT"),
            cell("C", X0 + 5000, Y0, operator="MobiFone"), cell("A2", X0 + 1000, Y0)]
    sites = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=UTM).to_crs(4326)
    loc = site_locations(sites, UTM, tolerance_m=30)
    assert len(loc) == 3
    shared = loc[loc["shared"]]
    assert shared["operators"].tolist() == ["VNPT;Viettel"]
    assert shared["site_ids"].tolist() == ["A;B"]
    assert len(site_locations(sites, UTM, tolerance_m=10)) == 4


def test_chains_of_sites_are_one_location():
    rows = [cell(f"S{i}", X0 + 25 * i, Y0, operator=op)
            for i, op in enumerate(["Viettel", "VNPT", "MobiFone", "Viettel"])]
    sites = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=UTM).to_crs(4326)
    loc = site_locations(sites, UTM, tolerance_m=30)
    assert len(loc) == 1 and loc["n_operators"].iloc[0] == 3


# ------------------------------------------------------------------ FTTH reach


def test_fibre_distance_per_operator():
    points = gpd.GeoSeries([Point(X0, Y0), Point(X0 + 3000, Y0)], crs=UTM)
    fibre = gpd.GeoDataFrame(
        {"operator": ["VNPT", "Viettel"], "kind": ["route", "node"], "fibre_id": ["R", "N"]},
        geometry=[LineString([(X0 - 500, Y0 + 300), (X0 + 500, Y0 + 300)]),
                  Point(X0 + 3000, Y0 + 400)], crs=UTM).to_crs(4326)
    reach = fibre_reach(points, fibre)
    assert reach["fibre_distance_VNPT_m"].tolist() == pytest.approx(
        [300.0, np.hypot(2500, 300)], abs=0.5)
    assert reach["fibre_distance_Viettel_m"].tolist() == pytest.approx(
        [np.hypot(3000, 400), 400.0], abs=0.5)
    assert reach["fibre_operator"].tolist() == ["VNPT", "Viettel"]
    assert reach["fibre_kind"].tolist() == ["route", "node"]
    assert reach["fibre_id"].tolist() == ["R", "N"]


# ------------------------------------------------------------------ whole analysis


def world_with_villages(tmp_path, villages, *, fibre=None, dem=None, cells=None):
    inputs = world(cells or [cell("A", X0 + 10050, Y0 + 10050)], dem=dem, tmp_path=tmp_path)
    v = gpd.GeoDataFrame(pd.DataFrame(villages), geometry="geometry", crs=UTM).to_crs(4326)
    v["commune_code"] = "00001"
    for col, default in (("population", 100.0), ("households", 25.0), ("difficult", False)):
        if col not in v:
            v[col] = default
    inputs.villages = v
    if fibre is not None:
        inputs.fibre = gpd.GeoDataFrame(pd.DataFrame(fibre), geometry="geometry",
                                        crs=UTM).to_crs(4326)
    return inputs


def test_rules_change_exactly_the_villages_they_should(tmp_path):
    # radius 5 km disc at the centre; villages are point discs of 500 m straddling
    # the edge by different amounts, and points at known distances from a fibre node
    centre = (X0 + 10050, Y0 + 10050)
    villages = [
        {"village_id": "in", "village_name": "Thôn Trong", "geometry": Point(centre)},
        {"village_id": "edge", "village_name": "Thôn Rìa",
         "geometry": Point(centre[0] + 5000, centre[1])},  # about half covered
        {"village_id": "out", "village_name": "Bản Xa",
         "geometry": Point(centre[0], centre[1] - 8000)},
    ]
    fibre = [{"operator": "VNPT", "kind": "node", "fibre_id": "N1",
              "geometry": Point(centre[0] + 800, centre[1])}]
    inputs = world_with_villages(tmp_path, villages, fibre=fibre)
    base = {"inputs": {"communes": "c", "villages": "v", "sites": "s"},
            "coverage": {"model": "radius", "radius_m": {"4G": 5000}}}

    def run(share, ftth_m):
        cfg = covgap.load_config({**base, "rules": {
            "village_covered_share": share, "ftth_max_distance_m": ftth_m,
            "village_point_radius_m": 500.0}})
        cov = compute_coverage(inputs, cfg)
        return analyse(inputs, cov, cfg).villages.set_index("village_id")

    a = run(0.8, 1000)
    assert a.loc["edge", "mbb_share"] == pytest.approx(0.5, abs=0.02)
    assert a["mbb_covered"].to_dict() == {"in": True, "edge": False, "out": False}
    assert a["status"].to_dict() == {"in": "covered", "edge": "partial", "out": "lom_song"}
    b = run(0.4, 1000)
    assert b["mbb_covered"].to_dict() == {"in": True, "edge": True, "out": False}
    assert a["ftth"].to_dict() == {"in": True, "edge": False, "out": False}
    assert a.loc["in", "fibre_distance_m"] == pytest.approx(800, abs=1)
    c = run(0.8, 4300)  # "edge" is 4.2 km from the node, "out" 8.04 km
    assert c["ftth"].to_dict() == {"in": True, "edge": True, "out": False}
    # nothing else moved
    assert (c["mbb_covered"] == a["mbb_covered"]).all()
    assert (b["ftth"] == a["ftth"]).all()


def test_usp_eligibility_and_reasons(tmp_path):
    centre = (X0 + 10050, Y0 + 10050)
    villages = [
        {"village_id": "ok", "village_name": "Thôn Trong", "difficult": False,
         "geometry": Point(centre)},
        {"village_id": "gap", "village_name": "Bản Xa", "difficult": True,
         "geometry": Point(centre[0], centre[1] - 8000)},
        {"village_id": "gap2", "village_name": "Bản Xa Hơn", "difficult": False,
         "geometry": Point(centre[0], centre[1] + 8000)},
    ]
    inputs = world_with_villages(tmp_path, villages)
    # the toy commune is region III; make it region II so only ĐBKK counts
    inputs.communes["region"] = "II"
    cfg = config(model="radius", radius_m={"4G": 5000})
    res = analyse(inputs, compute_coverage(inputs, cfg), cfg)
    v = res.villages.set_index("village_id")
    assert v["usp_eligible"].to_dict() == {"ok": False, "gap": True, "gap2": False}
    # the verdicts later stages read: USP priority gap or not, each operator's cover
    assert res.usp_priority.tolist() == [False, True, False]
    assert res.operator_covered.to_dict("list") == {"Viettel": [True, False, False]}
    assert pd.isna(v.loc["gap", "ftth"])  # no fibre layer: unknown, not False
    assert v.loc["gap", "reason"] == "no 4G/5G signal; nearest 4G/5G site A (Viettel) 8.0 km"
    assert v.loc["ok", "reason"] == ""
    assert res.gaps["village_id"].tolist() == ["gap", "gap2"]  # USP first
    assert res.gaps["priority"].tolist() == [1, 2]
    assert res.gaps.loc[0, "fix"] == (
        "Viettel: new or shared site (nearest site A of Viettel, 8.0 km)")


def test_terrain_shadow_is_named_in_the_reason(tmp_path):
    site = (X0 + 5050, Y0 + 10050)
    dem = np.full((200, 200), 100.0)
    dem[:, 70] = 500.0
    villages = [{"village_id": "valley", "village_name": "Bản Khuất",
                 "geometry": Point(X0 + 9050, Y0 + 10050)}]
    inputs = world_with_villages(tmp_path, villages, dem=dem, cells=[cell("TH-0412", *site)])
    cfg = config(model="terrain")
    res = analyse(inputs, compute_coverage(inputs, cfg), cfg)
    v = res.villages.iloc[0]
    assert v["lom_song"] and v["usp_eligible"]  # region III commune
    assert v["reason"].startswith("no 4G/5G signal: terrain shadow from site TH-0412 "
                                  "(Viettel, ")
    assert v["shadow_site_id"] == "TH-0412"


def test_sample_province_end_to_end(sample_result):
    result = sample_result
    v = result.villages
    assert len(v) == len(result.inputs.villages)
    ind = result.indicators.set_index(["level", "indicator"]).loc["province"]
    assert 0 < ind.loc["villages_mbb_pct", "value"] < 100
    # the sample has hidden valleys: the terrain model finds shadowed villages
    assert v["shadow_site_id"].notna().sum() > 10
    assert ind.loc["bts_sharing_pct", "value"] == pytest.approx(12.0, abs=2.0)
    assert set(result.communes["commune_code"]) == set(result.inputs.communes["commune_code"])



def test_four_signal_states_on_an_analytic_case(tmp_path):
    # a 4G disc of 5 km at the centre, a 3G-only disc of 3 km 15 km west; point villages
    # are discs of 500 m: one inside the 4G disc, one on its edge (about half), one
    # under the 3G cell only, one under nothing
    centre = (X0 + 10050, Y0 + 10050)
    west = (centre[0] - 9000, centre[1] + 6000)
    cells = [cell("A", *centre), cell("B", *west, operator="VNPT", technology="3G")]
    villages = [
        {"village_id": "covered", "village_name": "Thôn Trong", "geometry": Point(centre)},
        {"village_id": "half", "village_name": "Thôn Rìa",
         "geometry": Point(centre[0] + 5000, centre[1])},
        {"village_id": "3g", "village_name": "Bản Ba Gờ", "geometry": Point(west)},
        {"village_id": "none", "village_name": "Bản Xa",
         "geometry": Point(centre[0], centre[1] - 8000)},
    ]
    inputs = world_with_villages(tmp_path, villages, cells=cells)
    cfg = covgap.load_config({
        "inputs": {"communes": "c", "villages": "v", "sites": "s"},
        "coverage": {"model": "radius", "radius_m": {"4G": 5000, "3G": 3000}},
        "rules": {"village_covered_share": 0.8, "village_point_radius_m": 500.0}})
    a = analyse(inputs, compute_coverage(inputs, cfg), cfg).villages.set_index("village_id")
    assert a.loc["half", "mbb_share"] == pytest.approx(0.5, abs=0.02)
    assert a["signal_status"].to_dict() == {"covered": "covered", "half": "partial",
                                            "3g": "no_broadband", "none": "no_signal"}
    # lõm sóng keeps its meaning: not covered by mobile broadband
    assert a["lom_song"].to_dict() == {"covered": False, "half": True, "3g": True,
                                       "none": True}
