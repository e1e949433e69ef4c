/* qcow2 data path on scatter/gather lists, with concurrent host I/O.
 *
 * The generic layer serialises qcow2 requests with the device lock
 * (bs->lock).  Metadata (L1/L2/refcounts, caches, allocation) is only
 * touched under that lock, but host data I/O on clusters that are already
 * allocated -- reads of data clusters, in-place writes to clusters this
 * image owns alone (L2 entry with the COPIED flag) -- runs with the lock
 * released, so requests to different clusters proceed in parallel and one
 * slow host read does not hold up the others; reads from the backing file
 * too (it is read-only to us).  Why that is safe:
 *   - the host offset and its validity checks are taken under the lock
 *     and no pointer into a cache is kept across the unlocked I/O;
 *   - a cluster dropped by a concurrent write, discard or snapshot
 *     operation is never reused while such I/O may still target it: frees
 *     are deferred to qcow2_flush_all(), which first waits until no
 *     unlocked I/O is in flight (qcow2_quiesce; new ones cannot start, the
 *     waiter holds the lock), and every snapshot/resize/repair operation
 *     starts with qcow2_flush_all();
 *   - writes that allocate (new cluster, copy-on-write from the backing
 *     file or a snapshot, zero or compressed clusters) keep the lock until
 *     the L2 entry is updated, so two partial writes to one new cluster
 *     can never race (both would copy the old content, one update lost).
 * Racing guest requests to the same sectors get one of the orders, as on
 * a real disk. */
#include "block/qcow2.h"
#include "system/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

static void io_begin(Qcow2State *s)
{
    pthread_mutex_lock(&s->io_lock);
    s->io_inflight++;
    pthread_mutex_unlock(&s->io_lock);
    pthread_mutex_unlock(&s->bs->lock);
}

static void io_end(Qcow2State *s)
{
    /* count down before taking bs->lock: a quiescing holder waits for us */
    pthread_mutex_lock(&s->io_lock);
    if (--s->io_inflight == 0)
        pthread_cond_broadcast(&s->io_idle);
    pthread_mutex_unlock(&s->io_lock);
    pthread_mutex_lock(&s->bs->lock);
}

void qcow2_quiesce(Qcow2State *s)
{
    pthread_mutex_lock(&s->io_lock);
    while (s->io_inflight)
        pthread_cond_wait(&s->io_idle, &s->io_lock);
    pthread_mutex_unlock(&s->io_lock);
}

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
    size_t n = 0;
    for (int i = 0; i < iovcnt; i++)
        n += iov[i].iov_len;
    return n;
}

static bool reads_as_zero(Qcow2State *s, Qcow2ClusterType t)
{
    return t == QC_ZERO_PLAIN || t == QC_ZERO_ALLOC || (t == QC_UNALLOCATED && !s->bs->backing);
}

/* A run of guest bytes from pos (at most max) that reads the same way:
 * contiguous data clusters, zeroes, or one cluster of anything else. */
typedef struct ReadExtent {
    Qcow2ClusterType type;
    uint64_t l2e;
    uint64_t host;      /* data clusters: host offset of pos */
    size_t len;
} ReadExtent;

