"""The offline map frame both maps share (covgap.export.leaflet)."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import CRS
from shapely.geometry import Point, box

from covgap.export import leaflet

BOUNDS = (105.0, 19.8, 105.6, 20.3)  # west, south, east, north


class _Refs(HTMLParser):
    """Every src/href a page would fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img") and a.get("src"):
            self.refs.append(a["src"])
        if tag == "link" and a.get("href"):
            self.refs.append(a["href"])


def _page(**options) -> str:
    m = leaflet.offline_map(BOUNDS, title="Tỉnh <Mẫu> & {x}", **options)
    return leaflet.finish_map(m, BOUNDS).get_root().render()


def test_offline_map_inlines_everything_and_links_nothing():
    text = _page()
    parser = _Refs()
    parser.feed(text)
    assert parser.refs == []
    assert "cdn.jsdelivr.net" not in text and "sourceMappingURL" not in text
    # Leaflet's own code and covgap's namespace are in the page
    assert "L.version" in text or "Leaflet" in text
    assert "window.covgap" in text
    # the title is plain text, escaped once, braces too (folium renders through Jinja)
    assert "<title>Tỉnh &lt;Mẫu&gt; &amp; &#123;x&#125;</title>" in text


def test_offline_map_base_layers_and_finish():
    text = _page()
    assert "covgap.setup(" in text and "covgap.blank(" in text
    assert '"background":"#f2f2ef"' in text and '"label_min_zoom":10' in text
    assert "tile.openstreetmap.org" in text  # offered, loaded only when chosen
    assert '"bounds":[[19.8,105.0],[20.3,105.6]]' in text  # south-west, north-east
    assert "L.control.layers" in text
    assert "tile.openstreetmap.org" not in _page(tiles=False)


def test_offline_map_centre_is_the_middle_of_the_bounds():
    m = leaflet.offline_map(BOUNDS, title="x")
    assert m.location == [pytest.approx(20.05), pytest.approx(105.3)]


def test_extra_scripts_are_inlined_after_the_frame():
    text = _page(scripts=["covgap-change.js"])
    frame = text.index("window.covgap = {")
    change = text.index("cg.changes = function")
    assert frame < change
    assert leaflet.asset_script("covgap-change.js") in text
    assert leaflet.asset_script("covgap-change.js").startswith("<script>\n(function () {")
    assert leaflet.asset_script("covgap-change.js").endswith("})();\n</script>")


def test_piece_ships_its_data_as_json_once():
    m = leaflet.offline_map(BOUNDS, title="x")
    leaflet.Piece("legend", data={"html": "</script><b>a</b>"}, control=False).add_to(m)
    text = leaflet.finish_map(m, BOUNDS).get_root().render()
    block = re.search(r'<script type="application/json" id="(covgap_legend_[0-9a-f]+)_data">'
                      r"(.*?)</script>", text)
    assert block is not None
    # "<" is written \u003c, so the data cannot close the script element
    assert json.loads(block.group(2)) == {"html": "</script><b>a</b>"}
    assert f'covgap.legend({m.get_name()}, covgap.data("{block.group(1)}_data"), {{}})' in text


def test_script_json_is_safe_inside_a_script_element():
    text = leaflet.script_json({"n": "</script>\u2028<!--", "v": [1, None]})
    assert "<" not in text and "\u2028" not in text
    assert json.loads(text) == {"n": "</script>\u2028<!--", "v": [1, None]}
    with pytest.raises(ValueError):
        leaflet.script_json({"v": math.nan})


def test_text_helpers():
    assert leaflet.esc('<img src=x onerror="a">') == \
        "&lt;img src=x onerror=&quot;a&quot;&gt;"
    assert leaflet.esc("{{ x }}") == "&#123;&#123; x &#125;&#125;"
    assert [leaflet.esc(v) for v in (None, pd.NA, math.nan)] == [None, None, None]
    assert leaflet.texts(["a&b", None]) == ["a&amp;b", None]
    assert leaflet.numbers([1.5, 2.449, None, "x"], 1) == [1.5, 2.4, None, None]
    assert leaflet.numbers([2.5, 3.5, -0.4]) == [2, 4, 0]  # numpy rounds half to even
    assert leaflet.bools([1, 0, None, pd.NA, True]) == [True, False, None, None, True]
    assert leaflet.fmt(1234567.891, 2) == "1.234.567,89"
    assert leaflet.fmt(-3) == "−3"
    assert leaflet.fmt(math.nan) == "—"
    assert leaflet.pct(66.666) == "66,7%"
    assert leaflet.pct(None) == "—"


def test_rounded_geojson_and_simplify():
    utm = CRS("EPSG:32648")
    # a 1 km square with a 1 m notch: gone at 50 m, kept at 0
    square = gpd.GeoSeries([box(500000, 2200000, 501000, 2201000)], crs=utm)
    notched = square.difference(gpd.GeoSeries([box(500500, 2200999, 500501, 2201000)],
                                              crs=utm))
    simple = leaflet.simplify(notched, utm, 50.0)
    kept = leaflet.simplify(notched, utm, 0.0)
    assert len(simple[0].exterior.coords) == 5
    assert len(kept[0].exterior.coords) > 5
    gj = leaflet.rounded_geojson(simple)
    lon, lat = gj[0]["coordinates"][0][0]
    assert lon == round(lon, leaflet.COORD_DECIMALS) and 104 < lon < 106 and 19 < lat < 21
    assert leaflet.rounded_geojson(gpd.GeoSeries([Point(0, 0).buffer(0)]).to_numpy()) == [None]


def test_a_script_that_would_close_its_element_is_refused(monkeypatch):
    monkeypatch.setattr(leaflet, "_assets", lambda: _FakeRoot("var s = '</script>';\n"))
    leaflet.asset_script.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="close its own element"):
            leaflet.asset_script("evil.js")
    finally:
        leaflet.asset_script.cache_clear()


class _FakeRoot:
    def __init__(self, text: str) -> None:
        self.text = text

    def joinpath(self, *parts: str) -> _FakeRoot:
        return self

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.text
