"""The gap lists as a department sends them: one per operator, one for all."""

import re

import pandas as pd
import pytest
from openpyxl import load_workbook

import covgap
from covgap.export.lists import all_gaps, operator_gaps

#: A site cited in a fix or a reason, and its owner: "site TH-0001 of Viettel" (fixes),
#: "site TH-0001 (Viettel)" or "site TH-0156 (MobiFone, -97 dBm ...)" (reasons).
CITED = re.compile(r"\bsite (?P<id>[\w.-]+)(?: of (?P<of>[^,;)]+)| \((?P<paren>[^,;)]+))?")


def cited_sites(texts):
    """Every (site id, owner named) cited in ``texts``; owner None when not named."""
    out = []
    for text in texts.dropna():
        for m in CITED.finditer(text):
            out.append((m["id"], m["of"] or m["paren"]))
    return out


def check_lists(run_dir, gaps, sites):
    """The checks of issue 18 on a written run directory."""
    owner = dict(zip(sites["site_id"], sites["operator"], strict=False))
    files = sorted(run_dir.glob("gaps_*.csv"))
    assert run_dir / "gaps_all.csv" in files
    every = pd.read_csv(run_dir / "gaps_all.csv", encoding="utf-8-sig", dtype=str)
    assert len(every) == len(gaps)
    assert every["registered_operator"].isna().all()  # for the department to fill
    parts = set()
    for path in files:
        if path.name == "gaps_all.csv":
            continue
        op = path.stem.removeprefix("gaps_")
        mine = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
        # no row addresses another operator
        assert set(mine["best_operator"].dropna()) <= {op}, path.name
        assert set(mine["fibre_operator"].dropna()) <= {op}, path.name
        for fix in mine["fix"].dropna():
            for part in fix.split("; "):
                assert part.startswith(f"{op}: "), (path.name, fix)
        for vid, gap in zip(mine["village_id"], mine["gap"], strict=True):
            for kind in gap.split("+"):
                assert (vid, kind) not in parts, (vid, kind)  # one operator per part
                parts.add((vid, kind))
    # every part of every gap with a suggested operator is on someone's list
    expected = set()
    for vid, gap, best, fibre in zip(gaps["village_id"], gaps["gap"], gaps["best_operator"],
                                     gaps["fibre_operator"], strict=True):
        if "mobile" in gap and isinstance(best, str):
            expected.add((vid, "mobile"))
        if "fibre" in gap and isinstance(fibre, str):
            expected.add((vid, "fibre"))
    assert parts == expected
    # every cited site names its owner, and the right one
    cited = cited_sites(pd.concat([gaps["fix"], gaps["reason"]]))
    assert cited
    for site, named in cited:
        assert named is not None, site
        assert named.strip() == owner[site], (site, named)
    wb = load_workbook(run_dir / "lists.xlsx", read_only=True)
    assert wb.sheetnames[0] == "Tất cả - All"
    return parts


def test_operator_lists_of_the_toy_province(province, tmp_path):
    result = covgap.run(province.config())
    run_dir = result.write(tmp_path / "run")
    parts = check_lists(run_dir, result.gaps, result.sites)
    # V004 lacks both: the mobile part is MobiFone's, the fibre part Viettel's
    assert {("V004", "mobile"), ("V004", "fibre")} <= parts
    viettel = operator_gaps(result.gaps, "Viettel").set_index("village_id")
    assert viettel.loc["V004", "gap"] == "fibre"
    assert pd.isna(viettel.loc["V004", "best_operator"])
    assert viettel.loc["V004", "fix"] == "Viettel: extend fibre 10.5 km from node F2"


def test_operator_lists_of_the_sample_run(sample_result, tmp_path):
    run_dir = sample_result.write(tmp_path / "run")
    check_lists(run_dir, sample_result.gaps, sample_result.sites)
    wb = load_workbook(run_dir / "lists.xlsx", read_only=True)
    assert wb.sheetnames[0] == "Tất cả - All"
    assert set(wb.sheetnames[1:]) == set(sample_result.sites["operator"]) | set(
        sample_result.inputs.fibre["operator"])


def test_all_gaps_keeps_every_row_and_adds_an_empty_column():
    gaps = pd.DataFrame({"village_id": ["V1", "V2"], "gap": ["mobile", "fibre"]})
    out = all_gaps(gaps)
    assert out["village_id"].tolist() == ["V1", "V2"]
    assert out["registered_operator"].isna().all()
    assert "registered_operator" not in gaps  # the input is not changed


@pytest.mark.parametrize("operator, expected", [
    ("A", [("V1", "mobile", "A: new site"), ("V2", "mobile", "A: new site B")]),
    ("B", [("V2", "fibre", "B: extend fibre")]),
])
def test_a_village_with_two_gaps_is_split_between_operators(operator, expected):
    gaps = pd.DataFrame({
        "village_id": ["V1", "V2"], "gap": ["mobile", "mobile+fibre"],
        "best_operator": ["A", "A"], "fibre_operator": ["B", "B"],
        "fix_mobile": ["A: new site", "A: new site B"], "fix_fibre": ["", "B: extend fibre"],
        "fix": ["A: new site", "A: new site B; B: extend fibre"]})
    out = operator_gaps(gaps, operator)
    assert list(zip(out["village_id"], out["gap"], out["fix"], strict=True)) == expected
