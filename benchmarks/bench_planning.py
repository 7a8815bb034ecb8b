"""Benchmark site selection (covgap.planning.select): exact vs exact, greedy vs the optimum.

A synthetic instance (seeded, so every run builds the same one) in a metric frame of
100 km x 100 km, about a mountainous province's size:

- 5,000 demand villages, clustered as lõm sóng villages are (Gaussian clusters of
  2-4 km around 150 valley centres, plus 20% scattered), each weighted by its
  population (log-normal, median 400, clipped to 30..5,000 people);
- 2,000 candidate sites: 1,000 on a regular grid (3.2 km spacing) and 1,000 within
  1.5 km of a random village, every third of those an existing tower ("share");
- coverage sets: the villages within each candidate's radius, drawn uniformly in
  3-5 km (the macro-cell radii of hilly rural terrain), precomputed once as CSR arrays;
- p = 50 sites to choose.

It runs, in one process, on the same coverage sets, the same maximal covering location
problem (choose p candidates, maximise the population covered):

- **covgap exact**: ``select_sites(mode="exact")``: HiGHS (highspy) in process. It
  solves a smaller program with the same optimum (dominated candidates dropped, villages
  reached by the same candidates merged, villages only one candidate reaches moved into
  its objective) from the best of two starts improved by swap search (greedy's
  selection; the candidates the LP relaxation values most). Its MIP solve (``_solve``:
  the start values and ``Highs.run``) is timed by wrapping the call; its build counts
  everything else (checks, greedy, the reduction, the LP relaxation and the swap search
  that make the start, ``passModel``, ordering the result);
- **PuLP + CBC**: the same integer program (binary ``x_i``, ``y_j`` in [0, 1],
  ``y_j <= sum x_i`` over the candidates covering ``j``, ``sum x_i <= p``) built with
  PuLP from the CSR sets and solved by CBC (``pulp.PULP_CBC_CMD``, the solver PuLP
  ships, relative gap 0 like covgap's, greedy's selection as its warm start): model
  build and solve timed apart; the solve includes PuLP writing the model for CBC and
  reading its answer, which is how PuLP runs CBC;
- **PuLP + CBC on covgap's reduced program**: the program covgap gives HiGHS, with
  covgap's start, built with PuLP and solved by CBC (model build and solve timed; the
  reduction and the start are not counted on its side): it says how much of covgap's
  lead is HiGHS and how much is the reduction and the start, which CBC can use too;
- **spopt MCLP**, as a user of PySAL would write it (``spopt.locate.MCLP`` builds its
  PuLP model from a village x candidate cost matrix of 0 where the candidate covers the
  village and 1 elsewhere, service radius 0.5, so its service sets are exactly covgap's;
  CBC solves it): build and solve timed apart;
- **covgap greedy**: ``select_sites(mode="greedy")``, best of ``--repeat`` runs after a
  warm-up call: a heuristic, so it is compared with the exact optimum's objective (the
  share of the optimum's population it covers), never timed against an exact solver;
- covgap exact with a share/new preference (a second, tie-breaking solve), as the
  pipeline calls it, for reference.

Ratios, exact against exact: baseline seconds / covgap seconds (above 1: covgap is that
many times faster), end to end (build + solve), for the solve alone and for the build
alone; every exact method must reach the same objective. The verdict compares with the
textbook program, the way a PuLP user writes it; the reduced program's ratio is printed
beside it.  The last line is the verdict:
greedy covers at least 97% of the exact optimum's population, and covgap's exact is at
least as fast as PuLP + CBC end to end (its solve alone against CBC's is printed next to
it).

Run from the repository root (PuLP and spopt are needed for the baselines:
``pip install -e '.[bench]'`` or ``make bench-deps``; without them their lines are
skipped)::

    .venv/bin/python benchmarks/bench_planning.py
    .venv/bin/python benchmarks/bench_planning.py --villages 2000 --candidates 800 --sites 20
    .venv/bin/python benchmarks/bench_planning.py --no-spopt   # spopt's build takes ~70 s
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

import covgap.planning.select as select_module
from covgap.planning.select import select_sites

SEED = 20251122
TARGET_GREEDY_SHARE = 0.97
# covgap's exact end to end (build + solve) against PuLP + CBC's: at least as fast
TARGET_EXACT = 1.0


def build_instance(n_villages: int, n_candidates: int, seed: int = SEED):
    """Return village populations, candidates' share flags and the CSR coverage sets."""
    rng = np.random.default_rng(seed)
    side = 100_000.0
    n_clusters = 150
    centres = rng.uniform(5_000, side - 5_000, size=(n_clusters, 2))
    spread = rng.uniform(2_000, 4_000, size=n_clusters)
    n_scattered = n_villages // 5
    which = rng.integers(0, n_clusters, size=n_villages - n_scattered)
    clustered = centres[which] + rng.normal(size=(len(which), 2)) * spread[which, None]
    scattered = rng.uniform(0, side, size=(n_scattered, 2))
    villages = np.clip(np.vstack([clustered, scattered]), 0, side)
    population = np.clip(np.round(rng.lognormal(np.log(400), 0.8, n_villages)), 30, 5_000)

    n_grid_side = int(np.ceil(np.sqrt(n_candidates / 2)))
    spacing = side / n_grid_side
    g = (np.arange(n_grid_side) + 0.5) * spacing
    grid = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)[: n_candidates // 2]
    n_near = n_candidates - len(grid)
    near = villages[rng.integers(0, n_villages, n_near)]
    near = near + rng.uniform(-1_500, 1_500, size=(n_near, 2))
    candidates = np.vstack([grid, near])
    radius = rng.uniform(3_000, 5_000, size=len(candidates))
    share = np.zeros(len(candidates), dtype=bool)
    share[len(grid)::3] = True

    # Villages within each candidate's radius, in chunks to bound memory.
    rows, cols = [], []
    for start in range(0, len(candidates), 250):
        c = candidates[start:start + 250]
        d2 = ((c[:, None, :] - villages[None, :, :]) ** 2).sum(axis=-1)
        r, v = np.nonzero(d2 <= radius[start:start + 250, None] ** 2)
        rows.append(r + start)
        cols.append(v)
    rows_a, cols_a = np.concatenate(rows), np.concatenate(cols)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows_a, minlength=len(candidates)))])
    return population, share, indptr, cols_a


