#!/usr/bin/env python3
"""Write mscan's file-type samples (samples/file-type/) and their manifest entries.

Files whose name claims a model format their content is not: an empty or cut-short
.safetensors, a text file named .pkl, text named .gguf. Each loader refuses them (the
safetensors reader needs an 8-byte header length and that many bytes of JSON; pickle.load
stops at the first byte that is no opcode or at a memo lookup of nothing), and nothing in them
runs. Beside them, files that are what their names say, or that make no claim, which must not
get the finding. Nothing here is ever loaded. Deterministic: a re-run writes identical bytes.

    /usr/bin/python3 samples/make_file_type_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

from make_samples import MEDIUM_PLUS, update_manifest

OUT = Path(__file__).resolve().parent / "file-type"
GROUP = "file-type"


def safetensors_empty_header() -> bytes:
    """The smallest valid safetensors file: an empty JSON object, padded to 8 bytes."""
    header = b"{}      "
    return struct.pack("<Q", len(header)) + header


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

    mismatch = ["format-mismatch"]
    write("anomaly", "empty.safetensors", b"",
          "an empty file named .safetensors", mismatch, [])
    write("anomaly", "three_bytes.safetensors", b"abc",
          "3 bytes named .safetensors: too short for the 8-byte header length", mismatch, [])
    write("anomaly", "eight_bytes.safetensors", b"12345678",
          "8 bytes named .safetensors: a header length and no header", mismatch, [])
    write("anomaly", "notes.pkl", b"hello world, these are my notes\n",
          "text named .pkl: pickle.load stops at its first opcode (a memo lookup of nothing)",
          mismatch, ["unknown-global", "pickle-malformed", "pickle-truncated",
                     "pickle-invalid-opcode"])
    write("anomaly", "readme.gguf", b"# a model card, not a GGUF file\n",
          "text named .gguf", mismatch, [])
    write("benign", "smallest.safetensors", safetensors_empty_header(),
          "the smallest valid safetensors file (no tensors)", [], mismatch + [MEDIUM_PLUS])
    # A real pickle under .pkl is a pickle, whatever protocol: protocol 0 is text too.
    write("benign", "protocol0.pkl", b"(dp0\nVa\np1\nI1\ns.",
          "a protocol 0 pickle of {'a': 1} (text, as protocol 0 is)", [],
          mismatch + [MEDIUM_PLUS])
    update_manifest(entries, ["samples/file-type/"])
    print(f"wrote {len(entries)} samples under {OUT}")


if __name__ == "__main__":
    main()
