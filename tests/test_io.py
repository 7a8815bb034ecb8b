"""Input layers: every bad-input case names the file, the row or id, and the problem."""

import unicodedata
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import commune_frame, site_frame, village_frame, write_raster
from pyproj import Geod, Transformer
from shapely.geometry import Point, Polygon

import covgap
from covgap.config import LayerInput
from covgap.errors import InputError, InputWarning, RepairWarning
from covgap.io import (
    choose_metric_crs,
    normalize_operator,
    normalize_technology,
    parse_crs,
    read_communes,
    read_fibre,
    read_sites,
    read_villages,
    vn2000_tm3,
)
from covgap.io.text import encode_legacy

GEOD = Geod(ellps="WGS84")


def read(province, **sections):
    return covgap.read_inputs(province.config(**sections))


def problems_of(province, **sections) -> str:
    with pytest.raises(InputError) as info:
        read(province, **sections)
    return str(info.value)


# --------------------------------------------------------------------- happy path


def test_toy_province_reads_in_wgs84(province):
    ins = read(province)
    assert ins.communes.crs.to_epsg() == 4326
    assert ins.villages.crs.to_epsg() == 4326
    assert ins.metric_crs.to_epsg() == 32648
    assert len(ins.sites) == 10 and set(ins.sites["operator"]) == {"Viettel", "VNPT", "MobiFone"}
    assert ins.communes["region"].tolist()[:2] == ["III", "II"]
    assert pd.isna(ins.communes["region"].iloc[2])
    assert ins.villages["difficult"].tolist() == [True, True, False, False, False, False]
    assert ins.villages["population"].sum() == 3820
    assert ins.fibre["kind"].tolist() == ["route", "node"]
    assert "_covgap_row" not in ins.villages
    assert ins.warnings == []
    assert len(ins.hashes) == 4 and all(len(h) == 64 for h in ins.hashes.values())


def test_metric_crs_configured_or_auto():
    assert choose_metric_crs(np.array([108.2])).to_epsg() == 32649
    assert choose_metric_crs(np.array([105.0]), "EPSG:3405").to_epsg() == 3405
    with pytest.raises(ValueError, match="must be a projected CRS in metres"):
        choose_metric_crs(np.array([105.0]), "EPSG:4756")


# --------------------------------------------------------------------- CRS


def test_missing_crs_is_refused_unless_configured(province, tmp_path):
    path = tmp_path / "villages_nocrs.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        village_frame().set_crs(None, allow_override=True).to_file(path)
    text = problems_of(province, inputs={"villages": str(path)})
    assert "villages_nocrs.gpkg: has no CRS (is the .prj missing?)" in text
    assert 'crs = "EPSG:3405"' in text
    ins = read(province, inputs={"villages": {"path": str(path), "crs": "EPSG:4326"}})
    assert len(ins.villages) == 6


