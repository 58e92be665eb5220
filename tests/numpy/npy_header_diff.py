#!/usr/bin/python3
"""Differential check of .npy headers: what numpy's own header reader says against what mscan
says, for a set of header variants (escapes, quoting, tuple and list descrs, comma strings,
duplicate keys, odd shapes, syntax numpy refuses).

Run on demand (it needs Debian's python3-numpy, so it is not in CI):

    /usr/bin/python3 tests/numpy/npy_header_diff.py [--mscan build/mscan] [--verbose]

numpy's side: numpy.lib.format._read_array_header on the header bytes alone (it parses the
literal with ast.literal_eval and builds the dtype; nothing is unpickled), giving REFUSE, PLAIN
or OBJECT (dtype.hasobject). mscan's side: each variant is written as a .npy file whose data is
a pickle that only names the global mscan_marker.probe (harmless: never loaded), and
`mscan --format json` says REFUSE (numpy-malformed "numpy.load refuses"), OBJECT (the marker
pickle was scanned), DOUBT (a dtype mscan does not know; the marker was scanned) or PLAIN.

Exit status 1 if numpy would unpickle the data (OBJECT) and mscan did not scan it (a missed
payload), or numpy reads the header and mscan says it refuses it. mscan scanning a pickle
numpy would not load (numpy REFUSE or PLAIN, mscan DOUBT) is counted as conservative, not as
a failure.
"""

from __future__ import annotations

import argparse
import io
import json
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = b"\x80\x02cmscan_marker\nprobe\nq\x00."

