"""Training embeddings remembered on disk: reused exactly, rewritten when the texts change."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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


def test_only_new_texts_are_embedded_and_the_file_follows_the_latest_training(
        tmp_path: Path) -> None:
    path = tmp_path / "e.npz"
    RememberedEmbeddings(CountingEncoder(), path).encode(TEXTS)
    encoder = CountingEncoder()
    RememberedEmbeddings(encoder, path).encode([*TEXTS[1:], "do you ship to canada"])
    assert encoder.embedded == ["do you ship to canada"]
    with np.load(path) as saved:
        assert saved["texts"].tolist() == [*TEXTS[1:], "do you ship to canada"]


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
