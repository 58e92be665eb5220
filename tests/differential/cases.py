"""Container variants for the differential harness (run.py): what each file is, how it is written,
and which real loader reads it.

Every file is written with the library a user's file would come from (torch.save, numpy.savez,
joblib.dump, zipfile, tarfile, py7zr) and then, where the trick needs it, patched at the byte
level (flag bits, names, a second end record). Hostile pickles are built from raw opcodes by
`payload_pickle`; nothing here pickles a callable and nothing here loads a file. The only
process that loads these files is run.py's child, under an audit hook.

A case's `loader` is a spec run.py understands: a loader name from bench/realworld/loadcheck.py
(`pickle.load`, `torch.load`, `numpy.load`, `joblib.load`), optionally preceded by extraction
steps `OP|MEMBER|` where OP is `tar`, `zip` or `7z`: unpack the whole archive as a user would
(`extractall`), then load MEMBER of it with the rest of the spec. E.g. `tar|model.pt|torch.load`.

`expected` is what the file is:
  payload  it holds a payload the loader may reach (the loader's outcome decides whether it does)
  benign   written by the library from harmless data: if the loader loads it, mscan must pass
  flag     harmless to the loader here but unsafe to unpack (a link out of the archive root):
           mscan must fail its default gate
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import pickle
import struct
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from typing import Callable

# The command in every payload. It never runs: the child's audit hook stops at os.system.
COMMAND = b"true"
ZEROS = 64 << 20  # the "big run of zeros" before a payload: above any compression-ratio cap
FIXED_TIME = (2024, 1, 1, 0, 0, 0)


@dataclass
class Case:
    name: str
    family: str
    expected: str  # payload | benign | flag
    loader: str
    filename: str
    write: Callable[[], bytes]  # returns the file's bytes
    note: str = ""


# --------------------------------------------------------------------------------------------
# Pickles


def payload_pickle(command: bytes = COMMAND, zeros: int = 0,
                   callee: bytes = b"posix\nsystem") -> bytes:
    """callee(command) from raw opcodes, posix.system by default; with `zeros`, a BINBYTES of
    that many zero bytes is pushed and popped first (protocol 3), so the call sits behind a long
    compressible run."""
    out = bytearray(pickle.PROTO + bytes([3 if zeros else 2]))
    if zeros:
        out += pickle.BINBYTES + struct.pack("<I", zeros) + bytes(zeros) + pickle.POP
    out += pickle.GLOBAL + callee + b"\n"
    out += pickle.BINUNICODE + struct.pack("<I", len(command)) + command
    out += pickle.TUPLE1 + pickle.REDUCE + pickle.STOP
    return bytes(out)


def benign_pickle() -> bytes:
    """Plain data (dict, list, float, str): pickling it names no global at all."""
    return pickle.dumps({"weights": [0.5, -1.25, 3.0], "name": "tiny", "epoch": 3}, protocol=4)


# --------------------------------------------------------------------------------------------
# Zip: writing with zipfile, then patching the structure by hand
#
# Record layouts from APPNOTE.TXT 4.3.7 (local header), 4.3.12 (central header), 4.3.16 (end of
# central directory record).

LOCAL = struct.Struct("<4s5H3L2H")  # sig ver flags method time date crc csize usize nlen xlen
CENTRAL = struct.Struct("<4s6H3L5H2L")  # sig made ver flags method time date crc csize usize
#                                          nlen xlen clen disk iattr eattr local_offset
END = struct.Struct("<4s4H2LH")  # sig disk cd_disk n_disk n cd_size cd_offset comment_len
END_SIG = b"PK\x05\x06"

UNIX_FILE = 0o100644 << 16
UNIX_SYMLINK = 0o120777 << 16


@dataclass
class Member:
    name: str
    data: bytes
    method: int = zipfile.ZIP_STORED
    attr: int = UNIX_FILE


def zip_of(members: list[Member]) -> bytes:
    """A zip written by Python's zipfile, one ZipInfo per member (method and attributes kept)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for m in members:
            zi = zipfile.ZipInfo(m.name, date_time=FIXED_TIME)
            zi.compress_type = m.method
            zi.external_attr = m.attr
            zi.create_system = 3  # Unix, so the attribute's high half is a mode
            zf.writestr(zi, m.data)
    return buf.getvalue()


