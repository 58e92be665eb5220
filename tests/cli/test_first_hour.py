#!/usr/bin/python3
"""What a new user meets first (issue 14), through the real binary: nothing skipped without a
word, no report written over a model, no terminal escape from a file or member name, model-named
files that are not their format, --allow entries that can do nothing, and the small options.

Run by ctest with MSCAN=<path to mscan>. Standard library only. Hostile pickles are written as
raw opcode bytes and never loaded.
"""

from __future__ import annotations

import io
import os
import pty
import re
import shutil
import struct
import subprocess
import tempfile
import unittest
import zipfile
from pathlib import Path

MSCAN = os.path.realpath(os.environ["MSCAN"])
# posix.system('id') as protocol 0 opcodes: GLOBAL, MARK, STRING, TUPLE, REDUCE, STOP.
PAYLOAD = b"cposix\nsystem\n(S'id'\ntR."
# {'a': 1} as protocol 2 (what pickle.dumps writes), no global at all.
BENIGN = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s."
# Any byte that moves the cursor, erases, or ends a line must not reach the terminal raw.
RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xae\xab]")


def safetensors(header: bytes = b"{}") -> bytes:
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header


class Case(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="mscan-first-hour."))
        self.addCleanup(self.cleanup)

    def cleanup(self):
        for root, dirs, _ in os.walk(self.dir):
            for d in dirs:
                p = os.path.join(root, d)
                if not os.path.islink(p):
                    os.chmod(p, 0o755)
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, rel: str, data: bytes) -> Path:
        p = self.dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        return p

    def run_mscan(self, *args, env=None, user_cmd=None, cwd=None):
        cmd = (user_cmd or []) + [MSCAN, "--no-config", *[str(a) for a in args]]
        e = dict(os.environ)
        e.pop("NO_COLOR", None)
        e.update(env or {})
        p = subprocess.run(cmd, capture_output=True, env=e, timeout=120, cwd=cwd or self.dir)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode(
            "utf-8", "replace"), p

    def assert_no_raw_control(self, p):
        for name, data in (("stdout", p.stdout), ("stderr", p.stderr)):
            data = data.replace(b"\n", b"")
            m = RAW_CONTROL.search(data)
            self.assertIsNone(m, f"raw control byte in {name}: {data[:2000]!r}")


