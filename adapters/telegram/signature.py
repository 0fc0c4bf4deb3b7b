"""Telegram's webhook check: the secret token we registered, echoed in a header."""

from __future__ import annotations

import hmac


def secret_valid(expected: str, header: str | None) -> bool:
    """True when X-Telegram-Bot-Api-Secret-Token equals our secret (constant time)."""
    return header is not None and hmac.compare_digest(header.encode(), expected.encode())
