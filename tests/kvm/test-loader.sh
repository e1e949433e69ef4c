#!/bin/bash
# The kernel loaders (-kernel): hostile or broken multiboot images and
# bzImages end with exit status 1 and a clear message, never a crash; minimal
# a.out-kludge, ELF and bzImage kernels, modules and initrds load and run.
source "$(dirname "$0")/../lib.sh"

if ! command -v python3 > /dev/null; then
    skip all "python3 is needed to build the test images"
    exit 0
fi
MB=$T_TMP/mk-image.py
cat > "$MB" <<'PY'
# mk-image.py OUT KIND: writes a test image.
import struct, sys
out, kind = sys.argv[1], sys.argv[2]
MAGIC = 0x1BADB002
def header(flags, *addr):
    return struct.pack('<III', MAGIC, flags, (-(MAGIC + flags)) & 0xffffffff) + struct.pack('<5I', *addr) if addr \
        else struct.pack('<III', MAGIC, flags, (-(MAGIC + flags)) & 0xffffffff)
# 32-bit code: print 'K' on COM1, exit through isa-debug-exit with code 5.
code = bytes([0x66, 0xba, 0xf8, 0x03, 0xb0, 0x4b, 0xee,       # mov $0x3f8,%dx; mov $'K',%al; out
              0xb8, 0x05, 0, 0, 0, 0xe7, 0xf4,                  # mov $5,%eax; out %eax,$0xf4
              0xf4, 0xeb, 0xfd])                                # hlt; jmp .-1
def aout(load, load_end=0, bss_end=0, entry=None, flags=0x10000):
    h = header(flags, load, load, load_end, bss_end, load + 32 if entry is None else entry)
    return h + b'\0' * (32 - len(h)) + code
def elf32(phoff=52, phnum=1, filesz=None, offset=0x1000, paddr=0x100000, klass=1, truncate=None):
    body = header(0)
    seg = b'\0' * 0x1000 + body + code
    fs = len(seg) - 0x1000 if filesz is None else filesz
    eh = b'\x7fELF' + bytes([klass, 1, 1]) + b'\0' * 9 + struct.pack('<HHIIIIIHHHHHH',
         2, 3, 1, paddr + 12, phoff, 0, 0, 52, 32, phnum, 40, 0, 0)
    ph = struct.pack('<8I', 1, offset, paddr, paddr, fs, fs, 5, 0x1000)
    img = bytearray(seg)
    img[0:len(eh)] = eh
    img[52:52 + len(ph)] = ph
    return bytes(img[:truncate] if truncate else img)
# A bzImage whose "kernel" prints the first byte of the command line and
# exits with code e820_entries (+16 when an initrd was passed).
FAKE_KERNEL = bytes.fromhex('66baf8038b9e280200008a03ee0fb686e801000083be1c02000000740383'
                            'c010e7f4f4')
