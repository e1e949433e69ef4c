#!/bin/bash
# The issue's end-to-end check of the x87/SSE translation: a static program
# (tests/simd/fpcheck.c: doubles, long doubles, libm, printf/strtod, qsort)
# built with the host's gcc prints the same inside a Linux guest on the
# translator as on the host. Uses the project's Linux guest (build/guest, made
# by scripts/build-linux-guest.sh; built here when missing), or
# $LINUX_GUEST_DIR.
. "$(dirname "$0")/../lib.sh"

dir=${LINUX_GUEST_DIR:-$BUILD/guest}
if [[ ! -f $dir/bzImage || ! -f $dir/initramfs.cpio.gz ]] &&
   ! scripts/build-linux-guest.sh "$dir" > "$T_TMP/build.log" 2>&1; then
    skip libm "cannot build the Linux guest from Debian packages: $(tail -1 "$T_TMP/build.log")"
    exit 0
fi
command -v gcc >/dev/null && command -v cpio >/dev/null || { skip libm "needs gcc and cpio"; exit 0; }
if ! gcc -static -O2 -o "$T_TMP/fpcheck" "$(dirname "$0")/fpcheck.c" -lm 2>"$T_TMP/cc.log"; then
    skip libm "gcc -static failed (no static libc?)"
    exit 0
fi
"$T_TMP/fpcheck" > "$T_TMP/host.txt"

# Overlay: the guest's /init runs /workload.sh; ours runs fpcheck between markers.
mkdir -p "$T_TMP/overlay"
cp "$T_TMP/fpcheck" "$T_TMP/overlay/fpcheck"
cat > "$T_TMP/overlay/workload.sh" <<'W'
echo FPCHECK-BEGIN
/fpcheck
echo FPCHECK-END
W
(cd "$T_TMP/overlay" && find . | cpio -o -H newc --quiet) > "$T_TMP/overlay.cpio"
# the kernel wants an uncompressed archive that follows a compressed one at a
# 4-byte aligned offset (zero padding is skipped)
cp "$dir/initramfs.cpio.gz" "$T_TMP/initrd"
pad=$(( (4 - $(stat -c %s "$T_TMP/initrd") % 4) % 4 ))
head -c "$pad" /dev/zero >> "$T_TMP/initrd"
cat "$T_TMP/overlay.cpio" >> "$T_TMP/initrd"

for backend in x86_64 interp; do
    [[ $backend == interp && -z ${SIMD_LINUX_INTERP:-} ]] && { skip "libm-$backend" "slow; set SIMD_LINUX_INTERP=1"; continue; }
    run_kestrel 900 -nographic -accel tcg,backend=$backend -m 512 -kernel "$dir/bzImage" -initrd "$T_TMP/initrd" \
        -append "console=ttyS0 panic=-1 quiet"
    tr -d '\r' < "$T_TMP/out" | sed -n '/^FPCHECK-BEGIN/,/^FPCHECK-END/p' | sed '1d;$d' > "$T_TMP/guest.txt"
    if [[ ! -s $T_TMP/guest.txt ]]; then
        fail "libm-$backend" "no output from the guest (rc $RC): $(tail -3 "$T_TMP/out" | tr '\n' ' ')"
        continue
    fi
    # "T" lines: x87 transcendental results (F2XM1 & co. of cpu/x86/fpu-x87-trans.c)
    for part in libm x87-transcendental; do
        if [[ $part == libm ]]; then sel='^T '; inv=-v; else sel='^T '; inv=; fi
        grep $inv "$sel" "$T_TMP/host.txt" > "$T_TMP/h.$part"
        grep $inv "$sel" "$T_TMP/guest.txt" > "$T_TMP/g.$part"
        if cmp -s "$T_TMP/h.$part" "$T_TMP/g.$part"; then
            pass "$part-$backend"
        else
            fail "$part-$backend" "$(diff "$T_TMP/h.$part" "$T_TMP/g.$part" | grep -c '^<') lines differ, first: $(diff "$T_TMP/h.$part" "$T_TMP/g.$part" | head -4 | tr '\n' ' ')"
        fi
    done
done
