/* Generic block layer: open/probe, request dispatch, error messages. */
#include "block/block-int.h"
#include "system/util.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const BlockDriver *drivers[] = { &bdrv_qcow2, &bdrv_raw };

static const BlockDriver *find_driver(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(drivers); i++)
        if (!strcmp(drivers[i]->name, name))
            return drivers[i];
    return NULL;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int blk_set_error(BlockDev *bs, int err, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&bs->err_lock);
    va_start(ap, fmt);
    vsnprintf(bs->errmsg, sizeof(bs->errmsg), fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&bs->err_lock);
    return err > 0 ? -err : err;
}

const char *blk_last_error(BlockDev *bs)
{
    return bs->errmsg;
}

int blk_file_pread_zfill(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0) {
            memset(p, 0, len);
            return 0;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

const char *blk_probe_format(const char *filename, char *err, size_t errlen)
{
    int fd = open(filename, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errlen, "could not open '%s': %s", filename, strerror(errno));
        return NULL;
    }
    uint8_t buf[512];
    memset(buf, 0, sizeof(buf));
    ssize_t n = pread(fd, buf, sizeof(buf), 0);
    close(fd);
    if (n < 0) {
        set_err(err, errlen, "could not read '%s': %s", filename, strerror(errno));
        return NULL;
    }
    const BlockDriver *best = &bdrv_raw;
    int best_score = 0;
    for (size_t i = 0; i < ARRAY_SIZE(drivers); i++) {
        if (!drivers[i]->probe)
            continue;
        int s = drivers[i]->probe(buf, (size_t)n);
        if (s > best_score) {
            best_score = s;
            best = drivers[i];
        }
    }
    return best->name;
}

char *blk_resolve_backing(const char *image, const char *backing)
{
    if (backing[0] == '/' || !strchr(image, '/'))
        return xstrdup(backing);
    char *dup = xstrdup(image);
    char *dir = dirname(dup);
    char *r = xasprintf("%s/%s", dir, backing);
    free(dup);
    return r;
}

static BlockDev *open_snapshot_overlay(BlockDev *base, char *err, size_t errlen);

BlockDev *blk_open_internal(const char *filename, const char *format, int flags,
                            BlockDev *child_of, char *err, size_t errlen)
{
    int depth = child_of ? child_of->depth + 1 : 0;
    if (depth > BLK_MAX_BACKING_DEPTH) {
        set_err(err, errlen, "backing chain of '%s' is too deep (more than %d levels)",
                filename, BLK_MAX_BACKING_DEPTH);
        return NULL;
    }
    bool rw = (flags & BLK_O_RDWR) && !(flags & BLK_O_SNAPSHOT);
    int fd = open(filename, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errlen, "could not open '%s': %s", filename, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        set_err(err, errlen, "could not stat '%s': %s", filename, strerror(errno));
        close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        set_err(err, errlen, "'%s' is a directory", filename);
        close(fd);
        return NULL;
    }
    const BlockDriver *drv;
    if (format) {
        drv = find_driver(format);
        if (!drv) {
            set_err(err, errlen, "unknown image format '%s' (supported: qcow2, raw)", format);
            close(fd);
            return NULL;
        }
    } else {
        const char *f = blk_probe_format(filename, err, errlen);
        if (!f) {
            close(fd);
            return NULL;
        }
        drv = find_driver(f);
    }
    BlockDev *bs = xzalloc(sizeof(*bs));
    bs->drv = drv;
    bs->filename = xstrdup(filename);
    bs->fd = fd;
    bs->read_only = !rw;
    bs->flags = flags;
    bs->depth = depth;
    bs->st_dev = st.st_dev;
    bs->st_ino = st.st_ino;
    pthread_mutex_init(&bs->lock, NULL);
    pthread_mutex_init(&bs->err_lock, NULL);
    if (child_of)
        bs->flags |= (child_of->flags & BLK_O_NO_BACKING);
    int ret = drv->open(bs, flags);
    if (ret < 0) {
        set_err(err, errlen, "%s", bs->errmsg[0] ? bs->errmsg : strerror(-ret));
        close(fd);
        pthread_mutex_destroy(&bs->lock);
        pthread_mutex_destroy(&bs->err_lock);
        free(bs->filename);
        free(bs);
        return NULL;
    }
    bs->errmsg[0] = 0;
    if ((flags & BLK_O_SNAPSHOT) && !child_of) {
        BlockDev *top = open_snapshot_overlay(bs, err, errlen);
        if (!top) {
            blk_close(bs);
            return NULL;
        }
        return top;
    }
    return bs;
}

/* Ancestor list used while a chain is being opened (loop detection). */
static __thread BlockDev *opening_chain[BLK_MAX_BACKING_DEPTH + 2];

