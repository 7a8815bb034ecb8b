"""Small input layers built in tmp_path, with known geometry.

The toy province is four square communes of 0.1 degree around (105.3 E, 20.0 N), in
Thanh Hóa, laid out as::

    C3 | C4        lat 20.0 .. 20.1
    ---+---
    C1 | C2        lat 19.9 .. 20.0
    lon 105.2 .. 105.3 .. 105.4
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Point, box

REPO = Path(__file__).resolve().parent.parent
SAMPLE_TOML = REPO / "data" / "sample.toml"


def commune_frame() -> gpd.GeoDataFrame:
    cells = [(105.2, 19.9, "15001", "Xã Thường Xuân", "III"),
             (105.3, 19.9, "15002", "Xã Lương Sơn", "II"),
             (105.2, 20.0, "15003", "Xã Xuân Cẩm", ""),
             (105.3, 20.0, "15004", "Thị trấn Ngọc Lặc", "I")]
    return gpd.GeoDataFrame(
        {"commune_code": [c[2] for c in cells], "commune_name": [c[3] for c in cells],
         "region": [c[4] for c in cells]},
        geometry=[box(x, y, x + 0.1, y + 0.1) for x, y, *_ in cells], crs="EPSG:4326")


def village_frame() -> gpd.GeoDataFrame:
    pts = [(105.25, 19.95, "15001"), (105.22, 19.93, "15001"), (105.35, 19.95, "15002"),
           (105.25, 20.05, "15003"), (105.35, 20.05, "15004"), (105.38, 20.08, "15004")]
    n = len(pts)
    return gpd.GeoDataFrame(
        {"village_id": [f"V{i + 1:03d}" for i in range(n)],
         "village_name": ["Bản Pù Nhi", "Bản Lát", "Thôn Đông", "Làng Hạ", "Thôn Trung",
                          "Thôn Hoà"],
         "commune_code": [p[2] for p in pts],
         "population": [300, 150, 800, 420, 1200, 950],
         "households": [70, 35, 190, 100, 285, 226],
         "difficult": [True, True, False, False, False, False]},
        geometry=[Point(p[0], p[1]) for p in pts], crs="EPSG:4326")


def site_frame() -> pd.DataFrame:
    rows = []
    for sid, op, lon, lat in [("TH-0001", "Viettel", 105.33, 19.97),
                              ("TH-0002", "VNPT", 105.33, 19.97),
                              ("TH-0003", "MobiFone", 105.36, 20.06)]:
        for az in (0, 120, 240):
            rows.append({"site_id": sid, "operator": op, "technology": "4G",
                         "azimuth_deg": az, "beamwidth_deg": 65, "height_m": 30,
                         "eirp_dbm": 58, "frequency_mhz": 1800, "lon": lon, "lat": lat})
    rows.append({"site_id": "TH-0004", "operator": "Viettel", "technology": "2G",
                 "azimuth_deg": None, "beamwidth_deg": None, "height_m": 25, "eirp_dbm": 55,
                 "frequency_mhz": 900, "lon": 105.24, "lat": 19.96})
    return pd.DataFrame(rows)


def fibre_frame() -> gpd.GeoDataFrame:
    from shapely.geometry import LineString
    return gpd.GeoDataFrame(
        {"fibre_id": ["F1", "F2"], "operator": ["VNPT", "Viettel"], "kind": ["route", "node"]},
        geometry=[LineString([(105.3, 19.95), (105.4, 20.05)]), Point(105.35, 20.05)],
        crs="EPSG:4326")


def write_raster(path: Path, data: np.ndarray, *, west: float = 105.15, north: float = 20.15,
                 res: float = 0.01, crs: str | None = "EPSG:4326",
                 nodata: float | None = -1.0) -> Path:
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": data.dtype.name, "transform": from_origin(west, north, res, res)}
    if crs:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


class Province:
    """Writes the toy province's files into a folder and builds configurations for it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.communes = root / "communes.gpkg"
        self.villages = root / "villages.gpkg"
        self.sites = root / "bts.csv"
        self.fibre = root / "fibre.gpkg"
        commune_frame().to_file(self.communes, layer="communes")
        village_frame().to_file(self.villages, layer="villages")
        site_frame().to_csv(self.sites, index=False)
        fibre_frame().to_file(self.fibre, layer="fibre")

    def config(self, **sections: dict) -> dict:
        cfg = {"run": {"name": "toy", "year": 2025},
               "inputs": {"communes": str(self.communes), "villages": str(self.villages),
                          "sites": {"path": str(self.sites), "x": "lon", "y": "lat"},
                          "fibre": str(self.fibre)},
               "output": {"dir": str(self.root / "out")}}
        for name, values in sections.items():
            cfg.setdefault(name, {}).update(values)
        return cfg


@pytest.fixture
def province(tmp_path: Path) -> Province:
    return Province(tmp_path)


@pytest.fixture(scope="session")
def sample_result(tmp_path_factory):
    """The whole pipeline on the bundled sample province, run once per test session.

    Its output folder (where the coverage cache goes) is a temporary one, so the tests
    leave the repository as they found it.
    """
    import dataclasses

    import covgap
    cfg = covgap.load_config(SAMPLE_TOML)
    out = tmp_path_factory.mktemp("sample-out")
    return covgap.run(dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, dir=out)))
