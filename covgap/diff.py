"""Year over year: what changed between two run directories of a province.

Provinces rerun covgap every year and report the change (Quyết định 885/QĐ-BTTTT asks
for the indicators "year over year").  :func:`diff_runs` reads two run directories
written by :meth:`covgap.Result.write` (year A, then year B) and returns a
:class:`RunDiff`:

- **villages**: every village of either year with its change: "newly covered",
  "newly lost", "still lom_song", "new gap" (still covered but lost FTTH), "gap closed"
  (gained FTTH), "unchanged", or "new village" / "removed village" when it is in one
  year only.  Villages are matched by ``village_id``; the villages left over are matched
  by location, one to one, nearest first, within ``match_distance_m`` (200 m), and
  ``matched_by`` says which.
- **crosswalk** from A's commune codes to B's (communes were merged on 1 July 2025):
  the explicit table when one is given (``code_a, code_b[, weight]``); the identity when
  both years have the same codes; else an area-weighted overlay of the two years'
  commune polygons (``results.gpkg`` layer ``communes``) in B's metric CRS, weight =
  area(A ∩ B) / area(A); without polygons, the share of A's commune's villages that went
  to each B commune (method "villages").
- **communes**: per commune of B, the villages in each change class and A's indicators
  recomputed on B's communes beside B's, with the deltas.  A's villages are put into B's
  communes by the village match (the matched village's ``commune_code`` in B), so the
  village indicators are recomputed exactly from A's village rows (a removed village by
  its location in B's polygons, else by the crosswalk's largest share).
- **indicators**: the province's indicators of A and B with the deltas and B's targets,
  and the village-based indicators (``villages_mbb_pct``, ``villages_ftth_pct``,
  ``population_mbb_pct``, ``usp_villages``) per commune of B.  ``bts_sharing_pct`` and
  ``commune_centres_5g_pct`` are compared at province level only: they depend on site
  locations and commune centres, which the village table does not carry, so they are
  not recomputed on the other year's communes.
- **operators**: per operator, the villages it newly covers or no longer covers (its
  name in the villages' ``operators`` list) and the length of its gap list
  (``gaps_<operator>.csv``) in A and B.

A change may come from the network or from the rule: when the two runs used different
coverage rules (model, technologies, thresholds, ``[rules]``) :attr:`RunDiff.notes`
says so, and the written ``diff.json`` records it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from covgap._version import __version__
from covgap.analysis.indicators import INDICATORS, percent
from covgap.errors import InputError, InputWarning
from covgap.export.csv import VI_HEADERS, write_csv
from covgap.export.map import (
    _BACKGROUND,
    COMMUNE_NO_DATA_COLOR,
    COORD_DECIMALS,
    LABEL_MIN_ZOOM,
    _esc,
    _fmt,
    _inline_assets,
    _numbers,
    _pct,
    _Piece,
    _Raw,
    _rounded_geojson,
    _simplify,
)
from covgap.io.crs import choose_metric_crs
from covgap.pipeline import _file_part, write_atomic

__all__ = ["CHANGES", "MATCH_DISTANCE_M", "VILLAGE_INDICATORS", "RunDiff", "diff_runs"]

log = logging.getLogger(__name__)

#: The change classes of a village, in the order tables and the map list them.
CHANGES: tuple[str, ...] = ("newly covered", "newly lost", "still lom_song", "new gap",
                            "gap closed", "unchanged", "new village", "removed village")

#: Villages whose ids changed are the same village when their points are this close,
#: metres: a re-surveyed village point moves tens of metres, while two villages of one
#: commune are rarely closer than a few hundred (covgap's choice, issue "covgap diff").
MATCH_DISTANCE_M = 200.0

#: Overlay pieces smaller than this share of A's commune are slivers of two
#: digitisations of one boundary, not a part of the commune that moved.
SLIVER_SHARE = 0.005

#: The indicators recomputed per commune from the village rows (indicators.py formulas).
VILLAGE_INDICATORS: tuple[str, ...] = ("villages_mbb_pct", "villages_ftth_pct",
                                       "population_mbb_pct", "usp_villages")

#: The files a run directory must hold for a diff.
REQUIRED_FILES: tuple[str, ...] = ("villages.csv", "indicators.csv", "manifest.json")

#: Change colours of the map, the issue's scheme: covered green, lost red, new gap
#: orange, still lõm sóng dark red, gap closed blue, unchanged grey.
CHANGE_COLORS: dict[str, str] = {
    "newly covered": "#1a9641", "newly lost": "#e31a1c", "still lom_song": "#67000d",
    "new gap": "#ff7f00", "gap closed": "#2c7bb6", "unchanged": "#9e9e9e",
    "new village": "#6a3d9a", "removed village": "#ffffff"}
CHANGE_RADIUS: dict[str, float] = {
    "newly covered": 6.5, "newly lost": 6.5, "still lom_song": 5.0, "new gap": 5.5,
    "gap closed": 5.0, "unchanged": 3.0, "new village": 4.5, "removed village": 4.0}
CHANGE_WORDS: dict[str, str] = {
    "newly covered": "Mới được phủ sóng / Newly covered",
    "newly lost": "Mất sóng / Newly lost",
    "still lom_song": "Vẫn lõm sóng / Still no mobile broadband",
    "new gap": "Thiếu mới (mất FTTH) / New gap (lost FTTH)",
    "gap closed": "Hết thiếu (có FTTH) / Gap closed (gained FTTH)",
    "unchanged": "Không đổi / Unchanged",
    "new village": "Thôn mới / New village",
    "removed village": "Thôn không còn / Removed village"}
#: Communes coloured by the change of their villages covered (B - A, points).
DELTA_COLORS: tuple[str, ...] = ("#f4a582", "#f7f7f7", "#92c5de", COMMUNE_NO_DATA_COLOR)

_FROM_VI = {v: k for k, v in VI_HEADERS.items()}
_STATUSES = ("covered", "partial", "lom_song")
_TRUE, _FALSE = "true", "false"
_TABLE = "the crosswalk table"

# The change map's own layer, added to covgap-map.js's namespace.  Every string in the
# data (popups, tooltips) was HTML-escaped in Python, as covgap-map.js expects.
_CHANGE_JS = """<script>
(function () {
  'use strict';
  var cg = window.covgap;
  function pct(x) { return x === null ? '\u2014' : cg.num(x * 100, 0) + '%'; }
  function yes(b) { return b === null ? '\u2014' : b ? 'c\u00f3 / yes' : 'kh\u00f4ng / no'; }
  function text(s) { return s === null || s === '' ? '\u2014' : s; }
  function row(th, td) { return '<tr><th>' + th + '</th><td>' + td + '</td></tr>'; }
  function popup(d, o, i) {
    var rows = [
      row('D\u00e2n s\u1ed1 / Population', cg.num(d.pop[i])),
      row(o.status_label, text(o.statuses[d.sa[i]]) + ' \u2192 ' + text(o.statuses[d.sb[i]])),
      row('T\u1ef7 l\u1ec7 ph\u1ee7 / Covered share', pct(d.ma[i]) + ' \u2192 ' + pct(d.mb[i])),
      row('FTTH', yes(d.fa[i]) + ' \u2192 ' + yes(d.fb[i])),
      row('Nh\u00e0 m\u1ea1ng / Operators', text(d.oa[i]) + ' \u2192 ' + text(d.ob[i]))];
    if (d.ida[i] !== null) {
      rows.push(row('Gh\u00e9p theo v\u1ecb tr\u00ed / Matched by location',
        d.ida[i] + ' (' + cg.num(d.dm[i]) + ' m)'));
    }
    var sub = [d.id[i], d.cn[i]].filter(function (s) { return s; }).join(' \u00b7 ');
    return '<div class="cg-pop"><h4>' + text(d.n[i]) + '</h4><div class="cg-sub">' + sub +
      '</div><div class="cg-badges"><span class="cg-badge" style="background:' + o.badge +
      '">' + o.label + '</span></div><table>' + rows.join('') + '</table></div>';
  }
  cg.changes = function (map, d, o) {
    var st = cg.state, group = L.featureGroup(), markers = [];
    for (var i = 0; i < d.lat.length; i++) {
      var m = L.circleMarker([d.lat[i], d.lon[i]], {radius: o.radius, fillColor: o.color,
        fillOpacity: o.fill_opacity, color: o.line_color, weight: o.weight, opacity: 1});
      m.bindPopup(popup.bind(null, d, o, i), {maxWidth: 400, minWidth: 260});
      m.bindTooltip(text(d.n[i]), {direction: 'top', offset: [0, -6]});
      group.addLayer(m);
      markers.push(m);
    }
    st.changes = st.changes || {};
    st.changes[o.key] = {layer: group, markers: markers};
    return group;
  };
})();
</script>"""


# --------------------------------------------------------------------------- reading runs

@dataclass
class _Run:
    """A run directory read back."""

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
        return str(self.year) if self.year not in (None, "") else self.path.name


def _csv(path: Path) -> pd.DataFrame:
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
    raw = _csv(path)
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
    if "status" in raw:
        out["status"] = raw["status"].astype("string")
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
    raw = _csv(path)
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


def _read_run(path: str | Path, which: str) -> _Run:
    folder = Path(path)
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
    run_cfg = (manifest.get("config") or {}).get("run") or {}
    name = str(run_cfg.get("name") or folder.parent.name)
    villages = _read_villages(folder / "villages.csv")
    indicators = _read_indicators(folder / "indicators.csv")
    geometry = _read_geometry(folder / "results.gpkg")
    if (folder / "communes.csv").is_file():
        table = _csv(folder / "communes.csv")
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
    communes = communes.drop_duplicates("commune_code").reset_index(drop=True)
    gap_files = {}
    for f in sorted(folder.glob("gaps_*.csv")):
        with f.open(encoding="utf-8-sig") as fh:
            gap_files[f.stem.removeprefix("gaps_")] = len(pd.read_csv(fh, dtype=str))
    crs_text = (manifest.get("inputs") or {}).get("metric_crs")
    try:
        metric = CRS.from_user_input(crs_text) if crs_text else None
    except CRSError:  # an unreadable CRS text: choose one as a run does
        metric = None
    if metric is None or not metric.is_projected:
        lon = villages["lon"].dropna().to_numpy()
        metric = choose_metric_crs(lon if len(lon) else np.array([105.0]))
    return _Run(path=folder, name=name, year=run_cfg.get("year"),
                title=str(run_cfg.get("title") or name), manifest=manifest, villages=villages,
                indicators=indicators, communes=communes, geometry=geometry,
                gap_files=gap_files, metric_crs=metric)


def _rule(manifest: dict) -> dict:
    """Return the parts of a run's configuration that decide "covered" and "FTTH"."""
    cfg = manifest.get("config") or {}
    cov = cfg.get("coverage") or {}
    return {"coverage.model": cov.get("model"), "coverage.technologies": cov.get("technologies"),
            "coverage.min_rsrp_dbm": cov.get("min_rsrp_dbm"),
            "coverage.radius_m": cov.get("radius_m"), "rules": cfg.get("rules")}


