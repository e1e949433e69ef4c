# Driving the Linux guest's interactive shell from a test (sourced after
# tests/lib.sh). The guest's console is Kestrel's stdio, fed from a fifo.
#   shell_start OPTIONS...        boot guest.mode=shell ($KERNEL, $APPEND_EXTRA)
#   waitfor PATTERN SECONDS [N]   until PATTERN is in the output N times
#   say TEXT                      type (printf %b escapes: \n, \003 for Ctrl-C)
#   shell_end STATUS NAME         wait for Kestrel to exit; pass NAME on STATUS
#   shell_abort                   stop a session that went wrong
#   use_linux_guest               GUEST (GUEST_DIR, else build/guest, built
#                                 from Debian packages when missing) and
#                                 KERNEL=(-kernel .. -initrd ..); SKIP + exit
#                                 when it cannot be built

use_linux_guest() {
    GUEST=${GUEST_DIR:-$BUILD/guest}
    if [[ ! -s $GUEST/bzImage || ! -s $GUEST/initramfs.cpio.gz ]]; then
        if ! scripts/build-linux-guest.sh "$GUEST" > "$T_TMP/build.log" 2>&1; then
            skip build "cannot build the Linux guest from Debian packages: $(tail -1 "$T_TMP/build.log")"
            exit 0
        fi
    fi
    KERNEL=(-kernel "$GUEST/bzImage" -initrd "$GUEST/initramfs.cpio.gz")
}

shell_start() {
    rm -f "$T_TMP/in"
    mkfifo "$T_TMP/in"
    exec 7<> "$T_TMP/in"
    : > "$T_TMP/out"
    timeout -k 5 "${TIMEOUT:-900}" "$KESTREL" -accel tcg -nographic "$@" "${KERNEL[@]}" \
        -append "console=ttyS0 quiet guest.mode=shell ${APPEND_EXTRA:-}" \
        < "$T_TMP/in" > "$T_TMP/out" 2>&1 &
    KPID=$!
}

waitfor() {
    local n=${3:-1}
    for _ in $(seq "$2"); do
        [[ $(tr -d '\r' < "$T_TMP/out" | grep -c -- "$1") -ge $n ]] && return 0
        kill -0 "$KPID" 2> /dev/null || return 1
        sleep 1
    done
    return 1
}

say() { printf '%b' "$1" >&7; }

shell_end() {
    local want=$1 name=$2 rc
    wait "$KPID"
    rc=$?
    exec 7>&-
    if [[ $rc == "$want" ]]; then pass "$name"; else fail "$name" "status $rc: $(tail -3 "$T_TMP/out" | tr '\n' '|')"; fi
}

shell_abort() {
    kill "$KPID" 2> /dev/null
    wait "$KPID" 2> /dev/null
    exec 7>&-
}

shell_tail() { tr -d '\r' < "$T_TMP/out" | tail -${1:-3} | tr '\n' '|'; }
