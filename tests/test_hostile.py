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
    assert ("v.gpkg feature 1 (village_id=V001): population '2.020' is ambiguous: 2.02 "
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


# ----------------------------------------------------------- operators in any script


def test_operators_without_latin_letters_keep_different_keys(province, tmp_path):
    from conftest import site_frame
    frame = site_frame()
    frame.loc[frame["site_id"] == "TH-0001", "operator"] = "中国移动"
    frame.loc[frame["site_id"] == "TH-0002", "operator"] = "中国联通"
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    ins = read(province, inputs={"sites": str(path), "operator_aliases": {
        "中国移动": "中国移动", "中国联通": "中国联通"}})
    ops = ins.sites.groupby("site_id")["operator"].first()
    assert ops["TH-0001"] == "中国移动" and ops["TH-0002"] == "中国联通"
    # without aliases both are unknown, each named, not merged into one
    text = problems_of(province, inputs={"sites": str(path)})
    assert "operator '中国移动' is not known" in text
    assert "operator '中国联通' is not known" in text


def test_operator_keys():
    from covgap.io.text import name_key
    assert name_key("中国移动") == "中国移动"
    assert name_key("ＶＩＥＴＴＥＬ") == name_key("Viettel") == "viettel"  # NFKC
    assert name_key("Mobiphône") == "mobiphone"
    assert name_key("ĐBKK") == "dbkk"
    assert name_key("กสท") != name_key("ทีโอที")  # Thai letters and marks are kept
    assert name_key("Viettel\u200b") == "viettel"


def test_colliding_alias_spellings_are_refused():
    from covgap.errors import ConfigError
    from covgap.io import normalize_operator
    with pytest.raises(ConfigError) as info:
        normalize_operator(pd.Series(["x"]), {"Orange-VN": "Orange", "orange vn": "Free"})
    assert ("'Orange-VN' = 'Orange' and 'orange vn' = 'Free' are one spelling once case, "
            "accents and punctuation are ignored (key 'orangevn') but name different "
            "operators") in str(info.value)
    with pytest.raises(ConfigError, match="'---' has no letter or digit"):
        normalize_operator(pd.Series(["x"]), {"---": "Orange"})
    # two spellings of one operator are the alias mechanism, not a collision
    got = normalize_operator(pd.Series(["ORANGE", "Orange-VN", "orange vn"]),
                             {"Orange-VN": "Orange", "orange vn": "Orange"})
    assert got.tolist() == ["Orange", "Orange", "Orange"]


# ----------------------------------------------------------- invisible marks


def test_zero_width_and_rtl_marks_are_removed_with_a_counting_warning(province, tmp_path):
    villages = village_frame()
    villages.loc[0, "village_name"] = "Bản\u200b Pù\u200d Nhi"
    villages.loc[3, "village_name"] = "\u202eLàng Hạ\u202c"
    villages.loc[4, "village_id"] = "\ufeffV005"
    path = tmp_path / "v.gpkg"
    villages.to_file(path)
    with pytest.warns(covgap.InputWarning, match=r"v\.gpkg: removed 5 invisible zero-width or "
                      r"right-to-left mark\(s\) .* \(in village_id, village_name\)"):
        ins = read(province, inputs={"villages": str(path)})
    names = ins.villages.set_index("village_id")["village_name"]
    assert names["V001"] == "Bản Pù Nhi" and names["V004"] == "Làng Hạ"
    assert "V005" in names.index


# ----------------------------------------------------------- not files, huge files


def test_device_fifo_and_folder_are_refused_as_not_regular_files(province, tmp_path):
    import os
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    text = problems_of(province, inputs={"sites": str(zero), "villages": str(fifo),
                                         "fibre": str(folder)})
    assert "zero.csv: is not a regular file" in text
    assert "fifo.csv: is not a regular file" in text
    assert "folder.csv: is a folder, not a file" in text


def test_files_above_the_size_cap_are_refused_unread(province, tmp_path, monkeypatch):
    from covgap.io import vector
    assert vector.MAX_TABLE_BYTES == 2 * 2**30
    monkeypatch.setattr(vector, "MAX_TABLE_BYTES", 100)
    text = problems_of(province)
    assert "bts.csv: is 612 bytes, more than covgap reads from one CSV/XLSX file (100 " \
        "bytes)" in text
    big = tmp_path / "big.csv"
    with big.open("wb") as f:  # sparse: no disk used, and never read
        f.truncate(3 * 2**30)
    monkeypatch.setattr(vector, "MAX_TABLE_BYTES", 2 * 2**30)
    text = problems_of(province, inputs={"sites": str(big)})
    assert ("big.csv: is 3.0 GiB, more than covgap reads from one CSV/XLSX file (2.0 GiB); "
            "split it by province") in text


# ----------------------------------------------------------- one numbering convention


def test_zero_area_village_polygon_is_named_by_file_and_feature(province, tmp_path):
    from shapely.geometry import Polygon
    villages = village_frame()
    villages.loc[2, "geometry"] = Polygon([(105.35, 19.95), (105.36, 19.95),
                                           (105.37, 19.95)])
    path = tmp_path / "v.gpkg"
    villages.to_file(path)
    text = problems_of(province, inputs={"villages": str(path)})
    assert ("v.gpkg feature 3 (village_id=V003): polygon has zero area (its corners lie "
            "on one line or at one point)") in text
    assert "row" not in text


def test_shapefile_features_are_numbered_from_1(province, tmp_path):
    villages = village_frame()
    villages.loc[1, "population"] = -150
    villages = villages.rename(columns={"village_name": "name", "commune_code": "code"})
    path = tmp_path / "v.shp"
    villages.to_file(path)
    text = problems_of(province, inputs={"villages": str(path), "columns": {"villages": {
        "village_name": "name", "commune_code": "code"}}})
    assert "v.shp feature 2 (village_id=V002): population -150 is negative" in text


def test_a_frame_without_positions_is_numbered_from_1():
    from covgap.io.problems import Problems
    frame = pd.DataFrame({"village_id": ["V1", "V2", "V3"]}, index=[10, 11, 12])
    problems = Problems("villages", "village_id")
    problems.rows(frame, [False, False, True], "is a LineString")
    assert problems.lines == ["villages feature 3 (village_id=V3): is a LineString"]


def test_xlsx_number_cells_are_kept_and_text_cells_read_the_vietnamese_way(province,
                                                                           tmp_path):
    from conftest import site_frame
    frame = site_frame().astype({"height_m": object, "eirp_dbm": object})
    frame.loc[0, "eirp_dbm"] = "58,5"  # a decimal comma: the column's own evidence
    frame.loc[1, "eirp_dbm"] = 59.0    # a number cell stays 59, not 590
    frame.loc[2, "height_m"] = "1.200"  # a dot grouping thousands in this file
    path = tmp_path / "s.xlsx"
    frame.to_excel(path, index=False)
    text = problems_of(province, inputs={"sites": str(path)})
    assert "row 4 (site_id=TH-0001): height_m 1200 is outside 0..300 m" in text
    frame.loc[2, "height_m"] = "12"
    frame.to_excel(path, index=False)
    sites = read(province, inputs={"sites": str(path)}).sites
    assert sites["eirp_dbm"].iloc[:3].tolist() == [58.5, 59.0, 58.0]


def test_reading_a_national_site_list_does_not_scan_every_cell_four_times(tmp_path):
    import time

    import numpy as np

    from covgap.config import LayerInput
    from covgap.io.problems import Problems
    from covgap.io.vector import read_vector
    n = 50_000
    rng = np.random.default_rng(0)
    pd.DataFrame({"site_id": [f"S{i}" for i in range(n)], "name": "Trạm, xã A",
                  "lon": rng.uniform(103, 109, n).round(6),
                  "lat": rng.uniform(9, 23, n).round(6)}).to_csv(tmp_path / "s.csv",
                                                                  index=False)
    start = time.perf_counter()
    gdf = read_vector(LayerInput(path=tmp_path / "s.csv"), name="sites",
                      problems=Problems("s.csv"))
    assert len(gdf) == n
    assert time.perf_counter() - start < 10  # about 1 s on a shared 2-core machine
