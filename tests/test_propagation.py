"""Radio propagation: analytic values, each computed here from the written-out formula."""

from math import hypot, log10, pi, sqrt

import numpy as np
import pytest

from covgap.coverage.propagation import (
    antenna_gain_db,
    bearing_deg,
    free_space_loss_db,
    hata_loss_db,
    pathloss_db,
    rsrp_dbm,
    tr38901_loss_db,
)
from covgap.errors import InputError

TOL_DB = 0.1  # the project's tolerance for losses and levels
C = 3.0e8  # TR 38.901 Table 7.4.1-1 notes: c = 3.0e8 m/s


def approx(value):
    return pytest.approx(value, abs=TOL_DB)


# --------------------------------------------------------------------------- free space


def test_fspl_1km_1800mhz():
    # 20 log10(1 km) + 20 log10(1800) + 32.45 = 0 + 65.105 + 32.45
    expected = 20 * log10(1.0) + 20 * log10(1800) + 32.45
    assert expected == pytest.approx(97.555, abs=0.001)
    assert free_space_loss_db(1000.0, 1800.0) == approx(expected)


def test_fspl_100m_900mhz():
    # 20 log10(0.1 km) + 20 log10(900) + 32.45 = −20 + 59.085 + 32.45
    expected = 20 * log10(0.1) + 20 * log10(900) + 32.45
    assert expected == pytest.approx(71.535, abs=0.001)
    assert free_space_loss_db(100.0, 900.0) == approx(expected)


def test_fspl_clamps_distance_to_1m():
    at_1m = 20 * log10(0.001) + 20 * log10(900) + 32.45
    assert free_space_loss_db(0.0, 900.0) == approx(at_1m)
    assert free_space_loss_db(0.2, 900.0) == approx(at_1m)


def test_fspl_scalar_in_float_out_and_6db_per_doubling():
    loss = free_space_loss_db(500.0, 900.0)
    assert isinstance(loss, float)
    assert free_space_loss_db(1000.0, 900.0) - loss == approx(20 * log10(2))


# --------------------------------------------------------------------------- Hata

F, HB, HM, D_KM = 900.0, 30.0, 1.5, 5.0


def hata_urban_900():
    # a(h_m) = (1.1 log f − 0.7) h_m − (1.56 log f − 0.8)
    a_hm = (1.1 * log10(F) - 0.7) * HM - (1.56 * log10(F) - 0.8)
    # L_u = 69.55 + 26.16 log f − 13.82 log h_b − a(h_m) + (44.9 − 6.55 log h_b) log d
    return (69.55 + 26.16 * log10(F) - 13.82 * log10(HB) - a_hm
            + (44.9 - 6.55 * log10(HB)) * log10(D_KM))


def test_hata_urban_900mhz_5km():
    expected = hata_urban_900()
    assert expected == pytest.approx(151.02, abs=0.01)
    assert hata_loss_db(5000.0, F, tx_height_m=HB, rx_height_m=HM,
                        environment="urban") == approx(expected)


def test_hata_suburban_900mhz_5km():
    # L_su = L_u − 2 [log(f/28)]² − 5.4
    expected = hata_urban_900() - 2 * log10(F / 28) ** 2 - 5.4
    assert expected == pytest.approx(141.08, abs=0.01)
    assert hata_loss_db(5000.0, F, tx_height_m=HB, rx_height_m=HM,
                        environment="suburban") == approx(expected)


def test_hata_rural_900mhz_5km():
    # L_o = L_u − 4.78 (log f)² + 18.33 log f − 40.94
    expected = hata_urban_900() - 4.78 * log10(F) ** 2 + 18.33 * log10(F) - 40.94
    assert expected == pytest.approx(122.52, abs=0.01)
    assert hata_loss_db(5000.0, F, tx_height_m=HB, rx_height_m=HM,
                        environment="rural") == approx(expected)


def test_hata_default_environment_is_rural_and_rx_height_1_5m():
    assert hata_loss_db(5000.0, F, tx_height_m=HB) == approx(
        hata_loss_db(5000.0, F, tx_height_m=HB, rx_height_m=1.5, environment="rural"))


