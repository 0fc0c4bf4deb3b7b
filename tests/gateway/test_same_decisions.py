"""Web chat, `onethread kb ask` and POST /api/v1/kb/query decide alike for the same message."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.settings import Secret
from tests.gateway.test_kb_cli import onethread
from tests.support import gateway_settings, running_gateway, visitor

TOKEN = "same-decisions-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MESSAGES = [
    "how long does shipping take",
    "can i return boots i wore on a hike",
    "what's the weather in denver this weekend",
    "where is my order FH-482913",
    "hi there",
    "do you price match amazon",
    "asdf qwer zxcv",
]


async def test_three_ways_to_ask_give_one_decision(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, admin_token=Secret(TOKEN))
    by_api, by_chat = {}, {}
    async with running_gateway(settings) as client:
        for index, text in enumerate(MESSAGES):
            resp = await client.post("/api/v1/kb/query", json={"text": text}, headers=AUTH)
            decision = await resp.json()
            by_api[text] = (decision["decision"], decision["article_id"])
            async with visitor(client) as v:
                welcome = await v.hello(f"same-{index}")
                await v.say(text)
            record = await (
                await client.get(f"/api/v1/customers/{welcome['customer_id']}", headers=AUTH)
            ).json()
            bot = next(e for e in record["timeline"] if e["from"] == "bot")
            by_chat[text] = (bot["decision"], bot.get("article_id"))
    by_cli = {}
    for text in MESSAGES:
        result = onethread(tmp_path, "kb", "ask", text, "--json")
        decision = json.loads(result.stdout)
        by_cli[text] = (decision["decision"], decision["article_id"])
    assert by_chat == by_api
    assert by_cli == by_api
    assert {d for d, _ in by_api.values()} >= {"answer", "intent", "fallback"}
