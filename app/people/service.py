"""Writes to people: children and adults, their relationships and addresses.

Every write records ``change_log`` in the same transaction. Reads live in ``app.people.queries``.
``actor`` is the principal making the change, or None for the system (demo data, imports): then
record-level visibility is not applied and the change log names no actor.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import clock
from app.audit.service import change_log_append, diff
from app.core_types import Disability, Sex
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.models.people import (
    Address,
    Person,
    PersonAlias,
    PersonKind,
    PersonRelationship,
    RelationshipKind,
)
from app.people.schemas import (
    AddressCreate,
    AliasIn,
    PersonCreate,
    PersonUpdate,
    RelationshipCreate,
    RelationshipEnd,
)
from app.security.access import NOT_VISIBLE, person_denied, person_visible, readable_people
from app.security.principal import Principal

# The oldest a "child" record may be: care leavers are supported up to their 25th birthday
# (Children and Social Work Act 2017 s.3), so a child record of someone older is a mistake.
MAX_CHILD_AGE = 25
# CIN rule 8606: a referral is at most 40 weeks before the expected birth, so an expected date of
# birth further ahead than that cannot be right.
MAX_WEEKS_BEFORE_BIRTH = 40

# Relationships that read the same from either side: recording one side is enough.
SYMMETRIC_KINDS = frozenset(
    {RelationshipKind.sibling, RelationshipKind.household_member, RelationshipKind.relative}
)

PERSON_FIELDS = (
    "kind",
    "first_name",
    "middle_names",
    "last_name",
    "date_of_birth",
    "expected_date_of_birth",
    "date_of_death",
    "sex",
    "gender_identity",
    "ethnicity",
    "first_language",
    "religion",
    "disabilities",
    "upn",
    "former_upn",
    "nhs_number",
    "la_child_id",
)


def age_on(date_of_birth: date, on: date) -> int:
    """Age in whole years on ``on`` (a 29 February birthday falls on 1 March in other years)."""
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - int(before_birthday)


def person_rule_errors(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Every rule the record as a whole breaks, one error per field (empty when it is valid).

    Checked on the record as it will be saved, so a partial update cannot leave it invalid.
    """
    errors: list[dict[str, Any]] = []

    def add(field: str, message: str, rule: str | None = None) -> None:
        error: dict[str, Any] = {"field": field, "message": message}
        if rule:
            error["rule"] = rule
        errors.append(error)

    today = clock.today()
    kind = PersonKind(state["kind"])
    dob: date | None = state.get("date_of_birth")
    expected: date | None = state.get("expected_date_of_birth")
    death: date | None = state.get("date_of_death")

    if dob is not None and dob > today:
        add("date_of_birth", "Date of birth cannot be in the future")
    if death is not None:
        if death > today:
            add("date_of_death", "Date of death cannot be in the future")
        elif dob is not None and death < dob:
            add("date_of_death", "Date of death cannot be before the date of birth")
    disabilities = list(state.get("disabilities") or [])
    if Disability.NONE in disabilities and len(disabilities) > 1:
        add("disabilities", "NONE (no disability) cannot be recorded together with a disability")

    if kind is PersonKind.adult:
        if expected is not None:
            add("expected_date_of_birth", "Only an unborn child has an expected date of birth")
        return errors

    if dob is None and expected is None:
        add(
            "date_of_birth",
            "A child needs a date of birth, or an expected date of birth if not yet born",
        )
    if dob is None and expected is not None:
        if Sex(state["sex"]) is not Sex.UNKNOWN:
            add("sex", "An unborn child's sex must be U (not known)", "8750")
        if expected > today + timedelta(weeks=MAX_WEEKS_BEFORE_BIRTH):
            add(
                "expected_date_of_birth",
                "An expected date of birth cannot be more than 40 weeks from today",
                "8606",
            )
    if dob is not None and dob <= today:
        age = age_on(dob, death if death is not None and death >= dob else today)
        if age > MAX_CHILD_AGE:
            add(
                "kind",
                f"This person is {age}: children's services support young people only up to "
                f"{MAX_CHILD_AGE} (care leavers), so record them as an adult",
            )
    return errors


