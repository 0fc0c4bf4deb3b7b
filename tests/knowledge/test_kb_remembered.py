"""Training embeddings remembered on disk: reused exactly, rewritten when the texts change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge import remembered
from knowledge.remembered import RememberedEmbeddings
from tests.knowledge.conftest import HashingEncoder


class CountingEncoder(HashingEncoder):
    def __init__(self) -> None:
        self.embedded: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.embedded += texts
        return super().encode(texts)


TEXTS = ["how long does shipping take", "can I return boots", "gift card balance"]


def test_a_second_training_reuses_the_vectors(tmp_path: Path) -> None:
    first = CountingEncoder()
    vectors = RememberedEmbeddings(first, tmp_path / "e.npz").encode(TEXTS)
    assert first.embedded == TEXTS
    again = CountingEncoder()  # a restarted process
    assert np.array_equal(RememberedEmbeddings(again, tmp_path / "e.npz").encode(TEXTS), vectors)
    assert again.embedded == []


def test_only_new_texts_are_embedded_and_the_latest_training_comes_first(
        tmp_path: Path) -> None:
    path = tmp_path / "e.npz"
    RememberedEmbeddings(CountingEncoder(), path).encode(TEXTS)
    encoder = CountingEncoder()
    RememberedEmbeddings(encoder, path).encode([*TEXTS[1:], "do you ship to canada"])
    assert encoder.embedded == ["do you ship to canada"]
    with np.load(path) as saved:
        assert saved["texts"].tolist() == [*TEXTS[1:], "do you ship to canada", TEXTS[0]]


def test_two_knowledge_bases_sharing_the_file_do_not_evict_each_other(tmp_path: Path) -> None:
    path = tmp_path / "e.npz"
    other = ["store hours", "where is the denver store"]
    RememberedEmbeddings(CountingEncoder(), path).encode(TEXTS)
    RememberedEmbeddings(CountingEncoder(), path).encode(other)
    restarted = CountingEncoder()
    RememberedEmbeddings(restarted, path).encode(TEXTS)
    RememberedEmbeddings(restarted, path).encode(other)
    assert restarted.embedded == []


def test_earlier_trainings_are_dropped_beyond_the_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remembered, "KEEP_TEXTS", 4)
    path = tmp_path / "e.npz"
    RememberedEmbeddings(CountingEncoder(), path).encode(["old one", "old two"])
    RememberedEmbeddings(CountingEncoder(), path).encode(TEXTS)
    with np.load(path) as saved:
        assert saved["texts"].tolist() == [*TEXTS, "old one"]
    RememberedEmbeddings(CountingEncoder(), path).encode([*TEXTS, "a fifth text", "a sixth"])
    with np.load(path) as saved:  # the latest training is kept whole, whatever the limit
        assert saved["texts"].tolist() == [*TEXTS, "a fifth text", "a sixth"]


def test_customer_messages_are_not_written_down(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    RememberedEmbeddings(encoder, tmp_path / "e.npz").encode(["my card number is 4111"])
    assert encoder.embedded == ["my card number is 4111"]
    assert not (tmp_path / "e.npz").exists()


def test_a_damaged_or_unwritable_file_only_costs_time(tmp_path: Path) -> None:
    path = tmp_path / "e.npz"
    path.write_bytes(b"not an npz file")
    encoder = CountingEncoder()
    expected = HashingEncoder().encode(TEXTS)
    assert np.array_equal(RememberedEmbeddings(encoder, path).encode(TEXTS), expected)
    assert encoder.embedded == TEXTS
    blocked = tmp_path / "file" / "e.npz"
    (tmp_path / "file").write_text("a file where the directory should be")
    assert np.array_equal(RememberedEmbeddings(CountingEncoder(), blocked).encode(TEXTS), expected)


async def test_prepare_leaves_nothing_for_the_first_start_to_embed(tmp_path: Path) -> None:
    """What scripts/run prepares is exactly what `onethread serve` trains on at its first start:
    the demo folder imported into an empty store and read back."""
    from gateway.knowledge_loader import current_knowledge, prepare
    from gateway.settings import DEMO_KB_DIR, parse_store_url
    from gateway.stores import open_store
    from knowledge.answerer import Answerer

    path = tmp_path / "remembered.npz"
    installer = CountingEncoder()
    prepare(DEMO_KB_DIR, RememberedEmbeddings(installer, path))
    assert len(installer.embedded) > 500
    store = await open_store(parse_store_url(f"sqlite:///{tmp_path / 'store.sqlite3'}"))
    try:
        _, kb = await current_knowledge(store.knowledge, DEMO_KB_DIR)
    finally:
        await store.close()
    first_start = CountingEncoder()
    Answerer.build(kb, RememberedEmbeddings(first_start, path))
    assert first_start.embedded == []
