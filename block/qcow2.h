/* qcow2 driver internals (format: QEMU's docs/interop/qcow2.txt). */
#ifndef BLOCK_QCOW2_H
#define BLOCK_QCOW2_H

#include "block/block-int.h"

#define QCOW2_MAGIC 0x514649fbU          /* "QFI\xfb" */
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104

#define QCOW2_INCOMPAT_DIRTY      (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT    (1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE  (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2      (1ULL << 4)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ULL << 0)

#define QCOW2_EXT_END          0x00000000U
#define QCOW2_EXT_BACKING_FMT  0xe2792acaU
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857U

#define QCOW_OFLAG_COPIED     (1ULL << 63)
#define QCOW_OFLAG_COMPRESSED (1ULL << 62)
#define QCOW_OFLAG_ZERO       (1ULL << 0)
#define L1E_OFFSET_MASK 0x00fffffffffffe00ULL
#define L2E_OFFSET_MASK 0x00fffffffffffe00ULL
#define REFT_OFFSET_MASK 0xfffffffffffffe00ULL

#define QCOW2_MAX_L1_BYTES (32 * 1024 * 1024)
#define QCOW2_MAX_REFTABLE_BYTES (8 * 1024 * 1024)
#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024
#define QCOW2_MAX_BACKING_NAME 1023

/* Cluster kinds as stored in an L2 entry. */
typedef enum {
    QC_UNALLOCATED,     /* read from backing (or zero) */
    QC_ZERO_PLAIN,      /* zero flag, no allocation */
    QC_ZERO_ALLOC,      /* zero flag with a host cluster */
    QC_NORMAL,
    QC_COMPRESSED,
} Qcow2ClusterType;

typedef struct Qcow2CacheEntry {
    uint64_t offset;    /* 0 = empty */
    uint8_t *data;
    bool dirty;
    uint64_t lru;
} Qcow2CacheEntry;

typedef struct Qcow2Cache {
    Qcow2CacheEntry *e;
    int n;
    uint64_t tick;
} Qcow2Cache;

typedef struct Qcow2Ext {
    uint32_t type;
    uint32_t len;
    uint8_t *data;
} Qcow2Ext;

typedef struct Qcow2Snapshot {
    uint64_t l1_offset;
    uint32_t l1_size;
    char *id;
    char *name;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;
    uint32_t extra_size;
    uint8_t *extra;         /* extra_size bytes, preserved */
    uint64_t disk_size;
    uint64_t icount;
} Qcow2Snapshot;

typedef struct Qcow2State {
    BlockDev *bs;
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint32_t l2_bits;           /* log2 entries per L2 table */
    uint64_t l2_entries;
    uint32_t csize_shift;
    uint64_t csize_mask;
    uint64_t coffset_mask;

    uint8_t *l1_raw_dummy;
    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t *l1;               /* host-endian */
    bool l1_dirty;
    uint32_t l1_dirty_min, l1_dirty_max;  /* inclusive range of changed entries */

    uint32_t refcount_order;
    uint32_t refcount_bits;
    uint64_t refcount_max;
    uint32_t rb_bits;           /* log2 refcount entries per block */
    uint64_t reftable_offset;
    uint32_t reftable_clusters;
    uint64_t reftable_size;     /* entries in memory (>= on-disk when growing) */
    uint64_t *reftable;
    bool reftable_dirty;        /* entries changed */
    bool reftable_moved;        /* header must point to a new table */
    uint64_t old_reftable_offset;
    uint32_t old_reftable_clusters;

    uint64_t incompat, compat, autoclear;
    bool dirty_ours;            /* the dirty bit was set by qcow2_mark_dirty */
    uint32_t header_length;
    uint8_t compression_type;
    Qcow2Ext *exts;
    int nb_exts;
    char *backing_file;
    char *backing_fmt;

    Qcow2Snapshot *snaps;
    int nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t snapshots_size;    /* bytes on disk */

    Qcow2Cache l2_cache;
    Qcow2Cache rb_cache;
    bool rb_dirty;              /* some refcount block dirty */
    bool rc_unsynced;           /* refcount writes not yet fdatasync'ed */
    /* clusters being allocated (nested allocations): never place a new
     * refcount block there */
    uint64_t avoid_start[8], avoid_n[8];
    int nb_avoid;

    uint64_t free_hint;         /* first cluster index that may be free */
    uint64_t file_size;         /* bytes; grows as we allocate */
    uint64_t compressed_tail;   /* byte offset for packing compressed data */

    uint64_t *deferred;         /* clusters whose refcount drops at next flush */
    size_t nb_deferred, cap_deferred;

    /* sorted cluster indices of metadata clusters (write-overlap guard) */
    uint64_t *meta;
    size_t nb_meta, cap_meta;

    /* during check repair: computed refcounts (clusters in use) */
    uint32_t *check_refs;
    uint64_t check_nb;

    /* requests doing host data I/O with bs->lock released */
    pthread_mutex_t io_lock;
    pthread_cond_t io_idle;
    int io_inflight;

    bool corrupt_msg_done;
    bool opened;                /* open finished: corruption marks the image */
    bool in_grow;
    uint8_t *cbuf2;             /* scratch: one decompressed cluster */
} Qcow2State;

