#!/usr/bin/python3
"""Write the HDF5 reference files for tests/test_hdf5.cpp and their expected attributes.

Run with Debian's interpreter (h5py 3.7 over HDF5 1.10.8, numpy 1.24):

    /usr/bin/python3 tests/data/hdf5/make_hdf5_refs.py

Benign files are written by h5py and read back by h5py; what h5py reads is written to
expected.json, which the C++ test compares with mscan's own HDF5 reader. They cover the
layouts that matter for Keras .h5 files: superblock 0 with version 1 object headers (h5py's
default), superblock 3 with version 2 object headers (libver='latest'), user blocks, dense
attribute storage (fractal heap + v2 B-tree, a huge heap object), continuation blocks,
creation-order tracking, 4-byte offsets, and the datatypes Keras and h5py write for
attributes (fixed and variable-length strings, integers, floats).

Corrupted files are derived from the benign ones by patching bytes (this script knows where
the patched structures are by walking the files itself, see v1_messages); each lists which
attributes must still be read, exactly as in its source file, and which problem must be
reported.

Note: h5py 3 writes a Python `bytes` attribute (`f.attrs['model_config'] = text.encode()`,
as tf.keras does) as a variable-length ASCII string; h5py 2 wrote it as a fixed-length
string. numpy.bytes_ gives the fixed-length form, so both are here.

Rerunning rewrites the same files (h5py is told not to record object times); the script
owns tests/data/hdf5/*.h5, expected.json and the fuzz seeds in fuzz/corpus/fuzz_hdf5/.
"""

import glob
import json
import os
import shutil
import struct

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
CORPUS = os.path.join(ROOT, "fuzz", "corpus", "fuzz_hdf5")

SIGNATURE = b"\x89HDF\r\n\x1a\n"

# A small tf.keras-style model config (the JSON text Keras stores in `model_config`).
MODEL_CONFIG = json.dumps({
    "class_name": "Sequential",
    "config": {
        "name": "sequential",
        "layers": [
            {"class_name": "InputLayer",
             "config": {"batch_input_shape": [None, 4], "dtype": "float32",
                        "name": "input_1"}},
            {"class_name": "Dense",
             "config": {"name": "dense", "units": 2, "activation": "relu",
                        "use_bias": True}},
        ],
    },
}, separators=(", ", ": "))


def path(name):
    return os.path.join(HERE, name)


def new_file(name, **kwargs):
    """An h5py file that records no object times, so reruns write the same bytes."""
    libver = kwargs.pop("libver", None)
    userblock = kwargs.pop("userblock_size", None)
    sizes = kwargs.pop("sizes", None)
    track_order = kwargs.pop("track_order", False)
    assert not kwargs
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    if userblock:
        fcpl.set_userblock(userblock)
    if sizes:
        fcpl.set_sizes(*sizes)
    if track_order:
        flags = h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED
        fcpl.set_link_creation_order(flags)
        fcpl.set_attr_creation_order(flags)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    if libver == "latest":
        fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    fid = h5py.h5f.create(path(name).encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
    return h5py.File(fid)


def raw_string_attr(f, name, size, pad, value):
    """A fixed-length string attribute with the given padding, written byte for byte."""
    tid = h5py.h5t.C_S1.copy()
    tid.set_size(size)
    tid.set_strpad(pad)
    attr = h5py.h5a.create(f.id, name.encode(), tid, h5py.h5s.create(h5py.h5s.SCALAR))
    attr.write(np.array(value, dtype="S%d" % size), mtype=tid)


def typical_attrs(f, full=True):
    """The attributes a Keras file has, plus every datatype the reader decodes."""
    f.attrs["model_config"] = np.bytes_(MODEL_CONFIG.encode())  # fixed-length (h5py 2 / tf.keras)
    f.attrs["keras_version"] = b"2.13.1"  # bytes: a vlen ASCII string in h5py 3
    f.attrs["backend"] = "tensorflow"  # str: a vlen UTF-8 string
    f.attrs["int_scalar"] = np.int64(42)
    f.attrs["float_array"] = np.array([0.1, -2.5, 1e300], dtype="<f8")
    f.attrs["string_array"] = np.array([b"alpha", b"be", b""], dtype="S5")
    f.attrs["na\u00efve"] = np.int32(1)  # a UTF-8 name: attribute message version 3
    if not full:
        return
    f.attrs["int32_negative"] = np.int32(-7)
    f.attrs["uint8_array"] = np.array([0, 1, 255], dtype=np.uint8)
    f.attrs["int16_be"] = np.array([1, -2, 300], dtype=">i2")
    f.attrs["uint32"] = np.uint32(4000000000)
    f.attrs["uint64_big"] = np.uint64(2**63 + 5)
    f.attrs["int_matrix"] = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int64)
    f.attrs["float32"] = np.float32(1.5)
    f.attrs["float32_array"] = np.array([0.1, 3.0], dtype=np.float32)
    f.attrs["float64_be"] = np.array([3.25], dtype=">f8")
    f.attrs["float16"] = np.array([0.5, -2.0], dtype=np.float16)
    f.attrs["vlen_str_array"] = np.array(["x", "yz", "\u00fcn\u00ef"],
                                         dtype=h5py.string_dtype())
    seq = np.empty(1, dtype=object)
    seq[0] = np.array([104, 105], dtype=np.uint8)
    f.attrs.create("vlen_bytes", data=seq, dtype=h5py.vlen_dtype(np.uint8))
    f.attrs["empty_float"] = h5py.Empty("f8")
    f.attrs["flag"] = True  # an enum: not decoded
    f.attrs["pair"] = np.array((1, 2.0), dtype=[("a", "<i4"), ("b", "<f8")])  # compound
    raw_string_attr(f, "nullterm", 8, h5py.h5t.STR_NULLTERM, b"abc\x00def")
    raw_string_attr(f, "spacepad", 8, h5py.h5t.STR_SPACEPAD, b"abc     ")


