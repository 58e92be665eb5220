#!/usr/bin/python3
"""Write mscan's container samples (benign, hostile and anomalous) and their
manifest entries.

Containers are the formats that wrap pickles and arrays: PyTorch zip
checkpoints, TorchScript archives, legacy (pre-1.6) torch files, NumPy .npy and
.npz, joblib files, zip/tar/7z archives and single-stream compressed files.

Run from the repository root with Debian's interpreter, which has numpy 1.24,
torch 1.13 and joblib 1.2 (the pyenv `python3` first on PATH has none of them):

    /usr/bin/python3 samples/make_container_samples.py            # everything
    /usr/bin/python3 samples/make_container_samples.py --no-real  # stdlib part only
    /usr/bin/python3 samples/make_container_samples.py --crosscheck
        # also check that the hand-made torch zip, legacy, .npy and joblib
        # layouts are byte-identical to what the libraries write

Safety: nothing here ever loads a model. Hostile pickles are assembled opcode by
opcode with the assembler of make_samples.py, and their only command is
`echo mscan-sample`. The real libraries (torch.save, torch.jit.save, numpy.save,
joblib.dump) are only used to WRITE benign objects, in the section that
--no-real skips; their output is read back as raw bytes (zipfile, pickletools,
which disassembles without executing), never unpickled.

External tools: `7z` (Debian package p7zip-full), `zstd` and `lz4`. The stdlib
part works with any Python 3.8+, but only Debian's interpreter and these tool
versions give exactly the committed bytes (zlib, xz, zstd and 7z output can
change between library versions).

Output is deterministic: fixed timestamps, owners and modes in every archive
entry, no random salts, fixed storage keys; rerunning writes byte-identical
files. The script owns samples/containers/ (files there that it no longer
writes are removed) and the manifest entries under that prefix.
"""

import os
import sys

if __name__ == "__main__" and (os.environ.get("PYTHONHASHSEED") != "0"
                               or os.environ.get("OMP_NUM_THREADS") != "1"):
    # TorchScript's code generator emits class constants in set order, which
    # follows string hashing; pin it (and single-threaded math), then restart.
    os.environ["PYTHONHASHSEED"] = "0"
    os.environ["OMP_NUM_THREADS"] = "1"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse  # noqa: E402
import bz2  # noqa: E402
import gzip  # noqa: E402
import io  # noqa: E402
import lzma  # noqa: E402
import pickletools  # noqa: E402
import stat  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402

SAMPLES = Path(__file__).resolve().parent
ROOT = SAMPLES.parent
OUT = SAMPLES / "containers"
sys.path.insert(0, str(SAMPLES))

from make_samples import (CMD, MEDIUM_PLUS, Asm, Encoder, Global,  # noqa: E402
                          NewObj, PersId, Reduce, call, dumps, update_manifest)

MAX_SAMPLE = 200 * 1024
MAX_TOTAL = 3 * 1024 * 1024
GROUPS = ("torch", "torchscript", "legacy", "numpy", "joblib", "archive", "compressed")
KINDS = ("benign", "hostile", "anomaly")
FIXED_MTIME = 1704067200  # 2024-01-01T00:00:00Z, for tar and 7z entries

# Rule ids (rules/*.json)
EXEC = "process-execution"
CODE_EXEC = "code-execution"
TRUNCATED = "pickle-truncated"
INVALID_OPCODE = "pickle-invalid-opcode"
TRAILING = "pickle-trailing-data"
LIMIT = "container-not-scanned"
ZIP_DISAGREE = "zip-reader-disagreement"
POLYGLOT = "zip-polyglot"
UNSAFE_PATH = "archive-unsafe-path"
ENCRYPTED = "archive-encrypted"
MALFORMED = "archive-malformed"
RATIO = "archive-compression-ratio"
UNSUPPORTED = "unsupported-member"
TS_CODE = "torchscript-code"
NPY_OBJECT = "numpy-object-array"
NPY_MALFORMED = "numpy-malformed"
LEGACY_MALFORMED = "torch-legacy-malformed"
JOBLIB_MALFORMED = "joblib-malformed"


# --------------------------------------------------------------------------
# Sample registry
# --------------------------------------------------------------------------

class Sample:
    def __init__(self, group, kind, name, description, expect, forbid, builder, real):
        assert group in GROUPS and kind in KINDS, (group, kind)
        self.group, self.kind, self.name = group, kind, name
        self.description, self.builder, self.real = description, builder, real
        self.expect = sorted(set(expect))
        if forbid is None:
            forbid = [MEDIUM_PLUS] if kind == "benign" else []
        self.forbid = sorted(set(forbid))

    @property
    def path(self):
        return OUT / self.group / self.kind / self.name

    def entry(self):
        return {"path": self.path.relative_to(ROOT).as_posix(), "kind": self.kind,
                "group": self.group, "description": self.description,
                "expect": self.expect, "forbid": self.forbid}


REGISTRY = []


def sample(group, kind, name, description, expect=(), forbid=None, real=False):
    """Register a builder (a function returning the file's bytes)."""
    def register(builder):
        REGISTRY.append(Sample(group, kind, name, description, expect, forbid, builder, real))
        return builder
    return register


def real_sample(group, kind, name, description, expect=(), forbid=None):
    """A sample written by a real library (skipped with --no-real)."""
    return sample(group, kind, name, description, expect, forbid, real=True)


def checked(data):
    """A benign pickle, verified with pickletools.dis (which never executes)."""
    pickletools.dis(data, out=io.StringIO())
    return data


# --------------------------------------------------------------------------
# Pickles
# --------------------------------------------------------------------------

WEIGHT = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)  # nn.Linear(2, 2).weight, row-major
BIAS = struct.pack("<2f", 0.5, -0.5)
STORAGES = (WEIGHT, BIAS)


def state_dict(extra_items=(), legacy=False):
    """nn.Linear(2, 2).state_dict() as torch.save pickles it (protocol 2):
    OrderedDict + torch._utils._rebuild_tensor_v2, storages as BINPERSID tuples
    ('storage', torch.FloatStorage, key, 'cpu', numel) -- with a sixth element
    (view metadata, None) in the legacy format -- and the _metadata BUILD.
    `extra_items` are appended to the dict (where a payload hides)."""
    od = Global("collections", "OrderedDict")
    fstorage = Global("torch", "FloatStorage")

    def tensor(key, numel, size, stride):
        pid = ("storage", fstorage, key, "cpu", numel) + ((None,) if legacy else ())
        return Reduce(Global("torch._utils", "_rebuild_tensor_v2"),
                      (PersId(pid), 0, size, stride, False, Reduce(od, ())))

    metadata = Reduce(od, (), dictitems=[("", {"version": 1})])
    items = [("weight", tensor("0", 4, (2, 2), (2, 1))),
             ("bias", tensor("1", 2, (2,), (1,)))] + list(extra_items)
    return dumps(Reduce(od, (), state={"_metadata": metadata}, dictitems=items), 2)


BENIGN_SD = checked(state_dict())
# The payload sits in the state dict itself, so the checkpoint still "loads".
HOSTILE_SD = state_dict([("_hook", call("posix", "system", CMD))])
OS_SYSTEM = dumps(call("os", "system", CMD), 2)
BENIGN_PICKLE = checked(dumps({"epoch": 3, "lr": 0.01, "layers": [4, 8, 2]}, 4))
HOSTILE_PICKLE = dumps({"epoch": 3, "hook": call("os", "system", CMD)}, 4)


# --------------------------------------------------------------------------
# Zip writer: every field under control (the malformed samples need that)
# --------------------------------------------------------------------------

LOCAL = struct.Struct("<IHHHHHIIIHH")
CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
EOCD = struct.Struct("<IHHHHIIH")
ZIP64_EOCD = struct.Struct("<IQHHIIQQQQ")
ZIP64_LOCATOR = struct.Struct("<IIQI")
SIG_LOCAL, SIG_CENTRAL, SIG_EOCD = 0x04034B50, 0x02014B50, 0x06054B50
SIG_ZIP64_EOCD, SIG_ZIP64_LOCATOR, SIG_DESCRIPTOR = 0x06064B50, 0x07064B50, 0x08074B50
DOS_DATE_1980 = (1 << 5) | 1  # 1980-01-01
FLAG_ENCRYPTED, FLAG_DESCRIPTOR, FLAG_PATCHED, FLAG_STRONG, FLAG_UTF8 = 1, 8, 0x20, 0x40, 0x800
STORED, DEFLATED = 0, 8
TORCH_ALIGN = 64


def deflate(data, level=6):
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


class Entry:
    """One zip member. By default both headers describe the real data.
    local_name / local_flags make the local header disagree with the central
    one; crc, usize and csize change what every header (and the data
    descriptor) declares; same_offset_as makes the central entry point at an
    earlier member's local header instead of writing one of its own."""

    def __init__(self, name, data=b"", method=STORED, **kw):
        self.name, self.data, self.method = name, data, method
        self.compressed = kw.pop("compressed", None)  # raw member bytes
        self.local_name = kw.pop("local_name", None)
        self.flags = kw.pop("flags", 0)
        self.local_flags = kw.pop("local_flags", None)
        self.crc = kw.pop("crc", None)  # both headers (and descriptor)
        self.descriptor = kw.pop("descriptor", False)
        self.align = kw.pop("align", False)  # torch's 'FB' padding extra field
        self.version_made = kw.pop("version_made", 20)
        self.version_needed = kw.pop("version_needed", 20)
        self.time = kw.pop("time", 0)
        self.date = kw.pop("date", DOS_DATE_1980)
        self.external_attr = kw.pop("external_attr", 0)
        self.zip64 = kw.pop("zip64", False)
        self.same_offset_as = kw.pop("same_offset_as", None)  # index: share a local header
        self.usize = kw.pop("usize", None)  # declared sizes (every header) if not the real ones
        self.csize = kw.pop("csize", None)
        if kw:
            raise TypeError(f"unknown Entry fields {sorted(kw)}")
        self._payload = None

    def payload(self):
        if self.compressed is not None:
            return self.compressed
        if self._payload is None:
            self._payload = deflate(self.data) if self.method == DEFLATED else self.data
        return self._payload

    def sizes(self):
        """(compressed, uncompressed) sizes as the headers declare them."""
        csize = len(self.payload()) if self.csize is None else self.csize
        usize = len(self.data) if self.usize is None else self.usize
        return csize, usize


