"""Village by village: who is covered, who is not and why, and the plan's indicators.

:func:`analyse` turns checked inputs and a modelled :class:`~covgap.coverage.Coverage`
into the tables a province reports: the village table (``villages.csv``), the commune
table, the indicators against the plan's targets, and the gap list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from covgap.analysis.fibre import fibre_reach, lacks_ftth, village_points
from covgap.analysis.flags import covered_at, point_diagnostics, reasons
from covgap.analysis.indicators import (
    INDICATORS,
    commune_table,
    indicator_table,
    site_locations,
)
from covgap.analysis.shares import coverage_shares
from covgap.config import TECHNOLOGIES, Config, RulesConfig, load_config
from covgap.coverage import Coverage
from covgap.io import WGS84, Inputs

__all__ = ["VILLAGE_COLUMNS", "Analysis", "analyse"]

#: The village columns of SPEC.md, in order; covgap adds more after them.
VILLAGE_COLUMNS = (
    "village_id", "village_name", "commune_code", "population", "lon", "lat", "mbb_share",
    "mbb_covered", "operators", "fibre_distance_m", "ftth", "lom_song", "region",
    "difficult", "usp_eligible",
)

#: Gap order: programme-eligible first, then the worse gap, then the most people.
_STATUS_ORDER = {"lom_song": 0, "partial": 1, "covered": 2}

#: The gap columns a suggested fix reads.
_FIX_COLUMNS = ("lom_song", "best_operator", "nearest_site_id", "nearest_site_m", "gap",
                "fibre_operator", "fibre_distance_m", "fibre_kind", "fibre_id")


@dataclass
class Analysis:
    """The tables of one run, and the verdicts later stages read.

    Analysis owns the rules about villages: ``[rules] village_covered_share`` and
    ``usp_regions`` are applied here, once; planning and the exports read the verdicts
    below and never apply a threshold again.

    Attributes
    ----------
    villages : GeoDataFrame
        One row per village (EPSG:4326): the SPEC columns, then covgap's own.  Verdict
        columns: ``mbb_covered`` (and ``lom_song``, its negation), ``ftth``,
        ``usp_eligible``.
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
        Boolean, indexed like ``villages``: the village is in a ``[rules] usp_regions``
        region or is ĐBKK (``difficult``), whether or not it has a gap; the USP
        programme favours it.  ``usp_eligible`` is a gap and this.
    """

    villages: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    indicators: pd.DataFrame
    gaps: pd.DataFrame
    locations: gpd.GeoDataFrame
    operator_covered: pd.DataFrame = field(default_factory=pd.DataFrame)
    usp_priority: pd.Series = field(default_factory=lambda: pd.Series(dtype=bool))


@dataclass
class _Shares:
    """Each village's covered shares and the verdicts on them."""

    table: pd.DataFrame  # share per operator, 0-1
    basis: pd.Series  # "population", "area" or "point"
    mbb_share: pd.Series  # the best operator's share
    passing: pd.DataFrame  # per operator: share >= village_covered_share


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
    operators = sorted(set(inputs.sites["operator"]))
    villages = inputs.villages
    shares = _village_shares(inputs, coverage, cfg.rules, techs, operators)
    points = village_points(villages, inputs.metric_crs)
    fibre = fibre_reach(points, inputs.fibre)
    out, priority = _spec_columns(inputs, points, shares, fibre, cfg.rules)
    gap = out["lom_song"] | lacks_ftth(out["ftth"])
    out = _own_columns(out, inputs, coverage, shares, fibre, points.to_numpy(), techs,
                       operators)
    out["reason"] = _reasons(out, gap, shares.basis, coverage, cfg.rules, "/".join(techs))
    out["best_operator"] = _best_operator(out, operators)
    extra = [c for c in villages.columns if c not in out.columns and c != "geometry"]
    for col in extra:  # columns covgap does not know travel to the outputs
        out[col] = villages[col]
    village_gdf = gpd.GeoDataFrame(out, geometry=villages.geometry, crs=villages.crs)
    communes, indicators, locations = _communes_and_indicators(out, inputs, coverage, cfg,
                                                               operators)
    return Analysis(villages=village_gdf, communes=communes, indicators=indicators,
                    gaps=_gap_table(out[gap]), locations=locations,
                    operator_covered=shares.passing, usp_priority=priority)


