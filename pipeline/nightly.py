"""The nightly consolidation's steps as plain functions; the Airflow DAG only wires them.

Each step holds chibo's lock on the warehouse for its whole length (``warehouse/lock.py``), so two nights, or a
night and ``chibo history``, never meet inside the DuckDB file: the other one waits. Steps exchange small
JSON-able values (submission ids, counts), never data frames.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING

from chibo.config import Settings, vietnam_today
from chibo.deployment import create_night_folders, require_ready
from chibo.errors import PermanentError
from ingestion.intake import FINGERPRINTS_FILE, INTAKE_FAILED, STAGED_FOLDER, discover, ingest_inbox
from warehouse.admin_dimension import write_admin_reference
from warehouse.expected import refresh_expected
from warehouse.lock import warehouse_lock
from warehouse.raw import RAW_SCHEMA, connect

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # GX is imported only by the tasks that validate
    from expectations.runner import NightSuites


def prepare_night(settings: Settings) -> list[str]:
    """The night's first step: the deployment is ready (``NotReady`` / ``ForeignWarehouse`` otherwise: the night
    never creates an inbox or a warehouse); creates the night's own missing working folders, returned."""
    require_ready(settings)
    return [str(path) for path in create_night_folders(settings)]


def tally(statuses: Iterable[str]) -> dict[str, int]:
    """How many of each status (``new``, ``duplicate``..., ``accepted``, ``rejected``...): what a task hands on."""
    return dict(sorted(Counter(statuses).items()))


def discover_submissions(settings: Settings) -> list[str]:
    return [path.name for path in discover(settings.inbox)]


def sync_approvals(settings: Settings) -> int:
    """Record the portal's current approvals and locks in the warehouse (``warehouse.approvals.record_decisions``,
    under chibo's lock on it), so tonight's views and marts see the staff's latest decisions; returns how many
    decisions and locks were recorded. Whatever the portal's store raises fails the night: without the current
    locks, a version received after a lock could count unapproved."""
    from portal.store import current_decisions
    from warehouse.approvals import record_decisions

    decisions, locks = current_decisions(settings)
    with connect(settings.warehouse, holder="sync approvals", wait_seconds=settings.lock_wait_seconds) as connection:
        record_decisions(connection, decisions, locks)
    log.info("recorded %d approval decisions and %d province locks from the portal", len(decisions), len(locks))
    return len(decisions) + len(locks)


def ingest(settings: Settings, run_id: str, today: date | None = None) -> list[dict[str, str]]:
    """Record the portal's approvals and locks (``sync_approvals``, first: every view and mart of the night sees
    them), take in the inbox, and refresh which committees are expected to report (for completeness)."""
    today = today or vietnam_today()
    sync_approvals(settings)
    with connect(settings.warehouse, holder=f"ingest run_id {run_id}", wait_seconds=settings.lock_wait_seconds) as c:
        results = ingest_inbox(
            c,
            settings,
            run_id,
            staged=settings.work_dir / STAGED_FOLDER,
            fingerprints=settings.work_dir / FINGERPRINTS_FILE,
        )
        refresh_expected(c, settings, today)
        write_admin_reference(c)
    for result in results:
        log.info("intake %s: %s %s", result.file_name, result.status, result.message)
    return [asdict(result) for result in results]


def validate(
    settings: Settings, run_id: str, today: date | None = None, suites: NightSuites | None = None
) -> dict[str, str]:
    """Validate every pending submission; ``today`` (default: today in Vietnam) judges report years and dates.
    ``suites``: a GX context whose suites are already declared, kept by a long-running process (the portal's
    checker), in which case no Data Docs are built."""
    from expectations.validate import validate_pending

    what = f"validate run_id {run_id}"
    with warehouse_lock(settings.warehouse, what, settings.lock_wait_seconds):  # the views and the batch, as one
        build_views(settings, what)
        with connect(settings.warehouse, holder=what) as connection:
            outcomes = validate_pending(connection, run_id, settings=settings, today=today, suites=suites)
    return {outcome.submission_id: outcome.outcome for outcome in outcomes}


def build_views(settings: Settings, holder: str = "build_views") -> None:
    """Create or refresh the warehouse's views that validation reads (which submission counts, a submission's
    figures): ``dbt run`` of those views only, no test, so a failing mart test never holds back validation.
    Skipped when nothing they depend on has changed since they were last built (``pipeline.dbt_state``): views
    read tonight's rows as they are, so a night only pays dbt's start-up here when the project or the contract
    changed."""
    from pipeline.dbt_runner import dbt_build
    from pipeline.dbt_state import VIEWS, record, recorded, views_fingerprint
    from warehouse import views
    from warehouse.raw import ensure_schema

    with warehouse_lock(settings.warehouse, holder, settings.lock_wait_seconds):
        with connect(settings.warehouse, holder=holder) as connection:
            ensure_schema(connection)  # the reference tables the views read exist even on a new warehouse
            # the fingerprint holds the views' SQL: a view dropped or replaced since is a different fingerprint
            if recorded(connection, VIEWS) == views_fingerprint(connection):
                log.info("the warehouse views are up to date: not rebuilt")
                return
        dbt_build(settings.warehouse, settings.work_dir, select=list(views.DBT_SELECTION), command="run", holder=holder)
        with connect(settings.warehouse, holder=holder) as connection:
            record(connection, VIEWS, views_fingerprint(connection))