T = "'fortran_order': False, 'shape': (1,)"
VARIANTS = [
    # descr spellings of an object dtype
    "{'descr': '|O', " + T + ", }",
    "{'descr': 'O', " + T + "}",
    "{'descr': '<O', " + T + "}",
    "{'descr': '>O', " + T + "}",
    "{'descr': '=O', " + T + "}",
    "{'descr': '!O', " + T + "}",
    "{'descr': 'O4', " + T + "}",
    "{'descr': 'O8', " + T + "}",
    "{'descr': '|O8', " + T + "}",
    "{'descr': 'O16', " + T + "}",
    "{'descr': 'o', " + T + "}",
    "{'descr': 'object', " + T + "}",
    "{'descr': 'object_', " + T + "}",
    "{'descr': 'object0', " + T + "}",
    "{'descr': 'Object', " + T + "}",
    "{'descr': 'O ', " + T + "}",
    "{'descr': ' O', " + T + "}",
    "{'descr': '', " + T + "}",
    "{'descr': 'O:x', " + T + "}",
    # escapes, prefixes, quotes, concatenation
    "{'descr': '\\x4f', " + T + "}",
    "{'descr': '\\x4F', " + T + "}",
    "{'descr': '\\117', " + T + "}",
    "{'descr': '\\u004f', " + T + "}",
    "{'descr': '\\U0000004f', " + T + "}",
    "{'descr': '\\N{LATIN CAPITAL LETTER O}', " + T + "}",
    "{'descr': '\\N{latin capital letter o}', " + T + "}",
    "{'descr': '\\N{NO SUCH NAME}', " + T + "}",
    "{'descr': '\\q', " + T + "}",
    "{'descr': '\\x4', " + T + "}",
    "{'descr': \"O\", " + T + "}",
    "{'descr': '''O''', " + T + "}",
    "{'descr': \"\"\"|O\"\"\", " + T + "}",
    "{'descr': r'O', " + T + "}",
    "{'descr': R'O', " + T + "}",
    "{'descr': u'O', " + T + "}",
    "{'descr': U'O', " + T + "}",
    "{'descr': b'O', " + T + "}",
    "{'descr': rb'O', " + T + "}",
    "{'descr': f'O', " + T + "}",
    "{'descr': 'O' '', " + T + "}",
    "{'descr': '|' 'O', " + T + "}",
    "{'descr': '|' \"O\", " + T + "}",
    "{'descr': '|' b'O', " + T + "}",
    "{'descr': '|'\n'O', " + T + "}",
    "{'descr': 'O\\\n', " + T + "}",
    "{'de' 'scr': 'O', " + T + "}",
    "{'\\x64escr': 'O', " + T + "}",
    # comma strings and subarrays
    "{'descr': 'i4,O', " + T + "}",
    "{'descr': 'i4, O', " + T + "}",
    "{'descr': 'O,i4', " + T + "}",
    "{'descr': 'O,', " + T + "}",
    "{'descr': 'i4,f8', " + T + "}",
    "{'descr': '(2,)O', " + T + "}",
    "{'descr': '2O', " + T + "}",
    "{'descr': 'i4,(2,3)O', " + T + "}",
    "{'descr': '3i4', " + T + "}",
    # tuple descrs
    "{'descr': ('O', (2,)), " + T + "}",
    "{'descr': ('O', 2), " + T + "}",
    "{'descr': ('O', ()), " + T + "}",
    "{'descr': ('<i4', (2,)), " + T + "}",
    "{'descr': ('O',), " + T + "}",
    "{'descr': ('<i8', 'O'), " + T + "}",
    # structured descrs
    "{'descr': [('a', '<i4'), ('b', 'O')], " + T + "}",
    "{'descr': [('a', '<i4'), ('b', '<f8')], " + T + "}",
    "{'descr': [['a', 'O']], " + T + "}",
    "{'descr': [('a', 'O', (2,))], " + T + "}",
    "{'descr': [('a', 'O', 2)], " + T + "}",
    "{'descr': [('a', 'O', ())], " + T + "}",
    "{'descr': [('a', [('b', 'O')])], " + T + "}",
    "{'descr': [(('t', 'a'), 'O')], " + T + "}",
    "{'descr': [('', '|V4'), ('a', 'O')], " + T + "}",
    "{'descr': [(b'a', 'O')], " + T + "}",
    "{'descr': [('a', 'O'), ('a', '<i4')], " + T + "}",
    "{'descr': [], " + T + "}",
    "{'descr': ['aO'], " + T + "}",
    "{'descr': {'aO': 1}, " + T + "}",
    "{'descr': [('a',)], " + T + "}",
    "{'descr': 5, " + T + "}",
    "{'descr': None, " + T + "}",
    # plain dtypes
    "{'descr': '<f8', " + T + "}",
    "{'descr': '\\x3cf8', " + T + "}",
    "{'descr': 'float64', " + T + "}",
    "{'descr': '<U2', " + T + "}",
    "{'descr': '<M8[ns]', " + T + "}",
    "{'descr': 'V', " + T + "}",
    "{'descr': 'p', " + T + "}",
    "{'descr': '?', " + T + "}",
    "{'descr': 'float96', " + T + "}",
    # keys
    "{'descr': '<f8', 'descr': 'O', " + T + "}",
    "{'descr': 'O', 'descr': '<f8', " + T + "}",
    "{'descr': 'O', " + T + ", 'x': 1}",
    "{'descr': 'O', 'fortran_order': False}",
    "{'descr': 'O', " + T + ", 1: 2}",
    "{\"shape\": (1,), \"descr\": \"O\", \"fortran_order\": False}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1,), 'shape': (2,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1,), 'shape': 3}",
    # fortran_order
    "{'descr': 'O', 'fortran_order': True, 'shape': (1,)}",
    "{'descr': 'O', 'fortran_order': 0, 'shape': (1,)}",
    "{'descr': 'O', 'fortran_order': None, 'shape': (1,)}",
    "{'descr': 'O', 'fortran_order': (False), 'shape': (1,)}",
    "{'descr': 'O', 'fortran_order': 'False', 'shape': (1,)}",
    # shapes
    "{'descr': 'O', 'fortran_order': False, 'shape': ()}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1, 2)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1,2,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1 , )}",
    "{'descr': 'O', 'fortran_order': False, 'shape': 1}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': [1]}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1.0,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1j,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1+2j,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (-1,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': ( - 1,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (-(1),)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (--1,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (+1,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (True,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (None,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (...,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (0x10,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (0o7,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (0b1,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1_0,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1__0,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (01,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (00,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1L,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1 L,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1l,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (99999999999999999999,)}",
    "{'descr': 'O', 'fortran_order': False, 'shape': ((1),)}",
    # layout
    " {'descr': 'O', " + T + "}",
    "\n{'descr': 'O', " + T + "}",
    "{'descr':'O','fortran_order':False,'shape':(1,),}",
    "{'descr': 'O', " + T + "} # trailing comment",
    "{'descr': 'O', # a comment\n" + T + "}",
    "{'descr': 'O', \\\n" + T + "}",
    "{'descr': 'O', " + T + ",,}",
    "{'descr': 'O' " + T + "}",
    "{'descr': 'O', " + T + "",
    "{'descr': 'O', " + T + "} extra",
    "({'descr': 'O', " + T + "})",
    "[{'descr': 'O', " + T + "}]",
    "dict(descr='O', fortran_order=False, shape=(1,))",
    "{'descr': 'O', " + T + "}\x00",
    "{'descr': '\xe9', " + T + "}",
    "{'descr': 'O', 'fortran_order': False, 'shape': (1,), 'e': {1, 2}}",
    "{'descr': set(), " + T + "}",
]


