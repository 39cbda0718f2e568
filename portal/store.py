"""The portal's own database: accounts, sessions, receipts, approvals, locks and the audit trail.

SQLAlchemy Core on the URL of ``portal.database_url`` in chibo.yaml: a SQLite file by default, PostgreSQL in a
deployment (its own database on the server that holds Airflow's metadata). The schema is created and changed
only by the numbered ``MIGRATIONS`` below, each applied once and recorded in ``schema_migrations``
(``migrate``); ``chibo serve`` and ``chibo account`` migrate before anything else, and the night reads the
decisions through ``current_decisions`` (which never migrates: a portal that was never started has none).

Approvals and locks are kept as histories, never updated in place: the current state is the latest row, and
an unlock is a row of its own. No web framework here: the night imports this module.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from chibo.config import Settings

ROLES: Final = ("submitter", "staff", "operator")
ROLE_LABELS: Final = {"submitter": "Đơn vị báo cáo", "staff": "Cán bộ Ban Tổ chức tỉnh", "operator": "Quản trị"}
APPROVAL_STATES: Final = ("approved", "returned")
SESSION_HOURS: Final = 12
RECEIPT_PREFIX: Final = "BN"

metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("full_name", sa.String(200)),
    # a submitter's committee (units.keys format) and its name; staff's province: a current (2025+) province code
    sa.Column("committee_key", sa.String(200)),
    sa.Column("committee_name", sa.String(300)),
    sa.Column("province_code", sa.String(10)),
    sa.Column("province_name", sa.String(100)),
    sa.Column("email", sa.String(300)),
    sa.Column("phone", sa.String(50)),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column(
        "token_hash", sa.String(64), primary_key=True
    ),  # sha256 of the cookie's token: a leaked table opens nothing
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.account_id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("address", sa.String(100)),
)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("attempt_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("address", sa.String(100), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("succeeded", sa.Boolean, nullable=False),
)

receipts = sa.Table(
    "receipts",
    metadata,
    sa.Column("receipt_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.account_id"), nullable=False),
    sa.Column("committee_key", sa.String(200), nullable=False),
    sa.Column("report_year", sa.Integer),
    sa.Column("file_name", sa.String(300), nullable=False),  # as uploaded
    sa.Column("inbox_name", sa.String(300)),  # as it landed in the inbox; null when it did not land (rejected)
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("submission_id", sa.String(64)),  # the night's id of the same bytes (intake's, from the check)
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("findings", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("address", sa.String(100)),
)

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("approval_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("submission_id", sa.String(64), nullable=False, index=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.account_id"), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
)

locks = sa.Table(
    "locks",
    metadata,
    sa.Column("lock_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("province_code", sa.String(10), nullable=False),  # a current (2025+) province code
    sa.Column("report_year", sa.Integer, nullable=False),
    sa.Column("locked", sa.Boolean, nullable=False),  # false: an unlock
    sa.Column("comment", sa.Text),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.account_id"), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("account_id", sa.Integer),
    sa.Column("username", sa.String(100)),
    sa.Column("action", sa.String(50), nullable=False),
    sa.Column("target", sa.String(300)),
    sa.Column("detail", sa.Text),
    sa.Column("address", sa.String(100)),
)

SCHEMA_V1: Final = (accounts, sessions, login_attempts, receipts, approvals, locks, audit)


def _create_v1(connection: Connection) -> None:
    metadata.create_all(connection, tables=list(SCHEMA_V1))


# Append only: a migration, once released, is never edited (a deployed database has recorded it as applied).
MIGRATIONS: Final[tuple[tuple[int, str, Callable[[Connection], None]], ...]] = (
    (1, "accounts, sessions, login attempts, receipts, approvals, locks, audit", _create_v1),
)


class PortalDatabaseError(RuntimeError):
    """The portal's database cannot be reached or is not migrated."""


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return sa.create_engine(url, connect_args={"timeout": 30})
    return sa.create_engine(url, pool_pre_ping=True)


def database_url(settings: Settings) -> str:
    url = settings.portal.database_url
    assert url is not None, "Settings.portal always names a database"
    return url


