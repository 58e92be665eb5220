#!/usr/bin/python3
"""Run mscan over a generate.py output and count its verdicts per library and save method.

    python3 bench/realworld/run.py OUTDIR [--mscan PATH] [--top N]

Runs `mscan --format json --no-config -j2` on every file listed in OUTDIR/manifest.json (from
OUTDIR, with relative paths, so the report does not depend on where OUTDIR is), saves the report
and a per-file summary to OUTDIR/results.json, and prints Markdown tables (sorted, deterministic):

  - per library and save method: files, files failing the default gate (a finding at medium or
    above), files with a HIGH or CRITICAL finding, files not read (skipped or errored by mscan),
    and the top causes there;
  - totals, and the top causes overall: rule id + subject, counted once per file (at medium or
    above), with the worst severity seen;
  - the files mscan did not read (skipped: "not a model format"; error);
  - if OUTDIR/loadcheck.json exists (loadcheck.py), how many files the real loaders flagged.

All these files are benign (written by the real libraries, loaded by them without a dangerous
event), so every file failing the gate is a false alarm and every file not read is a gap.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import time

SEV = ["info", "low", "medium", "high", "critical"]
RANK = {s: i for i, s in enumerate(SEV)}


def cause(f):
    return f"{f['rule_id']} {f['subject']}"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--mscan", default=os.path.join(here, "..", "..", "build", "mscan"))
    ap.add_argument("--top", type=int, default=20, help="top causes listed overall")
    ap.add_argument("--reuse", action="store_true", help="do not run mscan; read results.json")
    args = ap.parse_args()
    out = os.path.abspath(args.outdir)
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    files = manifest["files"]
    paths = [e["path"] for e in files]
    res_path = os.path.join(out, "results.json")
    if args.reuse:
        with open(res_path) as f:
            report = json.load(f)["report"]
        wall = None
    else:
        mscan = os.path.abspath(args.mscan)
        cmd = [mscan, "--format", "json", "--no-config", "-j2", "--fail-on", "medium", "--"]
        t0 = time.time()
        p = subprocess.run(cmd + paths, cwd=out, capture_output=True)
        wall = time.time() - t0
        if p.returncode not in (0, 1, 2, 3):
            sys.stderr.write(p.stderr.decode(errors="replace"))
            sys.exit(f"mscan exited {p.returncode}")
        report = json.loads(p.stdout)
        version = subprocess.run([mscan, "--version"], capture_output=True, text=True).stdout.strip()
        commit = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        report_meta = {"mscan": version, "commit": commit, "exit_code": p.returncode}

    status = {fe["path"]: fe["status"] for fe in report["files"]}
    fmt = {fe["path"]: fe["format"] for fe in report["files"]}
    by_file = collections.defaultdict(list)
    for fnd in report["findings"]:
        by_file[fnd["location"]["path"]].append(fnd)
    reasons = {s["path"]: s["reason"] for s in report.get("skipped", [])}
    reasons.update({e["path"]: e["reason"] for e in report.get("errors", [])})

    per_file = {}
    for e in files:
        p = e["path"]
        fl = [f for f in by_file.get(p, []) if f.get("suppressed") is None]
        worst = max((RANK[f["severity"]] for f in fl), default=-1)
        gate = sorted({cause(f) for f in fl if RANK[f["severity"]] >= RANK["medium"]})
        per_file[p] = {
            "library": e["library"], "method": e["method"], "loader": e["loader"],
            "status": status.get(p, "missing"), "format": fmt.get(p),
            "worst": SEV[worst] if worst >= 0 else None,
            "fails_default_gate": worst >= RANK["medium"],
            "high_or_critical": worst >= RANK["high"],
            "causes": gate,
            "reason": reasons.get(p),
        }

    loadcheck = None  # loadcheck.json, and loadcheck-*.json of runs split with --only/--exclude
    for lc_name in sorted(os.listdir(out)):
        if lc_name.startswith("loadcheck") and lc_name.endswith(".json"):
            with open(os.path.join(out, lc_name)) as f:
                part = json.load(f)
            if loadcheck is None:
                loadcheck = {"files": {}}
            loadcheck["files"].update(part["files"])
    if not args.reuse:
        with open(res_path, "w") as f:
            json.dump({"meta": report_meta, "per_file": per_file, "report": report}, f,
                      indent=1, sort_keys=True)

    # worst severity per cause (over files where it was at medium+)
    cause_sev = {}
    for p, fl in by_file.items():
        for fnd in fl:
            if RANK[fnd["severity"]] >= RANK["medium"]:
                c = cause(fnd)
                cause_sev[c] = max(cause_sev.get(c, 0), RANK[fnd["severity"]])

    groups = collections.defaultdict(list)
    for p, r in per_file.items():
        groups[(r["library"], r["method"])].append(r)

    def row(rs):
        n = len(rs)
        fail = sum(r["fails_default_gate"] for r in rs)
        hc = sum(r["high_or_critical"] for r in rs)
        nr = sum(r["status"] != "scanned" for r in rs)
        return n, fail, hc, nr

    def top_causes(rs, k):
        c = collections.Counter(x for r in rs for x in r["causes"])
        return sorted(c.items(), key=lambda t: (-t[1], t[0]))[:k]

    w = sys.stdout.write
    w("| library | save method | files | fail default gate | HIGH/CRITICAL | not read | top causes (files) |\n")
    w("|---|---|---:|---:|---:|---:|---|\n")
    for (lib, meth) in sorted(groups):
        rs = groups[(lib, meth)]
        n, fail, hc, nr = row(rs)
        tc = "; ".join(f"`{c}` ({k})" for c, k in top_causes(rs, 3)) or "—"
        w(f"| {lib} | {meth} | {n} | {fail} | {hc} | {nr} | {tc} |\n")
    w("\n| library | files | fail default gate | HIGH/CRITICAL | not read |\n")
    w("|---|---:|---:|---:|---:|\n")
    libs = collections.defaultdict(list)
    for r in per_file.values():
        libs[r["library"]].append(r)
    for lib in sorted(libs):
        n, fail, hc, nr = row(libs[lib])
        w(f"| {lib} | {n} | {fail} | {hc} | {nr} |\n")
    all_rs = list(per_file.values())
    n, fail, hc, nr = row(all_rs)
    w(f"| **total** | **{n}** | **{fail} ({100.0 * fail / max(n, 1):.1f} %)** | "
      f"**{hc} ({100.0 * hc / max(n, 1):.1f} %)** | **{nr}** |\n")

    w(f"\nTop {args.top} causes (rule id + subject; files where it is at medium or above; worst "
      f"severity):\n\n| # | cause | files | worst |\n|---:|---|---:|---|\n")
    for i, (c, k) in enumerate(top_causes(all_rs, args.top), 1):
        w(f"| {i} | `{c}` | {k} | {SEV[cause_sev[c]].upper()} |\n")
    ncauses = len({x for r in all_rs for x in r["causes"]})
    w(f"\n{ncauses} distinct causes in all.\n")

    nr_list = sorted((p, r) for p, r in per_file.items() if r["status"] != "scanned")
    w(f"\nFiles mscan did not read ({len(nr_list)}):\n\n")
    for p, r in nr_list:
        w(f"- `{p}`: {r['status']}: {r['reason']}\n")

    if loadcheck is not None:
        lf = loadcheck["files"]
        st = collections.Counter(lf.get(p, {}).get("status", "not checked") for p in per_file)
        w(f"\nReal loaders under the audit hook (loadcheck.json): "
          + ", ".join(f"{k}: {v}" for k, v in sorted(st.items())) + "\n")
        for p in sorted(per_file):
            r = lf.get(p)
            if r and r["status"] != "ok":
                ev = r.get("event")
                w(f"- `{p}`: {r['status']}"
                  + (f": {ev['event']} ({ev['kind']}) from {ev['caller']}" if ev else "")
                  + (f": {r['error']}" if r.get("error") and not ev else "") + "\n")
    if wall is not None:
        sys.stderr.write(f"mscan: {len(paths)} files in {wall:.1f} s wall "
                         f"(exit {report_meta['exit_code']}, {report_meta['mscan']}, "
                         f"commit {report_meta['commit']})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
