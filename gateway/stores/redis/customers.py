"""Customers and identities in Redis.

A customer's record and identity list live in its home slot; who owns an identity is one small
key per identity (`ot:idn:{channel:address}`), set once with SET NX, so two processes meeting the
same new sender agree on one customer. Merging two customers touches two home slots and the
identity keys, so it is a sequence of steps that are each atomic and idempotent rather than
one transaction (see docs/redis.md).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from gateway.messages import Address
from gateway.stores.protocol import Customer, Identity
from gateway.stores.redis import keys
from gateway.stores.redis.codec import entry_sort_key, lua, now_ts, to_dt, ts_str
from gateway.stores.redis.conversations import conversation_from

# An identity's value in the customer's identity hash: "verified_by \x1f created_at".
SEP = "\x1f"

# KEYS: customer, identities. ARGV: identity field, verified_by or '', name or ''.
_TOUCH = """
if ARGV[2] ~= '' then
  local value = redis.call('HGET', KEYS[2], ARGV[1])
  if value and string.sub(value, 1, 1) == '\\31' then
    redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. value)
  end
end
if ARGV[3] ~= '' and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSETNX', KEYS[1], 'name', ARGV[3])
end
return 1
"""


def _identity_value(verified_by: str | None, at: float) -> str:
    return f"{verified_by or ''}{SEP}{ts_str(at)}"


# KEYS: the customer hash. ARGV: JSON of changes; JSON null removes an attribute.
_SET_ATTRIBUTES = """
local raw = redis.call('HGET', KEYS[1], 'attributes')
local attributes = cjson.decode(raw or '{}')
for name, value in pairs(cjson.decode(ARGV[1])) do
  if value == cjson.null then attributes[name] = nil else attributes[name] = value end
