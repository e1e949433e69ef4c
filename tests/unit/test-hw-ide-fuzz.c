/* The IDE controller under a hostile guest: random task file, data port,
 * control, bus-master and PCI configuration accesses with random PRD tables
 * in RAM, block completions arriving in between, and media changes. Nothing
 * may crash, hang or trip the sanitizers, and the interrupt line must
 * always agree with the selected device. */
#include "tests/unit/test-hw-ide-fixture.h"
#include "hw/ide-internal.h"
#include "system/machine.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

/* Mostly commands that do something. */
static const uint8_t commands[] = {
    0x20, 0x24, 0x25, 0x29, 0x30, 0x34, 0x35, 0x39, 0x40, 0x42, 0x70, 0x90, 0x91,
    0xa0, 0xa1, 0xc4, 0xc5, 0xc6, 0xc8, 0xca, 0xe0, 0xe1, 0xe5, 0xe7, 0xea, 0xec,
    0xef, 0xf8, 0x27, 0x08, 0x00, 0xff,
};

static const uint8_t packets[] = {
    0x00, 0x03, 0x12, 0x1a, 0x1b, 0x1e, 0x25, 0x28, 0x2b, 0x42, 0x43, 0x46, 0x4a,
    0x51, 0x52, 0x5a, 0xa8, 0xbb, 0xbd, 0xbe, 0xff,
};

static uint16_t random_port(int *ch)
{
    *ch = rng() & 1;
    uint16_t cmd = *ch ? 0x170 : 0x1f0, ctl = *ch ? 0x376 : 0x3f6;
    switch (rng() % 8) {
    case 0: return ctl;
    case 1: return (uint16_t)(BM_BASE + (rng() & 15));
    case 2: case 3: return cmd;                 /* data */
    default: return (uint16_t)(cmd + 1 + rng() % 7);
    }
}

static uint32_t random_value(uint16_t port)
{
    unsigned reg = port & 7;
    if ((port == 0x1f7 || port == 0x177) && rng() % 4)
        return commands[rng() % ARRAY_SIZE(commands)];
    if (reg >= 3 && reg <= 5 && rng() % 2)
        return rng() % 4;                       /* LBAs inside the small disks */
    if (reg == 2 && rng() % 2)
        return rng() % 9;
    return rng();
}

static void random_ram(Env *e)
{
    /* PRD tables at 0x1000/0x2000 pointing mostly into RAM, sometimes not. */
    uint32_t table = (rng() & 1) ? 0x1000 : 0x2000;
    int n = (int)(rng() % 6);
    for (int i = 0; i < n; i++) {
        uint32_t addr = rng() % 4 ? 0x100000 + (rng() % 0x200000) : rng();
        put_prd(e, table, i, addr, rng() & 0xffff, i == n - 1 && rng() % 4);
    }
    /* A plausible packet in the staging area some tests copy from. */
    e->ram[0x3000] = packets[rng() % ARRAY_SIZE(packets)];
}

static bool irq_lines_consistent(Env *e)
{
    struct IdeState *s = e->ide;
    for (int c = 0; c < 2; c++) {
        IdeChannel *ch = &s->ch[c];
        IdeDrive *d = ide_cur(ch);
        int want = ide_present(d) && d->irq && !(ch->ctrl & CTL_NIEN);
        if (irq_level[c] != want)
            return false;
    }
    return true;
}

/* A whole PACKET command with a mostly sensible CDB. */
static void random_packet(Env *e)
{
    outb(e, 0x176, (uint8_t)(0xa0 | (rng() % 8 == 0 ? 0x10 : 0)));
    outb(e, 0x171, (uint8_t)(rng() & 1));
    outb(e, 0x174, (uint8_t)rng());
    outb(e, 0x175, (uint8_t)(rng() % 3));
    outb(e, 0x177, 0xa0);
    uint8_t cdb[12];
    for (int i = 0; i < 12; i++)
        cdb[i] = (uint8_t)(rng() % 3 ? rng() % 4 : rng());
    cdb[0] = packets[rng() % ARRAY_SIZE(packets)];
    for (int i = 0; i < 6; i++)
        outw(e, 0x170, ld16(cdb + 2 * i));
}

