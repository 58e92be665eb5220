#!/usr/bin/env python3
"""Write mscan's zip-structure samples (samples/zip/) and their manifest entries.

One small archive per zip rule: the reader disagreements, polyglots, unsafe paths, encryption,
malformed archives, compression bombs, unsupported members and TorchScript code, next to a
benign torch.save-like layout. Stdlib only (zipfile, struct, zlib); the pickles inside are
assembled from raw opcodes; nothing is ever unpickled or loaded. Deterministic: fixed
timestamps, so a re-run writes identical bytes.

    python3 samples/make_zip_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import io
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

from make_samples import MANIFEST, MEDIUM_PLUS, ROOT, update_manifest  # noqa: F401

OUT = Path(__file__).resolve().parent / "zip"
DATE = (2024, 1, 1, 0, 0, 0)

# posix.system('echo mscan-sample'), protocol 2: GLOBAL, SHORT_BINUNICODE, TUPLE1, REDUCE, STOP
_CMD = b"echo mscan-sample"
PAYLOAD = b"\x80\x02cposix\nsystem\n\x8c" + bytes([len(_CMD)]) + _CMD + b"\x85R."
# an empty list, protocol 2
BENIGN = b"\x80\x02]q\x00."


def _gguf_member():
    """A minimal GGUF v3 file: no tensors, one key, a hostile chat template (never rendered)."""
    key = b"tokenizer.chat_template"
    text = b"{{ cycler.__init__.__globals__.os.popen('echo mscan-sample').read() }}"
    return (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(key)) + key
            + struct.pack("<IQ", 8, len(text)) + text)


GGUF_MEMBER = _gguf_member()


def zip_bytes(members, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = compression
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return bytearray(buf.getvalue())


def torch_members(pickle_bytes):
    return [("archive/data.pkl", pickle_bytes), ("archive/data/0", bytes(64)),
            ("archive/version", b"3\n"), ("archive/byteorder", b"little")]


def central(b, index=0):
    """Offset of the index-th central directory header."""
    at = -1
    for _ in range(index + 1):
        at = b.index(b"PK\x01\x02", at + 1)
    return at


def local(b, index=0):
    at = -1
    for _ in range(index + 1):
        at = b.index(b"PK\x03\x04", at + 1)
    return at


def rename_local(b, old, new):
    """Changes a member's name in its local header only (same length)."""
    assert len(old) == len(new)
    at = b.index(old, local(b))
    b[at:at + len(old)] = new
    return b


def set_flags(b, bits):
    for at in (local(b) + 6, central(b) + 8):
        flags = struct.unpack_from("<H", b, at)[0] | bits
        struct.pack_into("<H", b, at, flags)
    return b


def bad_crc(b):
    for at in (local(b) + 14, central(b) + 16):
        b[at] ^= 0xFF
    return b


def overlapping(b):
    """The second central entry points at the first member's local header: two entries share
    one member's bytes (and the local name differs from the second entry's)."""
    struct.pack_into("<I", b, central(b, 1) + 42, local(b))
    return b


def method(b, value):
    for at in (local(b) + 8, central(b) + 10):
        struct.pack_into("<H", b, at, value)
    return b


def nested(levels, inner):
    data = bytes(zip_bytes(torch_members(inner)))
    for n in range(levels):
        data = bytes(zip_bytes([(f"level{n}.zip", data)]))
    return data


def bomb():
    # A pickle of 32 Mi NONE/POP pairs then STOP: deflates ~1000:1, far past the ratio limit
    # but within the member cap.
    body = b"\x80\x02" + b"N0" * (32 << 20) + b"N."
    return zip_bytes([("archive/data.pkl", body)], zipfile.ZIP_DEFLATED)


