/* Model-based qcow2 test: random writes, write-zeroes, discards, flushes,
 * snapshot create/apply/delete and reopen, compared against an in-memory
 * model of the disk and of every snapshot; the image must check clean
 * after every step. Run for several cluster sizes, refcount widths and
 * both qcow2 versions, with and without a backing file. */
#include "tests/unit/harness.h"
#include "block/block.h"
#include "system/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIZE (4 * MiB)
#define MAXSNAP 6

static uint64_t rs;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static bool clean(BlockDev *bs)
{
    BlockCheckResult r;
    if (blk_check(bs, &r, 0) < 0)
        return false;
    bool ok = !r.corruptions && !r.leaks && !r.check_errors;
    if (!ok && r.messages)
        printf("# check: %.300s\n", r.messages);
    blk_check_result_free(&r);
    return ok;
}

static void run(uint32_t cs, int rbits, int version, bool backing, uint64_t seed)
{
    char err[BLK_ERR_LEN];
    char *p = xasprintf("%s/model-%u-%d-%d-%d.qcow2", test_tmpdir(), cs, rbits, version, backing);
    char *bp = xasprintf("%s/model-base.raw", test_tmpdir());
    uint8_t *model = xmalloc(SIZE);
    memset(model, 0, SIZE);
    if (backing) {
        for (uint64_t i = 0; i < SIZE; i++)
            model[i] = (uint8_t)(i * 7 / 4096 + 1);
        FILE *f = fopen(bp, "wb");
        REQUIRE(f);
        fwrite(model, 1, SIZE, f);
        fclose(f);
    }
    BlockCreateOpts o = { .format = "qcow2", .size = SIZE, .cluster_size = cs, .refcount_bits = rbits,
                          .qcow2_version = version, .backing_file = backing ? bp : NULL,
                          .backing_fmt = backing ? "raw" : NULL };
    REQUIRE(blk_create(p, &o, err, sizeof(err)) == 0);
    BlockDev *bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
    REQUIRE(bs);
    uint8_t *snaps[MAXSNAP] = { 0 };
    char names[MAXSNAP][16];
    int nsnap = 0, serial = 0;
    uint8_t *buf = xmalloc(SIZE);
    /* QCOW2_MODEL_SEED=N explores other random sequences */
    const char *env = getenv("QCOW2_MODEL_SEED");
    rs = seed * 0x9e3779b97f4a7c15ULL + (env ? strtoull(env, NULL, 0) : 0) + 1;
    bool ok = true;
    for (int step = 0; step < 300 && ok; step++) {
        uint64_t r = rnd() % 100;
        uint64_t len = 1 + rnd() % MIN(3 * (uint64_t)cs + 1000, SIZE / 2);
        uint64_t off = rnd() % (SIZE - len);
        int ret = 0;
        if (r < 55) {
            uint8_t v = (uint8_t)rnd();
            memset(buf, v, len);
            ret = blk_pwrite(bs, off, buf, len);
            memset(model + off, v, len);
        } else if (r < 65) {
            ret = blk_write_zeroes(bs, off, len);
            memset(model + off, 0, len);
        } else if (r < 72) {
            /* whole-cluster discard; reads back zero or the backing data */
            off = ALIGN_DOWN(off, cs);
            len = ALIGN_UP(len, cs);
            if (off + len > SIZE)
                len = SIZE - off;
            ret = blk_discard(bs, off, len);
            if (version >= 3 || !backing)
                memset(model + off, 0, len);
            else
                ret = blk_pread(bs, off, model + off, len);
        } else if (r < 76) {
            ret = blk_flush(bs);
        } else if (r < 83 && nsnap < MAXSNAP) {
            snprintf(names[nsnap], sizeof(names[nsnap]), "s%d", serial++);
            ret = blk_snapshot_create(bs, names[nsnap], 0);
            if (ret == -ERANGE && rbits <= 2) {
                ret = 0;    /* narrow refcounts: too many sharers, refused cleanly */
            } else {
                snaps[nsnap] = xmalloc(SIZE);
                memcpy(snaps[nsnap], model, SIZE);
                nsnap++;
            }
        } else if (r < 90 && nsnap) {
            int i = (int)(rnd() % (uint64_t)nsnap);
            ret = blk_snapshot_apply(bs, names[i]);
            if (ret == -ERANGE && rbits <= 2)
                ret = 0;    /* too many sharers for narrow refcounts: refused cleanly */
            else
                memcpy(model, snaps[i], SIZE);
        } else if (r < 95 && nsnap) {
            int i = (int)(rnd() % (uint64_t)nsnap);
            ret = blk_snapshot_delete(bs, names[i]);
            free(snaps[i]);
            snaps[i] = snaps[nsnap - 1];
            memcpy(names[i], names[nsnap - 1], sizeof(names[i]));
            nsnap--;
        } else {
            ret = blk_close(bs);
            bs = blk_open(p, NULL, BLK_O_RDWR, err, sizeof(err));
            if (!bs) {
                printf("# reopen: %s\n", err);
                ok = false;
                break;
            }
        }
        if (ret < 0) {
            printf("# step %d op %" PRIu64 ": %s\n", step, r, blk_last_error(bs));
            ok = false;
            break;
        }
        if (step % 10 == 9 || r >= 76) {
            if (!clean(bs)) {
                printf("# not clean after step %d (op %" PRIu64 ")\n", step, r);
                ok = false;
                break;
            }
            if (blk_pread(bs, 0, buf, SIZE) < 0 || memcmp(buf, model, SIZE)) {
                printf("# content differs after step %d (op %" PRIu64 ")\n", step, r);
                ok = false;
                break;
            }
        }
    }
    CHECK(ok);
    if (bs) {
        CHECK(clean(bs));
        CHECK_EQ(blk_close(bs), 0);
    }
    for (int i = 0; i < nsnap; i++)
        free(snaps[i]);
    free(buf);
    free(model);
    free(p);
    free(bp);
}

TEST(model_64k_16bit_v3) { run(65536, 16, 3, false, 1); }
TEST(model_4k_16bit_v3_backing) { run(4096, 16, 3, true, 2); }
TEST(model_4k_v2_backing) { run(4096, 16, 2, true, 3); }
TEST(model_512_64bit_v3) { run(512, 64, 3, false, 4); }
TEST(model_4k_2bit_v3) { run(4096, 2, 3, false, 5); }
TEST(model_4k_1bit_v3) { run(4096, 1, 3, false, 6); }
TEST(model_2m_8bit_v3_backing) { run(2 * 1024 * 1024, 8, 3, true, 7); }
