/* The PC's pair of 8259A interrupt controllers: master at 0x20/0x21, slave at
 * 0xa0/0xa1 cascaded on the master's IR2, and the PIIX edge/level control
 * registers (ELCR) at 0x4d0/0x4d1.
 *
 * Devices drive the 16 input lines (pic->in[0..15]; in[2] is the cascade and
 * ignores devices). Edge-triggered inputs
 * latch a request on a rising edge (a pulse is enough); level-triggered ones
 * request while high. The master's INT output is an IrqLine to the CPU, which
 * then calls pic_intack() for the vector. */
#ifndef HW_I8259_H
#define HW_I8259_H

#include "system/irq.h"
#include "system/memory.h"

typedef struct PicChip {
    uint8_t irr, isr, imr;
    uint8_t elcr, elcr_mask;  /* level-triggered inputs (PIIX ELCR) and its writable bits */
    uint8_t input;            /* current level of each input line */
    uint8_t top_priority;     /* rotation: the input with the highest priority */
    uint8_t vector_base;      /* ICW2 */
    uint8_t icw3;
    uint8_t init_step;        /* 0 ready; 2, 3, 4: expecting that ICW */
    bool icw4_needed, single, ltim;
    bool auto_eoi, rotate_on_aeoi, special_fully_nested;
    bool special_mask, poll, read_isr;
} PicChip;

typedef struct PicState {
    PicChip chip[2];          /* 0 master, 1 slave */
    IrqLine in[16];
    IrqLine *int_out;
    bool int_level;
} PicState;

/* Create both chips and the ELCR on io; int_out goes to the CPU's INTR. */
PicState *pic_create(AddressSpace *io, IrqLine *int_out);
void pic_reset(PicState *s);
/* The CPU's interrupt acknowledge: the vector to take (a spurious IRQ 7 or 15
 * vector when the request went away). */
int pic_intack(PicState *s);
/* Whether the INT output is asserted. */
bool pic_int_pending(const PicState *s);

#endif
