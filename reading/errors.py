"""The project's own error types: everything the reader raises on bad input is one of these."""

from __future__ import annotations


class ChiboError(Exception):
    """Base of chibo's errors."""


class UnreadableReport(ChiboError):
    """The file cannot be read as a report. ``message_vi`` is shown to staff, ``detail`` is logged."""

    def __init__(self, message_vi: str, detail: str) -> None:
        super().__init__(detail)
        self.message_vi = message_vi
        self.detail = detail
