"""chibo only alters its own warehouse. A DuckDB file of someone else's (with a ``raw.submissions`` of its own)
or a file that is not a DuckDB database at all, at the warehouse path, is refused with ``ForeignWarehouse`` by
every step that would open it, and stays byte-for-byte as it was."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from chibo.config import Settings
from chibo.deployment import prepare, problems
from chibo.errors import ForeignWarehouse, PermanentError
from pipeline import nightly
from warehouse.raw import MARKER_TABLE, RAW_SCHEMA, REGISTRY_TABLES, connect, ensure_schema, warehouse_kind


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def foreign_duckdb(path: Path) -> None:
    """An analyst's own database that happens to have a raw.submissions table."""
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA raw")
        connection.execute("CREATE TABLE raw.submissions (id INTEGER, note VARCHAR)")
        connection.execute("INSERT INTO raw.submissions VALUES (1, 'mine')")
        connection.execute("CREATE TABLE main.budget (year INTEGER, amount DOUBLE)")


def foreign_text(path: Path) -> None:
    path.write_text("năm,số đảng viên\n2024,12\n", encoding="utf-8")


STEPS: dict[str, Callable[[Settings], object]] = {
    "prepare_night": nightly.prepare_night,
    "ingest": lambda settings: nightly.ingest(settings, "night-1"),
    "chibo init": prepare,
}


@pytest.fixture
def foreign_settings(settings: Settings) -> Settings:
    settings.warehouse.unlink()  # the fixture made a chibo warehouse: put someone else's file in its place
    return settings


@pytest.mark.parametrize("make", [foreign_duckdb, foreign_text], ids=["duckdb", "text"])
@pytest.mark.parametrize("step", list(STEPS))
def test_a_foreign_file_is_refused_and_left_untouched(
    foreign_settings: Settings, make: Callable[[Path], None], step: str
):
    make(foreign_settings.warehouse)
    before = digest(foreign_settings.warehouse)
    with pytest.raises(ForeignWarehouse) as raised:
        STEPS[step](foreign_settings)
    message = str(raised.value)
    assert str(foreign_settings.warehouse) in message and "untouched" in message
    assert "Traceback" not in message and isinstance(raised.value, PermanentError)
    if make is foreign_duckdb:
        assert "raw.submissions" in message and "main.budget" in message
    assert digest(foreign_settings.warehouse) == before
    assert not foreign_settings.warehouse.with_name(foreign_settings.warehouse.name + ".wal").exists()


def test_problems_name_the_foreign_warehouse(foreign_settings: Settings):
    foreign_duckdb(foreign_settings.warehouse)
    [problem] = problems(foreign_settings)
    assert "did not create" in problem and "raw.submissions" in problem


def test_ensure_schema_refuses_before_adding_a_column(tmp_path: Path):
    path = tmp_path / "theirs.duckdb"
    foreign_duckdb(path)
    with connect(path) as connection:
        with pytest.raises(ForeignWarehouse):
            ensure_schema(connection)
        columns = connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' ORDER BY 1"
        ).fetchall()
    assert columns == [("id",), ("note",)]


def test_a_new_warehouse_is_marked_once_and_then_recognised(tmp_path: Path):
    path = tmp_path / "new.duckdb"
    with connect(path) as connection:
        assert warehouse_kind(connection) == "empty"
        ensure_schema(connection)
        ensure_schema(connection)
        assert warehouse_kind(connection) == "chibo"
        [(rows, version)] = connection.execute(
            f"SELECT count(*), any_value(chibo_version) FROM {RAW_SCHEMA}.{MARKER_TABLE}"
        ).fetchall()
    assert rows == 1 and version


def test_a_chibo_warehouse_from_before_the_mark_is_adopted(tmp_path: Path):
    """A warehouse made by an earlier chibo (its registry, no mark) is recognised and marked, not refused."""
    path = tmp_path / "old.duckdb"
    with connect(path) as connection:
        connection.execute(f"CREATE SCHEMA {RAW_SCHEMA}")
        for table, columns in REGISTRY_TABLES.items():
            if table != MARKER_TABLE:
                definition = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
                connection.execute(f"CREATE TABLE {RAW_SCHEMA}.{table} ({definition})")
        assert warehouse_kind(connection) == "legacy"
        ensure_schema(connection)
        assert warehouse_kind(connection) == "chibo"
