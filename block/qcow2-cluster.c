/* qcow2 data path: L1/L2 lookup, cluster allocation with copy-on-write,
 * compressed clusters, zero clusters, discard, block status. */
#include "block/qcow2.h"
#include "system/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

static void l1_set(Qcow2State *s, uint64_t i, uint64_t v)
{
    s->l1[i] = v;
    if (!s->l1_dirty) {
        s->l1_dirty = true;
        s->l1_dirty_min = s->l1_dirty_max = (uint32_t)i;
    } else {
        s->l1_dirty_min = MIN(s->l1_dirty_min, (uint32_t)i);
        s->l1_dirty_max = MAX(s->l1_dirty_max, (uint32_t)i);
    }
}

int qcow2_write_l1(Qcow2State *s)
{
    if (!s->l1_dirty || !s->l1_size)
        return 0;
    int ret = qcow2_mark_dirty(s);
    if (ret < 0)
        return ret;
    uint32_t a = s->l1_dirty_min, b = MIN(s->l1_dirty_max, s->l1_size - 1);
    size_t n = (size_t)(b - a + 1);
    uint64_t *be = xmalloc(n * 8);
    for (size_t i = 0; i < n; i++)
        stbe64(&be[i], s->l1[a + i]);
    ret = pwrite_full(s->bs->fd, be, n * 8, s->l1_offset + (uint64_t)a * 8);
    free(be);
    if (ret < 0)
        return blk_set_error(s->bs, ret, "could not write the L1 table: %s", strerror(-ret));
    s->l1_dirty = false;
    return 0;
}

static int check_l2_offset(Qcow2State *s, uint64_t l1i, uint64_t off)
{
    if (off & (s->cluster_size - 1))
        return qcow2_corrupt(s, "L2 table %" PRIu64 " at unaligned offset 0x%" PRIx64, l1i, off);
    if (off < s->cluster_size)
        return qcow2_corrupt(s, "L2 table %" PRIu64 " overlaps the header", l1i);
    if (off >= s->file_size)
        return qcow2_corrupt(s, "L2 table %" PRIu64 " at 0x%" PRIx64 " is past the end of the file", l1i, off);
    if ((s->l1_size && off < s->l1_offset + (uint64_t)s->l1_size * 8 && off + s->cluster_size > s->l1_offset) ||
        (off < s->reftable_offset + ((uint64_t)s->reftable_clusters << s->cluster_bits) &&
         off + s->cluster_size > s->reftable_offset) ||
        (s->snapshots_size && off < s->snapshots_offset + s->snapshots_size &&
         off + s->cluster_size > s->snapshots_offset))
        return qcow2_corrupt(s, "L2 table %" PRIu64 " at 0x%" PRIx64 " overlaps other metadata", l1i, off);
    return 0;
}

/* Returns the cached (big-endian) L2 table for l1 index i. With alloc, the
 * table is created or copied (when shared with a snapshot) so that the
 * caller may modify it. *l2 is NULL when not allocated and !alloc. */
int qcow2_get_l2(Qcow2State *s, uint64_t i, bool alloc, uint64_t **l2, uint64_t *l2_off)
{
    int ret;
    *l2 = NULL;
    if (i >= s->l1_size)
        return alloc ? blk_set_error(s->bs, EINVAL, "L1 index out of range") : 0;
    uint64_t l1e = s->l1[i];
    uint64_t off = l1e & L1E_OFFSET_MASK;
    if (!off) {
        if (!alloc)
            return 0;
        int64_t n = qcow2_alloc_clusters(s, 1);
        if (n < 0)
            return (int)n;
        uint8_t *t = qcow2_cache_get(s, &s->l2_cache, (uint64_t)n, false, &ret);
        if (!t)
            return ret;
        qcow2_cache_mark_dirty(&s->l2_cache, (uint64_t)n);
        qcow2_meta_add(s, (uint64_t)n, s->cluster_size);
        l1_set(s, i, (uint64_t)n | QCOW_OFLAG_COPIED);
        *l2 = (uint64_t *)t;
        *l2_off = (uint64_t)n;
        return 0;
    }
    ret = check_l2_offset(s, i, off);
    if (ret < 0)
        return ret;
    uint8_t *t = qcow2_cache_get(s, &s->l2_cache, off, true, &ret);
    if (!t)
        return ret;
    if (alloc && !(l1e & QCOW_OFLAG_COPIED)) {
        /* shared with a snapshot: copy on write */
        uint8_t *copy = xmalloc(s->cluster_size);
        memcpy(copy, t, s->cluster_size);
        int64_t n = qcow2_alloc_clusters(s, 1);
        if (n < 0) {
            free(copy);
            return (int)n;
        }
        t = qcow2_cache_get(s, &s->l2_cache, (uint64_t)n, false, &ret);
        if (!t) {
            free(copy);
            return ret;
        }
        memcpy(t, copy, s->cluster_size);
        free(copy);
        qcow2_cache_mark_dirty(&s->l2_cache, (uint64_t)n);
        qcow2_meta_add(s, (uint64_t)n, s->cluster_size);
        l1_set(s, i, (uint64_t)n | QCOW_OFLAG_COPIED);
        qcow2_free_deferred(s, off, 1);
        off = (uint64_t)n;
    }
    *l2 = (uint64_t *)t;
    *l2_off = off;
    return 0;
}

