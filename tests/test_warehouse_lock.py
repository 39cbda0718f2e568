"""chibo's own lock on the warehouse (``warehouse/lock.py``): another process holding it (a real second process)
makes a writer wait and go on when it is released, or stop with ``WarehouseBusy`` naming the holder when the wait
is over; the same for DuckDB's own lock held by a process that is not chibo. ``chibo history`` and ``chibo validate
--warehouse`` while a night works wait or stop with the sentence, never DuckDB's error."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from chibo.cli import main
from chibo.config import REPO_ROOT, Settings
from chibo.errors import TransientError, WarehouseBusy
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from warehouse.lock import lock_path, warehouse_lock
from warehouse.raw import connect

HOLDER = """
import sys
from pathlib import Path

import duckdb

from warehouse.lock import warehouse_lock

warehouse, what, kind = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
if kind == "chibo":
    with warehouse_lock(warehouse, what, 0), duckdb.connect(str(warehouse)):
        print("held", flush=True)
        sys.stdin.read()
else:  # an analyst's session: DuckDB's own lock, not chibo's
    with duckdb.connect(str(warehouse)):
        print("held", flush=True)
        sys.stdin.read()
"""


@contextmanager
def held_by_another_process(warehouse: Path, what: str = "ingest run_id night-7", kind: str = "chibo"):
    """A second process holding the warehouse until the block's ``release()`` (or its end)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse), what, kind],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    assert process.stdout.readline().strip() == "held"

    def release() -> None:
        if process.poll() is None:
            process.stdin.close()  # type: ignore[union-attr]
            process.wait()

    try:
        yield process, release
    finally:
        release()


class Waiting(logging.Handler):
    """Set when chibo logs that it is waiting for the warehouse."""

    def __init__(self) -> None:
        super().__init__()
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("waiting"):
            self.event.set()


@pytest.fixture
def waiting() -> Iterator[threading.Event]:
    handler = Waiting()
    loggers = [logging.getLogger("warehouse.lock"), logging.getLogger("warehouse.raw")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield handler.event
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def write_in_thread(warehouse: Path, outcome: dict[str, object]) -> threading.Thread:
    def write() -> None:
        try:
            with connect(warehouse, holder="test writer", wait_seconds=600) as connection:
                connection.execute("CREATE TABLE IF NOT EXISTS main.written (n INTEGER)")
                connection.execute("INSERT INTO main.written VALUES (1)")
            outcome["done"] = True
        except Exception as error:  # noqa: BLE001 - reported to the test
            outcome["error"] = error

    thread = threading.Thread(target=write)
    thread.start()
    return thread


@pytest.mark.parametrize("kind", ["chibo", "duckdb"])
def test_a_writer_waits_for_the_holder_and_goes_on_when_released(
    settings: Settings, waiting: threading.Event, kind: str
):
    outcome: dict[str, object] = {}
    with held_by_another_process(settings.warehouse, kind=kind) as (_, release):
        thread = write_in_thread(settings.warehouse, outcome)
        assert waiting.wait(timeout=120), "the writer never said it was waiting"
        assert thread.is_alive() and not outcome  # still waiting: the holder has not let go
        release()
        thread.join(timeout=120)
    assert outcome == {"done": True}
    with connect(settings.warehouse, read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM main.written").fetchone() == (1,)


def test_with_a_short_wait_the_writer_stops_naming_the_chibo_holder(settings: Settings):
    holder = held_by_another_process(settings.warehouse, "dbt build run_id scheduled__2026-05-01")
    with holder as (process, _), pytest.raises(WarehouseBusy) as raised, connect(settings.warehouse, wait_seconds=0.5):
        pass
    message = str(raised.value)
    assert isinstance(raised.value, TransientError)
    assert f"process {process.pid} (dbt build run_id scheduled__2026-05-01) since " in message
    assert str(settings.warehouse) in message and "waited 0.5 s" in message


def test_with_a_short_wait_the_writer_stops_naming_duckdbs_holder(settings: Settings):
    holder = held_by_another_process(settings.warehouse, kind="duckdb")
    with holder as (process, _), pytest.raises(WarehouseBusy) as raised, connect(settings.warehouse, wait_seconds=0.5):
        pass
    message = str(raised.value)
    assert f"process {process.pid} (" in message and "not chibo" in message
    assert "Could not set lock" not in message


def test_the_lock_is_reentrant_within_a_process_and_released_at_the_end(settings: Settings):
    with warehouse_lock(settings.warehouse, "outer", 0):
        with connect(settings.warehouse, holder="inner", wait_seconds=0) as connection:
            connection.execute("SELECT 1")
        assert "outer" in lock_path(settings.warehouse).read_text(encoding="utf-8")
    assert lock_path(settings.warehouse).read_text(encoding="utf-8") == ""
    with held_by_another_process(settings.warehouse):  # another process can take it now
        pass


def test_chibo_history_while_a_night_works_stops_with_the_sentence(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("CHIBO_LOCK_WAIT_SECONDS", "0.5")
    with held_by_another_process(settings.warehouse, "validate run_id night-3") as (process, _):
        code = main(["history", "Đảng bộ huyện Mường Khương", "2023"])
    error = capsys.readouterr().err
    assert code == 2
    assert f"is in use by process {process.pid} (validate run_id night-3)" in error
    assert "Traceback" not in error and "Could not set lock" not in error


def test_chibo_validate_with_the_warehouse_while_a_night_works_stops_with_the_sentence(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    """The warehouse is copied for the check: never while a night writes it (a torn copy)."""
    report = tmp_path / "lao-cai_muong-khuong_2023.xlsx"
    write_xlsx(report, muong_khuong_2023())
    monkeypatch.setenv("CHIBO_LOCK_WAIT_SECONDS", "0.5")
    with held_by_another_process(settings.warehouse, "ingest run_id night-4") as (process, _):
        code = main(["validate", str(report), "--warehouse", str(settings.warehouse)])
    error = capsys.readouterr().err
    assert code == 2
    assert f"is in use by process {process.pid} (ingest run_id night-4)" in error
