/* virtio-blk: requests from the virtqueues to the block layer.
 *
 * A request is a descriptor chain whose readable part starts with the
 * 16-byte header { le32 type; le32 reserved; le64 sector } and whose
 * writable part ends with the status byte; the data lies between them
 * (VIRTIO_F_VERSION_1 implies any framing, so no descriptor boundaries are
 * assumed). A request we cannot even answer (no status byte) breaks the
 * device; anything else wrong gets IOERR or UNSUPP in its status byte. */
#include "hw/virtio-blk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "hw/drives.h"
#include "hw/virtio-pci.h"
#include "hw/virtio-ring.h"
#include "hw/virtio.h"
#include "system/log.h"
#include "system/mainloop.h"
#include "system/util.h"

#define SECTOR_SIZE          512
#define HEADER_SIZE          16
#define SEGMENT_SIZE         16     /* discard / write-zeroes range */
#define DEFAULT_QUEUE_SIZE   256
/* Each chain taken holds up to queue size + VIRTQ_MAX_INDIRECT segments
 * until it completes: bound what a guest can make us allocate. */
#define MAX_QUEUE_SIZE       1024
#define MAX_RANGE_SEGS       32     /* max_discard_seg, max_write_zeroes_seg */
#define MAX_RANGE_SECTORS    (1u << 22)   /* 2 GiB per discard/write-zeroes range */
#define CLASS_STORAGE_SCSI   0x010000

typedef struct BlkReq BlkReq;

/* A queue whose processing continues from the main loop. */
typedef struct QueueKick {
    VirtioBlk *s;
    int index;
    bool scheduled;
} QueueKick;

struct VirtioBlk {
    VirtioDevice vdev;
    VirtioPCI *transport;
    BlockDev *blk;
    bool read_only;
    bool writeback;             /* write cache on: else every write is flushed */
    uint64_t capacity;          /* in sectors */
    char serial[VIRTIO_BLK_ID_BYTES];
    BlkReq *inflight;           /* requests waiting for the block layer */
    unsigned nr_inflight;
    QueueKick *kicks;           /* one per queue */
};

struct BlkReq {
    VirtioBlk *s;
    VirtqElem *elem;            /* NULL once orphaned by a device reset */
    uint32_t type;
    uint64_t sector;
    uint64_t data_len;
    uint32_t used_len;          /* bytes reported written into the chain */
    int pending;                /* block requests not yet completed */
    int ret;                    /* first error */
    bool flushed;               /* write-through: the flush after it was sent */
    BlkReq *prev, *next;
};

/* ---- request bookkeeping ----------------------------------------------------------- */

static BlkReq *req_new(VirtioBlk *s, VirtqElem *elem)
{
    BlkReq *r = xzalloc(sizeof(*r));
    r->s = s;
    r->elem = elem;
    r->used_len = 1;            /* the status byte */
    r->next = s->inflight;
    if (s->inflight)
        s->inflight->prev = r;
    s->inflight = r;
    s->nr_inflight++;
    return r;
}

static void req_free(BlkReq *r)
{
    VirtioBlk *s = r->s;
    if (r->prev)
        r->prev->next = r->next;
    else if (s->inflight == r)
        s->inflight = r->next;
    if (r->next)
        r->next->prev = r->prev;
    s->nr_inflight--;
    vq_elem_free(r->elem);
    free(r);
}

/* Write the status byte, return the chain, interrupt if the driver wants. */
static void req_complete(BlkReq *r, uint8_t status)
{
    VirtioBlk *s = r->s;
    VirtqElem *e = r->elem;
    if (!e) {                   /* orphaned by a reset */
        req_free(r);
        return;
    }
    r->elem = NULL;
    VirtQueue *vq = e->vq;
    if (vq_elem_write(e, e->in_len - 1, &status, 1) < 0) {
        virtio_error(&s->vdev, "status byte of request %u not writable", e->head);
        vq_elem_free(e);
    } else if (vq_push(e, r->used_len)) {
        virtio_notify_queue(&s->vdev, vq);
    }
    req_free(r);
}

