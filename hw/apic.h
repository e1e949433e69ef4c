/* The local APIC of each vCPU (xAPIC mode; x2APIC is not advertised), and the
 * APIC "bus" that carries interrupt messages between local APICs, the I/O
 * APIC and (later) MSI-capable devices.
 *
 * Facts from the Intel SDM vol. 3, chapter 11 (Advanced Programmable
 * Interrupt Controller). Version 0x50014: six LVT entries (timer, thermal,
 * performance, LINT0, LINT1, error), no EOI-broadcast suppression.
 *
 * The timer counts the 1 GHz APIC bus clock (divided by the divide
 * configuration) on CLOCK_VIRTUAL; TSC-deadline mode compares against the
 * guest TSC (cpu.h: TSC = CLOCK_VIRTUAL * X86_TSC_HZ / 1e9 + tsc_offset).
 * Periodic expiries are computed from the start time (no drift); periodic
 * ticks that find the timer's IRR bit still set, or that a late host timer
 * finds due together, are kept in a backlog (APIC_TIMER_MAX_BACKLOG) and
 * requested one by one as the guest accepts the previous (no lost ticks).
 * One-shot and TSC-deadline expiries coalesce as on hardware.
 *
 * Interrupt output: the APIC owns the CPU's CPU_INTERRUPT_HARD bit. The CPU
 * (env->intack = apic_intack) asks for the vector when it can take an
 * interrupt: an ExtINT (LINT0 in ExtINT mode, or an I/O APIC entry in ExtINT
 * mode) is acknowledged from the 8259 through the bus's PIC callback; otherwise
 * the highest IRR vector above the processor priority moves to the ISR.
 * NMI, INIT, SIPI and SMI are raised as CPU_INTERRUPT_NMI/INIT/SIPI/SMI.
 *
 * Locking: everything runs with the machine lock held. The CPU hooks
 * (apic_cpu_hooks: CR8, APIC_BASE and TSC_DEADLINE writes from a vCPU thread)
 * and apic_intack take it themselves when the caller does not hold it.
 *
 * ---- How the board wires it (hw/pc.c, "local APICs and the I/O APIC") ------------
 *   ApicBus *bus = apic_bus_new(m->mem);
 *   apic_bus_set_pic(bus, pic_ack_fn, pic);       // ExtINT acknowledge -> pic_intack
 *   for each vCPU i (after cpus_init):
 *       apic_create(bus, m->cpus[i]->env, i);     // sets env->apic, env->intack
 *   IoApicState *io = ioapic_create(m->mem, bus, IOAPIC_DEFAULT_BASE, ncpus);
 *   m->gsi = io->in;                              // 24 GSIs; i440fx drives 16-19 (PIRQ A-D)
 *   PIC INT output (pic_create's int_out) -> an IrqLine whose handler calls
 *       apic_deliver_pic_intr(bsp_apic, level)    // LINT0 (virtual wire)
 *   every ISA IRQ n also drives GSI n, except IRQ 0 (PIT) -> GSI 2 (as the MADT
 *       interrupt source override says): m->isa_irq = IoApicIsaFanout.isa_irq
 *       (hw/ioapic.h), which sets both pic->in[n] and m->gsi[n == 0 ? 2 : n];
 *   apic_cpu_hooks_install() once, so that CR8, IA32_APIC_BASE and
 *       IA32_TSC_DEADLINE reach the APIC (cpu/x86/msr.c, cr.c call them);
 *   ACPI: AcpiConfig.has_apic = true (the MADT lists the APICs).
 * Reset: apic_create and ioapic_create register machine reset handlers.
 *
 * ---- Under KVM (no in-kernel irqchip: these models serve KVM too) ----------------
 * APIC MMIO exits reach the region like translator accesses. KVM itself
 * handles CR8, IA32_APIC_BASE and IA32_TSC_DEADLINE, so accel/kvm.c must:
 * set run->cr8 = apic_get_tpr() before KVM_RUN and call apic_set_tpr(run->cr8)
 * after an exit (KVM_EXIT_SET_TPR is what a guest lowering CR8 causes); call
 * apic_set_base() when run->apic_base changed; and not advertise the
 * TSC-deadline CPUID bit (the kernel would swallow the MSR writes). */
#ifndef HW_APIC_H
#define HW_APIC_H

#include <stdio.h>
#include "cpu/x86/cpu.h"
#include "system/memory.h"
#include "system/timer.h"

#define APIC_DEFAULT_BASE 0xfee00000ULL
#define APIC_BUS_HZ       1000000000ULL   /* timer input before the divider */
#define APIC_VERSION      0x00050014u     /* max LVT entry 5, version 0x14 */
#define APIC_MAX_CPUS     256
/* A periodic timer never fires more often than this (host protection);
 * the current-count register still follows the programmed rate. */
#define APIC_TIMER_MIN_PERIOD_NS 10000
/* Timer ticks remembered while the guest has not accepted the previous one. */
#define APIC_TIMER_MAX_BACKLOG 1000

/* APIC_BASE MSR bits */
#define APIC_BASE_BSP    (1ULL << 8)
#define APIC_BASE_ENABLE (1ULL << 11)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ULL

/* Delivery modes (ICR, LVT, I/O APIC redirection entries, MSI data) */
enum {
    APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
    APIC_DM_INIT = 5, APIC_DM_SIPI = 6, APIC_DM_EXTINT = 7,
};

