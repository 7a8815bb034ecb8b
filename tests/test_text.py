"""Tests for covgap.io.text: NFC normalisation and TCVN3 / VNI mojibake."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata

import numpy as np
import pandas as pd
import pytest

import covgap.io.text as text_module
from covgap.io.text import (
    LEGACY_ENCODINGS,
    decode_legacy,
    detect_legacy_encoding,
    encode_legacy,
    find_legacy_text,
    normalize_nfc,
)

PLACES = [
    "Thường Xuân", "Thanh Hóa", "Quan Sơn", "Mường Lát", "Bá Thước", "Ngọc Lặc",
    "Như Xuân", "Đông Sơn", "Hoằng Hóa", "Nga Sơn", "Thạch Thành", "Cẩm Thủy",
    "Lang Chánh", "Thọ Xuân", "Yên Định", "Huế", "Phú Lộc", "A Lưới", "Quảng Điền",
    "Hương Trà",
]

CLEAN = [
    "Thường Xuân", "Đồng Hới", "Ngọc Lặc", "Bá Thước", "Mường Lát", "Quan Hóa", "Hoà",
    "Hòa Bình", "Thái Bình", "Mê Linh", "Yên Bái", "Cà Mau", "Tây Ninh", "Châu Thành",
    "Gò Công", "Cô Tô", "Chí Linh", "Hoá Châu", "Bản Pù Nhi", "Nhà văn hóa thôn 3",
    "Trạm BTS Thường Xuân 02", "Điểm lõm sóng Bản Khạt", "Ban Lat", "TH-0412",
    "Café 24h", "São Paulo", "Müller", "José Martí", "Crème brûlée", "Zürich", "Straße",
    "Ångström", "Bán kính 5 km", "Viettel®", "Nhà Văn Hóa ©", "Trạm 3°", "Cột ăng-ten ½",
    "Phòng ¸", "Ban Lat ¸", "Lô B©", "Khu A¹", "Nguyen Van ®", "Ñandú", "Noël",
    "Hà Nội – Hải Phòng", "",
]

# TCVN3 written out byte by byte from TCVN 5712:1993 (VN3), independently of the
# module's table; each byte is then read as latin-1, as a program reading cp1252 does.
TCVN3_BY_HAND = [
    # Thanh Hóa: ó = 0xE3 (shows as "ã")
    ("Thanh Hóa", b"Thanh H\xe3a", "Thanh Hãa"),
    # Thái Bình: á = 0xB8 ("¸"), ì = 0xD7 ("×")
    ("Thái Bình", b"Th\xb8i B\xd7nh", "Th¸i B×nh"),
    # Thường Xuân: ư = 0xAD (soft hyphen), ờ = 0xEA ("ê"), â = 0xA9 ("©")
    ("Thường Xuân", b"Th\xad\xeang Xu\xa9n", "Th\xadêng Xu©n"),
    # Đồng Hới: Đ = 0xA7 ("§"), ồ = 0xE5 ("å"), ớ = 0xED ("í")
    ("Đồng Hới", b"\xa7\xe5ng H\xedi", "§ång Híi"),
    # Ngọc Lặc: ọ = 0xE4 ("ä"), ặ = 0xC6 ("Æ")
    ("Ngọc Lặc", b"Ng\xe4c L\xc6c", "Ngäc LÆc"),
    # Bá Thước: á = 0xB8 ("¸"), ư = 0xAD, ớ = 0xED ("í")
    ("Bá Thước", b"B\xb8 Th\xad\xedc", "B¸ Th\xadíc"),
    # Yên Định: ê = 0xAA ("ª"), Đ = 0xA7 ("§"), ị = 0xDE ("Þ")
    ("Yên Định", b"Y\xaan \xa7\xdenh", "Yªn §Þnh"),
    # Phú Lộc: ú = 0xF3 ("ó"), ộ = 0xE9 ("é"); only "éc" (no Vietnamese rhyme) betrays it
    ("Phú Lộc", b"Ph\xf3 L\xe9c", "Phó Léc"),
]

# VNI-Windows written out byte by byte: base letter, then a mark byte.
VNI_BY_HAND = [
    # Thường Xuân: ư = 0xF6 ("ö"), ờ = o-horn 0xF4 ("ô") + grave 0xF8 ("ø"),
    # â = a + circumflex 0xE2 ("â")
    ("Thường Xuân", b"Th\xf6\xf4\xf8ng Xua\xe2n", "Thöôøng Xuaân"),
    # Thái Bình: á = a + acute 0xF9 ("ù"); ì = single byte 0xEC ("ì")
    ("Thái Bình", b"Tha\xf9i B\xecnh", "Thaùi Bình"),
    # Đồng Hới: Đ = 0xD1 ("Ñ"), ồ = o + circumflex-grave 0xE0 ("à"), ớ = 0xF4 + 0xF9
    ("Đồng Hới", b"\xd1o\xe0ng H\xf4\xf9i", "Ñoàng Hôùi"),
    # Hoà: à = a + grave 0xF8 ("ø")
    ("Hoà Vang", b"Hoa\xf8 Vang", "Hoaø Vang"),
]


def _vietnamese_letters() -> list[str]:
    """All 134 non-ASCII Vietnamese letters (67 lower case, 67 capitals)."""
    tones = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]
    bases = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"]
    lower = [
        unicodedata.normalize("NFC", base + tone)
        for base in bases
        for tone in tones
        if (base + tone) not in "aeiouy"
    ]
    lower.append("đ")
    return lower + [c.upper() for c in lower]


# --------------------------------------------------------------------------------------
# normalize_nfc
# --------------------------------------------------------------------------------------


def test_nfd_becomes_nfc_and_input_is_unchanged():
    nfd = unicodedata.normalize("NFD", "Thường Xuân")
    assert nfd != "Thường Xuân"
    series = pd.Series([nfd], index=[7], name="ten")
    result = normalize_nfc(series)
    assert result.iloc[0] == "Thường Xuân"
    assert unicodedata.is_normalized("NFC", result.iloc[0])
    assert series.iloc[0] == nfd  # not mutated
    assert result.name == "ten"
    assert list(result.index) == [7]


def test_whitespace_is_stripped_and_collapsed():
    series = pd.Series(["  Thanh \t Hóa ", "Bá\u00a0\u00a0Thước", "Ngọc\n Lặc"])
    assert normalize_nfc(series).tolist() == ["Thanh Hóa", "Bá Thước", "Ngọc Lặc"]


def test_missing_and_non_string_values_are_kept():
    series = pd.Series(["  Hoà ", None, np.nan, 5], dtype=object)
    result = normalize_nfc(series)
    assert result.iloc[0] == "Hoà"
    assert result.iloc[1] is None
    assert np.isnan(result.iloc[2])
    assert result.iloc[3] == 5


def test_numeric_series_is_returned_as_a_copy():
    series = pd.Series([1.0, np.nan])
    result = normalize_nfc(series)
    pd.testing.assert_series_equal(result, series)
    assert result is not series


# --------------------------------------------------------------------------------------
# Code tables
# --------------------------------------------------------------------------------------


def test_all_134_letters_encode_and_decode():
    letters = _vietnamese_letters()
    assert len(set(letters)) == 134
    for encoding in LEGACY_ENCODINGS:
        for letter in letters:
            encoded = encode_legacy(letter, encoding)
            assert not encoded.isascii()
            decoded = decode_legacy(encoded, encoding)
            if encoding == "TCVN3" and letter not in "ĂÂÊÔƠƯĐ" and letter.isupper():
                # VN3 has no toned capitals: they share the lower-case code.
                assert decoded == letter.lower()
            else:
                assert decoded == letter


def test_tcvn3_uses_only_its_high_range():
    for letter in _vietnamese_letters():
        code = encode_legacy(letter, "TCVN3")
        assert len(code) == 1
        assert 0xA1 <= ord(code) <= 0xFE


def test_vni_capitals_use_capital_mark_bytes():
    assert encode_legacy("Á", "VNI") == "AÙ"
    assert encode_legacy("Ặ", "VNI") == "AË"
    assert encode_legacy("Đ", "VNI") == "Ñ"
    assert encode_legacy("Ỵ", "VNI") == "Î"
    assert encode_legacy("Ư", "VNI") == "Ö"
    assert encode_legacy("Ớ", "VNI") == "ÔÙ"
    assert encode_legacy("Ĩ", "VNI") == "Ó"


@pytest.mark.skipif(shutil.which("iconv") is None, reason="needs iconv")
def test_tcvn3_table_matches_iconv():
    listing = subprocess.run(["iconv", "-l"], capture_output=True, text=True).stdout
    if "TCVN5712-1" not in listing:
        pytest.skip("iconv has no TCVN5712-1")
    for letter in _vietnamese_letters():
        if letter.isupper() and letter not in "ĂÂÊÔƠƯĐ":
            continue
        byte = encode_legacy(letter, "TCVN3").encode("latin-1")
        run = subprocess.run(
            ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=byte, capture_output=True
        )
        assert unicodedata.normalize("NFC", run.stdout.decode()) == letter


# --------------------------------------------------------------------------------------
# Hand-written mojibake
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "raw", "mojibake"), TCVN3_BY_HAND)
def test_tcvn3_by_hand(name, raw, mojibake):
    assert raw.decode("latin-1") == mojibake
    assert raw.decode("cp1252") == mojibake
    assert detect_legacy_encoding(mojibake) == "TCVN3"
    assert decode_legacy(mojibake, "TCVN3") == name
    assert encode_legacy(name, "TCVN3") == mojibake


@pytest.mark.parametrize(("name", "raw", "mojibake"), VNI_BY_HAND)
def test_vni_by_hand(name, raw, mojibake):
    assert raw.decode("latin-1") == mojibake
    assert detect_legacy_encoding(mojibake) == "VNI"
    assert decode_legacy(mojibake, "VNI") == name
    assert encode_legacy(name, "VNI") == mojibake


def test_tcvn3_capital_font_text_is_decoded_in_capitals():
    # .VnTimeH text: capitals with a tone are stored under the lower-case codes.
    assert decode_legacy("THANH HãA", "TCVN3") == "THANH HÓA"
    assert detect_legacy_encoding("THANH HãA") == "TCVN3"
    assert decode_legacy("TH\xadêNG XU¢N", "TCVN3") == "THƯỜNG XUÂN"


# --------------------------------------------------------------------------------------
# Round trip and detection
# --------------------------------------------------------------------------------------


# VNI writes ơ as the single byte "ô", so VNI "Quan Sơn" is "Quan Sôn": every word is
# well-formed Vietnamese and the value alone cannot be told from proper text.  It must
# not be flagged as the wrong encoding, and the column context finds it.
AMBIGUOUS_ALONE = {("Quan Sơn", "VNI"), ("Nga Sơn", "VNI")}


@pytest.mark.parametrize("encoding", LEGACY_ENCODINGS)
@pytest.mark.parametrize("name", PLACES)
def test_round_trip(name, encoding):
    mojibake = encode_legacy(name, encoding)
    assert mojibake != name
    assert not any(ord(c) > 0xFF for c in mojibake)
    expected = None if (name, encoding) in AMBIGUOUS_ALONE else encoding
    assert detect_legacy_encoding(mojibake) == expected
    assert decode_legacy(mojibake, encoding) == name
    # A program reading the bytes as cp1252 sees the same text as latin-1.
    assert mojibake.encode("latin-1").decode("cp1252") == mojibake


@pytest.mark.parametrize("encoding", LEGACY_ENCODINGS)
def test_round_trip_column(encoding):
    series = pd.Series([encode_legacy(name, encoding) for name in PLACES])
    alone = find_legacy_text(series).tolist()
    assert alone == [
        None if (name, encoding) in AMBIGUOUS_ALONE else encoding for name in PLACES
    ]
    assert find_legacy_text(series, context=True).tolist() == [encoding] * len(PLACES)
    assert [decode_legacy(v, encoding) for v in series] == PLACES


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("Như Thanh", "VNI"),  # "Nhö": VNI ư, or TCVN3 ử; toneless wins
        ("Bỉm Sơn", "VNI"),  # "Bæm Sôn": VNI Bỉm Sơn, or TCVN3 Bổm Sụn
        ("Phong Thổ", "TCVN3"),  # "Thæ": TCVN3 ổ, or VNI ỉ; a tie goes to TCVN3
        ("Cư M'gar", "VNI"),
    ],
)
def test_values_that_fit_both_tables(name, encoding):
    mojibake = encode_legacy(name, encoding)
    other = "VNI" if encoding == "TCVN3" else "TCVN3"
    # Both tables decode to well-formed Vietnamese; the tie-break picks the right one.
    assert text_module._candidates(mojibake) == [encoding, other]
    assert detect_legacy_encoding(mojibake) == encoding


@pytest.mark.parametrize("name", CLEAN)
def test_clean_names_are_not_flagged(name):
    for form in (name, unicodedata.normalize("NFD", name), name.upper()):
        assert detect_legacy_encoding(form) is None


@pytest.mark.parametrize("name", PLACES)
def test_places_in_unicode_are_not_flagged(name):
    assert detect_legacy_encoding(name) is None
    assert detect_legacy_encoding(unicodedata.normalize("NFD", name)) is None


def test_non_strings_are_not_flagged():
    assert detect_legacy_encoding(None) is None  # type: ignore[arg-type]
    assert detect_legacy_encoding(np.nan) is None  # type: ignore[arg-type]


def test_decode_leaves_ascii_and_rejects_unknown_encoding():
    assert decode_legacy("TH-0412", "TCVN3") == "TH-0412"
    assert decode_legacy("Thaùi Bình", "vni-windows") == "Thái Bình"
    with pytest.raises(ValueError, match="unknown legacy encoding"):
        decode_legacy("Thanh Hãa", "VISCII")
    with pytest.raises(ValueError, match="has no TCVN3 code"):
        encode_legacy("Müller", "TCVN3")


# --------------------------------------------------------------------------------------
# find_legacy_text
# --------------------------------------------------------------------------------------


def test_find_legacy_text_flags_exactly_the_mojibake_rows():
    values = {
        10: "Thường Xuân",
        11: encode_legacy("Thường Xuân", "TCVN3"),
        12: "TH-0412",
        13: encode_legacy("Mường Lát", "VNI"),
        14: None,
        15: "Café 24h",
        16: unicodedata.normalize("NFD", "Quan Hóa"),
        17: "Thanh Hãa",
        18: np.nan,
        19: encode_legacy("Ngọc Lặc", "TCVN3"),
        20: 42,
        21: encode_legacy("Ngọc Lặc", "TCVN3"),
    }
    series = pd.Series(list(values.values()), index=list(values), name="ten_xa", dtype=object)
    before = series.copy()
    result = find_legacy_text(series)
    assert result.name == "ten_xa"
    assert list(result.index) == list(series.index)
    assert result.to_dict() == {
        10: None, 11: "TCVN3", 12: None, 13: "VNI", 14: None, 15: None, 16: None,
        17: "TCVN3", 18: None, 19: "TCVN3", 20: None, 21: "TCVN3",
    }
    pd.testing.assert_series_equal(series, before)


def test_find_legacy_text_on_string_and_numeric_dtypes():
    series = pd.Series(["Th¸i B×nh", "Thái Bình", None], dtype="string")
    assert find_legacy_text(series).tolist() == ["TCVN3", None, None]
    numbers = pd.Series([1, 2, 3], index=list("abc"))
    result = find_legacy_text(numbers)
    assert result.tolist() == [None, None, None]
    assert list(result.index) == ["a", "b", "c"]
    assert find_legacy_text(pd.Series([], dtype=object)).empty


def test_find_legacy_text_only_checks_suspicious_distinct_values(monkeypatch):
    calls: list[str] = []
    detect = text_module.detect_legacy_encoding

    def counting(value):
        calls.append(value)
        return detect(value)

    monkeypatch.setattr(text_module, "detect_legacy_encoding", counting)
    clean = ["Thường Xuân", "Bá Thước", "TH-0412", "Đồng Hới"] * 1000
    legacy = [encode_legacy("Mường Lát", "TCVN3")] * 500
    series = pd.Series(clean + legacy)
    result = find_legacy_text(series)
    assert calls == [encode_legacy("Mường Lát", "TCVN3")]
    assert (result.iloc[-500:] == "TCVN3").all()
    assert result.iloc[:-500].isna().all()


def test_context_flags_ambiguous_values_of_a_legacy_column():
    names = ["Thường Xuân", "Quan Sơn", "Nga Sơn", "Đồng Hới", "Thái Bình"]
    series = pd.Series([encode_legacy(n, "VNI") for n in names])
    # VNI "Sôn" (Sơn) is a well-formed syllable: not flagged on its own ...
    assert find_legacy_text(series).tolist() == ["VNI", None, None, "VNI", "VNI"]
    # ... but flagged when the column is VNI.
    assert find_legacy_text(series, context=True).tolist() == ["VNI"] * 5
    decoded = [decode_legacy(v, "VNI") for v in series]
    assert decoded == names


def test_context_does_not_spread_from_a_stray_value():
    series = pd.Series(["Quan Hóa", "Hòa Bình", "Mê Linh", "Cà Mau", "Thanh Hãa"])
    assert find_legacy_text(series, context=True).tolist() == [None] * 4 + ["TCVN3"]
