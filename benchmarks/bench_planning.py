"""Benchmark site selection (covgap.planning.select) against PySAL spopt's MCLP.

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

It times, in one run, on the same coverage sets:

- **covgap greedy**: ``select_sites(mode="greedy")`` (lazy greedy), the best of several
  runs, after a warm-up call that loads or compiles its numba kernels;
- **covgap exact**: ``select_sites(mode="exact")`` (HiGHS MIP, greedy as its start),
  and exact with a share/new preference (a second, tie-breaking solve), as the
  pipeline calls it;
- **spopt MCLP**: ``spopt.locate.MCLP.from_cost_matrix`` with a village x candidate
  cost matrix of 0 where the candidate covers the village and 1 elsewhere, a service
  radius of 0.5 (so its service sets are exactly covgap's), solved by CBC through PuLP
  (``pulp.PULP_CBC_CMD``, the solver PuLP ships); the model build and the solve are
  timed apart.

and prints times, covered population, greedy/exact and spopt/exact objective ratios,
greedy's speed-up over spopt, and whether the targets are met: greedy covers at least
97% of the exact optimum's population, and is at least 10x faster than spopt's MCLP
(build and solve, as a user runs it).

Run from the repository root (spopt is needed for the baseline: ``pip install spopt``,
which brings PuLP and its CBC binary; without it the spopt lines are skipped)::

    .venv/bin/python benchmarks/bench_planning.py
    .venv/bin/python benchmarks/bench_planning.py --villages 2000 --candidates 800 --sites 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from covgap.planning.select import select_sites

SEED = 20251122
TARGET_GREEDY_SHARE = 0.97
TARGET_SPEEDUP = 10.0


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
    model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s))
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
                        help="seconds for covgap exact and for spopt's CBC")
    parser.add_argument("--no-spopt", action="store_true", help="skip the spopt baseline")
    args = parser.parse_args()
    p = args.sites

    print(f"machine: {os.cpu_count()} CPU cores; highspy {_version('highspy')}, "
          f"numba {_version('numba')}")
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
    select_sites(np.array([0, 1]), np.array([0]), np.ones(1), max_sites=1)
    print(f"numba warm-up (compile or cache load): {time.perf_counter() - t0:.2f} s")

    times = []
    for _ in range(args.repeat):
        greedy = select_sites(indptr, indices, pop, max_sites=p)
        times.append(greedy.seconds)
    t_greedy = min(times)
    exact = select_sites(indptr, indices, pop, max_sites=p, mode="exact",
                         time_limit_s=args.time_limit)
    preferred = select_sites(indptr, indices, pop, max_sites=p, mode="exact",
                             preference=share.astype(float), time_limit_s=args.time_limit)

    rows = [("covgap greedy", t_greedy, greedy.objective, greedy.status),
            ("covgap exact (HiGHS)", exact.seconds, exact.objective, exact.status),
            ("covgap exact + preference", preferred.seconds, preferred.objective,
             preferred.status)]
    spopt = None if args.no_spopt else run_spopt(indptr, indices, pop, p, args.time_limit)
    if spopt is not None:
        spopt_obj = covered(indptr, indices, pop, spopt["chosen"])
        rows.append(("spopt MCLP (CBC)", spopt["build"] + spopt["solve"], spopt_obj,
                     spopt["status"]))

    print()
    print(f"{'method':<28}{'seconds':>10}{'people covered':>17}{'of exact':>10}  status")
    for name, secs, obj, status in rows:
        print(f"{name:<28}{secs:>10.3f}{obj:>17,.0f}{obj / exact.objective:>10.2%}  {status}")
    print(f"  greedy: best of {args.repeat} runs (median {statistics.median(times):.3f} s); "
          f"{len(greedy.chosen)} sites")
    print(f"  exact: bound {exact.bound:,.0f}; greedy's optimality gap "
          f"{exact.optimality_gap:.3%}; {len(exact.chosen)} sites")
    print(f"  exact + preference: {int(share[preferred.chosen].sum())} of "
          f"{len(preferred.chosen)} chosen are shares (exact without: "
          f"{int(share[exact.chosen].sum())})")
    if spopt is not None:
        print(f"  spopt ({spopt['versions']}): model build {spopt['build']:.2f} s, "
              f"CBC solve {spopt['solve']:.2f} s, {len(spopt['chosen'])} sites")

    print()
    share_of_exact = greedy.objective / exact.objective
    ok = share_of_exact >= TARGET_GREEDY_SHARE
    print(f"greedy / exact covered population: {share_of_exact:.4f} "
          f"(target >= {TARGET_GREEDY_SHARE}): {'met' if ok else 'NOT met'}")
    print(f"exact / greedy time: {exact.seconds / t_greedy:.1f}x")
    if spopt is None:
        print("spopt is not installed (pip install spopt): no speed-up to report")
        return
    total = spopt["build"] + spopt["solve"]
    speedup = total / t_greedy
    ok = speedup >= TARGET_SPEEDUP
    print(f"spopt MCLP / covgap greedy time: {speedup:,.0f}x "
          f"(target >= {TARGET_SPEEDUP:.0f}x): {'met' if ok else 'NOT met'}")
    print(f"  against spopt's CBC solve alone: {spopt['solve'] / t_greedy:,.0f}x; "
          f"covgap exact vs spopt: {total / exact.seconds:.1f}x faster")


if __name__ == "__main__":
    main()
