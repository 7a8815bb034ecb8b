"""Radio propagation: path loss, sector antenna pattern and RSRP, vectorised with numpy.

The building blocks of covgap's ``"pathloss"`` and ``"terrain"`` coverage models.  Every
function is pure and broadcasts its array arguments against each other (numpy rules),
so one call evaluates a site against a whole grid of points.  Scalar arguments give a
numpy scalar (a ``float``), array arguments an array of their broadcast shape.

Distances are ground (2D) distances in metres in the run's projected metric CRS (local
UTM or the province's VN-2000 TM-3); heights are antenna heights above local ground in
metres; frequencies are carrier frequencies in MHz; losses are in dB and powers in dBm.
NaN inputs give NaN outputs (except a NaN azimuth, which means an omni cell).

Models
------
- :func:`free_space_loss_db`: ITU-R P.525.
- :func:`hata_loss_db`: Okumura-Hata (150-1500 MHz) and COST-231 Hata (1500-2000 MHz,
  extrapolated to 2700 MHz), never below free space.
- :func:`tr38901_loss_db`: 3GPP TR 38.901 V17 Table 7.4.1-1, RMa and UMa, LOS and NLOS.
- :func:`pathloss_db`: the dispatcher the coverage models use (TR 38.901 for 5G and from
  3000 MHz, Hata below).
- :func:`antenna_gain_db` and :func:`bearing_deg`: 3GPP horizontal sector pattern.
- :func:`rsrp_dbm`: EIRP and loss to RSRP per resource element.
- :func:`effective_height_m`: the antenna's height above the average terrain of the
  path, which the terrain model gives Hata and TR 38.901 instead of the mast height.

The models give median path loss: no shadow fading, no terrain diffraction (the terrain
model adds obstruction losses on top).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from covgap.config import TECHNOLOGIES
from covgap.errors import InputError, check_option, quoted

__all__ = [
    "ENVIRONMENTS",
    "SCENARIOS",
    "antenna_gain_db",
    "bearing_deg",
    "effective_height_m",
    "free_space_loss_db",
    "hata_loss_db",
    "pathloss_db",
    "rsrp_dbm",
    "tr38901_loss_db",
]

FloatArray = npt.NDArray[np.float64]

#: Environments of :func:`hata_loss_db` and :func:`pathloss_db`.
ENVIRONMENTS: tuple[str, ...] = ("rural", "suburban", "urban")

#: Scenarios of :func:`tr38901_loss_db` (3GPP TR 38.901 Table 7.4.1-1).
SCENARIOS: tuple[str, ...] = ("RMa", "UMa")

# Free-space loss diverges at 0 m; 1 m is inside any mast's near field, so nothing
# meaningful is lost by flooring there.
MIN_DISTANCE_M = 1.0

# COST 231 final report ch. 4: Okumura-Hata (Hata 1980, IEEE Trans. Veh. Technol. VT-29(3))
# holds for 150-1500 MHz, COST-231 Hata for 1500-2000 MHz ...
HATA_MIN_MHZ = 150.0
COST231_MIN_MHZ = 1500.0
# ... which covgap extrapolates to cover the 2.6 GHz band (≤ 2690 MHz).
HATA_EXTRAPOLATED_MAX_MHZ = 2700.0

# 3GPP TR 38.901 V17 title and §1 Scope: the channel model covers 0.5-100 GHz ...
TR38901_MIN_MHZ = 500.0
TR38901_MAX_MHZ = 100_000.0
# ... and Table 7.4.1-1 limits RMa to 0.5-30 GHz.
TR38901_RMA_MAX_MHZ = 30_000.0
# TR 38.901 Table 7.4.1-1: every scenario starts at d_2D = 10 m.
TR38901_MIN_DISTANCE_M = 10.0
# TR 38.901 Table 7.4.1-1 notes 1 and 5: c = 3.0e8 m/s in the breakpoint distances.
SPEED_OF_LIGHT_M_S = 3.0e8
# TR 38.901 Table 7.4.1-1 note 1: effective environment height h_E = 1 m for UMa LOS
# (the probability-free case; covgap does not draw the random h_E of the note).
UMA_ENVIRONMENT_HEIGHT_M = 1.0

# covgap's rule: from 3000 MHz (n77/n78) only TR 38.901 is defined; Hata/COST-231 is not.
NR_MIN_FREQUENCY_MHZ = 3000.0

# ITU-R P.1546-6 gives its curves for effective transmitting heights h1 up to 1200 m
# (Annex 1 §2; 10, 20, 37.5, 75, 150, 300, 600, 1200 m): covgap keeps the effective height
# below that.  Hata is fitted for 30-200 m and TR 38.901 RMa for 10-150 m; beyond, both
# are extrapolated, and Hata's result is floored at free space (hata_loss_db).
EFFECTIVE_HEIGHT_MAX_M = 1200.0


# --------------------------------------------------------------------------- free space


def free_space_loss_db(distance_m: npt.ArrayLike, frequency_mhz: npt.ArrayLike
                       ) -> FloatArray | float:
    """Free-space basic transmission loss between isotropic antennas, in dB.

    ``FSPL = 20 log10(d_km) + 20 log10(f_MHz) + 32.45`` (ITU-R P.525), with the distance
    floored at 1 m so that a point at the mast itself gives a finite loss.

    Parameters
    ----------
    distance_m : float or array_like
        Path length in metres (the slant distance when heights matter); must be ≥ 0.
    frequency_mhz : float or array_like
        Carrier frequency in MHz, > 0.  Broadcast against `distance_m`.

    Returns
    -------
    float or numpy.ndarray
        Loss in dB, of the broadcast shape of the arguments.

    Raises
    ------
    InputError
        (a ``ValueError``) if a distance is negative or a frequency is not positive.

    Examples
    --------
    >>> round(float(free_space_loss_db(1000.0, 1800.0)), 2)
    97.56
    >>> free_space_loss_db([0.0, 1.0, 10.0], 900.0).round(2)
    array([31.53, 31.53, 51.53])
    """
    d, f = _floats(distance_m, frequency_mhz)
    problems: list[str] = []
    _check_distance(d, problems)
    _check_positive("frequency_mhz", f, "MHz", problems)
    _raise_if("free_space_loss_db", problems)
    return _result(_fspl(d, f))


def _fspl(d_m: FloatArray, f_mhz: FloatArray) -> FloatArray:
    d_km = np.maximum(d_m, MIN_DISTANCE_M) / 1000.0
    # ITU-R P.525-4 §2.2: L_bf = 20 log(4πd/λ); 32.45 = 20 log10(4π·1e9/c) (P.525 rounds to 32.4)
    return 20.0 * np.log10(d_km) + 20.0 * np.log10(f_mhz) + 32.45


# --------------------------------------------------------------------------- Hata


def hata_loss_db(distance_m: npt.ArrayLike, frequency_mhz: npt.ArrayLike, *,
                 tx_height_m: npt.ArrayLike, rx_height_m: npt.ArrayLike = 1.5,
                 environment: str = "rural") -> FloatArray | float:
    """Median path loss by Okumura-Hata / COST-231 Hata, never below free space, in dB.

    - 150-1500 MHz: Okumura-Hata (Hata 1980), urban loss
      ``69.55 + 26.16 log f − 13.82 log h_b − a(h_m) + (44.9 − 6.55 log h_b) log d_km``.
    - 1500-2700 MHz: COST-231 Hata (COST Action 231 final report, ch. 4),
      ``46.3 + 33.9 log f − 13.82 log h_b − a(h_m) + (44.9 − 6.55 log h_b) log d_km + C_m``
      with ``C_m = 0 dB`` (medium city / suburban).  COST-231 is fitted up to 2000 MHz;
      2000-2700 MHz (the 2.1 and 2.6 GHz bands) is an extrapolation.

    ``a(h_m) = (1.1 log f − 0.7) h_m − (1.56 log f − 0.8)`` is Hata's small/medium-city
    mobile-antenna correction.  The environment then corrects the urban loss:

    - ``"urban"``: none (medium-sized city; large-city variants are not modelled);
    - ``"suburban"``: ``− 2 [log(f/28)]² − 5.4``;
    - ``"rural"``: Hata's open-area correction ``− 4.78 (log f)² + 18.33 log f − 40.94``.

    The suburban and rural corrections are applied to COST-231 too; COST 231 defines
    only the urban formula, and carrying Hata's corrections over is the usual practice.
    The two formulas differ by about 1.3 dB at 1500 MHz, so the loss steps there.

    Hata is fitted for ``d`` 1-20 km, ``h_b`` 30-200 m and ``h_m`` 1-10 m.  Outside
    these ranges the formula is extrapolated, and the result is floored at the
    free-space loss over the slant distance ``sqrt(d² + (h_b − h_m)²)``: below about
    1 km (or for very tall masts) the extrapolated Hata line drops under free space,
    which no real path does.  The maximum of two increasing functions keeps the loss
    continuous and increasing with distance.

    Parameters
    ----------
    distance_m : float or array_like
        Ground distance in metres in the run's projected CRS, ≥ 0.
    frequency_mhz : float or array_like
        Carrier frequency in MHz, 150-2700.
    tx_height_m : float or array_like
        Base-station antenna height above ground, metres (> 0).
    rx_height_m : float or array_like, default 1.5
        Mobile antenna height above ground, metres (> 0).
    environment : {"rural", "suburban", "urban"}, default "rural"
        Clutter class.

    Returns
    -------
    float or numpy.ndarray
        Loss in dB, of the broadcast shape of the arguments.

    Raises
    ------
    InputError
        (a ``ValueError``) for an unknown `environment`, a frequency outside 150-2700 MHz
        (use :func:`tr38901_loss_db` above), a negative distance or a height ≤ 0.

    Examples
    --------
    >>> round(float(hata_loss_db(5000.0, 900.0, tx_height_m=30.0, environment="urban")), 1)
    151.0
    >>> hata_loss_db([1000.0, 5000.0], 1800.0, tx_height_m=30.0).round(1)
    array([104.3, 128.9])
    """
    problems: list[str] = []
    check_option("environment", environment, ENVIRONMENTS, problems)
    d, f, hb, hm = _floats(distance_m, frequency_mhz, tx_height_m, rx_height_m)
    _check_distance(d, problems)
    _check_range("frequency_mhz", f, HATA_MIN_MHZ, HATA_EXTRAPOLATED_MAX_MHZ, "MHz",
                 "Hata/COST-231 covers 150-2700 MHz; use tr38901_loss_db above it",
                 problems)
    _check_positive("tx_height_m", hb, "m", problems)
    _check_positive("rx_height_m", hm, "m", problems)
    _raise_if("hata_loss_db", problems)

    d_km = np.maximum(d, MIN_DISTANCE_M) / 1000.0
    log_f = np.log10(f)
    log_hb = np.log10(hb)
    # Hata 1980, small/medium city: a(h_m) = (1.1 log f − 0.7) h_m − (1.56 log f − 0.8)
    a_hm = (1.1 * log_f - 0.7) * hm - (1.56 * log_f - 0.8)
    distance_term = (44.9 - 6.55 * log_hb) * np.log10(d_km)
    # Hata 1980, urban: 69.55 + 26.16 log f − 13.82 log h_b − a(h_m) + (44.9 − 6.55 log h_b) log d
    hata = 69.55 + 26.16 * log_f - 13.82 * log_hb - a_hm + distance_term
    # COST 231 final report ch. 4, COST-Hata with C_m = 0 dB (medium city, suburban)
    cost = 46.3 + 33.9 * log_f - 13.82 * log_hb - a_hm + distance_term
    urban = np.where(f < COST231_MIN_MHZ, hata, cost)

    if environment == "urban":
        loss = urban
    elif environment == "suburban":
        # Hata 1980, suburban: L_u − 2 [log(f/28)]² − 5.4
        loss = urban - 2.0 * np.log10(f / 28.0) ** 2 - 5.4
    else:
        # Hata 1980, open area: L_u − 4.78 (log f)² + 18.33 log f − 40.94
        loss = urban - 4.78 * log_f**2 + 18.33 * log_f - 40.94
    return _result(np.maximum(loss, _fspl(np.hypot(d, hb - hm), f)))


def effective_height_m(tx_height_m: npt.ArrayLike, site_ground_m: npt.ArrayLike,
                       mean_terrain_m: npt.ArrayLike) -> FloatArray | float:
    """Return the antenna's effective height: above the average terrain of the path.

    ``h_eff = site_ground_m + tx_height_m - mean_terrain_m``, never below the mast
    height and never above :data:`EFFECTIVE_HEIGHT_MAX_M` (1200 m, the top of ITU-R
    P.1546-6's curves).  The floor is ITM's rule too (Hufford 1995, the ITS Irregular
    Terrain Model 1.2.2 algorithm, §43: ``he = hg + max(terrain - fit, 0)``): a valley's
    walls take their loss through the terrain model's diffraction, and lowering the
    height for them as well would count them twice.  The empirical models were fitted
    with ``h_b``
    measured this way (Okumura et al. 1968 and Hata 1980 take the height above the
    average terrain 3-15 km from the base station; ITU-R P.1546-6 Annex 5 §3 the same,
    and ``0.2 d .. d`` on a path under 15 km, as the terrain model's rays do:
    :attr:`covgap.coverage.los.TerrainWindow.mean_elevation_m`), so a 30 m mast on a
    hilltop 300 m above a plain is a 330 m antenna to them.  Where the mean is unknown
    (NaN) the mast height is kept.

    Parameters
    ----------
    tx_height_m : float or array_like
        Mast (antenna) height above the ground of the site, metres.
    site_ground_m : float or array_like
        Ground elevation at the site, metres above sea level.
    mean_terrain_m : float or array_like
        Average terrain elevation of the path, metres above sea level.

    Returns
    -------
    float or numpy.ndarray
        Metres.

    Examples
    --------
    >>> float(effective_height_m(30.0, 250.0, 250.0))  # flat: the mast
    30.0
    >>> effective_height_m(30.0, 400.0, [100.0, 420.0, np.nan]).tolist()
    [330.0, 30.0, 30.0]
    """
    hb, z0, mean = _floats(tx_height_m, site_ground_m, mean_terrain_m)
    heff = np.maximum(np.minimum(z0 + hb - mean, EFFECTIVE_HEIGHT_MAX_M), hb)
    return _result(np.where(np.isnan(mean), hb, heff))


# --------------------------------------------------------------------------- TR 38.901


def tr38901_loss_db(distance_m: npt.ArrayLike, frequency_mhz: npt.ArrayLike, *,
                    tx_height_m: npt.ArrayLike, rx_height_m: npt.ArrayLike = 1.5,
                    scenario: str = "RMa", los: bool = False,
                    building_height_m: float = 5.0, street_width_m: float = 20.0,
                    ) -> FloatArray | float:
    """Path loss of 3GPP TR 38.901 V17 Table 7.4.1-1 (RMa, UMa; LOS, NLOS), in dB.

    With ``d_3D = sqrt(d_2D² + (h_BS − h_UT)²)`` and ``f_c`` in GHz:

    RMa LOS (breakpoint ``d_BP = 2π h_BS h_UT f_c / c``, ``f_c`` in Hz):
        ``PL1 = 20 log10(40π d_3D f_c / 3) + min(0.03 h^1.72, 10) log10(d_3D)
        − min(0.044 h^1.72, 14.77) + 0.002 log10(h) d_3D`` for ``d_2D ≤ d_BP``;
        ``PL2 = PL1(d_BP) + 40 log10(d_3D / d_BP)`` beyond.
    RMa NLOS:
        ``max(PL_RMa-LOS, PL')``, ``PL' = 161.04 − 7.1 log10(W) + 7.5 log10(h)
        − (24.37 − 3.7 (h/h_BS)²) log10(h_BS) + (43.42 − 3.1 log10(h_BS)) (log10(d_3D) − 3)
        + 20 log10(f_c) − (3.2 (log10(11.75 h_UT))² − 4.97)``.
    UMa LOS (breakpoint ``d'_BP = 4 h'_BS h'_UT f_c / c``, ``h' = h − 1 m``):
        ``PL1 = 28.0 + 22 log10(d_3D) + 20 log10(f_c)`` for ``d_2D ≤ d'_BP``;
        ``PL2 = 28.0 + 40 log10(d_3D) + 20 log10(f_c) − 9 log10(d'_BP² + (h_BS − h_UT)²)``.
    UMa NLOS:
        ``max(PL_UMa-LOS, PL')``, ``PL' = 13.54 + 39.08 log10(d_3D) + 20 log10(f_c)
        − 0.6 (h_UT − 1.5)``.

    ``PL1(d_BP)`` is evaluated with ``d_3D = d_BP``, as the table writes it, while the
    switch to PL2 is at ``d_2D = d_BP``; RMa LOS therefore steps at the breakpoint, by
    under 0.01 dB.  NLOS is the standard's formula itself; no LOS probability is drawn.

    Validity and clamps (Table 7.4.1-1): distances under 10 m 2D are evaluated at 10 m.
    Beyond the table's upper distance (RMa LOS 10 km, RMa NLOS and UMa 5 km) the
    formulas are extrapolated as they stand.  Heights outside the table's ranges
    (RMa: h_BS 10-150 m, h_UT 1-10 m; UMa: h_BS 25 m nominal, h_UT 1.5-22.5 m) and
    `building_height_m` / `street_width_m` outside 5-50 m are also extrapolated, not
    clamped.

    Parameters
    ----------
    distance_m : float or array_like
        Ground (2D) distance in metres in the run's projected CRS, ≥ 0.
    frequency_mhz : float or array_like
        Carrier frequency in MHz: 500-30 000 (RMa) or 500-100 000 (UMa).
    tx_height_m : float or array_like
        Base-station antenna height h_BS above ground, metres (> 0; UMa: > 1).
    rx_height_m : float or array_like, default 1.5
        User-terminal height h_UT above ground, metres (> 0; UMa: > 1).
    scenario : {"RMa", "UMa"}, default "RMa"
        Rural macro or urban macro.
    los : bool, default False
        True for the line-of-sight formula, False for NLOS.
    building_height_m : float, default 5.0
        RMa average building height h, metres (the table's default).
    street_width_m : float, default 20.0
        RMa average street width W, metres (the table's default).

    Returns
    -------
    float or numpy.ndarray
        Loss in dB, of the broadcast shape of the arguments.

    Raises
    ------
    InputError
        (a ``ValueError``) for an unknown `scenario`, a frequency outside the scenario's
        range, a negative distance, or a height not above 0 m (1 m for UMa, whose
        breakpoint uses heights above the 1 m effective environment height).

    Examples
    --------
    >>> round(float(tr38901_loss_db(1000.0, 3500.0, tx_height_m=35.0, los=True)), 1)
    105.5
    >>> tr38901_loss_db([100.0, 1000.0], 3500.0, tx_height_m=25.0, scenario="UMa").round(1)
    array([103. , 141.7])
    """
    problems: list[str] = []
    check_option("scenario", scenario, SCENARIOS, problems)
    d2, f, hbs, hut = _floats(distance_m, frequency_mhz, tx_height_m, rx_height_m)
    h, w = _floats(building_height_m, street_width_m)
    _check_distance(d2, problems)
    f_max = TR38901_RMA_MAX_MHZ if scenario == "RMa" else TR38901_MAX_MHZ
    _check_range("frequency_mhz", f, TR38901_MIN_MHZ, f_max, "MHz",
                 f"TR 38.901 Table 7.4.1-1 covers {scenario} at {TR38901_MIN_MHZ:g}-{f_max:g} MHz",
                 problems)
    min_height = UMA_ENVIRONMENT_HEIGHT_M if scenario == "UMa" else 0.0
    _check_above("tx_height_m", hbs, min_height, "m", problems)
    _check_above("rx_height_m", hut, min_height, "m", problems)
    _check_positive("building_height_m", h, "m", problems)
    _check_positive("street_width_m", w, "m", problems)
    _raise_if("tr38901_loss_db", problems)

    d2 = np.maximum(d2, TR38901_MIN_DISTANCE_M)
    # TR 38.901 §7.4.1, Figure 7.4.1-1: d_3D = sqrt(d_2D² + (h_BS − h_UT)²)
    d3 = np.hypot(d2, hbs - hut)
    fc_ghz = f / 1000.0
    if scenario == "RMa":
        loss = _rma_los(d2, d3, fc_ghz, hbs, hut, h)
        if not los:
            # TR 38.901 Table 7.4.1-1: PL_RMa-NLOS = max(PL_RMa-LOS, PL'_RMa-NLOS)
            loss = np.maximum(loss, _rma_nlos_prime(d3, fc_ghz, hbs, hut, h, w))
    else:
        loss = _uma_los(d2, d3, fc_ghz, hbs, hut)
        if not los:
            # TR 38.901 Table 7.4.1-1: PL_UMa-NLOS = max(PL_UMa-LOS, PL'_UMa-NLOS)
            loss = np.maximum(loss, _uma_nlos_prime(d3, fc_ghz, hut))
    return _result(loss)


def _rma_pl1(d3: FloatArray, fc_ghz: FloatArray, h: FloatArray) -> FloatArray:
    # TR 38.901 Table 7.4.1-1, RMa LOS PL1 (h = average building height)
    h172 = h**1.72
    return (20.0 * np.log10(40.0 * np.pi * d3 * fc_ghz / 3.0)
            + np.minimum(0.03 * h172, 10.0) * np.log10(d3)
            - np.minimum(0.044 * h172, 14.77)
            + 0.002 * np.log10(h) * d3)


def _rma_los(d2: FloatArray, d3: FloatArray, fc_ghz: FloatArray, hbs: FloatArray,
             hut: FloatArray, h: FloatArray) -> FloatArray:
    # TR 38.901 Table 7.4.1-1 note 5: d_BP = 2π h_BS h_UT f_c / c, f_c in Hz
    d_bp = 2.0 * np.pi * hbs * hut * (fc_ghz * 1e9) / SPEED_OF_LIGHT_M_S
    pl1 = _rma_pl1(d3, fc_ghz, h)
    # TR 38.901 Table 7.4.1-1, RMa LOS PL2 = PL1(d_BP) + 40 log10(d_3D / d_BP)
    pl2 = _rma_pl1(d_bp, fc_ghz, h) + 40.0 * np.log10(d3 / d_bp)
    return np.where(d2 <= d_bp, pl1, pl2)


def _rma_nlos_prime(d3: FloatArray, fc_ghz: FloatArray, hbs: FloatArray, hut: FloatArray,
                    h: FloatArray, w: FloatArray) -> FloatArray:
    # TR 38.901 Table 7.4.1-1, RMa NLOS PL'_RMa-NLOS (W street width, h building height)
    return (161.04 - 7.1 * np.log10(w) + 7.5 * np.log10(h)
            - (24.37 - 3.7 * (h / hbs) ** 2) * np.log10(hbs)
            + (43.42 - 3.1 * np.log10(hbs)) * (np.log10(d3) - 3.0)
            + 20.0 * np.log10(fc_ghz)
            - (3.2 * np.log10(11.75 * hut) ** 2 - 4.97))


def _uma_los(d2: FloatArray, d3: FloatArray, fc_ghz: FloatArray, hbs: FloatArray,
             hut: FloatArray) -> FloatArray:
    # TR 38.901 Table 7.4.1-1 note 1: d'_BP = 4 h'_BS h'_UT f_c / c with h' = h − h_E, h_E = 1 m
    d_bp = (4.0 * (hbs - UMA_ENVIRONMENT_HEIGHT_M) * (hut - UMA_ENVIRONMENT_HEIGHT_M)
            * (fc_ghz * 1e9) / SPEED_OF_LIGHT_M_S)
    log_f = 20.0 * np.log10(fc_ghz)
    # TR 38.901 Table 7.4.1-1, UMa LOS PL1 = 28.0 + 22 log10(d_3D) + 20 log10(f_c)
    pl1 = 28.0 + 22.0 * np.log10(d3) + log_f
    # TR 38.901 Table 7.4.1-1, UMa LOS PL2 = 28.0 + 40 log d3 + 20 log fc − 9 log(d'_BP² + Δh²)
    pl2 = 28.0 + 40.0 * np.log10(d3) + log_f - 9.0 * np.log10(d_bp**2 + (hbs - hut) ** 2)
    return np.where(d2 <= d_bp, pl1, pl2)


def _uma_nlos_prime(d3: FloatArray, fc_ghz: FloatArray, hut: FloatArray) -> FloatArray:
    # TR 38.901 Table 7.4.1-1, UMa NLOS: PL' = 13.54 + 39.08 log d3 + 20 log fc − 0.6 (h_UT − 1.5)
    return 13.54 + 39.08 * np.log10(d3) + 20.0 * np.log10(fc_ghz) - 0.6 * (hut - 1.5)


# --------------------------------------------------------------------------- dispatcher


def pathloss_db(distance_m: npt.ArrayLike, frequency_mhz: npt.ArrayLike, *,
                tx_height_m: npt.ArrayLike, rx_height_m: npt.ArrayLike = 1.5,
                environment: str = "rural", technology: str | npt.ArrayLike | None = None,
                los: bool | None = None) -> FloatArray | float:
    """Path loss covgap uses for a cell: TR 38.901 for 5G, Hata below 3000 MHz, in dB.

    - 5G (``technology == "5G"``) or a carrier at or above 3000 MHz:
      :func:`tr38901_loss_db`, scenario ``"RMa"`` for a ``"rural"`` environment and
      ``"UMa"`` for ``"urban"`` and ``"suburban"``.  So 5G at 2600 MHz (band n41) uses
      TR 38.901 too.
    - Otherwise: :func:`hata_loss_db` (Okumura-Hata / COST-231, never below free space).

    Parameters
    ----------
    distance_m : float or array_like
        Ground distance in metres in the run's projected CRS, ≥ 0.
    frequency_mhz : float or array_like
        Carrier frequency in MHz.  Broadcast against `distance_m`, as are the heights
        and `technology`.
    tx_height_m : float or array_like
        Base-station antenna height above ground, metres.
    rx_height_m : float or array_like, default 1.5
        Receiver height above ground, metres.
    environment : {"rural", "suburban", "urban"}, default "rural"
        Clutter class.
    technology : {"2G", "3G", "4G", "5G"} or array_like of them, optional
        The cell's technology; None decides by frequency alone.
    los : bool, optional
        TR 38.901 only: True for the LOS formula, False or None (default) for the
        standard's NLOS formula (which is never below LOS).  Hata is an empirical
        median over mixed paths and ignores it.

    Returns
    -------
    float or numpy.ndarray
        Loss in dB, of the broadcast shape of the arguments.

    Raises
    ------
    InputError
        (a ``ValueError``) for an unknown `environment` or `technology`, or the errors of
        the model chosen (e.g. a non-5G carrier between 2700 and 3000 MHz).

    Examples
    --------
    >>> pathloss_db([1000.0, 1000.0], [900.0, 3500.0], tx_height_m=35.0).round(1)
    array([ 97. , 130.4])
    >>> round(float(pathloss_db(1000.0, 2600.0, tx_height_m=35.0, technology="5G")), 1)
    127.8
    """
    problems: list[str] = []
    check_option("environment", environment, ENVIRONMENTS, problems)
    d, f, hb, hm = _floats(distance_m, frequency_mhz, tx_height_m, rx_height_m)
    nr = f >= NR_MIN_FREQUENCY_MHZ
    if technology is not None:
        tech = np.asarray(technology)
        unknown = sorted(repr(t) for t in set(tech.ravel().tolist()) - set(TECHNOLOGIES))
        if unknown:
            problems.append(f"technology {', '.join(unknown)} is not valid; "
                            f"valid values: {quoted(TECHNOLOGIES)}")
        else:
            nr = nr | (tech == "5G")
    _raise_if("pathloss_db", problems)

    scenario = "RMa" if environment == "rural" else "UMa"
    shape = np.broadcast_shapes(d.shape, f.shape, hb.shape, hm.shape, nr.shape)
    if nr.all() or not nr.any():
        # one model for every point (the usual single-cell call): no masking, no copies
        if nr.all():
            loss = np.asarray(tr38901_loss_db(d, f, tx_height_m=hb, rx_height_m=hm,
                                              scenario=scenario, los=bool(los)))
        else:
            loss = np.asarray(hata_loss_db(d, f, tx_height_m=hb, rx_height_m=hm,
                                           environment=environment))
        if loss.shape != shape:  # a technology array widened the shape
            loss = np.broadcast_to(loss, shape).copy()
        return _result(loss)
    d, f, hb, hm, nr = (a.ravel() for a in np.broadcast_arrays(d, f, hb, hm, nr))
    out = np.empty(d.shape, dtype=np.float64)
    out[nr] = tr38901_loss_db(d[nr], f[nr], tx_height_m=hb[nr], rx_height_m=hm[nr],
                              scenario=scenario, los=bool(los))
    old = ~nr
    out[old] = hata_loss_db(d[old], f[old], tx_height_m=hb[old], rx_height_m=hm[old],
                            environment=environment)
    return _result(out.reshape(shape))


# --------------------------------------------------------------------------- antenna


def antenna_gain_db(bearing_deg: npt.ArrayLike, *, azimuth_deg: npt.ArrayLike,
                    beamwidth_deg: npt.ArrayLike = 65.0,
                    max_attenuation_db: npt.ArrayLike = 25.0) -> FloatArray | float:
    """Horizontal sector-antenna pattern relative to boresight, in dB (≤ 0).

    ``A(φ) = −min(12 (φ / φ_3dB)², A_m)`` (3GPP TR 36.814 Table A.2.1.1-2, TR 38.901
    Table 7.3-1), φ the angle between `bearing_deg` and `azimuth_deg` wrapped to
    [−180, 180] degrees.  So A is −3 dB at half the beamwidth off boresight, −12 dB at the
    full beamwidth, and never below −A_m.  The defaults are a typical 3-sector panel:
    φ_3dB = 65° (TR 38.901 Table 7.3-1) and A_m = 25 dB (TR 36.814 Table A.2.1.1-2).

    Parameters
    ----------
    bearing_deg : float or array_like
        Bearing from the site to the point, degrees clockwise from north
        (see :func:`bearing_deg`).
    azimuth_deg : float or array_like
        Sector boresight, degrees clockwise from north; NaN for an omni cell (0 dB).
    beamwidth_deg : float or array_like, default 65.0
        Horizontal 3 dB beamwidth φ_3dB, degrees (> 0).
    max_attenuation_db : float or array_like, default 25.0
        Front-to-back cap A_m, dB (≥ 0).

    Returns
    -------
    float or numpy.ndarray
        Gain relative to boresight in dB (0 at boresight, ≥ −A_m), broadcast shape.

    Raises
    ------
    InputError
        (a ``ValueError``) if a beamwidth is not positive or an A_m is negative.

    Examples
    --------
    >>> antenna_gain_db([0.0, 32.5, 65.0, 180.0], azimuth_deg=0.0).round(2)
    array([  0.,  -3., -12., -25.])
    >>> float(antenna_gain_db(123.0, azimuth_deg=float("nan")))
    0.0
    """
    b, az, bw, am = _floats(bearing_deg, azimuth_deg, beamwidth_deg, max_attenuation_db)
    problems: list[str] = []
    _check_positive("beamwidth_deg", bw, "degrees", problems)
    _check_above("max_attenuation_db", am, 0.0, "dB", problems, inclusive=True)
    _raise_if("antenna_gain_db", problems)
    phi = (b - az + 180.0) % 360.0 - 180.0
    # TR 36.814 Table A.2.1.1-2 / TR 38.901 Table 7.3-1: A(φ) = −min(12 (φ/φ_3dB)², A_m)
    gain = 0.0 - np.minimum(12.0 * (phi / bw) ** 2, am)  # 0.0 - x: no -0.0 at boresight
    return _result(np.where(np.isnan(az), 0.0, gain))


def bearing_deg(dx_m: npt.ArrayLike, dy_m: npt.ArrayLike) -> FloatArray | float:
    """Bearing of an offset, degrees clockwise from north in [0, 360).

    Parameters
    ----------
    dx_m : float or array_like
        Offset east in metres, in a projected CRS (point x − site x).
    dy_m : float or array_like
        Offset north in metres (point y − site y).  Broadcast against `dx_m`.

    Returns
    -------
    float or numpy.ndarray
        Bearing in degrees, 0 = north, 90 = east; 0 for a zero offset.  Grid north of
        the projected CRS, which differs from true north by the meridian convergence
        (under 2° across a Vietnamese province in its UTM or VN-2000 TM-3 zone).

    Examples
    --------
    >>> bearing_deg([0.0, 1.0, 0.0, -1.0], [1.0, 0.0, -1.0, 0.0])
    array([  0.,  90., 180., 270.])
    """
    dx, dy = _floats(dx_m, dy_m)
    bearing = np.degrees(np.arctan2(dx, dy)) % 360.0
    # a tiny negative angle rounds to 360.0 under %; fold it back onto 0
    return _result(np.where(bearing >= 360.0, 0.0, bearing))


# --------------------------------------------------------------------------- RSRP


def rsrp_dbm(eirp_dbm: npt.ArrayLike, loss_db: npt.ArrayLike, *,
             gain_db: npt.ArrayLike = 0.0,
             resource_elements: npt.ArrayLike = 1200) -> FloatArray | float:
    """Compute the RSRP (power of one resource element) at a point, in dBm.

    ``RSRP = EIRP − 10 log10(N_RE) − loss + gain``.  RSRP is the average power of one
    reference-signal resource element (3GPP TS 36.214 §5.1.1; TS 38.215 §5.1.1 for
    NR SS-RSRP), while a site's EIRP is the total over the channel bandwidth, spread
    evenly over its ``N_RE`` subcarriers: 1200 for 20 MHz LTE (100 PRB × 12),
    3276 for 100 MHz NR at 30 kHz subcarrier spacing (273 PRB × 12).

    Parameters
    ----------
    eirp_dbm : float or array_like
        Total EIRP in the boresight direction over the channel bandwidth, dBm.
    loss_db : float or array_like
        Path loss, dB (e.g. from :func:`pathloss_db`, plus any obstruction loss).
    gain_db : float or array_like, default 0.0
        Further gains, dB: the antenna pattern from :func:`antenna_gain_db` (≤ 0), a
        receive antenna gain.
    resource_elements : int or array_like, default 1200
        Subcarriers the EIRP is spread over (> 0).

    Returns
    -------
    float or numpy.ndarray
        RSRP in dBm, of the broadcast shape of the arguments.

    Raises
    ------
    InputError
        (a ``ValueError``) if `resource_elements` is not positive.

    Examples
    --------
    >>> round(float(rsrp_dbm(60.0, 120.0)), 2)
    -90.79
    >>> rsrp_dbm(60.0, [120.0, 130.0], gain_db=-3.0, resource_elements=3276).round(2)
    array([ -98.15, -108.15])
    """
    eirp, loss, gain, n_re = _floats(eirp_dbm, loss_db, gain_db, resource_elements)
    problems: list[str] = []
    _check_positive("resource_elements", n_re, "", problems)
    _raise_if("rsrp_dbm", problems)
    # TS 36.214 §5.1.1: RSRP is per resource element, so the EIRP is divided by N_RE
    return _result(eirp - 10.0 * np.log10(n_re) - loss + gain)


# --------------------------------------------------------------------------- helpers


def _floats(*values: npt.ArrayLike) -> tuple[FloatArray, ...]:
    return tuple(np.asarray(v, dtype=np.float64) for v in values)


def _result(values: FloatArray) -> FloatArray | float:
    """Return an array, or a numpy float for a 0-d result."""
    return values[()]




def _found(values: FloatArray, bad: npt.NDArray[np.bool_]) -> str:
    """Describe the offending values: how many, and a few examples."""
    examples = np.unique(values[bad])
    shown = ", ".join(f"{v:g}" for v in examples[:3]) + (", ..." if examples.size > 3 else "")
    count = int(np.count_nonzero(bad))
    return f"{count} value{'s' if count > 1 else ''} ({shown})"


def _check_distance(d: FloatArray, problems: list[str]) -> None:
    bad = d < 0.0
    if bad.any():
        problems.append(f"distance_m: {_found(d, bad)} negative; distances are ≥ 0 metres")


def _check_positive(name: str, values: FloatArray, unit: str, problems: list[str]) -> None:
    _check_above(name, values, 0.0, unit, problems)


def _check_above(name: str, values: FloatArray, low: float, unit: str, problems: list[str],
                 *, inclusive: bool = False) -> None:
    bad = values < low if inclusive else values <= low
    if bad.any():
        need = "≥" if inclusive else ">"
        problems.append(f"{name}: {_found(values, bad)} must be {need} {low:g} {unit}".rstrip())


def _check_range(name: str, values: FloatArray, low: float, high: float, unit: str, fix: str,
                 problems: list[str]) -> None:
    bad = (values < low) | (values > high)
    if bad.any():
        problems.append(f"{name}: {_found(values, bad)} outside {low:g}-{high:g} {unit}; {fix}")


def _raise_if(function: str, problems: list[str]) -> None:
    if problems:
        n = len(problems)
        raise InputError(f"{function}: {n} invalid argument{'s' if n > 1 else ''}", problems)
