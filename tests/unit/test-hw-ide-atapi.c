/* PIIX3 IDE with an ATAPI CD-ROM on the secondary master: signature,
 * IDENTIFY PACKET DEVICE, the PACKET protocol over PIO (byte count limit,
 * interrupt reason) and DMA, the MMC commands, sense data, and media
 * changes with and without a medium. */
#include "tests/unit/test-hw-ide-fixture.h"
#include "hw/drives.h"
#include "system/machine.h"

#include <errno.h>

#define CD_BLOCKS 300

#define DATA  0x170
#define ERR   0x171
#define NSECT 0x172
#define LBAM  0x174
#define LBAH  0x175
#define DEV   0x176
#define CMD   0x177
#define CTL   0x376

static BlockDev *make_cd(const char *name, unsigned blocks)
{
    BlockDev *rw = make_image(name, "raw", (uint64_t)blocks * 2048, false);
    if (!rw)
        return NULL;
    uint8_t sec[2048];
    for (unsigned b = 0; b < blocks; b++) {
        for (int i = 0; i < 2048; i++)
            sec[i] = (uint8_t)(b * 3 + i);
        blk_pwrite(rw, (uint64_t)b * 2048, sec, sizeof(sec));
    }
    blk_close(rw);
    char err[BLK_ERR_LEN];
    char *p = xasprintf("%s/%s", test_tmpdir(), name);
    BlockDev *bs = blk_open(p, "raw", BLK_O_RDONLY, err, sizeof(err));
    free(p);
    return bs;
}

static bool block_ok(const uint8_t *buf, unsigned block)
{
    for (int i = 0; i < 2048; i++)
        if (buf[i] != (uint8_t)(block * 3 + i))
            return false;
    return true;
}

static bool cd_env(Env *e, BlockDev *medium)
{
    env_init(e);
    char err[256];
    return ide_attach(e->ide, 2, medium, true, err, sizeof(err)) == 0;
}

typedef struct Reply {
    uint8_t status, error, ireason;
    uint32_t len;
    int drq_blocks;
} Reply;

/* Send a packet, read the data-in phase by PIO, return the final state. */
static Reply packet(Env *e, const uint8_t cdb[12], uint16_t limit, uint8_t *buf, uint32_t max)
{
    Reply r = { 0 };
    outb(e, DEV, 0xa0);
    outb(e, ERR, 0);                    /* PIO */
    outb(e, LBAM, (uint8_t)limit);
    outb(e, LBAH, (uint8_t)(limit >> 8));
    outb(e, CMD, 0xa0);
    uint8_t st = wait_not_busy(e, CTL);
    if (!(st & 0x08) || inb(e, NSECT) != 0x01) {
        r.status = st;
        return r;
    }
    for (int i = 0; i < 6; i++)
        outw(e, DATA, ld16(cdb + 2 * i));
    for (;;) {
        wait_not_busy(e, CTL);
        if (!irq_level[1])
            break;
        st = inb(e, CMD);               /* acknowledges INTRQ */
        if (!(st & 0x08))
            break;
        if (inb(e, NSECT) != 0x02)      /* data to the host */
            break;
        uint32_t n = inb(e, LBAM) | (uint32_t)inb(e, LBAH) << 8;
        r.drq_blocks++;
        for (uint32_t i = 0; i < n; i += 2) {
            uint16_t w = inw(e, DATA);
            if (r.len + i + 1 < max) {
                buf[r.len + i] = (uint8_t)w;
                buf[r.len + i + 1] = (uint8_t)(w >> 8);
            }
        }
        r.len += n;
    }
    r.status = inb(e, CTL);
    r.error = inb(e, ERR);
    r.ireason = inb(e, NSECT);
    return r;
}

static Reply simple(Env *e, uint8_t op, uint8_t b4, uint8_t *buf, uint32_t max)
{
    uint8_t cdb[12] = { op };
    cdb[4] = b4;
    return packet(e, cdb, 0xfffe, buf, max);
}

static void request_sense(Env *e, uint8_t *key, uint8_t *asc, uint8_t *ascq)
{
    uint8_t s[18] = { 0 };
    Reply r = simple(e, 0x03, 18, s, sizeof(s));
    CHECK_EQ(r.len, 18);
    CHECK_EQ(s[0], 0x70);
    *key = s[2] & 0xf;
    *asc = s[12];
    *ascq = s[13];
}

static void read10_cdb(uint8_t cdb[12], uint32_t lba, uint16_t count)
{
    memset(cdb, 0, 12);
    cdb[0] = 0x28;
    stbe32(cdb + 2, lba);
    stbe16(cdb + 7, count);
}

