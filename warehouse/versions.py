"""Every version of a committee's report for a year, as the registry holds them (`chibo history`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from contract.model import fold
from warehouse import views
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
    """Versions of the report of the committee whose key or name contains ``committee`` (folded).

    The outcome is the submission's latest decision and ``in_marts`` says whether it is the submission
    that counts: both read from the warehouse's views, the definitions the marts use.
    """
    views.require_views(connection)
    wanted = fold(committee).replace(" ", "-")
    rows = connection.execute(
        f"""
        SELECT s.version, s.received_at, s.file_name, s.sha256, s.committee_name, s.preparer, s.contact_email,
               o.outcome, o.errors, c.submission_id IS NOT NULL AS in_marts, s.committee_key
        FROM {RAW_SCHEMA}.submissions s
        LEFT JOIN {views.LATEST_OUTCOMES} o ON o.submission_id = s.submission_id
        LEFT JOIN {views.COUNTED} c ON c.submission_id = s.submission_id
        WHERE s.report_year = ?
        ORDER BY s.committee_key, s.version
        """,
        [year],
    ).fetchall()
    matching = [row for row in rows if wanted in (row[10] or "") or wanted in fold(row[4] or "").replace(" ", "-")]
    return [Version(*row[:10]) for row in matching]
