"""Read any vector layer (OGR formats, CSV, XLSX) into WGS84, collecting problems.

This module knows files, columns and coordinates; what a commune, village, site or
fibre feature must look like is in :mod:`covgap.io.layers`.
"""

from __future__ import annotations

import logging
import re
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from covgap.config import LayerInput
from covgap.errors import InputWarning
from covgap.io.crs import WGS84, parse_crs
from covgap.io.problems import ROW, Problems
from covgap.io.text import strip_invisible

__all__ = ["MAX_TABLE_BYTES", "MAX_VECTOR_BYTES", "TABLE_SUFFIXES", "number_column",
           "read_vector", "readable_file"]

log = logging.getLogger(__name__)

TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
#: Vector formats stored as a folder (ESRI File Geodatabase).
DIRECTORY_FORMATS = {".gdb"}

#: Largest CSV/XLSX covgap reads, bytes: a table is read whole into memory (about ten
#: times its size as a DataFrame), and Vietnam's 100,000 villages or 200,000 cells fit
#: in well under 100 MB.  Larger files are refused instead of exhausting memory.
MAX_TABLE_BYTES = 2 * 2**30
#: Largest file of another vector format (GeoPackage, shapefile, ...), bytes.
MAX_VECTOR_BYTES = 8 * 2**30
_X_NAMES = ("lon", "longitude", "long", "lng", "x", "kinh_do", "kinhdo", "kinh do")
_Y_NAMES = ("lat", "latitude", "y", "vi_do", "vido", "vi do")

# Mainland Vietnam spans about lon 102.1-109.5, lat 8.2-23.4 (DOMAIN.md); the islands
# reach lon 117.  Used to tell swapped axes and wrong CRSs from plausible points.
VN_LON = (102.0, 117.5)
VN_LAT = (8.0, 23.5)


def read_vector(
    spec: LayerInput,
    *,
    name: str,
    columns: Mapping[str, str] | None = None,
    problems: Problems,
) -> gpd.GeoDataFrame | None:
    """Read one vector layer into WGS84 (EPSG:4326).

    Parameters
    ----------
    spec : LayerInput
        Where the layer is and how to read it.
    name : str
        The layer's role ("sites"), used in messages about the configuration.
    columns : mapping, optional
        covgap column name -> column name in the file (``[inputs.columns.<name>]``).
    problems : Problems
        Collector the problems are added to.

    Returns
    -------
    GeoDataFrame or None
        In EPSG:4326 with the columns renamed to covgap's names and a :data:`ROW`
        column locating each feature in its file; None when the file cannot be read
        at all (the reason is in ``problems``).
    """
    path = Path(spec.path)
    if not path.exists():
        problems.add(f"file not found ({path}); check [inputs] {name}")
        return None
    if not readable_file(path, name, problems):
        return None
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        frame = _read_table(spec, path, problems)
        if frame is None:
            return None
        frame = _rename(_strip_marks(frame, problems), columns, name, problems)
        return _points_from_xy(frame, spec, name, problems)
    gdf = _read_ogr(spec, path, problems)
    if gdf is None:
        return None
    gdf = _rename(_strip_marks(gdf, problems), columns, name, problems)
    return _to_wgs84(gdf, spec, name, problems)


