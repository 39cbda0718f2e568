"""`chibo init`, run as the operator runs it (the real command, a real Airflow metadata database on SQLite,
a real DuckDB warehouse): ready and idempotent, or refused with the reasons in words, creating nothing."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chibo.airflow_setup import smtp_connection_problem, write_private_json
from chibo.config import PATH_OVERRIDES

CHIBO = Path(sys.executable).with_name("chibo")
PASSWORD = "mat-khau-rat-dai-42"
SMTP_URI = "smtp://relay.example.org:25?disable_ssl=true&disable_tls=true"


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This process's environment without Airflow's or chibo's settings, then a deployment in ``tmp_path``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CHIBO_"))}
    environ |= {variable: str(tmp_path / "data" / key) for key, variable in PATH_OVERRIDES.items()}
    environ |= {
        "CHIBO_WAREHOUSE": str(tmp_path / "data" / "warehouse.duckdb"),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    (tmp_path / "data").mkdir(exist_ok=True)
    return environ | extra


def chibo_init(environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHIBO), "init"], env=environ, capture_output=True, text=True, timeout=600)


def metadata(airflow_home: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(airflow_home / "airflow.db") as connection:
        return connection.execute(sql).fetchall()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_init_refuses_without_smtp_then_is_ready_and_idempotent(tmp_path: Path):
    airflow_home = tmp_path / "airflow"
    without_smtp = environment(tmp_path, AIRFLOW_ADMIN_PASSWORD=PASSWORD)
    refused = chibo_init(without_smtp)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "The SMTP connection smtp_default (smtp.conn_id in chibo.yaml) is not defined" in refused.stderr
    assert "AIRFLOW_CONN_SMTP_DEFAULT" in refused.stderr and "CHIBO_SMTP_URI" in refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr

    ready_environment = without_smtp | {"CHIBO_SMTP_URI": SMTP_URI}
    first = chibo_init(ready_environment)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.rstrip().endswith("chibo init: ready.")
    assert "SMTP connection smtp_default: created in the metadata database from CHIBO_SMTP_URI." in first.stdout
    for key in PATH_OVERRIDES:
        assert Path(ready_environment[PATH_OVERRIDES[key]]).exists(), key
    warehouse = Path(ready_environment["CHIBO_WAREHOUSE"])
    before = digest(warehouse)

    again = chibo_init(ready_environment)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Folders and warehouse: all there." in again.stdout
    assert "SMTP connection smtp_default: found in Airflow." in again.stdout
    assert digest(warehouse) == before
    assert metadata(airflow_home, "select slots from slot_pool where pool = 'chibo_duckdb'") == [(1,)]
    assert metadata(airflow_home, "select conn_type, host, port from connection where conn_id = 'smtp_default'") == [
        ("smtp", "relay.example.org", 25)
    ]

    passwords = airflow_home / "simple_auth_manager_passwords.json.generated"
    assert stat.S_IMODE(passwords.stat().st_mode) == 0o600
    assert passwords.read_text(encoding="utf-8").strip() == f'{{"admin": "{PASSWORD}"}}'
    for done in (refused, first, again):
        assert PASSWORD not in done.stdout + done.stderr


def test_init_without_an_admin_password_refuses_before_touching_the_database(tmp_path: Path):
    refused = chibo_init(environment(tmp_path, CHIBO_SMTP_URI=SMTP_URI))
    assert refused.returncode == 2
    assert "AIRFLOW_ADMIN_PASSWORD is not set" in refused.stderr
    assert "would generate one and print it to its log" in refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr
    assert not (tmp_path / "airflow" / "airflow.db").exists()
    assert not list((tmp_path / "airflow").glob("simple_auth_manager_passwords*"))


def test_init_refuses_a_path_whose_folder_does_not_exist_and_creates_nothing(tmp_path: Path):
    missing = tmp_path / "no-such-disk" / "warehouse.duckdb"
    environ = environment(tmp_path, CHIBO_WAREHOUSE=str(missing), AIRFLOW_ADMIN_PASSWORD=PASSWORD)
    refused = chibo_init(environ | {"CHIBO_SMTP_URI": SMTP_URI})
    assert refused.returncode == 2
    assert f"the folder {missing.parent} does not exist" in refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr
    assert list((tmp_path / "data").iterdir()) == []  # not even the folders that could have been made
    assert not (tmp_path / "airflow").exists()


def test_init_refuses_an_invalid_configuration_and_creates_nothing(tmp_path: Path):
    config = tmp_path / "chibo.yaml"
    config.write_text("paths:\n  inbox: [var/inbox\n", encoding="utf-8")
    refused = chibo_init(environment(tmp_path, CHIBO_CONFIG=str(config), AIRFLOW_ADMIN_PASSWORD=PASSWORD))
    assert refused.returncode == 2
    assert str(config) in refused.stderr and "YAML" in refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr
    assert list((tmp_path / "data").iterdir()) == []
    assert not (tmp_path / "airflow").exists()


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("http://chibo:hunter2@mail.example.org", "must start with smtp://"),
        ("smtp://", "names no host"),
    ],
)
def test_a_wrong_smtp_uri_is_explained_without_repeating_it(uri: str, words: str):
    problem = smtp_connection_problem(uri)
    assert problem is not None and words in problem
    assert "hunter2" not in problem


def test_a_good_smtp_uri_is_accepted():
    assert smtp_connection_problem("smtp://chibo:p%40ss@mail.example.org:587?disable_ssl=true") is None


def test_private_file_is_written_whole_and_for_its_owner_only(tmp_path: Path):
    target = tmp_path / "secrets" / "passwords.json"
    write_private_json(target, {"admin": "a"})
    target.chmod(0o644)
    write_private_json(target, {"admin": "b"})
    assert target.read_text(encoding="utf-8") == '{"admin": "b"}\n'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["passwords.json"]  # no scratch file left
