#!/usr/bin/env python3
"""Write mscan's hand-assembled pickle samples and their manifest entries.

Every sample is assembled opcode by opcode from raw bytes by the small
assembler below. Nothing in this script ever unpickles anything: the only use
of the pickle machinery is `pickletools.dis`, which disassembles and never
executes. Hostile samples name dangerous callables, but every command string
in them is harmless (`echo mscan-sample`, `true`, `print(...)`), so even a
mistaken load would do nothing worse than print a line.

Run from the repository root with any Python 3 (stdlib only):

    python3 samples/make_samples.py               # rewrite samples + manifest
    python3 samples/make_samples.py --crosscheck  # also compare the plain benign
                                                  # samples with pickle.dumps

Output is deterministic: same script, same bytes. The script owns
samples/pickle/benign/ and samples/pickle/hostile/ (both are wiped and
rewritten) and its own entries in samples/manifest.json; entries written by
make_real_samples.py are kept.
"""

import argparse
import io
import json
import pickletools
import shutil
import struct
import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent
ROOT = SAMPLES.parent
OUT = SAMPLES / "pickle"
MANIFEST = SAMPLES / "manifest.json"
OWN_DIRS = ("benign", "hostile")

CMD = "echo mscan-sample"  # the only shell command any hostile sample carries
PY = "print('mscan-sample')"  # the only Python source any hostile sample carries
MEDIUM_PLUS = "*medium+"  # manifest: no finding of severity medium or higher


# --------------------------------------------------------------------------
# Opcode assembler
# --------------------------------------------------------------------------

class Asm:
    """A pickle byte stream built one opcode at a time.

    Method names are the opcode names from pickletools. `starts` records the
    offset of every opcode so a stream can later be cut into FRAMEs at opcode
    boundaries (or, deliberately, not).
    """

    def __init__(self):
        self.buf = bytearray()
        self.starts = []

    def op(self, code, operand=b""):
        self.starts.append(len(self.buf))
        self.buf += code + operand
        return self

    def raw(self, data):
        """Bytes that are not an opcode (junk, or a hand-made operand)."""
        self.buf += data
        return self

    def data(self):
        return bytes(self.buf)

    def __len__(self):
        return len(self.buf)

    # --- framing and protocol -------------------------------------------
    def PROTO(self, n):
        return self.op(b"\x80", bytes([n]))

    def FRAME(self, n):
        return self.op(b"\x95", struct.pack("<Q", n))

    def STOP(self):
        return self.op(b".")

    # --- stack and memo -------------------------------------------------
    def MARK(self):
        return self.op(b"(")

    def POP(self):
        return self.op(b"0")

    def POP_MARK(self):
        return self.op(b"1")

    def DUP(self):
        return self.op(b"2")

    def PUT(self, i):
        return self.op(b"p", b"%d\n" % i)

    def GET(self, i):
        return self.op(b"g", b"%d\n" % i)

    def BINPUT(self, i):
        return self.op(b"q", struct.pack("<B", i))

    def BINGET(self, i):
        return self.op(b"h", struct.pack("<B", i))

    def LONG_BINPUT(self, i):
        return self.op(b"r", struct.pack("<I", i))

    def LONG_BINGET(self, i):
        return self.op(b"j", struct.pack("<I", i))

    def MEMOIZE(self):
        return self.op(b"\x94")

    # --- scalars --------------------------------------------------------
    def NONE(self):
        return self.op(b"N")

    def NEWTRUE(self):
        return self.op(b"\x88")

    def NEWFALSE(self):
        return self.op(b"\x89")

    def INT(self, text):
        """Text INT operand, e.g. '42', '-7', '01' (True), '00' (False)."""
        return self.op(b"I", text.encode("ascii") + b"\n")

    def LONG(self, value):
        return self.op(b"L", b"%dL\n" % value)

    def BININT(self, v):
        return self.op(b"J", struct.pack("<i", v))

    def BININT1(self, v):
        return self.op(b"K", struct.pack("<B", v))

    def BININT2(self, v):
        return self.op(b"M", struct.pack("<H", v))

    def LONG1(self, payload):
        return self.op(b"\x8a", struct.pack("<B", len(payload)) + payload)

    def LONG4(self, payload, declared=None):
        n = len(payload) if declared is None else declared
        return self.op(b"\x8b", struct.pack("<i", n) + payload)

    def FLOAT(self, text):
        return self.op(b"F", text.encode("ascii") + b"\n")

    def BINFLOAT(self, v):
        return self.op(b"G", struct.pack(">d", v))

    # --- strings and bytes ----------------------------------------------
    def STRING(self, literal):
        """Protocol-0 STRING; `literal` includes its quotes and escapes."""
        return self.op(b"S", literal.encode("ascii") + b"\n")

    def BINSTRING(self, b):
        return self.op(b"T", struct.pack("<i", len(b)) + b)

    def SHORT_BINSTRING(self, b):
        return self.op(b"U", struct.pack("<B", len(b)) + b)

    def UNICODE(self, s):
        return self.op(b"V", unicode_nl_escape(s) + b"\n")

    def BINUNICODE(self, s):
        b = s.encode("utf-8")
        return self.op(b"X", struct.pack("<I", len(b)) + b)

    def SHORT_BINUNICODE(self, s):
        b = s.encode("utf-8")
        return self.op(b"\x8c", struct.pack("<B", len(b)) + b)

    def BINUNICODE8(self, s, declared=None):
        b = s.encode("utf-8")
        n = len(b) if declared is None else declared
        return self.op(b"\x8d", struct.pack("<Q", n) + b)

    def BINBYTES(self, b):
        return self.op(b"B", struct.pack("<I", len(b)) + b)

    def SHORT_BINBYTES(self, b):
        return self.op(b"C", struct.pack("<B", len(b)) + b)

    def BINBYTES8(self, b, declared=None):
        n = len(b) if declared is None else declared
        return self.op(b"\x8e", struct.pack("<Q", n) + b)

    def BYTEARRAY8(self, b):
        return self.op(b"\x96", struct.pack("<Q", len(b)) + b)

    def NEXT_BUFFER(self):
        return self.op(b"\x97")

    def READONLY_BUFFER(self):
        return self.op(b"\x98")

    # --- containers -----------------------------------------------------
    def EMPTY_LIST(self):
        return self.op(b"]")

    def LIST(self):
        return self.op(b"l")

    def APPEND(self):
        return self.op(b"a")

    def APPENDS(self):
        return self.op(b"e")

    def EMPTY_TUPLE(self):
        return self.op(b")")

    def TUPLE(self):
        return self.op(b"t")

    def TUPLE1(self):
        return self.op(b"\x85")

    def TUPLE2(self):
        return self.op(b"\x86")

    def TUPLE3(self):
        return self.op(b"\x87")

    def EMPTY_DICT(self):
        return self.op(b"}")

    def DICT(self):
        return self.op(b"d")

    def SETITEM(self):
        return self.op(b"s")

    def SETITEMS(self):
        return self.op(b"u")

    def EMPTY_SET(self):
        return self.op(b"\x8f")

    def ADDITEMS(self):
        return self.op(b"\x90")

    def FROZENSET(self):
        return self.op(b"\x91")

    # --- globals, calls, objects ----------------------------------------
    def GLOBAL(self, module, name):
        return self.op(b"c", f"{module}\n{name}\n".encode("utf-8"))

    def INST(self, module, name):
        return self.op(b"i", f"{module}\n{name}\n".encode("utf-8"))

    def STACK_GLOBAL(self):
        return self.op(b"\x93")

    def REDUCE(self):
        return self.op(b"R")

    def BUILD(self):
        return self.op(b"b")

    def OBJ(self):
        return self.op(b"o")

    def NEWOBJ(self):
        return self.op(b"\x81")

    def NEWOBJ_EX(self):
        return self.op(b"\x92")

    def EXT1(self, code):
        return self.op(b"\x82", struct.pack("<B", code))

    def EXT2(self, code):
        return self.op(b"\x83", struct.pack("<H", code))

    def EXT4(self, code):
        return self.op(b"\x84", struct.pack("<i", code))

    def PERSID(self, pid):
        return self.op(b"P", pid.encode("ascii") + b"\n")

    def BINPERSID(self):
        return self.op(b"Q")


