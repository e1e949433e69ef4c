/* qcow2 internal snapshots: snapshot table parsing/writing, create, list,
 * apply (revert) and delete with refcount bookkeeping. */
#include "block/qcow2.h"
#include "system/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define SN_HDR 40
#define QCOW2_MAX_SNAPSHOTS_BYTES (64ULL << 20)

void qcow2_free_snapshots(Qcow2State *s)
{
    for (int i = 0; i < s->nb_snapshots && s->snaps; i++) {
        free(s->snaps[i].id);
        free(s->snaps[i].name);
        free(s->snaps[i].extra);
    }
    free(s->snaps);
    s->snaps = NULL;
}

static char *read_str(const uint8_t *p, size_t n)
{
    char *r = xmalloc(n + 1);
    memcpy(r, p, n);
    r[n] = 0;
    return r;
}

int qcow2_read_snapshots(Qcow2State *s)
{
    int n = s->nb_snapshots;
    s->snaps = NULL;
    s->snapshots_size = 0;
    if (n == 0)
        return 0;
    s->nb_snapshots = 0;
    if (s->snapshots_offset & (s->cluster_size - 1))
        return qcow2_corrupt(s, "snapshot table offset 0x%" PRIx64 " is not cluster-aligned", s->snapshots_offset);
    if (s->snapshots_offset < s->cluster_size || s->snapshots_offset >= s->file_size)
        return qcow2_corrupt(s, "snapshot table offset 0x%" PRIx64 " is invalid", s->snapshots_offset);
    s->snaps = xzalloc(sizeof(Qcow2Snapshot) * (size_t)n);
    uint64_t pos = s->snapshots_offset;
    for (int i = 0; i < n; i++) {
        uint8_t h[SN_HDR];
        if (pos + SN_HDR > s->file_size || pos + SN_HDR - s->snapshots_offset > QCOW2_MAX_SNAPSHOTS_BYTES)
            return qcow2_corrupt(s, "snapshot table runs past the end of the file");
        int ret = pread_full(s->bs->fd, h, SN_HDR, pos);
        if (ret < 0)
            return blk_set_error(s->bs, ret, "could not read the snapshot table: %s", strerror(-ret));
        Qcow2Snapshot *sn = &s->snaps[i];
        sn->l1_offset = ldbe64(h);
        sn->l1_size = ldbe32(h + 8);
        uint32_t id_len = ldbe16(h + 12), name_len = ldbe16(h + 14);
        sn->date_sec = ldbe32(h + 16);
        sn->date_nsec = ldbe32(h + 20);
        sn->vm_clock_nsec = ldbe64(h + 24);
        sn->vm_state_size = ldbe32(h + 32);
        sn->extra_size = ldbe32(h + 36);
        sn->icount = UINT64_MAX;
        sn->disk_size = s->bs->size;
        if (sn->extra_size > QCOW2_MAX_SNAPSHOT_EXTRA)
            return qcow2_corrupt(s, "snapshot %d: extra data too large (%u bytes)", i, sn->extra_size);
        uint64_t var = (uint64_t)sn->extra_size + id_len + name_len;
        if (pos + SN_HDR + var > s->file_size)
            return qcow2_corrupt(s, "snapshot table runs past the end of the file");
        uint8_t *v = xmalloc(var + 1);
        ret = pread_full(s->bs->fd, v, var, pos + SN_HDR);
        if (ret < 0) {
            free(v);
            return blk_set_error(s->bs, ret, "could not read the snapshot table: %s", strerror(-ret));
        }
        sn->extra = xmalloc(sn->extra_size + 1);
        memcpy(sn->extra, v, sn->extra_size);
        if (sn->extra_size >= 8)
            sn->vm_state_size = ldbe64(v);
        if (sn->extra_size >= 16)
            sn->disk_size = ldbe64(v + 8);
        if (sn->extra_size >= 24)
            sn->icount = ldbe64(v + 16);
        sn->id = read_str(v + sn->extra_size, id_len);
        sn->name = read_str(v + sn->extra_size + id_len, name_len);
        free(v);
        s->nb_snapshots = i + 1;
        pos += ALIGN_UP(SN_HDR + var, 8);
        if ((uint64_t)sn->l1_size * 8 > QCOW2_MAX_L1_BYTES)
            return qcow2_corrupt(s, "snapshot '%s': L1 table too large (%u entries)", sn->name, sn->l1_size);
        if (sn->l1_size && ((sn->l1_offset & (s->cluster_size - 1)) || sn->l1_offset < s->cluster_size ||
                            sn->l1_offset >= s->file_size ||
                            (uint64_t)sn->l1_size * 8 > s->file_size - sn->l1_offset))
            return qcow2_corrupt(s, "snapshot '%s': invalid L1 table offset 0x%" PRIx64, sn->name, sn->l1_offset);
        if (sn->disk_size > (1ULL << 61))
            return qcow2_corrupt(s, "snapshot '%s': invalid disk size", sn->name);
    }
    s->snapshots_size = pos - s->snapshots_offset;
    return 0;
}

