"""Typed run configuration: defaults, validation and TOML loading.

A configuration is a TOML file (or a dict of the same shape) with the sections of
SPEC.md: ``[run]``, ``[inputs]``, ``[checks]``, ``[coverage]``, ``[rules]``,
``[targets]``, ``[candidates]`` and ``[output]``.  Every key has a default (see
``docs/configuration.md``, generated from this module by
``covgap.config.reference_markdown``), unknown keys are errors that name the key
and list the valid ones, and relative paths are resolved against the folder of the
configuration file (or ``base_dir`` for a dict).

Examples
--------
>>> from covgap.config import load_config
>>> cfg = load_config({"inputs": {"villages": "v.gpkg", "communes": "c.gpkg",
...                               "sites": "s.csv"}}, base_dir="/data")
>>> cfg.rules.village_covered_share
0.8
>>> str(cfg.inputs.sites.path)
'/data/s.csv'
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covgap.errors import ConfigError

__all__ = [
    "OPERATORS",
    "TECHNOLOGIES",
    "CandidatesConfig",
    "ChecksConfig",
    "ComputeConfig",
    "Config",
    "CoverageConfig",
    "EvidenceConfig",
    "InputsConfig",
    "LayerInput",
    "LegalConfig",
    "OutputConfig",
    "RulesConfig",
    "RunConfig",
    "TargetsConfig",
    "load_config",
    "reference_markdown",
]

#: Radio technologies covgap knows; 4G and 5G are mobile broadband (DOMAIN.md).
TECHNOLOGIES: tuple[str, ...] = ("2G", "3G", "4G", "5G")

#: Canonical operator names; spelling variants are mapped onto these by covgap.io.
OPERATORS: tuple[str, ...] = (
    "Viettel",
    "VNPT",
    "MobiFone",
    "Vietnamobile",
    "Gmobile",
    "FPT",
    "CMC",
    "SCTV",
)

MODELS: tuple[str, ...] = ("radius", "pathloss", "terrain", "raster")
LAYERS: tuple[str, ...] = ("communes", "villages", "sites", "fibre", "roads", "places",
                           "basemap", "measurements", "dem", "population")
VECTOR_LAYERS: tuple[str, ...] = ("communes", "villages", "sites", "fibre", "roads",
                                  "places", "basemap", "measurements")

#: Upper bound of every cost and budget key, in the user's currency unit: large enough
#: for costs written in đồng (a site is about 1.5e9 VND), small enough that sums of
#: thousands of costs stay exact in floating point.
MAX_COST = 1e15

#: What a run name (it becomes a folder of the output path) may hold.
RUN_NAME_RULE = ("a run name is a name, not a path: letters, digits, '-', '_', '.' and "
                 "spaces, starting with a letter or digit; no path separators or '..'")
_RUN_NAME = re.compile(r"[^\W_][\w.\- ]{0,99}")


def _doc(text: str, **kw: Any) -> Any:
    """Field metadata: the documentation shown in the configuration reference."""
    return {"doc": text, **kw}


def _current_year() -> int:
    return _dt.date.today().year


@dataclass(frozen=True)
class LayerInput:
    """Where one input layer is and how to read it.

    In TOML either a plain path string or a table
    ``{ path = "...", x = "lon", y = "lat", crs = "EPSG:4326", layer = "...", sheet = "..." }``.
    """

    path: Path = field(metadata=_doc("file to read: any format OGR reads, CSV or XLSX; "
                                     "GeoTIFF for rasters"))
    layer: str | None = field(default=None, metadata=_doc(
        "layer name inside a multi-layer file (GeoPackage); default: the first layer"))
    sheet: str | None = field(default=None, metadata=_doc(
        "XLSX sheet name; default: the first sheet"))
    x: str | None = field(default=None, metadata=_doc(
        "CSV/XLSX column holding x (longitude or easting); default: lon, longitude, x"))
    y: str | None = field(default=None, metadata=_doc(
        "CSV/XLSX column holding y (latitude or northing); default: lat, latitude, y"))
    crs: str | None = field(default=None, metadata=_doc(
        "CRS of the file when it has none or a wrong one (EPSG code, PROJ string or WKT); "
        "CSV/XLSX default EPSG:4326"))
    encoding: str | None = field(default=None, metadata=_doc(
        "text encoding of a CSV or a shapefile's .dbf; default: UTF-8 (CSV), the .cpg (shapefile)"))


@dataclass(frozen=True)
class RunConfig:
    """``[run]``: what this run is called and which year it reports."""

    name: str = field(default="province", metadata=_doc(
        "name used in output paths and map titles, e.g. \"thanh-hoa\"; a name, not a "
        "path: letters, digits, '-', '_', '.' and spaces, no path separators or '..'",
        path_name=True))
    title: str = field(default="", metadata=_doc(
        "the province's name as maps and reports show it, e.g. \"Tỉnh Thanh Hóa\"; "
        "default: name"))
    year: int = field(default_factory=_current_year, metadata=_doc(
        "reporting year; default: the current calendar year", default_text="current year",
        low=2000, high=2100))
    as_of: str = field(default="", metadata=_doc(
        "the date the input data describe (e.g. \"31/12/2025\"), printed on the report's "
        "summary sheet; default: not stated"))
    metric_crs: str = field(default="auto", metadata=_doc(
        "projected CRS for distances and areas: \"auto\" picks UTM 48N or 49N (WGS84) from "
        "the communes' centre, or give a code such as \"EPSG:3405\" (VN-2000 UTM 48N)"))


@dataclass(frozen=True)
class InputsConfig:
    """``[inputs]``: the layers to read and how their columns are named."""

    communes: LayerInput | None = field(default=None, metadata=_doc(
        "commune polygons (required): commune_code, commune_name, region, optional district",
        required=True))
    villages: LayerInput | None = field(default=None, metadata=_doc(
        "village points or polygons (required): village_id, village_name, commune_code, "
        "population, households, difficult", required=True))
    sites: LayerInput | None = field(default=None, metadata=_doc(
        "BTS cells or sites as points (required): site_id, operator, technology, optional "
        "azimuth_deg, beamwidth_deg, height_m, eirp_dbm, frequency_mhz", required=True))
    fibre: LayerInput | None = field(default=None, metadata=_doc(
        "fibre routes (lines) and/or nodes (points) with operator and optional kind"))
    roads: LayerInput | None = field(default=None, metadata=_doc(
        "road lines: fibre extensions are then measured along them"))
    places: LayerInput | None = field(default=None, metadata=_doc(
        "points with place_id, name, kind (commune_centre = the UBND, town_centre, "
        "economic_zone, industrial_zone, health, school, university, tourist_site, "
        "transport_hub; others kept as given) and optional commune_code: the 5G and fibre "
        "of these places, and the commune centres of commune_centres_5g_pct"))
    basemap: LayerInput | None = field(default=None, metadata=_doc(
        "the meeting map's base map: lines (rivers, streams), polygons (lakes) and points "
        "with a `name` (place names), drawn under the communes; any other column is kept"))
    measurements: LayerInput | None = field(default=None, metadata=_doc(
        "measured tests as points (drive tests, i-Speed/crowd speed tests, operators' "
        "own): operator, technology (2G-5G or FTTH), optional rsrp_dbm, download_mbps, "
        "upload_mbps, latency_ms, measured_at, source; they check, calibrate and settle "
        "the model village by village ([evidence])"))
    dem: LayerInput | None = field(default=None, metadata=_doc(
        "digital elevation model raster, metres above sea level"))
    population: LayerInput | None = field(default=None, metadata=_doc(
        "population raster, people per cell"))
    columns: dict[str, dict[str, str]] = field(default_factory=dict, metadata=_doc(
        "per layer, covgap column = column in the file, e.g. "
        "[inputs.columns.villages] village_name = \"TenThon\""))
    operator_aliases: dict[str, str] = field(default_factory=dict, metadata=_doc(
        "extra operator spellings, spelling = canonical name; a new canonical name is "
        "accepted as an operator"))


@dataclass(frozen=True)
class ChecksConfig:
    """``[checks]``: how far outside the province a feature may lie before it is an error."""

    village_outside_m: float = field(default=1000.0, metadata=_doc(
        "a village farther than this (metres) from every commune is an error",
        low=0.0, high=2_000_000.0))
    site_outside_m: float = field(default=50000.0, metadata=_doc(
        "a site farther than this (metres) from the province is an error; nearer ones are "
        "kept because towers across the border serve border villages",
        low=0.0, high=2_000_000.0))


@dataclass(frozen=True)
class CoverageConfig:
    """``[coverage]``: the coverage model and what counts as mobile broadband."""

    model: str = field(default="radius", metadata=_doc(
        "\"radius\" | \"pathloss\" | \"terrain\" | \"raster\" (operator-supplied)",
        choices=MODELS))
    technologies: list[str] = field(default_factory=lambda: ["4G", "5G"], metadata=_doc(
        "technologies that count as mobile broadband (DOMAIN.md: 4G and above); at least one",
        choices=TECHNOLOGIES, nonempty=True))
    min_rsrp_dbm: float = field(default=-110.0, metadata=_doc(
        "signal threshold for \"covered\", dBm RSRP (pathloss and terrain models)",
        low=-150.0, high=-40.0))
    radius_m: dict[str, float] = field(
        default_factory=lambda: {"2G": 8000.0, "3G": 5000.0, "4G": 5000.0, "5G": 1000.0},
        metadata=_doc("radius model: service radius per technology, metres (rural, or "
                      "everywhere when radius_urban_m is not given)",
                      key_choices=TECHNOLOGIES, low=0.0, low_open=True, high=100_000.0))
    radius_urban_m: dict[str, float] = field(default_factory=dict, metadata=_doc(
        "radius model: service radius per technology for urban sites, metres; default: "
        "radius_m everywhere", key_choices=TECHNOLOGIES, low=0.0, low_open=True,
        high=100_000.0))
    urban_density_per_km2: float = field(default=1000.0, metadata=_doc(
        "a site is urban when the population within 1 km of it has at least this density "
        "(people per km², from the population raster), unless the sites carry an "
        "environment column (urban/suburban/rural)", low=0.0, high=1_000_000.0))
    pathloss_exponent: float = field(default=3.5, metadata=_doc(
        "radius model: how far a sector reaches off its boresight, r = radius x "
        "10^(pattern dB / (10 x exponent)); typical rural macro cells 3-4", low=2.0,
        high=6.0))
    resolution_m: float = field(default=0.0, metadata=_doc(
        "grid cell size of the signal rasters, metres; 0 = the DEM's resolution (or "
        "100 m without a DEM)", low=0.0, high=10_000.0))
    max_distance_m: float = field(default=20000.0, metadata=_doc(
        "no cell is computed farther than this from its site, metres (pathloss, terrain); "
        "macro cells rarely serve beyond 20 km (the 4/3-Earth radio horizon of a 30 m mast "
        "and a 1.5 m receiver is 27 km)", low=100.0, high=200_000.0))
    rx_height_m: float = field(default=1.5, metadata=_doc(
        "receiver height above ground, metres (3GPP TR 38.901 UT height 1.5 m)", low=0.0,
        high=300.0))
    environment: str = field(default="rural", metadata=_doc(
        "propagation environment where the sites say none and there is no population "
        "raster: \"rural\" | \"suburban\" | \"urban\"",
        choices=("rural", "suburban", "urban")))
    default_height_m: float = field(default=30.0, metadata=_doc(
        "antenna height above ground for cells without height_m, metres", low=1.0,
        high=300.0))
    default_eirp_dbm: dict[str, float] = field(
        default_factory=lambda: {"2G": 58.0, "3G": 58.0, "4G": 61.0, "5G": 65.0},
        metadata=_doc("EIRP over the channel for cells without eirp_dbm, dBm (typical "
                      "macro: 43-46 dBm amplifier + 15-18 dBi antenna)",
                      key_choices=TECHNOLOGIES, low=0.0, high=90.0))
    default_frequency_mhz: dict[str, float] = field(
        default_factory=lambda: {"2G": 900.0, "3G": 2100.0, "4G": 1800.0, "5G": 3500.0},
        metadata=_doc("carrier frequency for cells without frequency_mhz, MHz (the bands "
                      "Vietnamese operators use most)", key_choices=TECHNOLOGIES,
                      low=100.0, high=100_000.0))
    default_beamwidth_deg: float = field(default=65.0, metadata=_doc(
        "horizontal 3 dB beamwidth of sectors (azimuth given) without beamwidth_deg, "
        "degrees (3GPP TR 36.814 default 65°)", low=1.0, high=360.0))
    reference_signal_db: dict[str, float] = field(
        default_factory=lambda: {"2G": 0.0, "3G": 10.0, "4G": 30.8, "5G": 35.2},
        metadata=_doc("dB from the EIRP over the channel to the measured signal: 4G RSRP "
                      "is one of 1,200 subcarriers (10 log10 1200 = 30.8 dB, 20 MHz), 5G one "
                      "of 3,276 (100 MHz at 30 kHz), 3G CPICH about 10% of the power, 2G "
                      "the whole carrier", key_choices=TECHNOLOGIES, low=0.0, high=60.0))
    k_factor: float = field(default=4.0 / 3.0, metadata=_doc(
        "effective Earth radius factor for terrain profiles (ITU-R P.453: 4/3 in a "
        "standard atmosphere)", low=0.5, high=10.0, default_text="`1.33333` (4/3)"))
    diffraction: str = field(default="deygout", metadata=_doc(
        "multiple knife-edge method of the terrain model: \"deygout\" | "
        "\"epstein-peterson\" (ITU-R P.526)", choices=("deygout", "epstein-peterson")))
    maps: dict[str, LayerInput] = field(default_factory=dict, metadata=_doc(
        "raster model: operators' own coverage, \"<operator> <technology>\" = raster or "
        "polygon file, e.g. \"Viettel 4G\" = \"maps/viettel_4g.tif\""))
    maps_unit: str = field(default="dbm", metadata=_doc(
        "raster model: what the maps' rasters hold: \"dbm\" (signal) or \"binary\" "
        "(1 covered, 0 not); polygon maps are covered inside", choices=("dbm", "binary")))
    calibrate: bool = field(default=False, metadata=_doc(
        "fit measured minus modelled RSRP of [inputs] measurements per operator and "
        "technology (an offset, and a slope in log-distance with enough tests; robust to "
        "outliers) and apply it to the signal before the threshold (signal models); the "
        "fit is written to calibration.csv either way"))


@dataclass(frozen=True)
class RulesConfig:
    """``[rules]``: the province's rule for "covered" and "FTTH-ready"."""

    village_covered_share: float = field(default=0.8, metadata=_doc(
        "share (0-1) of a village's people (or area) that must be covered", low=0.0, high=1.0))
    ftth_max_distance_m: float = field(default=1000.0, metadata=_doc(
        "a village counts as FTTH-ready within this distance (metres) of a fibre feature",
        low=0.0, high=100_000.0))
    village_point_radius_m: float = field(default=0.0, metadata=_doc(
        "point villages: 0 = coverage at the point itself, > 0 = a disc of this radius (m)",
        low=0.0, high=10_000.0))
    site_sharing_m: float = field(default=30.0, metadata=_doc(
        "sites of different operators within this distance (metres) are one site location "
        "for the BTS sharing indicator (dùng chung vị trí BTS)", low=0.0, high=10_000.0))
    usp_regions: list[str] = field(default_factory=lambda: ["III"], metadata=_doc(
        "commune classes (khu vực, QĐ 861/QĐ-TTg) whose gap villages are eligible for the "
        "universal-service programme (QĐ 2269/QĐ-TTg), besides ĐBKK villages",
        choices=("I", "II", "III")))
    coverage_basis: str = field(default="any_operator", metadata=_doc(
        "what covers a village: \"any_operator\" (the union of every operator's mobile "
        "broadband, as people experience it; in-province roaming is a plan goal of seeds "
        "003 and 004) or \"single_operator\" (the best one operator alone)",
        choices=("any_operator", "single_operator")))
    usp_mobile_regions: list[str] | None = field(default=None, metadata=_doc(
        "universal service, mobile part (lõm sóng villages, QĐ 2269/QĐ-TTg): commune "
        "classes that qualify; default: usp_regions", choices=("I", "II", "III"),
        default_text="usp_regions"))
    usp_mobile_difficult: bool = field(default=True, metadata=_doc(
        "mobile part: ĐBKK villages (QĐ 612/QĐ-UBDT) qualify whatever their class"))
    usp_mobile_border: bool = field(default=False, metadata=_doc(
        "mobile part: villages of border communes (a true `border` column of the commune or "
        "village) qualify"))
    usp_mobile_island: bool = field(default=False, metadata=_doc(
        "mobile part: villages of island communes (a true `island` column) qualify"))
    usp_fibre_regions: list[str] | None = field(default=None, metadata=_doc(
        "universal service, fibre part (fibre to the cultural houses of disadvantaged "
        "villages without FTTH reach): commune classes that qualify; default: usp_regions",
        choices=("I", "II", "III"), default_text="usp_regions"))
    usp_fibre_difficult: bool = field(default=True, metadata=_doc(
        "fibre part: ĐBKK villages qualify whatever their class"))
    usp_fibre_border: bool = field(default=False, metadata=_doc(
        "fibre part: villages of border communes qualify"))
    usp_fibre_island: bool = field(default=False, metadata=_doc(
        "fibre part: villages of island communes qualify"))

    def usp_rule(self, part: str) -> UspRule:
        """Return the rule of one universal-service part, ``"mobile"`` or ``"fibre"``."""
        regions = getattr(self, f"usp_{part}_regions")
        return UspRule(regions=list(self.usp_regions if regions is None else regions),
                       difficult=getattr(self, f"usp_{part}_difficult"),
                       border=getattr(self, f"usp_{part}_border"),
                       island=getattr(self, f"usp_{part}_island"))