def unicode_nl_escape(s):
    """Operand of the protocol-0 UNICODE opcode (raw-unicode-escape, plus the
    characters that would break the line-based operand written as \\uXXXX, the
    way CPython's pickler writes them)."""
    out = bytearray()
    for ch in s:
        o = ord(ch)
        if o >= 0x10000:
            out += b"\\U%08x" % o
        elif o >= 0x100 or ch in "\\\n\r\0\x1a":
            out += b"\\u%04x" % o
        else:
            out.append(o)
    return bytes(out)


def encode_long(x):
    """Two's-complement little-endian bytes, shortest form (LONG1/LONG4)."""
    if x == 0:
        return b""
    n = (x.bit_length() >> 3) + 1
    b = x.to_bytes(n, "little", signed=True)
    if x < 0 and n > 1 and b[-1] == 0xFF and (b[-2] & 0x80):
        b = b[:-1]
    return b


def with_frames(proto, body, frame_size=None):
    """PROTO (for protocol >= 2) followed by `body`; for protocol >= 4 the
    body is cut into FRAMEs at opcode boundaries, each at most `frame_size`
    bytes (one frame when None), like CPython's pickler does."""
    out = Asm()
    if proto >= 2:
        out.PROTO(proto)
    data = body.data()
    if proto < 4:
        return out.raw(data).data()
    limit = frame_size or len(data)
    cuts = [s for s in body.starts if s > 0] + [len(data)]
    start = 0
    prev = 0
    for cut in cuts:
        if cut - start > limit and prev > start:
            emit_frame(out, data[start:prev])
            start = prev
        prev = cut
    emit_frame(out, data[start:])
    return out.data()


def emit_frame(out, chunk):
    if len(chunk) >= 4:  # CPython writes no FRAME for a chunk under 4 bytes
        out.FRAME(len(chunk))
    out.raw(chunk)


# --------------------------------------------------------------------------
# Value encoder: mirrors CPython's Pickler for the value shapes used here
# --------------------------------------------------------------------------

class Global:
    """A module-level object named by (module, qualified name). Interned, so
    a second use of the same name becomes a memo GET, as in real pickles."""

    _interned = {}

    def __new__(cls, module, name):
        key = (module, name)
        if key not in cls._interned:
            obj = super().__new__(cls)
            obj.module, obj.name = module, name
            cls._interned[key] = obj
        return cls._interned[key]


class Reduce:
    """What __reduce__ returns: func(*args), then items, then BUILD(state)."""

    def __init__(self, func, args, state=None, listitems=None, dictitems=None):
        self.func, self.args, self.state = func, args, state
        self.listitems, self.dictitems = listitems, dictitems


class NewObj:
    """cls.__new__(cls, *args) via NEWOBJ, then BUILD(state)."""

    def __init__(self, cls, args, state=None):
        self.cls, self.args, self.state = cls, args, state


class NewObjEx:
    """cls.__new__(cls, *args, **kwargs) via NEWOBJ_EX (protocol 4+)."""

    def __init__(self, cls, args, kwargs, state=None):
        self.cls, self.args, self.kwargs, self.state = cls, args, kwargs, state


class PersId:
    """An object the pickler replaced by a persistent id."""

    def __init__(self, pid):
        self.pid = pid


class Str8:
    """A str written with the old 8-bit string opcodes: STRING (protocol 0,
    `literal` is the quoted operand with escapes) or SHORT_BINSTRING /
    BINSTRING (protocol 1+, `value` ASCII)."""

    def __init__(self, value, literal):
        self.value, self.literal = value, literal


class Bytes8:
    """bytes written with BINBYTES8 even though they are small."""

    def __init__(self, data):
        self.data = data


LATIN1 = "latin1"


