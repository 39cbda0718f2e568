"""A wrong chibo.yaml is told in one sentence naming the file and the key (``ConfigError``), never a traceback
from deep inside; a valid one loads as before."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chibo.config import DEFAULT_CONFIG_PATH, DEFAULT_LOCK_WAIT_SECONDS, load_settings
from chibo.errors import ConfigError, PermanentError

MINIMAL = "paths: {inbox: i, archive: a, warehouse: w.duckdb, work_dir: t}\n"


def load(tmp_path: Path, text: str, **environ: str):
    config = tmp_path / "chibo.yaml"
    config.write_text(text, encoding="utf-8")
    return load_settings({"CHIBO_CONFIG": str(config), **environ})


def refusal(tmp_path: Path, text: str, **environ: str) -> str:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text, **environ)
    message = str(raised.value)
    assert str(tmp_path / "chibo.yaml") in message
    assert "Traceback" not in message
    return message


def with_section(section: str, body: object) -> str:
    document = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    document[section] = body
    return yaml.safe_dump(document, allow_unicode=True)


def test_the_repository_config_and_a_minimal_one_load(tmp_path: Path):
    settings = load_settings({})
    assert settings.lock_wait_seconds == DEFAULT_LOCK_WAIT_SECONDS
    assert settings.recipients["Lào Cai"] == ("to-chuc@laocai.example.org", "thong-ke@laocai.example.org")
    minimal = load(tmp_path, MINIMAL)
    assert minimal.warehouse == tmp_path / "w.duckdb" and minimal.quarantine == tmp_path / "var/quarantine"
    assert load(tmp_path, MINIMAL + "warehouse: {lock_wait_seconds: 5}\n").lock_wait_seconds == 5
    assert load(tmp_path, MINIMAL, CHIBO_LOCK_WAIT_SECONDS="1.5").lock_wait_seconds == 1.5


def test_a_missing_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist") as raised:
        load_settings({"CHIBO_CONFIG": str(tmp_path / "nowhere.yaml")})
    assert str(tmp_path / "nowhere.yaml") in str(raised.value)
    assert isinstance(raised.value, PermanentError)


def test_a_yaml_syntax_error_names_line_and_column(tmp_path: Path):
    message = refusal(tmp_path, "paths:\n  inbox: i\n  archive: [a\n")
    assert "not valid YAML at line" in message and "column" in message


def test_the_top_level_must_be_a_mapping(tmp_path: Path):
    assert "must hold a mapping" in refusal(tmp_path, "- paths\n- smtp\n")


def test_paths_missing(tmp_path: Path):
    assert "no `paths` section" in refusal(tmp_path, "smtp: {conn_id: x}\n")
    assert "no `paths` section" in refusal(tmp_path, "")
    message = refusal(tmp_path, "paths: {inbox: i, archive: a, work_dir: t}\n")
    assert "`paths.warehouse` missing" in message and "CHIBO_WAREHOUSE" in message
    # every required path given by the environment: no section needed
    environ = {"CHIBO_INBOX": "i", "CHIBO_ARCHIVE": "a", "CHIBO_WAREHOUSE": "w", "CHIBO_WORK_DIR": "t"}
    assert load(tmp_path, "smtp: {conn_id: x}\n", **environ).smtp_conn_id == "x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paths: [i, a]\n", "`paths` must be a mapping of settings, not a list"),
        ("paths: {inbox: i, archive: a, warehouse: [w], work_dir: t}\n", "`paths.warehouse` must be a path"),
        ("paths: {inbox: i, archive: a, warehouse: w, work_dir: t, warehous: x}\n", "unknown setting `paths.warehous`"),
        (MINIMAL + "alert: {operators: [a@b]}\n", "unknown setting `alert`"),
        (MINIMAL + "intake: {limits: {max_file_bytes: lots}}\n", "`intake.limits.max_file_bytes` must be a whole"),
        (MINIMAL + "intake: {limits: {max_file_mb: 3}}\n", "unknown setting `intake.limits.max_file_mb`"),
        (MINIMAL + "intake: {limits: [1, 2]}\n", "`intake.limits` must be a mapping"),
        (MINIMAL + "intake: {settle_probe_seconds: soon}\n", "`intake.settle_probe_seconds` must be a number"),
        (MINIMAL + "completeness: {deadline: 02-30}\n", "`completeness.deadline` '02-30' is not a day"),
        (MINIMAL + "completeness: {deadline: 15 January}\n", "`completeness.deadline` must be month-day"),
        (MINIMAL + "completeness: {years_back: 0}\n", "`completeness.years_back` must be at least 1"),
        (MINIMAL + "completeness: {reminder_days_before: 7}\n", "`completeness.reminder_days_before` must be a list"),
        (MINIMAL + "alerts: {recipients: {Lào Cai: a@b}}\n", "`alerts.recipients.Lào Cai` must be a list"),
        (MINIMAL + "alerts: {operators: ops@x}\n", "`alerts.operators` must be a list"),
        (MINIMAL + "alerts: {copy_submitter: yes please}\n", "`alerts.copy_submitter` must be true or false"),
        (MINIMAL + "quality: {severity: {Sơn La: {r: fatal}}}\n", "`quality.severity.Sơn La.r` must be error or"),
        (MINIMAL + "publish: {keep_versions: 0}\n", "`publish.keep_versions` must be at least 1"),
        (MINIMAL + "smtp: {conn_id: [a]}\n", "`smtp.conn_id` must be a text"),
        (MINIMAL + "warehouse: {lock_wait_seconds: -1}\n", "`warehouse.lock_wait_seconds` must be at least 0"),
    ],
)
def test_wrong_values_name_their_key(tmp_path: Path, text: str, expected: str):
    assert expected in refusal(tmp_path, text)


def test_wrong_environment_overrides_name_the_variable(tmp_path: Path):
    assert "CHIBO_LOCK_WAIT_SECONDS must be a number" in refusal(tmp_path, MINIMAL, CHIBO_LOCK_WAIT_SECONDS="ten")
    assert "CHIBO_SETTLE_PROBE_SECONDS" in refusal(tmp_path, MINIMAL, CHIBO_SETTLE_PROBE_SECONDS="x")


def test_the_repository_sections_rewritten_still_load(tmp_path: Path):
    """yaml.safe_dump of the shipped file (as tests and operators do) loads to the same settings."""
    text = with_section("publish", {"keep_versions": 5})
    assert load(tmp_path, text).publish_keep_versions == 5


@pytest.mark.parametrize("empty", ['""', "false", "null"])
def test_an_empty_required_path_is_told_not_a_traceback(tmp_path: Path, empty: str):
    message = refusal(tmp_path, f"paths: {{inbox: {empty}, archive: a, warehouse: w.duckdb, work_dir: t}}\n")
    assert "`paths.inbox`" in message
