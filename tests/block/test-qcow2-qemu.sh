#!/bin/bash
# qcow2 interoperability with qemu-img: images made by qemu read identically
# through kestrel-img; images written by kestrel-img pass 'qemu-img check'
# and compare equal with qemu.
. "$(dirname "$0")/../lib.sh"
K=$KESTREL_IMG
cd "$T_TMP" || exit 1

if [[ ! -x $K ]]; then
    fail setup "kestrel-img not built"
    exit 0
fi
if ! command -v qemu-img >/dev/null 2>&1; then
    skip all "qemu-img not installed (Debian package qemu-utils)"
    exit 0
fi
HAVE_QEMU_IO=0
command -v qemu-io >/dev/null 2>&1 && HAVE_QEMU_IO=1

qio() { qemu-io "$@" >/dev/null 2>&1; }
# same_content NAME IMG REF: kestrel-img reads IMG exactly like REF (raw)
same_content() {
    local n=$1 img=$2 ref=$3
    rm -f kout.raw
    if ! $K convert -O raw "$img" kout.raw >out.txt 2>&1; then
        fail "$n" "convert failed: $(head -1 out.txt)"; return
    fi
    if ! cmp -s kout.raw "$ref"; then
        fail "$n" "convert -O raw differs from qemu's"; return
    fi
    if ! $K compare "$img" "$ref" >out.txt 2>&1; then
        fail "$n" "kestrel-img compare: $(head -1 out.txt)"; return
    fi
    pass "$n"
}
# qemu_clean NAME IMG: qemu-img check finds nothing
qemu_clean() {
    if qemu-img check "$2" >out.txt 2>&1; then pass "$1"; else fail "$1" "qemu-img check: $(head -3 out.txt | tr '\n' ' ')"; fi
}

