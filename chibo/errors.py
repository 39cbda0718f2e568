"""The failures chibo explains in words, by what to do about them.

A ``PermanentError`` will not go away by retrying (bad configuration, a wrong path, a foreign file, bad data):
the night's task fails at once. A ``TransientError`` may (a held lock, an SMTP 4xx): the task is retried with
backoff. The message is a sentence for the operators, never a traceback. This module imports nothing of the
project, so every package may raise these.
"""

from __future__ import annotations


class ChiboError(Exception):
    """A failure chibo explains in words."""


class PermanentError(ChiboError):
    """Retrying will not help: the task fails fast."""


class TransientError(ChiboError):
    """Worth retrying with backoff."""


class ConfigError(PermanentError):
    """chibo.yaml (or an environment override) is missing, unreadable or wrong."""


class NotReady(PermanentError):
    """The deployment is not prepared: a folder or the warehouse is missing (``chibo init``)."""


class ForeignWarehouse(PermanentError):
    """The warehouse path holds a file that is not chibo's warehouse; chibo does not touch it."""


class WarehouseBusy(TransientError):
    """Another process holds the warehouse longer than chibo waits for it."""
