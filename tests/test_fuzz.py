"""Property-based fuzzing of the configuration and the input layers (issue 14).

Malformed configurations and tiny malformed layers -- dropped columns, wrong types, NaN
and inf, huge numbers, empty strings, random geometry types, zero-width and
right-to-left marks -- must each end in a result or in :class:`covgap.InputError`
(:class:`covgap.ConfigError`) with a message: never in another exception, which the
command line would show as "this is a bug in covgap".

Only :func:`covgap.load_config` and :func:`covgap.read_inputs` run, on layers of at most
four features, so the 300+ examples of a run take well under a minute.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import typing
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import Province
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiPoint,
    Point,
    Polygon,
)

import covgap
from covgap import config as cfgmod

pytestmark = pytest.mark.filterwarnings("ignore")

FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])

# ------------------------------------------------------------------ values

ODD = "\u200b\u200e\u200f\u202e\u2066\ufeff\x00\n;,.\"'=+-/\\ "
odd_text = st.text(alphabet=st.sampled_from(list("aZ09đƯ中国 " + ODD)), max_size=8)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e308, -1e308, 1e-320, 2**63, -(2**63), 10**30]),
    st.integers(min_value=-(10**6), max_value=10**6))
scalars = st.one_of(numbers, odd_text, st.booleans(), st.none(),
                    st.sampled_from(["", "nan", "inf", "-inf", "2.020", "2,5", "1.234,5",
                                     "../../x", "/abs", "4G", "Viettel"]))
values = st.one_of(scalars, st.lists(scalars, max_size=3),
                   st.dictionaries(odd_text, scalars, max_size=3))


# ------------------------------------------------------------------ configurations

def _sections() -> tuple[dict[str, list[str]], dict[tuple[str, str], dict]]:
    hints = typing.get_type_hints(cfgmod.Config)
    out, meta = {}, {}
    for f in dataclasses.fields(cfgmod.Config):
        if f.metadata.get("internal"):
            continue
        cls = hints[f.name]
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else []
        out[f.name] = [g.name for g in fields] or ["x"]
        meta.update({(f.name, g.name): dict(g.metadata) for g in fields})
    return out, meta


SECTIONS, META = _sections()


def plausible(section: str, key: str) -> st.SearchStrategy:
    """Values near the valid ones of a key: its range's ends and beyond, its choices."""
    meta = META.get((section, key), {})
    lo, hi = meta.get("low"), meta.get("high")
    if lo is not None or hi is not None:
        lo = -1e6 if lo is None else lo
        hi = 1e6 if hi is None else hi
        edge = st.sampled_from([lo, hi, lo - 1, hi + 1, (lo + hi) / 2])
        return st.one_of(st.floats(lo, hi), st.integers(int(lo), int(hi)), edge)
    choices = meta.get("choices")
    if choices:
        return st.one_of(st.sampled_from(list(choices)),
                         st.lists(st.sampled_from(list(choices)), max_size=3))
    return values
REQUIRED = {"communes": "c.gpkg", "villages": "v.gpkg", "sites": "s.csv"}

@st.composite
def configurations(draw) -> dict:
    data: dict = {"inputs": dict(REQUIRED)} if draw(st.integers(0, 4)) else {}
    for _ in range(draw(st.integers(0, 4))):
        section = draw(st.sampled_from([*sorted(SECTIONS), "bogus"]))
        keys = SECTIONS.get(section, ["k"])
        key = draw(st.sampled_from(keys) if draw(st.integers(0, 5)) else odd_text)
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            continue
        table[key] = draw(plausible(section, key) if draw(st.integers(0, 3)) else values)
    if draw(st.integers(0, 9)) == 0:
        data[draw(st.sampled_from(sorted(SECTIONS)))] = draw(scalars)  # a section not a table
    return data


@settings(FUZZ, max_examples=260)
@given(configurations())
def test_any_configuration_loads_or_is_refused_with_a_message(data):
    try:
        cfg = cfgmod.load_config(data, base_dir="/data")
    except covgap.ConfigError as exc:
        assert exc.problems and all(p.strip() for p in exc.problems), str(exc)
        return
    # an accepted configuration holds only finite numbers in their ranges
    for section in dataclasses.fields(cfg):
        value = getattr(cfg, section.name)
        if not dataclasses.is_dataclass(value):
            continue
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            items = v.values() if isinstance(v, dict) else [v]
            for item in items:
                if isinstance(item, float):
                    assert math.isfinite(item), (section.name, f.name, item)
                    lo, hi = f.metadata.get("low"), f.metadata.get("high")
                    assert lo is None or item >= lo
                    assert hi is None or item <= hi
    assert "/" not in cfg.run.name and ".." not in cfg.run.name


