#!/usr/bin/env python3
"""Write mscan's safetensors samples (samples/safetensors/) and their manifest entries.

A safetensors file is an 8-byte little-endian header length N, N bytes of JSON, then the tensor
data. The safetensors package is not installed here, so the files are written by hand, the way
its writer does it (tensors sorted by dtype alignment then name, data back to back, the header
padded with spaces to a multiple of 8). Benign samples follow every rule of the format; each
anomaly sample breaks one rule, as the safetensors loader (the Rust crate behind the Python
package) judges it. Loading any of them runs no code: safetensors holds only numbers. Nothing
is ever loaded here. Deterministic: a re-run writes identical bytes.

    /usr/bin/python3 samples/make_safetensors_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np

from make_samples import MEDIUM_PLUS, ROOT, update_manifest

OUT = Path(__file__).resolve().parent / "safetensors"
GROUP = "safetensors"

# dtype name -> bits per element, as the crate's Dtype::bitsize()
BITS = {"BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8,
        "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32,
        "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64}
ORDER = list(BITS)  # the crate's enum order, which its writer sorts by (descending)


def nbytes(dtype, shape):
    n = 1
    for d in shape:
        n *= d
    return n * BITS[dtype] // 8


def header_bytes(header, pad_to=8, raw=None):
    """JSON as serde_json writes it (compact), padded with spaces to a multiple of pad_to."""
    text = raw if raw is not None else json.dumps(header, separators=(",", ":"))
    b = text.encode("utf-8")
    b += b" " * ((pad_to - len(b) % pad_to) % pad_to)
    return b


def assemble(header_b, data, declared=None):
    n = len(header_b) if declared is None else declared
    return struct.pack("<Q", n) + header_b + data


def writer(tensors, metadata=None, pad_to=8):
    """tensors: {name: (dtype, shape, bytes)} -> a file as safetensors' serialize() lays it
    out: sorted by descending dtype then name, data back to back."""
    items = sorted(tensors.items(), key=lambda kv: (-ORDER.index(kv[1][0]), kv[0]))
    header, data, offset = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in items:
        assert len(raw) == nbytes(dtype, shape), name
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    return assemble(header_bytes(header, pad_to), data)


def manual(entries, data, metadata=None, raw_json=None, declared=None, pad_to=8):
    """A header written entry by entry (any values, any order), then `data`."""
    if raw_json is None:
        header = {}
        if metadata is not None:
            header["__metadata__"] = metadata
        header.update(entries)
        hb = header_bytes(header, pad_to)
    else:
        hb = header_bytes(None, pad_to, raw=raw_json)
    return assemble(hb, data, declared)


def raw_file(header_b, data):
    """Header bytes exactly as given (no padding), then `data`."""
    return assemble(header_b, data)


def arange(dtype, count):
    return np.arange(count, dtype=dtype).tobytes()


def t(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def several_dtypes():
    return writer({
        "embed.weight": ("F32", (4, 3), arange("<f4", 12)),
        "layer.0.weight": ("F16", (2, 4), arange("<f2", 8)),
        "layer.0.bias": ("BF16", (4,), bytes(range(8))),  # raw bfloat16 bits
        "step": ("I64", (), arange("<i8", 1)),
        "mask": ("BOOL", (5,), bytes([1, 0, 1, 1, 0])),
        "packed": ("F4", (2, 3), bytes([0x21, 0x43, 0x65])),  # six 4-bit values
        "codes": ("U8", (3,), bytes([7, 8, 9])),
    }, metadata={"format": "pt"})


def empty():
    return writer({}, metadata={"format": "pt", "note": "no tensors"})


def padded():
    # The header padded with 100 spaces: serde_json skips trailing whitespace.
    return writer({"w": ("F32", (2, 2), arange("<f4", 4))}, metadata={"format": "pt"},
                  pad_to=128)


def zero_sized():
    # A scalar (shape []) and an empty tensor (shape [0], data_offsets [n, n]).
    return writer({"scalar": ("F64", (), arange("<f8", 1)), "empty": ("F32", (0, 4), b""),
                   "v": ("I32", (3,), arange("<i4", 3))})


def cap_sample():
    # 1000 tensors without data_offsets: more problems than are listed one by one.
    entries = {f"t{i}": {"dtype": "F32", "shape": [1]} for i in range(1000)}
    return manual(entries, b"")


def deep_nesting():
    raw = '{"w":{"dtype":"U8","shape":' + "[" * 1000 + "]" * 1000 + ',"data_offsets":[0,1]}}'
    return manual({}, b"\x00", raw_json=raw)


F16_100 = arange("<f2", 100)
F32_4 = arange("<f4", 4)

SAMPLES = [
    # kind/name, description, expect, forbid, make
    ("benign/several_dtypes.safetensors",
     "seven tensors (F32, F16, BF16, I64 scalar, BOOL, packed F4, U8) laid out like "
     "safetensors' writer, __metadata__ {format: pt}",
     ["safetensors-summary"], [MEDIUM_PLUS, "safetensors-nonstandard"], several_dtypes),
    ("benign/empty.safetensors", "no tensors, only __metadata__",
     ["safetensors-summary"], [MEDIUM_PLUS, "safetensors-nonstandard"], empty),
    ("benign/padded_header.safetensors",
     "one tensor; the header padded with spaces to a multiple of 128 bytes",
     ["safetensors-summary"], [MEDIUM_PLUS, "safetensors-nonstandard"], padded),
    ("benign/zero_sized.safetensors",
     "a scalar (shape []), an empty F32[0,4] tensor (zero-length range) and an I32 vector",
     ["safetensors-summary"], [MEDIUM_PLUS, "safetensors-nonstandard"], zero_sized),

    ("anomaly/header_past_eof.safetensors",
     "the header length says 5000 in a 100-byte file",
     ["safetensors-malformed"], [],
     lambda: manual({}, b"", raw_json='{"w":' + " " * 80 + "}", declared=5000)),
    ("anomaly/header_too_large.safetensors",
     "the header length says 200,000,000 (the loader's cap is 100,000,000) in a small file",
     ["safetensors-malformed"], [],
     lambda: manual({}, b"", raw_json="{}", declared=200_000_000)),
    ("anomaly/not_json.safetensors", "the header is '{' followed by text that is not JSON",
     ["safetensors-malformed"], [],
     lambda: manual({}, b"", raw_json="{this is not json}")),
    ("anomaly/not_object.safetensors",
     "the header is a JSON list, not an object (named .safetensors, length consistent)",
     ["safetensors-malformed"], [],
     lambda: manual({}, b"", raw_json='[{"dtype":"F32","shape":[],"data_offsets":[0,0]}]')),
    ("anomaly/invalid_utf8.safetensors", "a tensor name holds the byte 0xff (not UTF-8)",
     ["safetensors-malformed"], [],
     lambda: raw_file(b'{"w\xff":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x01")),
    ("anomaly/nul_padding.safetensors",
     "a valid header padded with NUL bytes instead of spaces",
     ["safetensors-malformed"], [],
     lambda: raw_file(b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}' + bytes(8),
                      F32_4)),
    ("anomaly/duplicate_tensor.safetensors",
     "the tensor name 'w' twice: F32[4] then I32[4] over the same bytes (the loader keeps "
     "the last, other JSON readers the first)",
     ["safetensors-malformed"], [],
     lambda: manual({}, F32_4, raw_json='{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},'
                                        '"w":{"dtype":"I32","shape":[4],"data_offsets":[0,16]}}')),
    ("anomaly/duplicate_field.safetensors",
     "a tensor entry with dtype twice (the loader refuses a duplicate field)",
     ["safetensors-malformed"], [],
     lambda: manual({}, F32_4, raw_json='{"w":{"dtype":"F32","dtype":"I32","shape":[4],'
                                        '"data_offsets":[0,16]}}')),
    ("anomaly/duplicate_metadata.safetensors", "__metadata__ twice",
     ["safetensors-malformed"], [],
     lambda: manual({}, F32_4, raw_json='{"__metadata__":{"format":"pt"},"__metadata__":{},'
                                        '"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}')),
    ("anomaly/unknown_dtype.safetensors", "dtype 'F128', which no safetensors version knows",
     ["safetensors-malformed"], [], lambda: manual({"w": t("F128", [1], 0, 16)}, bytes(16))),
    ("anomaly/negative_shape.safetensors", "shape [2, -2]",
     ["safetensors-malformed"], [], lambda: manual({"w": t("F32", [2, -2], 0, 16)}, F32_4)),
    ("anomaly/float_shape.safetensors", "shape [2.0, 2]",
     ["safetensors-malformed"], [],
     lambda: manual({}, F32_4, raw_json='{"w":{"dtype":"F32","shape":[2.0,2],'
                                        '"data_offsets":[0,16]}}')),
    ("anomaly/offsets_out_of_bounds.safetensors",
     "the last tensor's data_offsets [16, 400] run past the 32 bytes of data",
     ["safetensors-malformed"], [],
     lambda: manual({"a": t("F32", [4], 0, 16), "b": t("F32", [96], 16, 400)}, bytes(32))),
    ("anomaly/size_mismatch.safetensors",
     "F16[10,10] (200 bytes) with data_offsets [0, 100]",
     ["safetensors-malformed"], [],
     lambda: manual({"lm_head.weight": t("F16", [10, 10], 0, 100)}, F16_100[:100])),
    ("anomaly/overlap.safetensors", "tensors a [0, 16] and b [8, 24] share 8 bytes",
     ["safetensors-malformed"], [],
     lambda: manual({"a": t("F32", [4], 0, 16), "b": t("F32", [4], 8, 24)}, bytes(24))),
    ("anomaly/hole.safetensors", "bytes [8, 16) belong to no tensor",
     ["safetensors-malformed"], [],
     lambda: manual({"a": t("F32", [2], 0, 8), "b": t("F32", [2], 16, 24)}, bytes(24))),
    ("anomaly/trailing_bytes.safetensors",
     "a valid file followed by 64 bytes no tensor covers (a place to hide a payload)",
     ["safetensors-malformed"], [],
     lambda: writer({"w": ("F32", (4,), F32_4)}) + b"\x80\x02cposix\nsystem\n" + bytes(48)),
    ("anomaly/metadata_not_string.safetensors",
     "__metadata__ {format: pt, epochs: 3}: a number where the loader needs a string",
     ["safetensors-malformed"], [],
     lambda: manual({"w": t("F32", [4], 0, 16)}, F32_4, metadata={"format": "pt", "epochs": 3})),
    ("anomaly/metadata_not_object.safetensors", "__metadata__ is a list",
     ["safetensors-malformed"], [],
     lambda: manual({"w": t("F32", [4], 0, 16)}, F32_4, metadata=["format", "pt"])),
    ("anomaly/missing_data_offsets.safetensors", "a tensor entry without data_offsets",
     ["safetensors-malformed"], [],
     lambda: manual({"w": {"dtype": "F32", "shape": [4]}}, b"")),
    ("anomaly/offsets_three_items.safetensors", "data_offsets [0, 16, 32]",
     ["safetensors-malformed"], [],
     lambda: manual({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16, 32]}}, F32_4)),
    ("anomaly/begin_after_end.safetensors", "data_offsets [16, 0]",
     ["safetensors-malformed"], [],
     lambda: manual({"w": t("F32", [4], 16, 0)}, F32_4)),
    ("anomaly/shape_overflow.safetensors",
     "shape [2^32, 2^32, 16]: the element count overflows 64 bits",
     ["safetensors-malformed"], [],
     lambda: manual({"w": t("F32", [2**32, 2**32, 16], 0, 16)}, F32_4)),
    ("anomaly/f4_odd.safetensors", "F4[3]: 12 bits, not a whole number of bytes",
     ["safetensors-malformed"], [], lambda: manual({"w": t("F4", [3], 0, 2)}, b"\x21\x03")),
    ("anomaly/tensor_not_object.safetensors", "a tensor entry that is the number 5",
     ["safetensors-malformed"], [], lambda: manual({"w": 5}, b"")),
    ("anomaly/deep_nesting.safetensors", "a shape nested 1000 lists deep",
     ["safetensors-malformed"], [], deep_nesting),
    ("anomaly/many_bad_tensors.safetensors",
     "1000 tensors without data_offsets: 8 are listed, the rest counted",
     ["safetensors-malformed"], [], cap_sample),
    ("anomaly/extra_field.safetensors",
     "a tensor entry with an extra field 'note' (the loader ignores it)",
     ["safetensors-nonstandard", "safetensors-summary"], ["safetensors-malformed"],
     lambda: manual({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16],
                           "note": "x"}}, F32_4)),
    ("anomaly/leading_whitespace.safetensors",
     "the header starts with spaces before '{' (serde_json skips them)",
     ["safetensors-nonstandard", "safetensors-summary"], ["safetensors-malformed"],
     lambda: manual({}, F32_4, raw_json='   {"w":{"dtype":"F32","shape":[4],'
                                        '"data_offsets":[0,16]}}')),
    ("anomaly/metadata_null.safetensors", "__metadata__: null (read as no metadata)",
     ["safetensors-nonstandard", "safetensors-summary"], ["safetensors-malformed"],
     lambda: manual({}, F32_4, raw_json='{"__metadata__":null,"w":{"dtype":"F32","shape":[4],'
                                        '"data_offsets":[0,16]}}')),
]


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    entries = []
    for rel, description, expect, forbid, make in SAMPLES:
        kind = rel.split("/")[0]
        data = bytes(make())
        path = OUT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{kind:7} {rel:45} {len(data):8} B  crc32 {zlib.crc32(data):08x}")
        entries.append({"path": path.relative_to(ROOT).as_posix(), "kind": kind,
                        "group": GROUP, "description": description,
                        "expect": sorted(expect), "forbid": sorted(forbid)})
    update_manifest(entries, ["samples/safetensors/"])
    print(f"wrote {len(entries)} safetensors samples")


if __name__ == "__main__":
    main()
