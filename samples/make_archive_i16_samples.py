#!/usr/bin/env python3
"""Write the samples of issue 16's container fixes (samples/archive-i16/) and their manifest
entries: tar links that stay inside the archive (benign) or leave it (hostile), and zip members
whose names end in '/' but hold data a loader reads.

Stdlib (tarfile, zipfile, struct) and the `7z` tool (Debian package p7zip-full) for the 7z
sample; the pickles are assembled from raw opcodes and carry only `echo mscan-sample`; nothing
is ever unpickled or loaded. Deterministic (fixed times, stored members, no 7z timestamps).

    python3 samples/make_archive_i16_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

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
