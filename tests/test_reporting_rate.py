"""Reporting rates through a real night and dbt build: marts.fct_reporting_rate and fct_reporting_status,
and the Vietnamese digest section about missing and late committees (alerts/completeness.py)."""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

import pytest

from alerts.completeness import (
    CommitteeStatus,
    completeness_section_html,
    completeness_section_text,
    expected_count,
    missing_and_late,
)
from chibo.config import Settings, load_settings
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from pipeline import nightly
from tests.deployments import deployment_variables
from warehouse.expected import write_expected
from warehouse.raw import connect


def report_of(province: str, committee_name: str, committee_code: str) -> dict[str, Any]:
    """The Mường Khương 2023 sample, sent as another committee's report."""
    report = copy.deepcopy(muong_khuong_2023())
    report["thong_tin"].update(province=province, committee_name=committee_name, committee_code=committee_code)
    return report


def set_received_at(settings: Settings, committee_code: str, received_at: datetime) -> None:
    with connect(settings.warehouse) as connection:
        connection.execute(
            "UPDATE raw.submissions SET received_at = ? WHERE committee_code = ?", [received_at, committee_code]
        )


def run_night(settings: Settings) -> Settings:
    """A night where 2 of Lào Cai's 9 districts report for 2023 (Mường Khương twice), and Điện Biên's Mường Nhé
    reports too, though only Lào Cai is tracked. Mường Khương's first report arrives on time, its second
    after the deadline; Bảo Thắng's at 07:00 the day after the deadline, past the night's grace: late by a day."""
    write_xlsx(settings.inbox / "muong_khuong.xlsx", muong_khuong_2023())
    corrected = muong_khuong_2023()
    corrected["thong_tin"]["preparer"] = "Lù Văn Mai"
    write_xlsx(settings.inbox / "muong_khuong_v2.xlsx", corrected)
    write_xlsx(settings.inbox / "bao_thang.xlsx", report_of("Lào Cai", "Đảng bộ huyện Bảo Thắng", "086"))
    write_xlsx(settings.inbox / "muong_nhe.xlsx", report_of("Điện Biên", "Đảng bộ huyện Mường Nhé", "096"))
    nightly.ingest(settings, "night-1")
    assert sorted(nightly.validate(settings, "night-1").values()) == ["accepted"] * 4
    with connect(settings.warehouse) as connection:
        connection.execute(
            "UPDATE raw.submissions SET received_at = CASE version WHEN 1 THEN TIMESTAMP '2024-01-10 03:00:00' "
            "ELSE TIMESTAMP '2024-02-01 03:00:00' END WHERE committee_code = '083'"
        )
        write_expected(connection, ["Lào Cai"], [2023, 2025], lambda year: date(year + 1, 1, 15))
    set_received_at(settings, "086", datetime(2024, 1, 16, 0, 0))  # 16/01 07:00 in Vietnam: past the 6 h grace
    set_received_at(settings, "096", datetime(2024, 1, 1, 3, 0))
    nightly.build_marts(settings)
    return settings


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One night shared by the tests that only read the marts (a dbt build takes seconds)."""
    base = tmp_path_factory.mktemp("night")
    settings = load_settings(deployment_variables(base))
    settings.inbox.mkdir(parents=True)
    return run_night(settings)


def rate_rows(settings: Settings) -> dict[int, dict[str, Any]]:
    with connect(settings.warehouse, read_only=True) as connection:
        cursor = connection.execute("SELECT * FROM marts.fct_reporting_rate WHERE province = 'Lào Cai'")
        names = [column[0] for column in cursor.description]
        return {
            row["report_year"]: row for row in (dict(zip(names, values, strict=True)) for values in cursor.fetchall())
        }


def statuses(settings: Settings) -> dict[str, tuple]:
    with connect(settings.warehouse, read_only=True) as connection:
        rows = connection.execute(
            "SELECT unit_name, status, first_accepted_on, days_late FROM marts.fct_reporting_status "
            "WHERE report_year = 2023"
        ).fetchall()
    return {name: tuple(rest) for name, *rest in rows}


def test_two_of_nine_districts_reporting(night: Settings):
    rates = rate_rows(night)
    row = rates[2023]
    assert (row["expected"], row["received"], row["accepted"], row["on_time"], row["late"], row["missing"]) == (
        9,
        2,
        2,
        1,
        1,
        7,
    )
    assert (row["received_rate"], row["accepted_rate"], row["on_time_rate"]) == (22.2, 22.2, 11.1)
    assert row["deadline"] == date(2024, 1, 15)
    assert rates[2025]["received"] == 0
    assert rates[2025]["expected"] > 50
    assert all(r[name] <= 100 for r in rates.values() for name in ("received_rate", "accepted_rate", "on_time_rate"))


def test_a_report_of_another_province_counts_nowhere(night: Settings):
    with connect(night.warehouse, read_only=True) as connection:
        provinces = connection.execute("SELECT DISTINCT province FROM marts.fct_reporting_rate").fetchall()
        [(total_received,)] = connection.execute("SELECT sum(received) FROM marts.fct_reporting_rate").fetchall()
    assert provinces == [("Lào Cai",)]
    assert total_received == 2  # Mường Nhé (Điện Biên) was accepted but is not an expected committee


def test_statuses_judge_the_first_accepted_report(night: Settings):
    by_unit = statuses(night)
    assert len(by_unit) == 9
    assert by_unit["Huyện Mường Khương"] == ("on_time", date(2024, 1, 10), None)
    assert by_unit["Huyện Bảo Thắng"] == ("late", date(2024, 1, 16), 1)
    assert by_unit["Huyện Si Ma Cai"] == ("missing", None, None)


def test_a_report_received_in_the_deadline_night_is_on_time(settings: Settings):
    run_night(settings)
    set_received_at(settings, "086", datetime(2024, 1, 15, 22, 0))  # 16/01 05:00 in Vietnam: the deadline night's run
    nightly.build_marts(settings)
    assert statuses(settings)["Huyện Bảo Thắng"] == ("on_time", date(2024, 1, 16), None)
    assert rate_rows(settings)[2023]["on_time_rate"] == 22.2


def test_the_digest_section_lists_missing_and_late_committees(night: Settings):
    with connect(night.warehouse, read_only=True) as connection:
        missing, late = missing_and_late(connection, "Lào Cai", 2023, date(2024, 2, 20))
        expected = expected_count(connection, "Lào Cai", 2023)
        before_bao_thang, _ = missing_and_late(connection, "Lào Cai", 2023, date(2024, 1, 15))
    assert expected == 9
    assert [row.unit_name for row in late] == ["Huyện Bảo Thắng"]
    assert len(missing) == 7 and "Huyện Si Ma Cai" in {row.unit_name for row in missing}
    assert len(before_bao_thang) == 8  # as of the deadline day, Bảo Thắng had not reported yet
    text = completeness_section_text(2023, date(2024, 1, 15), expected, missing, late, date(2024, 2, 20))
    assert text.startswith("Còn 7/9 đảng bộ chưa gửi báo cáo năm 2023 (hạn 15/01/2024, đã quá hạn 36 ngày): ")
    assert "Huyện Si Ma Cai" in text
    assert "1/9 đảng bộ gửi muộn báo cáo năm 2023: Huyện Bảo Thắng (nhận ngày 16/01/2024, muộn 1 ngày)." in text
    fragment = completeness_section_html(2023, date(2024, 1, 15), expected, missing, late, date(2024, 2, 20))
    assert "<li>Huyện Si Ma Cai</li>" in fragment
    assert "<li>Huyện Bảo Thắng (nhận ngày 16/01/2024, muộn 1 ngày)</li>" in fragment


def test_a_province_not_tracked_has_no_section(night: Settings):
    with connect(night.warehouse, read_only=True) as connection:
        assert expected_count(connection, "Sơn La", 2023) == 0
        assert missing_and_late(connection, "Sơn La", 2023, date(2024, 2, 1)) == ([], [])
    assert completeness_section_text(2023, date(2024, 1, 15), 0, [], [], date(2024, 2, 1)) == ""
    assert completeness_section_html(2023, date(2024, 1, 15), 0, [], [], date(2024, 2, 1)) == ""


def status(name: str, kind: str, accepted_on: date | None = None, days_late: int | None = None) -> CommitteeStatus:
    return CommitteeStatus(f"k:{name}", name, name, kind, date(2026, 1, 15), accepted_on, days_late)


def test_section_text_before_the_deadline_and_for_rejected_reports():
    missing = [status("Xã A <&>", "missing"), status("Phường B", "received_not_accepted")]
    text = completeness_section_text(2025, date(2026, 1, 15), 99, missing, [], date(2026, 1, 8))
    assert text.splitlines() == [
        "Còn 1/99 đảng bộ chưa gửi báo cáo năm 2025 (hạn 15/01/2026, còn 7 ngày): Xã A <&>.",
        "1/99 đảng bộ đã gửi báo cáo năm 2025 nhưng chưa được chấp nhận, cần sửa lỗi và gửi lại "
        "(hạn 15/01/2026, còn 7 ngày): Phường B.",
    ]
    assert "<li>Xã A &lt;&amp;&gt;</li>" in completeness_section_html(
        2025, date(2026, 1, 15), 99, missing, [], date(2026, 1, 8)
    )


def test_section_text_when_everyone_reported():
    assert completeness_section_text(2025, date(2026, 1, 15), 3, [], [], date(2026, 1, 16)) == (
        "Tất cả 3/3 đảng bộ đã gửi báo cáo năm 2025 đúng hạn."
    )
    late = [status("Xã C", "late", date(2026, 1, 20), 5)]
    assert completeness_section_text(2025, date(2026, 1, 15), 3, [], late, date(2026, 1, 22)).splitlines() == [
        "Tất cả 3/3 đảng bộ đã có báo cáo năm 2025 được chấp nhận.",
        "1/3 đảng bộ gửi muộn báo cáo năm 2025: Xã C (nhận ngày 20/01/2026, muộn 5 ngày).",
    ]
