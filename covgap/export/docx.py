"""``appendix.docx``: the plan's appendix tables, ready to paste into the province's plan.

Tables, in order: the indicators against the targets; the lõm sóng villages by
commune (STT, commune, village, population, reason, proposed fix); the villages without
FTTH; the proposed sites (STT, commune, coordinates in VN-2000 and WGS84, new or shared,
people gained, estimated cost); the two universal-service lists (mobile, fibre); then
the province's map (``figures/map_province.png``) as a figure.

Layout as Vietnamese administrative documents have it (Nghị định 30/2020/NĐ-CP): Times
New Roman 13 pt, A4, margins 20/20/30/15 mm (top, bottom, left, right); every table
repeats its header row on each page.  Numbers are written for reading in the chosen
language (``1.520``, ``98,5%`` in Vietnamese).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape as xml_escape

import geopandas as gpd
import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import nsdecls, qn
from docx.oxml.parser import parse_xml
from docx.shared import Cm, Mm, Pt
from pyproj import CRS

from covgap.export.messages import MESSAGES, msg, number, percent, translate_text

if TYPE_CHECKING:
    from docx.document import Document as DocumentType
    from docx.table import Table

    from covgap.export.documents import RunTables

__all__ = ["FONT", "FONT_SIZE_PT", "appendix_tables", "vn2000_crs", "write_appendix"]

log = logging.getLogger(__name__)

#: The font and size of Vietnamese administrative documents (Nghị định 30/2020/NĐ-CP).
FONT = "Times New Roman"
FONT_SIZE_PT = 13


def vn2000_crs(metric_crs: str, lon: float) -> CRS:
    """Return the VN-2000 projected CRS the appendix gives coordinates in.

    The run's metric CRS when it is a VN-2000 one (a province's TM-3 zone, say),
    else VN-2000 / UTM zone 48N (EPSG:3405) west of 108°E and 49N (EPSG:3406) east.

    Examples
    --------
    >>> vn2000_crs("EPSG:32648", 105.5).to_epsg()
    3405
    """
    crs = CRS.from_user_input(metric_crs)
    if crs.is_projected and "VN-2000" in (crs.geodetic_crs.name if crs.geodetic_crs else ""):
        return crs
    return CRS.from_epsg(3405 if lon < 108.0 else 3406)


def _style(doc: DocumentType) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(FONT_SIZE_PT)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    for name in ("Heading 1", "Heading 2", "Caption", "Title"):
        style = doc.styles[name]
        style.font.name = FONT
        style.font.size = Pt(FONT_SIZE_PT)
        style.font.bold = True
        style.font.italic = name == "Caption"
        style.font.color.rgb = None
        rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            rfonts.set(qn(attr), FONT)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)


def _repeat_header(table: Table) -> None:
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _table(doc: DocumentType, headers: list[str], rows: list[list[str]],
           language: str) -> Table:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _repeat_header(table)
    if not rows:
        cells = table.add_row().cells
        merged = cells[0].merge(cells[-1])
        merged.text = msg("doc.none", language)
    if rows:
        widths = [tc.tcPr.tcW.get(qn("w:w")) for tc in table.rows[0]._tr.tc_lst]
        body = parse_xml(f"<w:tbl {nsdecls('w')}>{_rows_xml(rows, widths)}</w:tbl>")
        for tr in list(body):
            table._tbl.append(tr)
    return table


def _run_xml(text: str) -> str:
    r"""Return ``<w:r>`` holding ``text`` as python-docx's ``cell.text = text`` makes it.

    Runs of characters in ``<w:t>`` (``xml:space="preserve"`` when the run starts or
    ends with whitespace), a tab as ``<w:tab/>``, a line break (``\n``, ``\r``) as
    ``<w:br/>``; an empty text is an empty run.
    """
    if not text:
        return "<w:r/>"
    parts = []
    for piece in re.split(r"([\t\r\n])", text):
        if piece == "\t":
            parts.append("<w:tab/>")
        elif piece in ("\r", "\n"):
            parts.append("<w:br/>")
        elif piece:
            space = ' xml:space="preserve"' if len(piece.strip()) < len(piece) else ""
            parts.append(f"<w:t{space}>{xml_escape(piece)}</w:t>")
    return f"<w:r>{''.join(parts)}</w:r>"


def _rows_xml(rows: list[list[str]], widths: list[str | None]) -> str:
    """Return the ``<w:tr>`` elements of a table's rows, as ``add_row`` and ``cell.text`` make them.

    A national appendix has about 90,000 rows: python-docx took some 0.6 ms a cell
    (element by element, child lookups in a growing table); one parse of the rows' XML
    gives the same elements.
    """
    heads = [f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{w}"/></w:tcPr><w:p>'
             if w is not None else "<w:tc><w:p>" for w in widths]
    runs: dict[str, str] = {}
    out = []
    for values in rows:
        cells = []
        for head, text in zip(heads, values, strict=True):
            run = runs.get(text)
            if run is None:
                run = runs[text] = _run_xml(text)
            cells.append(f"{head}{run}</w:p></w:tc>")
        out.append(f"<w:tr>{''.join(cells)}</w:tr>")
    return "".join(out)


def _heading(doc: DocumentType, text: str) -> None:
    p = doc.add_paragraph(style="Heading 2")
    p.add_run(text)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


def _commune_names(tables: RunTables) -> dict[str, str]:
    c = tables.communes
    return dict(zip(c["commune_code"].astype(str), c["commune_name"].astype(str), strict=True))


def _village_rows(villages: pd.DataFrame, language: str, columns: list[str],
                  commune_names: dict[str, str]) -> list[list[str]]:
    """Rows of village tables, sorted by commune then village: STT, commune, village, ..."""
    v = villages.assign(_commune=villages["commune_code"].astype(str).map(commune_names)
                        .fillna(villages["commune_code"].astype(str)))
    v = v.sort_values(["_commune", "village_name", "village_id"], kind="stable")
    # only the columns the rows show: to_dict over every village column took most of
    # the time nationally
    v = v[[c for c in dict.fromkeys(["_commune", "village_name", *columns]) if c in v.columns]]
    translated: dict[str, str] = {}  # a national table repeats a few hundred texts
    rows = []
    for i, rec in enumerate(v.to_dict("records"), start=1):
        row = [str(i), rec["_commune"], _text(rec["village_name"])]
        for col in columns:
            value = rec.get(col)
            if col == "population":
                row.append(number(float(value), language) if _text(value) else "")
            elif col == "fibre_distance_m":
                row.append(number(float(value) / 1000, language, decimals=1)
                           if _text(value) else "")
            else:
                text = _text(value)
                if text not in translated:
                    translated[text] = _text(translate_text(text, language))
                row.append(translated[text])
        rows.append(row)
    return rows


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].fillna(False).astype(bool)


def appendix_tables(tables: RunTables, *, language: str
                    ) -> list[tuple[str, list[str], list[list[str]]]]:
    """Return the appendix tables as (title, header, rows) of text, in the document's order.

    Parameters
    ----------
    tables : RunTables
        :func:`covgap.export.documents.read_run_tables`.
    language : {"vi", "en"}

    Returns
    -------
    list of (str, list of str, list of list of str)
    """
    names = _commune_names(tables)
    v = tables.villages
    out = []
    # 1. indicators against the targets
    rows = []
    ind = tables.indicators
    if ind is not None:
        prov = ind[ind["level"] == "province"]
        for i, rec in enumerate(prov.to_dict("records"), start=1):
            key = f"ind.{rec['indicator']}"
            label = msg(key, language) if key in MESSAGES else str(rec["indicator"])
            pct = str(rec.get("unit")) == "%"
            def fmt(x: object, p: bool = pct) -> str:
                if pd.isna(x):
                    return ""
                whole = float(x).is_integer()
                return (percent(float(x), language, decimals=0 if whole else 1) if p
                        else number(float(x), language, decimals=0 if whole else 1))
            met = rec.get("met")
            met_text = "" if pd.isna(rec.get("target")) or pd.isna(met) else msg(
                "doc.yes" if str(met).lower() in ("true", "1") else "doc.no", language)
            rows.append([str(i), label, fmt(rec["value"]), fmt(rec["target"]), met_text])
    out.append((msg("doc.t_indicators", language, n=1),
                [msg(k, language) for k in ("doc.stt", "doc.indicator", "doc.value",
                                           "doc.target", "doc.met")], rows))
    base = [msg(k, language) for k in ("doc.stt", "doc.commune", "doc.village",
                                        "doc.population")]
    # 2. lõm sóng villages by commune
    lom = v[_flag(v, "lom_song")]
    out.append((msg("doc.t_lom_song", language, n=2),
                [*base, msg("doc.reason", language), msg("doc.fix", language)],
                _village_rows(lom, language, ["population", "reason", "fix"], names)))
    # 3. villages without FTTH
    no_ftth = v[v["ftth"].notna() & ~v["ftth"].fillna(True).astype(bool)]
    out.append((msg("doc.t_no_ftth", language, n=3),
                [*base, msg("doc.fibre_km", language), msg("doc.fix", language)],
                _village_rows(no_ftth, language, ["population", "fibre_distance_m", "fix"],
                              names)))
    # 4. proposed sites
    out.append((msg("doc.t_sites", language, n=4), *_site_table(tables, language, names)))
    # 5, 6. the universal-service lists
    for n, part in ((5, "mobile"), (6, "fibre")):
        col = f"usp_{part}"
        chosen = v[_flag(v, col)] if col in v.columns else v.iloc[:0]
        out.append((msg(f"doc.t_usp_{part}", language, n=n),
                    [*base, msg("doc.usp_reason", language)],
                    _village_rows(chosen, language, ["population", f"{col}_reason"], names)))
    return out


def _site_table(tables: RunTables, language: str, names: dict[str, str]
                ) -> tuple[list[str], list[list[str]]]:
    cands = tables.candidates
    lon0 = float(tables.villages.geometry.x.mean()) if len(tables.villages) else 105.0
    crs = vn2000_crs(tables.metric_crs, lon0)
    header = [msg("doc.stt", language), msg("doc.commune", language),
              msg("doc.xy", language, crs=crs.name), msg("doc.lonlat", language),
              msg("doc.kind", language), msg("doc.gained", language),
              msg("doc.cost", language)]
    if cands is None or cands.empty:
        return header, []
    pts = cands.to_crs(4326)
    joined = gpd.sjoin(pts[["geometry"]], tables.communes[["commune_code", "geometry"]]
                       .to_crs(4326), how="left", predicate="within")
    code = joined.groupby(level=0)["commune_code"].first().reindex(pts.index)
    xy = pts.to_crs(crs).geometry
    rows = []
    for i, idx in enumerate(pts.index, start=1):
        rec = cands.loc[idx]
        c = code.loc[idx]
        commune = names.get(str(c), "") if isinstance(c, str) else ""
        cost = rec.get("cost")
        cost_text = (number(float(cost), language) if tables.prices_given and _text(cost)
                     else "")
        rows.append([
            str(i), commune,
            f"{xy.loc[idx].x:.0f}; {xy.loc[idx].y:.0f}",
            f"{number(pts.geometry.loc[idx].x, language, decimals=6)}; "
            f"{number(pts.geometry.loc[idx].y, language, decimals=6)}",
            _text(translate_text(_text(rec.get("kind")), language)),
            number(float(rec["population_gained"]), language)
            if _text(rec.get("population_gained")) else "",
            cost_text])
    return header, rows


def write_appendix(tables: RunTables, path: str | Path, *, language: str,
                   figure: Path | None = None) -> Path:
    """Write ``appendix.docx``.

    Parameters
    ----------
    tables : RunTables
        :func:`covgap.export.documents.read_run_tables`.
    path : str or Path
    language : {"vi", "en"}
    figure : Path, optional
        ``map_province.png``, placed after the tables as a figure.

    Returns
    -------
    Path

    Examples
    --------
    >>> from covgap.export.documents import read_run_tables
    >>> write_appendix(read_run_tables("out/tinh-mau/2025"), "appendix.docx",
    ...                language="vi")  # doctest: +SKIP
    """
    path = Path(path)
    doc = Document()
    _style(doc)
    # a fixed date: the same run gives the same file
    stamp = dt.datetime(int(tables.year) if tables.year.isdigit() else 2000, 1, 1,
                        tzinfo=dt.UTC)
    doc.core_properties.created = doc.core_properties.modified = stamp
    doc.core_properties.author = "covgap"
    doc.core_properties.title = f"{msg('doc.appendix', language)}: {tables.title}"
    for text in (msg("doc.appendix", language), msg("doc.subtitle", language),
                 msg("doc.run", language, title=tables.title, year=tables.year)):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.add_run(text).bold = True
    for title, header, rows in appendix_tables(tables, language=language):
        _heading(doc, title)
        _table(doc, header, rows, language)
        if title == msg("doc.t_sites", language, n=4) and not tables.prices_given:
            note = doc.add_paragraph()
            note.add_run(msg("doc.cost_note", language)).italic = True
    if figure is not None and Path(figure).is_file():
        doc.add_paragraph()
        pic = doc.add_paragraph()
        pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
        pic.add_run().add_picture(str(figure), width=Cm(16.5))
        cap = doc.add_paragraph(msg("doc.figure", language, n=1), style="Caption")
        cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.save(str(path))
    return path
