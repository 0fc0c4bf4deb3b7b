"""The admin API: bearer token, customers with merged records, knowledge edits and revert."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from gateway.settings import Secret
from tests.support import gateway_settings, running_gateway, visitor

TOKEN = "admin-token-for-tests"
SECRET = "site-secret-for-tests-32-bytes-long!"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def client(tmp_path: Path):
    settings = gateway_settings(
        tmp_path, admin_token=Secret(TOKEN), webchat_identity_secret=Secret(SECRET)
    )
    async with running_gateway(settings) as c:
        yield c


def identity(**claims) -> str:
    return jwt.encode({"iat": int(time.time()), **claims}, SECRET, algorithm="HS256")


async def test_without_the_token_the_api_refuses_with_a_hint(client) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        resp = await client.get("/api/v1/kb/articles", headers=headers)
        assert resp.status == 401
        assert "hint" in await resp.json()
    assert (await client.get("/api/v1/openapi.json")).status == 200


async def test_an_unset_token_turns_the_api_off(tmp_path: Path) -> None:
    async with running_gateway(gateway_settings(tmp_path)) as c:
        resp = await c.get("/api/v1/kb/articles", headers=AUTH)
        assert resp.status == 401
        assert "ONETHREAD_ADMIN_TOKEN" in (await resp.json())["hint"]


async def test_a_merged_customer_answers_with_the_surviving_record(client) -> None:
    async with visitor(client) as first:
        ann = await first.hello("d1", identity_token=identity(sub="ann", email="ann@example.com"))
        await first.say("what payment methods do you accept")
    async with visitor(client) as second:
        other = await second.hello("d2", identity_token=identity(sub="ann-work"))
        await second.say("do you have gift cards")
    assert other["customer_id"] != ann["customer_id"]
    # The second account proves the same verified email: one person.
    async with visitor(client) as again:
        token = identity(sub="ann-work", email="Ann@Example.com")
        merged = await again.hello("d2", identity_token=token)
        await again.until(lambda f: f.get("seq") == 4)
    assert merged["customer_id"] == ann["customer_id"]

    resp = await client.get(f"/api/v1/customers/{other['customer_id']}", headers=AUTH)
    record = await resp.json()
    assert record["id"] == ann["customer_id"]
    assert {(i["channel"], i["address"]) for i in record["identities"]} == {
        ("webchat", "u:ann"),
        ("email", "ann@example.com"),
        ("webchat", "u:ann-work"),
    }
    open_convs = [c for c in record["conversations"] if c["status"] == "open"]
    assert len(open_convs) == 1
    texts = [e["text"] for e in record["timeline"] if e["from"] == "customer"]
    assert texts == ["what payment methods do you accept", "do you have gift cards"]


async def test_export_and_erasure(client) -> None:
    async with visitor(client) as v:
        welcome = await v.hello("to-erase")
        await v.say("how do i delete my account")
    path = f"/api/v1/customers/{welcome['customer_id']}"
    export = await client.get(f"{path}/export", headers=AUTH)
    assert export.status == 200
    assert "attachment" in export.headers["Content-Disposition"]
    assert len((await export.json())["timeline"]) == 2
    assert (await client.delete(path, headers=AUTH)).status == 204
    assert (await client.get(path, headers=AUTH)).status == 404


async def test_query_answers_in_the_contract_shape(client) -> None:
    resp = await client.post(
        "/api/v1/kb/query",
        json={"text": "how long does shipping take", "channel": "sms"},
        headers=AUTH,
    )
    decision = await resp.json()
    assert decision["decision"] == "answer"
    assert decision["article_id"] == "shipping-times"
    assert decision["intent"] is None
    assert {"article_id", "score"} <= set(decision["candidates"][0])
    assert "**" not in decision["text"]  # the SMS variant, not Markdown
    bad = await client.post("/api/v1/kb/query", json={"text": ""}, headers=AUTH)
    assert bad.status == 400


async def test_edit_changes_the_answer_and_revert_restores_it(client) -> None:
    path = "/api/v1/kb/articles/gift-card-balance"
    original = await (await client.get(path, headers=AUTH)).json()
    edited = {
        **original,
        "body": "Your balance is printed on the back of the card.",
        "author": "editor-ana",
    }
    resp = await client.put(path, json=edited, headers=AUTH)
    assert resp.status == 200
    changed_in = (await resp.json())["version"]

    async with visitor(client) as v:
        await v.hello("balance-asker")
        reply = await v.say("how do i check my gift card balance")
    assert reply["text"] == "Your balance is printed on the back of the card."

    versions = await (await client.get("/api/v1/kb/versions", headers=AUTH)).json()
    assert versions["current"] == changed_in
    latest = versions["versions"][0]
    assert (latest["author"], latest["note"]) == ("editor-ana", "updated gift-card-balance")
    resp = await client.post(f"/api/v1/kb/versions/{changed_in - 1}/revert", headers=AUTH)
    assert resp.status == 200
    restored = await (await client.get(path, headers=AUTH)).json()
    assert restored["body"] == original["body"]


async def test_a_broken_article_is_refused_with_reasons_and_changes_nothing(client) -> None:
    before = await (await client.get("/api/v1/kb/versions", headers=AUTH)).json()
    resp = await client.post(
        "/api/v1/kb/articles",
        json={"id": "Bad Id", "title": "", "questions": [], "body": "x", "sms": "é" * 400},
        headers=AUTH,
    )
    assert resp.status == 422
    reasons = " ".join(e["reason"] for e in (await resp.json())["errors"])
    assert "id" in reasons
    assert "sms" in reasons
    after = await (await client.get("/api/v1/kb/versions", headers=AUTH)).json()
    assert after["current"] == before["current"]


async def test_unanswered_questions_reach_the_editors_and_become_variants(client) -> None:
    async with visitor(client) as v:
        await v.hello("kayak-fan")
        await v.say("which pizza place near your portland store do you recommend")
    resp = await client.get("/api/v1/kb/unanswered?since=1h", headers=AUTH)
    groups = (await resp.json())["groups"]
    assert [g["representative"] for g in groups] == [
        "which pizza place near your portland store do you recommend"
    ]
    assert groups[0]["closest_article"]["article_id"]

    resp = await client.post(
        "/api/v1/kb/articles/store-locations/questions",
        json={"text": "which pizza place near your portland store do you recommend"},
        headers=AUTH,
    )
    assert resp.status == 200
    assert (
        "which pizza place near your portland store do you recommend"
        in (await resp.json())["questions"]
    )
    stats = await (await client.get("/api/v1/kb/effectiveness", headers=AUTH)).json()
    assert stats == {"articles": []}
