/* ATA task file, interrupts, resets and the ATA command set
 * (ATA/ATAPI-6, T13 1410D). PIO data moves through a per-device staging
 * buffer; every disk access is an asynchronous block request whose
 * completion (on the main loop) continues the command. */
#include "hw/ide-internal.h"

#include <errno.h>
#include <stdlib.h>
#include "system/log.h"

/* ---- asynchronous block requests ----------------------------------------------- */

IdeAio *ide_aio_new(IdeDrive *d, size_t len)
{
    IdeAio *a = xzalloc(sizeof(*a));
    a->d = d;
    a->len = len;
    a->buf = len ? xmalloc(len) : NULL;
    return a;
}

static void ide_aio_free(IdeAio *a)
{
    free(a->buf);
    free(a);
}

static void ide_aio_complete(void *opaque, int ret)
{
    IdeAio *a = opaque;
    if (!a->cancelled) {
        a->d->aio = NULL;
        a->done(a->d, a, ret);
    }
    ide_aio_free(a);
}

void ide_aio_submit(IdeAio *a, BlockAioOp op, uint64_t offset, IdeAioDone *done)
{
    IdeDrive *d = a->d;
    struct iovec iov = { a->buf, a->len };
    a->done = done;
    d->aio = a;
    int ret = d->blk ? blk_aio_submit(d->blk, op, offset, a->len ? &iov : NULL, a->len ? 1 : 0,
                                      0, ide_aio_complete, a)
                     : -ENOMEDIUM;
    if (ret < 0)
        ide_aio_complete(a, ret);
}

/* ---- interrupts ------------------------------------------------------------------ */

void ide_update_irq(IdeChannel *ch)
{
    IdeDrive *d = ide_cur(ch);
    int level = ide_present(d) && d->irq && !(ch->ctrl & CTL_NIEN);
    if (level == ch->irq_level)
        return;
    ch->irq_level = level;
    if (level)
        ide_bm_note_irq(ch);
    irq_set_level(ch->irq, level);
}

void ide_set_irq(IdeDrive *d)
{
    d->irq = true;
    ide_update_irq(d->ch);
}

uint8_t ide_ready_status(const IdeDrive *d)
{
    /* Bit 4 is "seek complete" for disks but SERV for packet devices. */
    return d->kind == IDE_CD ? ST_DRDY : ST_DRDY | ST_DSC;
}

void ide_cmd_ok(IdeDrive *d)
{
    d->status = ide_ready_status(d);
    ide_set_irq(d);
}

void ide_cmd_error(IdeDrive *d, uint8_t error)
{
    d->status = ide_ready_status(d) | ST_ERR;
    d->error = error;
    ide_set_irq(d);
}

/* ---- PIO data ---------------------------------------------------------------------- */

void ide_pio_window(IdeDrive *d, uint32_t pos, uint32_t len, void (*done)(IdeDrive *))
{
    d->pos = pos;
    d->end = pos + len;
    d->pio_done = done;
    d->status |= ST_DRQ;
}

static void pio_window_consumed(IdeDrive *d)
{
    void (*done)(IdeDrive *) = d->pio_done;
    d->pio_done = NULL;
    d->status &= (uint8_t)~ST_DRQ;
    if (done)
        done(d);
}

static uint32_t data_read(IdeDrive *d, unsigned size)
{
    if (!d->pio_done || d->pos >= d->end)
        return 0;
    uint32_t v = 0;
    unsigned n = MIN(size, d->end - d->pos);
    for (unsigned i = 0; i < n; i++)
        v |= (uint32_t)d->buf[d->pos + i] << (8 * i);
    d->pos += n;
    if (d->pos >= d->end)
        pio_window_consumed(d);
    return v;
}

static void data_write(IdeDrive *d, uint32_t v, unsigned size)
{
    if (!d->pio_done || d->pos >= d->end)
        return;
    unsigned n = MIN(size, d->end - d->pos);
    for (unsigned i = 0; i < n; i++)
        d->buf[d->pos + i] = (uint8_t)(v >> (8 * i));
    d->pos += n;
    if (d->pos >= d->end)
        pio_window_consumed(d);
}

/* ---- addressing ------------------------------------------------------------------ */

