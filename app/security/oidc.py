"""Bearer JWTs from the council's identity provider (OIDC), checked against its published keys.

The keys (a JWKS) come from configuration: a file path, a ``file://`` URL or the JSON itself. The
service never fetches keys over the network while answering a request: a slow or spoofed key
endpoint must not decide who gets in, and key rotation is an operator's deliberate act.

Only asymmetric algorithms are accepted (RS256, ES256), and the algorithm must be the key's own:
accepting ``none`` or an HMAC "signed" with the public key are the classic JWT forgeries (RFC 8725
section 2.1). ``exp``, ``iss``, ``aud`` and ``sub`` are required. The token names an account by its
``sub``; the role is the account's, not a claim's, so the identity provider cannot grant Casework
permissions by itself. Nothing from a refused token is logged.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.errors import ServiceUnavailable, Unauthenticated
from app.models.org import UserAccount
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal

log = logging.getLogger("casework.security")

ALGORITHMS = ("RS256", "ES256")
KEY_TYPES = {"RS256": "RSA", "ES256": "EC"}
# Tolerated difference between the identity provider's clock and ours.
CLOCK_SKEW = timedelta(seconds=30)
NOT_ACCEPTED = "The identity-provider token was not accepted"


def _jwks_text(source: str) -> str:
    stripped = source.strip()
    if stripped.startswith("{"):
        return stripped
    if stripped.startswith("file://"):
        return Path(unquote(urlparse(stripped).path)).read_text(encoding="utf-8")
    if "://" in stripped:
        raise ValueError("only a path, a file:// URL or inline JSON is accepted")
    return Path(stripped).read_text(encoding="utf-8")


def _jwks_version(source: str) -> int:
    """The file's modification time, so that a replaced key file is read again."""
    stripped = source.strip()
    if stripped.startswith("{"):
        return 0
    path = unquote(urlparse(stripped).path) if stripped.startswith("file://") else stripped
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


@lru_cache(maxsize=4)
def _load_jwks(source: str, version: int) -> jwt.PyJWKSet:
    data = json.loads(_jwks_text(source))
    # Only asymmetric keys: an "oct" (shared secret) key in the set could be used for HS256.
    keys = [
        k for k in data.get("keys", []) if isinstance(k, dict) and k.get("kty") in ("RSA", "EC")
    ]
    return jwt.PyJWKSet(keys)


def load_jwks(source: str) -> jwt.PyJWKSet:
    """The key set named by ``settings.oidc_jwks`` (cached until the file changes)."""
    try:
        return _load_jwks(source, _jwks_version(source))
    except (OSError, ValueError, jwt.PyJWKSetError, jwt.InvalidKeyError) as exc:
        # The operator's problem, not the caller's: 503 so that monitoring notices.
        log.error("the OIDC key set (CASEWORK_OIDC_JWKS) cannot be used: %s", type(exc).__name__)
        raise ServiceUnavailable(
            "Identity-provider sign-in is not available just now; try again later."
        ) from None


def _signing_key(jwks: jwt.PyJWKSet, header: dict[str, Any]) -> jwt.PyJWK:
    kid = header.get("kid")
    if kid is None:
        keys = list(jwks)
        if len(keys) != 1:
            raise Unauthenticated(f"{NOT_ACCEPTED}: it does not say which key signed it.")
        return keys[0]
    try:
        return jwks[str(kid)]
    except KeyError:
        raise Unauthenticated(
            f"{NOT_ACCEPTED}: it was signed with a key this service does not know."
        ) from None


def _timestamp(claims: dict[str, Any], name: str) -> datetime:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthenticated(f"{NOT_ACCEPTED}: its '{name}' claim is not a time.")
    return datetime.fromtimestamp(value, UTC)


def authenticate_jwt(session: Session, token: str, settings: Settings) -> Principal:
    """The principal for a JWT from the council's identity provider, or 401 saying why not."""
    if not (settings.oidc_jwks and settings.oidc_issuer and settings.oidc_audience):
        raise Unauthenticated(
            "This bearer token is not a Casework token, and identity-provider (OIDC) tokens are "
            "not accepted here because OIDC is not configured."
        )
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise Unauthenticated(
            "The bearer token is neither a Casework token nor a well-formed JWT."
        ) from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise Unauthenticated(f"{NOT_ACCEPTED}: it must be signed with RS256 or ES256.")
    key = _signing_key(load_jwks(settings.oidc_jwks), header)
    if key.key_type != KEY_TYPES[algorithm] or key.algorithm_name != algorithm:
        raise Unauthenticated(f"{NOT_ACCEPTED}: its algorithm does not match its key.")
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[algorithm],
            audience=settings.oidc_audience,
            issuer=settings.oidc_issuer,
            options={
                "require": ["exp", "iss", "aud", "sub"],
                # Times are checked below against app.clock, the one clock the service reads.
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise Unauthenticated(f"{NOT_ACCEPTED}: its signature is not valid.") from None
    except jwt.InvalidAudienceError:
        raise Unauthenticated(f"{NOT_ACCEPTED}: it was issued for another service.") from None
    except jwt.InvalidIssuerError:
        raise Unauthenticated(
            f"{NOT_ACCEPTED}: it was not issued by the council's identity provider."
        ) from None
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthenticated(f"{NOT_ACCEPTED}: it has no '{exc.claim}' claim.") from None
    except jwt.PyJWTError as exc:
        log.info("JWT refused: %s", type(exc).__name__)
        raise Unauthenticated(f"{NOT_ACCEPTED}.") from None
    now = clock.now()
    if _timestamp(claims, "exp") <= now - CLOCK_SKEW:
        raise Unauthenticated(f"{NOT_ACCEPTED}: it has expired.", code="token_expired")
    if "nbf" in claims and _timestamp(claims, "nbf") > now + CLOCK_SKEW:
        raise Unauthenticated(f"{NOT_ACCEPTED}: it is not valid yet.")
    subject = claims["sub"]
    user = (
        session.scalar(select(UserAccount).where(UserAccount.oidc_subject == subject))
        if isinstance(subject, str) and subject
        else None
    )
    if user is None:
        raise Unauthenticated(
            "Your identity-provider account is not linked to a Casework account; ask an "
            "administrator to link it."
        )
    return principal_for_user(session, user, auth=AuthMethod.oidc)
