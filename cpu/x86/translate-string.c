/* String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with their
 * REP forms, run by one helper. The registers are updated after every
 * iteration, so a fault in the middle restarts exactly where it stopped; a
 * REP instruction yields after a batch of iterations or when an interrupt is
 * pending (the translated code then runs the same instruction again). */
#include <string.h>
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"
#include "cpu/x86/translate-helpers.h"
#include "system/util.h"
#include "accel/tcg-cpu.h"

#define STRING_BATCH 4096

typedef struct StringOp {
    CPUX86State *env;
    unsigned op, size, asize, seg, rep;
    uint64_t amask;
    int64_t step;
    int mmu;
    uintptr_t ra;
} StringOp;

static uint64_t seg_linear_rw(const StringOp *o, int seg, uint64_t off, bool write)
{
    CPUX86State *env = o->env;
    off &= o->amask;
    if (env->hflags & HF_CS64_MASK)
        return (seg == R_FS || seg == R_GS) ? env->segs[seg].base + off : off;
    /* real and V86 mode check limits too (x86_seg_check skips the types) */
    if (!x86_seg_is_flat(&env->segs[seg]))
        return x86_seg_check(env, seg, off, o->size, write, o->ra);
    return off;
}

#define seg_linear(o, seg, off) seg_linear_rw(o, seg, off, false)
#define seg_linear_dst(o, off) seg_linear_rw(o, R_ES, off, true)

static void advance(const StringOp *o, int reg)
{
    CPUX86State *env = o->env;
    uint64_t v = (env->regs[reg] + (uint64_t)o->step) & o->amask;
    if (o->asize == 8)
        env->regs[reg] = v;
    else if (o->asize == 4)
        env->regs[reg] = v;   /* 32-bit address size writes the whole register */
    else
        env->regs[reg] = (env->regs[reg] & ~0xffffULL) | v;
}

/* An address register after an iteration: a 32-bit address size writes the
 * whole register (zero-extended), a 16-bit one only its low half. */
static void set_addr_reg(const StringOp *o, int reg, uint64_t v)
{
    CPUX86State *env = o->env;
    v &= o->amask;
    env->regs[reg] = o->asize == 2 ? (env->regs[reg] & ~0xffffULL) | v : v;
}

static void set_acc(CPUX86State *env, unsigned size, uint64_t v)
{
    if (size == 4)
        env->regs[R_EAX] = (uint32_t)v;
    else if (size == 8)
        env->regs[R_EAX] = v;
    else
        env->regs[R_EAX] = (env->regs[R_EAX] & ~size_mask(size)) | (v & size_mask(size));
}

static void compare(CPUX86State *env, unsigned size, uint64_t a, uint64_t b)
{
    env->cc_op = CC_OP(CC_K_SUB, size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3);
    env->cc_dst = (a - b) & size_mask(size);
    env->cc_src = b & size_mask(size);
}

static void one_iteration(const StringOp *o)
{
    CPUX86State *env = o->env;
    uint64_t v, a;
    uint32_t port = env->regs[R_EDX] & 0xffff;
    switch (o->op) {
    case STR_MOVS:
        v = cpu_ld(env, seg_linear(o, o->seg, env->regs[R_ESI]), o->size, o->mmu, o->ra);
        cpu_st(env, seg_linear_dst(o, env->regs[R_EDI]), v, o->size, o->mmu, o->ra);
        advance(o, R_ESI);
        advance(o, R_EDI);
        break;
    case STR_STOS:
        cpu_st(env, seg_linear_dst(o, env->regs[R_EDI]), env->regs[R_EAX] & size_mask(o->size),
               o->size, o->mmu, o->ra);
        advance(o, R_EDI);
        break;
    case STR_LODS:
        v = cpu_ld(env, seg_linear(o, o->seg, env->regs[R_ESI]), o->size, o->mmu, o->ra);
        set_acc(env, o->size, v);
        advance(o, R_ESI);
        break;
    case STR_CMPS:
        a = cpu_ld(env, seg_linear(o, o->seg, env->regs[R_ESI]), o->size, o->mmu, o->ra);
        v = cpu_ld(env, seg_linear(o, R_ES, env->regs[R_EDI]), o->size, o->mmu, o->ra);
        compare(env, o->size, a, v);
        advance(o, R_ESI);
        advance(o, R_EDI);
        break;
    case STR_SCAS:
        v = cpu_ld(env, seg_linear(o, R_ES, env->regs[R_EDI]), o->size, o->mmu, o->ra);
        compare(env, o->size, env->regs[R_EAX], v);
        advance(o, R_EDI);
        break;
    case STR_INS: {
        uint64_t dst = seg_linear_dst(o, env->regs[R_EDI]);
        x86_check_io(env, port, o->size, o->ra);
        /* Probe the destination first so a #PF does not lose the port read. */
        cpu_st(env, dst, cpu_ld(env, dst, o->size, o->mmu, o->ra), o->size, o->mmu, o->ra);
        v = x86_port_read(env, port, o->size);
        cpu_st(env, dst, v, o->size, o->mmu, o->ra);
        advance(o, R_EDI);
        break;
    }
    default: /* OUTS */
        x86_check_io(env, port, o->size, o->ra);
        v = cpu_ld(env, seg_linear(o, o->seg, env->regs[R_ESI]), o->size, o->mmu, o->ra);
        x86_port_write(env, port, v, o->size);
        advance(o, R_ESI);
        break;
    }
}

