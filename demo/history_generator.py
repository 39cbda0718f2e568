"""A seeded, deterministic history of yearly reports for whole provinces, across the 2025 reform.

For each requested province and year it writes one report per committee expected to report: up to the
2024 round the districts of the (pre-reform) province, from the 2025 round the commune-level units of
the post-reform province it became part of (Yên Bái 2025 is written as part of the new Lào Cai, once).
Older years are aggregate-only (``thong_tin`` + ``tong_hop``), recent years detailed through
:func:`demo.samples.synthesise_report`.

Each committee gets a profile (its communes, size, structure and yearly rates) drawn from a
``random.Random`` seeded with the seed and the committee's unit key, and a member series built from an
anchor year outwards, so that a committee's figures do not depend on which other provinces or years
are asked for, and:

- the stock rolls forward exactly: members at year end = previous year end + admitted + transferred in
  − deceased − struck off − expelled/dismissed − transferred out, in every year and across the
  aggregate-only/detailed boundary (a detailed report's flows are re-apportioned to the series);
- members grow 1–3 % a year with admissions of 3–4 % of members, and members, admissions and
  subordinate branches move smoothly, so the modified z-score outlier rule stays quiet;
- villages with a branch never decrease;
- organisation grades use the grading scale of the year and cover every organisation.

Published figures are honoured where they exist (``../shared/domain/published-figures.md``): the sample
reports of Mường Khương 2023, Bảo Thắng 2024 and Si Ma Cai 2024 are written exactly as the samples,
Mường Nhé 2016 has the sample's figures, Mường Khương's 2021/2022 published grades are kept, and the 12
Sơn La districts of 2019 add up to the province's published totals (608 TCCSĐ = 356 + 252, 4,429
branches, 85,651 members), with the province's own aggregate report for 2019. Those totals include the
five committees directly under the province that are not administrative units (armed forces, police,
border guard, the agencies bloc, Tây Bắc University); the generator has no such committees, so the 12
districts carry the whole totals (they have more district-level đảng bộ cơ sở than usual, streamlined to
at most seven by 2022).
"""

from __future__ import annotations

import argparse
import copy
import math
import random
import sys
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

from contract.model import fold, load_contract
from contract.workbook import write_csv_zip, write_xlsx
from demo.samples import (
    BAO_THANG_2024,
    MUONG_KHUONG_2023,
    MUONG_NHE_2016,
    SI_MA_CAI_2024,
    CommuneSpec,
    Report,
    ReportSpec,
    apportion,
    synthesise_report,
)
from units.admin_units import FIRST_POST_REFORM_YEAR, Unit, folded_key, resolve_province, units_of_province

Level = Literal["huyen", "xa"]
Format = Literal["xlsx", "zip"]

LAST_DISTRICT_YEAR: Final = FIRST_POST_REFORM_YEAR - 1
REFERENCE_YEAR: Final = 2019  # anchor of the committees no published figure pins
RECENT_DETAILED_YEARS: Final = 4  # by default the last four requested years are detailed
#: What :func:`synthesise_report` can lay out: district-level đảng bộ cơ sở besides the communes, chi bộ
#: cơ sở, non-village branches of one commune.
MAX_OTHER_COMMITTEES: Final = 7
MAX_GRASSROOTS_BRANCHES: Final = 30
COMMUNE_OTHER_BRANCHES: Final = (2, 10)
OTHER_COMMITTEE_BRANCHES: Final = (3, 14)
#: Member bounds of one unit in :func:`synthesise_report`: village branch with / without a branch
#: committee, other subordinate branch, chi bộ cơ sở.
_COMMITTEE_BRANCH: Final = (10, 60)
_PLAIN_VILLAGE_BRANCH: Final = (3, 8)
_OTHER_BRANCH: Final = (3, 40)
_GRASSROOTS_BRANCH: Final = (3, 29)

FLOW_FIELDS: Final = ("admitted", "transferred_in", "transferred_out", "deceased", "struck_off", "expelled_dismissed")
GROWTH_WOBBLE: Final = 0.002
MIN_OUT_RATE: Final = 0.002
#: Years over which a structure larger than the synthesiser's templates is merged down (Nghị quyết 18-NQ/TW).
STREAMLINING_YEARS: Final = 3
#: Years in which a committee's series move smoothly (from the first grading rule on).
FIRST_YEAR: Final = 2008
HORIZON: Final = 2040

#: Sơn La, 31/12/2019 (``004_a75910af420e5371.txt``): the province's totals, including the five
#: committees directly under it that are not districts; carried here by the 12 districts.
SON_LA: Final = "Sơn La"
SON_LA_YEAR: Final = 2019
SON_LA_2019: Final[Mapping[str, int]] = {
    "orgs_total": 608,
    "orgs_party_committee": 356,
    "orgs_grassroots_branch": 252,
    "branches_total": 4429,
    "members_total": 85651,
}
#: One village without a branch, "0.03 %": 1 / 0.0003 ≈ 3,333 villages, sub-areas and residential groups.
SON_LA_2019_VILLAGES: Final = 3333
SON_LA_2019_VILLAGES_WITHOUT_BRANCH: Final = 1

#: Sample reports written exactly in their year (the published figures plus the samples' choices).
EXACT_SAMPLES: Final = (MUONG_KHUONG_2023, BAO_THANG_2024, SI_MA_CAI_2024)
#: Samples whose figures anchor their committee's series but whose report is not used as it is
#: (the Mường Nhé sample is broken on purpose, and its flows are those of a year of mass admissions).
ANCHOR_SAMPLES: Final = (MUONG_NHE_2016,)
#: Published organisation grades (Mường Khương 2021: 7 HTXSNV and 10 HTNV; 2022: 8 HTXSNV; the rest
#: is not given and is completed here).
PUBLISHED_GRADES: Final[Mapping[tuple[str, str, int], Mapping[str, int]]] = {
    ("Lào Cai", "083", 2021): {"HTXSNV": 7, "HTNV": 10},
    ("Lào Cai", "083", 2022): {"HTXSNV": 8},
}

