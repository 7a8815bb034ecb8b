"""National-scale benchmark: the synthetic country, end to end, on one machine.

Issue #8's targets on 2 cores: the radius model in under 3 minutes and 8 GB, the
pathloss model in under 10 minutes, from reading the inputs to the written run
directory (CSVs, GeoPackage, Excel report, charts, GeoTIFFs, maps).

The country is ``benchmarks/make_national.py``'s (34 provinces, about 3,300 communes,
100,000 villages, 40,000 site locations with 128,000 cells), generated on first use.
Each model runs in a child process of its own, so the peak memory printed (the
child's maximum resident set) is that model's alone.

Baselines, in the same child, for the step that decides which village is covered:

- radius: what an analyst writes with geopandas: the same cell footprints,
  ``gpd.sjoin`` of the village points within them, covered = any 4G/5G footprint;
- pathloss: the signal at each village point itself, from every cell within 20 km
  (scipy ``cKDTree``), by the same path loss and pattern, best server per operator.

Both print their seconds, the ratio to covgap's coverage + villages stages, and the
share of villages on which they agree with covgap's ``mbb_covered`` (the raster model
reads the signal of the 100 m grid cell holding the village, the baseline at the
point itself, so a few villages at the edge of coverage differ).

Run from the repository root::

    .venv/bin/python benchmarks/bench_national.py                 # radius and pathloss
    .venv/bin/python benchmarks/bench_national.py --models radius --scale 0.1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
TARGETS_S = {"radius": 180.0, "pathloss": 600.0}
TARGET_GB = {"radius": 8.0}
#: Cells per chunk of the kd-tree baseline (a chunk's cell-village pairs fit in memory).
CHUNK_CELLS = 4000


def child(model: str, country: Path, out: Path) -> dict:
    """Run one model end to end and its baseline; return the figures."""
    import covgap

    cfg = covgap.load_config(country / f"{model}.toml")
    # a fresh output folder: no coverage cache to find (a first run), as a user's first
    cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, dir=out / "runs"))
    t0 = time.perf_counter()
    result = covgap.run(cfg)
    run_dir = result.write(out / model)
    wall = time.perf_counter() - t0
    figures = {"model": model, "wall_s": wall, "stages_s": dict(result.timings),
               "villages": len(result.villages), "cells": len(result.coverage.cells),
               "communes": len(result.communes),
               "run_dir_mb": sum(p.stat().st_size for p in run_dir.rglob("*")) / 2**20}
    if result.coverage.grid is not None:
        figures["grid_cells"] = result.coverage.grid.width * result.coverage.grid.height
    # covgap's own peak, before the baseline allocates anything
    figures["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    covered = result.villages.set_index("village_id")["mbb_covered"].astype(bool)
    t = time.perf_counter()
    base = (radius_baseline if model == "radius" else pathloss_baseline)(result)
    figures["baseline_s"] = time.perf_counter() - t
    figures["covgap_core_s"] = result.timings["coverage"] + result.timings["villages"]
    figures["agreement"] = float((base.reindex(covered.index).fillna(False)
                                  == covered).mean())
    return figures


def radius_baseline(result) -> pd.Series:
    """Return the villages a geopandas sjoin puts within any 4G/5G footprint."""
    import geopandas as gpd

    cov = result.coverage
    techs = result.config.coverage.technologies
    cells = cov.cells[cov.cells["technology"].isin(techs)]
    villages = result.inputs.villages.to_crs(cells.crs)[["village_id", "geometry"]]
    hits = gpd.sjoin(villages, cells[["geometry"]], predicate="within", how="inner")
    return pd.Series(True, index=pd.Index(hits["village_id"].unique(), name="village_id"))


def pathloss_baseline(result) -> pd.Series:
    """Return the villages covered at the point itself by every cell within reach."""
    import numpy as np
    from scipy.spatial import cKDTree

    from covgap.coverage.pathloss import SIGNAL_FLOOR_BELOW_THRESHOLD_DB, service_distance_m

    cfg = result.config.coverage
    cells = result.coverage.cells
    cells = cells[cells["technology"].isin(cfg.technologies)].copy()
    cells["ref_db"] = cells["technology"].map(cfg.reference_signal_db).astype(float)
    villages = result.inputs.villages.to_crs(cells.crs)
    vx, vy = villages.geometry.x.to_numpy(), villages.geometry.y.to_numpy()
    reach = service_distance_m(cells, floor_dbm=cfg.min_rsrp_dbm
                               - SIGNAL_FLOOR_BELOW_THRESHOLD_DB,
                               max_distance_m=cfg.max_distance_m,
                               rx_height_m=cfg.rx_height_m, terrain=False)
    tree = cKDTree(np.c_[vx, vy])
    best = np.full(len(villages), -np.inf)
    env_of = cells["environment"].to_numpy()
    for start in range(0, len(cells), CHUNK_CELLS):  # chunks bound the pairs in memory
        idx = np.arange(start, min(start + CHUNK_CELLS, len(cells)))
        for env in np.unique(env_of[idx]):
            _best_at_villages(cells, idx[env_of[idx] == env], env, reach, tree, vx, vy,
                              best, cfg)
    covered = best >= cfg.min_rsrp_dbm
    return pd.Series(True, index=pd.Index(villages["village_id"].to_numpy()[covered],
                                          name="village_id"))


def _best_at_villages(cells, idx, env, reach, tree, vx, vy, best, cfg) -> None:
    """Raise ``best`` (dBm per village) by the signal of cells ``idx``, in place."""
    import numpy as np

    from covgap.coverage.propagation import antenna_gain_db, bearing_deg, pathloss_db

    near = tree.query_ball_point(np.c_[cells["x"].to_numpy()[idx],
                                       cells["y"].to_numpy()[idx]], reach[idx])
    ci = np.repeat(idx, [len(n) for n in near])
    vi = np.concatenate([np.asarray(n, dtype=int) for n in near])
    c = cells.iloc[ci]
    dx, dy = vx[vi] - c["x"].to_numpy(), vy[vi] - c["y"].to_numpy()
    loss = pathloss_db(np.hypot(dx, dy), c["frequency_mhz"].to_numpy(),
                       tx_height_m=c["height_m"].to_numpy(), rx_height_m=cfg.rx_height_m,
                       environment=env, technology=c["technology"].to_numpy())
    gain = antenna_gain_db(bearing_deg(dx, dy), azimuth_deg=c["azimuth_deg"].to_numpy(),
                           beamwidth_deg=c["beamwidth_deg"].to_numpy())
    level = c["eirp_dbm"].to_numpy() - c["ref_db"].to_numpy() - loss + gain
    np.maximum.at(best, vi, level)


def main(argv: list[str] | None = None) -> int:
    """Generate the country if needed, run each model in a child process, print figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="radius,pathloss")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--country", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print("FIGURES " + json.dumps(child(args.child, args.country, args.out)))
        return 0

    sys.path.insert(0, str(HERE))
    from make_national import generate, national_dir

    country = national_dir(args.seed, args.scale)
    if not (country / "facts.json").is_file():
        print(f"generating the country in {country} ...", flush=True)
        generate(country, seed=args.seed, scale=args.scale)
    facts = json.loads((country / "facts.json").read_text(encoding="utf-8"))
    print(f"country: {facts['provinces']} provinces, {facts['communes']:,} communes, "
          f"{facts['villages']:,} villages ({facts['people']:,} people), "
          f"{facts['site_locations']:,} site locations, {facts['cells']:,} cells, "
          f"{facts['fibre_nodes']:,} fibre nodes")
    print(f"machine: {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB")
    failed = False
    with tempfile.TemporaryDirectory(prefix="covgap-national-") as tmp:
        for model in args.models.split(","):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", model, "--country", str(country),
                 "--out", tmp], capture_output=True, text=True, env={**os.environ})
            line = [s for s in proc.stdout.splitlines() if s.startswith("FIGURES ")]
            if proc.returncode or not line:
                print(proc.stdout[-3000:], proc.stderr[-3000:])
                failed = True
                continue
            f = json.loads(line[0][len("FIGURES "):])
            print(f"\n== {model} model: {f['villages']:,} villages, {f['cells']:,} cells"
                  + (f", grid {f['grid_cells'] / 1e6:.1f} M cells" if "grid_cells" in f
                     else ""))
            for stage, s in f["stages_s"].items():
                print(f"  {stage:<12} {s:8.1f} s")
            target = TARGETS_S.get(model)
            verdict = "" if target is None else (
                f"  (target {target / 60:.0f} min: {'met' if f['wall_s'] < target else 'MISSED'})")
            print(f"  {'total':<12} {f['wall_s']:8.1f} s{verdict}")
            mem = TARGET_GB.get(model)
            verdict = "" if mem is None else (
                f"  (target {mem:.0f} GB: {'met' if f['peak_gb'] < mem else 'MISSED'})")
            print(f"  peak memory  {f['peak_gb']:8.2f} GB{verdict}")
            print(f"  run folder   {f['run_dir_mb']:8.1f} MB")
            print(f"  baseline ({'geopandas sjoin' if model == 'radius' else 'kd-tree points'})"
                  f" {f['baseline_s']:.1f} s vs covgap coverage + villages "
                  f"{f['covgap_core_s']:.1f} s: ratio {f['baseline_s'] / f['covgap_core_s']:.2f}"
                  f"; mbb_covered agrees on {100 * f['agreement']:.2f}% of villages")
            failed |= bool(target and f["wall_s"] >= target) or bool(mem and f["peak_gb"] >= mem)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