def numpy_verdict(header: bytes, version) -> str:
    import numpy
    from numpy.lib import format as npformat
    fmt = "<H" if version == (1, 0) else "<I"
    try:
        shape, _, dtype = npformat._read_array_header(
            io.BytesIO(struct.pack(fmt, len(header)) + header), version, max_header_size=2**64)
        # numpy.lib.format.read_array multiplies the shape as int64 before it unpickles.
        numpy.multiply.reduce(shape, dtype=numpy.int64)
    except Exception:  # noqa: BLE001 - any failure is numpy refusing the file
        return "REFUSE"
    return "OBJECT" if dtype.hasobject else "PLAIN"


def npy(header: bytes, version) -> bytes:
    fmt = "<H" if version == (1, 0) else "<I"
    return b"\x93NUMPY" + bytes(version) + struct.pack(fmt, len(header)) + header + MARKER


def mscan_verdicts(binary: str, paths: list[Path]) -> dict[str, str]:
    out = subprocess.run([binary, "--format", "json", "--fail-on", "critical",
                          *map(str, paths)], capture_output=True, check=False)
    report = json.loads(out.stdout)
    found: dict[str, list] = {str(p): [] for p in paths}
    for f in report["findings"]:
        found.setdefault(f["location"]["path"], []).append(f)
    verdicts = {}
    for path, findings in found.items():
        marker = any("mscan_marker" in (f.get("subject", "") + f.get("evidence", ""))
                     for f in findings)
        malformed = [f["evidence"] for f in findings if f["rule_id"] == "numpy-malformed"]
        if any("does not know" in e for e in malformed):
            verdicts[path] = "DOUBT" + ("+scanned" if marker else "")
        elif any(e.startswith("numpy.load refuses") for e in malformed):
            verdicts[path] = "REFUSE"
        elif marker:
            verdicts[path] = "OBJECT"
        else:
            verdicts[path] = "PLAIN"
    return verdicts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mscan", default=str(ROOT / "build" / "mscan"))
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    cases = []
    for text in VARIANTS:
        for version in ((1, 0), (3, 0)):
            enc = "utf8" if version == (3, 0) else "latin1"
            cases.append((text, version, (text + "\n").encode(enc)))
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (_, version, header) in enumerate(cases):
            p = Path(tmp) / f"v{i:03d}.npy"
            p.write_bytes(npy(header, version))
            paths.append(p)
        verdicts = mscan_verdicts(args.mscan, paths)
        agree = conservative = bad = 0
        for (text, version, header), p in zip(cases, paths):
            want = numpy_verdict(header, version)
            got = verdicts[str(p)]
            if got == want:
                agree += 1
                status = "ok"
            elif want == "OBJECT" and got == "DOUBT+scanned":
                conservative += 1
                status = "ok (scanned, dtype unknown to mscan)"
            elif want in ("REFUSE", "PLAIN") and got in ("DOUBT+scanned", "OBJECT", "DOUBT"):
                conservative += 1
                status = "conservative"
            else:
                bad += 1
                status = "MISMATCH"
            if args.verbose or status != "ok":
                print(f"{status:<13} v{version[0]}.0 numpy={want:<6} mscan={got:<14} {text!r}")
    print(f"{len(cases)} header variants: {agree} agree, {conservative} conservative "
          f"(mscan scans what numpy would not unpickle), {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
