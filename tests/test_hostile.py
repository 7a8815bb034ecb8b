"""Hostile and broken inputs (issue 14): each case ends in a result or a message."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import village_frame

import covgap
from covgap.errors import InputError


def read(province, **sections):
    return covgap.read_inputs(province.config(**sections))


def problems_of(province, **sections) -> str:
    with pytest.raises(InputError) as info:
        read(province, **sections)
    return str(info.value)


def village_csv(path, *, population, decimal=".", sep=","):
    """The toy villages as a CSV; ``population`` replaces the third village's count."""
    rows = []
    for i, r in village_frame().iterrows():
        lon, lat = (f"{r.geometry.x:.2f}".replace(".", decimal),
                    f"{r.geometry.y:.2f}".replace(".", decimal))
        rows.append({"village_id": r.village_id, "village_name": r.village_name,
                     "commune_code": r.commune_code,
                     "population": population if i == 2 else str(r.population),
                     "households": str(r.households), "lon": lon, "lat": lat})
    pd.DataFrame(rows).to_csv(path, sep=sep, index=False)
    return path


# ----------------------------------------------------------- Vietnamese number formats


def test_dot_groups_thousands_in_a_file_with_decimal_commas(province, tmp_path):
    path = village_csv(tmp_path / "v.csv", population="2.020", decimal=",", sep=";")
    ins = read(province, inputs={"villages": str(path)})
    pop = ins.villages.set_index("village_id")["population"]
    assert pop["V003"] == 2020  # 2,020 people, not 2.02
    assert pop.sum() == 300 + 150 + 2020 + 420 + 1200 + 950
    assert ins.villages.geometry.x.iloc[0] == pytest.approx(105.25)


def test_vietnamese_decimals_and_thousands_in_one_column(province, tmp_path):
    path = village_csv(tmp_path / "v.csv", population="1.234,5", decimal=".", sep=";")
    ins = read(province, inputs={"villages": str(path)})
    assert ins.villages.set_index("village_id")["population"]["V003"] == 1234.5


def test_plain_dot_decimals_are_unchanged(province, tmp_path):
    path = village_csv(tmp_path / "v.csv", population="2.020", decimal=".")
    ins = read(province, inputs={"villages": str(path)})
    assert ins.villages.set_index("village_id")["population"]["V003"] == pytest.approx(2.02)
    path = village_csv(tmp_path / "w.csv", population="1,234.5", decimal=".")
    ins = read(province, inputs={"villages": str(path)})
    assert ins.villages.set_index("village_id")["population"]["V003"] == 1234.5


def test_ambiguous_column_is_refused_naming_file_column_and_row(province, tmp_path):
    # no decimals anywhere: lon/lat in whole degrees would not locate the villages, so
    # give coordinates in a GeoPackage and the population as text in it
    villages = village_frame()
    villages["population"] = ["2.020", "150", "3.400", "420", "1.200", "950"]
    path = tmp_path / "v.gpkg"
    villages.to_file(path)
    text = problems_of(province, inputs={"villages": str(path)})
    assert ("v.gpkg feature 1 (village_id=V001): population '2.020' is ambiguous: 2.020 "
            "with a decimal point, or 2020 with a dot grouping thousands? 3 cell(s) of "
            "column population are written like this") in text
    assert "write the numbers without thousands separators (2020)" in text
    assert text.count("population") == 2  # one line for the column, not one per row


def test_ambiguous_comma_thousands_need_evidence_too(province, tmp_path):
    villages = village_frame()
    villages["population"] = ["2,020", "150", "300", "420", "1200", "950"]
    path = tmp_path / "v.gpkg"
    villages.to_file(path)
    assert "population '2,020' is ambiguous" in problems_of(
        province, inputs={"villages": str(path)})
    villages["note"] = ["dân số 2,5 nghìn", "", "", "", "", "0.5"]  # a dot decimal elsewhere
    villages.to_file(path)
    ins = read(province, inputs={"villages": str(path)})
    assert ins.villages.set_index("village_id")["population"]["V001"] == 2020
