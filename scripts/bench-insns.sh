#!/bin/bash
# bench-insns.sh [KESTREL...]: host instructions (valgrind cachegrind's
# "I refs") each Kestrel binary executes from its start to the guest
# kernel's first console line (the bzImage's decompressor and early
# set-up). On a quiet machine the count repeats to about 0.05% from run to
# run, so it shows small gains of a translator change where wall time on a
# shared or virtual host does not: give the old and the new binary.
# The count covers every thread of the process, and the guest's timers see
# the slowed-down run: with other load on the machine it moved by 10%, and
# it does not compare with another emulator (QEMU's threads count
# differently), so this is for A/B of Kestrel builds only.
# Needs valgrind; the guest from GUEST_DIR (default build/linux-guest).
set -u
GUEST=${GUEST_DIR:-build/linux-guest}
command -v valgrind >/dev/null || { echo "bench-insns: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
[[ -f $GUEST/bzImage && -f $GUEST/initramfs.cpio.gz ]] ||
    { echo "bench-insns: no guest in $GUEST (make linux-guest, or GUEST_DIR=...)" >&2; exit 2; }
[[ $# -gt 0 ]] || set -- ./kestrel
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# count NAME CMD...: the client is stopped (SIGTERM) once its serial output
# shows the kernel's banner; cachegrind then reports what ran until then.
count() {
    local name=$1; shift
    valgrind --tool=cachegrind --cache-sim=no --smc-check=all-non-file --cachegrind-out-file=/dev/null \
        "$@" -m 512 -nographic -no-reboot -kernel "$GUEST/bzImage" -initrd "$GUEST/initramfs.cpio.gz" \
        -append "console=ttyS0 norandmaps" < /dev/null > "$T/log" 2>&1 &
    local pid=$! waited=0
    until grep -q "Linux version" "$T/log" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
        waited=$((waited + 1))
        [[ $waited -gt 12000 ]] && break   # 10 minutes
    done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    local refs
    refs=$(awk '/I *refs:/ { gsub(",", "", $NF); print $NF }' "$T/log")
    printf '%-40s %16s\n' "$name" "${refs:-failed}"
}

printf '%-40s %16s\n' "emulator (to the first kernel line)" "host insns"
for k in "$@"; do
    count "$k" "$k" -accel tcg
done
