#!/usr/bin/env python3
"""A fake Hugging Face Hub on loopback, for tests that must never reach the internet.

It copies the parts of the real Hub a pre-download scanner depends on (see
/work/shared/reference/hugging-face-hub.md, section 6): repo info, the paginated tree listing,
``resolve`` with a relative 307 (small git files) or an absolute 302 to a second "CDN" listener
(LFS files), HTTP range requests, the Hub's auth / gated / disabled / not-found answers with
``X-Error-Code`` and ``X-Error-Message``, rate-limit headers and a 429 switch, and a request log
that says exactly which bytes were served.  Pure Python 3.11 standard library.

Usage::

    from fake_hub import FakeHub, Repo, FileSpec
    with FakeHub([Repo("org/x", revisions={"main": {"a.bin": FileSpec(data=b"...")}})],
                 page_size=5, tokens={"hf_good": {"approved": {"org/gated"}}}) as hub:
        hub.endpoint    # "http://127.0.0.1:PORT"  (the HF_ENDPOINT)
        hub.cdn         # "http://127.0.0.1:CDNPORT"
        hub.fault(ignore_range=True)          # both listeners
        hub.fault(listener="cdn", drop_mid_body=True)
        hub.rate_limit_next(2, retry_after=1)
        hub.server_error_next(1)
        hub.requests(listener="cdn"); hub.fetched_ranges("model.safetensors"); hub.bytes_served()

Repos and files
---------------
``Repo(repo_id, repo_type="model"|"dataset"|"space", revisions={name: {path: FileSpec}},
tags={tag: name-or-{path: FileSpec}}, gated=False|"auto"|"manual", private=False,
disabled=False, security_status=None|{"scansDone":..., "filesWithIssues":[...]},
renamed_from=None|"old/name")``.  Revision names are branches (``main``) or ``refs/pr/N``.
Each revision (and each tag that has its own files) gets the commit ``sha1("<type>/<id>@<name>")``.
A revision in a URL resolves by branch, tag, full 40-hex sha, unique sha prefix (>= 7 hex), or
``refs/pr/N`` (URL-quoted ``refs%2Fpr%2FN`` everywhere; the raw form is also accepted).

``FileSpec(data=b"...")`` holds real bytes.  ``FileSpec.sparse(size, segments=[(off, bytes)])``
is a virtual file of ``size`` bytes, zeros outside the segments; ranges are computed on the fly,
nothing is materialised.  ``lfs`` defaults to ``size >= 1 MiB``.  Hashes: the git blob SHA-1
(``oid``/``blobId``) and content SHA-256 (``lfs.oid``/``lfs.sha256``/``X-Linked-Etag``) are
real for files up to 64 MiB (sparse files are hashed in a streaming way); for larger sparse files
the SHA-256 is a deterministic FAKE (sha256 of a description of size + segments).  The SHA-1 of an
LFS file is that of its pointer file, as on the real Hub, so it is always consistent with
``lfs.oid``.  Optional per file: ``security`` (a full ``securityFileStatus`` dict), ``scan_status``
(``safe|unsafe|queued|unscanned|...``), ``pickle_imports`` (list of {module,name,safety}).

Tokens
------
``tokens={"hf_good": {"approved": {"org/gated"}, "private": {"org/private"}}}``: the token is
valid; ``approved`` lists gated repos it may download from, ``private`` the private repos it may
see.  A token not in ``tokens`` gets 401 ``Invalid credentials in Authorization header`` on every
Hub request.  Auth is checked on the Hub listener only.  Answers:

* unknown or private (not granted) repo: anonymous -> 401 ``RepoNotFound`` "Invalid username or
  password."; valid token -> 404 ``RepoNotFound``.
* gated repo: info / tree / paths-info / refs -> 200 (``"gated": "manual"``); resolve and
  resolve-cache -> 401 ``GatedRepo`` anonymously, 403 ``GatedRepo`` for an unapproved token, 200
  for an approved one.
* disabled repo: 403 ``DisabledRepo`` "Access to this resource is disabled."
* renamed repo: a relative 307 from ``renamed_from`` to the new name on ``/api/...`` and
  ``/resolve/`` (checked before auth).

Switches (thread-safe, settable while serving)
----------------------------------------------
``hub.fault(listener="both"|"hub"|"cdn", **switches)`` sets, ``hub.clear_faults()`` resets:

* ``ignore_range``: file responses answer 200 with the whole body.
* ``gzip``: when the request's Accept-Encoding allows gzip, file responses (<= 64 MiB) answer 200
  with the whole body gzip-compressed and ``Content-Encoding: gzip``, ignoring Range (as
  CloudFront does); larger files are not affected.  JSON answers on that listener are gzipped too.
* ``wrong_content_range``: ``"total"`` (or True) -> 206 whose Content-Range total is off by one;
  ``"start"`` -> 206 whose Content-Range names a range shifted by one byte.
* ``drop_mid_body``: send the headers with the full Content-Length, half the body, then close.
* ``single_use_urls`` (cdn): a signed CDN URL works once; its second use answers 403 "Request has
  expired" (tests a client's re-resolution without waiting for a real expiry).
* ``xet``: resolve answers for LFS files add ``X-Xet-Hash`` and a ``Link: <...>; rel="xet-auth",
  <...>; rel="xet-reconstruction-info"`` header; tree entries get ``xetHash``.

``hub.server_error_next(n, listener="hub", status=503, message=None)``: next n requests on that
listener answer with a 5xx (``message``: its X-Error-Message, control characters and all).  ``hub.rate_limit_next(n, retry_after=1, listener="hub")``: next n requests answer 429
with ``Retry-After`` and ``RateLimit: "api";r=0;t=<retry_after>``.  ``hub.signed_url_ttl``
(seconds, constructor ``signed_url_ttl=3600``): lifetime of CDN URLs; 0 makes them expire at once.

Range semantics (both listeners): ``bytes=a-b`` -> 206 (b clipped to total-1), ``bytes=a-`` and
suffix ``bytes=-n`` work, a start at or past EOF -> 416 ``Content-Range: bytes */total``,
MULTI-RANGE -> 416 (the fake never sends multipart/byteranges), a syntactically invalid Range is
ignored (200 full body, RFC 9110).  ``If-None-Match`` matching the ETag on resolve /
resolve-cache / CDN -> 304.

Request log
-----------
Every request on both listeners is appended as a dict: ``listener``, ``method``, ``path`` (no
query), ``query`` (dict of lists), ``range``, ``authorization``, ``accept_encoding``, ``status``,
``body_bytes`` (bytes actually written), ``served`` ((start, end) inclusive of the file bytes
actually sent, or None), ``note`` (e.g. ``"authorization-rejected"``).  Helpers:
``hub.requests(listener=None)``, ``hub.fetched_ranges(substring, listener=None)``,
``hub.bytes_served(listener=None, files_only=False)``, ``hub.clear_log()``.
``hub.server_errors`` lists unexpected exceptions raised inside handlers (should stay empty).

Demo / out-of-process use
-------------------------
``python3 tests/hub/fake_hub.py --demo [--page-size N] [--ready-file F]`` serves the fixture repos
until SIGINT or SIGTERM; ``--ready-file`` gets ``{"endpoint", "cdn", "pid"}`` (written atomically) once both
listeners are up.  With ``control=True`` (always in --demo) the Hub listener also answers, outside
the log and the fault switches: ``GET /_fake/log`` (JSON list of log entries; ``served`` as a
2-list), ``POST /_fake/clear_log``, ``/_fake/clear_faults``, ``/_fake/fault`` (JSON body = keyword
arguments of ``fault()``), ``/_fake/rate_limit_next``, ``/_fake/server_error_next`` (likewise),
``/_fake/signed_url_ttl`` (``{"ttl": seconds}``).
"""

