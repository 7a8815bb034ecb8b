"""The run as an Excel workbook for the province's report, ``report.xlsx``, print-ready.

Sheets:

- ``Tổng hợp - Summary``: the province's indicators against the plan's targets, with
  a bar chart of values against targets; the data's as-of date (``[run] as_of``), the
  source of each layer, the run time in Vietnam time (dd/mm/yyyy), the cells that took
  default antenna parameters, the rule (model, technologies, thresholds), the unit
  prices and their source, and the decisions cited (``[legal]``).
- ``Xã - Communes``: the commune table.
- ``Thôn chưa phủ 4G-5G``: the mobile gaps; ``Thôn chưa có cáp quang``: the fibre gaps.
  Each has an STT column, is grouped by commune (xã, phường, đặc khu) with a subtotal
  row per commune and a total row.  They list the first ``[output]
  report_gaps_per_commune`` gap villages of each commune in priority order (default
  10; 0 lists all); subtotals and the total count and sum all of them, and a note above
  the header says where every gap is (``gaps.csv``, ``gaps_all.csv``, ``lists.xlsx``).
- ``Kỹ thuật``: the technical columns of the gaps (per-operator shares and fibre
  distances, terrain shadow, signal), one row per gap village listed on a gap sheet.
- ``Chỉ tiêu - Indicators``: every indicator row (province, communes).

Every table has one header row: the column's Vietnamese label and its unit.  Every sheet
prints on A4 landscape, one page wide, with the header row repeated on each page and
frozen on screen.  Numbers stay numbers (percent with as many decimals as the value has,
thousands separators), booleans read "Có" / "Không" and ``met`` "✓ Đạt" / "✗ Chưa đạt".

The workbook streams to disk as it is written (xlsxwriter, ``constant_memory``): a
national run's report (3,300 communes) is written row after row, each column prepared
once.  Excel forbids ``/`` in sheet names, hence the hyphens.  Every text cell is written as
text, never as a formula: a cell that :func:`~covgap.export.csv.safe_text` would prefix
with an apostrophe (text starting with ``=``, ``+``, ``-``, ``@``) is stored as a string
with Excel's "quote prefix", which is what Excel itself stores when a user types
``'=...``: the text shows as it is and stays text when the cell is edited.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.utility import (
    _preserve_whitespace,
    _utf16_len,
    _utf16_truncate,
    xl_col_to_name,
)

from covgap._version import __version__
from covgap.analysis.rules import min_rsrp_dbm, rule_text
from covgap.analysis.villages import SIGNAL_STATUSES
from covgap.config import LAYERS, Config
from covgap.export.csv import FORMULA_START, VI_HEADERS
from covgap.export.lists import all_gaps, operator_gaps
from covgap.export.names import operator_part

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

    from covgap.result import Result

__all__ = ["INDICATOR_LABELS", "LIST_COLUMNS", "SHEETS", "column_header", "gap_note",
           "indicator_label", "top_per_commune", "write_lists", "write_report"]

#: Sheet names (Excel allows 31 characters and no ``/``).
SHEETS = {
    "summary": "Tổng hợp - Summary",
    "communes": "Xã - Communes",
    "mobile": "Thôn chưa phủ 4G-5G",
    "fibre": "Thôn chưa có cáp quang",
    "technical": "Kỹ thuật",
    "indicators": "Chỉ tiêu - Indicators",
}

#: Indicator id -> (Vietnamese, English) label, saying exactly what is measured; the
#: placeholders are filled from the run's configuration (:func:`indicator_label`).
INDICATOR_LABELS: dict[str, tuple[str, str]] = {
    "villages_mbb_pct": (
        "Tỷ lệ thôn được phủ sóng băng rộng di động ({techs} trên ≥ {share}% thôn)",
        "Villages covered by mobile broadband ({techs} over ≥ {share}% of the village)"),
    "villages_ftth_pct": ("Tỷ lệ thôn có cáp quang trong phạm vi {ftth_km} km",
                          "Villages with fibre within {ftth_km} km"),
    "bts_sharing_pct": (
        "Tỷ lệ vị trí trạm BTS có từ 2 doanh nghiệp dùng chung (cách nhau ≤ {sharing_m} m)",
        "BTS site locations used by two or more operators (sites ≤ {sharing_m} m apart)"),
    "population_mbb_pct": ("Tỷ lệ dân số được phủ sóng băng rộng di động ({techs})",
                           "Population covered by mobile broadband ({techs})"),
    "households_mbb_pct": (
        "Tỷ lệ hộ gia đình ở thôn được phủ sóng băng rộng di động ({techs})",
        "Households in villages covered by mobile broadband ({techs})"),
    "households_ftth_pct": ("Tỷ lệ hộ gia đình ở thôn có cáp quang trong phạm vi {ftth_km} km",
                            "Households in villages with fibre within {ftth_km} km"),
    "commune_centres_5g_pct": ("Tỷ lệ trung tâm xã (trụ sở UBND) có sóng 5G",
                               "Commune centres (people's committee) with 5G"),
    "places_5g_pct": ("Tỷ lệ điểm (theo loại) có sóng 5G", "Places (by kind) with 5G"),
    "places_fibre_pct": ("Tỷ lệ điểm (theo loại) có cáp quang trong phạm vi {ftth_km} km",
                         "Places (by kind) with fibre within {ftth_km} km"),
    "usp_villages": ("Số thôn thuộc diện viễn thông công ích ({usp})",
                     "Villages eligible for the universal-service programme ({usp})"),
    "usp_mobile_villages": ("Số thôn thuộc diện công ích, phần di động ({usp})",
                            "Villages eligible for universal service, mobile part ({usp})"),
    "usp_fibre_villages": ("Số thôn thuộc diện công ích, phần cáp quang ({usp})",
                           "Villages eligible for universal service, fibre part ({usp})"),
}

#: Vietnamese label and unit of each column the report shows; placeholders as in
#: :data:`INDICATOR_LABELS`.  Per-operator columns are labelled by :func:`column_header`.
COLUMN_LABELS: dict[str, str] = {
    **VI_HEADERS,
    "stt": "STT",
    "commune_code": "Mã xã",
    "commune_name": "Xã, phường, đặc khu",
    "district": "Huyện (cũ, trước 01/7/2025)",
    "village_id": "Mã thôn",
    "village_name": "Tên thôn, bản, tổ dân phố",
    "population": "Dân số (người)",
    "households": "Số hộ (hộ)",
    "lon": "Kinh độ (°, WGS84)",
    "lat": "Vĩ độ (°, WGS84)",
    "signal_status": "Tình trạng sóng",
    "status": "Mức phủ {techs} (đủ / một phần / chưa)",
    "mbb_share": "Tỷ lệ thôn được phủ {techs} (%)",
    "mbb_covered": "Được phủ {techs} (≥ {share}% thôn)",
    "lom_song": "Chưa được phủ băng rộng di động",
    "operators": "Doanh nghiệp phủ {techs} ≥ {share}% thôn",
    "n_operators": "Số doanh nghiệp phủ ≥ {share}% thôn (DN)",
    "share_any_operator": "Tỷ lệ thôn được phủ bởi ít nhất một DN (%)",
    "measured_n": "Số phép đo kiểm",
    "measured_rsrp_dbm": "RSRP đo được, trung vị (dBm)",
    "measured_download_mbps": "Tốc độ tải xuống đo được, trung vị (Mb/s)",
    "evidence": "Bằng chứng đo kiểm",
    "confidence": "Độ tin cậy (cao / trung bình / thấp)",
    "model_covered": "Mô hình: được phủ sóng",
    "measured_covered": "Đo kiểm: được phủ sóng",
    "share_basis": "Cách tính tỷ lệ (dân số / diện tích / điểm thôn)",
    "best_operator": "Doanh nghiệp đề xuất (tham khảo)",
    "nearest_site_id": "Trạm {techs} gần nhất (mã)",
    "nearest_site_operator": "Doanh nghiệp sở hữu trạm gần nhất",
    "nearest_site_m": "Khoảng cách tới trạm gần nhất (m)",
    "reason": "Nguyên nhân",
    "fix": "Giải pháp đề xuất (tham khảo)",
    "fix_mobile": "Giải pháp di động đề xuất (tham khảo)",
    "fix_fibre": "Giải pháp cáp quang đề xuất (tham khảo)",
    "gap": "Thiếu (di động / cáp quang)",
    "priority": "Thứ tự ưu tiên",
    "region": "Khu vực ({regions})",
    "difficult": "Thôn ĐBKK ({difficult})",
    "usp_eligible": "Thuộc diện công ích ({usp})",
    "usp_mobile": "Diện công ích, phần di động ({usp})",
    "usp_fibre": "Diện công ích, phần cáp quang ({usp})",
    "usp_mobile_reason": "Lý do diện công ích, phần di động",
    "usp_fibre_reason": "Lý do diện công ích, phần cáp quang",
    "ftth": "Có cáp quang trong phạm vi {ftth_km} km",
    "fibre_distance_m": "Khoảng cách tới cáp quang gần nhất (m)",
    "fibre_operator": "Doanh nghiệp có cáp quang gần nhất",
    "fibre_kind": "Loại cáp quang gần nhất (tuyến / điểm)",
    "fibre_id": "Mã tuyến / điểm cáp quang",
    "fibre_extension_m": "Chiều dài kéo cáp (m)",
    "fibre_extension_road_m": "Chiều dài kéo cáp theo đường (m)",
    "fibre_extension_basis": "Cách đo chiều dài (đường thẳng / theo đường)",
    "fibre_extension_cost": "Chi phí kéo cáp (triệu đồng)",
    "terrestrial_cost_per_person": "Chi phí trạm mặt đất / người (triệu đồng/người)",
    "candidate_rank": "Điểm trạm đề xuất số",
    "satellite": "Đề xuất nghiên cứu vệ tinh",
    "best_signal_dbm": "Tín hiệu {techs} mạnh nhất tại điểm thôn (dBm)",
    "legacy_covered": "Có sóng 2G/3G tại điểm thôn",
    "shadow_site_id": "Trạm bị địa hình che (mã)",
    "shadow_operator": "Doanh nghiệp sở hữu trạm bị che",
    "shadow_dbm": "Tín hiệu nếu không bị che (dBm)",
    "centre_5g": "Trung tâm xã có 5G",
    "site_locations": "Số vị trí trạm BTS (vị trí)",
    "shared_locations": "Số vị trí có từ 2 DN dùng chung (≤ {sharing_m} m) (vị trí)",
    "villages": "Số thôn (thôn)",
    "villages_mbb": "Số thôn được phủ {techs} (thôn)",
    "villages_ftth": "Số thôn có cáp quang trong phạm vi {ftth_km} km (thôn)",
    "population_mbb": "Dân số được phủ {techs} (người)",
    "households_mbb": "Số hộ ở thôn được phủ {techs} (hộ)",
    "households_ftth": "Số hộ ở thôn có cáp quang trong phạm vi {ftth_km} km (hộ)",
    "usp_villages": "Số thôn diện công ích ({usp}) (thôn)",
    "usp_mobile_villages": "Số thôn diện công ích, phần di động (thôn)",
    "usp_fibre_villages": "Số thôn diện công ích, phần cáp quang (thôn)",
    "province": "Tỉnh, thành phố",
    "level": "Cấp (tỉnh / xã)",
    "code": "Mã đơn vị",
    "name": "Tên đơn vị",
    "indicator": "Mã chỉ tiêu",
    "indicator_label": "Chỉ tiêu",
    "value": "Giá trị",
    "target": "Mục tiêu",
    "met": "Đạt",
    "numerator": "Tử số",
    "denominator": "Mẫu số",
    "unit": "Đơn vị",
    "source": "Nguồn số liệu",
    "kind": "Loại điểm",
    "registered_operator": "DN đăng ký (Sở điền)",
    **{k: v[0] + " (%)" for k, v in INDICATOR_LABELS.items() if k.endswith("_pct")},
}

#: The columns of the two gap sheets, in order (those the gap table has).
MOBILE_COLUMNS: tuple[str, ...] = (
    "stt", "commune_name", "district", "village_id", "village_name", "population",
    "households", "signal_status", "mbb_share", "operators", "best_operator",
    "nearest_site_id", "nearest_site_operator", "nearest_site_m", "reason", "fix_mobile",
    "region", "difficult", "usp_mobile", "candidate_rank", "satellite", "priority")
FIBRE_COLUMNS: tuple[str, ...] = (
    "stt", "commune_name", "district", "village_id", "village_name", "population",
    "households", "fibre_distance_m", "fibre_operator", "fibre_kind", "fibre_id",
    "fibre_extension_m", "fibre_extension_basis", "fibre_extension_cost", "fix_fibre",
    "region", "difficult", "usp_fibre", "satellite", "priority")
#: The columns of the sheets of ``lists.xlsx`` (those the gap table has).
LIST_COLUMNS: tuple[str, ...] = (
    "stt", "commune_name", "district", "village_id", "village_name", "population",
    "households", "gap", "signal_status", "best_operator", "fix", "reason",
    "fibre_distance_m", "fibre_extension_m", "fibre_extension_cost", "usp_mobile",
    "usp_fibre", "satellite", "priority", "registered_operator")
#: Columns summed on the subtotal rows of the gap sheets.
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
_HEAD_FILL = "#DDEBF7"
_TOTAL_FILL = "#F2F2F2"
_MET_FILL = {True: "#C6EFCE", False: "#FFC7CE"}
#: The characters XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE): dropped.
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
#: Pixels per centimetre at 96 dpi (chart sizes).
_PX_PER_CM = 96 / 2.54
#: Vietnam time (UTC+7, no daylight saving): the run time the summary prints.
_VN_TIME = timezone(timedelta(hours=7))


def _numbers(config: Config | None) -> dict[str, str]:
    """Return the configured numbers the labels quote, written the Vietnamese way."""
    cfg = config if config is not None else Config()
    legal = cfg.legal
    return {"techs": "/".join(cfg.coverage.technologies),
            "share": _vi_number(100 * cfg.rules.village_covered_share),
            "ftth_km": _vi_number(cfg.rules.ftth_max_distance_m / 1000),
            "sharing_m": _vi_number(cfg.rules.site_sharing_m),
            "usp": legal.cite("usp"), "regions": legal.cite("regions"),
            "difficult": legal.cite("difficult")}


def _vi_number(value: float) -> str:
    """Write a number as a Vietnamese text does: 1, 0,5, 30 (decimal comma)."""
    return f"{value:g}".replace(".", ",")


def column_header(name: str, config: Config | None = None) -> str:
    """Return a column's header in the report: its Vietnamese label and unit.

    The configured numbers (technologies, the village share, the FTTH distance, the
    sharing distance, the decisions cited) are filled in.

    Examples
    --------
    >>> column_header("population")
    'Dân số (người)'
    >>> column_header("share_Viettel")
    'Tỷ lệ thôn được Viettel phủ 4G/5G (%)'
    >>> column_header("fibre_distance_VNPT_m")
    'Khoảng cách tới cáp quang của VNPT (m)'
    """
    numbers = _numbers(config)
    label = COLUMN_LABELS.get(name)
    if label is None and name.startswith("share_"):
        label = f"Tỷ lệ thôn được {name.removeprefix('share_')} phủ {{techs}} (%)"
    elif label is None and name.startswith("fibre_distance_") and name.endswith("_m"):
        operator = name.removeprefix("fibre_distance_").removesuffix("_m")
        label = f"Khoảng cách tới cáp quang của {operator} (m)"
    if label is None:
        return name
    return label.format(**numbers)


def indicator_label(indicator: str, language: str = "vi", config: Config | None = None
                    ) -> str:
    """Return an indicator's label in Vietnamese (``"vi"``) or English (``"en"``).

    The label says exactly what is measured, with the configured numbers filled in
    (default configuration without ``config``).  Unknown ids (operator-supplied
    statistics) are returned as they are.

    Examples
    --------
    >>> indicator_label("villages_ftth_pct")
    'Tỷ lệ thôn có cáp quang trong phạm vi 1 km'
    >>> indicator_label("bts_sharing_pct", "en")
    'BTS site locations used by two or more operators (sites ≤ 30 m apart)'
    """
    labels = INDICATOR_LABELS.get(indicator)
    if labels is None:
        return indicator
    numbers = _numbers(config)
    if language != "vi":
        numbers["share"] = numbers["share"].replace(",", ".")
        numbers["ftth_km"] = numbers["ftth_km"].replace(",", ".")
        numbers["sharing_m"] = numbers["sharing_m"].replace(",", ".")
    return (labels[0] if language == "vi" else labels[1]).format(**numbers)


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
    """Which of ``texts`` :func:`~covgap.export.csv.safe_text` would neutralise."""
    # safe_text's own test (str.startswith), a cell at a time in plain Python: pandas'
    # string methods cost ten times as much
    return [isinstance(t, str) and t.startswith(FORMULA_START) for t in texts]


def _legal(texts: list[Any]) -> list[Any]:
    """Drop the characters XML cannot hold from the strings of ``texts``."""
    strings = [t for t in texts if isinstance(t, str)]
    if not _ILLEGAL.search("".join(strings)):  # the usual case: one scan
        return texts
    return [_ILLEGAL.sub("", t) if isinstance(t, str) else t for t in texts]


#: The characters for which xlsxwriter's ``_escape_control_characters`` changes a text:
#: the underscore of an ``_xHHHH_`` it escapes, control characters, U+FFFE and U+FFFF.
_CONTROL = re.compile("[_\x00-\x08\x0b-\x1f\ufffe\uffff]")


class _Styles:
    """The workbook's cell formats, one per combination of properties, made on first use."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self._wb = wb
        self._made: dict[tuple[tuple[str, Any], ...], Format] = {}

    def __call__(self, **props: Any) -> Format | None:
        """Return the format with these properties (None for none: Excel's default)."""
        key = tuple(sorted((k, v) for k, v in props.items() if v))
        if not key:
            return None
        fmt = self._made.get(key)
        if fmt is None:
            fmt = self._made[key] = self._wb.add_format(dict(key))
        return fmt


