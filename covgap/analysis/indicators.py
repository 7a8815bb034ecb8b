"""The plan's indicators per commune, district and province (Quyết định 885/QĐ-BTTTT).

Each indicator is a ratio the ministry's guidance defines with a worked example; covgap
keeps the numerator and denominator beside the value so a figure can be checked:

- ``villages_mbb_pct``: villages covered by mobile broadband / all villages x 100
  (1,520 of 1,543 -> 98.5%).
- ``villages_ftth_pct``: villages with FTTH / all villages x 100 (2,400 of 2,500 -> 96%).
- ``bts_sharing_pct``: site locations used by two or more operators / all site
  locations x 100 (120 of 1,000 -> 12%).  A location is a tower: the sites layer's
  ``location_id`` (or ``tower_id``) where the register gives one, else sites within
  ``[rules] site_sharing_m`` of each other (0: identical coordinates).
- ``population_mbb_pct``: people covered (each village's population x its covered
  share) / all people x 100.
- ``commune_centres_5g_pct``: communes whose centre (UBND) has 5G / communes whose
  centre is known x 100.  A centre comes from the ``places`` layer or the communes'
  ``centre_lon``/``centre_lat``; it is never guessed.
- ``usp_mobile_villages``, ``usp_fibre_villages``: villages eligible for each part of
  the universal-service programme (counts; lower is better).
- ``places_5g_pct``, ``places_fibre_pct``: places of one kind with 5G / with fibre
  reach, one row per kind (``kind`` column).
- ``households_mbb_pct``, ``households_ftth_pct``: households in villages covered by
  mobile broadband (with FTTH reach) / all households x 100 (seed 001: fibre reaching
  80% of households; seed 003: every household able to get fibre on request).  Empty
  when the villages carry no ``households``.
- ``usp_villages``: villages eligible for the universal-service programme (a count;
  lower is better).
"""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from covgap.io.crs import project_xy

__all__ = [
    "ANY_SHARE",
    "INDICATORS",
    "PLACE_INDICATORS",
    "commune_table",
    "exact_percent",
    "indicator_table",
    "meets",
    "percent",
    "register_location_ids",
    "round_half_up",
    "shown_percent",
    "site_locations",
]

#: Indicator id -> (unit, higher is better).
INDICATORS: dict[str, tuple[str, bool]] = {
    "villages_mbb_pct": ("%", True),
    "villages_ftth_pct": ("%", True),
    "bts_sharing_pct": ("%", True),
    "population_mbb_pct": ("%", True),
    "commune_centres_5g_pct": ("%", True),
    "households_mbb_pct": ("%", True),
    "households_ftth_pct": ("%", True),
    "usp_villages": ("count", False),
    "usp_mobile_villages": ("count", False),
    "usp_fibre_villages": ("count", False),
}

#: The village column with the share covered by any operator (the union), 0-1.
ANY_SHARE = "share_any_operator"

#: Indicators with one row per place kind (``kind`` column of the indicator table).
PLACE_INDICATORS: dict[str, tuple[str, bool]] = {
    "places_5g_pct": ("%", True),
    "places_fibre_pct": ("%", True),
}


def round_half_up(value: float | int | Fraction, digits: int = 1) -> float:
    """Round as Excel and people do: halves away from zero, on the decimal value.

    ``round()`` rounds halves to even and works on the binary float, so
    ``round(12.25, 1)`` gives 12.2 where Excel's ``ROUND(12.25, 1)`` and a person write
    12.3.  Integers and :class:`fractions.Fraction` are rounded exactly; a float is
    taken at its shortest decimal form (``repr``), as Excel shows it.

    Parameters
    ----------
    value : float, int or Fraction
        NaN stays NaN.
    digits : int
        Decimal places kept.

    Examples
    --------
    >>> round_half_up(12.25)
    12.3
    >>> round_half_up(Fraction(49 * 100, 400))
    12.3
    >>> round_half_up(98.5, 0)
    99.0
    >>> round_half_up(-2.5, 0)
    -3.0
    >>> round_half_up(100 * 1520 / 1543)
    98.5
    """
    if isinstance(value, float):
        if not math.isfinite(value):
            return value
        value = Fraction(Decimal(repr(value)))
    scaled = Fraction(value) * 10**digits
    whole = math.floor(abs(scaled) + Fraction(1, 2))
    return math.copysign(whole, scaled) / 10**digits if whole else 0.0


