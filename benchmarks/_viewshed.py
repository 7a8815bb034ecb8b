"""GDAL's viewshed, in process, for the terrain benchmarks (bench_los.py, bench_coverage.py).

The baseline is ``osgeo.gdal.ViewshedGenerate`` (the algorithm behind ``gdal_viewshed``)
called in this process on the DEM held in memory (GDAL's MEM driver), its result read
back into a numpy array: the work covgap's ``visibility`` does, with no process start
and no file I/O on either side.  (The ``gdal_viewshed`` command line spends about 58 ms
of its ~75 ms per site starting the process: timing it measured that, not the viewshed.)

The bindings come from the ``GDAL`` package built against the system's libgdal
(``make bench-deps`` installs them: Debian's ``libgdal-dev``, then
``pip install "GDAL==$(gdal-config --version)" --no-build-isolation``).  Without them
:func:`load_gdal` returns None with the reason, and the benchmarks skip the GDAL side.

GDAL's Earth curvature is ``cc d² / (2 a)`` with ``a`` the CRS's semi-major axis, so
``cc`` is set to ``a / (k R_e)`` to match covgap's ``d² / (2 k R_e)``.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from covgap.coverage.los import EARTH_RADIUS_M

# GDAL's sphere is the CRS's semi-major axis (WGS 84 for UTM 48N).
WGS84_A_M = 6_378_137.0
VISIBLE, INVISIBLE, OUT_OF_RANGE = 1, 0, 255
INSTALL_HINT = "make bench-deps (or: pip install \"GDAL==$(gdal-config --version)\")"


def load_gdal() -> tuple[ModuleType | None, str]:
    """Return ``(osgeo.gdal, version)``, or ``(None, why it is missing and the fix)``."""
    try:
        from osgeo import gdal, gdal_array  # noqa: F401  (gdal_array: ReadAsArray)
    except ImportError as exc:
        return None, f"osgeo (GDAL's Python bindings) is not installed ({exc}); {INSTALL_HINT}"
    gdal.UseExceptions()
    return gdal, gdal.__version__


def mem_dem(gdal: ModuleType, dem: np.ndarray, transform, crs_wkt: str):
    """Return the DEM as an in-memory GDAL dataset (float32, NaN nodata), once per DEM.

    ``transform`` is the rasterio (affine) transform, ``crs_wkt`` the CRS as WKT.
    """
    rows, cols = dem.shape
    ds = gdal.GetDriverByName("MEM").Create("", cols, rows, 1, gdal.GDT_Float32)
    ds.SetGeoTransform(transform.to_gdal())
    ds.SetProjection(crs_wkt)
    band = ds.GetRasterBand(1)
    band.SetNoDataValue(float("nan"))
    band.WriteArray(np.asarray(dem, dtype=np.float32))
    return ds


def viewshed(gdal: ModuleType, ds, row: float, col: float, *, tx_height_m: float,
             rx_height_m: float, radius_m: float,
             k_factor: float) -> tuple[np.ndarray, int, int]:
    """GDAL's viewshed from the cell holding the site, in process.

    Returns ``(window, row0, col0)``: the uint8 viewshed (1 visible, 0 not, 255 out of
    range) over the part of the DEM GDAL computed, whose first cell is DEM cell
    ``(row0, col0)``.  This is what the benchmarks time.
    """
    gt = ds.GetGeoTransform()
    # GDAL puts the observer on the cell holding (x, y); give it that centre.
    x = gt[0] + (int(col) + 0.5) * gt[1]
    y = gt[3] + (int(row) + 0.5) * gt[5]
    cc = WGS84_A_M / (k_factor * EARTH_RADIUS_M)
    out = gdal.ViewshedGenerate(ds.GetRasterBand(1), "MEM", "", [], x, y, tx_height_m,
                                rx_height_m, VISIBLE, INVISIBLE, OUT_OF_RANGE, OUT_OF_RANGE,
                                cc, gdal.GVM_Edge, radius_m)
    window = out.GetRasterBand(1).ReadAsArray()
    ogt = out.GetGeoTransform()
    return window, round((ogt[3] - gt[3]) / gt[5]), round((ogt[0] - gt[0]) / gt[1])


def crop(window: np.ndarray, row0: int, col0: int, target: tuple[int, int, int, int],
         ) -> np.ndarray:
    """Return a :func:`viewshed` window on ``target`` cells (255 where GDAL has none).

    ``target`` is ``(row0, col0, rows, cols)`` in DEM cells, e.g. covgap's window.
    """
    t_r0, t_c0, rows, cols = target
    out = np.full((rows, cols), OUT_OF_RANGE, dtype=np.uint8)
    r0, c0 = max(row0, t_r0), max(col0, t_c0)
    r1 = min(row0 + window.shape[0], t_r0 + rows)
    c1 = min(col0 + window.shape[1], t_c0 + cols)
    if r1 > r0 and c1 > c0:
        out[r0 - t_r0:r1 - t_r0, c0 - t_c0:c1 - t_c0] = window[r0 - row0:r1 - row0,
                                                               c0 - col0:c1 - col0]
    return out


def agreement(los: np.ndarray, theirs: np.ndarray, inside: np.ndarray) -> tuple[float, int]:
    """Share of ``inside`` cells where covgap's ``los`` equals GDAL's (1 = visible).

    ``theirs`` is GDAL's viewshed on the same cells; cells GDAL left out of range (255)
    are not compared.  Returns the share and the number of cells compared.
    """
    ok = inside & (theirs != OUT_OF_RANGE)
    n = int(ok.sum())
    return (float((los[ok] == (theirs[ok] == VISIBLE)).mean()) if n else float("nan")), n
