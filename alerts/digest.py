"""The nightly digest: one Vietnamese e-mail per province, HTML and plain text.

It lists the reports decided since the last digest: rejected ones with what to fix, accepted ones
with warnings to check, each report linking to its page on the Board's portal (``portal.public_url``:
its findings, history checks, versions and approval; docs/portal.md), held ones (a check could not run:
not the committee's fault); and, on reminder days, the committees that have not reported or reported
late. Composing is pure (warehouse rows → messages); the DAG sends them through Airflow's SMTP
connection and records what was sent, so the same finding of the same report version is never sent
twice. Reports whose province is unknown go to the operators, and so does a technical digest of every
held decision (the rule that could not run and why), once per decision.
"""

from __future__ import annotations

import email.utils
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from functools import cache

import duckdb

from alerts.mailer import stamp
from chibo.config import Settings, province_match_key
from contract.model import load_contract
from warehouse import views
from warehouse.raw import RAW_SCHEMA

MAX_ITEMS_PER_REPORT = 60
UNKNOWN_PROVINCE = "(chưa xác định tỉnh)"
OUTCOME_KIND = "outcome"  # alerts_sent.kind of a final decision (accepted/rejected) told to the province
HELD_KIND = "held"  # the province was told the report is held (once per submission)
OPERATORS_HELD_KIND = "held:"  # + run_id: the operators were told of this held decision
OPERATORS = "(bộ phận vận hành)"
SUBMITTER = "submitter:"  # + outcome or held: alerts_sent.kind of the submitter's own copy of the decision
INTAKE_FAILED_RULE_ID = "tep.loi_tiep_nhan"
NOTHING_TO_SAY = "Không có báo cáo nào bị từ chối hay cần kiểm tra kể từ lần tổng hợp trước."


@dataclass(frozen=True)
class Problem:
    sheet: str | None
    sheet_row: int | None
    message: str
    value: str | None
    severity: str = "error"
    fix: str | None = None
    docs_url: str | None = None
    rule_id: str | None = None
    detail: str | None = None  # technical detail for the operators: set when the check could not run


@dataclass
class ReportItem:
    submission_id: str
    file_name: str
    province: str | None
    committee_name: str | None
    report_year: int | None
    version: int | None
    contact_email: str | None
    outcome: str
    problems: list[Problem] = field(default_factory=list)
    decided_in: str | None = None  # run_id of the decision
    archived_path: str | None = None
    portal_url: str | None = None  # the report's page on the portal (set by compose_alerts)
    corrects: int | None = None  # accepted, and the committee's earlier version of the year (this one) was rejected


@dataclass(frozen=True)
class Section:
    """Another part of a province's digest (missing and late committees), already in both forms."""

    text: str
    html: str
    key: str  # what was said, to record it as sent (e.g. "reminder:2025:2026-01-16")
    subject_part: str = ""  # for the subject line, e.g. "9 đơn vị chưa gửi, 1 đơn vị gửi muộn"


@dataclass(frozen=True)
class Lead:
    """What a province's digest starts with during the reporting season: the progress ("87/99 đơn vị đã nộp"),
    already in both forms, and the pictures its HTML shows (``cid:`` content id, PNG bytes)."""

    text: str
    html: str
    images: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class Alert:
    province: str
    recipients: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    text: str
    html: str
    submission_ids: tuple[str, ...]
    section_keys: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # the alerts_sent kind recorded for each of submission_ids (default: outcome)
    images: tuple[tuple[str, bytes], ...] = ()  # (content id, PNG) shown by the HTML as cid:<content id>

    def message(self, mail_from: str) -> MIMEMultipart:
        """multipart/alternative: plain text, then HTML (multipart/related with its pictures when it has any), with
        ``From`` (display name encoded), ``Date`` and ``Message-ID`` (``alerts.mailer.stamp``). (The compat32 MIME
        classes, as Airflow's own SmtpHook uses: EmailMessage's header folding drops spaces between Vietnamese
        encoded words.)"""
        message = MIMEMultipart("alternative")
        message["Subject"] = " ".join(self.subject.split())  # a submitted name's line breaks never start a header
        stamp(message, mail_from)
        message["To"] = ", ".join(self.recipients)
        if self.cc:
            message["Cc"] = ", ".join(self.cc)
        message.attach(MIMEText(self.text, "plain", "utf-8"))
        html_part = MIMEText(self.html, "html", "utf-8")
        if not self.images:
            message.attach(html_part)
            return message
        related = MIMEMultipart("related")
        related.attach(html_part)
        for content_id, png in self.images:
            image = MIMEImage(png, "png")
            image["Content-ID"] = f"<{content_id}>"
            image.add_header("Content-Disposition", "inline", filename=content_id.partition("@")[0] + ".png")
            related.attach(image)
        message.attach(related)
        return message


