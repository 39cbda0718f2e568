"""E-mail that is never lost nor sent twice, against a real SMTP server (aiosmtpd) that is down, answers 451 or 550,
and a real DuckDB warehouse that records each digest as sent right after the server took it. And the failed-night
notice: primary connection down -> the fallback; both down, or chibo.yaml corrupt -> the file and the log."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from airflow.sdk import Connection

from alerts.digest import OPERATORS
from alerts.failure import error_text, notify_failed_night
from alerts.mailer import send_messages
from alerts.nightly import digests_to_send, send_digests
from chibo.config import Settings, load_settings
from chibo.errors import PermanentError, TransientError
from chibo.smtp_sink import CollectingHandler, free_port, smtp_sink
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from ingestion import intake
from ingestion.intake import ingest_inbox
from tests.nights import validate_tonight
from warehouse.raw import connect

TODAY = date(2026, 11, 30)
NIGHT = "30/11/2026"


def smtp(port: int, retry_limit: int = 2, conn_id: str = "smtp_test") -> Connection:
    extra = {"disable_ssl": True, "disable_tls": True, "timeout": 5, "retry_limit": retry_limit, "retry_delay": 0.01}
    return Connection(conn_id=conn_id, conn_type="smtp", host="127.0.0.1", port=port, extra=json.dumps(extra))


@pytest.fixture
def two_digests_due(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A real night's intake and validation that leaves two digests to send: an unreadable file (the province is
    unknown: its digest goes to the operators) and a file whose intake failed (held: the operators' digest too)."""
    (settings.inbox / "hong.xlsx").write_bytes(b"this is not a workbook")
    write_xlsx(settings.inbox / "lao-cai_bat-xat_2024.xlsx", muong_khuong_2023())
    real_read_report = intake.read_report

    def read_report(path: Path, *args, **kwargs):
        if path.name == "lao-cai_bat-xat_2024.xlsx":
            raise KeyError("sheet")
        return real_read_report(path, *args, **kwargs)

    monkeypatch.setattr(intake, "read_report", read_report)
    with connect(settings.warehouse) as connection:
        ingest_inbox(connection, settings, "night-1")
    validate_tonight(settings, "night-1", today=TODAY)
    return settings


def recorded(settings: Settings) -> list[tuple[str, str]]:
    with connect(settings.warehouse, read_only=True) as connection:
        return connection.execute("select province, kind from raw.alerts_sent order by province, kind").fetchall()


def subjects(mailbox: CollectingHandler) -> list[str]:
    return [str(received.message["Subject"]) for received in mailbox.received]


def test_server_down_at_send_time_records_nothing_and_the_retried_task_sends_each_once(two_digests_due: Settings):
    settings = two_digests_due
    digests = digests_to_send(settings, TODAY, NIGHT)
    assert len(digests) == 2 and digests[-1].province == OPERATORS
    port = free_port()  # nothing listens there: connection refused

    with pytest.raises(TransientError, match="did not take") as raised:
        send_digests(settings, digests, smtp(port), "night-1")
    assert "ConnectionRefusedError" in str(raised.value) and "3 attempt(s)" in str(raised.value)
    assert recorded(settings) == []  # nothing said to be sent that the server did not take

    with smtp_sink(port=port) as (_, mailbox):  # the server is back when Airflow retries the task
        again = digests_to_send(settings, TODAY, NIGHT)
        assert [d.subject for d in again] == [d.subject for d in digests]
        sent = send_digests(settings, again, smtp(port), "night-1")
        assert [d.subject for d in sent] == [d.subject for d in digests]
        assert send_digests(settings, digests_to_send(settings, TODAY, NIGHT), smtp(port), "night-1") == []
    assert sorted(subjects(mailbox)) == sorted(d.subject for d in digests)  # each exactly once
    assert len(recorded(settings)) == 3  # two reports to the province's digest, one held decision to the operators


def test_a_451_on_the_second_digest_is_retried_in_the_task_and_each_is_delivered_once(two_digests_due: Settings):
    settings = two_digests_due
    digests = digests_to_send(settings, TODAY, NIGHT)
    with smtp_sink() as (port, mailbox):
        mailbox.replies = ["250", "451 4.3.0 Try again later"]
        sent = send_digests(settings, digests, smtp(port), "night-1")
        assert digests_to_send(settings, TODAY, NIGHT) == []  # the next run, and the next night, send nothing
        assert digests_to_send(settings, date(2026, 12, 1), "01/12/2026") == []
    assert sent == digests
    assert mailbox.refused == [(digests[1].subject, "451 4.3.0 Try again later")]
    assert subjects(mailbox) == [d.subject for d in digests]


def test_a_451_that_lasts_keeps_the_first_digest_recorded_and_the_retried_step_sends_only_the_second(
    two_digests_due: Settings,
):
    settings = two_digests_due
    first, second = digests_to_send(settings, TODAY, NIGHT)
    with smtp_sink() as (port, mailbox):
        mailbox.replies = ["250", "451 4.3.0 Try again later", "421 4.4.2 Closing connection"]
        with pytest.raises(TransientError, match="421"):
            send_digests(settings, [first, second], smtp(port, retry_limit=1), "night-1")
        assert subjects(mailbox) == [first.subject]
        assert {kind for _, kind in recorded(settings)} == {"outcome", "held"}  # the first digest's two reports

        # Airflow retries the alert step: the first digest is not composed again, the second is sent once
        [again] = digests_to_send(settings, TODAY, NIGHT)
        assert again.subject == second.subject
        send_digests(settings, [again], smtp(port), "night-1")
        assert digests_to_send(settings, TODAY, NIGHT) == []
        assert digests_to_send(settings, date(2026, 12, 1), "01/12/2026") == []  # the next night: nothing re-sent
    assert subjects(mailbox) == [first.subject, second.subject]


