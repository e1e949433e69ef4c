/* Delivery of interrupts and exceptions: real mode (IVT), protected mode
 * (interrupt/trap/task gates, privilege change with a TSS stack switch, V86
 * exit), long mode (64-bit IDT, IST, 16-byte aligned frames); double and
 * triple faults; INT n / INT3 / INTO / ICEBP; HLT. */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include "cpu/x86/seg.h"
#include "system/log.h"
#include "system/machine.h"

bool x86_exception_has_error_code(int vector)
{
    /* #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP */
    return vector >= 0 && vector < 32 && ((1u << vector) & 0x00227d00u);
}

/* ---- double and triple faults ---- */

enum { CLASS_BENIGN, CLASS_CONTRIBUTORY, CLASS_PAGE_FAULT, CLASS_DOUBLE_FAULT };

static int exception_class(int vector)
{
    switch (vector) {
    case EXCP_DE: case EXCP_TS: case EXCP_NP: case EXCP_SS: case EXCP_GP:
        return CLASS_CONTRIBUTORY;
    case EXCP_PF:
        return CLASS_PAGE_FAULT;
    case EXCP_DF:
        return CLASS_DOUBLE_FAULT;
    default:
        return CLASS_BENIGN;
    }
}

/* old_exception remembers the event being delivered (256 + vector for
 * external events, which are benign) until delivery completes: a second
 * exception raised meanwhile combines with it (SDM vol 3, table 6-5).
 * Returns the vector to deliver, or -1 after a triple fault. */
static int combine_with_pending(CPUX86State *env, int vector, uint32_t *error_code)
{
    int first = env->old_exception;

    if (first < 0 || first >= 256)
        return vector;
    int c1 = exception_class(first), c2 = exception_class(vector);
    if (c1 == CLASS_DOUBLE_FAULT) {
        LOG(LOG_INT, "triple fault (exception %d while delivering #DF)\n", vector);
        env->old_exception = -1;
        env->exception_index = -1;
        env->halted = true;
        machine_request_reset();
        return -1;
    }
    if ((c1 == CLASS_CONTRIBUTORY && c2 == CLASS_CONTRIBUTORY) ||
        (c1 == CLASS_PAGE_FAULT && (c2 == CLASS_CONTRIBUTORY || c2 == CLASS_PAGE_FAULT))) {
        *error_code = 0;
        return EXCP_DF;
    }
    return vector;
}

/* The EFLAGS image an event pushes: fault-class exceptions set RF in it, so
 * that IRET back to the faulting instruction does not re-trigger an
 * instruction breakpoint (SDM vol 3, 18.3.1.1). */
static uint32_t pushed_eflags(CPUX86State *env)
{
    /* #DE #BR #UD #NM #TS #NP #SS #GP #PF #MF #AC #XM #VE */
    static const uint32_t faults = 0x001b7ce1u;
    uint32_t fl = x86_get_eflags(env);
    int ev = env->old_exception;
    if (ev >= 0 && ev < 32 && ((faults >> ev) & 1))
        fl |= RF_MASK;
    return fl;
}

/* ---- real mode ---- */

static void deliver_real(CPUX86State *env, int vector, uint64_t next_rip, uintptr_t ra)
{
    uint32_t off = (uint32_t)vector * 4;

    if (off + 3 > env->idt.limit)
        raise_err(env, EXCP_GP, (uint32_t)vector * 8 + 2, ra);
    uint64_t entry = x86_ld_linear(env, env->idt.base + off, 4, SYS_IDX, ra);
    /* a big (B=1) real-mode stack uses ESP */
    StackPtr s = stack_current(env, 0);
    stack_push(env, &s, pushed_eflags(env), 2, ra);
    stack_push(env, &s, env->segs[R_CS].selector, 2, ra);
    stack_push(env, &s, next_rip, 2, ra);
    set_rsp_masked(env, s.sp, s.mask);
    env->eflags &= ~(uint64_t)(IF_MASK | TF_MASK | AC_MASK | RF_MASK);
    x86_load_seg_real(env, R_CS, (uint16_t)(entry >> 16));
    env->rip = entry & 0xffff;
}

/* ---- protected and long mode: the gate and its target ---- */

typedef struct Gate {
    Desc d;
    int type;
    uint32_t selector;
    uint64_t offset;
    int ist;
} Gate;

