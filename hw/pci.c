/* PCI configuration space, BAR mapping, INTx, and configuration mechanism #1. */
#include "hw/pci.h"

#include <errno.h>
#include <stdlib.h>
#include "system/log.h"
#include "system/machine.h"

PCIBus *pci_bus_new(AddressSpace *mem, AddressSpace *io)
{
    PCIBus *bus = xzalloc(sizeof(*bus));
    bus->mem = mem;
    bus->io = io;
    return bus;
}

/* ---- configuration mechanism #1 --------------------------------------------------- */

static PCIDevice *addressed_device(PCIBus *bus, unsigned *reg)
{
    uint32_t a = bus->config_address;
    if (!(a & 0x80000000u) || ((a >> 16) & 0xff) != 0)   /* disabled, or not bus 0 */
        return NULL;
    *reg = a & 0xfc;
    return bus->devices[(a >> 8) & 0xff];
}

/* 0xCF8 is CONFIG_ADDRESS for dword accesses only; a byte at 0xCF9 is the
 * PIIX reset control register: RST_CPU (bit 2) going 0 -> 1 resets the
 * machine (SYS_RST, bit 1, picks hard reset; both are a full reset here). */
#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04

static uint64_t config_addr_read(void *opaque, uint64_t off, unsigned size)
{
    PCIBus *bus = opaque;
    if (size == 1 && off == 1)
        return bus->reset_control;
    return size == 4 ? bus->config_address : size_mask(size);
}

static void config_addr_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PCIBus *bus = opaque;
    if (size == 4) {
        bus->config_address = (uint32_t)val & 0x80fffffcu;
    } else if (size == 1 && off == 1) {
        bool trigger = (val & RCR_RST_CPU) && !(bus->reset_control & RCR_RST_CPU);
        bus->reset_control = (uint8_t)(val & RCR_SYS_RST);
        if (trigger)
            machine_request_reset();
    }
}

static uint64_t config_data_read(void *opaque, uint64_t off, unsigned size)
{
    PCIBus *bus = opaque;
    unsigned reg;
    PCIDevice *d = addressed_device(bus, &reg);
    if (!d)
        return size_mask(size);
    return pci_config_read(d, reg + (unsigned)off, size);
}

static void config_data_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PCIBus *bus = opaque;
    unsigned reg;
    PCIDevice *d = addressed_device(bus, &reg);
    if (d)
        pci_config_write(d, reg + (unsigned)off, (uint32_t)val, size);
}

static const MemoryRegionOps config_addr_ops = { config_addr_read, config_addr_write, 1, 4 };
static const MemoryRegionOps config_data_ops = { config_data_read, config_data_write, 1, 4 };

void pci_bus_register_config_ports(PCIBus *bus)
{
    /* 0xCF8 is decoded only for dword accesses; byte accesses to 0xCF9 (reset
     * control on PIIX) and 0xCFB belong to others, so register just the dword. */
    as_add_io(bus->io, "pci-config-address", 0xcf8, 4, &config_addr_ops, bus, 0);
    as_add_io(bus->io, "pci-config-data", 0xcfc, 4, &config_data_ops, bus, 0);
}

/* ---- devices ---------------------------------------------------------------------- */

