"""Readers for covgap's vector layers: communes, villages, sites and fibre.

Each reader returns a GeoDataFrame in WGS84 (EPSG:4326) with covgap's column names
(SPEC.md), normalised values (operators, technologies, regions, NFC names) and the
columns it does not know carried along.  Every problem of a layer is collected and
raised together as one :class:`covgap.InputError`, one line per problem, each naming
the file, the row or feature and its id.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from covgap.config import OPERATORS, TECHNOLOGIES, LayerInput
from covgap.errors import ConfigError, InputWarning, RepairWarning
from covgap.io.problems import ROW, Problems
from covgap.io.text import decode_legacy, find_legacy_text, name_key, normalize_nfc
from covgap.io.vector import DECIMAL_ATTR, find_column, number_column, read_vector

__all__ = [
    "MEASURED_TECHNOLOGIES",
    "normalize_operator",
    "normalize_technology",
    "read_basemap",
    "read_communes",
    "read_fibre",
    "read_measurements",
    "read_roads",
    "read_sites",
    "read_villages",
]

# Spelling variants seen in operators' and departments' files, keyed by
# _key(spelling); values are the canonical names of covgap.config.OPERATORS.
_OPERATOR_ALIASES = {
    "viettel": "Viettel", "viettelmobile": "Viettel", "vietteltelecom": "Viettel",
    "vtl": "Viettel",
    "vnpt": "VNPT", "vinaphone": "VNPT", "vnptvinaphone": "VNPT", "vnp": "VNPT",
    "mobifone": "MobiFone", "mobiphone": "MobiFone", "mbf": "MobiFone", "vms": "MobiFone",
    "vmsmobifone": "MobiFone",
    "vietnamobile": "Vietnamobile", "vnmobile": "Vietnamobile", "vnm": "Vietnamobile",
    "htmobile": "Vietnamobile",
    "gmobile": "Gmobile", "beeline": "Gmobile", "gtel": "Gmobile", "gtelmobile": "Gmobile",
    "fpt": "FPT", "fpttelecom": "FPT",
    "cmc": "CMC", "cmcti": "CMC", "cmctelecom": "CMC",
    "sctv": "SCTV",
}

_TECHNOLOGY_ALIASES = {
    "2g": "2G", "gsm": "2G", "gprs": "2G", "edge": "2G",
    "3g": "3G", "umts": "3G", "wcdma": "3G", "hspa": "3G", "hsdpa": "3G", "hspaplus": "3G",
    "4g": "4G", "lte": "4G", "ltea": "4G", "lteadvanced": "4G", "4glte": "4G",
    "lte4g": "4G", "ltefdd": "4G", "fddlte": "4G", "ltetdd": "4G", "tddlte": "4G",
    "5g": "5G", "nr": "5G", "5gnr": "5G", "nr5g": "5G", "5gsa": "5G", "5gnsa": "5G",
}

_TRUE = {"true", "1", "yes", "y", "x", "t", "co", "dbkk", "đbkk", "có"}
_FALSE = {"false", "0", "no", "n", "f", "khong", "không", "-"}

# Quyết định 861/QĐ-TTg classes communes of ethnic-minority and mountainous areas into
# khu vực I, II, III; communes outside those areas have no class.
_REGIONS = {"1": "I", "i": "I", "2": "II", "ii": "II", "3": "III", "iii": "III"}

_NAME_COLUMNS = ("commune_name", "village_name", "district")


def _key(text: str) -> str:
    """Case-, accent- and punctuation-free key: ``"VNPT-VinaPhone"`` -> ``"vnptvinaphone"``.

    Letters of other scripts are kept (:func:`covgap.io.text.name_key`), so names such as
    中国移动 and 中国联通 keep different keys.
    """
    return name_key(text)


def _operator_table(aliases: Mapping[str, str] | None) -> dict[str, str]:
    """Return operator key -> canonical name, built-in spellings plus ``aliases``.

    Raises
    ------
    ConfigError
        When two spellings of ``aliases`` share a key but name different operators, or a
        spelling has no letter or digit: the names would merge or vanish silently.
    """
    table = dict(_OPERATOR_ALIASES)
    table.update({_key(op): op for op in OPERATORS})
    canonical_of_key = {_key(op): op for op in OPERATORS}
    problems: list[str] = []
    given: dict[str, tuple[str, str]] = {}
    for spelling, canonical in (aliases or {}).items():
        key, target_key = _key(spelling), _key(canonical)
        for text, k in ((spelling, key), (canonical, target_key)):
            if not k:
                problems.append(
                    f"{text!r} has no letter or digit, so it cannot name an operator")
        if not key or not target_key:
            continue
        # a target spelled like a known operator ("Mobifone") is that operator ("MobiFone")
        canonical = canonical_of_key.setdefault(target_key, canonical)
        if key in given and given[key][1] != canonical:
            problems.append(
                f"{given[key][0]!r} = {given[key][1]!r} and {spelling!r} = {canonical!r} "
                f"are one spelling once case, accents and punctuation are ignored "
                f"(key {key!r}) but name different operators; keep one of them")
            continue
        given[key] = (spelling, canonical)
    for key, (_, canonical) in given.items():
        table[key] = canonical
        table[_key(canonical)] = canonical
    if problems:
        raise ConfigError(f"[inputs.operator_aliases]: {len(problems)} problem(s)", problems)
    return table


def normalize_operator(values: pd.Series, aliases: Mapping[str, str] | None = None) -> pd.Series:
    """Map operator spellings onto canonical names.

    Parameters
    ----------
    values : Series of str
        Operator names as written in a file ("VIETTEL", "Vinaphone", "Mobifone").
    aliases : mapping, optional
        Extra spelling -> canonical name pairs (``[inputs] operator_aliases``); a new
        canonical name is accepted as an operator.

    Returns
    -------
    Series
        Canonical names (``covgap.config.OPERATORS`` or an alias target); NA where the
        spelling is unknown or empty.

    Examples
    --------
    >>> normalize_operator(pd.Series(["VIETTEL", "Vinaphone", " mobifone "])).tolist()
    ['Viettel', 'VNPT', 'MobiFone']
    """
    table = _operator_table(aliases)
    text = values.astype("string")
    # one look-up per distinct spelling: a national site list repeats a handful of names
    canonical = {v: table.get(_key(v)) if _key(v) else None for v in text.dropna().unique()}
    return text.map(canonical).astype("string")


def normalize_technology(values: pd.Series) -> pd.Series:
    """Map technology spellings onto 2G, 3G, 4G or 5G.

    Examples
    --------
    >>> normalize_technology(pd.Series(["LTE", "NR", "4g", "WCDMA"])).tolist()
    ['4G', '5G', '4G', '3G']
    """
    text = values.astype("string")
    # one look-up per distinct spelling: a national site list repeats a handful of them
    canonical = {v: _TECHNOLOGY_ALIASES.get(_key(v)) for v in text.dropna().unique()}
    return text.map(canonical).astype("string")


# --------------------------------------------------------------------------- helpers


def problems_for(spec: LayerInput, id_column: str | None) -> Problems:
    label = Path(spec.path).name + (f" (layer {spec.layer})" if spec.layer else "")
    return Problems(label, id_column)


def _canonical(gdf: gpd.GeoDataFrame, names: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Rename columns that match covgap's names case-insensitively ("Site_ID" -> site_id)."""
    rename = {}
    for name in names:
        found = find_column(gdf, name)
        if found is not None and found != name:
            rename[found] = name
    return gdf.rename(columns=rename) if rename else gdf


