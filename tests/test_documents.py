"""The written plan's documents: figures/, appendix.docx, `covgap report`, the language."""

from __future__ import annotations

import errno
import os
import re
import time
from pathlib import Path

import docx
import geopandas as gpd
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

import covgap
from covgap.cli import app
from covgap.export.csv import VI_HEADERS
from covgap.export.documents import read_run_tables, rebuild_documents
from covgap.export.docx import appendix_tables, vn2000_crs
from covgap.export.figures import COMMUNE_SIZE_PX, PROVINCE_SIZE_PX, gap_communes
from covgap.export.messages import english_words, msg


@pytest.fixture(scope="module")
def vi_run(tmp_path_factory) -> Path:
    """The toy province's run in Vietnamese, written once for this module."""
    from conftest import Province

    root = tmp_path_factory.mktemp("vi")
    province = Province(root)
    cfg = province.config(output={"language": "vi"},
                          candidates={"cost_new_site": 2000, "cost_shared_site": 700})
    return covgap.run(cfg).write(root / "run")


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_vi_csvs_have_no_english_word_a_person_reads(vi_run):
    # Every cell of every CSV, scanned for the catalogue's English words (those its
    # Vietnamese never uses): reasons, fixes, statuses, gaps, kinds, sources, bases.
    words = english_words()
    assert {"signal", "nearest", "extend", "covered", "new", "route"} <= words
    found = {}
    for path in sorted(vi_run.glob("*.csv")):
        table = _read_csv(path)
        for col in table.columns:
            if (path.name, col) == ("indicators.csv", "Chỉ tiêu"):
                continue  # the indicator's id: a key (diff joins on it), not prose
            for cell in table[col].unique():
                hits = {w.lower() for w in re.findall(r"[A-Za-z_]{3,}", cell)} & words
                hits |= {w for w in re.findall(r"[a-z]+_[a-z_]+", cell)}  # lom_song, ...
                if hits:
                    found[(path.name, col)] = cell
    assert not found, found
    villages = _read_csv(vi_run / "villages.csv")
    assert "Nguyên nhân" in villages.columns and "reason" not in villages.columns
    assert set(villages["Tình trạng"]) <= {"lõm sóng", "được phủ sóng", "phủ sóng một phần"}
    # numbers stay machine-readable in the CSVs
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", v) for v in villages["Kinh độ"])


def test_figures_have_the_stated_size(vi_run):
    figures = vi_run / "figures"
    with Image.open(figures / "map_province.png") as im:
        assert im.size == PROVINCE_SIZE_PX == (2339, 1654)
    villages = gpd.read_file(vi_run / "results.gpkg", layer="villages")
    codes = gap_communes(villages)
    assert codes  # the toy province has gaps
    assert sorted(p.name for p in figures.glob("map_*.png")) == sorted(
        ["map_province.png", *(f"map_{c}.png" for c in codes)])
    for code in codes:
        with Image.open(figures / f"map_{code}.png") as im:
            assert im.size == COMMUNE_SIZE_PX


