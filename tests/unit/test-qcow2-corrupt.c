/* A corruption corpus generated on the fly: each damaged image must give a
 * clean error (or be handled safely), never a crash, hang or huge
 * allocation. Run under ASan too (./configure --enable-sanitizers). */
#include "tests/unit/harness.h"
#include "block/block.h"
#include "system/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CS 65536ULL

static char *path(const char *name)
{
    return xasprintf("%s/%s", test_tmpdir(), name);
}

/* A small v3 image: header @0, reftable @1, refblock @2, L1 @3, L2 @4,
 * data @5.. (64 KiB clusters), 1 MiB written at offset 0. */
static char *good_image(const char *name)
{
    char err[BLK_ERR_LEN];
    char *p = path(name);
    unlink(p);
    BlockCreateOpts o = { .format = "qcow2", .size = 64 * MiB };
    if (blk_create(p, &o, err, sizeof(err)) < 0)
        return p;
    BlockDev *bs = blk_open(p, "qcow2", BLK_O_RDWR, err, sizeof(err));
    if (!bs)
        return p;
    uint8_t *buf = xmalloc(1 * MiB);
    memset(buf, 0x42, 1 * MiB);
    blk_pwrite(bs, 0, buf, 1 * MiB);
    free(buf);
    blk_close(bs);
    return p;
}

static void poke(const char *p, uint64_t off, const void *data, size_t n)
{
    int fd = open(p, O_RDWR);
    if (fd < 0)
        return;
    if (pwrite(fd, data, n, (off_t)off) != (ssize_t)n)
        printf("# poke failed\n");
    close(fd);
}

static void poke32(const char *p, uint64_t off, uint32_t v)
{
    uint8_t b[4];
    stbe32(b, v);
    poke(p, off, b, 4);
}

static void poke64(const char *p, uint64_t off, uint64_t v)
{
    uint8_t b[8];
    stbe64(b, v);
    poke(p, off, b, 8);
}

static void poke16(const char *p, uint64_t off, uint16_t v)
{
    uint8_t b[2];
    stbe16(b, v);
    poke(p, off, b, 2);
}

/* Opening must fail with a message containing 'want'. */
static bool open_fails(const char *p, const char *want)
{
    char err[BLK_ERR_LEN] = "";
    BlockDev *bs = blk_open(p, "qcow2", BLK_O_RDONLY, err, sizeof(err));
    if (bs) {
        printf("# unexpectedly opened %s\n", p);
        blk_close(bs);
        return false;
    }
    if (!strstr(err, want)) {
        printf("# error '%s' does not mention '%s'\n", err, want);
        return false;
    }
    return true;
}

/* Open read-only, exercise everything; returns the check result. */
static int check_counts(const char *p, int64_t *corrupt, int64_t *leaks)
{
    char err[BLK_ERR_LEN];
    BlockDev *bs = blk_open(p, "qcow2", BLK_O_RDONLY | BLK_O_NO_BACKING, err, sizeof(err));
    if (!bs) {
        printf("# open: %s\n", err);
        return -1;
    }
    BlockCheckResult r;
    int ret = blk_check(bs, &r, 0);
    *corrupt = r.corruptions + r.check_errors;
    *leaks = r.leaks;
    blk_check_result_free(&r);
    /* reading the whole disk must not crash */
    uint8_t *buf = xmalloc(1 * MiB);
    for (uint64_t off = 0; off < (uint64_t)blk_getlength(bs) && off < 64 * MiB; off += 1 * MiB)
        blk_pread(bs, off, buf, 1 * MiB);
    free(buf);
    blk_close(bs);
    return ret;
}

TEST(good_image_is_clean)
{
    char *p = good_image("good.qcow2");
    int64_t c, l;
    CHECK_EQ(check_counts(p, &c, &l), 0);
    CHECK_EQ(c, 0);
    CHECK_EQ(l, 0);
    free(p);
}

TEST(bad_magic)
{
    char *p = good_image("magic.qcow2");
    poke(p, 0, "XXXX", 4);
    CHECK(open_fails(p, "bad magic"));
    free(p);
}

