/* The virtio PCI transport (modern interface): the capability list, the
 * common configuration structure (a table of fields), the ISR, the
 * notification area, the device configuration window, and the
 * PCI-configuration access capability. */
#include "hw/virtio-pci.h"

#include <stdlib.h>
#include "hw/virtio-pci-internal.h"
#include "hw/virtio-ring.h"
#include "system/log.h"
#include "system/machine.h"
#include "system/util.h"


/* ---- the common configuration structure ----------------------------------------- */

static VirtQueue *selected_queue(VirtioPCI *p)
{
    VirtioDevice *vdev = p->vdev;
    return p->queue_select < vdev->num_queues ? &vdev->vqs[p->queue_select] : NULL;
}

typedef struct CommonField {
    uint8_t off, width;
    uint64_t (*get)(VirtioPCI *p);
    void (*set)(VirtioPCI *p, uint64_t v);      /* NULL: read-only */
} CommonField;

static uint64_t get_dfselect(VirtioPCI *p) { return p->dfselect; }
static void set_dfselect(VirtioPCI *p, uint64_t v) { p->dfselect = (uint32_t)v; }
static uint64_t get_df(VirtioPCI *p) { return virtio_read_device_features(p->vdev, p->dfselect); }
static uint64_t get_gfselect(VirtioPCI *p) { return p->gfselect; }
static void set_gfselect(VirtioPCI *p, uint64_t v) { p->gfselect = (uint32_t)v; }
static uint64_t get_gf(VirtioPCI *p) { return virtio_read_driver_features(p->vdev, p->gfselect); }
static void set_gf(VirtioPCI *p, uint64_t v) { virtio_write_driver_features(p->vdev, p->gfselect, (uint32_t)v); }
/* A vector the function does not have reads back as NO_VECTOR: that is
 * how the driver learns the assignment failed. */
static uint16_t checked_vector(VirtioPCI *p, uint64_t v)
{
    return p->msix.cap >= 0 && v < p->msix.nvectors ? (uint16_t)v : VIRTIO_NO_VECTOR;
}

static uint64_t get_config_vector(VirtioPCI *p) { return p->vdev->config_vector; }
static void set_config_vector(VirtioPCI *p, uint64_t v) { p->vdev->config_vector = checked_vector(p, v); }

static uint64_t get_queue_vector(VirtioPCI *p)
{
    VirtQueue *vq = selected_queue(p);
    return vq ? vq->msix_vector : VIRTIO_NO_VECTOR;
}

static void set_queue_vector(VirtioPCI *p, uint64_t v)
{
    VirtQueue *vq = selected_queue(p);
    if (vq)
        vq->msix_vector = checked_vector(p, v);
}
static uint64_t get_numq(VirtioPCI *p) { return (uint64_t)p->vdev->num_queues; }
static uint64_t get_status(VirtioPCI *p) { return p->vdev->status; }
static void set_status(VirtioPCI *p, uint64_t v) { virtio_set_status(p->vdev, (uint8_t)v); }
static uint64_t get_generation(VirtioPCI *p) { return p->vdev->config_generation; }
static uint64_t get_qselect(VirtioPCI *p) { return p->queue_select; }
static void set_qselect(VirtioPCI *p, uint64_t v) { p->queue_select = (uint16_t)v; }
static uint64_t get_zero(VirtioPCI *p) { (void)p; return 0; }

static uint64_t get_qsize(VirtioPCI *p)
{
    VirtQueue *vq = selected_queue(p);
    return vq ? vq->size : 0;
}

static uint64_t get_qenable(VirtioPCI *p)
{
    VirtQueue *vq = selected_queue(p);
    return vq ? vq->enabled : 0;
}

static uint64_t get_qnoff(VirtioPCI *p)
{
    VirtQueue *vq = selected_queue(p);
    return vq ? (uint64_t)vq->index : 0;
}

