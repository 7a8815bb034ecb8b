"""The change map: villages coloured by their change over B's communes.

One self-contained HTML page like ``map.html``, built on the same offline frame
(:mod:`covgap.export.leaflet`): Leaflet and covgap's scripts are inlined, the default
background needs no tiles.  The villages are drawn in one layer per change class (a
function of ``covgap/export/assets/covgap-change.js``), over B's communes coloured by
the change in their share of villages covered.  Every name is HTML-escaped here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import folium
import numpy as np
import pandas as pd

from covgap.diff.runs import Run
from covgap.diff.tables import CHANGES
from covgap.export.leaflet import (
    COORD_DECIMALS,
    Piece,
    esc,
    finish_map,
    fmt,
    numbers,
    offline_map,
    pct,
    rounded_geojson,
    simplify,
)
from covgap.export.map import COMMUNE_NO_DATA_COLOR

if TYPE_CHECKING:
    from covgap.diff.rundiff import RunDiff

__all__ = ["CHANGE_COLORS", "CHANGE_RADIUS", "CHANGE_WORDS", "DELTA_COLORS", "change_map"]

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

_STATUSES = ("covered", "partial", "lom_song")


def change_map(d: RunDiff, a: Run | None, b: Run | None, *,
               simplify_m: float) -> folium.Map:
    """Return the change map of a diff (:meth:`covgap.diff.RunDiff.map`).

    Parameters
    ----------
    d : RunDiff
        The diff's tables.
    a, b : Run or None
        The two runs read back: their years, title and B's commune polygons (None:
        named by their folders, drawn without communes).
    simplify_m : float
        Simplification of commune boundaries, metres in B's metric CRS.

    Returns
    -------
    folium.Map
        Villages by change over B's communes, a title with the headline figures and a
        legend; offline (no CDN link, no tile fetched unless chosen).

    Examples
    --------
    >>> change_map(d, d_a, d_b, simplify_m=50.0)  # doctest: +SKIP
    <folium.folium.Map object at ...>
    """
    label_a = a.label if a else d.run_a.name
    label_b = b.label if b else d.run_b.name
    title = (b.title if b else d.run_b.parent.name) or ""
    v = d.villages[d.villages["lon"].notna() & d.villages["lat"].notna()]
    communes = _commune_features(d, a, b, simplify_m)
    bounds = _bounds(b, v)
    m = offline_map(bounds, title=f"{title} {label_a} → {label_b} — thay đổi vùng phủ / "
                    "coverage change (covgap)", scripts=["covgap-change.js"])
    if communes is not None:
        Piece("communes", data=communes[0], options={
            "colors": list(DELTA_COLORS), "fill_opacity": 0.55, "line_color": "#4d4d4d"},
            name="Xã: thay đổi % thôn được phủ sóng / Communes: change in villages "
                 "covered").add_to(m)
    _add_village_layers(m, v, label_a, label_b)
    counts = v["change"].value_counts()
    Piece("title", data={"html": _title_html(d, title, label_a, label_b, counts)},
          control=False).add_to(m)
    Piece("scale", control=False).add_to(m)
    legend = _legend_html(counts, None if communes is None else communes[1])
    Piece("legend", data={"html": legend}, control=False).add_to(m)
    return finish_map(m, bounds)


def _bounds(b: Run | None, v: pd.DataFrame) -> tuple[float, float, float, float]:
    """Return ``(west, south, east, north)`` of B's communes, else of the villages, degrees."""
    if b is not None and b.geometry is not None and len(b.geometry):
        west, south, east, north = (float(x) for x in b.geometry.total_bounds)
    elif len(v):
        west, south = float(v["lon"].min()), float(v["lat"].min())
        east, north = float(v["lon"].max()), float(v["lat"].max())
    else:  # nothing to show: Vietnam
        west, south, east, north = 102.1, 8.2, 109.5, 23.4
    return west, south, east, north