_PREPARERS: Final = (
    "Lù Thị Mai",
    "Hoàng Văn Phúc",
    "Giàng Seo Páo",
    "Lò Văn Thanh",
    "Nguyễn Thị Hoa",
    "Cầm Thị Hương",
    "Quàng Văn Bình",
    "Vàng A Dình",
    "Đinh Thị Lan",
    "Tòng Văn Hải",
    "Trần Thị Thu",
    "Phạm Văn Long",
)
#: Chi bộ cơ sở inside a commune after the reform: (name template, sector); {p}: the commune's name.
_COMMUNE_GRASSROOTS: Final = (
    ("Chi bộ Trường THPT {p}", "don_vi_su_nghiep"),
    ("Chi bộ Trường Phổ thông Dân tộc bán trú THCS {p}", "don_vi_su_nghiep"),
    ("Chi bộ Quỹ Tín dụng nhân dân {p}", "doanh_nghiep"),
    ("Chi bộ Trung tâm Y tế khu vực {p}", "don_vi_su_nghiep"),
)
_HIGHLAND_PROVINCES: Final = frozenset({"Điện Biên", "Sơn La", "Lai Châu", "Hòa Bình"})


# ---------------------------------------------------------------------------------------------
# Profiles: what a committee is and how it moves
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrefixedCommune(CommuneSpec):
    """A commune whose administrative prefix is given (phường, đặc khu...), not only xã / thị trấn."""

    prefix: str = "xã"

    @property
    def unit(self) -> str:
        return f"{self.prefix} {self.name}"


@dataclass(frozen=True)
class Flows:
    """Movements of one year."""

    admitted: int
    transferred_in: int
    transferred_out: int
    deceased: int
    struck_off: int
    expelled_dismissed: int

    @property
    def net(self) -> int:
        return (
            self.admitted
            + self.transferred_in
            - self.transferred_out
            - self.deceased
            - self.struck_off
            - self.expelled_dismissed
        )

    def as_row(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in FLOW_FIELDS}


@dataclass(frozen=True)
class Rates:
    """Yearly rates per member at the start of the year; transfers out close the growth."""

    growth: float
    admitted: float
    transferred_in: float
    deceased: float
    struck_off: float
    expelled_dismissed: float
    phase: float

    def growth_in(self, year: int) -> float:
        return self.growth + GROWTH_WOBBLE * math.sin(0.9 * year + self.phase)


