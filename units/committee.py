"""Who submitted a report: the official unit of its committee in the report's year, or a fallback slug.

Shared by intake (which registers the key) and validation (which checks a file before it is registered).
"""

from __future__ import annotations

from contract.model import fold
from reading.reader import ParsedReport
from units.admin_units import FIRST_POST_REFORM_YEAR, Resolution, resolve_committee, resolve_province
from units.direct_committees import resolve_direct
from units.keys import unresolved_key

COMMITTEE_PREFIXES = (
    "dang bo",
    "dang uy",
    "huyen uy",
    "thanh uy",
    "thi uy",
    "huyen",
    "thi xa",
    "thanh pho",
    "quan",
    "xa",
    "phuong",
    "thi tran",
    "dac khu",
    "h",
    "tp",
    "tx",
)


FIRST_COMMUNE_LEVEL_YEAR = FIRST_POST_REFORM_YEAR  # district committees were dissolved by the reform


def committee_key(province: str | None, committee_name: str | None) -> str | None:
    """Stable slug of a committee: folded province / name without its prefix ("Đảng bộ huyện")."""
    if not province or not committee_name:
        return None
    name = fold(committee_name)
    stripped = True
    while stripped:
        stripped = False
        for prefix in COMMITTEE_PREFIXES:
            if name.startswith(prefix + " ") and len(name) > len(prefix) + 1:
                name = name[len(prefix) + 1 :]
                stripped = True
    return unresolved_key(fold(province), name)


def parse_year(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def infer_level(level: str | None, year: int | None) -> str | None:
    if level in {"huyen", "xa", "tinh"} or year is None:
        return level
    return "xa" if year >= FIRST_COMMUNE_LEVEL_YEAR else "huyen"


def resolve(report: ParsedReport) -> Resolution | None:
    """The official administrative unit of the submitting committee, valid in the report's year."""
    year = parse_year(report.info("report_year"))
    if year is None:
        return None
    return resolve_names(
        report.info("province"),
        report.info("committee_name"),
        report.info("committee_code"),
        report.info("committee_level"),
        year,
    )


def resolve_names(
    province: str | None, committee_name: str | None, committee_code: str | None, level: str | None, year: int
) -> Resolution:
    """The unit a committee named so reports as in ``year`` (a report's ``thong_tin``, or an account being
    created for it). A province-level committee (level "tinh": the province's own aggregate) resolves to its
    province; then the registry of committees directly under a province; then districts or communes."""
    if level == "tinh":
        unit = resolve_province(province or "", year)
        if unit is not None:
            return Resolution("resolved", unit, (), None)
        return Resolution("unknown", None, (), f"Không tìm thấy tỉnh «{province}» trong danh mục năm {year}.")
    direct = resolve_direct(province, committee_name, year)
    if direct is not None:
        return direct
    return resolve_committee(province, committee_name, committee_code, year)


def province_code_of_report(report: ParsedReport, resolution: Resolution | None) -> str | None:
    """The code of the report's province in the report year's era: the resolved unit's province, else the
    province as written when that alone can be resolved (so the warehouse never has to match names)."""
    if resolution is not None and resolution.status == "resolved" and resolution.unit is not None:
        return resolution.unit.province_code
    year = parse_year(report.info("report_year"))
    province = resolve_province(report.info("province") or "", year) if year is not None else None
    return province.code if province is not None else None
