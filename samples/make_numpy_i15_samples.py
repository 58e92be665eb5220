#!/usr/bin/env python3
"""Write the issue 15 NumPy and detection samples (samples/numpy-i15/) and their manifest
entries.

- .npy headers numpy accepts though no numpy.save writes them (escapes, tuple descrs,
  'object', comma strings, duplicate keys, Python 2 longs, comments, format 3.0): their
  object arrays carry a pickle numpy.load(allow_pickle=True) unpickles, so the payload in it
  must be found. Beside them, headers numpy refuses (nothing is unpickled) and one real
  numpy.save object array.
- Files detection used to miss: protocol 0 pickles with no global or STOP in their first
  64 KiB and no model extension, raw pickles named .npy (numpy.load falls back to
  pickle.load), .pth.tar checkpoints, joblib's old ZF container.
- Files that are not pickles: a PNG named .pt, a GLOBAL whose operand is not UTF-8 (the
  unpickler fails decoding it before any import).

Every payload is `echo mscan-sample`, written by hand with raw opcodes; nothing is loaded.
Which headers numpy accepts was checked with numpy.lib.format._read_array_header on the header
bytes alone (tests/numpy/npy_header_diff.py does that for a larger set). Deterministic.

    /usr/bin/python3 samples/make_numpy_i15_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

from make_samples import CMD, MEDIUM_PLUS, update_manifest

OUT = Path(__file__).resolve().parent / "numpy-i15"
GROUP = "numpy-i15"


def payload_p2() -> bytes:
    """Protocol 2: posix.system('echo mscan-sample')."""
    cmd = CMD.encode()
    return (b"\x80\x02cposix\nsystem\nq\x00X" + struct.pack("<I", len(cmd)) + cmd +
            b"q\x01\x85q\x02Rq\x03.")


def payload_p0() -> bytes:
    """Protocol 0: posix.system('echo mscan-sample')."""
    return b"cposix\nsystem\np0\n(S'" + CMD.encode() + b"'\np1\ntp2\nRp3\n."


def benign_list_p2() -> bytes:
    """Protocol 2 pickle of [1, 2] (what an object array of two ints pickles to is an
    ndarray; a plain list is enough for a header test and imports nothing)."""
    return b"\x80\x02]q\x00(K\x01K\x02e."


def npy(header: str, data: bytes, version=(1, 0)) -> bytes:
    """An .npy file with `header` as written (padded like numpy pads, to 64 bytes)."""
    enc = "utf8" if version == (3, 0) else "latin1"
    raw = header.encode(enc)
    length_size = 2 if version == (1, 0) else 4
    pre = 6 + 2 + length_size
    pad = (64 - (pre + len(raw) + 1) % 64) % 64
    raw = raw + b" " * pad + b"\n"
    fmt = "<H" if version == (1, 0) else "<I"
    return b"\x93NUMPY" + bytes(version) + struct.pack(fmt, len(raw)) + raw + data


def png() -> bytes:
    """A 1x1 grey PNG."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x80", 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def zfile(pickle_bytes: bytes) -> bytes:
    """joblib's ZF container as numpy_pickle_compat.write_zfile writes it."""
    length = "{:#x}".format(len(pickle_bytes)).ljust(19).encode("latin1")
    return b"ZF" + length + zlib.compress(pickle_bytes, 3)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    entries = []

    def write(kind: str, name: str, data: bytes, description: str, expect, forbid):
        path = OUT / kind / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entries.append({
            "path": str(path.relative_to(OUT.parent.parent)),
            "kind": kind,
            "group": GROUP,
            "description": description,
            "expect": expect,
            "forbid": forbid,
        })

    hit = ["numpy-object-array", "process-execution"]
    refused = ["process-execution", "numpy-object-array"]
    tail = "'fortran_order': False, 'shape': (2,), }"
    accepted = [
        ("hex_escape.npy", "{'descr': '\\x4f', " + tail, "descr '\\x4f' is 'O'"),
        ("unicode_escape.npy", "{'descr': '|\\u004f', " + tail, "descr '|\\u004f' is '|O'"),
        ("named_escape.npy", "{'descr': '\\N{LATIN CAPITAL LETTER O}', " + tail,
         "descr '\\N{LATIN CAPITAL LETTER O}' is 'O'"),
        ("octal_escape.npy", "{'descr': '\\117', " + tail, "descr '\\117' (octal) is 'O'"),
        ("tuple_descr.npy", "{'descr': ('O', (2,)), " + tail,
         "a tuple descr: a subarray of two objects"),
        ("object_name.npy", "{'descr': 'object', " + tail, "descr 'object'"),
        ("comma_string.npy", "{'descr': 'i4,O', " + tail,
         "a comma string: a structured dtype whose second field is an object"),
        ("subarray_string.npy", "{'descr': '(2,)O', " + tail, "descr '(2,)O'"),
        ("structured_list.npy", "{'descr': [('a', '<i4'), ('b', '|O')], " + tail,
         "a structured dtype with an object field"),
        ("nested_structured.npy", "{'descr': [('a', [('b', 'O', (2,))])], " + tail,
         "an object field inside a nested structured field"),
        ("field_strings.npy", "{'descr': ['aO'], " + tail,
         "a field written as the two-character string 'aO' (name 'a', dtype 'O')"),
        ("concatenated.npy", "{'descr': '|' \"O\", " + tail,
         "descr written as two adjacent string literals"),
        ("python2_long.npy",
         "{\"shape\": (2L,), # a comment\n 'fortran_order': False, 'descr': u'|O8',}",
         "format 1.0 header with a Python 2 long, a comment, double quotes, another key "
         "order and a trailing comma"),
        ("hex_shape.npy", "{'descr': '|O', 'fortran_order': False, 'shape': (0x2, -1, True)}",
         "shape with a hex int, a negative int and True (numpy's header check takes them)"),
        ("raw_string.npy", "{'descr': r'O', 'fortran_order': (False), 'shape': ((2),)}",
         "a raw string descr and parenthesised values"),
    ]
    for name, header, what in accepted:
        write("hostile", name, npy(header, payload_p2()),
              f"{what}: numpy accepts the header and unpickles the data (a payload)", hit, [])
    write("hostile", "format3_utf8.npy",
          npy("{'descr': [('é', 'O')], 'fortran_order': False, 'shape': (2,)}", payload_p2(),
              version=(3, 0)),
          "format 3.0 (UTF-8 header) with a non-ASCII field name and an object field", hit, [])
    write("hostile", "format2.npy",
          npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}", payload_p2(),
              version=(2, 0)),
          "format 2.0 (4-byte header length)", hit, [])
    write("hostile", "duplicate_key.npy",
          npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'descr': '|O'}",
              payload_p2()),
          "descr given twice: '<f8' first, '|O' last, and the last wins", hit +
          ["numpy-duplicate-key"], [])

    # Headers numpy refuses: numpy.load raises before it unpickles anything.
    for name, header, what in [
        ("shape_list.npy", "{'descr': '|O', 'fortran_order': False, 'shape': [2]}",
         "shape is a list, not a tuple"),
        ("leading_zero.npy", "{'descr': '|O', 'fortran_order': False, 'shape': (02,)}",
         "shape (02,): a syntax error in Python 3"),
        ("fortran_int.npy", "{'descr': '|O', 'fortran_order': 0, 'shape': (2,)}",
         "fortran_order is 0, not a bool"),
        ("extra_key.npy", "{'descr': '|O', 'fortran_order': False, 'shape': (2,), 'x': 1}",
         "a fourth key"),
        ("bytes_descr.npy", "{'descr': b'|O', 'fortran_order': False, 'shape': (2,)}",
         "descr is bytes"),
        ("space_in_descr.npy", "{'descr': 'O ', 'fortran_order': False, 'shape': (2,)}",
         "descr 'O ' (numpy.dtype refuses the blank)"),
        ("duplicate_field.npy",
         "{'descr': [('a', 'O'), ('a', '<i4')], 'fortran_order': False, 'shape': (2,)}",
         "a field name used twice"),
        ("call_in_header.npy",
         "{'descr': __import__('os').system('echo mscan-sample'), 'fortran_order': False, "
         "'shape': (2,)}",
         "a call expression (literal_eval refuses it)"),
    ]:
        write("anomaly", name, npy(header, payload_p2()),
              f"{what}: numpy.load refuses the header, so the pickle after it never loads",
              ["numpy-malformed"], refused)

    # A real numpy.save of an object array holding two ints, as numpy 1.24 writes it.
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"
    write("benign", "object_list.npy", npy(header, benign_list_p2()),
          "object array header as numpy.save writes it, data a pickle of plain ints",
          ["numpy-object-array"], [MEDIUM_PLUS])
    write("benign", "escaped_float.npy",
          npy("{'descr': '\\x3cf8', 'fortran_order': False, 'shape': (2,)}", b"\0" * 16),
          "descr '\\x3cf8' is '<f8': plain numbers, no pickle", [],
          [MEDIUM_PLUS, "numpy-object-array"])

    # Item H: detection.
    big = b"S'" + b"a" * (100 * 1024) + b"'\np0\n0"
    write("hostile", "p0_big_string_then_global", big + payload_p0(),
          "protocol 0, no extension: a 100 KiB string (no STOP or global in the first 64 KiB), "
          "then a GLOBAL payload", ["process-execution"], [])
    ints = b"(lp0\n" + b"".join(b"I%d\na" % (i % 1000) for i in range(12000))
    write("hostile", "p0_int_list_then_global", ints + b"0" + payload_p0(),
          "protocol 0, no extension: a list of 12,000 ints (over 64 KiB), then a GLOBAL payload",
          ["process-execution"], [])
    write("hostile", "raw_pickle_p0.npy", payload_p0(),
          "a protocol 0 pickle named .npy: numpy.load(allow_pickle=True) falls back to "
          "pickle.load", ["process-execution"], [])
    write("hostile", "raw_pickle_p2.npy", payload_p2(),
          "a protocol 2 pickle named .npy", ["process-execution"], [])
    write("hostile", "checkpoint.pth.tar", payload_p0(),
          "a protocol 0 pickle named .pth.tar (torch.load reads it)", ["process-execution"], [])
    write("hostile", "joblib_zfile.pkl", zfile(payload_p2()),
          "joblib's old ZF container (zlib-compressed pickle) with a payload",
          ["process-execution"], [])
    write("benign", "joblib_zfile_list.pkl", zfile(benign_list_p2()),
          "joblib's old ZF container holding a pickle of [1, 2]", [], [MEDIUM_PLUS])
    write("benign", "protocol0_long_list", ints + b".",
          "protocol 0 pickle of 12,000 ints, no extension (detected past the 64 KiB probe)",
          [], [MEDIUM_PLUS])

    # Item 10: not pickles.
    not_imports = ["unknown-global", "pickle-invalid-opcode", "pickle-malformed"]
    write("anomaly", "image_named.pt", png(),
          "a PNG image named .pt: not a pickle, the name's claim is the only finding",
          ["format-mismatch"], not_imports)
    write("anomaly", "global_not_utf8.pkl", b"cos\xf8\nsystem\n(S'x'\ntR.",
          "a GLOBAL whose module is not UTF-8: the unpickler fails decoding it, before any "
          "import", ["format-mismatch"], not_imports + ["process-execution"])
    update_manifest(entries, ["samples/numpy-i15/"])
    print(f"wrote {len(entries)} samples under {OUT}")


if __name__ == "__main__":
    main()
