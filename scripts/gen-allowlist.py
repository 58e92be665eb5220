#!/usr/bin/python3
"""Write rules/allowlist-libraries.json: what real ML libraries legitimately pickle, audited.

    /usr/bin/python3 scripts/gen-allowlist.py            rewrite the file
    /usr/bin/python3 scripts/gen-allowlist.py --check    exit 1 if it would change
    /usr/bin/python3 scripts/gen-allowlist.py --why      also print every name left out, and why
    /usr/bin/python3 scripts/gen-allowlist.py --without-scipy-stats   leave scipy.stats out

The hand-written rules/allowlist.json stays as it is; this file adds exact names (no prefixes)
enumerated from Debian's installed packages:

  - every estimator in sklearn.utils.all_estimators() and every class the rest of scikit-learn
    defines (splitters, searches, imputer helpers, trees, losses, kernels, ...);
  - torch quantization (torch.ao.nn.quantized*, torch.ao.nn.intrinsic*, torch.nn.quantized*,
    torch.nn.intrinsic*, qat, stubs, observers), torch.distributions, pruning and
    parametrization helpers, memory formats reached through torch._utils;
  - statsmodels models and results, networkx graphs and views, sympy expression classes, nltk
    models, tokenizers and stemmers, gensim models, skorch nets and callbacks, xgboost,
    scipy.sparse / interpolate / spatial / stats distributions, pandas._libs unpicklers;
  - numpy ufuncs stored as values and numpy's abstract scalar types; stdlib data types
    (collections.abc, zoneinfo, ipaddress, enum members of http.HTTPStatus and re.RegexFlag,
    __future__) and a few pure builtins.

Only classes are enumerated from modules (a class's constructor and restore methods are what
pickle runs); functions are named one by one in FUNCTIONS. Every candidate then goes through
scripts/audit-allowlist.py's source audit of its restore path: a candidate whose restore path
calls exec/eval/compile/sympify/import/open/subprocess/ctypes/a nested load is left out, unless
REVIEWED names it with the reason it is safe (or safe given a rule that checks it). Names a deny
rule covers are left out too (deny rules win anyway). Importing these packages runs their own
top-level code; nothing from a model file is ever loaded.
"""
import argparse
import importlib
import importlib.util
import inspect
import json
import pkgutil
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "rules" / "allowlist-libraries.json"
# The sympy classes whose objects sympify() returns unchanged (Basic) or converts element by
# element (matrices), for the pickle machine's check of sympy call arguments.
SYMPY_OUT = ROOT / "src" / "formats" / "pickle" / "sympy_classes.inc"