def readable_file(path: Path, name: str, problems: Problems, *,
                  max_bytes: int | str | None = "auto") -> bool:
    """Check that ``path`` is a regular file covgap may read, else add a problem.

    Parameters
    ----------
    path : Path
    name : str
        The layer's key in ``[inputs]``, for the fix.
    problems : Problems
    max_bytes : int, None or "auto"
        Largest size accepted; "auto": :data:`MAX_TABLE_BYTES` for CSV/XLSX,
        :data:`MAX_VECTOR_BYTES` for other formats; None: no cap (rasters, read in blocks).

    Returns
    -------
    bool
        False when the file is a device, pipe, socket, a folder that is no known
        format, or too large (the reason is in ``problems``).
    """
    try:
        st = path.stat()
    except OSError as exc:
        problems.add(f"cannot be read: {exc.strerror}; check [inputs] {name}")
        return False
    if path.is_dir():
        if path.suffix.lower() in DIRECTORY_FORMATS:  # a File Geodatabase is a folder
            return True
        problems.add(f"is a folder, not a file ({path}); check [inputs] {name}")
        return False
    if not stat.S_ISREG(st.st_mode):
        problems.add(f"is not a regular file ({path} is a device, pipe or socket); give "
                     f"the path of a file in [inputs] {name}")
        return False
    cap = ((MAX_TABLE_BYTES if path.suffix.lower() in TABLE_SUFFIXES else MAX_VECTOR_BYTES)
           if max_bytes == "auto" else max_bytes)
    if cap is not None and st.st_size > cap:
        problems.add(
            f"is {_size(st.st_size)}, more than covgap reads from one "
            f"{'CSV/XLSX' if cap == MAX_TABLE_BYTES else 'vector'} file ({_size(cap)}); "
            "split it by province, or convert it to a GeoPackage")
        return False
    return True


def _size(n: int) -> str:
    """Return a file size for people: ``"3.0 GiB"``, ``"12.5 MiB"``, ``"100 bytes"``."""
    for unit, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= unit:
            return f"{n / unit:.1f} {name}"
    return f"{n} bytes"


def _strip_marks(frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """Remove zero-width and right-to-left marks from headers and text cells, with a warning."""
    removed = 0
    out = frame
    headers = pd.Series([str(c) for c in frame.columns], dtype=object)
    clean_headers, n = strip_invisible(headers)
    if n:
        removed += n
        out = out.rename(columns=dict(zip(frame.columns, clean_headers, strict=True)))
    columns = []
    for col in out.columns:
        if col in (ROW, "geometry"):
            continue
        cleaned, n = strip_invisible(out[col])
        if n:
            if out is frame:
                out = frame.copy()
            out[col] = cleaned
            removed += n
            columns.append(str(col))
    if removed:
        where = f" (in {', '.join(columns)})" if columns else " (in the column names)"
        warnings.warn(
            f"{problems.source}: removed {removed} invisible zero-width or right-to-left "
            f"mark(s) (U+200B-U+200F, U+202A-U+202E, U+2066-U+2069, U+FEFF){where}",
            InputWarning, stacklevel=4)
    return out


def _read_table(spec: LayerInput, path: Path, problems: Problems) -> pd.DataFrame | None:
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, sheet_name=spec.sheet or 0, dtype=object)
        else:
            sep = "\t" if suffix == ".tsv" else None
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                                encoding=spec.encoding or "utf-8-sig", sep=sep,
                                engine="python")
    except UnicodeDecodeError as exc:
        problems.add(
            f"is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as \"CSV UTF-8\" "
            "from Excel, or set encoding = \"cp1258\" (Vietnamese Windows) in its [inputs] "
            "table")
        return None
    except ValueError as exc:  # e.g. a missing sheet
        problems.add(f"cannot be read: {exc}")
        return None
    except Exception as exc:
        problems.add(f"cannot be read: {type(exc).__name__}: {exc}")
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    # before the coordinate columns, the best evidence, are dropped
    _remember_file_decimal(frame)
    # One convention for positions in messages (problems.py): a table's rows are named as
    # Excel and LibreOffice number them, "row N" with the header on row 1, so data row i
    # (0-based) is row i + 2; that is the number a user sees next to the cell.
    frame[ROW] = [f"row {i + 2}" for i in range(len(frame))]
    return frame


