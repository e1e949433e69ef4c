/* qcow2 driver: header parsing and validation, open/close, create, info,
 * resize.  Data path in qcow2-cluster.c, refcounts in qcow2-refcount.c,
 * internal snapshots in qcow2-snapshot.c, consistency check in qcow2-check.c. */
#include "block/qcow2.h"
#include "system/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int qcow2_corrupt(Qcow2State *s, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    BlockDev *bs = s->bs;
    if (s->opened && !bs->read_only && !(bs->flags & BLK_O_CHECK) &&
        !(s->incompat & QCOW2_INCOMPAT_CORRUPT) && s->version >= 3) {
        /* like qemu: flag the image so nobody writes to it until it is
         * repaired; further writes fail, reads still work */
        s->incompat |= QCOW2_INCOMPAT_CORRUPT;
        uint8_t v[8];
        stbe64(v, s->incompat);     /* only this field: the rest may be in flux */
        if (pwrite_full(bs->fd, v, 8, 72) == 0 && fdatasync(bs->fd) == 0)
            return blk_set_error(bs, EIO, "corrupt image '%s': %s; the image is now marked corrupt "
                                 "(repair it with 'kestrel-img check -r all')", bs->filename, msg);
    }
    return blk_set_error(bs, EIO, "corrupt image '%s': %s (run 'kestrel-img check')",
                         bs->filename, msg);
}

/* Writes are refused once the image has been found corrupt. */
int qcow2_check_writable(Qcow2State *s)
{
    if ((s->incompat & QCOW2_INCOMPAT_CORRUPT) && !(s->bs->flags & BLK_O_CHECK))
        return blk_set_error(s->bs, EIO, "'%s' is marked corrupt: writes refused "
                             "(repair it with 'kestrel-img check -r all')", s->bs->filename);
    return 0;
}

Qcow2ClusterType qcow2_l2_type(Qcow2State *s, uint64_t l2e)
{
    if (l2e & QCOW_OFLAG_COMPRESSED)
        return QC_COMPRESSED;
    if ((l2e & QCOW_OFLAG_ZERO) && s->version >= 3)
        return (l2e & L2E_OFFSET_MASK) ? QC_ZERO_ALLOC : QC_ZERO_PLAIN;
    if (l2e & L2E_OFFSET_MASK)
        return QC_NORMAL;
    return QC_UNALLOCATED;
}

/* ---- metadata cluster set ---- */

static size_t meta_find(Qcow2State *s, uint64_t ci)
{
    size_t lo = 0, hi = s->nb_meta;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->meta[mid] < ci)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void qcow2_meta_add(Qcow2State *s, uint64_t off, uint64_t len)
{
    uint64_t first = off >> s->cluster_bits;
    uint64_t last = (off + len - 1) >> s->cluster_bits;
    if (!len)
        return;
    for (uint64_t ci = first; ci <= last; ci++) {
        size_t i = meta_find(s, ci);
        if (i < s->nb_meta && s->meta[i] == ci)
            continue;
        if (s->nb_meta == s->cap_meta) {
            s->cap_meta = s->cap_meta ? s->cap_meta * 2 : 64;
            s->meta = xrealloc(s->meta, s->cap_meta * sizeof(uint64_t));
        }
        memmove(&s->meta[i + 1], &s->meta[i], (s->nb_meta - i) * sizeof(uint64_t));
        s->meta[i] = ci;
        s->nb_meta++;
    }
}

void qcow2_meta_remove(Qcow2State *s, uint64_t ci)
{
    size_t i = meta_find(s, ci);
    if (i < s->nb_meta && s->meta[i] == ci) {
        memmove(&s->meta[i], &s->meta[i + 1], (s->nb_meta - i - 1) * sizeof(uint64_t));
        s->nb_meta--;
    }
}

bool qcow2_offset_is_metadata(Qcow2State *s, uint64_t off)
{
    uint64_t ci = off >> s->cluster_bits;
    size_t i = meta_find(s, ci);
    return i < s->nb_meta && s->meta[i] == ci;
}

/* ---- header ---- */