static bool seg_flat(CPUX86State *env, int seg)
{
    const SegmentCache *sc = &env->segs[seg];
    if (env->hflags & HF_CS64_MASK)
        return seg != R_FS && seg != R_GS;
    return sc->base == 0 && sc->limit == 0xffffffffu && (sc->flags & DESC_P_MASK) &&
           (sc->flags & (DESC_CS_MASK | DESC_W_MASK | DESC_E_MASK)) == DESC_W_MASK;
}

/* n elements of size bytes from d on, stepping by step (negative: down). A
 * value whose bytes are all equal (zero, typically) is a memset. */
static void bulk_store(uint8_t *d, unsigned size, int64_t step, uint64_t n, uint64_t v)
{
    uint64_t rep = 0x0101010101010101ULL * (uint8_t)v;
    if (size == 8 ? v == rep : (v & size_mask(size)) == (rep & size_mask(size))) {
        uint64_t span = n * size;
        memset(step < 0 ? d - span + size : d, (uint8_t)v, span);
        return;
    }
    for (uint64_t i = 0; i < n; i++, d += step)
        stn(d, size, v);
}

/* MOVS element by element, as hardware copies: the same as memmove unless
 * the destination overlaps the source ahead of the direction of the copy
 * (then the elements already copied are read again). */
static void bulk_copy(uint8_t *d, const uint8_t *sp, unsigned size, int64_t step, uint64_t n)
{
    uint64_t span = n * size;
    const uint8_t *lo_d = step < 0 ? d - span + size : d, *lo_s = step < 0 ? sp - span + size : sp;
    bool apart = lo_d + span <= lo_s || lo_s + span <= lo_d;
    if (apart || (step > 0 ? lo_d <= lo_s : lo_d >= lo_s)) {
        memmove((void *)lo_d, lo_s, span);
        return;
    }
    for (uint64_t i = 0; i < n; i++, d += step, sp += step)
        stn(d, size, ldn(sp, size));
}

/* REP MOVS / REP STOS on plain RAM: whole runs inside one page of each
 * operand at a time, straight on host memory (the registers are updated per
 * run, so a fault on the next page restarts exactly). Returns the number of
 * iterations done (0: take the generic path). */