static uint32_t sector_count(const IdeDrive *d)
{
    if (d->lba48)
        return ((uint32_t)d->hob_nsector << 8 | d->nsector) ?: 65536;
    return d->nsector ?: 256;
}

/* The command's starting sector, or false for an invalid CHS address. */
static bool start_sector(const IdeDrive *d, uint64_t *lba)
{
    if (d->lba48) {
        *lba = (uint64_t)d->hob_lbah << 40 | (uint64_t)d->hob_lbam << 32 |
               (uint64_t)d->hob_lbal << 24 | (uint64_t)d->lbah << 16 |
               (uint64_t)d->lbam << 8 | d->lbal;
        return true;
    }
    if (d->select & DEV_LBA) {
        *lba = (uint64_t)(d->select & 0xf) << 24 | (uint64_t)d->lbah << 16 |
               (uint64_t)d->lbam << 8 | d->lbal;
        return true;
    }
    unsigned cyl = (unsigned)d->lbah << 8 | d->lbam, head = d->select & 0xf, sect = d->lbal;
    if (!d->cur_secs || !sect || sect > d->cur_secs || head >= d->cur_heads)
        return false;
    *lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_secs + sect - 1;
    return true;
}

/* Report a sector address in the task file (progress, errors, max address). */
static void set_sector(IdeDrive *d, uint64_t lba)
{
    if (d->lba48) {
        d->lbal = (uint8_t)lba;
        d->lbam = (uint8_t)(lba >> 8);
        d->lbah = (uint8_t)(lba >> 16);
        d->hob_lbal = (uint8_t)(lba >> 24);
        d->hob_lbam = (uint8_t)(lba >> 32);
        d->hob_lbah = (uint8_t)(lba >> 40);
    } else if (d->select & DEV_LBA) {
        d->lbal = (uint8_t)lba;
        d->lbam = (uint8_t)(lba >> 8);
        d->lbah = (uint8_t)(lba >> 16);
        d->select = (uint8_t)((d->select & 0xf0) | ((lba >> 24) & 0xf));
    } else if (d->cur_secs && d->cur_heads) {
        uint64_t per_cyl = (uint64_t)d->cur_heads * d->cur_secs;
        uint64_t cyl = lba / per_cyl, r = lba % per_cyl;
        d->lbam = (uint8_t)cyl;
        d->lbah = (uint8_t)(cyl >> 8);
        d->select = (uint8_t)((d->select & 0xf0) | (r / d->cur_secs));
        d->lbal = (uint8_t)(r % d->cur_secs + 1);
    }
}

/* Load lba/remaining for a read or write; false after failing the command. */
static bool setup_transfer(IdeDrive *d)
{
    uint64_t lba;
    uint32_t count = sector_count(d);
    if (!start_sector(d, &lba) || lba > d->nb_sectors || count > d->nb_sectors - lba) {
        ide_cmd_error(d, ER_IDNF);
        return false;
    }
    d->lba = lba;
    d->remaining = count;
    return true;
}

static bool writable(IdeDrive *d)
{
    if (blk_is_read_only(d->blk)) {
        ide_cmd_error(d, ER_ABRT);
        return false;
    }
    return true;
}

/* ---- PIO reads: chunks staged by async reads, handed out per DRQ block -------------- */

static void pio_read_next(IdeDrive *d);

static void pio_read_fetched(IdeDrive *d, IdeAio *a, int ret)
{
    if (ret < 0) {
        set_sector(d, d->lba);
        ide_cmd_error(d, ER_UNC);
        return;
    }
    memcpy(d->buf, a->buf, a->len);
    d->fill = (uint32_t)a->len;
    d->end = 0;
    pio_read_next(d);
}

static void pio_read_block_done(IdeDrive *d)
{
    d->lba += d->cur_block;
    d->remaining -= d->cur_block;
    set_sector(d, d->lba - 1);
    pio_read_next(d);
}

static void pio_read_next(IdeDrive *d)
{
    if (!d->remaining) {
        d->status = ide_ready_status(d);    /* no interrupt after the last block */
        return;
    }
    uint32_t next = d->end;
    if (next >= d->fill) {
        uint32_t n = MIN(d->remaining, IDE_BUF_SIZE / IDE_SECTOR);
        d->status = ST_BSY | ST_DRDY;
        IdeAio *a = ide_aio_new(d, (size_t)n * IDE_SECTOR);
        ide_aio_submit(a, BLK_AIO_READ, d->lba * IDE_SECTOR, pio_read_fetched);
        return;
    }
    d->cur_block = MIN(d->block_sectors, d->remaining);
    d->status = ide_ready_status(d);
    ide_pio_window(d, next, d->cur_block * IDE_SECTOR, pio_read_block_done);
    ide_set_irq(d);
}

