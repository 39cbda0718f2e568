"""The DuckDB warehouse: the ``raw`` schema derived from the contract, and connections.

DuckDB allows one writing process: every connection opens, works and closes (``connect`` is a context
manager) holding chibo's lock on the file (``warehouse/lock.py``), and the Airflow tasks that write run in a
one-slot pool.

chibo only ever alters its own warehouse: the one it created, marked by the table ``raw.chibo_warehouse``.
``ensure_schema`` refuses a database that has tables but no mark (``ForeignWarehouse``), and ``connect`` a
file that is not a DuckDB database at all, without writing a byte to either.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from chibo.errors import ForeignWarehouse, NotReady, WarehouseBusy
from contract.model import Contract, load_contract, raw_columns
from warehouse.lock import POLL_SECONDS, busy_message, warehouse_lock
from warehouse.reference import write_reference

if TYPE_CHECKING:
    from reading.reader import ParsedReport

RAW_SCHEMA = "raw"
MARKER_TABLE = "chibo_warehouse"  # one row: this database is chibo's warehouse (created_at, chibo_version)
# A warehouse chibo made before the mark existed is recognised by its registry of submissions (these columns,
# which it has had from the start) and adopted (marked).
LEGACY_SUBMISSION_COLUMNS = ("submission_id", "sha256", "archived_path", "report_kind")
log = logging.getLogger(__name__)

# Tables the pipeline itself writes, besides one table per contract sheet.
REGISTRY_TABLES: dict[str, dict[str, str]] = {
    "submissions": {
        "submission_id": "VARCHAR",
        "sha256": "VARCHAR",
        "file_name": "VARCHAR",
        "archived_path": "VARCHAR",
        "received_at": "TIMESTAMP",
        "run_id": "VARCHAR",
        "province": "VARCHAR",
        "committee_name": "VARCHAR",
        "committee_code": "VARCHAR",
        "committee_level": "VARCHAR",
        "committee_key": "VARCHAR",
        "unit_key": "VARCHAR",
        "unit_code": "VARCHAR",
        "unit_name": "VARCHAR",
        "province_code": "VARCHAR",
        "province_as_written": "VARCHAR",
        "resolution_status": "VARCHAR",
        "resolution_message": "VARCHAR",
        "report_year": "INTEGER",
        "version": "INTEGER",
        "contact_email": "VARCHAR",
        "preparer": "VARCHAR",
        "prepared_on": "VARCHAR",
        "report_kind": "VARCHAR",
        "read_error": "VARCHAR",
        "read_notes": "VARCHAR",
    },
    "submission_sheets": {
        "submission_id": "VARCHAR",
        "sheet": "VARCHAR",
        "source_name": "VARCHAR",
        "header_row": "INTEGER",
        "fields_found": "VARCHAR",
        "data_rows": "INTEGER",
    },
    "submission_outcomes": {
        "submission_id": "VARCHAR",
        "run_id": "VARCHAR",
        "outcome": "VARCHAR",
        "decided_at": "TIMESTAMP",
        "errors": "INTEGER",
    },
    "rule_results": {
        "submission_id": "VARCHAR",
        "run_id": "VARCHAR",
        "rule_id": "VARCHAR",
        "severity": "VARCHAR",
        "status": "VARCHAR",
        "failed_rows": "INTEGER",
    },
    "alerts_sent": {
        "submission_id": "VARCHAR",
        "province": "VARCHAR",
        "kind": "VARCHAR",
        "run_id": "VARCHAR",
        "sent_at": "TIMESTAMP",
    },
    "validation_failures": {
        "submission_id": "VARCHAR",
        "run_id": "VARCHAR",
        "rule_id": "VARCHAR",
        "sheet": "VARCHAR",
        "sheet_row": "INTEGER",
        "field": "VARCHAR",
        "value": "VARCHAR",
        "message": "VARCHAR",
        "severity": "VARCHAR",
        "fix": "VARCHAR",
        "docs_url": "VARCHAR",
        "detail": "VARCHAR",  # technical detail for the operators, only when the check could not run
    },
    # the portal's current staff decisions, replaced whole each night (warehouse/approvals.py: record_decisions)
    "approval_decisions": {
        "submission_id": "VARCHAR",
        "state": "VARCHAR",  # approved | returned: the latest decision on the submission
        "comment": "VARCHAR",
        "decided_by": "VARCHAR",
        "decided_at": "TIMESTAMP",  # UTC
    },
    "province_locks": {
        "province_code": "VARCHAR",  # in the report year's era, as raw.submissions.province_code
        "report_year": "INTEGER",
        "locked_at": "TIMESTAMP",  # UTC
        "locked_by": "VARCHAR",
    },
    MARKER_TABLE: {
        "created_at": "TIMESTAMP",
        "chibo_version": "VARCHAR",
    },
}


def sheet_table_columns(contract: Contract) -> dict[str, dict[str, str]]:
    return {
        sheet.name: {"submission_id": "VARCHAR", "sheet_row": "INTEGER"}
        | {column: "VARCHAR" for column in raw_columns(sheet)}
        for sheet in contract.sheets
    }


def all_tables(contract: Contract) -> dict[str, dict[str, str]]:
    return REGISTRY_TABLES | sheet_table_columns(contract)


def chibo_version() -> str:
    try:
        return metadata.version("chibo")
    except metadata.PackageNotFoundError:
        return "unknown"


DUCKDB_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def _duckdb_holder(error: duckdb.Error) -> str | None:
    """Who DuckDB says holds its own lock on the file ("process 4242 (/usr/bin/python3)"), or None when the
    error is not that one."""
    text = str(error)
    if "Could not set lock" not in text:
        return None
    found = DUCKDB_LOCK_HOLDER.search(text)
    return f"process {found['pid']} ({found['program']}), not chibo" if found else "a process that is not chibo"


def _open_duckdb(path: Path, read_only: bool, deadline: float, wait: float | None) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, waiting until ``deadline`` while DuckDB's own lock is held by a process that is not
    chibo (an analyst with the file open); a file that is not a DuckDB database is ``ForeignWarehouse``."""
    told = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            holder = _duckdb_holder(error)
            if holder is None:
                if "not a valid DuckDB database file" in str(error):
                    raise ForeignWarehouse(
                        f"The warehouse path {path} holds a file that is not a DuckDB database: chibo leaves it "
                        "untouched. Point `paths.warehouse` (or CHIBO_WAREHOUSE) at chibo's warehouse, or move "
                        "that file away and run `chibo init`."
                    ) from None
                if "database does not exist" in str(error):
                    raise NotReady(f"There is no warehouse at {path}: run `chibo init`.") from None
                raise
            if time.monotonic() >= deadline:
                waited = wait if wait is not None else max(0.0, deadline - time.monotonic())
                raise WarehouseBusy(busy_message(path, holder, waited)) from None
            if not told:
                log.info("waiting for the warehouse %s: DuckDB says %s holds it", path, holder)
                told = True
            time.sleep(POLL_SECONDS)


