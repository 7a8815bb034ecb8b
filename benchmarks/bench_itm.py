"""covgap's pathloss and terrain models against Longley-Rice (ITM, ``itmlogic``).

Two DEMs: the sample province's (data/rasters/dem.tif, reprojected to UTM 48N at
90 m) and a synthetic ridge-and-valley one; on each a hilltop and a valley site (30 m
mast, 1800 MHz, receiver 1.5 m).  For paths of 1-15 km (ITM is specified from 1 km) to
random cells, covgap's loss (:func:`covgap.coverage.propagation.pathloss_db` at the
effective antenna height, plus what the terrain model's knife edges add to smooth
ground, ``TerrainWindow.excess_db``) is compared with
ITM's median basic transmission loss over the same profile (point-to-point mode,
continental temperate climate, average ground).  Prints the median and 90th-percentile
absolute difference on clear and obstructed paths, the covered / not-covered agreement
at the threshold, the same with the mast height instead of the effective height, and
a last-line verdict against issue 13's targets (median |difference| on clear paths within 6 dB,
covered agreement at least 95%).

Run: ``python benchmarks/bench_itm.py`` (needs the ``bench`` extra: ``itmlogic``).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject

from covgap.config import CoverageConfig
from covgap.coverage.los import terrain_window
from covgap.coverage.propagation import effective_height_m, pathloss_db

ROOT = Path(__file__).resolve().parent.parent
CELL_M = 90.0
FREQ_MHZ = 1800.0
MAST_M = 30.0
RX_M = 1.5
PATHS_PER_SITE = 250
MIN_M, MAX_M = 1000.0, 15000.0
#: the budget: EIRP 61 dBm less the 4G reference-signal offset covgap uses by default
BUDGET_DB = 61.0 - CoverageConfig().reference_signal_db["4G"] - CoverageConfig().min_rsrp_dbm
TARGET_CLEAR_MEDIAN_DB = 6.0
TARGET_AGREEMENT = 0.95


def itm_loss_db(profile_m: np.ndarray, step_m: float) -> float:
    """ITM median basic transmission loss (dB) over an equally spaced profile."""
    from itmlogic.preparatory_subroutines.qlrpfl import qlrpfl
    from itmlogic.preparatory_subroutines.qlrps import qlrps
    from itmlogic.statistics.avar import avar

    prop = {"eps": 15.0, "sgm": 0.005, "ipol": 1, "fmhz": FREQ_MHZ, "hg": [MAST_M, RX_M],
            "klim": 5, "ens0": 314.0, "lvar": 5, "kwx": 0, "klimx": 0, "mdvarx": 11,
            "mdvar": 11, "pfl": [len(profile_m) - 1, step_m, *map(float, profile_m)]}
    prop["wn"], prop["gme"], prop["ens"], prop["zgnd"] = qlrps(
        FREQ_MHZ, 0.0, prop["ens0"], prop["ipol"], prop["eps"], prop["sgm"])
    prop = qlrpfl(prop)
    free = 8.685890 * math.log(2 * prop["wn"] * prop["dist"])
    excess, prop = avar(0.0, 0.0, 0.0, prop)
    return free + excess


def profile(dem: np.ndarray, r0: float, c0: float, r1: float, c1: float) -> tuple:
    """Bilinear DEM samples on the straight line between two cell centres, one per cell."""
    length = math.hypot(r1 - r0, c1 - c0)
    n = max(3, math.ceil(length) + 1)
    t = np.linspace(0.0, 1.0, n)
    rr = r0 + t * (r1 - r0)
    cc = c0 + t * (c1 - c0)
    i0 = np.clip(np.floor(rr).astype(int), 0, dem.shape[0] - 2)
    j0 = np.clip(np.floor(cc).astype(int), 0, dem.shape[1] - 2)
    fr, fc = rr - i0, cc - j0
    z = (dem[i0, j0] * (1 - fr) * (1 - fc) + dem[i0 + 1, j0] * fr * (1 - fc)
         + dem[i0, j0 + 1] * (1 - fr) * fc + dem[i0 + 1, j0 + 1] * fr * fc)
    return z, length * CELL_M / (n - 1)


def sample_dem() -> np.ndarray:
    """Return the sample province's DEM in UTM 48N at 90 m."""
    with rasterio.open(ROOT / "data" / "rasters" / "dem.tif") as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:32648", src.width, src.height, *src.bounds, resolution=CELL_M)
        out = np.full((height, width), np.nan, dtype="float64")
        reproject(rasterio.band(src, 1), out, dst_transform=transform, dst_crs="EPSG:32648",
                  resampling=Resampling.bilinear, dst_nodata=np.nan)
    return out


