"""Creator functions for children-in-care stories: a cast with a children-in-care team and an IRO,
and a child brought into care through the real services (case → referral → period of care)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from app import clock
from app.care import service as care_service
from app.care.codes import (
    NO_URN_PLACEMENTS,
    LegalStatus,
    PlacementProvider,
    PlacementType,
    ReasonEpisodeCeased,
)
from app.care.schemas import PeriodOfCareCease, PeriodOfCareStart, PlacementIn
from app.cases import service as case_service
from app.core_types import PrimaryNeed
from app.models import Case, Person, Role, Team, TeamKind, UserAccount
from app.models.care import CareEntryRoute, PeriodOfCare
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal
from tests.factories import auth_headers, make_child, make_team, make_user


def noon(day: date) -> datetime:
    """Midday UTC on ``day``: freeze the clock here to act on that date."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def principal(db: Session, user: UserAccount) -> Principal:
    return principal_for_user(db, user, auth=AuthMethod.token)


@dataclass
class CareCast:
    """A children-in-care team (manager, social worker), another team's worker, an IRO team
    (manager, two IROs), and a child."""

    team: Team
    other_team: Team
    iro_team: Team
    manager: UserAccount
    social_worker: UserAccount
    other_social_worker: UserAccount
    iro_manager: UserAccount
    iro: UserAccount
    other_iro: UserAccount
    child: Person

    def headers(self, db: Session, user: UserAccount | None = None) -> dict[str, str]:
        return auth_headers(db, user or self.social_worker)


def make_care_cast(db: Session) -> CareCast:
    team = make_team(db, kind=TeamKind.children_in_care)
    other = make_team(db, kind=TeamKind.children_in_care)
    iro_team = make_team(db, kind=TeamKind.iro)
    return CareCast(
        team=team,
        other_team=other,
        iro_team=iro_team,
        manager=make_user(db, Role.team_manager, team=team, manager=True),
        social_worker=make_user(db, Role.social_worker, team=team),
        other_social_worker=make_user(db, Role.social_worker, team=other),
        iro_manager=make_user(db, Role.service_manager, team=iro_team, manager=True),
        iro=make_user(db, Role.iro, team=iro_team),
        other_iro=make_user(db, Role.iro, team=iro_team),
        child=make_child(db),
    )


def referred_case(
    db: Session, cast: CareCast, *, opened: date, child: Person | None = None
) -> Case:
    """A contact about the child, accepted as a referral the same day (the case in ``referral``)."""
    actor = principal(db, cast.manager)
    with clock.frozen_at(noon(opened)):
        case = case_service.case_open(
            db,
            actor=actor,
            child_id=(child or cast.child).id,
            team_id=cast.team.id,
            opened_date=opened,
            worker_id=cast.social_worker.id,
        )
        return case_service.case_transition(
            db, actor=actor, case_id=case.id, event="accept_referral", expected_version=case.version
        )


#: The Ofsted URN of the council's fostering service in these stories (SSDA903 rule 218).
FOSTERING_SERVICE_URN = "SC123456"


def foster_placement(**overrides: object) -> PlacementIn:
    """A short-term foster placement with the council's own carers (U6, PR1, with the fostering
    service's URN). With another ``placement_type``, the URN is left out when that type never has
    one (SSDA903 rule 222) unless ``ofsted_urn`` is given."""
    fields: dict[str, object] = {
        "placement_type": PlacementType.U6,
        "provider": PlacementProvider.PR1,
        "carer_name": "Mr and Mrs Carer",
        "carer_key": "carer-1",
        "home_postcode": "B1 1AA",
        "placement_postcode": "B15 2TT",
        "placement_la_code": "330",
    }
    fields.update(overrides)
    if (
        "ofsted_urn" not in overrides
        and PlacementType(str(fields["placement_type"])) not in NO_URN_PLACEMENTS
    ):
        fields["ofsted_urn"] = FOSTERING_SERVICE_URN
    return PlacementIn.model_validate(fields)


def entry_route_for(legal_status: LegalStatus) -> CareEntryRoute:
    """The way into care that starts under ``legal_status`` (the service's own table)."""
    return next(
        route
        for route in (
            CareEntryRoute.section_20,
            CareEntryRoute.emergency,
            CareEntryRoute.remand,
            CareEntryRoute.short_breaks,
            CareEntryRoute.court_order,
        )
        if legal_status in care_service.ENTRY_ROUTE_STATUSES[route]
    )


def bring_into_care(
    db: Session,
    cast: CareCast,
    *,
    on: date,
    child: Person | None = None,
    case: Case | None = None,
    legal_status: LegalStatus = LegalStatus.SECTION_20,
    entry_route: CareEntryRoute | None = None,
    placement: PlacementIn | None = None,
    category_of_need: PrimaryNeed = PrimaryNeed("N1"),
) -> PeriodOfCare:
    """The child (referred on ``on`` unless ``case`` is given) starts to be looked after on ``on``,
    through the real service, with the clock frozen that day. Without ``entry_route``, the route
    that goes with ``legal_status`` (section 20 for V2, emergency for L1/L2, ...)."""
    if entry_route is None:
        entry_route = entry_route_for(legal_status)
    if case is None:
        case = referred_case(db, cast, opened=on, child=child)
    with clock.frozen_at(noon(on)):
        return care_service.period_of_care_start(
            db,
            actor=principal(db, cast.manager),
            case_id=case.id,
            body=PeriodOfCareStart(
                start_date=on,
                entry_route=entry_route,
                legal_status=legal_status,
                category_of_need=category_of_need,
                placement=placement or foster_placement(),
            ),
        )


def cease_care(
    db: Session,
    cast: CareCast,
    period: PeriodOfCare,
    *,
    on: date,
    reason: ReasonEpisodeCeased = ReasonEpisodeCeased.RETURNED_HOME_PLANNED,
) -> PeriodOfCare:
    """Care ceases on ``on`` through the real service, as the social worker's manager records it
    that day."""
    with clock.frozen_at(noon(on)):
        return care_service.period_of_care_cease(
            db,
            actor=principal(db, cast.manager),
            period_id=period.id,
            expected_version=period.version,
            body=PeriodOfCareCease(end_date=on, reason_ceased=reason),
        )