# Packages whose submodules are walked for the classes they define. A module is skipped when a
# dotted part of its name is in SKIP_PARTS.
WALK = [
    "sklearn",
    "torch.ao.nn", "torch.nn.quantized", "torch.nn.intrinsic", "torch.nn.qat",
    "torch.ao.quantization.stubs", "torch.ao.quantization.observer",
    "torch.ao.quantization.fake_quantize", "torch.ao.quantization.qconfig",
    "torch.distributions", "torch.nn.utils.prune", "torch.nn.utils.parametrize",
    "torch.nn.utils.parametrizations",
    "statsmodels.base", "statsmodels.regression", "statsmodels.discrete", "statsmodels.genmod",
    "statsmodels.robust", "statsmodels.tsa", "statsmodels.tools.tools",
    "statsmodels.nonparametric", "statsmodels.duration", "statsmodels.imputation",
    "statsmodels.multivariate", "statsmodels.miscmodels", "statsmodels.gam",
    "networkx.classes",
    "sympy.core", "sympy.functions", "sympy.sets", "sympy.logic", "sympy.matrices",
    "sympy.polys", "sympy.concrete", "sympy.integrals",
    "nltk.probability", "nltk.tokenize", "nltk.tag", "nltk.stem", "nltk.classify.naivebayes",
    "nltk.classify.decisiontree", "nltk.classify.maxent", "nltk.lm", "nltk.tree", "nltk.grammar",
    "gensim.models", "gensim.corpora.dictionary", "gensim.similarities.termsim",
    "skorch",
    "xgboost.sklearn", "xgboost.core",
    "scipy.sparse", "scipy.interpolate", "scipy.spatial", "scipy.stats._distn_infrastructure",
    "scipy.stats._continuous_distns", "scipy.stats._discrete_distns",
    "scipy.stats._multivariate", "scipy.stats._kde", "scipy.optimize._optimize",
    "scipy.optimize._lsq.least_squares", "scipy.optimize._minimize", "scipy.stats._covariance",
    "scipy.stats._stats_mstats_common", "scipy.stats._stats_py",
    "collections.abc", "zoneinfo", "ipaddress",
]
SKIP_PARTS = {
    "tests", "test", "testing", "_testing", "conftest", "benchmarks", "datasets", "externals",
    "_build_utils", "estimator_checks", "__check_build", "_distributor_init", "sandbox", "iolib",
    "_show_versions", "parallel", "_joblib", "fixes",
    # nltk modules that drive external programs (java, binaries) or download data
    "stanford", "stanford_segmenter", "senna", "hunpos", "crf", "repp", "mallet", "megam",
    "tadm", "weka", "malt", "corenlp", "bllip", "downloader", "scikitlearn", "perceptron",
    "sexpr", "textcat",
    # scipy qhull objects hand an options string to qhull, which has file-output options
    "_qhull", "qhull",
    # gensim: corpus readers and wrappers of external tools
    "_fasttext_bin", "keyedvectors_utils", "wrappers",
    # skorch integrations with trackers and hubs (files, network)
    "hf", "cli",
}
# pandas._libs modules that read or write files, parse text formats or hold test helpers.
PANDAS_SKIP = {"parsers", "writers", "json", "testing", "window", "reshape", "ops_dispatch",
               "hashing", "properties", "indexing"}
# pandas._libs modules whose extension types hold data that pickles carry.
PANDAS_CLASSES = ("pandas._libs.arrays", "pandas._libs.internals", "pandas._libs.interval",
                  "pandas._libs.missing", "pandas._libs.sparse", "pandas._libs.tslibs")
