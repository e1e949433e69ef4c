/* PIIX3 IDE with ATA disks: PCI identity, IDENTIFY, PIO (LBA28, LBA48,
 * CHS, multiple), bus-master DMA with PRD tables, FLUSH, resets, power and
 * feature commands, error paths and hostile PRD tables. */
#include "tests/unit/test-hw-ide-fixture.h"

#define DISK_SECTORS 2048           /* 1 MiB */

/* Primary channel ports */
#define DATA  0x1f0
#define ERR   0x1f1
#define NSECT 0x1f2
#define LBAL  0x1f3
#define LBAM  0x1f4
#define LBAH  0x1f5
#define DEV   0x1f6
#define CMD   0x1f7
#define CTL   0x3f6

static BlockDev *disk_env(Env *e, const char *name, const char *fmt, uint64_t size)
{
    env_init(e);
    BlockDev *bs = make_image(name, fmt, size, false);
    if (!bs)
        return NULL;
    char err[256];
    if (ide_attach(e->ide, 0, bs, false, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    return bs;
}

static void lba28(Env *e, uint8_t cmd, uint32_t lba, uint8_t count)
{
    outb(e, DEV, (uint8_t)(0xe0 | ((lba >> 24) & 0xf)));
    outb(e, NSECT, count);
    outb(e, LBAL, (uint8_t)lba);
    outb(e, LBAM, (uint8_t)(lba >> 8));
    outb(e, LBAH, (uint8_t)(lba >> 16));
    outb(e, CMD, cmd);
}

static void lba48(Env *e, uint8_t cmd, uint64_t lba, uint16_t count)
{
    outb(e, DEV, 0x40);
    outb(e, NSECT, (uint8_t)(count >> 8));
    outb(e, LBAL, (uint8_t)(lba >> 24));
    outb(e, LBAM, (uint8_t)(lba >> 32));
    outb(e, LBAH, (uint8_t)(lba >> 40));
    outb(e, NSECT, (uint8_t)count);
    outb(e, LBAL, (uint8_t)lba);
    outb(e, LBAM, (uint8_t)(lba >> 8));
    outb(e, LBAH, (uint8_t)(lba >> 16));
    outb(e, CMD, cmd);
}

static void fill_pattern(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 7 + seed + (i >> 9));
}

/* PIO data-in of n sectors in DRQ blocks of block sectors (INTRQ before each). */
static bool pio_in(Env *e, uint8_t *buf, unsigned n, unsigned block, bool use32)
{
    for (unsigned s = 0; s < n; s += block) {
        uint8_t st = wait_not_busy(e, CTL);
        if ((st & 0x89) != 0x08)
            return false;
        if (!irq_level[0])
            return false;
        inb(e, CMD);                    /* acknowledge INTRQ */
        unsigned bytes = MIN(block, n - s) * 512;
        for (unsigned i = 0; i < bytes; i += use32 ? 4 : 2) {
            if (use32)
                st32(buf + (size_t)s * 512 + i, inl(e, DATA));
            else
                st16(buf + (size_t)s * 512 + i, inw(e, DATA));
        }
    }
    return (wait_not_busy(e, CTL) & 0x89) == 0;
}

/* PIO data-out: the first block without INTRQ, then INTRQ after each block. */
static bool pio_out(Env *e, const uint8_t *buf, unsigned n, unsigned block)
{
    for (unsigned s = 0; s < n; s += block) {
        uint8_t st = wait_not_busy(e, CTL);
        if ((st & 0x89) != 0x08)
            return false;
        if (s) {
            if (!irq_level[0])
                return false;
            inb(e, CMD);
        }
        unsigned bytes = MIN(block, n - s) * 512;
        for (unsigned i = 0; i < bytes; i += 2)
            outw(e, DATA, ld16(buf + (size_t)s * 512 + i));
    }
    uint8_t st = wait_not_busy(e, CTL);
    bool ok = (st & 0x89) == 0 && irq_level[0];
    inb(e, CMD);
    return ok;
}

static bool identify(Env *e, uint16_t *w)
{
    outb(e, DEV, 0xa0);
    outb(e, CMD, 0xec);
    return pio_in(e, (uint8_t *)w, 1, 1, false);
}

static void ata_string(const uint16_t *w, int words, char *out)
{
    for (int i = 0; i < words; i++) {
        out[2 * i] = (char)(w[i] >> 8);
        out[2 * i + 1] = (char)w[i];
    }
    out[2 * words] = 0;
}

TEST(pci_identity)
{
    Env e;
    env_init(&e);
    PCIDevice *d = ide_pci_device(e.ide);
    CHECK_EQ(d->devfn, PCI_DEVFN(1, 1));
    CHECK_EQ(pci_config_read(d, 0, 4), 0x70108086);
    CHECK_EQ(pci_config_read(d, 0x08, 4) >> 8, 0x010180);
    CHECK_EQ(pci_config_read(d, 0x20, 4), BM_BASE | 1);
    CHECK_EQ(pci_config_read(d, 0x40, 2), 0x8000);
    pci_config_write(d, 0x40, 0xa307, 2);           /* timing registers: storage */
    CHECK_EQ(pci_config_read(d, 0x40, 2), 0xa307);
    /* BAR4 sizing: 16 bytes of I/O. */
    pci_config_write(d, 0x20, 0xffffffff, 4);
    CHECK_EQ(pci_config_read(d, 0x20, 4) & 0xffff, 0xfff1);
    pci_config_write(d, 0x20, BM_BASE, 4);
    /* Both channels empty: the bus floats. */
    CHECK_EQ(inb(&e, CMD), 0xff);
    CHECK_EQ(inb(&e, 0x177), 0xff);
}

TEST(identify_device)
{
    Env e;
    BlockDev *bs = disk_env(&e, "id.raw", "raw", DISK_SECTORS * 512);
    REQUIRE(bs);
    CHECK_EQ(inb(&e, CMD), 0x50);
    uint16_t w[256];
    REQUIRE(identify(&e, w));
    CHECK_EQ(w[0], 0x0040);
    char model[41];
    ata_string(w + 27, 20, model);
    CHECK(!strncmp(model, "KESTREL HARDDISK    ", 20));
    char serial[21];
    ata_string(w + 10, 10, serial);
    CHECK(serial[0] != ' ' && serial[0] != 0);
    CHECK_EQ(w[47] & 0xff, 16);
    CHECK(w[49] & (1 << 9));                        /* LBA */
    CHECK(w[49] & (1 << 8));                        /* DMA */
    CHECK_EQ(w[60] | (uint32_t)w[61] << 16, DISK_SECTORS);
    CHECK_EQ(w[100] | (uint64_t)w[101] << 16, DISK_SECTORS);
    CHECK_EQ(w[83] & 0xc000, 0x4000);
    CHECK(w[83] & (1 << 10));                       /* LBA48 */
    CHECK(w[83] & (1 << 12));                       /* FLUSH CACHE */
    CHECK(w[83] & (1 << 13));                       /* FLUSH CACHE EXT */
    CHECK(w[86] & (1 << 10));
    CHECK_EQ(w[63] & 7, 7);
    CHECK_EQ(w[88] & 0x3f, 0x3f);
    CHECK_EQ(w[255] & 0xff, 0xa5);
    uint8_t sum = 0;
    for (int i = 0; i < 256; i++)
        sum = (uint8_t)(sum + (w[i] & 0xff) + (w[i] >> 8));
    CHECK_EQ(sum, 0);
    CHECK_EQ(w[1] * w[3] * w[6], 2 * 16 * 63);      /* CHS: cylinders of 16x63 */
}

TEST(set_features_transfer_mode)
{
    Env e;
    REQUIRE(disk_env(&e, "feat.raw", "raw", DISK_SECTORS * 512));
    outb(&e, ERR, 0x03);
    outb(&e, NSECT, 0x42);                          /* UDMA 2 */
    outb(&e, CMD, 0xef);
    CHECK_EQ(wait_not_busy(&e, CTL), 0x50);
    uint16_t w[256];
    REQUIRE(identify(&e, w));
    CHECK_EQ(w[88] >> 8, 1 << 2);
    outb(&e, ERR, 0x03);
    outb(&e, NSECT, 0x22);                          /* MWDMA 2 */
    outb(&e, CMD, 0xef);
    REQUIRE(identify(&e, w));
    CHECK_EQ(w[63] >> 8, 1 << 2);
    CHECK_EQ(w[88] >> 8, 0);
    outb(&e, ERR, 0x03);
    outb(&e, NSECT, 0x47);                          /* UDMA 7: not offered */
    outb(&e, CMD, 0xef);
    CHECK_EQ(wait_not_busy(&e, CTL), 0x51);
    CHECK_EQ(inb(&e, ERR), 0x04);
    outb(&e, ERR, 0x99);                            /* unknown subcommand */
    outb(&e, CMD, 0xef);
    CHECK_EQ(inb(&e, CMD), 0x51);
    outb(&e, ERR, 0x82);                            /* write cache off */
    outb(&e, CMD, 0xef);
    CHECK_EQ(wait_not_busy(&e, CTL), 0x50);
    REQUIRE(identify(&e, w));
    CHECK_EQ(w[85] & (1 << 5), 0);
}

static void pio_round_trip(Env *e, BlockDev *bs, bool ext, uint64_t lba, unsigned n)
{
    uint8_t *out = xmalloc(n * 512), *in = xzalloc(n * 512), *img = xzalloc(n * 512);
    fill_pattern(out, n * 512, (unsigned)lba);
    if (ext)
        lba48(e, 0x34, lba, (uint16_t)n);
    else
        lba28(e, 0x30, (uint32_t)lba, (uint8_t)n);
    CHECK(pio_out(e, out, n, 1));
    CHECK_EQ(blk_pread(bs, lba * 512, img, n * 512), 0);
    CHECK(!memcmp(out, img, n * 512));
    if (ext)
        lba48(e, 0x24, lba, (uint16_t)n);
    else
        lba28(e, 0x20, (uint32_t)lba, (uint8_t)n);
    CHECK(pio_in(e, in, n, 1, ext));
    CHECK(!memcmp(out, in, n * 512));
    free(out);
    free(in);
    free(img);
}

TEST(pio_lba28_round_trip_raw)
{
    Env e;
    BlockDev *bs = disk_env(&e, "pio28.raw", "raw", DISK_SECTORS * 512);
    REQUIRE(bs);
    pio_round_trip(&e, bs, false, 5, 3);
    pio_round_trip(&e, bs, false, DISK_SECTORS - 1, 1);
    /* Task file after the read: the last sector transferred. */
    CHECK_EQ(inb(&e, LBAL), (DISK_SECTORS - 1) & 0xff);
    CHECK_EQ(inb(&e, LBAM), (DISK_SECTORS - 1) >> 8);
}

TEST(pio_big_read_crosses_chunks)
{
    Env e;
    BlockDev *bs = disk_env(&e, "piobig.raw", "raw", DISK_SECTORS * 512);
    REQUIRE(bs);
    unsigned n = 600;                   /* LBA48 count > 256, several staging chunks */
    uint8_t *img = xmalloc(n * 512), *in = xzalloc(n * 512);
    fill_pattern(img, n * 512, 77);
    CHECK_EQ(blk_pwrite(bs, 100 * 512, img, n * 512), 0);
    lba48(&e, 0x24, 100, (uint16_t)n);
    CHECK(pio_in(&e, in, n, 1, true));
    CHECK(!memcmp(img, in, n * 512));
    free(img);
    free(in);
}

TEST(pio_lba48_round_trip_qcow2_beyond_28_bits)
{
    Env e;
    uint64_t size = 256 * GiB;          /* sparse: LBA48 addresses past 2^28 */
    BlockDev *bs = disk_env(&e, "pio48.qcow2", "qcow2", size);
    REQUIRE(bs);
    uint16_t w[256];
    REQUIRE(identify(&e, w));
    CHECK_EQ(w[60] | (uint32_t)w[61] << 16, 0x0fffffff);
    uint64_t cap = w[100] | (uint64_t)w[101] << 16 | (uint64_t)w[102] << 32 |
                   (uint64_t)w[103] << 48;
    CHECK_EQ(cap, size / 512);
    pio_round_trip(&e, bs, true, 0x12345678ULL, 4);
    pio_round_trip(&e, bs, true, size / 512 - 2, 2);
    /* HOB readback of the address of the last sector. */
    outb(&e, CTL, 0x80);
    CHECK_EQ(inb(&e, LBAL), (uint8_t)((size / 512 - 1) >> 24));
    CHECK_EQ(inb(&e, LBAM), (uint8_t)((size / 512 - 1) >> 32));
    outb(&e, CTL, 0x00);
    /* One past the end. */
    lba48(&e, 0x24, size / 512, 1);
    CHECK_EQ(wait_not_busy(&e, CTL), 0x51);
    CHECK_EQ(inb(&e, ERR), 0x10);
}

TEST(read_write_multiple)
{
    Env e;
    BlockDev *bs = disk_env(&e, "mult.raw", "raw", DISK_SECTORS * 512);
    REQUIRE(bs);
    lba28(&e, 0xc4, 0, 4);              /* multiple mode not set yet */
    CHECK_EQ(wait_not_busy(&e, CTL), 0x51);
    CHECK_EQ(inb(&e, ERR), 0x04);
    outb(&e, NSECT, 3);                 /* not a power of two */
    outb(&e, CMD, 0xc6);
    CHECK_EQ(inb(&e, CMD), 0x51);
    outb(&e, NSECT, 4);
    outb(&e, CMD, 0xc6);
    CHECK_EQ(inb(&e, CMD), 0x50);
    uint8_t out[10 * 512], in[10 * 512];
    fill_pattern(out, sizeof(out), 3);
    lba28(&e, 0xc5, 40, 10);
    irq_raises[0] = 0;
    CHECK(pio_out(&e, out, 10, 4));
    CHECK_EQ(irq_raises[0], 3);         /* after blocks 1, 2 and the last */
    irq_raises[0] = 0;
    lba28(&e, 0xc4, 40, 10);
    CHECK(pio_in(&e, in, 10, 4, false));
    CHECK_EQ(irq_raises[0], 3);         /* before each of the 3 blocks */
    CHECK(!memcmp(out, in, sizeof(in)));
    uint16_t w[256];
    REQUIRE(identify(&e, w));
    CHECK_EQ(w[59], 0x0104);
}

TEST(chs_addressing)
{
    Env e;
    BlockDev *bs = disk_env(&e, "chs.raw", "raw", DISK_SECTORS * 512);
    REQUIRE(bs);
    uint8_t img[512], in[512];
    fill_pattern(img, sizeof(img), 9);
    /* C/H/S 1/2/3 with 16 heads, 63 sectors: (1*16+2)*63+2 */
    CHECK_EQ(blk_pwrite(bs, 1136 * 512, img, 512), 0);
    outb(&e, DEV, 0xa0 | 15);
    outb(&e, NSECT, 63);
    outb(&e, CMD, 0x91);                /* INITIALIZE DEVICE PARAMETERS */
    CHECK_EQ(inb(&e, CMD), 0x50);
    outb(&e, DEV, 0xa0 | 2);
    outb(&e, NSECT, 1);
    outb(&e, LBAL, 3);
    outb(&e, LBAM, 1);
    outb(&e, LBAH, 0);
    outb(&e, CMD, 0x20);
    CHECK(pio_in(&e, in, 1, 1, false));
    CHECK(!memcmp(img, in, 512));
    /* Sector 0 does not exist in CHS. */
    outb(&e, LBAL, 0);
    outb(&e, CMD, 0x20);
    CHECK_EQ(wait_not_busy(&e, CTL), 0x51);
    CHECK_EQ(inb(&e, ERR), 0x10);
}

TEST(errors_abort_and_idnf)
{
    Env e;
    REQUIRE(disk_env(&e, "err.raw", "raw", DISK_SECTORS * 512));
    lba28(&e, 0x20, DISK_SECTORS - 1, 2);           /* runs past the end */
    CHECK_EQ(wait_not_busy(&e, CTL), 0x51);
    CHECK_EQ(inb(&e, ERR), 0x10);
    CHECK(irq_level[0]);
    inb(&e, CMD);
    CHECK(!irq_level[0]);
    lba48(&e, 0x25, 1ULL << 40, 1);                 /* DMA too */
    CHECK_EQ(wait_not_busy(&e, CTL), 0x51);
    CHECK_EQ(inb(&e, ERR), 0x10);
    outb(&e, CMD, 0xff);                            /* unknown */
    CHECK_EQ(inb(&e, CTL), 0x51);
    CHECK_EQ(inb(&e, ERR), 0x04);
    outb(&e, CMD, 0xa1);                            /* IDENTIFY PACKET to a disk */
    CHECK_EQ(inb(&e, CTL), 0x51);
    CHECK_EQ(inb(&e, ERR), 0x04);
    outb(&e, CMD, 0xa0);                            /* PACKET to a disk */
    CHECK_EQ(inb(&e, CTL), 0x51);
    outb(&e, CMD, 0x08);                            /* DEVICE RESET to a disk */
    CHECK_EQ(inb(&e, CTL), 0x51);
    outb(&e, CMD, 0x00);                            /* NOP always aborts */
    CHECK_EQ(inb(&e, CTL), 0x51);
}

TEST(read_only_disk_refuses_writes)
{
    Env e;
    env_init(&e);
    BlockDev *rw = make_image("ro.raw", "raw", 64 * 512, false);
    REQUIRE(rw);
    blk_close(rw);
    char err[BLK_ERR_LEN];
    char *p = xasprintf("%s/ro.raw", test_tmpdir());
    BlockDev *bs = blk_open(p, "raw", BLK_O_RDONLY, err, sizeof(err));
    free(p);
    REQUIRE(bs);
    REQUIRE(ide_attach(e.ide, 0, bs, false, err, sizeof(err)) == 0);
    lba28(&e, 0x30, 0, 1);
    CHECK_EQ(wait_not_busy(&e, CTL), 0x51);
    CHECK_EQ(inb(&e, ERR), 0x04);
    lba28(&e, 0x20, 0, 1);
    uint8_t in[512];
    CHECK(pio_in(&e, in, 1, 1, false));
}

TEST(flush_and_power)
{
    Env e;
    REQUIRE(disk_env(&e, "flush.qcow2", "qcow2", DISK_SECTORS * 512));
    outb(&e, CMD, 0xe7);
    CHECK_EQ(wait_not_busy(&e, CTL), 0x50);
    CHECK(irq_level[0]);
    inb(&e, CMD);
    outb(&e, CMD, 0xea);
    CHECK_EQ(wait_not_busy(&e, CTL), 0x50);
    outb(&e, CMD, 0xe0);                            /* STANDBY IMMEDIATE */
    outb(&e, NSECT, 0x12);
    outb(&e, CMD, 0xe5);                            /* CHECK POWER MODE */
    CHECK_EQ(inb(&e, CMD), 0x50);
    CHECK_EQ(inb(&e, NSECT), 0x00);
    outb(&e, CMD, 0xe1);                            /* IDLE IMMEDIATE */
    outb(&e, CMD, 0xe5);
    CHECK_EQ(inb(&e, NSECT), 0xff);
}

TEST(read_native_max_address)
{
    Env e;
    REQUIRE(disk_env(&e, "max.raw", "raw", DISK_SECTORS * 512));
    outb(&e, DEV, 0x40);
    outb(&e, CMD, 0xf8);
    CHECK_EQ(inb(&e, CMD), 0x50);
    CHECK_EQ(inb(&e, LBAL), (DISK_SECTORS - 1) & 0xff);
    CHECK_EQ(inb(&e, LBAM), (DISK_SECTORS - 1) >> 8);
    CHECK_EQ(inb(&e, LBAH), 0);
    CHECK_EQ(inb(&e, DEV) & 0x4f, 0x40);
    outb(&e, CMD, 0x27);
    CHECK_EQ(inb(&e, CMD), 0x50);
    CHECK_EQ(inb(&e, LBAM), (DISK_SECTORS - 1) >> 8);
    outb(&e, CTL, 0x80);
    CHECK_EQ(inb(&e, LBAL), 0);
    outb(&e, CTL, 0);
}

TEST(soft_reset_signature_and_nien)
{
    Env e;
    REQUIRE(disk_env(&e, "srst.raw", "raw", DISK_SECTORS * 512));
    outb(&e, NSECT, 0x55);
    outb(&e, LBAM, 0xaa);
    CHECK_EQ(inb(&e, NSECT), 0x55);                 /* registers latch */
    outb(&e, CTL, 0x04);
    CHECK(inb(&e, CTL) & 0x80);                     /* BSY during reset */
    outb(&e, CTL, 0x00);
    CHECK_EQ(inb(&e, CTL), 0x50);
    CHECK_EQ(inb(&e, NSECT), 1);
    CHECK_EQ(inb(&e, LBAL), 1);
    CHECK_EQ(inb(&e, LBAM), 0);
    CHECK_EQ(inb(&e, LBAH), 0);
    CHECK_EQ(inb(&e, ERR), 1);
    CHECK(!irq_level[0]);
    /* nIEN masks INTRQ; clearing it lets the pending interrupt through. */
    outb(&e, CTL, 0x02);
    outb(&e, CMD, 0xe7);
    wait_not_busy(&e, CTL);
    CHECK(!irq_level[0]);
    outb(&e, CTL, 0x00);
    CHECK(irq_level[0]);
    inb(&e, CMD);
    CHECK(!irq_level[0]);
    /* An absent slave: status 0, commands ignored. */
    outb(&e, DEV, 0xb0);
    CHECK_EQ(inb(&e, CMD), 0);
    outb(&e, CMD, 0xec);
    CHECK_EQ(inb(&e, CTL), 0);
    CHECK(!irq_level[0]);
    outb(&e, DEV, 0xa0);
    CHECK_EQ(inb(&e, CTL), 0x50);
    /* EXECUTE DEVICE DIAGNOSTIC: signature, error 01h, INTRQ. */
    outb(&e, NSECT, 9);
    outb(&e, CMD, 0x90);
    CHECK_EQ(inb(&e, ERR), 1);
    CHECK_EQ(inb(&e, NSECT), 1);
    CHECK(irq_level[0]);
}

/* ---- bus-master DMA ---------------------------------------------------------------- */

#define PRD_TABLE 0x1000
#define BUF_A     0x100000
#define BUF_B     0x200000

/* Pump block completions until the bus master reports the interrupt. */
static uint8_t wait_dma_done(Env *e)
{
    for (int i = 0; i < 1000 && !(bm_status(e, 0) & 0x04); i++)
        blk_aio_drain(NULL);
    return inb(e, CTL);
}

static uint8_t dma_command(Env *e, bool ext, bool write, uint64_t lba, unsigned n)
{
    irq_raises[0] = 0;
    if (ext)
        lba48(e, write ? 0x35 : 0x25, lba, (uint16_t)n);
    else
        lba28(e, write ? 0xca : 0xc8, (uint32_t)lba, (uint8_t)n);
    bm_start(e, 0, PRD_TABLE, !write);
    return wait_dma_done(e);
}

TEST(dma_write_then_read_multiple_prds)
{
    Env e;
    BlockDev *bs = disk_env(&e, "dma.qcow2", "qcow2", DISK_SECTORS * 512);
    REQUIRE(bs);
    pci_enable_master(&e);
    /* 512 bytes + 64 KiB (count 0) + 1 KiB = 131 sectors */
    unsigned n = 131;
    fill_pattern(e.ram + BUF_A, 512, 1);
    fill_pattern(e.ram + BUF_A + 0x1000, 0x10000, 2);
    fill_pattern(e.ram + BUF_A + 0x20000, 1024, 3);
    put_prd(&e, PRD_TABLE, 0, BUF_A, 512, false);
    put_prd(&e, PRD_TABLE, 1, BUF_A + 0x1000, 0, false);
    put_prd(&e, PRD_TABLE, 2, BUF_A + 0x20000, 1024, true);
    uint8_t st = dma_command(&e, false, true, 10, n);
    CHECK_EQ(st, 0x50);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x04);        /* INTR, not active, no error */
    CHECK(irq_level[0]);
    bm_stop(&e, 0);
    inb(&e, CMD);
    uint8_t *img = xmalloc(n * 512);
    CHECK_EQ(blk_pread(bs, 10 * 512, img, n * 512), 0);
    CHECK(!memcmp(img, e.ram + BUF_A, 512));
    CHECK(!memcmp(img + 512, e.ram + BUF_A + 0x1000, 0x10000));
    CHECK(!memcmp(img + 512 + 0x10000, e.ram + BUF_A + 0x20000, 1024));
    /* Read it back in one 64 KiB entry plus the rest. */
    put_prd(&e, PRD_TABLE, 0, BUF_B, 0, false);
    put_prd(&e, PRD_TABLE, 1, BUF_B + 0x10000, (n * 512) - 0x10000, true);
    st = dma_command(&e, true, false, 10, n);
    CHECK_EQ(st, 0x50);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x04);
    CHECK(!memcmp(img, e.ram + BUF_B, n * 512));
    CHECK_EQ(inb(&e, LBAL), 10 + n - 1);
    free(img);
}

