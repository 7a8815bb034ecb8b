"""Generate the SYNTHETIC sample province "Tỉnh Mẫu" shipped in ``data/``.

Everything written here is made up: a fictional province placed roughly over western
and central Thanh Hóa (lon 104.95-105.60, lat 19.75-20.25), with mountains in the west
(ridges running NNW-SSE with populated valleys between them), hills in the middle and a
lowland plain in the east.  Names are built from syllable lists; any resemblance to real
places is coincidental.  The data exist because there are no openly licensed
village-level boundaries or operator site lists for Vietnam.

Several western valleys are hidden from every 4G tower by ridges: a plain radius model
calls their villages covered, a terrain model does not (the "lõm sóng" villages).

Outputs (relative to ``--out``, default: the repository's ``data/`` folder):

- ``boundaries/communes.gpkg`` (layer ``communes``, VN-2000 / TM-3 105°00')
- ``boundaries/villages.gpkg`` (layer ``villages``, VN-2000 / TM-3 105°00')
- ``sites/bts.csv`` (one row per cell, WGS84 lon/lat)
- ``sites/fibre.gpkg`` (layer ``fibre``, EPSG:4326, routes and nodes)
- ``rasters/dem.tif`` (EPSG:4326, 3 arc-second, Int16 metres)
- ``rasters/population.tif`` (EPSG:4326, same grid, Float32 people per cell)

Run ``.venv/bin/python scripts/make_sample_data.py [--out DIR]``.  The generator is
deterministic (``numpy.random.default_rng(2025)``).
"""

import argparse
import csv
import math
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS, Transformer
from rasterio.features import rasterize
from rasterio.transform import from_origin

from covgap.io.crs import vn2000_tm3

SEED = 2025
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data"

#: Official boundaries come in VN-2000, provincial 3° TM zone (Thanh Hóa: 105°00').
VN2000_TM3_MERIDIAN = 105.0
#: Working CRS: the same projection on the WGS84 datum (metres, nearly conformal).
WORK_CRS = (
    "+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +datum=WGS84 "
    "+units=m +no_defs"
)

#: Raster resolution: 3 arc-seconds (about 90 m).
CELLS_PER_DEG = 1200
RES = 1.0 / CELLS_PER_DEG
#: Origin of the local kilometre frame (south-west corner of the nominal box).
ORIGIN_LONLAT = (104.95, 19.75)

#: Ridges run NNW-SSE: ``c`` is the cross-ridge (ENE) coordinate, ``a`` the along-ridge one.
THETA = math.radians(20.0)
COS_T, SIN_T = math.cos(THETA), math.sin(THETA)
RIDGE_C = np.array([6.0, 11.5, 17.0, 22.5, 28.0, 33.5])
RIDGE_AMP = np.array([950.0, 1000.0, 980.0, 900.0, 760.0, 500.0])
RIDGE_SIGMA = np.array([1.2, 1.3, 1.25, 1.2, 1.15, 1.05])
#: Zones along ``c`` (km): mountains below, plain above, hills between.
MOUNTAIN_C, PLAIN_C = 37.0, 50.0
#: Hidden valley sections: (valley index, side of the river (+1 north, -1 south),
#: minimum along-valley distance from the river in km).  Valley k lies between
#: ridge k-1 and ridge k.
HIDDEN_VALLEYS = ((2, 1, 7.0), (4, 1, 6.0), (1, -1, 7.0), (3, -1, 7.5))
#: Valley roads (with fibre): (valley index, side, length in km from the river).
VALLEY_ROADS = ((3, 1, 16.0), (5, 1, 12.0), (2, -1, 13.0), (4, -1, 14.0), (5, -1, 10.0))

OPERATORS = ("Viettel", "VNPT", "MobiFone")
CSV_COLUMNS = ("site_id", "operator", "technology", "azimuth_deg", "beamwidth_deg",
               "height_m", "eirp_dbm", "frequency_mhz", "lon", "lat")

ZONE_MOUNTAIN, ZONE_HILLS, ZONE_PLAIN = 0, 1, 2
ZONE_NAMES = ("mountain", "hills", "plain")

# --------------------------------------------------------------------------- names

SINO = (
    "An", "Bình", "Cát", "Đông", "Đoài", "Hạ", "Hòa", "Hưng", "Khánh", "Lộc", "Long", "Mỹ",
    "Nam", "Ninh", "Phú", "Phúc", "Quang", "Sơn", "Tân", "Thanh", "Thịnh", "Thọ", "Thượng",
    "Tiến", "Trung", "Vân", "Vinh", "Xuân", "Yên", "Đức", "Hải", "Hợp", "Kim", "Lạc", "Liên",
    "Minh", "Ngọc", "Nghĩa", "Quảng", "Thái", "Thắng", "Thiện", "Thuận", "Trường", "Tường",
    "Văn", "Vĩnh", "Cẩm", "Định", "Hiệp", "Lâm", "Mai", "Đồng", "Giang", "Hồng", "Lương",
)
DIRECTIONAL = ("Đông", "Tây", "Nam", "Bắc", "Trung", "Thượng", "Hạ", "Nội", "Ngoại",
               "Tiền", "Hậu", "Giữa")
UPLAND = (
    "Pù", "Nhi", "Lát", "Chiềng", "Nà", "Hón", "Khà", "Mường", "Pom", "Ca", "Táu", "Sa",
    "Lầu", "Poọng", "Xa", "Ban", "Lốc", "Cha", "Khoa", "Hin", "Phe", "Păng", "Nặm", "Tong",
    "Sủng", "Lìn", "Hua", "Cang", "Muống", "Kéo", "Lũng", "Na", "Bon", "Tà", "Co", "Pha",
    "Pọng", "Chai", "Khằm", "Đanh", "Ón", "Chim", "Phai", "Piềng", "Tạ", "Sáy", "Ngàm",
    "Xuối", "Mò", "Hiềng", "Lò", "Luồng", "Pưng", "Quăn", "Sẳng", "Thuống",
)
DISTRICTS = (
    # name, zone of its centre, side of the river (+1 north), c of centre (km), offset (km)
    ("Huyện Mường Khê", ZONE_MOUNTAIN, 20.0, 14.0),
    ("Huyện Quan Pù", ZONE_MOUNTAIN, 20.0, -9.0),
    ("Huyện Lang Thượng", ZONE_HILLS, 43.0, 12.0),
    ("Huyện Ngọc Lâm", ZONE_HILLS, 43.0, -8.0),
    ("Huyện Cẩm Yên", ZONE_PLAIN, 57.0, 14.0),
    ("Huyện Vĩnh Đông", ZONE_PLAIN, 58.0, -9.0),
    ("Thị xã Mẫu Sơn", ZONE_PLAIN, 62.0, 1.5),
)
TOWNSHIP_DISTRICTS = (2, 3, 4, 5)  # districts whose centre commune is a "Thị trấn"
WARD_DISTRICT = 6  # the "Thị xã": communes near its centre are "Phường"
N_WARDS = 5


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC.

    Parameters
    ----------
    text : str
        Any string.

    Returns
    -------
    str
        The NFC-normalised string.
    """
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- geometry helpers


@dataclass
class Frames:
    """Coordinate transformers and the local kilometre frame."""

    ll_to_work: Transformer
    work_to_ll: Transformer
    ll_to_vn: Transformer
    vn_crs: CRS
    x0: float
    y0: float

    def ll_to_km(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Convert WGS84 lon/lat to local kilometres.

        Parameters
        ----------
        lon, lat : numpy.ndarray
            WGS84 degrees.

        Returns
        -------
        tuple of numpy.ndarray
            ``(kx, ky)`` kilometres east and north of the frame origin.
        """
        x, y = self.ll_to_work.transform(lon, lat)
        return (np.asarray(x) - self.x0) / 1000.0, (np.asarray(y) - self.y0) / 1000.0

    def km_to_work(self, kx: np.ndarray, ky: np.ndarray) -> np.ndarray:
        """Convert local kilometres to working-CRS metres.

        Parameters
        ----------
        kx, ky : numpy.ndarray
            Kilometres east and north of the frame origin.

        Returns
        -------
        numpy.ndarray
            ``(n, 2)`` array of working-CRS coordinates.
        """
        return np.column_stack([self.x0 + np.asarray(kx) * 1000.0,
                                self.y0 + np.asarray(ky) * 1000.0])

    def work_to_lonlat(self, xy: np.ndarray) -> np.ndarray:
        """Convert working-CRS metres to WGS84 lon/lat.

        Parameters
        ----------
        xy : numpy.ndarray
            ``(n, 2)`` working-CRS coordinates.

        Returns
        -------
        numpy.ndarray
            ``(n, 2)`` lon/lat degrees.
        """
        lon, lat = self.work_to_ll.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])


def make_frames() -> Frames:
    """Build the transformers between WGS84, the working CRS and VN-2000 TM-3.

    Returns
    -------
    Frames
        Transformers and the origin of the local kilometre frame.
    """
    work = CRS.from_proj4(WORK_CRS)
    ll_to_work = Transformer.from_crs("EPSG:4326", work, always_xy=True)
    work_to_ll = Transformer.from_crs(work, "EPSG:4326", always_xy=True)
    vn = vn2000_tm3(VN2000_TM3_MERIDIAN)
    ll_to_vn = Transformer.from_crs("EPSG:4326", vn, always_xy=True)
    x0, y0 = ll_to_work.transform(*ORIGIN_LONLAT)
    return Frames(ll_to_work, work_to_ll, ll_to_vn, vn, float(x0), float(y0))


def transform_geoms(geoms: Any, func: Callable[[np.ndarray], np.ndarray]) -> Any:
    """Apply a coordinate function to shapely geometries.

    Parameters
    ----------
    geoms : shapely geometry or array of them
        Geometries to transform.
    func : callable
        Takes and returns an ``(n, 2)`` coordinate array.

    Returns
    -------
    shapely geometry or array
        Transformed geometries.
    """
    return shapely.transform(geoms, func)


