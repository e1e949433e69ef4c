/* Shared between the parts of the KVM accelerator: kvm.c (VM, vCPUs, the
 * KVM_RUN loop), kvm-mem.c (memory slots, dirty log), kvm-regs.c (CPU state
 * sync), kvm-cpuid.c (CPUID), kvm-detect.c (is KVM worth it), kvm-debug.c
 * (GDB stub). */
#ifndef ACCEL_KVM_INTERNAL_H
#define ACCEL_KVM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include "accel/kvm.h"
#include "cpu/x86/cpu.h"
#include "system/cpus.h"

#define KVM_MAX_SLOTS 64

typedef struct KVMSlot {
    bool used;
    uint64_t gpa, size;
    uint8_t *host;
    uint32_t flags;          /* KVM_MEM_READONLY, KVM_MEM_LOG_DIRTY_PAGES */
} KVMSlot;

typedef struct KVMState {
    int fd, vm_fd;
    int run_size;            /* of the per-vCPU kvm_run mapping */
    int max_slots;
    Machine *m;
    KVMSlot slots[KVM_MAX_SLOTS];
    pthread_mutex_t slots_lock;
    bool dirty_logging;
    bool tsc_scaled;         /* guest TSC at X86_TSC_HZ (KVM_SET_TSC_KHZ worked) */
    void (*prev_layout_changed)(AddressSpace *as, void *opaque);
    void *prev_layout_opaque;
} KVMState;

typedef struct KVMVCPU {
    int fd;
    struct kvm_run *run;
    VCPU *cpu;
    /* An interrupt KVM accepted but had not delivered when the state was
     * read back (kvm_sregs.interrupt_bitmap); put back on the next entry. */
    uint64_t pending_irq_bitmap[4];
    bool guest_debug;        /* GDB breakpoints or single step armed */
    uint64_t last_cr8;       /* the TPR handed to KVM before the last entry */
    /* Events in flight when the state was read (an exception or interrupt
     * being injected, NMI state, interrupt shadow); put back on the next
     * entry unless the state was replaced meanwhile (reset, loadvm). */
    struct kvm_vcpu_events events;
    bool events_valid;
    uint32_t hidden_msrs;    /* kvm-cpuid.c: CPUID-gated MSRs the guest lacks */
} KVMVCPU;

extern KVMState kvm_state;

/* kvm-mem.c */
int kvm_mem_init(KVMState *s, char *err, size_t errlen);
void kvm_mem_sync(KVMState *s);

/* kvm-regs.c: env <-> KVM. Return 0 or -1 with a message in err. */
int kvm_put_state(KVMVCPU *v, CPUX86State *env, char *err, size_t errlen);
int kvm_get_state(KVMVCPU *v, CPUX86State *env, char *err, size_t errlen);

/* kvm.c: finish the instruction of the last I/O or MMIO exit (before
 * reading or replacing the state). */
void kvm_complete_pending_exit(KVMVCPU *v);

/* kvm-detect.c */
bool kvm_pvm_loaded(void);

/* kvm-debug.c: GDB stub breakpoints and steps. */
void kvm_update_guest_debug(VCPU *cpu, KVMVCPU *v);
void kvm_handle_debug_exit(VCPU *cpu, KVMVCPU *v);

/* kvm-cpuid.c */
int kvm_setup_cpuid(KVMState *s, KVMVCPU *v, CPUX86State *env, char *err, size_t errlen);
/* An MSR that exists only with a CPUID bit the guest does not see: a
 * user-space RDMSR/WRMSR of it is #GP, whatever the CPU model has. */
bool kvm_msr_hidden(const KVMVCPU *v, uint32_t msr);

/* The cpu/x86 functions may be missing from partial builds (weak there). */
uint32_t kvm_env_get_eflags(CPUX86State *env);
void kvm_env_set_eflags(CPUX86State *env, uint32_t value);
void kvm_env_update_hflags(CPUX86State *env);

#endif