from __future__ import annotations

import base64
import email.utils
import gzip as _gzip
import hashlib
import hmac
import json
import socket
import sys
import threading
import time
import urllib.parse
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MIB = 1 << 20
LFS_THRESHOLD = MIB  # files at least this big are LFS unless told otherwise
HASH_LIMIT = 64 * MIB  # real hashes up to this size, deterministic fake ones above
GZIP_LIMIT = 64 * MIB
CHUNK = MIB
_LAST_MODIFIED = "2026-01-15T12:00:00.000Z"
_SECRET = b"fake-hub-cdn-signing-key"


def _git_blob_sha1(chunks, size: int) -> str:
    h = hashlib.sha1(b"blob %d\0" % size)
    for c in chunks:
        h.update(c)
    return h.hexdigest()


class FileSpec:
    """One file of a revision: real bytes or a virtual sparse file."""

    def __init__(self, data: bytes | None = None, *, size: int | None = None, segments=None,
                 lfs: bool | None = None, security: dict | None = None,
                 scan_status: str | None = None, pickle_imports: list | None = None):
        if data is not None:
            if size is not None or segments:
                raise ValueError("give data or size/segments, not both")
            self.size = len(data)
            self.segments = [(0, bytes(data))] if data else []
        else:
            if size is None or size < 0:
                raise ValueError("sparse file needs a size")
            self.size = size
            segs = sorted(((int(o), bytes(b)) for o, b in (segments or []) if b), key=lambda s: s[0])
            end = 0
            for off, b in segs:
                if off < end or off + len(b) > size:
                    raise ValueError(f"segment at {off} overlaps or exceeds size {size}")
                end = off + len(b)
            self.segments = segs
        self.lfs = (self.size >= LFS_THRESHOLD) if lfs is None else bool(lfs)
        self.security = security
        self.scan_status = scan_status
        self.pickle_imports = pickle_imports

    @classmethod
    def sparse(cls, size: int, segments=None, **kw) -> "FileSpec":
        return cls(size=size, segments=segments, **kw)

    def read(self, offset: int, length: int) -> bytes:
        """Bytes [offset, offset+length) clipped to the file."""
        offset = max(0, offset)
        end = min(self.size, offset + max(0, length))
        if end <= offset:
            return b""
        buf = bytearray(end - offset)
        for off, b in self.segments:
            s, e = max(off, offset), min(off + len(b), end)
            if s < e:
                buf[s - offset:e - offset] = b[s - off:e - off]
        return bytes(buf)

    def iter_range(self, start: int, end_incl: int, chunk: int = CHUNK):
        pos = start
        while pos <= end_incl:
            n = min(chunk, end_incl + 1 - pos)
            yield self.read(pos, n)
            pos += n

    def materialise(self, path: str) -> None:
        """Write the file as a sparse local file (truncate + segments)."""
        with open(path, "wb") as f:
            f.truncate(self.size)
            for off, b in self.segments:
                f.seek(off)
                f.write(b)

    @cached_property
    def hashes_are_real(self) -> bool:
        return self.size <= HASH_LIMIT

    @cached_property
    def sha256(self) -> str:
        if self.hashes_are_real:
            h = hashlib.sha256()
            for c in self.iter_range(0, self.size - 1):
                h.update(c)
            return h.hexdigest()
        desc = hashlib.sha256(b"fake-hub sparse %d" % self.size)
        for off, b in self.segments:
            desc.update(b"|%d|" % off)
            desc.update(b)
        return desc.hexdigest()

    @cached_property
    def pointer(self) -> bytes:
        return (f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\n"
                f"size {self.size}\n").encode()

    @cached_property
    def git_sha1(self) -> str:
        """The git blob id: of the pointer for LFS files, of the content otherwise."""
        if self.lfs:
            return _git_blob_sha1([self.pointer], len(self.pointer))
        if self.hashes_are_real:
            return _git_blob_sha1(self.iter_range(0, self.size - 1), self.size)
        return hashlib.sha1(b"fake-hub blob " + self.sha256.encode()).hexdigest()

    @cached_property
    def xet_hash(self) -> str:
        return hashlib.sha256(b"xet" + self.sha256.encode()).hexdigest()


