"""Constrained types and DfE code sets shared by every schema.

Each identifier type is an ``Annotated[str, ...]`` alias: a ``BeforeValidator`` tidies what people
type (case, spaces) and an ``AfterValidator`` enforces the rule the DfE (or the NHS) applies to the
same field, so a return built from Casework data passes the DfE validators by construction. The
rule is also exposed as plain functions (``validate_*`` raise, ``is_valid_*`` answer yes or no) for
code outside pydantic: imports, the returns builder, tests.

Validators raise ``PydanticCustomError`` (a ``ValueError``) so that the 422 response and the GOV.UK
error summary show the sentence itself, with a stable error ``type``, not "Value error, ...".

Code sets are ``StrEnum``s whose values are the exact codes sent in the CIN census and SSDA903
returns; ``label`` gives the words shown to people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Final, TypeAlias

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

__all__ = [
    "ENGLISH_LA_CODES",
    "ENGLISH_LA_NAMES",
    "LA_CHILD_ID_MAX_LENGTH",
    "NHS_NUMBER_WEIGHTS",
    "UPN",
    "UPN_CHECK_LETTERS",
    "UPN_LA_CODES",
    "UPN_WEIGHTS",
    "CategoryOfAbuse",
    "CodeSet",
    "Disability",
    "Ethnicity",
    "LAChildID",
    "NHSNumber",
    "Postcode",
    "PrimaryNeed",
    "ReasonForClosure",
    "ReferralSource",
    "SWENumber",
    "Sex",
    "UPNUnknown",
    "is_valid_la_child_id",
    "is_valid_nhs_number",
    "is_valid_swe_number",
    "is_valid_uk_postcode",
    "is_valid_upn",
    "nhs_check_digit",
    "normalise_nhs_number",
    "normalise_postcode",
    "normalise_upn",
    "upn_check_letter",
    "validate_la_child_id",
    "validate_nhs_number",
    "validate_postcode",
    "validate_swe_number",
    "validate_upn",
]


def blank_to_none(value: object) -> object:
    """A form's empty box means "not recorded", not an empty string in the record."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _upper_stripped(value: object) -> object:
    # Only tidy strings: anything else falls through to pydantic's own "should be a string" error.
    return value.strip().upper() if isinstance(value, str) else value


def _without_whitespace(value: str) -> str:
    return "".join(value.split())


# --------------------------------------------------------------------------------------------------
# Local authority codes
# --------------------------------------------------------------------------------------------------

