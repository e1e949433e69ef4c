#!/bin/bash
# The chardevs and the monitor through the real binary: -serial file/tcp/unix,
# mon:stdio driven through a pseudo-terminal (Ctrl-A c, monitor commands,
# Ctrl-A x), and spec errors. Uses the hello guest (make guest-tests).
source tests/lib.sh

GUEST=$BUILD/tests/guest/hello.elf
EXIT_DEV=(-device isa-debug-exit,iobase=0xf4,iosize=4)

# spec errors need no guest
timeout -k 5 30 "$KESTREL" -nographic -serial bogus -kernel /dev/null < /dev/null > "$T_TMP/err" 2>&1
if [[ $? == 1 ]] && grep -q "unknown chardev 'bogus'" "$T_TMP/err"; then pass bad-spec
else fail bad-spec "$(head -3 "$T_TMP/err")"; fi
timeout -k 5 30 "$KESTREL" -nographic -serial tcp:127.0.0.1:0,server,nowait,reconnect=1 \
    -kernel /dev/null < /dev/null > "$T_TMP/err" 2>&1
if [[ $? == 1 ]] && grep -q "reconnect.*not implemented" "$T_TMP/err"; then pass unsupported-option
else fail unsupported-option "$(head -3 "$T_TMP/err")"; fi

if [[ ! -f $GUEST ]]; then
    skip guest "no $GUEST (make guest-tests)"
    exit 0
fi
if ! command -v python3 > /dev/null; then
    skip guest "python3 is needed to drive terminals and sockets"
    exit 0
fi

# Pick an accelerator that runs the guest here.
ACCEL=
for a in kvm tcg; do
    timeout -k 5 30 "$KESTREL" -nographic -accel $a -kernel "$GUEST" "${EXIT_DEV[@]}" \
        < /dev/null > "$T_TMP/probe" 2>&1
    if grep -q "Hello from a Kestrel guest" "$T_TMP/probe"; then ACCEL=$a; break; fi
done
if [[ -z $ACCEL ]]; then
    skip guest "neither kvm nor tcg runs the hello guest in this build"
    exit 0
fi
RUN=(-accel "$ACCEL" -kernel "$GUEST" "${EXIT_DEV[@]}")

# -serial file:
timeout -k 5 30 "$KESTREL" -display none -serial "file:$T_TMP/serial.txt" "${RUN[@]}" \
    < /dev/null > "$T_TMP/out" 2>&1
if grep -q "Hello from a Kestrel guest" "$T_TMP/serial.txt" 2>/dev/null; then pass serial-file
else fail serial-file "$(head -3 "$T_TMP/out")"; fi

# -serial tcp server (without nowait kestrel waits for the client) and unix
cat > "$T_TMP/client.py" <<'PY'
import socket, sys, time
kind, addr = sys.argv[1], sys.argv[2]
for _ in range(300):
    try:
        if kind == "tcp":
            s = socket.create_connection(("127.0.0.1", int(addr)))
        else:
            s = socket.socket(socket.AF_UNIX); s.connect(addr)
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit(2)
data = b""
s.settimeout(20)
try:
    while b"PASSED" not in data:
        d = s.recv(4096)
        if not d: break
        data += d
except socket.timeout:
    pass
sys.stdout.write(data.decode("latin1"))
PY
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$T_TMP/client.py" tcp "$PORT" > "$T_TMP/tcp.txt" &
CLIENT=$!
timeout -k 5 30 "$KESTREL" -display none -serial "tcp:127.0.0.1:$PORT,server" "${RUN[@]}" \
    < /dev/null > "$T_TMP/out" 2>&1
wait $CLIENT
if grep -q "Hello from a Kestrel guest" "$T_TMP/tcp.txt"; then pass serial-tcp-server
else fail serial-tcp-server "$(head -3 "$T_TMP/out")"; fi

SOCK=$T_TMP/serial.sock
python3 "$T_TMP/client.py" unix "$SOCK" > "$T_TMP/unix.txt" &
CLIENT=$!
timeout -k 5 30 "$KESTREL" -display none -serial "unix:$SOCK,server" "${RUN[@]}" \
    < /dev/null > "$T_TMP/out" 2>&1