def zip_members(data: bytes) -> list[Member]:
    """Names and contents of a zip we wrote ourselves (a benign torch.save, say). Reading the
    structure of our own file loads nothing."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [Member(zi.filename, zf.read(zi)) for zi in zf.infolist()]


@dataclass
class Entry:
    """Where one member's records sit in a zip."""
    name: bytes
    central: int  # offset of the central header
    local: int  # offset of the local header


def zip_layout(data: bytes) -> tuple[int, int, list[Entry]]:
    """(central directory offset, its size, entries), from the last end record."""
    end = data.rfind(END_SIG)
    _, _, _, _, n, cd_size, cd_off, _ = END.unpack_from(data, end)
    entries, pos = [], cd_off
    for _ in range(n):
        f = CENTRAL.unpack_from(data, pos)
        nlen, xlen, clen, lho = f[10], f[11], f[12], f[16]
        entries.append(Entry(data[pos + 46:pos + 46 + nlen], pos, lho))
        pos += 46 + nlen + xlen + clen
    return cd_off, cd_size, entries


def entry(data: bytes, name: str) -> Entry:
    for e in zip_layout(data)[2]:
        if e.name == name.encode():
            return e
    raise KeyError(name)


def set_flags(data: bytes, name: str, local: int | None = None, central: int | None = None
              ) -> bytes:
    """Overwrite a member's general-purpose flag bits in its local and/or central header."""
    out, e = bytearray(data), entry(data, name)
    if local is not None:
        struct.pack_into("<H", out, e.local + 6, local)
    if central is not None:
        struct.pack_into("<H", out, e.central + 8, central)
    return bytes(out)


def set_crc(data: bytes, name: str, crc: int) -> bytes:
    out, e = bytearray(data), entry(data, name)
    struct.pack_into("<L", out, e.local + 14, crc)
    struct.pack_into("<L", out, e.central + 16, crc)
    return bytes(out)


def rename(data: bytes, name: str, new: bytes, local: bool = True, central: bool = True) -> bytes:
    """Give a member another name of the same length, in its local and/or central header (the
    CRC covers the data only, so nothing else changes). Lets a name hold bytes zipfile's writer
    would not write, such as NUL."""
    assert len(new) == len(name.encode())
    out, e = bytearray(data), entry(data, name)
    if local:
        out[e.local + 30:e.local + 30 + len(new)] = new
    if central:
        out[e.central + 46:e.central + 46 + len(new)] = new
    return bytes(out)


def end_record(n: int, cd_size: int, cd_offset: int, comment: bytes = b"") -> bytes:
    return END.pack(END_SIG, 0, 0, n, n, cd_size, cd_offset, len(comment)) + comment


def hidden_end_record(shown: bytes, hidden: bytes) -> bytes:
    """One file holding two zips' members, where the end record of `shown` is a real, complete
    end record whose comment holds `hidden`'s central directory and end record.

        [shown's local records][hidden's local records][shown's central directory]
        [end record -> shown's directory, comment = [hidden's directory][end record -> it]]

    A reader that searches backwards for the end-record signature (miniz in torch.load, Python's
    zipfile) finds the one in the comment and reads `hidden`; a reader that takes the first end
    record whose comment runs exactly to the end of the file reads `shown`. The hidden end
    record's offsets are exact, so zipfile sees no prepended data either."""
    s_cd, s_cd_size, s_entries = zip_layout(shown)
    h_cd, h_cd_size, h_entries = zip_layout(hidden)
    s_locals, h_locals = shown[:s_cd], hidden[:h_cd]
    s_dir = shown[s_cd:s_cd + s_cd_size]
    h_dir = bytearray(hidden[h_cd:h_cd + h_cd_size])
    for e in h_entries:  # hidden's local records move up by len(s_locals)
        at = e.central - h_cd + 42
        struct.pack_into("<L", h_dir, at, struct.unpack_from("<L", h_dir, at)[0] + len(s_locals))
    head = s_locals + h_locals + s_dir
    hidden_dir_offset = len(head) + END.size
    comment = bytes(h_dir) + end_record(len(h_entries), len(h_dir), hidden_dir_offset)
    return head + end_record(len(s_entries), len(s_dir), len(s_locals) + len(h_locals), comment)


# --------------------------------------------------------------------------------------------
# torch zip (torch.save); torch.load reads it with miniz


def torch_benign() -> bytes:
    import torch
    buf = io.BytesIO()
    torch.save({"weight": torch.arange(6.0).reshape(2, 3), "bias": torch.zeros(2)}, buf)
    return buf.getvalue()