class Encoder:
    """Writes Python values into an Asm the way CPython's Pickler would for
    the given protocol (memo by object identity, batching, tuple opcodes)."""

    def __init__(self, asm, proto):
        self.a = asm
        self.proto = proto
        self.memo = {}  # id(obj) -> (index, obj); obj kept alive like pickle

    def put(self, obj):
        idx = len(self.memo)
        self.memo[id(obj)] = (idx, obj)
        if self.proto >= 4:
            self.a.MEMOIZE()
        elif self.proto >= 1:
            if idx < 256:
                self.a.BINPUT(idx)
            else:
                self.a.LONG_BINPUT(idx)
        else:
            self.a.PUT(idx)

    def get(self, idx):
        if self.proto >= 1:
            if idx < 256:
                self.a.BINGET(idx)
            else:
                self.a.LONG_BINGET(idx)
        else:
            self.a.GET(idx)

    def save(self, obj):
        a, p = self.a, self.proto
        if obj is None:
            a.NONE()
            return
        if obj is True or obj is False:
            if p >= 2:
                a.NEWTRUE() if obj else a.NEWFALSE()
            else:
                a.INT("01" if obj else "00")
            return
        if type(obj) is int:
            self.save_int(obj)
            return
        if type(obj) is float:
            if p >= 1:
                a.BINFLOAT(obj)
            else:
                a.FLOAT(repr(obj))
            return
        if id(obj) in self.memo:
            self.get(self.memo[id(obj)][0])
            return
        if isinstance(obj, str):
            self.save_str(obj)
        elif isinstance(obj, Str8):
            if p == 0:
                a.STRING(obj.literal)
            else:
                b = obj.value.encode("ascii")
                a.SHORT_BINSTRING(b) if len(b) < 256 else a.BINSTRING(b)
            self.put(obj)
        elif isinstance(obj, bytes):
            self.save_bytes(obj)
        elif isinstance(obj, Bytes8):
            a.BINBYTES8(obj.data)
            self.put(obj)
        elif isinstance(obj, bytearray):
            a.BYTEARRAY8(bytes(obj))
            self.put(obj)
        elif isinstance(obj, tuple):
            self.save_tuple(obj)
        elif isinstance(obj, list):
            a.EMPTY_LIST() if p >= 1 else a.MARK().LIST()
            self.put(obj)
            self.batch_appends(obj)
        elif isinstance(obj, dict):
            a.EMPTY_DICT() if p >= 1 else a.MARK().DICT()
            self.put(obj)
            self.batch_setitems(list(obj.items()))
        elif isinstance(obj, (set, frozenset)):
            self.save_set(obj)
        elif isinstance(obj, Global):
            self.save_global(obj)
        elif isinstance(obj, Reduce):
            self.save_reduce(obj.func, obj.args, obj.state, obj.listitems,
                             obj.dictitems, obj)
        elif isinstance(obj, NewObj):
            self.save(obj.cls)
            self.save(obj.args)
            a.NEWOBJ()
            self.put(obj)
            self.save_state(obj.state)
        elif isinstance(obj, NewObjEx):
            self.save(obj.cls)
            self.save(obj.args)
            self.save(obj.kwargs)
            a.NEWOBJ_EX()
            self.put(obj)
            self.save_state(obj.state)
        elif isinstance(obj, PersId):
            if p >= 1:
                self.save(obj.pid)
                a.BINPERSID()
            else:
                a.PERSID(obj.pid)
        else:
            raise TypeError(f"encoder cannot write {type(obj).__name__}")

    def save_int(self, v):
        a, p = self.a, self.proto
        if p >= 1:
            if 0 <= v <= 0xFF:
                a.BININT1(v)
                return
            if 0 <= v <= 0xFFFF:
                a.BININT2(v)
                return
            if -0x80000000 <= v <= 0x7FFFFFFF:
                a.BININT(v)
                return
        if p >= 2:
            payload = encode_long(v)
            a.LONG1(payload) if len(payload) < 256 else a.LONG4(payload)
        elif -0x80000000 <= v <= 0x7FFFFFFF:
            a.INT(str(v))
        else:
            a.LONG(v)

    def save_str(self, s):
        a, p = self.a, self.proto
        if p == 0:
            a.UNICODE(s)
        elif p >= 4 and len(s.encode("utf-8")) < 256:
            a.SHORT_BINUNICODE(s)
        else:
            a.BINUNICODE(s)
        self.put(s)

    def save_bytes(self, b):
        a, p = self.a, self.proto
        if p < 3:
            # Protocols 0-2 have no bytes opcode: CPython writes
            # _codecs.encode(<latin-1 text>, 'latin1').
            self.save_reduce(Global("_codecs", "encode"),
                             (str(b, "latin1"), LATIN1), obj=b)
            return
        if len(b) < 256:
            a.SHORT_BINBYTES(b)
        else:
            a.BINBYTES(b)
        self.put(b)

    def save_tuple(self, t):
        a, p = self.a, self.proto
        if not t:
            a.EMPTY_TUPLE() if p >= 1 else a.MARK().TUPLE()
            return
        if len(t) <= 3 and p >= 2:
            for x in t:
                self.save(x)
            (a.TUPLE1, a.TUPLE2, a.TUPLE3)[len(t) - 1]()
        else:
            a.MARK()
            for x in t:
                self.save(x)
            a.TUPLE()
        self.put(t)

    def batch_appends(self, items):
        a = self.a
        if self.proto == 0:
            for x in items:
                self.save(x)
                a.APPEND()
            return
        for i in range(0, len(items), 1000):
            chunk = items[i:i + 1000]
            if len(chunk) > 1:
                a.MARK()
                for x in chunk:
                    self.save(x)
                a.APPENDS()
            else:
                self.save(chunk[0])
                a.APPEND()

    def batch_setitems(self, items):
        a = self.a
        if self.proto == 0:
            for k, v in items:
                self.save(k)
                self.save(v)
                a.SETITEM()
            return
        for i in range(0, len(items), 1000):
            chunk = items[i:i + 1000]
            if len(chunk) > 1:
                a.MARK()
                for k, v in chunk:
                    self.save(k)
                    self.save(v)
                a.SETITEMS()
            else:
                self.save(chunk[0][0])
                self.save(chunk[0][1])
                a.SETITEM()

    def save_set(self, s):
        a, p = self.a, self.proto
        builtins = "builtins" if p >= 3 else "__builtin__"
        frozen = isinstance(s, frozenset)
        if p < 4:
            func = Global(builtins, "frozenset" if frozen else "set")
            self.save_reduce(func, (list(s),), obj=s)
            return
        if frozen:
            a.MARK()
            for x in s:
                self.save(x)
            a.FROZENSET()
            self.put(s)
            return
        a.EMPTY_SET()
        self.put(s)
        items = list(s)
        for i in range(0, len(items), 1000):
            a.MARK()
            for x in items[i:i + 1000]:
                self.save(x)
            a.ADDITEMS()

    def save_global(self, g):
        if self.proto >= 4:
            self.save(g.module)
            self.save(g.name)
            self.a.STACK_GLOBAL()
        else:
            self.a.GLOBAL(g.module, g.name)
        self.put(g)

    def save_reduce(self, func, args, state=None, listitems=None,
                    dictitems=None, obj=None):
        self.save(func)
        self.save(args)
        self.a.REDUCE()
        if obj is not None:
            self.put(obj)
        if listitems is not None:
            self.batch_appends(listitems)
        if dictitems is not None:
            self.batch_setitems(dictitems)
        self.save_state(state)

    def save_state(self, state):
        if state is not None:
            self.save(state)
            self.a.BUILD()


def dumps(obj, proto, frame_size=None):
    """`obj` written as a complete pickle stream of protocol `proto`."""
    body = Asm()
    Encoder(body, proto).save(obj)
    body.STOP()
    return with_frames(proto, body, frame_size)


def call(module, name, *args):
    """module.name(*args) as a REDUCE."""
    return Reduce(Global(module, name), tuple(args))


def framed(proto, body):
    """Finish a hand-assembled body: STOP is the caller's; adds PROTO/FRAME."""
    return with_frames(proto, body)


# --------------------------------------------------------------------------
# Benign samples
# --------------------------------------------------------------------------

def nested_value(proto):
    """Nested dicts/lists/tuples/sets of scalars; bytes from protocol 3 on
    (protocols 0-2 would need the _codecs.encode global for bytes)."""
    value = {
        "name": "mscan benign sample",
        "ints": [0, 1, 255, 256, 65535, 65536, -1, -2147483648, 2147483647,
                 2147483648, -2147483649, 2 ** 70, -(2 ** 70)],
        "floats": (0.0, 1.5, -0.25, 1e100, 3.141592653589793),
        "flags": [True, False, None],
        "nested": {"layers": [{"units": 16, "act": "relu"},
                              {"units": 4, "act": "softmax"}],
                   "shape": (3, 224, 224),
                   "empty": ((), [], {})},
        "set": {1, 2, 3},
        "frozen": frozenset({4, 5}),
        "unicode": "caf\u00e9 \u2603 \U0001f600 back\\slash\nnewline",
        "long_list": list(range(40)),
    }
    if proto >= 3:
        value["bytes"] = b"\x00\x01binary\xff"
    return value


def benign_text_proto(proto):
    """Protocol 0 or 1 with the old text/8-bit forms: STRING with escapes,
    UNICODE with \\u escapes, FLOAT/INT/LONG text (protocol 0)."""
    value = nested_value(proto)
    value["strings"] = [
        Str8("tab\there 'quoted' \\ back A\n", r"'tab\there \'quoted\' \\ back \x41\n'"),
        Str8("it's", "\"it's\""),
        Str8("plain", "'plain'"),
    ]
    return dumps(value, proto)


def numpy_array(proto):
    """numpy.arange(3.0) as numpy writes it: _reconstruct + BUILD(state) with
    a dtype built by numpy.dtype + BUILD."""
    data = struct.pack("<3d", 0.0, 1.0, 2.0)
    dtype = Reduce(Global("numpy", "dtype"), ("f8", False, True),
                   state=(3, "<", None, None, None, -1, -1, 0))
    arr = Reduce(Global("numpy.core.multiarray", "_reconstruct"),
                 (Global("numpy", "ndarray"), (0,), b"b"),
                 state=(1, (3,), dtype, False, data))
    return dumps(arr, proto)


def torch_state_dict():
    """data.pkl as torch.save writes it for nn.Linear(2, 2).state_dict():
    protocol 2, OrderedDict + _rebuild_tensor_v2, storages as BINPERSID
    tuples ('storage', torch.FloatStorage, key, 'cpu', numel)."""
    od = Global("collections", "OrderedDict")
    storage, cpu = "storage", "cpu"
    fstorage = Global("torch", "FloatStorage")

    def tensor(key, numel, size, stride):
        pid = PersId((storage, fstorage, key, cpu, numel))
        return Reduce(Global("torch._utils", "_rebuild_tensor_v2"),
                      (pid, 0, size, stride, False, Reduce(od, ())))

    metadata = Reduce(od, (), dictitems=[("", {"version": 1})])
    sd = Reduce(od, (), state={"_metadata": metadata},
                dictitems=[("weight", tensor("0", 4, (2, 2), (2, 1))),
                           ("bias", tensor("1", 2, (2,), (1,)))])
    return dumps(sd, 2)


