#!/usr/bin/env bash
# Proves the README quick start on a fresh, minimal Debian 12: debootstraps bookworm (minbase)
# into a temporary directory, copies the repository in, and runs, as root in a chroot,
# exactly the README's two commands:
#
#     ./scripts/quickstart.sh
#     ./scripts/test.sh
#
# then reports both exit codes and timings. Needs root, debootstrap and network access (apt and
# npm inside the chroot). Takes several minutes. Logs go to build-fresh-debian/.
#
#   scripts/check-fresh-debian.sh [--head] [--keep] [--mirror URL]
#
#   --head        copy the committed tree (git archive HEAD) instead of the working tree
#                 (tracked and untracked files, minus what .gitignore excludes)
#   --keep        keep the chroot afterwards (its path is printed)
#   --mirror URL  Debian mirror (default: the first bookworm URI in this machine's apt sources,
#                 else http://deb.debian.org/debian)
set -euo pipefail

usage() { sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

use_head=0
keep=0
mirror=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --head) use_head=1 ;;
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
chroot_dir=$(mktemp -d /var/tmp/mscan-fresh-debian.XXXXXX)
mounted=()

# Processes still running inside the chroot (by their /proc/PID/root), e.g. a dotnet server.
chroot_pids() {
    local link pid
    for link in /proc/[0-9]*/root; do
        pid=${link#/proc/}
        pid=${pid%/root}
        [[ "$(readlink "$link" 2>/dev/null)" == "$chroot_dir" ]] && printf '%s\n' "$pid"
    done
    return 0
}

cleanup() {
    local status=$? i pid
    set +e
    for pid in $(chroot_pids); do kill "$pid" 2>/dev/null; done
    sleep 1
    for pid in $(chroot_pids); do kill -9 "$pid" 2>/dev/null; done
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount -R "${mounted[$i]}" 2>/dev/null || umount -lR "${mounted[$i]}"
    done
    if findmnt -rn -o TARGET | grep -qF "$chroot_dir/"; then
        say "something is still mounted under $chroot_dir; leaving it in place" >&2
    elif [[ $keep -eq 1 ]]; then
        say "chroot kept at $chroot_dir"
    else
        rm -rf --one-file-system "$chroot_dir"
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
say "debootstrap --variant=minbase bookworm $chroot_dir $mirror (log: ${logs#"$ROOT/"}/debootstrap.log)"
debootstrap --variant=minbase bookworm "$chroot_dir" "$mirror" >"$logs/debootstrap.log" 2>&1 ||
    { tail -n 30 "$logs/debootstrap.log" >&2; die "debootstrap failed"; }
debootstrap_time=$((SECONDS - t0))
say "debootstrap done in ${debootstrap_time}s"

bind proc "" "$chroot_dir/proc"
bind sysfs "" "$chroot_dir/sys"
bind rbind /dev "$chroot_dir/dev"
# This machine's network setup, nothing more: its resolver, and the local CA certificates a
# TLS-intercepting proxy needs (ca-certificates, installed by setup.sh, adds them to the bundle;
# node reads them through NODE_EXTRA_CA_CERTS, passed on below when it is set here).
cp -L /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$chroot_dir/usr/local/share/ca-certificates"
    cp -L /usr/local/share/ca-certificates/*.crt "$chroot_dir/usr/local/share/ca-certificates/"
fi
passenv=()
for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY NODE_EXTRA_CA_CERTS; do
    [[ -n ${!var:-} ]] && passenv+=("$var=${!var}")
done
# No daemons started by package installs inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$chroot_dir/usr/sbin/policy-rc.d"
chmod +x "$chroot_dir/usr/sbin/policy-rc.d"

repo=$chroot_dir/root/mscan
mkdir -p "$repo"
if [[ $use_head -eq 1 ]]; then
    say "copying the committed tree (git archive HEAD) to /root/mscan"
    git archive --format=tar HEAD | tar -C "$repo" -xf -
else
    say "copying the working tree (tracked + untracked, minus .gitignore) to /root/mscan"
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done |
        tar -C "$ROOT" --null -T - -cf - | tar -C "$repo" -xf -
fi

# in_chroot NAME COMMAND: runs COMMAND as root in the chroot, from the repository root, with a
# clean environment; logs to $logs/NAME.log; sets ${NAME}_status and ${NAME}_time.
in_chroot() {
    local name=$1 cmd=$2 status=0 start=$SECONDS
    say "chroot: $cmd (log: ${logs#"$ROOT/"}/$name.log)"
    env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 TERM=dumb "${passenv[@]}" \
        chroot "$chroot_dir" /bin/bash -c "cd /root/mscan && $cmd" >"$logs/$name.log" 2>&1 ||
        status=$?
    printf -v "${name}_status" '%s' "$status"
    printf -v "${name}_time" '%s' "$((SECONDS - start))"
    say "chroot: $cmd: exit $status in $((SECONDS - start))s"
}

in_chroot quickstart ./scripts/quickstart.sh
in_chroot test ./scripts/test.sh

# Which versions the fresh system ended up with, for the record.
# shellcheck disable=SC2016 # expanded inside the chroot
chroot "$chroot_dir" /bin/sh -c 'echo "node $(node --version), npm $(npm --version), $(cmake --version | head -n 1), $(g++ --version | head -n 1)"' \
    >"$logs/versions.txt" 2>&1 || true

# shellcheck disable=SC2154 # set by in_chroot through printf -v
{
    echo
    echo "== fresh Debian 12 (minbase, $mirror) =="
    echo "debootstrap:              ${debootstrap_time}s"
    echo "./scripts/quickstart.sh:  exit $quickstart_status in ${quickstart_time}s"
    echo "./scripts/test.sh:        exit $test_status in ${test_time}s"
    echo "tools: $(cat "$logs/versions.txt")"
    echo "logs: ${logs#"$ROOT/"}/"
} | tee "$logs/summary.txt"
if [[ $test_status -ne 0 ]]; then
    echo "--- last lines of test.log:"
    tail -n 25 "$logs/test.log"
fi
[[ $quickstart_status -eq 0 && $test_status -eq 0 ]]
