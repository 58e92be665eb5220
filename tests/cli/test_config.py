#!/usr/bin/env python3
"""Configuration files, suppressions and baselines, through the real binary.

Run: MSCAN=build/mscan python3 -m unittest discover -s tests/cli -p 'test_config.py'
Samples are written here from raw pickle opcodes; nothing is ever unpickled.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

MSCAN = os.path.realpath(os.environ.get("MSCAN", "mscan"))
HOSTILE = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00idq\x00\x85R."          # os.system('id')
HOSTILE2 = b"\x80\x02cos\nsystem\nX\x03\x00\x00\x00lsxq\x00\x85R."        # os.system('lsx')
UNKNOWN = b"\x80\x02cmypkg.models\nNet\n)R."                                 # mypkg.models.Net()
BENIGN = b"\x80\x02}q\x00."


class ConfigCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mscan-config.")
        self.models = os.path.join(self.tmp, "proj", "models")
        os.makedirs(os.path.join(self.models, "legacy"))
        self.write("proj/models/evil.pkl", HOSTILE)
        self.write("proj/models/legacy/old.pkl", HOSTILE)
        self.write("proj/models/net.pkl", UNKNOWN)
        self.write("proj/models/ok.pkl", BENIGN)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, rel, data):
        path = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path

    def run_mscan(self, *args, cwd="proj", fmt="json"):
        cmd = [MSCAN, "--no-progress", *args]
        if fmt:
            cmd[1:1] = ["--format", fmt]
        p = subprocess.run(cmd, cwd=os.path.join(self.tmp, cwd), capture_output=True, text=True,
                           timeout=60)
        doc = json.loads(p.stdout) if fmt == "json" and p.stdout.strip().startswith("{") else None
        return p.returncode, doc, p

    @staticmethod
    def active(doc):
        return [(f["location"]["path"], f["rule_id"]) for f in doc["findings"] if not f["suppressed"]]


class Discovery(ConfigCase):
    def origin_of(self, key, *args, cwd="proj"):
        code, _, p = self.run_mscan("--show-config", *args, cwd=cwd, fmt=None)
        self.assertEqual(code, 0, p.stderr)
        for line in p.stdout.splitlines():
            if line.startswith(key + " = "):
                value, _, origin = line.partition("#")
                return value.split("=", 1)[1].strip(), origin.strip()
        self.fail(f"{key} not in --show-config output:\n{p.stdout}")

    def test_nearest_file_in_a_parent_and_precedence_of_names(self):
        self.assertEqual(self.origin_of("fail-on")[1], "default")
        self.write("mscan.toml", 'fail-on = "low"\n')                      # above proj/
        value, origin = self.origin_of("fail-on", cwd="proj/models")
        self.assertEqual(value, '"low"')
        self.assertTrue(origin.endswith("mscan.toml:1"), origin)
        self.write("proj/pyproject.toml", '[project]\nname = "x"\n\n[tool.mscan]\nfail-on = "info"\n')
        value, origin = self.origin_of("fail-on", cwd="proj/models")
        self.assertEqual((value, origin.endswith("pyproject.toml:5")), ('"info"', True))
        self.write("proj/mscan.toml", 'fail-on = "high"\n')
        self.assertEqual(self.origin_of("fail-on", cwd="proj/models")[0], '"high"')
        self.write("proj/.mscan.toml", 'fail-on = "critical"\n')
        self.assertEqual(self.origin_of("fail-on", cwd="proj/models")[0], '"critical"')

    def test_pyproject_without_a_tool_mscan_table_is_not_a_config(self):
        self.write("proj/pyproject.toml", '[project]\nname = "x"\n')
        self.assertEqual(self.origin_of("fail-on")[1], "default")

    def test_cli_wins_and_explicit_file_and_no_config(self):
        self.write("proj/mscan.toml", 'fail-on = "never"\ninclude = ["*.pkl"]\nallow = ["mypkg.models.*"]\n')
        self.assertEqual(self.origin_of("fail-on", "--fail-on", "high"), ('"high"', "--fail-on"))
        code, _, _ = self.run_mscan("models")
        self.assertEqual(code, 0)                      # fail-on never from the file
        code, _, _ = self.run_mscan("--fail-on", "critical", "models")
        self.assertEqual(code, 1)                      # the command line wins
        code, _, _ = self.run_mscan("--no-config", "models")
        self.assertEqual(code, 1)
        other = self.write("other.toml", 'fail-on = "never"\n')
        code, _, _ = self.run_mscan("--config", other, "--fail-on", "critical", "models")
        self.assertEqual(code, 1)
        value, origin = self.origin_of("allow", "--allow", "x.y")
        self.assertEqual(value, '["mypkg.models.*", "x.y"]')
        self.assertIn("--allow", origin)

    def test_errors_name_file_line_and_key(self):
        cases = {
            'fail-on = "hgh"\n': ("bad.toml:1", "'fail-on'"),
            'jobs = 2\ncolour = true\n': ("bad.toml:2", "'colour': unknown key"),
            'jobs = 0\n': ("bad.toml:1", "'jobs'"),
            'include = "*.pkl"\n': ("bad.toml:1", "'include'"),
            '[rule.process-execution]\nseverity = "huge"\n': ("bad.toml:2", "severity"),
            '[rule.no-such-rule]\nenabled = false\n': ("bad.toml:1", "no-such-rule"),
            '[[suppress]]\nrule = "x"\npath = "*"\n': ("bad.toml:1", "needs a reason"),
            '[[suppress]]\nrule = "x"\nreason = "r"\nwhen = "x"\n': ("bad.toml:4", "unknown key"),
            '[[suppress]]\nrule = "proces-execution"\nreason = "r"\n': ("bad.toml:1", "no rule has the id"),
            'fail-on = [\n': ("bad.toml:", "not valid TOML"),
            'hf-max-fetch = "12Q"\n': ("bad.toml:1", "'hf-max-fetch'"),
        }
        for text, (where, what) in cases.items():
            with self.subTest(text=text):
                path = self.write("proj/bad.toml", text)
                code, _, p = self.run_mscan("--config", path, "models", fmt=None)
                self.assertEqual(code, 4, p.stdout)
                self.assertIn(where, p.stderr)
                self.assertIn(what, p.stderr)
        code, _, p = self.run_mscan("--config", "nope.toml", "models", fmt=None)
        self.assertEqual(code, 4)
        self.assertIn("no such configuration file", p.stderr)
        # A broken file found by discovery is an error too, not silently skipped.
        self.write("proj/mscan.toml", "fail-on = 3\n")
        code, _, p = self.run_mscan("models", fmt=None)
        self.assertEqual(code, 4)
        self.assertIn("mscan.toml:1", p.stderr)


class Rules(ConfigCase):
    def test_severity_change_disable_and_allow(self):
        code, doc, _ = self.run_mscan("models")
        self.assertIn(("models/net.pkl", "unknown-global"), self.active(doc))
        self.write("proj/mscan.toml", '[rule.process-execution]\nseverity = "low"\n\n'
                   '[rule.unknown-global]\nenabled = false\n')
        code, doc, _ = self.run_mscan("models")
        self.assertEqual(code, 0)
        sev = {(f["location"]["path"], f["rule_id"]): f["severity"] for f in doc["findings"]}
        self.assertEqual(sev[("models/evil.pkl", "process-execution")], "low")
        self.assertNotIn(("models/net.pkl", "unknown-global"), sev)
        self.write("proj/mscan.toml", 'allow = ["mypkg.models.*"]\n')
        code, doc, _ = self.run_mscan("models")
        self.assertNotIn(("models/net.pkl", "unknown-global"), self.active(doc))


class Suppressions(ConfigCase):
    def test_suppressed_findings_stay_visible_and_fail_nothing(self):
        self.write("proj/mscan.toml", '[[suppress]]\nrule = "process-execution"\n'
                   'path = "models/legacy/*"\nreason = "reviewed: fixture, never loaded"\n')
        for cwd, target, shown in (("proj", "models", "models/legacy/old.pkl"),
                                   ("proj/models", ".", "legacy/old.pkl")):
            with self.subTest(cwd=cwd):
                code, doc, _ = self.run_mscan(target, cwd=cwd)
                sup = [f for f in doc["findings"] if f["suppressed"]]
                self.assertEqual([f["location"]["path"].lstrip("./") for f in sup], [shown])
                self.assertEqual(sup[0]["suppressed"]["kind"], "config")
                self.assertIn("reviewed: fixture, never loaded", sup[0]["suppressed"]["justification"])
                self.assertEqual(doc["summary"]["suppressed"], {"config": 1, "baseline": 0})
                self.assertEqual(doc["summary"]["findings"]["critical"], 1)   # evil.pkl
        code, _, p = self.run_mscan("models", fmt="sarif")
        results = json.loads(p.stdout)["runs"][0]["results"]
        sup = [r for r in results if "suppressions" in r]
        self.assertEqual(len(sup), 1)
        self.assertEqual(sup[0]["suppressions"][0]["kind"], "external")
        self.assertIn("never loaded", sup[0]["suppressions"][0]["justification"])
        # Text: counted, not listed (listed with -v).
        code, _, p = self.run_mscan("--no-timing", "models", fmt="text")
        self.assertNotIn("legacy/old.pkl", p.stdout)
        self.assertIn("1 finding suppressed by the configuration", p.stdout)
        code, _, p = self.run_mscan("-v", "--no-timing", "models", fmt="text")
        self.assertIn("accepted (config): reviewed: fixture", p.stdout)


class Baselines(ConfigCase):
    def test_round_trip_prefix_independence_and_new_findings(self):
        base = os.path.join(self.tmp, "baseline.json")
        code, _, p = self.run_mscan("--write-baseline", base, "models", fmt="text")
        self.assertEqual(code, 0, p.stderr)
        with open(base) as f:
            written = json.load(f)
        self.assertEqual(written["mscan_baseline"], 1)
        self.assertEqual(len(written["findings"]), 3)
        # Same scan: nothing new, exit 0, everything still listed as baselined.
        code, doc, _ = self.run_mscan("--baseline", base, "models")
        self.assertEqual(code, 0)
        self.assertEqual(self.active(doc), [])
        self.assertEqual(doc["summary"]["suppressed"]["baseline"], 3)
        # Another folder, another working directory, an absolute target: same fingerprints.
        moved = os.path.join(self.tmp, "elsewhere", "copy")
        shutil.copytree(self.models, moved)
        code, doc, _ = self.run_mscan("--baseline", base, moved, cwd=".")
        self.assertEqual((code, self.active(doc)), (0, []))
        code, doc, _ = self.run_mscan("--baseline", base, ".", cwd="proj/models")
        self.assertEqual((code, self.active(doc)), (0, []))
        # Changed evidence is a new finding; only it fails the run.
        self.write("proj/models/evil.pkl", HOSTILE2)
        code, doc, _ = self.run_mscan("--baseline", base, "models")
        self.assertEqual(code, 1)
        self.assertEqual(self.active(doc), [("models/evil.pkl", "process-execution")])
        # Fingerprints are stable across runs.
        _, a, _ = self.run_mscan("models")
        _, b, _ = self.run_mscan("models")
        self.assertEqual([f["fingerprint"] for f in a["findings"]], [f["fingerprint"] for f in b["findings"]])

    def test_bad_baseline_is_a_usage_error(self):
        bad = self.write("bad.json", '{"findings": []}')
        code, _, p = self.run_mscan("--baseline", bad, "models", fmt=None)
        self.assertEqual(code, 4)
        self.assertIn("not an mscan baseline", p.stderr)
        code, _, p = self.run_mscan("--baseline", "/nonexistent/b.json", "models", fmt=None)
        self.assertEqual(code, 4)

    def test_baseline_from_config_file(self):
        self.write("proj/mscan.toml", 'baseline = "mscan-baseline.json"\n')
        code, _, p = self.run_mscan("models", fmt=None)
        self.assertEqual(code, 4)                      # configured, not written yet
        self.assertIn("mscan-baseline.json", p.stderr)
        self.run_mscan("--write-baseline", os.path.join(self.tmp, "proj", "mscan-baseline.json"),
                       "models", fmt="text")
        self.write("proj/mscan.toml", 'baseline = "mscan-baseline.json"\n')
        code, doc, _ = self.run_mscan(".", cwd="proj/models")
        self.assertEqual((code, self.active(doc)), (0, []))


if __name__ == "__main__":
    unittest.main()
