#!/usr/bin/env bash
# clang-tidy with the repository's .clang-tidy on the C++ files of src/ that a change touches
# (a changed header brings in the .cpp files of its folder), or on all of src/. Any warning
# fails (WarningsAsErrors). Installs clang-tidy first (scripts/setup.sh's clang group) and
# configures build/ when it has no compile_commands.json.
#
#   scripts/tidy.sh          files changed by the last commit (HEAD~1..HEAD), as .ci/run runs it;
#                            all of src/ when there is no HEAD~1 (a shallow clone, no git)
#   scripts/tidy.sh BASE     files changed since BASE (a commit, branch or tag)
#   scripts/tidy.sh --all    every file of src/
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

base=HEAD~1
case "${1:-}" in
    -h | --help) sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    --all) base="" ;;
    "") ;;
    *) base=$1 ;;
esac

if ! command -v clang-tidy >/dev/null; then
    ./scripts/setup.sh --packages clang
fi
if [[ ! -f build/compile_commands.json ]]; then
    cmake -S . -B build -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
fi
# Generated sources (the embedded rules) must exist for the files that include them.
cmake --build build --target mscan_rules -j2 >/dev/null

files=()
in_git() { command -v git >/dev/null && git rev-parse --is-inside-work-tree >/dev/null 2>&1; }
if [[ -n $base ]] && in_git && git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
    while IFS= read -r path; do
        [[ -f $path ]] || continue
        case "$path" in
            src/*.cpp) files+=("$path") ;;
            src/*.h | src/*.inc) for f in "$(dirname "$path")"/*.cpp; do [[ -f $f ]] && files+=("$f"); done ;;
        esac
    done < <(git diff --name-only "$base" HEAD -- src)
    echo "tidy: files of src/ changed since $base: ${#files[@]}"
else
    # No history to compare with (a shallow clone, a tree without git): the whole tree.
    [[ -z $base ]] || echo "tidy: $base is not in this tree's history; checking all of src/"
    mapfile -t files < <(find src -name '*.cpp' | sort)
    echo "tidy: all of src/: ${#files[@]} files"
    [[ ${#files[@]} -gt 0 ]] || { echo "tidy: found no .cpp file under src/" >&2; exit 1; }
fi
mapfile -t files < <(printf '%s\n' "${files[@]}" | awk 'NF && !seen[$0]++')
[[ ${#files[@]} -gt 0 ]] || { echo "tidy: nothing to check"; exit 0; }

# The build's flags are GCC's; clang-tidy is clang, which does not know a few of them.
status=0
printf '%s\n' "${files[@]}" |
    xargs -P 2 -n 4 clang-tidy -p build --quiet -extra-arg=-Wno-unknown-warning-option \
        2>/dev/null || status=$?
if [[ $status -ne 0 ]]; then
    echo "tidy: clang-tidy found problems (above); fix them or, for a deliberate exception, say why in a NOLINT comment" >&2
    exit 1
fi
echo "tidy: clean"
