"""Shared fixtures. Airflow reads its configuration when first imported, so AIRFLOW_HOME is set to
a temporary folder here, before any test can import it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from chibo.local_airflow import prepare_environment  # noqa: E402 - imports no Airflow

os.environ.setdefault("CHIBO_TASK_RETRIES", "0")  # a failing night's test fails at once (the DAG reads it when parsed)
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="chibo-airflow-"))
prepare_environment(_AIRFLOW_HOME)  # AIRFLOW_HOME, dags folder, no examples: before Airflow is imported

from chibo.config import Settings, load_settings  # noqa: E402
from chibo.deployment import prepare  # noqa: E402
from chibo.smtp_sink import CollectingHandler, smtp_sink  # noqa: E402
from tests.deployments import deployment_variables  # noqa: E402


@pytest.fixture
def airflow_home() -> Path:
    return _AIRFLOW_HOME


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose inbox, archive, warehouse and work folder live in the test's temp folder, prepared as
    ``chibo init`` does (the folders, an empty chibo warehouse): a night refuses a deployment that is not."""
    for name, value in deployment_variables(tmp_path).items():
        monkeypatch.setenv(name, value)
    loaded = load_settings()
    prepare(loaded)
    return loaded


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, CollectingHandler]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""
    with smtp_sink() as server:
        yield server
