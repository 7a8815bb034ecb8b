"""Exports people hold: the CSVs for Excel, the GeoPackage, the Excel report and charts."""

from covgap.export.csv import safe_text, write_csv
from covgap.export.excel import write_report
from covgap.export.gpkg import write_geopackage
from covgap.export.plots import write_plots

__all__ = ["safe_text", "write_csv", "write_geopackage", "write_plots", "write_report"]
