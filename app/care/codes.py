"""SSDA903 code sets for children in care: legal status, placement, provider, episode reasons.

Values are the exact codes of the SSDA903 return (``shared/domain/returns.md``; the DfE validator's
rules 143-149, 178 and 1009 hold the current lists for 2025-26). Labels are the words people read.
A worker chooses a legal status and a placement; Casework derives the episode codes (RNE, REC)
itself (:mod:`app.care.episodes`), so those two code sets never appear on a form.
"""

from __future__ import annotations

from app.core_types import CodeSet, _labels


class LegalStatus(CodeSet):
    """SSDA903 ``LS`` (validator rule 144)."""

    INTERIM_CARE_ORDER = "C1"
    FULL_CARE_ORDER = "C2"
    FREEING_ORDER = "D1"
    PLACEMENT_ORDER = "E1"
    SECTION_20 = "V2"
    SHORT_BREAK_SINGLE = "V3"
    SHORT_BREAK_SERIES = "V4"
    REMAND = "J1"
    PACE = "J2"
    YOUTH_REHABILITATION_ORDER = "J3"
    POLICE_PROTECTION = "L1"
    EMERGENCY_PROTECTION_ORDER = "L2"
    CHILD_ASSESSMENT_ORDER = "L3"


_labels(
    LegalStatus,
    {
        "C1": "Interim care order",
        "C2": "Full care order",
        "D1": "Freeing order granted",
        "E1": "Placement order granted",
        "V2": "Single period of accommodation under section 20 (Children Act 1989)",
        "V3": "Accommodated under an agreed series of short-term breaks, when individual episodes "
        "of care are recorded",
        "V4": "Accommodated under an agreed series of short-term breaks, when agreements are "
        "recorded (not individual episodes of care)",
        "J1": "Remanded to local authority accommodation or to youth detention accommodation",
        "J2": "Placed in local authority accommodation under the Police and Criminal Evidence Act "
        "1984, including secure accommodation",
        "J3": "Sentenced to a youth rehabilitation order with residence or intensive fostering "
        "requirement",
        "L1": "Under police protection and in local authority accommodation",
        "L2": "Emergency protection order (EPO)",
        "L3": "Under a child assessment order and in local authority accommodation",
    },
)

#: Short breaks (V3/V4): a child on an agreed series of short breaks is looked after only during
#: each break, and several validator rules treat these episodes apart (e.g. 118, 165).
SHORT_BREAKS = frozenset({LegalStatus.SHORT_BREAK_SINGLE, LegalStatus.SHORT_BREAK_SERIES})
#: Emergency statuses: police protection (72 hours) and an EPO (up to 8 days, extendable by 7).
EMERGENCY = frozenset({LegalStatus.POLICE_PROTECTION, LegalStatus.EMERGENCY_PROTECTION_ORDER})


class PlacementType(CodeSet):
    """SSDA903 ``PLACE`` for 2025-26 onwards (validator rule 146)."""

    A3 = "A3"
    A4 = "A4"
    A5 = "A5"
    A6 = "A6"
    K1 = "K1"
    K2 = "K2"
    K3 = "K3"
    P1 = "P1"
    P3 = "P3"
    R1 = "R1"
    R2 = "R2"
    R3 = "R3"
    R5 = "R5"
    S1 = "S1"
    T0 = "T0"
    T1 = "T1"
    T2 = "T2"
    T3 = "T3"
    T4 = "T4"
    U1 = "U1"
    U2 = "U2"
    U3 = "U3"
    U4 = "U4"
    U5 = "U5"
    U6 = "U6"
    Z11 = "Z11"
    Z12 = "Z12"
    Z13 = "Z13"
    Z14 = "Z14"


