"""Audit programmes (issue 6, part 4): which case files are audited in a month, drawn so that anyone
can draw them again.

**The population.** A case is eligible for a month when it was open at some point in it (opened on
or before the month's last day and not closed before its first day), went past the contact stage
(a contact closed at the door is not a case file to audit), and is held now by a team the
programme covers (``team_ids``, or every active team). A case that already has an audit, not
cancelled, in another programme for the same month is left out, so two programmes in a month do
not audit the same file twice (the draw says how many were left out).

**The draw.** *Random*: for each team, its eligible cases sorted by id, then
``random.Random(f"{seed}:{team_id}").sample(cases, min(sample_size, len(cases)))``. Seeding per
team means adding a team to a programme does not change another team's draw. *Thematic*: the
eligible cases meeting the criteria, sorted by id, then
``random.Random(f"{seed}:thematic").sample(...)`` of at most ``sample_size`` (every match when it
is absent). Python's string seeding is stable across runs and machines, so the same seed over the
same records draws the same cases: a QA lead reproduces the draw with the preview.

**The criteria** (thematic) are a closed vocabulary (``programme_schemas.Criteria``):

* ``{"kind": "cp_plan_longer_than", "months": N}``: the case has a child protection plan active at
  the end of the month (not ended by then) that started more than N months before that day;
* ``{"kind": "placements_at_least", "count": C, "months": N}``: the child was looked after on this
  case at the end of the month and had at least C placements in the N months to that day, counted
  as the placement-stability measure counts them (``app.care.stability.placement_spells``:
  temporary placements are not moves; the default N = 12 is the national measure);
* ``{"kind": "case_state", "states": [...]}``: the case's state now is one of these;
* ``{"kind": "re_referral"}``: the case's referral was dated in the month and was a re-referral
  (within 12 months of the child's previous one).

Creating a programme draws its sample and plans one audit per case drawn in one transaction;
with ``auditor_ids`` each audit is assigned round-robin to the next auditor who neither works on
nor manages the case (an audit nobody fits stays planned, for a QA lead to assign by hand).
"""

from __future__ import annotations

import random
import secrets
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import change_log_append
from app.audits import service as audit_service
from app.audits.programme_schemas import (
    MAX_SEED,
    CaseStateIn,
    CPPlanLongerThan,
    Criteria,
    PlacementsAtLeast,
    ProgrammeCreate,
    ReReferral,
)
from app.audits.workflow import AUDITORS, CANCELLED, PLANNED
from app.calendar import add_months
from app.care.stability import placement_spells
from app.cases.workflow import CLOSED, CONTACT
from app.errors import Invalid, NotFound
from app.models.audit import CaseEvent
from app.models.audits import AuditProgramme, AuditTool, CaseAudit, ProgrammeKind
from app.models.care import PeriodOfCare, Placement
from app.models.cases import Case
from app.models.frontdoor import Referral
from app.models.org import Team, UserAccount
from app.models.people import Person
from app.models.protection import CPPlan
from app.security.access import person_visible
from app.security.principal import Principal

SUBJECT = "audit_programme"
CREATED = "audit_programme_created"
NOT_FOUND = "There is no audit programme with this id."
THEMATIC_STREAM = "thematic"


# --- the month and the population ----------------------------------------------------------------


def month_last_day(first: date) -> date:
    return add_months(first, 1) - timedelta(days=1)


@dataclass(frozen=True)
class Candidate:
    """An eligible case: its id and the team holding it (no child named)."""

    case_id: uuid.UUID
    team_id: uuid.UUID


@dataclass
class TeamDraw:
    team_id: uuid.UUID
    team_name: str
    area: str | None
    population: int = 0
    drawn: int = 0


@dataclass
class Draw:
    """The cases drawn for a month with a seed, and how many were eligible per team."""

    kind: ProgrammeKind
    month: date
    seed: int
    sample_size: int | None
    population: int = 0
    excluded_already_planned: int = 0
    teams: list[TeamDraw] = field(default_factory=list)
    cases: list[Candidate] = field(default_factory=list)


