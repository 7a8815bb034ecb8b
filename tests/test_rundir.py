"""The writer of run directories (covgap.export.rundir): per-operator gap files."""

import pandas as pd

from covgap.export.rundir import gap_file_name, operator_gaps


def test_an_operator_gets_its_mobile_gaps_and_its_fibre_gaps():
    gaps = pd.DataFrame({
        "village_id": ["V1", "V2", "V3", "V4", "V5"],
        "gap": ["mobile", "mobile", "ftth", "both", "ftth"],
        "best_operator": ["Viettel", "VNPT", None, None, "VNPT"],
        "fibre_operator": ["VNPT", "Viettel", "Viettel", "Viettel", None],
    })
    # V2's nearest fibre is Viettel's but its gap is mobile only: VNPT's to close
    assert operator_gaps(gaps, "Viettel")["village_id"].tolist() == ["V1", "V3", "V4"]
    assert operator_gaps(gaps, "VNPT")["village_id"].tolist() == ["V2", "V5"]
    assert operator_gaps(gaps, "MobiFone").empty


def test_gap_file_names_are_safe():
    assert gap_file_name("Viettel") == "gaps_Viettel.csv"
    assert gap_file_name("Vietnamobile / ĐTDĐ") == "gaps_Vietnamobile-DTDD.csv"
    assert gap_file_name("../..") == "gaps_operator.csv"