def _require(gdf: gpd.GeoDataFrame, required: tuple[str, ...], name: str,
             problems: Problems) -> bool:
    """Report the required columns that are missing."""
    missing = [col for col in required if col not in gdf.columns]
    if missing:
        cols = [c for c in gdf.columns if c not in (ROW, "geometry")]
        problems.add(
            f"missing required column(s) {', '.join(missing)}; the file has "
            f"{', '.join(map(str, cols)) or 'no attribute columns'}. Rename them or map them "
            f"in [inputs.columns.{name}], e.g. {missing[0]} = \"<column in the file>\"")
        return False
    return True


def _text(values: pd.Series) -> pd.Series:
    """Cells as NFC strings; numbers read from Excel as 15001.0 become "15001"."""
    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return pd.NA
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)
    cells = values.to_numpy(dtype=object)
    out = pd.Series([v if type(v) is str else one(v) for v in cells], index=values.index,
                    name=values.name, dtype="string")
    return normalize_nfc(out)


def _code(values: pd.Series) -> pd.Series:
    """Commune codes as text; official codes are 5 digits, so "1501" becomes "01501"."""
    text = _text(values)
    digits = text.str.fullmatch(r"\d{1,4}").fillna(False)
    return text.where(~digits, text.str.zfill(5))


def _empty_or_missing(values: pd.Series) -> pd.Series:
    return values.isna() | (values.astype("string").str.strip() == "")


def _check_ids(gdf: gpd.GeoDataFrame, column: str, problems: Problems) -> None:
    empty = _empty_or_missing(gdf[column])
    problems.rows(gdf, empty, f"{column} is empty")
    dup = gdf[column].duplicated(keep=False) & ~empty
    if dup.any():
        first = gdf[dup].groupby(column, sort=False)[ROW].apply(list)
        problems.rows(gdf, dup & gdf[column].duplicated(keep="first"), lambda i: (
            f"duplicate {column} {gdf.at[i, column]!r}, also at "
            f"{', '.join(r for r in first[gdf.at[i, column]] if r != gdf.at[i, ROW])}"))


def _check_names(gdf: gpd.GeoDataFrame, column: str, problems: Problems) -> None:
    if column not in gdf:
        return
    gdf[column] = _text(gdf[column])
    legacy = find_legacy_text(gdf[column])
    flagged = legacy.notna()
    problems.rows(gdf, flagged, lambda i: (
        f"{column} {gdf.at[i, column]!r} looks like {legacy[i]}-encoded text (a legacy "
        f"Vietnamese font encoding), probably {decode_legacy(gdf.at[i, column], legacy[i])!r};"
        " convert the file to Unicode (e.g. Unikey's converter) and save it as UTF-8"))


def _number(gdf: gpd.GeoDataFrame, column: str, problems: Problems, *, low: float | None,
            high: float | None, unit: str = "") -> None:
    """Parse an optional numeric column in place and report values out of range."""
    if column not in gdf:
        return
    values, bad = number_column(gdf, column, problems)
    problems.rows(gdf, bad, lambda i: f"{column} {gdf.at[i, column]!r} is not a number")
    out = pd.Series(False, index=gdf.index)
    if low is not None:
        out |= values < low
    if high is not None:
        out |= values > high
    rng = f"{'-inf' if low is None else f'{low:g}'}..{'inf' if high is None else f'{high:g}'}"
    if low == 0 and high is None:
        text = "is negative"
    else:
        text = f"is outside {rng}{' ' + unit if unit else ''}"
    problems.rows(gdf, out, lambda i: f"{column} {values[i]:g} {text}")
    gdf[column] = values


def _check_geometry(gdf: gpd.GeoDataFrame, allowed: tuple[str, ...], what: str,
                    problems: Problems) -> None:
    types = gdf.geometry.geom_type
    wrong = types.notna() & ~types.isin(allowed)
    problems.rows(gdf, wrong, lambda i: f"is a {types[i]}, expected {what}")