def namespace_newobj():
    """argparse.Namespace(lr=0.1, name='x') as protocol 2 writes it:
    NEWOBJ, then BUILD with the instance dict."""
    ns = NewObj(Global("argparse", "Namespace"), (), state={"lr": 0.1, "name": "x"})
    return dumps(ns, 2)


def namespace_reconstructor():
    """The same Namespace as protocol 0 writes it: copy_reg._reconstructor(
    argparse.Namespace, object, None) via REDUCE, then BUILD."""
    ns = Reduce(Global("copy_reg", "_reconstructor"),
                (Global("argparse", "Namespace"), Global("__builtin__", "object"), None),
                state={"lr": 0.1, "name": "x"})
    return dumps(ns, 0)


def proto4_multi_frame():
    """Protocol 4 cut into several FRAMEs (at most 256 bytes each), every
    length exact and every frame ending on an opcode boundary."""
    value = {"rows": [{"id": i, "label": f"row-{i:03d}", "score": i / 8}
                      for i in range(40)],
             "note": "frames are cut at opcode boundaries"}
    return dumps(value, 4, frame_size=256)


def proto5_large_binary():
    """Protocol 5 with a 3 KB BYTEARRAY8 and a 4 KB BINBYTES8 (in-band)."""
    pattern = bytes(range(256))
    value = {"bytearray": bytearray(pattern * 12),
             "bytes8": Bytes8(pattern * 16),
             "bytes": pattern[:100],
             "meta": {"dtype": "uint8", "count": 3072}}
    return dumps(value, 5)


def memo_overwritten_to_safe():
    """Memo slots first hold 'os'/'system', then are overwritten with
    'collections'/'OrderedDict'; STACK_GLOBAL reads the latest values, so
    this only builds an empty OrderedDict."""
    a = Asm()
    a.SHORT_BINUNICODE("os").BINPUT(1).POP()
    a.SHORT_BINUNICODE("system").BINPUT(2).POP()
    a.SHORT_BINUNICODE("collections").BINPUT(1).POP()
    a.SHORT_BINUNICODE("OrderedDict").BINPUT(2).POP()
    a.BINGET(1).BINGET(2).STACK_GLOBAL().BINPUT(3)
    a.EMPTY_TUPLE().REDUCE().BINPUT(4).STOP()
    return framed(4, a)


BENIGN = []
HOSTILE = []


def benign(name, description, forbid=None, dis_error=None):
    """Register a benign sample. `dis_error`: text of a pickletools.dis
    complaint that is expected because dis is stricter than the unpickler."""
    def register(builder):
        BENIGN.append((name, description, [], forbid or [MEDIUM_PLUS], builder,
                       dis_error))
        return builder
    return register


def hostile(name, description, expect, forbid=None):
    def register(builder):
        HOSTILE.append((name, description, expect, forbid or [], builder, None))
        return builder
    return register


for _p in range(6):
    if _p <= 1:
        _desc = (f"protocol {_p}: nested dict/list/tuple/set/frozenset of scalars, "
                 "text INT/LONG/FLOAT forms, UNICODE with \\u escapes, STRING "
                 "with escapes" if _p == 0 else
                 "protocol 1: nested containers of scalars, BINFLOAT, INT bools, "
                 "LONG text for big ints, SHORT_BINSTRING; sets via __builtin__.set")
        benign(f"proto{_p}_nested.pkl", _desc)(lambda p=_p: benign_text_proto(p))
    else:
        _desc = (f"protocol {_p}: nested dict/list/tuple/set/frozenset of scalars"
                 + (", bytes" if _p >= 3 else "")
                 + (", sets via builtins.set/frozenset REDUCE" if _p < 4 else
                    ", EMPTY_SET/ADDITEMS/FROZENSET, one FRAME"))
        benign(f"proto{_p}_nested.pkl", _desc)(lambda p=_p: dumps(nested_value(p), p))

benign("numpy_array_proto2.pkl",
       "numpy.arange(3.0) as numpy writes it in protocol 2: "
       "numpy.core.multiarray._reconstruct, numpy.ndarray, numpy.dtype + BUILD; "
       "bytes via _codecs.encode")(lambda: numpy_array(2))
benign("numpy_array_proto3.pkl",
       "numpy.arange(3.0) in protocol 3 (data as SHORT_BINBYTES)")(lambda: numpy_array(3))
benign("torch_state_dict_data.pkl",
       "data.pkl of torch.save(nn.Linear(2,2).state_dict()): OrderedDict, "
       "torch._utils._rebuild_tensor_v2, BINPERSID ('storage', torch.FloatStorage, "
       "key, 'cpu', numel), _metadata BUILD")(torch_state_dict)
benign("argparse_namespace_newobj.pkl",
       "argparse.Namespace(lr=0.1, name='x') via NEWOBJ + BUILD (protocol 2)")(namespace_newobj)
benign("argparse_namespace_reconstructor.pkl",
       "argparse.Namespace via copy_reg._reconstructor(cls, __builtin__.object, None) "
       "REDUCE + BUILD, as protocol 0 writes instances")(namespace_reconstructor)
benign("proto4_multi_frame.pkl",
       "protocol 4 split into several FRAMEs of <= 256 bytes, all lengths "
       "correct")(proto4_multi_frame)
benign("proto5_large_binary.pkl",
       "protocol 5 with a 3 KB BYTEARRAY8 and a 4 KB BINBYTES8, in-band")(proto5_large_binary)
benign("memo_overwritten_to_safe.pkl",
       "memo slots hold 'os'/'system' first, then are overwritten with "
       "'collections'/'OrderedDict'; STACK_GLOBAL must use the latest values "
       "(builds an empty OrderedDict)",
       # dis refuses a second PUT on one index; the unpickler simply replaces it
       dis_error="memo key 1 already defined")(memo_overwritten_to_safe)


# --------------------------------------------------------------------------
# Hostile samples
# --------------------------------------------------------------------------

OS_SYSTEM = "process-execution"


@hostile("os_system_proto0.pkl",
         "protocol 0: GLOBAL 'posix system', STRING argument, TUPLE, REDUCE",
         [OS_SYSTEM])
def _():
    return dumps(Reduce(Global("posix", "system"),
                        (Str8(CMD, f"'{CMD}'"),)), 0)


@hostile("os_system_proto1.pkl",
         "protocol 1: GLOBAL 'os system', BINUNICODE argument, MARK/TUPLE, REDUCE",
         [OS_SYSTEM])
def _():
    return dumps(call("os", "system", CMD), 1)


@hostile("os_system_proto2.pkl",
         "protocol 2: GLOBAL 'os system' + BINUNICODE + TUPLE1 + REDUCE", [OS_SYSTEM])
def _():
    return dumps(call("os", "system", CMD), 2)


@hostile("os_system_proto3.pkl",
         "protocol 3: GLOBAL 'posix system' + BINUNICODE + TUPLE1 + REDUCE", [OS_SYSTEM])
def _():
    return dumps(call("posix", "system", CMD), 3)


@hostile("os_system_proto4.pkl",
         "protocol 4: FRAME, SHORT_BINUNICODE 'os'/'system' + MEMOIZE, "
         "STACK_GLOBAL, REDUCE", [OS_SYSTEM])
def _():
    return dumps(call("os", "system", CMD), 4)


