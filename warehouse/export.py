"""The province's consolidated report for a year, as the official form, from the marts (``chibo export``).

The figures are the marts' (``fct_province_year`` as reported, ``fct_province_year_restated`` onto today's
provinces); how many of the expected committees they include comes from ``fct_reporting_rate`` and
``fct_reporting_status``. The form is ``contract.workbook.write_form``'s: values only, every text written as
text (a committee named "=HYPERLINK(…)" is a name, not a formula). Also the official template with the
province drop-down (``write_template``), since the units are known here and not in ``contract/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import duckdb

from chibo.config import Settings
from chibo.errors import PermanentError
from contract import workbook
from contract.model import Contract, load_contract
from units.admin_units import POST_REFORM, Unit, era_for_year, resolve_province
from warehouse.admin_dimension import province_mapping, provinces
from warehouse.raw import connect

Basis = Literal["as_reported", "restated"]
MARTS = "marts"
PROVINCE_LEVEL = "tinh"  # the contract's committee_level code of a province's own consolidated report
ANNEX_TITLE = "Đơn vị tổng hợp"
ANNEX_HEADER = ("STT", "Đảng bộ trực thuộc", "Tình trạng báo cáo", "Số liệu được tổng hợp")
# fct_reporting_status.status → (what the form says, whether the committee's figures are in the totals)
STATUSES = {
    "on_time": ("Đúng hạn", True),
    "late": ("Gửi muộn", True),
    "from_history": ("Đã nhận (dữ liệu lịch sử)", True),
    "received_not_accepted": ("Đã gửi, chưa được chấp nhận", False),
    "missing": ("Chưa gửi", False),
}


class NothingToExport(PermanentError):
    """The province or its figures for the year are not in the warehouse."""


@dataclass(frozen=True)
class Committee:
    name: str
    status: str  # fct_reporting_status.status


@dataclass(frozen=True)
class ProvinceFigures:
    """What the marts say of a province for a year."""

    province: Unit
    year: int
    basis: Basis
    figures: dict[str, Any]  # the mart's row: column → value
    committees: tuple[Committee, ...]

    @property
    def committees_reporting(self) -> int:
        """Of the committees expected, how many the totals include (the mart's committees_expected_reporting)."""
        return int(self.figures["committees_expected_reporting"] or 0)

    @property
    def committees_expected(self) -> int:
        """The committees that had to report (the mart's committees_expected)."""
        return int(self.figures["committees_expected"] or 0)


def current_province_names() -> tuple[str, ...]:
    """The 34 current provinces, as the template's drop-down offers them ("Lào Cai")."""
    return tuple(unit.short_name for unit in provinces(POST_REFORM))


def write_template(path: Path) -> Path:
    """The official blank template with the drop-down of the current provinces (``chibo template``)."""
    return workbook.write_template(path, provinces=current_province_names())


def write_province_report(
    settings: Settings, province_code: str, year: int, basis: Literal["as_reported", "restated"], path: Path
) -> Path:
    """Write the province's consolidated report for ``year`` as the official form, from the warehouse's marts;
    returns ``path``.

    ``province_code``: the province's code in the year's era for ``as_reported`` ("10", old Lào Cai, in 2023),
    a current province's code for ``restated`` ("15", today's Lào Cai)."""
    with connect(settings.warehouse, read_only=True, holder=f"export {province_code} {year}") as connection:
        return write_province_form(connection, province_code, year, basis, path)


def write_province_form(
    connection: duckdb.DuckDBPyConnection,
    province_code: str,
    year: int,
    basis: Basis,
    path: Path,
    schema: str = MARTS,
    today: date | None = None,
) -> Path:
    """:func:`write_province_report` over any copy of the marts: ``schema`` "marts" in the warehouse, "main" in
    the published snapshot (the portal's download)."""
    found = province_figures(connection, province_code, year, basis, schema)
    report, header, annex = province_form(found, today or date.today())
    return workbook.write_form(path, report, header, annexes=(annex,))


def province_unit(province_code: str, year: int, basis: Basis) -> Unit:
    unit = resolve_province(province_code, year if basis == "as_reported" else REFORM_YEAR)
    if unit is None or unit.level != "province":
        era = era_for_year(year) if basis == "as_reported" else POST_REFORM
        raise NothingToExport(f"No province has the code {province_code!r} in the {era} era.")
    return unit


REFORM_YEAR = 2025  # a year of the current era, to resolve a current province's code


def province_figures(
    connection: duckdb.DuckDBPyConnection, province_code: str, year: int, basis: Basis, schema: str = MARTS
) -> ProvinceFigures:
    """The mart's row of the province and year, the committees expected and their reporting status."""
    unit = province_unit(province_code, year, basis)
    if basis == "as_reported":
        row = _one_row(
            connection,
            f"select * from {schema}.fct_province_year where province = ? and report_year = ?",
            unit.short_name,
            year,
        )
        codes = [unit.code]
    else:
        row = _one_row(
            connection,
            f"select * from {schema}.fct_province_year_restated where province_code = ? and report_year = ?",
            unit.code,
            year,
        )
        codes = reported_codes(unit.code, year)
    if row is None:
        raise NothingToExport(f"The marts have no {basis} figures for {unit.name} ({unit.code}) in {year}.")
    placeholders = ", ".join("?" for _ in codes)
    committees = connection.execute(
        f"select unit_name, status from {schema}.fct_reporting_status"
        f" where province_code in ({placeholders}) and report_year = ? order by province_code, unit_code",
        [*codes, year],
    ).fetchall()
    members = tuple(Committee(str(name), str(status)) for name, status in committees)
    return ProvinceFigures(unit, year, basis, row, members)


def reported_codes(current_code: str, year: int) -> list[str]:
    """The codes, in the year's era, of the provinces summed into a current province."""
    if era_for_year(year) == POST_REFORM:
        return [current_code]
    return sorted(old for old, new in province_mapping().items() if new == current_code)


def _one_row(connection: duckdb.DuckDBPyConnection, sql: str, *parameters: object) -> dict[str, Any] | None:
    cursor = connection.execute(sql, list(parameters))
    columns = [description[0] for description in cursor.description]
    rows = cursor.fetchall()
    return {column: _plain(value) for column, value in zip(columns, rows[0], strict=True)} if rows else None


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def status_cells(status: str) -> tuple[str, str]:
    label, counted = STATUSES.get(status, (status, False))
    return label, "Có" if counted else "Không"


def completeness(found: ProvinceFigures) -> str:
    """The sentence that says what the figures include, on the form under its title."""
    line = f"Số liệu tổng hợp từ {found.committees_reporting}/{found.committees_expected} đảng bộ trực thuộc"
    if found.basis == "restated":
        sources = found.figures.get("restated_from") or found.province.short_name
        return f"{line}, quy về {lowered(found.province.name)} hiện nay (gồm {sources})"
    return f"{line}, theo địa giới hành chính năm {found.year}"


def committee_name(unit: Unit) -> str:
    """«Đảng bộ tỉnh Lào Cai», «Đảng bộ thành phố Hà Nội»."""
    return f"Đảng bộ {lowered(unit.name)}"


def lowered(name: str) -> str:
    """«Tỉnh Lào Cai» → «tỉnh Lào Cai», inside a sentence."""
    return name[:1].lower() + name[1:]


def province_form(
    found: ProvinceFigures, today: date, contract: Contract | None = None
) -> tuple[workbook.ReportData, workbook.FormHeader, workbook.Annex]:
    """The consolidated report as the form's values: «Thông tin chung», «Tổng hợp» and the committees summed."""
    contract = contract or load_contract()
    name = committee_name(found.province)
    levels = {value.code: value.label for value in contract.enums["committee_level"]}
    info = {
        "province": found.province.short_name,
        "committee_name": name,
        "committee_code": found.province.code,
        "committee_level": levels[PROVINCE_LEVEL],
        "report_year": found.year,
        "prepared_on": today.strftime("%d/%m/%Y"),
    }
    totals = {f.name: found.figures[f.name] for f in contract.sheet("tong_hop").fields if f.name in found.figures}
    header = workbook.FormHeader(
        party_committee=f"ĐẢNG BỘ {found.province.name.upper()}",
        reporting_unit=f"Đơn vị báo cáo: {name}",
        period=f"Kỳ báo cáo: năm {found.year}",
        note=completeness(found),
        place_and_date=f"{found.province.short_name}, ngày {today.day:02d} tháng {today.month:02d} năm {today.year}",
    )
    annex = workbook.Annex(
        ANNEX_TITLE,
        ANNEX_HEADER,
        tuple((number, c.name, *status_cells(c.status)) for number, c in enumerate(found.committees, start=1)),
    )
    return {"thong_tin": info, "tong_hop": totals}, header, annex
