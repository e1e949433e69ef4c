/* IDENTIFY DEVICE and IDENTIFY PACKET DEVICE data (ATA/ATAPI-6 sections
 * 8.15 and 8.16), with the fields Linux's libata reads: capacities, the
 * command sets (LBA48, FLUSH CACHE (EXT), write cache), the transfer modes
 * and the integrity word. */
#include "hw/ide-internal.h"

/* ATA strings: two characters per word, the first in the high byte, padded with spaces. */
static void put_string(uint16_t *w, const char *s, int words)
{
    size_t len = strlen(s);
    for (int i = 0; i < words * 2; i++) {
        uint8_t c = (size_t)i < len ? (uint8_t)s[i] : ' ';
        if (i & 1)
            w[i / 2] |= c;
        else
            w[i / 2] = (uint16_t)(c << 8);
    }
}

static void put_u32(uint16_t *w, uint32_t v)
{
    w[0] = (uint16_t)v;
    w[1] = (uint16_t)(v >> 16);
}

/* Shared by both: strings, PIO/DMA modes, reset results. */
static void common_words(const IdeDrive *d, uint16_t *w)
{
    put_string(w + 10, d->serial, 10);
    put_string(w + 23, d->firmware, 4);
    put_string(w + 27, d->model, 20);
    w[49] = (1 << 11) | (1 << 10) | (1 << 9) | (1 << 8);    /* IORDY, LBA, DMA */
    w[63] = 0x0007;                         /* multiword DMA 0-2 supported */
    if (d->xfer_mode >= 0x20 && d->xfer_mode <= 0x22)
        w[63] |= (uint16_t)(1 << (8 + (d->xfer_mode & 7)));
    w[64] = 0x0003;                         /* PIO 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;    /* cycle times (ns) */
    w[80] = 0x007e;                         /* ATA-1 .. ATA/ATAPI-6 */
    w[88] = 0x003f;                         /* UDMA 0-5 supported */
    if (d->xfer_mode >= 0x40 && d->xfer_mode <= 0x45)
        w[88] |= (uint16_t)(1 << (8 + (d->xfer_mode & 7)));
    /* Hardware reset result: valid, 80-conductor cable, set by jumper, diagnostics passed. */
    w[93] = (d->unit & 1) ? 0x6300 : 0x600b;
}

static void ata_words(const IdeDrive *d, uint16_t *w)
{
    w[0] = 0x0040;                          /* ATA device, not removable */
    w[1] = d->cyls;
    w[3] = d->heads;
    w[6] = d->secs;
    w[20] = 3;                              /* buffer type (obsolete) */
    w[21] = IDE_BUF_SIZE / IDE_SECTOR;
    w[47] = 0x8000 | IDE_MAX_MULT;
    w[50] = 0x4000;
    w[51] = w[52] = 0x0200;                 /* PIO timing (obsolete) */
    w[53] = 0x0007;                         /* words 54-58, 64-70 and 88 valid */
    if (d->cur_heads && d->cur_secs) {
        uint64_t per_cyl = (uint64_t)d->cur_heads * d->cur_secs;
        uint64_t cyls = MIN(d->nb_sectors / per_cyl, 65535);
        w[54] = (uint16_t)cyls;
        w[55] = d->cur_heads;
        w[56] = d->cur_secs;
        put_u32(w + 57, (uint32_t)(cyls * per_cyl));
    }
    w[59] = (uint16_t)(d->mult_sectors ? 0x0100 | d->mult_sectors : 0);
    put_u32(w + 60, (uint32_t)MIN(d->nb_sectors, 0x0fffffffULL));
    /* Command sets: NOP, look-ahead, write cache, power management;
     * 48-bit addresses, FLUSH CACHE and FLUSH CACHE EXT. */
    w[82] = (1 << 14) | (1 << 6) | (1 << 5) | (1 << 3);
    w[83] = 0x4000 | (1 << 13) | (1 << 12) | (1 << 10);
    w[84] = 0x4000;
    w[85] = (uint16_t)((1 << 14) | (1 << 6) | (d->write_cache ? 1 << 5 : 0) | (1 << 3));
    w[86] = (1 << 13) | (1 << 12) | (1 << 10);
    w[87] = 0x4000;
    for (int i = 0; i < 4; i++)
        w[100 + i] = (uint16_t)(d->nb_sectors >> (16 * i));
    w[106] = 0x4000;                        /* one logical sector per physical sector */
}

static void atapi_words(const IdeDrive *d, uint16_t *w)
{
    /* Packet device, CD-ROM, removable, DRQ within 50 us, 12-byte packets. */
    w[0] = 0x85c0;
    w[53] = 0x0006;                         /* words 64-70 and 88 valid */
    w[82] = (1 << 14) | (1 << 9) | (1 << 4) | (1 << 3);   /* NOP, DEVICE RESET, PACKET, PM */
    w[83] = 0x4000;
    w[84] = 0x4000;
    w[85] = w[82];
    w[87] = 0x4000;
}

/* Word 255: signature A5h and a checksum making the 512 bytes sum to zero. */
static void put_integrity(uint16_t *w)
{
    w[255] = 0x00a5;
    uint8_t sum = 0;
    for (int i = 0; i < 255; i++)
        sum = (uint8_t)(sum + (w[i] & 0xff) + (w[i] >> 8));
    sum = (uint8_t)(sum + 0xa5);
    w[255] |= (uint16_t)((uint8_t)-sum << 8);
}

void ide_identify_fill(IdeDrive *d)
{
    uint16_t w[256] = { 0 };
    common_words(d, w);
    if (d->kind == IDE_CD)
        atapi_words(d, w);
    else
        ata_words(d, w);
    put_integrity(w);
    for (int i = 0; i < 256; i++)
        st16(d->buf + 2 * i, w[i]);
}
