"""Take card numbers and other configured patterns out of text before it leaves for Slack.

Agents never need a full card number, and Slack is not a place to keep one (PCI DSS): a run of
13-19 digits, spaces or dashes allowed between them, that passes the Luhn check is replaced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CARD_MASK = "[card number removed]"
MASK = "[removed]"

_CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return CARD_MASK if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


def redact(text: str, patterns: Iterable[re.Pattern[str]] = ()) -> str:
    """The text with card numbers and every match of the extra patterns masked."""
    text = _CARD_CANDIDATE.sub(_mask_card, text)
    for pattern in patterns:
        text = pattern.sub(MASK, text)
    return text
