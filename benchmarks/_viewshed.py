"""gdal_viewshed helpers shared by the benchmarks (bench_los.py, bench_coverage.py).

gdal_viewshed (Debian's gdal-bin) is run as a subprocess on a GeoTIFF and its output read
back with rasterio, process start and file I/O included, which is how a pipeline would
use it.  Its Earth curvature is ``cc d² / (2 a)`` with ``a`` the CRS's semi-major axis,
so ``-cc`` is set to ``a / (k R_e)`` to match covgap's ``d² / (2 k R_e)``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import rasterio

from covgap.coverage.los import EARTH_RADIUS_M

# gdal_viewshed's sphere is the CRS's semi-major axis (WGS 84 for UTM 48N).
WGS84_A_M = 6_378_137.0


def write_dem(path: Path, dem: np.ndarray, transform, crs) -> None:
    """Write a float32 DEM (NaN nodata) to a GeoTIFF for gdal_viewshed."""
    with rasterio.open(path, "w", driver="GTiff", width=dem.shape[1], height=dem.shape[0],
                       count=1, dtype="float32", crs=crs, transform=transform,
                       nodata=np.nan) as ds:
        ds.write(np.asarray(dem, dtype=np.float32), 1)


def run_gdal(exe: str, src: Path, dst: Path, transform, shape, row: float, col: float, *,
             tx_height_m: float, rx_height_m: float, radius_m: float,
             k_factor: float) -> np.ndarray:
    """gdal_viewshed from the cell holding the site; 1 visible, 0 not, 255 out of range.

    The result covers the whole DEM (``shape``, on ``transform``).
    """
    cell = transform.a
    # gdal_viewshed puts the observer on the cell holding (x, y); give it that centre.
    x, y = transform * (int(col) + 0.5, int(row) + 0.5)
    cc = WGS84_A_M / (k_factor * EARTH_RADIUS_M)
    subprocess.run([exe, "-q", "-ox", repr(x), "-oy", repr(y), "-oz", repr(tx_height_m),
                    "-tz", repr(rx_height_m), "-md", repr(radius_m), "-cc", repr(cc),
                    "-vv", "1", "-iv", "0", "-ov", "255", str(src), str(dst)],
                   check=True, capture_output=True)
    out = np.full(shape, 255, dtype=np.uint8)
    with rasterio.open(dst) as ds:
        r0 = round((transform.f - ds.transform.f) / cell)
        c0 = round((ds.transform.c - transform.c) / cell)
        out[r0:r0 + ds.height, c0:c0 + ds.width] = ds.read(1)
    return out
