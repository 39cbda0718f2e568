"""The DAG file: thin, cheap to import, scheduled as the issue says, writers in the one-slot pool."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys

from chibo.local_airflow import DAG_FILE, DUCKDB_POOL, load_dag

HEAVY_MODULES = ("great_expectations", "dbt", "duckdb", "pandas", "python_calamine")


def test_parsing_the_dag_file_imports_no_heavy_library():
    code = (
        "import runpy, sys; runpy.run_path(sys.argv[1]); "
        f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code, str(DAG_FILE)], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


def test_schedule_and_task_order():
    dag = load_dag()
    assert dag.dag_id == "nightly_consolidation"
    assert dag.catchup is False
    assert str(dag.timezone.name) == "Asia/Ho_Chi_Minh"
    assert dag.timetable.expression == "0 2 * * *"
    assert str(dag.timetable.timezone.name) == "Asia/Ho_Chi_Minh"
    order = [t.task_id for t in dag.topological_sort()]
    assert order[:4] == ["discover", "ingest", "validate", "dbt_build"]
    assert set(order[4:]) == {"publish", "alert", "conclude"}  # publish and alert after dbt build, in any order
    assert {t.task_id for t in dag.get_task("dbt_build").downstream_list} == {"publish", "alert"}
    assert dag.get_task("publish").trigger_rule == "all_success"  # only good marts are published
    conclude = dag.get_task("conclude")  # after the alert has gone out: fails a night that left a file behind
    assert conclude.upstream_task_ids == {"alert"} and conclude.trigger_rule == "all_success"


def test_the_alert_runs_after_validation_whatever_dbt_build_did():
    """A failing mart test does not hold back the night's rejection notices; a failed validation does."""
    alert = load_dag().get_task("alert")
    assert alert.upstream_task_ids == {"validate", "dbt_build"}
    assert alert.trigger_rule == "all_done_min_one_success"


def test_tasks_take_no_arguments_they_do_not_use():
    """The steps hand each other nothing but the warehouse: no task takes an argument, order is ``>>``."""
    for task in load_dag().tasks:
        assert inspect.signature(task.python_callable).parameters == {}, task.task_id


def test_the_dag_file_imports_only_pendulum_and_the_airflow_sdk_at_module_level():
    tree = ast.parse(DAG_FILE.read_text(encoding="utf-8"))
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert imported <= {"__future__", "logging", "pendulum", "airflow.sdk"}


def test_every_task_touching_the_warehouse_is_in_the_one_slot_pool():
    dag = load_dag()
    pools = {t.task_id: t.pool for t in dag.tasks}
    assert {task for task, pool in pools.items() if pool == DUCKDB_POOL} == {
        "discover",  # it checks that the warehouse is chibo's
        "ingest",
        "validate",
        "dbt_build",
        "publish",
        "alert",
        "conclude",
    }
