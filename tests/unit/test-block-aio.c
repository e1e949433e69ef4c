/* Asynchronous block requests: thread pool, eventfd, completion callbacks,
 * raw and qcow2 (whose data I/O runs outside the device lock). */
#include "tests/unit/harness.h"
#include "block/block.h"
#include "system/util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NREQ 64
#define LEN (16 * 1024)

typedef struct Req {
    int done;
    int ret;
} Req;

static void cb(void *opaque, int ret)
{
    Req *r = opaque;
    r->done++;
    r->ret = ret;
}

static void wait_all(Req *reqs, int n)
{
    int efd = blk_aio_eventfd();
    for (int spins = 0; spins < 10000; spins++) {
        int done = 0;
        for (int i = 0; i < n; i++)
            done += reqs[i].done;
        if (done == n)
            return;
        struct pollfd p = { .fd = efd, .events = POLLIN };
        poll(&p, 1, 100);
        blk_aio_poll_completions();
    }
}

static void run(const char *fmt)
{
    char err[BLK_ERR_LEN];
    char *p = xasprintf("%s/aio.%s", test_tmpdir(), fmt);
    BlockCreateOpts o = { .format = fmt, .size = 8 * MiB };
    REQUIRE(blk_create(p, &o, err, sizeof(err)) == 0);
    BlockDev *bs = blk_open(p, fmt, BLK_O_RDWR, err, sizeof(err));
    REQUIRE(bs);
    uint8_t *bufs = xmalloc((size_t)NREQ * LEN);
    Req reqs[NREQ];
    memset(reqs, 0, sizeof(reqs));
    for (int i = 0; i < NREQ; i++) {
        memset(bufs + (size_t)i * LEN, i + 1, LEN);
        /* two iovecs per request */
        struct iovec iov[2] = {
            { bufs + (size_t)i * LEN, 1000 },
            { bufs + (size_t)i * LEN + 1000, LEN - 1000 },
        };
        CHECK_EQ(blk_aio_submit(bs, BLK_AIO_WRITE, (uint64_t)i * 100000, iov, 2, 0, cb, &reqs[i]), 0);
    }
    wait_all(reqs, NREQ);
    for (int i = 0; i < NREQ; i++) {
        CHECK_EQ(reqs[i].done, 1);
        CHECK_EQ(reqs[i].ret, 0);
    }
    Req fl = { 0 };
    CHECK_EQ(blk_aio_submit(bs, BLK_AIO_FLUSH, 0, NULL, 0, 0, cb, &fl), 0);
    wait_all(&fl, 1);
    CHECK_EQ(fl.ret, 0);
    memset(bufs, 0, (size_t)NREQ * LEN);
    memset(reqs, 0, sizeof(reqs));
    for (int i = 0; i < NREQ; i++) {
        struct iovec iov = { bufs + (size_t)i * LEN, LEN };
        CHECK_EQ(blk_aio_submit(bs, BLK_AIO_READ, (uint64_t)i * 100000, &iov, 1, 0, cb, &reqs[i]), 0);
    }
    blk_aio_drain(bs);
    for (int i = 0; i < NREQ; i++) {
        CHECK_EQ(reqs[i].done, 1);
        CHECK_EQ(reqs[i].ret, 0);
        bool ok = true;
        for (int k = 0; k < LEN; k++)
            if (bufs[(size_t)i * LEN + k] != (uint8_t)(i + 1))
                ok = false;
        CHECK(ok);
    }
    /* errors come back through the callback */
    Req bad = { 0 };
    struct iovec iov = { bufs, LEN };
    CHECK_EQ(blk_aio_submit(bs, BLK_AIO_READ, 8 * MiB - 10, &iov, 1, 0, cb, &bad), 0);
    Req z = { 0 };
    CHECK_EQ(blk_aio_submit(bs, BLK_AIO_WRITE_ZEROES, 0, NULL, 0, LEN, cb, &z), 0);
    Req d = { 0 };
    CHECK_EQ(blk_aio_submit(bs, BLK_AIO_DISCARD, 1 * MiB, NULL, 0, 1 * MiB, cb, &d), 0);
    blk_aio_drain(NULL);
    CHECK_EQ(bad.done, 1);
    CHECK(bad.ret == -EINVAL);
    CHECK_EQ(z.ret, 0);
    CHECK_EQ(d.ret, 0);
    CHECK_EQ(blk_pread(bs, 0, bufs, LEN), 0);
    bool zero = true;
    for (int k = 0; k < LEN; k++)
        if (bufs[k])
            zero = false;
    CHECK(zero);
    if (!strcmp(fmt, "qcow2")) {
        BlockCheckResult r;
        CHECK_EQ(blk_check(bs, &r, 0), 0);
        CHECK_EQ(r.corruptions + r.leaks, 0);
        blk_check_result_free(&r);
    }
    CHECK_EQ(blk_close(bs), 0);
    free(bufs);
    free(p);
}

