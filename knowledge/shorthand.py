"""Texting shorthand spelled out before a message is ranked ("hw do i chk gc bal").

Customers on SMS and chat apps abbreviate. Only words the knowledge base does not know are
touched, so a message in plain words is ranked exactly as written. A word is spelled out when it
is common texting shorthand (the table below) or, written in lower case, the initials of a phrase
of content words the knowledge base uses often ("gc" for "gift card").

Not done: spelling out the start of a longer knowledge-base word ("bal" for "balance"). On the
demo's dev queries it also turned plain English the KB never uses into other words ("rid" into
"ridge", "cook" into "cookies", "safe" into "safety").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

from knowledge.stop_words import ENGLISH_STOP_WORDS

#: General texting shorthand; nothing specific to one business.
COMMON = {
    "abt": "about", "acct": "account", "addr": "address", "amt": "amount", "appt": "appointment",
    "b4": "before", "bal": "balance", "bday": "birthday", "chk": "check", "cuz": "because",
    "hw": "how", "hrs": "hours", "idk": "i don't know", "info": "information", "mins": "minutes",
    "msg": "message", "nvm": "never mind", "pkg": "package", "pls": "please", "plz": "please",
    "pw": "password", "pwd": "password", "qty": "quantity", "r": "are", "rcvd": "received",
    "recd": "received", "thx": "thanks", "tmrw": "tomorrow", "tmr": "tomorrow", "u": "you",
    "ur": "your", "w/": "with", "w/o": "without", "wat": "what", "wk": "week", "whr": "where",
    "wen": "when", "yr": "year", "y": "why", "2day": "today", "2morrow": "tomorrow",
}  # fmt: skip

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:/o|/)?|[^A-Za-z0-9]+")
_WORD = re.compile(r"[a-z]+")
_URL = re.compile(r"https?://\S+")
#: A phrase must be used this often in the knowledge base to own its initials.
MIN_PHRASE_COUNT = 3


class Shorthand:
    """Spells out shorthand using a fixed table and what the knowledge base's texts say."""

    def __init__(self, texts: Iterable[str], knows: Callable[[str], bool]) -> None:
        self._knows = knows
        # Phrases of 2-3 content words, counted by their singular form ("gift cards" is "gift
        # card"), each remembering the form used most.
        phrases: Counter[str] = Counter()
        forms: dict[str, Counter[str]] = {}
        for text in texts:
            tokens = _WORD.findall(_URL.sub(" ", text.lower()))
            for n in (2, 3):
                for i in range(len(tokens) - n + 1):
                    parts = tokens[i : i + n]
                    if all(len(w) > 2 and w not in ENGLISH_STOP_WORDS for w in parts):
                        key = " ".join(w.removesuffix("s") for w in parts)
                        phrases[key] += 1
                        forms.setdefault(key, Counter())[" ".join(parts)] += 1
        initials: dict[str, Counter[str]] = {}
        for key, count in phrases.items():
            if count >= MIN_PHRASE_COUNT:
                initials.setdefault("".join(w[0] for w in key.split()), Counter())[key] = count
        # Initials that could stand for two frequent phrases are ambiguous: left alone.
        self._initials = {
            letters: forms[c.most_common(1)[0][0]].most_common(1)[0][0]
            for letters, c in initials.items()
            if len(c) == 1 or c.most_common(2)[1][1] * 3 <= c.most_common(1)[0][1]}

    def expand(self, text: str) -> str:
        """The text with every unknown shorthand word spelled out; unchanged if there is none."""
        out: list[str] = []
        changed = False
        for token in _TOKEN.findall(text):
            lower = token.lower()
            if not token[0].isalnum() or self._knows(lower):
                out.append(token)
                continue
            full = COMMON.get(lower)
            if full is None and token.islower():
                # Capitalised or upper-case words are names ("REI"), not shorthand.
                full = self._initials.get(lower)
            changed |= full is not None
            out.append(full or token)
        return "".join(out) if changed else text
