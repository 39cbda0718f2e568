"""`make bench PROFILE=national` (or `quick`): the whole country's history through the real nightly DAG, side by side
with the floors of this machine.

The workload is the history generator's (deterministic, cached under ``var/bench`` by profile, seed and format):
every district committee's report 2008-2024 (aggregate-only up to 2022, detailed from 2023) and every commune-level
committee's report 2025-2026. Ten reports of 2025 (communes of the new Lào Cai) are held back from the backfill and
arrive the next night. Measured, in one run:

- the backfill night through ``chibo run`` (Airflow ``dag.test()``, SQLite metadata): each task's time from
  Airflow's own records, the wall clock, and the peak memory of the whole process tree (sampled);
- the night of the ten new reports on top of it, and the same two nights on a warehouse of the four provinces of the
  demo history (Lào Cai, Yên Bái, Điện Biên, Sơn La): the ratio says whether a night grows with history;
- ``chibo validate`` on one detailed district report, in a new process (cold) and a second time in one process (warm);
- the portal on the full deployment (``benchmarks/portal.py``): that report uploaded to the verdict page, and its
  province's dashboard on the whole history;
- the floors: python-calamine alone parsing every workbook on every core, and DuckDB loading the same rows from CSV
  with six checks and two marts in SQL.

Nothing here asserts a speed: the figures go to docs/benchmarks.md with the command, the machine and the date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from benchmarks.portal import REPEATS, PortalTimes, portal_times
from chibo.config import PATH_OVERRIDES, REPO_ROOT

BENCH_DIR = REPO_ROOT / "var" / "bench"
DEMO_PROVINCES = ("Lào Cai", "Yên Bái", "Điện Biên", "Sơn La")
HELD_BACK = 10
HELD_BACK_PREFIX = "2025_lao-cai_"
TARGETS = {
    "backfill_seconds": 150.0,
    "night_task_seconds": 30.0,
    "night_ratio": 1.2,
    "validate_cold": 3.0,
    "portal_verdict": 3.0,
}
PEAK_TARGET_GB = 2.0


@dataclass(frozen=True)
class Profile:
    name: str
    provinces: tuple[str, ...] | None  # None: every pre-reform province
    small: tuple[str, ...]  # the provinces of the comparison warehouse
    years: str = "2008-2026"
    detail_years: str = "2023-2026"


PROFILES = {
    "national": Profile("national", None, DEMO_PROVINCES),
    "quick": Profile("quick", ("Lào Cai", "Yên Bái"), ("Lào Cai",), years="2018-2026"),
}


# ------------------------------------------------------------------ the workload, generated once


def all_provinces() -> tuple[str, ...]:
    from units.admin_units import PRE_REFORM, _province_index

    return tuple(sorted({unit.name for unit in _province_index(PRE_REFORM).by_code.values()}))


def _write_one(item: tuple[Path, object, str]) -> str:
    from contract.workbook import write_csv_zip, write_xlsx

    path, report, file_format = item
    (write_csv_zip if file_format == "zip" else write_xlsx)(path, report)  # type: ignore[arg-type]
    return path.name


def generate(provinces: Sequence[str], profile: Profile, seed: int, file_format: str, out: Path) -> list[str]:
    """Write the history of ``provinces`` into ``out`` (writing spread over every core); the file names."""
    from demo.history_generator import history_reports, parse_years

    years, detail = parse_years(profile.years), parse_years(profile.detail_years)
    reports = (
        (out / f"{g.file_stem}.{file_format}", g.report, file_format)
        for g in history_reports(provinces, years, seed, detail)
    )
    out.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        return list(pool.map(_write_one, reports, chunksize=32))


def report_stems(provinces: Sequence[str], profile: Profile, seed: int) -> list[str]:
    from demo.history_generator import history_reports, parse_years

    years, detail = parse_years(profile.years), parse_years(profile.detail_years)
    return [g.file_stem for g in history_reports(provinces, years, seed, detail)]


@dataclass(frozen=True)
class Workload:
    folder: Path
    files: list[str]  # every file, the held-back ones included
    small: list[str]  # the comparison warehouse's files
    held_back: list[str]

    def backfill(self, files: Iterable[str]) -> list[str]:
        return [name for name in files if name not in set(self.held_back)]


def workload(profile: Profile, seed: int, file_format: str) -> Workload:
    folder = BENCH_DIR / f"{profile.name}-seed{seed}-{file_format}"
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        provinces = profile.provinces or all_provinces()
        started = time.perf_counter()
        shutil.rmtree(folder, ignore_errors=True)
        files = generate(provinces, profile, seed, file_format, folder / "files")
        small_stems = set(report_stems(profile.small, profile, seed))
        small = [name for name in files if name.rsplit(".", 1)[0] in small_stems]
        held_back = sorted(name for name in small if name.startswith(HELD_BACK_PREFIX))[:HELD_BACK]
        seconds = time.perf_counter() - started
        manifest.write_text(
            json.dumps({"files": files, "small": small, "held_back": held_back, "generated_seconds": seconds}),
            encoding="utf-8",
        )
        print(f"generated {len(files):,} reports into {folder} in {seconds:.0f} s", flush=True)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return Workload(folder / "files", data["files"], data["small"], data["held_back"])


# ------------------------------------------------------------------ nights through the real DAG


@dataclass
class Night:
    label: str
    reports: int
    wall: float
    tasks: dict[str, float]
    peak_gb: float
    state: str
    notes: list[str] = field(default_factory=list)

    @property
    def task_seconds(self) -> float:
        return sum(self.tasks.values())


@contextmanager
def peak_memory() -> Iterator[list[float]]:
    """Sample the memory of this process's children (the whole tree) every 0.2 s; the peak in GB. Each process counts
    its proportional set size (PSS: a page shared by forked readers counts once in all), else its resident size."""
    import psutil  # type: ignore[import-untyped]

    peak = [0.0]
    stop = threading.Event()
    me = psutil.Process()

    def sample() -> None:
        while not stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += getattr(child.memory_full_info(), "pss", 0) or child.memory_info().rss
                except psutil.Error:
                    continue
            peak[0] = max(peak[0], total / 1e9)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stop.set()
        sampler.join()


def deployment(base: Path) -> dict[str, str]:
    paths = {
        "inbox": "inbox",
        "archive": "archive",
        "quarantine": "quarantine",
        "data_docs": "data docs",
        "warehouse": "warehouse.duckdb",
        "work_dir": "work",
        "publish": "publish",
    }
    environ = {variable: str(base / paths[key]) for key, variable in PATH_OVERRIDES.items()}
    environ |= {"CHIBO_SETTLE_PROBE_SECONDS": "0", "AIRFLOW_HOME": str(base / "airflow"), "CHIBO_TASK_RETRIES": "0"}
    return environ


def task_times(airflow_home: Path) -> dict[str, float]:
    """Each task's duration in the latest DAG run, from Airflow's own records."""
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        [(run_id,)] = db.execute("SELECT run_id FROM dag_run ORDER BY id DESC LIMIT 1").fetchall()
        rows = db.execute(
            "SELECT task_id, (julianday(end_date) - julianday(start_date)) * 86400 FROM task_instance WHERE run_id = ?",
            [run_id],
        ).fetchall()
    return {task: float(seconds or 0.0) for task, seconds in rows}


def run_night(base: Path, source: Path, files: Sequence[str], label: str) -> Night:
    """Put ``files`` into the deployment's inbox (beside what is there) and run ``chibo run``."""
    environ = os.environ | deployment(base)
    inbox = Path(environ["CHIBO_INBOX"])
    inbox.mkdir(parents=True, exist_ok=True)
    for name in files:
        os.link(source / name, inbox / name) if not (inbox / name).exists() else None
    log = base / f"{label}.log"
    started = time.perf_counter()
    with peak_memory() as peak, log.open("w", encoding="utf-8") as output:
        finished = subprocess.run(
            [str(Path(sys.executable).with_name("chibo")), "run"], env=environ, stdout=output, stderr=subprocess.STDOUT
        )
    wall = time.perf_counter() - started
    state = "success" if finished.returncode == 0 else f"exit {finished.returncode} (see {log})"
    return Night(label, len(files), wall, task_times(Path(environ["AIRFLOW_HOME"])), peak[0], state)


