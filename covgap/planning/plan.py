"""Planning: where the next towers and cables should go, and where only satellite will do.

:func:`plan` proposes candidate sites (sharing existing towers preferred at equal
benefit, new sites on a grid and on high ground), chooses up to ``max_sites`` (or within
a budget) maximising the newly covered population with extra weight for region-III and
ĐBKK villages, prices a fibre extension for every village without FTTH, and lists the
villages whose cheapest terrestrial option costs too much per person (or that no
candidate reaches) as satellite candidates, as the 2024 Thanh Hóa plan asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from covgap.analysis import Analysis
from covgap.analysis.fibre import lacks_ftth, village_points
from covgap.config import Config, load_config
from covgap.coverage import Coverage
from covgap.io import WGS84, Inputs
from covgap.planning.candidates import candidate_cover, generate_candidates
from covgap.planning.roads import road_distances
from covgap.planning.select import Selection, select_sites

__all__ = ["CANDIDATE_COLUMNS", "Plan", "has_site_prices", "plan"]

#: The candidates.csv columns of SPEC.md, in order; covgap adds more after them.
CANDIDATE_COLUMNS = ("rank", "lon", "lat", "kind", "host_site_id", "operator",
                     "population_gained", "villages", "cumulative_population")


@dataclass
class Plan:
    """What a run proposes.

    Attributes
    ----------
    candidates : GeoDataFrame
        The chosen sites in rank order (EPSG:4326): the SPEC columns, then ``cost``,
        ``cumulative_cost``, ``usp_villages``, ``source``, ``candidate_id``.
    villages : DataFrame
        Per gap village (indexed like the village table): ``candidate_rank`` (the chosen
        candidate that would cover it), ``fibre_extension_m`` (straight line),
        ``fibre_extension_road_m`` (along the roads, when a road layer is given),
        ``fibre_extension_basis``, ``fibre_extension_cost`` (along the roads where they
        connect, else the straight line), ``terrestrial_cost_per_person``, ``satellite``.
    selections : dict
        Operator (or "all") -> the :class:`Selection` with its mode, objective and,
        in exact mode, greedy's optimality gap.
    considered : int
        How many candidate positions were assessed.
    """

    candidates: gpd.GeoDataFrame
    villages: pd.DataFrame
    selections: dict[str, Selection]
    considered: int


def plan(inputs: Inputs, coverage: Coverage, analysis: Analysis,
         config: Config | dict | str) -> Plan:
    """Propose candidate sites, fibre extensions and satellite villages.

    Parameters
    ----------
    inputs : Inputs
    coverage : Coverage
        The run's coverage: candidates are judged by the same model.
    analysis : Analysis
        Its verdicts say who is not covered (``mbb_covered``, or per operator
        ``operator_covered``), who lacks FTTH (``ftth``) and whom the USP programme
        favours (``usp_priority``); planning applies no coverage rule of its own.
    config : Config, dict or path
        ``[candidates]``.

    Returns
    -------
    Plan
    """
    cfg = load_config(config)
    villages = analysis.villages
    points = village_points(inputs.villages, inputs.metric_crs)
    for verdict in (analysis.usp_priority, analysis.operator_covered):
        if not verdict.index.equals(villages.index):
            raise ValueError("the analysis carries no verdicts for its villages "
                             "(usp_priority, operator_covered); make it with analyse()")
    priority = analysis.usp_priority.to_numpy(bool)
    state = _State(rank_of_village=pd.Series(pd.NA, index=villages.index, dtype="Int64"),
                   cost_per_person=pd.Series(np.nan, index=villages.index))
    for name, (share, gap) in _demands(analysis, cfg.candidates.per_operator).items():
        _plan_one(name, share, gap, points=points, priority=priority, analysis=analysis,
                  coverage=coverage, cfg=cfg, state=state)
    roads = None
    if inputs.roads is not None and inputs.fibre is not None:
        no_ftth = lacks_ftth(villages["ftth"]).to_numpy()
        roads = road_distances(points[no_ftth], inputs.fibre, inputs.roads)
    return Plan(candidates=_candidate_frame(state.rows, inputs.metric_crs),
                villages=_village_plan(villages, state.rank_of_village,
                                       state.cost_per_person, cfg, roads=roads),
                selections=state.selections, considered=state.considered)


@dataclass
class _State:
    """What the plans add up as they are made, one per operator (or one for all)."""

    rank_of_village: pd.Series
    cost_per_person: pd.Series
    rows: list[dict] = field(default_factory=list)
    selections: dict[str, Selection] = field(default_factory=dict)
    considered: int = 0


def _demands(analysis: Analysis, per_operator: bool
             ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return, per plan, each village's covered share and the analysis' gap verdict.

    One plan for all operators (the villages that are not ``mbb_covered``), or with
    ``per_operator`` one per operator (the villages that operator does not cover).
    """
    villages = analysis.villages
    if not per_operator:
        return {"all": (villages["mbb_share"].to_numpy(float),
                        ~villages["mbb_covered"].to_numpy(bool))}
    covered = analysis.operator_covered
    return {op: (villages[f"share_{op}"].fillna(0).to_numpy(),
                 ~covered[op].to_numpy(bool))
            for op in covered.columns if f"share_{op}" in villages}


