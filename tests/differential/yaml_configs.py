#!/usr/bin/python3
"""Differential harness for YAML configs: OmegaConf's reading against mscan's verdict.

    /usr/bin/python3 tests/differential/yaml_configs.py [--mscan build/mscan] [--count N]
                                                        [--seed S] [--keep DIR]

Hydra's instantiate and NeMo's restore_from read a YAML config with OmegaConf.load (PyYAML's
SafeLoader with OmegaConf's duplicate-key check) and import whatever each `_target_`,
`target` or `cls` value resolves to. This writes N Hydra/NeMo-shaped configs through the YAML
grammar and OmegaConf's interpolations — key spellings (quoted, escaped, `? key`, `!!str`,
aliases), value spellings (next line, block scalars, escapes, aliases), placement (nested,
in lists, flow style, merged by `<<`), interpolations (absolute, relative, nested, string,
list index, oc.select), decoys in comments and strings — asks OmegaConf what each target
resolves to (OmegaConf.select; nothing is instantiated), and compares with mscan:

  - a target that resolves to a dangerous callable (os.system, subprocess.Popen, ...): mscan
    must fail --fail-on critical;
  - every target resolves to a framework class (torch, nemo): mscan's default gate must pass.

Needs python3-omegaconf (Debian). Exit 1 if any variant disagrees, 0 otherwise.
"""

from __future__ import annotations

import os
import random
import sys

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf._utils import get_yaml_loader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import finish, gate, options  # noqa: E402

DANGEROUS = ["os.system", "subprocess.Popen", "builtins.exec", "posix.system",
             "subprocess.check_output"]
SAFE = ["torch.nn.Linear", "nemo.collections.asr.modules.ConformerEncoder",
        "torch.optim.AdamW", "nemo.collections.asr.models.EncDecCTCModel"]
KEYS = ["_target_", "target", "cls"]


def escape_double(text: str, rng: random.Random) -> str:
    """A double-quoted YAML scalar with some characters escaped."""
    out = []
    for c in text:
        r = rng.random()
        if r < 0.15:
            out.append("\\x%02x" % ord(c))
        elif r < 0.25:
            out.append("\\u%04x" % ord(c))
        elif r < 0.3:
            out.append("\\U%08x" % ord(c))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


