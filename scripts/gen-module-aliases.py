#!/usr/bin/python3
"""Write rules/module-aliases.json: attribute paths that reach a denied module or function under
another name, so deny rules see through them.

    /usr/bin/python3 scripts/gen-module-aliases.py            rewrite rules/module-aliases.json
    /usr/bin/python3 scripts/gen-module-aliases.py --check    exit 1 if it would change
    /usr/bin/python3 scripts/gen-module-aliases.py --all      print every alias found (no filter)

pickle's find_class imports the module and walks the dotted name attribute by attribute, so
`GLOBAL random _os.system` is `os.system`: `random` imports `os` as `_os`. mscan's pickle
machine names that global `random._os.system`; the rule engine rewrites a name whose
component-boundary prefix is in this table ("random._os" -> "os") and matches the deny rules
against the real name too.

What is walked: every importable module of Python's standard library (packages included, tests
and GUI/demo modules skipped), and every module named as the module part of an allowlist entry
or a deny-rule entry in rules/*.json whose package is installed (Debian's python3-* stack). For
each module attribute that is a module, or a function or class whose real
`__module__.__qualname__` differs from the path it is reached by, the path is an alias.

Kept: aliases where resolving changes a verdict, that is the real name is (or is under, or
holds) a deny-rule entry and the alias path itself is not already denied by the same entry. The
table is data (facts about the installed versions); regenerate it when the stack changes.
Importing these modules runs their top-level code, which is why only Debian's own packages are
walked and nothing from a model file is ever loaded.
"""
import argparse
import contextlib
import importlib
import inspect
import io
import json
import pkgutil
import sys
import types
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "rules" / "module-aliases.json"
# Modules whose import has visible side effects (a browser, a window, printed text) or that are
# test suites and demos nobody pickles from.
SKIP = ("antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test", "lib2to3",
        "__main__", "__phello__", "_tkinter", "ensurepip", "venv", "pydoc_data")
SKIP_PARTS = ("tests", "test", "testing", "_testing", "conftest", "benchmarks", "__main__")


def deny_entries():
    """{entry: [(rule id, except list)]} from every deny rule in rules/*.json."""
    out = {}
    for path in sorted((ROOT / "rules").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for rule in doc.get("rules", []):
            match = rule.get("match", {})
            for g in match.get("globals", []):
                out.setdefault(g, []).append((rule["id"], match.get("except", [])))
    return out


def allow_entries():
    doc = json.loads((ROOT / "rules" / "allowlist.json").read_text(encoding="utf-8"))
    return doc["allow"]


def covers(entry, name):
    return name == entry or name.startswith(entry + ".")


def denied_by(name, deny):
    """The set of (rule id, entry) that deny `name` (component-boundary prefix match)."""
    hits = set()
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        prefix = ".".join(parts[:i])
        for rule_id, excepts in deny.get(prefix, []):
            if not any(covers(e, name) for e in excepts):
                hits.add((rule_id, prefix))
    return hits


def stdlib_modules():
    names = set()
    for name in sorted(sys.stdlib_module_names):
        if name.startswith(SKIP) or name in SKIP:
            continue
        names.add(name)
        try:
            with quiet():
                mod = importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - a module that does not import is skipped
            continue
        if hasattr(mod, "__path__"):
            for info in pkgutil.walk_packages(mod.__path__, name + ".", onerror=lambda _: None):
                parts = info.name.split(".")
                if any(p in SKIP_PARTS or p in SKIP for p in parts):
                    continue
                names.add(info.name)
    return names


def rule_modules(deny, allow):
    """Module parts of allowlist and deny entries: the longest importable prefix of each."""
    names = set()
    for entry in list(deny) + [a[:-2] if a.endswith(".*") else a for a in allow]:
        parts = entry.split(".")
        for i in range(len(parts), 0, -1):
            names.add(".".join(parts[:i]))
    return names


@contextlib.contextmanager
def quiet():
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def import_quietly(name):
    if name.split(".")[0] in SKIP or any(p in SKIP_PARTS for p in name.split(".")):
        return None
    if name in sys.modules:
        mod = sys.modules[name]
        return mod if isinstance(mod, types.ModuleType) else None
    try:
        with quiet():
            return importlib.import_module(name)
    except BaseException:  # noqa: BLE001 - not a module, or one that does not import here
        return None


def real_name(value):
    if isinstance(value, types.ModuleType):
        return value.__name__
    if inspect.isclass(value) or inspect.isfunction(value) or inspect.isbuiltin(value):
        module = getattr(value, "__module__", None)
        qualname = getattr(value, "__qualname__", None)
        if isinstance(module, str) and isinstance(qualname, str) and "<" not in qualname:
            return f"{module}.{qualname}"
    return None


def find_aliases(module_names):
    found = {}
    for name in sorted(module_names):
        mod = import_quietly(name)
        if mod is None or mod.__name__ != name:
            continue
        try:
            attrs = dict(vars(mod))
        except TypeError:
            continue
        for attr, value in attrs.items():
            if attr.startswith("__"):
                continue
            real = real_name(value)
            path = f"{name}.{attr}"
            if real and real != path:
                found[path] = real
    return found


def rules_reaching(name, deny):
    """Ids of the deny rules that cover `name` or an entry under it."""
    ids = {rule_id for rule_id, _ in denied_by(name, deny)}
    for entry, rules in deny.items():
        if entry.startswith(name + "."):
            ids.update(rule_id for rule_id, _ in rules)
    return ids


def verdict_changing(found, deny):
    """The aliases whose real name brings in a deny rule the alias path does not already get."""
    kept = {}
    for path, real in sorted(found.items()):
        if rules_reaching(real, deny) - rules_reaching(path, deny):
            kept[path] = real
    return kept


def render(table):
    doc = {
        "schema": 1,
        "description": ("Module aliases: attribute paths that reach a denied module, function or "
                        "class under another name (random._os is os). The rule engine matches "
                        "deny rules against the real name too. Generated by "
                        "scripts/gen-module-aliases.py from the installed Python "
                        f"{sys.version_info.major}.{sys.version_info.minor} standard library and "
                        "Debian's python3-* packages; do not edit by hand."),
        "module_aliases": dict(sorted(table.items())),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--all", action="store_true", help="print every alias found, unfiltered")
    args = ap.parse_args()
    deny = deny_entries()
    modules = stdlib_modules() | rule_modules(deny, allow_entries())
    found = find_aliases(modules)
    if args.all:
        for path, real in sorted(found.items()):
            print(f"{path} -> {real}")
        return 0
    text = render(verdict_changing(found, deny))
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is out of date: run scripts/gen-module-aliases.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(json.loads(text)['module_aliases'])} aliases to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
