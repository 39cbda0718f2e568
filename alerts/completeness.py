"""The Vietnamese section of a province's digest about committees that have not reported, or reported late.

Reads ``marts.fct_reporting_status`` (docs/completeness.md); composing is pure. A committee counts as
missing until a report of it has been accepted: one whose reports were all rejected is listed apart,
as having to correct and send again.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import duckdb

from alerts.chart import stacked_bars
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


def season_years(settings: Settings, today: date) -> list[int]:
    """The report years in their reporting season on ``today``: tracked (a finished year, whose committees are
    expected), from the end of the year until the last reminder after its deadline (15/01 + 30 days by default)."""
    completeness = settings.completeness
    last_reminder = max(completeness.reminder_days_after, default=0)
    return [
        year
        for year in completeness.tracked_years(today)
        if today <= completeness.deadline_for(year) + timedelta(days=last_reminder)
    ]


@dataclass(frozen=True)
class Progress:
    """How far a province's committees are with a report year, as of a day: expected, sent, accepted."""

    report_year: int
    deadline: date
    expected: int
    received: int  # committees that sent at least one report (accepted, rejected or held)
    accepted: int  # committees with an accepted report

    @property
    def not_accepted(self) -> int:
        return self.received - self.accepted

    @property
    def missing(self) -> int:
        return self.expected - self.received

    def counts(self) -> tuple[int, int, int]:
        """Accepted, sent but not accepted, not sent: the parts of ``expected``, in the chart's order."""
        return self.accepted, self.not_accepted, self.missing


def progress_of(
    connection: duckdb.DuckDBPyConnection, province: str, report_year: int, deadline: date, today: date
) -> Progress | None:
    """The province's progress for the year as of ``today`` (``marts.fct_reporting_status``: a report received or
    accepted after that day does not count yet); None when no committee is expected or the mart is not built."""
    if not reporting_status_built(connection):
        return None
    [(expected, received, accepted)] = connection.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE first_received_on <= ?),
               count(*) FILTER (WHERE first_accepted_on <= ?)
        FROM marts.fct_reporting_status WHERE province_code = ? AND report_year = ?
        """,
        [today, today, _province_code(province, report_year), report_year],
    ).fetchall()
    if not expected:
        return None
    return Progress(report_year, deadline, int(expected), int(received), int(accepted))


def progress_sentence(progress: Progress, today: date) -> str:
    """'Báo cáo năm 2025: 87/99 đơn vị đã nộp, 80 đã được tiếp nhận (hạn 15/01/2026, còn 7 ngày).'"""
    accepted = (
        "tất cả đã được tiếp nhận"
        if progress.accepted == progress.received
        else f"{progress.accepted} đã được tiếp nhận"
    )
    sent = f"{progress.received}/{progress.expected} đơn vị đã nộp"
    said = f"{sent}, {accepted}" if progress.received else sent
    return f"Báo cáo năm {progress.report_year}: {said} ({deadline_phrase(progress.deadline, today)})."


# The chart's colours, and the legend's words for them (the HTML says the figures; the picture only shows them).
ACCEPTED_COLOUR: Final = (46, 125, 50)
NOT_ACCEPTED_COLOUR: Final = (230, 81, 0)
MISSING_COLOUR: Final = (189, 189, 189)


def progress_legend(progress: Progress) -> list[tuple[tuple[int, int, int], str]]:
    """Each part of a progress bar with its colour, in the bar's order."""
    return [
        (ACCEPTED_COLOUR, f"đã được tiếp nhận: {progress.accepted}"),
        (NOT_ACCEPTED_COLOUR, f"đã nộp, chưa được chấp nhận: {progress.not_accepted}"),
        (MISSING_COLOUR, f"chưa nộp: {progress.missing}"),
    ]


PROGRESS_HEADING: Final = "Tiến độ nộp báo cáo"


def progress_text(progresses: Sequence[Progress], today: date) -> str:
    """The digest's first lines in the reporting season (plain text)."""
    return "\n".join(f"{PROGRESS_HEADING}. {progress_sentence(p, today)}" for p in progresses)


def progress_chart(progresses: Sequence[Progress]) -> bytes:
    """A PNG: one bar per report year, accepted, sent but not accepted, and not sent, in the legend's colours."""
    return stacked_bars([(progress_segments(p), p.expected) for p in progresses])


def progress_segments(progress: Progress) -> list[tuple[int, tuple[int, int, int]]]:
    return [(count, colour) for (colour, _), count in zip(progress_legend(progress), progress.counts(), strict=True)]


def _swatch(colour: tuple[int, int, int]) -> str:
    red, green, blue = colour
    return (
        f'<span style="display:inline-block;width:12px;height:12px;background:rgb({red},{green},{blue});'
        'margin-right:4px;vertical-align:middle"></span>'
    )


def progress_html(progresses: Sequence[Progress], today: date, chart_cid: str | None) -> str:
    """The same lines in HTML, with the chart (``cid:`` ``chart_cid``, an image part of the message) and its legend
    under them; the picture has the sentences as alternative text."""
    escape = html.escape
    parts = [
        f'<p id="tien-do" style="margin:0 0 8px;font-size:17px"><b>{escape(PROGRESS_HEADING)}.</b> '
        + "<br>".join(escape(progress_sentence(p, today)) for p in progresses)
        + "</p>"
    ]
    if chart_cid is not None:
        alternative = " ".join(progress_sentence(p, today) for p in progresses)
        parts.append(
            f'<p style="margin:0 0 4px"><img src="cid:{escape(chart_cid)}" alt="{escape(alternative)}" '
            'width="320" style="display:block;width:100%;max-width:320px;height:auto;border:0"></p>'
        )
        legend = (
            progress_legend(progresses[0])
            if len(progresses) == 1
            else [(colour, label.split(":")[0]) for colour, label in progress_legend(progresses[0])]
        )
        years = (
            ""
            if len(progresses) == 1
            else (
                '<span style="display:block">Mỗi thanh một năm báo cáo: '
                + ", ".join(str(p.report_year) for p in progresses)
                + ".</span>"
            )
        )
        parts.append(
            '<p style="margin:0 0 12px;font-size:14px;color:#444">'
            + years
            + " ".join(f'<span style="white-space:nowrap">{_swatch(c)}{escape(label)}</span>' for c, label in legend)
            + "</p>"
        )
    return "\n".join(parts)


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