# ---- images made by qemu ----
if [[ $HAVE_QEMU_IO == 1 ]]; then
    qemu-img create -q -f qcow2 base.qcow2 32M
    qio -c 'write -P 1 0 1M' -c 'write -P 2 5M 100k' -c 'write -P 3 31M 1M' base.qcow2
    qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2
    qio -c 'write -P 4 512k 1M' -c 'write -z 5M 64k' -c 'write -P 5 7777 3333' mid.qcow2
    qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 40M
    qio -c 'write -P 6 30M 2M' -c 'discard 0 64k' -c 'write -P 7 39M 1M' top.qcow2
    qemu-img convert -O raw top.qcow2 top.raw
    same_content qemu_backing_chain top.qcow2 top.raw

    # a raw base under a qcow2 overlay, relative path from another directory
    mkdir -p sub
    qemu-img convert -O raw base.qcow2 sub/base.raw
    qemu-img create -q -f qcow2 -b base.raw -F raw sub/over.qcow2
    qio -c 'write -P 8 100k 200k' sub/over.qcow2
    qemu-img convert -O raw sub/over.qcow2 over.raw
    same_content qemu_raw_backing_relative sub/over.qcow2 over.raw

    # compressed (qemu-img convert -c), 64k and 4k clusters
    qemu-img convert -c -O qcow2 top.qcow2 comp.qcow2
    same_content qemu_compressed comp.qcow2 top.raw
    qemu-img convert -c -O qcow2 -o cluster_size=4k top.qcow2 comp4k.qcow2
    same_content qemu_compressed_4k comp4k.qcow2 top.raw

    # v2 (compat=0.10), odd cluster sizes and refcount widths
    qemu-img convert -O qcow2 -o compat=0.10 top.qcow2 v2.qcow2
    same_content qemu_v2 v2.qcow2 top.raw
    qemu-img convert -O qcow2 -o cluster_size=512,refcount_bits=1 top.qcow2 rc1.qcow2
    same_content qemu_cs512_refcount1 rc1.qcow2 top.raw
    qemu-img convert -O qcow2 -o cluster_size=2M,refcount_bits=64 top.qcow2 rc64.qcow2
    same_content qemu_cs2M_refcount64 rc64.qcow2 top.raw

    # internal snapshots made by qemu
    cp v2.qcow2 snapq.qcow2
    qemu-img snapshot -c before snapq.qcow2
    qio -c 'write -P 9 0 2M' snapq.qcow2
    qemu-img convert -O raw snapq.qcow2 snapq-now.raw
    same_content qemu_snapshot_current snapq.qcow2 snapq-now.raw
    if $K snapshot -l snapq.qcow2 | grep -q before; then pass qemu_snapshot_list; else fail qemu_snapshot_list "snapshot not listed"; fi
    cp snapq.qcow2 snapq2.qcow2
    if $K snapshot -a before snapq2.qcow2; then
        same_content qemu_snapshot_apply snapq2.qcow2 top.raw
        qemu_clean qemu_snapshot_apply_check snapq2.qcow2
    else
        fail qemu_snapshot_apply "kestrel-img snapshot -a failed"
    fi
    # kestrel-img writes into a qemu image with snapshots
    $K io snapq.qcow2 -c 'write -P 10 1M 3M' -c 'discard 8M 2M' >/dev/null
    qemu_clean kestrel_writes_qemu_snapshot_image snapq.qcow2
    $K snapshot -d before snapq.qcow2
    qemu_clean kestrel_delete_qemu_snapshot snapq.qcow2

    # map and info agree with qemu-img
    if diff <($K map --output=json top.qcow2) <(qemu-img map --output=json top.qcow2) >out.txt; then
        pass map_json_matches_qemu
    else
        fail map_json_matches_qemu "$(head -4 out.txt | tr '\n' ' ')"
    fi
    if diff <($K map top.qcow2 | sed 's/ *$//') <(qemu-img map top.qcow2 | sed 's/ *$//') >out.txt; then
        pass map_human_matches_qemu
    else
        fail map_human_matches_qemu "$(head -4 out.txt | tr '\n' ' ')"
    fi
    if diff <($K info top.qcow2 | grep -v '^disk size') <(qemu-img info top.qcow2 | grep -v '^disk size') >out.txt; then
        pass info_matches_qemu
    else
        fail info_matches_qemu "$(head -4 out.txt | tr '\n' ' ')"
    fi
    if $K info --output=json top.qcow2 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["virtual-size"]==40<<20 and d["backing-filename"]=="mid.qcow2"' 2>/dev/null; then
        pass info_json
    else
        fail info_json "bad JSON"
    fi
else
    skip qemu_made_images "qemu-io not installed"
fi

