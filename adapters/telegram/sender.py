"""Sends replies through the Bot API with python-telegram-bot's Bot."""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from adapters.base import DeliveryError
from adapters.telegram.outbound import render_parts
from gateway.messages import Outbound
from gateway.settings import TelegramSettings


def bot_for(settings: TelegramSettings) -> Bot:
    """A Bot talking to the configured Bot API root."""
    return Bot(settings.bot_token.reveal(), base_url=f"{settings.api_base_url}/bot")


class TelegramSender:
    """Sender for the `telegram` channel."""

    channel = "telegram"

    def __init__(self, settings: TelegramSettings) -> None:
        self._bot = bot_for(settings)
        self._ready = False

    async def send(self, message: Outbound) -> list[str]:
        """Send each part of the reply, in order."""
        sent: list[str] = []
        try:
            if not self._ready:
                await self._bot.initialize()
                self._ready = True
            for part in render_parts(message):
                reply = await self._bot.send_message(
                    chat_id=int(message.to.address),
                    text=part.html,
                    parse_mode=ParseMode.HTML,
                    reply_markup=part.keyboard,
                )
                sent.append(f"{reply.chat_id}:{reply.message_id}")
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise DeliveryError(f"Telegram 429: {exc.message}", retry_after=seconds) from None
        except (Forbidden, BadRequest, InvalidToken) as exc:
            # The customer blocked the bot, or the request is wrong: retrying cannot help.
            raise DeliveryError(f"Telegram refused: {exc.message}", permanent=True) from None
        except TelegramError as exc:
            raise DeliveryError(f"Telegram: {type(exc).__name__}: {exc.message}") from None
        return sent

    async def close(self) -> None:
        """Release the HTTP client."""
        if self._ready:
            await self._bot.shutdown()
