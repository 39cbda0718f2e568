"""Validate the night's pending submissions in the warehouse: the one validation path.

Every submission ends ``accepted``, ``rejected`` or ``held``. A report is held when a check could not
run (validation fails closed) or when intake failed on it with an unexpected error; a held report
never reaches the marts and, unless intake failed, is validated again the next night. Outcomes and
findings are appended to the raw schema, so rejected reports stay in the warehouse, marked.
``chibo validate FILE`` runs this same code on a scratch copy of the warehouse (``pipeline.check``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from chibo.config import Settings, vietnam_today
from contract.model import Contract, load_contract
from expectations.data_docs import night_docs_dir
from expectations.frames import build_frames
from expectations.history import warehouse_frames
from expectations.rules import INTAKE_FAILED_RULE, UNREADABLE_RULE, Rule, all_rules, system_rules
from expectations.runner import Finding, NightSuites, NightValidation
from warehouse import views
from warehouse.raw import RAW_SCHEMA, insert_rows

HELD = "held"
INTAKE_FAILED = "intake_failed"


Presence = dict[str, dict[str, set[str]]]


@dataclass(frozen=True)
class Outcome:
    submission_id: str
    outcome: str  # "accepted" | "rejected" | "held"
    findings: tuple[Finding, ...]


def with_province_severities(
    findings: list[Finding], provinces: Mapping[str, str | None], settings: Settings | None
) -> list[Finding]:
    """Apply the per-province severity overrides of chibo.yaml (a check that could not run stays an error)."""
    if settings is None:
        return findings
    return [
        f
        if f.errored
        else replace(f, severity=settings.severity_for(provinces.get(f.submission_id), f.rule_id, f.severity))
        for f in findings
    ]


def rule_results(outcomes: list[Outcome], run_id: str, contract: Contract) -> list[dict[str, object]]:
    """Every rule's outcome for every submission: pass, fail (with how many rows failed), or errored
    (the check could not run)."""
    rules = all_rules(contract) + system_rules()
    rows: list[dict[str, object]] = []
    for outcome in outcomes:
        failed = Counter(f.rule_id for f in outcome.findings if not f.errored)
        errored = {f.rule_id for f in outcome.findings if f.errored}
        severity = {f.rule_id: f.severity for f in outcome.findings}
        rows += [
            {
                "submission_id": outcome.submission_id,
                "run_id": run_id,
                "rule_id": rule.rule_id,
                "severity": severity.get(rule.rule_id, rule.severity),
                "status": "errored" if rule.rule_id in errored else "fail" if failed[rule.rule_id] else "pass",
                "failed_rows": failed[rule.rule_id],
            }
            for rule in rules
        ]
    return rows


def verdict(findings: list[Finding]) -> str:
    if any(f.errored for f in findings):
        return HELD
    return "rejected" if any(f.severity == "error" for f in findings) else "accepted"


def decide(submission_ids: list[str], findings: list[Finding]) -> list[Outcome]:
    by_submission: dict[str, list[Finding]] = {s: [] for s in submission_ids}
    for finding in findings:
        by_submission.setdefault(finding.submission_id, []).append(finding)
    return [Outcome(s, verdict(found), tuple(found)) for s, found in by_submission.items()]


def file_finding(rule: Rule, submission_id: str, message: str, detail: str | None = None) -> Finding:
    """A finding on the whole file (it could not be read, or intake failed on it): no sheet, no row."""
    return Finding(
        submission_id=submission_id,
        rule_id=rule.rule_id,
        severity="error",
        sheet="(tệp)",
        sheet_row=None,
        field=None,
        value=None,
        message=message,
        fix=rule.fix,
        errored=detail is not None,
        detail=detail,
    )


def unreadable_finding(submission_id: str, message: str) -> Finding:
    return file_finding(UNREADABLE_RULE, submission_id, message)


def intake_failed_finding(submission_id: str, message: str | None, detail: str | None) -> Finding:
    """Intake failed on the file with an unexpected error: held for the operators, with the technical detail."""
    return file_finding(
        INTAKE_FAILED_RULE,
        submission_id,
        message or "Hệ thống gặp lỗi khi tiếp nhận tệp; báo cáo được giữ lại chờ bộ phận kỹ thuật xử lý.",
        detail or "intake failed (no detail recorded)",
    )


Resolutions = dict[str, tuple[bool, str | None]]


def validate_tables(
    contract: Contract,
    tables: Mapping[str, pd.DataFrame],
    presence: Presence,
    submission_ids: list[str],
    detailed_ids: set[str],
    resolutions: Resolutions,
    today: date,
    history: Mapping[str, pd.DataFrame] | None = None,
    docs_dir: Path | None = None,
    run_name: str | None = None,
) -> list[Finding]:
    """All findings for a batch; ``history`` (the frames of ``warehouse_frames``) adds the checks that need
    the warehouse; ``docs_dir`` makes GX build its Data Docs there."""
    if not submission_ids:
        return []
    night = NightValidation(contract, docs_dir, run_name)
    validate_part(night, contract, tables, presence, submission_ids, detailed_ids, resolutions, today, history)
    return night.findings()


def validate_part(
    night: NightValidation,
    contract: Contract,
    tables: Mapping[str, pd.DataFrame],
    presence: Presence,
    submission_ids: list[str],
    detailed_ids: set[str],
    resolutions: Resolutions,
    today: date,
    history: Mapping[str, pd.DataFrame] | None = None,
) -> None:
    """Validate some of the night's submissions in the night's GX context (findings kept in ``night``)."""
    frames = build_frames(contract, tables, presence, submission_ids, detailed_ids, resolutions, today)
    frames.update(history or {})
    night.validate(without_missing_sheets(contract, frames))


def without_missing_sheets(contract: Contract, frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """No comparison with a sheet already named missing (bao_cao.thieu_trang, from the ``sheets_present`` frame):
    the report is told the sheet is missing, not that its tổng hợp totals do not add up or that its branches
    belong to unknown organisations."""
    present = frames.get("sheets_present")
    if present is None or present.empty:
        return frames
    absent = {
        (str(s), str(sheet))
        for s, sheet, found in present[["submission_id", "sheet", "present"]].itertuples(index=False)
        if not found
    }
    if not absent:
        return frames
    detail_sheets = {f.name: f.detail.sheet for f in contract.sheet("tong_hop").fields if f.detail is not None}
    summary = frames.get("tong_hop_detail")
    if summary is not None and not summary.empty:
        compared = [
            (str(submission_id), detail_sheets.get(str(field_name), "")) not in absent
            for submission_id, field_name in zip(summary["submission_id"], summary["field"], strict=True)
        ]
        frames["tong_hop_detail"] = summary[compared].reset_index(drop=True)
    branches = frames.get("chi_bo")
    if branches is not None and "parent_known" in branches.columns and not branches.empty:
        orphaned = pd.Series(
            [(str(s), "to_chuc_co_so") in absent for s in branches["submission_id"]], index=branches.index
        )
        branches = branches.copy()
        branches["parent_known"] = branches["parent_known"].astype(object).where(~orphaned, None)
        frames["chi_bo"] = branches
    return frames


# ------------------------------------------------------------------ the night's batch


def pending_submissions(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Submissions to validate tonight: those with no outcome yet, and those held by a check that could not
    run (validated again until it can). A file intake failed on is held once: it is not retried silently.
    A submission's latest decision is the warehouse's view (int_submission_outcomes__latest)."""
    views.require_views(connection)
    return connection.execute(
        f"""
        SELECT s.submission_id, s.report_kind, s.read_error, s.read_notes, s.report_year, s.committee_name,
               s.province, s.committee_key, s.resolution_status, s.resolution_message
        FROM {RAW_SCHEMA}.submissions s
        LEFT JOIN {views.LATEST_OUTCOMES} latest USING (submission_id)
        WHERE latest.outcome IS NULL
           OR (latest.outcome = '{HELD}' AND s.report_kind IS DISTINCT FROM '{INTAKE_FAILED}')
        ORDER BY s.received_at, s.submission_id
        """
    ).df()