@pytest.mark.parametrize("environment", ["urban", "suburban", "rural"])
def test_cost231_1800mhz_5km(environment):
    f = 1800.0
    a_hm = (1.1 * log10(f) - 0.7) * HM - (1.56 * log10(f) - 0.8)
    # COST-231: 46.3 + 33.9 log f − 13.82 log h_b − a(h_m) + (44.9 − 6.55 log h_b) log d + C_m
    c_m = 0.0
    urban = (46.3 + 33.9 * log10(f) - 13.82 * log10(HB) - a_hm
             + (44.9 - 6.55 * log10(HB)) * log10(D_KM) + c_m)
    corrections = {
        "urban": 0.0,
        "suburban": -2 * log10(f / 28) ** 2 - 5.4,
        "rural": -4.78 * log10(f) ** 2 + 18.33 * log10(f) - 40.94,
    }
    expected = urban + corrections[environment]
    assert hata_loss_db(5000.0, f, tx_height_m=HB, rx_height_m=HM,
                        environment=environment) == approx(expected)


def test_cost231_urban_1800mhz_5km_value():
    f = 1800.0
    a_hm = (1.1 * log10(f) - 0.7) * HM - (1.56 * log10(f) - 0.8)
    expected = (46.3 + 33.9 * log10(f) - 13.82 * log10(HB) - a_hm
                + (44.9 - 6.55 * log10(HB)) * log10(D_KM))
    assert expected == pytest.approx(160.82, abs=0.01)
    assert hata_loss_db(5000.0, f, tx_height_m=HB, environment="urban") == approx(expected)


def test_hata_short_distance_is_max_of_hata_and_free_space():
    d_m = 200.0
    # extrapolated Hata at 0.2 km (rural)
    a_hm = (1.1 * log10(F) - 0.7) * HM - (1.56 * log10(F) - 0.8)
    urban = (69.55 + 26.16 * log10(F) - 13.82 * log10(HB) - a_hm
             + (44.9 - 6.55 * log10(HB)) * log10(d_m / 1000))
    hata = urban - 4.78 * log10(F) ** 2 + 18.33 * log10(F) - 40.94
    # free space over the slant path sqrt(d² + (h_b − h_m)²)
    slant_km = sqrt(d_m**2 + (HB - HM) ** 2) / 1000
    fspl = 20 * log10(slant_km) + 20 * log10(F) + 32.45
    assert fspl > hata + 1  # the floor is what decides here
    assert hata_loss_db(d_m, F, tx_height_m=HB) == approx(max(hata, fspl))


def test_hata_never_below_free_space_and_continuous():
    d = np.geomspace(1.0, 30_000.0, 2000)
    for env in ("urban", "suburban", "rural"):
        for f in (700.0, 900.0, 1800.0, 2600.0):
            loss = hata_loss_db(d, f, tx_height_m=HB, environment=env)
            slant = np.hypot(d, HB - HM)
            assert np.all(loss >= free_space_loss_db(slant, f) - 1e-9)
            # neighbouring distances 0.4 % apart: no jump anywhere (at most ~0.2 dB)
            assert np.max(np.abs(np.diff(loss))) < 0.2


def test_hata_tall_mast_floored_at_free_space_beyond_1km():
    # a 200 m mast in open country: extrapolated Hata at 1 km is below free space
    hb = 200.0
    a_hm = (1.1 * log10(F) - 0.7) * HM - (1.56 * log10(F) - 0.8)
    hata = (69.55 + 26.16 * log10(F) - 13.82 * log10(hb) - a_hm + 0.0
            - 4.78 * log10(F) ** 2 + 18.33 * log10(F) - 40.94)
    fspl = 20 * log10(hypot(1000.0, hb - HM) / 1000) + 20 * log10(F) + 32.45
    assert hata < fspl
    assert hata_loss_db(1000.0, F, tx_height_m=hb) == approx(fspl)


# --------------------------------------------------------------------------- TR 38.901

FC_MHZ = 3500.0
FC = FC_MHZ / 1000  # GHz
H_BLD, W_ST = 5.0, 20.0  # RMa defaults: building height h, street width W


