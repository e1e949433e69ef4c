/* 8254 programmable interval timer at 0x40-0x43, and the PIIX "port B" at
 * 0x61 (counter 2 gate, speaker enable, counter 2 output, refresh toggle).
 *
 * The counters run at 1.193182 MHz on CLOCK_VIRTUAL. Counter 0's OUT drives
 * IRQ 0; counter 2's gate and OUT are wired to port 0x61. Counter values and
 * OUT levels are computed from the time elapsed since the count was loaded,
 * so nothing ticks unless a transition of counter 0's OUT is due.
 *
 * Reset leaves every counter in mode 3 with a count of 65536 running, as the
 * PC firmware does (IRQ 0 at 18.2 Hz), so guests booted without firmware find
 * the timer they expect. */
#ifndef HW_I8254_H
#define HW_I8254_H

#include "system/irq.h"
#include "system/memory.h"
#include "system/timer.h"

#define PIT_FREQ_HZ 1193182

typedef struct PitChannel {
    uint8_t mode;            /* 0-5 */
    uint8_t rw;              /* access: 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    uint32_t count;          /* initial count: 1..65536 (1..10000 in BCD) */
    bool loaded;             /* a full count was written since the control word */
    bool triggered;          /* modes 1 and 5: the gate started the count */
    bool gate;
    bool null_count;
    uint32_t pending_count;  /* written while counting, not loaded yet (0: none) */
    uint64_t reload_at;      /* modes 2, 3: the clock count where it loads */
    /* Elapsed input clocks = base_ticks + clocks since start_ns while running. */
    bool running;
    uint64_t base_ticks;
    int64_t start_ns;
    /* Access state. */
    bool write_msb_next;     /* rw 3: the LSB was written */
    uint8_t write_lsb;
    bool read_msb_next;      /* rw 3, live reads */
    uint16_t latched_count;
    uint8_t count_latch;     /* bytes of latched_count still to read: 0, 1 (MSB or LSB), 2 */
    bool count_latch_msb;    /* next latched byte is the MSB */
    bool status_latched;
    uint8_t status;
    /* Counter 0 only: the IRQ and the timer for OUT transitions. */
    bool out_level;          /* what we last drove on irq */
    IrqLine *irq;
    Timer timer;
    uint64_t next_tick;      /* the clock count the timer is armed for */
} PitChannel;

typedef struct PitState {
    PitChannel ch[3];
    uint8_t port61;          /* bits 0-3 as last written */
} PitState;

PitState *pit_create(AddressSpace *io, IrqLine *irq0);
void pit_reset(PitState *s);
/* Gate input of a counter (counter 2's also follows port 0x61 bit 0). */
void pit_set_gate(PitState *s, int channel, bool level);
/* Current OUT level of a counter. */
bool pit_get_out(PitState *s, int channel);

#endif
