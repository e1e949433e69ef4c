/* ATAPI CD-ROM: the PACKET protocol (SFF-8020i) and the MMC commands a
 * guest needs to find, size and read a data CD and to notice media
 * changes. Read-only, 2048-byte blocks, one data track in one session.
 *
 * Data-in goes either through PIO in DRQ blocks no larger than the host's
 * byte count limit (LBA mid/high), each announced by INTRQ with the
 * interrupt reason (sector count: IO=1, CoD=0), or through the bus master
 * when the PACKET command asked for DMA (features bit 0). The command ends
 * with IO=1, CoD=1 and DRDY (ERR plus sense key in the error register on a
 * CHECK CONDITION). */
#include "hw/ide-internal.h"

#include "system/log.h"

/* Interrupt reason (sector count register) */
#define IR_COD 0x01
#define IR_IO  0x02

/* Sense keys and additional sense codes */
#define SK_NO_SENSE        0x0
#define SK_NOT_READY       0x2
#define SK_MEDIUM_ERROR    0x3
#define SK_ILLEGAL_REQUEST 0x5
#define SK_UNIT_ATTENTION  0x6
#define SK_ABORTED_COMMAND 0xb
#define ASC_READ_ERROR             0x11
#define ASC_INVALID_OPCODE         0x20
#define ASC_LBA_OUT_OF_RANGE       0x21
#define ASC_INVALID_FIELD          0x24
#define ASC_MEDIUM_MAY_HAVE_CHANGED 0x28
#define ASC_SAVING_NOT_SUPPORTED   0x39
#define ASC_MEDIUM_NOT_PRESENT     0x3a
#define ASC_REMOVAL_PREVENTED      0x53

/* GET EVENT STATUS NOTIFICATION media event codes */
#define EV_NONE          0
#define EV_NEW_MEDIA     2
#define EV_MEDIA_REMOVAL 3

#define PROFILE_CDROM 0x0008

static bool medium_present(const IdeDrive *d)
{
    return d->blk && !d->atapi.tray_open;
}

/* ---- completion ----------------------------------------------------------------- */

static void command_done(IdeDrive *d)
{
    d->nsector = IR_IO | IR_COD;
    ide_set_irq(d);
}

static void atapi_ok(IdeDrive *d)
{
    AtapiState *a = &d->atapi;
    a->sense_key = SK_NO_SENSE;
    a->asc = a->ascq = 0;
    d->error = 0;
    d->status = ide_ready_status(d);
    command_done(d);
}

static void check_condition(IdeDrive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    AtapiState *a = &d->atapi;
    a->sense_key = key;
    a->asc = asc;
    a->ascq = ascq;
    d->error = (uint8_t)(key << 4 | ER_ABRT);
    d->status = ide_ready_status(d) | ST_ERR;
    command_done(d);
}