# Classes named in those modules that are left out on purpose.
SKIP_NAMES = {
    # scipy.spatial: qhull-backed (see _qhull above), re-exported at the package level
    "scipy.spatial._qhull.ConvexHull", "scipy.spatial._qhull.Delaunay",
    "scipy.spatial._qhull.Voronoi", "scipy.spatial._qhull.HalfspaceIntersection",
    "skorch.callbacks.training.Checkpoint", "skorch.callbacks.training.TrainEndCheckpoint",
    "skorch.callbacks.training.LoadInitState",
}
# Functions and other values real files store, named one by one (a function is called by
# REDUCE with arguments from the file, so each is a reviewed, pure computation).
FUNCTIONS = [
    "builtins.len", "builtins.pow", "builtins.hash", "builtins.abs", "builtins.round",
    "builtins.divmod",
    "__future__._Feature",
    "textwrap.dedent",
    "gensim.utils.identity", "gensim.utils.call_on_class_only", "gensim.models.tfidfmodel.df2idf",
    "gensim.matutils.unitvec",
    "skorch.setter.optimizer_setter", "skorch.utils._indexing_other", "skorch.utils.to_numpy",
    "skorch.utils.noop", "skorch.utils._identity",
    "zoneinfo.ZoneInfo._unpickle",
    "sklearn.metrics._scorer._passthrough_scorer",
    "torch.nn.functional.relu", "torch.nn.functional.gelu", "torch.nn.functional.silu",
    "torch.nn.functional.softmax", "torch.nn.functional.log_softmax",
    "torch.nn.functional.cross_entropy", "torch.nn.functional.mse_loss",
    "torch.optim.swa_utils.SWALR", "torch.nn.modules.module._WrappedHook",
    "torch._utils.torch.channels_last", "torch._utils.torch.contiguous_format",
    "torch._utils.torch.preserve_format", "torch._utils.torch.channels_last_3d",
    "torch.channels_last", "torch.contiguous_format", "torch.preserve_format",
    "torch.channels_last_3d",
    # torch.ScriptObject's packed parameters, once the pickle machine names the custom class
    # a ScriptObject is restored as (see docs/how-mscan-decides.md); never the raw
    # "__torch__.torch.classes.*" spelling, which the __torch__.* prefix would cover.
    "torch.classes.quantized.LinearPackedParamsBase",
    "torch.classes.quantized.Conv2dPackedParamsBase",
    "torch.classes.quantized.Conv3dPackedParamsBase",
    "torch.classes.rnn.CellParamsBase",
    "numpy.vectorize", "operator.or_", "_operator.or_",
    "numpy.number", "numpy.generic", "numpy.integer", "numpy.signedinteger",
    "numpy.unsignedinteger", "numpy.inexact", "numpy.floating", "numpy.complexfloating",
    "numpy.flexible", "numpy.character",
]
# Enum classes whose members are stored by name (http.HTTPStatus.OK).
ENUMS = ["http.HTTPStatus", "re.RegexFlag"]
# Python 2 spellings real files still carry (_abcoll was collections.abc).
PY2_ABCOLL = "_abcoll"
# Candidates whose restore path the audit flags, kept after review: name -> reason.
REVIEWED = {
    # Dropped with --without-scipy-stats (see main()).
    "scipy.stats._distn_infrastructure.rv_generic":
        "__setstate__ exec()s _parse_arg_template; the pickle machine checks the template "
        "against scipy's own and reports any other (pickle.scipy-template, high)",
    "skorch.net.NeuralNet":
        "__setstate__ torch.load()s the CUDA-dependent attributes (module, optimizer, "
        "criterion) from bytes inside the same pickle, which mscan scans as a nested torch file",
    "xgboost.core.Booster":
        "__init__/__setstate__ hand the pickled model bytes to libxgboost through ctypes: data "
        "for the native parser, not code or a file name",
    "zoneinfo._zoneinfo.ZoneInfo":
        "the pure-Python twin of zoneinfo.ZoneInfo: reads the time-zone file named by the key "
        "only from the TZPATH folders or the tzdata package, after rejecting absolute keys and "
        "keys that leave them (_tzpath._validate_tzfile_path); the file is parsed as TZif data",
    "sympy.core.numbers.Float":
        "__new__ calls sympify only on numpy scalars (_convert_numpy_types); strings go to "
        "mpmath's number parser",
}
# Sinks in a reviewed base class are accepted for its subclasses too.
REVIEWED_BASES = {"scipy.stats._distn_infrastructure.rv_generic", "skorch.net.NeuralNet",
                  "xgboost.core.Booster"}


# sympy's expression classes convert their arguments with sympify(), which evaluates text. The
# pickle machine checks the arguments of every sympy call, and what the mutable matrices'
# __setitem__ receives, and reports text or objects of other libraries there
# (pickle.sympify-text, critical): a sympy class whose only flagged sinks are sympify's is kept.
SYMPIFY_SINKS = ("sympify", "S", "parse_expr")


def sympify_checked(name, hits):
    def sympify_sink(why):
        if why == "passes sympify as a callable":
            return True
        if why.startswith("evaluates text (") and why.endswith(")"):
            return why[len("evaluates text ("):-1].split(".")[-1] in SYMPIFY_SINKS
        return False
    return name.startswith("sympy.") and all(sympify_sink(h["why"]) for h in hits)


def load_audit():
    spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit-allowlist.py")
    audit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(audit)
    return audit


