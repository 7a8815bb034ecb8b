"""What goes into the written plan: ``appendix.docx`` and ``figures/``, from a run directory.

The documents are made from the files of a run directory, never from a run in memory,
so :func:`rebuild_documents` (``covgap report RUN_DIR``) can remake them later in
another language without recomputing, and :func:`covgap.export.rundir.write_run` makes
them the same way.  They read ``results.gpkg`` (villages with their gap and fix,
communes, candidates; English values, the run's record), ``indicators.csv`` and
``manifest.json``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from covgap.config import CandidatesConfig
from covgap.errors import InputError
from covgap.export.messages import LANGUAGES, column_names, english_value

__all__ = ["RunTables", "read_run_tables", "rebuild_documents", "write_documents"]

log = logging.getLogger(__name__)


@dataclass
class RunTables:
    """The tables of a run directory the documents read.

    Attributes
    ----------
    villages, communes : GeoDataFrame
        EPSG:4326, covgap's column names; villages with ``gap`` and ``fix`` (English).
    candidates : GeoDataFrame or None
        EPSG:4326; None when the run made no plan.
    indicators : DataFrame or None
        ``indicators.csv`` with covgap's column names.
    manifest : dict
        ``manifest.json``.
    metric_crs : str
        The run's metric CRS (for the figures' scale bar).
    prices_given : bool
        The configuration file gave the site prices (``[candidates] cost_new_site``
        or ``cost_shared_site``): the appendix shows costs only then.
    """

    villages: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame | None
    indicators: pd.DataFrame | None
    manifest: dict[str, Any]
    metric_crs: str
    prices_given: bool

    @property
    def title(self) -> str:
        """The run's title (``[run] title``, else its name)."""
        run = self.manifest.get("config", {}).get("run", {})
        return str(run.get("title") or run.get("name") or "")

    @property
    def year(self) -> str:
        """The run's year."""
        return str(self.manifest.get("config", {}).get("run", {}).get("year", ""))

    @property
    def version(self) -> str:
        """The covgap version that made the run."""
        return str(self.manifest.get("covgap_version", ""))

    @property
    def language(self) -> str:
        """The run's ``[output] language``."""
        out = self.manifest.get("config", {}).get("output", {})
        lang = out.get("language") or out.get("headers") or "vi"
        return lang if lang in LANGUAGES else "vi"


def _prices_given(manifest: dict[str, Any]) -> bool:
    """Whether the run's configuration gave the site prices.

    Read from the configuration file when there is one; a configuration built in code
    (no file) gave them when they differ from covgap's defaults.
    """
    source = manifest.get("config_file")
    if source and Path(source).is_file():
        try:
            data = tomllib.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            return False
        cand = data.get("candidates", {})
        return isinstance(cand, dict) and ("cost_new_site" in cand or "cost_shared_site" in cand)
    given = (manifest.get("config") or {}).get("candidates") or {}
    defaults = CandidatesConfig()
    return any(key in given and given[key] != getattr(defaults, key)
               for key in ("cost_new_site", "cost_shared_site"))


def read_run_tables(run_dir: str | Path) -> RunTables:
    """Read what the documents need from a run directory.

    Parameters
    ----------
    run_dir : str or Path
        A run directory written by :func:`covgap.export.rundir.write_run` (or the
        folder being written, once its tables and ``results.gpkg`` are there).

    Returns
    -------
    RunTables

    Raises
    ------
    InputError
        ``run_dir`` has no ``results.gpkg`` or no ``manifest.json``-readable record.
    """
    folder = Path(run_dir)
    gpkg = folder / "results.gpkg"
    if not gpkg.is_file():
        raise InputError(f"{folder} has no results.gpkg: is it a covgap run directory with "
                         "its analysis (covgap run CONFIG)?")
    manifest_path = folder / "manifest.json"
    manifest: dict[str, Any] = {}
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    layers = {str(name) for name, _ in pyogrio.list_layers(gpkg)}
    villages = gpd.read_file(gpkg, layer="villages")
    communes = gpd.read_file(gpkg, layer="communes")
    for frame in (villages, communes):
        frame["commune_code"] = frame["commune_code"].astype("string")
    candidates = gpd.read_file(gpkg, layer="candidates") if "candidates" in layers else None
    indicators = None
    if (folder / "indicators.csv").is_file():
        indicators = pd.read_csv(folder / "indicators.csv", encoding="utf-8-sig",
                                 dtype={"code": str})
        back = {v: k for k, v in column_names("vi").items()}
        indicators = indicators.rename(columns=back)
        for col in ("level", "source", "unit", "kind"):  # a "vi" run's cells, back to ids
            if col in indicators.columns:
                indicators[col] = indicators[col].map(english_value)
    metric = (manifest.get("inputs") or {}).get("metric_crs") or villages.estimate_utm_crs()
    return RunTables(villages=villages, communes=communes, candidates=candidates,
                     indicators=indicators, manifest=manifest, metric_crs=str(metric),
                     prices_given=_prices_given(manifest))


