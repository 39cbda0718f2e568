"""Resolve a submitting committee to an official administrative unit, on either side of the 2025 reform.

On 1 July 2025 Vietnam went from 63 provinces to 34, abolished the district level and merged the
communes into 3,321. Codes were reused with new meanings (the new Lào Cai carries code 15, which was
Yên Bái's), so a unit is only identified by its era together with its level and code: see
``Unit.key``. Reports up to the 2024 round come from district committees (units of the
``pre-2025`` era), from the 2025 round on from commune-level committees (``2025+`` era).

The catalogue comes from the ``vietnamadminunits`` package (offline SQLite shipped in the wheel, see
``docs/administrative-units.md``). Its pre-2025 tables are a snapshot of the last state before the
reform (the 696 district-level units of 2025), not a history since 2008. Indexes are built once per
process; resolving a name or code afterwards is a few dictionary look-ups.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from functools import cache
from typing import Final, Literal

from units.keys import unit_key

Era = Literal["pre-2025", "2025+"]
Level = Literal["province", "district", "commune"]
Status = Literal["resolved", "unknown", "ambiguous"]

PRE_REFORM: Final[Era] = "pre-2025"
POST_REFORM: Final[Era] = "2025+"
REFORM_DAY: Final = date(2025, 7, 1)  # Resolution 202/2025/QH15 takes effect: the one definition of the reform
# Reports describe the units as at 31 December: from the round of the reform's year on, the new units.
FIRST_POST_REFORM_YEAR: Final = REFORM_DAY.year
MAX_CANDIDATES: Final = 5
_MIN_SIMILARITY_NATIONWIDE: Final = 0.5  # within a province the closest units are listed whatever their score


@dataclass(frozen=True)
class Unit:
    """An official administrative unit valid in a given era."""

    era: Era
    level: Level
    code: str  # official code as the package gives it: "10", "083", "02761"
    name: str  # official name with its prefix, e.g. "Huyện Mường Khương"
    short_name: str  # without prefix, e.g. "Mường Khương"
    province_code: str
    province_name: str  # short, e.g. "Lào Cai"
    key: str  # "pre-2025:district:083": never confuses a reused code


@dataclass(frozen=True)
class Resolution:
    status: Status
    unit: Unit | None
    candidates: tuple[Unit, ...]  # closest candidates (at most 5) when not resolved, best first
    message_vi: str | None  # explanation for staff when not resolved


# --------------------------------------------------------------------------- text normalisation

_OLD_STYLE_TONES: Final = {
    "oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}  # fmt: skip
_WORD = re.compile(r"\w+")


def _new_style_tone(word: str) -> str:
    """'hoà' → 'hòa', 'thuỷ' → 'thủy' (tone on the first vowel of a final oa/oe/uy), leaving 'quý' alone."""
    ending = word[-2:]
    if ending in _OLD_STYLE_TONES and not word[:-2].endswith("q"):
        return word[:-2] + _OLD_STYLE_TONES[ending]
    return word


def _fold(word: str) -> str:
    """Drop diacritics: 'đường' → 'duong'."""
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _words(text: str) -> tuple[str, ...]:
    """Lower-case NFC words with the tone mark in one style; punctuation and spacing dropped."""
    return tuple(_new_style_tone(word) for word in _WORD.findall(unicodedata.normalize("NFC", text).lower()))


def folded_key(text: str) -> str:
    """Key that ignores case, spacing, punctuation and diacritics: 'Mường  Khương' → 'muongkhuong'."""
    return "".join(_fold(word) for word in _words(text))


def _accented_key(text: str) -> str:
    return "".join(_words(text))


# --------------------------------------------------------------------------- prefixes

# folded prefix words → the unit type it announces (None: a party-organ word that says nothing of the type)
_UNIT_PREFIXES: Final[Mapping[tuple[str, ...], str | None]] = {
    ("dang", "bo"): None,
    ("dang", "uy"): None,
    ("ban", "chap", "hanh"): None,
    ("bch",): None,
    ("huyen", "uy"): "huyện",
    ("quan", "uy"): "quận",
    ("thi", "uy"): "thị xã",
    ("thanh", "uy"): "thành phố",
    ("dac", "khu", "uy"): "đặc khu",
    ("huyen",): "huyện",
    ("h",): "huyện",
    ("quan",): "quận",
    ("q",): "quận",
    ("thi", "xa"): "thị xã",
    ("tx",): "thị xã",
    ("thanh", "pho"): "thành phố",
    ("tp",): "thành phố",
    ("thi", "tran"): "thị trấn",
    ("tt",): "thị trấn",
    ("xa",): "xã",
    ("x",): "xã",
    ("phuong",): "phường",
    ("p",): "phường",
    ("dac", "khu"): "đặc khu",
}
_PROVINCE_PREFIXES: Final[Mapping[tuple[str, ...], str | None]] = {
    ("tinh",): "tỉnh",
    ("t",): "tỉnh",
    ("thanh", "pho"): "thành phố",
    ("tp",): "thành phố",
}
_UNIT_TYPES: Final = ("thành phố", "thị xã", "thị trấn", "huyện", "quận", "phường", "xã", "đặc khu", "tỉnh")
_ERA_TYPES: Final[Mapping[Era, frozenset[str]]] = {
    PRE_REFORM: frozenset({"huyện", "quận", "thị xã", "thành phố"}),
    POST_REFORM: frozenset({"xã", "phường", "đặc khu"}),
}


@dataclass(frozen=True)
class _Stage:
    """The input with its first prefixes removed: least stripped first."""

    folded: str
    accented: str
    unit_type: str | None  # the type announced by the last prefix removed


def _stages(text: str, prefixes: Mapping[tuple[str, ...], str | None]) -> tuple[_Stage, ...]:
    words = _words(text)
    folded = tuple(_fold(word) for word in words)
    ordered = sorted(prefixes, key=len, reverse=True)
    stages = [_Stage("".join(folded), "".join(words), None)]
    start, unit_type = 0, None
    while True:
        prefix = next(
            (p for p in ordered if folded[start : start + len(p)] == p and start + len(p) < len(folded)), None
        )
        if prefix is None:
            return tuple(stages)
        start += len(prefix)
        unit_type = prefixes[prefix] or unit_type
        stages.append(_Stage("".join(folded[start:]), "".join(words[start:]), unit_type))


def _split_type(name: str) -> tuple[str, str]:
    """'Thị Xã Mường Lay' → ('thị xã', 'Mường Lay'); the package writes some prefixes in title case."""
    normalised = " ".join(unicodedata.normalize("NFC", name).split())
    for unit_type in _UNIT_TYPES:
        if normalised.lower().startswith(unit_type + " "):
            return unit_type, normalised[len(unit_type) + 1 :]
    return "", normalised


def _official_name(unit_type: str, rest: str) -> str:
    return f"{unit_type.capitalize()} {rest}" if unit_type else rest


def _short_name(unit_type: str, rest: str) -> str:
    """Short name without the prefix, except for numbered units ('Quận 1'), which have no other name."""
    return _official_name(unit_type, rest) if rest.isdigit() else rest


# --------------------------------------------------------------------------- catalogue


def era_for_year(report_year: int) -> Era:
    """Reports up to the 2024 round describe pre-reform units, from the 2025 round the new ones."""
    return POST_REFORM if report_year >= FIRST_POST_REFORM_YEAR else PRE_REFORM


def _table(era: Era) -> str:
    return "admin_units_legacy" if era == PRE_REFORM else "admin_units"


@cache
def _query(sql: str) -> tuple[dict[str, object], ...]:
    from vietnamadminunits.database import query  # the import loads the package's parsers: once, lazily

    return tuple(query(sql))


def _text(row: Mapping[str, object], column: str) -> str:
    value = row[column]
    return "" if value is None else str(value)


def _province_unit(era: Era, row: Mapping[str, object]) -> Unit:
    code, short = _text(row, "provinceCode"), _text(row, "provinceShort")
    unit_type, rest = _split_type(_text(row, "province"))
    return Unit(
        era, "province", code, _official_name(unit_type, rest), short, code, short, unit_key(era, "province", code)
    )


def _sub_unit(era: Era, row: Mapping[str, object], provinces: Mapping[str, Unit]) -> tuple[Unit, str]:
    level: Level = "district" if era == PRE_REFORM else "commune"
    column = "district" if level == "district" else "ward"
    code = _text(row, f"{column}Code")
    unit_type, rest = _split_type(_text(row, column))
    province = provinces[_text(row, "provinceCode")]
    unit = Unit(
        era,
        level,
        code,
        _official_name(unit_type, rest),
        _short_name(unit_type, rest),
        province.code,
        province.short_name,
        unit_key(era, level, code),
    )
    return unit, unit_type


@dataclass(frozen=True)
class _ProvinceIndex:
    by_code: Mapping[str, Unit]
    by_name: Mapping[str, Unit]


@dataclass(frozen=True)
class _UnitIndex:
    era: Era
    units: tuple[Unit, ...]
    by_code: Mapping[str, Unit]
    by_name: Mapping[str, tuple[Unit, ...]]  # folded short and full names
    by_province: Mapping[str, tuple[Unit, ...]]
    accented: Mapping[str, frozenset[str]]  # unit key → accented short and full names
    unit_type: Mapping[str, str]  # unit key → "huyện", "xã", ...
    folded_short: Mapping[str, str]  # unit key → folded short name


# Names the warehouse meets that the package does not list as keywords (folded, no spaces).
_EXTRA_PROVINCE_ALIASES: Final[Mapping[Era, Mapping[str, str]]] = {
    PRE_REFORM: {"thuathienhue": "46", "tphcm": "79", "saigon": "79", "brvt": "77"},
    POST_REFORM: {"tphcm": "79", "saigon": "79"},
}


def _keywords(row: Mapping[str, object]) -> tuple[str, ...]:
    raw = _text(row, "provinceKeywords")
    return tuple(re.findall(r'"([a-z0-9]+)"', raw))


@cache
def _province_index(era: Era) -> _ProvinceIndex:
    rows = _query(f"SELECT DISTINCT provinceCode, province, provinceShort, provinceKeywords FROM [{_table(era)}]")
    by_code = {unit.code: unit for unit in (_province_unit(era, row) for row in rows)}
    by_name: dict[str, Unit] = {}
    for row in rows:
        unit = by_code[_text(row, "provinceCode")]
        for name in (folded_key(unit.name), folded_key(unit.short_name), *_keywords(row)):
            by_name.setdefault(name, unit)
    for alias, code in _EXTRA_PROVINCE_ALIASES[era].items():
        by_name.setdefault(alias, by_code[code])
    return _ProvinceIndex(by_code, by_name)


def _group(pairs: Iterable[tuple[str, Unit]]) -> dict[str, tuple[Unit, ...]]:
    grouped: defaultdict[str, list[Unit]] = defaultdict(list)
    for name, unit in pairs:
        if unit not in grouped[name]:
            grouped[name].append(unit)
    return {name: tuple(units) for name, units in grouped.items()}


@cache
def _unit_index(era: Era) -> _UnitIndex:
    column = "district" if era == PRE_REFORM else "ward"
    rows = _query(
        f"SELECT DISTINCT {column}Code, {column}, provinceCode FROM [{_table(era)}] "
        f"WHERE {column}Code IS NOT NULL ORDER BY provinceCode, {column}Code"
    )
    provinces = _province_index(era).by_code
    typed = [_sub_unit(era, row, provinces) for row in rows]
    units = tuple(unit for unit, _ in typed)
    return _UnitIndex(
        era=era,
        units=units,
        by_code={unit.code: unit for unit in units},
        by_name=_group((key, unit) for unit in units for key in (folded_key(unit.short_name), folded_key(unit.name))),
        by_province=_group((unit.province_code, unit) for unit in units),
        accented={unit.key: frozenset({_accented_key(unit.short_name), _accented_key(unit.name)}) for unit in units},
        unit_type={unit.key: unit_type for unit, unit_type in typed},
        folded_short={unit.key: folded_key(unit.short_name) for unit in units},
    )


def warm_up() -> None:
    """Build every index now rather than on the first look-up (a second or so)."""
    for era in (PRE_REFORM, POST_REFORM):
        _unit_index(era)


# --------------------------------------------------------------------------- look-ups


def _normalise_code(code: str, width: int) -> str | None:
    """'83', '083', '83.0' (a spreadsheet number) → '083'; anything else → None."""
    match = re.fullmatch(r"(\d+)(?:\.0+)?", code.strip())
    if match is None or len(match.group(1).lstrip("0")) > width:
        return None
    return match.group(1).lstrip("0").zfill(width)


def resolve_province(name_or_code: str, report_year: int) -> Unit | None:
    """The province of that report year's era: 'Lào Cai' is code 10 up to 2024 and code 15 from 2025."""
    index = _province_index(era_for_year(report_year))
    code = _normalise_code(name_or_code, 2)
    if code is not None:
        return index.by_code.get(code)
    for stage in _stages(name_or_code, _PROVINCE_PREFIXES):
        if stage.folded in index.by_name:
            return index.by_name[stage.folded]
    return None


