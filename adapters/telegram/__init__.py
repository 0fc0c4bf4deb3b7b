"""Telegram: a bot receiving updates by webhook and answering through the Bot API."""
