"""Reads of people: every query starts from ``readable_people(principal)`` (or checks visibility
the same way) and every person shown is written to ``access_log`` in the same transaction.

Reads load what the answer needs in a fixed number of statements: relationships are
``lazy="raise"``, so the related people, aliases, address and cases are each one query, however
many rows they hold.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import access_log_append
from app.errors import Invalid, NotFound
from app.models.cases import Case
from app.models.org import Team, UserAccount
from app.models.people import Address, Person, PersonAlias, PersonKind, PersonRelationship
from app.people.schemas import (
    AddressRead,
    CaseBrief,
    ChildRecord,
    DuplicateCandidate,
    DuplicateMatch,
    DuplicateReport,
    MatchReason,
    PersonRead,
    PersonSummary,
    RelatedPerson,
    RelationshipRead,
)
from app.people.service import load_aliases
from app.security.access import get_person_for_read, person_visible, readable_people
from app.security.principal import Principal

CHILD_RECORD_CASES = 20
NOT_A_CHILD = "There is no child with this id that you can see."


def person_get(
    session: Session, *, principal: Principal, person_id: uuid.UUID, resource: str
) -> Person:
    """A person the caller may see, with aliases; the read is access-logged (404 otherwise)."""
    person = get_person_for_read(
        session, principal=principal, person_id=person_id, resource=resource
    )
    return load_aliases(session, person)


def _is_current(start: date | None, end: date | None, today: date) -> bool:
    return (start is None or start <= today) and (end is None or end >= today)


def _relationships(
    session: Session, *, principal: Principal, person_id: uuid.UUID
) -> list[RelationshipRead]:
    """Both directions, in two statements: the links, then the visible people at their far ends.
    A link to someone the caller may not see (a restricted record) is left out altogether."""
    links = session.scalars(
        select(PersonRelationship).where(
            or_(
                PersonRelationship.person_id == person_id,
                PersonRelationship.related_person_id == person_id,
            )
        )
    ).all()
    other_ids = {
        link.related_person_id if link.person_id == person_id else link.person_id for link in links
    }
    others: dict[uuid.UUID, Person] = {}
    if other_ids:
        others = {
            p.id: p
            for p in session.scalars(readable_people(principal).where(Person.id.in_(other_ids)))
        }
    today = clock.today()
    items = []
    for link in links:
        is_inverse = link.person_id != person_id
        other = others.get(link.person_id if is_inverse else link.related_person_id)
        if other is None:
            continue
        items.append(
            RelationshipRead(
                id=link.id,
                kind=link.kind,
                is_inverse=is_inverse,
                related_person=RelatedPerson.model_validate(other),
                has_parental_responsibility=link.has_parental_responsibility,
                description=link.description,
                start_date=link.start_date,
                end_date=link.end_date,
                is_current=_is_current(link.start_date, link.end_date, today),
                version=link.version,
            )
        )
    items.sort(
        key=lambda r: (
            not r.is_current,
            r.kind.value,
            r.related_person.last_name.lower(),
            r.related_person.first_name.lower(),
            str(r.id),
        )
    )
    return items


def relationship_list(
    session: Session, *, principal: Principal, person_id: uuid.UUID, resource: str
) -> list[RelationshipRead]:
    """The person's relationships from both sides (A sibling-of B shows on B's list too)."""
    get_person_for_read(session, principal=principal, person_id=person_id, resource=resource)
    return _relationships(session, principal=principal, person_id=person_id)


def _address_read(address: Address, today: date) -> AddressRead:
    return AddressRead(
        id=address.id,
        line_1=address.line_1,
        line_2=address.line_2,
        town=address.town,
        postcode=address.postcode,
        start_date=address.start_date,
        end_date=address.end_date,
        notes=address.notes,
        is_current=_is_current(address.start_date, address.end_date, today),
        version=address.version,
    )


def address_list(
    session: Session, *, principal: Principal, person_id: uuid.UUID, resource: str
) -> list[AddressRead]:
    """Every address the person has had, the most recent first."""
    get_person_for_read(session, principal=principal, person_id=person_id, resource=resource)
    today = clock.today()
    addresses = session.scalars(
        select(Address)
        .where(Address.person_id == person_id)
        .order_by(Address.start_date.desc(), Address.id)
    )
    return [_address_read(a, today) for a in addresses]


def child_record(
    session: Session,
    *,
    principal: Principal,
    child_id: uuid.UUID,
    resource: str,
    include_cases: bool = True,
) -> tuple[ChildRecord, int]:
    """The child's record summary and its version (the ETag): one access_log row, and a fixed
    number of statements whatever the number of relationships or cases. ``include_cases`` is
    False for a caller who may read people but not cases (an integration's token scopes)."""
    person = get_person_for_read(
        session, principal=principal, person_id=child_id, resource=resource
    )
    if person.kind is not PersonKind.child:
        raise NotFound(NOT_A_CHILD)
    load_aliases(session, person)
    today = clock.today()
    current = session.scalar(
        select(Address)
        .where(
            Address.person_id == person.id,
            Address.start_date <= today,
            or_(Address.end_date.is_(None), Address.end_date >= today),
        )
        .order_by(Address.start_date.desc())
        .limit(1)
    )
    cases: list[CaseBrief] | None = None
    if include_cases:
        case_rows = session.execute(
            select(
                Case.id,
                Case.state,
                Case.opened_date,
                Case.closed_date,
                Case.team_id,
                Team.name,
                Case.allocated_worker_id,
                UserAccount.display_name,
            )
            .join(Team, Team.id == Case.team_id)
            .outerjoin(UserAccount, UserAccount.id == Case.allocated_worker_id)
            .where(Case.child_id == person.id)
            .order_by(Case.opened_date.desc(), Case.id)
            .limit(CHILD_RECORD_CASES)
        ).all()
        cases = [
            CaseBrief(
                id=row[0],
                state=row[1],
                opened_date=row[2],
                closed_date=row[3],
                team_id=row[4],
                team_name=row[5],
                allocated_worker_id=row[6],
                allocated_worker_name=row[7],
            )
            for row in case_rows
        ]
    record = ChildRecord(
        person=PersonRead.model_validate(person),
        current_address=_address_read(current, today) if current is not None else None,
        relationships=_relationships(session, principal=principal, person_id=person.id),
        cases=cases,
    )
    return record, person.version


# --------------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchCriteria:
    name: str | None = None
    date_of_birth: date | None = None
    nhs_number: str | None = None
    upn: str | None = None
    postcode: str | None = None

    def is_empty(self) -> bool:
        return not any(
            (
                self.name and self.name.strip(),
                self.date_of_birth,
                self.nhs_number,
                self.upn,
                self.postcode,
            )
        )


def _prefix(term: str) -> str:
    # LIKE treats % and _ as wildcards: escape them so a search means what was typed.
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def _name_matches(token: str) -> ColumnElement[bool]:
    pattern = _prefix(token)
    alias_match = exists().where(
        PersonAlias.person_id == Person.id,
        or_(
            PersonAlias.search_last_name.like(pattern, escape="\\"),
            func.lower(PersonAlias.first_name).like(pattern, escape="\\"),
        ),
    )
    return or_(
        Person.search_first_name.like(pattern, escape="\\"),
        Person.search_last_name.like(pattern, escape="\\"),
        alias_match,
    )


def _search_cursor(cursor: str) -> tuple[str, str, uuid.UUID]:
    values = decode_cursor(cursor)
    if (
        len(values) != 3
        or not isinstance(values[0], str)
        or not isinstance(values[1], str)
        or not isinstance(values[2], uuid.UUID)
    ):
        raise Invalid.field("cursor", "This cursor is not one we gave out; start again without it.")
    return values[0], values[1], values[2]


def person_search(
    session: Session,
    *,
    principal: Principal,
    criteria: SearchCriteria,
    cursor: str | None,
    limit: int,
    resource: str,
) -> tuple[list[Person], str | None]:
    """People matching every criterion given, ordered by surname then first name.

    Each word of ``name`` must begin a first name, surname or alias; postcode matches any address
    the person has had. Only people the caller may see are returned, and each one returned is
    access-logged as a search result.
    """
    if criteria.is_empty():
        raise Invalid(
            "Search by at least one of: name, date of birth, NHS number, UPN or postcode.",
            errors=[
                {"field": field, "message": "Give at least one search criterion"}
                for field in ("name", "date_of_birth", "nhs_number", "upn", "postcode")
            ],
        )
    stmt = readable_people(principal)
    if criteria.name:
        for token in criteria.name.lower().split():
            stmt = stmt.where(_name_matches(token))
    if criteria.date_of_birth is not None:
        stmt = stmt.where(Person.date_of_birth == criteria.date_of_birth)
    if criteria.nhs_number is not None:
        stmt = stmt.where(Person.nhs_number == criteria.nhs_number)
    if criteria.upn is not None:
        stmt = stmt.where(or_(Person.upn == criteria.upn, Person.former_upn == criteria.upn))
    if criteria.postcode is not None:
        stmt = stmt.where(
            exists().where(Address.person_id == Person.id, Address.postcode == criteria.postcode)
        )
    if cursor is not None:
        last, first, last_id = _search_cursor(cursor)
        stmt = stmt.where(
            or_(
                Person.search_last_name > last,
                and_(Person.search_last_name == last, Person.search_first_name > first),
                and_(
                    Person.search_last_name == last,
                    Person.search_first_name == first,
                    Person.id > last_id,
                ),
            )
        )
    stmt = stmt.order_by(Person.search_last_name, Person.search_first_name, Person.id)
    rows = list(session.scalars(stmt.limit(limit + 1)))
    people, more = rows[:limit], len(rows) > limit
    for person in people:
        access_log_append(
            session, principal=principal, action="search", resource=resource, person_id=person.id
        )
    next_cursor = None
    if more and people:
        tail = people[-1]
        next_cursor = encode_cursor((tail.search_last_name, tail.search_first_name, tail.id))
    return people, next_cursor


# --------------------------------------------------------------------------------------------------
# Duplicates
# --------------------------------------------------------------------------------------------------

_MAX_DUPLICATES = 50
_REASON_ORDER: dict[str, int] = {
    "nhs_number": 0,
    "la_child_id": 1,
    "upn": 2,
    "surname_and_date_of_birth": 3,
    "alias_surname_and_date_of_birth": 4,
}


def duplicates_find(
    session: Session, *, principal: Principal, candidate: DuplicateCandidate, resource: str
) -> DuplicateReport:
    """Likely duplicates of a person about to be recorded, each with why it matched: same NHS
    number, UPN (or former UPN) or LA child id, or the same date of birth with the same surname
    (or alias surname, either way round)."""
    surnames: set[str] = set()
    if candidate.last_name:
        surnames.add(candidate.last_name.lower())
    alias_surnames = {a.last_name.lower() for a in candidate.aliases}
    all_surnames = surnames | alias_surnames
    dob = candidate.date_of_birth

    conditions: list[ColumnElement[bool]] = []
    if candidate.nhs_number:
        conditions.append(Person.nhs_number == candidate.nhs_number)
    if candidate.upn:
        conditions.append(or_(Person.upn == candidate.upn, Person.former_upn == candidate.upn))
    if candidate.la_child_id:
        conditions.append(Person.la_child_id == candidate.la_child_id)
    if dob is not None and all_surnames:
        conditions.append(
            and_(
                Person.date_of_birth == dob,
                or_(
                    Person.search_last_name.in_(all_surnames),
                    exists().where(
                        PersonAlias.person_id == Person.id,
                        PersonAlias.search_last_name.in_(all_surnames),
                    ),
                ),
            )
        )
    if not conditions:
        raise Invalid(
            "Give an NHS number, UPN or LA child id, or a surname with a date of birth.",
            errors=[
                {"field": f, "message": "Needed to look for duplicates"}
                for f in ("nhs_number", "upn", "la_child_id", "last_name", "date_of_birth")
            ],
        )

    found = list(
        session.scalars(
            select(Person)
            .where(or_(*conditions))
            .order_by(Person.search_last_name, Person.id)
            .limit(_MAX_DUPLICATES)
        )
    )
    ids = [p.id for p in found]
    alias_rows = (
        session.execute(
            select(PersonAlias.person_id, PersonAlias.search_last_name).where(
                PersonAlias.person_id.in_(ids)
            )
        ).all()
        if ids
        else []
    )
    aliases_of: dict[uuid.UUID, set[str]] = {}
    for person_id, surname in alias_rows:
        aliases_of.setdefault(person_id, set()).add(surname)
    visible_ids = (
        set(session.scalars(select(Person.id).where(Person.id.in_(ids), person_visible(principal))))
        if ids
        else set()
    )

    matches: list[DuplicateMatch] = []
    hidden_match = False
    for person in found:
        reasons: list[MatchReason] = []
        if candidate.nhs_number and person.nhs_number == candidate.nhs_number:
            reasons.append("nhs_number")
        if candidate.la_child_id and person.la_child_id == candidate.la_child_id:
            reasons.append("la_child_id")
        if candidate.upn and candidate.upn in (person.upn, person.former_upn):
            reasons.append("upn")
        if dob is not None and person.date_of_birth == dob:
            if person.search_last_name in surnames:
                reasons.append("surname_and_date_of_birth")
            if person.search_last_name in alias_surnames or aliases_of.get(person.id, set()) & (
                all_surnames
            ):
                reasons.append("alias_surname_and_date_of_birth")
        if not reasons:
            continue
        if person.id not in visible_ids:
            # A restricted record is not shown; only an identifier that would block creating the
            # person anyway (409) is admitted to, so the officer knows to ask the team manager.
            if {"nhs_number", "la_child_id"} & set(reasons):
                hidden_match = True
            continue
        matches.append(DuplicateMatch(person=PersonSummary.model_validate(person), reasons=reasons))

    matches.sort(key=lambda m: (min(_REASON_ORDER[r] for r in m.reasons), m.person.last_name))
    for match in matches:
        access_log_append(
            session,
            principal=principal,
            action="search",
            resource=resource,
            person_id=match.person.id,
        )
    return DuplicateReport(
        matches=matches,
        hidden_match=hidden_match,
        message=(
            "A record you cannot see has the same NHS number or LA child id: please contact the "
            "team manager before recording this person."
            if hidden_match
            else None
        ),
    )


def relationship_view(
    session: Session, *, relationship: PersonRelationship, person_id: uuid.UUID
) -> RelationshipRead:
    """One relationship as seen from ``person_id``'s record (after a write, no access check)."""
    is_inverse = relationship.person_id != person_id
    other = session.get(
        Person, relationship.person_id if is_inverse else relationship.related_person_id
    )
    if other is None:
        raise NotFound("There is no relationship with this id on this person's record.")
    return RelationshipRead(
        id=relationship.id,
        kind=relationship.kind,
        is_inverse=is_inverse,
        related_person=RelatedPerson.model_validate(other),
        has_parental_responsibility=relationship.has_parental_responsibility,
        description=relationship.description,
        start_date=relationship.start_date,
        end_date=relationship.end_date,
        is_current=_is_current(relationship.start_date, relationship.end_date, clock.today()),
        version=relationship.version,
    )


def address_view(address: Address) -> AddressRead:
    return _address_read(address, clock.today())
