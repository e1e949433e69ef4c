#!/bin/bash
# Disks inside the Linux guest (the GUEST_MODULES=1 build: ata_piix,
# virtio_blk, sr_mod, ext4, isofs): /dev/sda on IDE (raw image) and /dev/vda
# on virtio-blk (qcow2 made by kestrel-img) are partitioned with busybox
# fdisk, formatted with mke2fs, written, and read back after the guest
# reboots with matching checksums; an ISO on -cdrom reads as on the host;
# afterwards qemu-img finds the qcow2 clean.
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

truncate -s 64M "$T_TMP/ide.raw"
"$KESTREL_IMG" create -q -f qcow2 "$T_TMP/vd.qcow2" 64M > /dev/null
mkdir -p "$T_TMP/iso"
head -c 300000 /dev/urandom > "$T_TMP/iso/data.bin"
genisoimage -quiet -R -o "$T_TMP/cd.iso" "$T_TMP/iso" 2> /dev/null
ISO_MD5=$(md5sum < "$T_TMP/iso/data.bin" | cut -d' ' -f1)
DISKS=(-drive "file=$T_TMP/ide.raw,format=raw,if=ide" -drive "file=$T_TMP/vd.qcow2,format=qcow2,if=virtio"
       -cdrom "$T_TMP/cd.iso")

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
if command -v qemu-img > /dev/null; then
    check qcow2_checks_clean qemu-img check -q "$T_TMP/vd.qcow2"
else
    check qcow2_checks_clean "$KESTREL_IMG" check -q "$T_TMP/vd.qcow2"
fi
