#!/usr/bin/python3
"""Load every file of a generate.py output with its real loader, under an audit hook.

    /usr/bin/python3 bench/realworld/loadcheck.py OUTDIR [--timeout S] [--fresh] [--only SUBSTR]

Each file is loaded in its own child process (a fork of a parent that has imported the loader
libraries, or with --fresh a new /usr/bin/python3 per file), with a timeout and a memory limit.
The child installs `sys.addaudithook` AFTER importing the libraries (importing torch, numpy, ...
raises many harmless events) and then runs the loader named in OUTDIR/manifest.json. It reports:

  ok          the loader returned and no dangerous event was seen
  error       the loader raised (the file did not load; the message is kept)
  timeout     the child was killed after --timeout seconds
  dangerous   at least one dangerous event was seen (the first one is reported)

Dangerous events (the first is recorded; process, native-code and network events also raise, so
the loader stops there):
  - process: os.system, os.exec*, os.posix_spawn, os.spawn*, os.fork, os.forkpty, subprocess.Popen,
    pty.spawn, os.kill, os.killpg
  - native code: ctypes.dlopen, ctypes.dlsym, ctypes.call_function
  - network: socket.connect, socket.bind, socket.sendto, socket.getaddrinfo, urllib.Request,
    http.client.connect, ftplib.connect, smtplib.connect, webbrowser.open
  - code built at load time: code.__new__, marshal.loads/marshal.load, function.__new__;
    code events raised while a module is being imported (an importlib frame on the stack:
    marshal.loads of its .pyc, a Cython module's init code) are not counted: that code comes
    from the installed package, not from the file;
    compile() of text that is not a Python source file on disk (a real module being imported
    compiles its own .py file: not counted), and exec() of a code object whose co_filename is not
    a file on disk, unless the caller is listed in STDLIB_CODEGEN: collections.namedtuple and
    dataclasses (code from their own templates), ast.parse (an AST-only compile: ast.literal_eval,
    which numpy.load uses for .npy headers, runs nothing) and networkx's argmap decorator (compiles
    its own wrapper the first time a decorated function such as read_gpickle is called)
  - file system writes outside /tmp and /dev: open() for writing/appending/creating, os.remove,
    os.unlink, os.rename, os.replace, os.rmdir, shutil.rmtree, shutil.move, os.chmod, os.chown,
    os.symlink, os.link, os.truncate, os.mkdir, os.putenv, os.unsetenv
Everything else (import, pickle.find_class, open for reading, os.listdir, ...) is not counted.

Results: OUTDIR/loadcheck.json (sorted by path) and a summary on stdout.
"""
import argparse
import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
MEM_LIMIT = 16 << 30

PROCESS = {"os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
           "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg"}
NATIVE = {"ctypes.dlopen", "ctypes.dlsym", "ctypes.call_function"}
NETWORK = {"socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo",
           "urllib.Request", "http.client.connect", "ftplib.connect", "smtplib.connect",
           "webbrowser.open"}
CODE = {"code.__new__", "marshal.loads", "marshal.load", "function.__new__"}
FS_WRITE = {"os.remove", "os.unlink", "os.rename", "os.replace", "os.rmdir", "shutil.rmtree",
            "shutil.move", "os.chmod", "os.chown", "os.symlink", "os.link", "os.truncate",
            "os.mkdir", "os.putenv", "os.unsetenv"}
RAISE_ON = PROCESS | NATIVE | NETWORK
# callers whose compile() is not code from the file: stdlib code generators building text from
# their own templates, an AST-only compile (ast.parse, used by ast.literal_eval, which numpy.load
# uses for .npy headers), and networkx's argmap decorator compiling its own wrapper on first call
STDLIB_CODEGEN = ("/collections/__init__.py", "/dataclasses.py", "/ast.py",
                  "/networkx/utils/decorators.py")
SAFE_PREFIXES = ("/tmp/", "/dev/")

LOADER_LIBS = ["numpy", "pickle", "torch", "torchvision", "joblib", "sklearn", "pandas", "scipy",
               "scipy.sparse", "scipy.stats", "statsmodels.api", "networkx", "sympy", "nltk",
               "gensim", "gensim.models", "gensim.corpora", "xgboost", "skorch", "dill",
               "PIL.Image", "statsmodels.iolib.smpickle"]


def import_libs():
    import warnings
    warnings.filterwarnings("ignore")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for m in LOADER_LIBS:
        try:
            __import__(m)
        except Exception:  # noqa: BLE001 - a missing library shows as a loader error later
            pass
    try:
        import torch
        torch.set_num_threads(1)
    except Exception:  # noqa: BLE001
        pass


