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

/* The rel32 at RAM offset at of a branch (or RIP-relative operand) whose
 * instruction ends at RAM offset end, to RAM offset target. */
void test_put_rel32(uint32_t at, uint32_t end, uint32_t target);

/* Runs from rip, registers as the caller left them, until HLT or an
 * exception. */
void test_run_from(CPUX86State *env, uint64_t rip);

/* 4-level page tables at RAM offset pml4 (four pages) that map the first
 * MiB of RAM 1:1 with 4 KiB pages, each PTE with the given flags, for RAM
 * based below 1 GiB. Returns the RAM offset of the page table (the PTE of
 * RAM offset off is at that + 8 * (off >> 12)), for callers to change. */
uint32_t test_page_tables(uint32_t pml4, uint64_t flags);

/* Paging on with CR3 = cr3 (a guest physical address). */
void test_paging_on(CPUX86State *env, uint64_t cr3);

/* Paging through test_page_tables at RAM offset 0xf0000, writable, the
 * page at guest physical hole not present. */
void test_enable_paging(CPUX86State *env, uint64_t hole);

/* A CPU without machine state whose translator context is tcg_ctx, started
 * for IR (for tests of the IR passes); test_cpu_free frees it. */
CPUX86State *test_ir_cpu_new(bool interp);

/* The IR in tcg_ctx (optimised and with liveness, as the caller chose)
 * compiled by t's backend into tb, a block with no guest PC table of its
 * own; false when the backend could not. */
struct TCGCPU;
struct TranslationBlock;
bool test_gen_ir(struct TCGCPU *t, struct TranslationBlock *tb);

#endif