SAMPLES = [
    # name, kind, description, expect, forbid, bytes
    ("torch_layout.pt", "benign",
     "torch.save-like zip: archive/data.pkl (empty list), data/0, version, byteorder",
     [], [MEDIUM_PLUS], lambda: zip_bytes(torch_members(BENIGN))),
    ("torch_deflated.pt", "benign",
     "the same layout with every member deflated", [], [MEDIUM_PLUS],
     lambda: zip_bytes(torch_members(BENIGN), zipfile.ZIP_DEFLATED)),
    ("zip64.zip", "benign", "a zip64 archive (zip64 end records) holding a benign pickle", [],
     [MEDIUM_PLUS], lambda: zip64_sample()),
    ("hostile_data_pkl.pt", "hostile", "archive/data.pkl calls posix.system",
     ["process-execution"], [], lambda: zip_bytes(torch_members(PAYLOAD))),
    ("payload_in_json_name.pt", "hostile",
     "benign data.pkl, but archive/extra/config.json is a pickle calling posix.system",
     ["process-execution"], [],
     lambda: zip_bytes(torch_members(BENIGN) + [("archive/extra/config.json", PAYLOAD)])),
    ("local_name_mismatch.pt", "hostile",
     "the local header names the payload archive/xata.pkl, the central directory "
     "archive/data.pkl (CVE-2025-1944 class)", ["process-execution", "zip-reader-disagreement"],
     [], lambda: rename_local(zip_bytes(torch_members(PAYLOAD)), b"archive/data.pkl",
                              b"archive/xata.pkl")),
    ("duplicate_name.pt", "hostile",
     "two archive/data.pkl entries, benign first, payload second",
     ["process-execution", "zip-reader-disagreement"], [],
     lambda: zip_bytes([("archive/data.pkl", BENIGN), ("archive/data.pkl", PAYLOAD)])),
    ("case_duplicate.pt", "hostile",
     "archive/data.pkl and ARCHIVE/DATA.PKL: the same name to miniz's case-insensitive lookup",
     ["process-execution", "zip-reader-disagreement"], [],
     lambda: zip_bytes([("archive/data.pkl", BENIGN), ("ARCHIVE/DATA.PKL", PAYLOAD)])),
    ("bad_crc.pt", "hostile",
     "payload data.pkl with a wrong CRC-32 in both headers: zipfile refuses, torch loads "
     "(CVE-2025-10155/10156 class)", ["process-execution", "zip-reader-disagreement"], [],
     lambda: bad_crc(zip_bytes(torch_members(PAYLOAD)))),
    ("overlapping.pt", "anomaly",
     "a second central entry whose local header offset is the first member's",
     ["zip-reader-disagreement"], [],
     lambda: overlapping(zip_bytes(torch_members(BENIGN)))),
    ("pickle_then_zip.pt", "hostile",
     "polyglot: a payload pickle followed by a complete benign torch zip; torch.load reads "
     "the pickle", ["process-execution", "zip-polyglot"], [],
     lambda: PAYLOAD + bytes(zip_bytes(torch_members(BENIGN)))),
    ("trailing_after_end.pt", "anomaly",
     "benign torch zip with 16 bytes after the end of central directory record",
     ["zip-polyglot"], [], lambda: zip_bytes(torch_members(BENIGN)) + b"\x00" * 16),
    ("encrypted_flag.pt", "anomaly", "data.pkl has the encryption flag set",
     ["archive-encrypted"], [], lambda: set_flags(zip_bytes(torch_members(BENIGN)), 1)),
    ("encrypted_traditional.pt", "anomaly",
     "archive/data.pkl really encrypted with the traditional PKWARE cipher (flag bit 0, a "
     "12-byte encryption header, compressed size = size + 12): reported as encrypted, not "
     "as malformed or as a bad CRC", ["archive-encrypted"],
     ["archive-malformed", "zip-reader-disagreement"], lambda: encrypted_zip()),
    ("unsupported_method.pt", "anomaly",
     "data.pkl claims compression method 93 (Zstandard), which neither torch.load nor "
     "Python's zipfile reads", ["archive-malformed"], [],
     lambda: method(zip_bytes(torch_members(BENIGN)), 93)),
    ("lzma_header_garbage.pt", "anomaly",
     "data.pkl claims compression method 14 (LZMA) but holds a plain pickle: its LZMA header "
     "declares thousands of property bytes, which Python's zipfile refuses",
     ["archive-malformed"], [], lambda: method(zip_bytes(torch_members(BENIGN)), 14)),
    ("only_local_header.pt", "anomaly", "a zip local header and nothing else",
     ["archive-malformed"], [], lambda: b"PK\x03\x04\x14\x00\x00\x00\x08\x00"),
    ("ratio_pickle.zip", "benign",
     "a 64 MiB pickle (None/POP pairs) deflated to ~64 KiB (ratio ~1000:1): inflated in full, "
     "as pickle.load would, and reported low, not as a bomb",
     ["archive-compression-ratio"], [MEDIUM_PLUS], bomb),
    ("path_traversal.zip", "hostile", "a member named ../../evil.pkl carrying a payload",
     ["archive-unsafe-path", "process-execution"], [],
     lambda: zip_bytes([("../../evil.pkl", PAYLOAD)])),
    ("absolute_path.zip", "anomaly", "a member named /tmp/model.pkl",
     ["archive-unsafe-path"], [], lambda: zip_bytes([("/tmp/model.pkl", BENIGN)])),
    ("gguf_member.zip", "hostile",
     "a member that is a GGUF file whose chat template reaches os.popen through "
     "cycler.__init__.__globals__ (read as GGUF)",
     ["chat-template-injection"], [], lambda: zip_bytes([("model.gguf", GGUF_MEMBER)])),
    ("ggjt_member.zip", "anomaly",
     "a member that is a GGJT v3 file (llama.cpp's format before GGUF), which mscan cannot "
     "read", ["unsupported-member"], [],
     lambda: zip_bytes([("ggml-model-q4_0.bin", b"tjgg\x03\x00\x00\x00" + bytes(120))])),
    ("nested_hostile.zip", "hostile", "a zip in a zip whose torch layout carries the payload",
     ["process-execution"], [], lambda: nested(1, PAYLOAD)),
    ("nested_too_deep.zip", "hostile", "12 nested zips with a payload at the bottom",
     ["container-not-scanned"], [], lambda: nested(12, PAYLOAD)),
    ("hidden_end_record.pt", "hostile",
     "a benign torch zip whose end record's comment hides a second directory and end record "
     "(the last signature, which torch.load's miniz and Python's zipfile read) pointing "
     "archive/data.pkl at a payload; a reader wanting the record whose comment ends at the "
     "end of the file sees only the benign data.pkl",
     ["process-execution", "zip-reader-disagreement"], [], lambda: hidden_end_record()),
    ("torchscript_layout.pt", "anomaly",
     "TorchScript-like archive: archive/code/__torch__.py, constants.pkl, data.pkl",
     ["torchscript-code"], [MEDIUM_PLUS],
     lambda: zip_bytes([("archive/data.pkl", BENIGN), ("archive/constants.pkl", BENIGN),
                        ("archive/code/__torch__.py", b"def forward(self):\n  return 1\n")])),
]


