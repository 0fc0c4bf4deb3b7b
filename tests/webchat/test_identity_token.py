"""The site's signed identity token: which claims are read, and which are refused."""

from __future__ import annotations

import jwt
import pytest

from adapters.webchat.identity_token import IdentityTokenError, verify_identity_token

SECRET = "site-secret-for-tests-32-bytes-long!"


def token(**claims: object) -> str:
    return jwt.encode({"sub": "user-1", **claims}, SECRET, algorithm="HS256")


def test_attributes_and_locale_are_read_for_routing() -> None:
    claims = verify_identity_token(
        token(attributes={"vip": True, "plan": "gold", "orders": 12}, locale="es-MX"), SECRET
    )
    assert claims.attributes == {"language": "es-MX", "vip": True, "plan": "gold", "orders": 12}
    assert verify_identity_token(token(), SECRET).attributes == {}


@pytest.mark.parametrize(
    "attributes",
    [
        ["vip"],
        {"vip": {"nested": True}},
        {"": 1},
        {f"a{n}": n for n in range(21)},
        {"x": "y" * 300},
    ],
)
def test_attributes_that_are_not_a_small_flat_object_are_refused(attributes: object) -> None:
    with pytest.raises(IdentityTokenError):
        verify_identity_token(token(attributes=attributes), SECRET)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    forged = jwt.encode({"sub": "user-1", "attributes": {"vip": True}}, "x" * 32, algorithm="HS256")
    with pytest.raises(IdentityTokenError):
        verify_identity_token(forged, SECRET)
