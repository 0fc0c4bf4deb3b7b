"""Rasa NLU training data (`nlu:` YAML) read as intents, so a Rasa team's data imports as is.

    version: "3.1"
    nlu:
    - intent: order_status
      examples: |
        - where is my order [FH-482913](order_number)
    - regex: order_number
      examples: |
        - FH-\\d{6}

Each `intent` becomes an intent with its examples (entity annotations `[text](entity)` and
`[text]{"entity": …}` reduced to their text, and their entities become the intent's slots);
entries of the same intent are merged; a `regex` becomes the slot's pattern. `synonym` and
`lookup` entries, and the `version`, `rules`, `stories` and `responses` keys, are accepted and
ignored: they do not change what the knowledge base recognises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from knowledge._yaml import YamlDoc

NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<entity>[^)]+)\)|(?P<json>\{[^}]*\}))")
IGNORED_KEYS = {"version", "rules", "stories", "responses"}
IGNORED_ENTRIES = {"synonym", "lookup"}
Problem = Callable[[int | None, str], None]


def is_rasa_nlu(data: Any) -> bool:
    """True for a Rasa NLU document (a mapping with an `nlu` list)."""
    return isinstance(data, dict) and "nlu" in data


def plain_example(line: str) -> tuple[str, list[str]]:
    """An example's text without entity markup, and the entities it names."""
    entities: list[str] = []

    def keep_text(match: re.Match[str]) -> str:
        entity = match.group("entity")
        if entity is None:
            try:
                entity = json.loads(match.group("json")).get("entity")
            except (ValueError, AttributeError):
                entity = None
        if entity:
            entities.append(entity.split(":")[0].strip())
        return match.group("text")

    return ANNOTATION.sub(keep_text, line), entities


def _examples(raw: Any) -> list[str] | None:
    """Rasa's `examples: |` block (lines starting with "- "), or a plain YAML list."""
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return [x.strip() for x in raw if x.strip()]
    if not isinstance(raw, str):
        return None
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    if not all(line.startswith("- ") or line == "-" for line in lines):
        return None
    return [line[2:].strip() for line in lines if line[2:].strip()]


def parse(doc: YamlDoc, problem: Problem) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Intents as {name, examples, slots, line} in file order, and slot patterns from regexes."""
    data = doc.data
    for key in data:
        if key != "nlu" and key not in IGNORED_KEYS:
            problem(doc.line_of(key), f"unknown key '{key}' in Rasa NLU data")
    entries = data.get("nlu")
    if not isinstance(entries, list):
        problem(doc.line_of("nlu"), "'nlu' must be a list of entries")
        return [], {}
    intents: dict[str, dict[str, Any]] = {}
    patterns: dict[str, list[str]] = {}
    for n, entry in enumerate(entries):
        line = doc.line_of("nlu", n)
        kind = next((k for k in ("intent", "regex", *IGNORED_ENTRIES)
                     if isinstance(entry, dict) and k in entry), None)
        if kind is None:
            problem(line, "an nlu entry needs 'intent', 'regex', 'synonym' or 'lookup'")
            continue
        if kind in IGNORED_ENTRIES:
            continue
        name = entry.get(kind)
        examples = _examples(entry.get("examples"))
        if not isinstance(name, str) or not NAME.match(name):
            problem(line, f"{kind} name {name!r} must be snake_case")
            continue
        if examples is None or not examples:
            problem(line, f"{kind} '{name}': 'examples' must be a block of '- ' lines")
            continue
        if kind == "regex":
            patterns.setdefault(name, []).extend(examples)
            continue
        intent = intents.setdefault(name, {"name": name, "examples": [], "slots": [], "line": line})
        for example in examples:
            text, entities = plain_example(example)
            if text not in intent["examples"]:
                intent["examples"].append(text)
            intent["slots"].extend(e for e in entities if e not in intent["slots"])
    merged = {}
    for name, alternatives in patterns.items():
        pattern = "|".join(f"(?:{p})" for p in alternatives)
        try:
            re.compile(pattern)
        except re.error as exc:
            problem(None, f"regex '{name}' is not a valid regular expression: {exc}")
            continue
        merged[name] = pattern
    return list(intents.values()), merged