def _prefer(units: tuple[Unit, ...], stage: _Stage, index: _UnitIndex) -> tuple[Unit, ...]:
    """Narrow several matches by the announced type, then by the exact diacritics."""
    if stage.unit_type is not None:
        typed = tuple(unit for unit in units if index.unit_type[unit.key] == stage.unit_type)
        units = typed or units
    exact = tuple(unit for unit in units if stage.accented in index.accented[unit.key])
    return exact or units


def _in_province(units: Iterable[Unit], province: Unit | None) -> tuple[Unit, ...]:
    return tuple(unit for unit in units if province is None or unit.province_code == province.code)


@dataclass(frozen=True)
class _NameMatch:
    units: tuple[Unit, ...]  # matches of an acceptable type, best first
    wrong_level: tuple[Unit, ...]  # same name, but the input named a type this era has no committees of
    stages: tuple[_Stage, ...]


def _match_name(name: str, index: _UnitIndex, province: Unit | None) -> _NameMatch:
    stages = _stages(name, _UNIT_PREFIXES)
    wrong_level: tuple[Unit, ...] = ()
    for stage in stages:
        hits = _in_province(index.by_name.get(stage.folded, ()), province)
        if not hits:
            continue
        if stage.unit_type is not None and stage.unit_type not in _ERA_TYPES[index.era]:
            wrong_level = wrong_level or hits
            continue
        return _NameMatch(_prefer(hits, stage, index), (), stages)
    return _NameMatch((), wrong_level, stages)


