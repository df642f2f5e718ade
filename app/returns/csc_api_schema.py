"""Our model of the DfE children's social care data API payload (the nightly child-level feed).

The DfE publishes no JSON schema for the feed in the ``data-to-insight/dfe-csc-api-data-flows``
repository: it documents the structure in ``docs/json_payload_structure.md`` (DfE specification
v0.7/v0.8, fields numbered 1-55 in its payload builders) and checks the v0.9 constraints in
``pre_flight_checks/ssd_vw_csc_api_schema_checks.sql``. This module is our own pydantic model of
that specification, with those constraints:

- identifiers (``la_child_id``, ``mis_child_id`` and every ``*_id``) match ``^[A-Za-z0-9_-]*$``
  and are at most 36 characters; ``worker_id`` at most 12;
- dates are ``YYYY-MM-DD``; codes come from the DfE code sets the CIN census and SSDA903 use
  (referral source, closure reason, assessment factors, placement type, RNE/REC/reason for
  placement change, care leaver activity and accommodation);
- a field with no value is left out, never sent as ``null`` (the builders strip nulls);
- ``purge`` is on the child, on ``child_details``, ``health_and_wellbeing``, each episode and each
  of its records, ``adoption`` and ``care_leavers`` (never on ``care_worker_details``). A child with
  ``purge: true`` carries its two identifiers and nothing else: the DfE deletes what it holds for
  that child (``generate_deletion_payload`` in ``api_pipeline/payload.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from app.assessments.factors import AssessmentFactor
from app.care.codes import PlacementType, ReasonEpisodeCeased, ReasonNewEpisode, ReasonPlaceChange
from app.core_types import (
    Disability,
    Ethnicity,
    ReasonForClosure,
    ReferralSource,
    Sex,
    UPNUnknown,
)
from app.leavingcare.codes import Accommodation, Activity

__all__ = [
    "CscApiPayload",
    "CscApiPayloadInvalid",
    "validate_csc_api_payload",
]


def _real_date(value: str) -> str:
    date.fromisoformat(value)  # 2026-02-30 matches the pattern but is no day
    return value


#: A date as the feed writes it (``YYYY-MM-DD``), kept as text so the model checks the wire form.
IsoDate = Annotated[
    str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_real_date)
]
#: An identifier of the feed (v0.9 checks: pattern and length).
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$", max_length=36)]
WorkerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$", max_length=12)]
#: A UPN: 13 letters and digits (v0.9 check; the check letter is the CIN census's business).
Upn = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{13}$")]
Postcode = Annotated[str, StringConstraints(min_length=1, max_length=8)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _ends_after_start(start: str | None, end: str | None, what: str) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"The {what} ends ({end}) before it starts ({start}).")


class ChildDetails(_Block):
    """Fields 3-15: who the child is."""

    unique_pupil_number: Upn | None = None
    former_unique_pupil_number: Upn | None = None
    unique_pupil_number_unknown_reason: UPNUnknown | None = None
    first_name: Name | None = None
    surname: Name | None = None
    date_of_birth: IsoDate | None = None
    expected_date_of_birth: IsoDate | None = None
    sex: Sex
    ethnicity: Ethnicity | None = None
    disabilities: list[Disability] | None = None
    postcode: Postcode | None = None
    uasc_flag: bool = False
    uasc_end_date: IsoDate | None = None
    purge: bool = False

    @model_validator(mode="after")
    def _born_or_expected(self) -> ChildDetails:
        # CIN census 8750 and the DfE spec: a child has a birth date or, unborn, an expected one.
        if self.date_of_birth is None and self.expected_date_of_birth is None:
            raise ValueError("A child needs a date of birth or an expected date of birth.")
        return self


class SdqAssessment(_Block):
    """Fields 45-46: a strengths and difficulties questionnaire score (0-40)."""

    date: IsoDate
    score: int = Field(ge=0, le=40)


class HealthAndWellbeing(_Block):
    sdq_assessments: list[SdqAssessment] | None = None
    purge: bool = False


class CareWorker(_Block):
    """Fields 53-55: a worker allocated to the episode."""

    worker_id: WorkerId
    start_date: IsoDate
    end_date: IsoDate | None = None

    @model_validator(mode="after")
    def _order(self) -> CareWorker:
        _ends_after_start(self.start_date, self.end_date, "worker's allocation")
        return self


class ChildAndFamilyAssessment(_Block):
    """Fields 22-25."""

    child_and_family_assessment_id: Identifier
    start_date: IsoDate | None = None
    authorisation_date: IsoDate | None = None
    factors: list[AssessmentFactor] | None = None
    purge: bool = False

    @model_validator(mode="after")
    def _order(self) -> ChildAndFamilyAssessment:
        _ends_after_start(self.start_date, self.authorisation_date, "assessment")
        return self


class ChildInNeedPlan(_Block):
    """Fields 26-28."""

    child_in_need_plan_id: Identifier
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    purge: bool = False

    @model_validator(mode="after")
    def _order(self) -> ChildInNeedPlan:
        _ends_after_start(self.start_date, self.end_date, "child in need plan")
        return self


class Section47Assessment(_Block):
    """Fields 29-33."""

    section_47_assessment_id: Identifier
    start_date: IsoDate | None = None
    icpc_required_flag: bool | None = None
    icpc_date: IsoDate | None = None
    end_date: IsoDate | None = None
    purge: bool = False

    @model_validator(mode="after")
    def _order(self) -> Section47Assessment:
        _ends_after_start(self.start_date, self.end_date, "section 47 enquiry")
        if self.icpc_date is not None and self.icpc_required_flag is False:
            raise ValueError("A section 47 enquiry that needed no conference has no ICPC date.")
        return self


class ChildProtectionPlan(_Block):
    """Fields 34-36."""

    child_protection_plan_id: Identifier
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    purge: bool = False

    @model_validator(mode="after")
    def _order(self) -> ChildProtectionPlan:
        _ends_after_start(self.start_date, self.end_date, "child protection plan")
        return self


class ChildLookedAfterPlacement(_Block):
    """Fields 37-44: one SSDA903 episode (start reason = RNE, end reason = REC)."""

    child_looked_after_placement_id: Identifier
    start_date: IsoDate
    start_reason: ReasonNewEpisode
    placement_type: PlacementType
    postcode: Postcode | None = None
    end_date: IsoDate | None = None
    end_reason: ReasonEpisodeCeased | None = None
    change_reason: ReasonPlaceChange | None = None
    purge: bool = False

    @model_validator(mode="after")
    def _order(self) -> ChildLookedAfterPlacement:
        _ends_after_start(self.start_date, self.end_date, "placement")
        # SSDA903 rule 148: an episode's end date and its reason come together.
        if (self.end_date is None) != (self.end_reason is None):
            raise ValueError("A placement's end date and end reason come together.")
        return self


class Adoption(_Block):
    """Fields 47-49."""

    initial_decision_date: IsoDate | None = None
    matched_date: IsoDate | None = None
    placed_date: IsoDate | None = None
    purge: bool = False


class CareLeavers(_Block):
    """Fields 50-52: the latest contact with the care leaver."""

    contact_date: IsoDate | None = None
    activity: Activity | None = None
    accommodation: Accommodation | None = None
    purge: bool = False


class SocialCareEpisode(_Block):
    """Fields 16-21 and the episode's records: one CIN episode, referral to closure."""

    social_care_episode_id: Identifier
    referral_date: IsoDate | None = None
    referral_source: ReferralSource | None = None
    referral_no_further_action_flag: bool | None = None
    closure_date: IsoDate | None = None
    closure_reason: ReasonForClosure | None = None
    care_worker_details: list[CareWorker] | None = None
    child_and_family_assessments: list[ChildAndFamilyAssessment] | None = None
    child_in_need_plans: list[ChildInNeedPlan] | None = None
    section_47_assessments: list[Section47Assessment] | None = None
    child_protection_plans: list[ChildProtectionPlan] | None = None
    child_looked_after_placements: list[ChildLookedAfterPlacement] | None = None
    adoption: Adoption | None = None
    care_leavers: CareLeavers | None = None
    purge: bool = False

    @model_validator(mode="after")
    def _closure(self) -> SocialCareEpisode:
        # CIN census 8805/8810: a closure date needs a reason and vice versa.
        if (self.closure_date is None) != (self.closure_reason is None):
            raise ValueError("An episode's closure date and closure reason come together.")
        _ends_after_start(self.referral_date, self.closure_date, "episode")
        return self


