"""GeoPackage, Excel report and PNG charts of a run."""

from __future__ import annotations

import re
import struct

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from openpyxl import load_workbook

import covgap
from covgap.analysis import INDICATORS
from covgap.export.excel import SHEETS, column_header, write_report
from covgap.export.gpkg import GPKG_CRS, coverage_polygons, field_names, write_geopackage
from covgap.export.plots import write_plots

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
INJECTION = '=HYPERLINK("http://x")'


class _WithoutCandidates:
    """A run seen without candidates (``result.candidates`` is None)."""

    def __init__(self, result):
        self._result = result

    def __getattr__(self, name):
        return None if name == "candidates" else getattr(self._result, name)


def _layers(path):
    return {name: geom for name, geom in pyogrio.list_layers(path)}


# ---------------------------------------------------------------- GeoPackage


def test_geopackage_of_the_sample_run_has_every_layer(sample_result, tmp_path):
    path = write_geopackage(sample_result, tmp_path / "results.gpkg")
    layers = _layers(path)
    expected = {"villages": sample_result.villages, "communes": sample_result.communes,
                "sites": sample_result.sites,
                "site_locations": sample_result.analysis.locations,
                "fibre": sample_result.inputs.fibre}
    if getattr(sample_result, "candidates", None) is not None:
        expected["candidates"] = sample_result.candidates
    assert set(layers) == {*expected, "coverage"}
    for name, table in expected.items():
        info = pyogrio.read_info(path, layer=name)
        assert info["features"] == len(table), name
        assert info["crs"] == GPKG_CRS, name
        assert all(NAME.match(f) for f in info["fields"]), (name, info["fields"])
    villages = pyogrio.read_info(path, layer="villages")
    subtypes = dict(zip(villages["fields"], villages["ogr_subtypes"], strict=True))
    assert subtypes["mbb_covered"] == "OFSTBoolean"
    assert subtypes["ftth"] == "OFSTBoolean"
    # share_MobiFone etc. become lowercase
    assert {"share_mobifone", "share_vnpt", "share_viettel"} <= set(villages["fields"])
    # routes and nodes share the fibre layer: the GEOMETRY type
    assert layers["fibre"] == "Unknown"
    assert layers["coverage"] == "MultiPolygon"
    fibre = pyogrio.read_dataframe(path, layer="fibre")
    assert fibre.geom_type.value_counts().to_dict() == (
        sample_result.inputs.fibre.geom_type.value_counts().to_dict())
    # the raster model's coverage, one feature per operator and technology with coverage
    cov = pyogrio.read_dataframe(path, layer="coverage")
    assert pyogrio.read_info(path, layer="coverage")["crs"] == GPKG_CRS
    assert len(cov) == len(sample_result.coverage.keys())
    assert cov.geometry.is_valid.all()
    assert cov.loc[cov["technology"] == "4G", "mbb"].all()
    assert not cov.loc[cov["technology"] == "2G", "mbb"].any()


def test_polygonised_coverage_keeps_the_covered_area(sample_result):
    coverage = sample_result.coverage
    polygons = coverage_polygons(coverage, technologies=["4G", "5G"])
    cell_km2 = coverage.grid.cell_size_m ** 2 / 1e6
    for row in polygons.itertuples():
        cells = coverage.covered(row.operator, row.technology).sum() * cell_km2
        assert row.area_km2 == pytest.approx(cells, rel=0.01)  # simplified by one cell only
    assert polygons.crs == sample_result.inputs.metric_crs


def test_geopackage_keeps_vietnamese_names_and_leaves_out_missing_candidates(province,
                                                                          tmp_path):
    villages = gpd.read_file(province.villages)
    villages.loc[0, "village_name"] = "Thường Xuân"
    villages.to_file(province.villages, layer="villages")
    result = covgap.run(province.config(coverage={"model": "radius"}))
    path = write_geopackage(_WithoutCandidates(result), tmp_path / "results.gpkg")
    assert "candidates" not in _layers(path)
    back = pyogrio.read_dataframe(path, layer="villages")
    assert back["village_name"].tolist() == result.villages["village_name"].tolist()
    assert "Thường Xuân" in back["village_name"].tolist()
    communes = pyogrio.read_dataframe(path, layer="communes")
    assert "Xã Thường Xuân" in communes["commune_name"].tolist()
    # the radius model's footprints, as modelled
    cov = pyogrio.read_dataframe(path, layer="coverage")
    areas = result.coverage.areas
    assert len(cov) == len(areas)
    assert cov["area_km2"].to_numpy() == pytest.approx(
        areas.sort_values(["operator", "technology"]).area.to_numpy() / 1e6, rel=1e-3)
    assert cov["min_rsrp_dbm"].isna().all()  # no signal threshold in the radius model
    # each cell knows its site location; TH-0001 and TH-0002 share one
    sites = pyogrio.read_dataframe(path, layer="sites")
    shared = sites.groupby("site_id")["shared_location"].first()
    assert shared.to_dict() == {"TH-0001": True, "TH-0002": True, "TH-0003": False,
                                "TH-0004": False}