LATEST_DECISIONS = f"""
SELECT s.submission_id, s.file_name, s.province, s.committee_name, s.report_year, s.version, s.contact_email,
       o.outcome, o.run_id, s.archived_path,
       f.sheet, f.sheet_row, f.message, f.value, coalesce(f.severity, 'error'), f.fix, f.docs_url, f.rule_id, f.detail
FROM {views.LATEST_OUTCOMES} o
JOIN {RAW_SCHEMA}.submissions s USING (submission_id)
JOIN {RAW_SCHEMA}.validation_failures f ON f.submission_id = o.submission_id AND f.run_id = o.run_id
"""
ORDER_BY = "ORDER BY s.province, s.committee_name, s.file_name, f.severity, f.sheet, f.sheet_row, f.rule_id"



def unsent_sql(audience: str = "") -> str:
    """Latest decisions with findings not yet told to ``audience`` (the province: ""; a submitter: SUBMITTER)."""
    return f"""{LATEST_DECISIONS}
WHERE NOT EXISTS (
    SELECT 1 FROM {RAW_SCHEMA}.alerts_sent a
    WHERE a.submission_id = o.submission_id
      AND a.kind = CASE WHEN o.outcome = 'held' THEN '{audience}{HELD_KIND}' ELSE '{audience}{OUTCOME_KIND}' END
)
{ORDER_BY}
"""


UNSENT_HELD_SQL = f"""{LATEST_DECISIONS}
WHERE o.outcome = 'held' AND f.detail IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM {RAW_SCHEMA}.alerts_sent a
    WHERE a.submission_id = o.submission_id AND a.kind = '{OPERATORS_HELD_KIND}' || o.run_id
)
{ORDER_BY}
"""


def report_items(rows: list[tuple]) -> list[ReportItem]:
    reports: dict[str, ReportItem] = {}
    for row in rows:
        submission_id, file_name, province, committee, year, version, email, outcome, run_id, archived = row[:10]
        sheet, sheet_row, message, value, severity, fix, docs_url, rule_id, detail = row[10:]
        report = reports.setdefault(
            submission_id,
            ReportItem(
                submission_id, file_name, province, committee, year, version, email, outcome, [], run_id, archived
            ),
        )
        report.problems.append(Problem(sheet, sheet_row, message, value, severity, fix, docs_url, rule_id, detail))
    return list(reports.values())


# Accepted reports that do not count for their committee × year (int_submissions__counted: a detailed report wins
# over an aggregate-only one), with the version that does: the province is told which figures it will see.
def unsent_not_counted_sql(audience: str = "") -> str:
    return f"""
SELECT s.submission_id, s.file_name, s.province, s.committee_name, s.report_year, s.version, s.contact_email,
       o.outcome, o.run_id, s.archived_path, c.version, c.report_kind, coalesce(a.held_by_lock, false)
FROM {views.LATEST_OUTCOMES} o
JOIN {RAW_SCHEMA}.submissions s USING (submission_id)
JOIN {views.COUNTED} c ON c.committee_key = s.committee_key AND c.report_year = s.report_year
LEFT JOIN {views.APPROVAL} a ON a.submission_id = s.submission_id
WHERE o.outcome = 'accepted' AND c.submission_id <> s.submission_id
  AND NOT EXISTS (
    SELECT 1 FROM {RAW_SCHEMA}.alerts_sent a
    WHERE a.submission_id = o.submission_id AND a.kind = '{audience}{OUTCOME_KIND}'
  )
ORDER BY s.province, s.committee_name, s.file_name
"""


REPORT_KIND_LABELS = {"detailed": "báo cáo chi tiết", "aggregate_only": "báo cáo chỉ có trang tổng hợp"}


def not_counted_problem(counted_version: int, counted_kind: str, held_by_lock: bool = False) -> Problem:
    """Why an accepted report does not count: its year is locked (chốt số liệu) and it awaits the staff's approval,
    or a detailed version of the same year wins over it (``int_submissions__counted``)."""
    if held_by_lock:
        return Problem(
            sheet=None,
            sheet_row=None,
            message=f"Số liệu năm này của tỉnh đã được chốt: số liệu tổng hợp vẫn dùng lần gửi thứ {counted_version} "
            "cho đến khi Ban Tổ chức tỉnh phê duyệt báo cáo này.",
            value=None,
            severity="warning",
            fix="Ban Tổ chức tỉnh xem và phê duyệt (hoặc trả lại) báo cáo này trên cổng báo cáo.",
        )
    counted = REPORT_KIND_LABELS.get(counted_kind, counted_kind)
    return Problem(
        sheet=None,
        sheet_row=None,
        message=f"Báo cáo này đã được tiếp nhận nhưng số liệu tổng hợp vẫn dùng lần gửi thứ {counted_version} "
        f"({counted}): báo cáo chi tiết được ưu tiên hơn báo cáo chỉ có trang tổng hợp.",
        value=None,
        severity="warning",
        fix="Nếu số liệu lần này mới đúng, đề nghị gửi lại báo cáo đầy đủ các trang chi tiết.",
    )


