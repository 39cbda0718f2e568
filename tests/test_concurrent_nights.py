"""Two nights at once on the same warehouse and inbox (two real processes running the night's steps ingest →
validate → build_marts) both end without DuckDB's lock error, each waiting for chibo's lock on the warehouse,
and leave the same marts as one undisturbed night (rows compared, minus the columns holding run ids or times)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from chibo.config import REPO_ROOT, load_settings
from chibo.deployment import prepare
from demo.samples import write_sample_inbox

NIGHT = """
import sys

from chibo.config import load_settings
from pipeline import nightly

settings = load_settings()
run_id = sys.argv[1]
nightly.prepare_night(settings)
nightly.ingest(settings, run_id)
nightly.validate(settings, run_id)
nightly.build_marts(settings, run_id)
print("night done", run_id, flush=True)
"""
VOLATILE = re.compile(r"run_id|_at$|time|loaded|built|published", re.IGNORECASE)


def environment(folder: Path, inbox: Path) -> dict[str, str]:
    paths = {
        "CHIBO_INBOX": inbox,
        "CHIBO_ARCHIVE": folder / "archive",
        "CHIBO_QUARANTINE": folder / "quarantine",
        "CHIBO_DATA_DOCS": folder / "data_docs",
        "CHIBO_WAREHOUSE": folder / "warehouse.duckdb",
        "CHIBO_WORK_DIR": folder / "work",
        "CHIBO_PUBLISH": folder / "publish",
    }
    return os.environ | {name: str(path) for name, path in paths.items()} | {
        "CHIBO_SETTLE_PROBE_SECONDS": "0",
        "CHIBO_LOCK_WAIT_SECONDS": "1200",
    }


def start_night(environ: dict[str, str], run_id: str, work: Path) -> subprocess.Popen[str]:
    environ = environ | {"CHIBO_WORK_DIR": str(work)}  # dbt's target and logs of one night, not shared
    return subprocess.Popen(
        [sys.executable, "-c", NIGHT, run_id],
        cwd=REPO_ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def marts(warehouse: Path) -> dict[str, list[tuple[str, ...]]]:
    """Every marts table's rows, sorted, without the columns that hold run ids or times."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
            ).fetchall()
        ]
        found = {}
        for table in tables:
            columns = [
                (name, kind)
                for name, kind in connection.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() "
                    "WHERE schema_name = 'marts' AND table_name = ? ORDER BY column_index",
                    [table],
                ).fetchall()
                if not VOLATILE.search(name) and "TIMESTAMP" not in kind
            ]
            listed = ", ".join(f'CAST("{name}" AS VARCHAR)' for name, _ in columns)
            found[table] = sorted(connection.execute(f"SELECT {listed} FROM marts.{table}").fetchall())
    return found


def prepared(folder: Path, inbox: Path) -> dict[str, str]:
    folder.mkdir()
    environ = environment(folder, inbox)
    prepare(load_settings(environ))
    return environ


def test_two_nights_at_once_end_well_and_build_the_marts_of_one(tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_sample_inbox(inbox)
    shared = prepared(tmp_path / "shared", inbox)
    alone = prepared(tmp_path / "alone", inbox)

    nights = [
        start_night(shared, "night-a", tmp_path / "work-a"),
        start_night(shared, "night-b", tmp_path / "work-b"),
        start_night(alone, "night-alone", tmp_path / "work-alone"),
    ]
    finished = [night.communicate(timeout=1800) for night in nights]

    for night, (out, err) in zip(nights, finished, strict=True):
        assert night.returncode == 0, err[-3000:]
        assert "night done" in out
        assert "Could not set lock" not in err
    shared_marts = marts(Path(shared["CHIBO_WAREHOUSE"]))
    alone_marts = marts(Path(alone["CHIBO_WAREHOUSE"]))
    assert shared_marts["fct_province_year"], "the sample night built no figures"
    assert shared_marts == alone_marts
    with duckdb.connect(shared["CHIBO_WAREHOUSE"], read_only=True) as connection:
        [(registered, distinct)] = connection.execute(
            "SELECT count(*), count(DISTINCT sha256) FROM raw.submissions"
        ).fetchall()
    assert registered == distinct == len(list(inbox.iterdir()))  # each file taken in once, by one of the nights
