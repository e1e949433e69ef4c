/* The "pc" board: RAM layout, the ISA devices, and what a reset does. */
#ifndef HW_PC_H
#define HW_PC_H

#include "system/machine.h"

/* Guest RAM below 4 GiB stops here; the rest goes above 4 GiB. */
#define PC_LOWMEM_LIMIT 0xC0000000ULL

/* Build the machine described by cfg (RAM, address spaces, devices, vCPUs,
 * and the kernel); -1 with a message on error. */
int pc_machine_init(Machine *m, char *err, size_t errlen);
/* Full system reset: devices, CPUs, and a direct-boot kernel reloaded. */
void board_reset(Machine *m);

#endif
