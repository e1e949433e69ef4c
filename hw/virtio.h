/* Virtio device core (VIRTIO 1.2): the transport-independent part of a
 * virtio device — feature negotiation, the device status register, the
 * interrupt status (ISR) bits, the device-specific configuration bytes, and
 * "device needs reset" when the driver breaks the rules.
 *
 * A device model (virtio-blk) embeds a VirtioDevice and fills its class; the
 * PCI transport (hw/virtio-pci.h) exposes it to the guest. All guest memory
 * accesses go through the transport's bus-master DMA (bounds-checked). */
#ifndef HW_VIRTIO_H
#define HW_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/pci.h"

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE        0x01
#define VIRTIO_STATUS_DRIVER             0x02
#define VIRTIO_STATUS_DRIVER_OK          0x04
#define VIRTIO_STATUS_FEATURES_OK        0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED             0x80

/* Reserved (device-independent) feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC  28
#define VIRTIO_F_EVENT_IDX      29
#define VIRTIO_F_VERSION_1      32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED    34

/* ISR status bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE   0x1
#define VIRTIO_ISR_CONFIG  0x2

/* "No MSI-X vector" (4.1.4.3): the value vector registers hold without one. */
#define VIRTIO_NO_VECTOR   0xffff

/* Device types (5). */
#define VIRTIO_ID_NET    1
#define VIRTIO_ID_BLOCK  2

typedef struct VirtioDevice VirtioDevice;
typedef struct VirtQueue VirtQueue;

typedef struct VirtioDeviceClass {
    const char *name;
    uint16_t device_id;
    /* The driver notified queue vq (DRIVER_OK set, queue enabled, not broken). */
    void (*queue_notify)(VirtioDevice *vdev, VirtQueue *vq);
    /* The driver writes len bytes of val at off in the device configuration
     * (within config_len); NULL: the configuration is read-only. */
    void (*config_write)(VirtioDevice *vdev, unsigned off, uint64_t val, unsigned len);
    /* Device reset: forget in-flight requests (their completions must not
     * touch the rings any more). Called before the queues are cleared. */
    void (*reset)(VirtioDevice *vdev);
} VirtioDeviceClass;

struct VirtioDevice {
    const VirtioDeviceClass *cls;
    PCIDevice *pci;             /* the transport's function: DMA and INTx */
    void (*update_irq)(VirtioDevice *vdev);   /* set by the transport */
    /* Set by a transport with MSI-X: signal vector and return true, or
     * return false when MSI-X is off (then the ISR and INTx are used). */
    bool (*notify_vector)(VirtioDevice *vdev, uint16_t vector);
    uint16_t config_vector;     /* MSI-X vector for configuration changes */
    uint64_t host_features;     /* offered */
    uint64_t guest_features;    /* accepted by the driver */
    uint8_t status;
    uint8_t isr;
    uint8_t config_generation;
    bool broken;                /* DEVICE_NEEDS_RESET: ignore the queues */
    uint8_t *config;            /* device-specific configuration (little-endian) */
    unsigned config_len;
    VirtQueue *vqs;
    int num_queues;
};

/* Set up the core: features offered, num_queues queues of at most
 * queue_max (a power of two) entries, config_len configuration bytes. */
void virtio_device_init(VirtioDevice *vdev, const VirtioDeviceClass *cls, uint64_t features,
                        int num_queues, unsigned queue_max, unsigned config_len);

static inline bool virtio_has_feature(const VirtioDevice *vdev, unsigned bit)
{
    return vdev->guest_features & (1ULL << bit);
}

/* Driver writes. Feature writes are ignored once FEATURES_OK is set. */
void virtio_write_driver_features(VirtioDevice *vdev, unsigned select, uint32_t val);
uint32_t virtio_read_device_features(VirtioDevice *vdev, unsigned select);
uint32_t virtio_read_driver_features(VirtioDevice *vdev, unsigned select);
void virtio_set_status(VirtioDevice *vdev, uint8_t status);
/* Reset to the initial state (status 0): drops in-flight work, clears queues. */
void virtio_reset(VirtioDevice *vdev);
/* ISR read: returns the bits and clears them (deasserts INTx). */
uint8_t virtio_read_isr(VirtioDevice *vdev);

/* Used buffers were added to vq: interrupt unless the driver suppressed it. */
void virtio_notify_queue(VirtioDevice *vdev, VirtQueue *vq);
/* The device configuration changed (or the device needs reset). */
void virtio_notify_config(VirtioDevice *vdev);
/* The driver broke the rules: log, set DEVICE_NEEDS_RESET, stop the queues. */
void virtio_error(VirtioDevice *vdev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A driver write to the device configuration (both PCI interfaces). */
void virtio_config_write(VirtioDevice *vdev, unsigned off, uint64_t val, unsigned len);

/* Bus-master DMA for the device and its rings (-errno on refusal). */
int virtio_dma_read(VirtioDevice *vdev, uint64_t addr, void *buf, uint64_t len);
int virtio_dma_write(VirtioDevice *vdev, uint64_t addr, const void *buf, uint64_t len);
bool virtio_dma_allowed(VirtioDevice *vdev);

#endif
