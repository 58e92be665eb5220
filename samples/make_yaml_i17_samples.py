#!/usr/bin/python3
"""Write the YAML-config samples of issue 17 (samples/yaml-i17/) and their manifest entries.

Each hostile sample is a Hydra / NeMo config whose `_target_`, `target` or `cls` resolves to a
dangerous callable, written the ways the YAML grammar and OmegaConf's interpolations allow and
a line matcher does not see: the value on the next line, block scalars, quoted keys with
escapes, `? key`, `!!str`, aliases, `<<` merges, absolute, relative, nested and string
interpolations, `oc.select` and `oc.env` defaults. Others compute the name where mscan cannot
follow (`oc.env` without a default, `oc.decode`, a missing key) or hide it past a parse error.
The benign ones are real-shaped NeMo configs full of interpolations whose targets resolve to
framework classes.

Every sample is checked here with the real loader's reading: OmegaConf.load (PyYAML's
SafeLoader underneath) and OmegaConf's own interpolation resolution of each target value.
Nothing is instantiated: resolving an interpolation only reads the config (and, for oc.env, the
environment). Needs /usr/bin/python3 with python3-omegaconf (Debian).

    /usr/bin/python3 samples/make_yaml_i17_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf

from make_samples import MEDIUM_PLUS, ROOT, update_manifest

OUT = Path(__file__).resolve().parent / "yaml-i17"
GROUP = "yaml-i17"
TARGET_KEYS = ("_target_", "target", "cls")
UNSET = "MSCAN_SAMPLE_UNSET_VARIABLE"
EXEC = ["process-execution"]
UNRESOLVED = ["hydra-target-not-checked"]

NEMO = """\
name: Conformer-CTC
sample_rate: 16000
model:
  sample_rate: ${sample_rate}
  preprocessor:
    _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor
    sample_rate: ${model.sample_rate}
    window_size: 0.025
  encoder:
    _target_: nemo.collections.asr.modules.ConformerEncoder
    feat_in: ${model.preprocessor.features}
    d_model: 256
  optim:
    name: adamw
    lr: 2.0
    sched:
      name: NoamAnnealing
      d_model: ${model.encoder.d_model}
      warmup_steps: 10000
