"""JSON API for people: children and adults, relationships, addresses, search and duplicates."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.pagination import Page
from app.api.responses import problem_responses
from app.core_types import UPN, NHSNumber, Postcode
from app.people import queries as people_queries
from app.people import service as people_service
from app.people.schemas import (
    AddressCreate,
    AddressList,
    AddressRead,
    ChildRecord,
    DuplicateCandidate,
    DuplicateReport,
    PersonCreate,
    PersonRead,
    PersonSummary,
    PersonUpdate,
    RelationshipCreate,
    RelationshipEnd,
    RelationshipList,
    RelationshipRead,
)
from app.security.policy import role_may
from app.security.principal import Principal

router = APIRouter(tags=["people"])

Reader = Annotated[Principal, Depends(permission("person:read"))]
Writer = Annotated[Principal, Depends(permission("person:write"))]


@router.post(
    "/people",
    status_code=201,
    operation_id="person_create",
    responses=problem_responses(409),
)
def person_create(
    data: PersonCreate, session: SessionDep, principal: Writer, response: Response
) -> PersonRead:
    """Record a child or adult. A second person with the same NHS number or LA child id is
    refused (409, naming the existing record when you may see it)."""
    person = people_service.person_create(session, actor=principal, data=data)
    response.headers["ETag"] = etag(person.version)
    response.headers["Location"] = f"/api/v1/people/{person.id}"
    return PersonRead.model_validate(person)


@router.post(
    "/people/duplicates",
    operation_id="person_duplicates",
    responses=problem_responses(),
)
def person_duplicates(
    data: DuplicateCandidate, session: SessionDep, principal: Reader, request: Request
) -> DuplicateReport:
    """Likely duplicates of a person you are about to record, each with why it matched."""
    return people_queries.duplicates_find(
        session, principal=principal, candidate=data, resource=request.url.path
    )


@router.get("/people/search", operation_id="person_search", responses=problem_responses())
def person_search(
    session: SessionDep,
    principal: Reader,
    request: Request,
    name: Annotated[str | None, Query(max_length=100)] = None,
    date_of_birth: date | None = None,
    nhs_number: Annotated[NHSNumber | None, Query()] = None,
    upn: Annotated[UPN | None, Query()] = None,
    postcode: Annotated[Postcode | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Page[PersonSummary]:
    """Find people by name (prefix of a first name, surname or alias), date of birth, NHS number,
    UPN (or former UPN) or postcode (current or past). Restricted records appear only to the
    people named on them; every person returned is access-logged."""
    criteria = people_queries.SearchCriteria(
        name=name,
        date_of_birth=date_of_birth,
        nhs_number=nhs_number,
        upn=upn,
        postcode=postcode,
    )
    people, next_cursor = people_queries.person_search(
        session,
        principal=principal,
        criteria=criteria,
        cursor=cursor,
        limit=limit,
        resource=request.url.path,
    )
    return Page[PersonSummary](
        items=[PersonSummary.model_validate(p) for p in people], next_cursor=next_cursor
    )


@router.get("/people/{person_id}", operation_id="person_get", responses=problem_responses(404))
def person_get(
    person_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    request: Request,
    response: Response,
) -> PersonRead:
    """A person's details (access-logged)."""
    person = people_queries.person_get(
        session, principal=principal, person_id=person_id, resource=request.url.path
    )
    response.headers["ETag"] = etag(person.version)
    return PersonRead.model_validate(person)


@router.patch(
    "/people/{person_id}",
    operation_id="person_update",
    responses=problem_responses(404, 409, 412, 428),
)
def person_update(
    person_id: uuid.UUID,
    data: PersonUpdate,
    session: SessionDep,
    principal: Writer,
    version: IfMatch,
    request: Request,
    response: Response,
) -> PersonRead:
    """Change a person's details: send only the fields that change, with If-Match."""
    person = people_service.person_update(
        session,
        actor=principal,
        person_id=person_id,
        expected_version=version,
        data=data,
        resource=request.url.path,
    )
    response.headers["ETag"] = etag(person.version)
    return PersonRead.model_validate(person)


