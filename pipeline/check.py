"""Check one report file with the night's own code: ``chibo validate FILE [--warehouse PATH]``.

The file goes through the night's steps in a scratch folder: a scratch warehouse (a copy of the given warehouse,
where the committee's history lives, or of an empty one kept with its views in the work folder's
``check-template``), scratch inbox, archive, quarantine and work folders, and otherwise the same settings
(severities per province, intake limits). It is taken in by ``pipeline.nightly.ingest`` and validated by
``pipeline.nightly.validate``; the outcome and findings are read back from what the night recorded. Nothing
outside the scratch folder and ``check-template`` is written: the given warehouse is only copied.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from chibo.config import Settings
from expectations.runner import Finding
from expectations.validate import Outcome, intake_failed_finding
from warehouse import views
from warehouse.lock import warehouse_lock
from warehouse.raw import RAW_SCHEMA, connect

if TYPE_CHECKING:  # GX is imported only when a check validates
    from expectations.runner import NightSuites

FINDINGS_SQL = f"""
SELECT rule_id, severity, sheet, sheet_row, field, value, message, fix, docs_url, detail
FROM {RAW_SCHEMA}.validation_failures
WHERE submission_id = ? AND run_id = ?
ORDER BY sheet, coalesce(sheet_row, 0), rule_id
"""


def scratch_settings(settings: Settings, folder: Path) -> Settings:
    """The same configuration, with every path in ``folder`` (no settle probe: the file is at rest)."""
    return replace(
        settings,
        inbox=folder / "inbox",
        archive=folder / "archive",
        quarantine=folder / "quarantine",
        data_docs=folder / "data_docs",
        warehouse=folder / "warehouse.duckdb",
        work_dir=folder / "work",
        publish=folder / "publish",
        settle_probe_seconds=0.0,
    )


def copy_warehouse(source: Path, target: Path) -> None:
    """Copy a DuckDB file (and its write-ahead log, if any) so that the original is never written."""
    if not source.is_file():
        raise FileNotFoundError(f"no warehouse at {source}")
    with warehouse_lock(source, "chibo validate: copying the warehouse"):  # never a copy torn by a night's writes
        shutil.copyfile(source, target)
        wal = source.with_name(source.name + ".wal")
        if wal.is_file():
            shutil.copyfile(wal, target.with_name(target.name + ".wal"))


def place(path: Path, inbox: Path) -> None:
    """Put a submission in the scratch inbox as it would sit in the real one (a link stays a link)."""
    target = inbox / path.name
    if target.exists() or target.is_symlink():
        raise ValueError(f"two submissions named {path.name}")
    if path.is_dir() and not path.is_symlink():
        shutil.copytree(path, target, symlinks=True)
    else:
        shutil.copy2(path, target, follow_symlinks=False)


def recorded_outcome(settings: Settings, submission_id: str) -> Outcome | None:
    """The latest decision on a submission and its findings, as the night recorded them."""
    with connect(settings.warehouse, read_only=True) as connection:
        latest = connection.execute(
            f"SELECT outcome, run_id FROM {views.LATEST_OUTCOMES} WHERE submission_id = ?", [submission_id]
        ).fetchall()
        if not latest:
            return None
        [(outcome, run_id)] = latest
        rows = connection.execute(FINDINGS_SQL, [submission_id, run_id]).fetchall()
    findings = tuple(
        Finding(
            submission_id=submission_id,
            rule_id=rule_id,
            severity=severity or "error",
            sheet=sheet,
            sheet_row=sheet_row,
            field=field,
            value=value,
            message=message,
            fix=fix,
            docs_url=None,  # the scratch Data Docs are deleted with the scratch folder
            errored=detail is not None,
            detail=detail,
        )
        for rule_id, severity, sheet, sheet_row, field, value, message, fix, _docs, detail in rows
    )
    return Outcome(submission_id, outcome, findings)


TEMPLATE_FOLDER = "check-template"  # in the work folder: an empty warehouse with its views, copied by each check


def empty_warehouse_with_views(settings: Settings) -> Path | None:
    """An empty warehouse whose views are built and current, kept in the work folder and refreshed when its views'
    fingerprint changed (``build_views`` is a no-op otherwise): a check without a warehouse copies it instead of
    paying dbt's start-up. ``None`` when the work folder cannot hold it (the check then builds its own views)."""
    from pipeline import nightly

    folder = settings.work_dir / TEMPLATE_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    template = scratch_settings(settings, folder)
    nightly.build_views(template, "chibo validate: the empty warehouse's views")
    return template.warehouse


