/* PCI: configuration mechanism #1, BAR sizing and mapping, INTx through the
 * PIIX3 PIRQ routing, bus-master DMA gating. */
#include "hw/i440fx.h"
#include "system/machine.h"
#include "tests/unit/harness.h"

#include <stdlib.h>

static int isa_level[16];
static void isa_irq_handler(void *opaque, int n, int level) { isa_level[n] = level; }

typedef struct Env {
    AddressSpace *mem, *io;
    IrqLine isa[16];
    I440fxState *pci;
    uint8_t *ram;
} Env;

static void setup(Env *e)
{
    memset(isa_level, 0, sizeof(isa_level));
    e->mem = address_space_new("memory", 1ULL << 40);
    e->io = address_space_new("io", 0x10000);
    e->ram = calloc(1, 1 << 20);
    as_add_ram(e->mem, "ram", 0, 1 << 20, e->ram, 0);
    for (int i = 0; i < 16; i++)
        irq_init(&e->isa[i], isa_irq_handler, NULL, i);
    e->pci = i440fx_create(e->mem, e->io, e->isa, NULL);
}

static uint32_t cfg_read(Env *e, int devfn, unsigned reg, unsigned size)
{
    as_write(e->io, 0xcf8, 0x80000000u | (unsigned)devfn << 8 | (reg & 0xfc), 4);
    return (uint32_t)as_read(e->io, 0xcfc + (reg & 3), size);
}

static void cfg_write(Env *e, int devfn, unsigned reg, uint32_t val, unsigned size)
{
    as_write(e->io, 0xcf8, 0x80000000u | (unsigned)devfn << 8 | (reg & 0xfc), 4);
    as_write(e->io, 0xcfc + (reg & 3), val, size);
}

TEST(host_bridge_ids)
{
    Env e;
    setup(&e);
    CHECK_EQ(cfg_read(&e, 0, 0, 4), 0x12378086);
    CHECK_EQ(cfg_read(&e, 8, 0, 4), 0x70008086);
    CHECK_EQ(cfg_read(&e, 8, PCI_CLASS_DEVICE, 2), 0x0601);
    CHECK_EQ(cfg_read(&e, 8, PCI_HEADER_TYPE, 1) & 0x80, 0x80);
    CHECK_EQ(cfg_read(&e, PCI_DEVFN(5, 0), 0, 4), 0xffffffffu);   /* empty slot */
    /* Enable bit clear: nothing is addressed. */
    as_write(e.io, 0xcf8, 0, 4);
    CHECK_EQ(as_read(e.io, 0xcfc, 4), 0xffffffffu);
    CHECK_EQ(as_read(e.io, 0xcf8, 4), 0);
    /* Bus 1 does not exist. */
    as_write(e.io, 0xcf8, 0x80010000u, 4);
    CHECK_EQ(as_read(e.io, 0xcfc, 4), 0xffffffffu);
}

static uint32_t bar_reg;
static uint64_t dev_read(void *o, uint64_t off, unsigned size) { return 0x1234 + off; }
static void dev_write(void *o, uint64_t off, uint64_t v, unsigned size) { bar_reg = (uint32_t)v; }
static const MemoryRegionOps dev_ops = { dev_read, dev_write, 0, 0 };

