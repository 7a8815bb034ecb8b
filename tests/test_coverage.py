"""Coverage models on small synthetic worlds with answers known in advance.

The world is a 20 km square commune in UTM 48N (EPSG:32648) with its south-west corner
at (590000, 2200000), about lon 105.85, lat 19.9.
"""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.warp
import shapely
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from shapely.geometry import Point, box

from covgap.config import LayerInput, load_config
from covgap.coverage import compute_coverage
from covgap.coverage.propagation import hata_loss_db
from covgap.errors import ConfigError, InputError
from covgap.io import Inputs, read_raster
from covgap.io.maps import read_coverage_maps

UTM = CRS.from_epsg(32648)
X0, Y0 = 590000.0, 2200000.0
SIDE = 20000.0


def cell(site_id, x, y, *, operator="Viettel", technology="4G", azimuth=np.nan,
         beamwidth=np.nan, height=30.0, eirp=61.0, frequency=1800.0, **extra):
    return {"site_id": site_id, "operator": operator, "technology": technology,
            "azimuth_deg": azimuth, "beamwidth_deg": beamwidth, "height_m": height,
            "eirp_dbm": eirp, "frequency_mhz": frequency, "geometry": Point(x, y), **extra}


def world(cells, *, dem=None, tmp_path=None, res=100.0):
    communes = gpd.GeoDataFrame(
        {"commune_code": ["00001"], "commune_name": ["Xã Thử"], "region": ["III"]},
        geometry=[box(X0, Y0, X0 + SIDE, Y0 + SIDE)], crs=UTM).to_crs(4326)
    villages = gpd.GeoDataFrame(
        {"village_id": ["V1"], "village_name": ["Bản Một"], "commune_code": ["00001"],
         "population": [100.0], "households": [25.0], "difficult": [False]},
        geometry=[Point(X0 + 10000, Y0 + 10000)], crs=UTM).to_crs(4326)
    sites = gpd.GeoDataFrame(pd.DataFrame(cells), geometry="geometry", crs=UTM).to_crs(4326)
    layer = None
    if dem is not None:
        path = tmp_path / "dem.tif"
        with rasterio.open(path, "w", driver="GTiff", width=dem.shape[1], height=dem.shape[0],
                           count=1, dtype="float32", crs="EPSG:32648", nodata=-9999.0,
                           transform=from_origin(X0, Y0 + SIDE, res, res)) as dst:
            dst.write(dem.astype("float32"), 1)
        layer = read_raster(LayerInput(path=path), kind="dem")
    return Inputs(communes=communes, villages=villages, sites=sites, fibre=None, dem=layer,
                  population=None, metric_crs=UTM)


def config(**coverage):
    return load_config({"inputs": {"communes": "c", "villages": "v", "sites": "s"},
                        "coverage": {"resolution_m": 100.0, **coverage}})


def value_at(cov, key, x, y):
    row, col = cov.grid.rowcol(np.array([x]), np.array([y]))
    return cov.signal[key][int(row[0]), int(col[0])]


# ------------------------------------------------------------------ radius model


def test_radius_disc_has_the_configured_area():
    cov = compute_coverage(world([cell("A", X0 + 10000, Y0 + 10000)]),
                           config(model="radius", radius_m={"4G": 5000}))
    area = cov.area_union(["4G"]).area
    assert area == pytest.approx(math.pi * 5000**2, rel=1e-3)
    assert cov.keys() == [("Viettel", "4G")]
    assert cov.cells["radius_m"].iloc[0] == 5000


