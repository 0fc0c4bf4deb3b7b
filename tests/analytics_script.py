"""A scripted set of conversations for the analytics tests, with its figures worked out by hand.

Period: conversations begun 2026-11-02 00:00 to 2026-11-05 00:00 UTC; re-contact window 24 h.

Conversation, customer, when it begins, what happens:

- F1, ann, 11-01 23:00, web chat: before the period, not counted.
- A1, ann, 11-02 09:00, web chat: answered (how-to-return), the customer says thanks.
- B1, bob, 11-02 10:00, SMS: answered (gift-card-balance), re-asked (fallback), asks for a
  person: handoff to `billing` (human_agent); claimed +120 s, first reply +240 s, resolved
  +1800 s, rated 5.
- Y1, cy, 11-02 12:00, web chat: answered (shipping-times) ...
- Y2, cy, 11-02 15:00, SMS: ... cy comes back 3 h later on SMS, so Y1 is re-contacted; Y2
  clarifies, then recognises order_status.
- D1, dee, 11-02 18:00, WhatsApp: answered (free-shipping).
- D2, dee, 11-04 20:00, Telegram: 50 h after D1 (outside the window); fallback, handoff to
  `general` (repeated_misses); claimed +600 s, first reply +1080 s, never resolved.
- E1, eve, 11-03 09:00, web chat then SMS: fallback on web chat, answered (payment-methods) on
  SMS, handoff to `general` (complaint); claimed +1800 s, first reply +1860 s, resolved +3600 s,
  rated 2.
- Z1, eve, 11-05 01:00, web chat: after the period (and outside E1's window), not counted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.analytics.events import EventRecorder
from gateway.stores.protocol import AnalyticsEvent, Handoff, Store

SINCE = datetime(2026, 11, 2, tzinfo=UTC)
UNTIL = datetime(2026, 11, 5, tzinfo=UTC)
WINDOW = timedelta(hours=24)


def at(day: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    """A time on 2026-11-<day>."""
    return datetime(2026, 11, day, hh, mm, ss, tzinfo=UTC)


class Script:
    """Writes events the way the router and the handoff code do."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.recorder = EventRecorder(store.events, store.conversations)
        self.n = 0

    async def _raw(self, kind: str, when: datetime, conv: str, who: str, ch: str, **data) -> None:
        self.n += 1
        event = AnalyticsEvent(kind, when, f"con_{conv}", f"cus_{who}", ch, data)
        await self.store.events.record(f"script:{self.n}", event)

    async def said(self, when: datetime, conv: str, who: str, ch: str, new: bool = False) -> None:
        data = {"new_conversation": True} if new else {}
        await self._raw("message_in", when, conv, who, ch, **data)

    async def bot(
        self, when: datetime, conv: str, who: str, ch: str, decision: str, **data
    ) -> None:
        await self._raw(
            "message_out",
            when,
            conv,
            who,
            ch,
            decision=decision,
            intent=data.get("intent"),
            article_id=data.get("article_id"),
            score=data.get("score", 0.5),
            **({"question": data["question"]} if "question" in data else {}),
        )

    async def recontact(self, when: datetime, conv: str, who: str, ch: str, prev: str) -> None:
        await self._raw("recontact", when, conv, who, ch, previous_conversation_id=f"con_{prev}")

    async def handed(
        self,
        conv: str,
        who: str,
        reason: str,
        queue: str,
        opened: datetime,
        claim: float,
        reply: float,
        resolve: float | None,
        rating: int | None,
    ) -> None:
        """One handoff through its life, each step recorded with the Handoff as it then stood."""
        h = Handoff(f"hof_{conv}", f"con_{conv}", f"cus_{who}", reason, queue, "queued", opened)
        await self.recorder.handoff(h, channel="sms")
        claimed = opened + timedelta(seconds=claim)
        h = Handoff(**{**h.__dict__, "status": "claimed", "claimed_at": claimed, "agent_id": "U1"})
        await self.recorder.claim(h)
        replied = opened + timedelta(seconds=reply)
        await self.recorder.agent_reply(h, key="1", at=replied)
        h = Handoff(**{**h.__dict__, "first_response_at": replied})
        await self.recorder.agent_reply(h, key="2", at=replied + timedelta(seconds=30))
        if resolve is not None:
            done = opened + timedelta(seconds=resolve)
            h = Handoff(**{**h.__dict__, "status": "resolved", "resolved_at": done})
            await self.recorder.resolve(h)
            if rating is not None:
                await self.recorder.rating(h, rating, at=done + timedelta(minutes=1))


