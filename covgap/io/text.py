"""Vietnamese names in input layers: Unicode normalisation and legacy-font mojibake.

Place and site names reach covgap from shapefiles, Excel sheets and CSV exports made
over three decades.  Two things go wrong with them:

* the same name is stored in different Unicode forms (precomposed NFC from Windows,
  decomposed NFD from macOS, stray double spaces), so joins on names silently miss;
* older files were typed with 8-bit Vietnamese *font* encodings -- TCVN3 ("ABC",
  ``.VnTime`` fonts) or VNI-Windows (``VNI-Times``) -- and read back as cp1252/latin-1,
  so the program sees mojibake such as ``"Th¸i B×nh"`` (TCVN3) or ``"Thaùi Bình"``
  (VNI) instead of ``"Thái Bình"``.

:func:`normalize_nfc` fixes the first.  :func:`detect_legacy_encoding` and
:func:`find_legacy_text` find the second and :func:`decode_legacy` repairs it.

Detection is statistical but confirmed by decoding: a value is flagged only when

1. it holds nothing beyond U+00FF (proper Vietnamese Unicode always has a code point
   such as ư, ơ, đ, ă, U+1EA0-U+1EF9 or a combining mark, which no latin-1 reading of
   8-bit bytes can produce),
2. at least one of its words of two or more characters cannot be Vietnamese: it holds
   TCVN3 marker symbols such as ``¸ µ © ª ­ ®`` or VNI mark bytes such as ``ø ï û``,
   an impossible vowel cluster or tone placement (``Hãa``, ``Thaùi``), or a capital
   inside a lower-case word (TCVN3 puts ế on ``Õ``: ``BÕn Tre``),
3. decoding with the candidate table leaves no unmapped 8-bit character, and
4. every decoded word that carries a diacritic is a well-formed, well-cased Vietnamese
   syllable (a known vowel cluster and final consonant, at most one tone mark, on the
   right vowel, and no grave/hook/tilde before a stop consonant).

Names whose mojibake is itself well-formed Vietnamese (VNI ``"Sôn"`` for Sơn, TCVN3
``"Phó"`` for Phú) are not flagged on their own; :func:`find_legacy_text` can flag
them from the rest of the column (``context=True``).
"""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = [
    "LEGACY_ENCODINGS",
    "decode_legacy",
    "detect_legacy_encoding",
    "encode_legacy",
    "find_legacy_text",
    "name_key",
    "normalize_nfc",
    "strip_invisible",
]

#: Invisible formatting characters that sneak into names copied from web pages, PDFs and
#: right-to-left documents: zero-width space, non-joiner and joiner, left-to-right and
#: right-to-left marks (U+200B-U+200F), embeddings and overrides (U+202A-U+202E),
#: isolates (U+2066-U+2069) and the byte order mark / zero-width no-break space (U+FEFF).
INVISIBLE_MARKS = "\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff"
_INVISIBLE = re.compile(f"[{INVISIBLE_MARKS}]")
#: Runs of white space (Unicode), one space in a normalised name.
_SPACES = re.compile(r"\s+")

#: Names of the legacy encodings this module detects and decodes.
LEGACY_ENCODINGS = ("TCVN3", "VNI")

# --------------------------------------------------------------------------------------
# Code tables
# --------------------------------------------------------------------------------------

