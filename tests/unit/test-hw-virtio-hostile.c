/* virtio against a hostile driver: every broken ring ends with an error
 * status or a device that needs reset, the process stays alive, nothing
 * outside guest RAM is touched (run under --enable-sanitizers), and a reset
 * brings the device back. */
#include "tests/unit/test-hw-virtio-fixture.h"

#define ALL_FEATURES (BASE_FEATURES | (1ULL << VIRTIO_F_INDIRECT_DESC) | \
                      (1ULL << VIRTIO_F_EVENT_IDX))

/* After a broken ring: the device says so, ignores the queue, and works
 * again after a reset and a new bring-up. */
static void check_broken_then_recovers(Env *e)
{
    CHECK(broken(e));
    CHECK_EQ(virtio_blk_inflight(e->blk), 0);
    /* A config-change interrupt tells a running driver. */
    CHECK(isr_read(e) & VIRTIO_ISR_CONFIG);
    uint16_t before = used_idx(e);
    queue_request(e, 5, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    kick(e);
    virtio_blk_drain(e->blk);
    CHECK_EQ(used_idx(e), before);
    REQUIRE(driver_start(e, ALL_FEATURES, 0));
    CHECK(!broken(e));
    CHECK_EQ(do_request(e, VIRTIO_BLK_T_IN, 0, DATA, 512, true), VIRTIO_BLK_S_OK);
}

static bool start(Env *e, uint16_t qsize)
{
    return env_init(e) && driver_start(e, ALL_FEATURES, qsize);
}

static void submit_head(Env *e, uint16_t head)
{
    publish(e, head);
    kick(e);
    virtio_blk_drain(e->blk);
}

TEST(descriptor_loop)
{
    Env e;
    REQUIRE(start(&e, 0));
    put_header(&e, 0, VIRTIO_BLK_T_IN, 0);
    put_desc(&e, Q_DESC, 0, hdr_addr(0), 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(&e, Q_DESC, 1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);  /* back to 0 */
    submit_head(&e, 0);
    check_broken_then_recovers(&e);
    env_free(&e);
}

TEST(chain_longer_than_queue)
{
    Env e;
    REQUIRE(start(&e, 4));
    for (unsigned i = 0; i < 4; i++)
        put_desc(&e, Q_DESC, i, DATA, 512, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % 4));
    submit_head(&e, 2);
    check_broken_then_recovers(&e);
    env_free(&e);
}

TEST(loop_inside_indirect_table)
{
    Env e;
    REQUIRE(start(&e, 0));
    put_header(&e, 0, VIRTIO_BLK_T_IN, 0);
    put_desc(&e, INDIRECT, 0, hdr_addr(0), 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(&e, INDIRECT, 1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);  /* itself */
    put_desc(&e, Q_DESC, 0, INDIRECT, 32, VIRTQ_DESC_F_INDIRECT, 0);
    submit_head(&e, 0);
    check_broken_then_recovers(&e);
    env_free(&e);
}

TEST(indirect_inside_indirect)
{
    Env e;
    REQUIRE(start(&e, 0));
    put_desc(&e, INDIRECT, 0, INDIRECT, 16, VIRTQ_DESC_F_INDIRECT, 0);   /* points at itself */
    put_desc(&e, Q_DESC, 0, INDIRECT, 16, VIRTQ_DESC_F_INDIRECT, 0);
    submit_head(&e, 0);
    check_broken_then_recovers(&e);
    env_free(&e);
}

TEST(indirect_without_the_feature)
{
    Env e;
    REQUIRE(env_init(&e));
    REQUIRE(driver_start(&e, BASE_FEATURES, 0));
    put_header(&e, 0, VIRTIO_BLK_T_FLUSH, 0);
    Buf b[2] = { { hdr_addr(0), 16, false }, { status_addr(0), 1, true } };
    put_chain(&e, INDIRECT, 0, b, 2);
    put_desc(&e, Q_DESC, 0, INDIRECT, 32, VIRTQ_DESC_F_INDIRECT, 0);
    submit_head(&e, 0);
    check_broken_then_recovers(&e);
    env_free(&e);
}

TEST(indirect_with_next_flag)
{
    Env e;
    REQUIRE(start(&e, 0));
    put_desc(&e, Q_DESC, 0, INDIRECT, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
    put_desc(&e, Q_DESC, 1, status_addr(0), 1, VIRTQ_DESC_F_WRITE, 0);
    submit_head(&e, 0);
    check_broken_then_recovers(&e);
    env_free(&e);
}

TEST(indirect_table_bad_sizes)
{
    static const uint32_t lens[] = { 0, 15, 24, 16 * 1025, 0xfffffff0 };
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        Env e;
        REQUIRE(start(&e, 0));
        put_desc(&e, Q_DESC, 0, INDIRECT, lens[i], VIRTQ_DESC_F_INDIRECT, 0);
        submit_head(&e, 0);
        check_broken_then_recovers(&e);
        env_free(&e);
    }
}

TEST(indirect_table_outside_ram)
{
    static const uint64_t addrs[] = { RAM_SIZE - 16, 0xfee00000, BAR_ADDR, UINT64_MAX - 15 };
    for (size_t i = 0; i < ARRAY_SIZE(addrs); i++) {
        Env e;
        REQUIRE(start(&e, 0));
        put_desc(&e, Q_DESC, 0, addrs[i], 64, VIRTQ_DESC_F_INDIRECT, 0);
        submit_head(&e, 0);
        check_broken_then_recovers(&e);
        env_free(&e);
    }
}

TEST(head_and_next_out_of_range)
{
    Env e;
    REQUIRE(start(&e, 16));
    submit_head(&e, 16);                            /* head == size */
    check_broken_then_recovers(&e);
    put_header(&e, 0, VIRTIO_BLK_T_FLUSH, 0);
    put_desc(&e, Q_DESC, 0, hdr_addr(0), 16, VIRTQ_DESC_F_NEXT, 0xffff);
    submit_head(&e, 0);
    check_broken_then_recovers(&e);
    env_free(&e);
}

TEST(avail_idx_jumps_past_queue_size)
{
    Env e;
    REQUIRE(start(&e, 16));
    queue_request(&e, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    st16(gp(&e, Q_AVAIL + 2), 17);                  /* 17 new entries in a ring of 16 */
    kick(&e);
    virtio_blk_drain(e.blk);
    CHECK_EQ(used_idx(&e), 0);
    check_broken_then_recovers(&e);
    st16(gp(&e, Q_AVAIL + 2), 0x8000);
    kick(&e);
    check_broken_then_recovers(&e);
    env_free(&e);
}

TEST(more_in_flight_than_queue_size)
{
    Env e;
    REQUIRE(start(&e, 8));
    /* The same chain made available again and again before completing. */
    put_header(&e, 0, VIRTIO_BLK_T_IN, 0);
    Buf b[3] = { { hdr_addr(0), 16, false }, { DATA, 512, true }, { status_addr(0), 1, true } };
    put_chain(&e, Q_DESC, 0, b, 3);
    for (int i = 0; i < 8; i++)
        publish(&e, 0);
    kick(&e);
    CHECK_EQ(virtio_blk_inflight(e.blk), 8);
    publish(&e, 0);
    kick(&e);
    CHECK(broken(&e));
    virtio_blk_drain(e.blk);
    check_broken_then_recovers(&e);
    env_free(&e);
}

TEST(queue_size_not_power_of_two)
{
    static const uint16_t sizes[] = { 3, 100, 255, 257, 512, 0xffff };
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        Env e;
        REQUIRE(env_init(&e));
        REQUIRE(negotiate(&e, ALL_FEATURES) & VIRTIO_STATUS_FEATURES_OK);
        setup_queue_at(&e, sizes[i], Q_DESC, Q_AVAIL, Q_USED);
        CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
        CHECK(broken(&e));
        kick(&e);
        REQUIRE(driver_start(&e, ALL_FEATURES, 0));
        CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
        env_free(&e);
    }
}

TEST(queue_areas_outside_ram_or_misaligned)
{
    static const uint64_t bad[][3] = {
        { RAM_SIZE, Q_AVAIL, Q_USED },
        { Q_DESC, RAM_SIZE - 4, Q_USED },
        { Q_DESC, Q_AVAIL, RAM_SIZE - 16 },
        { Q_DESC, Q_AVAIL, 0xfee00000 },            /* MMIO, not RAM */
        { Q_DESC, Q_AVAIL, BAR_ADDR },              /* the device's own BAR */
        { UINT64_MAX - 0xfff, Q_AVAIL, Q_USED },    /* wraps around */
        { Q_DESC + 8, Q_AVAIL, Q_USED },            /* misaligned */
        { Q_DESC, Q_AVAIL + 1, Q_USED },
        { Q_DESC, Q_AVAIL, Q_USED + 2 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        Env e;
        REQUIRE(env_init(&e));
        REQUIRE(negotiate(&e, ALL_FEATURES) & VIRTIO_STATUS_FEATURES_OK);
        setup_queue_at(&e, 0, bad[i][0], bad[i][1], bad[i][2]);
        CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
        CHECK(broken(&e));
        kick(&e);
        REQUIRE(driver_start(&e, ALL_FEATURES, 0));
        CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
        env_free(&e);
    }
}

TEST(enabled_queue_cannot_be_moved)
{
    Env e;
    REQUIRE(start(&e, 0));
    common_wr(&e, VIRTIO_PCI_COMMON_Q_DESC, 0xfffff000, 8);
    common_wr(&e, VIRTIO_PCI_COMMON_Q_SIZE, 3, 2);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_Q_DESC, 4), Q_DESC);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    env_free(&e);
}

TEST(huge_and_misplaced_data_buffers)
{
    Env e;
    REQUIRE(start(&e, 0));
    /* Data outside RAM, wrapping, huge, or in the BAR: IOERR, device fine. */
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_IN, 0, RAM_SIZE - 512, 1024, true), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_IN, 0, UINT64_MAX - 511, 1024, true), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_OUT, 0, DATA, 0xfffffe00, false), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_IN, 0, BAR_ADDR, 512, true), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_IN, 0, 0xfee00000, 512, true), VIRTIO_BLK_S_IOERR);
    /* Past the end of the disk, sector overflow, not whole sectors. */
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_IN, DISK_SIZE / 512, DATA, 512, true), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_IN, UINT64_MAX, DATA, 512, true), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, DATA, 512, true),
             VIRTIO_BLK_S_IOERR);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_OUT, 0, DATA, 100, false), VIRTIO_BLK_S_IOERR);
    /* Many scattered pieces through an indirect table: fine. */
    put_header(&e, 0, VIRTIO_BLK_T_IN, 0);
    *gp(&e, status_addr(0)) = 0xee;
    enum { PIECES = 1000 };
    put_desc(&e, INDIRECT, 0, hdr_addr(0), 16, VIRTQ_DESC_F_NEXT, 1);
    for (unsigned i = 1; i <= PIECES; i++)       /* never adjacent */
        put_desc(&e, INDIRECT, i, DATA + 1024ULL * i, 512,
                 VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(i + 1));
    put_desc(&e, INDIRECT, PIECES + 1, status_addr(0), 1, VIRTQ_DESC_F_WRITE, 0);
    put_desc(&e, Q_DESC, 0, INDIRECT, 16 * (PIECES + 2), VIRTQ_DESC_F_INDIRECT, 0);
    submit_head(&e, 0);
    CHECK_EQ(*gp(&e, status_addr(0)), VIRTIO_BLK_S_OK);
    CHECK(!broken(&e));
    env_free(&e);

    /* More pieces than host iovecs allowed (a long direct chain ending in
     * a full indirect table): IOERR. */
    VirtioBlkOptions o = { .queue_size = 1024 };
    REQUIRE(env_init_opts(&e, "raw", false, &o));
    REQUIRE(driver_start(&e, ALL_FEATURES, 0));
    CHECK_EQ(e.qsize, 1024);
    enum { DIRECT = 600, TABLE = 600 };
    *gp(&e, status_addr(0)) = 0xee;
    put_desc(&e, Q_DESC, 0, hdr_addr(0), 16, VIRTQ_DESC_F_NEXT, 1);
    for (unsigned i = 1; i <= DIRECT; i++)
        put_desc(&e, Q_DESC, i, DATA + 1024ULL * i, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
                 (uint16_t)(i + 1));
    put_desc(&e, Q_DESC, DIRECT + 1, INDIRECT, 16 * (TABLE + 1), VIRTQ_DESC_F_INDIRECT, 0);
    for (unsigned i = 0; i < TABLE; i++)
        put_desc(&e, INDIRECT, i, DATA + 1024ULL * (DIRECT + 1 + i), 512,
                 VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(i + 1));
    put_desc(&e, INDIRECT, TABLE, status_addr(0), 1, VIRTQ_DESC_F_WRITE, 0);
    submit_head(&e, 0);
    CHECK_EQ(*gp(&e, status_addr(0)), VIRTIO_BLK_S_IOERR);
    CHECK(!broken(&e));
    env_free(&e);
    /* Queues larger than 1024 would let a guest pin too much host memory. */
    char err[256];
    VirtioBlkOptions big = { .queue_size = 2048 };
    CHECK(virtio_blk_pci_create(e.pci->bus, -1, e.bs, &big, err, sizeof(err)) == NULL);
}

