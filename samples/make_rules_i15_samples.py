#!/usr/bin/env python3
"""Write the samples of issue 15's rule work (samples/rules-i15/) and their manifest entries.

Hostile files are written by hand from raw pickle opcodes and are never loaded:

  - module aliases: a global reached through a private alias of a denied module
    (`random` + `_os.system` is os.system, `enum` + `bltns.eval` is eval, `tokenize` +
    `builtins.open`, `tempfile` + `_os.system`), called and only stored;
  - torch storage `from_file` (with shared=True it creates or overwrites the file);
  - joblib's legacy NDArrayWrapper, whose read() numpy.load()s a file named in the pickle;
  - an unknown global called (medium) next to one only stored (low).

Benign files are pickled by the real libraries from Debian's packages (pickle.dumps only
writes): objects whose classes the generated allowlist (rules/allowlist-libraries.json) now
covers. They must have no finding at medium or above.

The scipy.stats samples: a distribution as scipy pickles it (allowlisted; its template has
scipy's own shape) and the same with a tampered _parse_arg_template, which the pickle machine
reports as pickle.scipy-template (scipy-distribution-template, high).

    /usr/bin/python3 samples/make_rules_i15_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
Deterministic: a re-run writes identical bytes (with the same library versions).
"""

from __future__ import annotations

import pickle
import shutil
import struct
from pathlib import Path

from make_samples import MEDIUM_PLUS, update_manifest

OUT = Path(__file__).resolve().parent / "rules-i15"
GROUP = "rules-i15"


def text(s: str) -> bytes:
    """BINUNICODE."""
    b = s.encode("utf-8")
    return b"X" + struct.pack("<I", len(b)) + b


def call4(module: str, name: str, *args: str) -> bytes:
    """Protocol 4: GLOBAL module name (a dotted name is walked from protocol 4 on), a tuple
    of string arguments, REDUCE."""
    body = b"c" + module.encode() + b"\n" + name.encode() + b"\n" + b"("
    for a in args:
        body += text(a)
    return b"\x80\x04" + body + b"tR."


def stored4(module: str, name: str) -> bytes:
    """Protocol 4: {'callback': <global>}, the global imported and stored, never called."""
    return (b"\x80\x04}" + text("callback") + b"c" + module.encode() + b"\n" + name.encode() +
            b"\ns.")


def ndarray_wrapper() -> bytes:
    """joblib <= 0.9's placeholder as its pickler wrote it: NEWOBJ of NDArrayWrapper, then
    BUILD with the file name and the array subclass."""
    return (b"\x80\x02cjoblib.numpy_pickle_compat\nNDArrayWrapper\n)\x81}(" +
            text("filename") + text("../../../tmp/planted.npy") + text("subclass") +
            b"cnumpy\nndarray\n" + text("allow_mmap") + b"\x88ub.")


def benign_objects():
    """(name, description, object) pickled by the real libraries."""
    import collections.abc
    import http
    import ipaddress
    import re
    import zoneinfo
    import __future__

    import networkx
    import nltk
    import numpy
    import sympy
    import torch
    import torch.nn.utils.prune
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer
    from sklearn.model_selection import HalvingGridSearchCV, StratifiedKFold
    from sklearn.tree import DecisionTreeClassifier
    from statsmodels.genmod.families import Poisson

    graph = networkx.Graph()
    graph.add_edge("a", "b", weight=2)
    x = sympy.Symbol("x")
    return [
        ("stdlib_types.pkl", "stdlib data types: collections.abc, zoneinfo, ipaddress, "
         "http.HTTPStatus members, re.RegexFlag, __future__ features, len and pow as values",
         [collections.abc.Mapping, zoneinfo.ZoneInfo("UTC"),
          ipaddress.IPv4Address("10.0.0.1"), ipaddress.IPv4Network("10.0.0.0/8"),
          http.HTTPStatus.OK, re.IGNORECASE, __future__.annotations, len, pow]),
        ("numpy_ufuncs.pkl", "numpy ufuncs stored as values, and numpy.number",
         {"link": numpy.log1p, "inverse": numpy.expm1, "f": numpy.exp, "kind": numpy.number}),
        ("sklearn_helpers.pkl", "scikit-learn splitters and helpers: StratifiedKFold, "
         "HalvingGridSearchCV, IterativeImputer",
         [StratifiedKFold(n_splits=3),
          HalvingGridSearchCV(DecisionTreeClassifier(), {"max_depth": [1, 2]}),
          IterativeImputer(max_iter=2)]),
        ("torch_quant_prune.pkl", "torch quantization stubs and a pruning method (no tensors)",
         [torch.ao.quantization.QuantStub(), torch.ao.quantization.DeQuantStub(),
          torch.nn.utils.prune.L1Unstructured(amount=0.3)]),
        ("science.pkl", "networkx graph, sympy expression 2*x + 1, nltk FreqDist, statsmodels "
         "Poisson family",
         [graph, 2 * x + 1, nltk.probability.FreqDist("abracadabra"), Poisson()]),
    ]


