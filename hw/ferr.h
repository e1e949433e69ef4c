/* The PC's FPU error wiring (DOS-compatible mode, CR0.NE = 0): an unmasked
 * x87 exception asserts FERR#, which the chipset routes to IRQ 13; a write to
 * port 0xF0 drops it (and asserts IGNNE#). cpu/x86/x87-helpers.c drives the
 * line; this device owns the port. */
#ifndef HW_FERR_H
#define HW_FERR_H

#include "system/memory.h"

void ferr_port_create(AddressSpace *io);

#endif
