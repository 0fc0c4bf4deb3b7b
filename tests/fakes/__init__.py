"""Local fakes of the provider APIs (Twilio, Telegram, Meta Graph, Slack) and webhook fixtures.

See README.md in this folder. ``FakeProviders`` lives in ``tests.fakes.providers`` and the
webhook signers in ``tests.fakes.signing``; ``load_payload`` reads a recorded-style webhook
payload from ``payloads/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).resolve().parent / "payloads"

# The ids the payload files share (and the fake's defaults), so tests can cross-reference them.
TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_MESSAGING_SERVICE_SID = "MG9752274e9e519418a7406176694466fa"
TWILIO_NUMBER = "+14155550100"
TWILIO_WHATSAPP_NUMBER = "whatsapp:+14155238886"
CUSTOMER_PHONE = "+14155550123"
TELEGRAM_BOT_ID = 123456
TELEGRAM_USER_ID = 987654321
META_PAGE_ID = "102938475610293"
MESSENGER_PSID = "7654321098765432"
INSTAGRAM_ACCOUNT_ID = "17841400000000001"
INSTAGRAM_SCOPED_ID = "1234567890123456"
WHATSAPP_BUSINESS_ACCOUNT_ID = "102290129340398"
WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
WHATSAPP_DISPLAY_NUMBER = "15550783881"
WHATSAPP_CUSTOMER_WA_ID = "14155550123"


def load_payload(name: str) -> Any:
    """A payload by its path under payloads/ without ``.json``, e.g. ``"twilio/sms_inbound"``.

    Twilio payloads are dicts of the webhook's form fields; the others are the JSON bodies.
    """
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def payload_names() -> list[str]:
    return sorted(str(p.relative_to(PAYLOADS).with_suffix("")) for p in PAYLOADS.rglob("*.json"))
