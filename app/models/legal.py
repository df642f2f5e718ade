"""Legal planning: the legal gateway, pre-proceedings under the Public Law Outline, and care
proceedings with the 26-week limit (Children Act 1989 s.31, s.32(1)(a) as amended by the Children
and Families Act 2014 s.14).

``state`` on :class:`PreProceedings` and :class:`CareProceedings` is written only by the workflow
engine (``app.legal.workflow``).
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class GatewayDecision(StrEnum):
    """What the legal gateway / legal planning meeting decided (PLO 2014 practice guidance)."""

    issue_proceedings = "issue_proceedings"  # the s.31 threshold is met and it cannot wait
    enter_pre_proceedings = "enter_pre_proceedings"  # letter before proceedings, PLO meetings
    no_legal_action = "no_legal_action"  # the threshold is not met, or an order is not needed
    continue_to_plan = "continue_to_plan"  # carry on under the plan; return to the gateway


class PreProceedingsOutcome(StrEnum):
    """How a pre-proceedings review ended (timescales rule 35)."""

    stepped_down = "stepped_down"  # concerns reduced: back to a CP or CIN plan
    proceedings_issued = "proceedings_issued"  # an application under s.31 is made
    continued = "continued"  # reviewed and kept open for another period


class ApplicationKind(StrEnum):
    """The application that began the proceedings."""

    care_order = "care_order"  # s.31(1)(a)
    supervision_order = "supervision_order"  # s.31(1)(b)
    placement_order = "placement_order"  # Adoption and Children Act 2002 s.21
    other = "other"


#: s.32(1)(a) sets the 26-week limit on applications for a care or supervision order only.
TIME_LIMITED_KINDS = frozenset({ApplicationKind.care_order, ApplicationKind.supervision_order})


class HearingType(StrEnum):
    case_management_hearing = "case_management_hearing"  # CMH, by day 12 (PLO stage 2)
    further_case_management_hearing = "further_case_management_hearing"  # FCMH
    issues_resolution_hearing = "issues_resolution_hearing"  # IRH
    final_hearing = "final_hearing"
    other = "other"


class InterimOrderKind(StrEnum):
    """Interim orders under s.38; an interim care order is SSDA903 legal status C1."""

    interim_care_order = "interim_care_order"
    interim_supervision_order = "interim_supervision_order"


class FinalOrder(StrEnum):
    care_order = "care_order"  # SSDA903 legal status C2
    supervision_order = "supervision_order"
    special_guardianship_order = "special_guardianship_order"
    child_arrangements_order = "child_arrangements_order"
    placement_order = "placement_order"  # SSDA903 legal status E1
    no_order = "no_order"
    withdrawn = "withdrawn"  # leave to withdraw granted: the proceedings end without an order


class LegalGatewayMeeting(IdMixin, TimestampMixin, Base):
    """A legal gateway / legal planning meeting and its decision (recorded once, not edited)."""

    __tablename__ = "legal_gateway_meeting"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    meeting_date: Mapped[date]
    decision: Mapped[GatewayDecision] = mapped_column(StrEnumType(GatewayDecision))
    reasons: Mapped[str] = mapped_column(Text)
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class PreProceedings(IdMixin, TimestampMixin, Base):
    """Pre-proceedings under the PLO, from the gateway's decision to enter them until the outcome
    (stepped down, or proceedings issued). ``state``: ``open`` → ``concluded``."""

    __tablename__ = "pre_proceedings"
    __table_args__ = (
        CheckConstraint(
            "outcome_date IS NULL OR outcome_date >= decision_date", name="outcome_after_decision"
        ),
        CheckConstraint(
            "letter_sent_date IS NULL OR letter_sent_date >= decision_date",
            name="letter_after_decision",
        ),
        CheckConstraint(
            "fgc_held_date IS NULL OR (fgc_offered_date IS NOT NULL "
            "AND fgc_held_date >= fgc_offered_date)",
            name="fgc_held_after_offered",
        ),
        CheckConstraint("(state = 'concluded') = (outcome_date IS NOT NULL)", name="concluded"),
        # One open pre-proceedings per child.
        Index(
            "uq_pre_proceedings_one_open_per_child",
            "child_id",
            unique=True,
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    gateway_meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("legal_gateway_meeting.id"))
    state: Mapped[str] = mapped_column(String(40))
    decision_date: Mapped[date]
    letter_sent_date: Mapped[date | None]
    fgc_offered_date: Mapped[date | None]
    fgc_held_date: Mapped[date | None]
    # The last review that kept it open ("continued"), and the final outcome.
    last_review_date: Mapped[date | None]
    outcome: Mapped[PreProceedingsOutcome | None] = mapped_column(
        StrEnumType(PreProceedingsOutcome)
    )
    outcome_date: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class PreProceedingsMeeting(IdMixin, TimestampMixin, Base):
    """A pre-proceedings (PLO) meeting with the parents and their lawyers."""

    __tablename__ = "pre_proceedings_meeting"

    pre_proceedings_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("pre_proceedings.id"), index=True
    )
    meeting_date: Mapped[date]
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class CareProceedings(IdMixin, TimestampMixin, Base):
    """An application to the family court and its course to a final order.

    ``state``: ``issued`` → ``concluded`` (a final order, or no order) / ``withdrawn``.
    ``time_limit_date`` is the last day of the 26 weeks (s.32(1)(a)) as extended (s.32(5)).
    """

    __tablename__ = "care_proceedings"
    __table_args__ = (
        CheckConstraint(
            "final_order_date IS NULL OR final_order_date >= application_date",
            name="order_after_application",
        ),
        CheckConstraint("(state = 'issued') = (final_order IS NULL)", name="final_order_iff_ended"),
        CheckConstraint(
            "(final_order IS NULL) = (final_order_date IS NULL)", name="final_order_and_date"
        ),
        # A second open application of the same kind for the same child is refused.
        Index(
            "uq_care_proceedings_one_open_per_child_kind",
            "child_id",
            "application_kind",
            unique=True,
            postgresql_where=text("state = 'issued'"),
            sqlite_where=text("state = 'issued'"),
        ),
        Index("ix_care_proceedings_team_order_date", "team_id", "final_order_date"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    # The team that held the case when the application was issued (the figures count by it).
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id"))
    pre_proceedings_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pre_proceedings.id"))
    state: Mapped[str] = mapped_column(String(40))
    application_kind: Mapped[ApplicationKind] = mapped_column(StrEnumType(ApplicationKind))
    application_date: Mapped[date]
    court: Mapped[str] = mapped_column(String(200))
    court_case_number: Mapped[str | None] = mapped_column(String(40))
    time_limit_date: Mapped[date | None]
    final_order: Mapped[FinalOrder | None] = mapped_column(StrEnumType(FinalOrder))
    final_order_date: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CourtHearing(IdMixin, TimestampMixin, Base):
    __tablename__ = "court_hearing"

    proceedings_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_proceedings.id"), index=True)
    hearing_date: Mapped[date]
    hearing_type: Mapped[HearingType] = mapped_column(StrEnumType(HearingType))
    outcome: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class InterimOrder(IdMixin, TimestampMixin, Base):
    """An interim order made in the proceedings (s.38)."""

    __tablename__ = "interim_order"

    proceedings_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_proceedings.id"), index=True)
    order_kind: Mapped[InterimOrderKind] = mapped_column(StrEnumType(InterimOrderKind))
    made_date: Mapped[date]
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class ProceedingsExtension(IdMixin, TimestampMixin, Base):
    """An extension of the time limit granted by the court (s.32(5)-(7)): at most 8 weeks each."""

    __tablename__ = "proceedings_extension"
    __table_args__ = (CheckConstraint("weeks BETWEEN 1 AND 8", name="s32_7_at_most_8_weeks"),)

    proceedings_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_proceedings.id"), index=True)
    granted_date: Mapped[date]
    weeks: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    previous_time_limit_date: Mapped[date]
    new_time_limit_date: Mapped[date]
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
