"""The analysts' snapshot opens in DuckDB 1.x clients, not only in the DuckDB 2.0 that wrote it.

A night on the sample inbox is published (with the dbt docs, whose descriptions become table comments), then
``chibo.duckdb`` is opened by a real DuckDB 1.x, installed from PyPI into an environment of its own (``uv venv``
and ``uv pip install``, built once per session): the newest 1.x, and 1.1.3, the oldest with wheels for every
Python chibo supports. Each reads a mart and the table comments through the ``chibo.duckdb`` link, read-only, as
the analyst guide says. The file header's storage version number is checked too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from chibo.config import REPO_ROOT, Settings, load_settings
from demo.samples import write_sample_inbox
from pipeline.publish import SNAPSHOT_FILE, SNAPSHOT_STORAGE_NUMBER, publish_snapshot, storage_number
from tests.deployments import deployment_variables
from tests.test_publish import LAO_CAI_2024, run_night

UV = Path(sys.executable).with_name("uv")
CLIENTS = {"newest 1.x": "duckdb>=1.4,<2", "1.1.3": "duckdb==1.1.3"}
COMMENTED_MART = "fct_province_year"
ANALYST_GUIDE = REPO_ROOT / "docs" / "analyst-guide.md"

# Runs in the client's own environment: argv[1] is the snapshot; prints what it read as JSON.
CLIENT_SCRIPT = """
import json, sys
import duckdb

connection = duckdb.connect(sys.argv[1], read_only=True)
[(members,)] = connection.execute(sys.argv[2]).fetchall()
comments = dict(connection.execute(
    "select table_name, comment from duckdb_tables() where comment is not null order by 1").fetchall())
[(column_comments,)] = connection.execute(
    "select count(*) from duckdb_columns() where comment is not null").fetchall()
print(json.dumps({"version": duckdb.__version__, "members": members, "comments": comments,
                  "column_comments": column_comments}))
"""


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<publish>/chibo.duckdb`` after one night on the sample inbox, published with the dbt docs."""
    base = tmp_path_factory.mktemp("snapshot clients")
    settings: Settings = load_settings(
        {
            **os.environ,
            **deployment_variables(base),
        }
    )
    settings.inbox.mkdir(parents=True)
    write_sample_inbox(settings.inbox)
    run_night(settings, "night-1")
    publish_snapshot(settings, "night-1")
    return settings.publish / SNAPSHOT_FILE


@pytest.fixture(scope="session")
def duckdb_clients(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Python of an environment per DuckDB 1.x client, each created once per session from PyPI."""
    root = tmp_path_factory.mktemp("duckdb 1.x clients")
    pythons: dict[str, Path] = {}
    for name, requirement in CLIENTS.items():
        env = root / name.replace(" ", "-").replace(".", "_")
        subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(env)], check=True)
        subprocess.run(
            [str(UV), "pip", "install", "--quiet", "--only-binary", ":all:", "--python", str(env / "bin" / "python"),
             requirement],
            check=True,
        )
        pythons[name] = env / "bin" / "python"
    return pythons


def read_with(python: Path, snapshot: Path) -> dict:
    completed = subprocess.run(
        [str(python), "-c", CLIENT_SCRIPT, str(snapshot), LAO_CAI_2024],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, f"DuckDB 1.x could not read the snapshot:\n{completed.stderr[-3000:]}"
    return json.loads(completed.stdout)


def test_the_snapshot_header_has_a_storage_version_duckdb_1_reads(snapshot: Path) -> None:
    assert storage_number(snapshot) == SNAPSHOT_STORAGE_NUMBER == 64


@pytest.mark.parametrize("client", list(CLIENTS))
def test_a_duckdb_1_client_reads_a_mart_and_the_table_comments(
    client: str, snapshot: Path, duckdb_clients: dict[str, Path]
) -> None:
    read = read_with(duckdb_clients[client], snapshot)
    assert read["version"].startswith("1."), read["version"]
    with duckdb.connect(str(snapshot), read_only=True) as connection:
        [(members,)] = connection.execute(LAO_CAI_2024).fetchall()
        comments = dict(
            connection.execute(
                "select table_name, comment from duckdb_tables() where comment is not null order by 1"
            ).fetchall()
        )
    assert read["members"] == members and members > 0
    assert COMMENTED_MART in read["comments"] and read["comments"] == comments
    assert read["column_comments"] > 0


def test_the_analyst_guide_names_the_oldest_client_and_how_each_tool_opens_it() -> None:
    guide = ANALYST_GUIDE.read_text(encoding="utf-8")
    assert "DuckDB 1.0" in guide and "storage_compatibility_version" in guide
    for tool in ("Harlequin", "DBeaver", "Superset", "duckdb-engine", "duckdb -readonly"):
        assert tool in guide, tool
