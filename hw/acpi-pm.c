/* ACPI power management registers (ACPI spec 4.8, PIIX4 datasheet 7.1). */
#include "hw/acpi-pm.h"

#include "system/log.h"
#include "system/machine.h"

#define PMBA        0x40         /* PCI config: PM I/O base (bit 0 reads 1) */
#define PMREGMISC   0x80         /* PCI config: bit 0 enables the PM I/O block */

#define PM1_STS     0x00
#define PM1_EN      0x02
#define PM1_CNT     0x04
#define PM_TMR      0x08
#define PM_BLOCK_SIZE 0x40

#define TMR_STS     (1u << 0)
#define GBL_STS     (1u << 5)
#define PWRBTN_STS  (1u << 8)
#define RTC_STS     (1u << 10)
#define WAK_STS     (1u << 15)
#define SCI_EVENTS  (TMR_STS | GBL_STS | PWRBTN_STS | RTC_STS)
#define SCI_EN      (1u << 0)
#define SLP_TYP_SHIFT 10
#define SLP_EN      (1u << 13)

uint32_t acpi_pm_timer_value(void)
{
    int64_t ns = clock_get_ns(CLOCK_VIRTUAL);
    return (uint32_t)((__int128)ns * ACPI_PM_TIMER_HZ / NS_PER_SEC) & 0xffffff;
}

static void update_sci(AcpiPmState *s)
{
    int level = (s->pm1_sts & s->pm1_en & SCI_EVENTS) != 0;
    if (level != s->sci_level) {
        s->sci_level = level;
        irq_set_level(s->sci, level);
    }
}

/* Next virtual time at which bit 23 of the timer toggles. */
static void arm_overflow(AcpiPmState *s)
{
    if (!(s->pm1_en & TMR_STS)) {
        timer_del(&s->overflow_timer);
        return;
    }
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    __int128 ticks = (__int128)now * ACPI_PM_TIMER_HZ / NS_PER_SEC;
    __int128 next = (ticks | 0x7fffff) + 1;
    int64_t when = (int64_t)((next * NS_PER_SEC + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ);
    timer_mod(&s->overflow_timer, when);
}

static void overflow_cb(void *opaque)
{
    AcpiPmState *s = opaque;
    s->pm1_sts |= TMR_STS;
    update_sci(s);
    arm_overflow(s);
}

static uint64_t pm_read(void *opaque, uint64_t off, unsigned size)
{
    AcpiPmState *s = opaque;
    switch (off) {
    case PM1_STS: return s->pm1_sts;
    case PM1_EN:  return s->pm1_en;
    case PM1_CNT: return s->pm1_cnt;
    case PM_TMR:  return acpi_pm_timer_value();
    default:
        LOG_ONCE(LOG_GUEST_ERRORS, off, "acpi-pm: read of unknown register 0x%x\n", (unsigned)off);
        return 0;
    }
}

static void sleep_request(AcpiPmState *s, unsigned slp_typ)
{
    if (slp_typ == ACPI_S5_SLP_TYP) {
        machine_request_shutdown(0);
        return;
    }
    LOG(LOG_UNIMP, "acpi-pm: sleep type %u not supported, ignored\n", slp_typ);
}

static void pm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    AcpiPmState *s = opaque;
    switch (off) {
    case PM1_STS:
        s->pm1_sts &= (uint16_t)~(val & (SCI_EVENTS | WAK_STS));
        break;
    case PM1_EN:
        s->pm1_en = (uint16_t)(val & SCI_EVENTS);
        arm_overflow(s);
        break;
    case PM1_CNT:
        /* SCI_EN stays set: there is no SMI handshake (FADT SMI_CMD = 0). */
        s->pm1_cnt = (uint16_t)((val & ~SLP_EN) | SCI_EN);
        if (val & SLP_EN)
            sleep_request(s, (val >> SLP_TYP_SHIFT) & 7);
        break;
    default:
        LOG_ONCE(LOG_GUEST_ERRORS, off | 0x100, "acpi-pm: write of unknown register 0x%x\n",
                 (unsigned)off);
        return;
    }
    update_sci(s);
}

static const MemoryRegionOps pm_ops = { pm_read, pm_write, 2, 4 };

static void update_io_mapping(AcpiPmState *s)
{
    PCIDevice *d = s->pci;
    uint16_t base = ld32(d->config + PMBA) & 0xffc0;
    bool enabled = (d->config[PMREGMISC] & 1) && base != 0;
    if (s->io && (!enabled || s->io->base != base)) {
        as_remove(s->io);
        s->io = NULL;
    }
    if (enabled && !s->io)
        s->io = as_add_io(d->bus->io, "acpi-pm", base, PM_BLOCK_SIZE, &pm_ops, s, 0);
}

static void pm_config_write(PCIDevice *d, unsigned addr, uint32_t val, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        unsigned a = addr + i;
        uint8_t v = (uint8_t)(val >> (8 * i));
        d->config[a] = (uint8_t)((d->config[a] & ~d->wmask[a]) | (v & d->wmask[a]));
    }
    d->config[PMBA] |= 1;
    update_io_mapping(d->opaque);
}

static void pm_reset(void *opaque)
{
    AcpiPmState *s = opaque;
    s->pm1_sts = 0;
    s->pm1_en = 0;
    s->pm1_cnt = SCI_EN;
    timer_del(&s->overflow_timer);
    update_sci(s);
    /* What the firmware would do: the block at ACPI_PM_BASE, decoding on. */
    st32(s->pci->config + PMBA, ACPI_PM_BASE | 1);
    s->pci->config[PMREGMISC] = 1;
    update_io_mapping(s);
}

void acpi_pm_power_button(AcpiPmState *s)
{
    s->pm1_sts |= PWRBTN_STS;
    update_sci(s);
}

AcpiPmState *acpi_pm_create(PCIBus *bus, IrqLine *sci)
{
    AcpiPmState *s = xzalloc(sizeof(*s));
    s->sci = sci;
    s->pci = pci_device_new(bus, "piix4-pm", PCI_DEVFN(1, 3), 0x8086, 0x7113, 0x068000, 0x03);
    s->pci->opaque = s;
    s->pci->config_write = pm_config_write;
    s->pci->config[PCI_INTERRUPT_PIN] = 1;
    s->pci->config[PCI_INTERRUPT_LINE] = 9;
    st32(s->pci->wmask + PMBA, 0xffc0);
    s->pci->wmask[PMREGMISC] = 1;
    timer_init(&s->overflow_timer, CLOCK_VIRTUAL, overflow_cb, s);
    machine_register_reset(pm_reset, s);
    pm_reset(s);
    return s;
}
