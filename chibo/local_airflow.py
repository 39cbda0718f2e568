"""Run the nightly DAG locally with Airflow's embedded default: SQLite metadata, ``dag.test()``.

The environment must be prepared (``prepare_environment``) before Airflow is first imported:
Airflow reads its configuration at import time. The set-up itself is ``chibo init``'s
(``airflow_setup.initialise``), so a local night and a deployment are prepared the same way.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pluggy

from chibo.airflow_setup import DUCKDB_POOL, initialise
from chibo.config import REPO_ROOT, Settings, load_settings

log = logging.getLogger(__name__)
# Airflow's listener marker (``airflow.listeners.hookimpl`` is this one), made without importing Airflow: Airflow must
# not be imported before ``prepare_environment``.
hookimpl = pluggy.HookimplMarker("airflow")

DAG_FILE = REPO_ROOT / "dags" / "nightly_consolidation.py"
__all__ = ["DAG_FILE", "DUCKDB_POOL", "StepProgress", "load_dag", "prepare_environment", "run_night"]

# What each task of the night does, said to the operator watching ``chibo run`` (the DAG's task ids).
STEP_LABELS: dict[str, str] = {
    "discover": "kiểm tra hệ thống và tìm tệp trong hộp thư",
    "ingest": "nhận và đọc các báo cáo",
    "validate": "kiểm tra số liệu từng báo cáo",
    "dbt_build": "tổng hợp số liệu bằng dbt",
    "publish": "xuất bản bản chụp cho phân tích",
    "alert": "gửi thư tổng hợp cho các tỉnh",
    "conclude": "kết thúc lần tổng hợp",
}


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


def seconds_vi(seconds: float) -> str:
    """Elapsed time as Vietnamese readers write it: 12,3 giây; 2 phút 05 giây."""
    if seconds < 60:
        return f"{seconds:.1f} giây".replace(".", ",")
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} phút {rest:02d} giây"


class StepProgress:
    """An Airflow listener that says each task of the night as it starts and as it ends, with its elapsed time.

    Airflow's task runner calls these hooks in the process that runs the task: with ``dag.test()``, this one.
    """

    def __init__(self, task_ids: list[str], say: Callable[[str], None], clock: Callable[[], float] = time.monotonic):
        self.task_ids = task_ids
        self.say = say
        self.clock = clock
        self.started: dict[str, float] = {}
        self.numbers: dict[str, int] = {}  # the steps numbered in the order they start

    def step(self, task_id: str) -> str:
        number = self.numbers.setdefault(task_id, len(self.numbers) + 1)
        label = STEP_LABELS.get(task_id)
        return f"[{number}/{len(self.task_ids)}] {task_id}" + (f" ({label})" if label else "")

    def ended(self, task_instance: Any, verdict: str) -> None:
        task_id = str(task_instance.task_id)
        elapsed = self.clock() - self.started.pop(task_id, self.clock())
        self.say(f"{self.step(task_id)}: {verdict} sau {seconds_vi(elapsed)}")

    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        task_id = str(task_instance.task_id)
        self.started[task_id] = self.clock()
        self.say(f"{self.step(task_id)}: bắt đầu")

    @hookimpl
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        self.ended(task_instance, "xong")

    @hookimpl
    def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
        self.ended(task_instance, "THẤT BẠI" + (f" ({error})" if error else ""))

    @hookimpl
    def on_task_instance_skipped(self, previous_state: Any, task_instance: Any) -> None:
        self.ended(task_instance, "bỏ qua")


@contextmanager
def listening(listener: object) -> Iterator[None]:
    """``listener`` registered with the task runner's listener manager for the duration of the block."""
    from airflow.sdk.listener import get_listener_manager

    manager = get_listener_manager()
    manager.add_listener(listener)
    try:
        yield
    finally:
        manager.pm.unregister(listener)


def run_night(
    airflow_home: Path, settings: Settings | None = None, progress: Callable[[str], None] | None = None
) -> str:
    """``chibo init``'s set-up (no API server, so no admin password), then one DAG run with ``dag.test()``;
    returns its state. ``progress``, when given, is told each task as it starts and ends (``StepProgress``)."""
    environ = prepare_environment(airflow_home)
    initialise(settings or load_settings(), environ, api_server=False)
    dag = load_dag()
    if progress is None:
        dag_run = dag.test()
    else:
        with listening(StepProgress([t.task_id for t in dag.topological_sort()], progress)):
            dag_run = dag.test()
    state = str(getattr(dag_run, "state", "unknown"))
    log.info("nightly_consolidation finished: %s", state)
    return state
