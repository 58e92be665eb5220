#!/usr/bin/env bash
# CI integrations (docs/ci.md): runs scripts/action-run.sh the way the GitHub Action does (with
# GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files) and as GitLab's example does, runs
# scripts/pre-commit-scan.sh, and checks action.yml, .pre-commit-hooks.yaml and docs/examples/
# against the scripts. Run by ctest (tests/CMakeLists.txt) with MSCAN=<mscan binary> and
# MSCAN_SOURCE_DIR=<repo>. The action itself needs a GitHub runner and is not run here.
# Stops at the first failing check with the command, its exit code and its output.
set -euo pipefail

: "${MSCAN:?set MSCAN to the mscan binary}"
: "${MSCAN_SOURCE_DIR:?set MSCAN_SOURCE_DIR to the repository root}"
MSCAN=$(realpath "$MSCAN")
SRC=$(realpath "$MSCAN_SOURCE_DIR")
RUNNER=$SRC/scripts/action-run.sh
HOOK=$SRC/scripts/pre-commit-scan.sh
[[ -x $MSCAN ]] || { echo "FAIL: MSCAN=$MSCAN is not an executable" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mscan-ci.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out=$tmp/stdout
err=$tmp/stderr
: >"$out"
: >"$err"
# The GitHub Actions files the runner script writes to.
gh_output=$tmp/github_output
gh_summary=$tmp/github_summary

checks=0
last_cmd="(none)"
status=0

pass() {
    checks=$((checks + 1))
    printf 'ok %d - %s\n' "$checks" "$*"
}

fail() {
    {
        printf 'FAIL: %s\n' "$*"
        printf '  command: %s\n  exit code: %s\n' "$last_cmd" "$status"
        printf -- '--- stdout (first 3000 bytes):\n'
        head -c 3000 "$out"
        printf -- '\n--- stderr (first 3000 bytes):\n'
        head -c 3000 "$err"
        printf '\n'
    } >&2
    exit 1
}

# action [NAME=VALUE...] -- ARGS...: runs the runner script in $tmp/work as a GitHub step would,
# with fresh GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files.
action() {
    local envs=()
    while [[ $# -gt 0 && $1 != -- ]]; do
        envs+=("$1")
        shift
    done
    shift
    : >"$gh_output"
    : >"$gh_summary"
    last_cmd="${envs[*]:+${envs[*]} }action-run.sh$(printf ' %q' "$@")"
    status=0
    (cd "$tmp/work" && env GITHUB_ACTIONS=true GITHUB_OUTPUT="$gh_output" \
        GITHUB_STEP_SUMMARY="$gh_summary" "${envs[@]}" bash "$RUNNER" "$@") \
        >"$out" 2>"$err" </dev/null || status=$?
}

# hook ARGS...: runs the pre-commit hook script in $tmp/work.
hook() {
    last_cmd="pre-commit-scan.sh$(printf ' %q' "$@")"
    status=0
    (cd "$tmp/work" && env MSCAN="$MSCAN" bash "$HOOK" "$@") >"$out" 2>"$err" </dev/null ||
        status=$?
}

expect_status() {
    [[ $status -eq $1 ]] || fail "expected exit code $1"
}

# output NAME: the value of a step output written to GITHUB_OUTPUT (the last one wins, as on
# GitHub).
output() {
    sed -n "s/^$1=//p" "$gh_output" | tail -n 1
}

expect_output() {
    local got
    got=$(output "$1")
    [[ "$got" == "$2" ]] || fail "GITHUB_OUTPUT $1 is '$got', expected '$2'"
}

# summary_count SEVERITY: the count in the job summary's table row for SEVERITY.
summary_count() {
    sed -n "s/^| $1 | \([0-9]*\) |$/\1/p" "$gh_summary"
}

# json_counts FILE: mscan's own counts in its JSON report (summary.findings), as
# "critical high medium low info".
json_counts() {
    python3 -c 'import json, sys
f = json.load(open(sys.argv[1]))["summary"]["findings"]
print(" ".join(str(f[s]) for s in ("critical", "high", "medium", "low", "info")))' "$1"
}

mkdir -p "$tmp/work"

# --- action-run.sh on the samples: findings -------------------------------------------------

action -- --mscan "$MSCAN" --json report.json --codequality cq.json "$SRC/samples"
expect_status 1
[[ -s $tmp/work/mscan.sarif ]] || fail "no SARIF file written"
python3 - "$tmp/work/mscan.sarif" <<'PY' || fail "the SARIF file is not a SARIF 2.1.0 log with findings"
import json, sys
log = json.load(open(sys.argv[1]))
assert log["version"] == "2.1.0", log["version"]
results = log["runs"][0]["results"]
assert any(r["ruleId"] == "process-execution" for r in results), "no process-execution result"
PY
pass "samples/: exit 1 and a SARIF 2.1.0 file with a process-execution result"

expect_output exit-code 1
expect_output sarif-file mscan.sarif
expect_output sarif-written true
[[ -s $tmp/work/report.json ]] || fail "--json report.json was not written"
read -r -a counts <<<"$(json_counts "$tmp/work/report.json")"
[[ ${#counts[@]} -eq 5 ]] || fail "could not read mscan's counts from report.json"
total=0
i=0
for sev in critical high medium low info; do
    want=${counts[$i]}
    i=$((i + 1))
    total=$((total + want))
    expect_output "$sev" "$want"
    [[ "$(summary_count "$sev")" == "$want" ]] ||
        fail "job summary: $sev count '$(summary_count "$sev")', mscan's JSON says $want"
done
[[ $total -gt 0 ]] || fail "mscan's JSON report counts no finding on the samples"
expect_output findings "$total"
failing=$((counts[0] + counts[1]))
expect_output failing-findings "$failing"
grep -q "^## mscan: $total finding(s), exit 1" "$gh_summary" || fail "job summary heading"
pass "samples/: outputs and job summary counts match mscan's JSON report ($total findings, $failing at or above high)"

grep -q '^Scanned [0-9]* files' "$out" || fail "no text report in the log"
grep -q "^mscan: $total finding(s)" "$out" || fail "no summary line in the log"
pass "samples/: the log holds the text report and a summary line"

python3 - "$tmp/work/cq.json" "$total" <<'PY' || fail "the Code Quality report is not what GitLab documents"
import json, sys
issues = json.load(open(sys.argv[1]))
assert isinstance(issues, list) and len(issues) == int(sys.argv[2]), len(issues)
fingerprints = set()
for i in issues:
    assert set(i) == {"description", "check_name", "fingerprint", "severity", "location"}, i
    assert i["severity"] in ("info", "minor", "major", "critical", "blocker"), i
    assert i["check_name"].startswith("mscan/") and i["description"], i
    assert isinstance(i["location"]["path"], str) and i["location"]["lines"]["begin"] == 1, i
    fingerprints.add(i["fingerprint"])
assert len(fingerprints) == len(issues), "fingerprints are not unique"
assert any(i["severity"] == "blocker" and i["check_name"] == "mscan/process-execution"
           for i in issues)
PY
pass "--codequality: one GitLab Code Quality issue per finding, unique fingerprints"

# The threshold moves the verdict, not the report.
action -- --mscan "$MSCAN" --fail-on never --text never "$SRC/samples/pickle/hostile"
expect_status 0
expect_output exit-code 0
expect_output failing-findings 0
[[ $(output findings) -gt 0 ]] || fail "--fail-on never reported no finding"
grep -q '^  CRITICAL ' "$out" || fail "--text never: the findings are not listed in the log"
grep -q '^Scanned ' "$out" && fail "--text never still ran a text scan"
pass "--fail-on never: exit 0, findings still counted and listed from the SARIF"

# --- clean, missing, nothing scannable -----------------------------------------------------

mkdir -p "$tmp/work/clean" "$tmp/work/text"
cp "$SRC/samples/pickle/benign/proto2_nested.pkl" "$SRC/samples/pickle/benign/proto4_nested.pkl" \
    "$tmp/work/clean/"
echo "not a model" >"$tmp/work/text/README.md"

action -- --mscan "$MSCAN" clean
expect_status 0
expect_output exit-code 0
expect_output failing-findings 0
expect_output errors 0
grep -q '^Scanned 2 files' "$out" || fail "the two benign pickles were not scanned"
pass "a clean directory: exit 0"

action -- --mscan "$MSCAN" clean does-not-exist
expect_status 2
expect_output exit-code 2
expect_output sarif-written true
expect_output errors 1
grep -q '^| errors (not scanned) | 1 |$' "$gh_summary" || fail "job summary: no error counted"
pass "a missing path: exit 2, the error counted in the outputs and the summary"

action -- --mscan "$MSCAN" text
expect_status 3
expect_output exit-code 3
pass "a directory without a model file: exit 3"

# --- inputs from the environment, as the action passes them ----------------------------------

mkdir -p "$tmp/work/with space"
cp "$SRC/samples/pickle/hostile/builtins_exec.pkl" "$tmp/work/with space/"
mkdir -p "$tmp/work/out"
action MSCAN="$MSCAN" MSCAN_PATHS=$'clean\n  with space  \n' MSCAN_FAIL_ON=critical \
    MSCAN_SARIF=out/report.sarif MSCAN_ARGS=$'--jobs 2\n  --exclude proto4*' --
expect_status 1
expect_output sarif-file out/report.sarif
[[ -s $tmp/work/out/report.sarif ]] || fail "MSCAN_SARIF=out/report.sarif not written"
grep -q '^Scanned 2 files, skipped 1' "$out" ||
    fail "MSCAN_ARGS --exclude proto4* (no glob expansion) or the path with a space was lost"
expect_output failing-findings 1
pass "environment inputs: paths one per line (with a space), fail-on, SARIF path, extra args on two lines"

action MSCAN="$MSCAN" MSCAN_PATHS="clean text" --
expect_status 0
grep -q '^Scanned 2 files, skipped 1' "$out" || fail "MSCAN_PATHS on one line was not split"
pass "environment inputs: paths separated by spaces on one line"

# --- usage errors: exit 4, and no stale SARIF ---------------------------------------------

action -- --mscan "$MSCAN" --args "--format json" clean
expect_status 4
expect_output exit-code 4
expect_output sarif-written false
[[ -e $tmp/work/mscan.sarif ]] && fail "a SARIF file from an earlier run was left for upload"
pass "extra args that clash (--format): exit 4, no SARIF to upload"

action -- --mscan "$tmp/no-such-mscan" clean
expect_status 4
expect_output exit-code 4
action -- --mscan "$MSCAN" --text sometimes clean
expect_status 4
action -- --mscan "$MSCAN" --no-such-option clean
expect_status 4
pass "runner usage errors (missing binary, bad --text, unknown option): exit 4"

# --- scanned content cannot issue GitHub workflow commands ------------------------------------

# A protocol 0 pickle calling os.system, in a file whose name is a workflow command. Never
# unpickled: only mscan reads it.
printf "cos\nsystem\n(S'::error::evidence'\ntR." >"$tmp/work/::warning::name.pkl"
action -- --mscan "$MSCAN" "::warning::name.pkl"
expect_status 1
python3 - "$out" <<'PY' || fail "scanned text reached the log outside ::stop-commands::"
import re, sys
stopped = None
seen = False
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    if stopped:
        if line == "::%s::" % stopped:
            stopped = None
        elif "::warning::name" in line or "::error::evidence" in line:
            seen = True
        continue
    m = re.fullmatch(r"::stop-commands::(\S+)", line)
    if m:
        stopped = m.group(1)
        continue
    assert not line.lstrip().startswith("::") or re.fullmatch(r"::(end)?group::.*", line), line
assert stopped is None, "stop-commands never resumed"
assert seen, "the file name and evidence were not printed at all"
PY
pass "file names and evidence are printed only while workflow commands are stopped"

# --- file names in the log and the summary: decoded from the SARIF URIs, still escaped ------

# SARIF percent-encodes paths; the log, the job summary and the Code Quality report show them
# decoded ("with space", not "with%20space"), a literal '%' stays one, and what the name could do
# to a terminal or to Markdown stays escaped.
mkdir -p "$tmp/work/names"
hostile_pkl=$SRC/samples/pickle/hostile/builtins_exec.pkl
for name in "with space.pkl" "100%20off.pkl" $'esc\e[2K\rname.pkl' "pipe|star*.pkl"; do
    cp "$hostile_pkl" "$tmp/work/names/$name"
done
action -- --mscan "$MSCAN" --text never --codequality names.json names
expect_status 1
python3 - "$out" "$gh_summary" "$tmp/work/names.json" <<'PY' ||
import json, sys
log = open(sys.argv[1], encoding="utf-8", errors="replace", newline="").read()
summary = open(sys.argv[2], encoding="utf-8", errors="replace", newline="").read()
paths = {i["location"]["path"] for i in json.load(open(sys.argv[3], encoding="utf-8"))}
for text, where in ((log, "log"), (summary, "summary")):
    assert "names/with space.pkl" in text, where + ": no decoded 'names/with space.pkl'"
    assert "names/100%20off.pkl" in text, where + ": the literal %20 of '100%20off.pkl' is lost"
    for encoded in ("with%20space", "100%2520off", "%1B", "%7C"):
        assert encoded not in text, where + ": percent-encoded " + encoded
    assert "\x1b" not in text and "\r" not in text, where + ": a raw control character"
assert "names/esc\\x1b[2K\\x0dname.pkl" in log, "log: the ESC/CR name is not escaped as \\xNN"
assert "names/pipe|star*.pkl" in log, "log: 'pipe|star*.pkl'"
assert "names/pipe&#124;star&#42;.pkl" in summary, "summary: '|' and '*' not escaped"
assert "names/esc&#92;x1b&#91;2K&#92;x0dname.pkl" in summary, "summary: the ESC/CR name"
assert {"names/with space.pkl", "names/100%20off.pkl", "names/pipe|star*.pkl"} <= paths, paths
PY
    fail "file names in the log, the summary or the Code Quality report"
pass "file names: decoded from SARIF URIs (space, literal %20), control characters and Markdown escaped"

# --- pre-commit hook script ----------------------------------------------------------------

hook "with space/builtins_exec.pkl"
[[ $status -ne 0 ]] || fail "a hostile staged file passed the hook"
grep -q 'CRITICAL code-execution' "$out" || fail "the hook printed no text report"
pass "pre-commit hook: a hostile file fails the commit, with the text report"

hook clean/proto2_nested.pkl
expect_status 0
hook clean/proto2_nested.pkl text/README.md
expect_status 0
hook text/README.md
expect_status 0
pass "pre-commit hook: benign files, and files that are not models (exit 3), pass"

hook --fail-on never "with space/builtins_exec.pkl"
expect_status 0
hook --fail-on=critical "with space/builtins_exec.pkl"
expect_status 1
pass "pre-commit hook: args --fail-on replace the default threshold"

last_cmd="MSCAN=$tmp/no-such-mscan pre-commit-scan.sh"
status=0
(cd "$tmp/work" && MSCAN=$tmp/no-such-mscan bash "$HOOK" clean/proto2_nested.pkl) \
    >"$out" 2>"$err" || status=$?
[[ $status -ne 0 ]] || fail "the hook passed without an mscan binary"
grep -q 'not found' "$err" || fail "the hook did not say that mscan is missing"
pass "pre-commit hook: no mscan binary fails the commit with a message"

# --- the pre-commit hook's file pattern ------------------------------------------------------

# The mscan hook's `files:` regex (Python re, as pre-commit uses it) takes the extensions of the
# formats mscan reads, and not other files.
last_cmd="python3 re: the files: regex of the mscan hook in .pre-commit-hooks.yaml"
status=0
files_re=$(sed -n 's/^  files: //p' "$SRC/.pre-commit-hooks.yaml")
[[ $(wc -l <<<"$files_re") -eq 1 && -n $files_re ]] ||
    fail "expected one files: line in .pre-commit-hooks.yaml, got: $files_re"
python3 - "$files_re" >"$out" 2>"$err" <<'PY' || { status=$?; fail "the mscan hook's files: regex"; }
import re, sys
files = re.compile(sys.argv[1])
for name in ["model.pkl", "a/b/MODEL.PT", "w.safetensors", "x.tar.gz", "m.keras", "d.joblib",
             "saved_model.pb", "arr.npy", "model.onnx", "Model.ONNX", "asr.nemo",
             "chat_template.jinja", "template.j2", "llama.gguf", "x.llamafile", "w.tar.zst",
             "saved_model.pbtxt", "data.pck", "arrays.npz", "model.h5", "weights.7z"]:
    assert files.search(name), name + " not matched by the mscan hook"
for name in ["README.md", "train.py", "pkl", "model.pkl.txt", "config.json", "config.yaml",
             "onnx", "model.onnx.md", "notes.txt", "nemo/README"]:
    assert not files.search(name), name + " matched by the mscan hook"
PY
pass "the mscan hook's files: regex takes .onnx, .nemo, .jinja, .j2, .gguf ... and not .md/.json/.py"

# --- the definitions: action.yml, .pre-commit-hooks.yaml, docs/examples -----------------------

if python3 -c 'import yaml' 2>/dev/null; then
    last_cmd="python3 (yaml) checks of action.yml, .pre-commit-hooks.yaml, docs/examples"
    python3 - "$SRC" >"$out" 2>"$err" <<'PY' || { status=$?; fail "definition checks"; }
import os, re, sys, yaml

src = sys.argv[1]
def load(rel):
    with open(os.path.join(src, rel), encoding="utf-8") as f:
        return yaml.safe_load(f)
runner = open(os.path.join(src, "scripts/action-run.sh"), encoding="utf-8").read()
setup = open(os.path.join(src, "scripts/setup.sh"), encoding="utf-8").read()
docs = open(os.path.join(src, "docs/ci.md"), encoding="utf-8").read()

action = load("action.yml")
assert action["runs"]["using"] == "composite"
steps = action["runs"]["steps"]
text = yaml.safe_dump(steps)
inputs = set(action["inputs"])
used = set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", text))
assert used == inputs, ("declared but unused", inputs - used, "used but undeclared", used - inputs)
for name in inputs:
    assert "| `%s` |" % name in docs, "docs/ci.md: no row for input " + name
for name, out in action["outputs"].items():
    assert re.fullmatch(r"\$\{\{ steps\.scan\.outputs\.[a-z-]+ \}\}", out["value"]), name
    assert "| `%s` |" % name in docs, "docs/ci.md: no row for output " + name
scan = next(s for s in steps if s.get("id") == "scan")
assert "scripts/action-run.sh" in scan["run"]
for var in scan["env"]:
    if var.startswith("MSCAN_") and var != "MSCAN_INPUT_HF_TOKEN":
        assert "${%s:-" % var in runner, "action-run.sh does not read " + var
upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
assert "always()" in upload["if"] and "inputs.upload-sarif" in upload["if"]
gate = steps[-1]
assert "always()" in gate["if"]
for code in "01234":
    assert re.search(r"^\s*%s\)" % code, gate["run"], re.M), "gate: no case for " + code

# The packages the action and the GitLab example install: Debian names the project already
# uses (scripts/setup.sh), covering every package the top-level CMakeLists.txt requires. A new
# build dependency fails here until it is added to both and to this map.
install = steps[0]["run"]
pkgs = set(re.search(r"pkgs=\(([^)]*)\)", install).group(1).split())
groups = dict(re.findall(r"^([A-Z_]+)_PACKAGES=\(([^)]*)\)", setup, re.M))
assert "BUILD" in groups and "TEST" in groups, ("setup.sh package groups", sorted(groups))
setup_pkgs = {p for g in groups.values() for p in g.split()}
build_pkgs = set(groups["BUILD"].split())
assert pkgs <= setup_pkgs, ("not in scripts/setup.sh", pkgs - setup_pkgs)
DEBIAN = {"Threads": None, "PkgConfig": "pkg-config", "nlohmann_json": "nlohmann-json3-dev",
          "CLI11": "libcli11-dev", "ZLIB": "zlib1g-dev", "libzip": "libzip-dev",
          "BZip2": "libbz2-dev", "LibLZMA": "liblzma-dev",
          "LibArchive": "libarchive-dev", "CURL": "libcurl4-openssl-dev",
          "tomlplusplus": "libtomlplusplus-dev", "yaml": "libyaml-dev"}
cmake = open(os.path.join(src, "CMakeLists.txt"), encoding="utf-8").read()
required = re.findall(r"^find_package\((\w+)[^)]*REQUIRED", cmake, re.M)
required += re.findall(r"^pkg_check_modules\(\w+ REQUIRED (?:IMPORTED_TARGET )?(\w+)", cmake, re.M)
assert len(required) >= 5, required
unknown = [r for r in required if r not in DEBIAN]
assert not unknown, ("new build dependencies: add their Debian packages to action.yml, "
                     "docs/examples/gitlab-ci.yml and this map", unknown)
needed = {DEBIAN[r] for r in required if DEBIAN[r]} | {"cmake", "g++", "make", "python3"}
assert needed <= pkgs, ("action.yml does not install", needed - pkgs)
# The quick start installs the build group only: it must hold everything the build requires.
assert needed - {"python3"} <= build_pkgs, ("setup.sh's build group lacks", needed - build_pkgs)
gitlab_text = open(os.path.join(src, "docs/examples/gitlab-ci.yml"), encoding="utf-8").read()
missing = [p for p in needed if not re.search(r"(?<![\w.+-])%s(?![\w.+-])" % re.escape(p),
                                              gitlab_text)]
assert not missing, ("docs/examples/gitlab-ci.yml does not install", missing)

hooks = load(".pre-commit-hooks.yaml")
by_id = {h["id"]: h for h in hooks}
assert set(by_id) == {"mscan", "mscan-all"}, set(by_id)
for h in hooks:
    entry = os.path.join(src, h["entry"])
    assert os.path.isfile(entry) and os.access(entry, os.X_OK), h["entry"] + " not executable"
    assert h["language"] == "script" and h["pass_filenames"] is True
    assert "| `%s` |" % h["id"] in docs
assert "files" not in by_id["mscan-all"]
assert "files" in by_id["mscan"]

gh = load("docs/examples/github-workflow.yml")
uses = [s for job in gh["jobs"].values() for s in job["steps"]
        if s.get("uses", "").split("@")[0].endswith("/mscan")]
assert uses, "the example workflow does not use the action"
for s in uses:
    assert set(s.get("with", {})) <= inputs, set(s["with"]) - inputs
perms = gh.get("permissions", {})
assert perms.get("security-events") == "write"

gl = load("docs/examples/gitlab-ci.yml")
job = gl["mscan"]
script = " ".join(job["script"])
assert "scripts/action-run.sh" in script
for opt in re.findall(r"(--[a-z-]+)", script):
    assert re.search(r"^\s*%s\)" % re.escape(opt), runner, re.M), "runner has no option " + opt
assert job["artifacts"]["when"] == "always"
assert set(job["artifacts"]["paths"]) == {"mscan.sarif", "mscan.json"}
assert job["artifacts"]["reports"] == {"codequality": "gl-code-quality-report.json"}
assert job["allow_failure"] == {"exit_codes": 3}
print("definitions ok")
PY
    pass "action.yml, .pre-commit-hooks.yaml and docs/examples agree with the scripts and docs (yaml)"
else
    # No PyYAML: structural greps only (the test adds no dependency).
    last_cmd="grep checks of action.yml and .pre-commit-hooks.yaml"
    grep -q '^  using: composite$' "$SRC/action.yml" || fail "action.yml is not a composite action"
    grep -q 'scripts/action-run.sh' "$SRC/action.yml" || fail "action.yml does not run the runner"
    grep -q 'uses: github/codeql-action/upload-sarif@v3' "$SRC/action.yml" ||
        fail "action.yml does not upload SARIF"
    inputs=$(sed -n '/^inputs:/,/^outputs:/s/^  \([a-z-]*\):$/\1/p' "$SRC/action.yml")
    [[ -n $inputs ]] || fail "no inputs found in action.yml"
    for name in $inputs; do
        grep -q "inputs\.$name\b" "$SRC/action.yml" || fail "input $name is never used"
        grep -qF "| \`$name\` |" "$SRC/docs/ci.md" || fail "docs/ci.md: no row for input $name"
    done
    for id in mscan mscan-all; do
        grep -q "^- id: $id$" "$SRC/.pre-commit-hooks.yaml" || fail "no pre-commit hook $id"
    done
    [[ -x $HOOK ]] || fail "scripts/pre-commit-scan.sh is not executable"
    pass "action.yml and .pre-commit-hooks.yaml (grep; PyYAML not installed)"
fi

echo "# all $checks CI integration checks passed"
