"""The portal's own database (portal/store.py) and its accounts (portal/accounts.py), on real databases: a SQLite
file and a fresh PostgreSQL database (127.0.0.1:5432, user postgres), migrated by the numbered migrations; accounts
imported from a CSV file with bad lines; Argon2id hashes; and the locks the night reads (``current_decisions``),
expanded from today's province to the provinces of the report year's era."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from chibo.config import Settings, load_settings
from portal import accounts, security, store
from tests.deployments import deployment_variables

POSTGRES_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
LATEST_VERSION = max(version for version, _, _ in store.MIGRATIONS)
TABLES = {"schema_migrations", "accounts", "sessions", "login_attempts", "receipts", "approvals", "locks", "audit"}
STAFF_PASSWORD = "mat-khau-du-dai"
STAFF_LAO_CAI = accounts.NewAccount(username="tochuc.laocai", role="staff", password=STAFF_PASSWORD, province="Lào Cai")


def settings_with(base: Path, database_url: str | None = None) -> Settings:
    """A deployment's settings under ``base``; the portal's database its default SQLite file unless given."""
    variables = deployment_variables(base)
    if database_url is not None:
        variables["CHIBO_PORTAL_DATABASE_URL"] = database_url
    return load_settings(variables)


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return settings_with(tmp_path)


@pytest.fixture
def postgres_settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings naming a PostgreSQL database that does not exist yet (``store.migrate`` creates it); dropped after."""
    name = f"chibo_portal_test_{uuid.uuid4().hex[:12]}"
    url = f"{POSTGRES_SERVER}/{name}"
    try:
        yield settings_with(tmp_path, url)
    finally:
        store.engine_for(url).dispose()
        server = sa.create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def database_exists(url: str) -> bool:
    name = sa.engine.make_url(url).database
    server = sa.create_engine(f"{POSTGRES_SERVER}/postgres")
    try:
        with server.connect() as connection:
            found = connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
    finally:
        server.dispose()
    return found is not None


def recorded_versions(settings: Settings) -> list[int]:
    with store.engine(settings).connect() as connection:
        return list(connection.execute(sa.select(store.schema_migrations.c.version)).scalars())


def assert_migrates_once(settings: Settings) -> None:
    """A new database migrates to the latest version, every table there; a second migrate applies nothing."""
    assert store.migrate(settings) == [version for version, _, _ in store.MIGRATIONS]
    assert store.schema_version(settings) == LATEST_VERSION
    assert set(sa.inspect(store.engine(settings)).get_table_names()) >= TABLES
    assert store.migrate(settings) == []
    assert sorted(recorded_versions(settings)) == [version for version, _, _ in store.MIGRATIONS]


def test_a_new_sqlite_database_migrates_to_the_latest_version_once(sqlite_settings: Settings) -> None:
    database = Path(store.database_url(sqlite_settings).removeprefix("sqlite:///"))
    assert not database.exists()
    assert store.schema_version(sqlite_settings) == 0
    assert_migrates_once(sqlite_settings)
    assert database.is_file()


def test_a_new_postgresql_database_is_created_and_migrated_once(postgres_settings: Settings) -> None:
    url = store.database_url(postgres_settings)
    assert not database_exists(url)
    assert_migrates_once(postgres_settings)
    assert database_exists(url)
    # and it holds what the portal writes: an account, a lock, read back as the night reads them
    created = accounts.create(postgres_settings, STAFF_LAO_CAI)
    assert created.scope == "Lào Cai"
    lock_year(postgres_settings, "15", 2024)
    [], locks = store.current_decisions(postgres_settings)
    assert sorted((lock.province_code, lock.report_year) for lock in locks) == [("10", 2024), ("15", 2024)]


IMPORT_FILE = """\
username,role,full_name,province,committee_name,committee_code,committee_level,report_year,email,phone,password
baothang,submitter,Văn phòng Huyện ủy Bảo Thắng,Lào Cai,Đảng bộ huyện Bảo Thắng,,,2024,bt@example.org,,baothang-2024
khongtinh,staff,Ai đó,Tỉnh Không Có,,,,,,,mat-khau-du-dai
khongdonvi,submitter,Ai đó,Lào Cai,Đảng bộ huyện Không Có Thật,,,2024,,,mat-khau-du-dai
ngan,staff,Ai đó,Lào Cai,,,,,,,ngan
laocai,staff,Ban Tổ chức Tỉnh ủy Lào Cai,Lào Cai,,,,,tc@example.org,,laocai-tochuc
baothang,submitter,Lần nữa,Lào Cai,Đảng bộ huyện Bảo Thắng,,,2024,,,baothang-2024
vanhanh,operator,Quản trị,,,,,,,,
"""