def _repair_polygons(gdf: gpd.GeoDataFrame, problems: Problems) -> gpd.GeoDataFrame:
    """Repair invalid polygons with shapely.make_valid and warn how many there were.

    A polygon with no area (its corners on one line, or all at one point) cannot be
    repaired into a polygon: it is reported as a problem of its feature and kept as is.
    """
    source = problems.source
    geoms = gdf.geometry.to_numpy()
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
    invalid = polygonal & ~shapely.is_valid(geoms)
    if not invalid.any():
        return gdf
    fixed = shapely.make_valid(geoms[invalid])
    # make_valid can return a collection with stray lines or points: keep the polygons
    parts = np.array([shapely.unary_union(shapely.get_parts(g)[np.isin(
        shapely.get_type_id(shapely.get_parts(g)), (3, 6))]) for g in fixed], dtype=object)
    flat = np.zeros(len(gdf), dtype=bool)
    flat[np.flatnonzero(invalid)] = shapely.is_empty(parts) | (shapely.area(parts) == 0)
    problems.rows(gdf, flat, "polygon has zero area (its corners lie on one line or at one "
                  "point); draw its outline, or give the feature a point")
    repaired = invalid & ~flat
    if not repaired.any():
        return gdf
    geoms = geoms.copy()
    geoms[repaired] = parts[~flat[invalid]]
    out = gdf.copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    warnings.warn(
        f"{source}: repaired {int(repaired.sum())} invalid polygon(s) with make_valid "
        f"(e.g. {gdf.at[gdf.index[np.flatnonzero(repaired)[0]], ROW]})",
        RepairWarning, stacklevel=3)
    return out


def _nearest_distance_m(points: gpd.GeoSeries, area: gpd.GeoDataFrame,
                        metric_crs: CRS) -> np.ndarray:
    """Distance in metres from each geometry to the nearest feature of ``area``.

    Geometries that touch a feature are 0 without a nearest-feature search (what the
    search would return), so a layer that lies within the area costs one tree query.
    """
    pts = points.to_crs(metric_crs).to_numpy()
    polys = area.to_crs(metric_crs)
    dist = np.zeros(len(pts))
    touching = np.zeros(len(pts), dtype=bool)
    touching[polys.sindex.query(pts, predicate="intersects")[0]] = True
    rest = np.flatnonzero(~touching)
    if rest.size:
        _, dist[rest] = polys.sindex.nearest(pts[rest], return_distance=True,
                                             return_all=False)
    return dist