@dataclass(frozen=True)
class Identity:
    """Who a checked report says it is from, as intake registered it (raw.submissions)."""

    committee_key: str | None
    committee_name: str | None
    province: str | None
    province_code: str | None
    report_year: int | None
    sha256: str | None


IDENTITY_SQL = f"""
SELECT committee_key, committee_name, province, province_code, report_year, sha256
FROM {RAW_SCHEMA}.submissions WHERE submission_id = ?
"""


def recorded_identity(settings: Settings, submission_id: str) -> Identity:
    if not submission_id:
        return Identity(None, None, None, None, None, None)
    with connect(settings.warehouse, read_only=True) as connection:
        rows = connection.execute(IDENTITY_SQL, [submission_id]).fetchall()
    return Identity(*rows[0]) if rows else Identity(None, None, None, None, None, None)


@dataclass(frozen=True)
class Checked:
    outcome: Outcome
    identity: Identity


def check_files_with_identity(
    paths: Sequence[Path],
    settings: Settings,
    warehouse: Path | None = None,
    today: date | None = None,
    suites: NightSuites | None = None,
) -> list[Checked]:
    """Take the files in and validate them together, as one night would, in a scratch warehouse; one
    outcome and the identity intake read, per path, in order. ``suites``: the GX context of a long-running
    checker (the portal's), whose suites stay declared from one check to the next."""
    from pipeline import nightly

    with tempfile.TemporaryDirectory(prefix="chibo-check-") as folder:
        scratch = scratch_settings(settings, Path(folder))
        scratch.inbox.mkdir()
        scratch.work_dir.mkdir()
        source = warehouse if warehouse is not None else empty_warehouse_with_views(settings)
        if source is not None:
            copy_warehouse(source, scratch.warehouse)
        for path in paths:
            place(path, scratch.inbox)
        run_id = f"check__{datetime.now(UTC):%Y-%m-%dT%H:%M:%S}"
        intake = {result["file_name"]: result for result in nightly.ingest(scratch, run_id)}
        nightly.validate(scratch, run_id, today=today, suites=suites)
        checked = []
        for path in paths:
            result = intake.get(path.name, {})
            submission_id = result.get("submission_id") or ""
            outcome = recorded_outcome(scratch, submission_id) if submission_id else None
            if outcome is None:  # not registered (intake failed before registering it, or it vanished)
                message = result.get("message") or "tệp không được tiếp nhận"
                finding = intake_failed_finding(
                    submission_id,
                    f"Hệ thống không tiếp nhận được tệp: {message}",
                    f"intake status {result.get('status', 'missing')}",
                )
                outcome = Outcome(submission_id, "held", (finding,))
            identity = recorded_identity(scratch, submission_id) if scratch.warehouse.is_file() else None
            checked.append(Checked(outcome, identity or Identity(None, None, None, None, None, None)))
        return checked


def check_files(
    paths: Sequence[Path], settings: Settings, warehouse: Path | None = None, today: date | None = None
) -> list[Outcome]:
    """Take the files in and validate them together, as one night would, in a scratch warehouse; one
    outcome per path, in order."""
    return [checked.outcome for checked in check_files_with_identity(paths, settings, warehouse, today)]


def check_file(path: Path, settings: Settings, warehouse: Path | None = None, today: date | None = None) -> Outcome:
    """The night's verdict on one file: intake and validation exactly as tonight, on a scratch warehouse
    (a copy of ``warehouse`` when given, for the checks against the committee's history)."""
    return check_files([path], settings, warehouse, today)[0]