static int probe_qcow2(const uint8_t *buf, size_t len)
{
    if (len >= 8 && ldbe32(buf) == QCOW2_MAGIC)
        return 100;
    return 0;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

static void free_exts(Qcow2State *s)
{
    for (int i = 0; i < s->nb_exts; i++)
        free(s->exts[i].data);
    free(s->exts);
    s->exts = NULL;
    s->nb_exts = 0;
}

/* Serialize the header (fixed part, extensions, backing name) into buf,
 * which is one cluster. Returns the length or -errno. */
static int build_header(Qcow2State *s, uint8_t *buf)
{
    uint64_t cs = s->cluster_size;
    memset(buf, 0, cs);
    uint32_t hlen = s->version >= 3 ? s->header_length : QCOW2_V2_HEADER_LEN;
    stbe32(buf + 0, QCOW2_MAGIC);
    stbe32(buf + 4, s->version);
    stbe32(buf + 20, s->cluster_bits);
    stbe64(buf + 24, s->bs->size);
    stbe32(buf + 32, 0);
    stbe32(buf + 36, s->l1_size);
    stbe64(buf + 40, s->l1_offset);
    stbe64(buf + 48, s->reftable_offset);
    stbe32(buf + 56, s->reftable_clusters);
    stbe32(buf + 60, (uint32_t)s->nb_snapshots);
    stbe64(buf + 64, s->snapshots_offset);
    if (s->version >= 3) {
        stbe64(buf + 72, s->incompat);
        stbe64(buf + 80, s->compat);
        stbe64(buf + 88, s->autoclear);
        stbe32(buf + 96, s->refcount_order);
        stbe32(buf + 100, hlen);
        if (hlen > 104)
            buf[104] = s->compression_type;
    }
    uint64_t p = hlen;
    /* backing format first (regenerated), then every other extension
     * byte for byte, in its original order */
    bool wrote_fmt = false;
    for (int i = -1; i < s->nb_exts; i++) {
        uint32_t type, len;
        const uint8_t *data;
        if (i < 0) {
            if (!s->backing_fmt || !s->backing_file)
                continue;
            type = QCOW2_EXT_BACKING_FMT;
            len = (uint32_t)strlen(s->backing_fmt);
            data = (const uint8_t *)s->backing_fmt;
            wrote_fmt = true;
        } else {
            if (s->exts[i].type == QCOW2_EXT_BACKING_FMT)
                continue;
            type = s->exts[i].type;
            len = s->exts[i].len;
            data = s->exts[i].data;
        }
        uint64_t need = 8 + ALIGN_UP((uint64_t)len, 8);
        if (p + need + 8 > cs)
            return blk_set_error(s->bs, EFBIG, "header extensions do not fit in the first cluster");
        stbe32(buf + p, type);
        stbe32(buf + p + 4, len);
        memcpy(buf + p + 8, data, len);
        p += need;
    }
    (void)wrote_fmt;
    stbe32(buf + p, QCOW2_EXT_END);
    stbe32(buf + p + 4, 0);
    p += 8;
    if (s->backing_file) {
        size_t bl = strlen(s->backing_file);
        if (p + bl > cs)
            return blk_set_error(s->bs, EFBIG, "backing file name does not fit in the header");
        stbe64(buf + 8, p);
        stbe32(buf + 16, (uint32_t)bl);
        memcpy(buf + p, s->backing_file, bl);
        p += bl;
    }
    return (int)p;
}

int qcow2_update_header(Qcow2State *s)
{
    uint8_t *buf = xmalloc(s->cluster_size);
    int len = build_header(s, buf);
    if (len < 0) {
        free(buf);
        return len;
    }
    /* one write of the used part: atomic with respect to process death */
    size_t wlen = (size_t)MIN(ALIGN_UP((uint64_t)len, 512), s->cluster_size);
    int ret = pwrite_full(s->bs->fd, buf, wlen, 0);
    free(buf);
    if (ret < 0)
        return blk_set_error(s->bs, ret, "could not write the qcow2 header: %s", strerror(-ret));
    s->file_size = MAX(s->file_size, (uint64_t)wlen);
    return 0;
}

static int parse_extensions(Qcow2State *s, const uint8_t *hdr, uint64_t start, uint64_t end)
{
    uint64_t p = start;
    int count = 0;
    while (p + 8 <= end) {
        uint32_t type = ldbe32(hdr + p);
        uint32_t len = ldbe32(hdr + p + 4);
        p += 8;
        if (type == QCOW2_EXT_END)
            return 0;
        if (len > end - p)
            return qcow2_corrupt(s, "header extension 0x%08x (length %u) runs past the header", type, len);
        if (++count > 1024)
            return qcow2_corrupt(s, "too many header extensions");
        if (type == QCOW2_EXT_BACKING_FMT) {
            if (len == 0 || len > 31)
                return qcow2_corrupt(s, "invalid backing format extension (length %u)", len);
            free(s->backing_fmt);
            s->backing_fmt = xmalloc(len + 1);
            memcpy(s->backing_fmt, hdr + p, len);
            s->backing_fmt[len] = 0;
            if (strlen(s->backing_fmt) != len)
                return qcow2_corrupt(s, "backing format name contains a NUL byte");
        }
        s->exts = xrealloc(s->exts, sizeof(Qcow2Ext) * (size_t)(s->nb_exts + 1));
        Qcow2Ext *e = &s->exts[s->nb_exts++];
        e->type = type;
        e->len = len;
        e->data = xmalloc(len ? len : 1);
        memcpy(e->data, hdr + p, len);
        p += ALIGN_UP((uint64_t)len, 8);
    }
    return 0;
}

int qcow2_read_l1_table(Qcow2State *s, uint64_t off, uint32_t size, uint64_t **out)
{
    *out = NULL;
    if (size == 0) {
        *out = xzalloc(8);
        return 0;
    }
    if ((uint64_t)size * 8 > QCOW2_MAX_L1_BYTES)
        return qcow2_corrupt(s, "L1 table too large (%u entries)", size);
    if (off & (s->cluster_size - 1))
        return qcow2_corrupt(s, "L1 table offset 0x%" PRIx64 " is not cluster-aligned", off);
    if (off == 0 || off > s->file_size || (uint64_t)size * 8 > s->file_size - off)
        return qcow2_corrupt(s, "L1 table at 0x%" PRIx64 " (%u entries) is outside the file", off, size);
    uint64_t *l1 = xmalloc((size_t)size * 8);
    int ret = pread_full(s->bs->fd, l1, (size_t)size * 8, off);
    if (ret < 0) {
        free(l1);
        return blk_set_error(s->bs, ret, "could not read L1 table: %s", strerror(-ret));
    }
    for (uint32_t i = 0; i < size; i++)
        l1[i] = ldbe64(&l1[i]);
    *out = l1;
    return 0;
}

static void qcow2_free_state(Qcow2State *s)
{
    qcow2_cache_destroy(&s->l2_cache);
    qcow2_cache_destroy(&s->rb_cache);
    free(s->l1);
    free(s->reftable);
    free_exts(s);
    free(s->backing_file);
    free(s->backing_fmt);
    qcow2_free_snapshots(s);
    free(s->deferred);
    free(s->meta);
    free(s->cbuf2);
    pthread_mutex_destroy(&s->io_lock);
    pthread_cond_destroy(&s->io_idle);
    free(s);
}

static int qcow2_do_open(BlockDev *bs, Qcow2State *s, int flags)
{
    struct stat st;
    if (fstat(bs->fd, &st) < 0)
        return blk_set_error(bs, errno, "could not stat '%s': %s", bs->filename, strerror(errno));
    s->file_size = (uint64_t)st.st_size;
    uint8_t h[112];
    memset(h, 0, sizeof(h));
    if (s->file_size < QCOW2_V2_HEADER_LEN)
        return blk_set_error(bs, EINVAL, "'%s': truncated qcow2 header (file is %" PRIu64 " bytes)",
                             bs->filename, s->file_size);
    int ret = pread_full(bs->fd, h, MIN(sizeof(h), s->file_size), 0);
    if (ret < 0)
        return blk_set_error(bs, ret, "could not read header of '%s': %s", bs->filename, strerror(-ret));
    if (ldbe32(h) != QCOW2_MAGIC)
        return blk_set_error(bs, EINVAL, "'%s' is not a qcow2 image (bad magic)", bs->filename);
    s->version = ldbe32(h + 4);
    if (s->version != 2 && s->version != 3)
        return blk_set_error(bs, ENOTSUP, "'%s': unsupported qcow2 version %u (only 2 and 3)",
                             bs->filename, s->version);
    s->cluster_bits = ldbe32(h + 20);
    if (s->cluster_bits < 9 || s->cluster_bits > 21)
        return blk_set_error(bs, EINVAL, "'%s': invalid cluster_bits %u (must be 9..21)",
                             bs->filename, s->cluster_bits);
    s->cluster_size = 1ULL << s->cluster_bits;
    s->l2_bits = s->cluster_bits - 3;
    s->l2_entries = 1ULL << s->l2_bits;
    s->csize_shift = 62 - (s->cluster_bits - 8);
    s->csize_mask = (1ULL << (s->cluster_bits - 8)) - 1;
    s->coffset_mask = (1ULL << s->csize_shift) - 1;

    if (s->version == 2) {
        s->header_length = QCOW2_V2_HEADER_LEN;
        s->refcount_order = 4;
    } else {
        if (s->file_size < QCOW2_V3_HEADER_LEN)
            return blk_set_error(bs, EINVAL, "'%s': truncated qcow2 v3 header", bs->filename);
        s->incompat = ldbe64(h + 72);
        s->compat = ldbe64(h + 80);
        s->autoclear = ldbe64(h + 88);
        s->refcount_order = ldbe32(h + 96);
        s->header_length = ldbe32(h + 100);
        if (s->header_length < QCOW2_V3_HEADER_LEN || s->header_length > s->cluster_size ||
            s->header_length > s->file_size)
            return blk_set_error(bs, EINVAL, "'%s': invalid header length %u", bs->filename, s->header_length);
        if (s->header_length > 104)
            s->compression_type = h[104];
    }
    if (s->refcount_order > 6)
        return blk_set_error(bs, EINVAL, "'%s': invalid refcount_order %u (must be 0..6)",
                             bs->filename, s->refcount_order);
    s->refcount_bits = 1U << s->refcount_order;
    s->refcount_max = s->refcount_bits == 64 ? UINT64_MAX : (1ULL << s->refcount_bits) - 1;
    s->rb_bits = s->cluster_bits + 3 - s->refcount_order;

    uint64_t unknown = s->incompat & ~(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_COMPRESSION);
    if (s->incompat & QCOW2_INCOMPAT_DATA_FILE)
        return blk_set_error(bs, ENOTSUP, "'%s': unsupported qcow2 feature: external data file", bs->filename);
    if (s->incompat & QCOW2_INCOMPAT_EXTL2)
        return blk_set_error(bs, ENOTSUP, "'%s': unsupported qcow2 feature: extended L2 entries (subclusters)", bs->filename);
    if (unknown) {
        int bit = __builtin_ctzll(unknown);
        return blk_set_error(bs, ENOTSUP, "'%s': unsupported qcow2 incompatible feature bit %d (0x%" PRIx64 ")",
                             bs->filename, bit, s->incompat);
    }
    if ((s->incompat & QCOW2_INCOMPAT_COMPRESSION) && s->compression_type != 0)
        return blk_set_error(bs, ENOTSUP, "'%s': unsupported compression type %u (only zlib)",
                             bs->filename, s->compression_type);
    if (s->compression_type != 0)
        return blk_set_error(bs, EINVAL, "'%s': compression type %u set without the compression-type feature bit",
                             bs->filename, s->compression_type);
    if ((s->incompat & QCOW2_INCOMPAT_CORRUPT) && !bs->read_only && !(flags & BLK_O_CHECK))
        return blk_set_error(bs, EROFS, "'%s' is marked corrupt; open it read-only or repair it with 'kestrel-img check -r all'",
                             bs->filename);
    uint32_t crypt = ldbe32(h + 32);
    if (crypt)
        return blk_set_error(bs, ENOTSUP, "'%s': encrypted qcow2 images are not supported", bs->filename);

    uint64_t size = ldbe64(h + 24);
    if (size > (1ULL << 61))
        return blk_set_error(bs, EFBIG, "'%s': virtual size %" PRIu64 " is too large", bs->filename, size);
    bs->size = size;

    s->cbuf2 = xmalloc(s->cluster_size);

    /* header cluster with extensions */
    uint64_t hdr_len = MIN(s->cluster_size, s->file_size);
    uint8_t *hdr = xzalloc(s->cluster_size);
    ret = pread_full(bs->fd, hdr, hdr_len, 0);
    if (ret < 0) {
        free(hdr);
        return blk_set_error(bs, ret, "could not read header of '%s': %s", bs->filename, strerror(-ret));
    }
    uint64_t backing_off = ldbe64(h + 8);
    uint32_t backing_len = ldbe32(h + 16);
    uint64_t ext_end = hdr_len;
    if (backing_off) {
        if (backing_len > QCOW2_MAX_BACKING_NAME || backing_off < s->header_length ||
            backing_off > hdr_len || backing_len > hdr_len - backing_off) {
            free(hdr);
            return qcow2_corrupt(s, "invalid backing file name (offset %" PRIu64 ", length %u)",
                                 backing_off, backing_len);
        }
        if (backing_len) {
            s->backing_file = xmalloc(backing_len + 1);
            memcpy(s->backing_file, hdr + backing_off, backing_len);
            s->backing_file[backing_len] = 0;
            if (strlen(s->backing_file) != backing_len) {
                free(hdr);
                return qcow2_corrupt(s, "backing file name contains a NUL byte");
            }
        }
        ext_end = backing_off;
    }
    ret = parse_extensions(s, hdr, s->header_length, ext_end);
    free(hdr);
    if (ret < 0)
        return ret;

    /* L1 */
    s->l1_size = ldbe32(h + 36);
    s->l1_offset = ldbe64(h + 40);
    uint64_t l2_cover = s->cluster_size * s->l2_entries;
    uint64_t need_l1 = (size + l2_cover - 1) / l2_cover;
    if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES)
        return qcow2_corrupt(s, "L1 table too large (%u entries)", s->l1_size);
    if (need_l1 > s->l1_size)
        return qcow2_corrupt(s, "L1 table (%u entries) too small for the virtual size %" PRIu64,
                             s->l1_size, size);
    if (s->l1_size && overlaps(s->l1_offset, (uint64_t)s->l1_size * 8, 0, s->cluster_size))
        return qcow2_corrupt(s, "L1 table overlaps the header");

    /* refcount table */
    s->reftable_offset = ldbe64(h + 48);
    s->reftable_clusters = ldbe32(h + 56);
    uint64_t rt_bytes = (uint64_t)s->reftable_clusters << s->cluster_bits;
    if (s->reftable_clusters == 0)
        return qcow2_corrupt(s, "refcount table is empty");
    if (rt_bytes > QCOW2_MAX_REFTABLE_BYTES)
        return qcow2_corrupt(s, "refcount table too large (%u clusters)", s->reftable_clusters);
    if (s->reftable_offset & (s->cluster_size - 1))
        return qcow2_corrupt(s, "refcount table offset 0x%" PRIx64 " is not cluster-aligned", s->reftable_offset);
    if (s->reftable_offset > s->file_size || rt_bytes > s->file_size - s->reftable_offset)
        return qcow2_corrupt(s, "refcount table at 0x%" PRIx64 " is outside the file", s->reftable_offset);
    if (overlaps(s->reftable_offset, rt_bytes, 0, s->cluster_size))
        return qcow2_corrupt(s, "refcount table overlaps the header");
    if (s->l1_size && overlaps(s->reftable_offset, rt_bytes, s->l1_offset, (uint64_t)s->l1_size * 8))
        return qcow2_corrupt(s, "refcount table overlaps the L1 table");

    ret = qcow2_read_l1_table(s, s->l1_offset, s->l1_size, &s->l1);
    if (ret < 0)
        return ret;
    ret = qcow2_refcount_init(s);
    if (ret < 0)
        return ret;

    /* snapshots */
    s->nb_snapshots = 0;
    uint32_t nsn = ldbe32(h + 60);
    s->snapshots_offset = ldbe64(h + 64);
    if (nsn > QCOW2_MAX_SNAPSHOTS)
        return qcow2_corrupt(s, "too many snapshots (%u)", nsn);
    s->nb_snapshots = (int)nsn;
    ret = qcow2_read_snapshots(s);
    if (ret < 0)
        return ret;

    /* metadata set */
    qcow2_meta_add(s, 0, s->cluster_size);
    qcow2_meta_add(s, s->l1_offset, (uint64_t)s->l1_size * 8);
    qcow2_meta_add(s, s->reftable_offset, rt_bytes);
    qcow2_meta_add(s, s->snapshots_offset, s->snapshots_size);
    for (uint64_t i = 0; i < s->reftable_size; i++)
        if (s->reftable[i])
            qcow2_meta_add(s, s->reftable[i], s->cluster_size);
    for (uint32_t i = 0; i < s->l1_size; i++)
        if (s->l1[i] & L1E_OFFSET_MASK)
            qcow2_meta_add(s, s->l1[i] & L1E_OFFSET_MASK, s->cluster_size);
    for (int i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snaps[i];
        qcow2_meta_add(s, sn->l1_offset, (uint64_t)sn->l1_size * 8);
        uint64_t *l1;
        if (qcow2_read_l1_table(s, sn->l1_offset, sn->l1_size, &l1) == 0) {
            for (uint32_t j = 0; j < sn->l1_size; j++)
                if (l1[j] & L1E_OFFSET_MASK)
                    qcow2_meta_add(s, l1[j] & L1E_OFFSET_MASK, s->cluster_size);
            free(l1);
        }
    }

    /* caches: enough L2 tables to map the whole disk, within 32 MiB */
    uint64_t max_l2 = MAX(16, (32ULL << 20) >> s->cluster_bits);
    int n_l2 = (int)MIN(MAX((uint64_t)s->l1_size + 4, 16), max_l2);
    uint64_t max_rb = MAX(16, (8ULL << 20) >> s->cluster_bits);
    int n_rb = (int)MIN(MAX(s->reftable_size + 4, 16), max_rb);
    qcow2_cache_init(&s->l2_cache, n_l2, s->cluster_size);
    qcow2_cache_init(&s->rb_cache, n_rb, s->cluster_size);

    s->free_hint = 0;
    s->compressed_tail = 0;

    /* backing file */
    if (s->backing_file && !(flags & BLK_O_NO_BACKING)) {
        char err[BLK_ERR_LEN];
        const char *fmt = s->backing_fmt;
        if (fmt && strcmp(fmt, "qcow2") && strcmp(fmt, "raw"))
            return blk_set_error(bs, ENOTSUP, "'%s': unsupported backing file format '%s'", bs->filename, fmt);
        bs->backing = blk_open_backing(bs, s->backing_file, fmt, err, sizeof(err));
        if (!bs->backing) {
            if (!strncmp(err, "could not open backing file of", 30))
                return blk_set_error(bs, ENOENT, "%s", err);
            return blk_set_error(bs, ENOENT, "could not open backing file of '%s': %s", bs->filename, err);
        }
    }

    if (!bs->read_only) {
        bool need_header = false;
        if (s->autoclear) {
            s->autoclear = 0;
            need_header = true;
        }
        if (s->version >= 3 && (s->incompat & QCOW2_INCOMPAT_DIRTY) && !(flags & BLK_O_CHECK)) {
            /* refcounts may be stale (lazy refcounts): rebuild them */
            BlockCheckResult r;
            memset(&r, 0, sizeof(r));
            ret = qcow2_check(bs, &r, BLK_FIX_LEAKS | BLK_FIX_ERRORS);
            int64_t left = r.corruptions;
            blk_check_result_free(&r);
            if (ret < 0)
                return ret;
            if (left)
                return blk_set_error(bs, EIO, "'%s': could not repair the refcounts of a dirty image", bs->filename);
            s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
            need_header = true;
        }
        if (s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) {
            /* we keep refcounts exact; drop the bit so nobody relies on lazy */
            s->compat &= ~QCOW2_COMPAT_LAZY_REFCOUNTS;
            need_header = true;
        }
        if (need_header) {
            ret = qcow2_update_header(s);
            if (ret < 0)
                return ret;
            if (fdatasync(bs->fd) < 0)
                return blk_set_error(bs, errno, "fdatasync failed: %s", strerror(errno));
        }
    }
    return 0;
}