# ------------------------------------------------------------------ chibo validate on one report


VALIDATE_WARM = """
import sys, time
from pathlib import Path
from chibo.config import load_settings
from pipeline.check import check_file
path, settings = Path(sys.argv[1]), load_settings()
check_file(path, settings)
started = time.perf_counter()
outcome = check_file(path, settings)
print(time.perf_counter() - started, outcome.outcome)
"""


def validate_times(report: Path, base: Path) -> tuple[float, float, float]:
    """``chibo validate`` on one report: the first call of a deployment (it builds the work folder's
    check-template), then in a new process (cold), then its second call in one process (warm)."""
    environ = os.environ | deployment(base)
    base.mkdir(parents=True, exist_ok=True)
    command = [str(Path(sys.executable).with_name("chibo")), "validate", str(report)]
    times = []
    for _ in range(2):
        started = time.perf_counter()
        subprocess.run(command, env=environ, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    first, cold = times
    warm = subprocess.run(
        [sys.executable, "-c", VALIDATE_WARM, str(report)], env=environ, capture_output=True, text=True, check=True
    )
    return first, cold, float(warm.stdout.split()[0])


# ------------------------------------------------------------------ floors


def _calamine_read(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    return sum(len(workbook.get_sheet_by_name(name).to_python()) for name in workbook.sheet_names)


def parse_floor(folder: Path, files: Sequence[str]) -> float:
    """python-calamine alone reading every sheet of every workbook, on every core."""
    started = time.perf_counter()
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        sum(pool.map(_calamine_read, [folder / name for name in files], chunksize=64))
    return time.perf_counter() - started


FLOOR_TABLES = ("submissions", "tong_hop", "to_chuc_co_so", "chi_bo", "thon_ban", "thong_tin")
FLOOR_QUERIES = (
    # six checks
    "SELECT count(*) FROM tong_hop WHERE TRY_CAST(value AS BIGINT) IS NULL AND value IS NOT NULL",
    "SELECT count(*) FROM to_chuc_co_so WHERE TRY_CAST(members_total AS BIGINT) < 0",
    "SELECT submission_id, count(*) FROM chi_bo GROUP BY ALL HAVING count(*) > 10000",
    "SELECT o.submission_id FROM (SELECT submission_id, sum(TRY_CAST(members_total AS BIGINT)) m FROM to_chuc_co_so"
    " GROUP BY ALL) o JOIN (SELECT submission_id, sum(TRY_CAST(members_total AS BIGINT)) m FROM chi_bo GROUP BY ALL) b"
    " USING (submission_id) WHERE o.m < b.m",
    "SELECT count(*) FROM thon_ban WHERE village_name IS NULL",
    "SELECT committee_key, report_year, count(*) FROM submissions GROUP BY ALL HAVING count(*) > 1",
    # two marts
    "CREATE TABLE mart_province_year AS SELECT s.province, s.report_year, sum(TRY_CAST(o.members_total AS BIGINT))"
    " AS members FROM submissions s JOIN to_chuc_co_so o USING (submission_id) GROUP BY ALL",
    "CREATE TABLE mart_branches AS SELECT s.province, s.report_year, count(*) AS branches FROM submissions s"
    " JOIN chi_bo b USING (submission_id) GROUP BY ALL",
)


def sql_floor(warehouse: Path, scratch: Path) -> float:
    """DuckDB loading the warehouse's raw rows from CSV, six checks and two marts in SQL (the export is not timed)."""
    import duckdb

    scratch.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse), read_only=True) as source:
        present = {
            name
            for (name,) in source.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
            ).fetchall()
        }
        tables = [t for t in FLOOR_TABLES if t in present]
        for table in tables:
            source.execute(f"COPY raw.{table} TO '{scratch / table}.csv' (HEADER)")
    started = time.perf_counter()
    with duckdb.connect() as floor:
        for table in tables:
            floor.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{scratch / table}.csv', all_varchar=true)")
        for query in FLOOR_QUERIES:
            try:
                floor.execute(query).fetchall()
            except duckdb.Error as error:  # a column the raw schema names otherwise: say so, never pass silently
                print(f"floor query failed ({error}): {query[:60]}", file=sys.stderr)
    return time.perf_counter() - started