def _rows(table: docx.table.Table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def test_appendix_tables_hold_the_runs_lom_song_villages_and_candidates(vi_run):
    document = docx.Document(str(vi_run / "appendix.docx"))
    assert len(document.tables) == 6
    normal = document.styles["Normal"].font
    assert normal.name == "Times New Roman" and normal.size.pt == 13
    for table in document.tables:  # the header row repeats on every page
        assert table.rows[0]._tr.trPr.find(
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") is not None
    assert len(document.inline_shapes) == 1  # the province's map
    villages = _read_csv(vi_run / "villages.csv")
    lom = villages[villages["Lõm sóng"] == "true"]
    rows = _rows(document.tables[1])
    assert rows[0] == ["STT", "Xã", "Thôn", "Dân số (người)", "Nguyên nhân",
                       "Giải pháp đề xuất"]
    body = rows[1:]
    assert [r[0] for r in body] == [str(i) for i in range(1, len(lom) + 1)]
    assert sorted((r[1], r[2], r[3], r[4]) for r in body) == sorted(
        zip(lom[VI_HEADERS["commune_name"]], lom["Tên thôn"], lom["Dân số"], lom["Nguyên nhân"],
            strict=True))
    gaps = _read_csv(vi_run / "gaps.csv").set_index("Tên thôn")
    assert all(r[5] == gaps.loc[r[2], "Giải pháp đề xuất"] for r in body)
    # proposed sites: one row per candidate, VN-2000 and WGS84 coordinates, people, cost
    cands = _read_csv(vi_run / "candidates.csv")
    sites = _rows(document.tables[3])[1:]
    assert len(sites) == len(cands) > 0
    for row, (_, c) in zip(sites, cands.iterrows(), strict=True):
        lon, lat = (float(v.replace(",", ".")) for v in row[3].split("; "))
        assert (lon, lat) == pytest.approx((float(c["Kinh độ"]), float(c["Vĩ độ"])), abs=1e-6)
        x, y = (float(v) for v in row[2].split("; "))
        back = gpd.GeoSeries.from_xy([x], [y], crs=vn2000_crs("EPSG:32648", lon)).to_crs(4326)
        assert (back.x[0], back.y[0]) == pytest.approx((lon, lat), abs=2e-5)
        assert row[4] == c[VI_HEADERS["kind"]]
        assert row[5] == f"{int(c['Dân số được phủ thêm']):,}".replace(",", ".")
        cost = c[VI_HEADERS["cost"]]
        assert row[6] == ("" if pd.isna(cost) or cost == "" else
                          f"{float(cost):,.0f}".replace(",", "."))
    # the universal-service lists
    usp_m = villages[villages["Công ích di động"] == "true"]
    assert sorted(r[2] for r in _rows(document.tables[4])[1:]) == sorted(usp_m["Tên thôn"])


def test_indicator_table_uses_the_vietnamese_number_format(vi_run):
    tables = appendix_tables(read_run_tables(vi_run), language="vi")
    title, _header, rows = tables[0]
    assert title == "Bảng 1. Các chỉ tiêu so với mục tiêu"
    first = rows[0]
    assert first[1] == msg("ind.villages_mbb_pct", "vi")
    assert first[2] == "50%" and first[3] == "100%" and first[4] == "Chưa đạt"


def test_costs_are_empty_when_the_config_gives_no_prices(tmp_path):
    from conftest import Province

    province = Province(tmp_path)
    path = tmp_path / "run.toml"
    path.write_text(
        "[run]\nname = 'toy'\nyear = 2025\n[inputs]\n"
        f"communes = '{province.communes}'\nvillages = '{province.villages}'\n"
        f"sites = {{ path = '{province.sites}', x = 'lon', y = 'lat' }}\n"
        f"fibre = '{province.fibre}'\n", encoding="utf-8")
    run_dir = covgap.run(path).write(tmp_path / "run")
    sites = appendix_tables(read_run_tables(run_dir), language="en")[3][2]
    assert sites and all(row[6] == "" for row in sites)


def test_report_rebuilds_the_documents_in_another_language(vi_run, tmp_path):
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(vi_run, run_dir)
    before = (run_dir / "villages.csv").read_bytes()
    result = CliRunner().invoke(app, ["report", str(run_dir), "--language", "en"])
    assert result.exit_code == 0, result.output
    document = docx.Document(str(run_dir / "appendix.docx"))
    assert _rows(document.tables[1])[0] == ["No.", "Commune", "Village", "Population",
                                            "Reason", "Proposed fix"]
    reasons = [r[4] for r in _rows(document.tables[1])[1:]]
    assert reasons and all("signal" in r for r in reasons)  # English again, from the gpkg
    assert (run_dir / "villages.csv").read_bytes() == before  # nothing recomputed
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]  # no staging left


def test_report_leaves_the_old_documents_whole_when_interrupted(vi_run, tmp_path, monkeypatch):
    import shutil

    from covgap.export import docx as docx_module

    run_dir = tmp_path / "copy"
    shutil.copytree(vi_run, run_dir)
    old = (run_dir / "appendix.docx").read_bytes()
    old_figures = sorted(p.name for p in (run_dir / "figures").iterdir())

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(docx_module, "write_appendix", broken)
    with pytest.raises(OSError, match="disk full"):
        rebuild_documents(run_dir, language="en")
    assert (run_dir / "appendix.docx").read_bytes() == old
    assert sorted(p.name for p in (run_dir / "figures").iterdir()) == old_figures
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]


