#!/bin/bash
# -d perfmap: translated blocks are listed in /tmp/perf-PID.map in the format
# perf reads for JIT code, at addresses inside an executable mapping of the
# process that perf resolves through the map (anonymous ones); without the
# option no map file appears.
source tests/lib.sh

HELLO=$BUILD/tests/guest/hello.elf
if [[ ! -f $HELLO ]]; then
    skip perfmap "no demo guest ($HELLO)"
    exit 0
fi

# wait_for COND...: poll COND for up to 30 s (no timing assertion: slow hosts just wait longer)
wait_for() {
    for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
    return 1
}

# The guest idles after printing PASSED when there is no isa-debug-exit, so
# the process's mappings can be read while it still runs.
"$KESTREL" -accel tcg -d perfmap -display none -serial "file:$T_TMP/serial" \
    -kernel "$HELLO" < /dev/null > "$T_TMP/err" 2>&1 &
pid=$!
map=/tmp/perf-$pid.map
trap 'kill $pid 2>/dev/null; rm -f "$map"; rm -rf "$T_TMP"' EXIT
if ! wait_for grep -qs PASSED "$T_TMP/serial"; then
    fail perfmap_guest_runs "$(head -3 "$T_TMP/err" | tr '\n' '|')"
    exit 0
fi
# Executable mappings without a file: the only ones perf looks up in the map.
awk 'substr($2, 3, 1) == "x" && (NF == 5 || $6 ~ /^\/dev\/zero/)' "/proc/$pid/maps" > "$T_TMP/exec-maps"
kill $pid
wait $pid 2>/dev/null

if [[ -s $map ]]; then pass perfmap_written; else fail perfmap_written "no $map or empty"; fi

line_re='^[0-9a-f]+ [0-9a-f]+ kestrel:(0x[0-9a-f]+(:1insn)?|runtime:[a-z0-9-]+)$'
bad=$(grep -cvE "$line_re" "$map")
[[ $bad == 0 ]] && pass perfmap_well_formed || fail perfmap_well_formed "$bad bad lines, e.g. $(grep -vE "$line_re" "$map" | head -1)"

# The backend's shared code is named too (samples in the jump-cache probes).
if grep -q ' kestrel:runtime:jmp-cache-lookup$' "$map"; then
    pass perfmap_names_runtime
else
    fail perfmap_names_runtime "no kestrel:runtime:jmp-cache-lookup line"
fi

# Each block [start, start+size) lies inside one anonymous executable mapping.
outside=0
while read -r start size _; do
    lo=$((16#$start)) hi=$((16#$start + 16#$size)) inside=0
    while IFS='- ' read -r mlo mhi _; do
        if (( lo >= 16#$mlo && hi <= 16#$mhi )); then inside=1; break; fi
    done < "$T_TMP/exec-maps"
    (( inside )) || outside=$((outside + 1))
done < "$map"
(( outside == 0 )) && pass perfmap_in_anon_exec_mapping || fail perfmap_in_anon_exec_mapping "$outside blocks outside"

# The guest's entry block is named by its guest PC (multiboot entry of hello.elf).
entry=$(readelf -h "$HELLO" 2>/dev/null | awk '/Entry point/ { print $4 }')
if [[ -z $entry ]]; then
    skip perfmap_names_entry "no readelf"
elif grep -q " kestrel:$entry\$" "$map"; then
    pass perfmap_names_entry
else
    fail perfmap_names_entry "no block named kestrel:$entry"
fi

# Without the option there is no map file.
"$KESTREL" -accel tcg -display none -serial null -kernel "$HELLO" \
    -device isa-debug-exit,iobase=0xf4,iosize=4 < /dev/null > /dev/null 2>&1 &
pid2=$!
wait $pid2
if [[ -e /tmp/perf-$pid2.map ]]; then
    fail perfmap_off_by_default "/tmp/perf-$pid2.map exists"
    rm -f "/tmp/perf-$pid2.map"
else
    pass perfmap_off_by_default
fi