TEST(header_of_the_wrong_size_or_direction)
{
    Env e;
    REQUIRE(start(&e, 0));
    /* Header too short. */
    put_header(&e, 0, VIRTIO_BLK_T_FLUSH, 0);
    *gp(&e, status_addr(0)) = 0xee;
    Buf shortb[2] = { { hdr_addr(0), 8, false }, { status_addr(0), 1, true } };
    put_chain(&e, Q_DESC, 0, shortb, 2);
    submit_head(&e, 0);
    CHECK_EQ(*gp(&e, status_addr(0)), VIRTIO_BLK_S_IOERR);
    /* Header device-writable (so no readable header at all). */
    *gp(&e, status_addr(0)) = 0xee;
    Buf wrongdir[2] = { { hdr_addr(0), 16, true }, { status_addr(0), 1, true } };
    put_chain(&e, Q_DESC, 0, wrongdir, 2);
    submit_head(&e, 0);
    CHECK_EQ(*gp(&e, status_addr(0)), VIRTIO_BLK_S_IOERR);
    /* Header in memory that is not RAM. */
    *gp(&e, status_addr(0)) = 0xee;
    Buf mmio[2] = { { 0xfee00000, 16, false }, { status_addr(0), 1, true } };
    put_chain(&e, Q_DESC, 0, mmio, 2);
    submit_head(&e, 0);
    CHECK_EQ(*gp(&e, status_addr(0)), VIRTIO_BLK_S_IOERR);
    CHECK(!broken(&e));
    CHECK_EQ(used_idx(&e), 3);
    env_free(&e);
}

