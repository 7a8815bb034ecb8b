"""Matching the villages of two years: by id, then by location, one to one.

A village keeps its ``village_id`` from year to year, mostly.  When a province renumbers
its villages, or re-surveys their points, the villages left over are matched by
location: one to one, the nearest pair first, within :data:`MATCH_DISTANCE_M`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

__all__ = ["MATCH_DISTANCE_M", "match_villages"]

#: Villages whose ids changed are the same village when their points are this close,
#: metres: a re-surveyed village point moves tens of metres, while two villages of one
#: commune are rarely closer than a few hundred (covgap's choice, issue "covgap diff").
MATCH_DISTANCE_M = 200.0


def match_villages(a: pd.DataFrame, b: pd.DataFrame, crs: CRS, *,
                   max_m: float) -> pd.DataFrame:
    """Pair the villages of two years: ids first, then the rest by location.

    Ids first; the villages left over by location, one to one, shortest distance first
    (ties by the ids), within ``max_m`` metres in ``crs``.

    Parameters
    ----------
    a, b : DataFrame
        The villages of year A and year B, with ``village_id``, ``lon`` and ``lat``
        (WGS84 degrees; NaN for a village without a point).
    crs : CRS
        The projected CRS distances are measured in (run B's metric CRS).
    max_m : float
        Largest distance of a match by location, metres; 0 matches by id only.

    Returns
    -------
    DataFrame
        One row per village of either year: ``ia`` and ``ib``, its row positions in
        ``a`` and ``b`` (-1: not in that year), ``matched_by`` ("id", "location", or
        None for a village of one year) and ``distance_m`` between the two points
        (0.1 m).  B's villages come first, in B's order, then A's villages that are
        gone, in A's order.

    Examples
    --------
    >>> a = pd.DataFrame({"village_id": ["V1"], "lon": [105.0], "lat": [20.0]})
    >>> b = pd.DataFrame({"village_id": ["X1"], "lon": [105.0005], "lat": [20.0]})
    >>> match_villages(a, b, CRS("EPSG:32648"), max_m=200)[["ia", "ib", "matched_by"]]
       ia  ib matched_by
    0   0   0   location
    """
    xa, ya = _xy(a, crs)
    xb, yb = _xy(b, crs)
    pos_b = pd.Series(np.arange(len(b)), index=b["village_id"].to_numpy())
    in_b = a["village_id"].isin(pos_b.index).to_numpy()
    ia = np.flatnonzero(in_b)
    ib = pos_b.loc[a["village_id"].to_numpy()[in_b]].to_numpy()
    how = ["id"] * len(ia)
    rest_a = np.flatnonzero(~in_b)
    rest_b = np.setdiff1d(np.arange(len(b)), ib)
    rest_a = rest_a[np.isfinite(xa[rest_a]) & np.isfinite(ya[rest_a])]
    rest_b = rest_b[np.isfinite(xb[rest_b]) & np.isfinite(yb[rest_b])]
    loc_a: list[int] = []
    loc_b: list[int] = []
    if len(rest_a) and len(rest_b) and max_m > 0:
        loc_a, loc_b = _nearest_pairs(a, b, (xa, ya), (xb, yb), rest_a, rest_b, max_m)
    ia = np.concatenate([ia, np.array(loc_a, dtype=int)]).astype(int)
    ib = np.concatenate([ib, np.array(loc_b, dtype=int)]).astype(int)
    how += ["location"] * len(loc_a)
    pairs = pd.DataFrame({"ia": ia, "ib": ib, "matched_by": how})
    return _with_unmatched(pairs, (xa, ya), (xb, yb))


def _xy(frame: pd.DataFrame, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    to_metric = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_metric.transform(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _nearest_pairs(a: pd.DataFrame, b: pd.DataFrame, xy_a: tuple[np.ndarray, np.ndarray],
                   xy_b: tuple[np.ndarray, np.ndarray], rest_a: np.ndarray,
                   rest_b: np.ndarray, max_m: float) -> tuple[list[int], list[int]]:
    """Match the left-over villages one to one, nearest pair first, within ``max_m``."""
    (xa, ya), (xb, yb) = xy_a, xy_b
    pts_a = shapely.points(xa[rest_a], ya[rest_a])
    pts_b = shapely.points(xb[rest_b], yb[rest_b])
    qa, qb = shapely.STRtree(pts_b).query(pts_a, predicate="dwithin", distance=max_m)
    ca, cb = rest_a[qa], rest_b[qb]
    dist = np.hypot(xa[ca] - xb[cb], ya[ca] - yb[cb])
    order = np.lexsort((b["village_id"].to_numpy()[cb].astype(str),
                        a["village_id"].to_numpy()[ca].astype(str), dist))
    used_a: set[int] = set()
    used_b: set[int] = set()
    loc_a: list[int] = []
    loc_b: list[int] = []
    for k in order:  # greedy, nearest pair first: only the few unmatched villages
        if ca[k] in used_a or cb[k] in used_b:
            continue
        used_a.add(int(ca[k]))
        used_b.add(int(cb[k]))
        loc_a.append(int(ca[k]))
        loc_b.append(int(cb[k]))
    return loc_a, loc_b


def _with_unmatched(pairs: pd.DataFrame, xy_a: tuple[np.ndarray, np.ndarray],
                    xy_b: tuple[np.ndarray, np.ndarray]) -> pd.DataFrame:
    """Add the villages of one year, order the rows and measure the matched pairs."""
    (xa, ya), (xb, yb) = xy_a, xy_b
    new_b = np.setdiff1d(np.arange(len(xb)), pairs["ib"])
    gone_a = np.setdiff1d(np.arange(len(xa)), pairs["ia"])
    pairs = pd.concat([
        pairs,
        pd.DataFrame({"ia": -1, "ib": new_b, "matched_by": None}),
        pd.DataFrame({"ia": gone_a, "ib": -1, "matched_by": None})], ignore_index=True)
    # B's order, then the villages of A that are gone, in A's order
    pairs["_ob"] = np.where(pairs["ib"] >= 0, pairs["ib"], len(xb) + pairs["ia"])
    pairs = pairs.sort_values("_ob", kind="stable").drop(columns="_ob").reset_index(drop=True)
    both = (pairs["ia"] >= 0) & (pairs["ib"] >= 0)
    d = np.full(len(pairs), np.nan)
    sa, sb = pairs.loc[both, "ia"].to_numpy(), pairs.loc[both, "ib"].to_numpy()
    d[both.to_numpy()] = np.hypot(xa[sa] - xb[sb], ya[sa] - yb[sb])
    pairs["distance_m"] = np.round(d, 1)
    return pairs