_labels(
    PlacementType,
    {
        "A3": "Placed for adoption with consent, with current foster carer(s)",
        "A4": "Placed for adoption with consent, not with current foster carer(s)",
        "A5": "Placed for adoption with a placement order, with current foster carer(s)",
        "A6": "Placed for adoption with a placement order, not with current foster carer(s)",
        "K1": "Secure children's home",
        "K2": "Children's home subject to the Children's Homes Regulations",
        "K3": "Supported accommodation",
        "P1": "Placed with own parent(s) or other person(s) with parental responsibility",
        "P3": "Residential employment",
        "R1": "Residential care home",
        "R2": "NHS, health trust or other establishment providing medical or nursing care",
        "R3": "Family centre or mother and baby unit",
        "R5": "Young offender institution or prison",
        "S1": "Residential school (not dual-registered as a children's home)",
        "T0": "Temporary move (all types)",
        "T1": "Temporary period in hospital",
        "T2": "Temporary absence on holiday",
        "T3": "Temporary accommodation while the usual foster carer(s) are on holiday",
        "T4": "Temporary accommodation of seven days or less, for any other reason",
        "U1": "Foster placement with relative(s) or friend(s): long-term fostering",
        "U2": "Foster placement with relative(s) or friend(s) who are approved adopters: "
        "fostering for adoption or concurrent planning",
        "U3": "Foster placement with relative(s) or friend(s): not long-term, fostering for "
        "adoption or concurrent planning",
        "U4": "Foster placement with other foster carer(s): long-term fostering",
        "U5": "Foster placement with other foster carer(s) who are approved adopters: fostering "
        "for adoption or concurrent planning",
        "U6": "Foster placement with other foster carer(s): not long-term, fostering for adoption "
        "or concurrent planning",
        "Z11": "Other placement (Z11, as listed in the SSDA903 guidance for the year)",
        "Z12": "Other placement (Z12, as listed in the SSDA903 guidance for the year)",
        "Z13": "Other placement (Z13, as listed in the SSDA903 guidance for the year)",
        "Z14": "Other placement (Z14, as listed in the SSDA903 guidance for the year)",
    },
)

_P = PlacementType
TEMPORARY_PLACEMENTS = frozenset({_P.T0, _P.T1, _P.T2, _P.T3, _P.T4})
FOSTER_PLACEMENTS = frozenset({_P.U1, _P.U2, _P.U3, _P.U4, _P.U5, _P.U6})
LONG_TERM_FOSTER_PLACEMENTS = frozenset({_P.U1, _P.U4})
ADOPTION_PLACEMENTS = frozenset({_P.A3, _P.A4, _P.A5, _P.A6})
#: Placements that have no provider (validator rule 178: PLACE_PROVIDER blank for these).
NO_PROVIDER_PLACEMENTS = TEMPORARY_PLACEMENTS - {_P.T4} | frozenset(
    {_P.Z11, _P.Z12, _P.Z13, _P.Z14}
)


class PlacementProvider(CodeSet):
    """SSDA903 ``PLACE_PROVIDER`` (validator rule 178)."""

    PR0 = "PR0"
    PR1 = "PR1"
    PR2 = "PR2"
    PR3 = "PR3"
    PR4 = "PR4"
    PR5 = "PR5"


_labels(
    PlacementProvider,
    {
        "PR0": "Parent(s) or other person(s) with parental responsibility",
        "PR1": "Own provision (by the council)",
        "PR2": "Other local authority provision",
        "PR3": "Other public sector provision (e.g. by a PCT)",
        "PR4": "Private provision",
        "PR5": "Voluntary or third sector provision",
    },
)


class ReasonNewEpisode(CodeSet):
    """SSDA903 ``RNE`` (validator rule 143): derived, never typed."""

    STARTED = "S"
    LEGAL_STATUS = "L"
    PLACEMENT = "P"
    PLACEMENT_SAME_CARER = "T"
    BOTH = "U"
    BOTH_SAME_CARER = "B"


_labels(
    ReasonNewEpisode,
    {
        "S": "Started to be looked after",
        "L": "Change of legal status only",
        "P": "Change of placement and carer(s) only",
        "T": "Change of placement (but same carer(s)) only",
        "U": "Change of legal status and placement and carer(s) at the same time",
        "B": "Change of legal status and change of placement (but same carer(s)) at the same time",
    },
)


