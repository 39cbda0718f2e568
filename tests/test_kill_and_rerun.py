"""kill -9 in any step of the night, then a rerun, gives the same marts as an undisturbed night.

Each case runs the night's steps (``pipeline.nightly`` ingest, validate, build_marts, then
``pipeline.publish.publish_snapshot``, in the DAG's order) in a subprocess on its own deployment (a copy of the
sample inbox of ``chibo sample``), sends it SIGKILL while one step is running, then runs the whole night again
in a fresh process and compares with one undisturbed night on another copy of the same inbox, shared by all
cases: every table of schema ``marts`` (rows sorted, minus the run ids and timestamps), in the warehouse and in
the published snapshot; every inbox file registered once; the same decisions and findings; the same archive and
quarantine, whole files only; no temporary file left in the archive, the quarantine or the publish folder.

Where the kill lands: either a delay after the runner's marker for the step (a fraction of that step's duration in
the undisturbed night, so that a slower machine moves it along), or a probe: the runner stops itself (SIGSTOP) at
one precise point of the step (inside an intake transaction, before an archive copy is renamed into place, inside
the transaction recording the decisions, between the two renames of a mart's swap in dbt, before the published
snapshot is made current) and is killed there. Some cases kill a second night (the warehouse already has marts
and a published snapshot), some rerun with the killed night's run id (Airflow clearing the run), others with a
new one (the next night).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from chibo.config import REPO_ROOT, load_settings
from chibo.deployment import prepare
from demo.samples import write_sample_inbox
from pipeline.publish import SNAPSHOT_FILE
from tests.deployments import deployment_variables

STEPS = ("ingest", "validate", "build_marts", "publish")
# Columns of the marts that depend on when a night ran (besides every TIMESTAMP column and every run id):
# a submission's reception time, its Vietnamese day, and the days late counted from that day.
TIME_COLUMNS = {
    "fct_reporting_status": {
        "first_received_at",
        "first_received_on",
        "first_accepted_at",
        "first_accepted_on",
        "days_late",
    }
}
HANG_GUARD_SECONDS = 1800.0  # only so that a hung night fails the test instead of blocking it

RUNNER = r'''
"""The night's steps in the DAG's order, one or more nights (one run id each), with a marker line on stdout
before and after each step. With a probe, the process stops itself (SIGSTOP) at one precise point of one step,
for the test to kill it there. Once done it waits for stdin to close, so that it is alive whenever it is killed."""

import importlib
import json
import os
import signal
import sys
import time
from pathlib import Path


def stop(point):
    print(f"stopped {point}", flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)


def probe_inserts(probe):
    """Stop right after the nth insert into a table: inside the transaction that writes it."""
    module = importlib.import_module(probe["module"])
    original = module.insert_rows
    seen = []

    def insert_rows(connection, table, rows, *args, **kwargs):
        original(connection, table, rows, *args, **kwargs)
        if table == probe["table"] and rows:
            seen.append(table)
            if len(seen) == probe["nth"]:
                stop(f"after insert #{len(seen)} into {table}")

    module.insert_rows = insert_rows


def probe_renames(probe, settings):
    """Stop right before the nth rename (os.replace or os.rename) onto a path of a folder of the settings."""
    folder = Path(getattr(settings, probe["folder"])).resolve()
    names = probe.get("names")
    seen = []

    def wrap(original):
        def rename(source, target, *args, **kwargs):
            target_path = Path(os.fsdecode(target))
            if target_path.parent.resolve() == folder and (names is None or target_path.name in names):
                seen.append(target_path)
                if len(seen) == probe["nth"]:
                    stop(f"before rename #{len(seen)} onto {target_path.name}")
            return original(source, target, *args, **kwargs)

        return rename

    os.replace = wrap(os.replace)
    os.rename = wrap(os.rename)


def probe_dbt(probe):
    """Stop right before the nth SQL statement of a dbt node that contains a text (dbt fires its SQLQuery event
    before executing the statement)."""
    import dbt.cli.main

    original = dbt.cli.main.dbtRunner.__init__
    seen = []

    def callback(message):
        if message.info.name != "SQLQuery":
            return
        data = message.data
        if data.node_info.node_name == probe["node"] and probe["contains"] in data.sql.lower():
            seen.append(data.sql)
            if len(seen) == probe["nth"]:
                stop(f"before {probe['contains']!r} #{len(seen)} of {probe['node']}")

    def init(self, manifest=None, callbacks=None):
        original(self, manifest, [*(callbacks or []), callback])

    dbt.cli.main.dbtRunner.__init__ = init


def install(probe, settings):
    kind = probe["kind"]
    if kind == "insert":
        probe_inserts(probe)
    elif kind == "rename":
        probe_renames(probe, settings)
    elif kind == "dbt_sql":
        probe_dbt(probe)
    else:
        raise ValueError(kind)


def main():
    run_ids, probe = json.loads(sys.argv[1]), json.loads(sys.argv[2])
    from chibo.config import load_settings
    from pipeline import nightly
    from pipeline.publish import publish_snapshot

    settings = load_settings()
    for night, run_id in enumerate(run_ids, start=1):
        nightly.prepare_night(settings)  # the DAG's discover task
        steps = {
            "ingest": lambda: nightly.ingest(settings, run_id),
            "validate": lambda: nightly.validate(settings, run_id),
            "build_marts": lambda: nightly.build_marts(settings, run_id),
            "publish": lambda: publish_snapshot(settings, run_id),
        }
        for name, step in steps.items():
            if probe and probe["night"] == night and probe["step"] == name:
                install(probe, settings)
            print(f"start {night} {name}", flush=True)
            began = time.monotonic()
            step()
            print(f"done {night} {name} {time.monotonic() - began:.3f}", flush=True)
    print("finished", flush=True)
    sys.stdin.read()


main()
'''


@dataclass(frozen=True)
class Kill:
    """Where a night is killed: in ``step`` of its ``night``-th night, after ``fraction`` of the step's undisturbed
    duration, or at a probe's point; the rerun takes the killed night's run id or a new one."""

    name: str
    step: str
    fraction: float | None = None
    probe: dict[str, object] | None = None
    night: int = 1
    same_run_id: bool = False

    def runner_probe(self) -> dict[str, object] | None:
        return None if self.probe is None else {**self.probe, "night": self.night, "step": self.step}


KILLS = (
    Kill("ingest-late", "ingest", fraction=0.8, same_run_id=True),
    Kill(
        "ingest-inside-a-registration",
        "ingest",
        # the night's files are registered in one transaction (a batch): the kill lands inside it
        probe={"kind": "insert", "module": "ingestion.intake", "table": "submission_sheets", "nth": 1},
    ),
    Kill(
        "ingest-archive-copy-not-renamed",
        "ingest",
        probe={"kind": "rename", "folder": "archive", "nth": 2},
        same_run_id=True,
    ),
    Kill("validate-building-views", "validate", fraction=0.25),
    Kill(
        "validate-recording-decisions",
        "validate",
        probe={"kind": "insert", "module": "expectations.validate", "table": "submission_outcomes", "nth": 1},
        same_run_id=True,
    ),
    Kill("build-halfway", "build_marts", fraction=0.5),
    Kill(
        "second-night-build-between-the-renames-of-a-mart",
        "build_marts",
        probe={"kind": "dbt_sql", "node": "fct_data_quality", "contains": "alter table", "nth": 2},
        night=2,
        same_run_id=True,
    ),
    Kill(
        "second-night-build-inside-an-incremental-mart",
        "build_marts",
        probe={"kind": "dbt_sql", "node": "fct_members", "contains": "insert into", "nth": 1},
        night=2,
        same_run_id=True,
    ),
    Kill("publish-halfway", "publish", fraction=0.5, same_run_id=True),
    Kill(
        "second-night-publish-before-the-switch",
        "publish",
        probe={"kind": "rename", "folder": "publish", "names": ["current"], "nth": 1},
        night=2,
    ),
)


# ------------------------------------------------------------------ running nights in a subprocess


def deployment_env(base: Path) -> dict[str, str]:
    """The environment of a deployment under ``base``: the variables of the ``settings`` fixture."""
    env = dict(os.environ)
    env.update(
        {
            **deployment_variables(base),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        }
    )
    return env


def new_deployment(base: Path, inbox: Path) -> Path:
    """A deployment under ``base`` prepared as ``chibo init`` does, its inbox a copy of ``inbox``."""
    base.mkdir(parents=True)
    shutil.copytree(inbox, base / "inbox")
    prepare(load_settings(deployment_env(base)))
    (base / "runner.py").write_text(RUNNER, encoding="utf-8")
    return base


def runner_command(base: Path, run_ids: list[str], probe: dict[str, object] | None) -> list[str]:
    return [sys.executable, str(base / "runner.py"), json.dumps(run_ids), json.dumps(probe)]


def log_tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def run_night(base: Path, run_id: str, log_name: str) -> dict[str, float]:
    """One whole night, undisturbed; returns each step's duration in seconds."""
    log = base / log_name
    with log.open("w") as errors:
        done = subprocess.run(
            runner_command(base, [run_id], None),
            env=deployment_env(base),
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            timeout=HANG_GUARD_SECONDS,
            check=False,
        )
    assert done.returncode == 0, f"the night failed in {base} (exit {done.returncode}):\n{log_tail(log)}"
    markers = done.stdout.splitlines()
    assert markers[-1] == "finished", markers
    return {parts[2]: float(parts[3]) for parts in (line.split() for line in markers) if parts[0] == "done"}


