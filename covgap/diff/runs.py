"""Reading run directories back: the tables a diff compares, checked as inputs are.

:func:`read_run` reads a run directory written by :meth:`covgap.Result.write` --
``villages.csv``, ``indicators.csv``, ``manifest.json``, and when present
``communes.csv``, the commune polygons of ``results.gpkg`` and the ``gaps_<operator>.csv``
lists -- into a :class:`Run`.  The CSVs are read as text and checked: every problem of a
table is collected and raised in one :class:`~covgap.errors.InputError`, one line each,
naming the file and row.  Vietnamese headers (``[output] csv_headers = "vi"``) are read
too.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from covgap.errors import InputError
from covgap.export.csv import VI_HEADERS
from covgap.export.messages import english_value
from covgap.io.crs import choose_metric_crs

__all__ = ["REQUIRED_FILES", "Run", "coverage_rule", "read_csv", "read_run"]

log = logging.getLogger(__name__)

#: The files a run directory must hold for a diff.
REQUIRED_FILES: tuple[str, ...] = ("villages.csv", "indicators.csv", "manifest.json")


_FROM_VI = {v: k for k, v in VI_HEADERS.items()}


_TRUE, _FALSE = "true", "false"


@dataclass
class Run:
    """A run directory read back (:func:`read_run`).

    ``villages`` has covgap's English column names and types (booleans, numbers);
    ``geometry`` is the communes of ``results.gpkg`` in EPSG:4326, or None;
    ``gap_files`` the rows of each ``gaps_<operator>.csv``; ``metric_crs`` the run's
    projected CRS.
    """

    path: Path
    name: str
    year: Any
    title: str
    manifest: dict
    villages: pd.DataFrame
    indicators: pd.DataFrame
    communes: pd.DataFrame
    geometry: gpd.GeoDataFrame | None
    gap_files: dict[str, int]
    metric_crs: CRS

    @property
    def label(self) -> str:
        """The run's year, else its folder name: how tables and the map name it."""
        return str(self.year) if self.year not in (None, "") else self.path.name