TEST(dma_large_transfer_in_chunks)
{
    Env e;
    BlockDev *bs = disk_env(&e, "dmabig.raw", "raw", DISK_SECTORS * 512);
    REQUIRE(bs);
    pci_enable_master(&e);
    unsigned n = 1536;                              /* 768 KiB: two block requests */
    uint8_t *img = xmalloc(n * 512);
    fill_pattern(img, n * 512, 5);
    CHECK_EQ(blk_pwrite(bs, 0, img, n * 512), 0);
    for (int i = 0; i < 12; i++)
        put_prd(&e, PRD_TABLE, i, BUF_A + 0x10000 * (uint32_t)i, 0, i == 11);
    CHECK_EQ(dma_command(&e, true, false, 0, n), 0x50);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x04);
    CHECK(!memcmp(img, e.ram + BUF_A, n * 512));
    free(img);
}

TEST(dma_prd_longer_than_transfer_stays_active)
{
    Env e;
    REQUIRE(disk_env(&e, "dmalong.raw", "raw", DISK_SECTORS * 512));
    pci_enable_master(&e);
    put_prd(&e, PRD_TABLE, 0, BUF_A, 0, true);      /* 64 KiB for one sector */
    CHECK_EQ(dma_command(&e, false, false, 0, 1), 0x50);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x05);        /* INTR + still ACTIVE (SFF-8038i) */
    bm_stop(&e, 0);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x04);
}

