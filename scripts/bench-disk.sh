#!/bin/bash
# make bench, disks: throughput of virtio-blk inside the Linux guest (the
# GUEST_MODULES=1 build) on a raw and on a qcow2 image, under Kestrel and,
# when installed, under QEMU (TCG against TCG, same kernel, initramfs,
# command line and freshly created images of the same kind for every run).
# Phases on /dev/vda, all O_DIRECT so the guest's page cache plays no part:
#   seq-write   the whole 256 MiB disk with busybox dd bs=1M (random data)
#   seq-read    the whole disk 4 times with busybox dd bs=1M
#   rand-write, rand-read  8000 x 4 KiB at fixed pseudo-random offsets
#               (scripts/bench-disk-rand.c: busybox has no fio, and a loop
#               of dd processes would measure fork+exec, not the disk)
# Sizes are chosen so that every phase lasts a good part of a second.
# Times come from the host's clock at the guest's console lines, so a wrong
# guest clock cannot flatter anyone. The host's page cache is warm for both.
# Prints the median of BENCH_RUNS runs (default 3) in MB/s and IOPS and the
# ratio Kestrel/QEMU (above 1.00 is faster); BENCH_DISK_QEMU=0 leaves QEMU
# out. Benchmarks never assert: a run
# that fails is reported as such and counts in no median.
set -u
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-3}
GUEST=${GUEST_MODULES_DIR:-build/guest-modules}
TIMEOUT=${BENCH_DISK_TIMEOUT:-300}
QEMU_CPU=${QEMU_CPU:-qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt}
DISK_MIB=256    # image size, all written by seq-write
DATA_MIB=16     # random data in the guest's tmpfs, written DISK_MIB/DATA_MIB times
READ_PASSES=4
RAND_OPS=8000
APPEND='console=ttyS0 quiet guest.modules=1'

if [[ ! -s $GUEST/bzImage ]]; then
    GUEST_MODULES=1 scripts/build-linux-guest.sh "$GUEST" > /dev/null ||
        { echo "bench-disk: cannot build the Linux guest with modules"; exit 1; }
fi
[[ -x ./kestrel && -x ./kestrel-img ]] || { echo "bench-disk: build Kestrel first (make)"; exit 1; }
for tool in cpio gzip "${CC:-cc}"; do
    command -v "$tool" > /dev/null || { echo "bench-disk: needs $tool"; exit 1; }
done

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# The guest's /workload.sh is replaced by ours through a second cpio archive
# appended to its initramfs (the kernel unpacks concatenated archives in order).
make_initramfs() {
    mkdir -p "$T/extra"
    "${CC:-cc}" -static -O2 -o "$T/extra/bench-disk-rand" scripts/bench-disk-rand.c ||
        { echo "bench-disk: cannot build scripts/bench-disk-rand.c statically"; return 1; }
    cat > "$T/extra/workload.sh" <<EOF
#!/bin/sh
PATH=/usr/bin:/bin:/usr/sbin:/sbin
D=/dev/vda
i=0
while [ ! -b \$D ] && [ \$i -lt 20 ]; do sleep 0.5; i=\$((i+1)); done
[ -b \$D ] || { echo "DISK-FAILED no \$D"; exit 1; }
head -c $((DATA_MIB * 1048576)) /dev/urandom > /tmp/data || { echo DISK-FAILED data; exit 1; }
phase() {   # phase NAME COMMAND...: the host times BEGIN to END
    name=\$1; shift
    echo "DISK-BEGIN \$name"
    if "\$@"; then echo "DISK-END \$name"; else echo "DISK-FAILED \$name"; exit 1; fi
}
seq_write() {
    for i in \$(seq 0 $((DISK_MIB / DATA_MIB - 1))); do
        dd if=/tmp/data of=\$D bs=1M count=$DATA_MIB seek=\$((i * $DATA_MIB)) oflag=direct conv=fsync,notrunc status=none || return 1
    done
}
seq_read() {
    for i in \$(seq $READ_PASSES); do
        dd if=\$D of=/dev/null bs=1M count=$DISK_MIB iflag=direct status=none || return 1
    done
}
phase seq-write seq_write
rm -f /tmp/data
phase seq-read seq_read
phase rand-write /bench-disk-rand write \$D $DISK_MIB $RAND_OPS 12345
phase rand-read /bench-disk-rand read \$D $DISK_MIB $RAND_OPS 54321
echo GUEST-WORKLOAD-DONE
EOF
    chmod 755 "$T/extra/workload.sh" "$T/extra/bench-disk-rand"
    (cd "$T/extra" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet | gzip -9) > "$T/extra.cpio.gz" &&
        cat "$GUEST/initramfs.cpio.gz" "$T/extra.cpio.gz" > "$T/initramfs.cpio.gz"
}
make_initramfs || exit 1

