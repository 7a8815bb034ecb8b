"""Flags and reasons: what each village's figures mean under the province's rules.

Every flag is one explicit rule of the configuration:

- ``mbb_covered``: ``mbb_share >= [rules] village_covered_share``.
- ``status``: "covered"; "partial" when ``0 < mbb_share`` below the rule; "lom_song"
  when no one is covered at all.  ``lom_song`` (the boolean) is "not covered", so
  partial villages are gaps too.
- ``ftth``: ``fibre_distance_m <= [rules] ftth_max_distance_m`` (NA without a fibre
  layer).
- ``usp_eligible``: a gap (not covered, or no FTTH) in a commune of a class in
  ``[rules] usp_regions`` (khu vực III by default) or in a ĐBKK village: the villages
  the universal-service programme (QĐ 2269/QĐ-TTg) funds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from covgap.coverage import Coverage

__all__ = ["covered_at", "point_diagnostics", "reasons"]

#: A village whose best signal is this close under the threshold is called "weak".
WEAK_MARGIN_DB = 10.0

def _cells_at(coverage: Coverage, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Grid row, column and inside-mask of points (metric CRS)."""
    row, col = coverage.grid.rowcol(x, y)
    inside = (row >= 0) & (row < coverage.grid.height) & (col >= 0) & (col < coverage.grid.width)
    r = np.where(inside, np.floor(row), 0).astype(int)
    c = np.where(inside, np.floor(col), 0).astype(int)
    return r, c, inside


def covered_at(points: np.ndarray, coverage: Coverage, keys: list[tuple[str, str]]
               ) -> np.ndarray:
    """Whether any of ``keys`` covers each point (shapely points in the metric CRS)."""
    out = np.zeros(len(points), dtype=bool)
    keys = [k for k in keys if k in coverage.keys()]
    if not keys or len(points) == 0:
        return out
    x, y = shapely.get_x(points), shapely.get_y(points)
    if coverage.grid is not None and any(k in coverage.signal or k in coverage.binary
                                         for k in keys):
        r, c, inside = _cells_at(coverage, x, y)
        for key in keys:
            if key in coverage.signal or key in coverage.binary:
                out |= inside & coverage.covered(*key)[r, c]
    feet = coverage.footprints
    if feet is not None:  # the radius model: points against the footprints, no union
        have = set(feet.keys())
        for hit in feet.covered(x, y, [k for k in keys if k in have]).values():
            out |= hit
        keys = [k for k in keys if k not in have]
    vector = set(coverage.vector_keys())
    if any(k in vector for k in keys):
        for key in keys:
            rows = coverage.areas[(coverage.areas["operator"] == key[0])
                                  & (coverage.areas["technology"] == key[1])]
            for geom in rows.geometry:
                shapely.prepare(geom)
                out |= shapely.contains_xy(geom, x, y)
    return out


def point_diagnostics(points: np.ndarray, coverage: Coverage,
                      keys: list[tuple[str, str]]) -> pd.DataFrame:
    """Return the signal at each village point, to explain a gap (raster models only).

    Parameters
    ----------
    points : array of shapely Points
        Village points in the metric CRS.
    coverage : Coverage
    keys : list of (operator, technology)
        The keys that count as mobile broadband.

    Returns
    -------
    DataFrame
        ``best_dbm`` and ``best_operator`` (strongest counted signal), and for the
        terrain model ``shadow_site_row`` (row of ``coverage.cells`` whose signal would
        reach the threshold without the terrain, -1 if none), ``shadow_dbm`` and
        ``shadow_operator``.  Empty values for the radius model.
    """
    n = len(points)
    out = pd.DataFrame({"best_dbm": np.full(n, np.nan),
                        "best_operator": pd.Series([None] * n, dtype=object),
                        "shadow_site_row": np.full(n, -1),
                        "shadow_dbm": np.full(n, np.nan),
                        "shadow_operator": pd.Series([None] * n, dtype=object)})
    if coverage.grid is None or not coverage.signal or n == 0:
        return out
    r, c, inside = _cells_at(coverage, shapely.get_x(points), shapely.get_y(points))
    best = np.full(n, -np.inf)
    shadow = np.full(n, -np.inf)
    for key in keys:
        if key not in coverage.signal:
            continue
        sig = np.where(inside, coverage.signal[key][r, c], np.nan)
        sig = np.nan_to_num(sig, nan=-np.inf)
        better = sig > best
        best[better] = sig[better]
        out.loc[better, "best_operator"] = key[0]
        if key in coverage.clear_signal:
            clear = np.nan_to_num(np.where(inside, coverage.clear_signal[key][r, c], np.nan),
                                  nan=-np.inf)
            hidden = (clear >= coverage.min_rsrp_dbm) & (sig < coverage.min_rsrp_dbm)
            stronger = hidden & (clear > shadow)
            shadow[stronger] = clear[stronger]
            out.loc[stronger, "shadow_operator"] = key[0]
            out.loc[stronger, "shadow_site_row"] = coverage.clear_server[key][r, c][stronger]
    out["best_dbm"] = np.where(np.isfinite(best), best, np.nan)
    out["shadow_dbm"] = np.where(np.isfinite(shadow), shadow, np.nan)
    return out


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f} km"


