#!/bin/bash
# A corpus of corrupted and truncated qcow2 images, fed to both binaries:
# kestrel-img (info, check, map, convert, a read of every byte, a write, a
# snapshot) and kestrel (the image on an IDE drive, with the bare-metal IDE
# guest reading and writing it when that guest is built).  Each must end
# with an exit status (no signal, no hang) and, when it fails, a one-line
# error naming the problem; under an ASan/UBSan build (configure
# --enable-sanitizers) no sanitizer report either.  The library-level
# checks of each message are in tests/unit/test-qcow2-corrupt.c.
. "$(dirname "$0")/../lib.sh"
K=$KESTREL_IMG
IDE_GUEST=$BUILD/tests/guest/ide.elf
cd "$T_TMP" || exit 1
if [[ ! -x $K ]]; then
    fail setup "kestrel-img not built"
    exit 0
fi

# big-endian fields
put() {     # put FILE OFFSET HEXBYTES (e.g. 00ff)
    local hex=$2 esc="" i
    hex=$3
    for ((i = 0; i < ${#hex}; i += 2)); do esc+="\\x${hex:i:2}"; done
    printf "$esc" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
get64() { od -An -tx1 -v -j "$2" -N 8 "$1" | tr -d ' \n'; }
hex64() { printf '%016x' "$1"; }
hex32() { printf '%08x' "$1"; }

# A good image with data, an L2 table and a snapshot-free refcount layout.
$K create -q -f qcow2 good.qcow2 8M
$K io good.qcow2 -c "write -P 0x5a 0 200k" -c "write -P 0x33 5M 64k" > /dev/null
L1=$((16#$(get64 good.qcow2 40)))
RT=$((16#$(get64 good.qcow2 48)))
L2=$((16#$(get64 good.qcow2 "$L1") & 16#00fffffffffffe00))
RB=$((16#$(get64 good.qcow2 "$RT")))
SIZE=$(stat -c %s good.qcow2)

mk() {      # mk NAME: a copy of the good image to corrupt
    cp good.qcow2 "$1.qcow2"
}
corpus=()
add() { corpus+=("$1"); }

mk bad_magic;         put bad_magic.qcow2 0 deadbeef;                        add bad_magic
head -c 50 good.qcow2 > truncated_header.qcow2;                              add truncated_header
head -c $((L2 + 100)) good.qcow2 > truncated_in_l2.qcow2;                    add truncated_in_l2
head -c $((SIZE / 2)) good.qcow2 > truncated_half.qcow2;                     add truncated_half
mk huge_size;         put huge_size.qcow2 24 "$(hex64 $((1 << 62)))";        add huge_size
mk huge_l1;           put huge_l1.qcow2 36 ffffffff;                         add huge_l1
mk l1_past_eof;       put l1_past_eof.qcow2 40 "$(hex64 $((1 << 40)))";       add l1_past_eof
mk l1_on_header;      put l1_on_header.qcow2 40 "$(hex64 0)";                 add l1_on_header
mk rt_past_eof;       put rt_past_eof.qcow2 48 "$(hex64 $((1 << 40)))";       add rt_past_eof
mk rt_on_header;      put rt_on_header.qcow2 48 "$(hex64 0)";                 add rt_on_header
mk rt_huge;           put rt_huge.qcow2 56 "$(hex32 100000000)";             add rt_huge
mk cluster_bits;      put cluster_bits.qcow2 20 "$(hex32 40)";               add cluster_bits
mk refcount_order;    put refcount_order.qcow2 96 "$(hex32 7)";              add refcount_order
mk ext_len;           put ext_len.qcow2 $((112 + 4)) ffffff00;               add ext_len
mk snapshots_garbage; put snapshots_garbage.qcow2 60 "$(hex32 1000)$(hex64 $((1 << 45)))"; add snapshots_garbage
mk backing_name;      put backing_name.qcow2 8 "$(hex64 $((SIZE - 4)))$(hex32 4000)"; add backing_name
# L2 loops: the L2 table is the L1 table, the refcount table, the header
mk l2_is_l1;          put l2_is_l1.qcow2 "$L1" "$(hex64 $((L1 | 1 << 63)))"; add l2_is_l1
mk l2_is_reftable;    put l2_is_reftable.qcow2 "$L1" "$(hex64 $((RT | 1 << 63)))"; add l2_is_reftable
mk l2_is_header;      put l2_is_header.qcow2 "$L1" "$(hex64 $((1 << 63)))";  add l2_is_header
# data clusters in metadata and past the end, unaligned
mk data_in_header;    put data_in_header.qcow2 "$L2" "$(hex64 $((1 << 63)))"; add data_in_header
mk data_in_l2;        put data_in_l2.qcow2 "$L2" "$(hex64 $((L2 | 1 << 63)))"; add data_in_l2
mk data_past_eof;     put data_past_eof.qcow2 "$L2" "$(hex64 $((1 << 63 | 1 << 44)))"; add data_past_eof
mk data_unaligned;    put data_unaligned.qcow2 "$L2" "$(hex64 $((1 << 63 | L2 + 512)))"; add data_unaligned
mk compressed_bad;    put compressed_bad.qcow2 "$L2" "$(hex64 $((1 << 62 | 16#3ff << 54 | SIZE - 8)))"; add compressed_bad
# refcounts: zero for used clusters, at the maximum (a snapshot overflows)
mk refcount_zero;     head -c 65536 /dev/zero | dd of=refcount_zero.qcow2 bs=1 seek="$RB" conv=notrunc status=none; add refcount_zero
mk refcount_max;      put refcount_max.qcow2 $((RB + 2 * (L2 / 65536))) ffff
                      put refcount_max.qcow2 $((RB + 2 * (L1 / 65536))) ffff; add refcount_max
mk refblock_on_l1;    put refblock_on_l1.qcow2 "$RT" "$(hex64 "$L1")";        add refblock_on_l1
mk l2_garbage;        head -c 65536 /dev/urandom | dd of=l2_garbage.qcow2 bs=1 seek="$L2" conv=notrunc status=none; add l2_garbage
mk backing_self;      $K create -q -f qcow2 -b backing_self.qcow2 -F qcow2 backing_self.qcow2 8M 2>/dev/null ||
                      { cp good.qcow2 backing_self.qcow2; }; add backing_self
head -c 1M /dev/urandom > random.qcow2; put random.qcow2 0 514649fb00000003; add random
head -c 300000 /dev/zero | tr '\0' '\377' > all_ff.qcow2;                    add all_ff

# outcome NAME WHAT STATUS ERRFILE: fail on signals, hangs and sanitizer reports
outcome() {
    local name=$1 what=$2 rc=$3 err=$4
    if ((rc == 124 || rc == 137)); then
        fail "$name" "$what hung"
        return 1
    fi
    if ((rc >= 128)); then
        fail "$name" "$what died with signal $((rc - 128)): $(head -c 300 "$err")"
        return 1
    fi
    if grep -q "AddressSanitizer\|runtime error:\|LeakSanitizer" "$err"; then
        fail "$name" "$what: sanitizer report: $(grep -m1 'ERROR\|runtime error' "$err")"
        return 1
    fi
    if ((rc != 0)) && [[ ! -s $err && ! -s out.txt ]]; then
        fail "$name" "$what failed (status $rc) without an error message"
        return 1
    fi
    return 0
}

run_img() {     # run_img NAME WHAT ARGS...
    local name=$1 what=$2; shift 2
    timeout -k 2 20 "$K" "$@" > out.txt 2> err.txt < /dev/null
    outcome "$name" "kestrel-img $what" $? err.txt
}

for c in "${corpus[@]}"; do
    f=$c.qcow2
    ok=1
    run_img "$c" info info "$f" || ok=0
    run_img "$c" info-json info --output=json "$f" || ok=0
    run_img "$c" check check "$f" || ok=0
    run_img "$c" map map "$f" || ok=0
    run_img "$c" convert convert -O raw "$f" out.raw || ok=0
    run_img "$c" read io -r "$f" -c "read 0 8M" || ok=0
    cp "$f" w.qcow2
    run_img "$c" write io w.qcow2 -c "write -P 0x11 60k 200k" -c "write -P 0x22 5M 4k" -c flush || ok=0
    cp "$f" s.qcow2
    run_img "$c" snapshot snapshot -c s1 s.qcow2 || ok=0
    cp "$f" r.qcow2
    run_img "$c" repair check -r all r.qcow2 || ok=0
    if [[ -f $IDE_GUEST ]]; then
        cp "$f" g.qcow2
        timeout -k 2 60 "$KESTREL" -nographic -no-reboot -accel tcg -kernel "$IDE_GUEST" \
            -device isa-debug-exit,iobase=0xf4,iosize=4 \
            -drive file=g.qcow2,format=qcow2,if=ide > gout.txt 2> gerr.txt < /dev/null
        grc=$?
        # a failed open is one line on stderr (besides the accelerator notice)
        if ((grc == 1)) && ! grep -q PASSED gout.txt && ((grc < 128)) &&
           [[ $(grep -vc '^kestrel: accelerator:' gerr.txt) != 1 ]] && ! grep -q . gout.txt; then
            fail "$c" "kestrel: status 1 without exactly one error line: $(head -3 gerr.txt | tr '\n' '|')"
            ok=0
        fi
        outcome "$c" kestrel $grc gerr.txt || ok=0
    fi
    ((ok)) && pass "$c"
done
[[ -f $IDE_GUEST ]] || skip kestrel "no $IDE_GUEST (make guest-tests): kestrel-img only"
exit 0
