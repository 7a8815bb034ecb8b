"""The run: stages in order, their timings, and atomic writing of the run directory.

Stages (SPEC.md): read and validate inputs -> coverage -> village analysis ->
indicators -> candidates -> exports.  Each stage is a function of the stages to its
left; :func:`run` calls those that exist and records what it did in the manifest.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import platform
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from covgap._version import __version__
from covgap.analysis import Analysis, analyse
from covgap.config import Config, load_config
from covgap.coverage import Coverage, compute_coverage
from covgap.coverage.cache import cache_path, coverage_key
from covgap.errors import CovgapError, CovgapWarning
from covgap.export.csv import write_csv
from covgap.export.excel import write_report
from covgap.export.gpkg import write_geopackage
from covgap.export.map import file_part, write_maps
from covgap.export.plots import write_plots
from covgap.io import Inputs, read_inputs
from covgap.planning import Plan, plan

__all__ = ["STAGES", "Result", "RunExistsError", "run", "write_atomic"]

log = logging.getLogger(__name__)

#: The stages of a run, in order.  Stages later issues build are listed so the
#: manifest says plainly which ones this version ran.
STAGES: tuple[str, ...] = (
    "inputs", "coverage", "villages", "indicators", "candidates", "exports")

#: Stages a run can stop after (``covgap run --only``).
ONLY: tuple[str, ...] = ("inputs", "coverage")

#: Progress callback: ``progress(stage, done, total)``; ``total`` is None while a
#: stage's amount of work is not known yet, and ``done == total`` when it ends.
Progress = Callable[[str, int, int | None], None]


class RunExistsError(CovgapError):
    """The run directory exists and ``force`` was not given."""


@dataclass
class Result:
    """What a run produced.

    Attributes
    ----------
    config : Config
        The effective configuration.
    inputs : Inputs
        The checked input layers (WGS84) and the run's metric CRS.
    coverage : Coverage or None
        The modelled coverage of every operator and technology.
    analysis : Analysis or None
        The village, commune, indicator and gap tables.
    plan : Plan or None
        Candidate sites, fibre extensions and satellite villages.
    timings : dict
        Seconds spent in each stage that ran.
    stages_run : list of str
        The stages this version of covgap ran, in order.
    """

    config: Config
    inputs: Inputs
    coverage: Coverage | None = None
    analysis: Analysis | None = None
    plan: Plan | None = None
    timings: dict[str, float] = field(default_factory=dict)
    stages_run: list[str] = field(default_factory=list)
    started: str = ""

    @property
    def villages(self) -> gpd.GeoDataFrame:
        """The village table (EPSG:4326): the ``villages.csv`` columns plus geometry."""
        return self.analysis.villages if self.analysis else self.inputs.villages

    @property
    def communes(self) -> gpd.GeoDataFrame:
        """The commune table (EPSG:4326) with counts and indicator values."""
        return self.analysis.communes if self.analysis else self.inputs.communes

    @property
    def indicators(self) -> pd.DataFrame | None:
        """The indicators of the province, districts and communes against the targets."""
        return self.analysis.indicators if self.analysis else None

    @property
    def gaps(self) -> pd.DataFrame | None:
        """Villages not covered or without FTTH, highest priority first, with the fix."""
        if self.analysis is None:
            return None
        if self.plan is None:
            return self.analysis.gaps
        extra = self.plan.villages.set_index(self.analysis.villages["village_id"])
        return self.analysis.gaps.join(extra, on="village_id")

    @property
    def candidates(self) -> gpd.GeoDataFrame | None:
        """Proposed sites in rank order (EPSG:4326), the ``candidates.csv`` columns."""
        return self.plan.candidates if self.plan else None

    @property
    def sites(self) -> gpd.GeoDataFrame:
        """The BTS cells (EPSG:4326)."""
        return self.inputs.sites

    def map(self, **options: Any) -> folium.Map:
        """Return the interactive map, to show in a notebook (same as ``map.html``).

        Options are those of :func:`covgap.export.map.build_map`.
        """
        from covgap.export.map import build_map
        return build_map(self, **options)

    @property
    def warnings(self) -> list[str]:
        """Warnings raised during the run, as text."""
        return list(self.inputs.warnings)

    def manifest(self) -> dict[str, Any]:
        """Return the run record: version, configuration, input hashes, counts, timings."""
        return {
            "covgap_version": __version__,
            "created": self.started,
            "config_file": str(self.config.source) if self.config.source else None,
            "config": self.config.to_dict(),
            "inputs": {"sha256": self.inputs.hashes, "counts": self.inputs.counts(),
                       "metric_crs": self.inputs.metric_crs.to_string()},
            "coverage": self.coverage.parameters if self.coverage else None,
            "planning": {name: {"mode": s.mode, "sites": len(s.chosen),
                                "objective": s.objective, "cost": s.cost,
                                "optimality_gap": s.optimality_gap, "status": s.status,
                                "seconds": round(s.seconds, 3)}
                         for name, s in self.plan.selections.items()} if self.plan else None,
            "stages_run": self.stages_run,
            "stages_not_available": [s for s in STAGES if s not in self.stages_run],
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "warnings": self.warnings,
            "platform": {"python": platform.python_version(), "system": platform.platform()},
        }

    def write(self, directory: str | Path | None = None, *, force: bool = False) -> Path:
        """Write the run directory atomically.

        Parameters
        ----------
        directory : str or Path, optional
            Default: ``<output.dir>/<run.name>/<run.year>`` of the configuration.
        force : bool
            Replace an existing run directory.  Without it an existing directory is an
            error and is left untouched.

        Returns
        -------
        Path
            The run directory.

        Raises
        ------
        RunExistsError
            The directory exists and ``force`` is false.
        """
        target = Path(directory) if directory is not None else self.config.run_dir()

        def write(folder: Path) -> None:
            t0 = time.perf_counter()
            if self.coverage is not None:
                self.coverage.write_geotiffs(folder)
            if self.analysis is not None:
                self._write_tables(folder)
                write_geopackage(self, folder / "results.gpkg")
                write_report(self, folder / "report.xlsx")
                write_plots(self, folder / "plots")
                self._write_maps(folder)
                self.timings["exports"] = time.perf_counter() - t0
                if "exports" not in self.stages_run:
                    self.stages_run.append("exports")
            # the run record goes last, so it holds the exports' timing too
            (folder / "manifest.json").write_text(
                json.dumps(self.manifest(), indent=2, ensure_ascii=False, default=str) + "\n",
                encoding="utf-8")

        write_atomic(target, write, force=force)
        return target


    def _write_maps(self, folder: Path) -> None:
        """Write ``map.html`` (and ``maps/`` for a large run); keep its warnings for the record."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            write_maps(self, folder, max_villages=self.config.output.map_max_villages)
        for w in caught:
            text = str(w.message)
            if issubclass(w.category, CovgapWarning) and text not in self.inputs.warnings:
                self.inputs.warnings.append(text)
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    def _write_tables(self, folder: Path) -> None:
        a = self.analysis
        assert a is not None
        lang = self.config.output.headers
        write_csv(a.villages, folder / "villages.csv", headers=lang)
        write_csv(a.communes, folder / "communes.csv", headers=lang)
        write_csv(a.indicators, folder / "indicators.csv", headers=lang)
        gaps = self.gaps
        write_csv(gaps, folder / "gaps.csv", headers=lang)
        if self.plan is not None:
            write_csv(self.plan.candidates, folder / "candidates.csv", headers=lang)
        operators = sorted(set(self.inputs.sites["operator"]))
        if self.inputs.fibre is not None:
            operators = sorted(set(operators) | set(self.inputs.fibre["operator"]))
        for op in operators:
            mine = (gaps["best_operator"] == op).fillna(False) | (
                (gaps["fibre_operator"] == op).fillna(False) & (gaps["gap"] != "mobile"))
            write_csv(gaps[mine.to_numpy()], folder / f"gaps_{_file_part(op)}.csv",
                      headers=lang)