"""

# (kind, file name, description, expected rules, text)
SAMPLES: list[tuple[str, str, str, list[str], str]] = [
    ("hostile", "next_line.yaml", "_target_ with its value on the next line", EXEC,
     "model:\n  _target_:\n    os.system\n  command: id\n"),
    ("hostile", "folded_block.yaml", "_target_ as a folded block scalar (>-)", EXEC,
     "model:\n  _target_: >-\n    os.system\n"),
    ("hostile", "literal_block.yaml", "_target_ as a literal block scalar (|-)", EXEC,
     "model:\n  _target_: |-\n    subprocess.getoutput\n"),
    ("hostile", "alias_value.yaml", "the value is an alias of an anchored scalar", EXEC,
     "defaults: &fn os.system\nmodel:\n  _target_: *fn\n"),
    ("hostile", "alias_key.yaml", "the key is an alias of an anchored '_target_' scalar", EXEC,
     "keys: [&k _target_]\nmodel:\n  *k : os.system\n"),
    ("hostile", "str_tag.yaml", "key and value tagged !!str", EXEC,
     "model:\n  !!str _target_: !!str os.system\n"),
    ("hostile", "escaped_quotes.yaml", "a double-quoted key and value with \\x and \\u escapes",
     EXEC, 'model:\n  "\\x5ftarget\\x5f": "os.sys\\u0074em"\n'),
    ("hostile", "explicit_key.yaml", "an explicit '? _target_' entry", EXEC,
     "model:\n  ? _target_\n  : os.system\n"),
    ("hostile", "merge_key.yaml", "the target merged in from an anchored mapping by <<", EXEC,
     "base: &base\n  _target_: os.system\nmodel:\n  <<: *base\n  command: id\n"),
    ("hostile", "flow_multiline.yaml", "a flow mapping spread over lines", EXEC,
     "model: {command: id,\n  _target_:\n    os.system}\n"),
    ("hostile", "interp_absolute.yaml", "_target_: ${fn}, an absolute interpolation", EXEC,
     "fn: os.system\nmodel:\n  _target_: ${fn}\n"),
    ("hostile", "interp_relative.yaml", "_target_: ${..fn}, a relative interpolation", EXEC,
     "model:\n  fn: os.system\n  inner:\n    _target_: ${..fn}\n"),
    ("hostile", "interp_string.yaml", "_target_ built by string interpolation: ${mod}.${fn}",
     EXEC, "mod: os\nfn: system\nmodel:\n  _target_: ${mod}.${fn}\n"),
    ("hostile", "interp_nested.yaml", "a nested interpolation ${${key}}", EXEC,
     "key: impl\nimpl: os.system\nmodel:\n  _target_: ${${key}}\n"),
    ("hostile", "interp_list_merge.yaml",
     "an interpolation into a list item of a merged mapping: ${cfg.names[1]}", EXEC,
     "shared: &s\n  names: [torch.nn.Linear, os.system]\ncfg:\n  <<: *s\nmodel:\n"
     "  _target_: ${cfg.names[1]}\n"),
    ("hostile", "oc_select_default.yaml", "${oc.select:missing,os.system}: the default",
     EXEC, "model:\n  _target_: ${oc.select:nothing.here,os.system}\n"),
    ("hostile", "env_default.yaml",
     "${oc.env:VAR,os.system}: os.system when the variable is not set; the variable otherwise",
     EXEC + UNRESOLVED, f"model:\n  _target_: ${{oc.env:{UNSET},os.system}}\n"),
    ("hostile", "nemo_cls.yaml", "NeMo's cls key, in a list of flow mappings", EXEC,
     "callbacks:\n  - {cls: nemo.utils.callbacks.Dummy}\n  - {cls: subprocess.Popen}\n"),
    ("hostile", "python_tag.yaml",
     "a !!python/object/apply tag: what PyYAML's unsafe loaders call (OmegaConf refuses it)",
     EXEC, 'setup: !!python/object/apply:os.system ["id"]\n'),
    ("hostile", "env_resolver.yaml", "${oc.env:VAR} without a default: the environment decides",
     UNRESOLVED, f"model:\n  _target_: ${{oc.env:{UNSET}}}\n"),
    ("hostile", "decode_resolver.yaml", "${oc.decode:...}: a resolver mscan does not run",
     UNRESOLVED, "model:\n  _target_: ${oc.decode:'os.system'}\n"),
    ("hostile", "missing_key.yaml", "an interpolation of a key the document does not have",
     UNRESOLVED, "model:\n  _target_: ${plugins.impl}\n"),
    ("hostile", "broken_after_target.yaml",
     "a YAML error (a tab in the indentation) before a _target_ key: PyYAML refuses the file, "
     "and the unread part spells a target", UNRESOLVED,
     "model:\n  name: x\n\t_target_: os.system\n"),
    ("anomaly", "unterminated.yaml", "an unterminated quoted scalar: PyYAML refuses the file",
     ["yaml-malformed"], 'model:\n  name: "unterminated\n'),
    ("benign", "nemo_interpolations.yaml",
     "a NeMo-shaped config full of interpolations; its targets are NeMo classes", [], NEMO),
    ("benign", "interp_framework_target.yaml",
     "a target given by interpolation that resolves to a NeMo class", [],
     "classes:\n  enc: nemo.collections.asr.modules.ConformerEncoder\nmodel:\n"
     "  encoder:\n    _target_: ${classes.enc}\n"),
    ("benign", "escaped_interpolation.yaml",
     "an escaped \\${...}: the literal text, not a name; and target words in strings and "
     "comments", [],
     "model:\n  _target_: nemo.collections.asr.models.EncDecCTCModel\n"
     "  note: \\${os.system}\n  text: \"_target_: os.system\"  # _target_: os.system\n"
     "  target: 0.5\n  cls: labels\n  sub:\n    _target_: \\${os.system}\n"),
]


def walk_targets(cfg, path=""):
    """(path, key) of every target key of an OmegaConf container, without resolving."""
    if isinstance(cfg, DictConfig):
        items = cfg.items_ex(resolve=False)
    elif isinstance(cfg, ListConfig):
        items = enumerate(cfg._iter_ex(resolve=False))
    else:
        return
    for key, _ in items:
        child = f"{path}.{key}" if path and isinstance(cfg, DictConfig) else (
            f"{path}[{key}]" if isinstance(cfg, ListConfig) else str(key))
        if isinstance(cfg, DictConfig) and key in TARGET_KEYS:
            yield child
        node = cfg._get_node(key)
        if isinstance(node, (DictConfig, ListConfig)):
            yield from walk_targets(node, child)


def loader_view(text: str):
    """What OmegaConf makes of the text: the resolved target values (or the error), or the
    load error. Python tags are only composed (never constructed)."""
    try:
        cfg = OmegaConf.create(yaml.load(text, Loader=OmegaConf_loader()))
    except Exception as e:  # noqa: BLE001 - any refusal is the loader's answer
        return "refused", type(e).__name__
    values = {}
    for path in walk_targets(cfg):
        try:
            values[path] = OmegaConf.select(cfg, path, throw_on_resolution_failure=True)
        except Exception as e:  # noqa: BLE001
            values[path] = "unresolved:" + type(e).__name__
    return "loaded", values


def OmegaConf_loader():  # noqa: N802 - OmegaConf's own loader class
    from omegaconf._utils import get_yaml_loader
    return get_yaml_loader()


DANGEROUS = {"os.system", "subprocess.getoutput", "subprocess.Popen"}


def check_with_omegaconf(kind: str, name: str, text: str, expect: list[str]) -> None:
    os.environ.pop(UNSET, None)
    state, view = loader_view(text)
    if name == "python_tag.yaml":
        # OmegaConf's SafeLoader refuses the tag; composing (not constructing) shows it.
        assert state == "refused", (name, view)
        node = yaml.compose(text)
        assert node.value[0][1].tag == "tag:yaml.org,2002:python/object/apply:os.system"
        return
    if name in ("broken_after_target.yaml", "unterminated.yaml"):
        assert state == "refused", (name, view)
        return
    assert state == "loaded", (name, view)
    resolved = set(map(str, view.values()))
    if kind == "hostile" and "process-execution" in expect:
        assert resolved & DANGEROUS, (name, view)
    elif kind == "hostile":
        assert any(v.startswith("unresolved:") or v.startswith("os.") for v in resolved) or \
            name == "env_resolver.yaml", (name, view)
    else:
        assert not resolved & DANGEROUS, (name, view)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    entries = []
    for kind, name, description, expect, text in SAMPLES:
        check_with_omegaconf(kind, name, text, expect)
        path = OUT / kind / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        entries.append({"path": path.relative_to(ROOT).as_posix(), "kind": kind,
                        "group": GROUP, "description": description, "expect": expect,
                        "forbid": [MEDIUM_PLUS] if kind == "benign" else []})
    update_manifest(entries, ["samples/yaml-i17/"])
    print(f"wrote {len(entries)} samples under {OUT}")


if __name__ == "__main__":
    main()