def _write(ws: Worksheet, styles: _Styles, row: int, col: int, value: Any, *,
           risky: bool | None = None, **props: Any) -> None:
    """Write one cell; text is always text, never a formula.

    A number format in ``props`` applies to numbers only (a blank or a text keeps the
    default), as the report has always written them.
    """
    value = _value(value)
    if isinstance(value, str):
        value = _ILLEGAL.sub("", value)
        props.pop("num_format", None)
        if risky if risky is not None else value.startswith(FORMULA_START):
            props["quote_prefix"] = True
        _write_text(ws, row, col, value, styles(**props))
    elif value is None:
        props.pop("num_format", None)
        fmt = styles(**props)
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        props.pop("num_format", None)
        ws.write_boolean(row, col, value, styles(**props))
    elif isinstance(value, datetime | date):
        props["num_format"] = "yyyy-mm-dd h:mm:ss" if isinstance(value, datetime) else (
            "yyyy-mm-dd")
        ws.write_datetime(row, col, value.replace(tzinfo=None) if isinstance(
            value, datetime) else value, styles(**props))
    else:
        ws.write_number(row, col, value, styles(**props))


def _write_text(ws: Worksheet, row: int, col: int, text: str, fmt: Format | None) -> None:
    """Write a string cell as it is (an empty one as a blank, as Excel stores it).

    xlsxwriter writes a string that starts with ``<r>`` and ends with ``</r>`` as raw
    rich-text XML; such a text is written as three plain fragments instead (xlsxwriter
    wants more than two), which Excel (and openpyxl) read back as the same text.
    """
    if not text:
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
    elif text.startswith("<r>") and text.endswith("</r>"):
        args: list[Any] = [text[:1], text[1:3], text[3:]]
        if fmt is not None:
            args.append(fmt)
        ws.write_rich_string(row, col, *args)
    else:
        ws.write_string(row, col, text, fmt)


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


