/* Internals shared by the block layer and its drivers. */
#ifndef BLOCK_BLOCK_INT_H
#define BLOCK_BLOCK_INT_H

#include <pthread.h>
#include <sys/types.h>
#include "block/block.h"

typedef struct BlockDriver {
    const char *name;
    bool thread_safe;          /* requests may run concurrently */
    /* 0..100: how sure we are this is our format */
    int (*probe)(const uint8_t *buf, size_t len);
    /* bs->fd, bs->filename, bs->read_only set; fill bs->opaque, bs->size */
    int (*open)(BlockDev *bs, int flags);
    void (*close)(BlockDev *bs);
    int (*pread)(BlockDev *bs, uint64_t off, void *buf, size_t len);
    int (*pwrite)(BlockDev *bs, uint64_t off, const void *buf, size_t len);
    /* Optional scatter/gather forms (used instead of a pread/pwrite per
     * iovec when present).  A driver that is not thread_safe is called with
     * bs->lock held; it may release it around host data I/O as long as it
     * keeps its own invariants (see block/qcow2-io.c). */
    int (*preadv)(BlockDev *bs, uint64_t off, const struct iovec *iov, int iovcnt);
    int (*pwritev)(BlockDev *bs, uint64_t off, const struct iovec *iov, int iovcnt);
    int (*pwrite_compressed)(BlockDev *bs, uint64_t off, const void *buf, size_t len);
    int (*flush)(BlockDev *bs);
    int (*discard)(BlockDev *bs, uint64_t off, uint64_t len);
    int (*write_zeroes)(BlockDev *bs, uint64_t off, uint64_t len);
    int (*truncate)(BlockDev *bs, uint64_t size);
    int (*make_empty)(BlockDev *bs);
    int (*save_vmstate)(BlockDev *bs, const void *buf, uint64_t pos, size_t len);
    int (*load_vmstate)(BlockDev *bs, void *buf, uint64_t pos, size_t len);
    int (*get_info)(BlockDev *bs, BlockInfo *info);
    int (*block_status)(BlockDev *bs, uint64_t off, uint64_t len,
                        uint64_t *pnum, int *flags, uint64_t *map, BlockDev **file);
    int (*snapshot_create)(BlockDev *bs, const char *name, uint64_t vm_state_size);
    int (*snapshot_list)(BlockDev *bs, BlockSnapshotInfo **list);
    int (*snapshot_apply)(BlockDev *bs, const char *name);
    int (*snapshot_delete)(BlockDev *bs, const char *name);
    int (*check)(BlockDev *bs, BlockCheckResult *res, int fix);
    int (*create)(const char *filename, const BlockCreateOpts *opts, char *err, size_t errlen);
} BlockDriver;

struct BlockDev {
    const BlockDriver *drv;
    void *opaque;
    char *filename;
    int fd;
    bool read_only;
    int flags;
    uint64_t size;              /* virtual size */
    BlockDev *backing;
    int depth;                  /* 0 = top of chain */
    char *tmp_overlay;          /* snapshot mode: path of the overlay (unlinked) */
    pthread_mutex_t lock;       /* serializes non-thread-safe drivers */
    pthread_mutex_t err_lock;
    char errmsg[BLK_ERR_LEN];
    /* aio bookkeeping */
    int inflight;
    /* chain loop detection */
    dev_t st_dev;
    ino_t st_ino;
};

extern const BlockDriver bdrv_raw;
extern const BlockDriver bdrv_qcow2;

/* Open a backing file for bs (used by drivers). */
BlockDev *blk_open_backing(BlockDev *bs, const char *name, const char *fmt, char *err, size_t errlen);
/* Internal open with depth / loop detection. */
BlockDev *blk_open_internal(const char *filename, const char *format, int flags,
                            BlockDev *child_of, char *err, size_t errlen);

/* Read from a backing device, zero-filling past its end. */
int blk_read_backing(BlockDev *backing, uint64_t off, void *buf, size_t len);

/* pread that zero-fills past end of file. */
int blk_file_pread_zfill(int fd, void *buf, size_t len, uint64_t off);

/* block/iov.c.  Copy the iovecs covering [skip, skip+len) of iov into out
 * (room for iovcnt entries); returns how many. */
int blk_iov_slice(const struct iovec *iov, int iovcnt, size_t skip, size_t len,
                  struct iovec *out);
struct iovec *blk_iov_dup(const struct iovec *iov, int iovcnt);   /* free() it */
void blk_iov_memset(const struct iovec *iov, int iovcnt, int c);
void blk_iov_to_buf(const struct iovec *iov, int iovcnt, void *buf);
void blk_iov_from_buf(const struct iovec *iov, int iovcnt, const void *buf);
/* preadv/pwritev of every byte (iov is consumed); reads zero-fill past EOF. */
int blk_file_preadv_zfill(int fd, struct iovec *iov, int iovcnt, uint64_t off);
int blk_file_pwritev_full(int fd, struct iovec *iov, int iovcnt, uint64_t off);

#endif
