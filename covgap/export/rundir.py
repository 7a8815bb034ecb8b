"""The one writer of run directories: every file of a run, written atomically.

A run directory (SPEC.md) holds the tables (``villages.csv``, ``communes.csv``,
``indicators.csv``, ``gaps.csv``, ``gaps_<operator>.csv``, ``candidates.csv``), the
coverage GeoTIFFs, ``results.gpkg``, ``report.xlsx``, ``plots/``, ``map.html`` (and
``maps/`` for a large run) and ``manifest.json``, the run record, written last so it
holds the exports' timing too.

The protocol of :func:`write_atomic` (SPEC.md, "Run directory"):

1. **Check** (:func:`check_writable`, also called by the command line before any
   computing): a NUL byte in the path, a parent that is a file, or a folder that cannot
   be written (read-only, no permission, full disk: a hidden probe folder is created
   and removed) is an :class:`~covgap.errors.OutputError` naming the path.  An existing
   target is a :class:`~covgap.result.RunExistsError`; with ``force`` it is replaced
   only when it is a run directory (:func:`is_run_directory`: a ``manifest.json``, or a
   diff's ``diff.json``, that parses as a JSON object with ``covgap_version``).  A file,
   a symbolic link or any other folder is refused, even with ``force``, and touched not.
2. **Recover** what killed writers left beside the target: a ``.<name>.old-<pid>``
   (a previous run set aside by a ``--force`` that was killed before the new run was
   in place) whose process is dead is moved back to the target when the target is
   missing, and removed when the target exists; a dead writer's staging folder
   ``.<name>.partial-<pid>-<token>`` is removed.  A live process's folders are left.
3. **Stage**: the files are written into ``.<name>.partial-<pid>-<token>`` beside the
   target, created with :func:`os.mkdir` so its mode follows the umask (0755 under the
   usual 022) like any folder the user creates.  An ``OSError`` while writing
   (ENOSPC, EACCES, EROFS ...) becomes an :class:`~covgap.errors.OutputError`, and so
   does any writer's error when less than 1 MiB is left on the disk (GDAL and SQLite
   report a full disk as their own errors); the staging folder is removed and the
   target is untouched.
4. **Move**, without ``force`` or when the target is missing: one rename that fails if
   the target exists, so the check and the move are one atomic step and of two runs
   writing one directory at once exactly one wins; the other gets ``RunExistsError``
   and removes its staging folder.  On Linux this is ``renameat2(RENAME_NOREPLACE)``;
   elsewhere (or on a file system without it) :func:`os.rename`, which on POSIX fails
   onto a non-empty directory and on Windows onto any, and a staged run is never
   empty (it always holds its record), so a run in place is never replaced.
5. **Replace**, with ``force`` and a run directory in place: on Linux one
   ``renameat2(RENAME_EXCHANGE)`` swaps the new run and the old one atomically (the old
   one is then in the staging folder, which is removed).  Elsewhere the old run is
   renamed to ``.<name>.old-<pid>``, the new one is renamed into place and the old one
   removed; a kill between the two renames leaves the old run aside, and step 2 of the
   next write puts it back.  Either way the previous run survives any kill.

Test hook: when the environment variable ``COVGAP_TEST_PAUSE_AT`` names a point
(``staged``: files written, nothing moved; ``between-renames``: the old run set aside,
the new one not yet in place, which selects the two-rename path; ``replaced``: the new
run in place, the old one not yet removed), the writer prints
``covgap-test: paused at <point>`` to stderr and waits for SIGUSR1 (or its SIGKILL).
The kill and concurrency tests (tests/test_rundir.py) use it; nothing else does.
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import math
import os
import re
import secrets
import shutil
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from covgap.errors import CovgapWarning, OutputError
from covgap.export.csv import CsvFields, write_csv
from covgap.export.documents import write_documents
from covgap.export.excel import write_lists, write_report
from covgap.export.fork import Caught, Child, can_fork, caught_warnings
from covgap.export.gpkg import write_geopackage
from covgap.export.lists import all_gaps, gap_operators, operator_gaps
from covgap.export.map import write_maps
from covgap.export.names import operator_part
from covgap.export.plots import write_plots
from covgap.progress import Progress, ticker
from covgap.result import Result, RunExistsError

__all__ = ["RECORD_FILES", "check_writable", "gap_file_name", "is_run_directory",
           "manifest_json", "operator_gaps", "write_atomic", "write_run", "write_tables"]

log = logging.getLogger(__name__)

#: The record files that make a folder covgap's: a run's ``manifest.json``, a diff's
#: ``diff.json``.  ``--force`` replaces a folder only when one of them is covgap's.
RECORD_FILES: tuple[str, ...] = ("manifest.json", "diff.json")

#: The environment variable of the test hook (module docstring).
PAUSE_ENV = "COVGAP_TEST_PAUSE_AT"


def write_run(result: Result, directory: str | Path | None = None, *,
              force: bool = False, parallel: bool | None = None,
              progress: Progress | None = None) -> Path:
    """Write a run's directory atomically: every output, then the manifest.

    Parameters
    ----------
    result : Result
        A run (:func:`covgap.run`).  Its ``timings`` and ``stages_run`` gain the
        exports, and the map's warnings join ``result.warnings``.
    directory : str or Path, optional
        Default: ``<output.dir>/<run.name>/<run.year>`` of the configuration.
    force : bool
        Replace an existing run directory (one with covgap's ``manifest.json``).
        Without it an existing directory is an error and is left untouched; a folder
        or file that is not a run directory is refused even with it.
    parallel : bool, optional
        Write the maps in a child process (:func:`os.fork`), and the documents
        (``appendix.docx``, ``figures/``) in another once the GeoPackage they read is
        written (it shares the commune maps with a child of its own), while this one
        writes the tables, the GeoPackage, the workbooks and the charts.  Default: where
        the system can fork, has more than one core, and this process runs no other
        Python thread (:func:`covgap.export.fork.can_fork`).  The writers are mostly
        pure Python, so threads would take turns on the interpreter; processes run side
        by side.  An error in a child is raised here as if its writer had run here (an
        :class:`OSError` becomes :class:`~covgap.errors.OutputError`), and nothing is
        written.
    progress : Progress, optional
        Called as ``progress("exports", done, total)`` as each output is written (the
        GeoTIFFs, the CSVs, the GeoPackage, the workbooks, the charts, the documents,
        the maps; a child's when it has finished).  It must start no thread, or the
        writers cannot fork (the command line's display refreshes only when called).

    Returns
    -------
    Path
        The run directory.

    Raises
    ------
    RunExistsError
        The directory exists and ``force`` is false, or it is not a run directory.
    OutputError
        The directory cannot be written (read-only, no permission, disk full, a NUL
        byte in its name); nothing was written.

    Examples
    --------
    >>> write_run(covgap.run("data/sample.toml"), "out/tinh-mau/2025")  # doctest: +SKIP
    PosixPath('out/tinh-mau/2025')
    """
    target = Path(directory) if directory is not None else result.config.run_dir()

    tick = ticker(progress, "exports")
    steps = ((result.coverage is not None)
             + (len(_ANALYSIS_OUTPUTS) if result.analysis is not None else 0))

    def write(folder: Path) -> None:
        t0 = time.perf_counter()
        written = 0

        def done() -> None:  # one more output written
            nonlocal written
            written += 1
            if tick is not None:
                tick(written, steps)

        if tick is not None:
            tick(0, steps)
        if result.coverage is not None:
            result.coverage.write_geotiffs(folder)
            done()
        if result.analysis is not None:
            fork = can_fork() if parallel is None else parallel
            children: list[Child] = []
            try:
                if fork:
                    # the radius model's unions, built once before the fork: the
                    # GeoPackage here and the maps there both read them.  The CSVs need
                    # none: they are written meanwhile (GEOS releases the interpreter,
                    # and building the footprints leaves a core free).  The thread ends
                    # before the fork.
                    _with_areas(result, lambda: write_tables(result, folder))
                    children.append(Child("map writer", lambda: caught_warnings(
                        lambda: _write_maps(result, folder))))
                else:
                    write_tables(result, folder)
                done()
                write_geopackage(result, folder / "results.gpkg")
                done()
                # the documents read the GeoPackage and indicators.csv, both written now
                if fork:
                    children.append(Child("document writer", lambda: caught_warnings(
                        lambda: _write_documents(result, folder, parallel=True))))
                else:
                    _keep_warnings(result, caught_warnings(
                        lambda: _write_documents(result, folder, parallel=False)))
                    done()
                write_report(result, folder / "report.xlsx")
                done()
                write_lists(result, folder / "lists.xlsx", operators=gap_operators(result))
                done()
                write_plots(result, folder / "plots")
                done()
                if not fork:
                    _keep_warnings(result, caught_warnings(lambda: _write_maps(result, folder)))
                    done()
                for child in children:
                    _keep_warnings(result, child.finish())
                    done()
            except BaseException:
                for child in children:
                    child.stop()  # before the staging folder goes
                raise
            result.timings["exports"] = time.perf_counter() - t0
            if "exports" not in result.stages_run:
                result.stages_run.append("exports")
        # the run record goes last, so it holds the exports' timing too
        (folder / "manifest.json").write_text(manifest_json(result.manifest()),
                                              encoding="utf-8")

    write_atomic(target, write, force=force, record=("manifest.json",))
    return target


#: What write_run writes from the analysis, one progress step each: the CSVs, the
#: GeoPackage, the documents, report.xlsx, lists.xlsx, the charts and the maps.
_ANALYSIS_OUTPUTS = ("tables", "geopackage", "documents", "report", "lists", "plots", "maps")


def _with_areas(result: Result, work: Callable[[], object]) -> None:
    """Run ``work`` while another thread builds ``result.coverage.areas``; wait for both.

    Only where the areas come from footprints (the radius model; once built, reading
    them again is a lookup); otherwise ``work`` alone.  An error of either is raised
    here, after both finished.
    """
    coverage = result.coverage
    if coverage is None or coverage.footprints is None:  # areas given, or raster
        work()
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="covgap-areas") as pool:
        areas = pool.submit(lambda: coverage.areas)
        try:
            work()
        finally:
            areas.exception()  # wait: nothing may run beside a fork
    areas.result()


def _finite(value: Any) -> Any:
    """Return ``value`` with every NaN or infinite number, at any depth, as None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return None
    return value


def manifest_json(record: dict[str, Any]) -> str:
    r"""Return a run record as strict JSON text: NaN and infinities are ``null``.

    Python's :mod:`json` writes ``NaN`` and ``Infinity`` by default, which strict
    parsers (JavaScript's ``JSON.parse``, jq, R's jsonlite) refuse.  Values JSON has no
    type for are written as text.

    Examples
    --------
    >>> manifest_json({"share": float("nan"), "radius_m": [5000.0, float("inf")]})
    '{\n  "share": null,\n  "radius_m": [\n    5000.0,\n    null\n  ]\n}\n'
    """
    return json.dumps(_finite(record), indent=2, ensure_ascii=False, default=str,
                      allow_nan=False) + "\n"


def write_tables(result: Result, folder: Path) -> None:
    """Write the CSV tables of a run with its analysis into ``folder``.

    ``villages.csv``, ``communes.csv``, ``indicators.csv``, ``gaps.csv``,
    ``candidates.csv`` (when the run has a plan), ``places.csv`` (when it has a places
    layer), ``disputes.csv`` and ``speeds.csv`` (when it has measurements),
    ``calibration.csv`` (measurements and a signal model), ``gaps_all.csv`` and one
    ``gaps_<operator>.csv`` per operator of the sites or the fibre (:func:`operator_gaps`),
    in the language of ``[output] language``.

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
    lang = result.config.output.language
    write_csv(a.villages, folder / "villages.csv", language=lang)
    write_csv(a.communes, folder / "communes.csv", language=lang)
    write_csv(a.indicators, folder / "indicators.csv", language=lang)
    # gaps.csv, gaps_all.csv and the operators' files share the gap rows: their columns
    # are formatted once
    gap_fields = CsvFields(gaps, lang)
    write_csv(gaps, folder / "gaps.csv", language=lang, like=gap_fields)
    if result.plan is not None:
        write_csv(result.plan.candidates, folder / "candidates.csv", language=lang)
    if a.places is not None:
        write_csv(a.places, folder / "places.csv", language=lang)
    if a.disputes is not None:
        write_csv(a.disputes, folder / "disputes.csv", language=lang)
    if a.speeds is not None:
        write_csv(a.speeds, folder / "speeds.csv", language=lang)
    if result.coverage is not None and result.coverage.calibration is not None:
        write_csv(result.coverage.calibration, folder / "calibration.csv", language=lang)
    write_csv(all_gaps(gaps), folder / "gaps_all.csv", language=lang, like=gap_fields)
    for op in gap_operators(result):
        write_csv(operator_gaps(gaps, op), folder / gap_file_name(op), language=lang,
                  like=gap_fields)


def gap_file_name(operator: str) -> str:
    """Return the name of an operator's gap file.

    Examples
    --------
    >>> gap_file_name("MobiFone")
    'gaps_MobiFone.csv'
    """
    return f"gaps_{operator_part(operator)}.csv"


def _write_maps(result: Result, folder: Path) -> None:
    """Write ``map.html`` (and ``maps/`` for a large run)."""
    write_maps(result, folder, max_villages=result.config.output.map_max_villages)


def _write_documents(result: Result, folder: Path, *, parallel: bool) -> None:
    """Write ``appendix.docx`` and ``figures/``; two processes draw when ``parallel``."""
    write_documents(folder, language=result.config.output.language, record=result.manifest(),
                    parallel=parallel)


def _keep_warnings(result: Result, caught: list[Caught]) -> None:
    """Add a writer's covgap warnings to the run's, and warn them here."""
    for message, category, filename, lineno in caught:
        text = str(message)
        if issubclass(category, CovgapWarning) and text not in result.inputs.warnings:
            result.inputs.warnings.append(text)
        warnings.warn_explicit(message, category, filename, lineno)


# --- the protocol (module docstring) -------------------------------------------------

def is_run_directory(path: str | Path, record: Iterable[str] = RECORD_FILES) -> bool:
    """Return whether ``path`` is a folder covgap wrote, which ``--force`` may replace.

    It is when it is a directory (not a symbolic link) holding one of the ``record``
    files that parses as a JSON object with a ``covgap_version`` key.

    Parameters
    ----------
    path : str or Path
    record : iterable of str
        The record file names to look for (default :data:`RECORD_FILES`).

    Examples
    --------
    >>> is_run_directory(Path.home())  # doctest: +SKIP
    False
    """
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        return False
    for name in record:
        try:
            data = json.loads((path / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("covgap_version"), str):
            return True
    return False


def _output_error(target: Path, exc: OSError) -> OutputError:
    """Return the error for an OS error while writing ``target``, naming the path."""
    number = exc.errno
    reason = exc.strerror or str(exc)
    hint = {errno.ENOSPC: "free some space, or write elsewhere with --out",
            errno.EDQUOT: "free some space, or write elsewhere with --out",
            errno.EROFS: "the file system is read-only: write elsewhere with --out",
            errno.EACCES: "you may not write there: write elsewhere with --out",
            errno.EPERM: "you may not write there: write elsewhere with --out",
            }.get(number or 0, "write elsewhere with --out")
    code = f" [{errno.errorcode[number]}]" if number in errno.errorcode else ""
    where = f"cannot write {target}"
    if exc.filename and Path(str(exc.filename)) != target and not Path(
            str(exc.filename)).name.startswith(".covgap-probe-"):
        where += f" ({Path(str(exc.filename)).name})"
    return OutputError(f"{where}: {reason}{code}; nothing was written; {hint}",
                       path=target, strerror=reason, errno=number)


def check_writable(target: str | Path, *, force: bool = False,
                   record: Iterable[str] = RECORD_FILES) -> Path:
    """Check, before any computing, that a run directory can be written at ``target``.

    First puts back a run that a killed ``--force`` left aside (module docstring,
    step 2).  Creates nothing: the nearest existing folder is probed with a hidden
    folder that is removed at once.

    Parameters
    ----------
    target : str or Path
        The run directory to write.
    force : bool
        An existing ``target`` may be replaced if it is a run directory.
    record : iterable of str
        The record files that make a folder replaceable (:func:`is_run_directory`).

    Returns
    -------
    Path
        ``target``.

    Raises
    ------
    RunExistsError
        ``target`` exists and ``force`` is false, or it is not a run directory.
    OutputError
        ``target`` has a NUL byte, a parent is a file, or the folder cannot be written
        (read-only, no permission, disk full); the message names the path.

    Examples
    --------
    >>> check_writable("out/tinh-mau/2025")  # doctest: +SKIP
    PosixPath('out/tinh-mau/2025')
    """
    target = Path(target)
    if "\0" in str(target):
        raise OutputError(f"cannot write {str(target)!r}: a folder name cannot hold a NUL "
                          "byte (\\0); check --out or [output] dir", path=target)
    record = tuple(record)
    try:
        _recover(target)
    except OSError as exc:
        raise _output_error(target, exc) from None
    if os.path.lexists(target):
        _check_replaceable(target, force=force, record=record)
        return target
    existing = target.parent
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"cannot write {target}: {existing} is a file, not a folder",
                          path=target, strerror="Not a directory", errno=errno.ENOTDIR)
    probe = existing / f".covgap-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as exc:
        raise _output_error(target, exc) from None
    return target


def _check_replaceable(target: Path, *, force: bool, record: tuple[str, ...]) -> None:
    """Raise unless ``force`` is given and ``target`` is a run directory."""
    names = " or ".join(record)
    if target.is_symlink() or not target.is_dir():
        what = "a symbolic link" if target.is_symlink() else "a file"
        raise RunExistsError(
            f"{target} already exists and is {what}, not a covgap run directory; "
            "covgap never replaces it, even with --force: write elsewhere with --out")
    if not is_run_directory(target, record):
        raise RunExistsError(
            f"{target} already exists and is not a covgap run directory (it has no "
            f"covgap {names}); covgap never replaces it, even with --force: write "
            "elsewhere with --out")
    if not force:
        raise RunExistsError(
            f"{target} already exists; covgap never overwrites a run: pass --force to "
            "replace it, or --out to write elsewhere")


def write_atomic(target: Path, write: Callable[[Path], object], *,
                 force: bool = False, record: Iterable[str] = RECORD_FILES) -> None:
    """Write a directory so it appears complete or not at all (module docstring).

    Parameters
    ----------
    target : Path
        The directory to create.
    write : callable
        Writes the files into the (temporary) folder it is given; it must write the
        record file (``manifest.json``), so a staged directory is never empty.
    force : bool
        Replace an existing ``target`` if it is a run directory; the old one is removed
        only once the new one is in place.
    record : iterable of str
        The record files that make an existing folder replaceable (:func:`is_run_directory`).

    Raises
    ------
    RunExistsError
        ``target`` exists and ``force`` is false (also when another writer put it in
        place meanwhile), or it is not a run directory.
    OutputError
        An OS error while writing or moving (ENOSPC, EACCES, EROFS ...), naming the path.

    Examples
    --------
    >>> def write(folder):
    ...     (folder / "manifest.json").write_text('{"covgap_version": "1.0"}')
    >>> write_atomic(Path("out/x"), write)  # doctest: +SKIP
    """
    target = Path(target)
    record = tuple(record)
    check_writable(target, force=force, record=record)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _make_staging(target)
    except OSError as exc:
        raise _output_error(target, exc) from None
    try:
        try:
            write(tmp)
        except OSError as exc:
            raise _output_error(target, exc) from exc  # COVGAP_DEBUG shows the writer
        except Exception as exc:
            # GDAL/SQLite report a full disk as their own errors (pyogrio's FeatureError)
            if _free_bytes(tmp) < _FULL_BYTES:
                full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                raise _output_error(target, full) from exc
            raise
        _pause("staged")
        try:
            if force and os.path.lexists(target):
                _check_replaceable(target, force=True, record=record)  # again, just before
                _replace(tmp, target)
            else:
                try:
                    _move_new(tmp, target)
                except RunExistsError:
                    if not force:
                        raise
                    # another forced run put its run in place meanwhile: the last one wins
                    _check_replaceable(target, force=True, record=record)
                    _replace(tmp, target)
        except OSError as exc:
            raise _output_error(target, exc) from None
    finally:
        if os.path.lexists(tmp):  # a failed write, or the old run after an exchange
            shutil.rmtree(tmp, ignore_errors=True)


def _exists_error(target: Path) -> RunExistsError:
    return RunExistsError(
        f"{target} already exists (another covgap run put it there while this one was "
        "computing); covgap never overwrites a run: pass --force to replace it, or --out "
        "to write elsewhere")


def _move_new(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``; fail with RunExistsError if ``target`` exists."""
    try:
        if _renameat2(tmp, target, _RENAME_NOREPLACE):
            return
        if not any(tmp.iterdir()):  # os.rename would let the next writer replace it
            raise OSError(errno.EINVAL, "nothing was staged", str(tmp))
        os.rename(tmp, target)  # POSIX: fails onto a non-empty directory
    except (FileExistsError, IsADirectoryError, NotADirectoryError) as exc:
        raise _exists_error(target) from exc
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise _exists_error(target) from exc
        raise


def _replace(tmp: Path, target: Path) -> None:
    """Put the run ``tmp`` in place of the run ``target``; the old run survives any kill."""
    if os.environ.get(PAUSE_ENV) != "between-renames" and _renameat2(
            tmp, target, _RENAME_EXCHANGE):
        _pause("replaced")
        return  # the old run is now at ``tmp``: write_atomic removes it
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, old)
    _pause("between-renames")
    try:
        _move_new(tmp, target)
    except BaseException:
        if not os.path.lexists(target):
            os.rename(old, target)
        raise
    _pause("replaced")
    shutil.rmtree(old, ignore_errors=True)


def _make_staging(target: Path) -> Path:
    """Create the hidden staging folder beside ``target``, its mode from the umask."""
    while True:
        tmp = target.with_name(
            f".{target.name}.partial-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            os.mkdir(tmp)  # not mkdtemp: that makes it 0700, unreadable for colleagues
        except FileExistsError:
            continue
        return tmp


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _recover(target: Path) -> None:
    """Put back a run set aside by a killed ``--force``; remove dead writers' folders.

    ``.<name>.old-<pid>`` of a dead process: moved back to ``target`` when ``target`` is
    missing, else removed.  ``.<name>.partial-<pid>-<token>`` of a dead process: removed.
    A live process's folders are left alone.
    """
    parent = target.parent
    if not parent.is_dir():
        return
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(partial|old)-(\d+)(?:-|$)")
    leftovers = []
    for sibling in parent.iterdir():
        m = pattern.match(sibling.name)
        if m and sibling.is_dir() and not sibling.is_symlink() and not _alive(int(m[2])):
            leftovers.append((m[1], sibling))
    # set-aside runs first, newest first: the newest is the run the user last had
    olds = sorted((p for kind, p in leftovers if kind == "old"), key=_mtime, reverse=True)
    for old in olds:
        if not os.path.lexists(target):
            try:
                _move_new(old, target)
            except (RunExistsError, FileNotFoundError):
                continue  # another process restored or wrote it meanwhile
            log.warning("restored %s from %s: a covgap run was stopped while replacing it",
                        target, old.name)
            warnings.warn(f"{target} was restored: a covgap run was stopped while "
                          "replacing it, and its previous run was put back",
                          CovgapWarning, stacklevel=3)
        else:
            log.warning("removing %s, left by a run that was stopped while replacing %s",
                        old, target)
            shutil.rmtree(old, ignore_errors=True)
    for kind, sibling in leftovers:
        if kind == "partial":
            log.warning("removing %s, left by a run that was stopped while writing", sibling)
            shutil.rmtree(sibling, ignore_errors=True)


#: A disk with less free space than this (bytes) when a writer fails was full: the
#: writer's error is reported as ENOSPC, whatever library raised it.
_FULL_BYTES = 1 << 20


def _free_bytes(folder: Path) -> float:
    """Return the bytes the user may still write on ``folder``'s file system (inf if unknown)."""
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs on Windows
        return math.inf
    blocks = st.f_bfree if hasattr(os, "geteuid") and os.geteuid() == 0 else st.f_bavail
    return float(blocks * st.f_frsize)


def _mtime(path: Path) -> float:
    """Return when ``path`` was modified (seconds); 0 when another process removed it."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _pause(point: str) -> None:
    """Wait (the test hook, module docstring) at ``point`` for SIGUSR1 when asked."""
    if os.environ.get(PAUSE_ENV) != point or not hasattr(signal, "SIGUSR1"):
        return
    released: list[int] = []  # a handler, not sigwait: any thread may receive the signal
    signal.signal(signal.SIGUSR1, lambda signum, frame: released.append(signum))
    sys.stderr.write(f"covgap-test: paused at {point}\n")
    sys.stderr.flush()
    while not released:
        time.sleep(0.01)


_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_renameat2_fn: Any = None


def _renameat2(src: Path, dst: Path, flags: int) -> bool:
    """Linux ``renameat2(2)``; False when this system or file system lacks it.

    Raises
    ------
    OSError
        Its error otherwise (EEXIST for RENAME_NOREPLACE onto an existing target).
    """
    global _renameat2_fn
    if not sys.platform.startswith("linux"):
        return False
    if _renameat2_fn is None:
        fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", False)
        if fn:
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
            fn.restype = ctypes.c_int
        _renameat2_fn = fn
    if not _renameat2_fn:
        return False
    if _renameat2_fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    number = ctypes.get_errno()
    if number in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False  # e.g. a file system without the flag: fall back
    raise OSError(number, os.strerror(number), str(src), None, str(dst))
