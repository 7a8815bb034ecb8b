"""Universal service in two parts: mobile (lõm sóng) and fibre (no FTTH reach)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from covgap.analysis.usp import usp_parts, village_classes


@dataclass
class Rule:
    regions: list[str] = field(default_factory=lambda: ["III"])
    difficult: bool = True
    border: bool = False
    island: bool = False


def frames():
    # commune A is class III, B is class I and a border commune
    communes = pd.DataFrame({"commune_code": ["A", "B"], "region": ["III", "I"],
                             "border": [False, True]})
    # v1 lõm sóng in A; v2 no FTTH in A; v3 both gaps in B (class I), ĐBKK;
    # v4 both gaps in B, no ĐBKK, but its old commune was class III (own region);
    # v5 covered with FTTH in A; v6 both gaps in B, nothing special
    villages = pd.DataFrame({
        "village_id": ["v1", "v2", "v3", "v4", "v5", "v6"],
        "commune_code": ["A", "A", "B", "B", "A", "B"],
        "difficult": [False, False, True, False, False, False],
        "region": [None, None, None, "III", None, ""]})
    lom_song = pd.Series([True, False, True, True, False, True])
    no_ftth = pd.Series([False, True, True, True, False, True])
    return villages, communes, lom_song, no_ftth


def test_two_parts_with_defaults_reproduce_the_combined_flag():
    villages, communes, lom_song, no_ftth = frames()
    k = village_classes(villages, communes)
    out = usp_parts(lom_song, no_ftth, k, mobile=Rule(), fibre=Rule())
    assert out["usp_mobile"].tolist() == [True, False, True, True, False, False]
    assert out["usp_fibre"].tolist() == [False, True, True, True, False, False]
    # the old single flag: a gap (either kind) and (class III or ĐBKK)
    old = (lom_song | no_ftth) & (k.region.isin(["III"]).fillna(False) | k.difficult)
    assert out["usp_eligible"].tolist() == old.tolist()


def test_village_region_takes_precedence_over_its_commune():
    villages, communes, *_ = frames()
    k = village_classes(villages, communes)
    assert k.region.tolist() == ["III", "III", "I", "III", "III", "I"]
    assert k.region_source.tolist() == ["commune", "commune", "commune", "village",
                                        "commune", "commune"]


def test_parts_have_their_own_rules_and_reasons():
    villages, communes, lom_song, no_ftth = frames()
    k = village_classes(villages, communes)
    # mobile also for border communes; fibre only for ĐBKK villages (no class)
    out = usp_parts(lom_song, no_ftth, k, mobile=Rule(border=True),
                    fibre=Rule(regions=[], difficult=True))
    assert out["usp_mobile"].tolist() == [True, False, True, True, False, True]
    assert out["usp_fibre"].tolist() == [False, False, True, False, False, False]
    assert out.at[5, "usp_mobile_reason"] == "no mobile broadband (lõm sóng); border area"
    assert out.at[3, "usp_mobile_reason"] == (
        "no mobile broadband (lõm sóng); the village's old commune class III "
        "(QĐ 861/QĐ-TTg); border area")
    assert out.at[2, "usp_fibre_reason"] == "no FTTH reach; ĐBKK village (QĐ 612/QĐ-UBDT)"
    assert out.at[0, "usp_fibre_reason"] == ""


def test_reasons_cite_the_decisions_of_the_legal_table():
    from covgap.config import LegalConfig

    villages, communes, lom_song, no_ftth = frames()
    k = village_classes(villages, communes)
    out = usp_parts(lom_song, no_ftth, k, mobile=Rule(), fibre=Rule())
    assert out.loc[2, "usp_mobile_reason"] == (
        "no mobile broadband (lõm sóng); ĐBKK village (QĐ 612/QĐ-UBDT)")
    legal = LegalConfig(regions_number="999/QĐ-TTg", difficult_number="888/QĐ-UBDT",
                        period="2026–2030")
    cites = {"regions_decision": legal.cite("regions"),
             "difficult_decision": legal.cite("difficult")}
    new = usp_parts(lom_song, no_ftth, k, mobile=Rule(), fibre=Rule(), decisions=cites)
    assert new.loc[0, "usp_mobile_reason"] == (
        "no mobile broadband (lõm sóng); commune class III (QĐ 999/QĐ-TTg)")
    assert new.loc[2, "usp_fibre_reason"] == "no FTTH reach; ĐBKK village (QĐ 888/QĐ-UBDT)"
