"""Validation frames: the night's raw rows shaped for Great Expectations.

Each frame holds the rows of every submission under validation, with ``submission_id`` and
``sheet_row`` so that a failed expectation points at the submission, sheet and row. Cross-sheet
checks become pairs of numeric columns ``<check>__declared`` / ``<check>__computed`` computed
here with pandas, which GX then compares row by row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd

from contract.model import Contract, GradingRule, Sheet, raw_columns
from expectations.rules import percent_column, within_whole_column

INDEX_COLUMNS = ["submission_id", "sheet_row"]
MEMBER_GRADE_COLUMNS = [
    "members_htxsnv",
    "members_httnv",
    "members_htnv",
    "members_khtnv",
    "members_not_rated",
]


def as_number(series: pd.Series) -> pd.Series:
    """Canonical integer text → nullable number; anything else → missing (its own rule flags it)."""
    return pd.to_numeric(series.where(series.astype("string").str.fullmatch(r"\d+")), errors="coerce")


def as_number_value(value: object) -> float:
    """One canonical integer text → number; anything else → NaN."""
    return as_number(pd.Series([value], dtype="object"))[0]


def empty_sheet_frame(sheet: Sheet) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="object") for column in INDEX_COLUMNS + raw_columns(sheet)})


def sheet_frames(contract: Contract, tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """One frame per contract sheet, with every contract column even if no submission had it."""
    frames: dict[str, pd.DataFrame] = {}
    for sheet in contract.sheets:
        frame = tables.get(sheet.name)
        frame = empty_sheet_frame(sheet) if frame is None else frame.copy()
        for column in raw_columns(sheet):
            if column not in frame:
                frame[column] = None
        frames[sheet.name] = frame.astype({c: "object" for c in raw_columns(sheet)}).reset_index(drop=True)
    return frames


def key_value_wide(frame: pd.DataFrame, sheet: Sheet, submission_ids: list[str]) -> pd.DataFrame:
    """A key/value sheet as one row per submission; sheet_row is the row of each field in ``<f>__row``."""
    wide = pd.DataFrame(
        {
            "submission_id": submission_ids,
            "sheet_row": pd.Series([None] * len(submission_ids), dtype="object"),
        }
    )
    for field_ in sheet.fields:
        picked = frame[frame["field"] == field_.name].drop_duplicates("submission_id")
        values = dict(zip(picked["submission_id"], picked["value"], strict=True))
        rows = dict(zip(picked["submission_id"], picked["sheet_row"], strict=True))
        wide[field_.name] = [values.get(s) for s in submission_ids]
        wide[f"{field_.name}__row"] = [rows.get(s) for s in submission_ids]
    return wide


def organisation_checks(organisations: pd.DataFrame, branches: pd.DataFrame) -> pd.DataFrame:
    """to_chuc_co_so rows with the declared/computed pairs of the row-level cross-checks."""
    frame = organisations.copy()
    frame["members_split__declared"] = as_number(frame["members_total"])
    frame["members_split__computed"] = as_number(frame["members_official"]) + as_number(frame["members_probationary"])
    grade_numbers = pd.concat([as_number(frame[c]) for c in MEMBER_GRADE_COLUMNS], axis=1)
    any_grade_given = frame[MEMBER_GRADE_COLUMNS].notna().any(axis=1)
    frame["grades_cover_members__declared"] = frame["members_split__declared"].where(any_grade_given)
    frame["grades_cover_members__computed"] = (
        grade_numbers.fillna(0)
        .sum(axis=1)
        .where(
            any_grade_given
            & frame[MEMBER_GRADE_COLUMNS]
            .apply(lambda c: c.isna() | c.astype("string").str.fullmatch(r"\d+"))
            .all(axis=1)
        )
    )
    branch_counts = branches.groupby(["submission_id", "parent_org_code"]).size()
    submissions_with_branches = set(branches["submission_id"])
    computed = [
        float(branch_counts.get((submission, code), 0)) if submission in submissions_with_branches else None
        for submission, code in zip(frame["submission_id"], frame["org_code"], strict=True)
    ]
    declared = as_number(frame["branches_declared"])
    is_committee = frame["org_kind"] == "dang_bo_co_so"
    frame["branch_rows__declared"] = declared.where(declared.notna(), other=0.0).where(is_committee | declared.notna())
    frame["branch_rows__computed"] = pd.Series(computed, dtype="Float64").where(frame["branch_rows__declared"].notna())
    branch_members = (
        branches.assign(members=as_number(branches["members_total"]))
        .groupby(["submission_id", "parent_org_code"])["members"]
        .sum(min_count=1)
    )
    has_branches = pd.Series(
        [(s, c) in branch_members.index for s, c in zip(frame["submission_id"], frame["org_code"], strict=True)],
        dtype="bool",
    )
    frame["branch_members__declared"] = frame["members_split__declared"].where(is_committee & has_branches)
    frame["branch_members__computed"] = pd.Series(
        [branch_members.get((s, c)) for s, c in zip(frame["submission_id"], frame["org_code"], strict=True)],
        dtype="Float64",
    ).where(frame["branch_members__declared"].notna())
    return frame


def branch_checks(branches: pd.DataFrame, organisations: pd.DataFrame) -> pd.DataFrame:
    frame = branches.copy()
    known = set(zip(organisations["submission_id"], organisations["org_code"], strict=True))
    frame["parent_known"] = [
        (submission, code) in known if code is not None else None
        for submission, code in zip(frame["submission_id"], frame["parent_org_code"], strict=True)
    ]
    return frame


def grading_columns(contract: Contract, frame: pd.DataFrame, years: Mapping[str, float]) -> pd.DataFrame:
    """The grading rule in force for each row's report year, and its parameters."""
    rules = [contract.grading_rule(int(years[s])) if pd.notna(years.get(s)) else None for s in frame["submission_id"]]
    frame["report_year"] = [
        None if r is None else int(years[s]) for r, s in zip(rules, frame["submission_id"], strict=True)
    ]
    frame["grading_rule_name"] = [r.name if r else None for r in rules]
    frame["allowed_org_grades"] = [", ".join(r.org_grades) if r else None for r in rules]
    frame["_rule"] = pd.Series(rules, index=frame.index, dtype=object)
    return frame


