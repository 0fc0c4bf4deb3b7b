"""Replace the exported model's spelled-out self-attention with ONNX Runtime's fused operator.

The bundled MiniLM was exported op by op: in each of its 6 layers, scaled dot-product attention
is ~25 small nodes (reshapes, transposes, slices and concats that split the heads, a scale on
each of query and key, the mask add, softmax, a NaN guard, two matrix products). For a short
customer message (about 10 tokens) every node costs more in dispatch than in arithmetic: in a
profile of the integer model they were about a fifth of the 4.8 ms a query's embedding took.
``com.microsoft.MultiHeadAttention`` computes the same softmax(Q K^T / sqrt(d)) V over 12 heads
in one node, from the three projections the graph already has.

No attention mask is passed to the fused node: the embedder runs one text per call, never a
padded batch (knowledge/embedder.py), so every position attends to every other exactly as it
did with the all-ones mask. This runs only in the child process that makes the integer copy
(knowledge/quantize.py), which is the only place ``onnx`` is imported.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import onnx
from onnx import helper, numpy_helper

# Nodes between a projection's output and the attention product that only split heads or scale.
_HEAD_SPLITTING = frozenset({"Reshape", "Transpose", "Mul", "Div", "Slice", "Concat"})


class AttentionPatternError(ValueError):
    """The graph's attention does not have the expected shape; nothing was changed."""


def fuse_attention(model: onnx.ModelProto, num_heads: int) -> int:
    """Rewrite every attention block of model in place; returns how many were fused.

    Raises AttentionPatternError (before changing anything) when a softmax is not inside the
    exported scaled-dot-product pattern, so a differently exported model is left as it was.
    """
    graph = model.graph
    constants = {i.name for i in graph.initializer} | {
        o for n in graph.node if n.op_type == "Constant" for o in n.output}
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def only(nodes: Iterable[onnx.NodeProto], op: str, where: str) -> onnx.NodeProto:
        found = [n for n in nodes if n.op_type == op]
        if len(found) != 1:
            raise AttentionPatternError(f"expected one {op} after {where}, found {len(found)}")
        return found[0]

    def projection(name: str) -> str:
        """Walk up from an attention operand to the projection's (Add of the bias) output."""
        seen = 0
        while True:
            node = producer.get(name)
            if node is None or seen > 20:
                raise AttentionPatternError(f"no projection above {name}")
            if node.op_type == "Add" and any(
                    producer.get(i) is not None and producer[i].op_type == "MatMul"
                    for i in node.input):
                return node.output[0]
            if node.op_type not in _HEAD_SPLITTING:
                raise AttentionPatternError(f"unexpected {node.op_type} above {name}")
            name = next(i for i in node.input if i not in constants)
            seen += 1

    rewrites: list[tuple[onnx.NodeProto, str, str, str, str]] = []
    for softmax in [n for n in graph.node if n.op_type == "Softmax"]:
        masked = producer.get(softmax.input[0])
        if masked is None or masked.op_type != "Add":
            raise AttentionPatternError(f"{softmax.name}: no mask add before the softmax")
        scores = next((producer[i] for i in masked.input
                       if i in producer and producer[i].op_type == "MatMul"), None)
        if scores is None:
            raise AttentionPatternError(f"{softmax.name}: no query-key product")
        guard = only(consumers.get(softmax.output[0], []), "Where", softmax.name)
        weighted = only(consumers.get(guard.output[0], []), "MatMul", guard.name)
        merge = only(consumers.get(weighted.output[0], []), "Transpose", weighted.name)
        merged = only(consumers.get(merge.output[0], []), "Reshape", merge.name)
        query, key = (projection(i) for i in scores.input)
        value = projection(weighted.input[1])
        rewrites.append((softmax, query, key, value, merged.output[0]))
    if not rewrites:
        raise AttentionPatternError("no attention found")

    weights = {i.name: i for i in graph.initializer}
    for softmax, query, key, value, output in rewrites:
        packed = _packed_projection(producer, weights, (query, key, value))
        name = f"fused_attention_{softmax.name}"
        if packed is None:
            graph.node.append(helper.make_node(
                "MultiHeadAttention", [query, key, value], [output], domain="com.microsoft",
                num_heads=num_heads, name=name))
        else:
            source, w, b = packed
            graph.initializer.extend([
                numpy_helper.from_array(w, f"{name}_qkv_weight"),
                numpy_helper.from_array(b, f"{name}_qkv_bias")])
            graph.node.append(helper.make_node(
                "Attention", [source, f"{name}_qkv_weight", f"{name}_qkv_bias"], [output],
                domain="com.microsoft", num_heads=num_heads, name=name))
        graph.node.remove(producer[output])
    _topological_sort(graph)
    _drop_unused(graph)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return len(rewrites)


def _packed_projection(
    producer: dict[str, onnx.NodeProto], weights: dict[str, onnx.TensorProto],
    outputs: tuple[str, str, str],
) -> tuple[str, np.ndarray, np.ndarray] | None:
    """(input, W_qkv, b_qkv) when query, key and value are MatMul + bias Add of one input.

    One (hidden x 3 hidden) product instead of three: the ``Attention`` operator takes it
    packed, and the integer copy then quantises the input once per layer instead of three times.
    """
    sources, ws, bs = [], [], []
    for name in outputs:
        add = producer[name]
        matmul = next((producer[i] for i in add.input
                       if i in producer and producer[i].op_type == "MatMul"), None)
        bias = next((i for i in add.input if i in weights), None)
        if matmul is None or bias is None or matmul.input[1] not in weights:
            return None
        sources.append(matmul.input[0])
        ws.append(numpy_helper.to_array(weights[matmul.input[1]]))
        bs.append(numpy_helper.to_array(weights[bias]))
    if len(set(sources)) != 1 or any(w.ndim != 2 for w in ws) or any(b.ndim != 1 for b in bs):
        return None
    return sources[0], np.concatenate(ws, axis=1), np.concatenate(bs)


def _drop_unused(graph: onnx.GraphProto) -> None:
    """Remove nodes (and initializers) nothing reaches the graph's outputs through; the nodes
    must be in topological order."""
    needed = {o.name for o in graph.output}
    keep: list[onnx.NodeProto] = []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(keep))
    unused = [i for i in graph.initializer if i.name not in needed]
    for initializer in unused:
        graph.initializer.remove(initializer)


def _topological_sort(graph: onnx.GraphProto) -> None:
    """Order nodes so each comes after the producers of its inputs (the fused nodes were
    appended at the end)."""
    available = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending = list(graph.node)
    ordered: list[onnx.NodeProto] = []
    while pending:
        ready = [n for n in pending if all(i in available for i in n.input)]
        if not ready:
            raise AttentionPatternError("the rewritten graph has a cycle")
        for node in ready:
            ordered.append(node)
            available.update(node.output)
        placed = {id(n) for n in ready}
        pending = [n for n in pending if id(n) not in placed]
    del graph.node[:]
    graph.node.extend(ordered)