TEST(dma_hostile_prd_tables)
{
    Env e;
    REQUIRE(disk_env(&e, "dmabad.raw", "raw", DISK_SECTORS * 512));
    pci_enable_master(&e);
    /* Shorter than the transfer. */
    put_prd(&e, PRD_TABLE, 0, BUF_A, 512, true);
    CHECK_EQ(dma_command(&e, false, false, 0, 2), 0x51);
    CHECK_EQ(inb(&e, ERR), 0x04);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x06);        /* ERR + INTR, not active */
    CHECK(irq_level[0]);
    bm_stop(&e, 0);
    inb(&e, CMD);
    /* Also for writes. */
    CHECK_EQ(dma_command(&e, false, true, 0, 2), 0x51);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x06);
    bm_stop(&e, 0);
    /* A region outside RAM. */
    put_prd(&e, PRD_TABLE, 0, 0xf0000000, 512, true);
    CHECK_EQ(dma_command(&e, false, false, 0, 1), 0x51);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x06);
    bm_stop(&e, 0);
    CHECK_EQ(dma_command(&e, false, true, 0, 1), 0x51);
    bm_stop(&e, 0);
    /* The table itself outside RAM. */
    irq_raises[0] = 0;
    lba28(&e, 0xc8, 0, 1);
    bm_start(&e, 0, 0xfffff000, true);
    CHECK_EQ(wait_dma_done(&e), 0x51);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x06);
    bm_stop(&e, 0);
    /* No end-of-table mark: 2-byte entries forever (within 64 KiB of table). */
    for (int i = 0; i < 8192 + 16; i++)
        put_prd(&e, PRD_TABLE, i, BUF_A, 2, false);
    CHECK_EQ(dma_command(&e, false, false, 0, 64), 0x51);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x06);
    bm_stop(&e, 0);
    /* Wrong direction in the bus master command register. */
    put_prd(&e, PRD_TABLE, 0, BUF_A, 512, true);
    lba28(&e, 0xc8, 0, 1);
    bm_start(&e, 0, PRD_TABLE, false);
    CHECK_EQ(wait_dma_done(&e), 0x51);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x06);
    bm_stop(&e, 0);
    /* Bus mastering disabled in PCI command. */
    pci_config_write(ide_pci_device(e.ide), PCI_COMMAND, PCI_COMMAND_IO, 2);
    CHECK_EQ(dma_command(&e, false, false, 0, 1), 0x51);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x06);
    bm_stop(&e, 0);
    /* The drive still works afterwards. */
    pci_enable_master(&e);
    CHECK_EQ(dma_command(&e, false, false, 0, 1), 0x50);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x04);
}