def grade_fits(grade: object, rule: GradingRule | None, known_codes: frozenset[str]) -> bool | None:
    """Whether a known grade exists in the year's scale; None when there is nothing to judge (an unknown
    label is the allowed-values rule's finding, not this one's)."""
    if rule is None or grade not in known_codes:
        return None
    return grade in rule.org_grades


def party_rule_checks(contract: Contract, organisations: pd.DataFrame, years: Mapping[str, float]) -> pd.DataFrame:
    """The Party's rules on one TCCSĐ: grade of that year's scale, HTXSNV cap, size of a chi bộ cơ sở."""
    frame = grading_columns(contract, organisations.copy(), years)
    known = frozenset(g.code for g in contract.grades)
    frame["org_grade_fits_rule"] = [
        grade_fits(g, r, known) for g, r in zip(frame["org_grade"], frame["_rule"], strict=True)
    ]
    htxsnv = as_number(frame["members_htxsnv"])
    caps = [r.htxsnv_cap if r else None for r in frame["_rule"]]
    # each denominator column read as a number once (as_number row by row gives the same numbers)
    numbers = {column: as_number(frame[column]).tolist() for column in {cap.denominator for cap in caps if cap}}
    denominators: list[Any] = [
        numbers[cap.denominator][position] if cap else float("nan") for position, cap in enumerate(caps)
    ]
    frame["htxsnv_cap_percent"] = [round(cap.ratio * 100) if cap else None for cap in caps]
    frame["htxsnv_within_cap"] = [
        None if cap is None or pd.isna(h) or pd.isna(d) else bool(h <= cap.ratio * d)
        for cap, h, d in zip(caps, htxsnv, denominators, strict=True)
    ]
    is_grassroots_branch = frame["org_kind"] == "chi_bo_co_so"
    members = as_number(frame["members_total"])
    official = as_number(frame["members_official"])
    frame["grassroots_branch_under_30"] = (members < 30).where(is_grassroots_branch & members.notna())
    frame["grassroots_branch_3_official"] = (official >= 3).where(is_grassroots_branch & official.notna())
    return frame.drop(columns="_rule")


def branch_rule_checks(contract: Contract, branches: pd.DataFrame, years: Mapping[str, float]) -> pd.DataFrame:
    frame = grading_columns(contract, branches, years)
    known = frozenset(g.code for g in contract.grades)
    frame["branch_grade_fits_rule"] = [
        grade_fits(g, r, known) for g, r in zip(frame["branch_grade"], frame["_rule"], strict=True)
    ]
    official = as_number(frame["members_official"])
    frame["branch_3_official"] = (official >= 3).where(official.notna())
    return frame.drop(columns="_rule")


