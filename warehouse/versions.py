"""Every version of a committee's report for a year, as the registry holds them (`chibo history`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from contract.model import fold
from warehouse.raw import RAW_SCHEMA


@dataclass(frozen=True)
class Version:
    version: int | None
    received_at: datetime
    file_name: str
    sha256: str
    committee_name: str | None
    preparer: str | None
    contact_email: str | None
    outcome: str | None
    errors: int | None
    in_marts: bool


def find_versions(connection: duckdb.DuckDBPyConnection, committee: str, year: int) -> list[Version]:
    """Versions of the report of the committee whose key or name contains ``committee`` (folded)."""
    wanted = fold(committee).replace(" ", "-")
    rows = connection.execute(
        f"""
        WITH latest_outcome AS (
            SELECT submission_id, arg_max(outcome, decided_at) AS outcome, arg_max(errors, decided_at) AS errors
            FROM {RAW_SCHEMA}.submission_outcomes GROUP BY submission_id
        )
        SELECT s.version, s.received_at, s.file_name, s.sha256, s.committee_name, s.preparer, s.contact_email,
               o.outcome, o.errors, s.committee_key
        FROM {RAW_SCHEMA}.submissions s LEFT JOIN latest_outcome o USING (submission_id)
        WHERE s.report_year = ?
        ORDER BY s.committee_key, s.version
        """,
        [year],
    ).fetchall()
    matching = [row for row in rows if wanted in (row[9] or "") or wanted in fold(row[4] or "").replace(" ", "-")]
    latest_accepted = max((row[0] for row in matching if row[7] == "accepted"), default=None)
    return [Version(*row[:9], in_marts=row[0] == latest_accepted and row[7] == "accepted") for row in matching]
