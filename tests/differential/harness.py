"""What the grammar-variant harnesses (json_configs.py, yaml_configs.py, h5_configs.py,
savedmodel_protos.py, jinja_templates.py) share: their command line, running mscan on one
variant, and where the variants go."""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def options(doc: str, count: int, prefix: str):
    """Parses --mscan, --count, --seed, --keep; returns (options, seeded rng, work folder)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--mscan", default=os.path.join(ROOT, "build", "mscan"))
    ap.add_argument("--count", type=int, default=count)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--keep", help="write the variants into DIR and keep them")
    opts = ap.parse_args()
    work = opts.keep or tempfile.mkdtemp(prefix=prefix)
    os.makedirs(work, exist_ok=True)
    return opts, random.Random(opts.seed), work


def scan(mscan: str, path: str, *args: str) -> int:
    """mscan's exit code on one file, without any config file."""
    return subprocess.run([mscan, "--no-config", *args, path], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=60).returncode


def gate(mscan: str, path: str, hostile: bool) -> tuple[bool, int]:
    """A payload must fail --fail-on critical (exit 1); anything else must pass the default
    gate (exit 0, or 3: nothing scannable). Returns (agrees, exit code)."""
    if hostile:
        rc = scan(mscan, path, "--fail-on", "critical")
        return rc == 1, rc
    rc = scan(mscan, path)
    return rc in (0, 3), rc


def finish(opts, work: str, failures: list) -> int:
    """Removes the variants unless kept or needed to look at a failure; the exit code."""
    if not opts.keep and not failures:
        shutil.rmtree(work, ignore_errors=True)
    elif not opts.keep:
        print("variants kept in", work)
    return 1 if failures else 0