def given(series: pd.Series) -> pd.Series:
    """Cells holding a value (canonical raw text): filled in, and not a yes/no answered no."""
    return series.notna() & ~series.isin(["", "false"])


def village_checks(contract: Contract, villages: pd.DataFrame) -> pd.DataFrame:
    """A village with members should have its own branch or share a joint one (contract.village_branch_fields)."""
    frame = villages.copy()
    members = as_number(frame["members"])
    served = pd.concat([given(frame[name]) for name in contract.village_branch_fields], axis=1).any(axis=1)
    frame["village_served"] = (served | (members == 0)).where(members.notna())
    return frame


def breakdown_checks(contract: Contract, summary_wide: pd.DataFrame) -> pd.DataFrame:
    """One row per (submission, figure broken down): the figure and the sum of its parts, when parts are given."""
    sheet = contract.sheet("tong_hop")
    wholes: dict[str, list[str]] = {}
    for field_ in sheet.fields:
        if field_.part_of:
            wholes.setdefault(field_.part_of, []).append(field_.name)
    rows: list[dict[str, object]] = []
    for _, report in summary_wide.iterrows():
        for whole, parts in wholes.items():
            given = [as_number_value(report[p]) for p in parts if pd.notna(report[p])]
            if not given or pd.isna(report[whole]):
                continue
            rows.append(
                {
                    "submission_id": report["submission_id"],
                    "sheet_row": report[f"{whole}__row"],
                    "field": whole,
                    "parts": ", ".join(sheet.field(p).header for p in parts),
                    "parts_add_up__declared": as_number_value(report[whole]),
                    "parts_add_up__computed": float(pd.Series(given).fillna(0).sum()),
                }
            )
    columns = ["submission_id", "sheet_row", "field", "parts", "parts_add_up__declared", "parts_add_up__computed"]
    return pd.DataFrame(rows, columns=columns)


GRADE_COUNT_FIELDS = ("orgs_htxsnv", "orgs_httnv", "orgs_htnv", "orgs_khtnv", "orgs_tsvm", "orgs_yeu_kem")


def summary_kinds(summary_wide: pd.DataFrame) -> pd.DataFrame:
    frame = summary_wide.copy()
    grade_counts = pd.concat([as_number(frame[f]) for f in GRADE_COUNT_FIELDS], axis=1)
    any_grade = frame[list(GRADE_COUNT_FIELDS)].notna().any(axis=1)
    frame["grades_cover_orgs__declared"] = as_number(frame["orgs_total"]).where(any_grade)
    frame["grades_cover_orgs__computed"] = grade_counts.fillna(0).sum(axis=1).where(any_grade)
    frame["orgs_by_kind__declared"] = as_number(frame["orgs_total"])
    frame["orgs_by_kind__computed"] = as_number(frame["orgs_party_committee"]) + as_number(
        frame["orgs_grassroots_branch"]
    )
    frame["sheet_row"] = frame["orgs_total__row"]
    return frame


