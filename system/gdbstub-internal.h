/* Inside the GDB stub: the register file as gdb sees it (gdbstub-regs.c),
 * used by the protocol layer (gdbstub.c). */
#ifndef SYSTEM_GDBSTUB_INTERNAL_H
#define SYSTEM_GDBSTUB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct CPUX86State;

#define GDB_REG_MAX_BYTES 16
#define GDB_PACKET_SIZE 0x4000      /* advertised as PacketSize */

/* Number of registers in the 'g' packet, in gdb's numbering. */
int gdb_reg_count(void);
/* Size in bytes of register n (0 for an unknown n). */
size_t gdb_reg_size(int n);
/* Little-endian bytes of register n into out (gdb_reg_size(n) of them). */
void gdb_reg_read(struct CPUX86State *env, int n, uint8_t *out);
void gdb_reg_write(struct CPUX86State *env, int n, const uint8_t *in);
/* The target description for qXfer:features:read:target.xml. */
const char *gdb_target_xml(void);

/* The breakpoint list and step request (gdbstub-machine.c). insert returns
 * false when the list is full; each change calls gdb_breakpoints_changed. */
bool gdb_breakpoint_insert(uint64_t addr);
void gdb_breakpoint_remove(uint64_t addr);
void gdb_breakpoints_clear(void);
void gdb_set_step_cpu(int cpu);      /* -1: none */

#endif
