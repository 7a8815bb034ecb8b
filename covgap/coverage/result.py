"""What a coverage model produces, and its GeoTIFFs.

Raster models (pathloss, terrain, raster with gridded maps) give, per operator and
technology, the best-server signal in dBm on the analysis grid and which cell serves
each grid cell.  The radius model (and polygon maps) give coverage polygons instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely

from covgap.coverage.grid import Grid

if TYPE_CHECKING:
    from covgap.coverage.radius import Footprints

__all__ = ["Coverage", "ModelOutput", "raster_name"]

#: Nodata of the signal GeoTIFFs (float32 dBm); no real signal is this weak.
SIGNAL_NODATA = -9999.0
#: Nodata of binary coverage GeoTIFFs (uint8: 1 covered, 0 not).
BINARY_NODATA = 255

Key = tuple[str, str]


def raster_name(operator: str, technology: str) -> str:
    """File name of a coverage raster: ``coverage_<operator>_<tech>.tif``.

    Examples
    --------
    >>> raster_name("MobiFone", "4G")
    'coverage_MobiFone_4G.tif'
    """
    safe = re.sub(r"[^0-9A-Za-z]+", "-", operator).strip("-") or "operator"
    return f"coverage_{safe}_{technology}.tif"


@dataclass
class ModelOutput:
    """What every coverage model returns, one structure whatever the model.

    A model fills the fields it produces and leaves the rest empty;
    :func:`covgap.coverage.compute_coverage` moves them into the :class:`Coverage`.

    Attributes
    ----------
    cells : GeoDataFrame or None
        The cells as the model completed them (the radius model adds ``radius_m``,
        metric CRS); None: the prepared cells unchanged.
    signal, server, clear_signal, clear_server, binary : dict
        As in :class:`Coverage`, keyed by (operator, technology).
    areas : GeoDataFrame or None
        Vector coverage (operator, technology, geometry) in the metric CRS.
    dem : ndarray or None
        The terrain model's DEM on the grid (metres).
    parameters : dict
        What the model adds to the run record (e.g. ``tiles``, ``scheduler``).
    footprints : Footprints or None
        The radius model's cells as footprints (:class:`covgap.coverage.radius.Footprints`).
    """

    cells: gpd.GeoDataFrame | None = None
    signal: dict[Key, np.ndarray] = field(default_factory=dict)
    server: dict[Key, np.ndarray] = field(default_factory=dict)
    clear_signal: dict[Key, np.ndarray] = field(default_factory=dict)
    clear_server: dict[Key, np.ndarray] = field(default_factory=dict)
    binary: dict[Key, np.ndarray] = field(default_factory=dict)
    areas: gpd.GeoDataFrame | None = None
    dem: np.ndarray | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    footprints: Footprints | None = None


class _Areas:
    """``Coverage.areas``: set like any attribute, or read from the footprints on first use.

    The radius model leaves ``areas`` unset: villages are judged at points without any
    union, and the unions are built the first time an output (map, GeoPackage, area
    shares of polygon villages) reads ``areas``, once for all of them.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> gpd.GeoDataFrame | None:
        if obj is None:
            return None  # the dataclass field's default
        value = obj.__dict__.get(self.slot)
        if value is None and obj.__dict__.get("footprints") is not None:
            value = obj.__dict__["footprints"].areas()
            obj.__dict__[self.slot] = value
        return value

    def __set__(self, obj: Any, value: gpd.GeoDataFrame | None) -> None:
        obj.__dict__[self.slot] = value


