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
from typing import Any

import geopandas as gpd
from pyproj import CRS

from covgap.config import Config, LayerInput, load_config
from covgap.errors import CovgapWarning, InputError
from covgap.io.crs import choose_metric_crs
from covgap.io.layers import (
    problems_for,
    read_basemap,
    read_communes,
    read_fibre,
    read_measurements,
    read_places,
    read_roads,
    read_sites,
    read_villages,
)
from covgap.io.maps import CoverageMap, read_coverage_maps
from covgap.io.problems import ROW, Problems
from covgap.io.rasters import RasterLayer, read_raster
from covgap.progress import Progress, Tick, ticker

__all__ = ["Inputs", "file_sha256", "read_inputs"]

log = logging.getLogger(__name__)

#: The layers of ``[inputs]``: the three required, then the optional ones.
_LAYERS = ("communes", "villages", "sites", "fibre", "roads", "places", "basemap",
           "measurements", "dem", "population")

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
    basemap : GeoDataFrame or None
        The map's base layer (rivers, lakes, place names), when supplied.
    places : GeoDataFrame or None
        Commune centres, town centres, zones, hospitals, ... (``place_id``, ``name``,
        ``kind``, ``commune_code``), when supplied.
    measurements : GeoDataFrame or None
        Measured tests (``operator``, ``technology``, ``rsrp_dbm``, ``download_mbps``,
        ...; :func:`covgap.io.layers.read_measurements`), when supplied.
    metric_crs : pyproj.CRS
        The projected CRS (metres) distances and areas are measured in.
    hashes : dict
        sha256 of every input file (shapefile side files and the operators' coverage
        maps included), by resolved path.
    warnings : list of str
        The warnings raised while reading, for the run manifest.
    maps : list of CoverageMap
        The operators' coverage maps of ``[coverage.maps]``, checked (raster model).
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
    maps: list[CoverageMap] = field(default_factory=list)
    places: gpd.GeoDataFrame | None = None
    basemap: gpd.GeoDataFrame | None = None
    measurements: gpd.GeoDataFrame | None = None

    def counts(self) -> dict[str, int]:
        """Return the number of features of each vector layer."""
        out = {"communes": len(self.communes), "villages": len(self.villages),
               "sites": len(self.sites)}
        if self.fibre is not None:
            out["fibre"] = len(self.fibre)
        if self.places is not None:
            out["places"] = len(self.places)
        if self.measurements is not None:
            out["measurements"] = len(self.measurements)
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
    progress: Progress | None = None,
) -> Inputs:
    """Read and check every input layer of a configuration.

    The layers of ``[inputs]`` and the operators' coverage maps of ``[coverage.maps]``
    are read, checked and hashed alike.

    Parameters
    ----------
    config : Config, path or dict
        The run configuration (see :func:`covgap.config.load_config`).
    progress : Progress, optional
        ``progress("inputs", done, total)``: before the first layer and after each
        layer read (:data:`covgap.progress.Progress`).

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
    reader = _Reader(cfg, ticker(progress, "inputs"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vectors, metric_crs = reader.vectors()
        rasters = reader.rasters(vectors["communes"])
        maps = reader.maps()
    reader.raise_if_any()
    messages = _replay(caught)
    ins = cfg.inputs
    specs = {name: getattr(ins, name) for name in _LAYERS}
    specs.update({f"coverage.maps.{k}": v for k, v in cfg.coverage.maps.items()})
    return Inputs(
        **{name: None if layer is None else layer.drop(columns=[ROW], errors="ignore")
           for name, layer in vectors.items()},
        dem=rasters["dem"], population=rasters["population"], metric_crs=metric_crs,
        hashes=_hash_inputs(specs), warnings=messages, maps=maps,
    )


class _Reader:
    """Reads the layers one by one, collecting their problems and reporting progress."""

    def __init__(self, cfg: Config, tick: Tick | None) -> None:
        self.cfg = cfg
        self.tick = tick
        self.collected: list[Problems] = []
        ins = cfg.inputs
        self.total = (3 + sum(getattr(ins, n) is not None for n in _LAYERS[3:])
                      + len(cfg.coverage.maps))
        self.done = 0
        if tick:
            tick(0, self.total)

    def problems(self, spec: LayerInput, id_column: str | None = None) -> Problems:
        """Return a new problem collector for one file, kept for the final report."""
        p = problems_for(spec, id_column)
        self.collected.append(p)
        return p

    def read(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Read one layer with ``fn`` and report it done."""
        log.info("reading %s", name)
        out = fn(*args, **kwargs)
        self.done += 1
        if self.tick:
            self.tick(self.done, self.total)
        return out

    def vectors(self) -> tuple[dict[str, gpd.GeoDataFrame | None], CRS]:
        """Read communes, villages, sites (and fibre, roads, places, measurements); the CRS."""
        cfg, ins = self.cfg, self.cfg.inputs
        cols = ins.columns
        assert ins.communes is not None and ins.villages is not None and ins.sites is not None
        communes = self.read("communes", read_communes, ins.communes,
                             columns=cols.get("communes"),
                             problems=self.problems(ins.communes, "commune_code"))
        usable = communes is not None and not communes.empty
        try:
            lon = (communes.geometry.representative_point().x.to_numpy() if usable else [])
            metric_crs = choose_metric_crs(lon, cfg.run.metric_crs)
        except ValueError as exc:
            raise InputError(f"[run] metric_crs: {exc}") from None
        ref = communes if usable else None
        out = {"communes": communes}
        out["villages"] = self.read(
            "villages", read_villages, ins.villages, communes=ref, metric_crs=metric_crs,
            columns=cols.get("villages"), outside_m=cfg.checks.village_outside_m,
            problems=self.problems(ins.villages, "village_id"))
        out["sites"] = self.read(
            "sites", read_sites, ins.sites, communes=ref, metric_crs=metric_crs,
            columns=cols.get("sites"), operator_aliases=ins.operator_aliases,
            outside_m=cfg.checks.site_outside_m, problems=self.problems(ins.sites, "site_id"))
        out["fibre"] = None if ins.fibre is None else self.read(
            "fibre", read_fibre, ins.fibre, columns=cols.get("fibre"),
            operator_aliases=ins.operator_aliases,
            problems=self.problems(ins.fibre, "fibre_id"))
        out["roads"] = None if ins.roads is None else self.read(
            "roads", read_roads, ins.roads, columns=cols.get("roads"),
            problems=self.problems(ins.roads))
        out["places"] = None if ins.places is None else self.read(
            "places", read_places, ins.places, communes=ref, columns=cols.get("places"),
            problems=self.problems(ins.places, "place_id"))
        out["basemap"] = None if ins.basemap is None else self.read(
            "basemap", read_basemap, ins.basemap, columns=cols.get("basemap"),
            problems=self.problems(ins.basemap))
        out["measurements"] = None if ins.measurements is None else self.read(
            "measurements", read_measurements, ins.measurements, communes=ref,
            metric_crs=metric_crs, columns=cols.get("measurements"),
            operator_aliases=ins.operator_aliases, outside_m=cfg.checks.village_outside_m,
            problems=self.problems(ins.measurements))
        return out, metric_crs

    def rasters(self, communes: gpd.GeoDataFrame | None) -> dict[str, RasterLayer | None]:
        """Read the DEM and the population raster, when given."""
        usable = communes is not None and not communes.empty
        bounds = tuple(communes.total_bounds) if usable else None
        out: dict[str, RasterLayer | None] = {}
        for kind in ("dem", "population"):
            spec = getattr(self.cfg.inputs, kind)
            out[kind] = None if spec is None else self.read(
                kind, read_raster, spec, kind=kind, province_bounds=bounds,
                problems=self.problems(spec))
        return out

    def maps(self) -> list[CoverageMap]:
        """Read the operators' coverage maps of ``[coverage.maps]``."""
        cfg = self.cfg
        keys = Problems("[coverage.maps]")
        self.collected.append(keys)
        if cfg.coverage.model == "raster" and not cfg.coverage.maps:
            keys.add("[coverage] model = \"raster\" needs [coverage.maps]: one file per "
                     "operator and technology, e.g. \"Viettel 4G\" = \"viettel_4g.tif\"")
        out: list[CoverageMap] = []
        for key, spec in cfg.coverage.maps.items():
            out += self.read(f"coverage map {key!r}", read_coverage_maps, {key: spec},
                             operator_aliases=cfg.inputs.operator_aliases,
                             problems_for=self.problems, keys=keys)
        return out

    def raise_if_any(self) -> None:
        """Raise one :class:`InputError` listing every problem of every layer."""
        lines = [line for p in self.collected for line in p.lines]
        if lines:
            files = sorted({p.source for p in self.collected if p})
            raise InputError(
                f"{len(lines)} problem(s) in the inputs ({', '.join(files)})", lines)


def _replay(caught: list[warnings.WarningMessage]) -> list[str]:
    """Warn again the warnings caught while reading; return covgap's, for the record."""
    messages = []
    for w in caught:
        if issubclass(w.category, CovgapWarning):
            messages.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return messages