static void read_gate(CPUX86State *env, int vector, int kind, uint32_t ext, Gate *g, uintptr_t ra)
{
    bool lm = long_mode(env);
    uint32_t size = lm ? 16 : 8, idt_err = (uint32_t)vector * 8 + 2 + ext;
    uint64_t addr = env->idt.base + (uint64_t)vector * size;

    if ((uint32_t)vector * size + size - 1 > env->idt.limit)
        raise_err(env, EXCP_GP, idt_err, ra);
    g->d.lo = (uint32_t)x86_ld_linear(env, addr, 4, SYS_IDX, ra);
    g->d.hi = (uint32_t)x86_ld_linear(env, addr + 4, 4, SYS_IDX, ra);
    g->d.hi2 = lm ? (uint32_t)x86_ld_linear(env, addr + 8, 4, SYS_IDX, ra) : 0;
    g->type = desc_type(&g->d);
    static const uint32_t legacy_ok = 1u << SYS_TASKGATE | 1u << SYS_INTGATE16 |
                                      1u << SYS_TRAPGATE16 | 1u << SYS_INTGATE32 |
                                      1u << SYS_TRAPGATE32;
    static const uint32_t long_ok = 1u << SYS_INTGATE32 | 1u << SYS_TRAPGATE32;
    if (!desc_is_system(&g->d) || !((lm ? long_ok : legacy_ok) & (1u << g->type)))
        raise_err(env, EXCP_GP, idt_err, ra);
    if ((kind == EVENT_SOFT) && desc_dpl(&g->d) < cpl(env))
        raise_err(env, EXCP_GP, (uint32_t)vector * 8 + 2, ra);
    if (!desc_present(&g->d))
        raise_err(env, EXCP_NP, idt_err, ra);
    g->selector = g->d.lo >> 16;
    g->offset = (g->d.lo & 0xffff) | (g->d.hi & 0xffff0000u);
    if (g->type == SYS_INTGATE16 || g->type == SYS_TRAPGATE16)
        g->offset &= 0xffff;
    if (lm)
        g->offset |= (uint64_t)g->d.hi2 << 32;
    g->ist = lm ? g->d.hi & 7 : 0;
}

static void read_gate_target(CPUX86State *env, const Gate *g, uint32_t ext, Desc *cd, uintptr_t ra)
{
    uint32_t err = (g->selector & 0xfffc) | ext;

    if ((g->selector & 0xfffc) == 0)
        raise_err(env, EXCP_GP, ext, ra);
    if (!seg_read_desc(env, g->selector, cd, false, ra))
        raise_err(env, EXCP_GP, err, ra);
    if (!desc_is_code(cd) || desc_dpl(cd) > cpl(env))
        raise_err(env, EXCP_GP, err, ra);
    if (long_mode(env) && (!(cd->hi & DESC_L_MASK) || (cd->hi & DESC_B_MASK)))
        raise_err(env, EXCP_GP, err, ra);
    if (!desc_present(cd))
        raise_err(env, EXCP_NP, err, ra);
}

static void clear_flags_on_entry(CPUX86State *env, int gate_type)
{
    uint64_t clear = TF_MASK | VM_MASK | RF_MASK | NT_MASK;
    if (gate_type == SYS_INTGATE16 || gate_type == SYS_INTGATE32)
        clear |= IF_MASK;
    env->eflags &= ~clear;
}

static void deliver_long(CPUX86State *env, int vector, int kind, uint32_t error_code,
                         bool has_error_code, uint64_t next_rip, uint32_t ext, uintptr_t ra)
{
    Gate g;
    Desc cd;

    read_gate(env, vector, kind, ext, &g, ra);
    read_gate_target(env, &g, ext, &cd, ra);
    int old_cpl = cpl(env), new_cpl = desc_is_conforming(&cd) ? old_cpl : desc_dpl(&cd);
    uint64_t rsp = env->regs[R_ESP];
    if (new_cpl != old_cpl || g.ist)
        rsp = tss64_get_stack(env, new_cpl, g.ist, ext, ra);
    if (!x86_is_canonical(env, rsp) || !x86_is_canonical(env, g.offset))
        raise_err(env, g.ist || new_cpl != old_cpl ? EXCP_SS : EXCP_GP, ext, ra);
    StackPtr s = { 0, rsp & ~0xfULL, ~0ULL };
    stack_push(env, &s, env->segs[R_SS].selector, 8, ra);
    stack_push(env, &s, env->regs[R_ESP], 8, ra);
    stack_push(env, &s, pushed_eflags(env), 8, ra);
    stack_push(env, &s, env->segs[R_CS].selector, 8, ra);
    stack_push(env, &s, next_rip, 8, ra);
    if (has_error_code)
        stack_push(env, &s, error_code, 8, ra);

    seg_set_accessed(env, g.selector, &cd, ra);
    if (new_cpl != old_cpl)
        seg_load_null(env, R_SS, (uint32_t)new_cpl, new_cpl);
    load_cs_cpl(env, g.selector, &cd, new_cpl);
    env->regs[R_ESP] = s.sp;
    env->rip = g.offset;
    clear_flags_on_entry(env, g.type);
    x86_update_hflags(env);
}

