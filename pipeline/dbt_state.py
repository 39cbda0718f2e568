"""What dbt's outputs depend on, as fingerprints: a night skips what would come out the same.

dbt's start-up and parse cost seconds in every process, whatever the data. Two of its outputs depend on the
project and on the warehouse's shape, never on the rows:

- the views validation reads (``pipeline.nightly.build_views``): their SQL is compiled from the project and from the
  contract's fields as the warehouse holds them (``raw.ref_contract_fields``, read by macros while compiling);
- the published dbt docs (``pipeline.publish``): the manifest comes from the project, the catalog from the columns
  of the warehouse's relations (dbt-duckdb records no table statistics).

So each is rebuilt when its fingerprint changes and reused otherwise. A third fingerprint guards the incremental
marts, whose rows were computed by the project's rules with the reference tables (grades, grading rules, eras, the
crosswalks): when it changes, the night rebuilds them whole (``pipeline.nightly.build_marts``).

A fingerprint reads the files and the warehouse's own definitions (the SQL DuckDB holds for each view, every
relation's columns), so a warehouse restored from a backup or views dropped by hand are noticed: the fingerprint
then differs. The views' and the marts' fingerprints are recorded in the warehouse itself (``chibo_state.builds``),
so they travel with a copy of the file (``chibo validate``'s scratch warehouse); the docs' is recorded in the
snapshot they were published with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import duckdb

from pipeline.dbt_runner import DBT_PROJECT_DIR

PROJECT_FOLDERS = ("models", "macros", "tests")
PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
VIEW_SCHEMAS = ("staging", "intermediate")
#: The reference tables dbt's macros read while compiling (``run_query`` in dbt_project/macros/contract.sql): the
#: views' SQL depends on their rows. Every other table a view reads is read when the view is queried.
COMPILE_TIME_REFERENCES = ("ref_contract_fields",)
#: Written each night from the calendar (which committees are expected to report by today); read only by the marts
#: that are rebuilt whole every night (fct_reporting_rate, fct_reporting_status), never by an incremental one.
NIGHTLY_REFERENCES = ("ref_expected_committees",)


def _digest(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def project_files(project: Path = DBT_PROJECT_DIR) -> list[Path]:
    files = [project / name for name in PROJECT_FILES if (project / name).is_file()]
    for folder in PROJECT_FOLDERS:
        files += sorted(path for path in (project / folder).rglob("*") if path.is_file())
    return files


def project_fingerprint(project: Path = DBT_PROJECT_DIR) -> str:
    """The dbt project's sources: every model, macro, test and setting, by path and content."""
    return _digest(
        part
        for path in project_files(project)
        for part in (path.relative_to(project).as_posix().encode(), path.read_bytes())
    )


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[bytes]:
    return [repr(row).encode() for row in connection.execute(sql).fetchall()]


def _references(connection: duckdb.DuckDBPyConnection, only: Iterable[str] | None = None) -> list[bytes]:
    """Reference tables exported from the contract and the reform (``raw.ref_*``) by name and rows: ``only`` these,
    or every one but those written each night from the calendar (:data:`NIGHTLY_REFERENCES`)."""
    names = [
        name
        for (name,) in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' AND starts_with(table_name, 'ref_') "
            "ORDER BY table_name"
        ).fetchall()
        if (name in set(only) if only is not None else name not in NIGHTLY_REFERENCES)
    ]
    parts: list[bytes] = []
    for name in names:
        parts += [name.encode(), *_rows(connection, f"SELECT * FROM raw.{name} ORDER BY ALL")]
    return parts


def views_fingerprint(connection: duckdb.DuckDBPyConnection, project: Path = DBT_PROJECT_DIR) -> str:
    """What the views validation reads depend on: the project, the reference tables the macros read, and the SQL
    of the views the warehouse holds now (so that views dropped or restored from elsewhere are rebuilt)."""
    schemas = ", ".join(f"'{schema}'" for schema in VIEW_SCHEMAS)
    views = _rows(
        connection,
        f"SELECT schema_name, view_name, sql FROM duckdb_views() WHERE schema_name IN ({schemas}) ORDER BY ALL",
    )
    return _digest([project_fingerprint(project).encode(), *_references(connection, COMPILE_TIME_REFERENCES), *views])


def marts_fingerprint(connection: duckdb.DuckDBPyConnection, project: Path = DBT_PROJECT_DIR) -> str:
    """What the rows of the incremental marts were computed with: the project and the reference tables. When it
    changes, rows built before were computed by other rules: the marts are rebuilt whole (``--full-refresh``)."""
    return _digest([project_fingerprint(project).encode(), *_references(connection)])


def docs_fingerprint(connection: duckdb.DuckDBPyConnection, project: Path = DBT_PROJECT_DIR) -> str:
    """What dbt's docs depend on: the project and the columns of every relation in the warehouse."""
    parts = [project_fingerprint(project).encode()]
    parts += _rows(
        connection,
        "SELECT table_schema, table_name, table_type FROM information_schema.tables ORDER BY ALL",
    )
    parts += _rows(
        connection,
        "SELECT table_schema, table_name, column_name, ordinal_position, data_type FROM information_schema.columns "
        "ORDER BY ALL",
    )
    return _digest(parts)


STATE_SCHEMA = "chibo_state"
VIEWS = "views"  # what build_views records
MARTS = "marts"  # what build_marts records
STATE_TABLE = f"{STATE_SCHEMA}.builds"


def recorded(connection: duckdb.DuckDBPyConnection, what: str) -> str | None:
    """The fingerprint recorded in the warehouse when ``what`` was last built (it travels with a copy of the file)."""
    exists = connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = 'builds'", [STATE_SCHEMA]
    ).fetchall()
    if not exists[0][0]:
        return None
    rows = connection.execute(f"SELECT fingerprint FROM {STATE_TABLE} WHERE what = ?", [what]).fetchall()
    return str(rows[0][0]) if rows else None


def record(connection: duckdb.DuckDBPyConnection, what: str, fingerprint: str) -> None:
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}")
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} "
        "(what VARCHAR PRIMARY KEY, fingerprint VARCHAR, recorded_at TIMESTAMP)"
    )
    connection.execute(f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES (?, ?, now()::TIMESTAMP)", [what, fingerprint])
