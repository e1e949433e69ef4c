/* Kestrel block layer: one interface over every disk image format.
 *
 * Synchronous API (tools, tests, device reset paths):
 *   BlockDev *bs = blk_open("disk.qcow2", NULL, BLK_O_RDWR, err, sizeof(err));
 *   blk_pread(bs, off, buf, len);  blk_pwrite(bs, off, buf, len);
 *   blk_flush(bs);  blk_close(bs);
 * Every call returns 0 (or a byte count where noted) or a negative errno;
 * blk_last_error(bs) then describes the failure in one human-readable line.
 *
 * Asynchronous API (guest device models, so guest I/O never stalls a vCPU):
 *   blk_aio_submit(bs, BLK_AIO_READ, off, iov, iovcnt, cb, opaque);
 * A small pool of worker threads performs the request; the completion is
 * queued and blk_aio_eventfd() becomes readable.  The main loop polls that fd
 * and calls blk_aio_poll_completions(), which runs the callbacks (in the main
 * loop thread, never in a worker).
 *
 * Why a thread pool and not io_uring/linux-aio: it is portable (any POSIX
 * host), works on every file system (linux-aio needs O_DIRECT to be really
 * asynchronous, io_uring needs a recent kernel and liburing), and the qcow2
 * driver needs to run metadata logic (L2 lookups, allocation, COW) between
 * host I/Os anyway, which is plain synchronous code in a worker thread.
 *
 * Concurrency: raw requests run in parallel.  qcow2 metadata work is
 * serialized by a per-device mutex taken by the generic layer, and the
 * driver releases it around host data I/O on allocated clusters, so qcow2
 * requests to different clusters overlap too (block/qcow2-io.c).
 * All blk_* calls may be made from any thread.  Requests in flight at the
 * same time are unordered (like a disk's queue): a BLK_AIO_FLUSH covers the
 * writes that completed before it was submitted, so submit a flush after
 * the writes it must cover have completed (which is what guests do).
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

typedef struct BlockDev BlockDev;

/* blk_open flags */
#define BLK_O_RDONLY    0x0
#define BLK_O_RDWR      0x1
/* Snapshot mode: the image is opened read-only and every write goes to a
 * temporary qcow2 overlay (deleted on close), like qemu's -snapshot. */
#define BLK_O_SNAPSHOT  0x2
/* Do not open the backing file (info/check on the top image only). */
#define BLK_O_NO_BACKING 0x4
/* Internal: open for check/repair (skips automatic dirty-bit repair). */
#define BLK_O_CHECK     0x8

#define BLK_ERR_LEN 256
#define BLK_MAX_BACKING_DEPTH 32

/* Open an image. format is "raw", "qcow2" or NULL to probe.  On failure
 * returns NULL and writes a one-line message into err (may be NULL). */
BlockDev *blk_open(const char *filename, const char *format, int flags,
                   char *err, size_t errlen);
/* Flushes and closes; closes the backing chain too. Returns 0 or -errno
 * (the image is closed either way). */
int blk_close(BlockDev *bs);

/* Byte-granular I/O; any offset and length is allowed (reads past the end
 * of the device fail with -EINVAL). Return 0 or -errno. */
int blk_pread(BlockDev *bs, uint64_t offset, void *buf, size_t len);
int blk_pwrite(BlockDev *bs, uint64_t offset, const void *buf, size_t len);
int blk_preadv(BlockDev *bs, uint64_t offset, const struct iovec *iov, int iovcnt);
int blk_pwritev(BlockDev *bs, uint64_t offset, const struct iovec *iov, int iovcnt);
/* Write cluster-sized data compressed (qcow2 only; offset cluster-aligned,
 * target unallocated). Used by convert -c. */
int blk_pwrite_compressed(BlockDev *bs, uint64_t offset, const void *buf, size_t len);
/* Metadata written back + fdatasync. */
int blk_flush(BlockDev *bs);
/* Discard is advisory: afterwards the range reads as zero or as the backing
 * file; partial clusters may be left untouched. */
int blk_discard(BlockDev *bs, uint64_t offset, uint64_t len);
/* The range reads as zeroes afterwards. */
int blk_write_zeroes(BlockDev *bs, uint64_t offset, uint64_t len);
/* Drop every cluster of this layer so the whole device reads from the
 * backing file again (used after commit). */
int blk_make_empty(BlockDev *bs);
/* Resize the virtual disk (qcow2 refuses to shrink). */
int blk_truncate(BlockDev *bs, uint64_t size);