@dataclass
class Markers:
    """The runner's marker lines, read by a thread as they come."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def next(self, timeout: float) -> str | None:
        """The next marker; None at the end of the output or when none came within ``timeout`` seconds."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is not None:
            self.seen.append(line)
        return line

    def wait_for(self, prefix: str) -> str:
        """The next marker starting with ``prefix``; fails if the night ends (or hangs) before it."""
        while True:
            line = self.next(HANG_GUARD_SECONDS)
            assert line not in {None, "finished"}, f"the runner never printed {prefix!r}; it printed {self.seen}"
            if line is not None and line.startswith(prefix):
                return line


def wait_until_stopped(pid: int) -> None:
    """Until the process has stopped itself (state T in /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat")
    for _ in range(int(HANG_GUARD_SECONDS * 20)):
        if stat.read_text().rpartition(")")[2].split()[0] in {"T", "t"}:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never stopped at its probe")


def kill_night(base: Path, kill: Kill, run_ids: list[str], durations: dict[str, float]) -> list[str]:
    """Run the nights of ``run_ids`` and SIGKILL the process where ``kill`` says; returns its markers."""
    log = base / "killed.log"
    with log.open("w") as errors:
        process = subprocess.Popen(
            runner_command(base, run_ids, kill.runner_probe()),
            env=deployment_env(base),
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            start_new_session=True,
        )
    markers = Markers(process)
    try:
        markers.wait_for(f"start {kill.night} {kill.step}")
        if kill.probe is not None:
            markers.wait_for("stopped ")
            wait_until_stopped(process.pid)
        else:
            assert kill.fraction is not None
            done = f"done {kill.night} {kill.step}"
            delay = kill.fraction * durations[kill.step]
            # killed after the delay, or as soon as the step ends if it ends first (then just after it)
            deadline = time.monotonic() + delay
            while (left := deadline - time.monotonic()) > 0:
                line = markers.next(left)
                if line is None or line.startswith(done):
                    break
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=HANG_GUARD_SECONDS)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    (base / "killed.markers").write_text("\n".join(markers.seen) + "\n", encoding="utf-8")
    assert process.returncode == -signal.SIGKILL, (
        f"the night was not killed (exit {process.returncode}): {markers.seen}\n{log_tail(log)}"
    )
    return markers.seen


# ------------------------------------------------------------------ what a night leaves


Rows = list[tuple[object, ...]]


def compared_columns(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """A mart's columns minus those that depend on when the night ran."""
    columns = connection.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, table],
    ).fetchall()
    names = {name for name, _ in columns}
    missing = TIME_COLUMNS.get(table, set()) - names
    assert not missing, f"{table} has no column {sorted(missing)}: update TIME_COLUMNS"
    return [
        name
        for name, data_type in columns
        if not data_type.startswith("TIMESTAMP")
        and not name.endswith("run_id")
        and name not in TIME_COLUMNS.get(table, set())
    ]