static void submit(BlkReq *r, BlockAioOp op, uint64_t offset, const struct iovec *iov,
                   int iovcnt, uint64_t len);

static void aio_done(void *opaque, int ret)
{
    BlkReq *r = opaque;
    if (ret < 0 && r->ret == 0)
        r->ret = ret;
    if (--r->pending > 0)
        return;
    /* Write-through: the data is stable before the driver hears of it. */
    if (r->ret == 0 && !r->flushed && !r->s->writeback && r->elem && r->type != VIRTIO_BLK_T_IN &&
        r->type != VIRTIO_BLK_T_GET_ID) {
        r->flushed = true;
        submit(r, BLK_AIO_FLUSH, 0, NULL, 0, 0);
        return;
    }
    if (r->elem && r->type == VIRTIO_BLK_T_IN)
        vq_elem_mark_written(r->elem, 0, r->data_len);
    if (r->ret < 0)
        LOG(LOG_GUEST_ERRORS, "virtio-blk: request type %u sector %" PRIu64 " failed: %s\n",
            r->type, r->sector, blk_last_error(r->s->blk));
    req_complete(r, r->ret < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

/* Queue one block request for r; a refusal completes it like a failure. */
static void submit(BlkReq *r, BlockAioOp op, uint64_t offset, const struct iovec *iov,
                   int iovcnt, uint64_t len)
{
    r->pending++;
    int ret = blk_aio_submit(r->s->blk, op, offset, iov, iovcnt, len, aio_done, r);
    if (ret < 0)
        aio_done(r, ret);
}

/* Whether [sector, sector + count) lies on the disk. */
static bool sectors_ok(VirtioBlk *s, uint64_t sector, uint64_t count)
{
    return sector <= s->capacity && count <= s->capacity - sector;
}

/* ---- request types ---------------------------------------------------------------- */

typedef uint8_t RequestFn(VirtioBlk *s, BlkReq *r);
/* Handlers return a status to complete with now, or REQ_QUEUED. */
#define REQ_QUEUED 0xff

static uint8_t do_rw(VirtioBlk *s, BlkReq *r)
{
    VirtqElem *e = r->elem;
    bool is_read = r->type == VIRTIO_BLK_T_IN;
    r->data_len = is_read ? e->in_len - 1 : e->out_len - HEADER_SIZE;
    if (!is_read && s->read_only)
        return VIRTIO_BLK_S_IOERR;
    if (r->data_len % SECTOR_SIZE || !sectors_ok(s, r->sector, r->data_len / SECTOR_SIZE)) {
        LOG(LOG_GUEST_ERRORS, "virtio-blk: %s of %" PRIu64 " bytes at sector %" PRIu64
            " outside the disk or not whole sectors\n", is_read ? "read" : "write",
            r->data_len, r->sector);
        return VIRTIO_BLK_S_IOERR;
    }
    if (r->data_len == 0)
        return VIRTIO_BLK_S_OK;
    struct iovec iov[VIRTQ_MAX_IOV];
    int n = vq_elem_map(e, is_read, is_read ? 0 : HEADER_SIZE, r->data_len, iov, VIRTQ_MAX_IOV);
    if (n < 0) {
        LOG(LOG_GUEST_ERRORS, "virtio-blk: request %u: data buffers not in guest RAM\n", e->head);
        return VIRTIO_BLK_S_IOERR;
    }
    if (is_read)
        r->used_len = (uint32_t)MIN(e->in_len, UINT32_MAX);
    submit(r, is_read ? BLK_AIO_READ : BLK_AIO_WRITE, r->sector * SECTOR_SIZE, iov, n, 0);
    return REQ_QUEUED;
}

static uint8_t do_flush(VirtioBlk *s, BlkReq *r)
{
    (void)s;
    submit(r, BLK_AIO_FLUSH, 0, NULL, 0, 0);
    return REQ_QUEUED;
}

static uint8_t do_get_id(VirtioBlk *s, BlkReq *r)
{
    VirtqElem *e = r->elem;
    uint64_t n = MIN(e->in_len - 1, (uint64_t)VIRTIO_BLK_ID_BYTES);
    if (vq_elem_write(e, 0, s->serial, n) < 0)
        return VIRTIO_BLK_S_IOERR;
    r->used_len = (uint32_t)n + 1;
    return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: an array of { le64 sector; le32 num_sectors; le32 flags }. */
static uint8_t do_ranges(VirtioBlk *s, BlkReq *r)
{
    VirtqElem *e = r->elem;
    bool zeroes = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
    uint64_t len = e->out_len - HEADER_SIZE;
    if (len == 0 || len % SEGMENT_SIZE)
        return VIRTIO_BLK_S_IOERR;
    if (len / SEGMENT_SIZE > MAX_RANGE_SEGS)
        return VIRTIO_BLK_S_UNSUPP;
    if (s->read_only)
        return VIRTIO_BLK_S_IOERR;
    unsigned nseg = (unsigned)(len / SEGMENT_SIZE);
    uint8_t segs[MAX_RANGE_SEGS][SEGMENT_SIZE];
    if (vq_elem_read(e, HEADER_SIZE, segs, len) < 0)
        return VIRTIO_BLK_S_IOERR;
    /* Check every range before touching the disk. */
    for (unsigned i = 0; i < nseg; i++) {
        uint64_t sector = ld64(segs[i]);
        uint32_t count = ld32(segs[i] + 8), flags = ld32(segs[i] + 12);
        if (flags & ~(uint32_t)(zeroes ? VIRTIO_BLK_WZ_UNMAP : 0))
            return VIRTIO_BLK_S_UNSUPP;
        if (count > MAX_RANGE_SECTORS || !sectors_ok(s, sector, count))
            return VIRTIO_BLK_S_IOERR;
    }
    r->pending++;               /* hold completion until all are queued */
    for (unsigned i = 0; i < nseg; i++) {
        uint64_t sector = ld64(segs[i]);
        uint32_t count = ld32(segs[i] + 8);
        if (count)
            submit(r, zeroes ? BLK_AIO_WRITE_ZEROES : BLK_AIO_DISCARD, sector * SECTOR_SIZE,
                   NULL, 0, (uint64_t)count * SECTOR_SIZE);
    }
    aio_done(r, 0);
    return REQ_QUEUED;
}

static RequestFn *const request_fns[] = {
    [VIRTIO_BLK_T_IN] = do_rw,
    [VIRTIO_BLK_T_OUT] = do_rw,
    [VIRTIO_BLK_T_FLUSH] = do_flush,
    [VIRTIO_BLK_T_GET_ID] = do_get_id,
    [VIRTIO_BLK_T_DISCARD] = do_ranges,
    [VIRTIO_BLK_T_WRITE_ZEROES] = do_ranges,
};

static void handle_request(VirtioBlk *s, VirtqElem *e)
{
    if (e->in_len == 0) {
        virtio_error(&s->vdev, "request %u has no status byte", e->head);
        vq_elem_free(e);
        return;
    }
    BlkReq *r = req_new(s, e);
    uint8_t hdr[HEADER_SIZE];
    if (e->out_len < HEADER_SIZE || vq_elem_read(e, 0, hdr, HEADER_SIZE) < 0) {
        LOG(LOG_GUEST_ERRORS, "virtio-blk: request %u: header missing or not in RAM\n", e->head);
        req_complete(r, VIRTIO_BLK_S_IOERR);
        return;
    }
    r->type = ld32(hdr);
    r->sector = ld64(hdr + 8);
    RequestFn *fn = r->type < ARRAY_SIZE(request_fns) ? request_fns[r->type] : NULL;
    uint8_t status = fn ? fn(s, r) : VIRTIO_BLK_S_UNSUPP;
    if (status != REQ_QUEUED)
        req_complete(r, status);
}

/* ---- the virtio device -------------------------------------------------------------- */

static void process_queue(VirtioBlk *s, VirtQueue *vq);

static void deferred_kick(void *opaque)
{
    QueueKick *k = opaque;
    k->scheduled = false;
    process_queue(k->s, &k->s->vdev.vqs[k->index]);
}

/* Take at most one queue's worth of chains per call: requests that fail
 * at once free their slot at once, so a driver adding more from another
 * vCPU could otherwise keep this thread (and the machine lock) forever.
 * The rest waits for the next main loop iteration. */
static void process_queue(VirtioBlk *s, VirtQueue *vq)
{
    unsigned budget = vq->size;
    for (;;) {
        VirtqElem *e;
        int r = 0;
        while (budget && (r = vq_pop(vq, &e)) == 1) {
            handle_request(s, e);
            budget--;
        }
        if (r < 0)
            return;
        if (!budget) {
            QueueKick *k = &s->kicks[vq->index];
            if (!k->scheduled) {
                k->scheduled = true;
                main_loop_defer(deferred_kick, k);
            }
            return;
        }
        if (!vq_enable_notification(vq))
            return;
    }
}

static void blk_queue_notify(VirtioDevice *vdev, VirtQueue *vq)
{
    process_queue(container_of(vdev, VirtioBlk, vdev), vq);
}

static void blk_reset(VirtioDevice *vdev)
{
    VirtioBlk *s = container_of(vdev, VirtioBlk, vdev);
    if (!s->inflight)
        return;
    /* Completions of older requests must not reach the new rings, and the
     * guest's buffers must not change under it after the reset. */
    for (BlkReq *r = s->inflight; r; r = r->next) {
        vq_elem_free(r->elem);
        r->elem = NULL;
    }
    blk_aio_drain(s->blk);
}

/* Only the writeback byte (VIRTIO_BLK_F_CONFIG_WCE) is writable. */
static void blk_config_write(VirtioDevice *vdev, unsigned off, uint64_t val, unsigned len)
{
    VirtioBlk *s = container_of(vdev, VirtioBlk, vdev);
    if (off > VIRTIO_BLK_CFG_WRITEBACK || off + len <= VIRTIO_BLK_CFG_WRITEBACK ||
        !virtio_has_feature(vdev, VIRTIO_BLK_F_CONFIG_WCE)) {
        LOG(LOG_GUEST_ERRORS, "virtio-blk: write to read-only config 0x%x ignored\n", off);
        return;
    }
    s->writeback = (val >> (8 * (VIRTIO_BLK_CFG_WRITEBACK - off))) & 0xff;
    vdev->config[VIRTIO_BLK_CFG_WRITEBACK] = s->writeback;
}

static const VirtioDeviceClass virtio_blk_class = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .queue_notify = blk_queue_notify,
    .config_write = blk_config_write,
    .reset = blk_reset,
};

static void fill_config(VirtioBlk *s, unsigned queue_size, int num_queues)
{
    uint8_t *c = s->vdev.config;
    st64(c + VIRTIO_BLK_CFG_CAPACITY, s->capacity);
    st32(c + VIRTIO_BLK_CFG_SEG_MAX, queue_size - 2);
    st32(c + VIRTIO_BLK_CFG_BLK_SIZE, SECTOR_SIZE);
    st16(c + VIRTIO_BLK_CFG_MIN_IO_SIZE, 1);
    c[VIRTIO_BLK_CFG_WRITEBACK] = s->writeback;
    st16(c + VIRTIO_BLK_CFG_NUM_QUEUES, (uint16_t)num_queues);
    /* Discard frees whole clusters only: tell the guest their size. */
    BlockInfo info;
    uint32_t align = 8;
    if (blk_get_info(s->blk, &info) == 0) {
        if (info.cluster_size >= SECTOR_SIZE)
            align = info.cluster_size / SECTOR_SIZE;
        blk_info_free(&info);
    }
    st32(c + VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, MAX_RANGE_SECTORS);
    st32(c + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, MAX_RANGE_SEGS);
    st32(c + VIRTIO_BLK_CFG_DISCARD_ALIGN, align);
    st32(c + VIRTIO_BLK_CFG_MAX_WZ_SECTORS, MAX_RANGE_SECTORS);
    st32(c + VIRTIO_BLK_CFG_MAX_WZ_SEG, MAX_RANGE_SEGS);
    c[VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 1;
}

static uint64_t features_for(const VirtioBlk *s, int num_queues)
{
    uint64_t f = (1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX) |
                 (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
                 (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_TOPOLOGY) |
                 (1ULL << VIRTIO_BLK_F_CONFIG_WCE);
    if (s->read_only)
        f |= 1ULL << VIRTIO_BLK_F_RO;
    else
        f |= (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
    if (num_queues > 1)
        f |= 1ULL << VIRTIO_BLK_F_MQ;
    return f;
}

VirtioBlk *virtio_blk_pci_create(PCIBus *bus, int devfn, BlockDev *blk,
                                 const VirtioBlkOptions *opts, char *err, size_t errlen)
{
    VirtioBlkOptions none = { 0 };
    if (!opts)
        opts = &none;
    int num_queues = opts->num_queues ? opts->num_queues : 1;
    unsigned queue_size = opts->queue_size ? opts->queue_size : DEFAULT_QUEUE_SIZE;
    if (num_queues < 1 || num_queues > 64) {
        snprintf(err, errlen, "virtio-blk: num-queues must be 1 to 64");
        return NULL;
    }
    if (queue_size < 4 || queue_size > MAX_QUEUE_SIZE || (queue_size & (queue_size - 1))) {
        snprintf(err, errlen, "virtio-blk: queue-size must be a power of two from 4 to %u",
                 MAX_QUEUE_SIZE);
        return NULL;
    }
    int64_t len = blk_getlength(blk);
    if (len < 0) {
        snprintf(err, errlen, "virtio-blk: %s: %s", blk_filename(blk), blk_last_error(blk));
        return NULL;
    }
    VirtioBlk *s = xzalloc(sizeof(*s));
    s->blk = blk;
    s->read_only = opts->read_only || blk_is_read_only(blk);
    s->capacity = (uint64_t)len / SECTOR_SIZE;
    s->writeback = !opts->writethrough;
    if (opts->serial)   /* zero-padded, not necessarily terminated */
        memcpy(s->serial, opts->serial, MIN(strlen(opts->serial), sizeof(s->serial)));
    virtio_device_init(&s->vdev, &virtio_blk_class, features_for(s, num_queues), num_queues,
                       queue_size, VIRTIO_BLK_CFG_SIZE);
    fill_config(s, queue_size, num_queues);
    s->kicks = xzalloc(sizeof(*s->kicks) * (size_t)num_queues);
    for (int i = 0; i < num_queues; i++)
        s->kicks[i] = (QueueKick){ s, i, false };
    s->transport = virtio_pci_create(bus, devfn, &s->vdev, CLASS_STORAGE_SCSI,
                                     opts->modern_only ? 0 : VIRTIO_PCI_LEGACY_BLK_ID);
    if (!s->transport) {
        snprintf(err, errlen, "virtio-blk: no free PCI slot%s", devfn >= 0 ? " at that address" : "");
        free(s->vdev.config);
        free(s->vdev.vqs);
        free(s->kicks);
        free(s);
        return NULL;
    }
    return s;
}

int virtio_blk_attach_drives(PCIBus *bus, char *err, size_t errlen)
{
    for (int n = 0;; n++) {
        Drive *d = drive_nth("virtio", n);
        if (!d)
            break;
        if (d->cdrom) {
            snprintf(err, errlen, "virtio-blk: %s: media=cdrom is not supported on if=virtio",
                     d->cfg->file);
            return -1;
        }
        const char *cache = d->cfg->cache;
        VirtioBlkOptions o = {
            .read_only = d->cfg->readonly,
            .writethrough = cache && (!strcmp(cache, "writethrough") || !strcmp(cache, "directsync")),
        };
        if (!virtio_blk_pci_create(bus, -1, d->blk, &o, err, errlen))
            return -1;
        d->claimed = true;
    }
    return 0;
}

PCIDevice *virtio_blk_pci_device(VirtioBlk *s)
{
    return virtio_pci_device(s->transport);
}

void virtio_blk_drain(VirtioBlk *s)
{
    blk_aio_drain(s->blk);
}

unsigned virtio_blk_inflight(VirtioBlk *s)
{
    return s->nr_inflight;
}
