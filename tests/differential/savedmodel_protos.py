#!/usr/bin/python3
"""Differential harness for SavedModel protobufs: the protobuf runtime against mscan's verdict.

    /usr/bin/python3 tests/differential/savedmodel_protos.py [--mscan build/mscan] [--count N]
                                                             [--seed S] [--keep DIR]

TensorFlow reads saved_model.pb with the protobuf runtime, which accepts fields in any order,
skips unknown fields, keeps the last value of a repeated scalar field and merges repeated
embedded messages. This writes N saved_model.pb files at the wire level — the graph's nodes
and the function library's nodes, with shuffled field order, unknown fields of every wire type
between known ones, a node's `op` given twice (the last wins), a GraphDef or MetaGraphDef
split in two (protobuf merges them), a message length written with a redundant varint byte
(a parser accepts it) — and asks the protobuf runtime (python3-protobuf, with descriptors
built here with TensorFlow's field numbers from tensorflow/core/protobuf/saved_model.proto,
meta_graph.proto, graph.proto, node_def.proto, function.proto) which ops each file holds.
An op that runs Python (PyFunc, EagerPyFunc) must fail `mscan --fail-on critical`; a file
whose ops are ordinary math must pass the default gate (exit 0). Nothing is run.
"""

from __future__ import annotations

import os
import random
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import finish, gate, options  # noqa: E402

PAYLOAD_OPS = ["PyFunc", "EagerPyFunc", "PyFuncStateless"]
SAFE_OPS = ["Const", "Identity", "MatMul", "AddV2", "Relu", "Placeholder", "NoOp", "Mul"]

# TensorFlow's field numbers (the subset a graph's ops live in).
MESSAGES = {
    "SavedModel": [("saved_model_schema_version", 1, "int64", None, False),
                   ("meta_graphs", 2, "message", "MetaGraphDef", True)],
    "MetaGraphDef": [("graph_def", 2, "message", "GraphDef", False)],
    "GraphDef": [("node", 1, "message", "NodeDef", True),
                 ("library", 2, "message", "FunctionDefLibrary", False),
                 ("version", 3, "int32", None, False)],
    "NodeDef": [("name", 1, "string", None, False), ("op", 2, "string", None, False),
                ("input", 3, "string", None, True), ("device", 4, "string", None, False)],
    "FunctionDefLibrary": [("function", 1, "message", "FunctionDef", True)],
    "FunctionDef": [("signature", 1, "message", "OpDef", False),
                    ("node_def", 3, "message", "NodeDef", True)],
    "OpDef": [("name", 1, "string", None, False)],
}
TYPES = {"int64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
         "int32": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
         "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
         "message": descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE}


