"""A child comes into care under section 20 (smoke test of the shared foundation)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app.care import service as care_service
from app.cases.workflow import LOOKED_AFTER
from app.models import Case
from tests.care.factories import bring_into_care, make_care_cast


def test_a_child_accommodated_under_section_20_is_looked_after(db: Session) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=date(2026, 3, 2))
    assert period.state == "looked_after"
    case = db.get(Case, period.case_id)
    assert case is not None
    assert case.state == LOOKED_AFTER
    placement = care_service.current_placement(db, child_id=cast.child.id)
    assert placement is not None
    assert placement.placement_type.value == "U6"
