"""Airflow's side of ``chibo init``: the metadata database, the pool, the SMTP connection and the admin password.

``initialise`` is what ``chibo init`` runs in a deployment (compose's ``airflow-init``, or by hand before the
Airflow services start) and what ``chibo run`` runs before its local night (``local_airflow.run_night``). It is
idempotent: run it again after every upgrade or change of ``.env``. Airflow is imported inside the functions only:
it reads its configuration when first imported, so the caller sets the environment first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from chibo.config import Settings
from chibo.errors import NotReady

DUCKDB_POOL = "chibo_duckdb"
POOL_DESCRIPTION = "DuckDB allows one writing process"
SMTP_URI_VARIABLE = "CHIBO_SMTP_URI"
ADMIN_PASSWORD_VARIABLE = "AIRFLOW_ADMIN_PASSWORD"
SIMPLE_AUTH_MANAGER = "SimpleAuthManager"


def connection_variable(conn_id: str) -> str:
    """The environment variable that defines an Airflow connection: ``AIRFLOW_CONN_SMTP_DEFAULT``."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def airflow_command(*arguments: str) -> list[str]:
    """The ``airflow`` command of this Python environment."""
    return [str(Path(sys.executable).with_name("airflow")), *arguments]


def last_line(output: str) -> str:
    """The last non-empty line of a command's output: the error, not the traceback above it."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def migrate_metadata(environ: Mapping[str, str]) -> str:
    """``airflow db migrate``: creates or upgrades the metadata database (SQLite locally, PostgreSQL deployed)."""
    done = subprocess.run(airflow_command("db", "migrate"), env=dict(environ), capture_output=True, text=True)
    if done.returncode != 0:
        raise NotReady(
            "Airflow could not create or upgrade its metadata database (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN): "
            f"{last_line(done.stderr or done.stdout)}. Check that the database server is running and reachable "
            "with these credentials, then run chibo init again."
        )
    return "Airflow metadata database: migrated (airflow db migrate)."


def ensure_pool() -> str:
    """The pool every task that touches the warehouse runs in: one slot, since DuckDB allows one writing process."""
    from airflow.models.pool import Pool

    Pool.create_or_update_pool(DUCKDB_POOL, slots=1, description=POOL_DESCRIPTION, include_deferred=False)
    return f"Airflow pool {DUCKDB_POOL}: 1 slot."


def ensure_executor() -> str:
    """The configured executor (``AIRFLOW__CORE__EXECUTOR``) can be loaded: a missing or mismatched package is said
    here, once, rather than by a scheduler or worker restarting in a loop."""
    from airflow.configuration import conf
    from airflow.executors.executor_loader import ExecutorLoader

    try:
        executor, _ = ExecutorLoader.import_default_executor_cls()
    except Exception as error:  # noqa: BLE001 - an ImportError, a configuration error: told in words
        raise NotReady(
            f"Airflow's executor {conf.get('core', 'executor')} (AIRFLOW__CORE__EXECUTOR) cannot be loaded: "
            f"{type(error).__name__}: {error}. The installed packages do not work together: install them from "
            "requirements.lock (make run, the Dockerfile), or use another executor."
        ) from None
    return f"Airflow executor: {executor.__name__}."


def smtp_connection_problem(uri: str) -> str | None:
    """Why ``CHIBO_SMTP_URI`` cannot define the SMTP connection, or None. The URI is never repeated: it may hold a
    password."""
    from airflow.models.connection import Connection

    try:
        parsed = Connection(uri=uri)
    except Exception as error:  # noqa: BLE001 - Airflow's parser raises several kinds; the reason is told in words
        return f"{SMTP_URI_VARIABLE} is not a connection URI ({type(error).__name__})."
    if parsed.conn_type != "smtp":
        return f"{SMTP_URI_VARIABLE} must start with smtp:// (for example smtp://user:password@mail.example.org:587)."
    if not parsed.host:
        return f"{SMTP_URI_VARIABLE} names no host (for example smtp://mail.example.org:25)."
    return None


def connection_fields(connection: Any) -> tuple[object, ...]:
    """What makes two Airflow connections the same SMTP server and account."""
    fields = ("conn_type", "host", "port", "login", "password", "extra_dejson")
    return tuple(getattr(connection, name) for name in fields)


def ensure_smtp_connection(conn_id: str, environ: Mapping[str, str]) -> str:
    """The alerts' SMTP connection resolves: from ``AIRFLOW_CONN_<ID>``, from Airflow (metadata database or a secrets
    backend), or created in the metadata database from ``CHIBO_SMTP_URI``; else the operator is told how to add it."""
    variable = connection_variable(conn_id)
    if environ.get(variable):
        return f"SMTP connection {conn_id}: defined by the environment variable {variable}."
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    uri = environ.get(SMTP_URI_VARIABLE)
    try:
        found = Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        pass
    else:
        wanted = None if not uri or smtp_connection_problem(uri) else Connection(uri=uri)
        if wanted is not None and connection_fields(found) != connection_fields(wanted):
            return (
                f"SMTP connection {conn_id}: the one stored in Airflow differs from {SMTP_URI_VARIABLE} and is kept: "
                f"{SMTP_URI_VARIABLE} only creates a missing connection. To use it instead, run 'airflow connections "
                f"delete {conn_id}' and chibo init again, or edit the connection in the Airflow UI."
            )
        return f"SMTP connection {conn_id}: found in Airflow."
    if not uri:
        raise NotReady(
            f"The SMTP connection {conn_id} (smtp.conn_id in chibo.yaml) is not defined, so no alert could be sent. "
            f"Define it with the environment variable {variable} (JSON, see docs/operations.md), or with "
            f"'airflow connections add {conn_id} --conn-uri smtp://…', or set {SMTP_URI_VARIABLE}=smtp://user:password@"
            "host:port for chibo init to create it."
        )
    if problem := smtp_connection_problem(uri):
        raise NotReady(f"The SMTP connection {conn_id} could not be created: {problem}")
    with create_session() as session:
        session.add(Connection(conn_id=conn_id, uri=uri))
    return f"SMTP connection {conn_id}: created in the metadata database from {SMTP_URI_VARIABLE}."


def write_private_json(path: Path, document: Mapping[str, str]) -> None:
    """Write ``document`` to ``path`` readable by its owner only (0600), atomically: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(json.dumps(dict(document)) + "\n")
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def read_passwords(path: Path) -> dict[str, str]:
    """The simple auth manager's passwords file, or nothing when it is missing or not JSON."""
    try:
        document = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return {str(user): str(password) for user, password in document.items()} if isinstance(document, dict) else {}


