#!/usr/bin/env python
"""Keys and memory per customer and per message in the Redis store, measured on a real
redis-server, and what that means for ten million customers.

It drives the store the way the pipeline does for each SMS: accept into the inbox, claim,
resolve the customer, find the conversation, append the customer's entry, append the bot's reply
with its delivery, log the question, complete the inbox item, claim and send the delivery, and
record the provider's receipt. Then it reads every key's MEMORY USAGE and TTL, grouped by kind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from gateway.messages import Address, Inbound, Outbound  # noqa: E402
from gateway.stores.protocol import AskedQuestion, EntryDraft  # noqa: E402
from gateway.stores.redis import RedisStore  # noqa: E402

QUESTION = "how long does standard shipping take to colorado?"
# The demo shop's SMS answer for shipping: a typical reply length.
REPLY = (
    "Orders placed by 11 am Pacific on a business day ship the same day. Then: Standard 3-6 "
    "business days, Expedited 2 business days, Overnight next business day. Details: "
    "https://fernhill.example/shipping"
)
TEN_MILLION = 10_000_000


def kind_of(key: str) -> str:
    """A key's kind, with ids and addresses taken out."""
    key = re.sub(r"^ot:(rcpt|idn|lock):\{.*\}$", r"ot:\1:{…}", key)
    key = re.sub(r"\{h:[0-9a-f]+\}", "{h}", key)
    key = re.sub(r"\{(in|out):\d+\}", r"{\1:N}", key)
    key = re.sub(r"(cus|con)_[0-9a-f]+", r"\1", key)
    key = re.sub(r"item:\d+", "item:ID", key)
    key = re.sub(r":(q|key|dk|step|conv):.*?(:deliveries)?$", r":\1:…\2", key)
    return key


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


async def one_message(store: RedisStore, customer: int, turn: int) -> None:
    """What the pipeline stores for one SMS and its reply."""
    sender = Address("sms", f"+1555{customer:07d}")
    now = datetime.now(UTC)
    item_id, _ = await store.inbox.accept(
        Inbound(key=f"twilio:SM{customer:010d}{turn:04d}", sender=sender, received_at=now,
                text=QUESTION)
    )  # fmt: skip
    await store.inbox.claim(f"bench-{customer}", 1)
    cid = await store.customers.resolve(sender, "twilio", None)
    async with store.locks.hold(cid):
        conv = await store.conversations.current(cid, now, 24 * 3600)
        await store.transcript.append(
            conv.id, [EntryDraft("customer", "sms", QUESTION, now)], key=f"in:{item_id}"
        )
        state = {"misses": 0, "last_article": "shipping-times"}
        await store.transcript.append(
            conv.id,
            [EntryDraft("bot", "sms", REPLY, now, meta={"article_id": "shipping-times"})],
            key=f"out:{item_id}",
            deliveries=[Outbound(sender, REPLY)],
            state=state,
        )
        await store.questions.record(
            f"q:{item_id}",
            AskedQuestion(conv.id, "sms", QUESTION, "answer", now, "shipping-times", None, 0.91),
        )
    await store.inbox.complete(item_id)
    for item in await store.outbox.claim_due(f"bench-{customer}", datetime.now(UTC), 100):
        provider_id = f"SM{item.id:032d}"
        await store.outbox.sent(item.id, [provider_id])
        await store.outbox.receipt(provider_id, "delivered")


async def census(store: RedisStore) -> dict[str, dict[str, float]]:
    """Keys and bytes by kind, split into lasting keys and expiring ones."""
    by_kind: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    async for key in store.redis.scan_iter(count=1000):
        usage = await store.redis.memory_usage(key, samples=0) or 0
        ttl = await store.redis.ttl(key)
        row = by_kind[kind_of(key)]
        row["keys"] += 1
        row["bytes"] += usage
        row["expiring"] = 1.0 if ttl > 0 else row["expiring"]
    return by_kind


def split(kinds: dict[str, dict[str, float]]) -> tuple[float, float, float]:
    """Bytes in lasting keys, bytes in expiring keys, number of lasting keys."""
    lasting = sum(r["bytes"] for r in kinds.values() if not r["expiring"])
    expiring = sum(r["bytes"] for r in kinds.values() if r["expiring"])
    return lasting, expiring, sum(r["keys"] for r in kinds.values() if not r["expiring"])


