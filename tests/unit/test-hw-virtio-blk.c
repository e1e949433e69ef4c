/* virtio-blk over the modern PCI transport, driven like a driver would:
 * discovery, negotiation, queue setup, and every request type. */
#include "tests/unit/test-hw-virtio-fixture.h"
#include "system/mainloop.h"

static void fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 7 + seed + (i >> 9));
}

TEST(pci_identity_and_capabilities)
{
    Env e;
    REQUIRE(env_init(&e));
    PCIDevice *d = e.dev;
    /* Transitional by default: legacy ID, revision 0, type in subsystem ID. */
    CHECK_EQ(pci_config_read(d, PCI_VENDOR_ID, 2), 0x1af4);
    CHECK_EQ(pci_config_read(d, PCI_DEVICE_ID, 2), 0x1001);
    CHECK_EQ(pci_config_read(d, PCI_REVISION_ID, 1), 0);
    CHECK_EQ(pci_config_read(d, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
    CHECK_EQ(pci_config_read(d, PCI_SUBSYSTEM_ID, 2), 2);
    CHECK_EQ(pci_config_read(d, PCI_BAR0, 4) & 1, PCI_BAR_IO);
    CHECK(pci_config_read(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    CHECK_EQ(pci_config_read(d, PCI_INTERRUPT_PIN, 1), 1);
    /* 64-bit memory BAR 4 of 16 KiB */
    CHECK_EQ(pci_config_read(d, PCI_BAR0 + 16, 4) & 0xf, PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
    CHECK_EQ(e.common, VIRTIO_PCI_COMMON_OFFSET);
    CHECK_EQ(e.isr, VIRTIO_PCI_ISR_OFFSET);
    CHECK_EQ(e.device, VIRTIO_PCI_DEVICE_OFFSET);
    CHECK_EQ(e.notify, VIRTIO_PCI_NOTIFY_OFFSET);
    CHECK_EQ(e.notify_mult, 4);
    CHECK(e.cfg_cap >= 0x40);
    /* Every capability names BAR 4 except the PCI_CFG window. */
    for (uint8_t at = (uint8_t)pci_config_read(d, PCI_CAPABILITY_LIST, 1); at;
         at = (uint8_t)pci_config_read(d, at + 1, 1)) {
        CHECK_EQ(at & 3, 0);
        if (at != e.cfg_cap)
            CHECK_EQ(pci_config_read(d, at + VIRTIO_PCI_CAP_BAR, 1), 4);
    }
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_NUMQ, 2), 1);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
    env_free(&e);
}

TEST(modern_only_identity)
{
    Env e;
    VirtioBlkOptions o = { .modern_only = true };
    REQUIRE(env_init_opts(&e, "raw", false, &o));
    CHECK_EQ(pci_config_read(e.dev, PCI_DEVICE_ID, 2), 0x1042);
    CHECK_EQ(pci_config_read(e.dev, PCI_REVISION_ID, 1), 1);
    CHECK(pci_config_read(e.dev, PCI_SUBSYSTEM_ID, 2) >= 0x40);
    CHECK_EQ(pci_config_read(e.dev, PCI_BAR0, 4), 0);          /* no legacy I/O BAR */
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_IN, 0, DATA, 512, true), VIRTIO_BLK_S_OK);
    env_free(&e);
}

TEST(features_and_config)
{
    Env e;
    REQUIRE(env_init(&e));
    uint64_t f = device_features(&e);
    CHECK(f & (1ULL << VIRTIO_F_VERSION_1));
    CHECK(f & (1ULL << VIRTIO_F_INDIRECT_DESC));
    CHECK(f & (1ULL << VIRTIO_F_EVENT_IDX));
    uint64_t blk = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
                   (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_TOPOLOGY) |
                   (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
    CHECK_EQ(f & blk, blk);
    CHECK(!(f & (1ULL << VIRTIO_BLK_F_RO)));
    CHECK(!(f & (1ULL << VIRTIO_BLK_F_MQ)));
    /* A modern device refuses a driver without VERSION_1. */
    CHECK(!(negotiate(&e, f & ~(1ULL << VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK));
    CHECK(negotiate(&e, f) & VIRTIO_STATUS_FEATURES_OK);
    /* Feature bits are frozen after FEATURES_OK. */
    common_wr(&e, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
    uint32_t lo = (uint32_t)common_rd(&e, VIRTIO_PCI_COMMON_GF, 4);
    common_wr(&e, VIRTIO_PCI_COMMON_GF, 0, 4);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_GF, 4), lo);
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_CAPACITY, 4), DISK_SIZE / 512);
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_CAPACITY + 4, 4), 0);
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_SEG_MAX, 4), 254);
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_BLK_SIZE, 4), 512);
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_MIN_IO_SIZE, 2), 1);
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_NUM_QUEUES, 2), 1);
    CHECK(devcfg(&e, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, 4) > 0);
    CHECK(devcfg(&e, VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 4) > 0);
    CHECK(devcfg(&e, VIRTIO_BLK_CFG_MAX_WZ_SECTORS, 4) > 0);
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_WZ_MAY_UNMAP, 1), 1);
    env_free(&e);
}

