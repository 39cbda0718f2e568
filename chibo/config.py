"""Deployment configuration: one YAML file (``chibo.yaml``) with environment overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from chibo.errors import ConfigError
from contract.model import fold
from reading.guards import Limits

REPO_ROOT = Path(__file__).resolve().parent.parent
VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")  # the day a report, a deadline or a night belongs to
DEFAULT_CONFIG_PATH = REPO_ROOT / "chibo.yaml"
DEFAULT_LOCK_WAIT_SECONDS = 600.0  # how long a writer waits for the warehouse held by another process

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
    """The ``completeness`` section of chibo.yaml; defaults for whatever is absent. ``ValueError`` naming the key
    for a wrong value (``load_settings`` adds the file)."""
    section = section or {}
    if not isinstance(section, Mapping):
        raise ValueError(f"`completeness` must be a mapping of settings, not {_kind(section)}")
    _known_keys(section, "completeness", COMPLETENESS_KEYS)
    defaults = Completeness()
    month, day = defaults.deadline_month, defaults.deadline_day
    if section.get("deadline") is not None:
        month_text, _, day_text = str(section["deadline"]).strip().partition("-")
        if not (month_text.isdigit() and day_text.isdigit()):
            raise ValueError(f"`completeness.deadline` must be month-day such as 01-15, not {section['deadline']!r}")
        month, day = int(month_text), int(day_text)
        try:
            date(2001, month, day)
        except ValueError:
            raise ValueError(f"`completeness.deadline` {section['deadline']!r} is not a day of every year") from None
    return Completeness(
        deadline_month=month,
        deadline_day=day,
        reminder_days_before=_integers(section, "reminder_days_before", "completeness", defaults.reminder_days_before),
        reminder_days_after=_integers(section, "reminder_days_after", "completeness", defaults.reminder_days_after),
        years_back=_integer(section, "years_back", "completeness", defaults.years_back),
    )


PORTAL_DATABASE_FILE = "portal.sqlite"  # the embedded default, in the work folder
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Portal:
    """The Board's web portal (docs/portal.md): its own database and the address people reach it at."""

    database_url: str | None = None  # SQLAlchemy URL, postgresql+psycopg2://... or sqlite:///<file>; None: the
    # embedded default, a SQLite file in the work folder (``Settings.portal`` fills it in)
    public_url: str = DEFAULT_PUBLIC_URL  # what links in e-mails point to
    login_attempts_per_minute: int = 5  # per account name and per address; then 429 for a minute

    def link(self, path: str) -> str:
        """An absolute link to a portal page, e.g. ``link("/bao-cao/abc")``."""
        return self.public_url.rstrip("/") + "/" + path.lstrip("/")


def parse_portal(section: Mapping[str, Any] | None, environ: Mapping[str, str], base: Path) -> Portal:
    """The ``portal`` section of chibo.yaml (``CHIBO_PORTAL_DATABASE_URL``, ``CHIBO_PORTAL_PUBLIC_URL`` override)."""
    section = section or {}
    if not isinstance(section, Mapping):
        raise ValueError(f"`portal` must be a mapping of settings, not {_kind(section)}")
    _known_keys(section, "portal", PORTAL_KEYS)
    url = environ.get("CHIBO_PORTAL_DATABASE_URL") or _text(section, "database_url", "portal", None)
    if url is not None and url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = f"sqlite:///{_resolve(base, url.removeprefix('sqlite:///'))}"  # relative to chibo.yaml's folder
    if url is not None and not url.startswith(("sqlite:///", "postgresql")):
        raise ValueError(f"`portal.database_url` must be sqlite:///<file> or postgresql+psycopg2://..., not {url!r}")
    public_url = environ.get("CHIBO_PORTAL_PUBLIC_URL") or _text(section, "public_url", "portal", DEFAULT_PUBLIC_URL)
    if not str(public_url).startswith(("http://", "https://")):
        raise ValueError(f"`portal.public_url` must start with http:// or https://, not {public_url!r}")
    return Portal(
        database_url=url,
        public_url=str(public_url),
        login_attempts_per_minute=_integer(section, "login_attempts_per_minute", "portal", 5),
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
    lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS  # waiting for the warehouse held elsewhere (warehouse/lock.py)
    portal_config: Portal = field(default_factory=Portal)  # chibo.yaml's `portal`

    @property
    def portal(self) -> Portal:
        """The portal's settings; its database a SQLite file in the work folder unless chibo.yaml names one."""
        if self.portal_config.database_url is not None:
            return self.portal_config
        return replace(self.portal_config, database_url=f"sqlite:///{self.work_dir / PORTAL_DATABASE_FILE}")

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


# The keys chibo.yaml may hold: anything else is a typo that would silently be ignored (an "alert:" section would
# leave every province without its digest), so it is refused.
TOP_LEVEL_KEYS = ("paths", "intake", "quality", "publish", "smtp", "alerts", "completeness", "warehouse", "portal")
PORTAL_KEYS = ("database_url", "public_url", "login_attempts_per_minute")
INTAKE_KEYS = ("settle_probe_seconds", "limits")
SMTP_KEYS = ("conn_id", "mail_from", "fallback_conn_id")
ALERTS_KEYS = ("recipients", "operators", "copy_submitter", "send_when_empty")
COMPLETENESS_KEYS = ("deadline", "reminder_days_before", "reminder_days_after", "years_back")
PUBLISH_KEYS = ("keep_versions",)
WAREHOUSE_KEYS = ("lock_wait_seconds",)
QUALITY_KEYS = ("severity",)
SEVERITIES = ("error", "warning")
REQUIRED_PATHS = ("inbox", "archive", "warehouse", "work_dir")
DEFAULT_PATHS = {"quarantine": "var/quarantine", "data_docs": "var/data_docs", "publish": "var/publish"}


def _kind(value: object) -> str:
    """How a YAML value reads to an operator: "a list", "the text 'abc'", "nothing"."""
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{type(value).__name__} {value!r}"


def _known_keys(section: Mapping[Any, Any], where: str, known: tuple[str, ...]) -> None:
    unknown = [str(key) for key in section if key not in known]
    if unknown:
        listed = ", ".join(f"`{where}.{key}`" if where else f"`{key}`" for key in unknown)
        raise ValueError(f"unknown setting {listed} (known here: {', '.join(known)})")


def _section(document: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    """A mapping under ``key`` ({} when absent or empty)."""
    value = document.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"`{where}{key}` must be a mapping of settings, not {_kind(value)}")
    return value


def _number(section: Mapping[str, Any], key: str, where: str, default: float, minimum: float = 0) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"`{where}.{key}` must be a number, not {_kind(value)}")
    if value < minimum:
        raise ValueError(f"`{where}.{key}` must be at least {minimum:g}, not {value}")
    return float(value)


