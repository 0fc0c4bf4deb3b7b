"""Identity resolution: who is writing, linked to other channels only on verified evidence.

A sender's own address always resolves to a customer. Verified phone numbers and emails are
identities too (channel `phone` / `email`); when one already belongs to another customer, the two
are one person and are merged. Nothing a customer merely types is evidence.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from gateway.messages import Address, Evidence
from gateway.stores.protocol import CustomerStore, Identity

log = logging.getLogger(__name__)

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_phone(raw: str) -> str | None:
    """An E.164 number with punctuation removed, or None when it is not one."""
    compact = re.sub(r"[\s().-]", "", raw.strip())
    return compact if _E164.match(compact) else None


def normalize_email(raw: str) -> str | None:
    """A lower-cased email address, or None when it does not look like one."""
    value = raw.strip().lower()
    return value if _EMAIL.match(value) else None


def evidence_identity(evidence: Evidence) -> Identity | None:
    """The identity a piece of evidence vouches for, normalized; None when malformed."""
    if evidence.kind == "phone":
        value = normalize_phone(evidence.value)
    elif evidence.kind == "email":
        value = normalize_email(evidence.value)
    else:
        value = None
    if value is None or not evidence.verified_by:
        return None
    return Identity(evidence.kind, value, evidence.verified_by)


@dataclass(frozen=True)
class Resolution:
    """The customer a message belongs to, and any customers merged into it on the way."""

    customer_id: str
    absorbed: tuple[str, ...] = ()


class IdentityResolver:
    """Turns a sender and its verified evidence into one customer id, merging where proven."""

    def __init__(self, customers: CustomerStore) -> None:
        self._customers = customers

    async def resolve(
        self,
        sender: Address,
        evidence: tuple[Evidence, ...],
        at: datetime,
        name: str | None = None,
        sender_verified_by: str | None = None,
    ) -> Resolution:
        """The customer for this sender after linking every piece of evidence."""
        customer_id = await self._customers.resolve(sender, sender_verified_by, name)
        absorbed: list[str] = []
        for item in evidence:
            identity = evidence_identity(item)
            if identity is None:
                log.warning("ignored malformed %s evidence from %s", item.kind, sender.channel)
                continue
            owner = await self._customers.link(customer_id, identity)
            if owner is not None:
                # The earlier customer keeps its id: links and bookmarks to it stay valid.
                await self._customers.merge(owner, customer_id, at)
                absorbed.append(customer_id)
                log.info("merged customer %s into %s on %s", customer_id, owner, identity.channel)
                customer_id = owner
        return Resolution(customer_id, tuple(absorbed))