def covered(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, chosen) -> float:
    hit = np.zeros(len(weights), dtype=bool)
    for i in chosen:
        hit[indices[indptr[i]:indptr[i + 1]]] = True
    return float(weights[hit].sum())


def timed_exact(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, p: int,
                time_limit_s: float, **kwargs):
    """Run covgap's exact selection; return it, its HiGHS times and the program it solved.

    The benchmark wraps covgap's two HiGHS steps (``_model``: ``passModel``; ``_solve``:
    the start values and ``Highs.run``) for the call and puts them back after; the
    integer program's arrays and its start are kept, for CBC to solve the same program.
    """
    spent = {"build": 0.0, "solve": 0.0}
    program: dict = {}

    def clock(name: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kw):
            if name == "build" and "args" not in program and kw["integrality"].any():
                program.update(args=args, kw=kw)
            if name == "solve" and "start" not in program:
                program["start"] = args[1]
            t = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                spent[name] += time.perf_counter() - t
        return wrapper

    saved = select_module._model, select_module._solve
    select_module._model = clock("build", saved[0])
    select_module._solve = clock("solve", saved[1])
    try:
        sel = select_sites(indptr, indices, weights, max_sites=p, mode="exact",
                           time_limit_s=time_limit_s, **kwargs)
    finally:
        select_module._model, select_module._solve = saved
    return sel, spent, program