static uint64_t get_qdesc(VirtioPCI *p) { VirtQueue *vq = selected_queue(p); return vq ? vq->desc : 0; }
static uint64_t get_qavail(VirtioPCI *p) { VirtQueue *vq = selected_queue(p); return vq ? vq->avail : 0; }
static uint64_t get_qused(VirtioPCI *p) { VirtQueue *vq = selected_queue(p); return vq ? vq->used : 0; }

/* The queue's configuration may change only while it is disabled. */
static VirtQueue *writable_queue(VirtioPCI *p, const char *what)
{
    VirtQueue *vq = selected_queue(p);
    if (!vq || vq->enabled) {
        LOG(LOG_GUEST_ERRORS, "%s: %s write to %s queue %u ignored\n", p->pci->name, what,
            vq ? "an enabled" : "a missing", p->queue_select);
        return NULL;
    }
    return vq;
}

static void set_qsize(VirtioPCI *p, uint64_t v)
{
    VirtQueue *vq = writable_queue(p, "queue_size");
    if (vq)
        vq->size = (uint16_t)v;     /* checked when the queue is enabled */
}

static void set_qenable(VirtioPCI *p, uint64_t v)
{
    VirtQueue *vq = writable_queue(p, "queue_enable");
    if (vq && (v & 1))
        vq_enable(vq);
}

static void set_qdesc(VirtioPCI *p, uint64_t v) { VirtQueue *vq = writable_queue(p, "queue_desc"); if (vq) vq->desc = v; }
static void set_qavail(VirtioPCI *p, uint64_t v) { VirtQueue *vq = writable_queue(p, "queue_driver"); if (vq) vq->avail = v; }
static void set_qused(VirtioPCI *p, uint64_t v) { VirtQueue *vq = writable_queue(p, "queue_device"); if (vq) vq->used = v; }

static const CommonField common_fields[] = {
    { VIRTIO_PCI_COMMON_DFSELECT,      4, get_dfselect,   set_dfselect },
    { VIRTIO_PCI_COMMON_DF,            4, get_df,         NULL },
    { VIRTIO_PCI_COMMON_GFSELECT,      4, get_gfselect,   set_gfselect },
    { VIRTIO_PCI_COMMON_GF,            4, get_gf,         set_gf },
    { VIRTIO_PCI_COMMON_MSIX,          2, get_config_vector, set_config_vector },
    { VIRTIO_PCI_COMMON_NUMQ,          2, get_numq,       NULL },
    { VIRTIO_PCI_COMMON_STATUS,        1, get_status,     set_status },
    { VIRTIO_PCI_COMMON_CFGGENERATION, 1, get_generation, NULL },
    { VIRTIO_PCI_COMMON_Q_SELECT,      2, get_qselect,    set_qselect },
    { VIRTIO_PCI_COMMON_Q_SIZE,        2, get_qsize,      set_qsize },
    { VIRTIO_PCI_COMMON_Q_MSIX,        2, get_queue_vector, set_queue_vector },
    { VIRTIO_PCI_COMMON_Q_ENABLE,      2, get_qenable,    set_qenable },
    { VIRTIO_PCI_COMMON_Q_NOFF,        2, get_qnoff,      NULL },
    { VIRTIO_PCI_COMMON_Q_DESC,        8, get_qdesc,      set_qdesc },
    { VIRTIO_PCI_COMMON_Q_AVAIL,       8, get_qavail,     set_qavail },
    { VIRTIO_PCI_COMMON_Q_USED,        8, get_qused,      set_qused },
    { VIRTIO_PCI_COMMON_Q_NDATA,       2, get_zero,       NULL },
    { VIRTIO_PCI_COMMON_Q_RESET,       2, get_zero,       NULL },
};

static const CommonField *common_field_at(unsigned off)
{
    for (size_t i = 0; i < ARRAY_SIZE(common_fields); i++) {
        const CommonField *f = &common_fields[i];
        if (off >= f->off && off < f->off + f->width)
            return f;
    }
    return NULL;
}

