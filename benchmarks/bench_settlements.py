"""Benchmark village coverage shares (covgap.analysis.shares) against a plain baseline.

A synthetic province (seeded, so every run builds the same one) in UTM 48N
(EPSG:32648), 100 km x 120 km, about Thanh Hóa's size and population:

- a population raster of 100 m cells (WorldPop's resolution): smooth random density,
  sparse in the mountainous west, with towns; 3.6 million people;
- village polygons: a Voronoi tessellation of seeds drawn where people live, so the
  villages tile the province like thôn boundaries do;
- omni 4G cells of three operators placed where people live, 700 m radius in towns
  (over 1,000 people/km²) and 1,500 m elsewhere, so the west keeps lõm sóng gaps.

It times, in one process:

- **covgap**: ``compute_coverage`` (radius model), then ``coverage_shares`` for the
  area share and for the population share of the "mbb" layer (all operators' 4G);
- **baseline**, what an analyst would write with geopandas and rasterstats: buffer the
  cells, union the discs, ``gpd.overlay`` the villages with the union for the area
  share; rasterise the union, multiply it with the population raster and
  ``rasterstats.zonal_stats`` the covered and the total population per village.

and checks they agree: area shares within 1e-6 for every village; the province's
covered-population share within 0.5% (rasterstats counts a cell whole when its centre
is in the village, covgap by the exact fraction inside, so single villages differ
more: their differences are printed too).

Run from the repository root (rasterstats is needed for the baseline:
``pip install rasterstats``)::

    .venv/bin/python benchmarks/bench_settlements.py
    .venv/bin/python benchmarks/bench_settlements.py --villages 5000 --cells 5000
"""

from __future__ import annotations

import argparse
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


def run_baseline(villages, sites, pop_path, transform):
    from rasterstats import zonal_stats

    times = {}
    t = time.perf_counter()
    radius = np.where(sites["environment"] == "urban", RADIUS_M["urban"], RADIUS_M["rural"])
    # 32 segments per quarter circle, as covgap's radius model draws its discs, so the
    # two compute the same shapes (geopandas' default is 16)
    discs = sites.buffer(radius, quad_segs=32)
    union = discs.union_all()  # GeoSeries.unary_union before geopandas 1.0
    coverage = gpd.GeoDataFrame(geometry=[union], crs=UTM)
    times["buffer + union"] = time.perf_counter() - t

    t = time.perf_counter()
    pieces = gpd.overlay(villages, coverage, how="intersection")
    covered = pieces.geometry.area.groupby(pieces["village_id"]).sum()
    area_share = (covered.reindex(villages["village_id"]).fillna(0.0).to_numpy()
                  / villages.geometry.area.to_numpy())
    times["overlay"] = time.perf_counter() - t

    t = time.perf_counter()
    with rasterio.open(pop_path) as src:
        pop = src.read(1)
    mask = rasterize([(union, 1)], out_shape=pop.shape, transform=transform, fill=0,
                     dtype="uint8")
    covered_pop = np.where(pop >= 0, pop * mask, -1.0).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rasterstats' own deprecation notices
        total = zonal_stats(villages, pop, affine=transform, stats="sum", nodata=-1.0)
        cov = zonal_stats(villages, covered_pop, affine=transform, stats="sum", nodata=-1.0)
    total = np.array([s["sum"] or 0.0 for s in total])
    cov = np.array([s["sum"] or 0.0 for s in cov])
    times["rasterize + zonal_stats"] = time.perf_counter() - t
    return area_share, total, cov, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=20_000)
    parser.add_argument("--cells", type=int, default=20_000)
    args = parser.parse_args()
    try:
        import rasterstats  # noqa: F401
    except ImportError:
        sys.exit("the baseline needs rasterstats: pip install rasterstats")

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        villages, sites, communes, pop_path, transform = province(args.villages, args.cells,
                                                                  Path(tmp))
        print(f"province: {len(villages):,} villages, {len(sites):,} cells, "
              f"{PEOPLE / 1e6:.1f} M people on {CELL_M:g} m cells; built in "
              f"{time.perf_counter() - t:.1f} s")

        area, people, ours = run_covgap(villages, sites, communes, pop_path)
        b_area, b_total, b_cov, theirs = run_baseline(villages, sites, pop_path, transform)

    t_ours, t_theirs = sum(ours.values()), sum(theirs.values())
    print("\ncovgap")
    for k, v in ours.items():
        print(f"  {k:<28}{v:8.2f} s")
    print(f"  {'total':<28}{t_ours:8.2f} s")
    print("baseline (geopandas overlay + rasterstats)")
    for k, v in theirs.items():
        print(f"  {k:<28}{v:8.2f} s")
    print(f"  {'total':<28}{t_theirs:8.2f} s")
    shares_only = ours["area shares"] + ours["population shares"]
    print(f"\nspeed-up: {t_theirs / t_ours:.1f}x end to end; "
          f"{(t_theirs - theirs['buffer + union']) / shares_only:.1f}x for the village "
          "shares alone (without building the coverage)")

    area_diff = np.abs(area["mbb"].to_numpy() - b_area)
    by_pop = (people["basis"] == "population").to_numpy()
    ours_pop = float((people["mbb"] * people["weight"])[by_pop].sum())
    ours_total = float(people["weight"][by_pop].sum())
    theirs_share = b_cov.sum() / b_total.sum()
    ours_share = ours_pop / ours_total
    rel = abs(ours_share - theirs_share) / theirs_share
    with np.errstate(invalid="ignore", divide="ignore"):
        village_diff = np.abs(people["mbb"].to_numpy() - b_cov / b_total)[by_pop & (b_total > 0)]
    print("\nagreement")
    print(f"  area share, max difference over villages: {area_diff.max():.2e} (limit 1e-6)")
    print(f"  covered population: covgap {ours_share:.4%}, baseline {theirs_share:.4%}; "
          f"relative difference {rel:.3%} (limit 0.5%)")
    print(f"  population share per village (exact cell fractions vs cell centres): median "
          f"difference {np.median(village_diff):.4f}, 95th percentile "
          f"{np.percentile(village_diff, 95):.4f}")
    print(f"  villages by basis: {pd.Series(people['basis']).value_counts().to_dict()}; "
          f"covered area {np.average(area['mbb'], weights=area['weight']):.1%} of the province")
    ok = area_diff.max() <= 1e-6 and rel <= 0.005
    print(f"\n{'AGREE' if ok else 'DISAGREE'}; covgap is {t_theirs / t_ours:.1f}x faster "
          f"(target 10x)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
