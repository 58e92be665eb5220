#!/usr/bin/python3
"""Differential harness for Keras HDF5 models: h5py's reading against mscan's verdict.

    /usr/bin/python3 tests/differential/h5_configs.py [--mscan build/mscan] [--count N]
                                                      [--seed S] [--keep DIR]

Keras's legacy H5 loader (tf.keras hdf5_format.load_model_from_hdf5, Keras 3's
legacy_h5_format) does `f.attrs.get("model_config")`, decodes bytes as UTF-8 and passes the
text to json.loads; a Lambda layer in it runs its marshaled code. h5py (libhdf5) is therefore
the component whose reading decides what the loader sees. This writes N HDF5 files with h5py,
varying how the attribute is stored — file format version bounds (superblock 0 to 3), a user
block, compact or dense (fractal heap + B-tree) attribute storage, creation-order tracking,
other attributes before and after it, a large neighbour attribute, the string type (variable
length str, variable-length bytes, fixed-length bytes), the attribute rewritten or deleted and
re-created (so that a stale copy stays in the file) — and the JSON inside it through the
grammar json_configs.py uses. It asks h5py + json.loads what each file holds, the way Keras
does, and requires: a Lambda fails `mscan --fail-on critical`; a file without one passes the
default gate (exit 0). A file the loader cannot read (an array-shaped attribute) is counted
and skipped. Nothing is loaded but HDF5 attributes and JSON (the Lambda's code is compiled,
never run). Needs Debian's python3-h5py.
"""

from __future__ import annotations

import json
import os
import random
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import finish, gate, options  # noqa: E402
from json_configs import Writer, has_lambda, keras_config  # noqa: E402

LIBVER = [("earliest", "latest"), ("v108", "latest"), ("v110", "latest"), ("latest", "latest")]


def config_text(rng: random.Random, with_lambda: bool) -> str:
    return Writer(rng, None, False).value(keras_config(with_lambda), top=True)


def store(rng: random.Random, attrs, name: str, text: str) -> str:
    """Writes one string attribute in a random string type; returns the type's name."""
    form = rng.randrange(3)
    if form == 0:
        attrs[name] = text  # variable-length UTF-8 str
        return "vlen-str"
    data = text.encode("utf-8")
    if form == 1:
        attrs.create(name, data, dtype=h5py.special_dtype(vlen=bytes))
        return "vlen-bytes"
    attrs.create(name, np.bytes_(data))  # fixed-length bytes
    return "fixed-bytes"


def write(path: str, rng: random.Random, hostile: bool) -> list[str]:
    notes = []
    libver = rng.choice(LIBVER)
    kwargs = {"libver": libver}
    notes.append("libver=%s" % libver[0])
    if rng.random() < 0.3:
        kwargs["userblock_size"] = rng.choice([512, 1024, 4096])
        notes.append("userblock")
    if rng.random() < 0.3:
        kwargs["track_order"] = True
        notes.append("track_order")
    with h5py.File(path, "w", **kwargs) as f:
        before = rng.randrange(0, 12)
        for i in range(before):
            f.attrs["meta_%d" % i] = "value %d" % i
        if rng.random() < 0.2 and libver[0] != "earliest":
            f.attrs["big"] = "x" * rng.choice([70_000, 200_000])  # dense storage only
            notes.append("big-neighbour")
        stale = rng.random() < 0.3
        if stale:
            # The other verdict first, then replaced: its bytes may stay in the file.
            store(rng, f.attrs, "model_config", config_text(rng, not hostile))
            if rng.random() < 0.5:
                del f.attrs["model_config"]
                notes.append("deleted+recreated")
            else:
                notes.append("overwritten")
        notes.append(store(rng, f.attrs, "model_config", config_text(rng, hostile)))
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        for i in range(rng.randrange(0, 6)):
            f.attrs["after_%d" % i] = np.arange(i + 1)
        g = f.create_group("model_weights")
        g.create_dataset("dense/kernel", data=np.zeros((4, 4), "float32"))
        notes.append("attrs=%d" % len(f.attrs))
    return notes


def keras_reads(path: str):
    """What Keras's legacy loader reads: the parsed model_config, or None if it cannot."""
    try:
        with h5py.File(path, "r") as f:
            value = f.attrs.get("model_config")
        if value is None:
            return None
        if hasattr(value, "decode"):
            value = value.decode("utf-8")
        return json.loads(value)
    except Exception:  # noqa: BLE001 - a refusal is the loader's answer
        return None


def main() -> int:
    opts, rng, work = options(__doc__, 300, "mscan-h5-diff-")
    failures = []
    counts = {"hostile": 0, "benign": 0, "refused": 0}
    for i in range(opts.count):
        path = os.path.join(work, "%04d.h5" % i)
        notes = write(path, rng, rng.random() < 0.5)
        seen = keras_reads(path)
        if seen is None:
            counts["refused"] += 1
            continue
        hostile = has_lambda(seen)
        counts["hostile" if hostile else "benign"] += 1
        ok, rc = gate(opts.mscan, path, hostile)
        if not ok:
            failures.append((path, notes, "Keras reads %s; mscan %s exit %d" % (
                "a Lambda" if hostile else "no Lambda",
                "--fail-on critical" if hostile else "default gate", rc)))
    print("%d files: %d hostile, %d benign, %d refused by the loader; %d disagree"
          % (opts.count, counts["hostile"], counts["benign"], counts["refused"],
             len(failures)))
    for path, notes, why in failures[:20]:
        print("  %s (%s): %s" % (path, ", ".join(notes), why))
    return finish(opts, work, failures)


if __name__ == "__main__":
    sys.exit(main())