def write_documents(folder: str | Path, *, language: str, record: dict[str, Any] | None = None,
                    parallel: bool | None = None) -> list[Path]:
    """Write ``appendix.docx`` and ``figures/`` into a run directory (or its staging folder).

    Parameters
    ----------
    folder : str or Path
        Holds ``results.gpkg`` and ``indicators.csv`` already.
    language : {"vi", "en"}
    record : dict, optional
        The run record when ``manifest.json`` is not written yet (:func:`write_run`
        writes it last).
    parallel : bool, optional
        Draw the commune maps on two processes, this one writing the appendix first
        (:func:`~covgap.export.figures.write_figures`).  Default: where it can fork.

    Returns
    -------
    list of Path
        The files written.
    """
    from covgap.export.docx import write_appendix
    from covgap.export.figures import write_figures

    folder = Path(folder)
    tables = read_run_tables(folder)
    if record is not None:
        tables.manifest = record
        tables.metric_crs = str((record.get("inputs") or {}).get("metric_crs")
                                or tables.metric_crs)
        tables.prices_given = _prices_given(record)
    province = folder / "figures" / "map_province.png"
    docx: list[Path] = []

    def appendix() -> None:  # after the province map it shows, beside the commune maps
        docx.append(write_appendix(tables, folder / "appendix.docx", language=language,
                                   figure=province if province.is_file() else None))

    figures = write_figures(tables, folder / "figures", language=language, parallel=parallel,
                            meanwhile=appendix)
    return [*figures, *docx]


def rebuild_documents(run_dir: str | Path, *, language: str | None = None) -> list[Path]:
    """Remake ``appendix.docx`` and ``figures/`` of an existing run, without recomputing.

    The new files are made in a hidden folder beside the run's and moved into place
    only when complete: an interrupted rebuild leaves the old documents whole.

    Parameters
    ----------
    run_dir : str or Path
        A run directory.
    language : {"vi", "en"}, optional
        Default: the run's ``[output] language``.

    Returns
    -------
    list of Path
        The files now in ``run_dir``.

    Examples
    --------
    >>> rebuild_documents("out/tinh-mau/2025", language="en")  # doctest: +SKIP
    """
    folder = Path(run_dir)
    tables = read_run_tables(folder)
    lang = language or tables.language
    if lang not in LANGUAGES:
        raise InputError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    from covgap.export.docx import write_appendix
    from covgap.export.figures import write_figures

    stage = Path(tempfile.mkdtemp(prefix=f".report.partial-{os.getpid()}-", dir=folder))
    try:
        write_figures(tables, stage / "figures", language=lang)
        write_appendix(tables, stage / "appendix.docx", language=lang,
                       figure=stage / "figures" / "map_province.png")
        old = folder / f".figures.old-{os.getpid()}"
        if (folder / "figures").exists():
            os.replace(folder / "figures", old)
        os.replace(stage / "figures", folder / "figures")
        os.replace(stage / "appendix.docx", folder / "appendix.docx")
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    log.info("rebuilt the documents of %s in %s", folder, lang)
    return [folder / "appendix.docx", *sorted((folder / "figures").glob("*.png"))]
