import json

import pytest

import covgap
from covgap.export.rundir import write_atomic
from covgap.io import file_sha256
from covgap.result import RunExistsError


def test_run_records_inputs_in_the_manifest(province, tmp_path):
    result = covgap.run(province.config())
    assert result.stages_run == ["inputs", "coverage", "villages", "indicators",
                                 "candidates"]
    target = result.write()
    assert target == tmp_path / "out" / "toy" / "2025"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["covgap_version"] == covgap.__version__
    assert manifest["inputs"]["counts"] == {"communes": 4, "villages": 6, "sites": 10,
                                            "fibre": 2}
    assert manifest["inputs"]["sha256"][str(province.sites.resolve())] == file_sha256(
        province.sites)
    assert manifest["config"]["rules"]["village_covered_share"] == 0.8
    assert manifest["config"]["inputs"]["sites"]["x"] == "lon"
    assert manifest["stages_not_available"] == []
    assert set(manifest["timings_s"]) == {"inputs", "coverage", "villages", "candidates",
                                          "exports"}
    assert manifest["planning"]["all"]["mode"] == "greedy"
    assert manifest["coverage"]["model"] == "radius"
    assert manifest["coverage"]["radius_m"]["4G"] == 5000
    assert manifest["inputs"]["metric_crs"] == "EPSG:32648"