TEST(pci_cfg_access_window)
{
    Env e;
    REQUIRE(env_init(&e));
    int c = e.cfg_cap;
    /* Read the device features through configuration space only. */
    pci_config_write(e.dev, c + VIRTIO_PCI_CAP_BAR, 4, 1);
    pci_config_write(e.dev, c + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_DFSELECT, 4);
    pci_config_write(e.dev, c + VIRTIO_PCI_CAP_LENGTH, 4, 4);
    pci_config_write(e.dev, c + VIRTIO_PCI_CFG_CAP_DATA, 1, 4);    /* select the high half */
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_DFSELECT, 4), 1);
    pci_config_write(e.dev, c + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_DF, 4);
    CHECK(pci_config_read(e.dev, c + VIRTIO_PCI_CFG_CAP_DATA, 4) & 1);  /* VERSION_1 */
    /* A bad window (wrong BAR, bad length) does nothing. */
    pci_config_write(e.dev, c + VIRTIO_PCI_CAP_LENGTH, 3, 4);
    pci_config_write(e.dev, c + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_STATUS, 4);
    pci_config_write(e.dev, c + VIRTIO_PCI_CFG_CAP_DATA, 0xff, 4);
    CHECK_EQ(status_of(&e), 0);
    env_free(&e);
}

TEST(write_then_read_back)
{
    Env e;
    REQUIRE(env_init(&e));
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    enum { LEN = 64 * 1024 };
    fill_pattern(gp(&e, DATA), LEN, 1);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_OUT, 100, DATA, LEN, false), VIRTIO_BLK_S_OK);
    CHECK_EQ(used_idx(&e), 1);
    CHECK_EQ(used_id(&e, 0), 0);
    CHECK_EQ(used_len(&e, 0), 1);
    /* on disk */
    uint8_t *buf = xmalloc(LEN);
    REQUIRE(blk_pread(e.bs, 100 * 512, buf, LEN) == 0);
    CHECK(memcmp(buf, gp(&e, DATA), LEN) == 0);
    /* and back through the device, into other memory */
    memset(gp(&e, DATA + LEN), 0, LEN);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_IN, 100, DATA + LEN, LEN, true), VIRTIO_BLK_S_OK);
    CHECK(memcmp(gp(&e, DATA + LEN), buf, LEN) == 0);
    CHECK_EQ(used_idx(&e), 2);
    CHECK_EQ(used_len(&e, 1), LEN + 1);
    /* Interrupt: INTx asserted until the ISR is read. */
    CHECK_EQ(e.dev->irq_level, 1);
    CHECK_EQ(isr_read(&e), VIRTIO_ISR_QUEUE);
    CHECK_EQ(e.dev->irq_level, 0);
    CHECK_EQ(isr_read(&e), 0);
    free(buf);
    env_free(&e);
}

