#!/usr/bin/python3
"""Differential harness for JSON configs: Python's json.loads against mscan's verdict.

    /usr/bin/python3 tests/differential/json_configs.py [--mscan build/mscan] [--count N]
                                                        [--seed S] [--keep DIR]

Every loader of the configs mscan checks (transformers, Keras, sentence-transformers,
diffusers, TorchServe) reads them with Python's json module, so json.loads(bytes) is the
component whose reading decides what the loader sees. This writes N variants of four configs
through the JSON grammar (escaped characters in keys and strings, whitespace, NaN, Infinity and
big numbers in extra fields, duplicate keys before or after the interesting one, deep padding,
and every encoding json.loads(bytes) detects), asks json.loads what each variant holds, and
compares with mscan:

  - a transformers config.json whose auto_map json.loads reads as class references: mscan's
    default gate must fail (hf-remote-code);
  - a Keras config holding a Lambda layer (marshaled code calling exec; compiled here, never
    run): mscan must fail --fail-on critical;
  - the same configs without the payload, or with it overridden by a later duplicate key:
    mscan's default gate must pass (exit 0, or 3: nothing scannable).

Nothing is loaded but JSON. Exit 1 if any variant disagrees, 0 otherwise.
"""

from __future__ import annotations

import base64
import json
import marshal
import math
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, options, scan  # noqa: E402,F401 - ROOT and scan are used by others

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-16", "utf-32-le",
             "utf-32-be", "utf-32"]


def lambda_code() -> str:
    module = compile("lambda x: exec('x = 1') or x", "<differential>", "eval")
    code = next(c for c in module.co_consts if hasattr(c, "co_code"))
    return base64.b64encode(marshal.dumps(code)).decode()


def keras_config(with_lambda: bool) -> dict:
    layers = [{"module": "keras.layers", "class_name": "InputLayer",
               "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "input"}},
              {"module": "keras.layers", "class_name": "Dense",
               "config": {"name": "dense", "units": 4, "activation": "relu"}}]
    if with_lambda:
        layers.append({"module": "keras.layers", "class_name": "Lambda", "config": {
            "name": "lam", "function": {"class_name": "__lambda__", "config": {
                "code": lambda_code(), "defaults": None, "closure": None}},
            "arguments": {}}})
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": "sequential", "layers": layers}, "registered_name": None}


def transformers_config(with_auto_map: bool) -> dict:
    doc = {"architectures": ["DemoModel"], "model_type": "demo", "hidden_size": 64}
    if with_auto_map:
        doc["auto_map"] = {"AutoConfig": "configuration_demo.DemoConfig",
                           "AutoModel": "modeling_demo.DemoModel"}
    return doc


class Writer:
    """Writes a value as JSON text with random grammar the json module accepts."""

    def __init__(self, rng: random.Random, payload_key: str | None, override: bool):
        self.rng = rng
        self.payload_key = payload_key  # top-level key to shadow with a duplicate
        self.override = override        # the duplicate comes last (Python keeps it)

    def ws(self) -> str:
        if self.rng.random() < 0.6:
            return ""
        return "".join(self.rng.choice(" \t\n\r") for _ in range(self.rng.randint(1, 3)))

    def string(self, s: str) -> str:
        out = ['"']
        for ch in s:
            r = self.rng.random()
            if ch in '"\\':
                out.append("\\" + ch)
            elif ord(ch) < 0x20:
                out.append("\\u%04x" % ord(ch))
            elif r < 0.15:
                out.append("\\u%04x" % ord(ch) if self.rng.random() < 0.5 else
                           "\\u%04X" % ord(ch))
            elif ch == "/" and r < 0.5:
                out.append("\\/")
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)

    def noise(self) -> str:
        return self.rng.choice(["NaN", "Infinity", "-Infinity", "1e400", "-0",
                                "123456789012345678901234567890", "0.5e-3", "[]", "{}",
                                "[" * 300 + "]" * 300])

    def value(self, v, top: bool = False) -> str:
        if isinstance(v, dict):
            items = []
            for k, x in v.items():
                if self.rng.random() < 0.2:
                    items.append(self.string("pad_%d" % len(items)) + self.ws() + ":" +
                                 self.ws() + self.noise())
                items.append(self.string(k) + self.ws() + ":" + self.ws() + self.value(x))
            if top and self.payload_key is not None:
                dup = self.string(self.payload_key) + ":" + "null"
                if self.override:
                    items.append(dup)
                else:
                    items.insert(0, dup)
            return "{" + self.ws() + ("," + self.ws()).join(items) + self.ws() + "}"
        if isinstance(v, list):
            return "[" + self.ws() + ("," + self.ws()).join(self.value(x) for x in v) + "]"
        if isinstance(v, str):
            return self.string(v)
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        return json.dumps(v)


def has_lambda(v) -> bool:
    if isinstance(v, dict):
        if v.get("class_name") == "Lambda":
            return True
        return any(has_lambda(x) for x in v.values())
    if isinstance(v, list):
        return any(has_lambda(x) for x in v)
    return False


def main() -> int:
    opts, rng, work = options(__doc__, 400, "mscan-json-diff-")
    failures = []
    counts = {"hostile": 0, "benign": 0}
    started = math.floor(__import__("time").time())
    for i in range(opts.count):
        kind = rng.choice(["keras", "transformers"])
        with_payload = rng.random() < 0.6
        shadow = with_payload and rng.random() < 0.3
        override = shadow and rng.random() < 0.5
        if kind == "keras":
            doc = keras_config(with_payload)
            payload_key = "config" if shadow else None
            name = rng.choice(["model.json", "config.json", "model_config.json"])
        else:
            doc = transformers_config(with_payload)
            payload_key = "auto_map" if shadow else None
            name = "config.json"
        text = Writer(rng, payload_key, override).value(doc, top=True)
        encoding = rng.choice(ENCODINGS)
        data = text.encode(encoding, "surrogatepass")
        folder = os.path.join(work, "%04d" % i)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(data)
        seen = json.loads(data)  # what every loader of these files reads
        if kind == "keras":
            hostile = has_lambda(seen)
        else:
            am = seen.get("auto_map") if isinstance(seen, dict) else None
            hostile = isinstance(am, dict) and any(isinstance(x, str) for x in am.values())
        counts["hostile" if hostile else "benign"] += 1
        if hostile and kind == "keras":
            rc = scan(opts.mscan, path, "--fail-on", "critical")
            ok, want = rc == 1, "--fail-on critical fails"
        elif hostile:
            rc = scan(opts.mscan, path)
            ok, want = rc == 1, "the default gate fails"
        else:
            rc = scan(opts.mscan, path)
            # 3: nothing scannable, which a CI gate accepts for a file that is no model.
            ok, want = rc in (0, 3), "the default gate passes"
        if not ok:
            failures.append((path, kind, encoding, hostile, want, rc))
    elapsed = math.floor(__import__("time").time()) - started
    print(f"{opts.count} variants ({counts['hostile']} hostile, {counts['benign']} benign per "
          f"json.loads), {len(failures)} disagreeing, {elapsed} s")
    for path, kind, encoding, hostile, want, rc in failures[:40]:
        print(f"  FAIL {path} ({kind}, {encoding}, {'hostile' if hostile else 'benign'}): "
              f"want {want}, mscan exit {rc}")
    if not opts.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
