"""The planners' notebooks run top to bottom on the sample province, so they never rot.

Each notebook is executed with nbclient in a kernel of this interpreter (the project's
virtualenv), started in ``notebooks/``.  They share one temporary output folder
(``COVGAP_NOTEBOOK_OUT``), seeded with the coverage cache of the session's sample run,
so they reuse its terrain coverage, and nothing is written into the repository.

They take about a minute each: ``pytest -m notebooks`` runs only them,
``pytest -m "not notebooks"`` everything else.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import sys
import time
from pathlib import Path

import pytest

import covgap

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
kernelspec = pytest.importorskip("jupyter_client.kernelspec")
manager = pytest.importorskip("jupyter_client.manager")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
# Every notebook in notebooks/, in order: a new one is tested without editing this file.
NAMES = sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb"))

# What a planner must meet in the opening cell of every notebook.
TERMS = ("lõm sóng", "thôn", "xã", "khu vực III", "ĐBKK", "FTTH")

# Cheap checks of particular notebooks' outputs: text they print, and files they write
# under COVGAP_NOTEBOOK_OUT.
EXPECTED = {
    "01_quickstart": {
        "text": ["run finished in",
                 "longitude and latitude look swapped",  # the InputError shown on purpose
                 "terrain shadow"],  # the lõm sóng village explained
        "files": [f"01_quickstart/tinh-mau-2025/{name}" for name in (
            "villages.csv", "gaps.csv", "candidates.csv", "map.html", "manifest.json")],
    },
    "02_indicators_report": {
        "text": ["run finished in"],
        "images": 4,
        "files": ["02_indicators_report/communes.csv",
                  "02_indicators_report/province_indicators.png"],
    },
    "03_candidate_sites": {
        "text": ["run finished in", "budget  1000", "budget  4000"],
        "images": 4,
        "files": [f"03_candidate_sites/{name}" for name in (
            "candidates.csv", "villages_per_site.csv", "fibre_extensions.csv",
            "budget_curve.png")],
    },
    "04_year_over_year": {
        # the sites built during 2025 cover villages that were lõm sóng in 2024
        "text": ["run finished in", "crosswalk: overlay", "newly covered         9"],
        "files": [f"04_year_over_year/diff-2024-2025/{name}" for name in (
            "diff_villages.csv", "diff_indicators.csv", "crosswalk.csv",
            "change_map.html")],
    },
    "05_measurements": {
        "text": ["run finished in", "dispute(s)"],
        "images": 1,
        "files": ["05_measurements/calibration.png",
                  "05_measurements/tinh-mau-2025/calibration.csv",
                  "05_measurements/tinh-mau-2025/disputes.csv"],
    },
}

# Under the plan's two-minute budget on a 2-core machine, with room for a busy one.
CELL_TIMEOUT_S = 300


def read(name: str):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def code_cells(nb) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def data_fingerprint() -> str:
    """Hash of every file under data/: the notebooks must never write there."""
    h = hashlib.sha256()
    for path in sorted((REPO / "data").rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(REPO)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def outputs_text(nb) -> str:
    """Every text output of an executed notebook, joined."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


def images(nb) -> int:
    return sum("image/png" in out.get("data", {})
               for cell in nb.cells for out in cell.get("outputs", []))


# ----------------------------------------------------------------- fast checks


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_saved_without_outputs(name):
    nb = read(name)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: clear the outputs before committing"
            assert cell.execution_count is None, f"{name}: clear the execution counts"
    assert nb.cells[0].cell_type == "markdown"
    for term in TERMS:
        assert term in nb.cells[0].source, f"{name}: the opening cell should explain {term}"


def covgap_names(source: str) -> set[str]:
    """Names a cell takes from covgap: ``covgap.run`` and ``from covgap import run``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax (magics): fall back to the text
        return set(re.findall(r"\bcovgap\.([A-Za-z_]\w*)", source))
    names = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id == "covgap"):
            names.add(node.attr)
        elif isinstance(node, ast.ImportFrom) and node.module == "covgap":
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            modules = [node.module] if isinstance(node, ast.ImportFrom) else [
                alias.name for alias in node.names]
            names.update(f"<submodule {m}>" for m in modules
                         if m and m.startswith("covgap."))
    return names


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_use_only_the_public_api(name):
    used = set().union(*map(covgap_names, code_cells(read(name))))
    assert used <= set(covgap.__all__), (
        f"{name} uses {sorted(used - set(covgap.__all__))}, which covgap.__all__ does not "
        "export; notebooks use only the public API")


# ----------------------------------------------------------------- execution


@pytest.fixture(scope="module")
def shared_out(tmp_path_factory, sample_result) -> Path:
    """One output folder for all the notebooks: the coverage cache is shared.

    It starts with the sample's coverage cache, which the session's ``sample_result``
    has computed already (the same key: the notebooks change only the output folder),
    so no notebook spends the terrain model's 40 s again.  Computing it is tested by
    that fixture and by ``covgap demo``.
    """
    import dataclasses
    import shutil

    from covgap.coverage.cache import cache_path

    out = tmp_path_factory.mktemp("notebook-out")
    cfg = sample_result.config
    key = sample_result.coverage.parameters["cache_key"]
    seed = cache_path(cfg, key)
    if seed.is_file():
        target = cache_path(dataclasses.replace(
            cfg, output=dataclasses.replace(cfg.output, dir=out)), key)
        target.parent.mkdir(parents=True)
        shutil.copyfile(seed, target)
    return out


def venv_kernel():
    """A kernel manager whose "python3" kernel is this interpreter.

    The kernel spec comes from ipykernel itself (``sys.executable``), not from any
    kernel registered on the machine, which might run another Python without covgap.
    """
    specs = kernelspec.KernelSpecManager(kernel_dirs=[])
    km = manager.AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)
    assert km.kernel_spec.argv[0] == sys.executable
    return km


def execute(name: str, out: Path):
    nb = read(name)
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", km=venv_kernel(),
        resources={"metadata": {"path": str(NOTEBOOKS)}})
    started = time.perf_counter()
    # cleanup_kc: shut the kernel down afterwards although the client did not create
    # its manager (nbclient keeps such kernels alive by default)
    client.execute(cleanup_kc=True,
                   env={**os.environ, "COVGAP_NOTEBOOK_OUT": str(out),
                        "MPLBACKEND": "module://matplotlib_inline.backend_inline"})
    seconds = time.perf_counter() - started
    print(f"{name}: {seconds:.0f} s")
    return nb


@pytest.mark.notebooks
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, shared_out):
    data_before = data_fingerprint()
    listing_before = sorted(NOTEBOOKS.iterdir())
    nb = execute(name, shared_out)  # a cell that raises fails the test here
    assert data_fingerprint() == data_before, f"{name} changed files under data/"
    assert sorted(NOTEBOOKS.iterdir()) == listing_before, (
        f"{name} wrote into notebooks/; outputs belong under COVGAP_NOTEBOOK_OUT")
    expected = EXPECTED.get(name, {})
    text = outputs_text(nb)
    for snippet in expected.get("text", []):
        assert snippet in text, f"{name}: {snippet!r} not in the outputs"
    assert images(nb) >= expected.get("images", 0)
    for file in expected.get("files", []):
        assert (shared_out / file).is_file(), f"{name} did not write {file}"
