/* Local APIC (xAPIC) and the APIC bus. Facts from the Intel SDM vol. 3,
 * chapter 11. See hw/apic.h for the model and the board wiring. */
#include "hw/apic.h"

#include <pthread.h>
#include "cpu/x86/helpers.h"
#include "system/cpus.h"
#include "system/log.h"
#include "system/machine.h"
#include "system/mainloop.h"
#include "system/monitor.h"

/* Register indices: MMIO offset >> 4. */
enum {
    REG_ID = 0x02, REG_VERSION = 0x03, REG_TPR = 0x08, REG_APR = 0x09,
    REG_PPR = 0x0a, REG_EOI = 0x0b, REG_RRD = 0x0c, REG_LDR = 0x0d,
    REG_DFR = 0x0e, REG_SVR = 0x0f, REG_ISR = 0x10, REG_TMR = 0x18,
    REG_IRR = 0x20, REG_ESR = 0x28, REG_LVT_CMCI = 0x2f, REG_ICR_LOW = 0x30,
    REG_ICR_HIGH = 0x31, REG_LVT_FIRST = 0x32, REG_LVT_LAST = 0x37,
    REG_TIMER_INITIAL = 0x38, REG_TIMER_CURRENT = 0x39, REG_TIMER_DIVIDE = 0x3e,
};

#define LVT_MASKED        (1u << 16)
#define LVT_LEVEL_TRIGGER (1u << 15)
#define LVT_REMOTE_IRR    (1u << 14)
#define LVT_DELIVERY_STATUS (1u << 12)
#define SVR_ENABLE        (1u << 8)
#define SVR_WRITABLE      0x000003ffu    /* vector, enable, focus-check disable */
#define ICR_DEST_LOGICAL  (1u << 11)
#define ICR_LEVEL_ASSERT  (1u << 14)
#define ICR_LEVEL_TRIGGER (1u << 15)
#define ICR_LOW_WRITABLE  0x000ccfffu    /* vector, mode, dest mode, level, trigger, shorthand */

/* ESR bits */
#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define ESR_ILLEGAL_REGISTER    (1u << 7)

/* Writable bits of each LVT entry (delivery status and remote IRR are read-only). */
static const uint32_t lvt_writable[APIC_LVT_COUNT] = {
    [APIC_LVT_TIMER]   = 0x000700ffu,   /* vector, mask, timer mode */
    [APIC_LVT_THERMAL] = 0x000107ffu,   /* vector, delivery mode, mask */
    [APIC_LVT_PERF]    = 0x000107ffu,
    [APIC_LVT_LINT0]   = 0x0001a7ffu,   /* + polarity, trigger mode */
    [APIC_LVT_LINT1]   = 0x0001a7ffu,
    [APIC_LVT_ERROR]   = 0x000100ffu,   /* vector, mask */
};

struct ApicBus {
    AddressSpace *mem;
    ApicState *apics[APIC_MAX_CPUS];
    int napics;
    int (*pic_ack)(void *opaque);
    void *pic_opaque;
    void (*eoi)(void *opaque, int vector);
    void *eoi_opaque;
};

/* ---- 256-bit vectors (IRR, ISR, TMR) ------------------------------------------ */

static void bit_set(uint32_t *v, int n) { v[n >> 5] |= 1u << (n & 31); }
static void bit_clear(uint32_t *v, int n) { v[n >> 5] &= ~(1u << (n & 31)); }
static bool bit_test(const uint32_t *v, int n) { return v[n >> 5] & (1u << (n & 31)); }

/* The highest vector set, or -1. */
static int bit_highest(const uint32_t *v)
{
    for (int i = 7; i >= 0; i--)
        if (v[i])
            return i * 32 + 31 - __builtin_clz(v[i]);
    return -1;
}

/* ---- CPU interface ------------------------------------------------------------ */

static void cpu_raise(CPUX86State *env, unsigned mask)
{
    atomic_fetch_or(&env->interrupt_request, mask);
    if (env->vcpu)
        vcpu_kick(env->vcpu);
}

static void cpu_lower(CPUX86State *env, unsigned mask)
{
    atomic_fetch_and(&env->interrupt_request, ~mask);
}

bool apic_hw_enabled(const ApicState *s) { return s->base & APIC_BASE_ENABLE; }
static bool sw_enabled(const ApicState *s) { return s->svr & SVR_ENABLE; }
static int lvt_mode(uint32_t lvt) { return (lvt >> 8) & 7; }

/* ---- priorities ------------------------------------------------------------------ */

static uint32_t ppr(const ApicState *s)
{
    int isrv = bit_highest(s->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (s->tpr & 0xf0) >= isr_class ? s->tpr & 0xff : isr_class;
}

static uint32_t apr(const ApicState *s)
{
    int isrv = bit_highest(s->isr), irrv = bit_highest(s->irr);
    uint32_t tpr_class = s->tpr & 0xf0;
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    uint32_t irr_class = irrv < 0 ? 0 : (uint32_t)irrv & 0xf0;
    if (tpr_class >= irr_class && tpr_class > isr_class)
        return s->tpr & 0xff;
    return MAX(tpr_class, MAX(isr_class, irr_class));
}

/* The IRR vector the CPU would take now, or -1. */
static int deliverable_vector(const ApicState *s)
{
    if (!sw_enabled(s))
        return -1;
    int v = bit_highest(s->irr);
    if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(s) & 0xf0))
        return -1;
    return v;
}

