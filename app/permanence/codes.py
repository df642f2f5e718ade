"""SSDA903 code sets for permanence: previous permanence (PrevPerm), the reversal of a decision to
place for adoption (PlacedAdoption) and the adopters (AD1).

Values are the exact codes of the return; the DfE validator's rules hold the lists: 631 (PREV_PERM),
633 (LA_PERM), 120 (REASON_PLACED_CEASED), 175 (NB_ADOPTR), 176 (SEX_ADOPTR), 177 (LS_ADOPTR).
"""

from __future__ import annotations

from app.core_types import CodeSet, _labels


class PreviousPermanence(CodeSet):
    """SSDA903 ``PREV_PERM`` (validator rule 631)."""

    ADOPTION = "P1"
    SPECIAL_GUARDIANSHIP = "P2"
    CHILD_ARRANGEMENTS = "P3"
    UNKNOWN = "P4"
    NONE = "Z1"


_labels(
    PreviousPermanence,
    {
        "P1": "Adoption",
        "P2": "Special guardianship order (SGO)",
        "P3": "Residence order or child arrangements order which sets out with whom the child is "
        "to live",
        "P4": "Unknown",
        "Z1": "Child has not previously had a permanence option",
    },
)

#: SSDA903 ``LA_PERM`` (validator rule 633, its list exactly, which keeps the codes of councils
#: since reorganised: the order may be years old): an English LA code, 999 (information not
#: available), or WAL / SCO / NIR / NUK (Wales, Scotland, Northern Ireland, outside the UK).
_VALIDATOR_633_LA_CODES = frozenset(
    {
        "201",
        "202",
        "203",
        "204",
        "205",
        "206",
        "207",
        "208",
        "209",
        "210",
        "211",
        "212",
        "213",
        "301",
        "302",
        "303",
        "304",
        "305",
        "306",
        "307",
        "308",
        "309",
        "310",
        "311",
        "312",
        "313",
        "314",
        "315",
        "316",
        "317",
        "318",
        "319",
        "320",
        "330",
        "331",
        "332",
        "333",
        "334",
        "335",
        "336",
        "340",
        "341",
        "342",
        "343",
        "344",
        "350",
        "351",
        "352",
        "353",
        "354",
        "355",
        "356",
        "357",
        "358",
        "359",
        "370",
        "371",
        "372",
        "373",
        "380",
        "381",
        "382",
        "383",
        "384",
        "390",
        "391",
        "392",
        "393",
        "394",
        "420",
        "800",
        "801",
        "802",
        "803",
        "805",
        "806",
        "807",
        "808",
        "810",
        "811",
        "812",
        "813",
        "815",
        "816",
        "821",
        "822",
        "823",
        "825",
        "826",
        "830",
        "831",
        "835",
        "836",
        "837",
        "840",
        "841",
        "845",
        "846",
        "850",
        "851",
        "852",
        "855",
        "856",
        "857",
        "860",
        "861",
        "865",
        "866",
        "867",
        "868",
        "869",
        "870",
        "871",
        "872",
        "873",
        "874",
        "876",
        "877",
        "878",
        "879",
        "880",
        "881",
        "882",
        "883",
        "884",
        "885",
        "886",
        "887",
        "888",
        "889",
        "890",
        "891",
        "892",
        "893",
        "894",
        "895",
        "896",
        "908",
        "909",
        "916",
        "919",
        "921",
        "925",
        "926",
        "928",
        "929",
        "931",
        "933",
        "935",
        "936",
        "937",
        "938",
        "999",
    }
)
LA_PERM_OUTSIDE_ENGLAND = frozenset({"WAL", "SCO", "NIR", "NUK"})
LA_PERM_VALUES = _VALIDATOR_633_LA_CODES | LA_PERM_OUTSIDE_ENGLAND


class ReasonPlacedCeased(CodeSet):
    """SSDA903 ``REASON_PLACED_CEASED`` (validator rule 120): why the decision that the child
    should be placed for adoption was reversed."""

    RD1 = "RD1"
    RD2 = "RD2"
    RD3 = "RD3"
    RD4 = "RD4"


_labels(
    ReasonPlacedCeased,
    {
        "RD1": "The child's needs changed after the decision",
        "RD2": "The court did not make a placement order",
        "RD3": "Prospective adopters could not be found",
        "RD4": "Any other reason",
    },
)


class AdopterSex(CodeSet):
    """SSDA903 ``SEX_ADOPTR`` (validator rule 176): a single adopter (M1/F1) or a couple."""

    M1 = "M1"
    F1 = "F1"
    MM = "MM"
    FF = "FF"
    MF = "MF"


_labels(
    AdopterSex,
    {
        "M1": "Single male adopter",
        "F1": "Single female adopter",
        "MM": "Two male adopters",
        "FF": "Two female adopters",
        "MF": "A male and a female adopter",
    },
)


class AdopterLegalStatus(CodeSet):
    """SSDA903 ``LS_ADOPTR`` (validator rule 177)."""

    SINGLE = "L0"
    MARRIED_DIFFERENT_SEX = "L11"
    MARRIED_SAME_SEX = "L12"
    CIVIL_PARTNERS = "L2"
    UNMARRIED_DIFFERENT_SEX = "L3"
    UNMARRIED_SAME_SEX = "L4"


_labels(
    AdopterLegalStatus,
    {
        "L0": "Single person",
        "L11": "Married couple of different sexes",
        "L12": "Married couple of the same sex",
        "L2": "Civil partners",
        "L3": "Unmarried couple of different sexes",
        "L4": "Unmarried couple of the same sex",
    },
)

SINGLE_ADOPTER = frozenset({AdopterSex.M1, AdopterSex.F1})
#: The adopters' sexes each legal status allows (validator rules 514, 517, 518, 519, 520, 524).
SEXES_FOR_LEGAL_STATUS: dict[AdopterLegalStatus, tuple[frozenset[AdopterSex], str]] = {
    AdopterLegalStatus.SINGLE: (SINGLE_ADOPTER, "514"),
    AdopterLegalStatus.MARRIED_DIFFERENT_SEX: (frozenset({AdopterSex.MF}), "520"),
    AdopterLegalStatus.MARRIED_SAME_SEX: (frozenset({AdopterSex.MM, AdopterSex.FF}), "524"),
    AdopterLegalStatus.CIVIL_PARTNERS: (
        frozenset({AdopterSex.MM, AdopterSex.FF, AdopterSex.MF}),
        "519",
    ),
    AdopterLegalStatus.UNMARRIED_DIFFERENT_SEX: (frozenset({AdopterSex.MF}), "517"),
    AdopterLegalStatus.UNMARRIED_SAME_SEX: (frozenset({AdopterSex.MM, AdopterSex.FF}), "518"),
}
