"""Run the configured coverage model: :func:`compute_coverage` and the analysis grid.

Every model returns the same :class:`~covgap.coverage.result.ModelOutput`, which
:func:`compute_coverage` moves into one :class:`~covgap.coverage.Coverage`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from rasterio.enums import Resampling

from covgap.config import Config, load_config
from covgap.coverage.cache import load_arrays, save_arrays
from covgap.coverage.calibrate import calibrate_coverage
from covgap.coverage.cells import density_at, prepare_cells
from covgap.coverage.grid import (
    DEFAULT_RESOLUTION_M,
    Grid,
    dem_resolution_m,
    make_grid,
    resample_to_grid,
)
from covgap.coverage.result import Coverage, ModelOutput
from covgap.errors import ConfigError
from covgap.io import Inputs
from covgap.progress import Progress, Tick, ticker

__all__ = ["analysis_grid", "compute_coverage"]

log = logging.getLogger(__name__)

#: A model: ``model(inputs, config, cells, grid, tick)`` -> its output.
Model = Callable[[Inputs, Config, gpd.GeoDataFrame, Grid | None, Tick | None], ModelOutput]

#: Models whose rasters the coverage cache keeps.
_CACHED = ("pathloss", "terrain")

def analysis_grid(inputs: Inputs, config: Config, *, include_sites: bool = True) -> Grid:
    """Return the run's analysis grid: communes (and sites) plus 1 km, metric CRS.

    The cell size is ``[coverage] resolution_m``, else the DEM's resolution in metres,
    else 100 m.
    """
    res = config.coverage.resolution_m
    if not res:
        res = dem_resolution_m(inputs.dem) if inputs.dem is not None else DEFAULT_RESOLUTION_M
    communes = inputs.communes.to_crs(inputs.metric_crs)
    bounds = np.array(communes.total_bounds)
    if include_sites and len(inputs.sites):
        sb = np.array(inputs.sites.to_crs(inputs.metric_crs).total_bounds)
        bounds = np.array([min(bounds[0], sb[0]), min(bounds[1], sb[1]),
                           max(bounds[2], sb[2]), max(bounds[3], sb[3])])
    return make_grid(tuple(bounds), inputs.metric_crs, cell_size_m=res)


def compute_coverage(inputs: Inputs, config: Config | dict | str, *,
                     progress: Progress | None = None,
                     cache: Path | None = None) -> Coverage:
    """Model coverage of every operator and technology.

    Parameters
    ----------
    inputs : Inputs
        Checked input layers (:func:`covgap.read_inputs`); the raster model takes the
        operators' maps from ``inputs.maps``.
    config : Config, dict or path
        The run configuration; ``[coverage]`` chooses the model and its parameters.
    progress : Progress, optional
        ``progress("coverage", done, total)`` as cells are computed
        (:data:`covgap.progress.Progress`).
    cache : Path, optional
        A coverage cache file (:mod:`covgap.coverage.cache`): the pathloss and terrain
        models load their rasters from it when it exists, and write it when it does not.

    Returns
    -------
    Coverage
        Signal rasters on the analysis grid (pathloss, terrain, raster models) or
        coverage polygons (radius model), with every parameter recorded and the
        ``min_rsrp_dbm`` threshold it was computed with.

    Raises
    ------
    ConfigError
        The terrain model without a DEM.
    InputError
        The raster model without operators' maps.

    Notes
    -----
    With ``inputs.measurements``, a signal model is fitted to the measured RSRP
    (``coverage.calibration``); with ``[coverage] calibrate = true`` the fit is applied
    to the signal before the threshold (:mod:`covgap.coverage.calibrate`).

    Examples
    --------
    >>> inputs = covgap.read_inputs("data/sample.toml")  # doctest: +SKIP
    >>> cov = compute_coverage(inputs, "data/sample.toml")  # doctest: +SKIP
    >>> cov.covered("Viettel", "4G").mean()  # doctest: +SKIP
    """
    cfg = load_config(config)
    cc = cfg.coverage
    t0 = time.perf_counter()
    if cc.model == "terrain" and inputs.dem is None:
        raise ConfigError("[coverage] model = \"terrain\" needs a DEM: set [inputs] dem, or "
                          "use model = \"pathloss\" (no terrain) or \"radius\"")
    # the radius model has no grid: no reprojection of the communes for one
    grid = (None if cc.model == "radius"
            else analysis_grid(inputs, cfg, include_sites=cc.model != "raster"))
    cells = _prepared_cells(inputs, cfg)
    cov = Coverage(model=cc.model, parameters=_parameters(cfg, cells),
                   min_rsrp_dbm=cc.min_rsrp_dbm, cells=cells, grid=grid)
    _run_model(cov, inputs, cfg, grid, ticker(progress, "coverage"), cache)
    if inputs.measurements is not None and cov.signal:
        # after the cache: cached rasters stay the model's own, calibrated on each run
        calibrate_coverage(cov, inputs.measurements, inputs.metric_crs, apply=cc.calibrate)
    cov.parameters["seconds"] = round(time.perf_counter() - t0, 3)
    log.info("coverage (%s) in %.1f s", cc.model, cov.parameters["seconds"])
    return cov


def _run_model(cov: Coverage, inputs: Inputs, cfg: Config, grid: Grid | None,
               tick: Tick | None,
               cache: Path | None) -> None:
    """Fill ``cov`` from the cache (pathloss, terrain) or by running its model."""
    cached = cov.model in _CACHED
    if cached:
        cov.parameters["grid"] = {"cell_size_m": grid.cell_size_m, "width": grid.width,
                                  "height": grid.height, "crs": grid.crs.to_string()}
    if cached and cache is not None and load_arrays(cov, cache):
        cov.parameters["reused"] = str(cache)
        log.info("coverage loaded from %s", cache)
        return
    _take(cov, _MODELS[cov.model](inputs, cfg, cov.cells, grid, tick))
    if cached and cache is not None:
        save_arrays(cov, cache)


def _prepared_cells(inputs: Inputs, cfg: Config) -> gpd.GeoDataFrame:
    """Return the sites' cells in the metric CRS with every parameter filled in."""
    density = None
    sites = inputs.sites.to_crs(inputs.metric_crs)  # once: prepare_cells keeps this CRS
    if inputs.population is not None:
        density = density_at(inputs.population, sites.geometry.x.to_numpy(),
                             sites.geometry.y.to_numpy(), inputs.metric_crs)
    return prepare_cells(sites, cfg.coverage, inputs.metric_crs, density_per_km2=density)