static int read_extent(Qcow2State *s, uint64_t pos, size_t max, ReadExtent *x)
{
    uint64_t cs = s->cluster_size;
    uint64_t in = pos & (cs - 1);
    uint64_t *l2, l2off;
    int ret = qcow2_get_l2(s, pos >> (s->cluster_bits + s->l2_bits), false, &l2, &l2off);
    if (ret < 0)
        return ret;
    uint64_t idx = (pos >> s->cluster_bits) & (s->l2_entries - 1);
    x->l2e = qcow2_l2_entry_at(s, l2, pos);
    x->type = qcow2_l2_type(s, x->l2e);
    x->len = (size_t)MIN((uint64_t)max, cs - in);
    x->host = 0;
    uint64_t host = x->l2e & L2E_OFFSET_MASK;
    if (x->type == QC_NORMAL) {
        ret = qcow2_check_data_offset(s, x->l2e, host);
        if (ret < 0)
            return ret;
        x->host = host + in;
    }
    bool zero = reads_as_zero(s, x->type);
    if (!l2) {
        /* no L2 table: the rest of its range is unallocated alike */
        uint64_t table_left = ((s->l2_entries - idx) << s->cluster_bits) - in;
        x->len = (size_t)MIN((uint64_t)max, table_left);
        return 0;
    }
    if (x->type == QC_COMPRESSED)
        return 0;
    for (uint64_t i = idx + 1; i < s->l2_entries && x->len < max; i++) {
        uint64_t e = ldbe64(&l2[i]);
        Qcow2ClusterType t = qcow2_l2_type(s, e);
        bool same = zero ? reads_as_zero(s, t)
                  : x->type == QC_UNALLOCATED ? t == QC_UNALLOCATED
                  : t == QC_NORMAL && (e & L2E_OFFSET_MASK) == host + ((i - idx) << s->cluster_bits);
        if (!same)
            break;
        x->len += (size_t)MIN((uint64_t)(max - x->len), cs);
    }
    return 0;
}

/* Unallocated clusters read from the backing file (zeroes past its end),
 * with our lock released: the backing file is not ours to change. */
static int read_backing(Qcow2State *s, uint64_t pos, size_t len, const struct iovec *part, int np)
{
    BlockDev *backing = s->bs->backing;
    uint64_t bsize = (uint64_t)blk_getlength(backing);
    size_t n = pos >= bsize ? 0 : (size_t)MIN((uint64_t)len, bsize - pos);
    struct iovec *sub = blk_iov_dup(part, np);
    int ret = 0;
    if (n) {
        int ns = blk_iov_slice(part, np, 0, n, sub);
        io_begin(s);
        ret = blk_preadv(backing, pos, sub, ns);
        io_end(s);
        if (ret < 0)
            ret = blk_set_error(s->bs, ret, "read error on the backing file of '%s': %s",
                                s->bs->filename, blk_last_error(backing));
    }
    if (ret == 0 && n < len)
        blk_iov_memset(sub, blk_iov_slice(part, np, n, len - n, sub), 0);
    free(sub);
    return ret;
}

int qcow2_preadv(BlockDev *bs, uint64_t off, const struct iovec *iov, int iovcnt)
{
    Qcow2State *s = bs->opaque;
    size_t len = iov_total(iov, iovcnt), done = 0;
    struct iovec *part = blk_iov_dup(iov, iovcnt);
    int ret = 0;
    while (done < len && ret == 0) {
        uint64_t pos = off + done;
        ReadExtent x;
        ret = read_extent(s, pos, len - done, &x);
        if (ret < 0)
            break;
        int np = blk_iov_slice(iov, iovcnt, done, x.len, part);
        if (x.type == QC_NORMAL) {
            io_begin(s);
            ret = blk_file_preadv_zfill(bs->fd, part, np, x.host);
            io_end(s);
            if (ret < 0)
                ret = blk_set_error(bs, ret, "read error on '%s': %s", bs->filename, strerror(-ret));
        } else if (reads_as_zero(s, x.type)) {
            blk_iov_memset(part, np, 0);
        } else if (x.type == QC_UNALLOCATED) {
            ret = read_backing(s, pos, x.len, part, np);
        } else {
            /* compressed: one cluster, inflated under the lock */
            ret = qcow2_read_compressed_cluster(s, x.l2e, s->cbuf2);
            if (ret == 0)
                blk_iov_from_buf(part, np, s->cbuf2 + (pos & (s->cluster_size - 1)));
        }
        done += x.len;
    }
    free(part);
    return ret;
}

static bool owned_data(Qcow2State *s, uint64_t l2e)
{
    return qcow2_l2_type(s, l2e) == QC_NORMAL && (l2e & QCOW_OFLAG_COPIED);
}