def _plan_one(name: str, share: np.ndarray, gap: np.ndarray, *, points: gpd.GeoSeries,
              priority: np.ndarray, analysis: Analysis, coverage: Coverage, cfg: Config,
              state: _State) -> None:
    """Choose the sites of one plan ("all" or an operator) and add them to ``state``."""
    cc = cfg.candidates
    pop = analysis.villages["population"].fillna(0.0).to_numpy(float)
    demand_idx = np.flatnonzero(gap)
    demand = gpd.GeoDataFrame(geometry=points.iloc[demand_idx].to_numpy(), crs=points.crs)
    uncovered = pop[demand_idx] * (1.0 - np.clip(share[demand_idx], 0, 1))
    weights = uncovered * np.where(priority[demand_idx], cc.priority_weight, 1.0)
    operator = None if name == "all" else name
    cands = generate_candidates(demand, coverage, cfg, operator=operator)
    state.considered += len(cands)
    if cands.empty or demand.empty:
        return
    indptr, indices = candidate_cover(cands, demand, coverage, cfg)
    priced = has_site_prices(cfg)
    # without unit prices, no money is invented: sites are ranked by the people they
    # newly cover, and a zero "cost" only tells which villages some candidate reaches
    costs = (np.where(cands["kind"] == "share", cc.cost_shared_site, cc.cost_new_site)
             .astype(float) if priced else np.zeros(len(cands)))
    sel = select_sites(indptr, indices, weights, max_sites=cc.max_sites,
                       costs=costs if priced else None, budget=cc.budget,
                       preference=(cands["kind"] == "share").to_numpy(float),
                       mode=cc.mode, time_limit_s=cc.time_limit_s)
    state.selections[name] = sel
    _cheapest_per_person(indptr, indices, costs, uncovered, demand_idx,
                         state.cost_per_person)
    covered = np.zeros(len(demand_idx), dtype=bool)
    cumulative = cumulative_cost = 0.0
    for rank, i in enumerate(sel.chosen, start=1):
        mine = indices[indptr[i]:indptr[i + 1]]
        new = mine[~covered[mine]]
        covered[new] = True
        gained = float(uncovered[new].sum())
        cumulative += gained
        cumulative_cost += float(costs[i])
        c = cands.iloc[i]
        rows_new = demand_idx[new]
        state.rank_of_village.iloc[rows_new] = rank
        state.rows.append({
            "rank": rank, "x": c["x"], "y": c["y"], "kind": c["kind"],
            "host_site_id": c["host_site_id"],
            "operator": operator if operator else (
                c["host_operator"] if c["kind"] == "share" else pd.NA),
            "population_gained": round(gained), "villages": len(new),
            "cumulative_population": round(cumulative),
            "cost": float(costs[i]) if priced else np.nan,
            "cumulative_cost": cumulative_cost if priced else np.nan,
            "usp_villages": int(priority[rows_new].sum()), "source": c["source"],
            "candidate_id": c["candidate_id"], "plan": name})


