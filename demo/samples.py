"""Synthesised sample reports whose detail rows add up exactly to figures published in the seeds.

Each sample is built by :func:`synthesise_report` from a :class:`ReportSpec`: the published totals
(organisations, subordinate branches, members, villages, branch committees, organisation grades) are
taken as hard constraints, everything the articles do not give (names of villages, how members are
spread over branches, member grades, flows) is drawn from a seeded ``random.Random``, so the same
spec always gives the same report.

Every good report satisfies the validation rules: unique codes; total = official + probationary;
member grades add up to the total with HTXSNV ≤ 20 % of HTTNV; a đảng bộ cơ sở's branches add up to
its members and its declared branch count; chi bộ cơ sở have 3..29 members, every branch ≥ 3 full
members; one village branch per served village; the ``tong_hop`` totals are the sums of the details.
Branch committees (chi ủy) follow the Party Statute: a village branch has one exactly when it has at
least 9 full members, so the published committee ratio fixes how many village branches are that big.

:func:`muong_nhe_2016` is the exception: it is built the same way, then broken on purpose (see
:data:`MUONG_NHE_2016_PLANTED_ERRORS`) to exercise the validator.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from contract.model import fold, load_contract
from contract.workbook import write_csv_zip, write_xlsx

Report = dict[str, Any]
Row = dict[str, Any]

YES = "Có"
NO = "Không"

#: Full members needed for a branch to elect a branch committee (Party Statute, art. 21).
COMMITTEE_MIN_OFFICIAL = 9
#: A chi bộ cơ sở has fewer than 30 members; a branch needs at least 3 full members.
GRASSROOTS_BRANCH_MAX = 29
BRANCH_MIN_OFFICIAL = 3


# ---------------------------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommuneSpec:
    """A commune or town: holds the village branches of its commune-level đảng bộ cơ sở.

    ``villages`` counts all villages/residential groups (None: drawn so the report's total holds);
    ``other_branches`` the non-village branches (schools, health station, agencies; None: drawn);
    ``members`` pins the commune committee's members. ``village_names`` are used first,
    ``unserved`` names villages with no member and no branch, ``village_members`` pins a village
    branch's members.
    """

    name: str
    kind: Literal["xa", "thi_tran"] = "xa"
    villages: int | None = None
    other_branches: int | None = None
    members: int | None = None
    village_names: tuple[str, ...] = ()
    unserved: tuple[str, ...] = ()
    village_members: tuple[tuple[str, int], ...] = ()

    @property
    def unit(self) -> str:
        """Lower-case administrative name, as inside a sentence: ``xã Bản Lầu``."""
        return ("thị trấn " if self.kind == "thi_tran" else "xã ") + self.name

    @property
    def display(self) -> str:
        """Name as written in the commune column: ``Xã Bản Lầu``."""
        return self.unit[0].upper() + self.unit[1:]


@dataclass(frozen=True)
class ReportSpec:
    """Published figures of one committee's report plus the choices that fill in the rest."""

    province: str
    district: str
    year: int
    code_prefix: str
    communes: tuple[CommuneSpec, ...]
    orgs_party_committee: int
    orgs_grassroots_branch: int
    villages: int
    branches_total: int
    village_branch_committees: int
    members_total: int
    org_grades: Mapping[str, int]
    seed: int
    villages_without_branch: int = 0
    committee_code: str | None = None
    committee_level: str = "huyen"
    village_kind: Literal["thon", "ban"] = "thon"
    grade_style: Literal["label", "abbr"] = "label"
    probationary_share: float = 0.05
    ethnic_minority_share: float = 0.8
    member_htnv_share: tuple[float, float] = (0.03, 0.08)
    preparer: str = "Nguyễn Thị Hoa"
    contact_email: str = "tochuc@example.org"
    awareness_classes: int | None = None
    village_branches_with_committee_pct: float | None = None  # the published share (%), when there is one

    @property
    def committee_name(self) -> str:
        return f"Đảng bộ huyện {self.district}"

    @property
    def orgs_total(self) -> int:
        return self.orgs_party_committee + self.orgs_grassroots_branch

    @property
    def old_scale(self) -> bool:
        """The year's grading rule (contract) grades organisations TSVM / HTTNV / HTNV / Yếu kém."""
        rule = load_contract().grading_rule(self.year)
        return rule is not None and "TSVM" in rule.org_grades


# ---------------------------------------------------------------------------------------------
# Name pools
# ---------------------------------------------------------------------------------------------

# Syllables of local place names, combined to name villages the seeds do not name.
_SYLLABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Lào Cai": (
        (
            "Na",
            "Pạc",
            "Cốc",
            "Lùng",
            "Sín",
            "Tả",
            "Pả",
            "Sảng",
            "Mã",
            "Làng",
            "Nậm",
            "Khe",
            "Thàng",
            "Ngải",
            "Phìn",
            "Sán",
            "Cán",
            "Lử",
            "Mào",
            "Chu",
            "Pờ",
            "Seo",
            "Coóc",
            "Hoá",
            "Pha",
            "Dìn",
            "Tảo",
            "Lao",
            "Chúng",
            "Vải",
        ),
        (
            "Lốc",
            "Chải",
            "Phố",
            "Thẩn",
            "Ngài",
            "Chồ",
            "Cang",
            "Pan",
            "Sáng",
            "Khẩu",
            "Đớ",
            "Tẩn",
            "Sen",
            "Mòn",
            "Chư",
            "Dì",
            "Vàng",
            "Hồ",
            "Lý",
            "Xin",
            "Giàng",
            "Sinh",
            "Pao",
            "Hạ",
            "Thượng",
            "Mế",
            "Chéng",
            "Cấu",
            "Chảy",
            "Nhin",
        ),
    ),
    "Điện Biên": (
        (
            "Huổi",
            "Nậm",
            "Pá",
            "Nà",
            "Phiêng",
            "Hua",
            "Tàng",
            "Pắc",
            "Co",
            "Chẩn",
            "Ham",
            "Sín",
            "Lả",
            "Cà",
            "Xá",
            "Long",
            "Đoàn",
            "Trạm",
            "Nặm",
            "Púng",
        ),
        (
            "Cắn",
            "Là",
            "Pán",
            "Khăm",
            "Lếch",
            "Mỳ",
            "Vì",
            "Kè",
            "Pục",
            "Ban",
            "Lụ",
            "Thanh",
            "Sang",
            "Khon",
            "Lính",
            "San",
            "Chải",
            "Phin",
            "Pa",
            "Xả",
            "Thầu",
            "Ló",
            "Nưa",
            "Hẹ",
            "Cang",
            "Pết",
        ),
    ),
}