def rotate(kx: np.ndarray, ky: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert local km to ridge coordinates.

    Parameters
    ----------
    kx, ky : numpy.ndarray
        Local kilometres.

    Returns
    -------
    tuple of numpy.ndarray
        ``(c, a)``: across the ridges (towards ENE) and along them (towards NNW).
    """
    return kx * COS_T + ky * SIN_T, -kx * SIN_T + ky * COS_T


def unrotate(c: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert ridge coordinates back to local km.

    Parameters
    ----------
    c, a : numpy.ndarray
        Ridge coordinates (km).

    Returns
    -------
    tuple of numpy.ndarray
        ``(kx, ky)`` local kilometres.
    """
    return c * COS_T - a * SIN_T, c * SIN_T + a * COS_T


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Return the logistic function of ``z``.

    Parameters
    ----------
    z : numpy.ndarray
        Input values.

    Returns
    -------
    numpy.ndarray
        ``1 / (1 + exp(-z))``.
    """
    return 1.0 / (1.0 + np.exp(-z))


def river_a(c: np.ndarray) -> np.ndarray:
    """Return the along-ridge coordinate of the main river at cross coordinate ``c``.

    Parameters
    ----------
    c : numpy.ndarray
        Cross-ridge coordinate (km).

    Returns
    -------
    numpy.ndarray
        Along-ridge coordinate (km) of the river axis.
    """
    return 22.0 - 0.35 * c + 2.0 * np.sin(c / 6.0)


# --------------------------------------------------------------------------- terrain


@dataclass
class TerrainParams:
    """Random but fixed parameters of the synthetic terrain."""

    ridge_phase: np.ndarray
    mod_phase: np.ndarray
    hills: np.ndarray  # (n, 4): kx, ky, amplitude m, sigma km
    karst: np.ndarray  # (n, 4)


def make_terrain_params(rng: np.random.Generator) -> TerrainParams:
    """Draw the terrain parameters.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator (consumed in a fixed order).

    Returns
    -------
    TerrainParams
        Ridge phases, hill and karst-tower parameters.
    """
    k = len(RIDGE_C)
    ridge_phase = rng.uniform(0, 2 * np.pi, size=(2, k))
    mod_phase = rng.uniform(0, 2 * np.pi, size=(2, k))
    n = 90
    hc = rng.uniform(34.0, 57.0, n)
    ha = rng.uniform(-32.0, 62.0, n)
    hx, hy = unrotate(hc, ha)
    amp = rng.uniform(0.35, 1.0, n) * (70.0 + 420.0 * sigmoid((45.0 - hc) / 3.0))
    sig = rng.uniform(0.7, 2.3, n)
    m = 18
    kc = rng.uniform(53.0, 78.0, m)
    ka = rng.uniform(-28.0, 48.0, m)
    kx, ky = unrotate(kc, ka)
    kamp = rng.uniform(60.0, 230.0, m)
    ksig = rng.uniform(0.25, 0.55, m)
    return TerrainParams(ridge_phase, mod_phase, np.column_stack([hx, hy, amp, sig]),
                         np.column_stack([kx, ky, kamp, ksig]))


def ridge_centres(a: np.ndarray, p: TerrainParams) -> np.ndarray:
    """Return the cross coordinate of every ridge crest at along coordinate ``a``.

    Parameters
    ----------
    a : numpy.ndarray
        Along-ridge coordinate (km), any shape.
    p : TerrainParams
        Terrain parameters.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_ridges, *a.shape)``.
    """
    a = np.asarray(a, dtype=float)[None, ...]
    ph = p.ridge_phase.reshape(2, -1, *([1] * (a.ndim - 1)))
    base = RIDGE_C.reshape(-1, *([1] * (a.ndim - 1)))
    return base + 0.75 * np.sin(a / 5.5 + ph[0]) + 0.35 * np.sin(a / 2.3 + ph[1])


def valley_index(c: np.ndarray, a: np.ndarray, p: TerrainParams) -> np.ndarray:
    """Return the valley a point lies in: k for a point between ridge k-1 and ridge k.

    Parameters
    ----------
    c, a : numpy.ndarray
        Ridge coordinates (km).
    p : TerrainParams
        Terrain parameters.

    Returns
    -------
    numpy.ndarray
        Integer valley index (0 west of the first ridge, 6 east of the last).
    """
    return (ridge_centres(a, p) < np.asarray(c)[None, ...]).sum(axis=0)


def hidden_mask(c: np.ndarray, a: np.ndarray, p: TerrainParams, *, margin: float = 0.0,
                with_ridges: bool = False) -> np.ndarray:
    """Flag points in the hidden valley sections.

    Parameters
    ----------
    c, a : numpy.ndarray
        Ridge coordinates (km).
    p : TerrainParams
        Terrain parameters.
    margin : float
        Extend each section this many km towards the river.
    with_ridges : bool
        Also flag the two ridges bounding each hidden valley (no towers there).

    Returns
    -------
    numpy.ndarray
        Boolean mask.
    """
    c = np.asarray(c, dtype=float)
    a = np.asarray(a, dtype=float)
    rc = ridge_centres(a, p)
    da = a - river_a(c)
    out = np.zeros(c.shape, dtype=bool)
    for k, side, off in HIDDEN_VALLEYS:
        lo = rc[k - 1] - (RIDGE_SIGMA[k - 1] if with_ridges else 0.0)
        hi = rc[k] + (RIDGE_SIGMA[k] if with_ridges else 0.0)
        along = side * da > off - margin
        out |= (c > lo) & (c < hi) & along
    return out


def box_blur(arr: np.ndarray, r: int) -> np.ndarray:
    """Return the mean of ``arr`` over a ``(2r+1)`` square window (edges clamped).

    Parameters
    ----------
    arr : numpy.ndarray
        2-D array.
    r : int
        Half-width of the window in cells.

    Returns
    -------
    numpy.ndarray
        The blurred array, same shape.
    """
    pad = np.pad(arr, r + 1, mode="edge")
    s = pad.cumsum(0).cumsum(1)
    n = 2 * r + 1
    ny, nx = arr.shape
    out = (s[n:n + ny, n:n + nx] - s[0:ny, n:n + nx] - s[n:n + ny, 0:nx] + s[0:ny, 0:nx])
    return out / (n * n)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], step: int) -> np.ndarray:
    """Return smooth unit-variance-ish noise with a feature size of ``step`` cells.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator.
    shape : tuple of int
        ``(ny, nx)`` of the output.
    step : int
        Spacing of the random lattice, in cells.

    Returns
    -------
    numpy.ndarray
        Noise field.
    """
    ny, nx = shape
    gy, gx = ny // step + 3, nx // step + 3
    lattice = rng.standard_normal((gy, gx))
    xi = np.arange(nx) / step
    yi = np.arange(ny) / step
    rows = np.stack([np.interp(xi, np.arange(gx), row) for row in lattice])
    out = np.stack([np.interp(yi, np.arange(gy), col) for col in rows.T], axis=1)
    r = max(1, step // 2)
    out = box_blur(box_blur(out, r), r)
    return out / out.std()


@dataclass
class Grid:
    """The raster grid shared by the DEM and the population raster."""

    col0: int  # west edge = col0 / CELLS_PER_DEG
    row0: int  # north edge = row0 / CELLS_PER_DEG
    nx: int
    ny: int
    lon: np.ndarray = field(repr=False)  # (ny, nx) cell-centre longitudes
    lat: np.ndarray = field(repr=False)

    @property
    def west(self) -> float:
        """West edge, degrees."""
        return self.col0 / CELLS_PER_DEG

    @property
    def north(self) -> float:
        """North edge, degrees."""
        return self.row0 / CELLS_PER_DEG

    @property
    def transform(self) -> Any:
        """Affine transform of the grid."""
        return from_origin(self.west, self.north, RES, RES)

    def index(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (row, col) of the cells holding lon/lat, clipped to the grid.

        Parameters
        ----------
        lon, lat : numpy.ndarray
            WGS84 degrees.

        Returns
        -------
        tuple of numpy.ndarray
            Integer row and column indices.
        """
        col = np.floor((np.asarray(lon) - self.west) * CELLS_PER_DEG).astype(int)
        row = np.floor((self.north - np.asarray(lat)) * CELLS_PER_DEG).astype(int)
        return np.clip(row, 0, self.ny - 1), np.clip(col, 0, self.nx - 1)


def make_grid(bounds_ll: Sequence[float], margin: float = 0.05) -> Grid:
    """Build the raster grid covering ``bounds_ll`` plus ``margin`` degrees.

    Parameters
    ----------
    bounds_ll : sequence of float
        ``(minlon, minlat, maxlon, maxlat)``.
    margin : float
        Margin in degrees.

    Returns
    -------
    Grid
        Grid snapped outwards to whole 3 arc-second cells.
    """
    minlon, minlat, maxlon, maxlat = bounds_ll
    col0 = math.floor((minlon - margin) * CELLS_PER_DEG)
    col1 = math.ceil((maxlon + margin) * CELLS_PER_DEG)
    row1 = math.floor((minlat - margin) * CELLS_PER_DEG)
    row0 = math.ceil((maxlat + margin) * CELLS_PER_DEG)
    nx, ny = col1 - col0, row0 - row1
    lon = (col0 + np.arange(nx) + 0.5) / CELLS_PER_DEG
    lat = (row0 - np.arange(ny) - 0.5) / CELLS_PER_DEG
    lon2, lat2 = np.meshgrid(lon, lat)
    return Grid(col0, row0, nx, ny, lon2, lat2)


def build_dem(rng: np.random.Generator, p: TerrainParams, kx: np.ndarray,
              ky: np.ndarray) -> np.ndarray:
    """Compute the elevation (metres) on the grid from deterministic terrain features.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator (for the smoothed noise).
    p : TerrainParams
        Terrain parameters.
    kx, ky : numpy.ndarray
        Local kilometres of the cell centres, shape ``(ny, nx)``.

    Returns
    -------
    numpy.ndarray
        Elevation in metres (float), at least 2 m.
    """
    c, a = rotate(kx, ky)
    da = a - river_a(c)
    gorge = 1.0 - 0.95 * np.exp(-((da / 2.4) ** 2))
    w = sigmoid((37.0 - c) / 2.5)
    rise = np.minimum(np.abs(da), 25.0)
    base = (6.0 + 32.0 * sigmoid((55.0 - c) / 4.0)
            + w * (230.0 + 9.0 * rise) * (1.0 - 0.55 * np.exp(-((da / 3.0) ** 2))))
    rc = ridge_centres(a, p)
    ridges = np.zeros_like(c)
    troughs = np.zeros_like(c)
    for k in range(len(RIDGE_C)):
        mod = (0.72 + 0.18 * np.sin(a / 4.1 + p.mod_phase[0, k])
               + 0.10 * np.sin(a / 1.7 + p.mod_phase[1, k]))
        ridges += RIDGE_AMP[k] * mod * np.exp(-0.5 * ((c - rc[k]) / RIDGE_SIGMA[k]) ** 2)
        if k > 0:
            vc = 0.5 * (rc[k - 1] + rc[k])
            troughs += 110.0 * np.exp(-0.5 * ((c - vc) / 0.8) ** 2)
    hills = np.zeros_like(c)
    for hx, hy, amp, sig in np.vstack([p.hills, p.karst]):
        d2 = (kx - hx) ** 2 + (ky - hy) ** 2
        hills += amp * np.exp(-0.5 * d2 / sig**2)
    shape = c.shape
    n1 = smooth_noise(rng, shape, 30)
    n2 = smooth_noise(rng, shape, 8)
    noise = n1 * (45.0 * w + 12.0 * (1 - w) * sigmoid((PLAIN_C - c) / 2.0) + 2.0) \
        + n2 * (28.0 * w + 6.0 * sigmoid((PLAIN_C - c) / 2.0) + 1.0)
    h = base + (ridges + hills) * gorge - troughs * w + noise * (0.5 + 0.5 * gorge)
    return np.maximum(h, 2.0)


# --------------------------------------------------------------------------- outline