@hostile("os_system_proto5.pkl",
         "protocol 5: FRAME, SHORT_BINUNICODE + MEMOIZE, STACK_GLOBAL 'os system', "
         "REDUCE", [OS_SYSTEM])
def _():
    return dumps(call("os", "system", CMD), 5)


@hostile("builtins_eval.pkl", "builtins.eval(<source>) via STACK_GLOBAL (protocol 4)",
         ["code-execution"])
def _():
    return dumps(call("builtins", "eval", PY), 4)


@hostile("builtins_exec.pkl", "builtins.exec(<source>) via GLOBAL (protocol 3)",
         ["code-execution"])
def _():
    return dumps(call("builtins", "exec", PY), 3)


@hostile("builtin_eval_proto2.pkl",
         "__builtin__.eval (Python 2 module name, mapped to builtins by the "
         "unpickler) in protocol 2", ["code-execution"])
def _():
    return dumps(call("__builtin__", "eval", PY), 2)


@hostile("builtins_import_getattr.pkl",
         "builtins.getattr(builtins.__import__('os'), 'system')(cmd): __import__ "
         "of a constant name yields the module, so the getattr folds into os.system",
         ["code-execution", "process-execution"])
def _():
    mod = call("builtins", "__import__", "os")
    fn = call("builtins", "getattr", mod, "system")
    return dumps(Reduce(fn, (CMD,)), 2)


@hostile("subprocess_popen_newobj.pkl",
         "subprocess.Popen(['echo', 'mscan-sample']) via NEWOBJ (protocol 2)",
         [OS_SYSTEM])
def _():
    return dumps(NewObj(Global("subprocess", "Popen"), (["echo", "mscan-sample"],)), 2)


@hostile("subprocess_check_output_newobj_ex.pkl",
         "subprocess.check_output via NEWOBJ_EX with args and kwargs (protocol 4)",
         [OS_SYSTEM])
def _():
    return dumps(NewObjEx(Global("subprocess", "check_output"),
                          (["echo", "mscan-sample"],), {"text": True}), 4)


@hostile("inst_subprocess_call.pkl",
         "protocol 0 INST 'subprocess call' with MARK + a list argument", [OS_SYSTEM])
def _():
    a = Asm()
    a.MARK()
    a.MARK().LIST().PUT(0).UNICODE("echo").PUT(1).APPEND()
    a.UNICODE("mscan-sample").PUT(2).APPEND()
    a.INST("subprocess", "call").PUT(3).STOP()
    return a.data()


@hostile("obj_os_system.pkl",
         "protocol 1 OBJ: MARK, GLOBAL 'os system', argument, OBJ", [OS_SYSTEM])
def _():
    a = Asm()
    a.MARK().GLOBAL("os", "system").BINPUT(0).BINUNICODE(CMD).BINPUT(1)
    a.OBJ().BINPUT(2).STOP()
    return a.data()


def decoy_strings(a):
    """Push and drop 'collections'/'OrderedDict' so a scanner that looks at
    the last strings before STACK_GLOBAL sees a safe name."""
    a.SHORT_BINUNICODE("collections").POP()
    a.SHORT_BINUNICODE("OrderedDict").POP()


def call_top_with_cmd(a):
    """Call the callable on top of the stack with (CMD,) and stop."""
    a.SHORT_BINUNICODE(CMD).TUPLE1().REDUCE().STOP()


@hostile("stack_global_memo_binput.pkl",
         "STACK_GLOBAL operands fetched with BINGET from BINPUT slots, decoy "
         "strings pushed in between (resolves to os.system)", [OS_SYSTEM])
def _():
    a = Asm()
    a.SHORT_BINUNICODE("os").BINPUT(1).POP()
    a.SHORT_BINUNICODE("system").BINPUT(2).POP()
    decoy_strings(a)
    a.BINGET(1).BINGET(2).STACK_GLOBAL()
    call_top_with_cmd(a)
    return framed(4, a)


@hostile("stack_global_memo_memoize.pkl",
         "STACK_GLOBAL operands fetched with BINGET from MEMOIZE slots "
         "(resolves to os.system)", [OS_SYSTEM])
def _():
    a = Asm()
    a.SHORT_BINUNICODE("os").MEMOIZE().POP()          # memo 0
    a.SHORT_BINUNICODE("system").MEMOIZE().POP()      # memo 1
    decoy_strings(a)
    a.BINGET(0).BINGET(1).STACK_GLOBAL()
    call_top_with_cmd(a)
    return framed(4, a)


@hostile("stack_global_memo_long.pkl",
         "STACK_GLOBAL operands stored with LONG_BINPUT at 70000/70001 and "
         "fetched with LONG_BINGET (resolves to os.system)", [OS_SYSTEM])
def _():
    a = Asm()
    a.SHORT_BINUNICODE("os").LONG_BINPUT(70000).POP()
    a.SHORT_BINUNICODE("system").LONG_BINPUT(70001).POP()
    decoy_strings(a)
    a.LONG_BINGET(70000).LONG_BINGET(70001).STACK_GLOBAL()
    call_top_with_cmd(a)
    return framed(4, a)


@hostile("stack_global_memo_overwritten.pkl",
         "memo slots first hold 'collections'/'OrderedDict', then are overwritten "
         "(PUT again on the same index) with 'os'/'system'; STACK_GLOBAL reads "
         "the latest values, so this is os.system", [OS_SYSTEM])
def _():
    a = Asm()
    a.SHORT_BINUNICODE("collections").BINPUT(1).POP()
    a.SHORT_BINUNICODE("OrderedDict").BINPUT(2).POP()
    a.SHORT_BINUNICODE("os").BINPUT(1).POP()
    a.SHORT_BINUNICODE("system").BINPUT(2).POP()
    a.BINGET(1).BINGET(2).STACK_GLOBAL()
    call_top_with_cmd(a)
    return framed(4, a)


@hostile("stack_global_int_operand.pkl",
         "STACK_GLOBAL whose module operand is an int (BININT1 5): the global "
         "cannot be named", ["pickle-unresolved-global"])
def _():
    a = Asm()
    a.BININT1(5).SHORT_BINUNICODE("system").STACK_GLOBAL()
    call_top_with_cmd(a)
    return framed(4, a)


@hostile("build_on_global_module.pkl",
         "BUILD with a dict state on GLOBAL 'torch._utils _rebuild_tensor_v2' "
         "itself: the unpickler would overwrite attributes of an allowlisted "
         "function (modelscan#85 style)", ["pickle-attribute-write"])
def _():
    a = Asm()
    a.PROTO(2).GLOBAL("torch._utils", "_rebuild_tensor_v2").EMPTY_DICT()
    a.SHORT_BINUNICODE("__code__").NEWFALSE().SETITEM().BUILD().STOP()
    return a.data()


@hostile("ml_framework_io_fromfile.pkl",
         "numpy.fromfile('/etc/hostname') reads a local file while loading",
         ["ml-framework-io"])
def _():
    return dumps(call("numpy", "fromfile", "/etc/hostname"), 2)


@hostile("stack_global_call_operand.pkl",
         "STACK_GLOBAL whose module operand is the result of a call "
         "(codecs.decode('bf', 'rot13') == 'os'): the global cannot be named "
         "statically", ["pickle-unresolved-global"])
def _():
    a = Asm()
    a.SHORT_BINUNICODE("codecs").SHORT_BINUNICODE("decode").STACK_GLOBAL()
    a.SHORT_BINUNICODE("bf").SHORT_BINUNICODE("rot13").TUPLE2().REDUCE()
    a.SHORT_BINUNICODE("system").STACK_GLOBAL()
    call_top_with_cmd(a)
    return framed(4, a)


