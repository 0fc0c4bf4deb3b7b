"""Where everything lives in Redis: key names, hash tags and the work shards.

Keys are designed for Redis Cluster. A customer and the conversations created for it share one
hash tag, `{h:HOME}`, where HOME is a slice of the customer's random id that every conversation id
minted for that customer repeats (`cus_HOME…`, `con_HOME…`); so one customer's record, identities,
conversations, transcripts and step records sit in one hash slot and each of their atomic steps is
one Lua script on one node. Inbound and outbound work is spread over a fixed number of work
shards (`{in:N}`, `{out:N}`), each a stream plus per-sender queues in one slot. Handoffs,
knowledge versions and the question log each have a slot of their own (`{hof}`, `{kb}`, `{q}`).
"""

from __future__ import annotations

import uuid
import zlib

PREFIX = "ot"
# Changing the number of shards moves queued work to other keys: drain the queues first.
WORK_SHARDS = 16
GROUP = "workers"
HOME_LENGTH = 10


def new_customer_id() -> str:
    """A customer id whose first hex digits name its home slot."""
    return f"cus_{uuid.uuid4().hex[:20]}"


def new_conversation_id(home: str) -> str:
    """A conversation id living in the given home slot."""
    return f"con_{home}{uuid.uuid4().hex[: 20 - len(home)]}"


def home_of(entity_id: str) -> str:
    """The home slot part of a customer or conversation id (the whole id if it has no home)."""
    if entity_id[:4] in {"cus_", "con_"} and len(entity_id) >= 4 + HOME_LENGTH:
        return entity_id[4 : 4 + HOME_LENGTH]
    return entity_id


def home(entity_id: str) -> str:
    """The key prefix of an entity's home slot, ending in a colon."""
    return f"{PREFIX}:{{h:{home_of(entity_id)}}}:"


def customer(cid: str) -> str:
    return f"{home(cid)}cus:{cid}"


def identities(cid: str) -> str:
    return f"{home(cid)}cus:{cid}:ids"


def absorbed(cid: str) -> str:
    """The customers merged into this one, so erasing it erases them too."""
    return f"{home(cid)}cus:{cid}:absorbed"


def conversations_of(cid: str) -> str:
    return f"{home(cid)}cus:{cid}:convs"


def open_pointer(cid: str) -> str:
    return f"{home(cid)}cus:{cid}:open"


def conversation(vid: str) -> str:
    return f"{home(vid)}con:{vid}"


def transcript(vid: str) -> str:
    return f"{home(vid)}con:{vid}:tx"


def moved(vid: str) -> str:
    """In a conversation made by a merge: where each moved entry went ("old:seq" → new seq)."""
    return f"{home(vid)}con:{vid}:moved"


def step(vid: str, key: str) -> str:
    return f"{home(vid)}step:{key}"


def staged(vid: str, key: str) -> str:
    return f"{home(vid)}step:{key}:deliveries"


def identity_index(channel: str, address: str) -> str:
    """Who owns an identity: one small key per identity, in a slot of its own."""
    return f"{PREFIX}:idn:{{{channel}:{address}}}"


def identity_field(channel: str, address: str) -> str:
    return f"{channel}\x1f{address}"


def shard_of(who: str) -> int:
    """The work shard of a sender or recipient: stable, so its items stay in order."""
    return zlib.crc32(who.encode()) % WORK_SHARDS


def work(kind: str, shard: int) -> str:
    """The key prefix of one work shard (`in` or `out`), ending in a colon."""
    return f"{PREFIX}:{{{kind}:{shard}}}:"


def id_counter(kind: str) -> str:
    return f"{PREFIX}:{{ids}}:{kind}"


def receipt(provider_id: str) -> str:
    return f"{PREFIX}:rcpt:{{{provider_id}}}"


def lock(name: str) -> str:
    return f"{PREFIX}:lock:{{{name}}}"


HANDOFFS = f"{PREFIX}:{{hof}}:"
KNOWLEDGE = f"{PREFIX}:{{kb}}:"
QUESTIONS = f"{PREFIX}:{{q}}:"
FEED_CHANNEL = f"{PREFIX}:feed"
KNOWLEDGE_CHANNEL = f"{PREFIX}:kb"


def business_events(cid: str) -> str:
    """The customer's business events, oldest recorded first."""
    return f"{home(cid)}cus:{cid}:events"


def business_event_keys(cid: str) -> str:
    """The senders' keys of the customer's business events, so a repeat is one event."""
    return f"{home(cid)}cus:{cid}:evkeys"


# The analytics event log is read by time across all customers, so it has one slot of its own.
EVENT_LOG = f"{PREFIX}:{{ev}}:log"
EVENT_KEYS = f"{PREFIX}:{{ev}}:keys"
EVENT_SEQ = f"{PREFIX}:{{ev}}:seq"


def events_of(cid: str) -> str:
    """The event-log members about one customer, so erasing the customer erases them."""
    return f"{PREFIX}:{{ev}}:cus:{cid}"