TEST(dma_start_before_command_and_stop_midway)
{
    Env e;
    BlockDev *bs = disk_env(&e, "dmaorder.raw", "raw", DISK_SECTORS * 512);
    REQUIRE(bs);
    pci_enable_master(&e);
    put_prd(&e, PRD_TABLE, 0, BUF_A, 8 * 512, true);
    bm_start(&e, 0, PRD_TABLE, true);               /* engine first, then the command */
    lba28(&e, 0xc8, 0, 8);
    CHECK_EQ(wait_dma_done(&e), 0x50);
    CHECK_EQ(bm_status(&e, 0) & 0x07, 0x04);
    bm_stop(&e, 0);
    /* Stopping the engine while the block request runs abandons it safely. */
    lba28(&e, 0xc8, 0, 8);
    bm_start(&e, 0, PRD_TABLE, true);
    bm_stop(&e, 0);
    blk_aio_drain(NULL);
    CHECK_EQ(bm_status(&e, 0) & 0x01, 0);
    outb(&e, CTL, 0x04);                            /* the driver resets the channel */
    outb(&e, CTL, 0x00);
    CHECK_EQ(inb(&e, CTL), 0x50);
}

TEST(bm_registers)
{
    Env e;
    REQUIRE(disk_env(&e, "bmreg.raw", "raw", DISK_SECTORS * 512));
    CHECK_EQ(bm_status(&e, 0) & 0x60, 0x20);        /* drive 0 DMA capable */
    CHECK_EQ(bm_status(&e, 1) & 0x60, 0x00);
    outl(&e, BM_BASE + 4, 0x12345677);
    CHECK_EQ(inl(&e, BM_BASE + 4), 0x12345674);     /* dword aligned */
    outb(&e, BM_BASE + 2, 0x60);
    CHECK_EQ(bm_status(&e, 0) & 0x60, 0x60);
    CHECK_EQ(inb(&e, BM_BASE + 8), 0);
}

