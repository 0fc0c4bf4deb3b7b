"""Twilio Messaging: SMS, and WhatsApp through Twilio (`whatsapp:` addresses)."""
