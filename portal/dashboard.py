"""The provincial staff's read side of the portal: a province's dashboard and the page per report.

Everything is read from the analysts' published snapshot (``<publish>/chibo.duckdb``, the marts only, in schema
``main``: ``pipeline.publish``), opened read-only: the snapshot is immutable and never locked, so the portal never
waits for the night's writer. Nothing here computes a figure: reporting status and rates come from
``fct_reporting_status`` / ``fct_reporting_rate``, figures from ``fct_province_year`` (as reported) and
``fct_province_year_restated`` (restated to today's provinces), submissions and their findings from
``fct_submissions`` / ``fct_submission_findings``.

A staff account belongs to a current (2025+) province. Which current province a row belongs to is said once,
by ``current_province_sql``: the committee's own administrative unit through ``dim_admin_unit``'s crosswalks
when it is one, else the province code intake resolved in the report year's era (as
``int_committee_year_totals__restated`` restates the figures). Codes were reused by the 2025 reform (old Yên Bái
and new Lào Cai are both '15'), so a code is never compared without its era.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Final, Protocol

import duckdb
from markupsafe import Markup

from alerts.completeness import LATE, MISSING, NOT_ACCEPTED
from chibo.config import VIETNAM
from contract.model import Contract, load_contract
from expectations.rules import history_rules
from pipeline.publish import SNAPSHOT_FILE
from portal import charts
from units.admin_units import era_for_year

# The era of a report year, in SQL: units.admin_units.era_for_year, the one definition, registered per connection.
ERA_FUNCTION: Final = "chibo_report_era"
LATE_STATUSES: Final = (MISSING, LATE, NOT_ACCEPTED)

STATUS_LABELS: Final = {
    "on_time": "Đúng hạn",
    LATE: "Muộn hạn",
    NOT_ACCEPTED: "Đã gửi, chưa được tiếp nhận",
    MISSING: "Chưa gửi",
}
OUTCOME_LABELS: Final = {
    "accepted": "Tiếp nhận",
    "rejected": "Bị từ chối",
    "held": "Đang giữ lại",
    None: "Chưa kiểm tra",
}
REPORT_KIND_LABELS: Final = {
    "detailed": "Chi tiết",
    "aggregate_only": "Chỉ tổng hợp",
    "unreadable": "Không đọc được",
    "intake_failed": "Lỗi tiếp nhận",
}
SEVERITY_LABELS: Final = {"error": "Lỗi", "warning": "Cảnh báo"}

# Measures of fct_province_year(_restated) shown on the dashboard, in order. Those that are fields of the report's
# tổng hợp take their Vietnamese header and unit from the contract; the others are named here.
FIGURE_COLUMNS: Final = (
    "committees_reporting",
    "orgs_total",
    "orgs_party_committee",
    "orgs_grassroots_branch",
    "branches_total",
    "members_total",
    "members_official",
    "members_probationary",
    "admitted",
    "villages_total",
    "villages_with_branch",
    "village_branches",
    "village_branches_with_committee",
    "pct_village_branches_with_committee",
)
OWN_FIGURE_LABELS: Final = {
    "committees_reporting": ("Số đảng bộ có báo cáo được dùng", "đơn vị"),
    "members_official": ("Đảng viên chính thức", "người"),
    "members_probationary": ("Đảng viên dự bị", "người"),
    "village_branches": ("Số chi bộ thôn, tổ dân phố", "chi bộ"),
    "village_branches_with_committee": ("Số chi bộ thôn, tổ dân phố có chi ủy", "chi bộ"),
}
# The contract's field for a mart column named otherwise.
CONTRACT_FIELD_OF: Final = {"pct_village_branches_with_committee": "village_branches_with_committee_pct"}
TREND_COLUMNS: Final = ("members_total", "admitted", "orgs_total", "branches_total")


def in_vietnam(moment: datetime) -> datetime:
    """A UTC time of the marts (naive) on Vietnam's clock."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(VIETNAM)


