"""Detect and repair Vietnamese text typed with legacy 8-bit fonts: TCVN3 (ABC, ``.VnTime``) and VNI (``VNI-Times``).

Such text reaches us as Unicode mojibake: the font's byte values read as Windows-1252/Latin-1 characters,
e.g. TCVN3 ``"§¶ng bé huyÖn M\\xadêng Kh\\xad¬ng"`` or VNI ``"Ñaûng boä huyeän Möôøng Khöông"`` for
"Đảng bộ huyện Mường Khương". :func:`repair_text` turns it back into NFC Unicode.

Character maps: both tables below follow the charset tables of UniKey's VnConv library
(``ukengine/data.cpp``, Pham Kim Long, e.g. github.com/vn-input/ibus-unikey: ``SingleByteTables`` entry
"TCVN3" and ``DoubleByteTables`` entry "VNI-WIN"), cross-checked against xvnkb's ``vni.h`` (Dao Hai Lam,
github.com/lamdao/xvnkb). Only the code-point facts are taken; the tables are written out here independently.

Detection is deliberately conservative (see docs/legacy-encodings.md): a cell is repaired only when it holds
characters that Unicode Vietnamese never uses as letters, every word holding legacy characters decodes to a
well-formed Vietnamese syllable, and no letter foreign to the encoding is present.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Literal, NamedTuple

__all__ = ["LegacyEncoding", "decode_tcvn3", "decode_vni", "detect_legacy", "is_vietnamese_syllable", "repair_text"]

LegacyEncoding = Literal["TCVN3", "VNI"]

# Combining tone marks, in UniKey's table order: sắc, huyền, hỏi, ngã, nặng.
ACUTE, GRAVE, HOOK, TILDE, DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
TONES = (ACUTE, GRAVE, HOOK, TILDE, DOT)
TONE_MARKS = frozenset(TONES)
CIRCUMFLEX, BREVE, HORN = "\u0302", "\u0306", "\u031b"


def _compose(base: str, *marks: str) -> str:
    return unicodedata.normalize("NFC", base + "".join(marks))


# ---------------------------------------------------------------- TCVN3 (TCVN 5712:1993, VN3)

# Base letters with a diacritic but no tone. TCVN3 encodes these seven in upper and lower case.
_TCVN3_BASES = {
    "\u00a1": "Ă", "\u00a2": "Â", "\u00a3": "Ê", "\u00a4": "Ô", "\u00a5": "Ơ", "\u00a6": "Ư", "\u00a7": "Đ",
    "\u00a8": "ă", "\u00a9": "â", "\u00aa": "ê", "\u00ab": "ô", "\u00ac": "ơ", "\u00ad": "ư", "\u00ae": "đ",
}  # fmt: skip

# Toned vowels exist only in lower case (capitals need the separate ``.VnTimeH`` font, same bytes).
# Each value lists the legacy characters for sắc, huyền, hỏi, ngã, nặng.
_TCVN3_TONED = {
    "a": "\u00b8\u00b5\u00b6\u00b7\u00b9",  # ¸ µ ¶ · ¹  -> á à ả ã ạ
    "ă": "\u00be\u00bb\u00bc\u00bd\u00c6",  # ¾ » ¼ ½ Æ  -> ắ ằ ẳ ẵ ặ
    "â": "\u00ca\u00c7\u00c8\u00c9\u00cb",  # Ê Ç È É Ë  -> ấ ầ ẩ ẫ ậ
    "e": "\u00d0\u00cc\u00ce\u00cf\u00d1",  # Ð Ì Î Ï Ñ  -> é è ẻ ẽ ẹ
    "ê": "\u00d5\u00d2\u00d3\u00d4\u00d6",  # Õ Ò Ó Ô Ö  -> ế ề ể ễ ệ
    "i": "\u00dd\u00d7\u00d8\u00dc\u00de",  # Ý × Ø Ü Þ  -> í ì ỉ ĩ ị
    "o": "\u00e3\u00df\u00e1\u00e2\u00e4",  # ã ß á â ä  -> ó ò ỏ õ ọ
    "ô": "\u00e8\u00e5\u00e6\u00e7\u00e9",  # è å æ ç é  -> ố ồ ổ ỗ ộ
    "ơ": "\u00ed\u00ea\u00eb\u00ec\u00ee",  # í ê ë ì î  -> ớ ờ ở ỡ ợ
    "u": "\u00f3\u00ef\u00f1\u00f2\u00f4",  # ó ï ñ ò ô  -> ú ù ủ ũ ụ
    "ư": "\u00f8\u00f5\u00f6\u00f7\u00f9",  # ø õ ö ÷ ù  -> ứ ừ ử ữ ự
    "y": "\u00fd\u00fa\u00fb\u00fc\u00fe",  # ý ú û ü þ  -> ý ỳ ỷ ỹ ỵ
}


def _tcvn3_table() -> dict[str, str]:
    table = dict(_TCVN3_BASES)
    for vowel, legacy in _TCVN3_TONED.items():
        for char, tone in zip(legacy, TONES, strict=True):
            table[char] = _compose(vowel, tone)
    return table


TCVN3_TABLE: dict[str, str] = _tcvn3_table()
_TCVN3_TRANSLATION = str.maketrans(TCVN3_TABLE)


def decode_tcvn3(text: str) -> str:
    """Map every TCVN3 character to its Unicode letter (no detection); NFC result."""
    return unicodedata.normalize("NFC", text.translate(_TCVN3_TRANSLATION))


# ---------------------------------------------------------------- VNI (VNI-Windows)

# VNI writes a base ASCII letter followed by one mark character. Lower-case marks follow lower-case
# letters; the upper-case marks are the Latin-1 capitals of the same characters.
_VNI_TONE = dict(zip("\u00f9\u00f8\u00fb\u00f5\u00ef", TONES, strict=True))  # ù ø û õ ï
_VNI_HAT = {"\u00e2": ""} | dict(zip("\u00e1\u00e0\u00e5\u00e3\u00e4", TONES, strict=True))  # â | á à å ã ä
_VNI_BOWL = {"\u00ea": ""} | dict(zip("\u00e9\u00e8\u00fa\u00fc\u00eb", TONES, strict=True))  # ê | é è ú ü ë
# Letters VNI writes as one character of their own (toned i; ơ ư đ; ỵ).
_VNI_SINGLE = {
    "\u00f1": "đ",  # ñ
    "\u00f4": "ơ",  # ô
    "\u00f6": "ư",  # ö
    "\u00ed": "í",  # í
    "\u00ec": "ì",  # ì
    "\u00e6": "ỉ",  # æ
    "\u00f3": "ĩ",  # ó
    "\u00f2": "ị",  # ò
    "\u00ee": "ỵ",  # î
}


def _vni_lower_table() -> dict[str, str]:
    table = dict(_VNI_SINGLE)
    for base, letter in (("a", "a"), ("e", "e"), ("o", "o"), ("u", "u"), ("y", "y"), ("\u00f4", "ơ"), ("\u00f6", "ư")):
        for mark, tone in _VNI_TONE.items():
            if not (letter == "y" and tone == DOT):  # ỵ is the single character î
                table[base + mark] = _compose(letter, tone)
    for base in "aeo":
        for mark, tone in _VNI_HAT.items():
            table[base + mark] = _compose(base, CIRCUMFLEX, tone)
    for mark, tone in _VNI_BOWL.items():
        table["a" + mark] = _compose("a", BREVE, tone)
    return table


def _vni_table() -> dict[str, str]:
    lower = _vni_lower_table()
    return lower | {legacy.upper(): letter.upper() for legacy, letter in lower.items()}


VNI_TABLE: dict[str, str] = _vni_table()
_VNI_PATTERN = re.compile("|".join(re.escape(key) for key in sorted(VNI_TABLE, key=len, reverse=True)))


def decode_vni(text: str) -> str:
    """Replace every VNI sequence with its Unicode letter (no detection); NFC result."""
    return unicodedata.normalize("NFC", _VNI_PATTERN.sub(lambda match: VNI_TABLE[match.group()], text))


# ---------------------------------------------------------------- Vietnamese syllables

_INITIALS = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnpqrstvx])?"
# Vowel nuclei, longest first (semivowel finals -i -y -o -u belong to the nucleus here).
_NUCLEI = (
    "iêu", "yêu", "oai", "oay", "oao", "oeo", "uây", "uôi", "ươi", "ươu", "uya", "uyê", "uyu",
    "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "ôi", "ơi",
    "oo", "ua", "uâ", "uê", "ui", "uô", "uơ", "uy", "ưa", "ưi", "ươ", "ưu", "yê",
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y",
)  # fmt: skip
_FINALS = r"(?:ch|ng|nh|[cmnpt])?"
_SYLLABLE = re.compile(_INITIALS + "(" + "|".join(_NUCLEI) + ")" + "(" + _FINALS + ")")
_STOP_FINALS = frozenset({"c", "ch", "p", "t"})
_VOWELS = frozenset("aăâeêioôơuưy")


def _split_tones(word: str) -> tuple[str, list[str]]:
    """Lower-case toneless NFC form of ``word`` and the tone marks it carried."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = [char for char in decomposed if char in TONE_MARKS]
    bare = "".join(char for char in decomposed if char not in TONE_MARKS)
    return unicodedata.normalize("NFC", bare), tones


