"""Self-tests of the fake Hugging Face Hub (stdlib only: http.client / urllib, no mscan).

Run: /usr/bin/python3 -m unittest discover -s tests/hub -p 'test_fake_hub.py'
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import pickletools
import struct
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures as fx  # noqa: E402
from fake_hub import FakeHub, FileSpec, Repo  # noqa: E402

HUB: FakeHub | None = None


def setUpModule():
    global HUB
    HUB = FakeHub(fx.all_repos(), page_size=fx.TEST_PAGE_SIZE, tokens=fx.TOKENS).start()


def tearDownModule():
    HUB.stop()


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Resp:
    def __init__(self, r: http.client.HTTPResponse, body: bytes):
        self.status, self.headers, self.body = r.status, r.headers, body

    def json(self):
        return json.loads(self.body)

    def h(self, name):
        return self.headers.get(name)


def request(url: str, method: str = "GET", headers=None, body: bytes | None = None) -> Resp:
    """One request, no redirect following; `url` may be a path on the Hub."""
    if url.startswith("/"):
        url = HUB.endpoint + url
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        target = u.path + ("?" + u.query if u.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        r = conn.getresponse()
        return Resp(r, r.read())
    finally:
        conn.close()


def bearer(tok):
    return {"Authorization": f"Bearer {tok}"}


class HubTestCase(unittest.TestCase):
    def setUp(self):
        HUB.clear_faults()
        HUB.clear_log()
        HUB.signed_url_ttl = 3600

    def tearDown(self):
        self.assertEqual(HUB.server_errors, [], "exceptions inside the fake hub")

    def assertError(self, r: Resp, status: int, code: str | None, message: str | None = None):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.h("X-Error-Code"), code)
        self.assertIn("error", r.json())
        self.assertEqual(r.h("X-Error-Message"), r.json()["error"])
        if message is not None:
            self.assertIn(message, r.h("X-Error-Message"))

    def cdn_location(self, repo_id, path, rev="main", headers=None):
        r = request(HUB.resolve_url(repo_id, path, rev), headers=headers)
        self.assertEqual(r.status, 302, r.body)
        return r.h("Location")


class TestRepoInfo(HubTestCase):
    def test_shape_and_commit(self):
        repo = HUB.repo("org/big-torch")
        r = request("/api/models/org/big-torch")
        self.assertEqual(r.status, 200)
        d = r.json()
        for k in ("id", "sha", "private", "gated", "disabled", "lastModified", "siblings"):
            self.assertIn(k, d)
        self.assertEqual(d["id"], "org/big-torch")
        self.assertRegex(d["sha"], r"^[0-9a-f]{40}$")
        self.assertEqual(d["sha"], repo.commit("main"))
        self.assertEqual(d["sha"], hashlib.sha1(b"model/org/big-torch@main").hexdigest())
        self.assertIs(d["private"], False)
        self.assertIs(d["gated"], False)
        names = [s["rfilename"] for s in d["siblings"]]
        self.assertEqual(names, sorted(repo.revisions["main"]))
        self.assertIn("extra/payload.pkl", names)
        self.assertTrue(all(set(s) == {"rfilename"} for s in d["siblings"]))
        self.assertNotIn("securityRepoStatus", d)
        self.assertEqual(r.h("Content-Type"), "application/json; charset=utf-8")
        self.assertEqual(int(r.h("Content-Length")), len(r.body))

    def test_blobs(self):
        files = HUB.repo("org/big-torch").revisions["main"]
        d = request("/api/models/org/big-torch?blobs=true").json()
        sib = {s["rfilename"]: s for s in d["siblings"]}
        cfg = sib["config.json"]
        self.assertEqual(cfg["size"], files["config.json"].size)
        self.assertEqual(cfg["blobId"], git_sha1(files["config.json"].read(0, 1 << 20)))
        self.assertNotIn("lfs", cfg)
        big = sib["pytorch_model.bin"]
        self.assertGreaterEqual(big["size"], 6 * 10**9)
        self.assertEqual(set(big["lfs"]), {"size", "sha256", "pointerSize"})
        self.assertEqual(big["lfs"]["size"], big["size"])
        self.assertRegex(big["lfs"]["sha256"], r"^[0-9a-f]{64}$")
        pointer = (f"version https://git-lfs.github.com/spec/v1\noid sha256:{big['lfs']['sha256']}\n"
                   f"size {big['size']}\n").encode()
        self.assertEqual(big["lfs"]["pointerSize"], len(pointer))
        self.assertEqual(big["blobId"], git_sha1(pointer))  # LFS blobId = SHA-1 of the pointer

    def test_real_sha256_for_real_bytes(self):
        with open(os.path.join(fx.ROOT, fx.HOSTILE_H5), "rb") as f:
            h5 = f.read()
        d = request("/api/models/org/keras-h5?blobs=true").json()
        sib = {s["rfilename"]: s for s in d["siblings"]}
        self.assertEqual(sib["model.h5"]["lfs"]["sha256"], hashlib.sha256(h5).hexdigest())

    def test_security_status(self):
        d = request("/api/models/org/big-torch?securityStatus=true").json()
        self.assertEqual(d["securityRepoStatus"],
                         {"scansDone": True,
                          "filesWithIssues": [{"path": "extra/payload.pkl", "level": "unsafe"}]})
        d = request("/api/models/org/revisions?securityStatus=true").json()
        self.assertEqual(d["securityRepoStatus"]["scansDone"], False)

    def test_expand_filters_and_conflicts(self):
        d = request("/api/models/org/big-torch?expand=sha&expand=gated").json()
        self.assertEqual(set(d), {"_id", "id", "sha", "gated"})
        r = request("/api/models/org/big-torch?expand=sha&blobs=true")
        self.assertEqual(r.status, 400)

    def test_revisions(self):
        repo = HUB.repo("org/revisions")
        main, pr = repo.commit("main"), repo.commit("refs/pr/1")
        v1 = repo.commit("v1.0")
        self.assertEqual(len({main, pr, v1}), 3)
        cases = {"main": main, "v1.0": v1, "latest": main, "refs%2Fpr%2F1": pr, "refs/pr/1": pr,
                 pr: pr, pr[:7]: pr, v1[:12]: v1, "dev": repo.commit("dev")}
        for rev, want in cases.items():
            d = request(f"/api/models/org/revisions/revision/{rev}").json()
            self.assertEqual(d["sha"], want, rev)
        names = {s["rfilename"] for s in
                 request("/api/models/org/revisions/revision/refs%2Fpr%2F1").json()["siblings"]}
        self.assertIn("pr_payload.pkl", names)
        names = {s["rfilename"] for s in request("/api/models/org/revisions").json()["siblings"]}
        self.assertNotIn("pr_payload.pkl", names)
        self.assertError(request("/api/models/org/revisions/revision/nope"), 404, "RevisionNotFound")
        self.assertError(request("/api/models/org/revisions/revision/abc"), 404, "RevisionNotFound")

    def test_dataset_and_space(self):
        d = request("/api/datasets/org/data").json()
        self.assertEqual(d["id"], "org/data")
        self.assertEqual(d["sha"], HUB.repo("org/data", "dataset").commit())
        d = request("/api/spaces/org/demo-space/revision/main").json()
        self.assertIn("weights/model.pkl", [s["rfilename"] for s in d["siblings"]])
        # a dataset is not a model
        self.assertEqual(request("/api/models/org/data").status, 401)

    def test_scan_refs_paths_info(self):
        d = request("/api/models/org/big-torch/scan").json()
        self.assertEqual(d["filesWithIssues"][0]["level"], "unsafe")
        refs = request("/api/models/org/revisions/refs?include_prs=1").json()
        self.assertEqual({b["name"] for b in refs["branches"]}, {"main", "dev"})
        self.assertEqual({t["name"] for t in refs["tags"]}, {"v1.0", "latest"})
        self.assertEqual(refs["pullRequests"][0]["ref"], "refs/pr/1")
        self.assertNotIn("pullRequests", request("/api/models/org/revisions/refs").json())
        body = json.dumps({"paths": ["extra/payload.pkl", "missing.bin", "extra"], "expand": True})
        r = request("/api/models/org/big-torch/paths-info/main", "POST",
                    {"Content-Type": "application/json"}, body.encode())
        got = {e["path"]: e for e in r.json()}
        self.assertEqual(set(got), {"extra/payload.pkl", "extra"})
        self.assertEqual(got["extra"]["type"], "directory")
        self.assertEqual(got["extra/payload.pkl"]["securityFileStatus"]["status"], "unsafe")
        form = urllib.parse.urlencode([("paths", "config.json"), ("paths", "nope"), ("expand", "false")])
        r = request("/api/models/org/big-torch/paths-info/main", "POST",
                    {"Content-Type": "application/x-www-form-urlencoded"}, form.encode())
        self.assertEqual([e["path"] for e in r.json()], ["config.json"])
        self.assertNotIn("securityFileStatus", r.json()[0])


class TestTree(HubTestCase):
    def walk(self, url, headers=None):
        pages, entries = 0, []
        while url:
            r = request(url, headers=headers)
            self.assertEqual(r.status, 200, r.body)
            pages += 1
            entries += r.json()
            link = r.h("Link")
            url = None
            if link:
                self.assertRegex(link, r'^<http://127\.0\.0\.1:\d+/api/[^>]+>; rel="next"$')
                url = link[1:link.index(">")]
                self.assertTrue(url.startswith(HUB.endpoint + "/api/"), url)
            self.assertLessEqual(len(r.json()), fx.TEST_PAGE_SIZE)
            self.assertLess(pages, 100)
        return pages, entries

    def test_recursive_pagination_covers_everything_once(self):
        files = HUB.repo("org/many-files").revisions["main"]
        pages, entries = self.walk("/api/models/org/many-files/tree/main?recursive=true&expand=false")
        paths = [e["path"] for e in entries]
        self.assertEqual(len(paths), len(set(paths)), "an entry came twice")
        got_files = {e["path"] for e in entries if e["type"] == "file"}
        self.assertEqual(got_files, set(files))
        self.assertEqual(len(files), 60)
        dirs = {e["path"] for e in entries if e["type"] == "directory"}
        self.assertIn("deep/a/b/c", dirs)
        self.assertIn("shard_0", dirs)
        self.assertGreater(pages, 5)
        self.assertEqual(paths, sorted(paths))
        # every Link carried the original query parameters
        for e in HUB.requests("hub")[1:]:
            self.assertEqual(e["query"]["recursive"], ["true"])
            self.assertEqual(e["query"]["expand"], ["false"])
            self.assertIn("cursor", e["query"])
        for e in entries:
            if e["type"] == "file":
                f = files[e["path"]]
                self.assertEqual(e["size"], f.size)
                self.assertEqual(e["oid"], git_sha1(f.read(0, f.size)))
                self.assertNotIn("lfs", e)
                self.assertNotIn("securityFileStatus", e)

    def test_non_recursive_and_subpath(self):
        _, top = self.walk("/api/models/org/big-torch/tree/main")
        self.assertEqual({e["path"] for e in top},
                         {".gitattributes", "README.md", "config.json", "extra", "model.safetensors",
                          "pytorch_model.bin", "tokenizer.json"})
        _, sub = self.walk("/api/models/org/big-torch/tree/main/extra")
        self.assertEqual([(e["type"], e["path"]) for e in sub], [("file", "extra/payload.pkl")])
        _, deep = self.walk("/api/models/org/many-files/tree/main/deep?recursive=true")
        self.assertEqual([e["path"] for e in deep], ["deep/a", "deep/a/b", "deep/a/b/c",
                                                     "deep/a/b/c/evil.pkl"])

    def test_lfs_entry_and_expand(self):
        _, ents = self.walk("/api/models/org/big-torch/tree/main?recursive=true&expand=true")
        by = {e["path"]: e for e in ents}
        big = by["pytorch_model.bin"]
        self.assertEqual(set(big["lfs"]), {"oid", "size", "pointerSize"})
        info = request("/api/models/org/big-torch?blobs=true").json()
        sib = {s["rfilename"]: s for s in info["siblings"]}
        self.assertEqual(big["lfs"]["oid"], sib["pytorch_model.bin"]["lfs"]["sha256"])
        self.assertEqual(big["oid"], sib["pytorch_model.bin"]["blobId"])
        self.assertEqual(big["lastCommit"]["id"], HUB.repo("org/big-torch").commit())
        sfs = by["extra/payload.pkl"]["securityFileStatus"]
        for k in ("status", "avScan", "pickleImportScan", "protectAiScan", "jFrogScan", "virusTotalScan"):
            self.assertIn(k, sfs)
        self.assertEqual(sfs["status"], "unsafe")
        self.assertEqual(sfs["pickleImportScan"]["pickleImports"][0]["module"], "os")
        self.assertEqual(sfs["pickleImportScan"]["pickleImports"][0]["safety"], "dangerous")
        self.assertEqual(by["config.json"]["securityFileStatus"]["status"], "safe")
        self.assertEqual(by["extra"]["type"], "directory")
        self.assertNotIn("securityFileStatus", by["extra"])
        _, ents = self.walk("/api/models/org/many-files/tree/main?recursive=true&expand=true")
        statuses = {e.get("securityFileStatus", {}).get("status") for e in ents}
        self.assertTrue({"safe", "unsafe", "queued", "unscanned"} <= statuses, statuses)

    def test_limit_and_errors(self):
        r = request("/api/models/org/many-files/tree/main?recursive=true&limit=3")
        self.assertEqual(len(r.json()), 3)
        self.assertIn("limit=3", r.h("Link"))
        self.assertError(request("/api/models/org/many-files/tree/nope"), 404, "RevisionNotFound")
        r = request("/api/models/org/many-files/tree/main/no/such/dir")
        self.assertError(r, 404, "EntryNotFound")
        self.assertEqual(request("/api/models/org/many-files/tree/main?cursor=garbage").status, 400)
        # PR revision, quoted
        _, ents = self.walk("/api/models/org/revisions/tree/refs%2Fpr%2F1")
        self.assertIn("pr_payload.pkl", {e["path"] for e in ents})


class TestResolve(HubTestCase):
    def test_small_file_307_relative_then_200(self):
        repo = HUB.repo("org/big-torch")
        data = repo.revisions["main"]["config.json"].read(0, 1 << 20)
        r = request("/org/big-torch/resolve/main/config.json")
        self.assertEqual(r.status, 307)
        loc = r.h("Location")
        self.assertTrue(loc.startswith(f"/api/resolve-cache/models/org/big-torch/{repo.commit()}/config.json?"), loc)
        self.assertEqual(r.h("X-Repo-Commit"), repo.commit())
        self.assertEqual(r.h("ETag"), f'"{git_sha1(data)}"')
        self.assertEqual(int(r.h("Content-Length")), len(r.body))
        r2 = request(loc)
        self.assertEqual(r2.status, 200)
        self.assertEqual(r2.body, data)
        self.assertEqual(r2.h("ETag"), f'"{git_sha1(data)}"')
        self.assertEqual(r2.h("X-Repo-Commit"), repo.commit())
        self.assertEqual(int(r2.h("Content-Length")), len(data))
        r3 = request(loc, headers={"Range": "bytes=2-5"})
        self.assertEqual(r3.status, 206)
        self.assertEqual(r3.body, data[2:6])
        self.assertEqual(r3.h("Content-Range"), f"bytes 2-5/{len(data)}")
        # HEAD: same status and headers, no body
        h = request("/org/big-torch/resolve/main/config.json", "HEAD")
        self.assertEqual((h.status, h.body, h.h("Location")), (307, b"", loc))

    def test_lfs_302_absolute_to_cdn(self):
        f = HUB.repo("org/big-torch").revisions["main"]["model.safetensors"]
        r = request("/org/big-torch/resolve/main/model.safetensors")
        self.assertEqual(r.status, 302)
        loc = r.h("Location")
        self.assertTrue(loc.startswith(HUB.cdn + "/"), loc)
        self.assertNotEqual(HUB.cdn, HUB.endpoint)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
        self.assertIn("sig", q)
        self.assertIn("expires", q)
        self.assertEqual(r.h("X-Linked-Etag"), f'"{f.sha256}"')
        self.assertEqual(int(r.h("X-Linked-Size")), f.size)
        self.assertEqual(int(r.h("Content-Length")), len(r.body))
        self.assertLess(len(r.body), 1000)
        self.assertEqual(r.h("X-Repo-Commit"), HUB.repo("org/big-torch").commit())
        h = request("/org/big-torch/resolve/main/model.safetensors", "HEAD")
        self.assertEqual((h.status, h.body), (302, b""))
        self.assertEqual(h.h("X-Linked-Size"), str(f.size))
        # safetensors header via the CDN
        c = request(loc, headers={"Range": "bytes=0-7"})
        self.assertEqual(c.status, 206)
        self.assertEqual(c.h("Content-Range"), f"bytes 0-7/{f.size}")
        self.assertEqual(c.h("Accept-Ranges"), "bytes")
        n = struct.unpack("<Q", c.body)[0]
        hdr = request(loc, headers={"Range": f"bytes=8-{7 + n}"})
        meta = json.loads(hdr.body)
        self.assertEqual(meta["__metadata__"], {"format": "pt"})
        end = max(v["data_offsets"][1] for k, v in meta.items() if k != "__metadata__")
        self.assertEqual(8 + n + end, f.size)
        self.assertGreaterEqual(f.size, 2 * 10**9)

    def test_dataset_space_and_pr_resolve(self):
        r = request("/datasets/org/data/resolve/main/data/train.npy")
        self.assertEqual(r.status, 307)
        self.assertIn("/api/resolve-cache/datasets/org/data/", r.h("Location"))
        self.assertEqual(request(r.h("Location")).body[:6], b"\x93NUMPY")
        r = request("/spaces/org/demo-space/resolve/main/weights/model.pkl")
        self.assertEqual(r.status, 307)
        pr = HUB.repo("org/revisions").commit("refs/pr/1")
        for url in ("/org/revisions/resolve/refs%2Fpr%2F1/pr_payload.pkl",
                    "/org/revisions/resolve/refs/pr/1/pr_payload.pkl"):
            r = request(url)
            self.assertEqual(r.status, 307, url)
            self.assertEqual(r.h("X-Repo-Commit"), pr)
        self.assertError(request("/org/revisions/resolve/main/pr_payload.pkl"), 404, "EntryNotFound")
        self.assertEqual(request("/org/revisions/resolve/main/pr_payload.pkl").h("X-Repo-Commit"),
                         HUB.repo("org/revisions").commit())
        self.assertError(request("/org/revisions/resolve/nope/config.json"), 404, "RevisionNotFound")
        r = request(f"/org/revisions/resolve/{pr[:10]}/pr_payload.pkl")
        self.assertEqual(r.status, 307)

    def test_quoted_unicode_path(self):
        path = "data/notes with space \u00e9.txt"
        r = request(HUB.resolve_url("org/data", path, repo_type="dataset"))
        self.assertEqual(r.status, 307)
        self.assertIn("notes%20with%20space%20%C3%A9.txt", r.h("Location"))
        self.assertEqual(request(r.h("Location")).body, "caf\u00e9\n".encode())
        ents = request("/api/datasets/org/data/tree/main/data").json()
        self.assertIn(path, [e["path"] for e in ents])

    def test_parallel_requests(self):
        import concurrent.futures
        loc = self.cdn_location("org/big-torch", "pytorch_model.bin")
        f = HUB.repo("org/big-torch").revisions["main"]["pytorch_model.bin"]
        HUB.clear_log()

        def get(i):
            a = i * 4096
            return request(loc, headers={"Range": f"bytes={a}-{a + 99}"}).body == f.read(a, 100)

        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            self.assertTrue(all(ex.map(get, range(64))))
        self.assertEqual(sorted(HUB.fetched_ranges("pytorch_model.bin")),
                         [(i * 4096, i * 4096 + 99) for i in range(64)])
        self.assertEqual(HUB.bytes_served(), 6400)

    def test_if_none_match(self):
        r = request("/org/big-torch/resolve/main/config.json")
        r2 = request("/org/big-torch/resolve/main/config.json", headers={"If-None-Match": r.h("ETag")})
        self.assertEqual((r2.status, r2.body), (304, b""))
        r = request("/org/big-torch/resolve/main/pytorch_model.bin")
        r2 = request("/org/big-torch/resolve/main/pytorch_model.bin",
                     headers={"If-None-Match": r.h("X-Linked-Etag")})
        self.assertEqual(r2.status, 304)
        r3 = request("/org/big-torch/resolve/main/config.json", headers={"If-None-Match": '"nope"'})
        self.assertEqual(r3.status, 307)

    def test_renamed(self):
        r = request("/api/models/org/old-name/revision/main?blobs=true")
        self.assertEqual(r.status, 307)
        self.assertEqual(r.h("Location"), "/api/models/org/new-name/revision/main?blobs=true")
        self.assertEqual(request(r.h("Location")).json()["id"], "org/new-name")
        r = request("/org/old-name/resolve/main/config.json")
        self.assertEqual((r.status, r.h("Location")), (307, "/org/new-name/resolve/main/config.json"))
        self.assertEqual(request("/api/models/org/old-name/tree/main").h("Location"),
                         "/api/models/org/new-name/tree/main")


class TestCdnRanges(HubTestCase):
    def setUp(self):
        super().setUp()
        self.f = HUB.repo("org/big-torch").revisions["main"]["pytorch_model.bin"]
        self.loc = self.cdn_location("org/big-torch", "pytorch_model.bin")

    def test_ranges(self):
        f, loc, total = self.f, self.loc, self.f.size
        r = request(loc, headers={"Range": f"bytes={total - 22}-{total - 1}"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, f.read(total - 22, 22))
        self.assertEqual(r.body[:4], b"PK\x05\x06")
        r = request(loc, headers={"Range": f"bytes={total - 10}-{total + 1000}"})  # clipped
        self.assertEqual(r.h("Content-Range"), f"bytes {total - 10}-{total - 1}/{total}")
        self.assertEqual(len(r.body), 10)
        r = request(loc, headers={"Range": f"bytes={total - 5}-"})  # open-ended
        self.assertEqual((r.status, len(r.body)), (206, 5))
        r = request(loc, headers={"Range": "bytes=-4"})  # suffix
        self.assertEqual(r.body, f.read(total - 4, 4))
        for bad in (f"bytes={total}-", f"bytes={total + 5}-{total + 9}"):
            r = request(loc, headers={"Range": bad})
            self.assertEqual(r.status, 416, bad)
            self.assertEqual(r.h("Content-Range"), f"bytes */{total}")
        r = request(loc, headers={"Range": "bytes=0-1,5-6"})
        self.assertEqual(r.status, 416)
        # sparse content: zeros in a tensor, real bytes of the local header across a boundary
        mid = 3 * (1 << 30)
        r = request(loc, headers={"Range": f"bytes={mid}-{mid + 4095}"})
        self.assertEqual(r.body, b"\0" * 4096)
        r = request(loc, headers={"Range": "bytes=0-63"})
        self.assertEqual(r.body[:4], b"PK\x03\x04")
        self.assertEqual(r.body, f.read(0, 64))
        # HEAD: headers, no body
        h = request(loc, "HEAD")
        self.assertEqual((h.status, h.body, int(h.h("Content-Length"))), (200, b"", total))

    def test_full_body_without_range_on_small_lfs(self):
        with open(os.path.join(fx.ROOT, fx.HOSTILE_H5), "rb") as fh:
            h5 = fh.read()
        loc = self.cdn_location("org/keras-h5", "model.h5")
        r = request(loc)
        self.assertEqual((r.status, r.body), (200, h5))
        self.assertEqual(r.h("ETag"), f'"{hashlib.sha256(h5).hexdigest()}"')
        r = request(loc, headers={"Range": "bytes=0-7"})
        self.assertEqual(r.body, b"\x89HDF\r\n\x1a\n")

    def test_cdn_rejects_authorization_and_bad_signatures(self):
        r = request(self.loc, headers={"Range": "bytes=0-3", **bearer("hf_good")})
        self.assertEqual(r.status, 403)
        last = HUB.requests("cdn")[-1]
        self.assertEqual(last["note"], "authorization-rejected")
        self.assertEqual(last["authorization"], "Bearer hf_good")
        u = urllib.parse.urlsplit(self.loc)
        q = urllib.parse.parse_qs(u.query)
        no_sig = f"{HUB.cdn}{u.path}?expires={q['expires'][0]}"
        self.assertEqual(request(no_sig).status, 403)
        forged = f"{HUB.cdn}{u.path}?expires={int(q['expires'][0]) + 100}&sig={q['sig'][0]}"
        self.assertEqual(request(forged, headers={"Range": "bytes=0-3"}).status, 403)
        HUB.signed_url_ttl = 0
        expired = self.cdn_location("org/big-torch", "pytorch_model.bin")
        r = request(expired, headers={"Range": "bytes=0-3"})
        self.assertEqual(r.status, 403)
        self.assertEqual(HUB.requests("cdn")[-1]["note"], "expired")
        self.assertEqual(request(self.loc, headers={"Range": "bytes=0-3"}).status, 206)

    def test_zip_structure_from_ranges(self):
        """Read EOCD / zip64 locator / central directory with range requests only."""
        total = self.f.size
        tail = request(self.loc, headers={"Range": f"bytes={total - 22 - 20 - 56}-{total - 1}"}).body
        eocd = tail[-22:]
        self.assertEqual(eocd[:4], b"PK\x05\x06")
        self.assertEqual(struct.unpack_from("<I", eocd, 16)[0], 0xFFFFFFFF)
        loc64 = tail[-42:-22]
        self.assertEqual(loc64[:4], b"PK\x06\x07")
        z64off = struct.unpack_from("<Q", loc64, 8)[0]
        rec = tail[:56]
        self.assertEqual(struct.unpack_from("<Q", loc64, 8)[0], total - 98)
        self.assertEqual(rec[:4], b"PK\x06\x06")
        cd_size, cd_off = struct.unpack_from("<QQ", rec, 40)
        self.assertEqual(cd_off + cd_size, z64off)
        cd = request(self.loc, headers={"Range": f"bytes={cd_off}-{cd_off + cd_size - 1}"}).body
        self.assertEqual(len(cd), cd_size)
        self.assertEqual(cd.count(b"PK\x01\x02"), 7)
        served = HUB.fetched_ranges("pytorch_model.bin")
        self.assertEqual(served, [(total - 98, total - 1), (cd_off, cd_off + cd_size - 1)])
        self.assertLess(HUB.bytes_served("cdn"), 2000)


class TestAuth(HubTestCase):
    def test_unknown_and_private(self):
        for url in ("/api/models/org/nothing", "/api/models/org/private",
                    "/org/nothing/resolve/main/x.bin", "/api/models/org/private/tree/main"):
            self.assertError(request(url), 401, "RepoNotFound", "Invalid username or password.")
            self.assertError(request(url, headers=bearer("hf_other")), 404, "RepoNotFound")
        r = request("/api/models/org/private", headers=bearer("hf_good"))
        self.assertEqual(r.status, 200)
        self.assertIs(r.json()["private"], True)
        r = request("/org/private/resolve/main/config.json", headers=bearer("hf_good"))
        self.assertEqual(r.status, 307)
        # the resolve-cache target is protected too
        self.assertEqual(request(r.h("Location")).status, 401)
        self.assertEqual(request(r.h("Location"), headers=bearer("hf_good")).status, 200)

    def test_bad_token(self):
        for url in ("/api/models/org/big-torch", "/org/big-torch/resolve/main/config.json"):
            r = request(url, headers=bearer("hf_wrong"))
            self.assertEqual(r.status, 401)
            self.assertEqual(r.h("X-Error-Message"), "Invalid credentials in Authorization header")
        r = request("/api/models/org/big-torch", headers={"Authorization": "Basic Zm9vOmJhcg=="})
        self.assertEqual(r.status, 401)

    def test_gated(self):
        r = request("/api/models/org/gated")
        self.assertEqual((r.status, r.json()["gated"]), (200, "manual"))
        self.assertEqual(request("/api/models/org/gated/tree/main").status, 200)
        url = "/org/gated/resolve/main/model.safetensors"
        self.assertError(request(url), 401, "GatedRepo", "Please log in")
        self.assertError(request(url, headers=bearer("hf_other")), 403, "GatedRepo",
                         "not in the authorized list")
        r = request(url, headers=bearer("hf_good"))
        self.assertEqual(r.status, 307)  # a small safetensors file: not LFS
        self.assertEqual(request(r.h("Location"), headers=bearer("hf_good")).status, 200)
        self.assertError(request(r.h("Location")), 401, "GatedRepo")

    def test_disabled(self):
        for url in ("/api/models/org/disabled", "/org/disabled/resolve/main/config.json"):
            self.assertError(request(url), 403, "DisabledRepo", "Access to this resource is disabled.")

    def test_public_cdn_needs_no_token(self):
        loc = self.cdn_location("org/big-torch", "pytorch_model.bin", headers=bearer("hf_good"))
        self.assertEqual(request(loc, headers={"Range": "bytes=0-3"}).status, 206)


class TestRateLimitsAndErrors(HubTestCase):
    def test_ratelimit_headers_everywhere_on_hub(self):
        r = request("/api/models/org/big-torch")
        self.assertRegex(r.h("RateLimit"), r'^"api";r=\d+;t=\d+$')
        self.assertEqual(r.h("RateLimit-Policy"), '"fixed window";"api";q=1000;w=300')
        r = request("/org/big-torch/resolve/main/config.json")
        self.assertTrue(r.h("RateLimit").startswith('"resolvers";'))
        self.assertIsNotNone(request("/api/models/org/nothing").h("RateLimit"))

    def test_429(self):
        HUB.rate_limit_next(2, retry_after=1)
        for _ in range(2):
            r = request("/api/models/org/big-torch")
            self.assertEqual(r.status, 429)
            self.assertEqual(r.h("Retry-After"), "1")
            self.assertEqual(r.h("RateLimit"), '"api";r=0;t=1')
            self.assertIn("error", r.json())
        self.assertEqual(request("/api/models/org/big-torch").status, 200)
        self.assertEqual([e["status"] for e in HUB.requests()], [429, 429, 200])

    def test_5xx_per_listener(self):
        HUB.server_error_next(1)
        self.assertEqual(request("/api/models/org/big-torch").status, 503)
        self.assertEqual(request("/api/models/org/big-torch").status, 200)
        loc = self.cdn_location("org/big-torch", "pytorch_model.bin")
        HUB.server_error_next(2, listener="cdn", status=502)
        self.assertEqual(request(loc).status, 502)
        self.assertEqual(request("/api/models/org/big-torch").status, 200)  # hub unaffected
        self.assertEqual(request(loc, headers={"Range": "bytes=0-1"}).status, 502)
        self.assertEqual(request(loc, headers={"Range": "bytes=0-1"}).status, 206)


class TestFaults(HubTestCase):
    def h5_loc(self):
        return self.cdn_location("org/keras-h5", "model.h5")

    def test_ignore_range(self):
        loc = self.h5_loc()
        HUB.fault(ignore_range=True)
        r = request(loc, headers={"Range": "bytes=0-9"})
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.h("Content-Range"))
        self.assertEqual(len(r.body), HUB.repo("org/keras-h5").revisions["main"]["model.h5"].size)
        HUB.fault(listener="cdn", ignore_range=False)
        self.assertEqual(request(loc, headers={"Range": "bytes=0-9"}).status, 206)
        # still set on the hub listener
        cache = request("/org/big-torch/resolve/main/config.json").h("Location")
        self.assertEqual(request(cache, headers={"Range": "bytes=0-3"}).status, 200)

    def test_gzip(self):
        loc = self.h5_loc()
        data = HUB.repo("org/keras-h5").revisions["main"]["model.h5"].read(0, 1 << 30)
        HUB.fault(gzip=True)
        r = request(loc, headers={"Range": "bytes=0-9", "Accept-Encoding": "gzip, deflate"})
        self.assertEqual((r.status, r.h("Content-Encoding")), (200, "gzip"))
        self.assertEqual(gzip.decompress(r.body), data)
        r = request(loc, headers={"Range": "bytes=0-9", "Accept-Encoding": "identity"})
        self.assertEqual((r.status, r.h("Content-Encoding"), r.body), (206, None, data[:10]))
        r = request("/api/models/org/big-torch", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(r.h("Content-Encoding"), "gzip")
        self.assertEqual(json.loads(gzip.decompress(r.body))["id"], "org/big-torch")
        r = request("/api/models/org/big-torch")
        self.assertIsNone(r.h("Content-Encoding"))

    def test_wrong_content_range(self):
        loc = self.h5_loc()
        total = HUB.repo("org/keras-h5").revisions["main"]["model.h5"].size
        HUB.fault(wrong_content_range="total")
        self.assertEqual(request(loc, headers={"Range": "bytes=0-9"}).h("Content-Range"),
                         f"bytes 0-9/{total + 1}")
        HUB.fault(wrong_content_range="start")
        r = request(loc, headers={"Range": "bytes=0-9"})
        self.assertEqual((r.status, r.h("Content-Range")), (206, f"bytes 1-10/{total}"))

    def test_drop_mid_body(self):
        loc = self.h5_loc()
        HUB.fault(listener="cdn", drop_mid_body=True)
        u = urllib.parse.urlsplit(loc)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        conn.request("GET", u.path + "?" + u.query, headers={"Range": "bytes=0-999"})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 206)
        with self.assertRaises(http.client.IncompleteRead):
            resp.read()
        conn.close()
        time.sleep(0.05)
        e = HUB.requests("cdn")[-1]
        self.assertEqual((e["body_bytes"], e["served"], e["note"]), (500, (0, 499), "dropped-mid-body"))

    def test_xet_headers(self):
        r = request("/org/big-torch/resolve/main/model.safetensors")
        self.assertIsNone(r.h("X-Xet-Hash"))
        HUB.fault(xet=True)
        r = request("/org/big-torch/resolve/main/model.safetensors")
        self.assertEqual(r.status, 302)
        self.assertRegex(r.h("X-Xet-Hash"), r"^[0-9a-f]{64}$")
        self.assertIn('rel="xet-auth"', r.h("Link"))
        loc = r.h("Location")
        self.assertEqual(request(loc, headers={"Range": "bytes=0-7"}).status, 206)

    def test_unknown_fault_name(self):
        with self.assertRaises(ValueError):
            HUB.fault(no_such_switch=True)


class TestLogAndConnections(HubTestCase):
    def test_log_fields_and_helpers(self):
        loc = self.cdn_location("org/big-torch", "model.safetensors", headers=bearer("hf_good"))
        request(loc, headers={"Range": "bytes=0-7"})
        request(loc, headers={"Range": "bytes=100-199"})
        hub_log, cdn_log = HUB.requests("hub"), HUB.requests("cdn")
        self.assertEqual(len(hub_log), 1)
        e = hub_log[0]
        self.assertEqual((e["listener"], e["method"], e["status"]), ("hub", "GET", 302))
        self.assertEqual(e["path"], "/org/big-torch/resolve/main/model.safetensors")
        self.assertEqual(e["authorization"], "Bearer hf_good")
        self.assertEqual(e["query"], {})
        self.assertGreater(e["body_bytes"], 0)
        self.assertIsNone(e["served"])
        self.assertEqual([c["range"] for c in cdn_log], ["bytes=0-7", "bytes=100-199"])
        self.assertEqual([c["status"] for c in cdn_log], [206, 206])
        self.assertEqual([c["body_bytes"] for c in cdn_log], [8, 100])
        self.assertIsNone(cdn_log[0]["authorization"])
        self.assertIn("sig", cdn_log[0]["query"])
        self.assertNotIn("?", cdn_log[0]["path"])
        self.assertEqual(HUB.fetched_ranges("model.safetensors"), [(0, 7), (100, 199)])
        self.assertEqual(HUB.fetched_ranges("pytorch_model.bin"), [])
        self.assertEqual(HUB.bytes_served("cdn"), 108)
        self.assertEqual(HUB.bytes_served(files_only=True), 108)
        HUB.clear_log()
        self.assertEqual(HUB.requests(), [])

    def test_keep_alive_reuse(self):
        conn = http.client.HTTPConnection("127.0.0.1", int(HUB.endpoint.rsplit(":", 1)[1]), timeout=10)
        socks = set()
        for path, want in (("/api/models/org/big-torch", 200), ("/api/models/org/nothing", 401),
                           ("/org/big-torch/resolve/main/config.json", 307),
                           ("/api/models/org/many-files/tree/main?recursive=true", 200)):
            for method in ("GET", "HEAD"):
                conn.request(method, path)
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, want)
                self.assertFalse(r.will_close)
                socks.add(id(conn.sock))
        conn.close()
        self.assertEqual(len(socks), 1)

    def test_urllib_follows_both_redirects(self):
        # urllib drops nothing by itself; the CDN would 403 a forwarded Authorization
        with urllib.request.urlopen(HUB.resolve_url("org/keras-h5", "weights.safetensors")) as r:
            self.assertEqual(r.status, 200)
        req = urllib.request.Request(HUB.resolve_url("org/keras-h5", "model.h5"),
                                     headers={"Range": "bytes=0-3"})
        with urllib.request.urlopen(req) as r:
            self.assertEqual((r.status, r.read()), (206, b"\x89HDF"))
        self.assertEqual([e["listener"] for e in HUB.requests()], ["hub", "hub", "hub", "cdn"])


class TestControlAndDemo(unittest.TestCase):
    def test_control_endpoint(self):
        with FakeHub([fx.gated_repo()], control=True) as hub:
            def post(what, obj):
                r = request(hub.endpoint + "/_fake/" + what, "POST",
                            {"Content-Type": "application/json"}, json.dumps(obj).encode())
                self.assertEqual(r.status, 200, r.body)
            post("fault", {"listener": "hub", "ignore_range": True})
            post("rate_limit_next", {"n": 1, "retry_after": 2})
            r = request(hub.endpoint + "/api/models/org/gated")
            self.assertEqual((r.status, r.h("Retry-After")), (429, "2"))
            self.assertEqual(request(hub.endpoint + "/api/models/org/gated").status, 200)
            log = request(hub.endpoint + "/_fake/log?listener=hub").json()
            self.assertEqual([e["status"] for e in log], [429, 200])
            self.assertEqual(hub.requests()[0]["path"], "/api/models/org/gated")
            post("clear_log", {})
            self.assertEqual(hub.requests(), [])
            self.assertEqual(request(hub.endpoint + "/_fake/fault", "POST", {},
                                     b'{"bogus": 1}').status, 400)
        with FakeHub([fx.gated_repo()]) as hub:  # control off: just an unknown path
            self.assertEqual(request(hub.endpoint + "/_fake/log").status, 404)

    def test_demo_process(self):
        import signal
        import subprocess
        with tempfile.TemporaryDirectory() as d:
            ready = os.path.join(d, "ready.json")
            p = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "fake_hub.py"),
                                  "--demo", "--ready-file", ready],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                for _ in range(200):
                    if os.path.exists(ready):
                        break
                    time.sleep(0.02)
                with open(ready) as f:
                    info = json.load(f)
                r = request(info["endpoint"] + "/api/models/org/big-torch")
                self.assertEqual(r.json()["id"], "org/big-torch")
                self.assertTrue(info["cdn"].startswith("http://127.0.0.1:"))
            finally:
                p.send_signal(signal.SIGINT)
                out, err = p.communicate(timeout=10)
            self.assertEqual(p.returncode, 0, err)
            self.assertIn(b"fake Hub:  http://127.0.0.1:", out)
            self.assertEqual(err, b"")


class TestFixtures(unittest.TestCase):
    def test_crc32_zeros(self):
        for n in (0, 1, 7, 64, 1000, 65536 + 3):
            self.assertEqual(fx.crc32_zeros(n), zlib.crc32(b"\0" * n))
            self.assertEqual(fx.crc32_zeros(n, 0xDEADBEEF), zlib.crc32(b"\0" * n, 0xDEADBEEF))
        segs = [(3, b"abc"), (100, b"xyz")]
        spec = FileSpec.sparse(200, segs)
        self.assertEqual(fx.crc32_sparse(200, segs), zlib.crc32(spec.read(0, 200)))

    def test_sparse_filespec_hashes(self):
        spec = FileSpec.sparse(3 << 20, [(5, b"hello"), ((3 << 20) - 2, b"!!")])
        data = spec.read(0, spec.size)
        self.assertEqual(spec.sha256, hashlib.sha256(data).hexdigest())
        self.assertTrue(spec.lfs)
        small = FileSpec.sparse(100, [(10, b"x")])
        self.assertFalse(small.lfs)
        self.assertEqual(small.git_sha1, git_sha1(small.read(0, 100)))
        with self.assertRaises(ValueError):
            FileSpec.sparse(10, [(8, b"abc")])

    def test_big_checkpoint_zip(self):
        spec = fx.big_torch_checkpoint()
        self.assertGreaterEqual(spec.size, 6 * 10**9)
        self.assertLess(sum(len(b) for _, b in spec.segments), 16384)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "pytorch_model.bin")
            spec.materialise(path)
            self.assertEqual(os.path.getsize(path), spec.size)
            with zipfile.ZipFile(path) as z:
                infos = {i.filename: i for i in z.infolist()}
                self.assertEqual(set(infos), {"archive/data.pkl", "archive/byteorder", "archive/data/0",
                                              "archive/data/1", "archive/data/2", "archive/version",
                                              "archive/.data/serialization_id"})
                for name, key, numel, _ in fx.BIG_TORCH_TENSORS:
                    i = infos[f"archive/data/{key}"]
                    self.assertEqual(i.file_size, numel * 4)
                    self.assertEqual(i.compress_type, zipfile.ZIP_STORED)
                    self.assertEqual(i.CRC, fx.crc32_zeros(numel * 4))
                self.assertGreater(infos["archive/data/0"].file_size, 0xFFFFFFFF)
                self.assertGreater(infos["archive/data/1"].header_offset, 0xFFFFFFFF)
                # read() checks the CRC; the bytes are disassembled, never unpickled
                pkl = z.read("archive/data.pkl")
                self.assertEqual(z.read("archive/version"), b"3\n")
                self.assertEqual(z.read("archive/data/2"), b"\0" * 16384)
            with open(path, "rb") as fh:  # member data is 64-byte aligned, like torch.save
                for i in infos.values():
                    fh.seek(i.header_offset)
                    local = fh.read(30)
                    self.assertEqual(local[:4], b"PK\x03\x04")
                    nlen, elen = struct.unpack_from("<HH", local, 26)
                    self.assertEqual((i.header_offset + 30 + nlen + elen) % 64, 0, i.filename)
            globals_ = [a for op, a, _ in pickletools.genops(pkl) if op.name == "GLOBAL"]
            self.assertEqual(set(globals_), {"collections OrderedDict", "torch._utils _rebuild_tensor_v2",
                                             "torch FloatStorage"})
            self.assertEqual(sum(1 for op, _, _ in pickletools.genops(pkl) if op.name == "BINPERSID"), 3)

    def test_hostile_and_benign_pickles_by_disassembly(self):
        ops = [(op.name, a) for op, a, _ in pickletools.genops(fx.hostile_pickle("id"))]
        self.assertIn(("GLOBAL", "os system"), ops)
        self.assertEqual([o for o, _ in ops][-3:], ["REDUCE", "BINPUT", "STOP"])
        ops = [op.name for op, _, _ in pickletools.genops(fx.benign_pickle(3))]
        self.assertNotIn("GLOBAL", ops)
        self.assertNotIn("REDUCE", ops)

    def test_safetensors_header_covers_data(self):
        spec = fx.big_safetensors()
        n = struct.unpack("<Q", spec.read(0, 8))[0]
        self.assertEqual(n % 8, 0)
        meta = json.loads(spec.read(8, n))
        spans = sorted(v["data_offsets"] for k, v in meta.items() if k != "__metadata__")
        self.assertEqual(spans[0][0], 0)
        for a, b in zip(spans, spans[1:]):
            self.assertEqual(a[1], b[0])
        self.assertEqual(8 + n + spans[-1][1], spec.size)
        for k, v in meta.items():
            if k != "__metadata__":
                numel = 1
                for d in v["shape"]:
                    numel *= d
                self.assertEqual(v["data_offsets"][1] - v["data_offsets"][0], numel * 4)

    def test_npy_and_repos(self):
        b = fx.npy_bytes([1.0, 2.0])
        self.assertEqual(b[:8], b"\x93NUMPY\x01\x00")
        hl = struct.unpack_from("<H", b, 8)[0]
        self.assertEqual((10 + hl) % 64, 0)
        self.assertEqual(struct.unpack_from("<2f", b, 10 + hl), (1.0, 2.0))
        ids = [(r.repo_type, r.repo_id) for r in fx.all_repos()]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(len(fx.many_files_repo().revisions["main"]), 60)
        with self.assertRaises(ValueError):
            Repo("x/y", "bogus")


if __name__ == "__main__":
    unittest.main()
