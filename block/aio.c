/* Asynchronous block requests: a small worker thread pool.
 *
 * Device models call blk_aio_submit(); a worker runs the synchronous
 * request (under the device lock for drivers that need it), then queues the
 * completion and signals an eventfd.  The main loop polls blk_aio_eventfd()
 * and calls blk_aio_poll_completions() to run callbacks in its own thread.
 *
 * Thread pool rather than io_uring / linux-aio: portable, works on every
 * file system without O_DIRECT, no liburing dependency, and qcow2 needs to
 * run metadata code between host I/Os, which is easiest in a worker. */
#include "block/block-int.h"
#include "system/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct AioReq {
    BlockDev *bs;
    BlockAioOp op;
    uint64_t offset;
    uint64_t len;
    struct iovec *iov;
    int iovcnt;
    BlockCompletionFunc *cb;
    void *opaque;
    int ret;
    struct AioReq *next;
} AioReq;

static pthread_mutex_t aio_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t aio_work_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t aio_done_cond = PTHREAD_COND_INITIALIZER;
static AioReq *queue_head, *queue_tail;     /* pending work */
static AioReq *done_head, *done_tail;       /* finished, callbacks not run */
static int nthreads_wanted = 4;
static int nthreads;
static int efd = -1;
static int total_inflight;                   /* submitted, callback not yet run */

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&aio_lock);
    for (;;) {
        while (!queue_head)
            pthread_cond_wait(&aio_work_cond, &aio_lock);
        AioReq *r = queue_head;
        queue_head = r->next;
        if (!queue_head)
            queue_tail = NULL;
        pthread_mutex_unlock(&aio_lock);

        switch (r->op) {
        case BLK_AIO_READ:
            r->ret = blk_preadv(r->bs, r->offset, r->iov, r->iovcnt);
            break;
        case BLK_AIO_WRITE:
            r->ret = blk_pwritev(r->bs, r->offset, r->iov, r->iovcnt);
            break;
        case BLK_AIO_FLUSH:
            r->ret = blk_flush(r->bs);
            break;
        case BLK_AIO_DISCARD:
            r->ret = blk_discard(r->bs, r->offset, r->len);
            break;
        case BLK_AIO_WRITE_ZEROES:
            r->ret = blk_write_zeroes(r->bs, r->offset, r->len);
            break;
        default:
            r->ret = -EINVAL;
        }

        pthread_mutex_lock(&aio_lock);
        r->next = NULL;
        if (done_tail)
            done_tail->next = r;
        else
            done_head = r;
        done_tail = r;
        uint64_t one = 1;
        if (write(efd, &one, sizeof(one)) < 0) {
            /* counter overflow is impossible in practice; nothing to do */
        }
        pthread_cond_broadcast(&aio_done_cond);
    }
    return NULL;
}

static int aio_init_locked(void)
{
    if (efd < 0) {
        efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (efd < 0)
            return -errno;
    }
    while (nthreads < nthreads_wanted) {
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        int e = pthread_create(&t, &a, worker, NULL);
        pthread_attr_destroy(&a);
        if (e) {
            if (nthreads == 0)
                return -e;
            break;
        }
        nthreads++;
    }
    return 0;
}

void blk_aio_set_threads(int n)
{
    pthread_mutex_lock(&aio_lock);
    if (n > 0 && n <= 64)
        nthreads_wanted = n;
    pthread_mutex_unlock(&aio_lock);
}

int blk_aio_eventfd(void)
{
    pthread_mutex_lock(&aio_lock);
    aio_init_locked();
    int fd = efd;
    pthread_mutex_unlock(&aio_lock);
    return fd;
}

int blk_aio_submit(BlockDev *bs, BlockAioOp op, uint64_t offset,
                   const struct iovec *iov, int iovcnt, uint64_t len,
                   BlockCompletionFunc *cb, void *opaque)
{
    if (op > BLK_AIO_WRITE_ZEROES || iovcnt < 0 || (iovcnt && !iov))
        return -EINVAL;
    AioReq *r = xzalloc(sizeof(*r));
    r->bs = bs;
    r->op = op;
    r->offset = offset;
    r->len = len;
    if (iovcnt) {
        r->iov = xmalloc(sizeof(*iov) * (size_t)iovcnt);
        memcpy(r->iov, iov, sizeof(*iov) * (size_t)iovcnt);
        r->iovcnt = iovcnt;
    }
    r->cb = cb;
    r->opaque = opaque;
    pthread_mutex_lock(&aio_lock);
    int ret = aio_init_locked();
    if (ret < 0) {
        pthread_mutex_unlock(&aio_lock);
        free(r->iov);
        free(r);
        return ret;
    }
    bs->inflight++;
    total_inflight++;
    if (queue_tail)
        queue_tail->next = r;
    else
        queue_head = r;
    queue_tail = r;
    pthread_cond_signal(&aio_work_cond);
    pthread_mutex_unlock(&aio_lock);
    return 0;
}

int blk_aio_poll_completions(void)
{
    int n = 0;
    pthread_mutex_lock(&aio_lock);
    if (efd >= 0) {
        uint64_t v;
        if (read(efd, &v, sizeof(v)) < 0) {
            /* EAGAIN: nothing signalled; the list below is authoritative */
        }
    }
    AioReq *list = done_head;
    done_head = done_tail = NULL;
    pthread_mutex_unlock(&aio_lock);
    while (list) {
        AioReq *r = list;
        list = r->next;
        if (r->cb)
            r->cb(r->opaque, r->ret);
        pthread_mutex_lock(&aio_lock);
        r->bs->inflight--;
        total_inflight--;
        pthread_cond_broadcast(&aio_done_cond);
        pthread_mutex_unlock(&aio_lock);
        free(r->iov);
        free(r);
        n++;
    }
    return n;
}

void blk_aio_drain(BlockDev *bs)
{
    for (;;) {
        pthread_mutex_lock(&aio_lock);
        int pending = bs ? bs->inflight : total_inflight;
        if (pending && !done_head)
            pthread_cond_wait(&aio_done_cond, &aio_lock);
        pending = bs ? bs->inflight : total_inflight;
        pthread_mutex_unlock(&aio_lock);
        if (!pending)
            return;
        blk_aio_poll_completions();
    }
}
