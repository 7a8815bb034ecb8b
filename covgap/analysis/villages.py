"""Village by village: who is covered, who is not and why, and the plan's indicators.

:func:`analyse` turns checked inputs and a modelled :class:`~covgap.coverage.Coverage`
into the tables a province reports: the village table (``villages.csv``), the commune
table, the indicators against the plan's targets, and the gap list.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from covgap.analysis.evidence import (
    dispute_table,
    operator_evidence,
    speed_table,
    village_evidence,
)
from covgap.analysis.fibre import fibre_reach, lacks_ftth, village_points
from covgap.analysis.flags import covered_at, point_diagnostics, reasons
from covgap.analysis.indicators import (
    ANY_SHARE,
    INDICATORS,
    commune_table,
    indicator_table,
    site_locations,
)
from covgap.analysis.places import commune_centres, place_figures, place_table
from covgap.analysis.shares import coverage_shares
from covgap.analysis.usp import qualifies, usp_parts, village_classes
from covgap.config import TECHNOLOGIES, Config, LegalConfig, RulesConfig, load_config
from covgap.coverage import Coverage
from covgap.coverage.cells import site_positions
from covgap.errors import CovgapWarning
from covgap.io import WGS84, Inputs, read_commune_targets
from covgap.io.crs import project_xy

__all__ = ["SIGNAL_STATUSES", "VILLAGE_COLUMNS", "Analysis", "analyse", "signal_status"]

#: The village columns of SPEC.md, in order; covgap adds more after them.
VILLAGE_COLUMNS = (
    "village_id", "village_name", "commune_code", "population", "lon", "lat", "mbb_share",
    "mbb_covered", "operators", "fibre_distance_m", "ftth", "lom_song", "region",
    "difficult", "usp_eligible", "usp_mobile", "usp_fibre",
)

#: The coverage bases of ``[rules] coverage_basis``.
COVERAGE_BASES = ("any_operator", "single_operator")

#: ``signal_status`` of a village: what signal it has, in the order provincial reports
#: count them, with their wording.  ``lom_song`` (the boolean) stays "not covered by
#: mobile broadband" and holds for the first three.
SIGNAL_STATUSES: dict[str, str] = {
    "no_signal": "Thôn chưa có sóng di động (lõm sóng)",
    "no_broadband": "Thôn chỉ có sóng 2G/3G, chưa có 4G/5G",
    "partial": "Thôn được phủ sóng một phần",
    "covered": "Thôn được phủ sóng",
}

#: The layer of :func:`coverage_shares` holding every operator's technologies that do
#: not count as mobile broadband (2G/3G by default).
_LEGACY_SHARE = "share_legacy"

#: Gap order: programme-eligible first, then the worse gap, then the most people.
_STATUS_ORDER = {"lom_song": 0, "partial": 1, "covered": 2}

@dataclass
class Analysis:
    """The tables of one run, and the verdicts later stages read.

    Analysis owns the rules about villages: ``[rules] village_covered_share``,
    ``coverage_basis`` and the universal-service rules are applied here, once; planning
    and the exports read the verdicts below and never apply a threshold again.

    Attributes
    ----------
    villages : GeoDataFrame
        One row per village (EPSG:4326): the SPEC columns, then covgap's own.  Verdict
        columns: ``mbb_covered`` (and ``lom_song``, its negation), ``ftth``,
        ``usp_mobile``, ``usp_fibre`` and ``usp_eligible`` (either part).
    communes : GeoDataFrame
        One row per commune (EPSG:4326) with counts and indicator values.
    indicators : DataFrame
        ``level, code, name, indicator, value, target, met, numerator, denominator,
        unit, source``.
    gaps : DataFrame
        Villages that are not covered or lack FTTH, highest priority first.
    locations : GeoDataFrame
        BTS site locations (EPSG:4326) with their operators and whether shared.
    operator_covered : DataFrame
        One boolean column per operator, indexed like ``villages``: the operator's own
        counted technologies cover the village (share >= ``village_covered_share``).
        Kept here rather than in ``villages`` so the village table's columns stay as
        they are.
    usp_priority : Series
        Boolean, indexed like ``villages``: the village's class qualifies for the mobile
        part of the universal-service programme (``[rules] usp_mobile_*``), whether or
        not it has a gap; planning favours it.  ``usp_mobile`` is a mobile gap and this.
    places : DataFrame or None
        The ``places.csv`` table (:func:`covgap.analysis.places.place_table`), when the
        run has a places layer.
    disputes : DataFrame or None
        ``disputes.csv`` (:func:`covgap.analysis.evidence.dispute_table`): villages and
        operators where the measurements and the model disagree, when the run has
        measurements.
    speeds : DataFrame or None
        The measured speed indicators per province, commune and operator
        (:func:`covgap.analysis.evidence.speed_table`), when the run has measurements.
    warnings : list of str
        What the analysis could not compute and why (e.g. no commune centre known).
    """

    villages: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    indicators: pd.DataFrame
    gaps: pd.DataFrame
    locations: gpd.GeoDataFrame
    operator_covered: pd.DataFrame = field(default_factory=pd.DataFrame)
    usp_priority: pd.Series = field(default_factory=lambda: pd.Series(dtype=bool))
    places: pd.DataFrame | None = None
    disputes: pd.DataFrame | None = None
    speeds: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Shares:
    """Each village's covered shares and the verdicts on them."""

    table: pd.DataFrame  # share per operator, 0-1
    basis: pd.Series  # "population", "area" or "point"
    mbb_share: pd.Series  # the share the village rule reads ([rules] coverage_basis)
    any_share: pd.Series  # the share covered by any operator (the union)
    passing: pd.DataFrame  # per operator: share >= village_covered_share
    legacy_share: pd.Series  # the share covered by any uncounted technology (2G/3G)