@dataclass(frozen=True)
class EvidenceConfig:
    """``[evidence]``: how measured tests are joined to villages and what they decide."""

    village_radius_m: float = field(default=500.0, metadata=_doc(
        "a test belongs to a point village within this distance (metres); to a polygon "
        "village when inside it", low=0.0, high=10_000.0))
    measurements_decide: bool = field(default=False, metadata=_doc(
        "where a village's tests disagree with the model, its verdict (mbb_covered) "
        "follows the tests; either way the disagreement is listed in disputes.csv"))
    min_tests: int = field(default=3, metadata=_doc(
        "tests of one operator a village needs for its evidence to count as strong "
        "(confidence, suggested actions)", low=1, high=1000))


@dataclass(frozen=True)
class UspRule:
    """One universal-service part's rule (:meth:`RulesConfig.usp_rule`)."""

    regions: list[str]
    difficult: bool = True
    border: bool = False
    island: bool = False


@dataclass(frozen=True)
class TargetsConfig:
    """``[targets]``: plan targets the indicators are held against (percent or count)."""

    villages_mbb_pct: float | None = field(default=100.0, metadata=_doc(
        "villages covered by mobile broadband, % (both plans: 100% by 2025)", low=0.0, high=100.0))
    villages_ftth_pct: float | None = field(default=100.0, metadata=_doc(
        "villages with FTTH, % (both plans: 100% by 2025)", low=0.0, high=100.0))
    bts_sharing_pct: float | None = field(default=15.0, metadata=_doc(
        "BTS site locations used by two or more operators, % (Thanh Hóa 15%, Huế 30%)",
        low=0.0, high=100.0))
    population_mbb_pct: float | None = field(default=None, metadata=_doc(
        "population covered by mobile broadband, %; default: no target", low=0.0, high=100.0))
    commune_centres_5g_pct: float | None = field(default=None, metadata=_doc(
        "commune centres with 5G, % (100% by 2030); default: no target", low=0.0, high=100.0))
    households_mbb_pct: float | None = field(default=None, metadata=_doc(
        "households in villages covered by mobile broadband, %; default: no target",
        low=0.0, high=100.0))
    households_ftth_pct: float | None = field(default=None, metadata=_doc(
        "households in villages with FTTH reach, % (seed 001: 80%; seed 003: 100% able to "
        "get fibre on request); default: no target", low=0.0, high=100.0))
    places_5g_pct: dict[str, float] = field(default_factory=dict, metadata=_doc(
        "places with 5G, % per place kind, e.g. { town_centre = 100, economic_zone = 100 } "
        "(seed 001: 5G at town centres and the Nghi Sơn economic zone by 2025)",
        low=0.0, high=100.0))
    places_fibre_pct: dict[str, float] = field(default_factory=dict, metadata=_doc(
        "places with fibre within [rules] ftth_max_distance_m, % per place kind",
        low=0.0, high=100.0))
    usp_mobile_villages: float | None = field(default=None, metadata=_doc(
        "villages eligible for the mobile part of universal service, count (lower is "
        "better); default: no target", low=0.0, high=10_000_000.0))
    usp_fibre_villages: float | None = field(default=None, metadata=_doc(
        "villages eligible for the fibre part of universal service, count (lower is "
        "better); default: no target", low=0.0, high=10_000_000.0))
    usp_villages: float | None = field(default=None, metadata=_doc(
        "universal-service eligible villages, count (lower is better); default: no target",
        low=0.0, high=10_000_000.0))
    mbb_download_mbps: float | None = field(default=None, metadata=_doc(
        "median measured mobile download speed, Mb/s ([inputs] measurements; seed 003: 70 "
        "Mb/s); default: no target", low=0.0, high=100_000.0))
    fixed_download_mbps: float | None = field(default=None, metadata=_doc(
        "median measured fixed (FTTH) download speed, Mb/s; default: no target",
        low=0.0, high=100_000.0))
    reported: dict[str, float] = field(default_factory=dict, metadata=_doc(
        "targets of the [reported] statistics, by their id, written directly in [targets] "
        "(e.g. smartphone_share_pct = 85); each must be an id of [reported]",
        low=-1e12, high=1e12, rest=True, default_text="`{}`"))
    communes: dict[str, dict[str, float]] = field(default_factory=dict, metadata=_doc(
        "targets of single communes, as [targets.communes.\"15001\"] bts_sharing_pct = 30; "
        "commune rows get a target only from here or communes_file",
        low=-1e12, high=1e12))
    communes_file: Path | None = field(default=None, metadata=_doc(
        "CSV of commune targets: a commune_code column and one column per indicator id "
        "(empty cells: no target)"))