def saved_model_class():
    fd = descriptor_pb2.FileDescriptorProto(name="mscan_diff_tf.proto", package="tfdiff",
                                            syntax="proto3")
    for name, fields in MESSAGES.items():
        m = fd.message_type.add(name=name)
        for fname, number, ftype, msg, repeated in fields:
            f = m.field.add(name=fname, number=number, type=TYPES[ftype])
            f.label = (descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED if repeated
                       else descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
            if msg:
                f.type_name = ".tfdiff." + msg
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    desc = pool.FindMessageTypeByName("tfdiff.SavedModel")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


# --- wire-level writer ------------------------------------------------------------------------

def varint(n: int, pad: bool = False) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            if pad:  # a redundant continuation byte: the same value, one byte longer
                out.append(b | 0x80)
                out.append(0)
            else:
                out.append(b)
            return bytes(out)


class Wire:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def key(self, number: int, wire: int) -> bytes:
        return varint(number << 3 | wire)

    def length(self, number: int, payload: bytes) -> bytes:
        return self.key(number, 2) + varint(len(payload), self.rng.random() < 0.1) + payload

    def unknown(self) -> bytes:
        rng = self.rng
        number = rng.choice([9, 15, 99, 1000, 536870911])
        wire = rng.choice([0, 1, 2, 5])
        if wire == 0:
            return self.key(number, 0) + varint(rng.randrange(1 << 40))
        if wire == 1:
            return self.key(number, 1) + bytes(rng.randrange(256) for _ in range(8))
        if wire == 5:
            return self.key(number, 5) + bytes(rng.randrange(256) for _ in range(4))
        return self.length(number, bytes(rng.randrange(256) for _ in range(rng.randrange(20))))

    def message(self, fields: list[bytes]) -> bytes:
        """Fields in a random order, with unknown fields sprinkled between them."""
        fields = list(fields)
        if self.rng.random() < 0.5:
            self.rng.shuffle(fields)
        out = []
        for f in fields:
            if self.rng.random() < 0.2:
                out.append(self.unknown())
            out.append(f)
        return b"".join(out)

    def node(self, name: str, op: str, decoy_op: str | None) -> bytes:
        fields = [self.length(1, name.encode())]
        if decoy_op is not None:
            # `op` twice: the runtime keeps the last. Which one is last is what counts.
            first, last = decoy_op, op
            ops = [self.length(2, first.encode()), self.length(2, last.encode())]
        else:
            ops = [self.length(2, op.encode())]
        fields.append(self.length(4, b"/device:CPU:0"))
        body = self.message(fields)
        return body + b"".join(ops)  # keep the op order: the last written wins


def build(rng: random.Random, hostile: bool) -> bytes:
    w = Wire(rng)
    graph_nodes, fn_nodes = [], []
    count = rng.randrange(2, 8)
    payload_at = rng.randrange(count) if hostile else -1
    in_function = rng.random() < 0.4
    for i in range(count):
        op = rng.choice(PAYLOAD_OPS) if i == payload_at else rng.choice(SAFE_OPS)
        decoy = None
        if rng.random() < 0.25:
            decoy = rng.choice(SAFE_OPS) if i == payload_at else rng.choice(PAYLOAD_OPS)
        node = w.node("n%d" % i, op, decoy)
        (fn_nodes if in_function and rng.random() < 0.6 else graph_nodes).append(node)
    graph_fields = [w.length(1, n) for n in graph_nodes]
    graph_fields.append(w.key(3, 0) + varint(27))
    if fn_nodes:
        sig = w.length(1, w.length(1, b"__inference_fn_1"))
        fn = w.message([sig] + [w.length(3, n) for n in fn_nodes])
        graph_fields.append(w.length(2, w.length(1, fn)))
    graph = w.message(graph_fields)
    # Split the GraphDef in two fields of the MetaGraphDef: protobuf merges them.
    if rng.random() < 0.3 and len(graph_fields) > 1:
        cut = rng.randrange(1, len(graph_fields))
        meta = w.message([w.length(2, b"".join(graph_fields[:cut])),
                          w.length(2, b"".join(graph_fields[cut:]))])
    else:
        meta = w.message([w.length(2, graph)])
    metas = [w.length(2, meta)]
    if rng.random() < 0.3:
        metas.append(w.length(2, w.message([w.length(2, w.length(1, w.node(
            "extra", rng.choice(SAFE_OPS), None)))])))
    return w.message([w.key(1, 0) + varint(1)] + metas)


def ops_of(model) -> set[str]:
    ops = set()
    for meta in model.meta_graphs:
        for node in meta.graph_def.node:
            ops.add(node.op)
        for fn in meta.graph_def.library.function:
            for node in fn.node_def:
                ops.add(node.op)
    return ops


def main() -> int:
    opts, rng, work = options(__doc__, 300, "mscan-pb-diff-")
    cls = saved_model_class()
    failures = []
    counts = {"hostile": 0, "benign": 0, "refused": 0}
    for i in range(opts.count):
        data = build(rng, rng.random() < 0.5)
        folder = os.path.join(work, "%04d" % i)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "saved_model.pb")
        with open(path, "wb") as f:
            f.write(data)
        model = cls()
        try:
            model.ParseFromString(data)
        except Exception:  # noqa: BLE001 - the runtime refuses it: TF would too
            counts["refused"] += 1
            continue
        ops = ops_of(model)
        hostile = bool(ops & set(PAYLOAD_OPS))
        counts["hostile" if hostile else "benign"] += 1
        ok, rc = gate(opts.mscan, path, hostile)
        if not ok:
            failures.append((path, "protobuf reads ops %s; mscan %s exit %d" % (
                sorted(ops), "--fail-on critical" if hostile else "default gate", rc)))
    print("%d files: %d hostile, %d benign, %d refused by protobuf; %d disagree"
          % (opts.count, counts["hostile"], counts["benign"], counts["refused"],
             len(failures)))
    for path, why in failures[:20]:
        print("  %s: %s" % (path, why))
    return finish(opts, work, failures)


if __name__ == "__main__":
    sys.exit(main())
