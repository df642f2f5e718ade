"""Staff, teams and the roles they hold."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin, UTCDateTime


class Role(StrEnum):
    """The roles named in DESIGN.md; what each may do is declared in app/security/policy.py."""

    social_worker = "social_worker"
    team_manager = "team_manager"
    mash_officer = "mash_officer"
    iro = "iro"
    service_manager = "service_manager"
    qa_auditor = "qa_auditor"
    # The council's performance and data team: statutory returns, data quality, inspection lists.
    data_officer = "data_officer"
    administrator = "administrator"
    integration_client = "integration_client"


class TeamKind(StrEnum):
    front_door = "front_door"  # MASH
    assessment = "assessment"
    cin_cp = "cin_cp"  # child in need / child protection (long-term)
    children_in_care = "children_in_care"
    care_leavers = "care_leavers"
    iro = "iro"
    quality_assurance = "quality_assurance"
    early_help = "early_help"


class UserAccount(IdMixin, TimestampMixin, Base):
    """A member of staff or an integration client. Local accounts carry an argon2 hash."""

    __tablename__ = "user_account"

    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The OIDC subject (``sub``) this account is linked to, when the council's provider is used.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Social Work England registration number (SSDA903 SW_ID), for registered social workers.
    swe_registration_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    version: Mapped[int] = mapped_column(default=1)

    memberships: Mapped[list[TeamMembership]] = relationship(
        back_populates="user", lazy="raise", foreign_keys="TeamMembership.user_id"
    )

    __mapper_args__ = {"version_id_col": version}


class Team(IdMixin, TimestampMixin, Base):
    __tablename__ = "team"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[TeamKind] = mapped_column(StrEnumType(TeamKind))
    area: Mapped[str | None] = mapped_column(String(120))
    is_active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)

    memberships: Mapped[list[TeamMembership]] = relationship(back_populates="team", lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class TeamMembership(IdMixin, Base):
    """A worker's membership of a team over time; a manager manages the team's cases."""

    __tablename__ = "team_membership"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id", "start_date"),
        Index("ix_team_membership_user_current", "user_id", "end_date"),
    )

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    is_manager: Mapped[bool] = mapped_column(default=False)
    start_date: Mapped[date]
    end_date: Mapped[date | None]

    team: Mapped[Team] = relationship(back_populates="memberships", lazy="raise")
    user: Mapped[UserAccount] = relationship(
        back_populates="memberships", lazy="raise", foreign_keys=[user_id]
    )
