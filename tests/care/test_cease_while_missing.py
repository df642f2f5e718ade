"""A child recorded as missing has not come back: care does not cease and the placement does not
end until their return is recorded (SSDA903 rules 575, 577)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from app import clock
from app.care import service as care_service
from app.care.schemas import PlacementChange
from app.errors import Conflict
from app.missing import service as missing_service
from app.models.missing import MissingKind
from tests.care.factories import (
    bring_into_care,
    cease_care,
    foster_placement,
    make_care_cast,
    noon,
    principal,
)


def test_care_does_not_cease_while_the_child_is_missing_and_does_once_they_are_back(
    db: Session,
) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=date(2026, 3, 2))
    with clock.frozen_at(noon(date(2026, 4, 7))):
        episode = missing_service.missing_episode_record(
            db,
            actor=principal(db, cast.social_worker),
            child_id=cast.child.id,
            kind=MissingKind.M,
            started_at=datetime(2026, 4, 6, 20, tzinfo=UTC),
        )
    with pytest.raises(Conflict, match="rule 577"):
        cease_care(db, cast, period, on=date(2026, 4, 8))
    with clock.frozen_at(noon(date(2026, 4, 8))), pytest.raises(Conflict, match="rule 575"):
        care_service.placement_change(
            db,
            actor=principal(db, cast.manager),
            period_id=period.id,
            expected_version=period.version,
            body=PlacementChange(
                start_date=date(2026, 4, 8),
                placement=foster_placement(carer_key="carer-2"),
                end_reason="CARPL",
                planned_ending=True,
            ),
        )
    assert period.state == "looked_after"

    with clock.frozen_at(noon(date(2026, 4, 8))):
        missing_service.missing_episode_return(
            db,
            actor=principal(db, cast.social_worker),
            episode_id=episode.id,
            expected_version=episode.version,
            ended_at=datetime(2026, 4, 8, 9, tzinfo=UTC),
        )
    ceased = cease_care(db, cast, period, on=date(2026, 4, 9))
    assert ceased.state == "ceased"
