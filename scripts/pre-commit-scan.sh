#!/usr/bin/env bash
# pre-commit hook: scans the files pre-commit passes (the staged versions: pre-commit stashes
# unstaged changes first) and fails the commit on a finding at or above --fail-on (default
# high), printing mscan's text report. Used by the hooks in .pre-commit-hooks.yaml; see
# docs/ci.md.
#
#   scripts/pre-commit-scan.sh [mscan options] FILE...
#
# mscan is found as $MSCAN, else `mscan` on PATH (install it first: the hook does not build it).
# mscan decides by content what a model file is; a file that is not one is skipped, and a commit
# with no model file in it passes (mscan's exit code 3 becomes 0). Exit codes: 0 pass, 1
# findings at or above --fail-on, 2 a file could not be scanned (unreadable, or a format mscan
# recognises but does not read, such as llama.cpp's pre-GGUF GGJT), 4 usage error.
set -uo pipefail

mscan_bin=${MSCAN:-mscan}
if ! command -v "$mscan_bin" >/dev/null 2>&1; then
    echo "mscan pre-commit hook: '$mscan_bin' not found. Install mscan (see README.md), or set" \
        "MSCAN to the binary." >&2
    exit 4
fi

# pre-commit runs the hook only when some file matched, so there is always a target.
[[ $# -gt 0 ]] || exit 0

# A default threshold unless the hook's args set one.
fail_on=(--fail-on high)
for arg in "$@"; do
    case "$arg" in
        --fail-on | --fail-on=*) fail_on=() ;;
    esac
done

"$mscan_bin" --no-color --no-progress "${fail_on[@]}" "$@"
rc=$?
if [[ $rc -eq 3 ]]; then
    exit 0
fi
exit "$rc"
