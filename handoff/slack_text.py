"""Slack's message markup, as agents type it, turned into the Markdown our adapters render."""

from __future__ import annotations

import html
import re

_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>")
_MENTION = re.compile(r"<[@#!][^>|]*(?:\|([^>]+))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
NOTE_PREFIXES = ("note:", "//")


def is_note(text: str) -> bool:
    """A thread reply meant for colleagues only: it starts with `note:` or `//`."""
    return text.lstrip().lower().startswith(NOTE_PREFIXES)


def slack_to_markdown(text: str) -> str:
    """Links become [label](url), mentions their label, *bold* becomes **bold**, entities text."""
    text = _LINK.sub(lambda m: f"[{m.group(2)}]({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _MENTION.sub(lambda m: m.group(1) or "", text)
    text = _BOLD.sub(r"**\1**", text)
    text = _STRIKE.sub(r"~~\1~~", text)
    return html.unescape(text).strip()