def province_outline(rng: np.random.Generator, frames: Frames) -> shapely.Polygon:
    """Build a smooth irregular province outline (working CRS).

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator.
    frames : Frames
        Coordinate frames.

    Returns
    -------
    shapely.Polygon
        The province polygon in working-CRS metres.
    """
    t = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    ph = rng.uniform(0, 2 * np.pi, 6)
    r = (1.0 + 0.07 * np.sin(2 * t + ph[0]) + 0.05 * np.sin(3 * t + ph[1])
         + 0.03 * np.sin(5 * t + ph[2]) + 0.015 * np.sin(8 * t + ph[3])
         + 0.008 * np.sin(13 * t + ph[4]) + 0.004 * np.sin(21 * t + ph[5]))
    ex = 2.0 / 3.2  # a superellipse: squarer than an ellipse
    kx = 33.5 + 32.0 * r * np.sign(np.cos(t)) * np.abs(np.cos(t)) ** ex
    ky = 27.0 + 25.0 * r * np.sign(np.sin(t)) * np.abs(np.sin(t)) ** ex
    return shapely.Polygon(frames.km_to_work(kx, ky))


# --------------------------------------------------------------------------- villages


def thin_points(xy: np.ndarray, spacing: float, n: int,
                existing: np.ndarray | None = None) -> np.ndarray:
    """Greedily keep candidate points at least ``spacing`` apart.

    Parameters
    ----------
    xy : numpy.ndarray
        ``(m, 2)`` candidates in the order they should be tried.
    spacing : float
        Minimum distance (same units as ``xy``).
    n : int
        Stop after this many points.
    existing : numpy.ndarray, optional
        Points already placed; candidates must keep the spacing from them too.

    Returns
    -------
    numpy.ndarray
        Indices of the kept candidates.
    """
    placed = np.empty((len(xy) + (0 if existing is None else len(existing)), 2))
    count = 0
    if existing is not None and len(existing):
        placed[: len(existing)] = existing
        count = len(existing)
    keep: list[int] = []
    s2 = spacing * spacing
    for i, (x, y) in enumerate(xy):
        if count:
            d2 = (placed[:count, 0] - x) ** 2 + (placed[:count, 1] - y) ** 2
            if d2.min() < s2:
                continue
        placed[count] = (x, y)
        count += 1
        keep.append(i)
        if len(keep) >= n:
            break
    return np.asarray(keep, dtype=int)


def draw_cells(rng: np.random.Generator, weight: np.ndarray, m: int, grid: Grid,
               frames: Frames) -> np.ndarray:
    """Draw ``m`` random positions in grid cells with probability proportional to weight.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator.
    weight : numpy.ndarray
        Non-negative weights, grid shape.
    m : int
        Number of positions.
    grid : Grid
        The raster grid.
    frames : Frames
        Coordinate frames.

    Returns
    -------
    numpy.ndarray
        ``(m, 2)`` working-CRS coordinates, jittered within their cells.
    """
    w = weight.ravel().astype(float)
    idx = rng.choice(w.size, size=m, p=w / w.sum())
    row, col = np.divmod(idx, grid.nx)
    lon = grid.west + (col + rng.random(m)) * RES
    lat = grid.north - (row + rng.random(m)) * RES
    x, y = frames.ll_to_work.transform(lon, lat)
    return np.column_stack([x, y])


@dataclass
class Fields:
    """Terrain-derived fields on the grid used to place things."""

    dem: np.ndarray
    c: np.ndarray
    a: np.ndarray
    slope: np.ndarray
    rel: np.ndarray
    inside: np.ndarray  # cell centre inside the province
    inner: np.ndarray  # cell centre at least 300 m inside
    hidden: np.ndarray  # hidden valley sections (with a margin)
    no_tower: np.ndarray  # hidden valleys and their ridges


def zone_of(c: np.ndarray) -> np.ndarray:
    """Classify cross-ridge coordinates into mountain / hills / plain.

    Parameters
    ----------
    c : numpy.ndarray
        Cross-ridge coordinate (km).

    Returns
    -------
    numpy.ndarray
        ``ZONE_MOUNTAIN``, ``ZONE_HILLS`` or ``ZONE_PLAIN``.
    """
    c = np.asarray(c)
    return np.where(c < MOUNTAIN_C, ZONE_MOUNTAIN, np.where(c < PLAIN_C, ZONE_HILLS, ZONE_PLAIN))


def point_ca(xy: np.ndarray, frames: Frames) -> tuple[np.ndarray, np.ndarray]:
    """Return ridge coordinates of working-CRS points.

    Parameters
    ----------
    xy : numpy.ndarray
        ``(n, 2)`` working-CRS coordinates.
    frames : Frames
        Coordinate frames.

    Returns
    -------
    tuple of numpy.ndarray
        ``(c, a)`` in km.
    """
    return rotate((xy[:, 0] - frames.x0) / 1000.0, (xy[:, 1] - frames.y0) / 1000.0)


def district_centres(frames: Frames) -> np.ndarray:
    """Return the working-CRS centres of the synthetic districts.

    Parameters
    ----------
    frames : Frames
        Coordinate frames.

    Returns
    -------
    numpy.ndarray
        ``(n_districts, 2)`` coordinates.
    """
    c = np.array([d[2] for d in DISTRICTS])
    a = river_a(c) + np.array([d[3] for d in DISTRICTS])
    kx, ky = unrotate(c, a)
    return frames.km_to_work(kx, ky)


def forced_town_points(frames: Frames) -> np.ndarray:
    """Return the centres of towns: township centres and the wards of the Thị xã.

    Parameters
    ----------
    frames : Frames
        Coordinate frames.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` working-CRS coordinates: first the township centres (one per district
        in ``TOWNSHIP_DISTRICTS``), then ``N_WARDS`` ward centres.
    """
    cent = district_centres(frames)
    pts = [cent[d] for d in TOWNSHIP_DISTRICTS]
    town = cent[WARD_DISTRICT]
    pts.append(town)
    for k in range(N_WARDS - 1):
        ang = np.pi / 4 + k * np.pi / 2
        pts.append(town + 2600.0 * np.array([np.cos(ang), np.sin(ang)]))
    return np.array(pts)


def place_villages(rng: np.random.Generator, f: Fields, grid: Grid, frames: Frames,
                   towns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Place village points: valley floors in the west, dense on the eastern plain.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator.
    f : Fields
        Terrain fields.
    grid : Grid
        The raster grid.
    frames : Frames
        Coordinate frames.
    towns : numpy.ndarray
        Town centres, placed first (they become township / ward seeds).

    Returns
    -------
    tuple of numpy.ndarray
        ``(xy, zone)``: working-CRS coordinates and zone of every village.
    """
    zone = zone_of(f.c)
    floor = np.clip(-f.rel / 70.0, 0.0, 1.0)
    da = f.a - river_a(f.c)
    w_m = (np.exp(-f.slope / 0.10) * floor * (f.dem < 900) * (zone == ZONE_MOUNTAIN)
           * (1.0 + 0.8 * f.hidden + 1.0 * np.exp(-((da / 3.0) ** 2))))
    w_h = np.exp(-f.slope / 0.12) * (0.3 + np.clip(-f.rel / 40.0, 0, 1)) * (zone == ZONE_HILLS)
    tx, ty = towns[:, 0], towns[:, 1]
    gx, gy = frames.ll_to_work.transform(grid.lon, grid.lat)
    townish = np.zeros(grid.lon.shape)
    for x, y in zip(tx, ty, strict=True):
        townish += np.exp(-0.5 * ((gx - x) ** 2 + (gy - y) ** 2) / 2200.0**2)
    cluster = np.clip(0.6 + 0.5 * smooth_noise(rng, grid.lon.shape, 25), 0.15, None)
    w_p = (np.exp(-f.slope / 0.08) * (cluster + 3.0 * townish)
           * ((zone == ZONE_PLAIN) | ((zone == ZONE_HILLS) & (townish > 0.3))))
    quotas = ((w_m, 375, 650.0), (w_h, 300, 750.0), (w_p, 545, 800.0))
    placed = [towns]
    zones = [np.full(len(towns), -1)]
    for zi, (w, n, spacing) in enumerate(quotas):
        w = w * f.inner
        cand = draw_cells(rng, w, n * 8, grid, frames)
        keep = thin_points(cand, spacing, n, np.vstack(placed))
        placed.append(cand[keep])
        zones.append(np.full(len(keep), zi))
    xy = np.vstack(placed)
    zone_v = np.concatenate(zones)
    c, _ = point_ca(xy, frames)
    zone_v[zone_v < 0] = zone_of(c[zone_v < 0])
    return xy, zone_v


# --------------------------------------------------------------------------- communes


def farthest_seeds(rng: np.random.Generator, xy: np.ndarray, cand: np.ndarray, n: int,
                   chosen: list[int]) -> list[int]:
    """Add ``n`` well-spread seeds from ``cand`` (indices into ``xy``) to ``chosen``.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator (a random factor keeps the cells irregular).
    xy : numpy.ndarray
        All village coordinates.
    cand : numpy.ndarray
        Indices of the candidate villages.
    n : int
        Seeds to add.
    chosen : list of int
        Already chosen seeds (extended in place).

    Returns
    -------
    list of int
        ``chosen``.
    """
    pts = xy[cand]
    factor = rng.uniform(0.7, 1.0, len(cand))
    if chosen:
        ch = xy[chosen]
        mind = np.sqrt(((pts[:, None, :] - ch[None, :, :]) ** 2).sum(-1)).min(1)
    else:
        mind = np.full(len(cand), np.inf)
        mind[rng.integers(len(cand))] = 1e12
    for _ in range(n):
        j = int(np.argmax(mind * factor))
        chosen.append(int(cand[j]))
        mind = np.minimum(mind, np.hypot(pts[:, 0] - pts[j, 0], pts[:, 1] - pts[j, 1]))
    return chosen


@dataclass
class Communes:
    """Commune polygons and attributes (working CRS)."""

    geom: np.ndarray
    seed_xy: np.ndarray
    code: list[str]
    name: list[str]
    kind: list[str]  # "Xã", "Phường" or "Thị trấn"
    region: list[str]
    district: list[str]
    zone: np.ndarray


def fix_multipolygons(geoms: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Give detached pieces of clipped cells to the neighbour they touch most.

    Parameters
    ----------
    geoms : numpy.ndarray
        Clipped Voronoi cells.
    seeds : numpy.ndarray
        Seed points (the piece containing the seed stays).

    Returns
    -------
    numpy.ndarray
        Cells that are all single polygons.
    """
    geoms = geoms.copy()
    for i, g in enumerate(geoms):
        if g.geom_type != "MultiPolygon":
            continue
        parts = shapely.get_parts(g)
        own = [p for p in parts if p.contains(shapely.Point(seeds[i]))]
        keep = own[0] if own else max(parts, key=lambda p: p.area)
        geoms[i] = keep
        for part in parts:
            if part.equals(keep):
                continue
            shared = shapely.length(shapely.intersection(shapely.boundary(geoms),
                                                         shapely.boundary(part)))
            shared[i] = -1
            j = int(np.argmax(shared))
            geoms[j] = shapely.union(geoms[j], part, grid_size=0.01)
    return geoms


def build_communes(rng: np.random.Generator, vxy: np.ndarray, vzone: np.ndarray,
                   velev: np.ndarray, outline: shapely.Polygon, frames: Frames,
                   n_towns: int) -> Communes:
    """Build about 120 communes as Voronoi cells of village seeds clipped to the outline.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator.
    vxy : numpy.ndarray
        Village coordinates (working CRS); the first ``n_towns`` are town centres.
    vzone : numpy.ndarray
        Village zones.
    velev : numpy.ndarray
        Village ground elevation (m); the median per commune sets its region.
    outline : shapely.Polygon
        Province outline.
    frames : Frames
        Coordinate frames.
    n_towns : int
        Number of forced town villages at the start of ``vxy``.

    Returns
    -------
    Communes
        Commune geometries and attributes.
    """
    chosen = list(range(n_towns))
    for zi, n in ((ZONE_PLAIN, 54 - N_WARDS - 2), (ZONE_HILLS, 36 - 2), (ZONE_MOUNTAIN, 30)):
        cand = np.flatnonzero((vzone == zi) & (np.arange(len(vxy)) >= n_towns))
        farthest_seeds(rng, vxy, cand, n, chosen)
    seeds = vxy[chosen]
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds),
                                     extend_to=outline.buffer(20000), ordered=True)
    geoms = shapely.intersection(shapely.get_parts(cells), outline, grid_size=0.01)
    geoms = fix_multipolygons(np.asarray(geoms), seeds)
    zone = zone_of(point_ca(seeds, frames)[0])
    # districts: nearest district centre
    dc = district_centres(frames)
    dist = np.hypot(seeds[:, None, 0] - dc[None, :, 0], seeds[:, None, 1] - dc[None, :, 1])
    district = dist.argmin(1)
    n = len(seeds)
    kind = ["Xã"] * n
    for k, d in enumerate(TOWNSHIP_DISTRICTS):
        kind[k] = "Thị trấn"
        district[k] = d
    for k in range(len(TOWNSHIP_DISTRICTS), n_towns):
        kind[k] = "Phường"
        district[k] = WARD_DISTRICT
    # region (khu vực) by the median elevation of the commune's villages
    owner = shapely.STRtree(geoms).query(shapely.points(vxy), predicate="within")
    elev = np.array([np.median(velev[owner[0][owner[1] == i]]) if np.any(owner[1] == i)
                     else 0.0 for i in range(len(seeds))])
    u = rng.random(n)
    region = np.where(elev > 280.0, np.where(u < 0.85, "III", "II"),
                      np.where(elev > 110.0,
                               np.where(u < 0.25, "III", np.where(u < 0.85, "II", "I")),
                               np.where((elev > 45.0) & (u < 0.25), "II", "I")))
    region = [("I" if kind[i] != "Xã" else str(region[i])) for i in range(n)]
    # names
    used: set[str] = set()
    names = []
    for i in range(n):
        for _ in range(1000):
            if zone[i] == ZONE_MOUNTAIN and rng.random() < 0.6:
                first = "Mường" if rng.random() < 0.15 else UPLAND[rng.integers(len(UPLAND))]
                base = f"{first} {UPLAND[rng.integers(len(UPLAND))]}"
            else:
                base = f"{SINO[rng.integers(len(SINO))]} {SINO[rng.integers(len(SINO))]}"
            w1, w2 = base.split(" ")
            if w1 != w2 and base not in used:
                used.add(base)
                names.append(nfc(f"{kind[i]} {base}"))
                break
    # order: by district, then north to south, west to east; codes step by 3
    order = np.lexsort((seeds[:, 0], -np.round(seeds[:, 1], -3), district))
    codes = [""] * n
    for rank, i in enumerate(order):
        codes[i] = f"{15001 + 3 * rank:05d}"
    return Communes(geom=np.asarray(geoms), seed_xy=seeds, code=codes, name=names, kind=kind,
                    region=region, district=[DISTRICTS[d][0] for d in district], zone=zone)


