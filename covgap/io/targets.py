"""Targets of single communes (``[targets] communes_file``): a CSV a department keeps.

One row per commune: a ``commune_code`` column, then one column per indicator id with
the commune's target; an empty cell means no target.  Commune rows of the indicator
table get a target only from this file or ``[targets.communes]``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from covgap.errors import InputError

__all__ = ["read_commune_targets"]


def read_commune_targets(path: str | Path) -> dict[str, dict[str, float]]:
    r"""Read a commune-targets CSV into ``{commune_code: {indicator id: target}}``.

    Raises
    ------
    InputError
        The file is missing or unreadable, has no ``commune_code`` column, or a cell is
        not a finite number (each problem with its row as Excel numbers it).

    Examples
    --------
    >>> import tempfile, os
    >>> f = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    >>> _ = f.write("commune_code,bts_sharing_pct\n15001,30\n15002,\n"); f.close()
    >>> read_commune_targets(f.name)
    {'15001': {'bts_sharing_pct': 30.0}}
    >>> os.unlink(f.name)
    """
    path = Path(path)
    name = path.name
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{name}: cannot read the commune targets: {exc}") from None
    table.columns = [str(c).strip() for c in table.columns]
    if "commune_code" not in table:
        raise InputError(f"{name}: no commune_code column; the file has "
                         f"{', '.join(table.columns) or 'no columns'}")
    problems: list[str] = []
    out: dict[str, dict[str, float]] = {}
    for i, row in table.iterrows():  # a province has at most a few hundred communes
        code = row["commune_code"].strip()
        for col in table.columns.drop("commune_code"):
            cell = row[col].strip()
            if not cell:
                continue
            try:
                value = float(cell.replace(",", "."))
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                problems.append(f"{name} row {i + 2} (commune_code={code}): {col} {cell!r} "
                                "is not a number")
                continue
            out.setdefault(code, {})[col] = value
    if problems:
        raise InputError(f"{name}: {len(problems)} problem(s) in the commune targets",
                         problems)
    return out
