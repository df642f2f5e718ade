"""Children in care through the web forms: Ava becomes looked after, moves placement, and her IRO
records her review with a recommendation that her social worker then completes. Each form
refuses what the service refuses (with the GOV.UK error summary and nothing written), a stale
form gets the 412, and someone outside gets the 403."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import Case
from app.models.care import PeriodOfCare, Placement
from app.models.iro import CLAReview, CLAReviewAction
from app.models.org import Role
from app.security.passwords import hash_password
from tests.care.factories import bring_into_care, noon, referred_case
from tests.factories import make_user
from tests.iro.factories import in_care_with_iro
from tests.security.helpers import PASSWORD
from tests.web.helpers import TODAY, WebCast, web_sign_in

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app

IN_CARE = date(2026, 2, 16)  # first review due Monday 16 March 2026: a review on TODAY is on time


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


def _count(db: Session, model: Any) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _foster_placement(**overrides: str) -> dict[str, str]:
    fields = {
        "placement.placement_type": "U6",
        "placement.provider": "PR1",
        "placement.ofsted_urn": "SC123456",
        "placement.carer_name": "Mr and Mrs Carer",
        "placement.home_postcode": "B1 1AA",
        "placement.placement_postcode": "B15 2TT",
        "placement.placement_la_code": "330",
    }
    fields.update(overrides)
    return fields


# --- becoming looked after -----------------------------------------------------------------------


def test_a_social_worker_records_that_ava_becomes_looked_after(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    case = referred_case(db, cast.care, opened=date(2026, 2, 2))
    db.commit()
    csrf = web_sign_in(client, cast.worker)
    form = client.get(f"/cases/{case.id}/looked-after/new")
    assert form.status_code == 200
    assert "The child becomes looked after" in form.text

    saved = client.post(
        f"/cases/{case.id}/looked-after/new",
        data={
            "csrf_token": csrf,
            "start_date-day": "2",
            "start_date-month": "3",
            "start_date-year": "2026",
            "entry_route": "section_20",
            "legal_status": "V2",
            "category_of_need": "N1",
            **_foster_placement(),
        },
        follow_redirects=False,
    )

    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/children/{case.child_id}?notice=care_started"
    period = db.scalars(select(PeriodOfCare)).one()
    assert (period.case_id, period.start_date) == (case.id, TODAY)
    assert "The child is now looked after." in client.get(saved.headers["location"]).text
    # Opened again, the form says she already is.
    assert (
        "has been looked after since 2 March 2026"
        in client.get(f"/cases/{case.id}/looked-after/new").text
    )


def test_the_looked_after_form_refuses_what_the_service_refuses_and_writes_nothing(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    case = referred_case(db, cast.care, opened=date(2026, 2, 2))
    db.commit()
    csrf = web_sign_in(client, cast.worker)
    url = f"/cases/{case.id}/looked-after/new"

    empty = client.post(url, data={"csrf_token": csrf, "placement.carer_name": "Kept"})
    assert empty.status_code == 422
    assert "There is a problem" in empty.text
    assert 'href="#entry_route"' in empty.text
    assert 'href="#placement-placement_type"' in empty.text
    assert 'value="Kept"' in empty.text  # what was typed is kept

    # A court order route under section 20: the service's rule, on its field.
    wrong_route = client.post(
        url,
        data={
            "csrf_token": csrf,
            "entry_route": "court_order",
            "legal_status": "V2",
            "category_of_need": "N1",
            **_foster_placement(),
        },
    )
    assert wrong_route.status_code == 422
    assert 'href="#legal_status"' in wrong_route.text
    assert _count(db, PeriodOfCare) == 0
    db.expire_all()
    assert db.get(Case, case.id).state == "referral"  # type: ignore[union-attr]

    # Another team's worker may not change this case.
    client.cookies.clear()
    other_csrf = web_sign_in(client, cast.care.other_social_worker)
    refused = client.post(
        url,
        data={
            "csrf_token": other_csrf,
            "entry_route": "section_20",
            "legal_status": "V2",
            "category_of_need": "N1",
            **_foster_placement(),
        },
    )
    assert refused.status_code == 403
    assert _count(db, PeriodOfCare) == 0
    # And a child the caller may not see is not found at all.
    hidden = referred_case(db, cast.care, opened=date(2026, 2, 2), child=cast.restricted_child)
    db.commit()
    assert client.get(f"/cases/{hidden.id}/looked-after/new").status_code == 404


# --- a placement change --------------------------------------------------------------------------


def test_ava_moves_to_long_term_foster_carers(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    period = bring_into_care(db, cast.care, on=date(2026, 2, 2))
    db.commit()
    csrf = web_sign_in(client, cast.worker)
    url = f"/cases/{period.case_id}/placements/change"
    form = client.get(url)
    assert form.status_code == 200
    assert "Mr and Mrs Carer" in form.text  # the current placement
    move = {
        "csrf_token": csrf,
        "version": str(period.version),
        "end_reason": "CARPL",
        **_foster_placement(
            **{"placement.placement_type": "U4", "placement.carer_name": "Ms Long-Term"}
        ),
    }

    unplanned = client.post(url, data=move)  # whether the ending was planned is missing
    assert unplanned.status_code == 422
    assert 'href="#planned_ending"' in unplanned.text
    assert _count(db, Placement) == 1

    stale = client.post(url, data={**move, "planned_ending": "true", "version": "0"})
    assert stale.status_code == 412
    assert "someone changed it since you loaded it" in stale.text
    assert _count(db, Placement) == 1

    moved = client.post(url, data={**move, "planned_ending": "true"}, follow_redirects=False)
    assert moved.status_code == 303, moved.text
    current = db.scalars(select(Placement).where(Placement.end_date.is_(None))).one()
    assert (current.carer_name, current.start_date) == ("Ms Long-Term", TODAY)

    client.cookies.clear()
    other_csrf = web_sign_in(client, cast.care.other_social_worker)
    db.refresh(period)
    refused = client.post(
        url,
        data={
            **move,
            "csrf_token": other_csrf,
            "version": str(period.version),
            "planned_ending": "true",
        },
    )
    assert refused.status_code == 403
    assert _count(db, Placement) == 2


# --- a looked-after review -----------------------------------------------------------------------


def _review_form(csrf: str, **extra: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "review_date-day": "2",
        "review_date-month": "3",
        "review_date-year": "2026",
        "participation": "PN1",
        **extra,
    }


def test_the_iro_records_avas_review_with_a_recommendation_the_worker_completes(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    care = cast.care
    period = in_care_with_iro(db, care, on=IN_CARE)
    db.commit()
    csrf = web_sign_in(client, care.iro)
    url = f"/cases/{period.case_id}/reviews/new"
    form = client.get(url)
    assert form.status_code == 200
    assert "The next review is due by 16 March 2026" in form.text

    # A recommendation without an owner, and no participation: refused, nothing written.
    refused = client.post(
        url,
        data={
            "csrf_token": csrf,
            "actions-0-text": "Arrange contact with her brother",
            "actions-0-due_date-day": "1",
            "actions-0-due_date-month": "4",
            "actions-0-due_date-year": "2026",
        },
    )
    assert refused.status_code == 422
    assert 'href="#participation"' in refused.text
    assert 'href="#actions-0-owner_id"' in refused.text
    assert "Arrange contact with her brother" in refused.text
    assert _count(db, CLAReview) == 0

    saved = client.post(
        url,
        data=_review_form(
            csrf,
            **{
                "actions-0-kind": "recommendation",
                "actions-0-text": "Arrange contact with her brother",
                "actions-0-owner_id": str(care.social_worker.id),
                "actions-0-due_date-day": "1",
                "actions-0-due_date-month": "4",
                "actions-0-due_date-year": "2026",
            },
        ),
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    review = db.scalars(select(CLAReview)).one()
    assert saved.headers["location"] == f"/reviews/{review.id}?notice=review_recorded"
    page = client.get(saved.headers["location"]).text
    assert "The review has been recorded." in page
    assert "On time" in page
    assert "Record that the decisions were circulated" in page
    assert "Record that the full record was completed" not in page  # not before circulation

    # The IRO records the decisions circulated (rule 29); a stale form is refused.
    stale = client.post(
        f"/reviews/{review.id}",
        data={"csrf_token": csrf, "version": "0", "action": "cla_review_decisions_circulated"},
    )
    assert stale.status_code == 412
    circulated = client.post(
        f"/reviews/{review.id}",
        data={
            "csrf_token": csrf,
            "version": str(review.version),
            "action": "cla_review_decisions_circulated",
        },
        follow_redirects=False,
    )
    assert circulated.status_code == 303, circulated.text
    db.refresh(review)
    assert (review.state, review.decisions_circulated_date) == ("decisions_circulated", TODAY)

    # The social worker who owns the recommendation marks it done; the review's steps are not
    # theirs to take, so they are not offered.
    client.cookies.clear()
    worker_csrf = web_sign_in(client, care.social_worker)
    worker_view = client.get(f"/reviews/{review.id}").text
    assert "Record that the full record was completed" not in worker_view
    action = db.scalars(select(CLAReviewAction)).one()
    done = client.post(
        f"/reviews/{review.id}/actions/{action.id}",
        data={
            "csrf_token": worker_csrf,
            "version": str(action.version),
            f"action-{action.id}-note": "Contact is every Saturday",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    db.refresh(action)
    assert (action.completed_date, action.completion_note) == (TODAY, "Contact is every Saturday")


def test_only_the_childs_iro_records_the_review(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    care = cast.care
    period = in_care_with_iro(db, care, on=IN_CARE)
    care.other_iro.password_hash = hash_password(PASSWORD)
    db.commit()
    csrf = web_sign_in(client, care.other_iro)

    refused = client.post(f"/cases/{period.case_id}/reviews/new", data=_review_form(csrf))

    assert refused.status_code == 403
    assert "You are not this child&#39;s IRO" in refused.text
    assert _count(db, CLAReview) == 0
    # A social worker may not record a review at all (cla_review:write).
    client.cookies.clear()
    web_sign_in(client, cast.worker)
    assert client.get(f"/cases/{period.case_id}/reviews/new").status_code == 403


def _selects(connection: Connection, client: TestClient, path: str) -> int:
    seen: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen[statement.split()[0].lower()] += 1

    event.listen(connection, "before_cursor_execute", count)
    try:
        page = client.get(path)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert page.status_code == 200, page.text
    return seen["select"] + seen["with"]


def test_the_review_pages_run_the_same_selects_however_many_rows(
    client: TestClient, db: Session, connection: Connection, cast: WebCast
) -> None:
    care = cast.care
    period = in_care_with_iro(db, care, on=IN_CARE)
    db.commit()
    csrf = web_sign_in(client, care.iro)
    form_path = f"/cases/{period.case_id}/reviews/new"
    form_before = _selects(connection, client, form_path)
    for _n in range(3):  # more people in the team to own recommendations
        make_user(db, Role.social_worker, team=care.team)
    db.commit()
    assert _selects(connection, client, form_path) == form_before

    rows = {
        f"actions-{i}-{name}": value
        for i in range(3)
        for name, value in (
            ("text", f"Recommendation {i}"),
            ("owner_id", str(care.social_worker.id)),
            ("due_date-day", "1"),
            ("due_date-month", "4"),
            ("due_date-year", "2026"),
        )
    }
    saved = client.post(form_path, data=_review_form(csrf, **rows), follow_redirects=False)
    assert saved.status_code == 303, saved.text
    review = db.scalars(select(CLAReview)).one()
    three = _selects(connection, client, f"/reviews/{review.id}")
    for action in db.scalars(select(CLAReviewAction)).all()[1:]:
        db.delete(action)
    db.commit()
    assert _selects(connection, client, f"/reviews/{review.id}") == three
