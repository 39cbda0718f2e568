"""Validate submissions: the night's pending batch in the warehouse, or one file on its own.

Every submission ends ``accepted`` or ``rejected``. Outcomes and findings are appended to the raw
schema, so rejected reports stay in the warehouse, marked, and never reach the marts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from chibo.config import Settings
from contract.model import Contract, load_contract
from expectations.data_docs import night_docs_dir
from expectations.frames import build_frames
from expectations.history import (
    Current,
    figures_from_tables,
    history_frame,
    load_history,
    reconciliation_frame,
)
from expectations.rules import UNREADABLE_RULE, all_rules
from expectations.runner import Finding, validate_frames
from reading.reader import ParsedReport
from units.committee import committee_key, parse_year, resolve
from warehouse.raw import RAW_SCHEMA, connect, insert_rows, sheet_rows

Presence = dict[str, dict[str, set[str]]]


@dataclass(frozen=True)
class Outcome:
    submission_id: str
    outcome: str  # "accepted" | "rejected"
    findings: tuple[Finding, ...]


def with_province_severities(
    findings: list[Finding], provinces: Mapping[str, str | None], settings: Settings | None
) -> list[Finding]:
    """Apply the per-province severity overrides of chibo.yaml."""
    if settings is None:
        return findings
    return [
        replace(f, severity=settings.severity_for(provinces.get(f.submission_id), f.rule_id, f.severity))
        for f in findings
    ]


def rule_results(outcomes: list[Outcome], run_id: str, contract: Contract) -> list[dict[str, object]]:
    """Every rule's outcome for every submission: pass, or fail with how many rows failed."""
    rules = all_rules(contract) + [UNREADABLE_RULE]
    rows: list[dict[str, object]] = []
    for outcome in outcomes:
        failed = Counter(f.rule_id for f in outcome.findings)
        severity = {f.rule_id: f.severity for f in outcome.findings}
        rows += [
            {
                "submission_id": outcome.submission_id,
                "run_id": run_id,
                "rule_id": rule.rule_id,
                "severity": severity.get(rule.rule_id, rule.severity),
                "status": "fail" if failed[rule.rule_id] else "pass",
                "failed_rows": failed[rule.rule_id],
            }
            for rule in rules
        ]
    return rows


def decide(submission_ids: list[str], findings: list[Finding]) -> list[Outcome]:
    by_submission: dict[str, list[Finding]] = {s: [] for s in submission_ids}
    for finding in findings:
        by_submission.setdefault(finding.submission_id, []).append(finding)
    return [
        Outcome(s, "rejected" if any(f.severity == "error" for f in found) else "accepted", tuple(found))
        for s, found in by_submission.items()
    ]


def unreadable_finding(submission_id: str, message: str) -> Finding:
    return Finding(
        submission_id=submission_id,
        rule_id=UNREADABLE_RULE.rule_id,
        severity="error",
        sheet="(tệp)",
        sheet_row=None,
        field=None,
        value=None,
        message=message,
        fix=UNREADABLE_RULE.fix,
    )


Resolutions = dict[str, tuple[bool, str | None]]


def validate_tables(
    contract: Contract,
    tables: Mapping[str, pd.DataFrame],
    presence: Presence,
    submission_ids: list[str],
    detailed_ids: set[str],
    resolutions: Resolutions,
    history: Mapping[str, pd.DataFrame] | None = None,
    docs_dir: Path | None = None,
    run_name: str | None = None,
) -> list[Finding]:
    """All findings for a batch; ``history`` (the frames of ``history_for``) adds the checks that need
    the warehouse; ``docs_dir`` makes GX build its Data Docs there."""
    if not submission_ids:
        return []
    frames = build_frames(contract, tables, presence, submission_ids, detailed_ids, resolutions)
    frames.update(history or {})
    return validate_frames(frames, contract, docs_dir, run_name)


def summary_row_of(tables: Mapping[str, pd.DataFrame], submission_id: str) -> int | None:
    summary = tables.get("tong_hop")
    if summary is None or summary.empty:
        return None
    rows = summary[(summary["submission_id"] == submission_id) & (summary["field"] == "members_total")]["sheet_row"]
    return int(rows.iloc[0]) if len(rows) else None


def currents_of(
    tables: Mapping[str, pd.DataFrame], keys_and_years: Mapping[str, tuple[str | None, int | None]]
) -> list[Current]:
    return [
        Current(
            submission_id, key, year, figures_from_tables(tables, submission_id), summary_row_of(tables, submission_id)
        )
        for submission_id, (key, year) in keys_and_years.items()
    ]


