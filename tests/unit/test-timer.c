/* Clocks and timers: ordering, re-arming from callbacks, the virtual clock
 * pausing, deadlines. Uses clock warps, never wall-clock waits. */
#include "system/timer.h"
#include "tests/unit/harness.h"

static int order[8], norder;
static void record(void *opaque) { order[norder++] = (int)(intptr_t)opaque; }

TEST(fire_in_order)
{
    norder = 0;
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    Timer *a = timer_new(CLOCK_VIRTUAL, record, (void *)1);
    Timer *b = timer_new(CLOCK_VIRTUAL, record, (void *)2);
    Timer *c = timer_new(CLOCK_VIRTUAL, record, (void *)3);
    timer_mod(b, now + 2 * NS_PER_SEC);
    timer_mod(a, now + 1 * NS_PER_SEC);
    timer_mod(c, now + 3 * NS_PER_SEC);
    CHECK_EQ(timers_run_expired(), 0);
    clock_virtual_warp(2 * NS_PER_SEC + 1);
    CHECK_EQ(timers_run_expired(), 2);
    CHECK_EQ(order[0], 1);
    CHECK_EQ(order[1], 2);
    CHECK(timer_pending(c));
    CHECK(!timer_pending(a));
    timer_del(c);
    clock_virtual_warp(5 * NS_PER_SEC);
    CHECK_EQ(timers_run_expired(), 0);
    timer_free(a);
    timer_free(b);
    timer_free(c);
}

static Timer *periodic;
static int ticks;
static void tick(void *opaque)
{
    ticks++;
    if (ticks < 5)
        timer_mod(periodic, periodic->expire < 0 ? 0 : clock_get_ns(CLOCK_VIRTUAL) + 1000);
}

TEST(rearm_from_callback)
{
    ticks = 0;
    periodic = timer_new(CLOCK_VIRTUAL, tick, NULL);
    timer_mod(periodic, clock_get_ns(CLOCK_VIRTUAL) + 1000);
    for (int i = 0; i < 10; i++) {
        clock_virtual_warp(1000);
        timers_run_expired();
    }
    CHECK_EQ(ticks, 5);
    timer_free(periodic);
}

TEST(virtual_clock_pauses)
{
    clock_virtual_pause();
    CHECK(!clock_virtual_running());
    int64_t t0 = clock_get_ns(CLOCK_VIRTUAL);
    int64_t r0 = clock_get_ns(CLOCK_HOST_MONOTONIC);
    while (clock_get_ns(CLOCK_HOST_MONOTONIC) - r0 < 2000000)
        ;
    CHECK_EQ(clock_get_ns(CLOCK_VIRTUAL), t0);
    clock_virtual_warp(500);
    CHECK_EQ(clock_get_ns(CLOCK_VIRTUAL), t0 + 500);
    clock_virtual_resume();
    CHECK(clock_get_ns(CLOCK_VIRTUAL) >= t0 + 500);
}

TEST(deadline)
{
    Timer *t = timer_new(CLOCK_VIRTUAL, record, NULL);
    CHECK_EQ(timers_next_deadline_ns(), -1);
    clock_virtual_pause();
    timer_mod(t, clock_get_ns(CLOCK_VIRTUAL) + 5 * NS_PER_SEC);
    CHECK_EQ(timers_next_deadline_ns(), -1);     /* paused: virtual timers wait */
    clock_virtual_resume();
    int64_t d = timers_next_deadline_ns();
    CHECK(d > 4 * NS_PER_SEC && d <= 5 * NS_PER_SEC);
    clock_virtual_warp(6 * NS_PER_SEC);
    CHECK_EQ(timers_next_deadline_ns(), 0);
    norder = 0;
    timers_run_expired();
    timer_free(t);
}

TEST(host_clock_is_wall_time)
{
    CHECK(clock_get_ns(CLOCK_HOST) > 1600000000LL * NS_PER_SEC);
}

#include "system/irq.h"

static int or_level = -1, or_changes;
static void or_out(void *o, int n, int level) { or_level = level; or_changes++; }

TEST(irq_or_shares_a_line)
{
    IrqLine out;
    IrqOr o;
    irq_init(&out, or_out, NULL, 4);
    irq_or_init(&o, &out);
    irq_raise(&o.in[0]);
    CHECK_EQ(or_level, 1);
    irq_raise(&o.in[1]);
    irq_lower(&o.in[0]);
    CHECK_EQ(or_level, 1);          /* COM3 still holds the line */
    irq_lower(&o.in[1]);
    CHECK_EQ(or_level, 0);
    CHECK_EQ(or_changes, 2);
}
