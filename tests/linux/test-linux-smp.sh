#!/bin/bash
# Linux on several vCPUs (-smp) under the translator, with the prebuilt guest
# (GUEST_DIR, see test-linux.sh):
#   - -smp 2: the kernel brings up both CPUs; /proc/cpuinfo lists 2
#     processors and `nproc` says 2; both CPUs take timer interrupts and
#     inter-processor interrupts (/proc/interrupts);
#   - a parallel workload (jobs pinned to each CPU with taskset, run in the
#     background, then `wait`) gives the same checksums as the guest's own
#     busybox run natively on the host, one job at a time;
#   - the same with a 4 MiB code buffer (-accel tcg,tb-size=4): full flushes
#     on each vCPU while the other runs;
#   - -smp 4,sockets=1,cores=2,threads=2: the topology Linux reads from CPUID
#     and the MADT (siblings, cores, thread siblings) is the one asked for,
#     and a reboot brings all four CPUs back.
source tests/lib.sh
source tests/linux/shell-lib.sh
TIMEOUT=${LINUX_TIMEOUT:-900}
use_linux_guest

# The jobs: distinct inputs, CPU-bound, deterministic output.
JOBS=4
# job_cmd N [PREFIX]: job N's command line, each program run as PREFIX program
# (LINES numbers each; the constant-flush run uses fewer: it translates all the time)
LINES=150000
job_cmd() { echo "${2:-}seq $(( $1 * 7919 )) $(( $1 * 7919 + LINES )) | ${2:-}gzip -1 | ${2:-}sha256sum"; }

# out_value MARKER: the text after "MARKER=" in the guest's output.
out_value() { tr -d '\r' < "$T_TMP/out" | sed -n "s/^$1=//p" | tail -1; }

# parallel_jobs NAME: in the running shell, every job pinned to one CPU in
# turn and two process-creation loops (TLB shootdowns, page refcounts), all
# in the background at once, then `wait`; the checksums must be the host's.
parallel_jobs() {
    local cmd="" i c bad="" want got
    for i in $(seq 0 $((JOBS - 1))); do
        cmd+="(taskset -c $((i % 2)) sh -c '$(job_cmd "$i")' > /tmp/job$i) & "
    done
    for c in 0 1; do
        cmd+="(taskset -c $c sh -c 'n=0; while [ \$n -lt 200 ]; do /bin/true; n=\$((n+1)); done; echo \$n' > /tmp/fork$c) & "
    done
    say "$cmd wait; echo FORKS=\$(cat /tmp/fork0 /tmp/fork1); for i in \$(seq 0 $((JOBS - 1))); do echo JOB\$i=\$(cut -c1-64 /tmp/job\$i); done; echo JOBS-DONE\n"
    if ! waitfor '^JOBS-DONE' 600; then
        fail "$1" "the jobs did not finish: $(shell_tail)"
        return
    fi
    for i in $(seq 0 $((JOBS - 1))); do
        want=$(sh -c "$(job_cmd "$i" "$GUEST/rootfs/bin/busybox ")" | cut -c1-64)
        got=$(out_value "JOB$i")
        [[ -n $want && $want == "$got" ]] || bad+=" job$i: got '$got' want '$want';"
    done
    [[ $(out_value FORKS) == "200 200" ]] || bad+=" fork loops: '$(out_value FORKS)';"
    [[ -z $bad ]] && pass "$1" || fail "$1" "$bad"
}

