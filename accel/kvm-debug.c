/* The GDB stub under KVM (system/gdbstub.h): breakpoints and single steps
 * through KVM_SET_GUEST_DEBUG, debug exits reported as SIGTRAP. */
#include "accel/kvm-internal.h"

#include <errno.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "system/gdbstub.h"

/* The GDB stub's breakpoints become hardware instruction breakpoints (the
 * first four; guest memory stays untouched) and its single step KVM's;
 * set on every entry to the run function (they change only while stopped). */
#define KVM_MAX_HW_BREAKPOINTS 4
void kvm_update_guest_debug(VCPU *cpu, KVMVCPU *v)
{
    struct kvm_guest_debug dbg = { 0 };
    uint64_t addrs[KVM_MAX_HW_BREAKPOINTS];
    int n = atomic_load(&gdb_nr_breakpoints) ? gdb_breakpoint_list(addrs, KVM_MAX_HW_BREAKPOINTS) : 0;
    bool step = gdb_single_stepping(cpu->env);
    n = MIN(n, KVM_MAX_HW_BREAKPOINTS);
    if (n > 0 || step) {
        dbg.control = KVM_GUESTDBG_ENABLE | (step ? KVM_GUESTDBG_SINGLESTEP : 0) |
                      (n > 0 ? KVM_GUESTDBG_USE_HW_BP : 0);
        uint64_t dr7 = 0x400;
        for (int i = 0; i < n; i++) {
            dbg.arch.debugreg[i] = addrs[i];
            dr7 |= 1ull << (2 * i);            /* local enable, execute, 1 byte */
        }
        dbg.arch.debugreg[7] = dr7;
    }
    v->guest_debug = dbg.control != 0;
    if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0 && v->guest_debug)
        error_report("kvm: KVM_SET_GUEST_DEBUG: %s (breakpoints and steps will not stop)",
                     strerror(errno));
}

/* A debug exit for the GDB stub: everything stops and gdb hears of it. */
void kvm_handle_debug_exit(VCPU *cpu, KVMVCPU *v)
{
    char err[256];
    if (!v->guest_debug)
        return;
    kvm_complete_pending_exit(v);
    if (kvm_get_state(v, cpu->env, err, sizeof(err)) < 0)
        error_report("%s", err);
    gdb_vcpu_stopped(cpu->env, GDB_SIGTRAP);
}
