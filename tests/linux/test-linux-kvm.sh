#!/bin/bash
# The Linux guest under KVM: the same workload, the same results as under the
# translator. Runs only where KVM is backed by hardware virtualisation; the
# project's own machines have the nested software kvm_pvm, which cannot boot
# Linux in any useful time, so there it is skipped with that reason.
source tests/lib.sh
GUEST=${GUEST_DIR:-$BUILD/guest}
HELLO=$BUILD/tests/guest/hello.elf

# Kestrel's own auto-selection says whether KVM is hardware-backed.
if [[ ! -f $HELLO ]]; then
    skip linux-kvm "no $HELLO to probe the accelerator with (make guest-tests)"
    exit 0
fi
timeout -k 5 60 "$KESTREL" -display none -serial null -kernel "$HELLO" \
    -device isa-debug-exit,iobase=0xf4,iosize=4 < /dev/null > "$T_TMP/probe" 2>&1
if ! grep -q 'accelerator: kvm' "$T_TMP/probe"; then
    skip linux-kvm "KVM is not hardware-backed here: $(grep -m1 'accelerator:' "$T_TMP/probe" | sed 's/^kestrel: //')"
    exit 0
fi
if [[ ! -s $GUEST/bzImage ]] && ! scripts/build-linux-guest.sh "$GUEST" > "$T_TMP/build.log" 2>&1; then
    skip linux-kvm "cannot build the Linux guest: $(tail -1 "$T_TMP/build.log")"
    exit 0
fi
# run ACCEL: the boot log in $T_TMP/ACCEL.log, the sorted results in
# $T_TMP/ACCEL.res; fails the test unless the workload finished and the
# guest powered off (status 0).
run() {
    timeout -k 5 "${LINUX_TIMEOUT:-900}" "$KESTREL" -accel "$1" -nographic -m 512 -no-reboot \
        -kernel "$GUEST/bzImage" -initrd "$GUEST/initramfs.cpio.gz" -append console=ttyS0 \
        < /dev/null 2>&1 | tr -d '\r' > "$T_TMP/$1.log"
    local rc=${PIPESTATUS[0]}
    grep '^GUEST-RESULT' "$T_TMP/$1.log" | sort > "$T_TMP/$1.res"
    if [[ $rc == 0 ]] && grep -q '^GUEST-WORKLOAD-DONE' "$T_TMP/$1.log"; then
        pass "linux-$1-poweroff"
    else
        fail "linux-$1-poweroff" "status $rc; last lines: $(tail -5 "$T_TMP/$1.log" | tr '\n' '|')"
    fi
}
run kvm
run tcg
if [[ -s $T_TMP/kvm.res ]] && diff -q "$T_TMP/kvm.res" "$T_TMP/tcg.res" > /dev/null; then
    pass linux-kvm-workload
else
    fail linux-kvm-workload "results differ or missing: $(diff "$T_TMP/kvm.res" "$T_TMP/tcg.res" | head -3 | tr '\n' '|')"
fi