# Non-village branches of a commune committee, in the order communes usually have them:
# (branch_kind, name template, typical members). {unit}: "xã Bản Lầu", {place}: "Bản Lầu".
_COMMUNE_BRANCHES: tuple[tuple[str, str, tuple[int, int]], ...] = (
    ("co_quan", "Chi bộ Cơ quan {unit}", (12, 25)),
    ("truong_hoc", "Chi bộ Trường Tiểu học {place}", (6, 15)),
    ("truong_hoc", "Chi bộ Trường THCS {place}", (6, 15)),
    ("truong_hoc", "Chi bộ Trường Mầm non {place}", (5, 12)),
    ("tram_y_te", "Chi bộ Trạm Y tế {unit}", (3, 7)),
    ("quan_su", "Chi bộ Quân sự {unit}", (3, 8)),
    ("cong_an", "Chi bộ Công an {unit}", (3, 8)),
    ("co_quan", "Chi bộ Khối đoàn thể {unit}", (4, 9)),
    ("truong_hoc", "Chi bộ Trường Tiểu học số 2 {place}", (4, 10)),
    ("doanh_nghiep", "Chi bộ Hợp tác xã Nông nghiệp {place}", (3, 6)),
)


@dataclass(frozen=True)
class _OrgTemplate:
    name: str
    sector: str
    branch_kind: str = "co_quan"
    branches: tuple[str, ...] = ()


# District-level đảng bộ cơ sở other than the communes, in the order they are used.
_OTHER_COMMITTEES: tuple[_OrgTemplate, ...] = (
    _OrgTemplate(
        "Đảng bộ Công an huyện {d}",
        "luc_luong_vu_trang",
        "cong_an",
        (
            "Chi bộ Đội Cảnh sát điều tra",
            "Chi bộ Đội An ninh",
            "Chi bộ Đội Tham mưu – Tổng hợp",
            "Chi bộ Đội Cảnh sát quản lý hành chính",
            "Chi bộ Đội Cảnh sát giao thông – trật tự",
            "Chi bộ Đội Cảnh sát phòng cháy chữa cháy",
            "Chi bộ Đội Cảnh sát kinh tế – ma túy",
        ),
    ),
    _OrgTemplate(
        "Đảng bộ Quân sự huyện {d}",
        "luc_luong_vu_trang",
        "quan_su",
        (
            "Chi bộ Cơ quan Tham mưu",
            "Chi bộ Chính trị – Hậu cần – Kỹ thuật",
            "Chi bộ Trung đội Bộ binh",
            "Chi bộ Trung đội Cơ động",
        ),
    ),
    _OrgTemplate(
        "Đảng bộ Cơ quan Ủy ban nhân dân huyện {d}",
        "co_quan",
        "co_quan",
        (
            "Chi bộ Văn phòng HĐND và UBND",
            "Chi bộ Phòng Tài chính – Kế hoạch",
            "Chi bộ Phòng Nội vụ",
            "Chi bộ Phòng Nông nghiệp và Phát triển nông thôn",
            "Chi bộ Phòng Tài nguyên và Môi trường",
            "Chi bộ Phòng Kinh tế – Hạ tầng",
            "Chi bộ Phòng Văn hóa và Thông tin",
            "Chi bộ Phòng Lao động – Thương binh và Xã hội",
            "Chi bộ Thanh tra huyện",
            "Chi bộ Phòng Tư pháp",
            "Chi bộ Phòng Dân tộc",
            "Chi bộ Phòng Y tế",
        ),
    ),
    _OrgTemplate(
        "Đảng bộ Các cơ quan Đảng huyện {d}",
        "co_quan",
        "co_quan",
        (
            "Chi bộ Văn phòng Huyện ủy",
            "Chi bộ Ban Tổ chức Huyện ủy",
            "Chi bộ Ban Tuyên giáo Huyện ủy",
            "Chi bộ Ủy ban Kiểm tra Huyện ủy",
            "Chi bộ Ban Dân vận Huyện ủy",
            "Chi bộ Trung tâm Chính trị huyện",
        ),
    ),
    _OrgTemplate(
        "Đảng bộ Khối Mặt trận và các đoàn thể huyện {d}",
        "co_quan",
        "co_quan",
        (
            "Chi bộ Ủy ban Mặt trận Tổ quốc huyện",
            "Chi bộ Huyện đoàn",
            "Chi bộ Hội Liên hiệp Phụ nữ huyện",
            "Chi bộ Hội Nông dân huyện",
            "Chi bộ Hội Cựu chiến binh huyện",
        ),
    ),
    _OrgTemplate(
        "Đảng bộ Trung tâm Y tế huyện {d}",
        "don_vi_su_nghiep",
        "khac",
        (
            "Chi bộ Hành chính – Tổng hợp",
            "Chi bộ Khoa Khám bệnh",
            "Chi bộ Khoa Nội – Nhi",
            "Chi bộ Khoa Ngoại – Sản",
            "Chi bộ Khoa Kiểm soát bệnh tật",
            "Chi bộ Khoa Dược – Xét nghiệm",
        ),
    ),
    _OrgTemplate(
        "Đảng bộ Ban Quản lý dự án đầu tư xây dựng huyện {d}",
        "don_vi_su_nghiep",
        "co_quan",
        ("Chi bộ Phòng Kế hoạch – Tổng hợp", "Chi bộ Phòng Kỹ thuật", "Chi bộ Phòng Giải phóng mặt bằng"),
    ),
)