# Accepted reports that correct a rejection the same audience was told of: the committee's latest earlier version of
# the same year was rejected (no version accepted in between), and this one is accepted.
def unsent_corrections_sql(audience: str = "") -> str:
    return f"""
SELECT s.submission_id, s.file_name, s.province, s.committee_name, s.report_year, s.version, s.contact_email,
       o.outcome, o.run_id, s.archived_path, max(e.version)
FROM {views.LATEST_OUTCOMES} o
JOIN {RAW_SCHEMA}.submissions s USING (submission_id)
JOIN {RAW_SCHEMA}.submissions e
  ON e.committee_key = s.committee_key AND e.report_year = s.report_year AND e.version < s.version
JOIN {views.LATEST_OUTCOMES} eo ON eo.submission_id = e.submission_id AND eo.outcome = 'rejected'
WHERE o.outcome = 'accepted'
  AND EXISTS (
    SELECT 1 FROM {RAW_SCHEMA}.alerts_sent a
    WHERE a.submission_id = e.submission_id AND a.kind = '{audience}{OUTCOME_KIND}'
  )
  AND NOT EXISTS (
    SELECT 1 FROM {RAW_SCHEMA}.alerts_sent a
    WHERE a.submission_id = s.submission_id AND a.kind = '{audience}{OUTCOME_KIND}'
  )
  AND NOT EXISTS (
    SELECT 1 FROM {RAW_SCHEMA}.submissions m JOIN {views.LATEST_OUTCOMES} mo USING (submission_id)
    WHERE m.committee_key = s.committee_key AND m.report_year = s.report_year AND mo.outcome = 'accepted'
      AND m.version > e.version AND m.version < s.version
  )
GROUP BY ALL
ORDER BY s.province, s.committee_name, s.file_name
"""


def unsent_reports(connection: duckdb.DuckDBPyConnection, audience: str = "") -> list[ReportItem]:
    """Decided reports with something to say (errors or warnings, held, accepted without counting, or accepted
    after a rejection ``audience`` was told of) that no digest has carried yet (to ``audience``: the province by
    default). Which report counts is the warehouse's view, as in the marts and `chibo history`."""
    views.require_views(connection)
    found = report_items(connection.execute(unsent_sql(audience)).fetchall())
    reports = {item.submission_id: item for item in found}
    for row in connection.execute(unsent_corrections_sql(audience)).fetchall():
        submission_id, file_name, province, committee, year, version, email, outcome, run_id, archived = row[:10]
        new_item = ReportItem(
            submission_id, file_name, province, committee, year, version, email, outcome, [], run_id, archived
        )
        reports.setdefault(submission_id, new_item).corrects = row[10]
    for row in connection.execute(unsent_not_counted_sql(audience)).fetchall():
        submission_id, file_name, province, committee, year, version, email, outcome, run_id, archived = row[:10]
        counted_version, counted_kind, held_by_lock = row[10:]
        new_item = ReportItem(
            submission_id, file_name, province, committee, year, version, email, outcome, [], run_id, archived
        )
        item = reports.setdefault(submission_id, new_item)
        item.problems.append(not_counted_problem(counted_version, counted_kind, held_by_lock))
    return list(reports.values())


def unsent_submitter_reports(connection: duckdb.DuckDBPyConnection) -> list[ReportItem]:
    """The reports whose submitter has not yet had their own copy of the decision, among those whose contact e-mail
    is one valid address (``single_address``): recorded apart from the province's digest, so neither is lost or
    sent twice when the other fails."""
    return [r for r in unsent_reports(connection, SUBMITTER) if single_address(r.contact_email)]


def unsent_held(connection: duckdb.DuckDBPyConnection) -> list[ReportItem]:
    """Held decisions the operators have not been told of, with the checks that could not run and why."""
    return report_items(connection.execute(UNSENT_HELD_SQL).fetchall())


def record_sent(connection: duckdb.DuckDBPyConnection, alerts: Iterable[Alert], run_id: str) -> None:
    sent_at = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        (submission_id, alert.province, kind, run_id, sent_at)
        for alert in alerts
        for submission_id, kind in zip(
            alert.submission_ids, alert.kinds or (OUTCOME_KIND,) * len(alert.submission_ids), strict=True
        )
    ] + [(None, alert.province, key, run_id, sent_at) for alert in alerts for key in alert.section_keys]
    if rows:
        connection.executemany(f"INSERT INTO {RAW_SCHEMA}.alerts_sent VALUES (?, ?, ?, ?, ?)", rows)


def already_said(connection: duckdb.DuckDBPyConnection, province: str, key: str) -> bool:
    rows = connection.execute(
        f"SELECT 1 FROM {RAW_SCHEMA}.alerts_sent WHERE province = ? AND kind = ?", [province, key]
    ).fetchall()
    return bool(rows)