static int qcow2_open(BlockDev *bs, int flags)
{
    Qcow2State *s = xzalloc(sizeof(*s));
    s->bs = bs;
    pthread_mutex_init(&s->io_lock, NULL);
    pthread_cond_init(&s->io_idle, NULL);
    bs->opaque = s;
    int ret = qcow2_do_open(bs, s, flags);
    s->opened = true;
    if (ret < 0) {
        if (bs->backing) {
            blk_close(bs->backing);
            bs->backing = NULL;
        }
        qcow2_free_state(s);
        bs->opaque = NULL;
    }
    return ret;
}

static void qcow2_close(BlockDev *bs)
{
    Qcow2State *s = bs->opaque;
    if (!s)
        return;
    qcow2_free_state(s);
    bs->opaque = NULL;
}

static int qcow2_flush(BlockDev *bs)
{
    Qcow2State *s = bs->opaque;
    if ((s->incompat & QCOW2_INCOMPAT_CORRUPT) && !(bs->flags & BLK_O_CHECK))
        return 0;   /* never write metadata into a corrupt image */
    return qcow2_flush_all(s);
}

static int qcow2_truncate(BlockDev *bs, uint64_t size)
{
    Qcow2State *s = bs->opaque;
    int wret = qcow2_check_writable(s);
    if (wret < 0)
        return wret;
    if (size < bs->size)
        return blk_set_error(bs, ENOTSUP, "shrinking qcow2 images is not supported");
    if (size > (1ULL << 61))
        return blk_set_error(bs, EFBIG, "size %" PRIu64 " is too large", size);
    uint64_t l2_cover = s->cluster_size * s->l2_entries;
    uint64_t need = (size + l2_cover - 1) / l2_cover;
    if (need * 8 > QCOW2_MAX_L1_BYTES)
        return blk_set_error(bs, EFBIG, "size %" PRIu64 " needs an L1 table larger than 32 MiB; use a larger cluster size", size);
    int ret = 0;
    if (need > s->l1_size) {
        ret = qcow2_grow_l1(s, need);
        if (ret < 0)
            return ret;
    }
    uint64_t old = bs->size;
    bs->size = size;
    ret = qcow2_update_header(s);
    if (ret < 0) {
        bs->size = old;
        return ret;
    }
    return qcow2_flush_all(s);
}

