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
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.io import MemoryFile

import covgap
from covgap.errors import CovgapWarning
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
    "Địa hình / Relief (hillshade)",
    "Xã theo % thôn được phủ sóng / Communes by villages covered",
    "Thôn / Villages",
    "Điểm đề xuất theo thứ hạng / Candidate sites, ranked",
    "Địa điểm: xanh có 5G, cam chỉ 4G, đỏ không có / Places: green 5G, amber 4G only, red "
    "neither",
    "Đo kiểm (RSRP) / Measured tests (RSRP)",
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


def test_commune_colour_scale_is_red_yellow_green_worst_red(sample_result, sample_map):
    # ColorBrewer RdYlGn, 5 classes: the worst class (< 50%) red, 100% green
    rdylgn = ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"]
    assert list(cgmap.COMMUNE_COLORS) == rdylgn
    text = sample_map.read_text(encoding="utf-8")
    fill = re.search(r'"colors":\s*\[([^\]]*)\],\s*"fill_opacity"', text)
    assert fill, "the communes' colours are in the page"
    assert re.findall(r"#[0-9a-f]{6}", fill.group(1)) == [*rdylgn, cgmap.COMMUNE_NO_DATA_COLOR]
    # the legend lists the classes worst first, red first, with the same colours
    legend = text[text.index("Communes: villages covered"):]
    assert legend.index("background:#d7191c") < legend.index("background:#1a9641")
    # the old blues are gone
    assert "#08519c" not in text
    # the village legend speaks as provincial reports do
    assert "Thôn chưa có sóng di động (lõm sóng)" in text
    assert "Thôn chỉ có sóng 2G/3G, chưa có 4G/5G" in text
    assert "Thôn được phủ sóng một phần" in text
    # the coverage legend waits for a coverage layer
    legend_html = html.unescape(text).replace("\\u003c", "<").replace('\\"', '"')
    assert '<div class="cg-cov-legend" hidden>' in legend_html


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
        word = dict(zip(cgmap.STATUS_NAMES, cgmap.STATUS_WORDS, strict=True))[
            villages.loc[gap, "signal_status"]]
        assert word in text
        # no coverage layer is on: no coverage legend
        assert page.js("[...document.querySelectorAll('.cg-cov-legend')]"
                       ".every(e => e.hidden)")
        # the search box shows its whole placeholder
        assert page.js("(() => { const i = document.querySelector('.cg-search input');"
                       " return i.scrollWidth <= i.clientWidth && i.clientWidth >= 300; })()")
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
        assert page.js("[...document.querySelectorAll('.cg-cov-legend')]"
                       ".every(e => !e.hidden)")
        # site clusters are grey squares, unlike the round candidates
        radius = page.js("(() => { const c = document.querySelector('.cg-cluster div');"
                         " return c ? getComputedStyle(c).borderRadius : null; })()")
        assert radius in (None, "3px")
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


# --------------------------------------------------------------------------- per province

EVIL_PROVINCE = "<script>alert(3)</script> ../../Hà Nội {{7*7}}"
SOUTH, NORTH = "Tỉnh Thanh Hóa", EVIL_PROVINCE  # C1, C2 | C3, C4 (conftest's layout)
SOUTH_SLUG, NORTH_SLUG = "tinh-thanh-hoa", "script-alert-3-script-ha-noi-7-7"


def _embedded(text: str, function: str) -> list[dict]:
    """The data of every ``covgap.<function>`` piece in a page."""
    return [json.loads(m) for m in re.findall(
        rf'<script type="application/json" id="covgap_{function}_\w+_data">(.*?)</script>',
        text, flags=re.S)]


def _village_ids(text: str) -> set[str]:
    (data,) = _embedded(text, "villages")
    return set(data["id"])


@pytest.fixture
def two_provinces(province):
    """The toy province as two provinces, the northern one named to break out of HTML."""
    communes = gpd.read_file(province.communes)
    communes["province"] = [SOUTH, SOUTH, NORTH, NORTH]
    communes.to_file(province.communes, layer="communes")
    return province


@pytest.fixture
def split_run(two_provinces, tmp_path):
    result = covgap.run(two_provinces.config(output={"map_max_villages": 1}))
    return result, result.write(tmp_path / "run")