TEST(status_of_the_wrong_size_or_direction)
{
    /* No device-writable byte at all: the request cannot be answered. */
    Env e;
    REQUIRE(start(&e, 0));
    put_header(&e, 0, VIRTIO_BLK_T_FLUSH, 0);
    Buf ro[2] = { { hdr_addr(0), 16, false }, { status_addr(0), 1, false } };
    put_chain(&e, Q_DESC, 0, ro, 2);
    submit_head(&e, 0);
    check_broken_then_recovers(&e);
    /* Status byte outside RAM. */
    Buf outside[2] = { { hdr_addr(0), 16, false }, { RAM_SIZE + 4096, 1, true } };
    put_chain(&e, Q_DESC, 0, outside, 2);
    submit_head(&e, 0);
    check_broken_then_recovers(&e);
    /* A readable descriptor after a writable one. */
    Buf order[3] = { { hdr_addr(0), 16, false }, { status_addr(0), 1, true }, { DATA, 16, false } };
    put_chain(&e, Q_DESC, 0, order, 3);
    submit_head(&e, 0);
    check_broken_then_recovers(&e);
    env_free(&e);
}

TEST(bus_mastering_disabled)
{
    Env e;
    REQUIRE(start(&e, 0));
    pci_config_write(e.dev, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    queue_request(&e, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    kick(&e);
    virtio_blk_drain(e.blk);
    CHECK_EQ(used_idx(&e), 0);
    CHECK(broken(&e));
    pci_config_write(e.dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    check_broken_then_recovers(&e);
    env_free(&e);
}

TEST(notify_of_missing_queue_and_odd_accesses)
{
    Env e;
    REQUIRE(start(&e, 0));
    wr(&e, e.notify + 4 * 7, 7, 2);                 /* no queue 7 */
    wr(&e, e.notify + 0xffc, 0, 4);
    wr(&e, e.isr, 0xff, 1);                         /* ISR is read-only */
    wr(&e, e.device, 0xffffffff, 4);                /* config is read-only */
    CHECK_EQ(devcfg(&e, VIRTIO_BLK_CFG_CAPACITY, 4), DISK_SIZE / 512);
    common_wr(&e, VIRTIO_PCI_COMMON_NUMQ, 99, 2);   /* read-only field */
    common_wr(&e, VIRTIO_PCI_COMMON_DFSELECT + 1, 1, 1);  /* torn write */
    common_wr(&e, VIRTIO_PCI_COMMON_GFSELECT, 0x12345678, 4);
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_GF, 4), 0);
    for (unsigned off = 0; off < 0x4000; off += 0x3d)  /* reads anywhere are harmless */
        (void)rd(&e, off == e.isr ? off + 1 : off, 1 + (off & 3) % 4 / 2 * 2);
    CHECK(!broken(&e));
    CHECK_EQ(common_rd(&e, VIRTIO_PCI_COMMON_NUMQ, 2), 1);
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    env_free(&e);
}

/* ---- random rings ------------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Addresses mostly near the driver's areas, sometimes anywhere. */
static uint64_t rnd_addr(void)
{
    switch (rnd() % 8) {
    case 0: return rnd();
    case 1: return RAM_SIZE - (rnd() % 64);
    case 2: return Q_DESC + rnd() % 0x40000;
    default: return DATA + rnd() % 0x10000;
    }
}

static uint32_t rnd_len(void)
{
    switch (rnd() % 6) {
    case 0: return (uint32_t)rnd();
    case 1: return 16 * (uint32_t)(rnd() % 40);
    case 2: return 1;
    default: return 512 * (uint32_t)(rnd() % 9);
    }
}

TEST(random_rings)
{
    Env e;
    REQUIRE(start(&e, 16));
    unsigned broken_count = 0, completed = 0;
    for (int round = 0; round < 400; round++) {
        /* Random descriptors, indirect tables, headers and ring indexes. */
        for (unsigned i = 0; i < 16; i++) {
            uint16_t flags = (uint16_t)(rnd() & 7);
            put_desc(&e, Q_DESC, i, rnd_addr(), rnd_len(), flags, (uint16_t)(rnd() % 20));
            put_desc(&e, INDIRECT, i, rnd_addr(), rnd_len(), (uint16_t)(rnd() & 7),
                     (uint16_t)(rnd() % 20));
        }
        for (unsigned s = 0; s < 4; s++)
            put_header(&e, s, (uint32_t)(rnd() % 16), rnd() % 16 ? rnd() % 8192 : rnd());
        unsigned n = 1 + (unsigned)(rnd() % 4);
        for (unsigned k = 0; k < n; k++)
            publish(&e, (uint16_t)(rnd() % 18));
        if (rnd() % 16 == 0)
            st16(gp(&e, Q_AVAIL + 2), (uint16_t)rnd());
        kick(&e);
        virtio_blk_drain(e.blk);
        if (broken(&e)) {
            broken_count++;
            REQUIRE(driver_start(&e, ALL_FEATURES, 16));
        } else {
            completed++;
        }
    }
    CHECK(broken_count > 0);
    CHECK(completed > 0);
    /* Still a working disk. */
    REQUIRE(driver_start(&e, ALL_FEATURES, 16));
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    env_free(&e);
}

/* Random register writes on every interface (common config, notify, device
 * config, legacy I/O, MSI-X table, PCI config) mixed with random rings. */
TEST(random_registers)
{
    Env e;
    fixture_msi = true;
    bool ok = env_init(&e);
    fixture_msi = false;
    REQUIRE(ok);
    pci_config_write(e.dev, PCI_BAR0, 0xc000, 4);
    pci_config_write(e.dev, PCI_BAR0 + 4, 0xfebf0000, 4);
    REQUIRE(driver_start(&e, ALL_FEATURES, 16));
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    for (int i = 0; i < 4000; i++) {
        uint64_t v = rnd() % 4 ? rnd() % 64 : rnd();
        unsigned size = sizes[rnd() % 4];
        switch (rnd() % 9) {
        case 0: case 1:
            common_wr(&e, (unsigned)(rnd() % 0x40), v, size);
            break;
        case 2:
            wr(&e, e.notify + (uint32_t)(rnd() % 16), v, size);
            break;
        case 3:
            wr(&e, e.device + (uint32_t)(rnd() % 0x50), v, size);
            break;
        case 4:
            as_write(e.io, 0xc000 + rnd() % 0x80, v, size > 4 ? 4 : size);
            break;
        case 5:
            as_write(e.mem, 0xfebf0000 + rnd() % 0x1000, v, size > 4 ? 4 : size);
            break;
        case 6: {
            /* capability area only: BARs and command keep their values */
            unsigned off = 0x40 + (unsigned)(rnd() % 0xc0);
            pci_config_write(e.dev, off, (uint32_t)v, size > 4 ? 4 : size);
            (void)pci_config_read(e.dev, off, size > 4 ? 4 : size);
            break;
        }
        case 7:
            for (unsigned k = 0; k < 4; k++)
                put_desc(&e, Q_DESC, (unsigned)(rnd() % 16), rnd_addr(), rnd_len(),
                         (uint16_t)(rnd() & 7), (uint16_t)(rnd() % 20));
            publish(&e, (uint16_t)(rnd() % 18));
            kick(&e);
            break;
        default:
            (void)rd(&e, (uint32_t)(rnd() % 0x4000), size > 4 ? 4 : size);
            (void)as_read(e.io, 0xc000 + rnd() % 0x80, 1);
            if (rnd() % 4 == 0)
                virtio_blk_drain(e.blk);
            break;
        }
    }
    virtio_blk_drain(e.blk);
    /* A fresh bring-up still works. */
    pci_config_write(e.dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    pci_enable(&e);
    REQUIRE(driver_start(&e, ALL_FEATURES, 16));
    CHECK_EQ(do_request(&e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    env_free(&e);
}