# TCVN 5712:1993 VN3 ("TCVN3"/ABC, .VnTime fonts): byte (read as latin-1) -> letter.
_TCVN3_TO_UNICODE: dict[str, str] = {
    "\xa1": "Ă", "\xa2": "Â", "\xa3": "Ê", "\xa4": "Ô", "\xa5": "Ơ", "\xa6": "Ư", "\xa7": "Đ",
    "\xa8": "ă", "\xa9": "â", "\xaa": "ê", "\xab": "ô", "\xac": "ơ", "\xad": "ư", "\xae": "đ",
    "\xb5": "à", "\xb6": "ả", "\xb7": "ã", "\xb8": "á", "\xb9": "ạ", "\xbb": "ằ", "\xbc": "ẳ",
    "\xbd": "ẵ", "\xbe": "ắ", "\xc6": "ặ", "\xc7": "ầ", "\xc8": "ẩ", "\xc9": "ẫ", "\xca": "ấ",
    "\xcb": "ậ", "\xcc": "è", "\xce": "ẻ", "\xcf": "ẽ", "\xd0": "é", "\xd1": "ẹ", "\xd2": "ề",
    "\xd3": "ể", "\xd4": "ễ", "\xd5": "ế", "\xd6": "ệ", "\xd7": "ì", "\xd8": "ỉ", "\xdc": "ĩ",
    "\xdd": "í", "\xde": "ị", "\xdf": "ò", "\xe1": "ỏ", "\xe2": "õ", "\xe3": "ó", "\xe4": "ọ",
    "\xe5": "ồ", "\xe6": "ổ", "\xe7": "ỗ", "\xe8": "ố", "\xe9": "ộ", "\xea": "ờ", "\xeb": "ở",
    "\xec": "ỡ", "\xed": "ớ", "\xee": "ợ", "\xef": "ù", "\xf1": "ủ", "\xf2": "ũ", "\xf3": "ú",
    "\xf4": "ụ", "\xf5": "ừ", "\xf6": "ử", "\xf7": "ữ", "\xf8": "ứ", "\xf9": "ự", "\xfa": "ỳ",
    "\xfb": "ỷ", "\xfc": "ỹ", "\xfd": "ý", "\xfe": "ỵ",
}
# VN3 has no code for upper-case letters with a tone mark: ABC's upper-case fonts
# (.VnTimeH) draw the lower-case codes as capitals, so they are encoded as lower case.
_UNICODE_TO_TCVN3: dict[str, str] = {u: b for b, u in _TCVN3_TO_UNICODE.items()}
_UNICODE_TO_TCVN3.update(
    {u.upper(): b for b, u in _TCVN3_TO_UNICODE.items() if u.upper() not in _UNICODE_TO_TCVN3}
)

# VNI-Windows (VNI Software's 8-bit font encoding, VNI-Times): letter -> base + mark bytes.
# Marks: tone ù=sắc ø=huyền û=hỏi õ=ngã ï=nặng; â=^ á=^sắc à=^huyền å=^hỏi ã=^ngã ä=^nặng;
# ê=˘ é=˘sắc è=˘huyền ú=˘hỏi ü=˘ngã ë=˘nặng.  ô=ơ, ö=ư, ñ=đ; i and ỵ are single bytes.
_UNICODE_TO_VNI_LOWER: dict[str, str] = {
    "á": "aù", "à": "aø", "ả": "aû", "ã": "aõ", "ạ": "aï",
    "ă": "aê", "ắ": "aé", "ằ": "aè", "ẳ": "aú", "ẵ": "aü", "ặ": "aë",
    "â": "aâ", "ấ": "aá", "ầ": "aà", "ẩ": "aå", "ẫ": "aã", "ậ": "aä",
    "é": "eù", "è": "eø", "ẻ": "eû", "ẽ": "eõ", "ẹ": "eï",
    "ê": "eâ", "ế": "eá", "ề": "eà", "ể": "eå", "ễ": "eã", "ệ": "eä",
    "í": "í", "ì": "ì", "ỉ": "æ", "ĩ": "ó", "ị": "ò",
    "ó": "où", "ò": "oø", "ỏ": "oû", "õ": "oõ", "ọ": "oï",
    "ô": "oâ", "ố": "oá", "ồ": "oà", "ổ": "oå", "ỗ": "oã", "ộ": "oä",
    "ơ": "ô", "ớ": "ôù", "ờ": "ôø", "ở": "ôû", "ỡ": "ôõ", "ợ": "ôï",
    "ú": "uù", "ù": "uø", "ủ": "uû", "ũ": "uõ", "ụ": "uï",
    "ư": "ö", "ứ": "öù", "ừ": "öø", "ử": "öû", "ữ": "öõ", "ự": "öï",
    "ý": "yù", "ỳ": "yø", "ỷ": "yû", "ỹ": "yõ", "ỵ": "î",
    "đ": "ñ",
}
# Capitals use the capital forms of the same bytes (A + Ù for Á, Ñ for Đ, Î for Ỵ).
_UNICODE_TO_VNI: dict[str, str] = {
    **_UNICODE_TO_VNI_LOWER,
    **{u.upper(): v.upper() for u, v in _UNICODE_TO_VNI_LOWER.items()},
}
_VNI_TO_UNICODE: dict[str, str] = {v: u for u, v in _UNICODE_TO_VNI.items()}
# Longest sequences first, so "ôù" (ớ) wins over "ô" (ơ).
_VNI_RE = re.compile(
    "|".join(re.escape(k) for k in sorted(_VNI_TO_UNICODE, key=len, reverse=True))
)

