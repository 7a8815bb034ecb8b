"""Reasons are built column-wise (issue 15): every kind of sentence, on one table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from covgap.analysis.flags import reasons


def test_each_kind_of_reason_reads_as_before():
    na = pd.NA
    table = pd.DataFrame({
        "mbb_covered": [False, False, False, False, False, True, True],
        "mbb_share": [0.0, 0.45, 0.0, 0.0, 0.0, 1.0, 0.9],
        "ftth": pd.array([True, na, False, False, True, False, True], dtype="boolean"),
        "fibre_distance_m": [100.0, np.nan, 10_060.0, np.nan, 50.0, 2_345.0, 10.0],
        "fibre_kind": ["node", None, "route", None, "node", "node", "node"],
        "fibre_operator": ["VNPT", None, "Viettel", None, "VNPT", "MobiFone", "VNPT"],
        "legacy_covered": [False, False, False, True, False, False, False],
        "best_dbm": [np.nan, np.nan, -117.4, np.nan, -125.0, np.nan, np.nan],
        "shadow_site_id": pd.array(["TH-0412", na, na, na, na, na, na], dtype="string"),
        "shadow_operator": ["Viettel", None, None, None, None, None, None],
        "shadow_dbm": [-94.4, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan],
        "nearest_site_id": pd.array(["TH-0412", "TH-1", "TH-2", na, "TH-3", "TH-4", "TH-5"],
                                    dtype="string"),
        "nearest_site_operator": ["Viettel", "VNPT", "MobiFone", None, "VNPT", "A", "B"],
        "nearest_site_m": [3_640.0, 900.0, 12_345.0, np.nan, 51.0, 1.0, 2.0],
    }, index=[10, 11, 12, 13, 14, 15, 16])
    basis = pd.Series(["people", "area", "people", "people", "village point", "area",
                       "area"], index=table.index)
    got = reasons(table, threshold_share=0.8, min_dbm=-110.0, tech_label="4G/5G",
                  basis_word=basis)
    assert got.dtype == "string"
    assert got.tolist() == [
        "no 4G/5G signal: terrain shadow from site TH-0412 (Viettel, -94 dBm without "
        "terrain); nearest 4G/5G site TH-0412 (Viettel) 3.6 km",
        "4G/5G covers 45% of the area (rule 80%)",
        "weak 4G/5G signal -117 dBm (threshold -110 dBm); nearest 4G/5G site TH-2 "
        "(MobiFone) 12.3 km; nearest fibre route 10.1 km (Viettel)",
        "only 2G/3G signal, no 4G/5G; no fibre in the data",
        "no 4G/5G signal; nearest 4G/5G site TH-3 (VNPT) 0.1 km",
        "nearest fibre node 2.3 km (MobiFone)",
        "",
    ]
