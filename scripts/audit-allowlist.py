#!/usr/bin/python3
"""Audit the allowlist: does any allowlisted class or function run data from the file?

    /usr/bin/python3 scripts/audit-allowlist.py [--rules DIR] [--json OUT] [--verbose]

An allowlisted global passes without a finding, so the code its restore path runs must not act
on what the pickle gives it as code, a file name or a nested pickle. For every allowlist entry
(rules/*.json "allow" arrays) this script imports the object from Debian's installed packages
(nothing from a model file is ever loaded) and reads the source of what pickle.load can run:

  - a class: __reduce__, __reduce_ex__, __setstate__, __init__, __new__, __setitem__, append,
    extend, __setattr__ (BUILD, NEWOBJ, REDUCE, SETITEMS, APPENDS), its own or inherited from a
    non-builtin base;
  - a function: its body (REDUCE calls it with arguments from the file);

and, one level deep, the functions and methods those call by a plain name (`helper(...)`,
`self._attach_methods()`, `cls._from(...)`) when their source can be found. An AST walk lists
calls of exec, eval, compile, __import__, importlib, open, os.system/popen/exec*/spawn*,
subprocess, ctypes, pickle/marshal/dill/cloudpickle load(s), numpy.load, torch.load, joblib.load,
and any other `<x>.load(...)`/`<x>.loads(...)`. A "prefix.*" entry is audited on the classes
and functions its module defines (modules that import are walked, one level).

Compiled code (Cython, C extensions) has no Python source: it is listed as "no source" and has
to be reviewed by hand (docs/how-mscan-decides.md records that review). The report is printed
as text; --json writes the same data. Exit 0 always (it is a report, not a gate); standard
library only besides the packages being audited.
"""
import argparse
import ast
import contextlib
import importlib
import inspect
import io
import json
import sys
import textwrap
import types
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("__reduce__", "__reduce_ex__", "__setstate__", "__init__", "__new__", "__setitem__",
           "append", "extend", "__setattr__",
           # what joblib's unpickler calls on the array wrappers it meets (read_array, read)
           "read_array", "read",
           # run when the object is a dict key or set member, or BUILD looks up __setstate__
           "__hash__", "__eq__", "__getattr__")
# Names that evaluate text when another function calls them with a string.
PASSED_SINKS = ("eval", "exec", "compile", "sympify", "parse_expr", "__import__", "open")
# How deep calls by plain name are followed from a restore-path method.
DEPTH = 2
MODULE_PREFIX = {"subprocess": "subprocess", "ctypes": "ctypes", "importlib": "importlib",
                 "os": "os", "shutil": "filesystem", "socket": "network", "urllib": "network",
                 "pickle": "pickle", "marshal": "marshal", "dill": "pickle",
                 "cloudpickle": "pickle"}
OS_DANGEROUS = {"system", "popen", "execv", "execve", "execl", "execlp", "execvp", "execvpe",
                "spawnl", "spawnv", "spawnve", "spawnlp", "spawnvp", "posix_spawn", "remove",
                "unlink", "rmdir", "removedirs", "rename", "replace", "fork", "kill"}


