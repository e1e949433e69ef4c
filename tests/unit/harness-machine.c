#include "harness-machine.h"

#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "system/machine.h"
#include "system/memory.h"

uint8_t *test_machine_ram(uint64_t base, uint64_t size)
{
    static Machine m;
    static uint8_t *ram;
    if (ram)
        return ram;
    ram = aligned_alloc(4096, size);
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
