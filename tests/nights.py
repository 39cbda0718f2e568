"""Validating as the night does: the warehouse's views first, then the pending batch."""

from __future__ import annotations

from datetime import date

from chibo.config import Settings
from expectations.validate import Outcome, validate_pending
from pipeline.nightly import build_views
from warehouse.raw import connect


def validate_tonight(settings: Settings, run_id: str, today: date | None = None) -> list[Outcome]:
    """``pipeline.nightly.validate``, returning the outcomes with their findings."""
    build_views(settings)
    with connect(settings.warehouse) as connection:
        if today is None:
            return validate_pending(connection, run_id, settings=settings)
        return validate_pending(connection, run_id, settings=settings, today=today)