class Contact(Protocol):
    """What the portal knows of a committee's submitter account (``portal.store.accounts``)."""

    @property
    def full_name(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def committee_name(self) -> str | None: ...


@dataclass(frozen=True)
class Submission:
    """One row of ``fct_submissions`` with the current province it belongs to."""

    submission_id: str
    committee_key: str | None
    committee_name: str | None
    committee_code: str | None
    province: str | None
    province_code: str | None  # in the report year's era
    current_province_code: str | None
    report_year: int | None
    version: int | None
    report_kind: str
    file_name: str
    sha256: str
    received_at: datetime
    outcome: str | None  # accepted | rejected | held; None while not validated
    errors: int | None
    decided_at: datetime | None
    is_counted: bool

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome or "")

    @property
    def report_kind_label(self) -> str:
        return REPORT_KIND_LABELS.get(self.report_kind, self.report_kind)

    @property
    def received_in_vietnam(self) -> datetime:
        """When it was received, on Vietnam's clock (the marts keep UTC)."""
        return in_vietnam(self.received_at)

    @property
    def decided_in_vietnam(self) -> datetime | None:
        return None if self.decided_at is None else in_vietnam(self.decided_at)


@dataclass(frozen=True)
class Finding:
    """One finding of a submission's latest decision (``fct_submission_findings``)."""

    finding_number: int
    rule_id: str
    severity: str | None
    sheet: str | None
    sheet_title: str | None  # the sheet's Vietnamese title in the contract
    sheet_row: int | None
    field: str | None
    field_header: str | None  # the column's Vietnamese header in the contract
    value: str | None
    message: str | None
    fix: str | None
    is_history_check: bool  # a check against the committee's own earlier years (expectations.rules.history_rules)

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS.get(self.severity or "error", self.severity or "")


@dataclass(frozen=True)
class ReportDetail:
    submission: Submission
    findings: list[Finding]
    versions: list[Submission]  # every version of the same committee × report year, oldest first

    @property
    def history_findings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.is_history_check]


@dataclass(frozen=True)
class ReportingRate:
    """One row of ``fct_reporting_rate``: a province as it was in the report year's era."""

    province: str
    province_code: str
    report_year: int
    deadline: date | None
    expected: int
    received: int
    accepted: int
    on_time: int
    late: int
    received_not_accepted: int
    missing: int
    received_rate: float | None
    accepted_rate: float | None
    on_time_rate: float | None


@dataclass(frozen=True)
class LateCommittee:
    """An expected committee with no accepted report for the year, or whose accepted report came late."""

    province: str
    unit_key: str
    unit_code: str
    unit_name: str
    status: str  # missing | received_not_accepted | late
    deadline: date | None
    days_late: int | None  # late reports only (fct_reporting_status)
    submissions_received: int
    first_received_on: date | None
    first_accepted_on: date | None
    contact: Contact | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class FigureComparison:
    column: str
    label: str
    unit: str | None
    this_year: float | None
    last_year: float | None

    @property
    def difference(self) -> float | None:
        if self.this_year is None or self.last_year is None:
            return None
        return round(self.this_year - self.last_year, 1)


@dataclass(frozen=True)
class FigureTable:
    """A province's figures of the year against the year before: ``title`` names the province (and for the
    restated view, the provinces as reported that were summed)."""

    title: str
    restated: bool
    this_year_found: bool
    last_year_found: bool
    figures: list[FigureComparison]


@dataclass(frozen=True)
class GradeCount:
    grade_code: str
    grade_label: str
    count: int


@dataclass(frozen=True)
class TrendSeries:
    column: str
    label: str
    unit: str | None
    points: list[tuple[int, float | None]]  # (report year, value), every year of the snapshot for the province