def test_an_existing_geopackage_is_replaced(province, tmp_path):
    result = covgap.run(province.config())
    path = tmp_path / "results.gpkg"
    gpd.GeoDataFrame({"x": [1]}, geometry=gpd.points_from_xy([0], [0]),
                     crs=GPKG_CRS).to_file(path, layer="stale")
    write_geopackage(result, path)
    assert "stale" not in _layers(path)


def test_field_names_are_friendly_and_unique():
    names = field_names(["share_MobiFone", "share_mobifone", "Tên thôn", "Đường dây",
                         "3G", "fid", "geom", "x" * 80, "x" * 80, ""])
    assert names[:7] == ["share_mobifone", "share_mobifone_2", "ten_thon", "duong_day",
                         "f_3g", "fid_1", "geom_1"]
    assert len(names[7]) == 63 and len(names[8]) == 63 and names[7] != names[8]
    assert names[9] == "field"
    assert all(NAME.match(n) for n in names)


# ---------------------------------------------------------------- Excel


def test_a_formula_in_a_name_is_text_in_the_report(province, tmp_path):
    communes = gpd.read_file(province.communes)
    communes.loc[communes["commune_code"] == "15002", "commune_name"] = INJECTION
    communes.to_file(province.communes, layer="communes")
    villages = gpd.read_file(province.villages)
    villages.loc[villages["village_id"] == "V001", "village_name"] = "@Bản Pù Nhi"
    villages.to_file(province.villages, layer="villages")
    result = covgap.run(province.config())
    path = write_report(result, tmp_path / "report.xlsx")

    wb = load_workbook(path)
    assert wb.sheetnames == list(SHEETS.values())
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    injected = [c for c in cells if isinstance(c.value, str) and c.value.startswith("=")]
    assert injected, "the commune name is in the report"
    for cell in injected:
        assert cell.data_type == "s"
        assert cell.value.startswith('=HYPERLINK("http://x")')
        assert cell.quotePrefix  # stays text when edited in Excel
    at = [c for c in cells if c.value == "@Bản Pù Nhi"]
    assert at and all(c.data_type == "s" and c.quotePrefix for c in at)
    plain = [c for c in cells if c.value == "Xã Thường Xuân"]
    assert plain and not any(c.quotePrefix for c in plain)


