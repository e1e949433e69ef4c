/* The KVM accelerator: the same machine as under the translator, with guest
 * code run by the kernel's KVM.
 *
 * Interrupts: userspace injection. There is no in-kernel irqchip; the hw/
 * 8259 PIC, local APIC and I/O APIC models serve both accelerators, so
 * interrupt behaviour is identical under KVM and the translator. When the
 * CPU's INTR request (CPU_INTERRUPT_HARD) is up and KVM says the guest can
 * take an interrupt, the vector is acknowledged from the interrupt
 * controller (env->intack) and injected with KVM_INTERRUPT; otherwise an
 * interrupt window exit is requested. INIT and start-up IPIs are applied to
 * the CPU state here, and the state handed to KVM. HLT therefore exits to userspace, where the vCPU sleeps in
 * vcpu_wait_for_event() until a device kicks it.
 *
 * Kick: SIGUSR1 is blocked in vCPU threads except inside KVM_RUN
 * (KVM_SET_SIGNAL_MASK), so a kick either interrupts KVM_RUN (EINTR) or stays
 * pending and makes the next KVM_RUN return at once: none is lost. The
 * signal is never delivered (it is blocked again when KVM_RUN returns), so
 * the thread takes it off the pending set itself after EINTR.
 *
 * Port I/O and MMIO exits go to the machine's address spaces (m->io,
 * m->mem) with the machine lock held, like translator accesses. */
#include "accel/kvm-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu/x86/helpers.h"
#include "system/gdbstub.h"
#include "system/mainloop.h"

#define KICK_SIGNAL SIGUSR1
/* Where KVM may put the real-mode TSS it needs on some hosts (as firmware
 * reserves it: just below the BIOS at the top of 32-bit space). */
#define KVM_TSS_ADDR 0xfeffd000

#pragma weak x86_cpu_dump_state

KVMState kvm_state = { .fd = -1, .vm_fd = -1 };

static void eat_kick_signals(void);

/* ------------------------------------------------------------------ the VM */

/* MSRs KVM does not know (x2APIC and TSC deadline without an in-kernel
 * APIC, model-specific ones) exit to the CPU model, as under the
 * translator; so does IA32_APIC_BASE, which the userspace local APIC must
 * see (relocation, enable, x2APIC mode). Older KVMs lack either: then KVM
 * answers as it can. */
