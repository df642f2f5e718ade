"""Outside development the service refuses to start with the default or a short secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import DEFAULT_SECRET, Environment, Settings


@pytest.fixture(autouse=True)
def _no_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASEWORK_SECRET_KEY", raising=False)
    monkeypatch.delenv("CASEWORK_ENVIRONMENT", raising=False)


@pytest.mark.parametrize("environment", [Environment.production, Environment.test])
def test_the_default_secret_is_refused_outside_development(environment: Environment) -> None:
    with pytest.raises(ValidationError, match="CASEWORK_SECRET_KEY"):
        Settings(environment=environment, _env_file=None)


def test_a_short_secret_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(environment="production", secret_key="short", _env_file=None)


def test_a_long_random_secret_is_accepted_in_production() -> None:
    settings = Settings(
        environment=Environment.production,
        secret_key="k" * 48,
        _env_file=None,
    )
    assert settings.secret_key != DEFAULT_SECRET
    assert settings.cookie_secure is True


def test_development_runs_with_the_default_secret() -> None:
    assert Settings(_env_file=None).secret_key == DEFAULT_SECRET