def _add_village_layers(m: folium.Map, v: pd.DataFrame, label_a: str, label_b: str) -> None:
    """Add one layer per change class, drawn bottom to top: the unchanged villages under."""
    status_words = ["đã phủ / covered", "một phần / partly", "lõm sóng / none"]
    status_label = f"Tình trạng / Status {esc(label_a)} → {esc(label_b)}"
    for change in ("unchanged", "removed village", "new village", "gap closed", "new gap",
                   "still lom_song", "newly lost", "newly covered"):
        rows = v[v["change"] == change]
        if not len(rows):
            continue
        data = _village_data(rows)
        removed = change == "removed village"
        Piece("changes", data=data, name=CHANGE_WORDS[change], options={
            "key": change, "label": CHANGE_WORDS[change],
            "badge": "#636363" if removed else CHANGE_COLORS[change],
            "statuses": status_words, "status_label": status_label,
            "color": CHANGE_COLORS[change], "radius": CHANGE_RADIUS[change],
            "fill_opacity": 0.6 if removed else 0.95,
            "line_color": "#636363" if removed else "#333333",
            "weight": 1.5 if removed else (0.5 if change == "unchanged" else 1)}).add_to(m)


def _title_html(d: RunDiff, title: str, label_a: str, label_b: str,
                counts: pd.Series) -> str:
    """Return the title: the year pair, how villages were matched and the headline figures."""
    kpis = []
    for ind, vi, en in (("villages_mbb_pct", "Thôn có BRDĐ", "Villages covered"),
                        ("villages_ftth_pct", "Thôn có FTTH", "Villages with FTTH"),
                        ("population_mbb_pct", "Dân số được phủ", "People covered")):
        va, vb = _province_value(d, ind)
        if math.isnan(va) and math.isnan(vb):
            continue
        delta = "" if math.isnan(va) or math.isnan(vb) else \
            f"{'+' if vb >= va else ''}{fmt(vb - va, 1)} điểm / points"
        kpis.append((vi, en, f"{pct(va)} → {pct(vb)}", delta))
    for change in ("newly covered", "newly lost", "still lom_song"):
        vi, en = CHANGE_WORDS[change].split(" / ")
        kpis.append((vi, en, fmt(int(counts.get(change, 0))), ""))
    cells = "".join(
        f'<div><span class="cg-k">{vi} <span class="cg-muted">/ {en}</span></span>'
        f'<b>{value}</b><small class="cg-muted">{sub}</small></div>'
        for vi, en, value, sub in kpis)
    rule_note = ("" if not d.notes else
                 '<div class="cg-rule cg-miss">Quy tắc phủ sóng khác nhau giữa hai năm / '
                 "the coverage rule differs between the runs: "
                 f"{esc('; '.join(n.split(' differs')[0] for n in d.notes))}</div>")
    return (
        f"<h1>{esc(title)} · {esc(label_a)} → {esc(label_b)} — Thay đổi vùng phủ "
        '<span class="cg-muted">/ Coverage change</span></h1>'
        f'<div class="cg-rule">Thôn ghép theo mã, rồi theo vị trí ≤ '
        f"{fmt(d.match_distance_m)} m · xã theo mã năm {esc(label_b)} "
        f'<span class="cg-muted">/ villages matched by id, then by location; communes of '
        f"{esc(label_b)}</span></div>{rule_note}"
        f'<div class="cg-kpis">{cells}</div>')


def _legend_html(counts: pd.Series, commune_counts: list[int] | None) -> str:
    """Return the legend: the change classes present (with counts), and the commune colours."""
    legend = ['<details open><summary>Chú giải / Legend</summary>'
              '<h5>Thôn / Villages</h5><ul class="cg-one">']
    for change in CHANGES:
        n = int(counts.get(change, 0))
        if not n and change in ("new gap", "gap closed", "new village", "removed village"):
            continue
        border = "#636363" if change == "removed village" else "#333"
        legend.append(f'<li><span class="cg-sw cg-dot" style="background:'
                      f'{CHANGE_COLORS[change]};border:1px solid {border}"></span>'
                      f'{CHANGE_WORDS[change]} <span class="cg-count">({fmt(n)})</span></li>')
    legend.append("</ul>")
    if commune_counts is not None:
        words = ["giảm / fewer", "không đổi / same", "tăng / more",
                 "không có thôn / no villages"]
        legend.append("<h5>Xã: thay đổi % thôn có sóng / Communes: change in villages covered</h5>"
                      '<ul class="cg-one">')
        for color, word, n in zip(DELTA_COLORS, words, commune_counts, strict=True):
            if n or color != COMMUNE_NO_DATA_COLOR:
                legend.append(f'<li><span class="cg-sw" style="background:{color}"></span>'
                              f'{word} <span class="cg-count">({fmt(n)} xã)</span></li>')
        legend.append("</ul>")
    legend.append("</details>")
    return "".join(legend)


