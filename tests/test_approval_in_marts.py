"""Approval and locking reach the warehouse and the marts (issue 11): after a province × report year is locked, a
newer accepted version waits for the staff's approval (fct_awaiting_approval) while the marts keep the locked
figures; approved, or unlocked, it counts; every fact and province-year mart carries the approval; and the
incremental nights give the marts a full rebuild gives. Through real nights (intake, validation, dbt) on a real
warehouse; the portal's decisions through ``warehouse.approvals.record_decisions`` and, for the night's sync,
through the portal's own store (``portal.store``) on a real SQLite database."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from alerts.digest import unsent_reports
from chibo.config import Settings, load_settings
from chibo.deployment import prepare
from contract.workbook import write_csv_zip
from demo.history_generator import history_reports
from pipeline import nightly
from pipeline.dbt_runner import dbt_build
from tests.deployments import deployment_variables
from tests.test_incremental_marts import mart_checksums
from warehouse.approvals import ApprovalDecision, ProvinceLock, record_decisions
from warehouse.raw import connect

PROVINCE = "Yên Bái"  # code 15 up to the 2024 round; today's Lào Cai (which it joined) is 15 from 2025
YEAR = 2024
YEN_BAI_2024 = "15"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The test deployment of tests/conftest.py (the portal's database: the embedded default, in its work folder)."""
    for name, value in deployment_variables(tmp_path).items():
        monkeypatch.setenv(name, value)
    loaded = load_settings()
    prepare(loaded)
    return loaded


def corrected(report: dict, women: int) -> dict:
    """A new version of a report (still valid): its first organisation's women members changed."""
    report = copy.deepcopy(report)
    report["to_chuc_co_so"][0]["members_female"] = women
    return report


def night(
    settings: Settings,
    run_id: str,
    reports: dict[str, dict],
    decisions: list[ApprovalDecision],
    locks: list[ProvinceLock],
) -> dict[str, str]:
    """One night: tonight's files, intake, the portal's state as given, validation, the marts. (The night's own
    sync reads the test's empty portal first; the state given replaces it, as the portal's would.)"""
    for stem, report in reports.items():
        write_csv_zip(settings.inbox / f"{stem}.zip", report)
    nightly.ingest(settings, run_id)
    with connect(settings.warehouse) as connection:
        record_decisions(connection, decisions, locks)
    outcomes = nightly.validate(settings, run_id)
    nightly.build_marts(settings, run_id)
    return outcomes


def query(settings: Settings, sql: str) -> list[tuple]:
    with connect(settings.warehouse, read_only=True) as connection:
        return connection.execute(sql).fetchall()


def submission_of(settings: Settings, file_stem: str) -> str:
    [(submission_id,)] = query(
        settings, f"select submission_id from raw.submissions where file_name = '{file_stem}.zip'"
    )
    return submission_id


def counted_in_facts(settings: Settings) -> dict[str, set[tuple[str, str]]]:
    """Per fact mart: the (file name, approval_state) of the submissions its rows come from."""
    return {
        mart: set(
            query(
                settings,
                f"select distinct s.file_name, m.approval_state from marts.{mart} as m"
                " inner join raw.submissions as s on m.submission_id = s.submission_id",
            )
        )
        for mart in ("fct_members", "fct_branches", "fct_evaluations")
    }


def province_year(settings: Settings) -> tuple:
    """fct_province_year and fct_province_year_restated (Yên Bái 2024 is restated onto today's Lào Cai):
    committees reporting, approved, locked, members."""
    [as_reported] = query(
        settings,
        "select committees_reporting, committees_approved, province_locked, members_total"
        f" from marts.fct_province_year where province = '{PROVINCE}' and report_year = {YEAR}",
    )
    [restated] = query(
        settings,
        "select committees_reporting, committees_approved, province_locked, members_total"
        f" from marts.fct_province_year_restated where province = 'Lào Cai' and report_year = {YEAR}",
    )
    assert as_reported == restated
    return as_reported


def awaiting(settings: Settings) -> set[tuple]:
    return set(
        query(
            settings,
            "select a.file_name, a.approval_state, a.approval_comment, c.file_name"
            " from marts.fct_awaiting_approval as a"
            " left join raw.submissions as c on a.counted_submission_id = c.submission_id",
        )
    )


