"""The cast and the steps of the child-protection stories told through the web pages: a child
protection team whose members sign in with passwords, a referred case, and the journey to a CP
plan taken through the services (for the pages that come after it)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.core_types import CategoryOfAbuse
from app.models import Case, Role, UserAccount
from app.models.protection import Agency, ConferenceOutcome, CPPlan, DiscussionFormat, S47Outcome
from app.protection import service as protection_service
from app.protection.schemas import ParticipantIn
from app.security.passwords import hash_password
from tests.care.factories import noon
from tests.factories import make_user
from tests.protection.factories import Cast, make_cast, principal, referred_case
from tests.security.helpers import PASSWORD

TODAY = date(2026, 3, 2)  # a Monday
OPENED = date(2026, 2, 16)  # a Monday
HELD = date(2026, 2, 17)  # the strategy discussion, and the enquiry starts the same day
CONCLUDED = date(2026, 2, 24)
ICPC = date(2026, 2, 27)  # a Friday, within 15 working days of the discussion

EVERYONE = (
    ParticipantIn(agency=Agency.social_care, name="Sam Social Worker", role="Allocated worker"),
    ParticipantIn(agency=Agency.police, name="DC Patel", role="Child abuse investigation unit"),
    ParticipantIn(agency=Agency.health, name="Dr Okafor", role="Named doctor"),
)
_EVENT = re.compile(r'data-event="([a-z_]+)"')


@dataclass
class WebProtectionCast:
    cast: Cast
    iro: UserAccount

    @property
    def worker(self) -> UserAccount:
        return self.cast.social_worker

    @property
    def manager(self) -> UserAccount:
        return self.cast.manager

    @property
    def outsider(self) -> UserAccount:
        return self.cast.other_social_worker


def make_protection_cast(db: Session) -> WebProtectionCast:
    cast = make_cast(db)
    iro = make_user(db, Role.iro, team=cast.other_team)
    for user in (cast.social_worker, cast.manager, cast.other_social_worker, iro):
        user.password_hash = hash_password(PASSWORD)
    db.commit()
    return WebProtectionCast(cast=cast, iro=iro)


def referred(db: Session, pc: WebProtectionCast) -> Case:
    with clock.frozen_at(noon(OPENED)):
        case = referred_case(db, pc.cast, opened=OPENED)
    db.commit()
    return case


def discussed(db: Session, pc: WebProtectionCast, case: Case) -> None:
    """A strategy discussion with social care, police and health that decided on an enquiry."""
    protection_service.strategy_discussion_record(
        db,
        actor=principal(db, pc.worker),
        case_id=case.id,
        concern_date=HELD,
        held_date=HELD,
        format=DiscussionFormat.meeting,
        participants=EVERYONE,
        concerns="Bruising seen at school; the explanation was inconsistent.",
        start_s47=True,
    )
    db.commit()


def enquiry_started(db: Session, pc: WebProtectionCast, case: Case) -> uuid.UUID:
    discussed(db, pc, case)
    found = protection_service.case_protection(db, actor=principal(db, pc.worker), case_id=case.id)
    enquiry = protection_service.s47_start(
        db,
        actor=principal(db, pc.worker),
        case_id=case.id,
        strategy_discussion_id=found.strategy_discussions[-1].id,
        start_date=HELD,
    )
    db.commit()
    return enquiry.id


def enquiry_concluded(db: Session, pc: WebProtectionCast, case: Case) -> uuid.UUID:
    s47_id = enquiry_started(db, pc, case)
    protection_service.s47_conclude(
        db,
        actor=principal(db, pc.worker),
        s47_id=s47_id,
        expected_version=1,
        outcome=S47Outcome.icpc_required,
        reason="Concerns substantiated.",
        concluded_date=CONCLUDED,
    )
    db.commit()
    return s47_id


def on_a_plan(db: Session, pc: WebProtectionCast, case: Case) -> CPPlan:
    s47_id = enquiry_concluded(db, pc, case)
    _conference, plan = protection_service.icpc_record(
        db,
        actor=principal(db, pc.worker),
        s47_id=s47_id,
        conference_date=ICPC,
        chair="Independent Chair",
        agencies_present=[Agency.social_care, Agency.police, Agency.health],
        outcome=ConferenceOutcome.cp_plan,
        initial_category=CategoryOfAbuse.NEG,
    )
    db.commit()
    assert plan is not None
    return plan


def date_fields(name: str, day: date) -> dict[str, str]:
    return {
        f"{name}-day": str(day.day),
        f"{name}-month": str(day.month),
        f"{name}-year": str(day.year),
    }


def post(client: TestClient, path: str, csrf: str, data: dict[str, Any]) -> Any:
    return client.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)


def offered_events(html: str) -> set[str]:
    """The next steps the case page offers, by the event each one takes."""
    return set(_EVENT.findall(html))