def is_vietnamese_syllable(word: str) -> bool:
    """Whether ``word`` is a well-formed Vietnamese syllable (initial, vowel nucleus, final, at most one tone).

    Checks spelling structure only, not the lexicon; stop finals (c, ch, p, t) admit only sắc or nặng.
    """
    bare, tones = _split_tones(word)
    if len(tones) > 1:
        return False
    match = _SYLLABLE.fullmatch(bare)
    if match is None:
        return False
    return not (match.group(2) in _STOP_FINALS and tones and tones[0] not in (ACUTE, DOT))


# ---------------------------------------------------------------- detection

# Latin-1 letters that are ordinary letters of Unicode Vietnamese: on their own they prove nothing.
_VIETNAMESE_LATIN1 = frozenset("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")


class _Encoding(NamedTuple):
    name: LegacyEncoding
    chars: frozenset[str]  # every character the encoding uses for Vietnamese letters or marks
    strong: frozenset[str]  # of those, the ones Unicode Vietnamese never uses as letters
    word: re.Pattern[str]
    decode: Callable[[str], str]
    orphan: Callable[[str], bool]  # whether a word holds a mark character with no letter to sit on


def _make_encoding(
    name: LegacyEncoding, chars: frozenset[str], decode: Callable[[str], str], orphan: Callable[[str], bool]
) -> _Encoding:
    word = re.compile(r"(?:[^\W_]|[" + re.escape("".join(sorted(chars))) + r"])+")
    return _Encoding(name, chars, chars - _VIETNAMESE_LATIN1, word, decode, orphan)