# --------------------------------------------------------------------------- village attributes


@dataclass
class Villages:
    """Village points and attributes (working CRS)."""

    xy: np.ndarray
    zone: np.ndarray
    commune: np.ndarray  # index into Communes
    vid: list[str]
    name: list[str]
    population: np.ndarray
    households: np.ndarray
    difficult: np.ndarray
    hidden: np.ndarray


def assign_communes(vxy: np.ndarray, communes: Communes) -> tuple[np.ndarray, np.ndarray]:
    """Find the commune containing each village and its distance to the commune edge.

    Parameters
    ----------
    vxy : numpy.ndarray
        Village coordinates.
    communes : Communes
        Communes.

    Returns
    -------
    tuple of numpy.ndarray
        Commune index (-1 if none) and distance (m) to that commune's boundary.
    """
    pts = shapely.points(vxy)
    tree = shapely.STRtree(communes.geom)
    pi, ci = tree.query(pts, predicate="within")
    idx = np.full(len(vxy), -1)
    idx[pi] = ci
    dist = np.full(len(vxy), np.inf)
    ok = idx >= 0
    dist[ok] = shapely.distance(pts[ok], shapely.boundary(communes.geom[idx[ok]]))
    return idx, dist


def village_name(rng: np.random.Generator, kind: str, zone: int) -> str:
    """Draw a village name for a commune of the given kind and zone.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator.
    kind : str
        Commune kind ("Xã", "Phường", "Thị trấn").
    zone : int
        Zone of the village.

    Returns
    -------
    str
        A name such as "Bản Pù Nhi", "Thôn Đông" or "Làng Hạ".
    """
    u = rng.random()
    if zone == ZONE_MOUNTAIN:
        prefix = "Bản" if u < 0.85 else "Làng"
        n = 1 if rng.random() < 0.35 else 2
        return " ".join([prefix, *(UPLAND[rng.integers(len(UPLAND))] for _ in range(n))])
    if zone == ZONE_HILLS:
        if u < 0.3:
            return f"Làng {UPLAND[rng.integers(len(UPLAND))]}"
        if u < 0.45:
            return f"Làng {DIRECTIONAL[rng.integers(len(DIRECTIONAL))]}"
        return f"Thôn {SINO[rng.integers(len(SINO))]} {SINO[rng.integers(len(SINO))]}"
    if u < 0.3:
        return f"Thôn {DIRECTIONAL[rng.integers(len(DIRECTIONAL))]}"
    if u < 0.45:
        return f"Thôn {rng.integers(1, 16)}"
    if u < 0.53:
        return f"Làng {DIRECTIONAL[rng.integers(len(DIRECTIONAL))]}"
    return f"Thôn {SINO[rng.integers(len(SINO))]} {SINO[rng.integers(len(SINO))]}"


def build_villages(rng: np.random.Generator, vxy: np.ndarray, vzone: np.ndarray,
                   communes: Communes, frames: Frames, p: TerrainParams) -> Villages:
    """Assign communes, names, population and difficulty to the village points.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator.
    vxy : numpy.ndarray
        Village coordinates.
    vzone : numpy.ndarray
        Village zones.
    communes : Communes
        Communes.
    frames : Frames
        Coordinate frames.
    p : TerrainParams
        Terrain parameters.

    Returns
    -------
    Villages
        Villages ordered by commune code, then north to south.
    """
    com, edge = assign_communes(vxy, communes)
    keep = (com >= 0) & (edge > 25.0)
    vxy, vzone, com = vxy[keep], vzone[keep], com[keep]
    codes = np.array(communes.code)
    order = np.lexsort((vxy[:, 0], -np.round(vxy[:, 1], -2), codes[com]))
    vxy, vzone, com = vxy[order], vzone[order], com[order]
    n = len(vxy)
    names: list[str] = []
    used: dict[int, set[str]] = {}
    tdp: dict[int, int] = {}
    for i in range(n):
        ci = int(com[i])
        kind = communes.kind[ci]
        seen = used.setdefault(ci, set())
        if kind != "Xã":
            tdp[ci] = tdp.get(ci, 0) + 1
            name = f"Tổ dân phố {tdp[ci]}"
        else:
            for _ in range(1000):
                name = village_name(rng, kind, int(vzone[i]))
                if name not in seen:
                    break
        seen.add(name)
        names.append(nfc(name))
    # population
    town = np.array([communes.kind[c] != "Xã" for c in com])
    mu = np.choose(vzone, [np.log(260.0), np.log(600.0), np.log(950.0)])
    lo = np.choose(vzone, [80, 150, 300])
    hi = np.choose(vzone, [700, 1500, 2500])
    mu = np.where(town, np.log(1300.0), mu)
    lo = np.where(town, 400, lo)
    pop = np.clip(np.round(np.exp(mu + 0.45 * rng.standard_normal(n))), lo, hi).astype(np.int64)
    hh = np.maximum(1, np.round(pop / (4.2 * rng.uniform(0.95, 1.05, n)))).astype(np.int64)
    region = np.array(communes.region)[com]
    u = rng.random(n)
    difficult = (((region == "III") & (vzone == ZONE_MOUNTAIN) & (u < 0.7))
                 | ((region == "III") & (vzone != ZONE_MOUNTAIN) & (u < 0.3))
                 | ((region == "II") & (vzone != ZONE_PLAIN) & (u < 0.06)))
    c, a = point_ca(vxy, frames)
    hidden = hidden_mask(c, a, p)
    vid = [f"V{i + 1:05d}" for i in range(n)]
    return Villages(vxy, vzone, com, vid, names, pop, hh, difficult, hidden)


# --------------------------------------------------------------------------- sites


def greedy_sites(rng: np.random.Generator, cand: np.ndarray, vxy: np.ndarray,
                 vweight: np.ndarray, n: int, cover_r: float, spacing: float,
                 existing: np.ndarray) -> np.ndarray:
    """Pick ``n`` site positions that cover the most (not yet covered) people.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator (small random tie-breaking factor).
    cand : numpy.ndarray
        ``(m, 2)`` candidate positions.
    vxy : numpy.ndarray
        Village coordinates.
    vweight : numpy.ndarray
        Village weights (population).
    n : int
        Number of sites to pick.
    cover_r : float
        Radius (m) a site is assumed to serve.
    spacing : float
        Minimum distance (m) to other sites.
    existing : numpy.ndarray
        Sites already placed.

    Returns
    -------
    numpy.ndarray
        ``(k, 2)`` chosen positions (``k <= n``).
    """
    d = np.hypot(cand[:, None, 0] - vxy[None, :, 0], cand[:, None, 1] - vxy[None, :, 1])
    within = (d < cover_r).astype(float)
    remaining = vweight.astype(float).copy()
    if len(existing):
        de = np.hypot(existing[:, None, 0] - vxy[None, :, 0],
                      existing[:, None, 1] - vxy[None, :, 1])
        remaining[(de < cover_r).any(0)] *= 0.15
        mind = np.hypot(cand[:, None, 0] - existing[None, :, 0],
                        cand[:, None, 1] - existing[None, :, 1]).min(1)
    else:
        mind = np.full(len(cand), np.inf)
    jitter = rng.uniform(0.85, 1.0, len(cand))
    out = []
    for _ in range(n):
        score = (within @ remaining) * jitter
        score[mind < spacing] = -1.0
        j = int(np.argmax(score))
        if score[j] <= 0:
            break
        out.append(cand[j])
        remaining[within[j] > 0] *= 0.15
        mind = np.minimum(mind, np.hypot(cand[:, 0] - cand[j, 0], cand[:, 1] - cand[j, 1]))
    return np.array(out).reshape(-1, 2)


