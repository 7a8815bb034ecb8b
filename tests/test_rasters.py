import numpy as np
import pytest
from conftest import write_raster

import covgap
from covgap.config import LayerInput
from covgap.errors import InputError, InputWarning
from covgap.io import read_raster


def test_population_raster_total_is_the_sum_of_valid_cells(tmp_path):
    data = np.full((30, 30), 2.5, dtype="float32")
    data[0, :] = -1  # nodata row
    path = write_raster(tmp_path / "pop.tif", data)
    layer = read_raster(LayerInput(path=path), kind="population")
    assert layer.total == pytest.approx(29 * 30 * 2.5)
    assert layer.bounds_wgs84 == pytest.approx((105.15, 19.85, 105.45, 20.15))


def test_negative_population_is_reported_with_its_place(tmp_path):
    data = np.ones((30, 30), dtype="float32")
    data[5, 7] = -3
    data[6, 7] = -4
    path = write_raster(tmp_path / "pop.tif", data, nodata=None)
    with pytest.raises(InputError, match=r"pop.tif: 2 cell\(s\) have negative population "
                                         r"\(first at row 5, column 7, x 105.22500"):
        read_raster(LayerInput(path=path), kind="population")


def test_dem_with_undeclared_nodata(tmp_path):
    data = np.full((30, 30), 120, dtype="int16")
    data[:3] = -32768
    path = write_raster(tmp_path / "dem.tif", data, nodata=None)
    with pytest.raises(InputError, match=r"dem.tif: 90 cell\(s\) have elevations outside "
                                         r"-500..9000 m .*declare the file's nodata"):
        read_raster(LayerInput(path=path), kind="dem")
    path = write_raster(tmp_path / "dem2.tif", data, nodata=-32768)
    assert read_raster(LayerInput(path=path), kind="dem").nodata == -32768


def test_raster_without_crs(province, tmp_path):
    path = write_raster(tmp_path / "dem.tif", np.zeros((30, 30), "int16"), crs=None)
    with pytest.raises(InputError, match=r"dem.tif: has no CRS; give it in the \[inputs\] dem"):
        covgap.read_inputs(province.config(inputs={"dem": str(path)}))
    ins = covgap.read_inputs(province.config(inputs={"dem": {"path": str(path),
                                                             "crs": "EPSG:4326"}}))
    assert ins.dem.width == 30


def test_raster_must_cover_the_province(province, tmp_path):
    far = write_raster(tmp_path / "far.tif", np.zeros((10, 10), "int16"), west=100.0,
                       north=15.0)
    with pytest.raises(InputError, match=r"far\.tif: does not cover the province"):
        covgap.read_inputs(province.config(inputs={"dem": str(far)}))
    # half the province's extent
    half = write_raster(tmp_path / "half.tif", np.zeros((30, 15), "int16"), west=105.15,
                        north=20.15)
    with pytest.warns(InputWarning, match=r"half.tif: covers only 50.0% of the province"):
        ins = covgap.read_inputs(province.config(inputs={"dem": str(half)}))
    assert any("covers only 50.0%" in w for w in ins.warnings)


def test_dem_all_nodata_over_the_province_is_refused(province, tmp_path):
    data = np.full((30, 30), 120.0, dtype="float32")
    # the communes span lon 105.2..105.4, lat 19.9..20.1: columns 5..25, rows 5..25
    data[3:27, 3:27] = -1.0
    path = write_raster(tmp_path / "dem.tif", data)
    with pytest.raises(InputError, match=r"dem.tif: every cell over the province's communes "
                                         r"is nodata \(nodata value -1.0\)"):
        covgap.read_inputs(province.config(inputs={"dem": str(path)}))
    with pytest.raises(InputError, match=r"pop.tif: every cell anywhere is nodata"):
        read_raster(LayerInput(path=write_raster(tmp_path / "pop.tif",
                                                 np.full((5, 5), -1.0, "float32"))),
                    kind="population")
    # one valid cell inside the province is enough
    data[15, 15] = 200.0
    path = write_raster(tmp_path / "dem2.tif", data)
    assert covgap.read_inputs(province.config(inputs={"dem": str(path)})).dem is not None


def test_a_fifo_as_a_raster_is_refused_not_waited_on(tmp_path):
    import os
    fifo = tmp_path / "dem.tif"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"dem.tif: is not a regular file"):
        read_raster(LayerInput(path=fifo), kind="dem")
