/* vCPU threads and accelerator selection. */
#include "system/cpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "cpu/x86/cpu.h"
#include "system/mainloop.h"
#include "system/timer.h"

/* Accelerators are optional at link time so a partial build still runs. */
extern AccelOps accel_tcg_ops __attribute__((weak));
extern AccelOps accel_kvm_ops __attribute__((weak));
bool kvm_hardware_usable(char *why, size_t n) __attribute__((weak));
void x86_cpu_reset(CPUX86State *env) __attribute__((weak));

static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park_cond = PTHREAD_COND_INITIALIZER;

static AccelOps *choose_accel(Machine *m, char *err, size_t errlen)
{
    const char *name = m->cfg->accel;
    if (name && strcmp(name, "tcg") == 0) {
        if (!&accel_tcg_ops) {
            snprintf(err, errlen, "-accel tcg: the translator is not built into this binary");
            return NULL;
        }
        return &accel_tcg_ops;
    }
    if (name && strcmp(name, "kvm") == 0) {
        if (!&accel_kvm_ops) {
            snprintf(err, errlen, "-accel kvm: KVM support is not built into this binary");
            return NULL;
        }
        return &accel_kvm_ops;
    }
    if (name) {
        snprintf(err, errlen, "-accel: unknown accelerator '%s' (use tcg or kvm)", name);
        return NULL;
    }
    /* Auto: hardware-backed KVM when usable, the translator otherwise. */
    char why[256] = "KVM support not built in";
    if (&accel_kvm_ops && kvm_hardware_usable && kvm_hardware_usable(why, sizeof(why))) {
        fprintf(stderr, "kestrel: accelerator: kvm (hardware virtualisation)\n");
        return &accel_kvm_ops;
    }
    if (&accel_tcg_ops) {
        fprintf(stderr, "kestrel: accelerator: tcg (%s)\n", why);
        return &accel_tcg_ops;
    }
    if (&accel_kvm_ops) {
        fprintf(stderr, "kestrel: accelerator: kvm (the translator is not built in)\n");
        return &accel_kvm_ops;
    }
    snprintf(err, errlen, "no accelerator available in this build");
    return NULL;
}

static void *vcpu_thread_fn(void *arg)
{
    VCPU *cpu = arg;
    while (!atomic_load(&cpu->thread_quit)) {
        if (atomic_load(&cpu->stop)) {
            pthread_mutex_lock(&park_lock);
            atomic_store(&cpu->stopped, 1);
            pthread_cond_broadcast(&park_cond);
            while (atomic_load(&cpu->stop) && !atomic_load(&cpu->thread_quit))
                pthread_cond_wait(&park_cond, &park_lock);
            atomic_store(&cpu->stopped, 0);
            pthread_mutex_unlock(&park_lock);
            continue;
        }
        cpu->machine->accel->vcpu_run(cpu);
    }
    pthread_mutex_lock(&park_lock);
    atomic_store(&cpu->stopped, 1);
    pthread_cond_broadcast(&park_cond);
    pthread_mutex_unlock(&park_lock);
    return NULL;
}

int cpus_init(Machine *m, char *err, size_t errlen)
{
    m->accel = choose_accel(m, err, errlen);
    if (!m->accel)
        return -1;
    if (m->accel->init && m->accel->init(m, err, errlen) < 0)
        return -1;
    m->ncpus = m->cfg->smp > 0 ? m->cfg->smp : 1;
    for (int i = 0; i < m->ncpus; i++) {
        VCPU *cpu = xzalloc(sizeof(*cpu));
        CPUX86State *env = xzalloc(sizeof(*env));
        cpu->index = i;
        cpu->env = env;
        cpu->machine = m;
        env->vcpu = cpu;
        env->a20_mask = ~0ULL;
        env->exception_index = -1;
        env->old_exception = -1;
        atomic_init(&cpu->stop, 1);
        pthread_mutex_init(&cpu->wait_lock, NULL);
        pthread_cond_init(&cpu->wait_cond, NULL);
        if (x86_cpu_reset)
            x86_cpu_reset(env);
        m->cpus[i] = cpu;
        if (m->accel->vcpu_init && m->accel->vcpu_init(cpu, err, errlen) < 0)
            return -1;
    }
    for (int i = 0; i < m->ncpus; i++) {
        int r = pthread_create(&m->cpus[i]->thread, NULL, vcpu_thread_fn, m->cpus[i]);
        if (r) {
            snprintf(err, errlen, "cannot create vCPU thread: %s", strerror(r));
            return -1;
        }
    }
    return 0;
}