def _open_in_month(first: date, last: date) -> list[ColumnElement[bool]]:
    """Open at some point in [first, last], past the contact stage. A closed case went past the
    contact stage when its chronology shows it in some state other than contact or closed."""
    went_past_contact = exists().where(
        CaseEvent.case_id == Case.id,
        CaseEvent.subject_type == "case",
        CaseEvent.to_state.is_not(None),
        CaseEvent.to_state.not_in((CONTACT, CLOSED)),
    )
    return [
        Case.opened_date <= last,
        or_(Case.closed_date.is_(None), Case.closed_date >= first),
        Case.state != CONTACT,
        or_(Case.state != CLOSED, went_past_contact),
    ]


def _already_planned(first: date, as_drawn: AuditProgramme | None = None) -> ColumnElement[bool]:
    """The case has an audit (not cancelled) in a programme for the same month. When
    ``as_drawn``'s draw is checked, only programmes created before it count: its own audits, and
    those of programmes made after it (which drew from what it left), were not there to exclude."""
    conditions = [
        CaseAudit.case_id == Case.id,
        CaseAudit.state != CANCELLED,
        CaseAudit.programme_id == AuditProgramme.id,
        AuditProgramme.month == first,
    ]
    if as_drawn is not None:
        conditions.append(AuditProgramme.id != as_drawn.id)
        conditions.append(AuditProgramme.created_at < as_drawn.created_at)
    return exists().where(*conditions)


def _criterion(criteria: Criteria, first: date, last: date) -> ColumnElement[bool]:
    """The criterion as a WHERE clause on ``Case`` (placements are counted afterwards, in Python,
    by the placement-stability measure's own function)."""
    if isinstance(criteria, CPPlanLongerThan):
        return exists().where(
            CPPlan.case_id == Case.id,
            CPPlan.start_date < add_months(last, -criteria.months),
            or_(CPPlan.end_date.is_(None), CPPlan.end_date > last),
        )
    if isinstance(criteria, PlacementsAtLeast):
        return exists().where(*_looked_after_at(last))
    if isinstance(criteria, CaseStateIn):
        return Case.state.in_(criteria.states)
    assert isinstance(criteria, ReReferral)
    return exists().where(
        Referral.case_id == Case.id,
        Referral.is_re_referral.is_(True),
        Referral.referral_date >= first,
        Referral.referral_date <= last,
    )


def _looked_after_at(last: date) -> list[ColumnElement[bool]]:
    return [
        PeriodOfCare.case_id == Case.id,
        PeriodOfCare.start_date <= last,
        or_(PeriodOfCare.end_date.is_(None), PeriodOfCare.end_date > last),
    ]


def _with_enough_placements(
    session: Session,
    rows: Sequence[tuple[uuid.UUID, uuid.UUID, uuid.UUID]],
    rule: PlacementsAtLeast,
    last: date,
) -> set[uuid.UUID]:
    """The case ids (of ``rows``: case, team, child) whose child had at least ``rule.count``
    placements in the ``rule.months`` months to ``last`` (one query for every child's
    placements)."""
    child_of = {case_id: child_id for case_id, _team, child_id in rows}
    placements: dict[uuid.UUID, list[Placement]] = {}
    if child_of:
        for placement in session.scalars(
            select(Placement).where(
                Placement.child_id.in_(set(child_of.values())), Placement.start_date <= last
            )
        ):
            placements.setdefault(placement.child_id, []).append(placement)
    window_start = add_months(last, -rule.months) + timedelta(days=1)
    enough: set[uuid.UUID] = set()
    for case_id, child_id in child_of.items():
        spells = placement_spells(placements.get(child_id, []))
        counted = [s for s in spells if s.end_date is None or s.end_date >= window_start]
        if len(counted) >= rule.count:
            enough.add(case_id)
    return enough


def _teams(session: Session, team_ids: Sequence[uuid.UUID] | None) -> list[Team]:
    """The teams covered: those named (422 naming an unknown one), or every active team."""
    if team_ids is None:
        return list(session.scalars(select(Team).where(Team.is_active.is_(True))))
    teams = {t.id: t for t in session.scalars(select(Team).where(Team.id.in_(set(team_ids))))}
    unknown = [str(t) for t in team_ids if t not in teams]
    if unknown:
        raise Invalid.field("team_ids", f"There is no team with the id {unknown[0]}.")
    return [teams[t] for t in dict.fromkeys(team_ids)]