@dataclass(frozen=True)
class Profile:
    """A committee: its unit, structure at the anchor year, and the rates that move it."""

    unit: Unit
    province: str  # as written in thong_tin: the era's short name
    level: Level
    committee_name: str
    code_prefix: str
    communes: tuple[CommuneSpec, ...]
    anchor_year: int
    anchor_members: int
    rates: Rates
    others: int  # đảng bộ cơ sở besides the communes, at the anchor year and before
    grassroots: int  # chi bộ cơ sở
    villages: int
    unserved: int  # villages without a branch at the anchor year
    unserved_decline: float  # fewer villages without a branch each year
    other_branches: int  # subordinate branches that are not village branches, at the anchor year
    other_branches_slope: float
    committee_ratio: float  # village branches with a branch committee
    village_kind: Literal["thon", "ban"]
    ethnic_minority_share: float
    preparer: str
    sample: ReportSpec | None = None  # structure from a sample; its own report in its year if exact
    exact_sample: bool = False
    anchor_flows: Flows | None = None
    published_grades: Mapping[int, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class YearFigures:
    """Everything a committee's report of one year states."""

    year: int
    members: int
    flows: Flows
    orgs_party_committee: int
    orgs_grassroots_branch: int
    villages: int
    villages_without_branch: int
    branches: int
    branch_committees: int
    grades: Mapping[str, int]

    @property
    def orgs_total(self) -> int:
        return self.orgs_party_committee + self.orgs_grassroots_branch


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def slug(text: str) -> str:
    return fold(text).replace(" ", "-")


def _initials(name: str) -> str:
    return "".join(word[0] for word in fold(name).split()).upper()


def _type_of(unit: Unit) -> str:
    """'Huyện Mường Khương' → 'huyện', 'Thành phố Sơn La' → 'thành phố'."""
    return unit.name[: len(unit.name) - len(unit.short_name)].strip().lower() or "huyện"


def committee_name_of(unit: Unit) -> str:
    """'Đảng bộ huyện Mường Khương' up to 2024, 'Đảng ủy xã Hợp Thành' from 2025."""
    organ = "Đảng bộ" if unit.level == "district" else "Đảng ủy"
    return f"{organ} {unit.name[:1].lower()}{unit.name[1:]}"


def _draw_rates(rng: random.Random) -> Rates:
    return Rates(
        growth=rng.uniform(0.01, 0.03),
        admitted=rng.uniform(0.03, 0.04),
        transferred_in=rng.uniform(0.006, 0.014),
        deceased=rng.uniform(0.005, 0.009),
        struck_off=rng.uniform(0.0004, 0.0012),
        expelled_dismissed=rng.uniform(0.0001, 0.0004),
        phase=rng.uniform(0, 2 * math.pi),
    )


def _rates_from(flows: Flows, members: int, rng: random.Random) -> Rates:
    """Rates that reproduce a published year's flows, its growth included (else that year would stand out)."""
    start = members - flows.net
    drawn = _draw_rates(rng)
    return replace(
        drawn,
        growth=flows.net / start,
        admitted=flows.admitted / start,
        transferred_in=flows.transferred_in / start,
        deceased=flows.deceased / start,
        struck_off=flows.struck_off / start,
        expelled_dismissed=flows.expelled_dismissed / start,
    )


# ---------------------------------------------------------------------------------------------
# Series
# ---------------------------------------------------------------------------------------------


def flows_for(start: float, rates: Rates, year: int, admitted: int) -> Flows:
    """One year's flows from the stock at its start; transfers out bring the growth to the year's rate."""
    inflow = rates.admitted + rates.transferred_in
    outflow = rates.deceased + rates.struck_off + rates.expelled_dismissed
    out_rate = max(MIN_OUT_RATE, inflow - outflow - rates.growth_in(year))
    return Flows(
        admitted=admitted,
        transferred_in=round(start * rates.transferred_in),
        transferred_out=max(0, round(start * out_rate) + admitted - round(start * rates.admitted)),
        deceased=round(start * rates.deceased),
        struck_off=round(start * rates.struck_off),
        expelled_dismissed=round(start * rates.expelled_dismissed),
    )


def member_series(
    anchor_year: int, anchor_members: int, rates: Rates, first: int, last: int, anchor_flows: Flows | None = None
) -> dict[int, tuple[int, Flows]]:
    """Members at year end and the year's flows, from the anchor outwards, for ``first..last`` (and the anchor).

    The stock rolls forward exactly: members(y) = members(y − 1) + flows(y).net. Going back, the flows
    of a year are drawn from the stock its end implies and the start is what they leave. Admissions
    follow a straight line through the anchor year's (one rounding of a smooth line: no step out of
    line for the outlier rule), the other flows the stock.
    """
    anchor_start = anchor_members / (1 + rates.growth_in(anchor_year))
    base = anchor_flows.admitted if anchor_flows else anchor_start * rates.admitted

    def admitted(year: int) -> int:
        return max(0, round(base * (1 + rates.growth * (year - anchor_year))))

    flows = anchor_flows or flows_for(anchor_start, rates, anchor_year, admitted(anchor_year))
    series = {anchor_year: (anchor_members, flows)}
    members = anchor_members
    for year in range(anchor_year - 1, first - 1, -1):
        members -= flows.net
        flows = flows_for(members / (1 + rates.growth_in(year)), rates, year, admitted(year))
        series[year] = (members, flows)
    members = anchor_members
    for year in range(anchor_year + 1, last + 1):
        flows = flows_for(members, rates, year, admitted(year))
        members += flows.net
        series[year] = (members, flows)
    return series


def members_at(profile: Profile, year: int) -> int:
    """The committee's members at the end of a year."""
    series = member_series(profile.anchor_year, profile.anchor_members, profile.rates, year, year, profile.anchor_flows)
    return series[year][0]


def _streamlined(at_anchor: int, most: int, years_after: int) -> int:
    """A count above what fits brought down evenly over :data:`STREAMLINING_YEARS` after the anchor."""
    if years_after <= 0 or at_anchor <= most:
        return at_anchor
    return max(most, at_anchor - math.ceil((at_anchor - most) * years_after / STREAMLINING_YEARS))


def _others_in(profile: Profile, year: int) -> int:
    """District-level đảng bộ cơ sở besides the communes (Sơn La's are streamlined after 2019)."""
    return _streamlined(profile.others, MAX_OTHER_COMMITTEES, year - profile.anchor_year)


def _grassroots_in(profile: Profile, year: int) -> int:
    return _streamlined(profile.grassroots, MAX_GRASSROOTS_BRANCHES, year - profile.anchor_year)


def _unserved_float(profile: Profile, year: int) -> float:
    return max(0.0, profile.unserved + profile.unserved_decline * (profile.anchor_year - year))


def _unserved_in(profile: Profile, year: int) -> int:
    return min(round(_unserved_float(profile, year)), profile.villages)


def other_branch_bounds(communes: Sequence[CommuneSpec], others: int) -> tuple[int, int]:
    """Non-village subordinate branches the synthesiser can lay out for these communes and committees."""
    fixed = sum(c.other_branches or 0 for c in communes)
    free = sum(1 for c in communes if c.other_branches is None)
    low = fixed + COMMUNE_OTHER_BRANCHES[0] * free + OTHER_COMMITTEE_BRANCHES[0] * others
    high = fixed + COMMUNE_OTHER_BRANCHES[1] * free + OTHER_COMMITTEE_BRANCHES[1] * others
    return low, high


def _branches_in(profile: Profile, year: int) -> tuple[int, int]:
    """Subordinate branches and villages without one: the total is one rounding of a smooth line.

    Village branches grow as villages without one get theirs, other branches by a small slope
    limited (:func:`limited_slopes`) so that they stay within what the synthesiser can lay out.
    """
    unserved = _unserved_in(profile, year)
    other = profile.other_branches + profile.other_branches_slope * (year - profile.anchor_year)
    total = round(profile.villages - _unserved_float(profile, year) + other)
    low, high = other_branch_bounds(profile.communes, _others_in(profile, year))
    served = profile.villages - unserved
    return served + max(low, min(high, total - served)), unserved


def limited_slopes(
    anchor: int, other_branches: int, unserved: int, bounds: tuple[int, int], pool: int, slope: float, decline: float
) -> tuple[float, float]:
    """Slopes of other branches and decline of villages without a branch that hit no bound in
    :data:`FIRST_YEAR`..:data:`HORIZON` (a plateau then a rise would look like an outlier)."""
    low, high = bounds
    back, ahead = max(1, anchor - FIRST_YEAR), max(1, HORIZON - anchor)
    slope = max(0.0, min(slope, (other_branches - low - 1) / back, (high - other_branches - 1) / ahead))
    decline = max(0.0, min(decline, (pool - unserved) / back))
    return slope, decline


def branch_committee_count(members: int, served: int, other: int, grassroots: int, ratio: float) -> int:
    """Village branches with a committee: the usual ratio, within what the members can staff."""
    fixed_low = _PLAIN_VILLAGE_BRANCH[0] * served + _OTHER_BRANCH[0] * other + _GRASSROOTS_BRANCH[0] * grassroots
    fixed_high = _PLAIN_VILLAGE_BRANCH[1] * served + _OTHER_BRANCH[1] * other + _GRASSROOTS_BRANCH[1] * grassroots
    most = (members - fixed_low) // (_COMMITTEE_BRANCH[0] - _PLAIN_VILLAGE_BRANCH[0])
    least = -(-(members - fixed_high) // (_COMMITTEE_BRANCH[1] - _PLAIN_VILLAGE_BRANCH[1]))
    return max(0, least, min(served, most, round(ratio * served)))


def draw_grades(orgs: int, year: int, rng: random.Random, published: Mapping[str, int] | None = None) -> dict[str, int]:
    """Organisation grades on the scale of the year, covering every organisation.

    Published counts are kept; when they are all of them, they are the answer; otherwise the middle
    grade (HTTNV) takes what the others leave.
    """
    rule = load_contract().grading_rule(year)
    if rule is None:
        raise ValueError(f"no grading rule for {year}")
    top, good, fair, weak = rule.org_grades
    if published and sum(published.values()) == orgs:
        return {grade: published.get(grade, 0) for grade in rule.org_grades}
    # TSVM (old scale) was given far more widely than HTXSNV is
    top_share = rng.uniform(0.35, 0.55) if top == "TSVM" else rng.uniform(0.12, 0.25)
    counts = {
        top: round(orgs * top_share),
        fair: round(orgs * rng.uniform(0.04, 0.14)),
        weak: 1 if orgs >= 20 and rng.random() < 0.2 else 0,
    }
    if published:
        counts = {grade: published.get(grade, 0 if grade == weak else counts[grade]) for grade in counts}
    while sum(counts.values()) > orgs:  # small committees: trim the top first
        grade = next(g for g in (top, fair, weak) if counts[g] > 0)
        counts[grade] -= 1
    return {top: counts[top], good: orgs - sum(counts.values()), fair: counts[fair], weak: counts[weak]}


def committee_history(profile: Profile, years: Sequence[int], seed: int) -> dict[int, YearFigures]:
    """The figures of every requested year of the committee."""
    series = member_series(
        profile.anchor_year, profile.anchor_members, profile.rates, min(years), max(years), profile.anchor_flows
    )
    history: dict[int, YearFigures] = {}
    for year in years:
        members, flows = series[year]
        others, grassroots = _others_in(profile, year), _grassroots_in(profile, year)
        branches, unserved = _branches_in(profile, year)
        served = profile.villages - unserved
        other_branches = branches - served
        orgs = len(profile.communes) + others + grassroots if profile.level == "huyen" else 1 + grassroots
        history[year] = YearFigures(
            year=year,
            members=members,
            flows=flows,
            orgs_party_committee=orgs - grassroots,
            orgs_grassroots_branch=grassroots,
            villages=profile.villages,
            villages_without_branch=unserved,
            branches=branches,
            branch_committees=branch_committee_count(
                members, served, other_branches, grassroots, profile.committee_ratio
            ),
            grades=draw_grades(
                orgs, year, _rng(seed, profile.unit.key, year, "grades"), profile.published_grades.get(year)
            ),
        )
    return history


# ---------------------------------------------------------------------------------------------
# Profiles of district committees (up to 2024)
# ---------------------------------------------------------------------------------------------


@cache
def _legacy_communes() -> dict[str, tuple[tuple[str, str], ...]]:
    """Communes (short name, type) of every pre-reform district, by district code, in code order."""
    from vietnamadminunits.database import query

    rows = query(
        "SELECT DISTINCT districtCode, wardCode, wardShort, wardType FROM admin_units_legacy "
        "WHERE wardCode IS NOT NULL ORDER BY districtCode, wardCode"
    )
    communes: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        names = communes.setdefault(str(row["districtCode"]), [])
        name, kind = str(row["wardShort"]), str(row["wardType"] or "Xã")
        if all(name != known for known, _ in names):
            names.append((name, kind))
    return {code: tuple(names) for code, names in communes.items()}


def commune_spec(name: str, unit_type: str, villages: int | None = None) -> CommuneSpec:
    """A commune for the synthesiser: wards and towns have residential groups, communes villages."""
    prefix = unit_type.strip().lower()
    kind: Literal["xa", "thi_tran"] = "thi_tran" if prefix in {"phường", "thị trấn"} else "xa"
    return PrefixedCommune(name=name, kind=kind, villages=villages, prefix=prefix)


def _district_communes(unit: Unit) -> tuple[CommuneSpec, ...]:
    return tuple(commune_spec(name, kind) for name, kind in _legacy_communes().get(unit.code, ()))


def _commune_weight(commune: CommuneSpec, rng: random.Random) -> float:
    return rng.uniform(0.75, 1.3) * (2.2 if commune.kind == "thi_tran" else 1.0)


@dataclass(frozen=True)
class _Anchor:
    """A committee's figures in its anchor year."""

    year: int
    members: int
    others: int
    grassroots: int
    villages: int
    unserved: int
    other_branches: int


def _generic_anchor(unit: Unit, communes: Sequence[CommuneSpec], rng: random.Random) -> _Anchor:
    # A committee of wards and towns only (a numbered quận reads as "huyện") has no village to leave unserved.
    urban = _type_of(unit) != "huyện" or not any(commune.kind == "xa" for commune in communes)
    weights = [_commune_weight(c, rng) for c in communes]
    others = rng.randint(3, MAX_OTHER_COMMITTEES)
    grassroots = rng.randint(16, MAX_GRASSROOTS_BRANCHES) if urban else rng.randint(8, 26)
    members = round(sum(w * rng.uniform(170, 260) for w in weights) + others * rng.uniform(60, 140) + grassroots * 12)
    villages = sum(min(40, max(4, round(w * rng.uniform(7, 12)))) for w in weights)
    unserved = min(round(villages * rng.uniform(0.0, 0.04)), villages // 4) if not urban else 0
    low, high = other_branch_bounds(communes, others)
    other_branches = max(low, min(high, round(len(communes) * rng.uniform(3, 6) + others * rng.uniform(5, 9))))
    return _Anchor(REFERENCE_YEAR, members, others, grassroots, villages, unserved, other_branches)


def _son_la_anchors(units: Sequence[Unit], seed: int) -> dict[str, _Anchor]:
    """The published Sơn La 2019 totals split over its 12 districts (which carry the direct committees too)."""
    rng = _rng(seed, SON_LA, SON_LA_YEAR)
    communes = [_district_communes(u) for u in units]
    size = [
        sum(_commune_weight(c, rng) for c in cs) * (1.4 if _type_of(u) != "huyện" else 1.0)
        for u, cs in zip(units, communes, strict=True)
    ]
    share = [s / sum(size) for s in size]

    def split(total: int, lows: Sequence[int], highs: Sequence[int], weights: Sequence[float] = share) -> list[int]:
        scale = total / sum(weights)
        return apportion(total, [w * scale for w in weights], lows, highs)

    count = len(units)
    n = [len(cs) for cs in communes]
    members = split(SON_LA_2019["members_total"], [1000] * count, [10**6] * count)
    others = split(SON_LA_2019["orgs_party_committee"] - sum(n), [3] * count, [25] * count)
    grassroots = split(SON_LA_2019["orgs_grassroots_branch"], [8] * count, [MAX_GRASSROOTS_BRANCHES] * count)
    villages = split(
        SON_LA_2019_VILLAGES, [4 * k for k in n], [40 * k for k in n], [k * rng.uniform(0.8, 1.25) for k in n]
    )
    unserved = [0] * count
    unserved[rng.randrange(count)] = SON_LA_2019_VILLAGES_WITHOUT_BRANCH
    served = [v - u for v, u in zip(villages, unserved, strict=True)]
    bounds = [other_branch_bounds(cs, min(o, MAX_OTHER_COMMITTEES)) for cs, o in zip(communes, others, strict=True)]
    other_branches = split(
        SON_LA_2019["branches_total"] - sum(served),
        [max(lo, 2 * k + 3 * o) for (lo, _), k, o in zip(bounds, n, others, strict=True)],
        [hi for _, hi in bounds],
    )
    return {
        unit.code: _Anchor(SON_LA_YEAR, m, o, g, v, u, b)
        for unit, m, o, g, v, u, b in zip(
            units, members, others, grassroots, villages, unserved, other_branches, strict=True
        )
    }


def _sample_anchor(spec: ReportSpec, report: Report) -> _Anchor:
    summary = report["tong_hop"]
    served = summary["villages_with_branch"]
    return _Anchor(
        spec.year,
        spec.members_total,
        spec.orgs_party_committee - len(spec.communes),
        spec.orgs_grassroots_branch,
        spec.villages,
        spec.villages_without_branch,
        spec.branches_total - served,
    )


_SAMPLE_REPORTS: dict[tuple[str, str | None, int], Report] = {}


def sample_report(spec: ReportSpec) -> Report:
    """The sample's report (synthesised once per process; a copy each time)."""
    key = (spec.province, spec.committee_code, spec.year)
    if key not in _SAMPLE_REPORTS:
        _SAMPLE_REPORTS[key] = synthesise_report(spec)
    return copy.deepcopy(_SAMPLE_REPORTS[key])


def _sample_of(province: str, unit: Unit) -> tuple[ReportSpec, bool] | None:
    for spec in EXACT_SAMPLES + ANCHOR_SAMPLES:
        if spec.province == province and spec.committee_code == unit.code:
            return spec, spec in EXACT_SAMPLES
    return None


def _district_profile(province: str, unit: Unit, seed: int, anchor: _Anchor | None) -> Profile:
    rng = _rng(seed, unit.key, "profile")
    sample = _sample_of(province, unit)
    communes = sample[0].communes if sample else _district_communes(unit)
    rates = _draw_rates(rng)
    anchor_flows = None
    grades: dict[int, Mapping[str, int]] = {
        year: counts for (p, code, year), counts in PUBLISHED_GRADES.items() if p == province and code == unit.code
    }
    if sample is not None:
        spec, exact = sample
        report = sample_report(spec)
        anchor = _sample_anchor(spec, report)
        grades[spec.year] = dict(spec.org_grades)
        if exact:
            anchor_flows = Flows(**{name: sum(o[name] for o in report["to_chuc_co_so"]) for name in FLOW_FIELDS})
            rates = _rates_from(anchor_flows, spec.members_total, rng)
        ratio = spec.village_branch_committees / (spec.villages - spec.villages_without_branch)
    else:
        anchor = anchor or _generic_anchor(unit, communes, rng)
        ratio = rng.uniform(0.6, 0.95)
    highland = province in _HIGHLAND_PROVINCES
    low, _ = other_branch_bounds(communes, anchor.others)
    _, high = other_branch_bounds(communes, min(anchor.others, MAX_OTHER_COMMITTEES))
    slope, decline = limited_slopes(
        anchor.year,
        anchor.other_branches,
        anchor.unserved,
        (low, high),
        anchor.villages // 4 if communes else 0,
        rng.uniform(0.2, 1.2),
        rng.uniform(1.0, 3.0),
    )
    return Profile(
        unit=unit,
        province=province,
        level="huyen",
        committee_name=committee_name_of(unit),
        code_prefix=sample[0].code_prefix if sample else _initials(unit.short_name),
        communes=communes,
        anchor_year=anchor.year,
        anchor_members=anchor.members,
        rates=rates,
        others=anchor.others,
        grassroots=anchor.grassroots,
        villages=anchor.villages,
        unserved=anchor.unserved,
        unserved_decline=decline,
        other_branches=anchor.other_branches,
        other_branches_slope=slope,
        committee_ratio=ratio,
        village_kind=sample[0].village_kind if sample else ("ban" if highland else "thon"),
        ethnic_minority_share=sample[0].ethnic_minority_share if sample else rng.uniform(0.55, 0.9),
        preparer=sample[0].preparer if sample else rng.choice(_PREPARERS),
        sample=sample[0] if sample else None,
        exact_sample=bool(sample and sample[1]),
        anchor_flows=anchor_flows,
        published_grades=grades,
    )


@cache
def district_profiles(province: str, seed: int) -> tuple[Profile, ...]:
    """The district committees of a pre-reform province, in code order."""
    scope = resolve_province(province, LAST_DISTRICT_YEAR)
    if scope is None:
        raise LookupError(f"'{province}' is not a province before the 2025 reform")
    units = units_of_province(scope.short_name, LAST_DISTRICT_YEAR)
    anchors = _son_la_anchors(units, seed) if scope.short_name == SON_LA else {}
    return tuple(_district_profile(scope.short_name, unit, seed, anchors.get(unit.code)) for unit in units)


# ---------------------------------------------------------------------------------------------
# Profiles of commune-level committees (from 2025)
# ---------------------------------------------------------------------------------------------


@cache
def successor_province(old_province: str) -> Unit:
    """The post-reform province a pre-reform province became (part of)."""
    old = resolve_province(old_province, LAST_DISTRICT_YEAR)
    if old is None:
        raise LookupError(f"'{old_province}' is not a province before the 2025 reform")
    same = resolve_province(old.short_name, FIRST_POST_REFORM_YEAR)
    if same is not None:
        return same
    from vietnamadminunits import convert_address

    code = str(convert_address(old.name).province_code or "")
    new = resolve_province(code, FIRST_POST_REFORM_YEAR)
    if new is None:
        raise LookupError(f"no post-reform province for '{old_province}'")
    return new


@cache
def predecessors(new_province_code: str) -> tuple[str, ...]:
    """The pre-reform provinces merged into a post-reform province (short names, in code order)."""
    from vietnamadminunits.database import query

    rows = query("SELECT DISTINCT provinceCode, provinceShort FROM admin_units_legacy ORDER BY provinceCode")
    olds = [str(row["provinceShort"]) for row in rows]
    return tuple(old for old in olds if successor_province(old).code == new_province_code)


@cache
def commune_profiles(new_province_code: str, seed: int) -> tuple[Profile, ...]:
    """The commune-level committees of a post-reform province.

    Their members at the end of 2024 are those of the districts they replace (all pre-reform provinces
    merged into it), shared out; so are the villages.
    """
    province = resolve_province(new_province_code, FIRST_POST_REFORM_YEAR)
    if province is None:
        raise LookupError(f"no post-reform province with code {new_province_code}")
    districts = [p for old in predecessors(new_province_code) for p in district_profiles(old, seed)]
    members = sum(members_at(p, LAST_DISTRICT_YEAR) for p in districts)
    villages = sum(p.villages for p in districts)
    units = units_of_province(province.short_name, FIRST_POST_REFORM_YEAR)
    rng = _rng(seed, province.key, "communes")
    weights = [rng.uniform(0.7, 1.3) * (1.8 if u.name.startswith("Phường") else 1.0) for u in units]
    scale = sum(weights)
    shares = apportion(members, [w * members / scale for w in weights], [150] * len(units), [10**6] * len(units))
    village_counts = apportion(
        villages,
        [w * villages / scale * rng.uniform(0.85, 1.15) for w in weights],
        [4] * len(units),
        [10**4] * len(units),
    )
    return tuple(
        _commune_profile(province.short_name, unit, seed, share, count)
        for unit, share, count in zip(units, shares, village_counts, strict=True)
    )


def _commune_profile(province: str, unit: Unit, seed: int, members_2024: int, villages: int) -> Profile:
    rng = _rng(seed, unit.key, "profile")
    prefix = unit.name[: len(unit.name) - len(unit.short_name)].strip()
    communes = (commune_spec(unit.short_name, prefix, villages),)
    other_branches = rng.randint(3, 7)
    slope, _ = limited_slopes(
        LAST_DISTRICT_YEAR, other_branches, 0, other_branch_bounds(communes, 0), 0, rng.uniform(0.0, 0.4), 0.0
    )
    return Profile(
        unit=unit,
        province=province,
        level="xa",
        committee_name=committee_name_of(unit),
        code_prefix=f"{unit.code}.",
        communes=communes,
        anchor_year=LAST_DISTRICT_YEAR,
        anchor_members=members_2024,
        rates=_draw_rates(rng),
        others=0,
        grassroots=rng.randint(0, 3),
        villages=villages,
        unserved=0,
        unserved_decline=0.0,
        other_branches=other_branches,
        other_branches_slope=slope,
        committee_ratio=rng.uniform(0.65, 0.95),
        village_kind="ban" if province in _HIGHLAND_PROVINCES else "thon",
        ethnic_minority_share=rng.uniform(0.55, 0.9),
        preparer=rng.choice(_PREPARERS),
    )


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


def _thong_tin(profile: Profile, year: int, rng: random.Random) -> dict[str, Any]:
    return {
        "province": profile.province,
        "committee_name": profile.committee_name,
        "committee_code": profile.unit.code,
        "committee_level": profile.level,
        "report_year": year,
        "prepared_on": f"{year + 1}-01-{rng.randint(5, 25):02d}",
        "preparer": profile.preparer,
        "contact_email": f"bantochuc.{folded_key(profile.unit.short_name)}@example.org",
    }


def _grade_fields(grades: Mapping[str, int]) -> dict[str, int | None]:
    names = ("HTXSNV", "HTTNV", "HTNV", "KHTNV", "TSVM", "YEU_KEM")
    return {f"orgs_{grade.lower()}": grades.get(grade) for grade in names}


def _awareness(admitted: int, rng: random.Random) -> dict[str, int]:
    return {
        "awareness_classes": max(1, round(admitted / 25)),
        "awareness_attendees": round(admitted * rng.uniform(1.6, 2.4)),
    }


def aggregate_report(profile: Profile, figures: YearFigures, seed: int) -> Report:
    """thong_tin + tong_hop only."""
    rng = _rng(seed, profile.unit.key, figures.year, "report")
    if profile.exact_sample and profile.sample is not None and figures.year == profile.sample.year:
        report = sample_report(profile.sample)
        return {"thong_tin": dict(report["thong_tin"]), "tong_hop": dict(report["tong_hop"])}
    return {
        "thong_tin": _thong_tin(profile, figures.year, rng),
        "tong_hop": {
            "orgs_total": figures.orgs_total,
            "orgs_party_committee": figures.orgs_party_committee,
            "orgs_grassroots_branch": figures.orgs_grassroots_branch,
            "branches_total": figures.branches,
            "members_total": figures.members,
            "admitted": figures.flows.admitted,
            "villages_total": figures.villages,
            "villages_with_branch": figures.villages - figures.villages_without_branch,
            "villages_without_members": figures.villages_without_branch,
            **_awareness(figures.flows.admitted, rng),
            **_grade_fields(figures.grades),
        },
    }


def report_spec(profile: Profile, figures: YearFigures, seed: int) -> ReportSpec:
    """The synthesiser's spec for a detailed report of the committee's year."""
    base = profile.sample
    communes = profile.communes
    named_unserved = sum(len(c.unserved) for c in communes)
    if figures.villages_without_branch < named_unserved:
        communes = tuple(replace(c, unserved=()) for c in communes)
    spec = ReportSpec(
        province=profile.province,
        district=profile.unit.short_name,
        year=figures.year,
        code_prefix=profile.code_prefix,
        communes=communes,
        orgs_party_committee=figures.orgs_party_committee,
        orgs_grassroots_branch=figures.orgs_grassroots_branch,
        villages=figures.villages,
        branches_total=figures.branches,
        village_branch_committees=figures.branch_committees,
        members_total=figures.members,
        org_grades=figures.grades,
        seed=_rng(seed, profile.unit.key, figures.year, "detail").randrange(2**31),
        villages_without_branch=figures.villages_without_branch,
        committee_code=profile.unit.code,
        committee_level=profile.level,
        village_kind=profile.village_kind,
        probationary_share=min(0.2, profile.rates.admitted * 1.3),
        ethnic_minority_share=profile.ethnic_minority_share,
        preparer=profile.preparer,
    )
    if base is not None:
        spec = replace(
            spec,
            grade_style=base.grade_style,
            contact_email=base.contact_email,
            member_htnv_share=base.member_htnv_share,
        )
    return spec


def _spread(total: int, members: Sequence[int], caps: Sequence[int]) -> list[int]:
    """``total`` shared over organisations in proportion to their members, each within its cap."""
    if sum(caps) < total:
        caps = members
    scale = total / max(1, sum(members))
    return apportion(total, [m * scale for m in members], [0] * len(members), list(caps))


def _set_flows(report: Report, flows: Flows) -> None:
    """Re-apportion the organisations' flows to the committee's series (admissions within probationary)."""
    orgs = report["to_chuc_co_so"]
    members = [o["members_total"] for o in orgs]
    for name, total in flows.as_row().items():
        caps = [o["members_probationary"] for o in orgs] if name == "admitted" else members
        for org, value in zip(orgs, _spread(total, members, caps), strict=True):
            org[name] = value


def _rename_orgs(profile: Profile, report: Report) -> None:
    """Names the synthesiser writes for a rural district, adapted to towns, cities and communes."""
    unit_type = _type_of(profile.unit)
    short = profile.unit.short_name
    grassroots = iter(_COMMUNE_GRASSROOTS)
    for org in report["to_chuc_co_so"]:
        if profile.level == "xa" and org["org_kind"] == "chi_bo_co_so":
            template, sector = next(grassroots)
            org["org_name"], org["sector"] = template.format(p=short), sector
        elif unit_type != "huyện":
            org["org_name"] = org["org_name"].replace(f"huyện {short}", f"{unit_type} {short}")


def detailed_report(profile: Profile, figures: YearFigures, seed: int) -> Report:
    """All five sheets, adding up to the year's figures."""
    if profile.exact_sample and profile.sample is not None and figures.year == profile.sample.year:
        return sample_report(profile.sample)
    report = synthesise_report(report_spec(profile, figures, seed))
    _set_flows(report, figures.flows)
    _rename_orgs(profile, report)
    rng = _rng(seed, profile.unit.key, figures.year, "report")
    report["thong_tin"] = _thong_tin(profile, figures.year, rng)
    report["tong_hop"].update(admitted=figures.flows.admitted, **_awareness(figures.flows.admitted, rng))
    return report


def son_la_2019_report() -> Report:
    """The province's own aggregate report for 2019: the published totals."""
    return {
        "thong_tin": {
            "province": SON_LA,
            "committee_name": f"Đảng bộ tỉnh {SON_LA}",
            "committee_level": "Tỉnh",
            "report_year": SON_LA_YEAR,
            "prepared_on": "2020-01-15",
            "preparer": "Ban Tổ chức Tỉnh ủy Sơn La",
            "contact_email": "bantochuc.sonla@example.org",
        },
        "tong_hop": dict(SON_LA_2019),
    }


# ---------------------------------------------------------------------------------------------
# The history
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedReport:
    file_stem: str
    report: Report
    detailed: bool


def default_detail_years(years: Collection[int]) -> frozenset[int]:
    """The last four requested years."""
    return frozenset(y for y in years if y > max(years) - RECENT_DETAILED_YEARS)


def _stem(year: int, province: str, profile_or_code: Profile | str) -> str:
    if isinstance(profile_or_code, str):
        return f"{year}_{slug(province)}_{profile_or_code}"
    unit = profile_or_code.unit
    return f"{year}_{slug(province)}_{unit.code}_{slug(unit.short_name)}"


def can_detail(profile: Profile, figures: YearFigures) -> bool:
    """Whether the synthesiser can lay out the year's structure (not Sơn La's districts before 2022,
    which carry the organisations of the committees directly under the province)."""
    others = figures.orgs_party_committee - (len(profile.communes) if profile.level == "huyen" else 1)
    return others <= MAX_OTHER_COMMITTEES and figures.orgs_grassroots_branch <= MAX_GRASSROOTS_BRANCHES


def _committee_reports(
    profiles: Sequence[Profile], years: Sequence[int], seed: int, detail_years: Collection[int]
) -> Iterator[GeneratedReport]:
    for profile in profiles:
        for year, figures in sorted(committee_history(profile, years, seed).items()):
            detailed = year in detail_years and can_detail(profile, figures)
            build = detailed_report if detailed else aggregate_report
            try:
                report = build(profile, figures, seed)
            except ValueError as error:
                raise ValueError(f"{profile.committee_name} {year}: {error}") from error
            yield GeneratedReport(_stem(year, profile.province, profile), report, detailed)


def history_reports(
    provinces: Sequence[str], years: Sequence[int], seed: int, detail_years: Collection[int] | None = None
) -> Iterator[GeneratedReport]:
    """Every report of the history, in a fixed order: provinces as given, committees by code, years ascending."""
    detail = default_detail_years(years) if detail_years is None else frozenset(detail_years)
    old_years = sorted(y for y in set(years) if y <= LAST_DISTRICT_YEAR)
    new_years = sorted(y for y in set(years) if y >= FIRST_POST_REFORM_YEAR)
    done: set[str] = set()
    for province in provinces:
        if old_years:
            profiles = district_profiles(province, seed)
            yield from _committee_reports(profiles, old_years, seed, detail)
            if profiles and profiles[0].province == SON_LA and SON_LA_YEAR in old_years:
                yield GeneratedReport(_stem(SON_LA_YEAR, SON_LA, "tinh"), son_la_2019_report(), False)
        if new_years:
            successor = successor_province(province)
            if successor.code not in done:
                done.add(successor.code)
                yield from _committee_reports(commune_profiles(successor.code, seed), new_years, seed, detail)


def generate_history(
    provinces: Sequence[str],
    years: Sequence[int],
    seed: int,
    detail_years: Collection[int] | None = None,
    *,
    out: Path,
    file_format: Format = "xlsx",
) -> list[Path]:
    """Write the history into ``out``, one file per committee and year (plus Sơn La's 2019 province
    report); return the paths in generation order.

    ``detail_years``: the years written with all five sheets (default: the last four requested years).
    """
    out.mkdir(parents=True, exist_ok=True)
    writer = write_csv_zip if file_format == "zip" else write_xlsx
    return [
        writer(out / f"{g.file_stem}.{file_format}", g.report)
        for g in history_reports(provinces, years, seed, detail_years)
    ]


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def parse_years(text: str) -> list[int]:
    """'2016-2026' or '2016,2019,2023-2024'."""
    years: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        years += range(int(first), int(last or first) + 1)
    return sorted(set(years))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.history_generator", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--provinces", default="Lào Cai,Yên Bái,Điện Biên,Sơn La")
    parser.add_argument("--years", default="2016-2026", type=parse_years)
    parser.add_argument("--seed", default=7, type=int)
    parser.add_argument("--detail-years", type=parse_years, default=None)
    parser.add_argument("--format", choices=("xlsx", "zip"), default="xlsx")
    args = parser.parse_args(argv)
    provinces = [p.strip() for p in args.provinces.split(",") if p.strip()]
    started = time.perf_counter()
    paths = generate_history(provinces, args.years, args.seed, args.detail_years, out=args.out, file_format=args.format)
    print(f"{len(paths)} báo cáo trong {args.out} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
