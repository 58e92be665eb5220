#!/usr/bin/env python3
"""Write the samples of issue 16's container fixes (samples/archive-i16/) and their manifest
entries: tar links that stay inside the archive (benign) or leave it (hostile), zip members
whose names end in '/' but hold data a loader reads, bzip2 and LZMA zip members, runs of zeros
(benign, and before a payload) and compression bombs.

Stdlib (tarfile, zipfile, struct, bz2, zlib), the `7z` tool (Debian package p7zip-full) for the
7z sample, and for two samples the real writers (python3-numpy, python3-joblib: run with
/usr/bin/python3). The pickles are assembled from raw opcodes and carry only
`echo mscan-sample`; nothing is ever unpickled or loaded. Deterministic (fixed times, stored
members, no 7z timestamps).

    python3 samples/make_archive_i16_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import bz2
import io
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path
from unittest import mock

from make_container_samples import tar, tar_info
from make_samples import MEDIUM_PLUS, ROOT, update_manifest

OUT = Path(__file__).resolve().parent / "archive-i16"
GROUP = "archive-i16"
MTIME = 1704067200
DATE = (2024, 1, 1, 0, 0, 0)
CMD = b"echo mscan-sample"
# posix.system('echo mscan-sample'), protocol 2
PAYLOAD = b"\x80\x02cposix\nsystem\n\x8c" + bytes([len(CMD)]) + CMD + b"\x85R."
BENIGN = b"\x80\x02]q\x00."  # an empty list

SAMPLES = []


def sample(kind, name, description, expect=(), forbid=None):
    def register(builder):
        SAMPLES.append((kind, name, description, list(expect),
                        list(forbid) if forbid is not None else
                        ([] if kind == "hostile" else [MEDIUM_PLUS]), builder))
        return builder
    return register


def npy_object(pickle_bytes):
    """A .npy of one object element: numpy.load(allow_pickle=True) unpickles what follows."""
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * (63 - len(header) % 64) + b"\n"  # 10 + len(header) is a multiple of 64
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + pickle_bytes


def zip_raw_names(members):
    """A stored zip whose central and local names are the given raw bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i, (_, data) in enumerate(members):
            z.writestr(zipfile.ZipInfo(f"m{i:0{len(members[i][0]) - 1}d}", DATE), data)
    b = bytearray(buf.getvalue())
    for i, (raw, _) in enumerate(members):
        placeholder = f"m{i:0{len(raw) - 1}d}".encode()
        assert len(placeholder) == len(raw)
        b = b.replace(placeholder, raw)
    return bytes(b)


@sample("benign", "links_inside.tar",
        "a tar whose symbolic link models/current.pkl -> ../model.pkl and hard link copy.pkl "
        "-> model.pkl stay inside the archive: nothing to report (issue 16, item 6)")
def _():
    return tar([("model.pkl", BENIGN), ("models/v1.pkl", BENIGN),
                tar_info("models/current.pkl", kind=tarfile.SYMTYPE, linkname="../model.pkl",
                         mode=0o777),
                tar_info("copy.pkl", kind=tarfile.LNKTYPE, linkname="model.pkl")])


@sample("hostile", "symlink_climbs_out.tar",
        "a tar whose symbolic link a/b/config.pkl -> ../../../etc/passwd climbs above the "
        "archive's root", ["archive-unsafe-path"])
def _():
    return tar([("model.pkl", BENIGN),
                tar_info("a/b/config.pkl", kind=tarfile.SYMTYPE, linkname="../../../etc/passwd",
                         mode=0o777)])


@sample("hostile", "npz_member_nul_slash.npz",
        "an npz whose member is named 'arr.npy\\0/': Python's zipfile cuts names at a NUL, so "
        "numpy.load sees arr.npy, an object array whose pickle calls posix.system; a reader "
        "that takes the trailing '/' for a folder skips it (issue 16, item 2)",
        ["process-execution"])
def _():
    return zip_raw_names([(b"arr.npy\x00/", npy_object(PAYLOAD))])


@sample("hostile", "folder_named_member.zip",
        "a zip member named 'model.pkl/' (a folder name) that holds a pickle calling "
        "posix.system: the data is scanned whatever the name says", ["process-execution"])
def _():
    return zip_raw_names([(b"model.pkl/", PAYLOAD)])


@sample("hostile", "py7zr_style_no_file_type.7z",
        "a 7z whose member model.pkl (a pickle calling posix.system) has the Unix-extension "
        "attribute with permission bits but no file type, as py7zr writes it: libarchive "
        "reports no file type, and a reader that only takes regular files skips it (issue 16, "
        "item 3)", ["process-execution"])
