"""Static maps for the written plan: ``figures/map_province.png`` and one map per commune with gaps.

- ``map_province.png``: A4 landscape at 200 dpi (2339 x 1654 px): communes shaded by
  the share of their villages with mobile broadband, the lõm sóng villages, the villages
  without FTTH, the proposed sites, a north arrow, a scale bar, a legend and the source
  line.
- ``map_<commune_code>.png``: A5 landscape at 150 dpi (1240 x 874 px) for each commune
  with a gap (a lõm sóng village or a village without FTTH), the lõm sóng villages named.
  At most ``[output] figures_max_communes`` of them (default 200), those with the most
  gap villages first.

Drawn in the run's metric CRS (so the scale bar is true), with matplotlib's Agg canvas
directly (no pyplot, no display, no browser).  Labels use DejaVu Sans, which ships with
matplotlib and has every Vietnamese diacritic.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import textwrap
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from covgap.config import OutputConfig
from covgap.export.fork import Child, can_fork, caught_warnings
from covgap.export.messages import msg, number
from covgap.export.png import save_canvas_png, save_png

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes

    from covgap.export.documents import RunTables

__all__ = ["COMMUNE_SIZE_PX", "PROVINCE_SIZE_PX", "CommuneFigure", "draw_commune",
           "gap_communes", "max_commune_maps", "write_figures"]

log = logging.getLogger(__name__)

#: A4 landscape at 200 dpi and A5 landscape at 150 dpi, pixels (width, height).
PROVINCE_SIZE_PX: tuple[int, int] = (2339, 1654)
COMMUNE_SIZE_PX: tuple[int, int] = (1240, 874)
PROVINCE_DPI, COMMUNE_DPI = 200, 150
#: Characters after which a commune map's legend label wraps (its panel is narrow).
_COMMUNE_LEGEND_WRAP = 24

#: Classes of the share of a commune's villages with mobile broadband, % (lower bounds).
SHARE_CLASSES: tuple[tuple[float, str], ...] = (
    (0.0, "#b2182b"), (50.0, "#ef8a62"), (80.0, "#fddbc7"), (95.0, "#d1e5f0"),
    (100.0, "#4393c3"))
_NO_DATA = "#eeeeee"
_LOM_SONG, _NO_FTTH, _COVERED, _CANDIDATE = "#d7191c", "#fdae61", "#555555", "#1a9641"
_STYLE = {"font.family": "DejaVu Sans", "font.size": 9}


def _class_colour(pct: float) -> str:
    if pct is None or np.isnan(pct):
        return _NO_DATA
    colour = SHARE_CLASSES[0][1]
    for low, c in SHARE_CLASSES:
        if pct >= low:
            colour = c
    return colour


def _class_labels(language: str) -> list[str]:
    lows = [low for low, _ in SHARE_CLASSES]
    out = []
    for i, low in enumerate(lows):
        if low == 100.0:
            out.append("100")
        else:
            out.append(f"{number(low, language)}–<{number(lows[i + 1], language)}")
    return out


def _paths(geometry: shapely.Geometry) -> list[MplPath]:
    out = []
    for poly in getattr(geometry, "geoms", [geometry]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        rings = [poly.exterior, *poly.interiors]
        verts, codes = [], []
        for ring in rings:
            xy = np.asarray(ring.coords)[:, :2]
            verts.append(xy)
            codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2)
                         + [MplPath.CLOSEPOLY])
        out.append(MplPath(np.concatenate(verts), np.concatenate(codes)))
    return out


def _polygons(ax: Axes, frame: gpd.GeoDataFrame, colours: list[str], *,
              edge: str = "#666666", width: float = 0.4) -> None:
    patches, faces = [], []
    for geom, colour in zip(frame.geometry, colours, strict=True):
        for path in _paths(geom):
            patches.append(PathPatch(path))
            faces.append(colour)
    ax.add_collection(PatchCollection(patches, facecolors=faces, edgecolors=edge,
                                      linewidths=width, zorder=1))


def _fit(ax: Axes, bounds: np.ndarray, margin: float = 0.04) -> None:
    """Set the axes' limits to the bounds, widened to the axes' shape (equal aspect)."""
    x0, y0, x1, y1 = bounds
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    x0, x1, y0, y1 = x0 - w * margin, x1 + w * margin, y0 - h * margin, y1 + h * margin
    box = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    shape = (box.height * fig_h) / (box.width * fig_w)
    w, h = x1 - x0, y1 - y0
    if h / w < shape:
        extra = (w * shape - h) / 2
        y0, y1 = y0 - extra, y1 + extra
    else:
        extra = (h / shape - w) / 2
        x0, x1 = x0 - extra, x1 + extra
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def _nice_length_m(width_m: float) -> float:
    """About a fifth of the map's width, rounded to 1, 2 or 5 times a power of ten."""
    target = width_m / 5
    power = 10 ** math.floor(math.log10(target))
    return max(m * power for m in (1, 2, 5) if m * power <= target)


