#!/usr/bin/env bash
# Report validation: mscan's SARIF checked by Microsoft's validator (sarif-multitool validate)
# and by the SARIF 2.1.0 JSON schema shipped in the same npm package (the validator misses some
# schema violations, e.g. bad enum values); mscan's JSON checked against docs/json-schema.json.
# Run by ctest with MSCAN=<path to mscan> and MSCAN_SOURCE_DIR=<repo>. The validator is
# installed into .tools/ by scripts/setup.sh --tests.
set -euo pipefail

: "${MSCAN:?set MSCAN to the mscan binary}"
: "${MSCAN_SOURCE_DIR:?set MSCAN_SOURCE_DIR to the repository root}"
# Absolute paths: the checks run from other directories.
MSCAN=$(realpath "$MSCAN")
MSCAN_SOURCE_DIR=$(realpath "$MSCAN_SOURCE_DIR")
# The validator is a .NET program; minimal systems have no libicu.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1

tools=$MSCAN_SOURCE_DIR/.tools
multitool=$tools/node_modules/.bin/sarif-multitool
validate_json=$MSCAN_SOURCE_DIR/tests/cli/validate_json.py
json_schema=$MSCAN_SOURCE_DIR/docs/json-schema.json

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}
checks=0
pass() {
    checks=$((checks + 1))
    printf 'ok %d - %s\n' "$checks" "$*"
}

[[ -x $multitool ]] ||
    fail "SARIF validator not found at $multitool -- run scripts/setup.sh --tests to install it into .tools/"
sarif_schema=$(find "$tools/node_modules/@microsoft" -name sarif-2.1.0.json -print -quit 2>/dev/null)
[[ -n $sarif_schema ]] ||
    fail "sarif-2.1.0.json not found under $tools/node_modules/@microsoft -- run scripts/setup.sh --tests"
python3 -c 'import jsonschema' 2>/dev/null ||
    fail "python3 jsonschema is missing (Debian: python3-jsonschema) -- run scripts/setup.sh --tests"
[[ -f $json_schema ]] || fail "$json_schema is missing"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mscan-reports.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# scan NAME DIR TARGET...: writes $tmp/NAME.sarif and $tmp/NAME.json from mscan run in DIR.
# Exit codes 0-2 are all fine here (findings and unreadable targets are the point).
scan() {
    local name=$1 dir=$2 format status
    shift 2
    for format in sarif json; do
        status=0
        (cd "$dir" && "$MSCAN" --format "$format" -o "$tmp/$name.$format" "$@") 2>"$tmp/stderr" ||
            status=$?
        if [[ $status -gt 2 ]]; then
            cat "$tmp/stderr" >&2
            fail "mscan --format $format $* (in $dir) exited $status"
        fi
        [[ -s $tmp/$name.$format ]] || fail "mscan wrote no $format report for $name"
    done
    pass "$name: mscan wrote SARIF and JSON for $* (exit $status)"
}

# sarif_multitool NAME: Microsoft's validator must finish and report no error.
sarif_multitool() {
    local file=$tmp/$1.sarif status=0
    "$multitool" validate "$file" >"$tmp/validate.log" 2>&1 || status=$?
    if [[ $status -ne 0 ]] || grep -q ': error' "$tmp/validate.log" ||
        ! grep -q 'Analysis completed successfully' "$tmp/validate.log"; then
        cat "$tmp/validate.log" >&2
        fail "$1.sarif: sarif-multitool validate reported errors (exit $status)"
    fi
    if grep -q ': warning' "$tmp/validate.log"; then
        grep ': warning' "$tmp/validate.log" | sed 's/^/  /'
    fi
    pass "$1.sarif: sarif-multitool validate: no errors"
}

# schema SCHEMA FILE DESCRIPTION
schema() {
    python3 "$validate_json" "$1" "$2" >"$tmp/schema.log" 2>&1 || {
        cat "$tmp/schema.log" >&2
        fail "$(basename "$2") does not validate against $3"
    }
    pass "$(basename "$2"): valid against $3"
}

check() {
    sarif_multitool "$1"
    schema "$sarif_schema" "$tmp/$1.sarif" "the SARIF 2.1.0 JSON schema"
    schema "$json_schema" "$tmp/$1.json" "docs/json-schema.json"
}

# 1. The shipped samples, as relative paths (the usual CI invocation) and as an absolute path
#    (file:// URIs).
if [[ -d $MSCAN_SOURCE_DIR/samples ]]; then
    scan samples "$MSCAN_SOURCE_DIR" samples
    check samples
    scan samples-absolute / "$MSCAN_SOURCE_DIR/samples"
    check samples-absolute
else
    mkdir -p "$tmp/generated"
    printf '\x80\x02}q\x00.' >"$tmp/generated/benign.pkl"
    printf '\x80\x02cos\nsystem\nX\x02\x00\x00\x00idq\x00\x85R.' >"$tmp/generated/hostile.pkl"
    scan generated "$tmp" generated
    check generated
fi