@dataclass(frozen=True)
class ProvinceDashboard:
    province_code: str  # current (2025+) code
    province_name: str
    report_year: int | None  # None: nothing in the snapshot for the province
    years: list[int]  # newest first
    reporting_rates: list[ReportingRate]  # one per province as it was that year (two before 2025 for a merger)
    late: list[LateCommittee]
    figures_as_reported: list[FigureTable]
    figures_restated: FigureTable | None
    grades: list[GradeCount]
    trends: list[TrendSeries]
    submissions: list[Submission]

    @property
    def previous_year(self) -> int | None:
        return None if self.report_year is None else self.report_year - 1

    def grade_chart(self) -> Markup:
        """The organisations' grades of the year as bars (inline SVG)."""
        return charts.bar_chart(
            "bieu-do-xep-loai",
            f"Xếp loại tổ chức cơ sở đảng năm {self.report_year}",
            [(grade.grade_label, grade.count) for grade in self.grades],
            "tổ chức",
        )

    def trend_charts(self) -> list[Markup]:
        """One chart per trend series over the years (inline SVG): a line, columns for the yearly admissions."""
        return [
            charts.series_chart(
                f"xu-huong-{series.column}",
                f"{series.label} qua các năm" + (f" ({series.unit})" if series.unit else ""),
                series.points,
                series.unit or "",
                "column" if series.column == "admitted" else "line",
            )
            for series in self.trends
        ]


# --------------------------------------------------------------------------- the snapshot


def open_snapshot(publish: Path) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection to the current published snapshot, or None when nothing is published yet."""
    path = publish / SNAPSHOT_FILE
    if not path.is_file():
        return None
    connection = duckdb.connect(str(path), read_only=True)
    _register_era(connection)
    return connection


def _register_era(connection: duckdb.DuckDBPyConnection) -> None:
    [(registered,)] = connection.execute(
        "select count(*) from duckdb_functions() where function_name = ?", [ERA_FUNCTION]
    ).fetchall()
    if not registered:
        connection.create_function(ERA_FUNCTION, era_for_year, ["INTEGER"], "VARCHAR", side_effects=False)


def current_province_sql(unit_key: str, province_code: str, report_year: str) -> str:
    """SQL for the current (2025+) province code a row belongs to, given SQL expressions for its committee's key
    (or ``null``), its province code in the report year's era and its report year: the committee's own unit's
    current province when the key is an administrative unit, else the current province of the province with that
    code in the report year's era (``dim_admin_unit.current_province_code``). The one definition in the portal."""
    return f"""coalesce(
        (select unit.current_province_code from main.dim_admin_unit as unit where unit.unit_key = {unit_key}),
        (select province.current_province_code from main.dim_admin_unit as province
         where province.level = 'province' and province.code = {province_code}
           and province.era = {ERA_FUNCTION}({report_year}))
    )"""