/* Wait until every vCPU acknowledged the stop, without holding the machine
 * lock (a vCPU may be waiting for it to finish an I/O access). */
void cpus_pause(Machine *m)
{
    bool locked = machine_lock_held();
    for (int i = 0; i < m->ncpus; i++) {
        atomic_store(&m->cpus[i]->stop, 1);
        vcpu_kick(m->cpus[i]);
    }
    if (locked)
        machine_unlock();
    pthread_mutex_lock(&park_lock);
    for (int i = 0; i < m->ncpus; i++)
        while (!atomic_load(&m->cpus[i]->stopped))
            pthread_cond_wait(&park_cond, &park_lock);
    pthread_mutex_unlock(&park_lock);
    if (locked)
        machine_lock();
    clock_virtual_pause();
}

void cpus_resume(Machine *m)
{
    clock_virtual_resume();
    pthread_mutex_lock(&park_lock);
    for (int i = 0; i < m->ncpus; i++) {
        atomic_store(&m->cpus[i]->exit_request, 0);
        atomic_store(&m->cpus[i]->stop, 0);
    }
    pthread_cond_broadcast(&park_cond);
    pthread_mutex_unlock(&park_lock);
}

void cpus_start(Machine *m)
{
    cpus_resume(m);
}

void cpus_quit(Machine *m)
{
    bool locked = machine_lock_held();
    if (locked)
        machine_unlock();
    for (int i = 0; i < m->ncpus; i++) {
        atomic_store(&m->cpus[i]->thread_quit, 1);
        vcpu_kick(m->cpus[i]);
    }
    pthread_mutex_lock(&park_lock);
    pthread_cond_broadcast(&park_cond);
    pthread_mutex_unlock(&park_lock);
    for (int i = 0; i < m->ncpus; i++) {
        /* A vCPU stuck in a long guest loop notices thread_quit at its next exit
         * check; give it a moment, then leave it (the process is exiting). */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 2;
        pthread_timedjoin_np(m->cpus[i]->thread, NULL, &ts);
    }
    if (locked)
        machine_lock();
}

void vcpu_kick(VCPU *cpu)
{
    atomic_store(&cpu->exit_request, 1);
    pthread_mutex_lock(&cpu->wait_lock);
    pthread_cond_broadcast(&cpu->wait_cond);
    pthread_mutex_unlock(&cpu->wait_lock);
    if (cpu->machine && cpu->machine->accel && cpu->machine->accel->vcpu_kick)
        cpu->machine->accel->vcpu_kick(cpu);
}

void vcpu_wait_for_event(VCPU *cpu, int64_t timeout_ns)
{
    pthread_mutex_lock(&cpu->wait_lock);
    /* A kick (interrupt, stop request) sets exit_request before signalling, so
     * one that arrives between the caller's check and this wait is not lost. */
    if (!atomic_load(&cpu->exit_request) && !vcpu_should_stop(cpu)) {
        if (timeout_ns < 0) {
            pthread_cond_wait(&cpu->wait_cond, &cpu->wait_lock);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + timeout_ns;
            ts.tv_sec += ns / NS_PER_SEC;
            ts.tv_nsec = ns % NS_PER_SEC;
            pthread_cond_timedwait(&cpu->wait_cond, &cpu->wait_lock, &ts);
        }
    }
    atomic_store(&cpu->exit_request, 0);
    pthread_mutex_unlock(&cpu->wait_lock);
}
