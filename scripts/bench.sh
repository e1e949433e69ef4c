#!/bin/bash
# make bench: the Linux guest's workload under Kestrel and, when installed,
# under QEMU (TCG against TCG, same kernel, initramfs and command line).
# Prints per phase the median of BENCH_RUNS runs (default 5) in host seconds,
# the ratio Kestrel/QEMU (below 1.00 is faster), and each one's peak RSS.
# Phases: start->first kernel message, ->init, ->exit in host time; each
# workload phase by the guest's uptime (/proc/uptime at its begin and end).
# Benchmarks never assert; a run that fails is reported as such.
set -u
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-5}
GUEST=${GUEST_DIR:-build/guest}
TIMEOUT=${BENCH_TIMEOUT:-900}
APPEND='console=ttyS0'
# A QEMU CPU model with the instruction-set features Kestrel's model advertises,
# so both guests take the same code paths. Speculation mitigations match too:
# Kestrel's model states in IA32_ARCH_CAPABILITIES that it is not affected
# (ITS_NO, RDCL_NO, ...: cpu/x86/cpuid.c), and qemu64 (AMD family 15) is
# whitelisted by Linux, so both guests print the same mitigation lines
# (Spectre V1 barriers, Spectre V2 retpolines, no ITS return thunk, no KPTI).
# Left over: Linux adds an LFENCE at kernel entry on Intel (SWAPGS) and calls
# BHI "Retpoline" instead of "Not affected"; no extra guest work besides.
# QEMU 7.2's TCG has no RDPID (it warns at +rdpid), so its vDSO getcpu() uses
# LSL where Kestrel's guest uses RDPID.
QEMU_CPU=${QEMU_CPU:-qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt}

