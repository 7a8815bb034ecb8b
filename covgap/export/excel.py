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
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from covgap._version import __version__
from covgap.export.csv import VI_HEADERS, safe_text

__all__ = ["INDICATOR_LABELS", "SHEETS", "indicator_label", "rule_text", "write_report"]

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


def _num(value: float) -> str:
    return f"{value:g}"


def rule_text(config: Any) -> str:
    """Return the coverage rule of a configuration in one line (English).

    Parameters
    ----------
    config : Config
        The effective configuration of a run.

    Returns
    -------
    str
        What counts as covered and as FTTH-ready.

    Examples
    --------
    >>> from covgap.config import Config
    >>> print(rule_text(Config()))  # doctest: +NORMALIZE_WHITESPACE
    covered = 4G/5G within the service radius (4G 5000 m, 5G 1000 m) (radius model) over
    at least 80% of a village's people or area; FTTH = fibre within 1000 m
    """
    cc, rules = config.coverage, config.rules
    techs = "/".join(cc.technologies)
    if cc.model == "radius":
        radii = ", ".join(f"{t} {_num(cc.radius_m[t])} m" for t in cc.technologies
                          if t in cc.radius_m)
        signal = f"within the service radius ({radii})"
        if cc.radius_urban_m:
            urban = ", ".join(f"{t} {_num(r)} m" for t, r in cc.radius_urban_m.items())
            signal += f", urban {urban}"
    elif cc.model == "raster" and cc.maps_unit == "binary":
        signal = "inside the operators' coverage maps"
    else:
        signal = f"signal >= {_num(cc.min_rsrp_dbm)} dBm"
    text = (f"covered = {techs} {signal} ({cc.model} model) over at least "
            f"{_num(100 * rules.village_covered_share)}% of a village's people or area")
    if rules.village_point_radius_m > 0:
        text += f" (point villages: a disc of {_num(rules.village_point_radius_m)} m)"
    return f"{text}; FTTH = fibre within {_num(rules.ftth_max_distance_m)} m"


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


def _risky(texts: Sequence[Any]) -> list[bool]:
    """Which of ``texts`` :func:`safe_text` would neutralise (Excel would run them)."""
    s = pd.Series([t if isinstance(t, str) else None for t in texts], dtype="string")
    return (safe_text(s) != s).fillna(False).tolist()


def _put(ws: Worksheet, row: int, col: int, value: Any, *, risky: bool | None = None,
         number_format: str | None = None) -> Cell:
    """Write one cell; text is always text, never a formula."""
    value = _value(value)
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
        if risky if risky is not None else _risky([value])[0]:
            cell.quotePrefix = True
    else:
        cell.value = value
        if number_format and value is not None:
            cell.number_format = number_format
    return cell


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


def _fit_widths(ws: Worksheet, widths: dict[int, float]) -> None:
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(8.0, min(width + 2, 60.0))


def _write_table(ws: Worksheet, frame: pd.DataFrame, *, freeze_cols: int = 0) -> None:
    """Write a table: a label row, the column ids, the rows; frozen, filtered."""
    frame = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    widths: dict[int, float] = {}
    for j, name in enumerate(frame.columns, start=1):
        label = COLUMN_LABELS.get(str(name), "")
        for row, text in ((1, label), (2, str(name))):
            cell = _put(ws, row, j, text)
            cell.font = _BOLD
            cell.fill = _HEAD_FILL
        ws.cell(1, j).alignment = Alignment(wrap_text=True, vertical="top")
        s = frame[name]
        fmt = _format_for(str(name), s)
        values = [_value(v) for v in s.tolist()]
        risky = _risky(values)
        for i, (v, r) in enumerate(zip(values, risky, strict=True), start=3):
            _put(ws, i, j, v, risky=r, number_format=fmt)
        sample = [len(str(v)) for v in values[:500] if v is not None]
        widths[j] = max([len(str(name)), min(len(label), 24), *sample])
    ws.row_dimensions[1].height = 30
    last = get_column_letter(max(len(frame.columns), 1))
    ws.auto_filter.ref = f"A2:{last}{len(frame) + 2}"
    ws.freeze_panes = ws.cell(row=3, column=freeze_cols + 1).coordinate
    _fit_widths(ws, widths)


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