@dataclass
class Coverage:
    """Coverage of every operator and technology, from one model.

    Attributes
    ----------
    model : str
        "radius", "pathloss", "terrain" or "raster".
    parameters : dict
        Every parameter the model used, for the run record.
    min_rsrp_dbm : float
        The threshold for "covered" (signal models).
    cells : GeoDataFrame
        The cells as modelled (metric CRS) with their filled-in parameters, their site
        points as geometry; the radius model's add ``radius_m`` (their footprint
        polygons are ``footprints.polygons()``).
    grid : Grid or None
        The analysis grid of the rasters (None for the radius model).
    signal : dict
        (operator, technology) -> float32 best-server signal, dBm (NaN: no signal).
    server : dict
        (operator, technology) -> int32 row of ``cells`` serving each grid cell (-1: none).
    clear_signal, clear_server : dict
        The terrain model's signal and server without terrain losses, so a gap can be
        explained ("terrain shadow from site TH-0412").
    binary : dict
        (operator, technology) -> bool coverage for maps that only say covered / not.
    areas : GeoDataFrame or None
        Vector coverage (radius model, polygon maps): operator, technology, geometry in
        the metric CRS.  The radius model's are the union of each operator's technology's
        footprints, built from ``footprints`` the first time they are read.
    dem : ndarray or None
        The terrain model's DEM on ``grid`` (metres), kept for candidate sites.
    calibration : DataFrame or None
        The fit of the model to measured RSRP (``calibration.csv``,
        :func:`covgap.coverage.calibrate.calibration_table`), when the run has
        measurements and a signal model.
    footprints : Footprints or None
        The radius model's cells as footprints
        (:class:`covgap.coverage.radius.Footprints`): which cells cover a point, without
        drawing a polygon, and the polygons when an output draws them.
    """

    model: str
    parameters: dict[str, Any]
    min_rsrp_dbm: float
    cells: gpd.GeoDataFrame
    grid: Grid | None = None
    signal: dict[Key, np.ndarray] = field(default_factory=dict)
    server: dict[Key, np.ndarray] = field(default_factory=dict)
    clear_signal: dict[Key, np.ndarray] = field(default_factory=dict)
    clear_server: dict[Key, np.ndarray] = field(default_factory=dict)
    binary: dict[Key, np.ndarray] = field(default_factory=dict)
    areas: gpd.GeoDataFrame | None = _Areas()  # type: ignore[assignment]
    dem: np.ndarray | None = None
    calibration: pd.DataFrame | None = None
    footprints: Footprints | None = None

    def keys(self) -> list[Key]:
        """Every (operator, technology) this coverage knows, sorted."""
        keys = set(self.signal) | set(self.binary)
        areas = self.__dict__.get("_areas")  # what is there: no union for a key list
        if areas is None and self.footprints is not None:
            keys |= set(self.footprints.keys())
        elif areas is not None:
            keys |= set(zip(areas["operator"], areas["technology"], strict=True))
        return sorted(keys)

    def vector_keys(self) -> list[Key]:
        """Return the (operator, technology) keys with vector coverage (``areas``), sorted.

        Read without building the radius model's unions.
        """
        areas = self.__dict__.get("_areas")
        if areas is None and self.footprints is not None:
            return self.footprints.keys()
        if areas is None or not len(areas):
            return []
        return sorted(set(zip(areas["operator"], areas["technology"], strict=True)))

    def covered(self, operator: str, technology: str) -> np.ndarray:
        """Boolean grid: where ``operator``'s ``technology`` reaches the threshold.

        Raises
        ------
        KeyError
            When this coverage has no raster for that operator and technology.
        """
        key = (operator, technology)
        if key in self.binary:
            return self.binary[key]
        signal = self.signal[key]
        return np.nan_to_num(signal, nan=-np.inf) >= self.min_rsrp_dbm

    def covered_any(self, technologies: list[str] | tuple[str, ...]) -> np.ndarray:
        """Boolean grid: covered by any operator with any of ``technologies`` (the union)."""
        if self.grid is None:
            raise ValueError("the radius model's coverage is vector: use .area_union()")
        out = np.zeros(self.grid.shape, dtype=bool)
        for op, tech in self.keys():
            if tech in technologies and ((op, tech) in self.signal or (op, tech) in self.binary):
                out |= self.covered(op, tech)
        return out

    def area_union(self, technologies: list[str] | tuple[str, ...], *,
                   operator: str | None = None) -> shapely.Geometry:
        """Union of the vector coverage of ``technologies`` (and one operator if given).

        Computed once per coverage and question: every map drawn from this coverage
        (``map.html``, ``Result.map()``) shares it, until ``areas`` is replaced.
        """
        areas = self.areas
        if areas is None:
            raise ValueError(f"the {self.model} model's coverage is raster: use .covered_any()")
        key = (tuple(sorted(technologies)), operator)
        memo = self.__dict__.setdefault("_unions", {})
        if key in memo and memo[key][0] is areas:
            return memo[key][1]
        rows = areas[areas["technology"].isin(technologies)]
        if operator is not None:
            rows = rows[rows["operator"] == operator]
        union = shapely.union_all(rows.geometry.to_numpy())
        memo[key] = (areas, union)
        return union

    def write_geotiffs(self, directory: str | Path) -> list[Path]:
        """Write ``coverage_<operator>_<tech>.tif`` for every raster, and the union.

        Signal rasters are float32 dBm with nodata -9999; binary ones uint8 (1 covered,
        0 not, nodata 255).  ``coverage_all_<tech>.tif`` is the union over operators
        (uint8).  All carry the grid's CRS.

        Returns
        -------
        list of Path
            The files written.
        """
        if self.grid is None:
            return []
        directory = Path(directory)
        written = []
        profile = {"driver": "GTiff", "width": self.grid.width, "height": self.grid.height,
                   "count": 1, "crs": self.grid.rasterio_crs, "transform": self.grid.transform,
                   "compress": "deflate", "tiled": True, "blockxsize": 256,
                   "blockysize": 256, "num_threads": "ALL_CPUS"}  # parallel deflate
        for op, tech in self.keys():
            path = directory / raster_name(op, tech)
            if (op, tech) in self.signal:
                data = np.where(np.isnan(self.signal[op, tech]), SIGNAL_NODATA,
                                self.signal[op, tech]).astype("float32")
                meta = {**profile, "dtype": "float32", "nodata": SIGNAL_NODATA,
                        "predictor": 3}
                desc = f"best-server signal of {op} {tech}, dBm ({self.model} model)"
            else:
                data = self.binary[op, tech].astype("uint8")
                meta = {**profile, "dtype": "uint8", "nodata": BINARY_NODATA}
                desc = f"coverage of {op} {tech}, 1 covered ({self.model} model)"
            with rasterio.open(path, "w", **meta) as dst:
                dst.write(data, 1)
                dst.set_band_description(1, desc)
                dst.update_tags(operator=op, technology=tech, model=self.model,
                                min_rsrp_dbm=str(self.min_rsrp_dbm))
            written.append(path)
        for tech in sorted({t for _, t in self.keys()}):
            path = directory / f"coverage_all_{tech}.tif"
            with rasterio.open(path, "w", **{**profile, "dtype": "uint8",
                                              "nodata": BINARY_NODATA}) as dst:
                dst.write(self.covered_any([tech]).astype("uint8"), 1)
                dst.set_band_description(1, f"covered by any operator's {tech}")
            written.append(path)
        return written