def torch_with(pkl: bytes | None = None, method: int = zipfile.ZIP_STORED,
               attr: int = UNIX_FILE, name: str | None = None, first: list[Member] = ()
               ) -> bytes:
    """torch.save's archive rewritten with zipfile: data.pkl replaced by `pkl` (if given),
    written with `method`/`attr`, renamed to `name`; `first` members go before all others."""
    members = list(first)
    for m in zip_members(torch_benign()):
        if m.name.endswith("/data.pkl"):
            m = Member(name or m.name, pkl if pkl is not None else m.data, method, attr)
        members.append(m)
    return zip_of(members)


def torch_two_folders() -> bytes:
    """miniz-based torch.load takes the archive folder from the FIRST member's name: a payload
    folder listed first wins over the genuine archive/ folder listed after it."""
    evil = [Member("b/data.pkl", payload_pickle()), Member("b/version", b"3\n")]
    return zip_of(evil + zip_members(torch_benign()))


def torch_cases() -> list[Case]:
    P = payload_pickle
    pkl = "archive/data.pkl"
    c = [
        ("benign", "benign", torch_benign, "torch.save as written"),
        ("benign-rewritten", "benign", lambda: torch_with(), "control: rewritten by zipfile"),
        ("benign-deflated", "benign",
         lambda: torch_with(method=zipfile.ZIP_DEFLATED), "data.pkl deflated"),
        ("payload-stored", "payload", lambda: torch_with(P()), "data.pkl = payload"),
        ("payload-deflated", "payload", lambda: torch_with(P(), zipfile.ZIP_DEFLATED), ""),
        ("payload-exec", "payload",
         lambda: torch_with(P(b"x = 1", callee=b"builtins\nexec"), zipfile.ZIP_DEFLATED),
         "builtins.exec('x = 1'): stopped at compile"),
        ("payload-bzip2", "payload", lambda: torch_with(P(), zipfile.ZIP_BZIP2),
         "miniz reads stored/deflate only"),
        ("payload-lzma", "payload", lambda: torch_with(P(), zipfile.ZIP_LZMA),
         "miniz reads stored/deflate only"),
        ("payload-eocd-in-comment", "payload",
         lambda: hidden_end_record(torch_benign(), torch_with(P())),
         "2nd end record (payload) in the comment of the benign one"),
        ("payload-dir-entry-first", "payload",
         lambda: torch_with(P(), first=[Member("archive/", b"", attr=0o40755 << 16 | 0x10)]),
         "a directory entry archive/ listed first"),
        ("payload-trailing-slash", "payload",
         lambda: torch_with(P(), name=pkl + "/"), "payload member named archive/data.pkl/"),
        ("payload-symlink-attr", "payload",
         lambda: torch_with(P(), attr=UNIX_SYMLINK), "data.pkl flagged as a symlink"),
        ("payload-encrypted-flag", "payload",
         lambda: set_flags(torch_with(P()), pkl, local=1, central=1),
         "traditional-encryption bit set, data in clear"),
        ("payload-encrypted-local-only", "payload",
         lambda: set_flags(torch_with(P()), pkl, local=1),
         "encryption bit in the local header only"),
        ("payload-bad-crc", "payload",
         lambda: set_crc(torch_with(P()), pkl, 0x12345678), "wrong CRC-32 for data.pkl"),
        ("payload-local-name-differs", "payload",
         lambda: rename(torch_with(P()), pkl, b"archive/data.pkX", central=False),
         "local header names another file; central directory says data.pkl"),
        ("payload-first-folder-wins", "payload", torch_two_folders,
         "b/data.pkl (payload) listed before archive/data.pkl"),
        ("zeros-then-payload", "payload",
         lambda: torch_with(P(zeros=ZEROS), zipfile.ZIP_DEFLATED),
         "deflated data.pkl: 64 MiB BINBYTES of zeros, then the payload"),
    ]
    return [Case(f"torch-{n}", "torch", e, "torch.load", f"torch-{n}.pt", w, note)
            for n, e, w, note in c]


# --------------------------------------------------------------------------------------------
# numpy .npz (numpy.savez); numpy.load reads it with Python's zipfile


def npy_payload(zeros: int = 0) -> bytes:
    """A .npy of one object element whose data is the payload pickle: numpy.load with
    allow_pickle=True hands the data to pickle.load."""
    import numpy as np
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False,
                                               "shape": (1,)})
    return buf.getvalue() + payload_pickle(zeros=zeros)


