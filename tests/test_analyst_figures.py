"""What analysts read beside the figures (issue 12, "Analysts"), through real nights and a real dbt build: how many of
its expected committees each province total includes, reporting rates over every tracked province and year, and
reports loaded from history not counted as late."""

from __future__ import annotations

from datetime import date
from typing import Any

from chibo.config import Settings
from demo.history_generator import generate_history
from pipeline import nightly
from warehouse.expected import expected_units, write_expected
from warehouse.raw import connect

TRACKED_PROVINCES, TRACKED_YEARS = ["Lào Cai", "Yên Bái"], [2023, 2025]


def night(settings: Settings, run_id: str) -> None:
    """One night's intake and validation, with the tracked provinces and years of this test."""
    nightly.ingest(settings, run_id)
    with connect(settings.warehouse) as connection:
        write_expected(connection, TRACKED_PROVINCES, TRACKED_YEARS, lambda year: date(year + 1, 1, 15))
    assert set(nightly.validate(settings, run_id).values()) == {"accepted"}
    nightly.build_marts(settings)


def rows(settings: Settings, sql: str) -> list[dict[str, Any]]:
    with connect(settings.warehouse, read_only=True) as connection:
        cursor = connection.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def test_history_is_not_late_and_every_total_says_how_many_expected_committees_it_includes(settings: Settings):
    written = generate_history(["Lào Cai"], [2021, 2022, 2023], seed=7, out=settings.inbox, file_format="zip")
    [bao_thang_2023] = [path for path in written if path.name.startswith("2023_") and "bao-thang" in path.name]
    bao_thang_2023.rename(settings.work_dir / bao_thang_2023.name)  # it comes on its own, a night later
    night(settings, "history-load")  # three report years at once: a load of history

    lao_cai = {year: len(expected_units("Lào Cai", year)) for year in (2021, 2022, 2023)}
    assert set(lao_cai.values()) == {9}
    totals = {
        row["report_year"]: row
        for row in rows(settings, "select * from marts.fct_province_year where province = 'Lào Cai'")
    }
    assert {
        year: (row["committees_expected_reporting"], row["committees_expected"]) for year, row in totals.items()
    } == {
        2021: (lao_cai[2021], lao_cai[2021]),
        2022: (lao_cai[2022], lao_cai[2022]),
        2023: (lao_cai[2023] - 1, lao_cai[2023]),
    }
    statuses = rows(settings, "select status, count(*) as n from marts.fct_reporting_status group by all")
    by_status = {row["status"]: row["n"] for row in statuses}
    assert "late" not in by_status  # received in 2026, years after the deadlines, yet loaded, not sent late
    assert by_status["from_history"] == lao_cai[2023] - 1

    (settings.work_dir / bao_thang_2023.name).rename(settings.inbox / bao_thang_2023.name)
    night(settings, "a-night-later")  # one report, after its deadline: late

    [bao_thang] = rows(
        settings,
        "select status, days_late from marts.fct_reporting_status where report_year = 2023 "
        "and unit_name = 'Huyện Bảo Thắng'",
    )
    assert bao_thang["status"] == "late" and bao_thang["days_late"] > 365
    rates = {
        (row["province"], row["report_year"]): row for row in rows(settings, "select * from marts.fct_reporting_rate")
    }
    assert set(rates) == {(province, year) for province in TRACKED_PROVINCES for year in TRACKED_YEARS}
    lao_cai_2023 = rates[("Lào Cai", 2023)]
    assert (lao_cai_2023["accepted"], lao_cai_2023["late"], lao_cai_2023["from_history"], lao_cai_2023["on_time"]) == (
        lao_cai[2023],
        1,
        lao_cai[2023] - 1,
        0,
    )
    yen_bai_2023 = rates[("Yên Bái", 2023)]  # nothing arrived from Yên Bái: its row says so
    assert yen_bai_2023["expected"] == len(expected_units("Yên Bái", 2023)) > 0
    assert (yen_bai_2023["received"], yen_bai_2023["missing"]) == (0, yen_bai_2023["expected"])
    assert yen_bai_2023["received_rate"] == 0.0
    yen_bai_2025 = rates[("Yên Bái", 2025)]  # merged into Lào Cai by the reform: no committee expected
    assert (yen_bai_2025["expected"], yen_bai_2025["received_rate"], yen_bai_2025["province_code"]) == (0, None, None)
    assert rates[("Lào Cai", 2025)]["expected"] == len(expected_units("Lào Cai", 2025))

    [total_2023] = rows(
        settings, "select * from marts.fct_province_year where province = 'Lào Cai' and report_year = 2023"
    )
    assert (total_2023["committees_expected_reporting"], total_2023["committees_expected"]) == (9, 9)
    [restated_2023] = rows(
        settings,
        "select * from marts.fct_province_year_restated where province = 'Lào Cai' and report_year = 2023",
    )
    merged = lao_cai[2023] + len(expected_units("Yên Bái", 2023))  # today's Lào Cai: old Lào Cai + old Yên Bái
    assert (restated_2023["committees_expected_reporting"], restated_2023["committees_expected"]) == (9, merged)