def structure_frames(
    contract: Contract,
    presence: Mapping[str, Mapping[str, set[str]]],
    submission_ids: list[str],
    detailed_ids: set[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Which sheets and which required columns each submission has.

    ``presence[submission_id][sheet]`` is the set of contract fields found on that sheet.
    """
    sheet_rows: list[dict[str, object]] = []
    column_rows: list[dict[str, object]] = []
    for submission in submission_ids:
        found = presence.get(submission, {})
        for sheet in contract.sheets:
            needed = sheet.name in contract.aggregate_sheets or (
                submission in detailed_ids and sheet.name == "to_chuc_co_so"
            )
            if needed:
                sheet_rows.append(
                    {
                        "submission_id": submission,
                        "sheet_row": None,
                        "sheet": sheet.name,
                        "present": sheet.name in found,
                    }
                )
            if sheet.name not in found:
                continue
            for field_ in sheet.fields:
                if field_.required:
                    column_rows.append(
                        {
                            "submission_id": submission,
                            "sheet_row": None,
                            "sheet": sheet.name,
                            "field": field_.name,
                            "present": field_.name in found[sheet.name],
                        }
                    )
    columns = ["submission_id", "sheet_row", "sheet", "present"]
    return (
        pd.DataFrame(sheet_rows, columns=columns),
        pd.DataFrame(column_rows, columns=[*columns[:3], "field", "present"]),
    )


def with_resolutions(info_wide: pd.DataFrame, resolutions: Mapping[str, tuple[bool, str | None]]) -> pd.DataFrame:
    """thong_tin with whether the committee is an official unit of its year (None when not looked up)."""
    frame = info_wide.copy()
    frame["committee_resolved"] = [resolutions[s][0] if s in resolutions else None for s in frame["submission_id"]]
    frame["committee_resolution"] = [resolutions[s][1] if s in resolutions else None for s in frame["submission_id"]]
    frame["committee_resolution__row"] = frame["committee_name__row"]
    return frame


def bound_checks(sheet: Sheet, frame: pd.DataFrame) -> pd.DataFrame:
    """A part at most its whole (contract ``at_most``/``part_of``), a percentage within 0–100: one column each,
    None when a value is missing or not a number (its own type rule flags it)."""
    frame = frame.copy()
    for field_ in sheet.fields:
        if field_.whole:
            parts, wholes = as_number(frame[field_.name]), as_number(frame[field_.whole])
            frame[within_whole_column(field_.name)] = pd.Series(
                [None if pd.isna(p) or pd.isna(w) else bool(p <= w) for p, w in zip(parts, wholes, strict=True)],
                index=frame.index,
                dtype="object",
            )
        if field_.unit == "%":
            numbers = pd.to_numeric(frame[field_.name], errors="coerce")
            frame[f"{field_.name}__number"] = numbers
            frame[percent_column(field_.name)] = pd.Series(
                [None if pd.isna(n) else bool(0 <= n <= 100) for n in numbers], index=frame.index, dtype="object"
            )
    return frame


def vietnamese_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def iso_date(text: object) -> date | None:
    try:
        return date.fromisoformat(str(text)) if isinstance(text, str) else None
    except ValueError:
        return None


def calendar_checks(info_wide: pd.DataFrame, today: date) -> pd.DataFrame:
    """thong_tin with whether the report year has ended and the report was not prepared after ``today``."""
    frame = info_wide.copy()
    years = as_number(frame["report_year"])
    frame["today"] = vietnamese_date(today)
    frame["report_year_ended"] = pd.Series(
        [None if pd.isna(y) else bool(y < today.year) for y in years], index=frame.index, dtype="object"
    )
    prepared = [iso_date(text) for text in frame["prepared_on"]]
    frame["prepared_on_shown"] = [vietnamese_date(d) if d else None for d in prepared]
    frame["prepared_on_not_future"] = pd.Series(
        [None if d is None else d <= today for d in prepared], index=frame.index, dtype="object"
    )
    return frame


def build_frames(
    contract: Contract,
    tables: Mapping[str, pd.DataFrame],
    presence: Mapping[str, Mapping[str, set[str]]],
    submission_ids: list[str],
    detailed_ids: set[str],
    resolutions: Mapping[str, tuple[bool, str | None]],
    today: date,
) -> dict[str, pd.DataFrame]:
    """Every frame the suites validate, keyed by frame name.

    ``resolutions`` maps a submission to (committee resolved to an official unit?, message for staff);
    ``today`` (in Vietnam) is the day a report year must have ended by and a report cannot be prepared after.
    """
    frames = {
        name: frame if name in contract.aggregate_sheets else bound_checks(contract.sheet(name), frame)
        for name, frame in sheet_frames(contract, tables).items()
    }
    info_wide = calendar_checks(
        with_resolutions(key_value_wide(frames["thong_tin"], contract.sheet("thong_tin"), submission_ids), resolutions),
        today,
    )
    info_wide = bound_checks(contract.sheet("thong_tin"), info_wide)
    summary_wide = bound_checks(
        contract.sheet("tong_hop"), key_value_wide(frames["tong_hop"], contract.sheet("tong_hop"), submission_ids)
    )
    sheets_present, columns_present = structure_frames(contract, presence, submission_ids, detailed_ids)
    years = dict(zip(info_wide["submission_id"], as_number(info_wide["report_year"]), strict=True))
    organisations = organisation_checks(frames["to_chuc_co_so"], frames["chi_bo"])
    return {
        "thong_tin": info_wide,
        "tong_hop": summary_wide,
        "to_chuc_co_so": party_rule_checks(contract, organisations, years),
        "chi_bo": branch_rule_checks(contract, branch_checks(frames["chi_bo"], frames["to_chuc_co_so"]), years),
        "thon_ban": village_checks(contract, frames["thon_ban"]),
        "tong_hop_kinds": summary_kinds(summary_wide),
        "tong_hop_parts": breakdown_checks(contract, summary_wide),
        "sheets_present": sheets_present,
        "columns_present": columns_present,
    }