/* A DMA command with the bus master programmed around it. */
static void random_dma(Env *e)
{
    int ch = rng() & 1;
    uint16_t cmd = ch ? 0x170 : 0x1f0;
    random_ram(e);
    bm_start(e, ch, rng() & 1 ? 0x1000 : 0x2000, rng() & 1);
    outb(e, (uint16_t)(cmd + 6), (uint8_t)(0xe0 | (rng() & 0x10)));
    outb(e, (uint16_t)(cmd + 2), (uint8_t)(rng() % 9));
    outb(e, (uint16_t)(cmd + 3), (uint8_t)(rng() % 8));
    static const uint8_t dma_cmds[] = { 0xc8, 0xca, 0x25, 0x35 };
    outb(e, (uint16_t)(cmd + 7), dma_cmds[rng() % 4]);
}

TEST(random_guest)
{
    Env e;
    env_init(&e);
    char err[256];
    BlockDev *hd = make_image("fuzz.qcow2", "qcow2", 64 * 1024, false);
    BlockDev *hd2 = make_image("fuzz.raw", "raw", 8 * 1024, false);
    BlockDev *cd = make_image("fuzz.iso", "raw", 16 * 2048, false);
    REQUIRE(hd && hd2 && cd);
    REQUIRE(ide_attach(e.ide, 0, hd, false, err, sizeof(err)) == 0);
    REQUIRE(ide_attach(e.ide, 1, hd2, false, err, sizeof(err)) == 0);
    REQUIRE(ide_attach(e.ide, 2, cd, true, err, sizeof(err)) == 0);
    pci_enable_master(&e);
    PCIDevice *pci = ide_pci_device(e.ide);
    for (int step = 0; step < 200000; step++) {
        unsigned what = rng() % 100;
        if (what < 80) {
            int ch;
            uint16_t port = random_port(&ch);
            unsigned size = 1u << (rng() % 3);
            if (rng() & 1)
                as_write(e.io, port, random_value(port), size);
            else
                as_read(e.io, port, size);
        } else if (what < 90) {
            blk_aio_poll_completions();
        } else if (what < 94) {
            random_ram(&e);
        } else if (what < 96) {
            blk_aio_drain(NULL);
        } else if (what < 97) {
            static const uint8_t regs[] = { 0x04, 0x40, 0x41, 0x42, 0x43 };
            unsigned r = regs[rng() % ARRAY_SIZE(regs)];
            uint32_t v = rng();
            if (r == 0x04)
                v = (v & ~1u) | 1;              /* keep I/O decoding mostly on */
            if (r == 0x41 || r == 0x43)
                v |= 0x80;
            pci_config_write(pci, r, v & 0xff, 1);
        } else if (what < 98 && rng() % 2) {
            if (rng() & 1)
                random_packet(&e);
            else
                random_dma(&e);
        } else if (what < 99) {
            ide_cd_change(e.ide, 2, rng() & 1 ? cd : NULL);
        } else {
            machine_run_reset_handlers();
            pci_enable_master(&e);
        }
        if (!irq_lines_consistent(&e)) {
            CHECK(irq_lines_consistent(&e));
            break;
        }
    }
    blk_aio_drain(NULL);
    CHECK(irq_raises[0] > 100 && irq_raises[1] > 100);
    /* Still a working controller: reset the primary channel and identify. */
    outb(&e, 0x3f6, 0x04);
    outb(&e, 0x3f6, 0x00);
    outb(&e, 0x1f6, 0xa0);
    outb(&e, 0x1f7, 0xec);
    CHECK_EQ(wait_not_busy(&e, 0x3f6) & 0x89, 0x08);
    CHECK_EQ(inw(&e, 0x1f0), 0x0040);
}