TEST(aio_raw) { run("raw"); }
TEST(aio_qcow2) { run("qcow2"); }

/* Many small writes to the sectors of a few clusters that are not yet
 * allocated (copy-on-write from a backing file), all in flight at once:
 * the allocating writes must not lose each other's sectors, and the
 * in-place writes that follow (run without the device lock) must land. */
TEST(aio_qcow2_concurrent_cow)
{
    enum { SECT = 512, CLUSTERS = 4, PER = 65536 / SECT, N = CLUSTERS * PER };
    char err[BLK_ERR_LEN];
    char *base = xasprintf("%s/cow-base.raw", test_tmpdir());
    char *top = xasprintf("%s/cow-top.qcow2", test_tmpdir());
    BlockCreateOpts ob = { .format = "raw", .size = 4 * MiB };
    REQUIRE(blk_create(base, &ob, err, sizeof(err)) == 0);
    BlockDev *b = blk_open(base, "raw", BLK_O_RDWR, err, sizeof(err));
    REQUIRE(b);
    uint8_t *fill = xmalloc(4 * MiB);
    memset(fill, 0xaa, 4 * MiB);
    CHECK_EQ(blk_pwrite(b, 0, fill, 4 * MiB), 0);
    CHECK_EQ(blk_close(b), 0);
    BlockCreateOpts ot = { .format = "qcow2", .backing_file = base, .backing_fmt = "raw" };
    REQUIRE(blk_create(top, &ot, err, sizeof(err)) == 0);
    BlockDev *bs = blk_open(top, "qcow2", BLK_O_RDWR, err, sizeof(err));
    REQUIRE(bs);
    uint8_t *bufs = xmalloc((size_t)N * SECT);
    uint8_t *rd = xmalloc(1 * MiB);
    static Req reqs[N], reads[N];
    /* 8 fresh regions (the race is on allocation), then one rewrite in place */
    for (int round = 0; round < 9; round++) {
        uint64_t region = 1 * MiB + (uint64_t)(round % 8) * N * SECT;
        memset(reqs, 0, sizeof(reqs));
        memset(reads, 0, sizeof(reads));
        /* odd sectors first, in reverse, so neighbours race */
        for (int j = 0; j < N; j++) {
            int i = j < N / 2 ? N - 1 - 2 * j : 2 * (j - N / 2);
            memset(bufs + (size_t)i * SECT, (uint8_t)(i * 7 + round + 1), SECT);
            struct iovec iov[2] = {
                { bufs + (size_t)i * SECT, 100 },
                { bufs + (size_t)i * SECT + 100, SECT - 100 },
            };
            uint64_t off = region + (uint64_t)i * SECT;
            CHECK_EQ(blk_aio_submit(bs, BLK_AIO_WRITE, off, iov, 2, 0, cb, &reqs[i]), 0);
            struct iovec r = { rd + (size_t)i * SECT, SECT };
            CHECK_EQ(blk_aio_submit(bs, BLK_AIO_READ, off, &r, 1, 0, cb, &reads[i]), 0);
        }
        blk_aio_drain(bs);
        bool ok = true;
        for (int i = 0; i < N; i++)
            ok &= reqs[i].done == 1 && reqs[i].ret == 0 && reads[i].ret == 0;
        CHECK(ok);
        CHECK_EQ(blk_pread(bs, region, rd, (size_t)N * SECT), 0);
        CHECK(memcmp(rd, bufs, (size_t)N * SECT) == 0);
        /* the rest of the image still reads from the backing file */
        CHECK_EQ(blk_pread(bs, 0, rd, 1 * MiB), 0);
        CHECK(memcmp(rd, fill, 1 * MiB) == 0);
    }
    BlockCheckResult r;
    CHECK_EQ(blk_flush(bs), 0);
    CHECK_EQ(blk_check(bs, &r, 0), 0);
    CHECK_EQ(r.corruptions + r.leaks, 0);
    blk_check_result_free(&r);
    CHECK_EQ(blk_close(bs), 0);
    free(bufs);
    free(rd);
    free(fill);
    free(base);
    free(top);
}
