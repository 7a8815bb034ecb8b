from pathlib import Path

import pytest

from covgap.config import Config, load_config, reference_markdown
from covgap.errors import ConfigError, InputError

REQUIRED = {"inputs": {"communes": "c.gpkg", "villages": "v.gpkg", "sites": "s.csv"}}
REPO = Path(__file__).resolve().parent.parent


def test_defaults_documented_in_spec():
    cfg = load_config(REQUIRED, base_dir="/data")
    assert cfg.coverage.model == "radius"
    assert cfg.coverage.technologies == ["4G", "5G"]
    assert cfg.coverage.min_rsrp_dbm == -110
    assert cfg.rules.village_covered_share == 0.8
    assert cfg.rules.ftth_max_distance_m == 1000
    assert cfg.rules.village_point_radius_m == 0
    assert cfg.targets.villages_mbb_pct == 100
    assert cfg.targets.bts_sharing_pct == 15
    assert cfg.candidates.max_sites == 50
    assert cfg.output.dir == Path("/data/out")
    assert cfg.inputs.sites.path == Path("/data/s.csv")


def test_relative_paths_resolve_against_the_toml_folder(tmp_path):
    sub = tmp_path / "cfg"
    sub.mkdir()
    (sub / "run.toml").write_text(
        '[inputs]\ncommunes = "b/c.gpkg"\nvillages = "/abs/v.gpkg"\n'
        'sites = { path = "../s.csv", x = "lon", y = "lat", crs = "EPSG:4326" }\n'
        '[output]\ndir = "runs"\n', encoding="utf-8")
    cfg = load_config(sub / "run.toml")
    assert cfg.inputs.communes.path == sub / "b" / "c.gpkg"
    assert cfg.inputs.villages.path == Path("/abs/v.gpkg")
    assert cfg.inputs.sites.path == tmp_path / "s.csv"
    assert cfg.inputs.sites.x == "lon" and cfg.inputs.sites.crs == "EPSG:4326"
    assert cfg.output.dir == sub / "runs"
    assert cfg.source == (sub / "run.toml").resolve()


def test_unknown_keys_are_named_with_the_valid_ones():
    data = {**REQUIRED, "rules": {"village_coverd_share": 0.5}, "colour": {}}
    with pytest.raises(ConfigError) as info:
        load_config(data)
    text = str(info.value)
    assert "[rules]: unknown key 'village_coverd_share'" in text
    assert "village_covered_share, ftth_max_distance_m, village_point_radius_m" in text
    assert "top level: unknown key 'colour'" in text


def test_all_problems_are_listed_together():
    data = {"inputs": {"villages": "v.gpkg"},
            "rules": {"village_covered_share": 1.5},
            "coverage": {"model": "magic", "technologies": ["4G", "6G"]},
            "run": {"year": "2025"}}
    with pytest.raises(ConfigError) as info:
        load_config(data)
    err = info.value
    assert isinstance(err, InputError) and isinstance(err, ValueError)
    text = str(err)
    assert "rules.village_covered_share: 1.5 is outside 0..1" in text
    assert "coverage.model: 'magic' is not one of radius, pathloss, terrain, raster" in text
    assert "'6G' not valid; valid: 2G, 3G, 4G, 5G" in text
    assert "run.year: expected a number (int), got '2025'" in text
    assert "[inputs] communes is required" in text
    assert "[inputs] sites is required" in text
    assert len(err.problems) == 6


def test_radius_table_refines_the_defaults():
    cfg = load_config({**REQUIRED, "coverage": {"radius_m": {"4G": 3000}}})
    assert cfg.coverage.radius_m["4G"] == 3000
    assert cfg.coverage.radius_m["5G"] == 1000
    with pytest.raises(ConfigError, match=r"coverage\.radius_m: unknown key 'LTE'"):
        load_config({**REQUIRED, "coverage": {"radius_m": {"LTE": 3000}}})


def test_layer_table_needs_path_and_rejects_unknown_keys():
    bad = {"inputs": {**REQUIRED["inputs"], "sites": {"file": "s.csv"}}}
    with pytest.raises(ConfigError, match=r"inputs\.sites: a layer table needs a 'path' key"):
        load_config(bad)
    bad = {"inputs": {**REQUIRED["inputs"], "sites": {"path": "s.csv", "lon": "x"}}}
    with pytest.raises(ConfigError, match=r"\[inputs.sites\]: unknown key 'lon'; valid keys: "
                                          r"path, layer, sheet, x, y, crs, encoding"):
        load_config(bad)


def test_columns_mapping_layers_are_checked():
    data = {"inputs": {**REQUIRED["inputs"], "columns": {"hamlets": {"village_id": "Ma"}}}}
    with pytest.raises(ConfigError, match="unknown layer 'hamlets'"):
        load_config(data)