/* Reads of any size and alignment: assemble the bytes. */
static uint64_t common_read(VirtioPCI *p, unsigned off, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        const CommonField *f = common_field_at(off + i);
        if (!f)
            continue;
        uint64_t fv = f->get(p);
        v |= ((fv >> (8 * (off + i - f->off))) & 0xff) << (8 * i);
    }
    return v;
}

/* Writes must cover a whole field, or one dword half of a 64-bit field. */
static void common_write(VirtioPCI *p, unsigned off, uint64_t val, unsigned size)
{
    const CommonField *f = common_field_at(off);
    if (!f || !f->set) {
        LOG(LOG_GUEST_ERRORS, "%s: write to read-only common config 0x%x ignored\n",
            p->pci->name, off);
        return;
    }
    if (off == f->off && size == f->width) {
        f->set(p, val);
    } else if (f->width == 8 && size == 4 && (off - f->off) % 4 == 0) {
        unsigned shift = 8 * (off - f->off);
        uint64_t cur = f->get(p);
        f->set(p, (cur & ~(0xffffffffULL << shift)) | ((val & 0xffffffffULL) << shift));
    } else {
        LOG(LOG_GUEST_ERRORS, "%s: %u-byte write at common config 0x%x ignored\n",
            p->pci->name, size, off);
    }
}

/* ---- the other structures in the BAR --------------------------------------------- */

static uint64_t isr_read(VirtioPCI *p, unsigned off, unsigned size)
{
    (void)size;
    return off == 0 ? virtio_read_isr(p->vdev) : 0;
}

static uint64_t device_cfg_read(VirtioPCI *p, unsigned off, unsigned size)
{
    VirtioDevice *vdev = p->vdev;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        if (off + i < vdev->config_len)
            v |= (uint64_t)vdev->config[off + i] << (8 * i);
    return v;
}

static void device_cfg_write(VirtioPCI *p, unsigned off, uint64_t val, unsigned size)
{
    virtio_config_write(p->vdev, off, val, size);
}

static void notify_write(VirtioPCI *p, unsigned off, uint64_t val, unsigned size)
{
    (void)val;
    (void)size;
    VirtioDevice *vdev = p->vdev;
    unsigned q = off / VIRTIO_PCI_NOTIFY_MULTIPLIER;
    if (q >= (unsigned)vdev->num_queues) {
        LOG(LOG_GUEST_ERRORS, "%s: notification of missing queue %u\n", p->pci->name, q);
        return;
    }
    VirtQueue *vq = &vdev->vqs[q];
    if (vdev->broken || !vq->enabled)
        return;
    vdev->cls->queue_notify(vdev, vq);
}

static uint64_t bar_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtioPCI *p = opaque;
    unsigned off = (unsigned)addr & 0xfff;
    switch (addr >> 12) {
    case VIRTIO_PCI_COMMON_OFFSET >> 12:
        return off < VIRTIO_PCI_COMMON_SIZE ? common_read(p, off, size) : 0;
    case VIRTIO_PCI_ISR_OFFSET >> 12:
        return isr_read(p, off, size);
    case VIRTIO_PCI_DEVICE_OFFSET >> 12:
        return device_cfg_read(p, off, size);
    default:
        return 0;               /* the notification area reads as zero */
    }
}

static void bar_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VirtioPCI *p = opaque;
    unsigned off = (unsigned)addr & 0xfff;
    switch (addr >> 12) {
    case VIRTIO_PCI_COMMON_OFFSET >> 12:
        if (off < VIRTIO_PCI_COMMON_SIZE)
            common_write(p, off, val, size);
        break;
    case VIRTIO_PCI_DEVICE_OFFSET >> 12:
        device_cfg_write(p, off, val, size);
        break;
    case VIRTIO_PCI_NOTIFY_OFFSET >> 12:
        notify_write(p, off, val, size);
        break;
    default:
        break;                  /* the ISR is read-only */
    }
}

