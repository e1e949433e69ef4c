/* The KVM accelerator (accel/kvm*.c): AccelOps accel_kvm_ops (system/cpus.h). */
#ifndef ACCEL_KVM_H
#define ACCEL_KVM_H

#include <stdbool.h>
#include <stddef.h>

/* True when /dev/kvm opens and is backed by hardware virtualisation (VT-x or
 * AMD-V), i.e. worth choosing over the translator; otherwise false and the
 * reason in why (e.g. "software KVM (kvm_pvm), using the translator"). */
bool kvm_hardware_usable(char *why, size_t n);

#endif
