"""Practice and quality pages, as the people who use them: a QA auditor completes a case file
audit from the tool's own form and submits it; a second auditor moderates it and sets an action;
the worker completes the action; the findings page counts it. A worker records a service for a
family; a manager records supervision with a decision on a case. Each form also refuses what the
services refuse (nothing written), and each page's queries do not grow with its rows."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import Case
from app.models.audits import AuditAction, AuditGrade, AuditTool, CaseAudit, CaseAuditAnswer
from app.models.interventions import Intervention
from app.models.supervision import ManagementOversight, SupervisionSession
from app.security.passwords import hash_password
from tests.audits.factories import (
    CODES,
    AuditCast,
    assigned_audit,
    make_audit_cast,
    make_tool,
    noon,
    referred_case,
)
from tests.factories import make_child
from tests.security.helpers import PASSWORD
from tests.web.helpers import TODAY, web_sign_in

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


@dataclass
class Story:
    cast: AuditCast
    tool: AuditTool
    case: Case
    audit: CaseAudit


@pytest.fixture
def story(db: Session) -> Story:
    """A CP team's case (the worker holds it, the manager manages the team) and an audit of it
    assigned to a QA auditor, who is independent of it."""
    cast = make_audit_cast(db)
    for user in (
        cast.auditor,
        cast.moderator,
        cast.manager,
        cast.social_worker,
        cast.other_manager,
        cast.other_social_worker,
        cast.service_manager,
    ):
        user.password_hash = hash_password(PASSWORD)
    tool = make_tool(db, cast)
    case = referred_case(db, cast, opened=TODAY - timedelta(days=30))
    audit = assigned_audit(db, cast, case, tool, day=TODAY - timedelta(days=1))
    db.commit()
    return Story(cast=cast, tool=tool, case=case, audit=audit)


def _count(db: Session, model: Any, *where: Any) -> int:
    return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _version(html: str, action: str) -> str:
    """The hidden version of the form posting to ``action``."""
    form = html[html.index(f'action="{action}"') :]
    found = re.search(r'name="version" value="(\d+)"', form)
    assert found is not None, "no version on the form"
    return found.group(1)


def _graded(grade: str = "good") -> dict[str, str]:
    data = {f"answers.{code}": grade for code in CODES}
    data |= {f"comment.{code}": f"{code}: evidence seen on file." for code in CODES}
    return data


FINDINGS_TEXT = {
    "child_voice": "Seen alone at school; says she feels safer since dad left.",
    "family_voice": "Mother values the family support worker.",
    "summary": "The plan is progressing.",
}


# --------------------------------------------------------------------------------------------------
# The auditor's form
# --------------------------------------------------------------------------------------------------


def test_the_auditor_saves_part_of_the_audit_then_submits_it_from_the_tools_form(
    client: TestClient, db: Session, story: Story
) -> None:
    csrf = web_sign_in(client, story.cast.auditor)
    listing = client.get("/practice/audits")
    assert listing.status_code == 200
    assert "Your audits to complete" in listing.text
    assert f'href="/practice/audits/{story.audit.id}"' in listing.text

    path = f"/practice/audits/{story.audit.id}"
    page = client.get(path)
    assert page.status_code == 200
    # The form is the tool's: a theme heading, each question with the four grades and a comment.
    assert "Child&#39;s lived experience and voice" in page.text
    assert "Assessment and analysis" in page.text
    for code in CODES:
        assert f'name="answers.{code}"' in page.text
        assert f'name="comment.{code}"' in page.text
    for grade in ("outstanding", "good", "requires_improvement", "inadequate"):
        assert f'value="{grade}"' in page.text
    assert "None</textarea>" not in page.text  # an empty box is empty

    # Part of it today: one question, and the child's voice.
    saved = client.post(
        path,
        data={
            "csrf_token": csrf,
            "version": _version(page.text, path),
            "answers.V1": "good",
            "comment.V1": "Seen alone twice this month.",
            "child_voice": FINDINGS_TEXT["child_voice"],
            "action": "save",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"{path}?notice=case_audit_saved"
    db.expire_all()
    assert _count(db, CaseAuditAnswer, CaseAuditAnswer.audit_id == story.audit.id) == 1
    again = client.get(path)
    assert "Your audit has been saved" in client.get(saved.headers["location"]).text
    assert "Seen alone twice this month." in again.text  # what was saved comes back

    # Submitting with questions left ungraded: each one named in the summary, nothing written.
    refused = client.post(
        path,
        data={
            "csrf_token": csrf,
            "version": _version(again.text, path),
            "answers.V1": "good",
            "child_voice": FINDINGS_TEXT["child_voice"],
            "action": "submit",
        },
    )
    assert refused.status_code == 422
    assert "There is a problem" in refused.text
    assert 'href="#answers-V2"' in refused.text
    assert 'href="#overall_grade"' in refused.text
    db.expire_all()
    assert db.get(CaseAudit, story.audit.id).state == "assigned"  # type: ignore[union-attr]

    # Everything graded: submitted.
    done = client.post(
        path,
        data={
            "csrf_token": csrf,
            "version": _version(again.text, path),
            **_graded(),
            **FINDINGS_TEXT,
            "overall_grade": "good",
            "action": "submit",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    db.expire_all()
    audit = db.get(CaseAudit, story.audit.id)
    assert audit is not None
    assert audit.state == "submitted"
    assert audit.overall_grade is AuditGrade.good
    assert audit.family_voice == FINDINGS_TEXT["family_voice"]
    assert _count(db, CaseAuditAnswer, CaseAuditAnswer.audit_id == audit.id) == len(CODES)

    # The audit is fixed now: a form kept open in another tab is refused with the reason.
    late = client.post(
        path,
        data={
            "csrf_token": csrf,
            "version": str(audit.version),
            "answers.V1": "inadequate",
            "action": "save",
        },
    )
    assert late.status_code == 409
    assert "moderation is the way to change a grade" in late.text
    db.expire_all()
    assert db.get(CaseAudit, story.audit.id).overall_grade is AuditGrade.good  # type: ignore[union-attr]


def test_a_comment_without_a_grade_and_a_stale_form_are_refused_and_nothing_is_saved(
    client: TestClient, db: Session, story: Story
) -> None:
    csrf = web_sign_in(client, story.cast.auditor)
    path = f"/practice/audits/{story.audit.id}"
    version = _version(client.get(path).text, path)
    no_grade = client.post(
        path,
        data={"csrf_token": csrf, "version": version, "comment.A1": "Analytical", "action": "save"},
    )
    assert no_grade.status_code == 422
    assert "Select a grade for question A1 to save its comment" in no_grade.text
    assert 'value="Analytical"' in no_grade.text or ">Analytical</textarea>" in no_grade.text
    stale = client.post(
        path,
        data={"csrf_token": csrf, "version": "0", "answers.A1": "good", "action": "save"},
    )
    assert stale.status_code == 412
    assert "There is a problem" in stale.text
    db.expire_all()
    assert _count(db, CaseAuditAnswer, CaseAuditAnswer.audit_id == story.audit.id) == 0


def test_only_the_assigned_auditor_may_record_findings(
    client: TestClient, db: Session, story: Story
) -> None:
    csrf = web_sign_in(client, story.cast.moderator)
    path = f"/practice/audits/{story.audit.id}"
    page = client.get(path)
    assert page.status_code == 200
    assert 'name="answers.V1"' not in page.text  # no form for someone else's audit
    refused = client.post(
        path,
        data={"csrf_token": csrf, "version": str(story.audit.version), "answers.V1": "good"},
    )
    assert refused.status_code == 403
    assert "Only the auditor this audit is assigned to" in refused.text
    db.expire_all()
    assert _count(db, CaseAuditAnswer, CaseAuditAnswer.audit_id == story.audit.id) == 0


# --------------------------------------------------------------------------------------------------
# Moderation and actions
# --------------------------------------------------------------------------------------------------


def _current(db: Session, story: Story) -> str:
    db.expire_all()
    audit = db.get(CaseAudit, story.audit.id)
    assert audit is not None
    return str(audit.version)


def _submit(client: TestClient, story: Story, grade: str = "good") -> None:
    csrf = web_sign_in(client, story.cast.auditor)
    path = f"/practice/audits/{story.audit.id}"
    version = _version(client.get(path).text, path)
    done = client.post(
        path,
        data={
            "csrf_token": csrf,
            "version": version,
            **_graded(grade),
            **FINDINGS_TEXT,
            "overall_grade": grade,
            "action": "submit",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    client.cookies.clear()


def test_a_second_auditor_adjusts_the_grade_with_a_reason_and_sets_an_action(
    client: TestClient, db: Session, story: Story
) -> None:
    _submit(client, story)
    csrf = web_sign_in(client, story.cast.moderator)
    listing = client.get("/practice/audits")
    assert "Submitted audits to moderate" in listing.text
    assert f'href="/practice/audits/{story.audit.id}"' in listing.text
    path = f"/practice/audits/{story.audit.id}"
    page = client.get(path)
    assert "Moderate this audit" in page.text
    action = f"{path}/moderate"
    version = _version(page.text, action)

    # Adjusted without saying why: refused, nothing written.
    no_reason = client.post(
        action,
        data={
            "csrf_token": csrf,
            "version": version,
            "outcome": "adjusted",
            "moderated_grade": "requires_improvement",
        },
    )
    assert no_reason.status_code == 422
    assert "Say why the grade is adjusted." in no_reason.text
    assert 'href="#reason"' in no_reason.text
    db.expire_all()
    assert db.get(CaseAudit, story.audit.id).state == "submitted"  # type: ignore[union-attr]
    missing = client.post(action, data={"csrf_token": csrf, "version": version})
    assert missing.status_code == 422
    assert "Select whether you agree with the grade" in missing.text

    moderated = client.post(
        action,
        data={
            "csrf_token": csrf,
            "version": version,
            "outcome": "adjusted",
            "moderated_grade": "requires_improvement",
            "reason": "Visits were late in two of the last three months.",
        },
        follow_redirects=False,
    )
    assert moderated.status_code == 303, moderated.text
    db.expire_all()
    audit = db.get(CaseAudit, story.audit.id)
    assert audit is not None
    assert audit.state == "moderated"
    assert audit.final_grade is AuditGrade.requires_improvement
    shown = client.get(path).text
    assert "Grade adjusted to Requires improvement" in shown
    assert "Visits were late in two of the last three months." in shown

    # An action for the worker: refused without a description, then set.
    due = TODAY + timedelta(days=28)
    empty = client.post(
        f"{path}/actions",
        data={
            "csrf_token": csrf,
            "owner_id": str(story.cast.social_worker.id),
            "due_date-day": str(due.day),
            "due_date-month": str(due.month),
            "due_date-year": str(due.year),
        },
    )
    assert empty.status_code == 422
    assert "Enter what is to be done" in empty.text
    assert _count(db, AuditAction, AuditAction.audit_id == audit.id) == 0
    set_action = client.post(
        f"{path}/actions",
        data={
            "csrf_token": csrf,
            "description": "Visit within the plan's timescale and record it the same day.",
            "owner_id": str(story.cast.social_worker.id),
            "due_date-day": str(due.day),
            "due_date-month": str(due.month),
            "due_date-year": str(due.year),
        },
        follow_redirects=False,
    )
    assert set_action.status_code == 303, set_action.text
    db.expire_all()
    assert _count(db, AuditAction, AuditAction.audit_id == audit.id) == 1

    # The worker completes it from the audit's page.
    client.cookies.clear()
    csrf = web_sign_in(client, story.cast.social_worker)
    page = client.get(path)
    action_row = db.scalars(select(AuditAction).where(AuditAction.audit_id == audit.id)).one()
    complete = f"/practice/audit-actions/{action_row.id}/complete"
    assert f'action="{complete}"' in page.text
    blank = client.post(complete, data={"csrf_token": csrf, "version": str(action_row.version)})
    assert blank.status_code == 422
    assert "Enter what was done" in blank.text
    completed = client.post(
        complete,
        data={
            "csrf_token": csrf,
            "version": str(action_row.version),
            "completion_note": "Visited on the 5th, recorded the same day.",
        },
        follow_redirects=False,
    )
    assert completed.status_code == 303, completed.text
    db.expire_all()
    assert db.get(AuditAction, action_row.id).completed_date == TODAY  # type: ignore[union-attr]


def test_the_cases_own_manager_may_not_moderate_its_audit(
    client: TestClient, db: Session, story: Story
) -> None:
    _submit(client, story)
    csrf = web_sign_in(client, story.cast.manager)
    path = f"/practice/audits/{story.audit.id}"
    page = client.get(path)
    assert page.status_code == 200
    assert "You cannot moderate this audit." in page.text
    assert 'action="' + path + '/moderate"' not in page.text
    refused = client.post(
        f"{path}/moderate",
        data={"csrf_token": csrf, "version": _current(db, story), "outcome": "agreed"},
    )
    assert refused.status_code == 403
    assert "You cannot do this" in refused.text
    assert "manages the team that holds the case" in refused.text
    db.expire_all()
    assert db.get(CaseAudit, story.audit.id).state == "submitted"  # type: ignore[union-attr]


def test_the_auditor_may_not_moderate_their_own_audit(
    client: TestClient, db: Session, story: Story
) -> None:
    _submit(client, story)
    csrf = web_sign_in(client, story.cast.auditor)
    path = f"/practice/audits/{story.audit.id}"
    assert "Moderate this audit" not in client.get(path).text
    refused = client.post(
        f"{path}/moderate",
        data={"csrf_token": csrf, "version": _current(db, story), "outcome": "agreed"},
    )
    assert refused.status_code == 403
    assert "moderation is done by a second auditor" in refused.text


# --------------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------------


def test_the_findings_page_counts_the_submitted_audit_by_team_and_month_and_exports_it(
    client: TestClient, db: Session, story: Story
) -> None:
    _submit(client, story, grade="good")
    web_sign_in(client, story.cast.auditor)
    page = client.get("/practice/findings?month=2026-03")
    assert page.status_code == 200
    text = page.text
    assert story.cast.team.name in text
    assert 'role="img"' in text
    assert 'aria-labelledby="trend-title trend-desc"' in text
    assert "style=" not in text
    assert 'class="app-grade app-grade--good"' in text
    assert "March 2026" in text
    # One good audit in the team's row: 1 (100.0%) under Good.
    assert "1 (100.0%)" in text
    export = client.get("/practice/findings/export?month=2026-03&format=csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert str(story.case.id) in export.text
    assert story.cast.child.last_name not in export.text
    xlsx = client.get("/practice/findings/export?month=2026-03&format=xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    # A team with no audits: nothing counted for it.
    other = client.get(f"/practice/findings?month=2026-03&team_id={story.cast.other_team.id}")
    assert "No audit was submitted in March 2026." in other.text


def test_a_month_still_to_come_is_refused(client: TestClient, story: Story) -> None:
    web_sign_in(client, story.cast.auditor)
    page = client.get("/practice/findings?month=2027-01")
    assert page.status_code == 422
    assert "This month has not started yet" in page.text


def test_a_social_worker_may_not_see_the_findings(client: TestClient, story: Story) -> None:
    web_sign_in(client, story.cast.social_worker)
    assert client.get("/practice/findings").status_code == 403
    assert client.get("/practice/findings/export").status_code == 403
    hub = client.get("/practice")
    assert hub.status_code == 200
    assert 'href="/practice/findings"' not in hub.text
    assert 'href="/practice/audits"' in hub.text


# --------------------------------------------------------------------------------------------------
# Services and interventions
# --------------------------------------------------------------------------------------------------


def test_a_worker_records_a_service_then_its_start_and_end(
    client: TestClient, db: Session, story: Story
) -> None:
    csrf = web_sign_in(client, story.cast.social_worker)
    new = f"/practice/interventions/new?case_id={story.case.id}"
    form = client.get(new)
    assert form.status_code == 200
    refused = client.post(
        new, data={"csrf_token": csrf, "kind": "family_support", "provider_kind": "in_house"}
    )
    assert refused.status_code == 422
    assert "Enter the name of the service or provider" in refused.text
    assert 'value="family_support" selected' in refused.text
    assert _count(db, Intervention, Intervention.case_id == story.case.id) == 0
    made = client.post(
        new,
        data={
            "csrf_token": csrf,
            "kind": "family_support",
            "provider_kind": "in_house",
            "provider_name": "Family Hub North",
            "description": "Routines and school attendance",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    listing = client.get(made.headers["location"])
    assert "The service has been recorded." in listing.text
    assert "Family Hub North" in listing.text
    db.expire_all()
    item = db.scalars(select(Intervention).where(Intervention.case_id == story.case.id)).one()
    started = client.post(
        f"/practice/interventions/{item.id}/start",
        data={"csrf_token": csrf, "version": str(item.version)},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    db.expire_all()
    item = db.get(Intervention, item.id)  # type: ignore[assignment]
    assert item is not None
    assert item.start_date == TODAY
    # An end with no outcome is refused; with one, recorded.
    no_outcome = client.post(
        f"/practice/interventions/{item.id}/end",
        data={"csrf_token": csrf, "version": str(item.version)},
    )
    assert no_outcome.status_code == 422
    assert "Select how the service ended" in no_outcome.text
    ended = client.post(
        f"/practice/interventions/{item.id}/end",
        data={"csrf_token": csrf, "version": str(item.version), "outcome": "goals_met"},
        follow_redirects=False,
    )
    assert ended.status_code == 303, ended.text
    db.expire_all()
    assert db.get(Intervention, item.id).end_date == TODAY  # type: ignore[union-attr]


def test_services_on_a_child_the_caller_may_not_see_are_not_found(
    client: TestClient, db: Session, story: Story
) -> None:
    story.cast.child.is_restricted = True
    db.commit()
    csrf = web_sign_in(client, story.cast.other_social_worker)
    assert client.get(f"/practice/interventions?case_id={story.case.id}").status_code == 404
    posted = client.post(
        f"/practice/interventions/new?case_id={story.case.id}",
        data={
            "csrf_token": csrf,
            "kind": "advocacy",
            "provider_kind": "commissioned",
            "provider_name": "Voices",
        },
    )
    assert posted.status_code == 404
    assert _count(db, Intervention) == 0


# --------------------------------------------------------------------------------------------------
# Supervision
# --------------------------------------------------------------------------------------------------


def test_a_manager_records_supervision_with_a_decision_on_the_workers_case(
    client: TestClient, db: Session, story: Story
) -> None:
    csrf = web_sign_in(client, story.cast.manager)
    chooser = client.get("/practice/supervision/new")
    assert chooser.status_code == 200
    assert story.cast.social_worker.display_name in chooser.text
    form = client.get(f"/practice/supervision/new?worker_id={story.cast.social_worker.id}")
    assert f'name="decision-{story.case.id}"' in form.text
    base = {
        "csrf_token": csrf,
        "worker_id": str(story.cast.social_worker.id),
        "notes": "Workload manageable; training booked.",
        "case_id": str(story.case.id),
    }
    review = TODAY + timedelta(days=14)
    dates = {
        f"review_by-{story.case.id}-day": str(review.day),
        f"review_by-{story.case.id}-month": str(review.month),
        f"review_by-{story.case.id}-year": str(review.year),
    }
    refused = client.post("/practice/supervision/new", data={**base, **dates})
    assert refused.status_code == 422
    assert "Enter the decision, or clear the review date" in refused.text
    assert f'href="#decision-{story.case.id}"' in refused.text
    assert _count(db, SupervisionSession) == 0
    recorded = client.post(
        "/practice/supervision/new",
        data={**base, **dates, f"decision-{story.case.id}": "Hold a core group within 10 days."},
        follow_redirects=False,
    )
    assert recorded.status_code == 303, recorded.text
    db.expire_all()
    assert (
        _count(db, SupervisionSession, SupervisionSession.worker_id == story.cast.social_worker.id)
        == 1
    )
    entry = db.scalars(
        select(ManagementOversight).where(ManagementOversight.case_id == story.case.id)
    ).one()
    assert entry.decision == "Hold a core group within 10 days."
    listing = client.get(recorded.headers["location"])
    assert "The supervision session has been recorded." in listing.text
    assert story.cast.social_worker.display_name in listing.text


def test_a_manager_may_not_record_supervision_of_another_teams_worker(
    client: TestClient, db: Session, story: Story
) -> None:
    csrf = web_sign_in(client, story.cast.manager)
    refused = client.post(
        "/practice/supervision/new",
        data={"csrf_token": csrf, "worker_id": str(story.cast.other_social_worker.id)},
    )
    assert refused.status_code in (403, 404)
    assert "There is a problem" in refused.text
    assert _count(db, SupervisionSession) == 0


def test_a_social_worker_sees_their_own_supervision_and_may_not_record_any(
    client: TestClient, story: Story
) -> None:
    web_sign_in(client, story.cast.social_worker)
    page = client.get("/practice/supervision")
    assert page.status_code == 200
    assert "Your supervision" in page.text
    assert "Record a supervision session" not in page.text
    assert client.get("/practice/supervision/new").status_code == 403


# --------------------------------------------------------------------------------------------------
# Queries do not grow with the rows
# --------------------------------------------------------------------------------------------------


def _selects(connection: Connection, client: TestClient, path: str) -> int:
    seen: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.split()[0].lower() in ("select", "with"):
            seen["select"] += 1

    event.listen(connection, "before_cursor_execute", count)
    try:
        page = client.get(path)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert page.status_code == 200, page.text
    return seen["select"]


def _more_audits(db: Session, story: Story, how_many: int) -> None:
    for n in range(how_many):
        child = make_child(db, first_name=f"Child{n}", last_name="Example")
        case = referred_case(db, story.cast, opened=TODAY - timedelta(days=20), child=child)
        assigned_audit(db, story.cast, case, story.tool, day=TODAY - timedelta(days=1))
        db.add(
            Intervention(
                case_id=story.case.id,
                child_id=story.case.child_id,
                kind="family_support",
                provider_kind="in_house",
                provider_name=f"Hub {n}",
                referred_date=TODAY,
                version=1,
            )
        )
    db.commit()


@pytest.mark.parametrize(
    "path",
    ["/practice/audits", "/practice/findings", "/practice/supervision", "/practice"],
)
def test_a_list_page_runs_the_same_selects_with_one_row_as_with_six(
    client: TestClient, db: Session, connection: Connection, story: Story, path: str
) -> None:
    web_sign_in(client, story.cast.auditor)
    one = _selects(connection, client, path)
    _more_audits(db, story, 5)
    assert _selects(connection, client, path) == one


def test_the_audit_and_services_pages_run_the_same_selects_whatever_the_rows(
    client: TestClient, db: Session, connection: Connection, story: Story
) -> None:
    web_sign_in(client, story.cast.auditor)
    audit_page = f"/practice/audits/{story.audit.id}"
    services = f"/practice/interventions?case_id={story.case.id}"
    before = (_selects(connection, client, audit_page), _selects(connection, client, services))
    _more_audits(db, story, 5)
    after = (_selects(connection, client, audit_page), _selects(connection, client, services))
    assert after == before
    assert "Hub 4" in client.get(services).text


def test_the_supervision_form_runs_the_same_selects_with_one_case_as_with_six(
    client: TestClient, db: Session, connection: Connection, story: Story
) -> None:
    web_sign_in(client, story.cast.manager)
    path = f"/practice/supervision/new?worker_id={story.cast.social_worker.id}"
    one = _selects(connection, client, path)
    for n in range(5):
        child = make_child(db, first_name=f"Child{n}", last_name="Supervised")
        referred_case(db, story.cast, opened=TODAY - timedelta(days=10), child=child)
    db.commit()
    assert _selects(connection, client, path) == one
    assert client.get(path).text.count('name="case_id"') == 6
