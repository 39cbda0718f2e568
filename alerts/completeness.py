"""The Vietnamese section of a province's digest about committees that have not reported, or reported late.

Reads ``marts.fct_reporting_status`` (docs/completeness.md); composing is pure. A committee counts as
missing until a report of it has been accepted: one whose reports were all rejected is listed apart,
as having to correct and send again.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import duckdb

from chibo.config import Settings
from units.admin_units import resolve_province

MISSING: Final = "missing"
NOT_ACCEPTED: Final = "received_not_accepted"
LATE: Final = "late"
MAX_LISTED: Final = 200  # a post-2025 province has about 100 commune-level committees: list them all


@dataclass(frozen=True)
class CommitteeStatus:
    """One expected committee that has no accepted report, or had it late."""

    unit_key: str
    unit_code: str
    unit_name: str
    status: str  # missing | received_not_accepted | late
    deadline: date
    first_accepted_on: date | None  # Vietnam calendar day
    days_late: int | None


def format_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _province_code(province: str, report_year: int) -> str | None:
    unit = resolve_province(province, report_year)
    return unit.code if unit is not None else None


def reporting_status_built(connection: duckdb.DuckDBPyConnection) -> bool:
    """Whether the mart exists: a night whose dbt build failed before making it has no reminders to say."""
    [(count,)] = connection.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'marts' AND table_name = 'fct_reporting_status'"
    ).fetchall()
    return bool(count)


def expected_count(connection: duckdb.DuckDBPyConnection, province: str, report_year: int) -> int:
    """How many committees of the province are expected to report for the year (0 when not tracked)."""
    if not reporting_status_built(connection):
        return 0
    code = _province_code(province, report_year)
    [(count,)] = connection.execute(
        "SELECT count(*) FROM marts.fct_reporting_status WHERE province_code = ? AND report_year = ?",
        [code, report_year],
    ).fetchall()
    return int(count)


def as_of(row: CommitteeStatus, today: date) -> CommitteeStatus:
    """The status as it stood on ``today``: a report accepted after that day was still missing then."""
    if row.first_accepted_on is not None and row.first_accepted_on > today:
        return CommitteeStatus(row.unit_key, row.unit_code, row.unit_name, MISSING, row.deadline, None, None)
    return row


def missing_and_late(
    connection: duckdb.DuckDBPyConnection, province: str, report_year: int, today: date
) -> tuple[list[CommitteeStatus], list[CommitteeStatus]]:
    """Committees of the province without an accepted report for the year (missing, or only rejected
    reports), and committees whose accepted report came after the deadline, as of ``today``; by unit code.
    None of either while the mart has never been built."""
    if not reporting_status_built(connection):
        return [], []
    rows = connection.execute(
        """
        SELECT unit_key, unit_code, unit_name, status, deadline, first_accepted_on, days_late
        FROM marts.fct_reporting_status
        WHERE province_code = ? AND report_year = ? AND status <> 'on_time'
        ORDER BY unit_code
        """,
        [_province_code(province, report_year), report_year],
    ).fetchall()
    statuses = [as_of(CommitteeStatus(*row), today) for row in rows]
    missing = [row for row in statuses if row.status in (MISSING, NOT_ACCEPTED)]
    late = [row for row in statuses if row.status == LATE]
    return missing, late


def reminder_due(settings: Settings, today: date) -> list[int]:
    """The tracked report years for which today is a reminder day (before or after the deadline)."""
    completeness = settings.completeness
    return [year for year in completeness.tracked_years(today) if completeness.is_reminder_day(today, year)]


# --------------------------------------------------------------------------- sentences


def deadline_phrase(deadline: date, today: date) -> str:
    """'hạn 15/01/2025, còn 7 ngày' / 'hạn 15/01/2025, hôm nay là hạn cuối' / 'hạn 15/01/2025, đã quá hạn 3 ngày'."""
    days = (deadline - today).days
    if days > 0:
        return f"hạn {format_date(deadline)}, còn {days} ngày"
    if days == 0:
        return f"hạn {format_date(deadline)}, hôm nay là hạn cuối"
    return f"hạn {format_date(deadline)}, đã quá hạn {-days} ngày"


def _names(rows: Sequence[CommitteeStatus]) -> list[str]:
    names = [row.unit_name for row in rows[:MAX_LISTED]]
    hidden = len(rows) - MAX_LISTED
    return names + ([f"và {hidden} đơn vị khác"] if hidden > 0 else [])


def late_label(row: CommitteeStatus) -> str:
    """'Huyện Bảo Thắng (nhận ngày 20/01/2024, muộn 5 ngày)'."""
    received = f"nhận ngày {format_date(row.first_accepted_on)}" if row.first_accepted_on else "nhận sau hạn"
    late = f", muộn {row.days_late} ngày" if row.days_late else ""
    return f"{row.unit_name} ({received}{late})"


def summary_sentences(
    report_year: int,
    deadline: date,
    expected: int,
    missing: Sequence[CommitteeStatus],
    late: Sequence[CommitteeStatus],
    today: date,
) -> list[tuple[str, list[str]]]:
    """Each sentence of the section with the names it lists: the shared content of the text and HTML forms."""
    if expected == 0:
        return []
    not_sent = [row for row in missing if row.status == MISSING]
    not_accepted = [row for row in missing if row.status == NOT_ACCEPTED]
    when = deadline_phrase(deadline, today)
    if not missing and not late:
        return [(f"Tất cả {expected}/{expected} đảng bộ đã gửi báo cáo năm {report_year} đúng hạn.", [])]
    sentences: list[tuple[str, list[str]]] = []
    if not_sent:
        sentences.append(
            (f"Còn {len(not_sent)}/{expected} đảng bộ chưa gửi báo cáo năm {report_year} ({when}):", _names(not_sent))
        )
    if not_accepted:
        sentences.append(
            (
                f"{len(not_accepted)}/{expected} đảng bộ đã gửi báo cáo năm {report_year} nhưng chưa được chấp nhận, "
                f"cần sửa lỗi và gửi lại ({when}):",
                _names(not_accepted),
            )
        )
    if not missing:
        sentences.append((f"Tất cả {expected}/{expected} đảng bộ đã có báo cáo năm {report_year} được chấp nhận.", []))
    if late:
        late_names = [late_label(row) for row in late[:MAX_LISTED]]
        sentences.append((f"{len(late)}/{expected} đảng bộ gửi muộn báo cáo năm {report_year}:", late_names))
    return sentences


def completeness_section_text(
    report_year: int,
    deadline: date,
    expected: int,
    missing: Sequence[CommitteeStatus],
    late: Sequence[CommitteeStatus],
    today: date,
) -> str:
    """Plain-text fragment for the digest; empty when the province has no committee expected that year."""
    sentences = summary_sentences(report_year, deadline, expected, missing, late, today)
    return "\n".join(sentence + (" " + "; ".join(names) + "." if names else "") for sentence, names in sentences)


def completeness_section_html(
    report_year: int,
    deadline: date,
    expected: int,
    missing: Sequence[CommitteeStatus],
    late: Sequence[CommitteeStatus],
    today: date,
) -> str:
    """HTML fragment for the digest (paragraphs and lists, escaped); empty like the text form."""
    parts: list[str] = []
    for sentence, names in summary_sentences(report_year, deadline, expected, missing, late, today):
        parts.append(f"<p>{html.escape(sentence)}</p>")
        if names:
            parts.append("<ul>" + "".join(f"<li>{html.escape(name)}</li>" for name in names) + "</ul>")
    return "\n".join(parts)
