#!/usr/bin/env python3
"""End-to-end tests of `mscan hf://...` against the fake Hub on loopback (no internet).

Run: MSCAN=build/mscan python3 -m unittest discover -s tests/hub -p 'test_hub_cli.py'
Every test starts from a clean request log and no faults, runs the real binary with a private
HF_HOME, and asserts on its report, its exit code and exactly what it asked the server for.
"""
import json
import fcntl
import os
import pty
import re
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
from fake_hub import FakeHub  # noqa: E402

MSCAN = os.environ.get("MSCAN", "mscan")
HUB = None


def setUpModule():
    global HUB
    HUB = FakeHub(fx.all_repos(), page_size=fx.TEST_PAGE_SIZE, tokens=fx.TOKENS).start()


def tearDownModule():
    HUB.stop()


class HubCase(unittest.TestCase):
    def setUp(self):
        HUB.clear_log()
        HUB.clear_faults()
        HUB.signed_url_ttl = 3600
        self.home = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.home.cleanup()

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("HF_", "HUGGING", "TRANSFORMERS_", "XDG_"))}
        env.update({"HF_ENDPOINT": HUB.endpoint, "HF_HOME": self.home.name})
        env.update({k: v for k, v in extra.items() if v is not None})
        return env

    def run_mscan(self, *args, fmt="json", **env):
        cmd = [MSCAN, "--format", fmt, "--no-progress", *args]
        p = subprocess.run(cmd, capture_output=True, text=True, env=self.env(**env), timeout=120)
        report = json.loads(p.stdout) if fmt == "json" and p.stdout.strip() else None
        return p.returncode, report, p

    @staticmethod
    def files(report):
        return {f["path"]: f for f in report["files"]}

    @staticmethod
    def rules_for(report, path):
        return {(f["rule_id"], f["severity"]) for f in report["findings"]
                if f["location"]["path"] == path}

    def worst(self, report, path):
        order = ["info", "low", "medium", "high", "critical"]
        sev = [order.index(f["severity"]) for f in report["findings"]
               if f["location"]["path"] == path]
        return order[max(sev)] if sev else None


