"""A night in a production-shaped Airflow: the real `airflow api-server`, `airflow scheduler` and
`airflow dag-processor` (and `airflow celery worker` on Redis) as separate processes, on a fresh PostgreSQL
database, prepared by the real `chibo init`, with the sample inbox and a real SMTP server (aiosmtpd).

The test logs in with the admin password that `chibo init` wrote, unpauses and triggers `nightly_consolidation`
through Airflow's REST API, waits for the run (a night takes minutes on a slow machine), then reads the marts and
the e-mails. Cron scheduling is turned off (`[scheduler] use_job_schedule`): the DAG runs daily without catch-up,
so unpausing it would also start the night of the latest interval; only the test's own run must happen.

Each test stops only what it started: its process groups, then any process still carrying its own AIRFLOW_HOME;
it drops its database and flushes its Redis database, even when it fails.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chibo.config import PATH_OVERRIDES, REPO_ROOT
from chibo.smtp_sink import CollectingHandler, airflow_smtp_connection, free_port
from warehouse.raw import connect

BIN = Path(sys.executable).parent
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_DB = 13  # this test's own Redis database, flushed before and after
DAG_ID = "nightly_consolidation"
ADMIN_PASSWORD = secrets.token_urlsafe(16)
NIGHT_DEADLINE_SECONDS = 15 * 60  # a wait limit for a slow machine, not a performance assertion
START_DEADLINE_SECONDS = 5 * 60


# --- PostgreSQL and Redis ----------------------------------------------------------------------------------------


def postgres_url(database: str, driver: str = "postgresql+psycopg2") -> str:
    return f"{driver}://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{database}"


def admin_sql(statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(dbname="postgres", **POSTGRES)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"chibo_airflow_{uuid.uuid4().hex[:12]}"
    admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_redis_database() -> Iterator[str]:
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    client.flushdb()
    try:
        yield f"redis://127.0.0.1:6379/{REDIS_DB}"
    finally:
        client.flushdb()
        client.close()


# --- the Airflow processes ---------------------------------------------------------------------------------------


@dataclass
class Deployment:
    root: Path
    environ: dict[str, str]
    api: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    token: str | None = None

    @property
    def airflow_home(self) -> Path:
        return Path(self.environ["AIRFLOW_HOME"])

    @property
    def warehouse(self) -> Path:
        return Path(self.environ["CHIBO_WAREHOUSE"])

    def start(self, name: str, *command: str) -> None:
        """An Airflow process in its own process group, its output in ``<root>/<name>.log``."""
        log = (self.root / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            [str(BIN / "airflow"), *command],
            env=self.environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def stop(self) -> None:
        """Its process groups, then whatever still runs with its AIRFLOW_HOME (a task's own session)."""
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        for pid in self.leftover_pids():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def leftover_pids(self) -> list[int]:
        marker = f"AIRFLOW_HOME={self.airflow_home}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                with suppress(OSError):
                    if marker in (entry / "environ").read_bytes().split(b"\0"):
                        found.append(int(entry.name))
        return found

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"airflow {name} exited with {process.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 60) -> str:
        path = self.root / f"{name}.log"
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.api}{path}", data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def wait_for(self, what: str, ready: Any, deadline_seconds: float) -> Any:
        """Poll ``ready()`` until it returns something true; the processes must stay up meanwhile."""
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            self.check_alive()
            with suppress(urllib.error.URLError, ConnectionError, TimeoutError):
                if result := ready():
                    return result
            time.sleep(3)
        raise AssertionError(f"gave up waiting for {what}\n{self.diagnostics()}")

    def diagnostics(self) -> str:
        """The task logs of the night and the end of every process's output."""
        parts = []
        for log in sorted((self.airflow_home / "logs").rglob("*.log")):
            parts.append(f"--- {log.relative_to(self.airflow_home)}\n{log.read_text(errors='replace')[-6000:]}")
        parts += [f"--- airflow {name}\n{self.tail(name)}" for name in self.processes]
        return "\n".join(parts)