def mart_rows(database: Path, schema: str) -> dict[str, Rows]:
    """Every table of ``schema``, its compared columns, rows sorted."""
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
            ).fetchall()
        ]
        result = {}
        for table in tables:
            columns = ", ".join(f'"{c}"' for c in compared_columns(connection, schema, table))
            result[table] = connection.execute(f'select {columns} from {schema}."{table}" order by all').fetchall()
        return result


@dataclass(frozen=True)
class Registry:
    """What the warehouse says of the submissions, run ids and times aside."""

    registrations: dict[str, int]  # file name -> how many times registered
    latest: dict[str, str]  # file name -> latest decision
    decisions: dict[str, int]  # file name -> how many decisions
    findings: dict[str, Counter[tuple[object, ...]]]  # file name -> findings of its latest decision
    rule_results: dict[str, Counter[tuple[object, ...]]]  # file name -> rule results of its latest decision


def registry(warehouse: Path) -> Registry:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        registrations = dict(
            connection.execute("select file_name, count(*) from raw.submissions group by all").fetchall()
        )
        decided = connection.execute(
            """
            select s.file_name, o.outcome, o.run_id, count(*) over (partition by o.submission_id)
            from raw.submission_outcomes o join raw.submissions s using (submission_id)
            qualify row_number() over (partition by o.submission_id order by o.decided_at desc, o.run_id desc) = 1
            """
        ).fetchall()

        def rows_of(table: str, columns: str) -> dict[str, Counter[tuple[object, ...]]]:
            found: dict[str, Counter[tuple[object, ...]]] = {name: Counter() for name, *_ in decided}
            for name, *values in connection.execute(
                f"""
                with latest as (
                    select submission_id, run_id from raw.submission_outcomes
                    qualify row_number() over (partition by submission_id order by decided_at desc, run_id desc) = 1
                )
                select s.file_name, {columns}
                from raw.{table} t
                join latest using (submission_id, run_id)
                join raw.submissions s using (submission_id)
                """
            ).fetchall():
                found[name][tuple(values)] += 1
            return found

        return Registry(
            registrations=registrations,
            latest={name: outcome for name, outcome, _, _ in decided},
            decisions={name: count for name, _, _, count in decided},
            findings=rows_of("validation_failures", "rule_id, sheet, sheet_row, field, value, severity, message"),
            rule_results=rows_of("rule_results", "rule_id, severity, status, failed_rows"),
        )