/* ---- PIO writes: each DRQ block is written before the next is asked for ------------- */

static void pio_write_next(IdeDrive *d, bool irq);

static void pio_write_flushed(IdeDrive *d, IdeAio *a, int ret)
{
    if (ret < 0) {
        ide_cmd_error(d, ER_ABRT);
        return;
    }
    pio_write_next(d, true);
}

static void pio_write_written(IdeDrive *d, IdeAio *a, int ret)
{
    if (ret < 0) {
        set_sector(d, d->lba);
        ide_cmd_error(d, ER_ABRT);
        return;
    }
    d->lba += a->sectors;
    d->remaining -= a->sectors;
    set_sector(d, d->lba - 1);
    if (!d->write_cache) {          /* write-through: on the medium before the ack */
        ide_aio_submit(ide_aio_new(d, 0), BLK_AIO_FLUSH, 0, pio_write_flushed);
        return;
    }
    pio_write_next(d, true);
}

static void pio_write_block_done(IdeDrive *d)
{
    d->status = ST_BSY | ST_DRDY;
    IdeAio *a = ide_aio_new(d, (size_t)d->cur_block * IDE_SECTOR);
    a->sectors = d->cur_block;
    memcpy(a->buf, d->buf, a->len);
    ide_aio_submit(a, BLK_AIO_WRITE, d->lba * IDE_SECTOR, pio_write_written);
}

static void pio_write_next(IdeDrive *d, bool irq)
{
    if (!d->remaining) {
        ide_cmd_ok(d);
        return;
    }
    d->cur_block = MIN(d->block_sectors, d->remaining);
    d->status = ide_ready_status(d);
    ide_pio_window(d, 0, d->cur_block * IDE_SECTOR, pio_write_block_done);
    if (irq)
        ide_set_irq(d);
}

/* ---- DMA: chunks between the block layer and the PRD table ---------------------- */

static void dma_step(IdeDrive *d);

static void dma_finish(IdeDrive *d, uint8_t error)
{
    ide_dma_end(d, false);
    if (error) {
        set_sector(d, d->lba);
        ide_cmd_error(d, error);
    } else {
        set_sector(d, d->lba - 1);
        ide_cmd_ok(d);
    }
}

static void dma_chunk_done(IdeDrive *d, IdeAio *a, int ret)
{
    if (ret < 0) {
        dma_finish(d, d->dma_to_mem ? ER_UNC : ER_ABRT);
        return;
    }
    if (d->dma_to_mem && ide_dma_rw(d, a->buf, (uint32_t)a->len) < 0) {
        set_sector(d, d->lba);
        ide_cmd_error(d, ER_ABRT);      /* the bus master reported the PRD fault */
        return;
    }
    d->lba += a->sectors;
    d->remaining -= a->sectors;
    if (!d->remaining && !d->dma_to_mem && !d->write_cache && a->len) {
        ide_aio_submit(ide_aio_new(d, 0), BLK_AIO_FLUSH, 0, dma_chunk_done);
        return;
    }
    dma_step(d);
}

static void dma_step(IdeDrive *d)
{
    if (!d->remaining) {
        dma_finish(d, 0);
        return;
    }
    uint32_t n = MIN(d->remaining, IDE_DMA_CHUNK / IDE_SECTOR);
    IdeAio *a = ide_aio_new(d, (size_t)n * IDE_SECTOR);
    a->sectors = n;
    if (d->dma_to_mem) {
        ide_aio_submit(a, BLK_AIO_READ, d->lba * IDE_SECTOR, dma_chunk_done);
        return;
    }
    if (ide_dma_rw(d, a->buf, (uint32_t)a->len) < 0) {
        ide_aio_free(a);
        set_sector(d, d->lba);
        ide_cmd_error(d, ER_ABRT);
        return;
    }
    ide_aio_submit(a, BLK_AIO_WRITE, d->lba * IDE_SECTOR, dma_chunk_done);
}

