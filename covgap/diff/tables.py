"""The diff's tables: villages by change, communes of B, indicators, operators.

Every table is built from the two runs read back (:class:`~covgap.diff.runs.Run`) and
the village match (:func:`~covgap.diff.match.match_villages`).  A's villages are put
into B's communes by the match (the matched village's commune in B; a village gone in B
by where it lies, else by the crosswalk's largest share), so the village-based
indicators of A are recomputed exactly on B's communes with the formulas of
:mod:`covgap.analysis.indicators`.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from covgap.analysis.indicators import INDICATORS, percent
from covgap.diff.runs import Run
from covgap.export.names import operator_part

__all__ = ["CHANGES", "VILLAGE_INDICATORS", "commune_table", "indicator_rows",
           "operator_table", "place_removed", "village_table"]

#: The change classes of a village, in the order tables and the map list them.
CHANGES: tuple[str, ...] = ("newly covered", "newly lost", "still lom_song", "new gap",
                            "gap closed", "unchanged", "new village", "removed village")

#: The indicators recomputed per commune from the village rows (indicators.py formulas).
VILLAGE_INDICATORS: tuple[str, ...] = ("villages_mbb_pct", "villages_ftth_pct",
                                       "population_mbb_pct", "usp_villages")


_COUNT_COLUMNS = {"newly covered": "newly_covered", "newly lost": "newly_lost",
                  "still lom_song": "still_lom_song", "new gap": "new_gaps",
                  "gap closed": "gaps_closed", "unchanged": "unchanged",
                  "new village": "new_villages", "removed village": "removed_villages"}


def village_table(a: Run, b: Run, pairs: pd.DataFrame) -> pd.DataFrame:
    """Return one row per village of either year with its change (:data:`CHANGES`).

    Parameters
    ----------
    a, b : Run
        The two runs.
    pairs : DataFrame
        The village match (:func:`~covgap.diff.match.match_villages`), in its order.

    Returns
    -------
    DataFrame
        The columns of :attr:`covgap.diff.RunDiff.villages`; ``commune_code`` is B's
        (empty for a village gone in B: :func:`place_removed` fills it).
    """
    ia, ib = pairs["ia"].to_numpy(), pairs["ib"].to_numpy()
    has_a, has_b = ia >= 0, ib >= 0
    va, vb = a.villages, b.villages

    def pick(col: str) -> pd.Series:
        """B's value, else A's."""
        return _col(vb, ib, col).where(pd.Series(has_b), _col(va, ia, col))

    lom_a, lom_b = _flag(_col(va, ia, "lom_song")), _flag(_col(vb, ib, "lom_song"))
    no_ftth_a = _flag(_col(va, ia, "ftth") == False)  # noqa: E712 - NA stays not-a-gap
    no_ftth_b = _flag(_col(vb, ib, "ftth") == False)  # noqa: E712
    gap_a, gap_b = lom_a | no_ftth_a, lom_b | no_ftth_b
    change = np.select(
        [~has_a, ~has_b, lom_a & ~lom_b, ~lom_a & lom_b, lom_a & lom_b, ~gap_a & gap_b,
         gap_a & ~gap_b],
        ["new village", "removed village", "newly covered", "newly lost", "still lom_song",
         "new gap", "gap closed"], "unchanged")
    out = pd.DataFrame({
        "village_id": pick("village_id"),
        "village_id_a": _col(va, ia, "village_id"),
        "village_name": pick("village_name"),
        "commune_code": _col(vb, ib, "commune_code"),
        "commune_name": pd.NA,
        "commune_code_a": _col(va, ia, "commune_code"),
        "change": change,
        "status_a": _col(va, ia, "status"), "status_b": _col(vb, ib, "status"),
        "mbb_share_a": _col(va, ia, "mbb_share"), "mbb_share_b": _col(vb, ib, "mbb_share"),
        "ftth_a": _col(va, ia, "ftth").astype("boolean"),
        "ftth_b": _col(vb, ib, "ftth").astype("boolean"),
        "gap_a": pd.array(np.where(has_a, gap_a, pd.NA), dtype="boolean"),
        "gap_b": pd.array(np.where(has_b, gap_b, pd.NA), dtype="boolean"),
        "operators_a": _col(va, ia, "operators"), "operators_b": _col(vb, ib, "operators"),
        "population": pick("population"),
        "matched_by": pairs["matched_by"].astype("string"),
        "distance_m": pairs["distance_m"],
        "lon": pick("lon"), "lat": pick("lat"),
    })
    out["commune_name"] = out["commune_code"].map(
        b.communes.set_index("commune_code")["commune_name"]).astype("string")
    return out


def place_removed(villages: pd.DataFrame, b: Run, crosswalk: pd.DataFrame) -> pd.Series:
    """Return B's commune of every village: its own, else (only in A) where it lies.

    A village gone in B is put in B's commune polygon that holds its point, else (no
    polygons, or outside them) in the commune of B with the largest crosswalk share of
    its commune in A.

    Parameters
    ----------
    villages : DataFrame
        :func:`village_table`.
    b : Run
        Run B.
    crosswalk : DataFrame
        :func:`~covgap.diff.crosswalk.commune_crosswalk`.

    Returns
    -------
    Series
        B's commune code per row of ``villages`` (NA when none is found).
    """
    code = villages["commune_code"].copy()
    todo = code.isna() & (villages["change"] == "removed village")
    if not todo.any():
        return code
    rows = villages[todo]
    if b.geometry is not None:
        pts = gpd.GeoSeries(gpd.points_from_xy(rows["lon"], rows["lat"]), crs="EPSG:4326",
                            index=rows.index)
        src, tgt = b.geometry.sindex.query(pts.to_numpy(), predicate="intersects")
        hit = pd.Series(tgt, index=rows.index[src]).groupby(level=0).first()
        code.loc[hit.index] = b.geometry["commune_code"].to_numpy()[hit.to_numpy()]
    left = code.isna() & todo
    if left.any():
        best = (crosswalk.dropna(subset=["code_b"])
                .assign(_w=crosswalk["weight"].fillna(0.0))
                .sort_values(["code_a", "_w"], ascending=[True, False], kind="stable")
                .drop_duplicates("code_a").set_index("code_a")["code_b"])
        code.loc[left] = villages.loc[left, "commune_code_a"].map(best)
    return code


def indicator_rows(a: Run, b: Run, communes: pd.DataFrame) -> pd.DataFrame:
    """Return the indicators of A and B: the province's, and per commune of B.

    Parameters
    ----------
    a, b : Run
        The two runs.
    communes : DataFrame
        :func:`commune_table`: A's village indicators recomputed on B's communes.

    Returns
    -------
    DataFrame
        The columns of :attr:`covgap.diff.RunDiff.indicators`: province rows as each run
        reported them (``value_a_basis`` "reported"), then :data:`VILLAGE_INDICATORS`
        per commune of B (A's "recomputed"), against B's targets (A's when B has none).
    """
    pb = b.indicators[b.indicators["level"] == "province"].drop_duplicates(
        ["indicator", "source"])
    rows = _province_rows(a, b, pb) + _commune_rows(b, communes, pb)
    table = pd.DataFrame(rows, columns=[
        "level", "code", "name", "indicator", "value_a", "value_b", "delta", "target",
        "met_a", "met_b", "unit", "source", "value_a_basis"])
    for col in ("met_a", "met_b"):
        table[col] = table[col].astype("boolean")
    return table


def _province_rows(a: Run, b: Run, pb: pd.DataFrame) -> list[dict]:
    """Return the province's indicators of both runs, in B's order (then A's own ones)."""
    pa = a.indicators[a.indicators["level"] == "province"].drop_duplicates(
        ["indicator", "source"])
    prov = pb.merge(pa[["indicator", "source", "value", "target", "unit"]],
                    on=["indicator", "source"], how="outer", suffixes=("_b", "_a"), sort=False)
    order = {k: i for i, k in enumerate(zip(pb["indicator"], pb["source"], strict=True))}
    prov["_o"] = [order.get(k, len(order)) for k in
                  zip(prov["indicator"], prov["source"], strict=True)]
    prov = prov.sort_values("_o", kind="stable")
    code_b = pb["code"].iloc[0] if len(pb) else b.name
    name_b = pb["name"].iloc[0] if len(pb) else b.title
    rows: list[dict] = []
    for _, r in prov.iterrows():
        target = r["target_b"] if not np.isnan(r["target_b"]) else r["target_a"]
        rows.append({"level": "province", "code": code_b, "name": name_b,
                     "indicator": r["indicator"], "value_a": r["value_a"],
                     "value_b": r["value_b"], "delta": _delta(r["value_a"], r["value_b"]),
                     "target": target, "met_a": _met(r["value_a"], target, r["indicator"]),
                     "met_b": _met(r["value_b"], target, r["indicator"]),
                     "unit": r["unit_b"] if isinstance(r["unit_b"], str) else r["unit_a"],
                     "source": r["source"], "value_a_basis": "reported"})
    return rows


def _commune_rows(b: Run, communes: pd.DataFrame, pb: pd.DataFrame) -> list[dict]:
    """Return the village indicators per commune of B, against B's commune or province targets."""
    cb = b.indicators[b.indicators["level"] == "commune"].drop_duplicates(["code", "indicator"])
    target_b = cb.set_index(["code", "indicator"])["target"]
    targets = pb.drop_duplicates("indicator").set_index("indicator")["target"]
    rows: list[dict] = []
    for _, c in communes.iterrows():
        for ind in VILLAGE_INDICATORS:
            va, vb = float(c[f"{ind}_a"]), float(c[f"{ind}_b"])
            target = float(target_b.get((c["commune_code"], ind), targets.get(ind, np.nan)))
            rows.append({"level": "commune", "code": c["commune_code"],
                         "name": c["commune_name"], "indicator": ind, "value_a": va,
                         "value_b": vb, "delta": _delta(va, vb), "target": target,
                         "met_a": _met(va, target, ind), "met_b": _met(vb, target, ind),
                         "unit": INDICATORS[ind][0], "source": "map",
                         "value_a_basis": "recomputed"})
    return rows


def commune_table(a: Run, b: Run, villages: pd.DataFrame, code_b_of_a: pd.Series,
                  crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Return one row per commune of B: its villages by change, and A's and B's figures.

    Parameters
    ----------
    a, b : Run
        The two runs.
    villages : DataFrame
        :func:`village_table` with every village placed in B's communes.
    code_b_of_a : Series
        B's commune of each village of A (A's row order; NA: in none).
    crosswalk : DataFrame
        :func:`~covgap.diff.crosswalk.commune_crosswalk`, for ``codes_a``.

    Returns
    -------
    DataFrame
        The columns of :attr:`covgap.diff.RunDiff.communes`.
    """
    va, vb = a.villages, b.villages
    fig_a = _figures(va, code_b_of_a, ftth_known=bool(va["ftth"].notna().any()),
                     pop_known=bool(va["population"].notna().any()))
    fig_b = _figures(vb, vb["commune_code"], ftth_known=bool(vb["ftth"].notna().any()),
                     pop_known=bool(vb["population"].notna().any()))
    out = b.communes[["commune_code", "commune_name"]].copy().reset_index(drop=True)
    code = out["commune_code"]
    region = b.communes.set_index("commune_code").get("region")
    out["region"] = (code.map(region) if region is not None else pd.Series(
        pd.NA, index=out.index)).astype("string")
    links = crosswalk.dropna(subset=["code_b"])
    links = links[links["weight"].fillna(1.0) > 0]
    out["codes_a"] = code.map(links.groupby("code_b")["code_a"].agg(
        lambda s: ";".join(sorted(set(s))))).astype("string")
    out["villages_a"] = code.map(fig_a["villages"]).fillna(0).astype(int)
    out["villages_b"] = code.map(fig_b["villages"]).fillna(0).astype(int)
    out["villages_mbb_a"] = code.map(fig_a["villages_mbb"]).fillna(0).astype(int)
    out["villages_mbb_b"] = code.map(fig_b["villages_mbb"]).fillna(0).astype(int)
    out["population_a"] = code.map(fig_a["population"]).astype(float)
    out["population_b"] = code.map(fig_b["population"]).astype(float)
    _add_change_counts(out, villages)
    # B's values as B's run reported them (the same formulas; what its tables say)
    cb = b.indicators[b.indicators["level"] == "commune"].drop_duplicates(["code", "indicator"])
    for ind in VILLAGE_INDICATORS:
        out[f"{ind}_a"] = code.map(fig_a[ind]).astype(float)
        reported = cb[cb["indicator"] == ind].set_index("code")["value"]
        out[f"{ind}_b"] = code.map(reported).astype(float).where(
            code.isin(reported.index), code.map(fig_b[ind]).astype(float))
        out[f"{ind}_delta"] = [_delta(x, y) for x, y in
                               zip(out[f"{ind}_a"], out[f"{ind}_b"], strict=True)]
    return out


def _add_change_counts(out: pd.DataFrame, villages: pd.DataFrame) -> None:
    """Add the villages of each change class and the gaps of A and B, per commune."""
    code, placed = out["commune_code"], villages["commune_code"]
    counts = villages.assign(_code=placed).groupby(["_code", "change"]).size().unstack(
        fill_value=0)
    for change, col in _COUNT_COLUMNS.items():
        series = counts[change] if change in counts else pd.Series(dtype=int)
        out[col] = code.map(series).fillna(0).astype(int)
    for col in ("gap_a", "gap_b"):
        n = villages[col].fillna(False).astype(bool).groupby(placed).sum()
        out[f"gaps_{col[-1]}"] = code.map(n).fillna(0).astype(int)


def operator_table(a: Run, b: Run, villages: pd.DataFrame) -> pd.DataFrame:
    """Return per operator the villages it newly covers or lost, and its gap lists.

    An operator covers a village when its name is in the village's ``operators`` list;
    its gap list is ``gaps_<operator>.csv`` (the name as
    :func:`~covgap.export.names.operator_part` writes it).

    Returns
    -------
    DataFrame
        The columns of :attr:`covgap.diff.RunDiff.operators`, by operator name.
    """
    ops_a, ops_b = _operators(villages["operators_a"]), _operators(villages["operators_b"])
    both = villages["matched_by"].notna().to_numpy(bool)
    names = set().union(*ops_a, *ops_b) if len(villages) else set()
    known = {operator_part(n): n for n in names}
    for part in set(a.gap_files) | set(b.gap_files):
        names.add(known.get(part, part))
    rows = []
    for op in sorted(names):
        in_a = ops_a.map(lambda s, op=op: op in s).to_numpy(bool)
        in_b = ops_b.map(lambda s, op=op: op in s).to_numpy(bool)
        gaps_a = a.gap_files.get(operator_part(op), 0)
        gaps_b = b.gap_files.get(operator_part(op), 0)
        rows.append({"operator": op, "villages_covered_a": int(in_a.sum()),
                     "villages_covered_b": int(in_b.sum()),
                     "newly_covers": int((both & ~in_a & in_b).sum()),
                     "newly_lost": int((both & in_a & ~in_b).sum()),
                     "gaps_a": gaps_a, "gaps_b": gaps_b, "gaps_delta": gaps_b - gaps_a})
    return pd.DataFrame(rows, columns=["operator", "villages_covered_a", "villages_covered_b",
                                       "newly_covers", "newly_lost", "gaps_a", "gaps_b",
                                       "gaps_delta"])


def _col(frame: pd.DataFrame, positions: np.ndarray, col: str) -> pd.Series:
    """``frame[col]`` at row positions; -1 gives NA."""
    values = frame[col].reset_index(drop=True).reindex(positions)
    return values.reset_index(drop=True)


def _flag(values: pd.Series) -> np.ndarray:
    return values.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _figures(v: pd.DataFrame, key: pd.Series, *, ftth_known: bool,
             pop_known: bool) -> pd.DataFrame:
    """Per value of ``key``: village counts and the village indicators (indicators.py)."""
    frame = pd.DataFrame({
        "key": key.to_numpy(), "covered": _flag(v["mbb_covered"]).astype(int),
        "ftth": _flag(v["ftth"]).astype(int), "usp": _flag(v["usp_eligible"]).astype(int),
        "pop": v["population"].to_numpy(float),
        "people": (v["population"] * v["mbb_share"]).to_numpy(float)}).dropna(subset=["key"])
    g = frame.groupby("key", sort=False)
    out = pd.DataFrame({"villages": g.size(), "villages_mbb": g["covered"].sum(),
                        "villages_ftth": g["ftth"].sum(), "population": g["pop"].sum(),
                        "population_mbb": g["people"].sum(), "usp_villages": g["usp"].sum()})
    out["villages_mbb_pct"] = [percent(c, n) for c, n in
                               zip(out["villages_mbb"], out["villages"], strict=True)]
    out["villages_ftth_pct"] = ([percent(f, n) for f, n in
                                 zip(out["villages_ftth"], out["villages"], strict=True)]
                                if ftth_known else np.nan)
    out["population_mbb_pct"] = ([percent(p, n) for p, n in
                                  zip(out["population_mbb"], out["population"], strict=True)]
                                 if pop_known else np.nan)
    out["usp_villages"] = out["usp_villages"].astype(float)
    out["population_mbb"] = out["population_mbb"].round()
    return out


def _met(value: float, target: float, indicator: str) -> Any:
    if target is None or value is None or np.isnan(target) or np.isnan(value):
        return pd.NA
    higher = INDICATORS.get(indicator, ("", True))[1]
    return bool(value >= target) if higher else bool(value <= target)


def _delta(a: float, b: float) -> float:
    return float("nan") if np.isnan(a) or np.isnan(b) else round(b - a, 1)


def _operators(op_list: pd.Series) -> pd.Series:
    return op_list.fillna("").astype(str).map(lambda s: {p for p in s.split(";") if p})
