"""The Excel writer as it was before issue 15 (openpyxl, write-only), kept for comparison.

A saved copy of the writing half of ``covgap/export/excel.py`` at commit 9c9b817 (the
labels, sheet names and column lists are imported from today's module, so only the
writer differs).  ``benchmarks/bench_exports.py`` times it against today's writer, and
``tests/test_excel_writer.py`` checks that today's report holds the same cells.  Not part
of covgap: nothing in the package imports it.
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
from covgap.analysis.villages import SIGNAL_STATUSES
from covgap.config import LAYERS, Config
from covgap.export.csv import safe_text
from covgap.export.excel import (
    FIBRE_COLUMNS,
    INDICATOR_LABELS,
    LIST_COLUMNS,
    MOBILE_COLUMNS,
    SHEETS,
    column_header,
    indicator_label,
    vietnam_time,
)
from covgap.export.lists import all_gaps, operator_gaps
from covgap.export.names import operator_part

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from covgap.result import Result

_SUMMED = ("population", "households", "fibre_extension_m", "fibre_extension_cost")
#: Gap columns left out of the technical sheet (the gap sheets or the village table hold
#: them, or they restate another column).
_NOT_TECHNICAL = frozenset({"geometry", "fix", "fix_mobile", "fix_fibre", "reason",
                            "commune_code", "usp_eligible"})

_MET = {True: "✓ Đạt", False: "✗ Chưa đạt"}
_YES = {True: "Có", False: "Không"}
_GAPS = {"mobile": "di động", "fibre": "cáp quang", "mobile+fibre": "di động + cáp quang"}
_LEVELS = {"province": "Tỉnh", "district": "Huyện (cũ)", "commune": "Xã"}
_SOURCE = {"map": "bản đồ / map", "supplied": "số liệu cung cấp / supplied"}
_PCT = '0.0#####"%"'  # values already in percent: 94.4 shows 94.4%, a missed 99.96 too
_SHARE = "0.0%"      # values in 0-1
_THOUSANDS = "#,##0"
_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_MET_FILL = {True: PatternFill("solid", fgColor="C6EFCE"),
             False: PatternFill("solid", fgColor="FFC7CE")}


def _vi_number(value: float) -> str:
    """Write a number as a Vietnamese text does: 1, 0,5, 30 (decimal comma)."""
    return f"{value:g}".replace(".", ",")


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


#: Columns of long text: they wrap at this width (characters).
_WRAPPED = frozenset({"reason", "fix", "fix_mobile", "fix_fibre", "usp_mobile_reason",
                      "usp_fibre_reason", "indicator_label", "signal_status"})
_WRAP_WIDTH = 34
_WRAP = Alignment(wrap_text=True, vertical="top")


def _lines(value: Any, width: float) -> int:
    """Return how many lines a text takes wrapped at ``width`` characters (1 for others)."""
    if isinstance(value, Cell):
        value = value.value
    if not isinstance(value, str) or not value:
        return 1
    return max(1, math.ceil(len(value) / max(width - 2, 1)))


def _print_setup(ws: WriteOnlyWorksheet, *, title_rows: str = "1:1") -> None:
    """A4 landscape, one page wide (as many pages down as needed), header rows repeated."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4 (ECMA-376 paper size 9)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6


def _readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Booleans as "Có" / "Không", signal states in the wording of provincial reports."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if col == "signal_status":
            out[col] = s.map(SIGNAL_STATUSES).astype(object).where(s.notna(), None)
        elif col == "gap":
            out[col] = s.map(lambda v: _GAPS.get(v, v)).astype(object).where(s.notna(), None)
        elif col == "met":
            continue
        elif pd.api.types.is_bool_dtype(s) or (
                s.dtype == object and s.notna().any()
                and s.dropna().map(lambda v: isinstance(v, bool | np.bool_)).all()):
            out[col] = s.map(lambda v: None if pd.isna(v) else _YES[bool(v)]).astype(object)
    return out


