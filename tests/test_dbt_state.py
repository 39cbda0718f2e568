"""The views validation reads are rebuilt only when what they depend on changed (pipeline/dbt_state.py): a night
whose project, contract and views are as they were skips dbt's start-up; a view dropped or replaced is noticed, and
the fingerprint travels with a copy of the warehouse. Real dbt runs on a real warehouse."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from chibo.config import Settings
from pipeline import dbt_runner, nightly
from pipeline.dbt_state import MARTS, STATE_TABLE, VIEWS, marts_fingerprint, recorded, views_fingerprint
from warehouse import views
from warehouse.raw import connect


@pytest.fixture
def dbt_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The real dbt_build, with each call's command noted."""
    real = dbt_runner.dbt_build
    calls: list[str] = []

    def counted(*args, **kwargs):
        calls.append(kwargs.get("command", "build") + (" --full-refresh" if kwargs.get("full_refresh") else ""))
        return real(*args, **kwargs)

    monkeypatch.setattr(dbt_runner, "dbt_build", counted)
    return calls


def test_views_are_built_once_and_rebuilt_when_something_they_read_changes(
    settings: Settings, dbt_runs: list[str], tmp_path: Path
):
    nightly.build_views(settings)
    nightly.build_views(settings)
    assert dbt_runs == ["run"]  # the second night found them up to date

    with connect(settings.warehouse) as connection:
        assert recorded(connection, VIEWS) == views_fingerprint(connection)
        connection.execute(f"drop view {views.COUNTED}")
    nightly.build_views(settings)
    assert dbt_runs == ["run", "run"]  # a view missing: rebuilt
    with connect(settings.warehouse, read_only=True) as connection:
        views.require_views(connection)

    with connect(settings.warehouse) as connection:  # a view replaced by other means (an old backup's, by hand)
        connection.execute(f"create or replace view {views.COUNTED} as select 1 as submission_id")
    nightly.build_views(settings)
    assert dbt_runs == ["run", "run", "run"]
    with connect(settings.warehouse, read_only=True) as connection:
        assert "committee_key" in {row[0] for row in connection.execute(f"describe {views.COUNTED}").fetchall()}

    copied = replace(settings, warehouse=tmp_path / "copy.duckdb", work_dir=tmp_path / "work")
    shutil.copyfile(settings.warehouse, copied.warehouse)
    nightly.build_views(copied)
    assert dbt_runs == ["run", "run", "run"]  # the fingerprint travels with the file: a copy needs no dbt


def test_the_marts_are_rebuilt_whole_when_the_rules_they_were_computed_with_change(
    settings: Settings, dbt_runs: list[str]
):
    nightly.build_marts(settings, "night-1")  # nothing recorded yet: built whole
    nightly.build_marts(settings, "night-2")  # same project, same reference tables: incremental
    with connect(settings.warehouse) as connection:  # as after a change of a model or of the contract
        connection.execute(f"update {STATE_TABLE} set fingerprint = 'computed by older rules' where what = '{MARTS}'")
    nightly.build_marts(settings, "night-3")
    assert dbt_runs == ["build --full-refresh", "build", "build --full-refresh"]
    with connect(settings.warehouse, read_only=True) as connection:
        assert recorded(connection, MARTS) == marts_fingerprint(connection)