@dataclass(frozen=True)
class CandidatesConfig:
    """``[candidates]``: the candidate-site search."""

    max_sites: int = field(default=50, metadata=_doc(
        "the most candidate sites to propose", low=0, high=100_000))
    mode: str = field(default="greedy", metadata=_doc(
        "\"greedy\" (lazy greedy, any size) or \"exact\" (integer program, HiGHS; also "
        "reports how far greedy is from the optimum)", choices=("greedy", "exact")))
    per_operator: bool = field(default=False, metadata=_doc(
        "false: one operator-neutral plan for villages no one covers; true: a plan per "
        "operator for the villages it does not cover"))
    technology: str = field(default="4G", metadata=_doc(
        "technology of a candidate site", choices=TECHNOLOGIES))
    height_m: float = field(default=35.0, metadata=_doc(
        "antenna height of a new candidate site, metres (shared towers keep their own)",
        low=1.0, high=300.0))
    eirp_dbm: float = field(default=61.0, metadata=_doc(
        "EIRP of a candidate site, dBm (typical 4G macro)", low=0.0, high=90.0))
    frequency_mhz: float = field(default=1800.0, metadata=_doc(
        "carrier frequency of a candidate site, MHz (LTE band 3)", low=100.0,
        high=100_000.0))
    grid_spacing_m: float = field(default=2000.0, metadata=_doc(
        "spacing of the grid of new-site candidates over uncovered populated land, metres",
        low=100.0, high=100_000.0))
    high_point_radius_m: float = field(default=2000.0, metadata=_doc(
        "the highest DEM point within this distance of each uncovered village is a "
        "candidate (terrain model), metres; 0 = none", low=0.0, high=100_000.0))
    priority_weight: float = field(default=2.0, metadata=_doc(
        "people in region-III communes or ĐBKK villages count this many times (the "
        "universal-service programme pays for them first)", low=1.0, high=1000.0))
    cost_new_site: float | None = field(default=None, metadata=_doc(
        "unit price of a new site, triệu đồng (million VND); default: none, so no cost "
        "is shown and sites are ranked by the people they newly cover", low=0.0,
        high=MAX_COST))
    cost_shared_site: float | None = field(default=None, metadata=_doc(
        "unit price of adding equipment to an existing tower, triệu đồng; give it with "
        "cost_new_site", low=0.0, high=MAX_COST))
    fibre_cost_per_km: float | None = field(default=None, metadata=_doc(
        "unit price of a fibre extension per km, triệu đồng; default: none, no fibre cost "
        "is shown", low=0.0, high=MAX_COST))
    cost_source: str = field(default="", metadata=_doc(
        "where the unit prices come from (e.g. the decision or the operators' quotation "
        "that sets them); printed beside every cost"))
    budget: float | None = field(default=None, metadata=_doc(
        "total budget for candidate sites, triệu đồng; needs the unit prices "
        "cost_new_site and cost_shared_site; default: no budget, max_sites only",
        low=0.0, high=MAX_COST))
    satellite_cost_per_person: float = field(default=5.0, metadata=_doc(
        "with unit prices: villages whose cheapest terrestrial option costs more than this "
        "per person served are listed for satellite, triệu đồng; without prices (and "
        "always) villages no candidate reaches are listed", low=0.0, high=MAX_COST))
    time_limit_s: float = field(default=60.0, metadata=_doc(
        "time limit of the exact mode, seconds", low=1.0, high=86_400.0))


