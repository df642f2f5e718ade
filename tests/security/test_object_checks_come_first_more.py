"""More stories of the object-level matrix's findings (issue 8, OWASP API1): a caller who may not
change a child's records is told 403 before anything about the child's situation. "This child has
no open case" tells another team's worker that the case has closed; "not looked after" tells an
IRO who has never been the child's that the child left care; "submit this audit first" tells a
manager how far an audit of their case has got. The object check comes first, then the
precondition, then the state. The team that may change the records still hears the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.cases.workflow import CLOSED
from app.models.org import UserAccount
from tests.audits.factories import (
    AuditCast,
    assigned_audit,
    complete_findings,
    if_match,
    make_audit_cast,
    make_tool,
    on,
)
from tests.audits.factories import referred_case as audit_referred_case
from tests.care.factories import make_care_cast, noon
from tests.care.factories import referred_case as care_referred_case
from tests.cases.factories import make_cast, move_to, open_case
from tests.factories import auth_headers
from tests.iro.factories import in_care_with_iro

STALE = {"If-Match": '"999"'}
YESTERDAY = (clock.today() - timedelta(days=1)).isoformat()

#: The child's records written on the child's open case (or, for a care leaver, the case of their
#: last period of care), each with a body that passes validation.
CHILD_WRITES: dict[str, tuple[str, dict[str, Any]]] = {
    "leaving-care contact": (
        "POST leaving-care/contacts",
        {"in_touch": "YES", "activity": "F1", "accommodation": "B1"},
    ),
    "needs assessment": ("POST leaving-care/needs-assessment", {}),
    "pathway plan": ("POST leaving-care/pathway-plan", {"summary": "Plan for college."}),
    "personal adviser": (
        "POST leaving-care/personal-adviser",
        {"adviser_id": "00000000-0000-4000-8000-000000000001"},
    ),
    "missing episode": (
        "POST missing-episodes",
        {"kind": "M", "started_at": f"{YESTERDAY}T21:00:00+00:00"},
    ),
    "statutory visit": ("POST statutory-visits", {"child_seen": True, "visit_date": YESTERDAY}),
    "motherhood": ("PUT motherhood", {"is_mother": False}),
    "UASC status": ("PUT uasc", {"since_date": YESTERDAY}),
    "adoption decision": ("POST adoption-decisions", {"decision_date": YESTERDAY}),
}


def _send(client: TestClient, child_id: object, write: str, body: dict[str, Any], h: Any) -> Any:
    method, tail = CHILD_WRITES[write][0].split(" ")
    return client.request(method, f"/api/v1/children/{child_id}/{tail}", json=body, headers=h)


@pytest.mark.parametrize("write", list(CHILD_WRITES))
def test_another_teams_worker_is_refused_a_closed_childs_records_not_told_the_case_closed(
    client: TestClient, db: Session, write: str
) -> None:
    cast = make_cast(db)
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    move_to(db, case, CLOSED, by=cast.manager)
    db.commit()
    body = CHILD_WRITES[write][1]

    outsider = _send(client, cast.child.id, write, body, auth_headers(db, cast.other_social_worker))
    own_team = _send(client, cast.child.id, write, body, auth_headers(db, cast.social_worker))

    assert outsider.status_code == 403, outsider.text
    assert "open case" not in outsider.text
    assert "looked after" not in outsider.text
    # The team that held the last case is told why nothing can be recorded.
    assert own_team.status_code == 409, own_team.text


def test_another_teams_worker_is_refused_a_visit_not_told_the_child_is_not_looked_after(
    client: TestClient, db: Session
) -> None:
    cast = make_cast(db)
    open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    db.commit()
    body = CHILD_WRITES["statutory visit"][1]

    outsider = _send(
        client, cast.child.id, "statutory visit", body, auth_headers(db, cast.other_social_worker)
    )
    own_team = _send(client, cast.child.id, "statutory visit", body, auth_headers(db, cast.manager))

    assert outsider.status_code == 403, outsider.text
    assert own_team.status_code == 409, own_team.text
    assert own_team.json()["code"] == "not_looked_after"


def test_an_iro_who_was_never_the_childs_is_refused_a_contact_not_told_when_care_began(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    start = clock.today() - timedelta(days=30)
    in_care_with_iro(db, cast, on=start)
    db.commit()
    before_care = {"kind": "file_review", "contact_date": (start - timedelta(days=7)).isoformat()}
    url = f"/api/v1/children/{cast.child.id}/iro-contacts"

    stranger = client.post(url, json=before_care, headers=auth_headers(db, cast.other_iro))
    own_iro = client.post(url, json=before_care, headers=auth_headers(db, cast.iro))

    assert stranger.status_code == 403, stranger.text
    assert "looked after" not in stranger.text
    assert own_iro.status_code == 422, own_iro.text


def test_only_the_childs_iro_raises_a_dispute_and_others_are_not_told_the_child_is_at_home(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    care_referred_case(db, cast, opened=clock.today() - timedelta(days=3))
    db.commit()
    url = f"/api/v1/children/{cast.child.id}/iro-disputes"
    concern = {"concern": "The plan has not been reviewed since the placement changed."}

    answers = [
        client.post(url, json=concern, headers=auth_headers(db, who))
        for who in (cast.other_iro, cast.manager)
    ]

    assert [a.status_code for a in answers] == [403, 403], answers[0].text
    assert all("looked after" not in a.text for a in answers)


@dataclass
class Audited:
    cast: AuditCast
    draft_id: str
    audit: dict[str, Any]


AUDIT_DAY = date(2026, 6, 1)


def _audited(client: TestClient, db: Session) -> Audited:
    """Two audits of one case: one assigned and still a draft, one submitted by the auditor."""
    cast = make_audit_cast(db)
    tool = make_tool(db, cast)
    case = audit_referred_case(db, cast, opened=date(2026, 3, 2))
    draft = assigned_audit(db, cast, case, tool, day=AUDIT_DAY)
    submitted = assigned_audit(db, cast, case, tool, day=AUDIT_DAY)
    db.commit()
    headers = cast.headers(db)
    with on(AUDIT_DAY):
        saved = client.put(
            f"/api/v1/case-audits/{submitted.id}",
            json=complete_findings("requires_improvement"),
            headers=if_match(headers, submitted.version),
        )
        body: dict[str, Any] = client.post(
            f"/api/v1/case-audits/{submitted.id}/submit",
            headers=if_match(headers, saved.json()["version"]),
        ).json()
    assert body["state"] == "submitted", body
    return Audited(cast=cast, draft_id=str(draft.id), audit=body)


def _set_action(client: TestClient, db: Session, audit_id: str, by: UserAccount, owner: Any) -> Any:
    action = {
        "description": "Record the GP's view in the assessment and share it at core group.",
        "owner_id": str(owner.id),
        "due_date": date(2026, 6, 29).isoformat(),
    }
    with on(AUDIT_DAY):
        return client.post(
            f"/api/v1/case-audits/{audit_id}/actions", json=action, headers=auth_headers(db, by)
        )


def test_the_cases_manager_is_refused_setting_an_action_not_told_the_audit_is_a_draft(
    client: TestClient, db: Session
) -> None:
    w = _audited(client, db)

    manager = _set_action(client, db, w.draft_id, w.cast.manager, w.cast.social_worker)
    auditor = _set_action(client, db, w.draft_id, w.cast.auditor, w.cast.social_worker)

    assert manager.status_code == 403, manager.text
    assert "submit" not in manager.text
    assert auditor.status_code == 409, auditor.text


def test_another_teams_worker_is_refused_completing_an_action_not_told_it_changed(
    client: TestClient, db: Session
) -> None:
    w = _audited(client, db)
    made = _set_action(client, db, w.audit["id"], w.cast.auditor, w.cast.social_worker)
    assert made.status_code == 201, made.text
    url = f"/api/v1/audit-actions/{made.json()['id']}/complete"
    note = {"completion_note": "GP's view added."}

    with clock.frozen_at(noon(date(2026, 6, 22))):
        outsider = client.post(
            url, json=note, headers=auth_headers(db, w.cast.other_social_worker) | STALE
        )
        owner = client.post(url, json=note, headers=auth_headers(db, w.cast.social_worker) | STALE)

    assert outsider.status_code == 403, outsider.text
    assert "version" not in outsider.text
    assert owner.status_code == 412, owner.text
