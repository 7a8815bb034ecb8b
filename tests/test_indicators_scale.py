"""Commune and indicator tables grouped once: hand-computed toy case, exact sums, scale."""


import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import commune_frame
from shapely.geometry import Point

from covgap.analysis.indicators import INDICATORS, commune_table, indicator_table, percent

UTM = "EPSG:32648"


def toy_villages() -> pd.DataFrame:
    """Villages of three of the four toy communes (15003 has none) and one unknown."""
    rows = [  # commune, population, mbb_share, ftth, usp_eligible
        ("15001", 300.0, 1.0, True, False),
        ("15001", 150.0, 0.5, False, True),
        ("15001", np.nan, 0.9, pd.NA, False),
        ("15002", 800.0, 0.0, True, True),
        ("15004", 1200.0, 0.85, False, False),
        ("15004", 950.0, 0.25, False, True),
        ("99999", 100.0, 1.0, True, False),  # in no commune: counts for the province only
    ]
    share = np.array([r[2] for r in rows])
    return pd.DataFrame({
        "village_id": [f"V{i}" for i in range(len(rows))],
        "commune_code": pd.array([r[0] for r in rows], dtype="string"),
        "population": [r[1] for r in rows],
        "mbb_share": share,
        "mbb_covered": share >= 0.8,
        "ftth": pd.array([r[3] for r in rows], dtype="boolean"),
        "usp_eligible": [r[4] for r in rows],
    })


def toy_communes() -> gpd.GeoDataFrame:
    communes = commune_frame()
    communes["district"] = pd.array(["Huyện A", "Huyện A", "Huyện B", "Huyện B"],
                                    dtype="string")
    return communes.to_crs(UTM)


def toy_locations() -> gpd.GeoDataFrame:
    # two locations in 15001 (one shared), one shared in 15004, one outside every commune
    pts = [(105.25, 19.95), (105.22, 19.93), (105.35, 20.05), (106.5, 21.0)]
    return gpd.GeoDataFrame({"shared": [True, False, True, True]},
                            geometry=[Point(p) for p in pts], crs="EPSG:4326").to_crs(UTM)


@pytest.fixture
def toy_tables():
    communes = toy_communes()
    villages = toy_villages()
    centre_5g = pd.Series([True, False, False, True], index=communes.index)
    rows = commune_table(villages, communes, toy_locations(), centre_5g)
    table = indicator_table(villages, rows, province_code="toy", province_name="Toy",
                            targets={"villages_mbb_pct": 100, "usp_villages": 0},
                            district_rows=True)
    return villages, rows, table


def test_commune_table_by_hand(toy_tables):
    _, rows, _ = toy_tables
    assert rows["commune_code"].tolist() == ["15001", "15002", "15003", "15004"]
    assert rows["villages"].tolist() == [3, 1, 0, 2]  # 15003 has no villages
    assert rows["villages_mbb"].tolist() == [2, 0, 0, 1]
    assert rows["villages_ftth"].tolist() == [1, 1, 0, 0]
    assert rows["population"].tolist() == [450.0, 800.0, 0.0, 2150.0]
    # 300 x 1 + 150 x 0.5 (+ NaN people: none); 1200 x 0.85 + 950 x 0.25 = 1257.5 -> 1258
    assert rows["population_mbb"].tolist() == [375, 0, 0, 1258]
    assert rows["usp_villages"].tolist() == [1, 1, 0, 1]
    assert rows["site_locations"].tolist() == [2, 0, 0, 1]
    assert rows["shared_locations"].tolist() == [1, 0, 0, 1]
    expected = {
        "villages_mbb_pct": [66.7, 0.0, np.nan, 50.0],
        "villages_ftth_pct": [33.3, 100.0, np.nan, 0.0],
        "bts_sharing_pct": [50.0, np.nan, np.nan, 100.0],
        "population_mbb_pct": [83.3, 0.0, np.nan, 58.5],
        "commune_centres_5g_pct": [100.0, 0.0, 0.0, 100.0],
    }
    for column, values in expected.items():
        np.testing.assert_array_equal(rows[column].to_numpy(dtype=float), values,
                                      err_msg=column)
    assert list(rows.columns) == [
        "commune_code", "commune_name", "region", "district", "centre_5g", "site_locations",
        "shared_locations", "villages", "villages_mbb", "villages_ftth", "population",
        "population_mbb", "usp_villages", "usp_mobile_villages", "usp_fibre_villages",
        "villages_mbb_pct", "villages_ftth_pct", "bts_sharing_pct", "population_mbb_pct",
        "commune_centres_5g_pct", "households_mbb_pct", "households_ftth_pct"]
    assert rows["villages"].dtype == np.int64 and rows["population_mbb"].dtype == np.int64