def build_marts(settings: Settings, run_id: str = "") -> dict[str, int]:
    """``dbt build``: the incremental marts take in what changed tonight; they are rebuilt whole when the rules
    they were computed with changed (``pipeline.dbt_state.marts_fingerprint``), so a changed model or contract
    never leaves rows computed by the old rules."""
    from pipeline.dbt_runner import dbt_build
    from pipeline.dbt_state import MARTS, VIEWS, marts_fingerprint, record, recorded, views_fingerprint

    holder = f"dbt build run_id {run_id}".strip()
    with warehouse_lock(settings.warehouse, holder, settings.lock_wait_seconds):
        with connect(settings.warehouse, holder=holder) as connection:
            built_with = marts_fingerprint(connection)  # dbt build changes neither the project nor the references
            full_refresh = recorded(connection, MARTS) != built_with
        if full_refresh:
            log.info("the dbt project or the reference tables changed since the marts were built: full refresh")
        summary = dbt_build(settings.warehouse, settings.work_dir, holder=holder, full_refresh=full_refresh)
        with connect(settings.warehouse, holder=holder) as connection:
            record(connection, MARTS, built_with)
            record(connection, VIEWS, views_fingerprint(connection))  # dbt build built the views too
    return asdict(summary)


# ------------------------------------------------------------------ how the night ends


@dataclass(frozen=True)
class NotTakenIn:
    """A file of tonight that did not go through: intake failed on it, or its report is held."""

    file_name: str
    submission_id: str
    why: str  # "intake failed" | "held"
    reason: str  # the technical detail, for the operators


NOT_TAKEN_IN_SQL = f"""
WITH tonight AS (
    SELECT submission_id, 'intake failed' AS why, read_notes AS reason
    FROM {RAW_SCHEMA}.submissions
    WHERE run_id = $run_id AND report_kind = $intake_failed
    UNION ALL
    SELECT o.submission_id, 'held' AS why,
           (SELECT string_agg(DISTINCT f.rule_id || ': ' || coalesce(f.detail, f.message), '; ')
            FROM {RAW_SCHEMA}.validation_failures f
            WHERE f.submission_id = o.submission_id AND f.run_id = o.run_id AND f.detail IS NOT NULL) AS reason
    FROM {RAW_SCHEMA}.submission_outcomes o
    WHERE o.run_id = $run_id AND o.outcome = $held
)
SELECT coalesce(s.file_name, t.submission_id), t.submission_id,
       string_agg(DISTINCT t.why, ', ' ORDER BY t.why), string_agg(DISTINCT t.reason, '; ')
FROM tonight t
LEFT JOIN (SELECT DISTINCT submission_id, file_name FROM {RAW_SCHEMA}.submissions) s USING (submission_id)
GROUP BY ALL
ORDER BY 1, 2
"""


def not_taken_in(settings: Settings, run_id: str) -> list[NotTakenIn]:
    """Tonight's files that did not go through: registered by this run as ``intake_failed``, or held by this
    run's validation (a check could not run, or intake had failed on it)."""
    from expectations.validate import HELD

    with connect(settings.warehouse, read_only=True, holder=f"conclude run_id {run_id}") as connection:
        rows = connection.execute(
            NOT_TAKEN_IN_SQL, {"run_id": run_id, "intake_failed": INTAKE_FAILED, "held": HELD}
        ).fetchall()
    return [
        NotTakenIn(str(name), str(sid), str(why), str(reason or "no detail recorded"))
        for name, sid, why, reason in rows
    ]


def not_taken_in_message(run_id: str, files: list[NotTakenIn]) -> str:
    listed = "\n".join(f"- {f.file_name} ({f.submission_id}): {f.why}: {f.reason}" for f in files)
    return (
        f"The night {run_id} ran to the end, but {len(files)} file(s) did not go through; the night is marked "
        "failed so that this is not taken for success. Tonight's digests were sent (held reports are in the "
        f"operators' digest) and the marts leave these files out.\n{listed}\n"
        "Fix the cause (docs/operations.md: held reports, quarantine); a report held because a check could not run "
        "is validated again on the next night."
    )


def conclude(settings: Settings, run_id: str) -> int:
    """The night's last step: raises ``PermanentError`` naming each file when tonight had a file not taken in or a
    report held, so that such a night never ends as a success. Returns how many submissions tonight decided on."""
    files = not_taken_in(settings, run_id)
    if files:
        raise PermanentError(not_taken_in_message(run_id, files))
    with connect(settings.warehouse, read_only=True, holder=f"conclude run_id {run_id}") as connection:
        [(decided,)] = connection.execute(
            f"SELECT count(*) FROM {RAW_SCHEMA}.submission_outcomes WHERE run_id = ?", [run_id]
        ).fetchall()
    return int(decided)
