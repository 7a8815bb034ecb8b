"""The commune crosswalk: which commune of year B each commune of year A went to.

Communes were merged on 1 July 2025, so the two years of a province may not share their
commune codes.  :func:`commune_crosswalk` gives, for every commune of A, its communes in
B and the share (weight) of it in each:

- the explicit table when one is given (``code_a, code_b[, weight]``; a national table
  may be given: rows of other provinces are left out);
- the identity when both years have the same codes;
- else an area-weighted overlay of the two years' commune polygons in B's metric CRS,
  weight = area(A ∩ B) / area(A), leaving out slivers below :data:`SLIVER_SHARE`;
- without polygons, the share of A's commune's matched villages that went to each
  commune of B (method "villages").
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from covgap.diff.runs import Run, read_csv
from covgap.errors import InputError

__all__ = ["SLIVER_SHARE", "commune_crosswalk"]

log = logging.getLogger(__name__)

#: Overlay pieces smaller than this share of A's commune are slivers of two
#: digitisations of one boundary, not a part of the commune that moved.
SLIVER_SHARE = 0.005

_TABLE = "the crosswalk table"


def commune_crosswalk(a: Run, b: Run, pairs: pd.DataFrame,
                      table: str | Path | pd.DataFrame | None) -> pd.DataFrame:
    """Return the crosswalk from A's commune codes to B's.

    Parameters
    ----------
    a, b : Run
        The two runs (:func:`~covgap.diff.runs.read_run`).
    pairs : DataFrame
        The village match (:func:`~covgap.diff.match.match_villages`), used when the
        codes differ and a run has no commune polygons.
    table : str, Path, DataFrame or None
        An explicit crosswalk: a CSV or table with ``code_a``, ``code_b`` and optionally
        ``weight`` (share of A's commune in B's, 0-1).

    Returns
    -------
    DataFrame
        ``code_a, name_a, code_b, name_b, weight, method``; method is "table",
        "identity", "overlay" or "villages".  A commune of A outside B's area has an
        empty ``code_b`` and weight 0 (overlay).

    Raises
    ------
    InputError
        A table without ``code_a``/``code_b``, with empty codes, weights outside 0-1,
        communes of A it does not list or codes that are no commune of B (all listed).

    Examples
    --------
    >>> cw = commune_crosswalk(a, b, pairs, "crosswalk_2025.csv")  # doctest: +SKIP
    >>> cw.query("code_a == '15001'")[["code_b", "weight"]]  # doctest: +SKIP
    """
    if table is not None:
        out = _table_crosswalk(table, a, b)
    else:
        codes_a = set(a.communes["commune_code"].dropna())
        codes_b = set(b.communes["commune_code"].dropna())
        if codes_a == codes_b:
            codes = sorted(codes_a)
            out = pd.DataFrame({"code_a": codes, "code_b": codes, "weight": 1.0,
                                "method": "identity"})
        elif a.geometry is not None and b.geometry is not None:
            out = _overlay_crosswalk(a, b)
        else:
            log.warning("commune codes differ and a run has no commune polygons "
                        "(results.gpkg): the crosswalk follows the matched villages")
            out = _village_crosswalk(a, b, pairs)
    names_a = a.communes.set_index("commune_code")["commune_name"]
    names_b = b.communes.set_index("commune_code")["commune_name"]
    out = out.astype({"code_a": "string", "code_b": "string"})
    out.insert(1, "name_a", out["code_a"].map(names_a).astype("string"))
    out.insert(3, "name_b", out["code_b"].map(names_b).astype("string"))
    return out[["code_a", "name_a", "code_b", "name_b", "weight", "method"]].reset_index(
        drop=True)


def _table_crosswalk(table: str | Path | pd.DataFrame, a: Run, b: Run) -> pd.DataFrame:
    """Check an explicit code table and keep the rows of A's communes."""
    if isinstance(table, pd.DataFrame):
        source = _TABLE
        raw = table.copy()
    else:
        path = Path(table)
        source = str(path)
        if not path.is_file():
            raise InputError(f"crosswalk {path}: no such file; give a CSV with columns "
                             "code_a, code_b and optionally weight")
        raw = read_csv(path)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in ("code_a", "code_b") if c not in raw]
    if missing:
        raise InputError(f"{source}: no column {', '.join(missing)} (found: "
                         f"{', '.join(map(str, raw.columns))}); a crosswalk has one row per "
                         "old (code_a) and new (code_b) commune code, and optionally weight")
    # a file's rows by their line, a table's by its index
    where = ([f"{source} row {i + 2}" for i in range(len(raw))] if source != _TABLE
             else [f"{source} row {i}" for i in raw.index])
    problems: list[str] = []
    out = pd.DataFrame({"code_a": raw["code_a"].astype("string").str.strip(),
                        "code_b": raw["code_b"].astype("string").str.strip()})
    for col in ("code_a", "code_b"):
        empty = out[col].isna() | (out[col] == "").fillna(False)
        problems += [f"{where[i]}: {col} is empty" for i in np.flatnonzero(empty.to_numpy())]
    if "weight" in raw:
        w = pd.to_numeric(raw["weight"], errors="coerce")
        bad = (w.isna() & raw["weight"].notna()) | (w < 0) | (w > 1)
        problems += [f"{where[i]}: weight {raw['weight'].iloc[i]} is not a share between 0 "
                     "and 1" for i in np.flatnonzero(bad.fillna(False).to_numpy())]
        out["weight"] = w.astype(float)
    else:  # one target: all of it; a split without weights: not known
        out["weight"] = np.nan
    codes_a = set(a.communes["commune_code"].dropna())
    codes_b = set(b.communes["commune_code"].dropna())
    # a national table lists every province's communes: keep the rows of A's
    out = out[out["code_a"].isin(codes_a)].drop_duplicates(["code_a", "code_b"])
    absent = sorted(codes_a - set(out["code_a"]))
    if absent:
        problems.append(f"commune code(s) of run A {a.path} not in the table: "
                        f"{', '.join(absent[:10])}{' …' if len(absent) > 10 else ''}")
    unknown = sorted(set(out["code_b"].dropna()) - codes_b)
    if unknown:
        problems.append(f"code_b value(s) that are no commune of run B {b.path}: "
                        f"{', '.join(unknown[:10])}{' …' if len(unknown) > 10 else ''}")
    if problems:
        raise InputError(f"{source}: {len(problems)} problem(s) in the crosswalk", problems)
    n_targets = out.groupby("code_a")["code_b"].transform("size")
    out["weight"] = out["weight"].where(out["weight"].notna() | (n_targets > 1), 1.0)
    out["method"] = "table"
    return out.reset_index(drop=True)