# A recipient taken from a submitted cell: ASCII, one local part and one domain of letters, digits and hyphens,
# nothing else (no display name, comment, quote, group, list, space or line break).
ADDRESS_PATTERN = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def single_address(cell: str | None) -> str | None:
    """The contact e-mail cell as one recipient when it is exactly one plain valid address, else ``None``: a list
    ("a@x.vn, b@y.vn"), a display name or comment ("Ban <a@x.vn>"), CR/LF or any other header trick never makes a
    recipient. Checked with ``email.utils`` and a strict pattern, which must agree."""
    if cell is None:
        return None
    text = cell.strip()
    if len(text) > 254 or not ADDRESS_PATTERN.fullmatch(text):
        return None
    if email.utils.getaddresses([text]) != [("", text)] or email.utils.parseaddr(text) != ("", text):
        return None
    return text


# ------------------------------------------------------------------ wording


@cache
def sheet_titles() -> dict[str, str]:
    """Each sheet's Vietnamese title (contract.yaml), as the template and the portal name it for people."""
    return {sheet.name: sheet.title for sheet in load_contract().sheets}


def sheet_label(sheet: str) -> str:
    return f"trang «{sheet_titles().get(sheet, sheet)}»"


def where(problem: Problem) -> str:
    """'trang «Chi bộ trực thuộc», dòng 5', 'trang «Tổng hợp»' or 'cả tệp'."""
    if not problem.sheet or problem.sheet == "(tệp)":
        return "cả tệp"
    if problem.sheet_row is None:
        return sheet_label(problem.sheet)
    return f"{sheet_label(problem.sheet)}, dòng {problem.sheet_row}"


def report_title(report: ReportItem) -> str:
    committee = report.committee_name or "(không đọc được tên đảng bộ)"
    year = f"năm {report.report_year}" if report.report_year else "năm chưa rõ"
    version = f", lần gửi thứ {report.version}" if report.version else ""
    return f"{committee} — {year}{version} (tệp {report.file_name})"


def correction_sentence(report: ReportItem) -> str:
    return (
        f"Báo cáo này sửa lại lần gửi thứ {report.corrects} (đã bị từ chối) và đã được tiếp nhận: "
        "số liệu đã vào tổng hợp."
    )


def greeting(province: str) -> str:
    if province == UNKNOWN_PROVINCE:
        return "Kính gửi bộ phận vận hành hệ thống chibo (các tệp dưới đây không đọc được nên chưa rõ của tỉnh nào),"
    return f"Kính gửi Ban Tổ chức Tỉnh ủy {province},"


def intro(night: str) -> str:
    return f"Kết quả tổng hợp số liệu tổ chức đảng, đảng viên — tổng hợp ngày {night}:"


@dataclass(frozen=True)
class Groups:
    rejected: list[ReportItem]
    warned: list[ReportItem]  # accepted with findings to check (corrections among them say so)
    corrected: list[ReportItem]  # accepted with nothing to check, correcting a rejected version
    held: list[ReportItem]


def split(reports: list[ReportItem]) -> Groups:
    accepted = [r for r in reports if r.outcome == "accepted"]
    return Groups(
        rejected=[r for r in reports if r.outcome == "rejected"],
        warned=[r for r in accepted if r.problems],
        corrected=[r for r in accepted if not r.problems and r.corrects is not None],
        held=[r for r in reports if r.outcome == "held"],
    )


HELD_HEADING = "BÁO CÁO ĐANG ĐƯỢC GIỮ LẠI — không phải do lỗi của đơn vị"
HELD_EXPLANATION = (
    "Hệ thống chưa kiểm tra xong các báo cáo này vì một lỗi kỹ thuật; bộ phận kỹ thuật đã được báo và đang xử lý. "
    "Đơn vị không cần gửi lại. Các báo cáo này chưa được đưa vào số liệu tổng hợp."
)
CORRECTED_HEADING = "BÁO CÁO ĐÃ SỬA VÀ ĐƯỢC TIẾP NHẬN"
CORRECTED_EXPLANATION = "Các đơn vị đã sửa báo cáo bị từ chối trước đây; bản sửa đã được tiếp nhận và đã vào tổng hợp."
FOOTER = "Thư này được gửi tự động từ hệ thống chibo. Xin đừng trả lời thư này."


def fix_label(problem: Problem) -> str:
    if problem.detail is not None:
        return "Ghi chú"
    return "Cách sửa" if problem.severity == "error" else "Gợi ý"


@dataclass(frozen=True)
class FixGroup:
    """Findings of one report that share their advice: said once, after them."""

    label: str
    fix: str | None
    problems: list[Problem]

    @property
    def severity(self) -> str:
        return self.problems[0].severity


def fix_groups(problems: list[Problem]) -> list[FixGroup]:
    """The findings grouped by what to do, each group where its first finding was (errors come first)."""
    groups: dict[tuple[str, str | None], FixGroup] = {}
    for problem in problems:
        key = (fix_label(problem), problem.fix)
        groups.setdefault(key, FixGroup(key[0], key[1], [])).problems.append(problem)
    return list(groups.values())


def finding(problem: Problem) -> str:
    """'trang «Chi bộ trực thuộc», dòng 5: Chi bộ «Thôn 1» chỉ có 2 đảng viên chính thức, chưa đủ 3.'"""
    return f"{where(problem)}: {problem.message}"  # the message says the value (the portal shows the cell)


