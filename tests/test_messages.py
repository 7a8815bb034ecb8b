"""The message catalogue: every id in both languages, translation of covgap's cells."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from covgap.export.messages import (
    LANGUAGES,
    MESSAGES,
    column_names,
    english_words,
    msg,
    number,
    percent,
    translate_frame,
    translate_text,
)


def test_every_id_has_both_languages_and_the_same_placeholders():
    for key, texts in MESSAGES.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts[lang].strip() for lang in LANGUAGES), key
        holes = [set(re.findall(r"\{(\w+)\}", texts[lang])) for lang in LANGUAGES]
        assert holes[0] == holes[1], key


def test_column_names_cover_every_documented_column():
    vi = column_names("vi")
    en = column_names("en")
    assert set(vi) == set(en) and all(en[k] == k for k in en)
    assert len(set(vi.values())) == len(vi)  # no two columns share a Vietnamese name


@pytest.mark.parametrize(("english", "vietnamese"), [
    ("no 4G/5G signal: terrain shadow from site TH-0060 (Viettel, -94 dBm without terrain); "
     "nearest 4G/5G site TH-0060 (Viettel) 3.6 km; nearest fibre route 10.1 km (Viettel)",
     "không có sóng 4G/5G: bị địa hình che chắn từ trạm TH-0060 (Viettel, -94 dBm nếu không "
     "có địa hình); trạm 4G/5G gần nhất TH-0060 (Viettel) cách 3,6 km; tuyến cáp quang gần "
     "nhất cách 10,1 km (Viettel)"),
    ("MobiFone: new or shared site (nearest site TH-0060 of Viettel, 5.2 km); Viettel: "
     "extend fibre 9.0 km from node FO-00013",
     "MobiFone: xây mới hoặc dùng chung trạm (trạm gần nhất TH-0060 của Viettel, cách 5,2 km); "
     "Viettel: "
     "kéo cáp quang 9,0 km từ điểm nút FO-00013"),
    ("4G/5G covers 40% of the people (rule 80%)", "4G/5G phủ 40% dân số (quy định 80%)"),
    ("no FTTH reach; commune class III (QĐ 861/QĐ-TTg)",
     "chưa có FTTH; xã khu vực III (QĐ 861/QĐ-TTg)"),
    ("mobile+fibre", "di động và cáp quang"),
    ("share", "dùng chung"),
    ("no fibre in the data", "không có dữ liệu cáp quang"),
])
def test_cells_translate(english, vietnamese):
    assert translate_text(english, "vi") == vietnamese
    assert translate_text(english, "en") == english
    assert not {w.lower() for w in re.findall(r"[A-Za-z]{3,}", vietnamese)} & english_words()


def test_unknown_parts_and_missing_values_are_kept():
    assert translate_text("Bản Pù Nhi", "vi") == "Bản Pù Nhi"
    assert translate_text(pd.NA, "vi") is pd.NA
    frame = pd.DataFrame({"status": ["covered", None], "village_name": ["new", "x"]})
    out = translate_frame(frame, "vi")
    assert out["status"].tolist()[0] == "được phủ sóng" and pd.isna(out["status"][1])
    assert out["village_name"].tolist() == ["new", "x"]  # names are never translated
    assert frame["status"][0] == "covered"  # the input is left alone


def test_vietnamese_number_format():
    assert number(1520, "vi") == "1.520"
    assert number(1234567.25, "vi", decimals=2) == "1.234.567,25"
    assert percent(98.46, "vi") == "98,5%"
    assert percent(98.46, "en") == "98.5%"
    assert number(float("nan"), "vi") == ""


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="'fr' is not one of vi, en"):
        msg("doc.stt", "fr")