def load(path, loader):
    """Run the real loader; returns a short description of what was loaded."""
    if loader == "pickle.load":
        import pickle
        with open(path, "rb") as f:
            obj = pickle.load(f)
    elif loader == "torch.load":
        import torch
        obj = torch.load(path, map_location="cpu", weights_only=False)
    elif loader == "torch.jit.load":
        import torch
        obj = torch.jit.load(path, map_location="cpu")
    elif loader == "joblib.load":
        import joblib
        obj = joblib.load(path)
    elif loader == "numpy.load":
        import numpy as np
        obj = np.load(path, allow_pickle=True)
        if hasattr(obj, "files"):
            obj = {k: obj[k] for k in obj.files}
    elif loader == "scipy.sparse.load_npz":
        import scipy.sparse
        obj = scipy.sparse.load_npz(path)
    elif loader == "pandas.read_pickle":
        import pandas as pd
        obj = pd.read_pickle(path)
    elif loader == "statsmodels.load_pickle":
        from statsmodels.iolib.smpickle import load_pickle
        obj = load_pickle(path)
    elif loader == "networkx.read_gpickle":
        import networkx as nx
        obj = nx.read_gpickle(path)
    elif loader == "dill.load":
        import dill
        with open(path, "rb") as f:
            obj = dill.load(f)
    elif loader == "PIL.Image.open":
        from PIL import Image
        obj = Image.open(path)
        obj.load()
    elif loader.startswith("gensim:"):
        import gensim.models
        import gensim.corpora
        spec = loader[len("gensim:"):]
        cls_name, _, meth = spec.partition(".")
        cls = getattr(gensim.models, cls_name, None) or getattr(gensim.corpora, cls_name)
        if meth.startswith("load_word2vec_format"):
            obj = cls.load_word2vec_format(path, binary="binary=True" in meth)
        else:
            obj = cls.load(path)
    else:
        raise ValueError(f"unknown loader {loader}")
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


class Dangerous(Exception):
    pass


def is_py_file(name):
    return isinstance(name, str) and name.endswith(".py") and os.path.isfile(name)


def install_hook(events):
    import sys as _sys

    def caller():
        f = _sys._getframe(2)
        while f is not None:
            fn = f.f_code.co_filename
            if fn != __file__:
                return f"{fn}:{f.f_code.co_name}"
            f = f.f_back
        return "?"

    def importing():
        f = _sys._getframe(2)
        while f is not None:
            if f.f_code.co_filename.startswith("<frozen importlib"):
                return True
            f = f.f_back
        return False

    def writes(mode, flags):
        if isinstance(mode, str) and any(c in mode for c in "wax+"):
            return True
        if isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT |
                                               os.O_APPEND | os.O_TRUNC):
            return True
        return False

    def outside(path):
        if isinstance(path, int):
            return False
        try:
            p = os.path.abspath(os.fsdecode(path))
        except Exception:  # noqa: BLE001
            return True
        return not p.startswith(SAFE_PREFIXES) and p != "/dev/null"

    def note(kind, event, detail):
        if len(events) < 20:
            events.append({"kind": kind, "event": event, "detail": detail[:300],
                           "caller": caller()})

    def hook(event, args):
        try:
            if event in RAISE_ON or event.startswith(("os.exec", "os.spawn", "os.posix_spawn")):
                note("process/native/network", event, repr(args))
                raise Dangerous(event)
            if event in CODE:
                if not importing():
                    note("code", event, repr(args)[:200])
            elif event == "compile":
                src, filename = args[0], args[1]
                if not is_py_file(filename) and not importing():
                    c = caller()
                    if not c.split(":")[0].endswith(STDLIB_CODEGEN):
                        note("code", "compile", f"filename={filename!r} source={src!r}"[:300])
            elif event == "exec":
                code = args[0]
                fn = getattr(code, "co_filename", "")
                if not is_py_file(fn) and fn != "<string>" and not importing():
                    c = caller()
                    if not c.split(":")[0].endswith(STDLIB_CODEGEN):
                        note("code", "exec", f"co_filename={fn!r}")
            elif event == "open":
                path, mode, flags = (list(args) + [None, None, None])[:3]
                if writes(mode, flags) and outside(path):
                    note("file-write", "open", f"{path!r} mode={mode!r} flags={flags!r}")
            elif event in FS_WRITE:
                # os.symlink and os.link (src, dst, ...) write only dst: a link whose target
                # lies elsewhere is not a write there. A rename or move changes both paths.
                if event in ("os.symlink", "os.link"):
                    written = args[1:2]
                elif event in ("os.rename", "os.replace", "shutil.move"):
                    written = args[:2]
                else:
                    written = args[:1]
                if not args or any(outside(p) for p in written):
                    note("file-write", event, repr(args))
        except Dangerous:
            raise
        except Exception:  # noqa: BLE001 - the hook itself must never fail the load
            pass

    sys.addaudithook(hook)