class Variant:
    """One config: a list of top-level lines plus the target entry placed somewhere."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.top: list[str] = []  # helper entries at the top level
        self.anchors = 0

    def anchor(self) -> str:
        self.anchors += 1
        return "a%d" % self.anchors

    def key(self, key: str) -> str:
        rng = self.rng
        form = rng.randrange(6)
        if form == 0:
            return key
        if form == 1:
            return "'" + key + "'"
        if form == 2:
            return escape_double(key, rng)
        if form == 3:
            return "!!str " + key
        if form == 4:
            name = self.anchor()
            self.top.append("k%s: &%s %s" % (name, name, key))
            return "*%s " % name  # an alias as a key needs a blank before ':'
        return None  # explicit "? key" (handled by the caller)

    def value(self, name: str, indent: str) -> str:
        """The value text after 'key:' (may start with a newline)."""
        rng = self.rng
        form = rng.randrange(13)
        if form == 0:
            return " " + name
        if form == 1:
            return " '" + name + "'"
        if form == 2:
            return " " + escape_double(name, rng)
        if form == 3:
            return "\n" + indent + "  " + name
        if form == 4:
            return " >-\n" + indent + "  " + name
        if form == 5:
            return " |-\n" + indent + "  " + name
        if form == 6:
            return " !!str " + name
        if form == 7:
            a = self.anchor()
            self.top.append("v%s: &%s %s" % (a, a, name))
            return " *" + a
        if form == 8:
            self.top.append("impl_%d: %s" % (self.anchors, name))
            self.anchors += 1
            return " ${impl_%d}" % (self.anchors - 1)
        if form == 9:
            mod, _, fn = name.rpartition(".")
            n = self.anchors
            self.anchors += 1
            self.top.append("mod_%d: %s" % (n, mod))
            self.top.append("fn_%d: %s" % (n, fn))
            return " ${mod_%d}.${fn_%d}" % (n, n)
        if form == 10:
            n = self.anchors
            self.anchors += 1
            self.top.append("which_%d: impl_%d" % (n, n))
            self.top.append("impl_%d: %s" % (n, name))
            return " ${${which_%d}}" % n
        if form == 11:
            n = self.anchors
            self.anchors += 1
            self.top.append("names_%d: [%s, %s]" % (n, rng.choice(SAFE), name))
            return " ${names_%d[1]}" % n if rng.random() < 0.5 else " ${names_%d.1}" % n
        return " ${oc.select:missing_%d,%s}" % (rng.randrange(1000), name)

    def entry(self, key: str, name: str, indent: str) -> list[str]:
        k = self.key(key)
        v = self.value(name, indent)
        if k is None:
            return [indent + "? " + key, indent + ":" + v]
        return [indent + k + ":" + v]


def config(rng: random.Random, names: list[str]) -> str:
    var = Variant(rng)
    body: list[str] = []
    decoys = ["# _target_: os.system",
              "note: \"_target_: os.system\"",
              "mytarget: os.system",
              "target_sr: 16000"]
    for i, name in enumerate(names):
        key = rng.choice(KEYS)
        place = rng.randrange(5)
        if place == 0:
            body += ["m%d:" % i] + var.entry(key, name, "  ")
        elif place == 1:
            body += ["m%d:" % i, "  inner:"] + var.entry(key, name, "    ")
        elif place == 2:
            body += ["list%d:" % i, "  - x: 1", "  -"] + var.entry(key, name, "    ")
        elif place == 3:
            a = var.anchor()
            lines = var.entry(key, name, "  ")  # may add helper entries to var.top first
            var.top += ["base_%s: &%s" % (a, a)] + lines
            body += ["m%d:" % i, "  <<: *%s" % a, "  extra: 1"]
        else:
            body += ["flow%d: {x: 1, %s: %s}" % (i, key, name)]
        if rng.random() < 0.4:
            decoy = rng.choice(decoys)
            body.append(decoy.replace(":", "_%d:" % i, 1) if not decoy.startswith("#")
                        else decoy)
    # Relative interpolation: a sibling in the same mapping.
    if rng.random() < 0.3:
        name = rng.choice(names)
        body += ["rel:", "  fn: %s" % name, "  deeper:", "    _target_: ${..fn}"]
        names.append(name)
    return "\n".join(var.top + body) + "\n"


def walk_targets(cfg, path=""):
    if isinstance(cfg, DictConfig):
        items = list(cfg.items_ex(resolve=False))
    elif isinstance(cfg, ListConfig):
        items = list(enumerate(cfg._iter_ex(resolve=False)))
    else:
        return
    for key, _ in items:
        if isinstance(cfg, ListConfig):
            child = "%s[%d]" % (path, key)
        else:
            child = "%s.%s" % (path, key) if path else str(key)
        if isinstance(cfg, DictConfig) and key in KEYS:
            yield child
        node = cfg._get_node(key)
        if isinstance(node, (DictConfig, ListConfig)):
            yield from walk_targets(node, child)


def omegaconf_targets(text: str):
    """The resolved target values, or None if OmegaConf refuses the file."""
    try:
        cfg = OmegaConf.create(yaml.load(text, Loader=get_yaml_loader()))
    except Exception:  # noqa: BLE001 - a refusal is the loader's answer
        return None
    out = []
    for path in walk_targets(cfg):
        try:
            out.append(str(OmegaConf.select(cfg, path, throw_on_resolution_failure=True)))
        except Exception as e:  # noqa: BLE001
            out.append("unresolved:" + type(e).__name__)
    return out


def main() -> int:
    opts, rng, work = options(__doc__, 400, "mscan-yaml-diff-")
    failures = []
    counts = {"hostile": 0, "benign": 0, "refused": 0}
    for i in range(opts.count):
        hostile_wanted = rng.random() < 0.6
        names = [rng.choice(SAFE) for _ in range(rng.randrange(1, 4))]
        if hostile_wanted:
            names.insert(rng.randrange(len(names) + 1), rng.choice(DANGEROUS))
        text = config(rng, names)
        path = os.path.join(work, "%04d" % i, rng.choice(["model_config.yaml", "config.yaml",
                                                          "hparams.yml"]))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        seen = omegaconf_targets(text)
        if seen is None:
            counts["refused"] += 1
            continue  # nothing to compare: the loader reads nothing
        if any(v.startswith("unresolved:") for v in seen):
            failures.append((path, "generator produced an unresolved target: %r" % seen))
            continue
        hostile = any(v in DANGEROUS for v in seen)
        counts["hostile" if hostile else "benign"] += 1
        ok, rc = gate(opts.mscan, path, hostile)
        if not ok:
            failures.append((path, "OmegaConf resolves %r; mscan %s exit %d" % (
                seen, "--fail-on critical" if hostile else "default gate", rc)))
    print("%d variants: %d hostile, %d benign, %d refused by OmegaConf; %d disagree"
          % (opts.count, counts["hostile"], counts["benign"], counts["refused"],
             len(failures)))
    for path, why in failures[:20]:
        print("  %s: %s" % (path, why))
    return finish(opts, work, failures)


if __name__ == "__main__":
    sys.exit(main())
