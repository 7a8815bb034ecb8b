"""Benchmark the coverage models on the sample province; the terrain model vs GDAL's viewshed.

In one run on ``data/sample.toml`` (the synthetic province "Tỉnh Mẫu") it prints:

- the machine (CPU cores, numba threads) and the analysis grid;
- the time to read the inputs, and to warm numba up (JIT compilation or cache load, on a
  few sites, so that it is not counted in what follows);
- the whole-province time of ``compute_coverage`` for each model (``radius``,
  ``pathloss``, ``terrain``), and for pathloss and terrain the seconds per site location
  (cells within 1 m share one) and per loss group (cells at one location with the same
  height, frequency, technology and environment, which share one path loss and one
  terrain window);
- per site, like for like, on N sample site locations (each observed from the centre of
  its grid cell, with the radius its 4G loss group uses in the terrain model: the
  service distance, capped at ``[coverage] max_distance_m``, and the site's antenna
  height), on the analysis-grid DEM the terrain model uses, held in memory:

  - GDAL's viewshed **in process** (``osgeo.gdal.ViewshedGenerate`` on a MEM dataset,
    result read into numpy; ``benchmarks/_viewshed.py``): no process start, no file I/O;
  - covgap's line of sight alone (``visibility``, a horizon sweep like GDAL's) on the
    same sites and radii, and
    ``terrain_window`` (line of sight and diffraction), each with the share of cells
    where its line of sight equals GDAL's (agreement);
  - the whole terrain model per site location: its whole-province time (every
    technology's windows, the signal, diffraction and best-server rasters) over the
    number of site locations;

- the ratios, each covgap's seconds per site over GDAL's (below 1: covgap faster):
  ``los`` = ``visibility`` / GDAL viewshed; ``full`` = terrain model per site location /
  GDAL viewshed (and, for reference, ``terrain_window`` alone / GDAL viewshed);
- last, one line: the verdict against issue 15's targets (set for 2 cores): line of sight
  <= 1x GDAL's in-process viewshed per site; the full terrain model (signal, diffraction,
  best server) <= 4x it; the province's terrain run under 15 s on a quiet machine.

Without GDAL's Python bindings the GDAL side is skipped with the reason; install them with
``make bench-deps`` (Debian's libgdal-dev, then the ``GDAL`` package matching the system's
libgdal).

Run from the repository root::

    .venv/bin/python benchmarks/bench_coverage.py
    .venv/bin/python benchmarks/bench_coverage.py --models terrain --viewshed-sites 50
    NUMBA_NUM_THREADS=2 .venv/bin/python benchmarks/bench_coverage.py   # as on 2 cores
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import time
from pathlib import Path

import numba
import numpy as np
import pandas as pd
from _viewshed import agreement, crop, load_gdal, mem_dem, viewshed
from rasterio.enums import Resampling

import covgap
from covgap.coverage import analysis_grid, compute_coverage
from covgap.coverage.grid import resample_to_grid
from covgap.coverage.los import terrain_window, visibility
from covgap.coverage.pathloss import SIGNAL_FLOOR_BELOW_THRESHOLD_DB, service_distance_m

REPO = Path(__file__).resolve().parent.parent
SAMPLE_TOML = REPO / "data" / "sample.toml"
MODELS = ("radius", "pathloss", "terrain")
# issue 15 (2 cores): the province's terrain run; per site, covgap / GDAL in process
TARGET_TERRAIN_S = 15.0
TARGET_LOS = 1.0
TARGET_FULL = 4.0


def with_model(config: covgap.Config, model: str) -> covgap.Config:
    return dataclasses.replace(config, coverage=dataclasses.replace(config.coverage,
                                                                    model=model))


def loss_groups(cells: pd.DataFrame, config: covgap.Config) -> pd.DataFrame:
    """Return the terrain model's loss groups and radii, as signal_coverage forms them.

    Cells within 1 m with the same height, frequency, technology and environment share a
    group; its radius is where the strongest cell's signal, without terrain, falls
    ``SIGNAL_FLOOR_BELOW_THRESHOLD_DB`` under the threshold, capped at max_distance_m.
    """
    cc = config.coverage
    cells = cells.assign(x_key=cells["x"].round(0), y_key=cells["y"].round(0),
                         ref_db=cells["technology"].map(cc.reference_signal_db).astype(float))
    keys = ["x_key", "y_key", "height_m", "frequency_mhz", "technology", "environment"]
    groups = cells.groupby(keys, sort=False, as_index=False).agg(
        x=("x", "mean"), y=("y", "mean"), eirp_dbm=("eirp_dbm", "max"),
        ref_db=("ref_db", "first"))
    groups["technology"] = groups["technology"].astype(str)
    groups["radius_m"] = service_distance_m(
        groups, floor_dbm=cc.min_rsrp_dbm - SIGNAL_FLOOR_BELOW_THRESHOLD_DB,
        max_distance_m=cc.max_distance_m, rx_height_m=cc.rx_height_m, terrain=True)
    return groups


def viewshed_sites(groups: pd.DataFrame, count: int) -> pd.DataFrame:
    """``count`` site locations spread over the list, each with its widest 4G group."""
    g4 = groups[groups["technology"] == "4G"]
    one = (g4.sort_values("radius_m", ascending=False, kind="stable")
           .drop_duplicates(["x_key", "y_key"]).sort_index())
    step = max(1, len(one) // max(count, 1))
    return one.iloc[::step].head(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated models to time (default: radius,pathloss,terrain)")
    parser.add_argument("--viewshed-sites", type=int, default=20, metavar="N",
                        help="site locations for the per-site comparison (default 20)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="passes over those sites per method; the fastest counts "
                             "(default 3)")
    args = parser.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; valid: {', '.join(MODELS)}")

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    print(f"machine: {os.cpu_count()} CPU cores (usable: {affinity}), "
          f"numba {numba.__version__} with {numba.get_num_threads()} threads; "
          f"load average {os.getloadavg()[0]:.1f} (1 min)")

    t = time.perf_counter()
    inputs = covgap.read_inputs(SAMPLE_TOML)
    t_read = time.perf_counter() - t
    config = covgap.load_config(SAMPLE_TOML)
    grid = analysis_grid(inputs, config)
    sites_m = inputs.sites.to_crs(inputs.metric_crs)
    locations = len(set(zip(sites_m.geometry.x.round(0), sites_m.geometry.y.round(0),
                            strict=True)))
    print(f"inputs: {SAMPLE_TOML.relative_to(REPO)} read in {t_read:.2f} s: "
          f"{len(inputs.sites)} cells at {locations} site locations, "
          f"{len(inputs.communes)} communes")
    print(f"analysis grid: {grid.width} x {grid.height} cells of {grid.cell_size_m:g} m "
          f"({grid.width * grid.height:,} cells, {grid.crs.to_string()})")

    # Warm-up: the numba kernels (terrain window, signal accumulation) compile or load
    # from numba's cache on first use; a run on three sites' cells takes that cost.
    few = inputs.sites["site_id"].isin(inputs.sites["site_id"].drop_duplicates().head(3))
    small = dataclasses.replace(inputs, sites=inputs.sites[few])
    t = time.perf_counter()
    for model in ("pathloss", "terrain"):
        compute_coverage(small, with_model(config, model))
    print(f"warm-up: compute_coverage (pathloss, terrain) on {int(few.sum())} cells of 3 sites "
          f"in {time.perf_counter() - t:.2f} s (numba JIT or cache load), not counted below")

    print(f"\n{'model':10}{'seconds':>10}{'s / site location':>20}{'loss groups':>13}"
          f"{'s / group':>11}")
    seconds: dict[str, float] = {}
    terrain_cells = None
    for model in models:
        t = time.perf_counter()
        cov = compute_coverage(inputs, with_model(config, model))
        seconds[model] = time.perf_counter() - t
        line = f"{model:10}{seconds[model]:10.2f}"
        if model in ("pathloss", "terrain"):
            n_groups = len(loss_groups(cov.cells, config))
            line += (f"{seconds[model] / locations:20.4f}{n_groups:13d}"
                     f"{seconds[model] / n_groups:11.4f}")
        print(line)
        if model == "terrain":
            terrain_cells = cov.cells
    print(f"(whole province: {len(inputs.sites)} cells, {locations} site locations; "
          "times include resampling the DEM and population onto the grid)")

    if terrain_cells is None:
        print("\nterrain model not timed (--models): no comparison with GDAL's viewshed")
        print("VERDICT terrain (bench_coverage): SKIPPED, the terrain model was not timed")
        return
    per_site = seconds["terrain"] / locations
    groups = loss_groups(terrain_cells, config)
    picked = viewshed_sites(groups, args.viewshed_sites)
    radii = picked["radius_m"].to_numpy()
    heights = picked["height_m"].to_numpy(float)
    rows, cols = grid.rowcol(picked["x"].to_numpy(), picked["y"].to_numpy())
    # Both sides observe from the centre of the grid cell holding the site, as GDAL does.
    centres = [(int(r) + 0.5, int(c) + 0.5) for r, c in zip(rows, cols, strict=True)]
    cc = config.coverage
    print(f"\nper-site comparison on {len(picked)} sample site locations, each with the radius "
          f"of its 4G loss group in the terrain model ({radii.min() / 1000:.1f}-"
          f"{radii.max() / 1000:.1f} km, mean {radii.mean() / 1000:.1f} km; "
          f"max_distance_m {cc.max_distance_m / 1000:g} km), antenna "
          f"{heights.min():g}-{heights.max():g} m, receiver {cc.rx_height_m:g} m, "
          f"k = {cc.k_factor:.4g}; best of {args.repeat} passes")

    dem = resample_to_grid(inputs.dem, grid, resampling=Resampling.bilinear)
    params = list(zip(centres, heights, radii, picked["frequency_mhz"], strict=True))

    def best(run) -> tuple[float, list]:
        fastest, results = math.inf, []
        for _ in range(args.repeat):
            t = time.perf_counter()
            results = [run(rc, float(h), float(radius), float(f))
                       for rc, h, radius, f in params]
            fastest = min(fastest, (time.perf_counter() - t) / len(params))
        return fastest, results

    t_los, los_out = best(lambda rc, h, radius, f: visibility(
        dem, cell_size_m=grid.cell_size_m, site_row=rc[0], site_col=rc[1], tx_height_m=h,
        rx_height_m=cc.rx_height_m, radius_m=radius, k_factor=cc.k_factor))
    t_kernel, full_out = best(lambda rc, h, radius, f: terrain_window(
        dem, cell_size_m=grid.cell_size_m, site_row=rc[0], site_col=rc[1], tx_height_m=h,
        rx_height_m=cc.rx_height_m, frequency_mhz=f, radius_m=radius, k_factor=cc.k_factor,
        method=cc.diffraction))

    gdal, about = load_gdal()
    t_gdal = None
    if gdal is None:
        print(f"GDAL side skipped: {about}")
    else:
        ds = mem_dem(gdal, dem, grid.transform, grid.rasterio_crs.to_wkt())
        t_gdal, gdal_out = best(lambda rc, h, radius, f: viewshed(
            gdal, ds, rc[0], rc[1], tx_height_m=h, rx_height_m=cc.rx_height_m,
            radius_m=radius, k_factor=cc.k_factor))

    print(f"\n{'':62}{'s / site':>10}{'/ GDAL':>9}")
    lines = [("covgap visibility (line of sight; these sites and radii)", t_los),
             ("covgap terrain_window (LOS + diffraction; these sites)", t_kernel),
             ("covgap terrain model (whole-province total / site locations)", per_site)]
    if t_gdal is not None:
        lines.append((f"GDAL {about} ViewshedGenerate, in process (these sites)", t_gdal))
    for name, secs in lines:
        ratio = f"{secs / t_gdal:8.2f}x" if t_gdal else f"{'-':>9}"
        print(f"{name:62}{secs:10.4f}{ratio}")

    province_ok = "PASS" if seconds["terrain"] < TARGET_TERRAIN_S else "MISS"
    province = (f"province {seconds['terrain']:.1f} s (target < {TARGET_TERRAIN_S:g} s) "
                f"{province_ok}")
    if t_gdal is None:
        print(f"VERDICT terrain (bench_coverage): {province}; per site SKIPPED, no GDAL "
              f"baseline ({about})")
        return
    agree = {}
    for name, out in (("los", los_out), ("full", full_out)):
        shares = []
        for tw, (window, r0, c0) in zip(out, gdal_out, strict=True):
            h, w = tw.los.shape
            g = crop(window, r0, c0, (tw.row0, tw.col0, h, w))
            inside = np.isfinite(tw.distance_m) & np.isfinite(
                dem[tw.row0:tw.row0 + h, tw.col0:tw.col0 + w])
            shares.append(agreement(tw.los, g, inside)[0])
        agree[name] = float(np.mean(shares))
    print("\nagreement with GDAL's viewshed (share of cells within each site's radius where "
          f"covgap's line of sight equals GDAL's): visibility {agree['los']:.2%}, "
          f"terrain_window {agree['full']:.2%}")
    los_ratio, full_ratio = t_los / t_gdal, per_site / t_gdal
    print("\nratios, covgap seconds per site / GDAL in-process viewshed seconds per site "
          "(below 1: covgap faster):")
    print(f"  los  (visibility / GDAL viewshed):                       {los_ratio:7.2f}x "
          f"(target <= {TARGET_LOS:g}x)")
    print(f"  full (terrain model per site location / GDAL viewshed):  {full_ratio:7.2f}x "
          f"(target <= {TARGET_FULL:g}x)")
    print(f"  terrain_window alone / GDAL viewshed (for reference):   "
          f"{t_kernel / t_gdal:7.2f}x")
    print(f"  (set for 2 cores; this machine: {os.cpu_count()} cores, "
          f"{numba.get_num_threads()} numba threads)")
    los_ok = "PASS" if los_ratio <= TARGET_LOS else "MISS"
    full_ok = "PASS" if full_ratio <= TARGET_FULL else "MISS"
    print(f"VERDICT terrain (bench_coverage): los {los_ratio:.2f}x gdal in-process (target <= "
          f"{TARGET_LOS:g}x) {los_ok}; full {full_ratio:.2f}x (target <= {TARGET_FULL:g}x) "
          f"{full_ok}; {province}; agreement los {agree['los']:.2%}, full "
          f"{agree['full']:.2%}")


if __name__ == "__main__":
    main()
