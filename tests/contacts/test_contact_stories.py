"""Stories of the front door: contacts about siblings, decisions child by child, consent, agency
checks, feedback to the referrer, contacts about children whose case is already open, and the
rules that keep a decision whole or refuse it."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.cases import service as case_service
from app.models import AccessLog, Case, CaseEvent
from app.models.frontdoor import ContactChild, Referral
from tests.contacts.creators import (
    FrontDoor,
    actions,
    at,
    case_of,
    contact_body,
    contact_row,
    deadline,
    decide,
    errors_of,
    grant,
    post_contact,
    principal,
    referrals_of,
)
from tests.factories import auth_headers, make_child

MONDAY = at(2025, 11, 24, 10, 0)


def test_a_school_rings_about_two_siblings_one_is_referred_and_one_gets_information_and_advice(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    with clock.frozen_at(MONDAY):
        contact = post_contact(client, headers, contact_body(fd, fd.ava, fd.ben))
    assert contact["state"] == "open"
    assert contact["due_date"] == "2025-11-25"  # amber: 1 working day
    assert [(c["first_name"], c["has_opened_case"]) for c in contact["children"]] == [
        ("Ava", True),
        ("Ben", True),
    ]
    ava_case, ben_case = (c["case_id"] for c in contact["children"])
    assert ava_case != ben_case
    assert actions(db, ava_case) == ["case_opened", "contact_received"]
    assert actions(db, ben_case) == ["case_opened", "contact_received"]

    with clock.frozen_at(at(2025, 11, 25, 11, 0)):
        response = decide(
            client,
            headers,
            contact,
            {
                "child_id": str(fd.ava.id),
                "decision": "referral",
                "reason": "Physical injury and neglect indicators: threshold for social care.",
                "primary_need": "N1",
            },
            {
                "child_id": str(fd.ben.id),
                "decision": "information_and_advice",
                "reason": "No concern about Ben; school given advice on support for the family.",
            },
        )
    assert response.status_code == 200, response.json()
    decided = response.json()
    assert decided["state"] == "decided"
    assert decided["version"] > contact["version"]
    assert response.headers["ETag"] == f'"{decided["version"]}"'
    by_name = {c["first_name"]: c for c in decided["children"]}
    assert by_name["Ava"]["decision"] == "referral"
    assert by_name["Ben"]["decision"] == "information_and_advice"
    assert by_name["Ben"]["referral_id"] is None

    ava, ben = case_of(db, fd.ava), case_of(db, fd.ben)
    assert ava.state == "referral"
    assert (ben.state, ben.closure_reason, ben.closed_date) == ("closed", "RC7", date(2025, 11, 25))
    (referral,) = referrals_of(db, fd.ava)
    assert str(referral.id) == by_name["Ava"]["referral_id"]
    assert (referral.source, referral.primary_need, referral.referral_date) == (
        "2A",
        "N1",
        date(2025, 11, 25),
    )
    assert (referral.contact_id, referral.state, referral.is_re_referral) == (
        uuid.UUID(contact["id"]),
        "awaiting_decision",
        False,
    )
    assert referrals_of(db, fd.ben) == []
    # Rule 1 met for both children; rule 2 (1 working day) now runs for Ava.
    assert deadline(db, ava.id, "contact_decision").met_date == date(2025, 11, 25)
    assert deadline(db, ben.id, "contact_decision").met_date == date(2025, 11, 25)
    assert deadline(db, ava.id, "referral_decision").due_date == date(2025, 11, 26)
    # Each chronology tells the child's part; the contact's own move is on the first child's case.
    assert actions(db, ava.id)[2:] == [
        "contact_child_decided",
        "accept_referral",
        "referral_recorded",
        "decide",
    ]
    assert actions(db, ben.id)[2:] == ["contact_child_decided", "nfa_contact"]
    nfa = db.scalars(
        select(CaseEvent).where(CaseEvent.case_id == ben.id, CaseEvent.action == "nfa_contact")
    ).one()
    assert nfa.changes["outcome"] == "information_and_advice"


def test_a_contact_recorded_after_the_call_counts_from_when_it_came_in(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    """A red contact at 15:30 on a Friday is due by 11:30 on Monday (4 working hours: 1½ on
    Friday, 2½ on Monday), even when it is typed up at 16:10."""
    headers = auth_headers(db, fd.mash_officer)
    friday = at(2025, 11, 28, 15, 30)
    with clock.frozen_at(at(2025, 11, 28, 16, 10)):
        contact = post_contact(
            client,
            headers,
            contact_body(fd, rag="red", received_at=friday.isoformat(), source="6"),
        )
    due = at(2025, 12, 1, 11, 30)
    assert contact["due_date"] == "2025-12-01"
    assert contact["due_at"] == due.isoformat().replace("+00:00", "Z")
    assert contact["time_left"] == {"unit": "working_hours", "amount": 3.33, "is_overdue": False}
    case_deadline = deadline(db, contact["children"][0]["case_id"], "contact_decision")
    assert (case_deadline.due_date, case_deadline.due_at) == (date(2025, 12, 1), due)
    assert case_deadline.start_date == date(2025, 11, 28)


def test_a_contact_in_the_future_is_refused(client: TestClient, db: Session, fd: FrontDoor) -> None:
    with clock.frozen_at(MONDAY):
        response = client.post(
            "/api/v1/contacts",
            json=contact_body(fd, received_at=at(2025, 11, 24, 11, 0).isoformat()),
            headers=auth_headers(db, fd.mash_officer),
        )
    assert response.status_code == 422
    assert errors_of(response) == ["received_at"]


def test_consent_not_needed_needs_a_reason_and_a_refusal_is_overridden_only_for_significant_harm(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    refused = [
        ({"consent": "not_needed"}, ["consent_reason"]),
        ({"consent": "refused"}, ["consent_reason"]),
        ({"consent": "refused", "consent_reason": "Disclosure of abuse.", "rag": "green"}, ["rag"]),
        ({"consent": "maybe"}, ["consent"]),
    ]
    for change, fields in refused:
        response = client.post("/api/v1/contacts", json=contact_body(fd, **change), headers=headers)
        assert response.status_code == 422, change
        assert errors_of(response) == fields, change
    assert db.scalar(select(func.count()).select_from(Case).where(Case.child_id == fd.ava.id)) == 0

    override = "Ava disclosed being hit at home: risk of significant harm outweighs the refusal."
    contact = post_contact(
        client,
        headers,
        contact_body(fd, consent="refused", consent_reason=override, rag="red"),
    )
    assert (contact["consent"], contact["consent_reason"]) == ("refused", override)
    not_needed = "Telling the parents would put Ben at risk of significant harm."
    contact = post_contact(
        client,
        headers,
        contact_body(fd, fd.ben, consent="not_needed", consent_reason=not_needed),
    )
    assert contact["consent_reason"] == not_needed


def test_invalid_codes_are_refused_naming_the_field(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"source": "2Z"}, "source"),
        ({"rag": "purple"}, "rag"),
        ({"child_ids": []}, "child_ids"),
        ({"referrer_phone": "call me"}, "referrer_phone"),
        ({"team_id": str(uuid.uuid4())}, "team_id"),
        ({"colour": "red"}, "colour"),
    ]
    for change, field in bad:
        response = client.post("/api/v1/contacts", json=contact_body(fd, **change), headers=headers)
        assert response.status_code == 422, change
        assert field in errors_of(response), (change, response.json())
    contact = post_contact(client, headers, contact_body(fd))
    for item, field in [
        ({"decision": "maybe"}, "decisions.0.decision"),
        ({"decision": "referral", "primary_need": "N11"}, "decisions.0.primary_need"),
        ({"decision": "referral"}, "decisions.0.primary_need"),
        ({"decision": "early_help", "primary_need": "N1"}, "decisions.0.primary_need"),
        ({"decision": "early_help", "reason": ""}, "decisions.0.reason"),
        ({"decision": "early_help", "child_id": str(fd.ben.id)}, "decisions.0.child_id"),
    ]:
        body = {"child_id": str(fd.ava.id), "reason": "Because."} | item
        response = decide(client, headers, contact, body)
        assert response.status_code == 422, item
        assert field in errors_of(response), (item, response.json())
    assert case_of(db, fd.ava).state == "contact"


def test_nothing_is_decided_when_one_child_in_the_request_is_invalid(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    """All or nothing: Ava's valid referral is not recorded because Ben's referral is dated before
    the contact arrived."""
    headers = auth_headers(db, fd.mash_officer)
    with clock.frozen_at(MONDAY):
        contact = post_contact(client, headers, contact_body(fd, fd.ava, fd.ben))
    with clock.frozen_at(at(2025, 11, 25, 10, 0)):
        response = decide(
            client,
            headers,
            contact,
            {
                "child_id": str(fd.ava.id),
                "decision": "referral",
                "reason": "Harm.",
                "primary_need": "N1",
            },
            {
                "child_id": str(fd.ben.id),
                "decision": "referral",
                "reason": "Harm.",
                "primary_need": "N1",
                "referral_date": "2025-11-21",
            },
        )
    assert response.status_code == 422
    assert errors_of(response) == ["decisions.1.referral_date"]
    assert case_of(db, fd.ava).state == "contact"
    assert case_of(db, fd.ben).state == "contact"
    assert referrals_of(db, fd.ava) == []
    row = contact_row(db, contact["id"])
    assert (row.state, row.version) == ("open", contact["version"])
    assert db.scalars(
        select(ContactChild.decision).where(ContactChild.contact_id == row.id)
    ).all() == [
        None,
        None,
    ]
    assert "contact_child_decided" not in actions(db, case_of(db, fd.ava).id)


def test_a_referral_cannot_be_dated_in_the_future_or_after_the_childs_death(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    lost = make_child(db, first_name="Cal", date_of_birth=date(2020, 1, 1))
    with clock.frozen_at(MONDAY):
        contact = post_contact(client, headers, contact_body(fd, lost))
    lost.date_of_death = date(2025, 11, 24)
    db.commit()
    with clock.frozen_at(at(2025, 11, 26, 10, 0)):
        for referral_date in ("2025-11-27", "2025-11-25"):
            response = decide(
                client,
                headers,
                contact,
                {
                    "child_id": str(lost.id),
                    "decision": "referral",
                    "reason": "Harm.",
                    "primary_need": "N1",
                    "referral_date": referral_date,
                },
            )
            assert response.status_code == 422, referral_date
            assert set(errors_of(response)) == {"decisions.0.referral_date"}


def test_a_contact_about_a_child_whose_case_is_open_joins_that_case_and_goes_to_its_worker(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    sw = principal(db, fd.other_social_worker)
    with clock.frozen_at(at(2025, 11, 3, 10, 0)):
        open_case = case_service.case_open(
            db,
            actor=sw,
            child_id=fd.ava.id,
            team_id=fd.long_term.id,
            opened_date=date(2025, 11, 3),
        )
        case_service.case_transition(
            db, actor=sw, case_id=open_case.id, event="accept_referral", expected_version=1
        )
        case_service.case_transition(
            db, actor=sw, case_id=open_case.id, event="start_assessment", expected_version=2
        )
    db.commit()
    headers = auth_headers(db, fd.mash_officer)
    with clock.frozen_at(MONDAY):
        contact = post_contact(client, headers, contact_body(fd, fd.ava, fd.ben))
    ava_row, ben_row = contact["children"]
    assert (ava_row["case_id"], ava_row["has_opened_case"]) == (str(open_case.id), False)
    assert ben_row["has_opened_case"] is True
    assert db.scalar(select(func.count()).where(Case.child_id == fd.ava.id)) == 1
    assert actions(db, open_case.id)[-1] == "contact_received"

    with clock.frozen_at(at(2025, 11, 24, 12, 0)):
        refused = decide(
            client,
            headers,
            contact,
            {
                "child_id": str(fd.ava.id),
                "decision": "referral",
                "reason": "x",
                "primary_need": "N1",
            },
        )
        assert refused.status_code == 409
        assert refused.json()["existing_case_id"] == str(open_case.id)
        response = decide(
            client,
            headers,
            contact,
            {
                "child_id": str(fd.ava.id),
                "decision": "information_and_advice",
                "reason": "Passed to Ava's allocated social worker, who is assessing.",
            },
            {"child_id": str(fd.ben.id), "decision": "no_further_action", "reason": "No concern."},
        )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "decided"
    assert case_of(db, fd.ava).state == "assessment"  # the open episode goes on
    # Ava is named first, so the contact's own move is on her case too.
    assert actions(db, open_case.id)[-2:] == ["contact_child_decided", "decide"]
    assert case_of(db, fd.ben).state == "closed"


def test_deciding_a_child_already_decided_is_a_conflict(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_social_worker)
    with clock.frozen_at(MONDAY):
        contact = post_contact(client, headers, contact_body(fd, fd.ava, fd.ben))
        nfa = {"child_id": str(fd.ava.id), "decision": "no_further_action", "reason": "None."}
        first = decide(client, headers, contact, nfa)
        assert first.status_code == 200, first.json()
        assert first.json()["state"] == "open"  # Ben still waits
        assert first.json()["version"] == contact["version"] + 1
        again = decide(client, headers, first.json(), nfa)
        assert again.status_code == 409
        assert again.json()["code"] == "already_decided"
        ben = {"child_id": str(fd.ben.id), "decision": "early_help", "reason": "Step down."}
        last = decide(client, headers, first.json(), ben)
        assert last.json()["state"] == "decided"
        after = decide(client, headers, last.json(), ben)
    assert after.status_code == 409
    assert after.json()["code"] == "contact_not_open"


def test_another_teams_social_worker_may_not_decide(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    with clock.frozen_at(MONDAY):
        contact = post_contact(client, auth_headers(db, fd.mash_officer), contact_body(fd))
        response = decide(
            client,
            auth_headers(db, fd.other_social_worker),
            contact,
            {"child_id": str(fd.ava.id), "decision": "no_further_action", "reason": "None."},
        )
        assert response.status_code == 403
        iro = client.get(f"/api/v1/contacts/{contact['id']}", headers=auth_headers(db, fd.iro))
        assert iro.status_code == 200  # practitioners may read
        opened = client.post(
            "/api/v1/contacts",
            json=contact_body(fd, fd.ben),
            headers=auth_headers(db, fd.other_social_worker),
        )
        assert opened.status_code == 403
    assert case_of(db, fd.ava).state == "contact"


def test_a_restricted_child_is_not_found_by_anyone_not_named_on_the_record(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    secret = make_child(db, first_name="Rae", restricted=True)
    grant(db, secret, fd.mash_manager)
    unnamed = auth_headers(db, fd.mash_officer)
    refused = client.post("/api/v1/contacts", json=contact_body(fd, secret), headers=unnamed)
    assert refused.status_code == 404
    contact = post_contact(
        client, auth_headers(db, fd.mash_manager), contact_body(fd, fd.ava, secret)
    )
    assert client.get(f"/api/v1/contacts/{contact['id']}", headers=unnamed).status_code == 404
    listed = client.get("/api/v1/contacts", headers=unnamed).json()["items"]
    assert contact["id"] not in [c["id"] for c in listed]
    response = decide(
        client,
        unnamed,
        contact,
        {"child_id": str(fd.ava.id), "decision": "no_further_action", "reason": "None."},
    )
    assert response.status_code == 404
    denied = db.scalars(
        select(AccessLog).where(AccessLog.person_id == secret.id, AccessLog.action == "denied")
    ).all()
    assert len(denied) >= 3


def test_a_stale_if_match_is_refused_and_changes_nothing(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    contact = post_contact(client, headers, contact_body(fd, fd.ava, fd.ben))
    first = decide(
        client,
        headers,
        contact,
        {"child_id": str(fd.ava.id), "decision": "no_further_action", "reason": "None."},
    )
    assert first.status_code == 200
    stale = decide(
        client,
        headers,
        contact,  # the version read before the first decision
        {
            "child_id": str(fd.ben.id),
            "decision": "referral",
            "reason": "Harm.",
            "primary_need": "N1",
        },
    )
    assert stale.status_code == 412
    assert case_of(db, fd.ben).state == "contact"
    assert referrals_of(db, fd.ben) == []
    assert contact_row(db, contact["id"]).version == first.json()["version"]
    missing = client.post(
        f"/api/v1/contacts/{contact['id']}/decisions",
        json={"decisions": [{"child_id": str(fd.ben.id), "decision": "early_help", "reason": "x"}]},
        headers=headers,
    )
    assert missing.status_code == 428


def test_an_information_request_to_the_police_and_its_reply(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    with clock.frozen_at(MONDAY):
        contact = post_contact(client, headers, contact_body(fd, fd.ava, fd.ben, rag="red"))
        asked = client.post(
            f"/api/v1/contacts/{contact['id']}/information-requests",
            json={
                "agency": "police",
                "agency_name": "West Midlands Police",
                "question": "Any domestic abuse call-outs to the family home in the last year?",
            },
            headers=headers,
        )
    assert asked.status_code == 201, asked.json()
    request = asked.json()
    assert (request["agency"], request["reply_received_at"]) == ("police", None)
    assert asked.headers["ETag"] == '"1"'
    url = f"/api/v1/contacts/{contact['id']}/information-requests/{request['id']}/reply"
    reply = {"summary": "Two call-outs in March; no arrests."}
    with clock.frozen_at(at(2025, 11, 24, 11, 15)):
        stale = client.post(url, json=reply, headers={**headers, "If-Match": '"7"'})
        assert stale.status_code == 412
        answered = client.post(url, json=reply, headers={**headers, "If-Match": '"1"'})
        assert answered.status_code == 200, answered.json()
        again = client.post(url, json=reply, headers={**headers, "If-Match": '"2"'})
    assert again.status_code == 409
    body = answered.json()
    assert body["reply_summary"] == reply["summary"]
    assert body["reply_received_at"] == "2025-11-24T11:15:00Z"
    read = client.get(f"/api/v1/contacts/{contact['id']}", headers=headers).json()
    assert [(r["agency"], r["reply_summary"]) for r in read["information_requests"]] == [
        ("police", reply["summary"])
    ]
    for child in read["children"]:  # every child's chronology shows the check and its answer
        assert actions(db, child["case_id"])[-2:] == [
            "information_requested",
            "information_received",
        ]
    elsewhere = client.post(
        f"/api/v1/contacts/{uuid.uuid4()}/information-requests/{request['id']}/reply",
        json=reply,
        headers={**headers, "If-Match": '"2"'},
    )
    assert elsewhere.status_code == 404


def test_the_referrer_is_told_the_outcome(client: TestClient, db: Session, fd: FrontDoor) -> None:
    headers = auth_headers(db, fd.mash_officer)
    with clock.frozen_at(MONDAY):
        contact = post_contact(client, headers, contact_body(fd))
        decided = decide(
            client,
            headers,
            contact,
            {"child_id": str(fd.ava.id), "decision": "early_help", "reason": "Family support."},
        ).json()
    url = f"/api/v1/contacts/{contact['id']}/feedback"
    feedback = {"method": "phone", "note": "Told Ms Teal the family is offered early help."}
    with clock.frozen_at(at(2025, 11, 24, 14, 0)):
        response = client.post(
            url, json=feedback, headers={**headers, "If-Match": f'"{decided["version"]}"'}
        )
        assert response.status_code == 200, response.json()
        again = client.post(
            url, json=feedback, headers={**headers, "If-Match": response.headers["ETag"]}
        )
    body = response.json()
    assert (body["feedback_method"], body["feedback_at"]) == ("phone", "2025-11-24T14:00:00Z")
    assert body["feedback_by_id"] == str(fd.mash_officer.id)
    assert again.status_code == 409
    assert actions(db, body["children"][0]["case_id"])[-1] == "referrer_feedback"


def test_a_contact_recorded_in_error_is_withdrawn_and_the_case_it_opened_closes(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    with clock.frozen_at(MONDAY):
        contact = post_contact(client, headers, contact_body(fd))
        url = f"/api/v1/contacts/{contact['id']}/withdrawal"
        no_reason = client.post(
            url, json={"reason": " "}, headers={**headers, "If-Match": f'"{contact["version"]}"'}
        )
        assert no_reason.status_code == 422
        response = client.post(
            url,
            json={"reason": "Recorded against the wrong child."},
            headers={**headers, "If-Match": f'"{contact["version"]}"'},
        )
    assert response.status_code == 200, response.json()
    assert (response.json()["state"], response.json()["withdrawn_reason"]) == (
        "withdrawn",
        "Recorded against the wrong child.",
    )
    case = case_of(db, fd.ava)
    assert (case.state, case.closure_reason) == ("closed", "RC7")
    assert deadline(db, case.id, "contact_decision").stopped_date == date(2025, 11, 24)
    withdrawn = response.json()
    nfa = {"child_id": str(fd.ava.id), "decision": "no_further_action", "reason": "None."}
    assert decide(client, headers, withdrawn, nfa).status_code == 409
    twice = client.post(
        url,
        json={"reason": "Again."},
        headers={**headers, "If-Match": f'"{withdrawn["version"]}"'},
    )
    assert (twice.status_code, twice.json()["current_state"]) == (409, "withdrawn")

    with clock.frozen_at(MONDAY):
        other = post_contact(client, headers, contact_body(fd, fd.ben))
        decided = decide(
            client,
            headers,
            other,
            {"child_id": str(fd.ben.id), "decision": "early_help", "reason": "Support."},
        ).json()
        too_late = client.post(
            f"/api/v1/contacts/{other['id']}/withdrawal",
            json={"reason": "Oops."},
            headers={**headers, "If-Match": f'"{decided["version"]}"'},
        )
    assert too_late.status_code == 409


def test_reading_a_contact_is_written_to_the_access_log(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    contact = post_contact(client, headers, contact_body(fd, fd.ava, fd.ben))
    created = db.scalars(select(AccessLog.person_id).where(AccessLog.resource == "contact")).all()
    assert sorted(map(str, created)) == sorted([str(fd.ava.id), str(fd.ben.id)])  # one each
    before = db.scalar(select(func.count()).select_from(AccessLog)) or 0
    read = client.get(f"/api/v1/contacts/{contact['id']}", headers=headers)
    assert read.status_code == 200
    assert read.headers["ETag"] == f'"{contact["version"]}"'
    rows = db.scalars(select(AccessLog).order_by(AccessLog.occurred_at)).all()[before:]
    assert {(r.person_id, r.action, r.resource) for r in rows} == {
        (fd.ava.id, "view", "contact"),
        (fd.ben.id, "view", "contact"),
    }
    assert client.get(f"/api/v1/contacts/{uuid.uuid4()}", headers=headers).status_code == 404
    assert db.scalar(select(func.count()).select_from(Referral)) == 0


def test_two_open_contacts_about_one_child_share_the_case_and_the_last_decides_it(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    """A health visitor rings an hour after the school: the second contact joins Ava's case.
    No further action on the first leaves the case waiting; the referral on the second moves it."""
    headers = auth_headers(db, fd.mash_officer)
    with clock.frozen_at(MONDAY):
        school = post_contact(client, headers, contact_body(fd))
    with clock.frozen_at(at(2025, 11, 24, 11, 0)):
        health = post_contact(client, headers, contact_body(fd, source="3B"))
    assert health["children"][0]["case_id"] == school["children"][0]["case_id"]
    assert health["children"][0]["has_opened_case"] is False
    with clock.frozen_at(at(2025, 11, 24, 14, 0)):
        first = decide(
            client,
            headers,
            school,
            {"child_id": str(fd.ava.id), "decision": "no_further_action", "reason": "Explained."},
        )
        assert first.json()["state"] == "decided"
        assert case_of(db, fd.ava).state == "contact"  # the health visitor's contact waits
        second = decide(
            client,
            headers,
            health,
            {
                "child_id": str(fd.ava.id),
                "decision": "referral",
                "reason": "Together the two contacts meet the threshold.",
                "primary_need": "N4",
            },
        )
    assert second.status_code == 200, second.json()
    case = case_of(db, fd.ava)
    assert case.state == "referral"
    (referral,) = referrals_of(db, fd.ava)
    assert (referral.contact_id, referral.source) == (uuid.UUID(health["id"]), "3B")
    assert deadline(db, case.id, "contact_decision").met_date == date(2025, 11, 24)


def test_withdrawing_a_contact_leaves_open_a_case_another_contact_waits_on(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    with clock.frozen_at(MONDAY):
        wrong = post_contact(client, headers, contact_body(fd))
        right = post_contact(client, headers, contact_body(fd, source="1A"))
        withdrawn = client.post(
            f"/api/v1/contacts/{wrong['id']}/withdrawal",
            json={"reason": "Duplicate of the grandmother's call."},
            headers={**headers, "If-Match": f'"{wrong["version"]}"'},
        )
        assert withdrawn.status_code == 200, withdrawn.json()
        assert case_of(db, fd.ava).state == "contact"
        queue = client.get("/api/v1/contacts", params={"state": "open"}, headers=headers).json()
        assert [c["id"] for c in queue["items"]] == [right["id"]]
        decided = decide(
            client,
            headers,
            right,
            {"child_id": str(fd.ava.id), "decision": "early_help", "reason": "Support offered."},
        )
    assert decided.status_code == 200, decided.json()
    assert case_of(db, fd.ava).state == "closed"