class ReasonEpisodeCeased(CodeSet):
    """SSDA903 ``REC`` (validator rule 149). X1 is derived; the E-codes are why care ceased."""

    ADOPTED_UNOPPOSED = "E11"
    ADOPTED_CONSENT_DISPENSED = "E12"
    DIED = "E2"
    OTHER_LA_TOOK_OVER = "E3"
    RETURNED_HOME_PLANNED = "E4A"
    RETURNED_HOME_UNPLANNED = "E4B"
    LIVING_WITH_PARENTS_NO_PR = "E13"
    CHILD_ARRANGEMENTS_ORDER = "E41"
    SGO_FOSTER_CARER_RELATIVE = "E45"
    SGO_FOSTER_CARER_OTHER = "E46"
    SGO_CARER_RELATIVE = "E47"
    SGO_CARER_OTHER = "E48"
    INDEPENDENT_SUPPORTED = "E5"
    INDEPENDENT_UNSUPPORTED = "E6"
    ADULT_SOCIAL_CARE = "E7"
    OTHER = "E8"
    CUSTODY = "E9"
    REMAND_ENDED = "E14"
    AGE_ASSESSED_ADULT = "E15"
    MOVED_ABROAD = "E16"
    STAYING_PUT = "E17"
    NEW_EPISODE = "X1"


_labels(
    ReasonEpisodeCeased,
    {
        "E11": "Adopted: application for an adoption order unopposed",
        "E12": "Adopted: consent dispensed with by the court",
        "E2": "Died",
        "E3": "Care taken over by another local authority in the UK",
        "E4A": "Returned home to live with parent(s), relative(s) or other person(s) with parental "
        "responsibility, as part of the care planning process",
        "E4B": "Returned home to live with parent(s), relative(s) or other person(s) with parental "
        "responsibility, not as part of the care planning process",
        "E13": "Left care to live with parent(s), relative(s) or other person(s) with no parental "
        "responsibility",
        "E41": "Child arrangements order granted",
        "E45": "Special guardianship order to former foster carer(s) who are relative(s) or "
        "friend(s)",
        "E46": "Special guardianship order to former foster carer(s) other than relative(s) or "
        "friend(s)",
        "E47": "Special guardianship order to carer(s), other than former foster carer(s), who are "
        "relative(s) or friend(s)",
        "E48": "Special guardianship order to carer(s) other than former foster carer(s) or "
        "relative(s) or friend(s)",
        "E5": "Moved into independent living with formalised advice and support",
        "E6": "Moved into independent living without formalised advice and support",
        "E7": "Transferred to residential care funded by adult social care",
        "E8": "Period of being looked after ceased for any other reason",
        "E9": "Sentenced to custody",
        "E14": "Accommodation on remand ended",
        "E15": "Age assessment determined the child is 18 or over (and E5, E6, E7 do not apply)",
        "E16": "Child moved abroad",
        "E17": "Aged 18 or over and remained with current carers (including staying put)",
        "X1": "Episode ceases and a new episode begins on the same day",
    },
)

_E = ReasonEpisodeCeased
#: Why care can cease: every REC code but X1, which only the episode derivation writes.
CEASING_REASONS = frozenset(_E) - {_E.NEW_EPISODE}
ADOPTED = frozenset({_E.ADOPTED_UNOPPOSED, _E.ADOPTED_CONSENT_DISPENSED})
SPECIAL_GUARDIANSHIP = frozenset(
    {
        _E.SGO_FOSTER_CARER_RELATIVE,
        _E.SGO_FOSTER_CARER_OTHER,
        _E.SGO_CARER_RELATIVE,
        _E.SGO_CARER_OTHER,
    }
)


class ReasonPlaceChange(CodeSet):
    """SSDA903 ``REASON_PLACE_CHANGE`` (validator rule 1009): why a placement ended."""

    CARPL = "CARPL"
    CLOSE = "CLOSE"
    ALLEG = "ALLEG"
    STAND = "STAND"
    APPRR = "APPRR"
    CREQB = "CREQB"
    CREQO = "CREQO"
    CHILD = "CHILD"
    LAREQ = "LAREQ"
    PLACE = "PLACE"
    CUSTOD = "CUSTOD"
    OTHER = "OTHER"


