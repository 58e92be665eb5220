#!/usr/bin/env bash
# Sets up a Debian 12 machine to build and test mscan, then builds it. Idempotent: a second run
# installs nothing and only rebuilds what changed.
#
#   scripts/setup.sh              release build in build/ (RelWithDebInfo, warnings are errors)
#   scripts/setup.sh --sanitize   ASan+UBSan build with clang in build-asan/
#   scripts/setup.sh --fuzz       libFuzzer build with clang in build-fuzz/ (no test suite)
#
# As root, missing Debian packages are installed with apt-get (without root, with sudo if it is
# there; otherwise the script says what to install). The SARIF validator used by the test suite
# is installed once with npm into .tools/ (gitignored).
set -euo pipefail

SARIF_MULTITOOL_VERSION=5.7.0
# The design's dependency set (some not linked yet), the clang toolchain for sanitizer and fuzz
# builds, and what the test suite runs (python3 + jsonschema, node + npm for the SARIF validator).
PACKAGES=(
    build-essential g++ cmake make pkg-config
    clang libclang-rt-14-dev
    libcli11-dev nlohmann-json3-dev zlib1g-dev libzip-dev libspdlog-dev catch2
    libcurl4-openssl-dev libarchive-dev libtomlplusplus-dev
    python3 python3-jsonschema nodejs npm ca-certificates
)

usage() {
    sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

sanitize=0
fuzz=0
for arg in "$@"; do
    case "$arg" in
        --sanitize) sanitize=1 ;;
        --fuzz) fuzz=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "setup: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
    esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd -P)

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

jobs=2

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

install_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "not a Debian system: skipping package installation (needs: ${PACKAGES[*]})"
        return
    fi
    local missing=()
    mapfile -t missing < <(missing_packages)
    if [[ ${#missing[@]} -eq 0 ]]; then
        say "Debian packages: all ${#PACKAGES[@]} present"
        return
    fi
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            die "missing packages: ${missing[*]} -- run as root, or: apt-get install ${missing[*]}"
        fi
    fi
    local log
    log=$(mktemp "${TMPDIR:-/tmp}/mscan-setup-apt.XXXXXX.log")
    say "installing ${#missing[@]} Debian packages: ${missing[*]}"
    say "(apt-get update + install, a few minutes on a fresh system; log: $log)"
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 ||
        ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "apt-get failed (full log: $log)"
    fi
    rm -f "$log"
    say "Debian packages installed"
}

# --- SARIF validator (npm, into .tools/) ----------------------------------------------------

# The .NET validator needs ICU unless globalization is invariant; minimal systems lack libicu.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1

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
    say "installing @microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION into .tools/"
    mkdir -p "$tools"
    # Pin the platform package too: the wrapper asks for it with a caret range.
    npm install --prefix "$tools" --no-audit --no-fund --no-save --loglevel=error \
        "@microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION" \
        "@microsoft/sarif-multitool-linux@$SARIF_MULTITOOL_VERSION" ||
        die "npm install failed (needs https://registry.npmjs.org; behind a proxy set https_proxy, \
and behind a TLS-intercepting one NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)"
    [[ -f "$bin" ]] || die "npm did not install $bin"
    # npm does not always run the package's postinstall, which is what makes the binary executable.
    chmod u+x "$bin"
    "$tools/node_modules/.bin/sarif-multitool" --version >/dev/null 2>&1 ||
        die "the SARIF validator does not run: $tools/node_modules/.bin/sarif-multitool --version"
}

# --- builds ---------------------------------------------------------------------------------

# cache_value DIR NAME: NAME's value in DIR's CMake cache (empty if unset).
cache_value() {
    sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt" 2>/dev/null | head -n 1
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

# build DIR CXX_COMPILER NAME=VALUE...: configures DIR if it is new or its cache differs from
# the given settings, then builds it. An empty CXX_COMPILER means the system default.
build() {
    local dir=$1 cxx=$2 def defs=()
    shift 2
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
    say "building $dir (-j$jobs)"
    if ! cmake --build "$dir" -j"$jobs" >"$dir/build.log" 2>&1; then
        tail -n 80 "$dir/build.log" >&2
        die "build failed in $dir (full log: $dir/build.log)"
    fi
    say "built $dir"
}

install_packages
if [[ $fuzz -eq 0 ]] || [[ $sanitize -eq 1 ]]; then
    install_sarif_validator
fi

if [[ $sanitize -eq 0 ]] && [[ $fuzz -eq 0 ]]; then
    build build "" CMAKE_BUILD_TYPE=RelWithDebInfo MSCAN_WERROR=ON MSCAN_SANITIZE=OFF \
        MSCAN_FUZZ=OFF MSCAN_TESTS=ON
fi
if [[ $sanitize -eq 1 ]]; then
    build build-asan clang++ CMAKE_BUILD_TYPE=Debug "CMAKE_CXX_FLAGS_DEBUG=-g -O1" \
        MSCAN_SANITIZE=ON MSCAN_FUZZ=OFF MSCAN_TESTS=ON
fi
if [[ $fuzz -eq 1 ]]; then
    build build-fuzz clang++ CMAKE_BUILD_TYPE=Debug "CMAKE_CXX_FLAGS_DEBUG=-g -O1" \
        MSCAN_FUZZ=ON MSCAN_SANITIZE=ON MSCAN_TESTS=OFF
fi
say "done"