class BigRepo(HubCase):
    """A repo with a 6 GB PyTorch checkpoint, a 2 GB safetensors and a small hostile pickle."""

    def test_finds_payload_and_reads_a_tiny_fraction(self):
        code, rep, p = self.run_mscan("hf://org/big-torch")
        self.assertEqual(code, 1, p.stderr)
        files = self.files(rep)
        self.assertEqual(self.worst(rep, "hf://org/big-torch/extra/payload.pkl"), "critical")
        self.assertIn(("process-execution", "critical"),
                      self.rules_for(rep, "hf://org/big-torch/extra/payload.pkl"))
        ckpt = files["hf://org/big-torch/pytorch_model.bin"]
        self.assertEqual(ckpt["status"], "scanned")
        self.assertEqual(ckpt["format"], "zip")
        self.assertGreater(ckpt["size"], 6 * 10**9)
        self.assertIn(self.worst(rep, "hf://org/big-torch/pytorch_model.bin"), (None, "info", "low"))
        st = files["hf://org/big-torch/model.safetensors"]
        self.assertEqual((st["status"], st["format"]), ("scanned", "safetensors"))
        # The repo summary: the commit the files were read at, sizes and what was fetched.
        repo = rep["repos"][0]
        self.assertEqual(repo["commit"], HUB.repo("org/big-torch").commit("main"))
        self.assertEqual(repo["source"], "hub")
        self.assertGreaterEqual(repo["total_size"], 5 * 10**9)
        self.assertLess(repo["fetched"], repo["total_size"] / 1000)  # under 0.1 %
        self.assertEqual(repo["fetched"], sum(f.get("fetched", 0) for f in rep["files"]))
        # What the server says it sent matches what mscan says it fetched (files only).
        served = HUB.bytes_served(files_only=True)
        self.assertLessEqual(served, repo["fetched"])
        self.assertLess(HUB.bytes_served(), 2 * 1024 * 1024)
        # The Hub's own verdict is reported, labelled as the Hub's.
        hub = repo["hub_security_status"]
        self.assertTrue(hub["scans_done"])
        self.assertIn({"path": "extra/payload.pkl", "level": "unsafe"}, hub["files_with_issues"])

    def test_every_file_read_is_ranged_identity_and_pinned_to_the_commit(self):
        self.run_mscan("hf://org/big-torch")
        commit = HUB.repo("org/big-torch").commit("main")
        file_requests = [r for r in HUB.requests() if "/resolve" in r["path"] or r["listener"] == "cdn"]
        self.assertTrue(file_requests)
        for r in file_requests:
            self.assertIsNotNone(r["range"], r)
            self.assertRegex(r["range"], r"^bytes=\d+-\d+$")  # explicit ranges only
            self.assertEqual(r["accept_encoding"], "identity")
            if r["listener"] == "hub" and "/resolve/" in r["path"]:
                self.assertIn("/resolve/" + commit + "/", r["path"])
        self.assertTrue(all(r["status"] in (206, 302, 307) for r in file_requests),
                        [(r["path"], r["status"]) for r in file_requests])

    def test_checkpoint_ranges_avoid_the_tensor_data(self):
        self.run_mscan("hf://org/big-torch/pytorch_model.bin")
        ranges = HUB.fetched_ranges("pytorch_model.bin")
        total = sum(b - a + 1 for a, b in ranges)
        self.assertLess(total, 512 * 1024, ranges)
        # Only the other files' names never appear: a single-file target reads one file.
        self.assertFalse([r for r in HUB.requests() if "payload.pkl" in r["path"]])

    def test_token_goes_to_the_hub_and_never_to_the_cdn(self):
        code, rep, p = self.run_mscan("hf://org/big-torch", HF_TOKEN="hf_good")
        self.assertEqual(code, 1, p.stderr)
        hub_reqs = HUB.requests("hub")
        cdn_reqs = HUB.requests("cdn")
        self.assertTrue(cdn_reqs)
        self.assertTrue(all(r["authorization"] == "Bearer hf_good" for r in hub_reqs))
        self.assertTrue(all(r["authorization"] is None for r in cdn_reqs))

    def test_text_report_shows_commit_sizes_fetched_and_hub_status(self):
        code, _, p = self.run_mscan("hf://org/big-torch", "--no-timing", fmt="text")
        self.assertEqual(code, 1)
        out = p.stdout
        self.assertIn("commit " + HUB.repo("org/big-torch").commit("main"), out)
        self.assertIn("The Hub's own scan (securityRepoStatus, not mscan's verdict): done", out)
        self.assertIn("extra/payload.pkl (unsafe)", out)
        self.assertRegex(out, r"pytorch_model\.bin +6\.00 GiB +\d+\.\d KiB +INFO|"
                              r"pytorch_model\.bin +6\.00 GiB +\d+\.\d KiB +clean")
        self.assertRegex(out, r"fetched [\d.]+ KiB \(\d+ bytes, 0\.0\d+% of the repo\)")

    def test_sarif_carries_provenance(self):
        code, _, p = self.run_mscan("hf://org/big-torch", fmt="sarif")
        sarif = json.loads(p.stdout)
        run = sarif["runs"][0]
        prov = run["versionControlProvenance"][0]
        self.assertEqual(prov["revisionId"], HUB.repo("org/big-torch").commit("main"))
        self.assertEqual(prov["repositoryUri"], HUB.endpoint + "/org/big-torch")
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
        self.assertIn("hf://org/big-torch/extra/payload.pkl", uris)
        self.assertEqual(run["properties"]["huggingFaceRepos"][0]["hubSecurityStatus"]["scansDone"], True)


