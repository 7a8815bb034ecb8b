"""The synthetic country of benchmarks/make_national.py, tiny, runs through covgap."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import rasterio

import covgap

REPO = Path(__file__).resolve().parents[1]


def test_tiny_country_is_consistent_and_runs(tmp_path):
    out = tmp_path / "country"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "make_national.py"),
                    "--scale", "0.003", "--out", str(out)], check=True, capture_output=True)
    facts = json.loads((out / "facts.json").read_text(encoding="utf-8"))
    assert facts["provinces"] == 34
    assert facts["villages"] >= facts["communes"] >= 34
    with rasterio.open(out / "population.tif") as src:  # the grid holds the villages' people
        assert float(src.read(1, masked=True).sum()) == facts["people"]
    cfg = covgap.load_config(out / "radius.toml")
    cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, dir=tmp_path / "o"))
    result = covgap.run(cfg)
    assert len(result.villages) == facts["villages"]
    assert result.communes["province"].nunique() == 34  # carried to the outputs
    assert set(result.villages["mbb_covered"].unique()) <= {True, False}
    assert np.isclose(result.villages["population"].sum(), facts["people"])
