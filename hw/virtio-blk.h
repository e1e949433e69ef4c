/* virtio-blk (VIRTIO 1.2, 5.2) on the PCI transport (transitional by
 * default: modern and legacy interfaces): a disk backed by the block layer.
 * Requests (read, write, flush, get-id, discard, write-zeroes) go through
 * blk_aio_submit() straight into guest RAM (zero-copy, bounds-checked);
 * their completions, on the main loop, fill the used ring and interrupt
 * (INTx, or MSI-X when the board delivers MSIs). Several requests are in
 * flight at once. */
#ifndef HW_VIRTIO_BLK_H
#define HW_VIRTIO_BLK_H

#include "block/block.h"
#include "hw/pci.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_GEOMETRY     4
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_TOPOLOGY     10
#define VIRTIO_BLK_F_CONFIG_WCE   11
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK           0
#define VIRTIO_BLK_S_IOERR        1
#define VIRTIO_BLK_S_UNSUPP       2

#define VIRTIO_BLK_ID_BYTES       20
#define VIRTIO_BLK_WZ_UNMAP       1     /* discard/write-zeroes segment flag */

/* struct virtio_blk_config field offsets (5.2.4). */
#define VIRTIO_BLK_CFG_CAPACITY          0x00
#define VIRTIO_BLK_CFG_SIZE_MAX          0x08
#define VIRTIO_BLK_CFG_SEG_MAX           0x0c
#define VIRTIO_BLK_CFG_GEOMETRY          0x10
#define VIRTIO_BLK_CFG_BLK_SIZE          0x14
#define VIRTIO_BLK_CFG_PHYS_BLOCK_EXP    0x18
#define VIRTIO_BLK_CFG_ALIGNMENT_OFFSET  0x19
#define VIRTIO_BLK_CFG_MIN_IO_SIZE       0x1a
#define VIRTIO_BLK_CFG_OPT_IO_SIZE       0x1c
#define VIRTIO_BLK_CFG_WRITEBACK         0x20
#define VIRTIO_BLK_CFG_NUM_QUEUES        0x22
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS 0x24
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG   0x28
#define VIRTIO_BLK_CFG_DISCARD_ALIGN     0x2c
#define VIRTIO_BLK_CFG_MAX_WZ_SECTORS    0x30
#define VIRTIO_BLK_CFG_MAX_WZ_SEG        0x34
#define VIRTIO_BLK_CFG_WZ_MAY_UNMAP      0x38
#define VIRTIO_BLK_CFG_SIZE              0x48

typedef struct VirtioBlk VirtioBlk;

typedef struct VirtioBlkOptions {
    int num_queues;             /* 0: 1; more than 1 offers VIRTIO_BLK_F_MQ */
    unsigned queue_size;        /* 0: 256; a power of two up to 1024 */
    const char *serial;         /* GET_ID answer (up to 20 bytes), NULL: empty */
    bool read_only;             /* also forced when blk is read-only */
    bool modern_only;           /* no legacy interface (device 0x1042, not 0x1001) */
    bool writethrough;          /* start with the write cache off (the guest may
                                 * toggle it: VIRTIO_BLK_F_CONFIG_WCE) */
} VirtioBlkOptions;

/* A virtio-blk PCI function on bus at devfn (-1: first free slot) over blk
 * (never closed by the device). NULL with a message when it cannot be made. */
VirtioBlk *virtio_blk_pci_create(PCIBus *bus, int devfn, BlockDev *blk,
                                 const VirtioBlkOptions *opts, char *err, size_t errlen);
/* One function per -drive if=virtio (hw/drives.h), in command-line order,
 * each in the first free slot; marks them claimed. Registers the block
 * completion handler on the main loop. Returns 0, or -1 with a message. */
int virtio_blk_attach_drives(PCIBus *bus, char *err, size_t errlen);

PCIDevice *virtio_blk_pci_device(VirtioBlk *s);
/* Wait for every in-flight request (tests, shutdown). */
void virtio_blk_drain(VirtioBlk *s);
/* Requests taken from the rings and not yet completed. */
unsigned virtio_blk_inflight(VirtioBlk *s);

#endif