static const MemoryRegionOps bar_ops = { bar_read, bar_write, 1, 4 };

/* ---- capabilities ---------------------------------------------------------------- */

static int add_virtio_cap(PCIDevice *d, uint8_t type, uint8_t len, uint32_t offset, uint32_t length)
{
    int at = pci_add_capability(d, PCI_CAP_ID_VNDR, len);
    if (at < 0)
        return -1;
    d->config[at + VIRTIO_PCI_CAP_LEN] = len;
    d->config[at + VIRTIO_PCI_CAP_CFG_TYPE] = type;
    d->config[at + VIRTIO_PCI_CAP_BAR] = VIRTIO_PCI_BAR;
    st32(d->config + at + VIRTIO_PCI_CAP_OFFSET, offset);
    st32(d->config + at + VIRTIO_PCI_CAP_LENGTH, length);
    return at;
}

/* The PCI_CFG window: the driver sets bar/offset/length, then reading or
 * writing pci_cfg_data accesses the BAR there. */
static bool cfg_window(VirtioPCI *p, unsigned *off, unsigned *len)
{
    const uint8_t *c = p->pci->config + p->cfg_cap;
    *off = ld32(c + VIRTIO_PCI_CAP_OFFSET);
    *len = ld32(c + VIRTIO_PCI_CAP_LENGTH);
    return c[VIRTIO_PCI_CAP_BAR] == VIRTIO_PCI_BAR && (*len == 1 || *len == 2 || *len == 4) &&
           *off % *len == 0 && *off < VIRTIO_PCI_BAR_SIZE;
}

static bool touches_cfg_data(VirtioPCI *p, unsigned addr, unsigned len)
{
    unsigned data = (unsigned)p->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA;
    return addr < data + 4 && addr + len > data;
}

static uint32_t virtio_pci_config_read(PCIDevice *d, unsigned addr, unsigned len)
{
    VirtioPCI *p = d->opaque;
    unsigned off, wlen;
    if (touches_cfg_data(p, addr, len) && cfg_window(p, &off, &wlen)) {
        uint32_t v = (uint32_t)bar_read(p, off, wlen);
        st32(d->config + p->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA, v);
    }
    return pci_default_config_read(d, addr, len);
}

static void virtio_pci_config_write(PCIDevice *d, unsigned addr, uint32_t val, unsigned len)
{
    VirtioPCI *p = d->opaque;
    pci_default_config_write(d, addr, val, len);
    if (p->msix.cap >= 0) {
        virtio_msix_config_written(&p->msix, addr, len);
        p->vdev->update_irq(p->vdev);      /* INTx is off while MSI-X is on */
    }
    unsigned off, wlen;
    if (touches_cfg_data(p, addr, len) && cfg_window(p, &off, &wlen)) {
        uint32_t v = ld32(d->config + p->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA);
        bar_write(p, off, v & (uint32_t)size_mask(wlen), wlen);
    }
}

/* ---- the function ---------------------------------------------------------------- */

static void virtio_pci_update_irq(VirtioDevice *vdev)
{
    VirtioPCI *p = vdev->pci->opaque;
    pci_set_irq(vdev->pci, vdev->isr != 0 && !virtio_msix_enabled(&p->msix));
}

static bool virtio_pci_notify_vector(VirtioDevice *vdev, uint16_t vector)
{
    VirtioPCI *p = vdev->pci->opaque;
    if (!virtio_msix_enabled(&p->msix))
        return false;
    if (vector != VIRTIO_NO_VECTOR)
        virtio_msix_notify(&p->msix, vector);
    return true;
}

