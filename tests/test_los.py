"""Line of sight and knife-edge diffraction (covgap.coverage.los), against hand geometry.

The analytic cases put the site on a cell centre and the targets on its row, so the ray
samples land exactly on the walls and the expected loss follows from the geometry alone.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess

import numba
import numpy as np
import pandas as pd
import pytest
import rasterio
from conftest import SAMPLE_TOML
from rasterio.enums import Resampling
from rasterio.transform import from_origin

import covgap
from covgap.coverage import analysis_grid
from covgap.coverage import los as los_module
from covgap.coverage.grid import resample_to_grid
from covgap.coverage.los import (
    EARTH_RADIUS_M,
    SPEED_OF_LIGHT_M_S,
    TerrainWindow,
    WindowBound,
    knife_edge_loss_db,
    terrain_window,
    terrain_windows,
    visibility,
)
from covgap.coverage.losstable import LossGrid
from covgap.errors import InputError

CELL = 90.0
K = 4 / 3


def bulge_drop(d_m: float, k: float = K) -> float:
    """Drop of the Earth's surface below the tangent plane at the site, metres."""
    return d_m * d_m / (2 * k * EARTH_RADIUS_M)


def nu(h_m: float, d1_m: float, d2_m: float, frequency_mhz: float) -> float:
    wavelength = SPEED_OF_LIGHT_M_S / (frequency_mhz * 1e6)
    return h_m * math.sqrt(2 / wavelength * (1 / d1_m + 1 / d2_m))


def height_over_ray(z: float, d: float, z_a: float, d_a: float, z_b: float, d_b: float) -> float:
    """Height of a point at distance d above the ray (z_a at d_a to z_b at d_b), with the
    Earth bulge: every elevation is lowered by its drop below the site's tangent plane."""
    za, zb, zp = z_a - bulge_drop(d_a), z_b - bulge_drop(d_b), z - bulge_drop(d)
    return zp - (za + (zb - za) * (d - d_a) / (d_b - d_a))


def at(tw: TerrainWindow, row: int, col: int) -> tuple[bool, float, float]:
    """(los, loss_db, distance_m) of DEM cell (row, col)."""
    i, j = row - tw.row0, col - tw.col0
    return bool(tw.los[i, j]), float(tw.loss_db[i, j]), float(tw.distance_m[i, j])


def rough_dem(n: int, *, relief_m: float = 600.0, seed: int = 2025) -> np.ndarray:
    """Smoothed random terrain with three sharp ridges, float32 metres."""
    rng = np.random.default_rng(seed)
    f = np.fft.fftfreq(n)
    k = np.hypot(f[:, None], f[None, :])
    spectrum = np.fft.fft2(rng.normal(size=(n, n))) / (1 + (k / 0.02) ** 2) ** 1.2
    z = np.real(np.fft.ifft2(spectrum))
    z = (z - z.min()) / (z.max() - z.min()) * relief_m
    yy, xx = np.mgrid[0:n, 0:n]
    for a, b, c, height in ((1.0, -0.6, -0.1 * n, 250.0), (0.3, 1.0, -0.9 * n, 200.0),
                            (-1.0, -0.2, 1.1 * n, 180.0)):
        dist = np.abs(a * xx + b * yy + c) / math.hypot(a, b)
        z += height * np.exp(-((dist / 3.0) ** 2))
    return z.astype(np.float32)


# --- 1. flat ground --------------------------------------------------------------------

def test_flat_ground_is_visible_without_loss_at_short_range():
    dem = np.zeros((61, 61), dtype=np.float32)
    # Within 2 km at 1800 MHz the ground one cell from the receiver is >= 2.7 m under the
    # ray, nu <= -1.0: no sample reaches -0.78.
    tw = terrain_window(dem, cell_size_m=CELL, site_row=30.5, site_col=30.5, tx_height_m=30.0,
                        frequency_mhz=1800.0, radius_m=2000.0)
    inside = np.isfinite(tw.distance_m)
    # centres within 2000 m: 22.2 cells, so rows and columns 8..52
    assert (tw.row0, tw.col0) == (8, 8) and tw.los.shape == (45, 45)
    assert inside.sum() == np.count_nonzero(
        np.hypot(*np.mgrid[-22:23, -22:23]) * CELL <= 2000.0)
    assert tw.los[inside].all() and not tw.los[~inside].any()
    assert (tw.loss_db[inside] == 0).all() and np.isnan(tw.loss_db[~inside]).all()
    assert tw.los.dtype == np.bool_ and tw.loss_db.dtype == np.float32
    assert tw.distance_m.dtype == np.float32
    # 3-4-5: 12 rows south and 16 columns east is 20 cells away
    assert at(tw, 42, 46)[2] == pytest.approx(1800.0)
    assert at(tw, 30, 50)[2] == pytest.approx(1800.0)
    assert at(tw, 30, 30)[:2] == (True, 0.0)  # the site's own cell
    assert at(tw, 30, 30)[2] == pytest.approx(0.0)


def test_fractional_site_distances():
    dem = np.zeros((40, 40), dtype=np.float32)
    tw = visibility(dem, cell_size_m=30.0, site_row=10.25, site_col=20.75, tx_height_m=20.0,
                    radius_m=500.0)
    # cell (13, 24) has its centre at (13.5, 24.5): 3.25 rows and 3.75 columns away
    assert at(tw, 13, 24)[2] == pytest.approx(30.0 * math.hypot(3.25, 3.75), rel=1e-6)
    assert at(tw, 10, 20)[0] and tw.los[np.isfinite(tw.distance_m)].all()


# --- 2. Earth curvature -----------------------------------------------------------------