/* LINT0 in ExtINT mode with the 8259's INT high: virtual wire. */
static bool extint_wanted(const ApicState *s)
{
    uint32_t l = s->lvt[APIC_LVT_LINT0];
    bool lint0 = !(l & LVT_MASKED) && lvt_mode(l) == APIC_DM_EXTINT && s->lint_level[0];
    return lint0 || s->extint_pending;
}

/* Drive the CPU's INTR request from the APIC state. */
static void update_output(ApicState *s)
{
    bool want;
    if (!apic_hw_enabled(s))
        want = s->lint_level[0];            /* no APIC: the 8259 goes straight in */
    else
        want = extint_wanted(s) || deliverable_vector(s) >= 0;
    if (want)
        cpu_raise(s->env, CPU_INTERRUPT_HARD);
    else
        cpu_lower(s->env, CPU_INTERRUPT_HARD);
}

bool apic_has_interrupt(ApicState *s)
{
    if (!apic_hw_enabled(s))
        return s->lint_level[0];
    return extint_wanted(s) || deliverable_vector(s) >= 0;
}

/* ---- errors -------------------------------------------------------------------- */

static void record_error(ApicState *s, uint32_t bits)
{
    bool new_bits = bits & ~s->esr_pending;
    s->esr_pending |= bits;
    uint32_t l = s->lvt[APIC_LVT_ERROR];
    /* An illegal error vector would report itself again: stop there. */
    if (new_bits && !(l & LVT_MASKED) && (l & 0xff) >= 16)
        apic_set_irq(s, l & 0xff, 0);
}

/* ---- accepting interrupts ------------------------------------------------------ */

void apic_set_irq(ApicState *s, int vector, int trigger_level)
{
    if (vector < 16 || vector > 255) {
        record_error(s, ESR_RECV_ILLEGAL_VECTOR);
        return;
    }
    bit_set(s->irr, vector);
    if (trigger_level)
        bit_set(s->tmr, vector);
    else
        bit_clear(s->tmr, vector);
    update_output(s);
}

static int pic_acknowledge(ApicState *s)
{
    ApicBus *bus = s->bus;
    return bus->pic_ack ? bus->pic_ack(bus->pic_opaque) : -1;
}

/* A timer interrupt was accepted: the next remembered tick may be requested. */
static void timer_vector_accepted(ApicState *s, int vector)
{
    uint32_t l = s->lvt[APIC_LVT_TIMER];
    if (l & LVT_MASKED)
        s->timer_backlog = 0;
    if (s->timer_backlog && vector == (int)(l & 0xff) && !bit_test(s->irr, vector)) {
        s->timer_backlog--;
        bit_set(s->irr, vector);
        bit_clear(s->tmr, vector);
    }
}

int apic_get_interrupt(ApicState *s)
{
    int vector;
    if (!apic_hw_enabled(s)) {
        vector = pic_acknowledge(s);
    } else if (extint_wanted(s)) {
        s->extint_pending = false;          /* ExtINT bypasses IRR, ISR and PPR */
        vector = pic_acknowledge(s);
    } else if ((vector = deliverable_vector(s)) >= 0) {
        bit_clear(s->irr, vector);
        bit_set(s->isr, vector);
        timer_vector_accepted(s, vector);
    } else {
        vector = s->svr & 0xff;             /* spurious: no ISR bit, no EOI */
    }
    update_output(s);
    return vector;
}

int apic_intack(CPUX86State *env)
{
    bool lock = !machine_lock_held();
    if (lock)
        machine_lock();
    int vector = env->apic ? apic_get_interrupt(env->apic) : -1;
    if (lock)
        machine_unlock();
    return vector;
}

static void eoi(ApicState *s)
{
    int v = bit_highest(s->isr);
    if (v < 0)
        return;
    bit_clear(s->isr, v);
    if (bit_test(s->tmr, v) && s->bus->eoi)
        s->bus->eoi(s->bus->eoi_opaque, v);   /* level-triggered: I/O APIC remote IRR */
    update_output(s);
}

/* ---- the bus: delivering messages ----------------------------------------------- */

