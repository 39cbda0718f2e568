"""A failed night alerts the operators, through the real DAG and a real SMTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from chibo.config import Settings
from chibo.local_airflow import run_night
from chibo.smtp_sink import airflow_smtp_connection


def test_a_failed_night_emails_the_operators(
    settings: Settings, smtp_server, airflow_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    port, mailbox = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", airflow_smtp_connection(port))
    broken_inbox = tmp_path / "not-a-folder"
    broken_inbox.write_text("the inbox path points at a file: discovering submissions fails")
    monkeypatch.setenv("CHIBO_INBOX", str(broken_inbox))

    assert run_night(airflow_home) == "failed"

    [notice] = mailbox.received
    assert notice.envelope_to == list(settings.operators)
    assert notice.message["Subject"].startswith("[chibo] Lần tổng hợp đêm")
    assert "bị lỗi" in notice.message["Subject"]
    body = notice.message.get_body(("html", "plain")).get_content()
    assert "không hoàn thành" in body and "discover" in body
