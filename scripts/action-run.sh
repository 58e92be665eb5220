#!/usr/bin/env bash
# Runs mscan as a CI step: one scan writes the SARIF report (the gate), the log gets a readable
# report, and on GitHub Actions the job summary and step outputs are filled in. The GitHub Action
# (action.yml) calls it; it runs the same anywhere (GitLab CI, Jenkins, a shell) and exits with
# the scan's exit code (0 clean, 1 findings at or above --fail-on, 2 scan error, 3 nothing
# scannable, 4 usage error), so any CI can gate on it.
#
#   scripts/action-run.sh [OPTIONS] [--] [PATH...]
#
#   --mscan BIN          mscan binary (env MSCAN; default: mscan on PATH)
#   --fail-on LEVEL      critical|high|medium|low|info|never (env MSCAN_FAIL_ON; default high)
#   --sarif FILE         SARIF report to write (env MSCAN_SARIF; default mscan.sarif)
#   --json FILE          also write the JSON report (env MSCAN_JSON): one more scan
#   --codequality FILE   also write a GitLab Code Quality report made from the SARIF
#                        (env MSCAN_CODEQUALITY)
#   --text MODE          text report in the log (env MSCAN_TEXT): auto (default) scans local
#                        targets a second time in text format and, for remote targets (hf://,
#                        https://), prints a summary of the SARIF instead of fetching again;
#                        always; never (summary only)
#   --args STRING        extra mscan arguments, split on spaces and newlines; quotes are not
#                        interpreted (env MSCAN_ARGS), e.g. "--allow mypkg.* --exclude tests/*"
#   PATH...              targets (env MSCAN_PATHS: one per line, or separated by spaces on a
#                        single line; default .)
#
# On GitHub Actions ($GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY set), it writes the outputs
# exit-code, sarif-file, sarif-written, findings, failing-findings, critical, high, medium, low,
# info, suppressed, errors, and a Markdown summary (counts by severity, the worst findings).
# The summary, outputs and Code Quality report need python3; without it only exit-code,
# sarif-file and sarif-written are written.
set -uo pipefail

usage() {
    sed -n '2,29s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

say() { printf 'mscan-ci: %s\n' "$*" >&2; }
usage_error() {
    say "error: $*"
    write_output exit-code 4
    exit 4
}

# write_output NAME VALUE: one step output, when running on GitHub Actions.
write_output() {
    if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
        printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
    fi
}

mscan_bin=${MSCAN:-mscan}
fail_on=${MSCAN_FAIL_ON:-high}
sarif=${MSCAN_SARIF:-mscan.sarif}
json=${MSCAN_JSON:-}
codequality=${MSCAN_CODEQUALITY:-}
text_mode=${MSCAN_TEXT:-auto}
extra_args=${MSCAN_ARGS:-}
paths=()

need_value() {
    [[ $# -ge 2 ]] || usage_error "$1 needs a value"
}
while [[ $# -gt 0 ]]; do
    case "$1" in
        --mscan) need_value "$@"; mscan_bin=$2; shift 2 ;;
        --fail-on) need_value "$@"; fail_on=$2; shift 2 ;;
        --sarif) need_value "$@"; sarif=$2; shift 2 ;;
        --json) need_value "$@"; json=$2; shift 2 ;;
        --codequality) need_value "$@"; codequality=$2; shift 2 ;;
        --text) need_value "$@"; text_mode=$2; shift 2 ;;
        --args) need_value "$@"; extra_args=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; paths+=("$@"); break ;;
        -*) usage_error "unknown option: $1 (mscan's own options go in --args)" ;;
        *) paths+=("$1"); shift ;;
    esac
done

case "$text_mode" in
    auto | always | never) ;;
    *) usage_error "--text must be auto, always or never, not '$text_mode'" ;;
esac
[[ -n "$sarif" ]] || usage_error "the SARIF file name is empty"

