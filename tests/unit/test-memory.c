/* Address-space dispatch: overlaps and priorities, every access size,
 * size adaptation for devices, unassigned ranges, ROM, DMA bounds. */
#include "system/memory.h"
#include "tests/unit/harness.h"

#include <stdlib.h>

typedef struct FakeDev {
    uint64_t last_off, last_val;
    unsigned last_size;
    int reads, writes;
    uint8_t regs[16];
} FakeDev;

static uint64_t fake_read(void *opaque, uint64_t off, unsigned size)
{
    FakeDev *d = opaque;
    d->reads++;
    d->last_off = off;
    d->last_size = size;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)d->regs[(off + i) & 15] << (8 * i);
    return v;
}

static void fake_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    FakeDev *d = opaque;
    d->writes++;
    d->last_off = off;
    d->last_val = val;
    d->last_size = size;
    for (unsigned i = 0; i < size; i++)
        d->regs[(off + i) & 15] = (uint8_t)(val >> (8 * i));
}

static const MemoryRegionOps fake_ops = { fake_read, fake_write, 0, 0 };
static const MemoryRegionOps fake_ops_dword = { fake_read, fake_write, 4, 4 };
static const MemoryRegionOps fake_ops_byte = { fake_read, fake_write, 1, 1 };

TEST(ram_every_size)
{
    AddressSpace *as = address_space_new("t", 1ULL << 32);
    uint8_t *ram = calloc(1, 4096);
    as_add_ram(as, "ram", 0x1000, 4096, ram, 0);
    as_write(as, 0x1000, 0x11, 1);
    as_write(as, 0x1002, 0x3322, 2);
    as_write(as, 0x1004, 0x77665544, 4);
    as_write(as, 0x1008, 0xffeeddccbbaa9988ULL, 8);
    CHECK_EQ(as_read(as, 0x1000, 1), 0x11);
    CHECK_EQ(as_read(as, 0x1002, 2), 0x3322);
    CHECK_EQ(as_read(as, 0x1004, 4), 0x77665544);
    CHECK_EQ(as_read(as, 0x1008, 8), 0xffeeddccbbaa9988ULL);
    CHECK_EQ(as_read(as, 0x1003, 4), 0x66554433);       /* unaligned */
    CHECK_EQ(ram[9], 0x99);
    address_space_free(as);
    free(ram);
}

TEST(unassigned_reads_all_ones)
{
    AddressSpace *as = address_space_new("t", 1ULL << 32);
    CHECK_EQ(as_read(as, 0x5000, 1), 0xff);
    CHECK_EQ(as_read(as, 0x5000, 2), 0xffff);
    CHECK_EQ(as_read(as, 0x5000, 4), 0xffffffffu);
    CHECK_EQ(as_read(as, 0x5000, 8), ~0ULL);
    as_write(as, 0x5000, 1, 4);    /* discarded, no crash */
    address_space_free(as);
}

TEST(overlap_priority)
{
    AddressSpace *as = address_space_new("t", 1ULL << 32);
    uint8_t *ram = calloc(1, 0x10000);
    FakeDev dev = { 0 };
    as_add_ram(as, "ram", 0, 0x10000, ram, 0);
    MemoryRegion *io = as_add_io(as, "dev", 0x2000, 0x10, &fake_ops, &dev, 1);
    as_write(as, 0x2004, 0xab, 1);
    CHECK_EQ(dev.writes, 1);
    CHECK_EQ(dev.last_off, 4);
    CHECK_EQ(ram[0x2004], 0);                 /* the device hid the RAM */
    as_write(as, 0x2010, 0xcd, 1);            /* just past the device: RAM */
    CHECK_EQ(ram[0x2010], 0xcd);
    mr_set_enabled(io, false);                /* RAM shows through again */
    as_write(as, 0x2004, 0xef, 1);
    CHECK_EQ(ram[0x2004], 0xef);
    CHECK_EQ(dev.writes, 1);
    mr_set_enabled(io, true);
    mr_set_base(io, 0x3000);
    as_write(as, 0x3000, 0x12, 1);
    CHECK_EQ(dev.writes, 2);
    as_write(as, 0x2004, 0x34, 1);
    CHECK_EQ(ram[0x2004], 0x34);
    /* A lower-priority region added later stays hidden. */
    FakeDev dev2 = { 0 };
    as_add_io(as, "low", 0x3000, 0x10, &fake_ops, &dev2, 0);
    as_read(as, 0x3000, 1);
    CHECK_EQ(dev2.reads, 0);
    /* Equal priority: the later one wins. */
    FakeDev dev3 = { 0 };
    as_add_io(as, "same", 0x3000, 0x10, &fake_ops, &dev3, 1);
    as_read(as, 0x3000, 1);
    CHECK_EQ(dev3.reads, 1);
    address_space_free(as);
    free(ram);
}

TEST(access_crossing_regions)
{
    AddressSpace *as = address_space_new("t", 1ULL << 32);
    uint8_t *ram = calloc(1, 0x1000);
    FakeDev dev = { 0 };
    as_add_ram(as, "ram", 0, 0x1000, ram, 0);
    as_add_io(as, "dev", 0x1000, 0x10, &fake_ops, &dev, 0);
    ram[0xffe] = 0x11;
    ram[0xfff] = 0x22;
    dev.regs[0] = 0x33;
    dev.regs[1] = 0x44;
    CHECK_EQ(as_read(as, 0xffe, 4), 0x44332211);
    as_write(as, 0xfff, 0xaabb, 2);
    CHECK_EQ(ram[0xfff], 0xbb);
    CHECK_EQ(dev.regs[0], 0xaa);
    /* Straddling the end of the device into unassigned space. */
    CHECK_EQ(as_read(as, 0x100f, 2) >> 8, 0xff);
    address_space_free(as);
    free(ram);
}