def _read_ogr(spec: LayerInput, path: Path, problems: Problems) -> gpd.GeoDataFrame | None:
    kwargs: dict[str, object] = {"engine": "pyogrio", "fid_as_index": True}
    if spec.layer:
        kwargs["layer"] = spec.layer
    if spec.encoding:
        kwargs["encoding"] = spec.encoding
    try:
        with warnings.catch_warnings():
            # pyogrio warns when a file has several layers and none was named;
            # reading the first is documented behaviour.
            warnings.filterwarnings("ignore", message=".*More than one layer found.*")
            gdf = gpd.read_file(path, **kwargs)
    except Exception as exc:
        problems.add(f"cannot be read by GDAL/OGR: {exc}")
        return None
    gdf[ROW] = [f"feature {n}" for n in feature_numbers(path, gdf.index)]
    return gdf.reset_index(drop=True)


#: Formats whose feature ids are stored, start at 1 and are what QGIS shows (fid).
_STORED_FID_SUFFIXES = {".gpkg", ".sqlite", ".db"}


def feature_numbers(path: Path, fids: pd.Index) -> list[int]:
    """Return the 1-based feature number QGIS shows for each feature of a GDAL layer.

    GeoPackage and SpatiaLite store a feature id starting at 1 (``fid``), kept even when
    features were deleted; other formats (shapefile, GeoJSON, KML, ...) have no stored id
    and GDAL counts from 0, so the number is the position in the file plus one.
    """
    if Path(path).suffix.lower() in _STORED_FID_SUFFIXES:
        return [int(i) for i in fids]
    return list(range(1, len(fids) + 1))


def _rename(frame: pd.DataFrame, columns: Mapping[str, str] | None, name: str,
            problems: Problems) -> pd.DataFrame:
    """Apply ``[inputs.columns.<name>]`` (covgap name = file column)."""
    if not columns:
        return frame
    present = set(frame.columns)
    rename = {}
    for ours, theirs in columns.items():
        if theirs in present:
            rename[theirs] = ours
        else:
            problems.add(
                f"column {theirs!r} (mapped to {ours} in [inputs.columns.{name}]) is not in "
                f"the file; its columns are: {', '.join(_visible(frame.columns))}")
    return frame.rename(columns=rename)


def _visible(cols: pd.Index) -> list[str]:
    return [str(c) for c in cols if c not in (ROW, "geometry")]


def find_column(frame: pd.DataFrame, wanted: str) -> str | None:
    """Return the column named ``wanted``, matched case-insensitively, or None."""
    if wanted in frame.columns:
        return wanted
    folded = {str(c).casefold(): c for c in frame.columns}
    return folded.get(wanted.casefold())


# How a number cell is written.  A single group of three digits after the separator
# ("2.020", "2,020") is ambiguous: 2.02 with three decimals, or 2020 with a thousands
# separator.  Everything else says which character is the decimal separator.
_SIGN = r"[+-]?"
_AMBIGUOUS_DOT = re.compile(_SIGN + r"[1-9]\d{0,2}\.\d{3}")
_AMBIGUOUS_COMMA = re.compile(_SIGN + r"[1-9]\d{0,2},\d{3}")
_DECIMAL_DOT = re.compile(
    _SIGN + r"(?:\d*\.\d+(?:[eE][+-]?\d+)?"          # 2.5, .5, 105.33, 1.5e3
    r"|[1-9]\d{0,2}(?:,\d{3})+\.\d+"                 # 1,234.5
    r"|[1-9]\d{0,2}(?:,\d{3}){2,})")                    # 1,234,567
_DECIMAL_COMMA = re.compile(
    _SIGN + r"(?:\d*,\d+"                              # 2,5, 105,33
    r"|[1-9]\d{0,2}(?:\.\d{3})+,\d+"                 # 1.234,5
    r"|[1-9]\d{0,2}(?:\.\d{3}){2,})")                  # 1.234.567


#: ``DataFrame.attrs`` key of the decimal separator of the file a frame was read from:
#: a function computing it once, when a column needs it (rarely: only a column whose
#: own cells do not tell).  A function, because pandas copies ``attrs`` with every
#: operation and copies a function by reference, not the frame it reads.
DECIMAL_ATTR = "covgap_decimal"

_LABELS = ((_AMBIGUOUS_DOT, "?."), (_AMBIGUOUS_COMMA, "?,"), (_DECIMAL_DOT, "."),
           (_DECIMAL_COMMA, ","))


