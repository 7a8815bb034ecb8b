"""The Dask path: a LocalCluster of 2 workers gives exactly the single-process run."""

from __future__ import annotations

import dataclasses

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


def test_unreachable_scheduler_is_a_clear_error():
    compute = ComputeConfig(scheduler="dask", address="tcp://127.0.0.1:9")
    with pytest.raises(covgap.ConfigError, match="cannot reach the Dask scheduler"):
        list(map_ordered(_double, [1], compute))


def test_dask_run_writes_the_same_villages_csv(sample_result, tmp_path):
    cfg = sample_result.config
    dask_cfg = dataclasses.replace(
        cfg, compute=ComputeConfig(scheduler="dask", workers=2),
        output=dataclasses.replace(cfg.output, dir=tmp_path / "dask-out"))
    local_dir = sample_result.write(tmp_path / "local")
    result = covgap.run(dask_cfg)
    dask_dir = result.write(tmp_path / "dask")
    for name in ("villages.csv", "communes.csv", "indicators.csv", "gaps.csv"):
        assert (dask_dir / name).read_bytes() == (local_dir / name).read_bytes(), name
    # the rasters themselves, bit for bit
    for key, signal in sample_result.coverage.signal.items():
        np.testing.assert_array_equal(result.coverage.signal[key], signal)
        np.testing.assert_array_equal(result.coverage.server[key],
                                      sample_result.coverage.server[key])
        np.testing.assert_array_equal(result.coverage.clear_signal[key],
                                      sample_result.coverage.clear_signal[key])