def _integer(section: Mapping[str, Any], key: str, where: str, default: int, minimum: int = 1) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"`{where}.{key}` must be a whole number, not {_kind(value)}")
    if value < minimum:
        raise ValueError(f"`{where}.{key}` must be at least {minimum}, not {value}")
    return value


def _integers(section: Mapping[str, Any], key: str, where: str, default: tuple[int, ...]) -> tuple[int, ...]:
    value = section.get(key, default)
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise ValueError(f"`{where}.{key}` must be a list of whole numbers of days, not {_kind(value)}")
    return tuple(value)


def _text(section: Mapping[str, Any], key: str, where: str, default: str | None) -> str | None:
    value = section.get(key, default)
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    raise ValueError(f"`{where}.{key}` must be a text, not {_kind(value)}")


def _boolean(section: Mapping[str, Any], key: str, where: str) -> bool:
    value = section.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"`{where}.{key}` must be true or false, not {_kind(value)}")
    return value


def _addresses(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(a, str) and a.strip() for a in value):
        raise ValueError(f"`{where}` must be a list of e-mail addresses, not {_kind(value)}")
    return tuple(value)


def _env_number(environ: Mapping[str, str], variable: str) -> float | None:
    text = environ.get(variable)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"the environment variable {variable} must be a number of seconds, not {text!r}") from None
    if value < 0:
        raise ValueError(f"the environment variable {variable} must be at least 0, not {text!r}")
    return value


def read_document(config_path: Path) -> dict[str, Any]:
    """chibo.yaml as a mapping; ``ConfigError`` when it is missing, unreadable, not YAML or not a mapping."""
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"The configuration file {config_path} does not exist. Create it (the repository's chibo.yaml is an "
            "example) or point CHIBO_CONFIG at it."
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"The configuration file {config_path} cannot be read: {error}.") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"The configuration file {config_path} is not valid YAML{where}: {problem}.") from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(
            f"The configuration file {config_path} must hold a mapping of sections (paths:, smtp:, ...), "
            f"not {_kind(document)}."
        )
    return document


def _paths(document: Mapping[str, Any], environ: Mapping[str, str], base: Path) -> dict[str, Path]:
    section = _section(document, "paths")
    _known_keys(section, "paths", tuple(PATH_OVERRIDES))
    missing = [key for key in REQUIRED_PATHS if not environ.get(PATH_OVERRIDES[key]) and section.get(key) in (None, "")]
    if missing and "paths" not in document:
        raise ValueError("there is no `paths` section (where the inbox, the archive, the warehouse are)")
    if missing:
        names = ", ".join(f"`paths.{key}`" for key in missing)
        raise ValueError(f"{names} missing (or set {', '.join(PATH_OVERRIDES[key] for key in missing)})")
    paths = {}
    for key, variable in PATH_OVERRIDES.items():
        value = environ.get(variable) or section.get(key) or DEFAULT_PATHS.get(key)
        if not isinstance(value, str):
            raise ValueError(f"`paths.{key}` must be a path (a text), not {_kind(value)}")
        paths[key] = _resolve(base, value)
    return paths