def test_projected_csv_without_crs_is_refused(province, tmp_path):
    frame = site_frame()
    t = Transformer.from_crs(4326, 3405, always_xy=True)
    frame["lon"], frame["lat"] = t.transform(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    path = tmp_path / "utm.csv"
    frame.to_csv(path, index=False)
    text = problems_of(province, inputs={"sites": {"path": str(path)}})
    assert "utm.csv: lon/lat are not degrees" in text and "no crs is given" in text
    ins = read(province, inputs={"sites": {"path": str(path), "crs": "EPSG:3405"}})
    back = ins.sites.geometry.iloc[0]
    assert GEOD.inv(105.33, 19.97, back.x, back.y)[2] < 0.01


@pytest.mark.parametrize("crs_text", ["VN2000:TM3:105", "VN-2000 TM-3 105°00'", "wkt"])
def test_vn2000_tm3_and_wgs84_points_agree_within_1_m(province, tmp_path, crs_text):
    """VN-2000 TM-3 coordinates made through EPSG's own VN-2000 transformation land within
    1 m of the WGS84 originals when read with covgap's TM-3 definition (QĐ 05/2007)."""
    villages = village_frame()
    lon = villages.geometry.x.to_numpy()
    lat = villages.geometry.y.to_numpy()
    # WGS84 -> VN-2000 geographic (EPSG's transformation) -> TM-3 projection, same datum
    g_lon, g_lat = Transformer.from_crs(4326, 4756, always_xy=True).transform(lon, lat)
    tm3_plain = ("+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 "
                 "+ellps=WGS84 +units=m +no_defs")
    x, y = Transformer.from_crs(4756, tm3_plain, always_xy=True).transform(g_lon, g_lat)
    assert np.all(np.abs(x - 500000) < 60000)  # really TM-3 eastings near lon 105
    path = tmp_path / "villages_vn2000.gpkg"
    crs = vn2000_tm3(105.0) if crs_text == "wkt" else parse_crs(crs_text)
    tm3 = gpd.GeoDataFrame(villages.drop(columns="geometry"),
                           geometry=gpd.points_from_xy(x, y), crs=crs)
    tm3.to_file(path)
    spec = str(path) if crs_text == "wkt" else {"path": str(path), "crs": crs_text}
    ins = read(province, inputs={"villages": spec})
    got = ins.villages.geometry
    dist = GEOD.inv(lon, lat, got.x.to_numpy(), got.y.to_numpy())[2]
    assert dist.max() < 1.0, dist


def test_vn2000_utm_epsg_3405_reads(province, tmp_path):
    path = tmp_path / "communes_3405.gpkg"
    commune_frame().to_crs(3405).to_file(path)
    ins = read(province, inputs={"communes": str(path)})
    bounds = ins.communes.total_bounds
    assert np.allclose(bounds, [105.2, 19.9, 105.4, 20.1], atol=1e-4)


# --------------------------------------------------------------------- coordinates


def test_swapped_columns_are_detected_with_the_fix(province, tmp_path):
    frame = site_frame().rename(columns={"lon": "lat", "lat": "lon"})
    path = tmp_path / "swapped.csv"
    frame.to_csv(path, index=False)
    text = problems_of(province, inputs={"sites": {"path": str(path), "x": "lon", "y": "lat"}})
    assert "swapped.csv: longitude and latitude look swapped in 10 of 10 features" in text
    assert 'swap them: x = "lat", y = "lon" in the [inputs] sites table' in text


def test_one_swapped_row_is_named(province, tmp_path):
    frame = site_frame()
    frame.loc[4, "lon"], frame.loc[4, "lat"] = 19.97, 105.33
    path = tmp_path / "bts.csv"
    frame.to_csv(path, index=False)
    text = problems_of(province, inputs={"sites": {"path": str(path)}})
    # header is row 1 in Excel, so frame index 4 is row 6
    assert ("bts.csv row 6 (site_id=TH-0002): lon 19.970000, lat 105.330000 look swapped"
            in text)


def test_latitude_out_of_range(province, tmp_path):
    frame = site_frame()
    frame.loc[0, "lat"] = 105.8
    frame.loc[0, "lon"] = 200.0
    path = tmp_path / "bts.csv"
    frame.to_csv(path, index=False)
    text = problems_of(province, inputs={"sites": {"path": str(path)}})
    assert "bts.csv row 2 (site_id=TH-0001): lat 105.8 is outside -90..90; are the x/y" in text


def test_points_far_outside_the_province(province, tmp_path):
    villages = village_frame()
    villages.loc[2, "geometry"] = Point(105.55, 19.95)  # ~15 km east of the communes
    vpath = tmp_path / "v.gpkg"
    villages.to_file(vpath)
    sites = site_frame()
    sites.loc[9, ["lon", "lat"]] = (106.2, 20.0)  # ~85 km east
    spath = tmp_path / "s.csv"
    sites.to_csv(spath, index=False)
    text = problems_of(province, inputs={"villages": str(vpath), "sites": str(spath)})
    assert "v.gpkg feature 3 (village_id=V003): lies 15.7 km outside every commune" in text
    assert "s.csv row 11 (site_id=TH-0004): lies 83.7 km outside the province" in text
    # a site 20 km across the border is fine: it serves border villages
    sites.loc[9, ["lon", "lat"]] = (105.6, 20.0)
    sites.to_csv(spath, index=False)
    assert len(read(province, inputs={"sites": str(spath)}).sites) == 10


def test_points_outside_vietnam(province, tmp_path):
    sites = site_frame()
    sites.loc[0, ["lon", "lat"]] = (2.35, 48.85)
    path = tmp_path / "s.csv"
    sites.to_csv(path, index=False)
    text = problems_of(province, inputs={"sites": str(path)})
    assert "s.csv row 2 (site_id=TH-0001): lies outside Vietnam (lon 2.3500, lat 48.8500)" in text


# --------------------------------------------------------------------- columns and ids


def test_duplicate_ids(province, tmp_path):
    villages = village_frame()
    villages.loc[3, "village_id"] = "V001"
    path = tmp_path / "v.gpkg"
    villages.to_file(path)
    text = problems_of(province, inputs={"villages": str(path)})
    assert ("v.gpkg feature 4 (village_id=V001): duplicate village_id 'V001', also at "
            "feature 1") in text

    communes = commune_frame()
    communes.loc[1, "commune_code"] = "15001"
    cpath = tmp_path / "c.gpkg"
    communes.to_file(cpath)
    with pytest.raises(InputError, match=r"c.gpkg feature 2 \(commune_code=15001\): duplicate"):
        read_communes(LayerInput(path=cpath))


def test_duplicate_cells_and_a_site_in_two_places(province, tmp_path):
    sites = site_frame()
    sites = pd.concat([sites, sites.iloc[[0]]], ignore_index=True)
    sites.loc[3, "lat"] = 19.99  # TH-0002's first cell moved 2.2 km
    path = tmp_path / "s.csv"
    sites.to_csv(path, index=False)
    text = problems_of(province, inputs={"sites": str(path)})
    assert "s.csv row 12 (site_id=TH-0001): duplicate cell" in text
    assert "s.csv row 5 (site_id=TH-0002): the cells of site TH-0002 are 2,21" in text


def test_missing_required_columns_listed_with_the_file_columns(province, tmp_path):
    frame = site_frame().drop(columns=["technology"]).rename(columns={"operator": "nha_mang"})
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    text = problems_of(province, inputs={"sites": str(path)})
    assert "s.csv: missing required column(s) operator, technology" in text
    assert "site_id, nha_mang, azimuth_deg" in text
    assert "[inputs.columns.sites]" in text
    # mapping the column fixes it; a mapped column absent from the file is named
    frame["technology"] = "LTE"
    frame.to_csv(path, index=False)
    ins = read(province, inputs={"columns": {"sites": {"operator": "nha_mang"}},
                                 "sites": str(path)})
    assert set(ins.sites["technology"]) == {"4G"}
    text = problems_of(province, inputs={"columns": {"sites": {"operator": "NhaMang"}},
                                         "sites": str(path)})
    assert "s.csv: column 'NhaMang' (mapped to operator in [inputs.columns.sites])" in text


def test_columns_match_case_insensitively(province, tmp_path):
    frame = site_frame().rename(columns={"site_id": "Site_ID", "operator": "OPERATOR"})
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    ins = read(province, inputs={"sites": str(path)})
    assert ins.sites["site_id"].iloc[0] == "TH-0001"


def test_operator_and_technology_spellings():
    ops = pd.Series(["Viettel", "VIETTEL", " viettel ", "Vinaphone", "VNPT-VinaPhone",
                     "Mobifone", "MOBIFONE", "Vietnamobile", "Beeline", "Orange", None])
    got = normalize_operator(ops)
    assert got.iloc[:9].tolist() == ["Viettel", "Viettel", "Viettel", "VNPT", "VNPT",
                                    "MobiFone", "MobiFone", "Vietnamobile", "Gmobile"]
    assert got.iloc[9:].isna().all()
    assert normalize_operator(pd.Series(["Orange"]), {"orange": "Orange VN"}).tolist() == [
        "Orange VN"]
    tech = normalize_technology(pd.Series(["LTE", "NR", "5G NR", "4g", "GSM", "WCDMA",
                                           "LTE-A", "6G", ""]))
    assert tech.iloc[:7].tolist() == ["4G", "5G", "5G", "4G", "2G", "3G", "4G"]
    assert tech.iloc[7:].isna().all()


def test_unknown_operator_and_technology_rows(province, tmp_path):
    frame = site_frame()
    frame.loc[0, "technology"] = "6G"
    frame.loc[3, "operator"] = "Orange"
    frame.loc[5, "operator"] = "VIETTEL"
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    text = problems_of(province, inputs={"sites": str(path)})
    assert "s.csv row 2 (site_id=TH-0001): technology '6G' is not known" in text
    assert "s.csv row 5 (site_id=TH-0002): operator 'Orange' is not known" in text
    assert '[inputs.operator_aliases] "Orange" = "<operator>"' in text
    assert "VIETTEL" not in text


def test_negative_and_non_numeric_population(province, tmp_path):
    villages = village_frame()
    villages["population"] = villages["population"].astype(object)
    villages.loc[1, "population"] = -150
    villages.loc[4, "population"] = "n/a"
    path = tmp_path / "v.gpkg"
    villages.astype({"population": str}).to_file(path)
    text = problems_of(province, inputs={"villages": str(path)})
    assert "v.gpkg feature 2 (village_id=V002): population -150 is negative" in text
    assert "v.gpkg feature 5 (village_id=V005): population 'n/a' is not a number" in text


def test_site_numbers_out_of_range(province, tmp_path):
    frame = site_frame()
    frame.loc[2, "azimuth_deg"] = 400
    frame.loc[6, "height_m"] = -5
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    text = problems_of(province, inputs={"sites": str(path)})
    assert "row 4 (site_id=TH-0001): azimuth_deg 400 is outside 0..360 degrees" in text
    assert "row 8 (site_id=TH-0003): height_m -5 is outside 0..300 m" in text


def test_empty_layers(province, tmp_path):
    path = tmp_path / "empty.csv"
    site_frame().iloc[0:0].to_csv(path, index=False)
    text = problems_of(province, inputs={"sites": str(path)})
    assert "empty.csv: has no features: the site layer must hold at least one BTS" in text
    vpath = tmp_path / "v.gpkg"
    village_frame().iloc[0:0].to_file(vpath)
    assert "v.gpkg: has no features" in problems_of(province, inputs={"villages": str(vpath)})


def test_village_commune_code_checked_and_filled(province, tmp_path):
    villages = village_frame()
    villages.loc[0, "commune_code"] = "99999"
    villages.loc[2, "commune_code"] = "15004"  # lies in 15002
    path = tmp_path / "v.gpkg"
    villages.to_file(path)
    text = problems_of(province, inputs={"villages": str(path)})
    assert "feature 1 (village_id=V001): commune_code '99999' is not in the commune layer" in text
    villages.loc[0, "commune_code"] = "15001"
    villages.to_file(path)
    with pytest.warns(InputWarning, match=r"1 village\(s\) lie in a different commune"):
        read(province, inputs={"villages": str(path)})
    villages.drop(columns=["commune_code"]).to_file(path)
    ins = read(province, inputs={"villages": str(path)})
    assert ins.villages["commune_code"].tolist() == [
        "15001", "15001", "15002", "15003", "15004", "15004"]


def test_short_numeric_codes_are_zero_padded(province, tmp_path):
    communes = commune_frame()
    communes["commune_code"] = ["1", "2", "3", "4"]
    cpath = tmp_path / "c.gpkg"
    communes.to_file(cpath)
    villages = village_frame()
    villages["commune_code"] = [1, 1, 2, 3, 4, 4]
    vpath = tmp_path / "v.gpkg"
    villages.to_file(vpath)
    ins = read(province, inputs={"communes": str(cpath), "villages": str(vpath)})
    assert ins.communes["commune_code"].tolist() == ["00001", "00002", "00003", "00004"]
    assert ins.villages["commune_code"].iloc[0] == "00001"


def test_fibre_kind_must_match_geometry(province, tmp_path):
    from conftest import fibre_frame
    fibre = fibre_frame()
    fibre.loc[0, "kind"] = "node"
    path = tmp_path / "f.gpkg"
    fibre.to_file(path)
    with pytest.raises(InputError, match=r"f.gpkg feature 1 \(fibre_id=F1\): kind 'node' does "
                                         r"not match its geometry \(LineString\)"):
        read_fibre(LayerInput(path=path))


def test_bad_region_and_difficult_values(province, tmp_path):
    communes = commune_frame()
    communes.loc[0, "region"] = "khu vực III"
    communes.loc[1, "region"] = "IV"
    cpath = tmp_path / "c.gpkg"
    communes.to_file(cpath)
    text = problems_of(province, inputs={"communes": str(cpath)})
    assert "c.gpkg feature 2 (commune_code=15002): region 'IV' is not I, II or III" in text
    communes.loc[1, "region"] = "2"
    communes.to_file(cpath)
    assert read_communes(LayerInput(path=cpath))["region"].tolist()[:2] == ["III", "II"]
    villages = village_frame()
    villages["difficult"] = ["có", "x", "", "không", "0", "maybe"]
    vpath = tmp_path / "v.gpkg"
    villages.to_file(vpath)
    text = problems_of(province, inputs={"villages": str(vpath)})
    assert "feature 6 (village_id=V006): difficult 'maybe' is not yes/no" in text


# --------------------------------------------------------------------- geometry


def test_invalid_polygons_are_repaired_with_a_counting_warning(tmp_path):
    communes = commune_frame()
    bowtie = Polygon([(105.2, 19.9), (105.3, 20.0), (105.3, 19.9), (105.2, 20.0)])
    communes.loc[0, "geometry"] = bowtie
    communes.loc[1, "geometry"] = Polygon(
        [(105.3, 19.9), (105.4, 20.0), (105.4, 19.9), (105.3, 20.0)])
    path = tmp_path / "c.gpkg"
    communes.to_file(path)
    with pytest.warns(RepairWarning, match=r"c.gpkg: repaired 2 invalid polygon\(s\)"):
        out = read_communes(LayerInput(path=path))
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[0].geom_type == "MultiPolygon"
    # the bow-tie's two triangles keep the area: 2 x (0.1 x 0.05 / 2)
    assert out.geometry.iloc[0].area == pytest.approx(0.005)


def test_wrong_geometry_type(province, tmp_path):
    sites = gpd.GeoDataFrame(site_frame().drop(columns=["lon", "lat"]),
                             geometry=[commune_frame().geometry.iloc[0]] * 10, crs=4326)
    path = tmp_path / "s.gpkg"
    sites.to_file(path)
    with pytest.raises(InputError, match=r"feature 1 \(site_id=TH-0001\): is a Polygon, "
                                         r"expected a point"):
        read_sites(LayerInput(path=path))


# --------------------------------------------------------------------- text


def test_names_normalised_to_nfc(province, tmp_path):
    villages = village_frame()
    villages["village_name"] = [unicodedata.normalize("NFD", n) for n in villages.village_name]
    path = tmp_path / "v.gpkg"
    villages.to_file(path)
    out = read_villages(LayerInput(path=path))
    assert out["village_name"].iloc[0] == "Bản Pù Nhi"
    assert unicodedata.is_normalized("NFC", out["village_name"].iloc[5])


def test_legacy_tcvn3_names_are_reported_with_the_decoded_text(province, tmp_path):
    communes = commune_frame()
    communes.loc[0, "commune_name"] = encode_legacy("Xã Thường Xuân", "TCVN3")
    communes.loc[3, "commune_name"] = encode_legacy("Thị trấn Ngọc Lặc", "VNI")
    path = tmp_path / "c.gpkg"
    communes.to_file(path)
    text = problems_of(province, inputs={"communes": str(path)})
    assert "feature 1 (commune_code=15001): commune_name" in text
    assert "looks like TCVN3-encoded text" in text and "probably 'Xã Thường Xuân'" in text
    assert "looks like VNI-encoded text" in text and "probably 'Thị trấn Ngọc Lặc'" in text


# --------------------------------------------------------------------- files


def test_csv_not_utf8_names_the_fix(province, tmp_path):
    path = tmp_path / "s.csv"
    # cp1258 is Vietnamese Windows' code page
    frame = site_frame()
    frame.loc[0, "site_id"] = "Đông Sơn"
    frame.to_csv(path, index=False, encoding="cp1258")
    text = problems_of(province, inputs={"sites": str(path)})
    assert "s.csv: is not UTF-8 text" in text and 'encoding = "cp1258"' in text
    ins = read(province, inputs={"sites": {"path": str(path), "encoding": "cp1258"}})
    assert ins.sites["site_id"].iloc[0] == "Đông Sơn"


def test_xlsx_with_decimal_commas(province, tmp_path):
    frame = site_frame()
    frame["lon"] = frame["lon"].map(lambda v: f"{v:.2f}".replace(".", ","))
    path = tmp_path / "s.xlsx"
    frame.to_excel(path, index=False, sheet_name="Trạm")
    ins = read(province, inputs={"sites": {"path": str(path), "sheet": "Trạm"}})
    assert ins.sites.geometry.x.iloc[0] == pytest.approx(105.33)


def test_missing_file_and_all_layers_reported_together(province, tmp_path):
    villages = village_frame()
    villages.loc[1, "population"] = -1
    vpath = tmp_path / "v.gpkg"
    villages.to_file(vpath)
    text = problems_of(province, inputs={"villages": str(vpath),
                                         "fibre": str(tmp_path / "nope.gpkg")})
    assert text.startswith("2 problem(s) in the inputs (nope.gpkg, v.gpkg)")
    assert "nope.gpkg: file not found" in text
    assert "v.gpkg feature 2 (village_id=V002): population -1 is negative" in text


def test_many_bad_rows_are_summarised(province, tmp_path):
    frame = pd.concat([site_frame()] * 5, ignore_index=True)
    frame["site_id"] = [f"S{i}" for i in range(len(frame))]
    frame["technology"] = "6G"
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        read(province, inputs={"sites": str(path)})
    lines = info.value.problems
    assert len(lines) == 21
    assert lines[-1] == ("s.csv: ... and 30 more rows like the above (technology '6G' is "
                         "not known; use one of 2G, 3G, 4G, 5G (LTE, NR, GSM, WCDMA are "
                         "understood))")


def test_inputs_are_not_mutated(tmp_path):
    villages = village_frame()
    path = tmp_path / "v.gpkg"
    villages.to_file(path)
    before = villages.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_villages(LayerInput(path=path))
    pd.testing.assert_frame_equal(villages, before)


def test_roads_must_be_lines(province, tmp_path):
    from conftest import village_frame
    path = tmp_path / "roads.gpkg"
    village_frame().to_file(path)
    text = problems_of(province, inputs={"roads": str(path)})
    assert "roads.gpkg feature 1: is a Point, expected a line" in text


def test_projected_coordinates_under_a_geographic_crs(province, tmp_path):
    # a .prj that says WGS84 over VN-2000 UTM metres: one clear line, not one per row
    villages = village_frame().to_crs(3405).set_crs(4326, allow_override=True)
    path = tmp_path / "v.gpkg"
    villages.to_file(path)
    with pytest.raises(InputError) as info:
        read(province, inputs={"villages": str(path)})
    assert info.value.problems == [
        "v.gpkg: coordinates are not degrees (x up to 539,534) but the file's CRS is "
        'geographic (WGS 84); give the real CRS in the [inputs] villages table, e.g. '
        'crs = "EPSG:3405" (VN-2000 UTM 48N) or "VN2000:TM3:105" (a provincial TM-3 zone)']


# --------------------------------------------------------------------- coverage maps


def _raster_model(province, maps: dict) -> dict:
    return province.config(coverage={"model": "raster", "maps": maps})


def test_a_missing_coverage_map_fails_validation(province, tmp_path):
    cfg = _raster_model(province, {"Viettel 4G": str(tmp_path / "nope.tif"),
                                   "Orange 4G": str(tmp_path / "x.tif")})
    with pytest.raises(InputError) as info:
        covgap.read_inputs(cfg)
    text = str(info.value)
    assert text.startswith("2 problem(s) in the inputs ([coverage.maps], nope.tif)")
    assert (f"nope.tif: file not found ({tmp_path / 'nope.tif'}); check [coverage.maps] "
            "'Viettel 4G'") in text
    assert "[coverage.maps]: 'Orange 4G': expected \"<operator> <technology>\"" in text


def test_a_coverage_map_without_crs_fails_validation(province, tmp_path):
    path = write_raster(tmp_path / "viettel.tif", np.full((30, 30), -90.0, "float32"),
                        crs=None)
    text = problems_of(province, coverage={"model": "raster",
                                           "maps": {"Viettel 4G": str(path)}})
    assert ("viettel.tif: has no CRS; give it in [coverage.maps], e.g. 'Viettel 4G' = "
            "{ path = \"viettel.tif\", crs = \"EPSG:32648\" }") in text


def test_the_raster_model_needs_maps_at_validation(province):
    text = problems_of(province, coverage={"model": "raster"})
    assert "model = \"raster\" needs [coverage.maps]" in text


def test_coverage_maps_are_read_checked_and_hashed(province, tmp_path):
    raster = write_raster(tmp_path / "viettel.tif", np.full((30, 30), -90.0, "float32"))
    poly = tmp_path / "vnpt.gpkg"
    gpd.GeoDataFrame(geometry=[Polygon([(105.2, 19.9), (105.4, 19.9), (105.4, 20.1)])],
                     crs="EPSG:4326").to_file(poly)
    ins = covgap.read_inputs(_raster_model(province, {"VIETTEL LTE": str(raster),
                                                      "VNPT 4G": str(poly)}))
    assert [(m.key, m.operator, m.technology) for m in ins.maps] == [
        ("VIETTEL LTE", "Viettel", "4G"), ("VNPT 4G", "VNPT", "4G")]
    assert ins.maps[0].raster.path == raster.resolve() and ins.maps[0].areas is None
    assert ins.maps[1].raster is None and len(ins.maps[1].areas) == 1
    assert ins.hashes[str(raster.resolve())] == covgap.io.file_sha256(raster)
    assert ins.hashes[str(poly.resolve())] == covgap.io.file_sha256(poly)
    assert len(ins.hashes) == 6  # the four layers and the two maps


def test_the_coverage_cache_key_sees_a_changed_map(province, tmp_path):
    from covgap.config import load_config
    from covgap.coverage.cache import coverage_key

    path = tmp_path / "viettel.tif"
    cfg = _raster_model(province, {"Viettel 4G": str(path)})
    keys = []
    for value in (-90.0, -95.0):
        write_raster(path, np.full((30, 30), value, "float32"))
        ins = covgap.read_inputs(cfg)
        keys.append(coverage_key(load_config(cfg), ins.hashes, ins.metric_crs.to_string()))
    assert keys[0] != keys[1]


def test_reading_reports_progress_per_layer(province, tmp_path):
    raster = write_raster(tmp_path / "viettel.tif", np.full((30, 30), -90.0, "float32"))
    seen = []
    covgap.read_inputs(_raster_model(province, {"Viettel 4G": str(raster)}),
                       progress=lambda stage, done, total: seen.append((stage, done, total)))
    # communes, villages, sites, fibre and one map: five layers
    assert seen == [("inputs", i, 5) for i in range(6)]