# VNI mark characters that are never a letter on their own (unlike ñ ô ö í ì æ ó ò î).
_VNI_MARKS = frozenset(key[1] for key in VNI_TABLE if len(key) == 2) - frozenset(_VNI_SINGLE) - frozenset("ÑÔÖÍÌÆÓÒÎ")


def _vni_orphan(word: str) -> bool:
    """A VNI mark left over once every sequence is matched (Unicode "sè" is not VNI: that would be "seø")."""
    return not _VNI_MARKS.isdisjoint(_VNI_PATTERN.sub("", word))


_TCVN3 = _make_encoding("TCVN3", frozenset(TCVN3_TABLE), decode_tcvn3, lambda word: False)
_VNI = _make_encoding("VNI", frozenset("".join(VNI_TABLE)) - frozenset("aeouyAEOUY"), decode_vni, _vni_orphan)
_ENCODINGS = (_TCVN3, _VNI)
_ANY_CHAR = _TCVN3.chars | _VNI.chars
_ANY_STRONG = _TCVN3.strong | _VNI.strong


class Evidence(NamedTuple):
    valid: int  # words with legacy characters that decode to a Vietnamese syllable
    invalid: int  # words with legacy characters that do not
    score: float  # 1 per valid word with a legacy character inside it, 0.5 when only at its start
    strong: float  # the part of the score from words holding a character Unicode Vietnamese never uses as a letter