/* ---- commands -------------------------------------------------------------------- */

static void cmd_read_pio(IdeDrive *d)
{
    bool multiple = d->cmd == 0xc4 || d->cmd == 0x29;
    if (multiple && !d->mult_sectors) {
        ide_cmd_error(d, ER_ABRT);
        return;
    }
    if (!setup_transfer(d))
        return;
    d->standby = false;
    d->block_sectors = multiple ? (uint32_t)d->mult_sectors : 1;
    d->fill = d->end = 0;
    pio_read_next(d);
}

static void cmd_write_pio(IdeDrive *d)
{
    bool multiple = d->cmd == 0xc5 || d->cmd == 0x39;
    if (multiple && !d->mult_sectors) {
        ide_cmd_error(d, ER_ABRT);
        return;
    }
    if (!writable(d) || !setup_transfer(d))
        return;
    d->standby = false;
    d->block_sectors = multiple ? (uint32_t)d->mult_sectors : 1;
    pio_write_next(d, false);       /* the first block is asked for without INTRQ */
}

static void cmd_read_dma(IdeDrive *d)
{
    if (!setup_transfer(d))
        return;
    d->standby = false;
    d->status = ide_ready_status(d) | ST_DRQ;
    ide_dma_begin(d, true, dma_step);
}

static void cmd_write_dma(IdeDrive *d)
{
    if (!writable(d) || !setup_transfer(d))
        return;
    d->standby = false;
    d->status = ide_ready_status(d) | ST_DRQ;
    ide_dma_begin(d, false, dma_step);
}

static void cmd_verify(IdeDrive *d)
{
    if (setup_transfer(d)) {
        set_sector(d, d->lba + d->remaining - 1);
        ide_cmd_ok(d);
    }
}

static void flush_done(IdeDrive *d, IdeAio *a, int ret)
{
    if (ret < 0)
        ide_cmd_error(d, ER_ABRT);
    else
        ide_cmd_ok(d);
}

static void cmd_flush(IdeDrive *d)
{
    d->status = ST_BSY | ST_DRDY;
    ide_aio_submit(ide_aio_new(d, 0), BLK_AIO_FLUSH, 0, flush_done);
}

static void identify_sent(IdeDrive *d)
{
    d->status = ide_ready_status(d);
}

static void cmd_identify(IdeDrive *d)
{
    ide_identify_fill(d);
    d->status = ide_ready_status(d);
    ide_pio_window(d, 0, IDE_SECTOR, identify_sent);
    ide_set_irq(d);
}

static void cmd_set_multiple(IdeDrive *d)
{
    unsigned n = d->nsector;
    if (n > IDE_MAX_MULT || (n & (n - 1))) {
        ide_cmd_error(d, ER_ABRT);
        return;
    }
    d->mult_sectors = (int)n;
    ide_cmd_ok(d);
}

static bool valid_xfer_mode(uint8_t m)
{
    return m <= 0x01 || (m >= 0x08 && m <= 0x0c) || (m >= 0x20 && m <= 0x22) ||
           (m >= 0x40 && m <= 0x45);
}

static void cmd_set_features(IdeDrive *d)
{
    switch (d->feature) {
    case 0x03:                      /* set transfer mode */
        if (!valid_xfer_mode(d->nsector))
            break;
        d->xfer_mode = d->nsector;
        ide_cmd_ok(d);
        return;
    case 0x02:                      /* enable write cache */
    case 0x82:                      /* disable write cache */
        d->write_cache = d->feature == 0x02;
        if (!d->write_cache && d->kind == IDE_HD) {
            cmd_flush(d);           /* what was cached reaches the medium now */
            return;
        }
        ide_cmd_ok(d);
        return;
    case 0xaa: case 0x55:           /* read look-ahead on/off */
    case 0x66: case 0xcc:           /* keep/revert settings over reset */
        ide_cmd_ok(d);
        return;
    }
    LOG_ONCE(LOG_UNIMP, d->feature, "ide: SET FEATURES subcommand 0x%02x not supported\n",
             d->feature);
    ide_cmd_error(d, ER_ABRT);
}

static void cmd_init_params(IdeDrive *d)
{
    d->cur_heads = (uint16_t)((d->select & 0xf) + 1);
    d->cur_secs = d->nsector;
    ide_cmd_ok(d);
}