def _release(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop the reader's note on the file's decimal separator (it holds the file's text)."""
    gdf.attrs.pop(DECIMAL_ATTR, None)
    return gdf


def _finish(gdf: gpd.GeoDataFrame, problems: Problems) -> gpd.GeoDataFrame:
    problems.raise_if_any()
    return gdf.reset_index(drop=True)


# --------------------------------------------------------------------------- communes


def read_communes(spec: LayerInput, *, columns: Mapping[str, str] | None = None,
                  problems: Problems | None = None) -> gpd.GeoDataFrame:
    """Read commune polygons.

    Parameters
    ----------
    spec : LayerInput
        File of commune polygons with ``commune_code``, ``commune_name`` and optional
        ``region`` (I/II/III, Quyết định 861/QĐ-TTg) and ``district``.
    columns : mapping, optional
        covgap column -> file column (``[inputs.columns.communes]``).
    problems : Problems, optional
        Collect problems here instead of raising.

    Returns
    -------
    GeoDataFrame
        EPSG:4326; ``commune_code`` as text, ``region`` "I"/"II"/"III" or NA.

    Raises
    ------
    InputError
        Listing every problem of the layer (when ``problems`` is not given).
    """
    own = problems is None
    problems = problems_for(spec, "commune_code") if problems is None else problems
    gdf = read_vector(spec, name="communes", columns=columns, problems=problems)
    gdf = _check_communes(gdf, problems) if gdf is not None else None
    if own:
        problems.raise_if_any()
    return _release(gdf.reset_index(drop=True)) if gdf is not None else gdf


def _check_communes(gdf: gpd.GeoDataFrame, problems: Problems) -> gpd.GeoDataFrame | None:
    if gdf.empty:
        problems.add("has no features: the commune layer must hold the province's communes")
        return None
    gdf = _canonical(gdf, ("commune_code", "commune_name", "region", "district"))
    if not _require(gdf, ("commune_code", "commune_name"), "communes", problems):
        return None
    _check_geometry(gdf, ("Polygon", "MultiPolygon"), "a polygon", problems)
    gdf["commune_code"] = _code(gdf["commune_code"])
    _check_ids(gdf, "commune_code", problems)
    for col in _NAME_COLUMNS:
        _check_names(gdf, col, problems)
    if "region" in gdf:
        raw = _text(gdf["region"])
        key = raw.str.casefold().str.replace(
            r"^(khu vực|khu vuc|kv|region)\s*", "", regex=True).str.strip()
        region = key.map(_REGIONS).astype("string")
        bad = region.isna() & ~_empty_or_missing(raw)
        problems.rows(gdf, bad, lambda i: (
            f"region {raw[i]!r} is not I, II or III (khu vực, Quyết định 861/QĐ-TTg); "
            "leave it empty for communes without a class"))
        gdf["region"] = region
    else:
        gdf["region"] = pd.Series(pd.NA, index=gdf.index, dtype="string")
    return _repair_polygons(gdf, problems)


# --------------------------------------------------------------------------- villages


def read_villages(
    spec: LayerInput,
    *,
    communes: gpd.GeoDataFrame | None = None,
    metric_crs: CRS | None = None,
    columns: Mapping[str, str] | None = None,
    outside_m: float = 1000.0,
    problems: Problems | None = None,
) -> gpd.GeoDataFrame:
    """Read villages (thôn, bản, làng, ấp) as points or polygons.

    Parameters
    ----------
    spec : LayerInput
        File with ``village_id``, ``village_name`` and optional ``commune_code``,
        ``population``, ``households``, ``difficult`` (ĐBKK, Quyết định 612/QĐ-UBDT).
    communes : GeoDataFrame, optional
        The communes (EPSG:4326) to check against; a missing ``commune_code`` column is
        then filled from the commune containing each village.
    metric_crs : pyproj.CRS, optional
        Projected CRS for distances; required with ``communes``.
    columns : mapping, optional
        covgap column -> file column (``[inputs.columns.villages]``).
    outside_m : float
        Villages farther than this (metres) from every commune are errors.
    problems : Problems, optional
        Collect problems here instead of raising.

    Returns
    -------
    GeoDataFrame
        EPSG:4326; ``population`` and ``households`` as floats (NaN when not given),
        ``difficult`` as bool, ``commune_code`` as text.

    Raises
    ------
    InputError
        Listing every problem of the layer (when ``problems`` is not given).
    """
    own = problems is None
    problems = problems_for(spec, "village_id") if problems is None else problems
    gdf = read_vector(spec, name="villages", columns=columns, problems=problems)
    if gdf is not None:
        gdf = _check_villages(gdf, problems, communes, metric_crs, outside_m)
    if own:
        problems.raise_if_any()
    return _release(gdf.reset_index(drop=True)) if gdf is not None else gdf


def _check_villages(gdf: gpd.GeoDataFrame, problems: Problems,
                    communes: gpd.GeoDataFrame | None, metric_crs: CRS | None,
                    outside_m: float) -> gpd.GeoDataFrame | None:
    if gdf.empty:
        problems.add("has no features: the village layer must hold the province's villages")
        return None
    gdf = _canonical(gdf, ("village_id", "village_name", "commune_code", "population",
                           "households", "difficult"))
    if not _require(gdf, ("village_id", "village_name"), "villages", problems):
        return None
    _check_geometry(gdf, ("Point", "MultiPoint", "Polygon", "MultiPolygon"),
                    "a point or a polygon", problems)
    gdf["village_id"] = _text(gdf["village_id"])
    _check_ids(gdf, "village_id", problems)
    for col in _NAME_COLUMNS:
        _check_names(gdf, col, problems)
    for col in ("population", "households"):
        if col in gdf:
            _number(gdf, col, problems, low=0, high=None)
        else:
            gdf[col] = np.nan
    gdf["difficult"] = _flag(gdf, "difficult", problems)
    gdf = _repair_polygons(gdf, problems)
    code_col = "commune_code" if "commune_code" in gdf else None
    if code_col is not None:
        gdf["commune_code"] = _code(gdf["commune_code"])
    if communes is None or communes.empty:
        if code_col is None:
            gdf["commune_code"] = pd.Series(pd.NA, index=gdf.index, dtype="string")
        return gdf
    assert metric_crs is not None, "metric_crs is needed to check villages against communes"
    located = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    pts = gdf.geometry.copy()
    pts[located] = gdf.geometry[located].representative_point()
    container = _containing_commune(pts, communes)
    if code_col is None:
        gdf["commune_code"] = container
    else:
        known = gdf["commune_code"].isin(communes["commune_code"])
        problems.rows(gdf, ~known & gdf["commune_code"].notna(), lambda i: (
            f"commune_code {gdf.at[i, 'commune_code']!r} is not in the commune layer"))
        problems.rows(gdf, gdf["commune_code"].isna(), "commune_code is empty")
        moved = known & container.notna() & (container != gdf["commune_code"])
        if moved.any():
            example = gdf.index[moved.to_numpy()][0]
            warnings.warn(
                f"{problems.source}: {int(moved.sum())} village(s) lie in a different commune "
                f"than their commune_code says (e.g. {problems.where(gdf, example)}: "
                f"{gdf.at[example, 'commune_code']} but inside {container[example]}); the "
                "commune_code is kept", InputWarning, stacklevel=3)
    outside = located & container.isna()
    if outside.any():
        dist = pd.Series(np.nan, index=gdf.index)
        dist[outside] = _nearest_distance_m(pts[outside], communes, metric_crs)
        far = dist > outside_m
        problems.rows(gdf, far, lambda i: (
            f"lies {dist[i] / 1000:.1f} km outside every commune (tolerance "
            f"{outside_m:g} m, [checks] village_outside_m); wrong coordinates or CRS?"))
    return gdf


def _containing_commune(points: gpd.GeoSeries, communes: gpd.GeoDataFrame) -> pd.Series:
    """commune_code of the commune containing each point (NA where none does)."""
    out = pd.Series(pd.NA, index=points.index, dtype="string")
    valid = ~(points.isna() | points.is_empty)
    if not valid.any():
        return out
    src, tgt = communes.sindex.query(points[valid].to_numpy(), predicate="intersects")
    if len(src):
        # a point on a shared boundary takes the first commune
        first = pd.Series(tgt, index=src).groupby(level=0).first()
        out.iloc[np.flatnonzero(valid.to_numpy())[first.index]] = (
            communes["commune_code"].to_numpy()[first.to_numpy()])
    return out


def _flag(gdf: gpd.GeoDataFrame, column: str, problems: Problems) -> pd.Series:
    """Parse a yes/no column (true/false, 1/0, x, có/không); absent or empty is False."""
    if column not in gdf:
        return pd.Series(False, index=gdf.index)
    raw = gdf[column]
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype(bool)
    text = _text(raw).str.strip().str.casefold()
    true = text.isin(_TRUE)
    false = text.isin(_FALSE) | text.isna() | (text == "")
    problems.rows(gdf, ~true & ~false, lambda i: (
        f"{column} {raw[i]!r} is not yes/no; use true/false, 1/0 or có/không"))
    return true.fillna(False).astype(bool)


# --------------------------------------------------------------------------- sites


def read_sites(
    spec: LayerInput,
    *,
    communes: gpd.GeoDataFrame | None = None,
    metric_crs: CRS | None = None,
    columns: Mapping[str, str] | None = None,
    operator_aliases: Mapping[str, str] | None = None,
    outside_m: float = 50000.0,
    problems: Problems | None = None,
) -> gpd.GeoDataFrame:
    """Read BTS sites, one row per cell (or per site).

    Parameters
    ----------
    spec : LayerInput
        Points with ``site_id``, ``operator``, ``technology`` and optional
        ``azimuth_deg`` (degrees from north), ``beamwidth_deg`` (degrees),
        ``height_m`` (antenna height above ground, m), ``eirp_dbm`` (dBm) and
        ``frequency_mhz`` (MHz).
    communes : GeoDataFrame, optional
        The province's communes (EPSG:4326); sites farther than ``outside_m`` from all
        of them are errors.
    metric_crs : pyproj.CRS, optional
        Projected CRS for distances; required with ``communes``.
    columns : mapping, optional
        covgap column -> file column (``[inputs.columns.sites]``).
    operator_aliases : mapping, optional
        Extra operator spellings (``[inputs] operator_aliases``).
    outside_m : float
        Tolerance in metres; sites across the border still serve border villages.
    problems : Problems, optional
        Collect problems here instead of raising.

    Returns
    -------
    GeoDataFrame
        EPSG:4326; ``operator`` canonical (Viettel, VNPT, MobiFone, ...), ``technology``
        one of 2G/3G/4G/5G, optional numeric columns as floats (NaN when not given).

    Raises
    ------
    InputError
        Listing every problem of the layer (when ``problems`` is not given).
    """
    own = problems is None
    problems = problems_for(spec, "site_id") if problems is None else problems
    gdf = read_vector(spec, name="sites", columns=columns, problems=problems)
    if gdf is not None:
        gdf = _check_sites(gdf, problems, communes, metric_crs, operator_aliases, outside_m)
    if own:
        problems.raise_if_any()
    return _release(gdf.reset_index(drop=True)) if gdf is not None else gdf


_SITE_NUMBERS = {
    # column: (low, high, unit); bounds are physical plausibility, not policy
    "azimuth_deg": (0.0, 360.0, "degrees"),
    "beamwidth_deg": (1.0, 360.0, "degrees"),
    "height_m": (0.0, 300.0, "m"),
    "eirp_dbm": (0.0, 90.0, "dBm"),
    "frequency_mhz": (400.0, 100000.0, "MHz"),
}


def _check_sites(gdf: gpd.GeoDataFrame, problems: Problems,
                 communes: gpd.GeoDataFrame | None, metric_crs: CRS | None,
                 operator_aliases: Mapping[str, str] | None,
                 outside_m: float) -> gpd.GeoDataFrame | None:
    if gdf.empty:
        problems.add("has no features: the site layer must hold at least one BTS")
        return None
    gdf = _canonical(gdf, ("site_id", "operator", "technology", *_SITE_NUMBERS))
    if not _require(gdf, ("site_id", "operator", "technology"), "sites", problems):
        return None
    _check_geometry(gdf, ("Point",), "a point", problems)
    gdf["site_id"] = _text(gdf["site_id"])
    problems.rows(gdf, _empty_or_missing(gdf["site_id"]), "site_id is empty")
    _normalise_operator_column(gdf, operator_aliases, problems)
    raw_tech = gdf["technology"]
    tech = normalize_technology(raw_tech)
    problems.rows(gdf, tech.isna(), lambda i: (
        f"technology {raw_tech[i]!r} is not known; use one of {', '.join(TECHNOLOGIES)} "
        "(LTE, NR, GSM, WCDMA are understood)"))
    gdf["technology"] = tech
    for col, (low, high, unit) in _SITE_NUMBERS.items():
        if col in gdf:
            _number(gdf, col, problems, low=low, high=high, unit=unit)
        else:
            gdf[col] = np.nan
    sector_only = gdf["beamwidth_deg"].notna() & gdf["azimuth_deg"].isna()
    problems.rows(gdf, sector_only, "beamwidth_deg is given without azimuth_deg")
    cell = ["site_id", "operator", "technology", "azimuth_deg", "frequency_mhz"]
    dup = gdf.duplicated(subset=cell, keep="first") & gdf["site_id"].notna()
    problems.rows(gdf, dup, lambda i: (
        f"duplicate cell: the same site_id, operator, technology, azimuth_deg and "
        f"frequency_mhz as an earlier row ({gdf.at[i, 'technology']}, azimuth "
        f"{gdf.at[i, 'azimuth_deg']:g})"))
    if metric_crs is not None:
        _check_site_locations(gdf, problems, metric_crs)
        _check_location_ids(gdf, problems, metric_crs)
    if communes is not None and not communes.empty and metric_crs is not None:
        located = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
        dist = pd.Series(np.nan, index=gdf.index)
        dist[located] = _nearest_distance_m(gdf.geometry[located], communes, metric_crs)
        problems.rows(gdf, dist > outside_m, lambda i: (
            f"lies {dist[i] / 1000:.1f} km outside the province (tolerance "
            f"{outside_m / 1000:g} km, [checks] site_outside_m); wrong coordinates or CRS?"))
    return gdf


#: Cells of one site_id farther apart than this are reported: a site is one location.
SITE_SPREAD_M = 100.0


def _check_site_locations(gdf: gpd.GeoDataFrame, problems: Problems, metric_crs: CRS) -> None:
    located = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty) & gdf["site_id"].notna()]
    if located.empty:
        return
    pts = located.geometry.to_crs(metric_crs)
    xy = pd.DataFrame({"site_id": located["site_id"].to_numpy(),
                       "x": pts.x.to_numpy(), "y": pts.y.to_numpy()}, index=located.index)
    g = xy.groupby("site_id")
    spread = np.hypot(g["x"].transform("max") - g["x"].transform("min"),
                      g["y"].transform("max") - g["y"].transform("min"))
    bad = spread > SITE_SPREAD_M
    first_bad = bad & ~xy["site_id"].duplicated(keep="first")
    mask = pd.Series(False, index=gdf.index)
    mask[first_bad[first_bad].index] = True
    problems.rows(gdf, mask, lambda i: (
        f"the cells of site {gdf.at[i, 'site_id']} are {spread[i]:,.0f} m apart; a site is "
        f"one location (tolerance {SITE_SPREAD_M:g} m): give each location its own site_id"))