def as_unprivileged() -> list[str]:
    """A command prefix that runs as an unprivileged user, so that mode 000 denies (root
    reads any folder). Empty when not root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if not setpriv:
        raise unittest.SkipTest("running as root without setpriv(1): cannot drop privileges")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


class NoSilentSkips(Case):
    def unprivileged_copy(self):
        """The binary where an unprivileged user can run it (root's build tree may be 0700)."""
        exe = self.dir / "bin" / "mscan"
        exe.parent.mkdir(exist_ok=True)
        shutil.copy2(MSCAN, exe)
        os.chmod(self.dir, 0o755)
        os.chmod(exe.parent, 0o755)
        os.chmod(exe, 0o755)
        return exe

    def run_unprivileged(self, *args):
        """models/a.pkl (benign) beside models/noaccess/ (mode 000, holding a payload); mscan
        run with `args` as a user the mode denies."""
        self.write("models/a.pkl", BENIGN)
        self.write("models/noaccess/evil.pkl", PAYLOAD)
        os.chmod(self.dir / "models", 0o755)
        os.chmod(self.dir / "models" / "noaccess", 0)
        prefix = as_unprivileged()
        exe = self.unprivileged_copy() if prefix else MSCAN
        return subprocess.run(prefix + [str(exe), "--no-config", *args], capture_output=True,
                              text=True, cwd=self.dir, timeout=60)

    def test_unreadable_folder_is_an_error_even_with_a_clean_file(self):
        p = self.run_unprivileged("--fail-on", "critical", "models/a.pkl", "models/")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("models/noaccess: cannot list directory", p.stdout)
        self.assertIn("errors 1", p.stdout)
        # Alone: still an error (2), not "nothing scannable" (3).
        p = self.run_unprivileged("models/noaccess")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)

    def test_incomplete_baseline_says_so(self):
        out = self.dir / "out"
        out.mkdir()
        os.chmod(out, 0o777)
        p = self.run_unprivileged("--write-baseline", str(out / "base.json"), "models")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("INCOMPLETE", p.stderr)

    def test_symlinked_folders_are_followed_once(self):
        self.write("tree/real/evil.pkl", PAYLOAD)
        os.symlink("real", self.dir / "tree" / "alias")       # a second way to one folder
        os.symlink("..", self.dir / "tree" / "real" / "up")   # a loop
        self.write("elsewhere/other.pkl", PAYLOAD)
        os.symlink(self.dir / "elsewhere", self.dir / "tree" / "outside")
        code, out, err, _ = self.run_mscan("--show-skipped", "tree")
        self.assertEqual(code, 1, out + err)
        self.assertIn("tree/real/evil.pkl", out)
        self.assertIn("tree/outside/other.pkl", out)  # a linked folder's files are scanned
        self.assertNotIn("tree/alias/evil.pkl", out)   # ... once
        self.assertIn("tree/alias: symbolic link to a directory already scanned", out)
        self.assertIn("tree/real/up: symbolic link to a directory already scanned", out)
        # Without --show-skipped the summary still counts them.
        code, out, _, _ = self.run_mscan("tree")
        self.assertIn("2 paths were skipped for other reasons", out)

    def test_broken_link_is_an_error(self):
        self.write("tree/ok.pkl", BENIGN)
        os.symlink("nowhere", self.dir / "tree" / "gone.pkl")
        code, out, _, _ = self.run_mscan("tree")
        self.assertEqual(code, 2, out)
        self.assertIn("gone.pkl: broken symbolic link", out)


class ReportNeverOverwritesAModel(Case):
    def test_output_over_a_target(self):
        model = self.write("model.joblib", PAYLOAD)
        for opt in ("-o", "--output", "--write-baseline"):
            code, out, err, _ = self.run_mscan(opt, "model.joblib", "model.joblib")
            self.assertEqual(code, 4, err)
            self.assertIn("it is a scan target", err)
            self.assertEqual(model.read_bytes(), PAYLOAD)

    def test_output_over_a_model_inside_a_folder_target(self):
        model = self.write("models/sub/model.pkl", PAYLOAD)
        code, _, err, _ = self.run_mscan("-o", "models/sub/model.pkl", "models")
        self.assertEqual(code, 4, err)
        self.assertIn("a file this scan read", err)
        self.assertEqual(model.read_bytes(), PAYLOAD)

    def test_a_report_in_the_scanned_folder_may_be_rewritten(self):
        self.write("models/model.pkl", BENIGN)
        for _ in range(2):  # the second run finds the first run's report (not a model)
            code, _, err, _ = self.run_mscan("-f", "sarif", "-o", "models/mscan.sarif", "models")
            self.assertEqual(code, 0, err)
        self.assertTrue((self.dir / "models" / "mscan.sarif").read_bytes().startswith(b"{"))