static inline uint64_t qcow2_size_to_clusters(Qcow2State *s, uint64_t size)
{
    return (size + s->cluster_size - 1) >> s->cluster_bits;
}

/* qcow2.c */
int qcow2_update_header(Qcow2State *s);
int qcow2_corrupt(Qcow2State *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
Qcow2ClusterType qcow2_l2_type(Qcow2State *s, uint64_t l2e);
bool qcow2_offset_is_metadata(Qcow2State *s, uint64_t off);
int qcow2_check_writable(Qcow2State *s);
void qcow2_meta_add(Qcow2State *s, uint64_t off, uint64_t len);
void qcow2_meta_remove(Qcow2State *s, uint64_t cluster_index);

/* qcow2-cache.c */
void qcow2_cache_init(Qcow2Cache *c, int n, uint64_t cluster_size);
void qcow2_cache_destroy(Qcow2Cache *c);
/* Returns the entry's data or NULL (error set). With load=false the data is
 * zero-filled instead of read. */
uint8_t *qcow2_cache_get(Qcow2State *s, Qcow2Cache *c, uint64_t off, bool load, int *err);
void qcow2_cache_mark_dirty(Qcow2Cache *c, uint64_t off);
int qcow2_cache_write_dirty(Qcow2State *s, Qcow2Cache *c);
void qcow2_cache_discard(Qcow2Cache *c, uint64_t off);
void qcow2_cache_invalidate(Qcow2Cache *c);

/* qcow2-refcount.c */
int qcow2_refcount_init(Qcow2State *s);
int qcow2_get_refcount(Qcow2State *s, uint64_t cluster_index, uint64_t *rc);
/* Change the refcount of every cluster in [off, off+len) by delta. */
int qcow2_update_refcount(Qcow2State *s, uint64_t off, uint64_t len, int64_t delta);
int qcow2_set_refcount(Qcow2State *s, uint64_t cluster_index, uint64_t rc);
/* Allocate n contiguous clusters (refcount 1); returns host offset or -errno. */
int64_t qcow2_alloc_clusters(Qcow2State *s, uint64_t n);
/* Allocate size bytes (< cluster) for compressed data; may share clusters. */
int64_t qcow2_alloc_bytes(Qcow2State *s, uint64_t size);
/* Decrement at the next flush, after the metadata that dropped the
 * reference is on disk (freed clusters are never reused before that). */
void qcow2_free_deferred(Qcow2State *s, uint64_t off, uint64_t nclusters);
/* Free the clusters used by an L2 entry (deferred). */
void qcow2_free_l2_entry_deferred(Qcow2State *s, uint64_t l2e);
/* Write back everything in a crash-safe order and fdatasync. */
int qcow2_flush_all(Qcow2State *s);
/* Refcount blocks / reftable written back + fdatasync. */
int qcow2_flush_refcounts(Qcow2State *s);
int qcow2_refblock_entry_get(Qcow2State *s, const uint8_t *blk, uint64_t idx, uint64_t *v);
void qcow2_refblock_entry_set(Qcow2State *s, uint8_t *blk, uint64_t idx, uint64_t v);
int qcow2_grow_file(Qcow2State *s, uint64_t end);

/* qcow2-cluster.c */
int qcow2_get_l2(Qcow2State *s, uint64_t l1_index, bool alloc, uint64_t **l2, uint64_t *l2_off);
int qcow2_read(BlockDev *bs, uint64_t off, void *buf, size_t len);
int qcow2_write(BlockDev *bs, uint64_t off, const void *buf, size_t len);
int qcow2_write_compressed(BlockDev *bs, uint64_t off, const void *buf, size_t len);
int qcow2_make_empty(BlockDev *bs);
int qcow2_save_vmstate(BlockDev *bs, const void *buf, uint64_t pos, size_t len);
int qcow2_load_vmstate(BlockDev *bs, void *buf, uint64_t pos, size_t len);
int qcow2_discard(BlockDev *bs, uint64_t off, uint64_t len);
int qcow2_write_zeroes(BlockDev *bs, uint64_t off, uint64_t len);
int qcow2_block_status(BlockDev *bs, uint64_t off, uint64_t len,
                       uint64_t *pnum, int *flags, uint64_t *map, BlockDev **file);
int qcow2_read_compressed_cluster(Qcow2State *s, uint64_t l2e, uint8_t *out);
/* Read [off, off+len) inside one cluster whose L2 entry is l2e. */
int qcow2_read_piece(Qcow2State *s, uint64_t l2e, uint64_t off, uint8_t *buf, size_t len);
int qcow2_check_data_offset(Qcow2State *s, uint64_t l2e, uint64_t host);
/* The L2 entry for guest offset off in table l2 (0 when l2 is NULL). */
uint64_t qcow2_l2_entry_at(Qcow2State *s, const uint64_t *l2, uint64_t off);

/* qcow2-io.c: the data path.  Called with bs->lock held; host data I/O
 * on allocated clusters runs with it released (see the file's comment). */
int qcow2_preadv(BlockDev *bs, uint64_t off, const struct iovec *iov, int iovcnt);
int qcow2_pwritev(BlockDev *bs, uint64_t off, const struct iovec *iov, int iovcnt);
/* Wait until no request does host I/O with the lock released. */
void qcow2_quiesce(Qcow2State *s);
int qcow2_grow_l1(Qcow2State *s, uint64_t min_size);
int qcow2_write_l1(Qcow2State *s);
/* Walk the active tables, set/clear COPIED flags to match refcounts. */
int qcow2_fix_copied_flags(Qcow2State *s);
/* Add delta to the refcount of every cluster reachable from an L1 table
 * (L2 tables and data). */
int qcow2_update_l1_refcounts(Qcow2State *s, const uint64_t *l1, uint32_t l1_size, int64_t delta);

/* qcow2-snapshot.c */
int qcow2_read_snapshots(Qcow2State *s);
void qcow2_free_snapshots(Qcow2State *s);
int qcow2_snapshot_create(BlockDev *bs, const char *name, uint64_t vm_state_size);
int qcow2_snapshot_list(BlockDev *bs, BlockSnapshotInfo **list);
int qcow2_snapshot_apply(BlockDev *bs, const char *name);
int qcow2_snapshot_delete(BlockDev *bs, const char *name);
int qcow2_read_l1_table(Qcow2State *s, uint64_t off, uint32_t size, uint64_t **out);

/* qcow2-dirty.c: set the dirty bit (synced) before metadata is written;
 * clear it after a complete flush. */
int qcow2_mark_dirty(Qcow2State *s);
int qcow2_mark_clean(Qcow2State *s);

/* qcow2-check.c */
int qcow2_check(BlockDev *bs, BlockCheckResult *res, int fix);

#endif
