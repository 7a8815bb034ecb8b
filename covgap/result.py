"""What a run produced: its data, the tables derived from it, and its record.

:class:`Result` sits below the exporters: they read it, it imports none of them (its
:meth:`Result.map` and :meth:`Result.write` call up into :mod:`covgap.export` at run
time only).  :mod:`covgap.pipeline` builds it, :mod:`covgap.export.rundir` writes it.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from covgap._version import __version__
from covgap.analysis import Analysis
from covgap.config import Config
from covgap.coverage import Coverage
from covgap.errors import CovgapError
from covgap.io import Inputs
from covgap.planning import Plan

if TYPE_CHECKING:
    import folium

    from covgap.progress import Progress

__all__ = ["STAGES", "Result", "RunExistsError"]

#: The stages of a run, in order.  Stages later issues build are listed so the
#: manifest says plainly which ones this version ran.
STAGES: tuple[str, ...] = (
    "inputs", "coverage", "villages", "indicators", "candidates", "exports")


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
    started : str
        When the run started, ISO 8601 in UTC.
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

    @property
    def warnings(self) -> list[str]:
        """Warnings raised during the run, as text (reading, then analysis)."""
        extra = self.analysis.warnings if self.analysis is not None else []
        return list(self.inputs.warnings) + [w for w in extra if w not in self.inputs.warnings]

    def map(self, **options: Any) -> folium.Map:
        """Return the interactive map, to show in a notebook (same as ``map.html``).

        Options are those of :func:`covgap.export.map.build_map`.
        """
        from covgap.export.map import build_map  # exporters sit above: call up at run time
        return build_map(self, **options)

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

    def write(self, directory: str | Path | None = None, *, force: bool = False,
              parallel: bool | None = None, progress: Progress | None = None) -> Path:
        """Write the run directory atomically (:func:`covgap.export.rundir.write_run`).

        Parameters
        ----------
        directory : str or Path, optional
            Default: ``<output.dir>/<run.name>/<run.year>`` of the configuration.
        force : bool
            Replace an existing run directory.  Without it an existing directory is an
            error and is left untouched.
        parallel : bool, optional
            Write the maps and the documents in forked child processes beside the other
            outputs; default: where the system can fork and has a second core
            (:func:`covgap.export.rundir.write_run`).
        progress : Progress, optional
            ``progress("exports", done, total)`` as each output is written; it must start
            no thread (see :func:`covgap.export.rundir.write_run`).

        Returns
        -------
        Path
            The run directory.

        Raises
        ------
        RunExistsError
            The directory exists and ``force`` is false.
        """
        from covgap.export.rundir import write_run  # exporters sit above: call up at run time
        return write_run(self, directory, force=force, parallel=parallel, progress=progress)