def test_radius_sector_follows_the_antenna_pattern():
    cov = compute_coverage(
        world([cell("A", X0 + 10000, Y0 + 10000, azimuth=90.0, beamwidth=65.0)]),
        config(model="radius", radius_m={"4G": 5000}, pathloss_exponent=3.5))
    shape = cov.area_union(["4G"])
    centre = Point(X0 + 10000, Y0 + 10000)

    def reach(bearing):
        far = Point(centre.x + 20000 * math.sin(math.radians(bearing)),
                    centre.y + 20000 * math.cos(math.radians(bearing)))
        return shapely.LineString([centre, far]).intersection(shape).length

    assert reach(90) == pytest.approx(5000, rel=1e-6)
    # 60 degrees off boresight the pattern gives -12 (60/65)^2 dB
    expected = 5000 * 10 ** (-12 * (60 / 65) ** 2 / 35)
    assert reach(150) == pytest.approx(expected, rel=0.01)
    # behind: the 25 dB floor of the pattern
    assert reach(270) == pytest.approx(5000 * 10 ** (-25 / 35), rel=0.01)


def test_urban_sites_use_the_urban_radius():
    cells = [cell("A", X0 + 5000, Y0 + 5000, environment="urban"),
             cell("B", X0 + 15000, Y0 + 15000, environment="rural")]
    cov = compute_coverage(world(cells), config(model="radius", radius_m={"4G": 5000},
                                                radius_urban_m={"4G": 2000}))
    assert cov.cells.set_index("site_id")["radius_m"].to_dict() == {"A": 2000, "B": 5000}


# ------------------------------------------------------------------ pathloss model


def test_pathloss_signal_matches_the_formula():
    site = (X0 + 10050, Y0 + 10050)  # a grid cell centre
    cov = compute_coverage(world([cell("A", *site)]),
                           config(model="pathloss", max_distance_m=15000))
    # 3 km east, 30 cells: eirp - 10 log10(1200) - Hata rural
    got = value_at(cov, ("Viettel", "4G"), site[0] + 3000, site[1])
    expected = 61.0 - 30.8 - hata_loss_db(3000.0, 1800.0, tx_height_m=30.0,
                                          environment="rural")
    assert got == pytest.approx(expected, abs=0.05)


def test_sector_pattern_in_the_signal():
    site = (X0 + 10050, Y0 + 10050)
    cov = compute_coverage(world([cell("A", *site, azimuth=0.0, beamwidth=65.0)]),
                           config(model="pathloss"))
    north = value_at(cov, ("Viettel", "4G"), site[0], site[1] + 2000)
    east = value_at(cov, ("Viettel", "4G"), site[0] + 2000, site[1])
    # 90 degrees off boresight: 12 (90/65)^2 = 23.0 dB, under the 25 dB floor
    assert north - east == pytest.approx(12 * (90 / 65) ** 2, abs=0.05)


def test_rasters_are_georeferenced(tmp_path):
    sites = [cell("A", X0 + 4321, Y0 + 15678), cell("B", X0 + 16000, Y0 + 3000,
                                                    operator="VNPT")]
    cov = compute_coverage(world(sites), config(model="pathloss"))
    files = cov.write_geotiffs(tmp_path)
    assert sorted(p.name for p in files) == [
        "coverage_VNPT_4G.tif", "coverage_Viettel_4G.tif", "coverage_all_4G.tif"]
    with rasterio.open(tmp_path / "coverage_Viettel_4G.tif") as src:
        assert CRS(src.crs.to_wkt()).to_epsg() == 32648
        assert src.nodata == -9999.0
        data = src.read(1, masked=True)
        row, col = np.unravel_index(np.argmax(data), data.shape)
        x, y = src.xy(row, col)
    # the strongest signal of Viettel is in the cell of its own site
    assert abs(x - (X0 + 4321)) <= 50 and abs(y - (Y0 + 15678)) <= 50
    with rasterio.open(tmp_path / "coverage_all_4G.tif") as src:
        assert src.dtypes[0] == "uint8" and src.read(1).max() == 1


def test_best_server_is_the_nearer_site():
    sites = [cell("A", X0 + 5050, Y0 + 10050), cell("B", X0 + 15050, Y0 + 10050)]
    cov = compute_coverage(world(sites), config(model="pathloss"))
    server = cov.server[("Viettel", "4G")]
    row, col = cov.grid.rowcol(np.array([X0 + 7000, X0 + 13000]), np.array([Y0 + 10050] * 2))
    ids = cov.cells["site_id"].to_numpy()
    assert ids[server[int(row[0]), int(col[0])]] == "A"
    assert ids[server[int(row[1]), int(col[1])]] == "B"


