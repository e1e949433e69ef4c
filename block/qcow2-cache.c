/* A small LRU cache of cluster-sized metadata tables (L2 tables, refcount
 * blocks). Dirty entries are written back by the owner in a crash-safe
 * order; evicting a dirty L2 table first writes back the refcounts. */
#include "block/qcow2.h"
#include "system/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

void qcow2_cache_init(Qcow2Cache *c, int n, uint64_t cluster_size)
{
    c->n = n;
    c->tick = 0;
    c->e = xzalloc(sizeof(Qcow2CacheEntry) * (size_t)n);
    for (int i = 0; i < n; i++)
        c->e[i].data = xmalloc(cluster_size);
}

void qcow2_cache_destroy(Qcow2Cache *c)
{
    if (!c->e)
        return;
    for (int i = 0; i < c->n; i++)
        free(c->e[i].data);
    free(c->e);
    c->e = NULL;
}

static int write_entry(Qcow2State *s, Qcow2Cache *c, Qcow2CacheEntry *e)
{
    if (c == &s->l2_cache) {
        /* an L2 table may reference clusters whose refcount is only in
         * memory: refcounts reach the disk first */
        int ret = qcow2_flush_refcounts(s);
        if (ret < 0)
            return ret;
    }
    {
        int ret = qcow2_mark_dirty(s);
        if (ret < 0)
            return ret;
        ret = pwrite_full(s->bs->fd, e->data, s->cluster_size, e->offset);
        if (ret < 0)
            return blk_set_error(s->bs, ret, "could not write metadata at 0x%" PRIx64 ": %s",
                                 e->offset, strerror(-ret));
    }
    if (e->offset + s->cluster_size > s->file_size)
        s->file_size = e->offset + s->cluster_size;
    e->dirty = false;
    return 0;
}

uint8_t *qcow2_cache_get(Qcow2State *s, Qcow2Cache *c, uint64_t off, bool load, int *err)
{
    *err = 0;
    Qcow2CacheEntry *victim = NULL;
    for (int i = 0; i < c->n; i++) {
        Qcow2CacheEntry *e = &c->e[i];
        if (e->offset == off) {
            e->lru = ++c->tick;
            if (!load)
                memset(e->data, 0, s->cluster_size);
            return e->data;
        }
        if (!victim || (e->offset == 0 && victim->offset != 0) ||
            (victim->offset != 0 && e->offset != 0 && e->lru < victim->lru))
            victim = e;
    }
    if (victim->offset && victim->dirty) {
        int ret = write_entry(s, c, victim);
        if (ret < 0) {
            *err = ret;
            return NULL;
        }
    }
    victim->offset = 0;
    victim->dirty = false;
    if (load) {
        int ret = blk_file_pread_zfill(s->bs->fd, victim->data, s->cluster_size, off);
        if (ret < 0) {
            *err = blk_set_error(s->bs, ret, "could not read metadata at 0x%" PRIx64 ": %s",
                                 off, strerror(-ret));
            return NULL;
        }
    } else {
        memset(victim->data, 0, s->cluster_size);
    }
    victim->offset = off;
    victim->lru = ++c->tick;
    return victim->data;
}

void qcow2_cache_mark_dirty(Qcow2Cache *c, uint64_t off)
{
    for (int i = 0; i < c->n; i++)
        if (c->e[i].offset == off) {
            c->e[i].dirty = true;
            return;
        }
}

int qcow2_cache_write_dirty(Qcow2State *s, Qcow2Cache *c)
{
    for (int i = 0; i < c->n; i++) {
        Qcow2CacheEntry *e = &c->e[i];
        if (e->offset && e->dirty) {
            int ret = write_entry(s, c, e);
            if (ret < 0)
                return ret;
        }
    }
    return 0;
}

void qcow2_cache_discard(Qcow2Cache *c, uint64_t off)
{
    for (int i = 0; i < c->n; i++)
        if (c->e[i].offset == off) {
            c->e[i].offset = 0;
            c->e[i].dirty = false;
        }
}

void qcow2_cache_invalidate(Qcow2Cache *c)
{
    for (int i = 0; i < c->n; i++) {
        c->e[i].offset = 0;
        c->e[i].dirty = false;
    }
}