def npy(array) -> bytes:
    import numpy as np
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def savez(compressed: bool = False, **arrays) -> bytes:
    import numpy as np
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def small_arrays():
    import numpy as np
    return {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.ones(4)}


def npz_rewritten(method: int) -> bytes:
    """numpy.savez's members rewritten by zipfile with another method (numpy.load reads any
    method Python's zipfile reads)."""
    return zip_of([Member(m.name, m.data, method) for m in zip_members(savez(**small_arrays()))])


def npz_with_payload(name: str = "x.npy", method: int = zipfile.ZIP_STORED,
                     attr: int = UNIX_FILE, zeros: int = 0) -> bytes:
    """What numpy.savez writes for {'w': ..., 'x': <object array>}, with x's pickle replaced."""
    return zip_of([Member("w.npy", npy(small_arrays()["w"])),
                   Member(name, npy_payload(zeros), method, attr)])


def npz_cases() -> list[Case]:
    import numpy as np

    def mask():
        m = np.zeros((4096, 4096), dtype=bool)
        m[1024:3072, 512:3584] = True
        return m

    def objects():
        return np.array([{"label": "cat", "id": 1}, ["a", "b"], "text"], dtype=object)

    c = [
        ("benign-savez", "benign", lambda: savez(**small_arrays()), ""),
        ("benign-savez-compressed", "benign",
         lambda: savez(True, **small_arrays()), ""),
        ("benign-object-array", "benign",
         lambda: savez(meta=objects(), **small_arrays()), "object array pickled by numpy"),
        ("benign-zeros-1e7", "benign",
         lambda: savez(True, z=np.zeros(10 ** 7)), "savez_compressed(np.zeros(10**7))"),
        ("benign-bool-mask-4096", "benign", lambda: savez(True, mask=mask()),
         "savez_compressed of a 4096x4096 bool mask"),
        ("benign-bzip2", "benign", lambda: npz_rewritten(zipfile.ZIP_BZIP2),
         "members ZIP_BZIP2"),
        ("benign-lzma", "benign", lambda: npz_rewritten(zipfile.ZIP_LZMA), "members ZIP_LZMA"),
        ("payload-stored", "payload", lambda: npz_with_payload(), "object member x.npy"),
        ("payload-deflated", "payload",
         lambda: npz_with_payload(method=zipfile.ZIP_DEFLATED), ""),
        ("payload-bzip2", "payload", lambda: npz_with_payload(method=zipfile.ZIP_BZIP2), ""),
        ("payload-lzma", "payload", lambda: npz_with_payload(method=zipfile.ZIP_LZMA), ""),
        ("payload-trailing-slash", "payload", lambda: npz_with_payload("x.npy/"),
         "member x.npy/ (zipfile: a directory name, still a member)"),
        ("payload-nul-slash", "payload",
         lambda: rename(npz_with_payload("x.npyZ/"), "x.npyZ/", b"x.npy\0/"),
         "member x.npy\\0/ (zipfile cuts the name at NUL)"),
        ("payload-symlink-attr", "payload",
         lambda: npz_with_payload(attr=UNIX_SYMLINK), "x.npy flagged as a symlink"),
        ("payload-eocd-in-comment", "payload",
         lambda: hidden_end_record(savez(**small_arrays()), npz_with_payload()),
         "2nd end record (payload) in the comment of the benign one"),
        ("payload-encrypted-local-only", "payload",
         lambda: set_flags(npz_with_payload(), "x.npy", local=1),
         "encryption bit in the local header only"),
        ("zeros-then-payload", "payload",
         lambda: npz_with_payload(method=zipfile.ZIP_DEFLATED, zeros=ZEROS),
         "deflated x.npy: 64 MiB BINBYTES of zeros, then the payload"),
        ("bomb-member-then-payload", "payload",
         lambda: zip_of([Member("a.npy", npy(np.zeros(ZEROS, np.uint8)), zipfile.ZIP_DEFLATED),
                         Member("x.npy", npy_payload())]),
         "64 MiB of zeros deflated in a.npy, payload in the next member"),
    ]
    return [Case(f"npz-{n}", "npz", e, "numpy.load", f"npz-{n}.npz", w, note)
            for n, e, w, note in c]


# --------------------------------------------------------------------------------------------
# joblib (joblib.dump); joblib.load picks the decompressor from the file's magic bytes

JOBLIB_ZF_LEN = 19  # joblib.numpy_pickle_compat._MAX_LEN: len(hex(2**64))


