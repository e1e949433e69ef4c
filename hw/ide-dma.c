/* Bus-master IDE (SFF-8038i): per channel a command register (start,
 * direction), a status register (active, error, interrupt, drive DMA
 * capable) and the address of a table of physical region descriptors:
 * { u32 address, u16 byte count (0 = 64 KiB), u16 flags (bit 15: end of
 * table) }. Every guest memory access goes through pci_dma_read/write, and
 * the walk is bounded: a table that ends early, points outside RAM or never
 * ends makes an error status, never a host fault or an endless loop. */
#include "hw/ide-internal.h"

#include "system/log.h"

static void reset_cursor(Bmdma *bm)
{
    bm->prd_index = 0;
    bm->cur_addr = 0;
    bm->cur_left = 0;
    bm->eot = false;
}

/* The transfer stops with an error: the bus master is no longer active. */
static void bm_fail(IdeDrive *d, const char *why)
{
    Bmdma *bm = &d->ch->bm;
    LOG(LOG_GUEST_ERRORS, "ide%d: bus-master DMA error: %s (PRD table 0x%x, entry %u)\n",
        d->ch->index, why, bm->prd_table, bm->prd_index);
    bm->status = (uint8_t)((bm->status & ~BM_ST_ACTIVE) | BM_ST_ERROR);
    d->dma_running = false;
}

static void fail_command(IdeDrive *d)
{
    if (d->kind == IDE_CD)
        atapi_dma_error(d);
    else
        ide_cmd_error(d, ER_ABRT);
}

/* Start the pending transfer of a device if the bus master runs. */
static void kick(IdeChannel *ch)
{
    Bmdma *bm = &ch->bm;
    if (!(bm->cmd & BM_CMD_START))
        return;
    for (int i = 0; i < 2; i++) {
        IdeDrive *d = &ch->drive[(ch->cur + i) & 1];
        if (!d->dma_pending)
            continue;
        d->dma_pending = false;
        reset_cursor(bm);
        bm->status |= BM_ST_ACTIVE;
        if (!(bm->cmd & BM_CMD_TO_MEM) != !d->dma_to_mem) {
            bm_fail(d, "direction does not match the command");
            fail_command(d);
            return;
        }
        d->dma_running = true;
        d->dma_run(d);
        return;
    }
}

void ide_dma_begin(IdeDrive *d, bool to_mem, void (*run)(IdeDrive *d))
{
    d->dma_pending = true;
    d->dma_to_mem = to_mem;
    d->dma_run = run;
    kick(d->ch);
}

/* The next descriptor, or false when the table has no more. */
static bool load_prd(IdeDrive *d)
{
    Bmdma *bm = &d->ch->bm;
    uint8_t e[8];
    if (bm->eot) {
        bm_fail(d, "PRD table shorter than the transfer");
        return false;
    }
    if (bm->prd_index >= BM_MAX_PRDS) {
        bm_fail(d, "PRD table without end-of-table mark");
        return false;
    }
    if (pci_dma_read(d->ch->s->pci, (uint64_t)bm->prd_table + 8ULL * bm->prd_index, e, 8) < 0) {
        bm_fail(d, "PRD table not in RAM (or bus mastering disabled)");
        return false;
    }
    bm->prd_index++;
    uint32_t count = ld16(e + 4) & 0xfffe;
    bm->cur_addr = ld32(e) & ~1u;
    bm->cur_left = count ? count : 0x10000;
    bm->eot = e[7] & 0x80;
    return true;
}

int ide_dma_rw(IdeDrive *d, uint8_t *buf, uint32_t len)
{
    Bmdma *bm = &d->ch->bm;
    PCIDevice *pci = d->ch->s->pci;
    if (!d->dma_running)
        return -1;
    while (len) {
        if (!bm->cur_left && !load_prd(d))
            return -1;
        uint32_t n = MIN(len, bm->cur_left);
        int r = d->dma_to_mem ? pci_dma_write(pci, bm->cur_addr, buf, n)
                              : pci_dma_read(pci, bm->cur_addr, buf, n);
        if (r < 0) {
            bm_fail(d, "PRD region not in RAM (or bus mastering disabled)");
            return -1;
        }
        bm->cur_addr += n;
        bm->cur_left -= n;
        buf += n;
        len -= n;
    }
    return 0;
}

void ide_dma_end(IdeDrive *d, bool error)
{
    Bmdma *bm = &d->ch->bm;
    if (!d->dma_running)
        return;
    d->dma_running = false;
    if (error)
        bm->status = (uint8_t)((bm->status & ~BM_ST_ACTIVE) | BM_ST_ERROR);
    else if (!bm->cur_left && bm->eot)
        bm->status &= (uint8_t)~BM_ST_ACTIVE;
    /* A table longer than the transfer leaves ACTIVE set, as SFF-8038i says. */
}

void ide_bm_note_irq(IdeChannel *ch)
{
    ch->bm.status |= BM_ST_INTR;
}

void ide_bm_reset(IdeChannel *ch)
{
    ch->bm.cmd = 0;
    ch->bm.status = 0;
    ch->bm.prd_table = 0;
    reset_cursor(&ch->bm);
}

/* The guest stopped the engine: abandon what a device was moving. */
static void stop(IdeChannel *ch)
{
    ch->bm.status &= (uint8_t)~BM_ST_ACTIVE;
    for (int i = 0; i < 2; i++) {
        IdeDrive *d = &ch->drive[i];
        if (!d->dma_running)
            continue;
        if (d->aio) {
            d->aio->cancelled = true;
            d->aio = NULL;
        }
        d->dma_running = false;
    }
}

uint64_t ide_bm_read(IdeState *s, unsigned off)
{
    Bmdma *bm = &s->ch[(off >> 3) & 1].bm;
    switch (off & 7) {
    case 0: return bm->cmd;
    case 2: return bm->status;
    case 4: case 5: case 6: case 7:
        return (bm->prd_table >> (8 * (off & 3))) & 0xff;
    }
    return 0;
}

void ide_bm_write(IdeState *s, unsigned off, uint8_t val)
{
    IdeChannel *ch = &s->ch[(off >> 3) & 1];
    Bmdma *bm = &ch->bm;
    switch (off & 7) {
    case 0: {
        uint8_t old = bm->cmd;
        bm->cmd = val & (BM_CMD_START | BM_CMD_TO_MEM);
        if (!(old & BM_CMD_START) && (val & BM_CMD_START)) {
            reset_cursor(bm);
            bm->status |= BM_ST_ACTIVE;
            kick(ch);
        } else if ((old & BM_CMD_START) && !(val & BM_CMD_START)) {
            stop(ch);
        }
        break;
    }
    case 2:
        bm->status = (uint8_t)((bm->status & ~(val & (BM_ST_ERROR | BM_ST_INTR)) & ~BM_ST_CAPABLE) |
                               (val & BM_ST_CAPABLE));
        break;
    case 4: case 5: case 6: case 7: {
        unsigned shift = 8 * (off & 3);
        bm->prd_table = (bm->prd_table & ~(0xffu << shift)) | ((uint32_t)val << shift);
        bm->prd_table &= ~3u;
        break;
    }
    }
}
