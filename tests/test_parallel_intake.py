"""Intake reads a large night's files in a pool of processes and registers them in batches: it registers exactly
what reading one file at a time registers, a reader that raises in a worker is registered as ``intake_failed`` as
it always was, and a batch whose transaction fails is registered file by file. Real files, a real warehouse, real
worker processes."""

from __future__ import annotations

import copy
import multiprocessing
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from chibo.config import Settings, load_settings
from chibo.deployment import prepare
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from ingestion import intake
from ingestion.intake import INTAKE_FAILED, IntakeResult, ingest_inbox
from tests.deployments import deployment_variables
from warehouse.raw import connect

REPORTS = 18  # above intake.PARALLEL_MINIMUM: the pool reads them
UNREADABLE = "zz-hong.xlsx"
COPY = "zz-ban-sao.xlsx"
CORRECTION = "zz-dinh-chinh.xlsx"
NOT_COMPARED = {"received_at", "archived_path", "created_at"}


def write_night(inbox: Path) -> None:
    template = muong_khuong_2023()
    for number in range(REPORTS):
        report = copy.deepcopy(template)
        report["thong_tin"]["committee_name"] = f"Đảng bộ huyện Thử Nghiệm {number:02d}"
        write_xlsx(inbox / f"bao-cao-{number:02d}.xlsx", report)
    corrected = copy.deepcopy(template)  # a second version of committee 00's report, in the same night
    corrected["thong_tin"]["committee_name"] = "Đảng bộ huyện Thử Nghiệm 00"
    corrected["thong_tin"]["preparer"] = "Người lập khác"
    write_xlsx(inbox / CORRECTION, corrected)
    (inbox / UNREADABLE).write_bytes(b"this is not a workbook")
    (inbox / COPY).write_bytes((inbox / "bao-cao-03.xlsx").read_bytes())