def scipy_samples():
    """(benign bytes, tampered bytes): scipy.stats.norm as scipy pickles it, and the same with
    a template that holds one more statement. Pickling only reads the attributes."""
    import copy

    import scipy.stats

    dist = copy.deepcopy(scipy.stats.norm)
    benign = pickle.dumps(dist, protocol=4)
    evil = copy.deepcopy(scipy.stats.norm)
    evil.__dict__["_parse_arg_template"] = (
        evil._parse_arg_template + "\n__import__('os').system('echo mscan-scipy-template')\n")
    tampered = pickle.dumps(evil, protocol=4)
    assert b"mscan-scipy-template" in tampered and benign != tampered
    return benign, tampered


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    entries = []

    def write(kind, name, data, description, expect, forbid):
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

    unknown = ["unknown-global", "unknown-global-stored"]
    write("hostile", "random_os_system.pkl", call4("random", "_os.system", "echo mscan"),
          "random + _os.system: random imports os as _os, so this is os.system",
          ["process-execution"], unknown)
    write("hostile", "tempfile_os_system.pkl", call4("tempfile", "_os.system", "echo mscan"),
          "tempfile + _os.system is os.system", ["process-execution"], ["unknown-global"])
    write("hostile", "argparse_os_system.pkl", call4("argparse", "_os.system", "echo mscan"),
          "argparse + _os.system is os.system", ["process-execution"], unknown)
    write("hostile", "enum_bltns_eval.pkl", call4("enum", "bltns.eval", "1+1"),
          "enum + bltns.eval: enum imports builtins as bltns, so this is eval",
          ["code-execution"], unknown)
    write("hostile", "tokenize_builtins_open.pkl",
          call4("tokenize", "builtins.open", "/tmp/mscan-planted", "w"),
          "tokenize + builtins.open is open(): a file opened for writing", ["filesystem"],
          unknown)
    write("hostile", "joblib_pickle_loads.pkl",
          call4("joblib.numpy_pickle", "pickle.loads", "not a pickle"),
          "joblib.numpy_pickle + pickle.loads is pickle.loads", ["nested-deserializer"],
          unknown)
    write("hostile", "random_os_system_stored.pkl", stored4("random", "_os.system"),
          "random + _os.system stored as a callback, never called: a denied name keeps its "
          "severity", ["process-execution"], unknown)
    write("hostile", "untyped_storage_from_file.pkl",
          call4("torch", "UntypedStorage.from_file", "/tmp/mscan-planted"),
          "torch.UntypedStorage.from_file: with shared=True it creates or overwrites the file",
          ["ml-framework-io"], unknown)
    write("hostile", "byte_storage_from_file.pkl",
          call4("torch", "ByteStorage.from_file", "/tmp/mscan-planted"),
          "torch.ByteStorage.from_file", ["ml-framework-io"], unknown)
    write("hostile", "joblib_ndarray_wrapper.pkl", ndarray_wrapper(),
          "joblib's legacy NDArrayWrapper: joblib.load numpy.load()s the file it names, "
          "allow_pickle=True", ["joblib-compat-array-file"], unknown)
    write("hostile", "unknown_called.pkl", call4("mscan_sample_pkg.hooks", "log_step", "x"),
          "an unknown global called: medium", ["unknown-global"], ["unknown-global-stored"])
    # operator.or_ is how Python 3.11 pickles combined enum flags (allowed); the rest of
    # operator still lets a pickle index into what it gets (indirection-gadget).
    write("hostile", "operator_getitem.pkl",
          b"\x80\x04c_operator\ngetitem\n(}" + text("k") + text("v") + b"s" + text("k") +
          b"tR.", "_operator.getitem({'k': 'v'}, 'k'): operator is still an indirection gadget "
          "(only or_ is excepted)", ["indirection-gadget"], unknown)
    write("benign", "regexflag_or.pkl",
          pickle.dumps(__import__("re").UNICODE | __import__("re").DOTALL, protocol=4),
          "re.UNICODE | re.DOTALL as Python 3.11 pickles it: operator.or_ of two flag members",
          [], ["indirection-gadget", MEDIUM_PLUS])
    # A call of a value the pickle cannot name: REDUCE on what EXT1 fetches from copyreg's
    # extension registry (empty by default: the loader fails, after whatever ran before).
    write("hostile", "reduce_on_extension.pkl", b"\x80\x02\x82\x07)R.",
          "REDUCE on the object EXT1 7 fetches: the callee cannot be named",
          ["pickle-unresolved-callable"], ["unknown-global"])
    write("benign", "unknown_stored.pkl", stored4("mscan_sample_pkg.hooks", "log_step"),
          "an unknown global only imported and stored: low, below the default gate",
          ["unknown-global-stored"], ["unknown-global", MEDIUM_PLUS])

    for name, description, obj in benign_objects():
        write("benign", name, pickle.dumps(obj, protocol=4), description, [], [MEDIUM_PLUS])

    benign, tampered = scipy_samples()
    write("benign", "scipy_norm.pkl", benign,
          "scipy.stats.norm as scipy pickles it: its template has scipy's own shape", [],
          [MEDIUM_PLUS, "scipy-distribution-template"])
    write("hostile", "scipy_norm_tampered.pkl", tampered,
          "scipy.stats.norm whose _parse_arg_template holds one more statement: "
          "rv_generic.__setstate__ exec()s it", ["scipy-distribution-template"],
          ["unclassified-anomaly"])

    update_manifest(entries, ["samples/rules-i15/"])
    print(f"wrote {len(entries)} samples under {OUT}")


if __name__ == "__main__":
    main()
