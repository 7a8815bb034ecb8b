"""The run: stages in order and their timings, nothing else.

Stages (SPEC.md): read and validate inputs -> coverage -> village analysis ->
indicators -> candidates -> exports.  Each stage is a function of the stages to its
left; :func:`run` calls those that exist, times them and returns a
:class:`~covgap.result.Result`, which :func:`covgap.export.rundir.write_run` writes.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from covgap.analysis import analyse
from covgap.config import Config, load_config
from covgap.coverage import compute_coverage
from covgap.coverage.cache import cache_path, coverage_key
from covgap.io import read_inputs
from covgap.planning import plan
from covgap.progress import Progress
from covgap.result import STAGES, Result, RunExistsError

# Result, RunExistsError and STAGES live in covgap.result; they are named here too
# because code written before it exists imports them from covgap.pipeline.
__all__ = ["ONLY", "STAGES", "Result", "RunExistsError", "run"]

log = logging.getLogger(__name__)

#: Stages a run can stop after (``covgap run --only``).
ONLY: tuple[str, ...] = ("inputs", "coverage")

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
    if only not in (None, *ONLY):
        raise ValueError(f"only={only!r}; valid values: {', '.join(map(repr, ONLY))}")
    cfg = load_config(config)
    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if progress:
        progress("inputs", 0, None)
    inputs = read_inputs(cfg, progress=progress)
    result = Result(config=cfg, inputs=inputs, started=started, timings=timings)
    timings["inputs"] = time.perf_counter() - t0
    result.stages_run.append("inputs")
    if progress:
        progress("inputs", 1, 1)
    if only == "inputs":
        return result
    key = coverage_key(cfg, inputs.hashes, inputs.metric_crs.to_string())
    with _stage(result, "coverage", progress):
        result.coverage = compute_coverage(
            inputs, cfg, progress=progress,
            cache=cache_path(cfg, key) if reuse_coverage else None)
    result.coverage.parameters["cache_key"] = key
    if only == "coverage":
        return result
    with _stage(result, "villages", progress):
        result.analysis = analyse(inputs, result.coverage, cfg)
    result.stages_run.append("indicators")  # computed with the villages
    with _stage(result, "candidates", progress):
        result.plan = plan(inputs, result.coverage, result.analysis, cfg)
    return result
