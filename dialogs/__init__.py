"""Dialogs: what the bot says. They decide and return data; the gateway does the I/O."""
