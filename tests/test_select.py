"""Site selection (covgap.planning.select): hand-solved instances, edge cases, brute force."""

from __future__ import annotations

import itertools
import math

import highspy
import numpy as np
import pytest

import covgap.planning.select as select_module
from covgap.errors import InputError
from covgap.planning.select import Selection, select_sites

MODES = ("greedy", "exact")


def csr(sets: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """CSR arrays from one list of demand-point indices per candidate."""
    indptr = np.concatenate([[0], np.cumsum([len(s) for s in sets])]).astype(np.int64)
    indices = np.array([j for s in sets for j in s], dtype=np.int64)
    return indptr, indices


def covered_weight(sets: list[list[int]], weights: np.ndarray, chosen) -> float:
    hit = set().union(*(sets[i] for i in chosen)) if len(chosen) else set()
    return float(sum(weights[j] for j in hit))


def check_consistent(sel: Selection, sets, weights, costs=None) -> None:
    """What any Selection must satisfy, whatever the instance."""
    assert len(set(sel.chosen.tolist())) == len(sel.chosen)
    assert sel.objective == pytest.approx(covered_weight(sets, weights, sel.chosen))
    assert sel.objective == pytest.approx(sel.gains.sum())
    assert np.all(sel.gains > 0)
    expected_cost = len(sel.chosen) if costs is None else float(np.sum(costs[sel.chosen]))
    assert sel.cost == pytest.approx(expected_cost)
    assert sel.seconds >= 0


# --- 1. greedy suboptimal ---------------------------------------------------------------

# Points a..f = 0..5. X covers the heavy middle b..e (14); Y covers a..c (10) and Z
# covers d..f (10), disjoint halves. With two sites greedy takes X (14), then Y or Z adds
# only a or f (3): 17. The optimum is Y + Z = 20.
A, B, C, D, E, F = range(6)
TRAP_WEIGHTS = np.array([3.0, 3.0, 4.0, 4.0, 3.0, 3.0])
TRAP_SETS = [[B, C, D, E], [A, B, C], [D, E, F]]  # X, Y, Z


def test_greedy_is_suboptimal_on_the_hand_instance():
    indptr, indices = csr(TRAP_SETS)
    sel = select_sites(indptr, indices, TRAP_WEIGHTS, max_sites=2)
    # X first; Y and Z tie on gain 3 and preference, so the lower index (Y) wins.
    assert sel.chosen.tolist() == [0, 1]
    assert sel.gains.tolist() == [14.0, 3.0]
    assert sel.objective == 17.0
    assert sel.mode == "greedy" and sel.status == "heuristic"
    assert sel.optimality_gap is None and sel.bound is None
    check_consistent(sel, TRAP_SETS, TRAP_WEIGHTS)


def test_exact_finds_the_hand_optimum_and_reports_greedy_gap():
    indptr, indices = csr(TRAP_SETS)
    sel = select_sites(indptr, indices, TRAP_WEIGHTS, max_sites=2, mode="exact")
    assert sorted(sel.chosen.tolist()) == [1, 2]  # Y + Z
    assert sel.objective == 20.0
    assert sel.gains.tolist() == [10.0, 10.0]
    assert sel.mode == "exact" and sel.status == "optimal"
    assert sel.bound == pytest.approx(20.0)
    assert sel.optimality_gap == pytest.approx((20.0 - 17.0) / 20.0)
    greedy = select_sites(indptr, indices, TRAP_WEIGHTS, max_sites=2)
    assert sel.objective >= greedy.objective
    check_consistent(sel, TRAP_SETS, TRAP_WEIGHTS)


def test_exact_orders_the_optimal_set_by_marginal_gain():
    # 0 covers {0, 1}: 3 + 2 = 5; 1 covers {2}: 4; 2 covers {1, 3}: 2 + 4 = 6. Each is the
    # only one reaching some village, so the optimum for 3 sites takes all three: 13.
    sets = [[0, 1], [2], [1, 3]]
    weights = np.array([3.0, 2.0, 4.0, 4.0])
    indptr, indices = csr(sets)
    sel = select_sites(indptr, indices, weights, max_sites=3, mode="exact")
    # 2 first (6), then 0 adds only point 0 (3) and 1 adds point 2 (4): 1 before 0.
    assert sel.chosen.tolist() == [2, 1, 0]
    assert sel.gains.tolist() == [6.0, 4.0, 3.0]
    assert sel.objective == 13.0


# --- 2. greedy optimal ------------------------------------------------------------------

def test_greedy_optimal_instance_gives_the_same_answer_in_both_modes():
    # A {0,1} = 10, B {2,3} = 6, C {1,2} = 9, D {4} = 1. Two sites: A + B = 16 is the
    # unique optimum (A + C = 14, B + C = 11), and greedy takes A then B.
    sets = [[0, 1], [2, 3], [1, 2], [4]]
    weights = np.array([5.0, 5.0, 4.0, 2.0, 1.0])
    indptr, indices = csr(sets)
    greedy = select_sites(indptr, indices, weights, max_sites=2)
    exact = select_sites(indptr, indices, weights, max_sites=2, mode="exact")
    assert greedy.chosen.tolist() == exact.chosen.tolist() == [0, 1]
    assert greedy.objective == exact.objective == 16.0
    assert exact.optimality_gap == 0.0
    assert exact.status == "optimal"


def test_without_limits_everything_coverable_is_covered():
    sets = [[0, 1], [2, 3], [1, 2], [4]]
    weights = np.array([5.0, 5.0, 4.0, 2.0, 1.0, 7.0])  # point 5: no candidate reaches it
    indptr, indices = csr(sets)
    for mode in MODES:
        sel = select_sites(indptr, indices, weights, mode=mode)
        assert sel.objective == 17.0
        assert sorted(sel.chosen.tolist()) == [0, 1, 3]  # C adds nothing after A and B


# --- 3. budget --------------------------------------------------------------------------

# A {0,1} = 8 for 4; B {2} = 3 for 1; C {3,4} = 10 for 6; D {1,2} = 7 for 2. Budget 7.
# Ratio greedy: D (3.5), then A (4 more for 4: 1.0) since C (10/6) no longer fits in the
# 5 left; B then adds nothing: 11 for 6. Best single affordable: C, 10. Optimum: C + B,
# 13 for 7 (A + D: 11; A + B + D: 11 for 7).
BUDGET_SETS = [[0, 1], [2], [3, 4], [1, 2]]
BUDGET_WEIGHTS = np.array([4.0, 4.0, 3.0, 5.0, 5.0])
BUDGET_COSTS = np.array([4.0, 1.0, 6.0, 2.0])


def test_budget_greedy_takes_the_best_ratio_that_fits():
    indptr, indices = csr(BUDGET_SETS)
    sel = select_sites(indptr, indices, BUDGET_WEIGHTS, costs=BUDGET_COSTS, budget=7.0)
    assert sel.chosen.tolist() == [3, 0]
    assert sel.gains.tolist() == [7.0, 4.0]
    assert sel.cost == 6.0
    check_consistent(sel, BUDGET_SETS, BUDGET_WEIGHTS, BUDGET_COSTS)


def test_budget_exact_finds_the_hand_optimum():
    indptr, indices = csr(BUDGET_SETS)
    sel = select_sites(indptr, indices, BUDGET_WEIGHTS, costs=BUDGET_COSTS, budget=7.0,
                       mode="exact")
    assert sorted(sel.chosen.tolist()) == [1, 2]
    assert sel.objective == 13.0
    assert sel.cost == 7.0
    assert sel.optimality_gap == pytest.approx((13.0 - 11.0) / 13.0)
    check_consistent(sel, BUDGET_SETS, BUDGET_WEIGHTS, BUDGET_COSTS)


def test_budget_greedy_falls_back_to_the_best_single_candidate():
    # S {0} = 2 for 1 (ratio 2) beats L {1,2} = 10 for 10 (ratio 1) on ratio, and once
    # S is in, L no longer fits the budget of 10: ratio greedy covers 2. The best single
    # affordable candidate, L, covers 10, which is also the optimum.
    sets = [[0], [1, 2]]
    weights = np.array([2.0, 5.0, 5.0])
    costs = np.array([1.0, 10.0])
    indptr, indices = csr(sets)
    for mode in MODES:
        sel = select_sites(indptr, indices, weights, costs=costs, budget=10.0, mode=mode)
        assert sel.chosen.tolist() == [1]
        assert sel.objective == 10.0
        assert sel.cost == 10.0
    exact = select_sites(indptr, indices, weights, costs=costs, budget=10.0, mode="exact")
    assert exact.optimality_gap == 0.0


def test_budget_and_max_sites_together():
    indptr, indices = csr(BUDGET_SETS)
    for mode in MODES:
        sel = select_sites(indptr, indices, BUDGET_WEIGHTS, costs=BUDGET_COSTS, budget=7.0,
                           max_sites=1, mode=mode)
        assert sel.chosen.tolist() == [2]  # C alone: 10, the best single one within 7
        assert sel.objective == 10.0


def test_zero_cost_candidates_are_taken_first_under_a_budget():
    sets = [[0], [1], [2]]
    weights = np.array([1.0, 5.0, 4.0])
    costs = np.array([0.0, 5.0, 1.0])
    indptr, indices = csr(sets)
    sel = select_sites(indptr, indices, weights, costs=costs, budget=1.0)
    assert sel.chosen.tolist() == [0, 2]
    assert sel.objective == 5.0 and sel.cost == 1.0


def test_costs_without_budget_are_only_reported():
    indptr, indices = csr(TRAP_SETS)
    sel = select_sites(indptr, indices, TRAP_WEIGHTS, max_sites=2, costs=[1.0, 2.5, 4.0])
    assert sel.chosen.tolist() == [0, 1]
    assert sel.cost == 3.5


# --- 4. preference ----------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_preference_breaks_a_tie_in_coverage(mode):
    # Candidate 0 is a new site, candidate 1 shares an existing tower: same villages.
    sets = [[0, 1], [0, 1], [2]]
    weights = np.array([300.0, 150.0, 50.0])
    indptr, indices = csr(sets)
    share = np.array([0.0, 1.0, 0.0])
    sel = select_sites(indptr, indices, weights, max_sites=1, preference=share, mode=mode)
    assert sel.chosen.tolist() == [1]
    assert sel.objective == 450.0
    # Without preference the lower index wins the tie (greedy).
    if mode == "greedy":
        assert select_sites(indptr, indices, weights, max_sites=1).chosen.tolist() == [0]


@pytest.mark.parametrize("mode", MODES)
def test_preference_never_trades_covered_weight(mode):
    # The new site (0) reaches one more village than the shared tower (1): it must win,
    # even by a small margin.
    sets = [[0, 1, 2], [0, 1]]
    weights = np.array([1000.0, 500.0, 0.001])
    indptr, indices = csr(sets)
    sel = select_sites(indptr, indices, weights, max_sites=1, preference=[0.0, 1.0],
                       mode=mode)
    assert sel.chosen.tolist() == [0]
    assert sel.objective == pytest.approx(1500.001)


@pytest.mark.parametrize("mode", MODES)
def test_preference_among_several_sites_adds_no_useless_one(mode):
    # 0 (new) and 1 (share) cover the same pair, 2 (new) covers a third village. Three
    # sites are allowed but two cover everything: the share and 2, and nothing else
    # (a third, preferred or not, would add no one).
    sets = [[0, 1], [0, 1], [2]]
    weights = np.array([300.0, 150.0, 50.0])
    indptr, indices = csr(sets)
    sel = select_sites(indptr, indices, weights, max_sites=3, preference=[0.0, 1.0, 0.0],
                       mode=mode)
    assert sel.chosen.tolist() == [1, 2]
    assert sel.objective == 500.0


def test_exact_with_preference_prefers_fewer_sites_at_equal_coverage():
    # One new site (2) covers both villages; two shares (0, 1) cover one each. All reach
    # the same people; exact takes the single site, as greedy does.
    sets = [[0], [1], [0, 1]]
    weights = np.array([10.0, 10.0])
    indptr, indices = csr(sets)
    for mode in MODES:
        sel = select_sites(indptr, indices, weights, max_sites=2, preference=[1.0, 1.0, 0.0],
                           mode=mode)
        assert sel.chosen.tolist() == [2]


# --- 5. edge cases ----------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_no_candidate_covers_anything(mode):
    indptr, indices = csr([[], [], []])
    sel = select_sites(indptr, indices, np.array([1.0, 2.0]), max_sites=2, mode=mode)
    assert sel.chosen.tolist() == [] and sel.gains.tolist() == []
    assert sel.objective == 0.0 and sel.cost == 0.0
    assert sel.chosen.dtype == np.int64
    if mode == "exact":
        assert sel.optimality_gap == 0.0 and sel.status == "optimal"


@pytest.mark.parametrize("mode", MODES)
def test_no_candidates_at_all(mode):
    sel = select_sites(np.array([0]), np.array([], dtype=int), np.array([1.0]), mode=mode)
    assert sel.chosen.tolist() == [] and sel.objective == 0.0


@pytest.mark.parametrize("mode", MODES)
def test_max_sites_zero(mode):
    indptr, indices = csr(TRAP_SETS)
    sel = select_sites(indptr, indices, TRAP_WEIGHTS, max_sites=0, mode=mode)
    assert sel.chosen.tolist() == [] and sel.objective == 0.0


@pytest.mark.parametrize("mode", MODES)
def test_budget_below_every_cost(mode):
    indptr, indices = csr(TRAP_SETS)
    sel = select_sites(indptr, indices, TRAP_WEIGHTS, costs=[5.0, 5.0, 5.0], budget=4.9,
                       mode=mode)
    assert sel.chosen.tolist() == [] and sel.objective == 0.0


@pytest.mark.parametrize("mode", MODES)
def test_duplicate_indices_count_once(mode):
    # Candidate 0 lists village 0 three times: it covers 4, not 12, so 1 (covers 5) wins.
    indptr, indices = csr([[0, 0, 0], [1]])
    weights = np.array([4.0, 5.0])
    sel = select_sites(indptr, indices, weights, max_sites=1, mode=mode)
    assert sel.chosen.tolist() == [1]
    both = select_sites(indptr, indices, weights, max_sites=2, mode=mode)
    assert both.objective == 9.0
    assert sorted(both.gains.tolist()) == [4.0, 5.0]


@pytest.mark.parametrize("mode", MODES)
def test_zero_weights_are_not_worth_a_site(mode):
    # Candidate 0 covers only zero-weight villages; candidate 1 covers one person.
    indptr, indices = csr([[0, 1], [2]])
    weights = np.array([0.0, 0.0, 1.0])
    sel = select_sites(indptr, indices, weights, max_sites=2, mode=mode)
    assert sel.chosen.tolist() == [1]
    assert sel.objective == 1.0
    nothing = select_sites(indptr, indices, np.zeros(3), max_sites=2, mode=mode)
    assert nothing.chosen.tolist() == []


def test_inputs_are_not_modified_and_lists_are_accepted():
    sets = [[2, 0, 0], [1]]
    indptr, indices = csr(sets)
    weights = np.array([1.0, 2.0, 3.0])
    before = (indptr.copy(), indices.copy(), weights.copy())
    sel = select_sites(indptr, indices, weights, max_sites=1, mode="exact")
    assert sel.chosen.tolist() == [0]
    for a, b in zip(before, (indptr, indices, weights), strict=True):
        np.testing.assert_array_equal(a, b)
    listed = select_sites(indptr.tolist(), indices.tolist(), weights.tolist(), max_sites=1)
    assert listed.chosen.tolist() == [0]


def test_time_limit_returns_the_incumbent_and_the_bound():
    # A random instance too large to prove optimal in a millisecond.
    rng = np.random.default_rng(7)
    n_cand, n_pts = 400, 3000
    sets = [rng.choice(n_pts, size=rng.integers(5, 60), replace=False).tolist()
            for _ in range(n_cand)]
    weights = rng.integers(1, 1000, size=n_pts).astype(float)
    indptr, indices = csr(sets)
    greedy = select_sites(indptr, indices, weights, max_sites=40)
    sel = select_sites(indptr, indices, weights, max_sites=40, mode="exact",
                       time_limit_s=1e-3)
    assert sel.status == "time_limit"
    assert sel.objective >= greedy.objective  # greedy is HiGHS's starting solution
    assert sel.bound is not None and sel.bound >= sel.objective
    assert len(sel.chosen) <= 40
    check_consistent(sel, sets, weights)


# --- errors -----------------------------------------------------------------------------

def test_unknown_mode_lists_the_valid_values():
    indptr, indices = csr(TRAP_SETS)
    with pytest.raises(InputError, match=r"mode 'optimal' is not valid; valid values: "
                                         r"'greedy', 'exact'"):
        select_sites(indptr, indices, TRAP_WEIGHTS, mode="optimal")


def test_negative_weights():
    indptr, indices = csr(TRAP_SETS)
    weights = TRAP_WEIGHTS.copy()
    weights[4] = -1.0
    with pytest.raises(ValueError, match=r"weights must be finite and >= 0: 1 value\(s\) "
                                         r"are not, the first at index 4 \(-1.0\)"):
        select_sites(indptr, indices, weights)


def test_nan_weights():
    indptr, indices = csr(TRAP_SETS)
    weights = TRAP_WEIGHTS.copy()
    weights[0] = np.nan
    with pytest.raises(InputError, match=r"weights must be finite and >= 0"):
        select_sites(indptr, indices, weights)


def test_indptr_that_does_not_fit_indices():
    with pytest.raises(InputError, match=r"cover_indptr must start at 0, never decrease and "
                                         r"end at len\(cover_indices\) = 3; got 0 \.\.\. 4"):
        select_sites(np.array([0, 2, 4]), np.array([0, 1, 1]), np.ones(2))
    with pytest.raises(InputError, match=r"with decreases"):
        select_sites(np.array([0, 3, 2, 3]), np.array([0, 1, 1]), np.ones(2))
    with pytest.raises(InputError, match=r"cover_indptr is empty"):
        select_sites(np.array([], dtype=int), np.array([], dtype=int), np.ones(2))


def test_index_outside_the_weights():
    with pytest.raises(InputError, match=r"cover_indices\[2\] = 5 is not a demand point: "
                                         r"weights has 2, so indices must be in 0\.\.1"):
        select_sites(np.array([0, 2, 3]), np.array([0, 1, 5]), np.ones(2))


def test_non_integer_csr():
    with pytest.raises(InputError, match=r"cover_indices must hold integers; got dtype "
                                         r"float64"):
        select_sites(np.array([0, 1]), np.array([0.5]), np.ones(2))
    with pytest.raises(InputError, match=r"cover_indptr must be 1-D; got shape \(1, 2\)"):
        select_sites(np.array([[0, 1]]), np.array([0]), np.ones(2))


def test_per_candidate_arrays_of_the_wrong_length():
    indptr, indices = csr(TRAP_SETS)
    with pytest.raises(InputError, match=r"costs has 2 values; expected one per candidate "
                                         r"\(3\)"):
        select_sites(indptr, indices, TRAP_WEIGHTS, costs=[1.0, 2.0], budget=3.0)
    with pytest.raises(InputError, match=r"preference has 4 values; expected one per "
                                         r"candidate \(3\)"):
        select_sites(indptr, indices, TRAP_WEIGHTS, preference=np.zeros(4))


def test_negative_costs():
    indptr, indices = csr(TRAP_SETS)
    with pytest.raises(InputError, match=r"costs must be finite and >= 0: 1 value\(s\) are "
                                         r"not, the first at index 1 \(-2.0\)"):
        select_sites(indptr, indices, TRAP_WEIGHTS, costs=[1.0, -2.0, 1.0], budget=3.0)


def test_budget_without_costs():
    indptr, indices = csr(TRAP_SETS)
    with pytest.raises(InputError, match=r"budget was given without costs; pass costs="):
        select_sites(indptr, indices, TRAP_WEIGHTS, budget=3.0)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_sites": -1}, r"max_sites must be a whole number >= 0 or None; got -1"),
    ({"max_sites": 2.5}, r"max_sites must be a whole number >= 0 or None; got 2.5"),
    ({"max_sites": True}, r"max_sites must be a whole number >= 0 or None; got True"),
    ({"costs": [1.0, 1.0, 1.0], "budget": -1.0},
     r"budget must be a finite number >= 0 or None; got -1.0"),
    ({"time_limit_s": 0}, r"time_limit_s must be a number > 0; got 0"),
])
def test_bad_options(kwargs, message):
    indptr, indices = csr(TRAP_SETS)
    with pytest.raises(InputError, match=message):
        select_sites(indptr, indices, TRAP_WEIGHTS, **kwargs)


