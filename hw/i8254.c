/* 8254 programmable interval timer and port 0x61.
 * Facts from the Intel 82C54 datasheet and the PIIX4 datasheet (NMI status
 * and control register). */
#include "hw/i8254.h"

#include "system/log.h"
#include "system/machine.h"

#define PORT61_WRITABLE   0x0f
#define PORT61_GATE2      0x01
#define PORT61_REFRESH    0x10
#define PORT61_OUT2       0x20
#define REFRESH_PERIOD_NS 15085   /* DRAM refresh request interval the toggle follows */

#define NO_TRANSITION UINT64_MAX

/* ---- time ------------------------------------------------------------------ */

static uint64_t ns_to_ticks(int64_t ns)
{
    if (ns <= 0)
        return 0;
    return (uint64_t)((unsigned __int128)ns * PIT_FREQ_HZ / NS_PER_SEC);
}

static int64_t ticks_to_ns_ceil(uint64_t ticks)
{
    return (int64_t)(((unsigned __int128)ticks * NS_PER_SEC + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ);
}

static uint64_t elapsed_ticks(const PitChannel *c, int64_t now)
{
    return c->base_ticks + (c->running ? ns_to_ticks(now - c->start_ns) : 0);
}

/* ---- counting -------------------------------------------------------------- */

static uint32_t modulus(const PitChannel *c) { return c->bcd ? 10000 : 65536; }

/* Modes 2 and 3 need a count of at least 2 (1 is illegal there). */
static uint64_t period(const PitChannel *c)
{
    return (c->mode == 2 || c->mode == 3) && c->count < 2 ? 2 : c->count;
}

static bool waits_for_trigger(const PitChannel *c)
{
    return (c->mode == 1 || c->mode == 5) && !c->triggered;
}

static bool out_at(const PitChannel *c, uint64_t d)
{
    uint64_t n = period(c);
    if (!c->loaded)
        return c->mode != 0;          /* mode 0 drives OUT low from the control word on */
    switch (c->mode) {
    case 0: return d >= n;
    case 1: return waits_for_trigger(c) || d >= n;
    case 2: return !c->gate || d % n != n - 1;
    case 3: return !c->gate || d % n < (n + 1) / 2;
    case 4: return d != n;
    default: return waits_for_trigger(c) || d != n;
    }
}

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* The counting element at d elapsed clocks, as the guest reads it. */
static uint16_t count_at(const PitChannel *c, uint64_t d)
{
    uint64_t n = period(c), m = modulus(c), v;
    if (!c->loaded || waits_for_trigger(c)) {
        v = c->count % m;
    } else if (c->mode == 2) {
        v = n - d % n;
    } else if (c->mode == 3) {
        /* Decrements by two, once through each half period. */
        uint64_t p = d % n, half = (n + 1) / 2;
        v = (n & ~1ull) - 2 * (p < half ? p : p - half);
    } else {
        v = (n + m - d % m) % m;
    }
    v %= m;
    return c->bcd ? to_bcd((uint32_t)v) : (uint16_t)v;
}

/* The next clock count after d at which OUT changes, or NO_TRANSITION. */
static uint64_t next_transition(const PitChannel *c, uint64_t d)
{
    uint64_t n = period(c);
    if (!c->loaded || !c->running || waits_for_trigger(c))
        return NO_TRANSITION;
    switch (c->mode) {
    case 0:
    case 1:
        return d < n ? n : NO_TRANSITION;
    case 2: {
        uint64_t start = d - d % n;
        return d % n < n - 1 ? start + n - 1 : start + n;
    }
    case 3: {
        uint64_t start = d - d % n, half = (n + 1) / 2;
        return d % n < half ? start + half : start + n;
    }
    default:
        return d < n ? n : d == n ? n + 1 : NO_TRANSITION;
    }
}

/* ---- counts written while counting ------------------------------------------ */

/* Modes 2 and 3 take a count written while counting at the end of the
 * current cycle (the datasheet has mode 3 switch at the end of the current
 * half-cycle; the whole cycle is used here); modes 1 and 5 at the next
 * trigger. Until then the new count waits in pending_count. */
static void take_pending_count(PitChannel *c)
{
    c->count = c->pending_count;
    c->pending_count = 0;
    c->reload_at = NO_TRANSITION;
    c->null_count = false;
}

/* The cycle ended at clock count reload_at: restart counting from there with
 * the new count. */
static void reload_at_cycle_end(PitChannel *c)
{
    c->start_ns += ticks_to_ns_ceil(c->reload_at - c->base_ticks);
    c->base_ticks = 0;
    take_pending_count(c);
}

static void drive_out(PitChannel *c, bool level)
{
    if (level != c->out_level) {
        c->out_level = level;
        irq_set_level(c->irq, level);
    }
}

/* Arm the timer for the first OUT transition after clock count d. */
static void arm_transition(PitChannel *c, uint64_t d)
{
    c->next_tick = next_transition(c, d);
    if (c->next_tick == NO_TRANSITION)
        timer_del(&c->timer);
    else
        timer_mod(&c->timer, c->start_ns + ticks_to_ns_ceil(c->next_tick - c->base_ticks));
}

/* Clock count now, after any reload that became due (which starts a new
 * cycle: counter 0's IRQ and timer follow at once). */
static uint64_t ticks_now(PitChannel *c)
{
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    if (c->pending_count && c->running && c->reload_at != NO_TRANSITION &&
        elapsed_ticks(c, now) >= c->reload_at) {
        reload_at_cycle_end(c);
        if (c->irq) {
            uint64_t d = elapsed_ticks(c, now);
            drive_out(c, out_at(c, d));
            arm_transition(c, d);
        }
    }
    return elapsed_ticks(c, now);
}

/* Counter 0 changed state: drive IRQ 0 from OUT now and arm the timer. */
static void update_channel(PitChannel *c)
{
    if (!c->irq)
        return;
    uint64_t d = ticks_now(c);
    drive_out(c, out_at(c, d));
    arm_transition(c, d);
}

/* A transition is due. OUT is evaluated at the transition itself, not at the
 * (later) time the timer ran, so that the one-clock low pulse of mode 2 is
 * never lost; a timer running far behind skips to the present instead. */
static void channel_timer_expired(void *opaque)
{
    PitChannel *c = opaque;
    uint64_t t = c->next_tick;
    uint64_t now = elapsed_ticks(c, clock_get_ns(CLOCK_VIRTUAL));
    if (t == NO_TRANSITION || (now > t && now - t > PIT_FREQ_HZ / 10)) {
        t = ticks_now(c);
    } else if (c->pending_count && c->reload_at != NO_TRANSITION && t >= c->reload_at) {
        reload_at_cycle_end(c);       /* the new count starts a new cycle */
        t = 0;
    }
    drive_out(c, out_at(c, t));
    arm_transition(c, t);
}

static void restart_counting(PitChannel *c, int64_t now)
{
    c->base_ticks = 0;
    c->start_ns = now;
    c->running = true;
}

static void freeze_counting(PitChannel *c, int64_t now)
{
    c->base_ticks = elapsed_ticks(c, now);
    c->running = false;
}

static uint32_t decode_count(const PitChannel *c, uint16_t raw)
{
    uint32_t v = raw;
    if (c->bcd)
        v = ((raw >> 12) & 0xf) * 1000 + ((raw >> 8) & 0xf) * 100 +
            ((raw >> 4) & 0xf) * 10 + (raw & 0xf);
    v %= modulus(c);
    return v ? v : modulus(c);
}

static void load_count(PitChannel *c, uint16_t raw)
{
    uint32_t n = decode_count(c, raw);
    bool periodic = c->mode == 2 || c->mode == 3;
    bool one_shot_running = (c->mode == 1 || c->mode == 5) && c->triggered;
    if (c->loaded && (periodic || one_shot_running)) {
        uint64_t d = ticks_now(c);
        if (!c->pending_count && periodic && c->running)
            c->reload_at = d - d % period(c) + period(c);
        c->pending_count = n;
        c->null_count = true;
        update_channel(c);
        return;
    }
    c->count = n;
    c->pending_count = 0;
    c->reload_at = NO_TRANSITION;
    c->loaded = true;
    c->null_count = false;
    c->triggered = false;
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    restart_counting(c, now);
    /* Modes 0, 2, 3, 4 count only while the gate is high; 1 and 5 wait for it to rise. */
    if (!c->gate || waits_for_trigger(c))
        freeze_counting(c, now);
    update_channel(c);
}

void pit_set_gate(PitState *s, int channel, bool level)
{
    if (channel < 0 || channel > 2)
        return;
    PitChannel *c = &s->ch[channel];
    if (level == c->gate)
        return;
    c->gate = level;
    if (!c->loaded)
        return;
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    switch (c->mode) {
    case 0:
    case 4:                           /* the gate suspends counting */
        if (level) {
            c->start_ns = now;
            c->running = true;
        } else {
            freeze_counting(c, now);
        }
        break;
    case 1:
    case 5:                           /* a rising gate (re)triggers */
        if (level) {
            if (c->pending_count)
                take_pending_count(c);
            c->triggered = true;
            restart_counting(c, now);
        }
        break;
    default:                          /* 2, 3: low stops, rising reloads */
        if (level) {
            if (c->pending_count)
                take_pending_count(c);
            restart_counting(c, now);
        } else {
            ticks_now(c);             /* a reload already due happens first */
            freeze_counting(c, now);
        }
        break;
    }
    update_channel(c);
}

bool pit_get_out(PitState *s, int channel)
{
    if (channel < 0 || channel > 2)
        return false;
    return out_at(&s->ch[channel], ticks_now(&s->ch[channel]));
}

/* ---- latches and the control word ------------------------------------------- */

static void latch_count(PitChannel *c)
{
    if (c->count_latch)
        return;                       /* a latch not yet read is kept */
    c->latched_count = count_at(c, ticks_now(c));
    c->count_latch = c->rw == 3 ? 2 : 1;
    c->count_latch_msb = c->rw == 2;
}

static void latch_status(PitState *s, int channel)
{
    PitChannel *c = &s->ch[channel];
    if (c->status_latched)
        return;
    c->status = (uint8_t)(pit_get_out(s, channel) << 7 | c->null_count << 6 |
                          c->rw << 4 | c->mode << 1 | c->bcd);
    c->status_latched = true;
}

static void read_back(PitState *s, uint8_t v)
{
    for (int i = 0; i < 3; i++) {
        if (!(v & (2 << i)))
            continue;
        if (!(v & 0x20))
            latch_count(&s->ch[i]);
        if (!(v & 0x10))
            latch_status(s, i);
    }
}

static void control_word(PitState *s, uint8_t v)
{
    int sel = v >> 6;
    if (sel == 3) {
        read_back(s, v);
        return;
    }
    PitChannel *c = &s->ch[sel];
    uint8_t access = (v >> 4) & 3;
    if (access == 0) {
        latch_count(c);
        return;
    }
    uint8_t mode = (v >> 1) & 7;
    c->mode = mode > 5 ? mode - 4 : mode;    /* 6 and 7 are 2 and 3 */
    c->rw = access;
    c->bcd = v & 1;
    c->loaded = false;
    c->triggered = false;
    c->running = false;
    c->null_count = true;
    c->pending_count = 0;
    c->reload_at = NO_TRANSITION;
    c->write_msb_next = false;
    c->read_msb_next = false;
    update_channel(c);
}

/* ---- data ports ------------------------------------------------------------- */

static uint8_t read_counter(PitState *s, int channel)
{
    PitChannel *c = &s->ch[channel];
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->count_latch) {
        uint8_t b = (uint8_t)(c->count_latch_msb ? c->latched_count >> 8 : c->latched_count);
        c->count_latch--;
        c->count_latch_msb = true;
        return b;
    }
    uint16_t v = count_at(c, ticks_now(c));
    bool msb = c->rw == 2 || (c->rw == 3 && c->read_msb_next);
    if (c->rw == 3)
        c->read_msb_next = !c->read_msb_next;
    return (uint8_t)(msb ? v >> 8 : v);
}