async def record_script(store: Store) -> None:
    """Record the scripted conversations into a store's event log."""
    s = Script(store)
    await s.said(at(1, 23), "F1", "ann", "webchat", new=True)
    await s.bot(at(1, 23, 0, 1), "F1", "ann", "webchat", "answer", article_id="free-shipping")

    await s.said(at(2, 9), "A1", "ann", "webchat", new=True)
    await s.recontact(at(2, 9), "A1", "ann", "webchat", prev="F1")
    await s.bot(at(2, 9, 0, 2), "A1", "ann", "webchat", "answer", article_id="how-to-return")
    await s.said(at(2, 9, 1), "A1", "ann", "webchat")
    await s.bot(at(2, 9, 1, 1), "A1", "ann", "webchat", "intent", intent="thanks")

    await s.said(at(2, 10), "B1", "bob", "sms", new=True)
    await s.bot(at(2, 10, 0, 1), "B1", "bob", "sms", "answer", article_id="gift-card-balance")
    await s.said(at(2, 10, 5), "B1", "bob", "sms")
    await s.bot(at(2, 10, 5, 1), "B1", "bob", "sms", "fallback", question="my card shows zero")
    await s.said(at(2, 10, 6), "B1", "bob", "sms")
    await s.bot(at(2, 10, 6, 1), "B1", "bob", "sms", "intent", intent="human_agent")
    await s.handed("B1", "bob", "human_agent", "billing", at(2, 10, 6, 2), 120, 240, 1800, 5)

    await s.said(at(2, 12), "Y1", "cy", "webchat", new=True)
    await s.bot(at(2, 12, 0, 1), "Y1", "cy", "webchat", "answer", article_id="shipping-times")
    await s.said(at(2, 15), "Y2", "cy", "sms", new=True)
    await s.recontact(at(2, 15), "Y2", "cy", "sms", prev="Y1")
    await s.bot(at(2, 15, 0, 1), "Y2", "cy", "sms", "clarify", question="where is my parcel")
    await s.said(at(2, 15, 1), "Y2", "cy", "sms")
    await s.bot(at(2, 15, 1, 1), "Y2", "cy", "sms", "intent", intent="order_status")

    await s.said(at(2, 18), "D1", "dee", "whatsapp", new=True)
    await s.bot(at(2, 18, 0, 1), "D1", "dee", "whatsapp", "answer", article_id="free-shipping")
    await s.said(at(4, 20), "D2", "dee", "telegram", new=True)
    await s.recontact(at(4, 20), "D2", "dee", "telegram", prev="D1")
    await s.bot(
        at(4, 20, 0, 1), "D2", "dee", "telegram", "fallback", question="do you ship to mars"
    )
    await s.handed("D2", "dee", "repeated_misses", "general", at(4, 20, 2), 600, 1080, None, None)

    await s.said(at(3, 9), "E1", "eve", "webchat", new=True)
    await s.bot(
        at(3, 9, 0, 1), "E1", "eve", "webchat", "fallback", question="do you deliver to mars"
    )
    await s.said(at(3, 9, 2), "E1", "eve", "sms")
    await s.bot(at(3, 9, 2, 1), "E1", "eve", "sms", "answer", article_id="payment-methods")
    await s.handed("E1", "eve", "complaint", "general", at(3, 9, 3), 1800, 1860, 3600, 2)

    await s.said(at(5, 1), "Z1", "eve", "webchat", new=True)
    await s.bot(at(5, 1, 0, 1), "Z1", "eve", "webchat", "answer", article_id="how-to-return")