void virtio_pci_reset(VirtioPCI *p)
{
    virtio_reset(p->vdev);
    virtio_msix_reset(&p->msix);
    p->dfselect = p->gfselect = 0;
    p->queue_select = 0;
    pci_device_reset(p->pci);
    uint8_t *c = p->pci->config + p->cfg_cap;
    memset(c + VIRTIO_PCI_CAP_BAR, 0, 1);
    memset(c + VIRTIO_PCI_CAP_OFFSET, 0, 12);
}

static void machine_reset(void *opaque)
{
    virtio_pci_reset(opaque);
}

VirtioPCI *virtio_pci_create(PCIBus *bus, int devfn, VirtioDevice *vdev, uint32_t class_code,
                             uint16_t legacy_device_id)
{
    /* A transitional device has the legacy ID, revision 0, and its virtio
     * type in the subsystem ID; a modern-only one 0x1040 + type, revision 1. */
    bool transitional = legacy_device_id != 0;
    uint16_t device_id = transitional ? legacy_device_id
                                      : (uint16_t)(VIRTIO_PCI_DEVICE_ID_BASE + vdev->cls->device_id);
    PCIDevice *d = pci_device_new(bus, vdev->cls->name, devfn, VIRTIO_PCI_VENDOR_ID, device_id,
                                  class_code, transitional ? 0 : 1);
    if (!d)
        return NULL;
    VirtioPCI *p = xzalloc(sizeof(*p));
    p->pci = d;
    p->vdev = vdev;
    vdev->pci = d;
    vdev->update_irq = virtio_pci_update_irq;
    vdev->notify_vector = virtio_pci_notify_vector;
    d->opaque = p;
    st16(d->config + PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR_ID);
    st16(d->config + PCI_SUBSYSTEM_ID, transitional ? vdev->cls->device_id : VIRTIO_PCI_SUBSYS_ID);
    if (transitional)
        virtio_pci_legacy_init(p);
    pci_set_interrupt_pin(d, 1);
    pci_register_bar(d, VIRTIO_PCI_BAR, PCI_BAR_MEM64 | PCI_BAR_PREFETCH, VIRTIO_PCI_BAR_SIZE,
                     &bar_ops, p);

    add_virtio_cap(d, VIRTIO_PCI_CAP_COMMON_CFG, 16, VIRTIO_PCI_COMMON_OFFSET,
                   VIRTIO_PCI_COMMON_SIZE);
    add_virtio_cap(d, VIRTIO_PCI_CAP_ISR_CFG, 16, VIRTIO_PCI_ISR_OFFSET, 1);
    if (vdev->config_len)
        add_virtio_cap(d, VIRTIO_PCI_CAP_DEVICE_CFG, 16, VIRTIO_PCI_DEVICE_OFFSET,
                       vdev->config_len);
    int notify = add_virtio_cap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, 20, VIRTIO_PCI_NOTIFY_OFFSET,
                                (uint32_t)vdev->num_queues * VIRTIO_PCI_NOTIFY_MULTIPLIER);
    st32(d->config + notify + VIRTIO_PCI_NOTIFY_CAP_MULT, VIRTIO_PCI_NOTIFY_MULTIPLIER);
    p->cfg_cap = add_virtio_cap(d, VIRTIO_PCI_CAP_PCI_CFG, 20, 0, 0);
    d->config[p->cfg_cap + VIRTIO_PCI_CAP_BAR] = 0;
    d->wmask[p->cfg_cap + VIRTIO_PCI_CAP_BAR] = 0xff;
    memset(d->wmask + p->cfg_cap + VIRTIO_PCI_CAP_OFFSET, 0xff, 12);   /* offset, length, data */
    virtio_msix_init(&p->msix, d, VIRTIO_PCI_MSIX_BAR, (unsigned)vdev->num_queues + 1);
    d->config_read = virtio_pci_config_read;
    d->config_write = virtio_pci_config_write;

    machine_register_reset(machine_reset, p);
    virtio_pci_reset(p);
    return p;
}

PCIDevice *virtio_pci_device(VirtioPCI *p)
{
    return p->pci;
}