TEST(device_size_adaptation)
{
    AddressSpace *as = address_space_new("io", 0x10000);
    FakeDev dw = { 0 }, by = { 0 };
    as_add_io(as, "dword", 0x100, 16, &fake_ops_dword, &dw, 0);
    as_add_io(as, "byte", 0x200, 16, &fake_ops_byte, &by, 0);
    /* A byte write to a dword-only device is a read-modify-write of the dword. */
    as_write(as, 0x100, 0x11223344, 4);
    as_write(as, 0x101, 0xaa, 1);
    CHECK_EQ(dw.last_size, 4);
    CHECK_EQ(dw.last_off, 0);
    CHECK_EQ(as_read(as, 0x100, 4), 0x1122aa44);
    CHECK_EQ(as_read(as, 0x102, 2), 0x1122);
    /* A dword access to a byte-only device is split into four. */
    by.writes = 0;
    as_write(as, 0x200, 0xdeadbeef, 4);
    CHECK_EQ(by.writes, 4);
    CHECK_EQ(by.last_size, 1);
    CHECK_EQ(as_read(as, 0x200, 4), 0xdeadbeef);
    CHECK_EQ(as_read(as, 0x200, 8), 0xdeadbeef);
    address_space_free(as);
}

TEST(rom_ignores_writes)
{
    AddressSpace *as = address_space_new("t", 1ULL << 32);
    uint8_t rom[16] = { 1, 2, 3, 4 };
    as_add_rom(as, "rom", 0xf0000, sizeof(rom), rom, 0);
    as_write(as, 0xf0000, 0x99, 1);
    CHECK_EQ(as_read(as, 0xf0000, 4), 0x04030201);
    uint8_t data[2] = { 7, 8 };
    as_write_rom(as, 0xf0000, data, 2);     /* loaders may */
    CHECK_EQ(rom[0], 7);
    CHECK_EQ(dma_write(as, 0xf0000, data, 1), -14);   /* -EFAULT: not RAM */
    uint8_t got[4];
    CHECK_EQ(dma_read(as, 0xf0000, got, 4), 0);
    address_space_free(as);
}

TEST(dma_bounds)
{
    AddressSpace *as = address_space_new("t", 1ULL << 32);
    uint8_t *ram = calloc(1, 0x2000);
    FakeDev dev = { 0 };
    as_add_ram(as, "ram", 0, 0x1000, ram, 0);
    as_add_ram(as, "ram2", 0x1000, 0x1000, ram + 0x1000, 0);
    as_add_io(as, "dev", 0x3000, 0x10, &fake_ops, &dev, 0);
    uint8_t buf[64];
    memset(buf, 0x5a, sizeof(buf));
    CHECK_EQ(dma_write(as, 0xfe0, buf, 64), 0);        /* spans two RAM regions */
    CHECK_EQ(ram[0x1010], 0x5a);
    CHECK(dma_write(as, 0x1fe0, buf, 64) < 0);         /* runs past RAM */
    CHECK_EQ(ram[0x1fe0], 0);                          /* nothing written */
    CHECK(dma_read(as, 0x3000, buf, 4) < 0);           /* a device is not RAM */
    CHECK_EQ(dev.reads, 0);
    CHECK(dma_read(as, ~0ULL - 3, buf, 16) < 0);       /* wraps around */
    CHECK(dma_read(as, 0x100000000ULL, buf, 1) < 0);   /* past the space */
    CHECK(dma_map(as, 0x0, 0x1000, true) == ram);
    CHECK(dma_map(as, 0xff0, 0x20, true) == NULL);     /* crosses regions */
    CHECK(dma_map(as, 0x3000, 4, false) == NULL);
    CHECK_EQ(dma_read(as, 0, buf, 0), 0);
    address_space_free(as);
    free(ram);
}

static int notified;
static void count_writes(uint64_t addr, uint64_t len) { notified++; }

TEST(ram_write_notify_hook)
{
    AddressSpace *as = address_space_new("t", 1ULL << 32);
    uint8_t *ram = calloc(1, 0x1000);
    as_add_ram(as, "ram", 0, 0x1000, ram, 0);
    ram_write_notify = count_writes;
    notified = 0;
    as_write(as, 0x10, 1, 4);
    uint8_t b = 1;
    dma_write(as, 0x20, &b, 1);
    CHECK_EQ(notified, 2);
    ram_write_notify = NULL;
    address_space_free(as);
    free(ram);
}

TEST(generation_changes)
{
    AddressSpace *as = address_space_new("t", 1ULL << 32);
    FakeDev dev = { 0 };
    unsigned g0 = as->generation;
    MemoryRegion *mr = as_add_io(as, "dev", 0x100, 4, &fake_ops, &dev, 0);
    CHECK(as->generation != g0);
    unsigned g1 = as->generation;
    mr_set_base(mr, 0x200);
    CHECK(as->generation != g1);
    as_remove(mr);
    CHECK_EQ(as_read(as, 0x200, 1), 0xff);
    address_space_free(as);
}