def _scale_bar(ax: Axes, language: str) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length_m(x1 - x0)
    left, base = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    height = (y1 - y0) * 0.008
    for i in range(4):
        ax.add_patch(Rectangle((left + i * length / 4, base), length / 4, height,
                               facecolor="black" if i % 2 == 0 else "white",
                               edgecolor="black", linewidth=0.6, zorder=6))
    km = length / 1000
    decimals = 0 if km >= 1 else 1
    for frac in (0, 0.5, 1):
        label = number(km * frac, language, decimals=decimals if frac != 0.5 else 1 if
                       (km * 0.5) % 1 else decimals)
        ax.text(left + frac * length, base + height * 1.8, label, ha="center", va="bottom",
                fontsize=7, zorder=6)
    ax.text(left + length + (x1 - x0) * 0.01, base, "km", va="bottom", fontsize=7, zorder=6)


def _north_arrow(ax: Axes, language: str) -> None:
    ax.annotate(msg("map.north", language), xy=(0.96, 0.95), xytext=(0.96, 0.86),
                xycoords="axes fraction", ha="center", va="center", fontsize=12,
                fontweight="bold", zorder=7,
                arrowprops={"facecolor": "black", "width": 4, "headwidth": 12,
                            "headlength": 12})


def _legend(ax: Axes, language: str, *, shading: bool, wrap: int | None = None,
            **kwargs: object) -> None:
    """Draw the map legend in ``ax``; labels longer than ``wrap`` characters wrap."""
    handles: list[object] = []
    if shading:
        handles += [Patch(facecolor=c, edgecolor="#666666", label=lab)
                    for (_, c), lab in zip(SHARE_CLASSES, _class_labels(language), strict=True)]
    handles += [
        Line2D([], [], ls="", marker="o", ms=6, color=_LOM_SONG,
               label=msg("map.lom_song", language)),
        Line2D([], [], ls="", marker="o", ms=4, color=_NO_FTTH,
               label=msg("map.no_ftth", language)),
        Line2D([], [], ls="", marker=".", ms=3, color=_COVERED,
               label=msg("map.covered", language)),
        Line2D([], [], ls="", marker="^", ms=9, color=_CANDIDATE, markeredgecolor="black",
               label=msg("map.candidate", language))]
    if wrap:
        for handle in handles:
            handle.set_label(textwrap.fill(handle.get_label(), wrap))
    ax.legend(handles=handles, title=msg("map.share", language) if shading else None,
              frameon=True, fontsize=8, title_fontsize=8, **kwargs)


def _villages(ax: Axes, villages: gpd.GeoDataFrame, *, scale: float = 1.0,
              names: bool = False) -> None:
    lom = villages["lom_song"].fillna(False).astype(bool).to_numpy()
    ftth = villages["ftth"]
    no_ftth = (ftth.notna() & ~ftth.fillna(True).astype(bool)).to_numpy() & ~lom
    rest = ~lom & ~no_ftth
    xy = shapely.get_coordinates(villages.geometry.centroid)
    ax.scatter(xy[rest, 0], xy[rest, 1], s=2 * scale, c=_COVERED, zorder=3, linewidths=0)
    ax.scatter(xy[no_ftth, 0], xy[no_ftth, 1], s=8 * scale, c=_NO_FTTH, zorder=4,
               linewidths=0)
    ax.scatter(xy[lom, 0], xy[lom, 1], s=16 * scale, c=_LOM_SONG, zorder=5,
               edgecolors="black", linewidths=0.3)
    if names:
        # clipped to the map: a name near the right edge would run over the legend panel
        for (x, y), name in zip(xy[lom], villages["village_name"].to_numpy()[lom],
                                strict=True):
            ax.annotate(str(name), (x, y), xytext=(4, 3), textcoords="offset points",
                        fontsize=7, zorder=6, clip_on=True)