def _file_part(text: str) -> str:
    """Text safe inside a file name (:func:`covgap.export.map.file_part`)."""
    return file_part(text, default="operator")


def write_atomic(target: Path, write: Callable[[Path], object], *,
                 force: bool = False) -> None:
    """Write a directory so it appears complete or not at all.

    Parameters
    ----------
    target : Path
        The directory to create.
    write : callable
        Writes the files into the (temporary) folder it is given.
    force : bool
        Replace an existing ``target``; it is removed only once the new one is complete.

    Raises
    ------
    RunExistsError
        ``target`` exists and ``force`` is false.
    """
    target = Path(target)
    if target.exists() and not force:
        raise RunExistsError(
            f"{target} already exists; covgap never overwrites a run: pass --force to "
            "replace it, or --out to write elsewhere")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    with _staging(target) as tmp:
        write(tmp)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _remove_stale(target: Path) -> None:
    """Remove the staging folders of runs that were killed while writing ``target``.

    They are hidden (``.<name>.partial-<pid>-...``, ``.<name>.old-<pid>``) and never a
    run directory; a folder whose process still runs is left alone.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(?:partial|old)-(\d+)")
    for sibling in target.parent.iterdir():
        m = pattern.match(sibling.name)
        if m and sibling.is_dir() and not _alive(int(m.group(1))):
            log.warning("removing %s, left by a run that was stopped while writing", sibling)
            shutil.rmtree(sibling, ignore_errors=True)


@contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """Yield a hidden temporary directory beside ``target``, removed unless moved into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-{os.getpid()}-",
                                dir=target.parent))
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _stage(result: Result, name: str, progress: Progress | None) -> Iterator[None]:
    """Time a stage, record it as run, and tell the progress callback."""
    if progress:
        progress(name, 0, None)
    t0 = time.perf_counter()
    yield
    result.timings[name] = time.perf_counter() - t0
    result.stages_run.append(name)
    log.info("%s in %.1f s", name, result.timings[name])
    if progress:
        progress(name, 1, 1)


