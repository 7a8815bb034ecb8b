"""Coordinate reference systems: VN-2000 shorthands and the run's metric CRS.

Official Vietnamese data are in VN-2000: geographic (EPSG:4756), UTM zones 48N/49N
(EPSG:3405/3406), or a province's own 3-degree transverse Mercator zone (TM-3, scale
0.9999, the province's central meridian).  Operators' site lists are usually WGS84.
covgap reads everything into WGS84 (EPSG:4326) and measures distances and areas in one
projected metric CRS per run.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import TransverseMercatorConversion
from pyproj.exceptions import CRSError

__all__ = [
    "WGS84",
    "choose_metric_crs",
    "parse_crs",
    "project_xy",
    "vn2000_tm3",
]

WGS84 = CRS.from_epsg(4326)

_TM3 = re.compile(
    r"^\s*VN-?2000\s*[:/ ]\s*TM-?3\s*[:/ ]\s*(?P<deg>\d{2,3})(?:[.,](?P<frac>\d+))?"
    r"(?:\s*[°d]\s*(?P<min>\d{1,2})\s*['m]?)?\s*$",
    re.IGNORECASE,
)


def vn2000_tm3(central_meridian_deg: float) -> CRS:
    """Return a province's VN-2000 3-degree transverse Mercator CRS.

    Parameters
    ----------
    central_meridian_deg : float
        The province's central meridian in decimal degrees, e.g. 105.0 for Thanh Hóa,
        107.0 for thành phố Huế, 105.5 for 105°30'.

    Returns
    -------
    pyproj.CRS
        Transverse Mercator, scale 0.9999, false easting 500 km, on the VN-2000 datum
        (EPSG:4756).  PROJ converts it to WGS84 with EPSG's "VN-2000 to WGS 84 (2)", the
        seven parameters of Quyết định 05/2007/QĐ-BTNMT (coordinate-frame rotations).

    Examples
    --------
    >>> float(vn2000_tm3(105.0).to_dict()["lon_0"])
    105.0
    """
    if not 100.0 <= central_meridian_deg <= 112.0:
        raise ValueError(
            f"central meridian {central_meridian_deg} is not a Vietnamese province's "
            "(expected 102.0-109.5 degrees)")
    degrees = int(central_meridian_deg)
    minutes = round((central_meridian_deg - degrees) * 60)
    # TCVN/Thông tư 973/2001/TT-TCĐC: provincial 3-degree zones, scale factor 0.9999
    conversion = TransverseMercatorConversion(
        latitude_natural_origin=0.0, longitude_natural_origin=central_meridian_deg,
        false_easting=500000.0, false_northing=0.0, scale_factor_natural_origin=0.9999)
    return ProjectedCRS(conversion=conversion, geodetic_crs=CRS.from_epsg(4756),
                        name=f"VN-2000 / TM-3 {degrees}-{minutes:02d}")


def parse_crs(text: str | int | CRS) -> CRS:
    """Parse a CRS from an EPSG code, PROJ string, WKT or a VN-2000 TM-3 shorthand.

    Parameters
    ----------
    text : str, int or pyproj.CRS
        ``"EPSG:3405"``, ``4326``, a PROJ string, WKT, or ``"VN2000:TM3:105"`` /
        ``"VN-2000 TM-3 105°30'"`` for a provincial TM-3 zone.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    ValueError
        When the text is not a CRS pyproj understands.

    Examples
    --------
    >>> float(parse_crs("VN2000:TM3:107").to_dict()["lon_0"])
    107.0
    >>> parse_crs("EPSG:3405").name
    'VN-2000 / UTM zone 48N'
    """
    if isinstance(text, CRS):
        return text
    if isinstance(text, str):
        m = _TM3.match(text)
        if m:
            deg = float(m["deg"] + ("." + m["frac"] if m["frac"] else ""))
            if m["min"]:
                deg += int(m["min"]) / 60.0
            return vn2000_tm3(deg)
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise ValueError(
            f"{text!r} is not a CRS: give an EPSG code (\"EPSG:3405\"), a PROJ string, WKT, "
            f"or \"VN2000:TM3:<central meridian>\" ({exc})") from None


def choose_metric_crs(lon: np.ndarray, configured: str = "auto") -> CRS:
    """Choose the run's projected metric CRS.

    Parameters
    ----------
    lon : array of float
        Longitudes (WGS84 degrees) of the province's features, e.g. commune centroids.
    configured : str
        ``"auto"`` or a CRS accepted by :func:`parse_crs` (must be projected, in metres).

    Returns
    -------
    pyproj.CRS
        With ``"auto"``: WGS84 UTM zone 48N (EPSG:32648) when the median longitude is
        west of 108 degrees E, else zone 49N (EPSG:32649).

    Raises
    ------
    ValueError
        A configured CRS that is geographic or not in metres.

    Examples
    --------
    >>> choose_metric_crs(np.array([105.3])).to_epsg()
    32648
    """
    if configured != "auto":
        crs = parse_crs(configured)
        unit = crs.axis_info[0].unit_name if crs.axis_info else ""
        if not crs.is_projected or unit not in ("metre", "meter"):
            raise ValueError(
                f"metric_crs {configured!r} must be a projected CRS in metres "
                f"(got {crs.name}, unit {unit or 'unknown'}); e.g. \"EPSG:32648\" or "
                "\"VN2000:TM3:105\"")
        return crs
    lon = np.asarray(lon, dtype=float)
    lon = lon[np.isfinite(lon)]
    centre = float(np.median(lon)) if lon.size else 105.0
    # UTM 48N spans 102-108 E, 49N spans 108-114 E: the zone of the province's centre.
    return CRS.from_epsg(32648 if centre < 108.0 else 32649)


def project_xy(points: np.ndarray, crs: Any, to_crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return the coordinates of points in another CRS: ``to_crs(...).x`` and ``.y``.

    The numbers of ``GeoSeries.to_crs`` (the same always-xy pyproj transformation of
    each coordinate) without building the projected geometries; NaN where a point is
    missing or empty.

    Parameters
    ----------
    points : array of shapely Points
    crs, to_crs : pyproj.CRS or anything it accepts
        The points' CRS and the one wanted.

    Returns
    -------
    (x, y) : arrays of float
        In ``to_crs`` units.

    Examples
    --------
    >>> from shapely import Point
    >>> x, y = project_xy(np.array([Point(105.0, 0.0), None]), 4326, 32648)
    >>> round(float(x[0]), 3), float(y[0]), bool(np.isnan(x[1]))
    (500000.0, 0.0, True)
    """
    points = np.asarray(points, dtype=object)
    x, y = np.full(len(points), np.nan), np.full(len(points), np.nan)
    # GEOS refuses the x of an empty point: read the non-empty points only
    has = ~shapely.is_missing(points) & ~shapely.is_empty(points)
    has[has] = shapely.get_type_id(points[has]) == 0
    x[has], y[has] = shapely.get_x(points[has]), shapely.get_y(points[has])
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any() or CRS.from_user_input(crs).is_exact_same(CRS.from_user_input(to_crs)):
        return np.where(ok, x, np.nan), np.where(ok, y, np.nan)
    to = Transformer.from_crs(crs, to_crs, always_xy=True)
    px, py = np.full(len(x), np.nan), np.full(len(y), np.nan)
    px[ok], py[ok] = to.transform(x[ok], y[ok])
    return px, py