def test_a_550_for_one_digest_is_permanent_for_it_and_the_others_are_sent_and_recorded(two_digests_due: Settings):
    settings = two_digests_due
    first, second = digests_to_send(settings, TODAY, NIGHT)
    with smtp_sink() as (port, mailbox):
        mailbox.replies = ["550 5.1.1 Mailbox unavailable"]
        with pytest.raises(PermanentError, match="refused 1 of 2 messages for good") as raised:
            send_digests(settings, [first, second], smtp(port), "night-1")
    assert "550" in str(raised.value) and "chibo.yaml" in str(raised.value)
    assert subjects(mailbox) == [second.subject]  # not retried: a 5xx is permanent
    assert [kind for _, kind in recorded(settings)] == ["held:night-1"]  # only the operators' digest was taken
    [left] = digests_to_send(settings, TODAY, NIGHT)  # the refused one is not lost: it is due again
    assert left.subject == first.subject


# --------------------------------------------------------------------------- the failed-night notice


@pytest.fixture
def with_fallback(settings: Settings) -> Settings:
    return replace(settings, smtp_fallback_conn_id="smtp_fallback")


HOSTILE_ERROR = "DbtBuildFailed: model <script>alert(1)</script> & co failed"


def test_primary_down_the_notice_goes_through_the_fallback_and_to_a_file(with_fallback: Settings):
    down = free_port()
    with smtp_sink() as (port, mailbox):
        connections = {"smtp_default": smtp(down, 0), "smtp_fallback": smtp(port, 0, "smtp_fallback")}
        outcome = notify_failed_night(
            "scheduled__2026-11-30", "dbt_build", "task_failure", HOSTILE_ERROR, lambda: with_fallback,
            connections.__getitem__,
        )  # fmt: skip
    assert outcome.sent_through == "smtp_fallback"
    [received] = mailbox.received
    assert received.envelope_to == list(with_fallback.operators)
    text = received.message.get_body(("plain",)).get_content()
    html = received.message.get_body(("html",)).get_content()
    assert f"Lỗi: {HOSTILE_ERROR}" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html and "<script>" not in html
    assert outcome.path == with_fallback.work_dir / "notices" / "scheduled__2026-11-30-failed.eml"


def test_both_connections_down_the_notice_is_a_file_and_in_the_log(
    with_fallback: Settings, caplog: pytest.LogCaptureFixture
):
    connections = {"smtp_default": smtp(free_port(), 0), "smtp_fallback": smtp(free_port(), 0)}
    with caplog.at_level(logging.ERROR, logger="alerts.failure"):
        outcome = notify_failed_night(
            "manual__2026-11-30T02:00:00+07:00", "ingest", "task_failure", HOSTILE_ERROR, lambda: with_fallback,
            connections.__getitem__,
        )  # fmt: skip
    assert outcome.sent_through is None
    assert outcome.path is not None and outcome.path.parent == with_fallback.work_dir / "notices"
    saved = message_from_bytes(outcome.path.read_bytes(), policy=policy.default)
    assert HOSTILE_ERROR in saved.get_body(("plain",)).get_content()
    assert HOSTILE_ERROR in caplog.text and "smtp_fallback" in caplog.text
    assert not [p for p in outcome.path.parent.iterdir() if p.name.startswith(".")]


def test_a_missing_connection_is_tried_like_a_down_one(with_fallback: Settings):
    with smtp_sink() as (port, mailbox):
        outcome = notify_failed_night(
            "r1", "alert", "task_failure", "", lambda: with_fallback, {"smtp_fallback": smtp(port, 0)}.__getitem__
        )
    assert outcome.sent_through == "smtp_fallback" and len(mailbox.received) == 1


def test_a_corrupt_chibo_yaml_still_gives_the_notice_in_the_log_and_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    corrupt = tmp_path / "chibo.yaml"
    corrupt.write_text("paths: [inbox: {\n", encoding="utf-8")
    monkeypatch.setenv("CHIBO_CONFIG", str(corrupt))
    monkeypatch.setenv("CHIBO_WORK_DIR", str(tmp_path / "work"))

    def no_connection(conn_id: str) -> Connection:
        raise AssertionError("no connection can be read without the settings")

    with caplog.at_level(logging.ERROR, logger="alerts.failure"):
        outcome = notify_failed_night("r2", "discover", "task_failure", "", load_settings, no_connection)
    assert outcome.sent_through is None
    assert outcome.path == tmp_path / "work" / "notices" / "r2-failed.eml"
    text = message_from_bytes(outcome.path.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
    assert "Không đọc được cấu hình chibo.yaml" in text
    assert "Không đọc được cấu hình chibo.yaml" in caplog.text


def test_the_error_text_is_the_exception_or_the_reason():
    assert error_text(ValueError("x < y")) == "ValueError: x < y"
    assert "không thể chạy" in error_text(None, "all_tasks_deadlocked")


def test_the_in_task_retries_use_the_connection_extras(monkeypatch: pytest.MonkeyPatch):
    waited: list[float] = []
    extra = {"disable_ssl": True, "disable_tls": True, "retry_limit": 3, "retry_delay": 2}
    connection = Connection(conn_id="x", conn_type="smtp", host="127.0.0.1", port=free_port(), extra=json.dumps(extra))
    with pytest.raises(TransientError, match="4 attempt"):
        send_messages(connection, [notice_message()], sleep=waited.append)
    assert waited == [2.0, 4.0, 8.0]  # doubling


def notice_message():
    from alerts.failure import failed_night_message

    return failed_night_message("r1", "alert", "", "chibo@example.org", ["van-hanh@chibo.example.org"])
