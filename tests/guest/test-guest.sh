#!/bin/bash
# Runs every bare-metal guest program (build/tests/guest/*.elf, built by
# `make guest-tests`) under the translator (both backends) and under KVM when
# /dev/kvm opens. A guest passes when it exits through isa-debug-exit with
# code 0 (process status 1) after printing PASSED; the serial output under KVM
# must equal the translator's. A guest source may ask for more options with a
# comment line " * test-args: ..." (evaluated by the shell; $T_TMP is a
# scratch directory); one that resets the machine on purpose says
# "test-allow-reboot" (no -no-reboot then).
source "$(dirname "$0")/../lib.sh"

TIMEOUT=${GUEST_TIMEOUT:-60}
shopt -s nullglob
elfs=("$BUILD"/tests/guest/*.elf)
if [[ ${#elfs[@]} == 0 ]]; then
    skip build "no guest programs in $BUILD/tests/guest (run make guest-tests)"
    exit 0
fi

# Whether an accelerator runs at all here: "" when usable, else the reason.
PROBE=$BUILD/tests/guest/hello.elf
[[ -f $PROBE ]] || PROBE=${elfs[0]}
accel_problem() {
    local out
    out=$(timeout -k 5 30 "$KESTREL" -nographic -no-reboot -accel "$1" \
          -kernel "$PROBE" -device isa-debug-exit,iobase=0xf4,iosize=4 2>&1 < /dev/null)
    if grep -q "not built into this binary\|cannot open /dev/kvm\|unknown accelerator" <<< "$out"; then
        grep -m1 "kestrel:" <<< "$out" | sed 's/^kestrel: //'
    fi
    return 0
}

kvm_reason=""
if [[ ! -e /dev/kvm ]]; then
    kvm_reason="no /dev/kvm"
elif ! (exec 3<> /dev/kvm) 2> /dev/null; then
    kvm_reason="/dev/kvm cannot be opened"
else
    kvm_reason=$(accel_problem kvm)
fi
tcg_reason=$(accel_problem tcg)
interp_reason=$(accel_problem tcg,backend=interp)

# Modules for the guests that ask for them (mbinfo.c).
echo module-one > "$T_TMP/module1"
echo module-two > "$T_TMP/module2"

# reboot_option NAME: -no-reboot unless the source says "test-allow-reboot".
reboot_option() {
    grep -qs 'test-allow-reboot' tests/guest/$1.c tests/guest/$1.S || echo -no-reboot
}

# guest_args NAME: extra options from the source's "test-args:" line.
guest_args() {
    local src
    for src in tests/guest/$1.c tests/guest/$1.S; do
        [[ -f $src ]] || continue
        sed -n 's/^ \* test-args: //p' "$src"
    done
}

# kvm_symptom ERR SERIAL: how a KVM run stopped, comparable between Kestrel
# and QEMU: the emulation failure with the guest's EIP/RIP from the register
# dump, else the first failing line the guest printed.
kvm_symptom() {
    if grep -q 'KVM internal error' "$1"; then
        echo "KVM internal error$(kvm_insn_bytes "$1") at $(grep -m1 -o '^[ER]IP=[0-9a-f]*' "$1")"
        return
    fi
    grep -a -m1 -h -o 'unexpected exception [0-9]* at [0-9a-f:]*\|not ok .*' "$2" | tr -d '\r'
}

# kvm_insn_bytes ERR: " on XX XX XX", the first bytes of the instruction
# KVM could not emulate (extra data word 1 of an emulation failure: the
# length byte, then the bytes), as both Kestrel and QEMU print it.
kvm_insn_bytes() {
    local d k bytes=""
    d=$(grep -m1 -o 'data\[1\][]:= ]*0x[0-9a-f]*' "$1" | sed 's/.*0x//')
    [[ -n $d ]] || return 0
    d=$(printf '%016s' "$d" | tr ' ' 0)
    for k in 1 2 3; do bytes+=" ${d:$((14 - 2 * k)):2}"; done
    echo " on$bytes"
}

# qemu_kvm_run NAME OUT: the same ELF under qemu-system-x86_64 -accel kvm,
# output in OUT.qemu-{out,err}. QEMU pauses on a KVM internal error instead
# of exiting, so it is stopped once the register dump is complete.
qemu_kvm_run() {
    local name=$1 out=$2 args pid i
    args=$(guest_args "$name")
    eval "set -- $args"
    timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel kvm -nographic -monitor none \
        -serial stdio $(reboot_option "$name") -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -kernel "$BUILD/tests/guest/$name.elf" "$@" \
        > "$out.qemu-out" 2> "$out.qemu-err" < /dev/null &
    pid=$!
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        kill -0 "$pid" 2> /dev/null || break
        grep -q '^Code=' "$out.qemu-err" 2> /dev/null && { kill "$pid"; break; }
        sleep 0.2
    done
    wait "$pid"
    QEMU_RC=$?
}

# kvm_pvm_verdict NAME OUT RC: SKIP when QEMU's KVM fails the same way,
# FAIL when it passes or fails differently; returns 2 (skip) or 1 (fail).
kvm_pvm_verdict() {
    local name=$1 out=$2 rc=$3 ours theirs qver
    ours=$(kvm_symptom "$out.err" "$out.serial")
    ours=${ours:-exit status $rc}
    if ! command -v qemu-system-x86_64 > /dev/null; then
        skip "$name/kvm" "software KVM (kvm_pvm) cannot run this guest: $ours (qemu-system-x86_64 not installed: not cross-checked)"
        return 2
    fi
    qemu_kvm_run "$name" "$out"
    qver=$(qemu-system-x86_64 --version | sed -n '1s/.*version \([0-9.]*\).*/QEMU \1/p')
    if [[ $QEMU_RC == 1 ]] && grep -a -q '^PASSED' "$out.qemu-out"; then
        fail "$name/kvm" "$ours, but $qver with -accel kvm passes: a Kestrel KVM bug"
        return 1
    fi
    theirs=$(kvm_symptom "$out.qemu-err" "$out.qemu-out")
    if [[ -z $theirs && ($QEMU_RC == 124 || $QEMU_RC == 137) && ($rc == 124 || $rc == 137) ]]; then
        skip "$name/kvm" "software KVM (kvm_pvm) is too slow for this guest: both Kestrel and $qver time out after ${TIMEOUT}s"
        return 2
    fi
    if [[ -n $theirs && $theirs == "$ours" ]]; then
        skip "$name/kvm" "software KVM (kvm_pvm) cannot run this guest: $ours; $qver with -accel kvm fails the same way"
        return 2
    fi
    if [[ -z $theirs ]]; then
        # QEMU itself did not get as far as the guest (no BIOS ROMs, ...)
        skip "$name/kvm" "software KVM (kvm_pvm) cannot run this guest: $ours (not cross-checked: $qver -accel kvm ended with status $QEMU_RC: $(grep -m1 -v 'warning' "$out.qemu-err"))"
        return 2
    fi
    fail "$name/kvm" "$ours; $qver with -accel kvm differs: $theirs"
    return 1
}