def _foreign_letter(text: str, encoding: _Encoding) -> bool:
    """A non-ASCII letter (or combining mark) the encoding never produces: the text is something else."""
    return any(
        not char.isascii() and char not in encoding.chars and (char.isalpha() or unicodedata.combining(char))
        for char in text
    )


def _word_verdict(original: str, decoded: str, encoding: _Encoding) -> bool | None:
    """True/False for a legacy word that decodes to a syllable or not; None when it says nothing."""
    if encoding.chars.isdisjoint(original) or any(char.isdigit() for char in decoded):
        return None
    if encoding.orphan(original):
        return False
    bare, _ = _split_tones(decoded)
    if _VOWELS.isdisjoint(bare):
        return None  # an abbreviation such as "ĐVHC" or a lone "Đ"
    return is_vietnamese_syllable(decoded)


def evidence(text: str, encoding: _Encoding) -> Evidence:
    """Decode ``text`` word by word with ``encoding`` and count what the result looks like."""
    valid = invalid = 0
    score = strong = 0.0
    decode = encoding.decode
    for match in encoding.word.finditer(text):
        original = match.group()
        verdict = _word_verdict(original, decode(original), encoding)
        if verdict is None:
            continue
        if not verdict:
            invalid += 1
            continue
        valid += 1
        weight = 1.0 if not encoding.chars.isdisjoint(original[1:]) else 0.5
        score += weight
        strong += weight if not encoding.strong.isdisjoint(original) else 0.0
    return Evidence(valid, invalid, score, strong)


def _accepts(found: Evidence, *, trusted: bool) -> bool:
    if found.valid == 0 or found.score < 1.0:
        return False
    if found.invalid and (found.valid < 4 or found.invalid * 10 > found.valid + found.invalid):
        return False
    return trusted or found.strong >= 1.0


def _candidate_score(text: str, encoding: _Encoding, hint: LegacyEncoding | None) -> float:
    if _foreign_letter(text, encoding):
        return 0.0
    found = evidence(text, encoding)
    return found.score if _accepts(found, trusted=hint == encoding.name) else 0.0


def detect_legacy(text: str, *, hint: LegacyEncoding | None = None) -> LegacyEncoding | None:
    """The legacy encoding ``text`` was typed in, or None when it is (or may be) ordinary text.

    ``hint`` names an encoding already seen elsewhere in the same sheet or column: with it, words whose
    only legacy characters are also ordinary Vietnamese letters (VNI ``"Sôn La"``) are accepted too.
    """
    if text.isascii() or _ANY_CHAR.isdisjoint(text):
        return None
    if hint is None and _ANY_STRONG.isdisjoint(text):
        return None
    return _detect_candidates(text, hint)


@lru_cache(maxsize=1 << 16)
def _detect_candidates(text: str, hint: LegacyEncoding | None) -> LegacyEncoding | None:
    """The slow path, cached: report cells repeat (commune names, grade labels) across rows and files."""
    scores = {encoding.name: _candidate_score(text, encoding, hint) for encoding in _ENCODINGS}
    best = max(scores, key=lambda name: scores[name])
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] == 0.0:
        return None
    if ranked[0] == ranked[1]:
        # Both decode to valid Vietnamese: only the encoding seen elsewhere in the sheet can break the tie.
        return hint if hint is not None and scores[hint] == ranked[0] else None
    return best


def _restore_capitals(original: str, decoded: str) -> str:
    """TCVN3 has no toned capitals: an all-capitals original ("§¶NG Bé HUYÖN") is upper-cased whole."""
    ascii_letters = [char for char in original if char.isascii() and char.isalpha()]
    if len(ascii_letters) >= 2 and all(char.isupper() for char in ascii_letters):
        return decoded.upper()
    return decoded


def repair_text(text: str, *, hint: LegacyEncoding | None = None) -> tuple[str, LegacyEncoding | None]:
    """``text`` as NFC Unicode, converted from TCVN3 or VNI when detected, and the encoding repaired (or None)."""
    encoding = detect_legacy(text, hint=hint)
    if encoding == "TCVN3":
        return _restore_capitals(text, decode_tcvn3(text)), encoding
    if encoding == "VNI":
        return decode_vni(text), encoding
    return unicodedata.normalize("NFC", text), None
