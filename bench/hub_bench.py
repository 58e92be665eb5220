#!/usr/bin/env python3
"""Remote-scan benchmark: what `mscan hf://...` downloads and how long it takes, against the
fake Hub of tests/hub on loopback with a simulated round-trip time (no internet).

    python3 bench/hub_bench.py [--mscan build-bench/mscan] [--rtt-ms 30] [--runs 3]

Prints, per repo: total size, bytes fetched (and the fraction of the repo), requests, and the
best wall time with -j 1 and with the default parallelism.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "hub"))
import fixtures as fx  # noqa: E402
from fake_hub import FakeHub, FileSpec, Repo  # noqa: E402


def sharded_repo(n_files=50) -> Repo:
    """50 files: 20 safetensors shards of 256 MiB (5 GiB), 4 PyTorch zip checkpoints of
    6 GB (declared), and small config/tokenizer/pickle files."""
    files = {}
    for i in range(20):
        files[f"model-{i + 1:05d}-of-00020.safetensors"] = fx.safetensors_spec(
            [(f"layers.{i}.weight", "F32", (16384, 4096))])
    for i in range(4):
        files[f"torch/pytorch_model-{i}.bin"] = fx.big_torch_checkpoint()
    i = 0
    while len(files) < n_files:
        files[f"extra/cfg-{i}.pkl" if i % 2 else f"extra/cfg-{i}.json"] = (
            FileSpec(data=fx.benign_pickle(i)) if i % 2 else
            FileSpec(data=json.dumps({"i": i}).encode()))
        i += 1
    return Repo("bench/sharded", revisions={"main": files})


def run(mscan, target, env, jobs):
    cmd = [mscan, "--format", "json", "--no-progress", target]
    if jobs:
        cmd[1:1] = ["-j", str(jobs)]
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if p.returncode not in (0, 1):
        raise SystemExit(f"mscan failed ({p.returncode}): {p.stderr or p.stdout[:500]}")
    return elapsed, json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mscan", default=os.path.join(ROOT, "build-bench", "mscan"))
    ap.add_argument("--rtt-ms", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=3)
    opts = ap.parse_args()
    repos = [fx.big_torch_repo(), sharded_repo(), fx.many_files_repo()]
    with FakeHub(repos, page_size=1000) as hub, tempfile.TemporaryDirectory() as home:
        hub.latency = opts.rtt_ms / 1000
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
        env.update({"HF_ENDPOINT": hub.endpoint, "HF_HOME": home})
        print(f"fake Hub on loopback, {opts.rtt_ms:.0f} ms per request; best of {opts.runs}")
        print(f"{'repo':22} {'files':>5} {'size':>10} {'fetched':>11} {'share':>9} {'requests':>8}"
              f" {'-j 1':>8} {'default':>8}")
        for target in ("hf://org/big-torch", "hf://bench/sharded", "hf://org/many-files"):
            times = {}
            for jobs in (1, 0):
                best = None
                for _ in range(opts.runs):
                    hub.clear_log()
                    elapsed, report = run(opts.mscan, target, env, jobs)
                    best = elapsed if best is None else min(best, elapsed)
                times[jobs] = best
            repo = report["repos"][0]
            served = hub.bytes_served()
            share = 100.0 * repo["fetched"] / max(repo["total_size"], 1)
            print(f"{target[5:]:22} {repo['files']:>5} {repo['total_size'] / 2**30:>8.2f}Gi"
                  f" {repo['fetched'] / 1024:>9.1f}Ki {share:>8.4f}% {repo['requests']:>8}"
                  f" {times[1]:>7.2f}s {times[0]:>7.2f}s")
            if served > repo["fetched"] + 64 * 1024:
                print(f"  note: the server sent {served} bytes (mscan counted {repo['fetched']})")


if __name__ == "__main__":
    main()