def joblib_dump(obj, compress) -> bytes:
    import joblib
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.joblib")
        joblib.dump(obj, path, compress=compress)
        with open(path, "rb") as f:
            return f.read()


def joblib_wrap(kind: str, data: bytes) -> bytes:
    """The compressed containers joblib.load recognises, around any pickle bytes
    (joblib/compressor.py: zlib 0x78, gzip 1f8b, bz2 'BZ', xz fd'7zXZ', lzma-alone 5d00;
    numpy_pickle_compat.py: 'ZF' + hex length padded to 19 + zlib, joblib < 0.10)."""
    if kind == "raw":
        return data
    if kind == "zlib":
        return zlib.compress(data, 3)
    if kind == "gzip":
        return gzip.compress(data, 3, mtime=0)
    if kind == "bz2":
        return bz2.compress(data, 3)
    if kind == "xz":
        return lzma.compress(data, lzma.FORMAT_XZ, preset=3)
    if kind == "lzma":
        return lzma.compress(data, lzma.FORMAT_ALONE, preset=3)
    if kind == "compat-ZF":
        return b"ZF" + hex(len(data)).encode().ljust(JOBLIB_ZF_LEN) + zlib.compress(data, 3)
    raise ValueError(kind)


def joblib_cases() -> list[Case]:
    import numpy as np

    def model():
        return {"coef": np.linspace(0, 1, 64), "intercept": np.float64(0.5),
                "params": {"alpha": 0.1, "classes": ["a", "b"]}}

    c = [("benign-plain", "benign", lambda: joblib_dump(model(), 0), "compress=0")]
    for comp in (3, ("zlib", 3), ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3)):
        label = comp if isinstance(comp, int) else comp[0]
        c.append((f"benign-compress-{label}", "benign",
                  lambda comp=comp: joblib_dump(model(), comp), f"compress={comp!r}"))
    c.append(("benign-zeros-1e7", "benign", lambda: joblib_dump(np.zeros(10 ** 7), 3),
              "np.zeros(10**7), compress=3"))
    for kind in ("raw", "zlib", "gzip", "bz2", "xz", "lzma", "compat-ZF"):
        c.append((f"payload-{kind}", "payload",
                  lambda kind=kind: joblib_wrap(kind, payload_pickle()), f"{kind} wrapper"))
    c.append(("zeros-then-payload-zlib", "payload",
              lambda: joblib_wrap("zlib", payload_pickle(zeros=ZEROS)),
              "zlib: 64 MiB BINBYTES of zeros, then the payload"))
    return [Case(f"joblib-{n}", "joblib", e, "joblib.load", f"joblib-{n}.joblib", w, note)
            for n, e, w, note in c]


# --------------------------------------------------------------------------------------------
# tar, tar.gz, 7z; loaded by unpacking (extractall) and loading a member


@dataclass
class TarMember:
    name: str
    data: bytes = b""
    link: str | None = None  # a symlink to this target


def tar_of(members: list[TarMember], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for m in members:
            ti = tarfile.TarInfo(m.name)
            ti.mtime = 1704067200
            ti.mode = 0o644
            if m.link is not None:
                ti.type, ti.linkname = tarfile.SYMTYPE, m.link
                tf.addfile(ti)
            else:
                ti.size = len(m.data)
                tf.addfile(ti, io.BytesIO(m.data))
    return buf.getvalue()


def sevenzip_of(members: dict[str, bytes]) -> bytes:
    import py7zr
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "a.7z")
        with py7zr.SevenZipFile(out, "w") as z:
            for name, data in members.items():
                src = os.path.join(d, "src-" + name.replace("/", "_"))
                with open(src, "wb") as f:
                    f.write(data)
                z.write(src, name)
        with open(out, "rb") as f:
            return f.read()