TEST(signature_and_identify_packet)
{
    Env e;
    BlockDev *cd = make_cd("sig.iso", CD_BLOCKS);
    REQUIRE(cd && cd_env(&e, cd));
    CHECK_EQ(inb(&e, LBAM), 0x14);
    CHECK_EQ(inb(&e, LBAH), 0xeb);
    CHECK_EQ(inb(&e, CMD), 0x00);
    /* IDENTIFY DEVICE aborts and leaves the packet signature. */
    outb(&e, LBAM, 0);
    outb(&e, CMD, 0xec);
    CHECK_EQ(inb(&e, CMD) & 0x01, 0x01);
    CHECK_EQ(inb(&e, ERR), 0x04);
    CHECK_EQ(inb(&e, LBAM), 0x14);
    CHECK_EQ(inb(&e, LBAH), 0xeb);
    outb(&e, CMD, 0xa1);
    CHECK_EQ(wait_not_busy(&e, CTL) & 0x89, 0x08);
    uint16_t w[256];
    for (int i = 0; i < 256; i++)
        w[i] = inw(&e, DATA);
    CHECK_EQ(w[0], 0x85c0);
    CHECK_EQ(w[27], ('K' << 8) | 'E');
    CHECK(w[49] & (1 << 8));
    CHECK_EQ(w[255] & 0xff, 0xa5);
    CHECK_EQ(inb(&e, CMD) & 0x08, 0);
    /* ATA data commands abort on a packet device. */
    outb(&e, CMD, 0x20);
    CHECK_EQ(inb(&e, CMD) & 0x01, 0x01);
    /* DEVICE RESET restores the signature without an interrupt. */
    inb(&e, CMD);
    outb(&e, LBAM, 0);
    outb(&e, CMD, 0x08);
    CHECK_EQ(inb(&e, LBAM), 0x14);
    CHECK_EQ(inb(&e, CTL), 0x00);
    CHECK(!irq_level[1]);
}

TEST(inquiry_capacity_test_unit_ready)
{
    Env e;
    BlockDev *cd = make_cd("inq.iso", CD_BLOCKS);
    REQUIRE(cd && cd_env(&e, cd));
    uint8_t b[256];
    Reply r = simple(&e, 0x12, 36, b, sizeof(b));
    CHECK_EQ(r.status & 0x89, 0);
    CHECK_EQ(r.ireason, 0x03);
    CHECK_EQ(r.len, 36);
    CHECK_EQ(b[0], 0x05);
    CHECK_EQ(b[1], 0x80);
    CHECK(!memcmp(b + 8, "KESTREL ", 8));
    r = simple(&e, 0x12, 5, b, sizeof(b));          /* allocation length cuts */
    CHECK_EQ(r.len, 5);                             /* odd: the last word carries one byte */
    CHECK_EQ(r.status & 0x89, 0);
    r = simple(&e, 0x00, 0, b, sizeof(b));
    CHECK_EQ(r.status & 0x89, 0);
    CHECK_EQ(r.len, 0);
    uint8_t cdb[12] = { 0x25 };
    r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.len, 8);
    CHECK_EQ(ldbe32(b), CD_BLOCKS - 1);
    CHECK_EQ(ldbe32(b + 4), 2048);
}

TEST(read10_pio_in_drq_blocks)
{
    Env e;
    BlockDev *cd = make_cd("read.iso", CD_BLOCKS);
    REQUIRE(cd && cd_env(&e, cd));
    uint8_t *buf = xzalloc(200 * 2048);
    uint8_t cdb[12];
    read10_cdb(cdb, 2, 3);
    Reply r = packet(&e, cdb, 2048, buf, 200 * 2048);
    CHECK_EQ(r.status & 0x89, 0);
    CHECK_EQ(r.len, 3 * 2048);
    CHECK_EQ(r.drq_blocks, 3);
    CHECK(block_ok(buf, 2) && block_ok(buf + 2048, 3) && block_ok(buf + 4096, 4));
    /* 200 blocks with the largest limit: staged in several chunks. */
    read10_cdb(cdb, 100, 200);
    r = packet(&e, cdb, 0xffff, buf, 200 * 2048);
    CHECK_EQ(r.status & 0x89, 0);
    CHECK_EQ(r.len, 200 * 2048);
    bool ok = true;
    for (unsigned i = 0; i < 200; i++)
        ok &= block_ok(buf + i * 2048, 100 + i);
    CHECK(ok);
    /* READ(12) */
    memset(cdb, 0, 12);
    cdb[0] = 0xa8;
    stbe32(cdb + 2, CD_BLOCKS - 1);
    stbe32(cdb + 6, 1);
    r = packet(&e, cdb, 0x8000, buf, 2048);
    CHECK_EQ(r.len, 2048);
    CHECK(block_ok(buf, CD_BLOCKS - 1));
    free(buf);
}

