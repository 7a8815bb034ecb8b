"""Input layers: read, check and normalise every layer a run uses.

:func:`read_inputs` (module ``read``) reads all layers of a configuration, the
operators' coverage maps of ``[coverage.maps]`` included, collects every problem of
every layer, and raises one :class:`covgap.InputError` listing them, or returns an
:class:`Inputs` with the layers in WGS84, the run's metric CRS and the sha256 of every
file read.

Modules
-------
read
    :func:`read_inputs`, :class:`Inputs`, file hashing.
layers
    The vector layers (communes, villages, sites, fibre, roads) and their checks.
maps
    Operators' coverage maps (``[coverage.maps]``): keys, rasters, polygons.
rasters
    DEM and population rasters.
targets
    Targets of single communes (``[targets] communes_file``).
vector, text, crs, problems
    Reading files, parsing text and numbers, CRS choice, collecting problems.
"""

from covgap.io.crs import WGS84, choose_metric_crs, parse_crs, vn2000_tm3
from covgap.io.layers import (
    normalize_operator,
    normalize_technology,
    read_communes,
    read_fibre,
    read_roads,
    read_sites,
    read_villages,
)
from covgap.io.rasters import RasterLayer, read_raster
from covgap.io.read import Inputs, file_sha256, read_inputs
from covgap.io.targets import read_commune_targets

__all__ = [
    "WGS84",
    "Inputs",
    "RasterLayer",
    "choose_metric_crs",
    "file_sha256",
    "normalize_operator",
    "normalize_technology",
    "parse_crs",
    "read_commune_targets",
    "read_communes",
    "read_fibre",
    "read_inputs",
    "read_raster",
    "read_roads",
    "read_sites",
    "read_villages",
    "vn2000_tm3",
]