def hidden_end_record():
    """A benign torch zip whose end record's comment hides a second central directory and end
    record. The hidden record is the last signature in the file, so miniz (torch.load) and
    Python's zipfile take it; its comment length runs one byte past the end, so a reader that
    wants a record whose comment ends exactly at the end takes the benign one. The hidden
    directory points archive/data.pkl at a payload member stored before the benign directory."""
    b = zip_bytes(torch_members(BENIGN))
    end = b.rindex(b"PK\x05\x06")
    count = struct.unpack_from("<H", b, end + 10)[0]
    cd_size, cd_offset = struct.unpack_from("<II", b, end + 12)
    name = b"archive/data.pkl"
    crc = zlib.crc32(PAYLOAD)
    payload_local = cd_offset
    lh = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, crc, len(PAYLOAD),
                     len(PAYLOAD), len(name), 0) + name + PAYLOAD
    body = bytes(b[:cd_offset]) + lh
    benign_cd = bytes(b[cd_offset:cd_offset + cd_size])
    payload_cd = bytearray(benign_cd)
    assert payload_cd[46:46 + len(name)] == name  # data.pkl is the first entry
    struct.pack_into("<III", payload_cd, 16, crc, len(PAYLOAD), len(PAYLOAD))
    struct.pack_into("<I", payload_cd, 42, payload_local)
    benign_cd_at = len(body)
    payload_cd_at = benign_cd_at + cd_size + 22
    hidden_end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(payload_cd),
                             payload_cd_at, 1)
    comment = bytes(payload_cd) + hidden_end
    real_end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, cd_size, benign_cd_at,
                           len(comment))
    return body + benign_cd + real_end + comment


