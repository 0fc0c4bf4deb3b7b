"""`onethread telegram set-webhook`: tell Telegram where to deliver updates, with our secret."""

from __future__ import annotations

from adapters.telegram.http import PATH
from adapters.telegram.sender import bot_for
from gateway.settings import Settings

ALLOWED_UPDATES = ["message", "callback_query"]


async def set_webhook(settings: Settings) -> str:
    """Register ONETHREAD_PUBLIC_URL/webhooks/telegram; returns what Telegram now reports."""
    if settings.telegram is None:
        raise ValueError("Telegram is off: set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET")
    url = settings.public_url + PATH
    if not url.startswith("https://"):
        raise ValueError(f"Telegram delivers only to https URLs; ONETHREAD_PUBLIC_URL is {url}")
    async with bot_for(settings.telegram) as bot:
        await bot.set_webhook(
            url=url,
            secret_token=settings.telegram.webhook_secret.reveal(),
            allowed_updates=ALLOWED_UPDATES,
        )
        info = await bot.get_webhook_info()
        me = await bot.get_me()
    pending = info.pending_update_count
    return f"@{me.username}: updates go to {info.url} ({pending} pending)"
