"""Visitor identity from the website: an HS256 JWT signed with WEBCHAT_IDENTITY_SECRET."""

from __future__ import annotations

from dataclasses import dataclass, field

import jwt

from gateway.messages import Evidence

VERIFIED_BY = "webchat_jwt"


class IdentityTokenError(ValueError):
    """The token is malformed, expired, or not signed with the site's secret."""


@dataclass(frozen=True)
class VisitorClaims:
    """What the site vouches for about its logged-in user."""

    sub: str
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    # Facts the site vouches for that route a handoff (vip, plan, language…).
    attributes: dict[str, str | int | float | bool] = field(default_factory=dict)

    def evidence(self) -> tuple[Evidence, ...]:
        """The verified phone and email, as identity evidence."""
        found = []
        if self.phone:
            found.append(Evidence("phone", self.phone, VERIFIED_BY))
        if self.email:
            found.append(Evidence("email", self.email, VERIFIED_BY))
        return tuple(found)


def verify_identity_token(token: str, secret: str) -> VisitorClaims:
    """Check the signature (HS256 only), expiry if present, and read the claims."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["sub"]}, leeway=30
        )
    except jwt.PyJWTError as exc:
        raise IdentityTokenError(str(exc)) from None
    values = {k: claims.get(k) for k in ("sub", "email", "phone", "name")}
    for key, value in values.items():
        if value is not None and (not isinstance(value, str) or len(value) > 256):
            raise IdentityTokenError(f"claim {key!r} must be a string of at most 256 characters")
    if not values["sub"]:
        raise IdentityTokenError("claim 'sub' is empty")
    return VisitorClaims(**values, attributes=_attributes(claims))


MAX_ATTRIBUTES = 20


def _attributes(claims: dict) -> dict[str, str | int | float | bool]:
    raw = claims.get("attributes", {})
    if not isinstance(raw, dict) or len(raw) > MAX_ATTRIBUTES:
        raise IdentityTokenError(
            f"claim 'attributes' must be an object of at most {MAX_ATTRIBUTES}"
        )
    for key, value in raw.items():
        scalar = isinstance(value, str | int | float | bool) and len(str(value)) <= 256
        if not (isinstance(key, str) and 0 < len(key) <= 64 and scalar):
            raise IdentityTokenError(f"attribute {key!r} must be a string, number or boolean")
    locale = claims.get("locale")
    if isinstance(locale, str) and locale:
        return {"language": locale[:16], **raw}
    return dict(raw)
