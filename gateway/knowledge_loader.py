"""The knowledge base the bot answers from: the store's latest version, seeded from a folder."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from pathlib import Path

from gateway.memory import release_free_memory
from gateway.settings import DEMO_KB_DIR, Settings
from gateway.stores.protocol import KnowledgeStore
from knowledge.answerer import Answerer
from knowledge.content import KnowledgeBase, load_folder
from knowledge.embedder import Embedder, TextEncoder
from knowledge.policy import Thresholds
from knowledge.quantize import remembered_embeddings_path
from knowledge.remembered import RememberedEmbeddings

log = logging.getLogger(__name__)


async def import_folder(
    store: KnowledgeStore, folder: Path, author: str
) -> tuple[int, KnowledgeBase]:
    """Validate a whole folder, then save it as a new version; a broken folder changes nothing."""
    kb = await asyncio.to_thread(load_folder, folder)
    version = await store.save(kb.to_dict(), author=author, note=f"imported {folder}")
    return version, kb


async def current_knowledge(store: KnowledgeStore, seed_folder: Path) -> tuple[int, KnowledgeBase]:
    """The latest stored version; on an empty store, the seed folder imported first."""
    latest = await store.latest()
    if latest is not None:
        version, content = latest
        return version, KnowledgeBase.from_dict(content)
    log.info("knowledge store is empty: importing %s", seed_folder)
    return await import_folder(store, seed_folder, author="onethread serve")


@functools.cache
def shared_embedder() -> Embedder:
    """One embedding model per process, whatever the number of knowledge versions trained."""
    return Embedder()


@functools.cache
def training_encoder() -> TextEncoder:
    """The shared model, remembering the last training's embeddings across restarts."""
    embedder = shared_embedder()
    if embedder.cache_dir is None:
        return embedder
    path = remembered_embeddings_path(embedder.cache_dir, embedder.model_id)
    return RememberedEmbeddings(embedder, path)


def thresholds_from(settings: Settings) -> Thresholds:
    """The engine's tuned thresholds, with whatever the configuration overrides."""
    overrides = {
        "answer": settings.kb_answer_threshold,
        "clarify_margin": settings.kb_clarify_margin,
        "max_out_of_scope": settings.kb_max_out_of_scope,
        "min_similarity": settings.kb_min_similarity,
        "handoff_after_misses": settings.handoff_after_misses,
    }
    return dataclasses.replace(
        Thresholds(), **{k: v for k, v in overrides.items() if v is not None}
    )


async def build_answerer(kb: KnowledgeBase, thresholds: Thresholds | None = None) -> Answerer:
    """Train the retrieval engine for a knowledge base, off the event loop."""
    answerer = await asyncio.to_thread(
        lambda: Answerer.build(kb, embedder=training_encoder(), thresholds=thresholds)
    )
    release_free_memory()  # the training's scratch memory (see gateway/memory.py)
    return answerer


def prepare(folder: Path = DEMO_KB_DIR, encoder: TextEncoder | None = None) -> None:
    """Do at install what a first start would: make the integer copy of the embedding model and
    remember the folder's training embeddings (``scripts/run`` and the Dockerfile call this).

    The first ``onethread serve`` on that folder is then as quick as a restart: for the demo,
    about 2.3 s to ready instead of 4.2-4.8 s spent embedding its ~770 training texts.
    """
    Answerer.build(load_folder(folder), embedder=encoder or training_encoder())