int qcow2_read_compressed_cluster(Qcow2State *s, uint64_t l2e, uint8_t *out)
{
    uint64_t coff = l2e & s->coffset_mask;
    uint64_t nsec = ((l2e >> s->csize_shift) & s->csize_mask) + 1;
    uint64_t csize = nsec * 512 - (coff & 511);
    if (coff >= s->file_size)
        return qcow2_corrupt(s, "compressed cluster at 0x%" PRIx64 " is past the end of the file", coff);
    if (coff < s->cluster_size)
        return qcow2_corrupt(s, "compressed cluster overlaps the header");
    csize = MIN(csize, s->file_size - coff);
    uint8_t *in = xmalloc(csize);
    int ret = blk_file_pread_zfill(s->bs->fd, in, csize, coff);
    if (ret < 0) {
        free(in);
        return blk_set_error(s->bs, ret, "read error on compressed cluster: %s", strerror(-ret));
    }
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, -12) != Z_OK) {
        free(in);
        return blk_set_error(s->bs, ENOMEM, "zlib initialisation failed");
    }
    z.next_in = in;
    z.avail_in = (uInt)csize;
    z.next_out = out;
    z.avail_out = (uInt)s->cluster_size;
    int zr = inflate(&z, Z_FINISH);
    bool ok = (zr == Z_STREAM_END || zr == Z_BUF_ERROR) && z.avail_out == 0;
    inflateEnd(&z);
    free(in);
    if (!ok)
        return qcow2_corrupt(s, "could not decompress the cluster at 0x%" PRIx64, coff);
    return 0;
}

static int read_host(Qcow2State *s, uint64_t host, void *buf, size_t len)
{
    int ret = blk_file_pread_zfill(s->bs->fd, buf, len, host);
    if (ret < 0)
        return blk_set_error(s->bs, ret, "read error on '%s': %s", s->bs->filename, strerror(-ret));
    return 0;
}

int qcow2_check_data_offset(Qcow2State *s, uint64_t l2e, uint64_t host)
{
    if (host & (s->cluster_size - 1))
        return qcow2_corrupt(s, "data cluster at unaligned offset 0x%" PRIx64 " (L2 entry 0x%" PRIx64 ")",
                             host, l2e);
    return 0;
}

/* Read one piece inside a single cluster, given its L2 entry. */
int qcow2_read_piece(Qcow2State *s, uint64_t l2e, uint64_t off, uint8_t *buf, size_t len)
{
    uint64_t in = off & (s->cluster_size - 1);
    BlockDev *bs = s->bs;
    switch (qcow2_l2_type(s, l2e)) {
    case QC_UNALLOCATED:
        if (bs->backing)
            return blk_read_backing(bs->backing, off, buf, len);
        memset(buf, 0, len);
        return 0;
    case QC_ZERO_PLAIN:
    case QC_ZERO_ALLOC:
        memset(buf, 0, len);
        return 0;
    case QC_NORMAL: {
        uint64_t host = l2e & L2E_OFFSET_MASK;
        int ret = qcow2_check_data_offset(s, l2e, host);
        if (ret < 0)
            return ret;
        return read_host(s, host + in, buf, len);
    }
    case QC_COMPRESSED: {
        int ret = qcow2_read_compressed_cluster(s, l2e, s->cbuf2);
        if (ret < 0)
            return ret;
        memcpy(buf, s->cbuf2 + in, len);
        return 0;
    }
    }
    return 0;
}

