/* The i440FX host bridge (00:00.0) and the PIIX3 ISA bridge (00:01.0) with
 * its PIRQ routing registers: the PCI side of the "pc" machine. */
#ifndef HW_I440FX_H
#define HW_I440FX_H

#include "hw/pci.h"

typedef struct I440fxState {
    PCIBus *bus;
    PCIDevice *host, *isa;
    IrqLine *isa_irqs;          /* the 16 ISA interrupt lines (PIC inputs) */
    IrqLine *gsi;               /* I/O APIC inputs (GSI 16-19 for PIRQ A-D), may be NULL */
    int pirq_level[4];
    int routed_irq[4];          /* ISA IRQ each PIRQ currently drives, -1 none */
} I440fxState;

/* Build the bus, both bridges, and the 0xCF8/0xCFC ports. */
I440fxState *i440fx_create(AddressSpace *mem, AddressSpace *io, IrqLine *isa_irqs, IrqLine *gsi);

#endif