@dataclass(frozen=True)
class OutputConfig:
    """``[output]``: where run directories go."""

    dir: Path = field(default=Path("out"), metadata=_doc(
        "parent of run directories: <dir>/<name>/<year>/"))
    language: str = field(default="en", metadata=_doc(
        "language of every text a person reads: the CSVs' column names and their reason, "
        "fix, status, gap and kind cells, `appendix.docx`, `figures/` and the CLI summary: "
        "\"en\" (covgap's names, as SPEC.md lists them) or \"vi\" (Vietnamese, for "
        "operators' and departments' staff). The CSVs keep machine-readable numbers in "
        "either language", choices=("en", "vi")))
    headers: str | None = field(default=None, metadata=_doc(
        "older name of `language`, still read: when given, and `language` is not, it sets "
        "`language`", choices=("en", "vi")))
    map_max_villages: int = field(default=20000, metadata=_doc(
        "above this many villages, when the communes have a `province` column, "
        "`map.html` is a national overview (communes, gap villages, candidate sites, a "
        "link per province) and each province gets its full map in "
        "`maps/<province>.html`; 0 = always one map", low=0, high=100_000_000))
    figures_max_communes: int = field(default=200, metadata=_doc(
        "`figures/` holds a map of at most this many communes with a gap (those with the "
        "most gap villages first), besides the province's map; a province has at most "
        "about 170 communes, so every commune of a province run is drawn, while a "
        "national run draws its worst 200 (about 0.25 s each); 0 = no commune map",
        low=0, high=100_000_000))
    report_gaps_per_commune: int = field(default=10, metadata=_doc(
        "the gap sheets of `report.xlsx` (and its technical sheet) list at most this many "
        "gap villages per commune, highest priority first, each commune's subtotal "
        "counting all of them; `gaps.csv`, `gaps_all.csv` and `lists.xlsx` hold every "
        "gap; 0 = list every gap in the report too", low=0, high=100_000_000))
    district_rows: bool = field(default=False, metadata=_doc(
        "add district (huyện) rows to the indicators; districts were abolished on "
        "01/7/2025, so they are off unless a report still asks for them"))

    def __post_init__(self) -> None:
        if self.headers is not None and self.language == "en":
            object.__setattr__(self, "language", self.headers)


