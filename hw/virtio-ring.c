/* Split virtqueues, device side: take descriptor chains from the available
 * ring, return them through the used ring, notification suppression
 * (flags or VIRTIO_F_EVENT_IDX), and scatter-gather access to a chain's
 * buffers. Everything the guest wrote is read once and checked; any rule
 * broken in the ring structure marks the device broken (virtio_error). */
#include "hw/virtio-ring.h"

#include <stdlib.h>
#include "system/util.h"

/* Offsets inside the driver (available) and device (used) areas. */
#define AVAIL_IDX           2
#define AVAIL_RING          4
#define USED_IDX            2
#define USED_RING           4
#define USED_ELEM_SIZE      8

typedef struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
} Desc;

void vq_init(VirtQueue *vq, VirtioDevice *vdev, int index, uint16_t size_max)
{
    vq->vdev = vdev;
    vq->index = index;
    vq->size_max = size_max;
    vq_reset(vq);
}

void vq_reset(VirtQueue *vq)
{
    vq->size = vq->size_max;
    vq->enabled = false;
    vq->desc = vq->avail = vq->used = 0;
    vq->last_avail_idx = vq->used_idx = 0;
    vq->inflight = 0;
    vq->generation++;
    vq->msix_vector = VIRTIO_NO_VECTOR;
}

/* ---- guest memory ---------------------------------------------------------------- */

static AddressSpace *vq_as(const VirtQueue *vq)
{
    return vq->vdev->pci->bus->mem;
}

/* Whether [addr, addr+len) lies wholly in RAM (writable) or RAM/ROM. */
static bool range_in_ram(AddressSpace *as, uint64_t addr, uint64_t len, bool writable)
{
    if (addr + len < addr || addr + len > as->size)
        return false;
    while (len) {
        const FlatRange *fr = as_lookup_range(as, addr);
        if (!fr || !(fr->mr->kind == MR_RAM || (!writable && fr->mr->kind == MR_ROM)))
            return false;
        uint64_t n = MIN(len, fr->end - addr + 1);
        addr += n;
        len -= n;
    }
    return true;
}

static bool read_u16(VirtQueue *vq, uint64_t addr, uint16_t *v)
{
    uint8_t b[2];
    if (virtio_dma_read(vq->vdev, addr, b, 2) < 0)
        return false;
    *v = ld16(b);
    return true;
}

static bool write_u16(VirtQueue *vq, uint64_t addr, uint16_t v)
{
    uint8_t b[2];
    st16(b, v);
    return virtio_dma_write(vq->vdev, addr, b, 2) == 0;
}

static uint64_t used_event_addr(const VirtQueue *vq)
{
    return vq->avail + AVAIL_RING + 2ULL * vq->size;
}

static uint64_t avail_event_addr(const VirtQueue *vq)
{
    return vq->used + USED_RING + (uint64_t)USED_ELEM_SIZE * vq->size;
}

/* ---- enabling --------------------------------------------------------------------- */

bool vq_enable(VirtQueue *vq)
{
    VirtioDevice *vdev = vq->vdev;
    unsigned n = vq->size;
    if (n == 0 || n > vq->size_max || (n & (n - 1))) {
        virtio_error(vdev, "queue %d: size %u is not a power of two up to %u",
                     vq->index, n, vq->size_max);
        return false;
    }
    if ((vq->desc & 15) || (vq->avail & 1) || (vq->used & 3)) {
        virtio_error(vdev, "queue %d: misaligned areas (desc 0x%" PRIx64 ", driver 0x%" PRIx64
                     ", device 0x%" PRIx64 ")", vq->index, vq->desc, vq->avail, vq->used);
        return false;
    }
    AddressSpace *as = vq_as(vq);
    if (!range_in_ram(as, vq->desc, (uint64_t)VIRTQ_DESC_SIZE * n, false) ||
        !range_in_ram(as, vq->avail, AVAIL_RING + 2ULL * n + 2, false) ||
        !range_in_ram(as, vq->used, USED_RING + (uint64_t)USED_ELEM_SIZE * n + 2, true)) {
        virtio_error(vdev, "queue %d: areas outside guest RAM (desc 0x%" PRIx64 ", driver 0x%"
                     PRIx64 ", device 0x%" PRIx64 ")", vq->index, vq->desc, vq->avail, vq->used);
        return false;
    }
    vq->last_avail_idx = vq->used_idx = 0;
    vq->inflight = 0;
    vq->enabled = true;
    return true;
}