# The DfE's three-digit LA numbers of the 153 English local authorities with children's services
# responsibilities, as of April 2023 (Cumbria split into Cumberland and Westmorland and Furness).
# Names follow the DfE's usage; the codes are what the returns carry (e.g. <LEA>330</LEA>).
ENGLISH_LA_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        # Inner London
        "201": "City of London",
        "202": "Camden",
        "203": "Greenwich",
        "204": "Hackney",
        "205": "Hammersmith and Fulham",
        "206": "Islington",
        "207": "Kensington and Chelsea",
        "208": "Lambeth",
        "209": "Lewisham",
        "210": "Southwark",
        "211": "Tower Hamlets",
        "212": "Wandsworth",
        "213": "Westminster",
        # Outer London
        "301": "Barking and Dagenham",
        "302": "Barnet",
        "303": "Bexley",
        "304": "Brent",
        "305": "Bromley",
        "306": "Croydon",
        "307": "Ealing",
        "308": "Enfield",
        "309": "Haringey",
        "310": "Harrow",
        "311": "Havering",
        "312": "Hillingdon",
        "313": "Hounslow",
        "314": "Kingston upon Thames",
        "315": "Merton",
        "316": "Newham",
        "317": "Redbridge",
        "318": "Richmond upon Thames",
        "319": "Sutton",
        "320": "Waltham Forest",
        # Metropolitan boroughs
        "330": "Birmingham",
        "331": "Coventry",
        "332": "Dudley",
        "333": "Sandwell",
        "334": "Solihull",
        "335": "Walsall",
        "336": "Wolverhampton",
        "340": "Knowsley",
        "341": "Liverpool",
        "342": "St Helens",
        "343": "Sefton",
        "344": "Wirral",
        "350": "Bolton",
        "351": "Bury",
        "352": "Manchester",
        "353": "Oldham",
        "354": "Rochdale",
        "355": "Salford",
        "356": "Stockport",
        "357": "Tameside",
        "358": "Trafford",
        "359": "Wigan",
        "370": "Barnsley",
        "371": "Doncaster",
        "372": "Rotherham",
        "373": "Sheffield",
        "380": "Bradford",
        "381": "Calderdale",
        "382": "Kirklees",
        "383": "Leeds",
        "384": "Wakefield",
        "390": "Gateshead",
        "391": "Newcastle upon Tyne",
        "392": "North Tyneside",
        "393": "South Tyneside",
        "394": "Sunderland",
        "420": "Isles of Scilly",
        # Counties and unitary authorities
        "800": "Bath and North East Somerset",
        "801": "Bristol, City of",
        "802": "North Somerset",
        "803": "South Gloucestershire",
        "805": "Hartlepool",
        "806": "Middlesbrough",
        "807": "Redcar and Cleveland",
        "808": "Stockton-on-Tees",
        "810": "Kingston upon Hull, City of",
        "811": "East Riding of Yorkshire",
        "812": "North East Lincolnshire",
        "813": "North Lincolnshire",
        "815": "North Yorkshire",
        "816": "York",
        "821": "Luton",
        "822": "Bedford",
        "823": "Central Bedfordshire",
        "825": "Buckinghamshire",
        "826": "Milton Keynes",
        "830": "Derbyshire",
        "831": "Derby",
        "838": "Dorset",
        "839": "Bournemouth, Christchurch and Poole",
        "840": "County Durham",
        "841": "Darlington",
        "845": "East Sussex",
        "846": "Brighton and Hove",
        "850": "Hampshire",
        "851": "Portsmouth",
        "852": "Southampton",
        "855": "Leicestershire",
        "856": "Leicester",
        "857": "Rutland",
        "860": "Staffordshire",
        "861": "Stoke-on-Trent",
        "865": "Wiltshire",
        "866": "Swindon",
        "867": "Bracknell Forest",
        "868": "Windsor and Maidenhead",
        "869": "West Berkshire",
        "870": "Reading",
        "871": "Slough",
        "872": "Wokingham",
        "873": "Cambridgeshire",
        "874": "Peterborough",
        "876": "Halton",
        "877": "Warrington",
        "878": "Devon",
        "879": "Plymouth",
        "880": "Torbay",
        "881": "Essex",
        "882": "Southend-on-Sea",
        "883": "Thurrock",
        "884": "Herefordshire",
        "885": "Worcestershire",
        "886": "Kent",
        "887": "Medway",
        "888": "Lancashire",
        "889": "Blackburn with Darwen",
        "890": "Blackpool",
        "891": "Nottinghamshire",
        "892": "Nottingham",
        "893": "Shropshire",
        "894": "Telford and Wrekin",
        "895": "Cheshire East",
        "896": "Cheshire West and Chester",
        "908": "Cornwall",
        "916": "Gloucestershire",
        "919": "Hertfordshire",
        "921": "Isle of Wight",
        "925": "Lincolnshire",
        "926": "Norfolk",
        "929": "Northumberland",
        "931": "Oxfordshire",
        "933": "Somerset",
        "935": "Suffolk",
        "936": "Surrey",
        "937": "Warwickshire",
        "938": "West Sussex",
        "940": "North Northamptonshire",
        "941": "West Northamptonshire",
        "942": "Cumberland",
        "943": "Westmorland and Furness",
    }
)
ENGLISH_LA_CODES: Final[frozenset[str]] = frozenset(ENGLISH_LA_NAMES)

