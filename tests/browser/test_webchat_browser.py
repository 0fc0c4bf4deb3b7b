"""A person in a real browser: the demo page, a question, the Fernhill answer, a reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support import free_port, gateway_process


@pytest.fixture
def gateway_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    with gateway_process(tmp_path, port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        yield context.new_page()
        browser.close()


def test_ask_see_the_answer_reload_see_the_history(gateway_url: str, page) -> None:
    page.goto(gateway_url)
    question = page.locator('[data-testid="input"]')
    question.fill("how long does shipping take")
    question.press("Enter")

    answer = page.locator('[data-testid="entry"][data-from="bot"]').first
    answer.wait_for(timeout=20_000)
    assert "3–6 business days" in answer.inner_text()
    mine = page.locator('[data-testid="entry"][data-from="customer"]').first
    assert "how long does shipping take" in mine.inner_text()

    page.reload()
    entries = page.locator('[data-testid="entry"]')
    entries.nth(1).wait_for(timeout=20_000)
    assert entries.count() == 2
    assert [entries.nth(i).get_attribute("data-seq") for i in range(2)] == ["1", "2"]
    assert "3–6 business days" in entries.nth(1).inner_text()