def test_large_run_writes_a_map_per_province(split_run):
    result, run_dir = split_run
    names = sorted(p.name for p in (run_dir / "maps").iterdir())
    assert names == sorted([f"{SOUTH_SLUG}.html", f"{NORTH_SLUG}.html"])
    villages = result.villages
    south = set(villages.loc[villages["commune_code"].isin(["15001", "15002"]), "village_id"])
    north = set(villages["village_id"]) - south
    assert south == {"V001", "V002", "V003"}
    for slug, name, mine in [(SOUTH_SLUG, SOUTH, south), (NORTH_SLUG, NORTH, north)]:
        text = (run_dir / "maps" / f"{slug}.html").read_text(encoding="utf-8")
        assert _village_ids(text) == mine
        (communes,) = _embedded(text, "communes")
        assert len(communes["features"]) == 2
        (title,) = _embedded(text, "title")
        assert f"<h1>{cgmap._esc(name)} · 2025" in title["html"]
        assert '<a href="../map.html">' in title["html"]  # back to the overview


def test_overview_links_every_province_and_shows_only_gaps(split_run):
    result, run_dir = split_run
    text = (run_dir / "map.html").read_text(encoding="utf-8")
    (legend,) = _embedded(text, "legend")
    assert f'<a href="maps/{SOUTH_SLUG}.html">{cgmap._esc(SOUTH)}</a>' in legend["html"]
    assert f'<a href="maps/{NORTH_SLUG}.html">{cgmap._esc(NORTH)}</a>' in legend["html"]
    villages = result.villages
    gaps = set(villages.loc[villages["status"] != "covered", "village_id"])
    assert gaps and gaps != set(villages["village_id"])
    assert _village_ids(text) == gaps
    (communes,) = _embedded(text, "communes")
    assert len(communes["features"]) == 4
    # the province is named in each commune's popup and found by the search
    assert {f["properties"]["dist"] for f in communes["features"]} == {
        cgmap._esc(SOUTH), cgmap._esc(NORTH)}
    for piece in ("covgap.sites(", "covgap.fibre(", "covgap.areas(", "covgap.image("):
        assert piece not in text
    # the plan is ranked over the whole run: all of it is on the overview
    (candidates,) = _embedded(text, "candidates")
    assert candidates["rank"] == result.candidates["rank"].tolist()


def test_province_names_are_escaped_and_slugged(split_run):
    _, run_dir = split_run
    for path in [run_dir / "map.html", *(run_dir / "maps").iterdir()]:
        assert re.fullmatch(r"[a-z0-9-]+\.html", path.name)
        text = path.read_text(encoding="utf-8")
        # the HTML pieces put into the page as they are hold the name escaped
        pieces = [text] + [d["html"] for f in ("title", "legend") for d in _embedded(text, f)]
        for piece in pieces:
            assert "<script>alert(3)" not in piece
            assert "{{7*7}}" not in piece
    for path in (run_dir / "map.html", run_dir / "maps" / f"{NORTH_SLUG}.html"):
        assert cgmap._esc(EVIL_PROVINCE) in path.read_text(encoding="utf-8")  # <title>
    assert not list(run_dir.parent.glob("*.html"))  # nothing written beside the run


def test_province_maps_draw_only_their_surroundings(split_run):
    """Sites and coverage polygons stop PROVINCE_MARGIN_M beyond the province's communes."""
    _, run_dir = split_run
    text = (run_dir / "maps" / f"{SOUTH_SLUG}.html").read_text(encoding="utf-8")
    margin_deg = cgmap.PROVINCE_MARGIN_M / 110_000 + 0.001  # a degree of latitude ~ 110 km
    top = 20.0 + margin_deg
    sites = _embedded(text, "sites")
    assert sites and all(lat <= top for s in sites for lat in s["lat"])
    # TH-0003 stands at 20.06 N, beyond the margin: its 5 km disc is cut at the box
    assert "TH-0003" not in text
    areas = _embedded(text, "areas")
    assert areas
    lats = [xy[1] for a in areas for f in a["features"]
            for xy in shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))]
    assert max(lats) <= top
    assert max(lats) > 20.0  # the margin is drawn too


def test_small_runs_keep_one_map(province, tmp_path):
    result = covgap.run(province.config())
    run_dir = result.write(tmp_path / "run")
    assert (run_dir / "map.html").exists()
    assert not (run_dir / "maps").exists()


def test_split_can_be_turned_off(two_provinces, tmp_path):
    result = covgap.run(two_provinces.config(output={"map_max_villages": 0}))
    run_dir = result.write(tmp_path / "run")
    assert not (run_dir / "maps").exists()
    assert len(_village_ids((run_dir / "map.html").read_text(encoding="utf-8"))) == 6