def _candidates(ax: Axes, candidates: gpd.GeoDataFrame | None, *, scale: float = 1.0,
                ranks: bool = True) -> None:
    if candidates is None or candidates.empty:
        return
    xy = shapely.get_coordinates(candidates.geometry)
    ax.scatter(xy[:, 0], xy[:, 1], s=70 * scale, marker="^", c=_CANDIDATE,
               edgecolors="black", linewidths=0.5, zorder=6)
    if ranks and "rank" in candidates.columns:
        for (x, y), rank in zip(xy, candidates["rank"].to_numpy(), strict=True):
            ax.annotate(str(rank), (x, y), xytext=(5, -9), textcoords="offset points",
                        fontsize=7, fontweight="bold", color="#0b4f24", zorder=7,
                        clip_on=True)


def _frame(tables: RunTables) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame,
                                       gpd.GeoDataFrame | None]:
    crs = tables.metric_crs
    cands = tables.candidates.to_crs(crs) if tables.candidates is not None else None
    return tables.communes.to_crs(crs), tables.villages.to_crs(crs), cands


def _source(fig: Figure, tables: RunTables, language: str) -> None:
    fig.text(0.02, 0.015, msg("map.source", language, version=tables.version,
                              title=tables.title, year=tables.year, crs=tables.metric_crs),
             fontsize=7, color="#333333")


def _save(fig: Figure, path: Path, dpi: int) -> Path:
    FigureCanvasAgg(fig)
    return save_png(fig, path, dpi=dpi)


def draw_province(tables: RunTables, path: Path, *, language: str) -> Path:
    """Draw ``map_province.png`` (A4 landscape, 200 dpi).

    Parameters
    ----------
    tables : RunTables
        :func:`covgap.export.documents.read_run_tables`.
    path : Path
    language : {"vi", "en"}

    Returns
    -------
    Path
    """
    communes, villages, cands = _frame(tables)
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(PROVINCE_SIZE_PX[0] / PROVINCE_DPI,
                              PROVINCE_SIZE_PX[1] / PROVINCE_DPI))
        ax = fig.add_axes((0.02, 0.05, 0.70, 0.87))
        pct = communes["villages_mbb_pct"].astype(float).to_numpy()
        _polygons(ax, communes, [_class_colour(v) for v in pct])
        _villages(ax, villages)
        _candidates(ax, cands)
        _fit(ax, communes.total_bounds)
        _scale_bar(ax, language)
        _north_arrow(ax, language)
        fig.suptitle(f"{msg('map.title', language)}\n{tables.title}",
                     x=0.37, y=0.985, fontsize=13, fontweight="bold", va="top")
        legend_ax = fig.add_axes((0.74, 0.05, 0.24, 0.87))
        legend_ax.set_axis_off()
        _legend(legend_ax, language, shading=True, loc="upper left")
        _source(fig, tables, language)
        return _save(fig, path, PROVINCE_DPI)


def draw_commune(tables: RunTables, code: str, path: Path, *, language: str,
                 projected: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame,
                                  gpd.GeoDataFrame | None] | None = None) -> Path:
    """Draw ``map_<commune_code>.png`` (A5 landscape, 150 dpi) for one commune.

    The commune is outlined over its neighbours; its lõm sóng villages are named and
    the proposed sites numbered by rank.  To draw many communes, :class:`CommuneFigure`
    draws each on one figure (what :func:`write_figures` does): the same pixels, faster.
    """
    return CommuneFigure(tables, language=language, projected=projected).draw(code, path)


