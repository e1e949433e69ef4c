/* qcow2 driver unit tests: allocation, COW, backing files, zero clusters,
 * discard, snapshots, refcount growth, compression, check/repair. */
#include "tests/unit/harness.h"
#include "block/block.h"
#include "system/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *path(const char *name)
{
    return xasprintf("%s/%s", test_tmpdir(), name);
}

static BlockDev *mk(const char *name, uint64_t size, uint32_t cs, int rbits, int version,
                    const char *backing)
{
    char err[BLK_ERR_LEN];
    char *p = path(name);
    BlockCreateOpts o = { .format = "qcow2", .size = size, .cluster_size = cs,
                          .refcount_bits = rbits, .qcow2_version = version, .backing_file = backing };
    unlink(p);
    if (blk_create(p, &o, err, sizeof(err)) < 0) {
        printf("# create: %s\n", err);
        free(p);
        return NULL;
    }
    BlockDev *bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
    if (!bs)
        printf("# open: %s\n", err);
    free(p);
    return bs;
}

static BlockDev *reopen(const char *name, int flags)
{
    char err[BLK_ERR_LEN];
    char *p = path(name);
    BlockDev *bs = blk_open(p, NULL, flags, err, sizeof(err));
    if (!bs)
        printf("# open: %s\n", err);
    free(p);
    return bs;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

static bool fill_check(BlockDev *bs, uint64_t off, size_t len, uint8_t v)
{
    uint8_t *b = xmalloc(len);
    bool ok = blk_pread(bs, off, b, len) == 0 && all_bytes(b, len, v);
    free(b);
    return ok;
}

static int fill(BlockDev *bs, uint64_t off, size_t len, uint8_t v)
{
    uint8_t *b = xmalloc(len);
    memset(b, v, len);
    int r = blk_pwrite(bs, off, b, len);
    free(b);
    return r;
}

static bool clean(BlockDev *bs)
{
    BlockCheckResult r;
    if (blk_check(bs, &r, 0) < 0)
        return false;
    bool ok = !r.corruptions && !r.leaks && !r.check_errors;
    if (!ok && r.messages)
        printf("# check: %.400s\n", r.messages);
    blk_check_result_free(&r);
    return ok;
}

TEST(create_info)
{
    BlockDev *bs = mk("info.qcow2", 100 * MiB, 0, 0, 0, NULL);
    REQUIRE(bs);
    BlockInfo i;
    CHECK_EQ(blk_get_info(bs, &i), 0);
    CHECK(!strcmp(i.format, "qcow2"));
    CHECK_EQ(i.virtual_size, 100 * MiB);
    CHECK_EQ(i.cluster_size, 65536);
    CHECK_EQ(i.qcow2_version, 3);
    CHECK_EQ(i.refcount_bits, 16);
    CHECK_EQ(i.nb_snapshots, 0);
    blk_info_free(&i);
    CHECK(clean(bs));
    CHECK_EQ(blk_close(bs), 0);
}

TEST(alloc_write_read)
{
    BlockDev *bs = mk("rw.qcow2", 16 * MiB, 4096, 0, 0, NULL);
    REQUIRE(bs);
    CHECK(fill_check(bs, 0, 16 * MiB, 0));
    CHECK_EQ(fill(bs, 100, 10000, 0x11), 0);          /* unaligned, spans clusters */
    CHECK_EQ(fill(bs, 8 * MiB, 64 * 1024, 0x22), 0);  /* aligned */
    CHECK_EQ(fill(bs, 16 * MiB - 1, 1, 0x33), 0);     /* last byte */
    CHECK_EQ(fill(bs, 102, 2, 0x44), 0);              /* in-place overwrite */
    CHECK(fill_check(bs, 0, 100, 0));
    CHECK(fill_check(bs, 100, 2, 0x11));
    CHECK(fill_check(bs, 102, 2, 0x44));
    CHECK(fill_check(bs, 104, 9996, 0x11));
    CHECK(fill_check(bs, 10100, 4096, 0));
    CHECK(fill_check(bs, 8 * MiB, 65536, 0x22));
    CHECK(fill_check(bs, 16 * MiB - 1, 1, 0x33));
    uint8_t b;
    CHECK(blk_pread(bs, 16 * MiB, &b, 1) == -EINVAL);
    CHECK(blk_pwrite(bs, 16 * MiB - 1, "ab", 2) == -EINVAL);
    CHECK(clean(bs));
    CHECK_EQ(blk_close(bs), 0);
    bs = reopen("rw.qcow2", BLK_O_RDONLY);
    REQUIRE(bs);
    CHECK(fill_check(bs, 100, 2, 0x11));
    CHECK(fill_check(bs, 8 * MiB, 65536, 0x22));
    CHECK(blk_pwrite(bs, 0, "x", 1) == -EROFS);
    CHECK(strstr(blk_last_error(bs), "read-only") != NULL);
    blk_close(bs);
}

TEST(backing_cow)
{
    BlockDev *base = mk("base.qcow2", 8 * MiB, 0, 0, 0, NULL);
    REQUIRE(base);
    CHECK_EQ(fill(base, 0, 1 * MiB, 0xaa), 0);
    blk_close(base);
    /* relative backing name: resolved against the overlay's directory */
    BlockDev *top = mk("top.qcow2", 0, 0, 0, 0, "base.qcow2");
    REQUIRE(top);
    CHECK_EQ(blk_getlength(top), 8 * MiB);
    CHECK(blk_backing(top) != NULL);
    CHECK_EQ(fill(top, 1000, 10, 0xbb), 0);           /* COW of a partial cluster */
    CHECK(fill_check(top, 0, 1000, 0xaa));
    CHECK(fill_check(top, 1000, 10, 0xbb));
    CHECK(fill_check(top, 1010, 1 * MiB - 1010, 0xaa));
    CHECK(fill_check(top, 1 * MiB, 7 * MiB, 0));
    /* zero cluster hides the backing data */
    CHECK_EQ(blk_write_zeroes(top, 512 * 1024, 128 * 1024), 0);
    CHECK(fill_check(top, 512 * 1024, 128 * 1024, 0));
    CHECK(fill_check(top, 640 * 1024, 384 * 1024, 0xaa));
    uint64_t pnum, map;
    int fl;
    BlockDev *f;
    CHECK_EQ(blk_block_status(top, 512 * 1024, 128 * 1024, &pnum, &fl, &map, &f), 0);
    CHECK(fl & BLK_STATUS_ZERO);
    CHECK_EQ(pnum, 128 * 1024);
    CHECK_EQ(blk_block_status(top, 2 * MiB, 1 * MiB, &pnum, &fl, &map, &f), 0);
    CHECK(!(fl & BLK_STATUS_ALLOCATED));
    CHECK(clean(top));
    blk_close(top);
    base = reopen("base.qcow2", BLK_O_RDONLY);
    REQUIRE(base);
    CHECK(fill_check(base, 0, 1 * MiB, 0xaa));    /* base untouched */
    blk_close(base);
}

TEST(backing_chain_deep_and_raw)
{
    char *rawp = path("chain0.raw");
    int fd = open(rawp, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    uint8_t buf[4096];
    memset(buf, 1, sizeof(buf));
    CHECK_EQ(pwrite(fd, buf, sizeof(buf), 0), 4096);
    CHECK_EQ(ftruncate(fd, 4 * MiB), 0);
    close(fd);
    free(rawp);
    char prev[64] = "chain0.raw";
    for (int i = 1; i <= 6; i++) {
        char name[64];
        snprintf(name, sizeof(name), "chain%d.qcow2", i);
        BlockDev *bs = mk(name, 0, 0, 0, 0, prev);
        REQUIRE(bs);
        CHECK_EQ(fill(bs, (uint64_t)i * 65536, 100, (uint8_t)(i + 1)), 0);
        blk_close(bs);
        snprintf(prev, sizeof(prev), "%s", name);
    }
    BlockDev *bs = reopen("chain6.qcow2", BLK_O_RDONLY);
    REQUIRE(bs);
    CHECK(fill_check(bs, 0, 4096, 1));
    for (int i = 1; i <= 6; i++)
        CHECK(fill_check(bs, (uint64_t)i * 65536, 100, (uint8_t)(i + 1)));
    BlockInfo info;
    CHECK_EQ(blk_get_info(bs, &info), 0);
    CHECK(!strcmp(info.backing_file, "chain5.qcow2"));
    CHECK(!strcmp(info.backing_fmt, "qcow2"));
    blk_info_free(&info);
    blk_close(bs);
}

TEST(discard_frees_clusters)
{
    BlockDev *bs = mk("discard.qcow2", 32 * MiB, 0, 0, 0, NULL);
    REQUIRE(bs);
    CHECK_EQ(fill(bs, 0, 8 * MiB, 0x5a), 0);
    CHECK_EQ(blk_flush(bs), 0);
    CHECK_EQ(blk_discard(bs, 1 * MiB, 4 * MiB), 0);
    CHECK(fill_check(bs, 1 * MiB, 4 * MiB, 0));
    CHECK(fill_check(bs, 0, 1 * MiB, 0x5a));
    CHECK(fill_check(bs, 5 * MiB, 3 * MiB, 0x5a));
    CHECK_EQ(blk_flush(bs), 0);
    CHECK(clean(bs));
    /* freed clusters get reused: the file does not grow */
    struct stat st1, st2;
    char *p = path("discard.qcow2");
    stat(p, &st1);
    CHECK_EQ(fill(bs, 16 * MiB, 4 * MiB, 0x6b), 0);
    CHECK_EQ(blk_flush(bs), 0);
    stat(p, &st2);
    CHECK_EQ(st1.st_size, st2.st_size);
    CHECK(fill_check(bs, 16 * MiB, 4 * MiB, 0x6b));
    CHECK(clean(bs));
    /* partial-cluster discard is a no-op */
    CHECK_EQ(blk_discard(bs, 100, 200), 0);
    CHECK(fill_check(bs, 100, 200, 0x5a));
    free(p);
    blk_close(bs);
}

TEST(zero_clusters_v3_and_v2)
{
    for (int v = 2; v <= 3; v++) {
        BlockDev *bs = mk(v == 2 ? "zero2.qcow2" : "zero3.qcow2", 8 * MiB, 0, 0, v, NULL);
        REQUIRE(bs);
        CHECK_EQ(fill(bs, 0, 2 * MiB, 0x77), 0);
        CHECK_EQ(blk_write_zeroes(bs, 100, 1 * MiB), 0);
        CHECK(fill_check(bs, 0, 100, 0x77));
        CHECK(fill_check(bs, 100, 1 * MiB, 0));
        CHECK(fill_check(bs, 1 * MiB + 100, 1 * MiB - 100, 0x77));
        CHECK(clean(bs));
        blk_close(bs);
    }
}

TEST(snapshots)
{
    BlockDev *bs = mk("snap.qcow2", 16 * MiB, 0, 0, 0, NULL);
    REQUIRE(bs);
    CHECK_EQ(fill(bs, 0, 2 * MiB, 1), 0);
    CHECK_EQ(blk_snapshot_create(bs, "one", 0), 0);
    CHECK(blk_snapshot_create(bs, "one", 0) == -EEXIST);
    CHECK(clean(bs));
    CHECK_EQ(fill(bs, 1 * MiB, 2 * MiB, 2), 0);
    CHECK_EQ(fill(bs, 10 * MiB, 100, 2), 0);
    CHECK(clean(bs));
    CHECK_EQ(blk_snapshot_create(bs, "two", 0), 0);
    CHECK_EQ(blk_write_zeroes(bs, 0, 16 * MiB), 0);
    CHECK(fill_check(bs, 0, 16 * MiB, 0));
    CHECK(clean(bs));
    BlockSnapshotInfo *l;
    CHECK_EQ(blk_snapshot_list(bs, &l), 2);
    CHECK(!strcmp(l[0].name, "one") && !strcmp(l[0].id, "1"));
    CHECK(!strcmp(l[1].name, "two") && !strcmp(l[1].id, "2"));
    free(l);
    CHECK_EQ(blk_snapshot_apply(bs, "one"), 0);
    CHECK(fill_check(bs, 0, 2 * MiB, 1));
    CHECK(fill_check(bs, 2 * MiB, 14 * MiB, 0));
    CHECK(clean(bs));
    CHECK_EQ(blk_snapshot_apply(bs, "2"), 0);     /* by id */
    CHECK(fill_check(bs, 0, 1 * MiB, 1));
    CHECK(fill_check(bs, 1 * MiB, 2 * MiB, 2));
    CHECK(fill_check(bs, 10 * MiB, 100, 2));
    CHECK_EQ(fill(bs, 0, 64 * 1024, 3), 0);        /* COW of a shared cluster */
    CHECK(clean(bs));
    CHECK_EQ(blk_snapshot_delete(bs, "one"), 0);
    CHECK(clean(bs));
    CHECK_EQ(blk_snapshot_delete(bs, "two"), 0);
    CHECK(clean(bs));
    CHECK(blk_snapshot_delete(bs, "two") == -ENOENT);
    CHECK(fill_check(bs, 0, 64 * 1024, 3));
    CHECK(fill_check(bs, 64 * 1024, 1 * MiB - 64 * 1024, 1));
    CHECK_EQ(blk_snapshot_list(bs, &l), 0);
    blk_close(bs);
    bs = reopen("snap.qcow2", BLK_O_RDONLY);
    REQUIRE(bs);
    CHECK(clean(bs));
    blk_close(bs);
}

TEST(refcount_growth_small_clusters)
{
    /* 512-byte clusters with 64-bit refcounts: a refcount block covers 64
     * clusters, the first refcount table 64 blocks; 8 MiB of data forces
     * several table growths */
    BlockDev *bs = mk("grow.qcow2", 16 * MiB, 512, 64, 0, NULL);
    REQUIRE(bs);
    uint8_t *buf = xmalloc(1 * MiB);
    for (int i = 0; i < 8; i++) {
        memset(buf, i + 1, 1 * MiB);
        CHECK_EQ(blk_pwrite(bs, (uint64_t)i * MiB * 2, buf, 1 * MiB), 0);
    }
    CHECK(clean(bs));
    blk_close(bs);
    bs = reopen("grow.qcow2", BLK_O_RDONLY);
    REQUIRE(bs);
    for (int i = 0; i < 8; i++)
        CHECK(fill_check(bs, (uint64_t)i * MiB * 2, 1 * MiB, (uint8_t)(i + 1)));
    CHECK(clean(bs));
    blk_close(bs);
    free(buf);
}

TEST(refcount_widths)
{
    static const int widths[] = { 1, 2, 4, 8, 16, 32, 64 };
    for (size_t w = 0; w < ARRAY_SIZE(widths); w++) {
        char name[32];
        snprintf(name, sizeof(name), "rc%d.qcow2", widths[w]);
        BlockDev *bs = mk(name, 4 * MiB, 4096, widths[w], 0, NULL);
        REQUIRE(bs);
        CHECK_EQ(fill(bs, 0, 1 * MiB, 9), 0);
        CHECK_EQ(fill(bs, 3 * MiB, 12345, 8), 0);
        int r = blk_snapshot_create(bs, "s", 0);
        if (widths[w] == 1) {
            /* refcount 2 does not fit in one bit: clean error */
            CHECK(r == -ERANGE);
            CHECK(strstr(blk_last_error(bs), "overflow") != NULL);
        } else {
            CHECK_EQ(r, 0);
            CHECK_EQ(fill(bs, 0, 4096, 7), 0);
            CHECK(fill_check(bs, 4096, 1 * MiB - 4096, 9));
        }
        CHECK_EQ(blk_close(bs), 0);
        bs = reopen(name, BLK_O_RDONLY);
        REQUIRE(bs);
        if (widths[w] > 1)
            CHECK(clean(bs));
        CHECK(fill_check(bs, 3 * MiB, 12345, 8));
        blk_close(bs);
    }
}

TEST(compressed)
{
    BlockDev *bs = mk("comp.qcow2", 4 * MiB, 0, 0, 0, NULL);
    REQUIRE(bs);
    uint8_t *buf = xmalloc(65536);
    for (int i = 0; i < 65536; i++)
        buf[i] = (uint8_t)(i / 100);
    for (int c = 0; c < 8; c++)
        CHECK_EQ(blk_pwrite_compressed(bs, (uint64_t)c * 65536, buf, 65536), 0);
    uint8_t *rd = xmalloc(65536);
    for (int c = 0; c < 8; c++) {
        CHECK_EQ(blk_pread(bs, (uint64_t)c * 65536, rd, 65536), 0);
        CHECK(memcmp(rd, buf, 65536) == 0);
    }
    uint64_t pnum, map;
    int fl;
    BlockDev *f;
    CHECK_EQ(blk_block_status(bs, 0, 65536, &pnum, &fl, &map, &f), 0);
    CHECK(fl & BLK_STATUS_COMPRESSED);
    CHECK(clean(bs));
    /* overwrite part of a compressed cluster: COW into a normal one */
    CHECK_EQ(fill(bs, 65536 + 10, 10, 0xee), 0);
    CHECK_EQ(blk_pread(bs, 65536, rd, 65536), 0);
    CHECK(memcmp(rd, buf, 10) == 0 && all_bytes(rd + 10, 10, 0xee) && memcmp(rd + 20, buf + 20, 65516) == 0);
    CHECK_EQ(blk_flush(bs), 0);
    CHECK(clean(bs));
    free(buf);
    free(rd);
    blk_close(bs);
}

TEST(resize_grow)
{
    BlockDev *bs = mk("resize.qcow2", 1 * MiB, 512, 0, 0, NULL);
    REQUIRE(bs);
    CHECK_EQ(fill(bs, 0, 1 * MiB, 4), 0);
    CHECK_EQ(blk_truncate(bs, 64 * MiB), 0);     /* L1 must grow */
    CHECK_EQ(blk_getlength(bs), 64 * MiB);
    CHECK_EQ(fill(bs, 63 * MiB, 1 * MiB, 5), 0);
    CHECK(fill_check(bs, 0, 1 * MiB, 4));
    CHECK(fill_check(bs, 1 * MiB, 62 * MiB, 0));
    CHECK(blk_truncate(bs, 1 * MiB) == -ENOTSUP);
    CHECK(clean(bs));
    blk_close(bs);
    bs = reopen("resize.qcow2", BLK_O_RDONLY);
    REQUIRE(bs);
    CHECK(fill_check(bs, 63 * MiB, 1 * MiB, 5));
    blk_close(bs);
}

TEST(snapshot_mode)
{
    BlockDev *bs = mk("sm.qcow2", 4 * MiB, 0, 0, 0, NULL);
    REQUIRE(bs);
    CHECK_EQ(fill(bs, 0, 65536, 1), 0);
    blk_close(bs);
    bs = reopen("sm.qcow2", BLK_O_RDWR | BLK_O_SNAPSHOT);
    REQUIRE(bs);
    CHECK_EQ(fill(bs, 0, 100, 2), 0);
    CHECK(fill_check(bs, 0, 100, 2));
    CHECK(fill_check(bs, 100, 65436, 1));
    blk_close(bs);
    bs = reopen("sm.qcow2", BLK_O_RDONLY);
    REQUIRE(bs);
    CHECK(fill_check(bs, 0, 65536, 1));
    blk_close(bs);
}

TEST(check_repairs_leaks)
{
    BlockDev *bs = mk("leak.qcow2", 4 * MiB, 0, 0, 0, NULL);
    REQUIRE(bs);
    CHECK_EQ(fill(bs, 0, 65536, 1), 0);
    blk_close(bs);
    /* bump the refcount of cluster 2 (the refcount block) behind our back:
     * refcount block at cluster 2, entry i is a 16-bit big-endian value */
    char *p = path("leak.qcow2");
    int fd = open(p, O_RDWR);
    REQUIRE(fd >= 0);
    uint8_t v[2] = { 0, 1 };
    /* cluster 40 is free: mark it used (a leak) */
    CHECK_EQ(pwrite(fd, v, 2, 2 * 65536 + 40 * 2), 2);
    close(fd);
    bs = reopen("leak.qcow2", BLK_O_RDONLY);
    REQUIRE(bs);
    BlockCheckResult r;
    CHECK_EQ(blk_check(bs, &r, 0), 0);
    CHECK_EQ(r.leaks, 1);
    CHECK_EQ(r.corruptions, 0);
    blk_check_result_free(&r);
    blk_close(bs);
    bs = reopen("leak.qcow2", BLK_O_RDWR);
    REQUIRE(bs);
    CHECK_EQ(blk_check(bs, &r, BLK_FIX_LEAKS), 0);
    CHECK_EQ(r.leaks_fixed, 1);
    CHECK_EQ(r.leaks, 0);
    blk_check_result_free(&r);
    CHECK(clean(bs));
    CHECK(fill_check(bs, 0, 65536, 1));
    blk_close(bs);
    free(p);
}

TEST(header_extensions_preserved)
{
    BlockDev *bs = mk("ext.qcow2", 4 * MiB, 0, 0, 0, NULL);
    REQUIRE(bs);
    blk_close(bs);
    char *p = path("ext.qcow2");
    int fd = open(p, O_RDWR);
    REQUIRE(fd >= 0);
    /* replace the end marker after the feature table with an unknown
     * extension followed by a new end marker */
    uint8_t hdr[4096];
    CHECK_EQ(pread(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
    uint32_t pos = ldbe32(hdr + 100);
    while (ldbe32(hdr + pos) != 0)
        pos += 8 + ALIGN_UP(ldbe32(hdr + pos + 4), 8);
    uint8_t ext[24] = { 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 13, 'h', 'e', 'l', 'l', 'o', ' ', 'k', 'e',
                        's', 't', 'r', 'e', 'l', 0, 0, 0 };
    CHECK_EQ(pwrite(fd, ext, sizeof(ext), pos), (ssize_t)sizeof(ext));
    uint8_t end[8] = { 0 };
    CHECK_EQ(pwrite(fd, end, 8, pos + sizeof(ext)), 8);
    close(fd);
    /* a snapshot rewrites the header */
    bs = reopen("ext.qcow2", BLK_O_RDWR);
    REQUIRE(bs);
    CHECK_EQ(blk_snapshot_create(bs, "s", 0), 0);
    blk_close(bs);
    fd = open(p, O_RDONLY);
    uint8_t h2[4096];
    CHECK_EQ(pread(fd, h2, sizeof(h2), 0), (ssize_t)sizeof(h2));
    close(fd);
    CHECK(memcmp(h2 + pos, ext, sizeof(ext)) == 0);
    CHECK_EQ(ldbe32(h2 + 60), 1);   /* nb_snapshots */
    free(p);
}

TEST(vmstate_in_snapshots)
{
    BlockDev *bs = mk("vm.qcow2", 3 * MiB, 0, 0, 0, NULL);
    REQUIRE(bs);
    uint8_t *st = xmalloc(1 * MiB), *rd = xmalloc(1 * MiB);
    memset(st, 0x31, 1 * MiB);
    CHECK_EQ(fill(bs, 0, 3 * MiB, 0x10), 0);
    CHECK_EQ(blk_save_vmstate(bs, st, 0, 1 * MiB), 0);
    CHECK_EQ(blk_snapshot_create(bs, "vm1", 1 * MiB), 0);
    memset(st, 0x32, 1 * MiB);
    CHECK_EQ(blk_save_vmstate(bs, st, 0, 1 * MiB), 0);
    CHECK_EQ(fill(bs, 0, 3 * MiB, 0x20), 0);
    CHECK_EQ(blk_snapshot_create(bs, "vm2", 1 * MiB), 0);
    CHECK(clean(bs));
    CHECK_EQ(blk_getlength(bs), 3 * MiB);
    CHECK(fill_check(bs, 0, 3 * MiB, 0x20));
    CHECK_EQ(blk_snapshot_apply(bs, "vm1"), 0);
    CHECK(fill_check(bs, 0, 3 * MiB, 0x10));
    CHECK_EQ(blk_load_vmstate(bs, rd, 0, 1 * MiB), 0);
    CHECK(all_bytes(rd, 1 * MiB, 0x31));
    CHECK_EQ(blk_snapshot_apply(bs, "vm2"), 0);
    CHECK_EQ(blk_load_vmstate(bs, rd, 0, 1 * MiB), 0);
    CHECK(all_bytes(rd, 1 * MiB, 0x32));
    BlockSnapshotInfo *l;
    CHECK_EQ(blk_snapshot_list(bs, &l), 2);
    CHECK_EQ(l[0].vm_state_size, 1 * MiB);
    free(l);
    CHECK(clean(bs));
    blk_close(bs);
    free(st);
    free(rd);
}