class TerminalEscapes(Case):
    NASTY = "\r\x1b[2K\x1b[1Aclean \x9b\u202e"

    def test_member_and_file_names_are_escaped_in_text(self):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(self.NASTY + ".pkl", PAYLOAD)
        self.write("evil.zip", buf.getvalue())
        self.write("name\x1b[31m\n.pkl", PAYLOAD)
        code, out, _, p = self.run_mscan("evil.zip", "name\x1b[31m\n.pkl")
        self.assertEqual(code, 1)
        self.assert_no_raw_control(p)
        self.assertIn(r"\x0d\x1b[2K\x1b[1Aclean", out)
        self.assertIn(r"\u{202E}", out)
        self.assertIn(r"name\x1b[31m\x0a.pkl", out)

    def test_skipped_and_error_lines_are_escaped(self):
        self.write("dir/\x1b]0;title\x07notes.txt", b"just text\n")
        os.symlink("nowhere", self.dir / "dir" / "\x1b[2Jgone.pkl")
        for args in (["--show-skipped", "dir"], ["-v", "dir"], ["-f", "json", "-o", "r.json", "dir"]):
            code, _, _, p = self.run_mscan(*args)
            self.assertEqual(code, 2)
            self.assert_no_raw_control(p)
        code, out, err, p = self.run_mscan("--show-skipped", "dir")
        self.assertIn(r"\x1b]0;title\x07notes.txt", out)

    def test_usage_errors_escape_the_argument(self):
        code, _, err, p = self.run_mscan("hf://org/\x1b[2Jx y")
        self.assertEqual(code, 4)
        self.assert_no_raw_control(p)
        code, _, err, p = self.run_mscan("--allow", "\x1b[2J*")
        self.assertEqual(code, 4)
        self.assert_no_raw_control(p)


class ModelNamedFiles(Case):
    def test_short_safetensors_fail_the_default_gate_in_a_good_folder(self):
        self.write("m/good.safetensors", safetensors())
        for name, data in (("empty", b""), ("three", b"abc"), ("eight", b"12345678")):
            self.write(f"m/{name}.safetensors", data)
        code, out, err, _ = self.run_mscan("m")
        self.assertEqual(code, 1, out + err)
        self.assertEqual(out.count("format-mismatch"), 3, out)
        self.assertIn("the file is empty", out)
        self.assertIn("only 3 bytes long", out)
        self.assertIn("only 8 bytes long", out)
        code, out, _, _ = self.run_mscan("m/good.safetensors")
        self.assertEqual(code, 0, out)

    def test_text_named_pkl_is_one_finding(self):
        text = b"hello world, these are my notes\n"
        self.write("model.pkl", text)
        self.write("notes.txt", text)
        code, out, _, _ = self.run_mscan("-f", "json", "model.pkl")
        self.assertEqual(code, 1)
        self.assertEqual(len(re.findall(r'"rule_id": "', out)), 1, out)
        self.assertIn("format-mismatch", out)
        self.assertIn("the content is text", out)
        code, out, _, _ = self.run_mscan("notes.txt")
        self.assertEqual(code, 3)

    def test_long_protocol_0_and_1_pickles_are_pickles(self):
        # Longer than detection's 64 KiB probe, with no global in it: still a clean pickle.
        import pickle
        for proto in (0, 1):
            data = pickle.dumps(list(range(40000)), protocol=proto)
            self.assertGreater(len(data), 64 * 1024)
            self.write(f"big{proto}.pkl", data)
            code, out, _, _ = self.run_mscan("-f", "json", f"big{proto}.pkl")
            self.assertEqual(code, 0, out)
            self.assertNotIn('"rule_id"', out)

    def test_text_word2vec_named_bin_is_word2vec(self):
        # gensim's text word2vec format under .bin (an ambiguous name): recognised as word2vec
        # (numbers and words: nothing to report), never read as a pickle.
        src = Path(__file__).resolve().parents[2] / "bench/realworld/subset"
        code, out, err, _ = self.run_mscan("--format", "json",
                                           src / "gensim__word2vec_text_named.bin")
        self.assertEqual(code, 0, out + err)
        self.assertIn('"format": "word2vec"', out)
        self.assertNotIn('"rule_id"', out)

    def test_unrecognised_bin_beside_a_model_is_reported(self):
        # Random bytes named pytorch_model.bin: alone, skipped (exit 3); beside a model, a
        # format-mismatch finding (NOT scanned), so the folder does not pass as clean.
        self.write("pytorch_model.bin", bytes(range(256)) * 4)
        code, out, err, _ = self.run_mscan("pytorch_model.bin")
        self.assertEqual(code, 3, out + err)
        self.write("model.pkl", BENIGN)
        code, out, err, _ = self.run_mscan(".")
        self.assertEqual(code, 1, out + err)
        self.assertIn("format-mismatch", out)
        self.assertIn("NOT scanned", out)

    def test_a_payload_in_a_model_named_text_file_still_counts(self):
        # Text a loader reads up to a call: the call is reported, not hidden by the mismatch.
        self.write("model.pkl", PAYLOAD + b"garbage that is not a pickle")
        code, out, _, _ = self.run_mscan("--fail-on", "critical", "model.pkl")
        self.assertEqual(code, 1, out)
        self.assertIn("process-execution", out)


