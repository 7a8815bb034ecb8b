"""Coverage models: one interface, four models, chosen by ``[coverage] model``.

- ``radius``: a disc, or a pattern-shaped sector, per cell (vector).
- ``pathloss``: best-server signal from EIRP, height, frequency, an empirical path loss
  and the antenna pattern (raster).
- ``terrain``: ``pathloss`` plus line of sight and knife-edge diffraction over the DEM,
  Earth curvature included (raster).
- ``raster``: operators' own coverage maps, read as they are.

:func:`compute_coverage` returns a :class:`Coverage` whatever the model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
from rasterio.enums import Resampling

from covgap.config import Config, load_config
from covgap.coverage.cache import load_arrays, save_arrays
from covgap.coverage.cells import density_at, prepare_cells
from covgap.coverage.grid import (
    DEFAULT_RESOLUTION_M,
    Grid,
    dem_resolution_m,
    make_grid,
    resample_to_grid,
)
from covgap.coverage.result import Coverage
from covgap.errors import ConfigError
from covgap.io import Inputs

__all__ = ["analysis_grid", "compute_coverage"]

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


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
        Checked input layers (:func:`covgap.read_inputs`).
    config : Config, dict or path
        The run configuration; ``[coverage]`` chooses the model and its parameters.
    progress : callable, optional
        ``progress(stage, done, total)`` as cells are computed.
    cache : Path, optional
        A coverage cache file (:mod:`covgap.coverage.cache`): the pathloss and terrain
        models load their rasters from it when it exists, and write it when it does not.

    Returns
    -------
    Coverage
        Signal rasters on the analysis grid (pathloss, terrain, raster models) or
        coverage polygons (radius model), with every parameter recorded.

    Raises
    ------
    ConfigError
        The terrain model without a DEM.
    InputError
        Operators' maps that cannot be read (raster model).

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
    grid = analysis_grid(inputs, cfg, include_sites=cc.model != "raster")
    density = None
    if inputs.population is not None:
        sites_m = inputs.sites.to_crs(inputs.metric_crs)
        density = density_at(inputs.population, sites_m.geometry.x.to_numpy(),
                             sites_m.geometry.y.to_numpy(), inputs.metric_crs)
    cells = prepare_cells(inputs.sites, cc, inputs.metric_crs, density_per_km2=density)
    params = {k: v for k, v in asdict(cc).items() if k != "maps"}
    params["maps"] = {k: str(v.path) for k, v in cc.maps.items()}
    params["environments"] = cells["environment"].value_counts().to_dict()
    params["defaulted_parameters"] = int((cells["defaulted"] != "").sum())
    cov = Coverage(model=cc.model, parameters=params, min_rsrp_dbm=cc.min_rsrp_dbm,
                   cells=cells)

    def tick(done: int, total: int) -> None:
        if progress:
            progress("coverage", done, total)

    if cc.model == "radius":
        from covgap.coverage.radius import radius_coverage
        cov.cells, cov.areas = radius_coverage(cells, cc)
    elif cc.model in ("pathloss", "terrain"):
        from covgap.coverage.pathloss import signal_coverage
        dem = None
        if cc.model == "terrain" and not (cache is not None and cache.is_file()):
            dem = resample_to_grid(inputs.dem, grid, resampling=Resampling.bilinear)
        params["grid"] = {"cell_size_m": grid.cell_size_m, "width": grid.width,
                          "height": grid.height, "crs": grid.crs.to_string()}
        cov.grid = grid
        if cache is not None and load_arrays(cov, cache):
            params["reused"] = str(cache)
            log.info("coverage loaded from %s", cache)
        else:
            if cc.model == "terrain" and dem is None:  # the cache was unusable
                dem = resample_to_grid(inputs.dem, grid, resampling=Resampling.bilinear)
            out = signal_coverage(cells, grid, cc, dem=dem, progress=tick, compute=cfg.compute)
            params["tiles"] = out["tiles"]
            params["scheduler"] = cfg.compute.scheduler
            cov.dem = dem
            cov.signal, cov.server = out["signal"], out["server"]
            cov.clear_signal = out.get("clear_signal", {})
            cov.clear_server = out.get("clear_server", {})
            if cache is not None:
                save_arrays(cov, cache)
    else:  # raster: operators' own maps
        from covgap.coverage.maps import map_coverage
        out = map_coverage(cc, grid, operator_aliases=cfg.inputs.operator_aliases)
        cov.grid = grid
        cov.signal, cov.binary, cov.areas = out["signal"], out["binary"], out["areas"]
    params["seconds"] = round(time.perf_counter() - t0, 3)
    log.info("coverage (%s) in %.1f s", cc.model, params["seconds"])
    return cov
