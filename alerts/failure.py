"""The notice of a failed night, to the operators, in Vietnamese: subject, plain text and HTML, with the error.

Composing is pure. ``notify_failed_night`` (called by the DAG's failure callback) writes it as a file in the work
folder, logs it in full, and sends it through the SMTP connection of the digests, or the fallback connection when
that fails; it works even when the settings cannot be loaded, and never raises.
"""

from __future__ import annotations

import html
import logging
import os
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

from alerts.mailer import SmtpConnection, send_messages, stamp
from chibo.config import REPO_ROOT, Settings

log = logging.getLogger(__name__)

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


ERROR_LABEL = "Lỗi"


def failed_night_text(run_id: str, task_id: str, reason: str = "", error: str = "") -> str:
    said = f"{ERROR_LABEL}: {error}\n\n" if error else ""
    return f"{failed_night_summary(run_id, task_id, reason)}\n\n{said}{ADVICE}\n"


def failed_night_html(run_id: str, task_id: str, reason: str = "", error: str = "") -> str:
    sentence = f"Lần tổng hợp <b>{html.escape(run_id)}</b> không hoàn thành. Tác vụ lỗi: {html.escape(task_id)}."
    if reason_sentence(reason):
        sentence += f" {html.escape(reason_sentence(reason))}"
    said = f"<p>{ERROR_LABEL}:</p>\n<pre>{html.escape(error)}</pre>\n" if error else ""
    return f"<p>{sentence}</p>\n{said}<p>{html.escape(ADVICE)}</p>"


def failed_night_message(
    run_id: str, task_id: str, reason: str, mail_from: str, operators: Sequence[str], error: str = ""
) -> MIMEMultipart:
    """multipart/alternative, plain text then HTML, like the digests (compat32 classes: see alerts.digest)."""
    message = MIMEMultipart("alternative")
    message["Subject"] = " ".join(failed_night_subject(run_id).split())
    stamp(message, mail_from)
    message["To"] = ", ".join(operators)
    message.attach(MIMEText(failed_night_text(run_id, task_id, reason, error), "plain", "utf-8"))
    message.attach(MIMEText(failed_night_html(run_id, task_id, reason, error), "html", "utf-8"))
    return message


# ------------------------------------------------------------------ sending it, whatever else is broken

NO_SENDER = "chibo@localhost"  # the notice's From when the settings cannot be loaded (it is then only a file)
NOTICE_RETRY_LIMIT = 1  # one retry per connection: the fallback is tried soon, and the file is always written


def error_text(exception: BaseException | None, reason: str = "") -> str:
    """What went wrong, in one sentence for the operators: the failed task's exception, else Airflow's reason."""
    if exception is not None:
        return f"{type(exception).__name__}: {exception}"
    return reason_sentence(reason) or reason


def notices_folder(settings: Settings | None, environ: Mapping[str, str]) -> Path:
    """``<work_dir>/notices``; without settings, under CHIBO_WORK_DIR or the repository's var/work."""
    if settings is not None:
        return settings.work_dir / "notices"
    return Path(environ.get("CHIBO_WORK_DIR") or REPO_ROOT / "var" / "work") / "notices"


def notice_file_name(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+:-]", "_", run_id).lstrip(".") + "-failed.eml"


def write_notice(folder: Path, run_id: str, notice: MIMEMultipart) -> Path:
    """The notice as an .eml file, written atomically (temporary name, flushed, renamed)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / notice_file_name(run_id)
    temporary = folder / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        with temporary.open("xb") as handle:
            handle.write(notice.as_bytes())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def task_errors_folder(settings: Settings | None, environ: Mapping[str, str], run_id: str) -> Path:
    """``<work_dir>/notices/<run_id>.tasks``: the errors of the run's failed tasks, one file each."""
    return notices_folder(settings, environ) / (notice_file_name(run_id).removesuffix("-failed.eml") + ".tasks")


def remember_task_error(
    run_id: str,
    task_id: str,
    error: str,
    load_settings: Callable[[], Settings],
    environ: Mapping[str, str] | None = None,
) -> Path | None:
    """Keep a failed task's error for the night's notice: Airflow gives the DAG's failure callback the failed task
    but not its exception, so each task's own failure callback writes it here first. Never raises."""
    environ = os.environ if environ is None else environ
    try:
        try:
            settings: Settings | None = load_settings()
        except Exception:  # noqa: BLE001 - the folder without settings, as for the notice
            settings = None
        folder = task_errors_folder(settings, environ, run_id)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (re.sub(r"[^A-Za-z0-9._-]", "_", task_id).lstrip(".") + ".txt")
        target.write_text(error, encoding="utf-8")
        return target
    except Exception as failure:  # noqa: BLE001 - a failure callback never raises
        log.error("could not keep the error of task %s: %s: %s", task_id, type(failure).__name__, failure)
        return None


