"""Text shaping every channel needs: numbered options, and splitting to a provider's limit."""

from __future__ import annotations

from gateway.messages import QuickReply


def numbered(text: str, options: tuple[QuickReply, ...]) -> str:
    """Options as numbered lines, for channels without buttons; the router maps a typed number."""
    if not options:
        return text.strip()
    lines = "\n".join(f"{n}. {q.title}" for n, q in enumerate(options, 1))
    return f"{text}\n{lines}\nReply with a number.".strip()


def split_text(text: str, limit: int) -> list[str]:
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
