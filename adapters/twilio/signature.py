"""Twilio's request signature, checked with the SDK's own validator (constant-time compare)."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


def signature_valid(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """True when X-Twilio-Signature signs this exact public URL and these form parameters."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))