static void accept_message(ApicState *s, const ApicMessage *m)
{
    switch (m->delivery_mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        apic_set_irq(s, m->vector, m->level_triggered);
        break;
    case APIC_DM_SMI:
        cpu_raise(s->env, CPU_INTERRUPT_SMI);
        break;
    case APIC_DM_NMI:
        cpu_raise(s->env, CPU_INTERRUPT_NMI);
        break;
    case APIC_DM_INIT:
        apic_init_reset(s);
        cpu_lower(s->env, CPU_INTERRUPT_SIPI);     /* only a later SIPI starts it */
        cpu_raise(s->env, CPU_INTERRUPT_INIT);
        break;
    case APIC_DM_SIPI:
        s->env->sipi_vector = m->vector;
        cpu_raise(s->env, CPU_INTERRUPT_SIPI);
        break;
    case APIC_DM_EXTINT:
        s->extint_pending = true;
        update_output(s);
        break;
    default:
        LOG_ONCE(LOG_GUEST_ERRORS, 0, "apic: reserved delivery mode %d ignored\n",
                 m->delivery_mode);
        break;
    }
}

static bool destination_matches(const ApicState *s, const ApicMessage *m)
{
    if (!m->logical)
        return m->dest == 0xff || m->dest == s->id;
    uint8_t ldr = (uint8_t)(s->ldr >> 24);
    if ((s->dfr >> 28) == 0xf)                       /* flat model: a bit per APIC */
        return (ldr & m->dest) != 0;
    uint8_t cluster = m->dest >> 4;                  /* cluster model */
    if (cluster != 0xf && cluster != ldr >> 4)
        return false;
    return (m->dest & ldr & 0xf) != 0;
}

/* Lowest priority: the target with the lowest arbitration priority. */
static ApicState *lowest_priority(ApicState **targets, int n)
{
    ApicState *best = targets[0];
    for (int i = 1; i < n; i++)
        if (apr(targets[i]) < apr(best))
            best = targets[i];
    return best;
}

static void deliver_to_set(ApicState **targets, int n, const ApicMessage *m)
{
    if (n == 0)
        return;
    if (m->delivery_mode == APIC_DM_LOWEST) {
        accept_message(lowest_priority(targets, n), m);
        return;
    }
    for (int i = 0; i < n; i++)
        accept_message(targets[i], m);
}

void apic_bus_deliver(ApicBus *bus, const ApicMessage *m)
{
    ApicState *targets[APIC_MAX_CPUS];
    int n = 0;
    for (int i = 0; i < bus->napics; i++) {
        ApicState *s = bus->apics[i];
        if (apic_hw_enabled(s) && destination_matches(s, m))
            targets[n++] = s;
    }
    deliver_to_set(targets, n, m);
}

void apic_bus_msi(ApicBus *bus, uint64_t addr, uint32_t data)
{
    if ((addr & 0xfff00000ULL) != 0xfee00000ULL) {
        LOG_ONCE(LOG_GUEST_ERRORS, 0, "apic: MSI to 0x%" PRIx64 " outside 0xfeexxxxx ignored\n",
                 addr);
        return;
    }
    ApicMessage m = {
        .vector = (uint8_t)data,
        .delivery_mode = (data >> 8) & 7,
        .logical = addr & (1u << 2),
        .dest = (uint8_t)(addr >> 12),
        .level_triggered = data & (1u << 15),
        .assert = true,
    };
    apic_bus_deliver(bus, &m);
}

ApicState *apic_bus_find(ApicBus *bus, uint8_t id)
{
    for (int i = 0; i < bus->napics; i++)
        if (bus->apics[i]->id == id)
            return bus->apics[i];
    return NULL;
}

ApicBus *apic_bus_new(AddressSpace *mem)
{
    ApicBus *bus = xzalloc(sizeof(*bus));
    bus->mem = mem;
    return bus;
}

void apic_bus_set_pic(ApicBus *bus, int (*pic_ack)(void *opaque), void *opaque)
{
    bus->pic_ack = pic_ack;
    bus->pic_opaque = opaque;
}

void apic_bus_set_eoi_listener(ApicBus *bus, void (*fn)(void *opaque, int vector),
                               void *opaque)
{
    bus->eoi = fn;
    bus->eoi_opaque = opaque;
}

/* ---- inter-processor interrupts (ICR) ------------------------------------------- */

static void send_ipi(ApicState *s)
{
    uint32_t lo = s->icr_low;
    ApicMessage m = {
        .vector = (uint8_t)lo,
        .delivery_mode = (lo >> 8) & 7,
        .logical = lo & ICR_DEST_LOGICAL,
        .dest = (uint8_t)(s->icr_high >> 24),
        .level_triggered = lo & ICR_LEVEL_TRIGGER,
        .assert = lo & ICR_LEVEL_ASSERT,
    };
    /* INIT level de-assert only synchronises arbitration IDs. */
    if (m.delivery_mode == APIC_DM_INIT && !m.assert && m.level_triggered)
        return;
    if ((m.delivery_mode == APIC_DM_FIXED || m.delivery_mode == APIC_DM_LOWEST) &&
        m.vector < 16)
        record_error(s, ESR_SEND_ILLEGAL_VECTOR);
    ApicBus *bus = s->bus;
    ApicState *targets[APIC_MAX_CPUS];
    int n = 0;
    switch ((lo >> 18) & 3) {
    case 0:                                          /* destination field */
        apic_bus_deliver(bus, &m);
        return;
    case 1:                                          /* self */
        targets[n++] = s;
        break;
    case 2:                                          /* all including self */
    case 3:                                          /* all excluding self */
        for (int i = 0; i < bus->napics; i++) {
            ApicState *t = bus->apics[i];
            if (apic_hw_enabled(t) && (t != s || ((lo >> 18) & 3) == 2))
                targets[n++] = t;
        }
        break;
    }
    deliver_to_set(targets, n, &m);
}