static void deliver_protected(CPUX86State *env, int vector, int kind, uint32_t error_code,
                              bool has_error_code, uint64_t next_rip, uint32_t ext, uintptr_t ra)
{
    Gate g;
    Desc cd, ssd;

    read_gate(env, vector, kind, ext, &g, ra);
    if (g.type == SYS_TASKGATE) {
        Desc td;
        uint32_t tsel = g.selector;
        if ((tsel & 4) || !seg_read_desc(env, tsel, &td, false, ra) || !desc_is_system(&td) ||
            (desc_type(&td) != SYS_TSS32_AVAIL && desc_type(&td) != SYS_TSS16_AVAIL))
            raise_err(env, EXCP_TS, (tsel & 0xfffc) | ext, ra);
        if (!desc_present(&td))
            raise_err(env, EXCP_NP, (tsel & 0xfffc) | ext, ra);
        task_switch(env, tsel, &td, TASK_FROM_INT, next_rip, ext, ra);
        if (has_error_code) {
            unsigned size = (desc_type(&td) & 8) ? 4 : 2;
            StackPtr s = stack_current(env, ext);
            stack_push(env, &s, error_code, size, 0);
            set_rsp_masked(env, s.sp, s.mask);
        }
        return;
    }
    read_gate_target(env, &g, ext, &cd, ra);
    int old_cpl = cpl(env), dpl = desc_dpl(&cd);
    bool inner = !desc_is_conforming(&cd) && dpl < old_cpl;
    bool from_v86 = v86_mode(env);
    unsigned size = (g.type & 8) ? 4 : 2;
    uint32_t ss_sel = env->segs[R_SS].selector;
    StackPtr s;

    if (from_v86 && (!inner || dpl != 0))
        raise_err(env, EXCP_GP, (g.selector & 0xfffc) | ext, ra);
    if (inner) {
        uint32_t esp;
        tss_get_stack(env, dpl, &ss_sel, &esp, ext, ra);
        seg_check_stack(env, ss_sel, dpl, &ssd, EXCP_TS, ext, ra);
        uint64_t mask = (ssd.hi & DESC_B_MASK) ? 0xffffffffULL : 0xffff;
        s = (StackPtr){ desc_base(&ssd), esp & mask, mask };
        stack_check_desc(&s, &ssd, (ss_sel & 0xfffc) | ext);
    } else {
        s = stack_current(env, ext);
    }
    if (g.offset > desc_limit(&cd))
        raise_err(env, EXCP_GP, ext, ra);
    stack_reserve(env, &s, (from_v86 ? 4 : 0) + (inner ? 2 : 0) + 3 + has_error_code, size, ra);
    if (from_v86) {
        stack_push(env, &s, env->segs[R_GS].selector, size, ra);
        stack_push(env, &s, env->segs[R_FS].selector, size, ra);
        stack_push(env, &s, env->segs[R_DS].selector, size, ra);
        stack_push(env, &s, env->segs[R_ES].selector, size, ra);
    }
    if (inner) {
        stack_push(env, &s, env->segs[R_SS].selector, size, ra);
        stack_push(env, &s, env->regs[R_ESP], size, ra);
    }
    stack_push(env, &s, pushed_eflags(env), size, ra);
    stack_push(env, &s, env->segs[R_CS].selector, size, ra);
    stack_push(env, &s, next_rip, size, ra);
    if (has_error_code)
        stack_push(env, &s, error_code, size, ra);

    seg_set_accessed(env, g.selector, &cd, ra);
    if (inner) {
        seg_set_accessed(env, ss_sel, &ssd, ra);
        seg_cache_load(env, R_SS, ss_sel, &ssd);
    }
    if (from_v86) {
        for (int seg = R_ES; seg <= R_GS; seg++)
            if (seg != R_CS && seg != R_SS)
                seg_load_null(env, seg, 0, 0);
    }
    clear_flags_on_entry(env, g.type);
    load_cs_cpl(env, g.selector, &cd, inner ? dpl : old_cpl);
    set_rsp_masked(env, s.sp, s.mask);
    env->rip = g.offset;
    x86_update_hflags(env);
}