@dataclass
class Locations:
    """BTS site locations (working CRS) and their role."""

    xy: np.ndarray
    kind: np.ndarray  # "centre5g", "plain", "hills", "mountain", "hidden2g", "border"


def commune_centres(communes: Communes) -> np.ndarray:
    """Return the centroid of each commune, or a point on its surface if outside.

    Parameters
    ----------
    communes : Communes
        Communes.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` working-CRS coordinates.
    """
    cen = shapely.centroid(communes.geom)
    bad = ~shapely.contains(communes.geom, cen)
    cen[bad] = shapely.point_on_surface(communes.geom[bad])
    return shapely.get_coordinates(cen)


def shadow_sites(villages: Villages, frames: Frames, p: TerrainParams,
                 outline: shapely.Polygon, f: Fields, grid: Grid,
                 existing: np.ndarray) -> np.ndarray:
    """Place towers in the valleys next to the hidden ones, on the flank facing them.

    These towers are within 5 km of hidden-valley villages (a radius model calls the
    villages covered) but a ridge several hundred metres high stands in between.

    Parameters
    ----------
    villages : Villages
        Villages.
    frames : Frames
        Coordinate frames.
    p : TerrainParams
        Terrain parameters.
    outline : shapely.Polygon
        Province outline.
    f : Fields
        Terrain fields.
    grid : Grid
        The raster grid.
    existing : numpy.ndarray
        Sites already placed.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` tower positions (working CRS).
    """
    vc, va = point_ca(villages.xy, frames)
    vidx = valley_index(vc, va, p)
    out: list[np.ndarray] = []
    for k, side, _off in HIDDEN_VALLEYS:
        sel = villages.hidden & (vidx == k) & (side * (va - river_a(vc)) > 0)
        if not sel.any():
            continue
        order = np.argsort(va[sel])
        as_ = va[sel][order]
        last = -np.inf
        for j in range(len(as_)):
            if as_[j] - last < 4.5:
                continue
            for step in (1, -1):  # the valley to the east first, then to the west
                adj = k + step
                if adj < 1 or adj >= len(RIDGE_C):
                    continue
                rc = ridge_centres(np.array([as_[j]]), p)[:, 0]
                c_adj = 0.5 * (rc[adj - 1] + rc[adj]) - step * 0.9
                kx, ky = unrotate(np.array([c_adj]), np.array([as_[j]]))
                xy = frames.km_to_work(kx, ky)
                ll = frames.work_to_lonlat(xy)
                r, c = grid.index(ll[:, 0], ll[:, 1])
                d_v = np.hypot(villages.xy[sel, 0] - xy[0, 0], villages.xy[sel, 1] - xy[0, 1])
                placed = np.vstack([existing, *out]) if out else existing
                d_s = np.hypot(placed[:, 0] - xy[0, 0], placed[:, 1] - xy[0, 1]).min()
                if (outline.contains(shapely.Point(xy[0])) and not f.no_tower[r[0], c[0]]
                        and d_v.min() < 4800.0 and d_s > 2000.0):
                    out.append(xy)
                    last = as_[j]
                    break
    return np.vstack(out) if out else np.empty((0, 2))


def place_sites(rng: np.random.Generator, f: Fields, grid: Grid, frames: Frames,
                outline: shapely.Polygon, communes: Communes, villages: Villages,
                centre5g: np.ndarray, p: TerrainParams) -> Locations:
    """Place about 500 BTS site locations, leaving the hidden valleys without towers.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator.
    f : Fields
        Terrain fields.
    grid : Grid
        The raster grid.
    frames : Frames
        Coordinate frames.
    outline : shapely.Polygon
        Province outline.
    communes : Communes
        Communes.
    villages : Villages
        Villages.
    centre5g : numpy.ndarray
        Indices of the communes whose centre gets a 5G site.
    p : TerrainParams
        Terrain parameters.

    Returns
    -------
    Locations
        Site locations and kinds.
    """
    zone = zone_of(f.c)
    cen = commune_centres(communes)[centre5g]
    xy = [cen]
    kinds = [np.full(len(cen), "centre5g")]
    vw = villages.population.astype(float)
    shadow = shadow_sites(villages, frames, p, outline, f, grid, np.vstack(xy))
    xy.append(shadow)
    kinds.append(np.full(len(shadow), "mountain"))
    specs = (
        ("plain", (zone == ZONE_PLAIN) & f.inside, 250, 2500.0, 1200.0, ZONE_PLAIN),
        ("hills", (zone == ZONE_HILLS) & f.inside & (f.rel > -10.0), 140, 3500.0, 1600.0,
         ZONE_HILLS),
        ("mountain", (zone == ZONE_MOUNTAIN) & f.inside & ~f.no_tower & (f.rel < -15.0)
         & (f.slope < 0.35), 75, 4500.0, 2300.0, ZONE_MOUNTAIN),
    )
    for kind, mask, n, cover, spacing, zi in specs:
        cand = draw_cells(rng, mask.astype(float), 4000, grid, frames)
        sel = villages.zone == zi
        pts = greedy_sites(rng, cand, villages.xy[sel], vw[sel], n, cover, spacing,
                           np.vstack(xy))
        xy.append(pts)
        kinds.append(np.full(len(pts), kind))
    # a few 2G-only towers inside hidden valleys (signal, but no mobile broadband)
    hid = np.flatnonzero(villages.hidden)
    top = hid[np.argsort(-villages.population[hid], kind="stable")]
    chosen = thin_points(villages.xy[top], 6000.0, 3)
    pts = villages.xy[top[chosen]] + rng.uniform(-150, 150, (len(chosen), 2))
    xy.append(pts)
    kinds.append(np.full(len(pts), "hidden2g"))
    # towers of the neighbouring provinces, just across the border
    ring = (~f.inside) & (zone != ZONE_MOUNTAIN)
    ring &= shapely.contains_xy(outline.buffer(3000.0), *frames.ll_to_work.transform(
        grid.lon, grid.lat))
    cand = draw_cells(rng, ring.astype(float), 400, grid, frames)
    cand = cand[~shapely.contains_xy(outline.buffer(300.0), cand[:, 0], cand[:, 1])]
    keep = thin_points(cand, 2500.0, 12, np.vstack(xy))
    xy.append(cand[keep])
    kinds.append(np.full(len(keep), "border"))
    return Locations(np.vstack(xy), np.concatenate(kinds))


@dataclass
class Cells:
    """One row per cell of ``bts.csv``."""

    rows: list[dict[str, Any]]
    loc_of_site: dict[str, int]
    shared_locations: int
    n_locations: int


def build_cells(rng: np.random.Generator, loc: Locations, frames: Frames) -> Cells:
    """Assign operators, shared locations and cells (technologies, sectors) to sites.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator.
    loc : Locations
        Site locations.
    frames : Frames
        Coordinate frames.

    Returns
    -------
    Cells
        Cell rows ready for the CSV.
    """
    lonlat = frames.work_to_lonlat(loc.xy)
    order = np.lexsort((lonlat[:, 0], -np.round(lonlat[:, 1], 2)))
    n = len(order)
    p_west = np.array([0.6, 0.25, 0.15])
    p_east = np.array([0.42, 0.32, 0.26])
    shareable = np.flatnonzero(np.isin(loc.kind, ["plain", "hills", "mountain", "centre5g"]))
    w = np.where(loc.kind[shareable] == "mountain", 0.5, 1.0)
    n_shared = round(0.12 * n)
    shared = set(rng.choice(shareable, size=n_shared, replace=False, p=w / w.sum()).tolist())
    rows: list[dict[str, Any]] = []
    loc_of_site: dict[str, int] = {}
    sid = 0

    def cell(site_id: str, op: str, tech: str, az: int | None, height: int, eirp: float,
             freq: int, lon: float, lat: float) -> None:
        rows.append({
            "site_id": site_id, "operator": op, "technology": tech,
            "azimuth_deg": "" if az is None else str(az),
            "beamwidth_deg": "" if az is None else "65",
            "height_m": str(height), "eirp_dbm": f"{eirp:.1f}", "frequency_mhz": str(freq),
            "lon": f"{lon:.6f}", "lat": f"{lat:.6f}",
        })

    def sectors(site_id: str, op: str, tech: str, height: int, lo: float, hi: float,
                freq: int, lon: float, lat: float) -> None:
        eirp = round(rng.uniform(lo, hi) * 2) / 2
        for az in (0, 120, 240):
            cell(site_id, op, tech, az, height, eirp, freq, lon, lat)

    for li in order:
        kind = str(loc.kind[li])
        west = kind in ("mountain", "hidden2g")
        probs = p_west if west else p_east
        op1 = OPERATORS[rng.choice(3, p=probs)]
        ops = [op1]
        if li in shared:
            rest = [o for o in OPERATORS if o != op1]
            pr = np.array([probs[OPERATORS.index(o)] for o in rest])
            ops.append(rest[rng.choice(2, p=pr / pr.sum())])
        for k, op in enumerate(ops):
            sid += 1
            site_id = f"TH-{sid:04d}"
            loc_of_site[site_id] = int(li)
            lon, lat = lonlat[li]
            if k > 0:  # the sharing operator's antennas: a few metres away
                ang = rng.uniform(0, 2 * np.pi)
                dist = rng.uniform(2.0, 8.0)
                lon += dist * np.cos(ang) / (111320.0 * np.cos(np.radians(lat)))
                lat += dist * np.sin(ang) / 110574.0
            lo_h, hi_h = (30, 45) if west else ((25, 40) if kind != "hills" else (25, 45))
            height = int(rng.integers(lo_h, hi_h + 1))
            u = rng.random()
            if kind == "hidden2g":
                cell(site_id, op, "2G", None, height, round(rng.uniform(50, 56), 1), 900,
                     lon, lat)
                continue
            legacy_only = kind == "mountain" and k == 0 and u < 0.25
            p2g = {"mountain": 0.6, "hills": 0.45, "plain": 0.3, "centre5g": 0.3,
                   "border": 0.3}[kind]
            p3g = {"mountain": 0.1, "hills": 0.2, "plain": 0.2, "centre5g": 0.3,
                   "border": 0.1}[kind]
            if legacy_only or rng.random() < p2g:
                if west or rng.random() < 0.5:
                    cell(site_id, op, "2G", None, height, round(rng.uniform(52, 57), 1), 900,
                         lon, lat)
                else:
                    sectors(site_id, op, "2G", height, 52, 57, 900, lon, lat)
            if (legacy_only and u < 0.12) or (not legacy_only and rng.random() < p3g):
                sectors(site_id, op, "3G", height, 53, 59, 2100, lon, lat)
            if not legacy_only:
                p700 = {"mountain": 0.35, "hills": 0.1}.get(kind, 0.0)
                freq = 700 if rng.random() < p700 else 1800
                sectors(site_id, op, "4G", height, 55, 62, freq, lon, lat)
            if kind == "centre5g" and k == 0:
                cell(site_id, op, "5G", None, height, round(rng.uniform(58, 62), 1), 3500,
                     lon, lat)
    return Cells(rows, loc_of_site, len(shared), n)