/* Serialize and write a new snapshot table, point the header at it, free
 * the old one. */
static int write_snapshot_table(Qcow2State *s)
{
    uint64_t total = 0;
    for (int i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snaps[i];
        uint32_t extra = MAX(sn->extra_size, 24U);
        total += ALIGN_UP(SN_HDR + extra + strlen(sn->id) + strlen(sn->name), 8);
    }
    uint8_t *buf = xzalloc(total ? total : 1);
    uint64_t p = 0;
    for (int i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snaps[i];
        uint32_t extra = MAX(sn->extra_size, 24U);
        size_t il = strlen(sn->id), nl = strlen(sn->name);
        stbe64(buf + p, sn->l1_offset);
        stbe32(buf + p + 8, sn->l1_size);
        stbe16(buf + p + 12, (uint16_t)il);
        stbe16(buf + p + 14, (uint16_t)nl);
        stbe32(buf + p + 16, sn->date_sec);
        stbe32(buf + p + 20, sn->date_nsec);
        stbe64(buf + p + 24, sn->vm_clock_nsec);
        stbe32(buf + p + 32, sn->vm_state_size > UINT32_MAX ? 0 : (uint32_t)sn->vm_state_size);
        stbe32(buf + p + 36, extra);
        uint8_t *e = buf + p + SN_HDR;
        memcpy(e, sn->extra, sn->extra_size);
        stbe64(e, sn->vm_state_size);
        stbe64(e + 8, sn->disk_size);
        stbe64(e + 16, sn->icount);
        memcpy(e + extra, sn->id, il);
        memcpy(e + extra + il, sn->name, nl);
        p += ALIGN_UP(SN_HDR + extra + il + nl, 8);
    }
    int64_t off = 0;
    int ret;
    if (total) {
        off = qcow2_alloc_clusters(s, qcow2_size_to_clusters(s, total));
        if (off < 0) {
            free(buf);
            return (int)off;
        }
        ret = pwrite_full(s->bs->fd, buf, total, (uint64_t)off);
        if (ret < 0) {
            free(buf);
            return blk_set_error(s->bs, ret, "could not write the snapshot table: %s", strerror(-ret));
        }
        qcow2_meta_add(s, (uint64_t)off, total);
    }
    free(buf);
    ret = qcow2_flush_refcounts(s);
    if (ret < 0)
        return ret;
    if (fdatasync(s->bs->fd) < 0)
        return blk_set_error(s->bs, errno, "fdatasync failed: %s", strerror(errno));
    uint64_t old_off = s->snapshots_offset, old_size = s->snapshots_size;
    s->snapshots_offset = (uint64_t)off;
    s->snapshots_size = total;
    ret = qcow2_update_header(s);
    if (ret < 0)
        return ret;
    if (fdatasync(s->bs->fd) < 0)
        return blk_set_error(s->bs, errno, "fdatasync failed: %s", strerror(errno));
    if (old_off && old_size) {
        ret = qcow2_update_refcount(s, old_off, old_size, -1);
        if (ret < 0)
            return ret;
    }
    return qcow2_flush_refcounts(s);
}

static int find_snapshot(Qcow2State *s, const char *name)
{
    for (int i = 0; i < s->nb_snapshots; i++)
        if (!strcmp(s->snaps[i].name, name))
            return i;
    for (int i = 0; i < s->nb_snapshots; i++)
        if (!strcmp(s->snaps[i].id, name))
            return i;
    return -1;
}

