/* A bare machine for translator unit tests: one RAM block in an otherwise
 * empty address space, and 64-bit CPUs with flat segments. */
#ifndef TESTS_UNIT_HARNESS_MACHINE_H
#define TESTS_UNIT_HARNESS_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cpu/x86/cpu.h"

/* Host memory of the machine's RAM at guest physical [base, base + size);
 * the machine is created by the first call, later calls return the same RAM. */
uint8_t *test_machine_ram(uint64_t base, uint64_t size);

/* A long-mode CPU (64-bit code segment, flat data segments, PAE, paging off)
 * at privilege level cpl (0 or 3) on the chosen backend. */
CPUX86State *test_cpu64_new(bool interp, unsigned cpl);

/* Frees a CPU made by test_cpu64_new. */
void test_cpu_free(CPUX86State *env);

/* Copies n bytes to offset off of the machine's RAM; PUT(off, bytes...)
 * writes a list of byte values, usually guest code. */
void test_put(uint32_t off, const uint8_t *bytes, size_t n);
#define PUT(off, ...) test_put(off, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

/* Runs from rip, registers as the caller left them, until HLT or an
 * exception. */
void test_run_from(CPUX86State *env, uint64_t rip);

/* 4-level paging that maps the first MiB of RAM 1:1 with 4 KiB pages,
 * except the page at guest physical hole (not present), for RAM based
 * below 1 GiB. The tables take RAM offsets 0xf0000-0xf3fff. */
void test_enable_paging(CPUX86State *env, uint64_t hole);

#endif
