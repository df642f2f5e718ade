"""Local passwords: argon2id hashes, verified in constant time, upgraded when the parameters change.

argon2id is the first choice of the OWASP Password Storage Cheat Sheet; argon2-cffi's defaults
(RFC 9106 "low memory" profile: t=3, m=64 MiB, p=4) are used as they are. When those defaults
move on, a hash made with the old ones is replaced the next time its owner signs in
(``check_needs_rehash``), so stored hashes never lag behind for long.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.errors import Invalid

_hasher = PasswordHasher()

# ASVS 2.1.1: at least 12 characters; ASVS 2.1.2: at least 64 allowed, more than 128 may be refused.
MIN_LENGTH = 12
MAX_LENGTH = 128


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; a malformed stored hash is a mismatch."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_and_rehash(password_hash: str, password: str) -> tuple[bool, str | None]:
    """Verify, and when the password is right but the hash was made with older parameters, return
    its replacement (rehash-on-verify: the only moment the plain password is at hand)."""
    if not verify_password(password_hash, password):
        return False, None
    try:
        stale = _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:  # pragma: no cover - verify_password already refused it
        stale = True
    return True, (hash_password(password) if stale else None)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("casework-timing-equaliser")


def burn_verify_time() -> None:
    """Spend what a real verification costs, so that an unknown username answers as slowly as a
    wrong password and response times do not reveal which usernames exist (ASVS 2.2.1, 3.x)."""
    verify_password(_dummy_hash(), "not-the-password")


def password_policy_check(password: str, *, username: str, field: str = "new_password") -> None:
    """The password rules (ASVS 2.1): length, and not the username. No composition rules and no
    forced expiry (NIST SP 800-63B 5.1.1.2): they push people to predictable passwords."""
    if len(password) < MIN_LENGTH:
        raise Invalid.field(field, f"Use a password of at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise Invalid.field(field, f"Use a password of at most {MAX_LENGTH} characters.")
    if password.strip().lower() == username.strip().lower():
        raise Invalid.field(field, "Your password must not be your username.")
