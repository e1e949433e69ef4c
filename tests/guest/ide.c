/* The PIIX3 IDE controller seen from a guest: the PCI function, IDENTIFY,
 * PIO writes and 32-bit PIO reads, bus-master DMA with a PRD table, and
 * INTRQ reaching IRQ 14 on the 8259s.
 * test-args: -drive "file=$(truncate -s 1M "$T_TMP/ide-disk.raw" && echo "$T_TMP/ide-disk.raw"),format=raw,if=ide"
 */
#include "runtime.h"

#define IDE_DATA 0x1f0
#define IDE_NSECT 0x1f2
#define IDE_LBAL 0x1f3
#define IDE_LBAM 0x1f4
#define IDE_LBAH 0x1f5
#define IDE_DEV 0x1f6
#define IDE_CMD 0x1f7
#define IDE_CTL 0x3f6

static uint32_t pci_read(unsigned fn, unsigned reg)
{
    outl(0xcf8, 0x80000000u | (1u << 11) | (fn << 8) | reg);
    return inl(0xcfc);
}

static void pci_write(unsigned fn, unsigned reg, uint32_t v)
{
    outl(0xcf8, 0x80000000u | (1u << 11) | (fn << 8) | reg);
    outl(0xcfc, v);
}

static uint8_t wait_not_busy(void)
{
    uint8_t st;
    for (uint32_t i = 0; i < 100000000; i++) {
        st = inb(IDE_CTL);
        if (!(st & 0x80))
            return st;
    }
    return st;
}

static bool irq14_requested(void)
{
    outb(0xa0, 0x0a);                       /* slave PIC: read IRR */
    return inb(0xa0) & 0x40;
}

static void lba28(uint8_t cmd, uint32_t lba, uint8_t count)
{
    outb(IDE_DEV, 0xe0);
    outb(IDE_NSECT, count);
    outb(IDE_LBAL, (uint8_t)lba);
    outb(IDE_LBAM, (uint8_t)(lba >> 8));
    outb(IDE_LBAH, (uint8_t)(lba >> 16));
    outb(IDE_CMD, cmd);
}

static uint8_t sector[1024] __attribute__((aligned(16)));
static uint8_t dma_buf[1024] __attribute__((aligned(4096)));
static uint32_t prd[4] __attribute__((aligned(16)));

void test_main(void)
{
    TEST_EQ("PCI 00:01.1 is the PIIX3 IDE function", pci_read(1, 0), 0x70108086);
    TEST_EQ("class: IDE, bus master, legacy", pci_read(1, 8) >> 8, 0x010180);
    pci_write(1, 4, pci_read(1, 4) | 5);    /* I/O decoding and bus mastering */
    uint16_t bm = (uint16_t)(pci_read(1, 0x20) & 0xfff0);
    TEST_TRUE("BAR4 assigned", bm != 0);

    outb(0xa1, 0xff);                       /* every IRQ masked: IRR still records */
    outb(IDE_DEV, 0xa0);
    outb(IDE_CMD, 0xec);
    uint8_t st = wait_not_busy();
    TEST_EQ("IDENTIFY: DRQ", st & 0x89, 0x08);
    TEST_TRUE("IDENTIFY raised IRQ 14", irq14_requested());
    inb(IDE_CMD);
    uint16_t id[256];
    for (int i = 0; i < 256; i++)
        id[i] = inw(IDE_DATA);
    TEST_EQ("word 0: ATA disk", id[0], 0x0040);
    TEST_EQ("model starts KE", id[27], ('K' << 8) | 'E');
    TEST_EQ("capacity: 1 MiB", id[60] | (uint32_t)id[61] << 16, 2048);

    for (int i = 0; i < 1024; i++)
        sector[i] = (uint8_t)(i * 13 + 1);
    lba28(0x30, 7, 2);
    for (int s = 0; s < 2; s++) {
        st = wait_not_busy();
        TEST_EQ("write: DRQ", st & 0x89, 0x08);
        for (int i = 0; i < 512; i += 2)
            outw(IDE_DATA, (uint16_t)(sector[s * 512 + i] | sector[s * 512 + i + 1] << 8));
    }
    st = wait_not_busy();
    TEST_EQ("write: done", st & 0x89, 0);
    inb(IDE_CMD);

    uint32_t back[256];
    lba28(0x20, 7, 2);
    bool same = true;
    for (int s = 0; s < 2; s++) {
        wait_not_busy();
        inb(IDE_CMD);
        for (int i = 0; i < 128; i++)
            back[s * 128 + i] = inl(IDE_DATA);
    }
    same = !memcmp(back, sector, 1024);
    TEST_TRUE("32-bit PIO read returns what was written", same);

    prd[0] = (uint32_t)dma_buf;
    prd[1] = 0x80000000u | 1024;
    outb(bm, 0);
    outb(bm + 2, 0x06);
    outl(bm + 4, (uint32_t)prd);
    outb(bm, 0x08);
    lba28(0xc8, 7, 2);
    outb(bm, 0x09);
    uint32_t spins = 0;
    while (!(inb(bm + 2) & 0x04) && spins < 100000000)
        spins++;
    TEST_EQ("bus master: interrupt, not active, no error", inb(bm + 2) & 0x07, 0x04);
    outb(bm, 0x08);
    TEST_EQ("READ DMA: done", inb(IDE_CMD) & 0x89, 0);
    TEST_TRUE("DMA read returns what was written", !memcmp(dma_buf, sector, 1024));
}
