"""The registry of committees directly under a province that are not administrative units."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from contract.model import fold
from units.admin_units import Resolution, Unit, era_for_year, resolve_province
from units.keys import direct_key

REGISTRY_PATH = Path(__file__).with_name("direct_committees.yaml")
COMMITTEE_WORDS = ("dang bo ", "dang uy ")


@dataclass(frozen=True)
class DirectCommittee:
    code: str
    name: str
    spellings: frozenset[str]


def _entry(raw: dict) -> DirectCommittee:
    names = [raw["name"], *raw.get("aliases", ())]
    return DirectCommittee(raw["code"], raw["name"], frozenset(strip_committee_words(fold(n)) for n in names))


def strip_committee_words(folded: str) -> str:
    for word in COMMITTEE_WORDS:
        folded = folded.removeprefix(word)
    return folded


@cache
def registry() -> tuple[tuple[DirectCommittee, ...], dict[str, tuple[DirectCommittee, ...]]]:
    document = yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))
    generic = tuple(_entry(raw) for raw in document.get("generic", ()))
    by_province = {
        fold(p): tuple(_entry(raw) for raw in entries) for p, entries in (document.get("provinces") or {}).items()
    }
    return generic, by_province


def resolve_direct(province: str | None, committee_name: str | None, report_year: int) -> Resolution | None:
    """The registry entry a committee name matches in its province, as a resolved unit; None when none does."""
    if not province or not committee_name:
        return None
    province_unit = resolve_province(province, report_year)
    if province_unit is None:
        return None
    generic, by_province = registry()
    wanted = strip_committee_words(fold(committee_name)).removesuffix(" " + fold(province_unit.short_name))
    for entry in (*by_province.get(fold(province_unit.short_name), ()), *generic):
        if wanted in entry.spellings:
            era = era_for_year(report_year)
            name = (
                entry.name.replace(" tỉnh", f" tỉnh {province_unit.short_name}")
                if entry.name.endswith(" tỉnh")
                else entry.name
            )
            unit = Unit(
                era=era,
                level="direct",  # type: ignore[arg-type]  # not an administrative level: a registry entry
                code=entry.code,
                name=name,
                short_name=name,
                province_code=province_unit.code,
                province_name=province_unit.short_name,
                key=direct_key(era, province_unit.code, entry.code),
            )
            return Resolution("resolved", unit, (), None)
    return None
