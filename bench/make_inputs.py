#!/usr/bin/env python3
"""Make the large benchmark inputs for mscan's pickle scanner.

    dense.pkl    >= 200 MB, protocol 4, FRAMEs of ~64 KiB, a list of millions of small objects
                 (dicts, tuples, strings, ints) with memoised keys: the worst case for the
                 symbolic machine (every byte is an opcode; the memo grows to ~10M entries).
    payload.pkl  >= 1 GiB, protocol 5, a list of 4-64 MiB BINBYTES/BINBYTES8/BYTEARRAY8 items:
                 the best case (payloads must be skipped by length, never read). Sparse file.
    objects.pkl  >= 200 MB, the dense list with its dicts replaced by collections.OrderedDict
                 objects (a global and a REDUCE per item): data that is not plain data, so the
                 symbolic machine reads every opcode (no data-only fast path).
    torchzip.pt  2 GiB PyTorch zip checkpoint (torch.save layout): a small data.pkl and two
                 1 GiB stored tensor records, written sparse. The cost must not depend on the
                 tensor bytes (never read).
    joblib.z     >= 500 MB zlib-compressed joblib dump (joblib 1.2 layout: NumpyArrayWrappers
                 followed by their array bytes), arrays of random bytes: decompression plus
                 the array-skipping pickle walk.
    model.safetensors  2 GiB safetensors file, sparse: a header of 289 BF16/F32 tensors shaped
                 like a small transformer's, then holes. Only the header may be read.
    model.h5     2 GiB Keras .h5 as tf.keras saves it (model_config and training_config root
                 attributes, model_weights group) with one 2 GiB float32 dataset whose storage
                 is a hole in a sparse file. Only the superblock, the root object header and
                 the config may be read. Needs Debian's python3-h5py.
    model.gguf   a GGUF v3 shaped like Meta-Llama-3-8B-Instruct Q4_K_M (~4.9 GB): the real
                 metadata keys, tokenizer.ggml.tokens (128,256 strings), token_type (int32
                 array), tokenizer.ggml.merges (280,147 strings), the Llama 3 chat template,
                 291 tensor infos (Q4_K/Q6_K/F32); the tensor data is a hole in a sparse file.
                 Only the header, metadata and tensor infos (~7 MB) may be read.
    small/       1,000 small pickles (a few hundred bytes to a few KB), protocols 0-5, plain
                 builtin data only (no globals), to measure per-file overhead.

Only pickles of plain builtin data are *written* (opcodes assembled here, or pickle.dumps for
the small files); nothing is ever unpickled. `--selftest` checks the dense encoder byte-for-byte
against pickle.dumps on a small list and runs pickletools.dis over small versions of each input.

Files that already exist with the size recorded in out/manifest.json (for the same parameters)
are skipped, so re-running is cheap.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import pickletools
import random
import struct
import sys
import time
import zlib

FRAME_TARGET = 64 * 1024  # CPython's _FRAME_SIZE_TARGET
FRAME_MIN = 4  # CPython's _FRAME_SIZE_MIN: smaller frames are written without a FRAME header
BATCH = 1000  # CPython's _BATCHSIZE for APPENDS/SETITEMS

# Opcodes (pickle module names).
PROTO, STOP, FRAME = b"\x80", b".", b"\x95"
EMPTY_LIST, EMPTY_DICT, MARK = b"]", b"}", b"("
APPEND, APPENDS, SETITEM, SETITEMS = b"a", b"e", b"s", b"u"
MEMOIZE, BINGET, LONG_BINGET = b"\x94", b"h", b"j"
BININT, BININT1, BININT2, LONG1 = b"J", b"K", b"M", b"\x8a"
BINFLOAT, NONE, NEWTRUE, NEWFALSE = b"G", b"N", b"\x88", b"\x89"
SHORT_BINUNICODE, BINUNICODE = b"\x8c", b"X"
TUPLE2, TUPLE3 = b"\x86", b"\x87"
EMPTY_TUPLE, REDUCE, STACK_GLOBAL = b")", b"R", b"\x93"
BINBYTES, BINBYTES8, BYTEARRAY8 = b"B", b"\x8e", b"\x96"

MiB = 1 << 20


# --------------------------------------------------------------------------------------------
# Framing, as CPython's C pickler does it: opcodes go into a frame buffer; before each object is
# saved, a frame of >= 64 KiB is committed. Large byte payloads bypass frames.


class Framer:
    def __init__(self, out):
        self.out = out
        self.buf = bytearray()
        self.written = 0

    def boundary(self):
        if len(self.buf) >= FRAME_TARGET:
            self.commit()

    def commit(self):
        if self.buf:
            if len(self.buf) >= FRAME_MIN:
                self._raw(FRAME + struct.pack("<Q", len(self.buf)))
            self._raw(self.buf)
            self.buf = bytearray()

    def _raw(self, b):
        self.out.write(b)
        self.written += len(b)

    def large(self, header, size, sparse):
        """Commit the frame, then write header + payload of `size` bytes outside any frame."""
        self.commit()
        self._raw(header)
        if sparse:
            self.out.seek(size, os.SEEK_CUR)
            self.written += size
        else:
            zeros = bytes(min(size, 8 * MiB))
            left = size
            while left:
                n = min(left, len(zeros))
                self._raw(zeros[:n] if n < len(zeros) else zeros)
                left -= n


def enc_int(x: int) -> bytes:
    if 0 <= x <= 0xFF:
        return BININT1 + bytes((x,))
    if 0 <= x <= 0xFFFF:
        return BININT2 + struct.pack("<H", x)
    if -(1 << 31) <= x < (1 << 31):
        return BININT + struct.pack("<i", x)
    b = pickle.encode_long(x)
    return LONG1 + bytes((len(b),)) + b


def enc_str(s: str) -> bytes:
    b = s.encode("utf-8")
    if len(b) < 256:
        return SHORT_BINUNICODE + bytes((len(b),)) + b
    return BINUNICODE + struct.pack("<I", len(b)) + b


def enc_get(idx: int) -> bytes:
    return BINGET + bytes((idx,)) if idx < 256 else LONG_BINGET + struct.pack("<I", idx)


# --------------------------------------------------------------------------------------------
# dense.pkl


def dense_item(i: int):
    """The i-th element of the dense list, as plain Python data (used by --selftest)."""
    k = i % 10
    if k <= 6:
        return {"id": i, "name": f"item-{i:08d}", "score": i * 0.25,
                "tags": (i % 7, i % 300), "ok": i % 2 == 0}
    if k == 7:
        return (i, f"t{i}", None)
    if k == 8:
        return f"s{i:010d}"
    return i * 7919


class DenseEncoder:
    """Encodes dense_item(i) exactly as pickle.dumps(protocol=4) would inside a list."""

    KEYS = ("id", "name", "score", "tags", "ok")

    def __init__(self, framer: Framer, objects: bool = False):
        self.f = framer
        self.memo = 0  # next memo index
        self.key_memo: dict[str, int] = {}
        self.objects = objects  # dicts become OrderedDicts (objects.pkl)
        self.class_memo: int | None = None

    def _memoize(self):
        self.memo += 1
        return MEMOIZE

    def _key(self, key: str):
        f = self.f
        f.boundary()
        idx = self.key_memo.get(key)
        if idx is None:
            self.key_memo[key] = self.memo
            f.buf += enc_str(key) + self._memoize()
        else:
            f.buf += enc_get(idx)

    def _str(self, s: str):
        self.f.boundary()
        self.f.buf += enc_str(s) + self._memoize()

    def _atom(self, b: bytes):
        self.f.boundary()
        self.f.buf += b

    def item(self, i: int):
        f = self.f
        f.boundary()
        k = i % 10
        if k <= 6:
            if self.objects:
                # OrderedDict.__reduce__: (cls, (), None, None, iter(items)); the class is
                # saved once (STACK_GLOBAL) and fetched from the memo after that.
                if self.class_memo is None:
                    self._str("collections")
                    self._str("OrderedDict")
                    f.buf += STACK_GLOBAL + self._memoize()
                    self.class_memo = self.memo - 1
                else:
                    f.boundary()
                    f.buf += enc_get(self.class_memo)
                f.boundary()
                f.buf += EMPTY_TUPLE + REDUCE + self._memoize() + MARK
            else:
                f.buf += EMPTY_DICT + self._memoize() + MARK
            self._key("id")
            self._atom(enc_int(i))
            self._key("name")
            self._str(f"item-{i:08d}")
            self._key("score")
            self._atom(BINFLOAT + struct.pack(">d", i * 0.25))
            self._key("tags")
            f.boundary()
            self._atom(enc_int(i % 7))
            self._atom(enc_int(i % 300))
            f.buf += TUPLE2 + self._memoize()
            self._key("ok")
            self._atom(NEWTRUE if i % 2 == 0 else NEWFALSE)
            f.buf += SETITEMS
        elif k == 7:
            self._atom(enc_int(i))
            self._str(f"t{i}")
            self._atom(NONE)
            f.buf += TUPLE3 + self._memoize()
        elif k == 8:
            self.f.buf += enc_str(f"s{i:010d}") + self._memoize()
        else:
            f.buf += enc_int(i * 7919)


def objects_item(i: int):
    """The i-th element of the objects list (dense_item with OrderedDicts), for --selftest."""
    import collections

    item = dense_item(i)
    return collections.OrderedDict(item) if isinstance(item, dict) else item


def write_dense(out, target_bytes: int | None = None, count: int | None = None,
                objects: bool = False) -> int:
    """Writes the dense pickle (or with `objects`, objects.pkl); stops after `count` items, or
    at the first batch boundary past `target_bytes`. Returns the number of items."""
    framer = Framer(out)
    framer._raw(PROTO + b"\x04")
    enc = DenseEncoder(framer, objects)
    framer.boundary()
    framer.buf += EMPTY_LIST + enc._memoize()
    i = 0
    while True:
        n = BATCH if count is None else min(BATCH, count - i)
        if n <= 0:
            break
        if count == 1:  # CPython special-cases only a whole list of one item
            enc.item(i)
            framer.buf += APPEND
        else:
            framer.buf += MARK
            for j in range(i, i + n):
                enc.item(j)
            framer.buf += APPENDS
        i += n
        if count is None and framer.written >= target_bytes:
            break
    framer.buf += STOP
    framer.commit()
    return i


# --------------------------------------------------------------------------------------------
# model.gguf


def write_gguf(path: str) -> int:
    """A GGUF v3 file laid out as llama.cpp's convert + quantize write Llama-3-8B-Instruct
    Q4_K_M: metadata (with the real vocabulary and merge counts; the strings are synthetic but
    of realistic lengths), 291 tensor infos back to back at alignment 32, then the data as a
    hole. Returns the size."""
    le = struct.pack
    parts = []

    def gstr(v):
        b = v.encode("utf-8")
        return le("<Q", len(b)) + b

    def kv(key, vtype, payload):
        parts.append(gstr(key) + le("<I", vtype) + payload)

    vocab, merges = 128256, 280147
    template_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                 "data", "templates", "benign", "llama3.jinja")
    with open(template_path, encoding="utf-8") as fh:
        chat_template = fh.read()
    kv("general.architecture", 8, gstr("llama"))
    kv("general.name", 8, gstr("Meta-Llama-3-8B-Instruct"))
    for key, value in (("llama.block_count", 32), ("llama.context_length", 8192),
                       ("llama.embedding_length", 4096), ("llama.feed_forward_length", 14336),
                       ("llama.attention.head_count", 32), ("llama.attention.head_count_kv", 8)):
        kv(key, 4, le("<I", value))
    kv("llama.rope.freq_base", 6, le("<f", 500000.0))
    kv("llama.attention.layer_norm_rms_epsilon", 6, le("<f", 1e-5))
    kv("general.file_type", 4, le("<I", 15))
    kv("llama.vocab_size", 4, le("<I", vocab))
    kv("llama.rope.dimension_count", 4, le("<I", 128))
    kv("tokenizer.ggml.model", 8, gstr("gpt2"))
    kv("tokenizer.ggml.pre", 8, gstr("llama-bpe"))
    rng = random.Random(8)
    letters = "abcdefghijklmnopqrstuvwxyz"
    tokens = [("\u0120" if i % 3 == 0 else "") + "".join(rng.choice(letters)
              for _ in range(1 + i % 9)) for i in range(vocab)]
    kv("tokenizer.ggml.tokens", 9,
       le("<IQ", 8, vocab) + b"".join(gstr(t) for t in tokens))
    kv("tokenizer.ggml.token_type", 9,
       le("<IQ", 5, vocab) + b"".join(le("<i", 1 if i < 128000 else 3) for i in range(vocab)))
    kv("tokenizer.ggml.merges", 9,
       le("<IQ", 8, merges) + b"".join(gstr(tokens[i % 5000] + " " + tokens[(i * 7) % 9000])
                                       for i in range(merges)))
    kv("tokenizer.ggml.bos_token_id", 4, le("<I", 128000))
    kv("tokenizer.ggml.eos_token_id", 4, le("<I", 128009))
    kv("tokenizer.chat_template", 8, gstr(chat_template))
    kv("general.quantization_version", 4, le("<I", 2))
    # ggml type id -> (block elements, block bytes)
    q4k, q6k, f32 = (12, 256, 144), (14, 256, 210), (0, 1, 4)
    tensors = [("token_embd.weight", [4096, vocab], q4k)]
    for i in range(32):
        b = f"blk.{i}."
        tensors += [(b + "attn_norm.weight", [4096], f32), (b + "attn_q.weight", [4096, 4096], q4k),
                    (b + "attn_k.weight", [4096, 1024], q4k), (b + "attn_v.weight", [4096, 1024], q6k),
                    (b + "attn_output.weight", [4096, 4096], q4k), (b + "ffn_norm.weight", [4096], f32),
                    (b + "ffn_gate.weight", [4096, 14336], q4k), (b + "ffn_up.weight", [4096, 14336], q4k),
                    (b + "ffn_down.weight", [14336, 4096], q6k)]
    tensors += [("output_norm.weight", [4096], f32), ("output.weight", [4096, vocab], q6k)]
    assert len(tensors) == 291
    infos, offset = [], 0
    for name, dims, (gtype, block, size) in tensors:
        n = dims[0] // block * size
        for d in dims[1:]:
            n *= d
        infos.append(gstr(name) + le("<I", len(dims)) + b"".join(le("<Q", d) for d in dims)
                     + le("<IQ", gtype, offset))
        offset += (n + 31) // 32 * 32
    head = b"GGUF" + le("<IQQ", 3, len(tensors), len(parts)) + b"".join(parts) + b"".join(infos)
    head += b"\0" * (-len(head) % 32)
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(len(head) + offset)
    return len(head) + offset


# --------------------------------------------------------------------------------------------
# model.safetensors


def write_safetensors(path: str, data_bytes: int) -> int:
    """A safetensors file as safetensors.torch.save_file lays it out (header padded with spaces
    to a multiple of 8, tensors back to back in header order), 24 layers of attention and MLP
    weights in BF16 plus F32 norms, the last tensor sized so the data is exactly data_bytes.
    The data is a hole in a sparse file. Returns the size."""
    hidden, layers = 1024, 24
    shapes = []
    for i in range(layers):
        for part in ("q_proj", "k_proj", "v_proj", "o_proj"):
            shapes.append((f"model.layers.{i}.self_attn.{part}.weight", "BF16", [hidden, hidden]))
        for part in ("gate_proj", "up_proj"):
            shapes.append((f"model.layers.{i}.mlp.{part}.weight", "BF16", [4 * hidden, hidden]))
        shapes.append((f"model.layers.{i}.mlp.down_proj.weight", "BF16", [hidden, 4 * hidden]))
        for part in ("input_layernorm", "post_attention_layernorm", "self_attn.q_norm",
                     "self_attn.k_norm", "mlp.norm"):
            shapes.append((f"model.layers.{i}.{part}.weight", "F32", [hidden]))
    size = {"BF16": 2, "F32": 4}
    used = sum(size[d] * (s[0] * (s[1] if len(s) > 1 else 1)) for _, d, s in shapes)
    assert used < data_bytes and (data_bytes - used) % (2 * hidden) == 0
    shapes.append(("lm_head.weight", "BF16", [(data_bytes - used) // (2 * hidden), hidden]))
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape in shapes:
        n = size[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    assert offset == data_bytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)) + text)
        fh.truncate(8 + len(text) + data_bytes)
    return 8 + len(text) + data_bytes


def write_keras_h5(path: str, data_bytes: int) -> int:
    """A tf.keras-style .h5: a Sequential model's config as the root model_config attribute,
    and one contiguous float32 dataset of data_bytes under model_weights. Only the last element
    is written, and no fill value is set, so the data is a hole. Returns the file size."""
    import h5py  # Debian: python3-h5py (only this input needs it)
    import numpy as np
    layers = [{"class_name": "Dense", "config": {"name": f"dense_{i}", "units": 4096,
                                                 "activation": "relu"}} for i in range(64)]
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["training_config"] = json.dumps({"loss": "mse"}).encode()
        f.attrs["keras_version"] = b"2.13.1"
        f.attrs["backend"] = b"tensorflow"
        n = data_bytes // 4
        d = f.create_group("model_weights").create_dataset(
            "kernel:0", shape=(n,), dtype="float32", track_times=False)
        d[n - 1] = np.float32(1.0)
    return os.path.getsize(path)


# --------------------------------------------------------------------------------------------
# torchzip.pt and joblib.z (layouts from samples/make_container_samples.py)


def _containers():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples"))
    import make_container_samples as mcs  # noqa: E402 (stdlib only at import time)
    return mcs


def write_torchzip(path: str, tensor_bytes: int) -> int:
    """A torch.save-style zip: archive/data.pkl (an OrderedDict of two float32 tensors via
    _rebuild_tensor_v2 and persistent ids), archive/data/0 and /1 of tensor_bytes each (holes in
    a sparse file), archive/version. Stored members, as torch writes them. Returns the size."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", "containers",
                       "torch", "benign", "state_dict_stdlib.pt")
    import zipfile
    with zipfile.ZipFile(src) as z:
        pkl_name = next(n for n in z.namelist() if n.endswith("data.pkl"))
        data_pkl = z.read(pkl_name)
    members = [("archive/data.pkl", data_pkl, len(data_pkl)),
               ("archive/data/0", None, tensor_bytes), ("archive/data/1", None, tensor_bytes),
               ("archive/version", b"3\n", 2)]
    zero_crc = 0
    chunk = bytes(64 * MiB)
    left = tensor_bytes
    while left:
        n = min(left, len(chunk))
        zero_crc = zlib.crc32(chunk[:n] if n < len(chunk) else chunk, zero_crc)
        left -= n
    central = bytearray()
    with open(path, "wb") as fh:
        for name, data, size in members:
            offset = fh.tell()
            crc = zlib.crc32(data) if data is not None else zero_crc
            nb = name.encode()
            fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, crc, size, size,
                                 len(nb), 0) + nb)
            if data is not None:
                fh.write(data)
            else:
                fh.seek(size, os.SEEK_CUR)
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, crc,
                                   size, size, len(nb), 0, 0, 0, 0, 0o644 << 16, offset) + nb
        cd_offset = fh.tell()
        fh.write(central)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                             len(central), cd_offset, 0))
        return fh.tell()