def torch_style(entry):
    """Fields as torch's writer (miniz via PyTorchStreamWriter) sets them:
    versions 0, DOS time/date 0, flags 0x0808 (data descriptor + UTF-8), CRC
    and sizes 0 in the local header with a 16-byte data descriptor after the
    data, data aligned to 64 bytes by an 'FB' extra field in the local header
    only, nothing in the central extra field."""
    entry.version_made = entry.version_needed = 0
    entry.time = entry.date = 0
    entry.flags |= FLAG_DESCRIPTOR | FLAG_UTF8
    entry.descriptor = True
    entry.align = True
    return entry


def build_zip(entries, lead=b"", lead_in_offsets=False, trail=b"", eocd64="auto",
              comment=b""):
    """Lay out a zip archive. Returns (bytes, layout dict with offsets).

    lead: bytes before the first local header. With lead_in_offsets the
    recorded offsets count them (as `zip -A` writes a self-extractor), without
    they do not (as `cat lead.bin archive.zip` makes).
    eocd64: "torch" writes a zip64 end record + locator before the classic end
    record with real values in the latter (miniz always does), "force" also
    puts 0xFFFF/0xFFFFFFFF in the classic record, "auto" writes zip64 records
    only when an entry is zip64, "none" never.
    """
    out = bytearray(lead)
    base = 0 if lead_in_offsets else len(lead)
    local_offsets = []
    for e in entries:
        if e.same_offset_as is not None:
            local_offsets.append(local_offsets[e.same_offset_as])
            continue
        offset = len(out) - base
        local_offsets.append(offset)
        comp = e.payload()
        crc = zlib.crc32(e.data) if e.crc is None else e.crc
        lname = (e.local_name if e.local_name is not None else e.name).encode("utf-8")
        lflags = e.flags if e.local_flags is None else e.local_flags
        extra = b""
        csize, usize = e.sizes()
        lcrc, lcs, lus = (0, 0, 0) if e.descriptor else (crc, csize, usize)
        if e.zip64:
            extra += struct.pack("<HHQQ", 1, 16, usize, csize)
            lcs = lus = 0xFFFFFFFF
        if e.align:
            # PyTorchStreamWriter: padding so the data starts at a multiple of 64
            start = offset + LOCAL.size + len(lname) + len(extra) + 4
            pad = -start % TORCH_ALIGN
            extra += b"FB" + struct.pack("<H", pad) + b"Z" * pad
        out += LOCAL.pack(SIG_LOCAL, e.version_needed, lflags, e.method, e.time, e.date,
                          lcrc, lcs, lus, len(lname), len(extra))
        out += lname + extra + comp
        if e.descriptor:
            fmt = "<IIQQ" if e.zip64 else "<IIII"
            out += struct.pack(fmt, SIG_DESCRIPTOR, crc, csize, usize)
    cd_offset = len(out) - base
    cd_entries = []
    for e, offset in zip(entries, local_offsets):
        cd_entries.append(len(out) - base)
        crc = zlib.crc32(e.data) if e.crc is None else e.crc
        name = e.name.encode("utf-8")
        csize, usize = e.sizes()
        extra = b""
        if e.zip64:
            extra = struct.pack("<HHQQQ", 1, 24, usize, csize, offset)
            usize = csize = offset = 0xFFFFFFFF
        out += CENTRAL.pack(SIG_CENTRAL, e.version_made, e.version_needed, e.flags, e.method,
                            e.time, e.date, crc, csize, usize, len(name), len(extra), 0, 0, 0,
                            e.external_attr, offset)
        out += name + extra
    cd_size = len(out) - base - cd_offset
    layout = {"local": local_offsets, "cd": cd_offset, "cd_entries": cd_entries,
              "base": base, "zip64_eocd": None}
    n = len(entries)
    if eocd64 == "auto":
        eocd64 = "force" if any(e.zip64 for e in entries) else "none"
    if eocd64 in ("torch", "force"):
        layout["zip64_eocd"] = len(out) - base
        out += ZIP64_EOCD.pack(SIG_ZIP64_EOCD, 44, 0x031E, 45, 0, 0, n, n, cd_size, cd_offset)
        out += ZIP64_LOCATOR.pack(SIG_ZIP64_LOCATOR, 0, layout["zip64_eocd"], 1)
    layout["eocd"] = len(out) - base
    if eocd64 == "force":
        out += EOCD.pack(SIG_EOCD, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
    else:
        out += EOCD.pack(SIG_EOCD, 0, 0, n, n, cd_size, cd_offset, len(comment))
    out += comment + trail
    return bytes(out), layout


# torch 2.x writes a random decimal id; a fixed one keeps the output reproducible
SERIALIZATION_ID = b"0000000000000000000000000000000000000001"


def torch_entries(prefix="archive", pkl=BENIGN_SD, storages=STORAGES, modern=False):
    """The members of a torch.save zip, in the writer's order. torch 1.13
    writes data.pkl, data/<key>..., version; torch 2.x adds byteorder and
    .data/serialization_id (`modern`)."""
    entries = [Entry(f"{prefix}/data.pkl", pkl)]
    if modern:
        entries.append(Entry(f"{prefix}/byteorder", b"little"))
    entries += [Entry(f"{prefix}/data/{i}", s) for i, s in enumerate(storages)]
    entries.append(Entry(f"{prefix}/version", b"3\n"))
    if modern:
        entries.append(Entry(f"{prefix}/.data/serialization_id", SERIALIZATION_ID))
    return entries




def torch_zip(entries, **kw):
    """A zip laid out exactly as torch's writer lays it out (byte-identical to
    torch 1.13's torch.save for the same members; see --crosscheck)."""
    data, _ = build_zip([torch_style(e) for e in entries], eocd64="torch", **kw)
    return data


def torch_zip_layout(entries, **kw):
    return build_zip([torch_style(e) for e in entries], eocd64="torch", **kw)


def stdlib_torch_zip(prefix, pkl=BENIGN_SD, modern=True):
    """A torch checkpoint written with zipfile (as a third-party tool would):
    stored members, data aligned to 64 bytes with the 'FB' extra field (which
    zipfile also copies into the central directory), 1980-01-01 timestamps."""
    members = [(e.name, e.data) for e in torch_entries(prefix, pkl, modern=modern)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            start = buf.tell() + LOCAL.size + len(name.encode()) + 4
            pad = -start % TORCH_ALIGN
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            zf.writestr(info, data)
    return buf.getvalue()


def plain_zip(members, method=zipfile.ZIP_DEFLATED):
    """A zip written by zipfile; members: [(name, bytes)] in order."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


# ZipCrypto (traditional PKWARE encryption), so the encrypted sample really is
# encrypted and Python's zipfile can decrypt it with the password.
def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def zipcrypto(data, password, crc, seed):
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc_byte(c, b):
        return CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)

    def update(b):
        keys[0] = crc_byte(keys[0], b)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_byte(keys[2], keys[1] >> 24)

    for b in password:
        update(b)
    # 11 fixed "random" bytes, then the check byte (high byte of the CRC)
    header = bytes((seed * 37 + i * 101) & 0xFF for i in range(11)) + bytes([crc >> 24])
    out = bytearray()
    for b in header + data:
        t = (keys[2] | 2) & 0xFFFF
        out.append(b ^ (((t * (t ^ 1)) >> 8) & 0xFF))
        update(b)
    return bytes(out)


# --------------------------------------------------------------------------
# Other containers
# --------------------------------------------------------------------------

def gz(data, level=9):
    return gzip.compress(data, compresslevel=level, mtime=0)


def xz(data):
    return lzma.compress(data, format=lzma.FORMAT_XZ, preset=6)


def run_tool(args, data):
    """Compress `data` with a command-line tool reading a file (so the frame
    records the content size) and return its standard output."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "model.pkl"
        src.write_bytes(data)
        return subprocess.run(args + [str(src)], check=True, capture_output=True).stdout


def zstd(data):
    return run_tool(["zstd", "-19", "-q", "-c", "--no-progress"], data)


def lz4(data):
    return run_tool(["lz4", "-9", "-q", "-c"], data)


def tar_info(name, size=0, kind=tarfile.REGTYPE, linkname="", mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.type, info.linkname, info.mode = size, kind, linkname, mode
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def tar(members):
    """A GNU-format tar; members: (name, bytes) or TarInfo for links."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tf.addfile(m)
            else:
                name, data = m
                tf.addfile(tar_info(name, len(data)), io.BytesIO(data))
    return buf.getvalue()


def seven_zip(members):
    """A .7z written by the 7z tool with fixed options; members: (name, bytes).
    Times are switched off and modes fixed so the output is reproducible."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        names = []
        for name, data in members:
            path = src / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(0o644)
            os.utime(path, (FIXED_MTIME, FIXED_MTIME))
            names.append(name)
        for d in sorted({p for p in src.rglob("*") if p.is_dir()}, reverse=True):
            d.chmod(0o755)
            os.utime(d, (FIXED_MTIME, FIXED_MTIME))
        out = Path(tmp) / "out.7z"
        subprocess.run(["7z", "a", "-t7z", "-mx=9", "-m0=LZMA2", "-mmt=1", "-ms=on",
                        "-mtm=off", "-mtc=off", "-mta=off", "-bd", "-bso0", "-bsp0",
                        str(out)] + names, cwd=src, check=True)
        return out.read_bytes()


# --------------------------------------------------------------------------
# NumPy .npy
# --------------------------------------------------------------------------

ARRAY_ALIGN = 64
GROWTH_AXIS_MAX_DIGITS = 21


def npy_header_text(descr, fortran, shape):
    """The header dict exactly as numpy 1.24's _write_array_header writes it:
    sorted keys, repr values, trailing ', ', then spare spaces for growing
    the first (C) / last (Fortran) axis."""
    d = {"descr": descr, "fortran_order": fortran, "shape": shape}
    text = "{" + "".join("'%s': %s, " % (k, repr(d[k])) for k in sorted(d)) + "}"
    if shape:
        text += " " * (GROWTH_AXIS_MAX_DIGITS - len(repr(shape[-1 if fortran else 0])))
    return text


def npy(descr, shape, body, fortran=False, version=(1, 0), header_text=None,
        declared_len=None):
    """An .npy file: magic, version, header length (u16 for 1.0, u32 for 2.0
    and 3.0), the header (latin-1; UTF-8 in 3.0) padded with spaces and a
    newline to a multiple of 64 bytes, then the data (or a pickle)."""
    text = header_text if header_text is not None else npy_header_text(descr, fortran, shape)
    raw = text.encode("utf-8" if version == (3, 0) else "latin-1")
    fmt = "<H" if version == (1, 0) else "<I"
    hlen = len(raw) + 1
    pad = ARRAY_ALIGN - ((8 + struct.calcsize(fmt) + hlen) % ARRAY_ALIGN)
    header = raw + b" " * pad + b"\n"
    length = len(header) if declared_len is None else declared_len
    return b"\x93NUMPY" + bytes(version) + struct.pack(fmt, length) + header + body


_DTYPES = {}


def dtype_obj(code, order, elsize_flags=0):
    """numpy.dtype(code, False, True) + BUILD state, as numpy pickles a dtype.
    One object per dtype, as numpy's built-in dtypes are singletons (a second
    array of the same dtype pickles it as a memo GET)."""
    key = (code, order, elsize_flags)
    if key not in _DTYPES:
        _DTYPES[key] = Reduce(Global("numpy", "dtype"), (code, False, True),
                              state=(3, order, None, None, None, -1, -1, elsize_flags))
    return _DTYPES[key]


def object_array_pickle(items):
    """numpy.array(items, dtype=object) pickled the way numpy.save does it
    (protocol 3): _reconstruct(ndarray, (0,), b'b') + BUILD with the list of
    elements. A REDUCE among `items` runs when the array is loaded."""
    arr = Reduce(Global("numpy.core.multiarray", "_reconstruct"),
                 (Global("numpy", "ndarray"), (0,), b"b"),
                 state=(1, (len(items),), dtype_obj("O8", "|", 63), False, list(items)))
    return dumps(arr, 3)


# --------------------------------------------------------------------------
# joblib
# --------------------------------------------------------------------------

class Array:
    """A numpy array as joblib.dump writes it: a NumpyArrayWrapper pickled in
    place of the array, then (outside any FRAME) the array's bytes."""

    def __init__(self, code, endian, shape, data, elsize_flags=0, alignment=16,
                 obj_pickle=None):
        # code/endian/elsize_flags: the dtype as numpy pickles it ('f8', '<', 0)
        self.code, self.endian, self.shape, self.data = code, endian, shape, data
        self.elsize_flags, self.alignment = elsize_flags, alignment
        self.obj_pickle = obj_pickle  # object dtype: the nested pickle

    def wrapper(self):
        # a fresh tuple per wrapper: numpy's shapes are distinct objects, so the
        # pickler never memo-shares them (Python would share equal literals)
        state = {"subclass": Global("numpy", "ndarray"), "shape": tuple(list(self.shape)),
                 "order": "C", "dtype": dtype_obj(self.code, self.endian, self.elsize_flags),
                 "allow_mmap": self.obj_pickle is None}
        if self.alignment != "absent":  # joblib <= 1.1 wrote no such key
            state["numpy_array_alignment_bytes"] = self.alignment
        return NewObj(Global("joblib.numpy_pickle", "NumpyArrayWrapper"), (), state=state)


class JoblibEncoder(Encoder):
    """Encoder that records where joblib would write array bytes."""

    def __init__(self, asm):
        super().__init__(asm, 4)
        self.cuts = []  # (offset in the opcode stream, Array)

    def save(self, obj):
        if isinstance(obj, Array):
            super().save(obj.wrapper())
            self.cuts.append((len(self.a.buf), obj))
            return
        super().save(obj)


def joblib_raw(value):
    """joblib.dump(value) as joblib 1.2 writes it (protocol 4): the pickler
    commits the current FRAME right after each wrapper's BUILD; then, for a
    plain dtype, one byte holding the padding length p (1..16, so that the
    array starts at a multiple of 16 in the uncompressed stream), p bytes 0xFF
    and the array bytes; for an object dtype a complete nested protocol-2
    pickle of the array instead. The next opcodes open a new FRAME."""
    body = Asm()
    enc = JoblibEncoder(body)
    enc.save(value)
    body.STOP()
    data = body.data()
    out = bytearray(b"\x80\x04")
    start = 0

    def frame(chunk):
        if len(chunk) >= 4:
            out.extend(b"\x95" + struct.pack("<Q", len(chunk)))
        out.extend(chunk)

    for cut, arr in enc.cuts:
        frame(data[start:cut])
        start = cut
        if arr.obj_pickle is not None:
            out.extend(arr.obj_pickle)
            continue
        if arr.alignment not in ("absent", None):
            pad = arr.alignment - (len(out) + 1) % arr.alignment
            out.extend(bytes([pad]) + b"\xff" * pad)
        out.extend(arr.data)
    frame(data[start:])
    return bytes(out)


def joblib_zlib(data, level=3):
    """joblib's BinaryZlibFile: a zlib stream (wbits 15), level 3 by default."""
    c = zlib.compressobj(level, zlib.DEFLATED, 15, zlib.DEF_MEM_LEVEL, 0)
    return c.compress(data) + c.flush()


def joblib_gzip(data, level=3):
    """joblib's BinaryGzipFile: zlib with wbits 31 (gzip header, mtime 0, OS 3)."""
    c = zlib.compressobj(level, zlib.DEFLATED, 31, zlib.DEF_MEM_LEVEL, 0)
    return c.compress(data) + c.flush()


def f32(*values):
    return struct.pack(f"<{len(values)}f", *values)


def f64(*values):
    return struct.pack(f"<{len(values)}d", *values)


JOBLIB_BENIGN = {
    "coef": Array("f8", "<", (2, 3), f64(0.5, -1.25, 2.0, 0.0, 3.5, -0.75)),
    "intercept": Array("f4", "<", (2,), f32(0.1, -0.1)),
    "classes": Array("i8", "<", (2,), struct.pack("<2q", 0, 1)),
    "n_iter": 12,
    "name": "mscan-joblib-sample",
}


# ==========================================================================
# Samples: PyTorch zip (group torch)
# ==========================================================================

@sample("torch", "benign", "state_dict_torch_layout.pt",
        "nn.Linear(2,2) state dict in a zip laid out byte for byte as torch 1.13's "
        "torch.save writes it: prefix 'archive', members data.pkl, data/0, data/1, "
        "version; stored, flags 0x0808, data descriptors, 'FB' alignment extra field "
        "(64 bytes), zip64 end record + locator before the end record")
def _():
    return torch_zip(torch_entries())


@sample("torch", "benign", "state_dict_stdlib.pt",
        "the same state dict written with Python's zipfile in torch 2.x's layout "
        "(data.pkl, byteorder, data/0, data/1, version, .data/serialization_id), "
        "stored, data aligned to 64 bytes with an 'FB' extra field in both headers")
def _():
    return stdlib_torch_zip("archive")


for _ext in (".bin", ".ckpt", ""):
    sample("torch", "benign", f"model_weights{_ext}",
           f"torch zip (zipfile, torch 2.x layout) with record prefix 'model_weights' "
           f"saved as {'no extension' if not _ext else _ext}: must be found by "
           f"content, not by name")(lambda: stdlib_torch_zip("model_weights"))


@sample("torch", "benign", "zip64_forced.pt",
        "benign torch zip where every member carries zip64 extra fields (local sizes "
        "and central sizes/offset 0xFFFFFFFF) and the end record is all 0xFFFF/"
        "0xFFFFFFFF, pointing to a zip64 end record: legal, every reader must follow it",
        forbid=[MEDIUM_PLUS, MALFORMED])
def _():
    entries = torch_entries()
    for e in entries:
        e.zip64 = True
        e.version_needed = e.version_made = 45
    return build_zip(entries, eocd64="force")[0]


@sample("torch", "hostile", "data_pkl_os_system.pt",
        "torch zip whose archive/data.pkl is the state dict plus an extra item "
        "posix.system('echo mscan-sample') (REDUCE inside the OrderedDict)", [EXEC])
def _():
    return torch_zip(torch_entries(pkl=HOSTILE_SD))


@sample("torch", "hostile", "payload_in_json_member.pt",
        "benign archive/data.pkl, and an os.system pickle stored as "
        "archive/extra/config.json: a pickle in a member not named .pkl must be "
        "found by content (CVE-2025-1889 class)", [EXEC])
def _():
    entries = torch_entries()
    entries.insert(-1, Entry("archive/extra/config.json", OS_SYSTEM))
    return torch_zip(entries)


@sample("torch", "hostile", "data_pkl_deflated.pt",
        "hostile archive/data.pkl compressed with deflate instead of stored "
        "(torch's reader inflates it)", [EXEC])
def _():
    entries = torch_entries(pkl=HOSTILE_SD)
    entries[0].method = DEFLATED
    return torch_zip(entries)


@sample("torch", "hostile", "local_name_mismatch.pt",
        "CVE-2025-1944 class: the central directory names the hostile member "
        "archive/data.pkl (what torch.load looks up), its local header says "
        "archive/notes.txt; Python's zipfile raises 'File name in directory and "
        "header differ'", [EXEC, ZIP_DISAGREE])
def _():
    entries = torch_entries(pkl=HOSTILE_SD)
    entries[0].local_name = "archive/notes.txt"
    return torch_zip(entries)


@sample("torch", "hostile", "duplicate_benign_first.pt",
        "two central entries named archive/data.pkl: the first benign, the second "
        "hostile (torch 1.13 and Python's zipfile both load the second; a reader "
        "that takes the first sees only the benign one)", [EXEC, ZIP_DISAGREE])
def _():
    entries = torch_entries()
    entries.insert(1, Entry("archive/data.pkl", HOSTILE_SD))
    return torch_zip(entries)


@sample("torch", "hostile", "duplicate_hostile_first.pt",
        "two central entries named archive/data.pkl: the first hostile, the second "
        "benign (torch 1.13 and zipfile load the benign second one; first-entry "
        "readers and extractors that keep the first copy get the payload)",
        [EXEC, ZIP_DISAGREE])
def _():
    entries = torch_entries(pkl=HOSTILE_SD)
    entries.insert(1, Entry("archive/data.pkl", BENIGN_SD))
    return torch_zip(entries)


@sample("torch", "hostile", "duplicate_ignoring_case.pt",
        "benign archive/data.pkl, then a hostile archive/DATA.PKL: miniz (torch's "
        "zip reader) looks names up ignoring case, so torch 1.13 loads the hostile "
        "one, while Python's zipfile returns the exact-case benign one",
        [EXEC, ZIP_DISAGREE])
def _():
    entries = torch_entries()
    entries.insert(1, Entry("archive/DATA.PKL", HOSTILE_SD))
    return torch_zip(entries)


@sample("torch", "hostile", "uppercase_data_pkl.pt",
        "the only pickle member is archive/DATA.PKL (hostile): torch 1.13 finds it "
        "when it asks for data.pkl (case-insensitive lookup); a scanner that "
        "matches the name exactly skips it", [EXEC])
def _():
    entries = torch_entries(pkl=HOSTILE_SD)
    entries[0].name = "archive/DATA.PKL"
    return torch_zip(entries)


for _bit, _what in ((FLAG_ENCRYPTED, "encrypted (bit 0) though the data is plain"),
                    (FLAG_PATCHED, "compressed patched data (bit 5)"),
                    (FLAG_STRONG, "strong encryption (bit 6)")):
    def _flagged(bit=_bit):
        entries = torch_entries(pkl=HOSTILE_SD)
        entries[0].flags |= bit
        return torch_zip(entries)

    sample("torch", "hostile", f"flag_0x{_bit:02x}.pt",
           f"CVE-2025-1945 class: the hostile archive/data.pkl has general-purpose "
           f"flag 0x{_bit:02x} ({_what}) set in both headers, the data plain; "
           f"Python's zipfile refuses the member (it checks the central flags), "
           f"readers that ignore the flag load it (torch 1.13's miniz refuses it "
           f"too), so the bytes must be scanned whatever the flag says",
           [EXEC])(_flagged)


@sample("torch", "hostile", "flag_0x01_central_only.pt",
        "the encrypted flag (0x01) set on the hostile archive/data.pkl in the central "
        "directory only; the local header says 0x0808 and the data is plain: local "
        "and central headers disagree", [EXEC, ZIP_DISAGREE])
def _():
    entries = torch_entries(pkl=HOSTILE_SD)
    entries[0].flags |= FLAG_ENCRYPTED
    entries[0].local_flags = FLAG_DESCRIPTOR | FLAG_UTF8
    return torch_zip(entries)


@sample("torch", "hostile", "flag_0x20_local_only.pt",
        "flag 0x20 (compressed patched data) set on the hostile archive/data.pkl in "
        "the local header only: torch 1.13 and Python's zipfile both ignore local "
        "flags and load it; local and central headers disagree", [EXEC, ZIP_DISAGREE])
def _():
    entries = torch_entries(pkl=HOSTILE_SD)
    entries[0].local_flags = FLAG_DESCRIPTOR | FLAG_UTF8 | FLAG_PATCHED
    return torch_zip(entries)


@sample("torch", "hostile", "bad_crc.pt",
        "CVE-2025-10156 class: the CRC-32 recorded for the hostile archive/data.pkl "
        "(central directory and data descriptor) is wrong; Python's zipfile raises "
        "'Bad CRC-32' when reading it, torch does not check", [EXEC, ZIP_DISAGREE])
def _():
    entries = torch_entries(pkl=HOSTILE_SD)
    entries[0].crc = zlib.crc32(HOSTILE_SD) ^ 0xA5A5A5A5
    return torch_zip(entries)


@sample("torch", "hostile", "overlapping_members.pt",
        "two central entries share one local header: archive/data.pkl and "
        "archive/data/2 both point at the hostile pickle's bytes (torch 1.13 loads "
        "it through data.pkl; a scanner that skips data/* by name or dedups by "
        "offset must still scan it once)", [EXEC, ZIP_DISAGREE])
def _():
    entries = torch_entries(pkl=HOSTILE_SD)
    entries.insert(3, Entry("archive/data/2", HOSTILE_SD, same_offset_as=0))
    return torch_zip(entries)


@sample("torch", "hostile", "overlapping_partial.pt",
        "archive/data/0's central entry claims a size that runs over the next "
        "members' local headers, including the hostile archive/extra/state.pkl: the "
        "members' byte ranges overlap", [EXEC, ZIP_DISAGREE])
def _():
    entries = torch_entries()
    entries.insert(-1, Entry("archive/extra/state.pkl", OS_SYSTEM))
    _, layout = torch_zip_layout(entries)
    # data/0's declared size reaches 100 bytes into the local header + data of
    # archive/extra/state.pkl (entry 3); the offsets do not move
    entries[1].csize = entries[1].usize = layout["local"][3] + 100 - layout["local"][1]
    return torch_zip_layout(entries)[0]


@sample("torch", "hostile", "polyglot_pickle_then_zip.pt",
        "a hostile protocol-2 pickle (os.system) followed by a complete benign torch "
        "zip: the file does not start with PK\\x03\\x04, so torch.load reads it as a "
        "legacy checkpoint and unpickles the payload first; zip readers that search "
        "for the end record see only the benign zip", [EXEC, POLYGLOT])
def _():
    return OS_SYSTEM + torch_zip(torch_entries())


@sample("torch", "hostile", "polyglot_legacy_then_zip.pt",
        "a complete legacy checkpoint whose model pickle carries posix.system(...), "
        "followed by a complete benign torch zip: torch.load takes the legacy path "
        "(no PK at offset 0), runs the payload and returns a working state dict; "
        "Python's zipfile opens the benign zip", [EXEC, POLYGLOT])
def _():
    bad = legacy(model=state_dict([("_hook", call("posix", "system", CMD))], legacy=True))
    return bad + torch_zip(torch_entries())


# starts with NUL, which is no pickle opcode and no magic number
JUNK_PREFIX = b"\x00\x00\x00\x00MSCAN-JUNK-PREFIX".ljust(64, b"\x00")


@sample("torch", "anomaly", "leading_junk_cat.pt",
        "64 junk bytes before the first local header, offsets not adjusted (as "
        "`cat junk archive.pt` makes); benign content", [POLYGLOT])
def _():
    return torch_zip(torch_entries(), lead=JUNK_PREFIX)


@sample("torch", "anomaly", "leading_junk_adjusted.pt",
        "64 junk bytes before the first local header with every offset counting them "
        "(as a self-extractor is written); benign content", [POLYGLOT])
def _():
    return torch_zip(torch_entries(), lead=JUNK_PREFIX, lead_in_offsets=True)


@sample("torch", "anomaly", "trailing_junk.pt",
        "48 junk bytes after the end of central directory record (comment length 0); "
        "benign content", [POLYGLOT])
def _():
    return torch_zip(torch_entries(), trail=b"MSCAN-JUNK-SUFFIX-" + b"\xff" * 30)


@sample("torch", "hostile", "encrypted_member.pt",
        "archive/data.pkl encrypted with ZipCrypto (password 'mscan', flag bit 0 in "
        "both headers, 12-byte encryption header); the plaintext is an os.system "
        "pickle that no scanner can see without the password", [ENCRYPTED])
def _():
    entries = torch_entries()
    crc = zlib.crc32(OS_SYSTEM)
    enc = Entry("archive/data.pkl", OS_SYSTEM, crc=crc,
                compressed=zipcrypto(OS_SYSTEM, b"mscan", crc, seed=7),
                flags=FLAG_ENCRYPTED)
    entries[0] = enc
    return build_zip(entries)[0]


@sample("torch", "anomaly", "zip64_count_mismatch.pt",
        "zip64 archive whose zip64 end record says 7 entries while the central "
        "directory holds 4 (the classic end record defers to it with 0xFFFF)",
        [MALFORMED])
def _():
    entries = torch_entries()
    for e in entries:
        e.zip64 = True
    data, layout = build_zip(entries, eocd64="force")
    buf = bytearray(data)
    struct.pack_into("<QQ", buf, layout["zip64_eocd"] + 24, 7, 7)
    return bytes(buf)


@sample("torch", "anomaly", "zip64_size_mismatch.pt",
        "zip64 archive where archive/data.pkl's central zip64 extra field declares "
        "2**40 bytes while its local zip64 extra field and the data say 235",
        [MALFORMED])
def _():
    entries = torch_entries()
    for e in entries:
        e.zip64 = True
    data, layout = build_zip(entries, eocd64="force")
    buf = bytearray(data)
    cd0 = layout["cd_entries"][0]
    name_len = struct.unpack_from("<H", buf, cd0 + 28)[0]
    struct.pack_into("<Q", buf, cd0 + CENTRAL.size + name_len + 4, 1 << 40)
    return bytes(buf)


@sample("torch", "anomaly", "zip64_locator_offset_wrong.pt",
        "torch-style zip whose zip64 end-of-central-directory locator points 16 bytes "
        "before the zip64 end record (the classic end record is intact)", [MALFORMED])
def _():
    data, layout = torch_zip_layout(torch_entries())
    buf = bytearray(data)
    loc = layout["zip64_eocd"] + ZIP64_EOCD.size
    struct.pack_into("<Q", buf, loc + 8, layout["zip64_eocd"] - 16)
    return bytes(buf)


@sample("torch", "anomaly", "cd_offset_past_eof.pt",
        "end record points the central directory past the end of the file "
        "(benign members)", [MALFORMED])
def _():
    data, layout = build_zip([Entry(e.name, e.data) for e in torch_entries()])
    buf = bytearray(data)
    struct.pack_into("<I", buf, layout["eocd"] + 16, len(data) + 4096)
    return bytes(buf)


@sample("torch", "anomaly", "truncated.pt",
        "benign torch zip cut in the middle of archive/data/1: no central directory, "
        "no end record", [MALFORMED])
def _():
    data, layout = torch_zip_layout(torch_entries())
    return data[:layout["local"][2] + 40]


@sample("torch", "anomaly", "unsupported_method.pt",
        "archive/data.pkl declares compression method 99 (AE-x encryption marker) "
        "in both headers with a benign pickle as its bytes: a method other than "
        "stored and deflate cannot be read", [MALFORMED])
def _():
    entries = torch_entries()
    entries[0].method = 99
    entries[0].compressed = BENIGN_SD
    return torch_zip(entries)


@sample("torch", "anomaly", "corrupt_deflate.pt",
        "archive/data.pkl is deflated but its stream is cut 20 bytes short (sizes "
        "and CRC describe the cut stream); benign content", [MALFORMED])
def _():
    entries = torch_entries()
    entries[0].method = DEFLATED
    entries[0].compressed = deflate(BENIGN_SD)[:-20]
    return torch_zip(entries)


@sample("torch", "hostile", "nested_zip.pt",
        "benign torch zip with a member archive/extra/inner.zip that is itself a "
        "torch zip whose archive/data.pkl is hostile", [EXEC])
def _():
    inner = torch_zip(torch_entries(pkl=HOSTILE_SD))
    entries = torch_entries()
    entries.insert(-1, Entry("archive/extra/inner.zip", inner))
    return torch_zip(entries)


NEST_DEPTH = 12


@sample("torch", "hostile", "nested_zip_depth12.pt",
        f"a chain of {NEST_DEPTH} zips, each the only member (level<N>.zip) of the one "
        "around it, with an os.system pickle at the bottom: deeper than the nesting "
        "limit, so the scan must say it stopped", [LIMIT])
def _():
    data = plain_zip([("archive/data.pkl", OS_SYSTEM)], zipfile.ZIP_STORED)
    for level in range(NEST_DEPTH - 1, 0, -1):
        data = plain_zip([(f"level{level}.zip", data)], zipfile.ZIP_STORED)
    return data


BOMB_SIZE = 64 * 1024 * 1024


@sample("torch", "benign", "zeros_member.pt",
        "benign torch zip plus a deflated member archive/extra/zeros.bin that "
        f"inflates to {BOMB_SIZE // (1 << 20)} MiB of zeros (ratio about 1000:1): a ratio "
        "beyond the limit but within the caps is low", [RATIO])
def _():
    entries = torch_entries()
    entries.insert(-1, Entry("archive/extra/zeros.bin", bytes(BOMB_SIZE), method=DEFLATED))
    entries[3]._payload = deflate(entries[3].data, 9)
    return torch_zip(entries)


@sample("torch", "hostile", "path_traversal.pt",
        "benign torch zip plus a member archive/../../../tmp/mscan-sample/evil.pkl "
        "(zip slip; it keeps the record prefix, so torch 1.13 still loads the "
        "checkpoint); its content is a benign pickle", [UNSAFE_PATH])
def _():
    entries = torch_entries()
    entries.append(Entry("archive/../../../tmp/mscan-sample/evil.pkl", BENIGN_PICKLE))
    return torch_zip(entries)


@sample("torch", "hostile", "absolute_path.pt",
        "benign torch zip plus a member with an absolute name "
        "/tmp/mscan-sample/evil.pkl (torch 1.13 refuses the archive: a member "
        "outside the record prefix); its content is a benign pickle", [UNSAFE_PATH])
def _():
    entries = torch_entries()
    entries.append(Entry("/tmp/mscan-sample/evil.pkl", BENIGN_PICKLE))
    return torch_zip(entries)


GGUF_HEADER = b"GGUF\x03\x00\x00\x00"


@sample("torch", "anomaly", "gguf_member.pt",
        "benign torch zip plus archive/extra/weights.gguf: a GGUF header whose metadata count "
        "(the bytes of a text) is far larger than the member, read as GGUF",
        ["gguf-oversized"])
def _():
    gguf = GGUF_HEADER + b"\x00" * 8 + b"mscan-sample: not a complete GGUF file" + b"\x00" * 16
    entries = torch_entries()
    entries.insert(-1, Entry("archive/extra/weights.gguf", gguf))
    return torch_zip(entries)


# ==========================================================================
# TorchScript (group torchscript)
# ==========================================================================

TS_CODE_TEXT = b"""class MscanModel(Module):
  __parameters__ = ["weight", ]
  __buffers__ = []
  weight : Tensor
  training : bool
  def forward(self: __torch__.mscan_model.MscanModel,
    x: Tensor) -> Tensor:
    return torch.matmul(x, self.weight)
"""


def torchscript_entries(data_pkl, constants_pkl, prefix="model"):
    """A TorchScript archive as torch.jit.save lays it out: tensors under
    data/, the module object in data.pkl (classes named __torch__.<module>),
    code/__torch__/<module>.py deflated, constants.pkl, version."""
    code = Entry(f"{prefix}/code/__torch__/mscan_model.py", TS_CODE_TEXT, method=DEFLATED)
    return [Entry(f"{prefix}/data/0", WEIGHT), Entry(f"{prefix}/data.pkl", data_pkl),
            code, Entry(f"{prefix}/constants.pkl", constants_pkl),
            Entry(f"{prefix}/version", b"3\n")]


def ts_module_pickle(extra=()):
    """data.pkl of a scripted module: __torch__.mscan_model.MscanModel via
    NEWOBJ, BUILD with its attributes (one parameter tensor)."""
    od = Global("collections", "OrderedDict")
    weight = Reduce(Global("torch._utils", "_rebuild_tensor_v2"),
                    (PersId(("storage", Global("torch", "FloatStorage"), "0", "cpu", 4)),
                     0, (2, 2), (2, 1), True, Reduce(od, ())))
    state = {"training": True, "weight": weight}
    state.update(dict(extra))
    return dumps(NewObj(Global("__torch__.mscan_model", "MscanModel"), (), state=state), 2)


@sample("torchscript", "hostile", "constants_pkl_os_system.pt",
        "hand-made TorchScript archive (code/__torch__/mscan_model.py, data.pkl, "
        "constants.pkl, data/0, version) whose constants.pkl is a tuple holding "
        "posix.system('echo mscan-sample'): torch.jit's own unpickler would refuse "
        "the global, but any Python unpickler run on the member executes it",
        [EXEC, TS_CODE])
def _():
    constants = dumps((call("posix", "system", CMD),), 2)
    return torch_zip(torchscript_entries(ts_module_pickle(), constants))


@sample("torchscript", "hostile", "data_pkl_os_system.pt",
        "hand-made TorchScript archive whose data.pkl module state carries an "
        "os.system REDUCE next to the parameter", [EXEC, TS_CODE])
def _():
    data = ts_module_pickle([("_hook", call("os", "system", CMD))])
    return torch_zip(torchscript_entries(data, checked(dumps((), 2))))


# ==========================================================================
# Legacy torch (group legacy)
# ==========================================================================

MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
SYS_INFO = {"protocol_version": LEGACY_PROTOCOL, "little_endian": True,
            "type_sizes": {"short": 2, "int": 4, "long": 4}}


def legacy(magic=None, version=None, sys_info=None, model=None, keys=None,
           storages=None):
    """torch.save(..., _use_new_zipfile_serialization=False): five protocol-2
    pickles back to back -- the magic number (LONG1), the protocol version
    1001, sys_info, the object (storages as persistent ids with six fields),
    the sorted storage keys -- then for each key, in that order, the element
    count as a little-endian u64 and count * element size bytes."""
    out = (dumps(MAGIC, 2) if magic is None else magic)
    out += dumps(LEGACY_PROTOCOL, 2) if version is None else version
    out += dumps(SYS_INFO, 2) if sys_info is None else sys_info
    out += state_dict(legacy=True) if model is None else model
    out += dumps(["0", "1"], 2) if keys is None else keys
    if storages is None:
        storages = b"".join(struct.pack("<Q", len(s) // 4) + s for s in STORAGES)
    return out + storages


@sample("legacy", "benign", "state_dict_handmade.pt",
        "legacy (pre-1.6) torch checkpoint of nn.Linear(2,2).state_dict(), hand-"
        "assembled: magic, 1001, sys_info, model pickle with storage keys '0'/'1', "
        "keys list, then the two storages (u64 count + float32 data)",
        forbid=[MEDIUM_PLUS, LEGACY_MALFORMED, TRAILING])
def _():
    return legacy()


@sample("legacy", "hostile", "model_pickle_os_system.pt",
        "legacy checkpoint whose model pickle (the 4th) carries posix.system in the "
        "state dict; storages intact", [EXEC])
def _():
    return legacy(model=state_dict([("_hook", call("posix", "system", CMD))], legacy=True))


@sample("legacy", "hostile", "sys_info_os_system.pt",
        "legacy checkpoint whose sys_info pickle (the 3rd) is a dict with an "
        "os.system REDUCE as 'type_sizes'; torch.load unpickles it before the model",
        [EXEC])
def _():
    info = {"protocol_version": LEGACY_PROTOCOL, "little_endian": True,
            "type_sizes": call("os", "system", CMD)}
    return legacy(sys_info=dumps(info, 2))


@sample("legacy", "hostile", "magic_pickle_os_system.pt",
        "legacy checkpoint whose first pickle is os.system(...) instead of the magic "
        "number: torch.load unpickles it, and only then finds the magic wrong",
        [EXEC])
def _():
    return legacy(magic=OS_SYSTEM)


@sample("legacy", "anomaly", "bad_magic.pt",
        "legacy layout whose magic number is off by one (0x...9c6d): not a torch "
        "checkpoint (torch refuses it), so the storage area after the pickles is "
        "undeclared trailing data", [TRAILING], forbid=[EXEC])
def _():
    return legacy(magic=dumps(MAGIC + 1, 2))


@sample("legacy", "anomaly", "storage_short.pt",
        "legacy checkpoint whose last storage declares 2 float32 elements but only "
        "3 of its 8 bytes are present", [LEGACY_MALFORMED])
def _():
    storages = (struct.pack("<Q", 4) + WEIGHT + struct.pack("<Q", 2) + BIAS[:3])
    return legacy(storages=storages)


@sample("legacy", "anomaly", "storage_count_huge.pt",
        "legacy checkpoint whose first storage declares 2**61 elements (the file "
        "holds 16 bytes for it): must not allocate", [LEGACY_MALFORMED])
def _():
    storages = (struct.pack("<Q", 1 << 61) + WEIGHT + struct.pack("<Q", 2) + BIAS)
    return legacy(storages=storages)


@sample("legacy", "anomaly", "keys_unknown_storage.pt",
        "legacy checkpoint whose keys list names a storage '7' the model never "
        "referenced (torch asserts key in deserialized_objects)", [LEGACY_MALFORMED])
def _():
    return legacy(keys=dumps(["0", "7"], 2))


# ==========================================================================
# NumPy (group numpy)
# ==========================================================================

@sample("numpy", "benign", "float32_v1.npy",
        "format 1.0 .npy of a float32 array shape (2, 2), header exactly as numpy 1.24 "
        "writes it")
def _():
    return npy("<f4", (2, 2), WEIGHT)


@sample("numpy", "benign", "float64_fortran_v2.npy",
        "format 2.0 .npy (u32 header length) of a Fortran-order float64 array (2, 3)")
def _():
    return npy("<f8", (2, 3), f64(0, 3, 1, 4, 2, 5), fortran=True, version=(2, 0))


@sample("numpy", "benign", "structured_utf8_v3.npy",
        "format 3.0 .npy (UTF-8 header): structured dtype with the field names "
        "'\u0394t' and 'value'")
def _():
    descr = [("\u0394t", "<f4"), ("value", "<i8")]
    body = b"".join(struct.pack("<fq", t, v) for t, v in ((0.5, 1), (1.5, -2)))
    return npy(descr, (2,), body, version=(3, 0))


@sample("numpy", "benign", "scalar_v1.npy", "format 1.0 .npy of a 0-d int64 array")
def _():
    return npy("<i8", (), struct.pack("<q", 42))


@sample("numpy", "benign", "object_array_benign.npy",
        "object-dtype .npy: header descr '|O', then a protocol-3 pickle of the array "
        "(numpy.core.multiarray._reconstruct) with the elements 'a' and 1",
        [NPY_OBJECT])
def _():
    return npy("|O", (2,), checked(object_array_pickle(["a", 1])))


@sample("numpy", "hostile", "object_array_os_system.npy",
        "object-dtype .npy whose pickle holds posix.system('echo mscan-sample') as an "
        "element: numpy.load(allow_pickle=True) runs it", [NPY_OBJECT, EXEC])
def _():
    return npy("|O", (2,), object_array_pickle(["a", call("posix", "system", CMD)]))


@sample("numpy", "hostile", "object_array_raw_payload.npy",
        "object-dtype .npy followed by a bare os.system pickle (no array structure)",
        [NPY_OBJECT, EXEC])
def _():
    return npy("|O", (1,), OS_SYSTEM)


@sample("numpy", "anomaly", "header_len_past_eof.npy",
        "format 1.0 .npy whose header length field says 60000 in an 80-byte file",
        [NPY_MALFORMED])
def _():
    return npy("<f4", (2, 2), WEIGHT, declared_len=60000)[:80]


@sample("numpy", "anomaly", "header_not_literal.npy",
        "header is not a Python literal: 'shape' is __import__('os').system(...), "
        "which numpy's ast.literal_eval rejects (never evaluate it)", [NPY_MALFORMED])
def _():
    text = ("{'descr': '<f4', 'fortran_order': False, "
            "'shape': __import__('os').system('echo mscan-sample'), }")
    return npy("<f4", (2, 2), WEIGHT, header_text=text)


@sample("numpy", "anomaly", "header_not_dict.npy",
        "header is a list literal instead of a dict", [NPY_MALFORMED])
def _():
    return npy("<f4", (2, 2), WEIGHT, header_text="['<f4', False, (2, 2)]")


@sample("numpy", "anomaly", "header_missing_shape.npy",
        "header dict without the 'shape' key", [NPY_MALFORMED])
def _():
    return npy("<f4", (2, 2), WEIGHT,
               header_text="{'descr': '<f4', 'fortran_order': False, }")


@sample("numpy", "anomaly", "bad_version.npy", "magic followed by version 9.0",
        [NPY_MALFORMED])
def _():
    data = bytearray(npy("<f4", (2, 2), WEIGHT))
    data[6:8] = b"\x09\x00"
    return bytes(data)


@sample("numpy", "anomaly", "data_truncated.npy",
        "header declares shape (1000, 1000) float64 (8 MB); the file holds 16 bytes "
        "of data", [NPY_MALFORMED])
def _():
    return npy("<f8", (1000, 1000), f64(1.0, 2.0))


def npz_members():
    return [("weight.npy", npy("<f4", (2, 2), WEIGHT)),
            ("bias.npy", npy("<f4", (2,), BIAS))]


@sample("numpy", "benign", "arrays_stored.npz",
        ".npz (zip of .npy members weight.npy, bias.npy), stored, written by zipfile")
def _():
    return plain_zip(npz_members(), zipfile.ZIP_STORED)


@sample("numpy", "benign", "arrays_deflated.npz",
        ".npz with the same members deflated (as numpy.savez_compressed)")
def _():
    return plain_zip(npz_members(), zipfile.ZIP_DEFLATED)


@sample("numpy", "hostile", "object_member_os_system.npz",
        ".npz with a benign weight.npy and an object-dtype extra.npy whose pickle "
        "holds posix.system(...)", [NPY_OBJECT, EXEC])
def _():
    bad = npy("|O", (2,), object_array_pickle(["a", call("posix", "system", CMD)]))
    return plain_zip(npz_members()[:1] + [("extra.npy", bad)], zipfile.ZIP_DEFLATED)


# ==========================================================================
# joblib (group joblib)
# ==========================================================================

@sample("joblib", "benign", "handmade_raw.joblib",
        "joblib 1.2 raw dump of a dict of three numpy arrays (float64 (2,3), float32, "
        "int64) and two scalars, hand-assembled: each NumpyArrayWrapper BUILD ends a "
        "FRAME, then a padding-length byte, 0xFF padding to a 16-byte boundary and "
        "the array bytes, then the pickle goes on in a new FRAME",
        forbid=[MEDIUM_PLUS, JOBLIB_MALFORMED])
def _():
    return joblib_raw(JOBLIB_BENIGN)


@sample("joblib", "benign", "handmade_no_alignment_key.joblib",
        "joblib <= 1.1 layout: the wrapper state has no 'numpy_array_alignment_bytes', "
        "so there is no padding byte and the array bytes follow the BUILD directly",
        forbid=[MEDIUM_PLUS, JOBLIB_MALFORMED])
def _():
    return joblib_raw({"w": Array("f4", "<", (4,), WEIGHT, alignment="absent"), "n": 1})


@sample("joblib", "benign", "handmade_alignment_none.joblib",
        "joblib 1.2 writing to a stream without tell(): numpy_array_alignment_bytes is "
        "None, so there is no padding byte", forbid=[MEDIUM_PLUS, JOBLIB_MALFORMED])
def _():
    return joblib_raw({"w": Array("f4", "<", (4,), WEIGHT, alignment=None), "n": 1})


# Array bytes that, read as opcodes, are a complete benign pickle: a scanner
# that does not skip them the way joblib does sees an innocent stream end here.
DECOY = dumps({"decoy": 1}, 2)
DECOY_ARRAY = Array("u1", "|", (32,), DECOY.ljust(32, b"\x00"))


def joblib_hostile_value():
    return {"coef": DECOY_ARRAY,
            "intercept": Array("f4", "<", (2,), f32(0.1, -0.1)),
            "hook": call("posix", "system", CMD)}


@sample("joblib", "hostile", "payload_after_array.joblib",
        "raw joblib dump: two NumpyArrayWrappers with their padding and array bytes "
        "(the first array's bytes are a complete decoy pickle), and only after them "
        "the dict item posix.system(...): the scanner must skip padding and array "
        "bytes exactly as joblib reads them to find the payload", [EXEC])
def _():
    return joblib_raw(joblib_hostile_value())


@sample("joblib", "hostile", "object_array_os_system.joblib",
        "raw joblib dump whose NumpyArrayWrapper has dtype object: what follows the "
        "BUILD is a nested protocol-2 pickle of the array (no padding byte) holding "
        "posix.system(...); joblib calls pickle.load on it", [EXEC])
def _():
    nested = object_array_pickle_p2(["a", call("posix", "system", CMD)])
    arr = Array("O8", "|", (2,), b"", elsize_flags=63, obj_pickle=nested)
    return joblib_raw({"labels": arr, "n": 2})


def object_array_pickle_p2(items):
    arr = Reduce(Global("numpy.core.multiarray", "_reconstruct"),
                 (Global("numpy", "ndarray"), (0,), b"b"),
                 state=(1, (len(items),), dtype_obj("O8", "|", 63), False, list(items)))
    return dumps(arr, 2)


@sample("joblib", "hostile", "payload_after_array.joblib.z",
        "payload_after_array.joblib compressed as joblib does for .z (zlib stream, "
        "level 3)", [EXEC])
def _():
    return joblib_zlib(joblib_raw(joblib_hostile_value()))


@sample("joblib", "hostile", "payload_after_array.joblib.gz",
        "payload_after_array.joblib compressed as joblib does for .gz (gzip via zlib "
        "wbits 31, level 3)", [EXEC])
def _():
    return joblib_gzip(joblib_raw(joblib_hostile_value()))


@sample("joblib", "anomaly", "array_past_eof.joblib",
        "wrapper declares float64 shape (100000,) (800 KB) but the file ends 24 bytes "
        "into the array data", [JOBLIB_MALFORMED])
def _():
    raw = joblib_raw({"w": Array("f8", "<", (100000,), f64(1, 2, 3)), "n": 1})
    return raw[:raw.index(f64(1, 2, 3)) + 24]


@sample("joblib", "anomaly", "wrapper_bad_state.joblib",
        "NumpyArrayWrapper whose state has shape 'abc' (not a tuple) and no dtype: "
        "joblib cannot size the array, so the stream cannot be followed",
        [JOBLIB_MALFORMED])
def _():
    wrapper = NewObj(Global("joblib.numpy_pickle", "NumpyArrayWrapper"), (),
                     state={"subclass": Global("numpy", "ndarray"), "shape": "abc",
                            "order": "C", "allow_mmap": True,
                            "numpy_array_alignment_bytes": 16})
    return dumps({"w": wrapper}, 4)


# ==========================================================================
# Archives (group archive)
# ==========================================================================

for _label, _pickle in (("benign", BENIGN_PICKLE), ("hostile", HOSTILE_PICKLE)):
    _exp = [] if _label == "benign" else [EXEC]
    _what = ("a benign pickle" if _label == "benign"
             else "a pickle with os.system('echo mscan-sample')")
    sample("archive", _label, "model.zip", f"zip (deflated) holding model.pkl, {_what}",
           _exp)(lambda p=_pickle: plain_zip([("model.pkl", p)]))
    sample("archive", _label, "model.tar", f"GNU tar holding model.pkl, {_what}",
           _exp)(lambda p=_pickle: tar([("model.pkl", p)]))
    sample("archive", _label, "model.tar.gz", f"gzip-compressed tar holding model.pkl, "
           f"{_what}", _exp)(lambda p=_pickle: gz(tar([("model.pkl", p)])))
    sample("archive", _label, "model.tar.bz2", f"bzip2-compressed tar holding model.pkl, "
           f"{_what}", _exp)(lambda p=_pickle: bz2.compress(tar([("model.pkl", p)]), 9))
    sample("archive", _label, "model.tar.xz", f"xz-compressed tar holding model.pkl, "
           f"{_what}", _exp)(lambda p=_pickle: xz(tar([("model.pkl", p)])))
    sample("archive", _label, "model.7z", f"7z (LZMA2, solid) holding model.pkl, {_what}",
           _exp)(lambda p=_pickle: seven_zip([("model.pkl", p)]))


def torch_dir_members(pkl):
    return [("archive/data.pkl", pkl), ("archive/data/0", WEIGHT),
            ("archive/data/1", BIAS), ("archive/version", b"3\n")]


@sample("archive", "hostile", "nullifai_truncated.7z",
        "nullifAI technique: a torch checkpoint folder (archive/data.pkl, data/0, "
        "data/1, version) compressed with 7z instead of zip, whose data.pkl calls "
        "posix.system(...) first and then ends without STOP", [EXEC, TRUNCATED])
def _():
    broken = dumps(call("posix", "system", CMD), 2)[:-1]
    return seven_zip(torch_dir_members(broken))


@sample("archive", "hostile", "nullifai_garbage.7z",
        "nullifAI variant: the 7z'd data.pkl runs os.system(...) and is followed by "
        "garbage (byte 0xff, not an opcode) instead of STOP", [EXEC, INVALID_OPCODE])
def _():
    broken = dumps(call("os", "system", CMD), 2)[:-1] + b"\xff\xfe mscan garbage"
    return seven_zip(torch_dir_members(broken))


@sample("archive", "hostile", "traversal.tar",
        "tar with a member ../../tmp/mscan-sample/evil.pkl (benign pickle content)",
        [UNSAFE_PATH])
def _():
    return tar([("model.pkl", BENIGN_PICKLE), ("../../tmp/mscan-sample/evil.pkl", BENIGN_PICKLE)])


@sample("archive", "hostile", "absolute_path.tar",
        "tar with a member /tmp/mscan-sample/evil.pkl (benign pickle content)",
        [UNSAFE_PATH])
def _():
    info = tar_info("/tmp/mscan-sample/evil.pkl", len(BENIGN_PICKLE))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        tf.addfile(tar_info("model.pkl", len(BENIGN_PICKLE)), io.BytesIO(BENIGN_PICKLE))
        tf.addfile(info, io.BytesIO(BENIGN_PICKLE))
    return buf.getvalue()


@sample("archive", "hostile", "symlink.tar",
        "tar with model.pkl and a symbolic link member config.pkl -> /etc/passwd",
        [UNSAFE_PATH])
def _():
    return tar([("model.pkl", BENIGN_PICKLE),
                tar_info("config.pkl", kind=tarfile.SYMTYPE, linkname="/etc/passwd",
                         mode=0o777)])


@sample("archive", "hostile", "hardlink.tar",
        "tar with model.pkl and a hard link member weights.pkl -> ../../etc/passwd",
        [UNSAFE_PATH])
def _():
    return tar([("model.pkl", BENIGN_PICKLE),
                tar_info("weights.pkl", kind=tarfile.LNKTYPE, linkname="../../etc/passwd")])


@sample("archive", "hostile", "symlink.zip",
        "zip with model.pkl and a member config.pkl whose Unix mode (external "
        "attributes) is a symbolic link to ../../../etc/passwd", [UNSAFE_PATH])
def _():
    entries = [Entry("model.pkl", BENIGN_PICKLE, version_made=0x031E,
                     external_attr=(stat.S_IFREG | 0o644) << 16),
               Entry("config.pkl", b"../../../etc/passwd", version_made=0x031E,
                     external_attr=(stat.S_IFLNK | 0o777) << 16)]
    return build_zip(entries)[0]


@sample("archive", "hostile", "nested_tar_gz_zip.tar.gz",
        "tar.gz holding bundle/model.zip, a zip holding model.pkl with "
        "os.system(...)", [EXEC])
def _():
    inner = plain_zip([("model.pkl", HOSTILE_PICKLE)])
    return gz(tar([("bundle/model.zip", inner)]))


@sample("archive", "anomaly", "truncated.tar.gz",
        "tar.gz of a benign model.pkl cut in half (deflate stream and gzip trailer "
        "missing)", [MALFORMED])
def _():
    data = gz(tar([("model.pkl", BENIGN_PICKLE)]))
    return data[:len(data) // 2]


@sample("archive", "hostile", "truncated_after_payload.tar.gz",
        "tar.gz whose deflate stream is cut after the hostile model.pkl's bytes (the "
        "tar's zero blocks and the gzip trailer are missing): what could be read "
        "still counts", [MALFORMED, EXEC])
def _():
    data = gz(tar([("model.pkl", HOSTILE_PICKLE)]))
    for cut in range(len(data) - 9, 0, -1):
        got = zlib.decompressobj(31).decompress(data[:cut])
        if len(got) < 512 + len(HOSTILE_PICKLE):
            return data[:cut + 1]
    raise SystemExit("truncated_after_payload: no cut point")


@sample("archive", "anomaly", "truncated.7z",
        "7z of a benign model.pkl cut before its end header", [MALFORMED])
def _():
    data = seven_zip([("model.pkl", BENIGN_PICKLE)])
    return data[:len(data) - 40]


# ==========================================================================
# Single-stream compressed (group compressed)
# ==========================================================================

@sample("compressed", "benign", "model.pkl.gz", "gzip of a benign pickle (mtime 0)")
def _():
    return gz(BENIGN_PICKLE)


for _ext, _fn, _what in ((".gz", gz, "gzip (mtime 0)"),
                         (".bz2", lambda d: bz2.compress(d, 9), "bzip2"),
                         (".xz", xz, "xz"),
                         (".lzma", lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
                          "legacy .lzma (LZMA alone)"),
                         (".zst", zstd, "zstd -19"),
                         (".lz4", lz4, "lz4 frame (-9)")):
    sample("compressed", "hostile", f"model.pkl{_ext}",
           f"{_what} of a pickle with os.system('echo mscan-sample')",
           [EXEC])(lambda fn=_fn: fn(HOSTILE_PICKLE))


@sample("compressed", "hostile", "multi_member.pkl.gz",
        "gzip file of two members (concatenated gzip streams): a benign pickle, then "
        "an os.system pickle; gunzip and Python's gzip decompress both, a reader "
        "that stops after the first member misses the payload", [EXEC])
def _():
    return gz(BENIGN_PICKLE) + gz(OS_SYSTEM)


@sample("compressed", "benign", "zeros.bin.gz",
        f"gzip of {BOMB_SIZE // (1 << 20)} MiB of zeros (about 64 KB compressed, "
        "ratio about 1000:1): decompressed in full and reported low", [RATIO])
def _():
    return gz(b"\x00" * BOMB_SIZE)


@sample("compressed", "anomaly", "truncated.pkl.gz",
        "gzip of a benign pickle with its last 12 bytes (end of the deflate stream "
        "and the CRC/size trailer) cut off", [MALFORMED])
def _():
    return gz(BENIGN_PICKLE)[:-12]


@sample("compressed", "anomaly", "bad_crc.pkl.gz",
        "gzip of a benign pickle whose trailer CRC-32 is wrong", [MALFORMED])
def _():
    data = bytearray(gz(BENIGN_PICKLE))
    data[-8] ^= 0xFF
    return bytes(data)


# ==========================================================================
# Real libraries (skipped with --no-real). Benign objects only.
# ==========================================================================

def real_linear_state_dict():
    import torch
    lin = torch.nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
        lin.bias.copy_(torch.tensor([0.5, -0.5]))
    return lin.state_dict()


def real_torch_save(obj, stem, **kw):
    """torch.save to a file named <stem>.pt: torch 1.13 takes the record prefix
    from the file name (without extension); saving to a buffer gives 'archive'."""
    import torch
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{stem}.pt"
        torch.save(obj, str(path), **kw)
        return path.read_bytes()


@real_sample("torch", "benign", "real_state_dict.pt",
             "torch 1.13 torch.save(nn.Linear(2,2).state_dict()) to a file named "
             "real_state_dict.pt: record prefix 'real_state_dict'")
def _():
    return real_torch_save(real_linear_state_dict(), "real_state_dict")


@real_sample("torch", "benign", "real_module_buffer.pt",
             "torch 1.13 torch.save of a whole nn.Sequential(Linear, ReLU, Linear) "
             "into a buffer: record prefix 'archive', module classes as globals")
def _():
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    buf = io.BytesIO()
    torch.save(model, buf)
    return buf.getvalue()


TS_SOURCE_DIR = Path("/tmp/mscan-sample-src")  # fixed: the path lands in *.debug_pkl
TS_SOURCE = '''import torch


class TinyModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 2)

    def forward(self, x):
        return torch.relu(self.linear(x)) * 2.0
'''


@real_sample("torchscript", "benign", "real_scripted.pt",
             "torch 1.13 torch.jit.save(torch.jit.script(TinyModule)) (Linear + relu): "
             "code/__torch__/*.py (deflated), *.debug_pkl (pickles of "
             "torch.jit._pickle.build_intlist and source ranges), data.pkl with "
             "__torch__.* classes, constants.pkl, data/0, data/1, version",
             [TS_CODE])
def _():
    import torch
    TS_SOURCE_DIR.mkdir(parents=True, exist_ok=True)
    (TS_SOURCE_DIR / "mscan_tiny.py").write_text(TS_SOURCE, encoding="utf-8")
    sys.path.insert(0, str(TS_SOURCE_DIR))
    try:
        import mscan_tiny
        torch.manual_seed(0)
        module = mscan_tiny.TinyModule()
        with torch.no_grad():
            module.linear.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
            module.linear.bias.copy_(torch.tensor([0.5, -0.5]))
        scripted = torch.jit.script(module)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "real_scripted.pt"
            torch.jit.save(scripted, str(path))
            return path.read_bytes()
    finally:
        sys.path.remove(str(TS_SOURCE_DIR))


def normalize_legacy_keys(data, elsize=4):
    """torch 1.13's legacy writer names storages by their C pointer
    (str(storage._cdata)), so every run writes different keys. Rename them
    '0', '1', ... in order of first appearance in the model pickle and put the
    storage blocks in that order: exactly what torch writes when the pointers
    sort that way. Works on raw bytes with pickletools.genops (no unpickling)."""
    ends = []
    pos = 0
    for _ in range(5):
        stop = None
        for op, _arg, p in pickletools.genops(data[pos:]):
            if op.name == "STOP":
                stop = pos + p + 1
        ends.append(stop)
        pos = stop
    starts = [0] + ends[:-1]
    keys_pickle = data[starts[4]:ends[4]]
    keys = [arg for op, arg, _ in pickletools.genops(keys_pickle)
            if op.name == "BINUNICODE"]
    region = data[ends[4]:]
    blocks, off = {}, 0
    for key in keys:
        count = struct.unpack_from("<Q", region, off)[0]
        blocks[key] = region[off:off + 8 + count * elsize]
        off += 8 + count * elsize
    assert off == len(region), "storage area does not match the keys"
    model = data[starts[3]:ends[3]]
    order = []
    for op, arg, _ in pickletools.genops(model):
        if op.name == "BINUNICODE" and arg in keys and arg not in order:
            order.append(arg)
    assert sorted(order) == sorted(keys)
    rename = {old: str(i) for i, old in enumerate(order)}

    def binunicode(s):
        b = s.encode()
        return b"X" + struct.pack("<I", len(b)) + b

    for old, new in rename.items():
        assert model.count(binunicode(old)) == 1
        model = model.replace(binunicode(old), binunicode(new))
    new_keys = dumps([rename[k] for k in order], 2)
    return (data[:starts[3]] + model + new_keys
            + b"".join(blocks[k] for k in order))


@real_sample("legacy", "benign", "real_legacy_state_dict.pt",
             "torch 1.13 torch.save(nn.Linear(2,2).state_dict(), "
             "_use_new_zipfile_serialization=False), storage keys (C pointers) renamed "
             "'0'/'1' for reproducibility",
             forbid=[MEDIUM_PLUS, LEGACY_MALFORMED, TRAILING])
def _():
    raw = real_torch_save(real_linear_state_dict(), "legacy",
                          _use_new_zipfile_serialization=False)
    return normalize_legacy_keys(raw)


def numpy_bytes(write):
    buf = io.BytesIO()
    write(buf)
    return buf.getvalue()


@real_sample("numpy", "benign", "real_save.npy",
             "numpy 1.24 numpy.save of a float32 array (3, 4)")
def _():
    import numpy as np
    return numpy_bytes(lambda f: np.save(f, np.arange(12, dtype=np.float32).reshape(3, 4)))


@real_sample("numpy", "benign", "real_object_array.npy",
             "numpy 1.24 numpy.save of an object array ['a', 1, None, (2, 3)] "
             "(allow_pickle on save): a pickle follows the header", [NPY_OBJECT])
def _():
    import numpy as np
    arr = np.empty(4, dtype=object)
    arr[:] = ["a", 1, None, (2, 3)]
    return numpy_bytes(lambda f: np.save(f, arr, allow_pickle=True))


@real_sample("numpy", "benign", "real_savez.npz",
             "numpy 1.24 numpy.savez(weight=..., bias=...): stored members written "
             "with force_zip64 (zip64 extra fields in the local headers)",
             forbid=[MEDIUM_PLUS, MALFORMED])
def _():
    import numpy as np
    return numpy_bytes(lambda f: np.savez(f, weight=np.arange(4, dtype=np.float32),
                                          bias=np.zeros(2, dtype=np.float64)))


@real_sample("numpy", "benign", "real_savez_compressed.npz",
             "numpy 1.24 numpy.savez_compressed(weight=..., bias=...): deflated members",
             forbid=[MEDIUM_PLUS, MALFORMED])
def _():
    import numpy as np
    return numpy_bytes(lambda f: np.savez_compressed(
        f, weight=np.arange(4, dtype=np.float32), bias=np.zeros(2, dtype=np.float64)))


def real_joblib_value():
    import numpy as np
    return {"coef": np.arange(6, dtype=np.float64).reshape(2, 3) / 4,
            "fortran": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
            "classes": np.array([0, 1], dtype=np.int64),
            "labels": np.array(["cat", 1], dtype=object),
            "n_iter": 12, "name": "mscan-joblib-sample"}


def real_joblib_dump(obj, suffix):
    import joblib
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"model.joblib{suffix}"
        joblib.dump(obj, str(path))
        return path.read_bytes()


for _suffix, _what in (("", "raw"), (".z", "zlib"), (".gz", "gzip"), (".bz2", "bz2"),
                       (".xz", "xz"), (".lzma", "lzma (alone)"), (".lz4", "lz4 frame")):
    real_sample("joblib", "benign", f"real_model.joblib{_suffix}",
                f"joblib 1.2 joblib.dump to model.joblib{_suffix} ({_what}; compressor "
                "chosen by the extension, default level) of a dict with C- and "
                "Fortran-order float arrays, an int64 array, an object array (nested "
                "pickle) and scalars",
                forbid=[MEDIUM_PLUS, JOBLIB_MALFORMED])(
        lambda s=_suffix: real_joblib_dump(real_joblib_value(), s))


@real_sample("joblib", "benign", "real_sklearn_pipeline.joblib",
             "joblib 1.2 dump of a fitted sklearn Pipeline(StandardScaler, "
             "LogisticRegression) on 20x3 data", forbid=[MEDIUM_PLUS, JOBLIB_MALFORMED])
def _():
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(int)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y)
    return real_joblib_dump(pipe, "")


def crosscheck():
    """Compare the hand-made layouts with what the libraries write for the
    same benign objects. Returns the number of mismatches."""
    import joblib
    import numpy as np
    import torch
    problems = 0

    def same(label, mine, theirs):
        nonlocal problems
        if mine == theirs:
            print(f"  same bytes as the library: {label}")
            return
        problems += 1
        at = next((i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b),
                  min(len(mine), len(theirs)))
        print(f"  MISMATCH {label}: first difference at byte {at} "
              f"(lengths {len(mine)} / {len(theirs)})")

    sd = real_linear_state_dict()
    buf = io.BytesIO()
    torch.save(sd, buf)
    same("torch.save zip (prefix archive)", torch_zip(torch_entries()), buf.getvalue())
    same("torch.save zip to x.pt (prefix x)",
         torch_zip(torch_entries(prefix="x")), real_torch_save(sd, "x"))
    legacy_real = normalize_legacy_keys(
        real_torch_save(sd, "l", _use_new_zipfile_serialization=False))
    same("legacy torch.save (keys normalised)", legacy(), legacy_real)
    w = np.frombuffer(WEIGHT, dtype="<f4").reshape(2, 2)
    same(".npy 1.0", npy("<f4", (2, 2), WEIGHT), numpy_bytes(lambda f: np.save(f, w)))
    f2 = np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3))
    same(".npy 2.0 Fortran", npy("<f8", (2, 3), f64(0, 3, 1, 4, 2, 5), fortran=True,
                                 version=(2, 0)),
         numpy_bytes(lambda f: np.lib.format.write_array(f, f2, version=(2, 0))))
    st = np.array([(0.5, 1), (1.5, -2)], dtype=[("\u0394t", "<f4"), ("value", "<i8")])
    body = b"".join(struct.pack("<fq", t, v) for t, v in ((0.5, 1), (1.5, -2)))
    same(".npy 3.0 UTF-8", npy([("\u0394t", "<f4"), ("value", "<i8")], (2,), body,
                               version=(3, 0)), numpy_bytes(lambda f: np.save(f, st)))
    obj = np.empty(2, dtype=object)
    obj[:] = ["a", 1]
    same(".npy object array", npy("|O", (2,), object_array_pickle(["a", 1])),
         numpy_bytes(lambda f: np.save(f, obj, allow_pickle=True)))
    value = {"coef": np.array([0.5, -1.25, 2.0, 0.0, 3.5, -0.75]).reshape(2, 3),
             "intercept": np.array([0.1, -0.1], dtype=np.float32),
             "classes": np.array([0, 1], dtype=np.int64),
             "n_iter": 12, "name": "mscan-joblib-sample"}
    jb = io.BytesIO()
    joblib.dump(value, jb)
    same("joblib raw", joblib_raw(JOBLIB_BENIGN), jb.getvalue())
    for suffix, fn in ((".z", joblib_zlib), (".gz", joblib_gzip)):
        same(f"joblib {suffix}", fn(joblib_raw(JOBLIB_BENIGN)), real_joblib_dump(value, suffix))
    objv = {"labels": np.array(["a", 1], dtype=object), "n": 2}
    jb = io.BytesIO()
    joblib.dump(objv, jb)
    arr = Array("O8", "|", (2,), b"", elsize_flags=63,
                obj_pickle=object_array_pickle_p2(["a", 1]))
    same("joblib object array", joblib_raw({"labels": arr, "n": 2}), jb.getvalue())
    return problems


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------

def write_all(no_real):
    selected = [s for s in REGISTRY if not (s.real and no_real)]
    paths = [s.path for s in REGISTRY]
    if len(set(paths)) != len(paths):
        raise SystemExit("duplicate sample paths")
    keep = {s.path for s in REGISTRY}
    if OUT.exists():  # drop files this script no longer writes
        for p in sorted(OUT.rglob("*")):
            if p.is_file() and p not in keep:
                p.unlink()
    total = 0
    for s in selected:
        data = s.builder()
        if len(data) >= MAX_SAMPLE:
            raise SystemExit(f"{s.path}: {len(data)} bytes, over {MAX_SAMPLE}")
        s.path.parent.mkdir(parents=True, exist_ok=True)
        s.path.write_bytes(data)
        total += len(data)
        print(f"{s.kind:7} {s.path.relative_to(OUT).as_posix():58} {len(data):7} B"
              f"{'  (real)' if s.real else ''}")
    entries = []
    for s in REGISTRY:
        if s.path.exists():
            entries.append(s.entry())
        else:
            print(f"missing (run without --no-real to write it): {s.path.relative_to(ROOT)}")
    on_disk = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    if on_disk > MAX_TOTAL:
        raise SystemExit(f"samples/containers is {on_disk} bytes, over {MAX_TOTAL}")
    for d in sorted((p for p in OUT.rglob("*") if p.is_dir()), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    update_manifest(entries, ["samples/containers/"])
    print(f"wrote {len(selected)} samples ({total} bytes); {len(entries)} manifest "
          f"entries; samples/containers holds {on_disk} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-real", action="store_true",
                    help="skip the samples written by torch/numpy/joblib (keeps the "
                         "committed files and their manifest entries)")
    ap.add_argument("--crosscheck", action="store_true",
                    help="compare the hand-made layouts with the libraries' output")
    args = ap.parse_args()
    write_all(args.no_real)
    if args.crosscheck:
        if args.no_real:
            raise SystemExit("--crosscheck needs the real libraries (drop --no-real)")
        print("crosscheck:")
        if crosscheck():
            sys.exit(1)


if __name__ == "__main__":
    main()
