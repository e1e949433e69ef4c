/* Hostile guest state: random descriptor tables, IDT, TSS, page tables and
 * registers thrown at every helper. Any guest-visible exception is fine; the
 * emulator must not crash, hang or touch memory outside guest RAM (run under
 * ASan/UBSan with ./configure --enable-sanitizers). Deterministic seed. */
#include "tests/unit/test-x86-fixture.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Fill the first 1 MiB with noise and point the tables into it (or past RAM). */
static void random_machine(void)
{
    /* RAM keeps the previous round's noise: only the CPU starts afresh */
    if (!ram)
        fixture();
    memset(&env, 0, sizeof(env));
    env.a20_mask = ~0ULL;
    x86_cpu_reset(&env);
    for (int i = 0; i < 4096; i++)           /* stir 32 KiB of the first MiB */
        w64((rnd() & (MiB - 1)) & ~7ULL, rnd());
    env.gdt.base = rnd() & 0xfffff;
    env.gdt.limit = rnd() & 0xffff;
    env.idt.base = (rnd() & 1) ? rnd() & 0xfffff : rnd();
    env.idt.limit = rnd() & 0xfff;
    env.ldt = (SegmentCache){ (uint16_t)rnd(), rnd() & 0xfffff, (uint32_t)rnd() & 0xffff,
                              (uint32_t)rnd() & 0x00f0ff00 };
    env.tr = (SegmentCache){ (uint16_t)rnd(), rnd() & 0xfffff, (uint32_t)rnd() & 0xffff,
                             (uint32_t)rnd() & 0x00f0ff00 };
    for (int s = 0; s < 6; s++)
        env.segs[s] = (SegmentCache){ (uint16_t)rnd(), rnd(), (uint32_t)rnd(),
                                      (uint32_t)rnd() & 0x00f0ff00 };
    for (int r = 0; r < 16; r++)
        env.regs[r] = rnd();
    env.rip = rnd();
    env.cr[3] = rnd() & 0xfffff;
    uint64_t cr4 = rnd() & (CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_DE | CR4_TSD | CR4_VME | CR4_PVI);
    uint64_t efer = rnd() & (EFER_NXE | EFER_SCE);
    int mode = (int)(rnd() % 4);      /* real, protected, paged, long */
    if (mode == 3) {
        cr4 |= CR4_PAE;
        efer |= EFER_LME;
    }
    x86_set_cr4(&env, cr4);
    x86_set_efer(&env, efer);
    x86_set_cr0(&env, 0x60000010 | (mode >= 1 ? CR0_PE : 0) | (mode >= 2 ? CR0_PG : 0) |
                        (rnd() & CR0_WP));
    x86_set_eflags(&env, (uint32_t)rnd(), (rnd() & 1) ? ~0u : ~(uint32_t)VM_MASK);
    env.star = rnd();
    env.sysenter_cs = rnd();
    env.dr[7] = rnd();
    env.old_exception = -1;
    x86_update_hflags(&env);
}

static void one_helper(int which)
{
    uint32_t sel = (uint32_t)rnd();
    uint64_t off = rnd();
    int dflag = (int)(rnd() % 3);
    uint64_t pa;
    int prot;
    uint64_t size;

    switch (which) {
    case 0: x86_load_seg(&env, (int)(rnd() % 6), sel, 0); break;
    case 1: x86_ljmp(&env, sel, off, rnd(), 0); break;
    case 2: x86_lcall(&env, sel, off, dflag, rnd(), 0); break;
    case 3: x86_lret(&env, dflag, (unsigned)rnd() & 0xffff, 0); break;
    case 4: x86_iret(&env, dflag, rnd(), 0); break;
    case 5: x86_do_interrupt(&env, (int)(rnd() & 0xff), (int)(rnd() & 1), (int)rnd(), (int)(rnd() & 1), rnd()); break;
    case 6: x86_int(&env, (int)(rnd() & 0xff), rnd(), 0); break;
    case 7: x86_lldt(&env, sel, 0); break;
    case 8: x86_ltr(&env, sel, 0); break;
    case 9: (void)x86_lar(&env, sel, 0); (void)x86_lsl(&env, sel, 0); break;
    case 10: (void)x86_verr(&env, sel, 0); (void)x86_verw(&env, sel, 0); break;
    case 11: (void)x86_seg_check(&env, (int)(rnd() % 6), off, 1u << (rnd() % 4), rnd() & 1, 0); break;
    case 12: x86_check_io(&env, (uint32_t)rnd() & 0xffff, 1u << (rnd() % 3), 0); break;
    case 13: (void)x86_mmu_translate(&env, off, (int)(rnd() % 3), (int)(rnd() % MMU_MODES), &pa, &prot, &size); break;
    case 14: x86_write_cr(&env, (int)(rnd() % 16), rnd(), 0); break;
    case 15: x86_write_dr(&env, (int)(rnd() % 8), rnd(), 0); break;
    case 16: env.regs[R_ECX] = rnd() % 3 ? 0xc0000000u + (rnd() & 0x1ff) : rnd(); x86_wrmsr(&env, 0); break;
    case 17: x86_syscall(&env, rnd(), 0); break;
    case 18: x86_sysret(&env, dflag, 0); break;
    case 19: x86_sysenter(&env, 0); break;
    case 20: x86_sysexit(&env, dflag, 0); break;
    case 21: x86_popf(&env, rnd(), dflag, 0); break;
    case 22: env.exception_index = (int)(rnd() & 31); env.error_code = (int)rnd(); x86_deliver_pending_exception(&env); break;
    case 23: (void)x86_mmu_debug_translate(&env, off, &pa); break;
    case 24: (void)x86_pushf_op(&env, dflag, 0); x86_cli(&env, 0); x86_sti(&env, 0); break;
    }
}

TEST(random_state_never_crashes)
{
    fixture();
    for (uint64_t a = 0; a < MiB; a += 8)
        w64(a, rnd());
    int exceptions = 0, calls = 0;
    for (int iter = 0; iter < 20000; iter++) {
        random_machine();
        for (int k = 0; k < 8; k++) {
            int which = (int)(rnd() % 25);
            calls++;
            if (setjmp(env.jmp_env) == 0) {
                one_helper(which);
            } else {
                exceptions++;
                CHECK(env.exception_index >= 0 && env.exception_index < 32);
                env.old_exception = -1;
            }
            CHECK((env.hflags & HF_CPL_MASK) <= 3);
        }
    }
    CHECK(exceptions > 0);
    CHECK(exceptions < calls);
}
