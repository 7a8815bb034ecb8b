import json

import pytest

import covgap
from covgap.io import file_sha256
from covgap.pipeline import RunExistsError, write_atomic


def test_run_records_inputs_in_the_manifest(province, tmp_path):
    result = covgap.run(province.config())
    assert result.stages_run == ["inputs"]
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
    assert manifest["stages_not_available"] == [
        "coverage", "villages", "indicators", "candidates", "exports"]
    assert set(manifest["timings_s"]) == {"inputs"}
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

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(tmp_path / "run", {"a.txt": lambda p: p.write_text("a"), "b.txt": boom})
    assert list(tmp_path.iterdir()) == []


def test_a_failed_forced_write_keeps_the_old_run(tmp_path):
    write_atomic(tmp_path / "run", {"a.txt": lambda p: p.write_text("old")})

    def boom(path):
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_atomic(tmp_path / "run", {"a.txt": boom}, force=True)
    assert (tmp_path / "run" / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
