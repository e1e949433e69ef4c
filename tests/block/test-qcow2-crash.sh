#!/bin/bash
# Crash consistency: 'kestrel-img io -c randwrite' does random writes,
# write-zeroes and discards with a flush every F requests (printing
# 'flushed N'), and is SIGKILLed at a random moment, CRASH_ROUNDS (30)
# times in a row on the same image (two cluster sizes).  After every kill:
#   - kestrel-img check and qemu-img check find no corruption; leaked
#     clusters are allowed only while the dirty bit is set (the writer sets
#     it, synced, before its metadata reaches the disk and clears it after
#     a complete flush; see block/qcow2-dirty.c), and kestrel-img check
#     then says the image is dirty;
#   - every request acknowledged before the last completed flush is in the
#     image (randverify replays the request stream on a copy of the
#     previous content; only the requests after that flush may be missing);
#   - reopening the image read-write with Kestrel repairs it: afterwards
#     qemu-img check and kestrel-img check report no leak at all and the
#     dirty bit is clear.
# Half of the rounds submit the requests through the asynchronous API
# with several in flight at once (-q 8), as the guest devices do.
. "$(dirname "$0")/../lib.sh"
K=$KESTREL_IMG
cd "$T_TMP" || exit 1
if [[ ! -x $K ]]; then
    fail setup "kestrel-img not built"
    exit 0
fi
HAVE_QEMU=0
command -v qemu-img >/dev/null 2>&1 && HAVE_QEMU=1
[[ $HAVE_QEMU == 0 ]] && skip qemu_img_check "qemu-img not installed (Debian package qemu-utils): checking with kestrel-img only"

ROUNDS=${CRASH_ROUNDS:-30}
F=16
dirty_kills=0
bad=0

is_dirty() { $K info --output=json "$1" | grep -q '"dirty-flag": true'; }

# check_image NAME IMG ALLOW_LEAKS: both checkers; prints the worst code
check_image() {
    local krc qrc=0
    $K check "$2" > check.txt 2>&1
    krc=$?
    if [[ $HAVE_QEMU == 1 ]]; then
        qemu-img check "$2" > qcheck.txt 2>&1
        qrc=$?
    fi
    if [[ $krc == 3 || $qrc == 3 ]] && [[ $3 != leaks ]]; then
        fail "$1" "leaked clusters: kestrel-img=$krc qemu-img=$qrc"
        return 1
    fi
    if [[ $krc != 0 && $krc != 3 ]] || [[ $qrc != 0 && $qrc != 3 ]]; then
        fail "$1" "check: kestrel-img=$krc qemu-img=$qrc: $(grep -m2 -i error check.txt qcheck.txt 2>/dev/null | tr '\n' ' ')"
        return 1
    fi
    [[ $krc == 3 || $qrc == 3 ]] && return 3
    return 0
}

for cs in 65536 4096; do
    img=crash-$cs.qcow2
    rm -f "$img"
    $K create -q -f qcow2 -o cluster_size=$cs "$img" 24M
    for ((r = 1; r <= ROUNDS / 2; r++)); do
        name="round_${cs}_$r"
        seed=$((cs + r * 7919))
        qd=1
        ((r % 2 == 0)) && qd=8
        $K convert -O raw "$img" base.raw
        $K io "$img" -c "randwrite -q $qd $seed 0 $F 200k" > log.txt 2> err.txt &
        pid=$!
        # 20..400 ms, then SIGKILL
        sleep "0.$(printf '%03d' $((RANDOM % 380 + 20)))"
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
        n=$(grep '^flushed ' log.txt | tail -1 | cut -d' ' -f2)
        n=${n:-0}
        if grep -q . err.txt; then
            fail "$name" "writer reported an error: $(head -1 err.txt)"
            bad=$((bad + 1))
            continue
        fi
        check_image "$name" "$img" leaks
        crc=$?
        if [[ $crc == 1 ]]; then
            bad=$((bad + 1))
            cp "$img" "$TOP/crash-failed-$name.qcow2" 2>/dev/null
            break
        fi
        if [[ $crc == 3 ]]; then
            dirty_kills=$((dirty_kills + 1))
            if ! is_dirty "$img"; then
                fail "$name" "leaked clusters but the dirty bit is clear"
                bad=$((bad + 1))
                break
            fi
            if ! grep -q 'marked dirty' check.txt; then
                fail "$name" "kestrel-img check does not say the image is dirty"
                bad=$((bad + 1))
                break
            fi
        fi
        if ! $K io -r "$img" -c "randverify -q $qd $seed $F $n base.raw 200k" > verify.txt 2>&1; then
            fail "$name" "data lost after $n flushed requests: $(head -1 verify.txt)"
            bad=$((bad + 1))
            break
        fi
        # a read-write open repairs a dirty image; then it is clean
        if ! $K io "$img" -c "read 0 512" > /dev/null 2>&1; then
            fail "$name" "reopen failed"
            bad=$((bad + 1))
            break
        fi
        if ! check_image "$name" "$img" noleaks; then
            bad=$((bad + 1))
            break
        fi
        if is_dirty "$img"; then
            fail "$name" "still marked dirty after Kestrel reopened it"
            bad=$((bad + 1))
            break
        fi
        pass "$name"
        echo "# $name (queue depth $qd): $n requests flushed before the kill"
    done
done
echo "# $dirty_kills of $ROUNDS kills left a dirty image with leaks (repaired on reopen), $bad failures"
exit 0