def _similarity(typed: str, candidate: str, cutoff: float) -> float:
    """difflib's ratio of two folded names, or 0 when its cheap upper bounds are already under the cutoff."""
    matcher = SequenceMatcher(None, typed, candidate)
    if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
        return 0.0
    return matcher.ratio()


def _closest(stages: tuple[_Stage, ...], index: _UnitIndex, province: Unit | None) -> tuple[Unit, ...]:
    """The closest units to the name without its prefixes (difflib on folded short names), best first.

    The name is compared with and without its last prefix: 'Xã Quan Sơnn' must still find Quan Sơn.
    """
    pool = index.by_province.get(province.code, ()) if province is not None else index.units
    cutoff = 0.0 if province is not None else _MIN_SIMILARITY_NATIONWIDE
    typed = {stage.folded for stage in stages[-2:]}
    scored = sorted(
        ((max(_similarity(text, index.folded_short[unit.key], cutoff) for text in typed), unit) for unit in pool),
        key=lambda pair: (-pair[0], pair[1].name),
    )
    return tuple(unit for score, unit in scored[:MAX_CANDIDATES] if score > 0 and score >= cutoff)


def _first(units: Iterable[Unit], limit: int = MAX_CANDIDATES) -> tuple[Unit, ...]:
    unique: list[Unit] = []
    for unit in units:
        if unit not in unique:
            unique.append(unit)
    return tuple(unique[:limit])