static void invalid_field(IdeDrive *d)
{
    check_condition(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
}

static void not_ready(IdeDrive *d)
{
    check_condition(d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, d->atapi.tray_open ? 2 : 1);
}

void atapi_dma_error(IdeDrive *d)
{
    check_condition(d, SK_ABORTED_COMMAND, 0, 0);
}

/* ---- data-in: d->buf[end, fill) is ready; d->remaining sectors still to read ---- */

static uint32_t drq_block_limit(const IdeDrive *d)
{
    uint32_t limit = d->atapi.byte_limit;
    if (!limit || limit > 0xfffe)
        limit = 0xfffe;
    return limit & ~1u;             /* even, so words never straddle blocks */
}

static void pio_next(IdeDrive *d);

static void read_failed(IdeDrive *d)
{
    check_condition(d, SK_MEDIUM_ERROR, ASC_READ_ERROR, 0);
}

static void pio_fetched(IdeDrive *d, IdeAio *a, int ret)
{
    if (ret < 0) {
        read_failed(d);
        return;
    }
    memcpy(d->buf, a->buf, a->len);
    d->fill = (uint32_t)a->len;
    d->end = 0;
    d->lba += a->sectors;
    d->remaining -= a->sectors;
    pio_next(d);
}

static void fetch(IdeDrive *d, uint32_t max_bytes, IdeAioDone *done)
{
    uint32_t n = MIN(d->remaining, max_bytes / CD_SECTOR);
    IdeAio *a = ide_aio_new(d, (size_t)n * CD_SECTOR);
    a->sectors = n;
    d->status = ST_BSY;
    ide_aio_submit(a, BLK_AIO_READ, d->lba * CD_SECTOR, done);
}

static void pio_block_done(IdeDrive *d)
{
    pio_next(d);
}

static void pio_next(IdeDrive *d)
{
    if (d->end < d->fill) {
        uint32_t n = MIN(d->fill - d->end, drq_block_limit(d));
        d->lbam = (uint8_t)n;
        d->lbah = (uint8_t)(n >> 8);
        d->nsector = IR_IO;
        d->status = ide_ready_status(d);
        ide_pio_window(d, d->end, n, pio_block_done);
        ide_set_irq(d);
        return;
    }
    if (d->remaining) {
        fetch(d, IDE_BUF_SIZE, pio_fetched);
        return;
    }
    atapi_ok(d);
}

static void dma_step(IdeDrive *d);

static void dma_fetched(IdeDrive *d, IdeAio *a, int ret)
{
    if (ret < 0) {
        ide_dma_end(d, false);
        read_failed(d);
        return;
    }
    if (ide_dma_rw(d, a->buf, (uint32_t)a->len) < 0) {
        atapi_dma_error(d);
        return;
    }
    d->lba += a->sectors;
    d->remaining -= a->sectors;
    dma_step(d);
}

static void dma_step(IdeDrive *d)
{
    if (d->end < d->fill) {
        uint32_t n = d->fill - d->end;
        d->end = d->fill;
        if (ide_dma_rw(d, d->buf, n) < 0) {
            atapi_dma_error(d);
            return;
        }
    }
    if (d->remaining) {
        fetch(d, IDE_DMA_CHUNK, dma_fetched);
        return;
    }
    ide_dma_end(d, false);
    atapi_ok(d);
}

static void start_data_in(IdeDrive *d)
{
    if (d->atapi.dma) {
        d->status = ide_ready_status(d) | ST_DRQ;
        ide_dma_begin(d, true, dma_step);
        return;
    }
    pio_next(d);
}

/* Reply with buf[0, len), cut to the allocation length. */
static void send_reply(IdeDrive *d, uint32_t len, uint32_t alloc)
{
    len = MIN(len, alloc);
    if (!len) {
        atapi_ok(d);
        return;
    }
    d->fill = len;
    d->end = 0;
    d->remaining = 0;
    start_data_in(d);
}

/* ---- commands -------------------------------------------------------------------- */

static void cmd_test_unit_ready(IdeDrive *d, const uint8_t *cdb)
{
    atapi_ok(d);
}

static void cmd_request_sense(IdeDrive *d, const uint8_t *cdb)
{
    AtapiState *a = &d->atapi;
    uint8_t key = a->sense_key, asc = a->asc, ascq = a->ascq;
    if (key == SK_NO_SENSE && a->unit_attention) {
        a->unit_attention = false;
        key = SK_UNIT_ATTENTION;
        asc = ASC_MEDIUM_MAY_HAVE_CHANGED;
        ascq = 0;
    } else if (key == SK_NO_SENSE && !medium_present(d)) {
        key = SK_NOT_READY;
        asc = ASC_MEDIUM_NOT_PRESENT;
        ascq = a->tray_open ? 2 : 1;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 18);
    b[0] = 0x70;                    /* current error, fixed format */
    b[2] = key;
    b[7] = 10;                      /* additional sense length */
    b[12] = asc;
    b[13] = ascq;
    send_reply(d, 18, cdb[4]);
}

static void put_padded(uint8_t *p, const char *s, size_t n)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < n; i++)
        p[i] = i < len ? (uint8_t)s[i] : ' ';
}

static void cmd_inquiry(IdeDrive *d, const uint8_t *cdb)
{
    if (cdb[1] & 1) {               /* vital product data pages: none */
        invalid_field(d);
        return;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 36);
    b[0] = 0x05;                    /* CD/DVD device */
    b[1] = 0x80;                    /* removable */
    b[3] = 0x21;                    /* ATAPI version 2, response data format 1 */
    b[4] = 36 - 5;
    put_padded(b + 8, "KESTREL", 8);
    put_padded(b + 16, "KESTREL CD-ROM", 16);
    put_padded(b + 32, d->firmware, 4);
    send_reply(d, 36, ldbe16(cdb + 3));
}

