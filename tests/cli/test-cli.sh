#!/bin/bash
# The command line's error paths, run against the real binary: each bad input
# gives one clear line naming the option and exit status 1, never a crash.
source tests/lib.sh

# expect_error NAME PATTERN ARGS...: exit 1, one line on stderr matching PATTERN
expect_error() {
    local name=$1 pat=$2; shift 2
    timeout 10 "$KESTREL" "$@" > "$T_TMP/o" 2> "$T_TMP/e" < /dev/null
    local rc=$? lines
    # The accelerator choice is announced on a line of its own.
    lines=$(grep -vc '^kestrel: accelerator:' "$T_TMP/e")
    if [[ $rc == 1 && $lines == 1 ]] && grep -q -- "$pat" "$T_TMP/e"; then
        pass "$name"
    else
        fail "$name" "status $rc, stderr: $(head -3 "$T_TMP/e" | tr '\n' '|')"
    fi
}

expect_error unknown_option "-frobnicate: unknown option" -frobnicate
expect_error unknown_double_dash "-frobnicate: unknown option" --frobnicate
expect_error stray_argument "unexpected argument" disk.img
expect_error missing_argument "-m: requires an argument" -m
expect_error bad_memory "-m: bad memory size" -m lots
expect_error memory_too_small "-m: memory size" -m 0
expect_error memory_huge "-m: memory size" -m 99999999G
expect_error bad_smp "-smp: bad CPU count" -smp 0
expect_error bad_smp_key "-smp: unknown option 'dies'" -smp 1,dies=2
expect_error smp_too_many "-smp: bad CPU count '65' (1 to 64)" -smp 65
expect_error smp_not_a_number "-smp: bad CPU count 'two'" -smp two
expect_error smp_bad_topology "-smp: sockets (1) \* cores (3) \* threads (1) must equal the CPU count (4)" -smp 4,sockets=1,cores=3
expect_error smp_bad_threads "-smp: bad threads '0'" -smp 2,threads=0
expect_error smp_hotplug "-smp: maxcpus=4 > cpus=2: CPU hotplug is not supported" -smp 2,maxcpus=4
expect_error smp_topology_too_big "-smp: 128 CPUs: at most 64 are supported" -smp sockets=32,cores=4
expect_error bad_machine "-M: unknown machine type" -M sparc
expect_error bad_accel "-accel: unknown accelerator" -accel hax
expect_error bad_backend "-accel: unknown backend" -accel tcg,backend=arm
expect_error bad_cpu "-cpu: unknown CPU model" -cpu pentium9
expect_error missing_kernel "-kernel: cannot read '/nonexistent/bzImage'" -kernel /nonexistent/bzImage
expect_error missing_initrd "-initrd: cannot read" -initrd /nonexistent/initrd
expect_error drive_no_file "-drive: missing file=" -drive if=ide
expect_error drive_bad_format "-drive: unknown format 'vmdk'" -drive file=/dev/null,format=vmdk
expect_error drive_bad_if "-drive: unknown interface" -drive file=/dev/null,if=scsi
expect_error drive_bad_bool "-drive: snapshot= and readonly= take on or off" -drive file=/dev/null,snapshot=perhaps
expect_error drive_unknown_key "-drive: unknown option 'colour'" -drive file=/dev/null,colour=red
expect_error drive_missing_file "-drive: cannot open '/nonexistent.img'" -drive file=/nonexistent.img
expect_error hda_missing "-hda: cannot read" -hda /nonexistent.img
expect_error cdrom_missing "-cdrom: cannot read" -cdrom /nonexistent.iso
expect_error bad_boot "-boot: bad boot order" -boot xyz
expect_error bad_display "-display: unknown display" -display gtk2000
expect_error bad_device "-device: unknown device 'ne2k_isa9'" -device ne2k_isa9
expect_error bad_device_opt "-device isa-debug-exit: unknown option 'colour'" \
    -device isa-debug-exit,colour=1 -kernel /dev/null
expect_error bad_device_iobase "isa-debug-exit: bad iobase" -device isa-debug-exit,iobase=0x123456 -kernel /dev/null
expect_error bad_log_item "-d: unknown log item 'everything'" -d everything
expect_error bad_log_file "-D: cannot open log file" -D /nonexistent/dir/log
expect_error bad_rtc "-rtc: bad base" -rtc base=yesterday
expect_error not_implemented_netdev "-netdev: this option is not implemented yet" -netdev user,id=n0
expect_error not_implemented_vga "-vga: this option is not implemented yet" -vga std
expect_error bad_serial "serial" -serial bogus:thing -kernel /dev/null
expect_error no_kernel_no_firmware "firmware boot" -display none -serial null