uint64_t qcow2_l2_entry_at(Qcow2State *s, const uint64_t *l2, uint64_t off)
{
    if (!l2)
        return 0;
    return ldbe64(&l2[(off >> s->cluster_bits) & (s->l2_entries - 1)]);
}

/* Buffer forms of the scatter/gather data path (block/qcow2-io.c). */
int qcow2_read(BlockDev *bs, uint64_t off, void *buf, size_t len)
{
    struct iovec v = { buf, len };
    return qcow2_preadv(bs, off, &v, 1);
}

int qcow2_write(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    struct iovec v = { (void *)buf, len };
    return qcow2_pwritev(bs, off, &v, 1);
}

int qcow2_write_compressed(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    Qcow2State *s = bs->opaque;
    int wret = qcow2_check_writable(s);
    if (wret < 0)
        return wret;
    uint64_t cs = s->cluster_size;
    if ((off & (cs - 1)) || len > cs || (len < cs && off + len != bs->size))
        return blk_set_error(bs, EINVAL, "compressed writes must cover exactly one cluster");
    uint8_t *in = xzalloc(cs);
    memcpy(in, buf, len);
    uLong outcap = (uLong)cs;
    uint8_t *out = xmalloc(outcap);
    z_stream z;
    memset(&z, 0, sizeof(z));
    int ret = 0;
    size_t clen = 0;
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
        ret = blk_set_error(bs, ENOMEM, "zlib initialisation failed");
        goto out;
    }
    z.next_in = in;
    z.avail_in = (uInt)cs;
    z.next_out = out;
    z.avail_out = (uInt)outcap;
    int zr = deflate(&z, Z_FINISH);
    clen = outcap - z.avail_out;
    deflateEnd(&z);
    uint64_t l1i = off >> (s->cluster_bits + s->l2_bits);
    uint64_t *l2, l2off;
    uint64_t l2e = 0;
    if (zr == Z_STREAM_END && clen < cs - 512) {
        ret = qcow2_get_l2(s, l1i, true, &l2, &l2off);
        if (ret < 0)
            goto out;
        l2e = qcow2_l2_entry_at(s, l2, off);
    }
    Qcow2ClusterType t = qcow2_l2_type(s, l2e);
    if (zr != Z_STREAM_END || clen >= cs - 512 || (t != QC_UNALLOCATED && t != QC_ZERO_PLAIN)) {
        /* incompressible, or the cluster is in use: plain write */
        ret = qcow2_write(bs, off, in, cs > bs->size - off ? (size_t)(bs->size - off) : cs);
        goto out;
    }
    int64_t coff = qcow2_alloc_bytes(s, clen);
    if (coff < 0) {
        ret = (int)coff;
        goto out;
    }
    ret = pwrite_full(bs->fd, out, clen, (uint64_t)coff);
    if (ret < 0) {
        ret = blk_set_error(bs, ret, "write error: %s", strerror(-ret));
        goto out;
    }
    uint64_t nsec = (((uint64_t)coff + clen - 1) >> 9) - ((uint64_t)coff >> 9) + 1;
    if (nsec - 1 > s->csize_mask) {
        ret = blk_set_error(bs, EINVAL, "compressed cluster too large");
        goto out;
    }
    l2 = (uint64_t *)qcow2_cache_get(s, &s->l2_cache, l2off, true, &ret);
    if (!l2)
        goto out;
    stbe64(&l2[(off >> s->cluster_bits) & (s->l2_entries - 1)],
           QCOW_OFLAG_COMPRESSED | ((nsec - 1) << s->csize_shift) | (uint64_t)coff);
    qcow2_cache_mark_dirty(&s->l2_cache, l2off);
out:
    free(in);
    free(out);
    return ret;
}

/* Set the L2 entries of whole clusters [first, first+count) to val (0 or
 * the zero flag), freeing what they pointed to. */