@pytest.mark.parametrize("k", [4 / 3, 1.0])
def test_radio_horizon_on_a_flat_sea(k):
    cell = 250.0
    dem = np.zeros((321, 321), dtype=np.float32)
    tw = visibility(dem, cell_size_m=cell, site_row=160.5, site_col=160.5, tx_height_m=30.0,
                    rx_height_m=1.5, radius_m=39_000.0, k_factor=k)
    horizon = math.sqrt(2 * k * EARTH_RADIUS_M * 30.0) + math.sqrt(
        2 * k * EARTH_RADIUS_M * 1.5)
    if k == 4 / 3:
        assert horizon == pytest.approx(22_576 + 5_048, abs=2)
    d = tw.distance_m
    near = d < horizon - 3 * cell
    far = d > horizon + 3 * cell
    assert near.sum() > 20_000 and far.sum() > 5_000
    assert tw.los[near].all()
    assert not tw.los[far].any()


# --- 3. one ridge -----------------------------------------------------------------------

WALL_COL = 60
SITE = (100.5, 40.5)  # cell centre; the wall is 20 cells (1800 m) east


def wall_dem(*walls: tuple[int, float]) -> np.ndarray:
    dem = np.zeros((201, 141), dtype=np.float32)
    for col, height in walls:
        dem[:, col] = height
    return dem


def single_wall_loss(col: int, row_offset: int = 0, *, height: float = 100.0,
                     frequency_mhz: float = 1800.0) -> float:
    """J(nu) of the wall on the straight line from the site to cell (100 + row_offset, col)."""
    dx, dy = col - 40, row_offset
    sec = math.hypot(dx, dy) / dx
    d1, d = (WALL_COL - 40) * CELL * sec, dx * CELL * sec
    h = height_over_ray(height, d1, 30.0, 0.0, 1.5, d)
    return float(knife_edge_loss_db(nu(h, d1, d - d1, frequency_mhz)))


@pytest.mark.parametrize("method", ["deygout", "epstein-peterson"])
def test_single_ridge_loss_is_j_of_nu(method):
    tw = terrain_window(wall_dem((WALL_COL, 100.0)), cell_size_m=CELL, site_row=SITE[0],
                        site_col=SITE[1], tx_height_m=30.0, frequency_mhz=1800.0,
                        radius_m=3200.0, method=method)
    for col in (45, 55, 59):
        assert at(tw, 100, col)[:2] == (True, 0.0)
    assert at(tw, 100, WALL_COL)[0]  # a receiver on the wall sees the antenna
    for col in (62, 65, 70, 75):
        visible, loss, _ = at(tw, 100, col)
        expected = single_wall_loss(col)
        assert not visible
        assert expected > 20
        assert loss == pytest.approx(expected, abs=0.05)
    # Off the site's row the ray through the cell is up to half a cell off its centre.
    for row_offset, col in ((5, 70), (-12, 72), (15, 68)):
        visible, loss, _ = at(tw, 100 + row_offset, col)
        assert not visible
        assert loss == pytest.approx(single_wall_loss(col, row_offset), abs=0.5)


def test_without_the_ridge_the_same_cells_see_the_antenna():
    tw = terrain_window(wall_dem(), cell_size_m=CELL, site_row=SITE[0], site_col=SITE[1],
                        tx_height_m=30.0, frequency_mhz=1800.0, radius_m=3200.0)
    for row, col in ((100, 62), (100, 65), (100, 70), (100, 75), (105, 70), (88, 72)):
        assert at(tw, row, col)[:2] == (True, 0.0)


def test_loss_grows_with_frequency():
    losses = [at(terrain_window(wall_dem((WALL_COL, 100.0)), cell_size_m=CELL,
                                site_row=SITE[0], site_col=SITE[1], tx_height_m=30.0,
                                frequency_mhz=f, radius_m=3200.0), 100, 70)[1]
              for f in (900.0, 1800.0, 3500.0)]
    assert losses == pytest.approx([single_wall_loss(70, frequency_mhz=f)
                                    for f in (900.0, 1800.0, 3500.0)], abs=0.05)
    assert losses[0] < losses[1] < losses[2]


# --- 4. two ridges ----------------------------------------------------------------------

def test_two_ridges_deygout_and_epstein_peterson_by_hand():
    a_col, a_h, b_col, b_h, target = 55, 60.0, 70, 90.0, 85
    dem = wall_dem((a_col, a_h), (b_col, b_h))
    kw = dict(cell_size_m=CELL, site_row=SITE[0], site_col=SITE[1], tx_height_m=30.0,
              frequency_mhz=1800.0, radius_m=4100.0)
    dey = at(terrain_window(dem, **kw), 100, target)
    ep = at(terrain_window(dem, method="epstein-peterson", **kw), 100, target)
    only_b = at(terrain_window(wall_dem((b_col, b_h)), **kw), 100, target)

    da, db, d = [(c - 40) * CELL for c in (a_col, b_col, target)]
    nu_a = nu(height_over_ray(a_h, da, 30.0, 0.0, 1.5, d), da, d - da, 1800.0)
    nu_b = nu(height_over_ray(b_h, db, 30.0, 0.0, 1.5, d), db, d - db, 1800.0)
    assert nu_b > nu_a > 0  # B is the main edge
    # Deygout: A is the edge of the sub-path from the antenna to B's top.
    nu_a_sub = nu(height_over_ray(a_h, da, 30.0, 0.0, b_h, db), da, db - da, 1800.0)
    expected_dey = float(knife_edge_loss_db(nu_b) + knife_edge_loss_db(nu_a_sub))
    # Epstein-Peterson: A between the antenna and B, B between A and the receiver.
    nu_b_ep = nu(height_over_ray(b_h, db, a_h, da, 1.5, d), db - da, d - db, 1800.0)
    expected_ep = float(knife_edge_loss_db(nu_a_sub) + knife_edge_loss_db(nu_b_ep))

    assert not dey[0] and not ep[0]
    assert dey[1] == pytest.approx(expected_dey, abs=0.05)
    assert ep[1] == pytest.approx(expected_ep, abs=0.05)
    assert dey[1] >= only_b[1] > 0
    assert only_b[1] == pytest.approx(float(knife_edge_loss_db(nu_b)), abs=0.05)
    assert ep[1] > 0