# District-level chi bộ cơ sở, in the order they are used: (name, sector).
_GRASSROOTS_BRANCHES: tuple[tuple[str, str], ...] = (
    ("Chi bộ Trường THPT số 1 {d}", "don_vi_su_nghiep"),
    ("Chi bộ Trường Phổ thông Dân tộc nội trú THCS và THPT {d}", "don_vi_su_nghiep"),
    ("Chi bộ Phòng Giáo dục và Đào tạo huyện {d}", "co_quan"),
    ("Chi bộ Tòa án nhân dân huyện {d}", "co_quan"),
    ("Chi bộ Viện Kiểm sát nhân dân huyện {d}", "co_quan"),
    ("Chi bộ Chi cục Thi hành án dân sự huyện {d}", "co_quan"),
    ("Chi bộ Kho bạc Nhà nước {d}", "co_quan"),
    ("Chi bộ Chi cục Thuế huyện {d}", "co_quan"),
    ("Chi bộ Bảo hiểm xã hội huyện {d}", "co_quan"),
    ("Chi bộ Trung tâm Giáo dục nghề nghiệp – Giáo dục thường xuyên {d}", "don_vi_su_nghiep"),
    ("Chi bộ Trường THPT số 2 {d}", "don_vi_su_nghiep"),
    ("Chi bộ Hạt Kiểm lâm {d}", "co_quan"),
    ("Chi bộ Chi cục Thống kê {d}", "co_quan"),
    ("Chi bộ Ngân hàng Nông nghiệp và Phát triển nông thôn chi nhánh {d}", "doanh_nghiep"),
    ("Chi bộ Phòng giao dịch Ngân hàng Chính sách xã hội huyện {d}", "khac"),
    ("Chi bộ Điện lực {d}", "doanh_nghiep"),
    ("Chi bộ Bưu điện huyện {d}", "doanh_nghiep"),
    ("Chi bộ Viettel {d}", "doanh_nghiep"),
    ("Chi bộ Trung tâm Văn hóa, Thể thao và Truyền thông huyện {d}", "don_vi_su_nghiep"),
    ("Chi bộ Trung tâm Dịch vụ nông nghiệp huyện {d}", "don_vi_su_nghiep"),
    ("Chi bộ Trung tâm Phát triển quỹ đất huyện {d}", "don_vi_su_nghiep"),
    ("Chi bộ Chi nhánh Văn phòng Đăng ký đất đai huyện {d}", "don_vi_su_nghiep"),
    ("Chi bộ Ban Quản lý rừng phòng hộ {d}", "don_vi_su_nghiep"),
    ("Chi bộ Đội Quản lý thị trường {d}", "co_quan"),
    ("Chi bộ Phòng khám Đa khoa khu vực {d}", "don_vi_su_nghiep"),
    ("Chi bộ Trường THPT số 3 {d}", "don_vi_su_nghiep"),
    ("Chi bộ Hạt Quản lý đường bộ {d}", "don_vi_su_nghiep"),
    ("Chi bộ Trung tâm Y tế dự phòng huyện {d}", "don_vi_su_nghiep"),
    ("Chi bộ Trạm Khuyến nông huyện {d}", "don_vi_su_nghiep"),
    ("Chi bộ Ban Quản lý chợ {d}", "don_vi_su_nghiep"),
)

_BRANCH_GRADE_WEIGHTS: dict[bool, dict[str, float]] = {
    False: {"HTXSNV": 0.15, "HTTNV": 0.70, "HTNV": 0.14, "KHTNV": 0.01},
    True: {"TSVM": 0.45, "HTTNV": 0.40, "HTNV": 0.14, "YEU_KEM": 0.01},
}


# ---------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------


def apportion(total: int, desired: Sequence[float], lows: Sequence[int], highs: Sequence[int]) -> list[int]:
    """Integers within ``[low, high]`` that sum to ``total``, spread in proportion to ``desired``.

    What lies above each low is shared in proportion to ``desired - low`` (largest remainders);
    shares that would pass their high are capped and the rest shared again.
    """
    if not sum(lows) <= total <= sum(highs):
        raise ValueError(f"cannot apportion {total} within [{sum(lows)}, {sum(highs)}]")
    result = list(lows)
    remaining = total - sum(lows)
    open_ = [i for i in range(len(result)) if highs[i] > lows[i]]
    while remaining > 0:
        weights = {i: max(desired[i] - lows[i], 0.5) for i in open_}
        scale = remaining / sum(weights.values())
        shares = {i: weights[i] * scale for i in open_}
        capped = [i for i in open_ if result[i] + shares[i] >= highs[i]]
        if capped:
            for i in capped:
                remaining -= highs[i] - result[i]
                result[i] = highs[i]
            open_ = [i for i in open_ if i not in capped]
            continue
        floors = {i: int(shares[i]) for i in open_}
        for i in open_:
            result[i] += floors[i]
        left = remaining - sum(floors.values())
        for i in sorted(open_, key=lambda i: (floors[i] - shares[i], i))[:left]:
            result[i] += 1
        remaining = 0
    return result


@cache
def _grade_spellings() -> dict[str, str]:
    spellings: dict[str, str] = {}
    for grade in load_contract().grades:
        for spelling in grade.spellings():
            spellings[fold(spelling)] = grade.code
    return spellings


def grade_code(text: Any) -> str | None:
    """The contract code of a grade as written (label, abbreviation or alias); None if blank."""
    if text is None or str(text).strip() == "":
        return None
    return _grade_spellings().get(fold(str(text)))


def grade_text(code: str, style: Literal["label", "abbr"]) -> str:
    """A grade as an office writes it: the full Vietnamese label or the abbreviation."""
    if style == "abbr" and code != "YEU_KEM":
        return code
    return next(g.label for g in load_contract().grades if g.code == code)


