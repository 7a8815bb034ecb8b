"""Benchmark covgap's terrain kernel (covgap.coverage.los) against GDAL's viewshed, in process.

Like for like: both sides run in this process on a DEM already in memory and return an
array; no process start, no file I/O.  For N sites (each observed from the centre of the
cell holding it, as GDAL does) it times, per site, the best of ``--repeat`` passes over
all sites, after a warm-up call of each:

- **covgap line of sight**: ``visibility`` (line of sight only, with Earth curvature: a
  horizon sweep, the method of GDAL's viewshed, so this ratio is a sweep against a
  sweep);
- **covgap full terrain kernel**: ``terrain_window`` (line of sight and the Deygout or
  Epstein-Peterson diffraction loss: the terrain work of the terrain model's signal);
- **GDAL in process**: ``osgeo.gdal.ViewshedGenerate`` on the DEM in a MEM dataset, its
  result read back with ``ReadAsArray`` (``benchmarks/_viewshed.py``; the same output as
  the ``gdal_viewshed`` command, whose ~58 ms process start-up is not counted).

It prints seconds per site; the share of cells where ``visibility``'s sweep gives the
line of sight of ``terrain_window``'s exact ray profiles (the sweep's approximation,
covgap against covgap); and two ratios, each covgap's seconds per site over GDAL's
(below 1: covgap is faster):

- ``los``: ``visibility`` / GDAL viewshed, with the share of cells within the radius
  where covgap's line of sight equals GDAL's (agreement);
- ``full``: ``terrain_window`` / GDAL viewshed (GDAL computes no diffraction: this is the
  price of the whole terrain kernel against a viewshed), with its line of sight's
  agreement.

Last it prints one line, the verdict against issue 15's targets, per site and set for 2
cores: line of sight <= 1x GDAL's in-process viewshed; full terrain model <= 4x it.
Without GDAL's Python bindings the GDAL side is skipped with the reason; install them
with ``make bench-deps`` (Debian's libgdal-dev, then the ``GDAL`` package matching the
system's libgdal).

The DEM is the sample province's ``data/rasters/dem.tif`` reprojected to UTM 48N
(EPSG:32648) at 90 m, with sites from ``data/sites/bts.csv``, when both exist; otherwise
(or with ``--synthetic``) smoothed random terrain with ridges (90 m cells, seed 2025).

Run from the repository root::

    .venv/bin/python benchmarks/bench_los.py                  # sample DEM, 20 sites, 15 km
    .venv/bin/python benchmarks/bench_los.py --synthetic --sites 10 --radius-m 30000
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import rasterio
import rasterio.warp
from _viewshed import agreement, crop, load_gdal, mem_dem, viewshed
from pyproj import CRS as ProjCRS
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.transform import from_origin

from covgap.coverage.los import terrain_window, visibility

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DEM = REPO / "data" / "rasters" / "dem.tif"
SAMPLE_SITES = REPO / "data" / "sites" / "bts.csv"
CRS = "EPSG:32648"
CELL_M = 90.0
# issue 15, per site, like for like, 2 cores: covgap / GDAL's in-process viewshed
TARGET_LOS = 1.0
TARGET_FULL = 4.0


def synthetic_dem(n: int = 700, seed: int = 2025) -> np.ndarray:
    """Smoothed random terrain, 0-900 m, with three sharp ridges."""
    rng = np.random.default_rng(seed)
    f = np.fft.fftfreq(n)
    k = np.hypot(f[:, None], f[None, :])
    spectrum = np.fft.fft2(rng.normal(size=(n, n))) / (1 + (k / 0.01) ** 2) ** 1.2
    z = np.real(np.fft.ifft2(spectrum))
    z = (z - z.min()) / (z.max() - z.min()) * 900.0
    yy, xx = np.mgrid[0:n, 0:n]
    for a, b, c, height in ((1.0, -0.6, -0.25 * n, 250.0), (0.3, 1.0, -0.7 * n, 200.0),
                            (-1.0, -0.2, 1.07 * n, 180.0)):
        dist = np.abs(a * xx + b * yy + c) / math.hypot(a, b)
        z += height * np.exp(-((dist / 4.0) ** 2))
    return z.astype(np.float32)


def sample_dem() -> tuple[np.ndarray, object]:
    """Read the sample province's DEM in UTM 48N at 90 m (NaN outside the source)."""
    with rasterio.open(SAMPLE_DEM) as src:
        transform, width, height = rasterio.warp.calculate_default_transform(
            src.crs, CRS, src.width, src.height, *src.bounds, resolution=CELL_M)
        dem = np.full((height, width), np.nan, dtype=np.float32)
        rasterio.warp.reproject(rasterio.band(src, 1), dem, dst_transform=transform,
                                dst_crs=CRS, dst_nodata=np.nan, resampling=Resampling.bilinear)
    return dem, transform


