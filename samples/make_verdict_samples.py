#!/usr/bin/env python3
"""Write mscan's verdict samples (samples/verdict/) and their manifest entries.

Issue 15 taught the pickle machine what loaders really do with a few constructs that real
libraries write: legacy torch's persistent_load('module', cls, ...), getattr on an instance,
functools.partial, dill's rebuild helpers, torch.save bytes inside a pickle, joblib arrays of
strings, scipy's argument-parser templates. Each benign sample here is shaped like what the
real library writes and must stay below the default gate; each hostile twin uses the same
mechanism to reach a payload and must fail a strict gate. Every hostile sample is assembled
opcode by opcode and carries only `echo mscan-sample`. Nothing here is ever loaded.
Deterministic: a re-run writes identical bytes.

    /usr/bin/python3 samples/make_verdict_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

from make_container_samples import (HOSTILE_SD, Array, dtype_obj, joblib_raw, legacy,
                                    torch_entries, torch_zip)
from make_samples import (CMD, MEDIUM_PLUS, Asm, Global, NewObj, NewObjEx, PersId, Reduce, call,
                          dumps, update_manifest)

OUT = Path(__file__).resolve().parent / "verdict"
GROUP = "verdict"
OS_SYSTEM = "process-execution"

SAMPLES = []


def sample(kind, name, description, expect=(), forbid=None):
    def register(builder):
        SAMPLES.append((kind, name, description, list(expect),
                        list(forbid) if forbid is not None else
                        ([] if kind == "hostile" else [MEDIUM_PLUS]), builder))
        return builder
    return register


def empty_legacy(model):
    """A legacy torch file whose model pickle is `model` and which has no storages."""
    return legacy(model=model, keys=dumps([], 2), storages=b"")


# ---- 1. legacy torch: persistent_load(('module', cls, file, source)) returns cls ----------

LINEAR = Global("torch.nn.modules.linear", "Linear")


@sample("benign", "legacy_whole_module.pt",
        "legacy torch.save of a whole nn.Linear: the class arrives as a persistent id "
        "('module', torch.nn.modules.linear.Linear, file, source) and NEWOBJ calls it")
def _():
    pid = PersId(("module", LINEAR, "linear.py", "class Linear(Module): ..."))
    return empty_legacy(dumps(NewObj(pid, (), state={"in_features": 2, "training": True}), 2))


@sample("hostile", "legacy_module_os_system.pt",
        "legacy torch file whose persistent id is ('module', os.system, file, source): "
        "persistent_load returns os.system, REDUCE calls it", [OS_SYSTEM])
def _():
    pid = PersId(("module", Global("os", "system"), "m.py", "x"))
    return empty_legacy(dumps(Reduce(pid, (CMD,)), 2))


# ---- 2. getattr on an instance ---------------------------------------------------------------

@sample("hostile", "getattr_instance_dunder.pkl",
        "getattr(collections.OrderedDict(), '__class__'): a dunder name on an instance stays "
        "reflection", ["reflection"])
def _():
    return dumps(call("builtins", "getattr", call("collections", "OrderedDict"), "__class__"), 4)


@sample("hostile", "getattr_instance_called.pkl",
        "getattr(collections.OrderedDict(), 'pop')('x', None): calling the bound method "
        "stays reflection", ["reflection"])
def _():
    fn = call("builtins", "getattr", call("collections", "OrderedDict"), "pop")
    return dumps(Reduce(fn, ("x", None)), 4)


# ---- 3 and 6. torch.save bytes inside a pickle -----------------------------------------------

BENIGN_LEGACY = legacy()
HOSTILE_LEGACY = legacy(model=HOSTILE_SD)
LOAD_FROM_BYTES = Global("torch.storage", "_load_from_bytes")


@sample("benign", "load_from_bytes_tensor.p4.pkl",
        "pickle.dumps(tensor) as torch 1.13 writes it: torch.storage._load_from_bytes(<a "
        "legacy torch file as BINBYTES>), the nested file scanned where it is")
def _():
    return dumps({"t": Reduce(LOAD_FROM_BYTES, (BENIGN_LEGACY,))}, 4)


@sample("benign", "load_from_bytes_tensor.p2.pkl",
        "the same in protocol 2: the bytes are _codecs.encode(<str>, 'latin1'), decoded and "
        "scanned")
def _():
    return dumps({"t": Reduce(LOAD_FROM_BYTES, (BENIGN_LEGACY,))}, 2)


@sample("hostile", "load_from_bytes_payload.p4.pkl",
        "torch.storage._load_from_bytes of a legacy torch file whose model pickle calls "
        "posix.system", [OS_SYSTEM])
def _():
    return dumps(Reduce(LOAD_FROM_BYTES, (HOSTILE_LEGACY,)), 4)


@sample("hostile", "load_from_bytes_payload.p2.pkl",
        "the same in protocol 2 (latin-1 str through _codecs.encode)", [OS_SYSTEM])
def _():
    return dumps(Reduce(LOAD_FROM_BYTES, (HOSTILE_LEGACY,)), 2)


@sample("hostile", "load_from_bytes_unreadable.pkl",
        "torch.storage._load_from_bytes of bytes that start like a zip but are not one: "
        "what torch.load would make of them is NOT checked, so the call stays critical",
        ["nested-deserializer"])
def _():
    return dumps(Reduce(LOAD_FROM_BYTES, (b"PK\x03\x04" + b"\x00" * 60,)), 4)


@sample("benign", "torch_zip_in_bytes_value.pkl",
        "a skorch-like state: a complete benign torch.save zip kept as a bytes value; scanned "
        "as a nested file, not reported as a polyglot", forbid=[MEDIUM_PLUS, "container-polyglot"])
def _():
    return dumps({"module_": torch_zip(torch_entries()), "epochs": 3}, 4)


@sample("hostile", "torch_zip_in_bytes_value_payload.pkl",
        "the same with a payload in the nested zip's data.pkl", [OS_SYSTEM])
def _():
    return dumps({"module_": torch_zip(torch_entries(pkl=HOSTILE_SD)), "epochs": 3}, 4)


# ---- 4. functools.partial ------------------------------------------------------------------

PARTIAL = Global("functools", "partial")
LAYER_NORM = Global("torch.nn.modules.normalization", "LayerNorm")


@sample("benign", "partial_layer_norm.p2.pkl",
        "functools.partial(torch.nn.LayerNorm, eps=1e-6) as Python writes it in protocol 2 "
        "(torchvision ViT's norm_layer): partial(cls) then BUILD (cls, (), {'eps': 1e-6}, None)")
def _():
    return dumps({"norm_layer": Reduce(PARTIAL, (LAYER_NORM,),
                                       state=(LAYER_NORM, (), {"eps": 1e-6}, None))}, 2)


@sample("hostile", "partial_setstate_os_system.pkl",
        "partial(builtins.len) whose BUILD state replaces the callable with os.system: the "
        "state's callable is what the partial calls", [OS_SYSTEM])
def _():
    return dumps({"cb": Reduce(PARTIAL, (Global("builtins", "len"),),
                               state=(Global("os", "system"), (CMD,), None, None))}, 2)


@sample("hostile", "partial_of_os_system_stored.pkl",
        "partial(os.system, cmd) stored, not called: model code may call it later",
        [OS_SYSTEM])
def _():
    return dumps({"cb": call("functools", "partial", Global("os", "system"), CMD)}, 4)


@sample("hostile", "functools_reduce_called.pkl",
        "functools.reduce(builtins.max, [1, 2]) called in the stream: a call indirection "
        "gadget", ["indirection-gadget"])
def _():
    return dumps(call("functools", "reduce", Global("builtins", "max"), [1, 2]), 4)


@sample("hostile", "call_of_persistent_object.pkl",
        "REDUCE on what persistent_load returns, in a plain pickle: what is called cannot be "
        "known", ["pickle-unresolved-callable"])
def _():
    return dumps(Reduce(PersId("x"), (CMD,)), 2)


# ---- 8. TorchBind objects (quantized packed params) ---------------------------------------

def script_object(cls_name):
    """torch.ScriptObject() + BUILD (state, '__torch__.torch.classes.<ns>.<Class>'), as torch
    pickles a quantized Linear's _packed_params."""
    return NewObj(Global("torch", "ScriptObject"), (),
                  state=((None, None), "__torch__.torch.classes." + cls_name))


