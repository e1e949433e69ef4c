/* The x86 CPU as a whole: reset, mode bits (hflags), architectural EFLAGS,
 * interrupt lines, and the register dump. */
#include <inttypes.h>
#include <stdio.h>
#include "cpu/x86/seg.h"
#include "cpu/x86/simd.h"
#include "system/cpus.h"

uint32_t x86_get_eflags(CPUX86State *env)
{
    return (uint32_t)(env->eflags & ~(uint64_t)CC_MASK) | sys_cc_get(env) | 2;
}

/* The EFLAGS bits that exist (reserved ones read as 0, bit 1 as 1). */
#define EFLAGS_DEFINED 0x003f7fd5u

void x86_set_eflags(CPUX86State *env, uint32_t value, uint32_t update_mask)
{
    update_mask &= EFLAGS_DEFINED;
    uint32_t other = update_mask & ~CC_MASK;

    env->eflags = (env->eflags & ~(uint64_t)other) | (value & other) | 2;
    if (update_mask & CC_MASK) {
        uint32_t cc = sys_cc_get(env);
        sys_cc_set(env, (cc & ~update_mask) | (value & update_mask & CC_MASK));
    }
    x86_update_hflags(env);
}

/* CPL is the DPL of SS in protected mode (it equals CS.RPL, except while a
 * conforming segment runs, and SS.DPL is what SYSCALL/SYSRET, KVM and the
 * 64-bit null SS keep consistent), 0 in real mode and 3 in V86 mode. */
static int compute_cpl(CPUX86State *env)
{
    if (!(env->cr[0] & CR0_PE))
        return 0;
    if (env->eflags & VM_MASK)
        return 3;
    return (env->segs[R_SS].flags >> DESC_DPL_SHIFT) & 3;
}

void x86_update_hflags(CPUX86State *env)
{
    uint32_t hf = env->hflags & HF_INHIBIT_IRQ_MASK;
    const SegmentCache *cs = &env->segs[R_CS], *ss = &env->segs[R_SS];

    hf |= compute_cpl(env);
    if (env->cr[0] & CR0_PE)
        hf |= HF_PE_MASK;
    if (env->cr[0] & CR0_PG)
        hf |= HF_PG_MASK;
    if (env->efer & EFER_LMA)
        hf |= HF_LMA_MASK;
    if (env->eflags & VM_MASK)
        hf |= HF_VM_MASK;
    if ((env->efer & EFER_LMA) && (cs->flags & DESC_L_MASK) && !(env->eflags & VM_MASK)) {
        hf |= HF_CS64_MASK | HF_CS32_MASK | HF_SS32_MASK;
    } else {
        if ((env->cr[0] & CR0_PE) && !(env->eflags & VM_MASK)) {
            if (cs->flags & DESC_B_MASK)
                hf |= HF_CS32_MASK;
            if (ss->flags & DESC_B_MASK)
                hf |= HF_SS32_MASK;
        } else if (cs->flags & DESC_B_MASK) {
            /* real mode keeps the cached attributes (unreal mode) */
            hf |= HF_CS32_MASK;
            if (ss->flags & DESC_B_MASK)
                hf |= HF_SS32_MASK;
        }
        if (env->segs[R_DS].base | env->segs[R_ES].base | env->segs[R_SS].base)
            hf |= HF_ADDSEG_MASK;
    }
    if (env->eflags & TF_MASK)
        hf |= HF_TF_MASK;
    if (env->cr[4] & CR4_OSFXSR)
        hf |= HF_OSFXSR_MASK;
    if (env->cr[0] & CR0_EM)
        hf |= HF_EM_MASK;
    if (env->cr[0] & CR0_TS)
        hf |= HF_TS_MASK;
    if (env->cr[0] & CR0_MP)
        hf |= HF_MP_MASK;
    if (env->cr[4] & CR4_SMAP)
        hf |= HF_SMAP_MASK;
    if (env->eflags & AC_MASK)
        hf |= HF_AC_MASK;
    hf |= (uint32_t)iopl(env) << HF_IOPL_SHIFT;
    env->hflags = hf;
}