def test_missing_parameters_take_the_defaults():
    c = cell("A", X0 + 10000, Y0 + 10000, height=np.nan, eirp=np.nan, frequency=np.nan)
    cov = compute_coverage(world([c]), config(model="radius"))
    row = cov.cells.iloc[0]
    assert (row["height_m"], row["eirp_dbm"], row["frequency_mhz"]) == (30.0, 61.0, 1800.0)
    assert row["defaulted"] == "height_m;eirp_dbm;frequency_mhz"
    assert cov.parameters["defaulted_parameters"] == 1


def test_each_cell_names_the_defaults_it_took():
    # one cell per combination: the names in fill order, ";"-separated, none for none
    cells = [cell("A", X0 + 1000, Y0 + 1000),
             cell("B", X0 + 3000, Y0 + 1000, eirp=np.nan),
             cell("C", X0 + 5000, Y0 + 1000, height=np.nan, azimuth=90.0),
             cell("D", X0 + 7000, Y0 + 1000, frequency=np.nan, azimuth=0.0, beamwidth=65.0),
             cell("E", X0 + 9000, Y0 + 1000, height=np.nan, frequency=np.nan)]
    cov = compute_coverage(world(cells), config(model="radius"))
    got = cov.cells.set_index("site_id")["defaulted"].to_dict()
    assert got == {"A": "", "B": "eirp_dbm", "C": "height_m;beamwidth_deg",
                   "D": "frequency_mhz", "E": "height_m;frequency_mhz"}
    assert cov.parameters["defaulted_parameters"] == 4


# ------------------------------------------------------------------ raster model


def test_operator_maps_are_read_as_they_are(tmp_path):
    signal = np.full((200, 200), -95.0, dtype="float32")
    signal[:, 100:] = -120.0
    path = tmp_path / "viettel_4g.tif"
    with rasterio.open(path, "w", driver="GTiff", width=200, height=200, count=1,
                       dtype="float32", crs="EPSG:32648", nodata=-9999.0,
                       transform=from_origin(X0, Y0 + SIDE, 100, 100)) as dst:
        dst.write(signal, 1)
    poly = tmp_path / "vnpt.gpkg"
    gpd.GeoDataFrame({"kind": ["covered"]}, geometry=[box(X0, Y0, X0 + 10000, Y0 + 20000)],
                     crs=UTM).to_file(poly)
    cfg = config(model="raster", maps={"VIETTEL 4G": str(path), "Vinaphone LTE": str(poly)})
    inputs = world([cell("A", X0 + 1, Y0 + 1)])
    inputs.maps = read_coverage_maps(cfg.coverage.maps)
    cov = compute_coverage(inputs, cfg)
    assert cov.keys() == [("VNPT", "4G"), ("Viettel", "4G")]
    assert value_at(cov, ("Viettel", "4G"), X0 + 5050, Y0 + 5050) == pytest.approx(-95.0)
    covered = cov.covered("Viettel", "4G")
    vnpt = cov.covered("VNPT", "4G")
    # both maps cover the western half of the commune exactly
    assert covered.sum() == vnpt.sum() == 100 * 200
    assert cov.area_union(["4G"]).area == pytest.approx(10000 * 20000)


def test_bad_map_keys_are_listed():
    with pytest.raises(InputError, match=r"'Orange 4G': expected \"<operator> <technology>\""):
        read_coverage_maps(config(model="raster", maps={"Orange 4G": "x.tif"}).coverage.maps)


def test_raster_model_without_maps_is_refused():
    with pytest.raises(InputError, match=r"model = \"raster\" needs \[coverage.maps\]"):
        compute_coverage(world([cell("A", X0 + 1, Y0 + 1)]), config(model="raster"))


def test_terrain_model_needs_a_dem():
    with pytest.raises(ConfigError, match=r"model = \"terrain\" needs a DEM"):
        compute_coverage(world([cell("A", X0 + 1, Y0 + 1)]), config(model="terrain"))