def run(
    config: Config | str | Path | Mapping[str, Any],
    *,
    progress: Progress | None = None,
    only: str | None = None,
    reuse_coverage: bool = True,
) -> Result:
    """Run every available stage on a configuration.

    Parameters
    ----------
    config : Config, path or dict
        A TOML file, a dict of the same structure, or a loaded :class:`Config`.
    progress : callable, optional
        ``progress(stage, done, total)`` as stages start, advance and finish.
    only : {"inputs", "coverage"}, optional
        Stop after this stage (to iterate on the data or the coverage settings).
    reuse_coverage : bool
        Load the coverage rasters of an earlier run when covgap's version, the
        ``[coverage]`` settings and the input files are unchanged (see
        :mod:`covgap.coverage.cache`); False recomputes them.

    Returns
    -------
    Result
        Call :meth:`Result.write` to write the run directory.

    Raises
    ------
    InputError
        Bad configuration or input data, with every problem listed.

    Examples
    --------
    >>> result = run("data/sample.toml")  # doctest: +SKIP
    >>> result.write("out/tinh-mau/2025")  # doctest: +SKIP
    """
    cfg = load_config(config)
    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if progress:
        progress("inputs", 0, None)
    inputs = read_inputs(cfg)
    result = Result(config=cfg, inputs=inputs, started=started, timings=timings)
    timings["inputs"] = time.perf_counter() - t0
    result.stages_run.append("inputs")
    if progress:
        progress("inputs", 1, 1)
    if only not in (None, *ONLY):
        raise ValueError(f"only={only!r}; valid values: {', '.join(map(repr, ONLY))}")
    if only == "inputs":
        return result
    key = coverage_key(cfg, inputs.hashes, inputs.metric_crs.to_string())
    with _stage(result, "coverage", progress):
        result.coverage = compute_coverage(
            inputs, cfg, progress=(lambda _s, done, total: progress("coverage", done, total))
            if progress else None, cache=cache_path(cfg, key) if reuse_coverage else None)
    result.coverage.parameters["cache_key"] = key
    if only == "coverage":
        return result
    with _stage(result, "villages", progress):
        result.analysis = analyse(inputs, result.coverage, cfg)
    result.stages_run.append("indicators")  # computed with the villages
    with _stage(result, "candidates", progress):
        result.plan = plan(inputs, result.coverage, result.analysis, cfg)
    return result