def analyse(inputs: Inputs, coverage: Coverage, config: Config | dict | str) -> Analysis:
    """Compute village coverage, FTTH reach, flags, reasons and indicators.

    Parameters
    ----------
    inputs : Inputs
        Checked input layers (:func:`covgap.read_inputs`).
    coverage : Coverage
        Modelled coverage (:func:`covgap.coverage.compute_coverage`); its
        ``min_rsrp_dbm`` is the signal threshold the reasons quote.
    config : Config, dict or path
        ``[coverage] technologies``, ``[rules]``, ``[targets]`` and ``[reported]``.

    Returns
    -------
    Analysis

    Examples
    --------
    >>> inputs = covgap.read_inputs("data/sample.toml")  # doctest: +SKIP
    >>> cov = covgap.coverage.compute_coverage(inputs, "data/sample.toml")  # doctest: +SKIP
    >>> analyse(inputs, cov, "data/sample.toml").indicators.head()  # doctest: +SKIP
    """
    cfg = load_config(config)
    techs = [t for t in TECHNOLOGIES if t in cfg.coverage.technologies]
    operators = sorted(inputs.sites["operator"].unique())  # checked: never NA
    villages = inputs.villages
    metric = villages.geometry.to_crs(inputs.metric_crs)  # the villages, projected once
    shares = _village_shares(inputs, coverage, cfg.rules, techs, operators, metric)
    points = village_points(villages, inputs.metric_crs, projected=metric)
    fibre = fibre_reach(points, inputs.fibre)
    measured = inputs.measurements is not None
    ev = operator_evidence(villages, inputs.measurements, inputs.metric_crs,
                           technologies=techs, min_rsrp_dbm=coverage.min_rsrp_dbm,
                           radius_m=cfg.evidence.village_radius_m,
                           operator_covered=shares.passing) if measured else None
    decide = ev.village["measured_covered"] if ev and cfg.evidence.measurements_decide else None
    out, priority, usp = _spec_columns(inputs, points, shares, fibre, cfg.rules,
                                     cfg.legal, decide)
    gap = out["lom_song"] | lacks_ftth(out["ftth"])
    out = _own_columns(out, inputs, coverage, shares, fibre, points.to_numpy(), techs,
                       operators)
    if ev is not None:
        out = out.join(village_evidence(
            ev, shares.mbb_share >= cfg.rules.village_covered_share, out["best_signal_dbm"],
            min_rsrp_dbm=coverage.min_rsrp_dbm, error_db=_model_error_db(coverage),
            min_tests=cfg.evidence.min_tests))
    out["reason"] = _reasons(out, gap, shares.basis, coverage, cfg.rules, "/".join(techs))
    out["usp_mobile_reason"] = usp["usp_mobile_reason"].astype("string")
    out["usp_fibre_reason"] = usp["usp_fibre_reason"].astype("string")
    out["best_operator"] = _best_operator(out, operators)
    extra = [c for c in villages.columns if c not in out.columns and c != "geometry"]
    for col in extra:  # columns covgap does not know travel to the outputs
        out[col] = villages[col]
    village_gdf = gpd.GeoDataFrame(out, geometry=villages.geometry, crs=villages.crs)
    notes: list[str] = []
    places = (None if inputs.places is None else place_table(
        inputs.places, coverage, inputs.fibre, inputs.metric_crs,
        ftth_max_distance_m=cfg.rules.ftth_max_distance_m))
    communes, indicators, locations = _communes_and_indicators(out, inputs, coverage, cfg,
                                                               operators, places, notes)
    disputes = speeds = None
    if ev is not None:
        signal = pd.DataFrame({op: point_diagnostics(points.to_numpy(), coverage, [
            (op, t) for t in techs])["best_dbm"].to_numpy() for op in operators},
            index=villages.index)
        disputes = dispute_table(out, ev, shares.passing, signal,
                                 min_rsrp_dbm=coverage.min_rsrp_dbm,
                                 min_tests=cfg.evidence.min_tests)
        speeds = speed_table(inputs.measurements, inputs.communes, technologies=techs,
                             province_code=cfg.run.name, province_name=cfg.display_name,
                             targets={"mbb_download_mbps": cfg.targets.mbb_download_mbps,
                                      "fixed_download_mbps": cfg.targets.fixed_download_mbps})
        indicators = _with_speeds(indicators, speeds)
    return Analysis(villages=village_gdf, communes=communes, indicators=indicators,
                    gaps=_gap_table(out[gap]), locations=locations,
                    operator_covered=shares.passing, usp_priority=priority,
                    places=places, disputes=disputes, speeds=speeds, warnings=notes)


