"""Prometheus metrics of the gateway. Labels are channels and outcomes only: bounded sets."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES_RECEIVED = Counter(
    "onethread_messages_received_total",
    "Customer messages accepted into the inbox.",
    ["channel"],
    registry=REGISTRY,
)
DUPLICATES = Counter(
    "onethread_duplicate_messages_total",
    "Redelivered messages recognised by their idempotency key and not processed again.",
    ["channel"],
    registry=REGISTRY,
)
BOT_DECISIONS = Counter(
    "onethread_bot_decisions_total",
    "Bot decisions per customer message.",
    ["decision"],
    registry=REGISTRY,
)
PROCESSING_SECONDS = Histogram(
    "onethread_processing_seconds",
    "Time from a message being accepted to its reply being stored.",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
PROCESSING_FAILURES = Counter(
    "onethread_processing_failures_total",
    "Inbox items whose processing raised; retried, then set aside.",
    ["channel", "final"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "onethread_deliveries_total",
    "Outbound delivery attempts by outcome (sent, retry, dead).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
DELIVERY_RECEIPTS = Counter(
    "onethread_delivery_receipts_total",
    "Delivery reports from providers about messages we sent (sent, delivered, read, failed…).",
    ["channel", "status"],
    registry=REGISTRY,
)
INBOX_PENDING = Gauge(
    "onethread_inbox_pending", "Accepted messages not yet processed.", registry=REGISTRY
)
WEBCHAT_CONNECTIONS = Gauge(
    "onethread_webchat_connections", "Open web chat sockets.", registry=REGISTRY
)
WEBCHAT_BAD_FRAMES = Counter(
    "onethread_webchat_bad_frames_total",
    "Web chat frames refused with an error frame.",
    ["code"],
    registry=REGISTRY,
)