/* LVT indices */
enum {
    APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PERF, APIC_LVT_LINT0,
    APIC_LVT_LINT1, APIC_LVT_ERROR, APIC_LVT_COUNT
};

/* Timer modes (LVT timer bits 18:17) */
enum { APIC_TIMER_ONESHOT = 0, APIC_TIMER_PERIODIC = 1, APIC_TIMER_TSC_DEADLINE = 2 };

typedef struct ApicBus ApicBus;

typedef struct ApicState {
    ApicBus *bus;
    CPUX86State *env;
    MemoryRegion *mmio;
    uint64_t base;              /* the APIC_BASE MSR value this APIC follows */
    uint8_t id, initial_id;     /* the ID register; the hardware-assigned ID */
    uint32_t tpr, ldr, dfr, svr;
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t esr, esr_pending;  /* ESR reads the errors latched by the last ESR write */
    uint32_t icr_low, icr_high;
    uint32_t lvt[APIC_LVT_COUNT];
    /* LINT0/LINT1 input pin levels */
    bool lint_level[2];
    /* An ExtINT message (from the I/O APIC) waiting for the CPU's acknowledge. */
    bool extint_pending;
    /* Timer. Counting started at start_ns (counts of count_ns each since
     * then); last_expiry_ns is the last period boundary already ticked. */
    uint32_t initial_count, divide_conf;
    int64_t start_ns, last_expiry_ns;
    Timer timer;
    unsigned timer_backlog;
    uint64_t tsc_deadline;      /* armed deadline (0: disarmed) */
} ApicState;

/* An interrupt message on the APIC bus. */
typedef struct ApicMessage {
    uint8_t vector;
    uint8_t delivery_mode;      /* APIC_DM_* */
    bool logical;               /* destination mode */
    uint8_t dest;               /* APIC ID (physical) or MDA (logical); 0xff broadcast */
    bool level_triggered;       /* trigger mode: fixed/lowest interrupts set TMR */
    bool assert;                /* level: 0 only for INIT level de-assert */
} ApicMessage;

/* ---- the bus ---------------------------------------------------------------- */
ApicBus *apic_bus_new(AddressSpace *mem);
/* ExtINT: ask the 8259 for the vector (pic_intack). */
void apic_bus_set_pic(ApicBus *bus, int (*pic_ack)(void *opaque), void *opaque);
/* Called when a local APIC EOIs a level-triggered vector (the I/O APIC's
 * remote IRR). One listener; ioapic_create registers itself. */
void apic_bus_set_eoi_listener(ApicBus *bus, void (*eoi)(void *opaque, int vector),
                               void *opaque);
/* Deliver a message to the APICs it addresses. */
void apic_bus_deliver(ApicBus *bus, const ApicMessage *msg);
/* An MSI write (address 0xfeeXXXXX, data) from a device. */
void apic_bus_msi(ApicBus *bus, uint64_t addr, uint32_t data);
ApicState *apic_bus_find(ApicBus *bus, uint8_t id);

/* ---- a local APIC ------------------------------------------------------------ */
/* Create the APIC for env with this APIC ID: maps its registers at the
 * APIC_BASE address in the bus's address space, sets env->apic and
 * env->intack = apic_intack, and registers a reset handler. */
ApicState *apic_create(ApicBus *bus, CPUX86State *env, uint8_t id);
/* Power-on / machine reset state (BSP: LINT0 in ExtINT mode as firmware
 * leaves it, so the 8259 passes through), and the INIT state (ID kept). */
void apic_reset(ApicState *s);
void apic_init_reset(ApicState *s);

/* Interrupt acceptance by the CPU: is an interrupt pending that the CPU
 * would take now (ExtINT or IRR above PPR)? */
bool apic_has_interrupt(ApicState *s);
/* Acknowledge: the vector (ExtINT from the PIC, or IRR->ISR), or the spurious
 * vector when nothing is pending. */
int apic_get_interrupt(ApicState *s);
/* env->intack for CPUs with an APIC. */
int apic_intack(CPUX86State *env);

/* A fixed interrupt arrives (sets IRR, TMR per trigger_level). */
void apic_set_irq(ApicState *s, int vector, int trigger_level);
/* LINT0/LINT1 pin levels; LINT0 carries the 8259's INT output. */
void apic_set_lint(ApicState *s, int pin, int level);
void apic_deliver_pic_intr(ApicState *s, int level);

/* The CPU side: IA32_APIC_BASE write, CR8 (TPR bits 7:4), IA32_TSC_DEADLINE. */
void apic_set_base(ApicState *s, uint64_t value);
void apic_set_tpr(ApicState *s, uint8_t cr8);
uint8_t apic_get_tpr(ApicState *s);
void apic_set_tsc_deadline(ApicState *s, uint64_t tsc);
/* Is the APIC enabled in IA32_APIC_BASE (else the CPU sees the 8259 directly)? */
bool apic_hw_enabled(const ApicState *s);

/* Register access by offset (what the MMIO region calls; KVM or x2APIC later). */
uint32_t apic_reg_read(ApicState *s, uint32_t offset);
void apic_reg_write(ApicState *s, uint32_t offset, uint32_t value);

/* The state in words ("info lapic", which the bus registers with the monitor). */
void apic_dump(ApicState *s, FILE *f);

/* Install x86_apic_hooks (cpu/x86/helpers.h) so CR8/MSR writes reach the APIC. */
void apic_cpu_hooks_install(void);

#endif
