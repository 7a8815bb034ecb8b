"""The rule sentence (covgap.analysis.rules): one function, each output's wording."""

from dataclasses import replace

import geopandas as gpd
import pytest

from covgap.analysis.rules import min_rsrp_dbm, rule_text
from covgap.config import Config
from covgap.coverage import Coverage

UTM = "EPSG:32648"


def _config(rules=None, **coverage):
    cfg = Config()
    return replace(cfg, coverage=replace(cfg.coverage, **coverage),
                   rules=replace(cfg.rules, **(rules or {"village_covered_share": 0.75})))


def _coverage(model, dbm):
    return Coverage(model=model, parameters={}, min_rsrp_dbm=dbm,
                    cells=gpd.GeoDataFrame(geometry=[], crs=UTM))


def test_the_threshold_is_the_coverages_not_the_configurations():
    cfg = _config(model="pathloss", min_rsrp_dbm=-110.0)
    assert min_rsrp_dbm(cfg) == -110
    assert min_rsrp_dbm(cfg, _coverage("pathloss", -97.5)) == -97.5
    line = rule_text(cfg, _coverage("pathloss", -97.5))
    assert "signal >= -97.5 dBm (pathloss model) over at least 75%" in line
    signal, _, _ = rule_text(cfg, _coverage("pathloss", -97.5), form="map",
                             technologies=["4G"], bases=[])
    assert signal == "4G ≥ −98 dBm"  # the map writes whole dBm, with a true minus sign


def test_line_form_names_the_radius_and_fibre_distance():
    cfg = _config(model="radius", technologies=["4G"], radius_m={"4G": 3500.0},
                  rules={"ftth_max_distance_m": 750.0})
    assert rule_text(cfg) == (
        "covered = 4G within the service radius (4G 3500 m) (radius model) over at least "
        "80% of a village's people or area; FTTH = fibre within 750 m")


def test_map_form_lists_the_share_bases_present_in_a_fixed_order():
    cfg = _config(model="radius")
    signal, vi, en = rule_text(cfg, form="map", technologies=["4G", "5G"],
                               bases=["point", "area", "point"])
    assert signal == ("4G/5G trong bán kính phục vụ / within the service radius "
                      "(4G 5,0 km, 5G 1,0 km)")
    assert vi == "trên ≥ 75% diện tích hoặc tại điểm thôn"
    assert en == "over ≥ 75% of the area or at the village point"
    _, vi, en = rule_text(cfg, form="map", technologies=["4G"], bases=[])
    assert (vi, en) == ("trên ≥ 75% dân số", "over ≥ 75% of the people")


def test_an_unknown_form_is_refused():
    with pytest.raises(ValueError, match="form='short'; valid values: 'line', 'map'"):
        rule_text(_config(), form="short")