static uint64_t rep_fast_run(const StringOp *o, uint64_t cx)
{
    CPUX86State *env = o->env;
    if (o->asize != 8 && (o->asize != 4 || !seg_flat(env, R_ES) ||
                          (o->op == STR_MOVS && !seg_flat(env, o->seg))))
        return 0;
    bool down = o->step < 0;
    uint64_t di = env->regs[R_EDI] & o->amask, si = env->regs[R_ESI] & o->amask;
    uint64_t dlin = seg_linear(o, R_ES, di), slin = o->op == STR_MOVS ? seg_linear(o, o->seg, si) : 0;
    /* iterations that stay inside the current page of each operand */
    uint64_t room_d = down ? (dlin & ~TARGET_PAGE_MASK) / o->size + 1
                           : (TARGET_PAGE_SIZE - (dlin & ~TARGET_PAGE_MASK)) / o->size;
    uint64_t n = MIN(cx, room_d);
    /* the first element itself must not straddle a page */
    if ((dlin & ~TARGET_PAGE_MASK) + o->size > TARGET_PAGE_SIZE ||
        (o->op == STR_MOVS && (slin & ~TARGET_PAGE_MASK) + o->size > TARGET_PAGE_SIZE))
        return 0;
    if (o->op == STR_MOVS) {
        uint64_t room_s = down ? (slin & ~TARGET_PAGE_MASK) / o->size + 1
                               : (TARGET_PAGE_SIZE - (slin & ~TARGET_PAGE_MASK)) / o->size;
        n = MIN(n, room_s);
    }
    /* the run must not wrap the address size */
    uint64_t span = n * o->size;
    if (o->asize == 4 && (down ? di < span - o->size || (o->op == STR_MOVS && si < span - o->size)
                               : di + span > 0x100000000ULL ||
                                 (o->op == STR_MOVS && si + span > 0x100000000ULL)))
        return 0;
    if (n == 0)
        return 0;
    /* the source first: when both pages fault, the read faults first */
    const uint8_t *sp = o->op == STR_MOVS ? tlb_host_ptr(env, slin, false, o->mmu, o->ra) : NULL;
    if (o->op == STR_MOVS && !sp)
        return 0;
    uint8_t *d = tlb_host_ptr(env, dlin, true, o->mmu, o->ra);
    if (!d)
        return 0;
    if (o->op == STR_STOS)
        bulk_store(d, o->size, o->step, n, env->regs[R_EAX]);
    else {
        bulk_copy(d, sp, o->size, o->step, n);
        set_addr_reg(o, R_ESI, si + (uint64_t)o->step * n);
    }
    set_addr_reg(o, R_EDI, di + (uint64_t)o->step * n);
    uint64_t left = (cx - n) & o->amask;
    if (o->asize == 2)
        env->regs[R_ECX] = (env->regs[R_ECX] & ~0xffffULL) | left;
    else
        env->regs[R_ECX] = left;
    return n;
}

uint64_t helper_string(CPUX86State *env, uint64_t desc)
{
    StringOp o = {
        .env = env,
        .op = desc & 15,
        .size = (desc >> 4) & 15,
        .asize = (desc >> 8) & 15,
        .seg = (desc >> 12) & 7,
        .rep = (desc >> 16) & 3,
        .mmu = x86_mmu_index(env),
        .ra = GETPC(),
    };
    o.amask = size_mask(o.asize);
    o.step = (env->eflags & DF_MASK) ? -(int64_t)o.size : (int64_t)o.size;
    if (!o.rep) {
        one_iteration(&o);
        return 0;
    }
    bool cond = o.op == STR_CMPS || o.op == STR_SCAS;
    if (o.op == STR_MOVS || o.op == STR_STOS) {
        /* bulk runs, a page at a time, within the batch budget */
        for (unsigned done = 0; done < 64 * STRING_BATCH;) {
            uint64_t cx = env->regs[R_ECX] & o.amask;
            if (cx == 0)
                return 0;
            uint64_t n = rep_fast_run(&o, cx);
            if (!n)
                break;
            done += (unsigned)n;
            if (atomic_load(&env->interrupt_request))
                return (env->regs[R_ECX] & o.amask) != 0;
        }
    }
    for (unsigned n = 0;; n++) {
        uint64_t cx = env->regs[R_ECX] & o.amask;
        if (cx == 0)
            return 0;
        if (n >= STRING_BATCH || (n && atomic_load(&env->interrupt_request)))
            return 1;
        one_iteration(&o);
        cx = (cx - 1) & o.amask;
        if (o.asize == 2)
            env->regs[R_ECX] = (env->regs[R_ECX] & ~0xffffULL) | cx;
        else
            env->regs[R_ECX] = cx;
        if (cx == 0)
            return 0;
        if (cond) {
            bool zf = env->cc_dst == 0;
            if ((o.rep == 1 && !zf) || (o.rep == 2 && zf))
                return 0;
        }
    }
}
