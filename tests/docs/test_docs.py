#!/usr/bin/env python3
"""The documentation against the code: the rule table, the options, the links, the example.

Run: MSCAN=build/mscan python3 -m unittest discover -s tests/docs -p 'test_docs.py'

- docs/rules.md's rule table is what scripts/gen-rules-doc.py writes from rules/*.json, and
  the generator notices when it is not;
- every option `mscan --help` prints is in the README's options table or a page in docs/, and
  in the man page docs/mscan.1;
- every relative link in README.md and docs/*.md points at a file that exists (and, for a
  link into a Markdown page, at a heading that exists);
- the example mscan.toml in docs/configuration.md is accepted by `mscan --show-config`, and
  each of its settings shows as coming from that file.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MSCAN = os.path.realpath(os.environ.get("MSCAN", "mscan"))
GENERATOR = ROOT / "scripts" / "gen-rules-doc.py"
DOCS = ROOT / "docs"


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def markdown_files():
    return [ROOT / "README.md"] + sorted(DOCS.glob("*.md"))


def strip_code(text):
    """Markdown text without fenced code blocks and inline code spans."""
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def heading_anchors(text):
    """GitHub's anchors for the headings of a Markdown text (explicit <a id> too)."""
    anchors = set(re.findall(r'<a (?:id|name)="([^"]+)"', text))
    seen = {}
    body = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.M | re.S)
    for title in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", body, flags=re.M):
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # [text](link) -> text
        slug = re.sub(r"[^\w\- ]", "", title.lower().replace("`", "")).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def help_options(help_text):
    """Every option name (-x, --long) in the option lists of `mscan --help`."""
    names = set()
    for line in help_text.splitlines():
        m = re.match(r"^\s{1,4}(-[^\s]+(?:,\s*-[^\s]+)*)", line)
        if m:
            for name in m.group(1).split(","):
                names.add(name.strip())
    return names


class RuleTable(unittest.TestCase):
    def test_rule_table_is_generated_from_the_rule_files(self):
        p = run([sys.executable, str(GENERATOR), "--check"])
        self.assertEqual(p.returncode, 0, "docs/rules.md is out of date; run "
                         "scripts/gen-rules-doc.py\n" + p.stdout + p.stderr)

    def test_generator_notices_drift_and_repairs_it(self):
        with tempfile.TemporaryDirectory(prefix="mscan-docs.") as tmp:
            root = Path(tmp)
            shutil.copytree(ROOT / "rules", root / "rules")
            (root / "docs").mkdir()
            shutil.copy(DOCS / "rules.md", root / "docs" / "rules.md")
            rule_file = root / "rules" / "process-execution.json"
            text = rule_file.read_text(encoding="utf-8")
            self.assertIn('"severity": "critical"', text)
            rule_file.write_text(text.replace('"severity": "critical"', '"severity": "low"', 1),
                                 encoding="utf-8")
            gen = [sys.executable, str(GENERATOR), "--root", str(root)]
            p = run(gen + ["--check"])
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("-| [process-execution](#process-execution) | critical |", p.stdout)
            self.assertIn("+| [process-execution](#process-execution) | low |", p.stdout)
            self.assertEqual(run(gen).returncode, 0)
            self.assertEqual(run(gen + ["--check"]).returncode, 0)
            doc = (root / "docs" / "rules.md").read_text(encoding="utf-8")
            self.assertIn("| [process-execution](#process-execution) | low | process-execution.json |",
                          doc)
            # A rule without a '### id' section still gets its row, and --check fails on it.
            (root / "rules" / "extra.json").write_text(
                '{"schema": 1, "rules": [{"id": "zz-extra", "severity": "info", "title": "t", '
                '"description": "d", "why": "w", "references": [], '
                '"match": {"globals": ["zz.extra"]}}]}', encoding="utf-8")
            self.assertEqual(run(gen).returncode, 0)
            p = run(gen + ["--check"])
            self.assertEqual(p.returncode, 1)
            self.assertIn("zz-extra", p.stderr)
            self.assertIn("| [zz-extra](#zz-extra) | info | extra.json |",
                          (root / "docs" / "rules.md").read_text(encoding="utf-8"))
            # Without the markers it refuses to guess.
            (root / "docs" / "rules.md").write_text("# rules\n", encoding="utf-8")
            self.assertEqual(run(gen + ["--check"]).returncode, 2)