class OtherFormats(HubCase):
    def test_hostile_keras_h5_and_benign_safetensors(self):
        code, rep, p = self.run_mscan("hf://org/keras-h5")
        self.assertEqual(code, 1, p.stderr)
        files = self.files(rep)
        h5 = files["hf://org/keras-h5/model.h5"]
        self.assertEqual((h5["status"], h5["format"]), ("scanned", "hdf5"))
        rules = self.rules_for(rep, "hf://org/keras-h5/model.h5")
        self.assertIn(("keras-lambda-layer", "high"), rules)
        self.assertIn("critical", {sev for _, sev in rules})
        st = files["hf://org/keras-h5/weights.safetensors"]
        self.assertEqual((st["status"], st["format"]), ("scanned", "safetensors"))
        self.assertIn(self.worst(rep, "hf://org/keras-h5/weights.safetensors"), (None, "info"))
        # The .h5 came from the CDN (an LFS file) in ranges.
        self.assertTrue(HUB.fetched_ranges("model.h5", listener="cdn"))


class RemoteCode(HubCase):
    def evidence(self, report, path):
        return sorted(f["evidence"] for f in report["findings"]
                      if f["location"]["path"] == path and f["rule_id"] == "hf-remote-code")

    def test_auto_map_modules_are_looked_up_in_the_listing(self):
        code, rep, p = self.run_mscan("hf://org/remote-code")
        self.assertEqual(code, 1, p.stderr)
        top = self.evidence(rep, "hf://org/remote-code/config.json")
        self.assertEqual(len(top), 2, top)
        self.assertIn("configuration_demo.py (NOT in hf://org/remote-code/", top[0])
        self.assertIn("modeling_demo.py (present, 26 bytes)", top[1])
        sub = self.evidence(rep, "hf://org/remote-code/sub/config.json")
        self.assertIn("configuration_demo.py (present, 26 bytes)", sub[0])
        self.assertIn("modeling_demo.py (NOT in hf://org/remote-code/sub/", sub[1])
        # The .py files are listed and skipped: mscan does not judge Python source.
        self.assertEqual(self.files(rep)["hf://org/remote-code/modeling_demo.py"]["status"],
                         "skipped")

    def test_a_single_file_target_does_not_guess(self):
        code, rep, p = self.run_mscan("hf://org/remote-code/config.json")
        self.assertEqual(code, 1, p.stderr)
        for ev in self.evidence(rep, "hf://org/remote-code/config.json"):
            self.assertIn("could not check whether it is there", ev)


