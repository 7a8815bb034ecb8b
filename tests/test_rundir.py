"""The writer of run directories (covgap.export.rundir): per-operator gap files."""

import pandas as pd

from covgap.export.rundir import gap_file_name, operator_gaps


def test_an_operator_gets_its_mobile_gaps_and_its_fibre_gaps():
    gaps = pd.DataFrame({
        "village_id": ["V1", "V2", "V3", "V4", "V5"],
        "gap": ["mobile", "mobile", "fibre", "mobile+fibre", "fibre"],
        "best_operator": ["Viettel", "VNPT", None, "VNPT", None],
        "fibre_operator": ["VNPT", "Viettel", "Viettel", "Viettel", None],
    })
    # V2's nearest fibre is Viettel's but its gap is mobile only: VNPT's to close; V4's
    # mobile part is VNPT's and its fibre part Viettel's: each list holds its own part
    viettel = operator_gaps(gaps, "Viettel")
    assert viettel["village_id"].tolist() == ["V1", "V3", "V4"]
    assert viettel["gap"].tolist() == ["mobile", "fibre", "fibre"]
    assert viettel["best_operator"].isna().tolist() == [False, True, True]
    vnpt = operator_gaps(gaps, "VNPT")
    assert vnpt["village_id"].tolist() == ["V2", "V4"]
    assert vnpt["gap"].tolist() == ["mobile", "mobile"]
    assert vnpt["fibre_operator"].isna().all()
    assert operator_gaps(gaps, "MobiFone").empty


def test_gap_file_names_are_safe():
    assert gap_file_name("Viettel") == "gaps_Viettel.csv"
    assert gap_file_name("Vietnamobile / ĐTDĐ") == "gaps_Vietnamobile-DTDD.csv"
    assert gap_file_name("../..") == "gaps_operator.csv"


# --- the protocol of write_atomic (module docstring of covgap.export.rundir) ---------

import errno  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import covgap  # noqa: E402
from covgap.errors import OutputError  # noqa: E402
from covgap.export import rundir  # noqa: E402
from covgap.export.csv import write_csv  # noqa: E402
from covgap.export.rundir import (  # noqa: E402
    check_writable,
    is_run_directory,
    manifest_json,
    write_atomic,
)
from covgap.result import RunExistsError  # noqa: E402

# a child process that writes one run with write_atomic and exits as the CLI does
CHILD = """
import sys
from pathlib import Path
from covgap.errors import CovgapError
from covgap.export.rundir import write_atomic

def write(folder):
    (folder / "a.txt").write_text(sys.argv[2])
    (folder / "manifest.json").write_text('{"covgap_version": "test"}')

try:
    write_atomic(Path(sys.argv[1]), write, force=sys.argv[3] == "force")
except CovgapError as exc:
    print(f"covgap: {exc}", file=sys.stderr)
    sys.exit(1)
"""


def run_writer(folder: Path, text: str) -> None:
    (folder / "a.txt").write_text(text)
    (folder / "manifest.json").write_text('{"covgap_version": "test"}')


def make_run(target: Path, text: str) -> None:
    write_atomic(target, lambda folder: run_writer(folder, text))


def content(target: Path) -> str:
    return (target / "a.txt").read_text()


