"""Path loss tabulated over log distance and log effective height, for the terrain model.

The terrain model takes each path's loss at the antenna's effective height above the
average terrain of that path (:func:`covgap.coverage.propagation.effective_height_m`),
so the loss varies with both distance and height across one site's window.  Evaluating
Hata or TR 38.901 per cell is slow; a :class:`LossGrid` tabulates one loss group's
loss once and :func:`interpolate_loss` (numba) reads it bilinearly, in the coverage
kernel (:mod:`covgap.coverage.pathloss`) and in the terrain kernel's bound on what a
cell can still receive (:func:`covgap.coverage.los.terrain_windows`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from covgap.coverage.propagation import pathloss_db

__all__ = ["LossGrid", "interpolate_log_loss", "interpolate_loss", "pattern_gain_db"]

#: The terrain model tabulates path loss against log distance (from 1 m) and log
#: effective height (from the mast up) at these many points, and interpolates
#: bilinearly.  Hata is exactly bilinear in (log d, log h); the kinks (Hata's
#: free-space floor, TR 38.901's breakpoint, which moves with the height) leave 99% of
#: points within 0.16 dB of direct evaluation and all within 0.7 dB (test).
_GRID_DISTANCES = 512
_GRID_HEIGHTS = 24


@dataclass(frozen=True)
class LossGrid:
    """Path loss of one loss group over log distance and log effective height, dB.

    ``loss[i, j]`` is the loss at ``exp(log_d0 + i * step_d)`` metres with the antenna
    ``exp(log_h0 + j * step_h)`` metres above the average terrain; :func:`interpolate_loss`
    interpolates it bilinearly.
    """

    loss: np.ndarray
    log_d0: float
    step_d: float
    log_h0: float
    step_h: float

    @classmethod
    def build(cls, row: pd.Series, radius_m: float, top_m: float, rx_height_m: float
              ) -> LossGrid:
        """Tabulate the group's path loss (TR 38.901 LOS for 5G) up to ``radius_m``.

        The table's points depend only on ``radius_m``, the mast and ``top_m`` (the
        highest effective height), so callers pass the run's ray radius
        (``[coverage] max_distance_m``), not the group's reach.
        """
        log_d = np.linspace(0.0, math.log(max(radius_m, 2.0) * 1.01), _GRID_DISTANCES)
        mast = float(row["height_m"])
        n_h = _GRID_HEIGHTS if top_m > mast * 1.001 else 2
        log_h = np.linspace(math.log(mast), math.log(max(top_m, mast * 1.001)), n_h)
        loss = pathloss_db(np.exp(log_d)[:, None], row["frequency_mhz"],
                           tx_height_m=np.exp(log_h)[None, :], rx_height_m=rx_height_m,
                           environment=row["environment"], technology=row["technology"],
                           los=True)
        return cls(np.ascontiguousarray(loss, dtype="float64"), float(log_d[0]),
                   float(log_d[1] - log_d[0]), float(log_h[0]), float(log_h[1] - log_h[0]))

    def at(self, distance_m: np.ndarray, height_m: np.ndarray) -> np.ndarray:
        """Loss, dB, at distances and effective heights (arrays of one shape)."""
        return _grid_losses(self.loss, self.log_d0, self.step_d, self.log_h0, self.step_h,
                            np.asarray(distance_m, "float64").ravel(),
                            np.asarray(height_m, "float64").ravel()
                            ).reshape(np.shape(distance_m))


@njit(cache=True, nogil=True)
def interpolate_loss(grid, log_d0, step_d, log_h0, step_h, d, h):  # pragma: no cover - compiled
    """Bilinear interpolation of a :class:`LossGrid` at distance d, effective height h."""
    return interpolate_log_loss(grid, log_d0, step_d, log_h0, step_h, math.log(max(d, 1.0)),
                                math.log(h))


@njit(cache=True, nogil=True, inline='always')
def interpolate_log_loss(grid, log_d0, step_d, log_h0, step_h, log_d,
                         log_h):  # pragma: no cover - compiled
    """:func:`interpolate_loss` from log(max(d, 1)) and log(h), for callers that reuse them."""
    nd, nh = grid.shape
    fd = (log_d - log_d0) / step_d
    fh = (log_h - log_h0) / step_h
    fd = min(max(fd, 0.0), nd - 1.0)
    fh = min(max(fh, 0.0), nh - 1.0)
    i = min(int(fd), nd - 2)
    j = min(int(fh), nh - 2)
    a = fd - i
    b = fh - j
    return ((grid[i, j] * (1.0 - b) + grid[i, j + 1] * b) * (1.0 - a)
            + (grid[i + 1, j] * (1.0 - b) + grid[i + 1, j + 1] * b) * a)


@njit(cache=True)
def _grid_losses(grid, log_d0, step_d, log_h0, step_h, d, h):  # pragma: no cover - compiled
    out = np.empty(d.size)
    for k in range(d.size):
        out[k] = interpolate_loss(grid, log_d0, step_d, log_h0, step_h, d[k], h[k])
    return out


@njit(cache=True, nogil=True)
def pattern_gain_db(bearing_deg, azimuth_deg, beamwidth_deg):  # pragma: no cover - compiled
    """Gain of a sector towards a bearing, dB (<= 0): the 3GPP parabolic pattern.

    TR 36.814 Table A.2.1.1-2: ``-min(12 (phi / beamwidth)^2, A_m)`` with A_m = 25 dB
    and phi the angle off the azimuth, degrees; 0 dB for an omni cell (NaN azimuth).
    """
    if math.isnan(azimuth_deg):
        return 0.0
    phi = (bearing_deg - azimuth_deg + 540.0) % 360.0 - 180.0
    return -min(12.0 * (phi / beamwidth_deg) ** 2, 25.0)

