/* ACPI tables for direct kernel boot (ACPI 6.x spec, chapter 5): RSDP, RSDT,
 * FADT, FACS, a DSDT holding the \_S5 object, and a MADT when the machine
 * has local/I/O APICs. */
#ifndef HW_ACPI_TABLES_H
#define HW_ACPI_TABLES_H

#include "system/machine.h"

typedef struct AcpiConfig {
    int ncpus;
    CpuTopology topology;       /* the CPUs' APIC IDs (system/topology.h) */
    bool has_apic;              /* MADT with local APICs and the I/O APIC */
    uint32_t lapic_addr, ioapic_addr;
    uint16_t pm_base;           /* PM1a event at +0, control at +4, timer at +8 */
    uint8_t sci_irq;
    uint32_t pci_mem_start;     /* the 32-bit PCI memory window: [start, 0xfec00000) */
} AcpiConfig;

/* Build the tables into a buffer meant to be placed at guest physical
 * address base (16-byte aligned, below 1 MiB so the RSDP scan finds it).
 * Returns the buffer (caller frees) and its length; the RSDP is at base. */
uint8_t *acpi_build_tables(const AcpiConfig *cfg, uint32_t base, size_t *len);

#endif