_TCVN3_DECODE = str.maketrans(_TCVN3_TO_UNICODE)
_TCVN3_DELETE = str.maketrans(dict.fromkeys(_TCVN3_TO_UNICODE))

_ALIASES = {
    "TCVN3": "TCVN3", "ABC": "TCVN3", "VN3": "TCVN3",
    "VNI": "VNI", "VNI-WINDOWS": "VNI", "VNIWINDOWS": "VNI",
}

# --------------------------------------------------------------------------------------
# Character classes
# --------------------------------------------------------------------------------------

#: Anything a latin-1 reading of bytes cannot produce (ư ơ đ ă ĩ ũ, U+1EA0-U+1EF9,
#: combining marks U+0300-U+0323, CJK, ...): its presence rules out mojibake.
_BEYOND_LATIN1 = r"[^\x00-\xff]"
_BEYOND_LATIN1_RE = re.compile(_BEYOND_LATIN1)
#: Every 8-bit character that occurs in TCVN3 or VNI mojibake.
_MARKER_CHARS = sorted(
    set(_TCVN3_TO_UNICODE) | {c for k in _VNI_TO_UNICODE for c in k if not c.isascii()}
)
_MARKER = "[" + "".join(re.escape(c) for c in _MARKER_CHARS) + "]"

_WORD_SPLIT = re.compile(r"[\s0-9!-/:-@\[-`{-~]+|(?<=[a-z])(?=[A-Z])")
_WORD_RE = re.compile(r"[^\s0-9!-/:-@\[-`{-~]+")
_ASCII_UPPER = re.compile(r"[A-Z]")
_ASCII_LOWER = re.compile(r"[a-z]")

# --------------------------------------------------------------------------------------
# Vietnamese syllable shape
# --------------------------------------------------------------------------------------

_TONES = {"\u0300": "huyen", "\u0301": "sac", "\u0303": "nga", "\u0309": "hoi", "\u0323": "nang"}
_TONE_BEARERS = frozenset("aeiouy")
_VOWELS = "aăâeêioôơuưy"
_CONSONANTS = frozenset("bcdđfghjklmnpqrstvwxz")
_SYLLABLE_RE = re.compile(f"([^{_VOWELS}]*)([{_VOWELS}]+)([^{_VOWELS}]*)")