def sample_sites(dem: np.ndarray, transform, count: int, margin: float) -> list[tuple]:
    """Distinct site locations from bts.csv as (row, col) pixels, spread over the list."""
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    seen: dict[tuple[str, str], tuple[float, float]] = {}
    with SAMPLE_SITES.open(encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            seen.setdefault((rec["lon"], rec["lat"]), (float(rec["lon"]), float(rec["lat"])))
    inverse = ~transform
    rows, cols = dem.shape
    sites = []
    for lon, lat in seen.values():
        x, y = to_utm.transform(lon, lat)
        col, row = inverse * (x, y)
        if margin <= row < rows - margin and margin <= col < cols - margin \
                and np.isfinite(dem[int(row), int(col)]):
            sites.append((row, col))
    step = max(1, len(sites) // count)
    return sites[::step][:count]


def synthetic_sites(dem: np.ndarray, count: int, margin: float, seed: int = 1) -> list[tuple]:
    rng = np.random.default_rng(seed)
    rows, cols = dem.shape
    return [(rng.uniform(margin, rows - margin), rng.uniform(margin, cols - margin))
            for _ in range(count)]


def best_pass(run: Callable[[float, float], object], sites: list[tuple],
              repeat: int) -> tuple[float, list]:
    """Seconds per site of the fastest of ``repeat`` passes over ``sites``; its results."""
    best, results = math.inf, []
    for _ in range(repeat):
        out = []
        t = time.perf_counter()
        for row, col in sites:
            out.append(run(row, col))
        best = min(best, (time.perf_counter() - t) / len(sites))
        results = out
    return best, results


def verdict(name: str, los_ratio: float | None, full_ratio: float | None,
            los_agree: float | None, full_agree: float | None, why: str = "") -> str:
    """Return the one-line verdict against the per-site targets (covgap / GDAL)."""
    if los_ratio is None or full_ratio is None:
        return f"VERDICT {name}: SKIPPED, no GDAL baseline ({why})"
    los_ok = "PASS" if los_ratio <= TARGET_LOS else "MISS"
    full_ok = "PASS" if full_ratio <= TARGET_FULL else "MISS"
    return (f"VERDICT {name}: los {los_ratio:.2f}x gdal in-process (target <= "
            f"{TARGET_LOS:g}x) {los_ok}; full {full_ratio:.2f}x (target <= {TARGET_FULL:g}x) "
            f"{full_ok}; agreement los {los_agree:.2%}, full {full_agree:.2%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20, help="number of sites (default 20)")
    parser.add_argument("--radius-m", type=float, default=15_000.0,
                        help="radius around each site, metres (default 15000)")
    parser.add_argument("--frequency-mhz", type=float, default=1800.0)
    parser.add_argument("--tx-height-m", type=float, default=30.0)
    parser.add_argument("--method", default="deygout", choices=("deygout", "epstein-peterson"))
    parser.add_argument("--repeat", type=int, default=3,
                        help="passes over the sites per method; the fastest counts (default 3)")
    parser.add_argument("--synthetic", action="store_true",
                        help="use synthetic terrain even if the sample DEM exists")
    args = parser.parse_args()
    rx_h, k = 1.5, 4 / 3
    margin = args.radius_m / CELL_M + 2

    if not args.synthetic and SAMPLE_DEM.exists() and SAMPLE_SITES.exists():
        dem, transform = sample_dem()
        sites = sample_sites(dem, transform, args.sites, margin=0.0)
        source = f"{SAMPLE_DEM.relative_to(REPO)} in {CRS} at {CELL_M:g} m"
    else:
        n = max(700, int(2 * margin) + 20)
        dem = synthetic_dem(n)
        transform = from_origin(500_000.0, 2_300_000.0, CELL_M, CELL_M)
        sites = synthetic_sites(dem, args.sites, margin)
        source = f"synthetic rough terrain {n}x{n} at {CELL_M:g} m"
    # Both sides observe from the centre of the cell holding the site, as GDAL does.
    sites = [(int(row) + 0.5, int(col) + 0.5) for row, col in sites]
    print(f"machine: {os.cpu_count()} CPU cores, numba {numba.__version__} with "
          f"{numba.get_num_threads()} threads (GDAL's viewshed runs on one); load average "
          f"{os.getloadavg()[0]:.1f} (1 min)")
    print(f"DEM: {source}, {dem.shape[0]} x {dem.shape[1]} cells, "
          f"{np.nanmin(dem):.0f}-{np.nanmax(dem):.0f} m")
    print(f"{len(sites)} sites, radius {args.radius_m / 1000:g} km, tx {args.tx_height_m:g} m, "
          f"rx {rx_h:g} m, {args.frequency_mhz:g} MHz, k = 4/3, method {args.method}; "
          f"best of {args.repeat} passes")

    common = dict(cell_size_m=CELL_M, tx_height_m=args.tx_height_m, rx_height_m=rx_h,
                  radius_m=args.radius_m, k_factor=k)

    def ours_los(row: float, col: float):
        return visibility(dem, site_row=row, site_col=col, **common)

    def ours_full(row: float, col: float):
        return terrain_window(dem, site_row=row, site_col=col,
                              frequency_mhz=args.frequency_mhz, method=args.method, **common)

    t = time.perf_counter()
    ours_full(*sites[0])
    ours_los(*sites[0])
    print(f"warm-up (numba JIT or cache load): {time.perf_counter() - t:.2f} s\n")

    t_los, los_out = best_pass(ours_los, sites, args.repeat)
    t_full, full_out = best_pass(ours_full, sites, args.repeat)
    cells = np.mean([np.isfinite(tw.distance_m).sum() for tw in los_out])
    rows_ = [("covgap visibility (line of sight)", t_los),
             (f"covgap terrain_window (LOS + {args.method})", t_full)]

    gdal, about = load_gdal()
    t_gdal = None
    if gdal is not None:
        ds = mem_dem(gdal, dem, transform, ProjCRS.from_user_input(CRS).to_wkt())

        def theirs_los(row: float, col: float):
            return viewshed(gdal, ds, row, col, tx_height_m=args.tx_height_m,
                            rx_height_m=rx_h, radius_m=args.radius_m, k_factor=k)

        theirs_los(*sites[0])
        t_gdal, gdal_out = best_pass(theirs_los, sites, args.repeat)
        rows_.append((f"GDAL {about} ViewshedGenerate (in process)", t_gdal))

    print(f"{'':48}{'s per site':>12}{'cells/s':>14}{'/ GDAL':>9}")
    for name, secs in rows_:
        ratio = f"{secs / t_gdal:8.2f}x" if t_gdal else f"{'-':>9}"
        print(f"{name:48}{secs:12.4f}{cells / secs:14,.0f}{ratio}")
    print(f"({cells:,.0f} cells within {args.radius_m / 1000:g} km per site on average)")
    # the sweep's approximation, covgap against covgap: visibility's line of sight
    # against terrain_window's exact ray profiles, over the valid cells within the radius
    exact = []
    for sweep, full in zip(los_out, full_out, strict=True):
        h, w = full.los.shape
        valid = np.isfinite(full.distance_m) & np.isfinite(
            dem[full.row0:full.row0 + h, full.col0:full.col0 + w])
        exact.append(float((sweep.los[valid] == full.los[valid]).mean()))
    print(f"visibility's sweep against terrain_window's exact profiles: the same line of "
          f"sight on {np.mean(exact):.2%} of the cells (worst site {np.min(exact):.2%})")

    if gdal is None:
        print(f"\nGDAL side skipped: {about}")
        print(verdict("terrain (bench_los)", None, None, None, None, about))
        return

    agree: dict[str, list[float]] = {"los": [], "full": []}
    visible = []
    for name, out in (("los", los_out), ("full", full_out)):
        for tw, (window, r0, c0) in zip(out, gdal_out, strict=True):
            h, w = tw.los.shape
            g = crop(window, r0, c0, (tw.row0, tw.col0, h, w))
            inside = np.isfinite(tw.distance_m) & np.isfinite(
                dem[tw.row0:tw.row0 + h, tw.col0:tw.col0 + w])
            share, _ = agreement(tw.los, g, inside)
            agree[name].append(share)
            if name == "los":
                ok = inside & (g != 255)
                visible.append((float(tw.los[ok].mean()), float((g[ok] == 1).mean())))
    los_ratio, full_ratio = t_los / t_gdal, t_full / t_gdal
    print(f"\nagreement with GDAL's viewshed (share of cells within {args.radius_m / 1000:g} km "
          "where covgap's line of sight equals GDAL's):")
    for name in ("los", "full"):
        a = agree[name]
        print(f"  {name:5} mean {np.mean(a):.2%}, min {np.min(a):.2%}, max {np.max(a):.2%}")
    ours_v, gdal_v = np.mean(visible, axis=0)
    print(f"  share of cells visible: covgap {ours_v:.1%}, GDAL {gdal_v:.1%}")
    print("\nratios, covgap seconds per site / GDAL in-process viewshed seconds per site "
          "(below 1: covgap faster):")
    print(f"  los  (visibility / GDAL viewshed):     {los_ratio:6.2f}x (target <= {TARGET_LOS:g}x)")
    print(f"  full (terrain_window / GDAL viewshed): {full_ratio:6.2f}x "
          f"(target <= {TARGET_FULL:g}x)")
    print(verdict("terrain (bench_los)", los_ratio, full_ratio, float(np.mean(agree["los"])),
                  float(np.mean(agree["full"]))))


if __name__ == "__main__":
    main()