def committee_ratio(report: Mapping[str, Any]) -> float:
    """Share of village/residential branches with a branch committee, in per cent."""
    village = [b for b in report["chi_bo"] if b["branch_kind"] in ("thon", "to_dan_pho")]
    with_committee = sum(1 for b in village if b["has_branch_committee"] == YES)
    return 100 * with_committee / len(village)


ADMISSION_BREAKDOWN = (
    "admitted_no_member_places",
    "admitted_no_branch_places",
    "admitted_in_villages",
    "admitted_in_schools",
    "admitted_in_health_stations",
)


def totals_from_details(report: Mapping[str, Any]) -> Row:
    """The ``tong_hop`` totals a report must declare, recomputed from its detail sheets exactly as the
    contract's ``detail`` declarations say (the declarations the warehouse's int_submission_detail_totals is
    generated from): the demo writes totals, it does not define them."""
    grade_fields = {f.name for s in load_contract().sheets for f in s.fields if f.type == "grade"}

    def canonical(column: str, value: Any) -> str:
        return str(grade_code(value) if column in grade_fields else value)

    totals: Row = {}
    for summary in load_contract().sheet("tong_hop").fields:
        detail = summary.detail
        if detail is None:
            continue
        rows = [
            row
            for row in report.get(detail.sheet, ())
            if all(canonical(column, row.get(column)) == wanted for column, wanted in detail.where.items())
            and (not detail.any_of or any(row.get(name) not in (None, "", NO) for name in detail.any_of))
        ]
        if detail.aggregate == "sum":
            totals[summary.name] = sum(row.get(detail.column) or 0 for row in rows)
        else:
            totals[summary.name] = len(rows)
    return totals


# ---------------------------------------------------------------------------------------------
# Planning: villages, branches, members
# ---------------------------------------------------------------------------------------------


@dataclass
class _Unit:
    """A branch (subordinate or chi bộ cơ sở) whose members are still to be drawn."""

    name: str
    kind: str
    low: int
    high: int
    desired: float
    committee: bool | None = None  # None: decided from the full members drawn
    commune: CommuneSpec | None = None
    village: tuple[str, str] | None = None  # (village name, village_kind)
    members: int = 0
    official: int = 0


@dataclass
class _Org:
    name: str
    kind: str
    sector: str
    branches: list[_Unit] = field(default_factory=list)
    own: _Unit | None = None  # a chi bộ cơ sở's own membership
    commune: CommuneSpec | None = None


def _village_names(rng: random.Random, province: str, count: int, known: Sequence[str]) -> list[str]:
    """``count`` distinct village names: the known ones first, then plausible local ones."""
    names = list(known[:count])
    firsts, seconds = _SYLLABLES.get(province, _SYLLABLES["Lào Cai"])
    while len(names) < count:
        base = f"{rng.choice(firsts)} {rng.choice(seconds)}"
        if any(n == base or n.startswith(base + " ") for n in names):
            continue
        if count - len(names) >= 2 and rng.random() < 0.15:
            names += [f"{base} 1", f"{base} 2"]
        else:
            names.append(base)
    return names


def _village_counts(spec: ReportSpec, rng: random.Random) -> list[int]:
    fixed = sum(c.villages or 0 for c in spec.communes)
    free = [i for i, c in enumerate(spec.communes) if c.villages is None]
    drawn = apportion(spec.villages - fixed, [rng.uniform(7, 14) for _ in free], [4] * len(free), [40] * len(free))
    counts = [c.villages or 0 for c in spec.communes]
    for i, n in zip(free, drawn, strict=True):
        counts[i] = n
    return counts


def _unserved_villages(
    spec: ReportSpec, villages: Sequence[tuple[CommuneSpec, str]], rng: random.Random
) -> set[tuple[str, str]]:
    """Villages with no member and no branch: the named ones plus drawn ones in other communes."""
    named = {(c.name, v) for c in spec.communes for v in c.unserved}
    pool = [
        (c.name, v)
        for c, v in villages
        if c.kind == "xa" and not c.unserved and c.other_branches is None and c.members is None
    ]
    extra = spec.villages_without_branch - len(named)
    if extra < 0 or extra > len(pool):
        raise ValueError("cannot place the villages without branch")
    return named | set(rng.sample(pool, extra))


def _village_units(spec: ReportSpec, rng: random.Random) -> tuple[list[_Unit], list[Row]]:
    """One unit per served village and the ``thon_ban`` skeleton (members filled in later)."""
    units: list[_Unit] = []
    villages: list[tuple[CommuneSpec, str]] = []
    for commune, count in zip(spec.communes, _village_counts(spec, rng), strict=True):
        if commune.kind == "thi_tran":
            names = [f"Tổ dân phố số {k}" for k in range(1, count + 1)]
        else:
            names = _village_names(rng, spec.province, count, commune.village_names + commune.unserved)
        villages += [(commune, name) for name in names]
    unserved = _unserved_villages(spec, villages, rng)
    skeleton: list[Row] = []
    for commune, name in villages:
        kind = "to_dan_pho" if commune.kind == "thi_tran" else spec.village_kind
        skeleton.append({"commune": commune.display, "village_name": name, "village_kind": kind})
        if (commune.name, name) in unserved:
            continue
        branch_name = name if kind == "to_dan_pho" else f"{'thôn' if kind == 'thon' else 'bản'} {name}"
        units.append(
            _Unit(
                name=f"Chi bộ {branch_name}",
                kind="to_dan_pho" if kind == "to_dan_pho" else "thon",
                low=0,
                high=0,
                desired=0,
                commune=commune,
                village=(name, kind),
            )
        )
    _set_committees(spec, units, rng)
    return units, skeleton


def _village_key(unit: _Unit) -> tuple[str, str]:
    """(commune name, village name) of a village branch."""
    if unit.commune is None or unit.village is None:
        raise ValueError(f"{unit.name} is not a village branch")
    return unit.commune.name, unit.village[0]