def test_report_on_a_folder_that_is_not_a_run(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 1
    assert "has no results.gpkg" in result.output


def test_headers_is_still_read_as_the_language(province):
    from covgap.config import load_config

    cfg = load_config(province.config(output={"headers": "vi"}))
    assert cfg.output.language == "vi"


def test_run_summary_in_vietnamese(tmp_path):
    from conftest import Province

    province = Province(tmp_path)
    path = tmp_path / "run.toml"
    path.write_text(
        "[run]\nname = 'toy'\nyear = 2025\n[inputs]\n"
        f"communes = '{province.communes}'\nvillages = '{province.villages}'\n"
        f"sites = {{ path = '{province.sites}', x = 'lon', y = 'lat' }}\n"
        f"fibre = '{province.fibre}'\n[output]\nlanguage = 'vi'\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert f"thư mục kết quả: {tmp_path / 'run'}" in result.output
    assert "appendix.docx   các bảng phụ lục của kế hoạch, dán vào Word" in result.output
    assert "Chỉ tiêu của tỉnh" in result.output and "Chưa đạt" in result.output


# ------------------------------------------------------- one figure, commune after commune


def test_a_reused_commune_figure_draws_each_commune_as_a_new_figure_would(vi_run, tmp_path):
    from covgap.export.figures import CommuneFigure, draw_commune

    tables = read_run_tables(vi_run)
    codes = gap_communes(tables.villages)
    assert len(codes) >= 2
    first, second = codes[0], codes[1]
    figure = CommuneFigure(tables, language="vi")
    a = figure.draw(first, tmp_path / "a.png").read_bytes()
    b = figure.draw(second, tmp_path / "b.png").read_bytes()
    again = figure.draw(first, tmp_path / "a2.png").read_bytes()
    # the second commune's map, not the first's drawn again, and nothing of the first left
    assert b != a
    assert b == draw_commune(tables, second, tmp_path / "b_new.png", language="vi").read_bytes()
    assert a == again == draw_commune(tables, first, tmp_path / "a_new.png",
                                      language="vi").read_bytes()
    # the run's own figures/ were drawn on one figure too: the same bytes
    assert b == (vi_run / "figures" / f"map_{second}.png").read_bytes()


def test_a_commune_map_drawn_over_the_background_is_a_whole_redraw(vi_run, tmp_path):
    """The legend and source line are rendered once; the map over them is byte-exact."""
    from covgap.export.figures import COMMUNE_DPI, CommuneFigure
    from covgap.export.png import save_png

    tables = read_run_tables(vi_run)
    figure = CommuneFigure(tables, language="vi")
    for code in gap_communes(tables.villages)[:3]:
        blitted = figure.draw(code, tmp_path / f"{code}.png").read_bytes()
        # savefig draws the whole figure again, legend and source line included
        whole = save_png(figure.figure, tmp_path / f"{code}_whole.png", dpi=COMMUNE_DPI)
        assert blitted == whole.read_bytes(), code


def test_figures_max_communes_caps_the_commune_maps(vi_run, tmp_path):
    from covgap.export.figures import max_commune_maps, write_figures

    tables = read_run_tables(vi_run)
    codes = gap_communes(tables.villages)
    assert max_commune_maps(tables) == 200 > len(codes)  # the default, from the record
    paths = write_figures(tables, tmp_path / "two", language="vi", max_communes=2)
    assert [p.name for p in paths] == ["map_province.png", *(f"map_{c}.png" for c in codes[:2])]
    tables.manifest["config"]["output"]["figures_max_communes"] = 0
    paths = write_figures(tables, tmp_path / "none", language="vi")
    assert [p.name for p in paths] == ["map_province.png"]
    del tables.manifest["config"]["output"]["figures_max_communes"]  # an older run's record
    assert max_commune_maps(tables) == 200


def test_commune_maps_drawn_on_two_processes_are_the_serial_ones(vi_run, tmp_path):
    from covgap.export.figures import write_figures

    tables = read_run_tables(vi_run)
    codes = gap_communes(tables.villages)
    assert len(codes) >= 3
    order: list[str] = []
    serial = write_figures(tables, tmp_path / "serial", language="vi", parallel=False,
                           meanwhile=lambda: order.append("appendix"))
    shared = write_figures(tables, tmp_path / "shared", language="vi", parallel=True,
                           meanwhile=lambda: order.append("appendix"))
    assert order == ["appendix", "appendix"]  # run once either way, in this process
    assert [p.name for p in shared] == [p.name for p in serial]
    assert [p.name for p in serial] == ["map_province.png", *(f"map_{c}.png" for c in codes)]
    for a, b in zip(serial, shared, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    # every map once: no leftover or half-written file beside them
    assert sorted(p.name for p in (tmp_path / "shared").iterdir()) == sorted(
        p.name for p in serial)


def test_a_failing_figure_child_fails_the_figures(vi_run, tmp_path, monkeypatch):
    from covgap.export import figures

    tables = read_run_tables(vi_run)
    parent = os.getpid()
    real = figures.CommuneFigure.draw

    def draw(self, code, path):
        if os.getpid() != parent:  # only in the forked child
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(self, code, path)

    monkeypatch.setattr(figures.CommuneFigure, "draw", draw)
    with pytest.raises(OSError, match="No space left on device"):  # the child's error, here
        figures.write_figures(tables, tmp_path / "f", language="vi", parallel=True,
                              meanwhile=lambda: time.sleep(1.0))  # the child draws first


def test_appendix_rows_are_the_elements_python_docx_makes(tmp_path):
    # the rows are parsed from one XML text: the same elements as add_row + cell.text
    from docx import Document
    from lxml import etree

    from covgap.export.docx import _style, _table

    rows = [["1", " x "], ["a\tb", "c\nd"], ["", "<&>\"'"], ["\r\n", "tab\t"],
            ["lõm sóng", " "], ["xxx", "a  b"]]
    doc = Document()
    _style(doc)
    fast = _table(doc, ["A", "B"], rows, "vi")
    slow = doc.add_table(rows=1, cols=2)  # python-docx's own way, cell by cell
    for values in rows:
        for cell, text in zip(slow.add_row().cells, values, strict=True):
            cell.text = text
    def body(table):
        return [etree.tostring(tr) for tr in table._tbl.tr_lst[1:]]
    assert body(fast) == body(slow)
    assert len(body(fast)) == len(rows)
    path = tmp_path / "a.docx"
    doc.save(str(path))
    assert [[c.text for c in r.cells] for r in docx.Document(str(path)).tables[0].rows][1:] == [
        [t.replace("\r", "\n") for t in r] for r in rows]  # each break a <w:br/>


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_commune_maps_legend_stays_on_the_page(vi_run, language):
    # the English "Village without coverage (lõm sóng)" ran past the right edge at 8 pt
    from covgap.export.figures import CommuneFigure

    figure = CommuneFigure(read_run_tables(vi_run), language=language)
    fig = figure.figure
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert len(legends) == 1
    box = legends[0].get_window_extent(renderer)
    width, height = fig.bbox.width, fig.bbox.height
    assert 0 <= box.x0 < box.x1 <= width and 0 <= box.y0 < box.y1 <= height
    texts = [t.get_text() for t in legends[0].get_texts()]
    assert msg("map.lom_song", language).split()[0] in texts[0]