# --- nodata, clipping, errors -------------------------------------------------------------

def test_nodata_does_not_obstruct_and_nodata_cells_are_nan():
    dem = wall_dem()
    dem[:, WALL_COL] = np.nan  # a column of nodata where the wall was
    dem[100, 70] = np.nan
    tw = terrain_window(dem, cell_size_m=CELL, site_row=SITE[0], site_col=SITE[1],
                        tx_height_m=30.0, frequency_mhz=1800.0, radius_m=3200.0)
    assert at(tw, 100, 65)[:2] == (True, 0.0)
    visible, loss, distance = at(tw, 100, 70)
    assert not visible and math.isnan(loss) and distance == pytest.approx(30 * CELL)
    assert math.isnan(at(tw, 90, WALL_COL)[1])


def test_window_is_clipped_at_the_dem_edge():
    dem = rough_dem(80)
    tw = terrain_window(dem, cell_size_m=CELL, site_row=3.5, site_col=78.2, tx_height_m=30.0,
                        frequency_mhz=900.0, radius_m=2000.0)
    assert (tw.row0, tw.col0) == (0, 56)
    assert tw.los.shape == (26, 24)
    inside = np.isfinite(tw.distance_m)
    assert np.isfinite(tw.loss_db[inside]).all() and (tw.loss_db[inside] >= 0).all()


def test_visibility_agrees_with_terrain_window():
    dem = rough_dem(160)
    kw = dict(cell_size_m=CELL, site_row=80.5, site_col=70.3, tx_height_m=25.0, radius_m=6000.0)
    full = terrain_window(dem, frequency_mhz=2100.0, **kw)
    only = visibility(dem, **kw)
    assert (only.row0, only.col0) == (full.row0, full.col0)
    assert np.array_equal(only.distance_m, full.distance_m, equal_nan=True)
    inside = np.isfinite(full.distance_m)
    # the sweep carries each horizon over from the neighbours' rays: cells grazing a
    # horizon may differ from the exact profile, no others
    assert (only.los[inside] == full.los[inside]).mean() >= 0.97
    assert not only.los[~inside].any()
    assert np.isnan(only.loss_db).all() and not only.loss_db.flags.writeable
    # Blocked cells always lose at least J(0) = 6 dB; visible ones less or nothing.
    assert (full.loss_db[inside & ~full.los] >= 6.0).all()
    assert 0.05 < full.los[inside].mean() < 0.95


def test_visibility_behind_a_wall_and_beside_it():
    # a wall 60 m high on column 50, rows 37-43; the site (30 m antenna) at the centre
    # of cell (40, 40), flat ground, no bulge.  A ray to cell (r, c) east of the wall
    # crosses column 50 at row 40 + (r - 40) * 10 / (c - 40); where that is on the
    # wall the cell is hidden (the ray from 30 m down to 1.5 m is under 30 m there),
    # where it passes two cells or more beside the wall the cell sees (the sweep
    # interpolates each horizon between two neighbours' rays, which blurs a shadow's
    # edge by a cell or so, 30 cells out).
    dem = np.zeros((81, 81), dtype=np.float32)
    dem[37:44, 50] = 60.0
    tw = visibility(dem, cell_size_m=CELL, site_row=40.5, site_col=40.5, tx_height_m=30.0,
                    radius_m=3500.0, k_factor=1e9)
    rows, cols = np.nonzero(np.isfinite(tw.distance_m))
    rows, cols = rows + tw.row0, cols + tw.col0
    seen = tw.los[rows - tw.row0, cols - tw.col0]
    east = cols > 50
    crossing = 40 + (rows[east] - 40) * 10 / (cols[east] - 40)
    on_wall = (crossing >= 37.5) & (crossing <= 42.5)
    beside = (crossing < 35.0) | (crossing > 45.0)
    assert on_wall.sum() > 300 and beside.sum() > 800
    assert not seen[east][on_wall].any()
    assert seen[east][beside].all()
    assert seen[cols <= 50].all()  # in front of the wall, and its top


def test_results_do_not_depend_on_the_number_of_threads():
    dem = rough_dem(160)
    kw = dict(cell_size_m=CELL, site_row=60.5, site_col=90.5, tx_height_m=30.0,
              frequency_mhz=900.0, radius_m=5000.0)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = terrain_window(dem, **kw)
    finally:
        numba.set_num_threads(before)
    many = terrain_window(dem, **kw)
    assert np.array_equal(one.los, many.los)
    assert np.array_equal(one.loss_db, many.loss_db, equal_nan=True)


def test_inputs_are_not_modified():
    dem = rough_dem(60)
    copy = dem.copy()
    terrain_window(dem, cell_size_m=CELL, site_row=30.0, site_col=30.0, tx_height_m=30.0,
                   frequency_mhz=900.0, radius_m=2000.0)
    assert np.array_equal(dem, copy)


def test_invalid_arguments_are_listed():
    dem = np.zeros((10, 10), dtype=np.float32)
    with pytest.raises(InputError, match=r"3 invalid arguments") as err:
        terrain_window(dem, cell_size_m=-1.0, site_row=5.0, site_col=5.0, tx_height_m=30.0,
                       frequency_mhz=0.0, radius_m=1000.0, method="bullington")
    text = str(err.value)
    assert "method 'bullington' is not valid; valid values: 'deygout', 'epstein-peterson'" \
        in text
    assert "cell_size_m -1.0 must be a number > 0 metres" in text
    assert "frequency_mhz 0.0 must be a number > 0 (MHz)" in text