BlockDev *blk_open_backing(BlockDev *bs, const char *name, const char *fmt, char *err, size_t errlen)
{
    char *path = blk_resolve_backing(bs->filename, name);
    struct stat st;
    if (stat(path, &st) == 0) {
        for (int i = 0; i <= bs->depth && i < (int)ARRAY_SIZE(opening_chain); i++) {
            BlockDev *p = i == bs->depth ? bs : opening_chain[i];
            if (p && p->st_dev == st.st_dev && p->st_ino == st.st_ino) {
                set_err(err, errlen, "backing chain loop: '%s' refers back to '%s'",
                        bs->filename, path);
                free(path);
                return NULL;
            }
        }
    }
    if (bs->depth < (int)ARRAY_SIZE(opening_chain))
        opening_chain[bs->depth] = bs;
    BlockDev *b = blk_open_internal(path, fmt, BLK_O_RDONLY | (bs->flags & BLK_O_NO_BACKING),
                                    bs, err, errlen);
    free(path);
    return b;
}

BlockDev *blk_open(const char *filename, const char *format, int flags,
                   char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    return blk_open_internal(filename, format, flags, NULL, err, errlen);
}

static BlockDev *open_snapshot_overlay(BlockDev *base, char *err, size_t errlen)
{
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir)
        tmpdir = "/var/tmp";
    char *path = xasprintf("%s/kestrel-snapshot.XXXXXX", tmpdir);
    int fd = mkstemp(path);
    if (fd < 0) {
        set_err(err, errlen, "snapshot mode: could not create a temporary file in %s: %s",
                tmpdir, strerror(errno));
        free(path);
        return NULL;
    }
    close(fd);
    char *abs = realpath(base->filename, NULL);
    BlockCreateOpts o = {
        .format = "qcow2", .size = base->size,
        .backing_file = abs ? abs : base->filename, .backing_fmt = base->drv->name,
    };
    int ret = blk_create(path, &o, err, errlen);
    free(abs);
    if (ret < 0) {
        unlink(path);
        free(path);
        return NULL;
    }
    BlockDev *top = blk_open_internal(path, "qcow2", BLK_O_RDWR | BLK_O_NO_BACKING, NULL, err, errlen);
    unlink(path);
    free(path);
    if (!top)
        return NULL;
    top->backing = base;
    base->depth = 1;
    return top;
}

int blk_close(BlockDev *bs)
{
    if (!bs)
        return 0;
    blk_aio_drain(bs);
    int ret = 0;
    if (!bs->read_only && bs->drv->flush)
        ret = bs->drv->flush(bs);
    bs->drv->close(bs);
    BlockDev *backing = bs->backing;
    close(bs->fd);
    pthread_mutex_destroy(&bs->lock);
    pthread_mutex_destroy(&bs->err_lock);
    free(bs->filename);
    free(bs->tmp_overlay);
    free(bs);
    if (backing)
        blk_close(backing);
    return ret;
}

static void lock(BlockDev *bs)
{
    if (!bs->drv->thread_safe)
        pthread_mutex_lock(&bs->lock);
}

static void unlock(BlockDev *bs)
{
    if (!bs->drv->thread_safe)
        pthread_mutex_unlock(&bs->lock);
}

static int check_range(BlockDev *bs, uint64_t off, uint64_t len)
{
    if (off > bs->size || len > bs->size - off)
        return blk_set_error(bs, EINVAL, "request [%" PRIu64 ", +%" PRIu64 ") is past the end of the device (%" PRIu64 " bytes)",
                             off, len, bs->size);
    return 0;
}

static int check_writable(BlockDev *bs)
{
    if (bs->read_only)
        return blk_set_error(bs, EROFS, "'%s' is opened read-only", bs->filename);
    return 0;
}

int blk_pread(BlockDev *bs, uint64_t offset, void *buf, size_t len)
{
    int ret = check_range(bs, offset, len);
    if (ret < 0 || !len)
        return ret;
    lock(bs);
    ret = bs->drv->pread(bs, offset, buf, len);
    unlock(bs);
    return ret;
}

int blk_pwrite(BlockDev *bs, uint64_t offset, const void *buf, size_t len)
{
    int ret = check_writable(bs);
    if (ret == 0)
        ret = check_range(bs, offset, len);
    if (ret < 0 || !len)
        return ret;
    lock(bs);
    ret = bs->drv->pwrite(bs, offset, buf, len);
    unlock(bs);
    return ret;
}

static size_t iov_size(const struct iovec *iov, int iovcnt)
{
    size_t n = 0;
    for (int i = 0; i < iovcnt; i++)
        n += iov[i].iov_len;
    return n;
}

