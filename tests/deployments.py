"""A test deployment: every configured folder of chibo under one base folder, as CHIBO_* variables."""

from __future__ import annotations

from pathlib import Path


def deployment_variables(base: Path) -> dict[str, str]:
    """The CHIBO_* path variables of a deployment under ``base`` (and no settle probe: tests copy files whole)."""
    return {
        "CHIBO_INBOX": str(base / "inbox"),
        "CHIBO_ARCHIVE": str(base / "archive"),
        "CHIBO_WAREHOUSE": str(base / "warehouse.duckdb"),
        "CHIBO_WORK_DIR": str(base / "work"),
        "CHIBO_QUARANTINE": str(base / "quarantine"),
        "CHIBO_DATA_DOCS": str(base / "data docs"),
        "CHIBO_PUBLISH": str(base / "publish"),
        "CHIBO_SETTLE_PROBE_SECONDS": "0",
    }