def test_site_outside_the_dem():
    with pytest.raises(InputError, match=r"site \(row 12, col 3\) is outside the DEM "
                                         r"\(10 rows x 10 columns\)"):
        visibility(np.zeros((10, 10), dtype=np.float32), cell_size_m=CELL, site_row=12,
                   site_col=3, tx_height_m=30.0, radius_m=1000.0)


def test_site_on_nodata():
    dem = np.zeros((10, 10), dtype=np.float32)
    dem[4, 5] = np.nan
    with pytest.raises(InputError, match=r"stands on a nodata cell of the DEM"):
        visibility(dem, cell_size_m=CELL, site_row=4.5, site_col=5.9, tx_height_m=30.0,
                   radius_m=1000.0)


def test_bad_heights_and_dem():
    with pytest.raises(InputError, match=r"rx_height_m -1 must be a number ≥ 0"):
        visibility(np.zeros((10, 10)), cell_size_m=CELL, site_row=4.5, site_col=4.5,
                   tx_height_m=30.0, rx_height_m=-1, radius_m=1000.0)
    with pytest.raises(InputError, match=r"dem: a non-empty 2-D numeric array is needed; "
                                         r"got shape \(10,\)"):
        visibility(np.zeros(10), cell_size_m=CELL, site_row=4.5, site_col=4.5,
                   tx_height_m=30.0, radius_m=1000.0)


def test_knife_edge_loss():
    assert knife_edge_loss_db(0.0) == pytest.approx(6.03, abs=0.01)
    assert knife_edge_loss_db(-0.78) == 0.0
    assert knife_edge_loss_db(-0.7799) == pytest.approx(0.0, abs=0.01)  # continuous
    assert knife_edge_loss_db(1.0) == pytest.approx(13.9, abs=0.05)
    assert knife_edge_loss_db(2.0) == pytest.approx(19.0, abs=0.05)
    assert np.array_equal(knife_edge_loss_db([-2.0, -1.0]), [0.0, 0.0])


# --- the fast search equals a brute-force one (white box) ---------------------------------

def brute_force(dem, tw, *, site_row, site_col, tx_h, rx_h, frequency_mhz, method):
    """Same rays and samples as the module, every edge search by a full scan."""
    L = los_module
    lam = SPEED_OF_LIGHT_M_S / (frequency_mhz * 1e6)
    curv = 1 / (2 * K * EARTH_RADIUS_M)
    h, w = tw.los.shape
    r0, c0 = tw.row0, tw.col0
    sy, sx = site_row - 0.5, site_col - 0.5
    ty, tx = L._border(r0, r0 + h, c0, c0 + w)
    todo = np.isfinite(tw.distance_m) & np.isfinite(dem[r0:r0 + h, c0:c0 + w])
    todo[int(site_row) - r0, int(site_col) - c0] = False
    owner = np.full((h, w), -1, np.int32)
    step = np.zeros((h, w), np.int32)
    L._assign_owners(sy, sx, ty, tx, r0, r0 + h, c0, c0 + w, todo, owner, step)
    lone_r, lone_c = np.nonzero(todo & (owner < 0))
    ty = np.concatenate([ty, lone_r + float(r0)])
    tx = np.concatenate([tx, lone_c + float(c0)])
    L._own_targets(sy, sx, ty, tx, ty.size - lone_r.size, r0, c0, owner, step)

    def best(z, d, lo, hi, da, za, db, zb):
        if hi < lo:
            return -np.inf, -1
        q = np.arange(lo, hi + 1)
        hq = z[q] - (za + (zb - za) * (d[q] - da) / (db - da))
        nus = hq * np.sqrt(2 / lam * (1 / (d[q] - da) + 1 / (db - d[q])))
        nus[np.isnan(nus)] = -np.inf
        i = int(np.argmax(nus))
        return nus[i], int(q[i])

    def edge(z, d, i, da, za, db, zb):
        return best(z, d, i, i, da, za, db, zb)[0]

    def knife_edges(z, d, t, z0, zt):
        total = 0.0
        nm, m = best(z, d, 1, t - 1, 0.0, z0, d[t], zt)
        if nm > -0.78:
            nt, et = best(z, d, 1, m - 1, 0.0, z0, d[m], z[m])
            nr, er = best(z, d, m + 1, t - 1, d[m], z[m], d[t], zt)
            if method == "deygout":
                # ITU-R P.526-15 4.5.1: the sub-path edges weighted by T
                jm = float(knife_edge_loss_db(nm))
                weight = 1.0 - math.exp(-jm / 6.0)
                total = jm + weight * sum(float(knife_edge_loss_db(v)) for v in (nt, nr))
            else:
                left = (d[et], z[et]) if nt > -0.78 else (0.0, z0)
                right = (d[er], z[er]) if nr > -0.78 else (d[t], zt)
                nus = [edge(z, d, m, *left, *right)]
                if nt > -0.78:
                    nus.append(edge(z, d, et, 0.0, z0, d[m], z[m]))
                if nr > -0.78:
                    nus.append(edge(z, d, er, d[m], z[m], d[t], zt))
                total = sum(float(knife_edge_loss_db(v)) for v in nus)
        return total

    z0 = float(dem[int(site_row), int(site_col)]) + tx_h
    los = np.zeros((h, w), bool)
    loss = np.full((h, w), np.nan)
    smooth = np.full((h, w), np.nan)
    for ray in range(ty.size):
        x_major, sign, j0, n, slope, u0, _, s_minor = L._geometry(sy, sx, ty[ray], tx[ray])
        d = np.concatenate([[0.0], (u0 + np.arange(n)) * CELL * math.hypot(1, slope)])
        z = np.full(n + 1, z0)
        cells = []
        for s in range(n):
            m = s_minor + slope * sign * (u0 + s)
            j, mi = j0 + sign * s, math.floor(m + 0.5)
            cells.append((mi, j) if x_major else (j, mi))
            zs = L._sample(dem, 0, 0, dem.shape[0], dem.shape[1], x_major, j, m)
            z[s + 1] = -np.inf if math.isnan(zs) else zs - curv * d[s + 1] ** 2
        for s, (r, c) in enumerate(cells):
            i, j = r - r0, c - c0
            if not (0 <= i < h and 0 <= j < w) or owner[i, j] != ray or step[i, j] != s:
                continue
            t = s + 1
            zt = dem[r, c] + rx_h - curv * d[t] ** 2
            los[i, j] = t == 1 or (zt - z0) / d[t] >= np.max((z[1:t] - z0) / d[1:t])
            loss[i, j] = knife_edges(z, d, t, z0, zt)
            # the same over smooth ground: flat at 0 m, lowered by the bulge, every
            # sample scanned
            flat = -curv * d[:t + 1] ** 2
            flat[0] = tx_h
            smooth[i, j] = knife_edges(flat, d, t, tx_h, rx_h - curv * d[t] ** 2)
    return los, loss, smooth