def _default_holder(read_only: bool) -> str:
    program = " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:3]]) if sys.argv and sys.argv[0] else "python"
    return f"{'reading' if read_only else 'writing'}, {program}"


@contextmanager
def connect(
    path: Path, read_only: bool = False, *, holder: str | None = None, wait_seconds: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse, holding chibo's lock on it for the block (``holder`` says who, e.g.
    "ingest run_id …"). Waits for another process's hold up to ``wait_seconds`` (default: the configured
    ``lock_wait_seconds``), then raises ``WarehouseBusy``. A new file is created only when the folder exists."""
    if not path.parent.is_dir():
        raise NotReady(f"The folder {path.parent} of the warehouse {path.name} does not exist: run `chibo init`.")
    with warehouse_lock(path, holder or _default_holder(read_only), wait_seconds) as deadline:
        connection = _open_duckdb(path, read_only, deadline, wait_seconds)
        try:
            yield connection
        finally:
            connection.close()


def database_path(connection: duckdb.DuckDBPyConnection) -> str:
    [(path,)] = connection.execute(
        "SELECT coalesce(path, database_name) FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return str(path)


def user_tables(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table and view of the connection's database, as schema.name."""
    rows = connection.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() ORDER BY 1"
    ).fetchall()
    return [name for (name,) in rows]


