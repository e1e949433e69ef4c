#!/bin/bash
# build-linux-guest.sh [OUTDIR]
#
# (Re)creates a small, reproducible Linux guest from Debian packages only:
#   OUTDIR/bzImage            Debian's stock kernel (vmlinuz from linux-image-<abi>-amd64)
#   OUTDIR/initramfs.cpio.gz  busybox-static + Debian xz/openssl (with their shared
#                             libraries) + /init + /workload.sh (fixed CPU workload)
#   OUTDIR/rootfs/            the unpacked initramfs tree (used for host-side verification:
#                             `chroot OUTDIR/rootfs /bin/sh /workload.sh`)
#   OUTDIR/MANIFEST.txt       package versions and sha256 of the outputs
#   OUTDIR/debs/              downloaded .deb cache (reused on re-runs)
#
# Default OUTDIR is build/guest (make guest). The project keeps its own copy of this
# script so users need nothing outside the tree. Needs: apt-get, apt-cache, dpkg-deb, cpio, gzip (all Debian).
# Environment overrides:
#   KERNEL_PKG=linux-image-6.1.0-56-amd64   pin the kernel package (default: what
#                                           linux-image-amd64 currently depends on)
#   GUEST_DEB_CACHE=/path                   where to keep downloaded .debs
#   SOURCE_DATE_EPOCH=0                     mtime used for every file in the cpio archive
#   GUEST_MODULES=1                         also ship the kernel modules for disks, CD-ROM,
#                                           network and ext4 (ata_piix, virtio_blk, virtio_net,
#                                           e1000, sr_mod, ext4, isofs, ...) with modules.dep
#
# The kernel command line chooses what /init does:
#   (default)          run /workload.sh, print its results, power off
#   guest.mode=shell   load the modules (if shipped), start an interactive shell on the
#                      console; leaving the shell powers off
#   guest.modules=1    load the modules before the workload
# Idempotent: re-running with the same package versions gives byte-identical outputs.
set -euo pipefail

OUT=$(realpath -m "${1:-build/guest}")
CACHE=$(realpath -m "${GUEST_DEB_CACHE:-$OUT/debs}")
EPOCH=${SOURCE_DATE_EPOCH:-0}
export LC_ALL=C

die() { echo "build-linux-guest: $*" >&2; exit 1; }
if ! command -v cpio >/dev/null && [[ $(id -u) == 0 ]]; then
    apt-get install -y -qq cpio >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq cpio >/dev/null; } ||
        die "cannot install cpio"
fi
for t in apt-get apt-cache dpkg-deb cpio gzip sha256sum; do
    command -v "$t" >/dev/null || die "missing tool: $t (Debian package: ${t/sha256sum/coreutils})"
done

resolve_kernel() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
if [[ -z ${KERNEL_PKG:-} ]]; then
    KERNEL_PKG=$(resolve_kernel)
    if [[ -z $KERNEL_PKG && $(id -u) == 0 ]]; then   # a fresh machine has no package lists yet
        apt-get update -qq >/dev/null 2>&1 || true
        KERNEL_PKG=$(resolve_kernel)
    fi
    [[ -n $KERNEL_PKG ]] || die "cannot resolve linux-image-amd64 (run apt-get update)"
fi
PKGS=("$KERNEL_PKG" busybox-static libc6 xz-utils liblzma5 openssl libssl3)

# ---- 1. download (only what is not cached yet) -------------------------------------
mkdir -p "$CACHE" "$OUT"
declare -A DEB VER
while read -r p v; do
    [[ -n ${VER[$p]:-} ]] || VER[$p]=$v
done < <(apt-cache show --no-all-versions "${PKGS[@]}" 2>/dev/null |
    awk '/^Package: /{p=$2} /^Version: /{print p, $2}')
for p in "${PKGS[@]}"; do
    v=${VER[$p]:-}
    [[ -n $v ]] || die "package not found: $p"
    pat="${p}_${v//:/%3a}_"
    f=$(find "$CACHE" -maxdepth 1 -name "${pat}*.deb" -print -quit)
    if [[ -z $f ]]; then
        (cd "$CACHE" && apt-get download -qq -o APT::Sandbox::User=root "$p=$v" >/dev/null) ||
            die "apt-get download $p=$v failed"
        f=$(find "$CACHE" -maxdepth 1 -name "${pat}*.deb" -print -quit)
        [[ -n $f ]] || die "downloaded .deb for $p not found"
    fi
    DEB[$p]=$f