def archive_cases() -> list[Case]:
    P, B = payload_pickle, benign_pickle
    load_pkl = "tar|model.pkl|pickle.load"
    c = [
        ("tar-benign", "benign", load_pkl, "tar", lambda: tar_of([TarMember("model.pkl", B())]),
         ""),
        ("tar-payload", "payload", load_pkl, "tar",
         lambda: tar_of([TarMember("model.pkl", P())]), ""),
        ("tgz-payload", "payload", load_pkl, "tar.gz",
         lambda: tar_of([TarMember("model.pkl", P())], "w:gz"), ""),
        ("tbz2-payload", "payload", load_pkl, "tar.bz2",
         lambda: tar_of([TarMember("model.pkl", P())], "w:bz2"), ""),
        ("txz-payload", "payload", load_pkl, "tar.xz",
         lambda: tar_of([TarMember("model.pkl", P())], "w:xz"), ""),
        ("tgz-zeros-then-payload", "payload", load_pkl, "tar.gz",
         lambda: tar_of([TarMember("zeros.bin", bytes(ZEROS)), TarMember("model.pkl", P())],
                        "w:gz"), "64 MiB zero member, then the payload member"),
        ("tar-symlink-inside", "benign", "tar|latest.pkl|pickle.load", "tar",
         lambda: tar_of([TarMember("ckpt/model.pkl", B()),
                         TarMember("latest.pkl", link="ckpt/model.pkl")]),
         "latest.pkl -> ckpt/model.pkl (stays in the archive)"),
        ("tar-symlink-escape-only", "flag", load_pkl, "tar",
         lambda: tar_of([TarMember("model.pkl", B()), TarMember("etc", link="../../../../etc")]),
         "etc -> ../../../../etc (nothing written through it)"),
        ("tar-symlink-escape-write", "payload", load_pkl, "tar",
         lambda: tar_of([TarMember("model.pkl", link="../escaped.pkl"),
                         TarMember("model.pkl", B())]),
         "model.pkl -> ../escaped.pkl, then a file model.pkl written through the link"),
        ("tar-dotdot-member", "payload", "tar|model.pkl|pickle.load", "tar",
         lambda: tar_of([TarMember("model.pkl", B()), TarMember("../escaped.pkl", B())]),
         "member ../escaped.pkl"),
        ("7z-benign", "benign", "7z|model.pkl|pickle.load", "7z",
         lambda: sevenzip_of({"model.pkl": B()}), ""),
        ("7z-payload", "payload", "7z|model.pkl|pickle.load", "7z",
         lambda: sevenzip_of({"model.pkl": P()}), ""),
    ]
    return [Case(n, "7z" if n.startswith("7z") else "tar", e, loader, f"{n}.{ext}", w, note)
            for n, e, loader, ext, w, note in c]


# --------------------------------------------------------------------------------------------
# Nested containers


def nested_cases() -> list[Case]:
    P = payload_pickle

    def torch_payload():
        return torch_with(P())

    def zip_depth(levels: int) -> bytes:
        data = zip_of([Member("model.pkl", P())])
        for i in range(levels - 1):
            data = zip_of([Member(f"level{levels - 1 - i}.zip", data, zipfile.ZIP_DEFLATED)])
        return data

    c = [
        ("torch-in-tar", "payload", "tar|model.pt|torch.load", "tar",
         lambda: tar_of([TarMember("model.pt", torch_payload())])),
        ("torch-in-tgz-benign", "benign", "tar|model.pt|torch.load", "tar.gz",
         lambda: tar_of([TarMember("model.pt", torch_benign())], "w:gz")),
        ("npz-in-zip", "payload", "zip|weights.npz|numpy.load", "zip",
         lambda: zip_of([Member("weights.npz", npz_with_payload(), zipfile.ZIP_DEFLATED)])),
        ("npz-in-zip-benign", "benign", "zip|weights.npz|numpy.load", "zip",
         lambda: zip_of([Member("weights.npz", savez(**small_arrays()), zipfile.ZIP_DEFLATED)])),
        ("pkl-in-zip-in-tgz", "payload", "tar|bundle.zip|zip|model.pkl|pickle.load", "tar.gz",
         lambda: tar_of([TarMember("bundle.zip", zip_of([Member("model.pkl", P())]))], "w:gz")),
        ("torch-in-7z", "payload", "7z|model.pt|torch.load", "7z",
         lambda: sevenzip_of({"model.pt": torch_payload()})),
        ("joblib-in-tgz", "payload", "tar|model.joblib|joblib.load", "tar.gz",
         lambda: tar_of([TarMember("model.joblib", joblib_wrap("zlib", P()))], "w:gz")),
        ("zip-depth-4", "payload",
         "zip|level1.zip|zip|level2.zip|zip|level3.zip|zip|model.pkl|pickle.load", "zip",
         lambda: zip_depth(4)),
    ]
    return [Case(f"nested-{n}", "nested", e, loader, f"nested-{n}.{ext}", w)
            for n, e, loader, ext, w in c]


def all_cases() -> list[Case]:
    return torch_cases() + npz_cases() + joblib_cases() + archive_cases() + nested_cases()
