#!/usr/bin/env bash
# Proves the README quick start and CI on a fresh, minimal Debian 12: debootstraps bookworm
# (minbase) once, then runs, as root in chroots with a clean environment, exactly what the
# README and CI run, each tree a fresh copy of the untouched debootstrap with the repository at
# /root/mscan:
#
#     tree 1: ./scripts/quickstart.sh, then ./scripts/test.sh   (the README's two commands)
#     tree 2: .ci/run                                           (CI, from a clean copy)
#
# so the quick start runs first on an untouched system and has to install everything it needs
# by itself, and so does CI (whose first step is test.sh alone). Reports each exit code and
# time, and exits 1 if any of the three fails. Needs root, debootstrap and network access (apt,
# and npm for the test suite's SARIF validator). Takes a long time: the whole of CI, plus the
# quick start and the test suite once more. Logs go to build-fresh-debian/.
#
#   scripts/check-fresh-debian.sh [--head | --rev REV] [--keep] [--mirror URL]
#
#   --head        copy the committed tree (git archive HEAD) instead of the working tree
#                 (tracked and untracked files, minus what .gitignore excludes)
#   --rev REV     copy the tree of commit REV (git archive REV)
#   --keep        keep the chroots afterwards (their paths are printed)
#   --mirror URL  Debian mirror (default: the first bookworm URI in this machine's apt sources,
#                 else http://deb.debian.org/debian)
set -euo pipefail

usage() { sed -n '2,24s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

rev=""
keep=0
mirror=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --head) rev=HEAD ;;
        --rev) rev=${2:?--rev needs a commit}; shift ;;
        --keep) keep=1 ;;
        --mirror) mirror=${2:?--mirror needs a URL}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "check-fresh-debian: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd -P)