end
redis.call('HSET', KEYS[1], 'attributes', cjson.encode(attributes))
"""


class RedisCustomers:
    """CustomerStore on Redis."""

    def __init__(self, redis: Redis, store: object) -> None:
        self._r = redis
        self._store = store  # the RedisStore, for the parts a merge or erasure reaches into
        self._touch = lua(redis, _TOUCH)
        self._set_attributes = lua(redis, _SET_ATTRIBUTES)

    async def resolve(self, address: Address, verified_by: str | None, name: str | None) -> str:
        """The customer id owning this identity, creating customer and identity if new."""
        index = keys.identity_index(address.channel, address.address)
        field = keys.identity_field(address.channel, address.address)
        owner = await self._r.get(index)
        if owner is None:
            cid, ts = keys.new_customer_id(), now_ts()
            record = {"created_at": ts_str(ts), "attributes": "{}"}
            if name:
                record["name"] = name
            pipe = self._r.pipeline(transaction=True)  # one home slot
            pipe.hset(keys.customer(cid), mapping=record)
            pipe.hset(keys.identities(cid), field, _identity_value(verified_by, ts))
            await pipe.execute()
            if await self._r.set(index, cid, nx=True):
                return cid
            # Another process created this identity's customer first: use theirs.
            await self._r.delete(keys.customer(cid), keys.identities(cid))
            owner = await self._r.get(index)
            assert owner is not None
        await self._touch(
            keys=[keys.customer(owner), keys.identities(owner)],
            args=[field, verified_by or "", name or ""],
        )
        return owner

    async def link(self, customer_id: str, identity: Identity) -> str | None:
        """Attach an identity; returns the customer that already owns it, if another does."""
        index = keys.identity_index(identity.channel, identity.address)
        if not await self._r.set(index, customer_id, nx=True):
            owner = await self._r.get(index)
            return None if owner == customer_id else owner
        await self._r.hset(
            keys.identities(customer_id),
            keys.identity_field(identity.channel, identity.address),
            _identity_value(identity.verified_by, now_ts()),
        )
        return None

    async def surviving_id(self, customer_id: str) -> str | None:
        """Follow merged_into links to the record that absorbed this one."""
        seen: set[str] = set()
        current = customer_id
        while current not in seen:
            seen.add(current)
            row = await self._r.hmget(keys.customer(current), ["created_at", "merged_into"])
            if row[0] is None:
                return None
            if not row[1]:
                return current
            current = row[1]
        return None

    async def merge(self, survivor_id: str, absorbed_id: str, at: datetime) -> None:
        """Fold one customer into another: identities, conversations, transcripts in time order."""
        survivor = await self.surviving_id(survivor_id)
        absorbed = await self.surviving_id(absorbed_id)
        if survivor is None or absorbed is None or survivor == absorbed:
            return
        for field, value in (await self._r.hgetall(keys.identities(absorbed))).items():
            channel, address = field.split(SEP, 1)
            await self._r.set(keys.identity_index(channel, address), survivor)
            await self._r.hsetnx(keys.identities(survivor), field, value)
        for vid, opened in await self._r.zrange(
            keys.conversations_of(absorbed), 0, -1, withscores=True
        ):
            await self._r.hset(keys.conversation(vid), "customer_id", survivor)
            await self._r.zadd(keys.conversations_of(survivor), {vid: opened})
        await self._store.handoffs.reassign_customer(absorbed, survivor)
        names = await self._r.hmget(keys.customer(survivor), ["name", "attributes"])
        other = await self._r.hmget(keys.customer(absorbed), ["name", "attributes"])
        attributes = {**json.loads(other[1] or "{}"), **json.loads(names[1] or "{}")}
        update = {"attributes": json.dumps(attributes)}
        if not names[0] and other[0]:
            update["name"] = other[0]
        await self._r.hset(keys.customer(survivor), mapping=update)
        # Last, so that a merge cut short is redone in full when its step is replayed.
        await self._r.hset(keys.customer(absorbed), "merged_into", survivor)
        await self._r.sadd(keys.absorbed(survivor), absorbed)
        await self._r.delete(
            keys.identities(absorbed), keys.conversations_of(absorbed), keys.open_pointer(absorbed)
        )
        await self.merge_open_conversations(survivor, at.timestamp())

    async def merge_open_conversations(self, customer_id: str, at: float) -> None:
        """Leave one open conversation: when several are open, move their entries, in time order,
        into a new one, so that every client replays the merged thread from its first entry."""
        opened = []
        for vid in await self._r.zrange(keys.conversations_of(customer_id), 0, -1):
            row = await self._r.hgetall(keys.conversation(vid))
            if row and row["status"] == "open":
                opened.append(conversation_from(vid, row))
        opened.sort(key=lambda c: c.last_activity_at)
        if len(opened) == 1:
            await self._r.set(keys.open_pointer(customer_id), opened[0].id)
        if len(opened) < 2:
            return
        moving: list[tuple[tuple[float, str, str, int], str, str, int]] = []
        for conv in opened:
            raws = await self._r.lrange(keys.transcript(conv.id), 0, -1)
            for seq, raw in enumerate(raws, start=1):
                ts, _ = entry_sort_key(raw)
                moving.append(((ts, conv.id, "", seq), raw, conv.id, seq))
        moving.sort(key=lambda m: m[0])
        merged_id = keys.new_conversation_id(keys.home_of(customer_id))
        latest = opened[-1]
        steps: dict[str, list[int]] = defaultdict(list)
        moved: dict[str, int] = {}
        pipe = self._r.pipeline(transaction=True)  # everything new is in the customer's home
        pipe.hset(
            keys.conversation(merged_id),
            mapping={
                "customer_id": customer_id,
                "status": "open",
                "opened_at": ts_str(min(c.opened_at.timestamp() for c in opened)),
                "last_activity_at": ts_str(max(at, latest.last_activity_at.timestamp())),
                "state": json.dumps(latest.state),
                **({"last_channel": latest.last_channel} if latest.last_channel else {}),
            },
        )
        for new_seq, (_, raw, old_id, old_seq) in enumerate(moving, start=1):
            pipe.rpush(keys.transcript(merged_id), raw)
            moved[f"{old_id}:{old_seq}"] = new_seq
            entry_key = json.loads(raw).get("k") or ""
            if "#" in entry_key:
                steps[entry_key.rsplit("#", 1)[0]].append(new_seq)
        if moved:
            pipe.hset(keys.moved(merged_id), mapping=moved)
        for step_key, seqs in steps.items():
            # A step replayed against the merged conversation finds its entries here.
            record = json.dumps({"c": merged_id, "s": sorted(seqs)})
            pipe.set(keys.step(merged_id, step_key), record, ex=self._store.key_ttl)
        first_opened = min(c.opened_at for c in opened).timestamp()
        pipe.zadd(keys.conversations_of(customer_id), {merged_id: first_opened})
        pipe.set(keys.open_pointer(customer_id), merged_id)
        await pipe.execute()
        for conv in opened:
            await self._r.hset(
                keys.conversation(conv.id),
                mapping={"status": "merged", "merged_into": merged_id, "resolved_at": ts_str(at)},
            )
        await self._store.handoffs.move_conversations([c.id for c in opened], merged_id)

    async def update_attributes(self, customer_id: str, changes: dict[str, Any]) -> Customer | None:
        """Set attributes (a None value removes one), following merges; None if no customer."""
        cid = await self.surviving_id(customer_id)
        if cid is None:
            return None
        await self._set_attributes(keys=[keys.customer(cid)], args=[json.dumps(changes)])
        return await self.get(cid)

    async def get(self, customer_id: str) -> Customer | None:
        """The customer, following merges to the surviving record."""
        cid = await self.surviving_id(customer_id)
        if cid is None:
            return None
        row = await self._r.hgetall(keys.customer(cid))
        found = []
        for field, value in (await self._r.hgetall(keys.identities(cid))).items():
            channel, address = field.split(SEP, 1)
            verified_by, created = value.split(SEP, 1)
            found.append((float(created), channel, Identity(channel, address, verified_by or None)))
        found.sort(key=lambda f: (f[0], f[1]))
        return Customer(
            id=cid,
            name=row.get("name") or None,
            created_at=to_dt(row["created_at"]),
            identities=tuple(i for _, _, i in found),
            attributes=json.loads(row.get("attributes") or "{}"),
        )

    async def delete(self, customer_id: str) -> bool:
        """Erase the customer and everything stored about them."""
        cid = await self.surviving_id(customer_id)
        if cid is None:
            return False
        senders = []
        for field in await self._r.hkeys(keys.identities(cid)):
            channel, address = field.split(SEP, 1)
            senders.append(f"{channel}:{address}")
            await self._r.delete(keys.identity_index(channel, address))
        for vid in await self._r.zrange(keys.conversations_of(cid), 0, -1):
            await self._store.outbox.erase_conversation(vid, senders)
            await self._store.questions.erase_conversation(vid)
            await self._store.handoffs.erase_conversation(vid)
            await self._r.delete(keys.conversation(vid), keys.transcript(vid), keys.moved(vid))
        for sender in senders:
            await self._store.inbox.erase_sender(sender)
        family = [cid, *await self._r.smembers(keys.absorbed(cid))]
        await self._store.business_events.erase(family)
        await self._store.events.erase(family)
        for absorbed in family[1:]:
            await self._r.delete(keys.customer(absorbed))  # another slot: its own command
        await self._r.delete(
            keys.customer(cid),
            keys.identities(cid),
            keys.conversations_of(cid),
            keys.open_pointer(cid),
            keys.absorbed(cid),
        )
        return True
