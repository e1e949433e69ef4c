/* LOCK-prefixed read-modify-write instructions (and XCHG with memory) on a
 * machine with several vCPUs: done with host atomic instructions on the RAM
 * page, so they are atomic against the other vCPUs' accesses. Unaligned or
 * page-crossing operands, device memory and pages holding translated code
 * (whose stores must invalidate it) take the fallback: one global lock held
 * across the load and the store, after the operand was probed for writing so
 * that a fault is taken before the lock (accel/tcg.c releases it when a code
 * write leaves the block instead). The helpers return the old value; the
 * translated code derives the result and the flags from it. */
#include <pthread.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/exec.h"
#include "cpu/x86/translate-helpers.h"
#include "system/util.h"

static pthread_mutex_t atomic_fallback_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool holding_fallback_lock;

static void fallback_begin(CPUX86State *env, uint64_t addr, unsigned size, int mmu, uintptr_t ra)
{
    /* the page(s) of the operand, for writing, in address order as the
     * hardware (a fault on the second page reports its first byte in CR2) */
    tlb_host_ptr(env, addr, true, mmu, ra);
    uint64_t last = addr + size - 1;
    if ((last ^ addr) & TARGET_PAGE_MASK)
        tlb_host_ptr(env, last & TARGET_PAGE_MASK, true, mmu, ra);
    pthread_mutex_lock(&atomic_fallback_lock);
    holding_fallback_lock = true;
}

static void fallback_end(void)
{
    holding_fallback_lock = false;
    pthread_mutex_unlock(&atomic_fallback_lock);
}

void x86_atomic_fallback_abandon(void)
{
    if (holding_fallback_lock)
        fallback_end();
}

static uint64_t apply(unsigned op, uint64_t old, uint64_t v, unsigned size)
{
    uint64_t m = size_mask(size);
    switch (op) {
    case ATOMIC_ADD: return (old + v) & m;
    case ATOMIC_SUB: return (old - v) & m;
    case ATOMIC_AND: return old & v;
    case ATOMIC_OR: return old | v;
    case ATOMIC_XOR: return old ^ v;
    case ATOMIC_NEG: return (0 - old) & m;
    default: return v & m;   /* XCHG */
    }
}

#define ATOMIC_SIZED(T, p, op, v, out)                                                  \
    do {                                                                                \
        T *q_ = (T *)(p);                                                               \
        T v_ = (T)(v);                                                                  \
        switch (op) {                                                                   \
        case ATOMIC_ADD: out = __atomic_fetch_add(q_, v_, __ATOMIC_SEQ_CST); break;     \
        case ATOMIC_SUB: out = __atomic_fetch_sub(q_, v_, __ATOMIC_SEQ_CST); break;     \
        case ATOMIC_AND: out = __atomic_fetch_and(q_, v_, __ATOMIC_SEQ_CST); break;     \
        case ATOMIC_OR: out = __atomic_fetch_or(q_, v_, __ATOMIC_SEQ_CST); break;       \
        case ATOMIC_XOR: out = __atomic_fetch_xor(q_, v_, __ATOMIC_SEQ_CST); break;     \
        case ATOMIC_XCHG: out = __atomic_exchange_n(q_, v_, __ATOMIC_SEQ_CST); break;   \
        default: {                                                                      \
            T o_ = __atomic_load_n(q_, __ATOMIC_SEQ_CST);                               \
            while (!__atomic_compare_exchange_n(q_, &o_, (T)(0 - o_), false,            \
                                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))    \
                ;                                                                       \
            out = o_;                                                                   \
        }                                                                               \
        }                                                                               \
    } while (0)

static void *host_for(CPUX86State *env, uint64_t addr, unsigned size, int mmu, uintptr_t ra)
{
    if (addr & (size - 1))
        return NULL;
    return tlb_host_ptr(env, addr, true, mmu, ra);
}

