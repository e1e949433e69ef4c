/* The GDB stub: the GDB remote serial protocol on a chardev, so that
 *   kestrel -s -S ...            (-s is -gdb tcp::1234; -S starts paused)
 *   gdb -ex 'target remote :1234'
 * debugs the guest. The VM stops when gdb connects, on Ctrl-C, at a
 * breakpoint and after a single step; "c" resumes it; "detach", or gdb going
 * away, removes the breakpoints and resumes it; "kill" quits Kestrel.
 * Registers use gdb's i386:x86-64 layout (the stub sends a target
 * description); memory is virtual, through the CPU's debug page walk.
 *
 * Supported packets: qSupported, qXfer:features:read, QStartNoAckMode, ?, g,
 * G, p, P, m, M, X, c, s, H, T, Z0/z0 (and Z1/z1, treated alike), D, k,
 * qfThreadInfo (one thread per vCPU), qC, qAttached, qRcmd ("monitor
 * info registers" runs a monitor command), Ctrl-C. */
#ifndef SYSTEM_GDBSTUB_H
#define SYSTEM_GDBSTUB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct CPUX86State;

/* Start the stub on a chardev spec: "tcp::1234" (as for -gdb; a tcp or unix
 * spec without "server" gets ",server,nowait" added), a bare port "1234", or
 * "none" (nothing). Returns 0, or -1 with a message in err. */
int gdbstub_start(const char *spec, char *err, size_t errlen);

/* ---- for the execution engines (translator, KVM) ---------------------------------------
 * Software breakpoints are a list of linear addresses (CS base + RIP, what
 * gdb calls the PC for flat code). The translator checks each instruction
 * address it translates with gdb_breakpoint_hit(); when true it ends the block
 * before that instruction and, when execution reaches it, calls
 * gdb_vcpu_stopped(env, GDB_SIGTRAP) instead of executing it. Whenever the
 * list changes (always while the VM is stopped), gdb_breakpoints_changed is
 * called: the translator sets it to flush its translated code; KVM can read
 * gdb_breakpoint_list() there for KVM_SET_GUEST_DEBUG.
 * Single step: when gdb_single_stepping(env) is true, execute one instruction
 * (with interrupts off, as gdb expects) and then call
 * gdb_vcpu_stopped(env, GDB_SIGTRAP). */
enum { GDB_SIGINT = 2, GDB_SIGTRAP = 5 };

extern atomic_int gdb_nr_breakpoints;   /* fast check: 0 means none */
bool gdb_breakpoint_hit(struct CPUX86State *env, uint64_t pc);
int gdb_breakpoint_list(uint64_t *addrs, int max);
extern void (*gdb_breakpoints_changed)(void);
bool gdb_single_stepping(struct CPUX86State *env);
/* The VM was stopped by someone else (the monitor's "stop", QMP): a gdb
 * waiting for a stop reply gets one (SIGINT). I/O thread. */
void gdbstub_vm_stopped(void);
/* From a vCPU thread: stop every vCPU (returns at once; the vCPU then leaves
 * its run loop as vcpu_should_stop says) and report the stop to gdb. */
void gdb_vcpu_stopped(struct CPUX86State *env, int signal);

/* ---- the protocol layer, testable without a machine ---------------------------------- */
typedef struct GdbStub GdbStub;

/* What the protocol layer needs from the emulator; the default one works on
 * current_machine. */
typedef struct GdbTarget {
    int (*nr_cpus)(void *opaque);
    struct CPUX86State *(*cpu)(void *opaque, int index);
    void (*stop)(void *opaque);                  /* park every vCPU (waits) */
    void (*resume)(void *opaque);                /* let them run */
    int (*mem_rw)(void *opaque, int cpu, uint64_t addr, uint8_t *buf, size_t len,
                  bool is_write);                /* 0 or -1 */
    void (*regs_changed)(void *opaque, int cpu);
    void (*kill)(void *opaque);
    void *opaque;
} GdbTarget;

typedef void (*GdbOutputFn)(void *opaque, const uint8_t *buf, int len);

GdbStub *gdbstub_new(const GdbTarget *target, GdbOutputFn out, void *out_opaque);
void gdbstub_free(GdbStub *s);
/* Bytes from gdb. */
void gdbstub_input(GdbStub *s, const uint8_t *buf, int len);
/* Connection events: attach stops the VM; detach clears breakpoints and resumes. */
void gdbstub_attached(GdbStub *s);
void gdbstub_detached(GdbStub *s);
/* The VM stopped by itself (breakpoint, step): report it if gdb waits. */
void gdbstub_report_stop(GdbStub *s, int cpu, int signal);
/* Checksum of a packet body (sum of bytes mod 256). */
uint8_t gdb_checksum(const uint8_t *buf, size_t len);

#endif
