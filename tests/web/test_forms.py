"""The pages' shared form helpers: a malformed path id, a missing choice, a refused save."""

from __future__ import annotations

import uuid

import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.models.org import Team
from app.web.forms import parse_form, path_id, refused_form
from tests.factories import make_team


class _Visit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    child_seen: bool
    note: str


LABELS = {"child_seen": "whether the child was seen", "note": "what happened"}


def test_a_path_id_that_is_an_id_is_read_as_one() -> None:
    raw = "0b7e2c1a-3f4d-4c5e-8a9b-1c2d3e4f5a6b"
    assert path_id(raw, "case") == uuid.UUID(raw)


def test_a_malformed_path_id_is_a_record_nobody_may_see() -> None:
    with pytest.raises(NotFound) as refused:
        path_id("not-an-id", "case")
    assert refused.value.detail == "There is no case with this id that you can see."


def test_a_malformed_id_of_a_record_everyone_may_see_does_not_speak_of_seeing() -> None:
    with pytest.raises(NotFound) as refused:
        path_id("42", "return job", visible_to_all=True)
    assert refused.value.detail == "There is no return job with this id."


def test_a_missing_choice_is_asked_to_be_selected_and_a_missing_text_to_be_entered() -> None:
    body, errors = parse_form(_Visit, {}, LABELS, choices={"child_seen"})

    assert body is None
    assert errors.by_field == {
        "child_seen": "Select whether the child was seen",
        "note": "Enter what happened",
    }
    assert [item["text"] for item in errors.summary] == [
        "Select whether the child was seen",
        "Enter what happened",
    ]


def test_without_choices_a_missing_answer_is_asked_to_be_entered() -> None:
    _body, errors = parse_form(_Visit, {"note": "Seen at home"}, LABELS)
    assert errors.by_field == {"child_seen": "Enter whether the child was seen"}


def test_a_refused_save_is_undone_and_its_reason_shown_at_its_status(db: Session) -> None:
    teams_before = db.scalar(select(func.count()).select_from(Team))
    make_team(db)  # written before the service refused

    errors = refused_form(db, Conflict("Someone else changed this case first."))

    assert db.scalar(select(func.count()).select_from(Team)) == teams_before
    assert errors.status == 409
    assert errors.summary == [{"text": "Someone else changed this case first.", "href": "#main"}]


def test_a_refusal_naming_fields_puts_each_message_by_its_field(db: Session) -> None:
    errors = refused_form(db, Invalid.field("visit_date", "The visit cannot be in the future"))
    assert errors.status == 422
    assert errors.by_field == {"visit_date": "The visit cannot be in the future"}