/* ---- taking chains ---------------------------------------------------------------- */

static bool read_desc(VirtQueue *vq, uint64_t addr, Desc *d)
{
    uint8_t b[VIRTQ_DESC_SIZE];
    if (virtio_dma_read(vq->vdev, addr, b, sizeof(b)) < 0)
        return false;
    d->addr = ld64(b);
    d->len = ld32(b + 8);
    d->flags = ld16(b + 12);
    d->next = ld16(b + 14);
    return true;
}

static void add_seg(VirtqElem *e, unsigned *cap, const Desc *d)
{
    unsigned n = e->n_out + e->n_in;
    if (n == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        e->out = xrealloc(e->out, sizeof(VirtqSeg) * *cap);
    }
    e->out[n] = (VirtqSeg){ d->addr, d->len };
    if (d->flags & VIRTQ_DESC_F_WRITE) {
        e->n_in++;
        e->in_len += d->len;
    } else {
        e->n_out++;
        e->out_len += d->len;
    }
}

/* Follow the chain starting at head into a new element; NULL after
 * virtio_error() when the chain breaks a rule. */
static VirtqElem *walk_chain(VirtQueue *vq, uint16_t head)
{
    VirtioDevice *vdev = vq->vdev;
    VirtqElem *e = xzalloc(sizeof(*e));
    e->vq = vq;
    e->head = head;
    e->generation = vq->generation;
    unsigned cap = 0;
    uint64_t table = vq->desc;
    unsigned table_n = vq->size, budget = vq->size, i = head;
    bool indirect = false;
    const char *why = NULL;
    for (;;) {
        Desc d;
        if (budget-- == 0) {
            why = "descriptor chain longer than its table (a loop?)";
            break;
        }
        if (!read_desc(vq, table + (uint64_t)VIRTQ_DESC_SIZE * i, &d)) {
            why = indirect ? "indirect table not in RAM" : "descriptor table not in RAM";
            break;
        }
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!virtio_has_feature(vdev, VIRTIO_F_INDIRECT_DESC))
                why = "indirect descriptor without VIRTIO_F_INDIRECT_DESC";
            else if (indirect)
                why = "indirect table inside an indirect table";
            else if (d.flags & VIRTQ_DESC_F_NEXT)
                why = "indirect descriptor with NEXT";
            else if (d.len == 0 || d.len % VIRTQ_DESC_SIZE ||
                     d.len / VIRTQ_DESC_SIZE > VIRTQ_MAX_INDIRECT)
                why = "indirect table of a bad length";
            if (why)
                break;
            table = d.addr;
            table_n = budget = d.len / VIRTQ_DESC_SIZE;
            i = 0;
            indirect = true;
            continue;
        }
        if (!(d.flags & VIRTQ_DESC_F_WRITE) && e->n_in) {
            why = "device-readable descriptor after a device-writable one";
            break;
        }
        add_seg(e, &cap, &d);
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        i = d.next;
        if (i >= table_n) {
            why = "next descriptor index out of range";
            break;
        }
    }
    if (why) {
        virtio_error(vdev, "queue %d, head %u: %s", vq->index, head, why);
        vq_elem_free(e);
        return NULL;
    }
    e->in = e->out + e->n_out;
    return e;
}