def start_child(target: Path, text: str, *, force: bool, pause: str | None):
    env = {**os.environ, "PYTHONPATH": str(Path(covgap.__file__).parent.parent)}
    env.pop(rundir.PAUSE_ENV, None)
    if pause:
        env[rundir.PAUSE_ENV] = pause
    return subprocess.Popen([sys.executable, "-c", CHILD, str(target), text,
                             "force" if force else "-"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_paused(proc, point: str) -> None:
    """Read the child's stderr until it says it is paused at ``point``."""
    line = proc.stderr.readline()
    assert line.strip() == f"covgap-test: paused at {point}", (line, proc.stderr.read())


def kill(proc) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_force_never_replaces_a_folder_that_is_not_a_run(tmp_path):
    docs = tmp_path / "Documents"
    docs.mkdir()
    (docs / "thesis.docx").write_text("years of work")
    for force in (False, True):
        with pytest.raises(RunExistsError) as info:
            write_atomic(docs, lambda folder: run_writer(folder, "new"), force=force)
        assert str(info.value).startswith(f"{docs} already exists and is not a covgap run")
        assert "never replaces it, even with --force" in str(info.value)
    assert [p.name for p in docs.iterdir()] == ["thesis.docx"]
    assert (docs / "thesis.docx").read_text() == "years of work"
    assert hidden(tmp_path) == []  # nothing staged, nothing set aside
    # a manifest.json that is not covgap's, or not JSON, does not make it a run
    for text in ('{"name": "my-web-app", "version": "1.0"}', "not json", "[1, 2]",
                 '{"covgap_version": 3}'):
        (docs / "manifest.json").write_text(text)
        assert not is_run_directory(docs)
        with pytest.raises(RunExistsError, match="not a covgap run directory"):
            write_atomic(docs, lambda folder: run_writer(folder, "new"), force=True)
        assert (docs / "thesis.docx").read_text() == "years of work"


def test_force_never_replaces_a_file_or_a_link(tmp_path):
    target = tmp_path / "2025"
    target.write_text("a file")
    with pytest.raises(RunExistsError, match=r"2025 already exists and is a file"):
        write_atomic(target, lambda folder: run_writer(folder, "new"), force=True)
    assert target.read_text() == "a file"
    make_run(tmp_path / "real", "old")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real")
    with pytest.raises(RunExistsError, match="is a symbolic link"):
        write_atomic(link, lambda folder: run_writer(folder, "new"), force=True)
    assert content(tmp_path / "real") == "old"
    assert hidden(tmp_path) == []


def test_force_replaces_a_run_directory_and_a_diff_directory(tmp_path):
    make_run(tmp_path / "run", "old")
    assert is_run_directory(tmp_path / "run")
    write_atomic(tmp_path / "run", lambda folder: run_writer(folder, "new"), force=True)
    assert content(tmp_path / "run") == "new"
    diff = tmp_path / "diff-2024-2025"
    diff.mkdir()
    (diff / "diff.json").write_text('{"covgap_version": "1.0", "changes": {}}')
    # a run's writer (record manifest.json) does not replace a diff directory ...
    with pytest.raises(RunExistsError, match=r"no covgap manifest\.json"):
        write_atomic(diff, lambda folder: run_writer(folder, "x"), force=True,
                     record=("manifest.json",))
    # ... the default (covgap diff's) does
    write_atomic(diff, lambda folder: run_writer(folder, "x"), force=True)
    assert content(diff) == "x"
    assert hidden(tmp_path) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "rename"])
def test_a_run_put_in_place_meanwhile_is_never_replaced(tmp_path, monkeypatch, exchange):
    if not exchange:  # the fallback of systems without renameat2
        monkeypatch.setattr(rundir, "_renameat2", lambda src, dst, flags: False)
    target = tmp_path / "run"

    def slow(folder):  # another covgap run finishes while this one computes
        make_run(target, "first")
        run_writer(folder, "second")

    with pytest.raises(RunExistsError, match="another covgap run put it there"):
        write_atomic(target, slow)
    assert content(target) == "first"
    assert hidden(tmp_path) == []  # the loser wrote nothing


def test_forced_runs_onto_a_missing_target_the_last_one_wins(tmp_path):
    target = tmp_path / "run"

    def slow(folder):  # another forced run puts its run in place while this one computes
        write_atomic(target, lambda inner: run_writer(inner, "first"), force=True)
        run_writer(folder, "second")

    write_atomic(target, slow, force=True)
    assert content(target) == "second"
    assert hidden(tmp_path) == []