done

# ---- 2. unpack packages into a scratch tree ----------------------------------------
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/build-linux-guest.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
PKGROOT=$SCRATCH/pkgroot
mkdir -p "$PKGROOT"
for p in "${PKGS[@]}"; do
    [[ $p == "$KERNEL_PKG" ]] || dpkg-deb -x "${DEB[$p]}" "$PKGROOT"
done

# ---- 3. kernel: only ./boot/vmlinuz-* is taken from the package (cached per .deb) ---
KCACHE=$CACHE/$(basename "${DEB[$KERNEL_PKG]}" .deb).vmlinuz
if [[ ! -s $KCACHE ]]; then
    mkdir -p "$SCRATCH/kernel"
    dpkg-deb --fsys-tarfile "${DEB[$KERNEL_PKG]}" |
        tar -x -C "$SCRATCH/kernel" --wildcards './boot/vmlinuz-*'
    vmlinuz=$(find "$SCRATCH/kernel/boot" -maxdepth 1 -name 'vmlinuz-*' -print -quit)
    [[ -n $vmlinuz ]] || die "no /boot/vmlinuz-* in $KERNEL_PKG"
    cp "$vmlinuz" "$KCACHE.tmp" && mv "$KCACHE.tmp" "$KCACHE"
fi
cp "$KCACHE" "$SCRATCH/bzImage"

# ---- 4. initramfs tree -------------------------------------------------------------
R=$SCRATCH/rootfs
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,lib64,lib/x86_64-linux-gnu,usr/lib/x86_64-linux-gnu,dev,proc,sys,tmp,root,etc}
chmod 1777 "$R/tmp"
if [[ ${GUEST_MODULES:-0} == 1 ]]; then
    MODS=(drivers/ata/libata.ko drivers/ata/ata_piix.ko drivers/ata/ata_generic.ko
          drivers/ata/libahci.ko drivers/ata/ahci.ko drivers/block/virtio_blk.ko
          drivers/scsi/scsi_mod.ko drivers/scsi/scsi_common.ko drivers/scsi/sd_mod.ko
          drivers/scsi/sr_mod.ko drivers/cdrom/cdrom.ko drivers/virtio/virtio.ko
          drivers/virtio/virtio_ring.ko drivers/virtio/virtio_pci.ko
          drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci_modern_dev.ko
          drivers/net/virtio_net.ko drivers/net/net_failover.ko net/core/failover.ko
          drivers/net/ethernet/intel/e1000/e1000.ko drivers/char/virtio_console.ko
          fs/ext4/ext4.ko fs/jbd2/jbd2.ko fs/mbcache.ko fs/isofs/isofs.ko
          lib/crc16.ko lib/libcrc32c.ko lib/crc64.ko lib/crc64-rocksoft.ko lib/crc-t10dif.ko
          crypto/crc32c_generic.ko crypto/crct10dif_common.ko crypto/crct10dif_generic.ko
          crypto/crc64_rocksoft_generic.ko block/t10-pi.ko)
    mkdir -p "$SCRATCH/kmod"
    dpkg-deb --fsys-tarfile "${DEB[$KERNEL_PKG]}" |
        tar -x -C "$SCRATCH/kmod" --wildcards './lib/modules/*' 2>/dev/null
    KVER=$(ls "$SCRATCH/kmod/lib/modules" | head -1)
    [[ -n $KVER ]] || die "no modules in $KERNEL_PKG"
    for m in "${MODS[@]}"; do
        src=$SCRATCH/kmod/lib/modules/$KVER/kernel/$m
        [[ -e $src ]] || continue
        mkdir -p "$R/lib/modules/$KVER/kernel/$(dirname "$m")"
        cp -a "$src" "$R/lib/modules/$KVER/kernel/$m"
    done
    cp "$SCRATCH/kmod/lib/modules/$KVER/modules.builtin"* "$R/lib/modules/$KVER/" 2>/dev/null || true
    "$PKGROOT/bin/busybox" depmod -b "$R" "$KVER" || die "depmod failed"
    echo "crc32c_generic ahci ata_piix ata_generic sd_mod sr_mod virtio_pci virtio_blk virtio_net virtio_console e1000 ext4 isofs" > "$R/etc/guest-modules"
