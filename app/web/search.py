"""The "Find a child" box: one field that takes a name, a date of birth, an NHS number, a UPN or a
postcode, and says which it understood. The identifiers are checked with the same validators as
the API (check digits included), so a mistyped NHS number is pointed out, not searched for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from app.core_types import (
    is_valid_nhs_number,
    is_valid_uk_postcode,
    is_valid_upn,
    normalise_nhs_number,
    normalise_postcode,
)
from app.people.queries import SearchCriteria

NAME_MAX = 100
_DMY = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UPN_SHAPE = re.compile(r"^[A-Z]\d{11}[A-Z0-9]$")


@dataclass(frozen=True)
class Understood:
    criteria: SearchCriteria | None
    described: str  # "name", "date of birth", ... (what the results page says it searched)
    error: str | None = None


def _date(text: str) -> date | str | None:
    """A date of birth typed as 31/12/2015 (or 31-12-2015, 31.12.2015, 2015-12-31); an error
    message when it has the shape of a date but is not one; None when it is not a date at all."""
    dmy = _DMY.match(text)
    iso = _ISO.match(text)
    if dmy:
        day, month, year = (int(g) for g in dmy.groups())
    elif iso:
        year, month, day = (int(g) for g in iso.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return "Date of birth must be a real date, like 31/12/2015"


def understand(query: str) -> Understood:
    """What ``query`` is, most specific first: a date, an NHS number (10 digits), a UPN (a letter
    and 12 characters), a postcode, else a name."""
    text = " ".join(query.split())
    as_date = _date(text)
    if isinstance(as_date, str):
        return Understood(None, "date of birth", as_date)
    if as_date is not None:
        return Understood(SearchCriteria(date_of_birth=as_date), "date of birth")
    compact = text.replace(" ", "").upper()
    if compact.isdigit() and len(compact) == 10:
        if not is_valid_nhs_number(compact):
            return Understood(
                None, "NHS number", "This is not a valid NHS number: check the 10 digits"
            )
        return Understood(SearchCriteria(nhs_number=normalise_nhs_number(compact)), "NHS number")
    if _UPN_SHAPE.match(compact):
        if not is_valid_upn(compact):
            return Understood(None, "UPN", "This is not a valid UPN: check the letter and digits")
        return Understood(SearchCriteria(upn=compact), "UPN")
    if any(c.isdigit() for c in compact) and is_valid_uk_postcode(compact):
        return Understood(SearchCriteria(postcode=normalise_postcode(compact)), "postcode")
    if len(text) > NAME_MAX:
        return Understood(None, "name", f"Name must be {NAME_MAX} characters or fewer")
    return Understood(SearchCriteria(name=text), "name")
