"""Legacy Vietnamese font text (TCVN3 / VNI) is detected and repaired; ordinary text is left alone.

The encoders below are test helpers written independently of ``reading.legacy_text``: TCVN3 as two
parallel literal strings, VNI from the Unicode decomposition of each letter.
"""

from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reading.legacy_text import (
    TCVN3_TABLE,
    VNI_TABLE,
    decode_tcvn3,
    decode_vni,
    detect_legacy,
    is_vietnamese_syllable,
    repair_text,
)

# ---------------------------------------------------------------- independent encoders

# Unicode letters and their TCVN3 characters, position by position (UniKey VnConv, "TCVN3").
UNICODE_LETTERS = (
    "áàảãạ" "ắằẳẵặ" "ấầẩẫậ" "éèẻẽẹ" "ếềểễệ" "íìỉĩị" "óòỏõọ" "ốồổỗộ" "ớờởỡợ" "úùủũụ" "ứừửữự" "ýỳỷỹỵ"
    "ăâêôơưđ" "ĂÂÊÔƠƯĐ"
)  # fmt: skip
TCVN3_CHARS = (
    "¸µ¶·¹" "¾»¼½Æ" "ÊÇÈÉË" "ÐÌÎÏÑ" "ÕÒÓÔÖ" "Ý×ØÜÞ" "ãßáâä" "èåæçé" "íêëìî" "óïñòô" "øõö÷ù" "ýúûüþ"
    "¨©ª«¬\u00ad®" "¡¢£¤¥¦§"
)  # fmt: skip
TO_TCVN3 = dict(zip(UNICODE_LETTERS, TCVN3_CHARS, strict=True))

ACUTE, GRAVE, HOOK, TILDE, DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
CIRCUMFLEX, BREVE, HORN = "\u0302", "\u0306", "\u031b"
VNI_PLAIN = {None: "", ACUTE: "ù", GRAVE: "ø", HOOK: "û", TILDE: "õ", DOT: "ï"}
VNI_HAT = {None: "â", ACUTE: "á", GRAVE: "à", HOOK: "å", TILDE: "ã", DOT: "ä"}
VNI_BOWL = {None: "ê", ACUTE: "é", GRAVE: "è", HOOK: "ú", TILDE: "ü", DOT: "ë"}
VNI_I = {None: "i", ACUTE: "í", GRAVE: "ì", HOOK: "æ", TILDE: "ó", DOT: "ò"}


def to_tcvn3(text: str) -> str:
    """Lower-case toned letters only: TCVN3 has no toned capitals."""
    return "".join(TO_TCVN3.get(char, char) for char in unicodedata.normalize("NFC", text))


def vni_letter(char: str) -> str:
    if char in "đĐ":
        return "ñ" if char == "đ" else "Ñ"
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0].lower(), decomposed[1:]
    if base not in "aeiouy":
        return char
    tone = next((mark for mark in marks if mark in (ACUTE, GRAVE, HOOK, TILDE, DOT)), None)
    if base == "i":
        encoded = VNI_I[tone]
    elif base == "y" and tone == DOT:
        encoded = "î"
    elif CIRCUMFLEX in marks:
        encoded = base + VNI_HAT[tone]
    elif BREVE in marks:
        encoded = base + VNI_BOWL[tone]
    elif HORN in marks:
        encoded = {"o": "ô", "u": "ö"}[base] + VNI_PLAIN[tone]
    else:
        encoded = base + VNI_PLAIN[tone]
    return encoded.upper() if decomposed[0].isupper() else encoded


def to_vni(text: str) -> str:
    return "".join(vni_letter(char) for char in unicodedata.normalize("NFC", text))


# ---------------------------------------------------------------- data