def _label(value: object) -> str | None:
    if not isinstance(value, str) or ("." not in value and "," not in value):
        return None
    value = value.strip()
    for pattern, label in _LABELS:
        if pattern.fullmatch(value):
            return label
    return None


def _classify(text: pd.Series) -> pd.Series:
    """Label each cell "." or "," (its decimal separator), "?." / "?," (ambiguous) or None."""
    uniques = pd.unique(text.to_numpy(dtype=object))
    table = {u: _label(u) for u in uniques}
    return pd.Series([table[v] for v in text.to_numpy(dtype=object)], index=text.index,
                     dtype=object)


def _decimal_of(labels: pd.Series) -> str | None:
    """"." or "," when the cells say so and do not contradict each other, else None."""
    seen = {v for v in pd.unique(labels.to_numpy(dtype=object)) if v in (".", ",")}
    return seen.pop() if len(seen) == 1 else None


def _remember_file_decimal(frame: pd.DataFrame) -> None:
    """Attach to ``frame`` (the file as read) how to find its decimal separator."""
    text_columns = [frame[c] for c in frame.columns if c not in (ROW, "geometry")
                    and (pd.api.types.is_object_dtype(frame[c])
                         or pd.api.types.is_string_dtype(frame[c]))]
    memo: list[str | None] = []

    def decimal() -> str | None:
        if not memo:
            seen: set[str] = set()
            for column in text_columns:
                labels = _classify(column)
                seen |= {v for v in pd.unique(labels.to_numpy(dtype=object))
                         if v in (".", ",")}
                if len(seen) == 2:
                    break
            memo.append(seen.pop() if len(seen) == 1 else None)
        return memo[0]

    frame.attrs[DECIMAL_ATTR] = decimal


def _file_decimal(frame: pd.DataFrame) -> str | None:
    """Return the decimal separator of the text cells of a file; None if unknown or mixed.

    The frame is the file (or what is left of it), so every text column is evidence.
    """
    if not callable(frame.attrs.get(DECIMAL_ATTR)):
        _remember_file_decimal(frame)
    return frame.attrs[DECIMAL_ATTR]()