def test_bad_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[run\nname = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken.toml: not valid TOML"):
        load_config(path)
    with pytest.raises(ConfigError, match=r"missing.toml: configuration file not found"):
        load_config(tmp_path / "missing.toml")


def test_to_dict_round_trips():
    cfg = load_config(REQUIRED, base_dir="/data")
    again = load_config(cfg.to_dict())
    assert again == cfg
    assert isinstance(again, Config)


def test_reference_doc_matches_the_code():
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc.strip() == reference_markdown().strip(), (
        "docs/configuration.md is stale: run `make docs`")


def test_sample_config_loads():
    cfg = load_config(REPO / "data" / "sample.toml")
    assert cfg.run.name == "tinh-mau"
    assert cfg.inputs.dem is not None and cfg.inputs.dem.path.is_file()


def test_non_finite_and_out_of_range_numbers_name_key_value_and_range():
    data = {**REQUIRED,
            "run": {"year": 1800},
            "rules": {"village_covered_share": float("nan")},
            "coverage": {"pathloss_exponent": float("nan"), "min_rsrp_dbm": float("-inf"),
                         "radius_m": {"4G": -5}, "technologies": []},
            "targets": {"villages_mbb_pct": -50, "bts_sharing_pct": 150},
            "candidates": {"priority_weight": 1e308, "cost_new_site": float("inf")}}
    with pytest.raises(ConfigError) as info:
        load_config(data)
    err = info.value
    text = str(err)
    assert "run.year: 1800 is outside 2000..2100" in text
    assert "rules.village_covered_share: nan is not a finite number; valid: 0..1" in text
    assert "coverage.pathloss_exponent: nan is not a finite number; valid: 2..6" in text
    assert "coverage.min_rsrp_dbm: -inf is not a finite number; valid: -150..-40" in text
    assert "coverage.radius_m.4G: -5 is outside more than 0, at most 100000" in text
    assert "coverage.technologies: the list is empty; give at least one of 2G, 3G, 4G, 5G" \
        in text
    assert "targets.villages_mbb_pct: -50 is outside 0..100" in text
    assert "targets.bts_sharing_pct: 150 is outside 0..100" in text
    assert "candidates.priority_weight: 1e+308 is outside 1..1000" in text
    assert "candidates.cost_new_site: inf is not a finite number; valid: 0..1e+15" in text
    assert len(err.problems) == 10
    assert "select_sites" not in text


def test_zero_radius_is_refused_and_a_boundary_value_accepted():
    with pytest.raises(ConfigError, match=r"coverage\.radius_urban_m\.5G: 0 is outside more "
                                          r"than 0"):
        load_config({**REQUIRED, "coverage": {"radius_urban_m": {"5G": 0}}})
    cfg = load_config({**REQUIRED, "coverage": {"min_rsrp_dbm": -150},
                       "rules": {"village_covered_share": 1}, "run": {"year": 2100}})
    assert cfg.coverage.min_rsrp_dbm == -150 and cfg.run.year == 2100


def test_nan_in_a_toml_file_is_refused(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[inputs]\ncommunes = "c.gpkg"\nvillages = "v.gpkg"\nsites = "s.csv"\n'
                    '[rules]\nvillage_covered_share = nan\n[reported]\nx = inf\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "rules.village_covered_share: nan is not a finite number" in str(info.value)
    assert "reported.x: inf is not a finite number" in str(info.value)


def test_every_numeric_key_has_a_documented_range():
    import dataclasses
    import typing

    from covgap import config as c
    doc = reference_markdown()
    for sec in dataclasses.fields(Config):
        cls = typing.get_type_hints(Config)[sec.name]
        if not dataclasses.is_dataclass(cls) or cls is c.LayerInput:
            continue
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if "float" in str(hints[f.name]) or "int" in str(hints[f.name]):
                assert "low" in f.metadata and "high" in f.metadata, f"{sec.name}.{f.name}"
    assert "| `min_rsrp_dbm` | `-110` | -150..-40 |" in doc
    assert "| `year` | current year | 2000..2100 |" in doc


@pytest.mark.parametrize("name", ["../../../x", "/etc/cron.d", "a/b", "a\\b", "..", "x\0y",
                                  ".hidden", "", " padded"])
def test_run_name_that_is_a_path_is_refused_with_the_rule(name):
    with pytest.raises(ConfigError) as info:
        load_config({**REQUIRED, "run": {"name": name}})
    assert "a run name is a name, not a path" in str(info.value) or "NUL" in str(info.value)


@pytest.mark.parametrize("name", ["tinh-mau", "Thanh Hóa 2025", "ha_giang.v2", "中国"])
def test_plain_run_names_are_accepted(name):
    assert load_config({**REQUIRED, "run": {"name": name}}).run.name == name


def test_nul_in_a_path_is_refused():
    with pytest.raises(ConfigError, match=r"inputs\.sites\.path: .s\\x00\.csv. contains a "
                                          r"NUL character") as info:
        load_config({"inputs": {**REQUIRED["inputs"], "sites": "s\0.csv"}})
    assert len(info.value.problems) == 1  # not also "sites is required"