def _village_shares(inputs: Inputs, coverage: Coverage, rules: RulesConfig,
                    techs: list[str], operators: list[str]) -> _Shares:
    """Return each operator's covered share of each village and the verdicts on them."""
    villages = inputs.villages
    # per operator: its own counted technologies together
    layers = {op: [(op, t) for t in techs] for op in operators}
    shares = coverage_shares(villages.to_crs(inputs.metric_crs), coverage, layers=layers,
                             population=inputs.population,
                             point_radius_m=rules.village_point_radius_m)
    table = shares[operators] if operators else pd.DataFrame(index=villages.index)
    mbb_share = table.max(axis=1).fillna(0.0) if operators else pd.Series(
        0.0, index=villages.index)
    return _Shares(table=table, basis=shares["basis"], mbb_share=mbb_share,
                   passing=table.ge(rules.village_covered_share))


def _spec_columns(inputs: Inputs, points: gpd.GeoSeries, shares: _Shares,
                  fibre: pd.DataFrame, rules: RulesConfig) -> tuple[pd.DataFrame, pd.Series]:
    """Return the SPEC columns of the village table, and the USP priority of each village.

    The verdicts are written here, once: ``mbb_covered``, ``ftth``, ``lom_song`` and
    ``usp_eligible``.
    """
    villages = inputs.villages
    op_lists = pd.Series("", index=villages.index)
    for op in shares.table.columns:  # a handful of operators: no per-village loop
        op_lists = op_lists.where(~shares.passing[op], op_lists + ";" + op)
    lonlat = points.to_crs(WGS84)
    out = pd.DataFrame(index=villages.index)
    for col in ("village_id", "village_name", "commune_code", "population"):
        out[col] = villages[col]
    out["lon"] = lonlat.x.round(6)
    out["lat"] = lonlat.y.round(6)
    out["mbb_share"] = shares.mbb_share.clip(0, 1)
    out["mbb_covered"] = out["mbb_share"] >= rules.village_covered_share
    out["operators"] = op_lists.str.lstrip(";").astype("string")
    out["fibre_distance_m"] = fibre["fibre_distance_m"].round(1)
    if inputs.fibre is not None:
        out["ftth"] = (fibre["fibre_distance_m"] <= rules.ftth_max_distance_m).astype("boolean")
    else:
        out["ftth"] = pd.Series(pd.NA, index=villages.index, dtype="boolean")
    out["lom_song"] = ~out["mbb_covered"]
    region = villages["commune_code"].map(
        inputs.communes.set_index("commune_code")["region"]).astype("string")
    out["region"] = region
    out["difficult"] = villages["difficult"].astype(bool)
    priority = (region.isin(rules.usp_regions).fillna(False).astype(bool)
                | out["difficult"]).rename("usp_priority")
    out["usp_eligible"] = (out["lom_song"] | lacks_ftth(out["ftth"])) & priority
    return out, priority


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
    out["n_operators"] = shares.passing.sum(axis=1).astype(int) if operators else 0
    for op in operators:
        out[f"share_{op}"] = shares.table[op].round(4)
    out["share_basis"] = shares.basis
    out = out.join(_nearest_sites(pts, coverage, techs))
    for col in fibre.columns:
        if col != "fibre_distance_m":
            out[col] = fibre[col].round(1) if col.endswith("_m") else fibre[col]
    mbb_keys = [(op, t) for op in operators for t in techs]
    legacy_keys = [(op, t) for op in operators for t in TECHNOLOGIES if t not in techs]
    diag = point_diagnostics(pts, coverage, mbb_keys).set_index(villages.index)
    out["best_signal_dbm"] = diag["best_dbm"].round(1)
    out["legacy_covered"] = covered_at(pts, coverage, legacy_keys)
    shadow_rows = diag["shadow_site_row"].to_numpy()
    has_shadow = shadow_rows >= 0
    out["shadow_site_id"] = pd.Series(pd.NA, index=villages.index, dtype="string")
    out.loc[has_shadow, "shadow_site_id"] = (
        coverage.cells["site_id"].to_numpy()[shadow_rows[has_shadow]])
    out["shadow_operator"] = diag["shadow_operator"].to_numpy()
    out["shadow_dbm"] = diag["shadow_dbm"].round(1).to_numpy()
    return out


def _reasons(out: pd.DataFrame, gap: pd.Series, basis: pd.Series, coverage: Coverage,
             rules: RulesConfig, tech_label: str) -> pd.Series:
    """Return why each gap village has its gap ("" for the others)."""
    reason = pd.Series("", index=out.index, dtype="string")
    if gap.any():
        basis_word = basis.map({"population": "people", "area": "area",
                                "point": "village point"})
        reason.loc[gap] = reasons(
            out[gap], threshold_share=rules.village_covered_share,
            min_dbm=coverage.min_rsrp_dbm, tech_label=tech_label,
            basis_word=basis_word[gap])
    return reason