@pytest.mark.parametrize("method,site,frequency", [
    ("deygout", (70.5, 60.5), 1800.0),
    ("epstein-peterson", (50.2, 90.7), 900.0),
])
def test_fast_edge_search_equals_brute_force(method, site, frequency):
    dem = rough_dem(140, relief_m=500.0, seed=7)
    dem[60:64, 75:77] = np.nan
    tw = terrain_window(dem, cell_size_m=CELL, site_row=site[0], site_col=site[1],
                        tx_height_m=25.0, frequency_mhz=frequency, radius_m=3500.0,
                        method=method)
    los, loss, smooth = brute_force(dem, tw, site_row=site[0], site_col=site[1], tx_h=25.0,
                                    rx_h=1.5, frequency_mhz=frequency, method=method)
    computed = np.isfinite(loss)
    assert computed.sum() > 3000
    assert np.array_equal(los[computed], tw.los[computed])
    assert np.allclose(loss[computed], tw.loss_db[computed], atol=1e-3)
    assert (loss[computed] > 0).mean() > 0.3
    # the bisection over smooth ground finds what a full scan finds
    assert (smooth[computed] > 0).mean() > 0.2
    excess = np.maximum(loss - smooth, 0.0)
    assert np.allclose(excess[computed], tw.excess_db[computed], atol=1e-3)
    assert 0.1 < (excess[computed] > 0).mean() < (loss[computed] > 0).mean()


def test_a_cell_missed_by_every_ray_gets_its_own():
    # Cast only every third border ray so that cells are missed, then give them rays.
    L = los_module
    sy, sx = 20.0, 20.0
    ty, tx = L._border(0, 41, 0, 41)
    ty, tx = ty[::3], tx[::3]
    todo = np.ones((41, 41), dtype=bool)
    todo[20, 20] = False
    owner = np.full((41, 41), -1, np.int32)
    step = np.zeros((41, 41), np.int32)
    L._assign_owners(sy, sx, ty, tx, 0, 41, 0, 41, todo, owner, step)
    lone_r, lone_c = np.nonzero(todo & (owner < 0))
    assert lone_r.size > 50
    first = ty.size
    ty = np.concatenate([ty, lone_r.astype(float)])
    tx = np.concatenate([tx, lone_c.astype(float)])
    L._own_targets(sy, sx, ty, tx, first, 0, 0, owner, step)
    assert (owner[todo] >= 0).all()
    for r, c in zip(lone_r, lone_c, strict=True):
        x_major, sign, j0, n, slope, u0, _, s_minor = L._geometry(sy, sx, float(r), float(c))
        assert step[r, c] == n - 1
        j = j0 + sign * (n - 1)
        m = s_minor + slope * sign * (u0 + n - 1)
        assert ((round(m), j) if x_major else (j, round(m))) == (r, c)


# --- 5. agreement with gdal_viewshed ----------------------------------------------------

def gdal_viewshed_or_skip() -> str:
    exe = shutil.which("gdal_viewshed")
    if exe is None:
        if os.environ.get("COVGAP_REQUIRE_GDAL"):
            pytest.fail("COVGAP_REQUIRE_GDAL is set but gdal_viewshed is not on PATH; "
                        "install Debian's gdal-bin")
        pytest.skip("gdal_viewshed not installed (Debian: apt-get install gdal-bin)")
    return exe


def write_dem(path, dem: np.ndarray, transform, crs) -> None:
    with rasterio.open(path, "w", driver="GTiff", width=dem.shape[1], height=dem.shape[0],
                       count=1, dtype="float32", crs=crs, transform=transform,
                       nodata=np.nan) as ds:
        ds.write(dem.astype(np.float32), 1)


def gdal_viewshed(exe: str, src, dst, transform, shape, row: int, col: int, *,
                  tx_height_m: float, radius_m: float) -> np.ndarray:
    """gdal_viewshed from the centre of DEM cell (row, col), on the DEM's whole extent:
    1 visible, 0 not, 255 not computed."""
    cell = transform.a
    # gdal_viewshed lowers the terrain by cc d^2 / (2 a), a the CRS's semi-major axis
    # (6 378 137 m for UTM on WGS 84); ours by d^2 / (2 k R_e).
    cc = 6_378_137.0 / (K * EARTH_RADIUS_M)
    x, y = transform * (col + 0.5, row + 0.5)
    subprocess.run([exe, "-q", "-ox", repr(x), "-oy", repr(y), "-oz", repr(tx_height_m),
                    "-tz", "1.5", "-md", repr(radius_m), "-cc", repr(cc), "-vv", "1",
                    "-iv", "0", "-ov", "255", str(src), str(dst)],
                   check=True, capture_output=True)
    theirs = np.full(shape, 255, dtype=np.uint8)
    with rasterio.open(dst) as ds:
        r0 = round((transform.f - ds.transform.f) / cell)
        c0 = round((ds.transform.c - transform.c) / cell)
        theirs[r0:r0 + ds.height, c0:c0 + ds.width] = ds.read(1)
    return theirs