def test_report_of_the_sample_run(sample_result, tmp_path):
    path = write_report(sample_result, tmp_path / "report.xlsx", gaps_per_commune=0)
    wb = load_workbook(path)
    assert wb.sheetnames == list(SHEETS.values())
    summary = wb[SHEETS["summary"]]
    ids = {c.value for c in summary["A"] if isinstance(c.value, str)}
    assert set(INDICATORS) <= ids
    assert summary._charts  # openpyxl keeps charts it reads back
    row = next(c.row for c in summary["A"] if c.value == "villages_mbb_pct")
    value, target, met = (summary.cell(row, col) for col in (4, 5, 6))
    province = sample_result.indicators.query(
        "level == 'province' and indicator == 'villages_mbb_pct'").iloc[0]
    assert value.data_type == "n" and value.value == pytest.approx(province["value"])
    assert value.number_format == '0.0#####"%"'  # 99.96 stays 99.96, not 100.0
    assert target.value == pytest.approx(province["target"])
    assert met.value == ("✓ Đạt" if province["met"] else "✗ Chưa đạt")
    text = " ".join(str(c.value) for col in summary.iter_cols(max_col=3) for c in col)
    assert "terrain" in text and "-110" in text  # the rule that produced the figures
    # labels say exactly what is measured, with the configured numbers
    assert "Tỷ lệ thôn có cáp quang trong phạm vi 1 km" in text
    assert "Tỷ lệ vị trí trạm BTS có từ 2 doanh nghiệp dùng chung (cách nhau ≤ 30 m)" in text
    info = {summary.cell(r, 2).value: summary.cell(r, 3).value
            for r in range(1, summary.max_row + 1)}
    assert info["Data as of ([run] as_of)"] == "chưa ghi / not stated"
    assert info["Source of the sites layer"] == "bts.csv"
    cells = sample_result.coverage.cells
    assert info["Cells with default antenna parameters"] == int(
        cells["defaulted"].fillna("").astype(str).ne("").sum())
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d \(giờ Việt Nam, UTC\+7\)",
                        info["Run at (Vietnam time, UTC+7)"])
    assert "no unit prices" in info["Unit prices (million VND)"]
    assert info["Decision cited (usp), 2021–2025"].startswith("ngày 31/12/2021")

    communes = wb[SHEETS["communes"]]
    header = [c.value for c in communes[1]]
    assert "geometry" not in header and "Xã, phường, đặc khu" in header
    assert communes.max_row == 1 + len(sample_result.communes)
    assert communes.freeze_panes == "C2"
    assert communes.auto_filter.ref.startswith("A1:")
    pct = communes.cell(2, header.index("Tỷ lệ thôn có cáp quang trong phạm vi 1 km (%)") + 1)
    assert pct.data_type == "n" and pct.number_format == '0.0#####"%"'
    assert communes.cell(2, header.index("Dân số (người)") + 1).number_format == "#,##0"
    names = [communes.cell(r, header.index("Xã, phường, đặc khu") + 1).value
             for r in range(2, communes.max_row + 1)]
    assert names == sample_result.communes["commune_name"].tolist()
    assert "Huyện (cũ, trước 01/7/2025)" in header

    # mobile and fibre gaps apart, STT, grouped by commune with subtotals and a total;
    # a note above the header (every gap listed here: gaps_per_commune=0)
    gaps = sample_result.gaps
    for key, part in (("mobile", "mobile"), ("fibre", "fibre")):
        ws = wb[SHEETS[key]]
        assert "gaps.csv" in ws["A1"].value
        head = [c.value for c in ws[2]]
        assert head[0] == "STT"
        mine = gaps[gaps["gap"].str.contains(part)]
        n_communes = mine["commune_code"].nunique()
        assert ws.max_row == 2 + len(mine) + n_communes + 1
        rows = list(ws.iter_rows(min_row=3, values_only=True))
        stt = [r[0] for r in rows if r[0] is not None]
        assert stt == list(range(1, len(mine) + 1))
        name_col = head.index("Tên thôn, bản, tổ dân phố")
        pop_col = head.index("Dân số (người)")
        assert rows[-1][name_col] == f"Tổng cộng: {len(mine)} thôn"
        assert rows[-1][pop_col] == pytest.approx(mine["population"].sum())
        subtotals = [r for r in rows[:-1] if r[0] is None]
        assert len(subtotals) == n_communes
        assert sum(r[pop_col] for r in subtotals) == pytest.approx(mine["population"].sum())
        assert "share_Viettel" not in head and not any("_" in str(h) for h in head)
    mobile_head = [c.value for c in wb[SHEETS["mobile"]][2]]
    assert "Doanh nghiệp đề xuất (tham khảo)" in mobile_head
    assert "Tình trạng sóng" in mobile_head
    states = {r[mobile_head.index("Tình trạng sóng")]
              for r in wb[SHEETS["mobile"]].iter_rows(min_row=3, values_only=True)}
    assert {"Thôn chưa có sóng di động (lõm sóng)",
            "Thôn chỉ có sóng 2G/3G, chưa có 4G/5G"} <= states
    technical = [c.value for c in wb[SHEETS["technical"]][2]]
    assert "Tỷ lệ thôn được Viettel phủ 4G/5G (%)" in technical
    assert "Khoảng cách tới cáp quang của VNPT (m)" in technical
    assert wb[SHEETS["technical"]].max_row == 2 + len(gaps)
    # every column of every table has a Vietnamese label, not covgap's id
    for key in ("communes", "mobile", "fibre", "technical", "indicators"):
        head = [c.value for c in wb[SHEETS[key]][2 if key in ("mobile", "fibre",
                                                              "technical") else 1]]
        assert all(h and "_" not in h for h in head), (key, head)


def test_report_prints_on_a4_landscape_one_page_wide(sample_result, tmp_path):
    wb = load_workbook(write_report(sample_result, tmp_path / "report.xlsx"))
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape", ws.title
        assert int(setup.paperSize) == 9, ws.title  # A4
        # ECMA-376: fitToWidth defaults to 1 (xlsxwriter leaves it unwritten)
        assert int(setup.fitToWidth or 1) == 1 and int(setup.fitToHeight) == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.freeze_panes, ws.title
    for key in ("communes", "indicators"):
        assert wb[SHEETS[key]].print_title_rows == "$1:$1"
    for key in ("mobile", "fibre", "technical"):  # the note and the header
        assert wb[SHEETS[key]].print_title_rows == "$1:$2"
    assert wb[SHEETS["summary"]].print_title_rows == "$4:$4"


# ---------------------------------------------------------------- charts


