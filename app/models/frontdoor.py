"""The front door: contacts received by the MASH, the children they concern, the checks made with
other agencies, and the referrals accepted for children's social care.

A **contact** is what reaches the council about one or more children (often siblings). The MASH
decides, child by child, what happens next: no further action, information and advice, a step
down to early help, or a **referral** — the start of a CIN episode (DfE CIN census
``CINreferralDate``, ``ReferralSource``, ``PrimaryNeedCode``). Each child's contact sits on that
child's case (``case_id``): a case opened by the contact, or the child's case that was already open.

``state`` columns are written only by ``app.workflow.engine`` (``CONTACT_MACHINE``,
``REFERRAL_MACHINE``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core_types import PrimaryNeed, ReferralSource
from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin, UTCDateTime


class RagRating(StrEnum):
    """The MASH's rating of a contact; it sets the decision deadline (timescales rule 1)."""

    red = "red"
    amber = "amber"
    green = "green"


class ConsentToShare(StrEnum):
    """Whether the family agreed to information about them being shared (Working Together 2023
    ch.1, "Information sharing"; DfE "Information sharing advice for practitioners")."""

    given = "given"
    not_needed = "not_needed"  # not sought: it would put the child at risk, or prejudice a crime
    refused = "refused"  # refused, and overridden: the child is at risk of significant harm


class ContactOutcome(StrEnum):
    """The MASH's decision for one child on a contact (siblings may be decided differently)."""

    no_further_action = "no_further_action"
    information_and_advice = "information_and_advice"
    early_help = "early_help"  # step down to early help (the early-help module comes later)
    referral = "referral"  # accepted as a referral to children's social care


class InformationAgency(StrEnum):
    """Who a MASH information request (an agency check) goes to."""

    police = "police"
    health = "health"
    education = "education"
    other = "other"


class FeedbackMethod(StrEnum):
    """How the referrer was told what happened to their contact."""

    phone = "phone"
    email = "email"
    letter = "letter"
    in_person = "in_person"
    other = "other"


class ReferralDecision(StrEnum):
    """The decision on the type of response to a referral (timescales rule 2)."""

    assessment = "assessment"
    strategy_discussion = "strategy_discussion"
    no_further_action = "no_further_action"


class Contact(IdMixin, TimestampMixin, Base):
    """A contact received at the front door about one or more children."""

    __tablename__ = "contact"
    __table_args__ = (
        # The queue: open contacts of a team, red first, soonest due first.
        Index("ix_contact_team_state_due", "team_id", "state", "decision_due_date"),
        Index("ix_contact_state_due", "state", "decision_due_date"),
        # Consent not needed, or refused and overridden, always says why (Working Together ch.1).
        CheckConstraint(
            "consent = 'given' OR consent_reason IS NOT NULL", name="consent_reason_when_not_given"
        ),
        CheckConstraint(
            "(feedback_at IS NULL) = (feedback_method IS NULL)", name="feedback_when_and_how"
        ),
    )

    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[ReferralSource] = mapped_column(StrEnumType(ReferralSource, 3))
    referrer_name: Mapped[str | None] = mapped_column(String(200))
    referrer_role: Mapped[str | None] = mapped_column(String(200))
    referrer_organisation: Mapped[str | None] = mapped_column(String(200))
    referrer_phone: Mapped[str | None] = mapped_column(String(40))
    referrer_email: Mapped[str | None] = mapped_column(String(254))
    concern: Mapped[str] = mapped_column(Text)
    consent: Mapped[ConsentToShare] = mapped_column(StrEnumType(ConsentToShare, 20))
    consent_reason: Mapped[str | None] = mapped_column(Text)
    rag: Mapped[RagRating] = mapped_column(StrEnumType(RagRating, 10))
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id"))
    state: Mapped[str] = mapped_column(String(40))
    # Rule 1, from received_at and the RAG rating: the due date, and for red (counted in working
    # hours) the instant.
    decision_due_date: Mapped[date]
    decision_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    feedback_method: Mapped[FeedbackMethod | None] = mapped_column(StrEnumType(FeedbackMethod, 20))
    feedback_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    feedback_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class ContactChild(IdMixin, TimestampMixin, Base):
    """One child on a contact, the case the contact sits on, and the MASH decision for them."""

    __tablename__ = "contact_child"
    __table_args__ = (
        UniqueConstraint("contact_id", "child_id"),
        Index("ix_contact_child_case", "case_id"),
        CheckConstraint(
            "(decision IS NULL) = (decided_at IS NULL)", name="decision_and_decided_at"
        ),
    )

    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contact.id"))
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"))
    # The order the children were named in (the first child's case carries the contact's own
    # transitions in its chronology).
    position: Mapped[int]
    # True when this contact opened the case; False when it joined the child's open case.
    has_opened_case: Mapped[bool]
    decision: Mapped[ContactOutcome | None] = mapped_column(StrEnumType(ContactOutcome, 30))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class ContactInformationRequest(IdMixin, TimestampMixin, Base):
    """A MASH check with another agency about a contact, and the agency's reply."""

    __tablename__ = "contact_information_request"
    __table_args__ = (
        CheckConstraint(
            "(reply_received_at IS NULL) = (reply_summary IS NULL)", name="reply_when_and_what"
        ),
    )

    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contact.id"), index=True)
    agency: Mapped[InformationAgency] = mapped_column(StrEnumType(InformationAgency, 20))
    agency_name: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    question: Mapped[str] = mapped_column(Text)
    reply_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reply_summary: Mapped[str | None] = mapped_column(Text)
    reply_recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Referral(IdMixin, TimestampMixin, Base):
    """A referral accepted for children's social care: the start of the child's CIN episode (the
    case), with the census's referral date, source and primary need, and the decision on the type
    of response (timescales rule 2)."""

    __tablename__ = "referral"
    __table_args__ = (
        # One referral per CIN episode: the case is the episode.
        UniqueConstraint("case_id"),
        Index("ix_referral_child_date", "child_id", "referral_date"),
        Index("ix_referral_state_date", "state", "referral_date"),
        CheckConstraint(
            "(decision IS NULL) = (decided_at IS NULL)", name="decision_and_decided_at"
        ),
        CheckConstraint(
            "is_re_referral = (previous_referral_id IS NOT NULL)", name="re_referral_names_previous"
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"))
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contact.id"), index=True)
    referral_date: Mapped[date]
    source: Mapped[ReferralSource] = mapped_column(StrEnumType(ReferralSource, 3))
    primary_need: Mapped[PrimaryNeed] = mapped_column(StrEnumType(PrimaryNeed, 3))
    # DfE measure: a referral within 12 months of a previous referral of the same child.
    is_re_referral: Mapped[bool] = mapped_column(default=False)
    previous_referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referral.id"))
    state: Mapped[str] = mapped_column(String(40))
    decision: Mapped[ReferralDecision | None] = mapped_column(StrEnumType(ReferralDecision, 30))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
