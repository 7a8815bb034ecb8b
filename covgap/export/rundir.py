"""The one writer of run directories: every file of a run, written atomically.

A run directory (SPEC.md) holds the tables (``villages.csv``, ``communes.csv``,
``indicators.csv``, ``gaps.csv``, ``gaps_<operator>.csv``, ``candidates.csv``), the
coverage GeoTIFFs, ``results.gpkg``, ``report.xlsx``, ``plots/``, ``map.html`` (and
``maps/`` for a large run) and ``manifest.json``, the run record, written last so it
holds the exports' timing too.

:func:`write_atomic` stages the files in a hidden folder beside the target and moves it
into place only when complete, so a run directory appears whole or not at all, and
``--force`` removes the old one only once the new one is complete.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from covgap.errors import CovgapWarning
from covgap.export.csv import write_csv
from covgap.export.excel import write_report
from covgap.export.gpkg import write_geopackage
from covgap.export.map import write_maps
from covgap.export.names import operator_part
from covgap.export.plots import write_plots
from covgap.result import Result, RunExistsError

__all__ = ["gap_file_name", "operator_gaps", "write_atomic", "write_run", "write_tables"]

log = logging.getLogger(__name__)


def write_run(result: Result, directory: str | Path | None = None, *,
              force: bool = False) -> Path:
    """Write a run's directory atomically: every output, then the manifest.

    Parameters
    ----------
    result : Result
        A run (:func:`covgap.run`).  Its ``timings`` and ``stages_run`` gain the
        exports, and the map's warnings join ``result.warnings``.
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

    Examples
    --------
    >>> write_run(covgap.run("data/sample.toml"), "out/tinh-mau/2025")  # doctest: +SKIP
    PosixPath('out/tinh-mau/2025')
    """
    target = Path(directory) if directory is not None else result.config.run_dir()

    def write(folder: Path) -> None:
        t0 = time.perf_counter()
        if result.coverage is not None:
            result.coverage.write_geotiffs(folder)
        if result.analysis is not None:
            write_tables(result, folder)
            write_geopackage(result, folder / "results.gpkg")
            write_report(result, folder / "report.xlsx")
            write_plots(result, folder / "plots")
            _write_maps(result, folder)
            result.timings["exports"] = time.perf_counter() - t0
            if "exports" not in result.stages_run:
                result.stages_run.append("exports")
        # the run record goes last, so it holds the exports' timing too
        (folder / "manifest.json").write_text(
            json.dumps(result.manifest(), indent=2, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8")

    write_atomic(target, write, force=force)
    return target


def write_tables(result: Result, folder: Path) -> None:
    """Write the CSV tables of a run with its analysis into ``folder``.

    ``villages.csv``, ``communes.csv``, ``indicators.csv``, ``gaps.csv``,
    ``candidates.csv`` (when the run has a plan), ``places.csv`` (when it has a places
    layer), ``disputes.csv`` and ``speeds.csv`` (when it has measurements),
    ``calibration.csv`` (measurements and a signal model) and one ``gaps_<operator>.csv`` per
    operator of the sites or the fibre (:func:`operator_gaps`), with the headers of
    ``[output] headers``.

    Raises
    ------
    ValueError
        The run has no village analysis.
    """
    a = result.analysis
    gaps = result.gaps
    if a is None or gaps is None:
        raise ValueError("the run has no village analysis: run every stage (covgap.run) "
                         "before writing its tables")
    lang = result.config.output.headers
    write_csv(a.villages, folder / "villages.csv", headers=lang)
    write_csv(a.communes, folder / "communes.csv", headers=lang)
    write_csv(a.indicators, folder / "indicators.csv", headers=lang)
    write_csv(gaps, folder / "gaps.csv", headers=lang)
    if result.plan is not None:
        write_csv(result.plan.candidates, folder / "candidates.csv", headers=lang)
    if a.places is not None:
        write_csv(a.places, folder / "places.csv", headers=lang)
    if a.disputes is not None:
        write_csv(a.disputes, folder / "disputes.csv", headers=lang)
    if a.speeds is not None:
        write_csv(a.speeds, folder / "speeds.csv", headers=lang)
    if result.coverage is not None and result.coverage.calibration is not None:
        write_csv(result.coverage.calibration, folder / "calibration.csv", headers=lang)
    operators = sorted(set(result.inputs.sites["operator"]))
    if result.inputs.fibre is not None:
        operators = sorted(set(operators) | set(result.inputs.fibre["operator"]))
    for op in operators:
        write_csv(operator_gaps(gaps, op), folder / gap_file_name(op), headers=lang)


def operator_gaps(gaps: pd.DataFrame, operator: str) -> pd.DataFrame:
    """Return the gaps an operator can close: ``gaps_<operator>.csv``.

    A gap is the operator's when it is the village's best operator (its signal is the
    strongest nearby), or when the operator's fibre is the nearest and the gap is not
    mobile only.

    Parameters
    ----------
    gaps : DataFrame
        The gap table (:attr:`covgap.result.Result.gaps`).
    operator : str

    Returns
    -------
    DataFrame
        The operator's rows of ``gaps``, in its order.
    """
    mine = (gaps["best_operator"] == operator).fillna(False) | (
        (gaps["fibre_operator"] == operator).fillna(False) & (gaps["gap"] != "mobile"))
    return gaps[mine.to_numpy()]


def gap_file_name(operator: str) -> str:
    """Return the name of an operator's gap file.

    Examples
    --------
    >>> gap_file_name("MobiFone")
    'gaps_MobiFone.csv'
    """
    return f"gaps_{operator_part(operator)}.csv"


def _write_maps(result: Result, folder: Path) -> None:
    """Write ``map.html`` (and ``maps/`` for a large run); keep its warnings for the record."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_maps(result, folder, max_villages=result.config.output.map_max_villages)
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, CovgapWarning) and text not in result.inputs.warnings:
            result.inputs.warnings.append(text)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


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

    Examples
    --------
    >>> write_atomic(Path("out/x"), lambda d: (d / "a.txt").write_text("a"))  # doctest: +SKIP
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