TEST(any_layout_and_scatter)
{
    Env e;
    REQUIRE(env_init(&e));
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    /* Header and the first data bytes in one descriptor, data scattered in
     * odd pieces, the status byte at the end of the last data descriptor. */
    uint64_t blob = DATA;
    put_header(&e, 0, VIRTIO_BLK_T_OUT, 8);
    memcpy(gp(&e, blob), gp(&e, hdr_addr(0)), 16);
    fill_pattern(gp(&e, blob + 16), 1024, 5);
    Buf w[3] = { { blob, 16 + 100, false }, { blob + 116, 900, false }, { blob + 1016, 24, false } };
    Buf s = { status_addr(0), 1, true };
    Buf all[4] = { w[0], w[1], w[2], s };
    put_chain(&e, Q_DESC, 0, all, 4);
    publish(&e, 0);
    kick(&e);
    virtio_blk_drain(e.blk);
    CHECK_EQ(*gp(&e, status_addr(0)), VIRTIO_BLK_S_OK);
    uint8_t disk[1024];
    REQUIRE(blk_pread(e.bs, 8 * 512, disk, sizeof(disk)) == 0);
    CHECK(memcmp(disk, gp(&e, blob + 16), 1024) == 0);
    /* Read: data and status share the last writable descriptor. */
    uint64_t rb = DATA + 0x10000;
    memset(gp(&e, rb), 0, 2048);
    put_header(&e, 1, VIRTIO_BLK_T_IN, 8);
    Buf r[3] = { { hdr_addr(1), 16, false }, { rb, 512, true }, { rb + 512, 513, true } };
    put_chain(&e, Q_DESC, 10, r, 3);
    publish(&e, 10);
    kick(&e);
    virtio_blk_drain(e.blk);
    CHECK(memcmp(gp(&e, rb), disk, 1024) == 0);
    CHECK_EQ(*gp(&e, rb + 1024), VIRTIO_BLK_S_OK);
    CHECK_EQ(used_len(&e, 1), 1025);
    env_free(&e);
}

TEST(many_requests_in_flight)
{
    Env e;
    REQUIRE(env_init(&e));
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    enum { N = 32, LEN = 4096 };
    for (unsigned i = 0; i < N; i++) {
        fill_pattern(gp(&e, DATA + i * LEN), LEN, i);
        queue_request(&e, i, VIRTIO_BLK_T_OUT, 8 * i, DATA + i * LEN, LEN, false);
    }
    kick(&e);
    /* All were taken at once; completions run only when pumped. */
    CHECK_EQ(virtio_blk_inflight(e.blk), N);
    virtio_blk_drain(e.blk);
    CHECK_EQ(virtio_blk_inflight(e.blk), 0);
    CHECK_EQ(used_idx(&e), N);
    bool seen[N] = { false };
    for (unsigned i = 0; i < N; i++) {
        uint32_t id = used_id(&e, (uint16_t)i);
        REQUIRE(id % 3 == 0 && id / 3 < N);
        seen[id / 3] = true;
        CHECK_EQ(*gp(&e, status_addr(id / 3)), VIRTIO_BLK_S_OK);
    }
    for (unsigned i = 0; i < N; i++)
        CHECK(seen[i]);
    /* Read them all back in one batch. */
    memset(gp(&e, DATA), 0, N * LEN);
    for (unsigned i = 0; i < N; i++)
        queue_request(&e, i, VIRTIO_BLK_T_IN, 8 * i, DATA + i * LEN, LEN, true);
    kick(&e);
    virtio_blk_drain(e.blk);
    CHECK_EQ(used_idx(&e), 2 * N);
    uint8_t expect[LEN];
    for (unsigned i = 0; i < N; i++) {
        fill_pattern(expect, LEN, i);
        CHECK(memcmp(gp(&e, DATA + i * LEN), expect, LEN) == 0);
    }
    env_free(&e);
}