def _stream(seed: int, name: str) -> random.Random:
    """The seeded generator of one part of a draw. Reproducibility is the point, so it is the
    standard generator (seeded from a string: stable across runs, machines and PYTHONHASHSEED),
    not a cryptographic one; nothing secret depends on it."""
    return random.Random(f"{seed}:{name}")  # noqa: S311


def programme_draw(
    session: Session,
    *,
    kind: ProgrammeKind,
    month: date,
    seed: int,
    sample_size: int | None,
    team_ids: Sequence[uuid.UUID] | None = None,
    criteria: Criteria | None = None,
    as_drawn: AuditProgramme | None = None,
) -> Draw:
    """The cases a programme draws for ``month`` with ``seed`` (see the module's docstring); reads
    only. Two queries (three for a placements criterion), whatever the number of teams or cases.
    ``as_drawn``: the programme whose draw is being checked (see ``_already_planned``)."""
    first, last = month, month_last_day(month)
    teams = _teams(session, team_ids)
    team_by_id = {t.id: t for t in teams}
    conditions = [*_open_in_month(first, last), Case.team_id.in_(list(team_by_id))]
    if criteria is not None:
        conditions.append(_criterion(criteria, first, last))
    planned: set[uuid.UUID] = set()
    rows: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = []
    for case_id, team_id, child_id, taken in session.execute(
        select(
            Case.id,
            Case.team_id,
            Case.child_id,
            _already_planned(first, as_drawn).label("taken"),
        ).where(*conditions)
    ):
        rows.append((case_id, team_id, child_id))
        if taken:
            planned.add(case_id)
    if isinstance(criteria, PlacementsAtLeast):
        enough = _with_enough_placements(session, rows, criteria, last)
        rows = [r for r in rows if r[0] in enough]
        planned &= enough
    eligible = sorted(
        (Candidate(case_id=c, team_id=t) for c, t, _child in rows if c not in planned),
        key=lambda c: c.case_id,
    )
    draw = Draw(
        kind=kind,
        month=first,
        seed=seed,
        sample_size=sample_size,
        population=len(eligible),
        excluded_already_planned=len(planned),
    )
    by_team: dict[uuid.UUID, list[Candidate]] = {}
    for candidate in eligible:
        by_team.setdefault(candidate.team_id, []).append(candidate)
    if kind is ProgrammeKind.random:
        assert sample_size is not None
        drawn: list[Candidate] = []
        for team_id, cases in by_team.items():
            drawn.extend(_stream(seed, str(team_id)).sample(cases, min(sample_size, len(cases))))
    elif sample_size is None or sample_size >= len(eligible):
        drawn = list(eligible)
    else:
        drawn = _stream(seed, THEMATIC_STREAM).sample(eligible, sample_size)
    drawn_per_team = Counter(c.team_id for c in drawn)
    # Named teams are shown even when they had nothing eligible; otherwise the teams holding some.
    shown = teams if team_ids is not None else [t for t in teams if t.id in by_team]
    draw.teams = sorted(
        (
            TeamDraw(
                team_id=t.id,
                team_name=t.name,
                area=t.area,
                population=len(by_team.get(t.id, [])),
                drawn=drawn_per_team[t.id],
            )
            for t in shown
        ),
        key=lambda t: (t.team_name, t.team_id),
    )
    order = {t.team_id: i for i, t in enumerate(draw.teams)}
    draw.cases = sorted(drawn, key=lambda c: (order[c.team_id], c.case_id))
    return draw


# --- checking the inputs -------------------------------------------------------------------------


def _check_inputs(session: Session, body: ProgrammeCreate) -> AuditTool:
    """422 naming the field for anything a programme cannot be drawn from."""
    tool = session.get(AuditTool, body.tool_id)
    if tool is None:
        raise Invalid.field("tool_id", "There is no audit tool with this id.")
    if not tool.is_active:
        raise Invalid.field("tool_id", "This audit tool is retired: programmes use a tool in use.")
    if body.month_start > clock.today():
        raise Invalid.field("month", "A programme cannot audit a month that has not begun.")
    if body.kind is ProgrammeKind.random:
        if body.criteria is not None:
            raise Invalid.field(
                "criteria", "A random programme draws from every case: criteria are for thematic."
            )
        if body.sample_size is None:
            raise Invalid.field(
                "sample_size", "A random programme needs the number of cases to draw per team."
            )
    elif body.criteria is None:
        raise Invalid.field("criteria", "A thematic programme needs its criteria.")
    return tool


