"""The nightly consolidation's steps as plain functions; the Airflow DAG only wires them.

Each writer opens the warehouse, works and closes it. Steps exchange small JSON-able values
(submission ids, counts), never data frames.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from chibo.config import Settings
from ingestion.intake import discover, ingest_inbox
from units.admin_dimension import write_admin_reference
from units.expected import refresh_expected
from warehouse.raw import connect

log = logging.getLogger(__name__)
VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


def discover_submissions(settings: Settings) -> list[str]:
    return [path.name for path in discover(settings.inbox)]


def ingest(settings: Settings, run_id: str, today: date | None = None) -> list[dict[str, str]]:
    """Take in the inbox, and refresh which committees are expected to report (for completeness)."""
    today = today or datetime.now(VIETNAM).date()
    with connect(settings.warehouse) as connection:
        results = ingest_inbox(connection, settings, run_id)
        refresh_expected(connection, settings, today)
        write_admin_reference(connection)
    for result in results:
        log.info("intake %s: %s %s", result.file_name, result.status, result.message)
    return [asdict(result) for result in results]


def validate(settings: Settings, run_id: str) -> dict[str, str]:
    from expectations.validate import validate_pending

    with connect(settings.warehouse) as connection:
        outcomes = validate_pending(connection, run_id, settings=settings)
    return {outcome.submission_id: outcome.outcome for outcome in outcomes}


def build_marts(settings: Settings) -> dict[str, int]:
    from pipeline.dbt_runner import dbt_build

    summary = dbt_build(settings.warehouse, settings.work_dir)
    return asdict(summary)


def ensure_dirs(settings: Settings) -> None:
    for path in (settings.inbox, settings.archive, settings.work_dir):
        Path(path).mkdir(parents=True, exist_ok=True)