int qcow2_snapshot_create(BlockDev *bs, const char *name, uint64_t vm_state_size)
{
    Qcow2State *s = bs->opaque;
    int wret = qcow2_check_writable(s);
    if (wret < 0)
        return wret;
    if (!name || !*name || strlen(name) > 1000)
        return blk_set_error(bs, EINVAL, "invalid snapshot name");
    for (int i = 0; i < s->nb_snapshots; i++)
        if (!strcmp(s->snaps[i].name, name))
            return blk_set_error(bs, EEXIST, "a snapshot named '%s' already exists", name);
    if (s->nb_snapshots >= QCOW2_MAX_SNAPSHOTS)
        return blk_set_error(bs, EFBIG, "too many snapshots");
    int ret = qcow2_flush_all(s);
    if (ret < 0)
        return ret;
    uint64_t maxid = 0;
    for (int i = 0; i < s->nb_snapshots; i++) {
        uint64_t v;
        if (parse_u64(s->snaps[i].id, &v) && v > maxid)
            maxid = v;
    }
    /* copy of the active L1 */
    int64_t l1off = 0;
    uint64_t l1bytes = (uint64_t)s->l1_size * 8;
    if (s->l1_size) {
        l1off = qcow2_alloc_clusters(s, qcow2_size_to_clusters(s, l1bytes));
        if (l1off < 0)
            return (int)l1off;
        uint64_t *be = xmalloc(l1bytes);
        for (uint32_t i = 0; i < s->l1_size; i++)
            stbe64(&be[i], s->l1[i] & ~QCOW_OFLAG_COPIED);
        ret = pwrite_full(bs->fd, be, l1bytes, (uint64_t)l1off);
        free(be);
        if (ret < 0)
            return blk_set_error(bs, ret, "could not write the snapshot L1 table: %s", strerror(-ret));
        qcow2_meta_add(s, (uint64_t)l1off, l1bytes);
    }
    ret = qcow2_update_l1_refcounts(s, s->l1, s->l1_size, 1);
    if (ret < 0) {
        if (l1off) {
            qcow2_update_refcount(s, (uint64_t)l1off, l1bytes, -1);
            qcow2_flush_all(s);
        }
        return ret;
    }
    ret = qcow2_fix_copied_flags(s);
    if (ret < 0)
        return ret;
    ret = qcow2_flush_all(s);
    if (ret < 0)
        return ret;

    s->snaps = xrealloc(s->snaps, sizeof(Qcow2Snapshot) * (size_t)(s->nb_snapshots + 1));
    Qcow2Snapshot *sn = &s->snaps[s->nb_snapshots];
    memset(sn, 0, sizeof(*sn));
    sn->l1_offset = (uint64_t)l1off;
    sn->l1_size = s->l1_size;
    sn->id = xasprintf("%" PRIu64, maxid + 1);
    sn->name = xstrdup(name);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    sn->date_sec = (uint32_t)ts.tv_sec;
    sn->date_nsec = (uint32_t)ts.tv_nsec;
    sn->vm_state_size = vm_state_size;
    sn->disk_size = bs->size;
    sn->icount = UINT64_MAX;
    sn->extra_size = 0;
    sn->extra = xmalloc(1);
    s->nb_snapshots++;
    ret = write_snapshot_table(s);
    if (ret < 0)
        return ret;
    return qcow2_flush_all(s);
}

int qcow2_snapshot_list(BlockDev *bs, BlockSnapshotInfo **list)
{
    Qcow2State *s = bs->opaque;
    *list = NULL;
    if (!s->nb_snapshots)
        return 0;
    BlockSnapshotInfo *l = xzalloc(sizeof(*l) * (size_t)s->nb_snapshots);
    for (int i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snaps[i];
        snprintf(l[i].id, sizeof(l[i].id), "%s", sn->id);
        snprintf(l[i].name, sizeof(l[i].name), "%s", sn->name);
        l[i].vm_state_size = sn->vm_state_size;
        l[i].date_sec = sn->date_sec;
        l[i].date_nsec = sn->date_nsec;
        l[i].vm_clock_nsec = sn->vm_clock_nsec;
        l[i].icount = sn->icount;
        l[i].disk_size = sn->disk_size;
    }
    *list = l;
    return s->nb_snapshots;
}

