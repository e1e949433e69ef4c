/* Raw image driver: the file is the disk. Thread-safe (pread/pwrite). */
#include "block/block-int.h"
#include "system/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/falloc.h>
#endif

static int raw_open(BlockDev *bs, int flags)
{
    struct stat st;
    if (fstat(bs->fd, &st) < 0)
        return blk_set_error(bs, errno, "could not stat '%s': %s", bs->filename, strerror(errno));
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(bs->fd, 0, SEEK_END);
        if (end < 0)
            return blk_set_error(bs, errno, "could not size '%s': %s", bs->filename, strerror(errno));
        bs->size = (uint64_t)end;
    } else {
        bs->size = (uint64_t)st.st_size;
    }
    return 0;
}

static void raw_close(BlockDev *bs) { (void)bs; }

static int raw_pread(BlockDev *bs, uint64_t off, void *buf, size_t len)
{
    int ret = blk_file_pread_zfill(bs->fd, buf, len, off);
    if (ret < 0)
        return blk_set_error(bs, ret, "read error on '%s' at %" PRIu64 ": %s", bs->filename, off, strerror(-ret));
    return 0;
}

static int raw_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    int ret = pwrite_full(bs->fd, buf, len, off);
    if (ret < 0)
        return blk_set_error(bs, ret, "write error on '%s' at %" PRIu64 ": %s", bs->filename, off, strerror(-ret));
    return 0;
}

/* One preadv/pwritev for the whole guest request (not one per page). */
static int raw_iov_io(BlockDev *bs, uint64_t off, const struct iovec *iov, int iovcnt, bool write)
{
    struct iovec *v = blk_iov_dup(iov, iovcnt);
    int ret = write ? blk_file_pwritev_full(bs->fd, v, iovcnt, off)
                    : blk_file_preadv_zfill(bs->fd, v, iovcnt, off);
    free(v);
    if (ret < 0)
        return blk_set_error(bs, ret, "%s error on '%s' at %" PRIu64 ": %s", write ? "write" : "read",
                             bs->filename, off, strerror(-ret));
    return 0;
}

static int raw_preadv(BlockDev *bs, uint64_t off, const struct iovec *iov, int iovcnt)
{
    return raw_iov_io(bs, off, iov, iovcnt, false);
}

static int raw_pwritev(BlockDev *bs, uint64_t off, const struct iovec *iov, int iovcnt)
{
    return raw_iov_io(bs, off, iov, iovcnt, true);
}

static int raw_flush(BlockDev *bs)
{
    if (fdatasync(bs->fd) < 0)
        return blk_set_error(bs, errno, "flush of '%s' failed: %s", bs->filename, strerror(errno));
    return 0;
}

static int raw_discard(BlockDev *bs, uint64_t off, uint64_t len)
{
#ifdef FALLOC_FL_PUNCH_HOLE
    if (fallocate(bs->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
#endif
    return 0;   /* advisory */
}

static int raw_write_zeroes(BlockDev *bs, uint64_t off, uint64_t len)
{
#ifdef FALLOC_FL_PUNCH_HOLE
    if (fallocate(bs->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
#endif
    size_t chunk = 1 << 20;
    uint8_t *z = xzalloc(chunk);
    int ret = 0;
    while (len && ret == 0) {
        size_t n = len < chunk ? len : chunk;
        ret = raw_pwrite(bs, off, z, n);
        off += n;
        len -= n;
    }
    free(z);
    return ret;
}

static int raw_truncate(BlockDev *bs, uint64_t size)
{
    if (ftruncate(bs->fd, (off_t)size) < 0)
        return blk_set_error(bs, errno, "could not resize '%s': %s", bs->filename, strerror(errno));
    bs->size = size;
    return 0;
}

static int raw_block_status(BlockDev *bs, uint64_t off, uint64_t len,
                            uint64_t *pnum, int *flags, uint64_t *map, BlockDev **file)
{
    *file = bs;
    *map = off;
#ifdef SEEK_DATA
    off_t d = lseek(bs->fd, (off_t)off, SEEK_DATA);
    if (d < 0 && errno == ENXIO) {
        /* hole up to EOF */
        *pnum = len;
        *flags = BLK_STATUS_ZERO | BLK_STATUS_ALLOCATED | BLK_STATUS_OFFSET;
        return 0;
    }
    if (d >= 0 && (uint64_t)d > off) {
        *pnum = MIN((uint64_t)d - off, len);
        *flags = BLK_STATUS_ZERO | BLK_STATUS_ALLOCATED | BLK_STATUS_OFFSET;
        return 0;
    }
    if (d >= 0) {
        off_t h = lseek(bs->fd, (off_t)off, SEEK_HOLE);
        if (h > (off_t)off) {
            *pnum = MIN((uint64_t)h - off, len);
            *flags = BLK_STATUS_DATA | BLK_STATUS_ALLOCATED | BLK_STATUS_OFFSET;
            return 0;
        }
    }
#endif
    *pnum = len;
    *flags = BLK_STATUS_DATA | BLK_STATUS_ALLOCATED | BLK_STATUS_OFFSET;
    return 0;
}

static int raw_create(const char *filename, const BlockCreateOpts *opts, char *err, size_t errlen)
{
    if (opts->backing_file) {
        snprintf(err, errlen, "raw images cannot have a backing file");
        return -EINVAL;
    }
    int fd = open(filename, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "could not create '%s': %s", filename, strerror(e));
        return -e;
    }
    if (ftruncate(fd, (off_t)opts->size) < 0) {
        int e = errno;
        snprintf(err, errlen, "could not resize '%s': %s", filename, strerror(e));
        close(fd);
        return -e;
    }
    close(fd);
    return 0;
}

const BlockDriver bdrv_raw = {
    .name = "raw",
    .thread_safe = true,
    .open = raw_open,
    .close = raw_close,
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .preadv = raw_preadv,
    .pwritev = raw_pwritev,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .truncate = raw_truncate,
    .block_status = raw_block_status,
    .create = raw_create,
};