def deny_entries():
    out = []
    for path in sorted((ROOT / "rules").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for rule in doc.get("rules", []):
            m = rule.get("match", {})
            out += [(g, m.get("except", [])) for g in m.get("globals", [])]
    return out


def denied(name, deny):
    return any((name == g or name.startswith(g + ".")) and
               not any(name == e or name.startswith(e + ".") for e in ex) for g, ex in deny)


def modules_under(name, audit):
    if any(p in SKIP_PARTS for p in name.split(".")):
        return []
    with audit.quiet():
        try:
            mod = importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - not installed here
            return []
    out = [mod]
    if hasattr(mod, "__path__"):
        for info in pkgutil.walk_packages(mod.__path__, name + ".", onerror=lambda _: None):
            if any(p in SKIP_PARTS for p in info.name.split(".")):
                continue
            with audit.quiet():
                try:
                    out.append(importlib.import_module(info.name))
                except BaseException:  # noqa: BLE001
                    continue
    return out


def public_path(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def candidates(audit):
    """{name: object} of every class and function to consider."""
    found = {}
    for root in WALK:
        for mod in modules_under(root, audit):
            for attr, value in sorted(vars(mod).items()):
                if not inspect.isclass(value) or "<" in getattr(value, "__qualname__", "<"):
                    continue
                real = public_path(value)
                if not any(real.startswith(r + ".") or real == r for r in WALK):
                    continue  # a class imported from a module outside the walked ones
                if root == "collections.abc" and (not real.startswith("collections.abc.") or
                                                  value.__name__.startswith("_")):
                    continue  # the ABCs themselves, not the builtin types they register
                # pickle names a class by its __module__ and __qualname__, wherever it is
                # re-exported.
                found.setdefault(real, value)
    with audit.quiet():
        from sklearn.utils import all_estimators
        for _, cls in all_estimators():
            found.setdefault(public_path(cls), cls)
        import numpy
        umath = importlib.import_module("numpy.core._multiarray_umath")
        for attr, value in sorted(vars(umath).items()):
            if isinstance(value, numpy.ufunc):
                found[f"numpy.core._multiarray_umath.{attr}"] = value
                if getattr(numpy, attr, None) is value:
                    found[f"numpy.{attr}"] = value
    # pandas' compiled helpers: the unpicklers Cython and pandas define (__pyx_unpickle_*,
    # _unpickle_*, *_unpickle) and the extension types of the data-holding modules.
    for mod in modules_under("pandas._libs", audit):
        if mod.__name__.split(".")[-1] in PANDAS_SKIP:
            continue
        for attr, value in sorted(vars(mod).items()):
            if "unpickle" in attr and callable(value):
                found.setdefault(f"{mod.__name__}.{attr}", value)
            elif inspect.isclass(value) and value.__module__ == mod.__name__ and \
                    not attr.startswith("__") and mod.__name__.startswith(PANDAS_CLASSES):
                found.setdefault(public_path(value), value)
    for name in FUNCTIONS:
        obj, how = audit.resolve(name)
        found[name] = obj if obj is not None else how
    for enum_name in ENUMS:
        obj, _ = audit.resolve(enum_name)
        if obj is not None:
            found[enum_name] = obj
            for member in getattr(obj, "__members__", {}):
                found[f"{enum_name}.{member}"] = getattr(obj, member)
    with audit.quiet():
        import collections.abc
        for attr in collections.abc.__all__:
            found[f"{PY2_ABCOLL}.{attr}"] = getattr(collections.abc, attr)
    return found


def reviewed(obj):
    if not inspect.isclass(obj):
        return None
    for klass in inspect.getmro(obj):
        name = public_path(klass)
        if name in REVIEWED and (klass is obj or name in REVIEWED_BASES):
            return REVIEWED[name]
    return None


def sympy_classes(kept, found):
    """The C++ table of kept sympy classes (and their __new__) that are expressions."""
    from sympy.core.basic import Basic
    from sympy.matrices import MatrixBase
    names = set()
    for name in kept:
        obj = found.get(name)
        if isinstance(obj, tuple):  # ("new of", cls): cls.__new__
            obj = obj[1]
        if name.startswith("sympy.") and inspect.isclass(obj) and \
                issubclass(obj, (Basic, MatrixBase)):
            names.add(name)
    lines = [
        "// Generated by scripts/gen-allowlist.py from Debian's sympy; do not edit by hand.",
        "// The allowlisted sympy classes (with the __new__ of each that protocol 2 calls) whose",
        "// objects sympify() returns unchanged (sympy.core.basic.Basic) or converts element by",
        "// element (matrices). Sorted. Included by pickle_machine.cpp.",
        f"constexpr std::array<std::string_view, {len(names)}> kSympyExpressionClasses = {{",
    ]
    lines += [f'    "{n}",' for n in sorted(names)]
    lines.append("};")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--why", action="store_true")
    ap.add_argument("--without-scipy-stats", action="store_true",
                    help="leave out the scipy.stats distributions (their __setstate__ exec()s "
                         "_parse_arg_template), for a build whose pickle machine does not check "
                         "the template (anomaly pickle.scipy-template)")
    args = ap.parse_args()
    if args.without_scipy_stats:
        REVIEWED.pop("scipy.stats._distn_infrastructure.rv_generic")
        SKIP_NAMES.add("scipy.stats._distn_infrastructure.rv_generic")
    audit = load_audit()
    deny = deny_entries()
    base = set(json.loads((ROOT / "rules" / "allowlist.json").read_text())["allow"])
    kept, left_out = [], []
    # Protocol 2 pickles an object whose class has __getnewargs_ex__ (keyword arguments) as
    # functools.partial(cls.__new__, cls, *args, **kwargs); calling cls.__new__(cls, ...) is
    # what NEWOBJ does, so a kept class's own __new__ is kept with it (audited with it).
    found = candidates(audit)
    for name, obj in list(found.items()):
        if inspect.isclass(obj) and any("__getnewargs_ex__" in vars(k)
                                        for k in inspect.getmro(obj) if k is not object):
            found.setdefault(f"{name}.__new__", ("new of", obj))
    kept_classes = set()
    for name, obj in sorted(found.items(), key=lambda kv: (isinstance(kv[1], tuple), kv[0])):
        if isinstance(obj, tuple):  # ("new of", cls): kept when cls is
            if obj[1] in kept_classes:
                kept.append(name)
            else:
                left_out.append((name, "its class is left out"))
            continue
        if isinstance(obj, str):
            if name in FUNCTIONS and name.startswith("torch.classes."):
                kept.append(name)  # named by the pickle machine, not importable
            else:
                left_out.append((name, f"not importable here ({obj})"))
            continue
        if name in SKIP_NAMES:
            left_out.append((name, "left out on purpose (SKIP_NAMES)"))
            continue
        if denied(name, deny):
            left_out.append((name, "a deny rule covers it"))
            continue
        if name in base:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            hits, _, _ = audit.audit_object(name, obj)
            if hits and not reviewed(obj):
                if not sympify_checked(name, hits):
                    h = hits[0]
                    left_out.append((name, f"{h['why']} in {h['via']}"))
                    continue
        kept.append(name)
        if inspect.isclass(obj):
            kept_classes.add(obj)
    doc = {
        "schema": 1,
        "description": ("Allowlist of classes and functions real ML libraries pickle, enumerated "
                        "from Debian's installed packages and audited by "
                        "scripts/audit-allowlist.py. Generated by scripts/gen-allowlist.py; do "
                        "not edit by hand (hand-written entries live in allowlist.json)."),
        "allow": sorted(set(kept)),
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if args.why:
        for name, why in left_out:
            print(f"left out {name}: {why}")
    sympy_text = sympy_classes(kept, found)
    if args.check:
        stale = [path for path, body in ((OUT, text), (SYMPY_OUT, sympy_text))
                 if not path.exists() or path.read_text(encoding="utf-8") != body]
        for path in stale:
            print(f"{path} is out of date: run scripts/gen-allowlist.py", file=sys.stderr)
        return 1 if stale else 0
    OUT.write_text(text, encoding="utf-8")
    SYMPY_OUT.write_text(sympy_text, encoding="utf-8")
    print(f"wrote {len(doc['allow'])} names to {OUT}; left out {len(left_out)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
