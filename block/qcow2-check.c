/* qcow2 consistency check and repair: recompute every cluster's reference
 * count from the metadata (header, L1/L2 of the active state and of every
 * snapshot, refcount structures, snapshot table) and compare with the
 * stored refcounts.  Work and memory are bounded by the file size, so
 * hostile images (huge tables, duplicated L2 pointers, loops) stay cheap. */
#include "block/qcow2.h"
#include "system/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CHECK_CLUSTERS (1ULL << 25)
#define MAX_L1_WALK (1ULL << 27)

typedef struct CheckState {
    Qcow2State *s;
    BlockCheckResult *res;
    uint32_t *refs;
    uint64_t nb_clusters;
    uint64_t last_data;         /* for fragmentation stats */
} CheckState;

static void msg(BlockCheckResult *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg(BlockCheckResult *res, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    if (res->messages_len > (1u << 20)) {
        res->messages_dropped++;    /* enough said */
        return;
    }
    if (res->messages_len + (size_t)n + 2 > res->messages_cap) {
        res->messages_cap = MAX(res->messages_cap * 2, res->messages_len + (size_t)n + 2 + 4096);
        res->messages = xrealloc(res->messages, res->messages_cap);
    }
    memcpy(res->messages + res->messages_len, line, (size_t)n);
    res->messages_len += (size_t)n;
    res->messages[res->messages_len++] = '\n';
    res->messages[res->messages_len] = 0;
}

static void inc_refs(CheckState *c, uint64_t off, uint64_t len, uint64_t times, const char *what)
{
    Qcow2State *s = c->s;
    if (!len)
        return;
    uint64_t first = off >> s->cluster_bits, last = (off + len - 1) >> s->cluster_bits;
    for (uint64_t ci = first; ci <= last; ci++) {
        if (ci >= c->nb_clusters) {
            msg(c->res, "ERROR %s at offset 0x%" PRIx64 " is past the end of the image file", what, ci << s->cluster_bits);
            c->res->corruptions++;
            return;
        }
        uint64_t v = (uint64_t)c->refs[ci] + times;
        c->refs[ci] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    }
}

typedef struct L2Ref {
    uint64_t off;
    uint64_t l1_index;
    bool active;
} L2Ref;

static int cmp_l2ref(const void *a, const void *b)
{
    const L2Ref *x = a, *y = b;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return (int)y->active - (int)x->active;
}

static int stored_refcount(CheckState *c, uint64_t ci, uint64_t *rc)
{
    int ret = qcow2_get_refcount(c->s, ci, rc);
    if (ret < 0) {
        *rc = 0;
        return ret;
    }
    return 0;
}

/* Walk one L2 table referenced 'times' times. */
static void walk_l2(CheckState *c, const L2Ref *r, uint64_t times, bool active, uint64_t *buf)
{
    Qcow2State *s = c->s;
    BlockCheckResult *res = c->res;
    if (blk_file_pread_zfill(s->bs->fd, buf, s->cluster_size, r->off) < 0) {
        msg(res, "ERROR could not read L2 table at 0x%" PRIx64, r->off);
        res->check_errors++;
        return;
    }
    for (uint64_t j = 0; j < s->l2_entries; j++) {
        uint64_t e = ldbe64(&buf[j]);
        Qcow2ClusterType t = qcow2_l2_type(s, e);
        switch (t) {
        case QC_NORMAL:
        case QC_ZERO_ALLOC: {
            uint64_t host = e & L2E_OFFSET_MASK;
            if (host & (s->cluster_size - 1)) {
                msg(res, "ERROR offset=%" PRIx64 ": Cluster is not properly aligned; L2 entry corrupted", host);
                res->corruptions++;
                break;
            }
            if (active) {
                res->allocated_clusters++;
                if (c->last_data && host != c->last_data + s->cluster_size)
                    res->fragmented_clusters++;
                c->last_data = host;
                uint64_t rc;
                if (stored_refcount(c, host >> s->cluster_bits, &rc) == 0 &&
                    (rc == 1) != !!(e & QCOW_OFLAG_COPIED)) {
                    msg(res, "ERROR OFLAG_COPIED data cluster: l2_entry=%" PRIx64 " refcount=%" PRIu64, e, rc);
                    res->corruptions++;
                }
            }
            inc_refs(c, host, 1, times, "data cluster");
            break;
        }
        case QC_COMPRESSED: {
            uint64_t coff = e & s->coffset_mask;
            uint64_t nsec = ((e >> s->csize_shift) & s->csize_mask) + 1;
            if (active) {
                res->allocated_clusters++;
                res->compressed_clusters++;
                if (e & QCOW_OFLAG_COPIED) {
                    msg(res, "ERROR compressed cluster 0x%" PRIx64 " has the COPIED flag set", coff);
                    res->corruptions++;
                }
            }
            inc_refs(c, coff & ~511ULL, nsec * 512, times, "compressed cluster");
            break;
        }
        default:
            break;
        }
    }
}

static int run_check(Qcow2State *s, BlockCheckResult *res, int fix)
{
    CheckState c = { .s = s, .res = res };
    struct stat st;
    if (fstat(s->bs->fd, &st) < 0)
        return blk_set_error(s->bs, errno, "stat failed: %s", strerror(errno));
    uint64_t fsize = MAX((uint64_t)st.st_size, s->file_size);
    c.nb_clusters = qcow2_size_to_clusters(s, fsize);
    if (c.nb_clusters > MAX_CHECK_CLUSTERS) {
        msg(res, "ERROR image file too large to check (%" PRIu64 " clusters)", c.nb_clusters);
        res->check_errors++;
        return 0;
    }
    c.refs = xzalloc((size_t)c.nb_clusters * sizeof(uint32_t) + 4);
    res->total_clusters = qcow2_size_to_clusters(s, s->bs->size);

    inc_refs(&c, 0, s->cluster_size, 1, "header");
    inc_refs(&c, s->l1_offset, (uint64_t)s->l1_size * 8, 1, "L1 table");
    inc_refs(&c, s->reftable_offset, (uint64_t)s->reftable_clusters << s->cluster_bits, 1, "refcount table");
    inc_refs(&c, s->snapshots_offset, s->snapshots_size, 1, "snapshot table");

    /* collect every L2 reference */
    L2Ref *refs = NULL;
    size_t nrefs = 0, cap = 0;
    uint64_t walked = 0;
    for (int si = -1; si < s->nb_snapshots; si++) {
        uint64_t *l1;
        uint32_t l1_size;
        bool active = si < 0;
        if (active) {
            l1 = s->l1;
            l1_size = s->l1_size;
        } else {
            Qcow2Snapshot *sn = &s->snaps[si];
            inc_refs(&c, sn->l1_offset, (uint64_t)sn->l1_size * 8, 1, "snapshot L1 table");
            walked += sn->l1_size;
            if (walked > MAX_L1_WALK) {
                msg(res, "ERROR snapshot L1 tables too large to check");
                res->check_errors++;
                break;
            }
            if (qcow2_read_l1_table(s, sn->l1_offset, sn->l1_size, &l1) < 0) {
                msg(res, "ERROR snapshot '%s': %s", sn->name, blk_last_error(s->bs));
                res->corruptions++;
                continue;
            }
            l1_size = sn->l1_size;
        }
        for (uint32_t i = 0; i < l1_size; i++) {
            uint64_t off = l1[i] & L1E_OFFSET_MASK;
            if (!off)
                continue;
            if (off & (s->cluster_size - 1)) {
                msg(res, "ERROR l2_offset=%" PRIx64 ": Table is not cluster aligned; L1 entry corrupted", off);
                res->corruptions++;
                continue;
            }
            if ((off >> s->cluster_bits) >= c.nb_clusters) {
                msg(res, "ERROR l2_offset=%" PRIx64 ": L2 table is past the end of the image file", off);
                res->corruptions++;
                continue;
            }
            if (active) {
                uint64_t rc;
                if (stored_refcount(&c, off >> s->cluster_bits, &rc) == 0 &&
                    (rc == 1) != !!(l1[i] & QCOW_OFLAG_COPIED)) {
                    msg(res, "ERROR OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%" PRIx64 " refcount=%" PRIu64,
                        i, l1[i], rc);
                    res->corruptions++;
                }
            }
            if (nrefs == cap) {
                cap = cap ? cap * 2 : 256;
                refs = xrealloc(refs, cap * sizeof(L2Ref));
            }
            refs[nrefs++] = (L2Ref){ off, i, active };
        }
        if (!active)
            free(l1);
    }
    if (nrefs)
        qsort(refs, nrefs, sizeof(L2Ref), cmp_l2ref);
    uint64_t *buf = xmalloc(s->cluster_size);
    for (size_t i = 0; i < nrefs; ) {
        size_t j = i;
        while (j < nrefs && refs[j].off == refs[i].off)
            j++;
        uint64_t times = j - i;
        inc_refs(&c, refs[i].off, 1, times, "L2 table");
        /* the active walk (first in the group) does the flag checks once */
        if (refs[i].active) {
            walk_l2(&c, &refs[i], 1, true, buf);
            if (times > 1)
                walk_l2(&c, &refs[i], times - 1, false, buf);
        } else {
            walk_l2(&c, &refs[i], times, false, buf);
        }
        i = j;
    }
    free(buf);
    free(refs);

    /* refcount structures */
    for (uint64_t i = 0; i < s->reftable_size; i++) {
        uint64_t off = s->reftable[i] & REFT_OFFSET_MASK;
        if (!off)
            continue;
        if (off & (s->cluster_size - 1)) {
            msg(res, "ERROR refcount block %" PRIu64 " is not cluster aligned; refcount table entry corrupted", i);
            res->corruptions++;
            continue;
        }
        if ((off >> s->cluster_bits) >= c.nb_clusters) {
            msg(res, "ERROR refcount block %" PRIu64 " is outside the image file", i);
            res->corruptions++;
            continue;
        }
        inc_refs(&c, off, 1, 1, "refcount block");
    }

    /* compare: collect mismatches first, fix afterwards (fixing may
     * allocate refcount blocks, which must not disturb the comparison) */
    uint64_t end = 0;
    uint64_t per_rb = 1ULL << s->rb_bits;
    uint64_t limit = MAX(c.nb_clusters, MIN(s->reftable_size * per_rb, c.nb_clusters + per_rb * 64));
    uint64_t *bad = NULL;
    size_t nbad = 0, capbad = 0;
    for (uint64_t ci = 0; ci < limit; ci++) {
        uint64_t rt = ci >> s->rb_bits;
        if (ci >= c.nb_clusters && (rt >= s->reftable_size || !(s->reftable[rt] & REFT_OFFSET_MASK))) {
            ci = ((rt + 1) << s->rb_bits) - 1;
            continue;
        }
        uint64_t computed = ci < c.nb_clusters ? c.refs[ci] : 0;
        uint64_t stored;
        int ret = qcow2_get_refcount(s, ci, &stored);
        if (ret < 0) {
            msg(res, "ERROR cannot get refcount of cluster %" PRIu64 ": %s", ci, blk_last_error(s->bs));
            res->check_errors++;
            ci = ((rt + 1) << s->rb_bits) - 1;
            continue;
        }
        if (computed)
            end = ci + 1;
        if (stored == computed)
            continue;
        if (stored > computed) {
            msg(res, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64,
                (fix & BLK_FIX_LEAKS) ? "Repairing" : "Leaked", ci, stored, computed);
            res->leaks++;
            if (!(fix & BLK_FIX_LEAKS))
                continue;
        } else {
            msg(res, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64,
                (fix & BLK_FIX_ERRORS) ? "Repairing" : "ERROR", ci, stored, computed);
            res->corruptions++;
            if (!(fix & BLK_FIX_ERRORS))
                continue;
        }
        if (nbad == capbad) {
            capbad = capbad ? capbad * 2 : 64;
            bad = xrealloc(bad, capbad * sizeof(uint64_t));
        }
        bad[nbad++] = ci;
    }
    res->image_end_offset = end << s->cluster_bits;

    if (fix && !s->bs->read_only) {
        s->check_refs = c.refs;
        s->check_nb = c.nb_clusters;
        s->free_hint = c.nb_clusters;
        for (size_t i = 0; i < nbad; i++) {
            uint64_t ci = bad[i];
            uint64_t want = ci < c.nb_clusters ? c.refs[ci] : 0;
            uint64_t stored = 0;
            qcow2_get_refcount(s, ci, &stored);
            int ret = qcow2_set_refcount(s, ci, MIN(want, s->refcount_max));
            if (ret < 0) {
                msg(res, "ERROR could not repair cluster %" PRIu64 ": %s", ci, blk_last_error(s->bs));
                res->check_errors++;
                continue;
            }
            if (stored > want)
                res->leaks_fixed++;
            else
                res->corruptions_fixed++;
        }
        s->check_refs = NULL;
        s->check_nb = 0;
        if (fix & BLK_FIX_ERRORS) {
            int ret = qcow2_fix_copied_flags(s);
            if (ret < 0) {
                msg(res, "ERROR could not repair COPIED flags: %s", blk_last_error(s->bs));
                res->check_errors++;
            }
        }
        int ret = qcow2_flush_all(s);
        if (ret < 0) {
            msg(res, "ERROR could not write repairs: %s", blk_last_error(s->bs));
            res->check_errors++;
        }
    }
    free(bad);
    free(c.refs);
    return 0;
}

/* After a repair: the dirty bit goes once the refcounts are exact (any
 * repair mode), the corrupt bit only with -r all and no corruption left. */
static int clear_flags_if_repaired(Qcow2State *s, const BlockCheckResult *res, int fix)
{
    uint64_t clear = 0;
    if (!res->corruptions && !res->check_errors) {
        if (!res->leaks)
            clear |= QCOW2_INCOMPAT_DIRTY;
        if (fix & BLK_FIX_ERRORS)
            clear |= QCOW2_INCOMPAT_CORRUPT;
    }
    if (!(s->incompat & clear))
        return 0;
    s->incompat &= ~clear;
    int ret = qcow2_update_header(s);
    if (ret == 0)
        ret = qcow2_flush_all(s);
    return ret;
}

int qcow2_check(BlockDev *bs, BlockCheckResult *res, int fix)
{
    Qcow2State *s = bs->opaque;
    int ret;
    if (!bs->read_only) {
        ret = qcow2_flush_all(s);
        if (ret < 0)
            return ret;
    }
    ret = run_check(s, res, fix);
    if (ret < 0 || !fix || bs->read_only)
        return ret;
    if (!res->leaks_fixed && !res->corruptions_fixed)
        return clear_flags_if_repaired(s, res, fix);
    /* double-check the repaired image and report what is left */
    BlockCheckResult r2;
    memset(&r2, 0, sizeof(r2));
    ret = run_check(s, &r2, 0);
    if (ret == 0) {
        res->corruptions = r2.corruptions + (res->corruptions - res->corruptions_fixed > 0 ? 0 : 0);
        res->leaks = r2.leaks;
        res->corruptions = r2.corruptions;
        res->check_errors += r2.check_errors;
        res->image_end_offset = r2.image_end_offset;
        res->allocated_clusters = r2.allocated_clusters;
        res->fragmented_clusters = r2.fragmented_clusters;
        res->compressed_clusters = r2.compressed_clusters;
        if (r2.messages) {
            msg(res, "Double checking the fixed image now...");
            msg(res, "%s", r2.messages);
        }
    }
    blk_check_result_free(&r2);
    if (ret < 0)
        return ret;
    return clear_flags_if_repaired(s, res, fix);
}