def text_report(number: int, report: ReportItem) -> list[str]:
    lines = ["", f"{number}. {report_title(report)}"]
    if report.corrects is not None:
        lines.append(f"   {correction_sentence(report)}")
    if report.portal_url:
        lines.append(f"   Xem báo cáo trên cổng báo cáo: {report.portal_url}")
    for group in fix_groups(report.problems[:MAX_ITEMS_PER_REPORT]):
        lines += [f"   - {finding(problem)}" for problem in group.problems]
        if group.fix:
            lines.append(f"     {group.label}: {group.fix}")
    hidden = len(report.problems) - MAX_ITEMS_PER_REPORT
    if hidden > 0:
        see = f"xem trên cổng: {report.portal_url}" if report.portal_url else "xem bằng lệnh: chibo validate <tệp>"
        lines.append(f"   … và {hidden} mục khác ({see}).")
    if report.contact_email:
        lines.append(f"   Liên hệ người lập báo cáo: {report.contact_email}")
    return lines


def text_body(
    province: str,
    reports: list[ReportItem],
    sections: list[Section],
    night: str,
    portal_home: str | None = None,
    lead: Lead | None = None,
) -> str:
    """The digest as plain text; ``portal_home``: the province's page on the Board's portal (docs/portal.md);
    ``lead``: the progress it starts with in the reporting season."""
    groups = split(reports)
    lines = [lead.text, ""] if lead else []
    lines += [greeting(province), "", intro(night)]
    if groups.rejected:
        lines += [
            "",
            f"A. {len(groups.rejected)} BÁO CÁO BỊ TỪ CHỐI — cần sửa và gửi lại. Các báo cáo này được lưu lại "
            "nhưng chưa được đưa vào số liệu tổng hợp.",
        ]
        for number, report in enumerate(groups.rejected, start=1):
            lines += text_report(number, report)
    if groups.warned:
        lines += [
            "",
            f"B. {len(groups.warned)} BÁO CÁO ĐÃ TIẾP NHẬN NHƯNG CẦN KIỂM TRA LẠI — số liệu đã vào tổng hợp; "
            "đề nghị đơn vị xem lại các điểm sau.",
        ]
        for number, report in enumerate(groups.warned, start=1):
            lines += text_report(number, report)
    if sections:
        lines += ["", "C. TÌNH HÌNH GỬI BÁO CÁO"]
    for section in sections:
        lines += ["", section.text]
    if groups.held:
        lines += ["", f"D. {len(groups.held)} {HELD_HEADING}. {HELD_EXPLANATION}"]
        for number, report in enumerate(groups.held, start=1):
            lines += text_report(number, report)
    if groups.corrected:
        lines += ["", f"Đ. {len(groups.corrected)} {CORRECTED_HEADING}. {CORRECTED_EXPLANATION}"]
        for number, report in enumerate(groups.corrected, start=1):
            lines += text_report(number, report)
    if not reports and not sections:
        lines += ["", NOTHING_TO_SAY]
    if portal_home:
        lines += ["", f"Xem tình hình cả tỉnh, phê duyệt và chốt số liệu trên cổng báo cáo: {portal_home}"]
    lines += ["", FOOTER]
    return "\n".join(lines)


# Readable on a phone: one column at most 640 px wide, 16 px text, nothing wider than the screen (long names and
# addresses wrap), inline styles only (mail clients drop <style>); no tables.
PAGE_STYLE = (
    "margin:0 auto;padding:12px;max-width:640px;font-family:Arial,Helvetica,sans-serif;font-size:16px;"
    "line-height:1.5;color:#212121;overflow-wrap:anywhere;word-wrap:break-word"
)
SEVERITY_COLOURS = {"error": "#c62828", "warning": "#ef6c00"}
H2_STYLE = "font-size:18px;margin:20px 0 8px;padding-bottom:4px;border-bottom:2px solid #ccc"
H3_STYLE = "font-size:16px;margin:16px 0 4px"


def html_page(content: list[str], footer: str = FOOTER) -> str:
    """A whole HTML message around ``content``: a viewport for phones and the single column."""
    return "\n".join(
        [
            '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>chibo</title></head>',
            '<body style="margin:0;padding:0;background:#ffffff">',
            f'<div style="{PAGE_STYLE}">',
            *content,
            f'<p style="color:#616161;font-size:14px"><i>{html.escape(footer)}</i></p>',
            "</div></body></html>",
        ]
    )


