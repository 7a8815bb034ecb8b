"""Exports people hold: the map, CSVs for Excel, the GeoPackage, the report and charts.

Each exporter reads a :class:`covgap.result.Result` and draws or writes it, computing
nothing the analysis owns; :func:`~covgap.export.rundir.write_run` is the one writer of
a run directory, calling the others.
"""

from covgap.export.csv import safe_text, write_csv
from covgap.export.documents import rebuild_documents
from covgap.export.excel import write_report
from covgap.export.gpkg import write_geopackage
from covgap.export.map import build_map, write_map
from covgap.export.plots import write_plots
from covgap.export.rundir import write_run

__all__ = [
    "build_map",
    "rebuild_documents",
    "safe_text",
    "write_csv",
    "write_geopackage",
    "write_map",
    "write_plots",
    "write_report",
    "write_run",
]