def second_deployment(base: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    base.mkdir()
    for name, value in deployment_variables(base).items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    prepare(settings)
    return settings


def ingest_with(settings: Settings, workers: int, monkeypatch: pytest.MonkeyPatch) -> list[IntakeResult]:
    monkeypatch.setenv("CHIBO_PARSE_WORKERS", str(workers))
    with connect(settings.warehouse) as connection:
        return ingest_inbox(connection, settings, "night-1")


def raw_tables(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every raw table's rows, sorted, without the columns that differ by time or by deployment folder."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = [
            t
            for (t,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'raw' "
                "and table_name <> 'chibo_warehouse' order by 1"
            ).fetchall()
        ]
        dumped = {}
        for table in tables:
            columns = [
                c
                for (c,) in connection.execute(
                    "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ? "
                    "order by ordinal_position",
                    [table],
                ).fetchall()
                if c not in NOT_COMPARED
            ]
            rows = connection.execute(f"select {', '.join(columns)} from raw.{table}").fetchall()
            dumped[table] = sorted(rows, key=repr)
    return dumped


def by_file(results: list[IntakeResult]) -> dict[str, tuple[str, str]]:
    return {r.file_name: (r.submission_id, r.status) for r in results}


def test_the_pool_registers_what_reading_one_by_one_registers(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    serial = second_deployment(tmp_path / "serial", monkeypatch)
    write_night(settings.inbox)
    for written in settings.inbox.iterdir():  # the same bytes (a workbook records when it was written)
        shutil.copy2(written, serial.inbox / written.name)
    monkeypatch.setattr(intake, "BATCH_FILES", 5)  # several batches and windows

    pooled_results = ingest_with(settings, 2, monkeypatch)
    serial_results = ingest_with(serial, 1, monkeypatch)

    assert by_file(pooled_results) == by_file(serial_results)
    statuses = by_file(pooled_results)
    assert statuses[UNREADABLE][1] == "unreadable" and statuses[COPY][1] == "duplicate"
    assert sum(status == "new" for _, status in statuses.values()) == REPORTS + 1
    pooled, one_by_one = raw_tables(settings.warehouse), raw_tables(serial.warehouse)
    assert pooled == one_by_one
    assert len(pooled["submissions"]) == REPORTS + 2
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        versions = [v for (v,) in connection.execute("select version from raw.submissions order by version").fetchall()]
    assert versions == [*range(1, REPORTS + 2), None]  # one committee key (the sample's code), counted in order


def test_a_reader_that_raises_in_a_worker_is_registered_as_intake_failed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    write_night(settings.inbox)
    real_read_report = intake.read_report
    broken = "bao-cao-07.xlsx"

    def read_report(path: Path, *args, **kwargs):  # forked workers inherit it, as the intake process does
        if path.name == broken:
            raise RuntimeError("calamine: unexpected end of stream")
        return real_read_report(path, *args, **kwargs)

    monkeypatch.setattr(intake, "read_report", read_report)
    results = by_file(ingest_with(settings, 2, monkeypatch))

    assert results[broken][1] == "failed"
    assert sum(status == "new" for _, status in results.values()) == REPORTS
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        [(kind, notes)] = connection.execute(
            "select report_kind, read_notes from raw.submissions where file_name = ?", [broken]
        ).fetchall()
    assert kind == INTAKE_FAILED and notes == "RuntimeError: calamine: unexpected end of stream"


def test_a_batch_that_fails_is_registered_file_by_file(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    write_night(settings.inbox)
    real_insert = intake.insert_loaded
    refused = "bao-cao-02.xlsx"

    def insert_loaded(connection, batch):
        if any(item.path.name == refused for item in batch):
            raise duckdb.ConstraintException("Constraint Error: a row the warehouse refuses")
        real_insert(connection, batch)

    monkeypatch.setattr(intake, "insert_loaded", insert_loaded)
    monkeypatch.setattr(intake, "BATCH_FILES", 6)
    results = by_file(ingest_with(settings, 2, monkeypatch))

    assert results[refused][1] == "failed"
    assert sum(status == "new" for _, status in results.values()) == REPORTS  # the refused one's batch-mates too
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        kinds = dict(connection.execute("select file_name, report_kind from raw.submissions").fetchall())
        versions = dict(
            connection.execute(
                "select file_name, version from raw.submissions where report_kind <> ? and version is not null",
                [INTAKE_FAILED],
            ).fetchall()
        )
        [(organisations,)] = connection.execute("select count(*) from raw.to_chuc_co_so").fetchall()
    assert kinds[refused] == INTAKE_FAILED
    assert sorted(versions.values()) == list(range(1, REPORTS + 1))  # recounted: the refused file took no version
    assert organisations == 42 * (REPORTS - 1 + 1)  # every report but the refused one, the correction included


def _stage_elsewhere(paths: list[Path], staged: Path) -> int:
    return intake.stage_reads(paths, staged)


def test_readings_staged_by_another_process_are_registered_without_reading_again(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The scale-out path in the small: another interpreter (as a Celery worker would) reads half of the night's
    files into a shared folder; intake, the one writer, registers those readings and reads only the rest."""
    serial = second_deployment(tmp_path / "serial", monkeypatch)
    write_night(settings.inbox)
    for written in settings.inbox.iterdir():
        shutil.copy2(written, serial.inbox / written.name)
    staged = tmp_path / "staged"
    ahead = sorted(settings.inbox.iterdir())[::2]
    with multiprocessing.get_context("spawn").Pool(1) as other_interpreter:
        assert other_interpreter.apply(_stage_elsewhere, (ahead, staged)) == len(ahead)
    real_read_report = intake.read_report
    read_here: list[str] = []

    def read_report(path: Path, *args, **kwargs):
        read_here.append(path.name)
        return real_read_report(path, *args, **kwargs)

    monkeypatch.setattr(intake, "read_report", read_report)
    monkeypatch.setenv("CHIBO_PARSE_WORKERS", "1")
    with connect(settings.warehouse) as connection:
        staged_results = ingest_inbox(connection, settings, "night-1", staged=staged)
    read_by_intake = set(read_here)
    serial_results = ingest_with(serial, 1, monkeypatch)

    assert read_by_intake == {path.name for path in settings.inbox.iterdir()} - {path.name for path in ahead} - {COPY}
    assert by_file(staged_results) == by_file(serial_results)
    assert raw_tables(settings.warehouse) == raw_tables(serial.warehouse)
    assert not list(staged.glob("*.pickle"))  # registered, then removed


def test_a_night_hashes_only_what_changed_since_the_last(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    """The inbox keeps every file of every night: hashes are kept by name and file state, and a file rewritten in
    place (same size, modification time put back) is hashed again and taken in as what it now is."""
    write_night(settings.inbox)
    kept = settings.work_dir / intake.FINGERPRINTS_FILE
    real_fingerprint = intake.fingerprint
    hashed: list[str] = []

    def fingerprint(path: Path) -> str:
        hashed.append(path.name)
        return real_fingerprint(path)

    monkeypatch.setattr(intake, "fingerprint", fingerprint)

    def night(run_id: str) -> dict[str, tuple[str, str]]:
        hashed.clear()
        with connect(settings.warehouse) as connection:
            return by_file(ingest_inbox(connection, settings, run_id, fingerprints=kept))

    first = night("night-1")
    assert len(hashed) >= REPORTS + 3  # every file, once (and the archive copies are checked)
    second = night("night-2")
    assert hashed == []  # nothing new: nothing hashed
    assert {status for _, status in second.values()} == {"duplicate"}

    rewritten = settings.inbox / "bao-cao-05.xlsx"
    before = rewritten.stat()
    original = rewritten.read_bytes()
    rewritten.write_bytes(original[:-64] + original[-64:][::-1])  # same size, other bytes
    os.utime(rewritten, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert rewritten.stat().st_size == before.st_size and rewritten.stat().st_mtime_ns == before.st_mtime_ns
    third = night("night-3")
    assert "bao-cao-05.xlsx" in hashed
    assert third["bao-cao-05.xlsx"][0] != first["bao-cao-05.xlsx"][0]  # a new hash: taken in as what it now is
    assert third["bao-cao-05.xlsx"][1] != "duplicate"


def test_when_no_reading_process_can_start_the_files_are_read_in_intake(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    """A night in a process that may not have children (a daemonic worker, a process limit) still takes every file
    in: intake reads them itself."""
    write_night(settings.inbox)

    def no_processes(*args, **kwargs):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(intake, "ProcessPoolExecutor", no_processes)
    results = by_file(ingest_with(settings, 2, monkeypatch))
    assert sum(status == "new" for _, status in results.values()) == REPORTS + 1
    assert results[UNREADABLE][1] == "unreadable" and results[COPY][1] == "duplicate"