def html_report(report: ReportItem) -> list[str]:
    escape = html.escape
    parts = [f'<h3 style="{H3_STYLE}">{escape(report_title(report))}</h3>']
    if report.corrects is not None:
        parts.append(f'<p class="corrected" style="margin:0 0 4px">{escape(correction_sentence(report))}</p>')
    if report.portal_url:
        link = f'<a href="{escape(report.portal_url)}">Xem báo cáo trên cổng báo cáo</a>'
        parts.append(f'<p style="margin:0 0 4px">{link}</p>')
    for group in fix_groups(report.problems[:MAX_ITEMS_PER_REPORT]):  # no detail: the staff's digest
        colour = SEVERITY_COLOURS.get(group.severity, "#616161")
        parts.append(f'<div style="border-left:4px solid {colour};padding:0 0 0 8px;margin:8px 0">')
        parts.append('<ul style="margin:0;padding:0 0 0 18px">')
        parts += [
            f'<li class="{escape(problem.severity)}">{escape(finding(problem))}</li>' for problem in group.problems
        ]
        parts.append("</ul>")
        if group.fix:
            parts.append(f'<p class="fix" style="margin:4px 0"><b>{escape(group.label)}:</b> {escape(group.fix)}</p>')
        parts.append("</div>")
    hidden = len(report.problems) - MAX_ITEMS_PER_REPORT
    if hidden > 0:
        parts.append(f"<p>… và {hidden} mục khác.</p>")
    if report.contact_email:
        parts.append(f"<p>Liên hệ người lập báo cáo: {escape(report.contact_email)}</p>")
    return parts


def html_body(
    province: str,
    reports: list[ReportItem],
    sections: list[Section],
    night: str,
    portal_home: str | None = None,
    lead: Lead | None = None,
) -> str:
    escape = html.escape
    groups = split(reports)
    parts = [lead.html] if lead else []
    parts += [f"<p>{escape(greeting(province))}</p>", f"<p>{escape(intro(night))}</p>"]
    if groups.rejected:
        parts.append(f'<h2 style="{H2_STYLE}">A. {len(groups.rejected)} báo cáo bị từ chối — cần sửa và gửi lại</h2>')
        parts.append("<p>Các báo cáo này được lưu lại nhưng chưa được đưa vào số liệu tổng hợp.</p>")
        for report in groups.rejected:
            parts += html_report(report)
    if groups.warned:
        parts.append(f'<h2 style="{H2_STYLE}">B. {len(groups.warned)} báo cáo đã tiếp nhận nhưng cần kiểm tra lại</h2>')
        parts.append("<p>Số liệu đã vào tổng hợp; đề nghị đơn vị xem lại các điểm sau.</p>")
        for report in groups.warned:
            parts += html_report(report)
    if sections:
        parts.append(f'<h2 style="{H2_STYLE}">C. Tình hình gửi báo cáo</h2>')
    parts += [section.html for section in sections]
    if groups.held:
        parts.append(f'<h2 style="{H2_STYLE}">D. {len(groups.held)} {escape(HELD_HEADING.lower().capitalize())}</h2>')
        parts.append(f"<p>{escape(HELD_EXPLANATION)}</p>")
        for report in groups.held:
            parts += html_report(report)
    if groups.corrected:
        heading = f"Đ. {len(groups.corrected)} {CORRECTED_HEADING.lower()}"
        parts.append(f'<h2 style="{H2_STYLE}">{escape(heading)}</h2>')
        parts.append(f"<p>{escape(CORRECTED_EXPLANATION)}</p>")
        for report in groups.corrected:
            parts += html_report(report)
    if not reports and not sections:
        parts.append(f"<p>{NOTHING_TO_SAY}</p>")
    if portal_home:
        label = "Xem tình hình cả tỉnh, phê duyệt và chốt số liệu trên cổng báo cáo"
        parts.append(f'<p><a href="{escape(portal_home)}">{label}</a></p>')
    return html_page(parts)


def subject_for(province: str, reports: list[ReportItem], sections: list[Section], night: str) -> str:
    groups = split(reports)
    parts = []
    if groups.rejected:
        parts.append(f"{len(groups.rejected)} báo cáo bị từ chối")
    if groups.warned:
        parts.append(f"{len(groups.warned)} báo cáo cần kiểm tra")
    if groups.held:
        parts.append(f"{len(groups.held)} báo cáo đang được giữ lại")
    if groups.corrected:
        parts.append(f"{len(groups.corrected)} báo cáo đã sửa được tiếp nhận")
    parts += [section.subject_part for section in sections if section.subject_part]
    if not parts:
        parts.append("không có gì cần xử lý")
    return f"[chibo] {province}: {', '.join(parts)} — tổng hợp ngày {night}"


