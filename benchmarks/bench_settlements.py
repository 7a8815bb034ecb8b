"""Benchmark village coverage shares (covgap.analysis.shares) against geopandas baselines.

A synthetic province (seeded, so every run builds the same one) in UTM 48N
(EPSG:32648), 100 km x 120 km, about Thanh Hóa's size and population:

- a population raster of 100 m cells (WorldPop's resolution): smooth random density,
  sparse in the mountainous west, with towns; 3.6 million people;
- village polygons: a Voronoi tessellation of seeds drawn where people live, so the
  villages tile the province like thôn boundaries do;
- omni 4G cells of three operators placed where people live, 700 m radius in towns
  (over 1,000 people/km²) and 1,500 m elsewhere, so the west keeps lõm sóng gaps.

It times, in one process, each step on its own, then three pipelines that compute the
same two things (every village's covered area share, and its covered and total
population) from the same cells:

- **covgap**: ``compute_coverage`` (radius model), then ``coverage_shares`` for the
  area share and for the population share of the "mbb" layer (all operators' 4G);
- **strong baseline** (no union anywhere): buffer the cells into discs;
  ``gpd.overlay`` the villages with the discs, then ``dissolve`` the pieces by village
  for the covered area; rasterise the village ids and the discs onto the population
  grid (``rasterio.features.rasterize``) and sum the people per village with
  ``np.bincount`` (covered: where a disc covers the cell's centre);
- **overlay + rasterstats** (the baseline this benchmark had first): buffer the cells,
  union the discs, ``gpd.overlay`` the villages with the union for the area share;
  rasterise the union, multiply it with the population raster and
  ``rasterstats.zonal_stats`` the covered and the total population per village.

Agreement, each baseline against covgap: area shares within 1e-6 for every village;
the province's covered-population share within 0.5% (the baselines count a cell whole
when its centre is in the village, covgap by the exact fraction inside, so single
villages differ more: their differences are printed too).  The two population baselines
must give the same numbers (printed: the largest difference per village).

The ratios are baseline seconds / covgap seconds, end to end (above 1: covgap is that many
times faster), and for the village shares alone (without building the coverage).  The
last line is the verdict: covgap at least 10x faster than the strongest (fastest)
baseline, end to end, and in agreement with it.

Run from the repository root (rasterstats is needed for the rasterstats baseline:
``pip install -e '.[bench]'`` or ``make bench-deps``; without it that baseline is skipped)::

    .venv/bin/python benchmarks/bench_settlements.py
    .venv/bin/python benchmarks/bench_settlements.py --villages 5000 --cells 5000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS
from rasterio.features import rasterize
from rasterio.transform import from_origin

from covgap.analysis.shares import coverage_shares
from covgap.config import LayerInput, load_config
from covgap.coverage import compute_coverage
from covgap.io import Inputs, read_raster

UTM = CRS.from_epsg(32648)
WEST, SOUTH = 500_000.0, 2_150_000.0
WIDTH_M, HEIGHT_M = 100_000.0, 120_000.0
CELL_M = 100.0
PEOPLE = 3_600_000.0
URBAN_PER_KM2 = 1000.0
RADIUS_M = {"urban": 700.0, "rural": 1500.0}
OPERATORS = (("Viettel", 0.45), ("VNPT", 0.30), ("MobiFone", 0.25))
SEED = 2025


def density(rng: np.random.Generator) -> np.ndarray:
    """People per 100 m cell: smooth noise, a sparse west, towns; PEOPLE in total."""
    rows, cols = round(HEIGHT_M / CELL_M), round(WIDTH_M / CELL_M)
    fy, fx = np.fft.fftfreq(rows)[:, None], np.fft.fftfreq(cols)[None, :]
    spectrum = np.fft.fft2(rng.normal(size=(rows, cols))) / (1 + (np.hypot(fx, fy) / 0.01) ** 2)
    z = np.real(np.fft.ifft2(spectrum))
    z = np.exp(2.0 * (z - z.mean()) / z.std())
    x = (np.arange(cols) + 0.5) / cols
    z *= np.where(x < 0.45, 0.15, 1.0)[None, :]  # mountains: few people
    yy, xx = np.mgrid[0:rows, 0:cols]
    for _ in range(15):  # towns, 1.5 km across
        r0, c0 = rng.uniform(0, rows), rng.uniform(cols * 0.4, cols)
        z += 40.0 * np.exp(-((yy - r0) ** 2 + (xx - c0) ** 2) / (2 * 15.0**2))
    return (z / z.sum() * PEOPLE).astype("float32")


def sample_points(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points (x, y) in cells drawn with probability ``weights``, uniform inside."""
    p = weights.ravel() / weights.sum()
    idx = rng.choice(p.size, size=n, p=p)
    row, col = np.divmod(idx, weights.shape[1])
    x = WEST + (col + rng.uniform(size=n)) * CELL_M
    y = SOUTH + HEIGHT_M - (row + rng.uniform(size=n)) * CELL_M
    return np.column_stack([x, y])