def run_pulp_program(program: dict, time_limit_s: float):
    """Build the program covgap gave HiGHS with PuLP; solve it with CBC from covgap's start.

    Returns the build and solve seconds, the objective and the chosen columns' values, or
    None without PuLP.
    """
    try:
        import pulp
    except ImportError:
        return None
    n_col, n_row, col_idx, row_idx, vals = program["args"]
    kw = program["kw"]
    t0 = time.perf_counter()
    prob = pulp.LpProblem("mclp_reduced", pulp.LpMaximize)
    v = [pulp.LpVariable(f"v{c}", lowBound=0, upBound=float(kw["col_upper"][c]),
                         cat=pulp.LpBinary if kw["integrality"][c] else pulp.LpContinuous)
         for c in range(n_col)]
    prob += pulp.LpAffineExpression(
        [(v[c], float(kw["col_cost"][c])) for c in np.flatnonzero(kw["col_cost"])])
    order = np.argsort(row_idx, kind="stable")
    bounds = np.searchsorted(row_idx[order], np.arange(n_row + 1))
    cols, coefs = col_idx[order].tolist(), vals[order].tolist()
    for r in range(n_row):
        lo, hi = bounds[r], bounds[r + 1]
        prob += pulp.LpAffineExpression(
            [(v[c], a) for c, a in zip(cols[lo:hi], coefs[lo:hi], strict=True)]
        ) <= float(kw["row_upper"][r])
    for var, value in zip(v, program["start"].tolist(), strict=True):
        var.setInitialValue(round(value) if var.cat == pulp.LpBinary else value)
    t1 = time.perf_counter()
    prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, gapRel=0.0,
                                 warmStart=True))
    t2 = time.perf_counter()
    return {"build": t1 - t0, "solve": t2 - t1, "objective": pulp.value(prob.objective),
            "status": pulp.LpStatus[prob.status], "rows": n_row, "cols": n_col}


def run_pulp(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, p: int,
             time_limit_s: float, start: np.ndarray):
    """Build covgap's integer program with PuLP and solve it with CBC; None without PuLP.

    ``start`` (candidate indices) is given to CBC as its warm start, as covgap gives
    greedy's selection to HiGHS.
    """
    try:
        import pulp
    except ImportError:
        return None
    n_cand = len(indptr) - 1
    t0 = time.perf_counter()
    owner = np.repeat(np.arange(n_cand), np.diff(indptr))
    keep = np.zeros(len(weights), dtype=bool)
    keep[indices] = True
    keep &= weights > 0
    order = np.argsort(indices, kind="stable")
    by_village = np.split(owner[order], np.searchsorted(indices[order],
                                                        np.arange(1, len(weights))))
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{i}", cat=pulp.LpBinary) for i in range(n_cand)]
    y = {j: pulp.LpVariable(f"y{j}", lowBound=0, upBound=1) for j in np.flatnonzero(keep)}
    prob += pulp.lpSum(float(weights[j]) * v for j, v in y.items())
    for j, v in y.items():
        prob += v <= pulp.lpSum(x[i] for i in by_village[j])
    prob += pulp.lpSum(x) <= p
    for i in range(n_cand):
        x[i].setInitialValue(0)
    covered = np.zeros(len(weights), dtype=bool)
    for i in start:
        x[i].setInitialValue(1)
        covered[indices[indptr[i]:indptr[i + 1]]] = True
    for j, v in y.items():
        v.setInitialValue(1 if covered[j] else 0)
    t1 = time.perf_counter()
    prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, gapRel=0.0,
                                 warmStart=True))
    t2 = time.perf_counter()
    chosen = [i for i, v in enumerate(x) if (v.value() or 0) > 0.5]
    return {"build": t1 - t0, "solve": t2 - t1, "chosen": chosen,
            "status": pulp.LpStatus[prob.status], "versions": f"pulp {pulp.__version__}",
            "rows": len(prob.constraints), "cols": len(x) + len(y)}


def run_spopt(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, p: int,
              time_limit_s: float):
    """Build and solve spopt's MCLP on the same service sets; None if not installed."""
    try:
        import pulp
        from spopt.locate import MCLP
    except ImportError:
        return None
    n_cand, n_vill = len(indptr) - 1, len(weights)
    t0 = time.perf_counter()
    # Cost 0 where the candidate covers the village, 1 elsewhere; radius 0.5.
    cost = np.ones((n_vill, n_cand))
    owner = np.repeat(np.arange(n_cand), np.diff(indptr))
    cost[indices, owner] = 0.0
    model = MCLP.from_cost_matrix(cost, weights, service_radius=0.5, p_facilities=p)
    t1 = time.perf_counter()
    model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, gapRel=0.0))
    t2 = time.perf_counter()
    chosen = [i for i, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5]
    status = pulp.LpStatus[model.problem.status]
    return {"build": t1 - t0, "solve": t2 - t1, "chosen": chosen, "status": status,
            "versions": f"spopt {_version('spopt')}, pulp {pulp.__version__}"}