static void cmd_read_native_max(IdeDrive *d)
{
    uint64_t max = d->nb_sectors ? d->nb_sectors - 1 : 0;
    if (!d->lba48)
        max = MIN(max, 0x0fffffffULL);
    d->select |= DEV_LBA;
    set_sector(d, max);
    ide_cmd_ok(d);
}

static void cmd_ok(IdeDrive *d)
{
    ide_cmd_ok(d);
}

static void cmd_standby(IdeDrive *d)
{
    d->standby = true;
    ide_cmd_ok(d);
}

static void cmd_idle(IdeDrive *d)
{
    d->standby = false;
    ide_cmd_ok(d);
}

static void cmd_check_power(IdeDrive *d)
{
    d->nsector = d->standby ? 0x00 : 0xff;
    ide_cmd_ok(d);
}

static void reset_done(IdeDrive *d);

static void cmd_device_reset(IdeDrive *d)
{
    atapi_reset(d, false);
    reset_done(d);                  /* no interrupt: the host polls BSY */
}

static void cmd_packet(IdeDrive *d)
{
    atapi_packet_command(d);
}

enum { HD = 1, CD = 2, EXT = 4 };

typedef struct IdeCommand {
    void (*fn)(IdeDrive *d);
    uint8_t flags;
} IdeCommand;

static const IdeCommand ide_commands[256] = {
    [0x08] = { cmd_device_reset, CD },
    [0x10] = { cmd_ok, HD },                    /* RECALIBRATE */
    [0x20] = { cmd_read_pio, HD },
    [0x21] = { cmd_read_pio, HD },
    [0x24] = { cmd_read_pio, HD | EXT },
    [0x25] = { cmd_read_dma, HD | EXT },
    [0x27] = { cmd_read_native_max, HD | EXT },
    [0x29] = { cmd_read_pio, HD | EXT },
    [0x30] = { cmd_write_pio, HD },
    [0x31] = { cmd_write_pio, HD },
    [0x34] = { cmd_write_pio, HD | EXT },
    [0x35] = { cmd_write_dma, HD | EXT },
    [0x39] = { cmd_write_pio, HD | EXT },
    [0x40] = { cmd_verify, HD },
    [0x41] = { cmd_verify, HD },
    [0x42] = { cmd_verify, HD | EXT },
    [0x70] = { cmd_ok, HD },                    /* SEEK */
    [0x91] = { cmd_init_params, HD },
    [0xa0] = { cmd_packet, CD },
    [0xa1] = { cmd_identify, CD },
    [0xc4] = { cmd_read_pio, HD },
    [0xc5] = { cmd_write_pio, HD },
    [0xc6] = { cmd_set_multiple, HD },
    [0xc8] = { cmd_read_dma, HD },
    [0xc9] = { cmd_read_dma, HD },
    [0xca] = { cmd_write_dma, HD },
    [0xcb] = { cmd_write_dma, HD },
    [0xe0] = { cmd_standby, HD | CD },          /* STANDBY IMMEDIATE */
    [0xe1] = { cmd_idle, HD | CD },             /* IDLE IMMEDIATE */
    [0xe2] = { cmd_standby, HD | CD },
    [0xe3] = { cmd_idle, HD | CD },
    [0xe5] = { cmd_check_power, HD | CD },
    [0xe6] = { cmd_standby, HD | CD },          /* SLEEP: only a reset wakes it; close enough */
    [0xe7] = { cmd_flush, HD },
    [0xea] = { cmd_flush, HD | EXT },
    [0xec] = { cmd_identify, HD },
    [0xef] = { cmd_set_features, HD | CD },
    [0xf8] = { cmd_read_native_max, HD },
};

/* ---- reset and signature -------------------------------------------------------- */

void ide_set_signature(IdeDrive *d)
{
    d->nsector = 1;
    d->lbal = 1;
    if (d->kind == IDE_CD) {
        d->lbam = 0x14;
        d->lbah = 0xeb;
    } else {
        d->lbam = 0;
        d->lbah = 0;
    }
    d->select &= DEV_DEV;
}

/* An absent device gets the ATA signature too: on a real cable the present
 * device's registers answer for it, and hosts (libata's post-reset wait)
 * poll sector count and LBA low of both devices. Its status reads 00h. */