def _candidate_frame(rows: list[dict], metric: CRS) -> gpd.GeoDataFrame:
    """Return the chosen sites as the candidates table, in EPSG:4326."""
    table = pd.DataFrame(rows, columns=[
        "rank", "x", "y", "kind", "host_site_id", "operator", "population_gained",
        "villages", "cumulative_population", "cost", "cumulative_cost", "usp_villages",
        "source", "candidate_id", "plan"])
    geo = gpd.GeoSeries(gpd.points_from_xy(table["x"], table["y"]), crs=metric).to_crs(WGS84)
    table.insert(1, "lon", geo.x.round(6).to_numpy())
    table.insert(2, "lat", geo.y.round(6).to_numpy())
    return gpd.GeoDataFrame(table.drop(columns=["x", "y"]), geometry=geo.to_numpy(),
                            crs=WGS84)


def has_site_prices(config: Config) -> bool:
    """Whether the configuration gives site unit prices (``[candidates] cost_*``).

    Without them covgap shows no site cost and ranks candidates by people gained.

    Examples
    --------
    >>> from covgap.config import load_config
    >>> has_site_prices(load_config({"inputs": {"communes": "c", "villages": "v",
    ...                                         "sites": "s"}}))
    False
    """
    cc = config.candidates
    return cc.cost_new_site is not None and cc.cost_shared_site is not None


def _cheapest_per_person(indptr: np.ndarray, indices: np.ndarray, costs: np.ndarray,
                         uncovered: np.ndarray, demand_idx: np.ndarray,
                         out: pd.Series) -> None:
    """For each demand village, the lowest cost per person of a candidate reaching it."""
    counts = np.diff(indptr)
    owner = np.repeat(np.arange(len(counts)), counts)
    served = np.bincount(owner, weights=uncovered[indices], minlength=len(counts))
    per_person = np.where(served > 0, costs / np.maximum(served, 1e-9), np.inf)
    best = np.full(len(demand_idx), np.inf)
    np.minimum.at(best, indices, per_person[owner])
    current = out.iloc[demand_idx].to_numpy(float)
    out.iloc[demand_idx] = np.fmin(np.where(np.isfinite(best), best, np.nan), current)


def _village_plan(villages: pd.DataFrame, rank: pd.Series, cost_per_person: pd.Series,
                  cfg: Config, *, roads: pd.DataFrame | None = None) -> pd.DataFrame:
    cc = cfg.candidates
    out = pd.DataFrame(index=villages.index)
    out["candidate_rank"] = rank
    no_ftth = lacks_ftth(villages["ftth"]).to_numpy()
    ext = villages["fibre_distance_m"].where(no_ftth)
    out["fibre_extension_m"] = ext.round(0)
    out["fibre_extension_basis"] = pd.Series(
        np.where(no_ftth, "straight line", None), index=villages.index, dtype="string")
    if roads is not None:
        along = roads["road_distance_m"].reindex(villages.index)
        out["fibre_extension_road_m"] = along.round(0)
        # the cable follows the roads where they connect the village to the fibre
        use = along.notna()
        ext = ext.where(~use, along)
        out.loc[use, "fibre_extension_basis"] = "roads"
    per_km = np.nan if cc.fibre_cost_per_km is None else cc.fibre_cost_per_km
    out["fibre_extension_cost"] = (ext / 1000.0 * per_km).round(1)
    pop = villages["population"].where(villages["population"] > 0)
    fibre_pp = out["fibre_extension_cost"] / pop
    # without site prices cost_per_person is 0 where a candidate reaches: not a cost
    out["terrestrial_cost_per_person"] = (cost_per_person.round(3) if has_site_prices(cfg)
                                          else np.nan)
    mobile_gap = villages["lom_song"].to_numpy(bool)
    too_dear = ~(cost_per_person <= cc.satellite_cost_per_person)  # NaN: nothing reaches
    fibre_dear = (fibre_pp > cc.satellite_cost_per_person).fillna(False)
    out["satellite"] = (mobile_gap & too_dear) | (~mobile_gap & no_ftth & fibre_dear)
    return out