def _write_table(ws: WriteOnlyWorksheet, frame: pd.DataFrame, *, config: Config | None = None,
                 freeze_cols: int = 0, totals: Sequence[bool] | None = None) -> None:
    """Write a table: one header row (label and unit), the rows; frozen, filtered, printable.

    ``ws`` streams its rows (write-only mode), so the widths, the frozen panes, the page
    setup and the header row's height are set before the first row.  Rows flagged in
    ``totals`` (subtotals) are bold on grey.
    """
    frame = _readable(frame.drop(columns=[c for c in frame.columns if c == "geometry"]))
    names = [str(name) for name in frame.columns]
    labels = [column_header(name, config) for name in names]
    columns: list[list[Any]] = []
    formats: list[str | None] = []
    widths: dict[int, float] = {}
    for j, (name, label) in enumerate(zip(names, labels, strict=True), start=1):
        s = frame.iloc[:, j - 1]
        values = _column_values(s)
        sample = [len(str(v)) for v in values[:500] if v is not None]
        cap = _WRAP_WIDTH if name in _WRAPPED else 24
        widths[j] = max([min(len(label), 16), *[min(n, cap) for n in sample]])
        formats.append(_format_for(name, s))
        numpy_numbers = isinstance(s.dtype, np.dtype) and s.dtype.kind in "biuf"
        columns.append(values if numpy_numbers else _text_items(ws, values))
    last = get_column_letter(max(len(names), 1))
    ws.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
    ws.freeze_panes = f"{get_column_letter(freeze_cols + 1)}2"
    _print_setup(ws)
    _fit_widths(ws, widths)
    ws.row_dimensions[1].height = 45
    # long texts wrap in their column; LibreOffice keeps a stored row height, so each
    # row gets the height of its longest wrapped text (write-only: set before the rows)
    wrapped = [j for j, name in enumerate(names) if name in _WRAPPED]
    if wrapped:
        for r, row in enumerate(zip(*[columns[j] for j in wrapped], strict=True), start=2):
            lines = max(_lines(v, widths[j + 1]) for v, j in zip(row, wrapped, strict=True))
            if lines > 1:
                ws.row_dimensions[r].height = 12.75 * lines
    ws.append([_head(ws, label, wrap=True) for label in labels])
    # A formatted column's numbers go through one styled cell, its value replaced row
    # after row: a write-only sheet writes a row out when it is appended.  Other values
    # (dates, whose binding sets a format of its own) get a cell each.
    styled = [j for j, fmt in enumerate(formats) if fmt]
    number_cells: dict[int, Cell] = {}  # made on a column's first number
    flags = list(totals) if totals is not None else [False] * len(frame)
    for row, total in zip(zip(*columns, strict=True), flags, strict=True):
        if total:
            cells = [v if isinstance(v, Cell) else _cell(ws, v, number_format=fmt)
                     for v, fmt in zip(row, formats, strict=True)]
            for cell in cells:
                cell.font = _BOLD
                cell.fill = _TOTAL_FILL
            ws.append(cells)
            continue
        if wrapped:
            row = list(row)
            for j in wrapped:
                if isinstance(row[j], str):
                    cell = _cell(ws, row[j])
                    cell.alignment = _WRAP
                    row[j] = cell
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


def _grouped(gaps: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, list[bool]]:
    """Return a gap sheet's rows: STT, grouped by commune, a subtotal after each, a total.

    Communes in the order of their names (then codes); villages within a commune in
    priority order.  A subtotal row names the commune and its number of villages and
    sums :data:`_SUMMED`.
    """
    keep = [c for c in columns if c in gaps.columns or c == "stt"]
    if "district" in keep and gaps["district"].isna().all():
        keep.remove("district")  # no old district known: no empty column to print
    table = gaps.copy()
    table["_name"] = table.get("commune_name", table["commune_code"]).fillna("").astype(str)
    sort = ["_name", "commune_code", "priority"] if "priority" in table else ["_name",
                                                                            "commune_code"]
    table = table.sort_values(sort, kind="stable")
    pieces: list[pd.DataFrame] = []
    totals: list[bool] = []
    summed = [c for c in _SUMMED if c in keep]
    label_col = "village_name" if "village_name" in keep else keep[1]
    stt = 0
    for (_, _code), group in table.groupby(["_name", "commune_code"], sort=False,
                                           dropna=False):
        rows = group.reindex(columns=keep).astype(object)
        rows["stt"] = np.arange(stt + 1, stt + len(rows) + 1)
        stt += len(rows)
        name = group["_name"].iloc[0] or str(group["commune_code"].iloc[0])
        sub = {c: None for c in keep}
        sub[label_col] = f"Cộng {name}: {len(rows)} thôn"
        if "commune_name" in keep:
            sub["commune_name"] = name
        for c in summed:
            sub[c] = _sum(group[c])
        pieces += [rows, pd.DataFrame([sub], columns=keep)]
        totals += [False] * len(rows) + [True]
    grand = {c: None for c in keep}
    grand[label_col] = f"Tổng cộng: {stt} thôn"
    for c in summed:
        grand[c] = _sum(table[c])
    pieces.append(pd.DataFrame([grand], columns=keep))
    totals.append(True)
    out = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=keep)
    for c in keep:  # numbers back to numbers (object columns hold None for the totals)
        if c in gaps.columns and pd.api.types.is_numeric_dtype(gaps[c]) and not \
                pd.api.types.is_bool_dtype(gaps[c]):
            out[c] = pd.to_numeric(out[c], errors="coerce")
    out["stt"] = pd.to_numeric(out["stt"], errors="coerce").astype("Int64")
    return out, totals