TEST(flush_and_get_id)
{
    Env e;
    VirtioBlkOptions o = { .serial = "KESTREL-SERIAL-0001" };
    REQUIRE(env_init_opts(&e, "qcow2", false, &o));
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    memset(gp(&e, DATA), 0xaa, 32);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_GET_ID, 0, DATA, 20, true), VIRTIO_BLK_S_OK);
    CHECK(memcmp(gp(&e, DATA), "KESTREL-SERIAL-0001\0", 20) == 0);
    CHECK_EQ(*gp(&e, DATA + 20), 0xaa);
    CHECK_EQ(used_len(&e, 1), 21);
    /* Unknown request types are unsupported, not fatal. */
    CHECK_EQ(do_request(&e, 0x42, 0, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
    CHECK(!broken(&e));
    env_free(&e);
}

static void put_range(Env *e, uint64_t at, uint64_t sector, uint32_t count, uint32_t flags)
{
    st64(gp(e, at), sector);
    st32(gp(e, at + 8), count);
    st32(gp(e, at + 12), flags);
}

TEST(discard_and_write_zeroes)
{
    Env e;
    REQUIRE(env_init_opts(&e, "qcow2", false, NULL));
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_DISCARD_ALIGN, 4), 65536 / 512);
    enum { LEN = 256 * 1024 };
    fill_pattern(gp(&e, DATA), LEN, 9);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_OUT, 0, DATA, LEN, false), VIRTIO_BLK_S_OK);
    /* Two write-zeroes ranges in one request, one with UNMAP. */
    uint64_t ranges = DATA + LEN;
    put_range(&e, ranges, 1, 2, 0);
    put_range(&e, ranges + 16, 128, 128, VIRTIO_BLK_WZ_UNMAP);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_WRITE_ZEROES, 0, ranges, 32, false), VIRTIO_BLK_S_OK);
    uint8_t *disk = xmalloc(LEN), *expect = xmalloc(LEN);
    memcpy(expect, gp(&e, DATA), LEN);
    memset(expect + 512, 0, 1024);
    memset(expect + 128 * 512, 0, 128 * 512);
    REQUIRE(blk_pread(e.bs, 0, disk, LEN) == 0);
    CHECK(memcmp(disk, expect, LEN) == 0);
    /* Discard a whole cluster: it reads back as zeroes (qcow2). */
    put_range(&e, ranges, 256, 128, 0);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_DISCARD, 0, ranges, 16, false), VIRTIO_BLK_S_OK);
    REQUIRE(blk_pread(e.bs, 256 * 512, disk, 65536) == 0);
    for (int i = 0; i < 65536; i++)
        if (disk[i]) {
            CHECK(!"discarded cluster reads as zero");
            break;
        }
    /* Bad ranges: discard with UNMAP, unknown flags, past the end, torn array. */
    put_range(&e, ranges, 0, 8, VIRTIO_BLK_WZ_UNMAP);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_DISCARD, 0, ranges, 16, false), VIRTIO_BLK_S_UNSUPP);
    put_range(&e, ranges, 0, 8, 0x80);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_WRITE_ZEROES, 0, ranges, 16, false), VIRTIO_BLK_S_UNSUPP);
    put_range(&e, ranges, DISK_SIZE / 512 - 4, 8, 0);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_WRITE_ZEROES, 0, ranges, 16, false), VIRTIO_BLK_S_IOERR);
    put_range(&e, ranges, UINT64_MAX - 2, 8, 0);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_DISCARD, 0, ranges, 16, false), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_DISCARD, 0, ranges, 12, false), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_DISCARD, 0, ranges, 16 * 1000, false), VIRTIO_BLK_S_UNSUPP);
    CHECK(!broken(&e));
    free(disk);
    free(expect);
    env_free(&e);
}