fi
cp "$PKGROOT/bin/busybox" "$R/bin/busybox"

# Dynamically linked Debian tools + exactly the libraries the loader resolves for them.
LDSO=$PKGROOT/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
LIBPATH=$PKGROOT/lib/x86_64-linux-gnu:$PKGROOT/usr/lib/x86_64-linux-gnu
DYNBINS=(usr/bin/xz usr/bin/openssl)
declare -A NEED=()
for b in "${DYNBINS[@]}"; do
    cp "$PKGROOT/$b" "$R/$b"
    while read -r lib; do
        NEED[$lib]=1
    done < <("$LDSO" --library-path "$LIBPATH" --list "$PKGROOT/$b" |
        awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }')
done
for lib in "${!NEED[@]}"; do
    [[ $lib == "$PKGROOT"/* ]] || die "library resolved outside the Debian packages: $lib"
    rel=${lib#"$PKGROOT"/}
    mkdir -p "$R/$(dirname "$rel")"
    cp -L "$lib" "$R/$rel"
done
ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$R/lib64/ld-linux-x86-64.so.2"

# busybox applet links, except names provided by the Debian binaries above
for a in $("$R/bin/busybox" --list); do
    [[ -e $R/usr/bin/$a || -e $R/bin/$a ]] || ln -s busybox "$R/bin/$a"
done
ln -s ../bin/busybox "$R/sbin/modprobe"   # the kernel asks /sbin/modprobe for modules
[[ $(id -u) == 0 ]] && mknod -m 600 "$R/dev/console" c 5 1 2>/dev/null || true

cat > "$R/init" <<'INIT'
#!/bin/sh
PATH=/usr/bin:/bin:/usr/sbin:/sbin
export PATH
mount -t devtmpfs devtmpfs /dev 2>/dev/null
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o size=400m tmpfs /tmp
load_modules() {
    [ -r /etc/guest-modules ] || return 0
    for m in $(cat /etc/guest-modules); do modprobe "$m" 2>/dev/null; done
}
MODE=workload
for arg in $(cat /proc/cmdline); do
    case $arg in
        guest.mode=*) MODE=${arg#guest.mode=} ;;
        guest.modules=1) load_modules ;;
    esac
done
echo GUEST-INIT-REACHED
if [ "$MODE" = shell ]; then
    load_modules
    hostname kestrel-guest
    echo "Busybox shell; leave it to power off."
    # busybox init runs the shell, so that poweroff, reboot and halt work as
    # they do on any system (they signal PID 1); leaving the shell powers off.
    echo "::once:/bin/sh -c 'setsid cttyhack sh -l; poweroff'" > /etc/inittab
    exec busybox init
else
    if ! sh /workload.sh; then
        echo GUEST-WORKLOAD-FAILED
    fi
fi
poweroff -f
INIT
chmod 755 "$R/init"

cat > "$R/workload.sh" <<'WORKLOAD'
#!/bin/sh
# Fixed, deterministic CPU workload. Every phase prints
#   GUEST-BEGIN <phase> up=<guest uptime>   and   GUEST-END <phase> up=<...> <results>
# then GUEST-WORKLOAD-DONE and one GUEST-RESULT line per result. The GUEST-RESULT lines
# must be identical when this script runs natively, e.g.
#   unshare -m sh -c 'mount -t proc proc R/proc; mount --bind /dev R/dev; chroot R /bin/sh /workload.sh'
# Debian binaries are called by absolute path: busybox ash (standalone-shell build) would
# otherwise run its own applet of the same name (e.g. its decompress-only xz).
set -e
set -o pipefail
PATH=/usr/bin:/bin:/usr/sbin:/sbin
export PATH LC_ALL=C
W=/tmp/wl.$$
rm -rf "$W"; mkdir -p "$W"
: > "$W/results"
up() { UP=NA; [ -r /proc/uptime ] && read UP _ < /proc/uptime; echo "$UP"; }
begin() { echo "GUEST-BEGIN $1 up=$(up)"; }
end() { p=$1; shift; echo "GUEST-END $p up=$(up) $*"; for kv in "$@"; do echo "GUEST-RESULT $p.$kv" >> "$W/results"; done; }
sum1() { set -- $(cat); echo "$1"; }        # first field of stdin

begin gen        # 100000 lines of MINSTD (Lehmer, m=2^31-1) pseudo-random text, ~2.6 MB
awk 'BEGIN { x = 12345; for (i = 0; i < 100000; i++) { x = (x * 48271) % 2147483647; printf "%08x %5d line-%d\n", x, x % 99991, i } }' > "$W/text"
end gen bytes=$(wc -c < "$W/text")

begin sha256
end sha256 text=$(sha256sum < "$W/text" | sum1)

begin md5
end md5 text=$(md5sum < "$W/text" | sum1)

begin sort
end sort md5=$(sort "$W/text" | md5sum | sum1)

begin gzip
gzip -9 -c "$W/text" > "$W/text.gz"
end gzip bytes=$(wc -c < "$W/text.gz") md5=$(md5sum < "$W/text.gz" | sum1) roundtrip=$(gzip -dc "$W/text.gz" | md5sum | sum1)
rm -f "$W/text.gz"

begin bzip2
bzip2 -9 -c "$W/text" > "$W/text.bz2"
end bzip2 bytes=$(wc -c < "$W/text.bz2") md5=$(md5sum < "$W/text.bz2" | sum1) roundtrip=$(bzip2 -dc "$W/text.bz2" | md5sum | sum1)
rm -f "$W/text.bz2"

begin xz         # Debian xz-utils (dynamically linked), single thread, first 1 MB
head -c 1000000 "$W/text" | /usr/bin/xz -1 -T1 -c > "$W/text.xz"
end xz bytes=$(wc -c < "$W/text.xz") md5=$(md5sum < "$W/text.xz" | sum1) roundtrip=$(/usr/bin/xz -dc "$W/text.xz" | md5sum | sum1)
rm -f "$W/text.xz"

begin openssl    # Debian openssl (dynamically linked): AES-128-CTR keystream (8 MiB) + SHA-256/512
aes=$(head -c 8388608 /dev/zero | /usr/bin/openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 | sha256sum | sum1)
s256=$(/usr/bin/openssl dgst -sha256 -r "$W/text" | sum1)
s512=$(/usr/bin/openssl dgst -sha512 -r "$W/text" | sum1)
end openssl aes128ctr_sha256=$aes text_sha256=$s256 text_sha512=$s512

begin exec       # 50 fork+exec of a dynamically linked binary
n=0; i=0
while [ $i -lt 50 ]; do /usr/bin/xz --version > /dev/null && n=$((n+1)); i=$((i+1)); done
end exec count=$n

begin sharith    # busybox ash arithmetic loop
i=0; s=0
while [ $i -lt 50000 ]; do s=$(( (s * 31 + i) % 1000003 )); i=$((i+1)); done
end sharith s=$s

rm -rf "$W/text"
echo GUEST-WORKLOAD-DONE
cat "$W/results"
rm -rf "$W"
WORKLOAD
chmod 755 "$R/workload.sh"

find "$R" -exec touch -h -d "@$EPOCH" {} +
(cd "$R" && find . -mindepth 1 -print0 | sort -z |
    cpio --null --create --format=newc --reproducible --owner=0:0 --quiet) |
    gzip -9 -n > "$SCRATCH/initramfs.cpio.gz"

# ---- 5. install outputs atomically-ish, manifest ----------------------------------
rm -rf "$OUT/rootfs"
mv "$R" "$OUT/rootfs"
mv "$SCRATCH/bzImage" "$OUT/bzImage"
mv "$SCRATCH/initramfs.cpio.gz" "$OUT/initramfs.cpio.gz"
{
    echo "# build-linux-guest.sh manifest (Debian packages used)"
    for p in "${PKGS[@]}"; do echo "package $p ${VER[$p]} $(basename "${DEB[$p]}")"; done
    (cd "$OUT" && sha256sum bzImage initramfs.cpio.gz) | sed 's/^/sha256 /'
} > "$OUT/MANIFEST.txt"