def _sum(values: pd.Series) -> float | None:
    """Return a column's sum, or None when it has no value (no price: no cost total)."""
    numbers = pd.to_numeric(values, errors="coerce")
    return float(numbers.sum()) if numbers.notna().any() else None


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
    _print_setup(ws, title_rows=f"{head_row}:{head_row}")
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
    for k, row in enumerate(rows.itertuples(index=False), start=head_row + 1):
        ws.row_dimensions[k].height = 12.75 * max(
            _lines(indicator_label(row.indicator, lang, config), 44) for lang in ("vi", "en"))
    for row in rows.itertuples(index=False):
        fmt = _PCT if row.unit == "%" else _THOUSANDS if row.unit == "count" else "0.0"
        met = _value(row.met)
        labels = [_cell(ws, indicator_label(row.indicator, language, config))
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
        ("Số liệu tính đến ngày", "Data as of ([run] as_of)",
         config.run.as_of or "chưa ghi / not stated", None),
        *[(f"Nguồn lớp {layer}", f"Source of the {layer} layer", source, None)
          for layer, source in _sources(config)],
        ("Số ô (cell) dùng thông số ăng-ten mặc định", "Cells with default antenna parameters",
         _defaulted_cells(result), _THOUSANDS),
        ("Đơn giá (triệu đồng)", "Unit prices (million VND)", _prices(config), None),
        *[(f"Căn cứ: Quyết định số {number}", f"Decision cited ({what}), {config.legal.period}",
           f"ngày {day}: {title}", None) for what, number, day, title in
          config.legal.decisions()],
        ("Phiên bản covgap", "covgap version", __version__, None),
        ("Thời điểm chạy (giờ Việt Nam)", "Run at (Vietnam time, UTC+7)",
         vietnam_time(result.started), None),
    ]
    start = r + 2
    ws.append([])
    section = _cell(ws, "Quy tắc và thông số / Rule and parameters")
    section.font = _BOLD
    ws.append([section])
    for k, (vi, en, value, fmt) in enumerate(info, start=r + 3):
        cells = [_cell(ws, vi), _cell(ws, en), _cell(ws, value, number_format=fmt)]
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
        ws.row_dimensions[k].height = 12.75 * max(
            _lines(vi, 28), _lines(en, 44), _lines(value, 44))
        ws.append(cells)
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


def _sources(config: Config) -> list[tuple[str, str]]:
    """Each given input layer and the file it was read from."""
    out = []
    for layer in LAYERS:
        spec = getattr(config.inputs, layer, None)
        if spec is not None:
            out.append((layer, Path(spec.path).name))
    return out


def _defaulted_cells(result: Result) -> int | None:
    """How many cells took at least one default antenna parameter (None: unknown)."""
    cells = result.coverage.cells if result.coverage is not None else None
    if cells is None or "defaulted" not in cells:
        return None
    return int(cells["defaulted"].fillna("").astype(str).ne("").sum())


def _prices(config: Config) -> str:
    """Return the unit prices and their source, or that none were given."""
    cc = config.candidates
    if cc.cost_new_site is None and cc.fibre_cost_per_km is None:
        return ("chưa có đơn giá: cột chi phí để trống, trạm xếp theo số dân được phủ thêm / "
                "no unit prices: cost columns empty, sites ranked by people gained")
    parts = []
    if cc.cost_new_site is not None:
        parts.append(f"trạm mới {_vi_number(cc.cost_new_site)}, dùng chung "
                     f"{_vi_number(cc.cost_shared_site or 0)}")
    if cc.fibre_cost_per_km is not None:
        parts.append(f"cáp quang {_vi_number(cc.fibre_cost_per_km)}/km")
    return "; ".join(parts) + f" (nguồn: {cc.cost_source or 'chưa ghi nguồn / not stated'})"