# ---- images written by kestrel-img ----
for opts in "" "-o compat=0.10" "-o cluster_size=512" "-o cluster_size=4k,refcount_bits=1" "-o cluster_size=2M,refcount_bits=64" "-o refcount_bits=8"; do
    n=kestrel_create_write${opts//[^a-z0-9]/_}
    rm -f k.qcow2 k.raw
    $K create -q -f qcow2 $opts k.qcow2 24M
    $K create -q -f raw k.raw 24M
    $K io k.qcow2 -c 'randwrite 11 400 100 300k' >/dev/null
    $K io k.raw -c 'randwrite 11 400 100 300k' >/dev/null
    if ! qemu-img check k.qcow2 >out.txt 2>&1; then
        fail "$n" "qemu-img check: $(head -3 out.txt | tr '\n' ' ')"
    elif ! qemu-img compare -q k.qcow2 k.raw; then
        fail "$n" "qemu-img compare differs"
    else
        pass "$n"
    fi
done

# backing chain written by kestrel-img
rm -f kb.qcow2 ko.qcow2
$K create -q kb.qcow2 16M && $K io kb.qcow2 -c 'write -P 1 0 8M' >/dev/null
$K create -q -b kb.qcow2 -F qcow2 ko.qcow2 20M
$K io ko.qcow2 -c 'write -P 2 1000 5000' -c 'write -z 2M 1M' -c 'discard 4M 1M' -c 'write -P 3 17M 1M' >/dev/null
qemu-img convert -O raw ko.qcow2 ko.raw
qemu_clean kestrel_overlay_check ko.qcow2
if qemu-img compare -q ko.qcow2 ko.raw && $K compare ko.qcow2 ko.raw >/dev/null; then pass kestrel_overlay_content; else fail kestrel_overlay_content "differs"; fi

# snapshots written by kestrel-img, read by qemu
cp ko.qcow2 ks.qcow2
$K snapshot -c s1 ks.qcow2
$K io ks.qcow2 -c 'write -P 4 0 4M' >/dev/null
$K snapshot -c s2 ks.qcow2
$K io ks.qcow2 -c 'write -P 5 3M 2M' >/dev/null
qemu_clean kestrel_snapshots_check ks.qcow2
if qemu-img snapshot -l ks.qcow2 | grep -q s2; then pass kestrel_snapshots_listed_by_qemu; else fail kestrel_snapshots_listed_by_qemu "missing"; fi
rm -f s1.raw
if qemu-img convert -l s1 -O raw ks.qcow2 s1.raw 2>/dev/null && cmp -s s1.raw ko.raw; then
    pass kestrel_snapshot_read_by_qemu
else
    fail kestrel_snapshot_read_by_qemu "snapshot s1 content differs"
fi
$K snapshot -a s1 ks.qcow2 && qemu_clean kestrel_snapshot_apply_check ks.qcow2
if qemu-img compare -q ks.qcow2 ko.raw; then pass kestrel_snapshot_apply_content; else fail kestrel_snapshot_apply_content "differs"; fi
$K snapshot -d s1 ks.qcow2 && $K snapshot -d s2 ks.qcow2 && qemu_clean kestrel_snapshot_delete_check ks.qcow2

# convert (plain and compressed) and resize
$K convert -O qcow2 ko.qcow2 conv.qcow2
qemu_clean kestrel_convert_check conv.qcow2
if qemu-img compare -q conv.qcow2 ko.raw; then pass kestrel_convert_content; else fail kestrel_convert_content "differs"; fi
$K convert -c -O qcow2 ko.qcow2 convc.qcow2
qemu_clean kestrel_convert_compressed_check convc.qcow2
if qemu-img compare -q convc.qcow2 ko.raw; then pass kestrel_convert_compressed_content; else fail kestrel_convert_compressed_content "differs"; fi
if [[ $(stat -c %s convc.qcow2) -lt $(stat -c %s conv.qcow2) ]]; then pass convert_compressed_smaller; else fail convert_compressed_smaller "not smaller"; fi
$K convert -O qcow2 -o compat=0.10,cluster_size=4k ko.qcow2 convv2.qcow2
if qemu-img check -q convv2.qcow2 && qemu-img compare -q convv2.qcow2 ko.raw && qemu-img info convv2.qcow2 | grep -q 'compat: 0.10'; then
    pass kestrel_convert_v2
else
    fail kestrel_convert_v2 "check/compare failed"
fi
cp conv.qcow2 rs.qcow2
$K resize -q rs.qcow2 +3G
$K io rs.qcow2 -c 'write -P 6 3G 1M' >/dev/null
if qemu-img check -q rs.qcow2 && [[ $(qemu-img info --output=json rs.qcow2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])') == $((20*1024*1024 + 3*1024*1024*1024)) ]] && \
   qemu-io -r -c 'read -P 6 3G 1M' rs.qcow2 2>/dev/null | grep -q '^read'; then
    pass kestrel_resize_grow
else
    fail kestrel_resize_grow "check/size/content"
fi
if ! $K resize -q rs.qcow2 1M 2>/dev/null; then pass qcow2_shrink_refused; else fail qcow2_shrink_refused "shrink accepted"; fi

# commit
rm -f cb.qcow2 co.qcow2
$K create -q cb.qcow2 16M && $K io cb.qcow2 -c 'write -P 1 0 4M' >/dev/null
$K create -q -b cb.qcow2 co.qcow2
$K io co.qcow2 -c 'write -P 2 1M 1M' -c 'write -z 3M 64k' -c 'write -P 5 10M 100' >/dev/null
qemu-img convert -O raw co.qcow2 co.raw
if $K commit -q co.qcow2 && qemu-img check -q cb.qcow2 && qemu-img check -q co.qcow2 && \
   qemu-img compare -q cb.qcow2 co.raw && qemu-img compare -q co.qcow2 co.raw && \
   [[ $(qemu-img map --output=json co.qcow2 | grep -c '"depth": 0, "present": true') == 0 ]]; then
    pass kestrel_commit
else
    fail kestrel_commit "check/compare/map after commit"
fi

# compare exit codes like qemu-img
$K compare ko.qcow2 ko.raw >/dev/null; r1=$?
$K compare ko.qcow2 kb.qcow2 >/dev/null; r2=$?
$K compare ko.qcow2 /nonexistent >/dev/null 2>&1; r3=$?
if [[ $r1 == 0 && $r2 == 1 && $r3 == 2 ]]; then pass compare_exit_codes; else fail compare_exit_codes "$r1 $r2 $r3"; fi

# ---- check exit codes on damaged images ----
rm -f c.qcow2
$K create -q c.qcow2 8M && $K io c.qcow2 -c 'write -P 1 0 1M' -c flush -c 'discard 512k 64k' >/dev/null
$K check c.qcow2 >/dev/null; r0=$?
cp c.qcow2 leak.qcow2
# refcount block is cluster 2 (16-bit entries): mark the discarded cluster
# 13 (data of 512k..576k) used again
printf '\x00\x01' | dd of=leak.qcow2 bs=1 seek=$((2*65536 + 26)) conv=notrunc status=none
$K check leak.qcow2 >/dev/null; r3=$?
qemu-img check leak.qcow2 >/dev/null 2>&1; q3=$?
cp c.qcow2 bad.qcow2
# refcount of the first data cluster (5) -> 0
printf '\x00\x00' | dd of=bad.qcow2 bs=1 seek=$((2*65536 + 10)) conv=notrunc status=none
$K check bad.qcow2 >/dev/null; r2=$?
qemu-img check bad.qcow2 >/dev/null 2>&1; q2=$?
printf 'XXXX' | dd of=bad.qcow2 bs=1 seek=0 conv=notrunc status=none
$K check -f qcow2 bad.qcow2 >/dev/null 2>&1; r1=$?
if [[ "$r0 $r3 $r2 $r1" == "0 3 2 1" && $q3 == 3 && $q2 == 2 ]]; then
    pass check_exit_codes
else
    fail check_exit_codes "kestrel: clean=$r0 leak=$r3 corrupt=$r2 unreadable=$r1, qemu: leak=$q3 corrupt=$q2"
fi
$K check -r leaks leak.qcow2 >/dev/null; a=$?
$K check leak.qcow2 >/dev/null; b=$?
if [[ $a == 0 && $b == 0 ]] && qemu-img check -q leak.qcow2; then pass check_repair_leaks; else fail check_repair_leaks "$a $b"; fi
cp c.qcow2 bad2.qcow2
printf '\x00\x00' | dd of=bad2.qcow2 bs=1 seek=$((2*65536 + 10)) conv=notrunc status=none
$K check -r all bad2.qcow2 >/dev/null; a=$?
if [[ $a == 0 ]] && qemu-img check -q bad2.qcow2 && qemu-img compare -q bad2.qcow2 c.qcow2; then pass check_repair_all; else fail check_repair_all "rc=$a"; fi
if $K check --output=json leak.qcow2 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["check-errors"]==0' 2>/dev/null; then
    pass check_json
else
    fail check_json "bad JSON"
fi
exit 0
