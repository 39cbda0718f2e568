"""The submission contract: typed view of ``contract.yaml``, the single source of truth.

Everything that needs to know what a report looks like (reader, template, GX suites, raw tables,
docs) asks this module. Nothing here reads a spreadsheet.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

CONTRACT_PATH = Path(__file__).with_name("contract.yaml")

FieldType = Literal["integer", "decimal", "text", "date", "email", "boolean", "enum", "grade"]
Layout = Literal["key_value", "table"]


def fold(text: str) -> str:
    """Fold text for matching: lower case, no diacritics (đ → d), single spaces, no punctuation."""
    if type(text) is str:  # noqa: E721 - exactly str: the cache must not merge equal values of other types
        return _fold_cached(text)
    return _fold(text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    without_marks = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    cleaned = "".join(ch if ch.isalnum() else " " for ch in without_marks.lower())
    return " ".join(cleaned.split())


# fold is pure and called for every header, label and grade cell of every report; the same texts recur.
_fold_cached = lru_cache(maxsize=1 << 16)(_fold)


@dataclass(frozen=True)
class EnumValue:
    code: str
    label: str
    aliases: tuple[str, ...] = ()

    def spellings(self) -> tuple[str, ...]:
        return (self.code, self.label, *self.aliases)


@dataclass(frozen=True)
class Grade(EnumValue):
    rank: int = 0
    scale: str = "both"
    harmonised: str = ""  # the grade on the 2018+ scale, to compare years
    exact: bool = True  # False where the scales do not correspond one to one


@dataclass(frozen=True)
class DetailAggregate:
    """How a tong_hop total is recomputed from the detail sheets.

    ``where``: rows whose field holds this value; ``any_of``: rows where at least one of these fields is
    given (a text filled in, a yes/no answered yes), e.g. a village with its own branch or a joint one.
    """

    sheet: str
    aggregate: Literal["count", "sum"]
    column: str | None = None
    where: dict[str, str] = field(default_factory=dict)
    any_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Field:
    name: str
    header: str
    type: FieldType
    required: bool
    description: str
    aliases: tuple[str, ...] = ()
    unit: str | None = None
    allowed: str | None = None
    detail: DetailAggregate | None = None
    part_of: str | None = None  # a breakdown: the parts of a figure must add up to it
    at_most: str | None = None  # a part of this whole (same sheet): at most it

    @property
    def whole(self) -> str | None:
        """The figure this one is a part of (``at_most``, or the figure a breakdown adds up to)."""
        return self.at_most or self.part_of

    def spellings(self) -> tuple[str, ...]:
        return (self.name, self.header, *self.aliases)


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str
    layout: Layout
    description: str
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ()

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no field {name}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True)
class HtxsnvCap:
    ratio: float
    denominator: str


@dataclass(frozen=True)
class GradingRule:
    """The evaluation regulation in force for a span of reporting years."""

    version: str
    name: str
    first_year: int
    last_year: int
    org_grades: tuple[str, ...]
    htxsnv_cap: HtxsnvCap | None


@dataclass(frozen=True)
class Contract:
    version: int
    sheets: tuple[Sheet, ...]
    enums: dict[str, tuple[EnumValue, ...]]
    grades: tuple[Grade, ...]
    grading_rules: tuple[GradingRule, ...] = ()

    def grading_rule(self, year: int) -> GradingRule | None:
        return next((r for r in self.grading_rules if r.first_year <= year <= r.last_year), None)

    def sheet(self, name: str) -> Sheet:
        for candidate in self.sheets:
            if candidate.name == name:
                return candidate
        raise KeyError(f"no sheet {name}")

    def allowed_codes(self, field_: Field) -> tuple[str, ...]:
        if field_.type == "grade":
            return tuple(g.code for g in self.grades)
        if field_.type == "enum" and field_.allowed:
            return tuple(v.code for v in self.enums[field_.allowed])
        return ()

    def values_for(self, field_: Field) -> tuple[EnumValue, ...]:
        if field_.type == "grade":
            return self.grades
        if field_.type == "enum" and field_.allowed:
            return self.enums[field_.allowed]
        return ()

    @property
    def village_branch_fields(self) -> tuple[str, ...]:
        """The thon_ban fields of which one given means the village has a branch (its own or a joint one):
        the ``any_of`` of the ``tong_hop`` total of villages with a branch."""
        detail = self.sheet("tong_hop").field("villages_with_branch").detail
        if detail is None or not detail.any_of:
            raise ValueError("tong_hop.villages_with_branch must declare detail.any_of")
        return detail.any_of

    @property
    def aggregate_sheets(self) -> tuple[str, ...]:
        return ("thong_tin", "tong_hop")


def _field(raw: dict[str, Any]) -> Field:
    detail = raw.get("detail")
    return Field(
        name=raw["name"],
        header=raw["header"],
        type=raw["type"],
        required=bool(raw.get("required", False)),
        description=raw.get("description", ""),
        aliases=tuple(raw.get("aliases", ())),
        unit=raw.get("unit"),
        allowed=raw.get("allowed"),
        detail=DetailAggregate(**{**detail, "any_of": tuple(detail.get("any_of", ()))}) if detail else None,
        part_of=raw.get("part_of"),
        at_most=raw.get("at_most"),
    )


def parse_contract(document: dict[str, Any]) -> Contract:
    enums = {
        name: tuple(EnumValue(v["code"], v["label"], tuple(v.get("aliases", ()))) for v in values)
        for name, values in document["enums"].items()
    }
    grades = tuple(
        Grade(
            g["code"],
            g["label"],
            tuple(g.get("aliases", ())),
            rank=g["rank"],
            scale=g["scale"],
            harmonised=g.get("harmonised", g["code"]),
            exact=bool(g.get("exact", True)),
        )
        for g in document["grades"]
    )
    sheets = tuple(
        Sheet(
            name=s["name"],
            title=s["title"],
            layout=s["layout"],
            description=s.get("description", ""),
            fields=tuple(_field(f) for f in s["fields"]),
            key=tuple(s.get("key", ())),
        )
        for s in document["sheets"]
    )
    grading_rules = tuple(
        GradingRule(
            version=r["version"],
            name=r["name"],
            first_year=r["first_year"],
            last_year=r["last_year"],
            org_grades=tuple(r["org_grades"]),
            htxsnv_cap=HtxsnvCap(**r["htxsnv_cap"]) if r.get("htxsnv_cap") else None,
        )
        for r in document.get("grading_rules", ())
    )
    return Contract(version=document["version"], sheets=sheets, enums=enums, grades=grades, grading_rules=grading_rules)


@cache
def load_contract(path: Path = CONTRACT_PATH) -> Contract:
    with path.open(encoding="utf-8") as handle:
        return parse_contract(yaml.safe_load(handle))


def raw_columns(sheet: Sheet) -> list[str]:
    """Column names of the raw table that holds a sheet (after submission_id and sheet_row)."""
    if sheet.layout == "key_value":
        return ["header_as_written", "field", "value"]
    columns: list[str] = []
    for field_ in sheet.fields:
        columns.append(field_.name)
        if field_.type == "grade":
            columns.append(f"{field_.name}_label")
    return columns
