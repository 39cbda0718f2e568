"""Creating portal accounts: one with ``chibo account add``, a province's at once with ``chibo account import``.

A submitter's account belongs to one committee, named as its reports name it (province, committee name, and the
report year whose era it reports in) and resolved by the intake's own rule (``units.committee.resolve_names``),
so the key on the account is the key on its reports. A staff account belongs to a current (2025+) province.
A password that is not given is generated and returned once; only its Argon2id hash is stored.

The import file is a CSV (UTF-8, a header row) with the columns of ``CSV_COLUMNS``; a line that cannot be
created is reported with its line number and the others are still created (each account in its own transaction).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from chibo.config import Settings
from portal import security, store
from units.admin_units import resolve_province
from units.committee import resolve_names

CSV_COLUMNS: Final = (
    "username", "role", "full_name", "province", "committee_name", "committee_code", "committee_level",
    "report_year", "email", "phone", "password",
)  # fmt: skip
CURRENT_ERA_YEAR: Final = 2025  # a staff account's province is named as from 1 July 2025


@dataclass(frozen=True)
class NewAccount:
    username: str
    role: str
    password: str | None = None
    full_name: str | None = None
    province: str | None = None
    committee_name: str | None = None
    committee_code: str | None = None
    committee_level: str | None = None
    report_year: int | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Created:
    username: str
    role: str
    scope: str  # the committee or province it sees, as a person reads it
    password: str | None  # the generated password, shown once; None when one was given


class AccountError(ValueError):
    """An account that cannot be created, in words for the operator."""


def scope_values(account: NewAccount) -> dict[str, str | None]:
    """The committee or province an account is bound to, resolved as the warehouse keys them."""
    if account.role not in store.ROLES:
        raise AccountError(f"role must be one of {', '.join(store.ROLES)}, not {account.role!r}")
    if account.role == "operator":
        return {}
    if not account.province:
        raise AccountError("a submitter or staff account needs its province")
    if account.role == "staff":
        province = resolve_province(account.province, CURRENT_ERA_YEAR)
        if province is None:
            raise AccountError(f"no province {account.province!r} among the 34 provinces from 1 July 2025")
        return {"province_code": province.code, "province_name": province.province_name}
    if not account.committee_name or account.report_year is None:
        raise AccountError("a submitter account needs committee_name and report_year (the era it reports in)")
    resolution = resolve_names(
        account.province, account.committee_name, account.committee_code, account.committee_level,
        account.report_year,
    )  # fmt: skip
    if resolution.status != "resolved" or resolution.unit is None:
        raise AccountError(resolution.message_vi or f"committee {account.committee_name!r} not found")
    current = resolve_province(resolution.unit.province_name, CURRENT_ERA_YEAR)
    return {
        "committee_key": resolution.unit.key,
        "committee_name": account.committee_name,
        "province_code": None,
        "province_name": current.province_name if current else resolution.unit.province_name,
    }


def create(settings: Settings, account: NewAccount) -> Created:
    username = account.username.strip()
    if not username or len(username) > 100 or any(character.isspace() for character in username):
        raise AccountError(f"username {account.username!r} must be one word of at most 100 characters")
    values = scope_values(account)
    password = account.password or security.new_password()
    try:
        password_hash = security.hash_password(password)
    except ValueError as error:
        raise AccountError(str(error)) from None
    with store.transaction(settings) as connection:
        if store.account_by_name(connection, username) is not None:
            raise AccountError(f"an account named {username!r} already exists")
        store.insert_account(
            connection,
            {
                "username": username,
                "password_hash": password_hash,
                "role": account.role,
                "full_name": account.full_name,
                "email": account.email,
                "phone": account.phone,
                "active": True,
                **values,
            },
        )
        created = store.account_by_name(connection, username)
        store.record_audit(
            connection, created[0] if created else None, "account_created", username, account.role, "cli"
        )
    scope = values.get("committee_name") or values.get("province_name") or "mọi tỉnh"
    return Created(username, account.role, str(scope), None if account.password else password)


def from_row(row: Mapping[str, str | None]) -> NewAccount:
    def text(name: str) -> str | None:
        value = (row.get(name) or "").strip()
        return value or None

    year = text("report_year")
    if year is not None and not year.isdigit():
        raise AccountError(f"report_year must be a year, not {year!r}")
    return NewAccount(
        username=text("username") or "",
        role=text("role") or "",
        password=text("password"),
        full_name=text("full_name"),
        province=text("province"),
        committee_name=text("committee_name"),
        committee_code=text("committee_code"),
        committee_level=text("committee_level"),
        report_year=int(year) if year else None,
        email=text("email"),
        phone=text("phone"),
    )


def import_file(settings: Settings, path: Path) -> tuple[list[Created], list[str]]:
    """Create every account of a CSV file; the ones created and, for each line that could not be, why."""
    created: list[Created] = []
    problems: list[str] = []
    with path.open(encoding="utf-8-sig", newline="") as reader:
        rows = csv.DictReader(reader)
        missing = [column for column in ("username", "role") if column not in (rows.fieldnames or [])]
        if missing:
            raise AccountError(f"{path}: the header row lacks {', '.join(missing)} (columns: {', '.join(CSV_COLUMNS)})")
        for line, row in enumerate(rows, start=2):
            try:
                created.append(create(settings, from_row(row)))
            except AccountError as error:
                problems.append(f"{path.name}, line {line}: {error}")
    return created, problems
