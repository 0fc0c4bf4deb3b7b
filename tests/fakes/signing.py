"""Sign INBOUND webhook requests exactly as each provider does, with the SDKs' own code.

Each helper returns the headers to send along with the request:

- Twilio: ``X-Twilio-Signature`` from ``twilio.request_validator.RequestValidator``
  (HMAC-SHA1 over the full URL + the sorted form fields, base64).
- Slack: ``X-Slack-Signature`` + ``X-Slack-Request-Timestamp`` from
  ``slack_sdk.signature.SignatureVerifier`` (``v0=`` HMAC-SHA256 over ``v0:{ts}:{body}``).
- Meta: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>``.
  Meta ships no Python SDK that signs or verifies webhooks, so this is the documented formula
  written out with :mod:`hmac`.
- Telegram: ``X-Telegram-Bot-Api-Secret-Token``: no signature, the secret_token given to
  ``setWebhook`` is echoed verbatim.

The SDK imports are inside the functions so this module imports without twilio or slack_sdk.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode


def twilio_signature(auth_token: str, url: str, params: Mapping[str, Any] | None = None) -> str:
    """``X-Twilio-Signature`` for a POST of form ``params`` (or a GET) to ``url``."""
    from twilio.request_validator import RequestValidator

    return RequestValidator(auth_token).compute_signature(url, dict(params or {}))


def twilio_headers(
    auth_token: str, url: str, params: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Headers for a Twilio webhook POST of ``params`` form-encoded to ``url``.

    ``url`` must be the exact URL the gateway will reconstruct (scheme, host, port, path, query).
    """
    return {
        "X-Twilio-Signature": twilio_signature(auth_token, url, params),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def twilio_form_body(params: Mapping[str, Any]) -> str:
    """The form body Twilio sends for ``params`` (list values become repeated fields)."""
    return urlencode(list(_flatten(params)))


def twilio_json_url(url: str, body: bytes) -> str:
    """The URL Twilio calls for a JSON-bodied webhook: ``bodySHA256`` added to the query.

    Sign that URL with empty params (``twilio_signature(token, twilio_json_url(...))``);
    ``RequestValidator.validate(url, body.decode(), signature)`` checks the hash too.
    """
    digest = hashlib.sha256(body).hexdigest()
    return f"{url}{'&' if '?' in url else '?'}bodySHA256={digest}"


def slack_headers(
    signing_secret: str, body: str | bytes, timestamp: int | str | None = None
) -> dict[str, str]:
    """``X-Slack-Signature`` and ``X-Slack-Request-Timestamp`` for the raw ``body``.

    ``timestamp`` defaults to now: Slack's verifiers reject requests older than five minutes.
    """
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {"X-Slack-Signature": signature, "X-Slack-Request-Timestamp": ts}


def meta_signature(app_secret: str | bytes, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the raw request body keyed by the app secret."""
    key = app_secret.encode() if isinstance(app_secret, str) else app_secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def meta_headers(app_secret: str | bytes, body: bytes) -> dict[str, str]:
    """Headers Meta sends with a webhook POST (Messenger, Instagram, WhatsApp Cloud)."""
    return {
        "X-Hub-Signature-256": meta_signature(app_secret, body),
        "Content-Type": "application/json",
    }


def meta_body(payload: Any) -> bytes:
    """A payload serialised once, so the signed bytes are the bytes sent."""
    return json.dumps(payload, separators=(",", ":")).encode()


def telegram_headers(secret_token: str) -> dict[str, str]:
    """Headers Telegram sends with each update when ``setWebhook(secret_token=...)`` was set."""
    return {
        "X-Telegram-Bot-Api-Secret-Token": secret_token,
        "Content-Type": "application/json",
    }


def _flatten(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, str(v)) for v in values)
    return pairs