def rma_pl1(d3, h=H_BLD):
    # PL1 = 20 log10(40π d3 fc/3) + min(0.03 h^1.72, 10) log10(d3) − min(0.044 h^1.72, 14.77)
    #       + 0.002 log10(h) d3
    return (20 * log10(40 * pi * d3 * FC / 3) + min(0.03 * h**1.72, 10) * log10(d3)
            - min(0.044 * h**1.72, 14.77) + 0.002 * log10(h) * d3)


def test_rma_los_below_breakpoint():
    hbs, hut, d2 = 35.0, 1.5, 1000.0
    d_bp = 2 * pi * hbs * hut * FC * 1e9 / C  # 3848 m
    assert d2 < d_bp
    d3 = sqrt(d2**2 + (hbs - hut) ** 2)
    expected = rma_pl1(d3)
    assert expected == pytest.approx(105.46, abs=0.01)
    assert tr38901_loss_db(d2, FC_MHZ, tx_height_m=hbs, rx_height_m=hut, scenario="RMa",
                           los=True) == approx(expected)


def test_rma_los_above_breakpoint():
    hbs, hut, d2 = 35.0, 1.5, 6000.0
    d_bp = 2 * pi * hbs * hut * FC * 1e9 / C
    assert d_bp == pytest.approx(3848.45, abs=0.01)
    d3 = sqrt(d2**2 + (hbs - hut) ** 2)
    # PL2 = PL1(d_BP) + 40 log10(d3/d_BP)
    expected = rma_pl1(d_bp) + 40 * log10(d3 / d_bp)
    assert tr38901_loss_db(d2, FC_MHZ, tx_height_m=hbs, rx_height_m=hut,
                           los=True) == approx(expected)


def test_rma_nlos():
    hbs, hut, d2 = 35.0, 1.5, 1000.0
    d3 = sqrt(d2**2 + (hbs - hut) ** 2)
    # PL' = 161.04 − 7.1 log10(W) + 7.5 log10(h) − (24.37 − 3.7 (h/hBS)²) log10(hBS)
    #       + (43.42 − 3.1 log10(hBS)) (log10(d3) − 3) + 20 log10(fc)
    #       − (3.2 (log10(11.75 hUT))² − 4.97)
    nlos = (161.04 - 7.1 * log10(W_ST) + 7.5 * log10(H_BLD)
            - (24.37 - 3.7 * (H_BLD / hbs) ** 2) * log10(hbs)
            + (43.42 - 3.1 * log10(hbs)) * (log10(d3) - 3) + 20 * log10(FC)
            - (3.2 * log10(11.75 * hut) ** 2 - 4.97))
    expected = max(rma_pl1(d3), nlos)
    assert expected == nlos  # NLOS is the larger at 1 km
    assert tr38901_loss_db(d2, FC_MHZ, tx_height_m=hbs, rx_height_m=hut) == approx(expected)


def test_rma_building_height_and_street_width_are_options():
    hbs, hut, d2, h, w = 35.0, 1.5, 2000.0, 10.0, 10.0
    d3 = sqrt(d2**2 + (hbs - hut) ** 2)
    nlos = (161.04 - 7.1 * log10(w) + 7.5 * log10(h)
            - (24.37 - 3.7 * (h / hbs) ** 2) * log10(hbs)
            + (43.42 - 3.1 * log10(hbs)) * (log10(d3) - 3) + 20 * log10(FC)
            - (3.2 * log10(11.75 * hut) ** 2 - 4.97))
    expected = max(rma_pl1(d3, h), nlos)
    assert tr38901_loss_db(d2, FC_MHZ, tx_height_m=hbs, building_height_m=h,
                           street_width_m=w) == approx(expected)


def uma_los(d2, hbs=25.0, hut=1.5):
    d3 = sqrt(d2**2 + (hbs - hut) ** 2)
    # d'_BP = 4 h'_BS h'_UT fc / c with h' = h − 1 m
    d_bp = 4 * (hbs - 1) * (hut - 1) * FC * 1e9 / C
    if d2 <= d_bp:
        # PL1 = 28.0 + 22 log10(d3) + 20 log10(fc)
        return 28.0 + 22 * log10(d3) + 20 * log10(FC)
    # PL2 = 28.0 + 40 log10(d3) + 20 log10(fc) − 9 log10(d'_BP² + (hBS − hUT)²)
    return 28.0 + 40 * log10(d3) + 20 * log10(FC) - 9 * log10(d_bp**2 + (hbs - hut) ** 2)