def write_joblib_z(path: str, target_bytes: int) -> int:
    """joblib.dump({'layerN': float64 array, ...}, compress=3) as joblib 1.2 lays it out, with
    random array bytes (weights compress little), zlib level 3. Returns the compressed size."""
    mcs = _containers()
    rng = random.Random(7)
    arrays = {}
    total, n = 0, 0
    while total < target_bytes * 1.02:
        count = 4 * MiB // 8
        arrays[f"layer{n}"] = mcs.Array("f8", "<", (count,), rng.randbytes(count * 8))
        total += count * 8
        n += 1
    raw = mcs.joblib_raw(arrays)
    data = mcs.joblib_zlib(raw, 3)
    with open(path, "wb") as fh:
        fh.write(data)
    return len(data)


# --------------------------------------------------------------------------------------------
# payload.pkl

PAYLOAD_SIZES_MIB = (4, 16, 64, 8, 32, 48, 12, 24)


def payload_plan(total_bytes: int, scale: int = MiB):
    sizes, acc, j = [], 0, 0
    while acc < total_bytes:
        s = PAYLOAD_SIZES_MIB[j % len(PAYLOAD_SIZES_MIB)] * scale
        sizes.append(s)
        acc += s
        j += 1
    return sizes


def write_payload(out, total_bytes: int, sparse: bool, scale: int = MiB) -> int:
    sizes = payload_plan(total_bytes, scale)
    framer = Framer(out)
    framer._raw(PROTO + b"\x05")
    memo = 0
    framer.buf += EMPTY_LIST + MEMOIZE
    memo += 1
    framer.buf += MARK
    # a small metadata dict first, like a checkpoint's header
    framer.buf += EMPTY_DICT + MEMOIZE + MARK
    memo += 1
    for key, val in (("format", "mscan-bench-payload"), ("count", len(sizes)),
                     ("total", sum(sizes))):
        framer.buf += enc_str(key) + MEMOIZE
        memo += 1
        if isinstance(val, str):
            framer.buf += enc_str(val) + MEMOIZE
            memo += 1
        else:
            framer.buf += enc_int(val)
    framer.buf += SETITEMS
    for j, size in enumerate(sizes):
        kind = j % 3
        if kind == 0:  # what CPython writes for bytes < 4 GiB
            header = BINBYTES + struct.pack("<I", size)
        elif kind == 1:  # what CPython writes for bytes >= 4 GiB
            header = BINBYTES8 + struct.pack("<Q", size)
        else:  # bytearray, protocol 5
            header = BYTEARRAY8 + struct.pack("<Q", size)
        framer.large(header, size, sparse)
        framer.buf += MEMOIZE
    framer.buf += APPENDS + STOP
    framer.commit()
    out.truncate(framer.written)
    return len(sizes)