def _status_codes(values: pd.Series) -> list[int | None]:
    index = {s: i for i, s in enumerate(_STATUSES)}
    return [index.get(v) if isinstance(v, str) else None for v in values]


def _village_data(rows: pd.DataFrame) -> dict:
    """Return the compact columns of one change layer, every text HTML-escaped."""
    location = (rows["matched_by"] == "location").fillna(False).to_numpy(bool)
    ops = {k: [esc("; ".join(v.split(";"))) if isinstance(v, str) and v else None
               for v in rows[k]] for k in ("operators_a", "operators_b")}
    return {
        "lat": numbers(rows["lat"], COORD_DECIMALS), "lon": numbers(rows["lon"],
                                                                      COORD_DECIMALS),
        "n": [esc(v) for v in rows["village_name"]], "id": [esc(v) for v in rows["village_id"]],
        "cn": [esc(v) for v in rows["commune_name"]], "pop": numbers(rows["population"]),
        "sa": _status_codes(rows["status_a"]), "sb": _status_codes(rows["status_b"]),
        "ma": numbers(rows["mbb_share_a"], 3), "mb": numbers(rows["mbb_share_b"], 3),
        "fa": [None if pd.isna(v) else bool(v) for v in rows["ftth_a"]],
        "fb": [None if pd.isna(v) else bool(v) for v in rows["ftth_b"]],
        "oa": ops["operators_a"], "ob": ops["operators_b"],
        "ida": [esc(v) if loc else None
                for v, loc in zip(rows["village_id_a"], location, strict=True)],
        "dm": numbers(rows["distance_m"])}


def _commune_features(d: RunDiff, a: Run | None, b: Run | None,
                      simplify_m: float) -> tuple[dict, list[int]] | None:
    """B's communes coloured by the change of their villages covered, and the counts."""
    if b is None or b.geometry is None or not len(b.geometry):
        return None
    geo = b.geometry.drop_duplicates("commune_code").reset_index(drop=True)
    table = d.communes.set_index("commune_code")
    row = table.reindex(geo["commune_code"].to_numpy())
    delta = row["villages_mbb_pct_delta"].to_numpy(float)
    k = np.where(np.isnan(delta), 3, np.where(delta < 0, 0, np.where(delta > 0, 2, 1)))
    geoms = rounded_geojson(simplify(geo.geometry, b.metric_crs, simplify_m, coverage=True))
    at = geo.geometry.representative_point()
    label_a, label_b = a.label if a else "A", b.label
    features = []
    for i, g in enumerate(geoms):
        if g is None:
            continue
        r = row.iloc[i]
        change = (f"{esc(label_a)} → {esc(label_b)}: thôn có BRDĐ / villages covered "
                  f"{pct(r['villages_mbb_pct_a'])} → {pct(r['villages_mbb_pct_b'])}")
        if isinstance(r["codes_a"], str) and r["codes_a"] != geo["commune_code"].iloc[i]:
            change += f" · mã cũ / old codes {esc(r['codes_a'].replace(';', ', '))}"

        def num(col: str, r: pd.Series = r) -> Any:
            v = r.get(col)
            return None if v is None or pd.isna(v) else round(float(v), 1)

        features.append({"type": "Feature", "geometry": g, "properties": {
            "n": esc(r["commune_name"] if isinstance(r["commune_name"], str)
                      else geo["commune_code"].iloc[i]),
            "code": esc(geo["commune_code"].iloc[i]), "dist": change,
            "rg": esc(r.get("region")), "k": int(k[i]), "v": num("villages_b"),
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