# --------------------------------------------------------------------------- matching

def _xy(frame: pd.DataFrame, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    to_metric = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_metric.transform(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _match_villages(a: pd.DataFrame, b: pd.DataFrame, crs: CRS, *,
                    max_m: float) -> pd.DataFrame:
    """Pairs of row positions ``ia, ib`` (-1: none), ``matched_by`` and ``distance_m``.

    Ids first; the villages left over by location, one to one, shortest distance first
    (ties by the ids), within ``max_m`` metres in ``crs``.
    """
    xa, ya = _xy(a, crs)
    xb, yb = _xy(b, crs)
    pos_b = pd.Series(np.arange(len(b)), index=b["village_id"].to_numpy())
    in_b = a["village_id"].isin(pos_b.index).to_numpy()
    ia = np.flatnonzero(in_b)
    ib = pos_b.loc[a["village_id"].to_numpy()[in_b]].to_numpy()
    how = ["id"] * len(ia)
    rest_a = np.flatnonzero(~in_b)
    rest_b = np.setdiff1d(np.arange(len(b)), ib)
    rest_a = rest_a[np.isfinite(xa[rest_a]) & np.isfinite(ya[rest_a])]
    rest_b = rest_b[np.isfinite(xb[rest_b]) & np.isfinite(yb[rest_b])]
    loc_a: list[int] = []
    loc_b: list[int] = []
    if len(rest_a) and len(rest_b) and max_m > 0:
        pts_a = shapely.points(xa[rest_a], ya[rest_a])
        pts_b = shapely.points(xb[rest_b], yb[rest_b])
        qa, qb = shapely.STRtree(pts_b).query(pts_a, predicate="dwithin", distance=max_m)
        ca, cb = rest_a[qa], rest_b[qb]
        dist = np.hypot(xa[ca] - xb[cb], ya[ca] - yb[cb])
        order = np.lexsort((b["village_id"].to_numpy()[cb].astype(str),
                            a["village_id"].to_numpy()[ca].astype(str), dist))
        used_a: set[int] = set()
        used_b: set[int] = set()
        for k in order:  # greedy, nearest pair first: only the few unmatched villages
            if ca[k] in used_a or cb[k] in used_b:
                continue
            used_a.add(int(ca[k]))
            used_b.add(int(cb[k]))
            loc_a.append(int(ca[k]))
            loc_b.append(int(cb[k]))
    ia = np.concatenate([ia, np.array(loc_a, dtype=int)]).astype(int)
    ib = np.concatenate([ib, np.array(loc_b, dtype=int)]).astype(int)
    how += ["location"] * len(loc_a)
    pairs = pd.DataFrame({"ia": ia, "ib": ib, "matched_by": how})
    new_b = np.setdiff1d(np.arange(len(b)), ib)
    gone_a = np.setdiff1d(np.arange(len(a)), ia)
    pairs = pd.concat([
        pairs,
        pd.DataFrame({"ia": -1, "ib": new_b, "matched_by": None}),
        pd.DataFrame({"ia": gone_a, "ib": -1, "matched_by": None})], ignore_index=True)
    # B's order, then the villages of A that are gone, in A's order
    pairs["_ob"] = np.where(pairs["ib"] >= 0, pairs["ib"], len(b) + pairs["ia"])
    pairs = pairs.sort_values("_ob", kind="stable").drop(columns="_ob").reset_index(drop=True)
    both = (pairs["ia"] >= 0) & (pairs["ib"] >= 0)
    d = np.full(len(pairs), np.nan)
    sa, sb = pairs.loc[both, "ia"].to_numpy(), pairs.loc[both, "ib"].to_numpy()
    d[both.to_numpy()] = np.hypot(xa[sa] - xb[sb], ya[sa] - yb[sb])
    pairs["distance_m"] = np.round(d, 1)
    return pairs


# --------------------------------------------------------------------------- crosswalk

def _table_crosswalk(table: str | Path | pd.DataFrame, a: _Run, b: _Run) -> pd.DataFrame:
    """Check an explicit code table and keep the rows of A's communes."""
    if isinstance(table, pd.DataFrame):
        source = _TABLE
        raw = table.copy()
    else:
        path = Path(table)
        source = str(path)
        if not path.is_file():
            raise InputError(f"crosswalk {path}: no such file; give a CSV with columns "
                             "code_a, code_b and optionally weight")
        raw = _csv(path)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in ("code_a", "code_b") if c not in raw]
    if missing:
        raise InputError(f"{source}: no column {', '.join(missing)} (found: "
                         f"{', '.join(map(str, raw.columns))}); a crosswalk has one row per "
                         "old (code_a) and new (code_b) commune code, and optionally weight")
    # a file's rows by their line, a table's by its index
    where = ([f"{source} row {i + 2}" for i in range(len(raw))] if source != _TABLE
             else [f"{source} row {i}" for i in raw.index])
    problems: list[str] = []
    out = pd.DataFrame({"code_a": raw["code_a"].astype("string").str.strip(),
                        "code_b": raw["code_b"].astype("string").str.strip()})
    for col in ("code_a", "code_b"):
        empty = out[col].isna() | (out[col] == "").fillna(False)
        problems += [f"{where[i]}: {col} is empty" for i in np.flatnonzero(empty.to_numpy())]
    if "weight" in raw:
        w = pd.to_numeric(raw["weight"], errors="coerce")
        bad = (w.isna() & raw["weight"].notna()) | (w < 0) | (w > 1)
        problems += [f"{where[i]}: weight {raw['weight'].iloc[i]} is not a share between 0 "
                     "and 1" for i in np.flatnonzero(bad.fillna(False).to_numpy())]
        out["weight"] = w.astype(float)
    else:  # one target: all of it; a split without weights: not known
        out["weight"] = np.nan
    codes_a = set(a.communes["commune_code"].dropna())
    codes_b = set(b.communes["commune_code"].dropna())
    # a national table lists every province's communes: keep the rows of A's
    out = out[out["code_a"].isin(codes_a)].drop_duplicates(["code_a", "code_b"])
    absent = sorted(codes_a - set(out["code_a"]))
    if absent:
        problems.append(f"commune code(s) of run A {a.path} not in the table: "
                        f"{', '.join(absent[:10])}{' …' if len(absent) > 10 else ''}")
    unknown = sorted(set(out["code_b"].dropna()) - codes_b)
    if unknown:
        problems.append(f"code_b value(s) that are no commune of run B {b.path}: "
                        f"{', '.join(unknown[:10])}{' …' if len(unknown) > 10 else ''}")
    if problems:
        raise InputError(f"{source}: {len(problems)} problem(s) in the crosswalk", problems)
    n_targets = out.groupby("code_a")["code_b"].transform("size")
    out["weight"] = out["weight"].where(out["weight"].notna() | (n_targets > 1), 1.0)
    out["method"] = "table"
    return out.reset_index(drop=True)


def _overlay_crosswalk(a: _Run, b: _Run) -> pd.DataFrame:
    """Area-weighted overlay of the two years' communes in B's metric CRS."""
    assert a.geometry is not None and b.geometry is not None
    crs = b.metric_crs
    ga = a.geometry[["commune_code", "geometry"]].rename(columns={"commune_code": "code_a"})
    gb = b.geometry[["commune_code", "geometry"]].rename(columns={"commune_code": "code_b"})
    ga, gb = ga.to_crs(crs), gb.to_crs(crs)
    ga = ga.dissolve("code_a", as_index=False)
    gb = gb.dissolve("code_b", as_index=False)
    area_a = pd.Series(ga.geometry.area.to_numpy(), index=ga["code_a"].to_numpy())
    pieces = gpd.overlay(ga, gb, how="intersection", keep_geom_type=True)
    out = pd.DataFrame({"code_a": pieces["code_a"].astype("string"),
                        "code_b": pieces["code_b"].astype("string"),
                        "area": pieces.geometry.area.to_numpy()})
    out = out.groupby(["code_a", "code_b"], as_index=False, sort=True)["area"].sum()
    out["weight"] = out["area"] / out["code_a"].map(area_a).to_numpy()
    out = out[out["weight"] >= SLIVER_SHARE].drop(columns="area")
    out["weight"] = out["weight"].round(6)
    outside = sorted(set(ga["code_a"]) - set(out["code_a"]))
    if outside:  # communes of A that are outside B's area: visible, not dropped
        out = pd.concat([out, pd.DataFrame({"code_a": outside, "code_b": pd.NA,
                                            "weight": 0.0})], ignore_index=True)
    out["method"] = "overlay"
    return out.reset_index(drop=True)


def _village_crosswalk(a: _Run, b: _Run, pairs: pd.DataFrame) -> pd.DataFrame:
    """Without polygons: the share of A's commune's (matched) villages in each B commune."""
    both = pairs[(pairs["ia"] >= 0) & (pairs["ib"] >= 0)]
    frame = pd.DataFrame({
        "code_a": a.villages["commune_code"].to_numpy()[both["ia"].to_numpy()],
        "code_b": b.villages["commune_code"].to_numpy()[both["ib"].to_numpy()]}).dropna()
    counts = frame.groupby(["code_a", "code_b"], sort=True).size().rename("n").reset_index()
    counts["weight"] = (counts["n"] / counts.groupby("code_a")["n"].transform("sum")).round(6)
    out = counts.drop(columns="n").astype({"code_a": "string", "code_b": "string"})
    out["method"] = "villages"
    return out


def _crosswalk(a: _Run, b: _Run, pairs: pd.DataFrame,
               table: str | Path | pd.DataFrame | None) -> pd.DataFrame:
    if table is not None:
        out = _table_crosswalk(table, a, b)
    else:
        codes_a = set(a.communes["commune_code"].dropna())
        codes_b = set(b.communes["commune_code"].dropna())
        if codes_a == codes_b:
            codes = sorted(codes_a)
            out = pd.DataFrame({"code_a": codes, "code_b": codes, "weight": 1.0,
                                "method": "identity"})
        elif a.geometry is not None and b.geometry is not None:
            out = _overlay_crosswalk(a, b)
        else:
            log.warning("commune codes differ and a run has no commune polygons "
                        "(results.gpkg): the crosswalk follows the matched villages")
            out = _village_crosswalk(a, b, pairs)
    names_a = a.communes.set_index("commune_code")["commune_name"]
    names_b = b.communes.set_index("commune_code")["commune_name"]
    out = out.astype({"code_a": "string", "code_b": "string"})
    out.insert(1, "name_a", out["code_a"].map(names_a).astype("string"))
    out.insert(3, "name_b", out["code_b"].map(names_b).astype("string"))
    return out[["code_a", "name_a", "code_b", "name_b", "weight", "method"]].reset_index(
        drop=True)


# --------------------------------------------------------------------------- tables

def _col(frame: pd.DataFrame, positions: np.ndarray, col: str) -> pd.Series:
    """``frame[col]`` at row positions; -1 gives NA."""
    values = frame[col].reset_index(drop=True).reindex(positions)
    return values.reset_index(drop=True)


def _flag(values: pd.Series) -> np.ndarray:
    return values.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _village_table(a: _Run, b: _Run, pairs: pd.DataFrame) -> pd.DataFrame:
    ia, ib = pairs["ia"].to_numpy(), pairs["ib"].to_numpy()
    has_a, has_b = ia >= 0, ib >= 0
    va, vb = a.villages, b.villages

    def pick(col: str) -> pd.Series:
        """B's value, else A's."""
        return _col(vb, ib, col).where(pd.Series(has_b), _col(va, ia, col))

    lom_a, lom_b = _flag(_col(va, ia, "lom_song")), _flag(_col(vb, ib, "lom_song"))
    no_ftth_a = _flag(_col(va, ia, "ftth") == False)  # noqa: E712 - NA stays not-a-gap
    no_ftth_b = _flag(_col(vb, ib, "ftth") == False)  # noqa: E712
    gap_a, gap_b = lom_a | no_ftth_a, lom_b | no_ftth_b
    change = np.select(
        [~has_a, ~has_b, lom_a & ~lom_b, ~lom_a & lom_b, lom_a & lom_b, ~gap_a & gap_b,
         gap_a & ~gap_b],
        ["new village", "removed village", "newly covered", "newly lost", "still lom_song",
         "new gap", "gap closed"], "unchanged")
    out = pd.DataFrame({
        "village_id": pick("village_id"),
        "village_id_a": _col(va, ia, "village_id"),
        "village_name": pick("village_name"),
        "commune_code": _col(vb, ib, "commune_code"),
        "commune_name": pd.NA,
        "commune_code_a": _col(va, ia, "commune_code"),
        "change": change,
        "status_a": _col(va, ia, "status"), "status_b": _col(vb, ib, "status"),
        "mbb_share_a": _col(va, ia, "mbb_share"), "mbb_share_b": _col(vb, ib, "mbb_share"),
        "ftth_a": _col(va, ia, "ftth").astype("boolean"),
        "ftth_b": _col(vb, ib, "ftth").astype("boolean"),
        "gap_a": pd.array(np.where(has_a, gap_a, pd.NA), dtype="boolean"),
        "gap_b": pd.array(np.where(has_b, gap_b, pd.NA), dtype="boolean"),
        "operators_a": _col(va, ia, "operators"), "operators_b": _col(vb, ib, "operators"),
        "population": pick("population"),
        "matched_by": pairs["matched_by"].astype("string"),
        "distance_m": pairs["distance_m"],
        "lon": pick("lon"), "lat": pick("lat"),
    })
    out["commune_name"] = out["commune_code"].map(
        b.communes.set_index("commune_code")["commune_name"]).astype("string")
    return out


def _place_removed(villages: pd.DataFrame, b: _Run, crosswalk: pd.DataFrame) -> pd.Series:
    """B's commune of every village: its own, else (villages only in A) where it lies."""
    code = villages["commune_code"].copy()
    todo = code.isna() & (villages["change"] == "removed village")
    if not todo.any():
        return code
    rows = villages[todo]
    if b.geometry is not None:
        pts = gpd.GeoSeries(gpd.points_from_xy(rows["lon"], rows["lat"]), crs="EPSG:4326",
                            index=rows.index)
        src, tgt = b.geometry.sindex.query(pts.to_numpy(), predicate="intersects")
        hit = pd.Series(tgt, index=rows.index[src]).groupby(level=0).first()
        code.loc[hit.index] = b.geometry["commune_code"].to_numpy()[hit.to_numpy()]
    left = code.isna() & todo
    if left.any():
        best = (crosswalk.dropna(subset=["code_b"])
                .assign(_w=crosswalk["weight"].fillna(0.0))
                .sort_values(["code_a", "_w"], ascending=[True, False], kind="stable")
                .drop_duplicates("code_a").set_index("code_a")["code_b"])
        code.loc[left] = villages.loc[left, "commune_code_a"].map(best)
    return code


def _figures(v: pd.DataFrame, key: pd.Series, *, ftth_known: bool,
             pop_known: bool) -> pd.DataFrame:
    """Per value of ``key``: village counts and the village indicators (indicators.py)."""
    frame = pd.DataFrame({
        "key": key.to_numpy(), "covered": _flag(v["mbb_covered"]).astype(int),
        "ftth": _flag(v["ftth"]).astype(int), "usp": _flag(v["usp_eligible"]).astype(int),
        "pop": v["population"].to_numpy(float),
        "people": (v["population"] * v["mbb_share"]).to_numpy(float)}).dropna(subset=["key"])
    g = frame.groupby("key", sort=False)
    out = pd.DataFrame({"villages": g.size(), "villages_mbb": g["covered"].sum(),
                        "villages_ftth": g["ftth"].sum(), "population": g["pop"].sum(),
                        "population_mbb": g["people"].sum(), "usp_villages": g["usp"].sum()})
    out["villages_mbb_pct"] = [percent(c, n) for c, n in
                               zip(out["villages_mbb"], out["villages"], strict=True)]
    out["villages_ftth_pct"] = ([percent(f, n) for f, n in
                                 zip(out["villages_ftth"], out["villages"], strict=True)]
                                if ftth_known else np.nan)
    out["population_mbb_pct"] = ([percent(p, n) for p, n in
                                  zip(out["population_mbb"], out["population"], strict=True)]
                                 if pop_known else np.nan)
    out["usp_villages"] = out["usp_villages"].astype(float)
    out["population_mbb"] = out["population_mbb"].round()
    return out


def _met(value: float, target: float, indicator: str) -> Any:
    if target is None or value is None or np.isnan(target) or np.isnan(value):
        return pd.NA
    higher = INDICATORS.get(indicator, ("", True))[1]
    return bool(value >= target) if higher else bool(value <= target)


def _delta(a: float, b: float) -> float:
    return float("nan") if np.isnan(a) or np.isnan(b) else round(b - a, 1)


def _indicator_rows(a: _Run, b: _Run, communes: pd.DataFrame) -> pd.DataFrame:
    pa = a.indicators[a.indicators["level"] == "province"].drop_duplicates(
        ["indicator", "source"])
    pb = b.indicators[b.indicators["level"] == "province"].drop_duplicates(
        ["indicator", "source"])
    prov = pb.merge(pa[["indicator", "source", "value", "target", "unit"]],
                    on=["indicator", "source"], how="outer", suffixes=("_b", "_a"), sort=False)
    order = {k: i for i, k in enumerate(zip(pb["indicator"], pb["source"], strict=True))}
    prov["_o"] = [order.get(k, len(order)) for k in
                  zip(prov["indicator"], prov["source"], strict=True)]
    prov = prov.sort_values("_o", kind="stable")
    code_b = pb["code"].iloc[0] if len(pb) else b.name
    name_b = pb["name"].iloc[0] if len(pb) else b.title
    rows: list[dict] = []
    for _, r in prov.iterrows():
        target = r["target_b"] if not np.isnan(r["target_b"]) else r["target_a"]
        rows.append({"level": "province", "code": code_b, "name": name_b,
                     "indicator": r["indicator"], "value_a": r["value_a"],
                     "value_b": r["value_b"], "delta": _delta(r["value_a"], r["value_b"]),
                     "target": target, "met_a": _met(r["value_a"], target, r["indicator"]),
                     "met_b": _met(r["value_b"], target, r["indicator"]),
                     "unit": r["unit_b"] if isinstance(r["unit_b"], str) else r["unit_a"],
                     "source": r["source"], "value_a_basis": "reported"})
    cb = b.indicators[b.indicators["level"] == "commune"].drop_duplicates(["code", "indicator"])
    target_b = cb.set_index(["code", "indicator"])["target"]
    targets = pb.drop_duplicates("indicator").set_index("indicator")["target"]
    for _, c in communes.iterrows():
        for ind in VILLAGE_INDICATORS:
            va, vb = float(c[f"{ind}_a"]), float(c[f"{ind}_b"])
            target = float(target_b.get((c["commune_code"], ind), targets.get(ind, np.nan)))
            rows.append({"level": "commune", "code": c["commune_code"],
                         "name": c["commune_name"], "indicator": ind, "value_a": va,
                         "value_b": vb, "delta": _delta(va, vb), "target": target,
                         "met_a": _met(va, target, ind), "met_b": _met(vb, target, ind),
                         "unit": INDICATORS[ind][0], "source": "map",
                         "value_a_basis": "recomputed"})
    table = pd.DataFrame(rows, columns=[
        "level", "code", "name", "indicator", "value_a", "value_b", "delta", "target",
        "met_a", "met_b", "unit", "source", "value_a_basis"])
    for col in ("met_a", "met_b"):
        table[col] = table[col].astype("boolean")
    return table


_COUNT_COLUMNS = {"newly covered": "newly_covered", "newly lost": "newly_lost",
                  "still lom_song": "still_lom_song", "new gap": "new_gaps",
                  "gap closed": "gaps_closed", "unchanged": "unchanged",
                  "new village": "new_villages", "removed village": "removed_villages"}


def _commune_table(a: _Run, b: _Run, villages: pd.DataFrame, code_b_of_a: pd.Series,
                   crosswalk: pd.DataFrame) -> pd.DataFrame:
    va, vb = a.villages, b.villages
    placed = villages["commune_code"]
    fig_a = _figures(va, code_b_of_a, ftth_known=bool(va["ftth"].notna().any()),
                     pop_known=bool(va["population"].notna().any()))
    fig_b = _figures(vb, vb["commune_code"], ftth_known=bool(vb["ftth"].notna().any()),
                     pop_known=bool(vb["population"].notna().any()))
    out = b.communes[["commune_code", "commune_name"]].copy().reset_index(drop=True)
    code = out["commune_code"]
    region = b.communes.set_index("commune_code").get("region")
    out["region"] = (code.map(region) if region is not None else pd.Series(
        pd.NA, index=out.index)).astype("string")
    links = crosswalk.dropna(subset=["code_b"])
    links = links[links["weight"].fillna(1.0) > 0]
    out["codes_a"] = code.map(links.groupby("code_b")["code_a"].agg(
        lambda s: ";".join(sorted(set(s))))).astype("string")
    out["villages_a"] = code.map(fig_a["villages"]).fillna(0).astype(int)
    out["villages_b"] = code.map(fig_b["villages"]).fillna(0).astype(int)
    out["villages_mbb_a"] = code.map(fig_a["villages_mbb"]).fillna(0).astype(int)
    out["villages_mbb_b"] = code.map(fig_b["villages_mbb"]).fillna(0).astype(int)
    out["population_a"] = code.map(fig_a["population"]).astype(float)
    out["population_b"] = code.map(fig_b["population"]).astype(float)
    counts = villages.assign(_code=placed).groupby(["_code", "change"]).size().unstack(
        fill_value=0)
    for change, col in _COUNT_COLUMNS.items():
        series = counts[change] if change in counts else pd.Series(dtype=int)
        out[col] = code.map(series).fillna(0).astype(int)
    for col in ("gap_a", "gap_b"):
        n = villages[col].fillna(False).astype(bool).groupby(placed).sum()
        out[f"gaps_{col[-1]}"] = code.map(n).fillna(0).astype(int)
    # B's values as B's run reported them (the same formulas; what its tables say)
    cb = b.indicators[b.indicators["level"] == "commune"].drop_duplicates(["code", "indicator"])
    for ind in VILLAGE_INDICATORS:
        out[f"{ind}_a"] = code.map(fig_a[ind]).astype(float)
        reported = cb[cb["indicator"] == ind].set_index("code")["value"]
        out[f"{ind}_b"] = code.map(reported).astype(float).where(
            code.isin(reported.index), code.map(fig_b[ind]).astype(float))
        out[f"{ind}_delta"] = [_delta(x, y) for x, y in
                               zip(out[f"{ind}_a"], out[f"{ind}_b"], strict=True)]
    return out


def _operators(op_list: pd.Series) -> pd.Series:
    return op_list.fillna("").astype(str).map(lambda s: {p for p in s.split(";") if p})


def _operator_table(a: _Run, b: _Run, villages: pd.DataFrame) -> pd.DataFrame:
    ops_a, ops_b = _operators(villages["operators_a"]), _operators(villages["operators_b"])
    both = villages["matched_by"].notna().to_numpy(bool)
    names = set().union(*ops_a, *ops_b) if len(villages) else set()
    known = {_file_part(n): n for n in names}
    for part in set(a.gap_files) | set(b.gap_files):
        names.add(known.get(part, part))
    rows = []
    for op in sorted(names):
        in_a = ops_a.map(lambda s, op=op: op in s).to_numpy(bool)
        in_b = ops_b.map(lambda s, op=op: op in s).to_numpy(bool)
        gaps_a = a.gap_files.get(_file_part(op), 0)
        gaps_b = b.gap_files.get(_file_part(op), 0)
        rows.append({"operator": op, "villages_covered_a": int(in_a.sum()),
                     "villages_covered_b": int(in_b.sum()),
                     "newly_covers": int((both & ~in_a & in_b).sum()),
                     "newly_lost": int((both & in_a & ~in_b).sum()),
                     "gaps_a": gaps_a, "gaps_b": gaps_b, "gaps_delta": gaps_b - gaps_a})
    return pd.DataFrame(rows, columns=["operator", "villages_covered_a", "villages_covered_b",
                                       "newly_covers", "newly_lost", "gaps_a", "gaps_b",
                                       "gaps_delta"])


# --------------------------------------------------------------------------- the diff

@dataclass
class RunDiff:
    """What changed between two run directories (:func:`diff_runs`).

    Attributes
    ----------
    run_a, run_b : Path
        The earlier and the later run directory.
    indicators : DataFrame
        ``level, code, name, indicator, value_a, value_b, delta, target, met_a, met_b,
        unit, source, value_a_basis``: the province's indicators as each run reported
        them, and the village-based indicators per commune of B, A's recomputed on B's
        communes (``value_a_basis`` "recomputed").  ``target`` is B's (A's when B has
        none); ``met_a`` holds A's value against it.  ``delta`` is B - A (percentage
        points, or a count for ``usp_villages``).
    villages : DataFrame
        One row per village of either year: ``village_id`` (B's, else A's),
        ``village_id_a``, ``village_name``, ``commune_code`` (B's commune; for a village
        gone in B, the one it lies in) and ``commune_code_a``, ``commune_name`` (B),
        ``change`` (one of :data:`CHANGES`), ``status_a/b``, ``mbb_share_a/b``,
        ``ftth_a/b``, ``gap_a/b`` (lõm sóng or no FTTH), ``operators_a/b``,
        ``population``, ``matched_by`` ("id", "location"; empty for a village of one
        year), ``distance_m`` between the two years' points, ``lon``, ``lat`` (WGS84).
    communes : DataFrame
        One row per commune of B: ``commune_code, commune_name, region``, ``codes_a``
        (its communes in A, ";"-separated), ``villages_a/b``, ``villages_mbb_a/b``
        (covered), ``population_a/b``, the villages in each change class (``newly_covered``,
        ``newly_lost``, ``still_lom_song``, ``new_gaps``, ``gaps_closed``, ``unchanged``,
        ``new_villages``, ``removed_villages``), ``gaps_a/b`` and, for every
        :data:`VILLAGE_INDICATORS` id, ``<id>_a`` (recomputed), ``<id>_b`` and
        ``<id>_delta``.
    operators : DataFrame
        ``operator, villages_covered_a/b, newly_covers, newly_lost`` (villages found in
        both years whose ``operators`` list gained or lost the operator) and
        ``gaps_a/b/delta`` (rows of ``gaps_<operator>.csv``).
    crosswalk : DataFrame
        ``code_a, name_a, code_b, name_b, weight, method``: weight is the share of A's
        commune's area in B's commune (method "overlay"), the table's weight ("table";
        empty when the table gives none for a split), 1 ("identity"), or the share of
        A's commune's villages ("villages").
    notes : list of str
        Differences between the two runs' coverage rules: such changes come from the
        rule, not the network.
    """

    run_a: Path
    run_b: Path
    indicators: pd.DataFrame
    villages: pd.DataFrame
    communes: pd.DataFrame
    operators: pd.DataFrame
    crosswalk: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    _a: _Run | None = field(default=None, repr=False)
    _b: _Run | None = field(default=None, repr=False)
    match_distance_m: float = MATCH_DISTANCE_M

    @property
    def label(self) -> str:
        """The two years as the map's title says them: ``"2024 → 2025"``."""
        a, b = self._a, self._b
        return f"{a.label if a else self.run_a.name} → {b.label if b else self.run_b.name}"

    def change_counts(self) -> pd.Series:
        """Villages per change class, in :data:`CHANGES` order (zeros included)."""
        return self.villages["change"].value_counts().reindex(list(CHANGES), fill_value=0)

    def default_dir(self) -> Path:
        """``<parent of run B>/diff-<year A>-<year B>``: beside the run directories."""
        a = self._a.label if self._a else self.run_a.name
        b = self._b.label if self._b else self.run_b.name
        return self.run_b.parent / f"diff-{_file_part(a)}-{_file_part(b)}"

    def record(self) -> dict[str, Any]:
        """Return what ``diff.json`` holds: the runs, their rules, the method and counts."""

        def run(r: _Run | None, path: Path) -> dict:
            if r is None:
                return {"path": str(path)}
            text = (r.path / "manifest.json").read_bytes()
            return {"path": str(r.path), "name": r.name, "year": r.year,
                    "covgap_version": r.manifest.get("covgap_version"),
                    "manifest_sha256": hashlib.sha256(text).hexdigest(),
                    "rule": _rule(r.manifest)}

        methods = sorted(set(self.crosswalk["method"])) if len(self.crosswalk) else []
        return {"covgap_version": __version__,
                "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "run_a": run(self._a, self.run_a), "run_b": run(self._b, self.run_b),
                "crosswalk_method": methods[0] if len(methods) == 1 else methods,
                "match_distance_m": self.match_distance_m,
                "villages_matched_by": self.villages["matched_by"].value_counts().to_dict(),
                "changes": {k: int(v) for k, v in self.change_counts().items()},
                "notes": self.notes}

    def write(self, directory: str | Path | None = None, *, force: bool = False) -> Path:
        """Write the diff's tables and change map into a new directory, atomically.

        Files: ``diff_indicators.csv``, ``diff_villages.csv``, ``diff_communes.csv``,
        ``diff_operators.csv``, ``crosswalk.csv`` (Excel-safe CSVs like a run's),
        ``change_map.html`` (offline) and ``diff.json`` (the record).

        Parameters
        ----------
        directory : str or Path, optional
            Default: :meth:`default_dir`.
        force : bool
            Replace an existing directory (removed only once the new one is complete).

        Returns
        -------
        Path
            The directory written.

        Raises
        ------
        RunExistsError
            The directory exists and ``force`` is false.

        Examples
        --------
        >>> diff_runs("out/tinh-mau/2024", "out/tinh-mau/2025").write()  # doctest: +SKIP
        PosixPath('out/tinh-mau/diff-2024-2025')
        """
        target = Path(directory) if directory is not None else self.default_dir()

        def write(folder: Path) -> None:
            write_csv(self.indicators, folder / "diff_indicators.csv")
            write_csv(self.villages, folder / "diff_villages.csv")
            write_csv(self.communes, folder / "diff_communes.csv")
            write_csv(self.operators, folder / "diff_operators.csv")
            write_csv(self.crosswalk, folder / "crosswalk.csv")
            (folder / "change_map.html").write_text(self.map().get_root().render(),
                                                     encoding="utf-8")
            (folder / "diff.json").write_text(
                json.dumps(self.record(), indent=2, ensure_ascii=False, default=str) + "\n",
                encoding="utf-8")

        write_atomic(target, write, force=force)
        return target

    def map(self, *, simplify_m: float = 50.0) -> folium.Map:
        """Return the change map: villages coloured by change over B's communes.

        One self-contained page like ``map.html`` (Leaflet and covgap's scripts are
        inlined, the default background needs no tiles); every name is HTML-escaped.

        Parameters
        ----------
        simplify_m : float
            Simplification of commune boundaries, metres in B's metric CRS.

        Returns
        -------
        folium.Map
        """
        return _change_map(self, simplify_m=simplify_m)


def diff_runs(run_a: str | Path, run_b: str | Path, *,
              crosswalk: str | Path | pd.DataFrame | None = None,
              match_distance_m: float = MATCH_DISTANCE_M) -> RunDiff:
    """Compare two run directories of a province: year A, then year B.

    Parameters
    ----------
    run_a, run_b : str or Path
        Run directories written by :meth:`covgap.Result.write` (``covgap run``).
    crosswalk : str, Path or DataFrame, optional
        Old to new commune codes: a CSV (or table) with columns ``code_a``, ``code_b``
        and optionally ``weight`` (share of A's commune in B's, 0-1).  Rows of communes
        not in A are ignored, so a national table can be given.  Without it: the
        identity when both runs have the same commune codes, else an area-weighted
        overlay of the two years' commune polygons, else (no polygons) the matched
        villages.
    match_distance_m : float
        Villages whose ids are not in the other year are matched by location, one to
        one, nearest first, within this distance, metres (0: by id only).

    Returns
    -------
    RunDiff
        Its tables; :meth:`RunDiff.write` writes them with the change map.

    Raises
    ------
    InputError
        A folder that is not a run directory (the missing files are named), a table in
        it that cannot be read, or a crosswalk that does not fit the runs.

    Examples
    --------
    >>> d = diff_runs("out/tinh-mau/2024", "out/tinh-mau/2025")  # doctest: +SKIP
    >>> d.villages.query("change == 'newly covered'")  # doctest: +SKIP
    >>> d.write("out/tinh-mau/diff-2024-2025")  # doctest: +SKIP
    """
    a = _read_run(run_a, "A")
    b = _read_run(run_b, "B")
    notes = [f"{k} differs: A {va!r}, B {vb!r}; changes may come from the rule, not the "
             "network" for k, va, vb in
             ((k, _rule(a.manifest)[k], v) for k, v in _rule(b.manifest).items())
             if va != vb]
    try:
        if int(a.year) > int(b.year):
            notes.append(f"run A is of {a.year}, later than run B ({b.year}): give the "
                         "earlier run first")
    except (TypeError, ValueError):  # a run without a year: nothing to compare
        pass
    for note in notes:
        warnings.warn(note, InputWarning, stacklevel=2)
    pairs = _match_villages(a.villages, b.villages, b.metric_crs, max_m=match_distance_m)
    cross = _crosswalk(a, b, pairs, crosswalk)
    villages = _village_table(a, b, pairs)
    # B's commune of every village of A: by the match, else (gone in B) by its place
    placed = _place_removed(villages, b, cross)
    villages["commune_code"] = placed.astype("string")
    villages["commune_name"] = placed.map(
        b.communes.set_index("commune_code")["commune_name"]).astype("string")
    code_b_of_a = pd.Series(pd.NA, index=a.villages.index, dtype="string")
    has_a = (pairs["ia"] >= 0).to_numpy()
    code_b_of_a.iloc[pairs.loc[has_a, "ia"].to_numpy()] = placed[has_a].to_numpy()
    if (cross["method"] == "table").any():
        links = set(zip(cross["code_a"], cross["code_b"], strict=True))
        both = villages[villages["matched_by"].notna()
                        & villages["commune_code_a"].notna() & villages["commune_code"].notna()]
        off = [(x, y) not in links for x, y in
               zip(both["commune_code_a"], both["commune_code"], strict=True)]
        if any(off):
            warnings.warn(
                f"{sum(off)} matched village(s) moved between communes the crosswalk does "
                f"not link (first: {both.loc[off, 'village_id'].iloc[0]}); A's indicators "
                "follow the villages, not the table", InputWarning, stacklevel=2)
    unplaced = int(code_b_of_a.isna().sum())
    if unplaced:
        log.warning("%d village(s) of A are in no commune of B; they count in A's province "
                    "figures only", unplaced)
    communes = _commune_table(a, b, villages, code_b_of_a, cross)
    indicators = _indicator_rows(a, b, communes)
    operators = _operator_table(a, b, villages)
    return RunDiff(run_a=a.path, run_b=b.path, indicators=indicators, villages=villages,
                   communes=communes, operators=operators, crosswalk=cross, notes=notes,
                   _a=a, _b=b, match_distance_m=match_distance_m)


# --------------------------------------------------------------------------- change map

def _status_codes(values: pd.Series) -> list[int | None]:
    index = {s: i for i, s in enumerate(_STATUSES)}
    return [index.get(v) if isinstance(v, str) else None for v in values]


def _village_data(rows: pd.DataFrame) -> dict:
    """Return the compact columns of one change layer, every text HTML-escaped."""
    location = (rows["matched_by"] == "location").fillna(False).to_numpy(bool)
    ops = {k: [_esc("; ".join(v.split(";"))) if isinstance(v, str) and v else None
               for v in rows[k]] for k in ("operators_a", "operators_b")}
    return {
        "lat": _numbers(rows["lat"], COORD_DECIMALS), "lon": _numbers(rows["lon"],
                                                                      COORD_DECIMALS),
        "n": [_esc(v) for v in rows["village_name"]], "id": [_esc(v) for v in rows["village_id"]],
        "cn": [_esc(v) for v in rows["commune_name"]], "pop": _numbers(rows["population"]),
        "sa": _status_codes(rows["status_a"]), "sb": _status_codes(rows["status_b"]),
        "ma": _numbers(rows["mbb_share_a"], 3), "mb": _numbers(rows["mbb_share_b"], 3),
        "fa": [None if pd.isna(v) else bool(v) for v in rows["ftth_a"]],
        "fb": [None if pd.isna(v) else bool(v) for v in rows["ftth_b"]],
        "oa": ops["operators_a"], "ob": ops["operators_b"],
        "ida": [_esc(v) if loc else None
                for v, loc in zip(rows["village_id_a"], location, strict=True)],
        "dm": _numbers(rows["distance_m"])}


def _commune_features(d: RunDiff, simplify_m: float) -> tuple[dict, list[int]] | None:
    b = d._b
    if b is None or b.geometry is None or not len(b.geometry):
        return None
    geo = b.geometry.drop_duplicates("commune_code").reset_index(drop=True)
    table = d.communes.set_index("commune_code")
    row = table.reindex(geo["commune_code"].to_numpy())
    delta = row["villages_mbb_pct_delta"].to_numpy(float)
    k = np.where(np.isnan(delta), 3, np.where(delta < 0, 0, np.where(delta > 0, 2, 1)))
    geoms = _rounded_geojson(_simplify(geo.geometry, b.metric_crs, simplify_m, coverage=True))
    at = geo.geometry.representative_point()
    label_a, label_b = d._a.label if d._a else "A", b.label
    features = []
    for i, g in enumerate(geoms):
        if g is None:
            continue
        r = row.iloc[i]
        change = (f"{_esc(label_a)} → {_esc(label_b)}: thôn có BRDĐ / villages covered "
                  f"{_pct(r['villages_mbb_pct_a'])} → {_pct(r['villages_mbb_pct_b'])}")
        if isinstance(r["codes_a"], str) and r["codes_a"] != geo["commune_code"].iloc[i]:
            change += f" · mã cũ / old codes {_esc(r['codes_a'].replace(';', ', '))}"

        def num(col: str, r: pd.Series = r) -> Any:
            v = r.get(col)
            return None if v is None or pd.isna(v) else round(float(v), 1)

        features.append({"type": "Feature", "geometry": g, "properties": {
            "n": _esc(r["commune_name"] if isinstance(r["commune_name"], str)
                      else geo["commune_code"].iloc[i]),
            "code": _esc(geo["commune_code"].iloc[i]), "dist": change,
            "rg": _esc(r.get("region")), "k": int(k[i]), "v": num("villages_b"),
            "vm": num("villages_mbb_b"), "vm_pct": num("villages_mbb_pct_b"),
            "ftth_pct": num("villages_ftth_pct_b"), "pop": num("population_b"),
            "pop_pct": num("population_mbb_pct_b"),
            "usp": num("usp_villages_b"), "sites": None, "shared": None,
            "at": [round(at.iloc[i].y, COORD_DECIMALS), round(at.iloc[i].x, COORD_DECIMALS)]}})
    counts = np.bincount(k.astype(int), minlength=4).tolist()
    return {"type": "FeatureCollection", "features": features}, counts


def _province_value(d: RunDiff, indicator: str) -> tuple[float, float]:
    rows = d.indicators[(d.indicators["level"] == "province")
                        & (d.indicators["indicator"] == indicator)
                        & (d.indicators["source"] == "map")]
    if not len(rows):
        return float("nan"), float("nan")
    return float(rows["value_a"].iloc[0]), float(rows["value_b"].iloc[0])


def _change_map(d: RunDiff, *, simplify_m: float) -> folium.Map:
    a, b = d._a, d._b
    label_a = a.label if a else d.run_a.name
    label_b = b.label if b else d.run_b.name
    title = (b.title if b else d.run_b.parent.name) or ""
    v = d.villages[d.villages["lon"].notna() & d.villages["lat"].notna()]
    communes = _commune_features(d, simplify_m)
    if b is not None and b.geometry is not None and len(b.geometry):
        west, south, east, north = (float(x) for x in b.geometry.total_bounds)
    elif len(v):
        west, south = float(v["lon"].min()), float(v["lat"].min())
        east, north = float(v["lon"].max()), float(v["lat"].max())
    else:  # nothing to show: Vietnam
        west, south, east, north = 102.1, 8.2, 109.5, 23.4
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=10,
                   tiles=None, prefer_canvas=True, control_scale=False, font_size="13px",
                   zoomSnap=0.25, zoomDelta=0.5)
    m.default_js = []  # folium's CDN links: replaced by the inlined assets
    m.default_css = []
    figure = m.get_root()
    figure.title = _esc(f"{title} {label_a} → {label_b} — thay đổi vùng phủ / coverage "
                        "change (covgap)")
    figure.header.add_child(_Raw(_inline_assets()), name="covgap_assets")
    figure.header.add_child(_Raw(_CHANGE_JS), name="covgap_changes")
    _Piece("setup", control=False, show=False, options={
        "background": _BACKGROUND, "label_min_zoom": LABEL_MIN_ZOOM, "min_zoom": 5,
        "max_zoom": 18, "attribution": "covgap · Leaflet"}).add_to(m)
    _Piece("blank", name="Nền trống / Plain background", overlay=False).add_to(m)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap (cần internet / online only)",
                     overlay=False, show=False).add_to(m)
    if communes is not None:
        _Piece("communes", data=communes[0], options={
            "colors": list(DELTA_COLORS), "fill_opacity": 0.55, "line_color": "#4d4d4d"},
            name="Xã: thay đổi % thôn được phủ sóng / Communes: change in villages "
                 "covered").add_to(m)
    counts = v["change"].value_counts()
    status_words = ["đã phủ / covered", "một phần / partly", "lõm sóng / none"]
    status_label = f"Tình trạng / Status {_esc(label_a)} → {_esc(label_b)}"
    # drawn bottom to top: unchanged villages under the changes
    for change in ("unchanged", "removed village", "new village", "gap closed", "new gap",
                   "still lom_song", "newly lost", "newly covered"):
        rows = v[v["change"] == change]
        if not len(rows):
            continue
        data = _village_data(rows)
        removed = change == "removed village"
        _Piece("changes", data=data, name=CHANGE_WORDS[change], options={
            "key": change, "label": CHANGE_WORDS[change],
            "badge": "#636363" if removed else CHANGE_COLORS[change],
            "statuses": status_words, "status_label": status_label,
            "color": CHANGE_COLORS[change], "radius": CHANGE_RADIUS[change],
            "fill_opacity": 0.6 if removed else 0.95,
            "line_color": "#636363" if removed else "#333333",
            "weight": 1.5 if removed else (0.5 if change == "unchanged" else 1)}).add_to(m)
    # title: the year pair and the headline figures
    kpis = []
    for ind, vi, en in (("villages_mbb_pct", "Thôn có BRDĐ", "Villages covered"),
                        ("villages_ftth_pct", "Thôn có FTTH", "Villages with FTTH"),
                        ("population_mbb_pct", "Dân số được phủ", "People covered")):
        va, vb = _province_value(d, ind)
        if math.isnan(va) and math.isnan(vb):
            continue
        delta = "" if math.isnan(va) or math.isnan(vb) else \
            f"{'+' if vb >= va else ''}{_fmt(vb - va, 1)} điểm / points"
        kpis.append((vi, en, f"{_pct(va)} → {_pct(vb)}", delta))
    for change in ("newly covered", "newly lost", "still lom_song"):
        vi, en = CHANGE_WORDS[change].split(" / ")
        kpis.append((vi, en, _fmt(int(counts.get(change, 0))), ""))
    cells = "".join(
        f'<div><span class="cg-k">{vi} <span class="cg-muted">/ {en}</span></span>'
        f'<b>{value}</b><small class="cg-muted">{sub}</small></div>'
        for vi, en, value, sub in kpis)
    rule_note = ("" if not d.notes else
                 '<div class="cg-rule cg-miss">Quy tắc phủ sóng khác nhau giữa hai năm / '
                 "the coverage rule differs between the runs: "
                 f"{_esc('; '.join(n.split(' differs')[0] for n in d.notes))}</div>")
    title_html = (
        f"<h1>{_esc(title)} · {_esc(label_a)} → {_esc(label_b)} — Thay đổi vùng phủ "
        '<span class="cg-muted">/ Coverage change</span></h1>'
        f'<div class="cg-rule">Thôn ghép theo mã, rồi theo vị trí ≤ '
        f"{_fmt(d.match_distance_m)} m · xã theo mã năm {_esc(label_b)} "
        f'<span class="cg-muted">/ villages matched by id, then by location; communes of '
        f"{_esc(label_b)}</span></div>{rule_note}"
        f'<div class="cg-kpis">{cells}</div>')
    _Piece("title", data={"html": title_html}, control=False).add_to(m)
    _Piece("scale", control=False).add_to(m)
    legend = ['<details open><summary>Chú giải / Legend</summary>'
              '<h5>Thôn / Villages</h5><ul class="cg-one">']
    for change in CHANGES:
        n = int(counts.get(change, 0))
        if not n and change in ("new gap", "gap closed", "new village", "removed village"):
            continue
        border = "#636363" if change == "removed village" else "#333"
        legend.append(f'<li><span class="cg-sw cg-dot" style="background:'
                      f'{CHANGE_COLORS[change]};border:1px solid {border}"></span>'
                      f'{CHANGE_WORDS[change]} <span class="cg-count">({_fmt(n)})</span></li>')
    legend.append("</ul>")
    if communes is not None:
        words = ["giảm / fewer", "không đổi / same", "tăng / more",
                 "không có thôn / no villages"]
        legend.append("<h5>Xã: thay đổi % thôn có sóng / Communes: change in villages covered</h5>"
                      '<ul class="cg-one">')
        for color, word, n in zip(DELTA_COLORS, words, communes[1], strict=True):
            if n or color != COMMUNE_NO_DATA_COLOR:
                legend.append(f'<li><span class="cg-sw" style="background:{color}"></span>'
                              f'{word} <span class="cg-count">({_fmt(n)} xã)</span></li>')
        legend.append("</ul>")
    legend.append("</details>")
    _Piece("legend", data={"html": "".join(legend)}, control=False).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    _Piece("finish", control=False,
           options={"bounds": [[south, west], [north, east]]}).add_to(m)
    return m