def load_tables(connection: duckdb.DuckDBPyConnection, contract: Contract, ids: list[str]) -> dict[str, pd.DataFrame]:
    return {
        sheet.name: connection.execute(
            f"SELECT * FROM {RAW_SCHEMA}.{sheet.name} WHERE submission_id IN (SELECT unnest(?)) "
            "ORDER BY submission_id, sheet_row",
            [ids],
        ).df()
        for sheet in contract.sheets
    }


def load_presence(connection: duckdb.DuckDBPyConnection, ids: list[str]) -> Presence:
    presence: Presence = {}
    rows = connection.execute(
        f"SELECT submission_id, sheet, fields_found FROM {RAW_SCHEMA}.submission_sheets "
        "WHERE submission_id IN (SELECT unnest(?))",
        [ids],
    ).fetchall()
    for submission_id, sheet, fields_found in rows:
        presence.setdefault(submission_id, {})[sheet] = set(filter(None, (fields_found or "").split(",")))
    return presence


RULE_RESULTS_OUTCOMES = 500  # outcomes whose rule results are inserted at once (a row per rule each)


def record_outcomes(
    connection: duckdb.DuckDBPyConnection, outcomes: list[Outcome], run_id: str, contract: Contract
) -> None:
    """The night's decisions, in one transaction (a night killed while recording decides nothing)."""
    decided_at = datetime.now(UTC).replace(tzinfo=None)
    connection.execute("BEGIN TRANSACTION")
    for start in range(0, len(outcomes), RULE_RESULTS_OUTCOMES):  # a bounded number of rows in memory at once
        insert_rows(
            connection, "rule_results", rule_results(outcomes[start : start + RULE_RESULTS_OUTCOMES], run_id, contract)
        )
    insert_rows(
        connection,
        "submission_outcomes",
        [
            {
                "submission_id": o.submission_id,
                "run_id": run_id,
                "outcome": o.outcome,
                "decided_at": decided_at,
                "errors": sum(1 for f in o.findings if f.severity == "error"),
            }
            for o in outcomes
        ],
    )
    insert_rows(
        connection,
        "validation_failures",
        [
            {
                "submission_id": f.submission_id,
                "run_id": run_id,
                "rule_id": f.rule_id,
                "sheet": f.sheet,
                "sheet_row": f.sheet_row,
                "field": f.field,
                "value": f.value,
                "message": f.message,
                "severity": f.severity,
                "fix": f.fix,
                "docs_url": f.docs_url,
                "detail": f.detail,
            }
            for o in outcomes
            for f in o.findings
        ],
    )
    connection.execute("COMMIT")


