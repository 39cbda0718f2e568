"""The e-mail a submitter gets when staff return or approve their report, sent through the night's SMTP connection.

The connection is the Airflow connection ``smtp.conn_id`` of chibo.yaml (an ``AIRFLOW_CONN_*`` variable or
Airflow's metadata database), read with Airflow's own secrets lookup, and the message goes out through
``alerts.mailer`` as the night's alerts do. A failure to send never undoes the decision: the caller records it
and shows it to the staff member.
"""

from __future__ import annotations

import time
from dataclasses import replace
from email.message import EmailMessage
from email.utils import make_msgid

from alerts.mailer import Session, SmtpSettings, deliver
from chibo.config import Settings

DECISION_WORDS = {"approved": "đã được phê duyệt", "returned": "bị trả lại để sửa"}


def decision_message(
    settings: Settings,
    to: str,
    committee_name: str,
    report_year: int | None,
    file_name: str,
    state: str,
    comment: str | None,
    decided_by: str,
    link: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = f"[chibo] Báo cáo năm {report_year} của {committee_name} {DECISION_WORDS[state]}"
    message["Message-ID"] = make_msgid(domain="chibo")
    lines = [
        f"Kính gửi {committee_name},",
        "",
        f"Báo cáo thống kê năm {report_year} (tệp «{file_name}») {DECISION_WORDS[state]} bởi {decided_by}.",
    ]
    if comment:
        lines += ["", "Ý kiến của Ban Tổ chức:", comment]
    if state == "returned":
        lines += ["", "Đề nghị đơn vị sửa theo ý kiến trên và nộp lại báo cáo trên cổng báo cáo."]
    lines += ["", f"Xem báo cáo: {link}", "", "Ban Tổ chức"]
    message.set_content("\n".join(lines))
    return message


def send(settings: Settings, message: EmailMessage) -> str | None:
    """Send one message; ``None`` when the server took it, else why not (in English, for the log and the page)."""
    try:
        from airflow.models.connection import Connection

        connection = Connection.get_connection_from_secrets(settings.smtp_conn_id)
    except Exception as error:  # noqa: BLE001 - any failure to find the connection is reported, never raised
        return f"SMTP connection {settings.smtp_conn_id!r} not found: {error}"
    try:  # a person is waiting: one retry after a second, not the night's minutes of backoff
        smtp = replace(SmtpSettings.from_connection(connection), retry_limit=1, retry_delay=1.0)
    except ValueError as error:
        return str(error)
    session = Session(smtp)
    try:
        return deliver(session, message, time.sleep)
    except Exception as error:  # noqa: BLE001
        return str(error)
    finally:
        session.close()
