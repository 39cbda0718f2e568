"""The nightly consolidation's steps as plain functions; the Airflow DAG only wires them.

Each writer opens the warehouse, works and closes it. Steps exchange small JSON-able values
(submission ids, counts), never data frames.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date
from pathlib import Path

from chibo.config import Settings, vietnam_today
from ingestion.intake import discover, ingest_inbox
from warehouse.admin_dimension import write_admin_reference
from warehouse.expected import refresh_expected
from warehouse.raw import connect

log = logging.getLogger(__name__)


def discover_submissions(settings: Settings) -> list[str]:
    return [path.name for path in discover(settings.inbox)]


def ingest(settings: Settings, run_id: str, today: date | None = None) -> list[dict[str, str]]:
    """Take in the inbox, and refresh which committees are expected to report (for completeness)."""
    today = today or vietnam_today()
    with connect(settings.warehouse) as connection:
        results = ingest_inbox(connection, settings, run_id)
        refresh_expected(connection, settings, today)
        write_admin_reference(connection)
    for result in results:
        log.info("intake %s: %s %s", result.file_name, result.status, result.message)
    return [asdict(result) for result in results]


def validate(settings: Settings, run_id: str, today: date | None = None) -> dict[str, str]:
    """Validate every pending submission; ``today`` (default: today in Vietnam) judges report years and dates."""
    from expectations.validate import validate_pending

    build_views(settings)
    with connect(settings.warehouse) as connection:
        outcomes = validate_pending(connection, run_id, settings=settings, today=today)
    return {outcome.submission_id: outcome.outcome for outcome in outcomes}


def build_views(settings: Settings) -> None:
    """Create or refresh the warehouse's views that validation reads (which submission counts, a submission's
    figures): ``dbt run`` of those views only, no test, so a failing mart test never holds back validation."""
    from pipeline.dbt_runner import dbt_build
    from warehouse import views
    from warehouse.raw import ensure_schema

    with connect(settings.warehouse) as connection:
        ensure_schema(connection)  # the reference tables the views read exist even on a new warehouse
    dbt_build(settings.warehouse, settings.work_dir, select=list(views.DBT_SELECTION), command="run")


def build_marts(settings: Settings) -> dict[str, int]:
    from pipeline.dbt_runner import dbt_build

    summary = dbt_build(settings.warehouse, settings.work_dir)
    return asdict(summary)


def ensure_dirs(settings: Settings) -> None:
    for path in (settings.inbox, settings.archive, settings.work_dir):
        Path(path).mkdir(parents=True, exist_ok=True)
