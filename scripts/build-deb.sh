#!/usr/bin/env bash
# Builds mscan's Debian package: a Release build of the binary in build-deb/ (no tests, no
# fuzz targets), then CPack's DEB generator (cmake/packaging.cmake). The last line of standard
# output is the absolute path of the .deb; progress goes to standard error.
#
#   scripts/build-deb.sh
#   sudo apt-get install ./build-deb/mscan_*.deb
#
# First installs what is missing of the build and deb package groups (scripts/setup.sh
# --packages build,deb: the build dependencies, and dpkg-dev and file, which CPack's DEB
# generator runs to compute the package's Depends); that needs root or sudo unless they are all
# there already.
set -euo pipefail

usage() { sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
for arg in "$@"; do
    case "$arg" in
        -h | --help) usage; exit 0 ;;
        *) echo "build-deb: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
    esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd -P)
dir=$ROOT/build-deb

say() { printf 'build-deb: %s\n' "$*" >&2; }
die() { printf 'build-deb: error: %s\n' "$*" >&2; exit 1; }

# Standard output carries only the .deb's path: setup's progress goes to standard error.
./scripts/setup.sh --packages build,deb >&2
for tool in cmake cpack dpkg-deb dpkg-shlibdeps file; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found (Debian: apt-get install cmake dpkg-dev file)"
done

# run LOG COMMAND...: runs COMMAND with its output in build-deb/LOG, shown if it fails.
run() {
    local log=$dir/$1
    shift
    if ! "$@" >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        die "failed: $* (full log: ${log#"$ROOT"/})"
    fi
}

mkdir -p "$dir"
say "configuring build-deb/ (Release)"
# CMAKE_SKIP_INSTALL_ALL_DEPENDENCY: cpack installs what is built (the binary) without first
# building every target of the tree (the fuzz replay programs).
run configure.log cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DMSCAN_TESTS=OFF \
    -DMSCAN_FUZZ=OFF -DMSCAN_SANITIZE=OFF -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON
say "building mscan (-j2)"
run build.log cmake --build "$dir" -j2 --target mscan
say "packaging (cpack -G DEB)"
rm -f "$dir"/mscan_*.deb
(cd "$dir" && run cpack.log cpack -G DEB)

debs=("$dir"/mscan_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || die "cpack did not leave one mscan_*.deb in build-deb/"
deb=${debs[0]}
say "built $(basename "$deb"): $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)\
 $(dpkg-deb -f "$deb" Architecture), $(du -h "$deb" | cut -f1)"
say "Depends: $(dpkg-deb -f "$deb" Depends)"
printf '%s\n' "$deb"
