"""The analysts' snapshot: after each successful night, the marts are published as an immutable copy.

Layout of the publish folder (``paths.publish`` in chibo.yaml, ``CHIBO_PUBLISH``)::

    versions/chibo-20260116T020512Z-<run>/   one immutable snapshot per night, files read-only
        chibo.duckdb                         the marts only, in schema main (fct_members, ...)
        parquet/<mart>/report_year=2024/data_0.parquet   (a mart without report_year: <mart>/<mart>.parquet)
        docs/index.html                      dbt docs, self-contained (plus manifest.json, catalog.json)
        snapshot.json                        run id, time, row count per mart
    current -> versions/chibo-...            the one link switched at each publish (os.replace)
    chibo.duckdb -> current/chibo.duckdb     what analysts open; parquet -> current/parquet, docs -> current/docs

A snapshot is written under a hidden temporary name, renamed into ``versions/`` once complete, and
made current by replacing the ``current`` symlink atomically. Nothing published is ever written
again, so an analyst's connection never meets a lock: DuckDB resolves the symlinks when it opens the
file and keeps its file descriptor, so a connection opened before the switch goes on reading its
snapshot (even once the version is deleted: Linux keeps an unlinked open file), and a connection
opened after sees the new one, even in the same process (DuckDB's instance cache is keyed by the
resolved path). Versions beyond ``publish.keep_versions`` are deleted, never the current one.

``chibo.duckdb`` is written in the storage format of DuckDB 1.0 (``SNAPSHOT_STORAGE_VERSION``, file header
version 64), not in DuckDB 2.0's own, which no 1.x client can open ("can only read 64–68"): analysts' DuckDB
CLI, Python ``duckdb``, DBeaver and Superset's duckdb-engine are 1.x. Every connection that writes the file
passes it (``snapshot_connect``); the warehouse itself keeps DuckDB 2.0's format.

The warehouse is only opened read-only, through ``ATTACH``, for the time of the copy, under chibo's lock
(``warehouse.lock``) so that no night writes it meanwhile; the dbt docs
need it too (their catalog), through dbt-duckdb. No Airflow here: the DAG's ``publish`` task calls
``publish_snapshot`` in the one-slot DuckDB pool, after ``dbt_build``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from chibo.config import Settings
from warehouse.lock import warehouse_lock

log = logging.getLogger(__name__)

MARTS_SCHEMA = "marts"
SNAPSHOT_FILE = "chibo.duckdb"
PARQUET_DIR = "parquet"
DOCS_DIR = "docs"
MANIFEST_FILE = "snapshot.json"
VERSIONS_DIR = "versions"
CURRENT_LINK = "current"
PARTITION_COLUMN = "report_year"
VERSION_PREFIX = "chibo-"
TEMPORARY_PREFIX = ".tmp-"
# The entry points analysts use, each a fixed symlink through ``current``.
ENTRY_LINKS = (SNAPSHOT_FILE, PARQUET_DIR, DOCS_DIR)
# The storage format of the snapshot: the oldest DuckDB whose format every 1.x client (1.0 to 1.5) and 2.0 open.
# A file written so has the storage version number SNAPSHOT_STORAGE_NUMBER in its header.
SNAPSHOT_STORAGE_VERSION = "v1.0.0"
SNAPSHOT_STORAGE_NUMBER = 64


@dataclass(frozen=True)
class PublishedMart:
    name: str
    rows: int
    partitioned_by: str | None


def publish_snapshot(settings: Settings, run_id: str, docs: bool = True, now: datetime | None = None) -> Path:
    """Publish the warehouse's marts as a new snapshot and make it current; returns the snapshot's folder
    (``<publish>/versions/chibo-<UTC time>-<run>``). Analysts open ``<publish>/chibo.duckdb``."""
    keep = settings.publish_keep_versions
    if keep < 1:
        raise ValueError(f"publish.keep_versions must be at least 1, not {keep}")
    versions = settings.publish / VERSIONS_DIR
    versions.mkdir(parents=True, exist_ok=True)
    _remove_temporary(versions)
    _remove_temporary(settings.publish)  # a link switch killed half-way leaves ``.tmp-current-<pid>``
    name = version_name(run_id, now)
    building = versions / f"{TEMPORARY_PREFIX}{name}"
    building.mkdir()
    try:
        with warehouse_lock(settings.warehouse, f"publish run_id {run_id}", settings.lock_wait_seconds):
            docs_key = write_docs(settings, building / DOCS_DIR) if docs else None
            marts = copy_marts(settings.warehouse, building / SNAPSHOT_FILE)
        export_parquet(building / SNAPSHOT_FILE, building / PARQUET_DIR, marts)
        if docs:
            describe_from_manifest(building / SNAPSHOT_FILE, building / DOCS_DIR / "manifest.json")
        manifest = {
            "run_id": run_id,
            "version": name,
            "published_at": (now or datetime.now(UTC)).isoformat(),
            "marts": [asdict(mart) for mart in marts],
            "docs_key": docs_key,
        }
        (building / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        _make_read_only(building)
        snapshot = versions / name
        building.rename(snapshot)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    _switch(settings.publish / CURRENT_LINK, Path(VERSIONS_DIR) / name)
    for entry in ENTRY_LINKS:
        _ensure_link(settings.publish / entry, Path(CURRENT_LINK) / entry)
    prune_versions(settings.publish, keep)
    log.info("published %s: %s", snapshot, ", ".join(f"{m.name} ({m.rows})" for m in marts))
    return snapshot


def write_docs(settings: Settings, out_dir: Path) -> str:
    """The snapshot's dbt docs: those of the current snapshot when nothing they depend on has changed (the dbt
    project, the warehouse's relations and columns: ``pipeline.dbt_state.docs_fingerprint``), else ``dbt docs
    generate``. Returns the fingerprint, recorded in ``snapshot.json``. Called under chibo's warehouse lock."""
    from pipeline.dbt_docs import DOCS_FILES, dbt_docs
    from pipeline.dbt_state import docs_fingerprint
    from warehouse.raw import connect

    published = list(DOCS_FILES.values())
    with connect(settings.warehouse, read_only=True, holder="publish: docs fingerprint") as connection:
        key = docs_fingerprint(connection)
    current = current_snapshot(settings.publish)
    if current is not None and _docs_key(current) == key and all((current / DOCS_DIR / f).is_file() for f in published):
        out_dir.mkdir(parents=True)
        for name in published:
            shutil.copyfile(current / DOCS_DIR / name, out_dir / name)
        log.info("dbt docs unchanged since %s (same project and relations): copied", current.name)
        return key
    dbt_docs(settings.warehouse, settings.work_dir, out_dir)
    return key