def province(n_villages: int, n_cells: int, folder: Path):
    rng = np.random.default_rng(SEED)
    pop = density(rng)
    transform = from_origin(WEST, SOUTH + HEIGHT_M, CELL_M, CELL_M)
    pop_path = folder / "population.tif"
    with rasterio.open(pop_path, "w", driver="GTiff", width=pop.shape[1], height=pop.shape[0],
                       count=1, dtype="float32", crs="EPSG:32648", nodata=-1.0,
                       transform=transform, tiled=True, compress="deflate") as dst:
        dst.write(pop, 1)
    outline = shapely.box(WEST, SOUTH, WEST + WIDTH_M, SOUTH + HEIGHT_M)

    seeds = sample_points(np.sqrt(pop), n_villages, rng)
    cells_ = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds),
                                                        extend_to=outline))
    polys = shapely.intersection(cells_, outline)
    villages = gpd.GeoDataFrame({"village_id": [f"V{i:05d}" for i in range(len(polys))]},
                                geometry=polys, crs=UTM)

    xy = sample_points(pop**0.8, n_cells, rng)
    row = np.clip(((SOUTH + HEIGHT_M - xy[:, 1]) // CELL_M).astype(int), 0, pop.shape[0] - 1)
    col = np.clip(((xy[:, 0] - WEST) // CELL_M).astype(int), 0, pop.shape[1] - 1)
    per_km2 = pop[row, col] * (1e6 / CELL_M**2)
    names = [o for o, _ in OPERATORS]
    operator = rng.choice(names, size=n_cells, p=[s for _, s in OPERATORS])
    sites = gpd.GeoDataFrame({
        "site_id": [f"S{i:05d}" for i in range(n_cells)], "operator": operator,
        "technology": "4G", "azimuth_deg": np.nan, "beamwidth_deg": np.nan, "height_m": 30.0,
        "eirp_dbm": 61.0, "frequency_mhz": 1800.0,
        "environment": np.where(per_km2 > URBAN_PER_KM2, "urban", "rural")},
        geometry=shapely.points(xy), crs=UTM)
    communes = gpd.GeoDataFrame({"commune_code": ["00001"], "commune_name": ["Tỉnh Thử"]},
                                geometry=[outline], crs=UTM)
    return villages, sites, communes, pop_path, transform


def run_covgap(villages, sites, communes, pop_path):
    inputs = Inputs(communes=communes.to_crs(4326), villages=villages.to_crs(4326),
                    sites=sites.to_crs(4326), fibre=None, dem=None, population=None,
                    metric_crs=UTM)
    config = load_config({"inputs": {"communes": "c", "villages": "v", "sites": "s"},
                          "coverage": {"model": "radius", "radius_m": {"4G": RADIUS_M["rural"]},
                                       "radius_urban_m": {"4G": RADIUS_M["urban"]}}})
    population = read_raster(LayerInput(path=pop_path), kind="population")
    times = {}
    t = time.perf_counter()
    cov = compute_coverage(inputs, config)
    times["coverage (radius model)"] = time.perf_counter() - t
    layers = {"mbb": [k for k in cov.keys() if k[1] == "4G"]}
    t = time.perf_counter()
    area = coverage_shares(villages, cov, layers=layers)
    times["area shares"] = time.perf_counter() - t
    t = time.perf_counter()
    people = coverage_shares(villages, cov, layers=layers, population=population)
    times["population shares"] = time.perf_counter() - t
    return area, people, times


def run_baselines(villages, sites, pop_path, transform) -> tuple[dict, dict]:
    """Each baseline step on its own; return their results and seconds by step name."""
    out, times = {}, {}
    t = time.perf_counter()
    radius = np.where(sites["environment"] == "urban", RADIUS_M["urban"], RADIUS_M["rural"])
    # 32 segments per quarter circle, as covgap's radius model draws its discs, so the
    # two compute the same shapes (geopandas' default is 16)
    discs = sites.buffer(radius, quad_segs=32)
    times["buffer"] = time.perf_counter() - t
    village_area = villages.geometry.area.to_numpy()
    with rasterio.open(pop_path) as src:
        pop = src.read(1)

    # strong: overlay with the discs, then dissolve per village (no union)
    t = time.perf_counter()
    pieces = gpd.overlay(villages, gpd.GeoDataFrame(geometry=discs, crs=UTM),
                         how="intersection")
    merged = pieces[["village_id", "geometry"]].dissolve(by="village_id")
    covered = merged.geometry.area
    out["area (discs)"] = (covered.reindex(villages["village_id"]).fillna(0.0).to_numpy()
                           / village_area)
    times["overlay with discs + dissolve"] = time.perf_counter() - t

    # strong: rasterised village ids and discs, people summed per id with bincount
    t = time.perf_counter()
    ids = rasterize(zip(villages.geometry, range(1, len(villages) + 1), strict=True),
                    out_shape=pop.shape, transform=transform, fill=0, dtype="int32")
    mask = rasterize(((d, 1) for d in discs), out_shape=pop.shape, transform=transform,
                     fill=0, dtype="uint8").astype(bool)
    people = np.where(pop >= 0, pop, 0.0).astype("float64")
    flat = ids.ravel()
    n = len(villages) + 1
    out["total (bincount)"] = np.bincount(flat, weights=people.ravel(), minlength=n)[1:]
    out["covered (bincount)"] = np.bincount(flat[mask.ravel()],
                                            weights=people.ravel()[mask.ravel()],
                                            minlength=n)[1:]
    times["rasterize ids + discs, bincount"] = time.perf_counter() - t

    # weak: one union of every disc, overlay with it, rasterstats
    t = time.perf_counter()
    union = discs.union_all()  # GeoSeries.unary_union before geopandas 1.0
    times["union of the discs"] = time.perf_counter() - t
    t = time.perf_counter()
    pieces = gpd.overlay(villages, gpd.GeoDataFrame(geometry=[union], crs=UTM),
                         how="intersection")
    covered = pieces.geometry.area.groupby(pieces["village_id"]).sum()
    out["area (union)"] = (covered.reindex(villages["village_id"]).fillna(0.0).to_numpy()
                           / village_area)
    times["overlay with the union"] = time.perf_counter() - t
    try:
        from rasterstats import zonal_stats
    except ImportError:
        return out, times
    t = time.perf_counter()
    mask = rasterize([(union, 1)], out_shape=pop.shape, transform=transform, fill=0,
                     dtype="uint8")
    covered_pop = np.where(pop >= 0, pop * mask, -1.0).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rasterstats' own deprecation notices
        total = zonal_stats(villages, pop, affine=transform, stats="sum", nodata=-1.0)
        cov = zonal_stats(villages, covered_pop, affine=transform, stats="sum", nodata=-1.0)
    out["total (rasterstats)"] = np.array([s["sum"] or 0.0 for s in total])
    out["covered (rasterstats)"] = np.array([s["sum"] or 0.0 for s in cov])
    times["rasterize union + zonal_stats"] = time.perf_counter() - t
    return out, times


# Pipelines: the steps each one runs, and the results it reads (area, total, covered).
PIPELINES = {
    "strong baseline (overlay with discs + dissolve, rasterised ids + bincount)": (
        ("buffer", "overlay with discs + dissolve", "rasterize ids + discs, bincount"),
        ("area (discs)", "total (bincount)", "covered (bincount)")),
    "overlay + rasterstats (union of the discs)": (
        ("buffer", "union of the discs", "overlay with the union",
         "rasterize union + zonal_stats"),
        ("area (union)", "total (rasterstats)", "covered (rasterstats)")),
}
AREA_LIMIT = 1e-6
POPULATION_LIMIT = 0.005
TARGET_SPEEDUP = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=20_000)
    parser.add_argument("--cells", type=int, default=20_000)
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.1f} "
          "(1 min)")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        villages, sites, communes, pop_path, transform = province(args.villages, args.cells,
                                                                  Path(tmp))
        print(f"province: {len(villages):,} villages, {len(sites):,} cells, "
              f"{PEOPLE / 1e6:.1f} M people on {CELL_M:g} m cells; built in "
              f"{time.perf_counter() - t:.1f} s")

        area, people, ours = run_covgap(villages, sites, communes, pop_path)
        results, theirs = run_baselines(villages, sites, pop_path, transform)

    t_ours = sum(ours.values())
    shares_only = ours["area shares"] + ours["population shares"]
    print("\ncovgap")
    for k, v in ours.items():
        print(f"  {k:<36}{v:8.2f} s")
    print(f"  {'total':<36}{t_ours:8.2f} s")
    print("baseline steps")
    for k, v in theirs.items():
        print(f"  {k:<36}{v:8.2f} s")

    by_pop = (people["basis"] == "population").to_numpy()
    ours_share = float((people["mbb"] * people["weight"])[by_pop].sum()
                       / people["weight"][by_pop].sum())
    print(f"\ncovgap: covered population {ours_share:.4%}; villages by basis: "
          f"{pd.Series(people['basis']).value_counts().to_dict()}; covered area "
          f"{np.average(area['mbb'], weights=area['weight']):.1%} of the province")
    print("\npipelines: agreement with covgap, and baseline seconds / covgap seconds "
          "(above 1: covgap faster)")
    verdicts = []
    for name, (steps, (a_key, t_key, c_key)) in PIPELINES.items():
        if not all(k in theirs for k in steps):
            print(f"- {name}: skipped (rasterstats is not installed: pip install rasterstats)")
            continue
        total = sum(theirs[k] for k in steps)
        # the shares alone: every step but building the discs (and their union)
        shares_t = sum(theirs[k] for k in steps if k not in ("buffer", "union of the discs"))
        area_diff = float(np.abs(area["mbb"].to_numpy() - results[a_key]).max())
        b_total, b_cov = results[t_key], results[c_key]
        theirs_share = b_cov.sum() / b_total.sum()
        rel = abs(ours_share - theirs_share) / theirs_share
        with np.errstate(invalid="ignore", divide="ignore"):
            village_diff = np.abs(people["mbb"].to_numpy()
                                  - b_cov / b_total)[by_pop & (b_total > 0)]
        ok = area_diff <= AREA_LIMIT and rel <= POPULATION_LIMIT
        print(f"- {name}: {total:.2f} s")
        print(f"    area share, max difference over villages: {area_diff:.2e} "
              f"(limit {AREA_LIMIT:g})")
        print(f"    covered population {theirs_share:.4%}: relative difference {rel:.4%} "
              f"(limit {POPULATION_LIMIT:.1%}); per village (exact cell fractions vs cell "
              f"centres): median {np.median(village_diff):.4f}, 95th percentile "
              f"{np.percentile(village_diff, 95):.4f}")
        print(f"    -> {'AGREE' if ok else 'DISAGREE'}; ratio {name.split(' (')[0]} / covgap: "
              f"{total / t_ours:.1f}x end to end, {shares_t / shares_only:.1f}x for the "
              "village shares alone")
        verdicts.append((total, name, total / t_ours, ok, area_diff, rel))
    if all(k in results for k in ("total (bincount)", "total (rasterstats)")):
        d = max(float(np.abs(results[f"{k} (bincount)"] - results[f"{k} (rasterstats)"]).max())
                for k in ("total", "covered"))
        print(f"\nrasterised ids + bincount vs rasterstats: largest difference in a village's "
              f"total or covered people {d:.3g} (float32 sums in another order)")

    strongest = min(verdicts)
    _, name, speedup, ok, area_diff, rel = strongest
    others = "; ".join(f"{v[1].split(' (')[0]} / covgap {v[2]:.1f}x" for v in verdicts
                       if v is not strongest)
    print(f"VERDICT settlements: strongest baseline ({name.split(' (', 1)[1][:-1]}) / covgap "
          f"{speedup:.1f}x end to end (target >= {TARGET_SPEEDUP:g}x) "
          f"{'PASS' if speedup >= TARGET_SPEEDUP else 'MISS'}; "
          f"{others + '; ' if others else ''}agreement {'AGREE' if ok else 'DISAGREE'} "
          f"(area {area_diff:.1e} <= {AREA_LIMIT:g}, population {rel:.4%} <= "
          f"{POPULATION_LIMIT:.1%})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
