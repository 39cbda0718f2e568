"""Nightly consolidation: discover → ingest → validate → dbt build → publish the analysts' snapshot, alert, conclude.

Thin wiring only: every step is a function of ``pipeline`` / ``alerts``, imported inside the
task (GX and dbt take seconds to import). The steps hand each other nothing but the warehouse, so
the tasks take no arguments and their order is given with ``>>``. The tasks that write the DuckDB
warehouse share the one-slot pool ``chibo_duckdb``: DuckDB allows one writing process.

The alert runs once validation has succeeded, whether dbt build succeeded or not
(``all_done_min_one_success`` over validate and dbt_build): a failing mart test never holds back the
night's rejection notices. The night still ends failed (publish does not run) and the operators get
the failed-night notice.

No failure passes as success. ``discover`` first checks that the deployment is ready (``chibo init``): it never
creates an inbox or a warehouse. ``conclude``, after ``alert``, fails the night when a file of tonight was not
taken in or a report is held, naming each. A task fails at once on a ``PermanentError`` (bad configuration, a
foreign warehouse: ``AirflowFailException``, no retry) and is retried with exponential backoff on anything else
(a busy warehouse, an SMTP hiccup): ``CHIBO_TASK_RETRIES`` (3), ``CHIBO_RETRY_DELAY_SECONDS`` (60, doubled each
time), ``CHIBO_MAX_RETRY_DELAY_SECONDS`` (1800).
"""

from __future__ import annotations

import logging

import pendulum
from airflow.sdk import dag, get_current_context, task

DUCKDB_POOL = "chibo_duckdb"  # the pool `chibo init` creates (chibo.airflow_setup; test_dag_definition compares)
TIMEZONE = "Asia/Ho_Chi_Minh"
log = logging.getLogger(__name__)


def _settings():
    from chibo.config import load_settings

    return load_settings()


def _run_id() -> str:
    return str(get_current_context()["run_id"])


def _env_number(name: str, default: float) -> float:
    import os

    text = os.environ.get(name, "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        raise ValueError(f"The environment variable {name} must be a number, not {text!r}.") from None
    if value < 0:
        raise ValueError(f"The environment variable {name} must be at least 0, not {text!r}.")
    return value


def _default_args() -> dict[str, object]:
    """Retries for whatever may pass (a busy warehouse, an SMTP 4xx), with exponential backoff; read when the file
    is parsed."""
    retries = _env_number("CHIBO_TASK_RETRIES", 3)
    if retries != int(retries):
        raise ValueError(f"The environment variable CHIBO_TASK_RETRIES must be a whole number, not {retries:g}.")
    return {
        "retries": int(retries),
        "retry_delay": _env_number("CHIBO_RETRY_DELAY_SECONDS", 60),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": _env_number("CHIBO_MAX_RETRY_DELAY_SECONDS", 1800),
        "on_failure_callback": _remember_failure,
    }


def _fail_fast(function):
    """A ``PermanentError`` (chibo.errors) fails the task at once, without retries, with the same sentence."""
    import functools

    @functools.wraps(function)
    def run(*args, **kwargs):
        from chibo.errors import PermanentError

        try:
            return function(*args, **kwargs)
        except PermanentError as error:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(str(error)) from error

    return run


def _task(**kwargs):
    """``@task`` whose body fails fast on a ``PermanentError`` (``_fail_fast``)."""
    return lambda function: task(**kwargs)(_fail_fast(function))


def _remember_failure(context) -> None:
    """A task's final failure: its error is kept for the night's notice (the DAG's callback gets no exception)."""
    try:
        from alerts.failure import error_text, remember_task_error
        from chibo.config import load_settings

        run_id = str(context.get("run_id") or getattr(context.get("dag_run"), "run_id", None) or "unknown-run")
        task_id = getattr(context.get("ti"), "task_id", None) or "?"
        remember_task_error(run_id, task_id, error_text(context.get("exception")), load_settings)
    except Exception:  # noqa: BLE001 - a failure callback must never raise
        log.exception("the failed task's error could not be kept for the notice")


def _on_failure(context) -> None:
    """A failed night alerts the operators with the error: logged, kept in <work_dir>/notices, and sent through the
    digests' SMTP connection or the fallback one (``alerts.failure.notify_failed_night``). Never raises."""
    try:
        from airflow.sdk import Connection

        from alerts.failure import error_text, notify_failed_night
        from chibo.config import load_settings

        run_id = str(context.get("run_id") or getattr(context.get("dag_run"), "run_id", None) or "unknown-run")
        task_id = getattr(context.get("ti"), "task_id", None) or "?"
        reason = str(context.get("reason") or "")
        error = error_text(context.get("exception"), reason)
        notify_failed_night(run_id, task_id, reason, error, load_settings, Connection.get)
    except Exception:  # noqa: BLE001 - a failure callback must never raise; notify_failed_night already logs
        log.exception("the failed-night notice could not be given")


@dag(
    dag_id="nightly_consolidation",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    tags=["chibo"],
    doc_md=__doc__,
    default_args=_default_args(),
    on_failure_callback=_on_failure,
)
def nightly_consolidation():
    @_task(pool=DUCKDB_POOL)
    def discover() -> list[str]:
        """The deployment is ready (``chibo init`` was run, the warehouse is chibo's), then the inbox's files."""
        from pipeline.nightly import discover_submissions, prepare_night

        settings = _settings()
        prepare_night(settings)
        return discover_submissions(settings)

    # A task returns a count per status, never a value per file: each XCom key is a call to Airflow's API (10 ms),
    # and a national night has 18,000 files.
    @_task(pool=DUCKDB_POOL, multiple_outputs=False)
    def ingest() -> dict[str, int]:
        from pipeline.nightly import ingest, tally

        return tally(result["status"] for result in ingest(_settings(), _run_id()))

    @_task(pool=DUCKDB_POOL, multiple_outputs=False)
    def validate() -> dict[str, int]:
        from pipeline.nightly import tally, validate

        return tally(validate(_settings(), _run_id()).values())

    @_task(pool=DUCKDB_POOL, multiple_outputs=False)
    def dbt_build() -> dict[str, int]:
        from pipeline.nightly import build_marts

        return build_marts(_settings(), _run_id())

    @_task(pool=DUCKDB_POOL)
    def publish() -> str:
        """The analysts' snapshot: marts-only DuckDB file, Parquet per year, dbt docs, swapped in atomically."""
        from pipeline.publish import publish_snapshot

        return str(publish_snapshot(_settings(), _run_id()))

    @_task(pool=DUCKDB_POOL, trigger_rule="all_done_min_one_success")
    def alert() -> list[str]:
        from airflow.sdk import Connection

        from alerts.nightly import alert_tonight

        settings = _settings()
        today = pendulum.now(TIMEZONE)
        # each digest is recorded as sent as soon as the server took it: a retried task sends nothing twice
        smtp = lambda: Connection.get(settings.smtp_conn_id)  # noqa: E731 - read only when there is mail to send
        sent = alert_tonight(settings, today.date(), today.format("DD/MM/YYYY"), smtp, _run_id())
        return [digest.province for digest in sent]

    @_task(pool=DUCKDB_POOL)
    def conclude() -> int:
        """Fails the night, naming each file, when tonight had a file not taken in or a report held; runs once the
        alert has gone out (the default trigger rule: after a successful ``alert``)."""
        from pipeline.nightly import conclude

        return conclude(_settings(), _run_id())

    validated = validate()
    built = dbt_build()
    discover() >> ingest() >> validated >> built >> publish()
    [validated, built] >> alert() >> conclude()


nightly_dag = nightly_consolidation()
