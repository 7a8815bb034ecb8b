"""The real ``covgap`` entry point, run as users run it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE_TOML, site_frame

COVGAP = [sys.executable, "-m", "covgap"]


def covgap(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "COVGAP_DEBUG"}
    return subprocess.run([*COVGAP, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300, check=False)


def write_toml(province, path: Path, extra: str = "") -> Path:
    path.write_text(
        "[run]\nname = \"toy\"\nyear = 2025\n[inputs]\n"
        f"communes = \"{province.communes.name}\"\nvillages = \"{province.villages.name}\"\n"
        f"sites = \"{province.sites.name}\"\nfibre = \"{province.fibre.name}\"\n" + extra,
        encoding="utf-8")
    return path


def test_version():
    import covgap as pkg
    res = covgap("--version")
    assert res.returncode == 0
    assert res.stdout.strip() == f"covgap {pkg.__version__}"


def test_help_shows_commands_and_examples():
    res = covgap("--help")
    assert res.returncode == 0
    for command in ("validate", "run", "demo"):
        assert command in res.stdout
    res = covgap("validate", "--help")
    assert "Example:  covgap validate data/sample.toml" in res.stdout


def test_usage_errors_exit_2():
    assert covgap("validate").returncode == 2
    assert covgap("frobnicate").returncode == 2


def test_validate_sample_exits_0():
    res = covgap("validate", SAMPLE_TOML)
    assert res.returncode == 0, res.stderr
    assert "inputs OK" in res.stdout
    assert "Traceback" not in res.stderr


def test_validate_lists_every_problem_and_exits_1(province, tmp_path):
    frame = site_frame()
    frame.loc[0, "technology"] = "6G"
    frame.loc[4, "operator"] = "Orange"
    frame.to_csv(province.sites, index=False)
    toml = write_toml(province, tmp_path / "run.toml")
    res = covgap("validate", toml)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert "bts.csv row 2 (site_id=TH-0001): technology '6G' is not known" in res.stderr
    assert "bts.csv row 6 (site_id=TH-0002): operator 'Orange' is not known" in res.stderr
    # the Python API raises InputError with the same text
    import covgap as pkg
    with pytest.raises(pkg.InputError) as info:
        pkg.read_inputs(toml)
    assert f"covgap: {info.value}" in res.stderr


def test_bad_configuration_exits_1_with_the_key(province, tmp_path):
    toml = write_toml(province, tmp_path / "run.toml", "[rules]\nshare = 0.5\n")
    res = covgap("validate", toml)
    assert res.returncode == 1
    assert "[rules]: unknown key 'share'" in res.stderr
    assert "Traceback" not in res.stderr


def test_run_writes_and_refuses_to_overwrite(province, tmp_path):
    toml = write_toml(province, tmp_path / "run.toml")
    res = covgap("run", toml, "--quiet")
    assert res.returncode == 0, res.stderr
    run_dir = tmp_path / "out" / "toy" / "2025"
    assert (run_dir / "manifest.json").is_file()
    assert f"run directory: {run_dir}" in res.stdout
    again = covgap("run", toml, "--quiet")
    assert again.returncode == 1
    assert "already exists; covgap never overwrites a run: pass --force" in again.stderr
    forced = covgap("run", toml, "--quiet", "--force", "--out", tmp_path / "elsewhere")
    assert forced.returncode == 0
    assert (tmp_path / "elsewhere" / "manifest.json").is_file()


def test_demo_runs_the_sample(tmp_path):
    res = covgap("demo", "--out", tmp_path / "demo")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "demo" / "manifest.json").is_file()
    assert "run directory:" in res.stdout


def test_killing_a_run_while_it_writes_leaves_no_run_directory(province, tmp_path):
    import signal
    import time

    toml = write_toml(province, tmp_path / "run.toml",
                      '[coverage]\nmodel = "pathloss"\nresolution_m = 50.0\n')
    parent = tmp_path / "out" / "toy"
    env = {k: v for k, v in os.environ.items() if k != "COVGAP_DEBUG"}
    proc = subprocess.Popen([*COVGAP, "run", str(toml), "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        # wait until it is half way: writing into its hidden staging folder
        while time.monotonic() < deadline and proc.poll() is None:
            if parent.is_dir() and any(p.name.startswith(".2025.partial-")
                                       for p in parent.iterdir()):
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the run finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (parent / "2025").exists()  # no partial run directory
    # the next run cleans up the dead run's staging folder and completes
    res = covgap("run", toml, "--quiet")
    assert res.returncode == 0, res.stderr
    assert (parent / "2025" / "manifest.json").is_file()
    assert [p.name for p in parent.iterdir()] == ["2025"]


def test_diff_command(province, tmp_path):
    toml_a = write_toml(province, tmp_path / "a.toml")
    text = toml_a.read_text(encoding="utf-8").replace("year = 2025", "year = 2024")
    toml_a.write_text(text, encoding="utf-8")
    toml_b = write_toml(province, tmp_path / "b.toml")
    assert covgap("run", toml_a, "--quiet").returncode == 0
    assert covgap("run", toml_b, "--quiet").returncode == 0
    runs = tmp_path / "out" / "toy"
    res = covgap("diff", runs / "2024", runs / "2025")
    assert res.returncode == 0, res.stderr
    assert (runs / "diff-2024-2025" / "diff_villages.csv").is_file()
    # the same network both years: every village is unchanged or still a gap
    line = next(x for x in res.stdout.splitlines() if x.startswith("villages: "))
    counts = dict(part.rsplit(" ", 1) for part in line[len("villages: "):].split(", "))
    assert set(counts) <= {"unchanged", "still lom_song"}
    assert sum(map(int, counts.values())) == 6
    bad = covgap("diff", tmp_path, runs / "2025")
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert "covgap run directory" in bad.stderr
