"""A local SMTP server (aiosmtpd) that keeps every message it receives.

`chibo run` starts one when no SMTP connection is configured, so the sample night's alerts are
really sent over SMTP and land as .eml files in the outbox; the tests use it as the real server.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage


@dataclass
class CollectingHandler:
    outbox: Path | None = None
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        if self.outbox is not None:
            self.outbox.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            (self.outbox / f"{stamp}-{len(self.received):03d}.eml").write_bytes(envelope.original_content)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_sink(outbox: Path | None = None) -> Iterator[tuple[int, CollectingHandler]]:
    """Run an SMTP server on 127.0.0.1 (a free port) for the duration of the block."""
    handler = CollectingHandler(outbox)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def airflow_smtp_connection(port: int, host: str = "127.0.0.1") -> str:
    """AIRFLOW_CONN_* value (JSON) for a plain SMTP server without TLS or login."""
    import json

    return json.dumps(
        {
            "conn_type": "smtp",
            "host": host,
            "port": port,
            "extra": {"disable_tls": True, "disable_ssl": True, "timeout": 10, "retry_limit": 1},
        }
    )