def engine(settings: Settings) -> Engine:
    return engine_for(database_url(settings))


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive times: every time stored here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database of ``url`` when the server does not have it yet (through the server's
    ``postgres`` database, as the same user); True when it was created. SQLite creates its file by itself."""
    address = sa.engine.make_url(url)
    if not address.drivername.startswith("postgresql") or not address.database:
        return False
    server = sa.create_engine(address.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": address.database}
            ).first()
            if exists is None:
                connection.execute(sa.text(f'CREATE DATABASE "{address.database}"'))
                return True
    finally:
        server.dispose()
    return False


def migrate(settings: Settings) -> list[int]:
    """Create the database if needed and apply the migrations not applied yet, each in its own transaction; the
    versions applied now."""
    ensure_database(database_url(settings))
    applied_now = []
    with engine(settings).begin() as connection:
        schema_migrations.create(connection, checkfirst=True)
    for version, name, step in MIGRATIONS:
        with engine(settings).begin() as connection:
            done = connection.execute(
                sa.select(schema_migrations.c.version).where(schema_migrations.c.version == version)
            ).first()
            if done is not None:
                continue
            step(connection)
            connection.execute(sa.insert(schema_migrations).values(version=version, name=name, applied_at=now()))
            applied_now.append(version)
    return applied_now


def schema_version(settings: Settings) -> int:
    """The newest migration applied; 0 for a database never migrated."""
    if not sa.inspect(engine(settings)).has_table("schema_migrations"):
        return 0
    with engine(settings).connect() as connection:
        return int(connection.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar() or 0)


@contextmanager
def transaction(settings: Settings) -> Iterator[Connection]:
    with engine(settings).begin() as connection:
        yield connection


# ------------------------------------------------------------------ accounts


@dataclass(frozen=True)
class Account:
    account_id: int
    username: str
    role: str
    full_name: str | None
    committee_key: str | None
    committee_name: str | None
    province_code: str | None
    province_name: str | None
    email: str | None
    phone: str | None
    active: bool

    @property
    def label(self) -> str:
        return self.full_name or self.username


def _account(row: Any) -> Account:  # a RowMapping
    return Account(**{name: row[name] for name in Account.__dataclass_fields__})


def account_by_name(connection: Connection, username: str) -> tuple[Account, str] | None:
    """The account and its password hash."""
    row = connection.execute(sa.select(accounts).where(accounts.c.username == username)).mappings().first()
    return (_account(row), row["password_hash"]) if row is not None else None


def account_by_id(connection: Connection, account_id: int) -> Account | None:
    row = connection.execute(sa.select(accounts).where(accounts.c.account_id == account_id)).mappings().first()
    return _account(row) if row is not None else None


def accounts_of_province(connection: Connection, province_code: str) -> list[Account]:
    rows = connection.execute(
        sa.select(accounts).where(accounts.c.province_code == province_code).order_by(accounts.c.username)
    ).mappings()
    return [_account(row) for row in rows]


def submitter_contacts(connection: Connection) -> dict[str, Account]:
    """Each committee's submitter account (the first by name): who to call about a late report."""
    rows = connection.execute(
        sa.select(accounts)
        .where(accounts.c.role == "submitter", accounts.c.active.is_(True))
        .order_by(accounts.c.username)
    ).mappings()
    contacts: dict[str, Account] = {}
    for row in rows:
        contacts.setdefault(row["committee_key"], _account(row))
    return contacts


def insert_account(connection: Connection, values: Mapping[str, Any]) -> int:
    result = connection.execute(sa.insert(accounts).values(**values, created_at=now()))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


