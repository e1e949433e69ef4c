/* The legacy interface of the transitional virtio-blk (I/O BAR 0), driven
 * like a pre-1.0 driver: no FEATURES_OK, a queue given by page number with
 * the legacy contiguous layout, notification by queue index. */
#include "tests/unit/test-hw-virtio-fixture.h"

#define IO_BASE   0xc000
#define LEG_RING  0x200000          /* page-aligned */
#define LEG_DESC  LEG_RING
#define LEG_AVAIL (LEG_RING + 16 * 256)
#define LEG_USED  (LEG_RING + 0x2000)   /* next 4 KiB boundary after the available ring */

static uint32_t lin(Env *e, unsigned off, unsigned size) { return (uint32_t)as_read(e->io, IO_BASE + off, size); }
static void lout(Env *e, unsigned off, uint32_t v, unsigned size) { as_write(e->io, IO_BASE + off, v, size); }

static bool legacy_env(Env *e, bool msi)
{
    fixture_msi = msi;
    bool ok = env_init(e);
    fixture_msi = false;
    if (!ok)
        return false;
    pci_config_write(e->dev, PCI_BAR0, IO_BASE, 4);
    pci_config_write(e->dev, PCI_COMMAND,
                     PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    return true;
}

static void legacy_start(Env *e, uint32_t features, uint32_t pfn)
{
    lout(e, 0x12, 0, 1);
    lout(e, 0x12, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
    lout(e, 0x04, lin(e, 0x00, 4) & features, 4);
    lout(e, 0x0e, 0, 2);
    memset(gp(e, LEG_RING), 0, 0x4000);
    lout(e, 0x08, pfn, 4);
    lout(e, 0x12, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK, 1);
    e->qsize = 256;
    e->avail_idx = 0;
}

static uint8_t legacy_request(Env *e, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
                              bool data_in)
{
    put_header(e, 0, type, sector);
    *gp(e, status_addr(0)) = 0xee;
    /* The pre-1.0 framing: header, data and status in separate descriptors. */
    Buf b[3] = { { hdr_addr(0), 16, false }, { data, len, data_in }, { status_addr(0), 1, true } };
    put_chain(e, LEG_DESC, 0, b, 3);
    st16(gp(e, LEG_AVAIL + 4 + 2ULL * (e->avail_idx % 256)), 0);
    e->avail_idx++;
    st16(gp(e, LEG_AVAIL + 2), e->avail_idx);
    lout(e, 0x10, 0, 2);                         /* notify queue 0 */
    virtio_blk_drain(e->blk);
    return *gp(e, status_addr(0));
}

TEST(legacy_registers_and_io)
{
    Env e;
    REQUIRE(legacy_env(&e, false));
    uint32_t f = lin(&e, 0x00, 4);
    CHECK(f & (1u << 27));                       /* ANY_LAYOUT */
    CHECK(f & (1u << VIRTIO_BLK_F_FLUSH));
    CHECK_EQ(lin(&e, 0x0c, 2), 256);
    CHECK_EQ(lin(&e, 0x14, 4), DISK_SIZE / 512);  /* device config follows at 0x14 */
    legacy_start(&e, 0xffffffff, LEG_RING >> 12);
    CHECK_EQ(lin(&e, 0x08, 4), LEG_RING >> 12);
    CHECK_EQ(lin(&e, 0x12, 1) & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
    for (unsigned i = 0; i < 4096; i++)
        *gp(&e, DATA + i) = (uint8_t)(i * 13 + 1);
    CHECK_EQ(legacy_request(&e, VIRTIO_BLK_T_OUT, 50, DATA, 4096, false), VIRTIO_BLK_S_OK);
    CHECK_EQ(g16(&e, LEG_USED + 2), 1);
    memset(gp(&e, DATA + 0x10000), 0, 4096);
    CHECK_EQ(legacy_request(&e, VIRTIO_BLK_T_IN, 50, DATA + 0x10000, 4096, true), VIRTIO_BLK_S_OK);
    CHECK(memcmp(gp(&e, DATA), gp(&e, DATA + 0x10000), 4096) == 0);
    CHECK_EQ(g16(&e, LEG_USED + 2), 2);
    CHECK_EQ(g32(&e, LEG_USED + 4 + 8 + 4), 4097);
    CHECK_EQ(e.dev->irq_level, 1);
    CHECK_EQ(lin(&e, 0x13, 1), VIRTIO_ISR_QUEUE);
    CHECK_EQ(e.dev->irq_level, 0);
    /* Releasing the queue and resetting. */
    lout(&e, 0x08, 0, 4);
    CHECK_EQ(lin(&e, 0x08, 4), 0);
    lout(&e, 0x12, 0, 1);
    CHECK_EQ(lin(&e, 0x12, 1), 0);
    env_free(&e);
}

TEST(legacy_hostile_queue_page)
{
    static const uint32_t pfns[] = { RAM_SIZE >> 12, (RAM_SIZE >> 12) - 1, 0xfee00, 0xffffffff };
    for (size_t i = 0; i < ARRAY_SIZE(pfns); i++) {
        Env e;
        REQUIRE(legacy_env(&e, false));
        legacy_start(&e, 0xffffffff, pfns[i]);
        CHECK(lin(&e, 0x12, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
        lout(&e, 0x10, 0, 2);
        lout(&e, 0x10, 0xffff, 2);               /* a queue that does not exist */
        legacy_start(&e, 0xffffffff, LEG_RING >> 12);
        CHECK(!(lin(&e, 0x12, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
        CHECK_EQ(legacy_request(&e, VIRTIO_BLK_T_FLUSH, 0, DATA, 0, false), VIRTIO_BLK_S_OK);
        env_free(&e);
    }
}

TEST(legacy_with_msix)
{
    Env e;
    REQUIRE(legacy_env(&e, true));
    int cap = -1;
    for (uint8_t at = (uint8_t)pci_config_read(e.dev, PCI_CAPABILITY_LIST, 1); at;
         at = (uint8_t)pci_config_read(e.dev, at + 1, 1))
        if (pci_config_read(e.dev, at, 1) == PCI_CAP_ID_MSIX)
            cap = at;
    REQUIRE(cap > 0);
    pci_config_write(e.dev, PCI_BAR0 + 4, 0xfebf0000, 4);
    as_write(e.mem, 0xfebf0000 + 16, 0xfee00000, 4);
    as_write(e.mem, 0xfebf0000 + 24, 0x55, 4);
    as_write(e.mem, 0xfebf0000 + 28, 0, 4);
    pci_config_write(e.dev, cap + 2, 0x8000, 2);
    /* The vector registers appear and the device config moves to 0x18. */
    CHECK_EQ(lin(&e, 0x18, 4), DISK_SIZE / 512);
    legacy_start(&e, 0xffffffff, LEG_RING >> 12);
    lout(&e, 0x16, 1, 2);
    CHECK_EQ(lin(&e, 0x16, 2), 1);
    lout(&e, 0x14, 9, 2);
    CHECK_EQ(lin(&e, 0x14, 2), VIRTIO_MSI_NO_VECTOR);
    CHECK_EQ(legacy_request(&e, VIRTIO_BLK_T_FLUSH, 0, DATA, 0, false), VIRTIO_BLK_S_OK);
    REQUIRE(msi_count == 1);
    CHECK_EQ(msi_log[0].data, 0x55);
    CHECK_EQ(e.dev->irq_level, 0);
    env_free(&e);
}
