#!/bin/bash
# The GDB stub with a real gdb: -S -gdb tcp:127.0.0.1:PORT, read registers and
# memory, "monitor" commands, and (when the translator consults the stub)
# breakpoints, single steps and continuing to the end of the guest.
source tests/lib.sh

GUEST=$BUILD/tests/guest/hello.elf
if ! command -v gdb > /dev/null; then skip gdb "gdb is not installed"; exit 0; fi
if [[ ! -f $GUEST ]]; then skip gdb "no $GUEST (make guest-tests)"; exit 0; fi
if ! command -v python3 > /dev/null; then skip gdb "python3 is needed to find a free port"; exit 0; fi

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# run_session NAME ACCEL GDB-ARGS...: kestrel paused under gdb; output in
# $T_TMP/NAME.gdb, kestrel's in $T_TMP/NAME.out, the serial port in NAME.serial
run_session() {
    local name=$1 accel=$2; shift 2
    local port
    port=$(free_port)
    timeout -k 5 60 "$KESTREL" -display none -serial "file:$T_TMP/$name.serial" -accel "$accel" \
        -S -gdb "tcp:127.0.0.1:$port" -kernel "$GUEST" -device isa-debug-exit,iobase=0xf4,iosize=4 \
        < /dev/null > "$T_TMP/$name.out" 2>&1 &
    local kpid=$!
    timeout -k 5 60 gdb -batch -nx -ex 'set architecture i386:x86-64' \
        -ex 'set tcp connect-timeout 20' -ex "target remote 127.0.0.1:$port" "$@" \
        > "$T_TMP/$name.gdb" 2>&1
    # a guest still paused after gdb left would hang: make sure it ends
    sleep 0.2
    kill "$kpid" 2> /dev/null
    wait "$kpid"
    KRC=$?
}

ENTRY=$(readelf -h "$GUEST" | awk '/Entry point/ {print $4}')
BP=0x$(nm "$GUEST" | awk '$3 == "exit_test" {print $1}')

ACCELS_RUN=
for accel in tcg kvm; do
    if [[ $accel == kvm && ! -w /dev/kvm ]]; then skip kvm "no usable /dev/kvm"; continue; fi
    timeout -k 5 30 "$KESTREL" -display none -accel $accel -kernel "$GUEST" \
        -device isa-debug-exit,iobase=0xf4,iosize=4 < /dev/null > "$T_TMP/probe" 2>&1
    if ! grep -q "PASSED" "$T_TMP/probe"; then
        skip "$accel" "the hello guest does not run under -accel $accel here"
        continue
    fi
    ACCELS_RUN="$ACCELS_RUN $accel"
    run_session "$accel-inspect" $accel -ex 'p/x $pc' -ex 'monitor info status' \
        -ex 'x/4xb 0x100000' -ex 'info registers cs' -ex 'detach'
    G=$T_TMP/$accel-inspect.gdb
    if grep -q "= $ENTRY\$" "$G"; then pass "$accel/pc-at-entry"
    else fail "$accel/pc-at-entry" "$(tail -5 "$G")"; fi
    check "$accel/monitor-command" grep -q "VM status: paused" "$G"
    # multiboot header magic 0x1badb002 at the image start
    check "$accel/memory" grep -q "0x100000:.*0x02.*0xb0.*0xad.*0x1b" "$G"
    check "$accel/detach" grep -q "detached" "$G"
    check "$accel/runs-after-detach" grep -q "PASSED" "$T_TMP/$accel-inspect.serial"
done

# Breakpoints and stepping need the execution engine's cooperation.
engine_debugs() {
    local o
    for o in "$BUILD"/accel/$1*.o; do
        nm "$o" 2> /dev/null | grep -q " U gdb_single_stepping" && return 0
    done
    return 1
}
for accel in $ACCELS_RUN; do
    if ! engine_debugs $accel; then
        skip $accel/breakpoints "-accel $accel does not consult the GDB stub in this build"
        continue
    fi
    run_session $accel-run $accel -ex "break *$BP" -ex 'continue' -ex 'p/x $pc' -ex 'stepi' \
        -ex 'p/x $pc' -ex 'delete' -ex 'continue'
    G=$T_TMP/$accel-run.gdb
    check $accel/breakpoint-hit grep -q "Breakpoint 1, 0x0*${BP#0x}" "$G"
    # one instruction further: past the breakpoint by 1..15 bytes
    PC1=$(awk '/^\$1 = / {print $3}' "$G")
    PC2=$(awk '/^\$2 = / {print $3}' "$G")
    if [[ -n $PC1 && -n $PC2 ]] && (( PC2 > PC1 && PC2 - PC1 <= 15 )); then pass $accel/stepi
    else fail $accel/stepi "pc $PC1 then $PC2: $(tail -4 "$G")"; fi
    check $accel/continue-to-exit grep -q "PASSED" "$T_TMP/$accel-run.serial"
    if [[ $KRC == 1 ]]; then pass $accel/exit-status; else fail $accel/exit-status "kestrel exited $KRC"; fi
done