def _model_error_db(coverage: Coverage) -> float | None:
    """Return the model's error for the confidence rule: the median cross-validated RMSE."""
    cal = coverage.calibration
    if cal is None or cal.empty or cal["cv_rmse_db"].isna().all():
        return None
    return float(cal["cv_rmse_db"].median())


def _with_speeds(indicators: pd.DataFrame, speeds: pd.DataFrame) -> pd.DataFrame:
    """Add the measured speeds of every operator together to the indicator table.

    ``numerator`` holds the number of tests; the rows' source is "measured".
    """
    every = speeds[speeds["operator"] == ""]
    if every.empty:
        return indicators
    rows = pd.DataFrame({
        "level": every["level"], "code": every["code"], "name": every["name"],
        "indicator": every["indicator"], "value": every["value"].astype(float),
        "target": every["target"], "met": every["met"], "numerator": every["n"],
        "denominator": np.nan, "unit": "Mb/s", "source": "measured", "kind": pd.NA})
    out = pd.concat([indicators, rows.astype({"kind": "string"})], ignore_index=True)
    out["met"] = out["met"].astype("boolean")
    return out


def _village_shares(inputs: Inputs, coverage: Coverage, rules: RulesConfig,
                    techs: list[str], operators: list[str],
                    metric: gpd.GeoSeries | None = None) -> _Shares:
    """Return each operator's covered share of each village and the verdicts on them.

    ``metric`` is the villages' geometry in the run's metric CRS when the caller has it.
    """
    villages = inputs.villages
    if metric is None:
        metric = villages.geometry.to_crs(inputs.metric_crs)
    projected = gpd.GeoDataFrame(villages.drop(columns=villages.geometry.name),
                                 geometry=metric, crs=metric.crs)
    # per operator: its own counted technologies together; and every operator together
    # (the union), which is how people experience coverage
    layers = {op: [(op, t) for t in techs] for op in operators}
    legacy = [(op, t) for op in operators for t in TECHNOLOGIES if t not in techs]
    if operators:
        layers[ANY_SHARE] = [(op, t) for op in operators for t in techs]
    if legacy:
        layers[_LEGACY_SHARE] = legacy
    shares = coverage_shares(projected, coverage, layers=layers,
                             population=inputs.population,
                             point_radius_m=rules.village_point_radius_m)
    zero = pd.Series(0.0, index=villages.index)
    table = shares[operators] if operators else pd.DataFrame(index=villages.index)
    best = table.max(axis=1).fillna(0.0) if operators else zero
    any_share = shares[ANY_SHARE].fillna(0.0) if operators else zero
    mbb_share = any_share if rules.coverage_basis == "any_operator" else best
    legacy_share = shares[_LEGACY_SHARE].fillna(0.0) if legacy else zero
    return _Shares(table=table, basis=shares["basis"], mbb_share=mbb_share,
                   any_share=any_share, passing=table.ge(rules.village_covered_share),
                   legacy_share=legacy_share)


