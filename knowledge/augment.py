"""Conversational variants of a knowledge base's own texts, for training the engine.

Customers rarely type an FAQ question the way the article lists it: they greet, explain, thank,
drop punctuation and capitals, and mistype. The generic out-of-scope class (chit-chat among it)
then pulls such chatty but real questions away from the articles. Training on a few chatty
variants of every title, question and intent example teaches the model that the frame is noise
and the content decides. Deterministic (no randomness: a variant depends only on its text) and
built only from the KB's own texts plus the generic frames below, never from any query file.
"""

from __future__ import annotations

import re
import zlib

#: (prefix, suffix) pairs wrapped around a lower-cased question.
FRAMES: tuple[tuple[str, str], ...] = (
    ("hi, ", ""),
    ("hello there! quick question: ", ""),
    ("hey, ", " thanks"),
    ("hi i was wondering ", ""),
    ("", " thanks!"),
    ("good morning, ", " thank you"),
    ("sorry to bother you but ", ""),
    ("hi, can you tell me ", " please"),
    ("ok so ", " ?"),
    ("hello, ", " thx"),
    ("quick one: ", ""),
    ("hey there, ", " cheers"),
    ("my friend asked me ", ""),
    ("", " pls help"),
    ("hi team, ", " many thanks"),
    ("one more thing, ", ""),
)
_PUNCT = re.compile(r"[?!.,;:]+")
_LONG_WORD = re.compile(r"[a-z]{5,}")


def _typo(text: str, seed: int) -> str:
    """Swap two adjacent letters inside one longer word (or drop one), chosen by seed."""
    words = list(_LONG_WORD.finditer(text))
    if not words:
        return text
    m = words[seed % len(words)]
    w = m.group()
    i = 1 + (seed // 7) % (len(w) - 2)
    w = w[:i] + w[i + 1] + w[i] + w[i + 2 :] if seed % 2 else w[:i] + w[i + 1 :]
    return text[: m.start()] + w + text[m.end() :]


def variants(text: str, copies: int) -> list[str]:
    """Up to `copies` chatty variants: lower-cased, framed, some unpunctuated or mistyped."""
    seed = zlib.crc32(text.encode("utf-8"))
    base = text.strip().lower()
    out: list[str] = []
    for k in range(copies):
        s = seed // (k + 1) + 31 * k
        body = _PUNCT.sub("", base).strip() if s % 3 == 0 else base
        if s % 4 == 1:
            body = _typo(body, s // 4)
        prefix, suffix = FRAMES[(seed + 5 * k) % len(FRAMES)]
        variant = f"{prefix}{body}{suffix}"
        if variant != text and variant not in out:
            out.append(variant)
    return out
