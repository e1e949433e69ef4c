#!/bin/bash
# The QMP monitor through the real binary (-qmp unix:SOCK,server,nowait -S),
# and named chardevs (-chardev ... -serial chardev:ID). Each part is skipped
# while the command line does not offer the option yet.
source tests/lib.sh

GUEST=$BUILD/tests/guest/hello.elf
if [[ ! -f $GUEST ]]; then skip qmp "no $GUEST (make guest-tests)"; exit 0; fi
if ! command -v python3 > /dev/null; then skip qmp "python3 is needed"; exit 0; fi

ACCEL=
for a in kvm tcg; do
    timeout -k 5 30 "$KESTREL" -display none -accel $a -kernel "$GUEST" \
        -device isa-debug-exit,iobase=0xf4,iosize=4 < /dev/null > "$T_TMP/probe" 2>&1
    if grep -q "PASSED" "$T_TMP/probe"; then ACCEL=$a; break; fi
done
if [[ -z $ACCEL ]]; then skip qmp "neither kvm nor tcg runs the hello guest here"; exit 0; fi

# option_missing OPTION ARGS...: true when kestrel says the option is not there yet
option_missing() {
    shift
    timeout -k 5 10 "$KESTREL" "$@" -version < /dev/null > "$T_TMP/opt" 2>&1
    grep -qi "not implemented\|unknown option" "$T_TMP/opt"
}

if option_missing -qmp -qmp "unix:$T_TMP/probe.sock,server,nowait"; then
    skip qmp "-qmp is not offered by the command line yet"
else
    cat > "$T_TMP/qmp.py" <<'PY'
import json, socket, sys, time
path = sys.argv[1]
for _ in range(300):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(path); break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit(2)
f = s.makefile("rwb")
def recv():
    while True:
        msg = json.loads(f.readline())
        if "event" not in msg:
            return msg
        print("event", msg["event"])
def cmd(name, **args):
    req = {"execute": name, "id": name}
    if args: req["arguments"] = args
    f.write((json.dumps(req) + "\n").encode()); f.flush()
    r = recv()
    assert r.get("id") == name, r
    return r
greeting = recv()
print("greeting", "QMP" in greeting)
print("before-negotiation", cmd("query-status").get("error", {}).get("class"))
print("capabilities", cmd("qmp_capabilities"))
print("status", cmd("query-status")["return"]["status"])
print("cont", cmd("cont"))
print("status", cmd("query-status")["return"]["status"])
print("hmp", "VM status" in cmd("human-monitor-command", **{"command-line": "info status"})["return"])
print("unknown", cmd("no-such-command")["error"]["class"])
print("quit", cmd("quit"))
PY
    timeout -k 5 30 "$KESTREL" -display none -serial null -S -qmp "unix:$T_TMP/qmp.sock,server,nowait" \
        -accel "$ACCEL" -kernel "$GUEST" < /dev/null > "$T_TMP/out" 2>&1 &
    KPID=$!
    timeout -k 5 30 python3 "$T_TMP/qmp.py" "$T_TMP/qmp.sock" > "$T_TMP/qmp.txt" 2>&1
    wait $KPID
    KRC=$?
    Q=$T_TMP/qmp.txt
    check qmp-greeting grep -q "greeting True" "$Q"
    check qmp-negotiation grep -q "before-negotiation CommandNotFound" "$Q"
    check qmp-paused-with-S grep -q "status paused" "$Q"
    check qmp-cont grep -q "status running" "$Q"
    check qmp-resume-event grep -q "event RESUME" "$Q"
    check qmp-hmp grep -q "hmp True" "$Q"
    check qmp-unknown grep -q "unknown CommandNotFound" "$Q"
    if [[ $KRC == 0 ]]; then pass qmp-quit; else fail qmp-quit "exit $KRC: $(tail -3 "$Q")"; fi
fi

if option_missing -chardev -chardev null,id=probe; then
    skip chardev-option "-chardev is not offered by the command line yet"
else
    timeout -k 5 30 "$KESTREL" -display none -chardev "file,id=ser0,path=$T_TMP/named.txt" \
        -serial chardev:ser0 -accel "$ACCEL" -kernel "$GUEST" \
        -device isa-debug-exit,iobase=0xf4,iosize=4 < /dev/null > "$T_TMP/out" 2>&1
    if grep -q "Hello from a Kestrel guest" "$T_TMP/named.txt" 2>/dev/null; then pass chardev-option
    else fail chardev-option "$(head -3 "$T_TMP/out")"; fi
fi

if option_missing -mon -chardev null,id=probe -mon chardev=probe; then
    skip mon-option "-mon is not offered by the command line yet"
else
    printf 'info status\nquit\n' | timeout -k 5 30 "$KESTREL" -display none -serial null \
        -chardev stdio,id=hmp0 -mon chardev=hmp0,mode=readline -accel "$ACCEL" -kernel "$GUEST" \
        > "$T_TMP/mon.txt" 2>&1
    RC=$?
    check mon-option grep -q "VM status: running" "$T_TMP/mon.txt"
    if [[ $RC == 0 ]]; then pass mon-quit; else fail mon-quit "exit $RC: $(head -3 "$T_TMP/mon.txt")"; fi
fi
