"""Planning: where the next towers and cables should go, and where only satellite will do.

:func:`plan` proposes candidate sites (sharing existing towers preferred at equal
benefit, new sites on a grid and on high ground), chooses up to ``max_sites`` (or within
a budget) maximising the newly covered population with extra weight for region-III and
ĐBKK villages, prices a fibre extension for every village without FTTH, and lists the
villages whose cheapest terrestrial option costs too much per person (or that no
candidate reaches) as satellite candidates, as the 2024 Thanh Hóa plan asks.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from covgap.analysis import Analysis
from covgap.analysis.fibre import lacks_ftth, village_points
from covgap.config import Config, load_config
from covgap.coverage import Coverage
from covgap.io import WGS84, Inputs
from covgap.planning.candidates import candidate_cover, generate_candidates
from covgap.planning.roads import road_distances
from covgap.planning.select import Selection, select_sites

__all__ = ["CANDIDATE_COLUMNS", "Plan", "plan"]

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
        The village table says who is not covered.
    config : Config, dict or path
        ``[candidates]`` and ``[rules]``.

    Returns
    -------
    Plan
    """
    cfg = load_config(config)
    cc, rules = cfg.candidates, cfg.rules
    villages = analysis.villages
    metric = inputs.metric_crs
    points = village_points(inputs.villages, metric)
    pop = villages["population"].fillna(0.0).to_numpy(float)
    priority = (villages["region"].isin(rules.usp_regions).fillna(False).to_numpy(bool)
                | villages["difficult"].to_numpy(bool))
    boost = np.where(priority, cc.priority_weight, 1.0)

    if cc.per_operator:
        operators = sorted(set(inputs.sites["operator"]))
        plans = {op: villages[f"share_{op}"].fillna(0).to_numpy() for op in operators
                 if f"share_{op}" in villages}
    else:
        plans = {"all": villages["mbb_share"].to_numpy(float)}

    chosen_rows = []
    selections: dict[str, Selection] = {}
    rank_of_village = pd.Series(pd.NA, index=villages.index, dtype="Int64")
    cost_per_person = pd.Series(np.nan, index=villages.index)
    considered = 0
    for name, share in plans.items():
        gap = share < rules.village_covered_share
        demand_idx = np.flatnonzero(gap)
        demand = gpd.GeoDataFrame(geometry=points.iloc[demand_idx].to_numpy(), crs=metric)
        uncovered = pop[demand_idx] * (1.0 - np.clip(share[demand_idx], 0, 1))
        weights = uncovered * boost[demand_idx]
        operator = None if name == "all" else name
        cands = generate_candidates(demand, coverage, cfg, operator=operator)
        considered += len(cands)
        if cands.empty or demand.empty:
            continue
        indptr, indices = candidate_cover(cands, demand, coverage, cfg)
        costs = np.where(cands["kind"] == "share", cc.cost_shared_site, cc.cost_new_site)
        sel = select_sites(indptr, indices, weights, max_sites=cc.max_sites,
                           costs=costs, budget=cc.budget,
                           preference=(cands["kind"] == "share").to_numpy(float),
                           mode=cc.mode, time_limit_s=cc.time_limit_s)
        selections[name] = sel
        _cheapest_per_person(indptr, indices, costs, uncovered, demand_idx, cost_per_person)
        covered = np.zeros(len(demand_idx), dtype=bool)
        cumulative = 0.0
        cumulative_cost = 0.0
        for rank, i in enumerate(sel.chosen, start=1):
            mine = indices[indptr[i]:indptr[i + 1]]
            new = mine[~covered[mine]]
            covered[new] = True
            gained = float(uncovered[new].sum())
            cumulative += gained
            cumulative_cost += float(costs[i])
            c = cands.iloc[i]
            rows_new = demand_idx[new]
            rank_of_village.iloc[rows_new] = rank
            chosen_rows.append({
                "rank": rank, "x": c["x"], "y": c["y"], "kind": c["kind"],
                "host_site_id": c["host_site_id"],
                "operator": operator if operator else (
                    c["host_operator"] if c["kind"] == "share" else pd.NA),
                "population_gained": round(gained), "villages": len(new),
                "cumulative_population": round(cumulative), "cost": float(costs[i]),
                "cumulative_cost": cumulative_cost,
                "usp_villages": int(priority[rows_new].sum()), "source": c["source"],
                "candidate_id": c["candidate_id"], "plan": name})
    table = pd.DataFrame(chosen_rows, columns=[
        "rank", "x", "y", "kind", "host_site_id", "operator", "population_gained",
        "villages", "cumulative_population", "cost", "cumulative_cost", "usp_villages",
        "source", "candidate_id", "plan"])
    geo = gpd.GeoSeries(gpd.points_from_xy(table["x"], table["y"]), crs=metric).to_crs(WGS84)
    table.insert(1, "lon", geo.x.round(6).to_numpy())
    table.insert(2, "lat", geo.y.round(6).to_numpy())
    candidates = gpd.GeoDataFrame(table.drop(columns=["x", "y"]), geometry=geo.to_numpy(),
                                  crs=WGS84)
    roads = None
    if inputs.roads is not None and inputs.fibre is not None:
        no_ftth = lacks_ftth(villages["ftth"]).to_numpy()
        roads = road_distances(points[no_ftth], inputs.fibre, inputs.roads)
    return Plan(candidates=candidates,
                villages=_village_plan(villages, rank_of_village, cost_per_person, cfg,
                                       roads=roads),
                selections=selections, considered=considered)


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
    out["fibre_extension_cost"] = (ext / 1000.0 * cc.fibre_cost_per_km).round(1)
    pop = villages["population"].where(villages["population"] > 0)
    fibre_pp = out["fibre_extension_cost"] / pop
    out["terrestrial_cost_per_person"] = cost_per_person.round(3)
    mobile_gap = villages["lom_song"].to_numpy(bool)
    too_dear = ~(cost_per_person <= cc.satellite_cost_per_person)  # NaN: nothing reaches
    fibre_dear = (fibre_pp > cc.satellite_cost_per_person).fillna(False)
    out["satellite"] = (mobile_gap & too_dear) | (~mobile_gap & no_ftth & fibre_dear)
    return out
