"""A customer in a real browser asks for a person; an agent in (fake) Slack answers, resolves, and
the customer clicks a rating in the widget."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.fakes.providers import FakeProviders
from tests.handoff.slack_agent import QUEUE_CHANNEL, SIGNING_SECRET, SlackAgent
from tests.support import free_port, gateway_process


@pytest.fixture
async def fake():
    async with FakeProviders() as providers:
        yield providers


async def test_the_customer_talks_to_an_agent_and_rates_the_help(
    tmp_path: Path, fake: FakeProviders
) -> None:
    from playwright.async_api import async_playwright

    port = free_port()
    env = {
        "SLACK_BOT_TOKEN": fake.slack_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_HANDOFF_CHANNEL": QUEUE_CHANNEL,
        "SLACK_API_BASE_URL": fake.slack_base_url,
    }
    url = f"http://127.0.0.1:{port}"
    with gateway_process(tmp_path, port, **env):
        async with (
            async_playwright() as p,
            aiohttp.ClientSession(base_url=url) as session,
        ):
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = await browser.new_page()
            await page.goto(url)
            box = page.locator('[data-testid="input"]')
            await box.fill("I want to talk to a person")
            await box.press("Enter")
            bot = page.locator('[data-testid="entry"][data-from="bot"]').first
            await bot.wait_for(timeout=20_000)
            assert "passing this conversation to our team" in await bot.inner_text()

            (root,) = await fake.wait_for(
                lambda r: r.api == "chat.postMessage" and not r.params.get("thread_ts"), count=1
            )
            blocks = root.params["blocks"]
            blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
            handoff_id = next(
                e["value"]
                for b in blocks
                if b["type"] == "actions"
                for e in b["elements"]
                if e.get("action_id") == "onethread.claim"
            )
            await fake.wait_for(lambda r: r.params.get("thread_ts"), count=1)  # transcript
            root_ts = fake.calls("slack", path="chat.postMessage")[0].response["ts"]

            agent = SlackAgent(session)
            assert (await agent.reply(root_ts, "Hi, I'm Jane. Let me check that.")).status == 200
            said = page.locator('[data-testid="entry"][data-from="agent"]').first
            await said.wait_for(timeout=20_000)
            text = await said.inner_text()
            assert "Hi, I'm Jane. Let me check that." in text and "jane" in text

            assert (await agent.click("onethread.resolve", root_ts, value=handoff_id)).status == 200
            five = page.locator('[data-testid="quick-reply"]', has_text="5")
            await five.wait_for(timeout=20_000)
            await five.click()
            thanks = page.locator('[data-testid="entry"][data-from="bot"]', has_text="rating")
            await thanks.wait_for(timeout=20_000)
            await fake.wait_for(
                lambda r: "rated this conversation 5/5" in (r.params.get("text") or ""), count=1
            )
            await browser.close()