REAL_STRINGS = [
    "Đảng bộ huyện Mường Khương",
    "Bản Lầu",
    "Xã Bản Lầu",
    "Hoàn thành xuất sắc nhiệm vụ",
    "Hoàn thành tốt nhiệm vụ",
    "Không hoàn thành nhiệm vụ",
    "Trong sạch vững mạnh",
    "Lào Cai",
    "Điện Biên",
    "Tổ dân phố số 3",
    "Chi bộ thôn Khe Đền",
    "Nguyễn Thị Hương",
    "Hà Giang",
    "Đảng viên mới kết nạp",
    "Thị trấn Mường Khương",
    "Chi bộ trường Tiểu học số 1",
    "Huyện ủy Bắc Hà",
]

# Typed by hand from the charts, not produced by the helpers above.
LITERAL_TCVN3 = {
    "§¶ng bé huyÖn M\u00adêng Kh\u00ad¬ng": "Đảng bộ huyện Mường Khương",
    "Hoµn thµnh tèt nhiÖm vô": "Hoàn thành tốt nhiệm vụ",
    "Hoµn thµnh xuÊt s¾c nhiÖm vô": "Hoàn thành xuất sắc nhiệm vụ",
    "Trong s¹ch v÷ng m¹nh": "Trong sạch vững mạnh",
    "B¶n LÇu": "Bản Lầu",
    "S¬n La": "Sơn La",
    "NguyÔn ThÞ H\u00ad¬ng": "Nguyễn Thị Hương",
    "Tæng sè: 1.234": "Tổng số: 1.234",
    "Sè 12/BC-§U ngµy 3/4/2024": "Số 12/BC-ĐU ngày 3/4/2024",
    "§¶NG Bé HUYÖN M¦êNG KH¦¥NG": "ĐẢNG BỘ HUYỆN MƯỜNG KHƯƠNG",
}
LITERAL_VNI = {
    "Ñaûng boä huyeän Möôøng Khöông": "Đảng bộ huyện Mường Khương",
    "Hoaøn thaønh xuaát saéc nhieäm vuï": "Hoàn thành xuất sắc nhiệm vụ",
    "Trong saïch vöõng maïnh": "Trong sạch vững mạnh",
    "Toå daân phoá soá 3": "Tổ dân phố số 3",
    "Chi boä thoân Khe Ñeàn": "Chi bộ thôn Khe Đền",
    "Nguyeãn Thò Höông": "Nguyễn Thị Hương",
    "ÑAÛNG BOÄ HUYEÄN": "ĐẢNG BỘ HUYỆN",
    "Ñaø Naüng": "Đà Nẵng",
    "TP. Laøo Cai (tænh Laøo Cai)": "TP. Lào Cai (tỉnh Lào Cai)",
}

UNTOUCHED = [
    "",
    "MK01",
    "a@b.vn",
    "3.792",
    "25°C",
    "Café",
    "Hello world",
    "Đảng bộ huyện Mường Khương",
    "Hoàn thành tốt nhiệm vụ",
    "Tân Hà",
    "Có",
    "§",
    "§ 3",
    "µ",
    "5 µm",
    "µm",
    "°",
    "© 2024 Sở Nội vụ",
    "® ",
    "¾ ha",
    "Giá: 100 £",
    "Cao Bang · Lang Son",
    "«Hoan thanh»",
    "10×20",
    "Müller",
    "señor",
    "Jørgen Ørsted",
    "São Paulo",
    "Noël à Paris",
    "Mädchen für alles",
    "Björk Göteborg",
    "Zürich",
    "crème brûlée",
    "naïve",
    "Ñu",
    "µg/l",
    "DS_01 · 2024",
]


# ---------------------------------------------------------------- tables


def test_tcvn3_table_matches_the_chart() -> None:
    assert {legacy: letter for letter, legacy in TO_TCVN3.items()} == TCVN3_TABLE


def test_vni_table_covers_all_134_letters_once() -> None:
    letters = set(UNICODE_LETTERS) | {letter.upper() for letter in UNICODE_LETTERS}
    assert len(letters) == 134
    assert len(VNI_TABLE) == len(set(VNI_TABLE.values())) == 134  # í ì Í Ì map to themselves
    for letter in letters:
        assert decode_vni(to_vni(letter)) == letter