uint64_t helper_atomic_fetch_op(CPUX86State *env, uint64_t addr, uint64_t v, uint64_t desc)
{
    uintptr_t ra = GETPC();
    unsigned op = desc & 0xff, size = (desc >> 8) & 0xf, mmu = (desc >> 12) & 0xf;
    void *p = host_for(env, addr, size, (int)mmu, ra);
    uint64_t old = 0;
    if (p) {
        switch (size) {
        case 1: ATOMIC_SIZED(uint8_t, p, op, v, old); break;
        case 2: ATOMIC_SIZED(uint16_t, p, op, v, old); break;
        case 4: ATOMIC_SIZED(uint32_t, p, op, v, old); break;
        default: ATOMIC_SIZED(uint64_t, p, op, v, old); break;
        }
        return old;
    }
    fallback_begin(env, addr, size, (int)mmu, ra);
    old = cpu_ld(env, addr, size, (int)mmu, ra);
    cpu_st(env, addr, apply(op, old, v, size), size, (int)mmu, ra);
    fallback_end();
    return old;
}

uint64_t helper_atomic_cmpxchg(CPUX86State *env, uint64_t addr, uint64_t expected, uint64_t newv,
                               uint64_t desc)
{
    uintptr_t ra = GETPC();
    unsigned size = (desc >> 8) & 0xf, mmu = (desc >> 12) & 0xf;
    void *p = host_for(env, addr, size, (int)mmu, ra);
    if (p) {
        switch (size) {
        case 1: { uint8_t e = (uint8_t)expected;
            __atomic_compare_exchange_n((uint8_t *)p, &e, (uint8_t)newv, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            return e; }
        case 2: { uint16_t e = (uint16_t)expected;
            __atomic_compare_exchange_n((uint16_t *)p, &e, (uint16_t)newv, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            return e; }
        case 4: { uint32_t e = (uint32_t)expected;
            __atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)newv, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            return e; }
        default: { uint64_t e = expected;
            __atomic_compare_exchange_n((uint64_t *)p, &e, newv, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            return e; }
        }
    }
    fallback_begin(env, addr, size, (int)mmu, ra);
    uint64_t old = cpu_ld(env, addr, size, (int)mmu, ra);
    cpu_st(env, addr, old == (expected & size_mask(size)) ? newv : old, size, (int)mmu, ra);
    fallback_end();
    return old;
}

/* CMPXCHG8B/16B: compare the two halves at addr with cmp[0..1]; when equal
 * store newv[0..1], else load them into cmp. Atomic against the other vCPUs;
 * the destination is probed for writing first (the hardware writes it either
 * way, so a read-only page faults as a write). */
bool x86_atomic_cmpxchg_pair(CPUX86State *env, uint64_t addr, unsigned half, uint64_t cmp[2],
                             const uint64_t newv[2], int mmu, uintptr_t ra)
{
    uint64_t *p = (addr & (2 * half - 1)) ? NULL : tlb_host_ptr(env, addr, true, mmu, ra);
    if (p && half == 4) {
        uint64_t expected = cmp[0] | cmp[1] << 32;
        bool ok = __atomic_compare_exchange_n(p, &expected, newv[0] | newv[1] << 32, false,
                                              __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        cmp[0] = (uint32_t)expected;
        cmp[1] = expected >> 32;
        return ok;
    }
#if defined(__x86_64__)
    if (p) {
        bool ok;
        asm volatile("lock cmpxchg16b %1\n\tsete %0"
                     : "=q"(ok), "+m"(*(__int128 *)p), "+a"(cmp[0]), "+d"(cmp[1])
                     : "b"(newv[0]), "c"(newv[1]) : "memory", "cc");
        return ok;
    }
#endif
    fallback_begin(env, addr, 2 * half, mmu, ra);
    uint64_t lo = cpu_ld(env, addr, half, mmu, ra), hi = cpu_ld(env, addr + half, half, mmu, ra);
    bool ok = lo == cmp[0] && hi == cmp[1];
    cpu_st(env, addr, ok ? newv[0] : lo, half, mmu, ra);
    cpu_st(env, addr + half, ok ? newv[1] : hi, half, mmu, ra);
    fallback_end();
    cmp[0] = lo;
    cmp[1] = hi;
    return ok;
}

/* MFENCE on a machine with several vCPUs: the host's store buffer must drain
 * before later loads, as the guest asked (plain host stores keep TSO order
 * otherwise). */
void helper_mfence(CPUX86State *env)
{
    (void)env;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