static void reset_done(IdeDrive *d)
{
    ide_set_signature(d);
    d->error = 0x01;                /* diagnostics passed */
    d->status = d->kind == IDE_HD ? ide_ready_status(d) : 0;
}

static void cmd_execute_diagnostic(IdeChannel *ch)
{
    for (int i = 0; i < 2; i++) {
        IdeDrive *d = &ch->drive[i];
        ide_cancel(d);
        d->irq = false;
        reset_done(d);
    }
    IdeDrive *d = ide_present(&ch->drive[0]) ? &ch->drive[0] : &ch->drive[1];
    ide_set_irq(d);
}

void ide_cancel(IdeDrive *d)
{
    if (d->aio) {
        d->aio->cancelled = true;
        d->aio = NULL;
    }
    d->pio_done = NULL;
    d->pos = d->end = d->fill = 0;
    d->dma_pending = false;
    d->dma_running = false;
    d->status &= (uint8_t)~ST_DRQ;
}

static void drive_power_on_defaults(IdeDrive *d)
{
    d->mult_sectors = 0;
    d->write_cache = d->write_cache_default;
    d->standby = false;
    d->xfer_mode = 0;
    d->cur_heads = d->heads;
    d->cur_secs = d->secs;
}

void ide_channel_reset(IdeChannel *ch, bool hard)
{
    for (int i = 0; i < 2; i++) {
        IdeDrive *d = &ch->drive[i];
        ide_cancel(d);
        d->irq = false;
        d->feature = d->hob_feature = d->hob_nsector = 0;
        d->hob_lbal = d->hob_lbam = d->hob_lbah = 0;
        d->select = 0;
        if (hard && ide_present(d))
            drive_power_on_defaults(d);
        if (d->kind == IDE_CD)
            atapi_reset(d, hard);
        reset_done(d);
    }
    ch->cur = 0;
    if (hard)
        ch->ctrl = 0;
    ide_update_irq(ch);
}

/* ---- register file ---------------------------------------------------------------- */

static bool channel_empty(const IdeChannel *ch)
{
    return !ide_present(&ch->drive[0]) && !ide_present(&ch->drive[1]);
}

static void execute(IdeChannel *ch, uint8_t cmd)
{
    IdeDrive *d = ide_cur(ch);
    if (cmd == 0x90) {
        cmd_execute_diagnostic(ch);
        return;
    }
    if (!ide_present(d))
        return;                     /* nobody answers for an absent device */
    if ((d->status & ST_BSY) && !(cmd == 0x08 && d->kind == IDE_CD))
        return;
    ide_cancel(d);
    d->irq = false;
    ide_update_irq(ch);
    const IdeCommand *c = &ide_commands[cmd];
    uint8_t kind = d->kind == IDE_CD ? CD : HD;
    d->cmd = cmd;
    d->error = 0;
    if (!c->fn || !(c->flags & kind)) {
        LOG_ONCE(LOG_UNIMP, cmd | (kind << 8), "ide%d: command 0x%02x aborted (%s)\n",
                 d->unit, cmd, d->kind == IDE_CD ? "cdrom" : "disk");
        if (cmd == 0xec)
            ide_set_signature(d);   /* how a host tells a packet device apart */
        ide_cmd_error(d, ER_ABRT);
        return;
    }
    d->lba48 = c->flags & EXT;
    LOG(LOG_TRACE, "ide%d: command 0x%02x nsector 0x%02x lba %02x%02x%02x dev 0x%02x\n",
        d->unit, cmd, d->nsector, d->lbah, d->lbam, d->lbal, d->select);
    c->fn(d);
}

static uint8_t reg_value(const IdeDrive *d, unsigned reg, bool hob)
{
    switch (reg) {
    case 1: return d->error;
    case 2: return hob ? d->hob_nsector : d->nsector;
    case 3: return hob ? d->hob_lbal : d->lbal;
    case 4: return hob ? d->hob_lbam : d->lbam;
    case 5: return hob ? d->hob_lbah : d->lbah;
    case 6: return d->select | 0xa0;   /* bits 7 and 5: obsolete, read as one */
    }
    return 0;
}

