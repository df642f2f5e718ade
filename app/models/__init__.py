"""THE model: one Base, one module per aggregate, all imported here so Alembic sees every table."""

from app.models import (  # noqa: F401
    assessments,
    audits,
    care,
    careplans,
    casenotes,
    cin,
    drafts,
    earlyhelp,
    frontdoor,
    health,
    idempotency,
    interventions,
    iro,
    leavingcare,
    legal,
    missing,
    outbox,
    permanence,
    protection,
    retention,
    retention_marker,
    returns,
    supervision,
    visits,
)
from app.models.audit import AccessLog, CaseEvent, ChangeLog
from app.models.base import Base
from app.models.cases import Allocation, Case
from app.models.deadlines import Deadline, DeadlineKind, DeadlineStatus
from app.models.org import Role, Team, TeamKind, TeamMembership, UserAccount
from app.models.people import (
    Address,
    Person,
    PersonAlias,
    PersonKind,
    PersonRelationship,
    RelationshipKind,
)
from app.models.security import ApiToken, RestrictedAccessGrant, UserSession

__all__ = [
    "AccessLog",
    "Address",
    "Allocation",
    "ApiToken",
    "Base",
    "Case",
    "CaseEvent",
    "ChangeLog",
    "Deadline",
    "DeadlineKind",
    "DeadlineStatus",
    "Person",
    "PersonAlias",
    "PersonKind",
    "PersonRelationship",
    "RelationshipKind",
    "RestrictedAccessGrant",
    "Role",
    "Team",
    "TeamKind",
    "TeamMembership",
    "UserAccount",
    "UserSession",
]
