"""Deployment configuration: one YAML file (``chibo.yaml``) with environment overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from contract.model import fold
from reading.guards import Limits

REPO_ROOT = Path(__file__).resolve().parent.parent
VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")  # the day a report, a deadline or a night belongs to
DEFAULT_CONFIG_PATH = REPO_ROOT / "chibo.yaml"

PATH_OVERRIDES = {
    "inbox": "CHIBO_INBOX",
    "archive": "CHIBO_ARCHIVE",
    "quarantine": "CHIBO_QUARANTINE",
    "data_docs": "CHIBO_DATA_DOCS",
    "warehouse": "CHIBO_WAREHOUSE",
    "work_dir": "CHIBO_WORK_DIR",
    "publish": "CHIBO_PUBLISH",
}


@dataclass(frozen=True)
class Completeness:
    """When reports are due and when the provinces are reminded of the missing ones."""

    deadline_month: int = 1  # the deadline falls in the year after the report year
    deadline_day: int = 15
    reminder_days_before: tuple[int, ...] = (7, 1)
    reminder_days_after: tuple[int, ...] = (1, 7, 30)
    years_back: int = 2  # report years tracked each night: the last N finished years

    def __post_init__(self) -> None:
        date(2001, self.deadline_month, self.deadline_day)  # ValueError for "02-30", and "02-29" (not every year)
        if self.years_back < 1:
            raise ValueError(f"completeness.years_back must be at least 1, not {self.years_back}")

    def deadline_for(self, report_year: int) -> date:
        """Last day to send the report of ``report_year``, e.g. 15/01 of the next year."""
        return date(report_year + 1, self.deadline_month, self.deadline_day)

    def is_reminder_day(self, today: date, report_year: int) -> bool:
        """Whether ``today`` is one of the configured days before or after the report year's deadline."""
        days_to_deadline = (self.deadline_for(report_year) - today).days
        return days_to_deadline in self.reminder_days_before or -days_to_deadline in self.reminder_days_after

    def tracked_years(self, today: date) -> tuple[int, ...]:
        """The last ``years_back`` finished report years, oldest first: (2024, 2025) on any day of 2026."""
        return tuple(range(today.year - self.years_back, today.year))


def parse_completeness(section: Mapping[str, Any] | None) -> Completeness:
    """The ``completeness`` section of chibo.yaml; defaults for whatever is absent."""
    section = section or {}
    defaults = Completeness()
    month, day = defaults.deadline_month, defaults.deadline_day
    if section.get("deadline") is not None:
        month_text, _, day_text = str(section["deadline"]).strip().partition("-")
        month, day = int(month_text), int(day_text)
    return Completeness(
        deadline_month=month,
        deadline_day=day,
        reminder_days_before=tuple(int(d) for d in section.get("reminder_days_before", defaults.reminder_days_before)),
        reminder_days_after=tuple(int(d) for d in section.get("reminder_days_after", defaults.reminder_days_after)),
        years_back=int(section.get("years_back", defaults.years_back)),
    )


@dataclass(frozen=True)
class Settings:
    inbox: Path
    archive: Path
    quarantine: Path
    data_docs: Path
    warehouse: Path
    work_dir: Path
    publish: Path  # the analysts' snapshot: chibo.duckdb, parquet/, docs/ (pipeline/publish.py)
    smtp_conn_id: str
    mail_from: str
    recipients: Mapping[str, tuple[str, ...]]
    operators: tuple[str, ...]
    severity_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    copy_submitter: bool = False
    send_when_empty: bool = False
    settle_probe_seconds: float = 2.0
    limits: Limits = field(default_factory=Limits)
    completeness: Completeness = field(default_factory=Completeness)
    publish_keep_versions: int = 3  # published snapshots kept, the current one included
    smtp_fallback_conn_id: str | None = None  # a second SMTP connection for the failed-night notice

    def recipients_for(self, province: str | None) -> tuple[str, ...]:
        """Addresses for a province's alert, matched whatever the case, diacritics or "Tỉnh" prefix;
        the operators when the province is unknown."""
        wanted = province_match_key(province)
        for configured, addresses in self.recipients.items():
            if wanted and province_match_key(configured) == wanted:
                return addresses
        return self.operators

    def severity_for(self, province: str | None, rule_id: str, default: str) -> str:
        """A rule's severity in a province: the catalogue's, unless chibo.yaml overrides it there."""
        wanted = province_match_key(province)
        for configured, rules in self.severity_overrides.items():
            if wanted and province_match_key(configured) == wanted and rule_id in rules:
                return rules[rule_id]
        return default


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
    defaults = {"quarantine": "var/quarantine", "data_docs": "var/data_docs", "publish": "var/publish"}
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
        copy_submitter=bool(alerts.get("copy_submitter", False)),
        send_when_empty=bool(alerts.get("send_when_empty", False)),
        severity_overrides={
            province: dict(rules) for province, rules in ((document.get("quality") or {}).get("severity") or {}).items()
        },
        settle_probe_seconds=float(environ.get("CHIBO_SETTLE_PROBE_SECONDS") or intake.get("settle_probe_seconds", 2)),
        limits=Limits(**(intake.get("limits") or {})),
        completeness=parse_completeness(document.get("completeness")),
        publish_keep_versions=int((document.get("publish") or {}).get("keep_versions", 3)),
        smtp_fallback_conn_id=environ.get("CHIBO_SMTP_FALLBACK_CONN_ID") or smtp.get("fallback_conn_id") or None,
    )


def vietnam_today() -> date:
    """Today in Vietnam: what the night judges report years, preparation dates and deadlines by."""
    return datetime.now(VIETNAM).date()
