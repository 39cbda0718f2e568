"""Sending prepared e-mails (multipart text + HTML) through the SMTP server of an Airflow connection.

Airflow's ``SmtpHook.send_email_smtp`` builds its own HTML-only message, and the hook keeps its SMTP
client private; so the night reads the connection with Airflow's public API (``Connection.get``) and
sends with ``smtplib``, reading the connection as the SMTP provider documents it: host, port, login,
password, and the extras ``disable_ssl`` (default false: SMTP over SSL), ``disable_tls`` (default false:
STARTTLS), ``ssl_context`` (``default`` or ``none``), ``timeout`` (30 s), ``retry_limit`` (5) and chibo's own
``retry_delay`` (10 s, doubling after each failed attempt). Messages are sent one at a time and each is reported
to the caller as soon as the server accepted it, so it can be recorded before the next one is tried.
This module imports no Airflow: the caller passes the connection.
"""

from __future__ import annotations

import email.utils
import logging
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import Message
from typing import Any, Protocol

from chibo.config import VIETNAM
from chibo.errors import PermanentError, TransientError

log = logging.getLogger(__name__)
MAX_RETRY_DELAY = 300.0
SENDER_NAME = "Hệ thống chibo"  # the display name when smtp.mail_from gives none


def sender(mail_from: str) -> tuple[str, str]:
    """(display name, address) of ``smtp.mail_from`` ("Ban Tổ chức Tỉnh ủy <chibo@example.org>" or a bare address)."""
    name, address = email.utils.parseaddr(mail_from)
    return " ".join(name.split()) or SENDER_NAME, address or mail_from.strip()


def stamp(message: Message, mail_from: str, now: datetime | None = None) -> Message:
    """Set the headers a mail client reads first: ``From`` with its Vietnamese display name as an RFC 2047 encoded
    word (readable by every client, never raw UTF-8 in a header), ``Date`` (Vietnam time) and ``Message-ID`` in the
    sender's domain."""
    name, address = sender(mail_from)
    message["From"] = email.utils.formataddr((name, address), charset="utf-8")
    message["Date"] = email.utils.format_datetime(now or datetime.now(VIETNAM))
    message["Message-ID"] = email.utils.make_msgid("chibo", domain=address.rpartition("@")[2] or "localhost")
    return message


class SmtpConnection(Protocol):
    """What is read of an Airflow connection (``airflow.sdk.Connection`` has it all)."""

    host: str | None
    port: int | None
    login: str | None
    password: str | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int | None
    login: str
    password: str
    use_ssl: bool
    starttls: bool
    verify_certificate: bool
    timeout: float
    retry_limit: int
    retry_delay: float = 10.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0-based): ``retry_delay`` doubling, at most 5 minutes."""
        return float(min(self.retry_delay * 2**attempt, MAX_RETRY_DELAY))

    @classmethod
    def from_connection(cls, connection: SmtpConnection) -> SmtpSettings:
        extra = connection.extra_dejson or {}
        if not connection.host:
            raise ValueError("the SMTP connection has no host")
        if extra.get("auth_type", "basic") != "basic":
            raise ValueError(f"SMTP auth_type {extra['auth_type']!r} is not supported: use login and password")
        ssl_context = extra.get("ssl_context") or "default"
        if ssl_context not in ("default", "none"):
            raise ValueError(f"SMTP extra ssl_context must be 'default' or 'none', not {ssl_context!r}")
        return cls(
            host=connection.host,
            port=int(connection.port) if connection.port else None,
            login=connection.login or "",
            password=connection.password or "",
            use_ssl=not _flag(extra.get("disable_ssl", False)),
            starttls=not _flag(extra.get("disable_tls", False)),
            verify_certificate=ssl_context == "default",
            timeout=float(extra.get("timeout", 30)),
            retry_limit=int(extra.get("retry_limit", 5)),
            retry_delay=float(extra.get("retry_delay", 10)),
        )

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.verify_certificate:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def _flag(value: object) -> bool:
    """An extra given as JSON true/false, or as the text "true"/"false" (the connection form's checkboxes)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def open_client(settings: SmtpSettings) -> smtplib.SMTP:
    """Connect, STARTTLS when asked, and log in (one attempt: ``send_messages`` retries)."""
    if settings.use_ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port or 0, timeout=settings.timeout, context=settings.ssl_context()
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port or 0, timeout=settings.timeout)
    try:
        if settings.starttls and not settings.use_ssl:
            client.starttls(context=settings.ssl_context())
            client.ehlo()
        if settings.login and settings.password:
            client.login(settings.login, settings.password)
    except BaseException:
        client.close()
        raise
    return client