def los_agreement(ours: TerrainWindow, theirs: np.ndarray) -> tuple[float, int]:
    """Share of the cells within our radius where both agree, and their number."""
    h, w = ours.los.shape
    theirs = theirs[ours.row0:ours.row0 + h, ours.col0:ours.col0 + w]
    inside = np.isfinite(ours.distance_m)
    assert (theirs[inside] != 255).all()  # gdal computed every cell we did
    return float((ours.los[inside] == (theirs[inside] == 1)).mean()), int(inside.sum())


GDAL_SITES = [(150, 150), (120, 175), (185, 130), (140, 120)]


@pytest.fixture(scope="module")
def gdal_runs(tmp_path_factory):
    exe = gdal_viewshed_or_skip()
    tmp = tmp_path_factory.mktemp("viewshed")
    dem = rough_dem(300)
    transform = from_origin(500_000.0, 2_300_000.0, CELL, CELL)
    src = tmp / "dem.tif"
    write_dem(src, dem, transform, "EPSG:32648")
    runs = []
    for n, (row, col) in enumerate(GDAL_SITES):
        theirs = gdal_viewshed(exe, src, tmp / f"viewshed{n}.tif", transform, dem.shape,
                               row, col, tx_height_m=30.0, radius_m=10_000.0)
        ours = visibility(dem, cell_size_m=CELL, site_row=row + 0.5, site_col=col + 0.5,
                          tx_height_m=30.0, rx_height_m=1.5, radius_m=10_000.0, k_factor=K)
        runs.append((ours, theirs))
    return runs


@pytest.mark.parametrize("n", range(len(GDAL_SITES)))
def test_line_of_sight_agrees_with_gdal_viewshed(gdal_runs, n, record_property):
    ours, theirs = gdal_runs[n]
    agreement, cells = los_agreement(ours, theirs)
    record_property("agreement", agreement)
    print(f"site {GDAL_SITES[n]}: {agreement:.2%} of {cells} cells agree")
    assert agreement >= 0.97
    assert 0.02 < ours.los[np.isfinite(ours.distance_m)].mean() < 0.98


def test_line_of_sight_agrees_with_gdal_viewshed_on_the_sample_dem(tmp_path):
    # The criterion: >= 97 % of cells within 10 km agree, on the sample
    # province's DEM as the terrain model sees it (bilinear on the analysis grid), from
    # two sites high in the mountainous west and the two easternmost, on the coast.
    exe = gdal_viewshed_or_skip()
    inputs = covgap.read_inputs(SAMPLE_TOML)
    grid = analysis_grid(inputs, covgap.load_config(SAMPLE_TOML))
    dem = resample_to_grid(inputs.dem, grid, resampling=Resampling.bilinear)
    src = tmp_path / "dem.tif"
    write_dem(src, dem, grid.transform, grid.rasterio_crs)

    sites = inputs.sites.drop_duplicates("site_id")
    metric = sites.geometry.to_crs(grid.crs)
    row, col = grid.rowcol(metric.x.to_numpy(), metric.y.to_numpy())
    sites = sites.assign(lon=sites.geometry.x.to_numpy(), row=row.astype(int),
                         col=col.astype(int)).drop_duplicates(["row", "col"])
    sites["elevation_m"] = dem[sites["row"], sites["col"]]
    west = sites.sort_values(["elevation_m", "site_id"], ascending=[False, True]).head(2)
    east = sites.sort_values(["lon", "site_id"], ascending=[False, True]).head(2)
    assert (west["lon"] < 105.1).all() and (west["elevation_m"] > 800).all()
    assert (east["lon"] > 105.5).all() and (east["elevation_m"] < 20).all()

    for n, site in enumerate(pd.concat([west, east]).itertuples()):
        r, c, height = int(site.row), int(site.col), float(site.height_m)
        theirs = gdal_viewshed(exe, src, tmp_path / f"viewshed{n}.tif", grid.transform,
                               dem.shape, r, c, tx_height_m=height, radius_m=10_000.0)
        ours = visibility(dem, cell_size_m=grid.cell_size_m, site_row=r + 0.5,
                          site_col=c + 0.5, tx_height_m=height, rx_height_m=1.5,
                          radius_m=10_000.0, k_factor=K)
        agreement, cells = los_agreement(ours, theirs)
        assert cells > 20_000, site.site_id
        assert agreement >= 0.97, f"{site.site_id}: {agreement:.2%} of {cells} cells agree"


# --- 6. issue 13: effective height, continuity through nu = 0, one value per cell -------

def test_mean_ground_on_a_flat_profile_gives_the_mast_height():
    from covgap.coverage.propagation import effective_height_m

    dem = np.full((121, 121), 250.0, dtype=np.float32)
    tw = terrain_window(dem, cell_size_m=CELL, site_row=60.5, site_col=60.5, tx_height_m=30.0,
                        frequency_mhz=1800.0, radius_m=5000.0)
    mean = tw.mean_elevation_m[np.isfinite(tw.distance_m)]
    assert mean.size > 9000 and np.all(mean == 250.0)
    assert np.all(effective_height_m(30.0, 250.0, mean) == 30.0)


