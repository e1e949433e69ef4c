/* vCPUs and accelerators.
 *
 * Every vCPU runs in a thread of its own (vcpu_thread_fn), inside its
 * accelerator's run function; the I/O thread runs the main loop. The guest
 * CPU state (cpu/x86/cpu.h) lives in VCPU.env. An accelerator provides the
 * AccelOps below. A vCPU thread:
 *   - runs guest code without the machine lock;
 *   - takes the machine lock (machine_lock) around device accesses;
 *   - leaves its run loop soon after vcpu_kick() (exit_request set), e.g. to
 *     take an interrupt, stop for a pause/reset, or exit.
 * HLT: the run function calls vcpu_wait_for_event(), which sleeps until
 * vcpu_kick(). */
#ifndef SYSTEM_CPUS_H
#define SYSTEM_CPUS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include "system/machine.h"

struct CPUX86State;

struct VCPU {
    int index;
    pthread_t thread;
    struct CPUX86State *env;
    Machine *machine;
    atomic_int exit_request;    /* leave the execution loop soon */
    atomic_int stop;            /* park (pause/reset) */
    atomic_int stopped;         /* acknowledged: parked */
    atomic_bool thread_quit;
    void *accel_state;          /* the accelerator's per-vCPU data */
    pthread_mutex_t wait_lock;
    pthread_cond_t wait_cond;
};

typedef struct AccelOps {
    const char *name;
    /* Probe/open; return 0 or -1 with a message in err. */
    int (*init)(Machine *m, char *err, size_t errlen);
    int (*vcpu_init)(VCPU *cpu, char *err, size_t errlen);
    /* Run guest code until the vCPU is asked to stop (cpu->stop) or quit. */
    void (*vcpu_run)(VCPU *cpu);
    /* Make vcpu_run notice exit_request quickly (e.g. signal a KVM thread). */
    void (*vcpu_kick)(VCPU *cpu);
    /* CPU state changed outside the accelerator (reset, loadvm, debugger). */
    void (*vcpu_state_changed)(VCPU *cpu);
    /* Memory layout changed (RAM regions added/moved). */
    void (*memory_changed)(Machine *m);
    /* Statistics for -d jit at exit (optional). */
    void (*dump_stats)(FILE *f);
} AccelOps;

extern AccelOps accel_tcg_ops;
extern AccelOps accel_kvm_ops;

/* Pick and initialise the accelerator named in the config (or auto-select),
 * create the vCPUs and their threads (started paused). */
int cpus_init(Machine *m, char *err, size_t errlen);
void cpus_start(Machine *m);                 /* let them run */
void cpus_pause(Machine *m);                 /* park all and wait */
void cpus_resume(Machine *m);
void cpus_quit(Machine *m);                  /* stop threads and join */

void vcpu_kick(VCPU *cpu);
/* Sleep (HLT) until kicked or the timeout elapses (ns, <0 forever). */
void vcpu_wait_for_event(VCPU *cpu, int64_t timeout_ns);
/* Inside vcpu_run: true when the loop should return to the caller. */
static inline bool vcpu_should_stop(VCPU *cpu)
{
    return atomic_load(&cpu->stop) || atomic_load(&cpu->thread_quit);
}

#endif