def warehouse_kind(connection: duckdb.DuckDBPyConnection) -> str:
    """``chibo`` (marked), ``legacy`` (chibo's registry from before the mark), ``empty`` or ``foreign``."""
    tables = set(user_tables(connection))
    if f"{RAW_SCHEMA}.{MARKER_TABLE}" in tables:
        return "chibo"
    if not tables:
        return "empty"
    if f"{RAW_SCHEMA}.submissions" in tables:
        columns = {
            name
            for (name,) in connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
                "AND table_schema = ? AND table_name = 'submissions'",
                [RAW_SCHEMA],
            ).fetchall()
        }
        if set(LEGACY_SUBMISSION_COLUMNS) <= columns:
            return "legacy"
    return "foreign"


def foreign_message(path: str, tables: list[str]) -> str:
    shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
    return (
        f"The warehouse path {path} holds a DuckDB database that chibo did not create (it has {shown}, and no "
        f"{RAW_SCHEMA}.{MARKER_TABLE}): chibo leaves it untouched. Point `paths.warehouse` (or CHIBO_WAREHOUSE) "
        "at chibo's warehouse, or at a new path and run `chibo init`."
    )


def require_chibo_warehouse(connection: duckdb.DuckDBPyConnection) -> str:
    """The warehouse's kind (see ``warehouse_kind``); ``ForeignWarehouse`` for a database that is not chibo's."""
    kind = warehouse_kind(connection)
    if kind == "foreign":
        raise ForeignWarehouse(foreign_message(database_path(connection), user_tables(connection)))
    return kind


def ensure_schema(connection: duckdb.DuckDBPyConnection, contract: Contract | None = None) -> None:
    """Create the raw tables, add columns the contract gained since, refresh the reference tables; mark a new
    warehouse as chibo's. A database with tables of its own and no mark is refused before anything is written."""
    found = require_chibo_warehouse(connection)
    contract = contract or load_contract()
    if found != "chibo":
        mark_as_chibo(connection)
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for table, columns in all_tables(contract).items():
        create_or_extend(connection, table, columns)
    write_reference(connection, RAW_SCHEMA, contract)


def create_or_extend(connection: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
    """``raw.<table>`` with at least ``columns``: created, or given the columns it lacks."""
    definition = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
    connection.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{table} ({definition})")
    for name, kind in columns.items():
        connection.execute(f'ALTER TABLE {RAW_SCHEMA}.{table} ADD COLUMN IF NOT EXISTS "{name}" {kind}')


def mark_as_chibo(connection: duckdb.DuckDBPyConnection) -> None:
    """Mark the database as chibo's warehouse, first and in one transaction: a process killed while creating the
    warehouse leaves either nothing or a marked database, never tables that the next run would refuse as foreign."""
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
        create_or_extend(connection, MARKER_TABLE, REGISTRY_TABLES[MARKER_TABLE])
        marked = {"created_at": datetime.now(UTC).replace(tzinfo=None), "chibo_version": chibo_version()}
        insert_rows(connection, MARKER_TABLE, [marked])
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def insert_rows(connection: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    frame = pd.DataFrame.from_records(rows)
    connection.register("incoming_rows", frame)
    try:
        connection.execute(f"INSERT INTO {RAW_SCHEMA}.{table} BY NAME SELECT * FROM incoming_rows")
    finally:
        connection.unregister("incoming_rows")


def sheet_rows(report: ParsedReport, submission_id: str, contract: Contract) -> dict[str, list[dict[str, object]]]:
    rows_by_table: dict[str, list[dict[str, object]]] = {}
    for sheet_name, parsed in report.sheets.items():
        columns = raw_columns(contract.sheet(sheet_name))
        rows_by_table[sheet_name] = [
            {"submission_id": submission_id, "sheet_row": row.sheet_row} | {c: row.values.get(c) for c in columns}
            for row in parsed.rows
        ]
    return rows_by_table