def number_column(frame: pd.DataFrame, column: str, problems: Problems | None = None,
                  ) -> tuple[pd.Series, pd.Series]:
    """Parse a column as numbers, written the English or the Vietnamese way.

    Parameters
    ----------
    frame : DataFrame
        The whole layer as read from its file (its other text columns are evidence of
        the file's decimal separator).
    column : str
    problems : Problems, optional
        Where an ambiguous column is reported (once, with an example row); without it
        the ambiguous cells count as ``bad``.

    Returns
    -------
    values : Series of float
        NaN where the cell is empty, not a number or ambiguous.
    bad : Series of bool
        True where a non-empty cell is not a number.

    Notes
    -----
    Vietnamese files (and Excel in a Vietnamese locale) write decimals with a comma and
    group thousands with a dot: ``2.020`` is two thousand and twenty, ``2,5`` two and a
    half.  The decimal separator of a column is what its own cells show (``2,5``,
    ``1.234,5`` or ``1.234.567`` mean a comma; ``2.5`` or ``1,234.5`` a dot), else
    what the file's other text columns show.  A column whose numbers could be read
    either way (only ``2.020``-like values, and no evidence in the file) is refused
    rather than guessed.
    """
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.astype(float)
        return values, pd.Series(False, index=frame.index)
    # numbers already (Excel cells) are taken as they are; only text is parsed, cell by
    # cell in plain Python (pandas' string methods cost ten times as much a cell)
    cells = raw.to_numpy(dtype=object)
    is_text = np.fromiter((isinstance(v, str) for v in cells), dtype=bool, count=len(cells))
    where = np.flatnonzero(is_text)
    stripped = [v.strip() for v in cells[where]]
    labels = _classify(raw)
    ambiguous = labels.isin(["?.", "?,"]).astype(bool)
    decimal = _decimal_of(labels)
    if decimal is None and ambiguous.any():  # only then does the rest of the file matter
        decimal = _file_decimal(frame)
    if decimal == ",":
        cleaned = [t.replace(".", "").replace(",", ".") for t in stripped]
        ambiguous[:] = False
    elif decimal == ".":
        cleaned = [t.replace(",", "") for t in stripped]
        ambiguous[:] = False
    else:  # each cell by its own form; the ambiguous ones cannot be read
        cleaned = [t.replace(".", "").replace(",", ".") if label == "," else
                   t.replace(",", "") if label == "." else
                   None if label in ("?.", "?,") else t
                   for t, label in zip(stripped, labels.to_numpy(dtype=object)[where],
                                       strict=True)]
    text = _strings(stripped, where, raw.index)
    values = pd.to_numeric(_strings(cleaned, where, raw.index), errors="coerce").astype(float)
    other = ~is_text & raw.notna().to_numpy()
    if other.any():
        cells = raw[other]
        numeric = np.array([isinstance(v, int | float | np.number) and not isinstance(
            v, bool | np.bool_) for v in cells.to_numpy(dtype=object)], dtype=bool)
        values[other] = np.where(numeric, pd.to_numeric(cells.where(numeric), errors="coerce"),
                                 np.nan)
        text = text.where(~other, raw.astype("string"))
    values = values.where(np.isfinite(values))  # "inf", "nan" and 1e999 are not numbers
    bad = values.isna() & text.notna() & (text != "") & ~ambiguous
    if ambiguous.any():
        if problems is None:
            bad |= ambiguous
        else:
            first = frame.index[ambiguous.to_numpy()][0]
            cell = str(text[first])
            sep = "." if "." in cell else ","
            name = "a decimal point" if sep == "." else "a decimal comma"
            group = "a dot" if sep == "." else "a comma"
            small, large = f"{float(cell.replace(',', '.')):g}", cell.replace(sep, "")
            problems.extend([
                f"{problems.where(frame, first)}: {column} {cell!r} is ambiguous: "
                f"{small} with {name}, or {large} with {group} "
                f"grouping thousands? {int(ambiguous.sum())} cell(s) of column {column} are "
                "written like this and the file has no other decimals to tell; write the "
                f"numbers without thousands separators ({large})"])
    return values, bad


def _strings(texts: list[str | None], where: np.ndarray, index: pd.Index) -> pd.Series:
    """Return a string column holding ``texts`` at positions ``where``, NA elsewhere."""
    cells = np.full(len(index), None, dtype=object)
    cells[where] = texts
    return pd.Series(cells, index=index, dtype="string")