TEST(bar_sizing_and_mapping)
{
    Env e;
    setup(&e);
    PCIDevice *d = pci_device_new(e.pci->bus, "test", PCI_DEVFN(3, 0), 0x1af4, 0x1000, 0x020000, 0);
    pci_register_bar(d, 0, PCI_BAR_IO, 0x20, &dev_ops, NULL);
    pci_register_bar(d, 1, 0, 0x1000, &dev_ops, NULL);
    pci_register_bar(d, 2, PCI_BAR_MEM64, 0x4000, &dev_ops, NULL);
    int df = PCI_DEVFN(3, 0);
    cfg_write(&e, df, PCI_BAR0, 0xffffffff, 4);
    CHECK_EQ(cfg_read(&e, df, PCI_BAR0, 4), 0xffffffe1);
    cfg_write(&e, df, PCI_BAR0 + 4, 0xffffffff, 4);
    CHECK_EQ(cfg_read(&e, df, PCI_BAR0 + 4, 4), 0xfffff000);
    cfg_write(&e, df, PCI_BAR0 + 8, 0xffffffff, 4);
    cfg_write(&e, df, PCI_BAR0 + 12, 0xffffffff, 4);
    CHECK_EQ(cfg_read(&e, df, PCI_BAR0 + 8, 4), 0xffffc004);
    CHECK_EQ(cfg_read(&e, df, PCI_BAR0 + 12, 4), 0xffffffff);
    /* Program addresses; nothing decodes until the command register says so. */
    cfg_write(&e, df, PCI_BAR0, 0xc000, 4);
    cfg_write(&e, df, PCI_BAR0 + 4, 0xfe000000, 4);
    cfg_write(&e, df, PCI_BAR0 + 8, 0x0, 4);
    cfg_write(&e, df, PCI_BAR0 + 12, 0x1, 4);            /* 64-bit BAR at 4 GiB */
    CHECK_EQ(as_read(e.io, 0xc004, 2), 0xffff);
    cfg_write(&e, df, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    CHECK_EQ(as_read(e.io, 0xc004, 2), 0x1238);
    CHECK_EQ(as_read(e.mem, 0xfe000010, 4), 0x1244);
    CHECK_EQ(as_read(e.mem, 0x100000008ULL, 4), 0x123c);
    as_write(e.mem, 0xfe000000, 0x55, 4);
    CHECK_EQ(bar_reg, 0x55);
    /* Moving a BAR moves the region. */
    cfg_write(&e, df, PCI_BAR0, 0xd000, 4);
    CHECK_EQ(as_read(e.io, 0xc004, 2), 0xffff);
    CHECK_EQ(as_read(e.io, 0xd004, 2), 0x1238);
    /* Disabling decode unmaps. */
    cfg_write(&e, df, PCI_COMMAND, 0, 2);
    CHECK_EQ(as_read(e.mem, 0xfe000010, 4), 0xffffffffu);
    /* Read-only fields stay. */
    cfg_write(&e, df, 0, 0, 4);
    CHECK_EQ(cfg_read(&e, df, 0, 4), 0x10001af4);
}

TEST(intx_routing_through_piix3)
{
    Env e;
    setup(&e);
    PCIDevice *d = pci_device_new(e.pci->bus, "nic", PCI_DEVFN(3, 0), 0x8086, 0x100e, 0x020000, 0);
    pci_set_interrupt_pin(d, 1);                          /* INTA of slot 3 -> PIRQD */
    CHECK_EQ(pci_pirq_of(d), 3);
    pci_set_irq(d, 1);
    CHECK_EQ(isa_level[11], 0);                           /* routing disabled at reset */
    CHECK_EQ(cfg_read(&e, PCI_DEVFN(3, 0), PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
    cfg_write(&e, PCI_DEVFN(1, 0), 0x63, 11, 1);          /* PIRQD -> IRQ 11 */
    CHECK_EQ(isa_level[11], 1);
    pci_set_irq(d, 0);
    CHECK_EQ(isa_level[11], 0);
    /* Two devices sharing the PIRQ: the line stays up until both drop it. */
    PCIDevice *d2 = pci_device_new(e.pci->bus, "d2", PCI_DEVFN(7, 0), 0x8086, 0x100e, 0x020000, 0);
    pci_set_interrupt_pin(d2, 1);                         /* slot 7 INTA -> PIRQD as well */
    pci_set_irq(d, 1);
    pci_set_irq(d2, 1);
    pci_set_irq(d, 0);
    CHECK_EQ(isa_level[11], 1);
    pci_set_irq(d2, 0);
    CHECK_EQ(isa_level[11], 0);
    /* INTx disable in the command register masks the pin. */
    pci_set_irq(d, 1);
    CHECK_EQ(isa_level[11], 1);
    cfg_write(&e, PCI_DEVFN(3, 0), PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
    CHECK_EQ(isa_level[11], 0);
    cfg_write(&e, PCI_DEVFN(3, 0), PCI_COMMAND, 0, 2);
    CHECK_EQ(isa_level[11], 1);
    /* Re-routing moves the level to the new IRQ; invalid targets are ignored. */
    cfg_write(&e, PCI_DEVFN(1, 0), 0x63, 10, 1);
    CHECK_EQ(isa_level[11], 0);
    CHECK_EQ(isa_level[10], 1);
    cfg_write(&e, PCI_DEVFN(1, 0), 0x63, 2, 1);
    CHECK_EQ(isa_level[10], 0);
    CHECK_EQ(isa_level[2], 0);
}

TEST(dma_needs_bus_master)
{
    Env e;
    setup(&e);
    PCIDevice *d = pci_device_new(e.pci->bus, "dma", -1, 0x8086, 0x1, 0xff0000, 0);
    uint8_t buf[4] = { 1, 2, 3, 4 };
    CHECK(pci_dma_write(d, 0x1000, buf, 4) < 0);
    CHECK_EQ(e.ram[0x1000], 0);
    pci_config_write(d, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
    CHECK_EQ(pci_dma_write(d, 0x1000, buf, 4), 0);
    CHECK_EQ(e.ram[0x1003], 4);
    CHECK(pci_dma_read(d, (1 << 20) - 2, buf, 4) < 0);   /* runs off RAM */
}

TEST(hostile_config_accesses)
{
    Env e;
    setup(&e);
    /* Unaligned and odd-sized accesses never reach past config space. */
    for (unsigned reg = 0; reg < 256; reg++) {
        cfg_write(&e, 0, reg, 0xffffffff, 1);
        cfg_read(&e, 0, reg, 4);
    }
    as_write(e.io, 0xcf8, 0x80000000u | 0xfc, 4);
    as_write(e.io, 0xcfe, 0xffff, 2);
    as_read(e.io, 0xcff, 1);
    CHECK_EQ(cfg_read(&e, 0, 0, 4), 0x12378086);
}

TEST(reset_control_register)
{
    Env e;
    setup(&e);
    int status;
    CHECK(!machine_handle_requests(&status));
    as_write(e.io, 0xcf9, 0x02, 1);              /* SYS_RST alone: no reset yet */
    CHECK_EQ(as_read(e.io, 0xcf9, 1), 0x02);
    as_write(e.io, 0xcf8, 0x80000000u, 4);        /* CONFIG_ADDRESS unaffected */
    CHECK_EQ(as_read(e.io, 0xcf8, 4), 0x80000000u);
    current_machine = NULL;                       /* no board: the request is just noted */
    as_write(e.io, 0xcf9, 0x06, 1);
    CHECK_EQ(as_read(e.io, 0xcf9, 1) & 0x04, 0);  /* RST_CPU reads back clear */
}
