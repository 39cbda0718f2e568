"""The committees expected to report: the reference list behind the reporting rates (docs/completeness.md).

For a province and a report year, the committees expected to report are the administrative units that
existed that year (``admin_units.units_of_province``): its districts up to the 2024 round, its
commune-level units (xã, phường, đặc khu) from the 2025 round. The list is reference data: the night
recomputes ``raw.ref_expected_committees`` from the package catalogue and the configured deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date
from typing import Final

import duckdb

from chibo.config import Completeness, Settings
from units.admin_units import FIRST_POST_REFORM_YEAR, Unit, resolve_province, units_of_province
from warehouse.raw import RAW_SCHEMA

log = logging.getLogger(__name__)

EXPECTED_TABLE: Final = "ref_expected_committees"
EXPECTED_COLUMNS: Final[dict[str, str]] = {
    "province": "VARCHAR",
    "province_code": "VARCHAR",
    "report_year": "INTEGER",
    "unit_key": "VARCHAR",
    "unit_code": "VARCHAR",
    "unit_name": "VARCHAR",
    "deadline": "DATE",
}


def default_deadline(report_year: int) -> date:
    """15 January of the year after the report year (``Completeness`` defaults)."""
    return Completeness().deadline_for(report_year)


def exists_in_some_era(province: str) -> bool:
    """Whether the name is a province before or after the 2025 reform (false for a typo)."""
    return any(
        resolve_province(province, year) is not None for year in (FIRST_POST_REFORM_YEAR - 1, FIRST_POST_REFORM_YEAR)
    )


def expected_units(province: str, report_year: int) -> tuple[Unit, ...]:
    """The province's units that year; none for a province that did not exist that year (Yên Bái in 2025).

    Raises ``ValueError`` for a name that is a province in neither era.
    """
    if resolve_province(province, report_year) is not None:
        return units_of_province(province, report_year)
    if exists_in_some_era(province):
        log.warning("province %s does not exist in report year %s: no committee expected", province, report_year)
        return ()
    raise ValueError(f"Không tìm thấy tỉnh, thành phố '{province}' trong danh mục đơn vị hành chính.")


def expected_row(unit: Unit, report_year: int, deadline: date) -> dict[str, object]:
    return {
        "province": unit.province_name,
        "province_code": unit.province_code,
        "report_year": report_year,
        "unit_key": unit.key,
        "unit_code": unit.code,
        "unit_name": unit.name,
        "deadline": deadline,
    }


def expected_rows(
    provinces: Iterable[str], years: Iterable[int], deadline: Callable[[int], date] = default_deadline
) -> list[dict[str, object]]:
    """One row per province × report year × expected unit, each unit once even if its province is named twice."""
    rows: dict[tuple[str, int], dict[str, object]] = {}
    wanted_years = sorted(set(years))
    for province in provinces:
        for year in wanted_years:
            for unit in expected_units(province, year):
                rows.setdefault((unit.key, year), expected_row(unit, year, deadline(year)))
    return sorted(rows.values(), key=lambda row: (row["report_year"], row["province_code"], row["unit_code"]))


def write_expected(
    connection: duckdb.DuckDBPyConnection,
    provinces: Iterable[str],
    years: Iterable[int],
    deadline: Callable[[int], date] = default_deadline,
) -> int:
    """Replace ``raw.ref_expected_committees`` with the expected rows; returns how many were written."""
    rows = expected_rows(provinces, years, deadline)
    definition = ", ".join(f'"{name}" {kind}' for name, kind in EXPECTED_COLUMNS.items())
    placeholders = ", ".join("?" for _ in EXPECTED_COLUMNS)
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
        connection.execute(f"CREATE OR REPLACE TABLE {RAW_SCHEMA}.{EXPECTED_TABLE} ({definition})")
        if rows:
            connection.executemany(
                f"INSERT INTO {RAW_SCHEMA}.{EXPECTED_TABLE} VALUES ({placeholders})",
                [[row[name] for name in EXPECTED_COLUMNS] for row in rows],
            )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return len(rows)


def refresh_expected(connection: duckdb.DuckDBPyConnection, settings: Settings, today: date) -> int:
    """The night's call: the provinces with configured recipients, the tracked years, the configured deadline."""
    completeness = settings.completeness
    return write_expected(
        connection, settings.recipients.keys(), completeness.tracked_years(today), completeness.deadline_for
    )