def _set_widths(ws: Worksheet, widths: dict[int, float]) -> None:
    """Set column widths (characters; 0-based columns), kept within 8 to 60."""
    for col, width in widths.items():
        ws.set_column(col, col, max(8.0, min(width + 2, 60.0)))


#: Columns of long text: they wrap at this width (characters).
_WRAPPED = frozenset({"reason", "fix", "fix_mobile", "fix_fibre", "usp_mobile_reason",
                      "usp_fibre_reason", "indicator_label", "signal_status"})
_WRAP_WIDTH = 34


def _lines(value: Any, width: float) -> int:
    """Return how many lines a text takes wrapped at ``width`` characters (1 for others)."""
    if not isinstance(value, str) or not value:
        return 1
    return max(1, math.ceil(len(value) / max(width - 2, 1)))


def _print_setup(ws: Worksheet, *, title_rows: tuple[int, int] = (0, 0)) -> None:
    """A4 landscape, one page wide (as many pages down as needed), header rows repeated.

    ``title_rows``: the first and last row (0-based) printed on top of every page.
    """
    ws.set_landscape()
    ws.set_paper(9)  # A4 (ECMA-376 paper size 9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(*title_rows)
    ws.hide_gridlines(0)  # gridlines on screen and on paper
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)


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
                s.dtype == object and s.notna().any()  # the first other value decides
                and all(isinstance(v, bool | np.bool_) for v in s.dropna().tolist())):
            out[col] = s.map(lambda v: None if pd.isna(v) else _YES[bool(v)]).astype(object)
    return out