def current_provinces(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(code, name) of the provinces of today's era, by code."""
    rows = connection.execute(
        "select code, short_name from main.dim_admin_unit where level = 'province' and is_current order by code"
    ).fetchall()
    return [(str(code), str(name)) for code, name in rows]


SUBMISSION_COLUMNS: Final = (
    "submission_id, committee_key, committee_name, committee_code, province, province_code, "
    "current_province_code, report_year, version, report_kind, file_name, sha256, received_at, outcome, errors, "
    "decided_at, is_counted"
)


def _submissions_sql() -> str:
    """fct_submissions with each submission's current province."""
    current = current_province_sql("submissions.committee_key", "submissions.province_code", "submissions.report_year")
    return f"(select submissions.*, {current} as current_province_code from main.fct_submissions as submissions)"


def _submissions(connection: duckdb.DuckDBPyConnection, where: str, parameters: Sequence[object]) -> list[Submission]:
    _register_era(connection)
    rows = connection.execute(
        f"select {SUBMISSION_COLUMNS} from {_submissions_sql()} as submissions where {where} "
        "order by report_year desc nulls last, committee_name, version",
        list(parameters),
    ).fetchall()
    return [Submission(*row) for row in rows]


def current_province_of_submission(connection: duckdb.DuckDBPyConnection, submission_id: str) -> str | None:
    """The current (2025+) province code a submission belongs to, None when it has none (an unreadable file) or
    is unknown."""
    found = _submissions(connection, "submission_id = ?", [submission_id])
    return found[0].current_province_code if found else None


def current_province_of_committee(connection: duckdb.DuckDBPyConnection, committee_key: str | None) -> str | None:
    """The current (2025+) province code of a committee: its own unit's when it is an administrative unit, else
    that of its latest submission in the snapshot; None when neither is known."""
    if committee_key is None:
        return None
    _register_era(connection)
    by_unit = current_province_sql("$key", "null", "null")
    [(code,)] = connection.execute(f"select {by_unit}", {"key": committee_key}).fetchall()
    if code is not None:
        return str(code)
    found = committee_submissions(connection, committee_key)
    return next((s.current_province_code for s in found if s.current_province_code is not None), None)


def committee_submissions(connection: duckdb.DuckDBPyConnection, committee_key: str) -> list[Submission]:
    """Every submission of a committee (a submitter's own history), newest year first, then by version."""
    return _submissions(connection, "committee_key = ?", [committee_key])


# --------------------------------------------------------------------------- the page per report


@cache
def _contract() -> Contract:
    return load_contract()


@cache
def history_rule_ids() -> frozenset[str]:
    """The rules that check a report against the committee's own history (and the province reconciliation)."""
    return frozenset(rule.rule_id for rule in history_rules())


def sheet_title(sheet: str | None) -> str | None:
    """A sheet's title as the template names it («Tổ chức cơ sở đảng»), for people; None for another name."""
    return next((s.title for s in _contract().sheets if s.name == sheet), None)


def field_header(sheet: str | None, field: str | None) -> str | None:
    """A column's header as the template names it, for people; None when the sheet has no such field."""
    for candidate in _contract().sheets:
        if candidate.name == sheet:
            return next((f.header for f in candidate.fields if f.name == field), None)
    return None


def report_detail(connection: duckdb.DuckDBPyConnection, submission_id: str) -> ReportDetail | None:
    """A submission, the findings of its latest decision (history checks marked) and every version of the same
    committee × report year; None for an unknown id."""
    found = _submissions(connection, "submission_id = ?", [submission_id])
    if not found:
        return None
    submission = found[0]
    rows = connection.execute(
        "select finding_number, rule_id, severity, sheet, sheet_row, field, value, message, fix "
        "from main.fct_submission_findings where submission_id = ? order by finding_number",
        [submission_id],
    ).fetchall()
    history = history_rule_ids()
    findings = [
        Finding(
            number,
            rule_id,
            severity,
            sheet,
            sheet_title(sheet),
            sheet_row,
            field,
            field_header(sheet, field),
            value,
            message,
            fix,
            rule_id in history,
        )
        for number, rule_id, severity, sheet, sheet_row, field, value, message, fix in rows
    ]
    if submission.committee_key is None or submission.report_year is None:
        versions = [submission]
    else:
        versions = _submissions(
            connection, "committee_key = ? and report_year = ?", [submission.committee_key, submission.report_year]
        )
        versions.sort(key=lambda version: (version.version or 0, version.received_at))
    return ReportDetail(submission, findings, versions)


# --------------------------------------------------------------------------- the province's dashboard


def province_years(connection: duckdb.DuckDBPyConnection, province_code: str) -> list[int]:
    """Every report year the snapshot holds for the current province (status, figures or submissions), newest
    first."""
    _register_era(connection)
    status = current_province_sql("status.unit_key", "status.province_code", "status.report_year")
    rows = connection.execute(
        f"""
        select distinct report_year from (
            select status.report_year from main.fct_reporting_status as status where {status} = $code
            union all
            select restated.report_year from main.fct_province_year_restated as restated
            where restated.province_code = $code
            union all
            select submissions.report_year from {_submissions_sql()} as submissions
            where submissions.current_province_code = $code
        ) where report_year is not null
        order by report_year desc
        """,
        {"code": province_code},
    ).fetchall()
    return [int(year) for (year,) in rows]


def reporting_rates(connection: duckdb.DuckDBPyConnection, province_code: str, report_year: int) -> list[ReportingRate]:
    _register_era(connection)
    current = current_province_sql("null", "rate.province_code", "rate.report_year")
    rows = connection.execute(
        f"""
        select province, province_code, report_year, deadline, expected, received, accepted, on_time, late,
               received_not_accepted, missing, received_rate, accepted_rate, on_time_rate
        from main.fct_reporting_rate as rate
        where rate.report_year = $year and {current} = $code
        order by province_code
        """,
        {"code": province_code, "year": report_year},
    ).fetchall()
    return [ReportingRate(*row) for row in rows]


def late_committees(
    connection: duckdb.DuckDBPyConnection, province_code: str, report_year: int, contacts: Mapping[str, Contact]
) -> list[LateCommittee]:
    """The expected committees that are missing, late or have no accepted report, with their contact."""
    _register_era(connection)
    current = current_province_sql("status.unit_key", "status.province_code", "status.report_year")
    rows = connection.execute(
        f"""
        select province, unit_key, unit_code, unit_name, status, deadline, days_late, submissions_received,
               first_received_on, first_accepted_on
        from main.fct_reporting_status as status
        where status.report_year = $year and list_contains($statuses, status.status) and {current} = $code
        order by province_code, unit_code
        """,
        {"code": province_code, "year": report_year, "statuses": list(LATE_STATUSES)},
    ).fetchall()
    return [LateCommittee(*row[:10], contact=contacts.get(row[1])) for row in rows]  # type: ignore[misc]


def _figure_labels() -> dict[str, tuple[str, str | None]]:
    tong_hop = {field.name: field for field in _contract().sheet("tong_hop").fields}
    labels: dict[str, tuple[str, str | None]] = {}
    for column in FIGURE_COLUMNS:
        field = tong_hop.get(CONTRACT_FIELD_OF.get(column, column))
        labels[column] = (field.header, field.unit) if field is not None else OWN_FIGURE_LABELS[column]
    return labels


def _compare(this_year: Mapping[str, object] | None, last_year: Mapping[str, object] | None) -> list[FigureComparison]:
    labels = _figure_labels()
    return [
        FigureComparison(
            column,
            labels[column][0],
            labels[column][1],
            _number(this_year.get(column)) if this_year else None,
            _number(last_year.get(column)) if last_year else None,
        )
        for column in FIGURE_COLUMNS
    ]


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float | Decimal) else None


