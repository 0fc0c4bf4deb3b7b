"""The embedded store: SQLite in WAL mode, one writer thread, for one gateway process."""

from __future__ import annotations

import sqlite3

from gateway.keyed_lock import KeyedLock
from gateway.stores.sqlite.business_events import SQLiteBusinessEvents
from gateway.stores.sqlite.conversations import SQLiteConversations
from gateway.stores.sqlite.customers import SQLiteCustomers
from gateway.stores.sqlite.db import Database
from gateway.stores.sqlite.events import SQLiteEvents
from gateway.stores.sqlite.handoffs import SQLiteHandoffs
from gateway.stores.sqlite.knowledge import SQLiteKnowledge
from gateway.stores.sqlite.questions import SQLiteQuestions
from gateway.stores.sqlite.queues import SQLiteInbox, SQLiteOutbox
from gateway.stores.sqlite.transcript import SQLiteTranscript


class SQLiteStore:
    """Store on one SQLite file."""

    def __init__(self, path: str) -> None:
        self._db = Database(path)
        self.customers = SQLiteCustomers(self._db)
        self.conversations = SQLiteConversations(self._db)
        self.transcript = SQLiteTranscript(self._db)
        self.inbox = SQLiteInbox(self._db)
        self.outbox = SQLiteOutbox(self._db)
        self.knowledge = SQLiteKnowledge(self._db)
        self.questions = SQLiteQuestions(self._db)
        self.handoffs = SQLiteHandoffs(self._db)
        self.business_events = SQLiteBusinessEvents(self._db)
        # One process owns an embedded store, so an in-process lock excludes everyone.
        self.locks = KeyedLock()
        self.events = SQLiteEvents(self._db)

    async def open(self) -> SQLiteStore:
        """Open the file and create the schema; returns self."""
        await self._db.open()
        return self

    async def ping(self) -> bool:
        """True when the store answers."""

        def tx(conn: sqlite3.Connection) -> bool:
            return conn.execute("SELECT 1").fetchone()[0] == 1

        return await self._db.run(tx)

    async def close(self) -> None:
        """Release connections; pending writes are already durable."""
        await self._db.close()
