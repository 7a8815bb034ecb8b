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
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from covgap._version import __version__
from covgap.config import Config, load_config
from covgap.errors import CovgapError
from covgap.io import Inputs, read_inputs

__all__ = ["STAGES", "Result", "RunExistsError", "run", "write_atomic"]

log = logging.getLogger(__name__)

#: The stages of a run, in order.  Stages later issues build are listed so the
#: manifest says plainly which ones this version ran.
STAGES: tuple[str, ...] = (
    "inputs", "coverage", "villages", "indicators", "candidates", "exports")

#: Progress callback: ``progress(stage, message)``.
Progress = Callable[[str, str], None]


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
    timings : dict
        Seconds spent in each stage that ran.
    stages_run : list of str
        The stages this version of covgap ran, in order.
    """

    config: Config
    inputs: Inputs
    timings: dict[str, float] = field(default_factory=dict)
    stages_run: list[str] = field(default_factory=list)
    started: str = ""

    @property
    def villages(self) -> gpd.GeoDataFrame:
        """The villages (EPSG:4326), with the columns the stages that ran added."""
        return self.inputs.villages

    @property
    def communes(self) -> gpd.GeoDataFrame:
        """The communes (EPSG:4326)."""
        return self.inputs.communes

    @property
    def sites(self) -> gpd.GeoDataFrame:
        """The BTS cells (EPSG:4326)."""
        return self.inputs.sites

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
        files = {"manifest.json": lambda p: p.write_text(
            json.dumps(self.manifest(), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8")}
        write_atomic(target, files, force=force)
        return target


def write_atomic(target: Path, files: Mapping[str, Callable[[Path], object]], *,
                 force: bool = False) -> None:
    """Write files into ``target`` so it appears complete or not at all.

    Parameters
    ----------
    target : Path
        The directory to create.
    files : mapping
        File name -> function writing that file given its full path.
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
    with _staging(target) as tmp:
        for name, writer in files.items():
            writer(tmp / name)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """Yield a hidden temporary directory beside ``target``, removed unless moved into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def run(
    config: Config | str | Path | Mapping[str, Any],
    *,
    progress: Progress | None = None,
) -> Result:
    """Run every available stage on a configuration.

    Parameters
    ----------
    config : Config, path or dict
        A TOML file, a dict of the same structure, or a loaded :class:`Config`.
    progress : callable, optional
        ``progress(stage, message)`` called as stages start and finish.

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
    t0 = time.perf_counter()
    inputs = read_inputs(cfg, progress=(lambda layer: progress("inputs", layer))
                         if progress else None)
    result = Result(config=cfg, inputs=inputs, started=started)
    result.timings["inputs"] = time.perf_counter() - t0
    result.stages_run.append("inputs")
    log.info("inputs read in %.1f s", result.timings["inputs"])
    return result