def compose_alerts(
    settings: Settings,
    reports: Iterable[ReportItem],
    night: str,
    sections: Mapping[str, list[Section]] | None = None,
    held: Iterable[ReportItem] = (),
    submitters: Iterable[ReportItem] | None = None,
    leads: Mapping[str, Lead] | None = None,
) -> list[Alert]:
    """One digest per province with something to say; none for a province with nothing to say; with
    ``copy_submitter``, one message to each report's submitter with only that report (``submitters``: see
    ``unsent_submitter_reports``; ``reports`` when not given); and, when reports were held (``held``: see
    ``unsent_held``), the operators' technical digest. A province's digest starts with its ``leads`` entry (the
    progress in the reporting season), which never makes a digest on its own."""
    canonical = {province_match_key(p): p for p in settings.recipients}  # one digest a province, however spelt
    reports = [replace(r, portal_url=settings.portal.link(f"/bao-cao/{r.submission_id}")) for r in reports]
    if submitters is not None:
        submitters = [replace(r, portal_url=settings.portal.link(f"/bao-cao/{r.submission_id}")) for r in submitters]
    sections = {canonical.get(province_match_key(p), p): s for p, s in (sections or {}).items()}
    leads = {canonical.get(province_match_key(p), p): lead for p, lead in (leads or {}).items()}
    by_province: dict[str, list[ReportItem]] = {}
    for report in reports:
        name = canonical.get(province_match_key(report.province), report.province) if report.province else None
        by_province.setdefault(name or UNKNOWN_PROVINCE, []).append(report)
    provinces = sorted(
        set(by_province)
        | {p for p, s in sections.items() if s}
        | (set(settings.recipients) if settings.send_when_empty else set())
    )
    alerts = []
    home = settings.portal.link("/tinh")
    for province in provinces:
        province_reports = by_province.get(province, [])
        province_sections = sections.get(province, [])
        lead = leads.get(province)
        recipients = settings.recipients_for(None if province == UNKNOWN_PROVINCE else province)
        alerts.append(
            Alert(
                province=province,
                recipients=recipients,
                cc=(),  # a submitter never sees the whole province: see submitter_alert
                subject=subject_for(province, province_reports, province_sections, night),
                text=text_body(province, province_reports, province_sections, night, home, lead),
                html=html_body(province, province_reports, province_sections, night, home, lead),
                submission_ids=tuple(r.submission_id for r in province_reports),
                section_keys=tuple(s.key for s in province_sections),
                kinds=tuple(HELD_KIND if r.outcome == "held" else OUTCOME_KIND for r in province_reports),
                images=lead.images if lead else (),
            )
        )
    if settings.copy_submitter:
        for report in reports if submitters is None else submitters:
            address = single_address(report.contact_email)
            if address is not None:
                alerts.append(submitter_alert(report, address, night))
    held = list(held)
    if held:
        alerts.append(operators_alert(settings, held, night))
    return alerts


# ------------------------------------------------------------------ the submitter's own copy

SUBMITTER_OUTCOMES = {
    "rejected": "bị từ chối — cần sửa và gửi lại. Báo cáo được lưu lại nhưng chưa được đưa vào số liệu tổng hợp.",
    "accepted": "đã được tiếp nhận nhưng cần kiểm tra lại — số liệu đã vào tổng hợp; đề nghị xem lại các điểm sau.",
    "held": f"đang được giữ lại — không phải do lỗi của đơn vị. {HELD_EXPLANATION}",
}
SUBMITTER_SUBJECTS = {"rejected": "bị từ chối", "accepted": "cần kiểm tra", "held": "đang được giữ lại"}
CORRECTED_STATE = "đã được tiếp nhận — bản sửa của báo cáo bị từ chối trước đây; số liệu đã vào tổng hợp."
CORRECTED_SUBJECT = "đã sửa và được tiếp nhận"
SUBMITTER_GREETING = "Kính gửi đồng chí lập báo cáo,"
SUBMITTER_FOOTER = (
    "Thư này được gửi tự động từ hệ thống chibo tới địa chỉ liên hệ ghi trong báo cáo. Xin đừng trả lời thư này."
)


def submitter_state(report: ReportItem) -> str:
    if report.outcome == "accepted" and report.corrects is not None and not report.problems:
        return CORRECTED_STATE
    return SUBMITTER_OUTCOMES.get(report.outcome, report.outcome)


def submitter_subject(report: ReportItem, night: str) -> str:
    state = SUBMITTER_SUBJECTS.get(report.outcome, report.outcome)
    if report.outcome == "accepted" and report.corrects is not None and not report.problems:
        state = CORRECTED_SUBJECT
    return f"[chibo] Báo cáo {state}: {report_title(report)} — tổng hợp ngày {night}"


def submitter_text(report: ReportItem, night: str) -> str:
    state = submitter_state(report)
    lines = [SUBMITTER_GREETING, "", f"Kết quả tổng hợp ngày {night}: báo cáo dưới đây {state}"]
    lines += text_report(1, replace(report, contact_email=None))
    lines += ["", SUBMITTER_FOOTER]
    return "\n".join(lines)


def submitter_html(report: ReportItem, night: str) -> str:
    escape = html.escape
    state = submitter_state(report)
    parts = [
        f"<p>{escape(SUBMITTER_GREETING)}</p>",
        f"<p>Kết quả tổng hợp ngày {escape(night)}: báo cáo dưới đây {escape(state)}</p>",
        *html_report(replace(report, contact_email=None)),
    ]
    return html_page(parts, SUBMITTER_FOOTER)


