"""Run the nightly DAG locally with Airflow's embedded default: SQLite metadata, ``dag.test()``.

The environment must be prepared (``prepare_environment``) before Airflow is first imported:
Airflow reads its configuration at import time. The set-up itself is ``chibo init``'s
(``airflow_setup.initialise``), so a local night and a deployment are prepared the same way.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from chibo.airflow_setup import DUCKDB_POOL, initialise
from chibo.config import REPO_ROOT, Settings, load_settings

log = logging.getLogger(__name__)

DAG_FILE = REPO_ROOT / "dags" / "nightly_consolidation.py"
__all__ = ["DAG_FILE", "DUCKDB_POOL", "load_dag", "prepare_environment", "run_night"]


def prepare_environment(airflow_home: Path, environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Airflow's settings for a local run, written into ``environ`` (default: this process's environment)."""
    environ = os.environ if environ is None else environ
    airflow_home.mkdir(parents=True, exist_ok=True)
    environ["AIRFLOW_HOME"] = str(airflow_home)
    environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAG_FILE.parent))
    environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
    environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    return dict(environ)


def load_dag() -> Any:
    spec = importlib.util.spec_from_file_location("nightly_consolidation", DAG_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.nightly_dag


def run_night(airflow_home: Path, settings: Settings | None = None) -> str:
    """``chibo init``'s set-up (no API server, so no admin password), then one DAG run with ``dag.test()``;
    returns its state."""
    environ = prepare_environment(airflow_home)
    initialise(settings or load_settings(), environ, api_server=False)
    dag = load_dag()
    dag_run = dag.test()
    state = str(getattr(dag_run, "state", "unknown"))
    log.info("nightly_consolidation finished: %s", state)
    return state