def write_benign():
    with new_file("default.h5") as f:  # superblock 0, version 1 object headers
        typical_attrs(f)
        f.create_dataset("weights", data=np.arange(4, dtype=np.float32))

    with new_file("latest.h5", libver="latest") as f:  # superblock 3, version 2 headers
        typical_attrs(f, full=False)

    with new_file("userblock512.h5", userblock_size=512) as f:
        typical_attrs(f, full=False)

    with new_file("userblock4096.h5", userblock_size=4096, libver="latest") as f:
        typical_attrs(f, full=False)

    # Dense storage: more attributes than fit compact (8) in a version 2 header, enough
    # that the fractal heap grows a root indirect block and the name index B-tree an
    # internal node (29 records per 512-byte leaf).
    with new_file("dense.h5", libver="latest") as f:
        typical_attrs(f)
        for i in range(40):
            f.attrs["extra_%02d" % i] = np.int64(i * 1000 + 7)
        f.attrs["extra_text"] = "dense " * 20

    # An attribute larger than 64 KiB: it cannot be a header message, so libhdf5 moves the
    # attributes to dense storage, where it is a "huge" fractal heap object found through
    # the heap's own v2 B-tree.
    with new_file("dense_huge.h5", libver="latest") as f:
        f.attrs["keras_version"] = b"2.13.1"
        f.attrs["model_config"] = np.bytes_(
            (MODEL_CONFIG + " " * 70000 + "[end]").encode())
        f.attrs["backend"] = "tensorflow"

    # Attributes added after other objects: the root header's first chunk is full, the new
    # messages go into a continuation block further on.
    with new_file("continuation.h5") as f:
        f.attrs["first_a"] = np.int64(1)
        f.attrs["first_b"] = b"first"
        for i in range(3):
            f.create_dataset("d%d" % i, data=np.arange(3))
            f.create_group("g%d" % i)
        for i in range(6):
            f.attrs["later_%d" % i] = np.bytes_(("later value %d " % i * 8).encode())
        f.attrs["model_config"] = np.bytes_(MODEL_CONFIG.encode())

    # Creation order tracked and indexed (version 2 header with creation order fields in
    # the message headers), compact, and dense with a creation-order index.
    with new_file("track_order.h5", track_order=True) as f:
        for name in ["zeta", "alpha", "mid"]:
            f.attrs[name] = name.encode()
        f.attrs["model_config"] = np.bytes_(MODEL_CONFIG.encode())
    with new_file("track_order_dense.h5", track_order=True, libver="latest") as f:
        for i in range(20):
            f.attrs["t%02d" % (19 - i)] = np.int64(i)
        f.attrs["model_config"] = np.bytes_(MODEL_CONFIG.encode())

    # 4-byte offsets and lengths, compact and dense.
    with new_file("sizes4.h5", sizes=(4, 4)) as f:
        typical_attrs(f)
    with new_file("sizes4_dense.h5", sizes=(4, 4), libver="latest") as f:
        typical_attrs(f)
        for i in range(12):
            f.attrs["extra_%02d" % i] = np.int64(i)


