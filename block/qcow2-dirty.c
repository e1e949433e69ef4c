/* The qcow2 dirty bit (incompatible feature bit 0) brackets every window in
 * which the metadata on disk may disagree with itself.
 *
 * Metadata is written in an order that can only ever leak clusters (see
 * qcow2-refcount.c): a refcount increment reaches the disk before the L2
 * entry that uses the cluster, and a decrement only after the L2/L1 entry
 * that dropped the cluster.  A kill between the two leaves a cluster whose
 * refcount is too high: wasted space, never lost data.  To make even that
 * visible and self-healing, the bit is set (and synced) before the first
 * metadata write after a consistent point, and cleared once a complete
 * flush has made the metadata on disk consistent again.  Opening a dirty
 * image read-write (not for 'check') runs a repair pass that recounts the
 * references and frees the leaks (qcow2_do_open), as qemu does for images
 * with lazy refcounts.  So after a kill, 'qemu-img check' sees either a
 * clean image, or leaks with the dirty bit set; after Kestrel reopens it,
 * a clean image.
 *
 * Version 2 images have no feature bits: their leaks are only repaired by
 * 'kestrel-img check -r leaks'. */
#include "block/qcow2.h"
#include "system/util.h"

#include <errno.h>
#include <unistd.h>

/* Only the incompatible-features field: the rest of the header may be in
 * flux and is written by qcow2_update_header. */
static int write_incompat(Qcow2State *s)
{
    uint8_t v[8];
    stbe64(v, s->incompat);
    int ret = pwrite_full(s->bs->fd, v, sizeof(v), 72);
    if (ret < 0)
        return blk_set_error(s->bs, ret, "could not write the qcow2 header of '%s': %s",
                             s->bs->filename, strerror(-ret));
    return 0;
}

int qcow2_mark_dirty(Qcow2State *s)
{
    if (s->version < 3 || (s->incompat & QCOW2_INCOMPAT_DIRTY) || s->bs->read_only)
        return 0;
    s->incompat |= QCOW2_INCOMPAT_DIRTY;
    s->dirty_ours = true;
    int ret = write_incompat(s);
    if (ret < 0)
        return ret;
    /* the bit must be on disk before any metadata write it covers */
    if (fdatasync(s->bs->fd) < 0)
        return blk_set_error(s->bs, errno, "fdatasync of '%s' failed: %s", s->bs->filename, strerror(errno));
    return 0;
}

int qcow2_mark_clean(Qcow2State *s)
{
    /* A bit found set on open stays until a repair pass has recounted
     * the references (qcow2_check clears it). */
    if (!(s->incompat & QCOW2_INCOMPAT_DIRTY) || !s->dirty_ours || s->bs->read_only)
        return 0;
    s->dirty_ours = false;
    s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
    /* No sync: losing this write leaves a dirty image with nothing to
     * repair; the next qcow2_mark_dirty syncs before metadata follows. */
    return write_incompat(s);
}
