#!/usr/bin/env bash
# Sets up a Debian 12 machine for one task: installs the Debian packages that task needs (only
# those missing), then builds. Idempotent: a second run installs nothing and only rebuilds what
# changed.
#
#   scripts/setup.sh              build group; builds build/mscan (RelWithDebInfo, warnings are
#                                 errors). What scripts/quickstart.sh runs.
#   scripts/setup.sh --tests      build + test groups and the SARIF validator (npm, into
#                                 .tools/); builds build/ with its tests (scripts/test.sh)
#   scripts/setup.sh --sanitize   build + test + clang groups and the SARIF validator; ASan+UBSan
#                                 build with clang in build-asan/ (scripts/test.sh --sanitize)
#   scripts/setup.sh --fuzz       build + clang groups; libFuzzer build in build-fuzz/ (fuzz.sh)
#   scripts/setup.sh --packages GROUP[,GROUP...]   installs those groups only; builds nothing
#
# Groups (Debian 12 package names in the *_PACKAGES lists below): build (compiler, cmake, the
# libraries mscan links, CA certificates for hf://), test (Catch2, python3 with jsonschema and
# yaml, man-db, nodejs + npm), clang (clang 14, its sanitizer/libFuzzer runtime, clang-tidy), deb
# (dpkg-dev, file: scripts/build-deb.sh), deb-test (python3, man-db: scripts/test-deb.sh).
#
# As root, missing packages are installed with apt-get (without root, with sudo if it is there;
# otherwise the script says what to install); progress is printed as apt-get goes, the full log
# is kept in a file and its end shown on failure. Only the SARIF validator comes from outside
# Debian: @microsoft/sarif-multitool (about 100 MB, from registry.npmjs.org) for the tests.
set -euo pipefail

SARIF_MULTITOOL_VERSION=5.7.0
# One list per group; the comments stay outside the lists (tests/ci reads them).
# build: what building and running mscan needs (CMakeLists.txt's find_package list).
BUILD_PACKAGES=(
    g++ make cmake pkg-config ca-certificates
    libcli11-dev nlohmann-json3-dev zlib1g-dev libbz2-dev liblzma-dev libzip-dev libarchive-dev
    libcurl4-openssl-dev libtomlplusplus-dev libyaml-dev
)
# test: what the test suite runs besides mscan (Catch2; the Python tests; the man page checks;
# node for the SARIF validator).
TEST_PACKAGES=(
    catch2 python3 python3-jsonschema python3-yaml man-db nodejs npm
)
# clang: sanitizer (ASan+UBSan) and libFuzzer builds; clang-tidy (scripts/tidy.sh).
CLANG_PACKAGES=(
    clang clang-tidy libclang-rt-14-dev
)
# deb: CPack's DEB generator runs file(1) and dpkg-shlibdeps (dpkg-dev).
DEB_PACKAGES=(
    dpkg-dev file
)
# deb-test: scripts/test-deb.sh's fake Hub (python3) and its man -w check.
DEB_TEST_PACKAGES=(
    python3 man-db
)
ALL_GROUPS="build test clang deb deb-test"

usage() {
    sed -n '2,24s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

mode=build
groups=()
set_mode() {
    [[ $mode == build ]] || { echo "setup: give one of --tests, --sanitize, --fuzz, --packages" >&2; exit 2; }
    mode=$1
}
while [[ $# -gt 0 ]]; do
    case "$1" in
        --tests) set_mode tests ;;
        --sanitize) set_mode sanitize ;;
        --fuzz) set_mode fuzz ;;
        --packages)
            set_mode packages
            [[ $# -ge 2 ]] || { echo "setup: --packages needs a list of groups ($ALL_GROUPS)" >&2; exit 2; }
            IFS=', ' read -r -a groups <<<"$2"
            shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "setup: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
case "$mode" in
    build) groups=(build) ;;
    tests) groups=(build test) ;;
    sanitize) groups=(build test clang) ;;
    fuzz) groups=(build clang) ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd -P)

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