TEST(read_out_of_range_sets_sense)
{
    Env e;
    BlockDev *cd = make_cd("range.iso", CD_BLOCKS);
    REQUIRE(cd && cd_env(&e, cd));
    uint8_t cdb[12], b[64];
    read10_cdb(cdb, CD_BLOCKS - 1, 2);
    Reply r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.status & 0x01, 0x01);
    CHECK_EQ(r.error, 0x54);                        /* ILLEGAL REQUEST, ABRT */
    CHECK_EQ(r.ireason, 0x03);
    uint8_t key, asc, ascq;
    request_sense(&e, &key, &asc, &ascq);
    CHECK_EQ(key, 0x05);
    CHECK_EQ(asc, 0x21);
    request_sense(&e, &key, &asc, &ascq);           /* reported once */
    CHECK_EQ(key, 0);
    r = simple(&e, 0xff, 0, b, sizeof(b));          /* unknown opcode */
    CHECK_EQ(r.error, 0x54);
    request_sense(&e, &key, &asc, &ascq);
    CHECK_EQ(asc, 0x20);
}

TEST(read_toc_formats)
{
    Env e;
    BlockDev *cd = make_cd("toc.iso", CD_BLOCKS);
    REQUIRE(cd && cd_env(&e, cd));
    uint8_t cdb[12] = { 0x43 }, b[128];
    stbe16(cdb + 7, sizeof(b));
    Reply r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.len, 20);
    CHECK_EQ(ldbe16(b), 18);
    CHECK_EQ(b[2], 1);
    CHECK_EQ(b[3], 1);
    CHECK_EQ(b[5], 0x14);
    CHECK_EQ(b[6], 1);
    CHECK_EQ(ldbe32(b + 8), 0);
    CHECK_EQ(b[14], 0xaa);
    CHECK_EQ(ldbe32(b + 16), CD_BLOCKS);
    cdb[1] = 0x02;                                  /* MSF */
    r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(b[9], 0);
    CHECK_EQ(b[10], 2);                             /* 00:02:00 */
    CHECK_EQ(b[11], 0);
    CHECK_EQ(b[17], (CD_BLOCKS + 150) / 4500);
    CHECK_EQ(b[18], (CD_BLOCKS + 150) / 75 % 60);
    CHECK_EQ(b[19], (CD_BLOCKS + 150) % 75);
    cdb[6] = 0xaa;                                  /* from the lead-out */
    r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.len, 12);
    cdb[6] = 2;                                     /* no track 2 */
    r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.error >> 4, 5);
    cdb[6] = 0;
    cdb[1] = 0;
    cdb[2] = 1;                                     /* session info */
    r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.len, 12);
    CHECK_EQ(ldbe16(b), 10);
    CHECK_EQ(b[6], 1);
    cdb[2] = 2;                                     /* raw TOC */
    r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.len, 4 + 4 * 11);
    CHECK_EQ(b[4 + 3], 0xa0);
    CHECK_EQ(b[4 + 2 * 11 + 3], 0xa2);
    CHECK_EQ(b[4 + 2 * 11 + 8], (CD_BLOCKS + 150) / 4500);
    cdb[2] = 0;
    cdb[9] = 0x40;                                  /* old-style format field */
    r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.len, 12);
    cdb[9] = 0;
    cdb[2] = 5;
    r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.error >> 4, 5);
}