@hostile("stack_global_no_proto.pkl",
         "no PROTO; STACK_GLOBAL fed by two protocol-0 STRING operands at the "
         "very start of the stream (the GHSA-9gvj walk-back case)", [OS_SYSTEM])
def _():
    a = Asm()
    a.STRING("'os'").STRING("'system'").STACK_GLOBAL()
    a.MARK().STRING(f"'{CMD}'").TUPLE().REDUCE().STOP()
    return a.data()


@hostile("dotted_pathlib_os_system.pkl",
         "STACK_GLOBAL 'pathlib' + 'os.system': protocol 4 find_class walks the "
         "dotted name to os.system", [OS_SYSTEM])
def _():
    return dumps(call("pathlib", "os.system", CMD), 4)


@hostile("dotted_dunder_globals.pkl",
         "STACK_GLOBAL 'torch._utils' + '_rebuild_tensor_v2.__globals__': a "
         "dunder walk off an allowlisted function to its module globals",
         ["pickle-dunder-attribute"])
def _():
    return dumps(Global("torch._utils", "_rebuild_tensor_v2.__globals__"), 4)


@hostile("getattr_fold_os_system.pkl",
         "builtins.getattr(<GLOBAL pathlib.os>, 'system')('echo mscan-sample'): "
         "constant getattr on a global folds to os.system; the getattr itself "
         "must not be reported", [OS_SYSTEM], forbid=["reflection"])
def _():
    fn = call("builtins", "getattr", Global("pathlib", "os"), "system")
    return dumps(Reduce(fn, (CMD,)), 2)


@hostile("getattr_unfoldable.pkl",
         "builtins.getattr(collections.OrderedDict(), 'pop') then REDUCE: getattr on an "
         "instance names the class attribute, but calling the bound method stays reflection",
         ["reflection"])
def _():
    od = call("collections", "OrderedDict")
    fn = call("builtins", "getattr", od, "pop")
    return dumps(Reduce(fn, ("x", None)), 2)


@hostile("builtins_setattr.pkl",
         "builtins.setattr(argparse.Namespace, 'x', 1)", ["reflection"])
def _():
    return dumps(call("builtins", "setattr", Global("argparse", "Namespace"), "x", 1), 2)


@hostile("sys_modules.pkl", "GLOBAL 'sys modules' (import only)", ["reflection"])
def _():
    return dumps(Global("sys", "modules"), 2)


@hostile("operator_attrgetter.pkl",
         "operator.attrgetter('system')(pathlib.os)(cmd)",
         ["attribute-gadget", "process-execution"])
def _():
    getter = call("operator", "attrgetter", "system")
    fn = Reduce(getter, (Global("pathlib", "os"),))
    return dumps(Reduce(fn, (CMD,)), 4)


@hostile("operator_methodcaller.pkl",
         "_operator.methodcaller('system', cmd)(pathlib.os)",
         ["attribute-gadget", "process-execution"])
def _():
    caller = call("_operator", "methodcaller", "system", CMD)
    return dumps(Reduce(caller, (Global("pathlib", "os"),)), 4)


@hostile("functools_partial.pkl",
         "functools.partial(os.system, cmd)(): building the partial calls nothing, the wrapped "
         "os.system is what is judged", [OS_SYSTEM])
def _():
    part = call("functools", "partial", Global("os", "system"), CMD)
    return dumps(Reduce(part, ()), 2)


@hostile("pkgutil_resolve_name.pkl",
         "pkgutil.resolve_name('os:system')(cmd) trampoline", ["code-execution"])
def _():
    fn = call("pkgutil", "resolve_name", "os:system")
    return dumps(Reduce(fn, (CMD,)), 4)


@hostile("importlib_import_module.pkl", "importlib.import_module('os')",
         ["code-execution"])
def _():
    return dumps(call("importlib", "import_module", "os"), 4)


@hostile("types_functiontype_marshal.pkl",
         "types.FunctionType(marshal.loads(<junk bytes, not code>), {})",
         ["code-execution"])
def _():
    code = call("marshal", "loads", b"mscan-sample: junk, not marshal data")
    return dumps(call("types", "FunctionType", code, {}), 3)


@hostile("runpy_run_code.pkl", "runpy._run_code(<source>, {})", ["code-execution"])
def _():
    return dumps(call("runpy", "_run_code", PY, {}), 4)


@hostile("code_interactive_interpreter.pkl", "code.InteractiveInterpreter()",
         ["code-execution"])
def _():
    return dumps(call("code", "InteractiveInterpreter"), 4)


@hostile("webbrowser_open.pkl", "webbrowser.open('http://127.0.0.1/')", ["network"])
def _():
    return dumps(call("webbrowser", "open", "http://127.0.0.1/"), 4)


@hostile("socket_socket.pkl", "socket.socket()", ["network"])
def _():
    return dumps(call("socket", "socket"), 2)


@hostile("shutil_rmtree_import.pkl",
         "GLOBAL 'shutil rmtree' then POP, NONE, STOP: import only, never called",
         ["filesystem"])
def _():
    a = Asm()
    a.GLOBAL("shutil", "rmtree").BINPUT(0).POP().NONE().STOP()
    return with_frames(2, a)


@hostile("logging_filehandler_import.pkl",
         "GLOBAL 'logging FileHandler' then POP, NONE, STOP: import only",
         ["filesystem"])
def _():
    a = Asm()
    a.GLOBAL("logging", "FileHandler").BINPUT(0).POP().NONE().STOP()
    return with_frames(2, a)


@hostile("builtins_open.pkl", "builtins.open('/dev/null')", ["filesystem"])
def _():
    return dumps(call("builtins", "open", "/dev/null"), 3)


@hostile("ctypes_cdll.pkl", "ctypes.CDLL(None)", ["native-code"])
def _():
    return dumps(call("ctypes", "CDLL", None), 4)


@hostile("pickle_loads.pkl", "pickle.loads(<junk bytes, not a pickle>)",
         ["nested-deserializer"])
def _():
    return dumps(call("pickle", "loads", b"mscan-sample: junk, not a pickle"), 4)


@hostile("torch_load.pkl", "torch.load('/nonexistent/mscan-sample.pt')",
         ["nested-deserializer"])
def _():
    return dumps(call("torch", "load", "/nonexistent/mscan-sample.pt"), 2)


@hostile("pdb_run.pkl", "pdb.run(<source>)", ["debugger-profiler"])
def _():
    return dumps(call("pdb", "run", PY), 4)


@hostile("pip_main.pkl", "pip.main(['--version'])", ["package-installer"])
def _():
    return dumps(call("pip", "main", ["--version"]), 4)


@hostile("uuid_get_command_stdout.pkl",
         "uuid._get_command_stdout('echo', 'mscan-sample')", ["hidden-shell"])
def _():
    return dumps(call("uuid", "_get_command_stdout", "echo", "mscan-sample"), 4)


@hostile("osx_support_read_output.pkl", "_osx_support._read_output(cmd)",
         ["hidden-shell"])
def _():
    return dumps(call("_osx_support", "_read_output", CMD), 4)


@hostile("imaplib_imap4_stream.pkl", "imaplib.IMAP4_stream(cmd)", ["hidden-shell"])
def _():
    return dumps(call("imaplib", "IMAP4_stream", CMD), 4)


@hostile("pydoc_pipepager.pkl", "pydoc.pipepager('mscan-sample', 'true')",
         ["hidden-shell"])
def _():
    return dumps(call("pydoc", "pipepager", "mscan-sample", "true"), 4)


@hostile("asyncio_unix_subprocess_transport.pkl",
         "asyncio.unix_events._UnixSubprocessTransport(...): a submodule of a "
         "denied module (CVE-2025-10157 class)", [OS_SYSTEM])
