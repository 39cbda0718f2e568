"""Data-quality alerts: one Vietnamese e-mail per province listing the reports rejected in a run.

Composing is pure (warehouse rows → messages); sending happens in the DAG through Airflow's SMTP
connection. Reports whose province could not be read go to the operators.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb

from ingestion.config import Settings
from ingestion.warehouse import RAW_SCHEMA

MAX_ITEMS_PER_REPORT = 60
UNKNOWN_PROVINCE = "(chưa xác định tỉnh)"


@dataclass(frozen=True)
class Problem:
    sheet: str | None
    sheet_row: int | None
    message: str
    value: str | None


@dataclass
class RejectedReport:
    submission_id: str
    file_name: str
    province: str | None
    committee_name: str | None
    report_year: int | None
    version: int | None
    contact_email: str | None
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Alert:
    province: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    submission_ids: tuple[str, ...]


def rejected_in_run(connection: duckdb.DuckDBPyConnection, run_id: str) -> list[RejectedReport]:
    rows = connection.execute(
        f"""
        SELECT s.submission_id, s.file_name, s.province, s.committee_name, s.report_year, s.version,
               s.contact_email, f.sheet, f.sheet_row, f.message, f.value
        FROM {RAW_SCHEMA}.submission_outcomes o
        JOIN {RAW_SCHEMA}.submissions s USING (submission_id)
        LEFT JOIN {RAW_SCHEMA}.validation_failures f
               ON f.submission_id = o.submission_id AND f.run_id = o.run_id
        WHERE o.run_id = ? AND o.outcome = 'rejected'
        ORDER BY s.province, s.committee_name, s.file_name, f.sheet, f.sheet_row, f.rule_id
        """,
        [run_id],
    ).fetchall()
    reports: dict[str, RejectedReport] = {}
    for (
        submission_id,
        file_name,
        province,
        committee,
        year,
        version,
        email,
        sheet,
        row,
        message,
        value,
    ) in rows:
        report = reports.setdefault(
            submission_id, RejectedReport(submission_id, file_name, province, committee, year, version, email)
        )
        if message is not None:
            report.problems.append(Problem(sheet, row, message, value))
    return list(reports.values())


def where(problem: Problem) -> str:
    if problem.sheet_row is None:
        return f"trang {problem.sheet}" if problem.sheet and problem.sheet != "(tệp)" else "cả tệp"
    return f"trang {problem.sheet}, dòng {problem.sheet_row}"


def report_title(report: RejectedReport) -> str:
    committee = report.committee_name or "(không đọc được tên đảng bộ)"
    year = f"năm {report.report_year}" if report.report_year else "năm chưa rõ"
    version = f", lần gửi thứ {report.version}" if report.version else ""
    return f"{committee} — {year}{version} (tệp {report.file_name})"


def greeting(province: str) -> str:
    if province == UNKNOWN_PROVINCE:
        return "Kính gửi bộ phận vận hành hệ thống chibo (các tệp dưới đây không đọc được nên chưa rõ của tỉnh nào),"
    return f"Kính gửi Ban Tổ chức Tỉnh ủy {province},"


def text_body(province: str, reports: list[RejectedReport], night: str) -> str:
    lines = [
        greeting(province),
        "",
        f"Lần tổng hợp {night} có {len(reports)} báo cáo bị từ chối. Các báo cáo này được lưu lại "
        "nhưng chưa được đưa vào số liệu tổng hợp. Đề nghị đồng chí liên hệ đơn vị báo cáo để sửa "
        "các lỗi dưới đây và gửi lại.",
    ]
    for number, report in enumerate(reports, start=1):
        lines += ["", f"{number}. {report_title(report)}"]
        for problem in report.problems[:MAX_ITEMS_PER_REPORT]:
            lines.append(f"   - {where(problem)}: {problem.message}")
        hidden = len(report.problems) - MAX_ITEMS_PER_REPORT
        if hidden > 0:
            lines.append(f"   … và {hidden} lỗi khác (xem bằng lệnh: chibo validate <tệp>).")
        if report.contact_email:
            lines.append(f"   Liên hệ người lập báo cáo: {report.contact_email}")
    lines += ["", "Thư này được gửi tự động từ hệ thống chibo. Xin đừng trả lời thư này."]
    return "\n".join(lines)


def html_body(province: str, reports: list[RejectedReport], night: str) -> str:
    escape = html.escape
    parts = [
        '<html><body style="font-family: Arial, sans-serif">',
        f"<p>{escape(greeting(province))}</p>",
        f"<p>Lần tổng hợp {escape(night)} có <b>{len(reports)} báo cáo bị từ chối</b>. Các báo cáo này "
        "được lưu lại nhưng chưa được đưa vào số liệu tổng hợp. Đề nghị đồng chí liên hệ đơn vị báo "
        "cáo để sửa các lỗi dưới đây và gửi lại.</p>",
    ]
    for report in reports:
        parts.append(f"<h3>{escape(report_title(report))}</h3>")
        parts.append('<table border="1" cellpadding="4" cellspacing="0">')
        parts.append("<tr><th>Vị trí</th><th>Lỗi</th><th>Giá trị</th></tr>")
        for problem in report.problems[:MAX_ITEMS_PER_REPORT]:
            parts.append(
                f"<tr><td>{escape(where(problem))}</td><td>{escape(problem.message)}</td>"
                f"<td>{escape(problem.value or '')}</td></tr>"
            )
        parts.append("</table>")
        hidden = len(report.problems) - MAX_ITEMS_PER_REPORT
        if hidden > 0:
            parts.append(f"<p>… và {hidden} lỗi khác.</p>")
        if report.contact_email:
            parts.append(f"<p>Liên hệ người lập báo cáo: {escape(report.contact_email)}</p>")
    parts.append("<p><i>Thư này được gửi tự động từ hệ thống chibo. Xin đừng trả lời thư này.</i></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def compose_alerts(settings: Settings, reports: Iterable[RejectedReport], night: str) -> list[Alert]:
    """One alert per province that had rejected reports in the run; none when nothing was rejected."""
    by_province: dict[str, list[RejectedReport]] = {}
    for report in reports:
        by_province.setdefault(report.province or UNKNOWN_PROVINCE, []).append(report)
    alerts = []
    for province, province_reports in sorted(by_province.items()):
        recipients = settings.recipients_for(None if province == UNKNOWN_PROVINCE else province)
        alerts.append(
            Alert(
                province=province,
                recipients=recipients,
                subject=f"[chibo] {province}: {len(province_reports)} báo cáo bị từ chối — lần tổng hợp {night}",
                text=text_body(province, province_reports, night),
                html=html_body(province, province_reports, night),
                submission_ids=tuple(r.submission_id for r in province_reports),
            )
        )
    return alerts