/* ---- the timer -------------------------------------------------------------------- */

static int timer_mode(const ApicState *s) { return (s->lvt[APIC_LVT_TIMER] >> 17) & 3; }

/* Nanoseconds per count at the current divide configuration. */
static int64_t count_ns(const ApicState *s)
{
    unsigned v = (s->divide_conf & 3) | ((s->divide_conf >> 1) & 4);
    unsigned divisor = v == 7 ? 1 : 2u << v;
    return (int64_t)divisor * (int64_t)(NS_PER_SEC / APIC_BUS_HZ);
}

static int64_t period_ns(const ApicState *s) { return (int64_t)s->initial_count * count_ns(s); }

static bool count_mode_running(const ApicState *s)
{
    return s->initial_count && timer_mode(s) != APIC_TIMER_TSC_DEADLINE;
}

static uint32_t current_count(const ApicState *s, int64_t now)
{
    if (!count_mode_running(s))
        return 0;
    uint64_t counts = now > s->start_ns ? (uint64_t)(now - s->start_ns) / (uint64_t)count_ns(s) : 0;
    if (timer_mode(s) == APIC_TIMER_PERIODIC)
        return s->initial_count - (uint32_t)(counts % s->initial_count);
    return counts >= s->initial_count ? 0 : s->initial_count - (uint32_t)counts;
}

/* n timer expiries are due: request one interrupt; a periodic timer
 * remembers the rest (and one that finds the previous still in the IRR). */
static void timer_ticks(ApicState *s, uint64_t n)
{
    uint32_t l = s->lvt[APIC_LVT_TIMER];
    if ((l & LVT_MASKED) || n == 0)
        return;
    int vector = l & 0xff;
    if (vector >= 16 && !bit_test(s->irr, vector)) {
        apic_set_irq(s, vector, 0);
        n--;
    } else if (vector < 16) {
        record_error(s, ESR_RECV_ILLEGAL_VECTOR);
        return;
    }
    if (timer_mode(s) != APIC_TIMER_PERIODIC)
        return;                              /* a single expiry coalesces, as on hardware */
    uint64_t backlog = s->timer_backlog + n;
    s->timer_backlog = (unsigned)MIN(backlog, (uint64_t)APIC_TIMER_MAX_BACKLOG);
}

/* The guest TSC value reaches tsc at this CLOCK_VIRTUAL time (ns, rounded up);
 * 0 for a deadline already behind the virtual clock's origin. */
static int64_t tsc_to_virtual_ns(const CPUX86State *env, uint64_t tsc)
{
    uint64_t ticks = tsc - env->tsc_offset;
    if (ticks > (uint64_t)INT64_MAX)
        return 0;
    unsigned __int128 ns = ((unsigned __int128)ticks * NS_PER_SEC + X86_TSC_HZ - 1) / X86_TSC_HZ;
    return ns > (unsigned __int128)INT64_MAX ? INT64_MAX : (int64_t)ns;
}

static void deadline_fire(ApicState *s)
{
    s->tsc_deadline = 0;
    s->env->tsc_deadline = 0;              /* the MSR reads 0 once it fired */
    timer_del(&s->timer);
    timer_ticks(s, 1);
}

/* Arm the timer for the deadline; one already passed fires at once. */
static void deadline_schedule(ApicState *s)
{
    if (timer_mode(s) != APIC_TIMER_TSC_DEADLINE || !s->tsc_deadline) {
        timer_del(&s->timer);
        return;
    }
    int64_t due = tsc_to_virtual_ns(s->env, s->tsc_deadline);
    if (due <= clock_get_ns(CLOCK_VIRTUAL))
        deadline_fire(s);
    else
        timer_mod(&s->timer, due);
}

/* The first periodic expiry strictly after now, no sooner than the host limit. */
static int64_t next_periodic_expiry(const ApicState *s, int64_t now)
{
    int64_t period = period_ns(s);
    int64_t after = now;
    if (period < APIC_TIMER_MIN_PERIOD_NS)
        after = now + APIC_TIMER_MIN_PERIOD_NS - 1;
    int64_t k = after < s->start_ns ? 0 : (after - s->start_ns) / period;
    return s->start_ns + (k + 1) * period;
}

/* (Re)arm the count-mode timer from start_ns. */
static void count_schedule(ApicState *s, int64_t now)
{
    if (!count_mode_running(s)) {
        timer_del(&s->timer);
        return;
    }
    if (timer_mode(s) == APIC_TIMER_PERIODIC) {
        timer_mod(&s->timer, next_periodic_expiry(s, now));
        return;
    }
    int64_t due = s->start_ns + period_ns(s);
    if (due > now)
        timer_mod(&s->timer, due);
    else
        timer_del(&s->timer);                /* one-shot already expired */
}