def _gap_sheets(gaps: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return the mobile and fibre gaps, and the technical columns of every gap."""
    kind = gaps["gap"].astype(str) if "gap" in gaps else pd.Series("", index=gaps.index)
    mobile = gaps[kind.str.contains("mobile").to_numpy()]
    fibre = gaps[kind.str.contains("fibre").to_numpy()]
    shown = set(MOBILE_COLUMNS) | set(FIBRE_COLUMNS)
    ids = [c for c in ("priority", "commune_name", "village_id", "village_name")
           if c in gaps.columns]
    rest = [c for c in gaps.columns if c not in shown and c not in _NOT_TECHNICAL]
    rest += [c for c in gaps.columns if c.startswith("fibre_distance_") and c not in rest
             and c != "fibre_distance_m"]
    return {"mobile": mobile, "fibre": fibre, "technical": gaps[ids + rest]}


def write_report(result: Result, path: str | Path) -> Path:
    """Write ``report.xlsx``: summary, communes, mobile and fibre gaps, technical, indicators.

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
    config = result.config
    # write-only: rows stream to the file as they are appended; a national run's report
    # (3,300 communes, 60,000 gaps) takes about two thirds of the time of building every
    # cell in memory first
    wb = Workbook(write_only=True)
    _summary(wb.create_sheet(SHEETS["summary"]), result)
    communes = pd.DataFrame(result.communes)
    _write_table(wb.create_sheet(SHEETS["communes"]), communes, config=config, freeze_cols=2)
    sheets = _gap_sheets(pd.DataFrame(result.gaps))
    for key, columns in (("mobile", MOBILE_COLUMNS), ("fibre", FIBRE_COLUMNS)):
        rows, totals = _grouped(sheets[key], columns)
        freeze = list(rows.columns).index("village_name") + 1 if (
            "village_name" in rows.columns) else 1
        _write_table(wb.create_sheet(SHEETS[key]), rows, config=config, freeze_cols=freeze,
                     totals=totals)
    _write_table(wb.create_sheet(SHEETS["technical"]), sheets["technical"], config=config,
                 freeze_cols=min(4, len(sheets["technical"].columns)))
    table = pd.DataFrame(result.indicators)
    table = table.assign(
        met=table["met"].map(lambda v: None if v is None or v is pd.NA else _MET[bool(v)]),
        level=table["level"].map(lambda v: _LEVELS.get(v, v)),
        source=table["source"].map(lambda v: _SOURCE.get(v, v)))
    table.insert(table.columns.get_loc("indicator") + 1, "indicator_label",
                 table["indicator"].map(lambda i: indicator_label(i, "vi", config)))
    _write_table(wb.create_sheet(SHEETS["indicators"]), table, config=config, freeze_cols=3)
    wb.properties.title = f"covgap {config.display_name} {config.run.year}"
    wb.properties.creator = f"covgap {__version__}"
    wb.save(path)
    return path


def write_lists(result: Result, path: str | Path, *, operators: Sequence[str]) -> Path:
    """Write ``lists.xlsx``: every gap, then one sheet per operator, print-ready.

    The first sheet ("Tất cả - All") is ``gaps_all.csv``: every gap with an empty
    "DN đăng ký" column for the department to fill.  Then a sheet per operator holding
    only what is addressed to it (:func:`covgap.export.lists.operator_gaps`).  Each is
    grouped by commune with subtotals, as the report's gap sheets.

    Parameters
    ----------
    result : Result
        A run with its analysis.
    path : str or Path
        The workbook to write; an existing file is replaced.
    operators : sequence of str
        The operators that get a sheet (:func:`covgap.export.lists.gap_operators`).

    Returns
    -------
    Path
    """
    if result.gaps is None:
        raise ValueError("the run has no village analysis: run every stage (covgap.run) "
                         "before writing its lists")
    path = Path(path)
    gaps = pd.DataFrame(result.gaps)
    wb = Workbook(write_only=True)
    sheets = [("Tất cả - All", all_gaps(gaps), LIST_COLUMNS)]
    sheets += [(operator_part(op)[:31], operator_gaps(gaps, op),
                tuple(c for c in LIST_COLUMNS if c != "registered_operator"))
               for op in operators]
    for name, table, columns in sheets:
        rows, totals = _grouped(table, columns)
        freeze = list(rows.columns).index("village_name") + 1 if (
            "village_name" in rows.columns) else 1
        _write_table(wb.create_sheet(name), rows, config=result.config, freeze_cols=freeze,
                     totals=totals)
    wb.properties.title = f"covgap {result.config.display_name} {result.config.run.year}"
    wb.properties.creator = f"covgap {__version__}"
    wb.save(path)
    return path