def read_csv(path: Path) -> pd.DataFrame:
    """Read a covgap CSV as text (empty cells NA), with covgap's English column names."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                            encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a CSV covgap wrote ({exc}); rerun `covgap run` to "
                         "write the run directory again") from None
    return frame.rename(columns=lambda c: _FROM_VI.get(c, c))


def _bools(frame: pd.DataFrame, col: str, file: str, problems: list[str]) -> pd.Series:
    if col not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="boolean")
    text = frame[col].str.strip().str.lower()
    bad = text.notna() & ~text.isin([_TRUE, _FALSE])
    for i in np.flatnonzero(bad.to_numpy())[:5]:
        problems.append(f"{file} row {i + 2}: {col} {frame[col].iloc[i]!r} is not "
                        "true/false")
    return text.map({_TRUE: True, _FALSE: False}).astype("boolean")


def _parse_numbers(frame: pd.DataFrame, col: str, file: str, problems: list[str]) -> pd.Series:
    if col not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    values = pd.to_numeric(frame[col], errors="coerce")
    bad = values.isna() & frame[col].notna()
    for i in np.flatnonzero(bad.to_numpy())[:5]:
        problems.append(f"{file} row {i + 2}: {col} {frame[col].iloc[i]!r} is not a number")
    return values.astype(float)


def _read_villages(path: Path) -> pd.DataFrame:
    raw = read_csv(path)
    file = str(path)
    missing = [c for c in ("village_id", "commune_code", "lon", "lat", "mbb_share",
                           "mbb_covered") if c not in raw]
    if missing:
        raise InputError(f"{file}: no column {', '.join(missing)}; covgap's villages.csv "
                         "has them (SPEC.md): rerun `covgap run` with this version")
    problems: list[str] = []
    out = pd.DataFrame(index=raw.index)
    out["village_id"] = raw["village_id"].astype("string")
    out["village_name"] = raw.get("village_name", out["village_id"]).astype("string")
    out["commune_code"] = raw["commune_code"].astype("string")
    out["commune_name"] = raw.get("commune_name", pd.Series(pd.NA, index=raw.index)
                                  ).astype("string")
    for col in ("population", "lon", "lat", "mbb_share", "fibre_distance_m"):
        out[col] = _parse_numbers(raw, col, file, problems)
    for col in ("mbb_covered", "ftth", "lom_song", "usp_eligible"):
        out[col] = _bools(raw, col, file, problems)
    if "lom_song" not in raw:  # covgap's rule: lõm sóng is "not covered"
        out["lom_song"] = ~out["mbb_covered"]
    out["operators"] = raw.get("operators", pd.Series(pd.NA, index=raw.index)).astype("string")
    if "status" in raw:  # a Vietnamese run's "lõm sóng" is covgap's lom_song
        out["status"] = raw["status"].map(english_value).astype("string")
    else:
        out["status"] = pd.Series(np.where(
            out["mbb_covered"].fillna(False), "covered",
            np.where(out["mbb_share"].fillna(0) > 0, "partial", "lom_song")),
            index=raw.index, dtype="string")
    blank = out["village_id"].isna()
    for i in np.flatnonzero(blank.to_numpy())[:5]:
        problems.append(f"{file} row {i + 2}: village_id is empty")
    dup = out["village_id"].duplicated(keep=False) & ~blank
    for vid in out.loc[dup, "village_id"].unique()[:5]:
        rows = ", ".join(str(i + 2) for i in np.flatnonzero((out["village_id"] == vid)
                                                            .fillna(False).to_numpy()))
        problems.append(f"{file} rows {rows}: village_id {vid!r} is not unique")
    if problems:
        raise InputError(f"{file}: {len(problems)} problem(s); was it edited after the run?",
                         problems)
    return out


def _read_indicators(path: Path) -> pd.DataFrame:
    raw = read_csv(path)
    missing = [c for c in ("level", "code", "indicator", "value") if c not in raw]
    if missing:
        raise InputError(f"{path}: no column {', '.join(missing)}; covgap's indicators.csv "
                         "has level, code, name, indicator, value, target, met")
    problems: list[str] = []
    out = pd.DataFrame({
        "level": raw["level"], "code": raw["code"].astype("string"),
        "name": raw.get("name", raw["code"]).astype("string"), "indicator": raw["indicator"],
        "value": _parse_numbers(raw, "value", str(path), problems),
        "target": _parse_numbers(raw, "target", str(path), problems),
        "unit": raw.get("unit", pd.Series(pd.NA, index=raw.index)),
        "source": raw.get("source", pd.Series("map", index=raw.index)).fillna("map")})
    if problems:
        raise InputError(f"{path}: {len(problems)} problem(s)", problems)
    return out


def _read_geometry(path: Path) -> gpd.GeoDataFrame | None:
    """Return the communes of ``results.gpkg`` (EPSG:4326), or None without them."""
    if not path.is_file():
        return None
    try:
        layers = {str(name) for name, _ in pyogrio.list_layers(path)}
        if "communes" not in layers:
            return None
        frame = gpd.read_file(path, layer="communes")
    except (pyogrio.errors.DataSourceError, OSError, ValueError) as exc:
        log.warning("%s: commune polygons not readable (%s); going on without them", path, exc)
        return None
    if "commune_code" not in frame or frame.crs is None or not len(frame):
        return None
    frame["commune_code"] = frame["commune_code"].astype("string")
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    frame = frame.to_crs("EPSG:4326")
    frame["geometry"] = shapely.make_valid(frame.geometry.to_numpy())
    return frame


def read_run(path: str | Path, which: str) -> Run:
    """Read a run directory back for a diff.

    Parameters
    ----------
    path : str or Path
        A run directory written by :meth:`covgap.Result.write`
        (``<output.dir>/<run.name>/<run.year>/``).
    which : str
        "A" or "B": how messages name the run.

    Returns
    -------
    Run
        Its tables; ``metric_crs`` is the run's (the manifest's ``inputs.metric_crs``),
        else the UTM zone of its villages, as a run chooses it.

    Raises
    ------
    InputError
        No such folder, a required file missing (all named), a manifest that is not a
        run record, or tables that cannot be read (every problem, one line each).

    Examples
    --------
    >>> a = read_run("out/tinh-mau/2024", "A")  # doctest: +SKIP
    >>> a.label, len(a.villages)  # doctest: +SKIP
    ('2024', 412)
    """
    folder = Path(path)
    manifest = _read_manifest(folder, which)
    run_cfg = (manifest.get("config") or {}).get("run") or {}
    name = str(run_cfg.get("name") or folder.parent.name)
    villages = _read_villages(folder / "villages.csv")
    indicators = _read_indicators(folder / "indicators.csv")
    geometry = _read_geometry(folder / "results.gpkg")
    return Run(path=folder, name=name, year=run_cfg.get("year"),
               title=str(run_cfg.get("title") or name), manifest=manifest, villages=villages,
               indicators=indicators, communes=_read_communes(folder, villages, geometry),
               geometry=geometry, gap_files=_gap_files(folder),
               metric_crs=_metric_crs(manifest, villages))


def _read_manifest(folder: Path, which: str) -> dict:
    """Check that a folder is a run directory and return its manifest."""
    if not folder.is_dir():
        raise InputError(
            f"run {which} {folder}: no such folder; give a run directory `covgap run` wrote "
            "(<output.dir>/<run.name>/<run.year>/)")
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise InputError(
            f"run {which} {folder}: is this a covgap run directory? `covgap run` writes "
            "villages.csv, indicators.csv and manifest.json into <output.dir>/<run.name>/"
            "<run.year>/; point to that folder, or rerun `covgap run`",
            [f"{folder / f} is missing" for f in missing])
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{folder / 'manifest.json'}: not valid JSON ({exc}); rerun "
                         "`covgap run`") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{folder / 'manifest.json'}: not a covgap run record; rerun "
                         "`covgap run`")
    return manifest


def _read_communes(folder: Path, villages: pd.DataFrame,
                   geometry: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Return the communes: ``communes.csv``, else the polygons, else the villages' codes.

    Communes that only the villages name are added, so every village has its commune.
    """
    if (folder / "communes.csv").is_file():
        table = read_csv(folder / "communes.csv")
        if "commune_code" not in table:
            raise InputError(f"{folder / 'communes.csv'}: no column commune_code; rerun "
                             "`covgap run` to write the run directory again")
        communes = pd.DataFrame({
            "commune_code": table["commune_code"].astype("string"),
            "commune_name": table.get("commune_name", table["commune_code"]).astype("string"),
            "region": table.get("region", pd.Series(pd.NA, index=table.index))})
    elif geometry is not None:
        communes = pd.DataFrame({
            "commune_code": geometry["commune_code"],
            "commune_name": geometry.get("commune_name", geometry["commune_code"]),
            "region": geometry.get("region", pd.Series(pd.NA, index=geometry.index))})
    else:
        communes = villages[["commune_code", "commune_name"]].drop_duplicates("commune_code")
    extra = villages.loc[~villages["commune_code"].isin(communes["commune_code"])
                         & villages["commune_code"].notna(), ["commune_code", "commune_name"]]
    communes = pd.concat([communes, extra.drop_duplicates("commune_code")], ignore_index=True)
    return communes.drop_duplicates("commune_code").reset_index(drop=True)