# Targets from MSCAN_PATHS when none are given as arguments: one per line if there are several
# lines (so a path may hold spaces), otherwise split on whitespace. No glob expansion anywhere.
set -f
if [[ ${#paths[@]} -eq 0 ]]; then
    list=${MSCAN_PATHS:-.}
    if [[ "$list" == *$'\n'* ]]; then
        while IFS= read -r line; do
            line="${line#"${line%%[![:space:]]*}"}"
            line="${line%"${line##*[![:space:]]}"}"
            [[ -n "$line" ]] && paths+=("$line")
        done <<<"$list"
    else
        read -r -a paths <<<"$list"
    fi
fi
[[ ${#paths[@]} -gt 0 ]] || paths=(.)
# Split on any whitespace, newlines included (a multi-line YAML value).
args=()
read -r -d '' -a args <<<"$extra_args"
set +f

if ! command -v "$mscan_bin" >/dev/null 2>&1; then
    usage_error "mscan not found: '$mscan_bin' (install it, or pass --mscan BIN / set MSCAN)"
fi

remote=0
for p in "${paths[@]}"; do
    case "$p" in hf://* | http://* | https://*) remote=1 ;; esac
done

# On GitHub Actions, text that came from the scanned files (file names, evidence, on standard
# output or error) must not be read as workflow commands ("::add-mask::", "::error::", ...):
# command processing is stopped while mscan or the summary runs. begin_untrusted [GROUP] also
# opens a collapsed log group.
stop_token=""
group_open=0
begin_untrusted() {
    if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then
        stop_token="mscan-$RANDOM$RANDOM$RANDOM-$$"
        group_open=0
        if [[ -n "${1:-}" ]]; then
            echo "::group::$1"
            group_open=1
        fi
        echo "::stop-commands::$stop_token"
    fi
}
end_untrusted() {
    if [[ -n "$stop_token" ]]; then
        echo "::$stop_token::"
        [[ $group_open -eq 1 ]] && echo "::endgroup::"
        stop_token=""
        group_open=0
    fi
}

common=(--fail-on "$fail_on" --no-progress)

# 1. The gate: SARIF to a file. Its exit code is this script's exit code.
rm -f -- "$sarif"
say "scanning ${paths[*]} (fail on $fail_on) -> $sarif"
begin_untrusted "mscan report"
"$mscan_bin" --format sarif -o "$sarif" "${common[@]}" "${args[@]}" -- "${paths[@]}"
rc=$?
sarif_written=false
[[ -s "$sarif" ]] && sarif_written=true

# 2. Extra reports. Their exit codes are not the gate's; a failure to write one is reported.
if [[ -n "$json" ]] && [[ $rc -ne 4 ]]; then
    "$mscan_bin" --format json -o "$json" "${common[@]}" "${args[@]}" -- "${paths[@]}" >/dev/null
    [[ -s "$json" ]] || say "warning: the JSON report $json was not written"
fi
text_run=0
if [[ $rc -ne 4 ]]; then
    if [[ "$text_mode" == always ]] || { [[ "$text_mode" == auto ]] && [[ $remote -eq 0 ]]; }; then
        text_run=1
        "$mscan_bin" --format text --no-color "${common[@]}" "${args[@]}" -- "${paths[@]}"
    fi
fi
end_untrusted

# 3. Summary, outputs and Code Quality report, all read from the SARIF the gate wrote.
write_output exit-code "$rc"
write_output sarif-file "$sarif"
write_output sarif-written "$sarif_written"
if [[ "$sarif_written" == true ]]; then
    if command -v python3 >/dev/null 2>&1; then
        list_findings=1
        [[ $text_run -eq 1 ]] && list_findings=0
        begin_untrusted
        python3 - "$sarif" "$fail_on" "$rc" "$list_findings" "$codequality" <<'PY'
import json
import os
import sys
import unicodedata
from urllib.parse import unquote_to_bytes

sarif_path, fail_on, rc, list_findings, codequality = sys.argv[1:6]
rc = int(rc)
ORDER = ["critical", "high", "medium", "low", "info"]
LEVEL_TO_SEVERITY = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
MEANING = {
    0: "no finding at or above the threshold",
    1: "findings at or above the threshold",
    2: "some target could not be scanned",
    3: "nothing scannable was found",
    4: "usage, configuration or rules error",
}



def printable(text):
    # Text from the scanned files (names, evidence) reaches a terminal and a web page: control
    # characters (an ESC would drive the terminal) and invisible format characters
    # (bidirectional overrides) are shown as \\xNN / \\uNNNN escapes.
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            code = ord(ch)
            out.append("\\x%02x" % code if code < 0x100 else "\\u%04x" % code
                       if code < 0x10000 else "\\U%08x" % code)
        else:
            out.append(ch)
    return "".join(out)


def path_of(uri):
    # SARIF URIs are percent-encoded ("with%20space/x.pkl"); people read the path, decoded
    # (bytes that are not UTF-8 as \\xNN) and printable.
    if uri.startswith("file://"):
        uri = uri[len("file://"):]
    return printable(unquote_to_bytes(uri).decode("utf-8", "backslashreplace"))


with open(sarif_path, encoding="utf-8") as f:
    sarif = json.load(f)

findings, suppressed, errors = [], 0, []
for run in sarif.get("runs", []):
    for res in run.get("results", []):
        sup = res.get("suppressions") or []
        if any(s.get("status", "accepted") == "accepted" for s in sup):
            suppressed += 1
            continue
        props = res.get("properties") or {}
        sev = props.get("severity")
        if sev not in ORDER:
            sev = LEVEL_TO_SEVERITY.get(res.get("level", "warning"), "medium")
        uri, offset = "", None
        locs = res.get("locations") or []
        if locs:
            phys = locs[0].get("physicalLocation") or {}
            uri = path_of(str((phys.get("artifactLocation") or {}).get("uri", "")))
            offset = (phys.get("region") or {}).get("byteOffset")
        fp = (res.get("partialFingerprints") or {}).get("mscanFingerprint/v1", "")
        findings.append({
            "severity": sev, "rule": res.get("ruleId", ""), "uri": uri, "offset": offset,
            "message": (res.get("message") or {}).get("text", ""), "fingerprint": fp,
        })
    for inv in run.get("invocations", []):
        for note in inv.get("toolExecutionNotifications", []):
            if note.get("level") == "error":
                errors.append((note.get("message") or {}).get("text", ""))

counts = {s: sum(1 for f in findings if f["severity"] == s) for s in ORDER}
threshold = ORDER.index(fail_on) if fail_on in ORDER else -1
failing = [f for f in findings if ORDER.index(f["severity"]) <= threshold]
findings.sort(key=lambda f: (ORDER.index(f["severity"]), f["uri"], f["rule"]))


def one_line(text, limit):
    text = printable(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


# The log: counts, and the findings themselves when no text report was printed.
print("mscan: %d finding(s): %s; %d suppressed; %d error(s); exit %d (%s)" % (
    len(findings), ", ".join("%d %s" % (counts[s], s) for s in ORDER), suppressed,
    len(errors), rc, MEANING.get(rc, "unknown")))
if list_findings == "1":
    for f in findings:
        where = f["uri"] + ("" if f["offset"] is None else " @0x%x" % f["offset"])
        print("  %-8s %s  %s: %s" % (f["severity"].upper(), f["rule"], where,
                                      one_line(f["message"], 300)))
    for e in errors:
        print("  ERROR    " + one_line(e, 300))


def md(text, limit=160):
    # Scanned files choose these strings: nothing in them may become Markdown or HTML.
    out = []
    for ch in one_line(text, limit):
        out.append("&#%d;" % ord(ch) if ch in "\\`*_[]<>|&~@:" else ch)
    return "".join(out)


outputs = {
    "findings": len(findings), "failing-findings": len(failing), "suppressed": suppressed,
    "errors": len(errors),
}
outputs.update(counts)
if os.environ.get("GITHUB_OUTPUT"):
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        for name, value in outputs.items():
            out.write("%s=%d\n" % (name, value))

if os.environ.get("GITHUB_STEP_SUMMARY"):
    lines = ["## mscan: %d finding(s), exit %d (%s)" % (len(findings), rc, MEANING.get(rc, "?")),
             "",
             "Threshold (`fail-on`): **%s**; %d finding(s) at or above it." % (
                 fail_on, len(failing)),
             "", "| severity | findings |", "|---|---:|"]
    lines += ["| %s | %d |" % (s, counts[s]) for s in ORDER]
    if suppressed:
        lines.append("| suppressed | %d |" % suppressed)
    lines.append("| errors (not scanned) | %d |" % len(errors))
    shown = findings[:20]
    if shown:
        lines += ["", "### Worst findings" + (" (20 of %d)" % len(findings)
                                               if len(findings) > 20 else ""), "",
                  "| severity | rule | location | message |", "|---|---|---|---|"]
        for f in shown:
            where = f["uri"] + ("" if f["offset"] is None else " @0x%x" % f["offset"])
            lines.append("| %s | %s | %s | %s |" % (f["severity"], md(f["rule"], 60),
                                                   md(where, 120), md(f["message"])))
    if errors:
        lines += ["", "### Not scanned", ""] + ["- " + md(e, 200) for e in errors[:20]]
    lines += ["", "Full report: the SARIF file %s and the step log." % md(sarif_path, 200), ""]
    with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as out:
        out.write("\n".join(lines))

if codequality:
    # GitLab Code Quality: a JSON array of issues (description, check_name, fingerprint,
    # severity, location.path, location.lines.begin). A model file has no lines: line 1.
    GL = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor",
          "info": "info"}
    issues = []
    for f in findings:
        issues.append({
            "description": one_line(f["message"], 1000),
            "check_name": "mscan/" + f["rule"],
            "fingerprint": f["fingerprint"] or "%s:%s:%s" % (f["rule"], f["uri"], f["offset"]),
            "severity": GL[f["severity"]],
            "location": {"path": f["uri"], "lines": {"begin": 1}},
        })
    with open(codequality, "w", encoding="utf-8") as out:
        json.dump(issues, out, indent=1)
        out.write("\n")
PY
        py_rc=$?
        end_untrusted
        [[ $py_rc -eq 0 ]] || say "warning: could not summarise $sarif (python3 exit $py_rc)"
    else
        say "python3 not found: no summary, counts or Code Quality report (the SARIF is complete)"
    fi
else
    say "no SARIF report was written (mscan exit $rc)"
    if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
        printf '## mscan: no report, exit %s\n\nmscan did not write a report: see the log.\n' \
            "$rc" >>"$GITHUB_STEP_SUMMARY"
    fi
fi

exit "$rc"
