"""The IRO's dashboard and disputes in the browser's own terms: the IRO sees their children with
the next review due (overdue first), the reviews held on time with the same figures as the
service, and raises and moves a dispute about a child's plan; another IRO sees none of it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session

from app import clock
from app.iro import reviews as review_service
from app.models.iro import IRODispute
from app.security.passwords import hash_password
from tests.care.factories import noon, principal
from tests.factories import make_child
from tests.iro.factories import hold_review, in_care_with_iro
from tests.security.helpers import PASSWORD
from tests.web.helpers import TODAY, WebCast, web_sign_in

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app

START = date(2026, 1, 5)  # first review due Monday 2 February 2026 (rule 15: 20 working days)
LATER = date(2026, 1, 19)  # first review due Monday 16 February 2026: overdue on TODAY


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


def _with_passwords(db: Session, *users: Any) -> None:
    for user in users:
        user.password_hash = hash_password(PASSWORD)
    db.commit()


def _two_children(db: Session, cast: WebCast) -> tuple[Any, Any]:
    """Ava (reviewed on time on 28 January) and Ben (first review due 16 February, not held)."""
    care = cast.care
    ava = in_care_with_iro(db, care, on=START)
    hold_review(db, care, ava, on=date(2026, 1, 28))
    ben = make_child(db, first_name="Ben", last_name="Overdue")
    ben_period = in_care_with_iro(db, care, on=LATER, child=ben)
    db.commit()
    return ava, ben_period


def test_the_iro_sees_overdue_first_and_the_services_timeliness_figures(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    care = cast.care
    _ava, _ben = _two_children(db, cast)
    web_sign_in(client, care.iro)

    page = client.get("/iro")

    assert page.status_code == 200, page.text
    text = page.text
    assert "Your children" in text
    assert text.index("Ben Overdue") < text.index(f"{care.child.first_name} {care.child.last_name}")
    assert "Overdue by 10 working days" in text  # due 16 February, today is 2 March
    # The headline is the service's own figure for the same 12 months and the same IRO.
    figures = review_service.review_timeliness(
        db,
        actor=principal(db, care.iro),
        from_date=date(2025, 4, 1),
        to_date=date(2026, 3, 31),
        iro_id=care.iro.id,
    ).overall
    assert (figures.on_time, figures.late, figures.overdue, figures.percent_on_time) == (
        1,
        0,
        1,
        50.0,
    )
    assert '<strong class="govuk-!-font-size-36">50.0%</strong>' in text
    assert "1 of 2 reviews held on time" in text
    assert "0 held late, 1 overdue, 0 not yet due." in text
    # The chart has an accessible name and a table behind it; February has both reviews.
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in text
    assert 'class="app-chart__bar"' in text
    assert "style=" not in text.split("<main", 1)[1]  # CSP: no inline styles
    february = re.search(r"February 2026</th>(.*?)</tr>", text, re.S)
    assert february is not None
    cells = re.findall(r">\s*([^<>]+?)\s*</td>", february.group(1))
    assert cells == ["2", "1", "0", "1", "0", "50.0%"]
    assert f'href="/cases/{_ben.case_id}/reviews/new"' in text


def test_another_iro_does_not_see_a_child_allocated_to_someone_else(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    care = cast.care
    _two_children(db, cast)
    _with_passwords(db, care.other_iro)
    web_sign_in(client, care.other_iro)

    text = client.get("/iro").text

    assert "No children are allocated to you." in text
    assert "Ben Overdue" not in text
    assert care.child.last_name not in text
    assert "No reviews have fallen due yet in this period." in text


def test_a_manager_sees_every_childs_reviews(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    _two_children(db, cast)
    web_sign_in(client, cast.manager)

    text = client.get("/iro").text

    assert "Children with an IRO" in text
    assert "Ben Overdue" in text
    assert "1 of 2 reviews held on time" in text


def test_a_review_held_late_moves_the_overdue_review_to_late_on_the_dashboard(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    care = cast.care
    _ava, ben = _two_children(db, cast)
    csrf = web_sign_in(client, care.iro)
    form = {
        "csrf_token": csrf,
        "review_date-day": "2",
        "review_date-month": "3",
        "review_date-year": "2026",
        "participation": "PN1",
        "lateness_reason": "The child was in hospital",
    }

    saved = client.post(f"/cases/{ben.case_id}/reviews/new", data=form, follow_redirects=False)

    assert saved.status_code == 303, saved.text
    text = client.get("/iro").text
    assert "1 of 2 reviews held on time" in text
    assert "1 held late, 0 overdue, 0 not yet due." in text


def _statements(connection: Connection, client: TestClient, path: str) -> Counter[str]:
    seen: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        verb = words[0].lower()
        seen[f"insert {words[2]}" if verb == "insert" else verb] += 1

    event.listen(connection, "before_cursor_execute", count)
    try:
        page = client.get(path)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert page.status_code == 200, page.text
    return seen


def _selects(counts: Counter[str]) -> int:
    return counts["select"] + counts["with"]


def test_the_dashboard_runs_the_same_selects_for_one_child_as_for_four(
    client: TestClient, db: Session, connection: Connection, cast: WebCast
) -> None:
    care = cast.care
    in_care_with_iro(db, care, on=START)
    db.commit()
    web_sign_in(client, care.iro)
    one = _statements(connection, client, "/iro")
    for n in range(3):
        child = make_child(db, first_name=f"Child{n}", last_name="More")
        period = in_care_with_iro(db, care, on=START, child=child)
        hold_review(db, care, period, on=date(2026, 1, 28))
    db.commit()
    four = _statements(connection, client, "/iro")
    assert _selects(four) == _selects(one)


# --- disputes ------------------------------------------------------------------------------------


def _review_of_ava(db: Session, cast: WebCast) -> Any:
    ava = in_care_with_iro(db, cast.care, on=START)
    review = hold_review(db, cast.care, ava, on=date(2026, 1, 28))
    db.commit()
    return review


def _disputes(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(IRODispute)) or 0)


def test_the_iro_raises_a_dispute_escalates_it_and_a_manager_responds(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    care = cast.care
    review = _review_of_ava(db, cast)
    csrf = web_sign_in(client, care.iro)
    page = client.get(f"/reviews/{review.id}")
    assert f'href="/iro/disputes/new?review_id={review.id}"' in page.text
    form = client.get(f"/iro/disputes/new?review_id={review.id}")
    assert form.status_code == 200

    # Nothing typed: the error summary, nothing written.
    empty = client.post(f"/iro/disputes/new?review_id={review.id}", data={"csrf_token": csrf})
    assert empty.status_code == 422
    assert "There is a problem" in empty.text
    assert 'href="#concern"' in empty.text
    assert _disputes(db) == 0

    raised = client.post(
        f"/iro/disputes/new?review_id={review.id}",
        data={"csrf_token": csrf, "concern": "The plan has no date for the return home."},
        follow_redirects=False,
    )
    assert raised.status_code == 303, raised.text
    dispute = db.scalars(select(IRODispute)).one()
    assert raised.headers["location"] == f"/iro/disputes/{dispute.id}?notice=dispute_raised"
    shown = client.get(raised.headers["location"]).text
    assert "The dispute has been raised." in shown
    assert "Informal resolution" in shown
    assert "Escalate to the next stage" in shown
    assert "Record the manager&#39;s response" not in shown  # a manager's step, not the IRO's
    assert "Refer the child&#39;s case to Cafcass" not in shown  # only after the last stage

    # Escalating needs a reason (the machine's rule): the summary links to this form's field.
    no_reason = client.post(
        f"/iro/disputes/{dispute.id}",
        data={"csrf_token": csrf, "version": str(dispute.version), "action": "escalate"},
    )
    assert no_reason.status_code == 422
    assert 'href="#escalate-reason"' in no_reason.text
    db.refresh(dispute)
    assert (dispute.state, dispute.stage) == ("informal", 0)

    escalated = client.post(
        f"/iro/disputes/{dispute.id}",
        data={
            "csrf_token": csrf,
            "version": str(dispute.version),
            "action": "escalate",
            "escalate-reason": "No answer after two weeks",
        },
        follow_redirects=False,
    )
    assert escalated.status_code == 303, escalated.text
    db.refresh(dispute)
    assert (dispute.state, dispute.stage) == ("escalated", 1)

    # The form the IRO had open is now stale: 412, nothing changes.
    stale = client.post(
        f"/iro/disputes/{dispute.id}",
        data={
            "csrf_token": csrf,
            "version": str(dispute.version - 1),
            "action": "resolve",
            "resolve-reason": "Agreed",
        },
    )
    assert stale.status_code == 412
    assert "someone changed it since you loaded it" in stale.text

    # The IRO service's manager answers the stage.
    client.cookies.clear()
    _with_passwords(db, care.iro_manager)
    manager_csrf = web_sign_in(client, care.iro_manager)
    manager_view = client.get(f"/iro/disputes/{dispute.id}").text
    assert "Record the manager&#39;s response" in manager_view
    assert "Escalate to the next stage" not in manager_view
    answered = client.post(
        f"/iro/disputes/{dispute.id}",
        data={
            "csrf_token": manager_csrf,
            "version": str(dispute.version),
            "action": "respond",
            "respond-response": "A date will be set at the next review.",
        },
        follow_redirects=False,
    )
    assert answered.status_code == 303, answered.text
    db.refresh(dispute)
    assert dispute.last_response == "A date will be set at the next review."


def test_only_the_childs_iro_raises_a_dispute(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    care = cast.care
    review = _review_of_ava(db, cast)
    _with_passwords(db, care.other_iro)
    csrf = web_sign_in(client, care.other_iro)

    refused = client.post(
        f"/iro/disputes/new?review_id={review.id}",
        data={"csrf_token": csrf, "concern": "Not my child"},
    )

    assert refused.status_code == 403
    assert "Only the child&#39;s allocated IRO raises a dispute" in refused.text
    assert _disputes(db) == 0
    # A social worker may not open the form at all (iro:write).
    client.cookies.clear()
    web_sign_in(client, cast.worker)
    assert client.get(f"/iro/disputes/new?review_id={review.id}").status_code == 403