TEST(indirect_descriptors)
{
    Env e;
    REQUIRE(env_init(&e));
    REQUIRE(driver_start(&e, BASE_FEATURES | (1ULL << VIRTIO_F_INDIRECT_DESC), 0));
    enum { SEGS = 64, SEG = 512 };
    /* A write of 64 one-sector pieces through one indirect table. */
    put_header(&e, 0, VIRTIO_BLK_T_OUT, 40);
    Buf b[SEGS + 2];
    b[0] = (Buf){ hdr_addr(0), 16, false };
    for (int i = 0; i < SEGS; i++) {
        /* scattered: every other sector of the data area */
        b[1 + i] = (Buf){ DATA + 2ULL * SEG * i, SEG, false };
        fill_pattern(gp(&e, DATA + 2ULL * SEG * i), SEG, (unsigned)i);
    }
    b[SEGS + 1] = (Buf){ status_addr(0), 1, true };
    put_chain(&e, INDIRECT, 0, b, SEGS + 2);
    put_desc(&e, Q_DESC, 7, INDIRECT, 16 * (SEGS + 2), VIRTQ_DESC_F_INDIRECT, 0);
    publish(&e, 7);
    kick(&e);
    virtio_blk_drain(e.blk);
    CHECK_EQ(*gp(&e, status_addr(0)), VIRTIO_BLK_S_OK);
    CHECK_EQ(used_id(&e, 0), 7);
    uint8_t disk[SEG];
    for (int i = 0; i < SEGS; i++) {
        REQUIRE(blk_pread(e.bs, (40ULL + (uint64_t)i) * 512, disk, SEG) == 0);
        CHECK(memcmp(disk, gp(&e, DATA + 2ULL * SEG * i), SEG) == 0);
    }
    /* A direct header descriptor chained to an indirect table for the rest. */
    put_header(&e, 1, VIRTIO_BLK_T_IN, 40);
    memset(gp(&e, DATA + 0x100000), 0, SEG * 2);
    Buf rest[2] = { { DATA + 0x100000, SEG * 2, true }, { status_addr(1), 1, true } };
    put_chain(&e, INDIRECT + 0x1000, 0, rest, 2);
    put_desc(&e, Q_DESC, 20, hdr_addr(1), 16, VIRTQ_DESC_F_NEXT, 21);
    put_desc(&e, Q_DESC, 21, INDIRECT + 0x1000, 32, VIRTQ_DESC_F_INDIRECT, 0);
    publish(&e, 20);
    kick(&e);
    virtio_blk_drain(e.blk);
    CHECK_EQ(*gp(&e, status_addr(1)), VIRTIO_BLK_S_OK);
    CHECK(memcmp(gp(&e, DATA + 0x100000), gp(&e, DATA), SEG) == 0);
    CHECK(memcmp(gp(&e, DATA + 0x100000 + SEG), gp(&e, DATA + 2 * SEG), SEG) == 0);
    CHECK(!broken(&e));
    env_free(&e);
}

TEST(event_idx_suppression)
{
    Env e;
    REQUIRE(env_init(&e));
    REQUIRE(driver_start(&e, BASE_FEATURES | (1ULL << VIRTIO_F_EVENT_IDX), 0));
    uint16_t size = e.qsize;
    uint64_t used_event = Q_AVAIL + 4 + 2ULL * size;
    uint64_t avail_event = Q_USED + 4 + 8ULL * size;
    /* used_event = 2: no interrupt for the first two completions... */
    st16(gp(&e, used_event), 2);
    queue_request(&e, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    kick(&e);
    virtio_blk_drain(e.blk);
    CHECK_EQ(used_idx(&e), 1);
    CHECK_EQ(e.dev->irq_level, 0);
    /* The device asks to be notified past what it took. */
    CHECK_EQ(g16(&e, avail_event), 1);
    queue_request(&e, 1, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    kick(&e);
    virtio_blk_drain(e.blk);
    CHECK_EQ(e.dev->irq_level, 0);
    /* ...the third crosses used_event: interrupt. */
    queue_request(&e, 2, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    kick(&e);
    virtio_blk_drain(e.blk);
    CHECK_EQ(used_idx(&e), 3);
    CHECK_EQ(e.dev->irq_level, 1);
    CHECK_EQ(isr_read(&e), VIRTIO_ISR_QUEUE);
    CHECK_EQ(g16(&e, avail_event), 3);
    env_free(&e);
}

TEST(no_interrupt_flag)
{
    Env e;
    REQUIRE(env_init(&e));
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    st16(gp(&e, Q_AVAIL), VIRTQ_AVAIL_F_NO_INTERRUPT);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    CHECK_EQ(e.dev->irq_level, 0);
    st16(gp(&e, Q_AVAIL), 0);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    CHECK_EQ(e.dev->irq_level, 1);
    /* INTx disable in the command register masks the pin, not the ISR. */
    env_free(&e);
}

TEST(read_only_drive)
{
    Env e;
    REQUIRE(env_init_opts(&e, "raw", true, NULL));
    uint64_t f = device_features(&e);
    CHECK(f & (1ULL << VIRTIO_BLK_F_RO));
    CHECK(!(f & (1ULL << VIRTIO_BLK_F_DISCARD)));
    CHECK(!(f & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES)));
    REQUIRE(driver_start(&e, BASE_FEATURES | (1ULL << VIRTIO_BLK_F_RO), 0));
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_OUT, 0, DATA, 512, false), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_IN, 0, DATA, 512, true), VIRTIO_BLK_S_OK);
    env_free(&e);
}