# ------------------------------------------------------------------ terrain model


@pytest.mark.parametrize("ridge_m", [400.0, 0.0])
def test_a_ridge_hides_the_village_from_the_terrain_model_only(tmp_path, ridge_m):
    site = (X0 + 5050, Y0 + 10050)
    village = (X0 + 9050, Y0 + 10050)  # 4 km east
    dem = np.full((200, 200), 100.0)
    dem[:, 70] = 100.0 + ridge_m  # a ridge 2 km east of the site, across the whole map
    inputs = world([cell("A", *site)], dem=dem, tmp_path=tmp_path)

    radius = compute_coverage(inputs, config(model="radius", radius_m={"4G": 5000}))
    assert radius.area_union(["4G"]).contains(Point(village))

    terrain = compute_coverage(inputs, config(model="terrain"))
    key = ("Viettel", "4G")
    row, col = terrain.grid.rowcol(np.array([village[0]]), np.array([village[1]]))
    at = (int(row[0]), int(col[0]))
    covered = bool(terrain.covered(*key)[at])
    clear = terrain.clear_signal[key][at]
    assert clear >= -110  # without terrain the village would be covered ...
    assert covered is (ridge_m == 0)  # ... and the ridge takes it away
    if ridge_m:
        signal = terrain.signal[key][at]
        assert np.isnan(signal) or signal < clear - 30  # NaN: below the -120 dBm floor
        assert terrain.cells["site_id"].iloc[terrain.clear_server[key][at]] == "A"
    else:
        assert terrain.signal[key][at] == pytest.approx(clear)


def test_a_hilltop_mast_serves_the_plain_at_its_effective_height(tmp_path):
    """Hata gets the antenna's height above the path's average terrain (issue 13)."""
    from covgap.coverage.propagation import effective_height_m, pathloss_db

    dem = np.full((200, 200), 100.0)
    dem[99, 50] = 400.0  # a needle 300 m above the plain: the site's cell
    site = (X0 + 5050, Y0 + 10050)
    inputs = world([cell("A", *site)], dem=dem, tmp_path=tmp_path)
    cfg = config(model="terrain", max_distance_m=12000.0)
    cov = compute_coverage(inputs, cfg)
    key = ("Viettel", "4G")
    ref = cfg.coverage.reference_signal_db["4G"]
    for east in (3000.0, 6000.0, 9000.0):
        x, y = site[0] + east, site[1]
        # over the plain, 0.2 d .. d holds no hill: 400 + 30 - 100 = 330 m
        heff = float(effective_height_m(30.0, 400.0, 100.0))
        assert heff == 330.0
        expected = 61.0 - ref - float(pathloss_db(east, 1800.0, tx_height_m=heff,
                                                   environment="rural", technology="4G"))
        assert value_at(cov, key, x, y) == pytest.approx(expected, abs=0.1)
        # the mast height alone would have lost many dB more
        mast = 61.0 - ref - float(pathloss_db(east, 1800.0, tx_height_m=30.0,
                                               environment="rural", technology="4G"))
        assert expected - mast > 10.0
        assert cov.clear_signal[key][tuple(int(v[0]) for v in cov.grid.rowcol(
            np.array([x]), np.array([y])))] == pytest.approx(expected, abs=0.1)


def test_a_cell_has_one_signal_whatever_window_computes_it(tmp_path):
    """A stronger site reaches farther (a larger window), but every cell it shared with
    the weaker one is computed from the same ray: the signal is exactly 3 dB higher."""
    rng = np.random.default_rng(11)
    f = np.fft.fftfreq(200)
    k = np.hypot(f[:, None], f[None, :])
    z = np.real(np.fft.ifft2(np.fft.fft2(rng.normal(size=(200, 200)))
                             / (1 + (k / 0.03) ** 2) ** 1.2))
    dem = 100 + 150 * (z - z.min()) / (z.max() - z.min())
    site = (X0 + 10050, Y0 + 10050)
    key = ("Viettel", "4G")
    signals = []
    for eirp in (44.0, 47.0):
        inputs = world([cell("A", *site, eirp=eirp)], dem=dem, tmp_path=tmp_path)
        cov = compute_coverage(inputs, config(model="terrain", max_distance_m=20000.0))
        signals.append(cov.signal[key])
    weak, strong = signals
    both = np.isfinite(weak)
    assert both.sum() > 2000 and np.isfinite(strong).sum() > both.sum()
    np.testing.assert_allclose(strong[both] - weak[both], 3.0, atol=1e-4)