def _spec_columns(inputs: Inputs, points: gpd.GeoSeries, shares: _Shares,
                  fibre: pd.DataFrame, rules: RulesConfig, legal: LegalConfig,
                  measured: pd.Series | None = None,
                  ) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Return the SPEC columns of the village table, the USP priority and the USP parts.

    The verdicts are written here, once: ``mbb_covered``, ``ftth``, ``lom_song``,
    ``usp_mobile``, ``usp_fibre`` and ``usp_eligible``.  ``measured`` (the villages'
    measured verdicts, NA where the tests do not decide) is given when ``[evidence]
    measurements_decide`` is true: ``mbb_covered`` then follows it where it is known.
    """
    villages = inputs.villages
    op_lists = _operator_lists(shares.passing[list(shares.table.columns)])
    lon, lat = project_xy(points.to_numpy(), points.crs, WGS84)
    out = pd.DataFrame(index=villages.index)
    for col in ("village_id", "village_name", "commune_code", "population"):
        out[col] = villages[col]
    out["lon"] = pd.Series(lon, index=villages.index).round(6)
    out["lat"] = pd.Series(lat, index=villages.index).round(6)
    out["mbb_share"] = shares.mbb_share.clip(0, 1)
    out["mbb_covered"] = out["mbb_share"] >= rules.village_covered_share
    if measured is not None:
        known = measured.notna()
        out.loc[known, "mbb_covered"] = measured[known].astype(bool)
    out["operators"] = op_lists
    out["fibre_distance_m"] = fibre["fibre_distance_m"].round(1)
    if inputs.fibre is not None:
        out["ftth"] = (fibre["fibre_distance_m"] <= rules.ftth_max_distance_m).astype("boolean")
    else:
        out["ftth"] = pd.Series(pd.NA, index=villages.index, dtype="boolean")
    out["lom_song"] = ~out["mbb_covered"]
    classes = village_classes(villages, inputs.communes)
    out["region"] = classes.region
    out["difficult"] = classes.difficult
    mobile, fibre_rule = rules.usp_rule("mobile"), rules.usp_rule("fibre")
    cites = {"regions_decision": legal.cite("regions"),
             "difficult_decision": legal.cite("difficult")}
    usp = usp_parts(out["lom_song"], lacks_ftth(out["ftth"]), classes, mobile=mobile,
                    fibre=fibre_rule, decisions=cites)
    for col in ("usp_eligible", "usp_mobile", "usp_fibre"):
        out[col] = usp[col]
    priority = qualifies(classes, mobile, **cites)[0].rename("usp_priority")
    return out, priority, usp


def _operator_lists(passing: pd.DataFrame) -> pd.Series:
    """Return the ";"-joined operators whose own coverage passes, per village (string).

    Each village's set of operators is a bit pattern: the text is built once per
    pattern that occurs, not once per village.

    Examples
    --------
    >>> _operator_lists(pd.DataFrame({"A": [True, False, True], "B": [True, False, False]})
    ...                 ).tolist()
    ['A;B', '', 'A']
    """
    ops = list(passing.columns)
    flags = passing.to_numpy(dtype=bool, na_value=False)
    if len(ops) > 62:  # a bit pattern no longer fits: one operator at a time
        text = pd.Series("", index=passing.index)
        for op in ops:
            text = text.where(~passing[op].fillna(False).astype(bool), text + ";" + op)
        return text.str.lstrip(";").astype("string")
    pattern = flags.astype(np.int64) @ (np.int64(1) << np.arange(len(ops), dtype=np.int64))
    seen, where = np.unique(pattern, return_inverse=True)
    texts = np.array([(";" + ";".join(op for k, op in enumerate(ops) if p >> k & 1)
                       ).lstrip(";") for p in seen.tolist()], dtype=object)
    return pd.Series(pd.array(texts[where.ravel()], dtype="string"), index=passing.index)


def _own_columns(out: pd.DataFrame, inputs: Inputs, coverage: Coverage, shares: _Shares,
                 fibre: pd.DataFrame, pts: np.ndarray, techs: list[str],
                 operators: list[str]) -> pd.DataFrame:
    """Add covgap's own columns: names, status, shares, nearest site, signal diagnostics."""
    villages = inputs.villages
    out = out.copy()
    names = inputs.communes.set_index("commune_code")
    out["commune_name"] = villages["commune_code"].map(names["commune_name"])
    if "district" in names:
        out["district"] = villages["commune_code"].map(names["district"])
    out["households"] = villages["households"]
    out["status"] = np.where(out["mbb_covered"], "covered",
                             np.where(out["mbb_share"] > 0, "partial", "lom_song"))
    legacy_keys = [(op, t) for op in operators for t in TECHNOLOGIES if t not in techs]
    legacy_at_point = covered_at(pts, coverage, legacy_keys)
    out["signal_status"] = signal_status(
        out["mbb_covered"], shares.any_share,
        shares.legacy_share.gt(0) | legacy_at_point).astype("string")
    out["n_operators"] = shares.passing.sum(axis=1).astype(int) if operators else 0
    for op in operators:
        out[f"share_{op}"] = shares.table[op].round(4)
    out[ANY_SHARE] = shares.any_share.clip(0, 1).round(4)
    out["share_basis"] = shares.basis
    out = out.join(_nearest_sites(pts, coverage, techs))
    for col in fibre.columns:
        if col != "fibre_distance_m":
            out[col] = fibre[col].round(1) if col.endswith("_m") else fibre[col]
    mbb_keys = [(op, t) for op in operators for t in techs]
    diag = point_diagnostics(pts, coverage, mbb_keys).set_index(villages.index)
    out["best_signal_dbm"] = diag["best_dbm"].round(1)
    out["legacy_covered"] = legacy_at_point
    shadow_rows = diag["shadow_site_row"].to_numpy()
    has_shadow = shadow_rows >= 0
    out["shadow_site_id"] = pd.Series(pd.NA, index=villages.index, dtype="string")
    out.loc[has_shadow, "shadow_site_id"] = (
        coverage.cells["site_id"].to_numpy()[shadow_rows[has_shadow]])
    out["shadow_operator"] = diag["shadow_operator"].to_numpy()
    out["shadow_dbm"] = diag["shadow_dbm"].round(1).to_numpy()
    return out


