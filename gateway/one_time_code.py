"""One-time codes: proof that a customer controls a phone or email, by typing back what we sent.

The challenge is plain data kept in the conversation state; only a salted hash of the code is
stored, it expires, and it allows a few attempts, so guessing is hopeless.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from gateway.messages import Evidence

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
VERIFIED_BY = "one_time_code"


@dataclass(frozen=True)
class Challenge:
    """A code sent to a phone or email and not yet typed back."""

    kind: Literal["phone", "email"]
    value: str
    salt: str
    digest: str
    expires_at: str
    attempts_left: int

    def to_dict(self) -> dict[str, Any]:
        """Plain form for the conversation state."""
        return asdict(self)


def _digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def issue(kind: Literal["phone", "email"], value: str, now: datetime) -> tuple[str, Challenge]:
    """A fresh code to send, and the challenge to keep."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_hex(16)
    expires = (now + CODE_TTL).isoformat()
    return code, Challenge(kind, value, salt, _digest(salt, code), expires, MAX_ATTEMPTS)


def check(
    challenge: dict[str, Any], typed: str, now: datetime
) -> tuple[Evidence | None, Challenge | None]:
    """(evidence, None) on the right code; (None, the challenge left) otherwise, None when spent."""
    current = Challenge(**challenge)
    if now > datetime.fromisoformat(current.expires_at) or current.attempts_left <= 0:
        return None, None
    code = "".join(ch for ch in typed if ch.isdigit())
    if len(code) == CODE_DIGITS and hmac.compare_digest(
        _digest(current.salt, code), current.digest
    ):
        return Evidence(current.kind, current.value, VERIFIED_BY), None
    left = current.attempts_left - 1
    if left <= 0:
        return None, None
    return None, Challenge(**{**challenge, "attempts_left": left})