class Child(_Block):
    """One child: either the child's (changed) record, or a purge marker carrying only the two
    identifiers and ``purge: true``."""

    la_child_id: Identifier
    mis_child_id: Identifier
    purge: bool = False
    child_details: ChildDetails | None = None
    health_and_wellbeing: HealthAndWellbeing | None = None
    social_care_episodes: list[SocialCareEpisode] | None = None

    @model_validator(mode="after")
    def _record_or_purge(self) -> Child:
        carried = [
            name
            for name in ("child_details", "health_and_wellbeing", "social_care_episodes")
            if getattr(self, name) is not None
        ]
        if self.purge and carried:
            raise ValueError(
                f"A purged child carries only its identifiers, not {', '.join(carried)}."
            )
        # child_details is one of the feed's required fields (REQUIRED_FIELDS in the pipeline).
        if not self.purge and self.child_details is None:
            raise ValueError("A child that is not purged needs its child_details.")
        ids = [e.social_care_episode_id for e in self.social_care_episodes or [] if e is not None]
        if len(ids) != len(set(ids)):
            raise ValueError("A child's social care episodes have distinct identifiers.")
        return self


class CscApiPayload(_Block):
    """The whole payload: the council's 3-digit code and its children."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    la_code: int = Field(ge=100, le=999)
    children: list[Child] = Field(alias="Children")

    @model_validator(mode="after")
    def _one_entry_per_child(self) -> CscApiPayload:
        ids = [c.la_child_id for c in self.children]
        if len(ids) != len(set(ids)):
            raise ValueError("Each child appears once in the payload (la_child_id repeated).")
        return self


class CscApiPayloadInvalid(ValueError):
    """The payload breaks the DfE specification: each problem is one sentence naming the place.

    The messages carry locations and rules, never the values (no personal data in errors)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "The CSC API payload does not meet the DfE specification: " + "; ".join(problems)
        )


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "payload"


def validate_csc_api_payload(payload: dict[str, Any]) -> CscApiPayload:
    """The payload checked against our model of the spec; raises :class:`CscApiPayloadInvalid`."""
    try:
        return CscApiPayload.model_validate(payload)
    except ValidationError as error:
        problems = [
            f"{_where(tuple(e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors(include_input=False, include_url=False)
        ]
        raise CscApiPayloadInvalid(problems) from None
