"""Sending prepared e-mails (multipart text + HTML) through the SMTP server of an Airflow connection.

Airflow's ``SmtpHook.send_email_smtp`` builds its own HTML-only message, and the hook keeps its SMTP
client private; so the night reads the connection with Airflow's public API (``Connection.get``) and
sends with ``smtplib``, reading the connection as the SMTP provider documents it: host, port, login,
password, and the extras ``disable_ssl`` (default false: SMTP over SSL), ``disable_tls`` (default false:
STARTTLS), ``ssl_context`` (``default`` or ``none``), ``timeout`` (30 s) and ``retry_limit`` (5).
This module imports no Airflow: the caller passes the connection.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from typing import Any, Protocol

log = logging.getLogger(__name__)


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
    """Connect (retrying a dropped connection ``retry_limit`` times), STARTTLS when asked, and log in."""
    for attempt in range(settings.retry_limit + 1):
        try:
            if settings.use_ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port or 0, timeout=settings.timeout, context=settings.ssl_context()
                )
            else:
                client = smtplib.SMTP(settings.host, settings.port or 0, timeout=settings.timeout)
            break
        except smtplib.SMTPServerDisconnected:
            if attempt == settings.retry_limit:
                raise
            log.warning("SMTP server %s disconnected, trying again (%d)", settings.host, attempt + 1)
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


def send_messages(connection: SmtpConnection, messages: Iterable[Message]) -> int:
    """Send each prepared message over one SMTP session; recipients from its To, Cc and Bcc headers.

    Any failure raises (the task fails): nothing is reported as sent that was not accepted by the server.
    """
    pending = list(messages)
    if not pending:
        return 0
    settings = SmtpSettings.from_connection(connection)
    client = open_client(settings)
    try:
        for message in pending:
            refused = client.send_message(message)
            if refused:
                log.warning("SMTP server refused %s for %r", refused, message["Subject"])
            log.info("sent %r to %s", message["Subject"], message["To"])
    finally:
        try:
            client.quit()
        except smtplib.SMTPException:
            client.close()
    return len(pending)
