"""No file left behind passes as success: a night that had a file intake failed on, or a report held, ends failed
at its last step (``conclude``), naming each file and why; a later night with nothing left behind succeeds."""

from __future__ import annotations

import runpy
from datetime import date
from pathlib import Path

import pytest

from chibo.config import Settings
from chibo.errors import NotReady, PermanentError, WarehouseBusy
from chibo.local_airflow import DAG_FILE, load_dag, prepare_environment
from chibo.smtp_sink import CollectingHandler, airflow_smtp_connection
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from pipeline import nightly

BROKEN = "lao-cai_bat-xat_2024.xlsx"


def fail_intake_of_every_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import ingestion.intake as intake

    def read_report_raising(*args, **kwargs):
        raise KeyError("sheet")  # a bug on one file: intake registers it as intake_failed

    monkeypatch.setattr(intake, "read_report", read_report_raising)


def test_conclude_names_tonights_failed_file_and_a_later_night_concludes_well(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    write_xlsx(settings.inbox / BROKEN, muong_khuong_2023())
    fail_intake_of_every_file(monkeypatch)
    [result] = nightly.ingest(settings, "night-1")
    nightly.validate(settings, "night-1", today=date(2026, 11, 29))
    [left] = nightly.not_taken_in(settings, "night-1")
    assert (left.file_name, left.submission_id) == (BROKEN, result["submission_id"])
    assert left.why == "held, intake failed" and "KeyError" in left.reason
    with pytest.raises(PermanentError) as raised:
        nightly.conclude(settings, "night-1")
    message = str(raised.value)
    assert f"- {BROKEN} ({result['submission_id']}): held, intake failed: " in message
    assert "night-1" in message and "KeyError" in message

    nightly.ingest(settings, "night-2")  # already registered under its hash, and held once: nothing tonight
    nightly.validate(settings, "night-2")
    assert nightly.not_taken_in(settings, "night-2") == []
    assert nightly.conclude(settings, "night-2") == 0


def test_a_night_whose_intake_failed_on_a_file_ends_failed_at_conclude(
    settings: Settings,
    smtp_server: tuple[int, CollectingHandler],
    airflow_home: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    from chibo.airflow_setup import initialise

    port, mailbox = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", airflow_smtp_connection(port))
    write_xlsx(settings.inbox / BROKEN, muong_khuong_2023())
    fail_intake_of_every_file(monkeypatch)
    initialise(settings, prepare_environment(airflow_home), api_server=False)
    dag_run = load_dag().test()
    assert str(dag_run.state) == "failed"
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert states["alert"] == "success"  # the digests went out first
    assert states["publish"] == "success"  # the marts without the file are published
    assert states["conclude"] == "failed"
    assert any(tuple(received.envelope_to) == settings.operators for received in mailbox.received)


def test_a_permanent_error_fails_its_task_at_once_and_anything_else_is_retried(monkeypatch: pytest.MonkeyPatch):
    from airflow.sdk.exceptions import AirflowFailException

    dag_file = runpy.run_path(str(DAG_FILE))

    def refused() -> None:
        raise NotReady("There is no inbox at /srv/chibo/inbox: run `chibo init`.")

    def busy() -> None:
        raise WarehouseBusy("The warehouse is in use by process 42.")

    with pytest.raises(AirflowFailException, match="There is no inbox at /srv/chibo/inbox"):
        dag_file["_fail_fast"](refused)()
    with pytest.raises(WarehouseBusy):  # transient: Airflow retries it
        dag_file["_fail_fast"](busy)()

    for name in ("CHIBO_TASK_RETRIES", "CHIBO_RETRY_DELAY_SECONDS", "CHIBO_MAX_RETRY_DELAY_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert dag_file["_default_args"]() == {
        "retries": 3,
        "retry_delay": 60,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": 1800,
        "on_failure_callback": dag_file["_remember_failure"],  # keeps each task's error for the night's notice
    }
    monkeypatch.setenv("CHIBO_TASK_RETRIES", "5")
    monkeypatch.setenv("CHIBO_RETRY_DELAY_SECONDS", "10")
    assert dag_file["_default_args"]()["retries"] == 5 and dag_file["_default_args"]()["retry_delay"] == 10
    monkeypatch.setenv("CHIBO_TASK_RETRIES", "many")
    with pytest.raises(ValueError, match="CHIBO_TASK_RETRIES must be a number, not 'many'"):
        dag_file["_default_args"]()
