"""Input layers: read, check and normalise every layer a run uses.

:func:`read_inputs` reads all layers of a configuration, collects every problem of
every layer, and raises one :class:`covgap.InputError` listing them, or returns an
:class:`Inputs` with the layers in WGS84 and the run's metric CRS.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
from pyproj import CRS

from covgap.config import Config, LayerInput, load_config
from covgap.errors import CovgapWarning, InputError
from covgap.io.crs import WGS84, choose_metric_crs
from covgap.io.layers import (
    _problems_for,
    read_communes,
    read_fibre,
    read_roads,
    read_sites,
    read_villages,
)
from covgap.io.problems import ROW, Problems
from covgap.io.rasters import RasterLayer, read_raster

__all__ = ["Inputs", "file_sha256", "read_inputs"]

log = logging.getLogger(__name__)

# Files that travel with a shapefile and change what it means.
_SIDECARS = (".shx", ".dbf", ".prj", ".cpg")


@dataclass
class Inputs:
    """Every input layer of a run, checked and in WGS84 (EPSG:4326).

    Attributes
    ----------
    communes, villages, sites : GeoDataFrame
    fibre : GeoDataFrame or None
    dem, population : RasterLayer or None
    roads : GeoDataFrame or None
        Road lines, when supplied.
    metric_crs : pyproj.CRS
        The projected CRS (metres) distances and areas are measured in.
    hashes : dict
        sha256 of every input file (shapefile side files included), by path.
    warnings : list of str
        The warnings raised while reading, for the run manifest.
    """

    communes: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    fibre: gpd.GeoDataFrame | None
    dem: RasterLayer | None
    population: RasterLayer | None
    metric_crs: CRS
    hashes: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    roads: gpd.GeoDataFrame | None = None

    def counts(self) -> dict[str, int]:
        """Return the number of features of each vector layer."""
        out = {"communes": len(self.communes), "villages": len(self.villages),
               "sites": len(self.sites)}
        if self.fibre is not None:
            out["fibre"] = len(self.fibre)
        return out


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _hash_inputs(specs: dict[str, LayerInput | None]) -> dict[str, str]:
    out = {}
    for spec in specs.values():
        if spec is None or not Path(spec.path).is_file():
            continue
        path = Path(spec.path).resolve()
        out[str(path)] = file_sha256(path)
        if path.suffix.lower() == ".shp":
            for ext in _SIDECARS:
                side = path.with_suffix(ext)
                if side.is_file():
                    out[str(side)] = file_sha256(side)
    return out


def read_inputs(
    config: Config | str | Path | dict,
    *,
    progress: Callable[[str], None] | None = None,
) -> Inputs:
    """Read and check every input layer of a configuration.

    Parameters
    ----------
    config : Config, path or dict
        The run configuration (see :func:`covgap.config.load_config`).
    progress : callable, optional
        Called with the name of each layer as it is read.

    Returns
    -------
    Inputs

    Raises
    ------
    InputError
        Listing every problem of every layer, grouped by file.

    Examples
    --------
    >>> inputs = read_inputs("data/sample.toml")  # doctest: +SKIP
    >>> inputs.metric_crs.to_epsg()  # doctest: +SKIP
    32648
    """
    cfg = load_config(config)
    ins = cfg.inputs
    cols = ins.columns
    collected: list[Problems] = []

    def problems(spec: LayerInput, id_column: str | None) -> Problems:
        p = _problems_for(spec, id_column)
        collected.append(p)
        return p

    def step(name: str) -> None:
        log.info("reading %s", name)
        if progress:
            progress(name)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        step("communes")
        assert ins.communes is not None and ins.villages is not None and ins.sites is not None
        communes = read_communes(ins.communes, columns=cols.get("communes"),
                                 problems=problems(ins.communes, "commune_code"))
        metric_crs = WGS84
        usable = communes is not None and not communes.empty
        try:
            lon = (communes.geometry.representative_point().x.to_numpy() if usable else [])
            metric_crs = choose_metric_crs(lon, cfg.run.metric_crs)
        except ValueError as exc:
            raise InputError(f"[run] metric_crs: {exc}") from None
        ref = communes if usable else None
        step("villages")
        villages = read_villages(ins.villages, communes=ref, metric_crs=metric_crs,
                                 columns=cols.get("villages"),
                                 outside_m=cfg.checks.village_outside_m,
                                 problems=problems(ins.villages, "village_id"))
        step("sites")
        sites = read_sites(ins.sites, communes=ref, metric_crs=metric_crs,
                           columns=cols.get("sites"), operator_aliases=ins.operator_aliases,
                           outside_m=cfg.checks.site_outside_m,
                           problems=problems(ins.sites, "site_id"))
        fibre = None
        if ins.fibre is not None:
            step("fibre")
            fibre = read_fibre(ins.fibre, columns=cols.get("fibre"),
                               operator_aliases=ins.operator_aliases,
                               problems=problems(ins.fibre, "fibre_id"))
        roads = None
        if ins.roads is not None:
            step("roads")
            roads = read_roads(ins.roads, columns=cols.get("roads"),
                               problems=problems(ins.roads, None))
        bounds = tuple(communes.total_bounds) if usable else None
        rasters: dict[str, RasterLayer | None] = {}
        for kind in ("dem", "population"):
            spec = getattr(ins, kind)
            if spec is None:
                rasters[kind] = None
                continue
            step(kind)
            rasters[kind] = read_raster(spec, kind=kind, province_bounds=bounds,
                                        problems=problems(spec, None))

    lines = [line for p in collected for line in p.lines]
    if lines:
        files = sorted({p.source for p in collected if p})
        raise InputError(
            f"{len(lines)} problem(s) in the inputs ({', '.join(files)})", lines)
    messages = []
    for w in caught:
        if issubclass(w.category, CovgapWarning):
            messages.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    communes, villages, sites, fibre, roads = (
        None if layer is None else layer.drop(columns=[ROW], errors="ignore")
        for layer in (communes, villages, sites, fibre, roads))
    return Inputs(
        communes=communes, villages=villages, sites=sites, fibre=fibre,
        dem=rasters["dem"], population=rasters["population"], metric_crs=metric_crs,
        hashes=_hash_inputs({name: getattr(ins, name) for name in
                             ("communes", "villages", "sites", "fibre", "roads", "dem",
                              "population")}),
        warnings=messages, roads=roads,
    )