def test_an_existing_run_is_never_overwritten_without_force(province, tmp_path):
    result = covgap.run(province.config())
    target = result.write(tmp_path / "run")
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(RunExistsError, match="already exists; covgap never overwrites"):
        result.write(tmp_path / "run")
    assert (target / "notes.txt").read_text(encoding="utf-8") == "mine"
    result.write(tmp_path / "run", force=True)
    assert not (target / "notes.txt").exists()
    assert (target / "manifest.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    def boom(path):
        path.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")

    def write(folder):
        (folder / "a.txt").write_text("a")
        boom(folder / "b.txt")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(tmp_path / "run", write)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_forced_write_keeps_the_old_run(tmp_path):
    def old(folder):  # a run directory: --force replaces nothing else
        (folder / "a.txt").write_text("old")
        (folder / "manifest.json").write_text('{"covgap_version": "0"}')

    write_atomic(tmp_path / "run", old)

    def boom(folder):
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_atomic(tmp_path / "run", boom, force=True)
    assert (tmp_path / "run" / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_pathloss_run_writes_signal_rasters(province, tmp_path):
    result = covgap.run(province.config(coverage={"model": "pathloss",
                                                  "resolution_m": 200.0}))
    target = result.write(tmp_path / "run")
    names = sorted(p.name for p in target.iterdir())
    assert names == ["appendix.docx", "candidates.csv", "communes.csv", "coverage_MobiFone_4G.tif",
                     "coverage_VNPT_4G.tif", "coverage_Viettel_2G.tif",
                     "coverage_Viettel_4G.tif", "coverage_all_2G.tif", "coverage_all_4G.tif",
                     "figures", "gaps.csv", "gaps_MobiFone.csv", "gaps_VNPT.csv",
                     "gaps_Viettel.csv", "gaps_all.csv", "indicators.csv", "lists.xlsx",
                     "manifest.json", "map.html", "plots", "report.xlsx", "results.gpkg",
                     "villages.csv"]
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["coverage"]["grid"]["cell_size_m"] == 200.0


def test_tables_are_written_with_the_spec_columns(province, tmp_path):
    import geopandas as gpd
    import pandas as pd

    from covgap.analysis import VILLAGE_COLUMNS

    communes = gpd.read_file(province.communes)
    communes.loc[0, "commune_name"] = '=HYPERLINK("http://x")'
    communes.to_file(province.communes)
    result = covgap.run(province.config())
    target = result.write(tmp_path / "run")
    raw = (target / "villages.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel shows the diacritics
    villages = pd.read_csv(target / "villages.csv", encoding="utf-8-sig", dtype=str)
    assert tuple(villages.columns[: len(VILLAGE_COLUMNS)]) == VILLAGE_COLUMNS
    assert set(villages["mbb_covered"]) <= {"true", "false"}
    assert "Bản Pù Nhi" in set(villages["village_name"])
    assert villages["commune_name"].iloc[0] == '\'=HYPERLINK("http://x")'
    indicators = pd.read_csv(target / "indicators.csv", encoding="utf-8-sig")
    assert list(indicators.columns[:7]) == ["level", "code", "name", "indicator", "value",
                                            "target", "met"]
    assert set(indicators["indicator"]) == {
        "villages_mbb_pct", "villages_ftth_pct", "bts_sharing_pct", "population_mbb_pct",
        "commune_centres_5g_pct", "usp_villages", "households_mbb_pct",
        "households_ftth_pct", "usp_mobile_villages", "usp_fibre_villages"}
    gaps = pd.read_csv(target / "gaps.csv", encoding="utf-8-sig")
    assert gaps["priority"].tolist() == list(range(1, len(gaps) + 1))


def test_vietnamese_headers(province, tmp_path):
    import pandas as pd

    result = covgap.run(province.config(output={"headers": "vi"}))
    target = result.write(tmp_path / "run")
    villages = pd.read_csv(target / "villages.csv", encoding="utf-8-sig")
    assert list(villages.columns[:4]) == ["Mã thôn", "Tên thôn", "Mã xã", "Dân số"]
    assert "Lõm sóng" in villages.columns


def test_coverage_is_reused_when_nothing_it_depends_on_changed(province, tmp_path):
    import numpy as np

    cov = {"model": "pathloss", "resolution_m": 200.0}
    first = covgap.run(province.config(coverage=cov))
    assert "reused" not in first.coverage.parameters
    cache = list((tmp_path / "out" / ".cache").glob("coverage-toy-*.npz"))
    assert len(cache) == 1
    # a rule changes: the coverage is the same, loaded instead of computed
    second = covgap.run(province.config(coverage=cov, rules={"village_covered_share": 0.5}))
    assert second.coverage.parameters["reused"] == str(cache[0])
    for key in first.coverage.keys():
        np.testing.assert_array_equal(first.coverage.signal[key], second.coverage.signal[key])
        np.testing.assert_array_equal(first.coverage.server[key], second.coverage.server[key])
    assert second.villages["mbb_share"].tolist() == first.villages["mbb_share"].tolist()
    # a coverage setting changes: recomputed, and the old cache replaced
    third = covgap.run(province.config(coverage={**cov, "min_rsrp_dbm": -100}))
    assert "reused" not in third.coverage.parameters
    assert third.coverage.parameters["cache_key"] != second.coverage.parameters["cache_key"]
    assert len(list((tmp_path / "out" / ".cache").glob("coverage-toy-*.npz"))) == 1
    # an input file changes: recomputed
    province.sites.write_text(province.sites.read_text() + "\n", encoding="utf-8")
    fourth = covgap.run(province.config(coverage=cov))
    assert "reused" not in fourth.coverage.parameters
    assert not covgap.run(province.config(coverage=cov), reuse_coverage=False
                          ).coverage.parameters.get("reused")


def test_only_coverage_stops_after_the_coverage(province, tmp_path):
    result = covgap.run(province.config(coverage={"model": "pathloss",
                                                  "resolution_m": 200.0}), only="coverage")
    assert result.stages_run == ["inputs", "coverage"] and result.analysis is None
    target = result.write(tmp_path / "run")
    assert (target / "coverage_Viettel_4G.tif").is_file()
    assert not (target / "villages.csv").exists()
    with pytest.raises(ValueError, match="only='villages'; valid values: 'inputs', 'coverage'"):
        covgap.run(province.config(), only="villages")


def test_only_is_checked_before_anything_is_read(tmp_path):
    # the configuration names files that do not exist: --only is refused first
    missing = {"inputs": {name: str(tmp_path / f"{name}.gpkg")
                          for name in ("communes", "villages", "sites")}}
    with pytest.raises(ValueError, match="only='candidates'; valid values"):
        covgap.run(missing, only="candidates")
    with pytest.raises(covgap.InputError):
        covgap.run(missing, only="inputs")
