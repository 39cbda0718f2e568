"""A failing dbt test does not hold back the night's rejection notices: the real DAG (dag.test()), real
dbt, a real SMTP server. The night still ends failed, nothing is published, the operators are told."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from chibo.config import DEFAULT_CONFIG_PATH, Settings
from chibo.local_airflow import run_night
from chibo.smtp_sink import airflow_smtp_connection
from contract.model import load_contract
from demo.samples import UNREADABLE_FILE_NAME, write_sample_inbox
from warehouse.raw import connect, ensure_schema, insert_rows

TONG_HOP_TITLE = next(sheet.title for sheet in load_contract().sheets if sheet.name == "tong_hop")

VIETNAM = timezone(timedelta(hours=7))
MISTYPED_ID = "0000000000000000"


def body(message) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", message.get_body(("html", "plain")).get_content()))


def reminders_tonight(tmp_path: Path) -> Path:
    """chibo.yaml with tonight a reminder day for the last finished report year, so that the alert reads
    the completeness mart, which the failed build never made."""
    document = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    today = datetime.now(VIETNAM).date()
    to_deadline = (date(today.year, 1, 15) - today).days  # the deadline of report year today.year - 1
    around = [to_deadline - 1, to_deadline, to_deadline + 1]  # whichever side of midnight the alert runs
    document["completeness"] = {
        "deadline": "01-15",
        "reminder_days_before": around,
        "reminder_days_after": [-days for days in around],
        "years_back": 2,
    }
    config = tmp_path / "chibo.yaml"
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return config


def plant_a_decision_for_a_mistyped_submission(settings: Settings) -> None:
    """An operator's hand-made decision whose submission id was mistyped: the staging test
    ``relationships`` (every decision is of a registered submission) fails, and the marts after it are skipped."""
    with connect(settings.warehouse) as connection:
        ensure_schema(connection)
        insert_rows(
            connection,
            "submission_outcomes",
            [
                {
                    "submission_id": MISTYPED_ID,
                    "run_id": "by-hand",
                    "outcome": "rejected",
                    "decided_at": datetime(2026, 11, 1, 9, 0),
                    "errors": 1,
                }
            ],
        )


def test_a_failing_dbt_test_still_sends_the_rejection_digest_and_fails_the_night(
    settings: Settings, smtp_server, airflow_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    port, mailbox = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", airflow_smtp_connection(port))
    monkeypatch.setenv("CHIBO_CONFIG", str(reminders_tonight(tmp_path)))
    write_sample_inbox(settings.inbox)
    plant_a_decision_for_a_mistyped_submission(settings)

    assert run_night(airflow_home) == "failed"

    by_recipient: dict[tuple[str, ...], list] = {}
    for received in mailbox.received:
        by_recipient.setdefault(tuple(received.envelope_to), []).append(received.message)
    [dien_bien] = by_recipient[("to-chuc@dienbien.example.org",)]
    assert "1 báo cáo bị từ chối" in dien_bien["Subject"]
    assert "Đảng bộ huyện Mường Nhé — năm 2016" in body(dien_bien)
    # sheets are named by their titles in the contract, never by their ids
    assert f"trang «{TONG_HOP_TITLE}», dòng 5" in body(dien_bien)

    operators = {m["Subject"]: m for m in by_recipient[tuple(settings.operators)]}
    [notice] = [m for subject, m in operators.items() if subject.startswith("[chibo] Lần tổng hợp đêm")]
    assert "Tác vụ lỗi: dbt_build." in body(notice)
    assert any(UNREADABLE_FILE_NAME in body(m) for m in operators.values() if m is not notice)

    with connect(settings.warehouse, read_only=True) as connection:  # dbt let the file go, even after failing
        [(told,)] = connection.execute("select count(*) from raw.alerts_sent").fetchall()
        [(reporting_status,)] = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'fct_reporting_status'"
        ).fetchall()
    assert told > 0  # recorded as sent: the next night does not send it again
    assert reporting_status == 0  # the completeness mart was never built: the alert coped
    assert not (settings.publish / "chibo.duckdb").exists()  # a failed build is never published
    writer = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).close()", str(settings.warehouse)],
        capture_output=True,
        text=True,
    )
    assert writer.returncode == 0, writer.stderr  # free for the next writer, another process
