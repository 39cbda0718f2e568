"""The notice of a failed night, to the operators, in Vietnamese: subject, plain text and HTML.

Composing is pure; the DAG's failure callback sends it through the same SMTP connection as the digests.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

ADVICE = (
    "Xem nhật ký của tác vụ trong Airflow; các báo cáo đã nhận vẫn được giữ nguyên và sẽ được xử lý ở lần chạy sau."
)

# Airflow's reason for a failed run, as the DAG's failure callback gets it: said in Vietnamese (a failed
# task is already named); any other reason is shown as given.
REASONS = {
    "task_failure": "",
    "all_tasks_deadlocked": "Các tác vụ còn lại không thể chạy vì tác vụ trước chúng không hoàn thành.",
}


def reason_sentence(reason: str) -> str:
    return REASONS.get(reason, reason)


def failed_night_subject(run_id: str) -> str:
    return f"[chibo] Lần tổng hợp đêm {run_id} bị lỗi"


def failed_night_summary(run_id: str, task_id: str, reason: str = "") -> str:
    """'Lần tổng hợp … không hoàn thành. Tác vụ lỗi: dbt_build. …' (the first sentence of both forms)."""
    sentence = reason_sentence(reason)
    return f"Lần tổng hợp {run_id} không hoàn thành. Tác vụ lỗi: {task_id}." + (f" {sentence}" if sentence else "")


def failed_night_text(run_id: str, task_id: str, reason: str = "") -> str:
    return f"{failed_night_summary(run_id, task_id, reason)}\n\n{ADVICE}\n"


def failed_night_html(run_id: str, task_id: str, reason: str = "") -> str:
    sentence = f"Lần tổng hợp <b>{html.escape(run_id)}</b> không hoàn thành. Tác vụ lỗi: {html.escape(task_id)}."
    if reason_sentence(reason):
        sentence += f" {html.escape(reason_sentence(reason))}"
    return f"<p>{sentence}</p>\n<p>{html.escape(ADVICE)}</p>"


def failed_night_message(
    run_id: str, task_id: str, reason: str, mail_from: str, operators: Sequence[str]
) -> MIMEMultipart:
    """multipart/alternative, plain text then HTML, like the digests (compat32 classes: see alerts.digest)."""
    message = MIMEMultipart("alternative")
    message["Subject"] = failed_night_subject(run_id)
    message["From"] = mail_from
    message["To"] = ", ".join(operators)
    message.attach(MIMEText(failed_night_text(run_id, task_id, reason), "plain", "utf-8"))
    message.attach(MIMEText(failed_night_html(run_id, task_id, reason), "html", "utf-8"))
    return message
