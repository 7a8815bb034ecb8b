"""CSV files operators open in Excel: UTF-8 with a BOM, safe from formula injection.

- UTF-8 with a byte-order mark, so Excel shows "Thường Xuân" intact.
- Numbers stay numbers; booleans are ``true``/``false``; missing values are empty.
- A text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) is
  prefixed with an apostrophe, so Excel shows it as text instead of running it as a
  formula (OWASP, "CSV Injection").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["safe_text", "write_csv"]

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


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as an Excel-safe CSV (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        A geometry column, if any, is left out.
    path : str or Path

    Returns
    -------
    Path
    """
    path = Path(path)
    table = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    _cell_values(table).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n",
                               float_format="%.10g")
    return path