# 2. A hostile pickle with awkward company: a skipped text file, a file whose name needs URI
#    escaping, an unknown global (medium), and a target that does not exist (an error entry).
mkdir -p "$tmp/hostile/sub dir"
printf '\x80\x02cos\nsystem\nX\x02\x00\x00\x00idq\x00\x85R.' >"$tmp/hostile/os system.pkl"
printf '\x80\x02cmypkg\nFoo\n)R.' >"$tmp/hostile/sub dir/m%d#ü.pkl"
printf '\x80\x02}q\x00.' >"$tmp/hostile/benign.pkl"
printf 'not a model\n' >"$tmp/hostile/README.txt"
scan hostile "$tmp" hostile missing.pkl
check hostile
python3 - "$tmp/hostile.json" "$tmp/hostile.sarif" <<'PY' || fail "hostile reports lack the expected entries"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["errors"] and doc["skipped"] and doc["summary"]["failed"], doc["summary"]
assert any(f["rule_id"] == "process-execution" for f in doc["findings"])
sarif = json.load(open(sys.argv[2]))
run = sarif["runs"][0]
assert any(r["ruleId"] == "process-execution" for r in run["results"])
assert run["invocations"][0].get("toolExecutionNotifications"), "no notification for missing.pkl"
PY
pass "hostile: reports carry the finding, the skipped file and the error"

# 3. A clean run: empty results and findings arrays are valid too.
mkdir -p "$tmp/clean"
printf '\x80\x02}q\x00.' >"$tmp/clean/benign.pkl"
scan clean "$tmp" clean
check clean

# Accepted findings: one suppressed by a configuration file, the rest by a baseline. SARIF
# carries them as `suppressions` (kind external, status accepted, with the justification).
mkdir -p "$tmp/accepted/models"
printf '\x80\x02cos\nsystem\nX\x02\x00\x00\x00idq\x00\x85R.' >"$tmp/accepted/models/a.pkl"
printf '\x80\x02cmypkg\nFoo\n)R.' >"$tmp/accepted/models/b.pkl"
printf '[[suppress]]\nrule = "unknown-global"\npath = "models/b.pkl"\nreason = "reviewed"\n' \
    >"$tmp/accepted/mscan.toml"
(cd "$tmp/accepted" && "$MSCAN" --write-baseline baseline.json models 2>/dev/null) ||
    fail "mscan --write-baseline failed"
scan accepted "$tmp/accepted" --baseline baseline.json models
check accepted
python3 - "$tmp/accepted.json" "$tmp/accepted.sarif" <<'PY' || fail "accepted findings are not marked"
import json, sys
doc = json.load(open(sys.argv[1]))
kinds = sorted(f["suppressed"]["kind"] for f in doc["findings"])
assert kinds == ["baseline", "config"], kinds
assert doc["summary"]["suppressed"] == {"config": 1, "baseline": 1}, doc["summary"]
results = json.load(open(sys.argv[2]))["runs"][0]["results"]
assert all(r["suppressions"][0]["status"] == "accepted" for r in results), results
PY
pass "accepted: suppressed and baselined findings are marked in JSON and SARIF"

# Hugging Face targets: the fake Hub of tests/hub on loopback (never the internet), a private
# repo that fails (an error in both reports), and a snapshot in a local cache.
python3 "$MSCAN_SOURCE_DIR/tests/hub/fake_hub.py" --demo --ready-file "$tmp/hub.json" \
    >"$tmp/hub.log" 2>&1 &
hub_pid=$!
trap 'kill "$hub_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do
    [[ -s $tmp/hub.json ]] && break
    sleep 0.1
done
[[ -s $tmp/hub.json ]] || fail "the fake Hub did not start: $(cat "$tmp/hub.log")"
endpoint=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["endpoint"])' \
    "$tmp/hub.json")
commit=1111111111111111111111111111111111111111
snapshot=$tmp/hfhome/hub/models--org--cached/snapshots/$commit
mkdir -p "$snapshot/extra" "$tmp/hfhome/hub/models--org--cached/blobs"
printf '\x80\x02cos\nsystem\nX\x02\x00\x00\x00idq\x00\x85R.' \
    >"$tmp/hfhome/hub/models--org--cached/blobs/$(printf 'a%.0s' {1..64})"
ln -s "../../../blobs/$(printf 'a%.0s' {1..64})" "$snapshot/extra/payload.pkl"
HF_ENDPOINT=$endpoint HF_HOME=$tmp/hfhome HF_TOKEN='' HUGGING_FACE_HUB_TOKEN='' \
    scan hub "$tmp" --no-progress hf://org/big-torch hf://org/private "$tmp/hfhome/hub"
check hub
python3 - "$tmp/hub.json" "$tmp/hub.sarif" "$commit" <<'PY' || fail "hub reports lack the expected entries"
import json, sys
doc = json.load(open(sys.argv[1]))
names = [r["name"] for r in doc["repos"]]
assert names == ["hf://org/big-torch", "hf://org/private", "hf://org/cached@" + sys.argv[3]], names
assert doc["repos"][1]["error"] and doc["repos"][2]["source"] == "cache"
assert any(f["location"]["path"] == "hf://org/big-torch/extra/payload.pkl" for f in doc["findings"])
run = json.load(open(sys.argv[2]))["runs"][0]
assert run["versionControlProvenance"][0]["revisionId"] == doc["repos"][0]["commit"]
assert any(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
           "hf://org/big-torch/extra/payload.pkl" for r in run["results"])
PY
pass "hub: reports carry the repos, the commit, the remote finding and the failed repo"

echo "# all $checks report validation checks passed"