def _set_committees(spec: ReportSpec, units: list[_Unit], rng: random.Random) -> None:
    """Give exactly ``village_branch_committees`` village branches a committee, and member bounds."""
    pinned = {(c.name, v): m for c in spec.communes for v, m in c.village_members}
    forced = [u for u in units if pinned.get(_village_key(u), 0) > COMMITTEE_MIN_OFFICIAL]
    rest = [u for u in units if u not in forced]
    rest.sort(key=lambda u: rng.random() - (0.4 if u.kind == "to_dan_pho" else 0.0))
    chosen = forced + rest[: spec.village_branch_committees - len(forced)]
    if len(chosen) != spec.village_branch_committees:
        raise ValueError("more branch committees than village branches")
    chosen_ids = {id(u) for u in chosen}
    for unit in units:
        unit.committee = id(unit) in chosen_ids
        if unit.committee:
            unit.low, unit.high = COMMITTEE_MIN_OFFICIAL + 1, 60
            unit.desired = rng.uniform(16, 40) if unit.kind == "to_dan_pho" else rng.uniform(11, 26)
        else:
            unit.low, unit.high, unit.desired = 3, COMMITTEE_MIN_OFFICIAL - 1, rng.uniform(4, 8)
        members = pinned.get(_village_key(unit))
        if members is not None:
            unit.low = unit.high = members


def _other_branch_counts(spec: ReportSpec, village_units: Sequence[_Unit], rng: random.Random) -> list[int]:
    """Non-village branches per commune committee, then per other đảng bộ cơ sở."""
    others = spec.orgs_party_committee - len(spec.communes)
    if not 0 <= others <= len(_OTHER_COMMITTEES):
        raise ValueError(f"{others} đảng bộ cơ sở besides the communes: not supported")
    fixed = sum(c.other_branches or 0 for c in spec.communes)
    free = [i for i, c in enumerate(spec.communes) if c.other_branches is None]
    lows = [2] * len(free) + [3] * others
    highs = [len(_COMMUNE_BRANCHES)] * len(free) + [14] * others
    desired = [rng.uniform(3, 7) for _ in free] + [rng.uniform(4, 9) for _ in range(others)]
    drawn = apportion(spec.branches_total - len(village_units) - fixed, desired, lows, highs)
    counts = [c.other_branches or 0 for c in spec.communes] + drawn[len(free) :]
    for i, n in zip(free, drawn, strict=False):
        counts[i] = n
    return counts


def _commune_branch_units(commune: CommuneSpec, count: int, rng: random.Random) -> list[_Unit]:
    if count > len(_COMMUNE_BRANCHES):
        raise ValueError(f"{commune.unit}: at most {len(_COMMUNE_BRANCHES)} non-village branches")
    return [
        _Unit(
            name=template.format(unit=commune.unit, place=commune.name),
            kind=kind,
            low=BRANCH_MIN_OFFICIAL,
            high=40,
            desired=rng.uniform(*typical),
            commune=commune,
        )
        for kind, template, typical in _COMMUNE_BRANCHES[:count]
    ]


def _other_committee_units(template: _OrgTemplate, count: int, rng: random.Random) -> list[_Unit]:
    names = list(template.branches[:count]) + [f"Chi bộ số {k}" for k in range(len(template.branches) + 1, count + 1)]
    return [
        _Unit(name=name, kind=template.branch_kind, low=BRANCH_MIN_OFFICIAL, high=40, desired=rng.uniform(5, 16))
        for name in names
    ]


def _plan_orgs(spec: ReportSpec, village_units: list[_Unit], rng: random.Random) -> list[_Org]:
    """All organisations in code order: communes, other đảng bộ cơ sở, chi bộ cơ sở."""
    counts = _other_branch_counts(spec, village_units, rng)
    orgs: list[_Org] = []
    for commune, count in zip(spec.communes, counts, strict=False):
        own_villages = [u for u in village_units if u.commune is commune]
        orgs.append(
            _Org(
                name=f"Đảng bộ {commune.unit}",
                kind="dang_bo_co_so",
                sector="xa_phuong_thi_tran",
                branches=own_villages + _commune_branch_units(commune, count, rng),
                commune=commune,
            )
        )
    for template, count in zip(_OTHER_COMMITTEES, counts[len(spec.communes) :], strict=False):
        orgs.append(
            _Org(
                name=template.name.format(d=spec.district),
                kind="dang_bo_co_so",
                sector=template.sector,
                branches=_other_committee_units(template, count, rng),
            )
        )
    if spec.orgs_grassroots_branch > len(_GRASSROOTS_BRANCHES):
        raise ValueError(f"at most {len(_GRASSROOTS_BRANCHES)} chi bộ cơ sở supported")
    for name, sector in _GRASSROOTS_BRANCHES[: spec.orgs_grassroots_branch]:
        own = _Unit(
            name=name.format(d=spec.district),
            kind="khac",
            low=BRANCH_MIN_OFFICIAL,
            high=GRASSROOTS_BRANCH_MAX,
            desired=rng.uniform(5, 20),
        )
        orgs.append(_Org(name=own.name, kind="chi_bo_co_so", sector=sector, own=own))
    return orgs


def _units_of(org: _Org) -> list[_Unit]:
    return [org.own] if org.own else org.branches


def _draw_members(spec: ReportSpec, orgs: Sequence[_Org], rng: random.Random) -> None:
    """Spread the members over all units (pinned communes apart), then split official/probationary."""
    free: list[_Unit] = []
    pinned_total = 0
    for org in orgs:
        if org.commune is not None and org.commune.members is not None:
            _apportion_units(_units_of(org), org.commune.members)
            pinned_total += org.commune.members
        else:
            free += _units_of(org)
    _apportion_units(free, spec.members_total - pinned_total)
    for unit in (u for org in orgs for u in _units_of(org)):
        unit.official = _official(unit, spec.probationary_share, rng)
        if unit.committee is None:
            unit.committee = unit.official >= COMMITTEE_MIN_OFFICIAL


def _apportion_units(units: Sequence[_Unit], total: int) -> None:
    drawn = apportion(total, [u.desired for u in units], [u.low for u in units], [u.high for u in units])
    for unit, members in zip(units, drawn, strict=True):
        unit.members = members