class CommuneFigure:
    """One A5 figure on which commune after commune is drawn: ``map_<commune_code>.png``.

    What every commune map shares (the figure, its two axes, the legend, the source
    line, the title's place) is made once; :meth:`draw` removes the previous commune's
    artists and adds the next one's in the order a fresh figure would get them, so each
    PNG is byte for byte the one a new figure draws, in about a third of the time.
    The parts that never change (the legend panel and the source line) are rendered
    once into a background; each commune's map restores it and draws only the map axes
    and the title over it.  They do not overlap, so the pixels are those of a whole
    redraw (a test compares the bytes with ``savefig``'s), and the legend's text is not
    laid out again for every commune (a fifth of a map's time).
    The villages' and communes' bounds are computed once: each commune's neighbourhood
    is found from them, then confirmed with the exact test ``GeoDataFrame.cx`` makes.

    Parameters
    ----------
    tables : RunTables
        :func:`covgap.export.documents.read_run_tables`.
    language : {"vi", "en"}
    projected : tuple of GeoDataFrame, optional
        Communes, villages and candidates in the run's metric CRS (``_frame``), when
        already made.

    Examples
    --------
    >>> fig = CommuneFigure(read_run_tables("out/tinh-mau/2025"), language="vi")  # doctest: +SKIP
    >>> fig.draw("15001", Path("map_15001.png"))  # doctest: +SKIP
    """

    def __init__(self, tables: RunTables, *, language: str,
                 projected: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame,
                                  gpd.GeoDataFrame | None] | None = None) -> None:
        self.language = language
        self.communes, self.villages, self.cands = projected or _frame(tables)
        self._bounds = [shapely.bounds(frame.geometry.to_numpy()) if frame is not None
                        else None for frame in (self.communes, self.villages, self.cands)]
        with matplotlib.rc_context(_STYLE):
            fig = Figure(figsize=(COMMUNE_SIZE_PX[0] / COMMUNE_DPI,
                                  COMMUNE_SIZE_PX[1] / COMMUNE_DPI))
            self.ax = fig.add_axes((0.02, 0.06, 0.68, 0.84))
            self.title = fig.suptitle("", x=0.36, y=0.975, fontsize=11, fontweight="bold",
                                      va="top")
            legend_ax = fig.add_axes((0.72, 0.06, 0.26, 0.84))
            legend_ax.set_axis_off()
            # the panel is 26% of an A5 page: long labels wrap to stay on it
            _legend(legend_ax, language, shading=False, wrap=_COMMUNE_LEGEND_WRAP,
                    loc="upper left")
            _source(fig, tables, language)
            # at the dpi it is saved at: the canvas' pixels are the PNG's
            fig.set_dpi(COMMUNE_DPI)
            canvas = FigureCanvasAgg(fig)
            self.ax.set_visible(False)
            self.title.set_visible(False)
            canvas.draw()
            self._background = canvas.copy_from_bbox(fig.bbox)
            self.ax.set_visible(True)
            self.title.set_visible(True)
        self.figure = fig

    def _near(self, which: int, box: tuple[float, float, float, float]) -> np.ndarray:
        """Rows of communes (0), villages (1) or candidates (2) touching ``box`` (``.cx``)."""
        frame = (self.communes, self.villages, self.cands)[which]
        x0, x1, y0, y1 = box
        b = self._bounds[which]
        maybe = np.flatnonzero((b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1)
                               & (b[:, 3] >= y0))
        geoms = frame.geometry.to_numpy()[maybe]
        return maybe[shapely.intersects(geoms, shapely.box(x0, y0, x1, y1))]

    def draw(self, code: str, path: Path) -> Path:
        """Draw the commune ``code`` and save it as ``path`` (PNG, 1240 x 874 px).

        Returns
        -------
        Path
        """
        ax, language = self.ax, self.language
        for artist in [*ax.collections, *ax.patches, *ax.texts]:
            artist.remove()  # the previous commune's
        communes, villages, cands = self.communes, self.villages, self.cands
        mine = communes[communes["commune_code"] == code]
        name = str(mine["commune_name"].iloc[0]) if len(mine) else code
        with matplotlib.rc_context(_STYLE):
            # as on a new axes: _fit reads the axes' box, which an equal aspect has
            # shrunk to the previous commune's limits (a pixel off here and there)
            ax.set_aspect("auto")
            _fit(ax, mine.total_bounds, margin=0.12)
            box = (*ax.get_xlim(), *ax.get_ylim())
            around = communes.iloc[self._near(0, box)]
            colours = ["#ffffff" if c == code else "#f0f0f0" for c in around["commune_code"]]
            _polygons(ax, around, colours, edge="#999999", width=0.4)
            _polygons(ax, mine, ["none"] * len(mine), edge="black", width=1.4)
            rows = self._near(1, box)
            near = villages.iloc[rows]
            _villages(ax, near, scale=2.0, names=False)
            _villages(ax, near[near["commune_code"] == code], scale=2.0, names=True)
            if cands is not None:
                _candidates(ax, cands.iloc[self._near(2, box)], scale=1.5)
            _fit(ax, mine.total_bounds, margin=0.12)
            _scale_bar(ax, language)
            _north_arrow(ax, language)
            self.title.set_text(msg("map.commune_title", language, commune=name))
            # the background, then what a whole redraw draws after it (axes, then texts)
            canvas = self.figure.canvas
            renderer = canvas.get_renderer()
            canvas.restore_region(self._background)
            ax.draw(renderer)
            self.title.draw(renderer)
            save_canvas_png(canvas, path)
        return path


def gap_communes(villages: gpd.GeoDataFrame) -> list[str]:
    """Return the codes of the communes with a gap: a lõm sóng village or one without FTTH.

    Most villages with a gap first, then by code.

    Examples
    --------
    >>> import geopandas as gpd
    >>> v = gpd.GeoDataFrame({"commune_code": ["1", "2", "2"], "lom_song": [False, True, False],
    ...                       "ftth": [True, True, True]})
    >>> gap_communes(v)
    ['2']
    """
    lom = villages["lom_song"].fillna(False).astype(bool)
    ftth = villages["ftth"]
    no_ftth = ftth.notna() & ~ftth.fillna(True).astype(bool)
    codes = villages.loc[(lom | no_ftth).to_numpy(), "commune_code"].dropna().astype(str)
    counts = codes.value_counts()
    return sorted(counts.index, key=lambda c: (-counts[c], c))


