#!/bin/bash
# Disks inside the Linux guest (the GUEST_MODULES=1 build: ata_piix,
# virtio_blk, sr_mod, ext4, isofs): /dev/sda on IDE (raw image) and /dev/vda
# on virtio-blk (qcow2 made by kestrel-img) are partitioned with busybox
# fdisk, formatted with mke2fs, written, and read back after the guest
# reboots with matching checksums; an ISO on -cdrom reads as on the host;
# afterwards qemu-img finds the qcow2 clean.  /dev/vdb (qcow2) takes
# discards (busybox blkdiscard) and write-zeroes (BLKZEROOUT from a small
# static helper appended to the initramfs): the ranges read back as zeroes
# and are deallocated in the image.  /dev/vdc is a qemu-made backing chain
# of depth 3 (compressed base, internal snapshot in the middle layer) that
# must read in the guest exactly as 'qemu-img convert' reads it.
source tests/lib.sh
source tests/linux/shell-lib.sh
GUEST=${GUEST_MODULES_DIR:-$BUILD/guest-modules}
TIMEOUT=${LINUX_TIMEOUT:-900}

if [[ ! -s $GUEST/bzImage ]]; then
    if ! GUEST_MODULES=1 scripts/build-linux-guest.sh "$GUEST" > "$T_TMP/build.log" 2>&1; then
        skip build "cannot build the Linux guest with modules: $(tail -1 "$T_TMP/build.log")"
        exit 0
    fi
fi
if ! command -v genisoimage > /dev/null; then
    skip disks "genisoimage not installed (Debian package genisoimage)"
    exit 0
fi
KERNEL=(-kernel "$GUEST/bzImage" -initrd "$GUEST/initramfs.cpio.gz")
APPEND_EXTRA="guest.modules=1"

# /zeroout OFFSET LENGTH DEVICE: the BLKZEROOUT ioctl (busybox has no tool
# for it), in a second cpio archive after the guest's initramfs
HAVE_ZEROOUT=0
mkdir -p "$T_TMP/extra"
cat > "$T_TMP/zeroout.c" <<'EOF_C'
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    uint64_t range[2] = { strtoull(argv[1], 0, 0), strtoull(argv[2], 0, 0) };
    int fd = open(argv[3], O_RDWR);
    if (fd < 0 || ioctl(fd, BLKZEROOUT, range) < 0) {
        perror("zeroout");
        return 1;
    }
    return 0;
}
EOF_C
if "${CC:-cc}" -static -O2 -o "$T_TMP/extra/zeroout" "$T_TMP/zeroout.c" 2> /dev/null &&
   command -v cpio > /dev/null && command -v gzip > /dev/null; then
    (cd "$T_TMP/extra" && echo zeroout | cpio -o -H newc -R 0:0 --quiet | gzip) > "$T_TMP/extra.cpio.gz" &&
        cat "$GUEST/initramfs.cpio.gz" "$T_TMP/extra.cpio.gz" > "$T_TMP/initramfs.cpio.gz" &&
        KERNEL=(-kernel "$GUEST/bzImage" -initrd "$T_TMP/initramfs.cpio.gz") && HAVE_ZEROOUT=1
fi

truncate -s 64M "$T_TMP/ide.raw"
"$KESTREL_IMG" create -q -f qcow2 "$T_TMP/vd.qcow2" 64M > /dev/null
mkdir -p "$T_TMP/iso"
head -c 300000 /dev/urandom > "$T_TMP/iso/data.bin"
genisoimage -quiet -R -o "$T_TMP/cd.iso" "$T_TMP/iso" 2> /dev/null
ISO_MD5=$(md5sum < "$T_TMP/iso/data.bin" | cut -d' ' -f1)
"$KESTREL_IMG" create -q -f qcow2 "$T_TMP/trim.qcow2" 32M > /dev/null
DISKS=(-drive "file=$T_TMP/ide.raw,format=raw,if=ide" -drive "file=$T_TMP/vd.qcow2,format=qcow2,if=virtio"
       -drive "file=$T_TMP/trim.qcow2,format=qcow2,if=virtio" -cdrom "$T_TMP/cd.iso")

