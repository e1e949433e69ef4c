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

void test_run_from(CPUX86State *env, uint64_t rip)
{
    env->rip = rip;
    env->halted = false;
    env->exception_index = -1;
    tcg_run_until_exit(env);
}

void test_enable_paging(CPUX86State *env, uint64_t hole)
{
    uint64_t pml4 = 0xf0000, pdpt = 0xf1000, pd = 0xf2000, pt = 0xf3000;
    memset(ram + pml4, 0, 0x4000);
    st64(ram + pml4, (ram_base + pdpt) | 3);
    st64(ram + pdpt, (ram_base + pd) | 3);
    st64(ram + pd + 8 * (ram_base >> 21 & 511), (ram_base + pt) | 3);
    for (int i = 0; i < 256; i++)
        if (ram_base + 4096ULL * i != hole)
            st64(ram + pt + 8 * i, (ram_base + 4096ULL * i) | 3);
    env->cr[3] = ram_base + pml4;
    env->cr[0] |= CR0_PG;
    env->hflags |= HF_PG_MASK;
    tlb_flush(env);
}