def _version(name: str) -> str:
    from importlib.metadata import version
    return version(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=5_000)
    parser.add_argument("--candidates", type=int, default=2_000)
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5, help="greedy runs (best is kept)")
    parser.add_argument("--time-limit", type=float, default=600.0,
                        help="seconds for covgap exact and for each CBC solve")
    parser.add_argument("--no-spopt", action="store_true", help="skip the spopt baseline")
    args = parser.parse_args()
    p = args.sites

    print(f"machine: {os.cpu_count()} CPU cores; highspy {_version('highspy')}, "
          f"numba {_version('numba')}; load average {os.getloadavg()[0]:.1f} (1 min)")
    t0 = time.perf_counter()
    pop, share, indptr, indices = build_instance(
        args.villages, args.candidates)
    t_build = time.perf_counter() - t0
    sizes = np.diff(indptr)
    reach = np.zeros(len(pop), dtype=bool)
    reach[indices] = True
    print(f"instance: {len(pop):,} villages ({pop.sum():,.0f} people, "
          f"{pop[reach].sum():,.0f} within reach of a candidate), {len(sizes):,} candidates "
          f"({int(share.sum())} shares), radius 3-5 km, p = {p}")
    print(f"  coverage sets: {len(indices):,} pairs, {sizes.mean():.1f} villages per "
          f"candidate (max {sizes.max()}), built in {t_build:.2f} s")

    t0 = time.perf_counter()
    # greedy's kernels, and exact's swap search (a two-candidate instance that needs it)
    select_sites(np.array([0, 1]), np.array([0]), np.ones(1), max_sites=1)
    select_sites(np.array([0, 2, 4]), np.array([0, 1, 1, 2]), np.ones(3), max_sites=1,
                 mode="exact")
    print(f"numba warm-up of greedy's and exact's kernels (compiled once per machine, then "
          f"loaded from numba's cache): {time.perf_counter() - t0:.2f} s")

    times = []
    for _ in range(args.repeat):
        greedy = select_sites(indptr, indices, pop, max_sites=p)
        times.append(greedy.seconds)
    t_greedy = min(times)
    exact, spent, program = timed_exact(indptr, indices, pop, p, args.time_limit)
    preferred = select_sites(indptr, indices, pop, max_sites=p, mode="exact",
                             preference=share.astype(float), time_limit_s=args.time_limit)
    cbc = run_pulp(indptr, indices, pop, p, args.time_limit, greedy.chosen)
    cbc_reduced = run_pulp_program(program, args.time_limit) if cbc is not None else None
    spopt = None if args.no_spopt else run_spopt(indptr, indices, pop, p, args.time_limit)

    # (name, build s, solve s, total s, objective, status)
    # covgap's build: everything but HiGHS's solve (checks, greedy's start, the model's
    # arrays, passModel, ordering the result), so its build is not flattered
    covgap_build = exact.seconds - spent["solve"]
    rows = [("covgap exact (HiGHS)", covgap_build, spent["solve"], exact.seconds,
             exact.objective, exact.status)]
    if cbc is not None:
        rows.append(("PuLP + CBC, same program", cbc["build"], cbc["solve"],
                     cbc["build"] + cbc["solve"], covered(indptr, indices, pop, cbc["chosen"]),
                     cbc["status"]))
    if cbc_reduced is not None:
        rows.append(("PuLP + CBC, reduced program", cbc_reduced["build"],
                     cbc_reduced["solve"], cbc_reduced["build"] + cbc_reduced["solve"],
                     cbc_reduced["objective"], cbc_reduced["status"]))
    if spopt is not None:
        rows.append(("spopt MCLP (PuLP + CBC)", spopt["build"], spopt["solve"],
                     spopt["build"] + spopt["solve"],
                     covered(indptr, indices, pop, spopt["chosen"]), spopt["status"]))
    print("\nexact against exact (same instance, same coverage sets)")
    print(f"{'method':<28}{'build s':>9}{'solve s':>9}{'total s':>9}{'people covered':>17}"
          f"{'of exact':>10}  status")
    for name, build, solve, total, obj, status in rows:
        print(f"{name:<28}{build:>9.3f}{solve:>9.3f}{total:>9.3f}{obj:>17,.0f}"
              f"{obj / exact.objective:>10.4%}  {status}")
    print(f"  covgap exact: total {exact.seconds:.3f} s = HiGHS MIP solve {spent['solve']:.3f} s"
          f" + build {covgap_build:.3f} s (of which passModel {spent['build']:.3f} s; the "
          f"rest: checks, greedy, the reduction, the LP relaxation and swap search that "
          f"make the start, ordering); bound {exact.bound:,.0f}; {len(exact.chosen)} sites")
    if cbc is not None:
        print(f"  PuLP + CBC ({cbc['versions']}): {cbc['rows']:,} rows, {cbc['cols']:,} columns; "
              "the solve includes writing the model for CBC and reading its answer")
    if cbc_reduced is not None:
        print(f"  PuLP + CBC on covgap's reduced program: {cbc_reduced['rows']:,} rows, "
              f"{cbc_reduced['cols']:,} columns, covgap's start; the reduction and the start "
              "are not counted on its side")
    if spopt is not None:
        print(f"  spopt ({spopt['versions']}): its build makes a dense village x candidate "
              "matrix and one PuLP constraint per village")
    same = all(abs(obj - exact.objective) <= 1e-6 * exact.objective for *_, obj, _ in rows)
    print(f"  every exact method reaches the same objective: {'yes' if same else 'NO'}")
    print(f"  exact + preference: {preferred.seconds:.3f} s, {int(share[preferred.chosen].sum())} "
          f"of {len(preferred.chosen)} chosen are shares (exact without: "
          f"{int(share[exact.chosen].sum())})")

    share_of_exact = greedy.objective / exact.objective
    print("\ngreedy (a heuristic) against the exact optimum")
    print(f"  covgap greedy: {greedy.objective:,.0f} people covered, {share_of_exact:.4%} of the "
          f"optimum (gap {exact.optimality_gap:.3%}); best of {args.repeat} runs "
          f"{t_greedy:.3f} s (median {statistics.median(times):.3f} s); "
          f"{len(greedy.chosen)} sites")

    print("\nratios, baseline seconds / covgap exact seconds (above 1: covgap faster)")
    for name, build_b, solve, total, *_ in rows[1:]:
        print(f"  {name:<28} end to end {total / exact.seconds:6.2f}x; solve alone "
              f"{solve / spent['solve']:6.2f}x; build alone {build_b / covgap_build:8.2f}x")
    greedy_ok = "PASS" if share_of_exact >= TARGET_GREEDY_SHARE else "MISS"
    line = (f"VERDICT planning: greedy {share_of_exact:.2%} of the exact optimum (target >= "
            f"{TARGET_GREEDY_SHARE:.0%}) {greedy_ok}; ")
    if cbc is None:
        line += "exact vs exact SKIPPED (PuLP is not installed: pip install pulp)"
    else:
        ratio = (cbc["build"] + cbc["solve"]) / exact.seconds
        line += (f"exact vs exact: PuLP+CBC / covgap HiGHS {ratio:.2f}x end to end "
                 f"(target >= {TARGET_EXACT:g}x) {'PASS' if ratio >= TARGET_EXACT else 'MISS'}, "
                 f"solve alone {cbc['solve'] / spent['solve']:.2f}x; same objective "
                 f"{'yes' if same else 'NO'}")
        if cbc_reduced is not None:
            reduced = (cbc_reduced["build"] + cbc_reduced["solve"]) / exact.seconds
            line += f"; CBC on covgap's reduced program {reduced:.2f}x"
    print(line)


if __name__ == "__main__":
    main()