class Listing(HubCase):
    def test_pagination_lists_every_file_once(self):
        code, rep, p = self.run_mscan("hf://org/many-files")
        self.assertEqual(code, 1, p.stderr)
        repo_files = [f for f in rep["files"] if f["path"].startswith("hf://org/many-files/")]
        self.assertEqual(len(repo_files), 60)
        self.assertEqual(rep["repos"][0]["files"], 60)
        tree_pages = [r for r in HUB.requests("hub") if "/tree/" in r["path"]]
        self.assertGreaterEqual(len(tree_pages), 60 // fx.TEST_PAGE_SIZE)
        self.assertTrue(any("cursor" in r["query"] for r in tree_pages))
        self.assertEqual(self.worst(rep, "hf://org/many-files/deep/a/b/c/evil.pkl"), "critical")

    def test_include_and_exclude(self):
        code, rep, p = self.run_mscan("hf://org/big-torch", "--include", "*.pkl")
        self.assertEqual(code, 1, p.stderr)
        files = self.files(rep)
        self.assertEqual(files["hf://org/big-torch/extra/payload.pkl"]["status"], "scanned")
        skipped = files["hf://org/big-torch/pytorch_model.bin"]
        self.assertEqual(skipped["status"], "skipped")
        reasons = {s["path"]: s["reason"] for s in rep["skipped"]}
        self.assertIn("--include", reasons["hf://org/big-torch/pytorch_model.bin"])
        self.assertFalse([r for r in HUB.requests() if "pytorch_model" in r["path"]])
        code, rep, _ = self.run_mscan("hf://org/big-torch", "--exclude", "extra/*")
        self.assertEqual(self.files(rep)["hf://org/big-torch/extra/payload.pkl"]["status"], "skipped")
        self.assertEqual(code, 0)

    def test_web_urls(self):
        code, rep, p = self.run_mscan(HUB.endpoint + "/org/big-torch/blob/main/extra/payload.pkl")
        self.assertEqual(code, 1, p.stderr)
        self.assertEqual([f["path"] for f in rep["files"]], ["hf://org/big-torch@main/extra/payload.pkl"])
        code, rep, p = self.run_mscan(HUB.endpoint + "/org/many-files/tree/main/deep")
        paths = [f["path"] for f in rep["files"]]
        self.assertTrue(paths and all(x.startswith("hf://org/many-files@main/deep/") for x in paths), paths)

    def test_datasets_and_spaces(self):
        code, rep, p = self.run_mscan("hf://datasets/org/data")
        self.assertIn(code, (0, 1, 3), p.stderr)
        self.assertEqual(rep["repos"][0]["type"], "dataset")
        self.assertTrue(all(f["path"].startswith("hf://datasets/org/data/") for f in rep["files"]))
        self.assertTrue(any("/api/datasets/org/data" in r["path"] for r in HUB.requests("hub")))
        code, rep, p = self.run_mscan("hf://spaces/org/demo-space")
        self.assertEqual(code, 1, p.stderr)
        self.assertEqual(self.worst(rep, "hf://spaces/org/demo-space/weights/model.pkl"), "critical")

    def test_revisions(self):
        code, rep, _ = self.run_mscan("hf://org/revisions")
        self.assertEqual(code, 0)
        code, rep, p = self.run_mscan("hf://org/revisions@refs/pr/1")
        self.assertEqual(code, 1, p.stderr)
        self.assertEqual(rep["repos"][0]["commit"], HUB.repo("org/revisions").commit("refs/pr/1"))
        self.assertEqual(self.worst(rep, "hf://org/revisions@refs/pr/1/pr_payload.pkl"), "critical")
        code, rep, _ = self.run_mscan("hf://org/revisions", "--revision", "v1.0")
        self.assertEqual(rep["repos"][0]["revision"], "v1.0")
        self.assertEqual(len(rep["repos"][0]["commit"]), 40)

    def test_renamed_repo_is_followed(self):
        code, rep, p = self.run_mscan("hf://org/old-name")
        self.assertNotEqual(code, 2, p.stdout + p.stderr)
        self.assertEqual(rep["repos"][0]["commit"], HUB.repo("org/new-name").commit("main"))


class Failures(HubCase):
    def assert_target_error(self, target, needle, code=2, **env):
        got, rep, p = self.run_mscan(target, **env)
        self.assertEqual(got, code, p.stdout + p.stderr)
        reasons = " ".join(e["reason"] for e in rep["errors"])
        self.assertIn(needle, reasons)
        return rep

    def test_private_repo(self):
        self.assert_target_error("hf://org/private", "private and no valid token")
        code, rep, p = self.run_mscan("hf://org/private", HF_TOKEN="hf_good")
        self.assertIn(code, (0, 1), p.stdout)
        self.assert_target_error("hf://org/private", "does not exist, or this token cannot see it",
                                 HF_TOKEN="hf_other")

    def test_token_file_is_used(self):
        with open(os.path.join(self.home.name, "token"), "w") as f:
            f.write("hf_good\n")
        code, rep, p = self.run_mscan("hf://org/private")
        self.assertIn(code, (0, 1), p.stdout + p.stderr)
        self.assertTrue(all(r["authorization"] == "Bearer hf_good" for r in HUB.requests("hub")))

    def test_gated_repo(self):
        rep = self.assert_target_error("hf://org/gated", "gated")
        self.assertEqual(rep["repos"][0]["gated"], "manual")
        self.assert_target_error("hf://org/gated", "has not been granted access", HF_TOKEN="hf_other")
        code, rep, p = self.run_mscan("hf://org/gated", HF_TOKEN="hf_good")
        self.assertIn(code, (0, 1), p.stdout)
        self.assertFalse(rep["errors"])

    def test_bad_token_disabled_missing(self):
        self.assert_target_error("hf://org/big-torch", "token was refused", HF_TOKEN="hf_nope")
        self.assert_target_error("hf://org/disabled", "disabled")
        self.assert_target_error("hf://org/big-torch@no-such-branch", "revision not found")
        self.assert_target_error("hf://org/big-torch/no/such/file.bin", "no such file or folder")
        self.assert_target_error("hf://org/big-torch/nofile.bin", "is not a file or folder")
        # A target that cannot be a repo is a usage error (exit 4), before any request.
        got, _, p = self.run_mscan("hf://org/na me")
        self.assertEqual(got, 4, p.stdout + p.stderr)
        self.assertIn("not a repository id", p.stderr)

    def test_rate_limit_and_server_errors_are_retried(self):
        HUB.rate_limit_next(1, retry_after=1)
        code, rep, p = self.run_mscan("hf://org/big-torch/extra/payload.pkl")
        self.assertEqual(code, 1, p.stdout + p.stderr)
        self.assertIn(429, [r["status"] for r in HUB.requests("hub")])
        HUB.clear_log()
        HUB.server_error_next(2, listener="cdn", status=503)
        code, rep, p = self.run_mscan("hf://org/big-torch/model.safetensors")
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual([r["status"] for r in HUB.requests("cdn")][:2], [503, 503])

    def test_persistent_rate_limit_is_an_error(self):
        HUB.rate_limit_next(50, retry_after=1)
        got, rep, p = self.run_mscan("hf://org/big-torch", "--hf-retries", "1")
        self.assertEqual(got, 2, p.stdout)
        self.assertIn("rate-limited", " ".join(e["reason"] for e in rep["errors"]))

    def test_server_ignoring_range_is_not_trusted(self):
        HUB.fault(listener="cdn", ignore_range=True)
        code, rep, p = self.run_mscan("hf://org/big-torch")
        files = self.files(rep)
        big = files["hf://org/big-torch/pytorch_model.bin"]
        self.assertEqual(big["status"], "error")
        self.assertIn("ignored the Range request", " ".join(e["reason"] for e in rep["errors"]))
        self.assertLess(big["fetched"], 32 * 1024 * 1024)
        # Small files come whole from the Hub itself and are still scanned.
        self.assertEqual(files["hf://org/big-torch/extra/payload.pkl"]["status"], "scanned")
        self.assertEqual(code, 1)

    def test_small_file_sent_whole_is_accepted(self):
        HUB.fault(listener="hub", ignore_range=True)
        code, rep, p = self.run_mscan("hf://org/big-torch/extra/payload.pkl")
        self.assertEqual(code, 1, p.stdout + p.stderr)
        self.assertIn(200, [r["status"] for r in HUB.requests("hub")])

    def test_wrong_content_range_is_an_error(self):
        for mode in ("total", "start"):
            HUB.clear_faults()
            HUB.fault(listener="cdn", wrong_content_range=mode)
            got, rep, p = self.run_mscan("hf://org/big-torch/pytorch_model.bin")
            self.assertEqual(got, 2, p.stdout)
            self.assertIn("Content-Range", " ".join(e["reason"] for e in rep["errors"]))

    def test_dropped_connections_are_errors_not_truncation(self):
        HUB.fault(listener="cdn", drop_mid_body=True)
        got, rep, p = self.run_mscan("hf://org/big-torch/pytorch_model.bin", "--hf-retries", "1")
        self.assertEqual(got, 2, p.stdout)
        self.assertFalse(rep["findings"])
        self.assertIn("closed the connection before the whole answer came",
                      " ".join(e["reason"] for e in rep["errors"]))

    def test_gzip_and_xet_switches_do_not_confuse_the_client(self):
        HUB.fault(gzip=True, xet=True)
        code, rep, p = self.run_mscan("hf://org/big-torch")
        self.assertEqual(code, 1, p.stdout + p.stderr)
        self.assertFalse(rep["errors"])

    def test_an_expired_signed_url_is_resolved_again(self):
        HUB.fault(listener="cdn", single_use_urls=True)
        code, rep, p = self.run_mscan("hf://org/big-torch/pytorch_model.bin")
        self.assertEqual(code, 0, p.stdout + p.stderr)
        cdn = HUB.requests("cdn")
        self.assertIn("expired", [r["note"] for r in cdn])
        resolves = [r for r in HUB.requests("hub") if "/resolve/" in r["path"]]
        # One resolve per expired URL, and never more than one retry per failed read.
        expired = len([r for r in cdn if r["note"] == "expired"])
        self.assertEqual(len(resolves), 1 + expired)

    def test_expired_signed_urls_are_errors(self):
        code, rep, p = self.run_mscan("hf://org/big-torch/pytorch_model.bin")
        self.assertEqual(code, 0)
        HUB.clear_log()
        HUB.signed_url_ttl = 0
        got, rep, p = self.run_mscan("hf://org/big-torch/pytorch_model.bin")
        self.assertEqual(got, 2, p.stdout)
        self.assertIn("HTTP 403", " ".join(e["reason"] for e in rep["errors"]))


class OfflineAndCache(HubCase):
    def make_cache(self, symlinks=True):
        repo = os.path.join(self.home.name, "hub", "models--org--cached")
        commit = "1" * 40
        blobs = os.path.join(repo, "blobs")
        snap = os.path.join(repo, "snapshots", commit)
        os.makedirs(os.path.join(snap, "extra"))
        os.makedirs(blobs)
        os.makedirs(os.path.join(repo, "refs"))
        with open(os.path.join(repo, "refs", "main"), "w") as f:
            f.write(commit)
        payload = fx.hostile_pickle()
        blob = os.path.join(blobs, "a" * 64)
        with open(blob, "wb") as f:
            f.write(payload)
        target = os.path.join(snap, "extra", "payload.pkl")
        if symlinks:
            os.symlink(os.path.join("..", "..", "..", "blobs", "a" * 64), target)
        else:
            with open(target, "wb") as f:
                f.write(payload)
            os.remove(blob)
        return repo, commit

    def test_offline_sends_no_request(self):
        got, rep, p = self.run_mscan("hf://org/big-torch", HF_HUB_OFFLINE="1")
        self.assertEqual(got, 2)
        self.assertIn("HF_HUB_OFFLINE is set, so the Hub was not contacted",
                      " ".join(e["reason"] for e in rep["errors"]))
        self.assertEqual(HUB.requests(), [])

    def test_offline_scans_the_cached_snapshot(self):
        _, commit = self.make_cache()
        got, rep, p = self.run_mscan("hf://org/cached", HF_HUB_OFFLINE="1")
        self.assertEqual(got, 1, p.stdout + p.stderr)
        self.assertEqual(HUB.requests(), [])
        path = "hf://org/cached@" + commit + "/extra/payload.pkl"
        self.assertEqual(self.worst(rep, path), "critical")
        self.assertEqual(rep["repos"][0]["source"], "cache")

    def test_cache_folders_are_named_by_repo_path(self):
        for symlinks in (True, False):
            with self.subTest(symlinks=symlinks):
                self.home.cleanup()
                self.home = tempfile.TemporaryDirectory()
                repo, commit = self.make_cache(symlinks)
                got, rep, p = self.run_mscan(repo)
                self.assertEqual(got, 1, p.stdout + p.stderr)
                f = self.files(rep)["hf://org/cached@" + commit + "/extra/payload.pkl"]
                self.assertTrue(f["local_path"].endswith("extra/payload.pkl"))
                self.assertEqual(rep["repos"][0]["commit"], commit)
                # The whole cache, found the way the official clients find it.
                got, rep, p = self.run_mscan("--hf-cache")
                self.assertEqual(got, 1, p.stdout + p.stderr)
                self.assertIn("hf://org/cached@" + commit + "/extra/payload.pkl", self.files(rep))
        self.assertEqual(HUB.requests(), [])


class Unreachable(HubCase):
    """A Hub that cannot be reached says how (issue 14), and a name that does not resolve is not
    retried."""

    def test_a_host_name_that_does_not_resolve_is_said_so_at_once(self):
        # .invalid never resolves (RFC 6761); the resolver says so without the internet.
        started = time.monotonic()
        got, rep, p = self.run_mscan("hf://org/big-torch", HF_ENDPOINT="http://mscan-test.invalid")
        took = time.monotonic() - started
        self.assertEqual(got, 2, p.stdout + p.stderr)
        reasons = " ".join(e["reason"] for e in rep["errors"])
        self.assertIn("could not resolve host mscan-test.invalid", reasons)
        self.assertNotIn("no answer", reasons)
        self.assertNotIn("attempts", reasons)  # not retried: 4 retries would wait 7.5 s
        self.assertLess(took, 5)

    def test_nothing_listening_is_connection_refused(self):
        with socket.socket() as s:  # a loopback port nothing listens on (bound, then released)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        got, rep, p = self.run_mscan("hf://org/big-torch", "--hf-retries", "1",
                                     HF_ENDPOINT=f"http://127.0.0.1:{port}")
        self.assertEqual(got, 2, p.stdout + p.stderr)
        reasons = " ".join(e["reason"] for e in rep["errors"])
        self.assertIn(f"connection refused by 127.0.0.1:{port} (2 attempts)", reasons)