TEST(configuration_mode_sense_disc_info)
{
    Env e;
    BlockDev *cd = make_cd("cfg.iso", CD_BLOCKS);
    REQUIRE(cd && cd_env(&e, cd));
    uint8_t cdb[12] = { 0x46 }, b[256];
    stbe16(cdb + 7, sizeof(b));
    Reply r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.status & 0x01, 0);
    CHECK_EQ(ldbe16(b + 6), 0x0008);
    CHECK_EQ(ldbe32(b), r.len - 4);
    CHECK_EQ(ldbe16(b + 8), 0x0000);                /* profile list first */
    CHECK_EQ(ldbe16(b + 12), 0x0008);
    cdb[1] = 2;                                     /* just the core feature */
    stbe16(cdb + 2, 0x0001);
    r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.len, 8 + 8);
    CHECK_EQ(ldbe16(b + 8), 0x0001);
    uint8_t ms[12] = { 0x5a };
    ms[2] = 0x2a;
    stbe16(ms + 7, sizeof(b));
    r = packet(&e, ms, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.len, 8 + 22);
    CHECK_EQ(b[8], 0x2a);
    CHECK_EQ(b[9], 0x14);
    ms[2] = 0x3f;
    r = packet(&e, ms, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.len, 8 + 12 + 22);
    ms[2] = 0x15;                                   /* no such page */
    r = packet(&e, ms, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.error >> 4, 5);
    uint8_t di[12] = { 0x51 };
    stbe16(di + 7, sizeof(b));
    r = packet(&e, di, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.len, 34);
    CHECK_EQ(b[2] & 3, 2);                          /* complete disc */
}

TEST(read10_dma)
{
    Env e;
    BlockDev *cd = make_cd("dma.iso", CD_BLOCKS);
    REQUIRE(cd && cd_env(&e, cd));
    pci_enable_master(&e);
    const uint32_t table = 0x1000, buf = 0x100000;
    unsigned n = 40;                                /* 80 KiB: a 64 KiB entry and the rest */
    put_prd(&e, table, 0, buf, 0, false);
    put_prd(&e, table, 1, buf + 0x10000, n * 2048 - 0x10000, true);
    bm_start(&e, 1, table, true);
    outb(&e, DEV, 0xa0);
    outb(&e, ERR, 0x01);                            /* DMA */
    outb(&e, CMD, 0xa0);
    CHECK_EQ(inb(&e, NSECT), 0x01);
    uint8_t cdb[12];
    read10_cdb(cdb, 7, (uint16_t)n);
    for (int i = 0; i < 6; i++)
        outw(&e, DATA, ld16(cdb + 2 * i));
    for (int i = 0; i < 1000 && !(bm_status(&e, 1) & 0x04); i++)
        blk_aio_drain(NULL);
    CHECK_EQ(bm_status(&e, 1) & 0x07, 0x04);
    CHECK(irq_level[1]);
    bm_stop(&e, 1);
    CHECK_EQ(inb(&e, CMD) & 0x89, 0x00);
    CHECK_EQ(inb(&e, NSECT), 0x03);
    bool ok = true;
    for (unsigned i = 0; i < n; i++)
        ok &= block_ok(e.ram + buf + i * 2048, 7 + i);
    CHECK(ok);
    /* A reply other than data blocks goes by DMA too (INQUIRY). */
    put_prd(&e, table, 0, buf, 36, true);
    bm_start(&e, 1, table, true);
    outb(&e, ERR, 0x01);
    outb(&e, CMD, 0xa0);
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
    for (int i = 0; i < 6; i++)
        outw(&e, DATA, ld16(inq + 2 * i));
    CHECK_EQ(bm_status(&e, 1) & 0x07, 0x04);
    CHECK_EQ(e.ram[buf], 0x05);
    bm_stop(&e, 1);
    /* A PRD table too short for the data: an error, not a hang. */
    put_prd(&e, table, 0, buf, 2048, true);
    bm_start(&e, 1, table, true);
    outb(&e, ERR, 0x01);
    outb(&e, CMD, 0xa0);
    read10_cdb(cdb, 0, 2);
    for (int i = 0; i < 6; i++)
        outw(&e, DATA, ld16(cdb + 2 * i));
    for (int i = 0; i < 1000 && !(bm_status(&e, 1) & 0x04); i++)
        blk_aio_drain(NULL);
    CHECK_EQ(bm_status(&e, 1) & 0x07, 0x06);
    CHECK_EQ(inb(&e, CMD) & 0x01, 0x01);
    bm_stop(&e, 1);
}

TEST(empty_drive_reports_no_medium)
{
    Env e;
    REQUIRE(cd_env(&e, NULL));
    uint8_t b[64];
    Reply r = simple(&e, 0x00, 0, b, sizeof(b));
    CHECK_EQ(r.status & 0x01, 0x01);
    CHECK_EQ(r.error >> 4, 2);                      /* NOT READY */
    uint8_t key, asc, ascq;
    request_sense(&e, &key, &asc, &ascq);
    CHECK_EQ(key, 2);
    CHECK_EQ(asc, 0x3a);
    uint8_t cdb[12];
    read10_cdb(cdb, 0, 1);
    r = packet(&e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.error >> 4, 2);
    r = simple(&e, 0x25, 0, b, sizeof(b));
    CHECK_EQ(r.error >> 4, 2);
    r = simple(&e, 0x12, 36, b, sizeof(b));         /* INQUIRY still answers */
    CHECK_EQ(r.len, 36);
    uint8_t gc[12] = { 0x46 };
    stbe16(gc + 7, 8);
    r = packet(&e, gc, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.len, 8);
    CHECK_EQ(ldbe16(b + 6), 0);                     /* no current profile */
}