def test_large_run_without_provinces_warns_once(province, tmp_path):
    result = covgap.run(province.config(output={"map_max_villages": 1}))
    with pytest.warns(CovgapWarning, match=r"6 villages, more than \[output\] "
                      r"map_max_villages = 1.*'province' column"):
        run_dir = result.write(tmp_path / "run")
    assert not (run_dir / "maps").exists()
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert sum("map_max_villages" in w for w in manifest["warnings"]) == 1
    with pytest.warns(CovgapWarning):
        result.write(tmp_path / "run", force=True)
    assert sum("map_max_villages" in w for w in result.warnings) == 1


def test_map_max_villages_is_checked(province):
    with pytest.raises(covgap.InputError, match=r"map_max_villages: -1 is outside 0\.\.1e\+08"):
        covgap.run(province.config(output={"map_max_villages": -1}))


def test_file_names_of_provinces():
    assert cgmap.file_part("Tỉnh Đắk Lắk", default="x") == "Tinh-Dak-Lak"
    assert cgmap.file_part("../../etc/passwd", default="x") == "etc-passwd"
    assert cgmap.file_part("…/", default="x") == "x"
    assert cgmap._province_slugs(["Hà Nội", "Ha Noi", "HÀ NỘI", "CON", "..", "x" * 99]) == [
        "ha-noi", "ha-noi-2", "ha-noi-3", "con-1", "province", "x" * 60]


def test_province_views_clip_the_rasters(sample_result):
    """The raster models' coverage is a window of the grid around the province."""
    communes = sample_result.communes
    province = pd.Series(np.where(np.arange(len(communes)) < len(communes) // 2, "A", "B"),
                         index=communes.index)
    views, links = cgmap._province_views(sample_result, province)
    assert [link.name for link in links] == ["A", "B"]
    grid = sample_result.coverage.grid
    key = next(iter(sample_result.coverage.signal))
    for view, link in zip(views, links, strict=True):
        sub = view.coverage.grid
        assert sub.width * sub.height < grid.width * grid.height
        # the window lines up with the grid: the same cells, the same values
        col, row = ~grid.transform * (sub.transform.c, sub.transform.f)
        assert col == round(col) and row == round(row)
        r0, c0 = round(row), round(col)
        np.testing.assert_array_equal(
            view.coverage.signal[key],
            sample_result.coverage.signal[key][r0:r0 + sub.height, c0:c0 + sub.width])
        assert len(view.villages) == link.villages
        text = cgmap._build(view).get_root().render()
        # every coverage overlay is an image
        assert text.count("covgap.image(") == sum(n.startswith("Vùng phủ") for n in SAMPLE_LAYERS)
    assert sum(link.villages for link in links) == len(sample_result.villages)


def test_split_maps_in_browser(browser, split_run):
    _, run_dir = split_run
    page = Page(browser, run_dir / "map.html")
    try:
        assert "Thôn lõm sóng, phủ một phần / Villages with gaps" in page.layer_labels()
        assert not any(label.startswith("Trạm BTS") for label in page.layer_labels())
        assert page.js("document.querySelectorAll('.cg-legend a[href^=\"maps/\"]').length") == 2
        assert page.js("document.querySelectorAll('.cg-legend script').length") == 0
        # the link opens the province's map, which links back
        page.page.click(f'.cg-legend a[href="maps/{NORTH_SLUG}.html"]')
        page.page.wait_for_function("window.covgap && window.covgap.ready", timeout=15000)
        assert page.page.url.endswith(f"/maps/{NORTH_SLUG}.html")
        assert EVIL_PROVINCE in page.page.locator(".cg-title h1").inner_text()
        assert page.js("covgap.state.villages.markers.length") == 3
        assert page.js("covgap.state.sites.length") > 0
        page.page.click('.cg-title a[href="../map.html"]')
        page.page.wait_for_function("window.covgap && window.covgap.ready", timeout=15000)
        assert page.page.url.endswith("/run/map.html")
        assert page.errors == []
        assert page.requests == []
        assert page.dialogs == []
    finally:
        page.close()


def test_site_tables_list_technologies_and_sharing(province):
    """Viettel's TH-0001 and VNPT's TH-0002 share a mast (conftest); TH-0004 stands alone."""
    result = covgap.run(province.config())
    tables = cgmap._site_payloads(result.sites, result.analysis.locations)
    assert sorted(tables) == ["MobiFone", "VNPT", "Viettel"]
    viettel = tables["Viettel"]
    assert viettel["id"] == ["TH-0001", "TH-0004"]
    assert viettel["tech"] == ["4G", "2G"]
    assert viettel["cells"] == [3, 1]
    assert viettel["sw"] == ["VNPT", None]
    assert tables["VNPT"]["sw"] == ["Viettel"]
    assert tables["MobiFone"]["sw"] == [None]
