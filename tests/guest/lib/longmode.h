/* Long mode from a guest program (lib/longmode.S): call a 64-bit function
 * with paging on the given PML4, and the 64-bit IDT and TSS it runs with. */
#ifndef GUEST_LONGMODE_H
#define GUEST_LONGMODE_H

#include <stdint.h>

void longmode_call(uint64_t *pml4, void (*fn)(void));
void idt64_init(void);
extern uint8_t tss64[], idt64[];
extern uint32_t lm_unexpected;   /* exceptions no test expected */

#endif
