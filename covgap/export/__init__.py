"""Exports people hold: the map, CSVs for Excel, the GeoPackage, the report and charts."""

from covgap.export.csv import safe_text, write_csv
from covgap.export.excel import write_report
from covgap.export.gpkg import write_geopackage
from covgap.export.map import build_map, write_map
from covgap.export.plots import write_plots

__all__ = [
    "build_map",
    "safe_text",
    "write_csv",
    "write_geopackage",
    "write_map",
    "write_plots",
    "write_report",
]