# ------------------------------------------------------------------ the report


STEPS = ("ingest", "validate", "dbt_build", "publish", "alert")


def night_row(night: Night) -> str:
    steps = " | ".join(f"{night.tasks.get(step, 0.0):.1f}" for step in STEPS)
    return (
        f"| {night.label} | {night.reports:,} | {steps} | {night.task_seconds:.1f} | {night.wall:.1f} | "
        f"{night.peak_gb:.2f} | {night.state} |"
    )


def report(
    profile: Profile,
    args: argparse.Namespace,
    nights: list[Night],
    floors: dict[str, float],
    validate: tuple[float, float, float],
    portal: PortalTimes,
) -> str:
    backfill, new_on_full, small_backfill, new_on_small = nights
    floor_total = floors["parse"] + floors["sql"]
    lines = [
        f"## `make bench PROFILE={profile.name}` ({date.today().isoformat()})",
        "",
        f"Machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"workload seed {args.seed}, {args.format}. Command: `python -m benchmarks.national --profile {profile.name}`.",
        "",
        "| night | reports | ingest | validate | dbt build | publish | alert | task s | wall s | peak GB | state |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *(night_row(night) for night in nights),
        "",
        "| figure | measured | floor or target | ratio |",
        "|---|---|---|---|",
        f"| backfill, wall | {backfill.wall:.0f} s | floor {floor_total:.0f} s (parse {floors['parse']:.0f} s + SQL "
        f"{floors['sql']:.1f} s); target ≤ {TARGETS['backfill_seconds']:.0f} s | "
        f"{backfill.wall / floor_total:.1f}× floor |",
        f"| backfill, ingest | {backfill.tasks.get('ingest', 0):.0f} s | parse floor {floors['parse']:.0f} s | "
        f"{backfill.tasks.get('ingest', 0) / floors['parse']:.1f}× |",
        f"| backfill, peak memory | {backfill.peak_gb:.2f} GB | target ≤ {PEAK_TARGET_GB:.0f} GB | "
        f"{backfill.peak_gb / PEAK_TARGET_GB:.2f}× |",
        f"| {HELD_BACK} new reports on the full warehouse, task time | {new_on_full.task_seconds:.1f} s | target ≤ "
        f"{TARGETS['night_task_seconds']:.0f} s | {new_on_full.task_seconds / TARGETS['night_task_seconds']:.2f}× |",
        f"| the same night, full / {len(profile.small)}-province warehouse | {new_on_full.task_seconds:.1f} / "
        f"{new_on_small.task_seconds:.1f} s | target ≤ {TARGETS['night_ratio']}× | "
        f"{new_on_full.task_seconds / max(new_on_small.task_seconds, 1e-9):.2f}× |",
        f"| `chibo validate`, one detailed district report, cold | {validate[1]:.1f} s | target ≤ "
        f"{TARGETS['validate_cold']:.0f} s | {validate[1] / TARGETS['validate_cold']:.1f}× |",
        f"| `chibo validate`, warm (second call in one process) | {validate[2]:.1f} s | | |",
        f"| `chibo validate`, first call of a new deployment (builds check-template) | {validate[0]:.1f} s | | |",
        f"| the portal: upload to verdict, the same report, server warm (median of {REPEATS}) | "
        f"{portal.upload_seconds:.2f} s ({portal.outcome}) | target ≤ {TARGETS['portal_verdict']:.0f} s | "
        f"{portal.upload_seconds / TARGETS['portal_verdict']:.2f}× |",
        f"| the portal: province {portal.province}'s dashboard, {portal.report_year} (median of {REPEATS}) | "
        f"{portal.dashboard_seconds:.2f} s | | |",
        f"| the portal: the same dashboard as it opens (newest year) | {portal.dashboard_latest_seconds:.2f} s | | |",
    ]
    del small_backfill
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.national", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=("xlsx", "zip"), default="xlsx")
    parser.add_argument("--keep", action="store_true", help="keep the deployments (warehouses, logs) afterwards")
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile]
    load = workload(profile, args.seed, args.format)
    scratch = Path(tempfile.mkdtemp(prefix=f"chibo-bench-{profile.name}-", dir=BENCH_DIR))
    print(
        f"{len(load.files):,} reports ({len(load.small):,} in the comparison warehouse); working in {scratch}",
        flush=True,
    )
    nights: list[Night] = []
    for label, base, files in (
        ("backfill, full", scratch / "full", load.backfill(load.files)),
        (f"{HELD_BACK} new, full", scratch / "full", load.held_back),
        (f"backfill, {len(profile.small)} province(s)", scratch / "small", load.backfill(load.small)),
        (f"{HELD_BACK} new, {len(profile.small)} province(s)", scratch / "small", load.held_back),
    ):
        nights.append(run_night(base, load.folder, files, label.replace(" ", "_").replace(",", "")))
        nights[-1].label = label
        print(night_row(nights[-1]), flush=True)
    floors = {
        "parse": parse_floor(load.folder, load.backfill(load.files)),
        "sql": sql_floor(Path(deployment(scratch / "full")["CHIBO_WAREHOUSE"]), scratch / "floor-csv"),
    }
    detailed = sorted(name for name in load.small if name.startswith("2023_"))[0]
    validate = validate_times(load.folder / detailed, scratch / "validate")
    portal = portal_times(load.folder / detailed, deployment(scratch / "full"), scratch / "portal.log")
    print(portal, flush=True)
    text = report(profile, args, nights, floors, validate, portal)
    print(text)
    (BENCH_DIR / f"{profile.name}-{date.today().isoformat()}.md").write_text(text, encoding="utf-8")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