static void timer_expired(void *opaque)
{
    ApicState *s = opaque;
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    if (timer_mode(s) == APIC_TIMER_TSC_DEADLINE) {
        deadline_schedule(s);                /* fires when the TSC got there */
        return;
    }
    if (!count_mode_running(s))
        return;
    int64_t period = period_ns(s);
    if (timer_mode(s) != APIC_TIMER_PERIODIC) {
        if (now >= s->start_ns + period)
            timer_ticks(s, 1);
        else
            count_schedule(s, now);
        return;
    }
    /* Every period boundary in (last_expiry, now] is a tick. */
    int64_t prev = s->last_expiry_ns > s->start_ns ? s->last_expiry_ns : s->start_ns;
    uint64_t due = (uint64_t)((now - s->start_ns) / period) -
                   (uint64_t)((prev - s->start_ns) / period);
    if (due) {
        s->last_expiry_ns = s->start_ns + (now - s->start_ns) / period * period;
        timer_ticks(s, due);
    }
    timer_mod(&s->timer, next_periodic_expiry(s, now));
}

static void timer_start_counting(ApicState *s, int64_t now)
{
    s->start_ns = now;
    s->last_expiry_ns = now;
    s->timer_backlog = 0;
    count_schedule(s, now);
}

static void write_initial_count(ApicState *s, uint32_t value)
{
    if (timer_mode(s) == APIC_TIMER_TSC_DEADLINE)
        return;                              /* ignored in TSC-deadline mode */
    s->initial_count = value;
    timer_start_counting(s, clock_get_ns(CLOCK_VIRTUAL));
}

/* A new divider keeps the current count and changes the rate from now on. */
static void write_divide_conf(ApicState *s, uint32_t value)
{
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    int64_t old_count_ns = count_ns(s);
    s->divide_conf = value & 0xb;
    if (!count_mode_running(s))
        return;
    int64_t counts = (now - s->start_ns) / old_count_ns;
    s->start_ns = now - counts * count_ns(s);
    s->last_expiry_ns = s->start_ns + (timer_mode(s) == APIC_TIMER_PERIODIC
                                           ? counts / s->initial_count * period_ns(s) : 0);
    if (timer_mode(s) != APIC_TIMER_PERIODIC && counts >= (int64_t)s->initial_count)
        return;                              /* a finished one-shot stays finished */
    count_schedule(s, now);
}

static void write_lvt_timer(ApicState *s, uint32_t value)
{
    int old_mode = timer_mode(s);
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    s->lvt[APIC_LVT_TIMER] = value;
    int new_mode = timer_mode(s);
    if (old_mode == new_mode)
        return;
    if (old_mode == APIC_TIMER_TSC_DEADLINE || new_mode == APIC_TIMER_TSC_DEADLINE) {
        /* Switching to or from TSC-deadline mode disarms the timer. */
        s->initial_count = 0;
        s->tsc_deadline = 0;
        s->env->tsc_deadline = 0;
        s->timer_backlog = 0;
        timer_del(&s->timer);
        return;
    }
    /* one-shot <-> periodic: boundaries already behind us are not ticks */
    if (count_mode_running(s) && now > s->start_ns) {
        int64_t period = period_ns(s);
        s->last_expiry_ns = s->start_ns + (now - s->start_ns) / period * period;
    }
    count_schedule(s, now);
}

void apic_set_tsc_deadline(ApicState *s, uint64_t tsc)
{
    if (timer_mode(s) != APIC_TIMER_TSC_DEADLINE) {
        s->env->tsc_deadline = 0;            /* writes are ignored outside the mode */
        return;
    }
    s->tsc_deadline = tsc;
    s->env->tsc_deadline = tsc;
    deadline_schedule(s);
}

/* ---- local interrupt pins ------------------------------------------------------ */

void apic_set_lint(ApicState *s, int pin, int level)
{
    if (pin < 0 || pin > 1)
        return;
    bool rising = level && !s->lint_level[pin];
    s->lint_level[pin] = level;
    uint32_t l = s->lvt[APIC_LVT_LINT0 + pin];
    if (apic_hw_enabled(s) && !(l & LVT_MASKED) && rising) {
        switch (lvt_mode(l)) {
        case APIC_DM_FIXED:
            apic_set_irq(s, l & 0xff, !!(l & LVT_LEVEL_TRIGGER));
            break;
        case APIC_DM_NMI:
            cpu_raise(s->env, CPU_INTERRUPT_NMI);
            break;
        case APIC_DM_SMI:
            cpu_raise(s->env, CPU_INTERRUPT_SMI);
            break;
        case APIC_DM_INIT:
            cpu_raise(s->env, CPU_INTERRUPT_INIT);
            break;
        default:
            break;                           /* ExtINT: a level, see extint_wanted */
        }
    }
    update_output(s);
}

void apic_deliver_pic_intr(ApicState *s, int level) { apic_set_lint(s, 0, level); }

/* ---- registers --------------------------------------------------------------------- */