@router.get(
    "/children/{person_id}", operation_id="child_record_get", responses=problem_responses(404)
)
def child_record_get(
    person_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    request: Request,
    response: Response,
) -> ChildRecord:
    """The child's record: details, aliases, current address, relationships and cases."""
    may_read_cases = role_may(principal.role, "case:read") and (
        principal.scopes is None or "case:read" in principal.scopes
    )
    record, version = people_queries.child_record(
        session,
        principal=principal,
        child_id=person_id,
        resource=request.url.path,
        include_cases=may_read_cases,
    )
    response.headers["ETag"] = etag(version)
    return record


@router.post(
    "/people/{person_id}/relationships",
    status_code=201,
    operation_id="relationship_create",
    responses=problem_responses(404, 409),
)
def relationship_create(
    person_id: uuid.UUID,
    data: RelationshipCreate,
    session: SessionDep,
    principal: Writer,
    request: Request,
    response: Response,
) -> RelationshipRead:
    """Record that the related person is ``kind`` of this person (e.g. their parent)."""
    relationship = people_service.relationship_create(
        session, actor=principal, person_id=person_id, data=data, resource=request.url.path
    )
    response.headers["ETag"] = etag(relationship.version)
    return people_queries.relationship_view(session, relationship=relationship, person_id=person_id)


@router.get(
    "/people/{person_id}/relationships",
    operation_id="relationship_list",
    responses=problem_responses(404),
)
def relationship_list(
    person_id: uuid.UUID, session: SessionDep, principal: Reader, request: Request
) -> RelationshipList:
    """The person's relationships, whichever side they were recorded from."""
    items = people_queries.relationship_list(
        session, principal=principal, person_id=person_id, resource=request.url.path
    )
    return RelationshipList(items=items)


@router.post(
    "/people/{person_id}/relationships/{relationship_id}/end",
    operation_id="relationship_end",
    responses=problem_responses(404, 409, 412, 428),
)
def relationship_end(
    person_id: uuid.UUID,
    relationship_id: uuid.UUID,
    session: SessionDep,
    principal: Writer,
    version: IfMatch,
    request: Request,
    response: Response,
    data: Annotated[RelationshipEnd | None, Body()] = None,
) -> RelationshipRead:
    """End a relationship (today unless ``end_date`` is given); it stays in the history."""
    relationship = people_service.relationship_end(
        session,
        actor=principal,
        person_id=person_id,
        relationship_id=relationship_id,
        expected_version=version,
        data=data or RelationshipEnd(),
        resource=request.url.path,
    )
    response.headers["ETag"] = etag(relationship.version)
    return people_queries.relationship_view(session, relationship=relationship, person_id=person_id)


@router.post(
    "/people/{person_id}/addresses",
    status_code=201,
    operation_id="address_create",
    responses=problem_responses(404),
)
def address_create(
    person_id: uuid.UUID,
    data: AddressCreate,
    session: SessionDep,
    principal: Writer,
    request: Request,
    response: Response,
) -> AddressRead:
    """Add an address; a new current address ends the previous one the day before it starts."""
    address = people_service.address_add(
        session, actor=principal, person_id=person_id, data=data, resource=request.url.path
    )
    response.headers["ETag"] = etag(address.version)
    return people_queries.address_view(address)


@router.get(
    "/people/{person_id}/addresses",
    operation_id="address_list",
    responses=problem_responses(404),
)
def address_list(
    person_id: uuid.UUID, session: SessionDep, principal: Reader, request: Request
) -> AddressList:
    """Every address the person has had, the most recent first (access-logged)."""
    items = people_queries.address_list(
        session, principal=principal, person_id=person_id, resource=request.url.path
    )
    return AddressList(items=items)