static int qcow2_get_info(BlockDev *bs, BlockInfo *info)
{
    Qcow2State *s = bs->opaque;
    info->cluster_size = (uint32_t)s->cluster_size;
    if (s->backing_file) {
        snprintf(info->backing_file, sizeof(info->backing_file), "%s", s->backing_file);
        char *full = blk_resolve_backing(bs->filename, s->backing_file);
        snprintf(info->backing_full, sizeof(info->backing_full), "%s", full);
        free(full);
    }
    if (s->backing_fmt)
        snprintf(info->backing_fmt, sizeof(info->backing_fmt), "%s", s->backing_fmt);
    info->dirty = !!(s->incompat & QCOW2_INCOMPAT_DIRTY);
    info->corrupt = !!(s->incompat & QCOW2_INCOMPAT_CORRUPT);
    info->qcow2_version = (int)s->version;
    info->refcount_bits = (int)s->refcount_bits;
    info->lazy_refcounts = !!(s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS);
    int n = qcow2_snapshot_list(bs, &info->snapshots);
    if (n < 0)
        return n;
    info->nb_snapshots = n;
    return 0;
}

static void add_feature(uint8_t *p, int type, int bit, const char *name)
{
    memset(p, 0, 48);
    p[0] = (uint8_t)type;
    p[1] = (uint8_t)bit;
    snprintf((char *)p + 2, 46, "%s", name);
}

