"""Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>`."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def signature_valid(app_secret: bytes, raw_body: bytes, header: str | None) -> bool:
    """True when the header signs these exact bytes; compare in constant time.

    Meta signs the raw payload (with unicode escaped), so this must run on the bytes received,
    before any JSON parsing.
    """
    if not header or not header.startswith(PREFIX):
        return False
    expected = hmac.new(app_secret, raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len(PREFIX) :].strip().lower().encode())