PART_SUBMISSIONS = 5000  # submissions validated at once: a night's memory is that of one part, not of the night
PART_ROWS = 400_000  # and at most about this many sheet rows (a part of large reports is cut earlier)


def sheet_rows_of(connection: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, int]:
    """How many data rows each submission's sheets have (as intake counted them)."""
    rows = connection.execute(
        f"SELECT submission_id, sum(data_rows) FROM {RAW_SCHEMA}.submission_sheets "
        "WHERE submission_id IN (SELECT unnest(?)) GROUP BY submission_id",
        [ids],
    ).fetchall()
    return {str(submission_id): int(count or 0) for submission_id, count in rows}


def parts(
    submission_ids: list[str], rows: Mapping[str, int] | None = None, size: int | None = None, budget: int | None = None
) -> list[list[str]]:
    """The night's submissions in parts of at most ``size`` submissions and about ``budget`` sheet rows (a part
    holds at least one submission), in the order they are pending. No check compares two of tonight's
    submissions with each other (a committee's history is read from the warehouse's views, which see none of
    tonight's decisions before they are all recorded), so a part can end anywhere."""
    size = size or PART_SUBMISSIONS
    budget = budget or PART_ROWS
    rows = rows or {}
    cut: list[list[str]] = []
    part: list[str] = []
    part_rows = 0
    for submission_id in submission_ids:
        count = rows.get(submission_id, 0)
        if part and (len(part) >= size or part_rows + count > budget):
            cut.append(part)
            part, part_rows = [], 0
        part.append(submission_id)
        part_rows += count
    if part:
        cut.append(part)
    return cut


