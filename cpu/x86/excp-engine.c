/* The helpers' link to the execution engine (cpu/x86/exec.h).
 *
 * The engine's services are referenced weakly: the system helpers also link
 * into builds and tests without the translator (KVM-only, unit tests), where
 * exceptions simply longjmp to env->jmp_env with exception_index set, the
 * arithmetic flags live in env->eflags, and there is no TLB to flush. With the
 * translator linked, its definitions are used. */
#include "cpu/x86/seg.h"

#pragma weak x86_raise_exception
#pragma weak cc_compute_all
#pragma weak cc_set_all
#pragma weak tlb_flush
#pragma weak tlb_flush_page
#pragma weak tlb_flush_nonglobal
#pragma weak tlb_translate
#pragma weak tlb_cr3_written
#pragma weak tlb_invpcid
#pragma weak cpu_restore_state
#pragma weak cpu_loop_exit

void sys_raise_exception(CPUX86State *env, int vector, uint32_t error_code, uintptr_t ra)
{
    if (x86_raise_exception)
        x86_raise_exception(env, vector, (int)error_code, ra);
    env->exception_index = vector;
    env->error_code = (int)error_code;
    longjmp(env->jmp_env, 1);
}

uint32_t sys_cc_get(CPUX86State *env)
{
    if (cc_compute_all)
        return cc_compute_all(env) & CC_MASK;
    return (uint32_t)env->eflags & CC_MASK;
}

void sys_cc_set(CPUX86State *env, uint32_t flags)
{
    if (cc_set_all) {
        cc_set_all(env, flags & CC_MASK);
        env->eflags &= ~(uint64_t)CC_MASK;
    } else {
        env->eflags = (env->eflags & ~(uint64_t)CC_MASK) | (flags & CC_MASK);
    }
}

void sys_tlb_flush(CPUX86State *env)
{
    if (tlb_flush)
        tlb_flush(env);
}

void sys_tlb_flush_page(CPUX86State *env, uint64_t vaddr)
{
    if (tlb_flush_page)
        tlb_flush_page(env, vaddr);
}

void sys_tlb_flush_nonglobal(CPUX86State *env)
{
    if (tlb_flush_nonglobal)
        tlb_flush_nonglobal(env);
}

void sys_tlb_cr3_written(CPUX86State *env, bool keep)
{
    if (tlb_cr3_written)
        tlb_cr3_written(env, keep);
}

void sys_tlb_invpcid(CPUX86State *env, unsigned type, unsigned pcid, uint64_t addr)
{
    if (tlb_invpcid)
        tlb_invpcid(env, type, pcid, addr);
}

uint64_t sys_translate(CPUX86State *env, uint64_t lin, int access, int mmu_idx, uintptr_t ra)
{
    if (tlb_translate && env->accel)
        return tlb_translate(env, lin, access, mmu_idx, ra);
    int prot;
    uint64_t page_size;
    return x86_tlb_fill(env, lin, access, mmu_idx, &prot, &page_size, ra);
}

void sys_restore_state(CPUX86State *env, uintptr_t ra)
{
    if (cpu_restore_state && ra)
        cpu_restore_state(env, ra);
}

void sys_loop_exit(CPUX86State *env)
{
    if (cpu_loop_exit)
        cpu_loop_exit(env);
    longjmp(env->jmp_env, 1);
}