int64_t blk_getlength(BlockDev *bs);           /* virtual size in bytes */
const char *blk_format(BlockDev *bs);          /* "raw" / "qcow2" */
const char *blk_filename(BlockDev *bs);
BlockDev *blk_backing(BlockDev *bs);           /* NULL when none */
bool blk_is_read_only(BlockDev *bs);
/* Last error message on this device ("" when none). */
const char *blk_last_error(BlockDev *bs);
/* Set the last error (printf-like); returns -err for convenience. */
int blk_set_error(BlockDev *bs, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct BlockSnapshotInfo {
    char id[128];
    char name[256];
    uint64_t vm_state_size;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t icount;        /* UINT64_MAX when not recorded */
    uint64_t disk_size;
} BlockSnapshotInfo;

typedef struct BlockInfo {
    const char *format;
    uint64_t virtual_size;
    uint64_t actual_size;       /* bytes allocated on the host */
    uint32_t cluster_size;      /* 0 for raw */
    char backing_file[1024];    /* as written in the image ("" when none) */
    char backing_full[4096];    /* resolved path */
    char backing_fmt[32];
    bool dirty;
    bool corrupt;
    int qcow2_version;          /* 2 or 3 */
    int refcount_bits;
    bool lazy_refcounts;
    int nb_snapshots;
    BlockSnapshotInfo *snapshots;  /* owned by the caller: free() it */
} BlockInfo;
int blk_get_info(BlockDev *bs, BlockInfo *info);
void blk_info_free(BlockInfo *info);

/* Internal snapshots (qcow2). name doubles as an id for apply/delete. */
int blk_snapshot_create(BlockDev *bs, const char *name, uint64_t vm_state_size);
int blk_snapshot_list(BlockDev *bs, BlockSnapshotInfo **list);  /* count or -errno; free() the list */
int blk_snapshot_apply(BlockDev *bs, const char *name_or_id);
int blk_snapshot_delete(BlockDev *bs, const char *name_or_id);

/* VM state (savevm/loadvm) lives in the image next to the disk data (qcow2
 * only, the layout qemu uses: just past the L1 range covering the disk).
 * Write it, then blk_snapshot_create(bs, name, total_vmstate_size); after
 * blk_snapshot_apply() read it back with blk_load_vmstate(). */
int blk_save_vmstate(BlockDev *bs, const void *buf, uint64_t pos, size_t len);
int blk_load_vmstate(BlockDev *bs, void *buf, uint64_t pos, size_t len);

/* Allocation status of [offset, offset+len): returns 0 and fills *pnum (bytes
 * with the same status, >0) and flags; *map gets the host offset when
 * BLK_STATUS_OFFSET is set and *file the device holding the data. */
#define BLK_STATUS_DATA      0x1   /* reads from a data cluster */
#define BLK_STATUS_ZERO      0x2   /* reads as zero */
#define BLK_STATUS_ALLOCATED 0x4   /* determined by this layer (not backing) */
#define BLK_STATUS_OFFSET    0x8   /* *map valid */
#define BLK_STATUS_COMPRESSED 0x10
int blk_block_status(BlockDev *bs, uint64_t offset, uint64_t len,
                     uint64_t *pnum, int *flags, uint64_t *map, BlockDev **file);

typedef struct BlockCheckResult {
    int64_t corruptions, leaks, check_errors;
    int64_t corruptions_fixed, leaks_fixed;
    uint64_t image_end_offset;
    uint64_t total_clusters, allocated_clusters, fragmented_clusters, compressed_clusters;
    char *messages;     /* one line per problem found (malloc'd, may be NULL) */
    size_t messages_len, messages_cap;
    int64_t messages_dropped;   /* lines beyond the limit, not stored */
} BlockCheckResult;
#define BLK_FIX_LEAKS  1
#define BLK_FIX_ERRORS 2
/* Consistency check (qcow2; raw is always consistent). Returns 0 when the
 * check ran (look at the counters) or -errno when it could not. */
int blk_check(BlockDev *bs, BlockCheckResult *res, int fix);
void blk_check_result_free(BlockCheckResult *res);

/* Create an image. */
typedef struct BlockCreateOpts {
    const char *format;         /* "qcow2" or "raw" */
    uint64_t size;              /* 0 with a backing file: take its size */
    const char *backing_file;   /* as stored in the header */
    const char *backing_fmt;    /* NULL: probe */
    uint32_t cluster_size;      /* 0: 64 KiB */
    int qcow2_version;          /* 0: 3 */
    int refcount_bits;          /* 0: 16 */
} BlockCreateOpts;
int blk_create(const char *filename, const BlockCreateOpts *opts, char *err, size_t errlen);

/* Probe the format of a file: "qcow2" or "raw" (NULL + err on I/O error). */
const char *blk_probe_format(const char *filename, char *err, size_t errlen);
/* Resolve a backing file name relative to the directory of the image.
 * Returns a malloc'd string. */
char *blk_resolve_backing(const char *image, const char *backing);

/* ---- asynchronous requests ---- */
typedef enum BlockAioOp {
    BLK_AIO_READ,
    BLK_AIO_WRITE,
    BLK_AIO_FLUSH,
    BLK_AIO_DISCARD,        /* iov unused, len in 'len' */
    BLK_AIO_WRITE_ZEROES,   /* iov unused, len in 'len' */
} BlockAioOp;
typedef void BlockCompletionFunc(void *opaque, int ret);

/* Queue a request. For READ/WRITE the buffers described by iov (copied;
 * the memory itself must stay valid until the callback) give the length;
 * for DISCARD/WRITE_ZEROES pass iov=NULL and the length in len.
 * cb runs later from blk_aio_poll_completions() with 0 or -errno.
 * Returns 0, or -errno if the request could not be queued (cb not called). */
int blk_aio_submit(BlockDev *bs, BlockAioOp op, uint64_t offset,
                   const struct iovec *iov, int iovcnt, uint64_t len,
                   BlockCompletionFunc *cb, void *opaque);
/* Readable (non-zero counter) while completions are pending. Never closed. */
int blk_aio_eventfd(void);
/* Run the callbacks of finished requests; returns how many ran. */
int blk_aio_poll_completions(void);
/* Wait until every request submitted on bs (NULL: on all devices) finished
 * and its callback ran. Call from the main loop thread only. */
void blk_aio_drain(BlockDev *bs);
/* Number of worker threads (default 4); call before the first submit. */
void blk_aio_set_threads(int n);

#endif
