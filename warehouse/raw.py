"""The DuckDB warehouse: the ``raw`` schema derived from the contract, and connections.

DuckDB allows one writing process: every writer opens, works and closes (``connect`` is a context
manager), and the Airflow tasks that write run in a one-slot pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from contract.model import Contract, load_contract, raw_columns
from warehouse.reference import write_reference

if TYPE_CHECKING:
    from reading.reader import ParsedReport

RAW_SCHEMA = "raw"

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
}


def sheet_table_columns(contract: Contract) -> dict[str, dict[str, str]]:
    return {
        sheet.name: {"submission_id": "VARCHAR", "sheet_row": "INTEGER"}
        | {column: "VARCHAR" for column in raw_columns(sheet)}
        for sheet in contract.sheets
    }


def all_tables(contract: Contract) -> dict[str, dict[str, str]]:
    return REGISTRY_TABLES | sheet_table_columns(contract)


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(path), read_only=read_only)
    try:
        yield connection
    finally:
        connection.close()


def ensure_schema(connection: duckdb.DuckDBPyConnection, contract: Contract | None = None) -> None:
    """Create the raw tables, add columns the contract gained since, refresh the reference tables."""
    contract = contract or load_contract()
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for table, columns in all_tables(contract).items():
        definition = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
        connection.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{table} ({definition})")
        for name, kind in columns.items():
            connection.execute(f'ALTER TABLE {RAW_SCHEMA}.{table} ADD COLUMN IF NOT EXISTS "{name}" {kind}')
    write_reference(connection, RAW_SCHEMA, contract)


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
