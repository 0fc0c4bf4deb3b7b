"""Channel rendering of article bodies."""

from __future__ import annotations

import pytest

from knowledge.content import Article, KnowledgeBase
from knowledge.render import render_article

BODY = """\
Returns are **free** within *60 days* – see [our policy](https://fernhill.example/returns?a=1&b=2).

- keep the tags
- use the <label>

| Method | Cost |
|---|---|
| Mail | $6.95 |

Questions? https://fernhill.example"""


def article(sms: str | None = None) -> Article:
    return Article("returns", "Can I return it?", ("q",), (), sms, BODY)


def test_webchat_gets_markdown_as_written() -> None:
    assert render_article(article(), "webchat") == BODY


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_sms_text_preferred(channel: str) -> None:
    sms = "Free returns in 60 days."
    assert render_article(article(sms), channel) == sms


def test_sms_without_sms_text_is_ascii_plain_text() -> None:
    assert render_article(article(), "sms") == (
        "Returns are free within 60 days - see our policy "
        "(https://fernhill.example/returns?a=1&b=2).\n\n"
        "- keep the tags\n- use the <label>\n\n"
        "Mail: $6.95\n\n"
        "Questions? https://fernhill.example"
    )


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_plain_text_channels_keep_links(channel: str) -> None:
    assert render_article(article("ignored here"), channel) == (
        "Returns are free within 60 days – see our policy "
        "(https://fernhill.example/returns?a=1&b=2).\n\n"
        "• keep the tags\n• use the <label>\n\n"
        "Mail: $6.95\n\n"
        "Questions? https://fernhill.example"
    )


def test_telegram_html_is_escaped() -> None:
    assert render_article(article(), "telegram") == (
        "Returns are <b>free</b> within <i>60 days</i> – see "
        '<a href="https://fernhill.example/returns?a=1&amp;b=2">our policy</a>.\n\n'
        "• keep the tags\n• use the &lt;label&gt;\n\n"
        "Mail: $6.95\n\n"
        "Questions? https://fernhill.example"
    )


def test_unknown_channel() -> None:
    with pytest.raises(ValueError, match="unknown channel 'fax'"):
        render_article(article(), "fax")


def test_every_demo_article_renders_on_every_channel(demo_kb: KnowledgeBase) -> None:
    for a in demo_kb.articles:
        for channel in ("webchat", "sms", "whatsapp", "telegram", "messenger", "instagram"):
            assert render_article(a, channel).strip() != ""