def _raise_if_invalid(errors: list[dict[str, Any]]) -> None:
    if errors:
        fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
        raise Invalid(f"Please correct: {fields}.", errors=errors)


_UNIQUE_IDENTIFIERS = (
    ("nhs_number", "NHS number"),
    ("la_child_id", "LA child id"),
)


def check_unique_identifiers(
    session: Session,
    *,
    actor: Principal | None,
    values: dict[str, Any],
    exclude_id: uuid.UUID | None = None,
) -> None:
    """Refuse a second person with the same NHS number or LA child id (409).

    The conflict names the existing record only when the caller may see it: a restricted record's
    id is not disclosed, and the caller is told who can help instead. The unique constraints back
    this up against a concurrent insert (IntegrityError → 409).
    """
    for field, label in _UNIQUE_IDENTIFIERS:
        value = values.get(field)
        if value is None:
            continue
        column = getattr(Person, field)
        stmt = select(Person.id).where(column == value)
        if exclude_id is not None:
            stmt = stmt.where(Person.id != exclude_id)
        existing = session.scalar(stmt.limit(1))
        if existing is None:
            continue
        visible = actor is None or (
            session.scalar(select(Person.id).where(Person.id == existing, person_visible(actor)))
            is not None
        )
        if visible:
            raise Conflict(
                f"A person with this {label} is already recorded: open that record instead of "
                "creating another. Nothing was saved.",
                code="duplicate_person",
                field=field,
                existing_id=str(existing),
            )
        raise Conflict(
            f"A person with this {label} is already recorded, on a record you cannot see. "
            "Nothing was saved: please contact the team manager.",
            code="duplicate_person",
            field=field,
        )


def _aliases(session: Session, person: Person) -> list[PersonAlias]:
    """Load the person's aliases onto it (``lazy="raise"`` makes every load explicit)."""
    aliases = list(
        session.scalars(
            select(PersonAlias)
            .where(PersonAlias.person_id == person.id)
            .order_by(PersonAlias.last_name, PersonAlias.first_name, PersonAlias.id)
        )
    )
    set_committed_value(person, "aliases", aliases)
    return aliases


def load_aliases(session: Session, person: Person) -> Person:
    _aliases(session, person)
    return person


def _new_alias(alias: AliasIn) -> PersonAlias:
    return PersonAlias(
        first_name=alias.first_name,
        last_name=alias.last_name,
        search_last_name=alias.last_name.lower(),
    )


def _snapshot(person: Person, aliases: list[PersonAlias]) -> dict[str, Any]:
    state = {field: getattr(person, field) for field in PERSON_FIELDS}
    state["disabilities"] = list(person.disabilities or [])
    state["aliases"] = [{"first_name": a.first_name, "last_name": a.last_name} for a in aliases]
    return state


def person_for_change(
    session: Session, *, actor: Principal | None, person_id: uuid.UUID, resource: str
) -> Person:
    """The person to change, if the actor may see them (404 otherwise, as for reads)."""
    if actor is None:
        person = session.get(Person, person_id)
        if person is None:
            raise NotFound(NOT_VISIBLE)
        return person
    person = session.scalar(readable_people(actor).where(Person.id == person_id))
    if person is None:
        raise person_denied(session, principal=actor, person_id=person_id, resource=resource)
    return person


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and current != expected:
        raise PreconditionFailed(
            "Someone else changed this record since you loaded it (you have version "
            f"{expected}, it is now {current}); reload and try again. Nothing was saved."
        )


# --------------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------------


def person_create(session: Session, *, actor: Principal | None, data: PersonCreate) -> Person:
    """Record a child or adult after checking the DfE rules and that they are not already here."""
    state = data.model_dump(exclude={"aliases"})
    state["disabilities"] = [Disability(code).value for code in data.disabilities]
    _raise_if_invalid(person_rule_errors(state))
    check_unique_identifiers(session, actor=actor, values=state)
    person = Person(
        **state,
        search_first_name=data.first_name.lower(),
        search_last_name=data.last_name.lower(),
    )
    aliases = [_new_alias(a) for a in data.aliases]
    person.aliases = aliases
    session.add(person)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="person",
        entity_id=person.id,
        action="create",
        changes=_snapshot(person, aliases),
    )
    return person