[[ -s $GUEST/bzImage ]] || scripts/build-linux-guest.sh "$GUEST" >/dev/null ||
    { echo "bench: cannot build the Linux guest"; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench: needs /usr/bin/time (Debian package 'time')"; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# run_once NAME OUTFILE CMD...: each serial line prefixed with the host clock
# (EPOCHREALTIME); the first line is the start's. No process per line: a
# reader that falls behind the guest's output stamps its lines late.
run_once() {
    local out=$1; shift
    printf '%s START\n' "$EPOCHREALTIME" > "$out"
    { timeout -k 5 "$TIMEOUT" /usr/bin/time -f 'RSS-KB %M' "$@" < /dev/null 2>&1; echo "EXIT $?"; } |
        while IFS= read -r line; do
            printf '%s %s\n' "$EPOCHREALTIME" "$line"
        done >> "$out"
}

# phases FILE: "name seconds" lines (host times from the start)
phases() {
    awk '
        function t() { return $1 - start }
        NR == 1 && $2 == "START" { start = $1; next }
        { sub(/\r$/, "") }
        !first && /Linux version/ { print "first-message", t(); first = 1 }
        /GUEST-INIT-REACHED/ { print "init", t() }
        # a phase lasts what the guest clock says (its uptime follows host
        # time on both emulators): the host stamps on serial lines come in
        # bursts on a busy host
        function up() { for (i = 4; i <= NF; i++) if ($i ~ /^up=[0-9.]+$/) return substr($i, 4) + 0; return -1 }
        / GUEST-BEGIN / { b[$3] = up() }
        / GUEST-END / { if ($3 in b && b[$3] >= 0 && up() >= 0) print "phase:" $3, up() - b[$3] }
        / RSS-KB / { rss = $3 }
        / EXIT / { print "exit", t(); print "rss-mb", rss / 1024; print "status", $3 }
        / GUEST-WORKLOAD-DONE/ { done = 1 }
        END { print "workload-done", done + 0 }' "$1"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure_run TAG I CMD...: run I of TAG; a failed run counts in no median
measure_run() {
    local tag=$1 i=$2; shift 2
    run_once "$T/$tag.$i.log" "$@"
    phases "$T/$tag.$i.log" > "$T/$tag.$i.ph"
    if ! grep -q '^workload-done 1' "$T/$tag.$i.ph"; then
        echo "bench: $tag run $i did not finish the workload; its last lines:" >&2
        tail -5 "$T/$tag.$i.log" | sed 's/^/    /' >&2
        mv "$T/$tag.$i.ph" "$T/$tag.$i.failed"
    fi
}

# measure_pair TAG_A TAG_B: RUNS runs of each, alternated (A, B, A, B, ...),
# so that a slow spell of the host falls on both tools alike. The commands
# are in the arrays CMD_A and CMD_B; TAG_B may be empty (A alone).
measure_pair() {
    local a=$1 b=$2
    for i in $(seq "$RUNS"); do
        measure_run "$a" "$i" "${CMD_A[@]}"
        [[ -n $b ]] && measure_run "$b" "$i" "${CMD_B[@]}"
    done
}

KESTREL_CMD=(./kestrel -accel tcg -m 512 -nographic -no-reboot -kernel "$GUEST/bzImage"
             -initrd "$GUEST/initramfs.cpio.gz" -append "$APPEND")
QEMU_CMD=(qemu-system-x86_64 -accel tcg -cpu "$QEMU_CPU" -m 512 -nographic -no-reboot
          -kernel "$GUEST/bzImage" -initrd "$GUEST/initramfs.cpio.gz" -append "$APPEND")

echo "bench: $RUNS run(s) each; guest $GUEST; medians in host seconds"
have_qemu=0
CMD_A=("${KESTREL_CMD[@]}")
if command -v qemu-system-x86_64 >/dev/null; then
    have_qemu=1
    CMD_B=("${QEMU_CMD[@]}")
    measure_pair kestrel qemu
else
    echo "bench: qemu-system-x86_64 not installed: Kestrel only"
    measure_pair kestrel ""
fi

# print_table A B: the phases of tool A beside tool B, with the ratio A/B
print_table() {
    local a=$1 b=$2 n k q r
    local names
    names=$(cat "$T"/$a.*.ph "$T"/$b.*.ph 2>/dev/null | awk '{ print $1 }' |
            grep -v -e status -e workload-done | awk '!seen[$0]++')
    for tag in $a $b; do
        f=$(ls "$T"/$tag.*.failed 2>/dev/null | wc -l)
        [[ $f != 0 ]] && echo "bench: $tag: $f of $RUNS run(s) failed and are left out"
    done
    printf '%-22s %12s %12s %8s\n' phase "$a" "$b" ratio
    for n in $names; do
        k=$(cat "$T"/$a.*.ph 2>/dev/null | awk -v n="$n" '$1 == n { print $2 }' | median)
        q=$(cat "$T"/$b.*.ph 2>/dev/null | awk -v n="$n" '$1 == n { print $2 }' | median)
        r=$(awk -v k="$k" -v q="$q" 'BEGIN { if (k == "-" || q == "-" || q == 0) print "-"; else printf "%.2f", k / q }')
        printf '%-22s %12s %12s %8s\n' "$n" "$k" "$q" "$r"
    done
    # how far apart the runs were: a wide spread means a noisy host
    for tag in $a $b; do
        cat "$T"/$tag.*.ph 2>/dev/null | awk -v t="$tag" '$1 == "exit" { if (!n || $2 < lo) lo = $2; if (!n || $2 > hi) hi = $2; n++ }
            END { if (n) printf "bench: %s whole runs %.2f .. %.2f s (%d runs)\n", t, lo, hi, n }'
    done
    pair_ratios "$a" "$b"
}

# pair_ratios A B: whole-run ratio of each run of A to B's run right after
# it, and their median: the host's speed drifts by tens of percent over
# minutes, and a pair's two runs share most of a drift that the medians of
# all runs mix in.
pair_ratios() {
    local a=$1 b=$2 i ka qb list=""
    for i in $(seq "$RUNS"); do
        ka=$(awk '$1 == "exit" { print $2 }' "$T/$a.$i.ph" 2>/dev/null)
        qb=$(awk '$1 == "exit" { print $2 }' "$T/$b.$i.ph" 2>/dev/null)
        [[ -n $ka && -n $qb ]] && list="$list $(awk -v k="$ka" -v q="$qb" 'BEGIN { printf "%.2f", k / q }')"
    done
    [[ -n $list ]] || return 0
    echo "bench: whole-run ratio of each pair ($a run, then $b run):$list; median $(printf '%s\n' $list | median)"
}

print_table kestrel qemu

# With hardware-backed KVM, Kestrel with KVM beside QEMU with KVM as well,
# QEMU on the TCG table's CPU model (the features Kestrel's model
# advertises), not -cpu host, so that both guests take the same code paths.
# Kestrel's auto-selection says whether KVM is hardware-backed.
[[ -f build/tests/guest/hello.elf ]] &&
    timeout -k 5 60 ./kestrel -display none -serial null -kernel build/tests/guest/hello.elf \
        -device isa-debug-exit,iobase=0xf4,iosize=4 < /dev/null > "$T/probe" 2>&1
if [[ ! -f build/tests/guest/hello.elf ]]; then
    echo "bench: no build/tests/guest/hello.elf to probe the accelerator with: translator only"
elif grep -q 'accelerator: kvm' "$T/probe"; then
    CMD_A=(./kestrel -accel kvm -m 512 -nographic -no-reboot -kernel "$GUEST/bzImage"
           -initrd "$GUEST/initramfs.cpio.gz" -append "$APPEND")
    CMD_B=(qemu-system-x86_64 -accel kvm -cpu "$QEMU_CPU" -m 512 -nographic -no-reboot
           -kernel "$GUEST/bzImage" -initrd "$GUEST/initramfs.cpio.gz" -append "$APPEND")
    if [[ $have_qemu == 1 ]]; then measure_pair kestrel-kvm qemu-kvm; else measure_pair kestrel-kvm ""; fi
    echo
    print_table kestrel-kvm qemu-kvm
else
    echo "bench: no hardware-backed KVM here ($(grep -m1 accelerator "$T/probe" | sed 's/^kestrel: //')): translator only"
fi

# Disk throughput (virtio-blk on raw and qcow2) in the guest with modules.
scripts/bench-disk.sh