static void write_counter(PitState *s, int channel, uint8_t v)
{
    PitChannel *c = &s->ch[channel];
    switch (c->rw) {
    case 1: load_count(c, v); break;
    case 2: load_count(c, (uint16_t)(v << 8)); break;
    default:
        if (!c->write_msb_next) {
            c->write_lsb = v;
            c->write_msb_next = true;
            if (c->mode == 0) {
                /* The first byte stops a mode 0 count and drops OUT. */
                c->loaded = false;
                c->running = false;
                update_channel(c);
            }
        } else {
            c->write_msb_next = false;
            load_count(c, (uint16_t)(c->write_lsb | v << 8));
        }
        break;
    }
}

static uint64_t pit_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    if (offset == 3)
        return 0xff;                  /* the control word register is write-only */
    return read_counter(opaque, (int)offset);
}

static void pit_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    (void)size;
    if (offset == 3)
        control_word(opaque, (uint8_t)value);
    else
        write_counter(opaque, (int)offset, (uint8_t)value);
}

static uint64_t port61_read(void *opaque, uint64_t offset, unsigned size)
{
    PitState *s = opaque;
    (void)offset;
    (void)size;
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    uint8_t v = s->port61 & PORT61_WRITABLE;
    if (pit_get_out(s, 2))
        v |= PORT61_OUT2;
    if ((now / REFRESH_PERIOD_NS) & 1)
        v |= PORT61_REFRESH;
    return v;
}

