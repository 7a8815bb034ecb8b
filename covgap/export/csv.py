"""CSV files operators open in Excel: UTF-8 with a BOM, safe from formula injection.

- UTF-8 with a byte-order mark, so Excel shows "Thường Xuân" intact.
- Numbers stay numbers; booleans are ``true``/``false``; missing values are empty.
- A text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) is
  prefixed with an apostrophe, so Excel shows it as text instead of running it as a
  formula (OWASP, "CSV Injection").  Headers too: an input column may be named
  ``=HYPERLINK(...)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["VI_HEADERS", "safe_headers", "safe_text", "write_csv"]

#: Vietnamese column names: the CSVs' headers with ``headers="vi"`` and the Excel
#: report's labels; columns not listed keep covgap's name.
VI_HEADERS = {
    "village_id": "Mã thôn", "village_name": "Tên thôn", "commune_code": "Mã xã",
    "commune_name": "Tên xã, phường, đặc khu",
    "district": "Huyện (cũ, trước 01/7/2025)", "population": "Dân số", "households": "Số hộ",
    "lon": "Kinh độ", "lat": "Vĩ độ", "mbb_share": "Tỷ lệ được phủ sóng",
    "mbb_covered": "Có băng rộng di động", "operators": "Doanh nghiệp phủ sóng",
    "fibre_distance_m": "Khoảng cách tới cáp quang (m)", "ftth": "Có FTTH", "lom_song": "Lõm sóng",
    "region": "Khu vực", "difficult": "Thôn ĐBKK", "usp_eligible": "Thuộc diện công ích",
    "status": "Tình trạng", "reason": "Nguyên nhân", "fix": "Giải pháp đề xuất",
    "priority": "Thứ tự ưu tiên", "gap": "Thiếu",
    "best_operator": "Doanh nghiệp đề xuất (tham khảo)",
    "fibre_operator": "Nhà mạng cáp quang gần nhất", "nearest_site_id": "Trạm gần nhất",
    "nearest_site_m": "Khoảng cách tới trạm (m)", "satellite": "Đề xuất vệ tinh",
    "fibre_extension_m": "Chiều dài kéo cáp (m)",
    "fibre_extension_cost": "Chi phí kéo cáp (triệu đồng)",
    "candidate_rank": "Điểm đề xuất số", "rank": "Thứ tự", "kind": "Loại (mới/dùng chung)",
    "host_site_id": "Trạm dùng chung", "operator": "Nhà mạng",
    "population_gained": "Dân số được phủ thêm", "villages": "Số thôn",
    "cumulative_population": "Dân số cộng dồn", "cost": "Chi phí (triệu đồng)",
    "level": "Cấp", "code": "Mã",
    "name": "Tên", "indicator": "Chỉ tiêu", "value": "Giá trị", "target": "Mục tiêu", "met": "Đạt",
    "numerator": "Tử số", "denominator": "Mẫu số", "unit": "Đơn vị", "source": "Nguồn",
    "villages_mbb": "Số thôn có băng rộng di động", "villages_ftth": "Số thôn có FTTH",
    "population_mbb": "Dân số được phủ sóng", "usp_villages": "Số thôn diện công ích",
    "site_locations": "Số vị trí BTS", "shared_locations": "Số vị trí dùng chung",
    "centre_5g": "Trung tâm xã có 5G", "best_signal_dbm": "Tín hiệu tốt nhất (dBm)",
    "signal_status": "Tình trạng sóng", "registered_operator": "DN đăng ký",
    "fix_mobile": "Giải pháp di động đề xuất", "fix_fibre": "Giải pháp cáp quang đề xuất",
    "cumulative_cost": "Chi phí cộng dồn (triệu đồng)",
}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(values: pd.Series) -> pd.Series:
    r"""Prefix text cells that Excel would read as a formula with an apostrophe.

    Examples
    --------
    >>> safe_text(pd.Series(['=HYPERLINK("http://x")', "Thôn Đông", "-3"])).tolist()
    ['\'=HYPERLINK("http://x")', 'Thôn Đông', "'-3"]
    """
    text = values.astype("string")
    risky = text.str.startswith(_FORMULA_START).fillna(False)
    return text.where(~risky, "'" + text)


def safe_headers(columns: Iterable[Any]) -> list[Any]:
    r"""Return column names with the protection of :func:`safe_text`; others unchanged.

    Examples
    --------
    >>> safe_headers(["village_id", '=HYPERLINK("http://x","y")', 3])
    ['village_id', '\'=HYPERLINK("http://x","y")', 3]
    """
    names = list(columns)
    text = [c for c in names if isinstance(c, str)]
    safe = iter(safe_text(pd.Series(text, dtype="string")).tolist())
    return [next(safe) if isinstance(c, str) else c for c in names]


def _cell_values(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s):
            out[col] = s.map({True: "true", False: "false"}).astype("string")
        elif pd.api.types.is_numeric_dtype(s):
            out[col] = s
        elif s.dtype == object and s.notna().any() and s.dropna().map(
                lambda v: isinstance(v, bool | np.bool_)).astype(bool).all():
            out[col] = s.map(lambda v: pd.NA if pd.isna(v) else ("true" if v else "false"))
        else:
            out[col] = safe_text(s)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, *, headers: str = "en") -> Path:
    """Write a table as an Excel-safe CSV (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        A geometry column, if any, is left out.
    path : str or Path
    headers : {"en", "vi"}
        covgap's column names, or Vietnamese ones (:data:`VI_HEADERS`).

    Returns
    -------
    Path
    """
    path = Path(path)
    table = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    if headers == "vi":
        table = table.rename(columns=VI_HEADERS)
    cells = _cell_values(table)
    cells.columns = safe_headers(cells.columns)
    cells.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n",
                               float_format="%.10g")
    return path