def test_plots_of_the_sample_run(sample_result, tmp_path):
    paths = write_plots(sample_result, tmp_path / "plots")
    assert [p.name for p in paths] == ["indicators_province.png",
                                       "communes_villages_mbb_pct.png",
                                       "communes_villages_ftth_pct.png"]
    for p in paths:
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert width > 600 and height > 300
        assert len(data) > 20_000


def test_plots_of_a_small_province_show_every_commune(province, tmp_path):
    result = covgap.run(province.config())
    paths = write_plots(result, tmp_path)
    assert len(paths) == 3
    image = __import__("matplotlib.image").image.imread(paths[1])
    assert image.ndim == 3 and np.ptp(image) > 0  # not a blank canvas


# ---------------------------------------------------------------- Excel tables, streamed


class _WithTables:
    """A run seen with some of its tables replaced."""

    def __init__(self, result, **tables):
        self._result, self._tables = result, tables

    def __getattr__(self, name):
        return self._tables[name] if name in self._tables else getattr(self._result, name)


def test_report_tables_keep_each_rows_value_type_and_format(sample_result, tmp_path):
    import pandas as pd

    gaps = pd.DataFrame({
        "priority": [1, 2, 3, 4, 5, 6],
        "village_id": ["V1", "V2", "V3", "V4", "V5", "V6"],
        "village_name": ["=1+1", "#N/A", "\x01=x", "Thôn Đông", "-3", None],
        "population": [1200.0, np.nan, 3.0, np.inf, 5.5, 1e6],
        "mbb_share": [0.5, 0.25, None, 1.0, 0.0, 0.75],
        "ftth": pd.array([True, False, None, True, False, True], dtype="boolean"),
    })
    path = write_report(_WithTables(sample_result, communes=gaps), tmp_path / "report.xlsx")
    ws = load_workbook(path)[SHEETS["communes"]]
    assert [c.value for c in ws[1]] == [column_header(c) for c in gaps.columns]
    assert ws.max_row == 1 + len(gaps)
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == "A1:F7"
    assert ws.row_dimensions[1].height == 45
    assert all(ws.column_dimensions[col].width >= 8 for col in "ABCDEF")
    assert all(c.font.b for row in ws.iter_rows(max_row=1) for c in row)

    rows = list(ws.iter_rows(min_row=2))
    # every row its own number (one styled cell carries a column's values row by row)
    assert [r[0].value for r in rows] == [1, 2, 3, 4, 5, 6]
    assert all(r[0].number_format == "#,##0" for r in rows)
    assert [r[3].value for r in rows] == [1200, None, 3, None, 5.5, 1e6]  # NaN, inf: blank
    assert [r[3].number_format for r in rows if r[3].value is not None] == ["#,##0"] * 4
    assert [r[4].value for r in rows] == [0.5, 0.25, None, 1.0, 0.0, 0.75]
    assert [r[4].number_format for r in rows if r[4].value is not None] == ["0.0%"] * 5
    # booleans read the Vietnamese way
    assert [r[5].value for r in rows] == ["Có", "Không", None, "Có", "Không", "Có"]

    names = [r[2] for r in rows]
    # "\x01=x" loses the character XML cannot hold: "=x" must still not be a formula
    assert [c.value for c in names] == ["=1+1", "#N/A", "=x", "Thôn Đông", "-3", None]
    assert all(c.data_type == "s" for c in names[:5])  # text, not a formula or an error
    assert [bool(c.quotePrefix) for c in names[:5]] == [True, False, True, False, True]
    assert all(c.number_format == "General" for c in names)


def test_report_communes_sheet_holds_the_commune_table(sample_result, tmp_path):
    import pandas as pd

    ws = load_workbook(write_report(sample_result, tmp_path / "report.xlsx"))[
        SHEETS["communes"]]
    table = sample_result.communes.drop(columns="geometry")
    assert [c.value for c in ws[1]] == [column_header(c, sample_result.config)
                                        for c in table.columns]
    for j, name in enumerate(table.columns, start=1):
        cells = [row[0].value for row in ws.iter_rows(min_row=2, min_col=j, max_col=j)]
        expected = [None if pd.isna(v) else ({True: "Có", False: "Không"}[v]
                    if isinstance(v, bool | np.bool_) else v) for v in table[name].tolist()]
        assert [c is None for c in cells] == [v is None for v in expected], name
        known = [(c, v) for c, v in zip(cells, expected, strict=True) if v is not None]
        if table[name].dtype.kind == "f":
            assert [c for c, _ in known] == pytest.approx([v for _, v in known], rel=1e-15)
        else:
            assert [c for c, _ in known] == [v for _, v in known], name