TEST(multiqueue)
{
    Env e;
    VirtioBlkOptions o = { .num_queues = 4, .queue_size = 64 };
    REQUIRE(env_init_opts(&e, "raw", false, &o));
    CHECK(device_features(&e) & (1ULL << VIRTIO_BLK_F_MQ));
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_NUMQ, 2), 4);
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_NUM_QUEUES, 2), 4);
    common_wr(&e, VIRTIO_PCI_COMMON_Q_SELECT, 3, 2);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_Q_SIZE, 2), 64);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_Q_NOFF, 2), 3);
    common_wr(&e, VIRTIO_PCI_COMMON_Q_SELECT, 4, 2);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
    REQUIRE(driver_start(&e, BASE_FEATURES | (1ULL << VIRTIO_BLK_F_MQ), 0));
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    env_free(&e);
}

TEST(reset_with_requests_in_flight)
{
    Env e;
    REQUIRE(env_init(&e));
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    for (unsigned i = 0; i < 8; i++)
        queue_request(&e, i, VIRTIO_BLK_T_IN, i, DATA + 512 * i, 512, true);
    kick(&e);
    CHECK_EQ(virtio_blk_inflight(&*e.blk), 8);
    common_wr(&e, VIRTIO_PCI_COMMON_STATUS, 0, 1);
    CHECK_EQ(virtio_blk_inflight(e.blk), 0);
    virtio_blk_drain(e.blk);
    /* Nothing reached the old ring. */
    CHECK_EQ(used_idx(&e), 0);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    /* and the device works again after a new bring-up */
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_IN, 0, DATA, 512, true), VIRTIO_BLK_S_OK);
    env_free(&e);
}

#define MSIX_BAR_ADDR 0xfebf0000u

static int find_cap(PCIDevice *d, uint8_t id)
{
    for (uint8_t at = (uint8_t)pci_config_read(d, PCI_CAPABILITY_LIST, 1); at;
         at = (uint8_t)pci_config_read(d, at + 1, 1))
        if (pci_config_read(d, at, 1) == id)
            return at;
    return -1;
}

static void msix_entry(Env *e, unsigned v, uint32_t data, bool masked)
{
    uint64_t a = MSIX_BAR_ADDR + 16ULL * v;
    as_write(e->mem, a, 0xfee00000, 4);
    as_write(e->mem, a + 4, 0, 4);
    as_write(e->mem, a + 8, data, 4);
    as_write(e->mem, a + 12, masked, 4);
}

static uint32_t pba(Env *e) { return (uint32_t)as_read(e->mem, MSIX_BAR_ADDR + 0x800, 4); }

TEST(msix_without_board_support_is_absent)
{
    Env e;
    REQUIRE(env_init(&e));
    CHECK_EQ(find_cap(e.dev, PCI_CAP_ID_MSIX), -1);
    common_wr(&e, VIRTIO_PCI_COMMON_MSIX, 0, 2);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
    env_free(&e);
}