TEST(truncated_header)
{
    char *p = good_image("trunc.qcow2");
    CHECK_EQ(truncate(p, 50), 0);
    CHECK(open_fails(p, "truncated"));
    CHECK_EQ(truncate(p, 90), 0);       /* v3 header needs 104 bytes */
    CHECK(open_fails(p, "truncated"));
    free(p);
}

TEST(bad_version_cluster_bits_refcount_order)
{
    char *p = good_image("ver.qcow2");
    poke32(p, 4, 4);
    CHECK(open_fails(p, "version"));
    poke32(p, 4, 3);
    poke32(p, 20, 30);
    CHECK(open_fails(p, "cluster_bits"));
    poke32(p, 20, 8);
    CHECK(open_fails(p, "cluster_bits"));
    poke32(p, 20, 16);
    poke32(p, 96, 7);
    CHECK(open_fails(p, "refcount_order"));
    poke32(p, 96, 4);
    poke32(p, 100, 50);
    CHECK(open_fails(p, "header length"));
    free(p);
}

TEST(huge_l1_size)
{
    char *p = good_image("l1big.qcow2");
    poke32(p, 36, 0x7fffffff);
    CHECK(open_fails(p, "L1 table too large"));
    poke32(p, 36, 1 << 20);     /* 8 MiB table: within limits but past EOF */
    CHECK(open_fails(p, "outside the file"));
    free(p);
}

TEST(l1_too_small_for_size)
{
    char *p = good_image("l1small.qcow2");
    poke64(p, 24, 1ULL << 50);
    CHECK(open_fails(p, "too small"));
    poke64(p, 24, ~0ULL);
    CHECK(open_fails(p, "too large"));
    free(p);
}

TEST(offsets_past_eof)
{
    char *p = good_image("eof.qcow2");
    poke64(p, 40, 1ULL << 40);      /* L1 */
    CHECK(open_fails(p, "outside the file"));
    free(p);
    p = good_image("eof2.qcow2");
    poke64(p, 48, 1ULL << 40);      /* refcount table */
    CHECK(open_fails(p, "outside the file"));
    free(p);
    p = good_image("eof3.qcow2");
    poke64(p, 40, 3 * CS + 8);      /* unaligned L1 */
    CHECK(open_fails(p, "not cluster-aligned"));
    free(p);
}

TEST(overlapping_header)
{
    char *p = good_image("ovl.qcow2");
    poke64(p, 48, 0);               /* refcount table on the header */
    CHECK(open_fails(p, "overlaps the header"));
    free(p);
    p = good_image("ovl2.qcow2");
    poke64(p, 40, 0);               /* L1 on the header */
    CHECK(open_fails(p, "overlaps the header"));
    free(p);
    p = good_image("ovl3.qcow2");
    poke64(p, 48, 3 * CS);          /* refcount table = L1 table */
    CHECK(open_fails(p, "overlaps the L1"));
    free(p);
}

TEST(unsupported_features)
{
    char *p = good_image("feat.qcow2");
    poke64(p, 72, 1ULL << 9);
    CHECK(open_fails(p, "incompatible feature bit 9"));
    poke64(p, 72, 1ULL << 2);
    CHECK(open_fails(p, "external data file"));
    poke64(p, 72, 0);
    poke32(p, 32, 1);
    CHECK(open_fails(p, "encrypted"));
    free(p);
}

TEST(corrupt_bit_read_only)
{
    char *p = good_image("cbit.qcow2");
    poke64(p, 72, 1ULL << 1);
    char err[BLK_ERR_LEN];
    BlockDev *bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
    CHECK(bs == NULL);
    CHECK(strstr(err, "marked corrupt") != NULL);
    bs = blk_open(p, NULL, BLK_O_RDONLY, err, sizeof(err));
    CHECK(bs != NULL);
    if (bs)
        blk_close(bs);
    free(p);
}

TEST(bad_header_extension)
{
    char *p = good_image("ext.qcow2");
    poke32(p, 112, 0x12345678);
    poke32(p, 112 + 4, 0x7fffffff);
    CHECK(open_fails(p, "header extension"));
    free(p);
}