#: Sites sharing one register ``location_id`` (``tower_id``) farther apart than this are
#: reported: one tower cannot stand in two places.
LOCATION_ID_SPREAD_M = 500.0


def _check_location_ids(gdf: gpd.GeoDataFrame, problems: Problems, metric_crs: CRS) -> None:
    col = next((c for c in ("location_id", "tower_id") if c in gdf), None)
    if col is None:
        return
    ids = gdf[col].astype("string").str.strip()
    located = ~(gdf.geometry.isna() | gdf.geometry.is_empty) & ids.notna() & (ids != "")
    if not located.any():
        return
    pts = gdf.geometry[located].to_crs(metric_crs)
    xy = pd.DataFrame({"id": ids[located].to_numpy(), "x": pts.x.to_numpy(),
                       "y": pts.y.to_numpy()}, index=pts.index)
    g = xy.groupby("id")
    spread = np.hypot(g["x"].transform("max") - g["x"].transform("min"),
                      g["y"].transform("max") - g["y"].transform("min"))
    first_bad = (spread > LOCATION_ID_SPREAD_M) & ~xy["id"].duplicated(keep="first")
    mask = pd.Series(False, index=gdf.index)
    mask[first_bad[first_bad].index] = True
    problems.rows(gdf, mask, lambda i: (
        f"{col} {ids[i]} is given to sites {spread[i]:,.0f} m apart; one tower stands in "
        f"one place (tolerance {LOCATION_ID_SPREAD_M:g} m): correct the coordinates or the "
        f"{col}"))


