"""Collect every problem of a layer before failing, one line each."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from covgap.errors import InputError

__all__ = ["ROW", "Problems"]

#: Column carrying each feature's human-facing position in its file ("row 118",
#: "feature 17"), one convention everywhere: CSV/XLSX rows as Excel numbers them (the
#: header is row 1), features of GDAL layers numbered from 1 as QGIS shows them (the
#: GeoPackage fid).  A frame without it is numbered "feature N" by position, from 1.
ROW = "_covgap_row"

#: At most this many rows are listed per kind of problem; the rest are counted.
MAX_ROWS_LISTED = 20


class Problems:
    """The problems found in one input layer.

    Parameters
    ----------
    source : str
        The file name shown at the start of every line, e.g. ``"bts.csv"``.
    id_column : str, optional
        Column whose value identifies a feature in messages (``site_id=TH-0412``).
    """

    def __init__(self, source: str, id_column: str | None = None) -> None:
        self.source = source
        self.id_column = id_column
        self.lines: list[str] = []

    def __bool__(self) -> bool:
        return bool(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, message: str) -> None:
        """Add a problem about the whole layer."""
        self.lines.append(f"{self.source}: {message}")

    def where(self, frame: pd.DataFrame, index: object) -> str:
        """Return ``"bts.csv row 118 (site_id=TH-0412)"`` for one row of ``frame``."""
        text = f"{self.source} {frame.at[index, ROW]}" if ROW in frame else (
            f"{self.source} feature {_position(frame.index, index) + 1}")
        if self.id_column and self.id_column in frame:
            value = frame.at[index, self.id_column]
            if not _is_missing(value):
                text += f" ({self.id_column}={value})"
        return text

    def rows(
        self,
        frame: pd.DataFrame,
        mask: pd.Series | np.ndarray,
        message: str | Callable[[object], str],
    ) -> None:
        """Add one line per row where ``mask`` is true.

        Parameters
        ----------
        frame : DataFrame
            The layer, carrying the :data:`ROW` column.
        mask : boolean Series or array
            Rows that have the problem.
        message : str or callable
            The problem, or a function of the row's index returning it.
        """
        idx = frame.index[np.asarray(mask, dtype=bool)]
        for i in idx[:MAX_ROWS_LISTED]:
            text = message(i) if callable(message) else message
            self.lines.append(f"{self.where(frame, i)}: {text}")
        if len(idx) > MAX_ROWS_LISTED:
            text = message(idx[0]) if callable(message) else message
            self.lines.append(
                f"{self.source}: ... and {len(idx) - MAX_ROWS_LISTED} more rows like "
                f"the above ({text.split(':')[0]})")

    def extend(self, lines: Iterable[str]) -> None:
        """Add lines that already carry their location."""
        self.lines.extend(lines)

    def raise_if_any(self) -> None:
        """Raise :class:`InputError` listing every problem, if there is any."""
        if self.lines:
            raise InputError(f"{self.source}: {len(self.lines)} problem(s)", self.lines)


def _position(index: pd.Index, label: object) -> int:
    """Return the 0-based position of ``label`` (its first, when labels repeat)."""
    loc = index.get_loc(label)
    if isinstance(loc, slice):
        return int(loc.start or 0)
    if isinstance(loc, np.ndarray):
        return int(np.flatnonzero(loc)[0])
    return int(loc)


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