def _communes_and_indicators(out: pd.DataFrame, inputs: Inputs, coverage: Coverage,
                             cfg: Config, operators: list[str]
                             ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame]:
    """Return the commune table, the indicators and the site locations (EPSG:4326)."""
    metric = inputs.metric_crs
    locations = site_locations(inputs.sites, metric, tolerance_m=cfg.rules.site_sharing_m)
    centre_5g = pd.Series(
        covered_at(_commune_centres(inputs.communes, metric), coverage,
                   [(op, "5G") for op in operators]), index=inputs.communes.index)
    commune_rows = commune_table(out, inputs.communes.to_crs(metric), locations, centre_5g)
    for col in [c for c in inputs.communes.columns
                if c not in commune_rows.columns and c != "geometry"]:
        commune_rows[col] = inputs.communes[col].to_numpy()  # e.g. province: to the outputs
    targets = {k: getattr(cfg.targets, k) for k in INDICATORS}
    indicators = indicator_table(out, commune_rows, province_code=cfg.run.name,
                                 province_name=cfg.display_name, targets=targets,
                                 reported=cfg.reported)
    commune_gdf = gpd.GeoDataFrame(commune_rows, geometry=inputs.communes.geometry,
                                   crs=inputs.communes.crs)
    return commune_gdf, indicators, locations.to_crs(WGS84)


def _commune_centres(communes: gpd.GeoDataFrame, metric: CRS) -> np.ndarray:
    """Each commune's centre: ``centre_lon``/``centre_lat`` if given, else a point inside."""
    pts = communes.geometry.representative_point()
    if "centre_lon" in communes and "centre_lat" in communes:
        lon = pd.to_numeric(communes["centre_lon"], errors="coerce")
        lat = pd.to_numeric(communes["centre_lat"], errors="coerce")
        given = lon.notna() & lat.notna()
        pts = pts.where(~given, gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=communes.crs,
                                              index=communes.index))
    return gpd.GeoSeries(pts, crs=communes.crs).to_crs(metric).to_numpy()


def _nearest_sites(points: np.ndarray, coverage: Coverage, techs: list[str]) -> pd.DataFrame:
    """Return the nearest cell of a counted technology to each village point."""
    cells = coverage.cells
    mbb = cells[cells["technology"].isin(techs)]
    out = pd.DataFrame({"nearest_site_id": pd.Series([pd.NA] * len(points), dtype="string"),
                        "nearest_site_operator": pd.Series([pd.NA] * len(points),
                                                           dtype="string"),
                        "nearest_site_m": np.full(len(points), np.nan)})
    if mbb.empty or len(points) == 0:
        return out
    site_pts = shapely.points(mbb["x"].to_numpy(), mbb["y"].to_numpy())
    tree = shapely.STRtree(site_pts)
    (which, cell), dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    out.loc[which, "nearest_site_id"] = mbb["site_id"].to_numpy()[cell]
    out.loc[which, "nearest_site_operator"] = mbb["operator"].to_numpy()[cell]
    out.loc[which, "nearest_site_m"] = np.round(dist, 1)
    return out


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


def _gap_table(gaps: pd.DataFrame) -> pd.DataFrame:
    """Return the gaps, highest priority first, with the suggested fix."""
    table = gaps.copy()
    no_ftth = lacks_ftth(table["ftth"])
    table["gap"] = np.where(table["lom_song"] & no_ftth, "mobile+fibre",
                            np.where(table["lom_song"], "mobile", "fibre"))

    def fix(v: dict) -> str:
        out = []
        if v["lom_song"] and isinstance(v["best_operator"], str):
            near = (f" (nearest site {v['nearest_site_id']}, {v['nearest_site_m'] / 1000:.1f} km)"
                    if isinstance(v["nearest_site_id"], str) else "")
            out.append(f"{v['best_operator']}: new or shared site{near}")
        if v["gap"] != "mobile" and isinstance(v["fibre_operator"], str):
            out.append(f"{v['fibre_operator']}: extend fibre "
                       f"{v['fibre_distance_m'] / 1000:.1f} km from {v['fibre_kind']} "
                       f"{v['fibre_id'] if isinstance(v['fibre_id'], str) else ''}".rstrip())
        return "; ".join(out)

    # one dict per gap of the columns a fix reads (iterrows costs ~50 us a row)
    fixes = [fix(v) for v in table[list(_FIX_COLUMNS)].to_dict("records")]
    table["fix"] = pd.Series(fixes, index=table.index, dtype="string")
    order = table.assign(
        _usp=~table["usp_eligible"], _status=table["status"].map(_STATUS_ORDER),
        _pop=-table["population"].fillna(0))
    order = order.sort_values(["_usp", "_status", "_pop", "village_id"], kind="stable")
    table = table.loc[order.index]
    table.insert(0, "priority", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)
