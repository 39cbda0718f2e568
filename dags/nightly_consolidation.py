"""Nightly consolidation: discover → ingest → validate → dbt build → alert.

Thin wiring only: every step is a function of ``ingestion`` / ``alerts``, imported inside the
task (GX and dbt take seconds to import). The tasks that write the DuckDB warehouse share the
one-slot pool ``chibo_duckdb``: DuckDB allows one writing process.
"""

from __future__ import annotations

import logging

import pendulum
from airflow.sdk import dag, get_current_context, task

DUCKDB_POOL = "chibo_duckdb"
log = logging.getLogger(__name__)


def _settings():
    from ingestion.config import load_settings

    return load_settings()


def _run_id() -> str:
    return str(get_current_context()["run_id"])


@dag(
    dag_id="nightly_consolidation",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    tags=["chibo"],
    doc_md=__doc__,
)
def nightly_consolidation():
    @task
    def discover() -> list[str]:
        from ingestion.nightly import discover_submissions, ensure_dirs

        settings = _settings()
        ensure_dirs(settings)
        return discover_submissions(settings)

    @task(pool=DUCKDB_POOL)
    def ingest(found: list[str]) -> list[dict[str, str]]:
        from ingestion.nightly import ingest

        return ingest(_settings(), _run_id())

    @task(pool=DUCKDB_POOL)
    def validate(intake: list[dict[str, str]]) -> dict[str, str]:
        from ingestion.nightly import validate

        return validate(_settings(), _run_id())

    @task(pool=DUCKDB_POOL)
    def dbt_build(outcomes: dict[str, str]) -> dict[str, int]:
        from ingestion.nightly import build_marts

        return build_marts(_settings())

    @task(pool=DUCKDB_POOL)
    def alert(build: dict[str, int]) -> list[str]:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        from alerts.digest import compose_alerts, rejected_in_run
        from ingestion.warehouse import connect

        settings = _settings()
        run_id = _run_id()
        with connect(settings.warehouse, read_only=True) as connection:
            rejected = rejected_in_run(connection, run_id)
        night = pendulum.now("Asia/Ho_Chi_Minh").format("DD/MM/YYYY")
        alerts = compose_alerts(settings, rejected, night)
        if not alerts:
            return []
        with SmtpHook(smtp_conn_id=settings.smtp_conn_id) as hook:
            for message in alerts:
                log.info("alert to %s:\n%s", ", ".join(message.recipients), message.text)
                hook.send_email_smtp(
                    to=list(message.recipients),
                    subject=message.subject,
                    html_content=message.html,
                    from_email=settings.mail_from,
                )
        return [message.province for message in alerts]

    alert(dbt_build(validate(ingest(discover()))))


nightly_dag = nightly_consolidation()