/* The common start of applying or deleting a snapshot: the image writable,
 * the snapshot found (*index), everything flushed, its L1 table read (*snl1,
 * the caller frees it). */
static int snapshot_open_l1(BlockDev *bs, const char *name, int *index, uint64_t **snl1)
{
    Qcow2State *s = bs->opaque;
    int ret = qcow2_check_writable(s);
    if (ret < 0)
        return ret;
    int i = find_snapshot(s, name);
    if (i < 0)
        return blk_set_error(bs, ENOENT, "snapshot '%s' not found", name);
    ret = qcow2_flush_all(s);
    if (ret < 0)
        return ret;
    *index = i;
    return qcow2_read_l1_table(s, s->snaps[i].l1_offset, s->snaps[i].l1_size, snl1);
}

int qcow2_snapshot_apply(BlockDev *bs, const char *name)
{
    Qcow2State *s = bs->opaque;
    int i;
    uint64_t *snl1;
    int ret = snapshot_open_l1(bs, name, &i, &snl1);
    if (ret < 0)
        return ret;
    Qcow2Snapshot *sn = &s->snaps[i];
    if (sn->l1_size > s->l1_size) {
        ret = qcow2_grow_l1(s, sn->l1_size);
        if (ret < 0)
            goto out;
    }
    ret = qcow2_update_l1_refcounts(s, snl1, sn->l1_size, 1);
    if (ret < 0)
        goto out;
    ret = qcow2_flush_refcounts(s);
    if (ret < 0)
        goto out;
    uint64_t *old = s->l1;
    uint32_t n = s->l1_size;
    s->l1 = xzalloc((size_t)n * 8);
    memcpy(s->l1, snl1, (size_t)sn->l1_size * 8);
    for (uint32_t j = 0; j < n; j++)
        if (s->l1[j] & L1E_OFFSET_MASK)
            qcow2_meta_add(s, s->l1[j] & L1E_OFFSET_MASK, s->cluster_size);
    s->l1_dirty = true;
    s->l1_dirty_min = 0;
    s->l1_dirty_max = n ? n - 1 : 0;
    ret = qcow2_write_l1(s);
    if (ret == 0 && fdatasync(bs->fd) < 0)
        ret = blk_set_error(bs, errno, "fdatasync failed: %s", strerror(errno));
    if (ret == 0)
        ret = qcow2_update_l1_refcounts(s, old, n, -1);
    free(old);
    if (ret < 0)
        goto out;
    ret = qcow2_fix_copied_flags(s);
    if (ret < 0)
        goto out;
    if (sn->disk_size && sn->disk_size != bs->size) {
        uint64_t l2_cover = s->cluster_size * s->l2_entries;
        if ((sn->disk_size + l2_cover - 1) / l2_cover <= s->l1_size) {
            bs->size = sn->disk_size;
            ret = qcow2_update_header(s);
            if (ret < 0)
                goto out;
        }
    }
    ret = qcow2_flush_all(s);
out:
    free(snl1);
    return ret;
}

int qcow2_snapshot_delete(BlockDev *bs, const char *name)
{
    Qcow2State *s = bs->opaque;
    int i;
    uint64_t *snl1;
    int ret = snapshot_open_l1(bs, name, &i, &snl1);
    if (ret < 0)
        return ret;
    Qcow2Snapshot sn = s->snaps[i];
    memmove(&s->snaps[i], &s->snaps[i + 1], sizeof(Qcow2Snapshot) * (size_t)(s->nb_snapshots - i - 1));
    s->nb_snapshots--;
    ret = write_snapshot_table(s);
    if (ret == 0)
        ret = qcow2_update_l1_refcounts(s, snl1, sn.l1_size, -1);
    if (ret == 0 && sn.l1_size)
        ret = qcow2_update_refcount(s, sn.l1_offset, (uint64_t)sn.l1_size * 8, -1);
    if (ret == 0)
        ret = qcow2_fix_copied_flags(s);
    if (ret == 0)
        ret = qcow2_flush_all(s);
    free(snl1);
    free(sn.id);
    free(sn.name);
    free(sn.extra);
    return ret;
}
