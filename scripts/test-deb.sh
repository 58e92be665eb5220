#!/usr/bin/env bash
# The .deb install test (the last step of .ci/run): installs what is missing of the build, deb
# and deb-test package groups (scripts/setup.sh), builds the package (scripts/build-deb.sh),
# installs it on this machine with apt-get, runs the installed /usr/bin/mscan on the samples
# and on a fake Hugging Face Hub (tests/hub/fake_hub.py, loopback only: this checks that the
# package's libcurl dependency is what the binary dlopens), then removes the package again.
#
#   scripts/test-deb.sh            (as root, on Debian 12)
#
# The machine is left as it was found after that setup: the script refuses to start if a package
# named mscan or a file /usr/bin/mscan is already there, removes the package (and any package
# apt-get pulled in for it) even when a check fails, and then checks that the installed-package
# list is the one it had before installing the package.
set -euo pipefail

usage() { sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
for arg in "$@"; do
    case "$arg" in
        -h | --help) usage; exit 0 ;;
        *) echo "test-deb: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
    esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'test-deb: %s\n' "$*"; }
die() { printf 'test-deb: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get install / remove)"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: not a Debian system"

# Installed packages, one "name:arch" a line.
installed_packages() {
    dpkg-query -W -f='${db:Status-Abbrev} ${Package}:${Architecture}\n' |
        awk '$1 ~ /^.i/ { print $2 }' | sort
}
if dpkg-query -W -f='${db:Status-Abbrev}' mscan 2>/dev/null | grep -q '^.[ic]'; then
    die "a package named mscan is already installed; remove it first (apt-get remove mscan)"
fi
[[ ! -e /usr/bin/mscan ]] || die "/usr/bin/mscan already exists; this test would overwrite it"

# What building and checking the package needs, installed before the list of packages is taken.
./scripts/setup.sh --packages build,deb,deb-test

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mscan-test-deb.XXXXXX")
hub_pid=""
installed=0
cleanup() {
    local status=$?
    set +e
    if [[ -n $hub_pid ]]; then
        kill "$hub_pid" 2>/dev/null
        wait "$hub_pid" 2>/dev/null
    fi
    if [[ $installed -eq 1 ]]; then
        say "apt-get remove --purge -y mscan"
        DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -q mscan >"$tmp/remove.log" 2>&1 ||
            { cat "$tmp/remove.log" >&2; status=1; }
        # Whatever apt-get installed for the package goes too (on a machine set up by
        # scripts/setup.sh that is nothing: every dependency is already there).
        local added
        added=$(comm -13 "$tmp/before" <(installed_packages) | tr '\n' ' ')
        if [[ -n ${added// /} ]]; then
            say "removing what apt-get installed with it: $added"
            # shellcheck disable=SC2086 # a list of package names
            DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -q $added \
                >>"$tmp/remove.log" 2>&1 ||
                { cat "$tmp/remove.log" >&2; status=1; }
        fi
        if ! cmp -s "$tmp/before" <(installed_packages); then
            say "FAIL: the installed packages differ from before the test:" >&2
            diff "$tmp/before" <(installed_packages) >&2
            status=1
        fi
        local leftovers=()
        for f in /usr/bin/mscan /usr/share/man/man1/mscan.1 /usr/share/man/man1/mscan.1.gz \
            /usr/share/doc/mscan /usr/share/bash-completion/completions/mscan \
            /usr/share/zsh/vendor-completions/_mscan \
            /usr/share/fish/vendor_completions.d/mscan.fish; do
            [[ -e $f ]] && leftovers+=("$f")
        done
        if [[ ${#leftovers[@]} -gt 0 ]]; then
            say "FAIL: left behind after removal: ${leftovers[*]}" >&2
            status=1
        else
            say "removed; the installed packages are as before"
        fi
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

installed_packages >"$tmp/before"

say "scripts/build-deb.sh"
deb=$(./scripts/build-deb.sh | tail -n 1)
[[ -f $deb ]] || die "build-deb.sh did not print a .deb path"
version=$(dpkg-deb -f "$deb" Version)
say "Depends: $(dpkg-deb -f "$deb" Depends)"

say "apt-get install $deb"
installed=1  # from here on, the trap removes the package whatever happens
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" \
    >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log" >&2
    die "apt-get install failed"
fi
grep -E '^(Setting up|Unpacking) ' "$tmp/install.log" | sed 's/^/  /'

checks=0
failed=0
check() { # check DESCRIPTION COMMAND...: runs COMMAND, counts the result.
    local what=$1
    shift
    checks=$((checks + 1))
    if "$@"; then
        say "ok: $what"
    else
        failed=$((failed + 1))
        say "FAIL: $what" >&2
    fi
}
# expect_exit CODE COMMAND...: COMMAND exits CODE; its output goes to $tmp/out.
expect_exit() {
    local want=$1 status=0
    shift
    "$@" >"$tmp/out" 2>&1 || status=$?
    if [[ $status -ne $want ]]; then
        printf '  exit %s, expected %s: %s\n' "$status" "$want" "$*" >&2
        tail -n 20 "$tmp/out" | sed 's/^/  | /' >&2
        return 1
    fi
    printf '  exit %s: %s\n' "$status" "$*"
    grep -m 1 '^Scanned ' "$tmp/out" | sed 's/^/  | /' || true
}

# The package's binary by its path, whatever else PATH holds (e.g. a /usr/local install).
mscan=/usr/bin/mscan
is_installed() {
    # shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
    [[ $(dpkg-query -W -f='${Status}' mscan) == "install ok installed" ]]
}
package_has() { # package_has PATH...: dpkg -L mscan lists every PATH.
    local listing f
    listing=$(dpkg -L mscan)
    for f in "$@"; do
        grep -qxF "$f" <<<"$listing" || { echo "  not in dpkg -L: $f" >&2; return 1; }
    done
}
version_is() { [[ $("$mscan" --version) == "mscan $1" ]]; }

check "dpkg says installed" is_installed
check "dpkg -L mscan: binary, man page, completions, docs" package_has /usr/bin/mscan \
    /usr/share/man/man1/mscan.1 /usr/share/bash-completion/completions/mscan \
    /usr/share/zsh/vendor-completions/_mscan /usr/share/fish/vendor_completions.d/mscan.fish \
    /usr/share/doc/mscan/README.md /usr/share/doc/mscan/json-schema.json
check "mscan --version is mscan $version" version_is "$version"
check "mscan samples/: findings (exit 1)" expect_exit 1 "$mscan" --no-timing samples/
check "mscan on a benign sample: clean (exit 0)" \
    expect_exit 0 "$mscan" --no-timing samples/pickle/benign/proto0_nested.pkl
check "mscan --format sarif on a hostile sample (exit 1)" expect_exit 1 \
    "$mscan" --format sarif -o "$tmp/report.sarif" samples/pickle/hostile/builtins_exec.pkl
check "the SARIF report names builtins.exec" grep -q 'builtins.exec' "$tmp/report.sarif"
check "man -w mscan finds the page" \
    bash -c 'man -w -a mscan | grep -q "^/usr/share/man/man1/mscan\.1"'
check "the bash completion loads" bash -c \
    'source /usr/share/bash-completion/completions/mscan && complete -p mscan >/dev/null'

# hf:// through the package's libcurl, against the fake Hub on loopback (python3: deb-test group).
python3 tests/hub/fake_hub.py --demo --ready-file "$tmp/hub.json" >"$tmp/hub.log" 2>&1 &
hub_pid=$!
for _ in $(seq 100); do
    [[ -s $tmp/hub.json ]] && break
    kill -0 "$hub_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -s $tmp/hub.json ]]; then
    endpoint=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["endpoint"])' \
        "$tmp/hub.json")
    # No token of this machine's user goes anywhere, even to loopback.
    check "mscan hf://org/big-torch via libcurl: findings (exit 1)" expect_exit 1 \
        env -u HF_TOKEN -u HUGGING_FACE_HUB_TOKEN -u HF_HUB_OFFLINE -u HF_HUB_CACHE \
        HF_HOME="$tmp/hf-home" HF_ENDPOINT="$endpoint" "$mscan" --no-progress --no-timing \
        hf://org/big-torch
    check "the hf:// report names extra/payload.pkl" grep -q 'extra/payload.pkl' "$tmp/out"
else
    checks=$((checks + 1))
    failed=$((failed + 1))
    say "FAIL: the fake Hub did not start" >&2
    cat "$tmp/hub.log" >&2
fi
kill "$hub_pid" 2>/dev/null || true
wait "$hub_pid" 2>/dev/null || true
hub_pid=""

say "$checks checks, $failed failed"
[[ $failed -eq 0 ]]
