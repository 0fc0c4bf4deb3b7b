"""Knowledge fixtures: the demo KB, and the real embedder loaded once per test session."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from knowledge.answerer import Answerer
from knowledge.content import KnowledgeBase, load_folder
from knowledge.embedder import Embedder

DEMO = Path(__file__).resolve().parents[2] / "knowledge" / "demo"


class HashingEncoder:
    """Deterministic bag-of-words vectors: a fast stand-in for the model in unit tests."""

    dim = 64

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


@pytest.fixture(scope="session")
def demo_kb() -> KnowledgeBase:
    """The bundled Fernhill demo knowledge base."""
    return load_folder(DEMO)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real MiniLM embedder (checksums verified), loaded once."""
    return Embedder()


@pytest.fixture(scope="session")
def demo_answerer(demo_kb: KnowledgeBase, embedder: Embedder) -> Answerer:
    """An answerer over the demo KB with the real embedder and default thresholds."""
    return Answerer.build(demo_kb, embedder)
