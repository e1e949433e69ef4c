/* i440FX host bridge and PIIX3 ISA bridge (datasheets: Intel 82441FX, 82371SB).
 * PIRQ A-D from the PCI slots reach ISA IRQs through the PIIX3's PIRQRC
 * registers (0x60-0x63: bit 7 disables, bits 0-3 the IRQ), and the I/O APIC's
 * GSI 16-19 directly. */
#include "hw/i440fx.h"

#include "system/machine.h"

#define PIIX3_PIRQRC 0x60

static bool valid_isa_irq(int irq)
{
    /* IRQs 0, 1, 2, 8 and 13 cannot be PIRQ targets. */
    return irq >= 3 && irq <= 15 && irq != 8 && irq != 13;
}

static int pirq_route(I440fxState *s, int pirq)
{
    uint8_t r = s->isa->config[PIIX3_PIRQRC + pirq];
    return (r & 0x80) || !valid_isa_irq(r & 0x0f) ? -1 : (r & 0x0f);
}

/* The level of ISA IRQ irq as seen from the PIRQs routed to it. */
static int pirqs_level_on(I440fxState *s, int irq)
{
    int level = 0;
    for (int p = 0; p < 4; p++)
        if (s->routed_irq[p] == irq && s->pirq_level[p])
            level = 1;
    return level;
}

static void update_routing(I440fxState *s)
{
    for (int p = 0; p < 4; p++) {
        int old = s->routed_irq[p], now = pirq_route(s, p);
        if (old == now)
            continue;
        s->routed_irq[p] = now;
        if (!s->isa_irqs)
            continue;
        if (old >= 0)
            irq_set_level(&s->isa_irqs[old], pirqs_level_on(s, old));
        if (now >= 0)
            irq_set_level(&s->isa_irqs[now], pirqs_level_on(s, now));
    }
}

static void set_pirq(void *opaque, int pirq, int level)
{
    I440fxState *s = opaque;
    s->pirq_level[pirq] = level;
    int irq = s->routed_irq[pirq];
    if (irq >= 0 && s->isa_irqs)
        irq_set_level(&s->isa_irqs[irq], pirqs_level_on(s, irq));
    if (s->gsi)
        irq_set_level(&s->gsi[16 + pirq], level);
}

static void piix3_config_write(PCIDevice *d, unsigned addr, uint32_t val, unsigned len)
{
    I440fxState *s = d->opaque;
    for (unsigned i = 0; i < len; i++) {
        unsigned a = addr + i;
        uint8_t v = (uint8_t)(val >> (8 * i));
        if (a >= PIIX3_PIRQRC && a < PIIX3_PIRQRC + 4)
            d->config[a] = v & 0x8f;
        else if (d->wmask[a])
            d->config[a] = (uint8_t)((d->config[a] & ~d->wmask[a]) | (v & d->wmask[a]));
    }
    if (addr < PIIX3_PIRQRC + 4 && addr + len > PIIX3_PIRQRC)
        update_routing(s);
}

static void i440fx_reset(void *opaque)
{
    I440fxState *s = opaque;
    for (int p = 0; p < 4; p++)
        s->isa->config[PIIX3_PIRQRC + p] = 0x80;   /* all disabled at reset */
    update_routing(s);
    st16(s->host->config + PCI_COMMAND, 0x0006);
}

I440fxState *i440fx_create(AddressSpace *mem, AddressSpace *io, IrqLine *isa_irqs, IrqLine *gsi)
{
    I440fxState *s = xzalloc(sizeof(*s));
    s->isa_irqs = isa_irqs;
    s->gsi = gsi;
    for (int p = 0; p < 4; p++)
        s->routed_irq[p] = -1;
    s->bus = pci_bus_new(mem, io);
    s->bus->set_pirq = set_pirq;
    s->bus->pirq_opaque = s;
    pci_bus_register_config_ports(s->bus);

    s->host = pci_device_new(s->bus, "i440fx", PCI_DEVFN(0, 0), 0x8086, 0x1237, 0x060000, 0x02);
    /* PAM and SMRAM registers are storage for now (firmware shadowing comes with SeaBIOS). */
    memset(s->host->wmask + 0x59, 0xff, 7);
    s->host->wmask[0x72] = 0xff;

    s->isa = pci_device_new(s->bus, "piix3", PCI_DEVFN(1, 0), 0x8086, 0x7000, 0x060100, 0x00);
    s->isa->config[PCI_HEADER_TYPE] = 0x80;       /* multi-function: IDE, ACPI follow */
    s->isa->opaque = s;
    s->isa->config_write = piix3_config_write;
    memset(s->isa->wmask + 0x4c, 0xff, 0x20);     /* misc. storage registers */
    for (int p = 0; p < 4; p++)
        s->isa->wmask[PIIX3_PIRQRC + p] = 0;      /* handled by piix3_config_write */
    machine_register_reset(i440fx_reset, s);
    i440fx_reset(s);
    return s;
}
