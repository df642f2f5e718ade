"""The front door queue: the MASH officer sees open contacts, red first, with the time left to
decide; a contact about a child they may not see is not on their page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.security.passwords import hash_password
from tests.care.factories import noon
from tests.contacts.creators import contact_body, make_front_door, post_contact
from tests.factories import auth_headers, make_child
from tests.security.helpers import PASSWORD
from tests.web.helpers import TODAY, web_sign_in

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


def test_the_mash_officer_sees_open_contacts_red_first_with_the_time_left(
    client: TestClient, db: Session
) -> None:
    fd = make_front_door(db)
    fd.mash_officer.password_hash = hash_password(PASSWORD)
    carl = make_child(db, first_name="Carl", last_name="Ashdown")
    db.commit()
    headers = auth_headers(db, fd.mash_officer)
    post_contact(client, headers, contact_body(fd, fd.ava, fd.ben))
    post_contact(client, headers, contact_body(fd, carl, rag="red"))
    web_sign_in(client, fd.mash_officer)
    page = client.get("/front-door")
    assert page.status_code == 200
    text = page.text
    assert "Carl Ashdown" in text
    assert "Ava Hollowmere" in text
    assert "Ben Hollowmere" in text
    assert text.index("Carl Ashdown") < text.index("Ava Hollowmere")  # red first
    assert f'href="/children/{fd.ben.id}"' in text
    assert "4 working hours left" in text  # red: decided within working hours
    assert "1 working day left" in text  # amber: by the end of the next working day
    assert "Kestrel Park Primary" in text
    # Another practitioner who may not see Carl does not see his contact at all.
    carl.is_restricted = True
    db.commit()
    assert "Carl Ashdown" not in client.get("/front-door").text


def test_an_empty_queue_says_so(client: TestClient, db: Session) -> None:
    fd = make_front_door(db)
    fd.mash_officer.password_hash = hash_password(PASSWORD)
    db.commit()
    web_sign_in(client, fd.mash_officer)
    assert "There are no open contacts." in client.get("/front-door").text
