"""FTTH reach: how far each village is from the fibre network, per operator.

A village counts as FTTH-ready (thôn được phủ băng rộng cố định) when its point, the
village cultural house (nhà văn hóa thôn) if the data give one, else a point inside the
village, lies within ``[rules] ftth_max_distance_m`` of any operator's fibre route or
node.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

__all__ = ["fibre_reach", "lacks_ftth", "village_points"]

#: Optional village columns locating the cultural house, WGS84 degrees.
HOUSE_COLUMNS = ("cultural_house_lon", "cultural_house_lat")


def lacks_ftth(ftth: pd.Series) -> pd.Series:
    """Return True where a village is known to lack FTTH.

    ``ftth`` is NA without a fibre layer: unknown, so not a gap.

    Examples
    --------
    >>> lacks_ftth(pd.Series([True, False, pd.NA], dtype="boolean")).tolist()
    [False, True, False]
    """
    return (~ftth.astype("boolean")).fillna(False).astype(bool)


def village_points(villages: gpd.GeoDataFrame, metric_crs: CRS) -> gpd.GeoSeries:
    """Return each village's point in ``metric_crs``: its cultural house, else a point on it.

    Parameters
    ----------
    villages : GeoDataFrame
        Checked villages in EPSG:4326; ``cultural_house_lon``/``cultural_house_lat``
        are used where both are given.
    metric_crs : pyproj.CRS

    Returns
    -------
    GeoSeries
        Points in ``metric_crs``, indexed like ``villages``.
    """
    points = villages.geometry.representative_point()
    if all(c in villages for c in HOUSE_COLUMNS):
        lon = pd.to_numeric(villages[HOUSE_COLUMNS[0]], errors="coerce")
        lat = pd.to_numeric(villages[HOUSE_COLUMNS[1]], errors="coerce")
        has = lon.notna() & lat.notna()
        house = gpd.GeoSeries(gpd.points_from_xy(lon, lat), index=villages.index,
                              crs=villages.crs)
        points = points.where(~has, house)
    return gpd.GeoSeries(points, index=villages.index, crs=villages.crs).to_crs(metric_crs)


def fibre_reach(points: gpd.GeoSeries, fibre: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Distance from each village point to the nearest fibre feature, per operator.

    Parameters
    ----------
    points : GeoSeries
        Village points in a metric CRS (:func:`village_points`).
    fibre : GeoDataFrame or None
        Checked fibre routes and nodes (any CRS; ``operator``, ``kind``, optional
        ``fibre_id``).

    Returns
    -------
    DataFrame
        Indexed like ``points``: ``fibre_distance_m`` (metres to the nearest feature of
        any operator; NaN without a fibre layer), ``fibre_operator``, ``fibre_kind``
        ("route"/"node"), ``fibre_id`` of that feature, and one
        ``fibre_distance_<operator>_m`` column per operator.
    """
    out = pd.DataFrame(index=points.index)
    out["fibre_distance_m"] = np.nan
    out["fibre_operator"] = pd.Series(pd.NA, index=points.index, dtype="string")
    out["fibre_kind"] = pd.Series(pd.NA, index=points.index, dtype="string")
    out["fibre_id"] = pd.Series(pd.NA, index=points.index, dtype="string")
    if fibre is None or fibre.empty or points.empty:
        return out
    fibre = fibre.to_crs(points.crs).reset_index(drop=True)
    geoms = points.to_numpy()
    for operator, part in fibre.groupby("operator", sort=True):
        (which, feature), dist = part.sindex.nearest(geoms, return_distance=True,
                                                     return_all=False)
        column = np.full(len(points), np.nan)
        column[which] = dist
        kind = np.full(len(points), None, dtype=object)
        kind[which] = part["kind"].to_numpy()[feature]
        ident = np.full(len(points), None, dtype=object)
        if "fibre_id" in part:
            ident[which] = part["fibre_id"].to_numpy()[feature]
        out[f"fibre_distance_{operator}_m"] = column
        nearer = column < out["fibre_distance_m"].fillna(np.inf).to_numpy()
        out.loc[nearer, "fibre_distance_m"] = column[nearer]
        out.loc[nearer, "fibre_operator"] = operator
        out.loc[nearer, "fibre_kind"] = kind[nearer]
        out.loc[nearer, "fibre_id"] = ident[nearer]
    return out
