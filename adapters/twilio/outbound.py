"""A reply as SMS or WhatsApp text: plain, links kept, options numbered, split to fit."""

from __future__ import annotations

from gateway.messages import Outbound
from knowledge.render import markdown_to_text

MAX_BODY = 1600  # Twilio refuses longer bodies (error 21617)


def render_text(message: Outbound) -> str:
    """Plain text; quick replies become numbered options the customer answers by number."""
    text = markdown_to_text(message.text) if message.author != "bot" else message.text
    if message.author_name and message.author == "agent":
        text = f"{message.author_name}: {text}"
    if message.quick_replies:
        options = "\n".join(f"{n}. {q.title}" for n, q in enumerate(message.quick_replies, 1))
        text = f"{text}\n{options}\nReply with a number."
    return text.strip()


def split_body(text: str, limit: int = MAX_BODY) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraph, line or word boundaries."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        cut = cut if cut > limit // 2 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