def _():
    return dumps(call("asyncio.unix_events", "_UnixSubprocessTransport",
                      None, None, CMD, True, None, None, None, 0), 4)


@hostile("torch_collect_env_run.pkl", "torch.utils.collect_env.run(cmd)",
         ["ml-framework-gadget"])
def _():
    return dumps(call("torch.utils.collect_env", "run", CMD), 2)


@hostile("numpy_runstring.pkl",
         "numpy.testing._private.utils.runstring(<source>, {}) (exec wrapper); "
         "family is ml-framework-gadget or code-execution depending on the rule "
         "files, so no rule id is required", [])
def _():
    return dumps(call("numpy.testing._private.utils", "runstring", PY, {}), 2)


@hostile("threading_thread.pkl",
         "threading.Thread(None, os.system, None, (cmd,)) (never started)",
         ["concurrency", OS_SYSTEM])
def _():
    return dumps(call("threading", "Thread", None, Global("os", "system"), None,
                      (CMD,)), 4)


@hostile("scanner_tampering_picklescan.pkl",
         "builtins.setattr(picklescan.scanner, '_unsafe_globals', {}): switches "
         "off another scanner's denylist", ["scanner-tampering"])
def _():
    return dumps(call("builtins", "setattr", Global("picklescan", "scanner"),
                      "_unsafe_globals", {}), 4)


@hostile("unknown_global_newobj_build.pkl",
         "mypkg.models.CustomNet via NEWOBJ + BUILD with a dict state",
         ["unknown-global"])
def _():
    obj = NewObj(Global("mypkg.models", "CustomNet"), (),
                 state={"hidden": 8, "name": "net"})
    return dumps(obj, 2)


@hostile("build_unknown_class_setstate.pkl",
         "copy_reg._reconstructor(mypkg.layers.Block, object, None) then BUILD "
         "with a dict: the BUILD is a call of mypkg.layers.Block.__setstate__",
         ["unknown-global"])
def _():
    obj = Reduce(Global("copy_reg", "_reconstructor"),
                 (Global("mypkg.layers", "Block"), Global("__builtin__", "object"), None),
                 state={"units": 4})
    return dumps(obj, 0)


def ext_call(emit_ext):
    a = Asm()
    emit_ext(a)
    a.BINUNICODE(CMD).BINPUT(0).TUPLE1().BINPUT(1).REDUCE().BINPUT(2).STOP()
    return with_frames(2, a)


@hostile("ext1.pkl", "EXT1 0x01 (copyreg extension registry) called with (cmd,)",
         ["pickle-extension-registry"])
def _():
    return ext_call(lambda a: a.EXT1(0x01))


@hostile("ext2.pkl", "EXT2 0x1234 called with (cmd,)", ["pickle-extension-registry"])
def _():
    return ext_call(lambda a: a.EXT2(0x1234))


@hostile("ext4.pkl", "EXT4 0x12345678 called with (cmd,)",
         ["pickle-extension-registry"])
def _():
    return ext_call(lambda a: a.EXT4(0x12345678))


@hostile("persid_proto0.pkl", "protocol 0 PERSID 'mscan-sample' inside a list",
         ["pickle-persistent-id"])
def _():
    a = Asm()
    a.MARK().LIST().PUT(0).PERSID("mscan-sample").APPEND().STOP()
    return a.data()


@hostile("binpersid.pkl", "BINPERSID with a string id (protocol 2)",
         ["pickle-persistent-id"])
def _():
    return dumps(PersId("mscan-sample"), 2)


@hostile("frame_straddle_operand.pkl",
         "protocol 4: the only FRAME declares 10 bytes, ending inside the operand "
         "of SHORT_BINUNICODE 'system'; the rest follows unframed, and a linear "
         "loader (CPython's C unpickler) still runs the os.system REDUCE",
         ["pickle-frame-violation", OS_SYSTEM])
def _():
    body = Asm()
    body.SHORT_BINUNICODE("os").MEMOIZE().SHORT_BINUNICODE("system").MEMOIZE()
    body.STACK_GLOBAL().MEMOIZE()
    call_top_with_cmd(body)
    data = body.data()
    cut = 4 + 1 + 2 + 3  # 'os' op + MEMOIZE, opcode + length byte, then 'sys'
    # The rest of the stream follows unframed: a linear reader sees one intact
    # operand, a frame-checking reader sees the frame end inside it.
    return Asm().PROTO(4).FRAME(cut).raw(data).data()


@hostile("frame_straddle_hidden_blob.pkl",
         "protocol 4: a 2-byte FRAME ends right after a SHORT_BINBYTES header; the "
         "bytes operand (read linearly) holds a complete framed GLOBAL os.system "
         "+ REDUCE + STOP that a reader restarting at the frame boundary (old C "
         "unpicklers) would run", ["pickle-frame-violation", OS_SYSTEM])
def _():
    hidden = Asm()
    hidden.GLOBAL("os", "system").SHORT_BINUNICODE(CMD).TUPLE1().REDUCE().STOP()
    inner = Asm().FRAME(len(hidden)).raw(hidden.data()).data()
    out = Asm().PROTO(4).FRAME(2)
    out.raw(b"C" + bytes([len(inner)]))  # SHORT_BINBYTES opcode + length
    out.raw(inner).STOP()
    return out.data()


@hostile("frame_length_past_eof.pkl",
         "protocol 4: FRAME declares 4096 bytes but the file holds far fewer",
         ["pickle-frame-violation"])
def _():
    body = Asm()
    Encoder(body, 4).save(call("os", "system", CMD))
    body.STOP()
    return Asm().PROTO(4).FRAME(4096).raw(body.data()).data()


@hostile("multi_stream_benign_then_hostile.pkl",
         "a benign protocol-2 pickle followed back-to-back by a protocol-4 "
         "os.system pickle", ["pickle-multiple-streams", OS_SYSTEM])
def _():
    return dumps({"epoch": 3}, 2) + dumps(call("os", "system", CMD), 4)


@hostile("trailing_junk.pkl",
         "a benign protocol-2 pickle followed by junk bytes that are not a pickle",
         ["pickle-trailing-data"])
def _():
    return dumps({"epoch": 3}, 2) + b"\xffMSCAN-TRAILING-JUNK\xfe\x00\x00"


@hostile("truncated_after_reduce.pkl",
         "nullifAI style: posix.system(cmd) REDUCE, then the stream ends before STOP",
         [OS_SYSTEM, "pickle-truncated"])
def _():
    return dumps(call("posix", "system", CMD), 2)[:-1]


@hostile("invalid_opcode_after_payload.pkl",
         "os.system(cmd) REDUCE, then byte 0xff (not an opcode) instead of STOP",
         [OS_SYSTEM, "pickle-invalid-opcode"])
def _():
    return dumps(call("os", "system", CMD), 2)[:-1] + b"\xff.junk"


@hostile("out_of_band_buffers.pkl",
         "protocol 5 NEXT_BUFFER then READONLY_BUFFER (out-of-band data)",
         ["pickle-out-of-band-buffer"])
def _():
    a = Asm()
    a.NEXT_BUFFER().READONLY_BUFFER().MEMOIZE().STOP()
    return framed(5, a)


@hostile("proto_not_first.pkl", "NONE, POP, then PROTO 2 in the middle of the stream",
         ["pickle-protocol-anomaly"])
def _():
    a = Asm()
    a.NONE().POP().PROTO(2).EMPTY_DICT().BINPUT(0).STOP()
    return a.data()


@hostile("proto_repeated.pkl", "PROTO 2 followed by PROTO 4",
         ["pickle-protocol-anomaly"])
