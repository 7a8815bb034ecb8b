"""covgap diff: two runs of the toy province, a year apart.

Year A (2024) is the toy province as conftest builds it: V001, V002 (15001) and V004
(15003) are lõm sóng, V003, V005, V006 covered.  The year-B runs change one thing each:

- ``site``: a Viettel 4G site 1.1 km from V004 (Làng Hạ), so V004 is newly covered;
- ``merged``: communes 15001 and 15002 merged into 16001, as in the 2025 reform;
- ``renamed``: new village ids, V001 moved 50 m, V003 moved 1 km, a hostile name.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import Province, site_frame
from shapely.geometry import Point

import covgap
from covgap.diff import CHANGES, RunDiff, _match_villages, diff_runs
from covgap.export.csv import VI_HEADERS
from covgap.io.crs import choose_metric_crs
from covgap.pipeline import RunExistsError

EVIL = "<img src=x onerror=alert(1)>"
CHROMIUM = Path("/usr/bin/chromium")


def _run(p: Province, year: int) -> Path:
    return covgap.run(p.config(run={"year": year})).write(p.root / "run")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    out = {}
    out["a"] = _run(Province(tmp_path_factory.mktemp("a")), 2024)

    p = Province(tmp_path_factory.mktemp("site"))
    sites = pd.concat([site_frame(), pd.DataFrame([{
        "site_id": "TH-0005", "operator": "Viettel", "technology": "4G", "height_m": 30,
        "lon": 105.25, "lat": 20.04}])], ignore_index=True)  # omni, 1.1 km south of V004
    sites.to_csv(p.sites, index=False)
    out["site"] = _run(p, 2025)

    p = Province(tmp_path_factory.mktemp("merged"))
    communes = gpd.read_file(p.communes)
    merged = communes["commune_code"].isin(["15001", "15002"])
    new = gpd.GeoDataFrame({"commune_code": ["16001"], "commune_name": ["Xã Thường Xuân Mới"],
                            "region": ["III"]},
                           geometry=[communes[merged].union_all()], crs=communes.crs)
    pd.concat([new, communes[~merged]], ignore_index=True).to_file(p.communes,
                                                                   layer="communes")
    villages = gpd.read_file(p.villages)
    villages.loc[villages["commune_code"].isin(["15001", "15002"]), "commune_code"] = "16001"
    villages.to_file(p.villages, layer="villages")
    out["merged"] = _run(p, 2025)

    p = Province(tmp_path_factory.mktemp("renamed"))
    villages = gpd.read_file(p.villages)
    villages["village_id"] = [f"X{i + 1:03d}" for i in range(len(villages))]
    villages.loc[0, "geometry"] = Point(105.25, 19.9505)  # ~55 m
    villages.loc[2, "geometry"] = Point(105.36, 19.95)  # ~1 km
    villages.loc[4, "village_name"] = EVIL
    villages.to_file(p.villages, layer="villages")
    out["renamed"] = _run(p, 2025)
    return out


@pytest.fixture(scope="module")
def site_diff(runs) -> RunDiff:
    return diff_runs(runs["a"], runs["site"])


def _indicator(d: RunDiff, level: str, code: str | None, indicator: str) -> pd.Series:
    rows = d.indicators[(d.indicators["level"] == level)
                        & (d.indicators["indicator"] == indicator)]
    if code is not None:
        rows = rows[rows["code"] == code]
    assert len(rows) == 1
    return rows.iloc[0]


# --------------------------------------------------------------------------- a new site

def test_new_site_newly_covers_exactly_one_village(site_diff):
    change = site_diff.villages.set_index("village_id")["change"].to_dict()
    assert change == {"V001": "still lom_song", "V002": "still lom_song",
                      "V003": "unchanged", "V004": "newly covered", "V005": "unchanged",
                      "V006": "unchanged"}
    v4 = site_diff.villages.set_index("village_id").loc["V004"]
    assert (v4["status_a"], v4["status_b"]) == ("lom_song", "covered")
    assert (v4["mbb_share_a"], v4["mbb_share_b"]) == (0.0, 1.0)
    assert v4["operators_b"] == "Viettel"
    assert set(site_diff.villages["matched_by"]) == {"id"}
    assert (site_diff.villages["distance_m"] == 0).all()
    counts = site_diff.change_counts()
    assert list(counts.index) == list(CHANGES)
    assert counts["newly covered"] == 1 and counts["still lom_song"] == 2


def test_new_site_indicator_deltas(site_diff):
    row = _indicator(site_diff, "province", None, "villages_mbb_pct")
    assert (row["value_a"], row["value_b"]) == (50.0, 66.7)  # 3/6 -> 4/6
    assert row["delta"] == pytest.approx(16.7)
    assert row["target"] == 100 and not row["met_a"] and not row["met_b"]
    pop = _indicator(site_diff, "province", None, "population_mbb_pct")
    assert (pop["value_a"], pop["value_b"]) == (77.2, 88.2)  # 2950/3820 -> 3370/3820
    sharing = _indicator(site_diff, "province", None, "bts_sharing_pct")
    assert (sharing["value_a"], sharing["value_b"]) == (33.3, 25.0)  # 1/3 -> 1/4 locations
    commune = _indicator(site_diff, "commune", "15003", "villages_mbb_pct")
    assert (commune["value_a"], commune["value_b"], commune["delta"]) == (0.0, 100.0, 100.0)
    assert commune["value_a_basis"] == "recomputed"
    # a commune row has a target only from [targets.communes]: none here, so no "met"
    assert pd.isna(commune["target"]) and pd.isna(commune["met_a"])
    assert pd.isna(commune["met_b"])
    # only village indicators per commune; site sharing stays at province level
    per_commune = site_diff.indicators[site_diff.indicators["level"] == "commune"]
    assert set(per_commune["indicator"]) == {"villages_mbb_pct", "villages_ftth_pct",
                                             "population_mbb_pct", "usp_villages"}
    unchanged = per_commune[per_commune["code"] != "15003"]
    assert (unchanged["delta"] == 0).all()


def test_new_site_communes_and_operators(site_diff):
    c = site_diff.communes.set_index("commune_code")
    assert c.loc["15003", ["newly_covered", "villages_a", "villages_b"]].tolist() == [1, 1, 1]
    assert c["newly_covered"].sum() == 1 and c["newly_lost"].sum() == 0
    assert c.loc["15001", "still_lom_song"] == 2
    assert c.loc["15003", "villages_mbb_pct_delta"] == 100.0
    assert c.loc["15003", "population_mbb_pct_b"] == 100.0
    ops = site_diff.operators.set_index("operator")
    assert ops.loc["Viettel", ["newly_covers", "newly_lost"]].tolist() == [1, 0]
    assert ops.loc["Viettel", ["villages_covered_a", "villages_covered_b"]].tolist() == [1, 2]
    assert ops.loc["MobiFone", "newly_covers"] == 0
    assert (site_diff.crosswalk["method"] == "identity").all()
    assert (site_diff.crosswalk["code_a"] == site_diff.crosswalk["code_b"]).all()


def test_same_run_changes_nothing(runs):
    d = diff_runs(runs["a"], runs["a"])
    assert set(d.villages["change"]) == {"unchanged", "still lom_song"}
    assert (d.indicators["delta"].dropna() == 0).all()
    # the identity crosswalk recomputes A's commune figures exactly as A reported them
    a = pd.read_csv(runs["a"] / "indicators.csv", encoding="utf-8-sig", dtype={"code": str})
    a = a[a["level"] == "commune"].set_index(["code", "indicator"])["value"]
    for _, r in d.indicators[d.indicators["level"] == "commune"].iterrows():
        assert r["value_a"] == pytest.approx(a[(r["code"], r["indicator"])], nan_ok=True)


# --------------------------------------------------------------------------- crosswalk

def _check_merged(d: RunDiff) -> None:
    c = d.communes.set_index("commune_code")
    assert list(c.index) == ["16001", "15003", "15004"]
    assert c.loc["16001", "codes_a"] == "15001;15002"
    assert c.loc["16001", ["villages_a", "villages_b"]].tolist() == [3, 3]
    # A's villages V001, V002 (lõm sóng) and V003 (covered, 800 people) on 16001
    assert c.loc["16001", "villages_mbb_pct_a"] == 33.3  # 1 of 3
    assert c.loc["16001", "villages_ftth_pct_a"] == 0.0
    assert c.loc["16001", "population_mbb_pct_a"] == 64.0  # 800 / (300 + 150 + 800)
    assert c.loc["16001", "usp_villages_a"] == 2  # V001, V002: ĐBKK gaps
    assert c.loc["16001", "villages_mbb_pct_b"] == 33.3
    assert c.loc["16001", "villages_mbb_pct_delta"] == 0.0
    # 16001 is khu vực III: V003 (no FTTH) becomes USP-eligible in B
    assert c.loc["16001", "usp_villages_b"] == 3
    assert c.loc["16001", "usp_villages_delta"] == 1
    assert c.loc["16001", "still_lom_song"] == 2 and c.loc["16001", "unchanged"] == 1
    # unmerged communes are compared as they are
    assert c.loc["15004", "villages_ftth_pct_a"] == 50.0
    row = _indicator(d, "commune", "16001", "population_mbb_pct")
    assert (row["value_a"], row["value_b"], row["delta"]) == (64.0, 64.0, 0.0)
    assert set(d.villages["change"]) == {"unchanged", "still lom_song"}
    v = d.villages.set_index("village_id")
    assert v.loc["V001", ["commune_code_a", "commune_code"]].tolist() == ["15001", "16001"]
    usp = _indicator(d, "province", None, "usp_villages")
    assert (usp["value_a"], usp["value_b"], usp["delta"]) == (2, 3, 1)


def test_merged_communes_by_overlay(runs):
    d = diff_runs(runs["a"], runs["merged"])
    _check_merged(d)
    cw = d.crosswalk.set_index("code_a")
    assert set(cw["method"]) == {"overlay"}
    assert cw["code_b"].to_dict() == {"15001": "16001", "15002": "16001",
                                      "15003": "15003", "15004": "15004"}
    assert cw["weight"].tolist() == pytest.approx([1.0] * 4)
    assert cw.loc["15001", "name_b"] == "Xã Thường Xuân Mới"


def test_merged_communes_by_table(runs, tmp_path):
    table = tmp_path / "crosswalk.csv"
    # a national table: rows of other provinces are ignored
    table.write_text("code_a,code_b\n15001,16001\n15002,16001\n15003,15003\n15004,15004\n"
                     "00004,00005\n", encoding="utf-8")
    d = diff_runs(runs["a"], runs["merged"], crosswalk=table)
    _check_merged(d)
    assert set(d.crosswalk["method"]) == {"table"}
    assert len(d.crosswalk) == 4 and (d.crosswalk["weight"] == 1.0).all()
    frame = pd.DataFrame({"code_a": ["15001", "15002", "15003", "15004"],
                          "code_b": ["16001", "16001", "15003", "15004"],
                          "weight": [1.0, 1.0, 1.0, 1.0]})
    _check_merged(diff_runs(runs["a"], runs["merged"], crosswalk=frame))


def test_merged_communes_without_polygons(runs, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(runs["a"], a)
    shutil.copytree(runs["merged"], b)
    (a / "results.gpkg").unlink()
    (b / "results.gpkg").unlink()
    d = diff_runs(a, b)
    _check_merged(d)
    cw = d.crosswalk.set_index("code_a")
    assert set(cw["method"]) == {"villages"}
    assert cw.loc["15001", ["code_b", "weight"]].tolist() == ["16001", 1.0]
    assert d.map() is not None  # no commune layer, villages only


def test_crosswalk_table_problems(runs, tmp_path):
    with pytest.raises(covgap.InputError, match=r"no column code_b"):
        diff_runs(runs["a"], runs["merged"], crosswalk=pd.DataFrame({"code_a": ["15001"]}))
    bad = pd.DataFrame({"code_a": ["15001", "15002", "15003"],
                        "code_b": ["16001", "16009", "15003"], "weight": [1, 1, 1.5]})
    with pytest.raises(covgap.InputError) as err:
        diff_runs(runs["a"], runs["merged"], crosswalk=bad)
    text = str(err.value)
    assert "not in the table: 15004" in text
    assert "no commune of run B" in text and "16009" in text
    assert "the crosswalk table row 2: weight 1.5 is not a share" in text
    with pytest.raises(covgap.InputError, match="no such file"):
        diff_runs(runs["a"], runs["merged"], crosswalk=tmp_path / "nope.csv")


# --------------------------------------------------------------------------- matching

def test_villages_matched_by_location_when_ids_change(runs):
    d = diff_runs(runs["a"], runs["renamed"])
    v = d.villages.set_index("village_id")
    assert v.loc["X001", ["village_id_a", "matched_by"]].tolist() == ["V001", "location"]
    assert 50 < v.loc["X001", "distance_m"] < 60
    for new, old in (("X002", "V002"), ("X004", "V004"), ("X005", "V005"), ("X006", "V006")):
        assert v.loc[new, ["village_id_a", "matched_by"]].tolist() == [old, "location"]
        assert v.loc[new, "distance_m"] == 0
    assert v.loc["X001", "change"] == "still lom_song"
    # 1 km away: not the same village
    assert v.loc["X003", "change"] == "new village" and pd.isna(v.loc["X003", "village_id_a"])
    assert v.loc["V003", "change"] == "removed village"
    assert v.loc["V003", ["commune_code_a", "commune_code"]].tolist() == ["15002", "15002"]
    c = d.communes.set_index("commune_code")
    # the removed village is placed in B's commune by its location
    assert c.loc["15002", ["villages_a", "villages_b", "new_villages",
                           "removed_villages"]].tolist() == [1, 1, 1, 1]
    assert c.loc["15002", "villages_mbb_pct_a"] == 100.0
    assert (d.communes[[f"{i}_delta" for i in ("villages_mbb_pct", "villages_ftth_pct")]]
            .fillna(0) == 0).all().all()


def test_location_matching_is_one_to_one_nearest_first():
    # A: two villages 50 m and 120 m from one B village; another 300 m from a second
    a = pd.DataFrame({"village_id": ["A1", "A2", "A3"], "lon": [105.0, 105.0, 105.1],
                      "lat": [20.00045, 20.0011, 20.0027]})
    b = pd.DataFrame({"village_id": ["B1", "B2"], "lon": [105.0, 105.1], "lat": [20.0, 20.0]})
    utm = choose_metric_crs(np.array([105.0]))
    pairs = _match_villages(a, b, utm, max_m=200)
    matched = pairs[(pairs["ia"] >= 0) & (pairs["ib"] >= 0)]
    assert matched[["ia", "ib", "matched_by"]].values.tolist() == [[0, 0, "location"]]
    assert sorted(pairs.loc[pairs["ib"] < 0, "ia"]) == [1, 2]  # A2 lost to A1, A3 too far
    assert pairs.loc[pairs["ia"] < 0, "ib"].tolist() == [1]
    ids = _match_villages(a, b.assign(village_id=["A3", "B2"]), utm, max_m=200)
    first = ids[ids["ib"] == 0].iloc[0]
    assert (first["ia"], first["matched_by"]) == (2, "id")  # the id wins over distance


# --------------------------------------------------------------------------- bad input

def test_not_a_run_directory(runs, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "villages.csv").write_text("village_id\nV1\n", encoding="utf-8")
    with pytest.raises(covgap.InputError, match="is this a covgap run directory") as err:
        diff_runs(folder, runs["a"])
    assert "indicators.csv is missing" in str(err.value)
    assert "manifest.json is missing" in str(err.value)
    assert "villages.csv is missing" not in str(err.value)
    with pytest.raises(covgap.InputError, match=r"run B .*no such folder"):
        diff_runs(runs["a"], tmp_path / "nowhere")


def test_edited_village_table_is_reported(runs, tmp_path):
    b = tmp_path / "b"
    shutil.copytree(runs["site"], b)
    path = b / "villages.csv"
    text = path.read_text(encoding="utf-8-sig").replace(",true,", ",yes,", 1)
    path.write_text(text, encoding="utf-8-sig")
    with pytest.raises(covgap.InputError, match=r"villages.csv row \d+: \w+ 'yes' is not "
                                                r"true/false"):
        diff_runs(runs["a"], b)


def test_runs_with_vietnamese_headers(runs, site_diff, tmp_path):
    b = tmp_path / "b"
    shutil.copytree(runs["site"], b)
    for name in ("villages.csv", "indicators.csv", "communes.csv"):
        frame = pd.read_csv(b / name, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        frame.rename(columns=VI_HEADERS).to_csv(b / name, index=False, encoding="utf-8-sig")
    assert "Mã thôn" in (b / "villages.csv").read_text(encoding="utf-8-sig")
    d = diff_runs(runs["a"], b)
    pd.testing.assert_frame_equal(d.villages, site_diff.villages)
    pd.testing.assert_frame_equal(d.indicators, site_diff.indicators)


def test_different_rules_are_noted(runs, tmp_path):
    b = tmp_path / "b"
    shutil.copytree(runs["site"], b)
    manifest = json.loads((b / "manifest.json").read_text(encoding="utf-8"))
    manifest["config"]["rules"]["village_covered_share"] = 0.5
    (b / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.warns(covgap.InputWarning, match="rules differs"):
        d = diff_runs(runs["a"], b)
    assert d.notes and "rule" in d.notes[0]


# --------------------------------------------------------------------------- outputs

class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.refs.append(a["src"])
        if tag == "link" and a.get("href"):
            self.refs.append(a["href"])


def test_write_files_and_offline_map(runs, tmp_path):
    d = diff_runs(runs["a"], runs["renamed"])
    out = d.write(tmp_path / "diff")
    assert sorted(p.name for p in out.iterdir()) == [
        "change_map.html", "crosswalk.csv", "diff.json", "diff_communes.csv",
        "diff_indicators.csv", "diff_operators.csv", "diff_villages.csv"]
    villages = pd.read_csv(out / "diff_villages.csv", encoding="utf-8-sig", dtype=str)
    assert villages.loc[villages["village_id"] == "X001", "change"].item() == "still lom_song"
    assert set(villages["matched_by"].dropna()) == {"location"}
    assert (out / "diff_villages.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    record = json.loads((out / "diff.json").read_text(encoding="utf-8"))
    assert record["changes"]["new village"] == 1
    assert record["run_a"]["year"] == 2024 and record["run_b"]["year"] == 2025
    text = (out / "change_map.html").read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(text)
    assert parser.refs == []  # every script and style inlined
    assert "cdn.jsdelivr.net" not in text and "sourceMappingURL" not in text
    assert EVIL not in text and "<img src=x" not in text
    assert "&amp;lt;img src=x onerror=alert(1)&amp;gt;" in text or \
        "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "2024 → 2025" in text
    assert re.search(r"Mới được phủ sóng / Newly covered", text)
    with pytest.raises(RunExistsError):
        d.write(out)
    assert d.write(out, force=True) == out


def test_default_directory_is_beside_run_b(site_diff, runs):
    assert site_diff.default_dir() == runs["site"].parent / "diff-2024-2025"
    assert site_diff.label == "2024 → 2025"


# --------------------------------------------------------------------------- browser

@pytest.fixture(scope="module")
def browser():
    required = bool(os.environ.get("COVGAP_REQUIRE_BROWSER"))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not CHROMIUM.exists():
        if required:
            pytest.fail("COVGAP_REQUIRE_BROWSER is set but chromium or playwright is missing")
        pytest.skip("the change map browser test needs chromium and playwright")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking"])
        yield b
        b.close()


def test_change_map_in_browser_offline(browser, runs, tmp_path):
    d = diff_runs(runs["a"], runs["site"])
    out = d.write(tmp_path / "diff")
    context = browser.new_context(viewport={"width": 1200, "height": 800}, offline=True)
    requests, errors = [], []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            requests.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto((out / "change_map.html").resolve().as_uri(), wait_until="load")
        page.wait_for_function("window.covgap && window.covgap.ready", timeout=15000)
        labels = [t.strip() for t in page.locator(
            ".leaflet-control-layers label").all_inner_texts()]
        assert "Mới được phủ sóng / Newly covered" in labels
        assert "Vẫn lõm sóng / Still no mobile broadband" in labels
        page.evaluate("() => { covgap.state.changes['newly covered'].markers[0]"
                      ".openPopup(); }")
        popup = page.locator(".leaflet-popup-content").last.inner_text()
        assert "Làng Hạ" in popup and "lõm sóng / none → đã phủ / covered" in popup
        assert "2024 → 2025" in page.locator(".cg-title").inner_text()
        # every overlay can be switched off and on
        page.evaluate("""() => document.querySelectorAll(
            '.leaflet-control-layers-overlays input').forEach(i => { i.click(); i.click(); })""")

        # a hostile village name shows as text
        hostile = diff_runs(runs["a"], runs["renamed"]).write(tmp_path / "hostile")
        page.goto((hostile / "change_map.html").resolve().as_uri(), wait_until="load")
        page.wait_for_function("window.covgap && window.covgap.ready", timeout=15000)
        texts = []
        for i in range(page.evaluate("covgap.state.changes['unchanged'].markers.length")):
            page.evaluate(f"() => {{ covgap.state.changes['unchanged'].markers[{i}]"
                          ".openPopup(); }")
            texts.append(page.locator(".leaflet-popup-content").last.inner_text())
        assert any(EVIL in t for t in texts)
        page.evaluate("() => { covgap.state.changes['still lom_song'].markers[0]"
                      ".openPopup(); }")
        popup = page.locator(".leaflet-popup-content").last.inner_text()
        assert "Ghép theo vị trí / Matched by location" in popup and "V001" in popup
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert errors == [] and requests == []
    finally:
        context.close()
