/* Split virtqueues (VIRTIO 1.2, 2.7), device side.
 *
 * Guest memory layout for a queue of size N (a power of two):
 *   descriptor table (16-byte aligned): N x { le64 addr; le32 len; le16 flags; le16 next; }
 *   driver area / available ring (2-aligned): le16 flags; le16 idx; le16 ring[N]; le16 used_event;
 *   device area / used ring (4-aligned): le16 flags; le16 idx; { le32 id; le32 len; } ring[N]; le16 avail_event;
 *
 * The guest owns that memory and may change it at any moment, so every
 * descriptor is read once into a local copy, checked, and never re-read.
 * A chain is bounded (at most N descriptors directly, at most
 * VIRTQ_MAX_INDIRECT in one indirect table, no nested tables), so a
 * looping or endless chain ends in virtio_error(), never in a hang. */
#ifndef HW_VIRTIO_RING_H
#define HW_VIRTIO_RING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "hw/virtio.h"

#define VIRTQ_DESC_F_NEXT      1
#define VIRTQ_DESC_F_WRITE     2
#define VIRTQ_DESC_F_INDIRECT  4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

#define VIRTQ_MAX_SIZE      32768
#define VIRTQ_MAX_INDIRECT  1024    /* descriptors in one indirect table */
#define VIRTQ_DESC_SIZE     16
#define VIRTQ_MAX_IOV       1024    /* host iovecs for one request (IOV_MAX) */

struct VirtQueue {
    VirtioDevice *vdev;
    int index;
    uint16_t size_max;          /* offered (power of two) */
    uint16_t size;              /* set by the driver */
    bool enabled;
    uint64_t desc, avail, used; /* guest-physical addresses of the three areas */
    uint16_t last_avail_idx;    /* next available entry to take */
    uint16_t used_idx;          /* our copy of used->idx */
    unsigned inflight;          /* elements taken, not yet returned */
    unsigned generation;        /* bumped on reset: older elements are stale */
    uint16_t msix_vector;       /* VIRTIO_NO_VECTOR unless the driver set one */
};

/* One guest buffer of a chain. */
typedef struct VirtqSeg {
    uint64_t addr;
    uint32_t len;
} VirtqSeg;

/* A descriptor chain taken from the available ring: the device-readable
 * part ("out") followed by the device-writable part ("in"). */
typedef struct VirtqElem {
    VirtQueue *vq;
    uint16_t head;
    unsigned n_out, n_in;
    VirtqSeg *out, *in;
    uint64_t out_len, in_len;   /* total bytes of each part */
    unsigned generation;        /* the queue's when taken */
} VirtqElem;

void vq_init(VirtQueue *vq, VirtioDevice *vdev, int index, uint16_t size_max);
/* Back to the reset state (size = size_max, disabled, addresses 0). */
void vq_reset(VirtQueue *vq);
/* The driver enables the queue: check size and areas (in RAM, aligned).
 * Returns false (the device is marked broken) when they are unusable. */
bool vq_enable(VirtQueue *vq);

/* Take the next available chain: 1 with *elem set (free with vq_elem_free),
 * 0 when the ring is empty, -1 when the ring is corrupt (device broken). */
int vq_pop(VirtQueue *vq, VirtqElem **elem);
/* Return a chain to the driver with len bytes written into it; frees elem.
 * Returns whether the driver wants an interrupt for it. */
bool vq_push(VirtqElem *elem, uint32_t len);
/* Forget a chain without returning it (device reset). */
void vq_elem_free(VirtqElem *elem);
/* With VIRTIO_F_EVENT_IDX: ask for a notification when the driver adds
 * past what we took; returns true when new entries arrived meanwhile. */
bool vq_enable_notification(VirtQueue *vq);

/* Copy between a host buffer and the chain's readable (out) or writable
 * (in) part, starting offset bytes into it. Returns 0, or -1 when the range
 * is not wholly inside the part or the guest memory is not RAM. */
int vq_elem_read(VirtqElem *elem, uint64_t offset, void *buf, uint64_t len);
int vq_elem_write(VirtqElem *elem, uint64_t offset, const void *buf, uint64_t len);

/* Map [offset, offset+len) of the out (is_write false: the device reads it)
 * or in part (is_write true) into host iovecs pointing at guest RAM, for
 * zero-copy I/O. Returns the number of iovecs (<= max_iov), or -1 when
 * the range is not wholly in RAM or needs more than max_iov pieces. */
int vq_elem_map(VirtqElem *elem, bool is_write, uint64_t offset, uint64_t len,
                struct iovec *iov, int max_iov);
/* After a device write through vq_elem_map: tell the translator the guest
 * RAM behind [offset, offset+len) of the in part changed. */
void vq_elem_mark_written(VirtqElem *elem, uint64_t offset, uint64_t len);

#endif
