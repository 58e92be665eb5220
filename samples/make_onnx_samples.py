#!/usr/bin/env python3
"""Write mscan's ONNX samples (samples/onnx/) and their manifest entries.

The onnx package is not needed: every model is encoded by hand below as protobuf wire format
(varints, tags, length-delimited fields) following the field numbers of onnx/onnx.proto
(ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, FunctionProto, ...). Models
with external data sit in their own directory next to their data file, as onnx.save writes them.

Nothing here runs a model. The Python-op samples only *name* callables (a PythonOp whose
func_name is os.system, a PyOp naming a module that does not exist); the external-data samples
only *name* files such as /etc/passwd; no file is read.

    /usr/bin/python3 samples/make_onnx_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import shutil
import struct
import zipfile
from pathlib import Path

from make_samples import MEDIUM_PLUS, update_manifest

OUT = Path(__file__).resolve().parent / "onnx"
PREFIX = "samples/onnx/"
ENTRIES = []

# --- protobuf wire format -------------------------------------------------------------------


def varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def f_varint(field: int, n: int) -> bytes:
    return tag(field, 0) + varint(n)


def f_bytes(field: int, data) -> bytes:
    if isinstance(data, str):
        data = data.encode()
    return tag(field, 2) + varint(len(data)) + data


# TensorProto.DataType
FLOAT, INT64 = 1, 7
# AttributeProto.AttributeType
A_FLOAT, A_INT, A_STRING, A_TENSOR, A_GRAPH, A_INTS = 1, 2, 3, 4, 5, 7

# --- ONNX messages ------------------------------------------------------------------------------


def tensor(name, dims, data_type=FLOAT, raw=None, floats=None, external=None, location=None):
    """TensorProto: dims = 1, data_type = 2, float_data = 4 (packed), name = 8, raw_data = 9,
    external_data = 13 ({key = 1, value = 2}), data_location = 14."""
    out = b"".join(f_varint(1, d) for d in dims) + f_varint(2, data_type)
    if floats is not None:
        out += f_bytes(4, struct.pack(f"<{len(floats)}f", *floats))
    out += f_bytes(8, name)
    if raw is not None:
        out += f_bytes(9, raw)
    if external is not None:
        out += b"".join(f_bytes(13, f_bytes(1, k) + f_bytes(2, v)) for k, v in external)
    if location is not None:
        out += f_varint(14, location)
    return out


def floats_raw(values):
    return struct.pack(f"<{len(values)}f", *values)


def attr_i(name, i):
    return f_bytes(1, name) + f_varint(3, i) + f_varint(20, A_INT)


def attr_f(name, x):
    return f_bytes(1, name) + tag(2, 5) + struct.pack("<f", x) + f_varint(20, A_FLOAT)


def attr_s(name, s):
    return f_bytes(1, name) + f_bytes(4, s) + f_varint(20, A_STRING)


def attr_t(name, t):
    return f_bytes(1, name) + f_bytes(5, t) + f_varint(20, A_TENSOR)


def attr_g(name, g):
    return f_bytes(1, name) + f_bytes(6, g) + f_varint(20, A_GRAPH)


def node(op_type, inputs, outputs, name="", domain="", attrs=()):
    """NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5, domain = 7."""
    out = b"".join(f_bytes(1, i) for i in inputs) + b"".join(f_bytes(2, o) for o in outputs)
    out += f_bytes(3, name or op_type.lower()) + f_bytes(4, op_type)
    out += b"".join(f_bytes(5, a) for a in attrs)
    if domain:
        out += f_bytes(7, domain)
    return out


def value_info(name, elem_type=FLOAT, shape=(1, 4)):
    """ValueInfoProto {name = 1, type = 2 {tensor_type = 1 {elem_type = 1, shape = 2}}}."""
    dims = b"".join(f_bytes(1, f_varint(1, d)) for d in shape)
    return f_bytes(1, name) + f_bytes(2, f_bytes(1, f_varint(1, elem_type) + f_bytes(2, dims)))


def graph(nodes, name="main", inputs=(), outputs=(), initializers=()):
    """GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12."""
    out = b"".join(f_bytes(1, n) for n in nodes) + f_bytes(2, name)
    out += b"".join(f_bytes(5, t) for t in initializers)
    out += b"".join(f_bytes(11, value_info(*i) if isinstance(i, tuple) else value_info(i))
                    for i in inputs)
    out += b"".join(f_bytes(12, value_info(*o) if isinstance(o, tuple) else value_info(o))
                    for o in outputs)
    return out


def opset(domain, version):
    return (f_bytes(1, domain) if domain else b"") + f_varint(2, version)


def function(name, domain, nodes, inputs, outputs, opsets=(("", 17),)):
    """FunctionProto: name = 1, input = 4, output = 5, node = 7, opset_import = 9, domain = 10."""
    out = f_bytes(1, name) + b"".join(f_bytes(4, i) for i in inputs)
    out += b"".join(f_bytes(5, o) for o in outputs) + b"".join(f_bytes(7, n) for n in nodes)
    out += b"".join(f_bytes(9, opset(d, v)) for d, v in opsets) + f_bytes(10, domain)
    return out


def model(g, opsets=(("", 17),), functions=(), ir_version=9, producer="mscan-samples"):
    """ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7,
    opset_import = 8, functions = 25 (fields in number order, as protobuf writes them)."""
    out = f_varint(1, ir_version) + f_bytes(2, producer) + f_bytes(3, "1.0") + f_bytes(7, g)
    out += b"".join(f_bytes(8, opset(d, v)) for d, v in opsets)
    out += b"".join(f_bytes(25, f) for f in functions)
    return out


# --- building blocks ----------------------------------------------------------------------------

W1 = [0.1 * i for i in range(16)]
B1 = [0.0, 0.1, 0.2, 0.3]
W2 = [0.05 * i for i in range(8)]


def mlp_graph(w1=None, name="mlp"):
    """x[1,4] -> Gemm(W1[4,4], B1) -> Relu -> Gemm(W2[4,2]) -> y[1,2]."""
    inits = [w1 if w1 is not None else tensor("W1", [4, 4], raw=floats_raw(W1)),
             tensor("B1", [4], raw=floats_raw(B1)),
             tensor("W2", [4, 2], raw=floats_raw(W2))]
    nodes = [node("Gemm", ["x", "W1", "B1"], ["h"], name="fc1"),
             node("Relu", ["h"], ["r"], name="relu"),
             node("Gemm", ["r", "W2"], ["y"], name="fc2")]
    return graph(nodes, name, ["x"], [("y", FLOAT, (1, 2))], inits)


def external_model(location, extra=(), offset=None, length=64):
    entries = [("location", location)]
    if offset is not None:
        entries.append(("offset", offset))
    if length is not None:
        entries.append(("length", str(length) if isinstance(length, int) else length))
    entries += list(extra)
    w1 = tensor("W1", [4, 4], external=entries, location=1)
    return model(mlp_graph(w1))


def loop_graph(body_nodes, name="loop_model"):
    """A Loop over a body graph (iteration count 3, no carried state)."""
    body = graph(body_nodes, "loop_body",
                 [("i", INT64, ()), ("cond_in", 9, ())],
                 [("cond_out", 9, ()), ("scan_out", FLOAT, (1, 4))])
    trip = tensor("trip", [], data_type=INT64, raw=struct.pack("<q", 3))
    cond = tensor("cond", [], data_type=9, raw=b"\x01")
    nodes = [node("Loop", ["trip", "cond"], ["stacked"], name="loop", attrs=[attr_g("body", body)])]
    return graph(nodes, name, ["x"], [("stacked", FLOAT, (3, 1, 4))], [trip, cond])


# --- writing ------------------------------------------------------------------------------------


def add(path: Path, kind: str, description: str, expect=(), forbid=()):
    ENTRIES.append({
        "path": path.relative_to(OUT.parent.parent).as_posix(),
        "kind": kind,
        "group": "onnx",
        "description": description,
        "expect": list(expect),
        "forbid": list(forbid),
    })


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    b, h, a = OUT / "benign", OUT / "hostile", OUT / "anomaly"

    # --- benign ---
    add(write(b / "mlp.onnx", model(mlp_graph())), "benign",
        "two-layer MLP (Gemm, Relu), ir_version 9, opset 17, initializers in raw_data",
        forbid=[MEDIUM_PLUS])

    then_g = graph([node("Relu", ["x"], ["t"], name="then_relu")], "then", [], ["t"])
    else_g = graph([node("Neg", ["x"], ["e"], name="else_neg")], "else", [], ["e"])
    cond_nodes = [
        node("ReduceSum", ["x"], ["s"], name="sum", attrs=[attr_i("keepdims", 0)]),
        node("Constant", [], ["zero"], name="zero",
             attrs=[attr_t("value", tensor("zero", [], raw=floats_raw([0.0])))]),
        node("Greater", ["s", "zero"], ["c"], name="positive"),
        node("If", ["c"], ["y"], name="branch",
             attrs=[attr_g("then_branch", then_g), attr_g("else_branch", else_g)]),
    ]
    g = graph(cond_nodes, "if_model", ["x"], ["y"])
    add(write(b / "if_branches.onnx", model(g)), "benign",
        "If node with then/else subgraphs and a Constant tensor attribute (float_data-free raw)",
        forbid=[MEDIUM_PLUS])

    add(write(b / "loop.onnx", model(loop_graph([
        node("Identity", ["cond_in"], ["cond_out"], name="keep_going"),
        node("Relu", ["x"], ["scan_out"], name="body_relu")]))), "benign",
        "Loop whose body subgraph uses standard operators only", forbid=[MEDIUM_PLUS])

    typed = tensor("W1", [4, 4], floats=W1)
    add(write(b / "typed_data.onnx", model(mlp_graph(typed))), "benign",
        "initializer stored in float_data (packed) rather than raw_data", forbid=[MEDIUM_PLUS])

    gelu = function("MyGelu", "local.functions",
                    [node("Mul", ["X", "X"], ["X2"], name="sq"),
                     node("Sigmoid", ["X2"], ["S"], name="sig"),
                     node("Mul", ["X", "S"], ["Y"], name="gate")], ["X"], ["Y"])
    g = graph([node("MyGelu", ["x"], ["y"], name="act", domain="local.functions")],
              "function_model", ["x"], ["y"])
    add(write(b / "local_function.onnx",
              model(g, opsets=(("", 17), ("local.functions", 1)), functions=[gelu])), "benign",
        "node calling a model-local function (domain local.functions) defined in the file",
        forbid=[MEDIUM_PLUS, "onnx-custom-domain"])

    g = graph([node("FusedMatMul", ["x", "W"], ["y"], name="fused", domain="com.microsoft",
                    attrs=[attr_f("alpha", 1.0)])], "contrib_model", ["x"], ["y"],
              [tensor("W", [4, 4], raw=floats_raw(W1))])
    add(write(b / "contrib_op.onnx", model(g, opsets=(("", 17), ("com.microsoft", 1)))),
        "benign", "ONNX Runtime contrib operator (com.microsoft FusedMatMul), as ORT's "
        "optimizer writes it", expect=["onnx-contrib-domain"],
        forbid=[MEDIUM_PLUS, "onnx-custom-domain"])

    ext = b / "external_data"
    write(ext / "model.onnx.data", floats_raw(W1))
    add(write(ext / "model.onnx", external_model("model.onnx.data", offset="0")), "benign",
        "W1 stored as external data in model.onnx.data beside the model (offset 0, length 64)",
        forbid=[MEDIUM_PLUS])

    # An archive member's neighbours are not known: its external data cannot be checked.
    buf = b / "external_data_in.zip"
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in [("model/model.onnx", external_model("model.onnx.data", offset="0")),
                           ("model/model.onnx.data", floats_raw(W1))]:
            z.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)
    add(buf, "benign", "zip holding model.onnx and its external data file: a member's "
        "neighbours are not known, so the external data is reported as unchecked (info)",
        expect=["onnx-external-data-unchecked"], forbid=[MEDIUM_PLUS])

    # --- hostile ---
    for sub, location, description in [
        ("traversal", "../../../../etc/passwd", "external data location ../../../../etc/passwd"),
        ("nested_traversal", "weights/../../../etc/shadow",
         "external data location weights/../../../etc/shadow (CVE-2024-27318 form)"),
        ("absolute", "/etc/passwd", "external data location /etc/passwd (absolute)"),
        ("windows_drive", "C:\\Windows\\System32\\config\\SAM",
         "external data location C:\\Windows\\System32\\config\\SAM"),
        ("windows_unc", "\\\\attacker.example\\share\\weights.bin",
         "external data location \\\\attacker.example\\share\\weights.bin (UNC)"),
    ]:
        add(write(h / f"external_{sub}" / "model.onnx", external_model(location)), "hostile",
            description, expect=["onnx-external-data-traversal"])

    add(write(h / "external_missing" / "model.onnx", external_model("weights.bin")), "hostile",
        "external data file weights.bin is not beside the model",
        expect=["onnx-external-data-missing"])

    g = graph([node("Relu", ["x"], ["r"]),
               node("StealthOp", ["r"], ["y"], name="custom", domain="evil.custom.ops")],
              "custom_model", ["x"], ["y"])
    add(write(h / "custom_domain.onnx", model(g, opsets=(("", 17), ("evil.custom.ops", 1)))),
        "hostile", "operator StealthOp from custom domain evil.custom.ops (needs a custom-op "
        "library)", expect=["onnx-custom-domain"])

    g = graph([node("PythonOp", ["x"], ["y"], name="autograd_fn", domain="com.microsoft",
                    attrs=[attr_s("func_name", "os.system"), attr_i("inplace", 0)])],
              "pythonop_model", ["x"], ["y"])
    add(write(h / "pythonop_os_system.onnx", model(g, opsets=(("", 17), ("com.microsoft", 1)))),
        "hostile", "ORT training PythonOp whose func_name names os.system",
        expect=["onnx-python-op", "process-execution"])

    g = graph([node("PyOp", ["x"], ["y"], name="py", domain="pyop.sample",
                    attrs=[attr_s("module", "mscan_sample_module"),
                           attr_s("class_name", "Compute"), attr_s("compute", "compute")])],
              "pyop_model", ["x"], ["y"])
    add(write(h / "pyop.onnx", model(g, opsets=(("", 17), ("pyop.sample", 1)))), "hostile",
        "ONNX Runtime PyOp importing module mscan_sample_module, class Compute",
        expect=["onnx-python-op", "unknown-global"])

    add(write(h / "loop_custom_op.onnx", model(loop_graph([
        node("Identity", ["cond_in"], ["cond_out"], name="keep_going"),
        node("HiddenOp", ["x"], ["scan_out"], name="hidden", domain="evil.custom.ops")]),
        opsets=(("", 17), ("evil.custom.ops", 1)))), "hostile",
        "custom-domain operator hidden inside a Loop body", expect=["onnx-custom-domain"])

    fn = function("Wrapper", "local.functions",
                  [node("HiddenOp", ["X"], ["Y"], name="inner", domain="evil.custom.ops")],
                  ["X"], ["Y"], opsets=(("", 17), ("evil.custom.ops", 1)))
    g = graph([node("Wrapper", ["x"], ["y"], name="call", domain="local.functions")],
              "function_model", ["x"], ["y"])
    add(write(h / "function_custom_op.onnx",
              model(g, opsets=(("", 17), ("local.functions", 1)), functions=[fn])), "hostile",
        "custom-domain operator hidden inside a model-local function's body",
        expect=["onnx-custom-domain"])

    # --- anomaly ---
    whole = model(mlp_graph())
    add(write(a / "truncated.onnx", whole[: len(whole) * 2 // 3]), "anomaly",
        "the MLP model cut at two thirds (inside an initializer)",
        expect=["onnx-malformed"])

    bad = f_varint(1, 9) + f_bytes(2, "mscan-samples") + f_varint(7, 5) + f_bytes(8, opset("", 17))
    add(write(a / "graph_not_message.onnx", bad), "anomaly",
        "ModelProto.graph (field 7) written as a varint", expect=["onnx-malformed"])

    g = graph([node("Identity", ["W"], ["y"])], "huge", [], ["y"],
              [tensor("W", [1000000, 1000000], raw=floats_raw([1.0, 2.0, 3.0, 4.0]))])
    add(write(a / "huge_dims.onnx", model(g)), "anomaly",
        "initializer whose dims say 10^12 floats with 16 bytes of raw_data",
        expect=["onnx-tensor-size"])

    g = graph([node("Identity", ["W"], ["y"])], "negative", [], ["y"],
              [tensor("W", [4, -1], raw=floats_raw(W1))])
    add(write(a / "negative_dim.onnx", model(g)), "anomaly",
        "initializer with a negative dimension", expect=["onnx-tensor-size"])

    bad_ext = a / "external_bad_range"
    write(bad_ext / "weights.bin", floats_raw(W1))
    add(write(bad_ext / "model.onnx", external_model("weights.bin", offset="32", length=64)),
        "anomaly", "external data offset 32 + length 64 runs past the 64-byte weights.bin",
        expect=["onnx-external-data-invalid"])

    bad_num = a / "external_bad_number"
    write(bad_num / "weights.bin", floats_raw(W1))
    add(write(bad_num / "model.onnx",
              external_model("weights.bin", offset="0x10", extra=[("__class__", "x")])),
        "anomaly", "external data offset '0x10' (not decimal) and an unknown key __class__",
        expect=["onnx-external-data-invalid"])

    short = a / "external_short_file"
    write(short / "weights.bin", floats_raw(W1[:4]))
    add(write(short / "model.onnx", external_model("weights.bin", length=None)), "anomaly",
        "external data without a length whose 16-byte file is shorter than the 64 bytes W1 "
        "needs", expect=["onnx-tensor-size"])

    update_manifest(ENTRIES, [PREFIX])
    print(f"wrote {len(ENTRIES)} ONNX samples under {OUT}")


if __name__ == "__main__":
    main()
