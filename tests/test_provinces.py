"""A run split by province (covgap.analysis.provinces): rows, margins and windows."""

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS
from shapely.geometry import box

import covgap
from covgap.analysis.provinces import (
    NO_PROVINCE,
    clip_coverage,
    commune_provinces,
    split_by_province,
)
from covgap.coverage.grid import Grid
from covgap.coverage.result import Coverage

UTM = CRS.from_epsg(32648)


def test_commune_provinces_come_from_the_input_communes(province):
    communes = gpd.read_file(province.communes)
    communes["province"] = ["Tỉnh A", "Tỉnh A", "Tỉnh B", None]
    communes.to_file(province.communes, layer="communes")
    result = covgap.run(province.config(coverage={"model": "radius"}), only="inputs")
    analysis_like = result.communes[["commune_code", "geometry"]]  # no province column
    got = commune_provinces(analysis_like, result.inputs.communes)
    assert got.tolist() == ["Tỉnh A", "Tỉnh A", "Tỉnh B", NO_PROVINCE]
    assert commune_provinces(analysis_like) is None


def test_split_by_province_partitions_villages_and_candidates(province):
    result = covgap.run(province.config(coverage={"model": "radius"}))
    communes = result.communes
    prov = pd.Series(np.where(communes["commune_code"].isin(["15001", "15002"]), "S", "N"),
                     index=communes.index)
    views = split_by_province(prov, ["N", "S"], inputs=result.inputs,
                              analysis=result.analysis, coverage=result.coverage,
                              candidates=result.candidates, margin_m=0.0,
                              targets={"villages_mbb_pct": 100.0}, codes=["n", "s"])
    assert [v.name for v in views] == ["N", "S"]
    assert sorted(views[1].villages["village_id"]) == ["V001", "V002", "V003"]
    assert sorted(views[0].villages["village_id"]) == ["V004", "V005", "V006"]
    assert sum(len(v.candidates) for v in views) == len(result.candidates)
    # each province's own indicators, against the targets given
    top = views[1].indicators.query("level == 'province'").set_index("indicator")
    assert top.at["villages_mbb_pct", "target"] == 100.0
    assert top.at["villages_mbb_pct", "code"] == "s"
    # with no margin, a site stands in a province's box only if it is in its communes' box:
    # the south's communes end at 20.0 N, and TH-0003 stands at 20.06 N
    assert "TH-0003" not in set(views[1].sites["site_id"])
    assert "TH-0003" in set(views[0].sites["site_id"])


def test_clip_coverage_is_a_window_of_the_grid():
    grid = Grid(crs=UTM, transform=Affine(100.0, 0.0, 500000.0, 0.0, -100.0, 2001000.0),
                width=10, height=10)
    signal = np.arange(100, dtype="float32").reshape(10, 10)
    cov = Coverage(model="pathloss", parameters={}, min_rsrp_dbm=-110.0,
                   cells=gpd.GeoDataFrame(geometry=[], crs=UTM), grid=grid,
                   signal={("Viettel", "4G"): signal})
    # x 500250..500550 -> columns 2..5; y 2000450..2000750 -> rows 2..5 (row 0 at the top)
    sub = clip_coverage(cov, (500250.0, 2000450.0, 500550.0, 2000750.0), UTM)
    assert (sub.grid.width, sub.grid.height) == (4, 4)
    assert sub.grid.transform == Affine(100.0, 0.0, 500200.0, 0.0, -100.0, 2000800.0)
    np.testing.assert_array_equal(sub.signal["Viettel", "4G"], signal[2:6, 2:6])
    assert sub.min_rsrp_dbm == -110.0
    assert clip_coverage(cov, (0.0, 0.0, 10.0, 10.0), UTM) is None  # outside the grid
    assert clip_coverage(None, (0.0, 0.0, 1.0, 1.0), UTM) is None


def test_clip_coverage_cuts_polygons_at_the_box():
    areas = gpd.GeoDataFrame({"operator": ["Viettel"], "technology": ["4G"]},
                             geometry=[box(0, 0, 1000, 1000)], crs=UTM)
    cov = Coverage(model="radius", parameters={}, min_rsrp_dbm=-110.0,
                   cells=gpd.GeoDataFrame(geometry=[], crs=UTM), areas=areas)
    sub = clip_coverage(cov, (500.0, -100.0, 2000.0, 250.0), UTM)
    assert sub.areas.geometry.iloc[0].area == 500.0 * 250.0
