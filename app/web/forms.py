"""Forms on pages: the same validation the API uses, answered the GOV.UK way.

A page's POST handler reads the form, builds the API's own Pydantic schema with
:func:`parse_form`, and calls the domain service. Whatever refuses it (the schema's 422, a
service's :class:`~app.errors.Invalid` naming fields, a 409 because the records do not allow it,
a 412 because someone else saved first) becomes a :class:`FormErrors`: the error summary at the
top of the page and the message beside each field, with the form re-rendered holding what the
person typed (status 422/409/412, nothing written). Success is post/redirect/get.

Dates are entered as GOV.UK date inputs (``<name>-day``, ``<name>-month``, ``<name>-year``);
:func:`form_values` folds them into ISO dates before validation, and keeps a date that is not
a real date as the text typed so the schema refuses it with a sentence.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse

from app.errors import DomainError, Invalid, NotFound

M = TypeVar("M", bound=BaseModel)

#: Form fields that are never data (the CSRF token, the version for If-Match, the button).
NOT_DATA = frozenset({"csrf_token", "version", "action"})


@dataclass
class FormErrors:
    """The GOV.UK error summary (``summary``: ``{"text", "href"}``) and inline messages by field
    (``by_field``: the form field's name → the sentence). Empty is falsy."""

    summary: list[dict[str, str]] = field(default_factory=list)
    by_field: dict[str, str] = field(default_factory=dict)
    status: int = 422

    def __bool__(self) -> bool:
        return bool(self.summary)

    def add(self, name: str | None, message: str) -> None:
        if name and name not in self.by_field:
            self.by_field[name] = message
        self.summary.append({"text": message, "href": f"#{_anchor(name)}" if name else "#main"})

    def message(self, name: str) -> dict[str, str] | None:
        """The ``errorMessage`` argument of a govuk macro for field ``name`` (or None)."""
        text = self.by_field.get(name)
        return {"text": text} if text else None

    @classmethod
    def from_validation(
        cls,
        exc: ValidationError,
        labels: Mapping[str, str],
        choices: Collection[str] = frozenset(),
    ) -> FormErrors:
        errors = cls()
        for err in exc.errors():
            name = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",))
            sentence = _sentence(err, labels.get(name, _humane(name)))
            if name in choices and sentence.startswith("Enter "):
                # GOV.UK asks people to *select* an answer to radios, checkboxes and selects,
                # not to enter one.
                sentence = "Select " + sentence.removeprefix("Enter ")
            errors.add(name or None, sentence)
        return errors

    @classmethod
    def from_domain(cls, exc: DomainError) -> FormErrors:
        """A service's refusal: field errors of an :class:`Invalid` by field, anything else (a
        conflict, a stale version, an illegal move) as one sentence at the top."""
        errors = cls(status=exc.status)
        if isinstance(exc, Invalid) and exc.extra.get("errors"):
            for item in exc.extra["errors"]:
                errors.add(str(item.get("field") or "") or None, str(item.get("message")))
        else:
            errors.add(None, exc.detail)
        return errors


def _anchor(name: str | None) -> str:
    """The id of the field's input: ours are the field names, dates use the day box."""
    return (name or "main").replace(".", "-")


def _humane(name: str) -> str:
    return name.rsplit(".", 1)[-1].replace("_", " ") if name else "this"


def _sentence(err: Mapping[str, Any], label: str) -> str:
    kind = str(err.get("type", ""))
    if kind == "missing":
        return f"Enter {label}"
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return f"{label[:1].upper()}{label[1:]} must be a real date"
    if kind == "extra_forbidden":
        return f"{label[:1].upper()}{label[1:]} is not accepted here"
    if kind in ("enum", "literal_error"):
        return f"Select {label}"
    message = str(err.get("msg", "is not valid"))
    message = message.removeprefix("Value error, ")
    return message[:1].upper() + message[1:]


def form_values(form: FormData, *, lists: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The posted form as a dict: repeated fields named in ``lists`` as lists, GOV.UK date
    inputs folded into one ISO date (or the text typed, for the schema to refuse), empty
    strings dropped (an empty optional field is absent, as in the API's JSON)."""
    out: dict[str, Any] = {}
    dates: dict[str, dict[str, str]] = {}
    for key in form:
        if key in NOT_DATA:
            continue
        for part in ("-day", "-month", "-year"):
            if key.endswith(part):
                value = form.get(key)
                dates.setdefault(key.removesuffix(part), {})[part[1:]] = str(value or "").strip()
                break
        else:
            if key in lists:
                out[key] = [str(v) for v in form.getlist(key) if str(v).strip()]
            else:
                value = str(form.get(key) or "").strip()
                if value:
                    out[key] = value
    for name, parts in dates.items():
        if not any(parts.values()):
            continue
        try:
            out[name] = date(
                int(parts.get("year", "")), int(parts.get("month", "")), int(parts.get("day", ""))
            ).isoformat()
        except ValueError:
            out[name] = "-".join(parts.get(p, "") for p in ("year", "month", "day"))
    return out


def parse_form(
    model: type[M],
    values: Mapping[str, Any],
    labels: Mapping[str, str] | None = None,
    *,
    choices: Collection[str] = frozenset(),
) -> tuple[M | None, FormErrors]:
    """Validate ``values`` with the API's schema: the model, or the errors to show. Fields named
    in ``choices`` are answered by choosing: their "Enter ..." reads "Select ...", as GOV.UK
    words it."""
    try:
        return model.model_validate(dict(values)), FormErrors()
    except ValidationError as exc:
        return None, FormErrors.from_validation(exc, labels or {}, choices)


def path_id(raw: str, what: str, *, visible_to_all: bool = False) -> uuid.UUID:
    """A path (or query) id: anything that is not a uuid is "page not found", worded like an id
    nobody may see (no lookup is made). ``visible_to_all`` is for records that are not under
    access control (teams, workers, return jobs), whose 404 does not speak of seeing."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        seen = "" if visible_to_all else " that you can see"
        raise NotFound(f"There is no {what} with this id{seen}.") from None


def refused_form(session: Session, exc: DomainError) -> FormErrors:
    """A service refused the form: undo anything it wrote before refusing (the session commits
    after the page returns, and a re-rendered form is a return, not an exception), and say why,
    for the page to show again at the refusal's status (``errors.status``)."""
    session.rollback()
    return FormErrors.from_domain(exc)


def date_parts(value: date | str | None) -> dict[str, str]:
    """A date (or the text typed) as the three boxes of a GOV.UK date input."""
    if isinstance(value, date):
        return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
    if isinstance(value, str) and value.count("-") == 2:
        year, month, day = value.split("-")
        return {"day": day, "month": month, "year": year}
    return {"day": "", "month": "", "year": ""}


def form_version(form: FormData) -> int | None:
    """The record version the form was rendered at (a hidden field): the page's If-Match."""
    raw = str(form.get("version") or "")
    return int(raw) if raw.isdigit() else None


def see_other(path: str, **notice: str) -> RedirectResponse:
    """Post/redirect/get: 303 to ``path``, optionally with a notice for the next page
    (``?notice=...``, shown in a GOV.UK notification banner)."""
    query = f"?{urlencode(notice)}" if notice else ""
    return RedirectResponse(path + query, status_code=303)
