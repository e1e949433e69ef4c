/* Starting the other CPUs (application processors, APs) of a -smp machine
 * from a guest test program (lib/smp.c). */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <stdint.h>

#define LAPIC_BASE 0xfee00000u
#define AP_TRAMPOLINE 0x8000        /* start-up IPI vector 8 */

/* ICR fields: delivery mode, destination mode, level, trigger, shorthand */
#define ICR_FIXED   (0u << 8)
#define ICR_LOWEST  (1u << 8)
#define ICR_NMI     (4u << 8)
#define ICR_INIT    (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT  (1u << 14)
#define ICR_LEVEL   (1u << 15)
#define ICR_SELF         (1u << 18)
#define ICR_ALL          (2u << 18)
#define ICR_ALL_BUT_SELF (3u << 18)

/* Send an IPI through this CPU's local APIC (dest: APIC ID or logical mask). */
void ap_send_ipi(uint32_t dest, uint32_t icr);
/* Wake every other CPU with INIT and two start-up IPIs. Each AP enters 32-bit
 * protected mode with the runtime's GDT and this CPU's IDT, gets a stack of
 * its own and calls entry (which must not return). */
void ap_start_all(void (*entry)(void));
/* INIT and a start-up IPI to one APIC: it starts again at the entry. */
void ap_restart(uint32_t apic_id);

#endif