# A UPN keeps the LA number of the authority that issued it for life, so the UPN check must also
# accept authorities since abolished, and the DfE's rule 1530 accepts Welsh LAs and "pseudo LA"
# codes too. Rejecting them would stop a worker recording a child's genuine UPN.
_FORMER_ENGLISH_LA_CODES: Final = frozenset(
    {
        "820",  # Bedfordshire, to 2009
        "835",  # Dorset, to 2019 (now 838)
        "836",  # Poole, to 2019 (now 839)
        "837",  # Bournemouth, to 2019 (now 839)
        "875",  # Cheshire, to 2009
        "909",  # Cumbria, to 2023
        "928",  # Northamptonshire, to 2021
    }
)
_WELSH_LA_CODES: Final = frozenset(str(code) for code in range(660, 682))
_PSEUDO_LA_CODES: Final = frozenset(f"{code:03d}" for code in (*range(1, 6), *range(701, 709)))

# The LA codes DfE rule 1530 accepts in characters 2-4 of a UPN (2023-24 ruleset onwards).
UPN_LA_CODES: Final[frozenset[str]] = (
    ENGLISH_LA_CODES | _FORMER_ENGLISH_LA_CODES | _WELSH_LA_CODES | _PSEUDO_LA_CODES
)


# --------------------------------------------------------------------------------------------------
# Unique Pupil Number
# --------------------------------------------------------------------------------------------------

# DfE UPN guide, "The national UPN formula": characters are numbered 1-13 with the check letter as
# character 1; character n (n = 2..13) is weighted n, the weighted sum is taken modulo 23 and the
# remainder indexes this alphabet (I, O and S are never used). Cross-checked against the Data to
# Insight implementation of CIN rule 1510.
UPN_CHECK_LETTERS: Final = "ABCDEFGHJKLMNPQRTUVWXYZ"
UPN_WEIGHTS: Final[tuple[int, ...]] = tuple(range(2, 14))

_TWELVE_DIGITS = re.compile(r"[0-9]{12}")
_UPN_SHAPE = re.compile(r"[A-Z][0-9]{12}")
_TEMPORARY_UPN_SHAPE = re.compile(r"[A-Z][0-9]{11}[A-Z]")


def upn_check_letter(twelve_digits: str) -> str:
    """The check letter that goes in front of these 12 digits to make a permanent UPN."""
    if not _TWELVE_DIGITS.fullmatch(twelve_digits):
        raise ValueError("a UPN check letter is computed from exactly 12 digits")
    total = sum(
        int(digit) * weight for digit, weight in zip(twelve_digits, UPN_WEIGHTS, strict=True)
    )
    return UPN_CHECK_LETTERS[total % 23]


def normalise_upn(value: str) -> str:
    return value.strip().upper()


def validate_upn(value: str) -> str:
    """Return the UPN in canonical form, or raise naming the DfE rule it breaks."""
    upn = normalise_upn(value)
    if _TEMPORARY_UPN_SHAPE.fullmatch(upn):
        # Temporary UPNs are placeholders a school uses while it traces the permanent one; the
        # record should hold the permanent UPN or a UPN-unknown reason instead.
        raise PydanticCustomError(
            "upn_temporary",
            "A temporary UPN (ending in a letter) cannot be recorded: enter the permanent UPN, "
            "or a reason it is not known (UN1 to UN7)",
        )
    if not _UPN_SHAPE.fullmatch(upn):
        raise PydanticCustomError(
            "upn_format", "A UPN must be a letter followed by 12 digits, 13 characters in all"
        )
    la_code = upn[1:4]
    if la_code not in UPN_LA_CODES:
        raise PydanticCustomError(
            "upn_la_code",
            "UPN characters 2 to 4 ({la_code}) are not a recognised LA code (DfE rule 1530)",
            {"la_code": la_code},
        )
    expected = upn_check_letter(upn[1:])
    if upn[0] != expected:
        raise PydanticCustomError(
            "upn_check_letter",
            "UPN check letter should be {expected}, not {actual} (DfE rule 1510)",
            {"expected": expected, "actual": upn[0]},
        )
    return upn


def is_valid_upn(value: str) -> bool:
    try:
        validate_upn(value)
    except ValueError:
        return False
    return True