# --------------------------------------------------------------------------- messages


def _in_text(name: str) -> str:
    """'Tỉnh Lào Cai' → 'tỉnh Lào Cai', as written inside a sentence."""
    return name[:1].lower() + name[1:]


def _label(unit: Unit) -> str:
    province = _province_index(unit.era).by_code[unit.province_code]
    return unit.name if unit.level == "province" else f"{unit.name} ({_in_text(province.name)})"


def _listing(units: tuple[Unit, ...], total: int | None = None) -> str:
    text = "; ".join(_label(unit) for unit in units)
    more = (total or len(units)) - len(units)
    return f"{text} và {more} đơn vị khác" if more > 0 else text


def _era_phrase(era: Era, report_year: int) -> str:
    if era == PRE_REFORM:
        return f"kỳ báo cáo {report_year} (đơn vị cấp huyện trước ngày 01/07/2025)"
    return f"kỳ báo cáo {report_year} (đơn vị cấp xã, phường, đặc khu từ ngày 01/07/2025)"


def _scope_phrase(province: Unit | None) -> str:
    return f" thuộc {_in_text(province.name)}" if province is not None else ""


def _suggestion(candidates: tuple[Unit, ...]) -> str:
    return f" Có phải là: {_listing(candidates)}?" if candidates else ""