static int set_clusters(Qcow2State *s, uint64_t off, uint64_t count, uint64_t val)
{
    uint64_t cs = s->cluster_size;
    while (count) {
        uint64_t l1i = off >> (s->cluster_bits + s->l2_bits);
        uint64_t idx = (off >> s->cluster_bits) & (s->l2_entries - 1);
        uint64_t n = MIN(count, s->l2_entries - idx);
        uint64_t *l2, l2off;
        bool need = l1i < s->l1_size && (s->l1[l1i] & L1E_OFFSET_MASK);
        if (!need && val == 0) {
            off += n * cs;
            count -= n;
            continue;
        }
        if (!need && !s->bs->backing && val == QCOW_OFLAG_ZERO) {
            /* unallocated without backing already reads as zero */
            off += n * cs;
            count -= n;
            continue;
        }
        /* check whether anything changes before copying a shared table */
        int ret = qcow2_get_l2(s, l1i, false, &l2, &l2off);
        if (ret < 0)
            return ret;
        bool change = !l2;
        for (uint64_t i = 0; l2 && i < n; i++) {
            uint64_t e = ldbe64(&l2[idx + i]);
            if ((e & ~QCOW_OFLAG_COPIED) != val)
                change = true;
        }
        if (change) {
            ret = qcow2_get_l2(s, l1i, true, &l2, &l2off);
            if (ret < 0)
                return ret;
            for (uint64_t i = 0; i < n; i++) {
                uint64_t e = ldbe64(&l2[idx + i]);
                if (e == val)
                    continue;
                stbe64(&l2[idx + i], val);
                qcow2_free_l2_entry_deferred(s, e);
            }
            qcow2_cache_mark_dirty(&s->l2_cache, l2off);
        }
        off += n * cs;
        count -= n;
    }
    return 0;
}

/* The whole clusters inside [off, off + len): [*start, *end). A range that
 * reaches the end of the disk owns its last, partial cluster. */
static void whole_clusters(const BlockDev *bs, const Qcow2State *s, uint64_t off, uint64_t len,
                           uint64_t *start, uint64_t *end)
{
    uint64_t cs = s->cluster_size;
    *start = ALIGN_UP(off, cs);
    *end = off + len == bs->size ? ALIGN_UP(off + len, cs) : ALIGN_DOWN(off + len, cs);
}

int qcow2_discard(BlockDev *bs, uint64_t off, uint64_t len)
{
    Qcow2State *s = bs->opaque;
    int wret = qcow2_check_writable(s);
    if (wret < 0)
        return wret;
    uint64_t start, end;
    whole_clusters(bs, s, off, len, &start, &end);
    if (end <= start)
        return 0;
    uint64_t val = (bs->backing || s->backing_file) && s->version >= 3 ? QCOW_OFLAG_ZERO : 0;
    return set_clusters(s, start, (end - start) >> s->cluster_bits, val);
}

static uint64_t vmstate_offset(Qcow2State *s)
{
    uint64_t l2_cover = s->cluster_size * s->l2_entries;
    return ALIGN_UP(s->bs->size, l2_cover);
}

static int vmstate_range(Qcow2State *s, uint64_t pos, size_t len, uint64_t *off)
{
    uint64_t l2_cover = s->cluster_size * s->l2_entries;
    uint64_t base = vmstate_offset(s);
    if (pos > (1ULL << 40) || len > (1ULL << 40) || base + pos + len > (1ULL << 61))
        return blk_set_error(s->bs, EINVAL, "VM state range too large");
    *off = base + pos;
    uint64_t need = (base + pos + len + l2_cover - 1) / l2_cover;
    if (need * 8 > QCOW2_MAX_L1_BYTES)
        return blk_set_error(s->bs, EFBIG, "VM state does not fit in the L1 table");
    return (int)(need > s->l1_size ? 1 : 0);
}

int qcow2_save_vmstate(BlockDev *bs, const void *buf, uint64_t pos, size_t len)
{
    Qcow2State *s = bs->opaque;
    int wret = qcow2_check_writable(s);
    if (wret < 0)
        return wret;
    uint64_t off;
    int r = vmstate_range(s, pos, len, &off);
    if (r < 0)
        return r;
    if (r > 0) {
        uint64_t l2_cover = s->cluster_size * s->l2_entries;
        r = qcow2_grow_l1(s, (off + len + l2_cover - 1) / l2_cover);
        if (r < 0)
            return r;
    }
    return qcow2_write(bs, off, buf, len);
}