/* -d int: one line per event in the form QEMU users grep for
 * ("v=0e e=0002 i=0 cpl=3 IP=..."), then the registers, except for external
 * interrupts, which only get the line. */
static void log_event(CPUX86State *env, int vector, int kind, uint32_t error_code)
{
    static atomic_uint count;
    const SegmentCache *cs = &env->segs[R_CS], *ss = &env->segs[R_SS];

    log_printf("%6u: v=%02x e=%04x i=%d cpl=%d IP=%04x:%016" PRIx64 " pc=%016" PRIx64
               " SP=%04x:%016" PRIx64 " %s=%016" PRIx64 "%s\n",
               atomic_fetch_add(&count, 1), vector, error_code, kind == EVENT_SOFT, cpl(env),
               cs->selector, env->rip, cs->base + env->rip,
               ss->selector, env->regs[R_ESP], vector == EXCP_PF ? "CR2" : "env->regs[R_EAX]",
               vector == EXCP_PF ? env->cr[2] : env->regs[R_EAX],
               kind == EVENT_EXTERNAL ? " (external)" : "");
    if (kind != EVENT_EXTERNAL && log_file())
        x86_cpu_dump_state(env, log_file());
}

void deliver_event(CPUX86State *env, int vector, int kind, uint32_t error_code,
                   bool has_error_code, uint64_t next_rip, uintptr_t ra)
{
    uint32_t ext = (kind == EVENT_SOFT) ? 0 : 1;

    if (kind == EVENT_EXCEPTION) {
        vector = combine_with_pending(env, vector, &error_code);
        if (vector < 0)
            return;
        has_error_code = x86_exception_has_error_code(vector);
    }
    if (log_enabled(LOG_INT))
        log_event(env, vector, kind, error_code);
    /* a fault while delivering this event combines with it */
    env->old_exception = kind == EVENT_EXCEPTION ? vector : kind == EVENT_SOFT ? -1 : 256 + vector;
    if (!prot_mode(env))
        deliver_real(env, vector, next_rip, ra);
    else if (long_mode(env))
        deliver_long(env, vector, kind, error_code, has_error_code, next_rip, ext, ra);
    else
        deliver_protected(env, vector, kind, error_code, has_error_code, next_rip, ext, ra);
    env->old_exception = -1;
    env->halted = false;
    env->hflags &= ~HF_INHIBIT_IRQ_MASK;
}

void x86_do_interrupt(CPUX86State *env, int vector, int is_soft_int,
                      int error_code, int has_error_code, uint64_t next_rip)
{
    deliver_event(env, vector & 0xff, is_soft_int ? EVENT_SOFT : EVENT_EXCEPTION,
                  (uint32_t)error_code, has_error_code, next_rip, 0);
}

void x86_deliver_pending_exception(CPUX86State *env)
{
    int vector = env->exception_index;

    if (vector < 0)
        return;
    env->exception_index = -1;
    deliver_event(env, vector, EVENT_EXCEPTION, (uint32_t)env->error_code,
                  x86_exception_has_error_code(vector), env->rip, 0);
}

/* ---- INT n, INT3, INTO, ICEBP, HLT ---- */

/* CR4.VME: is INT vector redirected to the 8086 program's own IVT? Bit
 * clear in the TSS's interrupt redirection bitmap (the 32 bytes below the
 * I/O permission bitmap) means yes. A TSS without room for it: #GP(0). */