def test_uma_breakpoint_value():
    assert 4 * (25 - 1) * (1.5 - 1) * FC * 1e9 / C == pytest.approx(560.0)


@pytest.mark.parametrize("d2", [100.0, 1000.0])  # below and above d'_BP = 560 m
def test_uma_los(d2):
    expected = uma_los(d2)
    assert tr38901_loss_db(d2, FC_MHZ, tx_height_m=25.0, scenario="UMa",
                           los=True) == approx(expected)


def test_uma_los_values():
    # 28 + 22 log10(sqrt(100² + 23.5²)) + 20 log10(3.5)
    assert uma_los(100.0) == pytest.approx(28 + 22 * log10(hypot(100, 23.5)) + 20 * log10(3.5))
    assert uma_los(100.0) == pytest.approx(83.13, abs=0.01)


@pytest.mark.parametrize("d2", [100.0, 1000.0])
def test_uma_nlos(d2):
    hbs, hut = 25.0, 1.5
    d3 = sqrt(d2**2 + (hbs - hut) ** 2)
    # PL' = 13.54 + 39.08 log10(d3) + 20 log10(fc) − 0.6 (hUT − 1.5); PL = max(PL_LOS, PL')
    nlos = 13.54 + 39.08 * log10(d3) + 20 * log10(FC) - 0.6 * (hut - 1.5)
    expected = max(uma_los(d2), nlos)
    assert tr38901_loss_db(d2, FC_MHZ, tx_height_m=hbs, rx_height_m=hut,
                           scenario="UMa") == approx(expected)


def test_uma_nlos_at_1km_value():
    d3 = hypot(1000.0, 23.5)
    assert 13.54 + 39.08 * log10(d3) + 20 * log10(3.5) == pytest.approx(141.67, abs=0.01)


def test_tr38901_clamps_below_10m_2d():
    at_10m = tr38901_loss_db(10.0, FC_MHZ, tx_height_m=35.0, los=True)
    assert tr38901_loss_db(0.0, FC_MHZ, tx_height_m=35.0, los=True) == approx(at_10m)
    assert tr38901_loss_db(3.0, FC_MHZ, tx_height_m=25.0, scenario="UMa") == approx(
        tr38901_loss_db(10.0, FC_MHZ, tx_height_m=25.0, scenario="UMa"))


def test_tr38901_extrapolates_beyond_table_range():
    # RMa LOS beyond 10 km: PL2 as written
    hbs, hut, d2 = 35.0, 1.5, 20_000.0
    d_bp = 2 * pi * hbs * hut * FC * 1e9 / C
    expected = rma_pl1(d_bp) + 40 * log10(sqrt(d2**2 + (hbs - hut) ** 2) / d_bp)
    assert tr38901_loss_db(d2, FC_MHZ, tx_height_m=hbs, los=True) == approx(expected)
    assert tr38901_loss_db(8000.0, FC_MHZ, tx_height_m=25.0, scenario="UMa",
                           los=True) == approx(uma_los(8000.0))


# --------------------------------------------------------------------------- dispatcher


def test_pathloss_below_3ghz_is_hata():
    for env in ("rural", "suburban", "urban"):
        assert pathloss_db(5000.0, 900.0, tx_height_m=30.0, environment=env) == approx(
            hata_loss_db(5000.0, 900.0, tx_height_m=30.0, environment=env))
    assert pathloss_db(5000.0, 1800.0, tx_height_m=30.0, technology="4G") == approx(
        hata_loss_db(5000.0, 1800.0, tx_height_m=30.0))


@pytest.mark.parametrize(("environment", "scenario"),
                         [("rural", "RMa"), ("suburban", "UMa"), ("urban", "UMa")])
def test_pathloss_5g_is_tr38901(environment, scenario):
    kw = dict(tx_height_m=25.0, rx_height_m=1.5)
    nlos = tr38901_loss_db(1000.0, 3500.0, scenario=scenario, los=False, **kw)
    los = tr38901_loss_db(1000.0, 3500.0, scenario=scenario, los=True, **kw)
    assert pathloss_db(1000.0, 3500.0, environment=environment, **kw) == approx(nlos)
    assert pathloss_db(1000.0, 3500.0, environment=environment, los=False, **kw) == approx(nlos)
    assert pathloss_db(1000.0, 3500.0, environment=environment, los=True, **kw) == approx(los)
    # 5G below 3 GHz (n41 at 2600 MHz) also goes to TR 38.901
    assert pathloss_db(1000.0, 2600.0, environment=environment, technology="5G",
                       **kw) == approx(tr38901_loss_db(1000.0, 2600.0, scenario=scenario, **kw))


