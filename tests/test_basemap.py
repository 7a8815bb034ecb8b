"""The meeting map's base map: relief of the DEM, roads, and a legend that folds away."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import write_raster
from shapely.geometry import LineString, Point
from test_map import ARTIFACTS, browser  # noqa: F401  (the headless chromium fixture)

import covgap
from covgap.export.map import hillshade, write_map


@pytest.fixture
def relief_result(province):
    """The toy province with a hill in its DEM and two roads."""
    import geopandas as gpd

    y, x = np.mgrid[0:40, 0:40]
    dem = 200 + 800 * np.exp(-((x - 18) ** 2 + (y - 20) ** 2) / 60.0)
    dem_path = write_raster(province.root / "dem.tif", dem.astype("float32"))
    roads = gpd.GeoDataFrame(
        {"road_id": ["R1", "R2"]},
        geometry=[LineString([(105.2, 19.9), (105.4, 20.1)]),
                  LineString([(105.2, 20.05), (105.4, 20.05)])], crs=4326)
    roads_path = province.root / "roads.gpkg"
    roads.to_file(roads_path, layer="roads")
    base = gpd.GeoDataFrame(
        {"name": [None, "Núi <Pù> Luông"]},
        geometry=[LineString([(105.21, 19.92), (105.3, 19.99), (105.38, 20.09)]),
                  Point(105.33, 19.95)], crs=4326)
    base_path = province.root / "basemap.gpkg"
    base.to_file(base_path, layer="basemap")
    cfg = province.config(inputs={"dem": str(dem_path), "roads": str(roads_path),
                                  "basemap": str(base_path)})
    return covgap.run(cfg)


def test_hillshade_lights_the_north_west_slope():
    # a 45° plane rising to the east faces west, towards the light from the north-west:
    # cos(angle to the sun) = sin45·cos45 + cos45·sin45·cos(45° between the azimuths)
    z = np.tile(np.arange(5, dtype=float) * 30, (5, 1))
    faces_west = hillshade(z, cell_x_m=30, cell_y_m=30)[2, 2]
    faces_east = hillshade(z[:, ::-1], cell_x_m=30, cell_y_m=30)[2, 2]
    assert faces_west == pytest.approx(0.5 + 0.5 * np.cos(np.radians(45)), abs=1e-9)
    assert faces_east == pytest.approx(0.5 - 0.5 * np.cos(np.radians(45)), abs=1e-9)
    # flat ground: sin(45°), whatever the cell size
    assert hillshade(np.zeros((3, 3)), cell_x_m=10, cell_y_m=90)[1, 1] == pytest.approx(
        np.sin(np.radians(45)))


def test_relief_is_an_inlined_image_layer(relief_result, tmp_path):
    html = write_map(relief_result, tmp_path / "map.html").read_text(encoding="utf-8")
    assert html.count("covgap.relief(") == 1
    assert "Relief (hillshade)" in html
    assert "covgap.roads(" in html and "/ Roads" in html
    assert "covgap.basemap(" in html and "<Pù>" not in html
    start = html.index("data:image/png;base64,", html.index("covgap_relief"))
    assert start > 0


def _open(browser, path, width, height):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
    errors, requests = [], []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            requests.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_function("window.covgap && window.covgap.ready", timeout=15000)
    return context, page, errors, requests


def test_base_map_and_folded_legend_in_browser(browser, relief_result, tmp_path):  # noqa: F811
    path = write_map(relief_result, tmp_path / "map.html")
    # a laptop beamer's small window: the legend starts closed, the relief shows
    context, page, errors, requests = _open(browser, path, 800, 600)
    try:
        relief = page.locator("img.cg-relief")
        assert relief.count() == 1
        assert relief.get_attribute("src").startswith("data:image/png;base64,")
        assert page.evaluate("document.querySelector('.cg-legend details').open") is False
        legend = page.locator(".cg-legend").bounding_box()
        assert legend["height"] < 60  # the folded legend is one line
        # the base layer's place name, as text (not markup)
        assert page.locator(".cg-place").all_inner_texts() == ["Núi <Pù> Luông"]
        # the roads are drawn on a canvas (preferCanvas) in the base pane, over the relief
        assert page.evaluate("document.querySelectorAll('.leaflet-cgBase-pane canvas')"
                             ".length") == 1
        page.wait_for_timeout(300)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map_small_screen.png"))
        page.click(".cg-legend summary")  # one click opens it
        assert page.evaluate("document.querySelector('.cg-legend details').open") is True
        assert errors == [] and requests == []
    finally:
        context.close()
    # a large screen: the legend starts open
    context, page, errors, requests = _open(browser, path, 1400, 900)
    try:
        assert page.evaluate("document.querySelector('.cg-legend details').open") is True
        assert errors == [] and requests == []
    finally:
        context.close()