@sample("benign", "script_object_packed_params.pkl",
        "a quantized Linear's packed params as torch pickles them: torch.ScriptObject() then "
        "BUILD naming torch.classes.quantized.LinearPackedParamsBase, whose registered "
        "__setstate__ restores it")
def _():
    return dumps({"_packed_params": script_object("quantized.LinearPackedParamsBase")}, 2)


@sample("hostile", "script_object_custom_class.pkl",
        "torch.ScriptObject() whose BUILD names a custom class no torch library registers "
        "(torch.classes.mscan_sample.Loader): its native __setstate__ is what loading calls",
        ["unknown-global"])
def _():
    return dumps({"_packed_params": script_object("mscan_sample.Loader")}, 2)


@sample("benign", "dill_stored_reduce.pkl",
        "dill keeps module functions by reference: functools.reduce stored beside json.dumps, "
        "never called in the stream (low: a stored gadget chains nothing)")
def _():
    return dumps([Global("_functools", "reduce"), Global("json", "dumps")], 4)


# ---- 5. dill's rebuild helpers ----------------------------------------------------------------

def dill(name, *args):
    return call("dill._dill", name, *args)


@sample("benign", "dill_types_and_constants.pkl",
        "dill's _load_type('slice') and _load_type('NoneType'), _eval_repr('Ellipsis'), "
        "_eval_repr('range(0, 3)'): fixed-table lookups and constant reprs")