def ridge_dem(n: int = 420, seed: int = 13) -> np.ndarray:
    """Ridges 6 km apart running north-south, 500 m high, with rolling hills."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n] * CELL_M
    z = 300 + 250 * np.sin(2 * np.pi * xx / 6000.0 + 0.3 * np.sin(2 * np.pi * yy / 9000.0))
    for _ in range(30):
        cy, cx = rng.uniform(0, n * CELL_M, 2)
        z += rng.uniform(20, 120) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2)
                                           / (2 * rng.uniform(400, 1500) ** 2))
    return z


def sites(dem: np.ndarray) -> dict[str, tuple[int, int]]:
    """Return the highest and the lowest cell of the DEM's central part."""
    h, w = dem.shape
    m = int(MAX_M / CELL_M) + 2
    core = dem[m:h - m, m:w - m]
    hi = np.unravel_index(np.nanargmax(core), core.shape)
    lo = np.unravel_index(np.nanargmin(core), core.shape)
    return {"hilltop": (hi[0] + m, hi[1] + m), "valley": (lo[0] + m, lo[1] + m)}


def compare(dem: np.ndarray, site: tuple[int, int], rng: np.random.Generator) -> dict:
    """Covgap and ITM losses to random cells 1-15 km from a site."""
    sr, sc = site
    tw = terrain_window(dem, cell_size_m=CELL_M, site_row=sr + 0.5, site_col=sc + 0.5,
                        tx_height_m=MAST_M, rx_height_m=RX_M, frequency_mhz=FREQ_MHZ,
                        radius_m=MAX_M)
    rows, cols = np.nonzero((tw.distance_m >= MIN_M) & np.isfinite(tw.loss_db))
    pick = rng.choice(rows.size, size=min(PATHS_PER_SITE, rows.size), replace=False)
    rows, cols = rows[pick], cols[pick]
    d = tw.distance_m[rows, cols].astype(float)
    heff = effective_height_m(MAST_M, float(dem[sr, sc]), tw.mean_elevation_m[rows, cols])
    kw = {"rx_height_m": RX_M, "environment": "rural", "technology": "4G", "los": True}
    extra = tw.excess_db[rows, cols].astype(float)
    ours = np.asarray(pathloss_db(d, FREQ_MHZ, tx_height_m=heff, **kw)) + extra
    # before issue 13: the mast height, and the raw knife edges only where the terrain
    # blocks the line of sight
    blocked = np.where(tw.los[rows, cols], 0.0, tw.loss_db[rows, cols].astype(float))
    mast = np.asarray(pathloss_db(d, FREQ_MHZ, tx_height_m=MAST_M, **kw)) + blocked
    itm = np.empty(rows.size)
    for k, (r, c) in enumerate(zip(rows + tw.row0, cols + tw.col0, strict=True)):
        z, step = profile(dem, float(sr), float(sc), float(r), float(c))
        itm[k] = itm_loss_db(z, step)
    return {"ours": ours, "mast": mast, "itm": itm, "clear": tw.los[rows, cols],
            "d": d, "heff": heff}


def summary(name: str, parts: list[dict], key: str) -> tuple[float, float]:
    """Print the differences of one variant; return (clear median, agreement)."""
    ours = np.concatenate([p[key] for p in parts])
    itm = np.concatenate([p["itm"] for p in parts])
    clear = np.concatenate([p["clear"] for p in parts])
    d = np.concatenate([p["d"] for p in parts])
    diff = ours - itm
    out = []
    for label, sel in (("clear", clear), ("obstructed", ~clear)):
        a = np.abs(diff[sel])
        if a.size:
            print(f"  {name:<22} {label:<10} n={a.size:4d}  median |diff| {np.median(a):5.1f} dB"
                  f"  p90 {np.percentile(a, 90):5.1f} dB  mean diff {diff[sel].mean():+5.1f} dB")
            out.append(float(np.median(a)))
        else:
            out.append(float("nan"))
    agree = float(np.mean((ours <= BUDGET_DB) == (itm <= BUDGET_DB)))
    near = d <= 5000
    agree_5 = float(np.mean((ours[near] <= BUDGET_DB) == (itm[near] <= BUDGET_DB)))
    print(f"  {name:<22} covered agreement at {CoverageConfig().min_rsrp_dbm:g} dBm: "
          f"{agree:.1%} (within 5 km {agree_5:.1%})")
    return out[0], agree


def main() -> int:
    try:
        import itmlogic  # noqa: F401
    except ImportError:
        print("needs itmlogic: pip install 'covgap[bench]'")
        return 1
    rng = np.random.default_rng(2025)
    t0 = time.perf_counter()
    parts = []
    for dem_name, dem in (("sample DEM", sample_dem()), ("ridge-and-valley", ridge_dem())):
        for site_name, site in sites(dem).items():
            p = compare(dem, site, rng)
            parts.append(p)
            print(f"{dem_name}, {site_name} site (ground {dem[site]:.0f} m, effective height "
                  f"median {np.median(p['heff']):.0f} m):")
            summary("covgap", [p], "ours")
    print(f"all {sum(len(p['itm']) for p in parts)} paths:")
    clear_median, agreement = summary("covgap", parts, "ours")
    summary("before (mast, blocked)", parts, "mast")
    ok = clear_median <= TARGET_CLEAR_MEDIAN_DB and agreement >= TARGET_AGREEMENT
    print(f"VERDICT itm: {'MET' if ok else 'NOT MET'}: clear-path median |diff| "
          f"{clear_median:.1f} dB (target <= {TARGET_CLEAR_MEDIAN_DB:g}), covered agreement "
          f"{agreement:.1%} (target >= {TARGET_AGREEMENT:.0%}); {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