def is_transient(error: BaseException) -> bool:
    """A 4xx reply, or a connection refused, dropped or timed out: worth trying again. A certificate that does not
    verify, a 5xx reply or a missing server feature is not."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPException | ssl.SSLCertVerificationError):
        return False
    return isinstance(error, OSError)


def is_refusal(error: BaseException) -> bool:
    """The server refused this message for good (a 5xx reply to its sender, recipients or content)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def describe(message: Message) -> str:
    return f"{message['Subject']!r} to {message['To']}"


class Session:
    """One SMTP session, opened when first needed and again after a failure."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._client: smtplib.SMTP | None = None

    def client(self) -> smtplib.SMTP:
        if self._client is None:
            self._client = open_client(self.settings)
        return self._client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def deliver(session: Session, message: Message, sleep: Callable[[float], None]) -> str | None:
    """Send one message, retrying a 4xx reply or a lost connection with backoff; ``None`` once the server accepted
    it, the server's reply when it refused the message for good (5xx). Raises ``TransientError`` when the attempts run
    out; any other failure (a login refused, a certificate that does not verify) raises as it is."""
    settings = session.settings
    for attempt in range(settings.retry_limit + 1):
        try:
            refused = attempt_once(session, message)
        except Exception as error:  # noqa: BLE001 - classified here, anything else re-raised
            if not is_transient(error):
                raise
            if attempt == settings.retry_limit:
                raise TransientError(
                    f"The SMTP server {settings.host}:{settings.port} did not take {describe(message)} after "
                    f"{attempt + 1} attempt(s) ({type(error).__name__}: {error}). The messages sent before it are "
                    "recorded; the rest are sent when the task is retried."
                ) from error
            delay = settings.backoff(attempt)
            log.warning(
                "SMTP %s:%s: %s: %s; trying %s again in %.1f s (attempt %d of %d)",
                settings.host, settings.port, type(error).__name__, error, describe(message), delay,
                attempt + 2, settings.retry_limit + 1,
            )  # fmt: skip
            sleep(delay)
            continue
        if isinstance(refused, str):
            return refused
        if refused:
            log.warning("SMTP server refused %s for %s", refused, describe(message))
        log.info("sent %s", describe(message))
        return None
    raise AssertionError("unreachable")  # pragma: no cover


def attempt_once(session: Session, message: Message) -> dict[str, tuple[int, bytes]] | str:
    """One try: the recipients the server refused (the message was accepted for the others), or the server's reply
    when it refused the message itself for good. Opening the session is part of it; any failure closes the session."""
    client = session.client()
    try:
        return client.send_message(message)
    except Exception as error:
        session.close()
        if is_refusal(error):
            return f"{type(error).__name__}: {error}"
        raise


def send_messages(
    connection: SmtpConnection,
    messages: Iterable[Message],
    on_sent: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    retry_limit: int | None = None,
) -> int:
    """Send each prepared message (recipients from its To, Cc and Bcc headers), one at a time, over one SMTP session.

    ``on_sent(i)`` runs as soon as the server has accepted message ``i``, before the next is sent: the caller
    records it there, so a failure later never loses that record. A 4xx reply or a refused or dropped connection is
    retried ``retry_limit`` times, ``retry_delay`` seconds apart and doubling (the connection's extras); then
    ``TransientError`` is raised (the messages after it are not tried). A message refused for good (5xx) is
    skipped, the others are sent, and ``PermanentError`` names it at the end. Nothing is reported as sent that the
    server did not accept. ``retry_limit`` lowers the connection's own (the failed-night notice tries its fallback
    soon). Returns the number of messages sent.
    """
    pending = list(messages)
    if not pending:
        return 0
    settings = SmtpSettings.from_connection(connection)
    if retry_limit is not None:
        settings = replace(settings, retry_limit=min(settings.retry_limit, retry_limit))
    session = Session(settings)
    refusals: list[str] = []
    try:
        for index, message in enumerate(pending):
            reply = deliver(session, message, sleep)
            if reply is not None:
                log.error("SMTP server refused %s for good: %s", describe(message), reply)
                refusals.append(f"{describe(message)}: {reply}")
            elif on_sent is not None:
                on_sent(index)
    finally:
        session.close()
    if refusals:
        raise PermanentError(
            f"The SMTP server {settings.host}:{settings.port} refused {len(refusals)} of {len(pending)} messages for "
            f"good (5xx); the others were sent and recorded. Check the addresses and the sender in chibo.yaml: "
            + "; ".join(refusals)
        )
    return len(pending)