@contextlib.contextmanager
def quiet():
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def allow_entries(rules_dir):
    entries = []
    for path in sorted(rules_dir.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        entries += [(e, path.name) for e in doc.get("allow", [])]
    return entries


def resolve(name):
    """(object, how) for a dotted name: import the longest module prefix, getattr the rest."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        modname = ".".join(parts[:i])
        try:
            with quiet():
                obj = importlib.import_module(modname)
        except BaseException:  # noqa: BLE001 - not a module here
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None, f"no attribute {'.'.join(parts[i:])} in {modname}"
        return obj, "ok"
    return None, "not installed"


def dotted(node):
    """'a.b.c' for a Name/Attribute chain, else None."""
    out = []
    while isinstance(node, ast.Attribute):
        out.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        out.append(node.id)
        return ".".join(reversed(out))
    return None


def strict_keyword(call):
    return any(k.arg == "strict" and isinstance(k.value, ast.Constant) and k.value.value is True
               for k in call.keywords)


def classify(callee, call=None):
    """Why a call of `callee` (dotted text) matters, or None."""
    parts = callee.split(".")
    if parts[-1] == "sympify" and call is not None and strict_keyword(call):
        return None  # strict sympify refuses strings: nothing is parsed
    last = parts[-1]
    if len(parts) == 1 and last in ("exec", "eval", "compile", "__import__", "open"):
        return last
    if parts[0] in ("os", "posix", "_os") and last in OS_DANGEROUS:
        return "os." + last
    if parts[0] in MODULE_PREFIX and len(parts) > 1:
        if parts[0] == "os" and last not in OS_DANGEROUS:
            return None
        if parts[0] == "importlib" or last in ("import_module", "reload"):
            return "importlib"
        return f"{MODULE_PREFIX[parts[0]]} ({callee})"
    if last in ("load", "loads") and len(parts) > 1:
        return f"nested load ({callee})"
    if last in ("import_module", "CDLL", "LoadLibrary", "dlopen", "urlopen", "Popen",
                "check_output", "check_call", "fromfile", "load_compatibility"):
        return last
    if last in ("exec", "eval") and parts[0] in ("builtins", "__builtins__", "__builtin__"):
        return f"{last} ({callee})"
    # Text evaluated as code: sympy's sympify (not the strict _sympify) and S(...) parse strings
    # with eval; pandas/numexpr evaluate expressions.
    if last in ("sympify", "parse_expr", "eval_expr", "evaluate", "lambdify") or \
            (len(parts) == 1 and last == "S"):
        return f"evaluates text ({callee})"
    if last in ("load_model", "from_file", "read_pickle", "loadtxt", "genfromtxt"):
        return f"reads a file by name ({callee})"
    return None


def callees(func):
    """(source file, first line, tree) of a function, or None when it has no Python source."""
    func = inspect.unwrap(func)
    try:
        src = inspect.getsource(func)
        file = inspect.getsourcefile(func)
        line = inspect.getsourcelines(func)[1]
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(textwrap.dedent(src))
    except SyntaxError:
        return None
    return file, line, tree


def scan_function(func, label, owner, module, depth, seen, hits):
    key = id(func)
    if key in seen:
        return True
    seen.add(key)
    parsed = callees(func)
    if parsed is None:
        return False
    file, first, tree = parsed
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            # A sink handed on as a callable: map(sympify, args), key=eval.
            for arg in list(node.args) + [k.value for k in node.keywords]:
                if isinstance(arg, ast.Name) and arg.id in PASSED_SINKS:
                    hits.append({"via": label, "call": f"{dotted(node.func)}(..{arg.id}..)",
                                 "why": f"passes {arg.id} as a callable",
                                 "where": f"{file}:{first + node.lineno - 1}"})
        if not isinstance(node, ast.Call):
            continue
        callee = dotted(node.func)
        if callee is None:
            continue
        if callee.split(".")[-1] == "sympify" and strict_keyword(node):
            continue  # strict sympify refuses strings: nothing is parsed, nothing to follow
        why = classify(callee, node)
        if why:
            hits.append({"via": label, "call": callee, "why": why,
                         "where": f"{file}:{first + node.lineno - 1}"})
        if depth >= DEPTH:
            continue
        # One level deep: self.x(...), cls.x(...), and module-level helper(...).
        target = None
        parts = callee.split(".")
        if len(parts) == 2 and parts[0] in ("self", "cls") and owner is not None:
            target = inspect.getattr_static(owner, parts[1], None)
            if isinstance(target, (staticmethod, classmethod)):
                target = target.__func__
        elif len(parts) == 1 and module is not None:
            target = getattr(module, parts[0], None)
        elif len(parts) == 2 and module is not None and inspect.isclass(
                getattr(module, parts[0], None)):
            # An explicit base-class call: Expr.__new__(cls, ...)
            target = inspect.getattr_static(getattr(module, parts[0]), parts[1], None)
            if isinstance(target, (staticmethod, classmethod)):
                target = target.__func__
        if inspect.isfunction(target):
            scan_function(target, f"{label} -> {callee}", owner,
                          sys.modules.get(target.__module__), depth + 1, seen, hits)
    return True


def audit_object(name, obj):
    """(hits, audited method labels, methods without source)."""
    hits, audited, nosource = [], [], []
    seen = set()
    if inspect.isclass(obj):
        # The definition the class uses, and the ones it reaches through super() along the
        # MRO (the call walk does not follow super()).
        for meth in METHODS:
            for klass in inspect.getmro(obj):
                if meth not in vars(klass):
                    continue
                if klass.__module__ == "builtins":
                    break
                func = vars(klass)[meth]
                if isinstance(func, (staticmethod, classmethod)):
                    func = func.__func__
                label = f"{klass.__module__}.{klass.__qualname__}.{meth}"
                if not inspect.isfunction(func):
                    nosource.append(label)
                    continue
                if scan_function(func, label, obj, sys.modules.get(func.__module__), 0, seen,
                                 hits):
                    audited.append(label)
                else:
                    nosource.append(label)
                    break
                try:
                    if "super(" not in inspect.getsource(inspect.unwrap(func)):
                        break
                except (OSError, TypeError):
                    break
    elif inspect.isfunction(obj):
        if scan_function(obj, name, None, sys.modules.get(obj.__module__), 0, seen, hits):
            audited.append(name)
        else:
            nosource.append(name)
    else:
        nosource.append(f"{name} ({type(obj).__name__})")
    return hits, audited, nosource


def prefix_members(prefix):
    """(name, object) for the classes and functions defined in the module `prefix`."""
    obj, how = resolve(prefix)
    if not isinstance(obj, types.ModuleType):
        return []
    out = []
    for attr, value in sorted(vars(obj).items()):
        if (inspect.isclass(value) or inspect.isfunction(value)) and \
                getattr(value, "__module__", "") == obj.__name__:
            out.append((f"{prefix}.{attr}", value))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rules", type=Path, default=ROOT / "rules")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--verbose", action="store_true", help="also list entries without source")
    args = ap.parse_args()
    report = {"entries": 0, "not_installed": [], "no_source": [], "audited": 0, "findings": []}
    for entry, origin in allow_entries(args.rules):
        report["entries"] += 1
        if entry.endswith(".*"):
            members = prefix_members(entry[:-2])
            if not members:
                report["not_installed"].append(entry)
        else:
            obj, how = resolve(entry)
            if obj is None:
                report["not_installed"].append(f"{entry} ({how})")
                continue
            members = [(entry, obj)]
        for name, obj in members:
            hits, audited, nosource = audit_object(name, obj)
            report["audited"] += len(audited)
            report["no_source"] += [f"{name}: {n}" for n in nosource]
            for h in hits:
                report["findings"].append({"entry": name, "file": origin, **h})
    findings = report["findings"]
    print(f"allowlist entries: {report['entries']}; restore-path functions read: "
          f"{report['audited']}; entries not importable here: {len(report['not_installed'])}; "
          f"methods or objects without Python source (compiled): {len(report['no_source'])}")
    print(f"calls that act on data as code, files, processes or nested pickles: {len(findings)}")
    by_entry = {}
    for f in findings:
        by_entry.setdefault(f["entry"], []).append(f)
    for entry in sorted(by_entry):
        print(f"\n{entry}")
        for f in by_entry[entry]:
            print(f"  {f['why']}: {f['call']}  [{f['via']}]  {f['where']}")
    if args.verbose:
        print("\nnot importable:")
        for n in report["not_installed"]:
            print(f"  {n}")
        print("\nno Python source:")
        for n in report["no_source"]:
            print(f"  {n}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