def _():
    return dumps([dill("_load_type", "slice"), dill("_load_type", "NoneType"),
                  dill("_eval_repr", "Ellipsis"), dill("_eval_repr", "range(0, 3)")], 4)


@sample("hostile", "dill_eval_repr_code.pkl",
        "dill._dill._eval_repr of an expression that is not a constant repr: eval of code",
        ["code-execution"])
def _():
    return dumps(dill("_eval_repr", "__import__('os').system('echo mscan-sample')"), 4)


@sample("hostile", "dill_load_type_code.pkl",
        "dill._dill._load_type('CodeType') stored: the code type, which builds code objects",
        ["code-execution"])
def _():
    return dumps([dill("_load_type", "CodeType")], 4)


@sample("hostile", "dill_create_array_os_system.pkl",
        "dill._dill._create_array(os.system, (cmd,), None): calls its first argument",
        [OS_SYSTEM])
def _():
    return dumps(dill("_create_array", Global("os", "system"), (CMD,), None), 4)


@sample("hostile", "dill_create_code.pkl",
        "dill._dill._create_code(...): builds a code object", ["code-execution"])
def _():
    return dumps(dill("_create_code", 0, 0, 0, 1, 1, 67, b"d\x00S\x00", (None,), (), (),
                      "<x>", "f", 1, b""), 4)


# ---- 7. joblib arrays sized as numpy sizes them -----------------------------------------------

class FlexArray(Array):
    """An array whose dtype state is given whole (version, order, subarray, names, fields,
    elsize, alignment, flags), as numpy pickles a flexible dtype such as '<U3'."""

    def __init__(self, code, state, shape, data, obj_pickle=None):
        super().__init__(code, state[1], shape, data, obj_pickle=obj_pickle)
        self.state = state

    def wrapper(self):
        w = super().wrapper()
        w.state["dtype"] = Reduce(Global("numpy", "dtype"), (self.code, False, True),
                                  state=self.state)
        return w


LABELS = "".join(s.ljust(3, "\0") for s in ("cat", "dog")).encode("utf-32-le")


@sample("benign", "joblib_string_labels.joblib",
        "joblib.dump of numpy.array(['cat', 'dog']) ('<U3': 12 bytes per item) followed by "
        "more pickle: the array is skipped by its real size")
def _():
    arr = FlexArray("U3", (3, "<", None, None, None, 12, 4, 8), (2,), LABELS)
    return joblib_raw({"classes_": arr, "n_features_in_": 4})