# --------------------------------------------------------------------------------------------
# small/


def small_object(rng: random.Random, proto: int):
    """Plain builtin data, 200 B - ~8 KB pickled. Bytes only for protocol >= 3 (earlier
    protocols pickle bytes through a _codecs.encode call)."""
    kind = rng.randrange(6)
    word = lambda: "".join(rng.choice("abcdefghijklmnopqrstuvwxyz_") for _ in range(rng.randint(3, 12)))
    if kind == 0:  # model config
        cfg = {"model_type": word(), "hidden_size": rng.choice([128, 256, 768, 1024]),
               "num_layers": rng.randint(1, 48), "dropout": rng.random() / 2,
               "activation": rng.choice(["gelu", "relu", "silu"]), "vocab_size": rng.randint(1000, 60000),
               "tie_embeddings": rng.random() < 0.5, "layer_norm_eps": 1e-5, "extra": None}
        for _ in range(rng.randint(0, 40)):
            cfg[word()] = rng.choice([rng.randint(-5, 10**6), rng.random(), word(), True, None])
        return cfg
    if kind == 1:  # training history
        return {"epoch": rng.randint(1, 100),
                "loss": [rng.random() for _ in range(rng.randint(10, 400))],
                "lr": [1e-3 * rng.random() for _ in range(rng.randint(1, 50))]}
    if kind == 2:  # vocabulary
        return {word(): j for j in range(rng.randint(10, 300))}
    if kind == 3:  # nested records
        return [(j, word(), rng.random(), [rng.randint(0, 9) for _ in range(rng.randint(0, 8))])
                for j in range(rng.randint(5, 120))]
    if kind == 4:  # label map with big ints
        return {"labels": [word() for _ in range(rng.randint(5, 80))],
                "seed": rng.getrandbits(rng.randint(8, 200)), "shape": (rng.randint(1, 4096),) * 3}
    obj = {"name": word(), "version": (1, rng.randint(0, 20), rng.randint(0, 99)),
           "notes": " ".join(word() for _ in range(rng.randint(5, 200)))}
    if proto >= 3:
        obj["blob"] = rng.randbytes(rng.randint(16, 2048))
    return obj