def _auditors(session: Session, auditor_ids: Sequence[uuid.UUID]) -> list[UserAccount]:
    """The auditors named, in the order given (422 for an unknown or inactive user, or one whose
    role does not audit)."""
    ordered = list(dict.fromkeys(auditor_ids))
    users = {
        u.id: u for u in session.scalars(select(UserAccount).where(UserAccount.id.in_(ordered)))
    }
    for user_id in ordered:
        user = users.get(user_id)
        if user is None or not user.is_active:
            raise Invalid.field("auditor_ids", f"There is no active user with the id {user_id}.")
        if user.role not in AUDITORS:
            raise Invalid.field(
                "auditor_ids",
                f"{user.display_name} ({user.role.value}) does not audit case files: auditors are "
                "QA auditors and managers.",
            )
    return [users[u] for u in ordered]


def _resolve_seed(seed: int | None) -> int:
    return seed if seed is not None else secrets.randbelow(MAX_SEED + 1)


# --- writes --------------------------------------------------------------------------------------


def programme_preview(session: Session, *, actor: Principal, body: ProgrammeCreate) -> Draw:
    """The cases a programme with these inputs would draw now; writes nothing. Without a seed one
    is chosen and returned, so the QA lead can create exactly this programme with it."""
    _check_inputs(session, body)
    if body.auditor_ids:
        _auditors(session, body.auditor_ids)
    return programme_draw(
        session,
        kind=body.kind,
        month=body.month_start,
        seed=_resolve_seed(body.seed),
        sample_size=body.sample_size,
        team_ids=body.team_ids,
        criteria=body.criteria,
    )


@dataclass
class RedrawCheck:
    """A programme's draw done again from its stored inputs, against the cases it planned."""

    programme_id: uuid.UUID
    draw: Draw
    planned: list[uuid.UUID]

    @property
    def reproduced(self) -> bool:
        return sorted(c.case_id for c in self.draw.cases) == sorted(self.planned)


def programme_redraw(session: Session, *, actor: Principal, programme_id: uuid.UUID) -> RedrawCheck:
    """Draw the programme again from its stored kind, month, seed, sample size, teams and
    criteria, counting as already planned only the audits of programmes made before it, and set
    the result beside the cases it planned: the proof that the sample was drawn, not picked.
    Reads only. The records can have moved on since (a case closed before the month, changed
    team, or an audit of an earlier programme for the month was cancelled); the two lists then
    differ and the answer says so."""
    programme = session.get(AuditProgramme, programme_id)
    if programme is None:
        raise NotFound(NOT_FOUND)
    criteria = (
        TypeAdapter(Criteria).validate_python(programme.criteria)
        if programme.criteria is not None
        else None
    )
    draw = programme_draw(
        session,
        kind=programme.kind,
        month=programme.month,
        seed=programme.seed,
        sample_size=programme.sample_size,
        team_ids=[uuid.UUID(str(t)) for t in programme.team_ids] if programme.team_ids else None,
        criteria=criteria,
        as_drawn=programme,
    )
    planned = list(
        session.scalars(
            select(CaseAudit.case_id)
            .where(CaseAudit.programme_id == programme.id)
            .order_by(CaseAudit.case_id)
        )
    )
    return RedrawCheck(programme_id=programme.id, draw=draw, planned=planned)


