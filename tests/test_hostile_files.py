"""Every broken or hostile file gets a clear Vietnamese error, goes to quarantine with its hash, and
never stops the night for the others."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

from alerts.digest import compose_alerts, unsent_reports
from chibo.config import Settings
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from ingestion.intake import fingerprint, ingest_inbox
from reading.errors import UnreadableReport
from reading.guards import Limits
from reading.reader import read_report
from tests.hostile_corpus import CORPUS, write_corpus
from tests.nights import validate_tonight
from warehouse.raw import connect

UNREADABLE = [case for case in CORPUS if not case.readable]


def test_the_corpus_has_at_least_25_distinct_refusals(tmp_path: Path):
    assert len(UNREADABLE) >= 25
    assert len({case.name for case in CORPUS}) == len(CORPUS)
    write_corpus(tmp_path)
    assert len({fingerprint(tmp_path / case.name) for case in CORPUS}) == len(CORPUS)  # distinct contents too


@pytest.mark.parametrize("case", UNREADABLE, ids=lambda case: case.name)
def test_each_hostile_file_is_refused_with_its_message(tmp_path: Path, case):
    path = tmp_path / case.name
    case.build(path)
    with pytest.raises(UnreadableReport) as refused:
        read_report(path)
    assert case.expected_vi in refused.value.message_vi
    assert refused.value.detail  # the precise reason for the log


def test_total_uncompressed_size_is_capped(tmp_path: Path):
    path = tmp_path / "lon.zip"
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for number in range(3):
            archive.writestr(f"t{number}.csv", b"1," * 400_000)
    with pytest.raises(UnreadableReport, match="uncompressed bytes over the cap"):
        read_report(path, limits=Limits(max_uncompressed_bytes=2_000_000))


def digest(path: Path) -> str:
    return fingerprint(path)


def test_a_night_with_every_bad_file_processes_the_good_ones_and_loses_nothing(settings: Settings):
    cases = write_corpus(settings.inbox)
    write_xlsx(settings.inbox / "muong-khuong-2023.xlsx", muong_khuong_2023())
    before = {path.name: digest(path) for path in settings.inbox.iterdir()}
    link_target = hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest()

    with connect(settings.warehouse) as connection:
        results = {r.file_name: r for r in ingest_inbox(connection, settings, "night-1")}
    outcomes = {o.submission_id: o for o in validate_tonight(settings, "night-1")}
    with connect(settings.warehouse) as connection:
        failures = dict(
            connection.execute(
                "select submission_id, string_agg(message, ' | ') from raw.validation_failures group by 1"
            ).fetchall()
        )
        alerts = compose_alerts(settings, unsent_reports(connection), "22/11/2026")

    assert {path.name: digest(path) for path in settings.inbox.iterdir()} == before  # nothing altered or removed
    assert outcomes[results["muong-khuong-2023.xlsx"].submission_id].outcome == "accepted"
    for name, case in cases.items():
        result = results[name]
        assert outcomes[result.submission_id].outcome == "rejected", name
        assert case.expected_vi in failures[result.submission_id], name
        if not case.readable:
            assert any(p.name.startswith(before[name]) for p in settings.quarantine.iterdir()), name
    alerted = "\n".join(alert.text for alert in alerts)
    for name, case in cases.items():  # every bad file is in an alert, with its message
        assert f"(tệp {name})" in alerted and case.expected_vi in alerted, name
    assert "muong-khuong-2023.xlsx" not in alerted
    archived_or_quarantined = {
        p.name.split(".")[0] for p in [*settings.archive.iterdir(), *settings.quarantine.iterdir()]
    }
    assert set(before.values()) <= archived_or_quarantined
    assert not any(link_target in p.name for p in settings.quarantine.iterdir())  # the link was never followed


def test_a_file_still_being_copied_is_left_for_the_next_run(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    settings = type(settings)(**{**settings.__dict__, "settle_probe_seconds": 0.6})
    growing = settings.inbox / "dang_chep.xlsx"
    growing.write_bytes(b"PK\x03\x04")
    write_xlsx(settings.inbox / "xong.xlsx", muong_khuong_2023())

    def keep_writing() -> None:
        for _ in range(6):
            time.sleep(0.1)
            with growing.open("ab") as handle:
                handle.write(os.urandom(1024))

    writer = threading.Thread(target=keep_writing)
    writer.start()
    with connect(settings.warehouse) as connection:
        results = {r.file_name: r.status for r in ingest_inbox(connection, settings, "night-1")}
        writer.join()
        [(registered,)] = connection.execute("select count(*) from raw.submissions").fetchall()
    assert results == {"dang_chep.xlsx": "in_progress", "xong.xlsx": "new"}
    assert registered == 1
    assert growing.exists()


def test_the_submission_format_doc_lists_every_refusal_message():
    from chibo.format_docs import DOC_PATH

    document = DOC_PATH.read_text(encoding="utf-8")
    for case in UNREADABLE:
        assert case.expected_vi in document, case.name