def test_a_lock_holds_newer_versions_until_approved_or_unlocked(settings: Settings) -> None:
    reports = {g.file_stem: g.report for g in history_reports([PROVINCE], [YEAR], seed=7, detail_years=[YEAR])}
    (x, x_report), (y, _), (z, z_report), *_ = reports.items()
    files = {stem: f"{stem}.zip" for stem in reports} | {f"{x}-v2": f"{x}-v2.zip", f"{z}-v2": f"{z}-v2.zip"}

    first = night(settings, "night-1", reports, [], [])
    assert set(first.values()) == {"accepted"}
    committees = len(reports)
    before_lock = province_year(settings)
    assert before_lock[:3] == (committees, 0, False)
    assert awaiting(settings) == set()

    # the staff lock Yên Bái 2024; new versions of X and Z arrive afterwards, and Y's v1 is returned
    locked = ProvinceLock(YEN_BAI_2024, YEAR, datetime.now(UTC) - timedelta(seconds=1), "lan")
    y_returned = ApprovalDecision(
        submission_of(settings, y), "returned", "Kiểm tra lại số đảng viên nữ", "lan", datetime.now(UTC)
    )
    second = night(
        settings,
        "night-2",
        {f"{x}-v2": corrected(x_report, 1), f"{z}-v2": corrected(z_report, 2)},
        [y_returned],
        [locked],
    )
    assert set(second.values()) == {"accepted"}
    facts = counted_in_facts(settings)
    originals = {(files[stem], "pending") for stem in reports if stem != y} | {(files[y], "returned")}
    assert facts == {mart: originals for mart in facts}  # the locked figures stay, Y returned still counts
    assert province_year(settings) == (committees, 0, True, before_lock[3])
    assert awaiting(settings) == {
        (files[f"{x}-v2"], "pending", None, files[x]),
        (files[f"{z}-v2"], "pending", None, files[z]),
    }
    with connect(settings.warehouse, read_only=True) as connection:  # the digest says why they do not count yet
        items = {item.file_name: item for item in unsent_reports(connection)}
    for stem in (f"{x}-v2", f"{z}-v2"):
        [problem] = items[files[stem]].problems
        assert problem.message.startswith("Số liệu năm này của tỉnh đã được chốt: số liệu tổng hợp vẫn dùng lần gửi")

    # X's new version approved, Z's returned: X's counts from the next night, Z's keeps waiting
    x_v2, z_v2 = submission_of(settings, f"{x}-v2"), submission_of(settings, f"{z}-v2")
    approvals = [
        y_returned,
        ApprovalDecision(x_v2, "approved", None, "minh", datetime.now(UTC)),
        ApprovalDecision(z_v2, "returned", "Sai số chi bộ", "minh", datetime.now(UTC)),
    ]
    night(settings, "night-3", {}, approvals, [locked])
    expected = (originals - {(files[x], "pending")}) | {(files[f"{x}-v2"], "approved")}
    facts = counted_in_facts(settings)
    assert facts == {mart: expected for mart in facts}
    assert province_year(settings)[:3] == (committees, 1, True)
    assert awaiting(settings) == {(files[f"{z}-v2"], "returned", "Sai số chi bộ", files[z])}
    [(approved_by, approved_at)] = query(
        settings,
        f"select approved_by, approved_at from intermediate.int_submissions__counted where submission_id = '{x_v2}'",
    )
    assert approved_by == "minh" and approved_at is not None

    # unlocked: the newest version counts whatever its approval (Z's returned v2), nothing waits
    night(settings, "night-4", {}, approvals, [])
    expected = (expected - {(files[z], "pending")}) | {(files[f"{z}-v2"], "returned")}
    facts = counted_in_facts(settings)
    assert facts == {mart: expected for mart in facts}
    assert province_year(settings)[:3] == (committees, 1, False)
    assert awaiting(settings) == set()
    # incremental = full refresh after a lock, an approval and an unlock (tests/test_incremental_marts.py: after an
    # approval alone)
    assert mart_checksums(settings.warehouse) == rebuilt_whole(settings)


def rebuilt_whole(settings: Settings) -> dict[str, tuple[int, str]]:
    """The marts as ``dbt build --full-refresh`` gives them on the same warehouse."""
    dbt_build(settings.warehouse, settings.work_dir, full_refresh=True)
    return mart_checksums(settings.warehouse)


# ------------------------------------------------------------------ recording the portal's decisions


