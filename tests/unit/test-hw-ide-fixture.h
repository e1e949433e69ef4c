/* A small machine for the IDE tests: RAM, port I/O, the i440FX PCI bus, the
 * PIIX3 IDE function with its two ISA interrupt lines, disk images in the
 * test's scratch directory, and helpers that speak the ATA protocol through
 * the ports like a driver would. Block completions are pumped with
 * blk_aio_drain() whenever the device is busy. */
#ifndef TESTS_UNIT_TEST_HW_IDE_FIXTURE_H
#define TESTS_UNIT_TEST_HW_IDE_FIXTURE_H

#include "tests/unit/harness.h"
#include "hw/i440fx.h"
#include "hw/ide.h"
#include "system/util.h"

#include <stdlib.h>

#define RAM_SIZE (4 * MiB)
#define BM_BASE 0xc000          /* the default BAR4 */

typedef struct Env {
    AddressSpace *mem, *io;
    uint8_t *ram;
    I440fxState *pci;
    IdeState *ide;
    IrqLine *irq;               /* on the heap: machine resets reach old devices too */
} Env;

static int irq_level[2];
static int irq_raises[2];

static void irq_handler(void *opaque, int n, int level)
{
    if (level && !irq_level[n])
        irq_raises[n]++;
    irq_level[n] = level;
}

static inline void env_init(Env *e)
{
    memset(e, 0, sizeof(*e));
    e->mem = address_space_new("memory", 1ULL << 32);
    e->io = address_space_new("io", 0x10000);
    e->ram = xzalloc(RAM_SIZE);
    as_add_ram(e->mem, "ram", 0, RAM_SIZE, e->ram, 0);
    e->pci = i440fx_create(e->mem, e->io, NULL, NULL);
    e->irq = xzalloc(2 * sizeof(*e->irq));
    irq_init(&e->irq[0], irq_handler, NULL, 0);
    irq_init(&e->irq[1], irq_handler, NULL, 1);
    irq_level[0] = irq_level[1] = 0;
    irq_raises[0] = irq_raises[1] = 0;
    e->ide = piix3_ide_create(e->pci->bus, &e->irq[0], &e->irq[1]);
}

/* A fresh image of size bytes, filled by fill(sector_index, buf of 512) when given. */
static inline BlockDev *make_image(const char *name, const char *fmt, uint64_t size, bool read_only)
{
    char err[BLK_ERR_LEN];
    char *p = xasprintf("%s/%s", test_tmpdir(), name);
    BlockCreateOpts o = { .format = fmt, .size = size };
    if (blk_create(p, &o, err, sizeof(err)) < 0) {
        fprintf(stderr, "blk_create %s: %s\n", p, err);
        free(p);
        return NULL;
    }
    BlockDev *bs = blk_open(p, fmt, read_only ? BLK_O_RDONLY : BLK_O_RDWR, err, sizeof(err));
    if (!bs)
        fprintf(stderr, "blk_open %s: %s\n", p, err);
    free(p);
    return bs;
}

static inline void outb(Env *e, uint16_t port, uint8_t v) { as_write(e->io, port, v, 1); }
static inline uint8_t inb(Env *e, uint16_t port) { return (uint8_t)as_read(e->io, port, 1); }
static inline uint16_t inw(Env *e, uint16_t port) { return (uint16_t)as_read(e->io, port, 2); }
static inline void outw(Env *e, uint16_t port, uint16_t v) { as_write(e->io, port, v, 2); }
static inline uint32_t inl(Env *e, uint16_t port) { return (uint32_t)as_read(e->io, port, 4); }
static inline void outl(Env *e, uint16_t port, uint32_t v) { as_write(e->io, port, v, 4); }

/* Alternate status once the device is no longer busy (block requests pumped). */
static inline uint8_t wait_not_busy(Env *e, uint16_t ctl)
{
    uint8_t st = inb(e, ctl);
    for (int i = 0; i < 10000 && (st & 0x80); i++) {
        blk_aio_drain(NULL);
        st = inb(e, ctl);
    }
    return st;
}

static inline void pci_enable_master(Env *e)
{
    PCIDevice *d = ide_pci_device(e->ide);
    pci_config_write(d, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
}

/* A PRD entry in guest RAM. */
static inline void put_prd(Env *e, uint32_t table, int i, uint32_t addr, uint32_t count, bool eot)
{
    st32(e->ram + table + 8 * i, addr);
    st16(e->ram + table + 8 * i + 4, (uint16_t)count);
    st16(e->ram + table + 8 * i + 6, eot ? 0x8000 : 0);
}

/* Program the bus master of a channel (0/1): table, direction, start. */
static inline void bm_start(Env *e, int ch, uint32_t table, bool to_mem)
{
    uint16_t base = (uint16_t)(BM_BASE + 8 * ch);
    outb(e, base, 0);
    outb(e, base + 2, 0x06);            /* clear ERR and INTR */
    outl(e, base + 4, table);
    outb(e, base, (uint8_t)(to_mem ? 0x08 : 0x00));
    outb(e, base, (uint8_t)(to_mem ? 0x09 : 0x01));
}

static inline uint8_t bm_status(Env *e, int ch)
{
    return inb(e, (uint16_t)(BM_BASE + 8 * ch + 2));
}

static inline void bm_stop(Env *e, int ch)
{
    uint16_t base = (uint16_t)(BM_BASE + 8 * ch);
    outb(e, base, inb(e, base) & ~1);
}

#endif