# --------------------------------------------------------------------------- fibre


def ca_line(c: np.ndarray, a: np.ndarray, frames: Frames) -> shapely.LineString:
    """Build a working-CRS line from ridge coordinates.

    Parameters
    ----------
    c, a : numpy.ndarray
        Ridge coordinates (km) of the vertices.
    frames : Frames
        Coordinate frames.

    Returns
    -------
    shapely.LineString
        The line.
    """
    kx, ky = unrotate(np.asarray(c), np.asarray(a))
    return shapely.LineString(frames.km_to_work(kx, ky))


def wiggle_line(rng: np.random.Generator, pts: np.ndarray, amp: float,
                step: float = 500.0) -> shapely.LineString:
    """Densify a polyline and offset it sideways by a smooth random wiggle.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator.
    pts : numpy.ndarray
        ``(n, 2)`` vertices.
    amp : float
        Wiggle amplitude (m).
    step : float
        Vertex spacing (m) after densifying.

    Returns
    -------
    shapely.LineString
        The wiggled line; its end points are unchanged.
    """
    line = shapely.segmentize(shapely.LineString(pts), step)
    xy = shapely.get_coordinates(line)
    seg = np.diff(xy, axis=0)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))])
    tang = np.gradient(xy, s, axis=0)
    norm = np.column_stack([-tang[:, 1], tang[:, 0]])
    norm /= np.hypot(norm[:, 0], norm[:, 1])[:, None]
    ph = rng.uniform(0, 2 * np.pi, 2)
    off = amp * (0.7 * np.sin(s / 2300.0 + ph[0]) + 0.3 * np.sin(s / 770.0 + ph[1]))
    off *= np.sin(np.pi * s / s[-1])  # pin the ends
    return shapely.LineString(xy + norm * off[:, None])


def spanning_forest(anchors: np.ndarray, pts: np.ndarray, max_edge: float) -> list[Any]:
    """Connect points to anchor points by a minimum spanning forest (Prim).

    Parameters
    ----------
    anchors : numpy.ndarray
        Points already on the network.
    pts : numpy.ndarray
        Points to connect.
    max_edge : float
        Longer edges are left out.

    Returns
    -------
    list of shapely.LineString
        One line per edge.
    """
    n = len(pts)
    if n == 0:
        return []
    best = np.hypot(pts[:, None, 0] - anchors[None, :, 0],
                    pts[:, None, 1] - anchors[None, :, 1])
    parent = anchors[best.argmin(1)].copy()
    best = best.min(1)
    done = np.zeros(n, dtype=bool)
    edges = []
    for _ in range(n):
        b = np.where(done, np.inf, best)
        j = int(np.argmin(b))
        done[j] = True
        if b[j] <= max_edge:
            edges.append(shapely.LineString([parent[j], pts[j]]))
        d = np.hypot(pts[:, 0] - pts[j, 0], pts[:, 1] - pts[j, 1])
        upd = (~done) & (d < best)
        best[upd] = d[upd]
        parent[upd] = pts[j]
    return edges


@dataclass
class Fibre:
    """Fibre features in the working CRS."""

    geom: list[Any]
    operator: list[str]
    kind: list[str]


def build_fibre(rng: np.random.Generator, frames: Frames, outline: shapely.Polygon,
                villages: Villages, communes: Communes, p: TerrainParams) -> Fibre:
    """Build fibre routes (backbones, valley roads, access trees) and nodes.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator.
    frames : Frames
        Coordinate frames.
    outline : shapely.Polygon
        Province outline.
    villages : Villages
        Villages.
    communes : Communes
        Communes.
    p : TerrainParams
        Terrain parameters.

    Returns
    -------
    Fibre
        Routes and nodes.
    """
    dc = district_centres(frames)
    area = outline.buffer(-200.0)
    feats: dict[str, list[Any]] = {op: [] for op in OPERATORS}
    nodes: dict[str, list[Any]] = {op: [] for op in OPERATORS}

    def clip(line: Any) -> list[Any]:
        g = shapely.intersection(line, area)
        return [x for x in shapely.get_parts(g) if x.geom_type == "LineString"
                and x.length > 300]

    # north-south backbone along the plain, through the plain towns
    c_n = 60.0
    north = unrotate(np.array([c_n - 4]), river_a(np.array([c_n])) + 40.0)
    south = unrotate(np.array([c_n + 10]), river_a(np.array([c_n])) - 30.0)
    bb = np.vstack([frames.km_to_work(*north), dc[4], dc[6], dc[5],
                    frames.km_to_work(*south)])
    for op, off, amp in (("Viettel", 0.0, 600.0), ("VNPT", 450.0, 700.0)):
        feats[op] += clip(wiggle_line(rng, bb + np.array([off, -off * 0.3]), amp))
    feats["MobiFone"] += clip(wiggle_line(rng, bb[1:4] + np.array([-380.0, 120.0]), 500.0))
    # the river road west, into the mountains
    for op, c_end, off in (("Viettel", -6.0, 0.55), ("VNPT", 18.0, 0.8), ("MobiFone", 38.0, 0.7)):
        cc = np.linspace(58.0, c_end, 160)
        feats[op] += clip(ca_line(cc, river_a(cc) + off, frames))
    # links to the hill towns
    for d in (2, 3):
        cc, _ = point_ca(dc[d:d + 1], frames)
        cr = np.array([cc[0] + 3.0])
        start = frames.km_to_work(*unrotate(cr, river_a(cr) + 0.6))[0]
        for op in ("Viettel", "VNPT"):
            feats[op] += clip(wiggle_line(rng, np.vstack([start, dc[d]]), 500.0))
    # valley roads (never into the hidden valleys)
    for k, side, length in VALLEY_ROADS:
        aa = np.linspace(0.0, length, 80)
        # the valley centre as a function of a: iterate c = mid(ridge k-1, ridge k)
        c = np.full_like(aa, 0.5 * (RIDGE_C[k - 1] + RIDGE_C[k]))
        for _ in range(6):
            rc = ridge_centres(river_a(c) + side * aa, p)
            c = 0.5 * (rc[k - 1] + rc[k])
        line = ca_line(c, river_a(c) + side * aa, frames)
        feats["Viettel"] += clip(line)
        if side * k % 2 == 1:
            feats["VNPT"] += clip(line)
    # access networks: spanning forests from the operator's routes to villages
    vxy = villages.xy
    zone = villages.zone
    u = rng.random((3, len(vxy)))
    share = {"Viettel": (0.55, 0.85, 0.9), "VNPT": (0.0, 0.5, 0.72), "MobiFone": (0.0, 0.0, 0.25)}
    for oi, op in enumerate(OPERATORS):
        routes = shapely.union_all(feats[op])
        anchors = shapely.get_coordinates(shapely.segmentize(routes, 1500.0))
        pm, ph_, pp = share[op]
        want = np.where(zone == ZONE_MOUNTAIN, pm, np.where(zone == ZONE_HILLS, ph_, pp))
        sel = (u[oi] < want) & ~villages.hidden
        if op == "Viettel":  # mountain villages only near a valley road
            dist = shapely.distance(shapely.points(vxy), routes)
            sel &= (zone != ZONE_MOUNTAIN) | (dist < 2500.0)
        edges = spanning_forest(anchors, vxy[sel], 4500.0 if op != "MobiFone" else 3000.0)
        merged = shapely.line_merge(shapely.multilinestrings(edges)) if edges else None
        access = list(shapely.get_parts(merged)) if merged is not None else []
        # nodes: towns, every ~5 km along the main routes, and some access points
        main = [g for g in feats[op] if g.length > 3000]
        for g in main:
            d = np.arange(2500.0, g.length, 5000.0)
            nodes[op] += list(shapely.line_interpolate_point(g, d))
        idx = np.flatnonzero(sel)
        pick = idx[rng.random(len(idx)) < 0.08]
        nodes[op] += list(shapely.points(vxy[pick]))
        feats[op] += access
    for op, ds in (("Viettel", range(len(DISTRICTS))), ("VNPT", (2, 3, 4, 5, 6)),
                   ("MobiFone", (4, 6))):
        for d in ds:
            nodes[op].append(shapely.Point(dc[d]))
    # commune centres of towns get a node for each operator with a route within 2 km
    centres = commune_centres(communes)
    for i, kind in enumerate(communes.kind):
        if kind == "Xã":
            continue
        for op in OPERATORS:
            if shapely.distance(shapely.Point(centres[i]), shapely.union_all(feats[op])) < 2000:
                nodes[op].append(shapely.Point(centres[i]))
    geom, opl, kind_l = [], [], []
    for op in OPERATORS:
        for g in feats[op]:
            geom.append(g)
            opl.append(op)
            kind_l.append("route")
        for g in nodes[op]:
            geom.append(g)
            opl.append(op)
            kind_l.append("node")
    return Fibre(geom, opl, kind_l)


# --------------------------------------------------------------------------- population raster


def population_raster(villages: Villages, grid: Grid, frames: Frames,
                      inside: np.ndarray) -> np.ndarray:
    """Spread each village's population over nearby cells with a gaussian kernel.

    Parameters
    ----------
    villages : Villages
        Villages.
    grid : Grid
        The raster grid.
    frames : Frames
        Coordinate frames.
    inside : numpy.ndarray
        Cells inside the province (others are nodata).

    Returns
    -------
    numpy.ndarray
        Float32 people per cell, -1 outside the province.
    """
    ll = frames.work_to_lonlat(villages.xy)
    row, col = grid.index(ll[:, 0], ll[:, 1])
    r = 8
    off = np.arange(-r, r + 1)
    orow, ocol = np.meshgrid(off, off, indexing="ij")
    rr = row[:, None] + orow.ravel()[None, :]
    cc = col[:, None] + ocol.ravel()[None, :]
    valid = (rr >= 0) & (rr < grid.ny) & (cc >= 0) & (cc < grid.nx)
    rr_c = np.clip(rr, 0, grid.ny - 1)
    cc_c = np.clip(cc, 0, grid.nx - 1)
    clon = (grid.col0 + cc_c + 0.5) * RES
    clat = (grid.row0 - rr_c - 0.5) * RES
    dx = (clon - ll[:, :1]) * 111320.0 * np.cos(np.radians(ll[:, 1:2]))
    dy = (clat - ll[:, 1:2]) * 110574.0
    d2 = dx**2 + dy**2
    sigma = np.where(villages.zone == ZONE_MOUNTAIN, 220.0, 280.0)[:, None]
    w = np.exp(-0.5 * d2 / sigma**2)
    w *= valid & (d2 <= 600.0**2) & inside[rr_c, cc_c]
    tot = w.sum(1, keepdims=True)
    if np.any(tot == 0):
        raise RuntimeError("a village has no populated cell in reach")
    w *= villages.population[:, None] / tot
    flat = (rr_c * grid.nx + cc_c).ravel()
    acc = np.bincount(flat, weights=w.ravel(), minlength=grid.nx * grid.ny)
    out = acc.reshape(grid.ny, grid.nx).astype(np.float32)
    out[~inside] = -1.0
    return out


# --------------------------------------------------------------------------- checks