def _official(unit: _Unit, share: float, rng: random.Random) -> int:
    """Full members of a unit, keeping its committee status consistent with the Statute."""
    probationary = round(unit.members * share * rng.uniform(0.3, 1.7))
    if unit.committee is True:
        probationary = min(probationary, unit.members - COMMITTEE_MIN_OFFICIAL)
    elif unit.committee is False:
        probationary = max(probationary, unit.members - (COMMITTEE_MIN_OFFICIAL - 1))
    probationary = max(0, min(probationary, unit.members - BRANCH_MIN_OFFICIAL))
    return unit.members - probationary


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------


def _member_grades(total: int, htnv_share: tuple[float, float], rng: random.Random) -> Row:
    """Member grades adding up to ``total``, HTXSNV at most 20 % of HTTNV."""
    not_rated = round(total * rng.uniform(0.0, 0.05))
    rated = total - not_rated
    khtnv = round(rated * 0.01) if rng.random() < 0.3 else 0
    htnv = round(rated * rng.uniform(*htnv_share))
    rest = rated - khtnv - htnv
    htxsnv = min(round(rest * rng.uniform(0.08, 0.16)), rest // 6)
    return {
        "members_htxsnv": htxsnv,
        "members_httnv": rest - htxsnv,
        "members_htnv": htnv,
        "members_khtnv": khtnv,
        "members_not_rated": not_rated,
    }


def _org_row(spec: ReportSpec, org: _Org, code: str, grade: str, rng: random.Random) -> Row:
    units = _units_of(org)
    total = sum(u.members for u in units)
    official = sum(u.official for u in units)
    probationary = total - official
    minority_share = spec.ethnic_minority_share * (1.0 if org.commune else 0.6)
    return {
        "org_code": code,
        "org_name": org.name,
        "org_kind": org.kind,
        "sector": org.sector,
        "branches_declared": len(org.branches) if org.kind == "dang_bo_co_so" else None,
        "members_total": total,
        "members_official": official,
        "members_probationary": probationary,
        "members_female": round(total * rng.uniform(0.22, 0.36 if org.commune else 0.55)),
        "members_ethnic_minority": round(total * min(1.0, minority_share * rng.uniform(0.85, 1.15))),
        "admitted": round(probationary * rng.uniform(0.55, 0.9)),
        "transferred_in": round(total * rng.uniform(0.0, 0.03)),
        "transferred_out": round(total * rng.uniform(0.0, 0.025)),
        "deceased": round(total * rng.uniform(0.0, 0.012)),
        "struck_off": 1 if total > 60 and rng.random() < 0.2 else 0,
        "expelled_dismissed": 1 if total > 100 and rng.random() < 0.1 else 0,
        "org_grade": grade_text(grade, spec.grade_style),
        **_member_grades(total, spec.member_htnv_share, rng),
    }


def _branch_row(spec: ReportSpec, unit: _Unit, parent: str, code: str, rng: random.Random) -> Row:
    weights = _BRANCH_GRADE_WEIGHTS[spec.old_scale]
    grade = rng.choices(list(weights), weights=list(weights.values()))[0]
    return {
        "parent_org_code": parent,
        "branch_code": code,
        "branch_name": unit.name,
        "branch_kind": unit.kind,
        "has_branch_committee": YES if unit.committee else NO,
        "members_total": unit.members,
        "members_official": unit.official,
        "branch_grade": grade_text(grade, spec.grade_style),
    }


def _org_grades(spec: ReportSpec, rng: random.Random) -> list[str]:
    grades = [code for code, count in spec.org_grades.items() for _ in range(count)]
    if len(grades) != spec.orgs_total:
        raise ValueError(f"{len(grades)} organisation grades for {spec.orgs_total} organisations")
    rng.shuffle(grades)
    return grades


def _thong_tin(spec: ReportSpec, rng: random.Random) -> Row:
    return {
        "province": spec.province,
        "committee_name": spec.committee_name,
        "committee_code": spec.committee_code,
        "committee_level": spec.committee_level,
        "report_year": spec.year,
        "prepared_on": f"{spec.year + 1}-01-{rng.randint(5, 25):02d}",
        "preparer": spec.preparer,
        "contact_email": spec.contact_email,
    }


def _tong_hop(spec: ReportSpec, report: Report, rng: random.Random) -> Row:
    totals = totals_from_details(report)
    if spec.old_scale:  # the old organisation scale has no HTXSNV and no KHTNV line
        totals["orgs_htxsnv"] = totals["orgs_khtnv"] = None
    classes = spec.awareness_classes or max(1, round(totals["admitted"] / 25))
    totals["awareness_classes"] = classes
    totals["awareness_attendees"] = round(totals["admitted"] * rng.uniform(1.6, 2.4))
    for breakdown in ADMISSION_BREAKDOWN:  # a committee report does not break admissions down by place
        totals[breakdown] = None
    totals["village_branches_with_committee_pct"] = spec.village_branches_with_committee_pct
    return totals


def synthesise_report(spec: ReportSpec) -> Report:
    """A full report (all five sheets) whose details add up exactly to the spec's figures."""
    rng = random.Random(spec.seed)
    village_units, skeleton = _village_units(spec, rng)
    orgs = _plan_orgs(spec, village_units, rng)
    _draw_members(spec, orgs, rng)
    grades = _org_grades(spec, rng)
    org_rows: list[Row] = []
    branch_rows: list[Row] = []
    branch_of_village: dict[tuple[str, str], Row] = {}
    for index, (org, grade) in enumerate(zip(orgs, grades, strict=True), start=1):
        code = f"{spec.code_prefix}{index:02d}"
        org_rows.append(_org_row(spec, org, code, grade, rng))
        for number, unit in enumerate(org.branches, start=1):
            row = _branch_row(spec, unit, code, f"{code}.{number:02d}", rng)
            branch_rows.append(row)
            if unit.village and unit.commune:
                branch_of_village[(unit.commune.display, unit.village[0])] = row
    village_rows = [_village_row(v, branch_of_village.get((v["commune"], v["village_name"]))) for v in skeleton]
    report: Report = {
        "thong_tin": _thong_tin(spec, rng),
        "to_chuc_co_so": org_rows,
        "chi_bo": branch_rows,
        "thon_ban": village_rows,
    }
    report["tong_hop"] = _tong_hop(spec, report, rng)
    return report


def _village_row(skeleton: Row, branch: Row | None) -> Row:
    return {
        **skeleton,
        "members": branch["members_total"] if branch else 0,
        "branch_code": branch["branch_code"] if branch else None,
        "joint_branch": NO,
    }


# ---------------------------------------------------------------------------------------------
# The samples
# ---------------------------------------------------------------------------------------------

MUONG_KHUONG_2023 = ReportSpec(
    province="Lào Cai",
    district="Mường Khương",
    year=2023,
    code_prefix="MK",
    committee_code="083",
    communes=(
        CommuneSpec("Mường Khương", "thi_tran"),
        *(
            CommuneSpec(name)
            for name in (
                "Bản Lầu",
                "Bản Sen",
                "Cao Sơn",
                "Dìn Chin",
                "La Pan Tẩn",
                "Lùng Khấu Nhin",
                "Lùng Vai",
                "Nấm Lư",
                "Nậm Chảy",
                "Pha Long",
                "Tả Gia Khâu",
                "Tả Ngải Chồ",
                "Tả Thàng",
                "Thanh Bình",
                "Tung Chung Phố",
            )
        ),
    ),
    orgs_party_committee=20,
    orgs_grassroots_branch=22,
    villages=157,
    branches_total=243,
    village_branch_committees=115,
    village_branches_with_committee_pct=73.2,  # published: 115 of the 157 village branches have a chi ủy
    members_total=3792,
    org_grades={"HTXSNV": 8, "HTTNV": 34},
    seed=20231,
    grade_style="abbr",
    ethnic_minority_share=0.85,
    preparer="Lù Thị Mai",
    contact_email="bantochuc.muongkhuong@example.org",
)
"""Mường Khương 2023: every figure is published (16 communes = 15 xã + thị trấn Mường Khương)."""

BAO_THANG_2024 = ReportSpec(
    province="Lào Cai",
    district="Bảo Thắng",
    year=2024,
    code_prefix="BT",
    committee_code="086",
    communes=(
        CommuneSpec("Phố Lu", "thi_tran"),
        CommuneSpec("Tằng Loỏng", "thi_tran"),
        CommuneSpec("Nông trường Phong Hải", "thi_tran"),
        CommuneSpec(
            "Sơn Hà",
            villages=10,
            other_branches=6,
            members=276,
            village_names=("Khe Đền",),
            village_members=(("Khe Đền", 16),),
        ),
        *(
            CommuneSpec(name)
            for name in (
                "Bản Cầm",
                "Bản Phiệt",
                "Gia Phú",
                "Phong Niên",
                "Phú Nhuận",
                "Sơn Hải",
                "Thái Niên",
                "Trì Quang",
                "Xuân Giao",
                "Xuân Quang",
            )
        ),
    ),
    orgs_party_committee=19,
    orgs_grassroots_branch=13,
    villages=196,
    branches_total=342,
    village_branch_committees=180,
    members_total=5512,
    org_grades={"HTXSNV": 5, "HTTNV": 24, "HTNV": 3},
    seed=20241,
    probationary_share=0.075,
    ethnic_minority_share=0.55,
    preparer="Hoàng Văn Phúc",
    contact_email="huyenuy.baothang@example.org",
)
"""Bảo Thắng 2024.

Published: 32 TCCSĐ, 342 subordinate branches, "more than 5,500" members; Sơn Hà commune committee
has 10 village + 6 agency branches and 276 members, and the Khe Đền village branch 16 members with
a branch committee. Chosen here: 5,512 members (the smallest round-looking figure above 5,500),
32 = 19 đảng bộ cơ sở (14 communes/towns + 5 district bodies) + 13 chi bộ cơ sở, 196 villages and
residential groups all with a branch, 180 of them with a branch committee, grades 5 HTXSNV +
24 HTTNV + 3 HTNV. The probationary share is set so that admissions come near the published target
of at least 280 a year.
"""

SI_MA_CAI_2024 = ReportSpec(
    province="Lào Cai",
    district="Si Ma Cai",
    year=2024,
    code_prefix="SMC",
    committee_code="084",
    communes=(
        CommuneSpec("Si Ma Cai", "thi_tran"),
        *(
            CommuneSpec(name)
            for name in (
                "Bản Mế",
                "Cán Cấu",
                "Lùng Thẩn",
                "Nàn Sán",
                "Nàn Sín",
                "Quan Hồ Thẩn",
                "Sán Chải",
                "Sín Chéng",
                "Thào Chư Phìn",
            )
        ),
    ),
    orgs_party_committee=14,
    orgs_grassroots_branch=26,
    villages=88,
    branches_total=162,
    village_branch_committees=85,
    members_total=2469,
    org_grades={"HTXSNV": 6, "HTTNV": 27, "HTNV": 7},
    seed=20242,
    grade_style="abbr",
    ethnic_minority_share=0.92,
    preparer="Giàng Seo Páo",
    contact_email="vanphong.simacai@example.org",
)
"""Si Ma Cai 2024.

Published: 40 TCCSĐ, 2,469 members, more than 80 % graded HTTNV or better, none weak, more than
95 % of village branches with a committee. Chosen: 40 = 14 đảng bộ cơ sở (10 communes/towns +
4 district bodies) + 26 chi bộ cơ sở; grades 6 + 27 + 7 HTNV (82.5 % HTTNV or better); 88 villages
all with a branch, 85 with a committee (96.6 %); 162 subordinate branches.
"""

MUONG_NHE_2016 = ReportSpec(
    province="Điện Biên",
    district="Mường Nhé",
    year=2016,
    code_prefix="MN",
    committee_code="096",
    communes=(
        CommuneSpec(
            "Mường Nhé",
            villages=13,
            other_branches=6,
            members=242,
            village_names=("Mường Nhé", "Nậm Là", "Nà Pán", "Phiêng Khăm"),
        ),
        CommuneSpec("Mường Toong", unserved=("Huổi Cắn",)),
        CommuneSpec("Chung Chải"),
        CommuneSpec("Huổi Lếch"),
        CommuneSpec("Leng Su Sìn"),
        CommuneSpec("Nậm Kè"),
        CommuneSpec("Nậm Vì"),
        CommuneSpec("Pá Mỳ"),
        CommuneSpec("Quảng Lâm"),
        CommuneSpec("Sen Thượng", village_names=("Tả Ló San",)),
        CommuneSpec("Sín Thầu"),
    ),
    orgs_party_committee=14,
    orgs_grassroots_branch=28,
    villages=104,
    villages_without_branch=8,
    branches_total=141,
    village_branch_committees=58,
    members_total=1724,
    org_grades={"TSVM": 21, "HTTNV": 16, "HTNV": 5},
    seed=20161,
    village_kind="ban",
    member_htnv_share=(0.02, 0.05),
    probationary_share=0.2,
    awareness_classes=8,
    ethnic_minority_share=0.8,
    preparer="Lò Văn Thanh",
    contact_email="bantochuc.muongnhe@example.org",
)
"""Mường Nhé 2016 before the planted errors.

Published: 42 organisations, 141 subordinate branches, more than 1,720 members (1,724 here), 50 %
TSVM and 38 % HTTNV (21 + 16, the other 5 HTNV), 8 villages still without a member (one of them
Huổi Cắn, Mường Toong), Mường Nhé commune committee 19 branches and 242 members. Chosen: 42 =
14 đảng bộ cơ sở (11 communes + 3 district bodies) + 28 chi bộ cơ sở, 104 villages (96 with a
branch, 58 of those with a committee).
"""


@dataclass(frozen=True)
class PlantedError:
    """A finding the validator must report on the Mường Nhé 2016 sample.

    ``key`` is the row key (org_code or branch_code) for table sheets and the field name for
    key/value sheets.
    """

    sheet: str
    key: str
    field: str
    rule: str


#: Organisation whose probationary count was lowered by 2 (Đảng bộ xã Mường Toong).
MUONG_NHE_2016_OFF_BY_TWO_ORG = "MN02"
#: Branch row dropped from chi_bo (first branch of Đảng bộ Công an huyện Mường Nhé).
MUONG_NHE_2016_DROPPED_BRANCH = "MN12.01"

#: What the validator must find. The first is planted directly; the other three all follow from
#: the one dropped branch row (the organisation's total and declared count were left as they were).
MUONG_NHE_2016_PLANTED_ERRORS: tuple[PlantedError, ...] = (
    PlantedError(
        "to_chuc_co_so",
        MUONG_NHE_2016_OFF_BY_TWO_ORG,
        "members_probationary",
        "members_official + members_probationary = members_total (off by 2)",
    ),
    PlantedError(
        "tong_hop",
        "branches_total",
        "branches_total",
        "branches_total = number of chi_bo rows (141 declared, 140 rows)",
    ),
    PlantedError(
        "to_chuc_co_so",
        "MN12",
        "branches_declared",
        "branches_declared = number of chi_bo rows of the organisation",
    ),
    PlantedError(
        "to_chuc_co_so",
        "MN12",
        "members_total",
        "members_total = sum of members_total of the organisation's branches",
    ),
)


def muong_khuong_2023() -> Report:
    return synthesise_report(MUONG_KHUONG_2023)


def bao_thang_2024() -> Report:
    return synthesise_report(BAO_THANG_2024)


def si_ma_cai_2024() -> Report:
    return synthesise_report(SI_MA_CAI_2024)


def muong_nhe_2016() -> Report:
    """Mường Nhé 2016 as a hurried office sent it: MUST BE REJECTED (see the planted errors)."""
    report = synthesise_report(MUONG_NHE_2016)
    for org in report["to_chuc_co_so"]:
        if org["org_code"] == MUONG_NHE_2016_OFF_BY_TWO_ORG:
            org["members_probationary"] -= 2
    report["chi_bo"] = [b for b in report["chi_bo"] if b["branch_code"] != MUONG_NHE_2016_DROPPED_BRANCH]
    return report


@dataclass(frozen=True)
class SampleReport:
    file_name: str
    build: Callable[[], Report]
    valid: bool
    spec: ReportSpec


SAMPLE_REPORTS: tuple[SampleReport, ...] = (
    SampleReport("lao-cai_muong-khuong_2023.xlsx", muong_khuong_2023, True, MUONG_KHUONG_2023),
    SampleReport("lao-cai_bao-thang_2024.xlsx", bao_thang_2024, True, BAO_THANG_2024),
    SampleReport("lao-cai_si-ma-cai_2024.zip", si_ma_cai_2024, True, SI_MA_CAI_2024),
    SampleReport("dien-bien_muong-nhe_2016.xlsx", muong_nhe_2016, False, MUONG_NHE_2016),
)

UNREADABLE_FILE_NAME = "bao_cao_hong.xlsx"
UNREADABLE_CONTENT = b"Bao cao dang soan, chua xong - khong phai bang tinh\n"


def write_sample_inbox(directory: Path) -> list[Path]:
    """Write the four sample reports and one unreadable file into ``directory``; return the paths.

    A file already there is left as it is: a second `make run` must find the same inbox, not new
    versions of the same reports.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for sample in SAMPLE_REPORTS:
        path = directory / sample.file_name
        writer = write_csv_zip if path.suffix == ".zip" else write_xlsx
        paths.append(path if path.exists() else writer(path, sample.build()))
    broken = directory / UNREADABLE_FILE_NAME
    if not broken.exists():
        broken.write_bytes(UNREADABLE_CONTENT)
    paths.append(broken)
    return paths