@dataclass(frozen=True)
class LegalConfig:
    """``[legal]``: the decisions the outputs cite, so a province cites the current ones.

    The defaults are the decisions in force for 2021–2025; when the 2026–2030 decisions
    are issued, give their number, date and title here.
    """

    period: str = field(default="2021–2025", metadata=_doc(
        "the period the decisions below cover"))
    usp_number: str = field(default="2269/QĐ-TTg", metadata=_doc(
        "number of the universal-service (viễn thông công ích) programme decision"))
    usp_date: str = field(default="31/12/2021", metadata=_doc("its date, dd/mm/yyyy"))
    usp_title: str = field(default=(
        "Phê duyệt Chương trình cung cấp dịch vụ viễn thông công ích đến năm 2025"),
        metadata=_doc("its title"))
    regions_number: str = field(default="861/QĐ-TTg", metadata=_doc(
        "number of the decision classing communes into khu vực I, II, III"))
    regions_date: str = field(default="04/6/2021", metadata=_doc("its date, dd/mm/yyyy"))
    regions_title: str = field(default=(
        "Phê duyệt danh sách các xã khu vực III, khu vực II, khu vực I thuộc vùng đồng bào "
        "dân tộc thiểu số và miền núi giai đoạn 2021–2025"), metadata=_doc("its title"))
    difficult_number: str = field(default="612/QĐ-UBDT", metadata=_doc(
        "number of the decision listing the ĐBKK (especially difficult) villages"))
    difficult_date: str = field(default="16/9/2021", metadata=_doc("its date, dd/mm/yyyy"))
    difficult_title: str = field(default=(
        "Phê duyệt danh sách các thôn đặc biệt khó khăn vùng đồng bào dân tộc thiểu số và "
        "miền núi giai đoạn 2021–2025"), metadata=_doc("its title"))

    def decisions(self) -> list[tuple[str, str, str, str]]:
        """Return (what, number, date, title) of each decision, in citing order.

        Examples
        --------
        >>> LegalConfig().decisions()[0][:3]
        ('usp', '2269/QĐ-TTg', '31/12/2021')
        """
        return [(key, getattr(self, f"{key}_number"), getattr(self, f"{key}_date"),
                 getattr(self, f"{key}_title")) for key in ("usp", "regions", "difficult")]

    def cite(self, key: str) -> str:
        """Return the short citation of a decision, e.g. "QĐ 2269/QĐ-TTg".

        Examples
        --------
        >>> LegalConfig().cite("regions")
        'QĐ 861/QĐ-TTg'
        """
        return f"QĐ {getattr(self, f'{key}_number')}"