class Options(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        p = run([MSCAN, "--help"])
        assert p.returncode == 0, p.stderr
        cls.options = help_options(p.stdout)

    def test_help_lists_the_options_this_test_relies_on(self):
        for name in ("--format", "-f", "--config", "--baseline", "--help"):
            self.assertIn(name, self.options)

    def test_every_option_is_in_the_readme_or_docs(self):
        # The README's options table, or any page in docs/.
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        table = "\n".join(l for l in readme.splitlines() if l.startswith("| `-"))
        docs = "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))
        missing = [o for o in sorted(self.options)
                   if not re.search(r"(?<![\w-])" + re.escape(o) + r"(?![\w-])", table + docs)]
        self.assertEqual(missing, [], "options in --help but not in README.md's table or docs/")

    def test_every_option_is_in_the_man_page(self):
        man = (DOCS / "mscan.1").read_text(encoding="utf-8").replace("\\-", "-")
        missing = [o for o in sorted(self.options)
                   if not re.search(r"(?<![\w-])" + re.escape(o) + r"(?![\w-])", man)]
        self.assertEqual(missing, [], "options in --help but not in docs/mscan.1")


class Links(unittest.TestCase):
    def test_relative_links_point_at_existing_files(self):
        broken = []
        checked = 0
        for page in markdown_files():
            text = strip_code(page.read_text(encoding="utf-8"))
            targets = re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
            targets += re.findall(r"^\s*\[[^\]]+\]:\s+(\S+)", text, flags=re.M)
            for target in targets:
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:, hf:
                    continue
                path, _, anchor = target.partition("#")
                dest = page if not path else (page.parent / path)
                checked += 1
                rel = page.relative_to(ROOT)
                if not dest.exists():
                    broken.append(f"{rel}: {target}: no such file")
                elif anchor and dest.suffix == ".md" and dest.is_file():
                    if anchor not in heading_anchors(dest.read_text(encoding="utf-8")):
                        broken.append(f"{rel}: {target}: no such heading")
        self.assertGreater(checked, 20)
        self.assertEqual(broken, [])


class ConfigurationExample(unittest.TestCase):
    def example(self):
        text = (DOCS / "configuration.md").read_text(encoding="utf-8")
        blocks = re.findall(r"^```toml\n(.*?)^```", text, flags=re.M | re.S)
        full = [b for b in blocks if "# mscan.toml" in b.splitlines()[0]]
        self.assertEqual(len(full), 1, "docs/configuration.md needs one ```toml block whose "
                         "first line is the '# mscan.toml ...' full example")
        return full[0]

    def test_full_example_is_accepted_and_every_setting_comes_from_it(self):
        example = self.example()
        with tempfile.TemporaryDirectory(prefix="mscan-docs.") as tmp:
            config = Path(tmp) / "mscan.toml"
            config.write_text(example, encoding="utf-8")
            # Rule directories it names must exist and hold a rule file: give each a small one.
            m = re.search(r"^rules\s*=\s*\[(.*?)\]", example, flags=re.M | re.S)
            for d in re.findall(r'"([^"]+)"', m.group(1)) if m else []:
                (Path(tmp) / d).mkdir(parents=True, exist_ok=True)
                (Path(tmp) / d / "allow.json").write_text(
                    '{"schema": 1, "allow": ["mycompany.docs_test.Model"]}', encoding="utf-8")
            p = run([MSCAN, "--config", str(config), "--show-config"], cwd=tmp)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn(f"# configuration file: {config}", p.stdout)
            # Every top-level key the example sets is shown as set by the example, at its line.
            lines = example.splitlines()
            keys = {}
            for number, line in enumerate(lines, 1):
                if line.startswith("["):
                    break
                km = re.match(r"^([a-z-]+)\s*=", line)
                if km:
                    keys[km.group(1)] = number
            self.assertGreaterEqual(len(keys), 10, "the full example sets every key")
            shown = {}
            for line in p.stdout.splitlines():
                km = re.match(r"^([a-z-]+) = .*# (.*)$", line)
                if km:
                    shown[km.group(1)] = km.group(2).strip()
            for key, number in keys.items():
                self.assertEqual(shown.get(key), f"{config}:{number}", key)
            # Each [rule.<id>] and [[suppress]] table of the example is listed.
            for rule_id in re.findall(r"^\[rule\.([a-z0-9-]+)\]", example, flags=re.M):
                self.assertRegex(p.stdout, r"(?m)^\[rule\." + re.escape(rule_id) + r"\] ")
            self.assertEqual(p.stdout.count("[[suppress]]"),
                             len(re.findall(r"^\[\[suppress\]\]", example, flags=re.M)))


if __name__ == "__main__":
    unittest.main()