def _write_table(ws: Worksheet, styles: _Styles, frame: pd.DataFrame, *,
                 config: Config | None = None, freeze_cols: int = 0,
                 totals: Sequence[bool] | None = None, note: str | None = None) -> None:
    """Write a table: one header row (label and unit), the rows; frozen, filtered, printable.

    ``ws`` streams its rows (xlsxwriter's ``constant_memory``: a row is written out when
    the next one starts), so everything is written top to bottom, each row's height
    before its cells.  Rows flagged in ``totals`` (subtotals) are bold on grey.  A
    ``note`` takes the first row, above the header, and prints on every page with it.

    Each column is prepared once (its values, the characters XML cannot hold dropped,
    which texts are risky, the format of its cells); the rows then only write.
    """
    frame = _readable(frame.drop(columns=[c for c in frame.columns if c == "geometry"]))
    names = [str(name) for name in frame.columns]
    labels = [column_header(name, config) for name in names]
    head = 1 if note else 0  # the header row (0-based)
    n = len(frame)
    columns: list[list[Any]] = []
    cell_formats: list[list[Format | None] | Format | None] = []
    numeric: list[bool] = []
    formats: list[str | None] = []
    widths: dict[int, float] = {}
    for j, (name, label) in enumerate(zip(names, labels, strict=True)):
        s = frame.iloc[:, j]
        values = _column_values(s)
        sample = [len(str(v)) for v in values[:500] if v is not None]
        cap = _WRAP_WIDTH if name in _WRAPPED else 24
        widths[j] = max([min(len(label), 16), *[min(n, cap) for n in sample]])
        fmt = _format_for(name, s)
        formats.append(fmt)
        if isinstance(s.dtype, np.dtype) and s.dtype.kind in "biuf":
            numeric.append(True)  # numbers (or blanks) only: one format for the column
            columns.append(values)
            cell_formats.append(styles(num_format=fmt))
            continue
        numeric.append(False)
        values = _legal(values) if any(type(v) is str for v in values) else values
        risky = _risky(values)  # after the illegal characters go: "\x01=x" is "=x" in Excel
        wrap = name in _WRAPPED
        plain, quoted = (styles(text_wrap=wrap, valign="top" if wrap else None),
                         styles(text_wrap=wrap, valign="top" if wrap else None,
                                quote_prefix=True))
        number = styles(num_format=fmt)
        cell_formats.append([(quoted if r else plain) if type(v) is str else number
                             for v, r in zip(values, risky, strict=True)])
        columns.append(values)

    last = max(len(names), 1) - 1
    ws.autofilter(head, 0, head + n, last)
    ws.freeze_panes(head + 1, freeze_cols)
    _print_setup(ws, title_rows=(0, head))
    _set_widths(ws, widths)
    if note:  # one line, running on over the empty cells to its right
        _write(ws, styles, 0, 0, note, italic=True, bold=True)
    ws.set_row(head, 45)
    for j, label in enumerate(labels):
        _write(ws, styles, head, j, label, bold=True, bg_color=_HEAD_FILL, text_wrap=True,
               valign="top")
    # long texts wrap in their column; LibreOffice keeps a stored row height, so each
    # row gets the height of its longest wrapped text
    wrapped = [j for j, name in enumerate(names) if name in _WRAPPED]
    heights = [1] * n
    for j in wrapped:
        width = widths[j]
        heights = [max(h, _lines(v, width)) for h, v in zip(heights, columns[j], strict=True)]
    flags = list(totals) if totals is not None else [False] * n
    writers = []
    for j in range(len(names)):
        if numeric[j]:
            writers.append((j, columns[j], cell_formats[j], None))
        else:
            writers.append((j, columns[j], None, cell_formats[j]))
    write_number, write_string = ws.write_number, ws.write_string
    rows = _RowXml(ws, styles, columns, numeric, cell_formats, formats)
    for i in range(n):
        r = head + 1 + i
        if heights[i] > 1:
            ws.set_row(r, 12.75 * heights[i])
        # the last row stays xlsxwriter's: it writes it out at the close, and the order
        # in which formats are first written out numbers them in styles.xml
        if i < n - 1 and (rows.total(r, i) if flags[i] else rows.write(r, i)):
            continue
        if flags[i]:
            for j, values, _f, _fs in writers:
                _write(ws, styles, r, j, values[i], bold=True, bg_color=_TOTAL_FILL,
                       num_format=formats[j])
            continue
        for j, values, fmt, fmts in writers:
            v = values[i]
            if v is None:
                continue
            if fmts is None:
                write_number(r, j, v, fmt)
            elif type(v) is str:
                if not v:  # an empty text is a blank, as Excel stores it
                    if fmts[i] is not None:
                        ws.write_blank(r, j, None, fmts[i])
                elif v.startswith("<r>"):
                    _write_text(ws, r, j, v, fmts[i])
                else:
                    write_string(r, j, v, fmts[i])
            else:
                _write(ws, styles, r, j, v, num_format=formats[j])


