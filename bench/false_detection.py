#!/usr/bin/python3
"""How many text files mscan takes for a model format (pickle first of all): run on demand.

    /usr/bin/python3 bench/false_detection.py [--mscan build/mscan] [ROOT[:GLOB] ...]

Default roots: every file under /usr/share/doc, and every *.py under
/usr/lib/python3/dist-packages. None of these is a model, so every file mscan reads as a
pickle (or any other format), and every finding at medium or above, is a false detection.
Prints per root the number of files, how many were read as each format, and how many got a
finding at medium or above, with up to 10 example paths per format.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
from pathlib import Path

DEFAULT_ROOTS = ["/usr/share/doc:**/*", "/usr/lib/python3/dist-packages:**/*.py"]
BATCH = 500
MEDIUM_PLUS = {"medium", "high", "critical"}


def files_of(spec: str) -> list[str]:
    root, _, pattern = spec.partition(":")
    return sorted(str(p) for p in Path(root).glob(pattern or "**/*")
                  if p.is_file() and not p.is_symlink())


def scan(binary: str, paths: list[str]):
    formats: dict[str, str] = {}
    flagged: set[str] = set()
    for i in range(0, len(paths), BATCH):
        batch = paths[i:i + BATCH]
        out = subprocess.run([binary, "--format", "json", *batch], capture_output=True,
                             check=False)
        report = json.loads(out.stdout)
        for f in report.get("files", []):
            if f.get("status") == "scanned":
                formats[f["path"]] = f.get("format") or "?"
        for f in report.get("findings", []):
            if f["severity"] in MEDIUM_PLUS:
                flagged.add(f["location"]["path"])
    return formats, flagged


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mscan", default="build/mscan")
    ap.add_argument("roots", nargs="*", default=DEFAULT_ROOTS)
    args = ap.parse_args()
    for spec in args.roots:
        paths = files_of(spec)
        formats, flagged = scan(args.mscan, paths)
        counts = collections.Counter(formats.values())
        print(f"{spec}: {len(paths)} files, {len(formats)} read as a model format "
              f"({dict(sorted(counts.items()))}), {len(flagged)} with a finding >= medium")
        by_format = collections.defaultdict(list)
        for path, fmt in sorted(formats.items()):
            by_format[fmt].append(path)
        for fmt, items in sorted(by_format.items()):
            for path in items[:10]:
                print(f"    {fmt}: {path}")
        for path in sorted(flagged)[:10]:
            print(f"    finding >= medium: {path}")


if __name__ == "__main__":
    main()
