"""Content parsing, validation (with line numbers), folder loading and export round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.content import (
    Article,
    ContentError,
    ContentErrors,
    KnowledgeBase,
    export_folder,
    load_folder,
    parse_article,
    parse_intents,
)

GOOD = """\
---
id: shipping-times
title: How long does shipping take?
questions:
  - How long does delivery take?
  - When will my order arrive?
tags: [shipping]
sms: "Standard 3-6 business days. https://fernhill.example/shipping"
---
Most US orders arrive in **3–6 business days**.
"""


def errors_of(path: str, text: str) -> list[tuple[int | None, str]]:
    """(line, reason) of every problem parse_article reports."""
    with pytest.raises(ContentErrors) as info:
        parse_article(path, text)
    return [(e.line, e.reason) for e in info.value]


def test_parse_good_article() -> None:
    article = parse_article("articles/shipping-times.md", GOOD)
    assert article == Article(
        id="shipping-times",
        title="How long does shipping take?",
        questions=("How long does delivery take?", "When will my order arrive?"),
        tags=("shipping",),
        sms="Standard 3-6 business days. https://fernhill.example/shipping",
        body="Most US orders arrive in **3–6 business days**.",
    )


def test_unknown_key_reported_at_its_line() -> None:
    text = GOOD.replace("tags: [shipping]", "question: oops")
    assert errors_of("shipping-times.md", text) == [
        (7, "unknown key 'question' in front matter (allowed: id, title, questions, tags, sms)")
    ]


def test_id_must_match_file_name() -> None:
    assert errors_of("articles/shipping-time.md", GOOD) == [
        (2, "id 'shipping-times' does not match file name 'shipping-time'")
    ]


def test_bad_id_format() -> None:
    text = GOOD.replace("id: shipping-times", "id: Shipping--Times")
    assert errors_of("Shipping--Times.md", text) == [
        (2, "id 'Shipping--Times' must be lowercase letters, digits and single hyphens")
    ]


def test_missing_required_fields_and_bad_types_all_reported() -> None:
    text = "---\nid: shipping-times\nquestions:\n  - ok\n  - [nested]\ntags: shipping\n---\nBody\n"
    assert errors_of("shipping-times.md", text) == [
        (2, "front matter lacks required key 'title'"),
        (5, "'questions' item 2 must be a string, not a list"),
        (6, "'tags' must be a list, not str"),
    ]


def test_sms_too_long_and_not_ascii() -> None:
    long_sms = "x" * 321
    text = GOOD.replace(
        'sms: "Standard 3-6 business days. https://fernhill.example/shipping"',
        f'sms: "{long_sms}é"',
    )
    assert errors_of("shipping-times.md", text) == [
        (8, "sms is 322 characters; at most 320 allowed"),
        (8, "sms must be ASCII; found 'é'"),
    ]


def test_empty_body_reported_after_front_matter() -> None:
    text = GOOD.split("---\nMost")[0] + "---\n\n"
    assert errors_of("shipping-times.md", text) == [
        (10, "the article has no body after the front matter")
    ]


def test_front_matter_structure() -> None:
    assert errors_of("a.md", "no front matter\n") == [
        (1, "the file must start with a '---' line opening the YAML front matter")
    ]
    assert errors_of("a.md", "---\nid: a\n") == [(1, "the front matter has no closing '---' line")]


def test_yaml_syntax_error_has_line() -> None:
    text = GOOD.replace("title: How long does shipping take?", "title: [unclosed")
    ((line, reason),) = errors_of("shipping-times.md", text)
    assert (line, reason.startswith("invalid YAML")) == (4, True)


def test_duplicate_key_reported() -> None:
    text = GOOD.replace("tags: [shipping]", "tags: [shipping]\ntitle: Again")
    assert errors_of("shipping-times.md", text) == [(8, "duplicate key 'title' (first on line 3)")]


def test_content_error_str() -> None:
    assert str(ContentError("kb/a.md", 3, "bad")) == "kb/a.md:3: bad"
    assert str(ContentError("kb/a.md", None, "bad")) == "kb/a.md: bad"


INTENTS = """\
slots:
  order_number:
    description: Order number
    pattern: '(\\d{6}'