static void port61_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    PitState *s = opaque;
    (void)offset;
    (void)size;
    s->port61 = (uint8_t)value & PORT61_WRITABLE;
    pit_set_gate(s, 2, value & PORT61_GATE2);
}

static const MemoryRegionOps pit_ops = {
    .read = pit_read, .write = pit_write, .min_access = 1, .max_access = 1,
};
static const MemoryRegionOps port61_ops = {
    .read = port61_read, .write = port61_write, .min_access = 1, .max_access = 1,
};

/* ---- life cycle -------------------------------------------------------------- */

void pit_reset(PitState *s)
{
    s->port61 = 0;
    for (int i = 0; i < 3; i++) {
        PitChannel *c = &s->ch[i];
        c->gate = i != 2;             /* counters 0 and 1 have their gates tied high */
        c->count_latch = 0;
        c->status_latched = false;
        control_word(s, (uint8_t)(i << 6 | 0x36));   /* mode 3, LSB then MSB, binary */
        load_count(c, 0);
    }
}

static void pit_reset_handler(void *opaque) { pit_reset(opaque); }

PitState *pit_create(AddressSpace *io, IrqLine *irq0)
{
    PitState *s = xzalloc(sizeof(*s));
    s->ch[0].irq = irq0;
    timer_init(&s->ch[0].timer, CLOCK_VIRTUAL, channel_timer_expired, &s->ch[0]);
    as_add_io(io, "pit", 0x40, 4, &pit_ops, s, 0);
    as_add_io(io, "port61", 0x61, 1, &port61_ops, s, 0);
    pit_reset(s);
    machine_register_reset(pit_reset_handler, s);
    return s;
}