/* One request over an I/O vector, under the device lock: the driver's vector
 * entry point when it has one, else one call per non-empty segment. */
static int vector_io(BlockDev *bs, uint64_t offset, const struct iovec *iov, int iovcnt,
                     bool write)
{
    const BlockDriver *drv = bs->drv;
    int ret = 0;
    lock(bs);
    if (write && drv->pwritev) {
        ret = drv->pwritev(bs, offset, iov, iovcnt);
    } else if (!write && drv->preadv) {
        ret = drv->preadv(bs, offset, iov, iovcnt);
    } else {
        for (int i = 0; i < iovcnt && ret == 0; i++) {
            if (iov[i].iov_len)
                ret = write ? drv->pwrite(bs, offset, iov[i].iov_base, iov[i].iov_len)
                            : drv->pread(bs, offset, iov[i].iov_base, iov[i].iov_len);
            offset += iov[i].iov_len;
        }
    }
    unlock(bs);
    return ret;
}

int blk_preadv(BlockDev *bs, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    int ret = check_range(bs, offset, iov_size(iov, iovcnt));
    if (ret < 0)
        return ret;
    return vector_io(bs, offset, iov, iovcnt, false);
}

int blk_pwritev(BlockDev *bs, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    int ret = check_writable(bs);
    if (ret == 0)
        ret = check_range(bs, offset, iov_size(iov, iovcnt));
    if (ret < 0)
        return ret;
    return vector_io(bs, offset, iov, iovcnt, true);
}

int blk_pwrite_compressed(BlockDev *bs, uint64_t offset, const void *buf, size_t len)
{
    int ret = check_writable(bs);
    if (ret == 0)
        ret = check_range(bs, offset, len);
    if (ret < 0)
        return ret;
    if (!bs->drv->pwrite_compressed)
        return blk_set_error(bs, ENOTSUP, "format %s does not support compression", bs->drv->name);
    lock(bs);
    ret = bs->drv->pwrite_compressed(bs, offset, buf, len);
    unlock(bs);
    return ret;
}

int blk_flush(BlockDev *bs)
{
    if (bs->read_only)
        return 0;
    lock(bs);
    int ret = bs->drv->flush ? bs->drv->flush(bs) : 0;
    unlock(bs);
    return ret;
}

int blk_discard(BlockDev *bs, uint64_t offset, uint64_t len)
{
    int ret = check_writable(bs);
    if (ret == 0)
        ret = check_range(bs, offset, len);
    if (ret < 0 || !len || !bs->drv->discard)
        return ret;
    lock(bs);
    ret = bs->drv->discard(bs, offset, len);
    unlock(bs);
    return ret;
}

int blk_write_zeroes(BlockDev *bs, uint64_t offset, uint64_t len)
{
    int ret = check_writable(bs);
    if (ret == 0)
        ret = check_range(bs, offset, len);
    if (ret < 0 || !len)
        return ret;
    lock(bs);
    if (bs->drv->write_zeroes) {
        ret = bs->drv->write_zeroes(bs, offset, len);
    } else {
        size_t chunk = 1 << 20;
        uint8_t *z = xzalloc(chunk);
        while (len && ret == 0) {
            size_t n = len < chunk ? len : chunk;
            ret = bs->drv->pwrite(bs, offset, z, n);
            offset += n;
            len -= n;
        }
        free(z);
    }
    unlock(bs);
    return ret;
}

int blk_save_vmstate(BlockDev *bs, const void *buf, uint64_t pos, size_t len)
{
    int ret = check_writable(bs);
    if (ret < 0)
        return ret;
    if (!bs->drv->save_vmstate)
        return blk_set_error(bs, ENOTSUP, "format %s cannot store VM state", bs->drv->name);
    lock(bs);
    ret = bs->drv->save_vmstate(bs, buf, pos, len);
    unlock(bs);
    return ret;
}

int blk_load_vmstate(BlockDev *bs, void *buf, uint64_t pos, size_t len)
{
    if (!bs->drv->load_vmstate)
        return blk_set_error(bs, ENOTSUP, "format %s cannot store VM state", bs->drv->name);
    lock(bs);
    int ret = bs->drv->load_vmstate(bs, buf, pos, len);
    unlock(bs);
    return ret;
}

int blk_make_empty(BlockDev *bs)
{
    int ret = check_writable(bs);
    if (ret < 0)
        return ret;
    if (!bs->drv->make_empty)
        return blk_set_error(bs, ENOTSUP, "format %s cannot be emptied", bs->drv->name);
    lock(bs);
    ret = bs->drv->make_empty(bs);
    unlock(bs);
    return ret;
}

