/* Scatter/gather helpers for the drivers: guest requests arrive as iovecs
 * (one per guest page for virtio-blk), and passing them to preadv/pwritev
 * whole costs one system call per host extent instead of one per page. */
#include "block/block-int.h"
#include "system/util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

int blk_iov_slice(const struct iovec *iov, int iovcnt, size_t skip, size_t len,
                  struct iovec *out)
{
    int n = 0;
    for (int i = 0; i < iovcnt && len; i++) {
        size_t l = iov[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        size_t take = MIN(l - skip, len);
        out[n].iov_base = (uint8_t *)iov[i].iov_base + skip;
        out[n].iov_len = take;
        n++;
        len -= take;
        skip = 0;
    }
    return n;
}

struct iovec *blk_iov_dup(const struct iovec *iov, int iovcnt)
{
    struct iovec *v = xmalloc(sizeof(*iov) * (size_t)MAX(iovcnt, 1));
    memcpy(v, iov, sizeof(*iov) * (size_t)iovcnt);
    return v;
}

void blk_iov_memset(const struct iovec *iov, int iovcnt, int c)
{
    for (int i = 0; i < iovcnt; i++)
        memset(iov[i].iov_base, c, iov[i].iov_len);
}

void blk_iov_to_buf(const struct iovec *iov, int iovcnt, void *buf)
{
    uint8_t *p = buf;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(p, iov[i].iov_base, iov[i].iov_len);
        p += iov[i].iov_len;
    }
}

void blk_iov_from_buf(const struct iovec *iov, int iovcnt, const void *buf)
{
    const uint8_t *p = buf;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(iov[i].iov_base, p, iov[i].iov_len);
        p += iov[i].iov_len;
    }
}

/* Step past n bytes: advances the array pointer and count, adjusting the first entry in
 * the caller's (writable) array. */
static void iov_advance(struct iovec **iov, int *iovcnt, size_t n)
{
    while (n && *iovcnt) {
        if (n < (*iov)->iov_len) {
            (*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
            (*iov)->iov_len -= n;
            return;
        }
        n -= (*iov)->iov_len;
        (*iov)++;
        (*iovcnt)--;
    }
}

/* iov is consumed (modified). Reads zero-fill past the end of the file. */
static int file_iov_io(int fd, struct iovec *iov, int iovcnt, uint64_t off, bool write)
{
    while (iovcnt) {
        int cnt = MIN(iovcnt, IOV_MAX);
        ssize_t n = write ? pwritev(fd, iov, cnt, (off_t)off) : preadv(fd, iov, cnt, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0) {
            if (write)
                return -EIO;
            blk_iov_memset(iov, iovcnt, 0);
            return 0;
        }
        off += (uint64_t)n;
        iov_advance(&iov, &iovcnt, (size_t)n);
    }
    return 0;
}

int blk_file_preadv_zfill(int fd, struct iovec *iov, int iovcnt, uint64_t off)
{
    return file_iov_io(fd, iov, iovcnt, off, false);
}

int blk_file_pwritev_full(int fd, struct iovec *iov, int iovcnt, uint64_t off)
{
    return file_iov_io(fd, iov, iovcnt, off, true);
}
