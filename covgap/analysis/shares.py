"""Per-village coverage shares: how much of each village a coverage layer reaches.

A *layer* is the union of some (operator, technology) coverages: one operator's mobile
broadband (``[("Viettel", "4G"), ("Viettel", "5G")]``), every operator's, or 2G/3G.
:func:`coverage_shares` gives, for every village and layer, the share (0-1) of the
village's people, or of its area, or its point, that the layer covers.  Whether a
village then counts as covered (a share threshold) is the province's rule and is
applied by the caller.

Everything is vectorised over villages: exactextract computes the exact fraction of
each population or coverage cell inside each polygon, and vector coverage is cut into
small pieces held in an STR-tree so a village is intersected with the few pieces near
it instead of with one union of thousands of discs.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.windows
import shapely
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.raster import NumPyRasterSource
from exactextract.writer import Writer
from pyproj import CRS, Transformer
from rasterio.features import rasterize

from covgap.coverage.grid import Grid
from covgap.coverage.radius import Footprints
from covgap.coverage.result import Coverage
from covgap.errors import InputError
from covgap.io.problems import Problems
from covgap.io.rasters import RasterLayer

__all__ = ["coverage_shares"]

log = logging.getLogger(__name__)

Key = tuple[str, str]

#: Point villages given a radius become discs drawn like the radius model's (32 segments
#: per quarter circle: area within 0.1% of pi r^2).
_DISC_QUAD_SEGS = 32
#: Vector coverage is cut into pieces of at most this many vertices; intersecting a
#: village with a few small pieces costs far less than with the whole union.
_PIECE_MAX_VERTICES = 256
#: Cutting stops after this many halvings of a piece's box whatever its vertex count.
_PIECE_MAX_DEPTH = 24
#: The population raster is read in windows of at most this many cells (32 MB of
#: float64 per layer); a province at 100 m takes one window.
_MAX_WINDOW_CELLS = 4_000_000
#: exactextract's processing strategy (:func:`_extract`).
_STRATEGY = "raster-sequential"
#: Below this many (village, piece) pairs the intersections run on one thread.
_MIN_THREADED_PAIRS = 5_000
# shapely.get_type_id codes
_POINT, _POLYGON, _MULTIPOINT, _MULTIPOLYGON = 0, 3, 4, 6


def coverage_shares(
    villages: gpd.GeoDataFrame,
    coverage: Coverage,
    *,
    layers: Mapping[str, Sequence[tuple[str, str]]],
    population: RasterLayer | None = None,
    point_radius_m: float = 0.0,
) -> pd.DataFrame:
    """Share of each village covered by each coverage layer.

    The rules, in the order they apply to a village:

    1. **Polygon villages** (and point villages when ``point_radius_m > 0``, which
       become discs of that radius) **with a population raster**: the share of the
       village's *people* that are covered.  Each population cell counts with its
       value times the exact fraction of the cell inside the polygon (exactextract, in
       the raster's own CRS), and counts as covered when its centre is covered: for
       raster coverage, when the analysis-grid cell holding the centre is covered; for
       vector coverage (radius model, polygon maps), when the centre lies inside the
       layer's union.  ``basis`` is "population", ``weight`` the village's people.
    2. **Polygon villages without people** (no population raster, or no people in
       the polygon: nodata, zero, or outside the raster): the share of the village's
       *area* that is covered.  Vector coverage: exactly
       ``area(village ∩ union) / area(village)``.  Raster coverage: the covered grid
       cells weighted by the exact fraction of each inside the polygon; the part of a
       village outside the analysis grid counts as not covered.  ``basis`` is "area",
       ``weight`` the village's area in m².
    3. **Point villages** (``point_radius_m == 0``): 1.0 when the point is covered,
       else 0.0 (a point outside the analysis grid is not covered); a MultiPoint
       village gets the fraction of its points covered.  ``basis`` is "point",
       ``weight`` NaN.

    A layer's coverage is the union of its (operator, technology) keys; keys the
    coverage does not have are ignored, and a layer with none of them covers nothing
    (share 0).  A layer is vector when every key it has is vector (``coverage.areas``),
    else raster: the raster model's polygon maps are then used as burnt into the grid
    (cell centres), like any vector key the grid has no raster for.  Villages without
    geometry get NaN shares and basis "none".

    Parameters
    ----------
    villages : GeoDataFrame
        Point, MultiPoint, Polygon or MultiPolygon villages, in the run's metric CRS
        (the coverage's); villages in another CRS are reprojected to it.
    coverage : Coverage
        From :func:`covgap.coverage.compute_coverage`, any model.
    layers : mapping of str to sequence of (str, str)
        Layer name -> the (operator, technology) keys whose union is the layer, e.g.
        ``{"Viettel": [("Viettel", "4G"), ("Viettel", "5G")]}``.  Each name becomes a
        column; "basis" and "weight" are taken.
    population : RasterLayer, optional
        People per cell (e.g. WorldPop, 100 m), in any CRS; the raster must be north-up.
    point_radius_m : float
        Radius, metres, of the disc a point village stands for; 0 keeps points as
        points.

    Returns
    -------
    DataFrame
        Indexed like ``villages``: one float column per layer (share 0-1, in the order
        of ``layers``), ``basis`` ("population", "area", "point") and ``weight``
        (people, m², or NaN).

    Raises
    ------
    InputError
        Villages with lines or collections; a rotated or south-up population raster.
    ValueError
        A layer named "basis" or "weight", a negative ``point_radius_m``, villages
        without a CRS, or a coverage with neither grid nor areas.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from covgap.coverage.result import Coverage
    >>> areas = gpd.GeoDataFrame({"operator": ["Viettel"], "technology": ["4G"]},
    ...                          geometry=[box(0, 0, 100, 200)], crs=32648)
    >>> cov = Coverage(model="radius", parameters={}, min_rsrp_dbm=-110.0,
    ...                cells=areas.iloc[:0], areas=areas)
    >>> villages = gpd.GeoDataFrame(geometry=[box(50, 0, 150, 100)], crs=32648)
    >>> coverage_shares(villages, cov, layers={"mbb": [("Viettel", "4G")]})
       mbb basis   weight
    0  0.5  area  10000.0
    """
    t0 = time.perf_counter()
    names = _check_options(layers, point_radius_m)
    crs = _metric_crs(coverage)
    geoms = _village_geometries(villages, crs)
    n = len(geoms)
    shares = {name: np.full(n, np.nan) for name in names}
    basis = np.full(n, "none", dtype=object)
    weight = np.full(n, np.nan)
    resolved = [_resolve_layer(coverage, name, layers[name]) for name in names]

    type_id = shapely.get_type_id(geoms)
    present = (type_id >= 0) & ~shapely.is_empty(geoms)
    points = present & np.isin(type_id, (_POINT, _MULTIPOINT))
    if point_radius_m > 0 and points.any():
        geoms[points] = shapely.buffer(geoms[points], point_radius_m,
                                       quad_segs=_DISC_QUAD_SEGS)
        points[:] = False
    polygons = present & ~points

    if points.any():
        idx = np.flatnonzero(points)
        parts, owner = shapely.get_parts(geoms[idx], return_index=True)
        x, y = shapely.get_x(parts), shapely.get_y(parts)
        counts = np.bincount(owner, minlength=len(idx))
        for layer in resolved:
            hit = layer.covered_at(x, y, coverage.grid)
            shares[layer.name][idx] = np.bincount(owner, weights=hit, minlength=len(idx)) / counts
        basis[idx] = "point"

    if polygons.any():
        idx = np.flatnonzero(polygons)
        polys = geoms[idx]
        area_m2 = shapely.area(polys)
        by_area = np.ones(len(idx), dtype=bool)
        if population is not None:
            people, covered = _population_shares(polys, resolved, population, crs,
                                                 coverage.grid)
            by_area = ~(people > 0)
            use = idx[~by_area]
            for layer in resolved:
                shares[layer.name][use] = covered[layer.name][~by_area] / people[~by_area]
            basis[use] = "population"
            weight[use] = people[~by_area]
        if by_area.any():
            use = idx[by_area]
            covered = _area_shares(polys[by_area], area_m2[by_area], resolved, coverage.grid)
            for layer in resolved:
                shares[layer.name][use] = covered[layer.name]
            basis[use] = "area"
            weight[use] = area_m2[by_area]

    out = pd.DataFrame({name: np.clip(shares[name], 0.0, 1.0) for name in names},
                       index=villages.index)
    out["basis"] = basis.astype(str)
    out["weight"] = weight
    log.debug("coverage shares of %d villages, %d layers in %.2f s", n, len(names),
              time.perf_counter() - t0)
    return out


# ------------------------------------------------------------------ inputs


def _check_options(layers: Mapping[str, Sequence[tuple[str, str]]],
                   point_radius_m: float) -> list[str]:
    names = list(layers)
    taken = [name for name in names if name in ("basis", "weight")]
    if taken:
        raise ValueError(f"layers: {taken[0]!r} is a column of the result; rename the layer "
                         "(e.g. \"mbb\", \"Viettel\")")
    if not np.isfinite(point_radius_m) or point_radius_m < 0:
        raise ValueError(f"point_radius_m must be a distance >= 0 in metres, got "
                         f"{point_radius_m!r}")
    return names


def _metric_crs(coverage: Coverage) -> CRS:
    if coverage.grid is not None:
        return coverage.grid.crs
    if coverage.footprints is not None:  # before areas: reading them builds the unions
        return coverage.footprints.crs
    if coverage.areas is not None and coverage.areas.crs is not None:
        return CRS.from_user_input(coverage.areas.crs)
    raise ValueError(f"the {coverage.model} coverage has neither a grid nor areas with a "
                     "CRS; compute it with covgap.coverage.compute_coverage")


def _village_geometries(villages: gpd.GeoDataFrame, crs: CRS) -> np.ndarray:
    """Return the villages' geometries in ``crs`` as an array; raise on unusable types."""
    if villages.crs is None:
        raise ValueError("villages have no CRS; set it with villages.set_crs(...) (the "
                         f"coverage's is {crs.name})")
    geo = villages.geometry
    if not CRS.from_user_input(villages.crs).equals(crs):
        geo = geo.to_crs(crs)
    geoms = np.array(geo.to_numpy(), dtype=object)  # a copy: we may replace points by discs
    type_id = shapely.get_type_id(geoms)
    wrong = (type_id >= 0) & ~np.isin(type_id, (_POINT, _POLYGON, _MULTIPOINT, _MULTIPOLYGON))
    if wrong.any():
        problems = Problems("villages", id_column="village_id")
        types = pd.Series(shapely.get_type_id(geoms), index=villages.index)
        names = {1: "LineString", 2: "LinearRing", 5: "MultiLineString",
                 7: "GeometryCollection"}
        problems.rows(villages, wrong, lambda i: f"is a {names.get(types[i], 'geometry')}, "
                      "expected a point or a polygon; drop or fix it")
        problems.raise_if_any()
    return geoms


# ------------------------------------------------------------------ layers


@dataclass
class _Layer:
    """One layer's coverage: footprints, a prepared union polygon, a boolean grid, or nothing.

    The radius model's layers hold its footprints: points are tested against them
    directly, and the union (for area shares of polygon villages) is built only when a
    village needs it.
    """

    name: str
    union: shapely.Geometry | None = None
    mask: np.ndarray | None = None
    footprints: Footprints | None = None
    keys: list[Key] = field(default_factory=list)
    coverage: Coverage | None = field(default=None, repr=False)
    _pieces: tuple[np.ndarray, shapely.STRtree] | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        if self.union is not None or self.footprints is not None:
            return "vector"
        return "raster" if self.mask is not None else "empty"

    def covered_at(self, x: np.ndarray, y: np.ndarray, grid: Grid | None) -> np.ndarray:
        """Whether each point (metric CRS) is covered."""
        if self.footprints is not None:
            out = np.zeros(len(x), dtype=bool)
            for hit in self.footprints.covered(x, y, self.keys).values():
                out |= hit
            return out
        if self.union is not None:
            return shapely.contains_xy(self.union, x, y)
        if self.mask is None:
            return np.zeros(len(x), dtype=bool)
        row, col = grid.rowcol(x, y)  # type: ignore[union-attr]
        row, col = np.floor(row), np.floor(col)
        inside = (row >= 0) & (row < self.mask.shape[0]) & (col >= 0) & (col < self.mask.shape[1])
        out = np.zeros(len(x), dtype=bool)
        out[inside] = self.mask[row[inside].astype(np.intp), col[inside].astype(np.intp)]
        return out

    def pieces(self) -> tuple[np.ndarray, shapely.STRtree]:
        """Return the union cut into small disjoint pieces, and their STR-tree."""
        if self._pieces is None:
            union = self.union
            if union is None and self.coverage is not None:  # footprints: union them now
                union = _union(_vector_parts(self.coverage, self.keys))
            pieces = (_cut(union) if union is not None
                      else np.empty(0, dtype=object))
            shapely.prepare(pieces)
            self._pieces = (pieces, shapely.STRtree(pieces))
        return self._pieces


def _vector_parts(coverage: Coverage, keys: Sequence[Key]) -> dict[Key, np.ndarray]:
    """Return the vector coverage (``coverage.areas``) of each of ``keys`` that has some."""
    vector: dict[Key, np.ndarray] = {}
    a = coverage.areas
    if a is not None and len(a):
        pairs = list(zip(a["operator"], a["technology"], strict=True))
        geoms = a.geometry.to_numpy()
        for key in keys:
            rows = [i for i, p in enumerate(pairs) if p == key]
            if rows:
                vector[key] = geoms[rows]
    return vector


def _union(vector: dict[Key, np.ndarray]) -> shapely.Geometry | None:
    """Return the prepared union of vector coverage, its polygons only (None: nothing)."""
    if not vector:
        return None
    union = shapely.union_all(np.concatenate(list(vector.values())))
    union = shapely.get_parts(union)
    union = union[np.isin(shapely.get_type_id(union), (_POLYGON, _MULTIPOLYGON))]
    if not len(union):
        return None
    union = shapely.multipolygons(union) if len(union) > 1 else union[0]
    shapely.prepare(union)  # a new object (get_parts clones), not the coverage's
    return union


def _resolve_layer(coverage: Coverage, name: str, keys: Sequence[tuple[str, str]]) -> _Layer:
    keys = [tuple(k) for k in keys]
    raster = [k for k in keys if k in coverage.signal or k in coverage.binary]
    if raster:  # any raster key makes the layer raster: unions of rasters stay on the grid
        if coverage.grid is None:
            raise ValueError(f"layer {name!r}: the coverage has rasters but no grid")
        vector = _vector_parts(coverage, keys)
        grid = coverage.grid
        mask = np.zeros(grid.shape, dtype=bool)
        for key in raster:
            mask |= coverage.covered(*key)
        # vector keys without a raster: burnt in by cell centre, as the raster model does
        extra = [g for key, gs in vector.items() if key not in raster for g in gs]
        if extra:
            mask |= rasterize(((g, 1) for g in extra), out_shape=grid.shape,
                              transform=grid.transform, fill=0, dtype="uint8").astype(bool)
        return _Layer(name, mask=mask)
    feet = coverage.footprints
    if feet is not None:  # the radius model: points against footprints, no union yet
        have = set(feet.keys())
        mine = [k for k in keys if k in have]
        return _Layer(name, footprints=feet, keys=mine, coverage=coverage) if mine \
            else _Layer(name)
    union = _union(_vector_parts(coverage, keys))
    return _Layer(name) if union is None else _Layer(name, union=union)


def _cut(geom: shapely.Geometry) -> np.ndarray:
    """Cut a polygon into pieces of at most ``_PIECE_MAX_VERTICES`` vertices.

    Pieces too big are split into the four quarters of their bounding box, level by
    level; the pieces have disjoint interiors, so areas of intersections with them add
    up to the area of the intersection with ``geom``.
    """
    done = []
    todo = shapely.get_parts(np.array([geom], dtype=object))
    for _ in range(_PIECE_MAX_DEPTH):
        if not len(todo):
            break
        small = shapely.get_num_coordinates(todo) <= _PIECE_MAX_VERTICES
        done.append(todo[small])
        big = todo[~small]
        if not len(big):
            todo = big
            break
        x0, y0, x1, y1 = shapely.bounds(big).T
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        quarters = shapely.box(np.stack([x0, xm, x0, xm], axis=1),
                               np.stack([y0, y0, ym, ym], axis=1),
                               np.stack([xm, x1, xm, x1], axis=1),
                               np.stack([ym, ym, y1, y1], axis=1))
        parts = shapely.intersection(np.repeat(big, 4), quarters.ravel())
        parts = shapely.get_parts(parts)
        todo = parts[shapely.get_type_id(parts) == _POLYGON]
    done.append(todo)
    return np.concatenate(done)


# ------------------------------------------------------------------ area shares


def _area_shares(polys: np.ndarray, area_m2: np.ndarray, layers: list[_Layer],
                 grid: Grid | None) -> dict[str, np.ndarray]:
    """Share of each polygon's area covered by each layer."""
    out: dict[str, np.ndarray] = {}
    raster = [layer for layer in layers if layer.kind == "raster"]
    if raster:
        out.update(_raster_area_shares(polys, area_m2, raster, grid))  # type: ignore[arg-type]
    for layer in layers:
        if layer.kind == "vector":
            pieces, tree = layer.pieces()
            i, j = tree.query(polys, predicate="intersects")
            # a village inside one piece is covered whole: no overlay needed
            whole = shapely.contains_properly(pieces[j], polys[i])
            part = ~whole
            inter = np.empty(len(i))
            inter[whole] = area_m2[i[whole]]
            inter[part] = _intersection_areas(polys[i[part]], pieces[j[part]])
            covered = np.bincount(i, weights=inter, minlength=len(polys))
            out[layer.name] = _ratio(covered, area_m2)
        elif layer.kind == "empty":
            out[layer.name] = np.zeros(len(polys))
    return out


def _intersection_areas(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Area of ``a[k] ∩ b[k]`` for each k (m² in a metric CRS).

    GEOS releases the GIL: long arrays are cut in one chunk per core, run side by side.
    """
    workers = min(os.cpu_count() or 1, 4)
    if workers == 1 or len(a) < _MIN_THREADED_PAIRS:
        return shapely.area(shapely.intersection(a, b))
    bounds = np.linspace(0, len(a), workers + 1).astype(int)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = pool.map(lambda k: shapely.area(shapely.intersection(
            a[bounds[k]:bounds[k + 1]], b[bounds[k]:bounds[k + 1]])), range(workers))
        return np.concatenate(list(parts))


def _raster_area_shares(polys: np.ndarray, area_m2: np.ndarray, layers: list[_Layer],
                        grid: Grid) -> dict[str, np.ndarray]:
    """Covered area of each polygon by exact cell fractions (exactextract ``sum``)."""
    t = grid.transform
    extent = (t.c, t.f + t.e * grid.height, t.c + t.a * grid.width, t.f)
    wkt = grid.crs.to_wkt()
    names = [f"l{k}" for k in range(len(layers))]
    sources = [NumPyRasterSource(layer.mask, *extent, srs_wkt=wkt, name=name)
               for name, layer in zip(names, layers, strict=True)]
    sums = _extract(sources, names, polys, wkt)
    cell_area = abs(t.a * t.e)
    return {layer.name: _ratio(np.nan_to_num(sums[name]) * cell_area, area_m2)
            for name, layer in zip(names, layers, strict=True)}


def _ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, part / whole, np.nan)


# ------------------------------------------------------------------ population shares


def _population_shares(polys: np.ndarray, layers: list[_Layer], population: RasterLayer,
                       crs: CRS, grid: Grid | None
                       ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """People in each polygon, and people covered by each layer.

    Each population cell counts with its value times the exact fraction of the cell
    inside the polygon; it is covered when its centre is.  The raster is read a window
    at a time: villages are grouped so that no window has more than
    ``_MAX_WINDOW_CELLS`` cells (one group for a province).
    """
    n = len(polys)
    people = np.zeros(n)
    covered = {layer.name: np.zeros(n) for layer in layers}
    t = population.transform
    if t.b != 0 or t.d != 0 or t.e >= 0:
        raise InputError(f"{population.path.name}: the population raster must be north-up "
                         f"(no rotation, negative y pixel size); its transform is "
                         f"{tuple(t)[:6]}", ["warp it first, e.g. gdalwarp in.tif out.tif"])
    pop_crs = population.crs
    if not pop_crs.equals(crs):
        polys = gpd.GeoSeries(polys, crs=crs).to_crs(pop_crs).to_numpy()
    to_metric = (None if pop_crs.equals(crs)
                 else Transformer.from_crs(pop_crs, crs, always_xy=True))
    # pixel bounds of every village: columns c0..c1, rows r0..r1 (end exclusive)
    xmin, ymin, xmax, ymax = shapely.bounds(polys).T
    c0, r0 = ~t * (xmin, ymax)
    c1, r1 = ~t * (xmax, ymin)
    pixels = np.column_stack([np.floor(c0), np.floor(r0), np.ceil(c1), np.ceil(r1)])
    pixels = np.clip(pixels, 0, [population.width, population.height] * 2).astype(np.int64)
    inside = (pixels[:, 2] > pixels[:, 0]) & (pixels[:, 3] > pixels[:, 1])
    with rasterio.open(population.path) as src:
        for idx in _groups(np.flatnonzero(inside), pixels):
            p, c = _population_window(src, polys[idx], pixels[idx], population, layers,
                                      to_metric, grid)
            people[idx] = p
            for name, values in c.items():
                covered[name][idx] = values
    return people, covered


def _groups(idx: np.ndarray, pixels: np.ndarray) -> list[np.ndarray]:
    """Split villages into groups whose pixel windows hold at most _MAX_WINDOW_CELLS."""
    out, todo = [], [idx] if len(idx) else []
    while todo:
        group = todo.pop()
        c0, r0 = pixels[group, 0].min(), pixels[group, 1].min()
        c1, r1 = pixels[group, 2].max(), pixels[group, 3].max()
        if (c1 - c0) * (r1 - r0) <= _MAX_WINDOW_CELLS or len(group) == 1:
            out.append(group)
            continue
        # halve along the longer side, at the median of the villages' centres
        axis = 0 if c1 - c0 >= r1 - r0 else 1
        centre = pixels[group, axis] + pixels[group, axis + 2]
        order = np.argsort(centre, kind="stable")
        half = len(group) // 2
        todo += [group[order[:half]], group[order[half:]]]
    return out


def _population_window(src: rasterio.io.DatasetReader, polys: np.ndarray, pixels: np.ndarray,
                       population: RasterLayer, layers: list[_Layer],
                       to_metric: Transformer | None, grid: Grid | None
                       ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """People and covered people of villages sharing one raster window."""
    c0, r0 = pixels[:, 0].min(), pixels[:, 1].min()
    c1, r1 = pixels[:, 2].max(), pixels[:, 3].max()
    window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
    values = src.read(1, window=window).astype("float64")
    if population.nodata is not None:
        values[values == population.nodata] = 0.0
    values[~np.isfinite(values)] = 0.0
    height, width = values.shape
    # cells in some village's bounding box (a 2-D prefix sum of box indicators): only
    # these can be inside a village, so only their centres are tested for coverage
    marks = np.zeros((height + 1, width + 1), dtype=np.int32)
    np.add.at(marks, (pixels[:, 1] - r0, pixels[:, 0] - c0), 1)
    np.add.at(marks, (pixels[:, 1] - r0, pixels[:, 2] - c0), -1)
    np.add.at(marks, (pixels[:, 3] - r0, pixels[:, 0] - c0), -1)
    np.add.at(marks, (pixels[:, 3] - r0, pixels[:, 2] - c0), 1)
    near = (marks.cumsum(axis=0).cumsum(axis=1)[:height, :width] > 0) & (values != 0)
    row, col = np.nonzero(near)
    wt = rasterio.windows.transform(window, population.transform)
    x = wt.c + (col + 0.5) * wt.a
    y = wt.f + (row + 0.5) * wt.e
    if to_metric is not None:
        x, y = to_metric.transform(x, y)
    x, y = np.asarray(x, float), np.asarray(y, float)
    extent = (wt.c, wt.f + wt.e * height, wt.c + wt.a * width, wt.f)
    wkt = population.crs.to_wkt()
    names = ["people"] + [f"l{k}" for k in range(len(layers))]
    sources = [NumPyRasterSource(values, *extent, srs_wkt=wkt, name="people")]
    for name, layer in zip(names[1:], layers, strict=True):
        served = np.zeros_like(values)
        hit = layer.covered_at(x, y, grid)
        served[row[hit], col[hit]] = values[row[hit], col[hit]]
        sources.append(NumPyRasterSource(served, *extent, srs_wkt=wkt, name=name))
    sums = {k: np.nan_to_num(v) for k, v in _extract(sources, names, polys, wkt).items()}
    return sums["people"], {layer.name: sums[name]
                            for name, layer in zip(names[1:], layers, strict=True)}


# ------------------------------------------------------------------ exactextract


class _WkbFeature(Feature):
    """A feature handing exactextract WKB, with results kept in a plain dict.

    exactextract's GeoDataFrame source goes through GeoJSON text, which costs more
    than the extraction itself for thousands of small villages.
    """

    def __init__(self, fid: int | None = None, wkb: bytes | None = None) -> None:
        Feature.__init__(self)
        self.props: dict = {} if fid is None else {"fid": fid}
        self.wkb = wkb

    def geometry(self) -> bytes | None:
        return self.wkb

    def set_geometry(self, wkb: bytes | None) -> None:
        self.wkb = wkb

    def set_geometry_format(self) -> str:
        return "wkb"

    def get(self, name: str) -> object:
        return self.props[name]

    def set(self, name: str, value: object) -> None:
        self.props[name] = value

    def fields(self) -> list[str]:
        return list(self.props)


class _WkbSource(FeatureSource):
    def __init__(self, geoms: np.ndarray, srs_wkt: str) -> None:
        super().__init__()
        self.wkb = shapely.to_wkb(geoms)
        self.wkt = srs_wkt

    def count(self) -> int:
        return len(self.wkb)

    def __iter__(self):
        for i, wkb in enumerate(self.wkb):
            yield _WkbFeature(i, wkb)

    def srs_wkt(self) -> str:
        return self.wkt


class _Collect(Writer):
    """Collect each feature's results in lists, one per field."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, list] = {"fid": []}

    def add_operation(self, op: object) -> None:
        self.fields.setdefault(op.name, [])  # type: ignore[attr-defined]

    def add_column(self, name: str) -> None:
        self.fields.setdefault(name, [])

    def write(self, feature: Feature) -> None:
        f = _WkbFeature()
        feature.copy_to(f)
        for name, values in self.fields.items():
            values.append(f.props.get(name))

    def features(self) -> dict[str, list]:
        return self.fields


def _extract(sources: list[NumPyRasterSource], names: list[str], polys: np.ndarray,
             srs_wkt: str) -> dict[str, np.ndarray]:
    """Exact ``sum`` of each raster over each polygon, keyed by raster name.

    The rasters share one grid; a polygon missing them all gets NaN.
    """
    writer = _Collect()
    # raster-sequential: each raster is handed over once, not a window per village (the
    # Python read_window callback of NumPyRasterSource, 40,000 calls for 20,000
    # villages and two rasters).  A window holds at most _MAX_WINDOW_CELLS cells, under
    # exactextract's max_cells_in_memory, so it is one chunk and every village's sum
    # runs over its cells as feature-sequential's does: the same sums (tested).
    fields = exact_extract(sources, _WkbSource(polys, srs_wkt), ["sum"], include_cols=["fid"],
                           output=writer, strategy=_STRATEGY)
    fid = np.asarray(fields.pop("fid"), dtype=np.intp)
    out = {}
    for name in names:
        # exactextract names the field "sum" for one raster, "<name>_sum" for several
        values = fields["sum"] if len(names) == 1 else fields[f"{name}_sum"]
        col = np.full(len(polys), np.nan)
        col[fid] = np.asarray(values, dtype=float)
        out[name] = col
    return out
