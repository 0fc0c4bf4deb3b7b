"""The append-only transcript in Redis: one list per conversation, seq = place in the list.

An append is one Lua script in the conversation's home slot: entries, the conversation's
activity and state, the step record (the idempotency key, kept for `key_ttl` seconds) and the
deliveries staged beside it. The deliveries then move to their recipients' outbox shards, which
live in other slots; a crash between the two is repaired when the step is replayed, because the
replay finds the staged deliveries and queues them (each once, by its own key).
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from gateway.messages import Entry, Outbound
from gateway.stores.protocol import EntryDraft
from gateway.stores.redis import keys
from gateway.stores.redis.codec import entry_from, entry_json, lua, ts_str
from gateway.stores.redis.outbox import RedisOutbox

# KEYS: step, transcript, conversation, staged deliveries.
# ARGV: conversation id, ttl, latest entry time or '', customer channel or '', state or '\0',
# number of entries, the entries, then the deliveries.
_APPEND = """
local record = redis.call('GET', KEYS[1])
if record then return {0, record, redis.call('LRANGE', KEYS[4], 0, -1)} end
local top = redis.call('LLEN', KEYS[2])
local n = tonumber(ARGV[6])
local seqs = {}
for i = 1, n do
  redis.call('RPUSH', KEYS[2], ARGV[6 + i])
  seqs[i] = top + i
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  if ARGV[3] ~= '' then
    local last = tonumber(redis.call('HGET', KEYS[3], 'last_activity_at') or '0')
    if tonumber(ARGV[3]) > last then redis.call('HSET', KEYS[3], 'last_activity_at', ARGV[3]) end
  end
  if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], 'last_channel', ARGV[4]) end
  if ARGV[5] ~= '\\0' then redis.call('HSET', KEYS[3], 'state', ARGV[5]) end
end
record = '{"c":"' .. ARGV[1] .. '","s":[' .. table.concat(seqs, ',') .. ']}'
redis.call('SET', KEYS[1], record, 'EX', ARGV[2])
local staged = {}
for i = 7 + n, #ARGV do
  redis.call('RPUSH', KEYS[4], ARGV[i])
  table.insert(staged, ARGV[i])
end
if #staged > 0 then redis.call('EXPIRE', KEYS[4], ARGV[2]) end
return {1, record, staged}
"""


class RedisTranscript:
    """TranscriptStore on Redis."""

    def __init__(self, redis: Redis, outbox: RedisOutbox, key_ttl: int) -> None:
        self._r = redis
        self._outbox = outbox
        self._key_ttl = key_ttl
        self._append = lua(redis, _APPEND)

    async def append(
        self,
        conversation_id: str,
        drafts: list[EntryDraft],
        key: str,
        deliveries: list[Outbound] | None = None,
        state: dict[str, Any] | None = None,
    ) -> list[Entry]:
        """Append entries, queue deliveries and save state in one atomic step, once per key."""
        stored = [entry_json(d, f"{key}#{i}") for i, d in enumerate(drafts)]
        latest = ts_str(max(d.ts.timestamp() for d in drafts)) if drafts else ""
        customer_channels = [d.channel for d in drafts if d.author == "customer"]
        new, record, staged = await self._append(
            keys=[
                keys.step(conversation_id, key),
                keys.transcript(conversation_id),
                keys.conversation(conversation_id),
                keys.staged(conversation_id, key),
            ],
            args=[
                conversation_id,
                self._key_ttl,
                latest,
                customer_channels[-1] if customer_channels else "",
                "\0" if state is None else json.dumps(state),
                len(stored),
                *stored,
                *(json.dumps(d.to_dict()) for d in deliveries or []),
            ],
        )
        if staged:
            for index, raw in enumerate(staged):
                message = Outbound.from_dict(json.loads(raw))
                await self._outbox.enqueue(conversation_id, message, f"{key}#d{index}")
            await self._r.delete(keys.staged(conversation_id, key))
        where = json.loads(record)
        if new:
            return [
                entry_from(raw, conversation_id, seq)
                for raw, seq in zip(stored, where["s"], strict=True)
            ]
        return await self._replayed(where["c"], where["s"])

    async def _replayed(self, conversation_id: str, seqs: list[int]) -> list[Entry]:
        """The entries a step wrote, following them into the conversations merges moved them to."""
        for _ in range(100):  # merges chain a few times at most; never loop forever
            merged_into = await self._r.hget(keys.conversation(conversation_id), "merged_into")
            if not merged_into:
                break
            fields = [f"{conversation_id}:{s}" for s in seqs]
            moved = await self._r.hmget(keys.moved(merged_into), fields)
            seqs = [int(s) for s in moved if s is not None]
            conversation_id = merged_into
        found = []
        for seq in seqs:
            raw = await self._r.lindex(keys.transcript(conversation_id), seq - 1)
            if raw is not None:
                found.append(entry_from(raw, conversation_id, seq))
        return found

    async def entries(self, conversation_id: str, after_seq: int = 0) -> list[Entry]:
        """Entries with seq greater than after_seq, in order."""
        raws = await self._r.lrange(keys.transcript(conversation_id), after_seq, -1)
        return [entry_from(raw, conversation_id, after_seq + i) for i, raw in enumerate(raws, 1)]
