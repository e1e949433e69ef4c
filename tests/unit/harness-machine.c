#include "harness-machine.h"

#include <stdlib.h>
#include <string.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/exec.h"
#include "system/machine.h"
#include "system/memory.h"

static uint8_t *ram;
static uint64_t ram_base;

uint8_t *test_machine_ram(uint64_t base, uint64_t size)
{
    static Machine m;
    if (ram)
        return ram;
    ram = aligned_alloc(4096, size);
    ram_base = base;
    m.mem = address_space_new("memory", 1ULL << 32);
    m.io = address_space_new("io", 0x10000);
    as_add_ram(m.mem, "ram", base, size, ram, 0);
    current_machine = &m;
    return ram;
}

CPUX86State *test_cpu64_new(bool interp, unsigned cpl)
{
    CPUX86State *env = calloc(1, sizeof(*env));
    uint32_t dpl = cpl << DESC_DPL_SHIFT;
    tcg_select_backend(interp);
    env->a20_mask = ~0ULL;
    env->exception_index = -1;
    env->old_exception = -1;
    env->cr[0] = CR0_PE | CR0_ET;
    env->cr[4] = CR4_PAE;
    env->efer = EFER_LME | EFER_LMA;
    env->segs[R_CS].selector = cpl ? 0x33 : 0;
    env->segs[R_CS].flags = DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK | DESC_L_MASK | DESC_R_MASK | dpl;
    env->segs[R_CS].limit = 0xffffffff;
    for (int s = 0; s < 6; s++) {
        if (s == R_CS)
            continue;
        env->segs[s].selector = cpl ? 0x2b : 0;
        env->segs[s].flags = DESC_P_MASK | DESC_S_MASK | DESC_W_MASK | DESC_B_MASK | dpl;
        env->segs[s].limit = 0xffffffff;
    }
    env->hflags = HF_PE_MASK | HF_CS32_MASK | HF_SS32_MASK | HF_LMA_MASK | HF_CS64_MASK | cpl;
    tcg_cpu_create(env, NULL);
    return env;
}

void test_cpu_free(CPUX86State *env)
{
    tcg_cpu_destroy(env);
    free(env);
}

void test_put(uint32_t off, const uint8_t *bytes, size_t n)
{
    memcpy(ram + off, bytes, n);
}

void test_put_rel32(uint32_t at, uint32_t end, uint32_t target)
{
    int32_t rel = (int32_t)(target - end);
    memcpy(ram + at, &rel, 4);
}

void test_run_from(CPUX86State *env, uint64_t rip)
{
    env->rip = rip;
    env->halted = false;
    env->exception_index = -1;
    tcg_run_until_exit(env);
}

uint32_t test_page_tables(uint32_t pml4, uint64_t flags)
{
    uint32_t pdpt = pml4 + 0x1000, pd = pml4 + 0x2000, pt = pml4 + 0x3000;
    memset(ram + pml4, 0, 0x4000);
    st64(ram + pml4, (ram_base + pdpt) | flags);
    st64(ram + pdpt, (ram_base + pd) | flags);
    st64(ram + pd + 8 * (ram_base >> 21 & 511), (ram_base + pt) | flags);
    for (int i = 0; i < 256; i++)
        st64(ram + pt + 8 * i, (ram_base + 4096ULL * i) | flags);
    return pt;
}

void test_paging_on(CPUX86State *env, uint64_t cr3)
{
    env->cr[3] = cr3;
    env->cr[0] |= CR0_PG;
    env->hflags |= HF_PG_MASK;
    tlb_flush(env);
}

void test_enable_paging(CPUX86State *env, uint64_t hole)
{
    uint32_t pt = test_page_tables(0xf0000, 3);
    st64(ram + pt + 8 * ((hole - ram_base) >> 12), 0);
    test_paging_on(env, ram_base + 0xf0000);
}

bool test_gen_ir(TCGCPU *t, TranslationBlock *tb)
{
    static uint32_t dummy32[1];
    static uint64_t dummy64[1];
    memset(tb, 0, sizeof(*tb));
    tb->insn_pc = dummy64;
    tb->insn_cc_op = dummy32;
    tb->insn_host_end = dummy32;
    return t->backend->gen_code(tcg_ctx, tb);
}

CPUX86State *test_ir_cpu_new(bool interp)
{
    CPUX86State *env = calloc(1, sizeof(*env));
    tcg_select_backend(interp);
    tcg_cpu_create(env, NULL);
    tcg_ctx = tcg_cpu(env)->ctx;
    tcg_func_start(tcg_ctx);
    return env;
}