def _unknown(message: str, candidates: tuple[Unit, ...]) -> Resolution:
    return Resolution("unknown", None, candidates, message + _suggestion(candidates))


def _ambiguous(message: str, units: tuple[Unit, ...]) -> Resolution:
    return Resolution("ambiguous", None, _first(units), message)


@cache
def _successor_province(old_province: Unit) -> Unit | None:
    """The 2025+ province an abolished province was merged into (the package's converter, offline for provinces)."""
    from vietnamadminunits import convert_address

    converted = convert_address(old_province.name)
    return _province_index(POST_REFORM).by_code.get(str(converted.province_code or ""))


def _unknown_province(province: str, era: Era, report_year: int) -> Resolution:
    message = f"Không tìm thấy tỉnh, thành phố '{province}' trong danh mục của {_era_phrase(era, report_year)}."
    candidates: tuple[Unit, ...] = ()
    if era == POST_REFORM and (old := resolve_province(province, FIRST_POST_REFORM_YEAR - 1)) is not None:
        successor = _successor_province(old)
        if successor is not None:
            message += (
                f" {old.name} không còn từ ngày 01/07/2025: nay thuộc {_in_text(successor.name)} (mã {successor.code})."
            )
            candidates = (successor,)
    return _unknown(message, candidates)


def _other_era_hint(name: str, era: Era, province: Unit | None) -> str:
    """Say so when the name is a unit of the other era: a district in a 2025 report, or the reverse."""
    other: Era = PRE_REFORM if era == POST_REFORM else POST_REFORM
    year_of_other = FIRST_POST_REFORM_YEAR - 1 if other == PRE_REFORM else FIRST_POST_REFORM_YEAR
    other_province = resolve_province(province.short_name, year_of_other) if province else None
    if province is not None and other_province is None:
        return ""
    units = _match_name(name, _unit_index(other), other_province).units
    if not units:
        return ""
    if era == POST_REFORM:
        return (
            f" '{name}' là đơn vị cấp huyện đã giải thể ({_label(units[0])}): từ kỳ báo cáo 2025 báo cáo do"
            " Đảng ủy xã, phường, đặc khu gửi."
        )
    return f" '{name}' là đơn vị cấp xã chỉ có từ ngày 01/07/2025 ({_label(units[0])})."


# --------------------------------------------------------------------------- committees


