"""Check and describe the DEM and population rasters.

Rasters are not loaded whole here: the checks read them block by block so a national
30 m DEM fits in memory.  Later stages open the file again with rasterio, reading the
windows they need.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.warp
import rasterio.windows
from pyproj import CRS
from rasterio.errors import RasterioIOError

from covgap.config import LayerInput
from covgap.errors import InputWarning
from covgap.io.crs import parse_crs
from covgap.io.problems import Problems
from covgap.io.vector import readable_file

__all__ = ["RasterLayer", "read_raster"]

# Earth's surface lies between the Dead Sea shore (-430 m) and Everest (8,849 m); a DEM
# value outside this range is a nodata value that was not declared.
_DEM_RANGE_M = (-500.0, 9000.0)


@dataclass(frozen=True)
class RasterLayer:
    """A checked raster: where it is and its grid.

    Attributes
    ----------
    kind : str
        "dem" (metres above sea level) or "population" (people per cell).
    path : Path
    crs : pyproj.CRS
        The raster's CRS (from the file or the configuration).
    transform : affine.Affine
    width, height : int
    nodata : float or None
    bounds_wgs84 : tuple of float
        (west, south, east, north) in degrees.
    total : float or None
        Sum of valid cells (population rasters: people).
    """

    kind: str
    path: Path
    crs: CRS
    transform: object
    width: int
    height: int
    nodata: float | None
    bounds_wgs84: tuple[float, float, float, float]
    total: float | None = None

    @property
    def rasterio_crs(self) -> rasterio.crs.CRS:
        """The CRS as rasterio wants it (e.g. for ``rasterio.open(..., crs=...)``)."""
        return rasterio.crs.CRS.from_wkt(self.crs.to_wkt())


def read_raster(
    spec: LayerInput,
    *,
    kind: str,
    province_bounds: tuple[float, float, float, float] | None = None,
    problems: Problems | None = None,
) -> RasterLayer | None:
    """Open and check a DEM or population raster.

    Parameters
    ----------
    spec : LayerInput
        The GeoTIFF (or any raster GDAL reads); ``spec.crs`` overrides or supplies its CRS.
    kind : {"dem", "population"}
        DEM values must be metres above sea level; population values people per cell,
        never negative.
    province_bounds : tuple of float, optional
        (west, south, east, north) of the communes in degrees; the raster must cover
        them (a warning says how much is missing, an error when none is covered).
    problems : Problems, optional
        Collect problems here instead of raising.

    Returns
    -------
    RasterLayer or None
        None when the file cannot be used (the reason is in ``problems``).

    Raises
    ------
    InputError
        Listing the problems found (when ``problems`` is not given).
    """
    own = problems is None
    problems = Problems(Path(spec.path).name) if problems is None else problems
    layer = _check(spec, kind, province_bounds, problems)
    if own:
        problems.raise_if_any()
    return layer


def _check(spec: LayerInput, kind: str, province_bounds: tuple[float, float, float, float] |
           None, problems: Problems) -> RasterLayer | None:
    path = Path(spec.path)
    if not path.exists():
        problems.add(f"file not found ({path}); check [inputs] {kind}")
        return None
    if not readable_file(path, kind, problems, max_bytes=None):
        return None
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        problems.add(f"cannot be read as a raster: {exc}")
        return None
    with src:
        if spec.crs:
            try:
                crs = parse_crs(spec.crs)
            except ValueError as exc:
                problems.add(f"crs in [inputs] {kind}: {exc}")
                return None
        elif src.crs is None:
            problems.add(
                f"has no CRS; give it in the [inputs] {kind} table, e.g. {kind} = "
                f"{{ path = \"{path.name}\", crs = \"EPSG:4326\" }}")
            return None
        else:
            crs = CRS.from_wkt(src.crs.to_wkt())
        if src.count > 1:
            warnings.warn(f"{problems.source}: has {src.count} bands; covgap uses band 1",
                          InputWarning, stacklevel=4)
        src_crs = rasterio.crs.CRS.from_wkt(crs.to_wkt())
        bounds = rasterio.warp.transform_bounds(src_crs, "EPSG:4326", *src.bounds)
        if province_bounds is not None:
            share = _overlap_share(bounds, province_bounds)
            if share == 0:
                problems.add(
                    f"does not cover the province: raster lon {bounds[0]:.3f}..{bounds[2]:.3f}, "
                    f"lat {bounds[1]:.3f}..{bounds[3]:.3f}; communes lon "
                    f"{province_bounds[0]:.3f}..{province_bounds[2]:.3f}, lat "
                    f"{province_bounds[1]:.3f}..{province_bounds[3]:.3f}; is the CRS right?")
                return None
            if share < 0.999:
                warnings.warn(
                    f"{problems.source}: covers only {share:.1%} of the province's extent; "
                    "cells outside it count as missing", InputWarning, stacklevel=4)
        window = None
        if province_bounds is not None:
            window = rasterio.windows.from_bounds(
                *rasterio.warp.transform_bounds("EPSG:4326", src_crs, *province_bounds),
                transform=src.transform)
        total, valid = _scan_values(src, kind, problems, window)
        if valid == 0:
            where = "over the province's communes" if window is not None else "anywhere"
            problems.add(
                f"every cell {where} is nodata (nodata value {src.nodata!r}); is it the "
                f"right file, and is its nodata value right? covgap needs a {kind_text(kind)} "
                "there")
            return None
        return RasterLayer(kind=kind, path=path.resolve(), crs=crs, transform=src.transform,
                           width=src.width, height=src.height, nodata=src.nodata,
                           bounds_wgs84=tuple(bounds), total=total)


def _overlap_share(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Share of box ``b`` (west, south, east, north) covered by box ``a``."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (b[2] - b[0]) * (b[3] - b[1])
    return w * h / area if area > 0 else 1.0


def kind_text(kind: str) -> str:
    """Return what a raster of ``kind`` holds, for messages."""
    return {"dem": "terrain height (DEM)", "population": "population count"}.get(kind, kind)


def _scan_values(src: rasterio.io.DatasetReader, kind: str, problems: Problems,
                 window: rasterio.windows.Window | None = None,
                 ) -> tuple[float | None, int | None]:
    """Read band 1 block by block; report impossible values.

    Returns the valid sum (population rasters, else None) and the number of valid
    (not nodata) cells inside ``window`` (the province; the whole raster when None).
    """
    if kind not in ("dem", "population"):
        return None, None
    valid_cells = 0
    if window is not None:
        # sorted: a south-up raster gives a window of negative height
        r0, r1 = sorted((window.row_off, window.row_off + window.height))
        c0, c1 = sorted((window.col_off, window.col_off + window.width))
    bad = 0
    first_bad: tuple[int, int] | None = None
    total = 0.0
    low, high = (0.0, np.inf) if kind == "population" else _DEM_RANGE_M
    for _, block in src.block_windows(1):
        data = src.read(1, window=block, masked=True)
        valid_cells += _valid_inside(data, block, None if window is None else (r0, c0, r1, c1))
        values = data.compressed().astype(float)
        values = values[np.isfinite(values)]
        out = (values < low) | (values > high)
        if out.any():
            bad += int(out.sum())
            if first_bad is None:
                rows, cols = np.nonzero(((data < low) | (data > high)).filled(False))
                first_bad = (block.row_off + int(rows[0]), block.col_off + int(cols[0]))
        total += float(values[~out].sum())
    if bad:
        r, c = first_bad  # type: ignore[misc]
        x, y = src.xy(r, c)
        if kind == "population":
            problems.add(
                f"{bad:,} cell(s) have negative population (first at row {r}, column {c}, "
                f"x {x:.5f}, y {y:.5f}); population counts cannot be negative (a nodata value "
                "not declared in the file?)")
        else:
            problems.add(
                f"{bad:,} cell(s) have elevations outside {low:g}..{high:g} m (first at row "
                f"{r}, column {c}); declare the file's nodata value (e.g. gdal_edit.py "
                "-a_nodata -32768) or check its units are metres")
    return (total if kind == "population" else None), valid_cells


def _valid_inside(data: np.ma.MaskedArray, block: rasterio.windows.Window,
                  box: tuple[float, float, float, float] | None) -> int:
    """Count the cells of ``data`` (read at ``block``) that are valid and inside ``box``.

    ``box`` is (row0, col0, row1, col1) in the raster's fractional pixel coordinates;
    a cell counts when it overlaps the box.
    """
    ok = ~np.ma.getmaskarray(data)
    if np.issubdtype(data.dtype, np.floating):
        ok &= np.isfinite(data.filled(0))
    if box is None:
        return int(ok.sum())
    r0 = max(0, int(np.floor(box[0])) - block.row_off)
    c0 = max(0, int(np.floor(box[1])) - block.col_off)
    r1 = min(ok.shape[0], int(np.ceil(box[2])) - block.row_off)
    c1 = min(ok.shape[1], int(np.ceil(box[3])) - block.col_off)
    if r1 <= r0 or c1 <= c0:
        return 0
    return int(ok[r0:r1, c0:c1].sum())