class _RowXml:
    """A table's plain rows as xlsxwriter's streaming mode writes them, made faster.

    xlsxwriter (``constant_memory``) keeps a row's cells until the next row starts, then
    writes each as XML, some 15 us a cell in Python: a national report holds about two
    million.  Here each column's cell texts (the value escaped as xlsxwriter escapes it,
    in the XML it writes) are made once, and a row is written by joining them, straight
    into the worksheet's row file, after xlsxwriter has written out the rows before it.
    The bytes are the same: the row element is xlsxwriter's own, cells are joined in
    column order, and each cell's format gets its number in styles.xml at the moment
    xlsxwriter would give it (its first cell written out).  A row holding a value this
    does not write (rich text, a boolean or a date in a text column) is left to
    xlsxwriter (:meth:`write` returns False).
    """

    def __init__(self, ws: Worksheet, styles: _Styles, columns: list[list[Any]],
                 numeric: list[bool], cell_formats: list[Any], formats: list[str | None]
                 ) -> None:
        self.ws = ws
        n = len(columns[0]) if columns else 0
        self.special = [False] * n
        self.columns: list[tuple[str, list[str | None], Any, bool]] = []
        escape = ws._escape_data
        control = ws._escape_control_characters
        half = ws.xls_strmax // 2
        for j, values in enumerate(columns):
            letters = xl_col_to_name(j)
            if numeric[j]:
                bodies = [None if v is None else f"><v>{v:.16G}</v></c>" for v in values]
                self.columns.append((letters, bodies, cell_formats[j], True))
                continue
            number = styles(num_format=formats[j])
            fmts = list(cell_formats[j])
            bodies = [None] * n
            made: dict[str, str] = {}
            # xlsxwriter's control-character escape changes only a text holding one of
            # _CONTROL's characters: one search over the column tells whether any does
            escapes = _CONTROL.search("".join(v for v in values if type(v) is str))
            for i, v in enumerate(values):
                if v is None:
                    continue
                if type(v) is str:
                    if not v:
                        bodies[i] = "/>" if fmts[i] is not None else None
                    elif v.startswith("<r>"):
                        self.special[i] = True
                    else:
                        body = made.get(v)
                        if body is None:
                            text = v
                            if len(text) > half and _utf16_len(text) > ws.xls_strmax:
                                text = _utf16_truncate(text, ws.xls_strmax)
                            text = control(text) if escapes else text
                            space = ' xml:space="preserve"' if _preserve_whitespace(
                                text) else ""
                            body = made[v] = (f' t="inlineStr"><is><t{space}>'
                                              f"{escape(text)}</t></is></c>")
                        bodies[i] = body
                elif type(v) in (int, float):  # finite: _column_values made the rest None
                    bodies[i] = f"><v>{v:.16G}</v></c>"
                    fmts[i] = number
                else:
                    self.special[i] = True
            self.columns.append((letters, bodies, fmts, False))
        self._style: dict[int, str] = {}
        self._values = columns
        self._total_formats = [(styles(bold=True, bg_color=_TOTAL_FILL),
                                styles(bold=True, bg_color=_TOTAL_FILL, quote_prefix=True),
                                styles(bold=True, bg_color=_TOTAL_FILL, num_format=fmt))
                               for fmt in formats]

    def _s(self, fmt: Format | None) -> str:
        """Return the cell's style attribute; number the format on first use, as xlsxwriter."""
        if fmt is None:
            return ""
        text = self._style.get(id(fmt))
        if text is None:
            text = self._style[id(fmt)] = f' s="{fmt._get_xf_index()}"'
        return text

    def write(self, r: int, i: int) -> bool:
        """Write row ``i`` of the table as sheet row ``r`` (0-based); False: not here."""
        if self.special[i]:
            return False
        self._flush(r)
        number = str(r + 1)
        cells = []
        first = last = -1
        style = self._s
        for j, (letters, bodies, fmt, single) in enumerate(self.columns):
            body = bodies[i]
            if body is None:
                continue
            if first < 0:
                first = j
            last = j
            cells.append(f'<c r="{letters}{number}"{style(fmt if single else fmt[i])}{body}')
        self._row(r, cells, first, last)
        return True

    def total(self, r: int, i: int) -> bool:
        """Write row ``i``, a subtotal (bold on grey, every cell), as sheet row ``r``.

        The cells :func:`_write` writes with ``bold``, the grey fill and the column's
        number format: a blank for a missing value, text without the number format (with
        the quote prefix when it starts like a formula), numbers with it.  False for a
        value it does not write (rich text, a boolean, a date).
        """
        ws = self.ws
        self._flush(r)
        number = str(r + 1)
        cells = []
        style = self._s
        escape, control = ws._escape_data, ws._escape_control_characters
        for j, (letters, _bodies, _fmt, _single) in enumerate(self.columns):
            v = self._values[j][i]
            plain, quoted, numeric = self._total_formats[j]
            if v is None:
                cells.append(f'<c r="{letters}{number}"{style(plain)}/>')
            elif type(v) is str:
                v = _ILLEGAL.sub("", v)
                fmt = quoted if v.startswith(FORMULA_START) else plain
                if not v:
                    cells.append(f'<c r="{letters}{number}"{style(fmt)}/>')
                    continue
                if v.startswith("<r>") or len(v) > ws.xls_strmax // 2:
                    return False
                text = control(v)
                space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
                cells.append(f'<c r="{letters}{number}"{style(fmt)} t="inlineStr"><is>'
                             f"<t{space}>{escape(text)}</t></is></c>")
            elif type(v) in (int, float):
                cells.append(f'<c r="{letters}{number}"{style(numeric)}><v>{v:.16G}</v></c>')
            else:
                return False
        self._row(r, cells, 0, len(self.columns) - 1)
        return True

    def _flush(self, r: int) -> None:
        """Have xlsxwriter write out the rows before ``r``, as its first cell of ``r`` does.

        First, before any format of row ``r`` is numbered: those rows' formats are
        numbered as they are written out.
        """
        if r > self.ws.previous_row:
            self.ws._write_single_row(r)

    def _row(self, r: int, cells: list[str], first: int, last: int) -> None:
        """Write a row's cells (the rows before it written out already, :meth:`_flush`)."""
        ws = self.ws
        info = ws.row_info.pop(r, None)
        if cells:
            ws._check_dimensions(r, first)
            ws._check_dimensions(r, last)
            ws._write_row(r, None, info)
            ws.fh.write("".join(cells))
            ws._xml_end_tag("row")
        elif info is not None:
            ws._write_empty_row(r, None, info)


