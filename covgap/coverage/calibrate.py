"""Calibrate a signal model against measured RSRP: fit, cross-validate, apply.

Measured minus modelled RSRP is fitted per operator and technology as an offset plus,
with enough tests spread over distance, a slope in log-distance from the serving cell::

    correction(d) = offset_db + slope_db_per_decade * (log10(d) - log10(d_ref))

with ``d_ref`` the median distance of the tests.  The fit is robust: Huber weights
(threshold :data:`HUBER_DB`) by iteratively reweighted least squares, so a few tests
taken indoors or in a lift do not move it.  Its honest error is the k-fold
cross-validated RMSE (:data:`CV_FOLDS` folds, fixed seed).  :func:`calibrate_coverage`
applies the correction to every grid cell of the signal rasters, before the threshold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from covgap.coverage.result import Coverage

__all__ = ["CALIBRATION_COLUMNS", "Fit", "calibrate_coverage", "calibration_table",
           "fit_correction", "modelled_at"]

log = logging.getLogger(__name__)

#: Tests of one operator and technology needed before a log-distance slope is fitted.
MIN_SLOPE_TESTS = 30
#: ... and the spread of their log10 distances (decades) that makes a slope meaningful.
MIN_SLOPE_SPREAD = 0.3
#: Residuals beyond this (dB) get Huber weights: roughly one shadow-fading sigma.
HUBER_DB = 8.0
#: Folds of the cross-validated RMSE.
CV_FOLDS = 5
#: Distances closer than this (m) to the serving cell are taken as this.
MIN_DISTANCE_M = 10.0

#: The columns of ``calibration.csv``.
CALIBRATION_COLUMNS = ("operator", "technology", "n", "bias_db", "offset_db",
                       "slope_db_per_decade", "ref_distance_m", "rmse_before_db",
                       "rmse_after_db", "cv_rmse_db", "applied")


@dataclass(frozen=True)
class Fit:
    """A fitted correction: ``offset_db + slope_db_per_decade * (log10 d - ref_log_d)``."""

    offset_db: float
    slope_db_per_decade: float = 0.0
    ref_log_d: float = 0.0

    def correction(self, distance_m: np.ndarray) -> np.ndarray:
        """Return the correction in dB at distances ``distance_m`` (m) from the server."""
        logd = np.log10(np.maximum(np.asarray(distance_m, float), MIN_DISTANCE_M))
        slope = self.slope_db_per_decade
        return self.offset_db + (slope * (logd - self.ref_log_d) if slope else 0.0 * logd)


def fit_correction(residual_db: np.ndarray, distance_m: np.ndarray, *,
                   min_slope_tests: int = MIN_SLOPE_TESTS) -> Fit:
    """Fit measured minus modelled RSRP robustly (Huber IRLS).

    Parameters
    ----------
    residual_db : array
        Measured minus modelled RSRP of each test, dB.
    distance_m : array
        Distance of each test from its serving cell, metres.
    min_slope_tests : int
        Fewer tests than this (or a spread under 0.3 decade) fit an offset only.

    Returns
    -------
    Fit

    Examples
    --------
    >>> fit = fit_correction(np.array([-5.0, -6.0, -4.0, -40.0]), np.full(4, 1000.0))
    >>> round(fit.offset_db, 1)  # the plain mean is -13.75
    -7.7
    """
    res = np.asarray(residual_db, float)
    logd = np.log10(np.maximum(np.asarray(distance_m, float), MIN_DISTANCE_M))
    if len(res) == 0:
        return Fit(0.0)
    ref = float(np.median(logd))
    x = logd - ref
    slope_ok = len(res) >= min_slope_tests and float(np.ptp(x)) >= MIN_SLOPE_SPREAD
    design = np.column_stack([np.ones_like(x), x]) if slope_ok else np.ones((len(x), 1))
    w = np.ones_like(res)
    beta = np.zeros(design.shape[1])
    for _ in range(50):
        sw = np.sqrt(w)
        new, *_ = np.linalg.lstsq(design * sw[:, None], res * sw, rcond=None)
        r = np.abs(res - design @ new)
        w = np.where(r <= HUBER_DB, 1.0, HUBER_DB / np.maximum(r, 1e-12))
        if np.allclose(new, beta, atol=1e-6):
            beta = new
            break
        beta = new
    return Fit(float(beta[0]), float(beta[1]) if slope_ok else 0.0, ref)


def modelled_at(coverage: Coverage, x: np.ndarray, y: np.ndarray, operator: str,
                technology: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the modelled signal (dBm) and the distance to the serving cell (m) at points.

    Parameters
    ----------
    coverage : Coverage
        A signal model's coverage.
    x, y : array
        Points in the coverage's metric CRS.
    operator, technology : str

    Returns
    -------
    (signal_dbm, distance_m) : arrays
        NaN outside the grid, where no cell serves, or without a signal raster.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    nan = np.full(len(x), np.nan)
    key = (operator, technology)
    if coverage.grid is None or key not in coverage.signal or len(x) == 0:
        return nan, nan.copy()
    row, col = coverage.grid.rowcol(x, y)
    inside = ((row >= 0) & (row < coverage.grid.height) & (col >= 0)
              & (col < coverage.grid.width))
    r = np.where(inside, np.floor(row), 0).astype(int)
    c = np.where(inside, np.floor(col), 0).astype(int)
    signal = np.where(inside, coverage.signal[key][r, c], np.nan).astype(float)
    dist = nan.copy()
    if key in coverage.server:
        server = np.where(inside, coverage.server[key][r, c], -1)
        ok = server >= 0
        cx = coverage.cells["x"].to_numpy(float)
        cy = coverage.cells["y"].to_numpy(float)
        dist[ok] = np.hypot(x[ok] - cx[server[ok]], y[ok] - cy[server[ok]])
    return signal, dist


def _cv_rmse(res: np.ndarray, dist: np.ndarray, folds: int, min_slope_tests: int) -> float:
    """k-fold cross-validated RMSE of the fit (leave-one-out below ``folds`` tests)."""
    n = len(res)
    if n < 2:
        return float("nan")
    k = min(folds, n)
    fold = np.random.default_rng(0).permutation(n) % k
    errors = np.empty(n)
    for f in range(k):
        test = fold == f
        fit = fit_correction(res[~test], dist[~test], min_slope_tests=min_slope_tests)
        errors[test] = res[test] - fit.correction(dist[test])
    return float(np.sqrt(np.mean(errors ** 2)))


def calibration_table(coverage: Coverage, measurements: gpd.GeoDataFrame,
                      metric_crs: CRS, *, folds: int = CV_FOLDS,
                      min_slope_tests: int = MIN_SLOPE_TESTS,
                      ) -> tuple[pd.DataFrame, dict[tuple[str, str], Fit]]:
    """Fit measured minus modelled RSRP per operator and technology.

    Parameters
    ----------
    coverage : Coverage
        A signal model's coverage, before calibration.
    measurements : GeoDataFrame
        Checked tests (:func:`covgap.io.layers.read_measurements`), any CRS; those with
        ``rsrp_dbm`` where the model has a signal are fitted.
    metric_crs : pyproj.CRS
        The coverage grid's CRS.
    folds : int
        Folds of ``cv_rmse_db``.
    min_slope_tests : int
        Tests needed for the log-distance slope.

    Returns
    -------
    (table, fits)
        ``table``: :data:`CALIBRATION_COLUMNS` (``applied`` False; the caller sets it),
        one row per operator and technology with tests; ``fits``: the :class:`Fit` of
        each.  ``bias_db`` is the plain mean of measured minus modelled, before
        calibration; ``rmse_after_db`` is in-sample, ``cv_rmse_db`` out of sample.
    """
    rows, fits = [], {}
    tests = measurements[measurements["rsrp_dbm"].notna()]
    if len(tests) and coverage.signal:
        pts = tests.geometry.to_crs(metric_crs)
        for (op, tech), group in tests.groupby(["operator", "technology"], sort=True):
            if (op, tech) not in coverage.signal:
                continue
            xy = pts.loc[group.index]
            model, dist = modelled_at(coverage, xy.x.to_numpy(), xy.y.to_numpy(), op, tech)
            ok = np.isfinite(model) & np.isfinite(dist)
            if not ok.any():
                continue
            res = group["rsrp_dbm"].to_numpy(float)[ok] - model[ok]
            d = dist[ok]
            fit = fit_correction(res, d, min_slope_tests=min_slope_tests)
            fits[op, tech] = fit
            after = res - fit.correction(d)
            rows.append({
                "operator": op, "technology": tech, "n": int(ok.sum()),
                "bias_db": round(float(res.mean()), 2),
                "offset_db": round(fit.offset_db, 2),
                "slope_db_per_decade": round(fit.slope_db_per_decade, 2),
                "ref_distance_m": round(10 ** fit.ref_log_d, 1),
                "rmse_before_db": round(float(np.sqrt(np.mean(res ** 2))), 2),
                "rmse_after_db": round(float(np.sqrt(np.mean(after ** 2))), 2),
                "cv_rmse_db": round(_cv_rmse(res, d, folds, min_slope_tests), 2),
                "applied": False})
    return pd.DataFrame(rows, columns=list(CALIBRATION_COLUMNS)), fits


def calibrate_coverage(coverage: Coverage, measurements: gpd.GeoDataFrame,
                       metric_crs: CRS, *, apply: bool) -> pd.DataFrame:
    """Fit the model to the measurements and, with ``apply``, correct its signal.

    The correction is added to ``coverage.signal`` (and ``clear_signal``) of each
    fitted operator and technology, grid cell by grid cell at the cell's distance from
    its serving cell, so the threshold is applied to the calibrated signal.  The fit is
    recorded in ``coverage.parameters["calibration"]`` and kept in
    ``coverage.calibration``.

    Parameters
    ----------
    coverage : Coverage
        A signal model's coverage; changed in place when ``apply``.
    measurements : GeoDataFrame
        Checked tests.
    metric_crs : pyproj.CRS
        The grid's CRS.
    apply : bool
        ``[coverage] calibrate``.

    Returns
    -------
    DataFrame
        The calibration table (:func:`calibration_table`).
    """
    table, fits = calibration_table(coverage, measurements, metric_crs)
    if apply and fits and coverage.grid is not None:
        xs, ys = coverage.grid.centres()
        gx, gy = np.meshgrid(xs, ys)
        cx = coverage.cells["x"].to_numpy(float)
        cy = coverage.cells["y"].to_numpy(float)
        for key, fit in fits.items():
            for signal, server in ((coverage.signal, coverage.server),
                                   (coverage.clear_signal, coverage.clear_server)):
                if key not in signal or key not in server:
                    continue
                srv = server[key]
                ok = srv >= 0
                dist = np.full(srv.shape, np.nan)
                dist[ok] = np.hypot(gx[ok] - cx[srv[ok]], gy[ok] - cy[srv[ok]])
                corr = np.where(ok, fit.correction(np.nan_to_num(dist, nan=1.0)), 0.0)
                signal[key] = (signal[key] + corr).astype(signal[key].dtype)
        table["applied"] = True
    coverage.calibration = table
    coverage.parameters["calibration"] = {
        "applied": bool(apply and fits), "folds": CV_FOLDS, "huber_db": HUBER_DB,
        "fits": table.to_dict("records")}
    log.info("calibration: %d fit(s), applied=%s", len(table), bool(apply and fits))
    return table
