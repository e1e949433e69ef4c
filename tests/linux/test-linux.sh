#!/bin/bash
# The real guest: Debian's stock kernel with a busybox initramfs (built from
# Debian packages by scripts/build-linux-guest.sh into build/guest), booted
# directly under the translator, headless:
#   - the scripted workload's results equal the same script run on the host;
#   - the boot log has no error or warning caused by our emulation;
#   - an interactive shell: typing, Ctrl-C, poweroff -> exit 0;
#   - reboot with -no-reboot -> exit 0; without it the guest boots again.
source tests/lib.sh
source tests/linux/shell-lib.sh
TIMEOUT=${LINUX_TIMEOUT:-900}
use_linux_guest

# ---- the workload -------------------------------------------------------------------
timeout -k 5 "$TIMEOUT" "$KESTREL" -accel tcg -nographic -m 512 -no-reboot "${KERNEL[@]}" \
    -append "console=ttyS0" < /dev/null > "$T_TMP/boot.log" 2>&1
rc=$?
tr -d '\r' < "$T_TMP/boot.log" > "$T_TMP/boot.txt"
if [[ $rc == 0 ]] && grep -q '^GUEST-WORKLOAD-DONE' "$T_TMP/boot.txt"; then
    pass workload_poweroff
else
    fail workload_poweroff "status $rc; last lines: $(tail -5 "$T_TMP/boot.txt" | tr '\n' '|')"
fi
grep '^GUEST-RESULT' "$T_TMP/boot.txt" | sort > "$T_TMP/guest.res"
if [[ $(id -u) != 0 ]] || ! command -v unshare > /dev/null; then
    skip workload_matches_host "running the workload natively needs root (chroot into the guest tree)"
elif ! unshare -m sh -c "mount -t proc proc '$GUEST/rootfs/proc' && mount --bind /dev '$GUEST/rootfs/dev' &&
        chroot '$GUEST/rootfs' /bin/sh /workload.sh" > "$T_TMP/host.log" 2>&1; then
    skip workload_matches_host "cannot run the workload natively here: $(tail -1 "$T_TMP/host.log")"
else
    grep '^GUEST-RESULT' "$T_TMP/host.log" | sort > "$T_TMP/host.res"
    if [[ -s $T_TMP/host.res ]] && diff -u "$T_TMP/host.res" "$T_TMP/guest.res" > "$T_TMP/res.diff"; then
        pass workload_matches_host
    else
        fail workload_matches_host "$(head -8 "$T_TMP/res.diff" | tr '\n' '|')"
    fi
fi

# ---- the boot log -------------------------------------------------------------------
# Lines that look alarming but are what Linux prints on any correct PC like this
# one (QEMU's i440FX machine shows the same):
ALLOWED=(
    'PCI: Using host bridge windows from ACPI; if necessary, use "pci=nocrs" and report a bug'  # ACPI _CRS in use
    "can't access extended PCI configuration space under this bridge"  # i440FX has no MMCONFIG
    'AMD IOMMUv2 functionality not available on this system - This is not a bug'   # no IOMMU
    'Early table checksum verification disabled'    # the kernel's default
    'NMI watchdog: Perf NMI watchdog permanently disabled'   # no PMU is advertised
    '(disabled)'   'disabled by default'             # audit/evm/yama configuration notes
    'DMA domain TLB invalidation policy'             # an IOMMU policy note ("invalidation")
    'intel_pstate: CPU model not supported'          # no P-state control in a virtual CPU
)
grep -iE 'error|warn|fail|bug|unable|invalid|timed out|not supported|firmware' "$T_TMP/boot.txt" |
    grep -v '^GUEST-' > "$T_TMP/suspicious"
for a in "${ALLOWED[@]}"; do
    grep -vF -- "$a" "$T_TMP/suspicious" > "$T_TMP/s2"; mv "$T_TMP/s2" "$T_TMP/suspicious"
done
if [[ -s $T_TMP/suspicious ]]; then
    fail dmesg_clean "$(head -5 "$T_TMP/suspicious" | tr '\n' '|')"
else
    pass dmesg_clean
fi

# ---- the interactive shell ----------------------------------------------------------
# check_vulnerabilities: the "VULN name: state" lines the shell printed.
NOT_AFFECTED=(meltdown l1tf mds tsx_async_abort mmio_stale_data spec_store_bypass itlb_multihit
              gather_data_sampling reg_file_data_sampling indirect_target_selection srbds retbleed)
check_vulnerabilities() {
    local v f bad=""
    v=$(tr -d '\r' < "$T_TMP/out" | grep '^VULN [a-z_0-9]*: ')
    for f in "${NOT_AFFECTED[@]}"; do
        grep -qx "VULN $f: Not affected" <<< "$v" || bad+="$f: $(grep "^VULN $f: " <<< "$v" | cut -d: -f2-)|"
    done
    bad+=$(grep -E 'Vulnerable|Unknown' <<< "$v" | tr '\n' '|')
    if [[ -z $bad ]]; then
        pass cpu_vulnerabilities
    else
        fail cpu_vulnerabilities "not as the CPU model claims: $bad"
    fi
}

APPEND_EXTRA=

shell_start -m 256 -no-reboot
if waitfor 'Busybox shell' 300; then
    sleep 1
    say 'echo typed-$((6*7))\n'
    waitfor '^typed-42' 30 && pass shell_typing || fail shell_typing "no echo of the command's output"
    # The CPU model states in IA32_ARCH_CAPABILITIES that it is not affected
    # by these (cpu/x86/cpuid.c); the guest must conclude the same, and call
    # nothing vulnerable or unknown.
    say 'for f in $(ls /sys/devices/system/cpu/vulnerabilities); do echo "VULN $f: $(cat /sys/devices/system/cpu/vulnerabilities/$f)"; done; echo VULN-$((1+1))END\n'
    if waitfor '^VULN-2END' 30; then
        check_vulnerabilities
    else
        fail cpu_vulnerabilities "no answer: $(shell_tail)"
    fi
    sleep 2
    say '\003'
    say 'echo after-ctrl-c\n'
    waitfor '^after-ctrl-c' 30 && pass shell_ctrl_c || fail shell_ctrl_c "Ctrl-C did not stop sleep"
    say 'poweroff\n'
    shell_end 0 shell_poweroff
else
    shell_abort
    fail shell_boot "no shell: $(tail -3 "$T_TMP/out" | tr '\n' '|')"
fi

shell_start -m 256 -no-reboot
if waitfor 'Busybox shell' 300; then
    sleep 1
    say 'reboot\n'
    shell_end 0 reboot_with_no_reboot_exits
else
    shell_abort
    fail reboot_with_no_reboot_exits "no shell"
fi

shell_start -m 256
if waitfor 'Busybox shell' 300; then
    sleep 1
    say 'reboot\n'
    if waitfor 'Busybox shell' 300 2; then
        pass reboot_boots_again
        sleep 1
        say 'poweroff\n'
        shell_end 0 poweroff_after_reboot
    else
        shell_abort
        fail reboot_boots_again "no second boot: $(tail -3 "$T_TMP/out" | tr '\n' '|')"
    fi
else
    shell_abort
    fail reboot_boots_again "no shell"
fi