def _year(row: Mapping[str, object]) -> int:
    year = row["report_year"]
    if not isinstance(year, int):
        raise TypeError(f"report_year {year!r} is not a year")
    return year


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    names = [column[0] for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _as_reported_rows(
    connection: duckdb.DuckDBPyConnection, province_code: str, years: Iterable[int]
) -> list[dict[str, object]]:
    """fct_province_year rows of the current province for the years, each with its province's code and era (from
    the submissions it was built from)."""
    _register_era(connection)
    current = current_province_sql("null", "submissions.province_code", "figures.report_year")
    return _dicts(
        connection.execute(
            f"""
            select figures.*, submissions.province_code as reported_province_code,
                   {ERA_FUNCTION}(figures.report_year) as reported_era
            from main.fct_province_year as figures
            inner join main.fct_submissions as submissions
                on submissions.submission_id = figures.submission_ids[1]
            where list_contains($years, figures.report_year) and {current} = $code
            order by figures.province
            """,
            {"code": province_code, "years": list(years)},
        )
    )


def figures_as_reported(
    connection: duckdb.DuckDBPyConnection, province_code: str, report_year: int
) -> list[FigureTable]:
    """One table per province as reported in the year (two before 2025 for a merged province), each against the
    same province as reported the year before (none across the 2025 reform: see the restated view)."""
    rows = _as_reported_rows(connection, province_code, [report_year, report_year - 1])
    this_year = [row for row in rows if row["report_year"] == report_year]
    tables = []
    for row in this_year:
        same = (row["reported_province_code"], row["reported_era"])
        last = next(
            (
                other
                for other in rows
                if other["report_year"] == report_year - 1
                and (other["reported_province_code"], other["reported_era"]) == same
            ),
            None,
        )
        tables.append(FigureTable(str(row["province"]), False, True, last is not None, _compare(row, last)))
    return tables


def _restated_rows(connection: duckdb.DuckDBPyConnection, province_code: str) -> list[dict[str, object]]:
    return _dicts(
        connection.execute(
            "select * from main.fct_province_year_restated where province_code = ? order by report_year",
            [province_code],
        )
    )


def figures_restated(rows: Sequence[Mapping[str, object]], province_name: str, report_year: int) -> FigureTable | None:
    this_year = next((row for row in rows if row["report_year"] == report_year), None)
    last_year = next((row for row in rows if row["report_year"] == report_year - 1), None)
    if this_year is None and last_year is None:
        return None
    summed = (this_year or last_year or {}).get("restated_from")
    title = f"{province_name} (gộp: {summed})" if summed and summed != province_name else province_name
    return FigureTable(title, True, this_year is not None, last_year is not None, _compare(this_year, last_year))


def grade_columns() -> dict[str, str]:
    """Mart column → grade code: the tổng hợp fields that count organisations of one grade (contract ``detail``)."""
    return {
        field.name: field.detail.where["org_grade"]
        for field in _contract().sheet("tong_hop").fields
        if field.detail is not None and "org_grade" in field.detail.where
    }


def grade_distribution(
    connection: duckdb.DuckDBPyConnection, rows: Sequence[Mapping[str, object]], report_year: int
) -> list[GradeCount]:
    """Organisations per grade in the year, restated to the current province (the grades of the year's scale: a
    grade the scale does not have is null in the mart and left out), by rank."""
    row = next((row for row in rows if row["report_year"] == report_year), None)
    if row is None:
        return []
    columns = {code: column for column, code in grade_columns().items()}
    grades = connection.execute(
        "select grade_code, grade_label from main.dim_grade order by grade_rank, grade_code"
    ).fetchall()
    counts = []
    for code, label in grades:
        count = _number(row.get(columns.get(code, "")))
        if count is not None:
            counts.append(GradeCount(code, label, int(count)))
    return counts


def trends(rows: Sequence[Mapping[str, object]]) -> list[TrendSeries]:
    """Restated series over every year the snapshot holds for the province."""
    labels = _figure_labels()
    return [
        TrendSeries(
            column,
            labels[column][0],
            labels[column][1],
            [(_year(row), _number(row.get(column))) for row in rows],
        )
        for column in TREND_COLUMNS
    ]


def province_dashboard(
    connection: duckdb.DuckDBPyConnection,
    province_code: str,
    report_year: int | None,
    contacts: Mapping[str, Contact],
) -> ProvinceDashboard:
    """The dashboard of a current (2025+) province for a report year (None: the latest year the snapshot holds
    for it). ``contacts`` maps a committee_key to its submitter account."""
    _register_era(connection)
    names = dict(current_provinces(connection))
    province_name = names.get(province_code, province_code)
    years = province_years(connection, province_code)
    year = report_year if report_year is not None else (years[0] if years else None)
    if year is None:
        return ProvinceDashboard(province_code, province_name, None, years, [], [], [], None, [], [], [])
    restated = _restated_rows(connection, province_code)
    return ProvinceDashboard(
        province_code=province_code,
        province_name=province_name,
        report_year=year,
        years=years,
        reporting_rates=reporting_rates(connection, province_code, year),
        late=late_committees(connection, province_code, year, contacts),
        figures_as_reported=figures_as_reported(connection, province_code, year),
        figures_restated=figures_restated(restated, province_name, year),
        grades=grade_distribution(connection, restated, year),
        trends=trends(restated),
        submissions=_submissions(connection, "current_province_code = ? and report_year = ?", [province_code, year]),
    )