def max_commune_maps(tables: RunTables) -> int:
    """Return how many commune maps a run's ``figures/`` holds: ``[output] figures_max_communes``.

    Read from the run's record, so a rebuilt ``figures/`` has the maps the run had; a
    run recorded before the setting existed gets its default.
    """
    output = (tables.manifest.get("config") or {}).get("output") or {}
    value = output.get("figures_max_communes")
    return int(value) if isinstance(value, int) else OutputConfig().figures_max_communes


def write_figures(tables: RunTables, folder: str | Path, *, language: str,
                  max_communes: int | None = None, parallel: bool | None = None,
                  meanwhile: Callable[[], object] | None = None) -> list[Path]:
    """Write ``map_province.png`` and ``map_<commune_code>.png`` per commune with a gap.

    At most ``max_communes`` commune maps, those with the most villages with a gap; a
    log line says how many were left out.  One figure is redrawn commune after commune
    (:class:`CommuneFigure`); with ``parallel``, a forked child draws too, each process
    taking the next commune from a shared counter, so the maps are shared out as they
    finish (each map is drawn the same way whichever process draws it: same bytes).

    Parameters
    ----------
    tables : RunTables
        :func:`covgap.export.documents.read_run_tables`.
    folder : str or Path
        Created if missing.
    language : {"vi", "en"}
    max_communes : int, optional
        Default: the run's ``[output] figures_max_communes`` (:func:`max_commune_maps`);
        0 draws no commune map.
    parallel : bool, optional
        Draw the commune maps on two processes.  Default: where the system can fork,
        has a second core and this process runs no other thread
        (:func:`covgap.export.fork.can_fork`).
    meanwhile : callable, optional
        Work for this process once ``map_province.png`` is written, while the child
        starts on the commune maps (the appendix, which shows the province map); this
        process then joins the drawing.  Without a child it runs before the commune maps.

    Returns
    -------
    list of Path
        The PNGs, province first.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = [draw_province(tables, folder / "map_province.png", language=language)]
    cap = max_commune_maps(tables) if max_communes is None else max_communes
    codes = gap_communes(tables.villages)
    if len(codes) > cap:
        log.warning("%d communes have a gap: drawing the %d with the most villages with a "
                    "gap ([output] figures_max_communes)", len(codes), cap)
        codes = codes[:cap]
    paths = [folder / f"map_{''.join(ch if ch.isalnum() or ch in '-_' else '_' for ch in code)}.png"
             for code in codes]
    # two codes with one file name (a later map replaces an earlier) stay in one process
    share = ((can_fork() if parallel is None else parallel) and len(paths) > 1
             and len(set(paths)) == len(paths))
    if not share:
        if meanwhile is not None:
            meanwhile()
        _draw_communes(tables, language, codes, paths, iter(range(len(codes))))
    else:
        projected = _frame(tables)  # once, before the fork
        counter = multiprocessing.get_context("fork").Value("q", 0)

        def turns() -> Iterator[int]:
            while True:
                with counter.get_lock():
                    i = counter.value
                    counter.value = i + 1
                if i >= len(codes):
                    return
                yield i

        child = Child("figure writer", lambda: caught_warnings(lambda: _draw_communes(
            tables, language, codes, paths, turns(), projected)))
        try:
            if meanwhile is not None:
                meanwhile()
            _draw_communes(tables, language, codes, paths, turns(), projected)
            for message, category, filename, lineno in child.finish():
                warnings.warn_explicit(message, category, filename, lineno)
        except BaseException:
            child.stop()
            raise
    out.extend(paths)
    log.info("wrote %d figures in %s", len(out), folder)
    return out


def _draw_communes(tables: RunTables, language: str, codes: list[str], paths: list[Path],
                   turns: Iterator[int], projected: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame,
                                                          gpd.GeoDataFrame | None] | None = None
                   ) -> None:
    """Draw the commune maps ``codes[i]`` into ``paths[i]`` for each ``i`` of ``turns``."""
    figure: CommuneFigure | None = None
    for i in turns:  # one figure, redrawn commune after commune
        if figure is None:
            figure = CommuneFigure(tables, language=language,
                                   projected=projected or _frame(tables))
        figure.draw(codes[i], paths[i])
