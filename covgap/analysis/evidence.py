"""Measured evidence: tests joined to villages, disputes with the model, measured speeds.

A test belongs to a village when it lies inside the village's polygon, or within
``[evidence] village_radius_m`` of a point village (the nearest one).  Per village and
operator, the tests of the counted technologies say "covered" when their median RSRP
reaches the threshold.  The village's measured verdict is "covered" when some
operator's tests say so, "not covered" when every measured operator's tests say not and
no operator the model counts on is left unmeasured, and unknown otherwise.

:func:`village_evidence` writes the columns ``measured_n``, ``measured_rsrp_dbm``,
``measured_download_mbps``, ``evidence`` and ``confidence``; :func:`dispute_table` the
rows of ``disputes.csv``; :func:`speed_table` the measured speed indicators.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

__all__ = [
    "DISPUTE_COLUMNS",
    "EVIDENCE",
    "SPEED_INDICATORS",
    "OperatorEvidence",
    "dispute_table",
    "operator_evidence",
    "speed_table",
    "village_evidence",
    "village_of_tests",
]

#: The values of the ``evidence`` column.
EVIDENCE = ("measured covered", "measured not covered", "model only", "conflict")

#: Share of one operator's tests on the majority side for them to count as agreeing.
AGREEMENT = 0.8

#: Signal margin (dB over the threshold) above which a model's "covered" that the tests
#: contradict points at the site data rather than at a real gap.
SITE_DATA_MARGIN_DB = 10.0

#: Model error (dB) assumed for the confidence rule when there is no calibration.
DEFAULT_ERROR_DB = 8.0

#: The columns of ``disputes.csv``.
DISPUTE_COLUMNS = ("village_id", "village_name", "commune_code", "operator", "direction",
                   "measured_n", "measured_below_n", "measured_rsrp_dbm",
                   "measured_download_mbps", "model_signal_dbm", "min_rsrp_dbm",
                   "model_covered", "measured_covered", "action")

#: Measured speed indicators: id -> (technologies it counts, unit).
SPEED_INDICATORS = {"mbb_download_mbps": "mobile", "fixed_download_mbps": "FTTH"}


def village_of_tests(villages: gpd.GeoDataFrame, tests: gpd.GeoDataFrame,
                      metric_crs: CRS, *, radius_m: float) -> pd.Series:
    """Return the village (index label of ``villages``) of each test, NA for none.

    Parameters
    ----------
    villages : GeoDataFrame
        Points or polygons, any CRS.
    tests : GeoDataFrame
        Measured tests (points), any CRS.
    metric_crs : pyproj.CRS
        The projected CRS distances are measured in (metres).
    radius_m : float
        A test belongs to the nearest point village within this distance; a test inside
        a polygon village belongs to it.

    Returns
    -------
    Series
        Indexed like ``tests``.
    """
    out = pd.Series(pd.NA, index=tests.index, dtype="object")
    if tests.empty or villages.empty:
        return out
    v = villages.to_crs(metric_crs)
    t = tests.to_crs(metric_crs)
    areal = v.geometry.geom_type.isin(("Polygon", "MultiPolygon")).to_numpy()
    if areal.any():
        poly = v[areal]
        ti, vi = poly.sindex.query(t.geometry.to_numpy(), predicate="within")
        first = ~pd.Series(ti).duplicated().to_numpy()
        out.iloc[ti[first]] = poly.index.to_numpy()[vi[first]]
    left = out.isna().to_numpy()
    if (~areal).any() and left.any():
        pts = v[~areal]
        ti, vi = pts.sindex.nearest(t.geometry.to_numpy()[left], return_all=False,
                                    max_distance=radius_m)
        out.iloc[np.flatnonzero(left)[ti]] = pts.index.to_numpy()[vi]
    return out


@dataclass
class OperatorEvidence:
    """The tests of each (village, operator) and the village's measured verdict.

    Attributes
    ----------
    per_operator : DataFrame
        One row per village and operator with tests of the counted technologies:
        ``village`` (index label), ``operator``, ``n`` (tests with RSRP),
        ``n_below`` (of those, under the threshold), ``rsrp_dbm`` and ``download_mbps``
        (medians), ``covered`` (median RSRP reaches the threshold; NA without RSRP),
        ``agreement`` (share of the tests on the majority side).
    village : DataFrame
        Indexed like the villages: ``measured_n`` (counted tests, speed-only ones
        included), ``measured_rsrp_dbm`` (the best measured operator's median),
        ``measured_download_mbps`` (median over every counted test) and
        ``measured_covered`` (boolean, NA where the tests do not decide).
    """

    per_operator: pd.DataFrame
    village: pd.DataFrame


def operator_evidence(villages: gpd.GeoDataFrame, tests: gpd.GeoDataFrame | None,
                      metric_crs: CRS, *, technologies: list[str], min_rsrp_dbm: float,
                      radius_m: float, operator_covered: pd.DataFrame) -> OperatorEvidence:
    """Join the tests to villages and decide each village's measured verdict.

    Parameters
    ----------
    villages : GeoDataFrame
        The villages (any CRS).
    tests : GeoDataFrame or None
        Checked measurements (:func:`covgap.io.layers.read_measurements`).
    metric_crs : pyproj.CRS
        Projected CRS (metres).
    technologies : list of str
        The technologies that count as mobile broadband.
    min_rsrp_dbm : float
        The threshold (dBm) the tests are held against, the model's own.
    radius_m : float
        ``[evidence] village_radius_m``.
    operator_covered : DataFrame
        One boolean column per operator, indexed like ``villages``: the model's verdict
        of each operator.

    Returns
    -------
    OperatorEvidence
    """
    village = pd.DataFrame({
        "measured_n": np.zeros(len(villages), dtype=int),
        "measured_rsrp_dbm": np.full(len(villages), np.nan),
        "measured_download_mbps": np.full(len(villages), np.nan),
        "measured_covered": pd.array([pd.NA] * len(villages), dtype="boolean")},
        index=villages.index)
    cols = ["village", "operator", "n", "n_below", "rsrp_dbm", "download_mbps", "covered",
            "agreement"]
    if tests is None or tests.empty:
        return OperatorEvidence(pd.DataFrame(columns=cols), village)
    counted = tests[tests["technology"].isin(technologies)]
    where = village_of_tests(villages, counted, metric_crs, radius_m=radius_m)
    joined = pd.DataFrame({"village": where, "operator": counted["operator"],
                           "rsrp_dbm": counted["rsrp_dbm"],
                           "download_mbps": counted["download_mbps"]})
    joined = joined[joined["village"].notna()]
    if joined.empty:
        return OperatorEvidence(pd.DataFrame(columns=cols), village)
    joined["below"] = (joined["rsrp_dbm"] < min_rsrp_dbm).where(joined["rsrp_dbm"].notna())
    g = joined.groupby(["village", "operator"], sort=True)
    per = pd.DataFrame({"n": g["rsrp_dbm"].count(), "n_below": g["below"].sum(),
                        "rsrp_dbm": g["rsrp_dbm"].median(),
                        "download_mbps": g["download_mbps"].median()}).reset_index()
    per["n_below"] = per["n_below"].astype(int)
    per["covered"] = (per["rsrp_dbm"] >= min_rsrp_dbm).astype("boolean").where(
        per["rsrp_dbm"].notna(), pd.NA)
    per["agreement"] = (np.maximum(per["n_below"], per["n"] - per["n_below"])
                        / per["n"].where(per["n"] > 0))
    gv = joined.groupby("village")
    village.loc[gv.size().index, "measured_n"] = gv.size().to_numpy()
    best = per.groupby("village")["rsrp_dbm"].max()
    village.loc[best.index, "measured_rsrp_dbm"] = best.round(1).to_numpy()
    speed = gv["download_mbps"].median()
    village.loc[speed.index, "measured_download_mbps"] = speed.round(1).to_numpy()
    village["measured_covered"] = _measured_verdict(per, village.index, operator_covered)
    return OperatorEvidence(per[cols], village)


def _measured_verdict(per: pd.DataFrame, index: pd.Index,
                      operator_covered: pd.DataFrame) -> pd.Series:
    """Return each village's measured verdict.

    Covered when some operator's tests say so; not covered when all measured say not and
    no operator the model counts on went unmeasured; NA otherwise.
    """
    out = pd.Series(pd.NA, index=index, dtype="boolean")
    rated = per[per["covered"].notna()]
    if rated.empty:
        return out
    any_yes = rated.groupby("village")["covered"].any()
    out.loc[any_yes.index[any_yes.to_numpy()]] = True
    measured_ops = rated.groupby("village")["operator"].agg(set)
    for v in any_yes.index[~any_yes.to_numpy()]:
        model_ops = ({op for op in operator_covered.columns if operator_covered.at[v, op]}
                     if len(operator_covered.columns) else set())
        if model_ops <= measured_ops[v]:
            out.loc[v] = False
    return out


def village_evidence(evidence: OperatorEvidence, model_covered: pd.Series,
                     best_signal_dbm: pd.Series, *, min_rsrp_dbm: float,
                     error_db: float | None, min_tests: int) -> pd.DataFrame:
    """Return the evidence columns of the village table.

    Parameters
    ----------
    evidence : OperatorEvidence
        :func:`operator_evidence`.
    model_covered : Series
        The model's verdict of each village (before any measured override).
    best_signal_dbm : Series
        The strongest modelled counted signal at the village point, dBm (NaN for the
        radius model).
    min_rsrp_dbm : float
        The threshold, dBm.
    error_db : float or None
        The model's error, dB: the calibration's cross-validated RMSE, else
        :data:`DEFAULT_ERROR_DB`.
    min_tests : int
        ``[evidence] min_tests``: tests of one operator that make strong evidence.

    Returns
    -------
    DataFrame
        ``measured_n``, ``measured_rsrp_dbm``, ``measured_download_mbps``,
        ``evidence`` (:data:`EVIDENCE`) and ``confidence`` (high/medium/low):

        - model only: high when the modelled signal is at least two model errors from
          the threshold, medium at one, low nearer (or without a modelled signal);
        - measured covered / measured not covered (tests and model agree): high when
          the deciding operator has ``min_tests`` tests agreeing at 80%, else medium;
        - conflict: medium when the tests are that strong, else low.
    """
    v = evidence.village
    measured = v["measured_covered"]
    model = model_covered.astype(bool)
    ev = np.where(measured.isna(), "model only",
                  np.where(measured.fillna(False) == model,
                           np.where(model, "measured covered", "measured not covered"),
                           "conflict"))
    sigma = DEFAULT_ERROR_DB if error_db is None or not np.isfinite(error_db) else error_db
    margin = (best_signal_dbm - min_rsrp_dbm).abs() / max(sigma, 1e-6)
    model_conf = np.where(margin >= 2, "high", np.where(margin >= 1, "medium", "low"))
    strong = _strong(evidence.per_operator, v.index, min_tests)
    conf = np.where(ev == "model only", model_conf,
                    np.where(ev == "conflict", np.where(strong, "medium", "low"),
                             np.where(strong, "high", "medium")))
    out = v[["measured_n", "measured_rsrp_dbm", "measured_download_mbps"]].copy()
    out["evidence"] = pd.Series(ev, index=v.index, dtype="string")
    out["confidence"] = pd.Series(conf, index=v.index, dtype="string")
    return out


def _strong(per: pd.DataFrame, index: pd.Index, min_tests: int) -> np.ndarray:
    """Whether a village has an operator with ``min_tests`` tests agreeing at 80%."""
    ok = per[(per["n"] >= min_tests) & (per["agreement"] >= AGREEMENT)]
    return index.isin(ok["village"].unique())


def dispute_table(villages: pd.DataFrame, evidence: OperatorEvidence,
                  operator_covered: pd.DataFrame, operator_signal: pd.DataFrame, *,
                  min_rsrp_dbm: float, min_tests: int) -> pd.DataFrame:
    """Return ``disputes.csv``: each village and operator where tests and model disagree.

    Parameters
    ----------
    villages : DataFrame
        The village table (``village_id``, ``village_name``, ``commune_code``,
        ``nearest_site_id``).
    evidence : OperatorEvidence
        :func:`operator_evidence`.
    operator_covered : DataFrame
        The model's verdict per operator (boolean columns), indexed like ``villages``.
    operator_signal : DataFrame
        The operator's modelled signal at the village point (dBm columns, NaN unknown).
    min_rsrp_dbm : float
        The threshold, dBm.
    min_tests : int
        ``[evidence] min_tests``.

    Returns
    -------
    DataFrame
        :data:`DISPUTE_COLUMNS`, both directions ("model covered, measured not" and
        "measured covered, model not"), sorted by village and operator.  ``action``:
        a drive test when the tests are few or split; else, for a model that says
        covered, a re-check of the site data when the model's margin is
        :data:`SITE_DATA_MARGIN_DB` or more, a candidate site otherwise; for a model
        that says not covered, a re-check of the site data (a site missing from the
        register, or its power or height understated).
    """
    per = evidence.per_operator
    per = per[per["covered"].notna()]
    rows = []
    for rec in per.to_dict("records"):
        v, op = rec["village"], rec["operator"]
        model = bool(operator_covered.at[v, op]) if op in operator_covered else False
        if bool(rec["covered"]) == model:
            continue
        signal = (float(operator_signal.at[v, op]) if op in operator_signal
                  else float("nan"))
        weak = rec["n"] < min_tests or rec["agreement"] < AGREEMENT
        site = villages.at[v, "nearest_site_id"] if "nearest_site_id" in villages else None
        site_txt = f" (nearest site {site})" if isinstance(site, str) else ""
        if weak:
            action = (f"drive test: {rec['n']} test(s), {rec['n_below']} below the "
                      f"threshold; measure the village before deciding")
        elif model and np.isfinite(signal) and signal - min_rsrp_dbm >= SITE_DATA_MARGIN_DB:
            action = (f"re-check the site data{site_txt}: on air? height, power, azimuth; "
                      f"the model puts {signal - min_rsrp_dbm:.0f} dB over the threshold")
        elif model:
            action = f"candidate site: the tests confirm a gap the model missed{site_txt}"
        else:
            action = ("re-check the site data: a site serving the village may be missing "
                      "from the register, or its power or height understated")
        rows.append({
            "village_id": villages.at[v, "village_id"],
            "village_name": villages.at[v, "village_name"],
            "commune_code": villages.at[v, "commune_code"], "operator": op,
            "direction": ("model covered, measured not" if model
                          else "measured covered, model not"),
            "measured_n": int(rec["n"]), "measured_below_n": int(rec["n_below"]),
            "measured_rsrp_dbm": round(float(rec["rsrp_dbm"]), 1),
            "measured_download_mbps": (round(float(rec["download_mbps"]), 1)
                                       if pd.notna(rec["download_mbps"]) else np.nan),
            "model_signal_dbm": round(signal, 1) if np.isfinite(signal) else np.nan,
            "min_rsrp_dbm": min_rsrp_dbm, "model_covered": model,
            "measured_covered": bool(rec["covered"]), "action": action})
    table = pd.DataFrame(rows, columns=list(DISPUTE_COLUMNS))
    return table.sort_values(["village_id", "operator"], kind="stable").reset_index(drop=True)


def speed_table(tests: gpd.GeoDataFrame | None, communes: gpd.GeoDataFrame, *,
                technologies: list[str], province_code: str, province_name: str,
                targets: dict[str, float | None]) -> pd.DataFrame:
    """Return the measured speed indicators per province, commune and operator.

    Parameters
    ----------
    tests : GeoDataFrame or None
        Checked measurements (EPSG:4326).
    communes : GeoDataFrame
        The communes (EPSG:4326) with ``commune_code`` and ``commune_name``.
    technologies : list of str
        Mobile technologies counted by ``mbb_download_mbps``; ``fixed_download_mbps``
        counts the FTTH tests.
    province_code, province_name : str
        How the province rows are labelled.
    targets : dict
        Indicator id -> target in Mb/s (None: no target); held against the province.

    Returns
    -------
    DataFrame
        ``level`` (province, commune), ``code``, ``name``, ``operator`` ("" for every
        operator together), ``indicator``, ``value`` (median download, Mb/s, one
        decimal), ``n`` (tests with a download speed), ``target``, ``met``.  Empty
        without tests with a download speed.
    """
    cols = ["level", "code", "name", "operator", "indicator", "value", "n", "target", "met"]
    if tests is None or tests.empty:
        return pd.DataFrame(columns=cols)
    t = tests[tests["download_mbps"].notna()]
    if t.empty:
        return pd.DataFrame(columns=cols)
    joined = gpd.sjoin(t[["operator", "technology", "download_mbps", "geometry"]],
                       communes[["commune_code", "commune_name", "geometry"]].to_crs(t.crs),
                       how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    rows: list[dict] = []
    for ind, kind in SPEED_INDICATORS.items():
        sel = joined[joined["technology"].isin(technologies) if kind == "mobile"
                     else joined["technology"] == "FTTH"]
        if sel.empty:
            continue
        target = targets.get(ind)

        def add(level: str, code: str, name: str, op: str, values: pd.Series,
                goal: float | None, ind: str = ind) -> None:
            median = float(values.median())
            rows.append({"level": level, "code": code, "name": name, "operator": op,
                         "indicator": ind, "value": round(median, 1), "n": len(values),
                         "target": goal,
                         "met": pd.NA if goal is None else bool(median >= goal)})

        add("province", province_code, province_name, "", sel["download_mbps"], target)
        for op, g in sel.groupby("operator", sort=True):
            add("province", province_code, province_name, str(op), g["download_mbps"],
                target)
        inside = sel[sel["commune_code"].notna()]
        for (code, name), g in inside.groupby(["commune_code", "commune_name"], sort=True):
            add("commune", str(code), str(name), "", g["download_mbps"], None)
            for op, go in g.groupby("operator", sort=True):
                add("commune", str(code), str(name), str(op), go["download_mbps"], None)
    table = pd.DataFrame(rows, columns=cols)
    table["met"] = table["met"].astype("boolean")
    return table
