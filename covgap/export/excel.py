"""The run as an Excel workbook for the province's report, ``report.xlsx``.

Sheets:

- ``Tổng hợp - Summary``: the province's indicators against the plan's targets, with
  a bar chart of values against targets, and the rule that produced them (model,
  technologies, thresholds), the run's name and year.
- ``Xã - Communes``: the commune table.
- ``Thôn thiếu - Gaps``: the gap list, highest priority first.
- ``Chỉ tiêu - Indicators``: every indicator row (province, districts, communes).

Excel forbids ``/`` in sheet names, hence the hyphens.  Tables have a Vietnamese label
row above the column ids of the CSVs, frozen, with an autofilter; numbers stay numbers
(percent with one decimal, thousands separators), booleans stay booleans and ``met``
reads "✓ Đạt" / "✗ Chưa đạt".

Every text cell is written as text, never as a formula: a cell that
:func:`~covgap.export.csv.safe_text` would prefix with an apostrophe (text starting with
``=``, ``+``, ``-``, ``@``) is stored as a string with Excel's "quote prefix", which is
what Excel itself stores when a user types ``'=...``: the text shows as it is and stays
text when the cell is edited.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from covgap._version import __version__
from covgap.analysis.rules import min_rsrp_dbm, rule_text
from covgap.export.csv import VI_HEADERS, safe_text

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from covgap.result import Result

__all__ = ["INDICATOR_LABELS", "SHEETS", "indicator_label", "write_report"]

#: Sheet names (Excel allows 31 characters and no ``/``).
SHEETS = {
    "summary": "Tổng hợp - Summary",
    "communes": "Xã - Communes",
    "gaps": "Thôn thiếu - Gaps",
    "indicators": "Chỉ tiêu - Indicators",
}

#: Indicator id -> (Vietnamese, English) label, worded as in Quyết định 885/QĐ-BTTTT.
INDICATOR_LABELS: dict[str, tuple[str, str]] = {
    "villages_mbb_pct": ("Tỷ lệ thôn được phủ sóng băng rộng di động",
                         "Villages covered by mobile broadband"),
    "villages_ftth_pct": ("Tỷ lệ thôn được phủ băng rộng cố định (cáp quang FTTH)",
                          "Villages with fixed broadband (FTTH)"),
    "bts_sharing_pct": ("Tỷ lệ dùng chung vị trí trạm BTS",
                        "BTS site locations shared by two or more operators"),
    "population_mbb_pct": ("Tỷ lệ dân số được phủ sóng băng rộng di động",
                           "Population covered by mobile broadband"),
    "commune_centres_5g_pct": ("Tỷ lệ trung tâm xã có sóng 5G", "Commune centres with 5G"),
    "usp_villages": ("Số thôn thuộc diện viễn thông công ích (QĐ 2269)",
                     "Villages eligible for the universal-service programme"),
}

#: Vietnamese labels of the commune and gap columns covgap writes.
COLUMN_LABELS: dict[str, str] = {
    **VI_HEADERS,
    **{k: v[0] + (" (%)" if k.endswith("_pct") else "") for k, v in INDICATOR_LABELS.items()
       if k != "usp_villages"},
}

_MET = {True: "✓ Đạt", False: "✗ Chưa đạt"}
_SOURCE = {"map": "bản đồ / map", "supplied": "số liệu cung cấp / supplied"}
_PCT = '0.0"%"'      # values already in percent (94.4 shows as 94.4%)
_SHARE = "0.0%"      # values in 0-1
_THOUSANDS = "#,##0"
_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_MET_FILL = {True: PatternFill("solid", fgColor="C6EFCE"),
             False: PatternFill("solid", fgColor="FFC7CE")}


def indicator_label(indicator: str, language: str = "vi") -> str:
    """Return an indicator's label in Vietnamese (``"vi"``) or English (``"en"``).

    Unknown ids (operator-supplied statistics) are returned as they are.

    Examples
    --------
    >>> indicator_label("villages_mbb_pct", "en")
    'Villages covered by mobile broadband'
    """
    labels = INDICATOR_LABELS.get(indicator)
    if labels is None:
        return indicator
    return labels[0] if language == "vi" else labels[1]


def _value(value: Any) -> Any:
    """Return ``value`` as Excel holds it (None for a missing value)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, int | str | datetime | date):
        return value
    return str(value)


