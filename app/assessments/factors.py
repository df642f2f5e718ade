"""The DfE assessment factor codes (CIN census ``AssessmentFactors``; returns.md).

A/B/C suffixes say whose the factor is where the DfE splits it: A the child, B a parent or carer,
C another person in the household. "21" (no factors identified) stands alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from app.errors import Invalid


class AssessmentFactor(StrEnum):
    """A factor identified at assessment; the value is the code the CIN census carries."""

    F1A = "1A"
    F1B = "1B"
    F1C = "1C"
    F2A = "2A"
    F2B = "2B"
    F2C = "2C"
    F3A = "3A"
    F3B = "3B"
    F3C = "3C"
    F4A = "4A"
    F4B = "4B"
    F4C = "4C"
    F5A = "5A"
    F5B = "5B"
    F5C = "5C"
    F6A = "6A"
    F6B = "6B"
    F6C = "6C"
    F7A = "7A"
    F8B = "8B"
    F8C = "8C"
    F8D = "8D"
    F8E = "8E"
    F8F = "8F"
    F9A = "9A"
    F10A = "10A"
    F11A = "11A"
    F12A = "12A"
    F13A = "13A"
    F14A = "14A"
    F15A = "15A"
    F16A = "16A"
    F17A = "17A"
    F18B = "18B"
    F18C = "18C"
    F19B = "19B"
    F19C = "19C"
    F20 = "20"
    F21 = "21"
    F22A = "22A"
    F23A = "23A"
    F24A = "24A"

    @property
    def label(self) -> str:
        return FACTOR_LABELS[self.value]


def _whose(topic: str) -> dict[str, str]:
    return {
        "A": f"{topic}: concerns about the child",
        "B": f"{topic}: concerns about the parent or carer",
        "C": f"{topic}: concerns about another person in the family or household",
    }


def _split(number: str, topic: str) -> dict[str, str]:
    return {f"{number}{letter}": words for letter, words in _whose(topic).items()}


FACTOR_LABELS: Mapping[str, str] = MappingProxyType(
    {
        **_split("1", "Alcohol misuse"),
        **_split("2", "Drug misuse"),
        **_split("3", "Domestic abuse"),
        **_split("4", "Mental health"),
        **_split("5", "Learning disability"),
        **_split("6", "Physical disability or illness"),
        "7A": "Young carer",
        "8B": "Privately fostered: overseas child who intends to return",
        "8C": "Privately fostered: overseas child who intends to stay",
        "8D": "Privately fostered: UK child in education or training",
        "8E": "Privately fostered: UK child, parents' study, training or work",
        "8F": "Privately fostered: other",
        "9A": "Unaccompanied asylum-seeking child",
        "10A": "Going or being missing",
        "11A": "Child sexual exploitation",
        "12A": "Trafficking",
        "13A": "Gangs",
        "14A": "Socially unacceptable behaviour",
        "15A": "Self-harm",
        "16A": "Neglect",
        "17A": "Emotional abuse",
        "18B": "Physical abuse by a child",
        "18C": "Physical abuse by an adult",
        "19B": "Sexual abuse by a child",
        "19C": "Sexual abuse by an adult",
        "20": "Other",
        "21": "No factors identified",
        "22A": "Female genital mutilation",
        "23A": "Abuse linked to faith or belief",
        "24A": "Child criminal exploitation",
    }
)
if set(FACTOR_LABELS) != {f.value for f in AssessmentFactor}:  # fail at import, not at render
    raise RuntimeError("assessment factor labels do not match the codes")

NO_FACTORS = AssessmentFactor.F21


def factors_parse(raw: Iterable[str], *, field: str = "factors") -> list[AssessmentFactor]:
    """Check a list of factor codes: each a DfE code (422 naming the unknown one), no repeats
    kept, and "21" (no factors) only on its own (returns.md, AssessmentFactors)."""
    codes: list[AssessmentFactor] = []
    unknown: list[str] = []
    for item in raw:
        code = str(item).strip().upper()
        try:
            factor = AssessmentFactor(code)
        except ValueError:
            unknown.append(str(item))
            continue
        if factor not in codes:
            codes.append(factor)
    if unknown:
        names = ", ".join(repr(u) for u in unknown)
        raise Invalid.field(
            field,
            f"{names} is not a DfE assessment factor code (CIN census AssessmentFactors, 1A-24A).",
            rule="CIN census AssessmentFactors code set",
        )
    if NO_FACTORS in codes and len(codes) > 1:
        raise Invalid.field(
            field,
            'Factor "21" (no factors identified) stands alone: remove it or the other factors '
            "(CIN census AssessmentFactors).",
            rule="CIN census AssessmentFactors: 21 stands alone",
        )
    return codes
