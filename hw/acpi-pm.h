/* PIIX4-style ACPI power management (PCI 00:01.3): the PM1 event and control
 * registers, the 3.579545 MHz PM timer, SCI on ISA IRQ 9, power-off through
 * SLP_EN with the S5 sleep type, and the power button. */
#ifndef HW_ACPI_PM_H
#define HW_ACPI_PM_H

#include "hw/pci.h"
#include "system/timer.h"

#define ACPI_PM_BASE     0x600   /* where the board's "firmware" puts the block */
#define ACPI_PM_TIMER_HZ 3579545
#define ACPI_S5_SLP_TYP  0       /* must match \_S5 in the DSDT (hw/acpi-tables.c) */

typedef struct AcpiPmState {
    PCIDevice *pci;
    IrqLine *sci;
    MemoryRegion *io;            /* the PM register block when enabled */
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    Timer overflow_timer;        /* raises TMR_STS at each bit-23 toggle when enabled */
    int sci_level;
} AcpiPmState;

AcpiPmState *acpi_pm_create(PCIBus *bus, IrqLine *sci);
/* The 24-bit PM timer value now. */
uint32_t acpi_pm_timer_value(void);
/* Press the power button (monitor: system_powerdown). */
void acpi_pm_power_button(AcpiPmState *s);

#endif