class IneffectiveAllow(Case):
    def setUp(self):
        super().setUp()
        self.write("m.pkl", BENIGN)

    def test_entries_that_can_do_nothing_are_usage_errors(self):
        cases = {
            "mypkg*": "not glob patterns",
            "*": "not glob patterns",
            "mypkg": "has no '.'",
            "functools.partial": "deny rule",
            "os.*": "deny rule",
        }
        for entry, why in cases.items():
            code, _, err, _ = self.run_mscan("--allow", entry, "m.pkl")
            self.assertEqual(code, 4, f"--allow {entry}: {err}")
            self.assertIn(why, err, entry)

    def test_entries_that_can_work_are_accepted(self):
        for entry in ("mypkg.Model", "mypkg.*", "mypkg.sub.Net"):
            code, _, err, _ = self.run_mscan("--allow", entry, "m.pkl")
            self.assertEqual(code, 0, f"--allow {entry}: {err}")

    def test_config_file_entries_name_the_file(self):
        (self.dir / "mscan.toml").write_text('allow = ["mypkg"]\n')
        p = subprocess.run([MSCAN, "m.pkl"], capture_output=True, text=True, cwd=self.dir)
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertIn("mscan.toml", p.stderr)
        self.assertIn("has no '.'", p.stderr)


class SmallOptions(Case):
    def setUp(self):
        super().setUp()
        self.write("hostile.pkl", PAYLOAD)
        self.write("m/keep/a.pkl", PAYLOAD)
        self.write("m/node_modules/x/b.pkl", PAYLOAD)
        self.write("m/readme.txt", b"text\n")

    def test_levels_and_formats_in_any_case(self):
        code, out, err, _ = self.run_mscan("--fail-on", "HIGH", "--format", "JSON", "hostile.pkl")
        self.assertEqual(code, 1, err)
        self.assertTrue(out.startswith("{"))
        code, _, err, _ = self.run_mscan("--fail-on", "Never", "hostile.pkl")
        self.assertEqual(code, 0, err)

    def test_exclude_a_bare_folder_name(self):
        code, out, err, _ = self.run_mscan("--exclude", "node_modules", "m")
        self.assertEqual(code, 1, err)
        self.assertIn("m/keep/a.pkl", out)
        self.assertNotIn("b.pkl", out)
        self.assertIn("1 file was left out by --include/--exclude", out)
        self.assertIn("1 file was not a model format", out)

    def test_repeated_option_is_explained(self):
        code, _, err, _ = self.run_mscan("--format", "json", "--format", "sarif", "hostile.pkl")
        self.assertEqual(code, 4)
        self.assertIn("--format was given 2 times", err)
        self.assertNotIn("At Most", err)

    def test_urls_other_than_the_hub_are_usage_errors(self):
        for target in ("https://example.com/x.pkl", "s3://bucket/model.pt"):
            code, _, err, _ = self.run_mscan(target)
            self.assertEqual(code, 4, err)
            self.assertIn("only fetches from the Hugging Face Hub", err)
        code, _, err, _ = self.run_mscan("hf://")
        self.assertEqual(code, 4, err)
        self.assertIn("not a Hugging Face target", err)

    def test_info_findings_only_with_verbose(self):
        self.write("t.safetensors", safetensors(b'{"__metadata__":{"format":"pt"}}'))
        code, out, _, _ = self.run_mscan("t.safetensors")
        self.assertEqual(code, 0, out)
        self.assertNotIn("INFO", out)
        self.assertRegex(out, r"\d+ info findings? (is|are) not listed; -v lists them")
        code, out, _, _ = self.run_mscan("-q", "t.safetensors")
        self.assertEqual(out, "")
        code, out, _, _ = self.run_mscan("-v", "t.safetensors")
        self.assertIn("INFO", out)
        code, out, _, _ = self.run_mscan("-f", "json", "t.safetensors")
        self.assertIn('"severity": "info"', out)

    def test_help_points_to_docs_that_exist(self):
        code, out, _, _ = self.run_mscan("--help")
        self.assertEqual(code, 0)
        self.assertIn("man mscan", out)
        self.assertNotRegex(out, r"(?<![\w/])docs/[\w-]+\.md")

    def test_color_never_and_always_off_a_terminal(self):
        _, out, _, _ = self.run_mscan("--color", "always", "hostile.pkl")
        self.assertIn("\x1b[", out)
        _, out, _, _ = self.run_mscan("hostile.pkl")
        self.assertNotIn("\x1b[", out)
        code, _, err, _ = self.run_mscan("--color", "always", "--no-color", "hostile.pkl")
        self.assertEqual(code, 4, err)


