"""Meta: Messenger and Instagram (Page access token) and WhatsApp Cloud, on one webhook."""
