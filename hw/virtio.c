/* Virtio device core: feature negotiation, device status, ISR, reset, and
 * the "device needs reset" state a misbehaving driver ends in. */
#include "hw/virtio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "hw/virtio-ring.h"
#include "system/log.h"
#include "system/util.h"

void virtio_device_init(VirtioDevice *vdev, const VirtioDeviceClass *cls, uint64_t features,
                        int num_queues, unsigned queue_max, unsigned config_len)
{
    vdev->cls = cls;
    vdev->host_features = features | (1ULL << VIRTIO_F_VERSION_1);
    vdev->config_len = config_len;
    vdev->config = xzalloc(config_len ? config_len : 1);
    vdev->num_queues = num_queues;
    vdev->vqs = xzalloc(sizeof(VirtQueue) * (size_t)num_queues);
    for (int i = 0; i < num_queues; i++)
        vq_init(&vdev->vqs[i], vdev, i, (uint16_t)queue_max);
}

static void update_irq(VirtioDevice *vdev)
{
    if (vdev->update_irq)
        vdev->update_irq(vdev);
}

/* ---- features --------------------------------------------------------------------- */

uint32_t virtio_read_device_features(VirtioDevice *vdev, unsigned select)
{
    return select < 2 ? (uint32_t)(vdev->host_features >> (32 * select)) : 0;
}

uint32_t virtio_read_driver_features(VirtioDevice *vdev, unsigned select)
{
    return select < 2 ? (uint32_t)(vdev->guest_features >> (32 * select)) : 0;
}

void virtio_write_driver_features(VirtioDevice *vdev, unsigned select, uint32_t val)
{
    if (select >= 2 || (vdev->status & VIRTIO_STATUS_FEATURES_OK))
        return;
    unsigned shift = 32 * select;
    uint64_t mask = 0xffffffffULL << shift;
    /* Only what we offer can be accepted. */
    uint64_t v = ((uint64_t)val << shift) & vdev->host_features;
    vdev->guest_features = (vdev->guest_features & ~mask) | v;
}

/* ---- status and reset ------------------------------------------------------------- */

void virtio_reset(VirtioDevice *vdev)
{
    if (vdev->cls->reset)
        vdev->cls->reset(vdev);
    vdev->status = 0;
    vdev->guest_features = 0;
    vdev->broken = false;
    vdev->isr = 0;
    vdev->config_vector = VIRTIO_NO_VECTOR;
    for (int i = 0; i < vdev->num_queues; i++)
        vq_reset(&vdev->vqs[i]);
    update_irq(vdev);
}

void virtio_set_status(VirtioDevice *vdev, uint8_t status)
{
    if (status == 0) {
        virtio_reset(vdev);
        return;
    }
    uint8_t old = vdev->status;
    /* FEATURES_OK sticks only for an acceptable feature set: a modern
     * device requires VERSION_1 (we have no legacy interface). */
    if ((status & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
        !virtio_has_feature(vdev, VIRTIO_F_VERSION_1)) {
        LOG(LOG_GUEST_ERRORS, "%s: driver did not accept VIRTIO_F_VERSION_1\n", vdev->cls->name);
        status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    }
    /* The driver cannot clear NEEDS_RESET except by resetting. */
    vdev->status = (uint8_t)(status | (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
}

uint8_t virtio_read_isr(VirtioDevice *vdev)
{
    uint8_t v = vdev->isr;
    vdev->isr = 0;
    update_irq(vdev);
    return v;
}

/* ---- interrupts and errors ------------------------------------------------------ */

static bool send_vector(VirtioDevice *vdev, uint16_t vector)
{
    return vdev->notify_vector && vdev->notify_vector(vdev, vector);
}

void virtio_notify_queue(VirtioDevice *vdev, VirtQueue *vq)
{
    if (send_vector(vdev, vq->msix_vector))
        return;                 /* with MSI-X the ISR queue bit stays clear */
    vdev->isr |= VIRTIO_ISR_QUEUE;
    update_irq(vdev);
}

/* The configuration bit is set in the ISR even when MSI-X signals it. */
static void config_interrupt(VirtioDevice *vdev)
{
    vdev->isr |= VIRTIO_ISR_CONFIG;
    if (!send_vector(vdev, vdev->config_vector))
        update_irq(vdev);
}

void virtio_notify_config(VirtioDevice *vdev)
{
    if (!(vdev->status & VIRTIO_STATUS_DRIVER_OK))
        return;
    vdev->config_generation++;
    config_interrupt(vdev);
}

void virtio_error(VirtioDevice *vdev, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    LOG(LOG_GUEST_ERRORS, "%s: %s; device needs reset\n", vdev->cls->name, msg);
    if (vdev->broken)
        return;
    vdev->broken = true;
    vdev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
        config_interrupt(vdev);
}

void virtio_config_write(VirtioDevice *vdev, unsigned off, uint64_t val, unsigned len)
{
    if (!vdev->cls->config_write || off >= vdev->config_len || len > vdev->config_len - off) {
        LOG(LOG_GUEST_ERRORS, "%s: device config write at 0x%x ignored\n", vdev->cls->name, off);
        return;
    }
    vdev->cls->config_write(vdev, off, val, len);
}

/* ---- DMA ------------------------------------------------------------------------- */

bool virtio_dma_allowed(VirtioDevice *vdev)
{
    return ld16(vdev->pci->config + PCI_COMMAND) & PCI_COMMAND_MASTER;
}

int virtio_dma_read(VirtioDevice *vdev, uint64_t addr, void *buf, uint64_t len)
{
    return len ? pci_dma_read(vdev->pci, addr, buf, len) : 0;
}

int virtio_dma_write(VirtioDevice *vdev, uint64_t addr, const void *buf, uint64_t len)
{
    return len ? pci_dma_write(vdev->pci, addr, buf, len) : 0;
}