def line_of_sight(dem: np.ndarray, grid: Grid, frames: Frames, vxy: np.ndarray,
                  sxy: np.ndarray, s_height: np.ndarray, max_d: float,
                  samples: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Check terrain line of sight from villages to nearby sites.

    Parameters
    ----------
    dem : numpy.ndarray
        Elevation grid (m).
    grid : Grid
        The raster grid.
    frames : Frames
        Coordinate frames.
    vxy, sxy : numpy.ndarray
        Village and site coordinates (working CRS).
    s_height : numpy.ndarray
        Antenna height above ground of each site (m).
    max_d : float
        Only pairs closer than this (m) are checked.
    samples : int
        Terrain samples per path.

    Returns
    -------
    tuple of numpy.ndarray
        Per village: any site within ``max_d``; any site within ``max_d`` in sight.
    """
    d = np.hypot(vxy[:, None, 0] - sxy[None, :, 0], vxy[:, None, 1] - sxy[None, :, 1])
    vi, si = np.nonzero(d < max_d)
    in_range = np.zeros(len(vxy), dtype=bool)
    in_range[vi] = True
    if len(vi) == 0:
        return in_range, np.zeros(len(vxy), dtype=bool)
    vll = frames.work_to_lonlat(vxy)
    sll = frames.work_to_lonlat(sxy)
    vr, vc = grid.index(vll[:, 0], vll[:, 1])
    sr, sc = grid.index(sll[:, 0], sll[:, 1])
    hv = dem[vr, vc][vi] + 1.5
    hs = dem[sr, sc][si] + s_height[si]
    t = np.linspace(0.0, 1.0, samples + 2)[1:-1]
    lon = vll[vi, :1] + (sll[si, :1] - vll[vi, :1]) * t
    lat = vll[vi, 1:] + (sll[si, 1:] - vll[vi, 1:]) * t
    r, c = grid.index(lon, lat)
    terrain = dem[r, c]
    dist = d[vi, si][:, None]
    line = hv[:, None] + (hs - hv)[:, None] * t
    bulge = (t * dist) * ((1 - t) * dist) / (2 * 8.5e6)
    near_end = (t * dist < 150.0) | ((1 - t) * dist < 150.0)
    blocked = ((terrain + bulge > line) & ~near_end).any(1)
    visible = np.zeros(len(vxy), dtype=bool)
    visible[vi[~blocked]] = True
    return in_range, visible


# --------------------------------------------------------------------------- writing


def write_outputs(out: Path, grid: Grid, dem: np.ndarray, pop: np.ndarray,
                  communes: Communes, villages: Villages, cells: Cells, fibre: Fibre,
                  frames: Frames) -> dict[str, Path]:
    """Write all sample files.

    Parameters
    ----------
    out : Path
        Output folder.
    grid : Grid
        The raster grid.
    dem : numpy.ndarray
        Int16 elevation.
    pop : numpy.ndarray
        Float32 population per cell.
    communes : Communes
        Communes.
    villages : Villages
        Villages.
    cells : Cells
        BTS cells.
    fibre : Fibre
        Fibre features.
    frames : Frames
        Coordinate frames.

    Returns
    -------
    dict of str to Path
        The files written.
    """
    paths = {
        "communes": out / "boundaries" / "communes.gpkg",
        "villages": out / "boundaries" / "villages.gpkg",
        "bts": out / "sites" / "bts.csv",
        "fibre": out / "sites" / "fibre.gpkg",
        "dem": out / "rasters" / "dem.tif",
        "population": out / "rasters" / "population.tif",
        "places": out / "boundaries" / "places.csv",
    }
    for pth in paths.values():
        pth.parent.mkdir(parents=True, exist_ok=True)
        if pth.suffix == ".gpkg" and pth.exists():
            pth.unlink()
    vn = frames.vn_crs

    def to_vn(xy: np.ndarray) -> np.ndarray:
        ll = frames.work_to_lonlat(xy)
        x, y = frames.ll_to_vn.transform(ll[:, 0], ll[:, 1])
        return np.round(np.column_stack([x, y]), 3)

    def to_ll(xy: np.ndarray) -> np.ndarray:
        return np.round(frames.work_to_lonlat(xy), 7)

    cg = gpd.GeoDataFrame({
        "commune_code": communes.code,
        "commune_name": communes.name,
        "region": communes.region,
        "district": communes.district,
    }, geometry=transform_geoms(communes.geom, to_vn), crs=vn)
    cg = cg.sort_values("commune_code").reset_index(drop=True)
    cg.to_file(paths["communes"], layer="communes", driver="GPKG", engine="pyogrio")

    code = np.array(communes.code)[villages.commune]
    vg = gpd.GeoDataFrame({
        "village_id": villages.vid,
        "village_name": villages.name,
        "commune_code": code,
        "population": villages.population.astype(np.int64),
        "households": villages.households.astype(np.int64),
        "difficult": villages.difficult.astype(bool),
    }, geometry=shapely.points(to_vn(villages.xy)), crs=vn)
    # the containing polygon in the written CRS is the truth for commune_code
    joined = gpd.sjoin(vg[["geometry"]], cg[["commune_code", "geometry"]],
                       predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    if not (joined["commune_code"].to_numpy() == vg["commune_code"].to_numpy()).all():
        raise RuntimeError("village commune_code disagrees with the containing polygon")
    vg.to_file(paths["villages"], layer="villages", driver="GPKG", engine="pyogrio")

    with paths["bts"].open("w", encoding="utf-8", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, lineterminator="\n")
        wr.writeheader()
        wr.writerows(cells.rows)

    fg = gpd.GeoDataFrame({
        "operator": fibre.operator,
        "kind": fibre.kind,
        "fibre_id": [f"FO-{i + 1:05d}" for i in range(len(fibre.geom))],
    }, geometry=transform_geoms(np.asarray(fibre.geom, dtype=object), to_ll), crs="EPSG:4326")
    fg.to_file(paths["fibre"], layer="fibre", driver="GPKG", engine="pyogrio",
               geometry_type="Unknown")

    write_places(paths["places"], communes, frames)

    common = {"driver": "GTiff", "width": grid.nx, "height": grid.ny, "count": 1,
              "crs": "EPSG:4326", "transform": grid.transform, "tiled": True,
              "blockxsize": 256, "blockysize": 256, "compress": "deflate"}
    with rasterio.open(paths["dem"], "w", dtype="int16", nodata=-32768, predictor=2,
                       **common) as dst:
        dst.write(dem, 1)
        dst.update_tags(DESCRIPTION="SYNTHETIC elevation of the sample province Tỉnh Mẫu "
                        "(scripts/make_sample_data.py, seed 2025), metres", UNITS="m")
    with rasterio.open(paths["population"], "w", dtype="float32", nodata=-1.0, predictor=3,
                       **common) as dst:
        dst.write(pop, 1)
        dst.update_tags(DESCRIPTION="SYNTHETIC population of the sample province Tỉnh Mẫu "
                        "(scripts/make_sample_data.py, seed 2025), people per cell",
                        UNITS="people per cell")
    return paths


# --------------------------------------------------------------------------- places

#: (district index, kind, name) of the sample's places beside the commune centres: the
#: district hospitals, and an industrial zone and a bus station by the Thị xã.
OTHER_PLACES: tuple[tuple[int, str, str, tuple[float, float]], ...] = (
    (2, "health", "Trung tâm Y tế khu vực Mường Khê", (350.0, 200.0)),
    (4, "health", "Trung tâm Y tế khu vực Ngọc Sơn", (-300.0, 250.0)),
    (6, "health", "Bệnh viện Đa khoa thị xã", (400.0, -300.0)),
    (6, "industrial_zone", "Khu công nghiệp phía Nam", (0.0, -3400.0)),
    (6, "transport_hub", "Bến xe khách thị xã", (-900.0, 600.0)),
)


def write_places(path: Path, communes: Communes, frames: Frames) -> None:
    """Write the places layer: every commune's centre (UBND), town centres, hospitals.

    The UBND of a commune stands at its centre (:func:`commune_centres`, where the
    centres' 5G cells stand); the centre of a town (thị trấn, phường) is listed again as
    ``town_centre``.
    No random numbers are drawn, so the other sample files stay as they were.

    Parameters
    ----------
    path : Path
        The CSV to write (WGS84 lon/lat).
    communes : Communes
    frames : Frames
    """
    rows = []
    centres = commune_centres(communes)  # where the 5G cells of the centres stand
    for i in np.argsort(np.array(communes.code), kind="stable"):
        xy = centres[i]
        # "Xã Khoa Sáy" -> "UBND xã Khoa Sáy"
        name = communes.name[i].replace(communes.kind[i], communes.kind[i].lower(), 1)
        rows.append((f"UB-{communes.code[i]}", f"UBND {name}", "commune_centre", xy))
        if communes.kind[i] != "Xã":
            rows.append((f"TT-{communes.code[i]}", f"Trung tâm {name}", "town_centre", xy))
    cent = district_centres(frames)
    for k, (district, kind, name, (dx, dy)) in enumerate(OTHER_PLACES):
        rows.append((f"PL-{k + 1:03d}", name, kind, cent[district] + np.array([dx, dy])))
    xy = np.array([r[3] for r in rows])
    ll = np.round(frames.work_to_lonlat(xy), 6)
    inside = shapely.contains_xy(shapely.union_all(communes.geom), xy[:, 0], xy[:, 1])
    if not inside.all():
        raise RuntimeError("a sample place lies outside the communes")
    with path.open("w", encoding="utf-8", newline="") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(["place_id", "name", "kind", "lon", "lat"])
        for (pid, name, kind, _), (lon, lat) in zip(rows, ll, strict=True):
            wr.writerow([pid, nfc(name), kind, f"{lon:.6f}", f"{lat:.6f}"])
# --------------------------------------------------------------------------- measurements

#: The known truth the sample's measurements are drawn from: the pathloss model's own
#: signal (Hata, no terrain) offset by this bias, plus log-normal shadow fading of this
#: sigma.  A calibrated run should find the bias back (docs/guide.md, chapter 10).
MEASURED_BIAS_DB = -4.0
MEASURED_SIGMA_DB = 6.0
MEASUREMENT_COLUMNS = ("test_id", "operator", "technology", "rsrp_dbm", "download_mbps",
                       "upload_mbps", "latency_ms", "measured_at", "source", "lon", "lat")


def make_measurements(seed: int, cells: Cells, fibre: Fibre, communes: Communes,
                      frames: Frames) -> list[dict[str, str]]:
    """Drive tests along the longest fibre route (it follows a road), crowd tests in towns.

    The RSRP is the strongest omni 4G cell's Hata signal (covgap's defaults: rural, the
    4G reference-signal offset) plus :data:`MEASURED_BIAS_DB` and shadow fading of
    :data:`MEASURED_SIGMA_DB`; the download speed grows with the signal.  Drawn from
    their own generator (seed + 13) so the other files do not change.
    """
    from covgap.config import CoverageConfig
    from covgap.coverage.propagation import hata_loss_db

    rng = np.random.default_rng(seed + 13)
    ref_db = CoverageConfig().reference_signal_db["4G"]
    rows = pd.DataFrame(cells.rows)
    lte = rows[rows["technology"] == "4G"].copy()
    sx, sy = frames.ll_to_work.transform(lte["lon"].astype(float).to_numpy(),
                                         lte["lat"].astype(float).to_numpy())
    lte["x"], lte["y"] = sx, sy
    lte = lte.drop_duplicates(["site_id", "operator"])

    def rsrp(op: str, xy: np.ndarray) -> np.ndarray:
        own = lte[lte["operator"] == op]
        d = np.hypot(xy[:, :1] - own["x"].to_numpy()[None, :],
                     xy[:, 1:] - own["y"].to_numpy()[None, :])
        loss = hata_loss_db(d, 1800.0, tx_height_m=own["height_m"].astype(float).to_numpy())
        best = (own["eirp_dbm"].astype(float).to_numpy() - ref_db - loss).max(axis=1)
        return best + MEASURED_BIAS_DB + rng.normal(0.0, MEASURED_SIGMA_DB, len(xy))

    routes = [g for g, k in zip(fibre.geom, fibre.kind, strict=True) if k == "route"]
    road = max(routes, key=lambda g: g.length)
    along = np.arange(0.0, road.length, 250.0)
    drive = np.array([(pt.x, pt.y) for pt in (road.interpolate(t) for t in along)])
    towns = np.array([xy for xy, k in zip(communes.seed_xy, communes.kind, strict=True)
                      if k != "Xã"])
    out: list[dict[str, str]] = []

    def add(xy: np.ndarray, op: str, tech: str, level: np.ndarray | None,
            speed: np.ndarray, source: str, day: str) -> None:
        ll = np.column_stack(frames.work_to_ll.transform(xy[:, 0], xy[:, 1]))
        for k in range(len(xy)):
            if level is not None and not -140.0 <= level[k] <= -44.0:
                continue  # a phone reports nothing outside its range
            out.append({
                "test_id": f"M{len(out) + 1:05d}", "operator": op, "technology": tech,
                "rsrp_dbm": "" if level is None else f"{level[k]:.0f}",
                "download_mbps": f"{speed[k]:.1f}", "upload_mbps": f"{speed[k] / 4:.1f}",
                "latency_ms": f"{rng.uniform(18, 60):.0f}",
                "measured_at": f"{day}T{8 + k // 120:02d}:{(k // 2) % 60:02d}",
                "source": source, "lon": f"{ll[k, 0]:.6f}", "lat": f"{ll[k, 1]:.6f}"})

    def mbps(level: np.ndarray) -> np.ndarray:
        return np.clip(2.0 + 2.2 * (level + 118.0), 0.5, 150.0) * rng.lognormal(0, 0.3,
                                                                                  len(level))

    for op, day in (("Viettel", "2025-05-12"), ("VNPT", "2025-05-13")):
        level = rsrp(op, drive)
        add(drive, op, "4G", level, mbps(level), "drive_test", day)
    for t, centre in enumerate(towns):
        n = 24
        r = 1500.0 * np.sqrt(rng.uniform(0, 1, n))
        a = rng.uniform(0, 2 * np.pi, n)
        xy = centre + np.column_stack([r * np.cos(a), r * np.sin(a)])
        ops = rng.choice(["Viettel", "VNPT", "MobiFone"], n)
        for op in ("Viettel", "VNPT", "MobiFone"):
            sel = ops == op
            level = rsrp(op, xy[sel])
            add(xy[sel], op, "4G", level, mbps(level), "crowd", f"2025-06-{t + 1:02d}")
        fixed = xy[:4]
        add(fixed, "VNPT", "FTTH", None, rng.uniform(80, 300, len(fixed)), "crowd",
            f"2025-06-{t + 1:02d}")
    return out


# --------------------------------------------------------------------------- main


def generate(out: Path, seed: int = SEED, verbose: bool = True) -> dict[str, Any]:
    """Generate the whole sample into ``out`` and return summary figures.

    Parameters
    ----------
    out : Path
        Output folder (created if needed).
    seed : int
        Random seed.
    verbose : bool
        Print the summary.

    Returns
    -------
    dict
        Summary figures (counts, totals, file sizes).
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    frames = make_frames()
    params = make_terrain_params(rng)
    outline = province_outline(rng, frames)
    outline_ll = transform_geoms(outline, frames.work_to_lonlat)
    grid = make_grid(outline_ll.bounds)
    kx, ky = frames.ll_to_km(grid.lon, grid.lat)
    dem_f = build_dem(rng, params, kx, ky)
    dem = np.round(dem_f).astype(np.int16)
    c, a = rotate(kx, ky)
    gy_m = RES * 110574.0
    gx_m = RES * 111320.0 * np.cos(np.radians(grid.lat))
    dzdy, dzdx = np.gradient(dem_f)
    slope = np.hypot(dzdx / gx_m, dzdy / gy_m)
    rel = dem_f - box_blur(dem_f, 16)
    inside = rasterize([(outline_ll, 1)], out_shape=(grid.ny, grid.nx),
                       transform=grid.transform, fill=0, dtype="uint8").astype(bool)
    inner_ll = transform_geoms(outline.buffer(-300.0), frames.work_to_lonlat)
    inner = rasterize([(inner_ll, 1)], out_shape=(grid.ny, grid.nx),
                      transform=grid.transform, fill=0, dtype="uint8").astype(bool)
    f = Fields(dem_f, c, a, slope, rel, inside, inner, hidden_mask(c, a, params),
               hidden_mask(c, a, params, margin=1.0, with_ridges=True))

    towns = forced_town_points(frames)
    depth = shapely.distance(shapely.points(towns), outline.exterior)
    if not (shapely.contains_xy(outline, towns[:, 0], towns[:, 1]).all() and depth.min() > 2000):
        raise RuntimeError("a town centre is outside or too close to the province edge")
    vxy, vzone = place_villages(rng, f, grid, frames, towns)
    vll = frames.work_to_lonlat(vxy)
    velev = dem_f[grid.index(vll[:, 0], vll[:, 1])]
    communes = build_communes(rng, vxy, vzone, velev, outline, frames, len(towns))
    villages = build_villages(rng, vxy, vzone, communes, frames, params)

    # 5G at the centres of the wards, townships and the most populous plain communes
    com_pop = np.bincount(villages.commune, weights=villages.population,
                          minlength=len(communes.code))
    towns_idx = [i for i, k in enumerate(communes.kind) if k != "Xã"]
    plain = [i for i in np.argsort(-com_pop, kind="stable")
             if communes.kind[i] == "Xã" and communes.zone[i] == ZONE_PLAIN]
    centre5g = np.array(towns_idx + plain[: 15 - len(towns_idx)])
    loc = place_sites(rng, f, grid, frames, outline, communes, villages, centre5g, params)
    cells = build_cells(rng, loc, frames)
    fibre = build_fibre(rng, frames, outline, villages, communes, params)
    pop = population_raster(villages, grid, frames, inside)
    paths = write_outputs(out, grid, dem, pop, communes, villages, cells, fibre, frames)
    measured = make_measurements(seed, cells, fibre, communes, frames)
    paths["measurements"] = out / "sites" / "measurements.csv"
    with paths["measurements"].open("w", encoding="utf-8", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=MEASUREMENT_COLUMNS, lineterminator="\n")
        wr.writeheader()
        wr.writerows(measured)

    # ---- summary
    rows = pd.DataFrame(cells.rows)
    mbb = rows[rows["technology"].isin(["4G", "5G"])].drop_duplicates("site_id")
    s_ll = mbb[["lon", "lat"]].astype(float).to_numpy()
    sx, sy = frames.ll_to_work.transform(s_ll[:, 0], s_ll[:, 1])
    sxy = np.column_stack([sx, sy])
    s_h = mbb["height_m"].astype(float).to_numpy()
    in5, vis5 = line_of_sight(dem.astype(float), grid, frames, villages.xy, sxy, s_h, 5000.0)
    _, vis10 = line_of_sight(dem.astype(float), grid, frames, villages.xy, sxy, s_h, 10000.0)
    fib = shapely.union_all(np.asarray(fibre.geom, dtype=object))
    fdist = shapely.distance(shapely.points(villages.xy), fib)
    region_v = np.array(communes.region)[villages.commune]
    by_tech = rows.groupby("technology").size().to_dict()
    routes = [g for g, k in zip(fibre.geom, fibre.kind, strict=True) if k == "route"]
    summary: dict[str, Any] = {
        "communes": len(communes.code),
        "communes_by_region": {r: communes.region.count(r) for r in ("I", "II", "III")},
        "communes_by_kind": {k: communes.kind.count(k) for k in ("Xã", "Phường", "Thị trấn")},
        "villages": len(villages.vid),
        "villages_by_zone": {ZONE_NAMES[z]: int((villages.zone == z).sum()) for z in range(3)},
        "villages_in_region_III": int((region_v == "III").sum()),
        "villages_difficult": int(villages.difficult.sum()),
        "population": int(villages.population.sum()),
        "households": int(villages.households.sum()),
        "population_raster_sum": round(float(pop[pop > 0].astype(np.float64).sum()), 1),
        "site_locations": cells.n_locations,
        "site_ids": len(cells.loc_of_site),
        "shared_locations": cells.shared_locations,
        "shared_pct": round(100.0 * cells.shared_locations / cells.n_locations, 1),
        "cells": len(rows),
        "cells_by_technology": by_tech,
        "site_locations_by_kind": {
            k: int((loc.kind == k).sum())
            for k in ("centre5g", "plain", "hills", "mountain", "hidden2g", "border")},
        "fibre_routes": len(routes),
        "fibre_nodes": fibre.kind.count("node"),
        "fibre_route_km": round(sum(g.length for g in routes) / 1000.0, 1),
        "villages_over_1km_from_fibre": int((fdist > 1000).sum()),
        "villages_in_hidden_valleys": int(villages.hidden.sum()),
        "villages_within_5km_of_4g5g": int(in5.sum()),
        "villages_within_5km_no_line_of_sight": int((in5 & ~vis5).sum()),
        "villages_no_line_of_sight_within_10km": int((~vis10).sum()),
        "elevation_min_m": int(dem.min()),
        "elevation_max_m": int(dem.max()),
        "grid": f"{grid.nx} x {grid.ny} cells, west {grid.west:.6f} north {grid.north:.6f}",
        "bounds_lonlat": tuple(round(v, 4) for v in outline_ll.bounds),
        "file_sizes": {k: v.stat().st_size for k, v in paths.items()},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    summary["total_bytes"] = sum(summary["file_sizes"].values())
    if verbose:
        print_summary(summary, out)
    return summary


def print_summary(summary: dict[str, Any], out: Path) -> None:
    """Print the summary figures.

    Parameters
    ----------
    summary : dict
        As returned by :func:`generate`.
    out : Path
        Output folder.
    """
    print(f"SYNTHETIC sample province 'Tỉnh Mẫu' written to {out}")
    for key, value in summary.items():
        if key == "file_sizes":
            for name, size in value.items():
                print(f"  file {name:<11} {size / 1024:8.1f} KiB")
        else:
            print(f"  {key:<40} {value}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: the repository's data/)")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed (default 2025)")
    args = parser.parse_args(argv)
    generate(args.out, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
