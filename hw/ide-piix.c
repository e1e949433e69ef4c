/* The PIIX3 IDE function (82371SB, PCI 8086:7010 at 00:01.1): both channels
 * in legacy (compatibility) mode at the ISA addresses and IRQs, the bus
 * master registers in BAR4, the IDE timing registers as storage. The legacy
 * ports decode while PCICMD.IOSE and the channel's IDETIM decode-enable bit
 * are set. */
#include "hw/ide-internal.h"

#include <errno.h>
#include "hw/drives.h"
#include "system/machine.h"

#define PIIX_IDETIM     0x40    /* primary 0x40-0x41, secondary 0x42-0x43; bit 15 decodes */
#define PIIX_SIDETIM    0x44
#define IDETIM_DECODE   0x8000
#define BM_BAR          4
#define BM_DEFAULT_BASE 0xc000  /* where firmware would put BAR4 */

static const uint16_t cmd_base[2] = { 0x1f0, 0x170 };
static const uint16_t ctl_base[2] = { 0x3f6, 0x376 };

static bool decoding(IdeChannel *ch)
{
    const uint8_t *c = ch->s->pci->config;
    return (ld16(c + PCI_COMMAND) & PCI_COMMAND_IO) &&
           (ld16(c + PIIX_IDETIM + 2 * ch->index) & IDETIM_DECODE);
}

/* Command block: the data register takes 16- and 32-bit accesses; the others are bytes. */
static uint64_t cmd_read(void *opaque, uint64_t off, unsigned size)
{
    IdeChannel *ch = opaque;
    if (!decoding(ch))
        return size_mask(size);
    if (off == 0)
        return ide_cmd_read(ch, 0, size);
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 8; i++)
        v |= (uint64_t)(ide_cmd_read(ch, (unsigned)off + i, 1) & 0xff) << (8 * i);
    return v;
}

static void cmd_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IdeChannel *ch = opaque;
    if (!decoding(ch))
        return;
    if (off == 0) {
        ide_cmd_write(ch, 0, (uint32_t)val, size);
        return;
    }
    for (unsigned i = 0; i < size && off + i < 8; i++)
        ide_cmd_write(ch, (unsigned)off + i, (uint32_t)(val >> (8 * i)) & 0xff, 1);
}

static uint64_t ctl_read(void *opaque, uint64_t off, unsigned size)
{
    IdeChannel *ch = opaque;
    return decoding(ch) ? ide_altstatus_read(ch) : 0xff;
}

static void ctl_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IdeChannel *ch = opaque;
    if (decoding(ch))
        ide_ctrl_write(ch, (uint8_t)val);
}

static uint64_t bm_read(void *opaque, uint64_t off, unsigned size)
{
    return ide_bm_read(opaque, (unsigned)off);
}

static void bm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ide_bm_write(opaque, (unsigned)off, (uint8_t)val);
}

static const MemoryRegionOps cmd_ops = { cmd_read, cmd_write, 1, 4 };
static const MemoryRegionOps ctl_ops = { ctl_read, ctl_write, 1, 1 };
static const MemoryRegionOps bm_ops = { bm_read, bm_write, 1, 1 };

static void update_dma_capable(IdeState *s)
{
    for (int c = 0; c < 2; c++) {
        Bmdma *bm = &s->ch[c].bm;
        bm->status &= (uint8_t)~BM_ST_CAPABLE;
        for (int i = 0; i < 2; i++)
            if (ide_present(&s->ch[c].drive[i]))
                bm->status |= (uint8_t)(0x20 << i);
    }
}

static void piix_ide_reset(void *opaque)
{
    IdeState *s = opaque;
    PCIDevice *d = s->pci;
    pci_device_reset(d);
    memset(d->config + PIIX_IDETIM, 0, 5);
    /* What firmware would leave behind: both channels and BAR4 decoding. */
    st16(d->config + PIIX_IDETIM, IDETIM_DECODE);
    st16(d->config + PIIX_IDETIM + 2, IDETIM_DECODE);
    st32(d->config + PCI_BAR0 + 4 * BM_BAR, BM_DEFAULT_BASE | PCI_BAR_IO);
    st16(d->config + PCI_COMMAND, PCI_COMMAND_IO);
    pci_update_mappings(d);
    for (int c = 0; c < 2; c++) {
        ide_bm_reset(&s->ch[c]);
        ide_channel_reset(&s->ch[c], true);
    }
    update_dma_capable(s);
}