def test_pathloss_mixed_frequencies_and_technologies():
    d = np.array([1000.0, 1000.0, 1000.0, 2000.0])
    f = np.array([900.0, 3500.0, 2600.0, 2600.0])
    tech = np.array(["4G", "4G", "5G", "4G"])
    got = pathloss_db(d, f, tx_height_m=30.0, technology=tech)
    assert got.shape == (4,)
    assert got[0] == approx(hata_loss_db(1000.0, 900.0, tx_height_m=30.0))
    assert got[1] == approx(tr38901_loss_db(1000.0, 3500.0, tx_height_m=30.0))
    assert got[2] == approx(tr38901_loss_db(1000.0, 2600.0, tx_height_m=30.0))
    assert got[3] == approx(hata_loss_db(2000.0, 2600.0, tx_height_m=30.0))


def test_pathloss_broadcasts_frequency_against_distance():
    d = np.array([100.0, 1000.0, 10_000.0])
    f = np.array([[900.0], [3500.0]])
    got = pathloss_db(d, f, tx_height_m=30.0)
    assert got.shape == (2, 3)
    for i, fi in enumerate(f[:, 0]):
        for j, dj in enumerate(d):
            assert got[i, j] == approx(pathloss_db(dj, fi, tx_height_m=30.0))


# --------------------------------------------------------------------------- vectorisation

MODELS = {
    "fspl": lambda d: free_space_loss_db(d, 1800.0),
    "hata-rural": lambda d: hata_loss_db(d, 900.0, tx_height_m=30.0),
    "hata-suburban": lambda d: hata_loss_db(d, 900.0, tx_height_m=30.0,
                                            environment="suburban"),
    "hata-urban": lambda d: hata_loss_db(d, 900.0, tx_height_m=30.0, environment="urban"),
    "cost231-rural": lambda d: hata_loss_db(d, 1800.0, tx_height_m=30.0),
    "cost231-urban": lambda d: hata_loss_db(d, 2600.0, tx_height_m=30.0, environment="urban"),
    "rma-los": lambda d: tr38901_loss_db(d, 3500.0, tx_height_m=35.0, los=True),
    "rma-nlos": lambda d: tr38901_loss_db(d, 3500.0, tx_height_m=35.0),
    "uma-los": lambda d: tr38901_loss_db(d, 3500.0, tx_height_m=25.0, scenario="UMa",
                                         los=True),
    "uma-nlos": lambda d: tr38901_loss_db(d, 3500.0, tx_height_m=25.0, scenario="UMa"),
    "pathloss-4g": lambda d: pathloss_db(d, 1800.0, tx_height_m=30.0, environment="urban"),
    "pathloss-5g": lambda d: pathloss_db(d, 3500.0, tx_height_m=30.0),
}


@pytest.mark.parametrize("name", MODELS)
def test_arrays_match_scalars(name):
    model = MODELS[name]
    d = np.array([0.0, 5.0, 10.0, 150.0, 999.0, 1000.0, 3848.0, 3849.0, 12_000.0, 30_000.0])
    got = model(d)
    assert isinstance(got, np.ndarray) and got.shape == d.shape
    for di, gi in zip(d, got, strict=True):
        scalar = model(float(di))
        assert isinstance(scalar, float)
        assert gi == pytest.approx(scalar, abs=1e-9)


@pytest.mark.parametrize("name", MODELS)
def test_loss_increases_with_distance(name):
    d = np.geomspace(10.0, 30_000.0, 3000)
    loss = MODELS[name](d)
    assert np.all(np.isfinite(loss))
    assert np.all(np.diff(loss) > 0)


def test_nan_distance_gives_nan():
    got = hata_loss_db([np.nan, 1000.0], 900.0, tx_height_m=30.0)
    assert np.isnan(got[0]) and np.isfinite(got[1])