def _summary(ws: Worksheet, result: Any) -> None:
    config = result.config
    name, year = config.display_name, config.run.year
    _put(ws, 1, 1, f"Chỉ tiêu hạ tầng số: {name} {year}").font = Font(bold=True, size=14)
    _put(ws, 2, 1, f"Digital-infrastructure indicators against the plan's targets: "
                   f"{name} {year}").font = Font(italic=True)
    header = ["Mã chỉ tiêu / Indicator id", "Chỉ tiêu", "Indicator", "Giá trị / Value",
              "Mục tiêu / Target", "Đạt / Met", "Tử số / Numerator", "Mẫu số / Denominator",
              "Đơn vị / Unit", "Nguồn / Source"]
    head_row = 4
    for j, text in enumerate(header, start=1):
        cell = _put(ws, head_row, j, text)
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    rows = _province_rows(result.indicators) if result.indicators is not None else (
        pd.DataFrame(columns=["indicator", "value", "target", "met", "numerator",
                              "denominator", "unit", "source", "_group"]))
    r = head_row
    for r, row in enumerate(rows.itertuples(index=False), start=head_row + 1):
        fmt = _PCT if row.unit == "%" else _THOUSANDS if row.unit == "count" else "0.0"
        met = _value(row.met)
        _put(ws, r, 1, row.indicator)
        _put(ws, r, 2, indicator_label(row.indicator, "vi"))
        _put(ws, r, 3, indicator_label(row.indicator, "en"))
        _put(ws, r, 4, row.value, number_format=fmt)
        _put(ws, r, 5, row.target, number_format=fmt)
        cell = _put(ws, r, 6, None if met is None else _MET[met])
        if met is not None:
            cell.fill = _MET_FILL[met]
        _put(ws, r, 7, row.numerator, number_format=_THOUSANDS)
        _put(ws, r, 8, row.denominator, number_format=_THOUSANDS)
        _put(ws, r, 9, row.unit)
        _put(ws, r, 10, _SOURCE.get(row.source, row.source))
    n_chart = int((rows["_group"] == 0).sum())
    ws.freeze_panes = ws.cell(row=head_row + 1, column=1).coordinate

    cc, rules = config.coverage, config.rules
    info = [
        ("Tên lần chạy", "Run", name, None),
        ("Năm", "Year", year, "0"),
        ("Mô hình phủ sóng", "Coverage model", cc.model, None),
        ("Công nghệ tính là băng rộng di động", "Technologies counted as mobile broadband",
         ", ".join(cc.technologies), None),
        ("Ngưỡng tín hiệu (dBm)", "Signal threshold (dBm)",
         None if cc.model == "radius" else cc.min_rsrp_dbm, "0"),
        ("Tỷ lệ tối thiểu của thôn được phủ", "Share of a village that must be covered",
         rules.village_covered_share, "0%"),
        ("Khoảng cách tối đa tới cáp quang (m)", "FTTH: maximum distance to fibre (m)",
         rules.ftth_max_distance_m, _THOUSANDS),
        ("Quy tắc", "Coverage rule", rule_text(config), None),
        ("Phiên bản covgap", "covgap version", __version__, None),
        ("Thời điểm chạy", "Run at", getattr(result, "started", "") or "", None),
    ]
    start = r + 2
    _put(ws, start, 1, "Quy tắc và thông số / Rule and parameters").font = _BOLD
    for i, (vi, en, value, fmt) in enumerate(info, start=start + 1):
        _put(ws, i, 1, vi)
        _put(ws, i, 2, en)
        _put(ws, i, 3, value, number_format=fmt).alignment = Alignment(
            wrap_text=True, vertical="top", horizontal="left")
    chart_row = start + len(info) + 2
    _fit_widths(ws, {1: 28, 2: 44, 3: 44, 4: 12, 5: 12, 6: 12, 7: 12, 8: 12, 9: 8, 10: 22})
    for col in (2, 3):  # long labels wrap within their column
        for row_cells in ws.iter_rows(min_row=head_row + 1, max_row=r, min_col=col,
                                      max_col=col):
            row_cells[0].alignment = Alignment(wrap_text=True, vertical="top")

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


def write_report(result: Any, path: str | Path) -> Path:
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
    if getattr(result, "analysis", None) is None:
        raise ValueError("the run has no village analysis to report: run every stage "
                         "(covgap.run) before writing the report")
    path = Path(path)
    wb = Workbook()
    summary = wb.active
    summary.title = SHEETS["summary"]
    _summary(summary, result)
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
