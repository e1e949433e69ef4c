/* Port 0x80, the POST diagnostic port: firmware writes progress codes and
 * old code writes it for a short I/O delay. Writes are kept (the last code
 * helps debugging), reads return all ones, nothing is logged. */
#ifndef HW_IOPORT80_H
#define HW_IOPORT80_H

#include "system/memory.h"

typedef struct IoPort80State {
    uint8_t last_code;
} IoPort80State;

IoPort80State *ioport80_create(AddressSpace *io);

#endif