def _limits(intake: Mapping[str, Any]) -> Limits:
    section = _section(intake, "limits", "intake.")
    known = tuple(item.name for item in fields(Limits))
    _known_keys(section, "intake.limits", known)
    defaults = Limits()
    values: dict[str, Any] = {}
    for item in fields(Limits):
        default = getattr(defaults, item.name)
        if isinstance(default, int):
            values[item.name] = _integer(section, item.name, "intake.limits", default)
        else:
            values[item.name] = _number(section, item.name, "intake.limits", default, minimum=1)
    return Limits(**values)


def _severities(document: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    quality = _section(document, "quality")
    _known_keys(quality, "quality", QUALITY_KEYS)
    overrides: dict[str, dict[str, str]] = {}
    for province, rules in _section(quality, "severity", "quality.").items():
        where = f"quality.severity.{province}"
        if not isinstance(rules, Mapping):
            raise ValueError(f"`{where}` must map rule ids to error or warning, not {_kind(rules)}")
        for rule_id, severity in rules.items():
            if severity not in SEVERITIES:
                raise ValueError(f"`{where}.{rule_id}` must be error or warning, not {_kind(severity)}")
        overrides[str(province)] = {str(rule_id): str(severity) for rule_id, severity in rules.items()}
    return overrides


def _settings(document: Mapping[str, Any], environ: Mapping[str, str], base: Path) -> Settings:
    """The settings of a parsed chibo.yaml; ``ValueError`` naming the first wrong key."""
    _known_keys(document, "", TOP_LEVEL_KEYS)
    paths = _paths(document, environ, base)
    intake = _section(document, "intake")
    _known_keys(intake, "intake", INTAKE_KEYS)
    smtp = _section(document, "smtp")
    _known_keys(smtp, "smtp", SMTP_KEYS)
    alerts = _section(document, "alerts")
    _known_keys(alerts, "alerts", ALERTS_KEYS)
    publish = _section(document, "publish")
    _known_keys(publish, "publish", PUBLISH_KEYS)
    warehouse = _section(document, "warehouse")
    _known_keys(warehouse, "warehouse", WAREHOUSE_KEYS)
    recipients = _section(alerts, "recipients", "alerts.")
    settle = _env_number(environ, "CHIBO_SETTLE_PROBE_SECONDS")
    lock_wait = _env_number(environ, "CHIBO_LOCK_WAIT_SECONDS")
    return Settings(
        **paths,
        smtp_conn_id=environ.get("CHIBO_SMTP_CONN_ID") or _text(smtp, "conn_id", "smtp", "smtp_default") or "",
        mail_from=environ.get("CHIBO_MAIL_FROM") or _text(smtp, "mail_from", "smtp", "chibo@example.org") or "",
        recipients={
            str(province): _addresses(addresses, f"alerts.recipients.{province}")
            for province, addresses in recipients.items()
        },
        operators=_addresses(alerts.get("operators"), "alerts.operators"),
        copy_submitter=_boolean(alerts, "copy_submitter", "alerts"),
        send_when_empty=_boolean(alerts, "send_when_empty", "alerts"),
        severity_overrides=_severities(document),
        settle_probe_seconds=settle if settle is not None else _number(intake, "settle_probe_seconds", "intake", 2),
        limits=_limits(intake),
        completeness=parse_completeness(document.get("completeness")),
        publish_keep_versions=_integer(publish, "keep_versions", "publish", 3),
        smtp_fallback_conn_id=environ.get("CHIBO_SMTP_FALLBACK_CONN_ID")
        or _text(smtp, "fallback_conn_id", "smtp", None)
        or None,
        lock_wait_seconds=(
            lock_wait
            if lock_wait is not None
            else _number(warehouse, "lock_wait_seconds", "warehouse", DEFAULT_LOCK_WAIT_SECONDS)
        ),
        portal_config=parse_portal(document.get("portal"), environ, base),
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of chibo.yaml (``CHIBO_CONFIG``, else the repository's) with the ``CHIBO_*`` overrides.
    Raises ``ConfigError``, a sentence naming the file and the key, for anything missing or wrong."""
    environ = os.environ if environ is None else environ
    config_path = Path(environ.get("CHIBO_CONFIG") or DEFAULT_CONFIG_PATH).expanduser()
    document = read_document(config_path)
    try:
        return _settings(document, environ, config_path.resolve().parent)
    except ValueError as error:
        raise ConfigError(f"The configuration file {config_path} is wrong: {error}.") from None


def vietnam_today() -> date:
    """Today in Vietnam: what the night judges report years, preparation dates and deadlines by."""
    return datetime.now(VIETNAM).date()