intents:
  - name: order_status
    description: Where is my order
    slots: [order_number, undefined_slot_is_fine]
    examples: [where is my order]
  - name: order_status
    description: Again
    examples: [again]
    colour: red
  - name: Bad-Name
    description: x
    examples: []
"""


def test_intent_validation() -> None:
    with pytest.raises(ContentErrors) as info:
        parse_intents(INTENTS, "kb/intents.yml")
    assert [(e.path, e.line, e.reason) for e in info.value] == [
        (
            "kb/intents.yml",
            4,
            "slot 'order_number' pattern is not a valid regular expression: "
            "missing ), unterminated subpattern at position 0",
        ),
        (
            "kb/intents.yml",
            13,
            "unknown key 'colour' in intent 2 (allowed: name, description, slots, examples)",
        ),
        ("kb/intents.yml", 10, "duplicate intent name 'order_status' (first on line 6)"),
        ("kb/intents.yml", 14, "intent name 'Bad-Name' must be snake_case"),
        ("kb/intents.yml", 16, "'examples' needs at least 1 item(s)"),
    ]


def test_parse_intents_ok() -> None:
    first = INTENTS.split("  - name: order_status\n    description: Again")[0]
    intents, slots = parse_intents(first.replace("'(\\d{6}'", "'(\\d{6})'"))
    assert [(i.name, i.slots, i.examples) for i in intents] == [
        ("order_status", ("order_number", "undefined_slot_is_fine"), ("where is my order",))
    ]
    assert [(s.name, s.pattern) for s in slots] == [("order_number", "(\\d{6})")]


def write_kb(root: Path, articles: dict[str, str], intents: str | None = None) -> Path:
    (root / "articles").mkdir(parents=True)
    for name, text in articles.items():
        (root / "articles" / name).write_text(text, encoding="utf-8")
    if intents is not None:
        (root / "intents.yml").write_text(intents, encoding="utf-8")
    return root


def test_load_folder_collects_every_problem(tmp_path: Path) -> None:
    root = write_kb(
        tmp_path / "kb",
        {
            "shipping-times.md": GOOD,
            "wrong-name.md": GOOD,
            "greeting.md": GOOD.replace("shipping-times", "greeting"),
            "broken.md": "nothing here\n",
        },
        intents="intents:\n  - name: greeting\n    description: hi\n    examples: [hi]\n",
    )
    with pytest.raises(ContentErrors) as info:
        load_folder(root)
    assert [(Path(e.path).name, e.line, e.reason) for e in info.value] == [
        ("broken.md", 1, "the file must start with a '---' line opening the YAML front matter"),
        ("wrong-name.md", 2, "id 'shipping-times' does not match file name 'wrong-name'"),
        (
            "intents.yml",
            2,
            f"intent name 'greeting' is also an article id ({root / 'articles' / 'greeting.md'})",
        ),
    ]


def test_demo_kb_loads(demo_kb: KnowledgeBase) -> None:
    assert (len(demo_kb.articles), len(demo_kb.intents), len(demo_kb.slots)) == (55, 10, 4)


def test_export_import_round_trip(demo_kb: KnowledgeBase, tmp_path: Path) -> None:
    export_folder(demo_kb, tmp_path / "out")
    assert load_folder(tmp_path / "out") == demo_kb


def test_dict_round_trip_is_json(demo_kb: KnowledgeBase) -> None:
    data = json.loads(json.dumps(demo_kb.to_dict()))
    assert KnowledgeBase.from_dict(data) == demo_kb


def test_export_refuses_folder_with_other_articles(demo_kb: KnowledgeBase, tmp_path: Path) -> None:
    write_kb(tmp_path, {"stale-article.md": GOOD})
    with pytest.raises(FileExistsError):
        export_folder(demo_kb, tmp_path)
