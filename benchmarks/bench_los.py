"""Benchmark the terrain kernel (covgap.coverage.los) against gdal_viewshed.

For N sites it times, per site and after a warm-up call:

- ``terrain_window`` (line of sight and Deygout diffraction loss),
- ``visibility`` (line of sight only, the like-for-like comparison),
- ``gdal_viewshed`` from Debian's gdal-bin, run as a subprocess on a GeoTIFF with its
  output read back by rasterio: process start and file I/O included, which is how a
  pipeline would use it,

and prints seconds per site, the ratios, and the share of cells within the radius where
our line of sight agrees with gdal_viewshed's.

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
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
import rasterio.warp
from _viewshed import run_gdal, write_dem
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.transform import from_origin

from covgap.coverage.los import terrain_window, visibility

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DEM = REPO / "data" / "rasters" / "dem.tif"
SAMPLE_SITES = REPO / "data" / "sites" / "bts.csv"
CRS = "EPSG:32648"
CELL_M = 90.0


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20, help="number of sites (default 20)")
    parser.add_argument("--radius-m", type=float, default=15_000.0,
                        help="radius around each site, metres (default 15000)")
    parser.add_argument("--frequency-mhz", type=float, default=1800.0)
    parser.add_argument("--tx-height-m", type=float, default=30.0)
    parser.add_argument("--method", default="deygout", choices=("deygout", "epstein-peterson"))
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
    print(f"DEM: {source}, {dem.shape[0]} x {dem.shape[1]} cells, "
          f"{np.nanmin(dem):.0f}-{np.nanmax(dem):.0f} m")
    print(f"{len(sites)} sites, radius {args.radius_m / 1000:g} km, tx {args.tx_height_m:g} m, "
          f"rx {rx_h:g} m, {args.frequency_mhz:g} MHz, k = 4/3, method {args.method}\n")

    common = dict(cell_size_m=CELL_M, tx_height_m=args.tx_height_m, rx_height_m=rx_h,
                  radius_m=args.radius_m, k_factor=k)
    t = time.perf_counter()
    terrain_window(dem, site_row=sites[0][0], site_col=sites[0][1],
                   frequency_mhz=args.frequency_mhz, method=args.method, **common)
    visibility(dem, site_row=sites[0][0], site_col=sites[0][1], **common)
    print(f"warm-up (numba JIT or cache load): {time.perf_counter() - t:.2f} s")

    t = time.perf_counter()
    for row, col in sites:
        terrain_window(dem, site_row=row, site_col=col, frequency_mhz=args.frequency_mhz,
                       method=args.method, **common)
    t_terrain = (time.perf_counter() - t) / len(sites)
    ours = []
    t = time.perf_counter()
    for row, col in sites:
        ours.append(visibility(dem, site_row=row, site_col=col, **common))
    t_visibility = (time.perf_counter() - t) / len(sites)

    cells = np.mean([np.isfinite(tw.distance_m).sum() for tw in ours])
    print(f"\n{'':34}{'s per site':>12}{'cells/s':>14}")
    print(f"{'terrain_window (LOS + ' + args.method + ')':34}{t_terrain:12.4f}"
          f"{cells / t_terrain:14,.0f}")
    print(f"{'visibility (LOS only)':34}{t_visibility:12.4f}{cells / t_visibility:14,.0f}")

    exe = shutil.which("gdal_viewshed")
    if exe is None:
        print("\ngdal_viewshed not found (Debian: apt-get install gdal-bin); no comparison")
        return
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "dem.tif"
        write_dem(src, dem, transform, CRS)
        theirs = []
        t = time.perf_counter()
        for n, (row, col) in enumerate(sites):
            theirs.append(run_gdal(exe, src, Path(tmp) / f"vs{n}.tif", transform, dem.shape,
                                   row, col, tx_height_m=args.tx_height_m, rx_height_m=rx_h,
                                   radius_m=args.radius_m, k_factor=k))
        t_gdal = (time.perf_counter() - t) / len(sites)
    print(f"{'gdal_viewshed (subprocess + I/O)':34}{t_gdal:12.4f}{cells / t_gdal:14,.0f}")
    print(f"\ngdal_viewshed / terrain_window: {t_gdal / t_terrain:6.1f} x")
    print(f"gdal_viewshed / visibility:     {t_gdal / t_visibility:6.1f} x")

    shares, visible = [], []
    for (row, col), full in zip(sites, theirs, strict=True):
        # gdal_viewshed puts the observer on its cell's centre: so do we, here.
        tw = visibility(dem, site_row=int(row) + 0.5, site_col=int(col) + 0.5, **common)
        h, w = tw.los.shape
        g = full[tw.row0:tw.row0 + h, tw.col0:tw.col0 + w]
        ok = np.isfinite(tw.distance_m) & (g != 255) & np.isfinite(
            dem[tw.row0:tw.row0 + h, tw.col0:tw.col0 + w])
        shares.append(float((tw.los[ok] == (g[ok] == 1)).mean()))
        visible.append((float(tw.los[ok].mean()), float((g[ok] == 1).mean())))
    print(f"\nLOS agreement with gdal_viewshed within {args.radius_m / 1000:g} km: "
          f"mean {np.mean(shares):.2%}, min {np.min(shares):.2%}, max {np.max(shares):.2%}")
    ours_v, gdal_v = np.mean(visible, axis=0)
    print(f"share of cells visible: ours {ours_v:.1%}, gdal_viewshed {gdal_v:.1%}")

if __name__ == "__main__":
    main()