def signal_status(mbb_covered: pd.Series, broadband_share: pd.Series,
                  legacy: pd.Series) -> pd.Series:
    """Return each village's signal state, as provincial reports count them.

    Parameters
    ----------
    mbb_covered : Series of bool
        The village rule's verdict (``[rules] village_covered_share``).
    broadband_share : Series of float
        Share of the village covered by any operator's counted technologies (4G/5G), 0-1.
    legacy : Series of bool
        Some uncounted technology (2G/3G) reaches the village.

    Returns
    -------
    Series of str
        ``"covered"``; ``"partial"``: some 4G/5G, below the rule; ``"no_broadband"``:
        2G/3G only; ``"no_signal"``: nothing (:data:`SIGNAL_STATUSES`).

    Examples
    --------
    >>> signal_status(pd.Series([True, False, False, False]),
    ...               pd.Series([1.0, 0.5, 0.0, 0.0]),
    ...               pd.Series([False, False, True, False])).tolist()
    ['covered', 'partial', 'no_broadband', 'no_signal']
    """
    covered = mbb_covered.fillna(False).astype(bool).to_numpy()
    some = broadband_share.fillna(0.0).to_numpy(float) > 0
    old = legacy.fillna(False).astype(bool).to_numpy()
    state = np.where(covered, "covered", np.where(
        some, "partial", np.where(old, "no_broadband", "no_signal")))
    return pd.Series(state, index=mbb_covered.index)


def _reasons(out: pd.DataFrame, gap: pd.Series, basis: pd.Series, coverage: Coverage,
             rules: RulesConfig, tech_label: str) -> pd.Series:
    """Return why each gap village has its gap ("" for the others)."""
    reason = pd.Series("", index=out.index, dtype="string")
    if gap.any():
        basis_word = basis.map({"population": "people", "area": "area",
                                "point": "village point"})
        # reasons() reads the strongest signal as best_dbm (point_diagnostics' name)
        reason.loc[gap] = reasons(
            out[gap].rename(columns={"best_signal_dbm": "best_dbm"}),
            threshold_share=rules.village_covered_share,
            min_dbm=coverage.min_rsrp_dbm, tech_label=tech_label,
            basis_word=basis_word[gap])
    return reason