PACKAGES=()
for group in "${groups[@]}"; do
    case "$group" in
        build) PACKAGES+=("${BUILD_PACKAGES[@]}") ;;
        test) PACKAGES+=("${TEST_PACKAGES[@]}") ;;
        clang) PACKAGES+=("${CLANG_PACKAGES[@]}") ;;
        deb) PACKAGES+=("${DEB_PACKAGES[@]}") ;;
        deb-test) PACKAGES+=("${DEB_TEST_PACKAGES[@]}") ;;
        *) echo "setup: unknown package group '$group' (groups: $ALL_GROUPS)" >&2; exit 2 ;;
    esac
done
mapfile -t PACKAGES < <(printf '%s\n' "${PACKAGES[@]}" | awk '!seen[$0]++')

jobs=2

# --- running a long command with progress ---------------------------------------------------

# elapsed SECONDS: "1m05s".
elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# with_progress LOG PROBE COMMAND...: runs COMMAND with its output appended to LOG. While it
# runs, every 10 s PROBE LOG may print a one-line status; it is shown when it changed, and at
# least once a minute, with the time so far. Returns COMMAND's exit code.
with_progress() {
    local log=$1 probe=$2 pid status=0 start=$SECONDS last="" line shown=$SECONDS
    local next=$((SECONDS + 10))
    shift 2
    "$@" >>"$log" 2>&1 </dev/null &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        ((SECONDS >= next)) || continue
        next=$((SECONDS + 10))
        line=$("$probe" "$log" 2>/dev/null || true)
        if [[ -n $line ]] && { [[ $line != "$last" ]] || ((SECONDS - shown >= 60)); }; then
            say "  $line ($(elapsed $((SECONDS - start))))"
            last=$line
            shown=$SECONDS
        fi
    done
    wait "$pid" || status=$?
    return "$status"
}

# fail_with_log LOG MESSAGE: the end of LOG, then MESSAGE as an error.
fail_with_log() {
    printf -- '--- last 40 lines of %s:\n' "$1" >&2
    tail -n 40 "$1" >&2
    die "$2 (full log: $1)"
}

# --- Debian packages ------------------------------------------------------------------------

# Prints the packages of PACKAGES that are neither installed nor provided by an installed
# package (NodeSource's nodejs, for one, provides and conflicts with Debian's npm).
missing_packages() {
    local installed provided pkg
    installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 2>/dev/null |
        awk '$1 == "ii" { print $2 }')
    provided=$(dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null |
        awk -F'|' '$1 ~ /^ii/ { print $2 }' | tr ',' '\n' | sed 's/(.*)//; s/^ *//; s/ *$//')
    for pkg in "${PACKAGES[@]}"; do
        if ! grep -qxF -- "$pkg" <<<"$installed" && ! grep -qxF -- "$pkg" <<<"$provided"; then
            printf '%s\n' "$pkg"
        fi
    done
}

# Progress of apt-get update: index files fetched so far.
apt_update_progress() {
    local n
    n=$(grep -cE '^(Get|Hit):' "$1" || true)
    printf 'apt-get update: %s index files' "$n"
}

# Progress of apt-get install (the log after the line "== apt-get install"): packages
# downloaded, unpacked and set up, of the total it announced ("N newly installed").
apt_install_progress() {
    local log total got unpacked setup
    log=$(sed -n '/^== apt-get install$/,$p' "$1")
    total=$(sed -nE 's/^([0-9]+) upgraded, ([0-9]+) newly installed.*/\1 \2/p' <<<"$log" |
        awk '{ print $1 + $2; exit }')
    got=$(grep -c '^Get:' <<<"$log" || true)
    unpacked=$(grep -c '^Unpacking ' <<<"$log" || true)
    setup=$(grep -c '^Setting up ' <<<"$log" || true)
    [[ -n $total ]] || { echo "apt-get install: resolving"; return; }
    printf 'apt-get install: %s packages: %s downloaded, %s unpacked, %s set up' \
        "$total" "$got" "$unpacked" "$setup"
}

