"""A national run split by province: each province's share of every layer.

A national run's map is too large to open as one page, so the map is drawn once per
province (:func:`covgap.export.map.write_maps`).  This module computes what each of
those maps holds -- the province's communes and villages, the sites, fibre and coverage
within a margin around them, its candidate sites and its own indicators -- and the
exporter only draws it.

Boxes and distances are in the run's metric CRS; the tables stay in EPSG:4326.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS, Transformer

from covgap.analysis.indicators import indicator_table
from covgap.io.text import normalize_nfc
from covgap.io.vector import find_column

if TYPE_CHECKING:
    from covgap.analysis import Analysis
    from covgap.coverage import Coverage
    from covgap.io import Inputs

__all__ = ["NO_PROVINCE", "ProvinceView", "clip_coverage", "commune_provinces",
           "split_by_province"]

log = logging.getLogger(__name__)

#: Name given to communes whose ``province`` cell is empty.
NO_PROVINCE = "Chưa rõ tỉnh / No province"

#: A box of the metric CRS: (minx, miny, maxx, maxy), metres.
Box = tuple[float, float, float, float]


@dataclasses.dataclass(frozen=True)
class ProvinceView:
    """One province of a run: its own rows, and the layers around it.

    Attributes
    ----------
    name : str
        The province, as the communes' ``province`` column writes it (NFC).
    villages, communes : GeoDataFrame
        The province's villages and communes (EPSG:4326), rows of the analysis.
    sites : GeoDataFrame
        The BTS cells within the margin of the province's communes (EPSG:4326).
    locations : GeoDataFrame or None
        The site locations within the margin (EPSG:4326).
    fibre : GeoDataFrame or None
        The fibre cut at the margin's box (routes keep only their part inside it).
    coverage : Coverage or None
        The coverage inside the box: a window of the rasters, the polygons cut at it;
        None when the box holds none of the grid.
    candidates : DataFrame or None
        The candidate sites in the province's communes (or nearest to them).
    indicators : DataFrame
        The province's own indicators against the targets.
    """

    name: str
    villages: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    locations: gpd.GeoDataFrame | None
    fibre: gpd.GeoDataFrame | None
    coverage: Coverage | None
    candidates: pd.DataFrame | None
    indicators: pd.DataFrame


def commune_provinces(communes: gpd.GeoDataFrame,
                      source: gpd.GeoDataFrame | None = None) -> pd.Series | None:
    """Return the province of each commune (NFC text), or None when none is known.

    Parameters
    ----------
    communes : GeoDataFrame
        The analysis' commune table.
    source : GeoDataFrame, optional
        The input communes: the analysis keeps only covgap's commune columns, so the
        ``province`` column is looked up there (by ``commune_code``) when ``communes``
        has none.

    Returns
    -------
    Series or None
        Indexed like ``communes`` and named ``province``; an empty cell becomes
        :data:`NO_PROVINCE`.  None when no commune names a province.
    """
    column = find_column(communes, "province")
    if column is not None:
        values = communes[column]
    else:
        column = None if source is None else find_column(source, "province")
        if source is None or column is None:
            return None
        by_code = pd.Series(source[column].to_numpy(),
                            index=source["commune_code"].astype(str).to_numpy())
        by_code = by_code[~by_code.index.duplicated()]
        values = communes["commune_code"].astype(str).map(by_code)
    values = normalize_nfc(values.astype(object).where(values.notna(), None))
    values = values.map(lambda v: None if _missing(v) or str(v) == "" else str(v))
    if values.isna().all():
        return None
    return values.fillna(NO_PROVINCE).rename("province")


def split_by_province(province: pd.Series, names: Sequence[str], *, inputs: Inputs,
                      analysis: Analysis, coverage: Coverage | None,
                      candidates: pd.DataFrame | None, margin_m: float,
                      targets: Mapping[str, float | None],
                      codes: Sequence[str] | None = None) -> list[ProvinceView]:
    """Return one view of the run per province, in the order of ``names``.

    Parameters
    ----------
    province : Series
        The province of each commune of ``analysis.communes``
        (:func:`commune_provinces`).
    names : sequence of str
        The provinces to return, in order.
    inputs : Inputs
        The run's inputs: sites, fibre and the metric CRS.
    analysis : Analysis
        The run's villages, communes and site locations.
    coverage : Coverage or None
        The run's coverage, clipped per province (:func:`clip_coverage`).
    candidates : DataFrame or None
        The run's candidate sites (``lon``/``lat`` or point geometry).
    margin_m : float
        Sites, fibre and coverage are kept this far beyond a province's communes,
        metres in the metric CRS: border villages are served from across the border.
    targets : mapping
        The plan's targets by indicator, for each province's indicators.
    codes : sequence of str, optional
        The province codes written in the indicator tables; default the names.

    Returns
    -------
    list of ProvinceView

    Examples
    --------
    >>> province = commune_provinces(result.communes, result.inputs.communes)  # doctest: +SKIP
    >>> views = split_by_province(province, sorted(set(province)), inputs=result.inputs,
    ...     analysis=result.analysis, coverage=result.coverage,
    ...     candidates=result.candidates, margin_m=5000, targets={})  # doctest: +SKIP
    """
    metric = inputs.metric_crs
    communes, villages = analysis.communes, analysis.villages
    codes = list(names) if codes is None else list(codes)

    # where everything is, in the metric CRS, once
    box = communes.geometry.to_crs(metric).bounds.groupby(province.to_numpy()).agg(
        {"minx": "min", "miny": "min", "maxx": "max", "maxy": "max"})
    box[["minx", "miny"]] -= margin_m
    box[["maxx", "maxy"]] += margin_m
    village_prov = villages["commune_code"].astype(str).map(
        pd.Series(province.to_numpy(), index=communes["commune_code"].astype(str)))
    if village_prov.isna().any():
        log.warning("%d villages without a known commune are on no province map",
                    int(village_prov.isna().sum()))
    sites = inputs.sites
    site_xy = _xy(sites, metric)
    locations = analysis.locations
    loc_xy = _xy(locations, metric) if locations is not None else None
    fibre = inputs.fibre
    fibre_m = None
    if fibre is not None and len(fibre):
        fibre_m = fibre.geometry.to_crs(metric).to_numpy()
        fibre_tree = shapely.STRtree(fibre_m)
    cand_prov = None
    if candidates is not None and len(candidates):
        cand_prov = _candidate_provinces(candidates, communes, province, metric)

    views = []
    for name, code in zip(names, codes, strict=True):
        b = tuple(float(v) for v in box.loc[name, ["minx", "miny", "maxx", "maxy"]])
        mine = (province == name).to_numpy()
        communes_p = communes[mine]
        villages_p = villages[(village_prov == name).to_numpy()]
        fibre_p = None
        if fibre is not None and fibre_m is not None:
            idx = fibre_tree.query(shapely.box(*b), predicate="intersects")
            idx.sort()
            clipped = shapely.intersection(fibre_m[idx], shapely.box(*b))
            # a route that only touches the box leaves a point: not a route any more
            keep = ~shapely.is_empty(clipped) & (
                shapely.get_dimensions(clipped) == shapely.get_dimensions(fibre_m[idx]))
            fibre_p = gpd.GeoDataFrame(
                fibre.iloc[idx[keep]].drop(columns=fibre.geometry.name),
                geometry=gpd.GeoSeries(clipped[keep], crs=metric,
                                       index=fibre.index[idx[keep]]).to_crs(fibre.crs))
        views.append(ProvinceView(
            name=name, villages=villages_p, communes=communes_p,
            sites=sites[_inside(site_xy, b)],
            locations=None if locations is None or loc_xy is None
            else locations[_inside(loc_xy, b)],
            fibre=fibre_p, coverage=clip_coverage(coverage, b, metric),
            candidates=None if candidates is None or cand_prov is None
            else candidates[cand_prov == name],
            indicators=indicator_table(villages_p, communes_p, province_code=code,
                                       province_name=name, targets=dict(targets))))
    return views


def clip_coverage(coverage: Coverage | None, box: Box, metric: CRS) -> Coverage | None:
    """Return the coverage inside a box of the metric CRS (None when nothing is left).

    Rasters are cut to a window of the grid (views of the arrays, no copy); coverage
    polygons are cut at the box.  The window keeps the best-server signal and coverage
    of every operator and technology, not the serving cell or the clear-sky layers.

    Parameters
    ----------
    coverage : Coverage or None
    box : tuple of float
        (minx, miny, maxx, maxy) in ``metric``, metres.
    metric : CRS
        The run's metric CRS.

    Returns
    -------
    Coverage or None
    """
    if coverage is None:
        return None
    areas = coverage.areas
    if areas is not None and len(areas):
        b = box if CRS(areas.crs) == metric else _reproject_box(box, metric, areas.crs)
        cut = shapely.intersection(areas.geometry.to_numpy(), shapely.box(*b))
        keep = ~shapely.is_empty(cut)
        areas = gpd.GeoDataFrame(areas[keep].drop(columns=areas.geometry.name),
                                 geometry=gpd.GeoSeries(cut[keep], crs=areas.crs,
                                                        index=areas.index[keep]))
    grid = coverage.grid
    if grid is None:
        return dataclasses.replace(coverage, areas=areas)
    minx, miny, maxx, maxy = box if grid.crs == metric else _reproject_box(
        box, metric, grid.crs)
    t = grid.transform
    c0 = max(0, math.floor((minx - t.c) / t.a))
    c1 = min(grid.width, math.ceil((maxx - t.c) / t.a))
    r0 = max(0, math.floor((t.f - maxy) / -t.e))
    r1 = min(grid.height, math.ceil((t.f - miny) / -t.e))
    if c1 <= c0 or r1 <= r0:
        return None
    window = (slice(r0, r1), slice(c0, c1))
    # the grid is north-up: the window's origin is its top-left cell
    origin = Affine(t.a, 0.0, t.c + c0 * t.a, 0.0, t.e, t.f + r0 * t.e)
    sub = dataclasses.replace(grid, transform=origin, width=c1 - c0, height=r1 - r0)
    return dataclasses.replace(
        coverage, grid=sub, areas=areas,
        signal={k: v[window] for k, v in coverage.signal.items()},
        binary={k: v[window] for k, v in coverage.binary.items()},
        server={}, clear_signal={}, clear_server={}, dem=None)


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _xy(frame: gpd.GeoDataFrame, metric: CRS) -> np.ndarray:
    """(n, 2) metric coordinates of a point layer (NaN for missing points)."""
    pts = frame.geometry.to_crs(metric).to_numpy()
    return np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])


def _inside(xy: np.ndarray, box: Box) -> np.ndarray:
    minx, miny, maxx, maxy = box
    return ((xy[:, 0] >= minx) & (xy[:, 0] <= maxx) & (xy[:, 1] >= miny)
            & (xy[:, 1] <= maxy))


def _candidate_provinces(candidates: pd.DataFrame, communes: gpd.GeoDataFrame,
                         province: pd.Series, metric: CRS) -> np.ndarray:
    """Return the province of each candidate site: its commune's, or the nearest commune's."""
    if isinstance(candidates, gpd.GeoDataFrame):
        pts = candidates.geometry.to_crs(metric)
    else:
        pts = gpd.GeoSeries(gpd.points_from_xy(candidates["lon"], candidates["lat"]),
                            crs="EPSG:4326").to_crs(metric)
    polys = communes.geometry.to_crs(metric).to_numpy()
    tree = shapely.STRtree(polys)
    _, nearest = tree.query_nearest(pts.to_numpy(), all_matches=False)
    return province.to_numpy()[nearest]


def _reproject_box(box: Box, src: CRS | str, dst: CRS | str) -> Box:
    to = Transformer.from_crs(src, dst, always_xy=True)
    minx, miny, maxx, maxy = to.transform_bounds(*box, densify_pts=21)
    return (float(minx), float(miny), float(maxx), float(maxy))
