/* Clocks and timers.
 *
 * CLOCK_VIRTUAL is guest time in nanoseconds: it runs while the machine runs
 * and stops while it is paused; every guest-visible time source (TSC, PIT,
 * APIC timer, PM timer, RTC periodic interrupts) derives from it so they agree.
 * CLOCK_HOST is the host's wall-clock time (for the RTC's date).
 * CLOCK_HOST_MONOTONIC is host monotonic time, always running (UI, monitor).
 *
 * Timers fire from the main loop with the machine lock held. */
#ifndef SYSTEM_TIMER_H
#define SYSTEM_TIMER_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ClockType {
    CLOCK_VIRTUAL,
    CLOCK_HOST,
    CLOCK_HOST_MONOTONIC,
    CLOCK_MAX
} ClockType;

#define NS_PER_SEC 1000000000LL

int64_t clock_get_ns(ClockType type);
/* Pause/resume CLOCK_VIRTUAL (the machine stopped or runs). */
void clock_virtual_pause(void);
void clock_virtual_resume(void);
bool clock_virtual_running(void);
/* Move CLOCK_VIRTUAL forward by delta ns (loadvm, tests). */
void clock_virtual_warp(int64_t delta);

typedef void (*TimerCallback)(void *opaque);

typedef struct Timer {
    ClockType clock;
    int64_t expire;                /* ns on its clock; -1 when not armed */
    TimerCallback cb;
    void *opaque;
    struct Timer *next;
} Timer;

Timer *timer_new(ClockType clock, TimerCallback cb, void *opaque);
void timer_init(Timer *t, ClockType clock, TimerCallback cb, void *opaque);
void timer_free(Timer *t);
/* Arm (or re-arm) for an absolute expiry time on the timer's clock. */
void timer_mod(Timer *t, int64_t expire_ns);
void timer_del(Timer *t);
bool timer_pending(const Timer *t);

/* Run every expired timer; returns how many ran. */
int timers_run_expired(void);
/* Nanoseconds (host time) until the next timer expires, or -1 if none. */
int64_t timers_next_deadline_ns(void);

#endif
