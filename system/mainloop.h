/* The main loop: polls file descriptors and fires timers on the I/O thread.
 *
 * Threading model (see also system/cpus.h): Kestrel runs one I/O thread (the
 * process's main thread, running main_loop_run) and one thread per vCPU.
 * Device state is protected by one machine lock ("big lock"): the I/O thread
 * holds it except while it sleeps in poll(); a vCPU thread runs guest code
 * without it and takes it around device accesses (port I/O, MMIO, interrupt
 * acknowledge). KVM vCPUs block in KVM_RUN without it; translator vCPUs check
 * for interrupts at block boundaries. Any thread may call main_loop_wakeup()
 * (e.g. after arming a timer) to make poll() return. */
#ifndef SYSTEM_MAINLOOP_H
#define SYSTEM_MAINLOOP_H

#include <poll.h>
#include <stdbool.h>

typedef void (*FdHandler)(void *opaque, int fd, short revents);

/* Watch fd for events (POLLIN/POLLOUT); one handler per fd, replaced if set again. */
void main_loop_set_fd(int fd, short events, FdHandler handler, void *opaque);
void main_loop_remove_fd(int fd);

/* Run once: wait at most timeout_ms (-1: until something happens, bounded by
 * the next timer), dispatch ready fds and expired timers. */
void main_loop_iterate(int timeout_ms);
/* Run until main_loop_quit() is called; returns the exit status given there. */
int main_loop_run(void);
void main_loop_quit(int status);
bool main_loop_should_quit(void);
int main_loop_exit_status(void);
void main_loop_wakeup(void);

/* Functions run from the main loop on the next iteration (from any thread). */
void main_loop_defer(void (*fn)(void *opaque), void *opaque);

/* The machine lock. */
void machine_lock(void);
void machine_unlock(void);
bool machine_lock_held(void);

#endif