def remembered_errors(settings: Settings | None, environ: Mapping[str, str], run_id: str) -> str:
    """The errors the run's failed tasks kept (``remember_task_error``), "task: error" a paragraph each."""
    folder = task_errors_folder(settings, environ, run_id)
    if not folder.is_dir():
        return ""
    return "\n\n".join(
        f"{path.stem}: {path.read_text(encoding='utf-8').strip()}" for path in sorted(folder.glob("*.txt"))
    )


@dataclass(frozen=True)
class NoticeOutcome:
    path: Path | None  # the .eml file (None only if even that could not be written)
    sent_through: str | None  # the connection id that took it, None when no connection did
    text: str


def notify_failed_night(
    run_id: str,
    task_id: str,
    reason: str,
    error: str,
    load_settings: Callable[[], Settings],
    get_connection: Callable[[str], SmtpConnection],
    environ: Mapping[str, str] | None = None,
) -> NoticeOutcome:
    """Tell the operators a night failed, whatever else is broken; never raises.

    The notice (with ``error``) is logged in full and written to ``<work_dir>/notices/<run_id>-failed.eml``, then sent
    through ``settings.smtp_conn_id``, or ``settings.smtp_fallback_conn_id`` when that fails. When the settings cannot
    be loaded (a corrupt chibo.yaml), the configuration error is the notice's text and it goes to the log and to a
    file under CHIBO_WORK_DIR or the repository's var/work."""
    environ = os.environ if environ is None else environ
    settings: Settings | None = None
    try:
        settings = load_settings()
    except Exception as failure:  # noqa: BLE001 - the notice must still be given
        config_error = f"Không đọc được cấu hình chibo.yaml ({type(failure).__name__}: {failure})"
        error = f"{config_error}\n{error}" if error else config_error
    try:
        kept = remembered_errors(settings, environ, run_id)
    except Exception as failure:  # noqa: BLE001 - the notice goes on with what it has
        kept = ""
        log.error("could not read the failed tasks' errors: %s: %s", type(failure).__name__, failure)
    if kept and kept not in error:
        error = f"{kept}\n\n{error}" if error and error != reason_sentence(reason) else kept
    mail_from = settings.mail_from if settings is not None else NO_SENDER
    operators = settings.operators if settings is not None else ()
    notice = failed_night_message(run_id, task_id, reason, mail_from, operators, error)
    text = failed_night_text(run_id, task_id, reason, error)
    log.error("failed night %s (task %s), notice to the operators:\n%s", run_id, task_id, text)
    path: Path | None = None
    try:
        path = write_notice(notices_folder(settings, environ), run_id, notice)
        log.error("the failed-night notice is kept in %s", path)
    except Exception as failure:  # noqa: BLE001 - still try to send it
        log.error("could not write the failed-night notice to a file: %s: %s", type(failure).__name__, failure)
    if settings is None:
        log.error("the failed-night notice is not e-mailed: without the settings there is no connection or recipient")
        return NoticeOutcome(path, None, text)
    if not operators:
        log.error("the failed-night notice is not e-mailed: alerts.operators is empty in chibo.yaml")
        return NoticeOutcome(path, None, text)
    for conn_id in (settings.smtp_conn_id, settings.smtp_fallback_conn_id):
        if conn_id is None:
            continue
        try:
            send_messages(get_connection(conn_id), [notice], retry_limit=NOTICE_RETRY_LIMIT)
        except Exception as failure:  # noqa: BLE001 - the next connection, then the file, is the answer
            log.error(
                "could not send the failed-night notice through the connection %s: %s: %s",
                conn_id, type(failure).__name__, failure,
            )  # fmt: skip
            continue
        log.info("the failed-night notice was sent through the connection %s", conn_id)
        return NoticeOutcome(path, conn_id, text)
    log.error("the failed-night notice could not be e-mailed; it is in %s and in this log", path)
    return NoticeOutcome(path, None, text)