TEST(refcount_overflow)
{
    char *p = good_image("rcover.qcow2");
    /* data cluster 5 gets refcount 0xffff: a leak for check, and a
     * snapshot (which increments it) overflows cleanly */
    poke16(p, 2 * CS + 5 * 2, 0xffff);
    int64_t c, l;
    CHECK_EQ(check_counts(p, &c, &l), 0);
    CHECK_EQ(c, 1);     /* COPIED flag set although the refcount is not 1 */
    CHECK_EQ(l, 1);
    char err[BLK_ERR_LEN];
    BlockDev *bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
    REQUIRE(bs);
    int r = blk_snapshot_create(bs, "s", 0);
    CHECK(r == -ERANGE);
    CHECK(strstr(blk_last_error(bs), "overflow") != NULL);
    blk_close(bs);
    free(p);
}

TEST(l2_loop)
{
    /* L1[0] points at the L1 table itself */
    char *p = good_image("loop1.qcow2");
    poke64(p, 3 * CS, (3 * CS) | (1ULL << 63));
    char err[BLK_ERR_LEN];
    BlockDev *bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
    REQUIRE(bs);
    uint8_t b[512];
    CHECK(blk_pread(bs, 0, b, 512) == -EIO);
    CHECK(strstr(blk_last_error(bs), "overlaps") != NULL);
    CHECK(blk_pwrite(bs, 0, b, 512) == -EIO);
    blk_close(bs);
    int64_t c, l;
    CHECK_EQ(check_counts(p, &c, &l), 0);
    CHECK(c > 0);
    free(p);

    /* an L2 entry points at its own L2 table (cluster 4) */
    p = good_image("loop2.qcow2");
    poke64(p, 4 * CS + 8, (4 * CS) | (1ULL << 63));
    bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
    REQUIRE(bs);
    memset(b, 0x99, sizeof(b));
    CHECK(blk_pwrite(bs, CS, b, 512) == -EIO);
    CHECK(strstr(blk_last_error(bs), "metadata") != NULL);
    blk_close(bs);
    CHECK_EQ(check_counts(p, &c, &l), 0);
    CHECK(c > 0);
    free(p);

    /* every L1 entry points to the same L2 table */
    p = good_image("loop3.qcow2");
    for (int i = 1; i < 128; i++)
        poke64(p, 3 * CS + 8 * (uint64_t)i, (4 * CS) | (1ULL << 63));
    CHECK_EQ(check_counts(p, &c, &l), 0);
    CHECK(c > 0);
    free(p);
}

TEST(l2_entries_bad)
{
    char *p = good_image("l2bad.qcow2");
    poke64(p, 4 * CS + 0, (1ULL << 50) | (1ULL << 63));   /* past EOF */
    poke64(p, 4 * CS + 8, (6 * CS + 512) | (1ULL << 63)); /* unaligned */
    poke64(p, 4 * CS + 16, (1ULL << 62) | (7 * CS));      /* compressed garbage */
    char err[BLK_ERR_LEN];
    BlockDev *bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
    REQUIRE(bs);
    uint8_t *b = xmalloc(CS);
    CHECK(blk_pwrite(bs, 0, b, 512) == -EIO);
    CHECK(strstr(blk_last_error(bs), "past the end") != NULL);
    CHECK(blk_pread(bs, CS, b, 512) == -EIO);
    CHECK(strstr(blk_last_error(bs), "unaligned") != NULL);
    CHECK(blk_pread(bs, 2 * CS, b, 512) == -EIO);
    CHECK(strstr(blk_last_error(bs), "decompress") != NULL);
    /* the first error marked the image corrupt: writes are refused */
    CHECK(blk_pwrite(bs, 3 * CS, b, 512) == -EIO);
    CHECK(strstr(blk_last_error(bs), "marked corrupt") != NULL);
    BlockInfo info;
    CHECK_EQ(blk_get_info(bs, &info), 0);
    CHECK(info.corrupt);
    blk_info_free(&info);
    free(b);
    blk_close(bs);
    bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
    CHECK(bs == NULL);
    CHECK(strstr(err, "marked corrupt") != NULL);
    int64_t c, l;
    CHECK_EQ(check_counts(p, &c, &l), 0);
    CHECK(c > 0);
    free(p);
}

