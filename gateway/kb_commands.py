"""`onethread kb …`: import, export, ask and eval against the configured store."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from gateway.knowledge_loader import (
    build_answerer,
    current_knowledge,
    import_folder,
    thresholds_from,
)
from gateway.settings import Settings
from gateway.stores import open_store
from gateway.stores.protocol import Store
from knowledge.content import ContentErrors, export_folder
from knowledge.evaluate import evaluate, load_queries


@asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[Store]:
    store = await open_store(settings.store_url)
    try:
        yield store
    finally:
        await store.close()


async def import_dir(settings: Settings, folder: Path) -> int:
    """Import a folder as a new version; refuse it whole if any file is broken."""
    async with _store(settings) as store:
        try:
            version, kb = await import_folder(store.knowledge, folder, author="onethread kb import")
        except ContentErrors as exc:
            for error in exc:
                print(f"error: {error}", file=sys.stderr)
            print(f"nothing imported: {len(exc)} problem(s) in {folder}", file=sys.stderr)
            return 1
    print(
        f"imported {len(kb.articles)} articles and {len(kb.intents)} intents as version {version}"
    )
    return 0


async def export_dir(settings: Settings, folder: Path) -> int:
    """Write the current knowledge base to a folder in the import format."""
    async with _store(settings) as store:
        version, kb = await current_knowledge(store.knowledge, settings.kb_dir)
    await asyncio.to_thread(export_folder, kb, folder)
    print(f"exported version {version}: {len(kb.articles)} articles to {folder}")
    return 0


async def ask(settings: Settings, text: str, channel: str, as_json: bool) -> int:
    """Print the decision the bot would make for one message."""
    async with _store(settings) as store:
        _, kb = await current_knowledge(store.knowledge, settings.kb_dir)
    answerer = await build_answerer(kb, thresholds_from(settings))
    decision = answerer.query(text, channel=channel)
    data = decision.to_dict()
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(f"decision: {data['decision']}")
    if data.get("article_id"):
        print(f"article:  {data['article_id']}")
    if data.get("intent"):
        print(f"intent:   {data['intent']}")
    print(f"score:    {data['score']:.3f}")
    print("candidates:")
    for candidate in data["candidates"]:
        label = candidate.get("article_id") or f"intent:{candidate.get('intent')}"
        print(f"  {candidate['score']:.3f}  {label}")
    if data.get("text"):
        print("reply:")
        print("  " + data["text"].replace("\n", "\n  "))
    return 0


async def evaluate_file(settings: Settings, path: Path) -> int:
    """Score a labelled query file and print the figures."""
    async with _store(settings) as store:
        _, kb = await current_knowledge(store.knowledge, settings.kb_dir)
    answerer = await build_answerer(kb, thresholds_from(settings))
    report = await asyncio.to_thread(evaluate, answerer, load_queries(path))
    for line in report.lines():
        print(line)
    return 0