def reasons(table: pd.DataFrame, *, threshold_share: float, min_dbm: float,
            tech_label: str, basis_word: pd.Series) -> pd.Series:
    """Return a short English reason for each village's gap (empty without one).

    Parameters
    ----------
    table : DataFrame
        The village table with ``mbb_covered``, ``mbb_share``, ``ftth``,
        ``fibre_distance_m``, ``fibre_kind``, ``fibre_operator``, ``legacy_covered``,
        ``best_dbm``, ``shadow_site_id``, ``shadow_operator``, ``shadow_dbm``,
        ``nearest_site_id``, ``nearest_site_operator``, ``nearest_site_m``.
    threshold_share : float
        ``[rules] village_covered_share``.
    min_dbm : float
        The signal threshold, dBm.
    tech_label : str
        The technologies that count, e.g. "4G/5G".
    basis_word : Series of str
        "people" or "area" per village, for partial coverage.

    Returns
    -------
    Series of str
    """
    idx = table.index
    n = len(table)

    def col(name: str, default: object) -> pd.Series:
        return table[name] if name in table.columns else pd.Series(default, index=idx)

    def values(name: str) -> np.ndarray:
        # the column as Python objects: zipping a Series costs ~2 µs a value
        return table[name].to_numpy(dtype=object)

    # each sentence is built column-wise for the rows it applies to
    uncovered = ~table["mbb_covered"].astype(bool).to_numpy()
    share = pd.to_numeric(table["mbb_share"]).to_numpy(float)
    some = share > 0
    shadow = _is_text(col("shadow_site_id", None))
    best = pd.to_numeric(col("best_dbm", np.nan)).to_numpy(float)
    legacy = col("legacy_covered", False).fillna(False).astype(bool).to_numpy()
    near = _is_text(col("nearest_site_id", None))
    words = basis_word.reindex(idx).to_numpy(dtype=object)

    first = np.full(n, "", dtype=object)
    rule = f"{threshold_share:.0%}"
    m = uncovered & shadow
    first[m] = [f"no {tech_label} signal: terrain shadow from site {a} ({b}, {c:.0f} dBm "
                "without terrain)" for a, b, c in zip(
                    values("shadow_site_id")[m], values("shadow_operator")[m],
                    values("shadow_dbm")[m], strict=True)]
    rest = uncovered & ~shadow
    m = rest & some
    first[m] = [f"{tech_label} covers {a:.0%} of the {b} (rule {rule})"
                for a, b in zip(share[m], words[m], strict=True)]
    weak = rest & ~some & ~np.isnan(best) & (best >= min_dbm - WEAK_MARGIN_DB)
    first[weak] = [f"weak {tech_label} signal {a:.0f} dBm (threshold {min_dbm:.0f} dBm)"
                   for a in best[weak]]
    first[rest & ~some & ~weak & legacy] = f"only 2G/3G signal, no {tech_label}"
    first[rest & ~some & ~weak & ~legacy] = f"no {tech_label} signal"
    m = uncovered & near & ~some
    first[m] = first[m] + np.array(
        [f"; nearest {tech_label} site {a} ({b}) {_km(c)}" for a, b, c in zip(
            values("nearest_site_id")[m], values("nearest_site_operator")[m],
            values("nearest_site_m")[m], strict=True)], dtype=object)

    fibre = np.full(n, "", dtype=object)
    ftth = table["ftth"]
    lacking = (ftth.notna() & ~ftth.fillna(True).astype(bool)).to_numpy()
    distance = pd.to_numeric(table["fibre_distance_m"]).to_numpy(float)
    fibre[lacking & np.isnan(distance)] = "no fibre in the data"
    m = lacking & ~np.isnan(distance)
    fibre[m] = [f"nearest fibre {a} {_km(b)} ({c})" for a, b, c in zip(
        values("fibre_kind")[m], distance[m], values("fibre_operator")[m], strict=True)]
    both = (first != "") & (fibre != "")
    text = first + np.where(both, "; ", "") + fibre
    return pd.Series(text, index=idx, dtype="string")


def _is_text(values: pd.Series) -> np.ndarray:
    """Whether each value is a ``str`` (not NA, None or NaN)."""
    if isinstance(values.dtype, pd.StringDtype):
        return values.notna().to_numpy()
    return np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