def test_two_runs_at_once_exactly_one_wins(tmp_path):
    target = tmp_path / "run"
    procs = [start_child(target, name, force=False, pause="staged") for name in "AB"]
    for proc in procs:  # both computed and staged; neither has moved its run yet
        wait_paused(proc, "staged")
    assert not target.exists()
    for proc in procs:
        proc.send_signal(signal.SIGUSR1)
    results = [(proc.wait(timeout=60), proc.stderr.read()) for proc in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    winner = "AB"[[code for code, _ in results].index(0)]
    loser_err = next(err for code, err in results if code == 1)
    assert f"covgap: {target} already exists" in loser_err
    assert content(target) == winner
    assert hidden(tmp_path) == []


def test_kill_before_the_move_keeps_the_old_run(tmp_path):
    target = tmp_path / "run"
    make_run(target, "old")
    proc = start_child(target, "new", force=True, pause="staged")
    wait_paused(proc, "staged")
    kill(proc)
    assert content(target) == "old"
    assert any(n.startswith(".run.partial-") for n in hidden(tmp_path))
    with pytest.raises(RunExistsError, match="pass --force"):  # the next run tidies up
        make_run(target, "next")
    assert content(target) == "old"
    assert hidden(tmp_path) == []


def test_kill_between_the_renames_restores_the_old_run(tmp_path):
    target = tmp_path / "run"
    make_run(target, "old")
    proc = start_child(target, "new", force=True, pause="between-renames")
    wait_paused(proc, "between-renames")
    kill(proc)
    # the worst moment: the old run set aside, the new one not in place
    assert not target.exists()
    assert hidden(tmp_path)[0] == f".run.old-{proc.pid}"
    # the next run puts the old one back instead of deleting it, then refuses
    with pytest.warns(covgap.CovgapWarning, match="was restored"):
        with pytest.raises(RunExistsError, match="pass --force"):
            make_run(target, "next")
    assert content(target) == "old"
    assert hidden(tmp_path) == []


def test_kill_between_the_renames_then_force_replaces_the_restored_run(tmp_path):
    target = tmp_path / "run"
    make_run(target, "old")
    proc = start_child(target, "new", force=True, pause="between-renames")
    wait_paused(proc, "between-renames")
    kill(proc)
    with pytest.warns(covgap.CovgapWarning, match="was restored"):
        assert check_writable(target, force=True) == target  # restores it, before computing
    assert content(target) == "old"
    write_atomic(target, lambda folder: run_writer(folder, "next"), force=True)
    assert content(target) == "next"
    assert hidden(tmp_path) == []


def test_kill_after_the_swap_keeps_the_new_run(tmp_path):
    target = tmp_path / "run"
    make_run(target, "old")
    proc = start_child(target, "new", force=True, pause="replaced")
    wait_paused(proc, "replaced")
    kill(proc)
    assert content(target) == "new"
    if sys.platform.startswith("linux"):  # one renameat2(RENAME_EXCHANGE): the old run
        (staged,) = hidden(tmp_path)      # is where the new one was staged
        assert staged.startswith(f".run.partial-{proc.pid}-")
        assert content(tmp_path / staged) == "old"
    write_atomic(target, lambda folder: run_writer(folder, "next"), force=True)
    assert content(target) == "next"
    assert hidden(tmp_path) == []


def test_a_live_writers_folders_are_left_alone(tmp_path):
    target = tmp_path / "run"
    make_run(target, "old")
    proc = start_child(target, "new", force=True, pause="between-renames")
    try:
        wait_paused(proc, "between-renames")
        # another run meanwhile: the set-aside run belongs to a live process
        check_writable(target, force=True)
        assert not target.exists()
        left = hidden(tmp_path)  # its old run set aside, its new run staged
        assert left[0] == f".run.old-{proc.pid}"
        assert left[1].startswith(f".run.partial-{proc.pid}-")
        assert len(left) == 2
        proc.send_signal(signal.SIGUSR1)
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert content(target) == "new"
    assert hidden(tmp_path) == []


@pytest.mark.parametrize(("umask", "dirs", "files"), [(0o022, 0o755, 0o644),
                                                       (0o027, 0o750, 0o640)])
def test_modes_follow_the_umask(tmp_path, umask, dirs, files):
    old = os.umask(umask)
    try:
        def write(folder):
            run_writer(folder, "x")
            (folder / "plots").mkdir()
            (folder / "plots" / "p.svg").write_text("<svg/>")

        write_atomic(tmp_path / "run", write)
    finally:
        os.umask(old)
    assert (tmp_path / "run").stat().st_mode & 0o777 == dirs
    assert (tmp_path / "run" / "plots").stat().st_mode & 0o777 == dirs
    assert (tmp_path / "run" / "a.txt").stat().st_mode & 0o777 == files


def test_a_whole_run_directory_is_readable_by_colleagues_and_strict_json(province, tmp_path):
    result = covgap.run(province.config())
    result.timings["coverage"] = float("nan")  # a NaN anywhere in the record
    result.inputs.hashes["nan.csv"] = np.float64("inf")
    old = os.umask(0o022)
    try:
        target = result.write(tmp_path / "run")
    finally:
        os.umask(old)
    modes = {str(p.relative_to(target)): p.stat().st_mode & 0o777
             for p in [target, *target.rglob("*")]}
    assert modes["."] == 0o755
    assert {m for n, m in modes.items() if (target / n).is_dir()} == {0o755}
    assert {m for n, m in modes.items() if (target / n).is_file()} == {0o644}

    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    text = (target / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(text, parse_constant=refuse)
    assert manifest["timings_s"]["coverage"] is None
    assert manifest["inputs"]["sha256"]["nan.csv"] is None
    assert manifest["covgap_version"] == covgap.__version__


def test_manifest_json_is_strict():
    record = {"a": float("nan"), "b": [1.5, float("-inf"), {"c": np.float64("nan")}],
              "d": (np.float32("inf"), 2), "e": "NaN", "f": 0.25}

    def refuse(name):
        raise ValueError(name)

    back = json.loads(manifest_json(record), parse_constant=refuse)
    assert back == {"a": None, "b": [1.5, None, {"c": None}], "d": [None, 2], "e": "NaN",
                    "f": 0.25}
    assert not any(math.isnan(x) for x in [0.25])


# --- output folders that cannot be written: reported before computing ------------------

def test_a_nul_byte_in_the_name_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match=r"cannot hold a NUL byte"):
        check_writable(tmp_path / "a\0b")
    with pytest.raises(OutputError, match=r"cannot hold a NUL byte"):
        make_run(tmp_path / "a\0b", "x")
    assert list(tmp_path.iterdir()) == []


def test_a_parent_that_is_a_file_is_an_output_error(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(OutputError, match=r"out is a file, not a folder"):
        check_writable(tmp_path / "out" / "toy" / "2025")


@pytest.mark.parametrize(("number", "reason"), [(errno.EROFS, "Read-only file system"),
                                                (errno.EACCES, "Permission denied"),
                                                (errno.ENOSPC, "No space left on device")])
def test_an_unwritable_folder_is_found_before_computing(tmp_path, monkeypatch, number, reason):
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        if Path(path).parent == tmp_path:
            raise OSError(number, os.strerror(number), str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(rundir.os, "mkdir", mkdir)
    target = tmp_path / "toy" / "2025"
    with pytest.raises(OutputError) as info:
        check_writable(target)
    assert str(info.value).startswith(f"cannot write {target}: {reason} "
                                      f"[{errno.errorcode[number]}]; nothing was written")
    assert info.value.errno == number
    assert info.value.path == target
    assert not (tmp_path / "toy").exists()  # the check creates nothing


def test_a_full_disk_while_writing_is_an_output_error(tmp_path):
    make_run(tmp_path / "run", "old")

    def write(folder):
        (folder / "villages.csv").write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "report.xlsx"))

    with pytest.raises(OutputError) as info:
        write_atomic(tmp_path / "run", write, force=True)
    assert str(info.value) == (
        f"cannot write {tmp_path / 'run'} (report.xlsx): No space left on device [ENOSPC]; "
        "nothing was written; free some space, or write elsewhere with --out")
    assert content(tmp_path / "run") == "old"  # the previous run is untouched
    assert hidden(tmp_path) == []


def test_a_library_error_on_a_full_disk_is_reported_as_a_full_disk(tmp_path, monkeypatch):
    def write(folder):  # pyogrio reports a full disk as a FeatureError (a RuntimeError)
        raise RuntimeError("Could not add feature to layer at index 0: sqlite3_exec(...)")

    with pytest.raises(RuntimeError, match="Could not add feature"):  # a real bug stays one
        write_atomic(tmp_path / "run", write)
    monkeypatch.setattr(rundir, "_free_bytes", lambda folder: 4096.0)
    with pytest.raises(OutputError, match=r"No space left on device \[ENOSPC\]"):
        write_atomic(tmp_path / "run", write)
    assert list(tmp_path.iterdir()) == []


def test_a_really_full_disk_while_writing_a_geopackage(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    disk = tmp_path / "disk"
    disk.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                         capture_output=True, check=False)
    if res.returncode != 0:
        pytest.skip(f"no tmpfs mount here: {res.stderr!r}")
    frame = gpd.GeoDataFrame({"a": range(20000)},
                             geometry=[Point(i, i) for i in range(20000)], crs=4326)

    def write(folder):
        frame.to_file(folder / "results.gpkg", layer="villages", engine="pyogrio")

    try:
        with pytest.raises(OutputError, match=r"No space left on device \[ENOSPC\]"):
            write_atomic(disk / "run", write)
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder on a read-only bind mount (root ignores chmod); skip where mount is denied."""
    src, ro = tmp_path / "src", tmp_path / "ro"
    src.mkdir()
    ro.mkdir()
    res = subprocess.run(["mount", "--bind", "-o", "ro", str(src), str(ro)],
                         capture_output=True, check=False)
    if res.returncode != 0:
        pytest.skip(f"no read-only bind mount here: {res.stderr!r}")
    try:
        yield ro
    finally:
        subprocess.run(["umount", str(ro)], check=False)


def test_a_read_only_folder_is_an_output_error(read_only_folder):
    with pytest.raises(OutputError, match=r"Read-only file system \[EROFS\]; nothing was"):
        check_writable(read_only_folder / "toy" / "2025")


# --- headers get the same formula protection as cells ----------------------------------

HOSTILE = '=HYPERLINK("http://x","y")'


def test_csv_headers_are_protected_like_cells(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"village_id": ["V1"], HOSTILE: ["=1+1"], "+cmd": [3]})
    write_csv(frame, tmp_path / "v.csv")
    text = (tmp_path / "v.csv").read_text(encoding="utf-8-sig")
    header = text.splitlines()[0]
    assert header == '''village_id,"'=HYPERLINK(""http://x"",""y"")",'+cmd'''
    back = pd.read_csv(tmp_path / "v.csv", encoding="utf-8-sig")
    assert back.columns.tolist() == ["village_id", "'" + HOSTILE, "'+cmd"]
    assert back.iloc[0, 1] == "'=1+1"


def test_excel_headers_and_geopackage_fields_are_safe(tmp_path):
    import pandas as pd
    from openpyxl import load_workbook

    from covgap.export import excel
    from covgap.export.gpkg import field_names

    path = tmp_path / "headers.xlsx"
    wb, styles = excel._workbook(path, "headers")
    excel._write_table(wb.add_worksheet("t"), styles, pd.DataFrame({HOSTILE: ["x"], "a": [1]}))
    excel._close(wb, path)
    cell = load_workbook(path).active["A1"]
    assert cell.value == HOSTILE
    assert cell.data_type == "s"  # text, not a formula
    assert cell.quotePrefix
    assert field_names([HOSTILE]) == ["hyperlink_http_x_y"]


# ---------------------------------------------------------------- maps beside the rest


def test_parallel_maps_write_the_same_run(province, tmp_path):
    result = covgap.run(province.config())
    serial = rundir.write_run(result, tmp_path / "serial", parallel=False)
    forked = rundir.write_run(result, tmp_path / "forked", parallel=True)
    names = sorted(p.relative_to(serial).as_posix() for p in serial.rglob("*"))
    assert names == sorted(p.relative_to(forked).as_posix() for p in forked.rglob("*"))
    assert "map.html" in names
    for name in ("villages.csv", "gaps.csv"):
        assert (serial / name).read_bytes() == (forked / name).read_bytes()


def test_a_map_error_in_the_child_is_an_output_error(province, tmp_path, monkeypatch):
    result = covgap.run(province.config())
    out = tmp_path / "out"  # the province's inputs are in tmp_path
    out.mkdir()

    def full(result, folder, **kwargs):
        (folder / "map.html").write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "map.html"))

    monkeypatch.setattr(rundir, "write_maps", full)  # the forked child inherits it
    with pytest.raises(OutputError, match=r"\(map.html\): No space left on device \[ENOSPC\]"):
        rundir.write_run(result, out / "run", parallel=True)
    assert list(out.iterdir()) == []  # no run, no staging folder

    def bug(result, folder, **kwargs):
        raise ValueError("a bug in the map")

    monkeypatch.setattr(rundir, "write_maps", bug)
    with pytest.raises(ValueError, match="a bug in the map"):  # a bug stays one
        rundir.write_run(result, out / "run", parallel=True)
    assert list(out.iterdir()) == []


def test_a_killed_map_writer_is_an_output_error(province, tmp_path, monkeypatch):
    result = covgap.run(province.config())
    out = tmp_path / "out"  # the province's inputs are in tmp_path
    out.mkdir()
    monkeypatch.setattr(rundir, "write_maps",
                        lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(OutputError, match=r"map writer \(process \d+\) was killed by "
                                          r"signal 9"):
        rundir.write_run(result, out / "run", parallel=True)
    assert list(out.iterdir()) == []


def test_a_failing_parent_stops_the_map_writer(province, tmp_path, monkeypatch):
    import time

    result = covgap.run(province.config())
    out = tmp_path / "out"  # the province's inputs are in tmp_path
    out.mkdir()
    marker = tmp_path / "late"

    def slow(result, folder, **kwargs):
        time.sleep(3)
        marker.write_text("the child lived on")

    def broken(result, folder):
        raise OSError(errno.EACCES, "Permission denied", str(folder / "villages.csv"))

    monkeypatch.setattr(rundir, "write_maps", slow)
    monkeypatch.setattr(rundir, "write_tables", broken)
    with pytest.raises(OutputError, match="Permission denied"):
        rundir.write_run(result, out / "run", parallel=True)
    time.sleep(3.5)
    assert not marker.exists()  # killed, not left writing
    assert list(out.iterdir()) == []


def test_the_map_writers_warnings_reach_the_run(province, tmp_path, monkeypatch):
    from covgap.errors import CovgapWarning

    result = covgap.run(province.config())
    real = rundir.write_maps

    def warn(result, folder, **kwargs):
        import warnings
        warnings.warn("the map left out 3 villages", CovgapWarning, stacklevel=2)
        return real(result, folder, **kwargs)

    monkeypatch.setattr(rundir, "write_maps", warn)
    with pytest.warns(CovgapWarning, match="left out 3 villages"):
        run = rundir.write_run(result, tmp_path / "run", parallel=True)
    assert "the map left out 3 villages" in result.inputs.warnings
    assert "left out 3 villages" in (run / "manifest.json").read_text(encoding="utf-8")


def test_a_document_error_in_the_child_is_an_output_error(province, tmp_path, monkeypatch):
    result = covgap.run(province.config())
    out = tmp_path / "out"  # the province's inputs are in tmp_path
    out.mkdir()

    def full(folder, **kwargs):
        (folder / "appendix.docx").write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "appendix.docx"))

    monkeypatch.setattr(rundir, "write_documents", full)  # the forked child inherits it
    with pytest.raises(OutputError, match=r"\(appendix.docx\): No space left on device"):
        rundir.write_run(result, out / "run", parallel=True)
    assert list(out.iterdir()) == []  # no run, no staging folder
    monkeypatch.setattr(rundir, "write_documents",
                        lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(OutputError, match=r"document writer \(process \d+\) was killed"):
        rundir.write_run(result, out / "run", parallel=True)
    assert list(out.iterdir()) == []


def test_result_write_passes_parallel_on(province, tmp_path, monkeypatch):
    result = covgap.run(province.config())
    forks = []
    real = rundir.Child

    def counted(name, write):
        forks.append(name)
        return real(name, write)

    monkeypatch.setattr(rundir, "Child", counted)
    serial = result.write(tmp_path / "serial", parallel=False)
    assert forks == []
    forked = result.write(tmp_path / "forked", parallel=True)
    assert forks == ["map writer", "document writer"]
    assert (forked / "appendix.docx").is_file()
    figures = sorted(p.relative_to(serial) for p in (serial / "figures").iterdir())
    assert len(figures) >= 3  # the province and commune maps, two processes drew these
    assert figures == sorted(p.relative_to(forked) for p in (forked / "figures").iterdir())
    for name in (*figures, "villages.csv"):
        assert (serial / name).read_bytes() == (forked / name).read_bytes()


# ------------------------------------------- the unions built beside the CSVs (write_run)


class _Footprinted:
    """A coverage whose ``areas`` are built from footprints on first read."""

    def __init__(self, build):
        self.footprints = object()
        self._build = build

    @property
    def areas(self):
        return self._build()


def _result_with(build):
    from types import SimpleNamespace

    return SimpleNamespace(coverage=_Footprinted(build))


def test_the_areas_are_built_in_another_thread_while_the_work_runs():
    import threading
    import time

    seen = {}
    before = threading.active_count()  # other tests may have left threads behind

    def build():
        seen["areas"] = threading.current_thread().name
        time.sleep(0.2)  # still building when the work starts
        return "unions"

    def work():
        seen["work"] = threading.current_thread().name
        seen["beside"] = threading.active_count()

    rundir._with_areas(_result_with(build), work)
    assert seen["work"] == threading.current_thread().name
    assert seen["areas"] != seen["work"] and seen["beside"] == before + 1
    assert threading.active_count() == before  # nothing left running for the fork


@pytest.mark.parametrize("fails", ["work", "areas"])
def test_an_error_of_either_side_is_raised_once_both_ended(fails):
    import threading

    before = threading.active_count()

    def build():
        if fails == "areas":
            raise ValueError("areas failed")
        return "unions"

    def work():
        if fails == "work":
            raise ValueError("work failed")

    with pytest.raises(ValueError, match=f"{fails} failed"):
        rundir._with_areas(_result_with(build), work)
    assert threading.active_count() == before


def test_without_footprints_the_work_runs_alone():
    from types import SimpleNamespace

    ran = []
    rundir._with_areas(SimpleNamespace(coverage=None), lambda: ran.append(1))
    assert ran == [1]


def test_an_idle_pool_worker_is_parked_and_a_busy_one_is_not():
    """can_fork allows threads that wait in a ThreadPoolExecutor's queue, and no other."""
    import sys
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from covgap.export.fork import _parked, can_fork

    forkable = can_fork()  # other tests may have left live threads behind
    release, started = threading.Event(), threading.Event()
    plain = threading.Thread(target=release.wait)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: None).result()
        (worker,) = pool._threads
        for _ in range(500):  # back in its queue once it has handed the result over
            if _parked(sys._current_frames()[worker.ident]):
                break
            threading.Event().wait(0.01)
        assert _parked(sys._current_frames()[worker.ident])
        assert can_fork() == forkable
        busy = pool.submit(lambda: (started.set(), release.wait()))
        started.wait(5)
        assert not _parked(sys._current_frames()[worker.ident]) and not can_fork()
        release.set()
        busy.result()
    release.clear()
    plain.start()
    try:
        assert not _parked(sys._current_frames()[plain.ident]) and not can_fork()
    finally:
        release.set()
        plain.join()
    assert can_fork() == forkable


