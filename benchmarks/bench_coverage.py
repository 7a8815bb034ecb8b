"""Benchmark the coverage models on the sample province; the terrain model vs gdal_viewshed.

In one run on ``data/sample.toml`` (the synthetic province "Tỉnh Mẫu") it prints:

- the machine (CPU cores, numba threads) and the analysis grid;
- the time to read the inputs, and to warm numba up (JIT compilation or cache load, on a
  few sites, so that it is not counted in what follows);
- the whole-province time of ``compute_coverage`` for each model (``radius``,
  ``pathloss``, ``terrain``), and for pathloss and terrain the seconds per site location
  (cells within 1 m share one) and per loss group (cells at one location with the same
  height, frequency, technology and environment, which share one path loss and one
  terrain window);
- the terrain model's seconds per site location (its total over the number of site
  locations: every technology's windows and the signal, diffraction and best-server
  rasters included) against ``gdal_viewshed``'s seconds per site, measured on the same
  DEM (the analysis-grid DEM the terrain model uses, written once to a GeoTIFF) for N
  sample site locations, each with the radius its 4G loss group uses in the terrain model
  (the service distance, capped at ``[coverage] max_distance_m``) and the site's antenna
  height; gdal_viewshed runs as a subprocess with its output read back, I/O included;
- the ratio of the two, and whether the issue's targets are met: terrain model for the
  whole province under 60 s, and per site no more than 2x gdal_viewshed (targets set for
  2 cores).

Run from the repository root::

    .venv/bin/python benchmarks/bench_coverage.py
    .venv/bin/python benchmarks/bench_coverage.py --models terrain --viewshed-sites 50
    NUMBA_NUM_THREADS=2 .venv/bin/python benchmarks/bench_coverage.py   # as on 2 cores
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import tempfile
import time
from pathlib import Path

import numba
import pandas as pd
from _viewshed import run_gdal, write_dem
from rasterio.enums import Resampling

import covgap
from covgap.coverage import analysis_grid, compute_coverage
from covgap.coverage.grid import resample_to_grid
from covgap.coverage.los import terrain_window
from covgap.coverage.pathloss import SIGNAL_FLOOR_BELOW_THRESHOLD_DB, service_distance_m

REPO = Path(__file__).resolve().parent.parent
SAMPLE_TOML = REPO / "data" / "sample.toml"
MODELS = ("radius", "pathloss", "terrain")
TARGET_TERRAIN_S = 60.0
TARGET_RATIO = 2.0


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
                        help="site locations for the gdal_viewshed comparison (default 20)")
    args = parser.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; valid: {', '.join(MODELS)}")

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    print(f"machine: {os.cpu_count()} CPU cores (usable: {affinity}), "
          f"numba {numba.__version__} with {numba.get_num_threads()} threads")

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
        print("\nterrain model not timed (--models): no comparison with gdal_viewshed")
        return
    per_site = seconds["terrain"] / locations
    groups = loss_groups(terrain_cells, config)
    picked = viewshed_sites(groups, args.viewshed_sites)
    radii = picked["radius_m"].to_numpy()
    heights = picked["height_m"].to_numpy(float)
    rows, cols = grid.rowcol(picked["x"].to_numpy(), picked["y"].to_numpy())
    print(f"\nper-site comparison on {len(picked)} sample site locations, each with the radius "
          f"of its 4G loss group in the terrain model ({radii.min() / 1000:.1f}-"
          f"{radii.max() / 1000:.1f} km, mean {radii.mean() / 1000:.1f} km; "
          f"max_distance_m {config.coverage.max_distance_m / 1000:g} km), antenna "
          f"{heights.min():g}-{heights.max():g} m, receiver {config.coverage.rx_height_m:g} m, "
          f"k = {config.coverage.k_factor:.4g}")

    cc = config.coverage
    dem = resample_to_grid(inputs.dem, grid, resampling=Resampling.bilinear)
    t = time.perf_counter()
    for r, c, h, radius, f in zip(rows, cols, heights, radii, picked["frequency_mhz"],
                                  strict=True):
        terrain_window(dem, cell_size_m=grid.cell_size_m, site_row=float(r), site_col=float(c),
                       tx_height_m=float(h), rx_height_m=cc.rx_height_m,
                       frequency_mhz=float(f), radius_m=float(radius), k_factor=cc.k_factor,
                       method=cc.diffraction)
    t_kernel = (time.perf_counter() - t) / len(picked)

    exe = shutil.which("gdal_viewshed")
    t_gdal = None
    if exe is None:
        print("gdal_viewshed not found (Debian: apt-get install gdal-bin); no comparison")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "dem.tif"
            write_dem(src, dem, grid.transform, grid.rasterio_crs)
            t = time.perf_counter()
            for n, (r, c, h, radius) in enumerate(zip(rows, cols, heights, radii,
                                                      strict=True)):
                run_gdal(exe, src, Path(tmp) / f"vs{n}.tif", grid.transform, dem.shape,
                         float(r), float(c), tx_height_m=float(h),
                         rx_height_m=cc.rx_height_m, radius_m=float(radius),
                         k_factor=cc.k_factor)
            t_gdal = (time.perf_counter() - t) / len(picked)

    print(f"\n{'':58}{'s / site':>10}")
    print(f"{'terrain model (whole-province total / site locations)':58}{per_site:10.4f}")
    print(f"{'terrain_window alone (these sites, 4G group parameters)':58}{t_kernel:10.4f}")
    if t_gdal is not None:
        print(f"{'gdal_viewshed (subprocess + I/O, these sites and radii)':58}{t_gdal:10.4f}")
        print(f"\nratio terrain model / gdal_viewshed per site: {per_site / t_gdal:.2f}")

    print("\ntargets (set for 2 cores; this machine: "
          f"{os.cpu_count()} cores, {numba.get_num_threads()} numba threads):")
    ok = seconds["terrain"] < TARGET_TERRAIN_S
    print(f"  terrain model, whole province < {TARGET_TERRAIN_S:g} s: "
          f"{seconds['terrain']:.1f} s -> {'met' if ok else 'NOT met'}")
    if t_gdal is not None:
        ok = per_site / t_gdal <= TARGET_RATIO
        print(f"  per site <= {TARGET_RATIO:g} x gdal_viewshed: "
              f"{per_site / t_gdal:.2f} x -> {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