static bool vme_redirected(CPUX86State *env, int vector, uintptr_t ra)
{
    int type = (env->tr.flags >> DESC_TYPE_SHIFT) & 15;
    if (!(env->tr.flags & DESC_P_MASK) || (type != SYS_TSS32_AVAIL && type != SYS_TSS32_BUSY) ||
        env->tr.limit < 103)
        raise_gp0(env, ra);
    uint32_t iomap = (uint32_t)x86_ld_linear(env, env->tr.base + 102, 2, SYS_IDX, ra);
    uint32_t off = iomap - 32 + (uint32_t)vector / 8;
    if (iomap < 32 || off > env->tr.limit)
        raise_gp0(env, ra);
    uint8_t bits = (uint8_t)x86_ld_linear(env, env->tr.base + off, 1, SYS_IDX, ra);
    return !(bits & (1u << (vector & 7)));
}

/* A redirected software interrupt: 8086 style through the IVT at linear 0 of
 * the V86 task, on the 8086 program's stack; with IOPL < 3 the pushed IF is
 * VIF and IOPL reads 3, and VIF (not IF) is cleared. */
static void vme_int(CPUX86State *env, int vector, uint64_t next_rip, uintptr_t ra)
{
    uint32_t entry = (uint32_t)x86_ld_linear(env, (uint64_t)vector * 4, 4, MMU_USER_IDX, ra);
    uint32_t fl = x86_get_eflags(env) & 0xffff;
    bool virt = iopl(env) < 3;
    if (virt)
        fl = (fl & ~(uint32_t)IF_MASK) | IOPL_MASK | ((env->eflags & VIF_MASK) ? IF_MASK : 0);
    uint64_t sp = env->regs[R_ESP] & 0xffff;
    uint64_t sp1 = (sp - 2) & 0xffff, sp2 = (sp - 4) & 0xffff, sp3 = (sp - 6) & 0xffff;
    /* x86_seg_check: each word is limit-checked (#SS(0) at 0xffff) */
    x86_st_linear(env, x86_seg_check(env, R_SS, sp1, 2, true, ra), fl, 2, MMU_USER_IDX, ra);
    x86_st_linear(env, x86_seg_check(env, R_SS, sp2, 2, true, ra), env->segs[R_CS].selector, 2,
                  MMU_USER_IDX, ra);
    x86_st_linear(env, x86_seg_check(env, R_SS, sp3, 2, true, ra), next_rip & 0xffff, 2,
                  MMU_USER_IDX, ra);
    set_rsp_masked(env, sp3, 0xffff);
    env->eflags &= ~(uint64_t)(TF_MASK | RF_MASK | (virt ? VIF_MASK : IF_MASK));
    x86_load_seg_real(env, R_CS, (uint16_t)(entry >> 16));
    env->rip = entry & 0xffff;
    x86_update_hflags(env);
}

void x86_int(CPUX86State *env, int vector, uint64_t next_rip, uintptr_t ra)
{
    vector &= 0xff;
    if (v86_mode(env) && (env->cr[4] & CR4_VME) && vme_redirected(env, vector, ra)) {
        vme_int(env, vector, next_rip, ra);
        return;
    }
    if (v86_mode(env) && iopl(env) < 3)
        raise_gp0(env, ra);
    deliver_event(env, vector & 0xff, EVENT_SOFT, 0, false, next_rip, ra);
}

void x86_int3(CPUX86State *env, uint64_t next_rip, uintptr_t ra)
{
    deliver_event(env, EXCP_BP, EVENT_SOFT, 0, false, next_rip, ra);
}

void x86_into(CPUX86State *env, uint64_t next_rip, uintptr_t ra)
{
    /* only the one-byte INT3 escapes the V86 IOPL check */
    if (v86_mode(env) && iopl(env) < 3)
        raise_gp0(env, ra);
    if (x86_get_eflags(env) & CC_O)
        deliver_event(env, EXCP_OF, EVENT_SOFT, 0, false, next_rip, ra);
}

void x86_icebp(CPUX86State *env, uint64_t next_rip, uintptr_t ra)
{
    deliver_event(env, EXCP_DB, EVENT_ICEBP, 0, false, next_rip, ra);
}

void x86_hlt(CPUX86State *env, uint64_t next_rip, uintptr_t ra)
{
    if (cpl(env) != 0)
        raise_gp0(env, ra);
    sys_restore_state(env, ra);
    env->rip = next_rip;
    env->halted = true;
    env->hflags &= ~HF_INHIBIT_IRQ_MASK;
    sys_loop_exit(env);
}