#: Vowel clusters that may end a syllable with or without a final consonant (the tone
#: may sit on either vowel of oa, oe, uê, uy, uơ when nothing follows: hóa or hoá).
_NUCLEI_ANY = frozenset("a e ê i o ô ơ u ư y oa oe uê uy uơ".split())
#: Vowel clusters that need a final consonant; the tone sits on the last vowel
#: (ăn, ân, tiến, yên, muốn, được, tuần, hoặc, nguyễn).
_NUCLEI_CLOSED = frozenset("ă â iê yê uô ươ uâ oă uyê".split())
#: Vowel clusters that end the syllable (a glide, or ia ua ưa); the tone is never on
#: their last vowel (hài, mía, mưa, người, khuỷu).
_NUCLEI_OPEN = frozenset(
    "ai ao au ay âu ây eo êu ia iu oi ôi ơi ua ui ưa ưi ưu iêu yêu oai oao oay oeo "
    "uây uôi uya uyu ươi ươu".split()
)
#: Final consonants: Vietnamese ones plus k and h of highland names (Đắk Lắk, Đạ Tẻh).
_CODAS = frozenset({"", "c", "ch", "k", "h", "m", "n", "ng", "nh", "p", "t"})
_STOPS = frozenset({"c", "ch", "k", "p", "t"})
_NO_RHYMES = frozenset({("i", "ng"), ("y", "ng"), ("ơ", "c"), ("ơ", "ng"), ("e", "c")})


def _rhyme_ok(nucleus: str, coda: str, tone_at: int | None) -> bool:
    """Check a vowel cluster, its final consonant and the tone's place in the cluster."""
    last = len(nucleus) - 1
    if coda in ("ch", "nh") and nucleus[-1] not in "aêiy":  # anh, ênh, inh; no *ônh
        return False
    # No *ing, *ơc, *ơng (inh, ơt, ương instead).  "ec" is marginal (loans: séc) and in
    # names is far more often TCVN3 mojibake of ộc (Lộc -> "Léc"); "eng" is kept for
    # names such as Mã Pì Lèng.
    if (nucleus, coda) in _NO_RHYMES:
        return False
    if nucleus in _NUCLEI_ANY:
        return not (coda and last and tone_at is not None and tone_at != last)
    if nucleus in _NUCLEI_CLOSED:
        return bool(coda) and (not last or tone_at is None or tone_at == last)
    return nucleus in _NUCLEI_OPEN and not coda and tone_at != last


@functools.lru_cache(maxsize=1 << 16)  # names repeat their words (Bản, Thôn, Nậm)
def _syllable_ok(word: str) -> bool:
    """Whether ``word`` has the shape of one Vietnamese syllable (case-insensitive).

    Any onset cluster (highland names: Krông, Kbang), one known vowel cluster, a
    Vietnamese final consonant, at most one tone mark placed where Vietnamese puts it,
    and only sắc or nặng before a stop (Lạc, Bắc; not *Làc).
    """
    bases: list[str] = []  # one entry per letter: NFD base + combining marks
    tone_at = tone = None
    for char in unicodedata.normalize("NFD", word.lower()):
        if char in _TONES:
            # ñ is n + tilde: a tone mark on a consonant (or a second tone) is no letter.
            if not bases or bases[-1][0] not in _TONE_BEARERS or tone is not None:
                return False
            tone, tone_at = _TONES[char], len(bases) - 1
        elif unicodedata.combining(char):
            if not bases:
                return False
            bases[-1] += char
        else:
            bases.append(char)
    letters = [unicodedata.normalize("NFC", b) for b in bases]
    if any(len(c) != 1 or (c not in _VOWELS and c not in _CONSONANTS) for c in letters):
        return False
    match = _SYLLABLE_RE.fullmatch("".join(letters))
    if match is None:  # no vowel, or two vowel groups ("cafe")
        return False
    onset, nucleus, coda = match.groups()
    if "đ" in onset and onset != "đ":  # đ takes no cluster: "cđa" is no syllable
        return False
    if coda not in _CODAS or (coda in _STOPS and tone not in (None, "sac", "nang")):
        return False
    start = match.start(2)
    if onset == "q":  # qu + vowel: quân, quốc, quý; never *quoác
        if len(nucleus) < 2 or nucleus[0] != "u" or nucleus[1] in "ouư" or tone_at == start:
            return False
        nucleus, start = nucleus[1:], start + 1
    at = None if tone_at is None else tone_at - start
    if _rhyme_ok(nucleus, coda, at):
        return True
    # gi + vowel: giữa, giường, giàu (the i is part of the onset).
    return (
        onset == "g" and len(nucleus) > 1 and nucleus[0] == "i" and at != 0
        and _rhyme_ok(nucleus[1:], coda, None if at is None else at - 1)
    )


