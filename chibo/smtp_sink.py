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
    """Keeps every message it accepts. ``replies`` are answered, in order, to the next messages (``"250"`` accepts
    one as usual, anything else refuses it, e.g. ``"451 4.3.0 Try again later"``): a real server's refusal, on
    demand."""

    outbox: Path | None = None
    received: list[Received] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (subject, reply) of each message refused

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        reply = self.replies.pop(0) if self.replies else "250"
        if not reply.startswith("250"):
            self.refused.append((str(message["Subject"]), reply))
            return reply
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
def smtp_sink(
    outbox: Path | None = None, port: int | None = None, handler: CollectingHandler | None = None
) -> Iterator[tuple[int, CollectingHandler]]:
    """Run an SMTP server on 127.0.0.1 (a free port unless given) for the duration of the block."""
    handler = handler or CollectingHandler(outbox)
    port = port or free_port()
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
            "extra": {"disable_tls": True, "disable_ssl": True, "timeout": 10, "retry_limit": 1, "retry_delay": 1},
        }
    )
