/* Shared set-up for the x86 system-helper tests: a CPU state and 16 MiB of
 * guest RAM at physical 0, reachable through current_machine->mem as the
 * helpers expect. Exceptions longjmp to env.jmp_env (the helpers' stand-in for
 * the execution loop when the translator is not linked in, or the
 * translator's own x86_raise_exception, which does the same with retaddr 0). */
#ifndef TEST_X86_FIXTURE_H
#define TEST_X86_FIXTURE_H

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/x86/cpu.h"
#include "cpu/x86/helpers.h"
#include "system/machine.h"
#include "system/memory.h"
#include "system/util.h"
#include "tests/unit/harness.h"

/* The EXPECT_* macros setjmp in the test function; locals the tests read after
 * a longjmp are not modified in between, so the warning is noise here. */
#pragma GCC diagnostic ignored "-Wclobbered"

#define RAM_SIZE (16 * MiB)

static uint8_t *ram;
static Machine test_machine;
static CPUX86State env;

static void fixture(void)
{
    if (!ram) {
        ram = xzalloc(RAM_SIZE);
        test_machine.mem = address_space_new("memory", 1ULL << 40);
        as_add_ram(test_machine.mem, "ram", 0, RAM_SIZE, ram, 0);
        current_machine = &test_machine;
    }
    memset(ram, 0, RAM_SIZE);
    memset(&env, 0, sizeof(env));
    env.a20_mask = ~0ULL;
    x86_cpu_reset(&env);
}

static inline void w8(uint64_t pa, uint8_t v) { ram[pa] = v; }
static inline void w16(uint64_t pa, uint16_t v) { st16(ram + pa, v); }
static inline void w32(uint64_t pa, uint32_t v) { st32(ram + pa, v); }
static inline void w64(uint64_t pa, uint64_t v) { st64(ram + pa, v); }
static inline uint16_t r16(uint64_t pa) { return ld16(ram + pa); }
static inline uint32_t r32(uint64_t pa) { return ld32(ram + pa); }
static inline uint64_t r64(uint64_t pa) { return ld64(ram + pa); }

/* Run stmt expecting an exception vec with error code err (-1: don't care). */
#define EXPECT_EXC(stmt, vec, err)                                         \
    do {                                                                   \
        if (setjmp(env.jmp_env) == 0) {                                    \
            stmt;                                                          \
            test_fail(__FILE__, __LINE__, "no exception from " #stmt);     \
        } else {                                                           \
            CHECK_EQ(env.exception_index, (vec));                          \
            if ((err) >= 0)                                                \
                CHECK_EQ(env.error_code, (err));                           \
        }                                                                  \
    } while (0)

/* Run stmt expecting no exception. */
#define EXPECT_OK(stmt)                                                    \
    do {                                                                   \
        if (setjmp(env.jmp_env) == 0) {                                    \
            stmt;                                                          \
        } else {                                                           \
            char m_[160];                                                  \
            snprintf(m_, sizeof(m_), "unexpected exception %d (err %#x) from %s", \
                     env.exception_index, env.error_code, #stmt);           \
            test_fail(__FILE__, __LINE__, m_);                             \
        }                                                                  \
    } while (0)

/* A GDT descriptor: base, limit (bytes, G chosen when > 1 MiB), attribute flags
 * (the high-dword bits as in cpu.h: type, S, DPL, P, L, D/B). */
static inline uint64_t make_desc(uint32_t base, uint32_t limit, uint32_t flags)
{
    if (limit > 0xfffff) {
        limit >>= 12;
        flags |= DESC_G_MASK;
    }
    uint32_t lo = (limit & 0xffff) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xff) | (base & 0xff000000u) | (limit & 0xf0000) | flags;
    return lo | (uint64_t)hi << 32;
}

#define CODE_FLAGS(dpl) (DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK | DESC_R_MASK | ((dpl) << DESC_DPL_SHIFT))
#define DATA_FLAGS(dpl) (DESC_P_MASK | DESC_S_MASK | DESC_W_MASK | ((dpl) << DESC_DPL_SHIFT))

/* A gate: selector:offset, type (14 int gate...), dpl. 8 bytes (legacy). */
static inline uint64_t make_gate(uint16_t sel, uint32_t off, int type, int dpl)
{
    uint32_t lo = (off & 0xffff) | ((uint32_t)sel << 16);
    uint32_t hi = (off & 0xffff0000u) | DESC_P_MASK | ((uint32_t)dpl << DESC_DPL_SHIFT) |
                  ((uint32_t)type << DESC_TYPE_SHIFT);
    return lo | (uint64_t)hi << 32;
}

static inline void load_cached(int seg, uint16_t sel, uint64_t desc)
{
    SegmentCache *s = &env.segs[seg];
    uint32_t lo = (uint32_t)desc, hi = (uint32_t)(desc >> 32);
    s->selector = sel;
    s->base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
    s->limit = (lo & 0xffff) | (hi & 0xf0000);
    if (hi & DESC_G_MASK)
        s->limit = (s->limit << 12) | 0xfff;
    s->flags = hi & 0x00f0ff00u;
}

#endif