def submitter_alert(report: ReportItem, address: str, night: str) -> Alert:
    """The submitter's own message: only their report's decision and findings, never the rest of the province."""
    kind = HELD_KIND if report.outcome == "held" else OUTCOME_KIND
    return Alert(
        province=report.province or UNKNOWN_PROVINCE,
        recipients=(address,),
        cc=(),
        subject=submitter_subject(report, night),
        text=submitter_text(report, night),
        html=submitter_html(report, night),
        submission_ids=(report.submission_id,),
        kinds=(f"{SUBMITTER}{kind}",),
    )


# ------------------------------------------------------------------ the operators' digest of held reports


def operator_action(report: ReportItem) -> str:
    """What an operator must do (docs/operations.md)."""
    if any(p.rule_id == INTAKE_FAILED_RULE_ID for p in report.problems):
        kept = f" (bản đã nhận: {report.archived_path})" if report.archived_path else ""
        return (
            "Tệp đã được đăng ký theo mã băm nên sẽ không được đọc lại tự động: chép lại đúng tệp đó vào hộp thư chỉ "
            f"bị bỏ qua như bản trùng{kept}. Sau khi khắc phục lỗi, hãy đưa vào hộp thư một bản lưu lại của tệp "
            "(mở rồi lưu lại để có mã băm mới), như một lần gửi báo cáo sửa đổi (docs/operations.md, «Sending a "
            "corrected report»); bản mới được tiếp nhận và kiểm tra ở lần tổng hợp sau."
        )
    return (
        "Khắc phục nguyên nhân (chi tiết kỹ thuật ở trên, nhật ký tác vụ validate trong Airflow). Báo cáo được kiểm "
        "tra lại tự động ở mỗi lần tổng hợp cho đến khi kiểm tra chạy được; không cần gửi lại tệp."
    )


OPERATORS_FOOTER = "Thư này được gửi tự động từ hệ thống chibo."


def operators_text(held: list[ReportItem], night: str) -> str:
    lines = [
        "Kính gửi bộ phận vận hành hệ thống chibo,",
        "",
        f"Tổng hợp ngày {night}: {len(held)} báo cáo bị giữ lại vì một bước kiểm tra hoặc tiếp nhận không thực "
        "hiện được (lỗi hệ thống, không phải lỗi số liệu). Các báo cáo này chưa vào số liệu tổng hợp; tỉnh được báo "
        "là báo cáo đang chờ xử lý, không phải bị từ chối.",
    ]
    for number, report in enumerate(held, start=1):
        lines += [
            "",
            f"{number}. {report_title(report)}",
            f"   Tỉnh: {report.province or UNKNOWN_PROVINCE}; mã báo cáo: {report.submission_id}; "
            f"mã lần chạy (Airflow): {report.decided_in}",
        ]
        for problem in report.problems:
            lines.append(f"   - Quy tắc «{problem.rule_id}»: {problem.message}")
            lines.append(f"     Chi tiết kỹ thuật: {problem.detail}")
        lines.append(f"   Cần làm: {operator_action(report)}")
    lines += ["", OPERATORS_FOOTER]
    return "\n".join(lines)


def operators_html(held: list[ReportItem], night: str) -> str:
    escape = html.escape
    parts = [
        "<p>Kính gửi bộ phận vận hành hệ thống chibo,</p>",
        f"<p>Tổng hợp ngày {escape(night)}: {len(held)} báo cáo bị giữ lại vì một bước kiểm tra hoặc tiếp nhận "
        "không thực hiện được (lỗi hệ thống, không phải lỗi số liệu).</p>",
    ]
    for report in held:
        parts += [
            f'<h3 style="{H3_STYLE}">{escape(report_title(report))}</h3>',
            f"<p>Tỉnh: {escape(report.province or UNKNOWN_PROVINCE)}; mã báo cáo: {escape(report.submission_id)}; "
            f"mã lần chạy (Airflow): {escape(report.decided_in or '')}</p>",
            '<ul style="margin:0;padding:0 0 0 18px">',
        ]
        parts += [
            f"<li>Quy tắc «{escape(p.rule_id or '')}»: {escape(p.message)}"
            f'<pre style="white-space:pre-wrap;font-size:13px;margin:4px 0">{escape(p.detail or "")}</pre></li>'
            for p in report.problems
        ]
        parts += ["</ul>", f"<p>Cần làm: {escape(operator_action(report))}</p>"]
    return html_page(parts, OPERATORS_FOOTER)


def operators_alert(settings: Settings, held: list[ReportItem], night: str) -> Alert:
    """One technical digest to the operators: each held decision, the rule that could not run and why."""
    return Alert(
        province=OPERATORS,
        recipients=settings.operators,
        cc=(),
        subject=f"[chibo] Vận hành: {len(held)} báo cáo bị giữ lại do lỗi hệ thống — tổng hợp ngày {night}",
        text=operators_text(held, night),
        html=operators_html(held, night),
        submission_ids=tuple(r.submission_id for r in held),
        kinds=tuple(f"{OPERATORS_HELD_KIND}{r.decided_in}" for r in held),
    )
