#!/usr/bin/python3
"""Differential harness for container formats: what the real loader does against mscan's verdict.

    /usr/bin/python3 tests/differential/run.py [--mscan build/mscan] [--out DIR] [--keep]
                                               [--only PATTERN] [--timeout S] [--list]

Run on demand, not in CI: it needs Debian's Python ML stack (python3-torch, python3-numpy,
python3-joblib, python3-py7zr).

For each case in cases.py (torch zip, numpy .npz, joblib, tar/7z and nested variants) it writes
the file, loads it with the real loader in a forked child under bench/realworld/loadcheck.py's
audit hook, and scans it with mscan twice: `--fail-on critical` (with --format json, for the
findings) and the default gate. loadcheck's hook raises at the first process, native-code or
network event and only records code built at load time and file writes outside /tmp; the child
here adds a hook that raises at those recorded events too, so it stops at the first dangerous
event of any kind, before it happens.

Archives that the user unpacks first (tar, zip, 7z: loader specs `tar|MEMBER|...`) are
extracted with extractall into a fresh folder under /tmp; a second audit hook, active only while
unpacking, stops at the first write that lands outside that folder (through a symlink, or a
`../` name) and reports it as a file-write event.

A row FAILS when:
  - the loader reached a dangerous event and mscan passes the gate for it: `--fail-on critical`
    for process, native-code, network and code events, `--fail-on high` (read from the JSON
    findings) for file writes. "Passes" is exit 0, or exit 3 (nothing scannable), which CI
    scripts are told they may accept;
  - a benign file (written by the library from harmless data) loads without any event and the
    default gate does not exit 0;
  - a `flag` file (harmless to this loader, unsafe to unpack) passes the default gate (0 or 3);
  - the case could not be checked: its file could not be written, the loader timed out, or a
    benign file reached a dangerous event (a harness bug).
A loader that refuses a hostile file (raises before the payload) is never a failing row,
whatever mscan says; the row says so.

Output: a table on stdout, a JSON report (OUT/report.json, or --report FILE); exit status 1 if
any row fails, 0 otherwise, 4 on a usage error.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench", "realworld"))
sys.path.insert(0, HERE)

import loadcheck  # noqa: E402  (bench/realworld/loadcheck.py: the child loader and audit hook)
import cases  # noqa: E402

SEVERITIES = ["info", "low", "medium", "high", "critical"]
MSCAN_TIMEOUT = 300  # seconds per mscan run; a scan of one of these files takes well under 2
# libraries the loaders below use, imported once in the parent before children fork (imports
# raise many harmless audit events; the children then load with everything already imported)
LOADER_LIBS = ["numpy", "pickle", "torch", "joblib", "py7zr", "tarfile", "zipfile"]

# --------------------------------------------------------------------------------------------
# The child's side: loaders that unpack first, added in front of loadcheck.load, and the extra
# audit hooks. These run in the forked child only (audit hooks cannot be removed).

EXTRACT_BASE = "/tmp"  # set by main() to a fresh folder under /tmp before any child forks
_unpack_roots: list[str] = []  # the folder being unpacked into, while an extractall runs
_containment_installed = False


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _write_target(event: str, args: tuple) -> str | None:
    """The real path an unpacking event writes to, or None if the event writes nothing.
    open and mkdir follow symlinks in every component; the others act on the last component
    itself (a link is replaced or re-owned, not followed), so only its folder is resolved."""
    def real(p):
        return os.path.realpath(os.fsdecode(p))

    def real_parent(p):
        p = os.fsdecode(p)
        return os.path.join(os.path.realpath(os.path.dirname(os.path.abspath(p))),
                            os.path.basename(p))

    if event == "open":
        path, mode, flags = (list(args) + [None, None, None])[:3]
        if isinstance(path, int) or path is None:
            return None
        wmode = isinstance(mode, str) and any(ch in mode for ch in "wax+")
        wflags = isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        return real(path) if (wmode or wflags) else None
    if event == "os.mkdir":
        return real(args[0])
    if event in ("os.symlink", "os.link", "os.rename", "os.replace"):
        return real_parent(args[1])
    if event in ("os.remove", "os.unlink", "os.rmdir", "os.chmod", "os.chown"):
        return None if isinstance(args[0], int) else real_parent(args[0])
    return None


def _containment_hook(event: str, args: tuple) -> None:
    if not _unpack_roots:
        return
    try:
        target = _write_target(event, args)
    except Exception:  # noqa: BLE001 - a path we cannot resolve is not a reason to fail
        return
    if target is not None and not _inside(target, _unpack_roots[-1]):
        raise loadcheck.Dangerous(f"file-write outside the extraction folder: {event} {target}")


def extract(op: str, archive: str) -> str:
    """Unpack the whole archive as a user would; returns the folder."""
    global _containment_installed
    if not _containment_installed:
        sys.addaudithook(_containment_hook)
        _containment_installed = True
    root = os.path.realpath(tempfile.mkdtemp(prefix="x-", dir=EXTRACT_BASE))
    _unpack_roots.append(root)
    try:
        if op == "tar":
            import tarfile
            with tarfile.open(archive) as tf:
                tf.extractall(root)
        elif op == "zip":
            import zipfile
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(root)
        elif op == "7z":
            import py7zr
            with py7zr.SevenZipFile(archive, "r") as z:
                z.extractall(root)
        else:
            raise ValueError(f"unknown unpack step {op}")
    finally:
        _unpack_roots.pop()
    return root


_stop_hook_installed = False


def stop_at_recorded_events() -> None:
    """loadcheck's hook raises at process, native-code and network events, and only records
    code built at load time and file writes outside /tmp. A second copy of that hook, recording
    into a list of ours, and a hook after it that raises as soon as the list grows, make the
    child stop at those too, before the code runs or the file is written (same classification,
    no copy of it here)."""
    global _stop_hook_installed
    if _stop_hook_installed:
        return
    _stop_hook_installed = True
    recorded: list[dict] = []
    done = [0]
    loadcheck.install_hook(recorded)

    def raise_on_new(event, args):
        if len(recorded) > done[0]:
            ev = recorded[done[0]]
            done[0] = len(recorded)
            if not unpacking_link(ev):
                raise loadcheck.Dangerous(f"{ev['event']} ({ev['kind']})")

    sys.addaudithook(raise_on_new)


def unpacking_link(ev: dict) -> bool:
    """loadcheck's hook counts os.symlink by its first argument, the link's target text (a
    relative target is taken against the child's working folder). While unpacking, what is
    written is the link itself (the second argument), and the containment hook judges that and
    any write through it; so links created inside the extraction folder are not events here."""
    return ev.get("event") == "os.symlink" and EXTRACT_BASE + "/" in ev.get("detail", "")


_loadcheck_load = loadcheck.load


def load(path: str, loader: str) -> str:
    """loadcheck.load, plus `OP|MEMBER|REST`: unpack with OP, then load MEMBER with REST."""
    stop_at_recorded_events()
    if "|" in loader:
        op, member, rest = loader.split("|", 2)
        return load(os.path.join(extract(op, path), member), rest)
    return _loadcheck_load(path, loader)


def install_loader() -> None:
    # loadcheck.child_run calls the module-level name `load`: ours wraps it
    loadcheck.load = load


# --------------------------------------------------------------------------------------------
# The parent: write, load in a child, scan, compare


def loader_outcome(res: dict) -> dict:
    """loadcheck's child result as {status, event, kind, detail}; status is ok, error (the
    loader raised: it refused the file), timeout or dangerous."""
    events = [e for e in res.get("events", []) if not unpacking_link(e)]
    error = res.get("error", "")
    status = res.get("status", "error")
    if status == "dangerous" and not events and not error.startswith("stopped at "):
        status = "ok" if "loaded" in res else "error"  # only unpacking links were recorded
    out = {"status": status, "event": None, "kind": None, "detail": error}
    if status != "dangerous":
        return out
    if events:  # loadcheck's record: process/native/network, code or file-write
        ev = events[0]
        out.update(event=ev["event"], kind=ev["kind"], detail=ev.get("detail", ""))
    elif "file-write outside the extraction folder" in error:  # the containment hook
        out.update(event="write-escape", kind="file-write")
    else:
        out.update(event=error.removeprefix("stopped at "), kind="process/native/network")
    return out


def run_mscan(mscan: str, cwd: str, rel: str) -> dict:
    """Two scans: `--fail-on critical` with the JSON report (all findings are in it, whatever
    the gate), and the default gate. --no-config: no mscan.toml found above OUT changes them."""
    def scan(*opts):
        try:
            return subprocess.run([mscan, "--no-config", *opts, "--", rel], cwd=cwd,
                                  capture_output=True, timeout=MSCAN_TIMEOUT)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess([], None, b"", b"timed out")

    crit = scan("--format", "json", "--fail-on", "critical")
    default = scan()
    out = {"critical_exit": crit.returncode, "default_exit": default.returncode,
           "findings": [], "files": [], "errors": []}
    try:
        report = json.loads(crit.stdout)
    except ValueError:
        out["errors"].append(f"no JSON report: {crit.stderr.decode(errors='replace')[-300:]}")
        return out
    out["findings"] = [{"rule_id": f["rule_id"], "severity": f["severity"],
                        "subject": f.get("subject"), "chain": f["location"].get("chain")}
                       for f in report.get("findings", [])]
    out["files"] = [{k: f.get(k) for k in ("path", "status", "format")}
                    for f in report.get("files", [])]
    out["skipped"] = report.get("skipped", [])
    out["errors"] += report.get("errors", [])
    return out


def worst(findings: list[dict]) -> dict | None:
    return max(findings, key=lambda f: SEVERITIES.index(f["severity"]), default=None)


def judge(case: cases.Case, lo: dict, ms: dict) -> tuple[bool, str]:
    """(failing, reason) for one row."""
    crit, dflt = ms["critical_exit"], ms["default_exit"]
    for code in (crit, dflt):
        if code is None or code < 0 or code == 4:  # timed out, killed by a signal, usage error
            return True, f"mscan did not give a verdict (exit {code}): not checked"
    if case.expected == "payload":
        if lo["status"] == "dangerous":
            if lo["kind"] == "file-write":
                high = [f for f in ms["findings"] if f["severity"] in ("high", "critical")]
                if not high and crit in (0, 3):
                    return True, f"loader reached {lo['event']}; mscan has no HIGH finding"
                return False, "loader reached the payload; mscan fails --fail-on high"
            if crit in (0, 3):
                return True, (f"loader reached {lo['event']}; mscan passes --fail-on critical "
                              f"(exit {crit})")
            return False, "loader reached the payload; mscan fails --fail-on critical"
        if lo["status"] == "timeout":
            return True, "loader timed out: not checked"
        what = "refused it" if lo["status"] == "error" else "loaded it without reaching the payload"
        said = "fails" if crit not in (0, 3) else "passes"
        return False, f"loader {what}; mscan {said} --fail-on critical (not a failing row)"
    if case.expected == "benign":
        if lo["status"] == "ok":
            if dflt != 0:
                return True, f"benign file loads harmlessly; mscan default gate exits {dflt}"
            return False, "benign; mscan passes the default gate"
        if lo["status"] == "dangerous":
            return True, f"harness bug: benign file reached {lo['event']}"
        if lo["status"] == "timeout":
            return True, "loader timed out: not checked"
        return False, f"loader refused the benign file; mscan default gate exits {dflt}"
    if case.expected == "flag":
        if dflt in (0, 3):
            return True, f"unsafe to unpack; mscan default gate exits {dflt}"
        return False, f"unsafe to unpack; mscan default gate exits {dflt}"
    raise ValueError(case.expected)


def short_outcome(lo: dict) -> str:
    if lo["status"] == "dangerous":
        return f"REACHED {lo['event']}"
    if lo["status"] == "ok":
        return "loaded"
    if lo["status"] == "error":
        return "refused: " + lo["detail"].split(":")[0][:22]
    return lo["status"]


def select(all_cases: list[cases.Case], pattern: str | None) -> list[cases.Case]:
    if not pattern:
        return all_cases
    if any(ch in pattern for ch in "*?["):
        return [c for c in all_cases if fnmatch.fnmatchcase(c.name, pattern)]
    return [c for c in all_cases if pattern in c.name]


def print_table(rows: list[dict]) -> None:
    head = ["case", "exp", "loader outcome", "crit", "dflt", "worst mscan finding", "verdict"]
    cells = []
    for r in rows:
        w = worst(r["mscan"]["findings"])
        cells.append([r["name"], r["expected"], short_outcome(r["loader_outcome"]),
                      str(r["mscan"]["critical_exit"]), str(r["mscan"]["default_exit"]),
                      f"{w['severity']} {w['rule_id']}" if w else "-",
                      ("FAIL: " if r["failing"] else "ok: ") + r["reason"]])
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h)
              for i, h in enumerate(head)]
    widths[-1] = 0  # the verdict runs to the end of the line
    for line in [head] + cells:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mscan", default=os.path.join(ROOT, "build", "mscan"))
    ap.add_argument("--out", help="folder for the case files and the report (default: a new "
                    "temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the case files (default: only "
                    "the report is kept)")
    ap.add_argument("--only", metavar="PATTERN", help="cases whose name contains PATTERN, or "
                    "matches it as a glob if it has * ? [")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per loader child")
    ap.add_argument("--report", help="JSON report path (default OUT/report.json)")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args()

    todo = select(cases.all_cases(), args.only)
    if args.list:
        for c in todo:
            print(f"{c.name:40} {c.expected:8} {c.loader:30} {c.note}")
        return 0
    if not todo:
        print(f"no case matches {args.only!r}", file=sys.stderr)
        return 4
    mscan = os.path.abspath(args.mscan)
    if not os.access(mscan, os.X_OK):
        print(f"mscan binary not found: {mscan} (build it: cmake --build build -j2)",
              file=sys.stderr)
        return 4

    t_start = time.time()
    out = os.path.abspath(args.out or tempfile.mkdtemp(prefix="mscan-differential-"))
    case_dir = os.path.join(out, "cases")
    os.makedirs(case_dir, exist_ok=True)
    report_path = os.path.abspath(args.report or os.path.join(out, "report.json"))

    global EXTRACT_BASE
    EXTRACT_BASE = tempfile.mkdtemp(prefix="mscan-differential-unpack-", dir="/tmp")
    loadcheck.LOADER_LIBS = LOADER_LIBS  # import only what these loaders need
    loadcheck.import_libs()
    install_loader()

    rows = []
    try:
        for c in todo:
            row = {"name": c.name, "family": c.family, "expected": c.expected,
                   "loader": c.loader, "note": c.note, "file": os.path.join(case_dir, c.filename)}
            try:
                data = c.write()
                with open(row["file"], "wb") as f:
                    f.write(data)
                row["size"] = len(data)
            except Exception as exc:  # noqa: BLE001 - a case we cannot write is a failing row
                row.update(size=None, failing=True, reason=f"could not write the case: {exc!r}",
                           loader_outcome={"status": "not-run", "event": None, "kind": None,
                                           "detail": ""},
                           mscan={"critical_exit": None, "default_exit": None, "findings": []})
                rows.append(row)
                print(f"  {c.name}: not written: {exc!r}", file=sys.stderr)
                continue
            t0 = time.time()
            res = loadcheck.run_forked(row["file"], c.loader, args.timeout)
            row["loader_seconds"] = round(time.time() - t0, 2)
            row["loader_outcome"] = loader_outcome(res)
            t0 = time.time()
            row["mscan"] = run_mscan(mscan, case_dir, c.filename)
            row["mscan_seconds"] = round(time.time() - t0, 2)
            row["failing"], row["reason"] = judge(c, row["loader_outcome"], row["mscan"])
            rows.append(row)
    finally:
        shutil.rmtree(EXTRACT_BASE, ignore_errors=True)

    print_table(rows)
    failing = [r for r in rows if r["failing"]]
    seconds = round(time.time() - t_start, 1)
    summary = {"cases": len(rows), "failing": len(failing), "seconds": seconds,
               "by_family": {}}
    for r in rows:
        fam = summary["by_family"].setdefault(r["family"], {"cases": 0, "failing": 0})
        fam["cases"] += 1
        fam["failing"] += r["failing"]
    version = subprocess.run([mscan, "--version"], capture_output=True, text=True).stdout.strip()
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(mscan)))
    report = {"mscan": mscan, "mscan_version": version, "mscan_modified": built,
              "python": platform.python_version(),
              "libraries": lib_versions(), "summary": summary,
              "cases": sorted(rows, key=lambda r: r["name"])}
    os.makedirs(os.path.dirname(report_path), exist_ok=True)
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
    if not args.keep:
        shutil.rmtree(case_dir, ignore_errors=True)
    print(f"\n{len(rows)} cases, {len(failing)} failing, {seconds} s. Report: {report_path}"
          + (f"; files: {case_dir}" if args.keep else ""))
    return 1 if failing else 0


def lib_versions() -> dict:
    out = {}
    for name in ("torch", "numpy", "joblib", "py7zr"):
        try:
            out[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001
            out[name] = None
    return out


if __name__ == "__main__":
    sys.exit(main())