UPN: TypeAlias = Annotated[
    str,
    BeforeValidator(_upper_stripped),
    AfterValidator(validate_upn),
    Field(
        description="Unique Pupil Number: a check letter and 12 digits (DfE rules 1510, 1530)",
        examples=["Q330400024001"],
    ),
]


# --------------------------------------------------------------------------------------------------
# NHS number
# --------------------------------------------------------------------------------------------------

NHS_NUMBER_WEIGHTS: Final[tuple[int, ...]] = tuple(range(10, 1, -1))

_NINE_DIGITS = re.compile(r"[0-9]{9}")
_TEN_DIGITS = re.compile(r"[0-9]{10}")


def nhs_check_digit(nine: str) -> int | None:
    """The modulus 11 check digit for these nine digits, or None if no NHS number can end them.

    Weights 10 down to 2; check = 11 - (sum mod 11), where 11 means 0 and 10 means the nine
    digits are never issued as an NHS number.
    """
    if not _NINE_DIGITS.fullmatch(nine):
        raise ValueError("an NHS number check digit is computed from exactly 9 digits")
    total = sum(int(digit) * weight for digit, weight in zip(nine, NHS_NUMBER_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(value: str) -> str:
    # People write NHS numbers as 3 3 4 ("943 476 5919"); the stored form has no spaces.
    return _without_whitespace(value)


def validate_nhs_number(value: str) -> str:
    """Return the NHS number as 10 digits, or raise naming the modulus 11 rule it breaks."""
    number = normalise_nhs_number(value)
    if not _TEN_DIGITS.fullmatch(number):
        raise PydanticCustomError("nhs_number_format", "An NHS number must be 10 digits")
    expected = nhs_check_digit(number[:9])
    if expected is None:
        raise PydanticCustomError(
            "nhs_number_check_digit",
            "This is not a valid NHS number: its first 9 digits give a modulus 11 check of 10, "
            "which is never issued",
        )
    if int(number[9]) != expected:
        raise PydanticCustomError(
            "nhs_number_check_digit",
            "NHS number check digit should be {expected}, not {actual} (modulus 11)",
            {"expected": expected, "actual": int(number[9])},
        )
    return number


def is_valid_nhs_number(value: str) -> bool:
    try:
        validate_nhs_number(value)
    except ValueError:
        return False
    return True


def _nhs_number_input(value: object) -> object:
    return normalise_nhs_number(value) if isinstance(value, str) else value


NHSNumber: TypeAlias = Annotated[
    str,
    BeforeValidator(_nhs_number_input),
    AfterValidator(validate_nhs_number),
    Field(description="NHS number: 10 digits, modulus 11 check digit", examples=["9434765919"]),
]


# --------------------------------------------------------------------------------------------------
# Postcode
# --------------------------------------------------------------------------------------------------

# The standard UK postcode pattern (BS 7666 style), checked after normalising to "OUTWARD INWARD".
# Letters are restricted by position: not Q, V, X first; not I, J, Z second; the A9A and AA9A
# suffix letters are from fixed sets; the inward code never uses C, I, K, M, O or V.
_POSTCODE = re.compile(
    r"""
    GIR\ 0AA
    |
    (?:
        [A-PR-UWYZ][0-9]{1,2}                   # A9, A99
      | [A-PR-UWYZ][A-HK-Y][0-9]{1,2}           # AA9, AA99
      | [A-PR-UWYZ][0-9][A-HJKPSTUW]            # A9A
      | [A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]  # AA9A
    )
    \ [0-9][ABD-HJLNP-UW-Z]{2}
    """,
    re.VERBOSE,
)


def normalise_postcode(value: str) -> str:
    """Upper case with one space before the inward code: "b11aa" becomes "B1 1AA"."""
    compact = _without_whitespace(value).upper()
    if len(compact) <= 3:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def validate_postcode(value: str) -> str:
    postcode = normalise_postcode(value)
    if not _POSTCODE.fullmatch(postcode):
        raise PydanticCustomError(
            "postcode_format", "Postcode must be a full UK postcode, like B1 1AA"
        )
    return postcode


def is_valid_uk_postcode(value: str) -> bool:
    try:
        validate_postcode(value)
    except ValueError:
        return False
    return True


def _postcode_input(value: object) -> object:
    return normalise_postcode(value) if isinstance(value, str) else value


Postcode: TypeAlias = Annotated[
    str,
    BeforeValidator(_postcode_input),
    AfterValidator(validate_postcode),
    Field(description="UK postcode, upper case with one space", examples=["B1 1AA"]),
]


# --------------------------------------------------------------------------------------------------
# LA child ID
# --------------------------------------------------------------------------------------------------

LA_CHILD_ID_MAX_LENGTH: Final = 20


def validate_la_child_id(value: str) -> str:
    """The council's own child identifier, sent as LAchildID (CIN) and CHILD (SSDA903)."""
    if not value:
        raise PydanticCustomError("la_child_id_missing", "LA child ID is missing (DfE rule 8500)")
    if len(value) > LA_CHILD_ID_MAX_LENGTH:
        raise PydanticCustomError(
            "la_child_id_too_long",
            "LA child ID must be {max_length} characters or fewer (CIN census)",
            {"max_length": LA_CHILD_ID_MAX_LENGTH},
        )
    # Rejected rather than stripped: the ID must match, character for character, the one the
    # same child carries in every earlier return.
    if value != value.strip():
        raise PydanticCustomError(
            "la_child_id_spaces", "LA child ID must not start or end with a space (CIN census)"
        )
    return value


def is_valid_la_child_id(value: str) -> bool:
    try:
        validate_la_child_id(value)
    except ValueError:
        return False
    return True


LAChildID: TypeAlias = Annotated[
    str,
    AfterValidator(validate_la_child_id),
    Field(description="LA child ID: 1 to 20 characters, no leading or trailing spaces"),
]


# --------------------------------------------------------------------------------------------------
# Social Work England registration number
# --------------------------------------------------------------------------------------------------

_SWE_NUMBER = re.compile(r"SW[0-9]{1,10}")


def validate_swe_number(value: str) -> str:
    """A Social Work England registration number, as sent in SW_ID (SSDA903 SWEpisodes).

    Workers who are not registered are returned as "XX..." by the returns builder, never stored.
    """
    number = value.strip().upper()
    if not _SWE_NUMBER.fullmatch(number):
        raise PydanticCustomError(
            "swe_number_format",
            "Social Work England registration number must be SW followed by digits, like SW12345",
        )
    return number


def is_valid_swe_number(value: str) -> bool:
    try:
        validate_swe_number(value)
    except ValueError:
        return False
    return True


SWENumber: TypeAlias = Annotated[
    str,
    BeforeValidator(_upper_stripped),
    AfterValidator(validate_swe_number),
    Field(description="Social Work England registration number", examples=["SW12345"]),
]


# --------------------------------------------------------------------------------------------------
# Code sets
# --------------------------------------------------------------------------------------------------


class CodeSet(StrEnum):
    """A DfE code set: the value is the code the returns carry, ``label`` the words people read."""

    @property
    def label(self) -> str:
        return _LABELS[type(self)][self.value]


_LABELS: dict[type[CodeSet], Mapping[str, str]] = {}


def _labels(code_set: type[CodeSet], labels: Mapping[str, str]) -> None:
    # Fails at import, not at render time, if a code is added without its label (or vice versa).
    codes: Iterable[str] = (member.value for member in code_set)
    if set(codes) != set(labels):
        raise RuntimeError(f"labels of {code_set.__name__} do not match its codes")
    _LABELS[code_set] = MappingProxyType(dict(labels))


class Sex(CodeSet):
    MALE = "M"
    FEMALE = "F"
    UNKNOWN = "U"  # also every unborn child (CIN rule 8750)


_labels(Sex, {"M": "Male", "F": "Female", "U": "Not known"})


class Ethnicity(CodeSet):
    WBRI = "WBRI"
    WIRI = "WIRI"
    WIRT = "WIRT"
    WOTH = "WOTH"
    WROM = "WROM"
    MWBC = "MWBC"
    MWBA = "MWBA"
    MWAS = "MWAS"
    MOTH = "MOTH"
    AIND = "AIND"
    APKN = "APKN"
    ABAN = "ABAN"
    AOTH = "AOTH"
    BCRB = "BCRB"
    BAFR = "BAFR"
    BOTH = "BOTH"
    CHNE = "CHNE"
    OOTH = "OOTH"
    REFU = "REFU"
    NOBT = "NOBT"


_labels(
    Ethnicity,
    {
        "WBRI": "White British",
        "WIRI": "White Irish",
        "WIRT": "Traveller of Irish heritage",
        "WOTH": "Any other White background",
        "WROM": "Gypsy or Roma",
        "MWBC": "White and Black Caribbean",
        "MWBA": "White and Black African",
        "MWAS": "White and Asian",
        "MOTH": "Any other mixed background",
        "AIND": "Indian",
        "APKN": "Pakistani",
        "ABAN": "Bangladeshi",
        "AOTH": "Any other Asian background",
        "BCRB": "Black Caribbean",
        "BAFR": "Black African",
        "BOTH": "Any other Black background",
        "CHNE": "Chinese",
        "OOTH": "Any other ethnic group",
        "REFU": "Refused",
        "NOBT": "Information not yet obtained",
    },
)


class Disability(CodeSet):
    NONE = "NONE"
    MOB = "MOB"
    HAND = "HAND"
    PC = "PC"
    INC = "INC"
    COMM = "COMM"
    LD = "LD"
    HEAR = "HEAR"
    VIS = "VIS"
    BEH = "BEH"
    CON = "CON"
    AUT = "AUT"
    DDA = "DDA"


_labels(
    Disability,
    {
        "NONE": "No disability",
        "MOB": "Mobility: getting about the house and beyond",
        "HAND": "Hand function: holding, gripping or using objects",
        "PC": "Personal care: eating, washing, dressing",
        "INC": "Incontinence: controlling the passage of urine or faeces",
        "COMM": "Communication: speaking or understanding others",
        "LD": "Learning: learning difficulty",
        "HEAR": "Hearing",
        "VIS": "Vision",
        "BEH": "Behaviour",
        "CON": "Consciousness: seizures",
        "AUT": "Diagnosed with autism or Asperger syndrome",
        "DDA": "Other disability under the Equality Act 2010",
    },
)


class ReferralSource(CodeSet):
    FAMILY = "1A"
    ACQUAINTANCE = "1B"
    SELF = "1C"
    OTHER_INDIVIDUAL = "1D"
    SCHOOL = "2A"
    OTHER_EDUCATION = "2B"
    GP = "3A"
    HEALTH_VISITOR = "3B"
    SCHOOL_NURSE = "3C"
    OTHER_PRIMARY_HEALTH = "3D"
    A_AND_E = "3E"
    OTHER_HEALTH = "3F"
    HOUSING = "4"
    LA_SOCIAL_CARE = "5A"
    LA_OTHER_INTERNAL = "5B"
    LA_EXTERNAL = "5C"
    LA_EARLY_HELP = "5D"
    POLICE = "6"
    OTHER_LEGAL_AGENCY = "7"
    OTHER = "8"
    ANONYMOUS = "9"
    UNKNOWN = "10"


_labels(
    ReferralSource,
    {
        "1A": "Individual: family member, relative or carer",
        "1B": "Individual: acquaintance, including neighbours and childminders",
        "1C": "Individual: self",
        "1D": "Individual: other",
        "2A": "Schools",
        "2B": "Education services: other",
        "3A": "Health services: GP",
        "3B": "Health services: health visitor",
        "3C": "Health services: school nurse",
        "3D": "Health services: other primary health services",
        "3E": "Health services: A&E (emergency department)",
        "3F": "Health services: other",
        "4": "Housing: LA housing or housing association",
        "5A": "LA services: social care, for example adult social care",
        "5B": "LA services: other internal",
        "5C": "LA services: external, for example another LA",
        "5D": "LA services: early help",
        "6": "Police",
        "7": "Other legal agency, including courts, probation, immigration, Cafcass and prison",
        "8": "Other",
        "9": "Anonymous",
        "10": "Unknown",
    },
)


class PrimaryNeed(CodeSet):
    NOT_STATED = "N0"
    ABUSE_OR_NEGLECT = "N1"
    CHILD_DISABILITY = "N2"
    PARENTAL_ILLNESS_OR_DISABILITY = "N3"
    FAMILY_IN_ACUTE_STRESS = "N4"
    FAMILY_DYSFUNCTION = "N5"
    SOCIALLY_UNACCEPTABLE_BEHAVIOUR = "N6"
    LOW_INCOME = "N7"
    ABSENT_PARENTING = "N8"
    NOT_IN_NEED = "N9"


_labels(
    PrimaryNeed,
    {
        "N0": "Not stated",
        "N1": "Abuse or neglect",
        "N2": "Child's disability or illness",
        "N3": "Parental illness or disability",
        "N4": "Family in acute stress",
        "N5": "Family dysfunction",
        "N6": "Socially unacceptable behaviour",
        "N7": "Low income",
        "N8": "Absent parenting",
        "N9": "Cases other than children in need",
    },
)


class ReasonForClosure(CodeSet):
    ADOPTED = "RC1"
    DIED = "RC2"
    CHILD_ARRANGEMENTS_ORDER = "RC3"
    SPECIAL_GUARDIANSHIP_ORDER = "RC4"
    MOVED_TO_ANOTHER_LA = "RC5"
    TRANSFERRED_TO_ADULT_SERVICES = "RC6"
    SERVICES_CEASED = "RC7"
    CLOSED_AFTER_ASSESSMENT_NFA = "RC8"
    CLOSED_AFTER_ASSESSMENT_EARLY_HELP = "RC9"


_labels(
    ReasonForClosure,
    {
        "RC1": "Adopted",
        "RC2": "Died",
        "RC3": "Child arrangements order",
        "RC4": "Special guardianship order",
        "RC5": "Transferred to services of another local authority",
        "RC6": "Transferred to adult social care services",
        "RC7": "Services ceased for any other reason, including child no longer in need",
        "RC8": "Case closed after assessment, no further action",
        "RC9": "Case closed after assessment, referred to early help",
    },
)


class CategoryOfAbuse(CodeSet):
    NEG = "NEG"
    PHY = "PHY"
    SAB = "SAB"
    EMO = "EMO"
    MUL = "MUL"


_labels(
    CategoryOfAbuse,
    {
        "NEG": "Neglect",
        "PHY": "Physical abuse",
        "SAB": "Sexual abuse",
        "EMO": "Emotional abuse",
        "MUL": "Multiple",
    },
)


class UPNUnknown(CodeSet):
    """Why a child has no UPN (CIN UPNunknown; SSDA903 uses UN1-UN5 in the UPN column).

    Labels are the DfE common basic data set descriptions (code set CS051). UN6 and UN7 are CIN
    census only; UN1 is not accepted for a child of school age (CIN 8770Q, SSDA903 rule 209) and
    UN7 only when every CIN episode is a referral with no further action (CIN rule 8772).
    """

    UNDER_SIX = "UN1"
    NEVER_AT_SCHOOL_IN_ENGLAND = "UN2"
    EDUCATED_OUTSIDE_ENGLAND = "UN3"
    NEWLY_IN_NEED = "UN4"
    SOURCES_DISAGREE = "UN5"
    NOT_LOOKED_AFTER_UNOBTAINABLE = "UN6"
    REFERRAL_NO_FURTHER_ACTION = "UN7"


_labels(
    UPNUnknown,
    {
        "UN1": "Child is aged under 6 and has not yet been assigned a UPN",
        "UN2": "Child has never attended a maintained school in England and has no UPN",
        "UN3": "Child is educated outside England and has not been assigned a UPN",
        "UN4": "Child is newly in need (in the last week of the year) and the UPN is not yet known",
        "UN5": "Sources disagree on the child's name or date of birth, so the UPN cannot be "
        "matched reliably (for example a duplicated UPN)",
        "UN6": "Child is not looked after and the authority cannot obtain the UPN",
        "UN7": "Child was referred but no further action was taken",
    },
)
