/* Clocks and timer lists. Timer lists are protected by the machine lock. */
#include "system/timer.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "system/mainloop.h"
#include "system/util.h"

static Timer *timer_lists[CLOCK_MAX];

/* CLOCK_VIRTUAL = host monotonic - offset while running; frozen while paused. */
static pthread_mutex_t vclock_lock = PTHREAD_MUTEX_INITIALIZER;
static bool vclock_init_done, vclock_paused;
static int64_t vclock_offset, vclock_frozen;

static int64_t host_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int64_t vclock_get_locked(void)
{
    if (!vclock_init_done) {
        vclock_offset = host_ns(CLOCK_MONOTONIC);
        vclock_init_done = true;
    }
    return vclock_paused ? vclock_frozen : host_ns(CLOCK_MONOTONIC) - vclock_offset;
}

int64_t clock_get_ns(ClockType type)
{
    switch (type) {
    case CLOCK_VIRTUAL: {
        pthread_mutex_lock(&vclock_lock);
        int64_t v = vclock_get_locked();
        pthread_mutex_unlock(&vclock_lock);
        return v;
    }
    case CLOCK_HOST:
        return host_ns(CLOCK_REALTIME);
    default:
        return host_ns(CLOCK_MONOTONIC);
    }
}

void clock_virtual_pause(void)
{
    pthread_mutex_lock(&vclock_lock);
    if (!vclock_paused) {
        vclock_frozen = vclock_get_locked();
        vclock_paused = true;
    }
    pthread_mutex_unlock(&vclock_lock);
}

void clock_virtual_resume(void)
{
    pthread_mutex_lock(&vclock_lock);
    if (vclock_paused) {
        vclock_offset = host_ns(CLOCK_MONOTONIC) - vclock_frozen;
        vclock_paused = false;
    }
    pthread_mutex_unlock(&vclock_lock);
}

bool clock_virtual_running(void)
{
    return !vclock_paused;
}

void clock_virtual_warp(int64_t delta)
{
    pthread_mutex_lock(&vclock_lock);
    vclock_get_locked();
    if (vclock_paused)
        vclock_frozen += delta;
    else
        vclock_offset -= delta;
    pthread_mutex_unlock(&vclock_lock);
}

void timer_init(Timer *t, ClockType clock, TimerCallback cb, void *opaque)
{
    memset(t, 0, sizeof(*t));
    t->clock = clock;
    t->cb = cb;
    t->opaque = opaque;
    t->expire = -1;
}

Timer *timer_new(ClockType clock, TimerCallback cb, void *opaque)
{
    Timer *t = xmalloc(sizeof(*t));
    timer_init(t, clock, cb, opaque);
    return t;
}

void timer_free(Timer *t)
{
    if (t) {
        timer_del(t);
        free(t);
    }
}

void timer_del(Timer *t)
{
    if (t->expire < 0)
        return;
    for (Timer **pp = &timer_lists[t->clock]; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->next = NULL;
    t->expire = -1;
}

void timer_mod(Timer *t, int64_t expire_ns)
{
    timer_del(t);
    if (expire_ns < 0)
        expire_ns = 0;
    t->expire = expire_ns;
    Timer **pp = &timer_lists[t->clock];
    while (*pp && (*pp)->expire <= expire_ns)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    if (pp == &timer_lists[t->clock])
        main_loop_wakeup();      /* the earliest deadline moved */
}

bool timer_pending(const Timer *t)
{
    return t->expire >= 0;
}

int timers_run_expired(void)
{
    int ran = 0;
    for (int c = 0; c < CLOCK_MAX; c++) {
        if (c == CLOCK_VIRTUAL && !clock_virtual_running() && !timer_lists[c])
            continue;
        int64_t now = clock_get_ns((ClockType)c);
        /* Callbacks may re-arm timers: take the head each time. */
        while (timer_lists[c] && timer_lists[c]->expire <= now) {
            Timer *t = timer_lists[c];
            timer_lists[c] = t->next;
            t->next = NULL;
            t->expire = -1;
            t->cb(t->opaque);
            ran++;
        }
    }
    return ran;
}

int64_t timers_next_deadline_ns(void)
{
    int64_t best = -1;
    for (int c = 0; c < CLOCK_MAX; c++) {
        if (!timer_lists[c])
            continue;
        if (c == CLOCK_VIRTUAL && !clock_virtual_running())
            continue;
        int64_t d = timer_lists[c]->expire - clock_get_ns((ClockType)c);
        if (d < 0)
            d = 0;
        if (best < 0 || d < best)
            best = d;
    }
    return best;
}
