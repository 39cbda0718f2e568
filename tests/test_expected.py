"""The committees expected to report (warehouse/expected.py), units_of_province and the completeness settings."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from alerts.completeness import reminder_due
from chibo.config import Completeness, Settings, load_settings, parse_completeness
from units.admin_units import units_of_province
from warehouse.expected import EXPECTED_COLUMNS, expected_rows, write_expected

LAO_CAI_DISTRICTS = {
    "Lào Cai",
    "Bát Xát",
    "Mường Khương",
    "Si Ma Cai",
    "Bắc Hà",
    "Bảo Thắng",
    "Bảo Yên",
    "Sa Pa",
    "Văn Bàn",
}


def test_lao_cai_2023_expects_its_nine_pre_reform_districts():
    units = units_of_province("Lào Cai", 2023)
    assert {unit.short_name for unit in units} == LAO_CAI_DISTRICTS
    assert {unit.era for unit in units} == {"pre-2025"}
    assert {unit.level for unit in units} == {"district"}
    assert {unit.province_code for unit in units} == {"10"}
    assert [unit.code for unit in units] == sorted(unit.code for unit in units)
    assert units_of_province("Tỉnh Lào Cai", 2024) == units


def test_lao_cai_2025_expects_its_post_reform_commune_level_units():
    units = units_of_province("Lào Cai", 2025)
    assert len(units) > 50  # the merged province (old Lào Cai and Yên Bái): about a hundred communes and wards
    assert {unit.era for unit in units} == {"2025+"}
    assert {unit.level for unit in units} == {"commune"}
    assert {unit.province_code for unit in units} == {"15"}
    assert all(unit.key.startswith("2025+:commune:") for unit in units)
    assert not {unit.key for unit in units} & {unit.key for unit in units_of_province("Lào Cai", 2024)}


def test_a_province_that_does_not_exist_that_year_is_a_lookup_error():
    assert units_of_province("Yên Bái", 2024)
    with pytest.raises(LookupError):
        units_of_province("Yên Bái", 2025)
    with pytest.raises(LookupError):
        units_of_province("Tỉnh Không Có", 2023)


def test_expected_rows_have_the_columns_and_the_deadline_of_each_year():
    rows = expected_rows(["Lào Cai"], [2023, 2025], lambda year: date(year + 1, 1, 31))
    assert all(set(row) == set(EXPECTED_COLUMNS) for row in rows)
    by_year = {year: [row for row in rows if row["report_year"] == year] for year in (2023, 2025)}
    assert len(by_year[2023]) == 9
    assert len(by_year[2025]) == len(units_of_province("Lào Cai", 2025))
    assert {row["deadline"] for row in by_year[2023]} == {date(2024, 1, 31)}
    assert {(row["province"], row["province_code"]) for row in by_year[2025]} == {("Lào Cai", "15")}
    muong_khuong = next(row for row in by_year[2023] if row["unit_code"] == "083")
    assert muong_khuong == {
        "province": "Lào Cai",
        "province_code": "10",
        "report_year": 2023,
        "unit_key": "pre-2025:district:083",
        "unit_code": "083",
        "unit_name": "Huyện Mường Khương",
        "deadline": date(2024, 1, 31),
    }


def test_expected_rows_default_deadline_is_15_january_of_the_next_year():
    assert {row["deadline"] for row in expected_rows(["Sơn La"], [2024])} == {date(2025, 1, 15)}


def test_a_province_named_twice_or_abolished_that_year_adds_no_row():
    once = expected_rows(["Lào Cai"], [2025])
    assert expected_rows(["Lào Cai", "Tỉnh Lào Cai", "Yên Bái"], [2025]) == once  # Yên Bái is in Lào Cai from 2025
    assert len(expected_rows(["Yên Bái"], [2024])) > 0


def test_a_name_that_is_no_province_is_a_configuration_error():
    with pytest.raises(ValueError, match="Lào Kai"):
        expected_rows(["Lào Kai"], [2023])


def test_write_expected_replaces_the_table(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        assert write_expected(connection, ["Lào Cai", "Điện Biên"], [2023]) == 19
        assert write_expected(connection, ["Lào Cai"], [2023, 2024]) == 18
        columns = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'ref_expected_committees' ORDER BY ordinal_position"
        ).fetchall()
        years = connection.execute(
            "SELECT report_year, count(*) FROM raw.ref_expected_committees GROUP BY ALL ORDER BY 1"
        ).fetchall()
    assert columns == [(name, kind) for name, kind in EXPECTED_COLUMNS.items()]
    assert years == [(2023, 9), (2024, 9)]


# --------------------------------------------------------------------------- settings


def test_completeness_deadline_and_reminder_days():
    completeness = Completeness()
    assert completeness.deadline_for(2024) == date(2025, 1, 15)
    days = (date(2025, 1, 1) + timedelta(days=offset) for offset in range(60))
    assert [day for day in days if completeness.is_reminder_day(day, 2024)] == [
        date(2025, 1, 8),
        date(2025, 1, 14),
        date(2025, 1, 16),
        date(2025, 1, 22),
        date(2025, 2, 14),
    ]
    assert completeness.tracked_years(date(2026, 1, 10)) == (2024, 2025)


def test_the_completeness_section_is_read_from_chibo_yaml(settings: Settings):
    assert settings.completeness == Completeness(1, 15, (7, 1), (1, 7, 30), 2)
    assert reminder_due(settings, date(2026, 1, 8)) == [2025]
    assert reminder_due(settings, date(2026, 2, 14)) == [2025]
    assert reminder_due(settings, date(2026, 1, 9)) == []
    three_years = type(settings)(**(settings.__dict__ | {"completeness": Completeness(years_back=3)}))
    assert reminder_due(three_years, date(2026, 1, 8)) == [2025]


def test_a_configuration_without_the_section_gets_the_defaults(tmp_path: Path):
    config = tmp_path / "chibo.yaml"
    config.write_text("paths: {inbox: i, archive: a, warehouse: w.duckdb, work_dir: t}\n", encoding="utf-8")
    assert load_settings({"CHIBO_CONFIG": str(config)}).completeness == Completeness()


def test_parse_completeness():
    parsed = parse_completeness({"deadline": "03-31", "reminder_days_before": [3], "years_back": 1})
    assert parsed == Completeness(3, 31, (3,), (1, 7, 30), 1)
    assert parsed.deadline_for(2025) == date(2026, 3, 31)
    with pytest.raises(ValueError):
        parse_completeness({"deadline": "02-30"})
    with pytest.raises(ValueError):
        parse_completeness({"years_back": 0})