def write_small(directory: str, count: int) -> int:
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(20240601)
    total = 0
    for n in range(count):
        proto = n % 6
        data = pickle.dumps(small_object(rng, proto), protocol=proto)
        path = os.path.join(directory, f"small-{n:04d}.pkl")
        with open(path, "wb") as fh:
            fh.write(data)
        total += len(data)
    return total


def small_dir_size(directory: str, count: int) -> int | None:
    total = 0
    for n in range(count):
        try:
            total += os.path.getsize(os.path.join(directory, f"small-{n:04d}.pkl"))
        except OSError:
            return None
    if len(os.listdir(directory)) != count:
        return None
    return total


# --------------------------------------------------------------------------------------------


def selftest() -> None:
    # 1. The dense encoder matches CPython's pickler byte for byte (framing included).
    for count in (0, 1, 2, 999, 1000, 1001, 2500, 25_000):
        buf = io.BytesIO()
        write_dense(buf, count=count)
        ours = buf.getvalue()
        ref = pickle.dumps([dense_item(i) for i in range(count)], protocol=4)
        if ours != ref:
            pos = next((k for k in range(min(len(ours), len(ref))) if ours[k] != ref[k]), None)
            sys.exit(f"selftest: dense encoder differs from pickle.dumps for {count} items "
                     f"(len {len(ours)} vs {len(ref)}, first difference at {pos})")
    print("selftest: dense encoder == pickle.dumps(protocol=4) for up to 25,000 items")
    # 1b. So does the objects encoder (lists of OrderedDicts). Written, never loaded.
    for count in (1, 2, 10, 1001, 25_000):
        buf = io.BytesIO()
        write_dense(buf, count=count, objects=True)
        if buf.getvalue() != pickle.dumps([objects_item(i) for i in range(count)], protocol=4):
            sys.exit(f"selftest: objects encoder differs from pickle.dumps for {count} items")
    print("selftest: objects encoder == pickle.dumps(protocol=4) for up to 25,000 items")
    # 2. pickletools.dis accepts small versions of each input (it checks stack, marks, memo).
    buf = io.BytesIO()
    write_dense(buf, count=3000)
    pickletools.dis(buf.getvalue(), out=io.StringIO())
    buf = io.BytesIO()
    write_payload(buf, total_bytes=300 * 1024, sparse=False, scale=1024)
    text = io.StringIO()
    pickletools.dis(buf.getvalue(), out=text)
    for op in ("BINBYTES ", "BINBYTES8", "BYTEARRAY8", "FRAME"):
        if op not in text.getvalue():
            sys.exit(f"selftest: payload pickle lacks {op}")
    rng = random.Random(1)
    for n in range(60):
        pickletools.dis(pickle.dumps(small_object(rng, n % 6), protocol=n % 6), out=io.StringIO())
    print("selftest: pickletools.dis accepts dense, payload and small samples")