# Help documents every accepted option; -version prints a version.
"$KESTREL" -help > "$T_TMP/help" 2>&1
ok=1
for o in m smp M machine accel enable-kvm cpu kernel initrd append drive hda hdb cdrom boot \
         serial monitor nographic display no-reboot device d D name version; do
    grep -q -- "^  -$o\b" "$T_TMP/help" || { ok=0; echo "help lacks -$o"; }
done
[[ $ok == 1 ]] && pass help_lists_options || fail help_lists_options "see above"
"$KESTREL" -version | grep -q '^Kestrel emulator version' && pass version || fail version
"$KESTREL" -device help | grep -q isa-debug-exit && pass device_help || fail device_help
"$KESTREL" -d help | grep -q in_asm && pass log_help || fail log_help
HELLO=$BUILD/tests/guest/hello.elf
# -smp forms QEMU users write are accepted (the APs wait for a start-up IPI).
for form in 2 cpus=3 4,sockets=1,cores=4 sockets=2,cores=2,threads=2 4,sockets=2 6,cores=3; do
    name=smp_accepts_${form//[,=]/_}
    if [[ ! -f $HELLO ]]; then
        skip "$name" "no demo guest ($HELLO)"
        continue
    fi
    timeout 60 "$KESTREL" -accel tcg -smp "$form" -display none -serial "file:$T_TMP/smp.out" \
        -kernel "$HELLO" -device isa-debug-exit,iobase=0xf4,iosize=4 < /dev/null > "$T_TMP/smp.err" 2>&1
    rc=$?
    if [[ $rc == 1 ]] && grep -q PASSED "$T_TMP/smp.out"; then
        pass "$name"
    else
        fail "$name" "status $rc: $(head -2 "$T_TMP/smp.err" | tr '\n' '|')"
    fi
done
expect_error bad_monitor "-monitor bogus:x" -monitor bogus:x -display none -serial null -kernel "$HELLO"
expect_error bad_gdb "-gdb" -gdb bogus:x -display none -serial null -kernel "$HELLO"

# -S starts paused; the monitor's cont runs the guest (needs a working accelerator).
accel=
for a in tcg kvm; do
    timeout 30 "$KESTREL" -accel $a -display none -serial "file:$T_TMP/probe" -kernel "$HELLO" \
        -device isa-debug-exit,iobase=0xf4,iosize=4 < /dev/null > /dev/null 2>&1
    grep -q PASSED "$T_TMP/probe" 2>/dev/null && { accel=$a; break; }
done
if [[ ! -f $HELLO ]]; then
    skip monitor_cont "no demo guest ($HELLO)"
elif [[ -z $accel ]]; then
    skip monitor_cont "no accelerator runs the demo guest here"
else
    (sleep 1; echo "info status"; echo cont; sleep 20) |
        timeout 30 "$KESTREL" -S -accel $accel -monitor stdio -display none -serial "file:$T_TMP/serial" \
            -kernel "$HELLO" -device isa-debug-exit,iobase=0xf4,iosize=4 > "$T_TMP/mon" 2>&1
    rc=$?
    if [[ $rc == 1 ]] && grep -q 'VM status: paused' "$T_TMP/mon" && grep -q PASSED "$T_TMP/serial"; then
        pass monitor_cont
    else
        fail monitor_cont "status $rc; monitor: $(tr '\n' '|' < "$T_TMP/mon" | head -c 300)"
    fi
fi

# Drives are opened by the block layer at start: a corrupt image is one clear line.
printf 'QFI\xfbgarbage' > "$T_TMP/bad.qcow2"
expect_error drive_corrupt_image "-drive $T_TMP/bad.qcow2:" -display none -serial null \
    -drive "file=$T_TMP/bad.qcow2,format=qcow2" -kernel "$HELLO"
: > "$T_TMP/a.img"; : > "$T_TMP/b.img"
expect_error drive_index_taken "index=1 on if=ide is taken" -display none -serial null \
    -drive "file=$T_TMP/a.img,format=raw,index=1" -drive "file=$T_TMP/b.img,format=raw,index=1" -kernel "$HELLO"
expect_error bad_chardev "-chardev" -chardev bogus,id=x
expect_error bad_qmp "-qmp bogus:x" -qmp bogus:x -display none -serial null -kernel "$HELLO"
