"""The interactive map: the HTML it writes, and the map in a real headless browser, offline.

The browser tests need Debian's chromium at /usr/bin/chromium and the Python playwright
package; without them they are skipped, unless COVGAP_REQUIRE_BROWSER is set (CI), then
they fail.  The screenshot of the sample map is saved to test-artifacts/map.png.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.io import MemoryFile

import covgap
from covgap.export import map as cgmap
from covgap.export.map import build_map, write_map

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
EVIL = "<img src=x onerror=alert(1)>"
BRACES = "{{ 7*7 }} & 'Bản' \"q\""

# the sample province: three operators, 4G/5G counted, terrain model, candidate sites
SAMPLE_LAYERS = [
    "Nền trống / Plain background",
    "OpenStreetMap (cần internet / online only)",
    "Xã theo % thôn được phủ sóng / Communes by villages covered",
    "Thôn / Villages",
    "Điểm đề xuất theo thứ hạng / Candidate sites, ranked",
    "Trạm BTS MobiFone / MobiFone sites",
    "Trạm BTS VNPT / VNPT sites",
    "Trạm BTS Viettel / Viettel sites",
    "Tuyến cáp quang / Fibre routes",
    "Điểm cáp quang / Fibre nodes",
    "Vùng phủ 4G/5G mọi nhà mạng / 4G/5G coverage, all operators",
    "Vùng phủ MobiFone 4G / MobiFone 4G coverage",
    "Vùng phủ MobiFone 5G / MobiFone 5G coverage",
    "Vùng phủ VNPT 4G / VNPT 4G coverage",
    "Vùng phủ VNPT 5G / VNPT 5G coverage",
    "Vùng phủ Viettel 4G / Viettel 4G coverage",
    "Vùng phủ Viettel 5G / Viettel 5G coverage",
]


def _fold(text: str) -> str:
    """What a user types without Vietnamese diacritics: "Bản Ngàm Kéo" -> "ban ngam keo"."""
    bare = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in bare if not unicodedata.combining(c)).lower()


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sample_map(sample_result, tmp_path_factory) -> Path:
    return write_map(sample_result, tmp_path_factory.mktemp("map") / "map.html")


@pytest.fixture
def evil_result(province):
    """The toy province with a village and a commune named to break out of the HTML."""
    villages = gpd.read_file(province.villages)
    villages.loc[0, "village_name"] = EVIL
    villages.loc[1, "village_name"] = BRACES
    villages.to_file(province.villages, layer="villages")
    communes = gpd.read_file(province.communes)
    communes.loc[0, "commune_name"] = "<script>alert(2)</script>"
    communes.to_file(province.communes, layer="communes")
    return covgap.run(province.config())


@pytest.fixture(scope="module")
def browser():
    """A headless chromium; skipped (or failed under COVGAP_REQUIRE_BROWSER) without one."""
    required = bool(os.environ.get("COVGAP_REQUIRE_BROWSER"))
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = problem or "the playwright package is missing (pip install -e .[dev])"
    if problem:
        if required:
            pytest.fail(f"COVGAP_REQUIRE_BROWSER is set but {problem}")
        pytest.skip(f"map browser tests need chromium: {problem}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page opened with the network cut off, recording errors, dialogs and requests."""

    def __init__(self, browser, path: Path) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 900},
                                           offline=True)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []

        def route(r):
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                self.requests.append(r.request.url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

        def dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        self.page.wait_for_function("window.covgap && window.covgap.ready", timeout=15000)

    def js(self, code: str):
        return self.page.evaluate(code)

    def do(self, code: str) -> None:
        """Run a statement for its effect (Leaflet calls return the unserialisable map)."""
        self.page.evaluate(f"() => {{ {code}; }}")

    def layer_labels(self) -> list[str]:
        return [t.strip() for t in self.page.locator(
            ".leaflet-control-layers label").all_inner_texts()]

    def popup_text(self) -> str:
        # a closed popup fades out for 200 ms: the newest is the last
        popup = self.page.locator(".leaflet-popup-content")
        return popup.last.inner_text() if popup.count() else ""

    def click_village(self, i: int, zoom: float = 14) -> None:
        """Centre village ``i`` and click its circle on the canvas like a user would."""
        self.js(f"""(() => {{
            const m = covgap.state.villages.markers[{i}];
            covgap.state.map.setView(m.getLatLng(), {zoom}, {{animate: false}});
        }})()""")
        x, y = self.js(f"""(() => {{
            const map = covgap.state.map, m = covgap.state.villages.markers[{i}];
            const p = map.latLngToContainerPoint(m.getLatLng());
            const r = map.getContainer().getBoundingClientRect();
            return [p.x + r.left, p.y + r.top];
        }})()""")
        target = self.js(f"document.elementFromPoint({x}, {y}).tagName")
        assert target == "CANVAS", f"something covers village {i}: {target}"
        self.page.mouse.click(x, y)
        self.page.wait_for_selector(".leaflet-popup-content", timeout=3000)

    def close(self) -> None:
        self.context.close()


# --------------------------------------------------------------------------- HTML

class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.refs.append((tag, "src", a["src"]))
        if tag == "link" and a.get("href"):
            self.refs.append((tag, "href", a["href"]))


def test_map_html_has_no_external_scripts_or_styles(sample_map):
    text = sample_map.read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(text)
    external = [r for r in parser.refs if re.match(r"(https?:)?//", r[2])]
    assert external == []
    assert parser.refs == []  # everything is inlined
    assert "cdn.jsdelivr.net" not in text and "code.jquery.com" not in text
    assert "sourceMappingURL" not in text
    assert "L.version" in text or 't.version="1.9.4"' in text  # Leaflet itself is inlined
    assert sample_map.stat().st_size < 3_000_000


def test_map_html_names_every_layer(sample_map):
    text = sample_map.read_text(encoding="utf-8")
    for name in SAMPLE_LAYERS:
        # the layer control's names are JSON strings in the page
        assert json.dumps(name) in text, name


def test_map_html_shows_the_rule_and_year(sample_result, sample_map):
    text = sample_map.read_text(encoding="utf-8")
    assert "Tỉnh Mẫu (mẫu tổng hợp / synthetic sample) · 2025" in text  # [run] title
    assert "4G/5G ≥ −110 dBm" in text
    assert "≤ 1.000 m" in text


def test_map_escapes_names(evil_result, tmp_path):
    text = write_map(evil_result, tmp_path / "map.html").read_text(encoding="utf-8")
    assert EVIL not in text
    assert html.escape(EVIL) in text
    assert "<script>alert(2)" not in text
    # braces are entities: folium's second Jinja pass cannot evaluate them
    assert "&#123;&#123; 7*7 &#125;&#125; &amp; &#x27;Bản&#x27; &quot;q&quot;" in text


def test_map_without_candidates_or_coverage(sample_result):
    class Bare:
        candidates = None
        coverage = None

        def __getattr__(self, name):
            return getattr(sample_result, name)

    text = build_map(Bare()).get_root().render()
    assert json.dumps("Thôn / Villages") in text
    assert "Candidate sites" not in text and "coverage, all operators" not in text


def test_map_needs_the_analysis(sample_result):
    class Inputs:
        analysis = None

        def __getattr__(self, name):
            return getattr(sample_result, name)

    with pytest.raises(ValueError, match="village analysis"):
        build_map(Inputs())


def test_radius_model_draws_coverage_polygons(province, tmp_path):
    result = covgap.run(province.config(coverage={"model": "radius"}))
    text = write_map(result, tmp_path / "map.html").read_text(encoding="utf-8")
    assert "covgap.areas(" in text and "covgap.image(" not in text
    assert json.dumps("Vùng phủ Viettel 4G / Viettel 4G coverage") in text
    assert json.dumps("Vùng phủ Viettel 2G / Viettel 2G coverage") not in text  # not counted


# --------------------------------------------------------------------------- pieces

def test_signal_classes_follow_the_threshold():
    dbm = np.array([-125, -110, -105, -100, -95, -85, -80, -60, np.nan], dtype=np.float32)
    assert cgmap._signal_classes(dbm, -110).tolist() == [0, 1, 1, 2, 2, 3, 4, 4, 0]
    # a stricter rule: nothing below -95 is drawn, and there are three classes
    assert cgmap._signal_classes(dbm, -95).tolist() == [0, 0, 0, 0, 1, 2, 3, 3, 0]
    assert len(cgmap._signal_palette(-95)) == 4


def test_commune_classes():
    pct = [0, 49.9, 50, 79.9, 80, 95, 99.9, 100, np.nan]
    assert cgmap._commune_class(pct).tolist() == [0, 0, 1, 1, 2, 3, 3, 4, 5]


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_png_round_trips():
    index = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
    palette = [(0, 0, 0, 0), (255, 0, 0, 255), (0, 0, 255, 128)]
    with MemoryFile(io.BytesIO(cgmap._png(index, palette))) as mem, mem.open() as src:
        assert src.driver == "PNG"
        assert src.read(1).tolist() == index.tolist()
        assert src.colormap(1)[2] == (0, 0, 255, 128)


def test_overlay_image_covers_the_grid(sample_result):
    grid = sample_result.coverage.grid
    classes = np.ones(grid.shape, dtype=np.uint8)
    url, ((s, w), (n, e)) = cgmap._overlay_image(classes, grid, cgmap._signal_palette(-110),
                                                 max_px=300)
    assert url.startswith("data:image/png;base64,")
    left, bottom, right, top = rasterio.transform.array_bounds(
        grid.height, grid.width, grid.transform)
    lon, lat = rasterio.warp.transform(grid.rasterio_crs, "EPSG:4326",
                                       [left, right, left, right], [bottom, bottom, top, top])
    tol = 0.01  # one pixel of a 300-pixel image of the province
    assert w <= min(lon) + tol and e >= max(lon) - tol
    assert s <= min(lat) + tol and n >= max(lat) - tol


def test_numbers_are_formatted_the_vietnamese_way():
    assert cgmap._fmt(1234567) == "1.234.567"
    assert cgmap._fmt(94.44, 1) == "94,4"
    assert cgmap._fmt(-110) == "−110"
    assert cgmap._fmt(float("nan")) == "—"


# --------------------------------------------------------------------------- browser

def test_map_in_browser_offline(browser, sample_result, sample_map):
    page = Page(browser, sample_map)
    try:
        assert page.layer_labels() == SAMPLE_LAYERS
        assert page.js("document.querySelectorAll('.leaflet-control-layers-base input')"
                       ".length") == 2
        # the default base layer needs no tiles: nothing is fetched offline
        assert page.js("covgap.state.map.hasLayer(covgap.state.communes.layer)")
        assert page.js("document.querySelectorAll('.leaflet-tile').length") == 0

        villages = sample_result.villages.reset_index(drop=True)
        gap = int(np.flatnonzero(villages["lom_song"].to_numpy())[0])
        name = villages.loc[gap, "village_name"]
        page.click_village(gap)
        text = page.popup_text()
        assert name in text
        assert "Dân số / Population" in text and "Lý do / Reason" in text
        assert "Lõm sóng / No mobile broadband" in text
        # keep the screenshot of the whole province, legend and title
        page.do("covgap.state.map.closePopup()")
        page.do("covgap.fit()")
        page.page.wait_for_timeout(800)  # marker-cluster's 0.3 s transitions
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.screenshot(path=str(ARTIFACTS / "map.png"))

        # search without diacritics finds the village and opens it
        page.page.fill(".cg-search input", _fold(name))
        page.page.wait_for_selector(".cg-search li[data-k]")
        assert name in page.page.locator(".cg-search li").first.inner_text()
        page.page.press(".cg-search input", "Enter")
        page.page.wait_for_selector(".leaflet-popup-content")
        assert name in page.popup_text()

        # a click beside the villages opens the commune's figures
        commune = sample_result.communes.iloc[0]
        at = commune.geometry.representative_point()
        page.do("covgap.state.map.closePopup()")
        page.do(f"covgap.state.map.fire('click', {{latlng: L.latLng({at.y}, {at.x})}})")
        assert commune["commune_name"] in page.popup_text()
        assert "Thôn có băng rộng di động / Villages covered" in page.popup_text()

        # every overlay can be switched on without an error
        page.do("""document.querySelectorAll('.leaflet-control-layers-overlays input')
                   .forEach(i => { if (!i.checked) i.click(); })""")
        page.page.wait_for_timeout(200)
        assert page.js("document.querySelectorAll('img.cg-coverage').length") == 7
        assert page.errors == []
        assert page.requests == []
        assert page.dialogs == []
    finally:
        page.close()


def test_map_in_browser_shows_hostile_names_as_text(browser, evil_result, tmp_path):
    path = write_map(evil_result, tmp_path / "map.html")
    page = Page(browser, path)
    try:
        villages = evil_result.villages.reset_index(drop=True)
        i = int(np.flatnonzero((villages["village_name"] == EVIL).to_numpy())[0])
        page.click_village(i, zoom=15)
        assert EVIL in page.popup_text()
        assert "<script>alert(2)</script>" in page.popup_text()  # its commune, as text
        page.page.fill(".cg-search input", "img src")
        page.page.wait_for_selector(".cg-search li[data-k]")
        assert EVIL in page.page.locator(".cg-search li").first.inner_text()
        page.page.fill(".cg-search input", "7*7")
        assert BRACES in page.page.locator(".cg-search li").first.inner_text()
        page.do("covgap.state.villages.markers[1].openPopup()")
        assert BRACES in page.popup_text()
        page.page.wait_for_timeout(200)
        assert page.js("document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert page.js("document.querySelectorAll('.leaflet-pane script, .cg-search script')"
                       ".length") == 0
        assert page.dialogs == []
        assert page.errors == []
    finally:
        page.close()