static void seg_reset(SegmentCache *s, uint16_t sel, uint64_t base, uint32_t flags)
{
    s->selector = sel;
    s->base = base;
    s->limit = 0xffff;
    s->flags = flags;
}

/* Register state after RESET or INIT (SDM vol 3, table 10-1). */
static void reset_registers(CPUX86State *env)
{
    const uint32_t data = DESC_P_MASK | DESC_S_MASK | DESC_W_MASK | DESC_A_MASK;
    const uint32_t code = DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK | DESC_R_MASK | DESC_A_MASK;
    uint32_t eax, ebx, ecx, edx;

    memset(env->regs, 0, sizeof(env->regs));
    x86_cpuid(env, 1, 0, &eax, &ebx, &ecx, &edx);
    env->regs[R_EDX] = eax;                 /* family/model/stepping */
    env->rip = 0xfff0;
    env->eflags = 2;
    sys_cc_set(env, 0);
    env->hflags = 0;
    for (int i = 0; i < 6; i++)
        seg_reset(&env->segs[i], 0, 0, data);
    seg_reset(&env->segs[R_CS], 0xf000, 0xffff0000, code);
    seg_reset(&env->ldt, 0, 0, DESC_P_MASK | (SYS_LDT << DESC_TYPE_SHIFT));
    seg_reset(&env->tr, 0, 0, DESC_P_MASK | (SYS_TSS32_BUSY << DESC_TYPE_SHIFT));
    env->gdt.base = env->idt.base = 0;
    env->gdt.limit = env->idt.limit = 0xffff;
    env->cr[0] = CR0_ET | CR0_CD | CR0_NW;
    env->cr[1] = env->cr[2] = env->cr[3] = env->cr[4] = 0;
    env->cr8 = 0;
    memset(env->dr, 0, sizeof(env->dr));
    env->dr[6] = 0xffff0ff0;
    env->dr[7] = 0x400;
    env->dr6_pending = 0;
    env->efer = 0;
    env->star = env->lstar = env->cstar = env->fmask = env->kernel_gs_base = 0;
    env->sysenter_cs = env->sysenter_esp = env->sysenter_eip = 0;
    env->tsc_deadline = 0;
    env->xcr0 = 1;

    memset(env->fpregs, 0, sizeof(env->fpregs));
    x87_reset(env);                 /* FNINIT state */
    memset(env->xmm, 0, sizeof(env->xmm));
    env->mxcsr = 0x1f80;

    env->halted = false;
    env->wait_for_sipi = false;
    env->exception_index = -1;
    env->error_code = 0;
    env->old_exception = -1;
    env->nmi_masked = false;
    x86_update_hflags(env);
}

void x86_cpu_reset(CPUX86State *env)
{
    bool bsp = !env->vcpu || env->vcpu->index == 0;

    reset_registers(env);
    env->tsc_offset = 0;
    x86_set_tsc(env, 0);
    env->tsc_aux = 0;
    env->pat = 0x0007040600070406ULL;
    env->apic_base = 0xfee00000ULL | (1u << 11) | (bsp ? 1u << 8 : 0);
    env->misc_enable = 1;                    /* fast strings */
    env->mtrr_cap = 0x508;                   /* 8 variable ranges, fixed ranges, WC */
    env->mtrr_deftype = 0;
    memset(env->mtrr_fixed, 0, sizeof(env->mtrr_fixed));
    memset(env->mtrr_var, 0, sizeof(env->mtrr_var));
    env->mcg_ctl = env->mcg_status = 0;
    memset(env->mce_banks, 0, sizeof(env->mce_banks));
    if (!env->a20_mask)
        env->a20_mask = ~0ULL;
    atomic_fetch_and(&env->interrupt_request, CPU_INTERRUPT_HARD);
    if (!bsp) {
        env->halted = true;
        env->wait_for_sipi = true;
    }
}