def test_indicator_table_by_hand(toy_tables):
    villages, rows, table = toy_tables
    # districts were abolished on 01/7/2025: their rows only on request
    plain = indicator_table(villages, rows, province_code="toy", province_name="Toy",
                            targets={"villages_mbb_pct": 100, "usp_villages": 0})
    assert "district" not in set(plain["level"])
    n_ind = len(INDICATORS)  # 10 rows per area: the 0.1 six plus households and USP parts
    assert len(plain) == len(table) - 2 * n_ind
    assert table["level"].tolist() == (["province"] * n_ind + ["district"] * 2 * n_ind
                                       + ["commune"] * 4 * n_ind)
    assert table["code"].tolist()[::n_ind] == ["toy", "Huyện A", "Huyện B", "15001", "15002",
                                           "15003", "15004"]
    assert table["indicator"].tolist() == list(INDICATORS) * 7
    got = {(c, i): (v, n, d) for c, i, v, n, d in zip(
        table["code"], table["indicator"], table["value"], table["numerator"],
        table["denominator"], strict=True)}
    expected = {
        # province: 7 villages (the unknown commune's too), 3 locations in communes
        ("toy", "villages_mbb_pct"): (percent(4, 7), 4, 7),
        ("toy", "villages_ftth_pct"): (percent(3, 7), 3, 7),
        ("toy", "bts_sharing_pct"): (66.7, 2, 3),
        ("toy", "population_mbb_pct"): (49.5, 1732, 3500),  # 1732.5 of 3500 people
        ("toy", "commune_centres_5g_pct"): (50.0, 2, 4),
        ("toy", "usp_villages"): (3.0, 3, 7),
        ("Huyện A", "villages_mbb_pct"): (50.0, 2, 4),
        ("Huyện A", "villages_ftth_pct"): (50.0, 2, 4),
        ("Huyện A", "bts_sharing_pct"): (50.0, 1, 2),
        ("Huyện A", "population_mbb_pct"): (30.0, 375, 1250),
        ("Huyện A", "commune_centres_5g_pct"): (50.0, 1, 2),
        ("Huyện A", "usp_villages"): (2.0, 2, 4),
        ("Huyện B", "villages_mbb_pct"): (50.0, 1, 2),
        ("Huyện B", "villages_ftth_pct"): (0.0, 0, 2),
        ("Huyện B", "bts_sharing_pct"): (100.0, 1, 1),
        ("Huyện B", "population_mbb_pct"): (58.5, 1258, 2150),
        ("Huyện B", "commune_centres_5g_pct"): (50.0, 1, 2),
        ("Huyện B", "usp_villages"): (1.0, 1, 2),
        ("15001", "villages_mbb_pct"): (66.7, 2, 3),
        ("15001", "population_mbb_pct"): (83.3, 375, 450),
        ("15002", "bts_sharing_pct"): (np.nan, 0, 0),
        # the commune without villages: empty ratios, zero counts
        ("15003", "villages_mbb_pct"): (np.nan, 0, 0),
        ("15003", "villages_ftth_pct"): (np.nan, 0, 0),
        ("15003", "population_mbb_pct"): (np.nan, 0, 0),
        ("15003", "commune_centres_5g_pct"): (0.0, 0, 1),
        ("15003", "usp_villages"): (0.0, 0, 0),
        ("15004", "population_mbb_pct"): (58.5, 1258, 2150),
    }
    for key, want in expected.items():
        np.testing.assert_array_equal(got[key], want, err_msg=str(key))
    province = table[table["level"] == "province"].set_index("indicator")
    assert not province.loc["villages_mbb_pct", "met"]
    assert not province.loc["usp_villages", "met"]
    assert pd.isna(province.loc["bts_sharing_pct", "met"])
    assert table["met"].dtype == "boolean"