TEST(legacy_decode_follows_pci_and_idetim)
{
    Env e;
    REQUIRE(disk_env(&e, "decode.raw", "raw", DISK_SECTORS * 512));
    PCIDevice *d = ide_pci_device(e.ide);
    CHECK_EQ(inb(&e, CMD), 0x50);
    pci_config_write(d, 0x40, 0x0000, 2);
    CHECK_EQ(inb(&e, CMD), 0xff);
    pci_config_write(d, 0x40, 0x8000, 2);
    pci_config_write(d, PCI_COMMAND, 0, 2);
    CHECK_EQ(inb(&e, CMD), 0xff);
    pci_config_write(d, PCI_COMMAND, PCI_COMMAND_IO, 2);
    CHECK_EQ(inb(&e, CMD), 0x50);
}

/* What libata's probe does (ata_sff_softreset and friends): the register
 * check on both devices, SRST, the wait for the signature of device 1, and
 * classification by signature and status. An absent slave must classify as
 * "none" at once, not time out. */
TEST(libata_style_probe_with_absent_slave)
{
    Env e;
    REQUIRE(disk_env(&e, "probe.raw", "raw", DISK_SECTORS * 512));
    for (int dev = 0; dev < 2; dev++) {
        outb(&e, DEV, (uint8_t)(0xa0 | dev << 4));
        outb(&e, NSECT, 0x55);
        outb(&e, LBAL, 0xaa);
        outb(&e, NSECT, 0xaa);
        outb(&e, LBAL, 0x55);
        outb(&e, NSECT, 0x55);
        outb(&e, LBAL, 0xaa);
        CHECK_EQ(inb(&e, NSECT), 0x55);
        CHECK_EQ(inb(&e, LBAL), 0xaa);
    }
    outb(&e, DEV, 0xa0);
    outb(&e, CTL, 0x02 | 0x04);
    outb(&e, CTL, 0x02);
    CHECK_EQ(inb(&e, CTL) & 0x80, 0);
    outb(&e, DEV, 0xb0);
    CHECK_EQ(inb(&e, NSECT), 1);                    /* the post-reset wait ends */
    CHECK_EQ(inb(&e, LBAL), 1);
    CHECK_EQ(inb(&e, CMD), 0);                      /* status 0: no device */
    CHECK_EQ(inb(&e, ERR), 1);
    CHECK_EQ(inb(&e, DEV), 0xb0);                   /* SeaBIOS checks the echo */
    outb(&e, DEV, 0xa0);
    CHECK_EQ(inb(&e, CMD), 0x50);
    CHECK_EQ(inb(&e, ERR), 1);
    CHECK_EQ(inb(&e, LBAM), 0);
    CHECK_EQ(inb(&e, LBAH), 0);
}