def _():
    with tempfile.TemporaryDirectory() as tmp:
        member = Path(tmp) / "model.pkl"
        member.write_bytes(PAYLOAD)
        os.utime(member, (MTIME, MTIME))
        out = Path(tmp) / "out.7z"
        subprocess.run(["7z", "a", "-t7z", "-m0=Copy", "-mhc=off", "-mhe=off", "-mtm=off",
                        "-mtc=off", "-mta=off", str(out), "model.pkl"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        b = bytearray(out.read_bytes())
    # Attributes property (0x15): all defined, one 32-bit value: 0x8000 (Unix extension) with
    # the mode in the high 16 bits. Keep the permissions, drop the file type; fix both CRCs.
    next_offset, next_size = struct.unpack_from("<QQ", b, 12)
    start = 32 + next_offset
    at = b.index(b"\x15\x06\x01\x00", start) + 4
    attr = struct.unpack_from("<I", b, at)[0]
    assert attr & 0x8000 and (attr >> 16) & 0o170000 == 0o100000
    struct.pack_into("<I", b, at, 0x8000 | ((attr >> 16) & 0o7777) << 16)
    struct.pack_into("<I", b, 28, zlib.crc32(bytes(b[start:start + next_size])))
    struct.pack_into("<I", b, 8, zlib.crc32(bytes(b[12:32])))
    return bytes(b)


BIG = (1 << 30) + (64 << 20)  # 1.06 GiB: past the 1 GiB member cap


def zeros_chunks(n, chunk=16 << 20):
    block = bytes(chunk)
    while n > 0:
        yield block[:min(n, chunk)]
        n -= chunk


def bzip2_zeros(prefix, n):
    c = bz2.BZ2Compressor(9)
    out = [c.compress(prefix)]
    out += [c.compress(b) for b in zeros_chunks(n)]
    return b"".join(out) + c.flush()


def npy_header(descr, shape):
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


def zip_with(members, method):
    """A zip written by Python's zipfile, members compressed with `method` (fixed dates)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, DATE), data, compress_type=method)
    return buf.getvalue()


def patch_member(zip_bytes, name, method, crc, compressed, size):
    """Rewrites a stored member's method and sizes in both headers, keeping its data (the
    member's bytes must already be the compressed data)."""
    b = bytearray(zip_bytes)
    n = name.encode()
    local = b.index(b"PK\x03\x04")
    while b[local + 30:local + 30 + len(n)] != n:
        local = b.index(b"PK\x03\x04", local + 4)
    struct.pack_into("<H", b, local + 8, method)
    struct.pack_into("<III", b, local + 14, crc, compressed, size)
    central = b.index(b"PK\x01\x02")
    while b[central + 46:central + 46 + len(n)] != n:
        central = b.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<H", b, central + 10, method)
    struct.pack_into("<III", b, central + 16, crc, compressed, size)
    return bytes(b)


def npy_array(values):
    """A small float64 .npy as numpy.save writes it."""
    data = struct.pack(f"<{len(values)}d", *values)
    return npy_header("<f8", f"({len(values)},)") + data


@sample("benign", "npz_bzip2.npz",
        "an npz whose .npy members are bzip2-compressed (zipfile.ZIP_BZIP2): numpy.load reads "
        "them through Python's zipfile, and so does mscan (was an unsupported-method finding)")
def _():
    return zip_with([("a.npy", npy_array([1.0, 2.0, 3.0])),
                     ("b.npy", npy_array([0.5] * 64))], zipfile.ZIP_BZIP2)


@sample("benign", "npz_lzma.npz",
        "an npz whose .npy members are LZMA-compressed (zipfile.ZIP_LZMA): numpy.load reads "
        "them, and so does mscan (was an unsupported-method finding)")
def _():
    return zip_with([("a.npy", npy_array([1.0, 2.0, 3.0])),
                     ("b.npy", npy_array([0.5] * 64))], zipfile.ZIP_LZMA)


@sample("hostile", "npz_bzip2_object_payload.npz",
        "an npz whose object array arr.npy is bzip2-compressed; its pickle calls posix.system "
        "(numpy.load(allow_pickle=True) runs it; was a medium unsupported-method finding)",
        ["process-execution"])
def _():
    return zip_with([("arr.npy", npy_object(PAYLOAD))], zipfile.ZIP_BZIP2)


@sample("hostile", "npz_lzma_object_payload.npz",
        "an npz whose object array arr.npy is LZMA-compressed; its pickle calls posix.system",
        ["process-execution"])
def _():
    return zip_with([("arr.npy", npy_object(PAYLOAD))], zipfile.ZIP_LZMA)


@sample("hostile", "zeros_then_payload.pt",
        "a torch-layout zip whose deflated archive/data.pkl holds 64 MiB of zeros (BINBYTES8, "
        "then POP) before a posix.system call: torch.load inflates all of it and runs the call; "
        "the ratio (about 1000:1) is reported low beside it, and reading goes on (was a HIGH "
        "bomb that stopped at 16 MiB, hiding the call)",
        ["process-execution", "archive-compression-ratio"])
def _():
    n = 64 << 20
    body = b"\x80\x04\x8e" + struct.pack("<Q", n) + bytes(n) + b"0" + PAYLOAD[2:]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("archive/data.pkl", DATE), body,
                   compress_type=zipfile.ZIP_DEFLATED)
        z.writestr(zipfile.ZipInfo("archive/version", DATE), b"3\n")
    return buf.getvalue()


@sample("hostile", "npy_member_bomb.npz",
        "an npz whose a.npy is bzip2 of a float64 header and 1.06 GiB of zeros (about 1 KB): "
        "numpy.load allocates and inflates all of it; mscan reads the header and judges the "
        "declared sizes (item 4: a bomb in an .npy member)", ["archive-compression-bomb"])
def _():
    count = BIG // 8
    header = npy_header("<f8", f"({count},)")
    size = len(header) + count * 8
    data = bzip2_zeros(header, count * 8)
    crc = zlib.crc32(header)
    for block in zeros_chunks(count * 8):
        crc = zlib.crc32(block, crc)
    placeholder = zip_with([("a.npy", data)], zipfile.ZIP_STORED)
    return patch_member(placeholder, "a.npy", zipfile.ZIP_BZIP2, crc, len(data), size)


@sample("hostile", "tensor_record_bomb.pt",
        "a torch-layout zip whose tensor record archive/data/0 is 64 MiB of zeros deflated "
        "(about 64 KB) but declares 1.06 GiB: torch.load allocates a storage of the declared "
        "size; mscan does not read tensor records but judges their declared sizes (item 4)",
        ["archive-compression-bomb"])
def _():
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = b"".join(c.compress(b) for b in zeros_chunks(64 << 20)) + c.flush()
    placeholder = zip_with([("archive/data.pkl", BENIGN), ("archive/data/0", data),
                            ("archive/version", b"3\n")], zipfile.ZIP_STORED)
    return patch_member(placeholder, "archive/data/0", zipfile.ZIP_DEFLATED, 0, len(data), BIG)


@sample("hostile", "bomb.pkl.bz2",
        "a bzip2 stream of 1.06 GiB of zeros (about 1 KB, ratio about 1,000,000:1): read on to "
        "the 1 GiB member cap, then reported as a compression bomb",
        ["archive-compression-bomb"])
def _():
    return bzip2_zeros(b"", BIG)


@sample("benign", "savez_compressed_zeros.npz",
        "numpy.savez_compressed(np.zeros(10**7)) written by numpy: 80 MB of zeros in about "
        "80 KB; numpy.load reads it harmlessly. The ratio is reported low (was a HIGH bomb "
        "with the declared-ratio check)", ["archive-compression-ratio"])
def _():
    import numpy as np  # the real writer (python3-numpy)
    buf = io.BytesIO()
    with mock.patch("time.time", return_value=MTIME):
        np.savez_compressed(buf, zeros=np.zeros(10**7))
    return buf.getvalue()


@sample("benign", "joblib_zeros_compress3.joblib",
        "joblib.dump(np.zeros(10**7), compress=3) written by joblib: a zlib stream of 80 MB "
        "of zeros in about 80 KB; joblib.load reads it harmlessly. The ratio is reported low "
        "(was a HIGH bomb plus a MEDIUM joblib-malformed: reading stopped at 16 MiB)",
        ["archive-compression-ratio"])
def _():
    import joblib  # the real writer (python3-joblib)
    import numpy as np
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "z.joblib"
        joblib.dump(np.zeros(10**7), path, compress=3)
        return path.read_bytes()


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    entries = []
    for kind, name, description, expect, forbid, builder in SAMPLES:
        path = OUT / kind / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(builder())
        entries.append({"path": path.relative_to(ROOT).as_posix(), "kind": kind,
                        "group": GROUP, "description": description, "expect": expect,
                        "forbid": forbid})
    update_manifest(entries, ["samples/archive-i16/"])
    print(f"wrote {len(entries)} samples under {OUT}")


if __name__ == "__main__":
    main()
