/* The legacy (virtio 0.9.5) register file of a transitional virtio PCI
 * device, in I/O BAR 0, for drivers that predate VIRTIO 1.0 (VIRTIO 1.2,
 * 4.1.4.10):
 *   0x00 le32 device features (bits 0-31)   0x04 le32 driver features
 *   0x08 le32 queue address (page number)   0x0c le16 queue size (read-only)
 *   0x0e le16 queue select                  0x10 le16 queue notify
 *   0x12 u8 device status                   0x13 u8 ISR (read clears)
 *   with MSI-X enabled: 0x14 le16 config vector, 0x16 le16 queue vector;
 *   then the device configuration (at 0x14, or 0x18 with MSI-X enabled).
 * A legacy queue has the device's fixed size and one contiguous layout:
 * descriptors at the page, the available ring right after them, the used
 * ring at the next 4096-byte boundary. */
#include "hw/virtio-pci-internal.h"

#include "hw/virtio-ring.h"
#include "system/log.h"
#include "system/util.h"

#define LEGACY_HOST_FEATURES  0x00
#define LEGACY_GUEST_FEATURES 0x04
#define LEGACY_QUEUE_PFN      0x08
#define LEGACY_QUEUE_NUM      0x0c
#define LEGACY_QUEUE_SEL      0x0e
#define LEGACY_QUEUE_NOTIFY   0x10
#define LEGACY_STATUS         0x12
#define LEGACY_ISR            0x13
#define LEGACY_CONFIG_VECTOR  0x14
#define LEGACY_QUEUE_VECTOR   0x16
#define LEGACY_PAGE_SHIFT     12
#define LEGACY_ALIGN          4096
#define VIRTIO_F_ANY_LAYOUT   27

static VirtQueue *legacy_queue(VirtioPCI *p)
{
    return p->queue_select < p->vdev->num_queues ? &p->vdev->vqs[p->queue_select] : NULL;
}

static unsigned config_offset(VirtioPCI *p)
{
    return virtio_msix_enabled(&p->msix) ? 0x18 : 0x14;
}

/* Legacy drivers see the low feature word only, never VERSION_1; any
 * descriptor layout is fine with us, so say so. */
static uint32_t legacy_features(VirtioPCI *p)
{
    return virtio_read_device_features(p->vdev, 0) | (1u << VIRTIO_F_ANY_LAYOUT);
}

static void set_queue_pfn(VirtioPCI *p, uint32_t pfn)
{
    VirtQueue *vq = legacy_queue(p);
    if (!vq)
        return;
    if (pfn == 0) {             /* the driver lets go of the queue */
        vq->enabled = false;
        vq->desc = vq->avail = vq->used = 0;
        return;
    }
    if (vq->enabled) {
        LOG(LOG_GUEST_ERRORS, "%s: legacy queue %u moved while in use\n", p->pci->name,
            p->queue_select);
        return;
    }
    uint64_t n = vq->size_max;
    vq->size = vq->size_max;
    vq->desc = (uint64_t)pfn << LEGACY_PAGE_SHIFT;
    vq->avail = vq->desc + VIRTQ_DESC_SIZE * n;
    vq->used = ALIGN_UP(vq->avail + 6 + 2 * n, (uint64_t)LEGACY_ALIGN);
    vq_enable(vq);
}

static void legacy_notify(VirtioPCI *p, unsigned q)
{
    VirtioDevice *vdev = p->vdev;
    if (q >= (unsigned)vdev->num_queues || vdev->broken || !vdev->vqs[q].enabled)
        return;
    vdev->cls->queue_notify(vdev, &vdev->vqs[q]);
}

static uint64_t vector_read(VirtioPCI *p, unsigned off)
{
    if (off == LEGACY_CONFIG_VECTOR)
        return p->vdev->config_vector;
    VirtQueue *vq = legacy_queue(p);
    return vq ? vq->msix_vector : VIRTIO_NO_VECTOR;
}

static void vector_write(VirtioPCI *p, unsigned off, uint16_t v)
{
    uint16_t checked = p->msix.cap >= 0 && v < p->msix.nvectors ? v : VIRTIO_NO_VECTOR;
    if (off == LEGACY_CONFIG_VECTOR) {
        p->vdev->config_vector = checked;
    } else {
        VirtQueue *vq = legacy_queue(p);
        if (vq)
            vq->msix_vector = checked;
    }
}

static uint64_t device_config_read(VirtioPCI *p, unsigned off, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        if (off + i < p->vdev->config_len)
            v |= (uint64_t)p->vdev->config[off + i] << (8 * i);
    return v;
}

static uint64_t legacy_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtioPCI *p = opaque;
    unsigned off = (unsigned)addr, cfg = config_offset(p);
    if (off >= cfg)
        return device_config_read(p, off - cfg, size);
    VirtQueue *vq = legacy_queue(p);
    switch (off) {
    case LEGACY_HOST_FEATURES: return legacy_features(p);
    case LEGACY_GUEST_FEATURES: return virtio_read_driver_features(p->vdev, 0);
    case LEGACY_QUEUE_PFN: return vq && vq->enabled ? vq->desc >> LEGACY_PAGE_SHIFT : 0;
    case LEGACY_QUEUE_NUM: return vq ? vq->size_max : 0;
    case LEGACY_QUEUE_SEL: return p->queue_select;
    case LEGACY_STATUS: return p->vdev->status;
    case LEGACY_ISR: return virtio_read_isr(p->vdev);
    case LEGACY_CONFIG_VECTOR: case LEGACY_QUEUE_VECTOR: return vector_read(p, off);
    default: return 0;          /* the middle of a register: not decoded */
    }
}

static void legacy_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VirtioPCI *p = opaque;
    unsigned off = (unsigned)addr;
    (void)size;
    unsigned cfg = config_offset(p);
    if (off >= cfg) {
        virtio_config_write(p->vdev, off - cfg, val, size);
        return;
    }
    switch (off) {
    case LEGACY_GUEST_FEATURES: virtio_write_driver_features(p->vdev, 0, (uint32_t)val); break;
    case LEGACY_QUEUE_PFN: set_queue_pfn(p, (uint32_t)val); break;
    case LEGACY_QUEUE_SEL: p->queue_select = (uint16_t)val; break;
    case LEGACY_QUEUE_NOTIFY: legacy_notify(p, (uint16_t)val); break;
    case LEGACY_STATUS: virtio_set_status(p->vdev, (uint8_t)val); break;
    case LEGACY_CONFIG_VECTOR: case LEGACY_QUEUE_VECTOR: vector_write(p, off, (uint16_t)val); break;
    default:
        LOG(LOG_GUEST_ERRORS, "%s: legacy write at 0x%x ignored\n", p->pci->name, off);
    }
}

/* Registers are accessed with their own width; the byte-wise config is
 * assembled by legacy_read. */
static const MemoryRegionOps legacy_ops = { legacy_read, legacy_write, 1, 4 };

void virtio_pci_legacy_init(VirtioPCI *p)
{
    uint64_t need = 0x18 + (uint64_t)p->vdev->config_len, size = 32;
    while (size < need)
        size <<= 1;
    pci_register_bar(p->pci, 0, PCI_BAR_IO, size, &legacy_ops, p);
}