class TerminalSafety(HubCase):
    """Repo file names, the Hub's scan status and server messages reach the terminal escaped
    (issue 14): in the text report and in the progress line."""

    OWN_SEQUENCES = re.compile(rb"\x1b\[K|\x1b\[[0-9;]*m")  # mscan's own: erase line, colours

    def assert_no_foreign_control(self, data: bytes):
        rest = self.OWN_SEQUENCES.sub(b"", data).replace(b"\r", b"").replace(b"\n", b"")
        m = re.search(rb"[\x00-\x1f\x7f]|\xc2[\x80-\x9f]", rest)
        self.assertIsNone(m, f"raw control byte in the output: {data[:3000]!r}")

    def test_repo_file_names_and_hub_status_are_escaped_in_text(self):
        code, _, p = self.run_mscan("hf://org/escapes", "--no-timing", fmt="text")
        self.assertEqual(code, 1, p.stdout + p.stderr)
        out = p.stdout.encode()
        self.assert_no_foreign_control(out)
        self.assert_no_foreign_control(p.stderr.encode())
        self.assertNotIn("\u202e", p.stdout)
        self.assertIn(r"payload\u{202E}gnp.pkl", p.stdout)
        self.assertIn("process-execution", p.stdout)
        self.assertIn(r"\x1b[2J\x1b[1Apayload", p.stdout)  # the Hub's path, shown escaped
        self.assertIn(r"(\x1b[32msafe\x1b[0m)", p.stdout)  # the Hub's word, shown escaped

    def test_control_characters_in_a_listed_name_are_an_error_shown_escaped(self):
        code, _, p = self.run_mscan("hf://org/control-names", "--no-timing", fmt="text")
        self.assertEqual(code, 2, p.stdout + p.stderr)
        self.assert_no_foreign_control(p.stdout.encode())
        self.assertIn(r"\x1b[2J\x1b[1Apayload\x0d.pkl", p.stdout)

    def test_progress_line_escapes_server_messages(self):
        # A retried 503 whose X-Error-Message would clear the screen: the progress line shows
        # the retry, with the message escaped.
        HUB.server_error_next(1, message="\x1b[2J\x1b[1Aall clean")
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 400, 0, 0))
        env = self.env()
        env["TERM"] = "xterm"
        proc = subprocess.Popen([MSCAN, "--no-config", "hf://org/gated"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=slave, env=env)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        proc.wait(timeout=60)
        err = b"".join(chunks)
        self.assertIn(b"attempt 2 of", err)
        self.assertIn(rb"\x1b[2J\x1b[1Aall clean", err)
        self.assert_no_foreign_control(err)


if __name__ == "__main__":
    unittest.main()
