/* The I/O APIC (82093AA-style, version 0x11) at 0xfec00000: 24 interrupt
 * inputs (GSIs 0-23), each routed by a redirection entry to local APICs as a
 * message on the APIC bus (hw/apic.h).
 *
 * Registers: IOREGSEL (offset 0x00) selects, IOWIN (0x10) reads/writes the
 * selected register: 0 ID, 1 version (0x170011: 24 entries), 2 arbitration
 * ID, 0x10 + 2n / 0x11 + 2n redirection entry n (low/high dword).
 *
 * Input levels are logical: 1 means the device asserts its interrupt,
 * whatever the entry's polarity bit says (the board's lines carry asserted
 * levels, as the ACPI tables describe them to the guest). Edge-triggered
 * entries send a message on each rising edge while unmasked (an edge seen
 * while masked is dropped, as the 82093AA datasheet says). Level-triggered
 * entries send one while the input is high, then set remote IRR until the
 * local APIC's EOI for that vector; still high at the EOI, they send again. */
#ifndef HW_IOAPIC_H
#define HW_IOAPIC_H

#include "hw/apic.h"
#include "system/irq.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000ULL
#define IOAPIC_NUM_PINS     24
#define IOAPIC_VERSION      0x00170011u   /* max redirection entry 23, version 0x11 */

/* Redirection entry bits */
#define IOAPIC_RTE_DELIVERY_STATUS (1ULL << 12)
#define IOAPIC_RTE_POLARITY_LOW    (1ULL << 13)
#define IOAPIC_RTE_REMOTE_IRR      (1ULL << 14)
#define IOAPIC_RTE_LEVEL           (1ULL << 15)
#define IOAPIC_RTE_MASKED          (1ULL << 16)

typedef struct IoApicState {
    ApicBus *bus;
    MemoryRegion *mmio;
    uint8_t id;
    uint8_t initial_id;
    uint8_t regsel;
    uint64_t rte[IOAPIC_NUM_PINS];
    uint32_t input;             /* asserted inputs, bit per pin */
    IrqLine in[IOAPIC_NUM_PINS];
} IoApicState;

/* Map the registers at base in mem, become the bus's EOI listener, register
 * a reset handler. The board then uses s->in as Machine.gsi. */
IoApicState *ioapic_create(AddressSpace *mem, ApicBus *bus, uint64_t base, uint8_t id);
void ioapic_reset(IoApicState *s);
/* A local APIC EOI'd a level-triggered vector. */
void ioapic_eoi(IoApicState *s, int vector);
/* The state in words ("info ioapic", registered with the monitor). */
void ioapic_dump(IoApicState *s, FILE *f);
/* Register access through IOREGSEL/IOWIN, by register index. */
uint32_t ioapic_reg_read(IoApicState *s, uint8_t index);
void ioapic_reg_write(IoApicState *s, uint8_t index, uint32_t value);

/* The PC's ISA interrupt lines feed both interrupt controllers: ISA IRQ n
 * drives 8259 input n and GSI n, except IRQ 0 (the PIT), which is GSI 2 (the
 * MADT's interrupt source override). The board makes isa_irq its
 * Machine.isa_irq after ioapic_isa_fanout_init(&f, pic->in, ioapic->in). */
typedef struct IoApicIsaFanout {
    IrqLine isa_irq[16];
    IrqLine *pic_in, *gsi;
} IoApicIsaFanout;
void ioapic_isa_fanout_init(IoApicIsaFanout *f, IrqLine *pic_in, IrqLine *gsi);

#endif
