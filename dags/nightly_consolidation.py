"""Nightly consolidation: discover → ingest → validate → dbt build → publish the analysts' snapshot, and alert.

Thin wiring only: every step is a function of ``pipeline`` / ``alerts``, imported inside the
task (GX and dbt take seconds to import). The steps hand each other nothing but the warehouse, so
the tasks take no arguments and their order is given with ``>>``. The tasks that write the DuckDB
warehouse share the one-slot pool ``chibo_duckdb``: DuckDB allows one writing process.

The alert runs once validation has succeeded, whether dbt build succeeded or not
(``all_done_min_one_success`` over validate and dbt_build): a failing mart test never holds back the
night's rejection notices. The night still ends failed (publish does not run) and the operators get
the failed-night notice.
"""

from __future__ import annotations

import logging

import pendulum
from airflow.sdk import dag, get_current_context, task

DUCKDB_POOL = "chibo_duckdb"
TIMEZONE = "Asia/Ho_Chi_Minh"
log = logging.getLogger(__name__)


def _settings():
    from chibo.config import load_settings

    return load_settings()


def _run_id() -> str:
    return str(get_current_context()["run_id"])


def _on_failure(context) -> None:
    """A failed night alerts the operators, through the same SMTP connection as the digests."""
    from airflow.sdk import Connection

    from alerts.failure import failed_night_message
    from alerts.mailer import send_messages

    settings = _settings()
    run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", "?")
    task_id = getattr(context.get("ti"), "task_id", None) or "?"
    notice = failed_night_message(run_id, task_id, context.get("reason") or "", settings.mail_from, settings.operators)
    send_messages(Connection.get(settings.smtp_conn_id), [notice])


@dag(
    dag_id="nightly_consolidation",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    tags=["chibo"],
    doc_md=__doc__,
    on_failure_callback=_on_failure,
)
def nightly_consolidation():
    @task
    def discover() -> list[str]:
        from pipeline.nightly import discover_submissions, ensure_dirs

        settings = _settings()
        ensure_dirs(settings)
        return discover_submissions(settings)

    @task(pool=DUCKDB_POOL)
    def ingest() -> list[dict[str, str]]:
        from pipeline.nightly import ingest

        return ingest(_settings(), _run_id())

    @task(pool=DUCKDB_POOL)
    def validate() -> dict[str, str]:
        from pipeline.nightly import validate

        return validate(_settings(), _run_id())

    @task(pool=DUCKDB_POOL)
    def dbt_build() -> dict[str, int]:
        from pipeline.nightly import build_marts

        return build_marts(_settings())

    @task(pool=DUCKDB_POOL)
    def publish() -> str:
        """The analysts' snapshot: marts-only DuckDB file, Parquet per year, dbt docs, swapped in atomically."""
        from pipeline.publish import publish_snapshot

        return str(publish_snapshot(_settings(), _run_id()))

    @task(pool=DUCKDB_POOL, trigger_rule="all_done_min_one_success")
    def alert() -> list[str]:
        from airflow.sdk import Connection

        from alerts.mailer import send_messages
        from alerts.nightly import digests_to_send, mark_sent

        settings = _settings()
        today = pendulum.now(TIMEZONE)
        digests = digests_to_send(settings, today.date(), today.format("DD/MM/YYYY"))
        if not digests:
            return []
        for digest in digests:
            log.info("digest to %s:\n%s", ", ".join(digest.recipients), digest.text)
        send_messages(Connection.get(settings.smtp_conn_id), [d.message(settings.mail_from) for d in digests])
        mark_sent(settings, digests, _run_id())
        return [digest.province for digest in digests]

    validated = validate()
    built = dbt_build()
    discover() >> ingest() >> validated >> built >> publish()
    [validated, built] >> alert()


nightly_dag = nightly_consolidation()