# ------------------------------------------------------ progress of the exports


@pytest.mark.parametrize("parallel", [False, True])
def test_write_run_reports_each_output_written(province, tmp_path, parallel):
    result = covgap.run(province.config())
    out = tmp_path / "out"  # the province's inputs are in tmp_path
    out.mkdir()
    seen = []
    rundir.write_run(result, out / "run", parallel=parallel,
                     progress=lambda stage, done, total: seen.append((stage, done, total)))
    # the GeoTIFFs, the CSVs, the GeoPackage, the documents, the two workbooks, the
    # charts and the maps: one step each, from 0 to all of them
    assert {stage for stage, _, _ in seen} == {"exports"}
    assert [done for _, done, _ in seen] == list(range(9))
    assert {total for _, _, total in seen} == {8}
    assert (out / "run" / "manifest.json").is_file()


def test_the_command_lines_export_display_runs_no_thread(monkeypatch):
    """The exports' progress display redraws when told, so the writers can still fork."""
    import io
    import threading

    from rich.console import Console

    from covgap import cli
    from covgap.export.fork import can_fork

    monkeypatch.setattr(cli, "err", Console(file=io.StringIO(), force_terminal=True,
                                            width=100))
    before = threading.active_count()  # other tests may have left threads behind
    forkable = can_fork()
    with cli._progress(False, threadless=True) as progress:
        assert progress is not None
        progress("exports", 3, 8)
        assert threading.active_count() == before and can_fork() == forkable
    assert "exports" in cli.err.file.getvalue() and "3/8" in cli.err.file.getvalue()
    # the stages' display, by contrast, refreshes from a thread of its own
    with cli._progress(False) as progress:
        assert threading.active_count() == before + 1 and not can_fork()
