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

__all__ = ["FORMULA_START", "VI_HEADERS", "CsvFields", "csv_text", "safe_headers", "safe_text",
           "write_csv"]

#: Vietnamese column names: the CSVs' headers with ``language="vi"`` and the Excel
#: report's labels; columns not listed keep covgap's name.  From the message catalogue
#: (:func:`covgap.export.messages.column_names`).
VI_HEADERS = column_names("vi")

#: The first characters that make Excel read a text as a formula: such a text gets an
#: apostrophe (:func:`safe_text`), or Excel's quote prefix in ``report.xlsx``.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(values: pd.Series) -> pd.Series:
    r"""Prefix text cells that Excel would read as a formula with an apostrophe.

    Examples
    --------
    >>> safe_text(pd.Series(['=HYPERLINK("http://x")', "Thôn Đông", "-3"])).tolist()
    ['\'=HYPERLINK("http://x")', 'Thôn Đông', "'-3"]
    """
    text = values.astype("string")
    risky = text.str.startswith(FORMULA_START).fillna(False)
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


def _in_language(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """Return the table a CSV holds: no geometry; in Vietnamese, its names and texts."""
    table = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    if language == "vi":
        table = translate_frame(table, "vi").rename(columns=VI_HEADERS)
    return table


class CsvFields:
    """A table's CSV fields, column by column, made once for the tables drawn from it.

    ``gaps.csv``, ``gaps_all.csv`` and the operators' ``gaps_<operator>.csv`` hold the
    same gap rows: ``gaps_all.csv`` all of them and one column more, an operator's file
    some of them with a few columns changed.  Given to :func:`write_csv` as ``like``, a
    column of the written table whose values (and type) are the base table's on the
    same rows (told by the index) takes the base's fields, formatted once, instead of
    being formatted again.  The file is the same either way.

    Parameters
    ----------
    frame : DataFrame
        The base table (its index unique), before :func:`write_csv`'s language.
    language : {"en", "vi"}
        The language of the files it serves.

    Examples
    --------
    >>> base = pd.DataFrame({"id": ["a", "b", "c"], "km": [1.5, 2.0, 0.25]})
    >>> like = CsvFields(base, "en")
    >>> csv_text(base.iloc[[2, 0]], like=like) == csv_text(base.iloc[[2, 0]])
    True
    """

    def __init__(self, frame: pd.DataFrame, language: str) -> None:
        self.language = language
        self.table = _in_language(frame, language)
        self._usable = self.table.index.is_unique and self.table.columns.is_unique
        self._made: dict[str, np.ndarray | None] = {}

    def fields(self, name: object, column: pd.Series) -> np.ndarray | None:
        """Return the CSV fields of ``column`` (:func:`_column_fields`), the base's if same."""
        base = self.table[name] if self._usable and name in self.table.columns else None
        # object columns are read as a whole (what their values are): never shared
        if base is None or base.dtype != column.dtype or (
                isinstance(column.dtype, np.dtype) and column.dtype.kind == "O"):
            return _column_fields(column)
        rows = self.table.index.get_indexer(column.index)
        if (rows < 0).any() or not base.iloc[rows].equals(column):
            return _column_fields(column)
        if name not in self._made:
            self._made[name] = _column_fields(base)
        made = self._made[name]
        return None if made is None else made[rows]


def write_csv(frame: pd.DataFrame, path: str | Path, *, language: str = "en",
              headers: str | None = None, like: CsvFields | None = None) -> Path:
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
    like : CsvFields, optional
        A table this one is drawn from (same index for the same rows), in the same
        language: columns equal to its columns take its fields, formatted once.

    Returns
    -------
    Path
    """
    path = Path(path)
    lang = headers if headers is not None else language
    table = _in_language(frame, lang)
    text = csv_text(table, like=like if like is not None and like.language == lang else None)
    if text is None:  # a column type formatted here only by pandas
        cells = _cell_values(table)
        cells.columns = safe_headers(cells.columns)
        cells.to_csv(path, index=False, encoding=_ENCODING, lineterminator=_EOL,
                     float_format=_FLOAT)
    else:
        with open(path, "w", encoding=_ENCODING, newline="") as f:
            f.write(text)
    return path


_ENCODING = "utf-8-sig"
_EOL = "\r\n"
_FLOAT = "%.10g"
#: What makes Python's csv writer (QUOTE_MINIMAL) quote a field: the delimiter, the
#: quote character, or a character of the line terminator.
_QUOTED = (",", '"', "\r", "\n")


def _quoted(values: np.ndarray, text: np.ndarray | None = None) -> np.ndarray:
    """Quote (doubling quotes) the fields of ``values`` (str objects) that need it.

    ``text``: the same values as a numpy ``StringDType`` array, when already made.
    """
    joined = "".join(values.tolist())
    if not any(char in joined for char in _QUOTED):  # most columns: one scan, no copy
        return values
    if text is None:
        text = values.astype(np.dtypes.StringDType())
    quote = np.zeros(len(values), dtype=bool)
    for char in _QUOTED:
        quote |= np.strings.find(text, char) >= 0
    if quote.any():
        inner = np.strings.replace(text[quote], '"', '""')
        values[quote] = np.strings.add(np.strings.add('"', inner), '"').astype(object)
    return values


def _field_texts(s: pd.Series) -> np.ndarray | None:
    """Return a column's CSV fields as pandas writes them, or None for another type.

    ``s`` is a column as :func:`write_csv` hands it to pandas (text already safe).
    Text: as it is, quoted (quotes doubled) when it holds a comma, a quote or a line
    break, found for the whole column at once (numpy's string functions); missing values
    empty.  Floats: ``%.10g``; integers: as Python writes them.
    """
    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "O"):
        # np.array(copy=True): pandas 3.1's StringArray.to_numpy(copy=True) can hand back
        # its own array, which quoting would then change in the caller's table
        values = np.array(s.to_numpy(dtype=object, na_value=""), dtype=object, copy=True)
        if not isinstance(dtype, pd.StringDtype) and len(values) and pd.api.types.infer_dtype(
                values, skipna=False) != "string":
            return None
        return _quoted(values)
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return np.array(list(map(str, s.tolist())), dtype=object)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = s.to_numpy()
        if np.any((values == 0) & np.signbit(values)):  # -0.0 writes "-0": no dedup
            out = np.array([_FLOAT % v for v in values.tolist()], dtype=object)
        else:  # each distinct value formatted once (shares, counts, rounded metres)
            distinct, where = np.unique(values, return_inverse=True)
            texts = np.array([_FLOAT % v for v in distinct.tolist()], dtype=object)
            out = texts[where.reshape(-1)]
        out[np.isnan(values)] = ""
        return out
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iu":
        return np.array(["" if v is pd.NA else str(v) for v in s.tolist()], dtype=object)
    return None


def _column_fields(s: pd.Series) -> np.ndarray | None:
    """Return the CSV fields :func:`write_csv` writes for one input column, or None.

    The column-wise twin of :func:`_cell_values` followed by pandas' writer: booleans
    ``true``/``false``, numbers as pandas formats them, text made safe
    (:func:`safe_text`) and quoted, every step over the whole column.  None: a type
    only pandas formats (the caller then writes the table the old way).
    """
    if pd.api.types.is_bool_dtype(s):
        out = np.where(s.to_numpy(dtype=object, na_value=False), "true", "false").astype(object)
        out[s.isna().to_numpy()] = ""
        return out
    if pd.api.types.is_numeric_dtype(s):
        return _field_texts(s)
    dtype = s.dtype
    plain = isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype)
                                                  and dtype.kind == "O")
    kind = pd.api.types.infer_dtype(s, skipna=True) if plain else ""
    if kind == "boolean" and isinstance(dtype, np.dtype):  # Python booleans in an object column
        missing = s.isna().to_numpy()
        out = np.where(s.to_numpy(dtype=object), "true", "false").astype(object)
        out[missing] = ""
        return out
    if kind not in ("string", "empty"):  # anything else: pandas' own text for it
        return _field_texts(safe_text(s))
    missing = s.isna().to_numpy()
    values = np.array(s.to_numpy(dtype=object), dtype=object, copy=True)  # see _field_texts
    values[missing] = ""
    text = values.astype(np.dtypes.StringDType())
    first = np.strings.slice(text, 0, 1)
    risky = np.zeros(len(values), dtype=bool)
    for start in FORMULA_START:
        risky |= first == start
    if risky.any():  # safe_text's apostrophe
        text[risky] = np.strings.add("'", text[risky])
        values[risky] = text[risky].astype(object)
    return _quoted(values, text)


def csv_text(table: pd.DataFrame, *, like: CsvFields | None = None) -> str | None:
    r"""Return the text :func:`write_csv` writes for a table (after its language), column-wise.

    The same characters as pandas' ``to_csv`` on the cells the module docstring
    describes (``lineterminator="\r\n"``, ``float_format="%.10g"``): each column is
    formatted once, as a whole (booleans, numbers, text made safe and quoted), and the
    rows are joined at the end, instead of pandas' writer turning every cell into text
    on its own.

    ``like``: a base table whose columns' fields this table's equal columns take
    (:class:`CsvFields`).

    Returns
    -------
    str or None
        The text (header, then one line per row, each ending in CRLF); None when a
        column has a type only pandas formats, or the table has fewer than two columns
        (a lone empty field would need quotes).

    Examples
    --------
    >>> csv_text(pd.DataFrame({"a": [1, 2], "b": ["x,y", "=1"], "c": [0.1, float("nan")]}))
    'a,b,c\r\n1,"x,y",0.1\r\n2,\'=1,\r\n'
    """
    if len(table.columns) < 2:
        return None
    fields = []
    for j in range(len(table.columns)):
        column = table.iloc[:, j]
        texts = (like.fields(table.columns[j], column) if like is not None
                 and table.columns.is_unique else _column_fields(column))
        if texts is None:
            return None
        fields.append(texts)
    names = [str(c) for c in safe_headers(table.columns)]
    lines = [",".join(_quoted(np.array(names, dtype=object)).tolist())]
    # one join per row over the ready fields (adding whole columns would copy every
    # growing row once per column)
    lines += map(",".join, zip(*(texts.tolist() for texts in fields), strict=True))
    return _EOL.join(lines) + _EOL
