#!/usr/bin/env bash
# Builds the libFuzzer targets (scripts/setup.sh --fuzz) and runs each for SECONDS, seeded from
# fuzz/corpus/<target>/ and the shipped samples. New inputs go to a temporary directory, never
# into the repository. A crash, timeout or memory blow-up fails the script; the reproducer is
# kept under build-fuzz/artifacts/<target>/ and replays with: build-fuzz/fuzz/<target> FILE
#
#   scripts/fuzz.sh SECONDS [TARGET...]        (FUZZ_MAX_LEN=BYTES: input size cap, 64 KiB;
#                                              FUZZ_TIMEOUT=SECONDS: per-input hang limit, 30)
set -euo pipefail

usage() { sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

if [[ $# -lt 1 ]] || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then
    usage >&2
    exit 2
fi
seconds=$1
shift

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd -P)

./scripts/setup.sh --fuzz

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for exe in build-fuzz/fuzz/fuzz_*; do
        [[ -f $exe && -x $exe ]] && targets+=("$(basename "$exe")")
    done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "fuzz: no fuzz targets found in build-fuzz/fuzz/" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mscan-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
for target in "${targets[@]}"; do
    exe="$ROOT/build-fuzz/fuzz/$target"
    if [[ ! -x $exe ]]; then
        echo "fuzz: $target: no such fuzz target ($exe)" >&2
        failed=1
        continue
    fi
    artifacts="$ROOT/build-fuzz/artifacts/$target"
    mkdir -p "$artifacts" "$work/$target/corpus"
    log="$ROOT/build-fuzz/$target.log"
    # First corpus directory: where libFuzzer writes new inputs (temporary). The rest are read
    # only: the checked-in corpus and the samples (a format's own samples when it has a folder
    # of them, e.g. samples/pickle for fuzz_pickle, else all of samples/).
    seeds=()
    [[ -d fuzz/corpus/$target ]] && seeds+=("$ROOT/fuzz/corpus/$target")
    format=${target#fuzz_}
    if [[ -d samples/$format ]]; then
        seeds+=("$ROOT/samples/$format")
    elif [[ -d samples ]]; then
        seeds+=("$ROOT/samples")
    fi
    echo "fuzz: $target for ${seconds}s (seeds: ${seeds[*]#"$ROOT/"}; log: ${log#"$ROOT/"})"
    touch "$work/$target/start"
    status=0
    # -max_len: inputs up to 64 KiB (larger seeds are read truncated). Left to libFuzzer, the
    # 1 MiB samples set it to 1 MiB and runs are ~6x slower with less coverage in the same time.
    # -timeout (per input, seconds; FUZZ_TIMEOUT): a hang fails the run. 30, not 10: a bzip2
    # or LZMA bomb member is drained to the 1 GiB member cap as its loader would read it, 2-4 s
    # in the instrumented build, and a 2-core machine busy with other work made one such input
    # take 11 s (a fresh-Debian .ci/run, 2026-12-07) while it takes under 1 s on an idle one.
    "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout="${FUZZ_TIMEOUT:-30}" \
        -print_final_stats=1 \
        -max_len="${FUZZ_MAX_LEN:-65536}" \
        -artifact_prefix="$artifacts/" "$work/$target/corpus" "${seeds[@]}" >"$log" 2>&1 ||
        status=$?
    new_artifacts=$(find "$artifacts" -type f -newer "$work/$target/start")
    if [[ $status -ne 0 ]] || [[ -n $new_artifacts ]]; then
        failed=1
        tail -n 60 "$log" >&2
        echo "fuzz: $target FAILED (exit $status); reproducer(s):" >&2
        if [[ -n $new_artifacts ]]; then
            while IFS= read -r file; do echo "  $file" >&2; done <<<"$new_artifacts"
        else
            echo "  (none written; see ${log#"$ROOT/"})" >&2
        fi
        echo "fuzz: replay with: build-fuzz/fuzz/$target <reproducer>" >&2
    else
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        corpus=$(find "$work/$target/corpus" -type f | wc -l)
        echo "fuzz: $target ok: ${runs:-?} runs in ${seconds}s, $corpus new corpus inputs, no crash"
    fi
done
exit "$failed"