def zipcrypto(data, password=b"mscan"):
    """`data` encrypted with the traditional PKWARE cipher (APPNOTE 6.1), after its 12-byte
    header (fixed bytes, the last one the CRC's high byte, as APPNOTE asks)."""
    def crc_byte(crc, b):
        return zlib.crc32(bytes([b]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF
    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(c):
        keys[0] = crc_byte(keys[0], c)
        keys[1] = (keys[1] + (keys[0] & 0xFF)) & 0xFFFFFFFF
        keys[1] = (keys[1] * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_byte(keys[2], keys[1] >> 24)

    for c in password:
        update(c)
    header = bytes(range(11)) + bytes([zlib.crc32(data) >> 24])
    out = bytearray()
    for c in header + data:
        k = keys[2] | 2
        out.append(c ^ (((k * (k ^ 1)) >> 8) & 0xFF))
        update(c)
    return bytes(out)


def encrypted_zip():
    """A stored member really encrypted with the traditional cipher: the flag set and 12
    header bytes before the data, so the compressed size is the size plus 12 (what `zip -e`
    writes)."""
    b = zip_bytes(torch_members(BENIGN))
    cd, lh = central(b), local(b)
    data = zipcrypto(BENIGN)
    name_len = struct.unpack_from("<H", b, lh + 26)[0]
    start = lh + 30 + name_len
    b[start:start + len(BENIGN)] = data  # members after it move by 12
    shift = len(data) - len(BENIGN)
    struct.pack_into("<H", b, lh + 6, 1)
    struct.pack_into("<I", b, lh + 18, len(data))
    cd += shift
    struct.pack_into("<H", b, cd + 8, 1)
    struct.pack_into("<I", b, cd + 20, len(data))
    # later central entries and the end record point past the grown member
    for i in range(1, 4):
        at = central(b, i)
        off = struct.unpack_from("<I", b, at + 42)[0]
        struct.pack_into("<I", b, at + 42, off + shift)
    end = b.rindex(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<I", b, end + 16)[0]
    struct.pack_into("<I", b, end + 16, cd_offset + shift)
    return b


def zip64_sample():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        with z.open(zipfile.ZipInfo("archive/data.pkl", DATE), "w", force_zip64=True) as f:
            f.write(BENIGN)
    b = bytearray(buf.getvalue())
    # zipfile writes zip64 end records only past 65535 entries; force them: a zip64 end
    # record and locator before the ordinary end record, which then carries 0xffff markers.
    end = b.rindex(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack_from("<II", b, end + 12)
    count = struct.unpack_from("<H", b, end + 10)[0]
    end64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, cd_size,
                        cd_offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, end, 1)
    record = bytearray(b[end:])
    struct.pack_into("<HHHHII", record, 4, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    return b[:end] + end64 + locator + record


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    entries = []
    for name, kind, description, expect, forbid, make in SAMPLES:
        data = bytes(make())
        path = OUT / name
        path.write_bytes(data)
        # a sanity check that the archive is what it claims: zipfile can list the plain ones
        print(f"{kind:7} {name:28} {len(data):8} B  crc32 {zlib.crc32(data):08x}")
        entries.append({"path": path.relative_to(ROOT).as_posix(), "kind": kind,
                         "description": description, "expect": sorted(expect),
                         "forbid": sorted(forbid)})
    update_manifest(entries, ["samples/zip/"])
    print(f"wrote {len(entries)} zip samples")


if __name__ == "__main__":
    main()