def test_grouped_sums_are_those_of_each_filtered_group():
    # fractional people and shares: a grouped sum adding in another order could differ
    # in the last digit; the tables must equal Series.sum of each commune's villages
    rng = np.random.default_rng(7)
    n, k = 5000, 60
    codes = np.array([f"C{i:03d}" for i in rng.integers(0, k, n)])
    population = rng.random(n) * rng.integers(1, 3000, n)
    population[rng.random(n) < 0.05] = np.nan
    share = rng.random(n)
    villages = pd.DataFrame({
        "commune_code": pd.array(codes, dtype="string"), "population": population,
        "mbb_share": share, "mbb_covered": share >= 0.8,
        "ftth": pd.array(rng.random(n) < 0.5, dtype="boolean"),
        "usp_eligible": rng.random(n) < 0.3})
    names = [f"C{i:03d}" for i in range(k + 1)]  # the last commune has no villages
    communes = gpd.GeoDataFrame(
        {"commune_code": names, "commune_name": names, "region": "I",
         "district": [f"D{i % 7}" for i in range(k + 1)]},
        geometry=[Point(i * 10.0, 0).buffer(1) for i in range(k + 1)], crs=UTM)
    locations = gpd.GeoDataFrame({"shared": [True]}, geometry=[Point(0, 0)], crs=UTM)
    rows = commune_table(villages, communes, locations,
                         pd.Series(False, index=communes.index))
    table = indicator_table(villages, rows, province_code="p", province_name="P",
                            targets={}, district_rows=True)
    district_of = dict(zip(names, communes["district"], strict=True))
    for code, pop, people_round in zip(rows["commune_code"], rows["population"],
                                       rows["population_mbb"], strict=True):
        group = villages[villages["commune_code"] == code]
        assert pop == float(group["population"].sum())
        people = float((group["population"] * group["mbb_share"]).sum())
        assert people_round == round(people)
        row = table[(table["code"] == code) & (table["indicator"] == "population_mbb_pct")]
        assert row["value"].item() == pytest.approx(percent(people, pop), nan_ok=True)
    for district in sorted(set(district_of.values())):
        in_district = villages["commune_code"].map(district_of) == district
        group = villages[in_district]
        people = float((group["population"] * group["mbb_share"]).sum())
        row = table[(table["code"] == district)
                    & (table["indicator"] == "population_mbb_pct")].iloc[0]
        assert row["numerator"] == round(people)
        assert row["denominator"] == round(float(group["population"].sum()))


def test_national_size_tables_count_every_village_once():
    # ~100,000 villages in ~3,300 communes (the speed is benchmarks/bench_national.py's)
    rng = np.random.default_rng(0)
    n, k = 100_000, 3_300
    names = np.array([f"{i:05d}" for i in range(k)])
    share = rng.random(n)
    villages = pd.DataFrame({
        "commune_code": pd.array(names[rng.integers(0, k, n)], dtype="string"),
        "population": rng.integers(50, 2000, n).astype(float), "mbb_share": share,
        "mbb_covered": share >= 0.8, "ftth": pd.array(rng.random(n) < 0.7, dtype="boolean"),
        "usp_eligible": rng.random(n) < 0.2})
    communes = gpd.GeoDataFrame(
        {"commune_code": names, "commune_name": names, "region": "I",
         "district": [f"D{i // 5}" for i in range(k)]},
        geometry=[Point(i * 10.0, 0).buffer(1) for i in range(k)], crs=UTM)
    locations = gpd.GeoDataFrame({"shared": [False]}, geometry=[Point(0, 0)], crs=UTM)
    rows = commune_table(villages, communes, locations, pd.Series(True, index=communes.index))
    table = indicator_table(villages, rows, province_code="p", province_name="P",
                            targets={}, district_rows=True)
    assert rows["villages"].sum() == n
    assert rows["population"].sum() == villages["population"].sum()
    assert len(table) == len(INDICATORS) * (1 + 660 + k)
