"""The operators' dashboard in a real browser shows the scripted conversations' figures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.stores.sqlite import SQLiteStore
from tests.analytics_script import SINCE, UNTIL, record_script
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support import free_port, gateway_process

TOKEN = "dashboard-test-token-81d0"
WAIT = 20_000


@pytest.fixture
def gateway_url(tmp_path: Path) -> Iterator[str]:
    """A gateway whose store already holds the scripted conversations."""

    async def seed() -> None:
        store = await SQLiteStore(str(tmp_path / "store.sqlite3")).open()
        await record_script(store)
        await store.close()

    asyncio.run(seed())
    port = free_port()
    with gateway_process(tmp_path, port, ONETHREAD_ADMIN_TOKEN=TOKEN):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def page():
    """A Chromium page that fails the test on script errors or refused requests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        tab = ctx.new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        yield tab
        browser.close()
        assert errors == []


def test_the_dashboard_shows_the_scripted_figures(gateway_url: str, page) -> None:
    from playwright.sync_api import expect

    page.goto(f"{gateway_url}/admin/dashboard")
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("From", exact=True).fill(SINCE.isoformat())
    page.get_by_label("To", exact=True).fill(UNTIL.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("status")).to_have_text("Showing 7 conversations.", timeout=WAIT)

    def tile(key: str):
        return page.locator(f'[data-figure="{key}"] dd')

    expect(tile("conversations")).to_have_text("7")
    expect(tile("deflection_rate")).to_have_text("42.9%")
    expect(tile("handoff_rate")).to_have_text("42.9%")
    expect(tile("csat")).to_have_text("50.0%")
    expect(tile("first_contact_resolution")).to_have_text("71.4%")
    expect(tile("time_to_claim")).to_have_text("10.0 min")

    over_time = page.locator('[data-testid="chart-over-time"] circle')
    expect(over_time).to_have_count(3)
    assert [over_time.nth(i).get_attribute("data-value") for i in range(3)] == ["0.6", "0", "0"]
    by_channel = page.locator('[data-testid="chart-by-channel"] [data-label="sms (2)"]')
    expect(by_channel).to_have_attribute("data-value", "0.5")
    reasons = page.locator('[data-testid="chart-reasons"] [data-label]')
    expect(reasons).to_have_count(3)
    claims = page.locator('[data-testid="chart-claim"] [data-label]')
    assert [claims.nth(i).get_attribute("data-value") for i in range(6)] == [
        "0",
        "1",
        "1",
        "1",
        "0",
        "0",
    ]
    expect(page.locator('tr[data-queue="general"] td').nth(1)).to_have_text("2")
    expect(page.locator('tr[data-article="gift-card-balance"] td').nth(2)).to_have_text("1")

    # The most-asked unanswered question becomes an article draft in one click.
    top = page.locator('[data-testid="unanswered-group"]').first
    expect(top).to_contain_text("2×")
    expect(top).to_contain_text("do you ship to mars")
    top.get_by_role("link", name="Create an article for “do you ship to mars”").click()
    expect(page.get_by_label("Title", exact=True)).to_have_value(
        "Do you ship to mars", timeout=WAIT
    )
    expect(page.get_by_label("ID", exact=True)).to_have_value("ship-mars")
    questions = page.get_by_label("Other ways customers ask it")
    expect(questions).to_have_value("do you ship to mars\ndo you deliver to mars")


def test_the_charting_module_is_served_from_the_gateway(gateway_url: str, page) -> None:
    response = page.goto(f"{gateway_url}/admin/dashboard")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy
    assert "http" not in policy  # no CDN, nothing from elsewhere
    charts = page.request.get(f"{gateway_url}/admin/charts.js")
    assert charts.status == 200
    assert "OnethreadCharts" in charts.text()
