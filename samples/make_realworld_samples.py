#!/usr/bin/env python3
"""Add bench/realworld/subset/ (files written by the real libraries) to the golden corpus.

The subset holds one or more benign files per false-alarm cause of issue 15 (see
subset.json, written by bench/realworld/make_subset.py). Each becomes a manifest entry of the
"realworld" group: benign files must stay below the default gate, so CI guards every cause.
One file is not a plain benign model and says so: a PNG named .pt is not a model at all, and
its honest verdict is format-mismatch (medium).

Nothing is written but the manifest; the files themselves are committed under
bench/realworld/subset/.

    /usr/bin/python3 samples/make_realworld_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import json
from pathlib import Path

from make_samples import MEDIUM_PLUS, update_manifest

ROOT = Path(__file__).resolve().parent.parent
SUBSET = ROOT / "bench" / "realworld" / "subset"
GROUP = "realworld"

# Files whose verdict is not "benign model" (see the module docstring).
NOT_PLAIN = {
    "notpickle__image_named.pt": ("anomaly", ["format-mismatch"], []),
}
# Not a model format at all (gensim's text word2vec named .bin): mscan skips it, which the
# golden corpus (scanned files only) cannot hold; tests/cli checks the skip.
SKIPPED = {"gensim__word2vec_text_named.bin"}


def main() -> None:
    meta = json.loads((SUBSET / "subset.json").read_text(encoding="utf-8"))
    entries = []
    for f in meta["files"]:
        name = f["file"]
        if name in SKIPPED:
            continue
        if not (SUBSET / name).exists():
            raise SystemExit(f"missing {name}")
        description = (f"{f['library']}: {f['method']}, {f['object']} ({f['note']}); "
                       f"real loader: {f['loader']} -> {f['loader_result']}; issue 15 causes "
                       f"{', '.join(str(c) for c in f['covers'])}")
        if name in NOT_PLAIN:
            kind, expect, forbid = NOT_PLAIN[name]
        else:
            kind, expect, forbid = "benign", [], [MEDIUM_PLUS]
        entries.append({
            "path": f"bench/realworld/subset/{name}",
            "kind": kind,
            "group": GROUP,
            "description": description,
            "expect": expect,
            "forbid": forbid,
        })
    update_manifest(entries, ["bench/realworld/subset/"])
    print(f"{len(entries)} manifest entries for {SUBSET}")


if __name__ == "__main__":
    main()
