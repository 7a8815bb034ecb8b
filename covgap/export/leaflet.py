"""The offline map frame shared by covgap's maps: the meeting map and the change map.

Both maps are one self-contained HTML page built with folium: Leaflet, its plugins and
covgap's own script and styles are inlined from ``covgap/export/assets/`` (see the
README there for versions and licences) instead of folium's CDN links, and the default
base layer is a plain background, so the page opens without internet.
:func:`offline_map` creates that frame and :func:`finish_map` closes it; in between a
map adds its layers as :class:`Piece` elements, each built in the page by a function of
``covgap-map.js`` (or of a script such as ``covgap-change.js`` given to
:func:`offline_map`).

The text helpers say how data reach the page: every string from the data is
HTML-escaped in Python (:func:`esc`) before it is put in, curly braces too, because
folium passes rendered pieces through Jinja again; data travel as JSON made safe inside
a ``<script>`` element (:func:`script_json`); numbers shown to people are written the
Vietnamese way (:func:`fmt`).

This module is public within covgap: :mod:`covgap.export.map` and
:mod:`covgap.diff.changemap` build on it.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import logging
import math
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from folium.map import Layer
from pyproj import CRS

__all__ = [
    "ASSET_FILES_CSS",
    "ASSET_FILES_JS",
    "BACKGROUND",
    "COORD_DECIMALS",
    "LABEL_MIN_ZOOM",
    "Piece",
    "Raw",
    "asset_script",
    "bools",
    "esc",
    "finish_map",
    "fmt",
    "inline_assets",
    "missing",
    "numbers",
    "offline_map",
    "pct",
    "rounded_geojson",
    "script_json",
    "simplify",
    "texts",
    "write_html",
]

log = logging.getLogger(__name__)

#: Commune names appear from this zoom level on (about 1:500,000): after the 2025
#: merger communes are large, so their names read from a district-wide view.
LABEL_MIN_ZOOM = 10
#: Coordinates in the page are rounded to 5 decimals (about 1 m).
COORD_DECIMALS = 5
#: Colour of the plain base layer, the default (it needs no tiles).
BACKGROUND = "#f2f2ef"
#: The vendored styles and scripts inlined into every page, in loading order.
ASSET_FILES_CSS: tuple[str, ...] = ("leaflet/leaflet.css",
                                    "leaflet.markercluster/MarkerCluster.css",
                                    "covgap-map.css")
ASSET_FILES_JS: tuple[str, ...] = ("leaflet/leaflet.js",
                                   "leaflet.markercluster/leaflet.markercluster.js",
                                   "leaflet.featuregroup.subgroup/leaflet.featuregroup.subgroup.js",
                                   "covgap-map.js")


# --------------------------------------------------------------------------- the frame

def offline_map(bounds: Sequence[float], *, title: str, tiles: bool = True,
                scripts: Sequence[str] = ()) -> folium.Map:
    """Create an offline map page: assets inlined, a plain background, no CDN links.

    The map is centred on ``bounds``; :func:`finish_map` fits it to them once the
    layers are added.

    Parameters
    ----------
    bounds : sequence of float
        ``(west, south, east, north)``, degrees (WGS84, EPSG:4326).
    title : str
        The page's ``<title>``, plain text (it is HTML-escaped here).
    tiles : bool
        Offer OpenStreetMap tiles as a second base layer (they load only with internet).
    scripts : sequence of str
        Further scripts of ``covgap/export/assets/`` to inline after covgap-map.js
        (``"covgap-change.js"``): they add functions to its ``covgap`` namespace.

    Returns
    -------
    folium.Map
        With the plain background and the tiles as base layers; add the layers as
        :class:`Piece` elements, then call :func:`finish_map`.

    Examples
    --------
    >>> m = offline_map((105.0, 19.8, 105.6, 20.3), title="Tỉnh mẫu")
    >>> m = finish_map(m, (105.0, 19.8, 105.6, 20.3))
    >>> "cdn.jsdelivr.net" in m.get_root().render()
    False
    """
    west, south, east, north = (float(v) for v in bounds)
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=10,
                   tiles=None, prefer_canvas=True, control_scale=False, font_size="13px",
                   zoomSnap=0.25, zoomDelta=0.5)
    # folium's own CDN links are replaced by the inlined assets
    m.default_js = []
    m.default_css = []
    figure = m.get_root()
    figure.title = esc(title)
    figure.header.add_child(Raw(inline_assets()), name="covgap_assets")
    for name in scripts:
        figure.header.add_child(Raw(asset_script(name)), name=f"covgap_{Path(name).stem}")
    Piece("setup", control=False, show=False, options={
        "background": BACKGROUND, "label_min_zoom": LABEL_MIN_ZOOM, "min_zoom": 5,
        "max_zoom": 18, "attribution": "covgap · Leaflet"}).add_to(m)
    Piece("blank", name="Nền trống / Plain background", overlay=False).add_to(m)
    if tiles:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap (cần internet / online only)",
                         overlay=False, show=False).add_to(m)
    return m


def finish_map(m: folium.Map, bounds: Sequence[float]) -> folium.Map:
    """Add the layer switch and fit the map to ``bounds`` when the page has loaded.

    Parameters
    ----------
    m : folium.Map
        A map from :func:`offline_map` with its layers added.
    bounds : sequence of float
        ``(west, south, east, north)``, degrees (WGS84).

    Returns
    -------
    folium.Map
        ``m``; the page sets ``window.covgap.ready`` once it is drawn.
    """
    west, south, east, north = (float(v) for v in bounds)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    Piece("finish", control=False,
          options={"bounds": [[south, west], [north, east]]}).add_to(m)
    return m


def write_html(m: folium.Map, path: Path) -> Path:
    """Write a map as one HTML file (UTF-8) and return its path."""
    text = m.get_root().render()
    path.write_text(text, encoding="utf-8")
    log.info("map written to %s (%.1f MB)", path, len(text.encode("utf-8")) / 1e6)
    return path


# --------------------------------------------------------------------------- elements

class Raw(Element):
    """Text put into the page as is (no Jinja pass: the data may contain braces)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self.text


