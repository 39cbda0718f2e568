"""The deployment's checks (``chibo.deployment``): ``prepare`` (``chibo init``) lists every problem and creates
nothing when a path cannot be right, else creates what is missing, once; the night's first step refuses a
deployment that is not ready and never creates an inbox or a warehouse itself."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from chibo.config import Settings
from chibo.deployment import NIGHT_FOLDERS, prepare, problems, require_ready
from chibo.errors import ForeignWarehouse, NotReady
from pipeline import nightly
from pipeline.check import scratch_settings
from warehouse.raw import connect, warehouse_kind


def fresh(settings: Settings, folder: Path) -> Settings:
    """The same settings with every path under ``folder``, nothing created yet."""
    return scratch_settings(settings, folder)


def test_prepare_creates_everything_once(settings: Settings, tmp_path: Path):
    new = fresh(settings, tmp_path / "site")
    (tmp_path / "site").mkdir()
    assert problems(new) == []
    created = prepare(new)
    assert len(created) == 7 and f"warehouse: {new.warehouse}" in created
    assert all(getattr(new, key).is_dir() for key in (*NIGHT_FOLDERS, "inbox"))
    with connect(new.warehouse, read_only=True) as connection:
        assert warehouse_kind(connection) == "chibo"
    assert prepare(new) == []  # idempotent
    require_ready(new)


def test_prepare_lists_every_problem_and_creates_nothing(settings: Settings, tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    new = replace(
        fresh(settings, site),
        warehouse=tmp_path / "no such folder" / "warehouse.duckdb",
        archive=tmp_path / "elsewhere" / "archive",
    )
    (site / "inbox").write_text("not a folder", encoding="utf-8")
    found = problems(new)
    assert len(found) == 3
    with pytest.raises(NotReady) as raised:
        prepare(new)
    message = str(raised.value)
    assert all(problem in message for problem in found)
    assert f"the folder {tmp_path / 'no such folder'} does not exist" in message
    assert "`paths.archive`" in message and "`paths.inbox`" in message and "which is a file" in message
    assert sorted(path.name for path in site.iterdir()) == ["inbox"]  # nothing created


def test_the_night_refuses_a_deployment_without_inbox_or_warehouse_and_creates_neither(
    settings: Settings, tmp_path: Path
):
    new = fresh(settings, tmp_path / "site")
    (tmp_path / "site").mkdir()
    with pytest.raises(NotReady) as raised:
        nightly.prepare_night(new)
    message = str(raised.value)
    assert f"There is no inbox at {new.inbox}" in message and f"There is no warehouse at {new.warehouse}" in message
    assert "chibo init" in message
    assert not new.inbox.exists() and not new.warehouse.exists()


def test_the_night_creates_its_own_working_folders_but_not_their_parents(settings: Settings, tmp_path: Path):
    for key in NIGHT_FOLDERS:
        getattr(settings, key).rmdir()
    assert sorted(nightly.prepare_night(settings)) == sorted(str(getattr(settings, key)) for key in NIGHT_FOLDERS)
    moved = replace(settings, archive=tmp_path / "gone" / "archive")
    with pytest.raises(NotReady, match="gone"):
        nightly.prepare_night(moved)
    assert not (tmp_path / "gone").exists()


def test_a_folder_at_the_warehouse_path_is_foreign(settings: Settings, tmp_path: Path):
    folder = tmp_path / "a folder.duckdb"
    folder.mkdir()
    with pytest.raises(ForeignWarehouse, match="is a folder"):
        require_ready(replace(settings, warehouse=folder))
