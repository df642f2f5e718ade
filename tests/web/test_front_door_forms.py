"""The front door's forms: a MASH officer records one contact about two siblings, refers one and
sends the other to early help; a half-filled form is refused with the GOV.UK error summary and
nothing written; a stale decision form gets "someone else has changed this record"; nobody
outside the MASH sees or decides the contact."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import LONDON
from app.models import Case
from app.models.frontdoor import Contact, ContactChild, ContactOutcome, Referral
from app.security.passwords import hash_password
from tests.care.factories import noon
from tests.contacts.creators import FrontDoor, contact_body, make_front_door, post_contact
from tests.factories import auth_headers, make_child
from tests.security.helpers import PASSWORD
from tests.web.helpers import TODAY, hidden_csrf, web_sign_in
from tests.web.test_query_counts import _others, _statements

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


@pytest.fixture
def fd(db: Session) -> FrontDoor:
    front_door = make_front_door(db)
    for user in (front_door.mash_officer, front_door.other_social_worker, front_door.mash_manager):
        user.password_hash = hash_password(PASSWORD)
    db.commit()
    return front_door


def _contact_form(fd: FrontDoor, csrf: str, **changes: str | list[str]) -> dict[str, object]:
    form: dict[str, object] = {
        "csrf_token": csrf,
        "child_ids": [str(fd.ava.id), str(fd.ben.id)],
        "received_at-day": "2",
        "received_at-month": "3",
        "received_at-year": "2026",
        "received_time": "09:15",
        "source": "2A",
        "referrer_name": "Ms Teal",
        "referrer_organisation": "Kestrel Park Primary",
        "concern": "Ava and Ben arrived hungry and Ava has a bruise on her arm.",
        "consent": "given",
        "rag": "amber",
    }
    form.update(changes)
    return form


def _contacts(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Contact)) or 0


def test_the_officer_finds_both_siblings_and_records_one_contact_about_them(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    csrf = web_sign_in(client, fd.mash_officer)
    search = client.get("/front-door/contacts/new", params={"q": "Hollowmere"})
    assert search.status_code == 200
    assert "Ava Hollowmere" in search.text
    assert "Ben Hollowmere" in search.text
    # Adding Ava keeps her on the form and out of the next results.
    added = client.get(
        "/front-door/contacts/new", params={"q": "Hollowmere", "add": str(fd.ava.id)}
    )
    assert re.search(rf'name="child_ids" type="checkbox" value="{fd.ava.id}" checked', added.text)
    assert f'name="add" value="{fd.ava.id}"' not in added.text
    assert f'name="add" value="{fd.ben.id}"' in added.text

    saved = client.post("/front-door/contacts/new", data=_contact_form(fd, csrf))
    assert saved.status_code == 200, saved.text
    assert "The contact has been recorded." in saved.text
    assert "Contact about Ava Hollowmere, Ben Hollowmere" in saved.text
    assert "1 working day left" in saved.text
    contact = db.scalars(select(Contact)).one()
    assert contact.received_at == datetime(2026, 3, 2, 9, 15, tzinfo=LONDON)
    children = db.scalars(select(ContactChild).order_by(ContactChild.position)).all()
    assert [c.child_id for c in children] == [fd.ava.id, fd.ben.id]
    # The queue links to the contact.
    assert f'href="/front-door/contacts/{contact.id}"' in client.get("/front-door").text


def test_a_contact_without_children_or_a_concern_is_refused_and_nothing_is_written(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    csrf = web_sign_in(client, fd.mash_officer)
    refused = client.post(
        "/front-door/contacts/new",
        data=_contact_form(fd, csrf, child_ids=[], concern="", consent="not_needed"),
    )
    assert refused.status_code == 422
    assert "There is a problem" in refused.text
    assert 'href="#concern"' in refused.text
    assert "Ms Teal" in refused.text  # what was typed is kept
    assert _contacts(db) == 0
    # The service's own consent rule, answered on the field.
    refused = client.post(
        "/front-door/contacts/new", data=_contact_form(fd, csrf, consent="not_needed")
    )
    assert refused.status_code == 422
    assert 'href="#consent_reason"' in refused.text
    assert "Say why consent was not needed" in refused.text
    assert _contacts(db) == 0


def test_someone_outside_the_mash_cannot_record_or_see_its_contacts(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    contact = post_contact(
        client, auth_headers(db, fd.mash_officer), contact_body(fd, fd.ava, fd.ben)
    )
    csrf = web_sign_in(client, fd.other_social_worker)
    refused = client.post(
        "/front-door/contacts/new", data=_contact_form(fd, csrf, team_id=str(fd.mash.id))
    )
    assert refused.status_code == 403
    assert "You may record contacts only for your own team." in refused.text
    assert _contacts(db) == 1
    # They may read the contact but not decide it: no decision form is offered.
    page = client.get(f"/front-door/contacts/{contact['id']}")
    assert page.status_code == 200
    assert "Save decisions" not in page.text
    # Posting a decision anyway is refused, and nothing is decided.
    decided = client.post(
        f"/front-door/contacts/{contact['id']}",
        data={
            "csrf_token": csrf,
            "version": str(contact["version"]),
            "decisions.0.child_id": str(fd.ava.id),
            "decisions.0.decision": "no_further_action",
            "decisions.0.reason": "Not for us.",
        },
    )
    assert decided.status_code == 403
    db.expire_all()
    assert all(r.decision is None for r in db.scalars(select(ContactChild)))
    # A restricted child's contact is not disclosed at all.
    fd.ben.is_restricted = True
    db.commit()
    assert client.get(f"/front-door/contacts/{contact['id']}").status_code == 404
    assert client.get("/front-door/contacts/not-a-uuid").status_code == 404


def test_the_officer_refers_one_sibling_and_sends_the_other_to_early_help(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    contact = post_contact(
        client, auth_headers(db, fd.mash_officer), contact_body(fd, fd.ava, fd.ben)
    )
    web_sign_in(client, fd.mash_officer)
    page = client.get(f"/front-door/contacts/{contact['id']}")
    assert "Decision for Ava Hollowmere" in page.text
    decided = client.post(
        f"/front-door/contacts/{contact['id']}",
        data={
            "csrf_token": hidden_csrf(page.text),
            "version": str(contact["version"]),
            "decisions.0.child_id": str(fd.ava.id),
            "decisions.0.decision": "referral",
            "decisions.0.primary_need": "N1",
            "decisions.0.reason": "A bruise and hunger: the threshold for a referral is met.",
            "decisions.1.child_id": str(fd.ben.id),
            "decisions.1.decision": "early_help",
            "decisions.1.primary_need": "N4",  # left in the hidden box: not sent
            "decisions.1.reason": "Ben is well; the family would take support.",
        },
    )
    assert decided.status_code == 200, decided.text
    assert "The decisions have been saved." in decided.text
    assert "Refer to children&#39;s social care" in decided.text
    assert "Early help" in decided.text
    assert "Save decisions" not in decided.text
    db.expire_all()
    referral = db.scalars(select(Referral).where(Referral.child_id == fd.ava.id)).one()
    assert f'href="/cases/{referral.case_id}/referral"' in decided.text
    rows = {r.child_id: r for r in db.scalars(select(ContactChild))}
    assert rows[fd.ben.id].decision is ContactOutcome.early_help
    ben_case = db.get(Case, rows[fd.ben.id].case_id)
    assert ben_case is not None
    assert ben_case.state == "closed"


def test_a_decision_without_a_reason_is_refused_and_nothing_is_decided(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    contact = post_contact(
        client, auth_headers(db, fd.mash_officer), contact_body(fd, fd.ava, fd.ben)
    )
    csrf = web_sign_in(client, fd.mash_officer)
    refused = client.post(
        f"/front-door/contacts/{contact['id']}",
        data={
            "csrf_token": csrf,
            "version": str(contact["version"]),
            "decisions.0.child_id": str(fd.ava.id),
            "decisions.0.decision": "no_further_action",
            "decisions.1.child_id": str(fd.ben.id),
            "decisions.1.decision": "referral",
            "decisions.1.reason": "Ben needs a referral.",
        },
    )
    assert refused.status_code == 422
    assert 'href="#decisions-0-reason"' in refused.text
    # With the reason given, the service's own rule: a referral needs the primary need.
    refused = client.post(
        f"/front-door/contacts/{contact['id']}",
        data={
            "csrf_token": csrf,
            "version": str(contact["version"]),
            "decisions.1.child_id": str(fd.ben.id),
            "decisions.1.decision": "referral",
            "decisions.1.reason": "Ben needs a referral.",
        },
    )
    assert refused.status_code == 422
    assert 'href="#decisions-1-primary_need"' in refused.text
    assert "A referral needs the child&#39;s primary need" in refused.text
    db.expire_all()
    assert all(r.decision is None for r in db.scalars(select(ContactChild)))
    # Nothing chosen at all: the page says so.
    empty = client.post(
        f"/front-door/contacts/{contact['id']}",
        data={"csrf_token": csrf, "version": str(contact["version"])},
    )
    assert empty.status_code == 422
    assert "Select a decision for at least one child" in empty.text


def test_a_stale_decision_form_is_refused_with_someone_else_has_changed_it(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    contact = post_contact(
        client, auth_headers(db, fd.mash_officer), contact_body(fd, fd.ava, fd.ben)
    )
    csrf = web_sign_in(client, fd.mash_officer)
    form = {
        "csrf_token": csrf,
        "version": str(contact["version"]),
        "decisions.0.child_id": str(fd.ava.id),
        "decisions.0.decision": "information_and_advice",
        "decisions.0.reason": "Advice given to the school.",
    }
    assert client.post(f"/front-door/contacts/{contact['id']}", data=form).status_code == 200
    stale = client.post(
        f"/front-door/contacts/{contact['id']}",
        data=form | {"decisions.0.child_id": str(fd.ben.id)},
    )
    assert stale.status_code == 412
    assert "There is a problem" in stale.text
    assert "someone changed it since you loaded it" in stale.text
    db.expire_all()
    rows = {r.child_id: r for r in db.scalars(select(ContactChild))}
    assert rows[fd.ben.id].decision is None


def test_the_contact_pages_run_the_same_selects_however_many_children(
    client: TestClient, db: Session, connection: Connection, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    one = post_contact(client, headers, contact_body(fd, fd.ava))
    siblings = [make_child(db, first_name=f"Sib{n}", last_name="Hollowmere") for n in range(5)]
    db.commit()
    many = post_contact(client, headers, contact_body(fd, fd.ben, *siblings))
    web_sign_in(client, fd.mash_officer)
    small = _statements(connection, client, f"/front-door/contacts/{one['id']}")
    large = _statements(connection, client, f"/front-door/contacts/{many['id']}")
    assert _others(small) == _others(large), (small, large)
    ids = "&".join(f"child_ids={c.id}" for c in siblings)
    few = _statements(connection, client, f"/front-door/contacts/new?q=Ava&child_ids={fd.ava.id}")
    lots = _statements(connection, client, f"/front-door/contacts/new?q=Hollowmere&{ids}")
    assert _others(few) == _others(lots), (few, lots)