@dataclass(frozen=True)
class ComputeConfig:
    """``[compute]``: where the pathloss and terrain models run, and in what pieces.

    Sites are computed tile by tile (by where they stand) and the tiles' rasters merged
    in a fixed order, so every scheduler gives the same rasters, bit for bit.
    """

    scheduler: str = field(default="local", metadata=_doc(
        "\"local\": in this process; \"dask\": the tiles run on a Dask cluster "
        "(dask.distributed; pip install 'covgap[dask]')", choices=("local", "dask")))
    address: str = field(default="", metadata=_doc(
        "the Dask scheduler's address, e.g. \"tcp://10.0.0.5:8786\"; empty: start a "
        "cluster of worker processes on this machine"))
    workers: int = field(default=0, metadata=_doc(
        "worker processes of the cluster started on this machine (address empty); "
        "0: one per core", low=0, high=4096))
    tile_m: float = field(default=50000.0, metadata=_doc(
        "side of the square tiles sites are batched by, metres: a tile's sites are "
        "computed together over the part of the grid they reach (one Dask task each); "
        "40,000 km (the Earth's circumference) makes one tile of any run",
        low=1000.0, high=40_000_000.0))


@dataclass(frozen=True)
class Config:
    """A whole, validated configuration.  Build it with :func:`load_config`."""

    run: RunConfig = field(default_factory=RunConfig)
    inputs: InputsConfig = field(default_factory=InputsConfig)
    checks: ChecksConfig = field(default_factory=ChecksConfig)
    coverage: CoverageConfig = field(default_factory=CoverageConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)
    targets: TargetsConfig = field(default_factory=TargetsConfig)
    candidates: CandidatesConfig = field(default_factory=CandidatesConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    compute: ComputeConfig = field(default_factory=ComputeConfig)
    legal: LegalConfig = field(default_factory=LegalConfig)
    reported: dict[str, float] = field(default_factory=dict, metadata=_doc(
        "operator-reported statistics shown beside the map indicators, marked as supplied: "
        "indicator id = value, e.g. mobile_subscriptions_per_100 = 128.4, "
        "smartphone_share_pct = 86"))
    source: Path | None = field(default=None, compare=False, metadata=_doc(
        "the file this configuration was read from", internal=True))

    @property
    def display_name(self) -> str:
        """The province's name for maps and reports: ``[run] title``, else ``name``."""
        return self.run.title or self.run.name

    def run_dir(self) -> Path:
        """Return the run directory ``<output.dir>/<run.name>/<run.year>``."""
        return self.output.dir / self.run.name / str(self.run.year)

    def to_dict(self) -> dict[str, Any]:
        """Return the effective configuration as plain TOML-compatible data."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)
                if not f.metadata.get("internal")}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is not None:
                out[f.name] = _plain(v)
        return out
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- loading


def load_config(
    source: str | Path | Mapping[str, Any] | Config,
    *,
    base_dir: str | Path | None = None,
) -> Config:
    """Read and validate a configuration.

    Parameters
    ----------
    source : str, Path, mapping or Config
        Path to a TOML file, or a dict with the same structure.  A :class:`Config`
        is returned unchanged.
    base_dir : str or Path, optional
        Folder relative paths are resolved against; default: the TOML file's folder,
        or the current directory for a dict.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        Listing every problem found: unknown keys (with the valid ones), wrong types,
        values out of range, missing required inputs, unreadable TOML.
    """
    if isinstance(source, Config):
        return source
    src_path: Path | None = None
    if isinstance(source, str | Path):
        src_path = Path(source)
        if not src_path.is_file():
            raise ConfigError(f"{src_path}: configuration file not found")
        try:
            data = tomllib.loads(src_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{src_path}: not valid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{src_path}: not UTF-8 text: {exc}") from None
        base = Path(base_dir) if base_dir is not None else src_path.resolve().parent
        label = str(src_path)
    elif isinstance(source, Mapping):
        data = dict(source)
        base = Path(base_dir) if base_dir is not None else Path.cwd()
        label = "configuration"
    else:
        raise TypeError(f"load_config expects a path, a dict or a Config, got {type(source)!r}")

    problems: list[str] = []
    cfg = _build(Config, data, "", problems, base)
    if cfg is not None:
        given = data.get("inputs") if isinstance(data.get("inputs"), Mapping) else {}
        for name in LAYERS:
            meta = _field(InputsConfig, name).metadata
            if (meta.get("required") and getattr(cfg.inputs, name) is None
                    and given.get(name) is None):  # a given but bad layer is reported already
                problems.append(f"[inputs] {name} is required: {meta['doc']}")
        unknown_layers = sorted(set(cfg.inputs.columns) - set(VECTOR_LAYERS))
        if unknown_layers:
            problems.append(
                f"[inputs.columns] unknown layer {', '.join(map(repr, unknown_layers))}; "
                f"valid: {', '.join(VECTOR_LAYERS)}")
        cc = cfg.candidates
        if (cc.cost_new_site is None) != (cc.cost_shared_site is None):
            problems.append("[candidates] cost_new_site and cost_shared_site go together: "
                            "give both unit prices (triệu đồng) or neither")
        if cc.budget is not None and (cc.cost_new_site is None or cc.cost_shared_site is None):
            problems.append("[candidates] budget needs unit prices: give cost_new_site and "
                            "cost_shared_site (triệu đồng) and cost_source, or leave budget "
                            "out and use max_sites")
        for key in sorted(set(cfg.targets.reported) - set(cfg.reported)):
            known = [f.name for f in dataclasses.fields(TargetsConfig)
                     if not f.metadata.get("rest")]
            problems.append(
                f"[targets]: unknown key {key!r}; valid keys: {', '.join(known)}, or the id "
                "of a statistic given in [reported]")
    if problems:
        raise ConfigError(f"{label}: {len(problems)} problem(s)", problems)
    assert cfg is not None
    if not cfg.output.dir.is_absolute():  # the default "out" is relative too
        cfg = dataclasses.replace(cfg, output=dataclasses.replace(
            cfg.output, dir=Path(os.path.normpath(base / cfg.output.dir))))
    return dataclasses.replace(cfg, source=src_path.resolve() if src_path else None)


def _field(cls: type, name: str) -> dataclasses.Field:
    return next(f for f in dataclasses.fields(cls) if f.name == name)


def _where(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _build(cls: type, data: Any, where: str, problems: list[str], base: Path) -> Any:
    """Build dataclass ``cls`` from ``data``, appending problems instead of raising."""
    if not isinstance(data, Mapping):
        problems.append(f"[{where}] must be a table, got {data!r}")
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    rest = next((f.name for f in fields.values() if f.metadata.get("rest")), None)
    if rest is not None:  # unknown keys go into the "rest" table, checked by its caller
        extra = {k: v for k, v in data.items() if k not in fields}
        data = {k: v for k, v in data.items() if k in fields}
        if extra:
            data[rest] = {**extra, **(data.get(rest) or {})}
    for key in data:
        if key not in fields:
            label = f"[{where}]" if where else "top level"
            problems.append(
                f"{label}: unknown key {key!r}; valid keys: {', '.join(fields)}")
    kwargs: dict[str, Any] = {}
    bad = False
    for name, f in fields.items():
        if name not in data:
            continue
        value = _convert(hints[name], data[name], _where(where, name), problems, base, f)
        if value is not _BAD:
            kwargs[name] = value
        else:
            bad = True
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field of a nested table is missing
        if not bad:  # a bad value was reported already; its absence is no news
            problems.append(f"[{where}] {exc}")
        return None


_BAD = object()


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _range_text(meta: Mapping[str, Any]) -> str:
    """Return a numeric key's range as documented: ``"0..1"``, ``"more than 0, at most 10"``."""
    lo, hi = meta.get("low"), meta.get("high")
    if lo is None and hi is None:
        return "any finite number"
    if meta.get("low_open"):
        return f"more than {lo:g}" + ("" if hi is None else f", at most {hi:g}")
    return f"{'-inf' if lo is None else f'{lo:g}'}..{'inf' if hi is None else f'{hi:g}'}"


def _value_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Return the part of a table field's metadata that applies to each of its values."""
    return {k: meta[k] for k in ("low", "high", "low_open") if k in meta}


def _convert(tp: Any, value: Any, where: str, problems: list[str], base: Path,
             f: dataclasses.Field | None = None,
             meta: Mapping[str, Any] | None = None) -> Any:
    if meta is None:
        meta = f.metadata if f is not None else {}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if value is None:
            return None
        return _convert(inner[0], value, where, problems, base, f, meta)
    if dataclasses.is_dataclass(tp) and tp is not LayerInput:
        section = _build(tp, value, where, problems, base)
        return _BAD if section is None else section
    if tp is LayerInput:
        if isinstance(value, str):
            value = {"path": value}
        if isinstance(value, Mapping) and "path" not in value:
            problems.append(f"{where}: a layer table needs a 'path' key")
            return _BAD
        layer = _build(LayerInput, value, where, problems, base)
        return _BAD if layer is None else layer
    if tp is Path:
        if not isinstance(value, str):
            problems.append(f"{where}: expected a path string, got {value!r}")
            return _BAD
        if "\0" in value:
            problems.append(f"{where}: {value!r} contains a NUL character; a path cannot")
            return _BAD
        p = Path(value).expanduser()
        # normpath: "data/../out" is shown to users as "out"
        return Path(os.path.normpath(p if p.is_absolute() else base / p))
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(f"{where}: expected true or false, got {value!r}")
            return _BAD
        return value
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                tp is int and not isinstance(value, int)):
            problems.append(f"{where}: expected a number ({_type_name(tp)}), got {value!r}")
            return _BAD
        lo, hi = meta.get("low"), meta.get("high")
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{where}: {value!r} is not a finite number; valid: "
                            f"{_range_text(meta)}")
            return _BAD
        if ((lo is not None and (value <= lo if meta.get("low_open") else value < lo))
                or (hi is not None and value > hi)):
            problems.append(f"{where}: {value!r} is outside {_range_text(meta)}")
            return _BAD
        return tp(value)
    if tp is str:
        if not isinstance(value, str):
            problems.append(f"{where}: expected a string, got {value!r}")
            return _BAD
        if "\0" in value:
            problems.append(f"{where}: {value!r} contains a NUL character")
            return _BAD
        if meta.get("path_name") and (not _RUN_NAME.fullmatch(value) or ".." in value
                                      or value != value.strip()):
            problems.append(f"{where}: {value!r} is not valid; {RUN_NAME_RULE}")
            return _BAD
        choices = meta.get("choices")
        if choices and value not in choices:
            problems.append(f"{where}: {value!r} is not one of {', '.join(choices)}")
            return _BAD
        return value
    if origin is list:
        if not isinstance(value, list):
            problems.append(f"{where}: expected a list, got {value!r}")
            return _BAD
        if meta.get("nonempty") and not value:
            problems.append(f"{where}: the list is empty; give at least one of "
                            f"{', '.join(meta.get('choices') or ())}")
            return _BAD
        out = [_convert(args[0], v, f"{where}[{i}]", problems, base) for i, v in
               enumerate(value)]
        choices = meta.get("choices")
        if choices:
            bad = [v for v in out if v not in choices]
            if bad:
                problems.append(
                    f"{where}: {', '.join(map(repr, bad))} not valid; valid: {', '.join(choices)}")
                return _BAD
        return _BAD if any(v is _BAD for v in out) else out
    if origin is dict:
        if not isinstance(value, Mapping):
            problems.append(f"{where}: expected a table, got {value!r}")
            return _BAD
        key_choices = meta.get("key_choices")
        out = {}
        for k, v in value.items():
            if key_choices and k not in key_choices:
                problems.append(
                    f"{where}: unknown key {k!r}; valid keys: {', '.join(key_choices)}")
                continue
            out[k] = _convert(args[1], v, f"{where}.{k}", problems, base,
                              meta=_value_meta(meta))
        if any(v is _BAD for v in out.values()):
            return _BAD
        if f is not None and key_choices and f.default_factory is not dataclasses.MISSING:
            # a partial table refines the defaults instead of replacing them
            merged = dict(f.default_factory())
            merged.update(out)
            return merged
        return out
    raise TypeError(f"unsupported configuration type {tp!r} at {where}")  # pragma: no cover


