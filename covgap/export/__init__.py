"""Exports people hold: CSVs for Excel (and, as they land, the map, GeoPackage, report)."""

from covgap.export.csv import safe_text, write_csv

__all__ = ["safe_text", "write_csv"]