def test_an_import_creates_the_good_lines_and_names_each_bad_one(sqlite_settings: Settings, tmp_path: Path) -> None:
    store.migrate(sqlite_settings)
    source = tmp_path / "lao-cai.csv"
    source.write_text(IMPORT_FILE, encoding="utf-8")

    created, problems = accounts.import_file(sqlite_settings, source)

    assert [(account.username, account.role) for account in created] == [
        ("baothang", "submitter"),
        ("laocai", "staff"),
        ("vanhanh", "operator"),
    ]
    assert [account.password for account in created][:2] == [None, None]  # given: never shown back
    generated = created[2].password
    assert generated is not None and len(generated) >= security.MINIMUM_PASSWORD_LENGTH
    assert len(problems) == 4, problems
    unknown_province, unknown_committee, short_password, duplicate = problems
    assert unknown_province.startswith("lao-cai.csv, line 3:") and "Tỉnh Không Có" in unknown_province
    assert unknown_committee.startswith("lao-cai.csv, line 4:")
    assert short_password.startswith("lao-cai.csv, line 5:") and "at least 10 characters" in short_password
    assert duplicate.startswith("lao-cai.csv, line 7:") and "already exists" in duplicate

    with store.transaction(sqlite_settings) as connection:
        rows = connection.execute(sa.select(store.accounts).order_by(store.accounts.c.username)).mappings().all()
        made = store.audit_trail(connection)
    assert [row["username"] for row in rows] == ["baothang", "laocai", "vanhanh"]
    baothang, laocai, _ = rows
    assert baothang["committee_key"] and baothang["committee_name"] == "Đảng bộ huyện Bảo Thắng"
    assert baothang["full_name"] == "Văn phòng Huyện ủy Bảo Thắng"  # the first line's, not the duplicate's
    assert (laocai["province_code"], laocai["province_name"]) == ("15", "Lào Cai")
    assert sorted(row["target"] for row in made if row["action"] == "account_created") == [
        "baothang",
        "laocai",
        "vanhanh",
    ]


def test_passwords_are_kept_only_as_argon2id_hashes(sqlite_settings: Settings) -> None:
    store.migrate(sqlite_settings)
    accounts.create(sqlite_settings, STAFF_LAO_CAI)
    generated = accounts.create(sqlite_settings, accounts.NewAccount(username="vanhanh", role="operator")).password
    assert generated is not None

    with store.transaction(sqlite_settings) as connection:
        hashes: dict[str, str] = dict(
            connection.execute(sa.select(store.accounts.c.username, store.accounts.c.password_hash)).all()
        )
        found = store.account_by_name(connection, "tochuc.laocai")
    assert all(value.startswith("$argon2id$") for value in hashes.values())
    assert STAFF_PASSWORD not in hashes["tochuc.laocai"] and generated not in hashes["vanhanh"]
    database = Path(store.database_url(sqlite_settings).removeprefix("sqlite:///")).read_bytes()
    assert STAFF_PASSWORD.encode() not in database and generated.encode() not in database
    assert found is not None
    assert security.verify_password(found[1], STAFF_PASSWORD)
    assert not security.verify_password(found[1], "mat-khau-sai-roi")


def lock_year(settings: Settings, province_code: str, report_year: int, locked: bool = True) -> None:
    with store.transaction(settings) as connection:
        found = store.account_by_name(connection, STAFF_LAO_CAI.username)
        assert found is not None
        store.record_lock(connection, province_code, report_year, locked, None, found[0])


def test_a_lock_of_today_s_lao_cai_reaches_the_provinces_of_the_year_s_era(sqlite_settings: Settings) -> None:
    assert store.current_decisions(sqlite_settings) == ([], [])  # a portal never started: nothing, no file made
    assert not Path(store.database_url(sqlite_settings).removeprefix("sqlite:///")).exists()
    store.migrate(sqlite_settings)
    accounts.create(sqlite_settings, STAFF_LAO_CAI)

    lock_year(sqlite_settings, "15", 2024)
    lock_year(sqlite_settings, "15", 2025)
    decisions, locks = store.current_decisions(sqlite_settings)

    assert decisions == []
    assert sorted((lock.province_code, lock.report_year) for lock in locks) == [
        ("10", 2024),  # old Lào Cai
        ("15", 2024),  # old Yên Bái, merged into today's Lào Cai
        ("15", 2025),  # today's Lào Cai only
    ]
    assert {lock.locked_by for lock in locks} == {STAFF_LAO_CAI.username}
    assert all(lock.locked_at.tzinfo is not None for lock in locks)

    lock_year(sqlite_settings, "15", 2024, locked=False)  # an unlock: the latest row wins, the history stays
    _, locks = store.current_decisions(sqlite_settings)
    assert [(lock.province_code, lock.report_year) for lock in locks] == [("15", 2025)]
    with store.transaction(sqlite_settings) as connection:
        assert [row["locked"] for row in store.lock_history(connection, "15", 2024)] == [True, False]


def test_the_night_reads_the_latest_decision_on_each_submission(sqlite_settings: Settings) -> None:
    store.migrate(sqlite_settings)
    accounts.create(sqlite_settings, STAFF_LAO_CAI)
    with store.transaction(sqlite_settings) as connection:
        found = store.account_by_name(connection, STAFF_LAO_CAI.username)
        assert found is not None
        store.record_approval(connection, "a" * 16, "returned", "Sửa số đảng viên", found[0])
        store.record_approval(connection, "a" * 16, "approved", None, found[0])
        store.record_approval(connection, "b" * 16, "returned", "Thiếu trang chi_bo", found[0])
        with pytest.raises(ValueError, match="approval state"):
            store.record_approval(connection, "c" * 16, "pending", None, found[0])

    decisions, _ = store.current_decisions(sqlite_settings)

    assert sorted((d.submission_id, d.state, d.comment, d.decided_by) for d in decisions) == [
        ("a" * 16, "approved", None, STAFF_LAO_CAI.username),
        ("b" * 16, "returned", "Thiếu trang chi_bo", STAFF_LAO_CAI.username),
    ]