/* Side-effect-free form of check_in_place, to extend a run. */
static bool in_place_ok(Qcow2State *s, uint64_t l2e)
{
    uint64_t host = l2e & L2E_OFFSET_MASK;
    return !(host & (s->cluster_size - 1)) && host < s->file_size && !qcow2_offset_is_metadata(s, host);
}

/* An owned data cluster may be overwritten in place if the entry is sane. */
static int check_in_place(Qcow2State *s, uint64_t l2e)
{
    uint64_t host = l2e & L2E_OFFSET_MASK;
    int ret = qcow2_check_data_offset(s, l2e, host);
    if (ret < 0)
        return ret;
    if (host >= s->file_size)
        return qcow2_corrupt(s, "data cluster at 0x%" PRIx64 " is past the end of the file", host);
    if (qcow2_offset_is_metadata(s, host))
        return qcow2_corrupt(s, "L2 entry points into metadata at 0x%" PRIx64 "; write refused", host);
    return 0;
}

/* The first and last clusters of an allocating write that the guest
 * covers only partly: their old content (backing file, zeroes, snapshot,
 * compressed) around the new bytes, as a cluster-sized buffer. */
static uint8_t *cow_cluster(Qcow2State *s, uint64_t l2e, uint64_t cluster_start,
                            uint64_t in, const struct iovec *data, int nd, int *err)
{
    uint8_t *b = xmalloc(s->cluster_size);
    *err = qcow2_read_piece(s, l2e, cluster_start, b, s->cluster_size);
    if (*err < 0) {
        free(b);
        return NULL;
    }
    blk_iov_to_buf(data, nd, b + in);
    return b;
}

/* Write len bytes at pos into k fresh contiguous clusters replacing the
 * entries idx..idx+k-1 of the L2 table at l2off (lock held throughout). */
static int write_allocating(Qcow2State *s, uint64_t pos, const struct iovec *src, int ns,
                            size_t len, uint64_t l2off, uint64_t idx, uint64_t k, const uint64_t *old)
{
    uint64_t cs = s->cluster_size;
    uint64_t in = pos & (cs - 1);
    size_t head = (size_t)MIN((uint64_t)len, cs - in);      /* guest bytes in the first cluster */
    size_t tail = (size_t)((in + len) & (cs - 1));          /* guest bytes in a partial last cluster */
    bool head_cow = in || (k == 1 && head < cs);
    bool tail_cow = k > 1 && tail;
    struct iovec *vec = xmalloc(sizeof(*vec) * (size_t)(ns + 2));
    struct iovec *piece = xmalloc(sizeof(*piece) * (size_t)ns);
    uint8_t *hb = NULL, *tb = NULL;
    int nv = 0, ret = 0;
    size_t mid_start = 0, mid_end = len;
    if (head_cow) {
        int np = blk_iov_slice(src, ns, 0, head, piece);
        hb = cow_cluster(s, old[0], pos - in, in, piece, np, &ret);
        if (!hb)
            goto out;
        vec[nv++] = (struct iovec){ hb, cs };
        mid_start = head;
    }
    if (tail_cow) {
        int np = blk_iov_slice(src, ns, len - tail, tail, piece);
        tb = cow_cluster(s, old[k - 1], pos + len - tail, 0, piece, np, &ret);
        if (!tb)
            goto out;
        mid_end = len - tail;
    }
    if (mid_end > mid_start)
        nv += blk_iov_slice(src, ns, mid_start, mid_end - mid_start, vec + nv);
    if (tb)
        vec[nv++] = (struct iovec){ tb, cs };

    int64_t host = qcow2_alloc_clusters(s, k);
    if (host < 0) {
        ret = (int)host;
        goto out;
    }
    ret = blk_file_pwritev_full(s->bs->fd, vec, nv, (uint64_t)host);
    if (ret < 0) {
        ret = blk_set_error(s->bs, ret, "write error on '%s': %s", s->bs->filename, strerror(-ret));
        goto out;
    }
    /* allocation only touched refcount blocks: the L2 table is cached */
    uint64_t *l2 = (uint64_t *)qcow2_cache_get(s, &s->l2_cache, l2off, true, &ret);
    if (!l2)
        goto out;
    for (uint64_t j = 0; j < k; j++) {
        stbe64(&l2[idx + j], ((uint64_t)host + (j << s->cluster_bits)) | QCOW_OFLAG_COPIED);
        qcow2_free_l2_entry_deferred(s, old[j]);
    }
    qcow2_cache_mark_dirty(&s->l2_cache, l2off);
out:
    free(hb);
    free(tb);
    free(vec);
    free(piece);
    return ret;
}