# ------------------------------------------------------------------ sessions and login attempts


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(connection: Connection, account_id: int, address: str) -> tuple[str, str]:
    """A new session: (the cookie's token, the session's CSRF token). Only the token's digest is stored."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    moment = now()
    connection.execute(
        sa.insert(sessions).values(
            token_hash=token_digest(token),
            account_id=account_id,
            csrf_token=csrf,
            created_at=moment,
            expires_at=moment + timedelta(hours=SESSION_HOURS),
            address=address,
        )
    )
    return token, csrf


def session_for(connection: Connection, token: str) -> tuple[Account, str] | None:
    """The account of a live session and its CSRF token."""
    row = connection.execute(
        sa.select(sessions.c.account_id, sessions.c.csrf_token, sessions.c.expires_at).where(
            sessions.c.token_hash == token_digest(token)
        )
    ).first()
    if row is None or aware(row.expires_at) <= now():
        return None
    account = account_by_id(connection, row.account_id)
    if account is None or not account.active:
        return None
    return account, row.csrf_token


def close_session(connection: Connection, token: str) -> None:
    connection.execute(sa.delete(sessions).where(sessions.c.token_hash == token_digest(token)))


def record_attempt(connection: Connection, username: str, address: str, succeeded: bool) -> None:
    connection.execute(
        sa.insert(login_attempts).values(username=username, address=address, at=now(), succeeded=succeeded)
    )


def recent_failures(connection: Connection, username: str, address: str, seconds: int = 60) -> int:
    """Failed logins in the last minute for this account name or from this address, whichever is more."""
    since = now() - timedelta(seconds=seconds)
    failed = sa.and_(login_attempts.c.succeeded.is_(False), login_attempts.c.at >= since)
    by_name = connection.execute(
        sa.select(sa.func.count()).where(failed, login_attempts.c.username == username)
    ).scalar_one()
    by_address = connection.execute(
        sa.select(sa.func.count()).where(failed, login_attempts.c.address == address)
    ).scalar_one()
    return max(int(by_name), int(by_address))


# ------------------------------------------------------------------ audit


def record_audit(
    connection: Connection, account: Account | None, action: str, target: str | None, detail: str | None, address: str
) -> None:
    connection.execute(
        sa.insert(audit).values(
            at=now(),
            account_id=account.account_id if account else None,
            username=account.username if account else None,
            action=action,
            target=target,
            detail=detail,
            address=address,
        )
    )


def audit_trail(connection: Connection, limit: int = 200, province_code: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(audit).order_by(audit.c.audit_id.desc()).limit(limit)
    if province_code is not None:
        query = query.where(
            audit.c.account_id.in_(sa.select(accounts.c.account_id).where(accounts.c.province_code == province_code))
        )
    return [dict(row) for row in connection.execute(query).mappings()]


# ------------------------------------------------------------------ receipts


def receipt_number(receipt_id: int, created_at: datetime) -> str:
    """The number on a receipt: ``BN-2026-000042`` (the year it was received, then its sequence)."""
    return f"{RECEIPT_PREFIX}-{aware(created_at).year}-{receipt_id:06d}"


def insert_receipt(connection: Connection, values: Mapping[str, Any]) -> int:
    result = connection.execute(sa.insert(receipts).values(**values, created_at=now()))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def landed_receipt(connection: Connection, committee_key: str, sha256: str) -> dict[str, Any] | None:
    """An earlier receipt for the same bytes from the same committee that landed in the inbox."""
    row = (
        connection.execute(
            sa.select(receipts)
            .where(receipts.c.committee_key == committee_key, receipts.c.sha256 == sha256)
            .where(receipts.c.inbox_name.is_not(None))
            .order_by(receipts.c.receipt_id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def receipt(connection: Connection, receipt_id: int) -> dict[str, Any] | None:
    row = connection.execute(sa.select(receipts).where(receipts.c.receipt_id == receipt_id)).mappings().first()
    return dict(row) if row is not None else None


def receipts_of_committee(connection: Connection, committee_key: str) -> list[dict[str, Any]]:
    rows = connection.execute(
        sa.select(receipts).where(receipts.c.committee_key == committee_key).order_by(receipts.c.receipt_id.desc())
    ).mappings()
    return [dict(row) for row in rows]


# ------------------------------------------------------------------ approvals and locks


def record_approval(
    connection: Connection, submission_id: str, state: str, comment: str | None, account: Account
) -> None:
    if state not in APPROVAL_STATES:
        raise ValueError(f"approval state must be one of {APPROVAL_STATES}, not {state!r}")
    connection.execute(
        sa.insert(approvals).values(
            submission_id=submission_id, state=state, comment=comment, account_id=account.account_id, decided_at=now()
        )
    )


def approval_history(connection: Connection, submission_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Every decision on these submissions, oldest first, with who took it."""
    rows = connection.execute(
        sa.select(approvals, accounts.c.username, accounts.c.full_name)
        .join(accounts, accounts.c.account_id == approvals.c.account_id)
        .where(approvals.c.submission_id.in_(list(submission_ids)))
        .order_by(approvals.c.approval_id)
    ).mappings()
    return [dict(row) for row in rows]