def _():
    a = Asm()
    a.PROTO(2).PROTO(4).EMPTY_DICT().MEMOIZE().STOP()
    return a.data()


@hostile("proto_6.pkl", "PROTO 6 (no such protocol)", ["pickle-protocol-anomaly"])
def _():
    a = Asm()
    a.PROTO(6).EMPTY_DICT().MEMOIZE().STOP()
    return a.data()


@hostile("binbytes8_huge_length.pkl",
         "BINBYTES8 declaring 2**62 bytes in a tiny file (must not allocate)",
         ["pickle-truncated"])
def _():
    a = Asm()
    a.PROTO(4).BINBYTES8(b"only a few bytes", declared=2 ** 62).STOP()
    return a.data()


@hostile("binunicode8_huge_length.pkl",
         "BINUNICODE8 declaring 2**62 bytes in a tiny file (must not allocate)",
         ["pickle-truncated"])
def _():
    a = Asm()
    a.PROTO(4).BINUNICODE8("only a few bytes", declared=2 ** 62).STOP()
    return a.data()


@hostile("long4_huge_length.pkl",
         "LONG4 declaring 2**31-1 bytes in a tiny file (must not allocate)",
         ["pickle-truncated"])
def _():
    a = Asm()
    a.PROTO(2).LONG4(b"\x01\x02\x03", declared=0x7FFFFFFF).STOP()
    return a.data()


@hostile("long4_negative_length.pkl", "LONG4 with a negative byte count (-1)",
         ["pickle-malformed"])
def _():
    a = Asm()
    a.PROTO(2).LONG4(b"\x01", declared=-1).STOP()
    return a.data()


DEPTH = 100_000
# One more than mscan's stack cap (limits::kPickleMaxStack, 1 << 20) with room
# to spare; 1 byte per push, so the file is about 1 MB (git compresses it to
# almost nothing).
BIG_STACK = (1 << 20) + 4096


@hostile("deep_marks.pkl", f"{DEPTH} MARKs outstanding at once (mark-stack "
         "limit), then NONE, STOP", ["scan-limit-exceeded"])
def _():
    return b"\x80\x02" + b"(" * DEPTH + b"N."


@hostile("deep_stack.pkl", f"{BIG_STACK} EMPTY_LISTs left on the stack, then "
         "STOP (stack-depth limit)", ["scan-limit-exceeded"])
def _():
    return b"\x80\x02" + b"]" * BIG_STACK + b"."


@benign("deep_nested_list.pkl",
        f"{DEPTH} EMPTY_LISTs then {DEPTH - 1} APPENDs: a legal list nested "
        f"{DEPTH} deep (CPython loads it); the scanner must not recurse or crash")
def _():
    return b"\x80\x02" + b"]" * DEPTH + b"a" * (DEPTH - 1) + b"."


@benign("memo_index_max.pkl",
        "LONG_BINPUT / LONG_BINGET of a dict at memo index 2**32-1: legal, "
        "and must be read without allocating a 4-billion-slot memo")
def _():
    a = Asm()
    a.PROTO(2).EMPTY_DICT().LONG_BINPUT(0xFFFFFFFF).POP()
    a.LONG_BINGET(0xFFFFFFFF).STOP()
    return a.data()


# --------------------------------------------------------------------------
# Writing, checking, manifest
# --------------------------------------------------------------------------

def disassemble(data):
    """(ok, message) from pickletools.dis, which only reads opcodes."""
    sink = io.StringIO()
    try:
        # indentlevel=0: 100000 nested MARKs would otherwise print ~20 GB
        pickletools.dis(data, out=sink, indentlevel=0)
    except Exception as exc:  # deliberately broken samples end up here
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


# Samples whose only findings are LOW/INFO by design: odd but not dangerous on their own
# (a loader either rejects them or they run nothing). The manifest calls them "anomaly".
ANOMALY_ONLY = {"binpersid.pkl", "out_of_band_buffers.pkl", "persid_proto0.pkl", "proto_6.pkl",
                "proto_not_first.pkl", "proto_repeated.pkl", "trailing_junk.pkl"}


def write_all():
    for sub in OWN_DIRS:
        shutil.rmtree(OUT / sub, ignore_errors=True)
        (OUT / sub).mkdir(parents=True)
    entries = []
    failures = []
    for kind, table in (("benign", BENIGN), ("hostile", HOSTILE)):
        for name, description, expect, forbid, builder, dis_error in table:
            data = builder()
            path = OUT / kind / name
            if path.exists():
                raise SystemExit(f"duplicate sample name {kind}/{name}")
            path.write_bytes(data)
            ok, msg = disassemble(data)
            if kind == "benign" and not ok and not (dis_error and dis_error in msg):
                failures.append(f"{kind}/{name}: {msg}")
            status = "dis ok" if ok else f"dis error ({msg[:70]})"
            print(f"{kind:7} {name:42} {len(data):7} B  {status}")
            entries.append({"path": path.relative_to(ROOT).as_posix(),
                            "kind": "anomaly" if name in ANOMALY_ONLY else kind,
                            "description": description,
                            "expect": sorted(expect), "forbid": sorted(forbid)})
    if failures:
        raise SystemExit("benign samples that pickletools cannot read:\n  "
                         + "\n  ".join(failures))
    update_manifest(entries, [f"samples/pickle/{d}/" for d in OWN_DIRS])
    print(f"wrote {len(BENIGN)} benign and {len(HOSTILE)} hostile samples")


def update_manifest(entries, owned_prefixes):
    """Replace the entries under `owned_prefixes`, keep the others, sort by
    path so the file is deterministic. (Shared with make_real_samples.py.)"""
    kept = []
    if MANIFEST.exists():
        kept = [e for e in json.loads(MANIFEST.read_text(encoding="utf-8"))
                if not e["path"].startswith(tuple(owned_prefixes))]
    merged = sorted(kept + entries, key=lambda e: e["path"])
    MANIFEST.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")


def crosscheck():
    """Compare the plain benign encodings with pickle.dumps (which only
    writes). numpy/torch are compared too when they are importable."""
    import pickle
    problems = 0

    def same(label, mine, theirs):
        nonlocal problems
        if mine != theirs:
            problems += 1
            print(f"MISMATCH {label}\n  mine  {mine!r}\n  dumps {theirs!r}")
        else:
            print(f"same as pickle.dumps: {label}")

    for p in range(6):
        same(f"nested protocol {p}", dumps(nested_value(p), p),
             pickle.dumps(nested_value(p), protocol=p))
    same("namespace NEWOBJ", namespace_newobj(),
         pickle.dumps(argparse.Namespace(lr=0.1, name="x"), protocol=2))
    same("namespace reconstructor", namespace_reconstructor(),
         pickle.dumps(argparse.Namespace(lr=0.1, name="x"), protocol=0))
    try:
        import numpy
    except ImportError:
        print("numpy not importable here; skipped")
    else:
        for p in (2, 3):
            same(f"numpy protocol {p}", numpy_array(p),
                 pickle.dumps(numpy.arange(3.0), protocol=p))
    try:
        import torch
    except ImportError:
        print("torch not importable here; skipped")
    else:
        import zipfile
        lin = torch.nn.Linear(2, 2)
        buf = io.BytesIO()
        torch.save(lin.state_dict(), buf)
        real = zipfile.ZipFile(io.BytesIO(buf.getvalue())).read("archive/data.pkl")
        same("torch state dict data.pkl", torch_state_dict(), real)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--crosscheck", action="store_true",
                    help="also compare benign encodings with pickle.dumps output")
    args = ap.parse_args()
    write_all()
    if args.crosscheck and crosscheck():
        sys.exit(1)


if __name__ == "__main__":
    main()