def _gap_files(folder: Path) -> dict[str, int]:
    """Return the rows of each ``gaps_<operator>.csv``, by the file name's operator part."""
    gap_files = {}
    for f in sorted(folder.glob("gaps_*.csv")):
        with f.open(encoding="utf-8-sig") as fh:
            gap_files[f.stem.removeprefix("gaps_")] = len(pd.read_csv(fh, dtype=str))
    return gap_files


def _metric_crs(manifest: dict, villages: pd.DataFrame) -> CRS:
    """Return the manifest's metric CRS, else one chosen from the villages as a run does."""
    crs_text = (manifest.get("inputs") or {}).get("metric_crs")
    try:
        metric = CRS.from_user_input(crs_text) if crs_text else None
    except CRSError:  # an unreadable CRS text: choose one as a run does
        metric = None
    if metric is None or not metric.is_projected:
        lon = villages["lon"].dropna().to_numpy()
        metric = choose_metric_crs(lon if len(lon) else np.array([105.0]))
    return metric


def coverage_rule(manifest: dict) -> dict:
    """Return the parts of a run's configuration that decide "covered" and "FTTH".

    Parameters
    ----------
    manifest : dict
        A run's ``manifest.json``.

    Returns
    -------
    dict
        ``coverage.model``, ``coverage.technologies``, ``coverage.min_rsrp_dbm``,
        ``coverage.radius_m`` and ``rules``: two runs whose values differ used different
        rules, so some changes between them come from the rule, not the network.

    Examples
    --------
    >>> coverage_rule({"config": {"coverage": {"model": "radius"}}})["coverage.model"]
    'radius'
    """
    cfg = manifest.get("config") or {}
    cov = cfg.get("coverage") or {}
    return {"coverage.model": cov.get("model"), "coverage.technologies": cov.get("technologies"),
            "coverage.min_rsrp_dbm": cov.get("min_rsrp_dbm"),
            "coverage.radius_m": cov.get("radius_m"), "rules": cfg.get("rules")}