def test_every_problem_is_reported_at_once():
    indptr, indices = csr(TRAP_SETS)
    with pytest.raises(InputError, match=r"select_sites: 3 invalid arguments") as info:
        select_sites(indptr, indices, -TRAP_WEIGHTS, max_sites=-2, mode="fast")
    assert len(info.value.problems) == 3


# --- 6. brute force ---------------------------------------------------------------------

def brute_force(cover: np.ndarray, weights: np.ndarray, *, max_sites=None, costs=None,
                budget=None) -> float:
    """Best covered weight over all subsets of candidates (cover: candidates x points)."""
    n = cover.shape[0]
    subsets = np.array(list(itertools.product([False, True], repeat=n)), dtype=bool)
    ok = np.ones(len(subsets), dtype=bool)
    if max_sites is not None:
        ok &= subsets.sum(axis=1) <= max_sites
    if budget is not None:
        ok &= subsets.astype(float) @ costs <= budget + 1e-9
    hit = (subsets.astype(int) @ cover.astype(int)) > 0
    return float((hit @ weights)[ok].max())


@pytest.mark.parametrize("seed", range(50))
def test_exact_matches_brute_force_and_beats_greedy(seed):
    rng = np.random.default_rng(seed)
    n_cand = int(rng.integers(1, 13))
    n_pts = int(rng.integers(1, 16))
    cover = rng.random((n_cand, n_pts)) < rng.uniform(0.1, 0.5)
    sets = [np.flatnonzero(row).tolist() for row in cover]
    # Integer weights (some zero) keep ties exact; populations are whole numbers anyway.
    weights = rng.integers(0, 50, size=n_pts).astype(float)
    indptr, indices = csr(sets)
    if seed % 2:
        kwargs = {"max_sites": int(rng.integers(0, n_cand + 1))}
        guarantee = 1 - 1 / math.e
    else:
        costs = rng.integers(1, 10, size=n_cand).astype(float)
        kwargs = {"costs": costs, "budget": float(rng.integers(0, 20))}
        guarantee = (1 - 1 / math.e) / 2
    optimum = brute_force(cover, weights, **kwargs)
    exact = select_sites(indptr, indices, weights, mode="exact", **kwargs)
    greedy = select_sites(indptr, indices, weights, **kwargs)
    assert exact.status == "optimal"
    assert exact.objective == pytest.approx(optimum)
    assert exact.bound == pytest.approx(optimum, abs=1e-6)
    assert exact.objective >= greedy.objective - 1e-9
    assert greedy.objective >= guarantee * optimum - 1e-9
    expected_gap = (optimum - greedy.objective) / optimum if optimum > 0 else 0.0
    assert exact.optimality_gap == pytest.approx(expected_gap, abs=1e-12)
    for sel in (exact, greedy):
        costs = kwargs.get("costs")
        check_consistent(sel, sets, weights, costs)
        if "max_sites" in kwargs:
            assert len(sel.chosen) <= kwargs["max_sites"]
        else:
            assert sel.cost <= kwargs["budget"] + 1e-9
    # Ordered by marginal gain: non-increasing (greedy by ratio under a budget need not be).
    assert np.all(np.diff(exact.gains) <= 1e-12)
    if "max_sites" in kwargs:
        assert np.all(np.diff(greedy.gains) <= 1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_exact_preference_is_lexicographic_over_the_covered_villages(seed):
    # Exact with preference keeps the optimal weight; among the selections covering the
    # same weighted villages it has the fewest sites, then the highest total preference.
    rng = np.random.default_rng(1000 + seed)
    n_cand, n_pts = int(rng.integers(2, 11)), int(rng.integers(2, 10))
    cover = rng.random((n_cand, n_pts)) < 0.35
    cover[n_cand // 2:] = cover[: n_cand - n_cand // 2]  # duplicated sets make ties
    weights = rng.integers(0, 20, size=n_pts).astype(float)
    pref = rng.integers(0, 3, size=n_cand).astype(float)
    sets = [np.flatnonzero(row).tolist() for row in cover]
    indptr, indices = csr(sets)
    max_sites = int(rng.integers(1, n_cand + 1))
    plain = select_sites(indptr, indices, weights, max_sites=max_sites, mode="exact")
    sel = select_sites(indptr, indices, weights, max_sites=max_sites, mode="exact",
                       preference=pref)
    assert sel.objective == pytest.approx(brute_force(cover, weights, max_sites=max_sites))
    assert sel.objective == pytest.approx(plain.objective)
    chosen = np.zeros(n_cand, dtype=bool)
    chosen[sel.chosen] = True
    villages = (cover[chosen].any(axis=0)) & (weights > 0)
    best = None
    for mask in itertools.product([False, True], repeat=n_cand):
        m = np.array(mask)
        if m.sum() > max_sites:
            continue
        if np.array_equal(cover[m].any(axis=0) & (weights > 0), villages):
            key = (int(m.sum()), -float(pref[m].sum()))
            best = key if best is None else min(best, key)
    assert (len(sel.chosen), -float(pref[sel.chosen].sum())) == best


def plain_greedy(sets, weights, pref, *, max_sites=None, costs=None, budget=None):
    """Greedy without lazy evaluation: every gain recomputed every round."""
    covered: set[int] = set()
    chosen: list[int] = []
    spent = 0.0
    limit = len(sets) if max_sites is None else max_sites
    while len(chosen) < limit:
        best = None
        for i, s in enumerate(sets):
            if i in chosen or (budget is not None and spent + costs[i] > budget):
                continue
            g = float(sum(weights[j] for j in set(s) - covered))
            if g <= 0:
                continue
            ratio = g if budget is None else (g / costs[i] if costs[i] > 0 else math.inf)
            key = (-ratio, -g, -pref[i], i)
            best = key if best is None or key < best else best
        if best is None:
            break
        chosen.append(best[3])
        covered |= set(sets[best[3]])
        if budget is not None:
            spent += costs[best[3]]
    return chosen


@pytest.mark.parametrize("seed", range(30))
def test_lazy_greedy_picks_what_plain_greedy_picks(seed):
    # Ties are frequent (small integer weights, repeated sets, few preference levels), so
    # this also checks that lazy evaluation keeps the tie-break order.
    rng = np.random.default_rng(2000 + seed)
    n_cand, n_pts = int(rng.integers(5, 40)), int(rng.integers(5, 60))
    cover = rng.random((n_cand, n_pts)) < 0.15
    cover[n_cand // 2:] = cover[: n_cand - n_cand // 2]  # every set twice
    sets = [np.flatnonzero(row).tolist() for row in cover]
    weights = rng.integers(0, 4, size=n_pts).astype(float)
    pref = rng.integers(0, 2, size=n_cand).astype(float)
    indptr, indices = csr(sets)
    if seed % 2:
        kwargs = {"max_sites": int(rng.integers(1, n_cand + 1))}
    else:
        kwargs = {"costs": rng.integers(1, 4, size=n_cand).astype(float),
                  "budget": float(rng.integers(1, 15))}
    sel = select_sites(indptr, indices, weights, preference=pref, **kwargs)
    expected = plain_greedy(sets, weights, pref, **kwargs)
    if "budget" in kwargs:
        # The best single affordable candidate replaces ratio-greedy when it covers more.
        affordable = [i for i in range(n_cand) if kwargs["costs"][i] <= kwargs["budget"]]
        singles = [(-covered_weight(sets, weights, [i]), -pref[i], i) for i in affordable]
        if singles and -min(singles)[0] > covered_weight(sets, weights, expected):
            expected = [min(singles)[2]]
    assert sel.chosen.tolist() == expected


# --- 7. the exact mode's reduced program ------------------------------------------------

def test_reduction_drops_dominated_candidates_and_merges_points():
    # Points 0..5. Candidate 1 covers what 0 covers and more; 2 and 3 cover the same set
    # (3 is dropped: the higher index); 4 covers point 5 alone, which no one else covers.
    # Points 1 and 2 are reached by the same kept candidates {1, 2}: one group of weight
    # 2 + 3; point 0 and point 3 only by candidate 1; 4 by 2 alone; 5 by 4.
    sets = [[0, 1], [0, 1, 2, 3], [1, 2, 4], [1, 2, 4], [5]]
    weights = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    indptr, indices = csr(sets)
    keep_pt = np.ones(6, dtype=bool)
    useful = np.ones(5, dtype=bool)
    red = select_module._reduced(indptr, indices, weights, keep_pt, useful, np.zeros(5))
    assert red.kept.tolist() == [1, 2, 4]
    assert red.dominator.tolist() == [1, 1, 2, 2, 4]
    assert red.lone_w.tolist() == [1.0 + 4.0, 5.0, 6.0]
    groups = [red.group_cand[a:b].tolist()
              for a, b in zip(red.group_ptr[:-1], red.group_ptr[1:], strict=True)]
    assert groups == [[0, 1]] and red.group_w.tolist() == [2.0 + 3.0]


def test_a_cheaper_subset_is_not_dominated():
    # Candidate 0 covers less than 1 but costs less: under a budget it may be the only
    # one that fits, so both stay; 2 covers 0's set at 0's cost and more: 0 goes.
    sets = [[0], [0, 1], [0, 1]]
    indptr, indices = csr(sets)
    red = select_module._reduced(indptr, indices, np.ones(2), np.ones(2, dtype=bool),
                                 np.ones(3, dtype=bool), np.array([1.0, 5.0, 1.0]))
    assert red.kept.tolist() == [2]
    red = select_module._reduced(indptr, indices, np.ones(2), np.ones(2, dtype=bool),
                                 np.ones(3, dtype=bool), np.array([1.0, 5.0, 2.0]))
    assert red.kept.tolist() == [0, 2]
    assert red.dominator.tolist() == [0, 2, 2]


def test_same_sets_groups_rows_like_their_bytes():
    rng = np.random.default_rng(5)
    rows_sets = [sorted(rng.choice(8, size=rng.integers(2, 4), replace=False).tolist())
                 for _ in range(300)]
    ptr, cand = csr(rows_sets)
    rows = np.arange(len(rows_sets))
    rep, inverse = select_module._same_sets(ptr, cand, rows)
    for r, g in enumerate(inverse):
        assert rows_sets[r] == rows_sets[rep[g]]
    assert len(rep) == len({tuple(s) for s in rows_sets})


def test_swap_search_leaves_the_trap_for_the_optimum():
    # From greedy's X (see the hand instance), one swap X -> Z and one add of Y reach
    # the optimum Y + Z.
    indptr, indices = csr(TRAP_SETS)
    by_pt = [[i for i, s in enumerate(TRAP_SETS) if j in s] for j in range(6)]
    pt_ptr, pt_cand = csr(by_pt)
    chosen = np.array([True, False, False])
    moves = select_module._swap_search(indptr, indices, pt_ptr, pt_cand, TRAP_WEIGHTS,
                                       np.zeros(3), math.inf, 2, chosen, 100)
    assert chosen.tolist() == [False, True, True] and moves == 2
    # with one move allowed it stops after the best first: adding Y (+3, point a)
    chosen = np.array([True, False, False])
    assert select_module._swap_search(indptr, indices, pt_ptr, pt_cand, TRAP_WEIGHTS,
                                      np.zeros(3), math.inf, 2, chosen, 1) == 1
    assert chosen.tolist() == [True, True, False]


def test_swap_search_keeps_the_budget():
    # Y and Z cost 3 each, X 4; with a budget of 5 only one fits, and X is worth most.
    indptr, indices = csr(TRAP_SETS)
    by_pt = [[i for i, s in enumerate(TRAP_SETS) if j in s] for j in range(6)]
    pt_ptr, pt_cand = csr(by_pt)
    chosen = np.array([False, True, False])
    select_module._swap_search(indptr, indices, pt_ptr, pt_cand, TRAP_WEIGHTS,
                               np.array([4.0, 3.0, 3.0]), 5.0, 3, chosen, 100)
    assert chosen.tolist() == [True, False, False]


def textbook_optimum(indptr, indices, weights, *, max_sites=None, costs=None, budget=None):
    """The full program (every candidate, one row per point) solved by HiGHS."""
    n_cand, n_pts = len(indptr) - 1, len(weights)
    owner = np.repeat(np.arange(n_cand), np.diff(indptr))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    inf = highspy.kHighsInf
    for _ in range(n_cand + n_pts):
        h.addVar(0.0, 1.0)
    h.changeColsIntegrality(n_cand, np.arange(n_cand, dtype=np.int32),
                            np.ones(n_cand, dtype=np.uint8))
    h.changeColsCost(n_pts, np.arange(n_cand, n_cand + n_pts, dtype=np.int32), weights)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    for j in range(n_pts):
        cands = owner[indices == j]
        h.addRow(-inf, 0.0, len(cands) + 1,
                 np.concatenate([cands, [n_cand + j]]).astype(np.int32),
                 np.concatenate([-np.ones(len(cands)), [1.0]]))
    if max_sites is not None:
        h.addRow(-inf, max_sites, n_cand, np.arange(n_cand, dtype=np.int32), np.ones(n_cand))
    if budget is not None:
        h.addRow(-inf, budget, n_cand, np.arange(n_cand, dtype=np.int32), costs)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h.getInfo().objective_function_value


@pytest.mark.parametrize("seed", range(6))
def test_exact_reaches_the_textbook_programs_optimum(seed):
    # Medium instances with nested and repeated sets, where the reduction drops and
    # merges a lot: the reduced program's optimum is the full program's.
    rng = np.random.default_rng(300 + seed)
    n_cand, n_pts = 120, 400
    xy_c, xy_p = rng.uniform(0, 10, (n_cand, 2)), rng.uniform(0, 10, (n_pts, 2))
    radius = rng.uniform(0.8, 1.6, n_cand)
    cover = ((xy_c[:, None] - xy_p[None]) ** 2).sum(-1) <= radius[:, None] ** 2
    cover[:119:7] = cover[1::7]  # some candidates repeated
    sets = [np.flatnonzero(row).tolist() for row in cover]
    weights = rng.integers(0, 100, n_pts).astype(float)
    indptr, indices = csr(sets)
    if seed % 2:
        kwargs = {"max_sites": int(rng.integers(3, 15))}
    else:
        kwargs = {"costs": rng.integers(1, 5, n_cand).astype(float),
                  "budget": float(rng.integers(5, 30))}
    sel = select_sites(indptr, indices, weights, mode="exact", **kwargs)
    assert sel.status == "optimal"
    assert sel.objective == pytest.approx(textbook_optimum(indptr, indices, weights, **kwargs),
                                          abs=1e-6)
    check_consistent(sel, sets, weights, kwargs.get("costs"))


def test_same_sets_falls_back_to_bytes_when_the_sums_collide(monkeypatch):
    # Every random key zero: every row of one length has the same sums, so the check
    # against the representative fails and the rows are grouped by their bytes.
    class Zeros:
        def integers(self, low, high, size, dtype):
            return np.zeros(size, dtype=dtype)

    monkeypatch.setattr(select_module.np.random, "default_rng", lambda seed: Zeros())
    rows_sets = [[0, 1], [2, 3], [0, 1], [1, 4], [2, 3], [0, 1, 2]]
    ptr, cand = csr(rows_sets)
    rep, inverse = select_module._same_sets(ptr, cand, np.arange(len(rows_sets)))
    assert [rows_sets[r] for r in rep] == [[0, 1], [2, 3], [1, 4], [0, 1, 2]]
    assert inverse.tolist() == [0, 1, 0, 2, 1, 3]