def _normalise_operator_column(gdf: gpd.GeoDataFrame, aliases: Mapping[str, str] | None,
                               problems: Problems) -> None:
    raw = gdf["operator"]
    op = normalize_operator(raw, aliases)
    problems.rows(gdf, op.isna(), lambda i: (
        f"operator {raw[i]!r} is not known; known: {', '.join(OPERATORS)}; add a spelling "
        f"with [inputs.operator_aliases] \"{raw[i]}\" = \"<operator>\""))
    gdf["operator"] = op


# --------------------------------------------------------------------------- fibre


def read_fibre(
    spec: LayerInput,
    *,
    columns: Mapping[str, str] | None = None,
    operator_aliases: Mapping[str, str] | None = None,
    problems: Problems | None = None,
) -> gpd.GeoDataFrame:
    """Read the fibre network: routes (lines) and/or nodes (points).

    Parameters
    ----------
    spec : LayerInput
        Features with ``operator`` and optional ``kind`` ("route"/"node"; default from
        the geometry) and ``fibre_id``.
    columns : mapping, optional
        covgap column -> file column (``[inputs.columns.fibre]``).
    operator_aliases : mapping, optional
        Extra operator spellings (``[inputs] operator_aliases``).
    problems : Problems, optional
        Collect problems here instead of raising.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 with ``operator`` canonical and ``kind`` "route" or "node".

    Raises
    ------
    InputError
        Listing every problem of the layer (when ``problems`` is not given).
    """
    own = problems is None
    problems = problems_for(spec, "fibre_id") if problems is None else problems
    gdf = read_vector(spec, name="fibre", columns=columns, problems=problems)
    if gdf is not None:
        gdf = _check_fibre(gdf, problems, operator_aliases)
    if own:
        problems.raise_if_any()
    return _release(gdf.reset_index(drop=True)) if gdf is not None else gdf


def _check_fibre(gdf: gpd.GeoDataFrame, problems: Problems,
                 aliases: Mapping[str, str] | None) -> gpd.GeoDataFrame | None:
    if gdf.empty:
        problems.add("has no features: leave [inputs] fibre out when there is no fibre layer")
        return None
    gdf = _canonical(gdf, ("operator", "kind", "fibre_id"))
    if not _require(gdf, ("operator",), "fibre", problems):
        return None
    _check_geometry(gdf, ("LineString", "MultiLineString", "Point", "MultiPoint"),
                    "a line (route) or a point (node)", problems)
    _normalise_operator_column(gdf, aliases, problems)
    if "fibre_id" in gdf:
        gdf["fibre_id"] = _text(gdf["fibre_id"])
        _check_ids(gdf, "fibre_id", problems)
    types = gdf.geometry.geom_type
    from_geometry = types.map({"LineString": "route", "MultiLineString": "route",
                               "Point": "node", "MultiPoint": "node"}).astype("string")
    if "kind" in gdf:
        kind = _text(gdf["kind"]).str.strip().str.casefold()
        given = kind.notna() & (kind != "")
        bad = given & ~kind.isin(["route", "node"])
        problems.rows(gdf, bad, lambda i: f"kind {gdf.at[i, 'kind']!r} is not route or node")
        clash = given & ~bad & from_geometry.notna() & (kind != from_geometry)
        problems.rows(gdf, clash, lambda i: (
            f"kind {kind[i]!r} does not match its geometry ({types[i]})"))
        gdf["kind"] = kind.where(given, from_geometry)
    else:
        gdf["kind"] = from_geometry
    return gdf


# --------------------------------------------------------------------------- roads


# --------------------------------------------------------------------------- places

#: Kinds of place covgap's indicators know (seed 001: 5G at commune and town centres,
#: economic and industrial zones, hospitals, universities, tourist sites, transport
#: hubs).  Other kinds are kept as given.
PLACE_KINDS: tuple[str, ...] = (
    "commune_centre", "town_centre", "economic_zone", "industrial_zone", "health",
    "school", "university", "tourist_site", "transport_hub")