def write_yaml(path: str, layers: int) -> int:
    """A Hydra/NeMo-shaped config: `layers` mappings, each with a framework _target_, an
    interpolated target and interpolations into its neighbour (below mscan's node cap)."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("defaults: &d {bias: true, dtype: float32}\nclasses:\n"
                 "  linear: torch.nn.Linear\n")
        for i in range(layers):
            prev = max(i - 1, 0)
            fh.write(f"layer_{i}:\n  <<: *d\n  _target_: ${{classes.linear}}\n"
                     f"  in_features: ${{layer_{prev}.out_features}}\n  out_features: {i}\n"
                     f"  act: {{_target_: torch.nn.ReLU}}\n")
    return os.path.getsize(path)


def write_template(path: str) -> int:
    """A 1 MiB chat template (the check's cap) of realistic message-formatting blocks, set
    blocks, macros and filters: the template check's worst ordinary input."""
    block = ("{%- for message in messages %}{%- set role = message['role'] %}"
             "{%- if role == 'system' %}{{ '<|system|>\n' + message['content'] | trim }}"
             "{%- elif message.tool_calls is defined %}{%- for call in message.tool_calls %}"
             "{{ call.function.name ~ '(' ~ call.function.arguments | tojson ~ ')' }}"
             "{%- endfor %}{%- else %}{{ '<|' ~ role ~ '|>\n' ~ message['content'] }}"
             "{%- endif %}{%- endfor %}{% set ns = namespace(n=0) %}"
             "{% macro m(x) %}{{ x | upper }}{% endmacro %}{{ m(bos_token) }}\n")
    text = block * ((1 << 20) // len(block))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return os.path.getsize(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    ap.add_argument("--only", default="dense,objects,payload,small,torchzip,joblibz,safetensors,kerash5,gguf,yaml,template", help="comma list of inputs to make")
    ap.add_argument("--dense-mb", type=int, default=200, help="dense.pkl and objects.pkl size, MiB (default 200)")
    ap.add_argument("--payload-mb", type=int, default=1100, help="payload.pkl size, MiB (default 1100)")
    ap.add_argument("--small-count", type=int, default=1000)
    ap.add_argument("--no-sparse", action="store_true", help="write payload zeros instead of holes")
    ap.add_argument("--force", action="store_true", help="rewrite even if up to date")
    ap.add_argument("--selftest", action="store_true", help="validate the encoders and exit")
    args = ap.parse_args()

    if args.selftest:
        selftest()
        return

    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    try:
        with open(manifest_path) as fh:
            manifest = json.load(fh)
    except (OSError, ValueError):
        manifest = {}

    def up_to_date(name, params, actual_size):
        entry = manifest.get(name)
        return (not args.force and entry is not None and entry.get("params") == params
                and actual_size is not None and entry.get("size") == actual_size)

    def size_of(path):
        try:
            return os.path.getsize(path)
        except OSError:
            return None

    def record(name, params, size, **extra):
        manifest[name] = {"params": params, "size": size, **extra}
        with open(manifest_path + ".tmp", "w") as fh:
            json.dump(manifest, fh, indent=2, sort_keys=True)
        os.replace(manifest_path + ".tmp", manifest_path)

    wanted = set(args.only.split(","))

    if "dense" in wanted:
        path = os.path.join(args.out, "dense.pkl")
        params = {"version": 1, "mib": args.dense_mb}
        if up_to_date("dense.pkl", params, size_of(path)):
            print(f"dense.pkl: up to date ({size_of(path):,} bytes)")
        else:
            t = time.time()
            with open(path + ".tmp", "wb") as fh:
                items = write_dense(fh, target_bytes=args.dense_mb * MiB)
            os.replace(path + ".tmp", path)
            record("dense.pkl", params, size_of(path), items=items)
            print(f"dense.pkl: {size_of(path):,} bytes, {items:,} items ({time.time() - t:.1f}s)")

    if "objects" in wanted:
        path = os.path.join(args.out, "objects.pkl")
        params = {"version": 1, "mib": args.dense_mb}
        if up_to_date("objects.pkl", params, size_of(path)):
            print(f"objects.pkl: up to date ({size_of(path):,} bytes)")
        else:
            t = time.time()
            with open(path + ".tmp", "wb") as fh:
                items = write_dense(fh, target_bytes=args.dense_mb * MiB, objects=True)
            os.replace(path + ".tmp", path)
            record("objects.pkl", params, size_of(path), items=items)
            print(f"objects.pkl: {size_of(path):,} bytes, {items:,} items ({time.time() - t:.1f}s)")

    if "torchzip" in wanted:
        path = os.path.join(args.out, "torchzip.pt")
        params = {"version": 1, "tensor_mib": 1024}
        if up_to_date("torchzip.pt", params, size_of(path)):
            print(f"torchzip.pt: up to date ({size_of(path):,} bytes)")
        else:
            t = time.time()
            size = write_torchzip(path + ".tmp", 1024 * MiB)
            os.replace(path + ".tmp", path)
            record("torchzip.pt", params, size)
            print(f"torchzip.pt: {size:,} bytes ({time.time() - t:.1f}s)")

    if "safetensors" in wanted:
        path = os.path.join(args.out, "model.safetensors")
        params = {"version": 1, "data_mib": 2048}
        if up_to_date("model.safetensors", params, size_of(path)):
            print(f"model.safetensors: up to date ({size_of(path):,} bytes)")
        else:
            t = time.time()
            size = write_safetensors(path + ".tmp", 2048 * MiB)
            os.replace(path + ".tmp", path)
            record("model.safetensors", params, size)
            print(f"model.safetensors: {size:,} bytes ({time.time() - t:.1f}s)")

    if "gguf" in wanted:
        path = os.path.join(args.out, "model.gguf")
        params = {"version": 1, "model": "llama3-8b-q4_k_m"}
        if up_to_date("model.gguf", params, size_of(path)):
            print(f"model.gguf: up to date ({size_of(path):,} bytes)")
        else:
            t = time.time()
            size = write_gguf(path + ".tmp")
            os.replace(path + ".tmp", path)
            record("model.gguf", params, size)
            print(f"model.gguf: {size:,} bytes ({time.time() - t:.1f}s)")

    if "yaml" in wanted:
        path = os.path.join(args.out, "model_config.yaml")
        params = {"version": 1, "layers": 50_000}
        if up_to_date("model_config.yaml", params, size_of(path)):
            print(f"model_config.yaml: up to date ({size_of(path):,} bytes)")
        else:
            size = write_yaml(path, 50_000)
            record("model_config.yaml", params, size)
            print(f"model_config.yaml: {size:,} bytes")

    if "template" in wanted:
        path = os.path.join(args.out, "chat_template.jinja")
        params = {"version": 1}
        if up_to_date("chat_template.jinja", params, size_of(path)):
            print(f"chat_template.jinja: up to date ({size_of(path):,} bytes)")
        else:
            size = write_template(path)
            record("chat_template.jinja", params, size)
            print(f"chat_template.jinja: {size:,} bytes")

    if "kerash5" in wanted:
        path = os.path.join(args.out, "model.h5")
        params = {"version": 1, "data_mib": 2048}
        if up_to_date("model.h5", params, size_of(path)):
            print(f"model.h5: up to date ({size_of(path):,} bytes)")
        else:
            t = time.time()
            size = write_keras_h5(path + ".tmp", 2048 * MiB)
            os.replace(path + ".tmp", path)
            record("model.h5", params, size)
            print(f"model.h5: {size:,} bytes ({time.time() - t:.1f}s)")

    if "joblibz" in wanted:
        path = os.path.join(args.out, "joblib.z")
        params = {"version": 1, "mib": 500}
        if up_to_date("joblib.z", params, size_of(path)):
            print(f"joblib.z: up to date ({size_of(path):,} bytes)")
        else:
            t = time.time()
            size = write_joblib_z(path + ".tmp", 500 * 10**6)
            os.replace(path + ".tmp", path)
            record("joblib.z", params, size)
            print(f"joblib.z: {size:,} bytes ({time.time() - t:.1f}s)")

    if "payload" in wanted:
        path = os.path.join(args.out, "payload.pkl")
        params = {"version": 1, "mib": args.payload_mb, "sparse": not args.no_sparse}
        if up_to_date("payload.pkl", params, size_of(path)):
            print(f"payload.pkl: up to date ({size_of(path):,} bytes)")
        else:
            t = time.time()
            with open(path + ".tmp", "wb") as fh:
                items = write_payload(fh, args.payload_mb * MiB, sparse=not args.no_sparse)
            os.replace(path + ".tmp", path)
            record("payload.pkl", params, size_of(path), items=items)
            print(f"payload.pkl: {size_of(path):,} bytes, {items} payloads ({time.time() - t:.1f}s)")

    if "small" in wanted:
        directory = os.path.join(args.out, "small")
        params = {"version": 1, "count": args.small_count}
        have = small_dir_size(directory, args.small_count) if os.path.isdir(directory) else None
        if up_to_date("small", params, have):
            print(f"small/: up to date ({args.small_count} files, {have:,} bytes)")
        else:
            t = time.time()
            if os.path.isdir(directory):
                for name in os.listdir(directory):
                    os.unlink(os.path.join(directory, name))
            total = write_small(directory, args.small_count)
            record("small", params, total, files=args.small_count)
            print(f"small/: {args.small_count} files, {total:,} bytes ({time.time() - t:.1f}s)")


if __name__ == "__main__":
    main()
