/* fw_cfg: signature and ID through the ports, the file directory, DMA reads
 * (select, skip, past the end), and hostile DMA requests. */
#include "hw/fw_cfg.h"
#include "tests/unit/harness.h"

#include <stdlib.h>

typedef struct Env {
    AddressSpace *mem, *io;
    uint8_t *ram;
    FwCfgState *fw;
} Env;

static void setup(Env *e)
{
    e->mem = address_space_new("memory", 1ULL << 40);
    e->io = address_space_new("io", 0x10000);
    e->ram = calloc(1, 1 << 20);
    as_add_ram(e->mem, "ram", 0, 1 << 20, e->ram, 0);
    e->fw = fw_cfg_create(e->io, e->mem);
}

static void read_item(Env *e, uint16_t key, void *buf, unsigned len)
{
    as_write(e->io, 0x510, key, 2);
    for (unsigned i = 0; i < len; i++)
        ((uint8_t *)buf)[i] = (uint8_t)as_read(e->io, 0x511, 1);
}

TEST(signature_and_id)
{
    Env e;
    setup(&e);
    char sig[5] = { 0 };
    read_item(&e, FW_CFG_SIGNATURE, sig, 4);
    CHECK(!strcmp(sig, "QEMU"));
    uint32_t id;
    read_item(&e, FW_CFG_ID, &id, 4);
    CHECK_EQ(id, 3);
    /* The DMA port's signature, as a 64-bit big-endian read. */
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)as_read(e.io, 0x514 + i, 1);
    CHECK(!memcmp(b, "QEMU CFG", 8));
    /* Reading past an item's end gives zeroes; unknown keys too. */
    uint8_t extra[4];
    read_item(&e, FW_CFG_SIGNATURE, extra, 4);
    CHECK_EQ(as_read(e.io, 0x511, 1), 0);
    read_item(&e, 0x7777, extra, 4);
    CHECK_EQ(extra[0] | extra[1] | extra[2] | extra[3], 0);
}

TEST(file_directory)
{
    Env e;
    setup(&e);
    int k1 = fw_cfg_add_file(e.fw, "etc/e820", "abcdefgh", 8);
    int k2 = fw_cfg_add_file(e.fw, "bootorder", "/pci@i0cf8/ide@1,1/drive@0/disk@0\n", 35);
    CHECK_EQ(k1, FW_CFG_FILE_FIRST);
    CHECK_EQ(k2, FW_CFG_FILE_FIRST + 1);
    uint8_t dir[4 + 2 * 64];
    read_item(&e, FW_CFG_FILE_DIR, dir, sizeof(dir));
    CHECK_EQ(ldbe32(dir), 2);
    CHECK_EQ(ldbe32(dir + 4), 8);
    CHECK_EQ(ldbe16(dir + 8), FW_CFG_FILE_FIRST);
    CHECK(!strcmp((char *)dir + 12, "etc/e820"));
    CHECK(!strcmp((char *)dir + 64 + 12, "bootorder"));
    /* Replacing a file keeps its key. */
    CHECK_EQ(fw_cfg_add_file(e.fw, "etc/e820", "xy", 2), FW_CFG_FILE_FIRST);
    char got[3] = { 0 };
    read_item(&e, (uint16_t)k1, got, 2);
    CHECK(!strcmp(got, "xy"));
}

static void dma(Env *e, uint64_t req_addr, uint32_t ctl, uint32_t len, uint64_t buf)
{
    uint8_t req[16];
    stbe32(req, ctl);
    stbe32(req + 4, len);
    stbe64(req + 8, buf);
    dma_write(e->mem, req_addr, req, 16);
    as_write(e->io, 0x514, __builtin_bswap32((uint32_t)(req_addr >> 32)), 4);
    as_write(e->io, 0x518, __builtin_bswap32((uint32_t)req_addr), 4);
}

TEST(dma_select_read_skip)
{
    Env e;
    setup(&e);
    fw_cfg_add_file(e.fw, "etc/test", "0123456789", 10);
    dma(&e, 0x1000, (FW_CFG_FILE_FIRST << 16) | 0x08 | 0x04, 3, 0);   /* select + skip 3 */
    CHECK_EQ(ldbe32(e.ram + 0x1000), 0);
    dma(&e, 0x1000, 0x02, 4, 0x2000);                                  /* read 4 */
    CHECK_EQ(ldbe32(e.ram + 0x1000), 0);
    CHECK(!memcmp(e.ram + 0x2000, "3456", 4));
    memset(e.ram + 0x3000, 0xaa, 8);
    dma(&e, 0x1000, 0x02, 8, 0x3000);                                  /* 3 left, then zeroes */
    CHECK(!memcmp(e.ram + 0x3000, "789\0\0\0\0\0", 8));
}

TEST(hostile_dma)
{
    Env e;
    setup(&e);
    /* A buffer outside RAM: error status, nothing written, no crash. */
    dma(&e, 0x1000, (FW_CFG_SIGNATURE << 16) | 0x08 | 0x02, 4, 0xfffffff0ULL);
    CHECK_EQ(ldbe32(e.ram + 0x1000) & 1, 1);
    /* A huge length past RAM. */
    dma(&e, 0x1000, (FW_CFG_SIGNATURE << 16) | 0x08 | 0x02, 0xffffffff, 0x10000);
    CHECK_EQ(ldbe32(e.ram + 0x1000) & 1, 1);
    /* Writes are refused. */
    dma(&e, 0x1000, 0x10, 4, 0x2000);
    CHECK_EQ(ldbe32(e.ram + 0x1000) & 1, 1);
    /* The request itself outside RAM: ignored. */
    as_write(e.io, 0x514, 0x10000000, 4);
    as_write(e.io, 0x518, 0, 4);
    CHECK(1);
}
