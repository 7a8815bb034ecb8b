"""The Dask path: a LocalCluster of 2 workers gives exactly the single-process run."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time

import numpy as np
import pytest

import covgap
from covgap.compute import map_ordered
from covgap.config import ComputeConfig

pytest.importorskip("distributed")

SAMPLE_TOML = "data/sample.toml"


def _double(x: int) -> int:
    return 2 * x


def test_map_ordered_keeps_the_order_of_the_tasks():
    compute = ComputeConfig(scheduler="dask", workers=2)
    seen = []
    out = list(map_ordered(_double, list(range(23)), compute, on_done=seen.append))
    assert out == [2 * i for i in range(23)]
    assert seen == list(range(23))


def test_a_closed_cluster_leaves_the_exports_free_to_fork():
    """dask.distributed keeps an idle worker thread once the cluster is closed: parked.

    Any thread the run leaves behind must be one ``can_fork`` allows, or every export
    after a ``scheduler = "dask"`` coverage would be written serially.
    """
    import threading

    from covgap.export.fork import _parked

    before = {t.ident for t in threading.enumerate()}
    assert list(map_ordered(_double, [1, 2], ComputeConfig(scheduler="dask", workers=2))) \
        == [2, 4]

    def left() -> list[bool]:
        return [_parked(frame) for ident, frame in sys._current_frames().items()
                if ident not in before]

    # the cluster's own threads take a moment to end once it is closed
    deadline = time.monotonic() + 10.0
    while not all(left()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(left())


def test_unreachable_scheduler_is_a_clear_error():
    """In a process of its own: a Client that fails to connect leaves its IO loop running.

    That thread would keep ``can_fork`` false, and every later test's exports serial.
    """
    code = (
        "import covgap\n"
        "import distributed\n"
        "class Quick(distributed.Client):  # give up after 2 s, not the 20 s of a run\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        super().__init__(*args, **{**kwargs, 'timeout': '2s'})\n"
        "distributed.Client = Quick\n"
        "from covgap.compute import map_ordered\n"
        "from covgap.config import ComputeConfig\n"
        "compute = ComputeConfig(scheduler='dask', address='tcp://127.0.0.1:9')\n"
        "try:\n"
        "    list(map_ordered(abs, [1], compute))\n"
        "except covgap.ConfigError as exc:\n"
        "    print('ConfigError:', exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert "ConfigError:" in done.stdout
    assert "cannot reach the Dask scheduler" in done.stdout


def test_dask_tiles_give_the_local_rasters_bit_for_bit():
    """The terrain model's tiles computed by 2 worker processes: the local rasters exactly.

    A fifth of the sample's sites in 20 km tiles, so there are several tiles, each
    shipped with its own part of the DEM, and merged in order on the driver.  (The whole
    sample on Dask took about three minutes of the suite; every output after the
    rasters is computed on the driver by the same code either way.)
    """
    from covgap.coverage import compute_coverage

    cfg = covgap.load_config(SAMPLE_TOML)
    inputs = covgap.read_inputs(SAMPLE_TOML)
    ids = inputs.sites["site_id"].drop_duplicates()
    part = dataclasses.replace(inputs, sites=inputs.sites[
        inputs.sites["site_id"].isin(ids.iloc[::5])])
    local = compute_coverage(part, dataclasses.replace(
        cfg, compute=ComputeConfig(tile_m=20_000.0)))
    remote = compute_coverage(part, dataclasses.replace(
        cfg, compute=ComputeConfig(scheduler="dask", workers=2, tile_m=20_000.0)))
    assert local.model == "terrain" and local.parameters["tiles"] > 1
    assert remote.parameters["scheduler"] == "dask"
    assert set(remote.signal) == set(local.signal)
    for key, signal in local.signal.items():
        np.testing.assert_array_equal(remote.signal[key], signal)
        np.testing.assert_array_equal(remote.server[key], local.server[key])
        np.testing.assert_array_equal(remote.clear_signal[key], local.clear_signal[key])
        np.testing.assert_array_equal(remote.clear_server[key], local.clear_server[key])