TEST(refcount_table_garbage)
{
    char *p = good_image("rtg.qcow2");
    poke64(p, 1 * CS, 1ULL << 45);         /* refcount block past EOF */
    char err[BLK_ERR_LEN];
    BlockDev *bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
    REQUIRE(bs);
    uint8_t b[512] = { 0 };
    /* allocating needs refcounts: clean error */
    CHECK(blk_pwrite(bs, 10 * MiB, b, 512) == -EIO);
    CHECK(strstr(blk_last_error(bs), "refcount block") != NULL);
    blk_close(bs);
    int64_t c, l;
    CHECK_EQ(check_counts(p, &c, &l), 0);
    CHECK(c > 0);
    free(p);
}

TEST(snapshot_table_garbage)
{
    char *p = good_image("sng.qcow2");
    char err[BLK_ERR_LEN];
    BlockDev *bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
    REQUIRE(bs);
    CHECK_EQ(blk_snapshot_create(bs, "s", 0), 0);
    blk_close(bs);
    /* garbage in the table: header field 64 gives its offset */
    int fd = open(p, O_RDONLY);
    uint8_t h[72];
    CHECK_EQ(pread(fd, h, 72, 0), 72);
    close(fd);
    uint64_t st = ldbe64(h + 64);
    uint8_t junk[64];
    memset(junk, 0xff, sizeof(junk));
    poke(p, st, junk, sizeof(junk));
    CHECK(open_fails(p, "snapshot"));
    poke32(p, 60, 100000);
    CHECK(open_fails(p, "too many snapshots"));
    poke32(p, 60, 60000);   /* more entries than the file holds */
    CHECK(open_fails(p, "snapshot"));
    poke64(p, 64, st + 8);
    CHECK(open_fails(p, "snapshot table offset"));
    free(p);
}

TEST(backing_loop_and_depth)
{
    char err[BLK_ERR_LEN];
    char *a = path("loopa.qcow2"), *b = path("loopb.qcow2");
    BlockCreateOpts o = { .format = "qcow2", .size = 1 * MiB };
    CHECK_EQ(blk_create(a, &o, err, sizeof(err)), 0);
    o.backing_file = "loopa.qcow2";
    o.backing_fmt = "qcow2";
    CHECK_EQ(blk_create(b, &o, err, sizeof(err)), 0);
    /* make loopa's backing file loopb: rewrite via a fresh create of a
     * with backing b */
    o.backing_file = "loopb.qcow2";
    CHECK_EQ(blk_create(a, &o, err, sizeof(err)), 0);
    BlockDev *bs = blk_open(a, NULL, BLK_O_RDONLY, err, sizeof(err));
    CHECK(bs == NULL);
    CHECK(strstr(err, "loop") != NULL);
    /* self loop */
    char *self = path("self.qcow2");
    o.backing_file = NULL;
    o.backing_fmt = NULL;
    CHECK_EQ(blk_create(self, &o, err, sizeof(err)), 0);
    /* patch in a backing name pointing to itself */
    int fd = open(self, O_RDWR);
    const char *nm = "self.qcow2";
    CHECK_EQ(pwrite(fd, nm, strlen(nm), 1024), (ssize_t)strlen(nm));
    uint8_t v[12];
    stbe64(v, 1024);
    stbe32(v + 8, (uint32_t)strlen(nm));
    CHECK_EQ(pwrite(fd, v, 12, 8), 12);
    close(fd);
    bs = blk_open(self, NULL, BLK_O_RDONLY, err, sizeof(err));
    CHECK(bs == NULL);
    CHECK(strstr(err, "loop") != NULL);
    /* a chain deeper than the limit */
    char prev[64] = "";
    o.size = 1 * MiB;
    for (int i = 0; i <= BLK_MAX_BACKING_DEPTH + 2; i++) {
        char name[64];
        snprintf(name, sizeof(name), "deep%d.qcow2", i);
        char *p = path(name);
        o.backing_file = i ? prev : NULL;
        o.backing_fmt = i ? "qcow2" : NULL;
        /* creating probes the backing file; past the limit that fails, so
         * write the deep ones without opening the chain */
        if (blk_create(p, &o, err, sizeof(err)) < 0) {
            o.backing_file = NULL;
            CHECK_EQ(blk_create(p, &o, err, sizeof(err)), 0);
            fd = open(p, O_RDWR);
            CHECK_EQ(pwrite(fd, prev, strlen(prev), 1024), (ssize_t)strlen(prev));
            stbe64(v, 1024);
            stbe32(v + 8, (uint32_t)strlen(prev));
            CHECK_EQ(pwrite(fd, v, 12, 8), 12);
            close(fd);
        }
        snprintf(prev, sizeof(prev), "%s", name);
        free(p);
    }
    char *top = path(prev);
    bs = blk_open(top, NULL, BLK_O_RDONLY, err, sizeof(err));
    CHECK(bs == NULL);
    CHECK(strstr(err, "too deep") != NULL);
    if (!strstr(err, "too deep"))
        printf("# %s\n", err);
    free(top);
    free(a);
    free(b);
    free(self);
}