# ------------------------------------------------------------------ layers

GEOMETRIES = st.sampled_from([
    Point(105.25, 19.95), Point(105.35, 20.05), Point(float("nan"), 20.0), Point(),
    Point(1e300, -1e300), Point(19.95, 105.25), LineString([(105.2, 19.9), (105.3, 20.0)]),
    Polygon([(105.21, 19.91), (105.22, 19.91), (105.22, 19.92)]),
    Polygon([(105.3, 19.95), (105.31, 19.95), (105.32, 19.95)]),  # zero area
    Polygon([(105.2, 19.9), (105.3, 20.0), (105.3, 19.9), (105.2, 20.0)]),  # bow tie
    MultiPoint([(105.25, 19.95), (105.26, 19.96)]), GeometryCollection(), None])

LAYERS = {
    "villages": {"village_id": lambda i: f"V{i}", "village_name": lambda i: "Bản Lát",
                 "commune_code": lambda i: "15001", "population": lambda i: 300,
                 "households": lambda i: 70, "difficult": lambda i: "có"},
    "sites": {"site_id": lambda i: f"S{i}", "operator": lambda i: "Viettel",
              "technology": lambda i: "4G", "azimuth_deg": lambda i: 120,
              "height_m": lambda i: 30, "eirp_dbm": lambda i: 58,
              "frequency_mhz": lambda i: 1800},
}


@st.composite
def layers(draw) -> tuple[str, str, pd.DataFrame, list]:
    name = draw(st.sampled_from(sorted(LAYERS)))
    fmt = draw(st.sampled_from(["csv", "gpkg"] if name == "villages" else ["csv"]))
    n = draw(st.sampled_from([0, 1, 2, 3, 4, 4]))
    columns = dict(LAYERS[name])
    dropped = (draw(st.sets(st.sampled_from(sorted(columns)), max_size=2))
               if draw(st.integers(0, 2)) == 0 else set())
    frame = {}
    for col, good in columns.items():
        if col in dropped:
            continue
        frame[col] = [good(i) if draw(st.integers(0, 9)) else draw(scalars) for i in range(n)]
    if draw(st.integers(0, 5)) == 0:
        frame[draw(odd_text) or "extra"] = [draw(scalars) for _ in range(n)]
    geoms = [Point(105.25 + 0.02 * i, 19.95) if draw(st.integers(0, 9)) else draw(GEOMETRIES)
             for i in range(n)]
    return name, fmt, pd.DataFrame(frame, index=range(n)), geoms


def _write(folder: Path, name: str, fmt: str, frame: pd.DataFrame, geoms: list) -> dict:
    if fmt == "csv":
        out = frame.copy()
        out["lon"] = [g.x if isinstance(g, Point) and not g.is_empty else "" for g in geoms]
        out["lat"] = [g.y if isinstance(g, Point) and not g.is_empty else "" for g in geoms]
        path = folder / f"{name}.csv"
        out.to_csv(path, index=False, sep=";" if len(frame.columns) % 2 else ",")
        return {"path": str(path)}
    text = frame.map(lambda v: None if v is None else str(v).replace("\0", ""))
    gdf = gpd.GeoDataFrame(text, geometry=gpd.GeoSeries(geoms, index=frame.index),
                           crs="EPSG:4326")
    path = folder / f"{name}.gpkg"
    gdf.to_file(path, layer=name)
    return {"path": str(path)}


@pytest.fixture(scope="module")
def province_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    Province(root)
    return root


_counter = itertools.count()


@settings(FUZZ, max_examples=60)
@given(layer=layers())
def test_any_layer_reads_or_is_refused_with_a_message(province_dir, layer):
    name, fmt, frame, geoms = layer
    folder = province_dir / f"ex{next(_counter)}"
    folder.mkdir()
    spec = _write(folder, name, fmt, frame, geoms)
    province = Province.__new__(Province)
    province.root, province.communes = province_dir, province_dir / "communes.gpkg"
    province.villages, province.sites = province_dir / "villages.gpkg", province_dir / "bts.csv"
    province.fibre = province_dir / "fibre.gpkg"
    cfg = province.config(inputs={name: spec})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            inputs = covgap.read_inputs(cfg)
        except covgap.InputError as exc:
            assert str(exc).strip()
            assert exc.problems, str(exc)
            return
    layer_out = getattr(inputs, name)
    assert len(layer_out) <= len(frame)
