"""What the nightly alert task sends: the digests due tonight, each recorded as sent as soon as the server took it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

import duckdb

from alerts.completeness import (
    Progress,
    completeness_section_html,
    completeness_section_text,
    expected_count,
    missing_and_late,
    progress_chart,
    progress_html,
    progress_of,
    progress_text,
    reminder_due,
    season_years,
)
from alerts.digest import (
    Alert,
    Lead,
    Section,
    already_said,
    compose_alerts,
    record_sent,
    unsent_held,
    unsent_reports,
    unsent_submitter_reports,
)
from alerts.mailer import SmtpConnection, send_messages
from chibo.config import Settings
from warehouse.lock import warehouse_lock
from warehouse.raw import connect, ensure_schema

log = logging.getLogger(__name__)


def completeness_sections(
    connection: duckdb.DuckDBPyConnection, settings: Settings, today: date
) -> dict[str, list[Section]]:
    """Missing and late committees, per configured province, on the reminder days (none otherwise).

    A reminder is said once per province, report year and day, however often the DAG runs that day.
    """
    sections: dict[str, list[Section]] = {}
    for report_year in reminder_due(settings, today):
        deadline = settings.completeness.deadline_for(report_year)
        for province in settings.recipients:
            key = f"reminder:{report_year}:{today.isoformat()}"
            if already_said(connection, province, key):
                continue
            missing, late = missing_and_late(connection, province, report_year, today)
            if not missing and not late:
                continue
            expected = expected_count(connection, province, report_year)
            sections.setdefault(province, []).append(
                Section(
                    text=completeness_section_text(report_year, deadline, expected, missing, late, today),
                    html=completeness_section_html(report_year, deadline, expected, missing, late, today),
                    key=key,
                    subject_part=subject_part(report_year, missing, late),
                )
            )
    return sections


PROGRESS_CHART_ID = "tien-do@chibo"  # the chart's Content-ID in a digest


def progress_lead(progresses: list[Progress], today: date) -> Lead:
    """The progress a digest starts with, in text and HTML, with its chart as the message's inline picture."""
    return Lead(
        text=progress_text(progresses, today),
        html=progress_html(progresses, today, PROGRESS_CHART_ID),
        images=((PROGRESS_CHART_ID, progress_chart(progresses)),),
    )


def progress_leads(connection: duckdb.DuckDBPyConnection, settings: Settings, today: date) -> dict[str, Lead]:
    """During the reporting season (``season_years``), each configured province's progress for the years in season."""
    years = season_years(settings, today)
    leads: dict[str, Lead] = {}
    for province in settings.recipients:
        progresses = [
            found
            for year in years
            if (found := progress_of(connection, province, year, settings.completeness.deadline_for(year), today))
        ]
        if progresses:
            leads[province] = progress_lead(progresses, today)
    return leads


def subject_part(report_year: int, missing: list, late: list) -> str:
    parts = [f"{len(missing)} đơn vị chưa có báo cáo năm {report_year} được tiếp nhận"] if missing else []
    parts += [f"{len(late)} đơn vị gửi muộn"] if late else []
    return ", ".join(parts)


def digests_to_send(settings: Settings, today: date, night: str) -> list[Alert]:
    with connect(settings.warehouse) as connection:
        ensure_schema(connection)
        reports = unsent_reports(connection)
        held = unsent_held(connection)
        sections = completeness_sections(connection, settings, today)
        submitters = unsent_submitter_reports(connection) if settings.copy_submitter else []
        leads = progress_leads(connection, settings, today)
    return compose_alerts(settings, reports, night, sections, held, submitters, leads)


def mark_sent(settings: Settings, digests: list[Alert], run_id: str) -> None:
    with connect(settings.warehouse) as connection:
        record_sent(connection, digests, run_id)


def alert_tonight(
    settings: Settings, today: date, night: str, smtp_connection: Callable[[], SmtpConnection], run_id: str
) -> list[Alert]:
    """The alert step: compose tonight's digests, send them and record each, under chibo's lock on the warehouse for
    the whole step, so that no other process composes the same digests meanwhile. The SMTP connection is read
    (``smtp_connection()``) only when there is something to send. Returns those sent."""
    with warehouse_lock(settings.warehouse, f"alert run_id {run_id}", settings.lock_wait_seconds):
        digests = digests_to_send(settings, today, night)
        for digest in digests:
            log.info("digest to %s:\n%s", ", ".join(digest.recipients), digest.text)
        return send_digests(settings, digests, smtp_connection(), run_id) if digests else []


def send_digests(settings: Settings, digests: list[Alert], connection: SmtpConnection, run_id: str) -> list[Alert]:
    """Send the digests one at a time, each recorded in ``raw.alerts_sent`` right after the server accepted it: a
    failure on one (``TransientError`` after the in-task retries, ``PermanentError`` for a message refused for good)
    never loses the record of those before it, so running the step again sends nothing twice. Returns those sent."""
    sent: list[Alert] = []

    def record(index: int) -> None:
        mark_sent(settings, [digests[index]], run_id)
        sent.append(digests[index])

    send_messages(connection, [digest.message(settings.mail_from) for digest in digests], on_sent=record)
    return sent
