#!/bin/sh
# Installs what Kestrel needs to build and test on Debian 12. Idempotent:
# packages already installed are left alone; apt's lists are refreshed only
# when something is missing.
#   scripts/install-deps.sh          build dependencies + test peers
set -e
PKGS="gcc make pkg-config libcapstone-dev libsdl2-dev zlib1g-dev libslirp-dev
      seabios gcc-multilib cpio time acpica-tools genisoimage qemu-utils qemu-system-x86"
missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "install-deps: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
