/* A bare machine for translator unit tests: one RAM block in an otherwise
 * empty address space, and 64-bit CPUs with flat segments. */
#ifndef TESTS_UNIT_HARNESS_MACHINE_H
#define TESTS_UNIT_HARNESS_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu/x86/cpu.h"

/* Host memory of the machine's RAM at guest physical [base, base + size);
 * the machine is created by the first call, later calls return the same RAM. */
uint8_t *test_machine_ram(uint64_t base, uint64_t size);

/* A long-mode CPU (64-bit code segment, flat data segments, PAE, paging off)
 * at privilege level cpl (0 or 3) on the chosen backend. */
CPUX86State *test_cpu64_new(bool interp, unsigned cpl);

#endif