async def measure(url: str, customers: int, messages: int) -> dict[str, Any]:
    store = await RedisStore(url).open()
    try:
        await store.redis.flushall()
        await store.open()
        empty = (await store.redis.info("memory"))["used_memory"]
        for c in range(customers):
            await one_message(store, c, 0)
        first = (await store.redis.info("memory"))["used_memory"]
        first_keys = await store.redis.dbsize()
        lasting_1, expiring_1, lasting_keys_1 = split(await census(store))
        for turn in range(1, messages):
            for c in range(customers):
                await one_message(store, c, turn)
        after = (await store.redis.info("memory"))["used_memory"]
        kinds = await census(store)
    finally:
        await store.close()
    lasting_n, expiring_n, lasting_keys_n = split(kinds)
    further = customers * (messages - 1)
    return {
        "customers": customers,
        "messages_per_customer": messages,
        "used_memory": {"empty": empty, "after_first": first, "after_all": after},
        "first_message": {
            "used_memory_per_customer": round((first - empty) / customers),
            "keys_per_customer": round(first_keys / customers, 2),
            "lasting_bytes_per_customer": round(lasting_1 / customers),
            "lasting_keys_per_customer": round(lasting_keys_1 / customers, 2),
            "expiring_bytes": round(expiring_1 / customers),
        },
        "further_message": {
            "used_memory": round((after - first) / further),
            "lasting_bytes": round((lasting_n - lasting_1) / further),
            "lasting_keys": round((lasting_keys_n - lasting_keys_1) / further, 2),
            "expiring_bytes": round((expiring_n - expiring_1) / further),
        },
        "kinds": {
            k: {"keys": int(r["keys"]), "bytes": int(r["bytes"]), "expiring": bool(r["expiring"])}
            for k, r in sorted(kinds.items(), key=lambda kv: -kv[1]["bytes"])
        },
    }


def table(report: dict[str, Any]) -> str:
    r = report
    first, further = r["first_message"], r["further_message"]
    lines = [
        f"Redis store capacity: {r['customers']} customers x {r['messages_per_customer']} SMS "
        f"(question + one reply each), redis-server {r['redis_version']}",
        "bytes are MEMORY USAGE summed per kind of key; 'expires' = kept for the 7-day "
        "idempotency window only",
        "",
        f"{'kind':<40}{'keys':>8}{'bytes':>12}  expires",
    ]
    for kind, row in r["kinds"].items():
        lines.append(
            f"{kind:<40}{row['keys']:>8}{row['bytes']:>12}  {'yes' if row['expiring'] else 'no'}"
        )
    lasting_customer = first["lasting_bytes_per_customer"]
    lasting_message = further["lasting_bytes"]
    expiring_message = further["expiring_bytes"]
    lines += [
        "",
        f"new customer with one message: {first['used_memory_per_customer']} B used_memory, "
        f"{first['keys_per_customer']} keys; lasting: {lasting_customer} B in "
        f"{first['lasting_keys_per_customer']} keys",
        f"each further message: {further['used_memory']} B used_memory; lasting "
        f"{lasting_message} B ({further['lasting_keys']} new keys), expiring after 7 days "
        f"{expiring_message} B",
        "",
        "ten million customers (lasting data, before replicas and allocator overhead):",
    ]
    for msgs in (1, 10, 50):
        total = TEN_MILLION * (lasting_customer + lasting_message * (msgs - 1))
        lines.append(f"  {msgs:>3} messages each: ~{total / 2**30:,.0f} GiB")
    for per_day in (1_000_000, 10_000_000):
        window = per_day * 7 * expiring_message
        lines.append(
            f"  plus the 7-day window at {per_day:,} messages/day: ~{window / 2**30:,.1f} GiB"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=3, help="SMS per customer (default 3)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="onethread-capacity-") as tmp:
        proc, url = start_redis(Path(tmp))
        try:
            report = asyncio.run(measure(url, args.customers, args.messages))
            import redis

            with redis.Redis.from_url(url) as client:
                report["redis_version"] = client.info("server")["redis_version"]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