int qcow2_load_vmstate(BlockDev *bs, void *buf, uint64_t pos, size_t len)
{
    Qcow2State *s = bs->opaque;
    uint64_t off;
    int r = vmstate_range(s, pos, len, &off);
    if (r < 0)
        return r;
    /* past the L1 table reads as zero; never from the backing file */
    uint8_t *p = buf;
    while (len) {
        uint64_t in = off & (s->cluster_size - 1);
        size_t n = (size_t)MIN((uint64_t)len, s->cluster_size - in);
        uint64_t *l2, l2off;
        int ret = qcow2_get_l2(s, off >> (s->cluster_bits + s->l2_bits), false, &l2, &l2off);
        if (ret < 0)
            return ret;
        uint64_t e = qcow2_l2_entry_at(s, l2, off);
        if (qcow2_l2_type(s, e) == QC_UNALLOCATED)
            memset(p, 0, n);
        else if ((ret = qcow2_read_piece(s, e, off, p, n)) < 0)
            return ret;
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

int qcow2_make_empty(BlockDev *bs)
{
    Qcow2State *s = bs->opaque;
    int wret = qcow2_check_writable(s);
    if (wret < 0)
        return wret;
    int ret = set_clusters(s, 0, qcow2_size_to_clusters(s, bs->size), 0);
    if (ret < 0)
        return ret;
    return qcow2_flush_all(s);
}

int qcow2_write_zeroes(BlockDev *bs, uint64_t off, uint64_t len)
{
    Qcow2State *s = bs->opaque;
    int wret = qcow2_check_writable(s);
    if (wret < 0)
        return wret;
    uint64_t cs = s->cluster_size;
    uint64_t start, end;
    whole_clusters(bs, s, off, len, &start, &end);
    bool has_backing = bs->backing || s->backing_file;
    if (end <= start || (s->version < 3 && has_backing)) {
        /* write real zeroes */
        uint8_t *z = xzalloc(cs);
        int ret = 0;
        while (len && ret == 0) {
            size_t n = (size_t)MIN(len, cs - (off & (cs - 1)));
            ret = qcow2_write(bs, off, z, n);
            off += n;
            len -= n;
        }
        free(z);
        return ret;
    }
    uint8_t *z = xzalloc(cs);
    int ret = 0;
    if (start > off)
        ret = qcow2_write(bs, off, z, (size_t)(start - off));
    if (ret == 0 && end < off + len)
        ret = qcow2_write(bs, end, z, (size_t)(off + len - end));
    free(z);
    if (ret < 0)
        return ret;
    return set_clusters(s, start, (end - start) >> s->cluster_bits,
                        s->version >= 3 ? QCOW_OFLAG_ZERO : 0);
}

int qcow2_block_status(BlockDev *bs, uint64_t off, uint64_t len,
                       uint64_t *pnum, int *flags, uint64_t *map, BlockDev **file)
{
    Qcow2State *s = bs->opaque;
    uint64_t cs = s->cluster_size;
    uint64_t l1i = off >> (s->cluster_bits + s->l2_bits);
    uint64_t idx = (off >> s->cluster_bits) & (s->l2_entries - 1);
    uint64_t *l2, l2off;
    int ret = qcow2_get_l2(s, l1i, false, &l2, &l2off);
    if (ret < 0)
        return ret;
    uint64_t in = off & (cs - 1);
    *file = bs;
    *map = 0;
    if (!l2) {
        /* whole L2 range unallocated */
        uint64_t n = (s->l2_entries - idx) * cs - in;
        *pnum = MIN(n, len);
        *flags = 0;
        return 0;
    }
    uint64_t e = ldbe64(&l2[idx]);
    Qcow2ClusterType t = qcow2_l2_type(s, e);
    int f = 0;
    switch (t) {
    case QC_UNALLOCATED: f = 0; break;
    case QC_ZERO_PLAIN:
    case QC_ZERO_ALLOC: f = BLK_STATUS_ZERO | BLK_STATUS_ALLOCATED; break;
    case QC_NORMAL: f = BLK_STATUS_DATA | BLK_STATUS_ALLOCATED | BLK_STATUS_OFFSET; break;
    case QC_COMPRESSED: f = BLK_STATUS_DATA | BLK_STATUS_ALLOCATED | BLK_STATUS_COMPRESSED; break;
    }
    uint64_t host = e & L2E_OFFSET_MASK;
    uint64_t n = cs - in;
    for (uint64_t i = idx + 1; i < s->l2_entries && n < len; i++) {
        uint64_t e2 = ldbe64(&l2[i]);
        Qcow2ClusterType t2 = qcow2_l2_type(s, e2);
        bool same;
        if (t == QC_NORMAL)
            same = t2 == QC_NORMAL && (e2 & L2E_OFFSET_MASK) == host + (i - idx) * cs;
        else if (t == QC_ZERO_PLAIN || t == QC_ZERO_ALLOC)
            same = t2 == QC_ZERO_PLAIN || t2 == QC_ZERO_ALLOC;
        else
            same = t2 == t;
        if (!same)
            break;
        n += cs;
    }
    *pnum = MIN(n, len);
    *flags = f;
    if (t == QC_NORMAL)
        *map = host + in;
    return 0;
}

int qcow2_grow_l1(Qcow2State *s, uint64_t min_size)
{
    int ret = qcow2_flush_all(s);
    if (ret < 0)
        return ret;
    uint64_t new_size = min_size;
    uint64_t bytes = ALIGN_UP(new_size * 8, s->cluster_size);
    uint64_t nclusters = bytes >> s->cluster_bits;
    new_size = bytes / 8;
    if (bytes > QCOW2_MAX_L1_BYTES)
        new_size = QCOW2_MAX_L1_BYTES / 8;
    int64_t off = qcow2_alloc_clusters(s, nclusters);
    if (off < 0)
        return (int)off;
    ret = qcow2_flush_refcounts(s);
    if (ret == 0)
        ret = qcow2_mark_dirty(s);
    if (ret < 0)
        return ret;
    uint64_t *be = xzalloc(bytes);
    for (uint32_t i = 0; i < s->l1_size; i++)
        stbe64(&be[i], s->l1[i]);
    ret = pwrite_full(s->bs->fd, be, bytes, (uint64_t)off);
    free(be);
    if (ret < 0)
        return blk_set_error(s->bs, ret, "could not write the L1 table: %s", strerror(-ret));
    if (fdatasync(s->bs->fd) < 0)
        return blk_set_error(s->bs, errno, "fdatasync failed: %s", strerror(errno));
    uint64_t old_off = s->l1_offset, old_size = s->l1_size;
    s->l1 = xrealloc(s->l1, new_size * 8);
    memset(&s->l1[s->l1_size], 0, (new_size - s->l1_size) * 8);
    s->l1_offset = (uint64_t)off;
    s->l1_size = (uint32_t)new_size;
    qcow2_meta_add(s, (uint64_t)off, bytes);
    ret = qcow2_update_header(s);
    if (ret < 0)
        return ret;
    if (fdatasync(s->bs->fd) < 0)
        return blk_set_error(s->bs, errno, "fdatasync failed: %s", strerror(errno));
    if (old_size) {
        ret = qcow2_update_refcount(s, old_off, old_size * 8, -1);
        if (ret < 0)
            return ret;
    }
    return qcow2_flush_refcounts(s);
}

int qcow2_fix_copied_flags(Qcow2State *s)
{
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t off = s->l1[i] & L1E_OFFSET_MASK;
        if (!off)
            continue;
        uint64_t rc;
        int ret = qcow2_get_refcount(s, off >> s->cluster_bits, &rc);
        if (ret < 0)
            return ret;
        uint64_t want = off | (rc == 1 ? QCOW_OFLAG_COPIED : 0);
        if (s->l1[i] != want)
            l1_set(s, i, want);
        ret = check_l2_offset(s, i, off);
        if (ret < 0)
            return ret;
        uint8_t *t = qcow2_cache_get(s, &s->l2_cache, off, true, &ret);
        if (!t)
            return ret;
        uint64_t *l2 = xmalloc(s->cluster_size);
        memcpy(l2, t, s->cluster_size);
        bool changed = false;
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint64_t e = ldbe64(&l2[j]);
            Qcow2ClusterType ty = qcow2_l2_type(s, e);
            uint64_t ne = e;
            if (ty == QC_NORMAL || ty == QC_ZERO_ALLOC) {
                ret = qcow2_get_refcount(s, (e & L2E_OFFSET_MASK) >> s->cluster_bits, &rc);
                if (ret < 0) {
                    free(l2);
                    return ret;
                }
                ne = rc == 1 ? (e | QCOW_OFLAG_COPIED) : (e & ~QCOW_OFLAG_COPIED);
            } else {
                ne = e & ~QCOW_OFLAG_COPIED;
            }
            if (ne != e) {
                stbe64(&l2[j], ne);
                changed = true;
            }
        }
        if (changed) {
            t = qcow2_cache_get(s, &s->l2_cache, off, true, &ret);
            if (!t) {
                free(l2);
                return ret;
            }
            memcpy(t, l2, s->cluster_size);
            qcow2_cache_mark_dirty(&s->l2_cache, off);
        }
        free(l2);
    }
    return 0;
}

 /* Apply delta to every cluster reachable from l1, stopping before entry
 * (stop_i, stop_j) (stop_j == l2_entries + 1: including the table itself).
 * On failure fail_i and fail_j tell where it stopped. */
