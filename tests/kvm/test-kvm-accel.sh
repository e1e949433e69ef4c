#!/bin/bash
# The KVM accelerator: auto-selection and its reason, -accel kvm failing
# cleanly without a usable /dev/kvm, a guest run under KVM, a triple fault
# with -no-reboot. Guest programs themselves run in tests/guest/test-guest.sh.
source "$(dirname "$0")/../lib.sh"

HELLO=$BUILD/tests/guest/hello.elf
DEBUG_EXIT=(-device isa-debug-exit,iobase=0xf4,iosize=4)
if [[ ! -f $HELLO ]]; then
    skip all "no guest programs (run make guest-tests)"
    exit 0
fi

# Auto-selection says what it chose and why.
run_kestrel 30 -nographic -no-reboot "${DEBUG_EXIT[@]}" -kernel "$HELLO"
if grep -q "accelerator: " "$T_TMP/out"; then
    pass auto-select-says-which
else
    fail auto-select-says-which "no 'accelerator:' line: $(head -c 300 "$T_TMP/out")"
fi
if [[ -e /sys/module/kvm_pvm ]]; then
    if grep -q "accelerator: kvm (hardware" "$T_TMP/out"; then
        fail auto-select-avoids-kvm-pvm "picked the software KVM"
    elif grep -q "kvm_pvm" "$T_TMP/out" || grep -q "translator is not built" "$T_TMP/out"; then
        pass auto-select-avoids-kvm-pvm
    else
        fail auto-select-avoids-kvm-pvm "no kvm_pvm reason: $(head -c 300 "$T_TMP/out")"
    fi
else
    skip auto-select-avoids-kvm-pvm "no kvm_pvm module here"
fi

if ! (exec 3<> /dev/kvm) 2> /dev/null; then
    skip kvm-runs "/dev/kvm cannot be opened"
else
    run_kestrel 30 -nographic -no-reboot -accel kvm "${DEBUG_EXIT[@]}" -kernel "$HELLO"
    if [[ $RC == 1 ]] && grep -q "Hello from a Kestrel guest" "$T_TMP/out"; then
        pass kvm-runs
    else
        fail kvm-runs "status $RC: $(head -c 300 "$T_TMP/out")"
    fi
fi

# The GDB stub under KVM: a hardware breakpoint, one step, continue to the end.
if ! (exec 3<> /dev/kvm) 2> /dev/null; then
    skip gdb-breakpoint "/dev/kvm cannot be opened"
elif ! command -v gdb > /dev/null || ! command -v python3 > /dev/null; then
    skip gdb-breakpoint "needs gdb and python3"
else
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    BP=0x$(nm "$HELLO" | awk '$3 == "exit_test" {print $1}')
    timeout -k 5 60 "$KESTREL" -display none -serial "file:$T_TMP/gdb.serial" -accel kvm -S \
        -gdb "tcp:127.0.0.1:$port" "${DEBUG_EXIT[@]}" -kernel "$HELLO" < /dev/null > "$T_TMP/gdb.out" 2>&1 &
    kpid=$!
    timeout -k 5 60 gdb -batch -nx -ex 'set architecture i386:x86-64' -ex 'set tcp connect-timeout 20' \
        -ex "target remote 127.0.0.1:$port" -ex "break *$BP" -ex continue -ex 'p/x $pc' \
        -ex stepi -ex 'p/x $pc' -ex delete -ex continue > "$T_TMP/gdb.log" 2>&1
    wait "$kpid"
    KRC=$?
    check gdb-breakpoint grep -q "Breakpoint 1, 0x0*${BP#0x}" "$T_TMP/gdb.log"
    PC1=$(awk '/^\$1 = / {print $3}' "$T_TMP/gdb.log")
    PC2=$(awk '/^\$2 = / {print $3}' "$T_TMP/gdb.log")
    if [[ -n $PC1 && -n $PC2 ]] && (( PC2 > PC1 && PC2 - PC1 <= 15 )); then pass gdb-stepi
    else fail gdb-stepi "pc $PC1 then $PC2: $(tail -4 "$T_TMP/gdb.log")"; fi
    if [[ $KRC == 1 ]] && grep -q PASSED "$T_TMP/gdb.serial"; then pass gdb-continue-to-exit
    else fail gdb-continue-to-exit "status $KRC: $(tail -3 "$T_TMP/gdb.out")"; fi
fi

# -accel kvm with a /dev/kvm that is not KVM (a private mount of /dev/null
# over it): one clear message, status 1.
if command -v unshare > /dev/null && [[ $(id -u) == 0 ]] && [[ -e /dev/kvm ]] &&
   unshare -m true 2> /dev/null; then
    timeout -k 5 30 unshare -m sh -c 'mount --bind /dev/null /dev/kvm && exec "$@"' sh \
        "$KESTREL" -nographic -no-reboot -accel kvm "${DEBUG_EXIT[@]}" -kernel "$HELLO" \
        > "$T_TMP/out" 2>&1 < /dev/null
    RC=$?
    if [[ $RC == 1 ]] && grep -q "kvm.*API version\|kvm.*/dev/kvm" "$T_TMP/out" &&
       ! grep -q "Hello" "$T_TMP/out"; then
        pass kvm-unusable-clear-error
    else
        fail kvm-unusable-clear-error "status $RC: $(head -c 300 "$T_TMP/out")"
    fi
    timeout -k 5 30 unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' sh \
        "$KESTREL" -nographic -no-reboot -accel kvm "${DEBUG_EXIT[@]}" -kernel "$HELLO" \
        > "$T_TMP/out" 2>&1 < /dev/null
    RC=$?
    if [[ $RC == 1 ]] && grep -q "cannot open /dev/kvm" "$T_TMP/out"; then
        pass kvm-missing-clear-error
    else
        fail kvm-missing-clear-error "status $RC: $(head -c 300 "$T_TMP/out")"
    fi
else
    skip kvm-unusable-clear-error "needs root and unshare -m to hide /dev/kvm"
    skip kvm-missing-clear-error "needs root and unshare -m to hide /dev/kvm"
fi
exit 0