uint32_t ide_cmd_read(IdeChannel *ch, unsigned reg, unsigned size)
{
    if (channel_empty(ch))
        return (uint32_t)size_mask(size);   /* nothing drives the bus */
    IdeDrive *d = ide_cur(ch);
    if (reg == 0)
        return ide_present(d) ? data_read(d, size) : 0;
    if (reg == 7) {
        if (!ide_present(d))
            return 0;               /* device 0 answers for an absent device 1 */
        d->irq = false;
        ide_update_irq(ch);
        return d->status;
    }
    return reg_value(d, reg, ch->ctrl & CTL_HOB);
}

uint8_t ide_altstatus_read(IdeChannel *ch)
{
    if (channel_empty(ch))
        return 0xff;
    IdeDrive *d = ide_cur(ch);
    return ide_present(d) ? d->status : 0;
}

static void latch(uint8_t *reg, uint8_t *hob, uint8_t val)
{
    *hob = *reg;
    *reg = val;
}

void ide_cmd_write(IdeChannel *ch, unsigned reg, uint32_t val, unsigned size)
{
    if (reg == 0) {
        IdeDrive *d = ide_cur(ch);
        if (ide_present(d))
            data_write(d, val, size);
        return;
    }
    uint8_t v = (uint8_t)val;
    if (reg == 7) {
        execute(ch, v);
        return;
    }
    ch->ctrl &= (uint8_t)~CTL_HOB;  /* any task file write clears HOB */
    for (int i = 0; i < 2; i++) {
        IdeDrive *d = &ch->drive[i];
        switch (reg) {
        case 1: latch(&d->feature, &d->hob_feature, v); break;
        case 2: latch(&d->nsector, &d->hob_nsector, v); break;
        case 3: latch(&d->lbal, &d->hob_lbal, v); break;
        case 4: latch(&d->lbam, &d->hob_lbam, v); break;
        case 5: latch(&d->lbah, &d->hob_lbah, v); break;
        case 6: d->select = v & 0x5f; break;
        }
    }
    if (reg == 6) {
        ch->cur = (v & DEV_DEV) ? 1 : 0;
        ide_update_irq(ch);
    }
}

void ide_ctrl_write(IdeChannel *ch, uint8_t val)
{
    bool was_reset = ch->ctrl & CTL_SRST, now_reset = val & CTL_SRST;
    ch->ctrl = val;
    if (!was_reset && now_reset) {
        for (int i = 0; i < 2; i++) {
            IdeDrive *d = &ch->drive[i];
            ide_cancel(d);
            d->irq = false;
            if (ide_present(d))
                d->status = ST_BSY;
        }
    } else if (was_reset && !now_reset) {
        ide_channel_reset(ch, false);
        ch->ctrl = val;
    }
    ide_update_irq(ch);
}

/* ---- devices ---------------------------------------------------------------------- */

void ide_channel_init(IdeChannel *ch, IdeState *s, int index, IrqLine *irq)
{
    ch->s = s;
    ch->index = index;
    ch->irq = irq;
    for (int i = 0; i < 2; i++) {
        ch->drive[i].ch = ch;
        ch->drive[i].unit = index * 2 + i;
    }
}

static void default_geometry(IdeDrive *d)
{
    uint64_t cyls = d->nb_sectors / (16 * 63);
    d->heads = 16;
    d->secs = 63;
    d->cyls = (uint16_t)MAX(1, MIN(cyls, 16383));
}

void ide_drive_setup(IdeDrive *d, IdeKind kind, BlockDev *blk)
{
    d->kind = kind;
    d->write_cache_default = true;
    d->blk = blk;
    if (!d->buf)
        d->buf = xzalloc(IDE_BUF_SIZE);
    snprintf(d->serial, sizeof(d->serial), "KESTREL%05d", d->unit + 1);
    snprintf(d->firmware, sizeof(d->firmware), "1.0");
    snprintf(d->model, sizeof(d->model), "%s",
             kind == IDE_CD ? "KESTREL CD-ROM" : "KESTREL HARDDISK");
    if (kind == IDE_HD) {
        int64_t len = blk_getlength(blk);
        d->nb_sectors = len > 0 ? (uint64_t)len / IDE_SECTOR : 0;
        default_geometry(d);
    } else {
        atapi_set_medium(d, blk);
    }
    drive_power_on_defaults(d);
    ide_cancel(d);
    d->irq = false;
    reset_done(d);
}