def ensure_admin_passwords(environ: Mapping[str, str], *, required: bool) -> str | None:
    """With Airflow 3's SimpleAuthManager, write its passwords file (``[core] simple_auth_manager_passwords_file``)
    from ``AIRFLOW_ADMIN_PASSWORD``, mode 0600, for every configured user: the API server then never generates a
    password and prints it to its log. Without the variable an existing complete file is kept; when neither exists
    and the API server will run (``required``), the deployment is not ready."""
    from airflow.configuration import conf

    auth_manager = conf.get("core", "auth_manager")
    if not auth_manager.endswith(SIMPLE_AUTH_MANAGER):
        return f"Airflow auth manager {auth_manager}: it keeps its own users, no passwords file written."
    if conf.getboolean("core", "simple_auth_manager_all_admins"):
        return "Airflow SimpleAuthManager with simple_auth_manager_all_admins: no login, no passwords file."
    with warnings.catch_warnings():  # its module imports FastAPI's test client, which warns about httpx
        warnings.simplefilter("ignore")
        from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    path = Path(SimpleAuthManager.get_generated_password_file())
    users = sorted(user.username for user in SimpleAuthManager.get_users())
    password = environ.get(ADMIN_PASSWORD_VARIABLE)
    if password:
        write_private_json(path, dict.fromkeys(users, password))
        return f"Airflow login: the password of {', '.join(users)} is {ADMIN_PASSWORD_VARIABLE}, in {path} (mode 600)."
    if path.exists() and set(users) <= set(read_passwords(path)):
        path.chmod(0o600)
        return f"Airflow login: the passwords in {path} are kept ({ADMIN_PASSWORD_VARIABLE} is not set)."
    if required:
        raise NotReady(
            f"{ADMIN_PASSWORD_VARIABLE} is not set and {path} has no password for {', '.join(users)}: the Airflow "
            f"API server would generate one and print it to its log. Set {ADMIN_PASSWORD_VARIABLE} (in .env with "
            "docker compose) and run chibo init again."
        )
    return None


def initialise(
    settings: Settings, environ: Mapping[str, str], *, api_server: bool, say: Callable[[str], None] = lambda line: None
) -> list[str]:
    """Everything a night needs, idempotent; returns what was checked or done, one sentence each, each also given to
    ``say`` as it is done (so a refusal comes after what was already done).

    The warehouse's folders first (``deployment.prepare``: refuses, creating nothing, when a parent folder is missing
    or the warehouse is not chibo's), then Airflow: the admin password when an API server will run (``api_server``;
    not for ``chibo run``), the metadata database, the executor, the pool and the SMTP connection. Raises
    ``NotReady`` (or ``ForeignWarehouse``) with the reasons when the deployment cannot be made ready."""
    from chibo.deployment import prepare

    done: list[str] = []

    def step(line: str | None) -> None:
        if line:
            done.append(line)
            say(line)

    created = prepare(settings)
    for line in [f"Created {what}." for what in created] or ["Folders and warehouse: all there."]:
        step(line)
    step(ensure_admin_passwords(environ, required=api_server))  # before the database: a refusal changes nothing
    step(migrate_metadata(environ))
    step(ensure_executor())
    step(ensure_pool())
    step(ensure_smtp_connection(settings.smtp_conn_id, environ))
    return done
