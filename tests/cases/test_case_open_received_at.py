"""Rule 1 counts from when the contact came in, which may be before it was typed up."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import LONDON
from app.cases import service as case_service
from app.errors import Invalid
from app.models import Deadline, DeadlineKind
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod
from tests.cases.factories import make_cast


def test_a_red_contact_phoned_in_at_1530_on_friday_and_typed_up_at_1610_is_due_monday_1130(
    db: Session,
) -> None:
    cast = make_cast(db)
    friday = date(2026, 3, 13)
    with clock.frozen_at(datetime(2026, 3, 13, 16, 10, tzinfo=LONDON)):
        case = case_service.case_open(
            db,
            actor=principal_for_user(db, cast.manager, auth=AuthMethod.token),
            child_id=cast.child.id,
            team_id=cast.team.id,
            opened_date=friday,
            rag="red",
            received_at=datetime(2026, 3, 13, 15, 30, tzinfo=LONDON),
        )
    deadline = db.scalars(
        select(Deadline).where(
            Deadline.case_id == case.id, Deadline.kind == DeadlineKind.contact_decision
        )
    ).one()
    assert deadline.due_at == datetime(2026, 3, 16, 11, 30, tzinfo=LONDON).astimezone(UTC)


def test_a_received_time_on_another_day_than_the_contact_is_refused(db: Session) -> None:
    cast = make_cast(db)
    with (
        clock.frozen_at(datetime(2026, 3, 13, 12, tzinfo=LONDON)),
        pytest.raises(Invalid) as refused,
    ):
        case_service.case_open(
            db,
            actor=principal_for_user(db, cast.manager, auth=AuthMethod.token),
            child_id=cast.child.id,
            team_id=cast.team.id,
            opened_date=date(2026, 3, 13),
            received_at=datetime(2026, 3, 12, 15, tzinfo=LONDON),
        )
    assert refused.value.extra["errors"][0]["field"] == "received_at"