static void setup_msr_exits(KVMState *s)
{
    struct kvm_enable_cap cap = {
        .cap = KVM_CAP_X86_USER_SPACE_MSR,
        .args = { KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_FILTER },
    };
    if (ioctl(s->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
        return;
    static uint8_t deny_apic_base = 0;     /* bit 0 clear: MSR 0x1b exits */
    struct kvm_msr_filter filter = {
        .flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
        .ranges = { { .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
                      .nmsrs = 1, .base = 0x1b, .bitmap = &deny_apic_base } },
    };
    ioctl(s->vm_fd, KVM_X86_SET_MSR_FILTER, &filter);
}

static void kick_handler(int sig)
{
    (void)sig;
}

static int kvm_init(Machine *m, char *err, size_t errlen)
{
    KVMState *s = &kvm_state;
    s->m = m;
    s->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (s->fd < 0) {
        snprintf(err, errlen, "-accel kvm: cannot open /dev/kvm: %s", strerror(errno));
        return -1;
    }
    int version = ioctl(s->fd, KVM_GET_API_VERSION, 0);
    if (version < 0) {
        snprintf(err, errlen, "-accel kvm: /dev/kvm is not a KVM device (KVM_GET_API_VERSION: %s)",
                 strerror(errno));
        goto fail;
    }
    if (version != KVM_API_VERSION) {
        snprintf(err, errlen, "-accel kvm: /dev/kvm has API version %d, expected %d",
                 version, KVM_API_VERSION);
        goto fail;
    }
    s->vm_fd = ioctl(s->fd, KVM_CREATE_VM, 0);
    if (s->vm_fd < 0) {
        snprintf(err, errlen, "-accel kvm: KVM_CREATE_VM: %s", strerror(errno));
        goto fail;
    }
    s->run_size = ioctl(s->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (s->run_size <= 0) {
        snprintf(err, errlen, "-accel kvm: KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        goto fail;
    }
    setup_msr_exits(s);
    /* Only some hosts need it (VT-x without unrestricted guest); harmless elsewhere. */
    ioctl(s->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR);
    if (kvm_mem_init(s, err, errlen) < 0)
        goto fail;
    if (kvm_pvm_loaded())
        error_report("note: /dev/kvm is a software KVM (kvm_pvm): unmodified guests run slower "
                     "than with the translator, and some system code cannot run at all");
    struct sigaction sa = { .sa_handler = kick_handler };
    sigemptyset(&sa.sa_mask);
    sigaction(KICK_SIGNAL, &sa, NULL);
    return 0;
fail:
    if (s->vm_fd >= 0)
        close(s->vm_fd);
    close(s->fd);
    s->fd = s->vm_fd = -1;
    return -1;
}

static int kvm_vcpu_init(VCPU *cpu, char *err, size_t errlen)
{
    KVMState *s = &kvm_state;
    KVMVCPU *v = xzalloc(sizeof(*v));
    v->cpu = cpu;
    v->fd = ioctl(s->vm_fd, KVM_CREATE_VCPU, (unsigned long)cpu->index);
    if (v->fd < 0) {
        snprintf(err, errlen, "-accel kvm: KVM_CREATE_VCPU %d: %s", cpu->index, strerror(errno));
        free(v);
        return -1;
    }
    v->run = mmap(NULL, s->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        snprintf(err, errlen, "-accel kvm: cannot map the vCPU run area: %s", strerror(errno));
        close(v->fd);
        free(v);
        return -1;
    }
    /* The guest TSC ticks at the model's rate, as under the translator: the
     * APIC's TSC-deadline timer counts on it. Without TSC scaling the guest
     * keeps the host's rate and CPUID hides the TSC-deadline timer. */
    s->tsc_scaled = ioctl(v->fd, KVM_SET_TSC_KHZ, (unsigned long)(X86_TSC_HZ / 1000)) == 0;
    if (kvm_setup_cpuid(s, v, cpu->env, err, errlen) < 0)
        return -1;
    /* KVM_RUN runs with the thread's mask minus the kick signal. */
    sigset_t set;
    pthread_sigmask(SIG_SETMASK, NULL, &set);
    sigdelset(&set, KICK_SIGNAL);
    struct { struct kvm_signal_mask hdr; uint8_t bits[8]; } mask = { .hdr.len = 8 };
    memcpy(mask.bits, &set, 8);
    if (ioctl(v->fd, KVM_SET_SIGNAL_MASK, &mask) < 0) {
        snprintf(err, errlen, "-accel kvm: KVM_SET_SIGNAL_MASK: %s", strerror(errno));
        return -1;
    }
    cpu->accel_state = v;
    cpu->env->accel = v;
    return 0;
}

/* ---------------------------------------------------------------- exits */

static void handle_io(Machine *m, struct kvm_run *run)
{
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    unsigned size = run->io.size;
    machine_lock();
    for (uint32_t i = 0; i < run->io.count; i++, data += size) {
        if (run->io.direction == KVM_EXIT_IO_OUT)
            as_write(m->io, run->io.port, ldn(data, size), size);
        else
            stn(data, size, as_read(m->io, run->io.port, size));
    }
    machine_unlock();
}

static void handle_mmio(Machine *m, struct kvm_run *run)
{
    unsigned len = run->mmio.len;
    bool natural = len == 1 || len == 2 || len == 4 || len == 8;
    machine_lock();
    if (run->mmio.is_write) {
        if (natural)
            as_write(m->mem, run->mmio.phys_addr, ldn(run->mmio.data, len), len);
        else
            as_rw_buf(m->mem, run->mmio.phys_addr, run->mmio.data, MIN(len, 8u), true);
    } else {
        if (natural)
            stn(run->mmio.data, len, as_read(m->mem, run->mmio.phys_addr, len));
        else
            as_rw_buf(m->mem, run->mmio.phys_addr, run->mmio.data, MIN(len, 8u), false);
    }
    machine_unlock();
}

/* RDMSR/WRMSR of an MSR KVM does not handle: the CPU model's MSR code
 * answers (the local APIC's x2APIC registers among others), unless the MSR
 * needs a CPUID bit the guest does not see; error = #GP. */
static void handle_msr(VCPU *cpu, KVMVCPU *v, struct kvm_run *run)
{
    uint64_t value = run->msr.data;
    int r = -1;
    machine_lock();
    if (!kvm_msr_hidden(v, run->msr.index))
        r = run->exit_reason == KVM_EXIT_X86_RDMSR ? x86_msr_read(cpu->env, run->msr.index, &value)
                                                   : x86_msr_write(cpu->env, run->msr.index, value);
    machine_unlock();
    run->msr.error = r < 0;
    if (run->exit_reason == KVM_EXIT_X86_RDMSR)
        run->msr.data = r < 0 ? 0 : value;
}

/* KVM could not run the guest: say why, with the registers, and end with
 * exit status 1. */
static void report_failure(VCPU *cpu, KVMVCPU *v, const char *what)
{
    char err[256];
    struct kvm_run *run = v->run;
    error_report("kvm: vCPU %d: %s", cpu->index, what);
    if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
        error_report("kvm: hardware entry failure reason 0x%llx",
                     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
    if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
        error_report("kvm: internal error suberror %u", run->internal.suberror);
        for (uint32_t i = 0; i < run->internal.ndata && i < 16; i++)
            fprintf(stderr, "  data[%u] = 0x%llx\n", i, (unsigned long long)run->internal.data[i]);
    }
    if (kvm_get_state(v, cpu->env, err, sizeof(err)) < 0)
        error_report("%s", err);
    else if (x86_cpu_dump_state)
        x86_cpu_dump_state(cpu->env, stderr);
    else
        fprintf(stderr, "RIP=%016llx CR0=%08llx EFER=%llx\n", (unsigned long long)cpu->env->rip,
                (unsigned long long)cpu->env->cr[0], (unsigned long long)cpu->env->efer);
    machine_request_shutdown(1);
}

/* CR8 is the local APIC's task priority. With the APIC in userspace, KVM
 * keeps the guest's CR8 in kvm_run: the APIC's value (MMIO writes change it)
 * goes in before each entry, the guest's MOV CR8 writes come out after each
 * exit. */
static void tpr_to_kvm(CPUX86State *env, KVMVCPU *v)
{
    if (env->apic && x86_apic_hooks && x86_apic_hooks->get_tpr) {
        v->run->cr8 = x86_apic_hooks->get_tpr(env->apic);
        v->last_cr8 = v->run->cr8;
    }
}

static void tpr_from_kvm(CPUX86State *env, KVMVCPU *v)
{
    if (env->apic && x86_apic_hooks && x86_apic_hooks->set_tpr && v->run->cr8 != v->last_cr8)
        x86_apic_hooks->set_tpr(env->apic, (uint8_t)(v->run->cr8 & 15));
}

/* Inject a pending PIC interrupt when the guest can take it, else ask KVM to
 * exit as soon as it can. */
static void inject_interrupts(VCPU *cpu, KVMVCPU *v)
{
    CPUX86State *env = cpu->env;
    struct kvm_run *run = v->run;
    unsigned req = atomic_load(&env->interrupt_request);
    run->request_interrupt_window = 0;
    if (v->guest_debug && gdb_single_stepping(env))
        return;                                /* gdb steps with interrupts off */
    if (req & CPU_INTERRUPT_NMI) {
        atomic_fetch_and(&env->interrupt_request, ~CPU_INTERRUPT_NMI);
        ioctl(v->fd, KVM_NMI);
    }
    if (!(req & CPU_INTERRUPT_HARD) || !env->intack)
        return;
    if (run->ready_for_interrupt_injection && run->if_flag) {
        machine_lock();
        int vector = env->intack(env);
        machine_unlock();
        if (vector >= 0) {
            struct kvm_interrupt irq = { .irq = (uint32_t)vector };
            ioctl(v->fd, KVM_INTERRUPT, &irq);
        }
    } else {
        run->request_interrupt_window = 1;
    }
}

/* Halted (HLT, or an AP waiting for its start-up IPI): sleep until there
 * is work (x86_cpu_has_work: an interrupt the guest can take, NMI, INIT,
 * SIPI) or a stop request. KVM is not entered meanwhile. */
static void wait_while_halted(VCPU *cpu)
{
    CPUX86State *env = cpu->env;
    while (!vcpu_should_stop(cpu) && !x86_cpu_has_work(env))
        vcpu_wait_for_event(cpu, -1);
    if (!vcpu_should_stop(cpu) && !env->wait_for_sipi)
        env->halted = false;
}

/* HLT exit: the guest's IF decides whether an interrupt can wake it. */
static void enter_halt(VCPU *cpu, KVMVCPU *v)
{
    CPUX86State *env = cpu->env;
    env->eflags = (env->eflags & ~(uint64_t)IF_MASK) | (v->run->if_flag ? IF_MASK : 0);
    env->halted = true;
    wait_while_halted(cpu);
}

/* INIT: the reset state, except that MTRRs, PAT, the APIC base and the TSC
 * survive; an AP then waits for a start-up IPI. (Not through
 * x86_cpu_exec_interrupt: that also flushes the translator's TLB, which a
 * KVM vCPU does not have.) */
static void do_init(CPUX86State *env)
{
    uint64_t pat = env->pat, apic_base = env->apic_base, tsc_offset = env->tsc_offset;
    uint64_t mtrr_deftype = env->mtrr_deftype, mtrr_fixed[11], mtrr_var[16];
    memcpy(mtrr_fixed, env->mtrr_fixed, sizeof(mtrr_fixed));
    memcpy(mtrr_var, env->mtrr_var, sizeof(mtrr_var));
    x86_cpu_reset(env);
    env->pat = pat;
    env->apic_base = apic_base;
    env->tsc_offset = tsc_offset;
    env->mtrr_deftype = mtrr_deftype;
    memcpy(env->mtrr_fixed, mtrr_fixed, sizeof(mtrr_fixed));
    memcpy(env->mtrr_var, mtrr_var, sizeof(mtrr_var));
    bool ap = !(apic_base & (1u << 8));
    env->halted = ap;
    env->wait_for_sipi = ap;
}

/* Start-up IPI: real mode at vector:0000. */
static void do_sipi(CPUX86State *env)
{
    env->wait_for_sipi = false;
    env->halted = false;
    env->segs[R_CS].selector = (uint16_t)(env->sipi_vector << 8);
    env->segs[R_CS].base = (uint64_t)(env->sipi_vector & 0xff) << 12;
    env->rip = 0;
    kvm_env_update_hflags(env);
}

/* INIT and start-up IPIs from the local APIC model: done on env, then the
 * whole state goes to KVM. */
static int handle_init_sipi(VCPU *cpu, KVMVCPU *v, char *err, size_t errlen)
{
    CPUX86State *env = cpu->env;
    unsigned req = atomic_load(&env->interrupt_request);
    if (!(req & (CPU_INTERRUPT_INIT | CPU_INTERRUPT_SIPI)))
        return 0;
    kvm_complete_pending_exit(v);
    if (kvm_get_state(v, env, err, errlen) < 0)
        return -1;
    if (req & CPU_INTERRUPT_INIT) {
        /* a start-up IPI sent after the INIT survives it (the next turn takes it) */
        atomic_fetch_and(&env->interrupt_request, ~CPU_INTERRUPT_INIT);
        unsigned sipi = atomic_load(&env->interrupt_request) & CPU_INTERRUPT_SIPI;
        do_init(env);
        atomic_fetch_or(&env->interrupt_request, sipi);
    } else {
        atomic_fetch_and(&env->interrupt_request, ~CPU_INTERRUPT_SIPI);
        if (env->wait_for_sipi)
            do_sipi(env);
    }
    memset(v->pending_irq_bitmap, 0, sizeof(v->pending_irq_bitmap));
    v->events_valid = false;
    return kvm_put_state(v, env, err, errlen);
}

/* After a shutdown or failure the vCPU must not run again until a reset or
 * the end: park in the run function. */
static void wait_for_stop(VCPU *cpu)
{
    while (!vcpu_should_stop(cpu))
        vcpu_wait_for_event(cpu, -1);
}

/* Handles one exit; returns false when the vCPU cannot continue. */
static bool handle_exit(VCPU *cpu, KVMVCPU *v)
{
    struct kvm_run *run = v->run;
    Machine *m = cpu->machine;
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        handle_io(m, run);
        return true;
    case KVM_EXIT_MMIO:
        handle_mmio(m, run);
        return true;
    case KVM_EXIT_HLT:
        enter_halt(cpu, v);
        return true;
    case KVM_EXIT_X86_RDMSR:
    case KVM_EXIT_X86_WRMSR:
        handle_msr(cpu, v, run);
        return true;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
    case KVM_EXIT_INTR:
        return true;
    case KVM_EXIT_DEBUG:
        kvm_handle_debug_exit(cpu, v);
        return true;
    case KVM_EXIT_SHUTDOWN:
        /* Triple fault: the machine resets (or exits with -no-reboot). */
        machine_request_reset();
        return false;
    case KVM_EXIT_SYSTEM_EVENT:
        if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
            machine_request_shutdown(0);
        else
            machine_request_reset();
        return false;
    case KVM_EXIT_FAIL_ENTRY:
        report_failure(cpu, v, "KVM cannot enter the guest (invalid CPU state)");
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        report_failure(cpu, v, "KVM internal error (an instruction it cannot emulate?)");
        return false;
    default: {
        char what[64];
        snprintf(what, sizeof(what), "unexpected KVM exit reason %u", run->exit_reason);
        report_failure(cpu, v, what);
        return false;
    }
    }
}

/* After an I/O or MMIO exit KVM still owes the instruction its end (the
 * data of an IN or MMIO read goes to the register, RIP moves on) at the next
 * KVM_RUN. Before the state is read or replaced, enter once with
 * immediate_exit so that it finishes; otherwise a later state change (reset,
 * debugger, INIT) would be overwritten by that completion. */
void kvm_complete_pending_exit(KVMVCPU *v)
{
    v->run->immediate_exit = 1;
    ioctl(v->fd, KVM_RUN, 0);
    v->run->immediate_exit = 0;
    eat_kick_signals();
}

/* Consume pending kicks, which would otherwise make every KVM_RUN return
 * EINTR at once. */
static void eat_kick_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, KICK_SIGNAL);
    struct timespec zero = { 0, 0 };
    while (sigtimedwait(&set, NULL, &zero) > 0)
        ;
}

static void block_kick_signal(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, KICK_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void kvm_vcpu_run(VCPU *cpu)
{
    KVMVCPU *v = cpu->accel_state;
    char err[256];
    block_kick_signal();
    if (kvm_put_state(v, cpu->env, err, sizeof(err)) < 0) {
        error_report("%s", err);
        report_failure(cpu, v, "cannot set the CPU state");
        wait_for_stop(cpu);
        return;
    }
    kvm_update_guest_debug(cpu, v);
    bool ok = true;
    while (ok && !vcpu_should_stop(cpu)) {
        atomic_store(&cpu->exit_request, 0);
        if (handle_init_sipi(cpu, v, err, sizeof(err)) < 0) {
            report_failure(cpu, v, err);
            ok = false;
            break;
        }
        if (cpu->env->halted || cpu->env->wait_for_sipi) {
            wait_while_halted(cpu);
            continue;
        }
        tpr_to_kvm(cpu->env, v);
        inject_interrupts(cpu, v);
        int r = ioctl(v->fd, KVM_RUN, 0);
        tpr_from_kvm(cpu->env, v);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                eat_kick_signals();
                continue;
            }
            snprintf(err, sizeof(err), "KVM_RUN: %s", strerror(errno));
            report_failure(cpu, v, err);
            ok = false;
            break;
        }
        ok = handle_exit(cpu, v);
    }
    kvm_complete_pending_exit(v);
    if (kvm_get_state(v, cpu->env, err, sizeof(err)) < 0)
        error_report("%s", err);
    if (!ok)
        wait_for_stop(cpu);
}

static void kvm_vcpu_kick(VCPU *cpu)
{
    if (cpu->thread && !pthread_equal(cpu->thread, pthread_self()))
        pthread_kill(cpu->thread, KICK_SIGNAL);
}

static void kvm_vcpu_state_changed(VCPU *cpu)
{
    KVMVCPU *v = cpu->accel_state;
    /* The state is pushed at the next vcpu_run; a reset drops what KVM had
     * accepted but not delivered. */
    if (v) {
        memset(v->pending_irq_bitmap, 0, sizeof(v->pending_irq_bitmap));
        v->events_valid = false;
    }
}

static void kvm_memory_changed(Machine *m)
{
    (void)m;
    kvm_mem_sync(&kvm_state);
}

AccelOps accel_kvm_ops = {
    .name = "kvm",
    .init = kvm_init,
    .vcpu_init = kvm_vcpu_init,
    .vcpu_run = kvm_vcpu_run,
    .vcpu_kick = kvm_vcpu_kick,
    .vcpu_state_changed = kvm_vcpu_state_changed,
    .memory_changed = kvm_memory_changed,
};
