"""The committed sample province is what scripts/make_sample_data.py makes, and is usable."""

import importlib.util

import numpy as np
import pytest
import rasterio
from conftest import REPO, SAMPLE_TOML

import covgap


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    spec = importlib.util.spec_from_file_location(
        "make_sample_data", REPO / "scripts" / "make_sample_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("sample")
    summary = module.generate(out, verbose=False)
    return out, summary


def test_committed_sample_matches_the_generator(regenerated):
    out, _ = regenerated
    data = REPO / "data"
    for name in ("sites/bts.csv", "boundaries/places.csv", "sites/measurements.csv"):
        assert (out / name).read_bytes() == (data / name).read_bytes()
    for name in ("dem.tif", "population.tif"):
        with rasterio.open(out / "rasters" / name) as a, rasterio.open(
                data / "rasters" / name) as b:
            assert a.transform == b.transform and a.crs == b.crs
            np.testing.assert_array_equal(a.read(1), b.read(1))


def test_sample_figures(regenerated):
    _, summary = regenerated
    ins = covgap.read_inputs(SAMPLE_TOML)
    assert ins.warnings == []
    assert 100 <= len(ins.communes) <= 140
    assert 1000 <= len(ins.villages) <= 1400
    assert set(ins.communes["region"].dropna()) == {"I", "II", "III"}
    assert ins.villages["difficult"].sum() > 50
    assert set(ins.sites["operator"]) == {"Viettel", "VNPT", "MobiFone"}
    assert (ins.sites["technology"] == "5G").sum() >= 10
    assert set(ins.fibre["kind"]) == {"route", "node"}
    # the population grid holds the villages' people (within 0.5%)
    assert ins.population.total == pytest.approx(ins.villages["population"].sum(), rel=0.005)
    assert summary["shared_pct"] == pytest.approx(12.0, abs=3)
    # boundaries come in VN-2000 like official data
    import pyogrio
    from pyproj import CRS
    crs = CRS(pyogrio.read_info(REPO / "data" / "boundaries" / "communes.gpkg")["crs"])
    assert crs.geodetic_crs.name == "VN-2000" and crs.is_projected