def test_every_tcvn3_letter_decodes() -> None:
    for letter in UNICODE_LETTERS:
        assert decode_tcvn3(to_tcvn3(letter)) == letter


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("legacy,expected", LITERAL_TCVN3.items())
def test_literal_tcvn3(legacy: str, expected: str) -> None:
    assert repair_text(legacy) == (expected, "TCVN3")


@pytest.mark.parametrize("legacy,expected", LITERAL_VNI.items())
def test_literal_vni(legacy: str, expected: str) -> None:
    assert repair_text(legacy) == (expected, "VNI")


@pytest.mark.parametrize("text", REAL_STRINGS)
def test_tcvn3_round_trip(text: str) -> None:
    legacy = to_tcvn3(text)
    # TCVN3 keeps capitals only for the seven base letters; toned capitals come back lower-case.
    expected = "".join(char if char in "ĂÂÊÔƠƯĐ" or char.isascii() else char.lower() for char in text)
    assert repair_text(legacy) == (expected, "TCVN3")


@pytest.mark.parametrize("text", REAL_STRINGS)
def test_vni_round_trip(text: str) -> None:
    assert repair_text(to_vni(text)) == (text, "VNI")


@pytest.mark.parametrize("text", ["Sơn La", "Thôn Mới", "Cô Tô"])
def test_weak_only_vni_needs_a_hint(text: str) -> None:
    """VNI "Sôn La" is also plausible Unicode: only a column-level hint decides it."""
    legacy = to_vni(text)
    assert repair_text(legacy)[1] is None
    assert repair_text(legacy, hint="VNI") == (text, "VNI")


# ---------------------------------------------------------------- negatives


@pytest.mark.parametrize("text", UNTOUCHED)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert detect_legacy(text) is None
    assert repair_text(text) == (unicodedata.normalize("NFC", text), None)


def test_decomposed_unicode_is_composed_not_converted() -> None:
    decomposed = unicodedata.normalize("NFD", "Đảng bộ huyện Mường Khương")
    assert repair_text(decomposed) == ("Đảng bộ huyện Mường Khương", None)


def test_orphan_vni_mark_is_not_vni() -> None:
    """Unicode "sè" decodes to itself under VNI, but real VNI would have written "seø"."""
    assert detect_legacy("Tæng sè") == "TCVN3"


def test_hint_does_not_convert_unicode_with_vietnamese_only_letters() -> None:
    assert repair_text("Hoàn thành tốt nhiệm vụ", hint="VNI") == ("Hoàn thành tốt nhiệm vụ", None)
    assert repair_text("Đảng bộ Bắc Hà", hint="TCVN3") == ("Đảng bộ Bắc Hà", None)


VIETNAMESE_LETTERS = sorted(set(UNICODE_LETTERS) | {char.upper() for char in UNICODE_LETTERS} | set("àáâãèéêìíòóôõùúý"))


@given(st.text(alphabet=st.sampled_from([chr(code) for code in range(32, 127)] + VIETNAMESE_LETTERS), max_size=40))
def test_unicode_vietnamese_never_detected(text: str) -> None:
    assert detect_legacy(text) is None


# ---------------------------------------------------------------- syllables and speed


@pytest.mark.parametrize("word", ["nghiêng", "quốc", "giữa", "gì", "khuya", "Mường", "xuất", "oẳn", "ĐẢNG"])
def test_valid_syllables(word: str) -> None:
    assert is_vietnamese_syllable(word)


@pytest.mark.parametrize("word", ["cafộ", "àg", "sàch", "mọdchen", "hồá", "ngg", "đvhc"])
def test_invalid_syllables(word: str) -> None:
    assert not is_vietnamese_syllable(word)


def test_unicode_cells_take_the_fast_path() -> None:
    cells = ["Đảng bộ huyện Mường Khương", "Hoàn thành tốt nhiệm vụ", "MK01", "3.792", "Nguyễn Thị Hương"] * 4000
    started = time.perf_counter()
    for cell in cells:
        repair_text(cell)
    assert time.perf_counter() - started < 1.0  # about 10 ms on a laptop; generous for CI