def _resolve_by_name(name: str, index: _UnitIndex, province: Unit | None, report_year: int) -> Resolution:
    found = _match_name(name, index, province)
    if len(found.units) == 1:
        return Resolution("resolved", found.units[0], (), None)
    if found.units:
        message = (
            f"Tên '{name}' khớp với {len(found.units)} đơn vị{_scope_phrase(province)}: "
            f"{_listing(found.units[:MAX_CANDIDATES], len(found.units))}. "
            "Hãy ghi rõ tỉnh, loại đơn vị (xã/phường...), tên có dấu đầy đủ hoặc mã đơn vị."
        )
        return _ambiguous(message, found.units)
    candidates = _first((*found.wrong_level, *_closest(found.stages, index, province)))
    message = (
        f"Không tìm thấy '{name}'{_scope_phrase(province)} trong danh mục của {_era_phrase(index.era, report_year)}."
    )
    return _unknown(message + _other_era_hint(name, index.era, province), candidates)


def _code_conflict(code: str, by_code: Unit, name: str, by_name: tuple[Unit, ...]) -> Resolution:
    message = (
        f"Mã '{code}' là {_label(by_code)}, nhưng tên '{name}' lại là {_listing(by_name)}. "
        "Hãy kiểm tra lại mã hoặc tên đơn vị."
    )
    return _ambiguous(message, (by_code, *by_name))


def _resolve_by_code(
    code: str, name: str | None, index: _UnitIndex, province: Unit | None, report_year: int
) -> Resolution | None:
    """The unit a code names, if consistent with the province and the name; None to fall back to the name."""
    normalised = _normalise_code(code, 3 if index.era == PRE_REFORM else 5)
    unit = index.by_code.get(normalised) if normalised else None
    if unit is None or (province is not None and unit.province_code != province.code):
        if name:
            return None
        where = f"không thuộc {_in_text(province.name)}" if unit is not None and province else "không có trong danh mục"
        message = f"Mã đơn vị '{code}' {where} của {_era_phrase(index.era, report_year)}."
        return _unknown(message, (unit,) if unit is not None else ())
    if name:
        named = _match_name(name, index, province).units
        if named and unit not in named:
            return _code_conflict(code, unit, name, named)
    return Resolution("resolved", unit, (), None)


def resolve_committee(
    province: str | None, committee_name: str | None, committee_code: str | None, report_year: int
) -> Resolution:
    """The district (reports up to 2024) or commune-level unit (from 2025) a committee's report comes from.

    The code wins when it is consistent with the province and the name; otherwise the name decides,
    whatever its prefixes ('Đảng bộ huyện', 'H.', 'TP.', 'Đảng ủy xã'...), case, spacing or diacritics.
    """
    era = era_for_year(report_year)
    index = _unit_index(era)
    scope: Unit | None = None
    if province and province.strip():
        scope = resolve_province(province, report_year)
        if scope is None:
            return _unknown_province(province, era, report_year)
    name = committee_name.strip() if committee_name and committee_name.strip() else None
    if committee_code and committee_code.strip():
        by_code = _resolve_by_code(committee_code, name, index, scope, report_year)
        if by_code is not None:
            return by_code
    if name is None:
        return Resolution("unknown", None, (), "Báo cáo thiếu cả tên và mã đơn vị gửi báo cáo.")
    return _resolve_by_name(name, index, scope, report_year)


# --------------------------------------------------------------------------- units of a province


def units_of_province(province: str, report_year: int) -> tuple[Unit, ...]:
    """The units whose committees report for that year: a province's districts up to the 2024 round,
    its commune-level units (xã, phường, đặc khu) from the 2025 round, ordered by code.

    Raises ``LookupError`` when the province does not exist in that year's era (a typo, or a province
    abolished by the 2025 reform, such as Yên Bái for 2025).
    """
    scope = resolve_province(province, report_year)
    if scope is None:
        raise LookupError(f"Không tìm thấy tỉnh, thành phố '{province}' trong danh mục năm báo cáo {report_year}.")
    return _unit_index(era_for_year(report_year)).by_province.get(scope.code, ())