@sample("hostile", "joblib_flags_hold_objects.joblib",
        "a float64 NumpyArrayWrapper whose dtype state sets flags bit 0: numpy's hasobject is "
        "true, so joblib.load unpickles the 'array data', here a pickle calling os.system",
        [OS_SYSTEM])
def _():
    arr = FlexArray("f8", (3, "<", None, None, None, -1, -1, 1), (1,), b"",
                    obj_pickle=dumps(call("os", "system", CMD), 2))
    return joblib_raw({"coef_": arr})


class DupDict(dict):
    """A dict pickled with the given (key, value) pairs, repeated keys included (SETITEMS
    takes them in order; the last value of a key wins)."""

    def __init__(self, pairs):
        super().__init__()
        self.pairs = pairs

    def items(self):
        return self.pairs


class DupDtypeArray(FlexArray):
    """A wrapper whose state names 'dtype' twice: float64 first, an object dtype last."""

    def wrapper(self):
        w = super().wrapper()
        pairs = list(w.state.items())
        pairs.append(("dtype", Reduce(Global("numpy", "dtype"), ("O8", False, True),
                                      state=(3, "|", None, None, None, -1, -1, 63))))
        w.state = DupDict(pairs)
        return w


@sample("hostile", "joblib_duplicate_dtype_key.joblib",
        "a NumpyArrayWrapper state that sets 'dtype' twice (float64, then an object dtype): "
        "joblib keeps the last, so the array data is a nested pickle, here calling os.system",
        [OS_SYSTEM, "joblib-malformed"])
def _():
    arr = DupDtypeArray("f8", (3, "<", None, None, None, -1, -1, 0), (1,), b"",
                        obj_pickle=dumps(call("os", "system", CMD), 2))
    return joblib_raw({"coef_": arr})


class NewobjWrapperArray(Array):
    """A uint8 array whose wrapper is built by copyreg.__newobj__(NumpyArrayWrapper) instead
    of NEWOBJ: joblib's unpickler tests isinstance, so it still reads the array bytes."""

    def wrapper(self):
        w = super().wrapper()
        return Reduce(Global("copyreg", "__newobj__"), (w.cls,), state=w.state)


@sample("hostile", "joblib_wrapper_via_newobj.joblib",
        "a NumpyArrayWrapper built through copyreg.__newobj__ whose 5 array bytes read as "
        "opcodes would open a BINBYTES swallowing the os.system call after the array; joblib "
        "skips the 5 bytes and runs the call", [OS_SYSTEM])
def _():
    def build(n):
        arr = NewobjWrapperArray("u1", "|", (5,), b"B" + struct.pack("<I", n), alignment="absent")
        return arr, joblib_raw({"a": arr, "b": call("os", "system", CMD)})
    arr, first = build(0)
    # The array bytes are the only b"B\0\0\0\0" in the file; what a misreading would
    # swallow runs from after them to just before the final STOP.
    end = first.index(b"B\x00\x00\x00\x00") + 5
    _, data = build(len(first) - end - 1)
    return data


# ---- A. scipy argument-parser templates --------------------------------------------------------

TEMPLATE = """
def _parse_args(self, %(shape_arg_str)s %(locscale_in)s):
    return (%(shape_arg_str)s), %(locscale_out)s

def _parse_args_rvs(self, %(shape_arg_str)s %(locscale_in)s, size=None):
    return self._argcheck_rvs(%(shape_arg_str)s %(locscale_out)s, size=size)

def _parse_args_stats(self, %(shape_arg_str)s %(locscale_in)s, moments='mv'):
    return (%(shape_arg_str)s), %(locscale_out)s, moments
"""


def scipy_dist(template):
    """A scipy.stats gamma_gen instance state as pickled (the part that matters)."""
    return dumps(NewObj(Global("scipy.stats._continuous_distns", "gamma_gen"), (),
                        state={"shapes": "a", "_parse_arg_template": template, "a": 0.0}), 4)


@sample("benign", "scipy_template_gamma.pkl",
        "a scipy.stats gamma distribution's state with the template scipy generates for shape "
        "'a' (loc/scale)", forbid=["scipy-distribution-template"])