def _points_from_xy(frame: pd.DataFrame, spec: LayerInput, name: str,
                    problems: Problems) -> gpd.GeoDataFrame | None:
    xcol = spec.x or next((c for n in _X_NAMES if (c := find_column(frame, n))), None)
    ycol = spec.y or next((c for n in _Y_NAMES if (c := find_column(frame, n))), None)
    missing = [(axis, col, names) for axis, col, names in
               (("x", xcol, _X_NAMES), ("y", ycol, _Y_NAMES)) if col is None]
    for axis, _, names in missing:
        problems.add(
            f"no {axis} coordinate column: looked for {', '.join(names)}; name it with "
            f"{axis} = \"<column>\" in the [inputs] {name} table (columns: "
            f"{', '.join(_visible(frame.columns))})")
    if missing:
        return None
    for axis, col in (("x", xcol), ("y", ycol)):
        if col not in frame.columns:
            problems.add(
                f"{axis} column {col!r} given in [inputs] {name} is not in the file "
                f"(columns: {', '.join(_visible(frame.columns))})")
            return None
    x, xbad = number_column(frame, xcol, problems)
    y, ybad = number_column(frame, ycol, problems)
    problems.rows(frame, xbad, lambda i: f"{xcol} {frame.at[i, xcol]!r} is not a number")
    problems.rows(frame, ybad, lambda i: f"{ycol} {frame.at[i, ycol]!r} is not a number")
    empty = (x.isna() & ~xbad) | (y.isna() & ~ybad)
    problems.rows(frame, empty, f"{xcol}/{ycol} is empty: every feature needs coordinates")

    if spec.crs:
        crs = _crs_or_problem(spec.crs, name, problems)
        if crs is None:
            return None
    else:
        ok = x.notna() & y.notna()
        # projected eastings and northings are in the hundred thousands; degrees are not
        in_degrees = bool(((x[ok].abs() <= 360) & (y[ok].abs() <= 360)).all())
        if not in_degrees:
            problems.add(
                f"{xcol}/{ycol} are not degrees (x up to {x.abs().max():,.0f}) and no crs is "
                f"given; set crs in the [inputs] {name} table, e.g. crs = \"EPSG:3405\" "
                "(VN-2000 UTM 48N) or \"VN2000:TM3:105\" (a provincial TM-3 zone)")
            return None
        crs = WGS84
    geometry = gpd.points_from_xy(x.to_numpy(), y.to_numpy())
    gdf = gpd.GeoDataFrame(frame.drop(columns=[xcol, ycol]), geometry=geometry, crs=crs)
    gdf.attrs["xy_columns"] = (xcol, ycol)
    gdf.attrs[DECIMAL_ATTR] = frame.attrs.get(DECIMAL_ATTR)
    return _to_wgs84(gdf, spec, name, problems)


def _crs_or_problem(text: str, name: str, problems: Problems):
    try:
        return parse_crs(text)
    except ValueError as exc:
        problems.add(f"crs in [inputs] {name}: {exc}")
        return None


def _to_wgs84(gdf: gpd.GeoDataFrame, spec: LayerInput, name: str,
              problems: Problems) -> gpd.GeoDataFrame | None:
    if spec.crs and "xy_columns" not in gdf.attrs:
        crs = _crs_or_problem(spec.crs, name, problems)
        if crs is None:
            return None
        if gdf.crs is not None and not gdf.crs.equals(crs):
            log.info("%s: CRS %s of the file replaced by the configured %s",
                     problems.source, gdf.crs.name, crs.name)
        gdf = gdf.set_crs(crs, allow_override=True)
    if gdf.crs is None:
        problems.add(
            f"has no CRS (is the .prj missing?); give it in the [inputs] {name} table, e.g. "
            f"{name} = {{ path = \"{Path(spec.path).name}\", crs = \"EPSG:3405\" }} for VN-2000 "
            "UTM 48N, \"EPSG:3406\" for 49N, \"VN2000:TM3:105\" for a provincial TM-3 zone, "
            "\"EPSG:4326\" for WGS84 lon/lat")
        return None
    geom = gdf.geometry
    empty = geom.isna() | geom.is_empty
    problems.rows(gdf, empty, "has no geometry")
    if gdf.crs.is_geographic:
        drop = _check_lonlat(gdf, ~empty.to_numpy(), spec, name, problems)
        if drop is None:
            return None
        gdf = gdf[~drop]
    out = gdf.to_crs(WGS84) if not gdf.crs.equals(WGS84) else gdf
    return _check_in_vietnam(out, problems, gdf.crs)


