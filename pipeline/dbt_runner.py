"""Build the marts with dbt (dbt-duckdb), in process through ``dbtRunner``.

dbt is imported inside the function (it takes seconds). After each invocation the adapter's
connections are closed so that the DuckDB file is free for the next writer.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from chibo.config import REPO_ROOT

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


class DbtBuildFailed(RuntimeError):
    """dbt build ended with an error or a failing test."""


@dataclass(frozen=True)
class BuildSummary:
    succeeded: int
    failed: int
    skipped: int


def release_duckdb() -> None:
    """Close dbt-duckdb's process-wide DuckDB instance: dbt keeps it open after ``invoke``."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def dbt_build(warehouse: Path, work_dir: Path, select: list[str] | None = None) -> BuildSummary:
    from dbt.adapters.factory import cleanup_connections, reset_adapters
    from dbt.cli.main import dbtRunner

    os.environ["CHIBO_WAREHOUSE"] = str(warehouse)
    arguments = [
        "build",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work_dir / "dbt_target"),
        "--log-path",
        str(work_dir / "dbt_logs"),
        "--quiet",
    ]
    if select:
        arguments += ["--select", *select]
    try:
        result = dbtRunner().invoke(arguments)
    finally:
        cleanup_connections()
        reset_adapters()
        release_duckdb()
    statuses = [str(r.status) for r in (result.result or [])] if result.result is not None else []
    summary = BuildSummary(
        succeeded=sum(s in {"success", "pass"} for s in statuses),
        failed=sum(s in {"error", "fail"} for s in statuses),
        skipped=sum(s == "skipped" for s in statuses),
    )
    log.info("dbt build: %s", summary)
    if not result.success:
        raise DbtBuildFailed(f"dbt build failed: {summary}; exception: {result.exception}")
    return summary
