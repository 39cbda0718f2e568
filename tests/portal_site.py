"""A real portal for tests: a sample deployment that has had its night and published, the sample accounts, and
``chibo serve`` running in its own process on a free port (as a person would reach it), warm before use."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from chibo.cli import SAMPLE_ACCOUNTS
from chibo.config import Settings, load_settings
from chibo.deployment import prepare
from chibo.smtp_sink import free_port
from demo.samples import write_sample_inbox
from pipeline import nightly
from pipeline.publish import publish_snapshot
from portal import accounts, store
from tests.deployments import deployment_variables

READY_SECONDS = 180  # the checker's warm-up: GX import, the empty warehouse's views, the suites
PASSWORDS = {"baothang": "baothang-2024", "muongkhuong": "muongkhuong-2024", "laocai": "laocai-tochuc",
             "sonla": "sonla-tochuc", "vanhanh": "vanhanh-chibo"}  # fmt: skip  (demo/portal_accounts.csv)


def night(settings: Settings, run_id: str) -> Path:
    """One night without Airflow (its steps in order) and its publish: the snapshot's folder."""
    nightly.ingest(settings, run_id)
    nightly.validate(settings, run_id)
    nightly.build_marts(settings, run_id)
    return publish_snapshot(settings, run_id, docs=False)


def sample_deployment(base: Path) -> tuple[Settings, dict[str, str]]:
    """A deployment under ``base`` with the sample inbox taken in and published, and the sample accounts; its
    settings and the environment variables that point a process at it."""
    variables = deployment_variables(base)
    settings = load_settings({**os.environ, **variables})
    prepare(settings)
    write_sample_inbox(settings.inbox)
    night(settings, "night-1")
    store.migrate(settings)
    created, problems = accounts.import_file(settings, SAMPLE_ACCOUNTS)
    assert not problems and len(created) == len(PASSWORDS), problems
    return settings, variables


@contextmanager
def running_portal(variables: Mapping[str, str], log: Path) -> Iterator[str]:
    """``chibo serve`` on a free port with the deployment's variables; its base URL once the checker is warm."""
    port = free_port()
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "chibo.cli", "serve", "--port", str(port)],
            env={**os.environ, **variables},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base = f"http://localhost:{port}"
        try:
            wait_until_warm(base, process, log)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_until_warm(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"chibo serve stopped ({process.returncode}):\n{log.read_text(encoding='utf-8')}")
        try:
            if httpx.get(f"{base}/suc-khoe", timeout=5).json().get("checker_ready"):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"chibo serve was not ready in {READY_SECONDS} s:\n{log.read_text(encoding='utf-8')}")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found is not None, "the page has no form with a CSRF token"
    return found[1]


def logged_in(base: str, username: str, password: str | None = None) -> httpx.Client:
    """An HTTP client with a session of ``username`` (its sample password unless given)."""
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=120)
    form = client.get("/dang-nhap")
    done = client.post(
        "/dang-nhap",
        data={"username": username, "password": password or PASSWORDS[username], "csrf_token": csrf_of(form.text)},
    )
    assert done.status_code == 303, (done.status_code, done.text[:500])
    return client