def temporaries(base: Path) -> list[str]:
    """Temporary files or folders (hidden names, ``.tmp``) left in the archive, the quarantine or the publish
    folder; symlinks are not followed."""
    found = []
    for folder in ("archive", "quarantine", "publish"):
        for root, directories, files in os.walk(base / folder):
            for name in directories + files:
                if name.startswith(".") or name.endswith((".tmp", "__dbt_tmp")):
                    found.append(str((Path(root) / name).relative_to(base)))
    return sorted(found)


def stored_files(base: Path, folder: str) -> dict[str, str]:
    """The archive's or quarantine's entries: name -> sha256 of a file's content ('folder' for a folder); the
    temporaries (hidden names) are ``temporaries``'s."""
    root = base / folder
    if not root.exists():
        return {}
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        for path in sorted(root.iterdir())
        if not path.name.startswith(".")
    }


def assert_whole_copies(base: Path, folder: str) -> None:
    """A file stored under its hash has that hash: no half copy under a final name."""
    for name, digest in stored_files(base, folder).items():
        stem = name.split(".", 1)[0]
        if digest != "folder" and len(stem) == 64 and not name.endswith(".json"):
            assert digest == stem, f"{folder}/{name} is not the whole file (its content hashes to {digest})"


# ------------------------------------------------------------------ the undisturbed night and the cases


@dataclass(frozen=True)
class Night:
    base: Path
    durations: dict[str, float]
    marts: dict[str, Rows]
    registry: Registry


@pytest.fixture(scope="module")
def sample_inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inbox = tmp_path_factory.mktemp("sample") / "inbox"
    write_sample_inbox(inbox)
    return inbox


