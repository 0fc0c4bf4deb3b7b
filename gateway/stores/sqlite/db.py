"""One SQLite connection on one dedicated thread: every call is a transaction, run off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
  id TEXT PRIMARY KEY, name TEXT, created_at REAL NOT NULL,
  merged_into TEXT, attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS identities (
  channel TEXT NOT NULL, address TEXT NOT NULL, customer_id TEXT NOT NULL,
  verified_by TEXT, created_at REAL NOT NULL, PRIMARY KEY (channel, address)
);
CREATE INDEX IF NOT EXISTS identities_customer ON identities (customer_id);
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, status TEXT NOT NULL,
  opened_at REAL NOT NULL, last_activity_at REAL NOT NULL, last_channel TEXT,
  state TEXT NOT NULL DEFAULT '{}', resolved_at REAL, merged_into TEXT
);
CREATE INDEX IF NOT EXISTS conversations_customer ON conversations (customer_id, status);
CREATE TABLE IF NOT EXISTS entries (
  conversation_id TEXT NOT NULL, seq INTEGER NOT NULL, key TEXT UNIQUE,
  author TEXT NOT NULL, channel TEXT NOT NULL, text TEXT NOT NULL, ts REAL NOT NULL,
  quick_replies TEXT NOT NULL DEFAULT '[]', attachments TEXT NOT NULL DEFAULT '[]',
  author_name TEXT, meta TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (conversation_id, seq)
);
CREATE TABLE IF NOT EXISTS inbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, sender TEXT NOT NULL,
  payload TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  owner TEXT, last_error TEXT, accepted_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (status, sender, id);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id TEXT NOT NULL, recipient TEXT NOT NULL,
  payload TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL, owner TEXT, last_error TEXT, created_at REAL NOT NULL, updated_at REAL,
  provider_ids TEXT NOT NULL DEFAULT '[]', receipt TEXT
);
CREATE TABLE IF NOT EXISTS receipts (provider_id TEXT PRIMARY KEY, outbox_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, recipient, id);
CREATE TABLE IF NOT EXISTS questions (
  key TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, channel TEXT NOT NULL, text TEXT NOT NULL,
  decision TEXT NOT NULL, article_id TEXT, intent TEXT, score REAL NOT NULL, at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_at ON questions (at);
CREATE TABLE IF NOT EXISTS handoffs (
  id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, customer_id TEXT NOT NULL,
  reason TEXT NOT NULL, queue TEXT NOT NULL, status TEXT NOT NULL, priority TEXT NOT NULL,
  opened_at REAL NOT NULL, slack_channel TEXT, thread_ts TEXT, agent_id TEXT, agent_name TEXT,
  claimed_at REAL, first_response_at REAL, resolved_at REAL, reminded_at REAL, rating INTEGER,
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS handoffs_conversation ON handoffs (conversation_id, status);
CREATE INDEX IF NOT EXISTS handoffs_thread ON handoffs (slack_channel, thread_ts);
CREATE INDEX IF NOT EXISTS handoffs_opened ON handoffs (opened_at);
CREATE TABLE IF NOT EXISTS business_events (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, type TEXT NOT NULL, at REAL NOT NULL,
  data TEXT NOT NULL DEFAULT '{}', key TEXT
);
CREATE INDEX IF NOT EXISTS business_events_customer ON business_events (customer_id, at);
CREATE UNIQUE INDEX IF NOT EXISTS business_events_key ON business_events (customer_id, key);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
  at REAL NOT NULL, conversation_id TEXT NOT NULL, customer_id TEXT NOT NULL, channel TEXT,
  data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_at ON events (at, seq);
CREATE INDEX IF NOT EXISTS events_customer ON events (customer_id);
CREATE TABLE IF NOT EXISTS steps (key TEXT PRIMARY KEY, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS kb_versions (
  number INTEGER PRIMARY KEY AUTOINCREMENT, content TEXT NOT NULL, author TEXT NOT NULL,
  note TEXT NOT NULL, created_at REAL NOT NULL
);
"""


# Columns added after the first release, for stores created before them.
_ADDED_COLUMNS = {
    "outbox": {"provider_ids": "TEXT NOT NULL DEFAULT '[]'", "receipt": "TEXT"},
}


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    for table, columns in _ADDED_COLUMNS.items():
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def now_ts() -> float:
    """Seconds since the epoch, UTC."""
    return datetime.now(UTC).timestamp()


def to_dt(ts: float | None) -> datetime | None:
    """An epoch float as an aware UTC datetime."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def new_id(prefix: str) -> str:
    """A short random id with a readable prefix (cus_…, con_…)."""
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class Database:
    """Serialises every transaction onto one thread that owns the connection."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._conn: sqlite3.Connection | None = None

    def _open(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL survives a process crash; only power loss can undo the newest
        # commits. Commits that acknowledge a provider are made FULL (see `run`), and every
        # later step is idempotent and redone from the inbox, so nothing acknowledged is lost.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        _add_missing_columns(conn)
        # One process owns an embedded store: claims left by a killed process are void.
        conn.execute("UPDATE inbox SET owner = NULL WHERE status = 'pending'")
        conn.execute("UPDATE outbox SET owner = NULL WHERE status = 'pending'")
        self._conn = conn

    async def open(self) -> None:
        """Open the file, enable WAL and create the schema."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._open)

    def _transaction(self, fn: Callable[[sqlite3.Connection], T], durable: bool) -> T:
        assert self._conn is not None, "Database.open() was not awaited"
        conn = self._conn
        if durable:
            conn.execute("PRAGMA synchronous=FULL")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result
        finally:
            if durable:
                conn.execute("PRAGMA synchronous=NORMAL")

    async def run(self, fn: Callable[[sqlite3.Connection], T], durable: bool = False) -> T:
        """Run fn(conn) in one transaction on the database thread; `durable` fsyncs the commit."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transaction, fn, durable)

    async def close(self) -> None:
        """Close the connection and stop the thread."""

        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._executor, _close)
        self._executor.shutdown(wait=True)