def top_per_commune(gaps: pd.DataFrame, n: int) -> np.ndarray:
    """Return which gaps are among the first ``n`` of their commune, in priority order.

    Communes are told apart by ``commune_code`` (and name); within one, gaps are taken in
    ``priority`` order (1 first), as the report's gap sheets list them.

    Parameters
    ----------
    gaps : DataFrame
        Gap villages with ``commune_code`` (``commune_name``, ``priority`` if present).
    n : int
        Gaps kept per commune; 0 keeps every gap.

    Returns
    -------
    numpy.ndarray of bool
        One flag per row of ``gaps``, in its order.

    Examples
    --------
    >>> gaps = pd.DataFrame({"commune_code": ["A", "A", "A", "B"], "priority": [3, 1, 2, 4]})
    >>> top_per_commune(gaps, 2).tolist()
    [False, True, True, True]
    """
    if n <= 0 or gaps.empty:
        return np.ones(len(gaps), dtype=bool)
    table = _sorted_by_commune(gaps)
    rank = table.groupby(["_name", "commune_code"], sort=False, dropna=False).cumcount()
    keep = pd.Series(rank.to_numpy() < n, index=table.index)
    return keep.reindex(gaps.index).to_numpy(dtype=bool) if gaps.index.is_unique else (
        keep.sort_index(kind="stable").to_numpy(dtype=bool))


def _sorted_by_commune(gaps: pd.DataFrame) -> pd.DataFrame:
    """Return the gaps with ``_name``, in commune order (name, code) and priority within."""
    table = gaps.copy()
    table["_name"] = table.get("commune_name", table["commune_code"]).fillna("").astype(str)
    sort = ["_name", "commune_code", "priority"] if "priority" in table else ["_name",
                                                                            "commune_code"]
    return table.sort_values(sort, kind="stable")


def _grouped(gaps: pd.DataFrame, columns: Sequence[str], *, per_commune: int = 0
             ) -> tuple[pd.DataFrame, list[bool]]:
    """Return a gap sheet's rows: STT, grouped by commune, a subtotal after each, a total.

    Communes in the order of their names (then codes); villages within a commune in
    priority order, the first ``per_commune`` of them (0: all).  A subtotal row names the
    commune and its number of gap villages (all of them, and how many are listed when
    some are not) and sums :data:`_SUMMED` over all of them; the total row likewise.
    Built column-wise: one sort, one group-by, no loop over communes.
    """
    keep = [c for c in columns if c in gaps.columns or c == "stt"]
    if "district" in keep and gaps["district"].isna().all():
        keep.remove("district")  # no old district known: no empty column to print
    table = _sorted_by_commune(gaps).reset_index(drop=True)
    summed = [c for c in _SUMMED if c in keep]
    label_col = "village_name" if "village_name" in keep else keep[1]
    group = table.groupby(["_name", "commune_code"], sort=False, dropna=False)
    gid = group.ngroup().to_numpy()
    rank = group.cumcount().to_numpy()
    shown = rank < per_commune if per_commune > 0 else np.ones(len(table), dtype=bool)

    rows = table.loc[shown].reindex(columns=keep).astype(object)
    rows["stt"] = np.arange(1, len(rows) + 1)
    firsts = group.head(1)
    count = group.size().to_numpy()
    listed = np.bincount(gid[shown], minlength=len(count)) if len(count) else count
    subs = pd.DataFrame({c: [None] * len(count) for c in keep}, columns=keep, dtype=object)
    names = [name or str(code) for name, code in zip(
        firsts["_name"].tolist(), firsts["commune_code"].tolist(), strict=True)]
    subs[label_col] = [f"Cộng {name}: {k} thôn" if k == m else
                       f"Cộng {name}: {k} thôn (liệt kê {m} thôn ưu tiên nhất)"
                       for name, k, m in zip(names, count.tolist(), listed.tolist(),
                                             strict=True)]
    if "commune_name" in keep:
        subs["commune_name"] = names
    grand = {c: None for c in keep}
    grand[label_col] = f"Tổng cộng: {len(table)} thôn"
    for c in summed:
        numbers = pd.to_numeric(table[c], errors="coerce")
        sums = numbers.groupby(gid).sum(min_count=1) if len(table) else numbers
        subs[c] = [None if pd.isna(v) else float(v) for v in sums.tolist()]
        grand[c] = float(numbers.sum()) if numbers.notna().any() else None
    # rows of a commune, then its subtotal; the grand total last
    order_gid = np.concatenate([gid[shown], np.arange(len(count)), [len(count)]])
    order_kind = np.concatenate([np.zeros(int(shown.sum())), np.ones(len(count)), [1]])
    out = pd.concat([rows, subs, pd.DataFrame([grand], columns=keep, dtype=object)],
                    ignore_index=True)
    position = np.lexsort((np.arange(len(out)), order_kind, order_gid))
    out = out.iloc[position].reset_index(drop=True)
    totals = order_kind[position].astype(bool).tolist()
    for c in keep:  # numbers back to numbers (object columns hold None for the totals)
        if c in gaps.columns and pd.api.types.is_numeric_dtype(gaps[c]) and not \
                pd.api.types.is_bool_dtype(gaps[c]):
            out[c] = pd.to_numeric(out[c], errors="coerce")
    out["stt"] = pd.to_numeric(out["stt"], errors="coerce").astype("Int64")
    return out, totals


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