int vq_pop(VirtQueue *vq, VirtqElem **elem)
{
    VirtioDevice *vdev = vq->vdev;
    *elem = NULL;
    if (!vq->enabled || vdev->broken)
        return vdev->broken ? -1 : 0;
    uint16_t avail_idx, head;
    if (!read_u16(vq, vq->avail + AVAIL_IDX, &avail_idx)) {
        virtio_error(vdev, "queue %d: available ring unreadable", vq->index);
        return -1;
    }
    uint16_t pending = (uint16_t)(avail_idx - vq->last_avail_idx);
    if (pending == 0)
        return 0;
    if (pending > vq->size || vq->inflight >= vq->size) {
        virtio_error(vdev, "queue %d: more buffers available (%u, %u in flight) than the queue "
                     "size %u", vq->index, pending, vq->inflight, vq->size);
        return -1;
    }
    /* The ring entry is read after the index that published it. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint64_t slot = vq->avail + AVAIL_RING + 2ULL * (vq->last_avail_idx & (vq->size - 1));
    if (!read_u16(vq, slot, &head)) {
        virtio_error(vdev, "queue %d: available ring unreadable", vq->index);
        return -1;
    }
    if (head >= vq->size) {
        virtio_error(vdev, "queue %d: head descriptor %u out of range", vq->index, head);
        return -1;
    }
    VirtqElem *e = walk_chain(vq, head);
    if (!e)
        return -1;
    vq->last_avail_idx++;
    vq->inflight++;
    if (virtio_has_feature(vdev, VIRTIO_F_EVENT_IDX))
        write_u16(vq, avail_event_addr(vq), vq->last_avail_idx);
    *elem = e;
    return 1;
}

bool vq_enable_notification(VirtQueue *vq)
{
    if (!vq->enabled || vq->vdev->broken)
        return false;
    if (virtio_has_feature(vq->vdev, VIRTIO_F_EVENT_IDX))
        write_u16(vq, avail_event_addr(vq), vq->last_avail_idx);
    /* Our avail_event store must be visible before we look at idx again. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint16_t avail_idx;
    if (!read_u16(vq, vq->avail + AVAIL_IDX, &avail_idx))
        return false;
    return avail_idx != vq->last_avail_idx;
}

/* ---- returning chains ------------------------------------------------------------- */

void vq_elem_free(VirtqElem *elem)
{
    if (!elem)
        return;
    free(elem->out);
    free(elem);
}

/* Whether the driver asked for an interrupt for used entries old..new-1. */
static bool driver_wants_interrupt(VirtQueue *vq, uint16_t old, uint16_t new)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (virtio_has_feature(vq->vdev, VIRTIO_F_EVENT_IDX)) {
        uint16_t used_event;
        if (!read_u16(vq, used_event_addr(vq), &used_event))
            return true;
        return (uint16_t)(new - used_event - 1) < (uint16_t)(new - old);
    }
    uint16_t flags;
    if (!read_u16(vq, vq->avail, &flags))
        return true;
    return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

bool vq_push(VirtqElem *elem, uint32_t len)
{
    VirtQueue *vq = elem->vq;
    VirtioDevice *vdev = vq->vdev;
    uint16_t head = elem->head;
    bool stale = elem->generation != vq->generation;
    vq_elem_free(elem);
    if (stale || !vq->enabled || vdev->broken)
        return false;
    uint8_t entry[USED_ELEM_SIZE];
    st32(entry, head);
    st32(entry + 4, len);
    uint16_t old = vq->used_idx, new = (uint16_t)(old + 1);
    uint64_t slot = vq->used + USED_RING + (uint64_t)USED_ELEM_SIZE * (old & (vq->size - 1));
    if (virtio_dma_write(vdev, slot, entry, sizeof(entry)) < 0) {
        virtio_error(vdev, "queue %d: used ring not writable", vq->index);
        return false;
    }
    /* The entry is visible before the index that publishes it. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (!write_u16(vq, vq->used + USED_IDX, new)) {
        virtio_error(vdev, "queue %d: used ring not writable", vq->index);
        return false;
    }
    vq->used_idx = new;
    if (vq->inflight)
        vq->inflight--;
    return driver_wants_interrupt(vq, old, new);
}

/* ---- the chain's buffers ------------------------------------------------------------ */

/* Calls fn on each guest range covering [offset, offset+len) of a part;
 * -1 when the part is shorter or fn fails. */
typedef int SegFn(VirtqElem *e, uint64_t addr, uint64_t len, void *opaque);

static int for_each_range(VirtqElem *e, bool in, uint64_t offset, uint64_t len,
                          SegFn *fn, void *opaque)
{
    const VirtqSeg *seg = in ? e->in : e->out;
    unsigned n = in ? e->n_in : e->n_out;
    uint64_t total = in ? e->in_len : e->out_len;
    if (offset > total || len > total - offset)
        return -1;
    for (unsigned i = 0; i < n && len; i++) {
        if (offset >= seg[i].len) {
            offset -= seg[i].len;
            continue;
        }
        uint64_t chunk = MIN(len, seg[i].len - offset);
        if (fn(e, seg[i].addr + offset, chunk, opaque) < 0)
            return -1;
        offset = 0;
        len -= chunk;
    }
    return 0;
}

typedef struct CopyCursor {
    uint8_t *buf;
} CopyCursor;

static int copy_from_guest(VirtqElem *e, uint64_t addr, uint64_t len, void *opaque)
{
    CopyCursor *c = opaque;
    if (virtio_dma_read(e->vq->vdev, addr, c->buf, len) < 0)
        return -1;
    c->buf += len;
    return 0;
}

static int copy_to_guest(VirtqElem *e, uint64_t addr, uint64_t len, void *opaque)
{
    CopyCursor *c = opaque;
    if (virtio_dma_write(e->vq->vdev, addr, c->buf, len) < 0)
        return -1;
    c->buf += len;
    return 0;
}

int vq_elem_read(VirtqElem *elem, uint64_t offset, void *buf, uint64_t len)
{
    CopyCursor c = { buf };
    return for_each_range(elem, false, offset, len, copy_from_guest, &c);
}

int vq_elem_write(VirtqElem *elem, uint64_t offset, const void *buf, uint64_t len)
{
    CopyCursor c = { (uint8_t *)buf };
    return for_each_range(elem, true, offset, len, copy_to_guest, &c);
}

typedef struct MapCursor {
    struct iovec *iov;
    int n, max;
    bool is_write;
} MapCursor;

/* Host pointers for a guest range, split where the RAM regions split. */
static int map_range(VirtqElem *e, uint64_t addr, uint64_t len, void *opaque)
{
    MapCursor *m = opaque;
    AddressSpace *as = vq_as(e->vq);
    if (addr + len < addr || addr + len > as->size)
        return -1;
    while (len) {
        const FlatRange *fr = as_lookup_range(as, addr);
        if (!fr || !(fr->mr->kind == MR_RAM || (!m->is_write && fr->mr->kind == MR_ROM)))
            return -1;
        uint64_t n = MIN(len, fr->end - addr + 1);
        uint8_t *host = fr->mr->host + (addr - fr->mr->base);
        struct iovec *last = m->n ? &m->iov[m->n - 1] : NULL;
        if (last && (uint8_t *)last->iov_base + last->iov_len == host) {
            last->iov_len += n;
        } else {
            if (m->n == m->max)
                return -1;
            m->iov[m->n++] = (struct iovec){ host, n };
        }
        addr += n;
        len -= n;
    }
    return 0;
}

int vq_elem_map(VirtqElem *elem, bool is_write, uint64_t offset, uint64_t len,
                struct iovec *iov, int max_iov)
{
    if (!virtio_dma_allowed(elem->vq->vdev))
        return -1;
    MapCursor m = { iov, 0, max_iov, is_write };
    if (for_each_range(elem, is_write, offset, len, map_range, &m) < 0)
        return -1;
    return m.n;
}

static int notify_written(VirtqElem *e, uint64_t addr, uint64_t len, void *opaque)
{
    (void)e;
    (void)opaque;
    if (ram_write_notify)
        ram_write_notify(addr, len);
    return 0;
}

void vq_elem_mark_written(VirtqElem *elem, uint64_t offset, uint64_t len)
{
    for_each_range(elem, true, offset, len, notify_written, NULL);
}