TEST(msix_vectors)
{
    Env e;
    fixture_msi = true;
    bool ok = env_init(&e);
    fixture_msi = false;
    REQUIRE(ok);
    int cap = find_cap(e.dev, PCI_CAP_ID_MSIX);
    REQUIRE(cap > 0);
    CHECK_EQ(pci_config_read(e.dev, cap + 2, 2) & 0x7ff, 1);      /* 2 vectors */
    CHECK_EQ(pci_config_read(e.dev, cap + 4, 4), 0x000 | 1);       /* table in BAR1 */
    CHECK_EQ(pci_config_read(e.dev, cap + 8, 4), 0x800 | 1);       /* PBA in BAR1 */
    pci_config_write(e.dev, PCI_BAR0 + 4, MSIX_BAR_ADDR, 4);
    pci_enable(&e);
    msix_entry(&e, 0, 0x41, false);
    msix_entry(&e, 1, 0x42, false);
    pci_config_write(e.dev, cap + 2, 0x8000, 2);                   /* enable */
    REQUIRE(negotiate(&e, BASE_FEATURES) & VIRTIO_STATUS_FEATURES_OK);
    common_wr(&e, VIRTIO_PCI_COMMON_MSIX, 0, 2);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_MSIX, 2), 0);
    common_wr(&e, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    common_wr(&e, VIRTIO_PCI_COMMON_Q_MSIX, 7, 2);                 /* no such vector */
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
    common_wr(&e, VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
    setup_queue_at(&e, 0, Q_DESC, Q_AVAIL, Q_USED);
    driver_ok(&e);

    /* A completion sends the queue's message; no ISR bit, no INTx. */
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    REQUIRE(msi_count == 1);
    CHECK_EQ(msi_log[0].addr, 0xfee00000);
    CHECK_EQ(msi_log[0].data, 0x42);
    CHECK_EQ(e.dev->irq_level, 0);
    CHECK_EQ(isr_read(&e), 0);
    /* Masked vector: pending bit, sent on unmask. */
    as_write(e.mem, MSIX_BAR_ADDR + 16 + 12, 1, 4);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    CHECK_EQ(msi_count, 1);
    CHECK_EQ(pba(&e), 2);
    as_write(e.mem, MSIX_BAR_ADDR + 16 + 12, 0, 4);
    CHECK_EQ(msi_count, 2);
    CHECK_EQ(pba(&e), 0);
    /* Function mask likewise. */
    pci_config_write(e.dev, cap + 2, 0xc000, 2);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    CHECK_EQ(msi_count, 2);
    pci_config_write(e.dev, cap + 2, 0x8000, 2);
    CHECK_EQ(msi_count, 3);
    CHECK_EQ(msi_log[2].data, 0x42);
    /* A broken device signals the configuration vector (and the ISR bit). */
    st16(gp(&e, Q_AVAIL + 2), (uint16_t)(e.avail_idx + 1000));
    kick(&e);
    CHECK(broken(&e));
    REQUIRE(msi_count == 4);
    CHECK_EQ(msi_log[3].data, 0x41);
    CHECK_EQ(isr_read(&e), VIRTIO_ISR_CONFIG);
    CHECK_EQ(e.dev->irq_level, 0);
    /* Reset returns the vectors to NO_VECTOR. */
    common_wr(&e, VIRTIO_PCI_COMMON_STATUS, 0, 1);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
    env_free(&e);
}

TEST(write_cache_toggle)
{
    Env e;
    REQUIRE(env_init(&e));
    CHECK(device_features(&e) & (1ULL << VIRTIO_BLK_F_CONFIG_WCE));
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_WRITEBACK, 1), 1);
    /* Without CONFIG_WCE negotiated the byte is read-only. */
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    wr(&e, e.device + VIRTIO_BLK_CFG_WRITEBACK, 0, 1);
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_WRITEBACK, 1), 1);
    REQUIRE(driver_start(&e, BASE_FEATURES | (1ULL << VIRTIO_BLK_F_CONFIG_WCE), 0));
    wr(&e, e.device + VIRTIO_BLK_CFG_WRITEBACK, 0, 1);
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_WRITEBACK, 1), 0);
    /* Other fields stay read-only, even in the same dword. */
    wr(&e, e.device + VIRTIO_BLK_CFG_WRITEBACK, 0xffff0001, 4);
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_WRITEBACK, 1), 1);
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_NUM_QUEUES, 2), 1);
    wr(&e, e.device + VIRTIO_BLK_CFG_WRITEBACK, 0, 1);
    /* Write-through: a write completes after its flush. */
    fill_pattern(gp(&e, DATA), 4096, 3);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_OUT, 16, DATA, 4096, false), VIRTIO_BLK_S_OK);
    uint8_t disk[4096];
    REQUIRE(blk_pread(e.bs, 16 * 512, disk, sizeof(disk)) == 0);
    CHECK(memcmp(disk, gp(&e, DATA), sizeof(disk)) == 0);
    CHECK_EQ(used_idx(&e), 1);
    env_free(&e);
    /* The writethrough option starts with the cache off. */
    VirtioBlkOptions o = { .writethrough = true };
    REQUIRE(env_init_opts(&e, "qcow2", false, &o));
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_WRITEBACK, 1), 0);
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_OUT, 16, DATA, 4096, false), VIRTIO_BLK_S_OK);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA + 8192, 0, false), VIRTIO_BLK_S_IOERR);
    env_free(&e);
}