def _():
    return scipy_dist(TEMPLATE % {"shape_arg_str": "a, ", "locscale_in": "loc=0, scale=1",
                                  "locscale_out": "loc, scale"})


@sample("hostile", "scipy_template_tampered.pkl",
        "the same state whose _parse_arg_template also runs os.system: rv_generic.__setstate__ "
        "exec()s it", ["scipy-distribution-template"])
def _():
    good = TEMPLATE % {"shape_arg_str": "a, ", "locscale_in": "loc=0, scale=1",
                       "locscale_out": "loc, scale"}
    return scipy_dist(good + "\n__import__('os').system('echo mscan-sample')\n")


# ---- D. where the next pickle.load resumes --------------------------------------------------

PAYLOAD = b"cos\nsystem\n(X" + struct.pack("<I", len(CMD)) + CMD.encode() + b"tR."


@sample("hostile", "stop_inside_frame.pkl",
        "a protocol 4 stream whose STOP comes before the end of its 10 KB FRAME; the frame's "
        "last bytes open a BINBYTES that swallows the next bytes. A reader over bytes resumes "
        "after STOP and sees a harmless bytes value; CPython's unpickler reading a file has read "
        "the whole frame, so the next pickle.load starts at the frame end, on os.system",
        [OS_SYSTEM, "pickle-frame-violation"])
def _():
    first = b"X" + struct.pack("<I", 10000) + b"x" * 10000 + b"."
    decoy_head = b"B" + struct.pack("<I", len(PAYLOAD))
    frame = first + decoy_head
    return b"\x80\x04\x95" + struct.pack("<Q", len(frame)) + frame + PAYLOAD + b"."


@sample("hostile", "second_stream_long_string.pkl",
        "a benign pickle, then a protocol 1 stream that starts with a 100 KB string before its "
        "os.system call: still a pickle stream for a loader that reads several", [OS_SYSTEM])
def _():
    second = b"X" + struct.pack("<I", 100000) + b"y" * 100000 + b"0" + PAYLOAD
    return dumps({"epoch": 1}, 2) + second


# ---- E. limits never hide what follows -------------------------------------------------------

@sample("hostile", "bytes8_bogus_length_then_payload.pkl",
        "a BINBYTES8 declaring 2**63 bytes, then os.system: the declared length cannot be "
        "followed, the rest is read in a degraded pass", [OS_SYSTEM])
def _():
    return b"\x80\x04\x8e" + struct.pack("<Q", 1 << 63) + PAYLOAD


# ---- J. memo keys as CPython parses them ----------------------------------------------------

@sample("hostile", "memo_key_underscore.pkl",
        "protocol 0: PUT '1_0' (CPython's int() reads 10) stores os.system, GET '10' fetches "
        "it, REDUCE calls it", [OS_SYSTEM])
def _():
    return b"cos\nsystem\np1_0\n0g10\n(S'" + CMD.encode() + b"'\ntR."


@sample("hostile", "memo_key_blanks.pkl",
        "protocol 0: PUT ' 5 ' and GET '5 ' (blanks around the key, which int() accepts)",
        [OS_SYSTEM])
def _():
    return b"cos\nsystem\np 5 \n0g5 \n(S'" + CMD.encode() + b"'\ntR."


# ---- sympy: constructors that sympify() their arguments ------------------------------------

SYMPY_CODE = f"__import__('os').system('{CMD}')"
SYMPIFY = "sympy-sympify-text"


def sym(name):
    """sympy.Symbol(name, **assumptions) as protocol 4 writes it (NEWOBJ_EX)."""
    return NewObjEx(Global("sympy.core.symbol", "Symbol"), (name,), {"real": True})


def sympy_new(module, cls, *args):
    return NewObj(Global("sympy." + module, cls), tuple(args))


@sample("benign", "sympy_expression.pkl",
        "sympy expressions as protocol 4 pickles them: exp(-x), Tuple(x, 1), FiniteSet of ten "
        "Integers (more items than the pickle machine keeps), Rational(-1, 3); sympify() gets "
        "only sympy objects and numbers", forbid=[MEDIUM_PLUS])
