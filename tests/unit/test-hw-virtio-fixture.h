/* A small machine for the virtio tests: RAM, the i440FX PCI bus, one
 * virtio-blk PCI function over an image in the test's scratch directory,
 * and a tiny driver: it finds the virtio capabilities, negotiates features
 * through the common configuration, lays out split virtqueues in guest RAM
 * and submits requests. Block completions are pumped with blk_aio_drain(). */
#ifndef TESTS_UNIT_TEST_HW_VIRTIO_FIXTURE_H
#define TESTS_UNIT_TEST_HW_VIRTIO_FIXTURE_H

#include "tests/unit/harness.h"
#include "hw/i440fx.h"
#include "hw/virtio-blk.h"
#include "hw/virtio-pci.h"
#include "hw/virtio-ring.h"
#include "hw/virtio.h"
#include "system/util.h"

#include <stdlib.h>
#include <string.h>

#define RAM_SIZE    (8 * MiB)
#define BAR_ADDR    0x2000000000ULL     /* above 4 GiB: a 64-bit BAR */
#define DISK_SIZE   (4 * MiB)

/* Guest RAM layout used by the driver. */
#define Q_DESC      0x10000
#define Q_AVAIL     0x18000
#define Q_USED      0x20000
#define INDIRECT    0x30000
#define HEADERS     0x40000     /* 32 bytes per request slot */
#define STATUS      0x48000     /* 1 byte per request slot (16 apart) */
#define DATA        0x100000

typedef struct Env {
    AddressSpace *mem, *io;
    uint8_t *ram;
    I440fxState *pci;
    BlockDev *bs;
    VirtioBlk *blk;
    PCIDevice *dev;
    uint32_t common, isr, device, notify, notify_mult;   /* offsets in the BAR */
    int cfg_cap;
    /* the driver's queue 0 */
    uint16_t qsize;
    uint16_t avail_idx;
} Env;

static inline BlockDev *make_image(const char *name, const char *fmt, uint64_t size, bool read_only)
{
    char err[BLK_ERR_LEN];
    char *p = xasprintf("%s/%s", test_tmpdir(), name);
    BlockCreateOpts o = { .format = fmt, .size = size };
    BlockDev *bs = NULL;
    if (blk_create(p, &o, err, sizeof(err)) < 0)
        fprintf(stderr, "blk_create %s: %s\n", p, err);
    else if (!(bs = blk_open(p, fmt, read_only ? BLK_O_RDONLY : BLK_O_RDWR, err, sizeof(err))))
        fprintf(stderr, "blk_open %s: %s\n", p, err);
    free(p);
    return bs;
}

/* ---- guest memory ------------------------------------------------------------------ */

static inline uint8_t *gp(Env *e, uint64_t a) { return e->ram + a; }
static inline uint16_t g16(Env *e, uint64_t a) { return ld16(gp(e, a)); }
static inline uint32_t g32(Env *e, uint64_t a) { return ld32(gp(e, a)); }

/* ---- BAR access ------------------------------------------------------------------- */

static inline uint64_t rd(Env *e, uint32_t off, unsigned size) { return as_read(e->mem, BAR_ADDR + off, size); }
static inline void wr(Env *e, uint32_t off, uint64_t v, unsigned size) { as_write(e->mem, BAR_ADDR + off, v, size); }
static inline uint64_t common_rd(Env *e, unsigned f, unsigned size) { return rd(e, e->common + f, size); }
static inline void common_wr(Env *e, unsigned f, uint64_t v, unsigned size) { wr(e, e->common + f, v, size); }
static inline uint8_t status_of(Env *e) { return (uint8_t)common_rd(e, VIRTIO_PCI_COMMON_STATUS, 1); }
static inline uint8_t isr_read(Env *e) { return (uint8_t)rd(e, e->isr, 1); }
static inline uint64_t devcfg(Env *e, unsigned off, unsigned size) { return rd(e, e->device + off, size); }

/* Walk the capability list as a driver does. */
static inline void find_caps(Env *e)
{
    uint8_t at = (uint8_t)pci_config_read(e->dev, PCI_CAPABILITY_LIST, 1);
    for (int hops = 0; at && hops < 48; hops++) {
        if (pci_config_read(e->dev, at, 1) == PCI_CAP_ID_VNDR) {
            unsigned type = pci_config_read(e->dev, at + VIRTIO_PCI_CAP_CFG_TYPE, 1);
            uint32_t off = pci_config_read(e->dev, at + VIRTIO_PCI_CAP_OFFSET, 4);
            switch (type) {
            case VIRTIO_PCI_CAP_COMMON_CFG: e->common = off; break;
            case VIRTIO_PCI_CAP_ISR_CFG: e->isr = off; break;
            case VIRTIO_PCI_CAP_DEVICE_CFG: e->device = off; break;
            case VIRTIO_PCI_CAP_NOTIFY_CFG:
                e->notify = off;
                e->notify_mult = pci_config_read(e->dev, at + VIRTIO_PCI_NOTIFY_CAP_MULT, 4);
                break;
            case VIRTIO_PCI_CAP_PCI_CFG: e->cfg_cap = at; break;
            }
        }
        at = (uint8_t)pci_config_read(e->dev, at + 1, 1);
    }
}