def raw_state(settings: Settings) -> tuple[list[tuple], list[tuple]]:
    decisions = query(
        settings, "select submission_id, state, comment, decided_by, decided_at from raw.approval_decisions"
    )
    locks = query(
        settings, "select province_code, report_year, locked_at, locked_by from raw.province_locks order by 1"
    )
    return sorted(decisions), locks


def test_record_decisions_replaces_the_state_and_refuses_what_it_cannot_place(settings: Settings) -> None:
    at = datetime(2025, 4, 1, 15, 30, tzinfo=UTC)
    in_hanoi = at.astimezone(datetime.now().astimezone().tzinfo)  # any aware time is stored as UTC
    with connect(settings.warehouse) as connection:
        record_decisions(
            connection,
            [
                ApprovalDecision("s1", "approved", None, "lan", in_hanoi),
                ApprovalDecision("s2", "returned", "Sai", "lan", at),
            ],
            [ProvinceLock("15", 2024, at, "lan"), ProvinceLock("15", 2025, at, "lan")],
        )
        record_decisions(
            connection, [ApprovalDecision("s1", "approved", None, "minh", at)], [ProvinceLock("10", 2024, at, "minh")]
        )
    naive = at.replace(tzinfo=None)
    assert raw_state(settings) == ([("s1", "approved", None, "minh", naive)], [("10", 2024, naive, "minh")])

    refused = {
        "state": ([ApprovalDecision("s1", "pending", None, "lan", at)], []),
        "naive": ([ApprovalDecision("s1", "approved", None, "lan", naive)], []),
        "twice": ([ApprovalDecision("s1", "approved", None, "lan", at)] * 2, []),
        "unknown code": ([], [ProvinceLock("99", 2024, at, "lan")]),
        "not written as the warehouse writes it": ([], [ProvinceLock("1", 2024, at, "lan")]),  # Hà Nội is '01'
        "a code of the other era": ([], [ProvinceLock("10", 2025, at, "lan")]),  # old Lào Cai, merged into 15
        "locked twice": ([], [ProvinceLock("15", 2024, at, "lan")] * 2),
    }
    for why, (decisions, locks) in refused.items():
        with connect(settings.warehouse) as connection, pytest.raises(ValueError):
            record_decisions(connection, decisions, locks)
            pytest.fail(f"recorded although {why}")
    assert raw_state(settings) == ([("s1", "approved", None, "minh", naive)], [("10", 2024, naive, "minh")])


def test_the_night_records_what_the_portal_holds(settings: Settings) -> None:
    from portal import store

    store.migrate(settings)
    with store.transaction(settings) as connection:
        staff_id = store.insert_account(
            connection,
            {"username": "lan", "password_hash": "-", "role": "staff", "province_code": "15", "active": True},
        )
        staff = store.account_by_id(connection, staff_id)
        assert staff is not None
        store.record_lock(connection, "15", YEAR, True, None, staff)  # today's Lào Cai: old Lào Cai 10 + Yên Bái 15
        store.record_approval(connection, "s1", "returned", "Thiếu trang", staff)
        store.record_approval(connection, "s1", "approved", None, staff)

    assert nightly.sync_approvals(settings) == 3
    decisions, locks = raw_state(settings)
    assert [row[:4] for row in decisions] == [("s1", "approved", None, "lan")]
    assert [row[:2] for row in locks] == [("10", YEAR), ("15", YEAR)]

    with store.transaction(settings) as connection:
        store.record_lock(connection, "15", YEAR, False, "Mở lại", staff)  # an unlock
    nightly.ingest(settings, "night-1")  # the night's first write records it
    assert raw_state(settings)[1] == []


def test_a_portal_that_cannot_be_read_fails_the_night(settings: Settings) -> None:
    Path(settings.portal.database_url.removeprefix("sqlite:///")).write_bytes(b"not a database, " * 64)
    with pytest.raises(Exception) as failed:
        nightly.ingest(settings, "night-1")
    assert not isinstance(failed.value, duckdb.Error)
    assert query(settings, "select count(*) from raw.submissions") == [(0,)]  # nothing taken in


def test_a_portal_database_named_in_the_configuration_must_exist(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mistyped portal.database_url would lift every lock: the night fails instead, before taking anything in."""
    monkeypatch.setenv("CHIBO_PORTAL_DATABASE_URL", f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.sqlite'}")
    with pytest.raises(Exception, match="does not exist: run `chibo init`"):
        nightly.ingest(load_settings(), "night-1")
    assert query(settings, "select count(*) from raw.submissions") == [(0,)]