def programme_create(
    session: Session, *, actor: Principal, body: ProgrammeCreate
) -> AuditProgramme:
    """Create the programme, draw its sample and plan one audit per case drawn (with the tool), in
    the caller's transaction; with ``auditor_ids``, assign each audit round-robin to the next
    auditor who neither works on nor manages the case (``audit_service.auditor_conflict``), and
    leave it planned when nobody fits. The programme is written to the change log; each audit's
    planning and assignment to its case's chronology (by the audit service)."""
    tool = _check_inputs(session, body)
    auditors = _auditors(session, body.auditor_ids) if body.auditor_ids else []
    draw = programme_draw(
        session,
        kind=body.kind,
        month=body.month_start,
        seed=_resolve_seed(body.seed),
        sample_size=body.sample_size,
        team_ids=body.team_ids,
        criteria=body.criteria,
    )
    programme = AuditProgramme(
        id=uuid.uuid4(),
        name=body.name,
        kind=body.kind,
        tool_id=tool.id,
        month=draw.month,
        seed=draw.seed,
        sample_size=body.sample_size,
        criteria=body.criteria.model_dump(mode="json") if body.criteria is not None else None,
        team_ids=[str(t) for t in dict.fromkeys(body.team_ids)] if body.team_ids else None,
        created_by_id=actor.user_id,
    )
    session.add(programme)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type=SUBJECT,
        entity_id=programme.id,
        action=CREATED,
        changes={
            "name": programme.name,
            "kind": programme.kind.value,
            "tool_id": str(tool.id),
            "month": draw.month.isoformat(),
            "seed": draw.seed,
            "sample_size": programme.sample_size,
            "criteria": programme.criteria,
            "team_ids": programme.team_ids,
            "cases": [str(c.case_id) for c in draw.cases],
        },
    )
    drawn_ids = [c.case_id for c in draw.cases]
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(drawn_ids)))}
    # A restricted child's audit is planned like any other, but only someone named on the record
    # may assign it (the audit service's 404): it stays planned for them to assign.
    assignable = set(
        session.scalars(
            select(Case.id)
            .join(Person, Person.id == Case.child_id)
            .where(Case.id.in_(drawn_ids), person_visible(actor))
        )
    )
    turn = 0
    for candidate in draw.cases:
        case = cases[candidate.case_id]
        audit = audit_service.audit_plan(
            session, actor=actor, case=case, tool_id=tool.id, programme_id=programme.id
        )
        if case.id not in assignable:
            continue
        for step in range(len(auditors)):
            auditor = auditors[(turn + step) % len(auditors)]
            if audit_service.auditor_conflict(session, case=case, user_id=auditor.id) is None:
                audit_service.audit_assign(
                    session,
                    actor=actor,
                    audit_id=audit.id,
                    auditor_id=auditor.id,
                    expected_version=audit.version,
                )
                turn = (turn + step + 1) % len(auditors)
                break
    return programme


# --- reads ---------------------------------------------------------------------------------------


@dataclass
class ProgrammeView:
    programme: AuditProgramme
    states: dict[str, int]
    audits: list[CaseAudit] = field(default_factory=list)

    @property
    def audit_count(self) -> int:
        return sum(self.states.values())

    @property
    def unassigned(self) -> int:
        return self.states.get(PLANNED, 0)


def _state_counts(
    session: Session, programme_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    counts: dict[uuid.UUID, dict[str, int]] = {p: {} for p in programme_ids}
    if programme_ids:
        for programme_id, state, count in session.execute(
            select(CaseAudit.programme_id, CaseAudit.state, func.count())
            .where(CaseAudit.programme_id.in_(programme_ids))
            .group_by(CaseAudit.programme_id, CaseAudit.state)
        ):
            assert programme_id is not None
            counts[programme_id][state] = count
    return counts


def programmes_list(session: Session, *, actor: Principal) -> list[ProgrammeView]:
    """Every programme, latest month first, with how many of its audits are in each state (two
    queries)."""
    programmes = list(
        session.scalars(
            select(AuditProgramme).order_by(
                AuditProgramme.month.desc(), AuditProgramme.created_at.desc(), AuditProgramme.id
            )
        )
    )
    counts = _state_counts(session, [p.id for p in programmes])
    return [ProgrammeView(programme=p, states=counts[p.id]) for p in programmes]


def programme_get(session: Session, *, actor: Principal, programme_id: uuid.UUID) -> ProgrammeView:
    """The programme and its audits (states and grades; cases by id, no child named), ordered by
    team name and case id."""
    programme = session.get(AuditProgramme, programme_id)
    if programme is None:
        raise NotFound(NOT_FOUND)
    audits = list(
        session.scalars(
            select(CaseAudit)
            .join(Team, Team.id == CaseAudit.team_id)
            .where(CaseAudit.programme_id == programme.id)
            .order_by(Team.name, CaseAudit.case_id)
        )
    )
    states = Counter(a.state for a in audits)
    return ProgrammeView(programme=programme, states=dict(states), audits=audits)