PCIDevice *pci_device_new(PCIBus *bus, const char *name, int devfn, uint16_t vendor,
                          uint16_t device, uint32_t class_code, uint8_t revision)
{
    if (devfn < 0) {
        for (devfn = 0; devfn < 256 && bus->devices[devfn]; devfn += 8)
            ;
        if (devfn >= 256)
            return NULL;
    }
    if (devfn > 255 || bus->devices[devfn])
        return NULL;
    PCIDevice *d = xzalloc(sizeof(*d));
    d->name = name;
    d->bus = bus;
    d->devfn = devfn;
    st16(d->config + PCI_VENDOR_ID, vendor);
    st16(d->config + PCI_DEVICE_ID, device);
    d->config[PCI_REVISION_ID] = revision;
    d->config[PCI_CLASS_PROG] = class_code & 0xff;
    st16(d->config + PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
    st16(d->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                                 0x0100 /* SERR */ | PCI_COMMAND_INTX_DISABLE);
    st16(d->w1cmask + PCI_STATUS, 0xf900);   /* error bits */
    d->wmask[0x0c] = 0xff;                   /* cache line size */
    d->wmask[0x0d] = 0xff;                   /* latency timer */
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    bus->devices[devfn] = d;
    /* Function 0 of a slot with several functions says so in its header type. */
    if (devfn & 7) {
        PCIDevice *f0 = bus->devices[devfn & ~7];
        if (f0)
            f0->config[PCI_HEADER_TYPE] |= 0x80;
    }
    return d;
}

void pci_register_bar(PCIDevice *d, int n, uint8_t type, uint64_t size,
                      const MemoryRegionOps *ops, void *opaque)
{
    PCIBar *b = &d->bars[n];
    b->size = size;
    b->type = type;
    b->ops = ops;
    b->opaque = opaque;
    unsigned off = PCI_BAR0 + 4 * (unsigned)n;
    uint64_t mask = ~(size - 1);
    if (type & PCI_BAR_IO) {
        st32(d->config + off, PCI_BAR_IO);
        st32(d->wmask + off, (uint32_t)mask & 0xfffffffc);
    } else {
        st32(d->config + off, type & (PCI_BAR_MEM64 | PCI_BAR_PREFETCH));
        st32(d->wmask + off, (uint32_t)mask & 0xfffffff0);
        if (type & PCI_BAR_MEM64)
            st32(d->wmask + off + 4, (uint32_t)(mask >> 32));
    }
}

void pci_set_interrupt_pin(PCIDevice *d, int pin)
{
    d->config[PCI_INTERRUPT_PIN] = (uint8_t)pin;
}

int pci_pirq_of(const PCIDevice *d)
{
    int pin = d->config[PCI_INTERRUPT_PIN];
    return ((d->devfn >> 3) + pin - 1) & 3;
}

static void drive_pirq(PCIDevice *d, int level)
{
    PCIBus *bus = d->bus;
    int pirq = pci_pirq_of(d);
    int before = bus->pirq_count[pirq] > 0;
    bus->pirq_count[pirq] += level ? 1 : -1;
    int after = bus->pirq_count[pirq] > 0;
    if (before != after && bus->set_pirq)
        bus->set_pirq(bus->pirq_opaque, pirq, after);
}

static bool intx_disabled(const PCIDevice *d)
{
    return ld16(d->config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
}

void pci_set_irq(PCIDevice *d, int level)
{
    level = !!level;
    if (!d->config[PCI_INTERRUPT_PIN] || d->irq_level == level)
        return;
    d->irq_level = level;
    uint16_t status = ld16(d->config + PCI_STATUS);
    st16(d->config + PCI_STATUS, level ? status | PCI_STATUS_INTERRUPT
                                       : status & ~PCI_STATUS_INTERRUPT);
    if (!intx_disabled(d))
        drive_pirq(d, level);
}

/* ---- BARs ------------------------------------------------------------------------- */

static uint64_t bar_address(const PCIDevice *d, int n)
{
    const PCIBar *b = &d->bars[n];
    unsigned off = PCI_BAR0 + 4 * (unsigned)n;
    uint64_t v = ld32(d->config + off);
    if (b->type & PCI_BAR_IO)
        return v & ~3ULL;
    v &= ~15ULL;
    if (b->type & PCI_BAR_MEM64)
        v |= (uint64_t)ld32(d->config + off + 4) << 32;
    return v;
}

void pci_update_mappings(PCIDevice *d)
{
    uint16_t cmd = ld16(d->config + PCI_COMMAND);
    for (int n = 0; n < PCI_NUM_BARS; n++) {
        PCIBar *b = &d->bars[n];
        if (!b->size)
            continue;
        bool io = b->type & PCI_BAR_IO;
        AddressSpace *as = io ? d->bus->io : d->bus->mem;
        uint64_t addr = bar_address(d, n);
        bool enabled = (cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) && addr != 0 &&
                       addr + b->size <= as->size && addr + b->size > addr &&
                       /* a BAR being sized (all ones) is not an address */
                       addr != (io ? 0xfffcULL & ~(b->size - 1) : ~(b->size - 1) & ~15ULL);
        if (io && addr >= 0x10000)
            enabled = false;
        if (!enabled) {
            if (b->mr) {
                as_remove(b->mr);
                b->mr = NULL;
            }
            continue;
        }
        if (b->mr && b->addr == addr)
            continue;
        if (b->mr)
            mr_set_base(b->mr, addr);
        else
            b->mr = as_add_io(as, d->name, addr, b->size, b->ops, b->opaque, 1);
        b->addr = addr;
    }
}

/* ---- configuration space accesses -------------------------------------------------- */

uint32_t pci_config_read(PCIDevice *d, unsigned addr, unsigned len)
{
    if (addr + len > 256)
        return (uint32_t)size_mask(len);
    if (d->config_read)
        return d->config_read(d, addr, len);
    return (uint32_t)ldn(d->config + addr, len);
}

uint32_t pci_default_config_read(PCIDevice *d, unsigned addr, unsigned len)
{
    if (addr + len > 256)
        return (uint32_t)size_mask(len);
    return (uint32_t)ldn(d->config + addr, len);
}

static void config_write_default(PCIDevice *d, unsigned addr, uint32_t val, unsigned len)
{
    bool bars_touched = false, cmd_touched = false;
    bool intx_was_disabled = intx_disabled(d);
    for (unsigned i = 0; i < len; i++) {
        unsigned a = addr + i;
        uint8_t v = (uint8_t)(val >> (8 * i));
        uint8_t w = d->wmask[a], c = d->w1cmask[a];
        d->config[a] = (uint8_t)((d->config[a] & ~w) | (v & w));
        d->config[a] &= (uint8_t)~(v & c);
        if (a >= PCI_BAR0 && a < PCI_BAR0 + 24)
            bars_touched = true;
        if (a == PCI_COMMAND || a == PCI_COMMAND + 1)
            cmd_touched = true;
    }
    if (bars_touched || cmd_touched)
        pci_update_mappings(d);
    if (cmd_touched && d->irq_level && intx_was_disabled != intx_disabled(d))
        drive_pirq(d, !intx_disabled(d));
}

void pci_default_config_write(PCIDevice *d, unsigned addr, uint32_t val, unsigned len)
{
    if (addr + len <= 256)
        config_write_default(d, addr, val, len);
}

int pci_add_capability(PCIDevice *d, uint8_t id, uint8_t size)
{
    unsigned off = d->cap_free ? d->cap_free : 0x40;
    if (size < 2 || off + size > 256)
        return -1;
    /* Link it at the end of the list. */
    uint8_t *link = &d->config[PCI_CAPABILITY_LIST];
    for (int hops = 0; *link && *link < 0xfe && hops < 64; hops++)
        link = &d->config[*link + 1];
    *link = (uint8_t)off;
    d->config[off] = id;
    d->config[off + 1] = 0;
    unsigned next = (off + size + 3) & ~3u;
    d->cap_free = next < 256 ? (uint8_t)next : 0xff;   /* 0xff: full */
    st16(d->config + PCI_STATUS, ld16(d->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
    return (int)off;
}

void pci_config_write(PCIDevice *d, unsigned addr, uint32_t val, unsigned len)
{
    if (addr + len > 256)
        return;
    if (d->config_write)
        d->config_write(d, addr, val, len);
    else
        config_write_default(d, addr, val, len);
}

void pci_device_reset(PCIDevice *d)
{
    if (d->irq_level)
        pci_set_irq(d, 0);
    st16(d->config + PCI_COMMAND, 0);
    st16(d->config + PCI_STATUS, ld16(d->config + PCI_STATUS) & PCI_STATUS_CAP_LIST);
    d->config[PCI_INTERRUPT_LINE] = 0;
    for (int n = 0; n < PCI_NUM_BARS; n++) {
        if (!d->bars[n].size)
            continue;
        unsigned off = PCI_BAR0 + 4 * (unsigned)n;
        uint32_t keep = ld32(d->config + off) & ~ld32(d->wmask + off);
        st32(d->config + off, keep);
        if (d->bars[n].type & PCI_BAR_MEM64)
            st32(d->config + off + 4, 0);
    }
    pci_update_mappings(d);
}

int pci_dma_read(PCIDevice *d, uint64_t addr, void *buf, uint64_t len)
{
    if (!(ld16(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        LOG(LOG_GUEST_ERRORS, "%s: DMA without bus mastering enabled\n", d->name);
        return -EPERM;
    }
    return dma_read(d->bus->mem, addr, buf, len);
}

int pci_dma_write(PCIDevice *d, uint64_t addr, const void *buf, uint64_t len)
{
    if (!(ld16(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        LOG(LOG_GUEST_ERRORS, "%s: DMA without bus mastering enabled\n", d->name);
        return -EPERM;
    }
    return dma_write(d->bus->mem, addr, buf, len);
}