# ---- -smp 2 ---------------------------------------------------------------------------
shell_start -m 256 -no-reboot -smp 2
if waitfor 'Busybox shell' 300; then
    sleep 1
    say 'echo NPROC=$(nproc); echo PROCS=$(grep -c ^processor /proc/cpuinfo)\n'
    waitfor '^PROCS=' 60
    [[ $(out_value NPROC) == 2 ]] && pass nproc_2 || fail nproc_2 "nproc says '$(out_value NPROC)'"
    [[ $(out_value PROCS) == 2 ]] && pass cpuinfo_2_processors || fail cpuinfo_2_processors "$(out_value PROCS) processors"
    parallel_jobs parallel_jobs_match_host
    # timer interrupts on both CPUs; function-call / reschedule IPIs exchanged
    say "awk '/LOC:|CAL:|RES:/ { print \"IRQ\" \$1 \"=\" \$2 \",\" \$3 }' /proc/interrupts; echo IRQS-DONE\n"
    if waitfor '^IRQS-DONE' 60; then
        irq_ok=1
        for k in LOC CAL RES; do
            v=$(out_value "IRQ$k:")
            [[ $v =~ ^([0-9]+),([0-9]+)$ ]] || { irq_ok=0; continue; }
            [[ $k == LOC ]] && { (( BASH_REMATCH[1] > 0 && BASH_REMATCH[2] > 0 )) || irq_ok=0; }
            [[ $k != LOC ]] && { (( BASH_REMATCH[1] + BASH_REMATCH[2] > 0 )) || irq_ok=0; }
        done
        [[ $irq_ok == 1 ]] && pass interrupts_on_both_cpus ||
            fail interrupts_on_both_cpus "$(tr -d '\r' < "$T_TMP/out" | grep '^IRQ' | tr '\n' ' ')"
    else
        fail interrupts_on_both_cpus "no answer: $(shell_tail)"
    fi
    say 'poweroff\n'
    shell_end 0 smp2_poweroff
    if tr -d '\r' < "$T_TMP/out" | grep -qE 'BUG:|Oops|WARNING:|soft lockup|stall|do_boot_cpu failed'; then
        fail smp2_dmesg_clean "$(tr -d '\r' < "$T_TMP/out" | grep -m3 -E 'BUG:|Oops|WARNING:|soft lockup|stall|do_boot_cpu failed' | tr '\n' '|')"
    else
        pass smp2_dmesg_clean
    fi
else
    shell_abort
    fail smp2_boot "no shell: $(shell_tail)"
fi

# ---- -smp 2 with a 4 MiB code buffer: each vCPU flushes all its translations
# again and again while the other runs -------------------------------------------
shell_start -m 256 -no-reboot -smp 2 -accel tcg,tb-size=4
if waitfor 'Busybox shell' 400; then
    sleep 1
    LINES=20000 parallel_jobs parallel_jobs_with_constant_flushes
    say 'poweroff\n'
    shell_end 0 flushes_poweroff
else
    shell_abort
    fail flushes_boot "no shell: $(shell_tail)"
fi

# ---- -smp 4 as 1 socket x 2 cores x 2 threads ----------------------------------------
shell_start -m 256 -smp 4,sockets=1,cores=2,threads=2
if waitfor 'Busybox shell' 300; then
    sleep 1
    say 'echo NPROC=$(nproc); echo SIB=$(sed -n "s/^siblings.*: //p" /proc/cpuinfo | sort -u | tr "\\n" " ")\n'
    say 'echo CORES=$(sed -n "s/^cpu cores.*: //p" /proc/cpuinfo | sort -u | tr "\\n" " ")\n'
    say 'echo APICIDS=$(sed -n "s/^apicid.*: //p" /proc/cpuinfo | tr "\\n" " ")\n'
    say 'echo THR3=$(cat /sys/devices/system/cpu/cpu3/topology/thread_siblings_list); echo TOPO-DONE\n'
    if waitfor '^TOPO-DONE' 60; then
        got="$(out_value NPROC)|$(out_value SIB)|$(out_value CORES)|$(out_value APICIDS)|$(out_value THR3)"
        want="4|4|2|0 1 2 3|2-3"
        [[ $got == "$want" ]] && pass topology_1s_2c_2t || fail topology_1s_2c_2t "got '$got', want '$want'"
    else
        fail topology_1s_2c_2t "no answer: $(shell_tail)"
    fi
    # a reboot (INIT of every CPU, start-up again) brings all four back
    say 'reboot\n'
    if waitfor 'Busybox shell' 300 2; then
        sleep 1
        say 'echo AFTER-REBOOT-NPROC=$(nproc)\n'
        waitfor '^AFTER-REBOOT-NPROC=' 60
        [[ $(out_value AFTER-REBOOT-NPROC) == 4 ]] && pass reboot_brings_all_cpus_back ||
            fail reboot_brings_all_cpus_back "nproc says '$(out_value AFTER-REBOOT-NPROC)'"
        say 'poweroff\n'
        shell_end 0 smp4_poweroff
    else
        shell_abort
        fail reboot_brings_all_cpus_back "no second boot: $(shell_tail)"
    fi
else
    shell_abort
    fail smp4_boot "no shell: $(shell_tail)"
fi