# run_guest NAME ACCEL: output in $T_TMP/NAME.ACCEL.out; checks the status.
run_guest() {
    local name=$1 accel=$2 elf=$BUILD/tests/guest/$1.elf
    local tag=${accel//[,=]/-} out=$T_TMP/$1.${accel//[,=]/-}
    local args
    args=$(guest_args "$name")
    eval "set -- $args"
    timeout -k 5 "$TIMEOUT" "$KESTREL" -nographic $(reboot_option "$name") -accel "$accel" \
        -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$elf" "$@" \
        > "$out.out" 2> "$out.err" < /dev/null
    local rc=$?
    tr -d '\r' < "$out.out" > "$out.serial"
    if [[ $rc == 1 ]] && grep -q '^PASSED$' "$out.serial"; then
        pass "$name/$tag"
        return 0
    fi
    # A feature the guest asks for (e.g. -smp 2) that this build lacks.
    if grep -q "not implemented yet" "$out.err"; then
        skip "$name/$tag" "$(grep -m1 'not implemented yet' "$out.err" | sed 's/^kestrel: //')"
        return 2
    fi
    # This project's machines have a software KVM (kvm_pvm) whose instruction
    # emulator cannot run much unmodified system code (no protected-mode INT n
    # or IRET, no call gates or task switches, no LAR/ENTER n/DAA/SSE, no
    # paging outside long mode, CPUID not intercepted). There a failure is
    # the host's limit only if QEMU's KVM stops the same way on the same ELF:
    # then SKIP with the evidence; if QEMU passes or differs, it is our bug.
    if [[ $accel == kvm && -e /sys/module/kvm_pvm ]]; then
        kvm_pvm_verdict "$name" "$out" "$rc"
        return $?
    fi
    local why="exit status $rc"
    [[ $rc == 124 || $rc == 137 ]] && why="timed out after ${TIMEOUT}s"
    fail "$name/$tag" "$why"
    grep -h '^not ok\|unexpected\|aborted' "$out.serial" | head -20 | sed 's/^/    /'
    tail -5 "$out.err" | sed 's/^/    stderr: /'
    return 1
}

for elf in "${elfs[@]}"; do
    name=$(basename "$elf" .elf)
    ran_tcg=""
    for accel in tcg tcg,backend=interp; do
        reason=$tcg_reason
        [[ $accel == *interp ]] && reason=$interp_reason
        if [[ -n $reason ]]; then
            skip "$name/${accel//[,=]/-}" "$reason"
            continue
        fi
        run_guest "$name" "$accel"
        [[ -z $ran_tcg ]] && ran_tcg=$T_TMP/$name.${accel//[,=]/-}.serial
    done
    if [[ -n $kvm_reason ]]; then
        skip "$name/kvm" "$kvm_reason"
        continue
    fi
    run_guest "$name" kvm
    if [[ $? != 2 && -n $ran_tcg ]]; then
        if cmp -s "$ran_tcg" "$T_TMP/$name.kvm.serial"; then
            pass "$name/kvm-equals-tcg"
        else
            fail "$name/kvm-equals-tcg" "serial output differs between KVM and the translator"
            diff "$ran_tcg" "$T_TMP/$name.kvm.serial" | head -20 | sed 's/^/    /'
        fi
    fi
done
exit 0