def latest_approvals(connection: Connection, submission_ids: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """The latest decision on each submission (all of them when ``submission_ids`` is None)."""
    latest = (
        sa.select(sa.func.max(approvals.c.approval_id).label("approval_id")).group_by(approvals.c.submission_id)
    ).subquery()
    query = (
        sa.select(approvals, accounts.c.username, accounts.c.full_name)
        .join(latest, latest.c.approval_id == approvals.c.approval_id)
        .join(accounts, accounts.c.account_id == approvals.c.account_id)
    )
    if submission_ids is not None:
        query = query.where(approvals.c.submission_id.in_(list(submission_ids)))
    return {row["submission_id"]: dict(row) for row in connection.execute(query).mappings()}


def record_lock(
    connection: Connection, province_code: str, report_year: int, locked: bool, comment: str | None, account: Account
) -> None:
    connection.execute(
        sa.insert(locks).values(
            province_code=province_code,
            report_year=report_year,
            locked=locked,
            comment=comment,
            account_id=account.account_id,
            at=now(),
        )
    )


def lock_history(connection: Connection, province_code: str, report_year: int) -> list[dict[str, Any]]:
    rows = connection.execute(
        sa.select(locks, accounts.c.username, accounts.c.full_name)
        .join(accounts, accounts.c.account_id == locks.c.account_id)
        .where(locks.c.province_code == province_code, locks.c.report_year == report_year)
        .order_by(locks.c.lock_id)
    ).mappings()
    return [dict(row) for row in rows]


def current_locks(connection: Connection) -> list[dict[str, Any]]:
    """The province × years whose latest lock row is a lock."""
    latest = (
        sa.select(sa.func.max(locks.c.lock_id).label("lock_id")).group_by(locks.c.province_code, locks.c.report_year)
    ).subquery()
    rows = connection.execute(
        sa.select(locks, accounts.c.username)
        .join(latest, latest.c.lock_id == locks.c.lock_id)
        .join(accounts, accounts.c.account_id == locks.c.account_id)
        .where(locks.c.locked.is_(True))
    ).mappings()
    return [dict(row) for row in rows]


# ------------------------------------------------------------------ what the night reads


def era_province_codes(current_code: str, report_year: int) -> tuple[str, ...]:
    """The province codes a report of ``report_year`` carries for the current province ``current_code``: itself
    from 2025 on; before the reform, every old province merged into it (new Lào Cai 15 ← old Lào Cai 10 and
    Yên Bái 15). The one mapping is ``warehouse.admin_dimension.province_mapping``."""
    from units.admin_units import era_for_year
    from warehouse.admin_dimension import POST_REFORM, province_mapping

    if era_for_year(report_year) == POST_REFORM:
        return (current_code,)
    return tuple(sorted(old for old, new in province_mapping().items() if new == current_code))


def current_decisions(settings: Settings) -> tuple[list[Any], list[Any]]:
    """The staff's latest decision on each submission and the province × years locked now, for the night
    (``warehouse.approvals``). The embedded default's SQLite file, when the portal was never started, holds none; a
    database named in chibo.yaml that does not exist, or one that cannot be read, raises."""
    from warehouse.approvals import ApprovalDecision, ProvinceLock

    url = database_url(settings)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        if settings.portal_config.database_url is not None:  # named in chibo.yaml: a wrong path would lift every lock
            raise PortalDatabaseError(
                f"the portal's database {url} (portal.database_url in chibo.yaml) does not exist: run `chibo init`, "
                "or correct the path"
            )
        return [], []  # the embedded default in the work folder: the portal was never started here
    if schema_version(settings) == 0:
        return [], []
    with engine(settings).connect() as connection:
        decisions = [
            ApprovalDecision(
                submission_id=row["submission_id"],
                state=row["state"],
                comment=row["comment"],
                decided_by=row["username"],
                decided_at=aware(row["decided_at"]),
            )
            for row in latest_approvals(connection).values()
        ]
        province_locks = [
            ProvinceLock(
                province_code=code,
                report_year=row["report_year"],
                locked_at=aware(row["at"]),
                locked_by=row["username"],
            )
            for row in current_locks(connection)
            for code in era_province_codes(row["province_code"], row["report_year"])
        ]
    return decisions, province_locks
