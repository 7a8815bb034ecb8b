"""Indicators as the province counts them: exact "met", half-up rounding, households."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from covgap.analysis.indicators import (
    INDICATORS,
    _meets_ratio,
    _percent_ratio,
    _round_ratio,
    _shown,
    exact_percent,
    indicator_table,
    meets,
    percent,
    round_half_up,
    shown_percent,
)


def villages(n: int, covered: int, *, ftth: int | None = None, households=None,
             population=None, commune="C1") -> pd.DataFrame:
    flags = np.arange(n) < covered
    return pd.DataFrame({
        "village_id": [f"V{i}" for i in range(n)],
        "commune_code": commune,
        "mbb_covered": flags,
        "mbb_share": flags.astype(float),
        "ftth": pd.array(np.arange(n) < (ftth if ftth is not None else 0), dtype="boolean")
        if ftth is not None else pd.array([pd.NA] * n, dtype="boolean"),
        "population": population if population is not None else np.full(n, 100.0),
        "households": households if households is not None else np.full(n, np.nan),
        "usp_eligible": np.zeros(n, dtype=bool),
    })


def commune_rows(codes=("C1",), *, locations=0, shared=0, centre_5g=False) -> pd.DataFrame:
    return pd.DataFrame({"commune_code": list(codes), "commune_name": list(codes),
                         "district": pd.NA, "site_locations": locations,
                         "shared_locations": shared, "centre_5g": centre_5g})


def province(table: pd.DataFrame, indicator: str) -> pd.Series:
    rows = table[(table["level"] == "province") & (table["indicator"] == indicator)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_round_half_up_like_excel():
    # 49 / 400 = 12.25 exactly: Excel's ROUND and people write 12.3; round() gives 12.2
    assert round(12.25, 1) == 12.2
    assert round_half_up(12.25) == 12.3
    assert percent(49, 400) == 12.3
    # the ministry's worked example: 1,520 / 1,543 = 98.5087... -> 98.5
    assert percent(1520, 1543) == 98.5
    assert np.isnan(percent(3, 0))


def test_2499_of_2500_is_not_met_and_shows_99_96():
    # 2,499 / 2,500 = 99.96%: one decimal would print 100.0 and "met" against 100
    v = villages(2500, 2499)
    t = indicator_table(v, commune_rows(), province_code="P", province_name="P",
                        targets={"villages_mbb_pct": 100})
    row = province(t, "villages_mbb_pct")
    assert row["met"] is False or row["met"] == False  # noqa: E712 (pandas boolean)
    assert row["value"] == 99.96
    assert (row["numerator"], row["denominator"]) == (2499, 2500)
    # all 2,500: met, and 100.0
    t = indicator_table(villages(2500, 2500), commune_rows(), province_code="P",
                        province_name="P", targets={"villages_mbb_pct": 100})
    assert bool(province(t, "villages_mbb_pct")["met"]) is True
    assert province(t, "villages_mbb_pct")["value"] == 100.0


def test_sharing_1499_of_10000_misses_15_percent():
    # 1,499 shared of 10,000 locations = 14.99%: shown 14.99, not 15.0, and not met
    t = indicator_table(villages(10, 10), commune_rows(locations=10000, shared=1499),
                        province_code="P", province_name="P", targets={"bts_sharing_pct": 15})
    row = province(t, "bts_sharing_pct")
    assert row["value"] == 14.99
    assert not bool(row["met"])
    assert meets(exact_percent(1500, 10000), 15) is True
    assert shown_percent(exact_percent(1500, 10000), 15) == 15.0


def test_commune_rows_get_targets_only_from_commune_targets():
    v = pd.concat([villages(4, 3, commune="C1"), villages(2, 2, commune="C2")],
                  ignore_index=True)
    t = indicator_table(v, commune_rows(("C1", "C2")), province_code="P", province_name="P",
                        targets={"villages_mbb_pct": 100},
                        commune_targets={"C2": {"villages_mbb_pct": 90}})
    c = t[(t["level"] == "commune") & (t["indicator"] == "villages_mbb_pct")].set_index("code")
    assert pd.isna(c.at["C1", "target"]) and pd.isna(c.at["C1", "met"])
    assert c.at["C2", "target"] == 90 and bool(c.at["C2", "met"]) is True
    # the province keeps its own target: 5 of 6 villages = 83.3% < 100
    assert province(t, "villages_mbb_pct")["value"] == 83.3
    assert not bool(province(t, "villages_mbb_pct")["met"])


def test_households_indicators():
    # four villages of 10, 20, 30 and 40 households; the first two covered by MBB, the
    # first three with FTTH: MBB 30 / 100 = 30%, FTTH 60 / 100 = 60%
    v = villages(4, 2, ftth=3, households=np.array([10.0, 20.0, 30.0, 40.0]))
    t = indicator_table(v, commune_rows(), province_code="P", province_name="P",
                        targets={"households_ftth_pct": 80})
    mbb = province(t, "households_mbb_pct")
    ftth = province(t, "households_ftth_pct")
    assert (mbb["value"], mbb["numerator"], mbb["denominator"]) == (30.0, 30, 100)
    assert (ftth["value"], ftth["numerator"], ftth["denominator"]) == (60.0, 60, 100)
    assert not bool(ftth["met"])  # seed 001's 80% of households


def test_households_empty_without_households():
    t = indicator_table(villages(4, 2, ftth=3), commune_rows(), province_code="P",
                        province_name="P", targets={"households_ftth_pct": 80})
    row = province(t, "households_ftth_pct")
    assert np.isnan(row["value"]) and pd.isna(row["met"])


def test_reported_statistics_get_met_from_their_target():
    t = indicator_table(villages(2, 2), commune_rows(), province_code="P", province_name="P",
                        targets={"smartphone_pct": 85},
                        reported={"smartphone_pct": 84.9})
    row = t[t["indicator"] == "smartphone_pct"].iloc[0]
    assert row["source"] == "supplied" and not bool(row["met"])


@pytest.mark.parametrize(("num", "den"), [(1, 3), (2, 3), (1, 7), (999, 1000), (1, 1)])
def test_shown_never_fakes_the_target(num, den):
    exact = exact_percent(num, den)
    for target in (33.3, 33.4, 66.7, 99.9, 100.0, 14.3):
        shown = shown_percent(exact, target)
        if not meets(exact, target):
            assert shown < target


# ---- the tables' integer arithmetic is Fraction's, value for value

_COUNT = st.integers(min_value=0, max_value=10**6)
# people and households sums (a vanishing base would overflow float() in both paths)
_SUM = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e9,
                                         allow_nan=False, allow_infinity=False))
_TARGET = st.one_of(st.none(), st.sampled_from([0, 15, 33.3, 50, 98.5, 99.9, 100.0, 120]),
                    st.floats(min_value=0, max_value=200, allow_nan=False))


@settings(max_examples=400, deadline=None)
@given(num=st.one_of(_COUNT, _SUM), den=st.one_of(_COUNT, _SUM), target=_TARGET,
       higher=st.booleans())
def test_integer_ratios_equal_fractions(num, den, target, higher):
    # the tables compute with pairs of Python ints instead of Fraction objects: every
    # value, rounding, "met" and printed value must be the Fraction path's
    exact = exact_percent(num, den)
    ratio = _percent_ratio(num, den)
    if exact is None:
        assert ratio is None
        return
    assert Fraction(*ratio) == exact and ratio[1] > 0
    for digits in (0, 1, 2, 4):
        assert _round_ratio(ratio, digits) == round_half_up(exact, digits)
    goals: dict = {}
    assert _meets_ratio(ratio, target, goals, higher=higher) == meets(exact, target,
                                                                      higher=higher)
    shown = _shown("villages_mbb_pct", ratio, target, goals)
    expected = shown_percent(exact, target, higher=INDICATORS["villages_mbb_pct"][1])
    assert shown == expected or (math.isnan(shown) and math.isnan(expected))


def test_integer_ratios_at_the_rounding_edge():
    # 49 / 400 = 12.25% exactly: half up gives 12.3 (Fraction's, Excel's)
    assert _round_ratio(_percent_ratio(49, 400)) == 12.3
    # 2,499 / 2,500 misses 100% and prints 99.96, as the Fraction path does
    goals: dict = {}
    r = _percent_ratio(2499, 2500)
    assert _meets_ratio(r, 100, goals) is False
    assert _shown("villages_mbb_pct", r, 100, goals) == 99.96
    # a float sum is taken at its binary value, not its repr
    assert Fraction(*_percent_ratio(0.1, 1)) == Fraction(0.1) * 100
    assert _percent_ratio(1, 0) is None and _percent_ratio(float("nan"), 3) is None


# ---- sharing: locations by the register's id, else by proximity

def _sites(rows, *, ids=None):
    import geopandas as gpd
    from shapely.geometry import Point
    # rows: (site_id, operator, x metres east, y metres north) around a point in UTM 48N
    frame = gpd.GeoDataFrame(
        {"site_id": [r[0] for r in rows], "operator": [r[1] for r in rows]},
        geometry=[Point(500000 + r[2], 2200000 + r[3]) for r in rows], crs="EPSG:32648")
    if ids is not None:
        frame["location_id"] = pd.array(ids, dtype="string")
    return frame.to_crs("EPSG:4326")


def _shared(frame, tolerance_m=30.0):
    from pyproj import CRS

    from covgap.analysis.indicators import site_locations
    loc = site_locations(frame, CRS("EPSG:32648"), tolerance_m=tolerance_m)
    return len(loc), int(loc["shared"].sum()), loc


def test_one_tower_recorded_60_m_apart_by_two_operators_is_shared():
    # the register says both cells are tower T1, although recorded 60 m apart (> 30 m)
    n, shared, loc = _shared(_sites([("A", "Viettel", 0, 0), ("B", "VNPT", 60, 0)],
                                    ids=["T1", "T1"]))
    assert (n, shared) == (1, 1)
    assert loc["grouped_by"].tolist() == ["register"]
    # without ids, 60 m apart is two locations
    assert _shared(_sites([("A", "Viettel", 0, 0), ("B", "VNPT", 60, 0)]))[:2] == (2, 0)


def test_two_towers_20_m_apart_with_different_ids_are_not_shared():
    # 20 m < 30 m would make one location by proximity; the register says two towers
    assert _shared(_sites([("A", "Viettel", 0, 0), ("B", "VNPT", 20, 0)],
                          ids=["T1", "T2"]))[:2] == (2, 0)
    assert _shared(_sites([("A", "Viettel", 0, 0), ("B", "VNPT", 20, 0)]))[:2] == (1, 1)


def test_site_without_id_joins_the_nearest_tower_with_one():
    # C has no id; it is 10 m from T1 and 25 m from T2: it joins T1
    n, shared, loc = _shared(_sites(
        [("A", "Viettel", 0, 0), ("B", "VNPT", 35, 0), ("C", "MobiFone", 10, 0)],
        ids=["T1", "T2", None]))
    assert (n, shared) == (2, 1)
    assert sorted(loc["site_ids"]) == ["A;C", "B"]


def test_sharing_distance_zero_means_identical_coordinates():
    rows = [("A", "Viettel", 0, 0), ("B", "VNPT", 0, 0), ("C", "MobiFone", 1, 0)]
    # A and B stand on identical coordinates: one shared location; C, 1 m away, is not
    assert _shared(_sites(rows), tolerance_m=0)[:2] == (2, 1)


def test_location_id_on_sites_far_apart_is_refused(province):
    import covgap
    from tests.conftest import site_frame
    sites = site_frame()
    # TH-0001 (Viettel) and TH-0003 (MobiFone) are about 9.8 km apart; one tower id
    sites["location_id"] = np.where(sites["site_id"].isin(["TH-0001", "TH-0003"]), "T9", "")
    sites.to_csv(province.sites, index=False)
    with pytest.raises(covgap.InputError, match=r"location_id T9 is given to sites [\d,]+ m "
                       r"apart; one tower stands in one place \(tolerance 500 m\)"):
        covgap.read_inputs(province.config())
