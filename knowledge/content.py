"""Knowledge-base content: articles and intents, parsed from and written to a folder.

The format is described in ``knowledge/demo/README.md``. Every problem is reported as a
:class:`ContentError` naming the file and, where known, the line; loading a folder collects all
of them and raises :class:`ContentErrors`, so nothing is ever half-loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge import rasa_nlu
from knowledge._yaml import YamlDoc, load_yaml

ARTICLE_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
INTENT_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
SLOT_NAME_RE = INTENT_NAME_RE
TAG_RE = ARTICLE_ID_RE
SMS_MAX_CHARS = 320
ARTICLE_KEYS = ("id", "title", "questions", "tags", "sms")
INTENT_KEYS = ("name", "description", "slots", "examples")
SLOT_KEYS = ("description", "pattern", "example")
INTENTS_FILE = "intents.yml"
RASA_NLU_FILES = ("nlu.yml", "data/nlu.yml")
ARTICLES_DIR = "articles"


@dataclass(frozen=True)
class Article:
    """One FAQ article: the question it answers, ways customers ask it, and the answer."""

    id: str
    title: str
    questions: tuple[str, ...]
    tags: tuple[str, ...]
    sms: str | None
    body: str


@dataclass(frozen=True)
class SlotSpec:
    """How one slot value (e.g. an order number) looks."""

    name: str
    description: str
    pattern: str | None = None
    example: str | None = None


@dataclass(frozen=True)
class Intent:
    """Something the bot does (order status, cancel...) rather than an article it answers from."""

    name: str
    description: str
    slots: tuple[str, ...]
    examples: tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeBase:
    """A complete, validated knowledge base."""

    articles: tuple[Article, ...]
    intents: tuple[Intent, ...] = ()
    slots: tuple[SlotSpec, ...] = ()

    def article(self, article_id: str) -> Article | None:
        """The article with this id, or None."""
        return next((a for a in self.articles if a.id == article_id), None)

    def intent(self, name: str) -> Intent | None:
        """The intent with this name, or None."""
        return next((i for i in self.intents if i.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-able dict (lists, strings, None) for storage."""
        return {
            "articles": [
                {
                    "id": a.id,
                    "title": a.title,
                    "questions": list(a.questions),
                    "tags": list(a.tags),
                    "sms": a.sms,
                    "body": a.body,
                }
                for a in self.articles
            ],
            "intents": [
                {
                    "name": i.name,
                    "description": i.description,
                    "slots": list(i.slots),
                    "examples": list(i.examples),
                }
                for i in self.intents
            ],
            "slots": [
                {"name": s.name, "description": s.description, "pattern": s.pattern,
                 "example": s.example}
                for s in self.slots
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KnowledgeBase:
        """Rebuild a knowledge base from :meth:`to_dict` output."""
        return cls(
            articles=tuple(
                Article(
                    id=a["id"],
                    title=a["title"],
                    questions=tuple(a["questions"]),
                    tags=tuple(a.get("tags") or ()),
                    sms=a.get("sms"),
                    body=a["body"],
                )
                for a in data.get("articles", ())
            ),
            intents=tuple(
                Intent(
                    name=i["name"],
                    description=i["description"],
                    slots=tuple(i.get("slots") or ()),
                    examples=tuple(i["examples"]),
                )
                for i in data.get("intents", ())
            ),
            slots=tuple(
                SlotSpec(
                    name=s["name"],
                    description=s["description"],
                    pattern=s.get("pattern"),
                    example=s.get("example"),
                )
                for s in data.get("slots", ())
            ),
        )


# Not frozen: exceptions get attributes set on them after creation (add_note sets __notes__).
@dataclass
class ContentError(Exception):
    """One problem in one file; ``line`` is 1-based, None when it concerns the whole file."""

    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.reason}"
        return f"{self.path}:{self.line}: {self.reason}"


class ContentErrors(Exception):
    """Every problem found while loading content (raised only when there is at least one)."""

    def __init__(self, errors: Iterable[ContentError]) -> None:
        self.errors: tuple[ContentError, ...] = tuple(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    def __iter__(self) -> Iterator[ContentError]:
        return iter(self.errors)

    def __len__(self) -> int:
        return len(self.errors)


@dataclass
class _Problems:
    """Collects ContentErrors for one file."""

    path: str
    errors: list[ContentError] = field(default_factory=list)

    def add(self, line: int | None, reason: str) -> None:
        self.errors.append(ContentError(self.path, line, reason))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ContentErrors(self.errors)


def _text(doc: YamlDoc, value: Any, key: str, problems: _Problems, *, required: bool) -> str | None:
    """A non-empty string value, or None after recording why not."""
    if value is None:
        if required:
            problems.add(doc.line_of(key), f"'{key}' must not be empty")
        return None
    if not isinstance(value, str):
        problems.add(doc.line_of(key), f"'{key}' must be a string, not {_kind(value)}")
        return None
    if not value.strip():
        problems.add(doc.line_of(key), f"'{key}' must not be empty")
        return None
    return value.strip()


def _text_list(
    doc: YamlDoc, value: Any, key: str, problems: _Problems, *, min_items: int
) -> tuple[str, ...]:
    """A list of non-empty strings, recording every bad item with its own line."""
    if value is None:
        value = []
    if not isinstance(value, list):
        problems.add(doc.line_of(key), f"'{key}' must be a list, not {_kind(value)}")
        return ()
    items: list[str] = []
    for i, item in enumerate(value):
        line = doc.line_of(key, i)
        if not isinstance(item, str):
            problems.add(line, f"'{key}' item {i + 1} must be a string, not {_kind(item)}")
        elif not item.strip():
            problems.add(line, f"'{key}' item {i + 1} is empty")
        else:
            items.append(item.strip())
    if len(value) < min_items:
        problems.add(doc.line_of(key), f"'{key}' needs at least {min_items} item(s)")
    return tuple(items)


def _kind(value: Any) -> str:
    """A YAML-ish name for a value's type, for messages."""
    return {dict: "a mapping", list: "a list", bool: "a boolean", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def _check_keys(
    doc: YamlDoc, data: dict[str, Any], allowed: tuple[str, ...], required: tuple[str, ...],
    problems: _Problems, where: str, *path: str | int,
) -> None:
    """Record unknown keys (typos) and missing required ones."""
    for key in data:
        if key not in allowed:
            problems.add(
                doc.line_of(*path, key),
                f"unknown key '{key}' in {where} (allowed: {', '.join(allowed)})",
            )
    for key in required:
        if key not in data:
            problems.add(doc.line_of(*path), f"{where} lacks required key '{key}'")


def _split_front_matter(text: str, problems: _Problems) -> tuple[str, str, int] | None:
    """(front matter, body, file line of the body's first line), or None if malformed."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        problems.add(1, "the file must start with a '---' line opening the YAML front matter")
        return None
    for n, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "".join(lines[1:n]), "".join(lines[n + 1 :]), n + 2
    problems.add(1, "the front matter has no closing '---' line")
    return None


def parse_article(path_or_name: str | Path, text: str) -> Article:
    """Parse one article file's text; raises ContentErrors listing every problem."""
    path = str(path_or_name)
    problems = _Problems(path)
    article = _parse_article(Path(path).name, text, problems)
    problems.raise_if_any()
    assert article is not None
    return article


def _parse_article(file_name: str, text: str, problems: _Problems) -> Article | None:
    """Parse into an Article, recording problems; None if any were found."""
    text = text.removeprefix("\ufeff")
    split = _split_front_matter(text, problems)
    if split is None:
        return None
    front, body, body_line = split
    # Front matter starts on file line 2.
    doc = load_yaml(front, first_line=2, problems=problems.add)
    if doc is None:
        return None
    data = doc.data
    if not isinstance(data, dict):
        problems.add(2, "the front matter must be a mapping of keys such as id, title, questions")
        return None
    _check_keys(doc, data, ARTICLE_KEYS, ("id", "title", "questions"), problems, "front matter")

    article_id = _text(doc, data.get("id"), "id", problems, required="id" in data)
    if article_id is not None:
        if not ARTICLE_ID_RE.match(article_id):
            problems.add(
                doc.line_of("id"),
                f"id '{article_id}' must be lowercase letters, digits and single hyphens",
            )
        stem = file_name.removesuffix(".md")
        if article_id != stem:
            problems.add(doc.line_of("id"), f"id '{article_id}' does not match file name '{stem}'")
    title = _text(doc, data.get("title"), "title", problems, required="title" in data)
    questions = _text_list(doc, data.get("questions"), "questions", problems,
                           min_items=1 if "questions" in data else 0)
    tags = _text_list(doc, data.get("tags"), "tags", problems, min_items=0)
    for i, tag in enumerate(tags):
        if not TAG_RE.match(tag):
            problems.add(doc.line_of("tags", i), f"tag '{tag}' must be a lowercase word")
    sms = _text(doc, data.get("sms"), "sms", problems, required="sms" in data)
    if sms is not None:
        if len(sms) > SMS_MAX_CHARS:
            problems.add(doc.line_of("sms"),
                         f"sms is {len(sms)} characters; at most {SMS_MAX_CHARS} allowed")
        if not sms.isascii():
            bad = sorted({c for c in sms if not c.isascii()})
            problems.add(doc.line_of("sms"), f"sms must be ASCII; found {''.join(bad)!r}")
    if not body.strip():
        problems.add(body_line, "the article has no body after the front matter")
    if problems.errors or article_id is None or title is None:
        return None
    return Article(article_id, title, questions, tags, sms, body.strip())


def parse_intents(text: str, path: str | Path = INTENTS_FILE) -> tuple[
    tuple[Intent, ...], tuple[SlotSpec, ...]
]:
    """Parse an intents.yml text into (intents, slots); raises ContentErrors."""
    problems = _Problems(str(path))
    result = _parse_intents(text.removeprefix("\ufeff"), problems)
    problems.raise_if_any()
    return result


def _parse_intents(
    text: str, problems: _Problems
) -> tuple[tuple[Intent, ...], tuple[SlotSpec, ...]]:
    """Parse intents and slots, recording problems."""
    doc = load_yaml(text, first_line=1, problems=problems.add)
    if doc is None:
        return (), ()
    data = doc.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.add(1, "intents.yml must be a mapping with the keys 'slots' and 'intents'")
        return (), ()
    if rasa_nlu.is_rasa_nlu(data):
        return _from_rasa_nlu(doc, problems)
    _check_keys(doc, data, ("slots", "intents"), ("intents",), problems, "intents.yml")
    slots = _parse_slots(doc, data.get("slots"), problems)

    raw = data.get("intents")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        problems.add(doc.line_of("intents"), f"'intents' must be a list, not {_kind(raw)}")
        raw = []
    intents: list[Intent] = []
    seen: dict[str, int | None] = {}
    for n, item in enumerate(raw):
        where = f"intent {n + 1}"
        if not isinstance(item, dict):
            problems.add(doc.line_of("intents", n), f"{where} must be a mapping")
            continue
        sub = doc.sub("intents", n)
        _check_keys(doc, item, INTENT_KEYS, ("name", "description", "examples"), problems,
                    where, "intents", n)
        before = len(problems.errors)
        name = _text(sub, item.get("name"), "name", problems, required="name" in item)
        if name is not None:
            where = f"intent '{name}'"
            if not INTENT_NAME_RE.match(name):
                problems.add(sub.line_of("name"), f"intent name '{name}' must be snake_case")
            if name in seen:
                problems.add(sub.line_of("name"),
                             f"duplicate intent name '{name}' (first on line {seen[name]})")
            seen.setdefault(name, sub.line_of("name"))
        description = _text(sub, item.get("description"), "description", problems,
                            required="description" in item)
        slot_names = _text_list(sub, item.get("slots"), "slots", problems, min_items=0)
        examples = _text_list(sub, item.get("examples"), "examples", problems,
                              min_items=1 if "examples" in item else 0)
        # Slots without a spec are allowed: the slots section is optional.
        if len(problems.errors) == before and name and description:
            intents.append(Intent(name, description, slot_names, examples))
    return tuple(intents), slots


def _from_rasa_nlu(
    doc: YamlDoc, problems: _Problems
) -> tuple[tuple[Intent, ...], tuple[SlotSpec, ...]]:
    """Intents and slot patterns from Rasa NLU training data."""
    found, patterns = rasa_nlu.parse(doc, problems.add)
    intents = tuple(
        Intent(i["name"], f"{i['name'].replace('_', ' ').capitalize()} (from Rasa NLU data).",
               tuple(i["slots"]), tuple(i["examples"]))
        for i in found
    )
    named = {s for i in intents for s in i.slots} | set(patterns)
    slots = tuple(
        SlotSpec(name, f"{name.replace('_', ' ')} (from Rasa NLU data)", patterns.get(name))
        for name in sorted(named)
    )
    return intents, slots


def _parse_slots(doc: YamlDoc, raw: Any, problems: _Problems) -> tuple[SlotSpec, ...]:
    """Parse the optional 'slots' mapping."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        problems.add(doc.line_of("slots"), f"'slots' must be a mapping, not {_kind(raw)}")
        return ()
    slots: list[SlotSpec] = []
    for name, spec in raw.items():
        line = doc.line_of("slots", name)
        if not isinstance(name, str) or not SLOT_NAME_RE.match(name):
            problems.add(line, f"slot name '{name}' must be snake_case")
            continue
        if not isinstance(spec, dict):
            problems.add(line, f"slot '{name}' must be a mapping with a description")
            continue
        sub = doc.sub("slots", name)
        before = len(problems.errors)
        _check_keys(doc, spec, SLOT_KEYS, ("description",), problems, f"slot '{name}'",
                    "slots", name)
        description = _text(sub, spec.get("description"), "description", problems,
                            required="description" in spec)
        pattern = _text(sub, spec.get("pattern"), "pattern", problems, required=False)
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.add(sub.line_of("pattern"),
                             f"slot '{name}' pattern is not a valid regular expression: {exc}")
        example = _text(sub, spec.get("example"), "example", problems, required=False)
        if len(problems.errors) == before and description:
            slots.append(SlotSpec(name, description, pattern, example))
    return tuple(slots)


def load_folder(folder: str | Path) -> KnowledgeBase:
    """Load articles/*.md and intents.yml; raises ContentErrors with every problem found."""
    root = Path(folder)
    errors: list[ContentError] = []
    if not root.is_dir():
        raise ContentErrors([ContentError(str(root), None, "not a folder")])
    articles: list[Article] = []
    first_file: dict[str, str] = {}
    for file in sorted((root / ARTICLES_DIR).glob("*.md")):
        problems = _Problems(str(file))
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.add(None, f"cannot read the file as UTF-8 text: {exc}")
        else:
            article = _parse_article(file.name, text, problems)
            if article is not None:
                # The id equals the file name, so a duplicate can only come from a case-folding
                # file system or a copied file; still worth a clear message.
                if article.id in first_file:
                    problems.add(None, f"duplicate id '{article.id}' (also in "
                                 f"{first_file[article.id]})")
                else:
                    first_file[article.id] = str(file)
                    articles.append(article)
        errors.extend(problems.errors)

    intents: tuple[Intent, ...] = ()
    slots: tuple[SlotSpec, ...] = ()
    intents_file = root / INTENTS_FILE
    if not intents_file.exists():
        # A Rasa project's training data, when there is no intents.yml of our own.
        intents_file = next((root / p for p in RASA_NLU_FILES if (root / p).is_file()),
                            intents_file)
    if intents_file.exists():
        problems = _Problems(str(intents_file))
        try:
            text = intents_file.read_text(encoding="utf-8").removeprefix("\ufeff")
        except (OSError, UnicodeDecodeError) as exc:
            problems.add(None, f"cannot read the file as UTF-8 text: {exc}")
        else:
            intents, slots = _parse_intents(text, problems)
            doc = load_yaml(text, first_line=1, problems=lambda *_: None)
            for n, intent in enumerate(intents):
                if intent.name in first_file:
                    ours = doc is not None and isinstance(doc.data, dict) and "intents" in doc.data
                    line = doc.sub("intents", n).line_of("name") if ours and doc else None
                    problems.add(line, f"intent name '{intent.name}' is also an article id "
                                 f"({first_file[intent.name]})")
        errors.extend(problems.errors)

    if not articles and not intents and not errors:
        errors.append(ContentError(str(root), None,
                                   f"no articles ({ARTICLES_DIR}/*.md) and no {INTENTS_FILE}"))
    if errors:
        raise ContentErrors(errors)
    return KnowledgeBase(tuple(articles), intents, slots)


def _dump(data: Any) -> str:
    """YAML in the hand-written style: block lists, keys in the given order, long lines kept."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000,
                          default_flow_style=False)


def format_article(article: Article) -> str:
    """The article file text for one article."""
    front: dict[str, Any] = {"id": article.id, "title": article.title,
                             "questions": list(article.questions)}
    if article.tags:
        front["tags"] = list(article.tags)
    if article.sms is not None:
        front["sms"] = article.sms
    return f"---\n{_dump(front)}---\n{article.body}\n"


def format_intents(intents: tuple[Intent, ...], slots: tuple[SlotSpec, ...]) -> str:
    """The intents.yml text for intents and slot specs."""
    data: dict[str, Any] = {}
    if slots:
        data["slots"] = {
            s.name: {k: v for k, v in (("description", s.description), ("pattern", s.pattern),
                                       ("example", s.example)) if v is not None}
            for s in slots
        }
    data["intents"] = [
        {"name": i.name, "description": i.description, "slots": list(i.slots),
         "examples": list(i.examples)}
        for i in intents
    ]
    return _dump(data)


def export_folder(kb: KnowledgeBase, folder: str | Path) -> None:
    """Write kb as articles/<id>.md and intents.yml into a new or empty folder."""
    root = Path(folder)
    articles_dir = root / ARTICLES_DIR
    wanted = {f"{a.id}.md" for a in kb.articles}
    stale = sorted(p.name for p in articles_dir.glob("*.md") if p.name not in wanted)
    if stale:
        # Leftover articles would be imported with the exported ones; refuse rather than delete.
        raise FileExistsError(f"{articles_dir} already holds other articles: {', '.join(stale)}")
    articles_dir.mkdir(parents=True, exist_ok=True)
    for article in kb.articles:
        (articles_dir / f"{article.id}.md").write_text(format_article(article), encoding="utf-8")
    if kb.intents or kb.slots:
        (root / INTENTS_FILE).write_text(format_intents(kb.intents, kb.slots), encoding="utf-8")