say() { printf 'check-fresh-debian: %s\n' "$*"; }
die() { printf 'check-fresh-debian: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, mount, chroot)"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install debootstrap)"
if [[ -n $rev ]]; then
    commit=$(git rev-parse --verify --short "$rev^{commit}" 2>/dev/null) || die "not a commit: $rev"
fi

if [[ -z $mirror ]]; then
    # deb822 sources first (Debian 12's default), then one-line sources.
    mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    if [[ -z $mirror || $mirror == *security* ]]; then
        mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' /etc/apt/sources.list \
            2>/dev/null || true)
    fi
    mirror=${mirror:-http://deb.debian.org/debian}
fi

logs=$ROOT/build-fresh-debian
mkdir -p "$logs"
rm -f "$logs"/*.log "$logs"/summary.txt "$logs"/versions-*.txt
work=$(mktemp -d /var/tmp/mscan-fresh-debian.XXXXXX)
base=$work/base
mounted=()
trees=()

# Processes still running inside a tree (by their /proc/PID/root), e.g. a dotnet server.
tree_pids() {
    local link pid root
    for link in /proc/[0-9]*/root; do
        pid=${link#/proc/}
        pid=${pid%/root}
        root=$(readlink "$link" 2>/dev/null) || continue
        [[ $root == "$1" ]] && printf '%s\n' "$pid"
    done
    return 0
}

# unmount_tree DIR: stops what still runs in DIR, then unmounts what was mounted under it.
unmount_tree() {
    local dir=$1 i pid
    for pid in $(tree_pids "$dir"); do kill "$pid" 2>/dev/null; done
    [[ -z $(tree_pids "$dir") ]] || sleep 1
    for pid in $(tree_pids "$dir"); do kill -9 "$pid" 2>/dev/null; done
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        [[ ${mounted[$i]} == "$dir"/* ]] || continue
        umount -R "${mounted[$i]}" 2>/dev/null || umount -lR "${mounted[$i]}"
        unset "mounted[$i]"
    done
    mounted=("${mounted[@]}")
}

# remove_tree DIR: removes DIR unless something is still mounted under it or --keep.
remove_tree() {
    if findmnt -rn -o TARGET | grep -qF "$1/"; then
        say "something is still mounted under $1; leaving it in place" >&2
        return 1
    elif [[ $keep -eq 1 ]]; then
        say "kept: $1"
    else
        rm -rf --one-file-system "$1"
    fi
}

cleanup() {
    local status=$? tree left=0
    set +e
    for tree in "${trees[@]}"; do unmount_tree "$tree"; done
    for tree in "${trees[@]}" "$base"; do
        [[ -d $tree ]] && { remove_tree "$tree" || left=1; }
    done
    if [[ $keep -eq 0 && $left -eq 0 ]]; then
        rm -rf --one-file-system "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bind() { # bind TYPE SOURCE TARGET
    mkdir -p "$3"
    case "$1" in
        proc) mount -t proc proc "$3" ;;
        sysfs) mount -t sysfs sysfs "$3" ;;
        rbind) mount --rbind "$2" "$3" && mount --make-rslave "$3" ;;
    esac
    mounted+=("$3")
}

t0=$SECONDS
say "debootstrap --variant=minbase bookworm $mirror (log: ${logs#"$ROOT/"}/debootstrap.log)"
debootstrap --variant=minbase bookworm "$base" "$mirror" >"$logs/debootstrap.log" 2>&1 ||
    { tail -n 30 "$logs/debootstrap.log" >&2; die "debootstrap failed"; }
debootstrap_time=$((SECONDS - t0))
say "debootstrap done in ${debootstrap_time}s"

# This machine's network setup, nothing more: its resolver, and the local CA certificates a
# TLS-intercepting proxy needs (ca-certificates, installed by setup.sh, adds them to the bundle;
# node reads them through NODE_EXTRA_CA_CERTS, passed on below when it is set here).
cp -L /etc/resolv.conf "$base/etc/resolv.conf"
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$base/usr/local/share/ca-certificates"
    cp -L /usr/local/share/ca-certificates/*.crt "$base/usr/local/share/ca-certificates/"
fi
passenv=()
for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY NODE_EXTRA_CA_CERTS; do
    [[ -n ${!var:-} ]] && passenv+=("$var=${!var}")
done
# No daemons started by package installs inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$base/usr/sbin/policy-rc.d"
chmod +x "$base/usr/sbin/policy-rc.d"

# The repository, once, as a tar that each tree unpacks.
if [[ -n $rev ]]; then
    say "repository: the committed tree of $rev (git archive $commit)"
    git archive --format=tar "$commit" >"$work/repo.tar"
else
    say "repository: the working tree (tracked + untracked, minus .gitignore)"
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done |
        tar -C "$ROOT" --null -T - -cf "$work/repo.tar"
fi

# new_tree NAME: a fresh copy of the debootstrapped tree with the repository at /root/mscan and
# proc, sys and dev (with dev/pts) mounted; its path is in $tree.
new_tree() {
    tree=$work/$1
    cp -a "$base" "$tree"
    trees+=("$tree")
    mkdir -p "$tree/root/mscan"
    tar -C "$tree/root/mscan" -xf "$work/repo.tar"
    bind proc "" "$tree/proc"
    bind sysfs "" "$tree/sys"
    bind rbind /dev "$tree/dev"
}

# in_chroot NAME COMMAND: runs COMMAND as root in $tree, from the repository root, with a clean
# environment; logs to $logs/NAME.log and shows its progress lines; sets ${NAME}_status and
# ${NAME}_time.
in_chroot() {
    local name=$1 cmd=$2 status start=$SECONDS
    say "chroot $(basename "$tree"): $cmd (log: ${logs#"$ROOT/"}/$name.log)"
    set +e
    env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 TERM=dumb "${passenv[@]}" \
        chroot "$tree" /bin/bash -c "cd /root/mscan && $cmd" 2>&1 </dev/null |
        tee "$logs/$name.log" |
        { grep --line-buffered -E '^(=== |(setup|quickstart|test|fuzz|build-deb|test-deb): )' |
            sed -u 's/^/    /'; true; }
    status=${PIPESTATUS[0]}
    set -e
    printf -v "${name}_status" '%s' "$status"
    printf -v "${name}_time" '%s' "$((SECONDS - start))"
    say "chroot $(basename "$tree"): $cmd: exit $status in $((SECONDS - start))s"
}

# versions NAME: what the tree ended up with, for the record.
versions() {
    # shellcheck disable=SC2016 # expanded inside the chroot
    chroot "$tree" /bin/sh -c 'for t in g++ cmake clang node npm; do
        command -v "$t" >/dev/null || continue
        printf "%s %s; " "$t" "$("$t" --version 2>&1 | head -n 1 |
            grep -oE "[0-9]+[.][0-9]+([.][0-9]+)?" | tail -n 1)"; done; echo' \
        >"$logs/versions-$1.txt" 2>&1 || true
}

new_tree readme
in_chroot quickstart ./scripts/quickstart.sh
in_chroot test ./scripts/test.sh
versions readme
unmount_tree "$tree"
remove_tree "$tree" || true

new_tree ci
in_chroot ci .ci/run
versions ci
unmount_tree "$tree"
remove_tree "$tree" || true

# shellcheck disable=SC2154 # set by in_chroot through printf -v
{
    echo
    echo "== fresh Debian 12 (debootstrap --variant=minbase bookworm, $mirror) =="
    if [[ -n $rev ]]; then source="commit $commit ($rev)"; else source="working tree"; fi
    echo "repository:               $source"
    echo "machine:                  $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)"
    echo "debootstrap:              ${debootstrap_time}s"
    echo "tree 1 (fresh copy):"
    echo "  ./scripts/quickstart.sh:  exit $quickstart_status in ${quickstart_time}s"
    echo "  ./scripts/test.sh:        exit $test_status in ${test_time}s"
    echo "tree 2 (fresh copy):"
    echo "  .ci/run:                  exit $ci_status in ${ci_time}s"
    sed -n '/^=== CI passed in/,$p; /^=== CI FAILED/,$p' "$logs/ci.log" | sed 's/^/    /'
    echo "tools: $(cat "$logs/versions-readme.txt")"
    echo "       $(cat "$logs/versions-ci.txt")"
    echo "logs: ${logs#"$ROOT/"}/"
} | tee "$logs/summary.txt"
failed=0
for name in quickstart test ci; do
    status_var=${name}_status
    if [[ ${!status_var} -ne 0 ]]; then
        failed=1
        echo "--- last lines of ${logs#"$ROOT/"}/$name.log:"
        tail -n 30 "$logs/$name.log"
    fi
done
[[ $failed -eq 0 ]]