class Piece(Layer):
    """A layer or control built in the page by a function of ``covgap-map.js``.

    The data travel as JSON in a ``<script type="application/json">`` element (parsed
    once with ``JSON.parse``); the options, built from covgap's constants and escaped
    names, go into the call.
    """

    _template = jinja2.Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = covgap.{{ this.function }}("
        "{{ this._parent.get_name() }}, {{ this.data_js }}, {{ this.options_js }});\n"
        "{% endmacro %}")

    def __init__(self, function: str, *, data: Any = None, options: dict | None = None,
                 name: str | None = None, overlay: bool = True, control: bool = True,
                 show: bool = True) -> None:
        super().__init__(name=name, overlay=overlay, control=control, show=show)
        self._name = f"covgap_{function}"
        self.function = function
        self.payload = None if data is None else script_json(data)
        self.options_js = script_json(options or {})

    @property
    def data_js(self) -> str:
        """JavaScript that returns the data."""
        if self.payload is None:
            return "null"
        return f'covgap.data("{self.get_name()}_data")'

    def render(self, **kwargs: Any) -> None:
        """Put the data into the page, then the call."""
        if self.payload is not None:
            self.get_root().html.add_child(
                Raw(f'<script type="application/json" id="{self.get_name()}_data">'
                    f"{self.payload}</script>"), name=f"{self.get_name()}_data")
        super().render(**kwargs)


def _assets() -> Any:
    return resources.files("covgap.export").joinpath("assets")


@functools.lru_cache(maxsize=1)
def inline_assets() -> str:
    """Return the ``<style>`` and ``<script>`` elements of the vendored assets.

    Leaflet's CSS images become ``data:`` URLs and the source-map comments are dropped
    (the maps are not shipped; a browser would try to fetch them).

    Raises
    ------
    RuntimeError
        When an asset holds text that would close its own element early.
    """
    root = _assets()

    def image(match: re.Match) -> str:
        data = root.joinpath("leaflet", "images", match.group(2)).read_bytes()
        return f'url("data:image/png;base64,{base64.b64encode(data).decode("ascii")}")'

    css = []
    for name in ASSET_FILES_CSS:
        text = root.joinpath(name).read_text(encoding="utf-8")
        css.append(re.sub(r"url\((['\"]?)images/([\w.-]+\.png)\1\)", image, text))
    js = []
    for name in ASSET_FILES_JS:
        text = root.joinpath(name).read_text(encoding="utf-8")
        js.append(re.sub(r"^//# sourceMappingURL=.*$", "", text, flags=re.MULTILINE))
    parts = [f"<style>\n{t}\n</style>" for t in css] + [f"<script>\n{t}\n</script>" for t in js]
    for part in parts:
        _check_inline(part)
    return "\n".join(parts)


@functools.lru_cache(maxsize=8)
def asset_script(name: str) -> str:
    """Return a script of ``covgap/export/assets/`` as a ``<script>`` element.

    Parameters
    ----------
    name : str
        File name in the assets folder, e.g. ``"covgap-change.js"``.

    Returns
    -------
    str
        ``<script>``, a newline, the file's text ending in one newline, ``</script>``.

    Raises
    ------
    RuntimeError
        When the script holds text that would close its element early.
    """
    text = _assets().joinpath(name).read_text(encoding="utf-8")
    part = f"<script>\n{text.rstrip(chr(10))}\n</script>"
    _check_inline(part)
    return part


def _check_inline(part: str) -> None:
    inner = part[part.index(">") + 1: part.rindex("<")]
    if "</script" in inner.lower() or "</style" in inner.lower():
        raise RuntimeError("a vendored asset would close its own element early")


