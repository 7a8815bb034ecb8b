"""The plan's indicators per commune, district and province (Quyết định 885/QĐ-BTTTT).

Each indicator is a ratio the ministry's guidance defines with a worked example; covgap
keeps the numerator and denominator beside the value so a figure can be checked:

- ``villages_mbb_pct``: villages covered by mobile broadband / all villages x 100
  (1,520 of 1,543 -> 98.5%).
- ``villages_ftth_pct``: villages with FTTH / all villages x 100 (2,400 of 2,500 -> 96%).
- ``bts_sharing_pct``: site locations used by two or more operators / all site
  locations x 100 (120 of 1,000 -> 12%); sites of different operators within
  ``[rules] site_sharing_m`` are one location.
- ``population_mbb_pct``: people covered (each village's population x its covered
  share) / all people x 100.
- ``commune_centres_5g_pct``: communes whose centre has 5G / all communes x 100.
- ``usp_villages``: villages eligible for the universal-service programme (a count;
  lower is better).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

__all__ = [
    "INDICATORS",
    "commune_table",
    "indicator_table",
    "percent",
    "site_locations",
]

#: Indicator id -> (unit, higher is better).
INDICATORS: dict[str, tuple[str, bool]] = {
    "villages_mbb_pct": ("%", True),
    "villages_ftth_pct": ("%", True),
    "bts_sharing_pct": ("%", True),
    "population_mbb_pct": ("%", True),
    "commune_centres_5g_pct": ("%", True),
    "usp_villages": ("count", False),
}


def percent(numerator: float, denominator: float) -> float:
    """Return ``numerator / denominator x 100`` to one decimal, NaN for an empty base.

    Examples
    --------
    >>> percent(1520, 1543)
    98.5
    >>> percent(120, 1000)
    12.0
    """
    if not denominator or np.isnan(denominator) or np.isnan(numerator):
        return float("nan")
    return round(100.0 * numerator / denominator, 1)


def site_locations(sites: gpd.GeoDataFrame, metric_crs: CRS, *, tolerance_m: float
                   ) -> gpd.GeoDataFrame:
    """Group sites into locations: sites within ``tolerance_m`` of each other are one.

    Parameters
    ----------
    sites : GeoDataFrame
        Checked sites, one row per cell, any CRS.
    metric_crs : pyproj.CRS
    tolerance_m : float
        Sites closer than this (chains included: A-B and B-C make one location) count
        as one location, metres.

    Returns
    -------
    GeoDataFrame
        One row per location in ``metric_crs`` (the centroid of its sites):
        ``location_id``, ``site_ids`` and ``operators`` (";"-separated),
        ``n_operators`` and ``shared`` (used by two or more operators).
    """
    per_site = sites.to_crs(metric_crs)
    per_site = per_site.assign(x=per_site.geometry.x, y=per_site.geometry.y)
    per_site = per_site.groupby(["site_id", "operator"], as_index=False, sort=True).agg(
        x=("x", "mean"), y=("y", "mean"))
    pts = shapely.points(per_site["x"].to_numpy(), per_site["y"].to_numpy())
    label = np.arange(len(pts))
    if len(pts) and tolerance_m > 0:
        tree = shapely.STRtree(pts)
        a, b = tree.query(pts, predicate="dwithin", distance=tolerance_m)
        # connected components by label propagation: each pass takes the smallest label
        # of a neighbour; a chain of n sites settles in n passes, real ones in a few
        while True:
            new = label.copy()
            np.minimum.at(new, a, label[b])
            new = new[new]  # pointer jumping halves the passes
            if np.array_equal(new, label):
                break
            label = new
    per_site["location"] = label
    grouped = per_site.groupby("location", sort=True)
    locations = grouped.agg(x=("x", "mean"), y=("y", "mean"))
    locations["site_ids"] = grouped["site_id"].agg(lambda s: ";".join(sorted(set(s))))
    locations["operators"] = grouped["operator"].agg(lambda s: ";".join(sorted(set(s))))
    locations["n_operators"] = grouped["operator"].nunique()
    locations["shared"] = locations["n_operators"] >= 2
    locations = locations.reset_index(drop=True)
    locations.insert(0, "location_id", [f"L{i + 1:05d}" for i in range(len(locations))])
    return gpd.GeoDataFrame(locations.drop(columns=["x", "y"]),
                            geometry=gpd.points_from_xy(locations["x"], locations["y"]),
                            crs=metric_crs)


def _values(group: pd.DataFrame, *, locations: int, shared: int, centres: int,
            centres_5g: int, ftth_known: bool, population_known: bool
            ) -> dict[str, tuple[float, float, float]]:
    """(value, numerator, denominator) of every indicator for one group of villages."""
    n = len(group)
    covered = int(group["mbb_covered"].sum())
    out = {"villages_mbb_pct": (percent(covered, n), covered, n)}
    if ftth_known:
        ftth = int(group["ftth"].fillna(False).astype(bool).sum())
        out["villages_ftth_pct"] = (percent(ftth, n), ftth, n)
    else:
        out["villages_ftth_pct"] = (np.nan, np.nan, n)
    out["bts_sharing_pct"] = (percent(shared, locations), shared, locations)
    if population_known:
        pop = float(group["population"].sum())
        people = float((group["population"] * group["mbb_share"]).sum())
        out["population_mbb_pct"] = (percent(people, pop), round(people), round(pop))
    else:
        out["population_mbb_pct"] = (np.nan, np.nan, np.nan)
    out["commune_centres_5g_pct"] = (percent(centres_5g, centres), centres_5g, centres)
    usp = int(group["usp_eligible"].sum())
    out["usp_villages"] = (float(usp), usp, n)
    return out


def commune_table(villages: pd.DataFrame, communes: gpd.GeoDataFrame,
                  locations: gpd.GeoDataFrame, centre_5g: pd.Series) -> pd.DataFrame:
    """One row per commune with its counts and indicator values.

    Parameters
    ----------
    villages : DataFrame
        The village table (``commune_code``, ``mbb_covered``, ``mbb_share``, ``ftth``,
        ``population``, ``usp_eligible``).
    communes : GeoDataFrame
        Checked communes (``commune_code``, ``commune_name``, ``region``, optional
        ``district``), in the metric CRS of ``locations``.
    locations : GeoDataFrame
        Site locations (:func:`site_locations`).
    centre_5g : Series of bool
        Whether each commune's centre has 5G, indexed like ``communes``.

    Returns
    -------
    DataFrame
        ``commune_code, commune_name, district, region, villages, villages_mbb,
        villages_ftth, population, population_mbb, usp_villages, site_locations,
        shared_locations, centre_5g`` and one column per indicator id.
    """
    table = communes[["commune_code", "commune_name", "region"]].copy()
    table["district"] = communes["district"] if "district" in communes else pd.NA
    table["centre_5g"] = centre_5g.to_numpy(dtype=bool)
    loc_code = _locate(locations, communes)
    per_loc = pd.DataFrame({"commune_code": loc_code,
                            "shared": locations["shared"].to_numpy()})
    loc_counts = per_loc.groupby("commune_code")["shared"].agg(["size", "sum"])
    table["site_locations"] = table["commune_code"].map(loc_counts["size"]).fillna(0)
    table["shared_locations"] = table["commune_code"].map(loc_counts["sum"]).fillna(0)
    table[["site_locations", "shared_locations"]] = table[
        ["site_locations", "shared_locations"]].astype(int)
    ftth_known = villages["ftth"].notna().any()
    pop_known = villages["population"].notna().any()
    rows = []
    groups = villages.groupby("commune_code", sort=False)
    for _, c in table.iterrows():
        group = (groups.get_group(c["commune_code"]) if c["commune_code"] in groups.groups
                 else villages.iloc[0:0])
        values = _values(group, locations=c["site_locations"], shared=c["shared_locations"],
                         centres=1, centres_5g=int(c["centre_5g"]), ftth_known=ftth_known,
                         population_known=pop_known)
        rows.append({
            "villages": len(group),
            "villages_mbb": int(group["mbb_covered"].sum()),
            "villages_ftth": int(group["ftth"].fillna(False).astype(bool).sum())
            if ftth_known else pd.NA,
            "population": float(group["population"].sum()) if pop_known else np.nan,
            "population_mbb": round(float((group["population"] * group["mbb_share"]).sum()))
            if pop_known else np.nan,
            "usp_villages": int(group["usp_eligible"].sum()),
            **{k: v[0] for k, v in values.items() if k != "usp_villages"},
        })
    extra = pd.DataFrame(rows, index=table.index)
    return pd.concat([table, extra], axis=1)


def _locate(points: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> np.ndarray:
    """commune_code of the commune holding each point (None outside every commune)."""
    out = np.full(len(points), None, dtype=object)
    if len(points) == 0:
        return out
    src, tgt = communes.sindex.query(points.geometry.to_numpy(), predicate="intersects")
    first = pd.Series(tgt, index=src).groupby(level=0).first()
    out[first.index.to_numpy()] = communes["commune_code"].to_numpy()[first.to_numpy()]
    return out


def indicator_table(villages: pd.DataFrame, commune_rows: pd.DataFrame, *,
                    province_code: str, province_name: str, targets: dict[str, float | None],
                    reported: dict[str, float] | None = None) -> pd.DataFrame:
    """Return the indicators of the province, districts and communes against targets.

    Parameters
    ----------
    villages : DataFrame
        The village table.
    commune_rows : DataFrame
        :func:`commune_table`.
    province_code, province_name : str
        How the province rows are labelled.
    targets : dict
        Indicator id -> target (None: no target).
    reported : dict, optional
        Operator-reported statistics, added as province rows with source "supplied".

    Returns
    -------
    DataFrame
        ``level, code, name, indicator, value, target, met, numerator, denominator,
        unit, source``.  ``met`` is value >= target (<= for ``usp_villages``), NA
        without a target or a value.
    """
    ftth_known = villages["ftth"].notna().any()
    pop_known = villages["population"].notna().any()
    rows: list[dict] = []

    def add(level: str, code: str, name: str, values: dict) -> None:
        for ind, (value, num, den) in values.items():
            unit, higher = INDICATORS[ind]
            target = targets.get(ind)
            met = pd.NA
            if target is not None and not np.isnan(value):
                met = bool(value >= target) if higher else bool(value <= target)
            rows.append({"level": level, "code": code, "name": name, "indicator": ind,
                         "value": value, "target": target, "met": met, "numerator": num,
                         "denominator": den, "unit": unit, "source": "map"})

    def totals(part: pd.DataFrame, group: pd.DataFrame) -> dict:
        return _values(group, locations=int(part["site_locations"].sum()),
                       shared=int(part["shared_locations"].sum()), centres=len(part),
                       centres_5g=int(part["centre_5g"].sum()), ftth_known=ftth_known,
                       population_known=pop_known)

    add("province", province_code, province_name, totals(commune_rows, villages))
    if commune_rows["district"].notna().any():
        code_to_district = commune_rows.set_index("commune_code")["district"]
        village_district = villages["commune_code"].map(code_to_district)
        for district, part in commune_rows.groupby("district", sort=True):
            add("district", str(district), str(district),
                totals(part, villages[village_district == district]))
    for _, c in commune_rows.iterrows():
        group = villages[villages["commune_code"] == c["commune_code"]]
        add("commune", c["commune_code"], c["commune_name"], totals(c.to_frame().T, group))
    for ind, value in (reported or {}).items():
        rows.append({"level": "province", "code": province_code, "name": province_name,
                     "indicator": ind, "value": float(value), "target": targets.get(ind),
                     "met": pd.NA, "numerator": np.nan, "denominator": np.nan,
                     "unit": "", "source": "supplied"})
    table = pd.DataFrame(rows)
    table["met"] = table["met"].astype("boolean")
    return table
