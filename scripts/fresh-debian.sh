#!/bin/sh
# The README contract, checked on a machine that has nothing: a minimal Debian (debootstrap
# minbase, no Python, no compiler) in a chroot, given only make, git and CA certificates.  It
# clones this repository's HEAD next to a copy of ../shared and runs `make test` (or the make
# targets given as arguments, e.g. `demo`) there as root.
#
#   sudo scripts/fresh-debian.sh [DIR] [-- make targets...]
#
# DIR (default /tmp/gssmech-fresh-debian) is reused if it already holds a bootstrapped root, so a
# second run only pays for the clone and the make.  DEBIAN_SUITE=trixie bootstraps Debian 13
# instead of 12.  Needs debootstrap and the Debian mirror; the host's CA bundle and
# /etc/pip.conf are copied in (a TLS-intercepting proxy stays trusted).
set -eu

HERE=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-/tmp/gssmech-fresh-debian}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
TARGETS=${*:-test}
ROOT=$DIR/root
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=${DEBIAN_SUITE:-bookworm}

[ "$(id -u)" = 0 ] || { echo "run as root (chroot, mounts)" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap

if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
    mkdir -p "$DIR"
    debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR"
fi

cleanup() {
    for m in work/shared dev sys proc; do
        mountpoint -q "$ROOT/$m" && umount -l "$ROOT/$m"
    done
    return 0
}
trap cleanup EXIT INT TERM

cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# debootstrap writes no /etc/hosts, which every installed machine has (gss-client resolves
# "localhost" through it).
[ -s "$ROOT/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' >"$ROOT/etc/hosts"
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$ROOT/etc/pip.conf"
mkdir -p "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/work/shared" "$ROOT/etc/ssl/certs"
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
mount --bind -o ro "$HERE/../shared" "$ROOT/work/shared"

chroot "$ROOT" /bin/sh -c 'apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        make git ca-certificates >/dev/null'
# After ca-certificates: the host's bundle replaces Debian's (proxy CAs included).
cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"

rm -rf "$ROOT/work/gssmech"
git clone -q "$HERE" "$ROOT/work/gssmech"  # HEAD, committed work only: what CI gets
chroot "$ROOT" /bin/sh -c "cd /work/gssmech && HOME=/root make $TARGETS"