/* INIT: like reset but MTRRs, PAT, the APIC base and the TSC survive. An AP
 * then waits for a start-up IPI. */
static void x86_cpu_init(CPUX86State *env)
{
    reset_registers(env);
    if (!(env->apic_base & (1u << 8))) {
        env->halted = true;
        env->wait_for_sipi = true;
    }
}

void x86_cpu_interrupt(CPUX86State *env, unsigned mask)
{
    atomic_fetch_or(&env->interrupt_request, mask);
    if (env->vcpu)
        vcpu_kick(env->vcpu);
}

void x86_cpu_reset_interrupt(CPUX86State *env, unsigned mask)
{
    atomic_fetch_and(&env->interrupt_request, ~mask);
}

void x86_cpu_set_irq(CPUX86State *env, int level)
{
    if (level)
        x86_cpu_interrupt(env, CPU_INTERRUPT_HARD);
    else
        x86_cpu_reset_interrupt(env, CPU_INTERRUPT_HARD);
}

bool x86_cpu_has_work(CPUX86State *env)
{
    unsigned ir = atomic_load(&env->interrupt_request);

    if (ir & (CPU_INTERRUPT_INIT | CPU_INTERRUPT_SIPI))
        return true;
    if (env->wait_for_sipi)
        return false;
    if ((ir & CPU_INTERRUPT_NMI) && !env->nmi_masked)
        return true;
    return (ir & CPU_INTERRUPT_HARD) && (env->eflags & IF_MASK);
}

bool x86_cpu_exec_interrupt(CPUX86State *env)
{
    unsigned ir = atomic_load(&env->interrupt_request);

    if (ir & CPU_INTERRUPT_TLBFLUSH) {
        x86_cpu_reset_interrupt(env, CPU_INTERRUPT_TLBFLUSH);
        sys_tlb_flush(env);
    }
    if (ir & CPU_INTERRUPT_INIT) {
        /* A start-up IPI that came after the INIT stays pending (the APIC
         * drops the ones sent before it). */
        x86_cpu_reset_interrupt(env, CPU_INTERRUPT_INIT);
        x86_cpu_init(env);
        sys_tlb_flush(env);
        return true;
    }
    if (ir & CPU_INTERRUPT_SIPI) {
        x86_cpu_reset_interrupt(env, CPU_INTERRUPT_SIPI);
        if (!env->wait_for_sipi)
            return false;
        env->wait_for_sipi = false;
        env->halted = false;
        env->segs[R_CS].selector = (uint16_t)(env->sipi_vector << 8);
        env->segs[R_CS].base = (uint64_t)(env->sipi_vector & 0xff) << 12;
        env->rip = 0;
        x86_update_hflags(env);
        return true;
    }
    if (ir & CPU_INTERRUPT_SMI)
        x86_cpu_reset_interrupt(env, CPU_INTERRUPT_SMI);   /* no SMM */
    if (env->wait_for_sipi || (env->hflags & HF_INHIBIT_IRQ_MASK))
        return false;
    if ((ir & CPU_INTERRUPT_NMI) && !env->nmi_masked) {
        x86_cpu_reset_interrupt(env, CPU_INTERRUPT_NMI);
        env->nmi_masked = true;
        env->halted = false;
        deliver_event(env, EXCP_NMI, EVENT_EXTERNAL, 0, false, env->rip, 0);
        return true;
    }
    if ((ir & CPU_INTERRUPT_HARD) && (env->eflags & IF_MASK) && env->intack) {
        int vector = env->intack(env);
        env->halted = false;
        if (vector < 0)
            return false;
        deliver_event(env, vector & 0xff, EVENT_EXTERNAL, 0, false, env->rip, 0);
        return true;
    }
    return false;
}

/* ---- register dump ("info registers") ---- */

/* A readable summary of the attributes after the raw fields, e.g.
 * "DPL=0 CS64 [-RA]" or "DPL=3 DS   [-WA]" or "TSS32-busy". */