static void write_svr(ApicState *s, uint32_t value)
{
    s->svr = value & SVR_WRITABLE;
    if (!sw_enabled(s)) {
        /* Software disable masks every LVT entry (SDM 11.4.7.2). */
        for (int i = 0; i < APIC_LVT_COUNT; i++)
            s->lvt[i] |= LVT_MASKED;
    }
    update_output(s);
}

static void write_lvt(ApicState *s, int idx, uint32_t value)
{
    value &= lvt_writable[idx];
    if (!sw_enabled(s))
        value |= LVT_MASKED;                 /* cannot unmask while disabled */
    value |= s->lvt[idx] & LVT_REMOTE_IRR;
    if (idx == APIC_LVT_TIMER)
        write_lvt_timer(s, value);
    else
        s->lvt[idx] = value;
    update_output(s);
}

uint32_t apic_reg_read(ApicState *s, uint32_t offset)
{
    unsigned reg = (offset >> 4) & 0xff;
    switch (reg) {
    case REG_ID: return (uint32_t)s->id << 24;
    case REG_VERSION: return APIC_VERSION;
    case REG_TPR: return s->tpr;
    case REG_APR: return apr(s);
    case REG_PPR: return ppr(s);
    case REG_EOI: return 0;
    case REG_RRD: return 0;
    case REG_LDR: return s->ldr;
    case REG_DFR: return s->dfr;
    case REG_SVR: return s->svr;
    case REG_ESR: return s->esr;
    case REG_ICR_LOW: return s->icr_low;     /* delivery status: always idle */
    case REG_ICR_HIGH: return s->icr_high;
    case REG_TIMER_INITIAL: return s->initial_count;
    case REG_TIMER_CURRENT: return current_count(s, clock_get_ns(CLOCK_VIRTUAL));
    case REG_TIMER_DIVIDE: return s->divide_conf;
    default: break;
    }
    if (reg >= REG_ISR && reg < REG_ISR + 8)
        return s->isr[reg - REG_ISR];
    if (reg >= REG_TMR && reg < REG_TMR + 8)
        return s->tmr[reg - REG_TMR];
    if (reg >= REG_IRR && reg < REG_IRR + 8)
        return s->irr[reg - REG_IRR];
    if (reg >= REG_LVT_FIRST && reg <= REG_LVT_LAST)
        return s->lvt[reg - REG_LVT_FIRST];
    record_error(s, ESR_ILLEGAL_REGISTER);
    LOG_ONCE(LOG_GUEST_ERRORS, reg, "apic: read of reserved register 0x%03x\n", reg << 4);
    return 0;
}

void apic_reg_write(ApicState *s, uint32_t offset, uint32_t value)
{
    unsigned reg = (offset >> 4) & 0xff;
    switch (reg) {
    case REG_ID:
        s->id = (uint8_t)(value >> 24);
        return;
    case REG_TPR:
        s->tpr = value & 0xff;
        s->env->cr8 = s->tpr >> 4;
        update_output(s);
        return;
    case REG_EOI:
        eoi(s);
        return;
    case REG_LDR:
        s->ldr = value & 0xff000000u;
        return;
    case REG_DFR:
        s->dfr = value | 0x0fffffffu;
        return;
    case REG_SVR:
        write_svr(s, value);
        return;
    case REG_ESR:
        s->esr = s->esr_pending;             /* a write latches the errors so far */
        s->esr_pending = 0;
        return;
    case REG_ICR_HIGH:
        s->icr_high = value & 0xff000000u;
        return;
    case REG_ICR_LOW:
        s->icr_low = value & ICR_LOW_WRITABLE;
        send_ipi(s);
        return;
    case REG_TIMER_INITIAL:
        write_initial_count(s, value);
        return;
    case REG_TIMER_DIVIDE:
        write_divide_conf(s, value);
        return;
    case REG_VERSION: case REG_APR: case REG_PPR: case REG_RRD:
    case REG_TIMER_CURRENT:
        return;                              /* read-only */
    default:
        break;
    }
    if (reg >= REG_LVT_FIRST && reg <= REG_LVT_LAST) {
        write_lvt(s, reg - REG_LVT_FIRST, value);
        return;
    }
    if (reg >= REG_ISR && reg < REG_IRR + 8)
        return;                              /* ISR/TMR/IRR are read-only */
    record_error(s, ESR_ILLEGAL_REGISTER);
    LOG_ONCE(LOG_GUEST_ERRORS, reg, "apic: write to reserved register 0x%03x\n", reg << 4);
}

/* ---- MMIO ------------------------------------------------------------------------ */

/* With several vCPUs each APIC maps a region at its own base; all of them
 * usually share 0xfee00000. An access belongs to the calling vCPU's APIC when
 * that APIC is mapped there; accesses from other threads (monitor, tests) see
 * the first APIC mapped there (the BSP's). */
static bool mapped_at(const ApicState *s, uint64_t base)
{
    return apic_hw_enabled(s) && (s->base & APIC_BASE_ADDR_MASK) == base;
}

