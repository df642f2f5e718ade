"""Passwords are stored as argon2id hashes and upgraded when the hashing parameters move on."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.models import UserAccount
from app.security.passwords import (
    hash_password,
    password_policy_check,
    verify_and_rehash,
    verify_password,
)
from tests.factories import make_user
from tests.security.helpers import PASSWORD, sign_in


def test_a_password_is_stored_as_an_argon2id_hash_that_only_it_matches() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")


def test_a_damaged_stored_hash_is_a_mismatch_not_a_crash() -> None:
    assert not verify_password("not-a-hash", PASSWORD)
    assert verify_and_rehash("$argon2id$garbage", PASSWORD) == (False, None)


def test_a_hash_made_with_current_parameters_is_kept() -> None:
    assert verify_and_rehash(hash_password(PASSWORD), PASSWORD) == (True, None)


def test_a_hash_made_with_weaker_parameters_is_replaced_at_sign_in(
    client: TestClient, db: Session
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    user = make_user(db, username="old.hash")
    user.password_hash = weak
    db.commit()

    sign_in(client, "old.hash")

    db.expire_all()
    upgraded = db.get_one(UserAccount, user.id).password_hash
    assert upgraded is not None
    assert upgraded != weak
    assert "m=65536,t=3,p=4" in upgraded
    assert verify_password(upgraded, PASSWORD)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pass1", "at least 12 characters"),
        ("x" * 129, "at most 128 characters"),
        ("Jo.Bloggs.1234", "must not be your username"),
    ],
)
def test_the_password_policy_names_the_field_and_the_rule(password: str, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        password_policy_check(password, username="jo.bloggs.1234")
    assert caught.value.extra["errors"][0]["field"] == "new_password"
    assert message in caught.value.detail


def test_a_long_passphrase_of_twelve_characters_or_more_is_accepted() -> None:
    password_policy_check("twelve chars", username="jo")