static void cmd_read_capacity(IdeDrive *d, const uint8_t *cdb)
{
    stbe32(d->buf, (uint32_t)MIN(d->nb_sectors - 1, 0xffffffffULL));
    stbe32(d->buf + 4, CD_SECTOR);
    send_reply(d, 8, 8);
}

static void start_read(IdeDrive *d, uint64_t lba, uint32_t count)
{
    if (lba > d->nb_sectors || count > d->nb_sectors - lba) {
        check_condition(d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    if (!count) {
        atapi_ok(d);
        return;
    }
    d->lba = lba;
    d->remaining = count;
    d->fill = d->end = 0;
    start_data_in(d);
}

static void cmd_read10(IdeDrive *d, const uint8_t *cdb)
{
    start_read(d, ldbe32(cdb + 2), ldbe16(cdb + 7));
}

static void cmd_read12(IdeDrive *d, const uint8_t *cdb)
{
    start_read(d, ldbe32(cdb + 2), ldbe32(cdb + 6));
}

/* A block address as MSF (minute, second, frame; 2 s of lead-in) or LBA. */
static void put_address(uint8_t *p, uint64_t lba, bool msf)
{
    if (!msf) {
        stbe32(p, (uint32_t)lba);
        return;
    }
    lba += 150;
    p[0] = 0;
    p[1] = (uint8_t)MIN(lba / (75 * 60), 0xff);
    p[2] = (uint8_t)(lba / 75 % 60);
    p[3] = (uint8_t)(lba % 75);
}

static uint32_t toc_format0(IdeDrive *d, uint8_t start_track, bool msf)
{
    uint8_t *b = d->buf, *p = b + 4;
    b[2] = 1;                       /* first and last track */
    b[3] = 1;
    if (start_track <= 1) {
        p[0] = 0;
        p[1] = 0x14;                /* ADR 1, data track */
        p[2] = 1;
        p[3] = 0;
        put_address(p + 4, 0, msf);
        p += 8;
    }
    p[0] = 0;
    p[1] = 0x14;
    p[2] = 0xaa;                    /* lead-out */
    p[3] = 0;
    put_address(p + 4, d->nb_sectors, msf);
    p += 8;
    uint32_t len = (uint32_t)(p - b);
    stbe16(b, (uint16_t)(len - 2));
    return len;
}

static uint32_t toc_format1(IdeDrive *d, bool msf)
{
    uint8_t *b = d->buf;
    memset(b, 0, 12);
    stbe16(b, 10);
    b[2] = 1;                       /* first and last complete session */
    b[3] = 1;
    b[5] = 0x14;
    b[6] = 1;                       /* first track of the last session */
    put_address(b + 8, 0, msf);
    return 12;
}

static uint8_t *raw_toc_entry(uint8_t *p, uint8_t point, uint64_t lba_or_track, bool is_address)
{
    memset(p, 0, 11);
    p[0] = 1;                       /* session */
    p[1] = 0x14;
    p[3] = point;
    if (is_address)
        put_address(p + 7, lba_or_track, true);   /* PMIN/PSEC/PFRAME at 8..10 */
    else
        p[8] = (uint8_t)lba_or_track;
    p[7] = 0;
    return p + 11;
}

static uint32_t toc_format2(IdeDrive *d)
{
    uint8_t *b = d->buf, *p = b + 4;
    b[2] = 1;
    b[3] = 1;
    p = raw_toc_entry(p, 0xa0, 1, false);     /* first track; disc type 0 (CD-ROM) */
    p = raw_toc_entry(p, 0xa1, 1, false);     /* last track */
    p = raw_toc_entry(p, 0xa2, d->nb_sectors, true);   /* lead-out */
    p = raw_toc_entry(p, 0x01, 0, true);      /* track 1 at 00:02:00 */
    uint32_t len = (uint32_t)(p - b);
    stbe16(b, (uint16_t)(len - 2));
    return len;
}

static void cmd_read_toc(IdeDrive *d, const uint8_t *cdb)
{
    bool msf = cdb[1] & 2;
    unsigned format = cdb[2] & 0xf;
    if (!format)
        format = cdb[9] >> 6;       /* SFF-8020i placed it in the control byte */
    uint32_t len;
    switch (format) {
    case 0:
        if (cdb[6] > 1 && cdb[6] != 0xaa) {
            invalid_field(d);
            return;
        }
        len = toc_format0(d, cdb[6], msf);
        break;
    case 1:
        len = toc_format1(d, msf);
        break;
    case 2:
        len = toc_format2(d);
        break;
    default:
        invalid_field(d);
        return;
    }
    send_reply(d, len, ldbe16(cdb + 7));
}

/* ---- GET CONFIGURATION: a table of features ---------------------------------------- */

static uint8_t *feature_header(uint8_t *p, uint16_t code, bool persistent, bool current,
                               uint8_t len)
{
    stbe16(p, code);
    p[2] = (uint8_t)((persistent ? 2 : 0) | (current ? 1 : 0));
    p[3] = len;
    memset(p + 4, 0, len);
    return p + 4;
}

static uint8_t *feature_profiles(IdeDrive *d, uint8_t *p, bool current)
{
    uint8_t *q = feature_header(p, 0x0000, true, true, 4);
    stbe16(q, PROFILE_CDROM);
    q[2] = current ? 1 : 0;
    return q + 4;
}

static uint8_t *feature_core(IdeDrive *d, uint8_t *p, bool current)
{
    uint8_t *q = feature_header(p, 0x0001, true, true, 4);
    stbe32(q, 2);                   /* physical interface: ATAPI */
    return q + 4;
}

static uint8_t *feature_removable(IdeDrive *d, uint8_t *p, bool current)
{
    uint8_t *q = feature_header(p, 0x0003, true, true, 4);
    q[0] = (1 << 5) | 0x08 | 0x01;  /* tray, can eject, can lock */
    return q + 4;
}

static uint8_t *feature_random_readable(IdeDrive *d, uint8_t *p, bool current)
{
    uint8_t *q = feature_header(p, 0x0010, false, current, 8);
    stbe32(q, CD_SECTOR);
    stbe16(q + 4, 1);               /* blocking */
    return q + 8;
}

static uint8_t *feature_cd_read(IdeDrive *d, uint8_t *p, bool current)
{
    return feature_header(p, 0x001e, false, current, 4) + 4;
}

static const struct {
    uint16_t code;
    bool always_current;
    uint8_t *(*put)(IdeDrive *d, uint8_t *p, bool current);
} cd_features[] = {
    { 0x0000, true, feature_profiles },
    { 0x0001, true, feature_core },
    { 0x0003, true, feature_removable },
    { 0x0010, false, feature_random_readable },
    { 0x001e, false, feature_cd_read },
};

static void cmd_get_configuration(IdeDrive *d, const uint8_t *cdb)
{
    unsigned rt = cdb[1] & 3;
    uint16_t start = ldbe16(cdb + 2);
    if (rt == 3) {
        invalid_field(d);
        return;
    }
    bool medium = medium_present(d);
    uint8_t *b = d->buf, *p = b + 8;
    memset(b, 0, 8);
    for (size_t i = 0; i < ARRAY_SIZE(cd_features); i++) {
        uint16_t code = cd_features[i].code;
        bool current = cd_features[i].always_current || medium;
        if (code < start || (rt == 2 && code != start) || (rt == 1 && !current))
            continue;
        p = cd_features[i].put(d, p, medium);
    }
    uint32_t len = (uint32_t)(p - b);
    stbe32(b, len - 4);
    stbe16(b + 6, medium ? PROFILE_CDROM : 0);
    send_reply(d, len, ldbe16(cdb + 7));
}

/* ---- MODE SENSE ------------------------------------------------------------------- */

static uint8_t *page_error_recovery(IdeDrive *d, uint8_t *p)
{
    p[0] = 0x01;
    p[1] = 0x0a;
    memset(p + 2, 0, 10);
    p[3] = 5;                       /* read retry count */
    return p + 12;
}

static uint8_t *page_capabilities(IdeDrive *d, uint8_t *p)
{
    p[0] = 0x2a;
    p[1] = 0x14;
    memset(p + 2, 0, 0x14);
    p[4] = 0x70;                    /* mode 2 form 1 and 2, multi-session */
    p[6] = (uint8_t)((1 << 5) | 0x08 | 0x01 | (d->atapi.locked ? 0x02 : 0));
    stbe16(p + 8, 706 * 8);         /* maximum speed (kB/s): 8x */
    stbe16(p + 10, 256);            /* volume levels */
    stbe16(p + 12, 512);            /* buffer size (KiB) */
    stbe16(p + 14, 706 * 8);        /* current speed */
    return p + 2 + 0x14;
}

static void cmd_mode_sense(IdeDrive *d, const uint8_t *cdb)
{
    bool ten = cdb[0] == 0x5a;
    unsigned pc = cdb[2] >> 6, page = cdb[2] & 0x3f;
    uint32_t alloc = ten ? ldbe16(cdb + 7) : cdb[4];
    if (pc == 3) {
        check_condition(d, SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    unsigned hdr = ten ? 8 : 4;
    uint8_t *b = d->buf, *p = b + hdr;
    memset(b, 0, hdr);
    if (page == 0x01 || page == 0x3f)
        p = page_error_recovery(d, p);
    if (page == 0x2a || page == 0x3f)
        p = page_capabilities(d, p);
    if (p == b + hdr) {
        invalid_field(d);
        return;
    }
    if (pc == 1)                    /* changeable values: none */
        for (uint8_t *q = b + hdr; q < p; q += q[1] + 2)
            memset(q + 2, 0, q[1]);
    uint32_t len = (uint32_t)(p - b);
    /* Medium type (SFF-8020i): data CD, or no disc with the door closed/open. */
    uint8_t type = medium_present(d) ? 0x01 : d->atapi.tray_open ? 0x71 : 0x70;
    if (ten) {
        stbe16(b, (uint16_t)(len - 2));
        b[2] = type;
    } else {
        b[0] = (uint8_t)(len - 1);
        b[1] = type;
    }
    send_reply(d, len, alloc);
}

/* ---- tray, lock, events ------------------------------------------------------------ */

static void cmd_start_stop(IdeDrive *d, const uint8_t *cdb)
{
    AtapiState *a = &d->atapi;
    bool start = cdb[4] & 1, load_eject = cdb[4] & 2;
    if (load_eject && !start) {
        if (a->locked) {
            check_condition(d, SK_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 2);
            return;
        }
        if (!a->tray_open && d->blk)
            a->media_event = EV_MEDIA_REMOVAL;
        a->tray_open = true;
    } else if (load_eject && start && a->tray_open) {
        a->tray_open = false;
        if (d->blk)
            a->media_event = EV_NEW_MEDIA;
    }
    atapi_ok(d);
}

static void cmd_prevent_allow(IdeDrive *d, const uint8_t *cdb)
{
    d->atapi.locked = cdb[4] & 1;
    atapi_ok(d);
}

static void cmd_get_event_status(IdeDrive *d, const uint8_t *cdb)
{
    AtapiState *a = &d->atapi;
    if (!(cdb[1] & 1)) {            /* only polled operation */
        invalid_field(d);
        return;
    }
    uint8_t *b = d->buf;
    uint32_t len;
    memset(b, 0, 8);
    b[3] = 0x10;                    /* supported classes: media */
    if (cdb[4] & 0x10) {
        stbe16(b, 6);
        b[2] = 0x04;                /* media class */
        b[4] = a->media_event;
        b[5] = (uint8_t)((a->tray_open ? 1 : 0) | (medium_present(d) ? 2 : 0));
        a->media_event = EV_NONE;
        len = 8;
    } else {
        stbe16(b, 2);
        b[2] = 0x80;                /* no event available */
        len = 4;
    }
    send_reply(d, len, ldbe16(cdb + 7));
}

static void cmd_read_disc_information(IdeDrive *d, const uint8_t *cdb)
{
    if (cdb[1] & 7) {               /* only standard disc information */
        invalid_field(d);
        return;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 34);
    stbe16(b, 32);
    b[2] = 0x0e;                    /* last session complete, disc complete */
    b[3] = 1;                       /* first track */
    b[4] = 1;                       /* sessions */
    b[5] = 1;                       /* first and last track of the last session */
    b[6] = 1;
    memset(b + 16, 0xff, 8);        /* no next session: lead-in/out unknown */
    send_reply(d, 34, ldbe16(cdb + 7));
}

/* READ CD: only the user data of mode-1 sectors (what READ(12) returns). */
static void cmd_read_cd(IdeDrive *d, const uint8_t *cdb)
{
    unsigned sector_type = (cdb[1] >> 2) & 7, fields = cdb[9] & 0xf8;
    uint32_t count = (uint32_t)cdb[6] << 16 | (uint32_t)cdb[7] << 8 | cdb[8];
    if ((sector_type != 0 && sector_type != 2) || cdb[10] & 7) {
        invalid_field(d);
        return;
    }
    if (fields == 0) {              /* no data asked for */
        atapi_ok(d);
        return;
    }
    if (fields != 0x10) {
        LOG_ONCE(LOG_UNIMP, fields, "ide%d: READ CD of raw sector fields 0x%02x\n", d->unit, fields);
        invalid_field(d);
        return;
    }
    start_read(d, ldbe32(cdb + 2), count);
}

/* READ SUB-CHANNEL: the current position (always at the start of track 1). */
static void cmd_read_subchannel(IdeDrive *d, const uint8_t *cdb)
{
    bool msf = cdb[1] & 2, subq = cdb[2] & 0x40;
    uint8_t format = cdb[3];
    uint8_t *b = d->buf;
    memset(b, 0, 16);
    b[1] = 0x15;                    /* audio status: none */
    if (!subq) {
        send_reply(d, 4, ldbe16(cdb + 7));
        return;
    }
    if (format != 1) {
        invalid_field(d);
        return;
    }
    stbe16(b + 2, 12);
    b[4] = 0x01;                    /* current position */
    b[5] = 0x14;
    b[6] = 1;                       /* track */
    b[7] = 1;                       /* index */
    put_address(b + 8, 0, msf);     /* absolute; the relative address stays 0 */
    send_reply(d, 16, ldbe16(cdb + 7));
}

/* READ TRACK INFORMATION: the one data track (or its session). */
static void cmd_read_track_information(IdeDrive *d, const uint8_t *cdb)
{
    unsigned type = cdb[1] & 3;
    uint32_t number = ldbe32(cdb + 2);
    bool ok = (type == 0 && number < d->nb_sectors) || ((type == 1 || type == 2) && number == 1);
    if (!ok) {
        invalid_field(d);
        return;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 36);
    stbe16(b, 34);
    b[2] = 1;                       /* track number */
    b[3] = 1;                       /* session number */
    b[5] = 0x04;                    /* track mode: data, uninterrupted */
    b[6] = 0x01;                    /* data mode 1 */
    stbe32(b + 24, (uint32_t)d->nb_sectors);       /* track size */
    send_reply(d, 36, ldbe16(cdb + 7));
}

static void cmd_mechanism_status(IdeDrive *d, const uint8_t *cdb)
{
    uint8_t *b = d->buf;
    memset(b, 0, 8);
    b[1] = d->atapi.tray_open ? 0x10 : 0;
    send_reply(d, 8, ldbe16(cdb + 8));
}

static void cmd_nothing_to_do(IdeDrive *d, const uint8_t *cdb)
{
    atapi_ok(d);
}

enum { NEEDS_MEDIUM = 1, IGNORES_UA = 2 };

typedef struct AtapiCommand {
    void (*fn)(IdeDrive *d, const uint8_t *cdb);
    uint8_t flags;
} AtapiCommand;

static const AtapiCommand atapi_commands[256] = {
    [0x00] = { cmd_test_unit_ready, NEEDS_MEDIUM },
    [0x03] = { cmd_request_sense, IGNORES_UA },
    [0x12] = { cmd_inquiry, IGNORES_UA },
    [0x1a] = { cmd_mode_sense, 0 },
    [0x1b] = { cmd_start_stop, 0 },
    [0x1e] = { cmd_prevent_allow, 0 },
    [0x25] = { cmd_read_capacity, NEEDS_MEDIUM },
    [0x28] = { cmd_read10, NEEDS_MEDIUM },
    [0x2b] = { cmd_nothing_to_do, NEEDS_MEDIUM },   /* SEEK(10) */
    [0x42] = { cmd_read_subchannel, NEEDS_MEDIUM },
    [0x43] = { cmd_read_toc, NEEDS_MEDIUM },
    [0x46] = { cmd_get_configuration, IGNORES_UA },
    [0x4a] = { cmd_get_event_status, IGNORES_UA },
    [0x51] = { cmd_read_disc_information, NEEDS_MEDIUM },
    [0x52] = { cmd_read_track_information, NEEDS_MEDIUM },
    [0x5a] = { cmd_mode_sense, 0 },
    [0xa8] = { cmd_read12, NEEDS_MEDIUM },
    [0xbb] = { cmd_nothing_to_do, 0 },              /* SET CD SPEED */
    [0xbd] = { cmd_mechanism_status, 0 },
    [0xbe] = { cmd_read_cd, NEEDS_MEDIUM },
};

static void packet_received(IdeDrive *d)
{
    AtapiState *a = &d->atapi;
    memcpy(a->packet, d->buf, sizeof(a->packet));
    const uint8_t *cdb = a->packet;
    const AtapiCommand *c = &atapi_commands[cdb[0]];
    LOG(LOG_TRACE, "ide%d: packet %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x%s\n",
        d->unit, cdb[0], cdb[1], cdb[2], cdb[3], cdb[4], cdb[5], cdb[6], cdb[7], cdb[8],
        cdb[9], a->dma ? " (DMA)" : "");
    d->status = ST_BSY;
    if (!c->fn) {
        LOG_ONCE(LOG_UNIMP, cdb[0], "ide%d: ATAPI command 0x%02x not supported\n", d->unit, cdb[0]);
        check_condition(d, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        return;
    }
    if (a->unit_attention && !(c->flags & IGNORES_UA)) {
        a->unit_attention = false;
        check_condition(d, SK_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
        return;
    }
    if ((c->flags & NEEDS_MEDIUM) && !medium_present(d)) {
        not_ready(d);
        return;
    }
    c->fn(d, cdb);
}

void atapi_packet_command(IdeDrive *d)
{
    AtapiState *a = &d->atapi;
    a->dma = d->feature & 1;
    a->byte_limit = (uint32_t)d->lbah << 8 | d->lbam;
    d->nsector = IR_COD;            /* the device wants the command packet */
    d->status = ide_ready_status(d);
    ide_pio_window(d, 0, sizeof(a->packet), packet_received);
}

void atapi_reset(IdeDrive *d, bool hard)
{
    AtapiState *a = &d->atapi;
    a->sense_key = SK_NO_SENSE;
    a->asc = a->ascq = 0;
    if (hard)
        a->locked = false;
}

void atapi_set_medium(IdeDrive *d, BlockDev *blk)
{
    int64_t len = blk ? blk_getlength(blk) : 0;
    d->blk = blk;
    d->nb_sectors = len > 0 ? (uint64_t)len / CD_SECTOR : 0;
    d->atapi.tray_open = false;
}

void atapi_change_medium(IdeDrive *d, BlockDev *blk)
{
    AtapiState *a = &d->atapi;
    bool busy = d->aio || d->dma_running || d->dma_pending;
    if (d->aio) {
        d->aio->cancelled = true;
        d->aio = NULL;
    }
    if (d->blk)
        blk_aio_drain(d->blk);      /* no worker may still use the old medium */
    atapi_set_medium(d, blk);
    /* The tray cycles: an empty drive is left open, a new disc closed in. */
    a->tray_open = blk == NULL;
    a->media_event = blk ? EV_NEW_MEDIA : EV_MEDIA_REMOVAL;
    a->unit_attention = blk != NULL;
    if (busy) {
        ide_dma_end(d, true);
        ide_cancel(d);
        check_condition(d, SK_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
    }
}
