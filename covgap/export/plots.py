"""Charts for the report and the meeting: PNGs of the indicators against the targets.

- ``indicators_province.png``: the province's percentage indicators against the plan's
  targets.
- ``communes_villages_mbb_pct.png``, ``communes_villages_ftth_pct.png``: each commune's
  value, sorted, with the target line; with many communes only those furthest behind
  (the lowest ``max_communes``) are drawn, and the title says so.

Figures are drawn with matplotlib's Agg canvas directly: no pyplot, no display, and no
change to the backend of the notebook or program that calls covgap.  Labels use DejaVu
Sans, which ships with matplotlib and has every Vietnamese diacritic.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from covgap.analysis.rules import rule_text
from covgap.export.excel import indicator_label
from covgap.export.png import save_png

if TYPE_CHECKING:
    from covgap.result import Result

__all__ = ["COMMUNE_INDICATORS", "plot_communes", "plot_province", "write_plots"]

log = logging.getLogger(__name__)

#: The commune indicators drawn, one PNG each (when the run has values for them).
COMMUNE_INDICATORS: tuple[str, ...] = ("villages_mbb_pct", "villages_ftth_pct")

_STYLE = {"font.family": "DejaVu Sans", "font.size": 9, "axes.spines.top": False,
          "axes.spines.right": False}
_MET, _NOT_MET, _NO_TARGET = "#2a9d8f", "#e76f51", "#8d99ae"
_DPI = 150


def _colours(values: np.ndarray, target: float | None) -> list[str]:
    if target is None or np.isnan(target):
        return [_NO_TARGET] * len(values)
    return [_MET if v >= target else _NOT_MET for v in values]


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    return save_png(fig, path, dpi=_DPI, tight=True)


def _target_of(result: Result, indicator: str) -> float | None:
    target = getattr(result.config.targets, indicator, None)
    return None if target is None else float(target)


def plot_province(result: Result, path: str | Path) -> Path | None:
    """Draw the province's percentage indicators against their targets.

    Parameters
    ----------
    result : Result
        A run with its indicators.
    path : str or Path
        The PNG to write.

    Returns
    -------
    Path or None
        ``path``, or None when the run has no percentage indicator with a value.
    """
    ind = result.indicators
    rows = ind[(ind["level"] == "province") & (ind["unit"] == "%") & (ind["source"] == "map")
               & ind["value"].notna()]
    if rows.empty:
        return None
    rows = rows.iloc[::-1]  # barh draws bottom-up: keep the table's order top-down
    values = rows["value"].to_numpy(float)
    targets = pd.to_numeric(rows["target"], errors="coerce").to_numpy(float)
    cfg = result.config  # the labels quote the run's own numbers
    labels = [f"{indicator_label(i, 'vi', cfg)}\n{indicator_label(i, 'en', cfg)}"
              for i in rows["indicator"]]
    colours = [_NO_TARGET if np.isnan(t) else _MET if v >= t else _NOT_MET
               for v, t in zip(values, targets, strict=True)]
    name, year = result.config.display_name, result.config.run.year
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(9, 1.2 + 0.75 * len(rows)))
        ax = fig.add_subplot()
        y = np.arange(len(rows))
        ax.barh(y, values, color=colours, height=0.6)
        has_target = ~np.isnan(targets)
        ax.scatter(targets[has_target], y[has_target], marker="|", s=900, linewidths=2.5,
                   color="black", zorder=3)
        for yi, v, t in zip(y, values, targets, strict=True):
            note = f"{v:.1f}%" + ("" if np.isnan(t) else f"  (mục tiêu / target {t:g}%)")
            ax.text(np.nanmax([v, t]) + 2, yi, note, va="center", fontsize=8)
        ax.set_yticks(y, labels)
        ax.set_xlim(0, 140)
        ax.set_xticks(np.arange(0, 101, 20))
        ax.set_xlabel("%   (vạch đen: mục tiêu / black mark: target)")
        ax.set_title(f"Chỉ tiêu hạ tầng số: {name} {year}\n"
                     "Digital-infrastructure indicators against the plan's targets",
                     loc="left")
        fig.text(0.01, -0.02, rule_text(result.config, result.coverage), fontsize=7,
                 color="#555555", wrap=True)
        return _save(fig, Path(path))


def plot_communes(result: Result, indicator: str, path: str | Path, *,
                  max_communes: int = 40) -> Path | None:
    """Draw one indicator per commune, sorted, with the target line.

    Parameters
    ----------
    result : Result
        A run with its commune table.
    indicator : str
        A commune column, e.g. ``"villages_mbb_pct"``.
    path : str or Path
        The PNG to write.
    max_communes : int
        With more communes than this, only those below the target are drawn, at most
        the lowest ``max_communes`` (the lowest ``max_communes`` of all when every
        commune meets the target or there is none).

    Returns
    -------
    Path or None
        ``path``, or None when no commune has a value.
    """
    communes = pd.DataFrame(result.communes)
    if indicator not in communes:
        return None
    values = pd.to_numeric(communes[indicator], errors="coerce")
    table = pd.DataFrame({"name": communes["commune_name"].astype("string"),
                          "code": communes["commune_code"].astype("string"),
                          "value": values}).dropna(subset=["value"])
    if table.empty:
        return None
    twice = table["name"].duplicated(keep=False)
    table["label"] = table["name"].where(~twice, table["name"] + " (" + table["code"] + ")")
    table = table.sort_values(["value", "label"], kind="stable")
    total = len(table)
    target = _target_of(result, indicator)
    below = table[table["value"] < target] if target is not None else table.iloc[0:0]
    if total <= max_communes:
        shown, scope = table, f"{total} xã / communes"
    elif len(below):
        # with many communes, the ones behind the target are the story
        shown = below.head(max_communes)
        if len(shown) == len(below):
            scope = (f"{len(below)} trong {total} xã chưa đạt mục tiêu / the {len(below)} of "
                     f"{total} communes below the target")
        else:
            scope = (f"{len(shown)} xã thấp nhất trong {len(below)} xã chưa đạt ({total} xã) "
                     f"/ the lowest {len(shown)} of {len(below)} communes below the target "
                     f"({total} communes)")
    else:
        shown = table.head(max_communes)
        scope = (f"{len(shown)} xã thấp nhất trong {total} xã / the lowest {len(shown)} of "
                 f"{total} communes")
    name, year = result.config.display_name, result.config.run.year
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(8, 1.6 + 0.22 * len(shown)))
        ax = fig.add_subplot()
        shown = shown.iloc[::-1]  # the lowest at the top
        y = np.arange(len(shown))
        v = shown["value"].to_numpy(float)
        ax.barh(y, v, color=_colours(v, target), height=0.7)
        for yi, vi in zip(y, v, strict=True):
            ax.text(vi + 1, yi, f"{vi:.1f}", va="center", fontsize=7)
        if target is not None:
            ax.axvline(target, color="black", linestyle="--", linewidth=1,
                       label=f"Mục tiêu / target {target:g}%")
            ax.legend(loc="best", frameon=True, fontsize=8)
        ax.set_yticks(y, shown["label"].tolist(), fontsize=8)
        ax.set_ylim(-0.6, len(shown) - 0.4)
        ax.set_xlim(0, 110)
        ax.set_xlabel("%")
        ax.set_title(f"{indicator_label(indicator, 'vi', result.config)} (%)\n"
                     f"{indicator_label(indicator, 'en', result.config)}, {name} {year}\n"
                     f"{scope}",
                     loc="left")
        return _save(fig, Path(path))


def write_plots(result: Result, folder: str | Path, *, max_communes: int = 40) -> list[Path]:
    """Write the PNG charts of a run into ``folder`` (created if missing).

    Parameters
    ----------
    result : Result
        A run (:func:`covgap.run`) with its analysis.
    folder : str or Path
        Where the PNGs go.
    max_communes : int
        Commune charts show at most this many communes: those furthest behind.

    Returns
    -------
    list of Path
        The files written; a chart without any value to draw is left out.

    Examples
    --------
    >>> result = covgap.run("data/sample.toml")  # doctest: +SKIP
    >>> [p.name for p in write_plots(result, "out/plots")]  # doctest: +SKIP
    ['indicators_province.png', 'communes_villages_mbb_pct.png', \
'communes_villages_ftth_pct.png']
    """
    if result.analysis is None:
        return []
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [plot_province(result, folder / "indicators_province.png")]
    for indicator in COMMUNE_INDICATORS:
        written.append(plot_communes(result, indicator, folder / f"communes_{indicator}.png",
                                     max_communes=max_communes))
    out = [p for p in written if p is not None]
    log.debug("wrote %d charts to %s", len(out), folder)
    return out