def _words(text: str) -> list[str]:
    return [w for w in _WORD_SPLIT.split(text) if w]


def _odd_case(word: str) -> bool:
    """Whether ``word`` is neither lower, UPPER nor Title case ("BÕn", "QuÕ")."""
    return not (
        word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())
    )


def _has_evidence(text: str) -> bool:
    """Whether some word of 2+ characters with an 8-bit character cannot be Vietnamese.

    Either it is no Vietnamese syllable (marker symbols, impossible vowel clusters) or
    its case is odd: TCVN3 puts lower-case letters such as ế, ẩ on the latin-1 capitals
    Õ, È, so TCVN3 mojibake shows capitals inside lower-case words ("BÕn Tre").
    """
    return any(
        len(w) > 1 and not w.isascii() and (_odd_case(w) or not _syllable_ok(w))
        for w in _words(text)
    )


def _all_plausible(text: str) -> bool:
    """Whether every word carrying a diacritic is a well-formed, well-cased syllable."""
    return all(
        _syllable_ok(w) and not _odd_case(w) for w in _words(text) if not w.isascii()
    )


# --------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------


def _canonical(encoding: str) -> str:
    key = str(encoding).strip().upper().replace("_", "-")
    if key not in _ALIASES:
        raise ValueError(
            f"unknown legacy encoding {encoding!r}; expected one of {LEGACY_ENCODINGS}"
        )
    return _ALIASES[key]


def _decode_tcvn3(text: str) -> str:
    """Decode TCVN3 and restore the capitals VN3 cannot encode.

    VN3 has codes only for the capitals Ă Â Ê Ô Ơ Ư Đ; ABC users typed other capitals
    in a capital font (.VnTimeH) that draws the lower-case codes as capitals, so the
    case is lost in the bytes.  It is restored from the ASCII letters around it: the
    whole text when all of its ASCII letters are capitals, a word when all of its ASCII
    letters are capitals, and a word's first letter when every word that starts with
    an ASCII letter starts with a capital (a Title Case name such as "Êp Hßa Lîi").
    """
    if len(_ASCII_UPPER.findall(text)) > 1 and not _ASCII_LOWER.search(text):
        return text.translate(_TCVN3_DECODE).upper()
    initials = [w[0] for w in _WORD_RE.findall(text) if w[0].isascii() and w[0].isalpha()]
    title = bool(initials) and all(c.isupper() for c in initials)

    def fix(match: re.Match[str]) -> str:
        word = match.group()
        decoded = word.translate(_TCVN3_DECODE)
        letters = "".join(c for c in word if c.isascii() and c.isalpha())
        if len(letters) > 1 and letters.isupper():
            return decoded.upper()
        if title and word[0] in _TCVN3_TO_UNICODE:
            return decoded[0].upper() + decoded[1:]
        return decoded

    return _WORD_RE.sub(fix, text)


def _unmapped(text: str, encoding: str) -> int:
    """Count the 8-bit characters that the table of ``encoding`` leaves undecoded."""
    rest = text.translate(_TCVN3_DELETE) if encoding == "TCVN3" else _VNI_RE.sub("", text)
    return sum(1 for c in rest if not c.isascii() and not c.isspace())