def read_places(spec: LayerInput, *, communes: gpd.GeoDataFrame | None = None,
                columns: Mapping[str, str] | None = None,
                problems: Problems | None = None) -> gpd.GeoDataFrame | None:
    """Read places: commune centres (UBND), town centres, zones, hospitals, schools, ...

    Parameters
    ----------
    spec : LayerInput
        Points with ``place_id``, ``name``, ``kind`` (:data:`PLACE_KINDS`, others kept
        as given) and optional ``commune_code``.
    communes : GeoDataFrame, optional
        The communes (EPSG:4326): every place must lie in one; a missing
        ``commune_code`` is filled from it.
    columns : mapping, optional
        covgap column -> file column (``[inputs.columns.places]``).
    problems : Problems, optional
        Collect problems here instead of raising.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points, ``kind`` in lower case.

    Raises
    ------
    InputError
        Listing every problem of the layer (when ``problems`` is not given): missing
        columns, empty or duplicate ids, a kind that looks like a typo of a known one
        ("did you mean..."), a place outside every commune.
    """
    own = problems is None
    problems = problems_for(spec, "place_id") if problems is None else problems
    gdf = read_vector(spec, name="places", columns=columns, problems=problems)
    if gdf is not None:
        gdf = _check_places(gdf, problems, communes)
    if own:
        problems.raise_if_any()
    return gdf.reset_index(drop=True) if gdf is not None else gdf


