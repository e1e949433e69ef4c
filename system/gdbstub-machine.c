/* The GDB stub's side facing the emulator: the breakpoint list and
 * single-step request the execution engines consult, the machine as the
 * protocol layer's target, and the chardev the stub talks through. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/x86/cpu.h"
#include "system/chardev.h"
#include "system/cpus.h"
#include "system/gdbstub-internal.h"
#include "system/gdbstub.h"
#include "system/machine.h"
#include "system/mainloop.h"
#include "system/monitor.h"
#include "system/util.h"

#define GDB_MAX_BREAKPOINTS 64

/* ---- breakpoints (shared with the execution engines) ------------------------------------ */

atomic_int gdb_nr_breakpoints;
void (*gdb_breakpoints_changed)(void);
static uint64_t breakpoints[GDB_MAX_BREAKPOINTS];
static pthread_mutex_t bp_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int step_cpu = -1;

bool gdb_breakpoint_hit(CPUX86State *env, uint64_t pc)
{
    if (!atomic_load(&gdb_nr_breakpoints))
        return false;
    bool hit = false;
    pthread_mutex_lock(&bp_lock);
    for (int i = 0; i < atomic_load(&gdb_nr_breakpoints) && !hit; i++)
        hit = breakpoints[i] == pc;
    pthread_mutex_unlock(&bp_lock);
    return hit;
}

int gdb_breakpoint_list(uint64_t *addrs, int max)
{
    pthread_mutex_lock(&bp_lock);
    int n = MIN(max, atomic_load(&gdb_nr_breakpoints));
    memcpy(addrs, breakpoints, sizeof(uint64_t) * (size_t)MAX(n, 0));
    pthread_mutex_unlock(&bp_lock);
    return n;
}

/* Returns false when the list is full. */
bool gdb_breakpoint_insert(uint64_t addr)
{
    bool ok = true, changed = false;
    pthread_mutex_lock(&bp_lock);
    int n = atomic_load(&gdb_nr_breakpoints);
    bool present = false;
    for (int i = 0; i < n; i++)
        present |= breakpoints[i] == addr;
    if (!present && n == GDB_MAX_BREAKPOINTS) {
        ok = false;
    } else if (!present) {
        breakpoints[n] = addr;
        atomic_store(&gdb_nr_breakpoints, n + 1);
        changed = true;
    }
    pthread_mutex_unlock(&bp_lock);
    if (changed && gdb_breakpoints_changed)
        gdb_breakpoints_changed();
    return ok;
}

void gdb_breakpoint_remove(uint64_t addr)
{
    bool changed = false;
    pthread_mutex_lock(&bp_lock);
    int n = atomic_load(&gdb_nr_breakpoints);
    for (int i = 0; i < n; i++) {
        if (breakpoints[i] == addr) {
            breakpoints[i] = breakpoints[n - 1];
            atomic_store(&gdb_nr_breakpoints, n - 1);
            changed = true;
            break;
        }
    }
    pthread_mutex_unlock(&bp_lock);
    if (changed && gdb_breakpoints_changed)
        gdb_breakpoints_changed();
}

void gdb_breakpoints_clear(void)
{
    pthread_mutex_lock(&bp_lock);
    bool changed = atomic_exchange(&gdb_nr_breakpoints, 0) != 0;
    pthread_mutex_unlock(&bp_lock);
    if (changed && gdb_breakpoints_changed)
        gdb_breakpoints_changed();
}

void gdb_set_step_cpu(int cpu)
{
    atomic_store(&step_cpu, cpu);
}

bool gdb_single_stepping(CPUX86State *env)
{
    int cpu = atomic_load(&step_cpu);
    return cpu >= 0 && env->vcpu && env->vcpu->index == cpu;
}

/* ---- the machine as a target ----------------------------------------------------------------------- */

static int machine_nr_cpus(void *opaque)
{
    return current_machine ? current_machine->ncpus : 0;
}