TEST(dirty_bit_repaired_on_write_open)
{
    char *p = good_image("dirty.qcow2");
    poke64(p, 72, 1);                       /* dirty */
    poke16(p, 2 * CS + 5 * 2, 0);           /* a stale (too low) refcount */
    char err[BLK_ERR_LEN];
    BlockDev *bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
    REQUIRE(bs);
    BlockInfo i;
    CHECK_EQ(blk_get_info(bs, &i), 0);
    CHECK(!i.dirty);
    blk_info_free(&i);
    blk_close(bs);
    int64_t c, l;
    CHECK_EQ(check_counts(p, &c, &l), 0);
    CHECK_EQ(c, 0);
    CHECK_EQ(l, 0);
    free(p);
}

TEST(random_header_fuzz)
{
    /* flip random bytes of the first two clusters: never crash */
    char *p = path("fuzz.qcow2");
    uint64_t seed = 12345;
    for (int round = 0; round < 200; round++) {
        free(good_image("fuzz.qcow2"));
        for (int k = 0; k < 4; k++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            uint64_t off = (seed >> 33) % (k < 2 ? 112 : 5 * CS);
            uint8_t v = (uint8_t)(seed >> 20);
            poke(p, off, &v, 1);
        }
        char err[BLK_ERR_LEN];
        BlockDev *bs = blk_open(p, "qcow2", BLK_O_RDWR | BLK_O_NO_BACKING, err, sizeof(err));
        if (!bs) {
            CHECK(err[0] != 0);
            continue;
        }
        uint8_t b[4096];
        memset(b, 1, sizeof(b));
        blk_pread(bs, 0, b, sizeof(b));
        blk_pwrite(bs, 70000, b, sizeof(b));
        BlockCheckResult r;
        if (blk_check(bs, &r, 0) == 0)
            blk_check_result_free(&r);
        blk_close(bs);
    }
    free(p);
}

TEST(autoclear_cleared_on_write_open)
{
    char *p = good_image("autoclear.qcow2");
    poke64(p, 88, 3);
    char err[BLK_ERR_LEN];
    BlockDev *bs = blk_open(p, NULL, BLK_O_RDONLY, err, sizeof(err));
    REQUIRE(bs);
    blk_close(bs);
    int fd = open(p, O_RDONLY);
    uint8_t h[8];
    CHECK_EQ(pread(fd, h, 8, 88), 8);
    CHECK_EQ(ldbe64(h), 3);             /* read-only open leaves it */
    close(fd);
    bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
    REQUIRE(bs);
    blk_close(bs);
    fd = open(p, O_RDONLY);
    CHECK_EQ(pread(fd, h, 8, 88), 8);
    CHECK_EQ(ldbe64(h), 0);
    close(fd);
    free(p);
}