BENIGN = ["default.h5", "latest.h5", "userblock512.h5", "userblock4096.h5", "dense.h5",
          "dense_huge.h5", "continuation.h5", "track_order.h5", "track_order_dense.h5",
          "sizes4.h5", "sizes4_dense.h5"]


def superblock_offset(data):
    off = 0
    while off + 8 <= len(data):
        if data[off:off + 8] == SIGNATURE:
            return off
        off = 512 if off == 0 else off * 2
    raise ValueError("no superblock")


def expected_value(value):
    """What mscan's reader must decode, from what h5py read: (kind, flat list of values)."""
    if isinstance(value, h5py.Empty):
        dt = value.dtype
        kind = {"f": "float", "i": "integer", "u": "integer", "S": "string"}.get(dt.kind)
        return kind or "other", []
    arr = np.asarray(value)
    dt = arr.dtype
    if h5py.check_string_dtype(dt) is not None or dt.kind in "SU":
        return "string", [v.decode() if isinstance(v, bytes) else str(v) for v in arr.ravel()]
    vlen = h5py.check_vlen_dtype(dt)
    if vlen is not None:
        assert vlen == np.uint8
        return "string", [bytes(v).decode() for v in arr.ravel()]
    if dt.kind in "iu":
        if h5py.check_enum_dtype(dt) is not None:
            return "other", []
        return "integer", [int(np.int64(v)) if v < 2**63 else int(v) - 2**64 for v in
                           (int(x) for x in arr.ravel())]
    if dt.kind == "f":
        return "float", [float(v) for v in arr.ravel()]
    return "other", []


def read_expected(name):
    data = open(path(name), "rb").read()
    sb = superblock_offset(data)
    attrs = {}
    with h5py.File(path(name), "r") as f:
        for key in f.attrs:
            aid = f.attrs.get_id(key)
            if aid.get_type().get_class() == h5py.h5t.ENUM:
                attrs[key] = {"kind": "other", "values": []}
                continue
            kind, values = expected_value(f.attrs[key])
            attrs[key] = {"kind": kind, "values": values}
    return {"superblock_offset": sb, "superblock_version": data[sb + 8], "attributes": attrs}


# --- walking version 1 object headers (superblock 0, 8-byte offsets), for the patches ---

def root_header(data):
    assert data[8] == 0 and data[13] == 8 and data[14] == 8
    return struct.unpack_from("<Q", data, 64)[0]


def v1_messages(data, start, size):
    """(type, message offset, data size) of each message in one v1 chunk."""
    pos = start
    while pos + 8 <= start + size:
        mtype, msize = struct.unpack_from("<HH", data, pos)
        yield mtype, pos, msize
        pos += 8 + msize


def v1_chunks(data):
    """[(start, size, [messages])] of the root object header, chunk 0 first."""
    hdr = root_header(data)
    assert data[hdr] == 1
    size = struct.unpack_from("<I", data, hdr + 8)[0]
    todo, chunks = [(hdr + 16, size)], []
    while todo:
        start, size = todo.pop(0)
        msgs = list(v1_messages(data, start, size))
        chunks.append((start, size, msgs))
        for mtype, pos, _ in msgs:
            if mtype == 0x10:
                todo.append(struct.unpack_from("<QQ", data, pos + 8))
    return chunks


def attr_name(data, pos):
    """Name of the version 1 attribute message whose header is at `pos`."""
    name_size = struct.unpack_from("<H", data, pos + 8 + 2)[0]
    return data[pos + 16:pos + 16 + name_size - 1].decode()


def chunk_attrs(chunk, data):
    return [attr_name(data, pos) for mtype, pos, _ in chunk[2] if mtype == 0x0C]