# ------------------------------------------------------------------ tiles


def test_tiles_of_any_size_give_the_same_rasters(tmp_path):
    """Sites batched in 1 km tiles (many tasks, DEM parts) equal one tile over the grid."""
    rng = np.random.default_rng(7)
    dem = (100 + 20 * rng.random((200, 200))).astype("float32")
    dem[:, 120] = 900.0  # a ridge
    cells = [cell(f"S{i}", X0 + float(x), Y0 + float(y), operator=op,
                  azimuth=float(az), beamwidth=65.0)
             for i, (x, y, op, az) in enumerate(zip(
                 rng.uniform(500, SIDE - 500, 12), rng.uniform(500, SIDE - 500, 12),
                 ["Viettel", "VNPT", "MobiFone"] * 4, rng.uniform(0, 360, 12), strict=True))]
    inputs = world(cells, dem=dem, tmp_path=tmp_path)
    one = compute_coverage(inputs, load_config({
        "inputs": {"communes": "c", "villages": "v", "sites": "s"},
        "coverage": {"resolution_m": 100.0, "model": "terrain", "max_distance_m": 6000.0},
        "compute": {"tile_m": 1e6}}))
    many = compute_coverage(inputs, load_config({
        "inputs": {"communes": "c", "villages": "v", "sites": "s"},
        "coverage": {"resolution_m": 100.0, "model": "terrain", "max_distance_m": 6000.0},
        "compute": {"tile_m": 1000.0}}))
    assert one.keys() == many.keys() and len(one.keys()) == 3
    for name in ("signal", "server", "clear_signal", "clear_server"):
        for key, arr in getattr(one, name).items():
            np.testing.assert_array_equal(getattr(many, name)[key], arr, err_msg=name)
    assert np.isfinite(one.signal["Viettel", "4G"]).sum() > 1000


def test_density_counts_the_people_in_the_2_km_square(tmp_path):
    """A uniform 500 people/km² raster gives 500 inside, half at its edge, 0 beyond."""
    from covgap.coverage.cells import density_at
    path = tmp_path / "pop.tif"
    # 100 m cells of 5 people = 500 per km², 10 km x 10 km
    with rasterio.open(path, "w", driver="GTiff", width=100, height=100, count=1,
                       dtype="float32", crs="EPSG:32648", nodata=-1.0,
                       transform=from_origin(X0, Y0 + 10000, 100, 100)) as dst:
        dst.write(np.full((100, 100), 5.0, dtype="float32"), 1)
    layer = read_raster(LayerInput(path=path), kind="population")
    x = np.array([X0 + 5000, X0 + 5037, X0, X0 - 5000, X0 + 10000])
    y = np.array([Y0 + 5000, Y0 + 4961, Y0 + 5000, Y0 + 5000, Y0 + 10000])
    got = density_at(layer, x, y, UTM)
    np.testing.assert_allclose(got, [500, 500, 250, 0, 125], rtol=1e-9, atol=1e-9)
    # the same raster in degrees (WGS84) gives the same densities near its centre
    wgs = tmp_path / "pop_wgs84.tif"
    with rasterio.open(path) as src:
        t, w, h = rasterio.warp.calculate_default_transform(src.crs, "EPSG:4326", src.width,
                                                            src.height, *src.bounds)
        out = np.zeros((h, w), "float32")
        rasterio.warp.reproject(rasterio.band(src, 1), out, dst_transform=t,
                                dst_crs="EPSG:4326", resampling=Resampling.sum)
    with rasterio.open(wgs, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs="EPSG:4326", transform=t) as dst:
        dst.write(out, 1)
    layer = read_raster(LayerInput(path=wgs), kind="population")
    got = density_at(layer, x[:2], y[:2], UTM)
    np.testing.assert_allclose(got, [500, 500], rtol=0.02)