int blk_truncate(BlockDev *bs, uint64_t size)
{
    int ret = check_writable(bs);
    if (ret < 0)
        return ret;
    if (!bs->drv->truncate)
        return blk_set_error(bs, ENOTSUP, "format %s cannot be resized", bs->drv->name);
    lock(bs);
    ret = bs->drv->truncate(bs, size);
    unlock(bs);
    return ret;
}

int64_t blk_getlength(BlockDev *bs) { return (int64_t)bs->size; }
const char *blk_format(BlockDev *bs) { return bs->drv->name; }
const char *blk_filename(BlockDev *bs) { return bs->filename; }
BlockDev *blk_backing(BlockDev *bs) { return bs->backing; }
bool blk_is_read_only(BlockDev *bs) { return bs->read_only; }

int blk_get_info(BlockDev *bs, BlockInfo *info)
{
    memset(info, 0, sizeof(*info));
    info->format = bs->drv->name;
    info->virtual_size = bs->size;
    struct stat st;
    if (fstat(bs->fd, &st) == 0)
        info->actual_size = (uint64_t)st.st_blocks * 512;
    if (!bs->drv->get_info)
        return 0;
    lock(bs);
    int ret = bs->drv->get_info(bs, info);
    unlock(bs);
    return ret;
}

void blk_info_free(BlockInfo *info)
{
    free(info->snapshots);
    info->snapshots = NULL;
}

int blk_block_status(BlockDev *bs, uint64_t offset, uint64_t len,
                     uint64_t *pnum, int *flags, uint64_t *map, BlockDev **file)
{
    int ret = check_range(bs, offset, len);
    if (ret < 0)
        return ret;
    if (len == 0)
        return blk_set_error(bs, EINVAL, "empty block-status request");
    lock(bs);
    ret = bs->drv->block_status(bs, offset, len, pnum, flags, map, file);
    unlock(bs);
    return ret;
}

#define SNAP_OP(call, ...)                                                    \
    do {                                                                      \
        if (!bs->drv->call)                                                   \
            return blk_set_error(bs, ENOTSUP,                                 \
                                 "format %s does not support internal snapshots", \
                                 bs->drv->name);                              \
        lock(bs);                                                             \
        int r_ = bs->drv->call(__VA_ARGS__);                                  \
        unlock(bs);                                                           \
        return r_;                                                            \
    } while (0)

int blk_snapshot_create(BlockDev *bs, const char *name, uint64_t vm_state_size)
{
    int ret = check_writable(bs);
    if (ret < 0)
        return ret;
    SNAP_OP(snapshot_create, bs, name, vm_state_size);
}

int blk_snapshot_list(BlockDev *bs, BlockSnapshotInfo **list)
{
    *list = NULL;
    if (!bs->drv->snapshot_list)
        return 0;
    SNAP_OP(snapshot_list, bs, list);
}

int blk_snapshot_apply(BlockDev *bs, const char *name)
{
    int ret = check_writable(bs);
    if (ret < 0)
        return ret;
    SNAP_OP(snapshot_apply, bs, name);
}

int blk_snapshot_delete(BlockDev *bs, const char *name)
{
    int ret = check_writable(bs);
    if (ret < 0)
        return ret;
    SNAP_OP(snapshot_delete, bs, name);
}

int blk_check(BlockDev *bs, BlockCheckResult *res, int fix)
{
    memset(res, 0, sizeof(*res));
    if (fix && bs->read_only)
        return blk_set_error(bs, EROFS, "cannot repair '%s': opened read-only", bs->filename);
    if (!bs->drv->check)
        return 0;
    lock(bs);
    int ret = bs->drv->check(bs, res, fix);
    unlock(bs);
    return ret;
}

void blk_check_result_free(BlockCheckResult *res)
{
    free(res->messages);
    res->messages = NULL;
}

int blk_create(const char *filename, const BlockCreateOpts *opts, char *err, size_t errlen)
{
    const BlockDriver *drv = find_driver(opts->format ? opts->format : "raw");
    if (!drv) {
        set_err(err, errlen, "unknown image format '%s' (supported: qcow2, raw)", opts->format);
        return -EINVAL;
    }
    return drv->create(filename, opts, err, errlen);
}

int blk_read_backing(BlockDev *backing, uint64_t off, void *buf, size_t len)
{
    uint64_t bsize = backing->size;
    if (off >= bsize) {
        memset(buf, 0, len);
        return 0;
    }
    size_t n = len;
    if (n > bsize - off)
        n = (size_t)(bsize - off);
    int ret = blk_pread(backing, off, buf, n);
    if (ret < 0)
        return ret;
    if (n < len)
        memset((uint8_t *)buf + n, 0, len - n);
    return 0;
}