static void dump_seg_attrs(FILE *f, const SegmentCache *s, bool lma)
{
    static const char *const sys_names[16] = {
        [1] = "TSS16-avl", [2] = "LDT", [3] = "TSS16-busy", [4] = "CallGate16",
        [5] = "TaskGate", [6] = "IntGate16", [7] = "TrapGate16", [9] = "TSS32-avl",
        [11] = "TSS32-busy", [12] = "CallGate32", [14] = "IntGate32", [15] = "TrapGate32",
    };
    uint32_t fl = s->flags;
    int type = (fl >> DESC_TYPE_SHIFT) & 15;

    if (!(fl & DESC_P_MASK))
        return;
    fprintf(f, " DPL=%u ", (fl >> DESC_DPL_SHIFT) & 3);
    if (!(fl & DESC_S_MASK)) {
        const char *n = sys_names[type] ? sys_names[type] : "?";
        if (lma && (type == 9 || type == 11))
            n = type == 9 ? "TSS64-avl" : "TSS64-busy";
        fputs(n, f);
    } else if (fl & DESC_CS_MASK) {
        fprintf(f, "%s [%c%c%c]",
                (lma && (fl & DESC_L_MASK)) ? "CS64" : (fl & DESC_B_MASK) ? "CS32" : "CS16",
                (fl & DESC_C_MASK) ? 'C' : '-', (fl & DESC_R_MASK) ? 'R' : '-',
                (fl & DESC_A_MASK) ? 'A' : '-');
    } else {
        fprintf(f, "%s [%c%c%c]", (fl & DESC_B_MASK) ? "DS  " : "DS16",
                (fl & DESC_E_MASK) ? 'E' : '-', (fl & DESC_W_MASK) ? 'W' : '-',
                (fl & DESC_A_MASK) ? 'A' : '-');
    }
}

static void dump_seg(FILE *f, const char *name, const SegmentCache *s, bool wide)
{
    if (wide)
        fprintf(f, "%-3s=%04x %016" PRIx64 " %08x %08x", name, s->selector,
                s->base, s->limit, s->flags);
    else
        fprintf(f, "%-3s=%04x %08x %08x %08x", name, s->selector,
                (uint32_t)s->base, s->limit, s->flags);
    dump_seg_attrs(f, s, wide);
    fputc('\n', f);
}

static void dump_flags(FILE *f, uint32_t fl)
{
    static const struct { uint32_t bit; char c; } bits[] = {
        { DF_MASK, 'D' }, { CC_O, 'O' }, { CC_S, 'S' }, { CC_Z, 'Z' },
        { CC_A, 'A' }, { CC_P, 'P' }, { CC_C, 'C' },
    };
    fputc('[', f);
    for (size_t i = 0; i < ARRAY_SIZE(bits); i++)
        fputc(fl & bits[i].bit ? bits[i].c : '-', f);
    fputc(']', f);
}

/* x87 (status word with TOP, full tag word as "valid" bits) and SSE state. */
static void dump_fpu(CPUX86State *env, FILE *f, bool wide)
{
    unsigned fsw = (env->fpus & ~0x3800u) | ((env->fpstt & 7) << 11);
    fprintf(f, "FCW=%04x FSW=%04x [ST=%u] FTW=%02x MXCSR=%08x\n", env->fpuc, fsw,
            env->fpstt & 7, (unsigned)(~env->fptags & 0xff), env->mxcsr);
    for (int i = 0; i < 8; i++)
        fprintf(f, "FPR%d=%016" PRIx64 " %04x%s", i, env->fpregs[i].mant, env->fpregs[i].sexp,
                (i & 1) ? "\n" : " ");
    for (int i = 0; i < (wide ? 16 : 8); i++)
        fprintf(f, "XMM%02d=%016" PRIx64 "%016" PRIx64 "%s", i, env->xmm[i].q[1], env->xmm[i].q[0],
                (i & 1) ? "\n" : " ");
}