@pytest.mark.parametrize("technology,frequency,environment", [
    ("4G", 1800.0, "rural"), ("2G", 900.0, "urban"), ("5G", 3500.0, "rural"),
    ("5G", 3500.0, "urban")])
def test_the_terrain_models_loss_table_is_the_path_loss(technology, frequency, environment):
    from covgap.coverage.pathloss import LossGrid
    from covgap.coverage.propagation import pathloss_db

    row = pd.Series({"height_m": 30.0, "frequency_mhz": frequency,
                     "environment": environment, "technology": technology})
    table = LossGrid.build(row, 20000.0, 800.0, 1.5)
    rng = np.random.default_rng(0)
    d = rng.uniform(10.0, 20000.0, 20000)
    h = np.exp(rng.uniform(np.log(30.0), np.log(800.0), 20000))
    exact = pathloss_db(d, frequency, tx_height_m=h, rx_height_m=1.5, environment=environment,
                        technology=technology, los=True)
    error = np.abs(table.at(d, h) - exact)
    assert error.max() < 0.7 and np.percentile(error, 99) < 0.16
    # at the mast height itself the table is the mast's path loss (one height row)
    at_mast = table.at(d[:50], np.full(50, 30.0))
    np.testing.assert_allclose(at_mast, pathloss_db(
        d[:50], frequency, tx_height_m=30.0, rx_height_m=1.5, environment=environment,
        technology=technology, los=True), atol=0.7)


def test_skipping_cells_that_cannot_win_changes_no_raster(tmp_path, monkeypatch):
    """The terrain model skips the knife-edge search where a group's loss-free signal
    cannot beat the best so far; the rasters equal a full search."""
    from covgap.coverage import pathloss

    rng = np.random.default_rng(3)
    f = np.fft.fftfreq(200)
    k = np.hypot(f[:, None], f[None, :])
    z = np.real(np.fft.ifft2(np.fft.fft2(rng.normal(size=(200, 200)))
                             / (1 + (k / 0.03) ** 2) ** 1.2))
    dem = (100 + 500 * (z - z.min()) / (z.max() - z.min())).astype("float32")
    cells = [cell(f"S{i}", X0 + float(x), Y0 + float(y), operator=op, azimuth=float(az),
                  beamwidth=65.0, frequency=freq)
             for i, (x, y) in enumerate(zip(rng.uniform(1000, SIDE - 1000, 10),
                                            rng.uniform(1000, SIDE - 1000, 10), strict=True))
             for op, az, freq in (("Viettel", 0.0, 1800.0), ("Viettel", 120.0, 900.0),
                                  ("VNPT", 240.0, 1800.0))]
    inputs = world(cells, dem=dem, tmp_path=tmp_path)
    settings = config(model="terrain", max_distance_m=8000.0)
    calls = []
    real = pathloss.terrain_windows

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(sum(int(np.isposinf(tw.excess_db).sum()) for tw in out))
        return out

    monkeypatch.setattr(pathloss, "terrain_windows", spy)
    pruned = compute_coverage(inputs, settings)
    assert sum(calls) > 10_000  # cells skipped
    # the full search: no bound
    monkeypatch.setattr(pathloss.WindowBound, "from_tables", lambda **kw: None)
    calls.clear()
    full = compute_coverage(inputs, settings)
    assert sum(calls) == 0
    for name in ("signal", "server", "clear_signal", "clear_server"):
        for key, arr in getattr(full, name).items():
            np.testing.assert_array_equal(getattr(pruned, name)[key], arr, err_msg=name)
    assert np.isfinite(full.signal["Viettel", "4G"]).sum() > 10_000