def _overlay_crosswalk(a: Run, b: Run) -> pd.DataFrame:
    """Area-weighted overlay of the two years' communes in B's metric CRS."""
    assert a.geometry is not None and b.geometry is not None
    crs = b.metric_crs
    ga = a.geometry[["commune_code", "geometry"]].rename(columns={"commune_code": "code_a"})
    gb = b.geometry[["commune_code", "geometry"]].rename(columns={"commune_code": "code_b"})
    ga, gb = ga.to_crs(crs), gb.to_crs(crs)
    ga = ga.dissolve("code_a", as_index=False)
    gb = gb.dissolve("code_b", as_index=False)
    area_a = pd.Series(ga.geometry.area.to_numpy(), index=ga["code_a"].to_numpy())
    pieces = gpd.overlay(ga, gb, how="intersection", keep_geom_type=True)
    out = pd.DataFrame({"code_a": pieces["code_a"].astype("string"),
                        "code_b": pieces["code_b"].astype("string"),
                        "area": pieces.geometry.area.to_numpy()})
    out = out.groupby(["code_a", "code_b"], as_index=False, sort=True)["area"].sum()
    out["weight"] = out["area"] / out["code_a"].map(area_a).to_numpy()
    out = out[out["weight"] >= SLIVER_SHARE].drop(columns="area")
    out["weight"] = out["weight"].round(6)
    outside = sorted(set(ga["code_a"]) - set(out["code_a"]))
    if outside:  # communes of A that are outside B's area: visible, not dropped
        out = pd.concat([out, pd.DataFrame({"code_a": outside, "code_b": pd.NA,
                                            "weight": 0.0})], ignore_index=True)
    out["method"] = "overlay"
    return out.reset_index(drop=True)


def _village_crosswalk(a: Run, b: Run, pairs: pd.DataFrame) -> pd.DataFrame:
    """Without polygons: the share of A's commune's (matched) villages in each B commune."""
    both = pairs[(pairs["ia"] >= 0) & (pairs["ib"] >= 0)]
    frame = pd.DataFrame({
        "code_a": a.villages["commune_code"].to_numpy()[both["ia"].to_numpy()],
        "code_b": b.villages["commune_code"].to_numpy()[both["ib"].to_numpy()]}).dropna()
    counts = frame.groupby(["code_a", "code_b"], sort=True).size().rename("n").reset_index()
    counts["weight"] = (counts["n"] / counts.groupby("code_a")["n"].transform("sum")).round(6)
    out = counts.drop(columns="n").astype({"code_a": "string", "code_b": "string"})
    out["method"] = "villages"
    return out
