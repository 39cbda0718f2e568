"""Nightly consolidation: discover → ingest → validate → dbt build → publish the analysts' snapshot, and alert.

Thin wiring only: every step is a function of ``pipeline`` / ``alerts``, imported inside the
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
    from chibo.config import load_settings

    return load_settings()


def _run_id() -> str:
    return str(get_current_context()["run_id"])


def _on_failure(context) -> None:
    """A failed night alerts the operators (Airflow's SmtpNotifier, through the same SMTP connection)."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    settings = _settings()
    run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", "?")
    task = getattr(context.get("ti"), "task_id", None) or "?"
    reason = context.get("reason") or ""
    SmtpNotifier(
        to=list(settings.operators),
        from_email=settings.mail_from,
        smtp_conn_id=settings.smtp_conn_id,
        subject=f"[chibo] Lần tổng hợp đêm {run_id} bị lỗi",
        html_content=(
            f"<p>Lần tổng hợp <b>{run_id}</b> không hoàn thành. Tác vụ lỗi: {task}. {reason}</p>"
            "<p>Xem nhật ký của tác vụ trong Airflow; các báo cáo đã nhận vẫn được giữ nguyên và sẽ được xử lý "
            "ở lần chạy sau.</p>"
        ),
    ).notify(context)


@dag(
    dag_id="nightly_consolidation",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
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
    def ingest(found: list[str]) -> list[dict[str, str]]:
        from pipeline.nightly import ingest

        return ingest(_settings(), _run_id())

    @task(pool=DUCKDB_POOL)
    def validate(intake: list[dict[str, str]]) -> dict[str, str]:
        from pipeline.nightly import validate

        return validate(_settings(), _run_id())

    @task(pool=DUCKDB_POOL)
    def dbt_build(outcomes: dict[str, str]) -> dict[str, int]:
        from pipeline.nightly import build_marts

        return build_marts(_settings())

    @task(pool=DUCKDB_POOL)
    def alert(build: dict[str, int]) -> list[str]:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        from alerts.nightly import digests_to_send, mark_sent

        settings = _settings()
        run_id = _run_id()
        today = pendulum.now("Asia/Ho_Chi_Minh")
        digests = digests_to_send(settings, today.date(), today.format("DD/MM/YYYY"))
        if not digests:
            return []
        with SmtpHook(smtp_conn_id=settings.smtp_conn_id) as hook:
            client = hook.get_conn()._smtp_client  # the hook's own call sends HTML only: we send HTML + text
            for digest in digests:
                log.info("digest to %s:\n%s", ", ".join(digest.recipients), digest.text)
                client.send_message(digest.message(settings.mail_from))
        mark_sent(settings, digests, run_id)
        return [digest.province for digest in digests]

    @task(pool=DUCKDB_POOL)
    def publish(build: dict[str, int]) -> str:
        """The analysts' snapshot: marts-only DuckDB file, Parquet per year, dbt docs, swapped in atomically."""
        from pipeline.publish import publish_snapshot

        return str(publish_snapshot(_settings(), _run_id()))

    built = dbt_build(validate(ingest(discover())))
    publish(built)
    alert(built)


nightly_dag = nightly_consolidation()
