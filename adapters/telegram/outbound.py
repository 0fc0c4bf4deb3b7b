"""A reply as Telegram HTML with an inline keyboard, split to fit Telegram's 4,096 characters."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from adapters.text import numbered, split_text
from gateway.messages import SHARE_CONTACT, Outbound
from knowledge.render import markdown_to_telegram_html

MAX_TEXT = 4096
# Conversion to HTML adds tags and entities; cutting the Markdown this short keeps every part
# under the limit without ever cutting inside a tag.
MARKDOWN_CHUNK = 3000
MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True)
class TelegramPart:
    """One sendMessage call."""

    html: str
    keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None


def render_parts(message: Outbound) -> list[TelegramPart]:
    """The messages to send, in order; buttons under the last one."""
    text = message.text
    if message.author == "agent" and message.author_name:
        text = f"**{message.author_name}:** {text}"
    keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
    options = message.quick_replies
    if any(q.payload == SHARE_CONTACT for q in options):
        # Only a reply keyboard can ask Telegram for the user's own contact card.
        keyboard = ReplyKeyboardMarkup(
            [
                [KeyboardButton(q.title, request_contact=True)]
                for q in options
                if q.payload == SHARE_CONTACT
            ],
            one_time_keyboard=True,
            resize_keyboard=True,
        )
    elif options and all(len(q.payload.encode()) <= MAX_CALLBACK_BYTES for q in options):
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(q.title, callback_data=q.payload)] for q in options]
        )
    elif options:
        # A payload too long for a button: offer numbered options, answered by typing a number.
        text = numbered(text, options)
    chunks = split_text(text, MARKDOWN_CHUNK)
    parts = [TelegramPart(markdown_to_telegram_html(chunk)[:MAX_TEXT]) for chunk in chunks]
    parts[-1] = TelegramPart(parts[-1].html, keyboard)
    return parts
