"""Keeps the bot's answerer on the newest knowledge version, in this process and in every other.

Edits are saved as new versions in the store; each process polls the store's newest version
number and retrains when it changed, so an edit reaches every running gateway without a restart.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass

from dialogs.bot import Bot
from gateway import knowledge_loader
from gateway.memory import release_free_memory
from gateway.stores.protocol import KnowledgeStore
from knowledge.answerer import Answerer
from knowledge.content import KnowledgeBase
from knowledge.policy import Thresholds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    """A knowledge version and the answerer trained on it."""

    version: int
    kb: KnowledgeBase
    answerer: Answerer


class KnowledgeKeeper:
    """Owns the current knowledge version; saves edits; follows other processes' edits."""

    def __init__(
        self, store: KnowledgeStore, bot: Bot, loaded: Loaded, thresholds: Thresholds | None = None
    ) -> None:
        self._store = store
        self._thresholds = thresholds
        self._bot = bot
        self.current = loaded
        self._lock = asyncio.Lock()

    @property
    def version(self) -> int:
        """The version the bot answers from."""
        return self.current.version

    async def save(self, kb: KnowledgeBase, author: str, note: str) -> int:
        """Store a new version and answer from it at once."""
        async with self._lock:
            version = await self._store.save(kb.to_dict(), author=author, note=note)
            answerer = await knowledge_loader.build_answerer(kb, self._thresholds)
            self._swap(Loaded(version, kb, answerer))
            return version

    async def refresh(self) -> bool:
        """Load the store's newest version if it is not the one in use; True when it changed."""
        async with self._lock:
            latest = await self._store.latest()
            if latest is None or latest[0] == self.current.version:
                return False
            version, content = latest
            kb = KnowledgeBase.from_dict(content)
            self._swap(
                Loaded(version, kb, await knowledge_loader.build_answerer(kb, self._thresholds))
            )
            return True

    def _swap(self, loaded: Loaded) -> None:
        self.current = loaded
        self._bot.answerer = loaded.answerer
        # The replaced engine is a reference cycle (its embedding cache holds a bound method of
        # it), so only a full collection frees it: without one now, every edit left ~11 MB (demo
        # KB) resident until Python happened to run one. Then hand the pages back.
        gc.collect()
        release_free_memory()
        log.info(
            "answering from knowledge version %s (%d articles)",
            loaded.version,
            len(loaded.kb.articles),
        )

    async def follow(self, every_seconds: float) -> None:
        """Poll for versions saved by other processes or the CLI, until cancelled."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.refresh()
            except Exception:
                log.exception(
                    "could not refresh the knowledge base; keeping version %s", self.current.version
                )