static uint8_t media_event(Env *e, uint8_t *status)
{
    uint8_t cdb[12] = { 0x4a, 0x01, 0, 0, 0x10 }, b[16] = { 0 };
    stbe16(cdb + 7, 8);
    Reply r = packet(e, cdb, 0xfffe, b, sizeof(b));
    CHECK_EQ(r.len, 8);
    CHECK_EQ(b[2], 0x04);
    *status = b[5];
    return b[4] & 0x0f;
}

TEST(media_change_unit_attention_and_events)
{
    Env e;
    BlockDev *cd1 = make_cd("m1.iso", CD_BLOCKS), *cd2 = make_cd("m2.iso", 100);
    REQUIRE(cd1 && cd2 && cd_env(&e, cd1));
    uint8_t b[64], st;
    CHECK_EQ(media_event(&e, &st), 0);
    CHECK_EQ(st, 0x02);                             /* medium present, tray closed */
    CHECK_EQ(ide_cd_change(e.ide, 2, NULL), 0);
    CHECK(ide_cd_medium(e.ide, 2) == NULL);
    CHECK_EQ(media_event(&e, &st), 3);              /* removal */
    CHECK_EQ(st, 0x01);                             /* tray open, no medium */
    Reply r = simple(&e, 0x00, 0, b, sizeof(b));
    CHECK_EQ(r.error >> 4, 2);
    uint8_t key, asc, ascq;
    request_sense(&e, &key, &asc, &ascq);
    CHECK_EQ(asc, 0x3a);
    CHECK_EQ(ascq, 0x02);                           /* tray open */
    CHECK_EQ(ide_cd_change(e.ide, 2, cd2), 0);
    CHECK(ide_cd_medium(e.ide, 2) == cd2);
    CHECK_EQ(media_event(&e, &st), 2);              /* new media */
    CHECK_EQ(media_event(&e, &st), 0);              /* reported once */
    r = simple(&e, 0x00, 0, b, sizeof(b));          /* UNIT ATTENTION first */
    CHECK_EQ(r.error >> 4, 6);
    request_sense(&e, &key, &asc, &ascq);
    CHECK_EQ(key, 6);
    CHECK_EQ(asc, 0x28);
    r = simple(&e, 0x00, 0, b, sizeof(b));
    CHECK_EQ(r.status & 0x01, 0);
    r = simple(&e, 0x25, 0, b, sizeof(b));
    CHECK_EQ(ldbe32(b), 99);
    /* Another change while a UNIT ATTENTION is pending: REQUEST SENSE reports it. */
    CHECK_EQ(ide_cd_change(e.ide, 2, cd1), 0);
    request_sense(&e, &key, &asc, &ascq);
    CHECK_EQ(key, 6);
    r = simple(&e, 0x00, 0, b, sizeof(b));
    CHECK_EQ(r.status & 0x01, 0);
    /* Not a CD-ROM. */
    CHECK_EQ(ide_cd_change(e.ide, 0, cd1), -ENODEV);
}

TEST(eject_load_and_lock)
{
    Env e;
    BlockDev *cd = make_cd("ej.iso", CD_BLOCKS);
    REQUIRE(cd && cd_env(&e, cd));
    uint8_t b[64];
    Reply r = simple(&e, 0x1e, 1, b, sizeof(b));    /* PREVENT */
    CHECK_EQ(r.status & 0x01, 0);
    CHECK(ide_cd_locked(e.ide, 2));
    r = simple(&e, 0x1b, 0x02, b, sizeof(b));       /* eject: refused */
    CHECK_EQ(r.error >> 4, 5);
    uint8_t key, asc, ascq;
    request_sense(&e, &key, &asc, &ascq);
    CHECK_EQ(asc, 0x53);
    simple(&e, 0x1e, 0, b, sizeof(b));              /* ALLOW */
    r = simple(&e, 0x1b, 0x02, b, sizeof(b));
    CHECK_EQ(r.status & 0x01, 0);
    r = simple(&e, 0x00, 0, b, sizeof(b));
    CHECK_EQ(r.error >> 4, 2);
    uint8_t st;
    CHECK_EQ(media_event(&e, &st), 3);
    r = simple(&e, 0x1b, 0x03, b, sizeof(b));       /* load */
    CHECK_EQ(r.status & 0x01, 0);
    r = simple(&e, 0x00, 0, b, sizeof(b));
    CHECK_EQ(r.status & 0x01, 0);
    CHECK_EQ(media_event(&e, &st), 2);
    /* A machine reset unlocks. */
    simple(&e, 0x1e, 1, b, sizeof(b));
    machine_run_reset_handlers();
    CHECK(!ide_cd_locked(e.ide, 2));
}

