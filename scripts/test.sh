#!/usr/bin/env bash
# Sets up and builds mscan with its tests (scripts/setup.sh --tests: the build and test package
# groups, and the SARIF validator from npm into .tools/), then runs the whole test suite with
# ctest.
#
#   scripts/test.sh              release build in build/
#   scripts/test.sh --sanitize   ASan+UBSan build in build-asan/ (adds the clang group)
#
# Extra arguments after -- go to ctest (e.g. scripts/test.sh -- -R cli_tests).
# Exits with ctest's status.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=build
setup_args=(--tests)
ctest_args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --sanitize) build_dir=build-asan; setup_args=(--sanitize) ;;
        --) shift; ctest_args=("$@"); break ;;
        -h | --help) sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "test: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

./scripts/setup.sh "${setup_args[@]}"

if [[ $build_dir == build-asan ]]; then
    # Stop at the first report, with a stack trace; leaks count as failures too.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1

echo "test: ctest --test-dir $build_dir --output-on-failure -j2 ${ctest_args[*]}"
status=0
ctest --test-dir "$build_dir" --output-on-failure -j2 "${ctest_args[@]}" || status=$?
if [[ $status -eq 0 ]]; then
    echo "test: all tests passed ($build_dir)"
else
    echo "test: FAILED ($build_dir): ctest exited $status" >&2
fi
exit "$status"