def _communes_and_indicators(out: pd.DataFrame, inputs: Inputs, coverage: Coverage,
                             cfg: Config, operators: list[str], places: pd.DataFrame | None,
                             notes: list[str]
                             ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame]:
    """Return the commune table, the indicators and the site locations (EPSG:4326)."""
    metric = inputs.metric_crs
    locations = site_locations(inputs.sites, metric, tolerance_m=cfg.rules.site_sharing_m)
    centre_5g = _centre_5g(inputs, coverage, operators, notes)
    commune_rows = commune_table(out, inputs.communes.to_crs(metric), locations, centre_5g)
    for col in [c for c in inputs.communes.columns
                if c not in commune_rows.columns and c != "geometry"]:
        commune_rows[col] = inputs.communes[col].to_numpy()  # e.g. province: to the outputs
    t = cfg.targets
    targets = {k: getattr(t, k) for k in INDICATORS} | dict(t.reported)
    commune_targets = {code: dict(v) for code, v in t.communes.items()}
    if t.communes_file is not None:
        for code, v in read_commune_targets(t.communes_file).items():
            commune_targets.setdefault(code, {}).update(v)
    indicators = indicator_table(
        out, commune_rows, province_code=cfg.run.name, province_name=cfg.display_name,
        targets=targets, reported=cfg.reported, commune_targets=commune_targets,
        places=None if places is None else place_figures(places),
        place_targets={"places_5g_pct": t.places_5g_pct,
                       "places_fibre_pct": t.places_fibre_pct},
        district_rows=cfg.output.district_rows)
    commune_gdf = gpd.GeoDataFrame(commune_rows, geometry=inputs.communes.geometry,
                                   crs=inputs.communes.crs)
    return commune_gdf, indicators, locations.to_crs(WGS84)


#: What the warning says when commune centres are missing.
CENTRE_HINT = ("give [inputs] places with kind = \"commune_centre\" points (the UBND), or "
               "centre_lon/centre_lat columns on the communes; covgap never guesses a centre")


def _centre_5g(inputs: Inputs, coverage: Coverage, operators: list[str],
               notes: list[str]) -> pd.Series:
    """Whether each commune's known centre has 5G (NA where the centre is not known)."""
    centres, _source = commune_centres(inputs.communes, inputs.places, inputs.metric_crs)
    known = centres.notna() & ~centres.is_empty
    out = pd.Series(pd.NA, index=inputs.communes.index, dtype="boolean")
    if known.any():
        out[known] = covered_at(centres[known].to_numpy(), coverage,
                                [(op, "5G") for op in operators])
    missing = int((~known).sum())
    if missing:
        text = (f"commune_centres_5g_pct: no commune centre is known, so the indicator is "
                f"empty; {CENTRE_HINT}" if not known.any() else
                f"commune_centres_5g_pct counts the {int(known.sum())} communes whose centre "
                f"is known; {missing} commune(s) have none (e.g. "
                f"{inputs.communes.loc[~known, 'commune_code'].iloc[0]}): {CENTRE_HINT}")
        notes.append(text)
        warnings.warn(text, CovgapWarning, stacklevel=3)
    return out


def _nearest_sites(points: np.ndarray, coverage: Coverage, techs: list[str]) -> pd.DataFrame:
    """Return the nearest site of a counted technology to each village point.

    Sites are searched by location (distinct cell coordinates), not cell by cell: a
    location's several sectors are one candidate.  Where cells of several sites share a
    location, the first of them in the cell table names it.
    """
    cells = coverage.cells
    mbb = cells[cells["technology"].isin(techs)]
    n = len(points)
    site = np.full(n, None, dtype=object)
    operator = np.full(n, None, dtype=object)
    metres = np.full(n, np.nan)
    px, py = shapely.get_x(points), shapely.get_y(points)
    which = np.flatnonzero(np.isfinite(px) & np.isfinite(py))
    if not mbb.empty and len(which):
        # the first cell at each location
        where, first, _ = site_positions(mbb["x"].to_numpy(float), mbb["y"].to_numpy(float))
        dist, loc = cKDTree(where).query(np.column_stack([px[which], py[which]]),
                                         workers=-1)
        cell = first[loc]
        site[which] = mbb["site_id"].to_numpy()[cell]
        operator[which] = mbb["operator"].to_numpy()[cell]
        metres[which] = np.round(dist, 1)
    return pd.DataFrame({"nearest_site_id": pd.array(site, dtype="string"),
                         "nearest_site_operator": pd.array(operator, dtype="string"),
                         "nearest_site_m": metres})