def person_update(
    session: Session,
    *,
    actor: Principal | None,
    person_id: uuid.UUID,
    expected_version: int | None,
    data: PersonUpdate,
    resource: str,
) -> Person:
    """Change the fields sent; the change log keeps each field's before and after. A stale
    ``expected_version`` changes nothing (412)."""
    person = person_for_change(session, actor=actor, person_id=person_id, resource=resource)
    _check_version(person.version, expected_version)
    aliases = _aliases(session, person)
    before = _snapshot(person, aliases)

    sent = data.model_dump(exclude_unset=True, exclude={"aliases"})
    if "disabilities" in sent:
        sent["disabilities"] = [Disability(code).value for code in sent["disabilities"]]
    state = {**before, **sent}
    _raise_if_invalid(person_rule_errors(state))
    changed_ids = {
        field: sent[field]
        for field, _ in _UNIQUE_IDENTIFIERS
        if field in sent and sent[field] != before[field]
    }
    check_unique_identifiers(session, actor=actor, values=changed_ids, exclude_id=person.id)

    for field, value in sent.items():
        setattr(person, field, value)
    person.search_first_name = person.first_name.lower()
    person.search_last_name = person.last_name.lower()
    if data.aliases is not None:
        wanted = [{"first_name": a.first_name, "last_name": a.last_name} for a in data.aliases]
        if wanted != before["aliases"]:
            person.aliases = [_new_alias(a) for a in data.aliases]

    after = _snapshot(person, list(person.aliases))
    changes = diff(before, after)
    if changes:
        # Touch the row even when only aliases changed, so its version (the ETag) moves on.
        person.updated_at = clock.now()
        session.flush()
        change_log_append(
            session,
            actor=actor,
            entity_type="person",
            entity_id=person.id,
            action="update",
            changes=changes,
        )
    return person


# --------------------------------------------------------------------------------------------------
# Relationships
# --------------------------------------------------------------------------------------------------


def relationship_create(
    session: Session,
    *,
    actor: Principal | None,
    person_id: uuid.UUID,
    data: RelationshipCreate,
    resource: str,
) -> PersonRelationship:
    """Record that the related person is ``data.kind`` of this person. Both must be visible to the
    actor; a pr_holder always holds parental responsibility."""
    person = person_for_change(session, actor=actor, person_id=person_id, resource=resource)
    if data.related_person_id == person.id:
        raise Invalid.field("related_person_id", "A person cannot be related to themselves")
    related = person_for_change(
        session, actor=actor, person_id=data.related_person_id, resource=resource
    )
    has_pr = data.has_parental_responsibility
    if data.kind is RelationshipKind.pr_holder:
        if has_pr is False:
            raise Invalid.field(
                "has_parental_responsibility",
                "A PR holder holds parental responsibility by definition (Children Act 1989 s.3)",
            )
        has_pr = True
    if (
        data.start_date is not None
        and data.end_date is not None
        and data.end_date < data.start_date
    ):
        raise Invalid.field("end_date", "The end date cannot be before the start date")

    pairs = [
        and_(
            PersonRelationship.person_id == person.id,
            PersonRelationship.related_person_id == related.id,
        )
    ]
    if data.kind in SYMMETRIC_KINDS:
        pairs.append(
            and_(
                PersonRelationship.person_id == related.id,
                PersonRelationship.related_person_id == person.id,
            )
        )
    existing = session.scalar(
        select(PersonRelationship.id).where(
            or_(*pairs),
            PersonRelationship.kind == data.kind,
            PersonRelationship.end_date.is_(None),
        )
    )
    if existing is not None and data.end_date is None:
        raise Conflict(
            "This relationship is already recorded and has not ended.",
            code="duplicate_relationship",
            existing_id=str(existing),
        )

    relationship = PersonRelationship(
        person_id=person.id,
        related_person_id=related.id,
        kind=data.kind,
        has_parental_responsibility=bool(has_pr),
        description=data.description,
        start_date=data.start_date,
        end_date=data.end_date,
    )
    session.add(relationship)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="relationship",
        entity_id=relationship.id,
        action="create",
        changes={
            "person_id": person.id,
            "related_person_id": related.id,
            "kind": data.kind,
            "has_parental_responsibility": relationship.has_parental_responsibility,
            "description": data.description,
            "start_date": data.start_date,
            "end_date": data.end_date,
        },
    )
    return relationship


