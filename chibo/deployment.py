"""Is this deployment ready for a night? The configured folders and the warehouse, checked and prepared.

``chibo init`` calls ``prepare``: it refuses, listing every problem, when a configured path cannot be right (its
folder does not exist, a folder is a file, the warehouse is not chibo's); otherwise it creates what is missing.
The night's first task calls ``require_ready``: the night never creates an inbox or a warehouse itself (a typo in
a path would otherwise start an empty warehouse and report every committee as missing); it only creates its own
working folders (archive, quarantine, work, Data Docs, publish) when their parent exists (``create_night_folders``).
No Airflow here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chibo.config import Settings
from chibo.errors import ChiboError, ForeignWarehouse, NotReady

FOLDERS = ("inbox", "archive", "quarantine", "data_docs", "work_dir", "publish")  # paths that are folders
NIGHT_FOLDERS = ("archive", "quarantine", "data_docs", "work_dir", "publish")  # the night may create these
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


@dataclass(frozen=True)
class Problem:
    text: str
    foreign: bool = False  # the warehouse path holds something that is not chibo's


def _configured(settings: Settings) -> dict[str, Path]:
    return {key: getattr(settings, key) for key in (*FOLDERS, "warehouse")}


def _path_problems(settings: Settings) -> list[Problem]:
    found = []
    for key, path in _configured(settings).items():
        if not path.parent.is_dir():
            found.append(Problem(f"`paths.{key}` is {path}, but the folder {path.parent} does not exist."))
        elif key in FOLDERS and path.exists() and not path.is_dir():
            found.append(Problem(f"`paths.{key}` is {path}, which is a file, not a folder."))
    return found


def warehouse_problem(warehouse: Path) -> Problem | None:
    """Why the file at ``warehouse`` is not chibo's warehouse, or None (also when there is no file yet)."""
    from warehouse.raw import connect, require_chibo_warehouse

    if not warehouse.exists():
        return None
    if not warehouse.is_file():
        return Problem(f"`paths.warehouse` is {warehouse}, which is a folder, not a DuckDB file.", foreign=True)
    with warehouse.open("rb") as file:
        if file.read(12)[8:12] != DUCKDB_MAGIC:
            return Problem(
                f"`paths.warehouse` is {warehouse}, which is not a DuckDB database: chibo leaves it untouched.",
                foreign=True,
            )
    try:
        with connect(warehouse, read_only=True, holder="checking the deployment") as connection:
            require_chibo_warehouse(connection)
    except ForeignWarehouse as error:
        return Problem(str(error), foreign=True)
    return None


def _all_problems(settings: Settings) -> list[Problem]:
    found = _path_problems(settings)
    if settings.warehouse.parent.is_dir():
        problem = warehouse_problem(settings.warehouse)
        if problem is not None:
            found.append(problem)
    return found


def problems(settings: Settings) -> list[str]:
    """Everything that makes the configured paths wrong: a missing parent folder, a file where a folder belongs,
    a warehouse path holding something that is not chibo's warehouse. Empty when ``prepare`` may go ahead."""
    return [problem.text for problem in _all_problems(settings)]


def _refusal(found: list[Problem], ending: str) -> ChiboError:
    text = "\n".join(f"- {problem.text}" for problem in found)
    kind = ForeignWarehouse if any(problem.foreign for problem in found) else NotReady
    return kind(f"This deployment is not ready:\n{text}\n{ending}")


def prepare(settings: Settings) -> list[str]:
    """Create the configured folders and chibo's warehouse (its raw schema and mark) where they are missing; run it
    again, it creates nothing more. Refuses with every problem listed (``NotReady``, or ``ForeignWarehouse`` when
    the warehouse path holds something else), before creating anything. Returns what it created."""
    from warehouse.raw import connect, ensure_schema

    found = _all_problems(settings)
    if found:
        raise _refusal(found, "Fix chibo.yaml (`paths:`) or create the folders, then run `chibo init` again.")
    created = []
    for key in FOLDERS:
        path: Path = getattr(settings, key)
        if not path.is_dir():
            path.mkdir()
            created.append(f"{key}: {path}")
    if not settings.warehouse.exists():
        with connect(settings.warehouse, holder="chibo init") as connection:
            ensure_schema(connection)
        created.append(f"warehouse: {settings.warehouse}")
    return created


def require_ready(settings: Settings) -> None:
    """For the night's first task: ``NotReady`` when the inbox or the warehouse does not exist or a configured
    folder cannot be made, ``ForeignWarehouse`` when the warehouse is not chibo's. Creates nothing."""
    found = _all_problems(settings)
    if not settings.inbox.is_dir() and settings.inbox.parent.is_dir() and not settings.inbox.exists():
        found.append(Problem(f"There is no inbox at {settings.inbox} (`paths.inbox`)."))
    if not settings.warehouse.exists() and settings.warehouse.parent.is_dir():
        found.append(Problem(f"There is no warehouse at {settings.warehouse} (`paths.warehouse`)."))
    if found:
        raise _refusal(found, "Run `chibo init` to create what is missing (it says what it cannot fix).")


def create_night_folders(settings: Settings) -> list[Path]:
    """The night's working folders (archive, quarantine, work, Data Docs, publish) that are missing and whose
    parent exists; never the inbox nor the warehouse. Returns those created."""
    created = []
    for key in NIGHT_FOLDERS:
        path: Path = getattr(settings, key)
        if path.parent.is_dir() and not path.exists():
            path.mkdir()
            created.append(path)
    return created