def production_environment(root: Path, database: str, executor: str, smtp_port: int) -> dict[str, str]:
    """What docker-compose.yml gives every Airflow container, pointed at this machine's services."""
    api_port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CHIBO_"))}
    environ |= {variable: str(root / "data" / key) for key, variable in PATH_OVERRIDES.items()}
    environ |= {
        "CHIBO_WAREHOUSE": str(root / "data" / "warehouse" / "warehouse.duckdb"),
        "CHIBO_SETTLE_PROBE_SECONDS": "0",
        "CHIBO_TASK_RETRIES": "0",
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "AIRFLOW_CONN_SMTP_DEFAULT": airflow_smtp_connection(smtp_port),
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres_url(database),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": postgres_url(database, "postgresql+asyncpg"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    }
    for key in ("inbox", "archive", "quarantine", "data_docs", "work_dir", "publish", "warehouse"):
        (root / "data" / key).mkdir(parents=True, exist_ok=True)
    return environ


@contextmanager
def airflow_deployment(root: Path, executor: str, smtp_port: int, broker: str | None = None) -> Iterator[Deployment]:
    with fresh_database() as database:
        environ = production_environment(root, database, executor, smtp_port)
        if broker:
            environ |= {
                "AIRFLOW__CELERY__BROKER_URL": broker,
                "AIRFLOW__CELERY__RESULT_BACKEND": postgres_url(database, "db+postgresql+psycopg2"),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            }
        deployment = Deployment(root, environ, f"http://127.0.0.1:{environ['AIRFLOW__API__PORT']}")
        try:
            sample = subprocess.run([str(BIN / "chibo"), "sample", environ["CHIBO_INBOX"]], env=environ, check=False)
            assert sample.returncode == 0
            init = subprocess.run([str(BIN / "chibo"), "init"], env=environ, capture_output=True, text=True)
            assert init.returncode == 0, init.stdout + init.stderr
            assert ADMIN_PASSWORD not in init.stdout + init.stderr
            deployment.start("api-server", "api-server", "--workers", "1")
            deployment.start("scheduler", "scheduler")
            deployment.start("dag-processor", "dag-processor")
            if broker:
                deployment.start("celery-worker", "celery", "worker", "--concurrency", "1")
            yield deployment
        finally:
            deployment.stop()


def run_one_night(deployment: Deployment) -> dict[str, Any]:
    """Log in as admin, wait for the DAG, unpause it, trigger it and wait for the run to finish."""
    deployment.wait_for("the API server", lambda: deployment.request("GET", "/api/v2/version")[0] == 200,
                        START_DEADLINE_SECONDS)  # fmt: skip
    status, login = deployment.request("POST", "/auth/token", {"username": "admin", "password": ADMIN_PASSWORD})
    assert status == 201, login  # the password chibo init wrote is the API server's
    deployment.token = login["access_token"]
    deployment.wait_for("the DAG to be parsed", lambda: deployment.request("GET", f"/api/v2/dags/{DAG_ID}")[0] == 200,
                        START_DEADLINE_SECONDS)  # fmt: skip
    status, dag = deployment.request("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
    assert status == 200 and dag["is_paused"] is False, dag
    status, run = deployment.request("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None})
    assert status == 200, run

    def finished() -> dict[str, Any] | None:
        status, current = deployment.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}")
        return current if status == 200 and current["state"] in {"success", "failed"} else None

    night = deployment.wait_for("the night to finish", finished, NIGHT_DEADLINE_SECONDS)
    assert night["state"] == "success", deployment.diagnostics()
    status, runs = deployment.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns")
    assert status == 200 and [r["dag_run_id"] for r in runs["dag_runs"]] == [run["dag_run_id"]]
    return night


def assert_the_night_is_in_the_marts_and_the_mail(deployment: Deployment, mailbox: CollectingHandler) -> None:
    with connect(deployment.warehouse, read_only=True) as connection:
        lao_cai = connection.execute(
            "select report_year, committees_reporting from marts.fct_province_year"
            " where province = 'Lào Cai' order by report_year"
        ).fetchall()
    assert lao_cai == [(2023, 1), (2024, 2)]  # Mường Khương 2023, then Bảo Thắng joins in 2024
    sent_to = {address for received in mailbox.received for address in received.envelope_to}
    assert "to-chuc@dienbien.example.org" in sent_to  # Mường Nhé's rejected report
    assert "van-hanh@chibo.example.org" in sent_to  # the unreadable file, province unknown: the operators
    subjects = [str(received.message["Subject"]) for received in mailbox.received]
    assert any(subject.startswith("[chibo] Điện Biên: 1 báo cáo bị từ chối") for subject in subjects), subjects


def test_a_night_on_postgresql_with_the_local_executor(
    tmp_path: Path, smtp_server: tuple[int, CollectingHandler]
) -> None:
    port, mailbox = smtp_server
    with airflow_deployment(tmp_path, "LocalExecutor", port) as deployment:
        run_one_night(deployment)
        assert_the_night_is_in_the_marts_and_the_mail(deployment, mailbox)
    assert deployment.leftover_pids() == []


def test_a_night_with_a_celery_worker_on_redis(tmp_path: Path, smtp_server: tuple[int, CollectingHandler]) -> None:
    """The scheduler only queues on Redis: every task of the night ran in the Celery worker."""
    port, mailbox = smtp_server
    with fresh_redis_database() as broker, airflow_deployment(tmp_path, "CeleryExecutor", port, broker) as deployment:
        night = run_one_night(deployment)
        assert_the_night_is_in_the_marts_and_the_mail(deployment, mailbox)
        status, tasks = deployment.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{night['dag_run_id']}/taskInstances")
        assert status == 200
        assert {t["state"] for t in tasks["task_instances"]} == {"success"}
    assert deployment.leftover_pids() == []