def pty_available() -> str | None:
    """None when a pseudo-terminal can be opened, else why not."""
    try:
        master, slave = pty.openpty()
    except OSError as e:
        return f"no pseudo-terminal ({e})"
    os.close(master)
    os.close(slave)
    return None


class OnATerminal(Case):
    """mscan's stdout on a pseudo-terminal of a known width, whatever TERM the suite has."""

    def setUp(self):
        why = pty_available()
        if why:
            self.skipTest(why + ": terminal checks skipped")
        super().setUp()
        self.write("hostile.pkl", PAYLOAD)

    def tty_run(self, *args, term="xterm", cols=60, env=None):
        import fcntl
        import termios
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
        e = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
        e["TERM"] = term
        e.update(env or {})
        p = subprocess.Popen([MSCAN, "--no-config", "--no-timing", *args], stdout=slave,
                             stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=e,
                             cwd=self.dir)
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
        code = p.wait(timeout=60)
        return code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")

    def test_colour_follows_term_no_color_and_the_option(self):
        code, out = self.tty_run("hostile.pkl")
        self.assertEqual(code, 1)
        self.assertIn("\x1b[", out)
        for term, env, args in (("dumb", {}, []), ("xterm", {"NO_COLOR": "1"}, []),
                                ("xterm", {}, ["--color", "never"]),
                                ("xterm", {}, ["--no-color"])):
            _, out = self.tty_run(*args, "hostile.pkl", term=term, env=env)
            self.assertIn("process-execution", out)
            self.assertNotIn("\x1b[", out, (term, env, args))

    def test_summary_and_why_wrap_to_the_width(self):
        _, out = self.tty_run("--color", "never", "hostile.pkl", cols=60)
        lines = out.splitlines()
        summary = [i for i, l in enumerate(lines) if l.startswith("Scanned ")]
        self.assertTrue(summary, out)
        self.assertTrue(all(len(l) <= 60 for l in lines[summary[0]:]), out)
        self.assertGreater(len(lines) - summary[0], 1, "the summary should wrap at 60 columns")
        why = [l for l in lines if l.strip().startswith("why:")]
        self.assertTrue(why and all(len(l) <= 60 for l in why), out)
        # Piped, nothing wraps.
        code, out, _, _ = self.run_mscan("--no-timing", "hostile.pkl")
        self.assertEqual(len([l for l in out.splitlines() if l.startswith("Scanned ")]), 1)
        self.assertTrue(any(len(l) > 60 for l in out.splitlines()))


if __name__ == "__main__":
    unittest.main()