static ApicState *mmio_target(ApicState *owner)
{
    ApicBus *bus = owner->bus;
    if (bus->napics < 2)
        return owner;
    uint64_t base = owner->base & APIC_BASE_ADDR_MASK;
    pthread_t self = pthread_self();
    for (int i = 0; i < bus->napics; i++) {
        ApicState *s = bus->apics[i];
        if (s->env->vcpu && pthread_equal(s->env->vcpu->thread, self))
            return mapped_at(s, base) ? s : owner;
    }
    for (int i = 0; i < bus->napics; i++)
        if (mapped_at(bus->apics[i], base))
            return bus->apics[i];
    return owner;
}

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    ApicState *s = mmio_target(opaque);
    uint32_t v = apic_reg_read(s, (uint32_t)offset & 0xff0);
    unsigned shift = (offset & 3) * 8;
    if ((offset & 0xf) >= 4)
        return 0;                            /* only the first dword of each 16 bytes */
    return (v >> shift) & (size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1);
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    ApicState *s = mmio_target(opaque);
    if (size != 4 || (offset & 0xf)) {
        LOG_ONCE(LOG_GUEST_ERRORS, 1, "apic: %u-byte write at offset 0x%" PRIx64
                 " ignored (registers take aligned dword writes)\n", size, offset);
        return;
    }
    apic_reg_write(s, (uint32_t)offset, (uint32_t)value);
}

static const MemoryRegionOps apic_mmio_ops = {
    .read = mmio_read, .write = mmio_write, .min_access = 1, .max_access = 4,
};

/* ---- "info lapic" -------------------------------------------------------------- */

static void dump_vectors(FILE *f, const char *name, const uint32_t *v)
{
    fprintf(f, "  %s:", name);
    bool any = false;
    for (int n = 0; n < 256; n++)
        if (bit_test(v, n)) {
            fprintf(f, " 0x%02x", n);
            any = true;
        }
    fprintf(f, any ? "\n" : " (none)\n");
}

static const char *const timer_mode_names[4] = { "one-shot", "periodic", "tsc-deadline", "reserved" };
static const char *const dm_names[8] = { "fixed", "lowest", "smi", "reserved", "nmi", "init",
                                         "startup", "extint" };
static const char *const lvt_names[APIC_LVT_COUNT] = { "timer", "thermal", "perf", "LINT0",
                                                       "LINT1", "error" };

void apic_dump(ApicState *s, FILE *f)
{
    fprintf(f, "APIC %u: base 0x%" PRIx64 "%s%s, %s, spurious vector 0x%02x\n", s->id,
            (uint64_t)(s->base & APIC_BASE_ADDR_MASK), apic_hw_enabled(s) ? "" : " (globally disabled)",
            s->base & APIC_BASE_BSP ? " BSP" : "",
            sw_enabled(s) ? "software-enabled" : "software-disabled", s->svr & 0xff);
    fprintf(f, "  TPR 0x%02x PPR 0x%02x APR 0x%02x LDR 0x%08x DFR 0x%08x ESR 0x%02x\n",
            s->tpr, ppr(s), apr(s), s->ldr, s->dfr, s->esr);
    for (int i = 0; i < APIC_LVT_COUNT; i++) {
        uint32_t l = s->lvt[i];
        fprintf(f, "  LVT %-7s 0x%08x vector 0x%02x %s%s%s\n", lvt_names[i], l, l & 0xff,
                i == APIC_LVT_TIMER ? timer_mode_names[(l >> 17) & 3] : dm_names[lvt_mode(l)],
                (i == APIC_LVT_LINT0 || i == APIC_LVT_LINT1) && (l & LVT_LEVEL_TRIGGER)
                    ? " level" : "",
                l & LVT_MASKED ? " masked" : "");
    }
    fprintf(f, "  timer: divide conf 0x%x (%" PRId64 " ns/count), initial 0x%08x, current 0x%08x,"
            " TSC deadline 0x%" PRIx64 ", backlog %u\n", s->divide_conf, count_ns(s),
            s->initial_count, current_count(s, clock_get_ns(CLOCK_VIRTUAL)), s->tsc_deadline,
            s->timer_backlog);
    fprintf(f, "  ICR 0x%08x:%08x\n", s->icr_high, s->icr_low);
    dump_vectors(f, "IRR", s->irr);
    dump_vectors(f, "ISR", s->isr);
    dump_vectors(f, "TMR", s->tmr);
}

static ApicBus *info_bus;

static void info_lapic(Monitor *mon, FILE *out)
{
    (void)mon;
    if (!info_bus || !info_bus->napics) {
        fprintf(out, "no local APIC\n");
        return;
    }
    for (int i = 0; i < info_bus->napics; i++)
        apic_dump(info_bus->apics[i], out);
}

/* ---- base, TPR, life cycle ------------------------------------------------------- */

static void map_registers(ApicState *s)
{
    if (!s->mmio)
        return;
    mr_set_base(s->mmio, s->base & APIC_BASE_ADDR_MASK);
    mr_set_enabled(s->mmio, apic_hw_enabled(s));
}

