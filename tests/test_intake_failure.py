"""A file whose intake fails with an unexpected error is registered as ``intake_failed``, kept in quarantine,
and never retried silently: a real inbox, a real DuckDB warehouse, our reader made to raise for one file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from chibo.config import Settings
from contract.workbook import write_xlsx
from demo.samples import bao_thang_2024, muong_khuong_2023
from ingestion import intake
from ingestion.intake import INTAKE_FAILED, INTAKE_FAILED_MESSAGE, IntakeError, ingest_inbox
from warehouse.raw import connect

BROKEN = "bao-thang-2024.xlsx"
GOOD = "muong-khuong-2023.xlsx"


@pytest.fixture
def inbox_with_a_file_that_breaks_the_reader(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    write_xlsx(settings.inbox / GOOD, muong_khuong_2023())
    write_xlsx(settings.inbox / BROKEN, bao_thang_2024())
    real_read_report = intake.read_report
    calls: list[str] = []

    def read_report(path: Path, *args, **kwargs):
        calls.append(path.name)
        if path.name == BROKEN:
            raise RuntimeError("calamine: unexpected end of stream in xl/worksheets/sheet3.xml")
        return real_read_report(path, *args, **kwargs)

    monkeypatch.setattr(intake, "read_report", read_report)
    return calls


def test_a_file_that_fails_intake_is_registered_quarantined_and_not_retried(
    settings: Settings, inbox_with_a_file_that_breaks_the_reader: list[str]
):
    calls = inbox_with_a_file_that_breaks_the_reader
    with connect(settings.warehouse) as connection:
        first = {r.file_name: r for r in ingest_inbox(connection, settings, "night-1")}
        second = {r.file_name: r for r in ingest_inbox(connection, settings, "night-2")}
        registered = connection.execute(
            "select file_name, report_kind, read_error, read_notes, run_id, archived_path "
            "from raw.submissions order by file_name"
        ).fetchall()
        [(loaded_rows,)] = connection.execute("select count(*) from raw.to_chuc_co_so").fetchall()

    assert first[GOOD].status == "new"
    assert first[BROKEN].status == "failed" and first[BROKEN].message == INTAKE_FAILED_MESSAGE
    sha256 = hashlib.sha256((settings.inbox / BROKEN).read_bytes()).hexdigest()
    assert first[BROKEN].submission_id == sha256[:16]

    by_file = {row[0]: row for row in registered}
    assert len(registered) == 2  # once each, the second night added nothing
    _, kind, read_error, read_notes, run_id, archived_path = by_file[BROKEN]
    assert kind == INTAKE_FAILED
    assert read_error == "Hệ thống gặp lỗi khi tiếp nhận tệp; bộ phận kỹ thuật đã được báo."
    assert read_notes == "RuntimeError: calamine: unexpected end of stream in xl/worksheets/sheet3.xml"
    assert run_id == "night-1"
    assert by_file[GOOD][1] == "detailed"
    assert loaded_rows == 42  # only the good report's organisations

    quarantined = Path(archived_path)
    assert quarantined == settings.quarantine / f"{sha256}.xlsx"
    assert quarantined.read_bytes() == (settings.inbox / BROKEN).read_bytes()
    reason = json.loads((settings.quarantine / f"{sha256}.json").read_text(encoding="utf-8"))
    assert reason["status"] == INTAKE_FAILED and reason["message_vi"] == INTAKE_FAILED_MESSAGE
    assert "RuntimeError" in reason["detail"] and "read_report" in reason["traceback"]
    assert not [p for p in settings.quarantine.iterdir() if p.name.startswith(".")]  # no temporary copy left

    assert {r.status for r in second.values()} == {"duplicate"}  # not retried
    assert calls.count(BROKEN) == 1


def test_when_even_registering_fails_the_error_propagates_after_the_other_files(
    settings: Settings, inbox_with_a_file_that_breaks_the_reader: list[str], monkeypatch: pytest.MonkeyPatch
):
    def no_quarantine(*args, **kwargs):
        raise PermissionError("quarantine is read-only")

    monkeypatch.setattr(intake, "quarantine_copy", no_quarantine)
    with connect(settings.warehouse) as connection:
        with pytest.raises(IntakeError, match=BROKEN):
            ingest_inbox(connection, settings, "night-1")
        registered = connection.execute("select file_name from raw.submissions").fetchall()
    assert registered == [(GOOD,)]  # the other file is taken in, the failing one is not passed over silently