install_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "not a Debian system: skipping package installation (needs: ${PACKAGES[*]})"
        return
    fi
    local missing=()
    mapfile -t missing < <(missing_packages)
    if [[ ${#missing[@]} -eq 0 ]]; then
        say "Debian packages (${groups[*]}): all ${#PACKAGES[@]} present"
        return
    fi
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
            sudo -v || die "sudo failed; as root: apt-get install ${missing[*]}"
        else
            die "missing packages: ${missing[*]} -- run as root, or: apt-get install ${missing[*]}"
        fi
    fi
    local log apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q)
    log=$(mktemp "${TMPDIR:-/tmp}/mscan-setup-apt.XXXXXX.log")
    say "installing ${#missing[@]} Debian packages (${groups[*]}): ${missing[*]}"
    say "with what they depend on; full log: $log"
    say "apt-get update"
    with_progress "$log" apt_update_progress "${apt[@]}" update ||
        fail_with_log "$log" "apt-get update failed"
    say "apt-get install (downloads from this machine's apt sources)"
    echo "== apt-get install" >>"$log"
    with_progress "$log" apt_install_progress \
        "${apt[@]}" install -y --no-install-recommends "${missing[@]}" ||
        fail_with_log "$log" "apt-get install failed"
    local size
    size=$(sed -n 's/^Need to get \(.*\) of archives.*/\1/p' "$log" | tail -n 1)
    say "Debian packages installed: $(apt_install_progress "$log" | sed 's/^apt-get install: //')${size:+ ($size downloaded)}"
}

# --- SARIF validator (npm, into .tools/) ----------------------------------------------------

# The .NET validator needs ICU unless globalization is invariant; minimal systems lack libicu.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1

npm_progress() {
    local mb
    mb=$(du -sm "$ROOT/.tools/node_modules" 2>/dev/null | cut -f1)
    printf 'npm: %s MB in .tools/node_modules' "${mb:-0}"
}

install_sarif_validator() {
    local tools="$ROOT/.tools"
    local pkg="$tools/node_modules/@microsoft/sarif-multitool"
    local bin="$tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
    if [[ -f "$pkg/package.json" ]] && [[ -x "$bin" ]] &&
        grep -q "\"version\": \"$SARIF_MULTITOOL_VERSION\"" "$pkg/package.json"; then
        say "SARIF validator: @microsoft/sarif-multitool $SARIF_MULTITOOL_VERSION present in .tools/"
        return
    fi
    command -v npm >/dev/null 2>&1 || die "npm not found (Debian package: npm)"
    mkdir -p "$tools"
    local log=$tools/npm-install.log
    : >"$log"
    say "installing @microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION into .tools/ (the tests'"
    say "SARIF validator: about 100 MB from https://registry.npmjs.org; log: ${log#"$ROOT/"})"
    # Pin the platform package too: the wrapper asks for it with a caret range.
    with_progress "$log" npm_progress \
        npm install --prefix "$tools" --no-audit --no-fund --no-save --loglevel=error \
        "@microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION" \
        "@microsoft/sarif-multitool-linux@$SARIF_MULTITOOL_VERSION" ||
        fail_with_log "$log" "npm install failed (needs https://registry.npmjs.org; behind a \
proxy set https_proxy, and behind a TLS-intercepting one \
NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)"
    [[ -f "$bin" ]] || die "npm did not install $bin"
    # npm does not always run the package's postinstall, which is what makes the binary executable.
    chmod u+x "$bin"
    "$tools/node_modules/.bin/sarif-multitool" --version >/dev/null 2>&1 ||
        die "the SARIF validator does not run: $tools/node_modules/.bin/sarif-multitool --version"
    say "SARIF validator installed ($(npm_progress))"
}

# --- builds ---------------------------------------------------------------------------------

# cache_value DIR NAME: NAME's value in DIR's CMake cache (empty if unset or no cache yet).
cache_value() {
    [[ -f $1/CMakeCache.txt ]] || return 0
    sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt" | head -n 1
}

# Whether every NAME=VALUE in the arguments is already set in DIR's CMake cache.
cache_matches() {
    local dir=$1 def
    shift
    [[ -f "$dir/CMakeCache.txt" ]] || return 1
    for def in "$@"; do
        [[ "$(cache_value "$dir" "${def%%=*}")" == "${def#*=}" ]] || return 1
    done
}

# Progress of a build: make's last percentage.
build_progress() {
    local pct
    pct=$(grep -oE '^\[ *[0-9]+%\]' "$1" | tail -n 1 | tr -d '[] ')
    [[ -n $pct ]] && printf 'compiling: %s' "$pct"
}

# build DIR CXX_COMPILER TARGET NAME=VALUE...: configures DIR if it is new or its cache differs
# from the given settings, then builds TARGET (empty: every target). An empty CXX_COMPILER
# means the system default.
build() {
    local dir=$1 cxx=$2 target=$3 def defs=()
    shift 3
    for def in "$@"; do defs+=("-D$def"); done
    if [[ -n "$cxx" ]] && [[ -f "$dir/CMakeCache.txt" ]] &&
        [[ "$(basename "$(cache_value "$dir" CMAKE_CXX_COMPILER)")" != "$cxx"* ]]; then
        say "$dir was configured with another compiler; starting it afresh"
        rm -rf "$dir"
    fi
    mkdir -p "$dir"
    if ! cache_matches "$dir" "$@"; then
        say "configuring $dir"
        if ! env ${cxx:+CXX="$cxx"} cmake -S . -B "$dir" "${defs[@]}" >"$dir/configure.log" 2>&1; then
            cat "$dir/configure.log" >&2
            die "cmake configure failed for $dir"
        fi
    fi
    say "building ${target:-every target} in $dir (-j$jobs; log: $dir/build.log)"
    : >"$dir/build.log"
    local start=$SECONDS
    with_progress "$dir/build.log" build_progress \
        cmake --build "$dir" -j"$jobs" ${target:+--target "$target"} ||
        fail_with_log "$dir/build.log" "build failed in $dir"
    say "built $dir ($(elapsed $((SECONDS - start))))"
}

install_packages
case "$mode" in
    tests | sanitize) install_sarif_validator ;;