def decode_legacy(text: str, encoding: str) -> str:
    r"""Convert TCVN3 or VNI-Windows mojibake back to Unicode (NFC).

    Parameters
    ----------
    text : str
        A name whose legacy 8-bit bytes were read as cp1252/latin-1, e.g.
        ``"Thanh Hãa"`` (TCVN3) or ``"Thaùi Bình"`` (VNI).
    encoding : str
        ``"TCVN3"`` (aliases ``"ABC"``, ``"VN3"``) or ``"VNI"`` (``"VNI-Windows"``),
        case-insensitive.

    Returns
    -------
    str
        The NFC Unicode text.  Characters outside the encoding's table are kept as they
        are.  VN3 has no toned capitals (ABC's capital fonts draw the lower-case codes
        as capitals), so TCVN3 case is restored from the ASCII letters: words whose
        ASCII letters are all capitals are returned in capitals, and in a Title Case
        name a word starting with a toned letter is capitalised (``"Êp Hßa"`` ->
        ``"Ấp Hòa"``).

    Raises
    ------
    ValueError
        If ``encoding`` is not a supported legacy encoding.

    Examples
    --------
    >>> decode_legacy("Th\xadêng Xu©n", "TCVN3")
    'Thường Xuân'
    >>> decode_legacy("Thöôøng Xuaân", "VNI")
    'Thường Xuân'
    """
    encoding = _canonical(encoding)
    text = unicodedata.normalize("NFC", text)
    if encoding == "TCVN3":
        decoded = _decode_tcvn3(text)
    else:
        decoded = _VNI_RE.sub(lambda m: _VNI_TO_UNICODE[m.group()], text)
    return unicodedata.normalize("NFC", decoded)