IdeState *piix3_ide_create(PCIBus *bus, IrqLine *irq14, IrqLine *irq15)
{
    IdeState *s = xzalloc(sizeof(*s));
    PCIDevice *d = pci_device_new(bus, "piix3-ide", PCI_DEVFN(1, 1), 0x8086, 0x7010,
                                  0x010180, 0x00);
    if (!d)
        fatal("piix3-ide: PCI slot 00:01.1 is taken");
    s->pci = d;
    d->opaque = s;
    memset(d->wmask + PIIX_IDETIM, 0xff, 5);
    pci_register_bar(d, BM_BAR, PCI_BAR_IO, 16, &bm_ops, s);
    IrqLine *irqs[2] = { irq14, irq15 };
    for (int c = 0; c < 2; c++) {
        IdeChannel *ch = &s->ch[c];
        ide_channel_init(ch, s, c, irqs[c]);
        s->cmd_io[c] = as_add_io(bus->io, c ? "ide1-cmd" : "ide0-cmd", cmd_base[c], 8,
                                 &cmd_ops, ch, 0);
        s->ctl_io[c] = as_add_io(bus->io, c ? "ide1-ctl" : "ide0-ctl", ctl_base[c], 1,
                                 &ctl_ops, ch, 0);
    }
    machine_register_reset(piix_ide_reset, s);
    piix_ide_reset(s);
    ide_monitor_register(s);
    return s;
}

static IdeDrive *unit_drive(IdeState *s, int unit)
{
    if (unit < 0 || unit >= IDE_UNITS)
        return NULL;
    return &s->ch[unit >> 1].drive[unit & 1];
}

int ide_attach(IdeState *s, int unit, BlockDev *blk, bool cdrom, char *err, size_t errlen)
{
    IdeDrive *d = unit_drive(s, unit);
    if (!d) {
        snprintf(err, errlen, "ide: unit %d does not exist (IDE has units 0-3)", unit);
        return -1;
    }
    if (ide_present(d)) {
        snprintf(err, errlen, "ide: unit %d is already in use", unit);
        return -1;
    }
    if (!cdrom && !blk) {
        snprintf(err, errlen, "ide: a hard disk on unit %d needs an image", unit);
        return -1;
    }
    if (!cdrom && blk_getlength(blk) < IDE_SECTOR) {
        snprintf(err, errlen, "ide: the image on unit %d is smaller than one sector", unit);
        return -1;
    }
    ide_drive_setup(d, cdrom ? IDE_CD : IDE_HD, blk);
    update_dma_capable(s);
    ide_update_irq(d->ch);
    return 0;
}

void ide_set_write_cache(IdeState *s, int unit, bool enabled)
{
    IdeDrive *d = unit_drive(s, unit);
    if (!d || d->kind != IDE_HD)
        return;
    d->write_cache_default = enabled;
    d->write_cache = enabled;
}

static bool cache_mode_writes_through(const char *cache)
{
    return cache && (!strcmp(cache, "writethrough") || !strcmp(cache, "directsync"));
}

int piix3_ide_attach_drives(IdeState *s, bool default_cdrom, char *err, size_t errlen)
{
    for (int unit = 0; unit < IDE_UNITS; unit++) {
        Drive *dr = drive_find("ide", unit);
        if (!dr)
            continue;
        if (ide_attach(s, unit, dr->blk, dr->cdrom, err, errlen) < 0)
            return -1;
        if (cache_mode_writes_through(dr->cfg->cache))
            ide_set_write_cache(s, unit, false);
        dr->claimed = true;
    }
    if (default_cdrom && !ide_present(unit_drive(s, 2)))
        return ide_attach(s, 2, NULL, true, err, errlen);
    return 0;
}

int ide_cd_change(IdeState *s, int unit, BlockDev *medium)
{
    IdeDrive *d = unit_drive(s, unit);
    if (!d || d->kind != IDE_CD)
        return -ENODEV;
    atapi_change_medium(d, medium);
    return 0;
}

BlockDev *ide_cd_medium(IdeState *s, int unit)
{
    IdeDrive *d = unit_drive(s, unit);
    return d && d->kind == IDE_CD ? d->blk : NULL;
}

bool ide_cd_locked(IdeState *s, int unit)
{
    IdeDrive *d = unit_drive(s, unit);
    return d && d->kind == IDE_CD && d->atapi.locked;
}

const char *ide_unit_name(IdeState *s, int unit)
{
    static const char *const names[2][IDE_UNITS] = {
        { "ide0-hd0", "ide0-hd1", "ide1-hd0", "ide1-hd1" },
        { "ide0-cd0", "ide0-cd1", "ide1-cd0", "ide1-cd1" },
    };
    IdeDrive *d = unit_drive(s, unit);
    if (!d || !ide_present(d))
        return NULL;
    return names[d->kind == IDE_CD][unit];
}

int ide_find_unit(IdeState *s, const char *name)
{
    for (int unit = 0; unit < IDE_UNITS; unit++) {
        const char *n = ide_unit_name(s, unit);
        if (n && !strcmp(n, name))
            return unit;
    }
    return -1;
}

bool ide_hd_geometry(IdeState *s, int unit, uint16_t *cyls, uint16_t *heads, uint16_t *secs)
{
    IdeDrive *d = unit_drive(s, unit);
    if (!d || d->kind != IDE_HD)
        return false;
    *cyls = d->cyls;
    *heads = d->heads;
    *secs = d->secs;
    return true;
}

PCIDevice *ide_pci_device(IdeState *s)
{
    return s->pci;
}

void ide_drain(IdeState *s)
{
    blk_aio_drain(NULL);
}