@pytest.fixture(scope="module")
def undisturbed(sample_inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> Night:
    base = new_deployment(tmp_path_factory.mktemp("undisturbed") / "deployment", sample_inbox)
    durations = run_night(base, "manual__undisturbed", "night.log")
    assert set(durations) == set(STEPS)
    return Night(base, durations, mart_rows(base / "warehouse.duckdb", "marts"), registry(base / "warehouse.duckdb"))


def test_the_undisturbed_night_is_a_fair_reference(undisturbed: Night, sample_inbox: Path) -> None:
    """The comparison has something to compare: marts with rows, every file registered and decided."""
    assert undisturbed.marts and all(undisturbed.marts[t] for t in ("fct_members", "fct_province_year"))
    names = {path.name for path in sample_inbox.iterdir()}
    assert undisturbed.registry.registrations == dict.fromkeys(names, 1)
    assert set(undisturbed.registry.latest) == names
    assert set(undisturbed.registry.latest.values()) >= {"accepted", "rejected"}
    assert temporaries(undisturbed.base) == []


@pytest.mark.parametrize("kill", KILLS, ids=[k.name for k in KILLS])
def test_a_rerun_after_a_kill_gives_the_undisturbed_night(
    kill: Kill, undisturbed: Night, sample_inbox: Path, tmp_path: Path
) -> None:
    base = new_deployment(tmp_path / "deployment", sample_inbox)
    killed_ids = [f"manual__killed-{night}" for night in range(1, kill.night + 1)]
    markers = kill_night(base, kill, killed_ids, undisturbed.durations)
    rerun_id = killed_ids[-1] if kill.same_run_id else "manual__rerun"
    run_night(base, rerun_id, "rerun.log")

    context = f"killed after {markers}; logs in {base}"
    got = registry(base / "warehouse.duckdb")
    want = undisturbed.registry
    assert got.registrations == want.registrations, context  # every inbox file registered once
    assert got.latest == want.latest, context
    final = {name for name, outcome in want.latest.items() if outcome != "held"}
    assert {n: got.decisions[n] for n in final} == dict.fromkeys(final, 1), context  # decided once, never lost
    assert got.findings == want.findings, context
    assert got.rule_results == want.rule_results, context

    for folder in ("archive", "quarantine"):
        assert stored_files(base, folder).keys() == stored_files(undisturbed.base, folder).keys(), context
        assert_whole_copies(base, folder)

    marts = mart_rows(base / "warehouse.duckdb", "marts")
    assert marts.keys() == undisturbed.marts.keys(), context
    for table, rows in undisturbed.marts.items():
        assert marts[table] == rows, f"marts.{table} differs; {context}"
    published = mart_rows(base / "publish" / SNAPSHOT_FILE, "main")
    assert published == undisturbed.marts, f"the published snapshot differs; {context}"

    assert temporaries(base) == [], context


# ------------------------------------------------------------------ chibo init killed while it creates the warehouse

INIT_RUNNER = r"""
import os, signal, sys
import warehouse.raw
from chibo.config import load_settings
from chibo.deployment import prepare

original = warehouse.raw.ensure_schema
created = []


class Dying:
    '''The connection, killing this process (SIGKILL) before its nth CREATE TABLE.'''

    def __init__(self, connection):
        self.connection = connection

    def execute(self, sql, *args, **kwargs):
        if sql.lstrip().upper().startswith("CREATE TABLE"):
            created.append(sql)
            if len(created) == int(sys.argv[1]):
                os.kill(os.getpid(), signal.SIGKILL)
        return self.connection.execute(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.connection, name)


warehouse.raw.ensure_schema = lambda connection, *args, **kwargs: original(Dying(connection), *args, **kwargs)
prepare(load_settings())
"""


@pytest.mark.parametrize("tables_before_kill", [1, 4])
def test_chibo_init_killed_midway_can_be_run_again(tmp_path: Path, tables_before_kill: int) -> None:
    """``chibo init`` killed between the raw tables it creates on a new warehouse: running it again gives a ready
    deployment whose warehouse the night marks as chibo's, never a warehouse that chibo itself refuses as foreign."""
    from chibo.deployment import require_ready
    from warehouse.raw import MARKER_TABLE, RAW_SCHEMA, connect, ensure_schema

    (tmp_path / "inbox").mkdir()
    killed = subprocess.run(
        [sys.executable, "-c", INIT_RUNNER, str(tables_before_kill)],
        env=deployment_env(tmp_path),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    settings = load_settings(deployment_env(tmp_path))
    prepare(settings)  # not refused as foreign: the warehouse is marked first, in one transaction
    require_ready(settings)
    with connect(settings.warehouse) as connection:
        ensure_schema(connection)  # as every night's intake does first
        [(marks,)] = connection.execute(f"select count(*) from {RAW_SCHEMA}.{MARKER_TABLE}").fetchall()
    assert marks == 1
