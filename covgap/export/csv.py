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

from covgap.export.messages import column_names, translate_frame

__all__ = ["VI_HEADERS", "safe_headers", "safe_text", "write_csv"]

#: Vietnamese column names: the CSVs' headers with ``language="vi"`` and the Excel
#: report's labels; columns not listed keep covgap's name.  From the message catalogue
#: (:func:`covgap.export.messages.column_names`).
VI_HEADERS = column_names("vi")

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


def write_csv(frame: pd.DataFrame, path: str | Path, *, language: str = "en",
              headers: str | None = None) -> Path:
    """Write a table as an Excel-safe CSV (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        A geometry column, if any, is left out.  Not modified.
    path : str or Path
    language : {"en", "vi"}
        ``"vi"``: Vietnamese column names (:data:`VI_HEADERS`) and the cells a person
        reads (reason, fix, status, gap, kind: :data:`covgap.export.messages.TEXT_COLUMNS`)
        in Vietnamese.  Numbers stay machine-readable (``98.5``) in either language.
    headers : {"en", "vi"}, optional
        Older name of ``language``.

    Returns
    -------
    Path
    """
    path = Path(path)
    lang = headers if headers is not None else language
    table = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    if lang == "vi":
        table = translate_frame(table, "vi").rename(columns=VI_HEADERS)
    cells = _cell_values(table)
    cells.columns = safe_headers(cells.columns)
    cells.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n",
                 float_format="%.10g")
    return path