TEST(byte_count_limit_odd_and_zero)
{
    Env e;
    BlockDev *cd = make_cd("lim.iso", CD_BLOCKS);
    REQUIRE(cd && cd_env(&e, cd));
    uint8_t *buf = xzalloc(4 * 2048);
    uint8_t cdb[12];
    read10_cdb(cdb, 1, 2);
    Reply r = packet(&e, cdb, 1001, buf, 4 * 2048); /* odd: blocks of 1000 */
    CHECK_EQ(r.len, 4096);
    CHECK_EQ(r.drq_blocks, 5);
    CHECK(block_ok(buf, 1) && block_ok(buf + 2048, 2));
    r = packet(&e, cdb, 0, buf, 4 * 2048);          /* 0: treated as the maximum */
    CHECK_EQ(r.len, 4096);
    CHECK(block_ok(buf + 2048, 2));
    free(buf);
}

TEST(read_cd_subchannel_track_info)
{
    Env e;
    BlockDev *cd = make_cd("more.iso", CD_BLOCKS);
    REQUIRE(cd && cd_env(&e, cd));
    uint8_t *buf = xzalloc(3 * 2048);
    uint8_t cdb[12] = { 0xbe };
    stbe32(cdb + 2, 20);
    cdb[8] = 3;
    cdb[9] = 0x10;                                  /* user data */
    Reply r = packet(&e, cdb, 0xfffe, buf, 3 * 2048);
    CHECK_EQ(r.status & 0x01, 0);
    CHECK_EQ(r.len, 3 * 2048);
    CHECK(block_ok(buf, 20) && block_ok(buf + 4096, 22));
    cdb[9] = 0xf8;                                  /* raw sectors: not offered */
    r = packet(&e, cdb, 0xfffe, buf, 3 * 2048);
    CHECK_EQ(r.error >> 4, 5);
    uint8_t sc[12] = { 0x42, 0x02, 0x40, 0x01 };
    stbe16(sc + 7, 16);
    r = packet(&e, sc, 0xfffe, buf, 64);
    CHECK_EQ(r.len, 16);
    CHECK_EQ(buf[5], 0x14);
    CHECK_EQ(buf[10], 2);                           /* absolute 00:02:00 */
    uint8_t ti[12] = { 0x52, 0x01 };
    stbe32(ti + 2, 1);
    stbe16(ti + 7, 36);
    r = packet(&e, ti, 0xfffe, buf, 64);
    CHECK_EQ(r.len, 36);
    CHECK_EQ(ldbe32(buf + 24), CD_BLOCKS);
    ti[5] = 2;                                      /* track 2 does not exist */
    r = packet(&e, ti, 0xfffe, buf, 64);
    CHECK_EQ(r.error >> 4, 5);
    free(buf);
}

TEST(unit_names_and_attach_errors)
{
    Env e;
    BlockDev *cd = make_cd("names.iso", 10);
    BlockDev *hd = make_image("names.raw", "raw", 1 * MiB, false);
    REQUIRE(cd && hd && cd_env(&e, cd));
    char err[256];
    CHECK_EQ(ide_attach(e.ide, 1, hd, false, err, sizeof(err)), 0);
    CHECK(!strcmp(ide_unit_name(e.ide, 2), "ide1-cd0"));
    CHECK(!strcmp(ide_unit_name(e.ide, 1), "ide0-hd1"));
    CHECK(ide_unit_name(e.ide, 0) == NULL);
    CHECK_EQ(ide_find_unit(e.ide, "ide1-cd0"), 2);
    CHECK_EQ(ide_find_unit(e.ide, "ide1-cd1"), -1);
    uint16_t c, h, s;
    CHECK(ide_hd_geometry(e.ide, 1, &c, &h, &s));
    CHECK_EQ(c * h * s, 2 * 16 * 63);
    CHECK(!ide_hd_geometry(e.ide, 2, &c, &h, &s));
    CHECK_EQ(ide_attach(e.ide, 2, hd, false, err, sizeof(err)), -1);    /* taken */
    CHECK_EQ(ide_attach(e.ide, 4, hd, false, err, sizeof(err)), -1);
    CHECK_EQ(ide_attach(e.ide, 3, NULL, false, err, sizeof(err)), -1);  /* disk needs an image */
    CHECK_EQ(ide_attach(e.ide, 3, NULL, true, err, sizeof(err)), 0);    /* empty CD-ROM */
    /* The slave disk answers on the primary channel with the master absent. */
    outb(&e, 0x1f6, 0xb0);
    CHECK_EQ(inb(&e, 0x1f7), 0x50);
    outb(&e, 0x1f6, 0xa0);
    CHECK_EQ(inb(&e, 0x1f7), 0x00);
}