def _():
    x = sym("x")
    ints = [sympy_new("core.numbers", "Integer", i) for i in range(10)]
    return dumps([
        sympy_new("functions.elementary.exponential", "exp",
                  sympy_new("core.mul", "Mul", sympy_new("core.numbers", "NegativeOne"), x)),
        sympy_new("core.containers", "Tuple", x, sympy_new("core.numbers", "One")),
        sympy_new("sets.sets", "FiniteSet", *ints),
        sympy_new("core.numbers", "Rational", -1, 3),
    ], 4)


@sample("hostile", "sympy_exp_text.pkl",
        "sympy exp() of a string: exp.__new__ sympify()s it, which runs it through parse_expr "
        "and eval", [SYMPIFY])
def _():
    return dumps(sympy_new("functions.elementary.exponential", "exp", SYMPY_CODE), 4)


@sample("hostile", "sympy_finiteset_tenth_text.pkl",
        "a sympy FiniteSet of nine Integers and then a string: the string is past the items the "
        "pickle machine keeps, and FiniteSet sympify()s every argument", [SYMPIFY])
def _():
    ints = [sympy_new("core.numbers", "Integer", i) for i in range(9)]
    return dumps(sympy_new("sets.sets", "FiniteSet", *ints, SYMPY_CODE), 4)


@sample("hostile", "sympy_tuple_foreign_object.pkl",
        "a sympy Tuple of a pathlib.PurePosixPath whose text is Python code: sympify() knows no "
        "conversion for a path, so it parses str(path) with eval", [SYMPIFY])
def _():
    path = Reduce(Global("pathlib", "PurePosixPath"), (SYMPY_CODE,))
    return dumps(sympy_new("core.containers", "Tuple", path), 4)


@sample("hostile", "sympy_symbol_name_attribute.pkl",
        "sympy exp() of getattr(Symbol(<code>), 'name'): the Symbol reads its text as a name, "
        "but the attribute taken from it is that text, which exp's sympify() runs with eval",
        [SYMPIFY])
def _():
    name = Reduce(Global("builtins", "getattr"),
                  (sympy_new("core.symbol", "Symbol", SYMPY_CODE), "name"))
    return dumps(sympy_new("functions.elementary.exponential", "exp", name), 4)


@sample("hostile", "sympy_printed_symbol.pkl",
        "sympy exp() of sstr(Symbol(<code>)): a sympy printer (not an expression class) turns "
        "the Symbol's name back into text, which exp's sympify() runs with eval", [SYMPIFY])
def _():
    printed = Reduce(Global("sympy.printing.str", "sstr"),
                     (sympy_new("core.symbol", "Symbol", SYMPY_CODE),))
    return dumps(sympy_new("functions.elementary.exponential", "exp", printed), 4)


@sample("hostile", "sympy_dict_text_key.pkl",
        "a sympy Dict of {<code>: 1}: Dict.__new__ sympify()s nothing itself, but builds a "
        "Tuple of each key and value, and Tuple's sympify() runs the key with eval", [SYMPIFY])
def _():
    return dumps(sympy_new("core.containers", "Dict", {SYMPY_CODE: 1}), 4)


@sample("hostile", "sympy_matrix_setitem_text.pkl",
        "a sympy MutableDenseMatrix whose SETITEMS stores a string: the matrix's __setitem__ "
        "sympify()s the value", [SYMPIFY])
def _():
    matrix = Reduce(Global("sympy.matrices.dense", "MutableDenseMatrix"), ([[0]],),
                    dictitems=[(0, SYMPY_CODE)])
    return dumps(matrix, 4)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    entries = []
    for kind, name, description, expect, forbid, builder in SAMPLES:
        path = OUT / kind / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(builder())
        entries.append({
            "path": str(path.relative_to(OUT.parent.parent)),
            "kind": kind,
            "group": GROUP,
            "description": description,
            "expect": expect,
            "forbid": forbid,
        })
    update_manifest(entries, ["samples/verdict/"])
    print(f"wrote {len(entries)} samples under {OUT}")


if __name__ == "__main__":
    main()
