"""Places: commune centres, town centres, zones, hospitals, ... and their 5G and fibre.

Seed 001's 2025 targets put 5G at the centres of towns and cities and at the Nghi Sơn
economic zone, and (II.1.b) at hospitals, universities, tourist sites and transport
hubs.  The ``places`` layer (:func:`covgap.io.layers.read_places`) gives those points;
this module measures each one against the run's coverage and fibre:

- ``places.csv``: each place with 5G and 4G at its point (any operator, and which), and
  its distance to fibre;
- ``places_5g_pct.<kind>`` and ``places_fibre_pct.<kind>``: places of a kind with 5G
  (with fibre within ``[rules] ftth_max_distance_m``) / places of that kind x 100;
- commune centres for ``commune_centres_5g_pct``: the ``commune_centre`` places, else
  the communes' ``centre_lon``/``centre_lat``.  A commune with neither has no centre:
  it is left out of the indicator, never given a guessed point.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from covgap.analysis.fibre import fibre_reach
from covgap.analysis.flags import covered_at
from covgap.analysis.indicators import Figure, exact_percent
from covgap.coverage import Coverage

__all__ = ["PLACE_COLUMNS", "commune_centres", "place_figures", "place_table"]

#: The columns of ``places.csv``, in order.
PLACE_COLUMNS: tuple[str, ...] = (
    "place_id", "name", "kind", "commune_code", "lon", "lat", "has_5g", "operators_5g",
    "has_4g", "operators_4g", "fibre_distance_m", "fibre_operator", "fibre")


def _operators_at(points: np.ndarray, coverage: Coverage, technology: str,
                  operators: list[str]) -> tuple[np.ndarray, pd.Series]:
    """Whether any operator's ``technology`` covers each point, and which (";"-joined)."""
    names = pd.Series("", index=range(len(points)), dtype=object)
    keys = set(coverage.keys())
    for op in operators:
        if (op, technology) in keys:
            hit = covered_at(points, coverage, [(op, technology)])
            names = names.where(~hit, names + np.where(names == "", "", ";") + op)
    return (names != "").to_numpy(), names.astype("string")


def place_table(places: gpd.GeoDataFrame, coverage: Coverage,
                fibre: gpd.GeoDataFrame | None, metric_crs: CRS, *,
                ftth_max_distance_m: float) -> pd.DataFrame:
    """Each place with its 5G/4G signal, operators and fibre distance.

    Parameters
    ----------
    places : GeoDataFrame
        Checked places (EPSG:4326 points).
    coverage : Coverage
        The run's coverage (its own threshold decides "has").
    fibre : GeoDataFrame or None
        Checked fibre; without it the fibre columns are empty.
    metric_crs : pyproj.CRS
    ftth_max_distance_m : float
        Fibre within this distance of the place counts, metres.

    Returns
    -------
    DataFrame
        :data:`PLACE_COLUMNS`; ``fibre`` is NA without a fibre layer.
    """
    pts = places.geometry.to_crs(metric_crs)
    arr = pts.to_numpy()
    operators = sorted({op for op, _ in coverage.keys()})
    out = pd.DataFrame({"place_id": places["place_id"].to_numpy(),
                        "name": places["name"].to_numpy(),
                        "kind": places["kind"].to_numpy(),
                        "commune_code": places["commune_code"].to_numpy(),
                        "lon": places.geometry.x.round(6).to_numpy(),
                        "lat": places.geometry.y.round(6).to_numpy()})
    for tech in ("5G", "4G"):
        has, names = _operators_at(arr, coverage, tech, operators)
        out[f"has_{tech.lower()}"] = has
        out[f"operators_{tech.lower()}"] = names.to_numpy()
    reach = fibre_reach(pts.reset_index(drop=True), fibre)
    out["fibre_distance_m"] = reach["fibre_distance_m"].round(1).to_numpy()
    out["fibre_operator"] = reach["fibre_operator"].to_numpy()
    if fibre is None:
        out["fibre"] = pd.array([pd.NA] * len(out), dtype="boolean")
    else:
        out["fibre"] = pd.array(reach["fibre_distance_m"].to_numpy() <= ftth_max_distance_m,
                                dtype="boolean")
    return out[list(PLACE_COLUMNS)]


def place_figures(table: pd.DataFrame) -> dict[str, Figure]:
    """``places_5g_pct.<kind>`` and ``places_fibre_pct.<kind>`` for every kind present.

    Examples
    --------
    >>> t = pd.DataFrame({"kind": ["health", "health", "health"],
    ...                   "has_5g": [True, False, True],
    ...                   "fibre": pd.array([True, True, pd.NA], dtype="boolean")})
    >>> f = place_figures(t)
    >>> float(f["places_5g_pct.health"][0]), f["places_5g_pct.health"][1:]
    (66.66666666666667, (2, 3))
    >>> f["places_fibre_pct.health"][1:]
    (2, 3)
    """
    out: dict[str, Figure] = {}
    for kind, part in table.groupby("kind", sort=True):
        n = len(part)
        with_5g = int(part["has_5g"].sum())
        out[f"places_5g_pct.{kind}"] = (exact_percent(with_5g, n), with_5g, n)
        fibre = part["fibre"].astype("boolean")
        if fibre.notna().any():
            with_fibre = int(fibre.fillna(False).sum())
            out[f"places_fibre_pct.{kind}"] = (exact_percent(with_fibre, n), with_fibre, n)
        else:
            out[f"places_fibre_pct.{kind}"] = (None, np.nan, n)
    return out


def commune_centres(communes: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None,
                    metric_crs: CRS) -> tuple[gpd.GeoSeries, pd.Series]:
    """Each commune's centre (UBND), where it is known, and where it came from.

    Parameters
    ----------
    communes : GeoDataFrame
        Checked communes (EPSG:4326); optional ``centre_lon``/``centre_lat``.
    places : GeoDataFrame or None
        Checked places; their ``commune_centre`` points win over the columns.
    metric_crs : pyproj.CRS

    Returns
    -------
    (GeoSeries, Series)
        Centre points in ``metric_crs`` (None where unknown), indexed like
        ``communes``, and the source of each: "place", "commune columns" or NA.
    """
    idx = communes.index
    pts = gpd.GeoSeries([None] * len(communes), index=idx, crs="EPSG:4326")
    source = pd.Series(pd.NA, index=idx, dtype="string")
    if "centre_lon" in communes and "centre_lat" in communes:
        lon = pd.to_numeric(communes["centre_lon"], errors="coerce")
        lat = pd.to_numeric(communes["centre_lat"], errors="coerce")
        given = lon.notna() & lat.notna()
        pts[given] = gpd.points_from_xy(lon[given], lat[given])
        source[given] = "commune columns"
    if places is not None and not places.empty:
        centres = places[places["kind"] == "commune_centre"].drop_duplicates("commune_code")
        where = pd.Series(communes.index, index=communes["commune_code"].to_numpy())
        hit = centres["commune_code"].isin(where.index)
        rows = where[centres.loc[hit, "commune_code"].to_numpy()].to_numpy()
        pts.loc[rows] = centres.loc[hit].geometry.to_numpy()
        source.loc[rows] = "place"
    return pts.to_crs(metric_crs), source