def validate_parts(
    connection: duckdb.DuckDBPyConnection,
    contract: Contract,
    submission_ids: list[str],
    detailed_ids: set[str],
    resolutions: Resolutions,
    keys_and_years: Mapping[str, tuple[str | None, int | None]],
    today: date,
    docs_dir: Path | None,
    run_id: str,
    suites: NightSuites | None = None,
) -> list[Finding]:
    """The findings of the readable submissions, validated part by part in the night's one GX context (none
    when there is no readable submission: Great Expectations is not even imported); ``suites``: a context kept
    warm by a long-running process instead of a new one."""
    if not submission_ids:
        return []
    night = NightValidation(contract, docs_dir, run_id, suites=suites)
    for part in parts(submission_ids, sheet_rows_of(connection, submission_ids)):
        tables = load_tables(connection, contract, part)
        part_detailed = detailed_ids.intersection(part)
        history = warehouse_frames(connection, contract, tables, {s: keys_and_years[s] for s in part}, part_detailed)
        presence = load_presence(connection, part)
        validate_part(night, contract, tables, presence, part, part_detailed, resolutions, today, history)
        del tables, history, presence  # the next part's rows and frames replace this one's
    return night.findings()


def validate_pending(
    connection: duckdb.DuckDBPyConnection,
    run_id: str,
    contract: Contract | None = None,
    settings: Settings | None = None,
    today: date | None = None,
    suites: NightSuites | None = None,
) -> list[Outcome]:
    """Validate every pending submission, part by part in the night's one GX context, and record the outcomes
    (all of them at once, at the end: the warehouse's views see none of tonight's decisions while it validates).

    With ``settings``, severities are those configured for each submission's province. ``today`` (default:
    today in Vietnam) is the day a report's year must have ended by and it cannot be prepared after.
    """
    contract = contract or load_contract()
    today = today or vietnam_today()
    pending = pending_submissions(connection)
    kinds = pending["report_kind"]
    unreadable = pending[kinds == "unreadable"]
    intake_failed = pending[kinds == INTAKE_FAILED]
    readable = pending[~kinds.isin(["unreadable", INTAKE_FAILED])]
    readable_ids = readable["submission_id"].tolist()
    detailed_ids = set(pending.loc[kinds == "detailed", "submission_id"])
    records = readable.to_dict("records")
    resolutions = {
        str(row["submission_id"]): (row["resolution_status"] == "resolved", text_or_none(row["resolution_message"]))
        for row in records
        if pd.notna(row["report_year"]) and pd.notna(row["committee_name"])
    }
    keys_and_years = {
        str(row["submission_id"]): (
            text_or_none(row["committee_key"]),
            None if pd.isna(row["report_year"]) else int(row["report_year"]),
        )
        for row in records
    }
    docs_dir = night_docs_dir(settings.data_docs, run_id) if settings is not None and suites is None else None
    findings = validate_parts(
        connection, contract, readable_ids, detailed_ids, resolutions, keys_and_years, today, docs_dir, run_id, suites
    )
    findings += [
        unreadable_finding(s, m) for s, m in zip(unreadable["submission_id"], unreadable["read_error"], strict=True)
    ]
    findings += [
        intake_failed_finding(
            str(row["submission_id"]), text_or_none(row["read_error"]), text_or_none(row["read_notes"])
        )
        for row in intake_failed.to_dict("records")
    ]
    provinces = dict(zip(pending["submission_id"], pending["province"], strict=True))
    findings = with_province_severities(findings, provinces, settings)
    outcomes = decide(pending["submission_id"].tolist(), findings)
    record_outcomes(connection, outcomes, run_id, contract)
    return outcomes


def text_or_none(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