static CPUX86State *machine_cpu(void *opaque, int index)
{
    return current_machine->cpus[index]->env;
}

static void machine_stop(void *opaque)
{
    if (current_machine && current_machine->ncpus)
        cpus_pause(current_machine);
}

static void machine_resume(void *opaque)
{
    if (current_machine && current_machine->ncpus)
        cpus_resume(current_machine);
}

static int machine_mem_rw(void *opaque, int cpu, uint64_t addr, uint8_t *buf, size_t len,
                          bool is_write)
{
    return debug_virt_rw(machine_cpu(opaque, cpu), addr, buf, len, is_write);
}

static void machine_regs_changed(void *opaque, int cpu)
{
    Machine *m = current_machine;
    if (m && m->accel && m->accel->vcpu_state_changed)
        m->accel->vcpu_state_changed(m->cpus[cpu]);
}

static void machine_kill(void *opaque)
{
    main_loop_quit(0);
}

static const GdbTarget machine_target = {
    .nr_cpus = machine_nr_cpus,
    .cpu = machine_cpu,
    .stop = machine_stop,
    .resume = machine_resume,
    .mem_rw = machine_mem_rw,
    .regs_changed = machine_regs_changed,
    .kill = machine_kill,
};

static GdbStub *active_stub;
static Chardev *active_chr;

static void chr_output(void *opaque, const uint8_t *buf, int len)
{
    chardev_write(opaque, buf, len);
}

static int chr_can_receive(void *opaque)
{
    return GDB_PACKET_SIZE;
}

static void chr_receive(void *opaque, const uint8_t *buf, int len)
{
    gdbstub_input(opaque, buf, len);
}

static void chr_event(void *opaque, int event)
{
    if (event == CHR_EVENT_OPENED)
        gdbstub_attached(opaque);
    else if (event == CHR_EVENT_CLOSED)
        gdbstub_detached(opaque);
}

typedef struct StopReport {
    int cpu, signal;
} StopReport;

static void report_stop_deferred(void *opaque)
{
    StopReport *r = opaque;
    machine_stop(NULL);       /* wait until every vCPU is parked */
    if (active_stub)
        gdbstub_report_stop(active_stub, r->cpu, r->signal);
    free(r);
}

void gdbstub_vm_stopped(void)
{
    if (active_stub)
        gdbstub_report_stop(active_stub, 0, GDB_SIGINT);
}

void gdb_vcpu_stopped(CPUX86State *env, int signal)
{
    Machine *m = current_machine;
    if (m) {
        for (int i = 0; i < m->ncpus; i++) {
            atomic_store(&m->cpus[i]->stop, 1);
            vcpu_kick(m->cpus[i]);
        }
    }
    StopReport *r = xmalloc(sizeof(*r));
    r->cpu = env->vcpu ? env->vcpu->index : 0;
    r->signal = signal;
    main_loop_defer(report_stop_deferred, r);
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

int gdbstub_start(const char *spec, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (!spec || strcmp(spec, "none") == 0)
        return 0;
    if (active_stub) {
        snprintf(err, errlen, "the GDB stub is already running on '%s'", chardev_spec(active_chr));
        return -1;
    }
    char *full;
    if (all_digits(spec))
        full = xasprintf("tcp::%s,server,nowait", spec);
    else if ((strncmp(spec, "tcp:", 4) == 0 || strncmp(spec, "unix:", 5) == 0) &&
             !strstr(spec, ",server"))
        full = xasprintf("%s,server,nowait", spec);
    else
        full = xstrdup(spec);
    Chardev *chr = chardev_new(full, err, errlen);
    free(full);
    if (!chr) {
        if (!err[0])
            snprintf(err, errlen, "-gdb needs a device (e.g. tcp::1234)");
        return -1;
    }
    active_chr = chr;
    active_stub = gdbstub_new(&machine_target, chr_output, chr);
    ChardevFrontend fe = { chr_can_receive, chr_receive, chr_event, active_stub };
    chardev_attach(chr, &fe);
    return 0;
}