class Repo:
    """A repo: revisions (branches and refs/pr/N) of {path: FileSpec}, tags, access flags."""

    def __init__(self, repo_id: str, repo_type: str = "model", revisions=None, tags=None, *,
                 gated=False, private=False, disabled=False, security_status=None,
                 renamed_from=None):
        if repo_type not in ("model", "dataset", "space"):
            raise ValueError(repo_type)
        self.repo_id = repo_id
        self.repo_type = repo_type
        self.revisions = dict(revisions or {"main": {}})
        self.gated = gated
        self.private = private
        self.disabled = disabled
        self.security_status = security_status
        self.renamed_from = renamed_from
        # name -> (commit, files); tags either alias a revision name or carry their own files
        self._by_name: dict[str, tuple[str, dict]] = {}
        for name, files in self.revisions.items():
            self._by_name[name] = (self._commit_for(name), files)
        self.tags: dict[str, str] = {}
        for tag, val in (tags or {}).items():
            if isinstance(val, str):
                if val not in self._by_name:
                    raise ValueError(f"tag {tag} names unknown revision {val}")
                self.tags[tag] = val
                self._by_name.setdefault(tag, self._by_name[val])
            else:
                self.tags[tag] = tag
                self._by_name[tag] = (self._commit_for(tag), dict(val))

    def _commit_for(self, name: str) -> str:
        return hashlib.sha1(f"{self.repo_type}/{self.repo_id}@{name}".encode()).hexdigest()

    @property
    def type_plural(self) -> str:
        return self.repo_type + "s"

    @property
    def url_prefix(self) -> str:
        return "" if self.repo_type == "model" else self.type_plural + "/"

    def commit(self, name: str = "main") -> str:
        return self._by_name[name][0]

    def resolve(self, rev: str):
        """(commit, files) for a branch, tag, refs/pr/N, full sha or unique prefix; else None."""
        if rev in self._by_name:
            return self._by_name[rev]
        low = rev.lower()
        if 7 <= len(low) <= 40 and all(c in "0123456789abcdef" for c in low):
            hits = {c: f for c, f in self._by_name.values() if c.startswith(low)}
            if len(hits) == 1:
                return next(iter(hits.items()))
        return None

    def files_at_commit(self, commit: str):
        for c, f in self._by_name.values():
            if c == commit:
                return f
        return None


class _HubError(Exception):
    def __init__(self, status, message, code=None, headers=None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


_FAULT_NAMES = ("ignore_range", "gzip", "wrong_content_range", "drop_mid_body", "xet", "single_use_urls")


class FakeHub:
    """Two loopback listeners (Hub + CDN) serving `repos`; see the module docstring."""

    def __init__(self, repos, *, page_size: int = 50, tokens=None, signed_url_ttl: int = 3600,
                 control: bool = False):
        self.page_size = page_size
        self.control = control
        self.tokens = {k: {"approved": set(v.get("approved", ())),
                           "private": set(v.get("private", ()))} for k, v in (tokens or {}).items()}
        self.signed_url_ttl = signed_url_ttl
        # Seconds every request waits before it is answered (a network round trip, for the
        # benchmark's parallelism figures; tests leave it at 0).
        self.latency = 0.0
        self._used_sigs: set = set()
        self._nonce = 0
        self._repos: dict[tuple[str, str], Repo] = {}
        self._renamed: dict[tuple[str, str], Repo] = {}
        for r in repos:
            self.add_repo(r)
        self._lock = threading.Lock()
        self._log: list[dict] = []
        self._faults = {"hub": {}, "cdn": {}}
        self._errors_next = {"hub": [0, 503, None], "cdn": [0, 503, None]}
        self._ratelimit_next = {"hub": [0, 1], "cdn": [0, 1]}
        self._quota_used = {"api": 0, "resolvers": 0, "pages": 0}
        self.server_errors: list[str] = []
        self._servers = {}
        self._threads = []
        self._conns: set = set()

    # ---- configuration -------------------------------------------------------------------
    def add_repo(self, repo: Repo) -> None:
        self._repos[(repo.repo_type, repo.repo_id)] = repo
        if repo.renamed_from:
            self._renamed[(repo.repo_type, repo.renamed_from)] = repo

    def repo(self, repo_id: str, repo_type: str = "model") -> Repo:
        return self._repos[(repo_type, repo_id)]

    def _listeners(self, listener):
        if listener in ("both", None):
            return ("hub", "cdn")
        if listener not in ("hub", "cdn"):
            raise ValueError(listener)
        return (listener,)

    def fault(self, listener: str = "both", **switches) -> None:
        """Set fault switches (names in the module docstring); a false value clears one."""
        for k in switches:
            if k not in _FAULT_NAMES:
                raise ValueError(f"unknown fault {k}")
        with self._lock:
            for l in self._listeners(listener):
                for k, v in switches.items():
                    if v:
                        self._faults[l][k] = v
                    else:
                        self._faults[l].pop(k, None)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = {"hub": {}, "cdn": {}}
            self._errors_next = {"hub": [0, 503, None], "cdn": [0, 503, None]}
            self._ratelimit_next = {"hub": [0, 1], "cdn": [0, 1]}

    def server_error_next(self, n: int, listener: str = "hub", status: int = 503,
                          message: str | None = None) -> None:
        """`message`: the X-Error-Message to send (any text, control characters included)."""
        with self._lock:
            for l in self._listeners(listener):
                self._errors_next[l] = [n, status, message]

    def rate_limit_next(self, n: int, retry_after: int = 1, listener: str = "hub") -> None:
        with self._lock:
            for l in self._listeners(listener):
                self._ratelimit_next[l] = [n, retry_after]

    # ---- log -------------------------------------------------------------------------------
    def requests(self, listener: str | None = None) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._log if listener is None or e["listener"] == listener]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def fetched_ranges(self, substring: str = "", listener: str | None = None):
        """(start, end) inclusive file ranges actually sent by 200/206 answers for matching paths."""
        return [e["served"] for e in self.requests(listener)
                if e["served"] is not None and e["status"] in (200, 206)
                and substring in urllib.parse.unquote(e["path"])]

    def bytes_served(self, listener: str | None = None, files_only: bool = False) -> int:
        return sum(e["body_bytes"] for e in self.requests(listener)
                   if not files_only or e["served"] is not None)

    def _record(self, entry: dict) -> None:
        with self._lock:
            self._log.append(entry)

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> "FakeHub":
        for name in ("hub", "cdn"):
            srv = _Server(("127.0.0.1", 0), _Handler)
            srv.hub, srv.listener = self, name
            self._servers[name] = srv
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                                 name=f"fakehub-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        self.endpoint = "http://127.0.0.1:%d" % self._servers["hub"].server_address[1]
        self.cdn = "http://127.0.0.1:%d" % self._servers["cdn"].server_address[1]
        return self

    def stop(self) -> None:
        for srv in self._servers.values():
            srv.shutdown()
            srv.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=2)
        self._servers, self._threads = {}, []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- helpers for tests -----------------------------------------------------------------
    def resolve_url(self, repo_id: str, path: str, rev: str = "main", repo_type: str = "model") -> str:
        prefix = "" if repo_type == "model" else repo_type + "s/"
        return (f"{self.endpoint}/{prefix}{repo_id}/resolve/{urllib.parse.quote(rev, safe='')}/"
                f"{urllib.parse.quote(path)}")

    def _sign(self, path: str, expires: int, nonce: int = 0) -> str:
        return hmac.new(_SECRET, f"{path}|{expires}|{nonce}".encode(),
                        hashlib.sha256).hexdigest()[:32]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops SYNs under parallel clients (1 s retransmit)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        self.hub.server_errors.append(repr(exc))