_labels(
    ReasonPlaceChange,
    {
        "CARPL": "Change to, or implementation of, the care plan",
        "CLOSE": "Resignation or closure of the provision",
        "ALLEG": "Allegation (s47)",
        "STAND": "Standards of care concern",
        "APPRR": "Approval removed",
        "CREQB": "Carer requests placement end due to the child's behaviour",
        "CREQO": "Carer requests placement end for another reason",
        "CHILD": "Child requests placement end",
        "LAREQ": "Responsible or area authority requests placement end",
        "PLACE": "Change in the status of the placement only",
        "CUSTOD": "Custody arrangement",
        "OTHER": "Other",
    },
)

# --- groupings added with the placement and episode rules (issue 4, parts 1-2) ----------------

#: Placements recorded with no provider in 2025-26: validator rule 213 refuses a provider for
#: T0-T4 and Z11-Z14 (rule 526 asks for one everywhere else). Rule 178 alone would allow one for
#: T4; 213 is the stricter of the two, so T4 has none either.
PROVIDER_NOT_RECORDED = TEMPORARY_PLACEMENTS | frozenset({_P.Z11, _P.Z12, _P.Z13, _P.Z14})
#: Placements that never have an Ofsted URN (validator rule 222, 2025-26); every other placement in
#: England needs one (rule 218), the regional adoption agencies' ``XXXXXXX`` included.
NO_URN_PLACEMENTS = TEMPORARY_PLACEMENTS | frozenset(
    {_P.P1, _P.P3, _P.R1, _P.R2, _P.R5, _P.Z11, _P.Z12, _P.Z13, _P.Z14}
)
#: The URN of a regional adoption agency, allowed only for adoption and foster placements (242).
REGIONAL_ADOPTION_AGENCY_URN = "XXXXXXX"
URN_XXXXXXX_PLACEMENTS = ADOPTION_PLACEMENTS | FOSTER_PLACEMENTS
#: Placement LA codes for placements outside England (rule 218 asks no URN of them).
OUTSIDE_ENGLAND_LA_CODES = frozenset({"CON", "NIR", "SCO", "WAL", "NUK"})
#: Placements exempt from rule 1015 (own provision placed outside the council's area).
OWN_PROVISION_ANYWHERE = ADOPTION_PLACEMENTS | FOSTER_PLACEMENTS | frozenset({_P.K3})
#: Youngest age (years, at the start of the episode) for a placement type: validator rules 371
#: (K3, 16), 372 (R5, 10), 373 (S1, 4), 374 (P3, 14).
PLACEMENT_MINIMUM_AGE: dict[PlacementType, tuple[int, str]] = {
    _P.K3: (16, "371"),
    _P.R5: (10, "372"),
    _P.S1: (4, "373"),
    _P.P3: (14, "374"),
}
#: Provider codes a placement type cannot have: rules 527 (PR1), 528 (PR2), 529 (PR3), 530 (PR4),
#: 531 (PR5); and 550 (PR0 only with P1) is checked apart.
_L = LegalStatus
_PR = PlacementProvider
PROVIDER_REFUSED: dict[PlacementProvider, tuple[frozenset[PlacementType], str]] = {
    _PR.PR1: (frozenset({_P.P1, _P.R2, _P.R5}), "527"),
    _PR.PR2: (frozenset({_P.P1, _P.R2, _P.R5}), "528"),
    _PR.PR3: (
        frozenset({_P.P1, _P.K1, _P.K2}) | ADOPTION_PLACEMENTS | FOSTER_PLACEMENTS,
        "529",
    ),
    _PR.PR4: (frozenset({_P.P1}), "530"),
    _PR.PR5: (frozenset({_P.P1}), "531"),
}
#: Legal statuses of remand, PACE and youth rehabilitation: not for a child under 10 (rule 358).
YOUTH_JUSTICE = frozenset({_L.REMAND, _L.PACE, _L.YOUTH_REHABILITATION_ORDER})
#: Ceasing reasons by which no later period of care can follow (rule 437: died, age assessed).
FINAL_CEASING_REASONS = frozenset({_E.DIED, _E.AGE_ASSESSED_ADULT})