def test_a_hilltop_antenna_stands_its_hill_above_the_plain_p1546_interval():
    from covgap.coverage.propagation import effective_height_m

    # a 300 m hill two cells wide under the site on a plain at 0 m; beyond 15.5 km a
    # 500 m plateau, which P.1546's 3-15 km interval leaves out for a path of 16.5 km
    dem = np.zeros((41, 241), dtype=np.float32)
    dem[18:23, 18:23] = 300.0
    dem[:, 20 + 173:] = 500.0  # from 15 525 m east of the site
    site = (20.5, 20.5)
    tw = terrain_window(dem, cell_size_m=CELL, site_row=site[0], site_col=site[1],
                        tx_height_m=30.0, frequency_mhz=1800.0, radius_m=20000.0)
    near_col, far_col = 20 + 55, 20 + 183  # 4950 m and 16 470 m east, on the site's row
    near = float(tw.mean_elevation_m[20 - tw.row0, near_col - tw.col0])
    far = float(tw.mean_elevation_m[20 - tw.row0, far_col - tw.col0])
    assert near == 0.0  # 0.2 d .. d = 990-4950 m: all plain
    assert far == 0.0  # 3-15 km: plain; the plateau under the receiver is not in it
    assert float(effective_height_m(30.0, 300.0, near)) == 330.0
    # on a 9 km path the interval 1.8-9 km holds no plateau either, but a path ending
    # on the plateau at 16.5 km would have counted it with 0.2 d .. d
    assert float(dem[20, far_col]) == 500.0


def wall_touching_the_ray(wall_col: int, rx_col: int) -> float:
    """Wall height (m) on the site's row that touches the ray to a receiver on the row."""
    d_wall = (wall_col - SITE[1] + 0.5) * CELL
    d_rx = (rx_col - SITE[1] + 0.5) * CELL
    return -height_over_ray(0.0, d_wall, 30.0, 0.0, 1.5, d_rx)


def test_diffraction_is_continuous_through_the_line_of_sight_boundary():
    rx_col = 100  # 5400 m east; the wall 1800 m east
    touch = wall_touching_the_ray(WALL_COL, rx_col)
    excess = {}
    for label, dz in (("clear by 0.5 m", -0.5), ("touching", 0.0), ("above by 0.5 m", 0.5)):
        tw = terrain_window(wall_dem((WALL_COL, touch + dz)), cell_size_m=CELL,
                            site_row=SITE[0], site_col=SITE[1], tx_height_m=30.0,
                            frequency_mhz=1800.0, radius_m=6000.0)
        i, j = int(SITE[0]) - tw.row0, rx_col - tw.col0
        excess[label] = (bool(tw.los[i, j]), float(tw.excess_db[i, j]))
    assert excess["clear by 0.5 m"][0] and not excess["above by 0.5 m"][0]
    # a ray that clears the wall by half a metre is still in its Fresnel zone ...
    assert excess["clear by 0.5 m"][1] > 3.0
    # ... and differs from one that touches it, or is blocked by half a metre, by a few dB
    assert abs(excess["touching"][1] - excess["clear by 0.5 m"][1]) < 2.0
    assert abs(excess["above by 0.5 m"][1] - excess["touching"][1]) < 2.0
    # through nu = 0 the main edge's J(nu) is 6.03 dB: P.526, not a step to three edges
    nus = np.linspace(-0.9, 0.9, 181)
    steps = np.abs(np.diff(knife_edge_loss_db(nus)))
    assert steps.max() < 0.2


def test_smooth_ground_adds_no_excess():
    dem = np.zeros((201, 201), dtype=np.float32)
    tw = terrain_window(dem, cell_size_m=CELL, site_row=100.5, site_col=100.5,
                        tx_height_m=30.0, frequency_mhz=900.0, radius_m=9000.0)
    ok = np.isfinite(tw.loss_db)
    assert tw.loss_db[ok].max() > 5.0  # the raw knife edges of bare ground ...
    assert tw.excess_db[ok].max() < 1e-4  # ... are smooth ground's, which Hata holds


def test_a_cell_has_one_value_whatever_window_computes_it():
    dem = rough_dem(280, relief_m=700.0, seed=3)
    kw = {"cell_size_m": CELL, "site_row": 140.5, "site_col": 131.25, "tx_height_m": 30.0,
          "frequency_mhz": 1800.0, "ray_radius_m": 12000.0}
    small = terrain_window(dem, radius_m=6000.0, **kw)
    large = terrain_window(dem, radius_m=11500.0, **kw)
    h, w = small.los.shape
    i, j = small.row0 - large.row0, small.col0 - large.col0
    both = np.isfinite(small.distance_m)
    for name in ("los", "loss_db", "excess_db", "mean_elevation_m"):
        a = getattr(small, name)[both]
        b = getattr(large, name)[i:i + h, j:j + w][both]
        assert np.array_equal(a, b, equal_nan=name != "los"), name
    # without a common ray radius the rays differ with the window, and so do cells
    plain = terrain_window(dem, radius_m=6000.0, **{**kw, "ray_radius_m": None})
    assert not np.array_equal(plain.loss_db[both], small.loss_db[both])


@pytest.mark.parametrize("method", ["deygout", "epstein-peterson"])
def test_one_walk_gives_every_frequency_its_own_window(method):
    """terrain_windows walks once for 700, 1800 and 3500 MHz; each window is bit for bit
    terrain_window's at that frequency (the edges do not depend on the wavelength)."""
    dem = rough_dem(180)
    kw = dict(cell_size_m=CELL, site_row=90.3, site_col=77.8, tx_height_m=25.0,
              radius_m=7000.0, method=method, ray_radius_m=9000.0)
    freqs = [700.0, 1800.0, 3500.0]
    together = terrain_windows(dem, frequencies_mhz=freqs, **kw)
    for f, tw in zip(freqs, together, strict=True):
        alone = terrain_window(dem, frequency_mhz=f, **kw)
        for name in ("los", "loss_db", "excess_db", "mean_elevation_m", "distance_m"):
            np.testing.assert_array_equal(getattr(tw, name), getattr(alone, name),
                                          err_msg=f"{f} MHz {name}")
    blocked = np.isfinite(together[0].distance_m) & ~together[0].los
    # a higher frequency loses more behind the same ridges
    assert blocked.sum() > 1000
    assert (together[2].loss_db[blocked] > together[0].loss_db[blocked]).mean() > 0.95


