#!/bin/bash
# Crash consistency: 'kestrel-img io -c randwrite' does random writes,
# write-zeroes and discards with a flush every F requests (printing
# 'flushed N'), and is SIGKILLed at a random moment, 30 times in a row on
# the same image.  After every kill:
#   - kestrel-img check and qemu-img check find no corruption;
#   - every request acknowledged before the last completed flush is in the
#     image (randverify replays the request stream on a copy of the
#     previous content; only the requests after that flush may be missing).
# Leaked clusters are allowed but counted: a kill inside a flush, between
# writing the refcounts and writing the L2 tables, can leak clusters (never
# lose data); they are repaired with 'check -r leaks' before the next round.
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
leaky=0
bad=0
for cs in 65536 4096; do
    img=crash-$cs.qcow2
    rm -f "$img"
    $K create -q -f qcow2 -o cluster_size=$cs "$img" 24M
    for ((r = 1; r <= ROUNDS / 2; r++)); do
        name="round_${cs}_$r"
        seed=$((cs + r * 7919))
        $K convert -O raw "$img" base.raw
        $K io "$img" -c "randwrite $seed 0 $F 200k" > log.txt 2> err.txt &
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
        $K check "$img" > check.txt 2>&1
        krc=$?
        qrc=0
        if [[ $HAVE_QEMU == 1 ]]; then
            qemu-img check "$img" > qcheck.txt 2>&1
            qrc=$?
        fi
        if [[ $krc != 0 && $krc != 3 ]] || [[ $qrc != 0 && $qrc != 3 ]]; then
            fail "$name" "check after kill: kestrel-img=$krc qemu-img=$qrc: $(grep -m2 -i error check.txt qcheck.txt 2>/dev/null | tr '\n' ' ')"
            bad=$((bad + 1))
            cp "$img" "$TOP/crash-failed-$name.qcow2" 2>/dev/null
            break
        fi
        if ! $K io -r "$img" -c "randverify $seed $F $n base.raw 200k" > verify.txt 2>&1; then
            fail "$name" "data lost after $n flushed requests: $(head -1 verify.txt)"
            bad=$((bad + 1))
            break
        fi
        if [[ $krc == 3 || $qrc == 3 ]]; then
            leaky=$((leaky + 1))
            $K check -q -r leaks "$img"
            if ! $K check "$img" >/dev/null 2>&1; then
                fail "$name" "leaks not repaired"
                bad=$((bad + 1))
                break
            fi
        fi
        pass "$name"
        echo "# $name: $n requests flushed before the kill${leaky:+, rounds with leaks so far: $leaky}"
    done
done
echo "# $leaky of $ROUNDS kills left leaked clusters (repaired), $bad failures"
exit 0
