/* The KVM accelerator (accel/kvm*.c): AccelOps accel_kvm_ops (system/cpus.h). */
#ifndef ACCEL_KVM_H
#define ACCEL_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when /dev/kvm opens and is backed by hardware virtualisation (VT-x or
 * AMD-V), i.e. worth choosing over the translator; otherwise false and the
 * reason in why (e.g. "software KVM (kvm_pvm), using the translator"). */
bool kvm_hardware_usable(char *why, size_t n);

/* Dirty page tracking of guest RAM, for live migration: start/stop switch
 * logging on for every RAM slot (and the slots added later); sync calls
 * mark(gpa, opaque) once per 4 KiB page written since the previous sync (or
 * the start) and clears the log. Return 0, or -1 with errno set. */
int kvm_dirty_log_start(void);
int kvm_dirty_log_stop(void);
int kvm_dirty_log_sync(void (*mark)(uint64_t gpa, void *opaque), void *opaque);

#endif