def _summary(wb: xlsxwriter.Workbook, ws: Worksheet, styles: _Styles, result: Result) -> None:
    """Write the summary sheet, row after row."""
    config = result.config
    name, year = config.display_name, config.run.year
    header = ["Mã chỉ tiêu / Indicator id", "Chỉ tiêu", "Indicator", "Giá trị / Value",
              "Mục tiêu / Target", "Đạt / Met", "Tử số / Numerator", "Mẫu số / Denominator",
              "Đơn vị / Unit", "Nguồn / Source"]
    head = 3  # the header row (0-based): the fourth
    rows = _province_rows(result.indicators) if result.indicators is not None else (
        pd.DataFrame(columns=["indicator", "value", "target", "met", "numerator",
                              "denominator", "unit", "source", "_group"]))
    n_chart = int((rows["_group"] == 0).sum())
    ws.freeze_panes(head + 1, 0)
    _print_setup(ws, title_rows=(head, head))
    _set_widths(ws, {0: 28, 1: 44, 2: 44, 3: 12, 4: 12, 5: 12, 6: 12, 7: 12, 8: 8, 9: 22})

    _write(ws, styles, 0, 0, f"Chỉ tiêu hạ tầng số: {name} {year}", bold=True, size=14)
    _write(ws, styles, 1, 0, f"Digital-infrastructure indicators against the plan's "
                             f"targets: {name} {year}", italic=True)
    for j, text in enumerate(header):
        _write(ws, styles, head, j, text, bold=True, bg_color=_HEAD_FILL, text_wrap=True,
               valign="top")
    wrap = {"text_wrap": True, "valign": "top"}
    r = head
    for row in rows.itertuples(index=False):
        r += 1
        labels = [indicator_label(row.indicator, language, config) for language in ("vi", "en")]
        ws.set_row(r, 12.75 * max(_lines(label, 44) for label in labels))
        fmt = _PCT if row.unit == "%" else _THOUSANDS if row.unit == "count" else "0.0"
        met = _value(row.met)
        _write(ws, styles, r, 0, row.indicator)
        for j, label in enumerate(labels, start=1):  # long labels wrap within their column
            _write(ws, styles, r, j, label, **wrap)
        _write(ws, styles, r, 3, row.value, num_format=fmt)
        _write(ws, styles, r, 4, row.target, num_format=fmt)
        _write(ws, styles, r, 5, None if met is None else _MET[met],
               bg_color=None if met is None else _MET_FILL[met])
        _write(ws, styles, r, 6, row.numerator, num_format=_THOUSANDS)
        _write(ws, styles, r, 7, row.denominator, num_format=_THOUSANDS)
        _write(ws, styles, r, 8, row.unit)
        _write(ws, styles, r, 9, _SOURCE.get(row.source, row.source))

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
    start = r + 2  # a blank row, then the section's title
    _write(ws, styles, start, 0, "Quy tắc và thông số / Rule and parameters", bold=True)
    left = {"text_wrap": True, "valign": "top", "align": "left"}
    for k, (vi, en, value, fmt) in enumerate(info, start=start + 1):
        ws.set_row(k, 12.75 * max(_lines(vi, 28), _lines(en, 44), _lines(value, 44)))
        _write(ws, styles, k, 0, vi, **left)
        _write(ws, styles, k, 1, en, **left)
        _write(ws, styles, k, 2, value, num_format=fmt, **left)
    chart_row = start + len(info) + 2

    if n_chart:
        chart = wb.add_chart({"type": "bar"})
        sheet = ws.get_name()
        for col in (3, 4):  # value and target, named by their header
            chart.add_series({"name": [sheet, head, col],
                              "categories": [sheet, head + 1, 1, head + n_chart, 1],
                              "values": [sheet, head + 1, col, head + n_chart, col]})
        chart.set_title({"name": "Chỉ tiêu so với mục tiêu / Indicators vs targets (%)"})
        chart.set_x_axis({"name": "%", "min": 0, "max": 100})  # a bar chart's value axis
        chart.set_size({"width": round(22 * _PX_PER_CM),
                        "height": round((8 + 0.6 * n_chart) * _PX_PER_CM)})
        ws.insert_chart(chart_row, 0, chart)


