"""Measured evidence: reading tests, calibration, village evidence, disputes, speeds.

Synthetic measurements are drawn from a known truth: the pathloss model's own signal
offset by a known bias, plus shadow fading of known sigma, on the 20 km world of
test_coverage.py (UTM 48N).
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from covgap.analysis import analyse
from covgap.analysis.evidence import speed_table, village_of_tests
from covgap.config import LayerInput, load_config
from covgap.coverage import compute_coverage
from covgap.coverage.calibrate import Fit, fit_correction
from covgap.errors import InputError
from covgap.io.layers import read_measurements
from tests.test_coverage import SIDE, UTM, X0, Y0, cell, value_at, world

BIAS_DB = -6.0
SIGMA_DB = 4.0
THRESHOLD = -110.0
CENTRE = (X0 + 10000, Y0 + 10000)
EIRP = 45.0  # the site reaches the threshold about 5 km out, and nothing beyond 10 km


def _cfg(**sections):
    cov = {"model": "pathloss", "resolution_m": 100.0, "min_rsrp_dbm": THRESHOLD}
    cov.update(sections.pop("coverage", {}))
    return load_config({"inputs": {"communes": "c", "villages": "v", "sites": "s"},
                        "coverage": cov, **sections})


def _tests(xy, rsrp, *, operator="Viettel", technology="4G", download=None):
    n = len(xy)
    return gpd.GeoDataFrame(
        {"operator": [operator] * n, "technology": [technology] * n,
         "rsrp_dbm": np.asarray(rsrp, float),
         "download_mbps": np.full(n, np.nan) if download is None else download,
         "source": ["drive_test"] * n},
        geometry=[Point(x, y) for x, y in xy], crs=UTM).to_crs(4326)


def _truth_tests(cov, n=400, seed=1):
    """Tests at random points where the model has a signal: model + bias + fading."""
    rng = np.random.default_rng(seed)
    xy, rsrp = [], []
    while len(xy) < n:
        x, y = rng.uniform(200, SIDE - 200, 2) + np.array([X0, Y0])
        model = value_at(cov, ("Viettel", "4G"), x, y)
        if np.isfinite(model):
            xy.append((x, y))
            rsrp.append(model + BIAS_DB + rng.normal(0, SIGMA_DB))
    return _tests(xy, np.clip(rsrp, -149, -31))


def _inputs_with(villages_xy, tests):
    inputs = world([cell("A", *CENTRE, eirp=EIRP)])
    n = len(villages_xy)
    inputs.villages = gpd.GeoDataFrame(
        {"village_id": [f"V{i}" for i in range(n)], "village_name": [f"Bản {i}" for i in range(n)],
         "commune_code": ["00001"] * n, "population": [100.0] * n, "households": [25.0] * n,
         "difficult": [False] * n},
        geometry=[Point(x, y) for x, y in villages_xy], crs=UTM).to_crs(4326)
    inputs.measurements = tests
    return inputs


def _points_with_signal(cov, low, high, k):
    """k grid-cell centres where the uncalibrated signal lies in [low, high] dBm."""
    sig = cov.signal["Viettel", "4G"]
    rows, cols = np.nonzero(np.isnan(sig) if low is None else (sig >= low) & (sig <= high))
    xs, ys = cov.grid.centres()
    pick = np.linspace(0, len(rows) - 1, k).astype(int)
    return [(xs[cols[i]], ys[rows[i]]) for i in pick]


@pytest.fixture(scope="module")
def model():
    return compute_coverage(world([cell("A", *CENTRE, eirp=EIRP)]), _cfg())


def test_calibration_recovers_the_bias_within_1_db(model):
    inputs = _inputs_with([CENTRE], _truth_tests(model))
    cov = compute_coverage(inputs, _cfg(coverage={"calibrate": True}))
    row = cov.calibration.set_index(["operator", "technology"]).loc[("Viettel", "4G")]
    assert row["n"] == 400
    assert abs(row["bias_db"] - BIAS_DB) < 1.0
    assert abs(row["offset_db"] - BIAS_DB) < 1.0
    assert abs(row["slope_db_per_decade"]) < 2.0  # the truth has no slope
    assert row["rmse_before_db"] > row["rmse_after_db"]
    assert abs(row["rmse_after_db"] - SIGMA_DB) < 0.6
    assert abs(row["cv_rmse_db"] - SIGMA_DB) < 0.6
    assert bool(row["applied"])
    # applied to the signal: the calibrated raster is the model plus the fit
    x, y = CENTRE[0] + 3000, CENTRE[1]
    assert value_at(cov, ("Viettel", "4G"), x, y) == pytest.approx(
        value_at(model, ("Viettel", "4G"), x, y) + row["offset_db"], abs=1.5)
    assert cov.parameters["calibration"]["applied"] is True
    assert cov.parameters["calibration"]["fits"][0]["n"] == 400


def test_without_calibrate_the_fit_is_reported_but_not_applied(model):
    inputs = _inputs_with([CENTRE], _truth_tests(model, n=100))
    cov = compute_coverage(inputs, _cfg())
    assert not cov.calibration["applied"].any()
    np.testing.assert_array_equal(cov.signal["Viettel", "4G"], model.signal["Viettel", "4G"])


def test_the_fit_is_robust_to_outliers():
    res = np.r_[np.full(40, -5.0), np.full(5, -60.0)]
    fit = fit_correction(res, np.full(45, 2000.0))
    assert abs(fit.offset_db + 5.0) < 1.5
    assert res.mean() < -10  # the plain mean is far off
    slope = fit_correction(-3.0 - 20 * np.log10(np.geomspace(500, 15000, 60) / 3000),
                           np.geomspace(500, 15000, 60))
    assert slope.slope_db_per_decade == pytest.approx(-20.0, abs=0.01)
    assert Fit(2.0).correction(np.array([100.0, 1e4])).tolist() == [2.0, 2.0]


def test_villages_just_above_the_threshold_drop_out_after_calibration(model):
    marginal = _points_with_signal(model, THRESHOLD + 1, THRESHOLD + 3, 4)
    strong = _points_with_signal(model, THRESHOLD + 25, THRESHOLD + 40, 3)
    inputs = _inputs_with(marginal + strong, _truth_tests(model))
    raw = analyse(inputs, compute_coverage(inputs, _cfg()), _cfg())
    assert raw.villages["mbb_covered"].all()
    cfg = _cfg(coverage={"calibrate": True})
    cal = analyse(inputs, compute_coverage(inputs, cfg), cfg)
    assert cal.villages["mbb_covered"].tolist() == [False] * 4 + [True] * 3
    assert set(cal.villages["evidence"]) <= {"model only", "measured covered",
                                             "measured not covered", "conflict"}


def _planted(model):
    """Village 0 strongly covered but measured dead; village 1 modelled dead but measured
    good; village 2 agrees; village 3 has no tests."""
    covered = _points_with_signal(model, THRESHOLD + 25, THRESHOLD + 40, 2)
    dead = _points_with_signal(model, None, None, 1)
    villages = [covered[0], dead[0], covered[1], (X0 + 500, Y0 + 500)]
    near = [(x + 50, y - 40) for x, y in villages]
    tests = pd.concat([
        _tests([near[0]] * 5, [-125, -124, -126, -123, -127]),
        _tests([near[1]] * 4, [-92, -95, -90, -93], download=np.array([20.0, 30, 25, 40])),
        _tests([near[2]] * 3, [-80, -82, -79])], ignore_index=True)
    tests["measured_at"] = [f"2025-06-01T10:{i:02d}" for i in range(len(tests))]
    return villages, tests


def test_disputes_list_the_planted_disagreements(model):
    villages, tests = _planted(model)
    inputs = _inputs_with(villages, tests)
    a = analyse(inputs, compute_coverage(inputs, _cfg()), _cfg())
    d = a.disputes
    assert d["village_id"].tolist() == ["V0", "V1"]
    assert d["direction"].tolist() == ["model covered, measured not",
                                       "measured covered, model not"]
    assert d["measured_n"].tolist() == [5, 4]
    assert d["measured_below_n"].tolist() == [5, 0]
    assert d["measured_rsrp_dbm"].tolist() == [-125.0, -92.5]
    assert d.loc[1, "measured_download_mbps"] == 27.5
    assert d.loc[0, "model_signal_dbm"] > THRESHOLD + 10
    assert d.loc[0, "action"].startswith("re-check the site data (nearest site A)")
    assert d.loc[1, "action"].startswith("re-check the site data: a site serving")
    v = a.villages.set_index("village_id")
    assert v["evidence"].tolist() == ["conflict", "conflict", "measured covered",
                                      "model only"]
    assert v["measured_n"].tolist() == [5, 4, 3, 0]
    assert v.loc["V2", "confidence"] == "high"
    assert v.loc["V0", "confidence"] == "medium"  # strong tests against the model
    # the model decides unless told otherwise; gaps carry the evidence
    assert v["mbb_covered"].tolist() == [True, False, True, False]
    assert "evidence" in a.gaps.columns and "measured_rsrp_dbm" in a.gaps.columns


def test_measurements_decide_flips_the_verdict_and_still_lists_the_dispute(model):
    villages, tests = _planted(model)
    inputs = _inputs_with(villages, tests)
    cfg = _cfg(evidence={"measurements_decide": True})
    a = analyse(inputs, compute_coverage(inputs, cfg), cfg)
    assert a.villages["mbb_covered"].tolist() == [False, True, True, False]
    assert len(a.disputes) == 2


def test_few_tests_ask_for_a_drive_test(model):
    villages, tests = _planted(model)
    inputs = _inputs_with(villages[:1], tests.iloc[:2])
    a = analyse(inputs, compute_coverage(inputs, _cfg()), _cfg())
    assert a.disputes.loc[0, "action"].startswith("drive test: 2 test(s), 2 below")
    assert a.villages.loc[0, "confidence"] == "low"


def test_the_speed_indicator_is_the_hand_median():
    communes = gpd.GeoDataFrame(
        {"commune_code": ["00001", "00002"], "commune_name": ["Xã A", "Xã B"]},
        geometry=[box(X0, Y0, X0 + 10000, Y0 + 10000),
                  box(X0 + 10000, Y0, X0 + 20000, Y0 + 10000)], crs=UTM).to_crs(4326)
    a = [(X0 + 1000 + i * 100, Y0 + 5000) for i in range(5)]
    b = [(X0 + 15000 + i * 100, Y0 + 5000) for i in range(4)]
    viettel = [12.0, 80.0, 45.0, 3.5, 60.0]
    vnpt = [100.0, 20.0, 70.0, 30.0]
    fixed = [150.0, 95.0, 300.0]
    tests = pd.concat([
        _tests(a, np.full(5, -95.0), download=np.array(viettel)),
        _tests(b, np.full(4, -95.0), operator="VNPT", download=np.array(vnpt)),
        _tests(a[:3], np.full(3, np.nan), technology="FTTH", download=np.array(fixed)),
        _tests(a[:1], np.full(1, -95.0), technology="3G", download=np.array([1.0]))],
        ignore_index=True)
    t = speed_table(tests, communes, technologies=["4G", "5G"], province_code="P",
                    province_name="Tỉnh", targets={"mbb_download_mbps": 40.0,
                                                    "fixed_download_mbps": None})
    rows = t.set_index(["level", "code", "operator", "indicator"])
    mbb = rows.loc[("province", "P", "", "mbb_download_mbps")]
    assert mbb["value"] == np.median(viettel + vnpt) == 45.0
    assert mbb["n"] == 9 and bool(mbb["met"])
    assert rows.loc[("province", "P", "VNPT", "mbb_download_mbps"), "value"] == 50.0
    assert rows.loc[("commune", "00001", "", "mbb_download_mbps"), "value"] == 45.0
    assert rows.loc[("commune", "00002", "", "mbb_download_mbps"), "value"] == 50.0
    fixed_row = rows.loc[("province", "P", "", "fixed_download_mbps")]
    assert fixed_row["value"] == 150.0 and fixed_row["n"] == 3
    assert pd.isna(fixed_row["met"])


def test_a_test_belongs_to_its_polygon_or_the_nearest_point_village_in_range():
    villages = gpd.GeoDataFrame(
        {"village_id": ["P", "Q"]},
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000), Point(X0 + 5000, Y0)], crs=UTM)
    tests = _tests([(X0 + 500, Y0 + 500), (X0 + 5300, Y0), (X0 + 5600, Y0)], [-90] * 3)
    got = village_of_tests(villages, tests, UTM, radius_m=500)
    assert got.tolist()[:2] == [0, 1] and pd.isna(got.iloc[2])


def test_bad_measurements_are_named_with_their_row(tmp_path, province):
    rows = pd.DataFrame([
        {"lon": 105.25, "lat": 19.95, "operator": "Viettel", "technology": "LTE",
         "rsrp_dbm": -95, "download_mbps": 30},
        {"lon": 105.25, "lat": 19.95, "operator": "Viettel", "technology": "LTE",
         "rsrp_dbm": -20, "download_mbps": 30},
        {"lon": 105.26, "lat": 19.95, "operator": "Viettel", "technology": "4G",
         "rsrp_dbm": -100, "download_mbps": -3},
        {"lon": 105.25, "lat": 19.95, "operator": "Viettel", "technology": "LTE",
         "rsrp_dbm": -95, "download_mbps": 30},
        {"lon": 107.5, "lat": 19.95, "operator": "VNPT", "technology": "4G",
         "rsrp_dbm": -100, "download_mbps": 10},
        {"lon": 105.27, "lat": 19.95, "operator": "Telco X", "technology": "4G",
         "rsrp_dbm": -100, "download_mbps": 10},
        {"lon": 105.28, "lat": 19.95, "operator": "VNPT", "technology": "fibre",
         "rsrp_dbm": None, "download_mbps": 200},
    ])
    path = tmp_path / "tests.csv"
    rows.to_csv(path, index=False)
    from tests.conftest import commune_frame
    with pytest.raises(InputError) as err:
        read_measurements(LayerInput(path=path), communes=commune_frame(), metric_crs=UTM)
    text = str(err.value) + "\n".join(getattr(err.value, "problems", []) or [])
    assert "tests.csv row 3: rsrp_dbm -20 is outside -150..-30 dBm" in text
    assert "tests.csv row 4: download_mbps -3 is negative" in text
    assert "tests.csv row 5: duplicate test" in text and "row 2" in text
    assert "tests.csv row 6: lies" in text and "outside the province" in text
    assert "tests.csv row 7: operator 'Telco X' is not known" in text
    assert "row 8" not in text  # a fixed-line test is fine


def test_measurements_are_read_with_the_run(province):
    import covgap
    path = province.root / "tests.csv"
    pd.DataFrame([{"lon": 105.25, "lat": 19.95, "operator": "vinaphone", "technology": "LTE",
                   "rsrp_dbm": -95, "download_mbps": 30},
                  {"lon": 105.35, "lat": 20.05, "operator": "VNPT", "technology": "FTTH",
                   "download_mbps": 300}]).to_csv(path, index=False)
    inputs = covgap.read_inputs(province.config(inputs={
        "measurements": {"path": str(path), "x": "lon", "y": "lat"}}))
    m = inputs.measurements
    assert m["operator"].tolist() == ["VNPT", "VNPT"]
    assert m["technology"].tolist() == ["4G", "FTTH"]
    assert inputs.counts()["measurements"] == 2


def test_a_run_writes_disputes_speeds_and_the_map_layer(province, tmp_path):
    import covgap
    path = province.root / "tests.csv"
    pd.DataFrame([
        {"lon": 105.25, "lat": 19.95, "operator": "Viettel", "technology": "4G",
         "rsrp_dbm": -128, "download_mbps": 0.8, "measured_at": "2025-06-01",
         "source": "drive_test"},
        {"lon": 105.2502, "lat": 19.9501, "operator": "Viettel", "technology": "4G",
         "rsrp_dbm": -97, "download_mbps": 41.5, "measured_at": "2025-06-02",
         "source": "crowd"}]).to_csv(path, index=False)
    cfg = province.config(inputs={"measurements": {"path": str(path), "x": "lon",
                                                   "y": "lat"}},
                          targets={"mbb_download_mbps": 70})
    result = covgap.run(cfg)
    out = result.write(tmp_path / "run")
    for name in ("disputes.csv", "speeds.csv", "villages.csv", "gaps.csv"):
        assert (out / name).is_file()
    villages = pd.read_csv(out / "villages.csv", encoding="utf-8-sig")
    v1 = villages.set_index("village_id").loc["V001"]
    assert v1["measured_n"] == 2 and v1["measured_rsrp_dbm"] == -112.5
    assert v1["measured_download_mbps"] == pytest.approx(21.15, abs=0.06)
    ind = result.indicators.set_index(["level", "indicator"])
    mbb = ind.loc[("province", "mbb_download_mbps")]
    assert mbb["value"] == pytest.approx(21.15, abs=0.06) and mbb["numerator"] == 2
    assert not bool(mbb["met"]) and mbb["target"] == 70
    html = result.map().get_root().render()
    assert "Measured tests (RSRP)" in html and "-128" in html
    assert result.manifest()["inputs"]["counts"]["measurements"] == 2
