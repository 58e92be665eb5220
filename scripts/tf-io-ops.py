#!/usr/bin/env python3
"""List TensorFlow ops that read, write or send data, from TensorFlow's op registry.

    python3 scripts/tf-io-ops.py PATH/TO/tensorflow/core/ops/ops.pbtxt [--commit SHA] > rules/data/tf-io-ops.json
    python3 scripts/tf-io-ops.py --self-test

ops.pbtxt (every registered op with its input_arg, output_arg and attr names, in protobuf text
format) is parsed block by block; an op is listed when one of its input_arg or attr NAMES says
that the op opens a file or talks to another host:

  file     filename, filenames, file_pattern, path, paths, prefix, checkpoint_prefixes,
           destination_prefix (checkpoint prefixes), logdir, dir, directory, db_uri (summary
           database), data_source_name (SqlDataset's SQLite file), descriptor_source
           (DecodeProtoV2/EncodeProto), memory_region_name (ImmutableConst maps that file),
           any name ending in "vocab_file" (vocabulary files, GenerateVocabRemapping) or in
           "_path" (ckpt_path of LoadAndRemapMatrix), and pattern/patterns on an op whose
           name contains "MatchingFiles" (a glob; elsewhere "pattern" is a regex)
  network  address, url, urls, debug_urls, debug_ops_spec (Copy/CopyHost: "op;grpc://url;gated"),
           any name ending in "_address" (dispatcher_address), target, server

Names deliberately NOT matched: shared_name and container (resource names in the process),
counter_prefix and other *_prefix (labels), tensor_name, filename_suffix (a suffix; its op is
listed for logdir anyway), compression_type. Output args are not looked at (an op's output is
not where it reads). Ops that read files without such a name (the queue readers, whose file
names arrive through ReaderRead) are not found this way; rules/tensorflow-ops.json keeps them
by hand.

Standard library only. The output is JSON: {"generated_by", "source", "file": [...],
"network": [...]} with each list sorted, one op name per entry.
"""

from __future__ import annotations

import json
import re
import sys

FILE_NAMES = {"filename", "filenames", "file_pattern", "path", "paths", "prefix", "logdir",
              "dir", "directory", "db_uri", "data_source_name", "descriptor_source",
              "checkpoint_prefixes", "destination_prefix", "memory_region_name"}
NETWORK_NAMES = {"address", "url", "urls", "debug_urls", "debug_ops_spec", "target", "server"}


def classify(op: str, name: str) -> str | None:
    """'file', 'network' or None for one input_arg/attr name of op."""
    if name in NETWORK_NAMES or name.endswith("_address"):
        return "network"
    if name in FILE_NAMES or name.endswith("vocab_file") or name.endswith("_path"):
        return "file"
    if name in ("pattern", "patterns") and "MatchingFiles" in op:
        return "file"
    return None


TOKEN = re.compile(r'\s*(?:(#[^\n]*)|([A-Za-z_][A-Za-z0-9_]*)|("(?:[^"\\]|\\.)*")|([{}:])|(\S+))')


def parse_ops(text: str):
    """Yield (op name, [(kind, arg/attr name)]) for each top-level `op { ... }` block."""
    depth = 0
    path: list[str] = []
    op_name = None
    names: list[tuple[str, str]] = []
    pending_key = None
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        comment, ident, string, punct, other = m.groups()
        if comment:
            continue
        if ident is not None:
            pending_key = ident
            continue
        if punct == "{":
            path.append(pending_key or "")
            pending_key = None
            depth += 1
            if depth == 1:
                op_name, names = None, []
            continue
        if punct == "}":
            depth -= 1
            path.pop()
            if depth == 0 and op_name:
                yield op_name, names
            continue
        if punct == ":":
            continue
        if string is not None and pending_key == "name":
            value = json.loads(string) if "\\" not in string else string[1:-1]
            if path == ["op"]:
                op_name = value
            elif len(path) == 2 and path[0] == "op" and path[1] in ("input_arg", "attr"):
                names.append((path[1], value))
        pending_key = None


def derive(text: str):
    out = {"file": set(), "network": set()}
    for op, names in parse_ops(text):
        for _kind, name in names:
            c = classify(op, name)
            if c:
                out[c].add(op)
    out["file"] -= out["network"]  # an op that does both is reported as network
    return {k: sorted(v) for k, v in out.items()}


SELF_TEST = '''
op {
  name: "CacheDataset"
  input_arg { name: "input_dataset" type: DT_VARIANT }
  input_arg { name: "filename" type: DT_STRING }
  output_arg { name: "handle" type: DT_VARIANT }
}
op {
  name: "Conv2D"
  input_arg { name: "input" type_attr: "T" }
  attr { name: "padding" type: "string" }
}
op {
  name: "DebugIdentity"
  input_arg { name: "input" type_attr: "T" }
  attr { name: "debug_urls" type: "list(string)" default_value { list { } } }
}
op {
  name: "ExperimentalMatchingFilesDataset"
  input_arg { name: "patterns" type: DT_STRING }
}
op {
  name: "StaticRegexFullMatch"
  input_arg { name: "input" type: DT_STRING }
  attr { name: "pattern" type: "string" }
}
op {
  name: "GenerateVocabRemapping"
  input_arg { name: "new_vocab_file" type: DT_STRING }
  input_arg { name: "old_vocab_file" type: DT_STRING }
}
op {
  name: "ExperimentalSetStatsAggregatorDataset"
  input_arg { name: "counter_prefix" type: DT_STRING }
  attr { name: "shared_name" type: "string" }
}
op {
  name: "Copy"
  attr { name: "debug_ops_spec" type: "list(string)" }
}
'''


def self_test() -> int:
    got = derive(SELF_TEST)
    want = {"file": ["CacheDataset", "ExperimentalMatchingFilesDataset",
                     "GenerateVocabRemapping"],
            "network": ["Copy", "DebugIdentity"]}
    if got != want:
        print(f"self-test FAILED: {got} != {want}", file=sys.stderr)
        return 1
    print("self-test ok")
    return 0


def main(argv: list[str]) -> int:
    if argv[1:2] == ["--self-test"]:
        return self_test()
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    commit = argv[argv.index("--commit") + 1] if "--commit" in argv else "unknown"
    with open(argv[1], encoding="utf-8") as f:
        lists = derive(f.read())
    doc = {"generated_by": "scripts/tf-io-ops.py",
           "source": f"tensorflow/core/ops/ops.pbtxt at commit {commit}; do not edit by hand",
           **lists}
    print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