void x86_cpu_dump_state(CPUX86State *env, FILE *f)
{
    static const char *const seg_names[6] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    static const char *const r64[16] = {
        "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
        "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
    };
    bool wide = env->efer & EFER_LMA;
    uint32_t fl = x86_get_eflags(env);
    /* print order like the manuals: A B C D, SI DI BP SP */
    static const int order[8] = { R_EAX, R_EBX, R_ECX, R_EDX, R_ESI, R_EDI, R_EBP, R_ESP };

    if (wide) {
        for (int i = 0; i < 8; i++)
            fprintf(f, "%s=%016" PRIx64 "%s", r64[order[i]], env->regs[order[i]],
                    (i & 3) == 3 ? "\n" : " ");
        for (int i = 8; i < 16; i++)
            fprintf(f, "%-3s=%016" PRIx64 "%s", r64[i], env->regs[i], (i & 3) == 3 ? "\n" : " ");
        fprintf(f, "RIP=%016" PRIx64 " RFL=%08x ", env->rip, fl);
    } else {
        for (int i = 0; i < 8; i++)
            fprintf(f, "E%s=%08x%s", r64[order[i]] + 1, (uint32_t)env->regs[order[i]],
                    (i & 3) == 3 ? "\n" : " ");
        fprintf(f, "EIP=%08x EFL=%08x ", (uint32_t)env->rip, fl);
    }
    dump_flags(f, fl);
    fprintf(f, " CPL=%d II=%d A20=%d SMM=0 HLT=%d\n", cpl(env),
            !!(env->hflags & HF_INHIBIT_IRQ_MASK), !!(env->a20_mask & (1u << 20)),
            env->halted);
    for (int i = 0; i < 6; i++)
        dump_seg(f, seg_names[i], &env->segs[i], wide);
    dump_seg(f, "LDT", &env->ldt, wide);
    dump_seg(f, "TR", &env->tr, wide);
    if (wide) {
        fprintf(f, "GDT=     %016" PRIx64 " %08x\n", env->gdt.base, env->gdt.limit);
        fprintf(f, "IDT=     %016" PRIx64 " %08x\n", env->idt.base, env->idt.limit);
        fprintf(f, "CR0=%08x CR2=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%08x\n",
                (uint32_t)env->cr[0], env->cr[2], env->cr[3], (uint32_t)env->cr[4]);
        for (int i = 0; i < 4; i++)
            fprintf(f, "DR%d=%016" PRIx64 " ", i, env->dr[i]);
        fprintf(f, "\nDR6=%016" PRIx64 " DR7=%016" PRIx64 "\n", env->dr[6], env->dr[7]);
    } else {
        fprintf(f, "GDT=     %08x %08x\n", (uint32_t)env->gdt.base, env->gdt.limit);
        fprintf(f, "IDT=     %08x %08x\n", (uint32_t)env->idt.base, env->idt.limit);
        fprintf(f, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", (uint32_t)env->cr[0],
                (uint32_t)env->cr[2], (uint32_t)env->cr[3], (uint32_t)env->cr[4]);
        for (int i = 0; i < 4; i++)
            fprintf(f, "DR%d=%08x ", i, (uint32_t)env->dr[i]);
        fprintf(f, "\nDR6=%08x DR7=%08x\n", (uint32_t)env->dr[6], (uint32_t)env->dr[7]);
    }
    fprintf(f, "EFER=%016" PRIx64 "\n", env->efer);
    dump_fpu(env, f, wide);
}

/* machine_set_a20 (i8042, port 0x92): every CPU takes the new mask and
 * flushes its TLB itself at its next block boundary. */
void x86_machine_a20_changed(Machine *m, bool enabled)
{
    for (int i = 0; i < m->ncpus; i++) {
        CPUX86State *env = m->cpus[i] ? m->cpus[i]->env : NULL;
        if (!env)
            continue;
        env->a20_mask = enabled ? ~0ULL : ~(1ULL << 20);
        x86_cpu_interrupt(env, CPU_INTERRUPT_TLBFLUSH);
    }
}