def write_corrupt(expected):
    corrupt = {}

    def put(name, source, data, problem, kept):
        with open(path(name), "wb") as out:
            out.write(data)
        corrupt[name] = {"source": source, "problem": problem, "kept": sorted(kept)}

    # continuation.h5's root header: h5py's chunk 0 holds only a continuation message; the
    # attributes written first are in the next block, the later ones in the last block.
    cont = open(path("continuation.h5"), "rb").read()
    chunks = v1_chunks(cont)
    assert len(chunks) >= 3, "continuation.h5 has too few continuation blocks"
    last = chunks[-1]
    before = [n for c in chunks[:-1] for n in chunk_attrs(c, cont)]
    assert before and chunk_attrs(last, cont)
    # The chunk holding the continuation message to the last block, and that message.
    parent, cmsg = next((c, pos) for c in chunks for mtype, pos, _ in c[2]
                        if mtype == 0x10 and struct.unpack_from("<Q", cont, pos + 8)[0] == last[0])
    # Cut in the middle of the last block's first attribute message.
    first_attr = next(pos for mtype, pos, _ in last[2] if mtype == 0x0C)
    put("corrupt_truncated.h5", "continuation.h5", cont[:first_attr + 40],
        "cut short by end of file", before)
    # The continuation message to the last block points past the end of the file.
    bad = bytearray(cont)
    struct.pack_into("<Q", bad, cmsg + 8, 0x7FFFFFFF0)
    put("corrupt_continuation_eof.h5", "continuation.h5", bytes(bad), "beyond end of file",
        before)
    # It points back at the chunk that holds it.
    bad = bytearray(cont)
    struct.pack_into("<QQ", bad, cmsg + 8, parent[0], parent[1])
    put("corrupt_continuation_loop.h5", "continuation.h5", bytes(bad), "loop", before)

    # A bad superblock checksum (superblock 3: 12 bytes, 4 addresses, then the checksum).
    latest = bytearray(open(path("latest.h5"), "rb").read())
    assert latest[8] == 3
    latest[12 + 4 * 8] ^= 0xFF
    put("corrupt_superblock_checksum.h5", "latest.h5", bytes(latest),
        "superblock checksum mismatch", expected["latest.h5"]["attributes"].keys())

    # An attribute whose dataspace declares 2^40 elements.
    default = bytearray(open(path("default.h5"), "rb").read())
    hit = None
    for chunk in v1_chunks(bytes(default)):
        for mtype, pos, _ in chunk[2]:
            if mtype == 0x0C and attr_name(default, pos) == "uint8_array":
                hit = pos
    assert hit is not None
    m = hit + 8
    name_size, type_size = struct.unpack_from("<HH", default, m + 2)
    space = m + 8 + (name_size + 7) // 8 * 8 + (type_size + 7) // 8 * 8
    assert default[space] == 1 and default[space + 1] == 1  # dataspace v1, rank 1
    struct.pack_into("<Q", default, space + 8, 1 << 40)
    others = [n for n in expected["default.h5"]["attributes"] if n != "uint8_array"]
    put("corrupt_huge_dataspace.h5", "default.h5", bytes(default),
        "dataspace declares more data", others)

    # The dense file cut before its fractal heap's blocks: the header is read, the heap is not.
    dense = open(path("dense.h5"), "rb").read()
    put("corrupt_dense_truncated.h5", "dense.h5", dense[:dense.find(b"FHDB")],
        "beyond end of file", [])
    return corrupt


def main():
    for old in glob.glob(path("*.h5")):
        os.remove(old)
    write_benign()
    expected = {name: read_expected(name) for name in BENIGN}
    corrupt = write_corrupt(expected)
    with open(path("expected.json"), "w") as out:
        json.dump({"benign": expected, "corrupt": corrupt}, out, indent=1, sort_keys=True,
                  ensure_ascii=False)
        out.write("\n")
    # Fuzz seeds: the reference files, benign and corrupted.
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    os.makedirs(CORPUS)
    for name in BENIGN + sorted(corrupt):
        shutil.copy(path(name), os.path.join(CORPUS, name))
    for name in BENIGN + sorted(corrupt):
        print("%-32s %7d bytes" % (name, os.path.getsize(path(name))))


if __name__ == "__main__":
    main()