static int l1_refcounts_range(Qcow2State *s, const uint64_t *l1, uint32_t l1_size, int64_t delta,
                              uint32_t stop_i, uint64_t stop_j, uint32_t *fail_i, uint64_t *fail_j)
{
    uint64_t *l2 = xmalloc(s->cluster_size);
    int ret = 0;
    for (uint32_t i = 0; i < l1_size && i <= stop_i && ret == 0; i++) {
        uint64_t off = l1[i] & L1E_OFFSET_MASK;
        if (!off)
            continue;
        *fail_i = i;
        *fail_j = 0;
        ret = check_l2_offset(s, i, off);
        if (ret < 0)
            break;
        uint8_t *t = qcow2_cache_get(s, &s->l2_cache, off, true, &ret);
        if (!t)
            break;
        memcpy(l2, t, s->cluster_size);
        uint64_t jmax = i == stop_i ? MIN(stop_j, s->l2_entries) : s->l2_entries;
        for (uint64_t j = 0; j < jmax && ret == 0; j++) {
            uint64_t e = ldbe64(&l2[j]);
            *fail_j = j;
            switch (qcow2_l2_type(s, e)) {
            case QC_NORMAL:
            case QC_ZERO_ALLOC:
                ret = qcow2_update_refcount(s, e & L2E_OFFSET_MASK, 1, delta);
                break;
            case QC_COMPRESSED: {
                uint64_t coff = e & s->coffset_mask;
                uint64_t nsec = ((e >> s->csize_shift) & s->csize_mask) + 1;
                ret = qcow2_update_refcount(s, coff & ~511ULL, nsec * 512, delta);
                break;
            }
            default:
                break;
            }
        }
        if (ret == 0 && (i != stop_i || stop_j > s->l2_entries)) {
            *fail_j = s->l2_entries;
            ret = qcow2_update_refcount(s, off, 1, delta);
        }
    }
    free(l2);
    return ret;
}

int qcow2_update_l1_refcounts(Qcow2State *s, const uint64_t *l1, uint32_t l1_size, int64_t delta)
{
    uint32_t fi = 0;
    uint64_t fj = 0;
    int ret = l1_refcounts_range(s, l1, l1_size, delta, UINT32_MAX, UINT64_MAX, &fi, &fj);
    if (ret < 0 && delta > 0) {
        /* undo what was done (e.g. refcount overflow): no leaks */
        uint32_t a;
        uint64_t b;
        char saved[BLK_ERR_LEN];
        snprintf(saved, sizeof(saved), "%s", blk_last_error(s->bs));
        l1_refcounts_range(s, l1, l1_size, -delta, fi, fj, &a, &b);
        blk_set_error(s->bs, -ret, "%s", saved);
    }
    return ret;
}