def bzimage(version=0x020f, loadflags=1, setup_sects=1):
    img = bytearray(512 * (setup_sects + 1))
    img[0x1f1] = setup_sects
    struct.pack_into('<H', img, 0x1fe, 0xaa55)
    img[0x200:0x202] = b'\xeb\x66'               # jump: header ends at 0x268
    img[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', img, 0x206, version)
    img[0x211] = loadflags
    struct.pack_into('<I', img, 0x214, 0x100000)  # code32_start
    struct.pack_into('<I', img, 0x22c, 0x7fffffff)  # initrd_addr_max
    struct.pack_into('<I', img, 0x238, 2048)      # cmdline_size
    return bytes(img) + FAKE_KERNEL
images = {
    'aout-ok': lambda: aout(0x100000),
    'aout-outside-ram': lambda: aout(0x7f000000),
    'aout-info-overlap': lambda: aout(0x9000),
    'aout-huge-bss': lambda: aout(0x100000, 0x100000 + 32 + len(code), 0xfffff000),
    'aout-zero-size': lambda: aout(0x100000, 0x100000),
    'aout-bad-fields': lambda: header(0x10000, 0x200000, 0x300000, 0, 0, 0x300000),
    'aout-end-beyond-file': lambda: aout(0x100000, 0x180000),
    'aout-entry-outside': lambda: aout(0x100000, entry=0xfffffff0),
    'unsupported-flags': lambda: aout(0x100000, flags=0x10008),
    'elf-ok': lambda: elf32(),
    'elf-truncated': lambda: elf32(truncate=0x1010),
    'elf-phdrs-beyond-file': lambda: elf32(phoff=0x7ffffff0),
    'elf-no-phdrs': lambda: elf32(phnum=0),
    'elf-segment-beyond-file': lambda: elf32(filesz=0x100000),
    'elf-outside-ram': lambda: elf32(paddr=0xfff00000),
    'elf64': lambda: elf32(klass=2),
    'no-elf-no-kludge': lambda: header(0) + b'\0' * 100,
    'garbage': lambda: bytes(range(256)) * 64,
    'bz-ok': lambda: bzimage(),
    'bz-old': lambda: bzimage(version=0x0201),
    'bz-zimage': lambda: bzimage(loadflags=0),
    'bz-truncated': lambda: bzimage()[:0x300],
}
open(out, 'wb').write(images[kind]())
PY

DEBUG_EXIT=(-device isa-debug-exit,iobase=0xf4,iosize=4)

# expect_error NAME PATTERN ARGS...: exit status 1 and PATTERN in the output.
expect_error() {
    local name=$1 pattern=$2; shift 2
    run_kestrel 30 -nographic -no-reboot "${DEBUG_EXIT[@]}" "$@"
    if [[ $RC == 1 ]] && grep -q -- "$pattern" "$T_TMP/out"; then
        pass "$name"
    else
        fail "$name" "status $RC, expected 1 and '$pattern'; output: $(head -c 300 "$T_TMP/out")"
    fi
}

image() { python3 "$MB" "$T_TMP/$1.img" "$1" && echo "$T_TMP/$1.img"; }

expect_error missing-file "cannot open\|cannot read" -kernel "$T_TMP/does-not-exist"
: > "$T_TMP/empty.img"
expect_error empty-file "is empty" -kernel "$T_TMP/empty.img"
expect_error directory "not a regular file" -kernel "$T_TMP"
expect_error garbage "not a multiboot or Linux image" -kernel "$(image garbage)"
expect_error aout-outside-ram "outside guest RAM" -kernel "$(image aout-outside-ram)"
expect_error aout-info-overlap "overlaps the multiboot information area" -kernel "$(image aout-info-overlap)"
expect_error aout-huge-bss "outside guest RAM" -kernel "$(image aout-huge-bss)"
expect_error aout-zero-size "nothing to load" -kernel "$(image aout-zero-size)"
expect_error aout-bad-fields "address fields are inconsistent" -kernel "$(image aout-bad-fields)"
expect_error aout-end-beyond-file "beyond the end of the file" -kernel "$(image aout-end-beyond-file)"
expect_error aout-entry-outside "entry point 0xfffffff0 is outside guest RAM" -kernel "$(image aout-entry-outside)"
expect_error unsupported-flags "unsupported features" -kernel "$(image unsupported-flags)"
expect_error elf-truncated "truncated" -kernel "$(image elf-truncated)"
expect_error elf-phdrs-beyond-file "truncated or missing program headers" -kernel "$(image elf-phdrs-beyond-file)"
expect_error elf-no-phdrs "truncated or missing program headers" -kernel "$(image elf-no-phdrs)"
expect_error elf-segment-beyond-file "is truncated" -kernel "$(image elf-segment-beyond-file)"
expect_error elf-outside-ram "outside guest RAM" -kernel "$(image elf-outside-ram)"
expect_error elf64 "64-bit ELF" -kernel "$(image elf64)"
expect_error no-elf-no-kludge "is not ELF" -kernel "$(image no-elf-no-kludge)"
expect_error bz-old "too old" -kernel "$(image bz-old)"
expect_error bz-zimage "zImage" -kernel "$(image bz-zimage)"
expect_error bz-truncated "truncated" -kernel "$(image bz-truncated)"
expect_error bz-initrd-missing "cannot open\|cannot read" -kernel "$(image bz-ok)" -initrd "$T_TMP/no-initrd"
head -c 200000000 /dev/zero > "$T_TMP/big-initrd"
expect_error bz-initrd-too-big "does not fit\|too large" -m 128 -kernel "$(image bz-ok)" -initrd "$T_TMP/big-initrd"
rm -f "$T_TMP/big-initrd"
expect_error module-missing "cannot open\|cannot read" -kernel "$(image aout-ok)" -initrd "$T_TMP/no-module"
head -c 200000000 /dev/zero > "$T_TMP/big-module"
expect_error module-too-big "outside guest RAM\|too large" -m 128 -kernel "$(image aout-ok)" -initrd "$T_TMP/big-module"
rm -f "$T_TMP/big-module"
expect_error module-empty-name "empty multiboot module name\|cannot read ''" -kernel "$(image aout-ok)" -initrd " arg"

# Images that load: status (5 << 1) | 1 and the 'K' on the serial port, when
# some accelerator can run them in this build.
expect_run() {
    local name=$1; shift
    run_kestrel 30 -nographic -no-reboot "${DEBUG_EXIT[@]}" "$@"
    if grep -q "not built into this binary\|no accelerator" "$T_TMP/out"; then
        skip "$name" "no accelerator in this build"
    elif [[ $RC == 11 ]] && grep -q K "$T_TMP/out"; then
        pass "$name"
    else
        fail "$name" "status $RC, expected 11; output: $(head -c 300 "$T_TMP/out")"
    fi
}
echo module-one > "$T_TMP/mod1"
echo module-two > "$T_TMP/mod2"
expect_run aout-runs -kernel "$(image aout-ok)"
# The Linux path: 'K' from -append, status (4 e820 entries << 1) | 1 = 9, or
# with an initrd (4 + 16) -> 41.
expect_linux() {
    local name=$1 want=$2; shift 2
    run_kestrel 30 -nographic -no-reboot -m 128 "${DEBUG_EXIT[@]}" "$@"
    if grep -q "not built into this binary\|no accelerator" "$T_TMP/out"; then
        skip "$name" "no accelerator in this build"
    elif [[ $RC == "$want" ]] && grep -q K "$T_TMP/out"; then
        pass "$name"
    else
        fail "$name" "status $RC, expected $want; output: $(head -c 300 "$T_TMP/out")"
    fi
}
echo initrd-data > "$T_TMP/initrd"
expect_linux bz-runs 9 -kernel "$(image bz-ok)" -append "K and more"
expect_linux bz-runs-with-initrd 41 -kernel "$(image bz-ok)" -append "Kx" -initrd "$T_TMP/initrd"
expect_run elf-runs -kernel "$(image elf-ok)" -append "console=ttyS0"
expect_run modules-load -kernel "$(image aout-ok)" -initrd "$T_TMP/mod1 arg1 arg2,$T_TMP/mod2"
exit 0