esac

case "$mode" in
    build)
        # The quick start builds the binary only. A build/ that already has its tests keeps them.
        tests=$(cache_value build MSCAN_TESTS)
        build build "" mscan CMAKE_BUILD_TYPE=RelWithDebInfo MSCAN_WERROR=ON MSCAN_SANITIZE=OFF \
            MSCAN_FUZZ=OFF MSCAN_TESTS="${tests:-OFF}"
        ;;
    tests)
        build build "" "" CMAKE_BUILD_TYPE=RelWithDebInfo MSCAN_WERROR=ON MSCAN_SANITIZE=OFF \
            MSCAN_FUZZ=OFF MSCAN_TESTS=ON
        ;;
    sanitize)
        build build-asan clang++ "" CMAKE_BUILD_TYPE=Debug "CMAKE_CXX_FLAGS_DEBUG=-g -O1" \
            MSCAN_SANITIZE=ON MSCAN_FUZZ=OFF MSCAN_TESTS=ON
        ;;
    fuzz)
        build build-fuzz clang++ "" CMAKE_BUILD_TYPE=Debug "CMAKE_CXX_FLAGS_DEBUG=-g -O1" \
            MSCAN_FUZZ=ON MSCAN_SANITIZE=ON MSCAN_TESTS=OFF
        ;;
esac
say "done"
