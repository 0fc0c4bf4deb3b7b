"""`onethread kb import` reads Rasa NLU training data for intents."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from gateway.settings import DEMO_KB_DIR
from knowledge.content import ContentErrors, load_folder, parse_intents
from knowledge.rasa_nlu import plain_example
from tests.gateway.test_kb_cli import onethread

NLU = """\
version: "3.1"
nlu:
- intent: order_status
  examples: |
    - where is my order [FH-482913](order_number)
    - has [482913]{"entity": "order_number"} shipped
- synonym: fh
  examples: |
    - fernhill
- intent: order_status
  examples: |
    - order status please
    - where is my order FH-482913
- regex: order_number
  examples: |
    - FH-\\d{6}
- intent: greet
  examples:
    - hi
    - hello
"""


def test_rasa_intents_entities_and_regexes_become_intents_and_slots() -> None:
    intents, slots = parse_intents(NLU, "nlu.yml")
    by_name = {i.name: i for i in intents}
    assert list(by_name) == ["order_status", "greet"]
    assert by_name["order_status"].examples == (
        "where is my order FH-482913", "has 482913 shipped", "order status please",
    )
    assert by_name["order_status"].slots == ("order_number",)
    assert by_name["greet"].examples == ("hi", "hello")
    (slot,) = slots
    assert (slot.name, slot.pattern) == ("order_number", "(?:FH-\\d{6})")


def test_entity_markup_is_reduced_to_its_text() -> None:
    assert plain_example("send it to [Madison](city:home) please") == (
        "send it to Madison please", ["city"],
    )


def test_broken_rasa_data_is_refused_with_lines() -> None:
    broken = 'nlu:\n- intent: Order Status\n  examples: "where"\n- intent: ok\n  examples: 3\n'
    with pytest.raises(ContentErrors) as caught:
        parse_intents(broken, "nlu.yml")
    reasons = [str(e) for e in caught.value]
    assert reasons == [
        "nlu.yml:2: intent name 'Order Status' must be snake_case",
        "nlu.yml:4: intent 'ok': 'examples' must be a block of '- ' lines",
    ]


def rasa_project(tmp_path: Path) -> Path:
    """The demo knowledge base with its intents rewritten as a Rasa project's data/nlu.yml."""
    folder = tmp_path / "rasa-kb"
    shutil.copytree(DEMO_KB_DIR / "articles", folder / "articles")
    ours = yaml.safe_load((DEMO_KB_DIR / "intents.yml").read_text())
    entries = [
        {"intent": i["name"], "examples": "".join(f"- {e}\n" for e in i["examples"])}
        for i in ours["intents"]
    ]
    (folder / "data").mkdir()
    (folder / "data" / "nlu.yml").write_text(yaml.safe_dump({"version": "3.1", "nlu": entries}))
    return folder


def test_a_rasa_projects_nlu_data_imports_and_is_recognised(tmp_path: Path) -> None:
    folder = rasa_project(tmp_path)
    assert len(load_folder(folder).intents) == 10
    imported = onethread(tmp_path, "kb", "import", str(folder))
    assert imported.returncode == 0, imported.stderr
    assert "imported 55 articles and 10 intents" in imported.stdout
    asked = onethread(tmp_path, "kb", "ask", "wheres my order fh203948", "--json")
    assert asked.returncode == 0, asked.stderr
    decision = json.loads(asked.stdout)
    assert (decision["decision"], decision["intent"]) == ("intent", "order_status")