# a chain made by qemu: compressed base <- mid (snapshot s1) <- top
CHAIN_MD5=""
if command -v qemu-img > /dev/null && command -v qemu-io > /dev/null; then
    (cd "$T_TMP" &&
     qemu-img create -q -f qcow2 b0.qcow2 16M &&
     qemu-io -c 'write -P 0x11 0 4M' -c 'write -P 0x12 9M 1M' b0.qcow2 > /dev/null &&
     qemu-img convert -c -O qcow2 b0.qcow2 base.qcow2 &&
     qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2 &&
     qemu-io -c 'write -P 0x21 1M 1M' mid.qcow2 > /dev/null &&
     qemu-img snapshot -c s1 mid.qcow2 &&
     qemu-io -c 'write -P 0x22 2M 512k' -c 'write -z 9M 64k' mid.qcow2 > /dev/null &&
     qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 &&
     qemu-io -c 'write -P 0x31 3M 100k' -c 'discard 0 64k' top.qcow2 > /dev/null &&
     qemu-img convert -O raw top.qcow2 top.raw) &&
        CHAIN_MD5=$(md5sum < "$T_TMP/top.raw" | cut -d' ' -f1)
fi
if [[ -n $CHAIN_MD5 ]]; then
    DISKS+=(-drive "file=$T_TMP/top.qcow2,format=qcow2,if=virtio,readonly=on")
else
    skip qemu_chain_in_guest "qemu-img/qemu-io (Debian package qemu-utils) not installed or failed"
fi

# prepare DEV NAME: partition, format, fill a file, record its checksum
prepare() {
    say "printf 'n\\\\np\\\\n1\\\\n\\\\n\\\\nw\\\\n' | fdisk $1 > /dev/null 2>&1; echo fdisk-$2 \$?\n"
    say "mke2fs -q ${1}1 && mkdir -p /mnt/$2 && mount ${1}1 /mnt/$2 && echo mounted-$2\n"
    say "dd if=/dev/urandom of=/mnt/$2/f bs=1k count=700 2>/dev/null; md5sum /mnt/$2/f | sed 's/^/sum1-$2 /'; umount /mnt/$2; echo done-$2\n"
}

shell_start -m 384 "${DISKS[@]}"
if ! waitfor 'Busybox shell' 300; then
    shell_abort
    fail boot "no shell: $(shell_tail 5)"
    exit 0
fi
sleep 2
for d in sda vda; do
    prepare /dev/$d $d
    waitfor "^done-$d" 120 || { fail prepare_$d "$(shell_tail 5)"; }
done
grep -q 'fdisk-sda 0' "$T_TMP/out" && grep -q 'mounted-sda' "$T_TMP/out" && pass ide_partition_format ||
    fail ide_partition_format "$(grep -E 'fdisk-sda|mounted-sda' "$T_TMP/out" | tr '\n' '|')"
grep -q 'fdisk-vda 0' "$T_TMP/out" && grep -q 'mounted-vda' "$T_TMP/out" && pass virtio_partition_format ||
    fail virtio_partition_format "$(grep -E 'fdisk-vda|mounted-vda' "$T_TMP/out" | tr '\n' '|')"
