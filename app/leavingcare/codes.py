"""SSDA903 OC3 code sets: a care leaver's contact, activity and accommodation around the 17th to
21st birthdays.

Values are the exact codes of the OC3 table; the DfE validator's rules 131 (IN_TOUCH), 132 (ACTIV)
and 133 (ACCOM) hold the lists. In ACCOM the trailing digit says whether the accommodation is
suitable (1) or unsuitable (2); ``0`` in ACTIV and ACCOM means not known (not in touch, died, or
returned home for 6 months or more: rules 344 and 345).
"""

from __future__ import annotations

from app.core_types import CodeSet, _labels


class InTouch(CodeSet):
    """SSDA903 ``IN_TOUCH`` (validator rule 131)."""

    YES = "YES"
    NO = "NO"
    DIED = "DIED"
    REFU = "REFU"
    NREQ = "NREQ"
    RHOM = "RHOM"


_labels(
    InTouch,
    {
        "YES": "Yes, in touch",
        "NO": "No, not in touch",
        "DIED": "Died after leaving care",
        "REFU": "Young person refuses contact",
        "NREQ": "Young person no longer requires children's social care services",
        "RHOM": "Returned to live with parents or someone with parental responsibility for a "
        "continuous period of 6 months or more",
    },
)


class Activity(CodeSet):
    """SSDA903 ``ACTIV`` (validator rule 132)."""

    F1 = "F1"
    P1 = "P1"
    F2 = "F2"
    P2 = "P2"
    F4 = "F4"
    P4 = "P4"
    F5 = "F5"
    P5 = "P5"
    G4 = "G4"
    G5 = "G5"
    G6 = "G6"
    NOT_KNOWN = "0"


_labels(
    Activity,
    {
        "F1": "Full time in higher education (studies beyond A level)",
        "P1": "Part time in higher education (studies beyond A level)",
        "F2": "Full time in education other than higher education",
        "P2": "Part time in education other than higher education",
        "F4": "Full time in an apprenticeship",
        "P4": "Part time in an apprenticeship",
        "F5": "Full time in training or employment (not an apprenticeship)",
        "P5": "Part time in training or employment (not an apprenticeship)",
        "G4": "Not in education, employment or training: illness or disability",
        "G5": "Not in education, employment or training: other circumstances",
        "G6": "Not in education, employment or training: pregnancy or parenting",
        "0": "Not known: not in touch, died, or returned home for 6 months or more",
    },
)

_ACCOMMODATION_KINDS = {
    "B": "With parent(s) or relative(s)",
    "C": "Community home or other residential care (such as an NHS establishment)",
    "D": "Semi-independent, transitional accommodation",
    "E": "Supported lodgings",
    "G": "Gone abroad",
    "H": "Deported",
    "K": "Ordinary lodgings, without formal support",
    "R": "Residence not known",
    "S": "No fixed abode or homeless",
    "T": "Foyer or similar supported accommodation with education, training or employment",
    "U": "Independent living",
    "V": "Emergency accommodation",
    "W": "Bed and breakfast",
    "X": "In custody",
    "Y": "Other accommodation",
    "Z": "With former foster carer(s)",
}


class Accommodation(CodeSet):
    """SSDA903 ``ACCOM`` (validator rule 133): a kind letter and 1 (suitable) or 2 (unsuitable);
    homelessness (S) and custody (X) are only ever unsuitable."""

    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"
    D1 = "D1"
    D2 = "D2"
    E1 = "E1"
    E2 = "E2"
    G1 = "G1"
    G2 = "G2"
    H1 = "H1"
    H2 = "H2"
    K1 = "K1"
    K2 = "K2"
    R1 = "R1"
    R2 = "R2"
    S2 = "S2"
    T1 = "T1"
    T2 = "T2"
    U1 = "U1"
    U2 = "U2"
    V1 = "V1"
    V2 = "V2"
    W1 = "W1"
    W2 = "W2"
    X2 = "X2"
    Y1 = "Y1"
    Y2 = "Y2"
    Z1 = "Z1"
    Z2 = "Z2"
    NOT_KNOWN = "0"


_labels(
    Accommodation,
    {
        **{
            f"{kind}{digit}": f"{words} ({'suitable' if digit == '1' else 'unsuitable'})"
            for kind, words in _ACCOMMODATION_KINDS.items()
            for digit in "12"
            if f"{kind}{digit}" not in ("S1", "X1")
        },
        "0": "Not known: not in touch, died, or returned home for 6 months or more",
    },
)

#: Rule 3001: "with former foster carers" (Z1/Z2) is for young people of 18 or over (staying put).
WITH_FORMER_FOSTER_CARERS = frozenset({Accommodation.Z1, Accommodation.Z2})