static int qcow2_create(const char *filename, const BlockCreateOpts *o, char *err, size_t errlen)
{
    uint32_t cs = o->cluster_size ? o->cluster_size : 65536;
    int version = o->qcow2_version ? o->qcow2_version : 3;
    int rbits = o->refcount_bits ? o->refcount_bits : 16;
    if (cs < 512 || cs > (2U << 20) || (cs & (cs - 1))) {
        snprintf(err, errlen, "cluster size must be a power of two between 512 and 2M (got %u)", cs);
        return -EINVAL;
    }
    if (version != 2 && version != 3) {
        snprintf(err, errlen, "invalid qcow2 version %d", version);
        return -EINVAL;
    }
    if (rbits < 1 || rbits > 64 || (rbits & (rbits - 1))) {
        snprintf(err, errlen, "refcount bits must be a power of two between 1 and 64 (got %d)", rbits);
        return -EINVAL;
    }
    if (version == 2 && rbits != 16) {
        snprintf(err, errlen, "compat=0.10 images only support 16-bit refcounts");
        return -EINVAL;
    }
    if (o->backing_file && strlen(o->backing_file) > QCOW2_MAX_BACKING_NAME) {
        snprintf(err, errlen, "backing file name too long");
        return -EINVAL;
    }
    if (o->backing_fmt && strcmp(o->backing_fmt, "qcow2") && strcmp(o->backing_fmt, "raw")) {
        snprintf(err, errlen, "unknown backing format '%s' (supported: qcow2, raw)", o->backing_fmt);
        return -EINVAL;
    }
    uint64_t size = o->size;
    const char *bfmt = o->backing_fmt;
    char probed[16] = "";
    if (o->backing_file) {
        char *full = blk_resolve_backing(filename, o->backing_file);
        char e2[BLK_ERR_LEN];
        BlockDev *b = blk_open(full, bfmt, BLK_O_RDONLY, e2, sizeof(e2));
        free(full);
        if (!b) {
            snprintf(err, errlen, "could not open backing file: %s", e2);
            return -ENOENT;
        }
        if (!bfmt) {
            snprintf(probed, sizeof(probed), "%s", blk_format(b));
            bfmt = probed;
        }
        if (!size)
            size = b->size;
        blk_close(b);
    }
    int cbits = __builtin_ctz(cs);
    int rorder = __builtin_ctz((unsigned)rbits);

    int fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "could not create '%s': %s", filename, strerror(e));
        return -e;
    }
    /* cluster 0: header; 1: refcount table; 2: refcount block.  The L1 is
     * allocated by growing the empty image to its size afterwards. */
    uint8_t *buf = xzalloc((size_t)cs * 3);
    stbe32(buf, QCOW2_MAGIC);
    stbe32(buf + 4, (uint32_t)version);
    stbe32(buf + 20, (uint32_t)cbits);
    stbe64(buf + 48, cs);
    stbe32(buf + 56, 1);
    uint32_t hlen = version == 3 ? 112 : 72;
    uint64_t p = hlen;
    if (version == 3) {
        stbe32(buf + 96, (uint32_t)rorder);
        stbe32(buf + 100, hlen);
    }
    if (o->backing_file) {
        uint32_t fl = (uint32_t)strlen(bfmt);
        stbe32(buf + p, QCOW2_EXT_BACKING_FMT);
        stbe32(buf + p + 4, fl);
        memcpy(buf + p + 8, bfmt, fl);
        p += 8 + ALIGN_UP((uint64_t)fl, 8);
    }
    if (version == 3) {
        static const struct { int t, b; const char *n; } feats[] = {
            { 0, 0, "dirty bit" }, { 0, 1, "corrupt bit" }, { 0, 2, "external data file" },
            { 0, 3, "compression type" }, { 0, 4, "extended L2 entries" },
            { 1, 0, "lazy refcounts" }, { 2, 0, "bitmaps" }, { 2, 1, "raw external data" },
        };
        uint32_t fl = (uint32_t)(48 * ARRAY_SIZE(feats));
        if (p + 8 + fl + 8 + 1024 <= cs) {
            stbe32(buf + p, QCOW2_EXT_FEATURE_TABLE);
            stbe32(buf + p + 4, fl);
            for (size_t i = 0; i < ARRAY_SIZE(feats); i++)
                add_feature(buf + p + 8 + 48 * i, feats[i].t, feats[i].b, feats[i].n);
            p += 8 + fl;
        }
    }
    p += 8;     /* end marker (zeroes) */
    if (o->backing_file) {
        size_t bl = strlen(o->backing_file);
        if (p + bl > cs) {
            snprintf(err, errlen, "backing file name does not fit in a %u-byte cluster", cs);
            free(buf);
            close(fd);
            unlink(filename);
            return -EINVAL;
        }
        stbe64(buf + 8, p);
        stbe32(buf + 16, (uint32_t)bl);
        memcpy(buf + p, o->backing_file, bl);
    }
    /* refcount table -> block at cluster 2 */
    stbe64(buf + cs, 2ULL * cs);
    /* refcounts of clusters 0, 1, 2 = 1 */
    Qcow2State tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.refcount_order = (uint32_t)rorder;
    tmp.refcount_bits = (uint32_t)rbits;
    for (int i = 0; i < 3; i++)
        qcow2_refblock_entry_set(&tmp, buf + 2 * cs, (uint64_t)i, 1);
    int ret = pwrite_full(fd, buf, (size_t)cs * 3, 0);
    free(buf);
    if (ret == 0 && fsync(fd) < 0)
        ret = -errno;
    close(fd);
    if (ret < 0) {
        snprintf(err, errlen, "could not write '%s': %s", filename, strerror(-ret));
        unlink(filename);
        return ret;
    }
    if (size) {
        BlockDev *bs = blk_open(filename, "qcow2", BLK_O_RDWR | BLK_O_NO_BACKING, err, errlen);
        if (!bs) {
            unlink(filename);
            return -EIO;
        }
        ret = blk_truncate(bs, size);
        if (ret < 0)
            snprintf(err, errlen, "%s", blk_last_error(bs));
        int r2 = blk_close(bs);
        if (ret == 0 && r2 < 0) {
            ret = r2;
            snprintf(err, errlen, "could not finish '%s'", filename);
        }
        if (ret < 0) {
            unlink(filename);
            return ret;
        }
    }
    return 0;
}

const BlockDriver bdrv_qcow2 = {
    .name = "qcow2",
    .thread_safe = false,
    .probe = probe_qcow2,
    .open = qcow2_open,
    .close = qcow2_close,
    .pread = qcow2_read,
    .pwrite = qcow2_write,
    .preadv = qcow2_preadv,
    .pwritev = qcow2_pwritev,
    .pwrite_compressed = qcow2_write_compressed,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .write_zeroes = qcow2_write_zeroes,
    .truncate = qcow2_truncate,
    .make_empty = qcow2_make_empty,
    .save_vmstate = qcow2_save_vmstate,
    .load_vmstate = qcow2_load_vmstate,
    .get_info = qcow2_get_info,
    .block_status = qcow2_block_status,
    .snapshot_create = qcow2_snapshot_create,
    .snapshot_list = qcow2_snapshot_list,
    .snapshot_apply = qcow2_snapshot_apply,
    .snapshot_delete = qcow2_snapshot_delete,
    .check = qcow2_check,
    .create = qcow2_create,
};