# --------------------------------------------------------------------------- docs


_SECTIONS = [f for f in dataclasses.fields(Config) if not f.metadata.get("internal")]


def reference_markdown() -> str:
    """Return the configuration reference (every key, its default and meaning) as Markdown.

    ``docs/configuration.md`` is this text; a test checks they agree.
    """
    lines = [
        "# Configuration reference",
        "",
        "Generated from `covgap/config.py` by `make docs`;",
        "a test keeps them in step. Relative paths are resolved against the configuration",
        "file's folder. An unknown key is an error. Every number must be finite (no `nan`",
        "or `inf`) and inside the range in the *valid* column; all problems of a",
        "configuration are listed together, each with its key, value and range.",
        "",
    ]
    hints = typing.get_type_hints(Config)
    for sec in _SECTIONS:
        cls = hints[sec.name]
        if not dataclasses.is_dataclass(cls):  # a free table such as [reported]
            lines += [f"## `[{sec.name}]`", "", sec.metadata.get("doc", ""), "",
                      f"Default: {_default_text(sec)}.", ""]
            continue
        lines += [f"## `[{sec.name}]`", "", (cls.__doc__ or "").split("\n")[0].split(": ", 1)[-1],
                  "", "| key | default | valid | meaning |", "|---|---|---|---|"]
        for f in dataclasses.fields(cls):
            lines.append(f"| `{f.name}` | {_default_text(f)} | {_valid_text(f)} | "
                         f"{f.metadata.get('doc', '')} |")
        lines.append("")
    lines += ["## Layer tables", "",
              "Each `[inputs]` layer is a path string or a table with these keys:", "",
              "| key | default | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(LayerInput):
        lines.append(f"| `{f.name}` | {_default_text(f)} | {f.metadata.get('doc', '')} |")
    lines.append("")
    return "\n".join(lines)


def _valid_text(f: dataclasses.Field) -> str:
    """Return the *valid* column of the reference: a number's range, a list's minimum length."""
    meta = f.metadata
    if "low" in meta or "high" in meta:
        return _range_text(meta)
    if meta.get("nonempty"):
        return "at least one"
    if meta.get("path_name"):
        return "a name (no `/`, `\\`, `..`)"
    return ""


def _default_text(f: dataclasses.Field) -> str:
    if "default_text" in f.metadata:
        return f.metadata["default_text"]
    if f.metadata.get("required"):
        return "required"
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "required"
    if value is None:
        return "none"
    if isinstance(value, Path):
        return f'`"{value}"`'
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, dict):
        if not value:
            return "`{}`"
        return "`{" + ", ".join(f'"{k}" = {v:g}' if isinstance(v, float) else f'"{k}" = {v}'
                                for k, v in value.items()) + "}`"
    if isinstance(value, list):
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


if __name__ == "__main__":  # pragma: no cover
    print(reference_markdown())
