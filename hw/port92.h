/* PIIX "fast A20 and init" register at port 0x92: bit 1 gates A20, a 0->1
 * write of bit 0 resets the CPU. */
#ifndef HW_PORT92_H
#define HW_PORT92_H

#include "system/memory.h"

typedef struct Port92State {
    uint8_t value;            /* bit 0 as last written (bit 1 reads the A20 gate) */
} Port92State;

Port92State *port92_create(AddressSpace *io);

#endif