# make_image FORMAT FILE: a fresh 256 MiB image, made by kestrel-img
make_image() {
    rm -f "$2"
    ./kestrel-img create -q -f "$1" "$2" "${DISK_MIB}M" > /dev/null
}

# run_once LOG CMD...: each console line prefixed with the host's clock
# (bash builtins only, so the stamp is taken as the line arrives)
run_once() {
    local log=$1; shift
    { timeout -k 5 "$TIMEOUT" "$@" < /dev/null 2>&1; echo "EXIT $?"; } |
        while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "${line//$'\r'/}"; done > "$log"
}

# results LOG: "phase value" lines, MB/s for sequential and IOPS for random
results() {
    awk -v wmib="$DISK_MIB" -v rmib=$((DISK_MIB * READ_PASSES)) -v ops="$RAND_OPS" '
        $2 == "DISK-BEGIN" { b[$3] = $1 }
        $2 == "DISK-END" && ($3 in b) {
            t = $1 - b[$3]; if (t <= 0) next
            if ($3 == "seq-write") printf "%s-MB/s %.1f\n", $3, wmib * 1.048576 / t
            else if ($3 == "seq-read") printf "%s-MB/s %.1f\n", $3, rmib * 1.048576 / t
            else printf "%s-IOPS %.0f\n", $3, ops / t
        }
        $2 == "GUEST-WORKLOAD-DONE" { done = 1 }
        END { print "workload-done", done + 0 }' "$1"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure TAG FORMAT CMD...: RUNS runs on fresh images; the image is the last argument
measure() {
    local tag=$1 fmt=$2 i; shift 2
    local img=$T/disk.$fmt
    for i in $(seq "$RUNS"); do
        if ! make_image "$fmt" "$img"; then
            echo "bench-disk: $tag run $i: kestrel-img cannot create a $fmt image" >&2
            continue
        fi
        run_once "$T/$tag.$i.log" "$@" -drive "file=$img,format=$fmt,if=virtio"
        results "$T/$tag.$i.log" > "$T/$tag.$i.res"
        if ! grep -q '^workload-done 1' "$T/$tag.$i.res"; then
            echo "bench-disk: $tag run $i did not finish; its last lines:" >&2
            tail -4 "$T/$tag.$i.log" | sed 's/^/    /' >&2
            mv "$T/$tag.$i.res" "$T/$tag.$i.failed"
        fi
    done
    rm -f "$img"
}

KESTREL_CMD=(./kestrel -accel tcg -m 512 -nographic -no-reboot -kernel "$GUEST/bzImage"
             -initrd "$T/initramfs.cpio.gz" -append "$APPEND")
QEMU_CMD=(qemu-system-x86_64 -accel tcg -cpu "$QEMU_CPU" -m 512 -nographic -no-reboot
          -kernel "$GUEST/bzImage" -initrd "$T/initramfs.cpio.gz" -append "$APPEND")
have_qemu=0
command -v qemu-system-x86_64 > /dev/null && have_qemu=1
# BENCH_DISK_QEMU=0: Kestrel only (A/B runs of two Kestrel builds)
[[ ${BENCH_DISK_QEMU:-1} == 0 ]] && have_qemu=0

echo
echo "bench-disk: virtio-blk in the Linux guest; $RUNS run(s) each; medians; $DISK_MIB MiB images from kestrel-img"
[[ $have_qemu == 1 ]] || echo "bench-disk: qemu-system-x86_64 not installed: Kestrel only"
for fmt in raw qcow2; do
    measure "kestrel-$fmt" "$fmt" "${KESTREL_CMD[@]}"
    [[ $have_qemu == 1 ]] && measure "qemu-$fmt" "$fmt" "${QEMU_CMD[@]}"
done

for tag in kestrel-raw qemu-raw kestrel-qcow2 qemu-qcow2; do
    f=$(ls "$T"/$tag.*.failed 2> /dev/null | wc -l)
    [[ $f != 0 ]] && echo "bench-disk: $tag: $f of $RUNS run(s) failed and are left out"
done
printf '%-8s %-16s %10s %10s %8s\n' image phase kestrel qemu ratio
for fmt in raw qcow2; do
    for p in seq-write-MB/s seq-read-MB/s rand-write-IOPS rand-read-IOPS; do
        k=$(cat "$T"/kestrel-$fmt.*.res 2> /dev/null | awk -v p="$p" '$1 == p { print $2 }' | median)
        q=$(cat "$T"/qemu-$fmt.*.res 2> /dev/null | awk -v p="$p" '$1 == p { print $2 }' | median)
        r=$(awk -v k="$k" -v q="$q" 'BEGIN { if (k == "-" || q == "-" || q == 0) print "-"; else printf "%.2f", k / q }')
        printf '%-8s %-16s %10s %10s %8s\n' "$fmt" "$p" "$k" "$q" "$r"
    done
done
