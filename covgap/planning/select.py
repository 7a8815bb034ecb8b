"""Choose candidate sites that cover the most uncovered people: budgeted maximal covering.

The problem is the maximal covering location problem (MCLP, Church and ReVelle 1974):
candidate ``i`` would cover a set of demand points (villages), point ``j`` carries a
weight ``w_j`` (its uncovered population, times a priority weight for region-III or
ĐBKK villages), and we choose at most ``max_sites`` candidates, or candidates whose
costs fit a ``budget``, so that the total weight of the points covered by at least one
chosen candidate is as large as possible.

Two modes:

- **greedy** (the default): repeatedly take the candidate that adds the most weight
  (with a budget: the most weight per unit cost), evaluated lazily (CELF, Leskovec et
  al. 2007: marginal gains only shrink as more is covered, so a stale gain is an upper
  bound and only the candidate on top of the priority queue is re-evaluated). With
  ``max_sites`` it is within 1 - 1/e of the optimum (Nemhauser, Wolsey and Fisher 1978);
  with a budget, returning the better of the ratio-greedy set and the best single
  affordable candidate keeps it within (1 - 1/e)/2 (Khuller, Moss and Naor 1999).
- **exact**: the integer program, reduced without changing its optimum and solved by
  HiGHS from a start found by swap search; greedy is run too, so the result says how far
  greedy was from the optimum on this instance.

Coverage sets come as a CSR pair (``indptr``, ``indices``), the form
:func:`covgap.planning.candidates.candidate_cover` returns.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from dataclasses import dataclass

import highspy
import numpy as np
from numba import njit
from scipy import sparse

from covgap.errors import InputError, quoted

__all__ = ["MODES", "Selection", "select_sites"]

log = logging.getLogger(__name__)

#: Valid values of ``mode``.
MODES = ("greedy", "exact")

# HiGHS stops a MIP at a relative gap of 1e-4 by default; "exact" should mean optimal to
# rounding, so the gap is closed (HiGHS still stops at its absolute gap of 1e-6).
_MIP_REL_GAP = 0.0

# Floating-point slack when a sum of costs is compared with the budget, relative to it.
_BUDGET_RTOL = 1e-9


@dataclass(frozen=True)
class Selection:
    """The chosen candidates and what they cover.

    Attributes
    ----------
    chosen : ndarray of int64
        Candidate indices in the order chosen, rank 1 first. In exact mode the optimal
        set is ordered greedily: each next one is the member adding the most weight.
    gains : ndarray of float64
        Weight newly covered by each chosen candidate, in that order.
    objective : float
        Total weight covered (the sum of ``gains``).
    cost : float
        Total cost of the chosen candidates (their count when no costs were given).
    mode : str
        ``"greedy"`` or ``"exact"``.
    optimality_gap : float or None
        Exact mode: ``(exact objective - greedy objective) / exact objective``, how far
        greedy was from the optimum on this instance (0 when nothing can be covered);
        against the incumbent when the time limit stopped the solver. Greedy mode: None.
    bound : float or None
        Exact mode: the MIP dual bound, an upper bound on the best objective; equal to
        ``objective`` (within HiGHS's tolerance of 1e-6) when solved to optimality. If the
        time limit stopped HiGHS before it had a bound: the coverable weight, or the sum
        of the ``max_sites`` largest single-candidate gains if smaller. Greedy mode: None.
    status : str
        ``"optimal"`` (exact mode solved to optimality), ``"time_limit"`` (exact mode
        stopped by ``time_limit_s``: ``chosen`` is the incumbent), ``"heuristic"``
        (greedy mode: no optimality proof), or HiGHS's model status in lower case.
    seconds : float
        Wall time of the call.
    """

    chosen: np.ndarray
    gains: np.ndarray
    objective: float
    cost: float
    mode: str
    optimality_gap: float | None
    bound: float | None
    status: str
    seconds: float


def select_sites(
    cover_indptr: np.ndarray,
    cover_indices: np.ndarray,
    weights: np.ndarray,
    *,
    max_sites: int | None = None,
    costs: np.ndarray | None = None,
    budget: float | None = None,
    preference: np.ndarray | None = None,
    mode: str = "greedy",
    time_limit_s: float = 60.0,
) -> Selection:
    """Choose candidates covering the most demand weight within a site count or budget.

    Parameters
    ----------
    cover_indptr, cover_indices : array_like of int
        Coverage sets in CSR form: candidate ``i`` covers the demand points
        ``cover_indices[cover_indptr[i]:cover_indptr[i + 1]]``. ``cover_indptr`` has one
        entry more than there are candidates, starts at 0 and never decreases. Repeated
        indices in one candidate's list count once.
    weights : array_like of float
        Per demand point, finite and >= 0: e.g. uncovered population times the priority
        weight of region-III and ĐBKK villages.
    max_sites : int, optional
        Choose at most this many candidates (>= 0).
    costs : array_like of float, optional
        Per candidate, finite and >= 0 (e.g. a new site vs equipment on a shared tower),
        in any currency unit; needed with ``budget``. A zero-cost candidate that adds
        weight is always worth taking.
    budget : float, optional
        The chosen candidates' costs add up to at most this (same unit as ``costs``).
        With neither ``max_sites`` nor ``budget``, candidates are added until everything
        coverable is covered.
    preference : array_like of float, optional
        Per candidate tie-breaker, finite: e.g. 1 for sharing an existing tower, 0 for a
        new site. It never trades away covered weight. Greedy: at equal gain the higher
        preference wins, then the lower index (with a budget: at equal gain per cost the
        larger gain, then the preference, then the index). Exact: among the selections
        covering the same weighted villages as the optimum, the one with the fewest sites
        wins, then the one with the highest total preference (a second, small set-cover
        solve). Without it, exact mode keeps HiGHS's optimum, less any site that adds
        nothing.
    mode : {"greedy", "exact"}
        Lazy greedy, or the integer program solved with HiGHS (which also runs greedy
        to report its optimality gap).
    time_limit_s : float
        Exact mode: the wall-time limit of the whole call; when it is hit the best
        selection found is returned with status ``"time_limit"`` and the solver's bound.

    Returns
    -------
    Selection

    Raises
    ------
    InputError
        (a ``ValueError``) listing every invalid argument: CSR arrays that do not fit
        together, an index outside the weights, negative or non-finite weights or costs,
        arrays of the wrong length, ``budget`` without ``costs``, an unknown ``mode``.

    Notes
    -----
    The integer program: binary ``x_i`` (candidate chosen), continuous ``y_j`` in [0, 1]
    (point covered), maximise ``sum w_j y_j`` subject to ``y_j <= sum_{i covers j} x_i``,
    ``sum x_i <= max_sites`` and ``sum c_i x_i <= budget``. Points of zero weight or that
    no candidate covers are left out of it. HiGHS solves a smaller program with the same
    optimum: a candidate another covers all the points of, for no more cost, is dropped;
    points reached by the same candidates share one ``y``; a point only one candidate
    reaches adds its weight to that candidate's ``x``. Its start is the better of
    greedy's selection (dominated picks replaced) and the candidates the LP relaxation
    values most, each improved by swap search (the best add or one-for-one swap, until
    none helps), so the exact result is never worse than greedy's.

    Examples
    --------
    >>> import numpy as np
    >>> from covgap.planning.select import select_sites
    >>> indptr = np.array([0, 2, 4, 6])          # three candidates
    >>> indices = np.array([0, 1, 1, 2, 2, 3])   # each covers two of four villages
    >>> weights = np.array([5.0, 1.0, 1.0, 5.0])
    >>> sel = select_sites(indptr, indices, weights, max_sites=2)
    >>> sel.chosen.tolist(), sel.gains.tolist(), sel.objective
    ([0, 2], [6.0, 6.0], 12.0)
    """
    start = time.perf_counter()
    indptr, indices, w, cost_arr, pref = _checked(
        cover_indptr, cover_indices, weights, max_sites=max_sites, costs=costs,
        budget=budget, preference=preference, mode=mode, time_limit_s=time_limit_s)
    indptr, indices = _unique_per_row(indptr, indices)

    chosen, gains = _greedy(indptr, indices, w, pref, max_sites=max_sites, costs=cost_arr,
                            budget=budget)
    if mode == "greedy":
        return _selection(chosen, gains, cost_arr, mode="greedy", gap=None, bound=None,
                          status="heuristic", start=start)

    greedy_objective = math.fsum(gains)
    deadline = start + float(time_limit_s)
    x, status, bound = _exact(indptr, indices, w, pref, max_sites=max_sites, costs=cost_arr,
                              budget=budget, warm=chosen, deadline=deadline,
                              prefer=preference is not None)
    # Order the optimal set greedily; a member that adds nothing after the others is
    # dropped (it costs without covering).
    order, order_gains = _greedy(indptr, indices, w, pref, max_sites=None, costs=None,
                                 budget=None, among=np.flatnonzero(x))
    objective = math.fsum(order_gains)
    if objective < greedy_objective - 1e-12 * greedy_objective:
        # Only when HiGHS did not take greedy's start and stopped early (the slack: sums
        # of the same weights in another order).
        order, order_gains, objective = chosen, gains, greedy_objective
    if bound is not None:
        bound = max(bound, objective)  # a known feasible value is below any valid bound
    gap = max(0.0, (objective - greedy_objective) / objective) if objective > 0 else 0.0
    log.debug("select_sites exact: %s, objective %.6g, greedy %.6g, bound %s", status,
              objective, greedy_objective, bound)
    return _selection(order, order_gains, cost_arr, mode="exact", gap=gap, bound=bound,
                      status=status, start=start)


def _selection(chosen: list[int], gains: list[float], costs: np.ndarray | None, *,
               mode: str, gap: float | None, bound: float | None, status: str,
               start: float) -> Selection:
    chosen_arr = np.asarray(chosen, dtype=np.int64)
    gains_arr = np.asarray(gains, dtype=np.float64)
    cost = float(costs[chosen_arr].sum()) if costs is not None else float(len(chosen_arr))
    return Selection(chosen=chosen_arr, gains=gains_arr, objective=math.fsum(gains),
                     cost=cost, mode=mode, optimality_gap=gap, bound=bound, status=status,
                     seconds=time.perf_counter() - start)


# --- greedy ---------------------------------------------------------------------------

@njit(cache=True)
def _gain(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
          covered: np.ndarray, i: int) -> float:
    # One summation order everywhere, so equal coverage gives bit-equal gains and the
    # preference tie-break sees the tie.
    total = 0.0
    for k in range(indptr[i], indptr[i + 1]):
        j = indices[k]
        if not covered[j]:
            total += weights[j]
    return total


@njit(cache=True)
def _gains(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
           covered: np.ndarray, among: np.ndarray) -> np.ndarray:
    out = np.empty(among.shape[0])
    for n in range(among.shape[0]):
        out[n] = _gain(indptr, indices, weights, covered, among[n])
    return out


def _greedy(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
            pref: np.ndarray, *, max_sites: int | None, costs: np.ndarray | None,
            budget: float | None, among: np.ndarray | None = None,
            ) -> tuple[list[int], list[float]]:
    """Lazy greedy; with a budget, the better of ratio-greedy and the best single one."""
    n_cand = len(indptr) - 1
    cand = np.arange(n_cand, dtype=np.int64) if among is None else among.astype(np.int64)
    limit = n_cand if max_sites is None else max_sites
    if limit == 0 or len(cand) == 0:
        return [], []
    covered = np.zeros(len(weights), dtype=np.bool_)
    first = _gains(indptr, indices, weights, covered, cand)
    use_ratio = budget is not None
    if use_ratio:
        assert costs is not None
        slack = _BUDGET_RTOL * max(1.0, budget)
        affordable = costs[cand] <= budget + slack
        keep = (first > 0) & affordable
    else:
        keep = first > 0
    cand, first = cand[keep], first[keep]
    if len(cand) == 0:
        return [], []

    def key(g: float, i: int) -> tuple[float, float, float, int]:
        # Smallest tuple first: the largest primary key (gain, or gain per cost), then
        # the larger gain, then the higher preference, then the lower index.
        primary = g
        if use_ratio:
            c = costs[i]
            primary = g / c if c > 0 else math.inf
        return (-primary, -g, -pref[i], i)

    heap = [(*key(g, i), 0) for g, i in zip(first.tolist(), cand.tolist(), strict=True)]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    spent = 0.0
    while heap and len(chosen) < limit:
        _, neg_g, _, i, evaluated = heapq.heappop(heap)
        if use_ratio and spent + costs[i] > budget + slack:
            continue  # the remaining budget only shrinks: it will never fit
        if evaluated != len(chosen):  # stale: its gain is an upper bound; refresh it
            g = _gain(indptr, indices, weights, covered, i)
            if g > 0:
                heapq.heappush(heap, (*key(g, i), len(chosen)))
            continue
        chosen.append(i)
        gains.append(-neg_g)
        covered[indices[indptr[i]:indptr[i + 1]]] = True
        if use_ratio:
            spent += costs[i]

    if use_ratio and limit >= 1:
        # Khuller, Moss and Naor (1999): ratio-greedy alone can be arbitrarily bad (a
        # cheap small candidate blocks an expensive big one); the best single affordable
        # candidate restores the (1 - 1/e)/2 guarantee.
        best = np.lexsort((cand, -pref[cand], -first))[0]
        if first[best] > math.fsum(gains):
            return [int(cand[best])], [float(first[best])]
    return chosen, gains


# --- exact ----------------------------------------------------------------------------

def _exact(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, pref: np.ndarray,
           *, max_sites: int | None, costs: np.ndarray | None, budget: float | None,
           warm: list[int], deadline: float,
           prefer: bool) -> tuple[np.ndarray, str, float | None]:
    """Solve the MIP; return the chosen mask, the status and the dual bound.

    HiGHS gets a smaller program with the same optimum (:func:`_reduced`) and the best
    of two starts found by swap search: greedy's selection, and the candidates the LP
    relaxation values most.
    """
    n_cand = len(indptr) - 1
    counts = np.diff(indptr)
    owner = np.repeat(np.arange(n_cand, dtype=np.int64), counts)
    coverable = np.zeros(len(weights), dtype=bool)
    coverable[indices] = True
    keep_pt = coverable & (weights > 0)
    if not keep_pt.any() or max_sites == 0:
        return np.zeros(n_cand, dtype=bool), "optimal", 0.0
    entry = keep_pt[indices]
    useful = np.bincount(owner[entry], minlength=n_cand) > 0
    if costs is not None and budget is not None:
        useful &= costs <= budget * (1 + _BUDGET_RTOL) + _BUDGET_RTOL
    cost_all = costs if costs is not None else np.zeros(n_cand)
    red = _reduced(indptr, indices, weights, keep_pt, useful, cost_all)
    k = len(red.kept)
    if k == 0:
        return np.zeros(n_cand, dtype=bool), "optimal", 0.0
    cost_k = cost_all[red.kept]

    # Columns: x for each kept candidate, then y for each group of points sharing the
    # same kept candidates. Rows: one per group (y_g - sum x_i <= 0), then the site
    # count and the budget, when given.
    n_grp = len(red.group_w)
    g_size = np.diff(red.group_ptr)
    cols = [red.group_cand, k + np.arange(n_grp)]
    rows = [np.repeat(np.arange(n_grp, dtype=np.int64), g_size), np.arange(n_grp)]
    vals = [np.full(len(red.group_cand), -1.0), np.ones(n_grp)]
    row_upper = [np.zeros(n_grp)]
    n_row = n_grp
    if max_sites is not None:
        cols.append(np.arange(k))
        rows.append(np.full(k, n_row))
        vals.append(np.ones(k))
        row_upper.append(np.array([float(max_sites)]))
        n_row += 1
    if budget is not None:
        nz = np.flatnonzero(cost_k > 0)
        cols.append(nz)
        rows.append(np.full(len(nz), n_row))
        vals.append(cost_k[nz])
        row_upper.append(np.array([float(budget)]))
        n_row += 1
    n_col = k + n_grp
    args = (n_col, n_row, np.concatenate(cols), np.concatenate(rows), np.concatenate(vals))
    kw = dict(col_cost=np.concatenate([red.lone_w, red.group_w]), col_upper=np.ones(n_col),
              row_lower=np.full(n_row, -highspy.kHighsInf),
              row_upper=np.concatenate(row_upper))

    limit = k if max_sites is None else max_sites
    spend = math.inf if budget is None else budget * (1 + _BUDGET_RTOL) + _BUDGET_RTOL
    # Greedy's selection, each dominated pick replaced by the candidate dominating it (it
    # covers at least as much for no more cost).
    start_k = np.zeros(k, dtype=np.bool_)
    if warm:
        repl = red.dominator[np.asarray(warm, dtype=np.int64)]
        start_k[red.slot[repl[repl >= 0]]] = True
    starts = [start_k]
    if max_sites is not None or budget is not None:
        x_lp = _relaxation(*args, **kw, deadline=deadline)
        if x_lp is not None:
            starts.append(_top(x_lp[:k], cost_k, limit=limit, spend=spend))
    best, best_w = start_k, -1.0
    for x0 in starts:
        x0 = x0.copy()
        _swap_search(red.cand_ptr, red.cand_pts, red.pt_ptr, red.pt_cand, weights, cost_k,
                     spend, limit, x0, min(4 * limit, 4 * k) + 100)
        w0 = _covered_weight(x0, weights, red.cand_ptr, red.cand_pts)
        if w0 > best_w:
            best, best_w = x0, w0

    h = _model(*args, **kw, integrality=np.concatenate([np.ones(k, np.int32),
                                                       np.zeros(n_grp, np.int32)]),
               maximise=True)
    # The LP relaxations of covering programs are degenerate; interior point solves them
    # several times faster than dual simplex here (bench_planning.py).
    h.setOptionValue("mip_lp_solver", "ipm")
    y0 = np.add.reduceat(best[red.group_cand], red.group_ptr[:-1]) > 0 if n_grp else \
        np.zeros(0, dtype=bool)
    _solve(h, np.concatenate([best, y0]).astype(float), deadline)
    status = _status(h)
    x = np.zeros(n_cand, dtype=bool)
    x[red.kept] = _solution_x(h, k, fallback=best.astype(float))
    bound = _bound(h)
    if bound is None:
        # Stopped before HiGHS had a bound: all coverable weight, or (submodularity) the
        # max_sites largest single gains, bound the optimum too.
        bound = math.fsum(weights[keep_pt])
        if max_sites is not None:
            single = np.bincount(owner[entry], weights=weights[indices[entry]],
                                 minlength=n_cand)
            bound = min(bound, math.fsum(np.sort(single[useful])[::-1][:max_sites]))

    if prefer and status == "optimal" and x.any() and time.perf_counter() < deadline:
        x = _prefer(x, weights, keep_pt, pref, useful, indptr, indices, max_sites=max_sites,
                    costs=costs, budget=budget, deadline=deadline)
    return x, status, bound


@dataclass(frozen=True)
class _Reduction:
    """A program with the same optimum as the full one, in candidates that are kept.

    kept : candidate indices not dominated by another (in order); slot maps a candidate
        index to its position in ``kept`` (-1 if dropped); dominator maps every useful
        candidate to a kept one covering at least its points for no more cost (itself
        when kept).
    cand_ptr, cand_pts : the kept candidates' weighted points (CSR, original point ids).
    pt_ptr, pt_cand : each point's kept candidates (CSR by point, positions in kept).
    group_ptr, group_cand, group_w : points covered by the same two or more kept
        candidates, merged into one group with their summed weight.
    lone_w : per kept candidate, the weight of the points only it covers (they are
        covered exactly when it is chosen, so they go into its objective).
    """

    kept: np.ndarray
    slot: np.ndarray
    dominator: np.ndarray
    cand_ptr: np.ndarray
    cand_pts: np.ndarray
    pt_ptr: np.ndarray
    pt_cand: np.ndarray
    group_ptr: np.ndarray
    group_cand: np.ndarray
    group_w: np.ndarray
    lone_w: np.ndarray


def _reduced(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
             keep_pt: np.ndarray, useful: np.ndarray, costs: np.ndarray) -> _Reduction:
    """Drop dominated candidates and merge points with the same candidates.

    Candidate ``a`` is dominated by ``b`` when ``b`` covers every weighted point ``a``
    covers, costs no more, and is strictly better (more points, less cost) or, at a
    tie, has the lower index. Some optimum avoids every dominated candidate (swap each
    for its dominator), so dropping them keeps the optimum; the ties keep exactly one
    of each set of equal candidates.
    """
    n_cand, n_pts = len(indptr) - 1, len(weights)
    a_full = sparse.csr_matrix((keep_pt[indices].astype(np.float64), indices, indptr),
                               shape=(n_cand, n_pts))
    a_full.eliminate_zeros()
    use = np.flatnonzero(useful)
    a_use = a_full[use]
    size = np.diff(a_use.indptr)
    c = costs[use]
    inter = (a_use @ a_use.T).tocoo()
    a, b = inter.row, inter.col
    dom = ((inter.data == size[a]) & (a != b) & (c[b] <= c[a])
           & ((size[b] > size[a]) | (c[b] < c[a]) | (b < a)))
    a, b = a[dom], b[dom]
    # Each dominated candidate's replacement: its dominator with the most points, then the
    # least cost, then the lowest index; that one is not itself dominated.
    order = np.lexsort((b, c[b], -size[b], a))
    a, b = a[order], b[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = a[1:] != a[:-1]
    repl = np.arange(len(use))
    repl[a[first]] = b[first]
    is_kept = repl == np.arange(len(use))
    kept = use[is_kept]
    slot = np.full(n_cand, -1, dtype=np.int64)
    slot[kept] = np.arange(len(kept))
    dominator = np.full(n_cand, -1, dtype=np.int64)
    dominator[use] = use[repl]

    a_kept = a_full[kept]
    a_kept.sort_indices()
    by_pt = a_kept.T.tocsr()
    by_pt.sort_indices()
    pt_ptr, pt_cand = by_pt.indptr.astype(np.int64), by_pt.indices.astype(np.int64)
    n_of = np.diff(pt_ptr)
    lone = np.flatnonzero(n_of == 1)
    lone_w = np.bincount(pt_cand[pt_ptr[lone]], weights=weights[lone],
                         minlength=len(kept))
    multi = np.flatnonzero(n_of > 1)
    rep, inverse = _same_sets(pt_ptr, pt_cand, multi)
    group_w = np.bincount(inverse, weights=weights[multi], minlength=len(rep))
    g_len = n_of[rep]
    group_ptr = np.concatenate([[0], np.cumsum(g_len)]).astype(np.int64)
    group_cand = pt_cand[_ranges(pt_ptr[rep], g_len)]
    return _Reduction(kept=kept, slot=slot, dominator=dominator,
                      cand_ptr=a_kept.indptr.astype(np.int64),
                      cand_pts=a_kept.indices.astype(np.int64), pt_ptr=pt_ptr,
                      pt_cand=pt_cand, group_ptr=group_ptr, group_cand=group_cand,
                      group_w=group_w, lone_w=lone_w)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + n)`` for each start ``s`` and length ``n``."""
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets


def _same_sets(ptr: np.ndarray, cand: np.ndarray, rows: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Group CSR rows (sorted columns) holding the same set.

    Returns one representative row per group and each row's group. Rows are grouped by
    their length and two random 64-bit sums over their members, then every row is
    compared with its group's representative; a collision (never seen) falls back to
    grouping by the rows' bytes.
    """
    if len(rows) == 0:
        return rows, np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**63, size=(2, int(cand.max()) + 1), dtype=np.uint64)
    lengths = ptr[rows + 1] - ptr[rows]
    mine = cand[_ranges(ptr[rows], lengths)]
    row_start = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    with np.errstate(over="ignore"):
        h1 = np.add.reduceat(keys[0][mine], row_start)
        h2 = np.add.reduceat(keys[1][mine], row_start)
    table = np.stack([lengths.astype(np.uint64), h1, h2], axis=1)
    _, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    rep = rows[first]
    theirs = cand[_ranges(ptr[rep[inverse]], lengths)]
    if np.array_equal(mine, theirs):
        return rep, inverse
    groups: dict[bytes, int] = {}
    inverse = np.array([groups.setdefault(cand[ptr[r]:ptr[r + 1]].tobytes(), len(groups))
                        for r in rows], dtype=np.int64)
    rep = np.full(len(groups), -1, dtype=np.int64)
    rep[inverse[::-1]] = rows[::-1]
    return rep, inverse


def _relaxation(n_col: int, n_row: int, col_idx: np.ndarray, row_idx: np.ndarray,
                vals: np.ndarray, *, col_cost: np.ndarray, col_upper: np.ndarray,
                row_lower: np.ndarray, row_upper: np.ndarray,
                deadline: float) -> np.ndarray | None:
    """Solve the LP relaxation (interior point, no crossover); its column values or None."""
    h = _model(n_col, n_row, col_idx, row_idx, vals, col_cost=col_cost, col_upper=col_upper,
               row_lower=row_lower, row_upper=row_upper,
               integrality=np.zeros(n_col, np.int32), maximise=True)
    h.setOptionValue("solver", "ipm")
    h.setOptionValue("run_crossover", "off")
    h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1e-3))
    h.run()
    if h.getInfo().primal_solution_status != highspy.kSolutionStatusFeasible:
        return None
    return np.asarray(h.getSolution().col_value)


def _top(values: np.ndarray, costs: np.ndarray, *, limit: int, spend: float) -> np.ndarray:
    """Take candidates by decreasing value while the count and the budget allow."""
    x = np.zeros(len(values), dtype=np.bool_)
    n, spent = 0, 0.0
    for i in np.argsort(-values, kind="stable").tolist():
        if n >= limit or values[i] <= 1e-6:
            break
        if spent + costs[i] <= spend:
            x[i] = True
            n += 1
            spent += costs[i]
    return x


@njit(cache=True)
def _swap_search(cand_ptr: np.ndarray, cand_pts: np.ndarray, pt_ptr: np.ndarray,
                 pt_cand: np.ndarray, weights: np.ndarray, costs: np.ndarray, spend: float,
                 limit: int, chosen: np.ndarray, max_moves: int) -> int:
    """Improve ``chosen`` in place by the best add or one-for-one swap until none helps.

    A move must keep at most ``limit`` chosen and their cost within ``spend``. Each move
    scans every candidate (no time check inside), so at most ``max_moves`` are made.
    Returns the number of moves made.
    """
    n_cand = cand_ptr.shape[0] - 1
    cnt = np.zeros(weights.shape[0], np.int64)
    n_chosen = 0
    spent = 0.0
    total = 0.0
    for i in range(n_cand):
        if chosen[i]:
            n_chosen += 1
            spent += costs[i]
            for q in range(cand_ptr[i], cand_ptr[i + 1]):
                cnt[cand_pts[q]] += 1
    for i in range(n_cand):
        for q in range(cand_ptr[i], cand_ptr[i + 1]):
            total += weights[cand_pts[q]]
    tol = 1e-12 * total
    loss = np.zeros(n_cand)
    corr = np.zeros(n_cand)
    touched = np.empty(n_cand, np.int64)
    members = np.empty(n_cand, np.int64)
    moves = 0
    while moves < max_moves:
        m = 0
        for i in range(n_cand):
            if chosen[i]:
                members[m] = i
                m += 1
                s = 0.0
                for q in range(cand_ptr[i], cand_ptr[i + 1]):
                    j = cand_pts[q]
                    if cnt[j] == 1:
                        s += weights[j]
                loss[i] = s
        best, best_in, best_out = tol, -1, -1
        for c in range(n_cand):
            if chosen[c]:
                continue
            gain = 0.0
            nt = 0
            for q in range(cand_ptr[c], cand_ptr[c + 1]):
                j = cand_pts[q]
                if cnt[j] == 0:
                    gain += weights[j]
                elif cnt[j] == 1:
                    for r in range(pt_ptr[j], pt_ptr[j + 1]):
                        i = pt_cand[r]
                        if chosen[i]:
                            if corr[i] == 0.0:
                                touched[nt] = i
                                nt += 1
                            corr[i] += weights[j]
                            break
            if n_chosen < limit and spent + costs[c] <= spend and gain > best:
                best, best_in, best_out = gain, c, -1
            for t in range(m):
                i = members[t]
                d = gain - loss[i] + corr[i]
                if d > best and spent - costs[i] + costs[c] <= spend:
                    best, best_in, best_out = d, c, i
            for t in range(nt):
                corr[touched[t]] = 0.0
        if best_in < 0:
            break
        moves += 1
        if best_out >= 0:
            chosen[best_out] = False
            n_chosen -= 1
            spent -= costs[best_out]
            for q in range(cand_ptr[best_out], cand_ptr[best_out + 1]):
                cnt[cand_pts[q]] -= 1
        chosen[best_in] = True
        n_chosen += 1
        spent += costs[best_in]
        for q in range(cand_ptr[best_in], cand_ptr[best_in + 1]):
            cnt[cand_pts[q]] += 1
    return moves


def _prefer(x: np.ndarray, weights: np.ndarray, keep_pt: np.ndarray, pref: np.ndarray,
            useful: np.ndarray, indptr: np.ndarray, indices: np.ndarray, *,
            max_sites: int | None, costs: np.ndarray | None, budget: float | None,
            deadline: float) -> np.ndarray:
    """Second solve: the same villages covered by the fewest sites, then most preference.

    ``x`` is optimal, so no selection covers more weight than its villages ``C``: a
    candidate reaching a weighted village outside ``C`` is in no optimal selection and
    drops out, and what is left is a small set cover of ``C``.
    """
    n_cand = len(x)
    counts = np.diff(indptr)
    owner = np.repeat(np.arange(n_cand, dtype=np.int64), counts)
    target = np.zeros(len(weights), dtype=bool)
    target[indices[np.repeat(x, counts)]] = True
    target &= keep_pt
    outside = keep_pt & ~target
    eligible = useful & (np.bincount(owner, weights=outside[indices], minlength=n_cand) == 0)
    cols = np.flatnonzero(eligible)
    col_of = np.full(n_cand, -1, dtype=np.int64)
    col_of[cols] = np.arange(len(cols))
    row_of = np.full(len(weights), -1, dtype=np.int64)
    n_tgt = int(target.sum())
    row_of[target] = np.arange(n_tgt)
    entry = eligible[owner] & target[indices]
    e_col, e_row = col_of[owner[entry]], row_of[indices[entry]]

    rows, vals, row_lower, row_upper = [e_row], [np.ones(len(e_col))], [np.ones(n_tgt)], [
        np.full(n_tgt, highspy.kHighsInf)]
    col_idx = [e_col]
    n_row = n_tgt
    if max_sites is not None:
        col_idx.append(np.arange(len(cols)))
        rows.append(np.full(len(cols), n_row))
        vals.append(np.ones(len(cols)))
        row_lower.append(np.array([-highspy.kHighsInf]))
        row_upper.append(np.array([float(max_sites)]))
        n_row += 1
    if budget is not None:
        assert costs is not None
        nz = np.flatnonzero(costs[cols] > 0)
        col_idx.append(nz)
        rows.append(np.full(len(nz), n_row))
        vals.append(costs[cols[nz]])
        row_lower.append(np.array([-highspy.kHighsInf]))
        row_upper.append(np.array([float(budget)]))
        n_row += 1
    spread = pref.max() - pref.min()
    p = (pref[cols] - pref.min()) / spread if spread > 0 else np.zeros(len(cols))
    # Each site costs 1 plus under 1/(m + 1) for lacking preference: with at most m
    # sites, the count decides first and the preference among equal counts.
    site_cost = 1.0 + (1.0 - p) / (len(cols) + 1)
    h = _model(len(cols), n_row, np.concatenate(col_idx), np.concatenate(rows),
               np.concatenate(vals), col_cost=site_cost, col_upper=np.ones(len(cols)),
               row_lower=np.concatenate(row_lower), row_upper=np.concatenate(row_upper),
               integrality=np.ones(len(cols), np.int32), maximise=False)
    _solve(h, x[cols].astype(float), deadline)
    second = np.zeros(n_cand, dtype=bool)
    second[cols] = _solution_x(h, len(cols), fallback=x[cols].astype(float))
    if _covered_weight(second, weights, indptr, indices) >= _covered_weight(
            x, weights, indptr, indices):
        return second
    return x


def _model(n_col: int, n_row: int, col_idx: np.ndarray, row_idx: np.ndarray,
           vals: np.ndarray, *, col_cost: np.ndarray, col_upper: np.ndarray,
           row_lower: np.ndarray, row_upper: np.ndarray, integrality: np.ndarray,
           maximise: bool) -> highspy.Highs:
    """Build a silent HiGHS model from (column, row, value) triplets, bounds and costs."""
    order = np.argsort(col_idx, kind="stable")
    a_index = row_idx[order].astype(np.int32)
    a_start = np.searchsorted(col_idx[order], np.arange(n_col)).astype(np.int32)
    sense = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", _MIP_REL_GAP)
    h.passModel(n_col, n_row, len(a_index), int(highspy.MatrixFormat.kColwise), int(sense),
                0.0, col_cost, np.zeros(n_col), col_upper, row_lower, row_upper, a_start,
                a_index, vals[order], integrality)
    return h


def _covered_weight(x: np.ndarray, weights: np.ndarray, indptr: np.ndarray,
                    indices: np.ndarray) -> float:
    counts = np.diff(indptr)
    hit = np.zeros(len(weights), dtype=bool)
    hit[indices[np.repeat(x.astype(bool), counts)]] = True
    return math.fsum(weights[hit])


def _solve(h: highspy.Highs, start: np.ndarray, deadline: float) -> None:
    h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1e-3))
    h.setSolution(len(start), np.arange(len(start), dtype=np.int32), start)
    h.run()


def _status(h: highspy.Highs) -> str:
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return "optimal"
    if status == highspy.HighsModelStatus.kTimeLimit:
        return "time_limit"
    return h.modelStatusToString(status).lower().replace(" ", "_")


def _solution_x(h: highspy.Highs, n_cand: int, *, fallback: np.ndarray) -> np.ndarray:
    if h.getInfo().primal_solution_status != highspy.kSolutionStatusFeasible:
        return fallback > 0.5
    return np.asarray(h.getSolution().col_value[:n_cand]) > 0.5


def _bound(h: highspy.Highs) -> float | None:
    bound = float(h.getInfo().mip_dual_bound)
    return bound if math.isfinite(bound) else None


# --- checks ---------------------------------------------------------------------------

def _unique_per_row(indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each candidate's points and drop repeats, so a point counts once."""
    n_cand = len(indptr) - 1
    owner = np.repeat(np.arange(n_cand, dtype=np.int64), np.diff(indptr))
    order = np.lexsort((indices, owner))
    idx, own = indices[order], owner[order]
    first = np.ones(len(idx), dtype=bool)
    first[1:] = (idx[1:] != idx[:-1]) | (own[1:] != own[:-1])
    counts = np.bincount(own[first], minlength=n_cand)
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64), idx[first]



def _is_number(value: object) -> bool:
    return (isinstance(value, int | float | np.integer | np.floating)
            and not isinstance(value, bool) and math.isfinite(value))


def _int_array(name: str, value: object, problems: list[str]) -> np.ndarray | None:
    arr = np.asarray(value)
    if arr.ndim != 1:
        problems.append(f"{name} must be 1-D; got shape {arr.shape}")
        return None
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        problems.append(f"{name} must hold integers; got dtype {arr.dtype}")
        return None
    return arr.astype(np.int64)


def _float_array(name: str, value: object, length: int | None, what: str,
                 problems: list[str], *, nonnegative: bool) -> np.ndarray | None:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        problems.append(f"{name} must be numbers; got {type(value).__name__}")
        return None
    if arr.ndim != 1:
        problems.append(f"{name} must be 1-D; got shape {arr.shape}")
        return None
    if length is not None and len(arr) != length:
        problems.append(f"{name} has {len(arr)} values; expected one per {what} ({length})")
        return None
    bad = ~np.isfinite(arr)
    if nonnegative:
        bad |= arr < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        rule = "finite and >= 0" if nonnegative else "finite"
        problems.append(f"{name} must be {rule}: {int(bad.sum())} value(s) are not, the "
                        f"first at index {i} ({float(arr[i])!r})")
        return None
    return arr


def _checked(indptr: object, indices: object, weights: object, *, max_sites: object,
             costs: object, budget: object, preference: object, mode: object,
             time_limit_s: object) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                            np.ndarray | None, np.ndarray]:
    """Return the arrays as int64/float64, or raise InputError listing every problem."""
    problems: list[str] = []
    if mode not in MODES:
        problems.append(f"mode {mode!r} is not valid; valid values: {quoted(MODES)}")
    w = _float_array("weights", weights, None, "demand point", problems, nonnegative=True)
    ptr = _int_array("cover_indptr", indptr, problems)
    idx = _int_array("cover_indices", indices, problems)
    n_cand = None
    if ptr is not None and idx is not None:
        if len(ptr) == 0:
            problems.append("cover_indptr is empty; it needs one entry per candidate plus "
                            "one, starting at 0 ([0] for no candidates)")
        elif ptr[0] != 0 or ptr[-1] != len(idx) or np.any(np.diff(ptr) < 0):
            problems.append(
                f"cover_indptr must start at 0, never decrease and end at "
                f"len(cover_indices) = {len(idx)}; got {ptr[0]} ... {ptr[-1]}"
                f"{' with decreases' if np.any(np.diff(ptr) < 0) else ''}")
        else:
            n_cand = len(ptr) - 1
        if w is not None and idx.size and (idx.min() < 0 or idx.max() >= len(w)):
            bad = int(np.flatnonzero((idx < 0) | (idx >= len(w)))[0])
            problems.append(f"cover_indices[{bad}] = {idx[bad]} is not a demand point: "
                            f"weights has {len(w)}, so indices must be in 0..{len(w) - 1}")
    cost_arr = None
    if costs is not None:
        cost_arr = _float_array("costs", costs, n_cand, "candidate", problems,
                                nonnegative=True)
    pref = None
    if preference is not None:
        pref = _float_array("preference", preference, n_cand, "candidate", problems,
                            nonnegative=False)
    if max_sites is not None and not (isinstance(max_sites, int | np.integer)
                                      and not isinstance(max_sites, bool) and max_sites >= 0):
        problems.append(f"max_sites must be a whole number >= 0 or None; got {max_sites!r}")
    if budget is not None:
        if not (_is_number(budget) and budget >= 0):
            problems.append(f"budget must be a finite number >= 0 or None; got {budget!r}")
        if costs is None:
            problems.append("budget was given without costs; pass costs= (one per candidate,"
                            " in the budget's unit) or use max_sites= to count sites")
    if not (_is_number(time_limit_s) and time_limit_s > 0):
        problems.append(f"time_limit_s must be a number > 0; got {time_limit_s!r}")
    if problems:
        n = len(problems)
        raise InputError(f"select_sites: {n} invalid argument{'s' if n > 1 else ''}",
                         problems)
    assert ptr is not None and idx is not None and w is not None and n_cand is not None
    if pref is None:
        pref = np.zeros(n_cand)
    return ptr, idx, w, cost_arr, pref