wait $CLIENT
if grep -q "Hello from a Kestrel guest" "$T_TMP/unix.txt"; then pass serial-unix-server
else fail serial-unix-server "$(head -3 "$T_TMP/out")"; fi

# mon:stdio on a terminal: the guest halts at the end without the exit device.
cat > "$T_TMP/term.py" <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def pump(until, t=15):
    global out
    end = time.time() + t
    while until not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try: d = os.read(fd, 65536)
            except OSError: return
            if not d: return
            out += d
def type_(s, until, t=15):
    os.write(fd, s)
    pump(until, t)
pump(b"PASSED")
type_(b"\x01c", b"(kestrel) ")
type_(b"info status\r", b"VM status")
type_(b"xp/4xb 0x9000\r", b"0000000000009000:")
type_(b"\x01h", b"C-a x")
type_(b"\x01x", b"terminated")
pump(b"never", 2)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("latin1"))
print("\nEXIT", os.waitstatus_to_exitcode(status))
PY
timeout -k 5 60 python3 "$T_TMP/term.py" "$KESTREL" -nographic -accel "$ACCEL" -kernel "$GUEST" \
    > "$T_TMP/term.txt" 2>&1
T=$T_TMP/term.txt
check mux-guest-output grep -q "Hello from a Kestrel guest" "$T"
check mux-monitor-banner grep -q "monitor - type 'help'" "$T"
check mux-info-status grep -q "VM status: running" "$T"
check mux-xp grep -q "0000000000009000: 0x" "$T"
check mux-escape-help grep -q "C-a c" "$T"
check mux-ctrl-a-x grep -q "kestrel: terminated" "$T"
check mux-exit-status grep -q "^EXIT 0" "$T"

# -monitor telnet: a telnet client gets the negotiation and the banner, runs
# commands (Enter as CR NUL, as telnet sends it) and quits Kestrel.
cat > "$T_TMP/telnet.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
for _ in range(300):
    try:
        s = socket.create_connection(("127.0.0.1", port)); break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit(2)
s.settimeout(10)
data = b""
def until(marker):
    global data
    while marker not in data:
        d = s.recv(4096)
        if not d: return
        data += d
until(b"(kestrel) ")
s.sendall(b"info status\r\0")
until(b"VM status")
until(b"(kestrel) ")
s.sendall(b"quit\r\n")
try:
    while s.recv(4096): pass
except OSError:
    pass
sys.stdout.write(repr(data))
PY
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout -k 5 30 "$KESTREL" -display none -serial null -monitor "telnet:127.0.0.1:$PORT,server,nowait" \
    -accel "$ACCEL" -kernel "$GUEST" < /dev/null > "$T_TMP/out" 2>&1 &
KPID=$!
timeout -k 5 30 python3 "$T_TMP/telnet.py" "$PORT" > "$T_TMP/telnet.txt" 2>&1
wait $KPID
KRC=$?
check telnet-negotiation grep -q "xff\\\\xfb\\\\x01" "$T_TMP/telnet.txt"
check telnet-monitor grep -q "VM status: " "$T_TMP/telnet.txt"
if [[ $KRC == 0 ]]; then pass telnet-quit; else fail telnet-quit "kestrel exited $KRC: $(head -3 "$T_TMP/out")"; fi

# -monitor stdio fed from a pipe, as scripts do: commands run, quit exits 0.
printf 'info status\nprint 0x10 + 0x20\nquit\n' | timeout -k 5 30 "$KESTREL" -display none \
    -serial null -monitor stdio -accel "$ACCEL" -kernel "$GUEST" > "$T_TMP/piped.txt" 2>&1
RC=$?
check piped-monitor-status grep -q "VM status: running" "$T_TMP/piped.txt"
check piped-monitor-print grep -q "^0x30$" "$T_TMP/piped.txt"
if [[ $RC == 0 ]]; then pass piped-monitor-quit; else fail piped-monitor-quit "exit $RC"; fi
