/* The I/O thread's loop: poll() over registered fds plus a wake-up eventfd,
 * then expired timers and deferred calls, with the machine lock held except
 * while sleeping. */
#include "system/mainloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "system/timer.h"
#include "system/util.h"

typedef struct FdWatch {
    int fd;
    short events;
    FdHandler handler;
    void *opaque;
} FdWatch;

typedef struct Deferred {
    void (*fn)(void *opaque);
    void *opaque;
    struct Deferred *next;
} Deferred;

static FdWatch *watches;
static int nr_watches, cap_watches;
static int wake_fd = -1;
static volatile int quit_requested;
static int exit_status;

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t big_lock_owner;
static volatile bool big_lock_taken;

static pthread_mutex_t defer_lock = PTHREAD_MUTEX_INITIALIZER;
static Deferred *deferred_head, **deferred_tail = &deferred_head;

void machine_lock(void)
{
    pthread_mutex_lock(&big_lock);
    big_lock_owner = pthread_self();
    big_lock_taken = true;
}

void machine_unlock(void)
{
    big_lock_taken = false;
    pthread_mutex_unlock(&big_lock);
}

bool machine_lock_held(void)
{
    return big_lock_taken && pthread_equal(big_lock_owner, pthread_self());
}

static void wake_fd_init(void)
{
    if (wake_fd < 0) {
        wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wake_fd < 0)
            fatal("cannot create eventfd: %s", strerror(errno));
    }
}

void main_loop_wakeup(void)
{
    uint64_t one = 1;
    wake_fd_init();
    if (write(wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        error_report("main loop wake-up failed: %s", strerror(errno));
}

void main_loop_set_fd(int fd, short events, FdHandler handler, void *opaque)
{
    for (int i = 0; i < nr_watches; i++) {
        if (watches[i].fd == fd) {
            watches[i] = (FdWatch){ fd, events, handler, opaque };
            main_loop_wakeup();
            return;
        }
    }
    if (nr_watches == cap_watches) {
        cap_watches = cap_watches ? cap_watches * 2 : 16;
        watches = xrealloc(watches, sizeof(*watches) * (size_t)cap_watches);
    }
    watches[nr_watches++] = (FdWatch){ fd, events, handler, opaque };
    main_loop_wakeup();
}

void main_loop_remove_fd(int fd)
{
    for (int i = 0; i < nr_watches; i++) {
        if (watches[i].fd == fd) {
            watches[i] = watches[--nr_watches];
            return;
        }
    }
}

void main_loop_defer(void (*fn)(void *opaque), void *opaque)
{
    Deferred *d = xmalloc(sizeof(*d));
    d->fn = fn;
    d->opaque = opaque;
    d->next = NULL;
    pthread_mutex_lock(&defer_lock);
    *deferred_tail = d;
    deferred_tail = &d->next;
    pthread_mutex_unlock(&defer_lock);
    main_loop_wakeup();
}

static void run_deferred(void)
{
    pthread_mutex_lock(&defer_lock);
    Deferred *d = deferred_head;
    deferred_head = NULL;
    deferred_tail = &deferred_head;
    pthread_mutex_unlock(&defer_lock);
    while (d) {
        Deferred *next = d->next;
        d->fn(d->opaque);
        free(d);
        d = next;
    }
}

/* Called with the machine lock held; drops it while sleeping in poll(). */
void main_loop_iterate(int timeout_ms)
{
    wake_fd_init();
    int64_t deadline = timers_next_deadline_ns();
    if (deadline >= 0) {
        int64_t ms = (deadline + 999999) / 1000000;
        if (timeout_ms < 0 || ms < timeout_ms)
            timeout_ms = (int)MIN(ms, 1000000);
    }

    int n = nr_watches;
    struct pollfd *pfds = xmalloc(sizeof(*pfds) * ((size_t)n + 1));
    FdWatch *snap = xmalloc(sizeof(*snap) * ((size_t)n + 1));
    if (n)
        memcpy(snap, watches, sizeof(*snap) * (size_t)n);
    pfds[0] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
    for (int i = 0; i < n; i++)
        pfds[i + 1] = (struct pollfd){ .fd = snap[i].fd, .events = snap[i].events };

    bool locked = machine_lock_held();
    if (locked)
        machine_unlock();
    int r = poll(pfds, (nfds_t)n + 1, timeout_ms);
    if (locked)
        machine_lock();

    if (r > 0) {
        if (pfds[0].revents) {
            uint64_t v;
            while (read(wake_fd, &v, sizeof(v)) > 0)
                ;
        }
        for (int i = 0; i < n; i++) {
            if (!pfds[i + 1].revents)
                continue;
            /* The handler may have been removed or replaced by an earlier one. */
            for (int j = 0; j < nr_watches; j++) {
                if (watches[j].fd == snap[i].fd && watches[j].handler == snap[i].handler) {
                    snap[i].handler(snap[i].opaque, snap[i].fd, pfds[i + 1].revents);
                    break;
                }
            }
        }
    }
    free(pfds);
    free(snap);
    timers_run_expired();
    run_deferred();
}

int main_loop_run(void)
{
    while (!quit_requested)
        main_loop_iterate(-1);
    return exit_status;
}

void main_loop_quit(int status)
{
    if (!quit_requested)
        exit_status = status;
    quit_requested = 1;
    main_loop_wakeup();
}

bool main_loop_should_quit(void)
{
    return quit_requested;
}

int main_loop_exit_status(void)
{
    return exit_status;
}
