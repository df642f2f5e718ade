"""Bearer JWTs from the council's identity provider, checked against a configured JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.models import Role
from tests.factories import make_user

ISSUER = "https://login.council.example/"
AUDIENCE = "casework"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def jwks_file(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> Path:
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    path = tmp_path / "jwks.json"
    path.write_text(
        json.dumps({"keys": [rsa_jwk | {"kid": "rsa-1"}, ec_jwk | {"kid": "ec-1"}]}),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def oidc_settings(settings: Settings, jwks_file: Path) -> Settings:
    return settings.model_copy(
        update={"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE, "oidc_jwks": str(jwks_file)}
    )


@pytest.fixture
def oidc_client(
    make_client: Callable[[Settings], TestClient], oidc_settings: Settings
) -> TestClient:
    return make_client(oidc_settings)


def make_jwt(key: Any, *, kid: str = "rsa-1", algorithm: str = "RS256", **overrides: Any) -> str:
    now = clock.now()
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "subject-123",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    claims.update(overrides)
    for name in [name for name, value in claims.items() if value is None]:
        del claims[name]
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")


def me(client: TestClient, token: str) -> Any:
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def linked_worker(db: Session) -> None:
    user = make_user(db, Role.social_worker, username="linked.worker")
    user.oidc_subject = "subject-123"
    db.commit()


@pytest.mark.usefixtures("linked_worker")
def test_a_valid_token_from_the_identity_provider_signs_in_the_linked_account(
    oidc_client: TestClient, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    for token in (make_jwt(rsa_key), make_jwt(ec_key, kid="ec-1", algorithm="ES256")):
        response = me(oidc_client, token)
        assert response.status_code == 200, response.text
        assert response.json()["user"]["username"] == "linked.worker"
        assert response.json()["auth"] == "oidc"
        assert response.json()["role"] == "social_worker"


@pytest.mark.usefixtures("linked_worker")
def test_the_role_is_the_accounts_not_a_claim_in_the_token(
    oidc_client: TestClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    response = me(oidc_client, make_jwt(rsa_key, casework_role="administrator"))
    assert response.json()["role"] == "social_worker"


@pytest.mark.usefixtures("linked_worker")
def test_the_jwks_may_be_a_file_url_or_inline_json(
    make_client: Callable[[Settings], TestClient],
    oidc_settings: Settings,
    jwks_file: Path,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    for source in (jwks_file.as_uri(), jwks_file.read_text(encoding="utf-8")):
        client = make_client(oidc_settings.model_copy(update={"oidc_jwks": source}))
        assert me(client, make_jwt(rsa_key)).status_code == 200


@pytest.mark.usefixtures("linked_worker")
@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"exp": 1_700_000_000}, "expired"),
        ({"exp": None}, "'exp'"),
        ({"aud": "another-service"}, "another service"),
        ({"iss": "https://evil.example/"}, "not issued by the council"),
        ({"sub": "someone-else"}, "not linked to a Casework account"),
        ({"nbf": 4_000_000_000}, "not valid yet"),
    ],
)
def test_a_token_that_is_expired_or_for_someone_else_is_refused(
    oidc_client: TestClient, rsa_key: rsa.RSAPrivateKey, claims: dict[str, Any], why: str
) -> None:
    response = me(oidc_client, make_jwt(rsa_key, **claims))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert why in response.json()["detail"]


@pytest.mark.usefixtures("linked_worker")
def test_expiry_is_judged_by_the_service_clock(
    oidc_client: TestClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with clock.frozen_at(start):
        token = make_jwt(rsa_key)
        assert me(oidc_client, token).status_code == 200
    with clock.frozen_at(start + timedelta(minutes=6)):
        assert me(oidc_client, token).status_code == 401


@pytest.mark.usefixtures("linked_worker")
def test_a_token_signed_with_another_key_is_refused(oidc_client: TestClient) -> None:
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = me(oidc_client, make_jwt(impostor))
    assert response.status_code == 401
    assert "signature is not valid" in response.json()["detail"]


@pytest.mark.usefixtures("linked_worker")
def test_forged_algorithms_are_refused(
    oidc_client: TestClient, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "subject-123", "exp": 4_000_000_000}
    # HS256 "signed" with the public key (made by hand: PyJWT itself refuses to), and a token
    # with no signature at all.
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'rsa-1'})}.{b64(claims)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    hmac_forgery = f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    unsigned = jwt.encode(claims, "", algorithm="none")
    # A valid EC signature presented under the RSA key's id.
    swapped = make_jwt(ec_key, kid="rsa-1", algorithm="ES256")
    for token in (hmac_forgery, unsigned, swapped):
        assert me(oidc_client, token).status_code == 401


@pytest.mark.usefixtures("linked_worker")
def test_a_token_naming_an_unknown_key_is_refused(
    oidc_client: TestClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    response = me(oidc_client, make_jwt(rsa_key, kid="retired-key"))
    assert response.status_code == 401
    assert "key this service does not know" in response.json()["detail"]


@pytest.mark.usefixtures("linked_worker")
def test_without_oidc_configured_a_jwt_is_refused(
    client: TestClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    response = me(client, make_jwt(rsa_key))
    assert response.status_code == 401
    assert "OIDC is not configured" in response.json()["detail"]


def test_a_bearer_value_that_is_not_a_jwt_is_refused(oidc_client: TestClient) -> None:
    response = me(oidc_client, "not-a-jwt")
    assert response.status_code == 401


@pytest.mark.usefixtures("linked_worker")
def test_an_unreadable_key_set_is_the_services_fault_not_the_callers(
    make_client: Callable[[Settings], TestClient],
    oidc_settings: Settings,
    tmp_path: Path,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    client = make_client(
        oidc_settings.model_copy(update={"oidc_jwks": str(tmp_path / "missing.json")})
    )
    response = me(client, make_jwt(rsa_key))
    assert response.status_code == 503


def test_the_key_set_is_never_fetched_over_the_network(
    make_client: Callable[[Settings], TestClient],
    oidc_settings: Settings,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    client = make_client(
        oidc_settings.model_copy(update={"oidc_jwks": "https://login.council.example/jwks"})
    )
    assert me(client, make_jwt(rsa_key)).status_code == 503