def _iso(ts: str = _LAST_MODIFIED) -> str:
    return ts


def _quote_path(p: str) -> str:
    return urllib.parse.quote(p, safe="/")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeHub/1.0"
    timeout = 15

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        # headers and body go out in separate writes: without this, Nagle + delayed ACK would
        # add ~40 ms to every small answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.hub._lock:
            self.server.hub._conns.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.server.hub._lock:
                self.server.hub._conns.discard(self.connection)

    # ---- plumbing --------------------------------------------------------------------------
    @property
    def hub(self) -> FakeHub:
        return self.server.hub

    @property
    def listener(self) -> str:
        return self.server.listener

    def do_GET(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def _dispatch(self):
        raw_path, _, raw_query = self.path.partition("?")
        self._raw_path = raw_path
        self._raw_query = raw_query
        self._query = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
        self._entry = {
            "listener": self.listener, "method": self.command, "path": raw_path,
            "query": self._query, "range": self.headers.get("Range"),
            "authorization": self.headers.get("Authorization"),
            "accept_encoding": self.headers.get("Accept-Encoding"),
            "status": None, "body_bytes": 0, "served": None, "note": None,
            "time": time.time(),
        }
        self._extra_headers = {}
        self._recorded = False
        self._ratelimit_override = None
        self._body_in = b""
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self._body_in = self.rfile.read(n)
        if self.hub.latency:
            time.sleep(self.hub.latency)
        with self.hub._lock:
            self._faults = dict(self.hub._faults[self.listener])
        if self.hub.control and self.listener == "hub" and raw_path.startswith("/_fake/"):
            self._recorded = True  # not logged, no faults
            return self._control(raw_path[len("/_fake/"):])
        try:
            try:
                if not self._pre_checks():
                    if self.listener == "hub":
                        self._route_hub()
                    else:
                        self._route_cdn()
            except _HubError as e:
                self._send_error(e)
            except Exception as e:  # a bug in the fake: answer 500, remember it
                self.hub.server_errors.append(f"{self.command} {self.path}: {e!r}")
                self._send_error(_HubError(500, "Internal Error (fake hub)"))
        finally:
            if not self._recorded:
                self._recorded = True
                self.hub._record(self._entry)

    def _control(self, what: str) -> None:
        """Out-of-band control for tests in other languages (only with control=True)."""
        hub = self.hub
        try:
            args = json.loads(self._body_in or b"{}")
            if what == "log" and self.command == "GET":
                return self._send_json(hub.requests(self._query.get("listener", [None])[0]))
            if self.command != "POST":
                raise ValueError("use POST")
            if what == "clear_log":
                hub.clear_log()
            elif what == "clear_faults":
                hub.clear_faults()
            elif what == "fault":
                hub.fault(**args)
            elif what == "rate_limit_next":
                hub.rate_limit_next(**args)
            elif what == "server_error_next":
                hub.server_error_next(**args)
            elif what == "signed_url_ttl":
                hub.signed_url_ttl = int(args["ttl"])
            else:
                raise ValueError(f"unknown control {what}")
        except (ValueError, TypeError, KeyError) as e:
            return self._send_json({"error": str(e)}, 400)
        self._send_json({"ok": True})

    def _pre_checks(self) -> bool:
        """Injected 5xx / 429 answers; True when one was sent."""
        hub, l = self.hub, self.listener
        with hub._lock:
            err = hub._errors_next[l]
            rl = hub._ratelimit_next[l]
            if err[0] > 0:
                err[0] -= 1
                kind, val, message = "5xx", err[1], err[2]
            elif rl[0] > 0:
                rl[0] -= 1
                kind, val = "429", rl[1]
            else:
                return False
        if kind == "5xx":
            self._send_error(_HubError(val, message or "Service Unavailable (fake hub switch)"))
        else:
            self._ratelimit_override = f'"{self._bucket()}";r=0;t={val}'
            self._send_error(_HubError(429, "You have exceeded our rate limit (fake hub switch)",
                                       headers={"Retry-After": str(val)}))
        return True

    def _bucket(self) -> str:
        p = self._raw_path
        if "/resolve/" in p or p.startswith("/api/resolve-cache/"):
            return "resolvers"
        return "api" if p.startswith("/api/") else "pages"

    def _common_headers(self) -> dict:
        h = {}
        if self.listener == "hub":
            b = self._bucket()
            q = {"api": 1000, "resolvers": 5000, "pages": 200}[b]
            with self.hub._lock:
                self.hub._quota_used[b] += 1
                # never 0 on a normal answer: a client that waits out r=0 must not stall a test
                left = max(1, q - self.hub._quota_used[b])
            h["RateLimit"] = getattr(self, "_ratelimit_override", None) or f'"{b}";r={left};t=300'
            h["RateLimit-Policy"] = f'"fixed window";"{b}";q={q};w=300'
        return h

    def _start(self, status: int, headers: dict, length: int) -> None:
        self.send_response(status)
        for k, v in {**self._common_headers(), **self._extra_headers, **headers}.items():
            if isinstance(v, list):
                for x in v:
                    self.send_header(k, x)
            else:
                self.send_header(k, str(v))
        self.send_header("Content-Length", str(length))
        self._entry["status"] = status
        if not self._recorded:  # log before the client can see the answer
            self._recorded = True
            self.hub._record(self._entry)
        self.end_headers()

    def _write(self, data: bytes, served_from: int | None = None) -> bool:
        # counted before writing, so the log is complete when the client has the bytes
        with self.hub._lock:
            self._entry["body_bytes"] += len(data)
            if served_from is not None:
                first = self._entry["served"][0] if self._entry["served"] else served_from
                self._entry["served"] = (first, served_from + len(data) - 1)
        try:
            self.wfile.write(data)
        except (ConnectionError, OSError):
            with self.hub._lock:  # unknown how much went out: count none of this chunk
                self._entry["body_bytes"] -= len(data)
                if served_from is not None:
                    s = self._entry["served"]
                    self._entry["served"] = None if served_from <= s[0] else (s[0], served_from - 1)
            self.close_connection = True
            return False
        return True

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None,
              content_type: str = "application/json; charset=utf-8") -> None:
        h = {"Content-Type": content_type} if body or status >= 400 else {}
        h.update(headers or {})
        self._start(status, h, len(body))
        if self.command != "HEAD" and body:
            self._write(body)

    def _send_json(self, obj, status: int = 200, headers: dict | None = None) -> None:
        body = json.dumps(obj, separators=(",", ":")).encode()
        ae = (self.headers.get("Accept-Encoding") or "").lower()
        if self._faults.get("gzip") and "gzip" in ae and body:
            body = _gzip.compress(body, mtime=0)
            headers = {**(headers or {}), "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        self._send(status, body, headers)

    def _send_error(self, e: _HubError) -> None:
        h = {"X-Error-Message": e.message, **e.headers}
        if e.code:
            h["X-Error-Code"] = e.code
        self._send_json({"error": e.message}, e.status, h)

    # ---- auth ------------------------------------------------------------------------------
    def _token(self):
        """None for anonymous, the grants dict for a valid token; raises on a bad one."""
        auth = self.headers.get("Authorization")
        if auth is None:
            return None
        scheme, _, tok = auth.partition(" ")
        grants = self.hub.tokens.get(tok.strip()) if scheme.lower() == "bearer" else None
        if grants is None:
            raise _HubError(401, "Invalid credentials in Authorization header")
        return grants

    def _not_found(self, grants, repo_id: str):
        if grants is None:
            return _HubError(401, "Invalid username or password.", "RepoNotFound")
        return _HubError(404, "Repository not found", "RepoNotFound")

    def _repo_access(self, repo_type: str, repo_id: str, *, download: bool) -> Repo:
        grants = self._token()
        repo = self.hub._repos.get((repo_type, repo_id))
        if repo is None or (repo.private and (grants is None or repo_id not in grants["private"])):
            raise self._not_found(grants, repo_id)
        if repo.disabled:
            raise _HubError(403, "Access to this resource is disabled.", "DisabledRepo")
        if download and repo.gated:
            if grants is None:
                raise _HubError(401, f"Access to {repo.repo_type} {repo_id} is restricted. You must "
                                "have access to it and be authenticated to access it. Please log in.",
                                "GatedRepo")
            if repo_id not in grants["approved"]:
                raise _HubError(403, f"Access to {repo.repo_type} {repo_id} is restricted and you "
                                "are not in the authorized list. Visit "
                                f"https://huggingface.co/{repo_id} to ask for access.", "GatedRepo")
        return repo

    # ---- routing ---------------------------------------------------------------------------
    def _split_repo(self, segs: list[str], repo_type: str, stop_word: str | None = None):
        """(repo_id, rest) taking 2 segments as the id unless a 1-segment id is known."""
        if stop_word is not None:
            if stop_word in segs[1:3]:
                i = segs.index(stop_word, 1)
                return "/".join(segs[:i]), segs[i:]
            return None, None
        known = lambda rid: (repo_type, rid) in self.hub._repos or (repo_type, rid) in self.hub._renamed
        if len(segs) >= 1 and known(segs[0]) and not (len(segs) >= 2 and known("/".join(segs[:2]))):
            return segs[0], segs[1:]
        if len(segs) < 2:
            return None, None
        return "/".join(segs[:2]), segs[2:]

    @staticmethod
    def _take_rev(rest: list[str]):
        """Revision from URL segments: one (quoted) segment, or raw refs/pr/N."""
        if len(rest) >= 3 and rest[0] == "refs" and rest[1] == "pr":
            return "refs/pr/" + rest[2], rest[3:]
        if not rest:
            return None, []
        return urllib.parse.unquote(rest[0]), rest[1:]

    def _redirect_renamed(self, repo_type: str, repo_id: str, old_prefix: str, new_prefix: str) -> bool:
        repo = self.hub._renamed.get((repo_type, repo_id))
        if repo is None or (repo_type, repo_id) in self.hub._repos:
            return False
        loc = new_prefix + self._raw_path[len(old_prefix):]
        if self._raw_query:
            loc += "?" + self._raw_query
        body = f"Temporary Redirect. Redirecting to {loc}".encode()
        self._send(307, body, {"Location": loc}, "text/plain; charset=utf-8")
        return True

    def _route_hub(self):
        path = self._raw_path
        segs = [s for s in path.split("/") if s != ""]
        if segs[:2] == ["api", "resolve-cache"] and len(segs) >= 3:
            return self._resolve_cache(segs[2:])
        if len(segs) >= 3 and segs[0] == "api" and segs[1] in ("models", "datasets", "spaces"):
            repo_type = segs[1][:-1]
            repo_id, rest = self._split_repo(segs[2:], repo_type)
            if repo_id is None:
                raise _HubError(404, "Not Found")
            repo_id = urllib.parse.unquote(repo_id)
            old_prefix = f"/api/{segs[1]}/{repo_id}"
            if (repo_type, repo_id) in self.hub._renamed and path.startswith(old_prefix):
                new = self.hub._renamed[(repo_type, repo_id)].repo_id
                if self._redirect_renamed(repo_type, repo_id, old_prefix, f"/api/{segs[1]}/{new}"):
                    return
            return self._api(repo_type, repo_id, rest)
        # /{prefix}{repo}/resolve/{rev}/{path}
        repo_type = "model"
        s = segs
        if s and s[0] in ("datasets", "spaces"):
            repo_type, s = s[0][:-1], s[1:]
        repo_id, rest = self._split_repo(s, repo_type, stop_word="resolve")
        if repo_id is None or self.command not in ("GET", "HEAD"):
            raise _HubError(404, "Not Found")
        repo_id = urllib.parse.unquote(repo_id)
        prefix = "" if repo_type == "model" else repo_type + "s/"
        if (repo_type, repo_id) in self.hub._renamed:
            new = self.hub._renamed[(repo_type, repo_id)].repo_id
            if self._redirect_renamed(repo_type, repo_id, f"/{prefix}{repo_id}", f"/{prefix}{new}"):
                return
        return self._resolve(repo_type, repo_id, rest[1:])

    # ---- API -------------------------------------------------------------------------------
    def _rev_or_404(self, repo: Repo, rev: str):
        hit = repo.resolve(rev)
        if hit is None:
            raise _HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        return hit

    def _api(self, repo_type: str, repo_id: str, rest: list[str]):
        repo = self._repo_access(repo_type, repo_id, download=False)
        if self.command == "POST":
            if len(rest) >= 2 and rest[0] == "paths-info":
                rev, _ = self._take_rev(rest[1:])
                return self._paths_info(repo, rev)
            raise _HubError(405, "Method not allowed")
        if not rest:
            return self._info(repo, "main")
        head = rest[0]
        if head == "revision" and len(rest) >= 2:
            rev, more = self._take_rev(rest[1:])
            if more:
                raise _HubError(404, "Not Found")
            return self._info(repo, rev)
        if head == "tree" and len(rest) >= 2:
            rev, more = self._take_rev(rest[1:])
            return self._tree(repo, rev, urllib.parse.unquote("/".join(more)))
        if head == "scan" and len(rest) == 1:
            return self._send_json(self._repo_security(repo))
        if head == "refs" and len(rest) == 1:
            return self._refs(repo)
        raise _HubError(404, "Not Found")

    def _repo_security(self, repo: Repo) -> dict:
        return repo.security_status or {"scansDone": False, "filesWithIssues": []}

    def _info(self, repo: Repo, rev: str):
        commit, files = self._rev_or_404(repo, rev)
        q = self._query
        blobs = q.get("blobs", ["false"])[0].lower() == "true"
        sec = q.get("securityStatus", ["false"])[0].lower() == "true"
        expand = q.get("expand", []) + q.get("expand[]", [])
        if expand and (blobs or sec):
            raise _HubError(400, "expand cannot be combined with blobs or securityStatus")
        siblings = []
        for p in sorted(files):
            f = files[p]
            s = {"rfilename": p}
            if blobs:
                s["size"] = f.size
                s["blobId"] = f.git_sha1
                if f.lfs:
                    s["lfs"] = {"size": f.size, "sha256": f.sha256, "pointerSize": len(f.pointer)}
            siblings.append(s)
        ns = repo.repo_id.split("/")[0] if "/" in repo.repo_id else None
        out = {
            "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "author": ns,
            "sha": commit,
            "lastModified": _iso(),
            "createdAt": "2025-06-01T00:00:00.000Z",
            "private": repo.private,
            "gated": repo.gated,
            "disabled": repo.disabled,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": sum(f.size for f in files.values()),
        }
        if repo.repo_type == "model":
            out["modelId"] = repo.repo_id
        if sec:
            out["securityRepoStatus"] = self._repo_security(repo)
        if expand:
            keep = {"_id", "id"} | set(expand)
            out = {k: v for k, v in out.items() if k in keep}
        self._send_json(out)

    def _file_security(self, repo: Repo, path: str, f: FileSpec) -> dict:
        if f.security is not None:
            return f.security
        status = f.scan_status
        if status is None:
            for it in (repo.security_status or {}).get("filesWithIssues", []):
                if it.get("path") == path:
                    status = it.get("level")
            if status is None:
                status = "safe" if repo.security_status and repo.security_status.get("scansDone") else "unscanned"
        pick = {"status": status, "pickleImports": f.pickle_imports or [], "version": "0.0.0"}
        if not f.pickle_imports:
            pick = {"status": status if status != "unsafe" else "safe"}
        return {
            "status": status,
            "avScan": {"status": "safe" if status in ("safe", "unsafe") else status},
            "pickleImportScan": pick,
            "protectAiScan": {"status": status, "message": f"Protect AI scan: {status}",
                              "reportLink": "https://example.invalid/protectai",
                              "reportLabel": "Protect AI report"},
            "jFrogScan": {"status": status, "message": f"JFrog scan: {status}",
                          "reportLink": "https://example.invalid/jfrog", "reportLabel": "JFrog report"},
            "virusTotalScan": {"status": "safe" if status in ("safe", "unsafe") else status},
        }

    def _entries(self, repo: Repo, commit: str, files: dict, base: str, recursive: bool):
        """Sorted tree entries under `base` ('' = root); None if base does not exist."""
        dirs = set()
        for p in files:
            parts = p.split("/")
            for i in range(1, len(parts)):
                dirs.add("/".join(parts[:i]))
        if base and base not in dirs:
            return None
        pre = base + "/" if base else ""
        out = []
        for d in dirs:
            if d.startswith(pre) and (recursive or "/" not in d[len(pre):]):
                out.append(("directory", d, None))
        for p, f in files.items():
            if p.startswith(pre) and (recursive or "/" not in p[len(pre):]):
                out.append(("file", p, f))
        out.sort(key=lambda e: e[1])
        return out

    def _entry_json(self, repo: Repo, commit: str, kind: str, path: str, f, expand: bool) -> dict:
        if kind == "directory":
            e = {"type": "directory",
                 "oid": hashlib.sha1(f"tree {commit} {path}".encode()).hexdigest(),
                 "size": 0, "path": path}
        else:
            e = {"type": "file", "oid": f.git_sha1, "size": f.size, "path": path}
            if f.lfs:
                e["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": len(f.pointer)}
            if self._faults.get("xet") and f.lfs:
                e["xetHash"] = f.xet_hash
        if expand:
            e["lastCommit"] = {"id": commit, "title": f"Upload {path}", "date": _iso()}
            if kind == "file":
                e["securityFileStatus"] = self._file_security(repo, path, f)
        return e

    def _tree(self, repo: Repo, rev, path: str):
        if rev is None:
            raise _HubError(404, "Not Found")
        commit, files = self._rev_or_404(repo, rev)
        q = self._query
        recursive = q.get("recursive", ["false"])[0].lower() in ("true", "1")
        expand = q.get("expand", ["false"])[0].lower() in ("true", "1")
        path = path.strip("/")
        entries = self._entries(repo, commit, files, path, recursive)
        if entries is None:
            raise _HubError(404, f"{path} does not exist on \"{rev}\"", "EntryNotFound",
                            {"X-Repo-Commit": commit})
        limit = self.hub.page_size
        if "limit" in q:
            try:
                limit = max(1, min(limit, int(q["limit"][0])))
            except ValueError:
                raise _HubError(400, "Invalid limit")
        start = 0
        if "cursor" in q:
            try:
                cur = json.loads(base64.urlsafe_b64decode(q["cursor"][0].encode()))
                start = int(cur["o"])
                if cur["c"] != commit or start < 0:
                    raise ValueError
            except Exception:
                raise _HubError(400, "Invalid cursor")
        page = entries[start:start + limit]
        headers = {}
        if start + limit < len(entries):
            cur = base64.urlsafe_b64encode(json.dumps({"o": start + limit, "c": commit}).encode()).decode()
            params = [(k, v) for k, v in urllib.parse.parse_qsl(self._raw_query, keep_blank_values=True)
                      if k != "cursor"] + [("cursor", cur)]
            nxt = f"{self.hub.endpoint}{self._raw_path}?{urllib.parse.urlencode(params)}"
            headers["Link"] = f'<{nxt}>; rel="next"'
        self._send_json([self._entry_json(repo, commit, k, p, f, expand) for k, p, f in page],
                        headers=headers)

    def _paths_info(self, repo: Repo, rev):
        commit, files = self._rev_or_404(repo, rev or "main")
        ctype = self.headers.get("Content-Type", "")
        paths, expand = [], False
        try:
            if "json" in ctype:
                body = json.loads(self._body_in or b"{}")
                paths = list(body.get("paths", []))
                expand = bool(body.get("expand", False))
            else:
                form = urllib.parse.parse_qs(self._body_in.decode(), keep_blank_values=True)
                paths = form.get("paths", [])
                expand = form.get("expand", ["false"])[0].lower() in ("true", "1")
        except Exception:
            raise _HubError(400, "Invalid body")
        if len(paths) > 2000:
            raise _HubError(400, "Too many paths")
        entries = self._entries(repo, commit, files, "", True)
        by_path = {p: (k, f) for k, p, f in entries}
        out = [self._entry_json(repo, commit, by_path[p][0], p, by_path[p][1], expand)
               for p in paths if isinstance(p, str) and p in by_path]
        self._send_json(out)

    def _refs(self, repo: Repo):
        branches, prs = [], []
        for name in repo.revisions:
            c = repo.commit(name)
            if name.startswith("refs/pr/"):
                prs.append({"name": name.rsplit("/", 1)[1], "ref": name, "targetCommit": c})
            else:
                branches.append({"name": name, "ref": f"refs/heads/{name}", "targetCommit": c})
        tags = [{"name": t, "ref": f"refs/tags/{t}", "targetCommit": repo.commit(t)} for t in repo.tags]
        out = {"branches": branches, "tags": tags, "converts": []}
        if self._query.get("include_prs", ["0"])[0] in ("1", "true"):
            out["pullRequests"] = prs
        self._send_json(out)

    # ---- resolve ---------------------------------------------------------------------------
    def _resolve(self, repo_type: str, repo_id: str, rest: list[str]):
        repo = self._repo_access(repo_type, repo_id, download=True)
        rev, more = self._take_rev(rest)
        if rev is None:
            raise _HubError(404, "Not Found")
        commit, files = self._rev_or_404(repo, rev)
        path = urllib.parse.unquote("/".join(more))
        f = files.get(path)
        if f is None:
            raise _HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": commit})
        qpath = _quote_path(path)
        if not f.lfs:
            etag = f'"{f.git_sha1}"'
            hdr = {"X-Repo-Commit": commit, "ETag": etag}
            if self._if_none_match(etag):
                return self._send(304, b"", hdr)
            loc = (f"/api/resolve-cache/{repo.type_plural}/{repo.repo_id}/{commit}/{qpath}"
                   f"?etag={urllib.parse.quote(etag, safe='')}")
            hdr["Location"] = loc
            return self._send(307, f"Temporary Redirect. Redirecting to {loc}".encode(), hdr,
                              "text/plain; charset=utf-8")
        etag = f'"{f.sha256}"'
        hdr = {"X-Repo-Commit": commit, "ETag": etag, "X-Linked-Etag": etag, "X-Linked-Size": f.size}
        if self._faults.get("xet"):
            hdr["X-Xet-Hash"] = f.xet_hash
            hdr["Link"] = (f"<{self.hub.endpoint}/api/{repo.type_plural}/{repo.repo_id}/xet-read-token/"
                           f"{commit}>; rel=\"xet-auth\", <http://127.0.0.1:9/reconstruction/"
                           f"{f.xet_hash}>; rel=\"xet-reconstruction-info\"")
        if self._if_none_match(etag):
            return self._send(304, b"", hdr)
        cdn_path = f"/repos/{repo.type_plural}/{repo.repo_id}/{commit}/{qpath}"
        expires = int(time.time()) + int(self.hub.signed_url_ttl)
        with self.hub._lock:
            self.hub._nonce += 1
            nonce = self.hub._nonce
        sig = self.hub._sign(cdn_path, expires, nonce)
        loc = (f"{self.hub.cdn}{cdn_path}?response-content-disposition=inline&expires={expires}"
               f"&nonce={nonce}&sig={sig}")
        hdr["Location"] = loc
        self._send(302, f"Found. Redirecting to {loc}".encode(), hdr, "text/plain; charset=utf-8")

    def _if_none_match(self, etag: str) -> bool:
        inm = self.headers.get("If-None-Match")
        if not inm:
            return False
        cands = [c.strip().removeprefix("W/") for c in inm.split(",")]
        return "*" in cands or etag in cands

    def _lookup_commit_file(self, segs: list[str]):
        """segs = [type_plural, *repo_id, commit, *path] -> (repo, commit, path, FileSpec)."""
        if len(segs) < 4 or segs[0] not in ("models", "datasets", "spaces"):
            raise _HubError(404, "Not Found")
        repo_type = segs[0][:-1]
        for n in (2, 1):
            rid = urllib.parse.unquote("/".join(segs[1:1 + n]))
            repo = self.hub._repos.get((repo_type, rid))
            if repo is not None and len(segs) > 2 + n:
                commit = segs[1 + n]
                return repo_type, rid, commit, urllib.parse.unquote("/".join(segs[2 + n:]))
        return repo_type, urllib.parse.unquote("/".join(segs[1:3])), None, None

    def _resolve_cache(self, segs):
        repo_type, repo_id, commit, path = self._lookup_commit_file(segs)
        repo = self._repo_access(repo_type, repo_id, download=True)
        files = repo.files_at_commit(commit) if commit else None
        if files is None:
            raise _HubError(404, f"Invalid rev id: {commit}", "RevisionNotFound")
        f = files.get(path)
        if f is None:
            raise _HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": commit})
        self._serve_file(f, {"X-Repo-Commit": commit, "ETag": f'"{f.git_sha1}"'})

    # ---- CDN -------------------------------------------------------------------------------
    def _route_cdn(self):
        if self.headers.get("Authorization") is not None:
            self._entry["note"] = "authorization-rejected"
            raise _HubError(403, "Authorization header is not allowed on signed URLs", "AccessDenied")
        segs = [s for s in self._raw_path.split("/") if s]
        if self.command not in ("GET", "HEAD") or len(segs) < 2 or segs[0] != "repos":
            raise _HubError(404, "Not Found", "NoSuchKey")
        q = self._query
        sig, expires = q.get("sig", [""])[0], q.get("expires", [""])[0]
        try:
            exp = int(expires)
            nonce = int(q.get("nonce", ["0"])[0])
        except ValueError:
            exp = None
        if exp is None or not hmac.compare_digest(sig, self.hub._sign(self._raw_path, exp, nonce)):
            self._entry["note"] = "bad-signature"
            raise _HubError(403, "Request signature does not match", "SignatureDoesNotMatch")
        if time.time() >= exp:
            self._entry["note"] = "expired"
            raise _HubError(403, "Request has expired", "AccessDenied")
        if self._faults.get("single_use_urls"):
            # Each signed URL works once: the second use looks like an expired URL, so a client
            # must go back to the Hub for a fresh one (what happens after an hour on the CDN).
            with self.hub._lock:
                used = sig in self.hub._used_sigs
                self.hub._used_sigs.add(sig)
            if used:
                self._entry["note"] = "expired"
                raise _HubError(403, "Request has expired", "AccessDenied")
        repo_type, repo_id, commit, path = self._lookup_commit_file(segs[1:])
        repo = self.hub._repos.get((repo_type, repo_id))
        files = repo.files_at_commit(commit) if (repo and commit) else None
        f = files.get(path) if files else None
        if f is None:
            raise _HubError(404, "The specified key does not exist.", "NoSuchKey")
        etag = f'"{f.xet_hash if self._faults.get("xet") else f.sha256}"'
        self._serve_file(f, {"ETag": etag, "Last-Modified": email.utils.formatdate(1768478400, usegmt=True),
                             "Cache-Control": "public, max-age=604800, immutable"},
                         content_type="binary/octet-stream")

    # ---- bytes -----------------------------------------------------------------------------
    def _parse_range(self, total: int):
        """None (no/ignored range), 'multi', 'unsat' or (start, end_incl)."""
        rng = self.headers.get("Range")
        if rng is None:
            return None
        rng = rng.strip()
        if not rng.lower().startswith("bytes="):
            return None
        spec = rng[6:].strip()
        if "," in spec:
            return "multi"
        a, sep, b = spec.partition("-")
        a, b = a.strip(), b.strip()
        if not sep or (a and not a.isdigit()) or (b and not b.isdigit()) or (not a and not b):
            return None
        if not a:  # suffix
            n = int(b)
            if n == 0 or total == 0:
                return "unsat"
            return (max(0, total - n), total - 1)
        start = int(a)
        end = int(b) if b else total - 1
        if b and end < start:
            return None
        if start >= total:
            return "unsat"
        return (start, min(end, total - 1))

    def _serve_file(self, f: FileSpec, headers: dict, content_type: str = "application/octet-stream"):
        headers = {"Accept-Ranges": "bytes", "Content-Type": content_type, **headers}
        etag = headers.get("ETag")
        if etag and self._if_none_match(etag):
            return self._send(304, b"", headers)
        total = f.size
        faults = self._faults
        ae = (self.headers.get("Accept-Encoding") or "").lower()
        if faults.get("gzip") and "gzip" in ae and total <= GZIP_LIMIT:
            body = _gzip.compress(f.read(0, total), mtime=0)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
            if self.command != "HEAD" and total:
                with self.hub._lock:
                    self._entry["served"] = (0, total - 1)
            self._start(200, headers, len(body))
            if self.command != "HEAD" and not self._write(body):
                with self.hub._lock:
                    self._entry["served"] = None
            return
        rng = self._parse_range(total)
        if faults.get("ignore_range") and rng is not None:
            rng = None
        if rng == "multi" or rng == "unsat":
            self._entry["note"] = "multi-range" if rng == "multi" else "unsatisfiable"
            body = b""
            headers = {**headers, "Content-Range": f"bytes */{total}"}
            headers.pop("Content-Type", None)
            return self._send(416, body, headers)
        if rng is None:
            status, start, end = 200, 0, total - 1
        else:
            status, (start, end) = 206, rng
            wcr = faults.get("wrong_content_range")
            if wcr == "start":
                headers["Content-Range"] = f"bytes {start + 1}-{end + 1}/{total}"
            elif wcr:
                headers["Content-Range"] = f"bytes {start}-{end}/{total + 1}"
            else:
                headers["Content-Range"] = f"bytes {start}-{end}/{total}"
        length = max(0, end - start + 1)
        self._start(status, headers, length)
        if self.command == "HEAD" or length == 0:
            return
        limit = length // 2 if faults.get("drop_mid_body") else length
        if faults.get("drop_mid_body"):
            self._entry["note"] = "dropped-mid-body"
        pos = start
        for chunk in f.iter_range(start, start + limit - 1):
            if not self._write(chunk, served_from=pos):
                break
            pos += len(chunk)
        if faults.get("drop_mid_body"):
            self.close_connection = True
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _demo(argv) -> int:
    import argparse
    import os
    ap = argparse.ArgumentParser(description="serve the fixture repos on loopback")
    ap.add_argument("--demo", action="store_true")
    ap.add_argument("--page-size", type=int, default=None)
    ap.add_argument("--ready-file", help='write {"endpoint":..., "cdn":...} here once listening')
    opts = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import fixtures
    import signal

    def _stop(*_):
        raise KeyboardInterrupt

    # explicit: a background job of a non-interactive shell inherits SIGINT as ignored
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    hub = FakeHub(fixtures.all_repos(), page_size=opts.page_size or fixtures.TEST_PAGE_SIZE,
                  tokens=fixtures.TOKENS, control=True)
    hub.start()
    out = lambda *a: print(*a, flush=True)
    out(f"fake Hub:  {hub.endpoint}   (export HF_ENDPOINT={hub.endpoint})")
    out(f"fake CDN:  {hub.cdn}")
    out("tokens:    " + ", ".join(sorted(fixtures.TOKENS)))
    for (t, rid), r in sorted(hub._repos.items()):
        flags = [k for k in ("private", "disabled") if getattr(r, k)] + (["gated"] if r.gated else [])
        out(f"  {t:8s} {rid:28s} {r.commit('main')[:12]} {' '.join(flags)}")
    out(f"try: curl -s '{hub.endpoint}/api/models/org/big-torch/tree/main?recursive=true'")
    out(f"control: curl -s {hub.endpoint}/_fake/log ; curl -s -XPOST -d '{{\"ignore_range\":true}}' "
        f"{hub.endpoint}/_fake/fault")
    out("Ctrl-C to stop")
    if opts.ready_file:
        tmp = opts.ready_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"endpoint": hub.endpoint, "cdn": hub.cdn, "pid": os.getpid()}, f)
        os.replace(tmp, opts.ready_file)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    if "--demo" in sys.argv[1:]:
        sys.exit(_demo(sys.argv[1:]))
    print(__doc__)
    print("run with --demo to serve the fixture repos")
