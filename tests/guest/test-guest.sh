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
    # This project's machines have a software KVM (kvm_pvm) that cannot run
    # much unmodified system code (its emulator has no protected-mode IRET,
    # 32-bit paging raises #GP...): there a failure is a limit of the host,
    # reported as a SKIP with its first symptom; a pass still counts.
    if [[ $accel == kvm && -e /sys/module/kvm_pvm ]]; then
        local symptom
        symptom=$(grep -m1 -h -o 'KVM internal error\|unexpected exception [0-9]* at [0-9a-f:]*\|^not ok .*' \
                  "$out.err" "$out.serial")
        skip "$name/$tag" "software KVM (kvm_pvm) cannot run this guest: ${symptom:-exit status $rc}"
        return 2
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