def _best_operator(table: pd.DataFrame, operators: list[str]) -> pd.Series:
    """Return the operator best placed to close each mobile gap.

    The operator with the largest share where someone covers part of the village, else
    the one whose signal is hidden by terrain, else the strongest signal at the point,
    else the operator of the nearest counted site.
    """
    best = pd.Series(pd.NA, index=table.index, dtype="string")
    if operators:
        shares = table[[f"share_{op}" for op in operators]]
        top = shares.idxmax(axis=1).str.removeprefix("share_")
        best = best.where(~(shares.max(axis=1) > 0), top)
    for col in ("shadow_operator", "nearest_site_operator"):
        best = best.fillna(table[col].astype("string"))
    return best.where(table["lom_song"], pd.NA)


def _is_str(values: pd.Series) -> pd.Series:
    """Whether each value is a ``str`` (not NA, None or NaN).

    A string column holds only text and NA, so there it is ``notna``; other columns are
    looked at value by value.
    """
    if isinstance(values.dtype, pd.StringDtype):
        return values.notna().astype(bool)
    return pd.Series([isinstance(v, str) for v in values], index=values.index, dtype=bool)


def _objects(values: pd.Series) -> np.ndarray:
    """Return a column as an array of Python objects (zipping a Series is slow)."""
    return values.to_numpy(dtype=object)


def _gap_table(gaps: pd.DataFrame) -> pd.DataFrame:
    """Return the gaps, highest priority first, with the suggested fix."""
    table = gaps.copy()
    no_ftth = lacks_ftth(table["ftth"])
    table["gap"] = np.where(table["lom_song"] & no_ftth, "mobile+fibre",
                            np.where(table["lom_song"], "mobile", "fibre"))

    # the fix of each gap, column-wise: a sentence per kind of gap, built for its rows
    n = len(table)
    mobile_text = np.full(n, "", dtype=object)
    best = table["best_operator"]
    m = (table["lom_song"].astype(bool) & _is_str(best)).to_numpy()
    near_id = table["nearest_site_id"]
    has_near = _is_str(near_id).to_numpy()
    near = np.full(n, "", dtype=object)
    k = m & has_near
    near[k] = [f" (nearest site {a} of {b}, {c / 1000:.1f} km)" for a, b, c in zip(
        _objects(near_id)[k], _objects(table["nearest_site_operator"])[k],
        _objects(table["nearest_site_m"])[k], strict=True)]
    mobile_text[m] = [f"{a}: new or shared site{b}" for a, b in zip(_objects(best)[m], near[m],
                                                                    strict=True)]
    fibre_text = np.full(n, "", dtype=object)
    m = ((table["gap"] != "mobile") & _is_str(table["fibre_operator"])).to_numpy()
    fid = table["fibre_id"]
    fid_text = np.where(_is_str(fid).to_numpy(), fid.astype(object), "")
    fibre_text[m] = [(f"{a}: extend fibre {b / 1000:.1f} km from {c} {d}").rstrip()
                     for a, b, c, d in zip(_objects(table["fibre_operator"])[m],
                                           _objects(table["fibre_distance_m"])[m],
                                           _objects(table["fibre_kind"])[m], fid_text[m],
                                           strict=True)]
    mobile = pd.Series(mobile_text, index=table.index, dtype="string")
    fibre = pd.Series(fibre_text, index=table.index, dtype="string")
    table["fix"] = (mobile + "; " + fibre).str.strip("; ")
    table["fix_mobile"] = mobile
    table["fix_fibre"] = fibre
    # the order from the four keys alone (pandas' sort, NA last), then one take of the
    # table: sorting the whole table, copied, moved all its columns twice
    keys = pd.DataFrame({"_usp": ~table["usp_eligible"],
                         "_status": table["status"].map(_STATUS_ORDER),
                         "_pop": -table["population"].fillna(0),
                         "village_id": table["village_id"]}).reset_index(drop=True)
    order = keys.sort_values(["_usp", "_status", "_pop", "village_id"],
                             kind="stable").index.to_numpy()
    table = table.take(order)
    table.insert(0, "priority", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)
