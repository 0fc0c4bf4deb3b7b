"""A content editor in a real browser: edit an article, see the bot answer with it, revert it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support import free_port, gateway_process

TOKEN = "editor-test-token-5f2c"
QUESTION = "how do I check my gift card balance"
NEW_SENTENCE = "Every Fernhill till now prints the remaining gift card balance on the receipt."
TITLE = "How do I check my gift card balance?"
OLD_SENTENCE = "Check your balance at https://fernhill.example/gift-cards/balance"
WAIT = 20_000


@pytest.fixture
def gateway_url(tmp_path: Path) -> Iterator[str]:
    """A gateway with the admin API on, on a fresh store holding the demo knowledge."""
    port = free_port()
    with gateway_process(tmp_path, port, ONETHREAD_ADMIN_TOKEN=TOKEN):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def context():
    """A Chromium browser context at 1280×800; pages opened in it fail the test on script errors."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        ctx.on("page", lambda page: page.on("pageerror", lambda exc: errors.append(str(exc))))
        yield ctx
        browser.close()
        assert errors == []


def sign_in(page, base: str) -> None:
    """Open the editor and sign in with the admin token."""
    page.goto(f"{base}/admin/kb")
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Articles", exact=True).wait_for(timeout=WAIT)


def try_question(page, text: str):
    """Ask a question on the Try page; returns the reply locator once a decision is shown."""
    from playwright.sync_api import expect

    page.get_by_role("link", name="Try a question").click()
    page.get_by_label("Customer's message").fill(text)
    page.get_by_label("Channel", exact=True).select_option("webchat")
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.locator('[data-testid="try-decision"]')).to_be_visible(timeout=WAIT)
    return page.locator('[data-testid="try-reply"]')


def test_edit_an_answer_see_the_bot_use_it_then_revert(gateway_url: str, context) -> None:
    from playwright.sync_api import expect

    page = context.new_page()
    sign_in(page, gateway_url)

    page.get_by_label("Search articles").fill("gift card balance")
    expect(page.locator("#article-count")).to_contain_text("match", timeout=WAIT)
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_label("Title", exact=True)).to_have_value(TITLE)
    expect(page.get_by_label("ID", exact=True)).to_have_value("gift-card-balance")
    expect(page.get_by_label("ID", exact=True)).not_to_be_editable()

    page.get_by_label("Answer", exact=True).fill(f"{NEW_SENTENCE}\n\nAsk at any **store** too.")
    preview = page.locator('[data-testid="preview"]')
    expect(preview).to_contain_text(NEW_SENTENCE)
    expect(preview.locator("strong")).to_have_text("store")
    page.get_by_label("Your name").fill("Robin from Content")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved as version 2", timeout=WAIT)

    reply = try_question(page, QUESTION)
    expect(page.locator('[data-testid="try-decision"]')).to_have_text("answer")
    expect(page.locator('[data-testid="try-article"]')).to_contain_text("gift-card-balance")
    expect(reply).to_contain_text(NEW_SENTENCE)

    # A customer on the demo page gets the new answer straight away.
    customer = context.new_page()
    customer.goto(gateway_url)
    box = customer.locator('[data-testid="input"]')
    box.fill(QUESTION)
    box.press("Enter")
    answer = customer.locator('[data-testid="entry"][data-from="bot"]').first
    answer.wait_for(timeout=WAIT)
    expect(answer).to_contain_text(NEW_SENTENCE)
    customer.close()

    # History shows who changed what; reverting to version 1 brings the old answer back.
    page.get_by_role("link", name="History").click()
    changed = page.locator('.art-diff[data-article="gift-card-balance"]')
    expect(changed.locator("ins").filter(has_text=NEW_SENTENCE)).to_have_count(1, timeout=WAIT)
    expect(page.locator('#versions [data-version="2"]')).to_contain_text("Robin from Content")
    page.locator('#versions [data-version="1"]').click()
    page.get_by_role("button", name="Revert to version 1").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Revert to version 1?")
    dialog.get_by_role("button", name="Revert to version 1").click()
    expect(page.get_by_role("status")).to_contain_text("saved as version 3", timeout=WAIT)
    expect(page.locator('#versions [data-version="3"]')).to_contain_text("current")

    reply = try_question(page, QUESTION)
    expect(page.locator('[data-testid="try-decision"]')).to_have_text("answer")
    expect(reply).to_contain_text(OLD_SENTENCE)
    expect(reply).not_to_contain_text(NEW_SENTENCE)


def test_wrong_token_then_teach_an_unanswered_question(gateway_url: str, context) -> None:
    from playwright.sync_api import expect

    customer = context.new_page()
    customer.goto(gateway_url)
    box = customer.locator('[data-testid="input"]')
    box.fill("do you sell kayaks")
    box.press("Enter")
    customer.locator('[data-testid="entry"][data-from="bot"]').first.wait_for(timeout=WAIT)
    customer.close()

    page = context.new_page()
    page.goto(f"{gateway_url}/admin/kb")
    page.get_by_label("Admin token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-hint")).to_contain_text("ONETHREAD_ADMIN_TOKEN", timeout=WAIT)
    expect(page.get_by_label("Admin token")).to_be_focused()
    sign_in(page, gateway_url)

    page.get_by_role("link", name="Unanswered").click()
    group = page.locator(".group").filter(has_text="do you sell kayaks")
    expect(group).to_have_count(1, timeout=WAIT)
    group.get_by_label("Add as a question to").select_option("store-locations")
    group.get_by_role("button", name="Add as question variant").click()
    expect(page.get_by_role("status")).to_contain_text("version 2", timeout=WAIT)
    expect(page.locator(".group").filter(has_text="do you sell kayaks")).to_contain_text("Added")

    group.get_by_role("button", name="Create article").click()
    expect(page.get_by_role("heading", name="New article")).to_be_visible()
    expect(page.get_by_label("Title", exact=True)).to_have_value("Do you sell kayaks")
    expect(page.get_by_label("ID", exact=True)).to_have_value("sell-kayaks")
    expect(page.get_by_label("Other ways customers ask it")).to_have_value(
        "do you sell kayaks"
    )