def _column_values(s: pd.Series) -> list[Any]:
    """Return :func:`_value` of each value of a column, numpy columns at numpy speed."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return s.tolist()  # Python bool / int already
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        array = s.to_numpy()
        values = array.tolist()
        for i in np.flatnonzero(~np.isfinite(array)).tolist():
            values[i] = None
        return values
    return [v if type(v) is str else _value(v) for v in s.tolist()]


def _risky(texts: Sequence[Any]) -> list[bool]:
    """Which of ``texts`` :func:`safe_text` would neutralise (Excel would run them)."""
    s = pd.Series([t if isinstance(t, str) else None for t in texts], dtype="string")
    return (safe_text(s) != s).fillna(False).tolist()


def _legal(texts: list[Any]) -> list[Any]:
    """Drop the characters XML cannot hold from the strings of ``texts``."""
    strings = [t for t in texts if isinstance(t, str)]
    if not ILLEGAL_CHARACTERS_RE.search("".join(strings)):  # the usual case: one scan
        return texts
    return [ILLEGAL_CHARACTERS_RE.sub("", t) if isinstance(t, str) else t for t in texts]


def _cell(ws: WriteOnlyWorksheet, value: Any, *, risky: bool | None = None,
          number_format: str | None = None) -> Cell:
    """Return one cell to append; text is always text, never a formula."""
    value = _value(value)
    cell = WriteOnlyCell(ws)
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
        if risky if risky is not None else _risky([cell.value])[0]:
            cell.quotePrefix = True
    else:
        cell.value = value
        if number_format and value is not None:
            cell.number_format = number_format
    return cell


def _text_items(ws: WriteOnlyWorksheet, values: list[Any]) -> list[Any]:
    """Return a column's values to append, its risky or formula-like text as cells.

    Plain text is appended as it is (openpyxl stores it as a string); text openpyxl
    would read as a formula (``=...``) or an error code (``#N/A``), and text
    :func:`safe_text` would neutralise, becomes a string cell with the quote prefix
    where it is risky, as :func:`_cell` writes it.
    """
    if not any(isinstance(v, str) for v in values):
        return values
    items = _legal(values)
    risky = _risky(items)  # after the illegal characters go: "\x01=x" is "=x" in Excel
    for i, (v, r) in enumerate(zip(items, risky, strict=True)):
        if isinstance(v, str) and (r or v in ERROR_CODES or v.startswith("=")):
            cell = WriteOnlyCell(ws, v)
            cell.data_type = "s"
            if r:
                cell.quotePrefix = True
            items[i] = cell
    return items


def _format_for(name: str, s: pd.Series) -> str | None:
    """Return the number format of a table column, from its name and type."""
    if name.endswith("_pct"):
        return _PCT
    if name == "mbb_share" or name.startswith("share_"):
        return _SHARE
    if name in ("lon", "lat"):
        return "0.000000"
    if name.endswith("_dbm"):
        return "0.0"
    if pd.api.types.is_bool_dtype(s):
        return None
    if pd.api.types.is_numeric_dtype(s):
        if name.endswith("_m") or name in ("population", "households", "population_mbb"):
            return _THOUSANDS
        if pd.api.types.is_integer_dtype(s):
            return _THOUSANDS
    return None


def _fit_widths(ws: WriteOnlyWorksheet, widths: dict[int, float]) -> None:
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(8.0, min(width + 2, 60.0))


def _head(ws: WriteOnlyWorksheet, text: str, *, wrap: bool = False) -> Cell:
    cell = _cell(ws, text)
    cell.font = _BOLD
    cell.fill = _HEAD_FILL
    if wrap:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


_PLAIN_NUMBERS = frozenset({int, float, bool})


def _styled_cell(ws: WriteOnlyWorksheet, number_format: str) -> Cell:
    cell = WriteOnlyCell(ws)
    cell.number_format = number_format
    return cell


def _write_table(ws: WriteOnlyWorksheet, frame: pd.DataFrame, *, freeze_cols: int = 0) -> None:
    """Write a table: a label row, the column ids, the rows; frozen, filtered.

    ``ws`` streams its rows (write-only mode), so the widths, the frozen panes and the
    label row's height are set before the first row.
    """
    frame = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    names = [str(name) for name in frame.columns]
    labels = [COLUMN_LABELS.get(name, "") for name in names]
    columns: list[list[Any]] = []
    formats: list[str | None] = []
    widths: dict[int, float] = {}
    for j, (name, label) in enumerate(zip(names, labels, strict=True), start=1):
        s = frame.iloc[:, j - 1]
        values = _column_values(s)
        sample = [len(str(v)) for v in values[:500] if v is not None]
        widths[j] = max([len(name), min(len(label), 24), *sample])
        formats.append(_format_for(name, s))
        numpy_numbers = isinstance(s.dtype, np.dtype) and s.dtype.kind in "biuf"
        columns.append(values if numpy_numbers else _text_items(ws, values))
    last = get_column_letter(max(len(names), 1))
    ws.auto_filter.ref = f"A2:{last}{len(frame) + 2}"
    ws.freeze_panes = f"{get_column_letter(freeze_cols + 1)}3"
    _fit_widths(ws, widths)
    ws.row_dimensions[1].height = 30
    ws.append([_head(ws, label, wrap=True) for label in labels])
    ws.append([_head(ws, name) for name in names])
    # A formatted column's numbers go through one styled cell, its value replaced row
    # after row: a write-only sheet writes a row out when it is appended.  Other values
    # (dates, whose binding sets a format of its own) get a cell each.
    styled = [j for j, fmt in enumerate(formats) if fmt]
    number_cells: dict[int, Cell] = {}  # made on a column's first number
    for row in zip(*columns, strict=True):
        if styled:
            row = list(row)
            for j in styled:
                v = row[j]
                if v is None or isinstance(v, str | Cell):
                    continue
                if type(v) in _PLAIN_NUMBERS:
                    cell = number_cells.get(j)
                    if cell is None:
                        cell = number_cells[j] = _styled_cell(ws, formats[j])
                    cell.value = v
                    row[j] = cell
                else:
                    row[j] = _cell(ws, v, number_format=formats[j])
        ws.append(row)


def _province_rows(indicators: pd.DataFrame) -> pd.DataFrame:
    """Return the province's indicators in report order.

    Percentages from the map first (the chart's rows), then counts, then supplied
    statistics.
    """
    rows = indicators[indicators["level"] == "province"].copy()
    order = list(INDICATOR_LABELS)
    rows["_group"] = np.select(
        [(rows["source"] == "map") & (rows["unit"] == "%"), rows["source"] == "map"], [0, 1], 2)
    rows["_order"] = rows["indicator"].map({k: i for i, k in enumerate(order)}).fillna(
        len(order))
    return rows.sort_values(["_group", "_order"], kind="stable")


def _summary(ws: WriteOnlyWorksheet, result: Result) -> None:
    """Write the summary sheet, row after row (``ws`` is write-only)."""
    config = result.config
    name, year = config.display_name, config.run.year
    header = ["Mã chỉ tiêu / Indicator id", "Chỉ tiêu", "Indicator", "Giá trị / Value",
              "Mục tiêu / Target", "Đạt / Met", "Tử số / Numerator", "Mẫu số / Denominator",
              "Đơn vị / Unit", "Nguồn / Source"]
    head_row = 4
    rows = _province_rows(result.indicators) if result.indicators is not None else (
        pd.DataFrame(columns=["indicator", "value", "target", "met", "numerator",
                              "denominator", "unit", "source", "_group"]))
    n_chart = int((rows["_group"] == 0).sum())
    r = head_row + len(rows)
    ws.freeze_panes = f"A{head_row + 1}"
    _fit_widths(ws, {1: 28, 2: 44, 3: 44, 4: 12, 5: 12, 6: 12, 7: 12, 8: 12, 9: 8, 10: 22})

    title = _cell(ws, f"Chỉ tiêu hạ tầng số: {name} {year}")
    title.font = Font(bold=True, size=14)
    subtitle = _cell(ws, f"Digital-infrastructure indicators against the plan's targets: "
                         f"{name} {year}")
    subtitle.font = Font(italic=True)
    ws.append([title])
    ws.append([subtitle])
    ws.append([])
    ws.append([_head(ws, text, wrap=True) for text in header])
    for row in rows.itertuples(index=False):
        fmt = _PCT if row.unit == "%" else _THOUSANDS if row.unit == "count" else "0.0"
        met = _value(row.met)
        labels = [_cell(ws, indicator_label(row.indicator, language))
                  for language in ("vi", "en")]
        for label in labels:  # long labels wrap within their column
            label.alignment = Alignment(wrap_text=True, vertical="top")
        met_cell = _cell(ws, None if met is None else _MET[met])
        if met is not None:
            met_cell.fill = _MET_FILL[met]
        ws.append([_cell(ws, row.indicator), *labels,
                   _cell(ws, row.value, number_format=fmt),
                   _cell(ws, row.target, number_format=fmt), met_cell,
                   _cell(ws, row.numerator, number_format=_THOUSANDS),
                   _cell(ws, row.denominator, number_format=_THOUSANDS),
                   _cell(ws, row.unit), _cell(ws, _SOURCE.get(row.source, row.source))])

    cc, rules = config.coverage, config.rules
    info = [
        ("Tên lần chạy", "Run", name, None),
        ("Năm", "Year", year, "0"),
        ("Mô hình phủ sóng", "Coverage model", cc.model, None),
        ("Công nghệ tính là băng rộng di động", "Technologies counted as mobile broadband",
         ", ".join(cc.technologies), None),
        ("Ngưỡng tín hiệu (dBm)", "Signal threshold (dBm)",
         None if cc.model == "radius" else min_rsrp_dbm(config, result.coverage), "0"),
        ("Tỷ lệ tối thiểu của thôn được phủ", "Share of a village that must be covered",
         rules.village_covered_share, "0%"),
        ("Khoảng cách tối đa tới cáp quang (m)", "FTTH: maximum distance to fibre (m)",
         rules.ftth_max_distance_m, _THOUSANDS),
        ("Quy tắc", "Coverage rule", rule_text(config, result.coverage), None),
        ("Phiên bản covgap", "covgap version", __version__, None),
        ("Thời điểm chạy", "Run at", result.started or "", None),
    ]
    start = r + 2
    ws.append([])
    section = _cell(ws, "Quy tắc và thông số / Rule and parameters")
    section.font = _BOLD
    ws.append([section])
    for vi, en, value, fmt in info:
        cell = _cell(ws, value, number_format=fmt)
        cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
        ws.append([_cell(ws, vi), _cell(ws, en), cell])
    chart_row = start + len(info) + 2

    if n_chart:
        chart = BarChart()
        chart.type = "bar"
        chart.title = "Chỉ tiêu so với mục tiêu / Indicators vs targets (%)"
        chart.y_axis.title = "%"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 100
        chart.y_axis.delete = False
        chart.x_axis.delete = False
        data = Reference(ws, min_col=4, max_col=5, min_row=head_row,
                         max_row=head_row + n_chart)
        cats = Reference(ws, min_col=2, min_row=head_row + 1, max_row=head_row + n_chart)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        chart.height = 8 + 0.6 * n_chart
        chart.width = 22
        ws.add_chart(chart, f"A{chart_row}")


def write_report(result: Result, path: str | Path) -> Path:
    """Write ``report.xlsx``: the summary, commune, gap and indicator sheets.

    Parameters
    ----------
    result : Result
        A run (:func:`covgap.run`) with its analysis.
    path : str or Path
        The workbook to write; an existing file is replaced.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        The run has no analysis (nothing to report).

    Examples
    --------
    >>> result = covgap.run("data/sample.toml")  # doctest: +SKIP
    >>> write_report(result, "out/report.xlsx")  # doctest: +SKIP
    """
    if result.analysis is None:
        raise ValueError("the run has no village analysis to report: run every stage "
                         "(covgap.run) before writing the report")
    path = Path(path)
    # write-only: rows stream to the file as they are appended; a national run's report
    # (3,300 communes, 60,000 gaps) takes about two thirds of the time of building every
    # cell in memory first
    wb = Workbook(write_only=True)
    _summary(wb.create_sheet(SHEETS["summary"]), result)
    for key, frame, freeze in (("communes", result.communes, 2), ("gaps", result.gaps, 3),
                               ("indicators", result.indicators, 0)):
        ws = wb.create_sheet(SHEETS[key])
        table = pd.DataFrame(frame)
        if key == "indicators":
            table = table.assign(met=table["met"].map(
                lambda v: None if v is None or v is pd.NA else _MET[bool(v)]))
        _write_table(ws, table, freeze_cols=freeze)
    wb.properties.title = f"covgap {result.config.display_name} {result.config.run.year}"
    wb.properties.creator = f"covgap {__version__}"
    wb.save(path)
    return path