def _fraction(value: float | int) -> Fraction:
    """Exact value of a count or a float sum (the float's binary value, not its repr)."""
    return Fraction(value) if not isinstance(value, Fraction) else value


def exact_percent(numerator: float, denominator: float) -> Fraction | None:
    """``numerator / denominator x 100`` as an exact fraction; None for an empty base.

    Examples
    --------
    >>> exact_percent(2499, 2500)
    Fraction(2499, 25)
    >>> exact_percent(1, 0) is None
    True
    """
    if (not denominator or _isnan(denominator) or _isnan(numerator)):
        return None
    return _fraction(numerator) * 100 / _fraction(denominator)


def _isnan(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def percent(numerator: float, denominator: float) -> float:
    """Return ``numerator / denominator x 100`` to one decimal, NaN for an empty base.

    Computed exactly and rounded half up (:func:`round_half_up`), as Excel and the
    ministry's worked examples do.

    Examples
    --------
    >>> percent(1520, 1543)
    98.5
    >>> percent(120, 1000)
    12.0
    >>> percent(49, 400)
    12.3
    """
    exact = exact_percent(numerator, denominator)
    return float("nan") if exact is None else round_half_up(exact, 1)


def meets(value: Fraction | float | None, target: float | None, *, higher: bool = True
          ) -> bool | None:
    """Whether an exact value meets its target; None without a value or a target.

    The comparison is on the exact value (a :class:`Fraction` from the numerator and
    denominator), never on the displayed one: 2,499 of 2,500 villages (99.96%) does not
    meet a 100% target although it would print as 100.0.

    Examples
    --------
    >>> meets(exact_percent(2499, 2500), 100)
    False
    >>> meets(exact_percent(2500, 2500), 100)
    True
    >>> meets(exact_percent(1499, 10000), 15)
    False
    >>> meets(Fraction(113), 120, higher=False)
    True
    """
    if value is None or _isnan(target) or _isnan(value):
        return None
    exact = value if isinstance(value, Fraction) else Fraction(Decimal(repr(float(value))))
    goal = Fraction(Decimal(repr(float(target))))
    return exact >= goal if higher else exact <= goal


def shown_percent(value: Fraction | None, target: float | None, *, higher: bool = True,
                  digits: int = 1, max_digits: int = 6) -> float:
    """Return the value to print: ``digits`` decimals, more where fewer would fake the target.

    A value that does not meet its target never prints as meeting it: 2,499 of 2,500
    shows 99.96, not 100.0 (and 1,499 of 10,000 against 15% shows 14.99, not 15.0).

    Examples
    --------
    >>> shown_percent(exact_percent(2499, 2500), 100)
    99.96
    >>> shown_percent(exact_percent(1499, 10000), 15)
    14.99
    >>> shown_percent(exact_percent(1520, 1543), 100)
    98.5
    >>> shown_percent(exact_percent(1, 3), None)
    33.3
    """
    if value is None:
        return float("nan")
    shown = round_half_up(value, digits)
    if meets(value, target, higher=higher) is not False:
        return shown
    for d in range(digits, max_digits + 1):
        shown = round_half_up(value, d)
        if meets(shown, target, higher=higher) is False:
            return shown
    # closer to the target than max_digits decimals can say: cut toward "not met"
    step = Fraction(1, 10**max_digits)
    cut = (math.floor(value / step) if higher else math.ceil(value / step)) * step
    return float(cut)


#: Columns of the sites layer that name a tower or location in the operator's register.
LOCATION_ID_COLUMNS: tuple[str, ...] = ("location_id", "tower_id")


def register_location_ids(sites: pd.DataFrame) -> pd.Series | None:
    """Return the register's tower or location id of each cell (NA where not given), or None."""
    for col in LOCATION_ID_COLUMNS:
        if col in sites:
            ids = sites[col].astype("string").str.strip()
            return ids.mask(ids == "")
    return None


def site_locations(sites: gpd.GeoDataFrame, metric_crs: CRS, *, tolerance_m: float
                   ) -> gpd.GeoDataFrame:
    """Group sites into locations (towers): by the register's id, else by proximity.

    Parameters
    ----------
    sites : GeoDataFrame
        Checked sites, one row per cell, any CRS.  An optional ``location_id`` (or
        ``tower_id``) column names the tower in the operators' register: sites with the
        same id are one location wherever they were recorded, and two different ids are
        two locations however close.
    metric_crs : pyproj.CRS
    tolerance_m : float
        Sites without an id that are within this distance (chains included: A-B and B-C
        make one location) are one location, metres; 0 means identical coordinates.  A
        site without an id joins the nearest site with an id within the distance.

    Returns
    -------
    GeoDataFrame
        One row per location in ``metric_crs`` (the centroid of its sites):
        ``location_id``, ``site_ids`` and ``operators`` (";"-separated),
        ``n_operators``, ``shared`` (used by two or more operators), ``grouped_by``
        ("register" where an id made the location, else "proximity") and
        ``register_id``.
    """
    # only the coordinates are needed: project them, not the geometries
    x, y = project_xy(sites.geometry.to_numpy(), sites.crs, metric_crs)
    per_site = pd.DataFrame(sites.drop(columns=sites.geometry.name)).assign(x=x, y=y)
    ids = register_location_ids(sites)
    per_site["_rid"] = ids.to_numpy() if ids is not None else pd.NA
    per_site = per_site.groupby(["site_id", "operator"], as_index=False, sort=True).agg(
        x=("x", "mean"), y=("y", "mean"), _rid=("_rid", "first"))
    label = _location_labels(per_site, tolerance_m)
    per_site["location"] = label
    grouped = per_site.groupby("location", sort=True)
    locations = grouped.agg(x=("x", "mean"), y=("y", "mean"), register_id=("_rid", "first"))
    locations["site_ids"] = _joined(per_site["location"], per_site["site_id"])
    locations["operators"] = _joined(per_site["location"], per_site["operator"])
    locations["n_operators"] = grouped["operator"].nunique()
    locations["shared"] = locations["n_operators"] >= 2
    locations["grouped_by"] = np.where(locations["register_id"].notna(), "register",
                                       "proximity")
    locations = locations.reset_index(drop=True)
    locations.insert(0, "location_id", [f"L{i + 1:05d}" for i in range(len(locations))])
    cols = ["location_id", "site_ids", "operators", "n_operators", "shared"]
    if ids is not None:
        cols += ["grouped_by", "register_id"]
    return gpd.GeoDataFrame(locations[cols],
                            geometry=gpd.points_from_xy(locations["x"], locations["y"]),
                            crs=metric_crs)


def _location_labels(per_site: pd.DataFrame, tolerance_m: float) -> np.ndarray:
    """Component label of each site: same register id, or near sites without one.

    Components are numbered in the order of their first site, so without register ids
    the locations keep the order (and ``L00001``... numbers) of the proximity grouping.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(per_site)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rid = per_site["_rid"].astype("string")
    has_id = rid.notna().to_numpy()
    pts = shapely.points(per_site["x"].to_numpy(), per_site["y"].to_numpy())
    tree = shapely.STRtree(pts)
    if tolerance_m > 0:
        a, b = tree.query(pts, predicate="dwithin", distance=tolerance_m)
    else:  # identical coordinates
        a, b = tree.query(pts, predicate="intersects")
    # proximity links only sites without an id; one with an id takes in a site without
    # one that has it as its nearest site with an id
    free = ~has_id[a] & ~has_id[b]
    src, dst = [a[free]], [b[free]]
    mixed = ~has_id[a] & has_id[b]
    if mixed.any():
        ma, mb = a[mixed], b[mixed]
        d = shapely.distance(pts[ma], pts[mb])
        order = np.lexsort((mb, d, ma))
        first = np.r_[True, ma[order][1:] != ma[order][:-1]]
        src.append(ma[order][first])
        dst.append(mb[order][first])
    if has_id.any():  # one register id, one location
        codes, _ = pd.factorize(rid[has_id])
        idx = np.flatnonzero(has_id)
        head = pd.Series(idx).groupby(codes).transform("first").to_numpy()
        src.append(idx)
        dst.append(head)
    i, j = np.concatenate(src), np.concatenate(dst)
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    return label


def _joined(group: pd.Series, values: pd.Series) -> pd.Series:
    """Return each group's distinct values, sorted and ";"-joined, groups in sorted order.

    The same values and dtype as ``groupby(group)[values].agg(lambda s:
    ";".join(sorted(set(s))))`` without a pandas call per group (tens of thousands of
    site locations): groups and values are ranked once (``factorize``), the distinct
    pairs sorted on those integers, and each group's run joined.
    """
    g_codes, g_uniques = pd.factorize(group.to_numpy(), sort=True)
    v_codes, v_uniques = pd.factorize(values.to_numpy(dtype=object), sort=True)
    # sorted distinct (group, value) pairs, on integer codes ranked like the values
    order = np.lexsort((v_codes, g_codes))
    gc, vc = g_codes[order], v_codes[order]
    keep = np.r_[True, (gc[1:] != gc[:-1]) | (vc[1:] != vc[:-1])][:len(gc)]
    gc, vc = gc[keep], vc[keep]
    joined: list[str] = []
    g = np.asarray(g_uniques)[gc]
    if len(gc):
        texts = np.asarray(v_uniques, dtype=object)[vc].tolist()
        starts = [*np.flatnonzero(np.r_[True, gc[1:] != gc[:-1]]).tolist(), len(gc)]
        joined = [";".join(texts[a:b]) for a, b in itertools.pairwise(starts)]
    # the aggregation casts its result back to a string dtype it was given
    dtype = values.dtype if isinstance(values.dtype, pd.StringDtype) else None
    return pd.Series(joined, index=pd.unique(g), dtype=dtype)


#: (exact value or None, numerator, denominator) of one indicator for one group: the
#: value as an exact fraction (percent) or count, so "met" never depends on rounding.
Figure = tuple[Fraction | None, float, float]

#: An exact value as two integers ``(p, q)``, ``q > 0``: the number ``p / q``.  The
#: tables hold thousands of groups; a pair of Python ints is the same exact arithmetic
#: as :class:`~fractions.Fraction` without its cost (no gcd, no object per operation).
Ratio = tuple[int, int]

#: (exact value or None, numerator, denominator), the value as a :data:`Ratio`.
_Figure = tuple["Ratio | None", float, float]


def _as_ratio(value: float | int) -> Ratio:
    """Return the exact value of a count or a float (its binary value) as integers."""
    if isinstance(value, (int, np.integer)):
        return int(value), 1
    return float(value).as_integer_ratio()


def _percent_ratio(numerator: float, denominator: float) -> Ratio | None:
    """Return ``numerator / denominator x 100`` exactly (None for an empty base).

    The value of :func:`exact_percent`, as a :data:`Ratio`.
    """
    if not denominator or _isnan(denominator) or _isnan(numerator):
        return None
    a, b = _as_ratio(numerator)
    c, d = _as_ratio(denominator)
    p, q = 100 * a * d, b * c
    return (-p, -q) if q < 0 else (p, q)


def _round_ratio(value: Ratio, digits: int = 1) -> float:
    """:func:`round_half_up` of an exact :data:`Ratio`."""
    p, q = value
    whole = (2 * abs(p) * 10**digits + q) // (2 * q)  # floor(|p / q| 10^digits + 1/2)
    return math.copysign(whole, p) / 10**digits if whole else 0.0


def _goal(target: float) -> Ratio:
    """Return a target at its decimal value (as :func:`meets` reads it) as integers."""
    return Fraction(Decimal(repr(float(target)))).as_integer_ratio()


def _meets_ratio(value: Ratio | None, target: float | None, goals: dict, *,
                 higher: bool = True) -> bool | None:
    """:func:`meets` of an exact :data:`Ratio`; ``goals`` caches :func:`_goal`."""
    if value is None or _isnan(target):
        return None
    goal = goals.get(target)
    if goal is None:
        goal = goals[target] = _goal(target)
    p, q = value
    gp, gq = goal
    return p * gq >= gp * q if higher else p * gq <= gp * q


def _values(totals: dict, *, locations: int, shared: int, centres: int, centres_5g: int,
            ftth_known: bool, population_known: bool, households_known: bool = False
            ) -> dict[str, _Figure]:
    """Exact value, numerator and denominator of every indicator for one group of villages.

    ``totals`` is one group's entry of :func:`_group_totals` (Python numbers).  The
    values are :data:`Ratio` pairs: percents as :func:`exact_percent` gives them,
    counts as themselves.
    """
    n = totals["villages"]
    covered = totals["villages_mbb"]
    out: dict[str, _Figure] = {"villages_mbb_pct": (_percent_ratio(covered, n), covered, n)}
    if ftth_known:
        ftth = totals["villages_ftth"]
        out["villages_ftth_pct"] = (_percent_ratio(ftth, n), ftth, n)
    else:
        out["villages_ftth_pct"] = (None, np.nan, n)
    out["bts_sharing_pct"] = (_percent_ratio(shared, locations), shared, locations)
    if population_known:
        pop = totals["population"]
        people = totals["people"]
        out["population_mbb_pct"] = (_percent_ratio(people, pop), round(people), round(pop))
    else:
        out["population_mbb_pct"] = (None, np.nan, np.nan)
    out["commune_centres_5g_pct"] = (_percent_ratio(centres_5g, centres), centres_5g,
                                     centres)
    hh = totals["households"]
    for ind, flag, known in (("households_mbb_pct", "households_mbb", households_known),
                             ("households_ftth_pct", "households_ftth",
                              households_known and ftth_known)):
        num = totals[flag]
        out[ind] = ((_percent_ratio(num, hh), round(num), round(hh)) if known
                    else (None, np.nan, np.nan))
    for ind in ("usp_villages", "usp_mobile_villages", "usp_fibre_villages"):
        count = totals[ind]
        out[ind] = (_as_ratio(count), count, n)
    return out


def _shown(indicator: str, exact: Ratio | None, target: float | None, goals: dict,
           met: bool | None = None) -> float:
    """Return the value printed for an indicator: percent to one decimal, counts as is.

    ``met`` is :func:`_meets_ratio` of the value against ``target`` when the caller has
    it; a missed target goes through :func:`shown_percent`, which finds the decimals
    that do not fake it.
    """
    unit, higher = INDICATORS[indicator]
    if exact is None:
        return float("nan")
    if unit != "%":
        return exact[0] / exact[1]
    if met is None and target is not None:
        met = _meets_ratio(exact, target, goals, higher=higher)
    if met is not False:
        return _round_ratio(exact, 1)
    return shown_percent(Fraction(*exact), target, higher=higher)


def _group_totals(villages: pd.DataFrame, keys: pd.Series | np.ndarray
                  ) -> tuple[pd.Index, list[dict]]:
    """Village totals of every group of ``keys`` in one pass over the villages.

    Parameters
    ----------
    villages : DataFrame
        The village table (``mbb_covered``, ``mbb_share``, ``ftth``, ``population``,
        ``usp_eligible``).
    keys : Series or array
        The group of each village; NA keys belong to no group.

    Returns
    -------
    (Index, list of dict)
        The distinct keys, and for each ``villages``, ``villages_mbb``,
        ``villages_ftth``, ``usp_villages`` (int), ``population`` and ``people``
        (float: population x mbb_share), as Python numbers.

    Counts are bincounts.  The two float sums add each group's values in village
    order with NumPy's sum, exactly as ``Series.sum`` of the filtered group does, so
    the figures are bit for bit those of filtering the villages group by group (a
    grouped sum adds in another order and can differ in the last digit).  That is one
    NumPy call per group on a contiguous slice: O(villages + groups).
    """
    codes, uniques = pd.factorize(keys, sort=False)
    k = len(uniques)
    ok = codes >= 0
    code = codes[ok]

    def count(column: str) -> np.ndarray:
        flag = villages[column].to_numpy(dtype=bool, na_value=False)
        return np.bincount(code[flag[ok]], minlength=k)

    size = np.bincount(code, minlength=k)
    covered, ftth, usp = (count(c) for c in ("mbb_covered", "ftth", "usp_eligible"))
    usp_m, usp_f = (count(c) if c in villages else np.zeros(k, dtype=np.int64)
                    for c in ("usp_mobile", "usp_fibre"))
    pop = villages["population"]
    # a person is covered when any operator covers them (issue: single-operator shares
    # would count the half of a village one operator covers and the other half another
    # covers as people without mobile broadband)
    people = pop * villages[ANY_SHARE if ANY_SHARE in villages else "mbb_share"]
    order = np.argsort(code, kind="stable")  # keeps village order inside each group
    bounds = np.concatenate([[0], np.cumsum(size)]).tolist()

    def sums(values: pd.Series) -> list[float]:
        v = values.to_numpy(dtype="float64", na_value=np.nan)[ok][order]
        v = np.where(np.isnan(v), 0.0, v)  # Series.sum skips NA by adding zero
        return [float(v[a:b].sum()) for a, b in itertools.pairwise(bounds)]

    pop_sum, people_sum = sums(pop), sums(people)
    hh = (villages["households"] if "households" in villages
          else pd.Series(np.nan, index=villages.index))
    hh_sum = sums(hh)
    hh_mbb = sums(hh.where(villages["mbb_covered"].fillna(False).astype(bool), 0.0))
    hh_ftth = sums(hh.where(villages["ftth"].fillna(False).astype(bool), 0.0))
    totals = [{"villages": s, "villages_mbb": c, "villages_ftth": f, "usp_villages": u,
               "usp_mobile_villages": um, "usp_fibre_villages": uf,
               "population": p, "people": q, "households": h, "households_mbb": hm,
               "households_ftth": hf}
              for s, c, f, u, um, uf, p, q, h, hm, hf in zip(
                  size.tolist(), covered.tolist(), ftth.tolist(), usp.tolist(),
                  usp_m.tolist(), usp_f.tolist(), pop_sum, people_sum, hh_sum, hh_mbb,
                  hh_ftth, strict=True)]
    return pd.Index(uniques), totals


#: The totals of a group without villages (what the sums of an empty table give).
_NO_VILLAGES = {"villages": 0, "villages_mbb": 0, "villages_ftth": 0, "usp_villages": 0,
                "usp_mobile_villages": 0, "usp_fibre_villages": 0,
                "population": 0.0, "people": 0.0, "households": 0.0, "households_mbb": 0.0,
                "households_ftth": 0.0}


def _households_known(villages: pd.DataFrame) -> bool:
    """Whether the villages carry household counts (the households indicators' base)."""
    return "households" in villages and bool(villages["households"].notna().any())


def _lookup(keys: pd.Index, totals: list[dict], wanted: pd.Series | pd.Index) -> list[dict]:
    """Return the totals of each wanted key; NA or unknown keys have no villages."""
    where = keys.get_indexer(pd.Index(wanted)).tolist()
    return [totals[i] if i >= 0 else _NO_VILLAGES for i in where]


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
    centre_5g : Series of boolean
        Whether each commune's centre has 5G, indexed like ``communes``; NA where the
        centre is not known (the commune is left out of ``commune_centres_5g_pct``).

    Returns
    -------
    DataFrame
        ``commune_code, commune_name, district, region, villages, villages_mbb,
        villages_ftth, population, population_mbb, usp_villages, site_locations,
        shared_locations, centre_5g`` and one column per indicator id.

    The villages are grouped once (:func:`_group_totals`): the cost is O(villages +
    communes), not one pass over the villages per commune.
    """
    table = communes[["commune_code", "commune_name", "region"]].copy()
    table["district"] = communes["district"] if "district" in communes else pd.NA
    table["centre_5g"] = pd.array(centre_5g.astype("boolean").to_numpy(), dtype="boolean")
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
    hh_known = _households_known(villages)
    keys, totals = _group_totals(villages, villages["commune_code"])
    per_commune = _lookup(keys, totals, table["commune_code"])
    goals: dict = {}
    rows = []
    for t, n_loc, n_shared, c5g in zip(per_commune, table["site_locations"].tolist(),
                                       table["shared_locations"].tolist(),
                                       table["centre_5g"].tolist(), strict=True):
        known = c5g is not pd.NA
        values = _values(t, locations=n_loc, shared=n_shared, centres=int(known),
                         centres_5g=int(known and bool(c5g)), ftth_known=ftth_known,
                         population_known=pop_known, households_known=hh_known)
        rows.append({
            "villages": t["villages"],
            "villages_mbb": t["villages_mbb"],
            "villages_ftth": t["villages_ftth"] if ftth_known else pd.NA,
            "population": t["population"] if pop_known else np.nan,
            "population_mbb": round(t["people"]) if pop_known else np.nan,
            "usp_villages": t["usp_villages"],
            "usp_mobile_villages": t["usp_mobile_villages"],
            "usp_fibre_villages": t["usp_fibre_villages"],
            **{k: _shown(k, v[0], None, goals) for k, v in values.items()
               if INDICATORS[k][0] == "%"},
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
                    reported: dict[str, float] | None = None,
                    commune_targets: dict[str, dict[str, float]] | None = None,
                    places: dict[str, Figure] | None = None,
                    place_targets: dict[str, dict[str, float]] | None = None,
                    district_rows: bool = False,
                    ) -> pd.DataFrame:
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
        Operator-reported statistics, added as province rows with source "supplied";
        held against ``targets`` like the others (higher is better).
    commune_targets : dict, optional
        commune_code -> {indicator id: target}.  Commune rows get a target only from
        here: the province's targets are the province's (a commune with one tower does
        not "fail" a 15% sharing target).
    places : dict, optional
        ``"places_5g_pct.<kind>"`` -> figure (:func:`covgap.analysis.places.place_figures`):
        province rows of :data:`PLACE_INDICATORS` with their ``kind``.
    place_targets : dict, optional
        Indicator id -> {kind: target} for those rows.
    district_rows : bool
        Add district (huyện) rows when the communes have a ``district`` column
        (``[output] district_rows``); districts were abolished on 01/7/2025.

    Returns
    -------
    DataFrame
        ``level, code, name, indicator, value, target, met, numerator, denominator,
        unit, source, kind`` (``kind``: the place kind of a places row, else empty).
        ``met`` compares the exact numerator / denominator with the
        target (>=; <= for ``usp_villages``), never the rounded value (:func:`meets`);
        NA without a target or a value.  ``value`` is rounded half up to one decimal,
        with more decimals where one would print a missed target as met
        (:func:`shown_percent`).
    """
    ftth_known = villages["ftth"].notna().any()
    pop_known = villages["population"].notna().any()
    hh_known = _households_known(villages)
    rows: list[dict] = []
    exact_goals: dict = {}  # each target's exact value, once

    def add(level: str, code: str, name: str, values: dict,
            goals: dict[str, float | None]) -> None:
        for ind, (exact, num, den) in values.items():
            unit, higher = INDICATORS[ind]
            target = goals.get(ind)
            met = _meets_ratio(exact, target, exact_goals, higher=higher)
            value = _shown(ind, exact, target, exact_goals, met)
            rows.append({"level": level, "code": code, "name": name, "indicator": ind,
                         "value": value, "target": target,
                         "met": pd.NA if met is None else met, "numerator": num,
                         "denominator": den, "unit": unit, "source": "map"})

    def totals(group: dict, *, locations: int, shared: int, centres: int,
               centres_5g: int) -> dict:
        return _values(group, locations=locations, shared=shared, centres=centres,
                       centres_5g=centres_5g, ftth_known=ftth_known,
                       population_known=pop_known, households_known=hh_known)

    # every level groups the villages once: O(villages + communes + districts)
    _, everyone = _group_totals(villages, np.zeros(len(villages), dtype=np.int64))
    province = everyone[0] if everyone else _NO_VILLAGES
    add("province", province_code, province_name,
        totals(province, locations=int(commune_rows["site_locations"].sum()),
               shared=int(commune_rows["shared_locations"].sum()),
               centres=int(commune_rows["centre_5g"].notna().sum()),
               centres_5g=int(commune_rows["centre_5g"].fillna(False).sum())), targets)
    if district_rows and commune_rows["district"].notna().any():
        code_to_district = commune_rows.set_index("commune_code")["district"]
        village_district = villages["commune_code"].map(code_to_district)
        keys, per_key = _group_totals(villages, village_district)
        sums = _district_sums(commune_rows)
        for district, group, n_loc, n_shared, n_5g, n in zip(
                sums.index, _lookup(keys, per_key, sums.index), sums["site_locations"],
                sums["shared_locations"], sums["centre_5g"], sums["centres"], strict=True):
            add("district", str(district), str(district),
                totals(group, locations=int(n_loc), shared=int(n_shared), centres=int(n),
                       centres_5g=int(n_5g)), targets)
    keys, per_key = _group_totals(villages, villages["commune_code"])
    for code, name, group, n_loc, n_shared, n_5g in zip(
            commune_rows["commune_code"], commune_rows["commune_name"],
            _lookup(keys, per_key, commune_rows["commune_code"]),
            commune_rows["site_locations"], commune_rows["shared_locations"],
            commune_rows["centre_5g"], strict=True):
        known = n_5g is not pd.NA
        add("commune", code, name, totals(group, locations=int(n_loc), shared=int(n_shared),
                                          centres=int(known),
                                          centres_5g=int(known and bool(n_5g))),
            (commune_targets or {}).get(str(code), {}))
    rows += _place_rows(places or {}, place_targets or {}, province_code, province_name)
    rows += _reported_rows(reported or {}, targets, province_code, province_name)
    table = pd.DataFrame(rows)
    if "kind" not in table:
        table["kind"] = pd.NA
    table["kind"] = table["kind"].astype("string")
    table["met"] = table["met"].astype("boolean")
    return table


def _district_sums(commune_rows: pd.DataFrame) -> pd.DataFrame:
    """Site locations, shared ones, known centres and centres with 5G per district."""
    parts = commune_rows.assign(
        _c5g=commune_rows["centre_5g"].fillna(False).astype(int),
        _known=commune_rows["centre_5g"].notna().astype(int)).groupby("district", sort=True)
    sums = parts[["site_locations", "shared_locations", "_c5g", "_known"]].sum()
    return sums.rename(columns={"_c5g": "centre_5g", "_known": "centres"})


def _place_rows(places: dict[str, Figure], place_targets: dict[str, dict[str, float]],
                code: str, name: str) -> list[dict]:
    """Province rows of the place indicators, one per ``"<indicator>.<kind>"`` figure."""
    rows = []
    for key, (exact, num, den) in places.items():
        ind, kind = key.split(".", 1)
        unit, higher = PLACE_INDICATORS[ind]
        target = place_targets.get(ind, {}).get(kind)
        met = meets(exact, target, higher=higher)
        rows.append({"level": "province", "code": code, "name": name, "indicator": ind,
                     "value": shown_percent(exact, target, higher=higher),
                     "target": target, "met": pd.NA if met is None else met,
                     "numerator": num, "denominator": den, "unit": unit, "source": "map",
                     "kind": kind})
    return rows


def _reported_rows(reported: dict[str, float], targets: dict[str, float | None],
                   code: str, name: str) -> list[dict]:
    """Province rows of the operator-reported statistics (source "supplied")."""
    rows = []
    for ind, value in reported.items():
        met = meets(float(value), targets.get(ind))
        rows.append({"level": "province", "code": code, "name": name, "indicator": ind,
                     "value": float(value), "target": targets.get(ind),
                     "met": pd.NA if met is None else met, "numerator": np.nan,
                     "denominator": np.nan, "unit": "", "source": "supplied"})
    return rows