TEST(buffer_across_two_ram_regions)
{
    Env e;
    REQUIRE(env_init(&e));
    /* A second RAM block right after the first, with separate host memory. */
    uint8_t *high = xzalloc(1 * MiB);
    as_add_ram(e.mem, "ram-high", RAM_SIZE, 1 * MiB, high, 0);
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    enum { LEN = 8192 };
    uint64_t at = RAM_SIZE - LEN / 2;
    uint8_t pattern[LEN];
    fill_pattern(pattern, LEN, 77);
    memcpy(gp(&e, at), pattern, LEN / 2);
    memcpy(high, pattern + LEN / 2, LEN / 2);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_OUT, 200, at, LEN, false), VIRTIO_BLK_S_OK);
    uint8_t disk[LEN];
    REQUIRE(blk_pread(e.bs, 200 * 512, disk, LEN) == 0);
    CHECK(memcmp(disk, pattern, LEN) == 0);
    memset(gp(&e, at), 0, LEN / 2);
    memset(high, 0, LEN / 2);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_IN, 200, at, LEN, true), VIRTIO_BLK_S_OK);
    CHECK(memcmp(gp(&e, at), pattern, LEN / 2) == 0);
    CHECK(memcmp(high, pattern + LEN / 2, LEN / 2) == 0);
    env_free(&e);
}

static void completions_ready(void *opaque, int fd, short revents)
{
    (void)opaque;
    (void)fd;
    (void)revents;
    blk_aio_poll_completions();
}

TEST(a_full_queue_continues_from_the_main_loop)
{
    Env e;
    /* What the board does: block completions run from the main loop. */
    main_loop_set_fd(blk_aio_eventfd(), POLLIN, completions_ready, NULL);
    REQUIRE(env_init(&e));
    REQUIRE(driver_start(&e, BASE_FEATURES, 16));
    /* 16 requests answered at once use up one notification's budget (the
     * same chain each time: it is free again as soon as it is answered)... */
    put_header(&e, 0, VIRTIO_BLK_T_GET_ID, 0);
    Buf b[2] = { { hdr_addr(0), 16, false }, { DATA, 21, true } };
    put_chain(&e, Q_DESC, 0, b, 2);
    for (unsigned i = 0; i < 16; i++)
        publish(&e, 0);
    kick(&e);
    CHECK_EQ(used_idx(&e), 16);
    /* ...so one more, added without a notification, is taken by the
     * continuation the device left on the main loop. */
    publish(&e, 0);
    CHECK_EQ(used_idx(&e), 16);
    for (int i = 0; i < 10 && used_idx(&e) != 17; i++)
        main_loop_iterate(0);
    CHECK_EQ(used_idx(&e), 17);
    env_free(&e);
}