# --------------------------------------------------------------------------- text

def esc(value: Any) -> str | None:
    """HTML-escape a value from the data (None for missing); braces become entities.

    Examples
    --------
    >>> esc("<b>{x}</b>")
    '&lt;b&gt;&#123;x&#125;&lt;/b&gt;'
    >>> esc(float("nan")) is None
    True
    """
    if missing(value):
        return None
    return (html.escape(str(value), quote=True)
            .replace("{", "&#123;").replace("}", "&#125;"))


def missing(value: Any) -> bool:
    """Return whether a value is missing: None, ``pd.NA``, ``pd.NaT`` or a float NaN."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def script_json(obj: Any) -> str:
    r"""Compact JSON safe inside a ``<script>`` element (no NaN: give None).

    Examples
    --------
    >>> script_json({"n": "</script>"})
    '{"n":"\\u003c/script>"}'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029",
                                                                            "\\u2029")


def texts(values: Iterable[Any]) -> list[str | None]:
    """Return the values HTML-escaped (:func:`esc`), None for missing ones.

    Each distinct value (by type and value: 1, 1.0 and True are written differently) is
    escaped once, and a pandas column is read as one array, not value by value.

    Examples
    --------
    >>> texts(pd.Series(["<a>", "<a>", None, 1, 1.0]))
    ['&lt;a&gt;', '&lt;a&gt;', None, '1', '1.0']
    """
    if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        values = values.to_numpy(dtype=object)
    seen: dict[tuple[type, Any], str | None] = {}
    out: list[str | None] = []
    for v in values:
        try:
            key = (type(v), v)
            text = seen[key]
        except KeyError:
            text = seen[key] = esc(v)
        except TypeError:  # not hashable
            text = esc(v)
        out.append(text)
    return out


def numbers(values: Any, digits: int = 0) -> list[float | int | None]:
    """Return the values as numbers rounded to ``digits`` (int at 0), None for missing.

    Examples
    --------
    >>> numbers([1.26, None, "x"], 1)
    [1.3, None, None]
    """
    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    rounded = np.round(arr, digits)
    if digits == 0:
        return [None if math.isnan(v) else int(v) for v in rounded.tolist()]
    return [None if math.isnan(v) else v for v in rounded.tolist()]


def bools(values: Any) -> list[bool | None]:
    """Return the values as booleans, None for missing ones."""
    return [None if missing(v) else bool(v) for v in pd.Series(values).astype(object)]


def fmt(value: float | None, digits: int = 0) -> str:
    """Format a number the Vietnamese way: 1.234,5 (the maps' readers are Vietnamese).

    Examples
    --------
    >>> fmt(-1234.56, 1)
    '−1.234,6'
    >>> fmt(None)
    '—'
    """
    if value is None or missing(value):
        return "—"
    text = f"{value:,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return text.replace("-", "−")


def pct(value: float | None, digits: int = 1) -> str:
    """Format a percentage the Vietnamese way (``"66,7%"``); "—" when missing."""
    return "—" if value is None or missing(value) else fmt(value, digits) + "%"


# --------------------------------------------------------------------------- geometry

def rounded_geojson(geoms: np.ndarray) -> list[dict | None]:
    """GeoJSON geometries with coordinates rounded to COORD_DECIMALS (None when empty)."""
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))
    return [None if g is None or g.is_empty else shapely.geometry.mapping(g)
            for g in rounded]


def simplify(geoms: gpd.GeoSeries, metric: CRS, tolerance_m: float, *,
             coverage: bool = False) -> np.ndarray:
    """Simplify in the metric CRS and return WGS84 geometries.

    Parameters
    ----------
    geoms : GeoSeries
        With a CRS.
    metric : CRS
        The projected CRS the tolerance is measured in (the run's metric CRS).
    tolerance_m : float
        Metres; 0 or less keeps every vertex.
    coverage : bool
        The geometries tile an area (communes): simplify them together
        (``shapely.coverage_simplify``) so neighbours keep a shared edge, without
        slivers; Douglas-Peucker one by one otherwise, or when GEOS cannot.

    Returns
    -------
    numpy.ndarray
        Shapely geometries in EPSG:4326, in the order of ``geoms``.
    """
    if tolerance_m <= 0:
        return geoms.to_crs("EPSG:4326").to_numpy()
    arr = geoms.to_crs(metric).to_numpy()
    out = None
    if coverage:
        try:
            # shared boundaries stay shared: no slivers between neighbouring communes
            out = shapely.coverage_simplify(arr, tolerance_m)
        except (shapely.errors.GEOSException, AttributeError, TypeError, ValueError):
            out = None
    if out is None:
        out = shapely.simplify(arr, tolerance_m, preserve_topology=True)
    return gpd.GeoSeries(out, crs=metric, index=geoms.index).to_crs("EPSG:4326").to_numpy()