say "mkdir -p /cdrom && mount -t iso9660 -o ro /dev/sr0 /cdrom && md5sum /cdrom/data.bin | sed 's/^/iso /'\n"
if waitfor "^iso $ISO_MD5" 60; then pass cdrom_reads; else fail cdrom_reads "$(shell_tail 3)"; fi
# discard and write-zeroes on vdb: 8 MiB of data, then [0, 4M) discarded
# and [4M, 6M) zeroed out; the first 6 MiB must read as zeroes
ZERO6_MD5=$(head -c $((6 << 20)) /dev/zero | md5sum | cut -d' ' -f1)
say "dd if=/dev/urandom of=/dev/vdb bs=1M count=8 2>/dev/null; sync; blkdiscard -o 0 -l 4194304 /dev/vdb; echo discard-rc \$?\n"
waitfor '^discard-rc' 60
grep -q 'discard-rc 0' "$T_TMP/out" && pass virtio_discard_accepted || fail virtio_discard_accepted "$(shell_tail 3)"
if [[ $HAVE_ZEROOUT == 1 ]]; then
    say "/zeroout 4194304 2097152 /dev/vdb; echo zeroout-rc \$?\n"
    waitfor '^zeroout-rc' 60
    grep -q 'zeroout-rc 0' "$T_TMP/out" && pass virtio_write_zeroes_accepted || fail virtio_write_zeroes_accepted "$(shell_tail 3)"
    ZERO_LEN=6
else
    skip virtio_write_zeroes "cannot build a static helper for BLKZEROOUT (needs cc -static, cpio, gzip)"
    ZERO_LEN=4
    ZERO6_MD5=$(head -c $((4 << 20)) /dev/zero | md5sum | cut -d' ' -f1)
fi
say "dd if=/dev/vdb bs=1M count=$ZERO_LEN iflag=direct 2>/dev/null | md5sum | sed 's/^/zeroed /'\n"
if waitfor "^zeroed $ZERO6_MD5" 60; then pass virtio_discarded_reads_zero; else fail virtio_discarded_reads_zero "$(shell_tail 3)"; fi
if [[ -n $CHAIN_MD5 ]]; then
    say "md5sum /dev/vdc | sed 's/^/chain /'\n"
    if waitfor "^chain $CHAIN_MD5" 120; then pass qemu_chain_in_guest; else fail qemu_chain_in_guest "$(shell_tail 3)"; fi
fi
say 'sync; reboot\n'
if ! waitfor 'Busybox shell' 300 2; then
    shell_abort
    fail reboot "no second boot: $(shell_tail 5)"
    exit 0
fi
sleep 2
for d in sda vda; do
    say "mkdir -p /mnt/$d && mount /dev/${d}1 /mnt/$d && md5sum /mnt/$d/f | sed 's/^/sum2-$d /'\n"
    waitfor "^sum2-$d " 60
    s1=$(tr -d '\r' < "$T_TMP/out" | grep "^sum1-$d " | awk '{print $2}')
    s2=$(tr -d '\r' < "$T_TMP/out" | grep "^sum2-$d " | awk '{print $2}')
    if [[ -n $s1 && $s1 == "$s2" ]]; then pass "${d}_data_survives_reboot"; else fail "${d}_data_survives_reboot" "'$s1' vs '$s2'"; fi
done
say 'umount /mnt/sda /mnt/vda; poweroff\n'
shell_end 0 poweroff
CHECKER=("$KESTREL_IMG")
command -v qemu-img > /dev/null && CHECKER=(qemu-img)
check qcow2_checks_clean "${CHECKER[@]}" check -q "$T_TMP/vd.qcow2"
check trim_qcow2_checks_clean "${CHECKER[@]}" check -q "$T_TMP/trim.qcow2"
# the discarded and zeroed ranges hold no data clusters any more
"$KESTREL_IMG" map --output=json "$T_TMP/trim.qcow2" > "$T_TMP/map.json"
if awk -v end=$((ZERO_LEN << 20)) '
        match($0, /"start": *[0-9]+/) { s = substr($0, RSTART, RLENGTH); sub(/.*: */, "", s) }
        /"data": *true/ && s + 0 < end { bad = 1 }
        END { exit bad }' "$T_TMP/map.json"; then
    pass trim_ranges_deallocated
else
    fail trim_ranges_deallocated "$(head -3 "$T_TMP/map.json" | tr '\n' ' ')"
fi
