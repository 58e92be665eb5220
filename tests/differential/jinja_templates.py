#!/usr/bin/python3
"""Differential harness for Jinja chat templates: jinja2's sandbox against mscan's verdict.

    /usr/bin/python3 tests/differential/jinja_templates.py [--mscan build/mscan] [--count N]
                                                           [--seed S] [--keep DIR]

A loader that renders a model's chat template without jinja2's sandbox runs whatever Python
the template reaches (CVE-2024-34359); the sandbox refuses exactly the attribute and item
accesses that lead there. So ImmutableSandboxedEnvironment is the component whose judgement
mscan must match. This writes N random templates through the Jinja grammar: the names of
Python internals (or, for the benign variants, of ordinary message fields) spelled as
literals, with \\x, \\u, octal and \\N{...} escapes, concatenated with ~ or +, joined from
lists and tuples, built with |format, % and .format, |replace, |reverse, |lower, slicing,
dict(name=1)|first, {% set %} variables and {% set %}...{% endset %} blocks, macro bodies and
loops that accumulate into namespace fields; then used as keys, through |attr, map('attr')
and map(attribute=) on the non-data globals (namespace, cycler, joiner, lipsum) or, for the
benign variants, on messages.

Each template is rendered ONLY in the sandbox (with unsafe access made to raise SecurityError
at once instead of giving an undefined), in a child process with a timeout:
  - SecurityError: the template is unsafe; mscan --fail-on critical must exit 1;
  - rendered: the template is safe; mscan's default gate must exit 0;
  - any other error or a timeout: not decided, counted apart (never a pass).

Nothing is rendered outside the sandbox. Exit 1 if any variant disagrees, 0 otherwise.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, options, scan  # noqa: E402,F401 - ROOT and scan are used by others
PYTHON = "/usr/bin/python3"  # Debian's Python, with jinja2

# Renders templates (one JSON list on stdin) in the strict sandbox; prints one verdict each.
CHILD = r'''
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

class StrictSandbox(ImmutableSandboxedEnvironment):
    def unsafe_undefined(self, obj, attribute):
        raise SecurityError("unsafe access to %r" % (attribute,))

env = StrictSandbox(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
out = []
for text in json.loads(sys.stdin.read()):
    try:
        env.from_string(text).render(messages=messages, bos_token="<s>", eos_token="</s>",
                                     add_generation_prompt=True, tools=[])
        out.append("safe")
    except SecurityError:
        out.append("unsafe")
    except Exception as error:  # a template error: the variant decides nothing
        out.append("error: " + type(error).__name__)
print(json.dumps(out))
'''

HOSTILE_TARGETS = [("namespace", ["__init__", "__globals__"]),
                   ("cycler", ["__init__", "__globals__"]),
                   ("joiner", ["__init__", "__globals__"]),
                   ("lipsum", ["__globals__"])]
BENIGN_NAMES = ["content", "role"]


class Builder:
    """Spells a name through the grammar; statements it needs go to `self.before`."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.before: list[str] = []
        self.counter = 0

    def fresh(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def escaped(self, s: str) -> str:
        out = []
        for c in s:
            r = self.rng.random()
            if r < 0.4:
                out.append(c)
            elif r < 0.55:
                out.append("\\x%02x" % ord(c))
            elif r < 0.7:
                out.append("\\u%04x" % ord(c))
            elif r < 0.85:
                out.append("\\%03o" % ord(c))
            elif c == "_":
                out.append("\\N{LOW LINE}")
            elif c.isalpha():
                case = "SMALL" if c.islower() else "CAPITAL"
                out.append("\\N{LATIN %s LETTER %s}" % (case, c.upper()))
            else:
                out.append(c)
        return "'" + "".join(out) + "'"

    def split(self, s: str) -> list[str]:
        if len(s) < 2:
            return [s]
        cuts = sorted(self.rng.sample(range(1, len(s)), k=min(len(s) - 1, self.rng.randint(1, 3))))
        parts, last = [], 0
        for c in cuts + [len(s)]:
            parts.append(s[last:c])
            last = c
        return parts

    def spell(self, s: str, depth: int = 0) -> str:
        """An expression whose value is the string s."""
        choices = ["literal", "escaped", "concat", "join", "format_filter", "percent",
                   "dot_format", "replace", "reverse", "lower", "slice", "dict_first", "set",
                   "set_block", "macro", "loop"]
        if depth > 1:
            choices = choices[:2]
        how = self.rng.choice(choices)
        lit = lambda x: self.escaped(x) if self.rng.random() < 0.3 else repr(x)  # noqa: E731
        if how == "literal":
            return repr(s)
        if how == "escaped":
            return self.escaped(s)
        if how == "concat":
            op = self.rng.choice([" ~ ", " + "])
            return "(" + op.join(self.spell(p, depth + 1) for p in self.split(s)) + ")"
        if how == "join":
            parts = self.split(s)
            if self.rng.random() < 0.5:
                return "([" + ", ".join(lit(p) for p in parts) + "]|join)"
            return "((" + ", ".join(lit(p) for p in parts) + ",)|join)"
        if how == "format_filter":
            parts = self.split(s)
            return "(" + repr("%s" * len(parts)) + "|format(" + ", ".join(lit(p) for p in parts) + "))"
        if how == "percent":
            parts = self.split(s)
            return "(" + repr("%s" * len(parts)) + " % (" + ", ".join(lit(p) for p in parts) + ",))"
        if how == "dot_format":
            parts = self.split(s)
            return "(" + repr("{}" * len(parts)) + ".format(" + ", ".join(lit(p) for p in parts) + "))"
        if how == "replace":
            return "(" + repr(s.replace("_", "Q")) + "|replace('Q', '_'))"
        if how == "reverse":
            return "(" + repr(s[::-1]) + (self.rng.choice(["|reverse", "[::-1]"])) + ")"
        if how == "lower":
            return "(" + repr(s.upper()) + "|lower)"
        if how == "slice":
            return "(" + repr("zz" + s) + "[2:])"
        if how == "dict_first":
            if not s.isidentifier():
                return repr(s)
            return "(dict(%s=1)|first)" % s
        if how == "set":
            name = self.fresh()
            self.before.append("{%% set %s = %s %%}" % (name, self.spell(s, depth + 1)))
            return name
        if how == "set_block":
            name = self.fresh()
            self.before.append("{%% set %s %%}%s{%% endset %%}" % (name, s))
            return name
        if how == "macro":
            name = self.fresh()
            self.before.append("{%% macro %s() %%}%s{%% endmacro %%}" % (name, s))
            return name + "()"
        # loop: accumulate the pieces into a namespace field
        name = self.fresh()
        pieces = ", ".join(lit(p) for p in self.split(s))
        self.before.append("{%% set %s = namespace(k='') %%}{%% for c in [%s] %%}"
                           "{%% set %s.k = %s.k ~ c %%}{%% endfor %%}" % (name, pieces, name, name))
        return name + ".k"

    def access(self, obj: str, key: str, data: bool) -> str:
        how = self.rng.choice(["subscript", "map_attribute"] if data else
                              ["subscript", "attr", "map_attr", "map_attribute", "sort",
                               "selectattr"])
        if how == "subscript":
            return "%s[%s]" % (obj, key)
        if how == "attr":
            return "(%s|attr(%s))" % (obj, key)
        if how == "map_attr":
            return "([%s]|map('attr', %s)|first)" % (obj, key)
        if how == "sort":  # sorting reads the attribute; the sandbox refuses it
            return "([%s, %s]|sort(attribute=%s)|first)" % (obj, obj, key)
        if how == "selectattr":
            return "([%s]|selectattr(%s)|first)" % (obj, key)
        return "([%s]|map(attribute=%s)|first)" % (obj, key)


def variant(rng: random.Random, hostile: bool) -> str:
    b = Builder(rng)
    if hostile:
        target, names = rng.choice(HOSTILE_TARGETS)
        expr = target
        alias = rng.random()
        with_open = False
        if alias < 0.15:  # the global under another name
            b.before.append("{%% set t0 = %s %%}" % target)
            expr = "t0"
        elif alias < 0.3:
            b.before.append("{%% with t0 = %s %%}" % target)
            expr = "t0"
            with_open = True
        for n in names:
            expr = b.access(expr, b.spell(n), data=False)
        body = "{{ %s is mapping }}" % expr
        if with_open:
            body += "{% endwith %}"
    else:
        expr = b.access("messages[1]", b.spell(rng.choice(BENIGN_NAMES)), data=True)
        body = "{{ %s }}" % expr
        if rng.random() < 0.3:
            body += "{% for k, v in messages[0].items() %}{{ messages[0][k] }}{% endfor %}"
    return "".join(b.before) + "<|user|>" + body


def sandbox_verdicts(templates: list[str]) -> list[str]:
    try:
        done = subprocess.run([PYTHON, "-c", CHILD], input=json.dumps(templates), text=True,
                              capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return ["timeout"] * len(templates)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        return ["error: child"] * len(templates)
    return json.loads(done.stdout)


def main() -> int:
    opts, rng, work = options(__doc__, 400, "mscan-jinja-diff-")
    templates = [variant(rng, hostile=(k % 2 == 0)) for k in range(opts.count)]
    verdicts = sandbox_verdicts(templates)
    counts = {"unsafe": 0, "safe": 0, "undecided": 0}
    missed, false_alarms = [], []
    for k, (text, verdict) in enumerate(zip(templates, verdicts)):
        path = os.path.join(work, "v%04d.jinja" % k)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        if verdict == "unsafe":
            counts["unsafe"] += 1
            if scan(opts.mscan, path, "--fail-on", "critical") != 1:
                missed.append((path, text))
        elif verdict == "safe":
            counts["safe"] += 1
            if scan(opts.mscan, path) != 0:
                false_alarms.append((path, text))
        else:
            counts["undecided"] += 1
            print(f"undecided ({verdict}): {path}: {text}")
    for path, text in missed:
        print(f"MISSED (sandbox refuses; mscan --fail-on critical passes): {path}\n  {text}")
    for path, text in false_alarms:
        print(f"FALSE ALARM (sandbox renders; mscan default gate fails): {path}\n  {text}")
    print(f"{opts.count} variants: {counts['unsafe']} unsafe, {counts['safe']} safe, "
          f"{counts['undecided']} undecided; disagreements: {len(missed)} missed, "
          f"{len(false_alarms)} false alarms")
    if not opts.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if missed or false_alarms or counts["undecided"] else 0


if __name__ == "__main__":
    sys.exit(main())