def _check_places(gdf: gpd.GeoDataFrame, problems: Problems,
                  communes: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if gdf.empty:
        problems.add("has no features: leave [inputs] places out when there is no place "
                     "layer")
        return None
    gdf = _canonical(gdf, ("place_id", "name", "kind", "commune_code"))
    if not _require(gdf, ("place_id", "name", "kind"), "places", problems):
        return None
    _check_geometry(gdf, ("Point",), "a point", problems)
    gdf["place_id"] = _text(gdf["place_id"])
    _check_ids(gdf, "place_id", problems)
    _check_names(gdf, "name", problems)
    kind = _text(gdf["kind"]).str.strip().str.casefold().str.replace(r"[\s-]+", "_",
                                                                       regex=True)
    gdf["kind"] = kind
    problems.rows(gdf, _empty_or_missing(kind), f"kind is empty; known kinds: "
                  f"{', '.join(PLACE_KINDS)}")
    unknown = kind.notna() & ~kind.isin(PLACE_KINDS)
    close = {k: difflib.get_close_matches(k, PLACE_KINDS, n=1, cutoff=0.8)
             for k in kind[unknown].dropna().unique()}
    typo = unknown & kind.map(lambda k: bool(close.get(k))).fillna(False).astype(bool)
    problems.rows(gdf, typo, lambda i: (
        f"kind {kind[i]!r} is not known; did you mean {close[kind[i]][0]!r}? (known kinds: "
        f"{', '.join(PLACE_KINDS)}; other kinds are kept as given)"))
    if "commune_code" in gdf:
        gdf["commune_code"] = _code(gdf["commune_code"])
    if communes is None or communes.empty:
        if "commune_code" not in gdf:
            gdf["commune_code"] = pd.Series(pd.NA, index=gdf.index, dtype="string")
        return gdf
    container = _containing_commune(gdf.geometry, communes)
    located = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    problems.rows(gdf, located & container.isna(), lambda i: (
        f"place {gdf.at[i, 'name']!r} ({gdf.at[i, 'kind']}) lies outside every commune; "
        "wrong coordinates or CRS?"))
    if "commune_code" not in gdf:
        gdf["commune_code"] = container
    else:
        gdf["commune_code"] = gdf["commune_code"].fillna(container)
    return gdf


def read_basemap(spec: LayerInput, *, columns: Mapping[str, str] | None = None,
                 problems: Problems | None = None) -> gpd.GeoDataFrame:
    """Read the base-map layer: lines, polygons and named points, drawn under the map.

    Any geometry type; an optional ``name`` column labels the points.

    Raises
    ------
    InputError
        Listing every problem of the layer (when ``problems`` is not given).
    """
    own = problems is None
    problems = problems_for(spec, None) if problems is None else problems
    gdf = read_vector(spec, name="basemap", columns=columns, problems=problems)
    if gdf is not None and gdf.empty:
        problems.add("has no features: leave [inputs] basemap out when there is no "
                     "base-map layer")
    if own:
        problems.raise_if_any()
    return _release(gdf.reset_index(drop=True)) if gdf is not None else gdf


def read_roads(spec: LayerInput, *, columns: Mapping[str, str] | None = None,
               problems: Problems | None = None) -> gpd.GeoDataFrame:
    """Read road lines (any attributes); fibre extensions are measured along them.

    Raises
    ------
    InputError
        Listing every problem of the layer (when ``problems`` is not given).
    """
    own = problems is None
    problems = problems_for(spec, None) if problems is None else problems
    gdf = read_vector(spec, name="roads", columns=columns, problems=problems)
    if gdf is not None:
        if gdf.empty:
            problems.add("has no features: leave [inputs] roads out when there is no "
                         "road layer")
        _check_geometry(gdf, ("LineString", "MultiLineString"), "a line", problems)
    if own:
        problems.raise_if_any()
    return _release(gdf.reset_index(drop=True)) if gdf is not None else gdf


# --------------------------------------------------------------------------- measurements

#: Technologies a measured test may have: the radio ones, and FTTH for fixed-line tests.
MEASURED_TECHNOLOGIES: tuple[str, ...] = (*TECHNOLOGIES, "FTTH")

#: Spellings of fixed-line tests, keyed by :func:`_key`.
_FIXED_ALIASES = {"ftth": "FTTH", "fttx": "FTTH", "fibre": "FTTH", "fiber": "FTTH",
                  "fixed": "FTTH", "ccodinh": "FTTH", "gpon": "FTTH"}

_MEASURED_NUMBERS = {
    # column: (low, high, unit); RSRP outside -150..-30 dBm cannot be a phone's reading
    "rsrp_dbm": (-150.0, -30.0, "dBm"),
    "download_mbps": (0.0, None, "Mb/s"),
    "upload_mbps": (0.0, None, "Mb/s"),
    "latency_ms": (0.0, None, "ms"),
}

#: Sources a test may name; others are kept as given.
MEASUREMENT_SOURCES: tuple[str, ...] = ("drive_test", "crowd", "operator")


def read_measurements(
    spec: LayerInput,
    *,
    communes: gpd.GeoDataFrame | None = None,
    metric_crs: CRS | None = None,
    columns: Mapping[str, str] | None = None,
    operator_aliases: Mapping[str, str] | None = None,
    outside_m: float = 1000.0,
    problems: Problems | None = None,
) -> gpd.GeoDataFrame | None:
    """Read measured tests: drive tests, crowd speed tests (i-Speed), operators' own.

    Parameters
    ----------
    spec : LayerInput
        Points (any format covgap reads, or CSV/XLSX with x/y) with ``operator``,
        ``technology`` (2G-5G, or FTTH for a fixed-line test) and optional
        ``rsrp_dbm`` (dBm), ``download_mbps``, ``upload_mbps`` (Mb/s), ``latency_ms``
        (ms), ``measured_at`` (date or time, as text) and ``source`` ("drive_test",
        "crowd", "operator"; others kept as given).
    communes : GeoDataFrame, optional
        The province's communes (EPSG:4326): tests farther than ``outside_m`` from every
        commune are errors.
    metric_crs : pyproj.CRS, optional
        Projected CRS for that distance; required with ``communes``.
    columns : mapping, optional
        covgap column -> file column (``[inputs.columns.measurements]``).
    operator_aliases : mapping, optional
        Extra operator spellings (``[inputs] operator_aliases``).
    outside_m : float
        Tolerance in metres (``[checks] village_outside_m``).
    problems : Problems, optional
        Collect problems here instead of raising.

    Returns
    -------
    GeoDataFrame or None
        EPSG:4326 points; ``operator`` canonical, ``technology`` one of
        :data:`MEASURED_TECHNOLOGIES`, the numeric columns as floats (NaN when not
        given), ``measured_at`` and ``source`` as text.

    Raises
    ------
    InputError
        Listing every problem of the layer (when ``problems`` is not given): missing
        columns, an RSRP outside -150..-30 dBm, a negative speed or latency, a test
        with neither RSRP nor download speed, a duplicate test, a test outside the
        province, an unknown operator or technology.
    """
    own = problems is None
    problems = problems_for(spec, None) if problems is None else problems
    gdf = read_vector(spec, name="measurements", columns=columns, problems=problems)
    if gdf is not None:
        gdf = _check_measurements(gdf, problems, communes, metric_crs, operator_aliases,
                                  outside_m)
    if own:
        problems.raise_if_any()
    return _release(gdf.reset_index(drop=True)) if gdf is not None else gdf


def _check_measurements(gdf: gpd.GeoDataFrame, problems: Problems,
                        communes: gpd.GeoDataFrame | None, metric_crs: CRS | None,
                        operator_aliases: Mapping[str, str] | None,
                        outside_m: float) -> gpd.GeoDataFrame | None:
    if gdf.empty:
        problems.add("has no features: leave [inputs] measurements out when there are no "
                     "tests")
        return None
    gdf = _canonical(gdf, ("operator", "technology", "measured_at", "source",
                           *_MEASURED_NUMBERS))
    if not _require(gdf, ("operator", "technology"), "measurements", problems):
        return None
    _check_geometry(gdf, ("Point",), "a point", problems)
    _normalise_operator_column(gdf, operator_aliases, problems)
    raw_tech = gdf["technology"]
    keys = raw_tech.astype("string").map(lambda v: _key(v) if isinstance(v, str) else "")
    tech = normalize_technology(raw_tech).fillna(keys.map(_FIXED_ALIASES).astype("string"))
    problems.rows(gdf, tech.isna(), lambda i: (
        f"technology {raw_tech[i]!r} is not known; use one of "
        f"{', '.join(MEASURED_TECHNOLOGIES)} (LTE, NR, fibre are understood)"))
    gdf["technology"] = tech
    for col, (low, high, unit) in _MEASURED_NUMBERS.items():
        if col in gdf:
            _number(gdf, col, problems, low=low, high=high, unit=unit)
        else:
            gdf[col] = np.nan
    empty = gdf["rsrp_dbm"].isna() & gdf["download_mbps"].isna()
    problems.rows(gdf, empty, "has neither rsrp_dbm nor download_mbps: a test must "
                  "measure something")
    fixed_rsrp = (gdf["technology"] == "FTTH").fillna(False) & gdf["rsrp_dbm"].notna()
    problems.rows(gdf, fixed_rsrp, "gives rsrp_dbm for an FTTH test; a fixed line has no "
                  "radio signal: is the technology wrong?")
    for col in ("measured_at", "source"):
        gdf[col] = (_text(gdf[col]).str.strip() if col in gdf
                    else pd.Series(pd.NA, index=gdf.index, dtype="string"))
    gdf["source"] = gdf["source"].str.casefold().str.replace(r"[\s-]+", "_", regex=True)
    located = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    xy = pd.DataFrame({"x": gdf.geometry.x.where(located).round(7),
                       "y": gdf.geometry.y.where(located).round(7)}, index=gdf.index)
    key = pd.concat([xy, gdf[["operator", "technology", "measured_at",
                              *_MEASURED_NUMBERS]]], axis=1).astype("string").fillna("")
    dup = key.duplicated(keep="first") & located
    first = key.reset_index().groupby(list(key.columns), sort=False)["index"].transform("first")
    first.index = key.index
    problems.rows(gdf, dup, lambda i: (
        f"duplicate test: the same place, operator, technology, time and values as "
        f"{gdf.at[first[i], ROW] if ROW in gdf else 'an earlier row'}; remove one"))
    if communes is not None and not communes.empty and metric_crs is not None:
        dist = pd.Series(np.nan, index=gdf.index)
        dist[located] = _nearest_distance_m(gdf.geometry[located], communes, metric_crs)
        problems.rows(gdf, dist > outside_m, lambda i: (
            f"lies {dist[i] / 1000:.1f} km outside the province (tolerance "
            f"{outside_m / 1000:g} km, [checks] village_outside_m); wrong coordinates or "
            "CRS?"))
    return gdf
