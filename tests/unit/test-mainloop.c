/* The main loop: fd handlers, wake-ups from other threads, deferred calls,
 * timers fired from the loop, quit status, and the machine lock. */
#include "system/mainloop.h"
#include "system/timer.h"
#include "system/util.h"
#include "tests/unit/harness.h"

#include <pthread.h>
#include <unistd.h>

static int got_bytes;
static void on_readable(void *opaque, int fd, short revents)
{
    char buf[16];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0)
        got_bytes += (int)n;
}

TEST(fd_handler_runs)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    got_bytes = 0;
    main_loop_set_fd(p[0], POLLIN, on_readable, NULL);
    REQUIRE(write(p[1], "abc", 3) == 3);
    for (int i = 0; i < 10 && got_bytes < 3; i++)
        main_loop_iterate(1000);
    CHECK_EQ(got_bytes, 3);
    main_loop_remove_fd(p[0]);
    REQUIRE(write(p[1], "d", 1) == 1);
    main_loop_iterate(0);
    CHECK_EQ(got_bytes, 3);          /* removed: not called again */
    close(p[0]);
    close(p[1]);
}

static int deferred_runs;
static void deferred(void *opaque) { deferred_runs += (int)(intptr_t)opaque; }

static void *other_thread(void *arg)
{
    main_loop_defer(deferred, (void *)5);
    return NULL;
}

TEST(defer_from_another_thread_wakes_the_loop)
{
    pthread_t t;
    deferred_runs = 0;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, NULL);
    /* An infinite timeout would hang if the wake-up were lost. */
    main_loop_iterate(10000);
    CHECK_EQ(deferred_runs, 5);
}

static int fired;
static void timer_cb(void *opaque) { fired++; }

TEST(timers_fire_from_the_loop)
{
    Timer *t = timer_new(CLOCK_HOST_MONOTONIC, timer_cb, NULL);
    fired = 0;
    timer_mod(t, clock_get_ns(CLOCK_HOST_MONOTONIC) + 1000000);
    for (int i = 0; i < 100 && !fired; i++)
        main_loop_iterate(-1);       /* bounded by the timer's deadline */
    CHECK_EQ(fired, 1);
    timer_free(t);
}

TEST(machine_lock_is_dropped_while_polling)
{
    machine_lock();
    CHECK(machine_lock_held());
    main_loop_iterate(0);
    CHECK(machine_lock_held());
    machine_unlock();
    CHECK(!machine_lock_held());
}

TEST(quit_keeps_the_first_status)
{
    main_loop_quit(3);
    main_loop_quit(7);
    CHECK(main_loop_should_quit());
    CHECK_EQ(main_loop_exit_status(), 3);
    CHECK_EQ(main_loop_run(), 3);    /* returns at once */
}
