"""Shared identifier types and DfE code sets: the checks a return would fail, caught at entry."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError

from app.core_types import (
    ENGLISH_LA_CODES,
    ENGLISH_LA_NAMES,
    UPN,
    UPN_CHECK_LETTERS,
    UPN_LA_CODES,
    CategoryOfAbuse,
    CodeSet,
    Disability,
    Ethnicity,
    LAChildID,
    NHSNumber,
    Postcode,
    PrimaryNeed,
    ReasonForClosure,
    ReferralSource,
    Sex,
    SWENumber,
    UPNUnknown,
    is_valid_la_child_id,
    is_valid_nhs_number,
    is_valid_swe_number,
    is_valid_uk_postcode,
    is_valid_upn,
    nhs_check_digit,
    normalise_postcode,
    upn_check_letter,
    validate_upn,
)

# No example database: the tests must not write into the working tree.
property_settings = settings(database=None, max_examples=300)


class ChildIdentifiers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    la_child_id: LAChildID
    upn: UPN | None = None
    nhs_number: NHSNumber | None = None
    postcode: Postcode | None = None
    sex: Sex = Sex.UNKNOWN


class Worker(BaseModel):
    swe_number: SWENumber


def only_error(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, Any]:
    errors = exc.value.errors()
    assert len(errors) == 1
    return dict(errors[0])


# A real-format UPN for a child first registered at a Birmingham school: LA 330, establishment
# 4000, allocated in 2024 ("24"), serial 001. By hand, weights 2..13 over 3 3 0 4 0 0 0 2 4 0 0 1:
# 3*2 + 3*3 + 0*4 + 4*5 + 0*6 + 0*7 + 0*8 + 2*9 + 4*10 + 0*11 + 0*12 + 1*13
#   = 6 + 9 + 20 + 18 + 40 + 13 = 106; 106 mod 23 = 14; "ABCDEFGHJKLMNPQ..."[14] = Q.
BIRMINGHAM_UPN = "Q330400024001"


# --- UPN ------------------------------------------------------------------------------------------


def test_a_constructed_birmingham_upn_is_valid() -> None:
    assert upn_check_letter("330400024001") == "Q"
    assert is_valid_upn(BIRMINGHAM_UPN)


def test_the_check_letter_matches_the_dfe_validators_own_examples() -> None:
    # Examples from the Data to Insight implementation of CIN rule 1510.
    assert upn_check_letter("950000178301") == "A"
    assert upn_check_letter("243278544154") == "H"
    assert upn_check_letter("247962919251") != "R"
    assert upn_check_letter("428558133462") != "X"


def test_a_upn_typed_in_lower_case_with_spaces_around_it_is_stored_canonically() -> None:
    child = ChildIdentifiers(la_child_id="C1", upn=f"  {BIRMINGHAM_UPN.lower()} ")
    assert child.upn == BIRMINGHAM_UPN
    assert validate_upn(" q330400024001") == BIRMINGHAM_UPN


def test_a_wrong_check_letter_is_refused_naming_the_right_one() -> None:
    with pytest.raises(ValidationError) as exc:
        ChildIdentifiers(la_child_id="C1", upn="A330400024001")
    error = only_error(exc)
    assert error["loc"] == ("upn",)
    assert error["type"] == "upn_check_letter"
    assert error["msg"] == "UPN check letter should be Q, not A (DfE rule 1510)"
    assert not is_valid_upn("A330400024001")


def test_a_upn_whose_characters_2_to_4_are_not_an_la_code_is_refused() -> None:
    digits = "999400024001"
    upn = upn_check_letter(digits) + digits  # right check letter, no such LA
    with pytest.raises(ValidationError) as exc:
        ChildIdentifiers(la_child_id="C1", upn=upn)
    error = only_error(exc)
    assert error["type"] == "upn_la_code"
    assert error["msg"] == (
        "UPN characters 2 to 4 (999) are not a recognised LA code (DfE rule 1530)"
    )


@pytest.mark.parametrize(
    "la_code",
    [
        "909",  # Cumbria: abolished in 2023, but its UPNs stay with the children
        "928",  # Northamptonshire, abolished in 2021
        "681",  # a Welsh authority: rule 1530 accepts Welsh UPNs
        "942",  # Cumberland, since 2023
    ],
)
def test_upns_issued_by_any_la_rule_1530_recognises_are_accepted(la_code: str) -> None:
    digits = f"{la_code}400024001"
    assert is_valid_upn(upn_check_letter(digits) + digits)


@pytest.mark.parametrize(
    ("value", "error_type"),
    [
        ("Q33040002400A", "upn_temporary"),
        ("Q33040002400", "upn_format"),
        ("Q3304000240011", "upn_format"),
        ("3330400024001", "upn_format"),
        ("Q3304O0024001", "upn_format"),
        ("", "upn_format"),
    ],
)
def test_malformed_and_temporary_upns_are_refused(value: str, error_type: str) -> None:
    with pytest.raises(ValidationError) as exc:
        ChildIdentifiers(la_child_id="C1", upn=value)
    assert only_error(exc)["type"] == error_type
    assert not is_valid_upn(value)


def test_upn_la_codes_are_exactly_those_dfe_rule_1530_lists() -> None:
    # The ranges as published for rule 1530 (2023-24 ruleset, which added 942 and 943).
    ranges = [(1, 5), (201, 213), (301, 320), (330, 336), (340, 344), (350, 359), (370, 373)]
    ranges += [(380, 384), (390, 394), (420, 420), (660, 681), (701, 708), (800, 803)]
    ranges += [(805, 808), (810, 813), (815, 816), (820, 823), (825, 826), (830, 831)]
    ranges += [(835, 841), (845, 846), (850, 852), (855, 857), (860, 861), (865, 896)]
    ranges += [(908, 909), (916, 916), (919, 919), (921, 921), (925, 926), (928, 929)]
    ranges += [(931, 931), (933, 933), (935, 938), (940, 943)]
    published = {f"{code:03d}" for low, high in ranges for code in range(low, high + 1)}
    assert published == UPN_LA_CODES


def test_english_la_codes_are_the_153_current_authorities() -> None:
    assert len(ENGLISH_LA_CODES) == 153
    assert ENGLISH_LA_NAMES["330"] == "Birmingham"
    assert {"201", "202", "938", "940", "941", "942", "943"} <= ENGLISH_LA_CODES
    assert not {"909", "928", "875", "820", "681"} & ENGLISH_LA_CODES
    assert ENGLISH_LA_CODES <= UPN_LA_CODES


la_codes = st.sampled_from(sorted(UPN_LA_CODES))
nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@property_settings
@given(la_code=la_codes, rest=nine_digits)
def test_any_upn_built_with_the_check_letter_is_valid(la_code: str, rest: str) -> None:
    digits = la_code + rest
    assert is_valid_upn(upn_check_letter(digits) + digits)


@property_settings
@given(la_code=la_codes, rest=nine_digits, data=st.data())
def test_changing_any_one_digit_of_a_upn_makes_it_invalid(
    la_code: str, rest: str, data: st.DataObject
) -> None:
    # Weights 2..13 times a change of 1..9 is never a multiple of 23 (a prime), so the check
    # letter always catches a single mistyped digit.
    digits = la_code + rest
    letter = upn_check_letter(digits)
    position = data.draw(st.integers(min_value=0, max_value=11), label="position")
    replacement = data.draw(st.sampled_from("0123456789").filter(lambda d: d != digits[position]))
    changed = digits[:position] + replacement + digits[position + 1 :]
    assert not is_valid_upn(letter + changed)


@property_settings
@given(la_code=la_codes, rest=nine_digits, data=st.data())
def test_any_other_check_letter_makes_a_upn_invalid(
    la_code: str, rest: str, data: st.DataObject
) -> None:
    digits = la_code + rest
    right = upn_check_letter(digits)
    wrong = data.draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ").filter(lambda c: c != right))
    assert not is_valid_upn(wrong + digits)


def test_the_check_alphabet_leaves_out_i_o_and_s() -> None:
    assert len(UPN_CHECK_LETTERS) == 23
    assert not set("IOS") & set(UPN_CHECK_LETTERS)


# --- NHS number -----------------------------------------------------------------------------------


def test_nhs_numbers_are_checked_with_modulus_11() -> None:
    # 9 4 3 4 7 6 5 9 1 weighted 10..2: 90+36+24+28+42+30+20+27+2 = 299; 299 mod 11 = 2; 11-2 = 9.
    assert nhs_check_digit("943476591") == 9
    assert is_valid_nhs_number("9434765919")
    assert not is_valid_nhs_number("9434765918")


def test_nine_digits_whose_check_would_be_10_are_never_an_nhs_number() -> None:
    # 943476596: 299 - 1*2 + 6*2 = 309; 309 mod 11 = 1; 11-1 = 10.
    assert nhs_check_digit("943476596") is None
    assert not any(is_valid_nhs_number(f"943476596{last}") for last in range(10))
    with pytest.raises(ValidationError) as exc:
        ChildIdentifiers(la_child_id="C1", nhs_number="9434765960")
    assert only_error(exc)["type"] == "nhs_number_check_digit"


def test_a_check_of_11_means_a_final_0() -> None:
    # 000000000 sums to 0: 11 - 0 = 11, written as 0.
    assert nhs_check_digit("000000000") == 0


def test_an_nhs_number_written_in_groups_is_stored_as_10_digits() -> None:
    child = ChildIdentifiers(la_child_id="C1", nhs_number="943 476 5919")
    assert child.nhs_number == "9434765919"


def test_a_wrong_nhs_check_digit_is_refused_naming_the_right_one() -> None:
    with pytest.raises(ValidationError) as exc:
        ChildIdentifiers(la_child_id="C1", nhs_number="943 476 5918")
    error = only_error(exc)
    assert error["loc"] == ("nhs_number",)
    assert error["msg"] == "NHS number check digit should be 9, not 8 (modulus 11)"


@pytest.mark.parametrize("value", ["", "943476591", "94347659190", "943-476-5919", "943476591X"])
def test_an_nhs_number_must_be_10_digits(value: str) -> None:
    assert not is_valid_nhs_number(value)


@property_settings
@given(nine=nine_digits)
def test_an_nhs_number_made_with_its_check_digit_is_valid_and_no_other_ending_is(
    nine: str,
) -> None:
    check = nhs_check_digit(nine)
    valid_endings = {last for last in range(10) if is_valid_nhs_number(f"{nine}{last}")}
    assert valid_endings == (set() if check is None else {check})


# --- Postcode -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("B1 1AA", "B1 1AA"),
        ("b11aa", "B1 1AA"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("M1 1AE", "M1 1AE"),
        ("GIR 0AA", "GIR 0AA"),
        ("  cr2  6xh ", "CR2 6XH"),
        ("DN551PT", "DN55 1PT"),
    ],
)
def test_uk_postcodes_are_accepted_and_stored_in_standard_form(value: str, stored: str) -> None:
    assert is_valid_uk_postcode(value)
    assert normalise_postcode(value) == stored
    assert ChildIdentifiers(la_child_id="C1", postcode=value).postcode == stored


@pytest.mark.parametrize(
    "value", ["B1 1CA", "12345", "", "B1", "Q1 1AA", "BI1 1AA", "B1 1AAA", "SW1A1AAA"]
)
def test_strings_that_are_not_uk_postcodes_are_refused(value: str) -> None:
    assert not is_valid_uk_postcode(value)
    with pytest.raises(ValidationError) as exc:
        ChildIdentifiers(la_child_id="C1", postcode=value)
    assert only_error(exc)["msg"] == "Postcode must be a full UK postcode, like B1 1AA"


@property_settings
@given(value=st.text(alphabet="AB12 ab", max_size=10))
def test_normalising_a_postcode_twice_changes_nothing(value: str) -> None:
    once = normalise_postcode(value)
    assert normalise_postcode(once) == once
    assert is_valid_uk_postcode(value) == is_valid_uk_postcode(once)


# --- LA child ID and SWE number -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "CHILD-000123", "X" * 20])
def test_la_child_ids_of_1_to_20_characters_are_accepted(value: str) -> None:
    assert ChildIdentifiers(la_child_id=value).la_child_id == value


@pytest.mark.parametrize(
    ("value", "error_type"),
    [
        ("", "la_child_id_missing"),
        ("X" * 21, "la_child_id_too_long"),
        (" C1", "la_child_id_spaces"),
        ("C1 ", "la_child_id_spaces"),
    ],
)
def test_la_child_ids_that_break_the_census_rules_are_refused(value: str, error_type: str) -> None:
    assert not is_valid_la_child_id(value)
    with pytest.raises(ValidationError) as exc:
        ChildIdentifiers(la_child_id=value)
    error = only_error(exc)
    assert error["loc"] == ("la_child_id",)
    assert error["type"] == error_type


def test_a_swe_number_is_stored_in_upper_case() -> None:
    assert Worker(swe_number=" sw12345 ").swe_number == "SW12345"


@pytest.mark.parametrize("value", ["", "SW", "12345", "XX12345", "SW12A45", "SW 12345"])
def test_a_swe_number_must_be_sw_followed_by_digits(value: str) -> None:
    assert not is_valid_swe_number(value)
    with pytest.raises(ValidationError) as exc:
        Worker(swe_number=value)
    assert only_error(exc)["type"] == "swe_number_format"


def test_an_identifier_of_the_wrong_type_gets_pydantics_own_error() -> None:
    with pytest.raises(ValidationError) as exc:
        ChildIdentifiers(la_child_id="C1", nhs_number=9434765919)
    assert only_error(exc)["type"] == "string_type"


def test_several_bad_identifiers_are_all_reported_at_once() -> None:
    with pytest.raises(ValidationError) as exc:
        ChildIdentifiers.model_validate(
            {"la_child_id": "", "upn": "A330400024001", "nhs_number": "1", "postcode": "x"}
        )
    assert [error["loc"][0] for error in exc.value.errors()] == [
        "la_child_id",
        "upn",
        "nhs_number",
        "postcode",
    ]


# --- Code sets ------------------------------------------------------------------------------------

CODE_SETS: list[tuple[type[CodeSet], list[str]]] = [
    (Sex, ["M", "F", "U"]),
    (
        Ethnicity,
        [
            "WBRI",
            "WIRI",
            "WIRT",
            "WOTH",
            "WROM",
            "MWBC",
            "MWBA",
            "MWAS",
            "MOTH",
            "AIND",
            "APKN",
            "ABAN",
            "AOTH",
            "BCRB",
            "BAFR",
            "BOTH",
            "CHNE",
            "OOTH",
            "REFU",
            "NOBT",
        ],
    ),
    (
        Disability,
        [
            "NONE",
            "MOB",
            "HAND",
            "PC",
            "INC",
            "COMM",
            "LD",
            "HEAR",
            "VIS",
            "BEH",
            "CON",
            "AUT",
            "DDA",
        ],
    ),
    (
        ReferralSource,
        [
            "1A",
            "1B",
            "1C",
            "1D",
            "2A",
            "2B",
            "3A",
            "3B",
            "3C",
            "3D",
            "3E",
            "3F",
            "4",
            "5A",
            "5B",
            "5C",
            "5D",
            "6",
            "7",
            "8",
            "9",
            "10",
        ],
    ),
    (PrimaryNeed, [f"N{n}" for n in range(10)]),
    (ReasonForClosure, [f"RC{n}" for n in range(1, 10)]),
    (CategoryOfAbuse, ["NEG", "PHY", "SAB", "EMO", "MUL"]),
    (UPNUnknown, [f"UN{n}" for n in range(1, 8)]),
]


@pytest.mark.parametrize(("code_set", "codes"), CODE_SETS, ids=lambda v: getattr(v, "__name__", ""))
def test_code_sets_carry_exactly_the_dfe_codes_each_with_a_label(
    code_set: type[CodeSet], codes: list[str]
) -> None:
    assert [member.value for member in code_set] == codes
    assert all(member.label.strip() for member in code_set)


def test_codes_read_as_their_dfe_values_and_labels_as_words() -> None:
    assert Ethnicity.WBRI.label == "White British"
    assert ReferralSource.FAMILY.value == "1A"
    assert ReferralSource("10") is ReferralSource.UNKNOWN
    assert PrimaryNeed.ABUSE_OR_NEGLECT.label == "Abuse or neglect"
    assert UPNUnknown.REFERRAL_NO_FURTHER_ACTION.value == "UN7"
    assert f"{Disability.AUT}" == "AUT"


def test_a_code_outside_the_set_is_refused_by_a_schema() -> None:
    with pytest.raises(ValidationError) as exc:
        ChildIdentifiers(la_child_id="C1", sex="X")
    assert only_error(exc)["type"] == "enum"
