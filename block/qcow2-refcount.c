/* qcow2 refcounts: refcount table and blocks of any width (1..64 bits),
 * cluster allocation, deferred frees and the crash-safe flush order.
 *
 * Crash consistency: metadata (refcount blocks, L2 tables, L1) is written
 * back lazily from caches; guest data going to a newly allocated cluster is
 * written to the file immediately.  qcow2_flush_all() writes in this order:
 *   1. refcount blocks (+ refcount table, header if it moved), fdatasync
 *   2. L2 tables, fdatasync, then the L1 table, fdatasync
 *   3. decrements of clusters freed since the last flush, fdatasync
 * so an L2/L1 entry on disk never points to a cluster whose refcount is not
 * on disk, and a freed cluster is never reused (overwritten) before the
 * metadata that dropped it is on disk.  A kill at any moment leaves the
 * image as of the last flush, at worst with leaked clusters (a kill inside
 * a flush, between steps 1 and 2, or during 3); never a corruption. */
#include "block/qcow2.h"
#include "system/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

int qcow2_refblock_entry_get(Qcow2State *s, const uint8_t *blk, uint64_t idx, uint64_t *v)
{
    switch (s->refcount_order) {
    case 0: case 1: case 2: {
        uint32_t bits = s->refcount_bits;
        uint64_t bit = idx * bits;
        *v = (blk[bit / 8] >> (bit % 8)) & ((1U << bits) - 1);
        break;
    }
    case 3: *v = blk[idx]; break;
    case 4: *v = ldbe16(blk + idx * 2); break;
    case 5: *v = ldbe32(blk + idx * 4); break;
    default: *v = ldbe64(blk + idx * 8); break;
    }
    return 0;
}

