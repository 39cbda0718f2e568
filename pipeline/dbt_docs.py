"""dbt's documentation site for the published snapshot: ``dbt docs generate --static``, in process.

The catalog is read from the warehouse, so this runs while the night holds the DuckDB slot (the
``publish`` task, right after ``dbt_build``), and dbt-duckdb's DuckDB instance is closed afterwards
like ``pipeline.dbt_runner.dbt_build`` does.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from pipeline.dbt_runner import DBT_PROJECT_DIR, invoke_dbt

log = logging.getLogger(__name__)

# What dbt writes to its target folder and what the published docs folder keeps of it.
# static_index.html has the manifest and the catalog built in: it opens from disk, no web server.
DOCS_FILES = {"static_index.html": "index.html", "manifest.json": "manifest.json", "catalog.json": "catalog.json"}


class DbtDocsFailed(RuntimeError):
    """dbt docs generate ended with an error."""


def dbt_docs(warehouse: Path, work_dir: Path, out_dir: Path) -> Path:
    """Generate dbt's docs from the warehouse into ``out_dir``: ``index.html`` (self-contained),
    ``manifest.json`` and ``catalog.json``. Returns ``out_dir``."""
    target = work_dir / "dbt_docs_target"
    arguments = [
        "docs",
        "generate",
        "--static",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(work_dir / "dbt_logs"),
        "--quiet",
    ]
    result = invoke_dbt(warehouse, arguments)
    if not result.success:
        raise DbtDocsFailed(f"dbt docs generate failed: {result.exception}")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, published in DOCS_FILES.items():
        source = target / name
        if not source.is_file():
            raise DbtDocsFailed(f"dbt docs generate wrote no {name} in {target}")
        shutil.copyfile(source, out_dir / published)
    log.info("dbt docs written to %s", out_dir)
    return out_dir