def _parameters(cfg: Config, cells: gpd.GeoDataFrame) -> dict[str, Any]:
    """Return the run record's parameters of the model, before it runs."""
    cc = cfg.coverage
    params = {k: v for k, v in asdict(cc).items() if k != "maps"}
    params["maps"] = {k: str(v.path) for k, v in cc.maps.items()}
    params["environments"] = cells["environment"].value_counts().to_dict()
    params["defaulted_parameters"] = int((cells["defaulted"] != "").sum())
    return params


def _take(cov: Coverage, out: ModelOutput) -> None:
    """Move a model's output into the coverage."""
    if out.cells is not None:
        cov.cells = out.cells
    cov.signal, cov.server, cov.binary = out.signal, out.server, out.binary
    cov.clear_signal, cov.clear_server = out.clear_signal, out.clear_server
    cov.areas, cov.dem, cov.footprints = out.areas, out.dem, out.footprints
    cov.parameters.update(out.parameters)


def _radius(inputs: Inputs, cfg: Config, cells: gpd.GeoDataFrame, grid: Grid | None,
            tick: Tick | None) -> ModelOutput:
    from covgap.coverage.radius import radius_coverage
    return radius_coverage(cells, cfg.coverage)


def _signal(inputs: Inputs, cfg: Config, cells: gpd.GeoDataFrame, grid: Grid,
            tick: Tick | None) -> ModelOutput:
    """Run the pathloss model, or the terrain model with the DEM on the grid."""
    from covgap.coverage.pathloss import signal_coverage  # numba: only when used

    dem = None
    if cfg.coverage.model == "terrain":
        dem = resample_to_grid(inputs.dem, grid, resampling=Resampling.bilinear)
    out = signal_coverage(cells, grid, cfg.coverage, dem=dem, progress=tick,
                          compute=cfg.compute)
    out.dem = dem
    out.parameters["scheduler"] = cfg.compute.scheduler
    return out


def _maps(inputs: Inputs, cfg: Config, cells: gpd.GeoDataFrame, grid: Grid,
          tick: Tick | None) -> ModelOutput:
    from covgap.coverage.maps import map_coverage
    return map_coverage(inputs.maps, grid, unit=cfg.coverage.maps_unit)


_MODELS: dict[str, Model] = {"radius": _radius, "pathloss": _signal, "terrain": _signal,
                             "raster": _maps}