def relationship_end(
    session: Session,
    *,
    actor: Principal | None,
    person_id: uuid.UUID,
    relationship_id: uuid.UUID,
    expected_version: int | None,
    data: RelationshipEnd,
    resource: str,
) -> PersonRelationship:
    """End a current relationship (it stays in the history). Either person's record may end it."""
    person = person_for_change(session, actor=actor, person_id=person_id, resource=resource)
    relationship = session.get(PersonRelationship, relationship_id)
    if relationship is None or person.id not in (
        relationship.person_id,
        relationship.related_person_id,
    ):
        raise NotFound("There is no relationship with this id on this person's record.")
    other_id = (
        relationship.related_person_id
        if relationship.person_id == person.id
        else relationship.person_id
    )
    # A relationship with someone the actor may not see is not shown to them, so not theirs to end.
    person_for_change(session, actor=actor, person_id=other_id, resource=resource)
    _check_version(relationship.version, expected_version)
    if relationship.end_date is not None:
        raise Conflict(
            f"This relationship already ended on {relationship.end_date.isoformat()}.",
            code="already_ended",
        )
    end = data.end_date or clock.today()
    if relationship.start_date is not None and end < relationship.start_date:
        raise Invalid.field("end_date", "The end date cannot be before the start date")
    relationship.end_date = end
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="relationship",
        entity_id=relationship.id,
        action="end",
        changes={"end_date": {"before": None, "after": end}},
    )
    return relationship


# --------------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------------


def _address_fields(address: Address) -> dict[str, Any]:
    return {
        "person_id": address.person_id,
        "line_1": address.line_1,
        "line_2": address.line_2,
        "town": address.town,
        "postcode": address.postcode,
        "start_date": address.start_date,
        "end_date": address.end_date,
        "notes": address.notes,
    }


def address_add(
    session: Session,
    *,
    actor: Principal | None,
    person_id: uuid.UUID,
    data: AddressCreate,
    resource: str,
) -> Address:
    """Add an address. A new current address (no end date) ends the previous current one the day
    before it starts; addresses are never deleted, so the history stays searchable by postcode."""
    person = person_for_change(session, actor=actor, person_id=person_id, resource=resource)
    if data.end_date is not None and data.end_date < data.start_date:
        raise Invalid.field("end_date", "The end date cannot be before the start date")

    if data.end_date is None:
        open_addresses = session.scalars(
            select(Address)
            .where(Address.person_id == person.id, Address.end_date.is_(None))
            .order_by(Address.start_date)
        ).all()
        for previous in open_addresses:
            if previous.start_date >= data.start_date:
                raise Invalid.field(
                    "start_date",
                    "The current address started on "
                    f"{previous.start_date.isoformat()}: a new current address must start "
                    "after that",
                )
        for previous in open_addresses:
            previous.end_date = data.start_date - timedelta(days=1)
            change_log_append(
                session,
                actor=actor,
                entity_type="address",
                entity_id=previous.id,
                action="end",
                changes={"end_date": {"before": None, "after": previous.end_date}},
            )

    address = Address(
        person_id=person.id,
        line_1=data.line_1,
        line_2=data.line_2,
        town=data.town,
        postcode=data.postcode,
        start_date=data.start_date,
        end_date=data.end_date,
        notes=data.notes,
    )
    session.add(address)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="address",
        entity_id=address.id,
        action="create",
        changes=_address_fields(address),
    )
    return address