TEST(attach_from_drive_options)
{
    Env e;
    env_init(&e);
    BlockDev *tmp = make_image("opt-hd.raw", "raw", 1 * MiB, false);
    REQUIRE(tmp);
    blk_close(tmp);
    char *hd = xasprintf("%s/opt-hd.raw", test_tmpdir());
    static MachineConfig cfg;
    static Machine m;
    memset(&cfg, 0, sizeof(cfg));
    cfg.drives[0] = (DriveConfig){ .file = hd, .format = "raw", .interface = "ide", .index = 1,
                                   .cache = "writethrough" };
    cfg.nr_drives = 1;
    m.cfg = &cfg;
    Machine *saved = current_machine;
    current_machine = &m;
    char err[512] = "";
    REQUIRE(drives_open(&m, err, sizeof(err)) == 0);
    CHECK_EQ(piix3_ide_attach_drives(e.ide, true, err, sizeof(err)), 0);
    CHECK_EQ(drives_check_claimed(err, sizeof(err)), 0);
    CHECK(!strcmp(ide_unit_name(e.ide, 1), "ide0-hd1"));
    CHECK(!strcmp(ide_unit_name(e.ide, 2), "ide1-cd0"));    /* the default empty CD-ROM */
    CHECK(ide_cd_medium(e.ide, 2) == NULL);
    /* cache=writethrough: IDENTIFY says the write cache is off. */
    outb(&e, 0x1f6, 0xb0);
    outb(&e, 0x1f7, 0xec);
    CHECK_EQ(wait_not_busy(&e, 0x3f6) & 0x89, 0x08);
    uint16_t w[256];
    for (int i = 0; i < 256; i++)
        w[i] = inw(&e, 0x1f0);
    CHECK_EQ(w[82] & (1 << 5), 1 << 5);
    CHECK_EQ(w[85] & (1 << 5), 0);
    ide_drain(e.ide);
    drives_close_all();
    current_machine = saved;
    free(hd);
}

/* Both channels move data at once: a disk on the primary, the CD-ROM on the
 * secondary, each with its own bus master and interrupt line. */
TEST(both_channels_dma_at_once)
{
    Env e;
    BlockDev *cd = make_cd("both.iso", CD_BLOCKS);
    BlockDev *hd = make_image("both.qcow2", "qcow2", 4 * MiB, false);
    REQUIRE(cd && hd && cd_env(&e, cd));
    char err[256];
    REQUIRE(ide_attach(e.ide, 0, hd, false, err, sizeof(err)) == 0);
    uint8_t *pattern = xmalloc(64 * 512);
    for (int i = 0; i < 64 * 512; i++)
        pattern[i] = (uint8_t)(i ^ (i >> 8));
    REQUIRE(blk_pwrite(hd, 512 * 100, pattern, 64 * 512) == 0);
    pci_enable_master(&e);
    put_prd(&e, 0x1000, 0, 0x100000, 64 * 512, true);
    put_prd(&e, 0x2000, 0, 0x200000, 16 * 2048, true);
    bm_start(&e, 0, 0x1000, true);
    bm_start(&e, 1, 0x2000, true);
    outb(&e, 0x1f6, 0xe0);
    outb(&e, 0x1f2, 64);
    outb(&e, 0x1f3, 100);
    outb(&e, 0x1f4, 0);
    outb(&e, 0x1f5, 0);
    outb(&e, 0x1f7, 0xc8);
    outb(&e, DEV, 0xa0);
    outb(&e, ERR, 0x01);
    outb(&e, CMD, 0xa0);
    uint8_t cdb[12];
    read10_cdb(cdb, 50, 16);
    for (int i = 0; i < 6; i++)
        outw(&e, DATA, ld16(cdb + 2 * i));
    for (int i = 0; i < 1000 && (!(bm_status(&e, 0) & 4) || !(bm_status(&e, 1) & 4)); i++)
        blk_aio_drain(NULL);
    CHECK_EQ(bm_status(&e, 0) & 7, 4);
    CHECK_EQ(bm_status(&e, 1) & 7, 4);
    CHECK(irq_level[0] && irq_level[1]);
    CHECK(!memcmp(e.ram + 0x100000, pattern, 64 * 512));
    bool ok = true;
    for (unsigned i = 0; i < 16; i++)
        ok &= block_ok(e.ram + 0x200000 + i * 2048, 50 + i);
    CHECK(ok);
    free(pattern);
}