def test_the_bound_skips_only_cells_that_cannot_win():
    """With a bound, a cell's loss is searched exactly where the loss-free signal at the
    path's effective height beats the best so far; elsewhere it is +inf, and where it
    is searched it equals the full search."""
    dem = rough_dem(160)
    kw = dict(cell_size_m=CELL, site_row=80.5, site_col=70.5, tx_height_m=30.0,
              radius_m=5000.0, ray_radius_m=5000.0)
    full = terrain_window(dem, frequency_mhz=1800.0, **kw)
    h, w = full.los.shape
    # a loss table that is 100 dB + 20 dB per decade of distance, whatever the height
    log_d = np.linspace(0.0, math.log(5050.0), 64)
    table = LossGrid(np.repeat((100.0 + 20 * log_d[:, None] / math.log(10)), 2, axis=1),
                     0.0, float(log_d[1]), math.log(30.0), 1.0)
    # best so far: -95 dBm west of the site (the bound reaches it within ~560 m),
    # nothing east of it
    best = np.full((1, h, w), -np.inf, dtype=np.float32)
    best[0, :, : 70 - full.col0] = -95.0
    bound = WindowBound.from_tables(eirp_dbm=[[60.0]], floor_dbm=-200.0, best_dbm=best,
                                    radius_m=[5000.0], tables=[table])
    (pruned,) = terrain_windows(dem, frequencies_mhz=[1800.0], bound=bound, **kw)
    inside = np.isfinite(full.distance_m)
    upper = 60.0 - table.at(full.distance_m.astype(float), np.full(full.los.shape, 30.0))
    skip = inside & (upper + 1e-3 <= best[0])
    skip[80 - full.row0, 70 - full.col0] = False  # the site's own cell is always 0 dB
    assert 0.2 < skip[inside].mean() < 0.8
    assert np.isposinf(pruned.excess_db[skip]).all()
    keep = inside & ~skip
    np.testing.assert_array_equal(pruned.excess_db[keep], full.excess_db[keep])
    np.testing.assert_array_equal(pruned.loss_db[keep], full.loss_db[keep])
    np.testing.assert_array_equal(pruned.los, full.los)


def test_horizon_sweep_agrees_with_the_ray_profiles():
    """visibility's sweep against terrain_window's exact profiles for sites anywhere in
    a cell, antennas from 5 to 60 m and radii from 1 to 60 cells: the same distances;
    on very rough terrain (600 m of relief and three sharp ridges over 12.6 km) at
    least 96% of the cells alike, 98% on average (the sweep carries horizons over from
    neighbouring rays, which blurs shadow edges); all alike on flat ground with the
    Earth's bulge."""
    dem = rough_dem(140)
    flat = np.full_like(dem, 120.0)
    rng = np.random.default_rng(5)
    shares = []
    for _ in range(25):
        kw = dict(cell_size_m=CELL, site_row=float(rng.uniform(2, 138)),
                  site_col=float(rng.uniform(2, 138)), tx_height_m=float(rng.uniform(5, 60)),
                  radius_m=float(rng.uniform(CELL, 60 * CELL)))
        full = terrain_window(dem, frequency_mhz=900.0, **kw)
        only = visibility(dem, **kw)
        assert np.array_equal(only.distance_m, full.distance_m, equal_nan=True), kw
        inside = np.isfinite(full.distance_m)
        assert not only.los[~inside].any()
        shares.append((only.los[inside] == full.los[inside]).mean())
        assert shares[-1] >= 0.96, kw
        smooth = visibility(flat, **kw)
        assert np.array_equal(smooth.los, terrain_window(flat, frequency_mhz=900.0,
                                                         **kw).los), kw
    assert np.mean(shares) >= 0.98




@pytest.mark.parametrize("site_row, site_col, radius_cells", [
    (0.1, 0.2, 12.0), (0.9, 59.95, 8.0), (59.99, 0.01, 20.0), (59.5, 59.5, 0.3),
    (30.0, 30.0, 0.4), (0.5, 30.5, 40.0)])
def test_horizon_sweep_at_the_dem_edges(site_row, site_col, radius_cells):
    """Sites in corners, on edges and on cell borders, radii under a cell and beyond the
    DEM: the sweep's window, distances and site cell are terrain_window's, and its line
    of sight agrees with the exact profiles on 95% of the cells or more."""
    dem = rough_dem(60)
    kw = dict(cell_size_m=CELL, site_row=site_row, site_col=site_col, tx_height_m=20.0,
              radius_m=radius_cells * CELL)
    full = terrain_window(dem, frequency_mhz=1800.0, **kw)
    only = visibility(dem, **kw)
    assert (only.row0, only.col0, only.los.shape) == (full.row0, full.col0, full.los.shape)
    assert np.array_equal(only.distance_m, full.distance_m, equal_nan=True)
    assert at(only, int(site_row), int(site_col))[0]
    inside = np.isfinite(full.distance_m)
    assert (only.los[inside] == full.los[inside]).mean() >= 0.95
    assert not only.los[~inside].any()


def test_horizon_sweep_over_nodata():
    """Nodata cells see nothing and hide nothing: the sweep carries the horizon across
    them (as the ray walk skips their samples), and agrees with the exact profiles."""
    dem = rough_dem(120)
    dem[40:55, 70:90] = np.nan
    dem[:, :6] = np.nan
    kw = dict(cell_size_m=CELL, site_row=60.3, site_col=60.8, tx_height_m=35.0,
              radius_m=50 * CELL)
    full = terrain_window(dem, frequency_mhz=1800.0, **kw)
    only = visibility(dem, **kw)
    inside = np.isfinite(full.distance_m)
    hole = ~np.isfinite(dem[only.row0:only.row0 + only.los.shape[0],
                            only.col0:only.col0 + only.los.shape[1]])
    assert (inside & hole).sum() >= 300
    assert not only.los[hole].any()
    assert (only.los[inside] == full.los[inside]).mean() >= 0.97