def history_for(
    connection: duckdb.DuckDBPyConnection,
    tables: Mapping[str, pd.DataFrame],
    keys_and_years: Mapping[str, tuple[str | None, int | None]],
) -> dict[str, pd.DataFrame]:
    """The frames of the checks that need the warehouse: the committee's history, the province's committees."""
    keys = sorted({key for key, _ in keys_and_years.values() if key})
    currents = currents_of(tables, keys_and_years)
    return {
        "history": history_frame(currents, load_history(connection, keys)),
        "reconciliation": reconciliation_frame(connection, currents, tables),
    }


# ------------------------------------------------------------------ one file (chibo validate)


def validate_report(report: ParsedReport, contract: Contract | None = None, warehouse: Path | None = None) -> Outcome:
    """Validate one file; with a ``warehouse``, against the committee's accepted history there too."""
    contract = contract or load_contract()
    submission_id = "tep"
    tables = {name: pd.DataFrame(rows) for name, rows in sheet_rows(report, submission_id, contract).items() if rows}
    presence = {submission_id: {name: set(parsed.columns) for name, parsed in report.sheets.items()}}
    detailed = {submission_id} if report.report_kind == "detailed" else set()
    resolution = resolve(report)
    resolutions = {submission_id: (resolution.status == "resolved", resolution.message_vi)} if resolution else {}
    history = None
    if warehouse is not None:
        unit = resolution.unit if resolution is not None and resolution.status == "resolved" else None
        key = unit.key if unit else committee_key(report.info("province"), report.info("committee_name"))
        with connect(warehouse, read_only=True) as connection:
            history = history_for(connection, tables, {submission_id: (key, parse_year(report.info("report_year")))})
    findings = validate_tables(contract, tables, presence, [submission_id], detailed, resolutions, history)
    return decide([submission_id], findings)[0]


# ------------------------------------------------------------------ the night's batch


def pending_submissions(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return connection.execute(
        f"""
        SELECT s.submission_id, s.report_kind, s.read_error, s.report_year, s.committee_name, s.province,
               s.committee_key,
               s.resolution_status, s.resolution_message
        FROM {RAW_SCHEMA}.submissions s
        WHERE NOT EXISTS (SELECT 1 FROM {RAW_SCHEMA}.submission_outcomes o WHERE o.submission_id = s.submission_id)
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


def record_outcomes(
    connection: duckdb.DuckDBPyConnection, outcomes: list[Outcome], run_id: str, contract: Contract
) -> None:
    decided_at = datetime.now(UTC).replace(tzinfo=None)
    connection.execute("BEGIN TRANSACTION")
    insert_rows(connection, "rule_results", rule_results(outcomes, run_id, contract))
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
            }
            for o in outcomes
            for f in o.findings
        ],
    )
    connection.execute("COMMIT")


def validate_pending(
    connection: duckdb.DuckDBPyConnection,
    run_id: str,
    contract: Contract | None = None,
    settings: Settings | None = None,
) -> list[Outcome]:
    """Validate every submission that has no outcome yet, in one GX run, and record the outcomes.

    With ``settings``, severities are those configured for each submission's province.
    """
    contract = contract or load_contract()
    pending = pending_submissions(connection)
    unreadable = pending[pending["report_kind"] == "unreadable"]
    readable_ids = pending.loc[pending["report_kind"] != "unreadable", "submission_id"].tolist()
    detailed_ids = set(pending.loc[pending["report_kind"] == "detailed", "submission_id"])
    readable = pending[pending["report_kind"] != "unreadable"]
    resolutions = {
        row.submission_id: (row.resolution_status == "resolved", row.resolution_message)
        for row in readable.itertuples()
        if pd.notna(row.report_year) and pd.notna(row.committee_name)
    }
    tables = load_tables(connection, contract, readable_ids)
    keys_and_years = {
        row.submission_id: (row.committee_key, None if pd.isna(row.report_year) else int(row.report_year))
        for row in readable.itertuples()
    }
    history = history_for(connection, tables, keys_and_years)
    docs_dir = night_docs_dir(settings.data_docs, run_id) if settings is not None else None
    findings = validate_tables(
        contract,
        tables,
        load_presence(connection, readable_ids),
        readable_ids,
        detailed_ids,
        resolutions,
        history,
        docs_dir,
        run_id,
    )
    findings += [
        unreadable_finding(s, m) for s, m in zip(unreadable["submission_id"], unreadable["read_error"], strict=True)
    ]
    provinces = dict(zip(pending["submission_id"], pending["province"], strict=True))
    findings = with_province_severities(findings, provinces, settings)
    outcomes = decide(pending["submission_id"].tolist(), findings)
    record_outcomes(connection, outcomes, run_id, contract)
    return outcomes
