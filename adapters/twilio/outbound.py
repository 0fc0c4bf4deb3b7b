"""A reply as SMS or WhatsApp text: plain, links kept, options numbered, split to fit."""

from __future__ import annotations

from adapters.text import numbered
from gateway.messages import Outbound
from knowledge.render import markdown_to_text

MAX_BODY = 1600  # Twilio refuses longer bodies (error 21617)


def render_text(message: Outbound) -> str:
    """Plain text; quick replies become numbered options the customer answers by number."""
    text = markdown_to_text(message.text) if message.author != "bot" else message.text
    if message.author_name and message.author == "agent":
        text = f"{message.author_name}: {text}"
    return numbered(text, message.quick_replies)