def vietnam_time(started: str) -> str:
    """Return an ISO 8601 time (UTC) as Vietnam time, dd/mm/yyyy HH:MM.

    Examples
    --------
    >>> vietnam_time("2026-11-30T18:05:00+00:00")
    '01/12/2026 01:05 (giờ Việt Nam, UTC+7)'
    >>> vietnam_time("")
    ''
    """
    if not started:
        return ""
    when = datetime.fromisoformat(started.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(_VN_TIME).strftime("%d/%m/%Y %H:%M") + " (giờ Việt Nam, UTC+7)"


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


def gap_note(per_commune: int) -> str:
    """Return the note atop the report's gap sheets: how many are listed, where all are.

    Examples
    --------
    >>> gap_note(10).split(" / ")[1][:59]
    'At most 10 gap villages per commune, highest priority first'
    """
    files = "gaps.csv, gaps_all.csv và lists.xlsx"
    if per_commune <= 0:
        return (f"Liệt kê mọi thôn; danh sách cũng có trong {files} cùng thư mục. / "
                "Every gap village is listed; gaps.csv, gaps_all.csv and lists.xlsx "
                "beside this report hold them too.")
    return (f"Mỗi xã liệt kê tối đa {per_commune} thôn ưu tiên nhất (dòng cộng tính mọi "
            f"thôn); danh sách đầy đủ: {files} cùng thư mục. / At most {per_commune} gap "
            "villages per commune, highest priority first (subtotals count them all); "
            "every gap is in gaps.csv, gaps_all.csv and lists.xlsx beside this report.")


def _workbook(path: Path, title: str) -> tuple[xlsxwriter.Workbook, _Styles]:
    """Open a streaming workbook: rows go to disk as they are written, text stays text."""
    wb = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False})
    wb.set_properties({"title": title, "author": f"covgap {__version__}"})
    return wb, _Styles(wb)


def _close(wb: xlsxwriter.Workbook, path: Path) -> None:
    """Write the workbook out; a file error is an :class:`OSError` naming the file."""
    try:
        wb.close()
    except FileCreateError as exc:  # xlsxwriter wraps the OSError it got
        cause = exc.__context__ if isinstance(exc.__context__, OSError) else None
        if cause is not None:
            raise cause from None
        raise OSError(f"cannot write {path}: {exc}") from exc


def write_report(result: Result, path: str | Path, *, gaps_per_commune: int | None = None
                 ) -> Path:
    """Write ``report.xlsx``: summary, communes, mobile and fibre gaps, technical, indicators.

    The gap sheets (and the technical sheet) list the first ``gaps_per_commune`` gap
    villages of each commune in priority order, with a subtotal of all of them and a
    note above the header saying where every gap is (``gaps.csv``, ``gaps_all.csv``,
    ``lists.xlsx``).  The workbook streams to disk (xlsxwriter, ``constant_memory``).

    Parameters
    ----------
    result : Result
        A run (:func:`covgap.run`) with its analysis.
    path : str or Path
        The workbook to write; an existing file is replaced.
    gaps_per_commune : int, optional
        Gap villages listed per commune; 0 lists every gap.  Default
        ``[output] report_gaps_per_commune``.

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
    per_commune = (config.output.report_gaps_per_commune if gaps_per_commune is None
                   else gaps_per_commune)
    note = gap_note(per_commune)
    wb, styles = _workbook(path, f"covgap {config.display_name} {config.run.year}")
    _summary(wb, wb.add_worksheet(SHEETS["summary"]), styles, result)
    communes = pd.DataFrame(result.communes)
    _write_table(wb.add_worksheet(SHEETS["communes"]), styles, communes, config=config,
                 freeze_cols=2)
    gaps = pd.DataFrame(result.gaps)
    sheets = _gap_sheets(gaps)
    listed = np.zeros(len(gaps), dtype=bool)
    for key, columns in (("mobile", MOBILE_COLUMNS), ("fibre", FIBRE_COLUMNS)):
        part = sheets[key]
        rows, totals = _grouped(part, columns, per_commune=per_commune)
        listed[gaps.index.get_indexer(part.index[top_per_commune(part, per_commune)])] = True
        freeze = list(rows.columns).index("village_name") + 1 if (
            "village_name" in rows.columns) else 1
        _write_table(wb.add_worksheet(SHEETS[key]), styles, rows, config=config,
                     freeze_cols=freeze, totals=totals, note=note)
    technical = sheets["technical"][listed] if gaps.index.is_unique else sheets["technical"]
    _write_table(wb.add_worksheet(SHEETS["technical"]), styles, technical, config=config,
                 freeze_cols=min(4, len(technical.columns)), note=note)
    table = pd.DataFrame(result.indicators)
    table = table.assign(
        met=table["met"].map(lambda v: None if v is None or v is pd.NA else _MET[bool(v)]),
        level=table["level"].map(lambda v: _LEVELS.get(v, v)),
        source=table["source"].map(lambda v: _SOURCE.get(v, v)))
    table.insert(table.columns.get_loc("indicator") + 1, "indicator_label",
                 table["indicator"].map(lambda i: indicator_label(i, "vi", config)))
    _write_table(wb.add_worksheet(SHEETS["indicators"]), styles, table, config=config,
                 freeze_cols=3)
    _close(wb, path)
    return path


def write_lists(result: Result, path: str | Path, *, operators: Sequence[str]) -> Path:
    """Write ``lists.xlsx``: every gap, then one sheet per operator, print-ready.

    The first sheet ("Tất cả - All") is ``gaps_all.csv``: every gap with an empty
    "DN đăng ký" column for the department to fill.  Then a sheet per operator holding
    only what is addressed to it (:func:`covgap.export.lists.operator_gaps`).  Each is
    grouped by commune with subtotals, as the report's gap sheets, and lists every gap.

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
    wb, styles = _workbook(
        path, f"covgap {result.config.display_name} {result.config.run.year}")
    sheets = [("Tất cả - All", all_gaps(gaps), LIST_COLUMNS)]
    sheets += [(operator_part(op)[:31], operator_gaps(gaps, op),
                tuple(c for c in LIST_COLUMNS if c != "registered_operator"))
               for op in operators]
    for name, table, columns in sheets:
        rows, totals = _grouped(table, columns)
        freeze = list(rows.columns).index("village_name") + 1 if (
            "village_name" in rows.columns) else 1
        _write_table(wb.add_worksheet(name), styles, rows, config=result.config,
                     freeze_cols=freeze, totals=totals)
    _close(wb, path)
    return path