def test_inputs_not_mutated():
    d = np.array([0.0, 5.0, 1000.0])
    before = d.copy()
    tr38901_loss_db(d, 3500.0, tx_height_m=35.0)
    hata_loss_db(d, 900.0, tx_height_m=30.0)
    pathloss_db(d, 900.0, tx_height_m=30.0)
    np.testing.assert_array_equal(d, before)


# --------------------------------------------------------------------------- antenna


def test_antenna_boresight_half_and_full_beamwidth():
    # A(φ) = −min(12 (φ/65)², 25)
    assert antenna_gain_db(90.0, azimuth_deg=90.0) == approx(0.0)
    assert antenna_gain_db(90.0 + 32.5, azimuth_deg=90.0) == approx(-12 * (32.5 / 65) ** 2)
    assert antenna_gain_db(90.0 - 32.5, azimuth_deg=90.0) == pytest.approx(-3.0, abs=1e-9)
    assert antenna_gain_db(90.0 + 65.0, azimuth_deg=90.0) == pytest.approx(-12.0, abs=1e-9)


def test_antenna_capped_behind():
    assert 12 * (180 / 65) ** 2 > 25
    assert antenna_gain_db(270.0, azimuth_deg=90.0) == pytest.approx(-25.0)
    assert antenna_gain_db(270.0, azimuth_deg=90.0, max_attenuation_db=20.0) == pytest.approx(
        -20.0)


def test_antenna_wraps_around_north():
    # azimuth 350°, bearing 10°: 20° off boresight, not 340°
    expected = -12 * (20 / 65) ** 2
    assert antenna_gain_db(10.0, azimuth_deg=350.0) == approx(expected)
    assert antenna_gain_db(350.0, azimuth_deg=10.0) == approx(expected)
    assert antenna_gain_db(-10.0, azimuth_deg=10.0) == approx(expected)


def test_antenna_beamwidth_option():
    assert antenna_gain_db(35.0, azimuth_deg=0.0, beamwidth_deg=70.0) == pytest.approx(-3.0)


def test_antenna_nan_azimuth_is_omni():
    got = antenna_gain_db(np.array([0.0, 90.0, 180.0]), azimuth_deg=np.nan)
    np.testing.assert_array_equal(got, [0.0, 0.0, 0.0])
    per_cell = antenna_gain_db(180.0, azimuth_deg=np.array([np.nan, 0.0]))
    assert per_cell[0] == 0.0 and per_cell[1] == pytest.approx(-25.0)


def test_antenna_broadcasts_cells_against_points():
    bearings = np.array([0.0, 120.0, 240.0])
    azimuths = np.array([[0.0], [120.0], [240.0]])
    got = antenna_gain_db(bearings, azimuth_deg=azimuths)
    assert got.shape == (3, 3)
    np.testing.assert_allclose(np.diag(got), 0.0, atol=1e-12)
    assert np.all(got <= 0.0)


# --------------------------------------------------------------------------- bearing


@pytest.mark.parametrize(("dx", "dy", "expected"),
                         [(0, 1, 0), (1, 0, 90), (0, -1, 180), (-1, 0, 270), (1, 1, 45),
                          (-1, 1, 315), (-1e-300, 1, 0)])
def test_bearing(dx, dy, expected):
    got = bearing_deg(dx, dy)
    assert got == pytest.approx(expected, abs=1e-9)
    assert 0.0 <= got < 360.0


def test_bearing_vectorised():
    got = bearing_deg(np.array([0.0, 1.0, 0.0, -1.0]), np.array([1.0, 0.0, -1.0, 0.0]))
    np.testing.assert_allclose(got, [0.0, 90.0, 180.0, 270.0])


# --------------------------------------------------------------------------- RSRP


def test_rsrp_lte_20mhz():
    # RSRP = EIRP − 10 log10(1200) − loss + gain = 60 − 30.79 − 120 − 3
    expected = 60 - 10 * log10(1200) - 120 - 3
    assert rsrp_dbm(60.0, 120.0, gain_db=-3.0) == approx(expected)
    assert expected == pytest.approx(-93.79, abs=0.01)


