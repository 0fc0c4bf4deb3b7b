"""Keep the MiniLM model's embedding tables in int8: look rows up first, dequantise them after.

The bundled model stores each weight as int8 plus a float scale and dequantises it in the graph
(``Cast`` to float, ``Mul`` by the scale). ONNX Runtime folds those constant sub-graphs when the
session starts, so every table is held as float32: the 30,522 x 384 word-embedding table alone
grows from 11.7 MB to 47 MB. A lookup only needs the rows of the message's tokens, and the tables
are scaled per row (scale shape ``[rows, 1]``), so ``Gather(Cast(q) * s, ids)`` equals
``Cast(Gather(q, ids)) * Gather(s, ids)`` exactly, float for float: this module rewrites the graph
that way before the session is made. This is the fallback path, for when the integer copy of the
model (knowledge/quantize.py) cannot be made: its matrix-multiplication weights stay as they are.

The rewrite works on the protobuf wire format directly, so no ``onnx`` package is needed: it
reads only the graph's nodes and the initializers' names and shapes, and copies everything else
byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

# Field numbers of onnx.proto (ModelProto.graph, GraphProto.node/initializer, NodeProto.*,
# AttributeProto.*, TensorProto.dims/name) and its enum values we write.
MODEL_GRAPH = 7
GRAPH_NODE, GRAPH_INITIALIZER = 1, 5
NODE_INPUT, NODE_OUTPUT, NODE_NAME, NODE_OP_TYPE, NODE_ATTRIBUTE = 1, 2, 3, 4, 5
ATTR_NAME, ATTR_I, ATTR_TYPE = 1, 3, 20
ATTR_TYPE_INT = 2
TENSOR_DIMS, TENSOR_NAME = 1, 8
FLOAT = 1
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of the varint at pos."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, int, int, int]]:
    """(field number, wire type, field start, payload start, payload end) of each field."""
    pos = 0
    while pos < len(data):
        first = pos
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            _, end = _varint(data, pos)
        elif wire == FIXED64:
            end = pos + 8
        elif wire == LENGTH:
            size, pos = _varint(data, pos)
            end = pos + size
        elif wire == FIXED32:
            end = pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, first, pos, end
        pos = end


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_field(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | LENGTH) + _encode_varint(len(payload)) + payload


def _int_attribute(name: str, value: int) -> bytes:
    return (_length_field(ATTR_NAME, name.encode()) + _encode_varint(ATTR_I << 3 | VARINT)
            + _encode_varint(value) + _encode_varint(ATTR_TYPE << 3 | VARINT)
            + _encode_varint(ATTR_TYPE_INT))


def _node(op_type: str, inputs: list[str], output: str, **attributes: int) -> bytes:
    encoded = b"".join(_length_field(NODE_INPUT, i.encode()) for i in inputs)
    encoded += _length_field(NODE_OUTPUT, output.encode())
    encoded += _length_field(NODE_NAME, f"int8_lookup/{output}".encode())
    encoded += _length_field(NODE_OP_TYPE, op_type.encode())
    for name, value in attributes.items():
        encoded += _length_field(NODE_ATTRIBUTE, _int_attribute(name, value))
    return encoded


@dataclass
class _Node:
    raw: bytes
    op_type: str = ""
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    int_attributes: dict[str, int] = field(default_factory=dict)  # other kinds: value -1


def _parse_node(raw: bytes) -> _Node:
    node = _Node(raw)
    for number, _, _, start, end in _fields(raw):
        if number == NODE_INPUT:
            node.inputs.append(raw[start:end].decode())
        elif number == NODE_OUTPUT:
            node.outputs.append(raw[start:end].decode())
        elif number == NODE_OP_TYPE:
            node.op_type = raw[start:end].decode()
        elif number == NODE_ATTRIBUTE:
            name, value = _int_attribute_value(raw[start:end])
            node.int_attributes[name] = value
    return node


def _int_attribute_value(raw: bytes) -> tuple[str, int]:
    """(name, value) of an AttributeProto; value -1 unless it is a non-negative integer."""
    name, value = "", -1
    for number, wire, _, start, end in _fields(raw):
        if number == ATTR_NAME:
            name = raw[start:end].decode()
        elif number == ATTR_I and wire == VARINT:
            value = _varint(raw, start)[0]
    return name, value


def _tensor_shape(raw: bytes) -> tuple[str, tuple[int, ...]]:
    """(name, dims) of a TensorProto, without touching its data."""
    name, dims = "", []
    for number, wire, _, start, end in _fields(raw):
        if number == TENSOR_NAME:
            name = raw[start:end].decode()
        elif number == TENSOR_DIMS and wire == VARINT:
            dims.append(_varint(raw, start)[0])
        elif number == TENSOR_DIMS:  # packed
            pos = start
            while pos < end:
                value, pos = _varint(raw, pos)
                dims.append(value)
    return name, tuple(dims)


def _rewrite_graph(graph: bytes) -> tuple[bytes, int]:
    """The graph with per-row-scaled int8 tables looked up before dequantising; (graph, count)."""
    nodes: list[_Node] = []
    shapes: dict[str, tuple[int, ...]] = {}
    for number, _, _, start, end in _fields(graph):
        if number == GRAPH_NODE:
            nodes.append(_parse_node(graph[start:end]))
        elif number == GRAPH_INITIALIZER:
            name, dims = _tensor_shape(graph[start:end])
            shapes[name] = dims
    producer = {out: n for n in nodes for out in n.outputs}
    uses: dict[str, int] = {}
    for n in nodes:
        for name in n.inputs:
            uses[name] = uses.get(name, 0) + 1
    replaced: dict[int, bytes] = {}  # id(node) -> its replacement (b"" drops it)
    for gather in nodes:
        # Gather(table, ids) along axis 0, table = Mul(Cast(q), scale)
        if gather.op_type != "Gather" or gather.int_attributes not in ({}, {"axis": 0}):
            continue
        mul = producer.get(gather.inputs[0])
        if mul is None or mul.op_type != "Mul" or uses[gather.inputs[0]] != 1:
            continue
        cast = producer.get(mul.inputs[0])
        if cast is None or cast.op_type != "Cast" or uses[mul.inputs[0]] != 1:
            continue
        table, scale = cast.inputs[0], mul.inputs[1]
        rows = shapes.get(table, ())
        if len(rows) != 2 or shapes.get(scale) != (rows[0], 1):
            continue  # not scaled per row: the lookup would not commute with the scaling
        out, ids = gather.outputs[0], gather.inputs[1]
        replaced[id(gather)] = b"".join(
            _length_field(GRAPH_NODE, n)
            for n in (
                _node("Gather", [table, ids], out + "/q", axis=0),
                _node("Gather", [scale, ids], out + "/scale", axis=0),
                _node("Cast", [out + "/q"], out + "/float", to=FLOAT),
                _node("Mul", [out + "/float", out + "/scale"], out),
            )
        )
        replaced[id(mul)] = replaced[id(cast)] = b""
    if not replaced:
        return graph, 0
    out_graph = bytearray()
    node_index = 0
    for number, _, first, _, end in _fields(graph):
        if number == GRAPH_NODE:
            node = nodes[node_index]
            node_index += 1
            if id(node) in replaced:
                out_graph += replaced[id(node)]
                continue
        out_graph += graph[first:end]
    return bytes(out_graph), sum(1 for r in replaced.values() if r)


def int8_embedding_lookup(model: bytes) -> tuple[bytes, int]:
    """The serialised ONNX model with its int8 tables looked up before dequantising.

    Returns the new model bytes and how many lookups were rewritten (0: the model unchanged).
    """
    out = bytearray()
    rewritten = 0
    for number, _, first, start, end in _fields(model):
        if number == MODEL_GRAPH:
            graph, rewritten = _rewrite_graph(model[start:end])
            out += _length_field(MODEL_GRAPH, graph)
        else:
            out += model[first:end]
    return bytes(out), rewritten