def _docs_key(snapshot: Path) -> str | None:
    try:
        manifest = json.loads((snapshot / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    key = manifest.get("docs_key") if isinstance(manifest, dict) else None
    return key if isinstance(key, str) else None


def version_name(run_id: str, now: datetime | None = None) -> str:
    """``chibo-20260116T020512123456Z-scheduled__2026-01-15T19_00_00_00_00``: sorts by publication time."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    run = re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("._") or "run"
    return f"{VERSION_PREFIX}{moment:%Y%m%dT%H%M%S%fZ}-{run[:80]}"


def copy_marts(warehouse: Path, target: Path) -> list[PublishedMart]:
    """Copy every table of the warehouse's ``marts`` schema into a new DuckDB file, schema ``main``.
    The warehouse is attached read-only and detached before returning."""
    if target.exists():
        raise FileExistsError(target)
    connection = snapshot_connect(target)
    try:
        connection.execute(f"ATTACH {_literal(warehouse)} AS warehouse (READ_ONLY)")
        try:
            tables = [
                table
                for (table,) in connection.execute(
                    "select table_name from duckdb_tables() where database_name = 'warehouse' and schema_name = ? "
                    "order by table_name",
                    [MARTS_SCHEMA],
                ).fetchall()
            ]
            if not tables:
                raise RuntimeError(f"no table in schema {MARTS_SCHEMA} of {warehouse}: was dbt build run?")
            for table in tables:
                connection.execute(
                    f"create table main.{_ident(table)} as select * from warehouse.{MARTS_SCHEMA}.{_ident(table)}"
                )
        finally:
            connection.execute("detach warehouse")
        marts = []
        for table in tables:
            [(rows,)] = connection.execute(f"select count(*) from main.{_ident(table)}").fetchall()
            partitioned = PARTITION_COLUMN in _columns(connection, table)
            marts.append(PublishedMart(table, int(rows), PARTITION_COLUMN if partitioned else None))
        connection.execute("checkpoint")
    finally:
        connection.close()
    return marts


def export_parquet(snapshot: Path, folder: Path, marts: list[PublishedMart]) -> None:
    """One folder per mart: Hive partitions ``report_year=YYYY/`` when the mart has that column and rows,
    else a single ``<mart>.parquet`` (an empty mart keeps its schema that way)."""
    with duckdb.connect(str(snapshot), read_only=True) as connection:
        for mart in marts:
            out = folder / mart.name
            out.mkdir(parents=True)
            if mart.partitioned_by and mart.rows:
                connection.execute(
                    f"copy (select * from main.{_ident(mart.name)}) to {_literal(out)} "
                    f"(format parquet, partition_by ({_ident(mart.partitioned_by)}), overwrite_or_ignore)"
                )
            else:
                connection.execute(
                    f"copy main.{_ident(mart.name)} to {_literal(out / f'{mart.name}.parquet')} (format parquet)"
                )


def describe_from_manifest(snapshot: Path, manifest_path: Path) -> None:
    """Copy the marts' dbt descriptions (with their Vietnamese terms) into the snapshot as table and column
    comments, so ``duckdb_tables()`` / ``duckdb_columns()`` and BI tools show them."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    with snapshot_connect(snapshot) as connection:
        tables = {name for (name,) in connection.execute("select table_name from duckdb_tables()").fetchall()}
        for node in manifest.get("nodes", {}).values():
            if node.get("resource_type") != "model" or node.get("schema") != MARTS_SCHEMA:
                continue
            table = node.get("alias") or node["name"]
            if table not in tables:
                continue
            if node.get("description"):
                connection.execute(f"comment on table main.{_ident(table)} is {_literal(node['description'])}")
            columns = _columns(connection, table)
            for column, spec in (node.get("columns") or {}).items():
                if column in columns and spec.get("description"):
                    connection.execute(
                        f"comment on column main.{_ident(table)}.{_ident(column)} is {_literal(spec['description'])}"
                    )
        connection.execute("checkpoint")


def snapshot_connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A writing connection to a snapshot file, in the storage format DuckDB 1.x clients read."""
    return duckdb.connect(str(path), config={"storage_compatibility_version": SNAPSHOT_STORAGE_VERSION})


def storage_number(path: Path) -> int:
    """The storage version number in a DuckDB file's header (bytes 12–19 after the magic ``DUCK``)."""
    with path.open("rb") as file:
        header = file.read(20)
    if header[8:12] != b"DUCK":
        raise ValueError(f"{path} is not a DuckDB database file")
    return int.from_bytes(header[12:20], "little")


def current_snapshot(publish: Path) -> Path | None:
    """The folder ``current`` points to, or None before the first publish."""
    link = publish / CURRENT_LINK
    return link.resolve() if link.is_symlink() else None


def prune_versions(publish: Path, keep: int) -> list[Path]:
    """Delete the oldest snapshots beyond ``keep``, never the current one; returns what was deleted."""
    current = current_snapshot(publish)
    versions = sorted(
        (p for p in (publish / VERSIONS_DIR).iterdir() if p.is_dir() and p.name.startswith(VERSION_PREFIX)),
        key=lambda p: p.name,
    )
    deleted = []
    for old in versions[: max(0, len(versions) - keep)]:
        if current is not None and old.resolve() == current:
            continue
        try:
            shutil.rmtree(old)
        except OSError as error:  # the night is published: an old version left behind is not a failure
            log.warning("could not delete old snapshot %s: %s", old, error)
            continue
        deleted.append(old)
    return deleted


def _switch(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` atomically: a new symlink under a temporary name, renamed over it."""
    temporary = link.with_name(f"{TEMPORARY_PREFIX}{link.name}-{os.getpid()}")
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(target)
    try:
        os.replace(temporary, link)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def _ensure_link(link: Path, target: Path) -> None:
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    if link.exists() and not link.is_symlink():
        raise FileExistsError(f"{link} exists and is not a symlink: move it away so the snapshot can be published")
    _switch(link, target)


def _remove_temporary(versions: Path) -> None:
    """Leftovers of a publish that crashed half-way (the DuckDB pool runs one publish at a time)."""
    for leftover in versions.glob(f"{TEMPORARY_PREFIX}*"):
        if leftover.is_symlink() or not leftover.is_dir():
            leftover.unlink(missing_ok=True)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def _make_read_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _columns(connection: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {name for (name,) in connection.execute(f"select name from pragma_table_info({_literal(table)})").fetchall()}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"
