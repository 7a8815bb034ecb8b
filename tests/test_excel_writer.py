"""The streamed Excel writer (issue 15) against the openpyxl writer it replaced.

``benchmarks/legacy_excel.py`` is the old writer, kept for this comparison and for
``benchmarks/bench_exports.py``.  Every cell of every sheet must hold the same value,
number format, boldness, fill and quote prefix; the gap sheets differ only as meant: a
note above the header, and (with a limit) the first N gaps per commune.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

import covgap
from covgap.export.excel import (
    SHEETS,
    gap_note,
    top_per_commune,
    write_lists,
    write_report,
)
from covgap.export.lists import gap_operators

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import legacy_excel

NOTED = {SHEETS["mobile"], SHEETS["fibre"], SHEETS["technical"]}


def _cells(ws, first_row: int = 1) -> list[tuple]:
    """Every cell from ``first_row`` on: what a reader sees of it."""
    out = []
    for row in ws.iter_rows(min_row=first_row):
        for c in row:
            if c.value is None and not c.has_style:
                continue
            fill = (c.fill.fgColor.rgb[-6:] if c.fill is not None and c.fill.fill_type
                    else None)  # RGB: openpyxl writes alpha 00, Excel and xlsxwriter FF
            out.append((c.row - first_row, c.column, c.value,
                        c.number_format if c.value is not None else None,
                        bool(c.font.b), fill, bool(c.quotePrefix),
                        c.data_type if c.value is not None else None))
    return out


def _same_workbooks(old: Path, new: Path, noted: set[str]) -> None:
    a, b = load_workbook(old), load_workbook(new)
    assert a.sheetnames == b.sheetnames
    for name in a.sheetnames:
        wa, wb = a[name], b[name]
        offset = 2 if name in noted else 1  # the note takes the first row
        old_cells, new_cells = _cells(wa), _cells(wb, offset)
        assert len(old_cells) == len(new_cells), name
        for x, y in zip(old_cells, new_cells, strict=True):
            assert x == y, (name, x, y)
        assert wa.freeze_panes[0] == wb.freeze_panes[0], name
        assert int(wa.freeze_panes[1:]) + offset - 1 == int(wb.freeze_panes[1:]), name
        for key in ("orientation", "paperSize", "fitToHeight"):
            assert str(getattr(wa.page_setup, key)) == str(getattr(wb.page_setup, key)), (
                name, key, getattr(wa.page_setup, key), getattr(wb.page_setup, key))
        # ECMA-376: fitToWidth defaults to 1, which xlsxwriter leaves unwritten
        assert int(wb.page_setup.fitToWidth or 1) == int(wa.page_setup.fitToWidth) == 1
        assert wb.sheet_properties.pageSetUpPr.fitToPage
        assert wb.print_options.gridLines


def test_report_cells_are_the_old_writers(sample_result, tmp_path):
    old = legacy_excel.write_report(sample_result, tmp_path / "old.xlsx")
    new = write_report(sample_result, tmp_path / "new.xlsx", gaps_per_commune=0)
    _same_workbooks(old, new, NOTED)
    ws = load_workbook(new)[SHEETS["mobile"]]
    assert ws["A1"].value == gap_note(0)
    assert ws.print_title_rows == "$1:$2" and ws.auto_filter.ref.startswith("A2:")
    assert load_workbook(new)[SHEETS["summary"]]._charts


def test_lists_cells_are_the_old_writers(sample_result, tmp_path):
    operators = gap_operators(sample_result)
    old = legacy_excel.write_lists(sample_result, tmp_path / "old.xlsx", operators=operators)
    new = write_lists(sample_result, tmp_path / "new.xlsx", operators=operators)
    _same_workbooks(old, new, set())


def test_hostile_texts_are_the_old_writers(sample_result, tmp_path):
    """Formulas, error codes, XML-illegal characters, rich-text markup, edge spaces."""
    texts = ['=HYPERLINK("http://x","y")', "#N/A", "\x01=x", "+1", "@SUM(A1)", "-3",
             "<r><t>x</t></r>", "  Thôn Đông ", "a\nb", "_x0041_", "Thôn Đông", None]
    frame = pd.DataFrame({
        "village_name": texts,
        '=HYPERLINK("http://h")': texts[::-1],
        "population": np.arange(len(texts), dtype=float),
        "reason": ["=" + "lý do dài " * 8] + ["x"] * (len(texts) - 1),
    })

    class Run:  # the sample run with its commune table replaced
        def __getattr__(self, name):
            return frame if name == "communes" else getattr(sample_result, name)

    old = legacy_excel.write_report(Run(), tmp_path / "old.xlsx")
    new = write_report(Run(), tmp_path / "new.xlsx", gaps_per_commune=0)
    # "_x0041_" is Excel's escape of "A": openpyxl wrote it as it is (Excel shows "A"),
    # xlsxwriter escapes its underscore ("_x005F_x0041_", Excel shows "_x0041_"); openpyxl
    # reads both back without decoding, so that one text is compared apart
    escaped = {"_x0041_": "_x005F_x0041_"}
    a = _cells(load_workbook(old)[SHEETS["communes"]])
    b = [(*c[:2], {v: k for k, v in escaped.items()}.get(c[2], c[2]), *c[3:])
         for c in _cells(load_workbook(new)[SHEETS["communes"]])]
    assert a == b
    ws = load_workbook(new)[SHEETS["communes"]]
    assert ws.cell(11, 1).value == "_x005F_x0041_"
    header = [c for c in ws[1]]
    assert header[1].value == '=HYPERLINK("http://h")' and header[1].quotePrefix
    assert header[1].data_type == "s"
    names = [ws.cell(r, 1) for r in range(2, len(texts) + 2)]
    assert [c.value for c in names] == [
        '=HYPERLINK("http://x","y")', "#N/A", "=x", "+1", "@SUM(A1)", "-3",
        "<r><t>x</t></r>", "  Thôn Đông ", "a\nb", "_x005F_x0041_", "Thôn Đông", None]
    assert [bool(c.quotePrefix) for c in names[:-1]] == [
        True, False, True, True, True, True, False, False, False, False, False]
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_a_village_named_like_a_formula_stays_text(province, tmp_path):
    import geopandas as gpd

    villages = gpd.read_file(province.villages)
    villages.loc[villages["village_id"] == "V001", "village_name"] = '=HYPERLINK("http://x")'
    villages.to_file(province.villages, layer="villages")
    result = covgap.run(province.config())
    wb = load_workbook(write_report(result, tmp_path / "report.xlsx"))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if c.value == '=HYPERLINK("http://x")']
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_gap_sheets_list_the_first_n_per_commune_with_a_note(sample_result, tmp_path):
    gaps = sample_result.gaps
    n = 2
    wb = load_workbook(write_report(sample_result, tmp_path / "r.xlsx", gaps_per_commune=n))
    for key, part in (("mobile", "mobile"), ("fibre", "fibre")):
        ws = wb[SHEETS[key]]
        assert ws["A1"].value == gap_note(n) and "gaps_all.csv" in ws["A1"].value
        head = [c.value for c in ws[2]]
        name_col, pop_col = head.index("Tên thôn, bản, tổ dân phố"), head.index(
            "Dân số (người)")
        id_col = head.index("Mã thôn")
        mine = gaps[gaps["gap"].str.contains(part)]
        rows = list(ws.iter_rows(min_row=3, values_only=True))
        listed = [r for r in rows if r[0] is not None]
        # the expected villages: per commune, the n of lowest priority number
        expected = (mine.assign(_n=mine["commune_name"].fillna(""))
                    .sort_values(["_n", "commune_code", "priority"], kind="stable")
                    .groupby("commune_code", sort=False).head(n))
        assert [r[id_col] for r in listed] == expected["village_id"].tolist()
        assert [r[0] for r in listed] == list(range(1, len(expected) + 1))
        per = mine.groupby("commune_code").size()
        assert len(expected) < len(mine), "the sample has a commune with more than n gaps"
        subtotals = [r for r in rows[:-1] if r[0] is None]
        assert len(subtotals) == len(per)
        # subtotals and the total count and sum every gap, listed or not
        assert sum(r[pop_col] for r in subtotals) == pytest.approx(mine["population"].sum())
        assert rows[-1][name_col] == f"Tổng cộng: {len(mine)} thôn"
        cut = [r[name_col] for r in subtotals if "liệt kê" in r[name_col]]
        assert len(cut) == int((per > n).sum())
        assert all(f"liệt kê {n} thôn ưu tiên nhất" in text for text in cut)
    technical = wb[SHEETS["technical"]]
    shown = (top_per_commune(gaps[gaps["gap"].str.contains("mobile")], n).sum()
             + top_per_commune(gaps[gaps["gap"].str.contains("fibre")], n).sum())
    assert len(gaps) > technical.max_row - 2 >= shown / 2


def test_top_per_commune_keeps_the_first_by_priority():
    gaps = pd.DataFrame({"commune_code": ["B", "A", "A", "A", "B"],
                         "commune_name": ["Xã B", "Xã A", "Xã A", "Xã A", "Xã B"],
                         "priority": [5, 3, 1, 2, 4]}, index=[10, 11, 12, 13, 14])
    assert top_per_commune(gaps, 1).tolist() == [False, False, True, False, True]
    assert top_per_commune(gaps, 0).all() and top_per_commune(gaps, 9).all()


def test_an_unwritable_report_is_an_os_error(sample_result, tmp_path):
    with pytest.raises(OSError):
        write_report(sample_result, tmp_path / "missing" / "report.xlsx")


def test_the_row_writer_escapes_control_characters_as_xlsxwriter(tmp_path, monkeypatch):
    # _RowXml writes a column's texts without xlsxwriter's control-character escape when
    # none of them needs it: the sheet must be xlsxwriter's own, byte for byte
    import zipfile

    from covgap.export import excel

    texts = ["cr\rx", "_x0041_", "non\ufffechar", "under_score", "plain", "tab\tx", None,
             "Thôn Đông"]
    frame = pd.DataFrame({"village_name": texts, "other": ["x", "y"] * 4,
                          "population": np.arange(8.0)})

    def sheet(path):
        wb, styles = excel._workbook(path, "t")
        excel._write_table(wb.add_worksheet("s"), styles, frame)
        excel._close(wb, path)
        with zipfile.ZipFile(path) as z:
            return z.read("xl/worksheets/sheet1.xml")

    fast = sheet(tmp_path / "fast.xlsx")
    assert b"_x000D_" in fast and b"_x005F_x0041_" in fast and b"_xFFFE_" in fast
    monkeypatch.setattr(excel._RowXml, "write", lambda self, r, i: False)  # xlsxwriter's
    assert sheet(tmp_path / "plain.xlsx") == fast