static inline void pci_enable(Env *e)
{
    unsigned bar = PCI_BAR0 + 4 * VIRTIO_PCI_BAR;
    pci_config_write(e->dev, bar, (uint32_t)BAR_ADDR, 4);
    pci_config_write(e->dev, bar + 4, (uint32_t)(BAR_ADDR >> 32), 4);
    pci_config_write(e->dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

/* MSI messages the device sent (when a test gives the bus an MSI hook). */
static struct { uint64_t addr; uint32_t data; } msi_log[64];
static int msi_count;
static bool fixture_msi;

static void record_msi(void *opaque, uint64_t addr, uint32_t data)
{
    (void)opaque;
    if (msi_count < (int)ARRAY_SIZE(msi_log))
        msi_log[msi_count] = (typeof(msi_log[0])){ addr, data };
    msi_count++;
}

static inline bool env_init_opts(Env *e, const char *fmt, bool read_only, const VirtioBlkOptions *o)
{
    memset(e, 0, sizeof(*e));
    e->mem = address_space_new("memory", 1ULL << 40);
    e->io = address_space_new("io", 0x10000);
    e->ram = xzalloc(RAM_SIZE);
    as_add_ram(e->mem, "ram", 0, RAM_SIZE, e->ram, 0);
    e->pci = i440fx_create(e->mem, e->io, NULL, NULL);
    if (fixture_msi)
        e->pci->bus->msi = record_msi;
    msi_count = 0;
    static int n;
    char name[32];
    snprintf(name, sizeof(name), "disk%d.img", n++);
    e->bs = make_image(name, fmt, DISK_SIZE, false);
    if (!e->bs)
        return false;
    if (read_only) {
        blk_close(e->bs);
        char err[BLK_ERR_LEN];
        char *p = xasprintf("%s/%s", test_tmpdir(), name);
        e->bs = blk_open(p, fmt, BLK_O_RDONLY, err, sizeof(err));
        free(p);
        if (!e->bs)
            return false;
    }
    char err[256];
    e->blk = virtio_blk_pci_create(e->pci->bus, -1, e->bs, o, err, sizeof(err));
    if (!e->blk) {
        fprintf(stderr, "%s\n", err);
        return false;
    }
    e->dev = virtio_blk_pci_device(e->blk);
    find_caps(e);
    pci_enable(e);
    return true;
}

static inline bool env_init(Env *e)
{
    return env_init_opts(e, "raw", false, NULL);
}

static inline void env_free(Env *e)
{
    if (e->blk)
        virtio_blk_drain(e->blk);
    /* The device stays on its (leaked) bus; only the disk is closed. */
    if (e->bs)
        blk_close(e->bs);
}

/* ---- the driver -------------------------------------------------------------------- */

static inline uint64_t device_features(Env *e)
{
    common_wr(e, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
    uint64_t lo = common_rd(e, VIRTIO_PCI_COMMON_DF, 4);
    common_wr(e, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
    uint64_t hi = common_rd(e, VIRTIO_PCI_COMMON_DF, 4);
    return lo | hi << 32;
}

/* Reset, acknowledge, accept features (those offered among want);
 * returns the status after FEATURES_OK. */
static inline uint8_t negotiate(Env *e, uint64_t want)
{
    common_wr(e, VIRTIO_PCI_COMMON_STATUS, 0, 1);
    common_wr(e, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
    common_wr(e, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
    uint64_t f = device_features(e) & want;
    common_wr(e, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
    common_wr(e, VIRTIO_PCI_COMMON_GF, (uint32_t)f, 4);
    common_wr(e, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    common_wr(e, VIRTIO_PCI_COMMON_GF, (uint32_t)(f >> 32), 4);
    common_wr(e, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
              VIRTIO_STATUS_FEATURES_OK, 1);
    return status_of(e);
}

/* Queue 0 at the fixed layout, zeroed; size 0: keep the device's. */
static inline void setup_queue_at(Env *e, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
    common_wr(e, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    if (size)
        common_wr(e, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
    e->qsize = (uint16_t)common_rd(e, VIRTIO_PCI_COMMON_Q_SIZE, 2);
    memset(gp(e, Q_DESC), 0, Q_AVAIL - Q_DESC);
    memset(gp(e, Q_AVAIL), 0, Q_USED - Q_AVAIL);
    memset(gp(e, Q_USED), 0, INDIRECT - Q_USED);
    common_wr(e, VIRTIO_PCI_COMMON_Q_DESC, desc, 8);    /* split in two dwords */
    common_wr(e, VIRTIO_PCI_COMMON_Q_AVAIL, avail, 8);
    common_wr(e, VIRTIO_PCI_COMMON_Q_USED, used, 8);
    common_wr(e, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
    e->avail_idx = 0;
}

static inline void driver_ok(Env *e)
{
    common_wr(e, VIRTIO_PCI_COMMON_STATUS, status_of(e) | VIRTIO_STATUS_DRIVER_OK, 1);
}

#define BASE_FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_FLUSH) | \
                       (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES) | \
                       (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE))

/* The whole bring-up with the given features and queue size. */
static inline bool driver_start(Env *e, uint64_t features, uint16_t qsize)
{
    if (!(negotiate(e, features) & VIRTIO_STATUS_FEATURES_OK))
        return false;
    setup_queue_at(e, qsize, Q_DESC, Q_AVAIL, Q_USED);
    driver_ok(e);
    return common_rd(e, VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1;
}

static inline void put_desc(Env *e, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    uint8_t *d = gp(e, table + 16ULL * i);
    st64(d, addr);
    st32(d + 8, len);
    st16(d + 12, flags);
    st16(d + 14, next);
}

typedef struct Buf {
    uint64_t addr;
    uint32_t len;
    bool write;             /* device-writable */
} Buf;

/* A chain of n descriptors in table from index first on (consecutive). */
static inline void put_chain(Env *e, uint64_t table, unsigned first, const Buf *b, int n)
{
    for (int i = 0; i < n; i++)
        put_desc(e, table, first + (unsigned)i, b[i].addr, b[i].len,
                 (uint16_t)((b[i].write ? VIRTQ_DESC_F_WRITE : 0) |
                            (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
                 (uint16_t)(first + (unsigned)i + 1));
}

/* Make head available and notify queue 0. */
static inline void publish(Env *e, uint16_t head)
{
    st16(gp(e, Q_AVAIL + 4 + 2ULL * (e->avail_idx % e->qsize)), head);
    e->avail_idx++;
    st16(gp(e, Q_AVAIL + 2), e->avail_idx);
}

static inline void kick(Env *e)
{
    wr(e, e->notify + 0 * e->notify_mult, 0, 2);
}

static inline uint16_t used_idx(Env *e) { return g16(e, Q_USED + 2); }
static inline uint32_t used_id(Env *e, uint16_t i) { return g32(e, Q_USED + 4 + 8ULL * (i % e->qsize)); }
static inline uint32_t used_len(Env *e, uint16_t i) { return g32(e, Q_USED + 8 + 8ULL * (i % e->qsize)); }

static inline void put_header(Env *e, unsigned slot, uint32_t type, uint64_t sector)
{
    uint8_t *h = gp(e, HEADERS + 32ULL * slot);
    st32(h, type);
    st32(h + 4, 0);
    st64(h + 8, sector);
}

static inline uint64_t hdr_addr(unsigned slot) { return HEADERS + 32ULL * slot; }
static inline uint64_t status_addr(unsigned slot) { return STATUS + 16ULL * slot; }

/* A request in slot (descriptors 3*slot..3*slot+2): header, data, status. */
static inline uint16_t queue_request(Env *e, unsigned slot, uint32_t type, uint64_t sector,
                              uint64_t data, uint32_t len, bool data_in)
{
    put_header(e, slot, type, sector);
    *gp(e, status_addr(slot)) = 0xee;
    Buf b[3] = { { hdr_addr(slot), 16, false }, { data, len, data_in },
                 { status_addr(slot), 1, true } };
    uint16_t head = (uint16_t)(3 * slot);
    if (len)
        put_chain(e, Q_DESC, head, b, 3);
    else {
        b[1] = b[2];
        put_chain(e, Q_DESC, head, b, 2);
    }
    publish(e, head);
    return head;
}

/* Submit one request, wait for it; returns its status byte (0xee: none written). */
static inline uint8_t do_request(Env *e, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
                          bool data_in)
{
    queue_request(e, 0, type, sector, data, len, data_in);
    kick(e);
    virtio_blk_drain(e->blk);
    return *gp(e, status_addr(0));
}

static inline bool broken(Env *e)
{
    return status_of(e) & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
}

#endif
