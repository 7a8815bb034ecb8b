"""Reuse a previous run's coverage when nothing it depends on has changed.

Yearly reruns often change only the rules or the targets; the terrain model is the slow
stage.  Its rasters depend only on covgap's version, the ``[coverage]`` settings, the
run's metric CRS and the input files the model reads (communes, sites, DEM, population,
operators' maps), so a key made of those identifies them.  The rasters are kept in
``<output.dir>/.cache/coverage-<run name>-<key>.npz`` (compressed; about 30 MB for the
sample province) and loaded instead of recomputed when the key matches.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from covgap._version import __version__
from covgap.config import Config
from covgap.coverage.result import Coverage

__all__ = ["cache_path", "coverage_key", "load_arrays", "save_arrays"]

log = logging.getLogger(__name__)

_FIELDS = ("signal", "server", "clear_signal", "clear_server", "binary")


def coverage_key(config: Config, hashes: dict[str, str], metric_crs: str) -> str:
    """Return the hex key of everything a coverage model's rasters depend on.

    Parameters
    ----------
    config : Config
        Its ``[coverage]`` section and the paths of the inputs the model reads.
    hashes : dict
        sha256 of every input file, by resolved path (``Inputs.hashes``).
    metric_crs : str
        The run's metric CRS.
    """
    ins = config.inputs
    files = [getattr(ins, name) for name in ("communes", "sites", "dem", "population")]
    files += list(config.coverage.maps.values())
    used = sorted(hashes.get(str(Path(f.path).resolve()), "missing") for f in files if f)
    coverage = asdict(config.coverage)
    # the cache keeps the model's own rasters; a calibration is applied after loading
    coverage.pop("calibrate")
    coverage["maps"] = {k: str(v.path) for k, v in config.coverage.maps.items()}
    payload = {"version": __version__, "coverage": coverage, "inputs": used,
               "columns": ins.columns.get("sites", {}), "aliases": ins.operator_aliases,
               "crs": metric_crs}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_path(config: Config, key: str) -> Path:
    """Return where the coverage with this key is kept."""
    return config.output.dir / ".cache" / f"coverage-{config.run.name}-{key[:16]}.npz"


def save_arrays(coverage: Coverage, path: Path) -> None:
    """Keep a raster coverage's arrays; older caches of the same run name are removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for name in _FIELDS:
        for (op, tech), arr in getattr(coverage, name).items():
            arrays[f"{name}|{op}|{tech}"] = arr
    if coverage.dem is not None:
        arrays["dem"] = coverage.dem
    stem = path.name.rsplit("-", 1)[0]
    for old in path.parent.glob(f"{stem}-*.npz"):
        old.unlink(missing_ok=True)
    tmp = path.with_suffix(f".partial-{os.getpid()}.npz")  # concurrent runs never share it
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)  # a reader never sees half a cache


def load_arrays(coverage: Coverage, path: Path) -> bool:
    """Fill a coverage's arrays from ``path``; False when there is no usable cache."""
    if not path.is_file():
        return False
    try:
        with np.load(path) as data:
            for name in data.files:
                if name == "dem":
                    coverage.dem = data[name]
                    continue
                field, op, tech = name.split("|")
                getattr(coverage, field)[op, tech] = data[name]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:  # recomputed
        log.warning("ignoring the coverage cache %s: %s", path, exc)
        for name in _FIELDS:
            getattr(coverage, name).clear()
        coverage.dem = None
        return False
    return True
