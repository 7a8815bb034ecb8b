"""Any-network coverage, commune centres, places and the two USP parts, through analyse()."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box
from test_coverage import UTM, X0, Y0, cell, world

import covgap
from covgap.analysis import analyse
from covgap.coverage.result import Coverage


def half_and_half(*, places=None, communes_extra=None, village_extra=None):
    """One 2 km square village; Viettel covers its west half, VNPT its east half."""
    inputs = world([cell("A", X0 + 5000, Y0 + 10000, operator="Viettel"),
                    cell("B", X0 + 15000, Y0 + 10000, operator="VNPT")])
    v = gpd.GeoDataFrame(
        {"village_id": ["V1"], "village_name": ["Bản Giữa"], "commune_code": ["00001"],
         "population": [100.0], "households": [20.0], "difficult": [False],
         **(village_extra or {})},
        geometry=[box(X0 + 9000, Y0 + 9000, X0 + 11000, Y0 + 11000)], crs=UTM).to_crs(4326)
    inputs.villages = v
    for col, values in (communes_extra or {}).items():
        inputs.communes[col] = values
    inputs.places = places
    areas = gpd.GeoDataFrame(
        {"operator": ["Viettel", "VNPT"], "technology": ["4G", "4G"]},
        geometry=[box(X0, Y0, X0 + 10000, Y0 + 20000),
                  box(X0 + 10000, Y0, X0 + 20000, Y0 + 20000)], crs=UTM)
    cells = inputs.sites.to_crs(UTM)
    cells = cells.assign(x=cells.geometry.x, y=cells.geometry.y)
    cov = Coverage(model="radius", parameters={}, min_rsrp_dbm=-110.0, cells=cells,
                   areas=areas)
    return inputs, cov


def cfg(**rules):
    return covgap.load_config({"inputs": {"communes": "c", "villages": "v", "sites": "s"},
                               "coverage": {"model": "radius"}, "rules": rules})


def province(indicators, name):
    return indicators[(indicators["level"] == "province")
                      & (indicators["indicator"] == name)].iloc[0]


def test_half_and_half_village_is_covered_by_any_operator():
    # each operator covers exactly half the village's area; together all of it
    inputs, cov = half_and_half()
    a = analyse(inputs, cov, cfg())
    v = a.villages.iloc[0]
    assert v["share_Viettel"] == pytest.approx(0.5, abs=1e-9)
    assert v["share_VNPT"] == pytest.approx(0.5, abs=1e-9)
    assert v["share_any_operator"] == pytest.approx(1.0, abs=1e-9)
    assert v["mbb_share"] == pytest.approx(1.0) and bool(v["mbb_covered"])
    assert not bool(v["lom_song"])
    # 100 of 100 people have mobile broadband
    row = province(a.indicators, "population_mbb_pct")
    assert (row["value"], row["numerator"], row["denominator"]) == (100.0, 100, 100)


def test_single_operator_basis_keeps_todays_rule_but_counts_people_by_any():
    inputs, cov = half_and_half()
    a = analyse(inputs, cov, cfg(coverage_basis="single_operator"))
    v = a.villages.iloc[0]
    assert v["mbb_share"] == pytest.approx(0.5) and bool(v["lom_song"])
    assert v["status"] == "partial"
    # a person is counted covered when any operator covers them: still 100%
    assert province(a.indicators, "population_mbb_pct")["value"] == 100.0
    assert province(a.indicators, "villages_mbb_pct")["value"] == 0.0


def test_commune_centre_given_and_missing():
    # no centre: the indicator is empty, with a warning that says how to give one
    inputs, cov = half_and_half()
    with pytest.warns(covgap.CovgapWarning, match="no commune centre is known"):
        a = analyse(inputs, cov, cfg())
    row = province(a.indicators, "commune_centres_5g_pct")
    assert np.isnan(row["value"]) and row["denominator"] == 0
    assert "centre_lon/centre_lat" in a.warnings[0]
    # a commune_centre place in the west half, with 5G from Viettel there
    cov.areas = pd.concat([cov.areas, gpd.GeoDataFrame(
        {"operator": ["Viettel"], "technology": ["5G"]},
        geometry=[box(X0, Y0, X0 + 10000, Y0 + 20000)], crs=UTM)], ignore_index=True)
    places = gpd.GeoDataFrame(
        {"place_id": ["P1", "P2"], "name": ["UBND xã Thử", "Trạm y tế"],
         "kind": ["commune_centre", "health"], "commune_code": ["00001", "00001"]},
        geometry=[Point(X0 + 9500, Y0 + 10000), Point(X0 + 10500, Y0 + 10000)],
        crs=UTM).to_crs(4326)
    inputs, _ = half_and_half(places=places)
    a = analyse(inputs, cov, cfg())
    row = province(a.indicators, "commune_centres_5g_pct")
    assert (row["value"], row["numerator"], row["denominator"]) == (100.0, 1, 1)
    assert not a.warnings
    # the health post is east of the 5G area: 0 of 1 health places has 5G
    t = a.indicators[a.indicators["indicator"] == "places_5g_pct"].set_index("kind")
    assert t.at["health", "value"] == 0.0 and t.at["commune_centre", "value"] == 100.0
    p = a.places.set_index("place_id")
    assert p.at["P1", "operators_5g"] == "Viettel" and bool(p.at["P1", "has_4g"])
    assert not bool(p.at["P2", "has_5g"]) and p.at["P2", "operators_4g"] == "VNPT"


def test_commune_centre_from_columns():
    # centre_lon/lat of the commune at the east half: no 5G there
    lon, lat = gpd.GeoSeries([Point(X0 + 10500, Y0 + 10000)], crs=UTM).to_crs(4326).iloc[0].xy
    inputs, cov = half_and_half(communes_extra={"centre_lon": [lon[0]],
                                                "centre_lat": [lat[0]]})
    a = analyse(inputs, cov, cfg())
    row = province(a.indicators, "commune_centres_5g_pct")
    assert (row["value"], row["numerator"], row["denominator"]) == (0.0, 0, 1)


def test_usp_parts_through_analyse_village_region_wins():
    # the commune is class III (test_coverage.world); the village's own region says I:
    # under the single-operator rule the village is lõm sóng, but not eligible
    inputs, cov = half_and_half(village_extra={"region": ["I"]})
    a = analyse(inputs, cov, cfg(coverage_basis="single_operator"))
    v = a.villages.iloc[0]
    assert v["region"] == "I"
    assert bool(v["lom_song"]) and not bool(v["usp_mobile"]) and not bool(v["usp_eligible"])
    # without its own region, the commune's class III makes it eligible (mobile part)
    inputs, cov = half_and_half()
    a = analyse(inputs, cov, cfg(coverage_basis="single_operator"))
    v = a.villages.iloc[0]
    assert bool(v["usp_mobile"]) and not bool(v["usp_fibre"]) and bool(v["usp_eligible"])
    assert v["usp_mobile_reason"].startswith("no mobile broadband (lõm sóng); commune class III")
    assert province(a.indicators, "usp_mobile_villages")["value"] == 1.0
    assert province(a.indicators, "usp_fibre_villages")["value"] == 0.0


# ---- the places layer as read and checked


def _write_places(province, rows):
    frame = pd.DataFrame(rows, columns=["place_id", "name", "kind", "lon", "lat"])
    path = province.root / "places.csv"
    frame.to_csv(path, index=False)
    return {"path": str(path), "x": "lon", "y": "lat"}


def test_places_are_read_with_their_commune(province):
    spec = _write_places(province, [("P1", "UBND xã Thường Xuân", "commune_centre", 105.25,
                                     19.95),
                                    ("P2", "Bệnh viện", "Health", 105.35, 20.05),
                                    ("P3", "Chợ phiên", "market", 105.36, 20.06)])
    inputs = covgap.read_inputs(province.config(inputs={"places": spec}))
    p = inputs.places.set_index("place_id")
    assert p["commune_code"].to_dict() == {"P1": "15001", "P2": "15004", "P3": "15004"}
    assert p["kind"].to_dict() == {"P1": "commune_centre", "P2": "health", "P3": "market"}
    assert inputs.counts()["places"] == 3


def test_place_outside_every_commune_and_kind_typo_are_refused(province):
    spec = _write_places(province, [("P1", "UBND", "comune_centre", 105.25, 19.95),
                                    ("P2", "Cảng", "transport_hub", 106.50, 20.05)])
    with pytest.raises(covgap.InputError) as err:
        covgap.read_inputs(province.config(inputs={"places": spec}))
    text = str(err.value)
    assert "places.csv row 2 (place_id=P1): kind 'comune_centre' is not known; did you " \
           "mean 'commune_centre'?" in text
    assert "places.csv row 3 (place_id=P2): place 'Cảng' (transport_hub) lies outside " \
           "every commune" in text


def test_weak_signal_is_named_in_the_reason():
    # a point village 6 km from a 4G site under the pathloss model: its signal S is
    # computed first; with the threshold at S + 4 dB it is not covered, and the reason
    # says the signal is weak (within 10 dB of the threshold), quoting both figures
    from covgap.coverage import compute_coverage
    inputs = world([cell("A", X0 + 4000, Y0 + 10000)])
    inputs.villages = gpd.GeoDataFrame(
        {"village_id": ["V1"], "village_name": ["Bản Xa"], "commune_code": ["00001"],
         "population": [100.0], "households": [20.0], "difficult": [False]},
        geometry=[Point(X0 + 10000, Y0 + 10000)], crs=UTM).to_crs(4326)

    def run(threshold):
        c = covgap.load_config({"inputs": {"communes": "c", "villages": "v", "sites": "s"},
                                "coverage": {"model": "pathloss", "resolution_m": 100.0,
                                             "min_rsrp_dbm": threshold}})
        return analyse(inputs, compute_coverage(inputs, c), c).villages.iloc[0]

    signal = run(-140.0)["best_signal_dbm"]
    assert -140 < signal < -60
    threshold = float(np.ceil(signal + 4))
    v = run(threshold)
    assert bool(v["lom_song"])
    assert v["reason"].startswith(f"weak 4G/5G signal {signal:.0f} dBm (threshold "
                                  f"{threshold:.0f} dBm)")