void qcow2_refblock_entry_set(Qcow2State *s, uint8_t *blk, uint64_t idx, uint64_t v)
{
    switch (s->refcount_order) {
    case 0: case 1: case 2: {
        uint32_t bits = s->refcount_bits;
        uint64_t bit = idx * bits;
        uint8_t mask = (uint8_t)(((1U << bits) - 1) << (bit % 8));
        blk[bit / 8] = (uint8_t)((blk[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
        break;
    }
    case 3: blk[idx] = (uint8_t)v; break;
    case 4: stbe16(blk + idx * 2, (uint16_t)v); break;
    case 5: stbe32(blk + idx * 4, (uint32_t)v); break;
    default: stbe64(blk + idx * 8, v); break;
    }
}

int qcow2_refcount_init(Qcow2State *s)
{
    uint64_t bytes = (uint64_t)s->reftable_clusters << s->cluster_bits;
    s->reftable_size = bytes / 8;
    s->reftable = xmalloc(bytes);
    int ret = pread_full(s->bs->fd, s->reftable, bytes, s->reftable_offset);
    if (ret < 0)
        return blk_set_error(s->bs, ret, "could not read the refcount table: %s", strerror(-ret));
    for (uint64_t i = 0; i < s->reftable_size; i++)
        s->reftable[i] = ldbe64(&s->reftable[i]);
    return 0;
}

/* Validated refcount block offset for reftable index i (0 = none). */
static int refblock_offset(Qcow2State *s, uint64_t i, uint64_t *off)
{
    *off = 0;
    if (i >= s->reftable_size)
        return 0;
    uint64_t o = s->reftable[i] & REFT_OFFSET_MASK;
    if (!o)
        return 0;
    if (o & (s->cluster_size - 1))
        return qcow2_corrupt(s, "refcount block %" PRIu64 " at unaligned offset 0x%" PRIx64, i, o);
    if (o >= s->file_size)
        return qcow2_corrupt(s, "refcount block %" PRIu64 " at 0x%" PRIx64 " is past the end of the file", i, o);
    if (o < s->cluster_size)
        return qcow2_corrupt(s, "refcount block %" PRIu64 " overlaps the header", i);
    if ((s->l1_size && o < s->l1_offset + (uint64_t)s->l1_size * 8 && o + s->cluster_size > s->l1_offset) ||
        (o < s->reftable_offset + ((uint64_t)s->reftable_clusters << s->cluster_bits) &&
         o + s->cluster_size > s->reftable_offset))
        return qcow2_corrupt(s, "refcount block %" PRIu64 " overlaps other metadata", i);
    *off = o;
    return 0;
}

int qcow2_get_refcount(Qcow2State *s, uint64_t ci, uint64_t *rc)
{
    *rc = 0;
    uint64_t off;
    int ret = refblock_offset(s, ci >> s->rb_bits, &off);
    if (ret < 0 || !off)
        return ret;
    uint8_t *blk = qcow2_cache_get(s, &s->rb_cache, off, true, &ret);
    if (!blk)
        return ret;
    return qcow2_refblock_entry_get(s, blk, ci & ((1ULL << s->rb_bits) - 1), rc);
}

int qcow2_grow_file(Qcow2State *s, uint64_t end)
{
    if (end > s->file_size)
        s->file_size = end;
    return 0;
}

static int64_t alloc_clusters_internal(Qcow2State *s, uint64_t n);

static bool is_avoided(Qcow2State *s, uint64_t c)
{
    for (int i = 0; i < s->nb_avoid; i++)
        if (c >= s->avoid_start[i] && c < s->avoid_start[i] + s->avoid_n[i])
            return true;
    return false;
}

static int grow_reftable(Qcow2State *s, uint64_t min_index)
{
    if (s->in_grow)
        return blk_set_error(s->bs, EFBIG, "refcount table growth recursion");
    uint64_t entries_per_rb = 1ULL << s->rb_bits;
    uint64_t per_cluster = s->cluster_size / 8;
    uint64_t want = MAX(min_index + 1, s->reftable_size + s->reftable_size / 2);
    uint64_t end_ci = MAX(qcow2_size_to_clusters(s, s->file_size), (min_index + 1) * entries_per_rb);
    uint64_t new_clusters = 0;
    for (int i = 0; i < 3; i++) {
        new_clusters = (want + per_cluster - 1) / per_cluster;
        uint64_t cover = end_ci + new_clusters + 4 * entries_per_rb;
        want = MAX(want, (cover + entries_per_rb - 1) / entries_per_rb);
    }
    new_clusters = (want + per_cluster - 1) / per_cluster;
    if ((new_clusters << s->cluster_bits) > QCOW2_MAX_REFTABLE_BYTES)
        return blk_set_error(s->bs, EFBIG, "image too large: the refcount table would exceed %d MiB",
                             QCOW2_MAX_REFTABLE_BYTES >> 20);
    uint64_t new_size = new_clusters * per_cluster;
    s->reftable = xrealloc(s->reftable, new_size * 8);
    memset(&s->reftable[s->reftable_size], 0, (new_size - s->reftable_size) * 8);
    s->reftable_size = new_size;

    s->in_grow = true;
    int64_t off = alloc_clusters_internal(s, new_clusters);
    s->in_grow = false;
    if (off < 0)
        return (int)off;
    qcow2_free_deferred(s, s->reftable_offset, s->reftable_clusters);
    s->reftable_offset = (uint64_t)off;
    s->reftable_clusters = (uint32_t)new_clusters;
    s->reftable_moved = true;
    s->reftable_dirty = true;
    qcow2_meta_add(s, (uint64_t)off, new_clusters << s->cluster_bits);
    return 0;
}

/* Make sure the refcount block covering cluster ci exists. */
static int ensure_refblock(Qcow2State *s, uint64_t ci, uint8_t **blkp, uint64_t *blk_off)
{
    uint64_t rt = ci >> s->rb_bits;
    int ret;
    if (rt >= s->reftable_size) {
        ret = grow_reftable(s, rt);
        if (ret < 0)
            return ret;
    }
    uint64_t off;
    ret = refblock_offset(s, rt, &off);
    if (ret < 0)
        return ret;
    if (!off) {
        /* place the new block inside the range it covers, so that its own
         * refcount lives in itself */
        uint64_t first = rt << s->rb_bits, n = 1ULL << s->rb_bits;
        uint64_t pick = UINT64_MAX;
        for (uint64_t c = first; c < first + n; c++) {
            if (is_avoided(s, c))
                continue;
            if (qcow2_offset_is_metadata(s, c << s->cluster_bits))
                continue;
            if (s->check_refs && c < s->check_nb && s->check_refs[c])
                continue;
            pick = c;
            break;
        }
        if (pick == UINT64_MAX)
            return blk_set_error(s->bs, ENOSPC, "no room for a refcount block");
        off = pick << s->cluster_bits;
        uint8_t *blk = qcow2_cache_get(s, &s->rb_cache, off, false, &ret);
        if (!blk)
            return ret;
        qcow2_refblock_entry_set(s, blk, pick - first, 1);
        if (s->check_refs && pick < s->check_nb)
            s->check_refs[pick]++;
        qcow2_cache_mark_dirty(&s->rb_cache, off);
        s->rb_dirty = true;
        s->rc_unsynced = true;
        s->reftable[rt] = off;
        s->reftable_dirty = true;
        qcow2_meta_add(s, off, s->cluster_size);
        qcow2_grow_file(s, off + s->cluster_size);
    }
    uint8_t *blk = qcow2_cache_get(s, &s->rb_cache, off, true, &ret);
    if (!blk)
        return ret;
    *blkp = blk;
    *blk_off = off;
    return 0;
}

int qcow2_set_refcount(Qcow2State *s, uint64_t ci, uint64_t rc)
{
    uint8_t *blk = NULL;
    uint64_t boff = 0;
    if (rc > s->refcount_max)
        return blk_set_error(s->bs, ERANGE, "refcount overflow (cluster %" PRIu64 ")", ci);
    int ret = ensure_refblock(s, ci, &blk, &boff);
    if (ret < 0)
        return ret;
    qcow2_refblock_entry_set(s, blk, ci & ((1ULL << s->rb_bits) - 1), rc);
    qcow2_cache_mark_dirty(&s->rb_cache, boff);
    s->rb_dirty = true;
    s->rc_unsynced = true;
    if (rc == 0) {
        qcow2_meta_remove(s, ci);
        qcow2_cache_discard(&s->l2_cache, ci << s->cluster_bits);
        if (ci < s->free_hint)
            s->free_hint = ci;
    }
    return 0;
}

int qcow2_update_refcount(Qcow2State *s, uint64_t off, uint64_t len, int64_t delta)
{
    if (!len)
        return 0;
    uint64_t first = off >> s->cluster_bits;
    uint64_t last = (off + len - 1) >> s->cluster_bits;
    for (uint64_t ci = first; ci <= last; ci++) {
        uint64_t rc;
        int ret = qcow2_get_refcount(s, ci, &rc);
        if (ret < 0)
            return ret;
        if (delta < 0 && rc < (uint64_t)-delta)
            return qcow2_corrupt(s, "refcount of cluster %" PRIu64 " would drop below zero", ci);
        if (delta > 0 && s->refcount_max - rc < (uint64_t)delta)
            return blk_set_error(s->bs, ERANGE,
                                 "refcount overflow on cluster %" PRIu64 " (maximum %" PRIu64 " for %u-bit refcounts)",
                                 ci, s->refcount_max, s->refcount_bits);
        ret = qcow2_set_refcount(s, ci, rc + (uint64_t)delta);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int64_t alloc_clusters_internal(Qcow2State *s, uint64_t n)
{
    uint64_t ci = s->free_hint ? s->free_hint : 1;
    uint64_t run = 0, start = ci;
    uint64_t limit = (1ULL << (56 - s->cluster_bits));
    for (;; ci++) {
        if (ci >= limit)
            return blk_set_error(s->bs, ENOSPC, "image file too large");
        uint64_t rc;
        int ret = qcow2_get_refcount(s, ci, &rc);
        if (ret < 0)
            return ret;
        bool freec = rc == 0 && !qcow2_offset_is_metadata(s, ci << s->cluster_bits) &&
                     !is_avoided(s, ci);
        if (!freec) {
            run = 0;
            continue;
        }
        if (run == 0)
            start = ci;
        if (++run == n)
            break;
    }
    if (n == 1 || start == s->free_hint)
        s->free_hint = start + n;
    if (s->nb_avoid >= (int)ARRAY_SIZE(s->avoid_start))
        return blk_set_error(s->bs, EFBIG, "cluster allocation nested too deeply");
    int slot = s->nb_avoid++;
    s->avoid_start[slot] = start;
    s->avoid_n[slot] = n;
    for (uint64_t i = 0; i < n; i++) {
        int ret = qcow2_update_refcount(s, (start + i) << s->cluster_bits, 1, 1);
        if (ret < 0) {
            s->nb_avoid = slot;
            return ret;
        }
    }
    s->nb_avoid = slot;
    qcow2_grow_file(s, (start + n) << s->cluster_bits);
    return (int64_t)(start << s->cluster_bits);
}

int64_t qcow2_alloc_clusters(Qcow2State *s, uint64_t n)
{
    if (n == 0)
        n = 1;
    return alloc_clusters_internal(s, n);
}

int64_t qcow2_alloc_bytes(Qcow2State *s, uint64_t size)
{
    uint64_t cs = s->cluster_size;
    uint64_t t = s->compressed_tail;
    if (t && (t & (cs - 1)) && size <= cs - (t & (cs - 1))) {
        uint64_t rc;
        int ret = qcow2_get_refcount(s, t >> s->cluster_bits, &rc);
        if (ret < 0)
            return ret;
        if (rc > 0 && rc < s->refcount_max) {
            ret = qcow2_update_refcount(s, t, 1, 1);
            if (ret < 0)
                return ret;
            s->compressed_tail = t + size;
            return (int64_t)t;
        }
    }
    int64_t off = qcow2_alloc_clusters(s, (size + cs - 1) / cs);
    if (off < 0)
        return off;
    s->compressed_tail = (uint64_t)off + size;
    return off;
}

void qcow2_free_deferred(Qcow2State *s, uint64_t off, uint64_t nclusters)
{
    for (uint64_t i = 0; i < nclusters; i++) {
        if (s->nb_deferred == s->cap_deferred) {
            s->cap_deferred = s->cap_deferred ? s->cap_deferred * 2 : 64;
            s->deferred = xrealloc(s->deferred, s->cap_deferred * sizeof(uint64_t));
        }
        s->deferred[s->nb_deferred++] = off + (i << s->cluster_bits);
    }
}

void qcow2_free_l2_entry_deferred(Qcow2State *s, uint64_t l2e)
{
    switch (qcow2_l2_type(s, l2e)) {
    case QC_NORMAL:
    case QC_ZERO_ALLOC:
        qcow2_free_deferred(s, l2e & L2E_OFFSET_MASK, 1);
        break;
    case QC_COMPRESSED: {
        uint64_t coff = l2e & s->coffset_mask;
        uint64_t nsec = ((l2e >> s->csize_shift) & s->csize_mask) + 1;
        uint64_t end = (coff & ~511ULL) + nsec * 512;
        uint64_t first = coff >> s->cluster_bits, last = (end - 1) >> s->cluster_bits;
        for (uint64_t c = first; c <= last; c++)
            qcow2_free_deferred(s, c << s->cluster_bits, 1);
        break;
    }
    default:
        break;
    }
}

static int sync_file(Qcow2State *s)
{
    if (fdatasync(s->bs->fd) < 0)
        return blk_set_error(s->bs, errno, "fdatasync of '%s' failed: %s", s->bs->filename, strerror(errno));
    return 0;
}

int qcow2_flush_refcounts(Qcow2State *s)
{
    int ret;
    if (s->rb_dirty) {
        ret = qcow2_cache_write_dirty(s, &s->rb_cache);
        if (ret < 0)
            return ret;
        s->rb_dirty = false;
    }
    if (s->reftable_dirty) {
        /* blocks first, then the table that points to them */
        ret = qcow2_mark_dirty(s);
        if (ret == 0)
            ret = sync_file(s);
        if (ret < 0)
            return ret;
        uint64_t bytes = (uint64_t)s->reftable_clusters << s->cluster_bits;
        uint64_t *be = xmalloc(bytes);
        for (uint64_t i = 0; i < bytes / 8; i++)
            stbe64(&be[i], i < s->reftable_size ? s->reftable[i] : 0);
        ret = pwrite_full(s->bs->fd, be, bytes, s->reftable_offset);
        free(be);
        if (ret < 0)
            return blk_set_error(s->bs, ret, "could not write the refcount table: %s", strerror(-ret));
        qcow2_grow_file(s, s->reftable_offset + bytes);
        if (s->reftable_moved) {
            ret = sync_file(s);
            if (ret < 0)
                return ret;
            ret = qcow2_update_header(s);
            if (ret < 0)
                return ret;
            s->reftable_moved = false;
        }
        s->reftable_dirty = false;
        s->rc_unsynced = true;
    }
    if (s->rc_unsynced) {
        ret = sync_file(s);
        if (ret < 0)
            return ret;
        s->rc_unsynced = false;
    }
    return 0;
}

int qcow2_flush_all(Qcow2State *s)
{
    if (s->bs->read_only)
        return 0;
    /* frees below (and every operation that starts with a flush) must not
     * race with data I/O running without the lock (qcow2-io.c) */
    qcow2_quiesce(s);
    int ret = qcow2_flush_refcounts(s);
    if (ret < 0)
        return ret;
    bool any_l2 = false;
    for (int i = 0; i < s->l2_cache.n; i++)
        if (s->l2_cache.e[i].offset && s->l2_cache.e[i].dirty)
            any_l2 = true;
    if (any_l2) {
        ret = qcow2_cache_write_dirty(s, &s->l2_cache);
        if (ret < 0)
            return ret;
    }
    if (s->l1_dirty) {
        if (any_l2) {
            ret = sync_file(s);
            if (ret < 0)
                return ret;
        }
        ret = qcow2_write_l1(s);
        if (ret < 0)
            return ret;
    }
    if (s->nb_deferred) {
        ret = sync_file(s);
        if (ret < 0)
            return ret;
        /* the table may grow while we free; take the list first */
        uint64_t *list = s->deferred;
        size_t n = s->nb_deferred;
        s->deferred = NULL;
        s->nb_deferred = s->cap_deferred = 0;
        for (size_t i = 0; i < n && ret == 0; i++)
            ret = qcow2_update_refcount(s, list[i], 1, -1);
        free(list);
        if (ret < 0)
            return ret;
        ret = qcow2_flush_refcounts(s);
        if (ret < 0)
            return ret;
    }
    ret = sync_file(s);
    if (ret < 0)
        return ret;
    /* everything on disk is consistent again */
    return qcow2_mark_clean(s);
}
