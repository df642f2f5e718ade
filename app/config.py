"""Settings: every knob of Casework, read from the environment with the prefix ``CASEWORK_``.

Outside development the service refuses to start with a default secret: a council that forgets to
set
``CASEWORK_SECRET_KEY`` gets a clear error, never a guessable key.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    """All settings; each is documented in README.md and docker/.env.example."""

    model_config = SettingsConfigDict(env_prefix="CASEWORK_", env_file=".env", extra="ignore")

    environment: Environment = Environment.development
    database_url: str = f"sqlite:///{ROOT / 'var' / 'casework.db'}"
    secret_key: str = DEFAULT_SECRET
    # Sessions: idle timeout and absolute lifetime (minutes); the web client warns before the idle
    # timeout.
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_minutes: int = Field(default=12 * 60, ge=1)
    cookie_secure: bool = True
    # Local sign-in lock-out: this many consecutive failures lock the account for lockout_minutes.
    max_failed_logins: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    # Per network address: this many failed sign-ins (any accounts) within sign_in_window_minutes
    # and that address is refused (429) until the window ends. A council office behind one NAT
    # address shares it, hence a generous default.
    sign_in_source_max_failures: int = Field(default=30, ge=1)
    sign_in_window_minutes: int = Field(default=15, ge=1)
    # OIDC: JWTs from the council's identity provider are checked against this JWKS (a path,
    # file:// URL
    # or inline JSON; the service never fetches keys over the network at request time).
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks: str | None = None
    # The council: DfE 3-digit LA code (Birmingham is 330) and name, used by returns and demo data.
    la_code: str = Field(default="330", pattern=r"^\d{3}$")
    la_name: str = "Casework Demo Council"
    # Statutory returns: the CIN census header names the software that produced it (SoftwareCode,
    # Release). The DfE validators (csc-validator-be-cin / -903) pin an old pandas, so they live in
    # a separate environment; this is its interpreter (default: .validators/bin/python, made by
    # `make validators`). Without it `casework returns check` says how to install them.
    software_code: str = Field(default="Casework", min_length=1, max_length=40)
    software_release: str = Field(default="0.1.0", min_length=1, max_length=20)
    validators_python: str | None = None
    # Local timescales (rules marked L in shared/domain/timescales.md), configurable per council.
    contact_decision_red_hours: int = Field(default=4, ge=1)
    contact_decision_amber_days: int = Field(default=1, ge=0)
    contact_decision_green_days: int = Field(default=3, ge=0)
    # Rules 4, 9, 10 and 11 have no national number (timescales.md, confidence L): council defaults.
    strategy_discussion_working_days: int = Field(default=1, ge=0)
    cp_visit_working_days: int = Field(default=10, ge=1)
    core_group_weeks: int = Field(default=6, ge=1)
    cin_review_months: int = Field(default=3, ge=1)
    # Children in care: rules marked U or L in timescales.md (14, 28, 29, 30, 35) and the IRO
    # dispute-resolution protocol are council settings.
    placement_plan_working_days: int = Field(default=5, ge=0)
    iro_allocation_working_days: int = Field(default=5, ge=0)
    review_decisions_working_days: int = Field(default=5, ge=0)
    review_record_working_days: int = Field(default=20, ge=0)
    return_interview_hours: int = Field(default=72, ge=1)
    pre_proceedings_review_weeks: int = Field(default=12, ge=1)
    iro_dispute_stage_working_days: int = Field(default=5, ge=1)
    iro_dispute_stages: int = Field(default=4, ge=1, le=6)
    # Practice and quality (rules 36, 37): each worker supervised at least every N months; every
    # open case has management oversight on file at least every N weeks.
    supervision_months: int = Field(default=1, ge=1)
    management_oversight_weeks: int = Field(default=6, ge=1)
    # Retention of a record no statute sets a period for (rules 39, 40 cover looked-after and
    # adopted children): kept until the later of the child's Nth birthday and N years after the
    # last case closed — the council's records management policy decides both.
    retention_default_until_age: int = Field(default=25, ge=18, le=120)
    retention_default_years_after_closure: int = Field(default=7, ge=0, le=100)
    log_level: str = "INFO"
    sql_echo: bool = False
    page_size_max: int = Field(default=200, ge=1)
    # When the database cannot be reached (restarting, failing over) requests get 503 with this
    # Retry-After (seconds): a restart takes a second or two, so clients come back soon.
    database_retry_after_seconds: int = Field(default=2, ge=1, le=3600)
    # Webhooks (the outbox relay, `casework outbox relay`): each POST waits at most this long for
    # an answer; a failure is retried after base x 2^(attempt-1) seconds (with jitter, capped);
    # after the last attempt the delivery is dead until an administrator retries it.
    outbox_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    outbox_max_attempts: int = Field(default=8, ge=1, le=50)
    outbox_backoff_seconds: float = Field(default=30.0, gt=0)
    outbox_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    outbox_poll_seconds: float = Field(default=2.0, gt=0, le=300)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Self:
        weak = self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32
        if self.environment is not Environment.development and weak:
            raise ValueError(
                "CASEWORK_SECRET_KEY must be set to a random value of at least 32 characters "
                "outside development (generate one with: python -c "
                "'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