/* A machine reset while block requests are in flight: they finish into
 * nothing, the devices come back with their signatures. */
TEST(reset_with_requests_in_flight)
{
    Env e;
    BlockDev *cd = make_cd("rst.iso", CD_BLOCKS);
    REQUIRE(cd && cd_env(&e, cd));
    pci_enable_master(&e);
    put_prd(&e, 0x1000, 0, 0x100000, 0, true);
    bm_start(&e, 1, 0x1000, true);
    outb(&e, DEV, 0xa0);
    outb(&e, ERR, 0x01);
    outb(&e, CMD, 0xa0);
    uint8_t cdb[12];
    read10_cdb(cdb, 0, 32);
    for (int i = 0; i < 6; i++)
        outw(&e, DATA, ld16(cdb + 2 * i));
    machine_run_reset_handlers();
    blk_aio_drain(NULL);
    CHECK_EQ(inb(&e, LBAM), 0x14);
    CHECK_EQ(inb(&e, CTL), 0x00);
    CHECK_EQ(bm_status(&e, 1) & 0x07, 0);
    CHECK(!irq_level[1]);
    /* And it works again. */
    uint8_t b[64];
    Reply r = simple(&e, 0x00, 0, b, sizeof(b));
    CHECK_EQ(r.status & 0x01, 0);
}

TEST(monitor_eject_and_change)
{
    Env e;
    BlockDev *cd = make_cd("mon1.iso", CD_BLOCKS), *tmp = make_cd("mon2.iso", 20);
    REQUIRE(cd && tmp && cd_env(&e, cd));
    blk_close(tmp);
    char err[768], *path2 = xasprintf("%s/mon2.iso", test_tmpdir());
    uint8_t b[64];
    CHECK_EQ(ide_monitor_eject(e.ide, "ide0-cd0", false, err, sizeof(err)), -1);
    CHECK(strstr(err, "not found"));
    simple(&e, 0x1e, 1, b, sizeof(b));              /* the guest locks the tray */
    CHECK_EQ(ide_monitor_eject(e.ide, "ide1-cd0", false, err, sizeof(err)), -1);
    CHECK(strstr(err, "locked"));
    uint8_t st;
    CHECK_EQ(media_event(&e, &st), 1);              /* eject request to the guest */
    CHECK(ide_cd_medium(e.ide, 2) == cd);
    CHECK_EQ(ide_monitor_eject(e.ide, "ide1-cd0", true, err, sizeof(err)), 0);
    CHECK(ide_cd_medium(e.ide, 2) == NULL);
    CHECK_EQ(ide_monitor_change(e.ide, "ide1-cd0", "/nonexistent/x.iso", NULL, err,
                                sizeof(err)), -1);
    CHECK(strstr(err, "Could not open"));
    CHECK_EQ(ide_monitor_change(e.ide, "ide1-cd0", path2, "raw", err, sizeof(err)), 0);
    Reply r = simple(&e, 0x00, 0, b, sizeof(b));    /* UNIT ATTENTION */
    CHECK_EQ(r.error >> 4, 6);
    r = simple(&e, 0x25, 0, b, sizeof(b));
    CHECK_EQ(ldbe32(b), 19);
    CHECK_EQ(ide_monitor_change(e.ide, "ide1-cd0", path2, NULL, err, sizeof(err)), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ide_print_info(e.ide, f);
    fclose(f);
    CHECK(strstr(text, "ide1-cd0: ") && strstr(text, "mon2.iso"));
    CHECK(strstr(text, "locked, tray closed"));
    free(text);
    CHECK_EQ(ide_monitor_eject(e.ide, "ide1-cd0", true, err, sizeof(err)), 0);
    free(path2);
}