def child_run(path, loader, timeout):
    """In the child: limit memory, hook, load. Returns the result dict."""
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))
    except Exception:  # noqa: BLE001
        pass
    events = []
    install_hook(events)
    t0 = time.time()
    res = {}
    try:
        res["loaded"] = load(path, loader)
        res["status"] = "ok"
    except Dangerous as exc:
        res["status"] = "dangerous"
        res["error"] = f"stopped at {exc}"
    except BaseException as exc:  # noqa: BLE001
        res["status"] = "error"
        res["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300] if str(exc) else \
            type(exc).__name__
    if events:
        res["status"] = "dangerous"
        res["event"] = events[0]
        res["events"] = events
    res["seconds"] = round(time.time() - t0, 2)
    return res


def run_forked(path, loader, timeout):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            res = child_run(path, loader, timeout)
            data = json.dumps(res).encode()
        except BaseException as exc:  # noqa: BLE001
            data = json.dumps({"status": "error", "error": f"harness: {exc}"}).encode()
        with os.fdopen(w, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(w)
    chunks = []
    deadline = time.time() + timeout
    timed_out = False
    while True:
        left = deadline - time.time()
        if left <= 0:
            timed_out = True
            break
        rl, _, _ = select.select([r], [], [], left)
        if rl:
            b = os.read(r, 1 << 16)
            if not b:
                break
            chunks.append(b)
    os.close(r)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if timed_out:
        return {"status": "timeout", "error": f"killed after {timeout} s"}
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        return {"status": "error", "error": f"child died (wait status {status})"}


def run_fresh(path, loader, timeout):
    try:
        p = subprocess.run(["/usr/bin/python3", __file__, "--child", path, loader],
                           capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"killed after {timeout} s"}
    try:
        return json.loads(p.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"status": "error", "error": f"child exit {p.returncode}: "
                f"{p.stderr.decode()[-200:]}"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--fresh", action="store_true", help="a new /usr/bin/python3 per file")
    ap.add_argument("--only", help="only files whose path contains this")
    ap.add_argument("--exclude", help="skip files whose path contains this")
    ap.add_argument("--output", help="results file (default OUTDIR/loadcheck.json)")
    ap.add_argument("--child", nargs=2, metavar=("PATH", "LOADER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        import_libs()
        print(json.dumps(child_run(args.child[0], args.child[1], args.timeout)))
        return 0
    out = os.path.abspath(args.outdir)
    with open(os.path.join(out, "manifest.json")) as f:
        files = json.load(f)["files"]
    if args.only:
        files = [e for e in files if args.only in e["path"]]
    if args.exclude:
        files = [e for e in files if args.exclude not in e["path"]]
    res_path = args.output or os.path.join(out, "loadcheck.json")
    if not args.fresh:
        import_libs()
    results = {}
    t_all = time.time()
    for i, e in enumerate(files):
        path = os.path.join(out, e["path"])
        runner = run_fresh if args.fresh else run_forked
        res = runner(path, e["loader"], args.timeout)
        res["loader"] = e["loader"]
        results[e["path"]] = res
        if res["status"] != "ok":
            print(f"  {res['status']}: {e['path']}: {res.get('error', '')} "
                  f"{json.dumps(res.get('event', ''))}", flush=True)
        if (i + 1) % 100 == 0:
            print(f"  ... {i + 1}/{len(files)} ({time.time() - t_all:.0f} s)", flush=True)
        if (i + 1) % 20 == 0 or i + 1 == len(files):
            write(res_path, results, len(files), t_all, args.fresh)
    return 0


def write(res_path, results, planned, t_all, fresh):
    counts = {}
    for r in results.values():
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    summary = {"files": len(results), "planned": planned,
               "by_status": dict(sorted(counts.items())),
               "seconds": round(time.time() - t_all, 1), "mode": "fresh" if fresh else "fork"}
    with open(res_path + ".tmp", "w") as f:
        json.dump({"summary": summary,
                   "files": {k: {kk: vv for kk, vv in v.items() if kk != "seconds"}
                             for k, v in sorted(results.items())}}, f, indent=1, sort_keys=True)
    os.replace(res_path + ".tmp", res_path)
    if len(results) == planned:
        print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    sys.exit(main())
