"""The portal's approval and locking decisions, as the warehouse keeps them for dbt.

Provincial staff approve an accepted report or return it with a comment, and lock a province × report year
("chốt số liệu") in the portal, which keeps those decisions in its own database. Each night
``pipeline.nightly.sync_approvals`` copies the portal's *current* state here: the latest decision on each
submission (``raw.approval_decisions``) and the province-years locked now (``raw.province_locks``; an unlock
removes the row, the portal keeps the history). Both tables are replaced whole, in one transaction, so the views
never see one without the other.

What the warehouse does with them is dbt's, defined once (``int_submissions__approval``): a submission received
after its province-year was locked counts only once approved. See docs/dbt-models.md, "Approval and locking in
the warehouse".

A lock's ``province_code`` is the province's code in the report year's era, as ``raw.submissions.province_code``
(``units.committee.province_code_of_report``). Codes were reused by the 1 July 2025 reform (15 is Yên Bái up to
the 2024 round and Lào Cai from 2025), so a code alone is ambiguous; with its report year it is not, and
``record_decisions`` refuses a code that names no province of that year's era.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import duckdb

from units.admin_units import resolve_province
from warehouse.raw import (
    RAW_SCHEMA,
    REGISTRY_TABLES,
    create_or_extend,
    ensure_schema,
    insert_rows,
    require_chibo_warehouse,
)

DECISIONS_TABLE: Final = "approval_decisions"
LOCKS_TABLE: Final = "province_locks"
APPROVED: Final = "approved"
RETURNED: Final = "returned"
DECISION_STATES: Final = (APPROVED, RETURNED)


@dataclass(frozen=True)
class ApprovalDecision:
    """The latest staff decision on one submission."""

    submission_id: str
    state: str  # 'approved' | 'returned'
    comment: str | None
    decided_by: str  # account name
    decided_at: datetime  # aware, UTC


@dataclass(frozen=True)
class ProvinceLock:
    """A province × report year currently locked."""

    province_code: str  # the same code space as the warehouse's province_code columns (the report year's era)
    report_year: int
    locked_at: datetime  # aware, UTC
    locked_by: str


def utc_naive(moment: datetime, what: str) -> datetime:
    """An aware datetime as the naive UTC the warehouse stores (as ``received_at``); a naive one is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime (UTC), got the naive {moment.isoformat()}")
    return moment.astimezone(UTC).replace(tzinfo=None)


def decision_row(decision: ApprovalDecision) -> dict[str, object]:
    if decision.state not in DECISION_STATES:
        raise ValueError(
            f"the decision on submission {decision.submission_id} is {decision.state!r}, "
            f"not one of {', '.join(DECISION_STATES)}"
        )
    return {
        "submission_id": decision.submission_id,
        "state": decision.state,
        "comment": decision.comment,
        "decided_by": decision.decided_by,
        "decided_at": utc_naive(decision.decided_at, f"the decision on submission {decision.submission_id}"),
    }


def lock_row(lock: ProvinceLock) -> dict[str, object]:
    province = resolve_province(lock.province_code, lock.report_year)
    if province is None or province.code != lock.province_code:
        raise ValueError(
            f"the lock of province {lock.province_code!r} for {lock.report_year} names no province code of that "
            "report year's era (codes are those of raw.submissions.province_code, e.g. '15' for Yên Bái up to "
            "2024 and for Lào Cai from 2025)"
        )
    return {
        "province_code": lock.province_code,
        "report_year": lock.report_year,
        "locked_at": utc_naive(lock.locked_at, f"the lock of {lock.province_code} {lock.report_year}"),
        "locked_by": lock.locked_by,
    }


def repeated(keys: Sequence[object]) -> list[object]:
    return sorted((key for key, times in Counter(keys).items() if times > 1), key=str)


def require_one_each(decisions: Sequence[ApprovalDecision], locks: Sequence[ProvinceLock]) -> None:
    """One decision per submission (the latest), one lock per province-year: anything else is the caller's bug."""
    twice = repeated([decision.submission_id for decision in decisions])
    if twice:
        raise ValueError(f"more than one decision for the submissions {twice}: give only the latest of each")
    locked_twice = repeated([(lock.province_code, lock.report_year) for lock in locks])
    if locked_twice:
        raise ValueError(f"more than one lock for the province-years {locked_twice}")


def record_decisions(
    connection: duckdb.DuckDBPyConnection, decisions: Sequence[ApprovalDecision], locks: Sequence[ProvinceLock]
) -> None:
    """Replace ``raw.approval_decisions`` and ``raw.province_locks`` with the portal's current state, in one
    transaction (the tables created first where missing; a new or legacy warehouse is marked as chibo's first by
    ``ensure_schema``, a foreign one refused with ``ForeignWarehouse``). Every value is checked before anything is
    written: ``ValueError`` for a state that is not approved/returned, a naive datetime, a province code of no
    province in the report year's era, or a submission or province-year given twice."""
    require_one_each(decisions, locks)
    decision_rows = [decision_row(decision) for decision in decisions]
    lock_rows = [lock_row(lock) for lock in locks]
    if require_chibo_warehouse(connection) != "chibo":
        ensure_schema(connection)
    connection.execute("BEGIN TRANSACTION")
    try:
        for table in (DECISIONS_TABLE, LOCKS_TABLE):
            create_or_extend(connection, table, REGISTRY_TABLES[table])
            connection.execute(f"DELETE FROM {RAW_SCHEMA}.{table}")
        insert_rows(connection, DECISIONS_TABLE, decision_rows)
        insert_rows(connection, LOCKS_TABLE, lock_rows)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
