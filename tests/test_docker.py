"""docker/ is kept correct by reading it: Docker cannot run on the machines that build Casework.

The compose file must start PostgreSQL 15 with a volume and a health check, start the app only
when the database is healthy, and check the app's own health; the image must run as a non-root
user; ``.env.example`` must document exactly the settings Casework has.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import ROOT, Settings

DOCKER = ROOT / "docker"
# Variables .env.example may hold that compose reads and Casework does not.
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}
_VARIABLE = re.compile(r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=", re.MULTILINE)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text("utf-8"))
    return document


def _dockerfile() -> list[str]:
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def test_compose_has_an_app_and_postgresql_15(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"app", "db"}
    assert services["db"]["image"] == "postgres:15"
    assert services["app"]["build"]["dockerfile"] == "docker/Dockerfile"
    assert (DOCKER / services["app"]["build"]["context"] / "pyproject.toml").exists()


def test_the_database_keeps_its_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    mounts = compose["services"]["db"]["volumes"]
    named = [m.split(":")[0] for m in mounts if m.endswith(":/var/lib/postgresql/data")]
    assert named, "PostgreSQL's data directory is a volume"
    assert named[0] in compose["volumes"]


def test_both_services_have_health_checks(compose: dict[str, Any]) -> None:
    db_check = compose["services"]["db"]["healthcheck"]["test"]
    assert "pg_isready" in " ".join(db_check)
    app_check = " ".join(compose["services"]["app"]["healthcheck"]["test"])
    assert "/health" in app_check
    assert ":8000" in app_check


def test_the_app_waits_for_a_healthy_database(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert any(str(port).endswith("8000:8000") for port in app["ports"])
    assert app["env_file"] == ".env"
    url = app["environment"]["CASEWORK_DATABASE_URL"]
    assert "postgresql+psycopg://" in url
    assert "@db:5432/" in url


def test_the_image_runs_as_a_non_root_user_with_a_health_check() -> None:
    lines = _dockerfile()
    assert lines[0].startswith("FROM python:3.11-slim")
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users, "the Dockerfile sets a USER"
    assert users[-1] not in ("root", "0"), "the service does not run as root"
    health = [line for line in lines if line.startswith("HEALTHCHECK")]
    assert health, "the Dockerfile has a HEALTHCHECK"
    assert "/health" in health[0]
    entrypoint = (DOCKER / "entrypoint.sh").read_text(encoding="utf-8")
    assert "casework db upgrade" in entrypoint
    assert "casework serve --host 0.0.0.0" in entrypoint


def test_env_example_documents_exactly_the_settings() -> None:
    text = (DOCKER / ".env.example").read_text(encoding="utf-8")
    variables = set(_VARIABLE.findall(text))
    settings = {f"CASEWORK_{name.upper()}" for name in Settings.model_fields}
    casework = {v for v in variables if v.startswith("CASEWORK_")}
    assert casework - settings == set(), "documented variables Casework does not read"
    assert settings - casework == set(), "settings missing from docker/.env.example"
    assert variables - casework <= COMPOSE_ONLY


def test_env_example_is_what_compose_reads(compose: dict[str, Any]) -> None:
    text = (DOCKER / ".env.example").read_text(encoding="utf-8")
    for name in re.findall(r"\$\{([A-Z_]+)", Path(DOCKER / "compose.yaml").read_text("utf-8")):
        assert re.search(rf"^(?:#\s*)?{name}=", text, re.MULTILINE), name