/* Write the part of [pos, pos+len) that lies in one L2 table; returns the
 * bytes done or -errno. */
static int64_t write_in_table(Qcow2State *s, uint64_t pos, const struct iovec *iov, int iovcnt,
                              size_t done, size_t len, struct iovec *part)
{
    uint64_t cs = s->cluster_size;
    uint64_t in = pos & (cs - 1);
    uint64_t idx = (pos >> s->cluster_bits) & (s->l2_entries - 1);
    uint64_t *l2, l2off;
    int ret = qcow2_get_l2(s, pos >> (s->cluster_bits + s->l2_bits), true, &l2, &l2off);
    if (ret < 0)
        return ret;
    size_t max = (size_t)MIN((uint64_t)len, ((s->l2_entries - idx) << s->cluster_bits) - in);
    uint64_t e = ldbe64(&l2[idx]);
    size_t n = (size_t)MIN((uint64_t)max, cs - in);
    uint64_t k = 1;
    if (owned_data(s, e)) {
        ret = check_in_place(s, e);
        if (ret < 0)
            return ret;
        uint64_t host = e & L2E_OFFSET_MASK;
        while (n < max) {
            uint64_t e2 = ldbe64(&l2[idx + k]);
            if (!owned_data(s, e2) || (e2 & L2E_OFFSET_MASK) != host + (k << s->cluster_bits) ||
                !in_place_ok(s, e2))
                break;
            n += (size_t)MIN((uint64_t)(max - n), cs);
            k++;
        }
        int np = blk_iov_slice(iov, iovcnt, done, n, part);
        io_begin(s);
        ret = blk_file_pwritev_full(s->bs->fd, part, np, host + in);
        io_end(s);
        if (ret < 0)
            return blk_set_error(s->bs, ret, "write error on '%s': %s", s->bs->filename, strerror(-ret));
        return (int64_t)n;
    }
    /* a run leaves room in its refcount block's range for the refcount
     * blocks the allocation may need (small clusters: few per block) */
    uint64_t kmax = MAX(1, (1ULL << s->rb_bits) / 4);
    while (n < max && k < kmax && !owned_data(s, ldbe64(&l2[idx + k]))) {
        n += (size_t)MIN((uint64_t)(max - n), cs);
        k++;
    }
    uint64_t *old = xmalloc(sizeof(*old) * k);
    for (uint64_t j = 0; j < k; j++)
        old[j] = ldbe64(&l2[idx + j]);
    int np = blk_iov_slice(iov, iovcnt, done, n, part);
    ret = write_allocating(s, pos, part, np, n, l2off, idx, k, old);
    free(old);
    return ret < 0 ? ret : (int64_t)n;
}

int qcow2_pwritev(BlockDev *bs, uint64_t off, const struct iovec *iov, int iovcnt)
{
    Qcow2State *s = bs->opaque;
    int ret = qcow2_check_writable(s);
    if (ret < 0)
        return ret;
    size_t len = iov_total(iov, iovcnt), done = 0;
    struct iovec *part = blk_iov_dup(iov, iovcnt);
    while (done < len) {
        int64_t n = write_in_table(s, off + done, iov, iovcnt, done, len - done, part);
        if (n < 0) {
            ret = (int)n;
            break;
        }
        done += (size_t)n;
    }
    free(part);
    return ret;
}