/* The register state after power-up, RESET or INIT (SDM 11.4.7.1). */
static void clear_registers(ApicState *s)
{
    s->tpr = s->ldr = 0;
    s->env->cr8 = 0;
    s->dfr = 0xffffffffu;
    s->svr = 0xff;
    memset(s->isr, 0, sizeof(s->isr));
    memset(s->tmr, 0, sizeof(s->tmr));
    memset(s->irr, 0, sizeof(s->irr));
    s->esr = s->esr_pending = 0;
    s->icr_low = s->icr_high = 0;
    for (int i = 0; i < APIC_LVT_COUNT; i++)
        s->lvt[i] = LVT_MASKED;
    s->extint_pending = false;
    s->initial_count = s->divide_conf = 0;
    s->start_ns = s->last_expiry_ns = 0;
    s->timer_backlog = 0;
    s->tsc_deadline = 0;
    s->env->tsc_deadline = 0;
    timer_del(&s->timer);
}

void apic_init_reset(ApicState *s)
{
    clear_registers(s);
    update_output(s);
}

static bool is_bsp(const ApicState *s)
{
    return s->env->vcpu ? s->env->vcpu->index == 0 : s->initial_id == 0;
}

void apic_reset(ApicState *s)
{
    clear_registers(s);
    s->id = s->initial_id;
    s->base = APIC_DEFAULT_BASE | APIC_BASE_ENABLE | (is_bsp(s) ? APIC_BASE_BSP : 0);
    s->env->apic_base = s->base;
    /* What firmware leaves behind (and Linux expects when booted directly):
     * the BSP's LINT0 in ExtINT mode, so the 8259 reaches the CPU. */
    if (is_bsp(s))
        s->lvt[APIC_LVT_LINT0] = APIC_DM_EXTINT << 8;
    map_registers(s);
    update_output(s);
}

void apic_set_base(ApicState *s, uint64_t value)
{
    bool was_enabled = apic_hw_enabled(s);
    s->base = value;
    s->env->apic_base = value;
    if (was_enabled && !apic_hw_enabled(s))
        clear_registers(s);                  /* globally disabled: power-up state */
    map_registers(s);
    update_output(s);
}

void apic_set_tpr(ApicState *s, uint8_t cr8)
{
    s->tpr = (uint32_t)(cr8 & 0xf) << 4;
    s->env->cr8 = cr8 & 0xf;
    update_output(s);
}

uint8_t apic_get_tpr(ApicState *s) { return (uint8_t)(s->tpr >> 4); }

static void apic_reset_handler(void *opaque) { apic_reset(opaque); }

ApicState *apic_create(ApicBus *bus, CPUX86State *env, uint8_t id)
{
    static bool info_registered;
    if (bus->napics >= APIC_MAX_CPUS)
        return NULL;
    if (!info_registered) {
        monitor_register_info("lapic", "the local APICs", info_lapic);
        info_registered = true;
    }
    info_bus = bus;
    ApicState *s = xzalloc(sizeof(*s));
    s->bus = bus;
    s->env = env;
    s->id = s->initial_id = id;
    timer_init(&s->timer, CLOCK_VIRTUAL, timer_expired, s);
    if (bus->mem)
        s->mmio = as_add_io(bus->mem, "apic", APIC_DEFAULT_BASE, 0x1000, &apic_mmio_ops,
                            s, 10);
    bus->apics[bus->napics++] = s;
    env->apic = s;
    env->intack = apic_intack;
    apic_reset(s);
    machine_register_reset(apic_reset_handler, s);
    return s;
}

/* ---- CPU hooks (cpu/x86/msr.c and cr.c call them from vCPU threads) ---------- */

/* Linked only when the CPU helpers are built in. */
extern const X86ApicHooks *x86_apic_hooks __attribute__((weak));

#define WITH_MACHINE_LOCK(stmt)                \
    do {                                       \
        bool lock_ = !machine_lock_held();     \
        if (lock_)                             \
            machine_lock();                    \
        stmt;                                  \
        if (lock_)                             \
            machine_unlock();                  \
    } while (0)

static void hook_set_base(void *apic, uint64_t value) { WITH_MACHINE_LOCK(apic_set_base(apic, value)); }
static void hook_set_tpr(void *apic, uint8_t cr8) { WITH_MACHINE_LOCK(apic_set_tpr(apic, cr8)); }
static uint8_t hook_get_tpr(void *apic) { return apic_get_tpr(apic); }
static void hook_set_tsc_deadline(void *apic, uint64_t tsc)
{
    WITH_MACHINE_LOCK(apic_set_tsc_deadline(apic, tsc));
}

static const X86ApicHooks apic_hooks = {
    .set_base = hook_set_base,
    .set_tpr = hook_set_tpr,
    .get_tpr = hook_get_tpr,
    .set_tsc_deadline = hook_set_tsc_deadline,
};

void apic_cpu_hooks_install(void)
{
    if (&x86_apic_hooks)
        x86_apic_hooks = &apic_hooks;
}