def _check_lonlat(gdf: gpd.GeoDataFrame, valid: np.ndarray, spec: LayerInput, name: str,
                  problems: Problems) -> np.ndarray | None:
    """Report swapped or impossible lon/lat.

    Returns the rows to drop, or None when the whole layer is unusable.
    """
    bounds = shapely.bounds(gdf.geometry.to_numpy())
    x = (bounds[:, 0] + bounds[:, 2]) / 2
    y = (bounds[:, 1] + bounds[:, 3]) / 2
    x_is_lat = (x >= VN_LAT[0]) & (x <= VN_LAT[1])
    y_is_lon = (y >= VN_LON[0]) & (y <= VN_LON[1])
    x_is_lon = (x >= VN_LON[0]) & (x <= VN_LON[1])
    swapped = valid & x_is_lat & y_is_lon & ~x_is_lon
    n_valid = int(valid.sum())
    projected = valid & ((np.abs(x) > 360) | (np.abs(y) > 360))
    if n_valid and projected.sum() > n_valid / 2:
        # metres under a CRS that says degrees: a wrong or missing-then-guessed .prj
        problems.add(
            f"coordinates are not degrees (x up to {np.nanmax(np.abs(x[valid])):,.0f}) but "
            f"the file's CRS is geographic ({gdf.crs.name}); give the real CRS in the "
            f"[inputs] {name} table, e.g. crs = \"EPSG:3405\" (VN-2000 UTM 48N) or "
            "\"VN2000:TM3:105\" (a provincial TM-3 zone)")
        return None
    if n_valid and swapped.sum() > n_valid / 2:
        xy = gdf.attrs.get("xy_columns")
        if xy:
            fix = (f"swap them: x = \"{xy[1]}\", y = \"{xy[0]}\" in the [inputs] {name} "
                   "table")
        else:
            fix = "the file stores (lat, lon): re-export it with longitude first"
        problems.add(
            f"longitude and latitude look swapped in {int(swapped.sum())} of {n_valid} "
            f"features (x {np.nanmin(x[valid]):.4f}..{np.nanmax(x[valid]):.4f} are Vietnamese "
            f"latitudes, y {np.nanmin(y[valid]):.4f}..{np.nanmax(y[valid]):.4f} longitudes); "
            f"{fix}")
        return None
    problems.rows(gdf, swapped, lambda i: (
        f"lon {x[gdf.index.get_loc(i)]:.6f}, lat {y[gdf.index.get_loc(i)]:.6f} look swapped "
        "(the longitude is a Vietnamese latitude); swap them in this row"))
    bad_lat = valid & ~swapped & (np.abs(y) > 90)
    problems.rows(gdf, bad_lat, lambda i: (
        f"lat {y[gdf.index.get_loc(i)]:g} is outside -90..90; are the x/y columns swapped?"))
    bad_lon = valid & ~swapped & (np.abs(x) > 180)
    problems.rows(gdf, bad_lon, lambda i: (
        f"lon {x[gdf.index.get_loc(i)]:g} is outside -180..180; is the CRS right?"))
    # the unusable rows are dropped so later checks see only the rest
    return swapped | bad_lat | bad_lon


def _check_in_vietnam(gdf: gpd.GeoDataFrame, problems: Problems,
                      source_crs: object) -> gpd.GeoDataFrame | None:
    """Report features outside Vietnam; return the layer without them (None: all out)."""
    valid = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    if not valid.any():
        return gdf
    pts = shapely.point_on_surface(gdf.geometry.to_numpy()[valid])
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    outside = ~((lon >= VN_LON[0] - 1) & (lon <= VN_LON[1] + 1) &
                (lat >= VN_LAT[0] - 1) & (lat <= VN_LAT[1] + 1))
    if not outside.any():
        return gdf
    mask = np.zeros(len(gdf), dtype=bool)
    mask[np.flatnonzero(valid)[outside]] = True
    if outside.all():
        problems.add(
            f"all {int(valid.sum())} features lie outside Vietnam when read as "
            f"{getattr(source_crs, 'name', source_crs)} (e.g. lon {lon[0]:.4f}, "
            f"lat {lat[0]:.4f}); is the CRS right? "
            "VN-2000 data is usually EPSG:3405/3406 or \"VN2000:TM3:<central meridian>\"")
        return None
    where = np.flatnonzero(mask)
    coords = dict(zip(gdf.index[where], zip(lon[outside], lat[outside], strict=True),
                      strict=True))
    problems.rows(gdf, mask, lambda i: (
        f"lies outside Vietnam (lon {coords[i][0]:.4f}, lat {coords[i][1]:.4f}); wrong "
        "coordinates?"))
    return gdf[~mask]
