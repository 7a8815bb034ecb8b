"""covgap: find where Vietnam's mobile and fibre networks still leave people out.

Examples
--------
>>> import covgap
>>> result = covgap.run("data/sample.toml")  # doctest: +SKIP
>>> result.write("out/tinh-mau/2025")  # doctest: +SKIP
"""

from covgap._version import __version__
from covgap.analysis.villages import SIGNAL_STATUSES
from covgap.config import Config, load_config
from covgap.diff import RunDiff, diff_runs
from covgap.errors import (
    ConfigError,
    CovgapError,
    CovgapWarning,
    InputError,
    InputWarning,
    OutputError,
)
from covgap.io import Inputs, read_inputs
from covgap.pipeline import run
from covgap.result import Result, RunExistsError

__all__ = [
    "SIGNAL_STATUSES",
    "Config",
    "ConfigError",
    "CovgapError",
    "CovgapWarning",
    "InputError",
    "InputWarning",
    "Inputs",
    "OutputError",
    "Result",
    "RunDiff",
    "RunExistsError",
    "__version__",
    "diff_runs",
    "load_config",
    "read_inputs",
    "run",
]
