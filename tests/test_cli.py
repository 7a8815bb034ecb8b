"""The real ``covgap`` entry point, run as users run it."""

import json
import os
import signal
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


def test_force_never_replaces_a_folder_that_is_not_a_run(province, tmp_path):
    toml = write_toml(province, tmp_path / "run.toml")
    docs = tmp_path / "Documents"
    docs.mkdir()
    (docs / "thesis.docx").write_text("years of work", encoding="utf-8")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine", encoding="utf-8")
    res = covgap("run", toml, "--quiet", "--out", docs, "--force")
    assert res.returncode == 1
    assert res.stderr.startswith(f"covgap: {docs} already exists and is not a covgap run "
                                 "directory (it has no covgap manifest.json); covgap never "
                                 "replaces it, even with --force")
    res = covgap("run", toml, "--quiet", "--out", a_file, "--force")
    assert res.returncode == 1
    assert f"covgap: {a_file} already exists and is a file" in res.stderr
    # covgap diff --force: refused before the runs are even read
    res = covgap("diff", tmp_path / "no-a", tmp_path / "no-b", "--out", docs, "--force")
    assert res.returncode == 1
    assert f"covgap: {docs} already exists and is not a covgap run directory (it has no " \
        "covgap diff.json)" in res.stderr
    assert [p.name for p in docs.iterdir()] == ["thesis.docx"]
    assert (docs / "thesis.docx").read_text(encoding="utf-8") == "years of work"
    assert a_file.read_text(encoding="utf-8") == "mine"
    assert not (tmp_path / "out").exists()  # nothing computed, nothing written


def test_two_runs_at_once_into_one_directory_exactly_one_wins(province, tmp_path):
    toml = write_toml(province, tmp_path / "run.toml")
    env = {k: v for k, v in os.environ.items() if k != "COVGAP_DEBUG"}
    procs = [subprocess.Popen([*COVGAP, "run", str(toml), "--quiet"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    assert sorted(code for code, *_ in results) == [0, 1], results
    loser = next(err for code, _, err in results if code == 1)
    run_dir = tmp_path / "out" / "toy" / "2025"
    assert f"covgap: {run_dir} already exists" in loser
    assert "Traceback" not in loser
    assert json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert [p.name for p in run_dir.parent.iterdir()] == ["2025"]  # the loser left nothing


def test_killing_a_forced_run_between_the_renames_keeps_the_previous_run(province, tmp_path):
    toml = write_toml(province, tmp_path / "run.toml")
    run_dir = tmp_path / "out" / "toy" / "2025"
    assert covgap("run", toml, "--quiet", "--only", "inputs").returncode == 0
    before = (run_dir / "manifest.json").read_bytes()
    env = {k: v for k, v in os.environ.items() if k != "COVGAP_DEBUG"}
    env["COVGAP_TEST_PAUSE_AT"] = "between-renames"
    proc = subprocess.Popen([*COVGAP, "run", str(toml), "--quiet", "--force", "--only",
                             "inputs"], env=env, text=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        line = proc.stderr.readline()
        assert line.strip() == "covgap-test: paused at between-renames", line
        assert not run_dir.exists()  # the old run is set aside, the new one not in place
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    res = covgap("run", toml, "--quiet", "--only", "inputs")
    assert res.returncode == 1
    assert f"covgap: {run_dir} already exists; covgap never overwrites a run" in res.stderr
    assert (run_dir / "manifest.json").read_bytes() == before
    assert [p.name for p in run_dir.parent.iterdir()] == ["2025"]


def test_an_unwritable_output_folder_is_reported_before_computing(province, tmp_path,
                                                                   monkeypatch):
    from typer.testing import CliRunner

    import covgap.pipeline
    from covgap.cli import app

    def never(*args, **kwargs):
        raise AssertionError("computed before checking the output folder")

    monkeypatch.setattr(covgap.pipeline, "run", never)
    # a NUL byte cannot come through argv (click refuses it, exit 2), but it can through
    # the configuration's [output] dir
    toml = write_toml(province, tmp_path / "nul.toml", '[output]\ndir = "a\\u0000b"\n')
    res = CliRunner().invoke(app, ["run", str(toml), "--quiet"])
    assert res.exit_code == 1
    assert "a folder name cannot hold a NUL byte (\\0); check --out or [output] dir" in \
        res.output
    assert "bug in covgap" not in res.output
    toml = write_toml(province, tmp_path / "run.toml")
    (tmp_path / "out").write_text("a file where the output folder should be")
    res = CliRunner().invoke(app, ["run", str(toml), "--quiet"])
    assert res.exit_code == 1
    assert f"cannot write {tmp_path / 'out' / 'toy' / '2025'}: {tmp_path / 'out'} is a file, " \
        "not a folder" in res.output


def test_a_read_only_output_folder_exits_1_naming_it(province, tmp_path):
    src, ro = tmp_path / "src", tmp_path / "ro"
    src.mkdir()
    ro.mkdir()
    mount = subprocess.run(["mount", "--bind", "-o", "ro", str(src), str(ro)],
                           capture_output=True, check=False)
    if mount.returncode != 0:
        pytest.skip(f"no read-only bind mount here: {mount.stderr!r}")
    try:
        toml = write_toml(province, tmp_path / "run.toml")
        res = covgap("run", toml, "--quiet", "--out", ro / "2025")
    finally:
        subprocess.run(["umount", str(ro)], check=False)
    assert res.returncode == 1
    assert res.stderr.strip() == (
        f"covgap: cannot write {ro / '2025'}: Read-only file system [EROFS]; nothing was "
        "written; the file system is read-only: write elsewhere with --out")