def encode_legacy(text: str, encoding: str) -> str:
    """Write Unicode Vietnamese as the mojibake a legacy font file shows in cp1252.

    The inverse of :func:`decode_legacy`, for building test fixtures and for checking
    what a name would look like in an old file.

    Parameters
    ----------
    text : str
        Unicode text; ASCII passes through unchanged.
    encoding : str
        ``"TCVN3"`` or ``"VNI"`` (same aliases as :func:`decode_legacy`).

    Returns
    -------
    str
        The legacy bytes as latin-1 characters.  In TCVN3, capitals with a tone mark
        (no VN3 code) are written with the lower-case code, as ABC's capital fonts do.

    Raises
    ------
    ValueError
        If ``encoding`` is unknown or ``text`` holds a non-ASCII character that is not a
        Vietnamese letter.

    Examples
    --------
    >>> encode_legacy("Thanh Hóa", "TCVN3")
    'Thanh Hãa'
    >>> encode_legacy("Đồng Hới", "VNI")
    'Ñoàng Hôùi'
    """
    encoding = _canonical(encoding)
    table = _UNICODE_TO_TCVN3 if encoding == "TCVN3" else _UNICODE_TO_VNI
    out = []
    for char in unicodedata.normalize("NFC", text):
        if char.isascii():
            out.append(char)
        elif char in table:
            out.append(table[char])
        else:
            raise ValueError(f"{char!r} in {text!r} has no {encoding} code")
    return "".join(out)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def normalize_nfc(series: pd.Series) -> pd.Series:
    r"""Normalise names to Unicode NFC with single inner spaces and no outer spaces.

    Parameters
    ----------
    series : pandas.Series
        Names; values that are not strings (NaN, None, numbers) are passed through.

    Returns
    -------
    pandas.Series
        A new Series with the same index and name; ``series`` is not modified.

    Examples
    --------
    >>> import unicodedata
    >>> s = pd.Series(["  Thanh \t Hóa ", unicodedata.normalize("NFD", "Hoà"), None],
    ...               dtype=object)
    >>> normalize_nfc(s).tolist() == ["Thanh Hóa", "Hoà", None]
    True
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    try:
        series.str  # noqa: B018 (pandas says whether the column can hold text)
    except AttributeError:  # no string values at all (numeric or all-missing dtype)
        return series.copy()
    # each distinct text once, in plain Python (pandas' .str methods, chained, cost some
    # ten times as much a cell); values that are not strings (None, NaN, 5) stay
    cells = series.to_numpy(dtype=object)
    out = cells.copy()
    done: dict[str, str] = {}
    for i, v in enumerate(cells):
        if isinstance(v, str):
            text = done.get(v)
            if text is None:
                text = done[v] = _SPACES.sub(" ", unicodedata.normalize("NFC", v).strip())
            out[i] = text
    return pd.Series(out, index=series.index, name=series.name, dtype=series.dtype)


def strip_invisible(series: pd.Series) -> tuple[pd.Series, int]:
    """Remove zero-width and bidirectional marks (:data:`INVISIBLE_MARKS`) from names.

    Parameters
    ----------
    series : pandas.Series
        Names; values that are not strings are passed through.

    Returns
    -------
    cleaned : pandas.Series
        A new Series; ``series`` is not modified.
    removed : int
        How many marks were removed.

    Examples
    --------
    >>> cleaned, n = strip_invisible(pd.Series(["Thôn\u200b Đông", "\u202eBản", None],
    ...                                        dtype=object))
    >>> cleaned.tolist(), n
    (['Thôn Đông', 'Bản', None], 2)
    """
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return series.copy(), 0
    strings = [v for v in series.to_numpy(dtype=object) if isinstance(v, str)]
    # one regex pass over the whole column (fast) before any per-cell work
    removed = len(_INVISIBLE.findall("\n".join(strings)))
    if not removed:
        return series.copy(), 0
    out = pd.Series([_INVISIBLE.sub("", v) if isinstance(v, str) else v for v in series],
                    index=series.index, name=series.name, dtype=series.dtype)
    return out, removed


def name_key(text: str) -> str:
    """Return the matching key of a name: case-, accent-, width- and punctuation-free.

    Latin letters lose their accents (``"Mobiphône"`` matches ``"MobiFone"``, ``đ`` is
    ``d``); letters of other scripts are kept, casefolded and NFKC-normalised, so two
    names in Chinese, Thai or Khmer keep different keys.  A name with no letters or
    digits has the empty key.

    Examples
    --------
    >>> name_key("VNPT-VinaPhone"), name_key("Mobiphône"), name_key("Ｖｉｅｔｔｅｌ")
    ('vnptvinaphone', 'mobiphone', 'viettel')
    >>> name_key("中国移动") != name_key("中国联通")
    True
    """
    text = _INVISIBLE.sub("", text).replace("đ", "d").replace("Đ", "D").replace("+", "plus")
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    kept: list[str] = []
    latin_base = False
    for ch in decomposed:
        if unicodedata.combining(ch):
            if not latin_base:  # marks of other scripts are part of their letters
                kept.append(ch)
            continue
        latin_base = ch.isascii()
        kept.append(ch)
    composed = unicodedata.normalize("NFKC", "".join(kept))
    return "".join(c for c in composed if c.isalnum())


def _candidates(text: object, *, need_evidence: bool = True) -> list[str]:
    """Return the encodings that decode ``text`` to plausible Vietnamese, best first."""
    if not isinstance(text, str) or text.isascii():
        return []
    text = unicodedata.normalize("NFC", text)
    if _BEYOND_LATIN1_RE.search(text) or (need_evidence and not _has_evidence(text)):
        return []
    ranked = []
    for rank, encoding in enumerate(LEGACY_ENCODINGS):
        if _unmapped(text, encoding):
            continue
        decoded = decode_legacy(text, encoding)
        if decoded == text or not _all_plausible(decoded):
            continue
        # Both tables may fit where VNI's single bytes ô ö ñ æ (ơ ư đ ỉ) are TCVN3's
        # ụ ử ủ ổ.  Prefer fewer tone marks (toneless ơ ư đ are more common than toned
        # ụ ử ủ), then fewer vowel letters (VNI folds "uû" into one ủ where TCVN3 reads
        # "uỷ"), then TCVN3, the national standard of most government data.
        nfd = unicodedata.normalize("NFD", decoded.lower())
        tones = sum(c in _TONES for c in nfd)
        vowels = sum(c in _TONE_BEARERS for c in nfd)
        ranked.append((tones, vowels, rank, encoding))
    return [encoding for *_, encoding in sorted(ranked)]


def detect_legacy_encoding(text: str) -> str | None:
    """Tell whether a name is TCVN3 or VNI-Windows mojibake.

    Parameters
    ----------
    text : str
        One value as read from a file; non-strings give ``None``.

    Returns
    -------
    str or None
        ``"TCVN3"`` or ``"VNI"`` when ``text`` looks like Vietnamese typed in that
        8-bit font encoding and read as cp1252/latin-1, and decodes to well-formed
        Vietnamese; ``None`` for proper Unicode (NFC or NFD), ASCII and other text.

    Notes
    -----
    Names whose mojibake is itself well-formed Vietnamese cannot be told apart from
    proper text and are not flagged: TCVN3 ``"Phó"`` is ``"Phú"``, VNI ``"Hoà"`` is
    ``"Hồ"`` and VNI ``"Sôn"`` is ``"Sơn"`` (see ``context`` in
    :func:`find_legacy_text`).  A few ALL-CAPS names fit both tables
    (``"NGHÖ AN"`` is TCVN3 NGHỆ AN or VNI NGHƯ AN); the reading with fewer tone marks,
    then TCVN3, is returned.

    Examples
    --------
    >>> detect_legacy_encoding("Th¸i B×nh")
    'TCVN3'
    >>> detect_legacy_encoding("Thaùi Bình")
    'VNI'
    >>> detect_legacy_encoding("Thái Bình") is None
    True
    """
    candidates = _candidates(text)
    return candidates[0] if candidates else None


def find_legacy_text(series: pd.Series, *, context: bool = False) -> pd.Series:
    """Flag the values of a column that are TCVN3 or VNI-Windows mojibake.

    A vectorised pre-filter keeps only values with a legacy marker character and no
    character beyond U+00FF; only those (each distinct value once) go through
    :func:`detect_legacy_encoding`.

    Parameters
    ----------
    series : pandas.Series
        Names as read from a file; non-string values are allowed.
    context : bool, default False
        Use the column as evidence: when at least half of the distinct suspicious
        values are flagged and at least 90 % of those with one encoding, also flag,
        with that encoding, the values it decodes to well-formed Vietnamese although
        they look valid on their own (VNI ``"Sôn La"`` for Sơn La).  Off by default:
        a column that mixes legacy and proper Latin-1-only names (``"Quan Hóa"``)
        would have the proper ones flagged.

    Returns
    -------
    pandas.Series
        Object Series with the same index and name holding ``"TCVN3"``, ``"VNI"`` or
        ``None`` per value.

    Examples
    --------
    >>> s = pd.Series(["Thanh Hãa", "Thanh Hóa", "Ñoàng Hôùi", None])
    >>> find_legacy_text(s).tolist()
    ['TCVN3', None, 'VNI', None]
    """
    out = np.full(len(series), None, dtype=object)
    try:
        strings = series.str
    except AttributeError:  # no string values at all
        return pd.Series(out, index=series.index, name=series.name, dtype=object)
    suspect = strings.contains(_MARKER, regex=True, na=False) & ~strings.contains(
        _BEYOND_LATIN1, regex=True, na=False
    )
    mask = suspect.to_numpy(dtype=bool)
    if not mask.any():
        return pd.Series(out, index=series.index, name=series.name, dtype=object)
    values = series[mask]
    verdicts = {v: detect_legacy_encoding(v) for v in pd.unique(values)}
    if context:
        _apply_context(verdicts)
    out[mask] = [verdicts[v] for v in values]
    return pd.Series(out, index=series.index, name=series.name, dtype=object)


def _apply_context(verdicts: dict[str, str | None]) -> None:
    """Extend a column's dominant encoding to its ambiguous values, in place."""
    flagged = [v for v in verdicts.values() if v is not None]
    if not flagged or 2 * len(flagged) < len(verdicts):
        return
    dominant = max(LEGACY_ENCODINGS, key=flagged.count)
    if flagged.count(dominant) < 0.9 * len(flagged):
        return
    for value, verdict in verdicts.items():
        if verdict != dominant and dominant in _candidates(value, need_evidence=False):
            verdicts[value] = dominant