def test_rsrp_nr_100mhz():
    expected = 63 - 10 * log10(3276) - 130
    got = rsrp_dbm(63.0, np.array([130.0, 140.0]), resource_elements=3276)
    np.testing.assert_allclose(got, [expected, expected - 10], atol=TOL_DB)


# --------------------------------------------------------------------------- errors


def test_bad_environment_lists_valid_ones():
    with pytest.raises(ValueError, match=r"environment 'forest'.*'rural', 'suburban', 'urban'"):
        hata_loss_db(1000.0, 900.0, tx_height_m=30.0, environment="forest")
    with pytest.raises(InputError, match="valid values: 'rural', 'suburban', 'urban'"):
        pathloss_db(1000.0, 900.0, tx_height_m=30.0, environment="Urban")


def test_bad_scenario_lists_valid_ones():
    with pytest.raises(ValueError, match="scenario 'UMi' is not valid; valid values: 'RMa', 'UMa'"):
        tr38901_loss_db(1000.0, 3500.0, tx_height_m=25.0, scenario="UMi")


def test_bad_technology_lists_valid_ones():
    with pytest.raises(ValueError, match=r"technology 'LTE'.*'2G', '3G', '4G', '5G'"):
        pathloss_db(1000.0, 900.0, tx_height_m=30.0, technology="LTE")


def test_hata_frequency_out_of_range():
    with pytest.raises(InputError, match=r"frequency_mhz: 1 value \(3500\) outside 150-2700 MHz"):
        hata_loss_db([1000.0, 1000.0], [900.0, 3500.0], tx_height_m=30.0)
    # a non-5G carrier in 2700-3000 MHz has no model
    with pytest.raises(InputError, match="use tr38901_loss_db"):
        pathloss_db(1000.0, 2800.0, tx_height_m=30.0, technology="4G")


def test_tr38901_frequency_out_of_range():
    with pytest.raises(InputError, match="covers RMa at 500-30000 MHz"):
        tr38901_loss_db(1000.0, 40_000.0, tx_height_m=35.0)
    with pytest.raises(InputError, match="frequency_mhz"):
        tr38901_loss_db(1000.0, 400.0, tx_height_m=25.0, scenario="UMa")


def test_all_problems_reported_at_once():
    with pytest.raises(InputError) as info:
        hata_loss_db(-5.0, 900.0, tx_height_m=0.0, environment="forest")
    text = str(info.value)
    assert text.startswith("hata_loss_db: 3 invalid arguments")
    assert "environment 'forest'" in text
    assert "distance_m: 1 value (-5) negative" in text
    assert "tx_height_m: 1 value (0) must be > 0 m" in text


def test_uma_heights_must_exceed_environment_height():
    with pytest.raises(InputError, match=r"rx_height_m: 1 value .* must be > 1 m"):
        tr38901_loss_db(1000.0, 3500.0, tx_height_m=25.0, rx_height_m=1.0, scenario="UMa")


@pytest.mark.parametrize(("kwargs", "message"),
                         [({"beamwidth_deg": 0.0}, "beamwidth_deg"),
                          ({"max_attenuation_db": -1.0}, "max_attenuation_db")])
def test_antenna_bad_options(kwargs, message):
    with pytest.raises(InputError, match=message):
        antenna_gain_db(0.0, azimuth_deg=0.0, **kwargs)


def test_rsrp_bad_resource_elements():
    with pytest.raises(InputError, match="resource_elements"):
        rsrp_dbm(60.0, 120.0, resource_elements=0)


def test_fspl_bad_inputs():
    with pytest.raises(InputError, match="distance_m"):
        free_space_loss_db(-1.0, 900.0)
    with pytest.raises(InputError, match="frequency_mhz"):
        free_space_loss_db(100.0, 0.0)


def test_pathloss_technology_array_widens_shape():
    got = pathloss_db(1000.0, 2600.0, tx_height_m=30.0, technology=["5G", "5G"])
    assert got.shape == (2,)
    assert got[0] == approx(tr38901_loss_db(1000.0, 2600.0, tx_height_m=30.0))
    got = pathloss_db(np.array([[1000.0], [2000.0]]), 900.0, tx_height_m=30.0,
                      technology=["4G", "3G"])
    assert got.shape == (2, 2)
    assert got[1, 0] == approx(hata_loss_db(2000.0, 900.0, tx_height_m=30.0))
