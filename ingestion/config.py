"""Deployment configuration: one YAML file (``chibo.yaml``) with environment overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingestion.contract import fold
from ingestion.guards import Limits

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = REPO_ROOT / "chibo.yaml"

PATH_OVERRIDES = {
    "inbox": "CHIBO_INBOX",
    "archive": "CHIBO_ARCHIVE",
    "quarantine": "CHIBO_QUARANTINE",
    "warehouse": "CHIBO_WAREHOUSE",
    "work_dir": "CHIBO_WORK_DIR",
}


@dataclass(frozen=True)
class Settings:
    inbox: Path
    archive: Path
    quarantine: Path
    warehouse: Path
    work_dir: Path
    smtp_conn_id: str
    mail_from: str
    recipients: Mapping[str, tuple[str, ...]]
    operators: tuple[str, ...]
    settle_probe_seconds: float = 2.0
    limits: Limits = field(default_factory=Limits)

    def recipients_for(self, province: str | None) -> tuple[str, ...]:
        """Addresses for a province's alert, matched whatever the case, diacritics or "Tỉnh" prefix;
        the operators when the province is unknown."""
        wanted = province_match_key(province)
        for configured, addresses in self.recipients.items():
            if wanted and province_match_key(configured) == wanted:
                return addresses
        return self.operators


def province_match_key(province: str | None) -> str:
    folded = fold(province or "")
    return folded.removeprefix("tinh ").strip()


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    config_path = Path(environ.get("CHIBO_CONFIG", DEFAULT_CONFIG_PATH))
    document: dict[str, Any] = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    base = config_path.resolve().parent
    defaults = {"quarantine": "var/quarantine"}
    paths = {
        key: _resolve(base, environ.get(variable) or document["paths"].get(key) or defaults[key])
        for key, variable in PATH_OVERRIDES.items()
    }
    intake = document.get("intake") or {}
    smtp = document.get("smtp", {})
    alerts = document.get("alerts", {})
    return Settings(
        **paths,
        smtp_conn_id=environ.get("CHIBO_SMTP_CONN_ID") or smtp.get("conn_id", "smtp_default"),
        mail_from=environ.get("CHIBO_MAIL_FROM") or smtp.get("mail_from", "chibo@example.org"),
        recipients={p: tuple(a) for p, a in (alerts.get("recipients") or {}).items()},
        operators=tuple(alerts.get("operators") or ()),
        settle_probe_seconds=float(environ.get("CHIBO_SETTLE_PROBE_SECONDS") or intake.get("settle_probe_seconds", 2)),
        limits=Limits(**(intake.get("limits") or {})),
    )
