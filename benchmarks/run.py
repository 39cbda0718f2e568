"""`make bench`: time each layer of the night on a synthetic inbox and print a Markdown table.

Figures go into docs/benchmarks.md by hand, with the machine they were measured on. Nothing here
asserts a speed.
"""

from __future__ import annotations

import copy
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from chibo.config import load_settings
from chibo.local_airflow import DAG_FILE
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023

REPORTS = 40  # 40 district reports ≈ 18,000 detail rows: a large province's night


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def python_seconds(code: str, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def write_inbox(inbox: Path) -> int:
    template = muong_khuong_2023()
    rows = 0
    for number in range(REPORTS):
        report = copy.deepcopy(template)
        report["thong_tin"]["committee_name"] = f"Đảng bộ huyện Thử Nghiệm {number:02d}"
        write_xlsx(inbox / f"bao_cao_{number:02d}.xlsx", report)
        rows += sum(len(v) for v in report.values() if isinstance(v, list))
    return rows


def main() -> int:
    from expectations.validate import validate_pending
    from ingestion.intake import ingest_inbox
    from pipeline.dbt_runner import dbt_build
    from pipeline.nightly import build_views
    from reading.reader import read_report
    from warehouse.raw import connect

    work = Path(tempfile.mkdtemp(prefix="chibo-bench-"))
    settings = replace(
        load_settings(),
        inbox=work / "inbox",
        archive=work / "archive",
        quarantine=work / "quarantine",
        warehouse=work / "warehouse.duckdb",
        work_dir=work,
        settle_probe_seconds=0,
    )
    inbox, warehouse = settings.inbox, settings.warehouse
    inbox.mkdir()
    rows = write_inbox(inbox)
    one_file = sorted(inbox.iterdir())[0]
    figures: list[tuple[str, float]] = []
    figures.append(
        (
            f"read one report (.xlsx, {rows // REPORTS} table rows) with python-calamine",
            timed(lambda: read_report(one_file)),
        )
    )
    with connect(warehouse) as connection:
        figures.append(
            (
                f"intake: hash, archive, read, load {REPORTS} reports ({rows:,} rows)",
                timed(lambda: ingest_inbox(connection, settings, "bench")),
            )
        )
    views = "build the warehouse views validation reads (dbt run"
    figures.append((f"{views}, first call in the process)", timed(lambda: build_views(settings))))
    figures.append((f"{views}, warm)", timed(lambda: build_views(settings))))
    with connect(warehouse) as connection:
        import great_expectations  # noqa: F401 - import cost measured separately below

        figures.append(
            (
                f"GX validation of the whole batch ({REPORTS} reports, one run)",
                timed(lambda: validate_pending(connection, "bench")),
            )
        )
    figures.append(("dbt build (in process, first call in the process)", timed(lambda: dbt_build(warehouse, work))))
    figures.append(("dbt build (in process, warm)", timed(lambda: dbt_build(warehouse, work))))
    baseline = python_seconds("import airflow.sdk, pendulum")
    with_dag = python_seconds(f"import runpy; runpy.run_path({str(DAG_FILE)!r})")
    figures.append(("parse the DAG file, beyond importing airflow.sdk itself", with_dag - baseline))
    figures.append(("import airflow.sdk (baseline, any DAG pays it)", baseline))
    figures.append(
        (
            "import great_expectations (paid inside the validate task only)",
            python_seconds("import great_expectations", repeat=1),
        )
    )
    print("| step | seconds |\n|---|---|")
    for label, seconds in figures:
        print(f"| {label} | {seconds:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
