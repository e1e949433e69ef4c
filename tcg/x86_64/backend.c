/* The x86-64 host backend: IR -> machine code.
 *
 * Registers: rbp holds env, r12 the vCPU's TCGCPU (TLB and exit flag); the
 * other 13 general registers are allocated to temps op by op (a local
 * allocator driven by the liveness pass: values stay in registers within a
 * basic block, globals are written back when the IR contract says so). The
 * stack frame holds spill slots for every temp.
 *
 * Guest memory accesses inline the TLB lookup (index, compare, add) and call
 * the C slow path out of line, saving the caller-saved registers it needs.
 *
 * Code lives in a per-vCPU buffer mapped twice from a memfd: a writable view
 * and an executable one (W^X); hosts that refuse get one RWX mapping. */
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "accel/tcg-cpu.h"
#include "system/log.h"
#include "system/util.h"
#include "tcg/x86_64/emit.h"

TranslationBlock *tb_lookup_fast(CPUX86State *env);

#define CODE_BUF_SIZE (64 * MiB)   /* per vCPU, unless -accel tcg,tb-size=MIB */
size_t tcg_code_buffer_size = CODE_BUF_SIZE;
#define FRAME_SIZE (TCG_MAX_TEMPS * 8 + 8)   /* keeps rsp 16-byte aligned in TB code */

typedef struct CodeBuffer {
    uint8_t *rx, *rw;
    size_t size, used, first_tb;
    uintptr_t prologue, epilogue, exit0;
    struct Gen *gen;      /* the code generator's working state */
} CodeBuffer;

static const uint16_t ALLOCATABLE = 0xffff & ~((1 << RSP) | (1 << RBP) | (1 << R12));
static const uint16_t CALLER_SAVED = (1 << RAX) | (1 << RCX) | (1 << RDX) | (1 << RSI) | (1 << RDI) |
                                     (1 << R8) | (1 << R9) | (1 << R10) | (1 << R11);
static const int call_arg_regs[6] = { RDI, RSI, RDX, RCX, R8, R9 };

/* ---- code buffer ------------------------------------------------------------------ */
static CodeBuffer *code_buffer_new(void)
{
    CodeBuffer *cb = xzalloc(sizeof(*cb));
    cb->size = tcg_code_buffer_size;
    /* perf looks up /tmp/perf-PID.map only for anonymous executable
     * mappings, never for a memfd: -d perfmap trades W^X for an RWX one. */
    int fd = log_enabled(LOG_PERFMAP) ? -1 : memfd_create("kestrel-jit", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, (off_t)cb->size) == 0) {
        void *rw = mmap(NULL, cb->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        void *rx = mmap(NULL, cb->size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
        if (rw != MAP_FAILED && rx != MAP_FAILED) {
            close(fd);
            cb->rw = rw;
            cb->rx = rx;
            return cb;
        }
        if (rw != MAP_FAILED)
            munmap(rw, cb->size);
        if (rx != MAP_FAILED)
            munmap(rx, cb->size);
    }
    if (fd >= 0)
        close(fd);
    void *p = mmap(NULL, cb->size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        fatal("translator: cannot map a code buffer");
    cb->rw = cb->rx = p;
    return cb;
}

static void emitter_at(Emitter *e, CodeBuffer *cb, size_t off, size_t limit)
{
    e->rw = cb->rw + off;
    e->rw_end = cb->rw + limit;
    e->rx_delta = (intptr_t)(cb->rx - cb->rw);
    e->overflow = false;
}

static size_t emitter_off(const Emitter *e, const CodeBuffer *cb) { return (size_t)(e->rw - cb->rw); }

/* ---- small instruction helpers ------------------------------------------------------- */
static void mov_rr(Emitter *e, int d, int s)
{
    if (d != s)
        em_rr(e, 0x89, 1, true, s, d, false);
}

static void movi(Emitter *e, int d, uint64_t v)
{
    if (v == 0) {
        em_rr(e, 0x31, 1, false, d, d, false);             /* xor d32, d32 */
    } else if (v <= 0xffffffffULL) {
        em_rex(e, false, 0, 0, d, false);
        em_byte(e, (uint8_t)(0xb8 + (d & 7)));
        em_u32(e, (uint32_t)v);
    } else if (fits_i32((int64_t)v)) {
        em_rr(e, 0xc7, 1, true, 0, d, false);              /* mov r/m64, imm32 */
        em_u32(e, (uint32_t)v);
    } else {
        em_rex(e, true, 0, 0, d, false);
        em_byte(e, (uint8_t)(0xb8 + (d & 7)));
        em_u64(e, v);
    }
}

static void jmp_abs(Emitter *e, uintptr_t target)
{
    em_byte(e, 0xe9);
    em_u32(e, (uint32_t)(target - (em_rx(e) + 4)));
}

static void call_abs(Emitter *e, uintptr_t fn)
{
    int64_t rel = (int64_t)fn - (int64_t)(em_rx(e) + 5);
    if (fits_i32(rel)) {
        em_byte(e, 0xe8);
        em_u32(e, (uint32_t)rel);
    } else {
        movi(e, RAX, fn);
        em_rr(e, 0xff, 1, false, 2, RAX, false);           /* call rax */
    }
}

/* load with memop from [base + index + disp] into d */
static void load_mem(Emitter *e, unsigned memop, int d, int base, int index, int32_t disp)
{
    switch (memop) {
    case MO_8: em_rm(e, 0xb60f, 2, false, d, base, index, 0, disp, false); break;
    case MO_8S: em_rm(e, 0xbe0f, 2, true, d, base, index, 0, disp, false); break;
    case MO_16: em_rm(e, 0xb70f, 2, false, d, base, index, 0, disp, false); break;
    case MO_16S: em_rm(e, 0xbf0f, 2, true, d, base, index, 0, disp, false); break;
    case MO_32: em_rm(e, 0x8b, 1, false, d, base, index, 0, disp, false); break;
    case MO_32S: em_rm(e, 0x63, 1, true, d, base, index, 0, disp, false); break;
    default: em_rm(e, 0x8b, 1, true, d, base, index, 0, disp, false); break;
    }
}

static void store_mem(Emitter *e, unsigned memop, int v, int base, int index, int32_t disp)
{
    switch (memop & MO_SIZE) {
    case MO_8: em_rm(e, 0x88, 1, false, v, base, index, 0, disp, true); break;
    case MO_16: em_byte(e, 0x66); em_rm(e, 0x89, 1, false, v, base, index, 0, disp, false); break;
    case MO_32: em_rm(e, 0x89, 1, false, v, base, index, 0, disp, false); break;
    default: em_rm(e, 0x89, 1, true, v, base, index, 0, disp, false); break;
    }
}

/* ---- register allocation state -------------------------------------------------------- */
enum { TS_DEAD, TS_REG, TS_MEM, TS_CONST };

typedef struct TempState {
    uint8_t val;
    int8_t reg;
    bool coherent;        /* memory copy up to date (globals, locals) */
    uint64_t cst;
} TempState;

typedef struct SlowPath {
    bool is_store;
    unsigned memop;
    int mmu;
    int data_reg, addr_reg;
    int32_t addr_disp;    /* the address is addr_reg + addr_disp */
    uint16_t save;        /* caller-saved registers to preserve */
    size_t jne_patch;     /* offset of the rel32 of the fast path's jne */
    uintptr_t done_rx;    /* where to continue */
    int8_t none_reg;      /* a probe's addend register: made odd after the call (-1: none) */
    /* Dirty globals, written back only on this path: the fast path cannot
     * fault, the slow one can (and then the CPU state must be in env). */
    uint8_t nsync;
    struct { int8_t reg; int32_t off; int32_t imm; } sync[24];   /* reg -1: imm */
} SlowPath;

/* One step of bringing the registers to a loop block's label state. */
typedef struct Move {
    enum { MV_STORE, MV_STORE_IMM, MV_MOV, MV_XCHG, MV_LOAD, MV_MOVI } kind;
    int8_t reg, reg2;     /* MOV: reg = reg2; XCHG: reg <-> reg2 */
    uint8_t base;         /* STORE/LOAD: [base + off] */
    int32_t off;
    uint64_t imm;
} Move;

#define MAX_MOVES 48

/* The taken side of a brcond in a loop block, out of line: the moves to the
 * label state, then the jump to the label. The fall-through keeps its
 * registers. */
typedef struct EdgeStub {
    size_t jcc_patch;     /* rel32 of the jcc that enters the stub */
    int label;
    int n;
    Move mv[MAX_MOVES];
} EdgeStub;

#define LOOP_MAX_CARRIED 8
#define MAX_EDGE_STUBS 32
/* Out of line, for a probe or reuse op whose shared check failed: the full
 * single-access TLB check, the access, then back (its miss goes to the
 * helper call `slow`). */
typedef struct MemFallback {
    size_t patch[2];      /* rel32s of the main line's jumps here */
    int npatch;
    bool is_store;
    unsigned memop;
    int mmu;
    int8_t addr_reg, data_reg, t1, t2;
    int8_t none_reg;      /* a probe's addend register: made odd here (-1: none) */
    uintptr_t done_rx;
    int slow;
} MemFallback;

typedef struct Gen {
    TCGContext *s;
    TranslationBlock *tb;
    CodeBuffer *cb;
    Emitter e;
    TempState ts[TCG_MAX_TEMPS];
    int reg_temp[16];
    uint16_t locked;
    size_t label_off[TCG_MAX_LABELS];
    bool label_bound[TCG_MAX_LABELS];
    struct { size_t patch; int label; } fwd[TCG_MAX_LABELS * 4];
    int nb_fwd;
    SlowPath slow[TCG_MAX_OPS / 4];
    int nb_slow;
    MemFallback fallback[TCG_MAX_OPS / 4];
    int nb_fallback;
    bool failed;
    /* allocating for a global: prefer registers that survive helper calls */
    bool prefer_callee;
    /* A self-looping block (goto_loop): these globals sit in these host
     * registers at the loop head, which follows the entry check and loads. */
    int nb_carried;
    struct { int temp; int reg; bool written; } carried[LOOP_MAX_CARRIED];
    size_t loop_head;
    EdgeStub stubs[MAX_EDGE_STUBS];
    int nb_stubs;
} Gen;

static int32_t temp_slot(Gen *g, int t)
{
    const TCGTemp *tp = &g->s->temps[t];
    if (tp->kind == TEMP_GLOBAL)
        return tp->env_offset;
    return t * 8;
}

static int temp_base(Gen *g, int t)
{
    return g->s->temps[t].kind == TEMP_GLOBAL ? RBP : RSP;
}

static void temp_store(Gen *g, int t)
{
    TempState *ts = &g->ts[t];
    if (ts->val == TS_REG && !ts->coherent) {
        em_rm(&g->e, 0x89, 1, true, ts->reg, temp_base(g, t), -1, 0, temp_slot(g, t), false);
        ts->coherent = true;
    } else if (ts->val == TS_CONST && !ts->coherent) {
        /* a global holding a constant that fits a sign-extended imm32 */
        em_rm(&g->e, 0xc7, 1, true, 0, temp_base(g, t), -1, 0, temp_slot(g, t), false);
        em_u32(&g->e, (uint32_t)ts->cst);
        ts->coherent = true;
    }
}

/* Globals held as constants (no register) that memory has not seen yet. */
static void store_const_globals(Gen *g)
{
    for (int t = 1; t < g->s->nb_globals; t++)
        if (g->ts[t].val == TS_CONST && !g->ts[t].coherent)
            temp_store(g, t);
}

static void reg_free(Gen *g, int r)
{
    g->reg_temp[r] = -1;
}

/* Move temp t out of its register into memory. */
static void temp_spill(Gen *g, int t)
{
    TempState *ts = &g->ts[t];
    if (ts->val != TS_REG || t == 0)
        return;
    if (g->s->temps[t].kind == TEMP_NORMAL)
        ts->coherent = false;
    temp_store(g, t);
    reg_free(g, ts->reg);
    ts->val = TS_MEM;
    ts->reg = -1;
}

static int reg_alloc(Gen *g, uint16_t avoid)
{
    uint16_t ok = ALLOCATABLE & ~avoid & ~g->locked;
    /* temps: a free caller-saved register first; globals: callee-saved first */
    for (int pass = 0; pass < 2; pass++) {
        bool caller = (pass == 0) != g->prefer_callee;
        uint16_t set = caller ? (ok & CALLER_SAVED) : (ok & ~CALLER_SAVED);
        for (int r = 0; r < 16; r++)
            if ((set & (1 << r)) && g->reg_temp[r] < 0)
                return r;
    }
    /* All taken: evict the cheapest. A global or local whose memory copy is
     * current costs nothing to drop; a dirty global must be stored some
     * time anyway; a normal temp costs a store and a reload. */
    int best = -1, best_cost = 3;
    for (int r = 0; r < 16; r++) {
        if (!(ok & (1 << r)))
            continue;
        int t = g->reg_temp[r];
        TCGTempKind k = g->s->temps[t].kind;
        int cost = k == TEMP_NORMAL ? 2 : g->ts[t].coherent ? 0 : 1;
        if (cost < best_cost) {
            best = r;
            best_cost = cost;
            if (cost == 0)
                break;
        }
    }
    if (best >= 0) {
        temp_spill(g, g->reg_temp[best]);
        return best;
    }
    g->failed = true;
    return RAX;
}

static void temp_assign(Gen *g, int t, int r)
{
    TempState *ts = &g->ts[t];
    if (ts->val == TS_REG && ts->reg != r && g->reg_temp[ts->reg] == t)
        reg_free(g, ts->reg);
    if (g->reg_temp[r] >= 0 && g->reg_temp[r] != t)
        g->ts[g->reg_temp[r]].val = TS_DEAD;   /* caller freed it deliberately */
    g->reg_temp[r] = t;
    ts->val = TS_REG;
    ts->reg = (int8_t)r;
    ts->coherent = false;
}

/* Put t in a register (not in avoid) and lock it for the current op. */
static int temp_load(Gen *g, int t, uint16_t avoid)
{
    TempState *ts = &g->ts[t];
    if (t == 0)
        return RBP;
    if (ts->val == TS_REG && !(avoid & (1 << ts->reg))) {
        g->locked |= 1 << ts->reg;
        return ts->reg;
    }
    bool saved_pref = g->prefer_callee;
    g->prefer_callee = g->s->temps[t].kind == TEMP_GLOBAL;
    int r = reg_alloc(g, avoid);
    g->prefer_callee = saved_pref;
    switch (ts->val) {
    case TS_REG:
        mov_rr(&g->e, r, ts->reg);
        reg_free(g, ts->reg);
        g->reg_temp[r] = t;
        ts->reg = (int8_t)r;
        break;
    case TS_CONST:
        movi(&g->e, r, ts->cst);
        g->reg_temp[r] = t;
        ts->val = TS_REG;
        ts->reg = (int8_t)r;
        ts->coherent = false;
        break;
    case TS_MEM:
        em_rm(&g->e, 0x8b, 1, true, r, temp_base(g, t), -1, 0, temp_slot(g, t), false);
        g->reg_temp[r] = t;
        ts->val = TS_REG;
        ts->reg = (int8_t)r;
        ts->coherent = true;
        break;
    default:
        /* a dead temp read (IR bug or uninitialised local): treat as 0 */
        movi(&g->e, r, 0);
        g->reg_temp[r] = t;
        ts->val = TS_REG;
        ts->reg = (int8_t)r;
        ts->coherent = false;
        break;
    }
    g->locked |= 1 << r;
    return r;
}

/* Evict whatever lives in register r (moving it elsewhere). */
static void reg_evict(Gen *g, int r, uint16_t avoid)
{
    int t = g->reg_temp[r];
    if (t < 0)
        return;
    uint16_t saved = g->locked;
    g->locked |= 1 << r;
    int n = reg_alloc(g, avoid | (1 << r));
    g->locked = saved;
    mov_rr(&g->e, n, r);
    g->reg_temp[n] = t;
    g->ts[t].reg = (int8_t)n;
    if (saved & (1 << r))
        g->locked |= 1 << n;
    reg_free(g, r);
}

static bool is_const(Gen *g, int t, int64_t *v)
{
    if (t != 0 && g->ts[t].val == TS_CONST) {
        *v = (int64_t)g->ts[t].cst;
        return true;
    }
    return false;
}

static void free_dead_inputs(Gen *g, const TCGOp *op, int first_in, int n_in)
{
    for (int i = 0; i < n_in; i++) {
        if (!(op->dead & (1u << i)))
            continue;
        int t = (int)op->args[first_in + i];
        if (t <= 0 || g->s->temps[t].kind == TEMP_GLOBAL)
            continue;
        TempState *ts = &g->ts[t];
        if (ts->val == TS_REG && g->reg_temp[ts->reg] == t)
            reg_free(g, ts->reg);
        ts->val = TS_DEAD;
    }
}

/* Globals and locals are in memory, nothing else is live: the state at a
 * label (after the stores that lead there) or after an unconditional exit. */
static void forget_registers(Gen *g)
{
    for (int r = 0; r < 16; r++)
        g->reg_temp[r] = -1;
    for (int t = 1; t < g->s->nb_temps; t++) {
        TCGTempKind k = g->s->temps[t].kind;
        g->ts[t].val = (k == TEMP_GLOBAL || k == TEMP_LOCAL) ? TS_MEM : TS_DEAD;
        g->ts[t].reg = -1;
        g->ts[t].coherent = true;
    }
}

/* Write back dirty globals (and locals); with drop, forget all registers. */
static void sync_all(Gen *g, bool drop)
{
    store_const_globals(g);
    for (int r = 0; r < 16; r++) {
        int t = g->reg_temp[r];
        if (t < 0)
            continue;
        TCGTempKind k = g->s->temps[t].kind;
        if (k == TEMP_GLOBAL || k == TEMP_LOCAL)
            temp_store(g, t);
    }
    if (drop)
        forget_registers(g);
}

static void sync_globals(Gen *g)
{
    store_const_globals(g);
    for (int r = 0; r < 16; r++) {
        int t = g->reg_temp[r];
        if (t >= 0 && g->s->temps[t].kind == TEMP_GLOBAL)
            temp_store(g, t);
    }
}

/* ---- labels ------------------------------------------------------------------------ */
static void jump_to_label(Gen *g, int label, uint8_t jcc /* 0xff = jmp */)
{
    if (jcc == 0xff) {
        em_byte(&g->e, 0xe9);
    } else {
        em_byte(&g->e, 0x0f);
        em_byte(&g->e, (uint8_t)(0x80 | jcc));
    }
    size_t at = emitter_off(&g->e, g->cb);
    em_u32(&g->e, 0);
    if (g->nb_fwd < (int)ARRAY_SIZE(g->fwd)) {
        g->fwd[g->nb_fwd].patch = at;
        g->fwd[g->nb_fwd].label = label;
        g->nb_fwd++;
    } else {
        g->failed = true;
    }
}

static void patch_rel32(CodeBuffer *cb, size_t at, size_t target)
{
    if (at + 4 > cb->size)
        return;   /* the emitter ran out of buffer: this block is dropped and the buffer flushed */
    int32_t rel = (int32_t)((int64_t)target - (int64_t)(at + 4));
    memcpy(cb->rw + at, &rel, 4);
}

/* ---- op lowering ---------------------------------------------------------------------- */
static uint8_t cond_cc(TCGCond c)
{
    static const uint8_t cc[] = {
        [TCG_COND_EQ] = 0x4, [TCG_COND_NE] = 0x5, [TCG_COND_LT] = 0xc, [TCG_COND_GE] = 0xd,
        [TCG_COND_LE] = 0xe, [TCG_COND_GT] = 0xf, [TCG_COND_LTU] = 0x2, [TCG_COND_GEU] = 0x3,
        [TCG_COND_LEU] = 0x6, [TCG_COND_GTU] = 0x7, [TCG_COND_TSTEQ] = 0x4, [TCG_COND_TSTNE] = 0x5,
    };
    return cc[c];
}

static TCGCond swap_cond(TCGCond c)
{
    switch (c) {
    case TCG_COND_LT: return TCG_COND_GT;
    case TCG_COND_GT: return TCG_COND_LT;
    case TCG_COND_LE: return TCG_COND_GE;
    case TCG_COND_GE: return TCG_COND_LE;
    case TCG_COND_LTU: return TCG_COND_GTU;
    case TCG_COND_GTU: return TCG_COND_LTU;
    case TCG_COND_LEU: return TCG_COND_GEU;
    case TCG_COND_GEU: return TCG_COND_LEU;
    default: return c;
    }
}

/* Emit cmp/test for cond(a, b); returns the (possibly swapped) condition. */
static TCGCond emit_compare(Gen *g, TCGCond c, bool w32, int ta, int tb)
{
    int64_t v;
    bool w = !w32;
    bool tst = c == TCG_COND_TSTEQ || c == TCG_COND_TSTNE;
    if (is_const(g, ta, &v) && !is_const(g, tb, &v)) {
        int t = ta; ta = tb; tb = t;
        c = swap_cond(c);
    }
    int ra = temp_load(g, ta, 0);
    if (is_const(g, tb, &v) && (w32 || fits_i32(v))) {
        if (tst) {
            em_rr(&g->e, 0xf7, 1, w, 0, ra, false);        /* test r, imm32 */
        } else if (v == 0) {
            em_rr(&g->e, 0x85, 1, w, ra, ra, false);       /* test r, r */
            return c;
        } else {
            em_rr(&g->e, 0x81, 1, w, 7, ra, false);        /* cmp r, imm32 */
        }
        em_u32(&g->e, (uint32_t)v);
        return c;
    }
    int rb = temp_load(g, tb, 0);
    em_rr(&g->e, tst ? 0x85 : 0x39, 1, w, rb, ra, false);  /* test/cmp ra, rb */
    return c;
}

static int loop_home_reg(Gen *g, const TCGOp *op, uint16_t avoid);

/* Output register for d = f(a, ...): reuse a's register when a dies here. */
static int out_reg_from(Gen *g, const TCGOp *op, int in_index, uint16_t avoid)
{
    int home = loop_home_reg(g, op, avoid);
    if (home >= 0)
        return home;
    int t = (int)op->args[tcg_op_defs[op->opc].nb_oargs + in_index];
    TempState *ts = &g->ts[t];
    if ((op->dead & (1u << in_index)) && t > 0 && ts->val == TS_REG &&
        g->s->temps[t].kind != TEMP_GLOBAL && !(avoid & (1 << ts->reg)) &&
        g->reg_temp[ts->reg] == t) {
        int r = ts->reg;
        ts->val = TS_DEAD;
        reg_free(g, r);
        g->locked |= 1 << r;
        return r;
    }
    int r = reg_alloc(g, avoid);
    g->locked |= 1 << r;
    return r;
}

static void set_output(Gen *g, int t, int r)
{
    temp_assign(g, t, r);
}

static void gen_alu(Gen *g, const TCGOp *op)
{
    static const uint8_t grp1[NB_OPS] = {
        [INDEX_op_add] = 0, [INDEX_op_or] = 1, [INDEX_op_and] = 4, [INDEX_op_sub] = 5, [INDEX_op_xor] = 6,
    };
    static const uint8_t rr_opc[NB_OPS] = {
        [INDEX_op_add] = 0x01, [INDEX_op_or] = 0x09, [INDEX_op_and] = 0x21, [INDEX_op_sub] = 0x29,
        [INDEX_op_xor] = 0x31,
    };
    bool w = !(op->flags & TCG_W32);
    int td = (int)op->args[0], ta = (int)op->args[1], tb = (int)op->args[2];
    int64_t v;
    bool commutative = op->opc != INDEX_op_sub;
    /* d = c op a for a commutative op with a constant first operand */
    if (commutative && is_const(g, ta, &v) && !is_const(g, tb, &v)) {
        int t = ta; ta = tb; tb = t;
    }
    if (is_const(g, tb, &v) && (!w || fits_i32(v))) {
        int ra = temp_load(g, ta, 0);
        int rd = out_reg_from(g, op, ta == (int)op->args[1] ? 0 : 1, 0);
        if (rd != ra && (op->opc == INDEX_op_add || op->opc == INDEX_op_sub) &&
            fits_i32(op->opc == INDEX_op_sub ? -v : v)) {
            /* three-operand add: lea rd, [ra + v] (32-bit lea zero-extends) */
            int32_t disp = (int32_t)(op->opc == INDEX_op_sub ? -v : v);
            em_rm(&g->e, 0x8d, 1, w, rd, ra, -1, 0, disp, false);
            free_dead_inputs(g, op, 1, 2);
            set_output(g, td, rd);
            return;
        }
        mov_rr(&g->e, rd, ra);
        if (op->opc == INDEX_op_mul) {
            em_rr(&g->e, 0x69, 1, w, rd, rd, false);
            em_u32(&g->e, (uint32_t)v);
        } else if (v == (int8_t)v) {
            em_rr(&g->e, 0x83, 1, w, grp1[op->opc], rd, false);
            em_byte(&g->e, (uint8_t)v);
        } else {
            em_rr(&g->e, 0x81, 1, w, grp1[op->opc], rd, false);
            em_u32(&g->e, (uint32_t)v);
        }
        free_dead_inputs(g, op, 1, 2);
        set_output(g, td, rd);
        return;
    }
    int ra = temp_load(g, ta, 0);
    int rb = temp_load(g, tb, 0);
    int rd;
    if (commutative && (op->dead & 2) && tb > 0 && g->s->temps[tb].kind != TEMP_GLOBAL &&
        ta != tb) {
        rd = out_reg_from(g, op, ta == (int)op->args[1] ? 1 : 0, 0);
        /* rd = rb's register: d = b op a */
        if (rd == rb) {
            if (op->opc == INDEX_op_mul)
                em_rr(&g->e, 0xaf0f, 2, w, rd, ra, false);
            else
                em_rr(&g->e, rr_opc[op->opc], 1, w, ra, rd, false);
            free_dead_inputs(g, op, 1, 2);
            set_output(g, td, rd);
            return;
        }
    } else {
        rd = out_reg_from(g, op, ta == (int)op->args[1] ? 0 : 1, 1 << rb);
    }
    if (rd == rb && ra != rb) {
        /* only possible for a non-commutative op when out_reg_from could not
         * avoid it; go through a scratch register */
        int sc = reg_alloc(g, (1 << ra) | (1 << rb));
        mov_rr(&g->e, sc, ra);
        em_rr(&g->e, rr_opc[op->opc], 1, w, rb, sc, false);
        mov_rr(&g->e, rd, sc);
    } else if (op->opc == INDEX_op_add && rd != ra && rd != rb) {
        em_rm(&g->e, 0x8d, 1, w, rd, ra, rb, 0, 0, false);   /* lea rd, [ra + rb] */
    } else {
        mov_rr(&g->e, rd, ra);
        if (op->opc == INDEX_op_mul)
            em_rr(&g->e, 0xaf0f, 2, w, rd, rb, false);
        else
            em_rr(&g->e, rr_opc[op->opc], 1, w, rb, rd, false);
    }
    free_dead_inputs(g, op, 1, 2);
    set_output(g, td, rd);
}

static void gen_shift(Gen *g, const TCGOp *op)
{
    static const uint8_t ext[NB_OPS] = {
        [INDEX_op_rotl] = 0, [INDEX_op_rotr] = 1, [INDEX_op_shl] = 4, [INDEX_op_shr] = 5, [INDEX_op_sar] = 7,
    };
    bool w = !(op->flags & TCG_W32);
    int td = (int)op->args[0], ta = (int)op->args[1], tb = (int)op->args[2];
    int64_t v;
    if (is_const(g, tb, &v)) {
        int ra = temp_load(g, ta, 0);
        int rd = out_reg_from(g, op, 0, 0);
        mov_rr(&g->e, rd, ra);
        em_rr(&g->e, 0xc1, 1, w, ext[op->opc], rd, false);
        em_byte(&g->e, (uint8_t)(v & (w ? 63 : 31)));
        free_dead_inputs(g, op, 1, 2);
        set_output(g, td, rd);
        return;
    }
    /* count in CL */
    if (g->reg_temp[RCX] != tb)
        reg_evict(g, RCX, 0);
    int rb = temp_load(g, tb, 0);
    if (rb != RCX) {
        mov_rr(&g->e, RCX, rb);
        g->locked |= 1 << RCX;
    }
    g->locked |= 1 << RCX;
    int ra = temp_load(g, ta, 1 << RCX);
    int rd = out_reg_from(g, op, 0, 1 << RCX);
    mov_rr(&g->e, rd, ra);
    em_rr(&g->e, 0xd3, 1, w, ext[op->opc], rd, false);
    free_dead_inputs(g, op, 1, 2);
    set_output(g, td, rd);
}

static void gen_unary(Gen *g, const TCGOp *op)
{
    bool w = !(op->flags & TCG_W32);
    int td = (int)op->args[0], ta = (int)op->args[1];
    int ra = temp_load(g, ta, 0);
    int rd;
    switch (op->opc) {
    case INDEX_op_mov:
        rd = loop_home_reg(g, op, 0);
        if (rd < 0 && (op->dead & 1) && ta > 0 && g->s->temps[ta].kind != TEMP_GLOBAL) {
            rd = out_reg_from(g, op, 0, 0);   /* a's register: no move */
        } else {
            if (rd < 0)
                rd = reg_alloc(g, 0);
            g->locked |= 1 << rd;
            mov_rr(&g->e, rd, ra);
        }
        break;
    case INDEX_op_neg: case INDEX_op_not:
        rd = out_reg_from(g, op, 0, 0);
        mov_rr(&g->e, rd, ra);
        em_rr(&g->e, 0xf7, 1, w, op->opc == INDEX_op_neg ? 3 : 2, rd, false);
        break;
    case INDEX_op_bswap:
        rd = out_reg_from(g, op, 0, 0);
        mov_rr(&g->e, rd, ra);
        em_rex(&g->e, w, 0, 0, rd, false);
        em_byte(&g->e, 0x0f);
        em_byte(&g->e, (uint8_t)(0xc8 + (rd & 7)));
        break;
    default:
        rd = out_reg_from(g, op, 0, 0);
        switch (op->opc) {
        case INDEX_op_ext8s: em_rr(&g->e, 0xbe0f, 2, true, rd, ra, true); break;
        case INDEX_op_ext8u: em_rr(&g->e, 0xb60f, 2, false, rd, ra, true); break;
        case INDEX_op_ext16s: em_rr(&g->e, 0xbf0f, 2, true, rd, ra, false); break;
        case INDEX_op_ext16u: em_rr(&g->e, 0xb70f, 2, false, rd, ra, false); break;
        case INDEX_op_ext32s: em_rr(&g->e, 0x63, 1, true, rd, ra, false); break;
        default: em_rr(&g->e, 0x89, 1, false, ra, rd, false); break;   /* ext32u: mov r32 */
        }
        break;
    }
    free_dead_inputs(g, op, 1, 1);
    set_output(g, td, rd);
}

static void gen_mul2(Gen *g, const TCGOp *op)
{
    int tlo = (int)op->args[0], thi = (int)op->args[1], ta = (int)op->args[2], tb = (int)op->args[3];
    reg_evict(g, RAX, 1 << RDX);
    reg_evict(g, RDX, 1 << RAX);
    g->locked |= (1 << RAX) | (1 << RDX);
    int ra = temp_load(g, ta, (1 << RAX) | (1 << RDX));
    mov_rr(&g->e, RAX, ra);
    int rb = temp_load(g, tb, (1 << RAX) | (1 << RDX));
    em_rr(&g->e, 0xf7, 1, true, op->opc == INDEX_op_mulu2 ? 4 : 5, rb, false);
    free_dead_inputs(g, op, 2, 2);
    set_output(g, tlo, RAX);
    set_output(g, thi, RDX);
}

/* fpop: the host's own SSE instruction under a freshly loaded default MXCSR
 * (flags cleared), the flags read back with STMXCSR. The C code of the
 * emulator runs under the same default control bits, so nothing needs
 * restoring; xmm0/xmm1 are scratch (no temp lives in an xmm register). */
static void gen_fpop(Gen *g, const TCGOp *op)
{
    static const uint8_t opc[] = {
        [TCG_FP_ADD] = 0x58, [TCG_FP_SUB] = 0x5c, [TCG_FP_MUL] = 0x59, [TCG_FP_DIV] = 0x5e,
        [TCG_FP_SQRT] = 0x51, [TCG_FP_UCOM] = 0x2e, [TCG_FP_COM] = 0x2f,
        [TCG_FP_TO_INT] = 0x2c, [TCG_FP_FROM_INT] = 0x2a,
    };
    Emitter *e = &g->e;
    unsigned fpop = (unsigned)op->args[4], k = fpop & TCG_FP_OP_MASK;
    bool f32 = fpop & TCG_FP_F32, i64 = fpop & TCG_FP_I64;
    bool compare = k == TCG_FP_UCOM || k == TCG_FP_COM;
    const int32_t scratch = TCG_MAX_TEMPS * 8;   /* the frame's spare slot */
    /* inputs stay locked in their registers until the end of the op */
    int ra = temp_load(g, (int)op->args[2], 0);
    int rb = temp_load(g, (int)op->args[3], 0);
    if (k != TCG_FP_FROM_INT) {
        em_byte(e, 0x66);
        em_rr(e, 0x6e0f, 2, !f32, 0, ra, false);           /* movq/movd xmm0, ra */
        em_byte(e, 0x66);
        em_rr(e, 0x6e0f, 2, !f32, 1, rb, false);           /* movq/movd xmm1, rb */
    }
    free_dead_inputs(g, op, 2, 2);
    int rd = reg_alloc(g, 0);
    g->locked |= 1 << rd;
    int rf = reg_alloc(g, 0);
    g->locked |= 1 << rf;
    em_rm(e, 0xc7, 1, false, 0, RSP, -1, 0, scratch, false);
    em_u32(e, 0x1f80);                                     /* mov dword [rsp + scratch], 0x1f80 */
    em_rm(e, 0xae0f, 2, false, 2, RSP, -1, 0, scratch, false);   /* ldmxcsr */
    uint32_t two = 0x000f | (uint32_t)opc[k] << 8;
    if (k == TCG_FP_TO_INT) {
        em_byte(e, f32 ? 0xf3 : 0xf2);
        em_rr(e, two, 2, i64, rd, 0, false);               /* cvttsd2si/ss rd, xmm0 */
    } else if (k == TCG_FP_FROM_INT) {
        em_byte(e, f32 ? 0xf3 : 0xf2);
        em_rr(e, two, 2, i64, 0, ra, false);               /* cvtsi2sd/ss xmm0, ra */
    } else if (compare) {
        if (!f32)
            em_byte(e, 0x66);                              /* (u)comisd; (u)comiss has none */
        em_rr(e, two, 2, false, 0, 1, false);
        em_byte(e, 0x9c);                                  /* pushfq; pop rd; and rd, ZF|PF|CF */
        em_rex(e, false, 0, 0, rd, false);
        em_byte(e, (uint8_t)(0x58 + (rd & 7)));
        em_rr(e, 0x83, 1, false, 4, rd, false);
        em_byte(e, 0x45);
    } else {
        em_byte(e, f32 ? 0xf3 : 0xf2);
        em_rr(e, two, 2, false, 0, 1, false);              /* addsd & co. xmm0, xmm1 */
    }
    em_rm(e, 0xae0f, 2, false, 3, RSP, -1, 0, scratch, false);   /* stmxcsr */
    em_rm(e, 0x8b, 1, false, rf, RSP, -1, 0, scratch, false);
    em_rr(e, 0x83, 1, false, 4, rf, false);                /* and rf, 0x3f */
    em_byte(e, 0x3f);
    if (!compare && k != TCG_FP_TO_INT) {
        em_byte(e, 0x66);
        em_rr(e, 0x7e0f, 2, !f32, 0, rd, false);           /* movq/movd rd, xmm0 */
    }
    set_output(g, (int)op->args[0], rd);
    set_output(g, (int)op->args[1], rf);
}

/* ---- vecop: the host's own SSE instruction on env slots ----------------------------------
 * xmm0/xmm1 are scratch, as for fpop; env slots are only 8-byte aligned,
 * so both operands come in with MOVDQU (legacy SSE memory operands must be
 * aligned). */
bool tcg_vecop_use_host = true;

/* The host extension an instruction of the 0F/0F38/0F3A maps needs. */
static bool host_has_vec_insn(uint64_t desc)
{
#if defined(__x86_64__) && defined(__GNUC__)
    unsigned map = TCG_VEC_MAP(desc), opc = TCG_VEC_OPCODE(desc);
    __builtin_cpu_init();
    if (map == 1)
        return true;                                        /* SSE2: every x86-64 */
    if ((map == 2 && (opc <= 0x0b || (opc >= 0x1c && opc <= 0x1e))) || (map == 3 && opc == 0x0f))
        return __builtin_cpu_supports("ssse3");
    if (map == 3 && opc >= 0x60 && opc <= 0x63)
        return __builtin_cpu_supports("sse4.2");
    return __builtin_cpu_supports("sse4.1");
#else
    (void)desc;
    return false;
#endif
}

bool tcg_vecop_available(uint64_t desc)
{
    if (tcg_use_interp)
        return true;
    return tcg_vecop_use_host && host_has_vec_insn(desc);
}

static void movdqu_xmm_env(Emitter *e, int xmm, int32_t off, bool store)
{
    em_byte(e, 0xf3);
    em_rm(e, store ? 0x7f0f : 0x6f0f, 2, false, xmm, RBP, -1, 0, off, false);
}

/* 66 <map> opcode with ModRM register form reg, rm */
static void emit_vec_insn(Emitter *e, uint64_t desc, int reg, int rm)
{
    static const uint32_t escape[4] = { 0, 0x0f, 0x380f, 0x3a0f };
    unsigned map = TCG_VEC_MAP(desc);
    em_byte(e, 0x66);
    em_rr(e, escape[map] | TCG_VEC_OPCODE(desc) << (map == 1 ? 8 : 16), map == 1 ? 2 : 3, false, reg, rm,
          false);
}

static void gen_vecop(Gen *g, const TCGOp *op)
{
    Emitter *e = &g->e;
    uint64_t desc = op->args[0];
    int32_t d = (int32_t)op->args[1], src = (int32_t)op->args[2], r = (int32_t)op->args[3];
    switch (TCG_VEC_FORM(desc)) {
    case TCG_VEC_RR:
        movdqu_xmm_env(e, 0, d, false);
        movdqu_xmm_env(e, 1, src, false);
        emit_vec_insn(e, desc, 0, 1);
        if (TCG_VEC_HAS_IMM(desc))
            em_byte(e, (uint8_t)TCG_VEC_IMM(desc));
        break;
    case TCG_VEC_FROM_S:
        movdqu_xmm_env(e, 1, src, false);
        emit_vec_insn(e, desc, 0, 1);
        em_byte(e, (uint8_t)TCG_VEC_IMM(desc));
        break;
    case TCG_VEC_SHIFT:
        movdqu_xmm_env(e, 0, d, false);
        emit_vec_insn(e, desc, (int)TCG_VEC_DIGIT(desc), 0);
        em_byte(e, (uint8_t)TCG_VEC_IMM(desc));
        break;
    case TCG_VEC_STRI:
        reg_evict(g, RCX, 0);
        movdqu_xmm_env(e, 0, d, false);
        movdqu_xmm_env(e, 1, src, false);
        emit_vec_insn(e, desc, 0, 1);                       /* pcmpistri xmm0, xmm1, imm */
        em_byte(e, (uint8_t)TCG_VEC_IMM(desc));
        em_rm(e, 0x89, 1, false, RCX, RBP, -1, 0, r + 4, false);    /* mov [rbp + r + 4], ecx */
        em_byte(e, 0x9c);                                   /* pushfq; pop rcx */
        em_byte(e, 0x59);
        em_rr(e, 0x81, 1, false, 4, RCX, false);            /* and ecx, CF|ZF|SF|OF */
        em_u32(e, 0x8c1);
        em_rm(e, 0x89, 1, false, RCX, RBP, -1, 0, r, false);        /* mov [rbp + r], ecx */
        return;
    default:
        g->failed = true;
        return;
    }
    movdqu_xmm_env(e, 0, d, true);
}

static void gen_setcond(Gen *g, const TCGOp *op)
{
    int td = (int)op->args[0];
    int rd = reg_alloc(g, 0);
    g->locked |= 1 << rd;
    movi(&g->e, rd, 0);   /* before the compare: xor changes flags */
    TCGCond c = emit_compare(g, (TCGCond)op->args[3], op->flags & TCG_W32, (int)op->args[1], (int)op->args[2]);
    em_rr(&g->e, 0x900f | ((uint32_t)cond_cc(c) << 8), 2, false, 0, rd, true);
    free_dead_inputs(g, op, 1, 2);
    set_output(g, td, rd);
}

static void gen_movcond(Gen *g, const TCGOp *op)
{
    int td = (int)op->args[0];
    int rv1 = temp_load(g, (int)op->args[3], 0);
    int rv2 = temp_load(g, (int)op->args[4], 0);
    int rd = loop_home_reg(g, op, 0);
    if (rd < 0)
        rd = reg_alloc(g, 0);
    g->locked |= 1 << rd;
    mov_rr(&g->e, rd, rv2);
    TCGCond c = emit_compare(g, (TCGCond)op->args[5], op->flags & TCG_W32, (int)op->args[1], (int)op->args[2]);
    em_rr(&g->e, 0x400f | ((uint32_t)cond_cc(c) << 8), 2, true, rd, rv1, false);
    free_dead_inputs(g, op, 1, 4);
    set_output(g, td, rd);
}

/* ---- guest memory ------------------------------------------------------------------------ */
/* A guest access op in one shape: plain, a probe (outputs the addend of its
 * window) or a reuse (takes one); see tcg/mem-reuse.c. */
typedef struct MemAccess {
    bool is_store;
    unsigned memop;
    int mmu;
    int t_data, t_addr;
    int t_addend_out, t_addend_in;   /* -1: none */
    uint64_t window;                 /* probes */
    int first_in, n_in;              /* where the inputs are in args */
    int32_t disp;                    /* reuses: the address is t_addr + disp */
} MemAccess;

static MemAccess decode_mem_op(const TCGOp *op)
{
    MemAccess m = { .t_addend_out = -1, .t_addend_in = -1 };
    const TCGArg *a = op->args;
    switch (op->opc) {
    case INDEX_op_qemu_ld_probe:
        m = (MemAccess){ false, (unsigned)a[3], (int)a[4], (int)a[0], (int)a[2], (int)a[1], -1, a[5], 2, 1 };
        break;
    case INDEX_op_qemu_st_probe:
        m = (MemAccess){ true, (unsigned)a[3], (int)a[4], (int)a[1], (int)a[2], (int)a[0], -1, a[5], 1, 2 };
        break;
    case INDEX_op_qemu_ld_reuse:
        m = (MemAccess){ false, (unsigned)a[3], (int)a[4], (int)a[0], (int)a[1], -1, (int)a[2], 0, 1, 2,
                         (int32_t)a[5] };
        break;
    case INDEX_op_qemu_st_reuse:
        m = (MemAccess){ true, (unsigned)a[3], (int)a[4], (int)a[0], (int)a[1], -1, (int)a[2], 0, 0, 3,
                         (int32_t)a[5] };
        break;
    default:
        m.is_store = op->opc == INDEX_op_qemu_st;
        m.memop = (unsigned)a[2];
        m.mmu = (int)a[3];
        m.t_data = (int)a[0];
        m.t_addr = (int)a[1];
        m.first_in = m.is_store ? 0 : 1;
        m.n_in = m.is_store ? 2 : 1;
        break;
    }
    return m;
}

static unsigned access_perms(bool is_store, unsigned memop)
{
    return is_store || (memop & MO_RMW) ? TCG_WINDOW_WRITE : TCG_WINDOW_READ;
}

static void emit_jcc_rel32(Gen *g, uint8_t cc, size_t *patch)
{
    em_byte(&g->e, 0x0f);
    em_byte(&g->e, (uint8_t)(0x80 | cc));
    *patch = emitter_off(&g->e, g->cb);
    em_u32(&g->e, 0);
}

/* BMI2 on the host: RORX copies and shifts in one instruction. */
static bool host_has_bmi2;

/* d = TLB entry offset of a's page: ((a >> 12) & (TLB_SIZE - 1)) << 5. The
 * rotate leaves the same bits in place as the shift (the mask drops the rest). */
static void emit_tlb_index(Emitter *e, int d, int a)
{
    if (host_has_bmi2 && d != a) {
        em_byte(e, 0xc4);                                  /* rorx d, a, 7 (VEX.LZ.F2.0F3A.W1 F0) */
        em_byte(e, (uint8_t)(((d & 8) ? 0 : 0x80) | 0x40 | ((a & 8) ? 0 : 0x20) | 0x03));
        em_byte(e, 0xfb);
        em_byte(e, 0xf0);
        em_byte(e, (uint8_t)(0xc0 | ((d & 7) << 3) | (a & 7)));
    } else {
        mov_rr(e, d, a);
        em_rr(e, 0xc1, 1, true, 5, d, false);              /* shr d, 12 - 5 */
    }
    em_byte(e, TARGET_PAGE_BITS - 5);
    em_rr(e, 0x81, 1, false, 4, d, false);                 /* and d32, mask << 5 */
    em_u32(e, (TLB_SIZE - 1) << 5);
}

/* The TLB check of the bytes [addr + lo, addr + lo + len) for the accesses
 * in perms: t1 = the entry's offset (kept for loading the addend), t2 =
 * the page of the last byte, compared with the entry's tag(s); each
 * mismatch jumps to a patch returned in patch[]. Returns their count. */
static int emit_tlb_check(Gen *g, int ra, int32_t lo, unsigned len, unsigned perms, int t1, int t2,
                          int32_t ent, size_t patch[2])
{
    Emitter *e = &g->e;
    int32_t last = lo + (int32_t)len - 1;
    if (lo) {
        em_rm(e, 0x8d, 1, true, t1, ra, -1, 0, lo, false);   /* lea t1, [a + lo] */
        emit_tlb_index(e, t1, t1);
    } else {
        emit_tlb_index(e, t1, ra);
    }
    if (last)
        em_rm(e, 0x8d, 1, true, t2, ra, -1, 0, last, false);  /* lea t2, [a + last] */
    else
        mov_rr(e, t2, ra);
    em_rr(e, 0x81, 1, true, 4, t2, false);                 /* and t2, page mask */
    em_u32(e, (uint32_t)TARGET_PAGE_MASK);
    int n = 0;
    static const struct { unsigned perm; int32_t off; } tags[] = {
        { TCG_WINDOW_READ, offsetof(TLBEntry, addr_read) },
        { TCG_WINDOW_WRITE, offsetof(TLBEntry, addr_write) },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(tags); i++) {
        if (!(perms & tags[i].perm))
            continue;
        em_rm(e, 0x3b, 1, true, t2, R12, t1, 0, ent + tags[i].off, false);   /* cmp t2, [r12 + t1 + tag] */
        emit_jcc_rel32(g, 0x5, &patch[n++]);
    }
    return n;
}

static int32_t tlb_table_offset(int mmu)
{
    return (int32_t)(offsetof(TCGCPU, tlb) + (size_t)mmu * TLB_SIZE * sizeof(TLBEntry));
}

static void emit_host_access(Emitter *e, bool is_store, unsigned memop, int data, int ra, int radd,
                             int32_t disp)
{
    if (is_store)
        store_mem(e, memop, data, ra, radd, disp);
    else
        load_mem(e, memop & MO_VALUE, data, ra, radd, disp);
}

/* A helper-call record for this access, with the dirty globals to write
 * back first (the helper may fault). NULL when the block has too many. */
static SlowPath *slow_path_new(Gen *g)
{
    if (g->nb_slow >= (int)ARRAY_SIZE(g->slow) || g->nb_fallback >= (int)ARRAY_SIZE(g->fallback)) {
        g->failed = true;
        return NULL;
    }
    SlowPath *sp = &g->slow[g->nb_slow++];
    sp->nsync = 0;
    sp->none_reg = -1;
    sp->addr_disp = 0;
    for (int r = 0; r < 16; r++) {
        int t = g->reg_temp[r];
        if (t >= 0 && g->s->temps[t].kind == TEMP_GLOBAL && !g->ts[t].coherent) {
            sp->sync[sp->nsync].reg = (int8_t)r;
            sp->sync[sp->nsync].off = g->s->temps[t].env_offset;
            sp->nsync++;
        }
    }
    for (int t = 1; t < g->s->nb_globals && sp->nsync < ARRAY_SIZE(sp->sync); t++) {
        if (g->ts[t].val == TS_CONST && !g->ts[t].coherent) {
            sp->sync[sp->nsync].reg = -1;
            sp->sync[sp->nsync].off = g->s->temps[t].env_offset;
            sp->sync[sp->nsync].imm = (int32_t)g->ts[t].cst;
            sp->nsync++;
        }
    }
    return sp;
}

/* Inline: a plain access does the full check; a probe checks its whole
 * window and outputs the addend; a reuse tests the addend it was given.
 * Whatever fails goes out of line (MemFallback, then SlowPath; a reuse with
 * a displacement straight to the SlowPath: it has no address register). */
static void gen_guest_mem(Gen *g, const TCGOp *op)
{
    MemAccess m = decode_mem_op(op);
    bool probe = m.t_addend_out >= 0, reuse = m.t_addend_in >= 0;
    unsigned size = 1u << (m.memop & MO_SIZE);
    int ra = temp_load(g, m.t_addr, 0);
    int rv = m.is_store ? temp_load(g, m.t_data, 0) : -1;
    int radd_in = reuse ? temp_load(g, m.t_addend_in, 0) : -1;
    bool folded = reuse && m.disp;
    int t1 = -1, t2 = -1;       /* t2: a probe's addend output */
    if (!folded || !m.is_store) {
        t1 = reg_alloc(g, 0);
        g->locked |= 1 << t1;
    }
    if (!folded) {
        t2 = reg_alloc(g, 0);
        g->locked |= 1 << t2;
    }
    Emitter *e = &g->e;
    SlowPath *sp = slow_path_new(g);
    if (!sp)
        return;
    int32_t ent = tlb_table_offset(m.mmu);
    /* a load's result may take the address register when the address dies */
    int rd = m.is_store ? rv
             : (op->dead & 1) && m.t_addr > 0 && g->s->temps[m.t_addr].kind != TEMP_GLOBAL ? ra : t1;
    size_t jumps[2];
    int nj;
    if (reuse) {
        em_rr(e, 0xf6, 1, false, 0, radd_in, true);        /* test radd8, 1 */
        em_byte(e, TCG_ADDEND_NONE);
        emit_jcc_rel32(g, 0x5, &jumps[0]);
        nj = 1;
        emit_host_access(e, m.is_store, m.memop, rd, ra, radd_in, m.disp);
    } else {
        int32_t lo = probe ? tcg_window_lo(m.window) : 0;
        unsigned len = probe ? tcg_window_len(m.window) : size;
        unsigned perms = probe ? tcg_window_perms(m.window) : access_perms(m.is_store, m.memop);
        nj = emit_tlb_check(g, ra, lo, len, perms, t1, t2, ent, jumps);
        em_rm(e, 0x8b, 1, true, t2, R12, t1, 0, ent + (int32_t)offsetof(TLBEntry, addend), false);
        emit_host_access(e, m.is_store, m.memop, rd, ra, t2, 0);
    }
    uintptr_t done = em_rx(e);
    if ((probe || reuse) && !folded) {
        MemFallback *fb = &g->fallback[g->nb_fallback++];
        *fb = (MemFallback){ .npatch = nj, .is_store = m.is_store, .memop = m.memop, .mmu = m.mmu,
                             .addr_reg = (int8_t)ra, .data_reg = (int8_t)rd, .t1 = (int8_t)t1,
                             .t2 = (int8_t)t2, .none_reg = (int8_t)(probe ? t2 : -1),
                             .done_rx = done, .slow = (int)(sp - g->slow) };
        memcpy(fb->patch, jumps, sizeof(jumps));
    } else {
        sp->jne_patch = jumps[0];
    }
    sp->is_store = m.is_store;
    sp->memop = m.memop;
    sp->mmu = m.mmu;
    sp->addr_reg = ra;
    sp->addr_disp = folded ? m.disp : 0;
    sp->data_reg = rd;
    sp->done_rx = done;
    sp->none_reg = (int8_t)(probe ? t2 : -1);
    uint16_t save = 0;
    for (int r = 0; r < 16; r++)
        if ((CALLER_SAVED & (1 << r)) && g->reg_temp[r] >= 0 && (m.is_store || r != rd))
            save |= 1 << r;
    if (!m.is_store && rd != ra)
        save &= ~(1 << rd);
    sp->save = save;
    free_dead_inputs(g, op, m.first_in, m.n_in);
    if (!m.is_store)
        set_output(g, m.t_data, rd);
    if (probe)
        set_output(g, m.t_addend_out, t2);
}

/* The single-access check, for a probe or reuse op whose shared one failed. */
static void emit_mem_fallback(Gen *g, MemFallback *fb)
{
    Emitter *e = &g->e;
    for (int i = 0; i < fb->npatch; i++)
        patch_rel32(g->cb, fb->patch[i], emitter_off(e, g->cb));
    unsigned size = 1u << (fb->memop & MO_SIZE);
    int32_t ent = tlb_table_offset(fb->mmu);
    size_t miss[2];
    emit_tlb_check(g, fb->addr_reg, 0, size, access_perms(fb->is_store, fb->memop), fb->t1, fb->t2, ent, miss);
    g->slow[fb->slow].jne_patch = miss[0];
    em_rm(e, 0x8b, 1, true, fb->t2, R12, fb->t1, 0, ent + (int32_t)offsetof(TLBEntry, addend), false);
    emit_host_access(e, fb->is_store, fb->memop, fb->data_reg, fb->addr_reg, fb->t2, 0);
    if (fb->none_reg >= 0)
        movi(e, fb->none_reg, TCG_ADDEND_NONE);
    jmp_abs(e, fb->done_rx);
}

static void emit_slow_path(Gen *g, SlowPath *sp)
{
    Emitter *e = &g->e;
    patch_rel32(g->cb, sp->jne_patch, emitter_off(e, g->cb));
    for (int i = 0; i < sp->nsync; i++) {
        if (sp->sync[i].reg < 0) {
            em_rm(e, 0xc7, 1, true, 0, RBP, -1, 0, sp->sync[i].off, false);
            em_u32(e, (uint32_t)sp->sync[i].imm);
        } else {
            em_rm(e, 0x89, 1, true, sp->sync[i].reg, RBP, -1, 0, sp->sync[i].off, false);
        }
    }
    int n = 0;
    for (int r = 0; r < 16; r++) {
        if (sp->save & (1 << r)) {
            em_rex(e, false, 0, 0, r, false);
            em_byte(e, (uint8_t)(0x50 + (r & 7)));
            n++;
        }
    }
    if (n & 1)
        em_rr(e, 0x83, 1, true, 5, RSP, false), em_byte(e, 8);   /* sub rsp, 8 */
    if (sp->is_store) {
        /* value -> rdx, address -> rsi, whatever registers they are in */
        em_rex(e, false, 0, 0, sp->data_reg, false);
        em_byte(e, (uint8_t)(0x50 + (sp->data_reg & 7)));
        em_rex(e, false, 0, 0, sp->addr_reg, false);
        em_byte(e, (uint8_t)(0x50 + (sp->addr_reg & 7)));
        em_byte(e, 0x58 + RSI);
        em_byte(e, 0x58 + RDX);
        if (sp->addr_disp)
            em_rm(e, 0x8d, 1, true, RSI, RSI, -1, 0, sp->addr_disp, false);   /* lea rsi, [rsi + disp] */
        mov_rr(e, RDI, RBP);
        movi(e, RCX, sp->memop);
        movi(e, R8, (uint64_t)sp->mmu);
        em_rex(e, true, 0, 0, R9, false);
        em_byte(e, (uint8_t)(0xb8 + (R9 & 7)));
        em_u64(e, sp->done_rx);
        call_abs(e, (uintptr_t)tcg_st_slow);
    } else {
        if (sp->addr_disp)
            em_rm(e, 0x8d, 1, true, RSI, sp->addr_reg, -1, 0, sp->addr_disp, false);
        else
            mov_rr(e, RSI, sp->addr_reg);
        mov_rr(e, RDI, RBP);
        movi(e, RDX, sp->memop);
        movi(e, RCX, (uint64_t)sp->mmu);
        em_rex(e, true, 0, 0, R8, false);
        em_byte(e, (uint8_t)(0xb8 + (R8 & 7)));
        em_u64(e, sp->done_rx);
        call_abs(e, (uintptr_t)tcg_ld_slow);
        mov_rr(e, sp->data_reg, RAX);
    }
    if (n & 1)
        em_rr(e, 0x83, 1, true, 0, RSP, false), em_byte(e, 8);   /* add rsp, 8 */
    for (int r = 15; r >= 0; r--) {
        if (sp->save & (1 << r)) {
            em_rex(e, false, 0, 0, r, false);
            em_byte(e, (uint8_t)(0x58 + (r & 7)));
        }
    }
    if (sp->none_reg >= 0)
        movi(e, sp->none_reg, TCG_ADDEND_NONE);
    jmp_abs(e, sp->done_rx);
}

/* ---- host memory ld/st ------------------------------------------------------------------- */
static void gen_ld(Gen *g, const TCGOp *op)
{
    int td = (int)op->args[0], tbase = (int)op->args[1];
    int32_t off = (int32_t)op->args[2];
    int rb = temp_load(g, tbase, 0);
    int rd = reg_alloc(g, 0);
    g->locked |= 1 << rd;
    load_mem(&g->e, (unsigned)op->args[3], rd, rb, -1, off);
    free_dead_inputs(g, op, 1, 1);
    set_output(g, td, rd);
}

static void gen_st(Gen *g, const TCGOp *op)
{
    int tv = (int)op->args[0], tbase = (int)op->args[1];
    int32_t off = (int32_t)op->args[2];
    unsigned memop = (unsigned)op->args[3];
    int64_t v;
    int rb = temp_load(g, tbase, 0);
    if (is_const(g, tv, &v) && fits_i32(v) && (memop & MO_SIZE) >= MO_32) {
        em_rm(&g->e, 0xc7, 1, (memop & MO_SIZE) == MO_64, 0, rb, -1, 0, off, false);
        em_u32(&g->e, (uint32_t)v);
    } else {
        int rv = temp_load(g, tv, 0);
        store_mem(&g->e, memop, rv, rb, -1, off);
    }
    free_dead_inputs(g, op, 0, 2);
}

/* ---- calls ----------------------------------------------------------------------------- */
static void gen_call(Gen *g, const TCGOp *op)
{
    const TCGCall *c = op->call;
    bool pure = c->flags & TCG_CALL_PURE;
    if (!pure)
        sync_globals(g);
    /* Everything in caller-saved registers goes to memory first; then the
     * arguments load without conflicts. */
    for (int r = 0; r < 16; r++)
        if ((CALLER_SAVED & (1 << r)) && g->reg_temp[r] >= 0)
            temp_spill(g, g->reg_temp[r]);
    g->locked = 0;
    for (int i = 0; i < c->nargs; i++) {
        int t = c->args[i], r = call_arg_regs[i];
        TempState *ts = &g->ts[t];
        if (t == 0)
            mov_rr(&g->e, r, RBP);
        else if (ts->val == TS_REG)
            mov_rr(&g->e, r, ts->reg);
        else if (ts->val == TS_CONST)
            movi(&g->e, r, ts->cst);
        else if (ts->val == TS_MEM)
            em_rm(&g->e, 0x8b, 1, true, r, temp_base(g, t), -1, 0, temp_slot(g, t), false);
        else
            movi(&g->e, r, 0);
    }
    for (int i = 0; i < c->nargs; i++) {
        if (!(op->dead & (1u << i)))
            continue;
        int t = c->args[i];
        if (t <= 0 || g->s->temps[t].kind == TEMP_GLOBAL)
            continue;
        if (g->ts[t].val == TS_REG)
            reg_free(g, g->ts[t].reg);
        g->ts[t].val = TS_DEAD;
    }
    call_abs(&g->e, (uintptr_t)c->func);
    if (!pure) {
        /* the helper may have changed any global */
        for (int r = 0; r < 16; r++) {
            int t = g->reg_temp[r];
            if (t >= 0 && g->s->temps[t].kind == TEMP_GLOBAL) {
                reg_free(g, r);
                g->ts[t].val = TS_MEM;
                g->ts[t].coherent = true;
            }
        }
        for (int t = 1; t < g->s->nb_globals; t++) {
            if (g->ts[t].val == TS_CONST) {
                g->ts[t].val = TS_MEM;
                g->ts[t].coherent = true;
            }
        }
    }
    int ret = (int)(int64_t)op->args[0];
    if (c->has_ret && ret >= 0)
        set_output(g, ret, RAX);
}

/* ---- block exits ------------------------------------------------------------------------ */
static void gen_exit(Gen *g, uint64_t val)
{
    movi(&g->e, RAX, val);
    jmp_abs(&g->e, g->cb->epilogue);
}

static void gen_goto_tb(Gen *g, int n)
{
    Emitter *e = &g->e;
    em_byte(e, 0xe9);
    g->tb->jmp_patch_ofs[n] = (uint32_t)(emitter_off(e, g->cb) - (size_t)((uint8_t *)g->tb->code - g->cb->rx));
    em_u32(e, 0);   /* falls through to the exit path until chained */
    g->tb->jmp_reset_ofs[n] = g->tb->jmp_patch_ofs[n] + 4;
    gen_exit(g, TB_EXIT_CHAIN(g->tb, n));
}

static uintptr_t lookup_code(CPUX86State *env)
{
    TranslationBlock *tb = tb_lookup_fast(env);
    CodeBuffer *cb = tcg_cpu(env)->backend_state;
    return tb ? (uintptr_t)tb->code : cb->exit0;
}

/* 64-bit code: probe the jump cache inline before calling lookup_code. In
 * 64-bit mode a block's flags are exactly hflags (no segment checks), so
 * pc, cs_base and hflags identify it; anything unusual takes the call. */
static void gen_jmp_cache_probe(Gen *g)
{
    Emitter *e = &g->e;
    size_t miss[10];
    int nm = 0;
#define JNE_MISS(cc)                                                       \
    do {                                                                   \
        em_byte(e, 0x0f);                                                  \
        em_byte(e, (uint8_t)(0x80 | (cc)));                                \
        miss[nm++] = emitter_off(e, g->cb);                                \
        em_u32(e, 0);                                                      \
    } while (0)
    /* debug registers armed: blocks carry TBF_DEBUG, let the C lookup decide */
    em_rm(e, 0xf6, 1, false, 0, RBP, -1, 0, (int32_t)offsetof(CPUX86State, dr[7]), false);
    em_byte(e, 0xff);                                  /* test byte [rbp + dr7], 0xff */
    JNE_MISS(0x5);
    em_rm(e, 0x8b, 1, true, RAX, RBP, -1, 0, (int32_t)offsetof(CPUX86State, rip), false);
    /* rcx = jmp_cache_hash(rip) */
    mov_rr(e, RCX, RAX);
    em_rr(e, 0xc1, 1, true, 5, RCX, false);            /* shr rcx, JMP_CACHE_BITS */
    em_byte(e, JMP_CACHE_BITS);
    em_rr(e, 0x31, 1, true, RAX, RCX, false);          /* xor rcx, rax */
    em_rr(e, 0x81, 1, false, 4, RCX, false);           /* and ecx, size - 1 */
    em_u32(e, JMP_CACHE_SIZE - 1);
    em_rm(e, 0x8b, 1, true, RDX, R12, RCX, 3, (int32_t)offsetof(TCGCPU, jmp_cache), false);
    em_rr(e, 0x85, 1, true, RDX, RDX, false);          /* test rdx, rdx */
    JNE_MISS(0x4);                                     /* jz miss */
    em_rm(e, 0x3b, 1, true, RAX, RDX, -1, 0, (int32_t)offsetof(TranslationBlock, pc), false);
    JNE_MISS(0x5);
    em_rm(e, 0x8b, 1, false, RAX, RBP, -1, 0, (int32_t)offsetof(CPUX86State, hflags), false);
    em_rm(e, 0x3b, 1, false, RAX, RDX, -1, 0, (int32_t)offsetof(TranslationBlock, flags), false);
    JNE_MISS(0x5);
    em_rm(e, 0x8b, 1, true, RAX, RBP, -1, 0,
          (int32_t)(offsetof(CPUX86State, segs) + R_CS * sizeof(SegmentCache) + offsetof(SegmentCache, base)),
          false);
    em_rm(e, 0x3b, 1, true, RAX, RDX, -1, 0, (int32_t)offsetof(TranslationBlock, cs_base), false);
    JNE_MISS(0x5);
    em_rm(e, 0x83, 1, false, 7, RDX, -1, 0, (int32_t)offsetof(TranslationBlock, cflags), false);
    em_byte(e, 0);                                     /* cmp dword [rdx + cflags], 0 */
    JNE_MISS(0x5);
    em_rm(e, 0x80, 1, false, 7, RDX, -1, 0, (int32_t)offsetof(TranslationBlock, invalid), false);
    em_byte(e, 0);                                     /* cmp byte [rdx + invalid], 0 */
    JNE_MISS(0x5);
    /* an entry from before the last TLB flush: the C lookup revalidates it */
    em_rm(e, 0x8b, 1, true, RAX, R12, RCX, 3, (int32_t)offsetof(TCGCPU, jmp_cache_epoch), false);
    em_rm(e, 0x3b, 1, true, RAX, R12, -1, 0, (int32_t)offsetof(TCGCPU, jc_epoch), false);
    JNE_MISS(0x5);
    em_rm(e, 0xff, 1, false, 4, RDX, -1, 0, (int32_t)offsetof(TranslationBlock, code), false);  /* jmp [rdx + code] */
    for (int i = 0; i < nm; i++)
        patch_rel32(g->cb, miss[i], emitter_off(e, g->cb));
#undef JNE_MISS
}

/* ---- self-loops ---------------------------------------------------------------------------
 * A block whose direct jump re-enters itself (goto_loop) keeps its most used
 * globals in fixed host registers around the back edge: loaded once after
 * the entry check, written back only on the ways out (exits, the slow paths
 * of guest memory accesses, helper calls, the exit request at the back edge).
 * Callee-saved registers first: they survive pure helper calls. */
static const int loop_regs[LOOP_MAX_CARRIED] = { RBX, R13, R14, R15, RSI, RDI, R8, R9 };

static int carried_index(Gen *g, int t)
{
    for (int i = 0; i < g->nb_carried; i++)
        if (g->carried[i].temp == t)
            return i;
    return -1;
}

static void count_use(const TCGContext *s, int *uses, TCGArg a)
{
    int t = (int)(int64_t)a;
    if (t > 0 && t < s->nb_globals)
        uses[t]++;
}

/* Picks the globals to carry around the loop (the most used ones); false
 * when the block does not loop. */
static bool plan_loop(Gen *g)
{
    TCGContext *s = g->s;
    int uses[TCG_MAX_TEMPS] = { 0 };
    bool written[TCG_MAX_TEMPS] = { false };
    bool loops = false;
    g->nb_carried = 0;
    for (int n = s->nb_ops - 1; n >= 0; n--) {
        const TCGOp *op = &s->ops[n];
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        if (op->opc == INDEX_op_goto_loop)
            loops = true;
        for (int i = 0; i < def->nb_oargs; i++) {   /* a call's: its result */
            int t = (int)(int64_t)op->args[i];
            if (t > 0 && t < s->nb_globals)
                written[t] = true;
        }
        if (op->opc == INDEX_op_call) {
            count_use(s, uses, op->args[0]);
            for (int i = 0; i < op->call->nargs; i++)
                count_use(s, uses, (TCGArg)op->call->args[i]);
        } else if (op->opc != INDEX_op_discard) {
            for (int i = 0; i < def->nb_oargs + def->nb_iargs; i++)
                count_use(s, uses, op->args[i]);
        }
    }
    if (!loops)
        return false;
    while (g->nb_carried < LOOP_MAX_CARRIED) {
        int best = 0;
        for (int t = 1; t < s->nb_globals; t++)
            if (uses[t] > uses[best])
                best = t;
        if (!best)
            break;
        g->carried[g->nb_carried].temp = best;
        g->carried[g->nb_carried].reg = loop_regs[g->nb_carried];
        g->carried[g->nb_carried].written = written[best];
        g->nb_carried++;
        uses[best] = 0;
    }
    return true;
}

/* The output register of op for a global carried around the loop: its home
 * register when that is free or holds the value op overwrites (and op does
 * not read it), so that the back edge has nothing to move; else -1. */
static int loop_home_reg(Gen *g, const TCGOp *op, uint16_t avoid)
{
    if (!g->nb_carried)
        return -1;
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    int t = (int)op->args[0], i = carried_index(g, t);
    if (i < 0)
        return -1;
    for (int k = 0; k < def->nb_iargs; k++)
        if ((int)op->args[def->nb_oargs + k] == t)
            return -1;
    int r = g->carried[i].reg, cur = g->reg_temp[r];
    if (((avoid | g->locked) & (1 << r)) || (cur >= 0 && cur != t))
        return -1;
    g->locked |= 1 << r;
    return r;
}

/* The allocator's state at the loop head: carried globals in their
 * registers, the rest in memory. The back edge does not store the carried
 * globals, so those the block writes are dirty; the others hold what env
 * holds (a helper that changes env makes them reload). */
static void enter_loop_head_state(Gen *g)
{
    forget_registers(g);
    for (int i = 0; i < g->nb_carried; i++) {
        int t = g->carried[i].temp, r = g->carried[i].reg;
        g->reg_temp[r] = t;
        g->ts[t].val = TS_REG;
        g->ts[t].reg = (int8_t)r;
        g->ts[t].coherent = !g->carried[i].written;
    }
}

static void gen_loop_preheader(Gen *g)
{
    for (int i = 0; i < g->nb_carried; i++)
        em_rm(&g->e, 0x8b, 1, true, g->carried[i].reg, RBP, -1, 0,
              g->s->temps[g->carried[i].temp].env_offset, false);
    enter_loop_head_state(g);
    g->loop_head = emitter_off(&g->e, g->cb);
}

/* The moves that bring the registers to the state of a loop block's labels
 * and loop head (enter_loop_head_state): everything not carried in memory,
 * the carried globals in their registers (a parallel move: xchg breaks
 * cycles). Planned on copies, so a stub can take them out of line. */
static int plan_label_moves(Gen *g, Move *mv)
{
    int n = 0, loc[LOOP_MAX_CARRIED], who[16];
    for (int r = 0; r < 16; r++) {
        int t = g->reg_temp[r];
        TCGTempKind k = t > 0 ? g->s->temps[t].kind : TEMP_NORMAL;
        who[r] = -1;
        if ((k == TEMP_GLOBAL || k == TEMP_LOCAL) && carried_index(g, t) < 0 &&
            g->ts[t].val == TS_REG && !g->ts[t].coherent)
            mv[n++] = (Move){ .kind = MV_STORE, .reg = (int8_t)r, .base = (uint8_t)temp_base(g, t),
                              .off = temp_slot(g, t) };
    }
    for (int t = 1; t < g->s->nb_globals && n < MAX_MOVES - 2 * LOOP_MAX_CARRIED; t++)
        if (g->ts[t].val == TS_CONST && !g->ts[t].coherent && carried_index(g, t) < 0)
            mv[n++] = (Move){ .kind = MV_STORE_IMM, .base = RBP, .off = temp_slot(g, t), .imm = g->ts[t].cst };
    for (int i = 0; i < g->nb_carried; i++) {
        const TempState *ts = &g->ts[g->carried[i].temp];
        loc[i] = ts->val == TS_REG && g->reg_temp[ts->reg] == g->carried[i].temp ? ts->reg : -1;
        if (loc[i] >= 0)
            who[loc[i]] = i;
    }
    /* each step puts one global home for good */
    for (int i = 0; i < g->nb_carried; i++) {
        int home = g->carried[i].reg, x = loc[i];
        if (x < 0 || x == home)
            continue;
        int j = who[home];
        if (j >= 0) {
            mv[n++] = (Move){ .kind = MV_XCHG, .reg = (int8_t)home, .reg2 = (int8_t)x };
            loc[j] = x;
            who[x] = j;
        } else {
            mv[n++] = (Move){ .kind = MV_MOV, .reg = (int8_t)home, .reg2 = (int8_t)x };
            who[x] = -1;
        }
        loc[i] = home;
        who[home] = i;
    }
    for (int i = 0; i < g->nb_carried; i++) {
        int t = g->carried[i].temp, home = g->carried[i].reg;
        if (loc[i] >= 0)
            continue;
        if (g->ts[t].val == TS_CONST)
            mv[n++] = (Move){ .kind = MV_MOVI, .reg = (int8_t)home, .imm = g->ts[t].cst };
        else
            mv[n++] = (Move){ .kind = MV_LOAD, .reg = (int8_t)home, .base = RBP, .off = temp_slot(g, t) };
    }
    return n;
}

static void emit_moves(Gen *g, const Move *mv, int n)
{
    Emitter *e = &g->e;
    for (int i = 0; i < n; i++) {
        const Move *m = &mv[i];
        switch (m->kind) {
        case MV_STORE:
            em_rm(e, 0x89, 1, true, m->reg, m->base, -1, 0, m->off, false);
            break;
        case MV_STORE_IMM:
            em_rm(e, 0xc7, 1, true, 0, m->base, -1, 0, m->off, false);
            em_u32(e, (uint32_t)m->imm);
            break;
        case MV_MOV:
            mov_rr(e, m->reg, m->reg2);
            break;
        case MV_XCHG:
            em_rr(e, 0x87, 1, true, m->reg, m->reg2, false);
            break;
        case MV_LOAD:
            em_rm(e, 0x8b, 1, true, m->reg, m->base, -1, 0, m->off, false);
            break;
        case MV_MOVI:
            movi(e, m->reg, m->imm);
            break;
        }
    }
}

/* Inline: to the label state (before a label, a br, the back edge). */
static void to_label_state(Gen *g)
{
    Move mv[MAX_MOVES];
    emit_moves(g, mv, plan_label_moves(g, mv));
    enter_loop_head_state(g);
}

/* brcond in a loop block: the moves on the taken side, out of line (or
 * inline, jumped over, when the stubs are used up); the fall-through keeps
 * its registers. */
static void gen_loop_brcond(Gen *g, int label, TCGCond c)
{
    Move mv[MAX_MOVES];
    int n = plan_label_moves(g, mv);
    Emitter *e = &g->e;
    if (!n) {
        jump_to_label(g, label, cond_cc(c));
        return;
    }
    if (g->nb_stubs < MAX_EDGE_STUBS) {
        EdgeStub *st = &g->stubs[g->nb_stubs++];
        memcpy(st->mv, mv, sizeof(Move) * (size_t)n);
        st->n = n;
        st->label = label;
        em_byte(e, 0x0f);
        em_byte(e, (uint8_t)(0x80 | cond_cc(c)));
        st->jcc_patch = emitter_off(e, g->cb);
        em_u32(e, 0);
        return;
    }
    em_byte(e, 0x0f);
    em_byte(e, (uint8_t)(0x80 | (cond_cc(c) ^ 1)));   /* the opposite: skip the moves */
    size_t skip = emitter_off(e, g->cb);
    em_u32(e, 0);
    emit_moves(g, mv, n);
    jump_to_label(g, label, 0xff);
    patch_rel32(g->cb, skip, emitter_off(e, g->cb));
}

static void emit_edge_stub(Gen *g, const EdgeStub *st)
{
    patch_rel32(g->cb, st->jcc_patch, emitter_off(&g->e, g->cb));
    emit_moves(g, st->mv, st->n);
    jump_to_label(g, st->label, 0xff);
}

/* The back edge: to the loop head's state, then back to the loop head
 * unless an exit was requested. */
static void gen_goto_loop(Gen *g)
{
    Emitter *e = &g->e;
    to_label_state(g);
    em_rm(e, 0x83, 1, false, 7, R12, -1, 0, (int32_t)offsetof(TCGCPU, exit_flag), false);
    em_byte(e, 0);
    em_byte(e, 0x0f);
    em_byte(e, 0x84);                                  /* je loop_head */
    em_u32(e, (uint32_t)((uintptr_t)(g->cb->rx + g->loop_head) - (em_rx(e) + 4)));
    /* falls through to the ops that leave, in the loop head's state */
}

/* ---- the driver --------------------------------------------------------------------------- */
static bool x86_64_gen_code(TCGContext *s, TranslationBlock *tb)
{
    TCGCPU *t = tcg_current_cpu;
    CodeBuffer *cb = t->backend_state;
    if (!cb->gen)
        cb->gen = xmalloc(sizeof(Gen));
    Gen *g = cb->gen;
    g->s = s;
    g->tb = tb;
    g->cb = cb;
    g->nb_fwd = 0;
    g->nb_slow = 0;
    g->nb_stubs = 0;
    g->nb_fallback = 0;
    g->failed = false;
    g->locked = 0;
    memset(g->label_bound, 0, sizeof(bool) * (size_t)(s->nb_labels + 1));
    for (int r = 0; r < 16; r++)
        g->reg_temp[r] = -1;
    for (int i = 0; i < s->nb_temps; i++) {
        TCGTempKind k = s->temps[i].kind;
        g->ts[i].val = (k == TEMP_GLOBAL || k == TEMP_LOCAL) ? TS_MEM : TS_DEAD;
        g->ts[i].reg = -1;
        g->ts[i].coherent = true;
    }

    size_t start = ALIGN_UP(cb->used, 16);
    emitter_at(&g->e, cb, start, cb->size);
    Emitter *e = &g->e;
    tb->code = cb->rx + start;

    /* entry: leave when the loop asked us to */
    em_rm(e, 0x83, 1, false, 7, R12, -1, 0, (int32_t)offsetof(TCGCPU, exit_flag), false);
    em_byte(e, 0);
    em_byte(e, 0x0f);
    em_byte(e, 0x85);
    em_u32(e, (uint32_t)(cb->exit0 - (em_rx(e) + 4)));
    bool loops = plan_loop(g);

    int insn = -1;
    for (int n = 0; n < s->nb_ops && !g->failed && !e->overflow; n++) {
        const TCGOp *op = &s->ops[n];
        g->locked = 0;
        g->prefer_callee = tcg_op_defs[op->opc].nb_oargs && (int64_t)op->args[0] >= 0 &&
                           s->temps[(int)op->args[0]].kind == TEMP_GLOBAL;
        switch (op->opc) {
        case INDEX_op_discard: {
            int tt = (int)(int64_t)op->args[0];
            if (tt <= 0)
                break;
            if (g->ts[tt].val == TS_REG && g->reg_temp[g->ts[tt].reg] == tt)
                reg_free(g, g->ts[tt].reg);
            if (s->temps[tt].kind == TEMP_GLOBAL) {
                /* its value no longer matters: no write-back */
                g->ts[tt].val = TS_MEM;
                g->ts[tt].reg = -1;
                g->ts[tt].coherent = true;
            } else {
                g->ts[tt].val = TS_DEAD;
            }
            break;
        }
        case INDEX_op_movi: {
            int td = (int)op->args[0];
            TCGTempKind k = s->temps[td].kind;
            if (k == TEMP_NORMAL || (k == TEMP_GLOBAL && fits_i32((int64_t)op->args[1]))) {
                if (g->ts[td].val == TS_REG && g->reg_temp[g->ts[td].reg] == td)
                    reg_free(g, g->ts[td].reg);
                g->ts[td].val = TS_CONST;
                g->ts[td].cst = op->args[1];
                g->ts[td].reg = -1;
                if (k == TEMP_GLOBAL)
                    g->ts[td].coherent = false;
            } else {
                int r = g->ts[td].val == TS_REG ? g->ts[td].reg : reg_alloc(g, 0);
                movi(e, r, op->args[1]);
                set_output(g, td, r);
            }
            break;
        }
        case INDEX_op_mov:
            if (g->ts[(int)op->args[1]].val == TS_CONST && s->temps[(int)op->args[0]].kind == TEMP_NORMAL) {
                int td = (int)op->args[0];
                if (g->ts[td].val == TS_REG)
                    reg_free(g, g->ts[td].reg);
                g->ts[td].val = TS_CONST;
                g->ts[td].cst = g->ts[(int)op->args[1]].cst;
                free_dead_inputs(g, op, 1, 1);
                break;
            }
            gen_unary(g, op);
            break;
        case INDEX_op_add: case INDEX_op_sub: case INDEX_op_and: case INDEX_op_or:
        case INDEX_op_xor: case INDEX_op_mul:
            gen_alu(g, op);
            break;
        case INDEX_op_shl: case INDEX_op_shr: case INDEX_op_sar: case INDEX_op_rotl: case INDEX_op_rotr:
            gen_shift(g, op);
            break;
        case INDEX_op_neg: case INDEX_op_not: case INDEX_op_bswap:
        case INDEX_op_ext8s: case INDEX_op_ext8u: case INDEX_op_ext16s: case INDEX_op_ext16u:
        case INDEX_op_ext32s: case INDEX_op_ext32u:
            gen_unary(g, op);
            break;
        case INDEX_op_mulu2: case INDEX_op_muls2:
            gen_mul2(g, op);
            break;
        case INDEX_op_fpop:
            gen_fpop(g, op);
            break;
        case INDEX_op_vecop:
            gen_vecop(g, op);
            break;
        case INDEX_op_setcond:
            gen_setcond(g, op);
            break;
        case INDEX_op_movcond:
            gen_movcond(g, op);
            break;
        case INDEX_op_brcond: {
            TCGCond c = (TCGCond)op->args[2];
            if (c == TCG_COND_NEVER)
                break;
            if (c == TCG_COND_ALWAYS) {
                if (g->nb_carried)
                    to_label_state(g);
                else
                    sync_all(g, false);
                jump_to_label(g, (int)op->args[3], 0xff);
                break;
            }
            c = emit_compare(g, c, op->flags & TCG_W32, (int)op->args[0], (int)op->args[1]);
            free_dead_inputs(g, op, 0, 2);
            if (g->nb_carried) {
                gen_loop_brcond(g, (int)op->args[3], c);
                break;
            }
            sync_all(g, false);   /* plain movs: the flags survive */
            jump_to_label(g, (int)op->args[3], cond_cc(c));
            break;
        }
        case INDEX_op_br:
            if (g->nb_carried)
                to_label_state(g);
            else
                sync_all(g, false);
            jump_to_label(g, (int)op->args[0], 0xff);
            break;
        case INDEX_op_set_label: {
            /* a loop block's labels keep the carried globals in registers */
            if (g->nb_carried)
                to_label_state(g);
            else
                sync_all(g, true);
            int l = (int)op->args[0];
            g->label_off[l] = emitter_off(e, cb);
            g->label_bound[l] = true;
            break;
        }
        case INDEX_op_ld:
            gen_ld(g, op);
            break;
        case INDEX_op_st:
            gen_st(g, op);
            break;
        case INDEX_op_qemu_ld: case INDEX_op_qemu_st:
        case INDEX_op_qemu_ld_probe: case INDEX_op_qemu_st_probe:
        case INDEX_op_qemu_ld_reuse: case INDEX_op_qemu_st_reuse:
            gen_guest_mem(g, op);
            break;
        case INDEX_op_call:
            gen_call(g, op);
            break;
        case INDEX_op_insn_start:
            if (insn >= 0 && (unsigned)insn < tb->icount)
                tb->insn_host_end[insn] = (uint32_t)(emitter_off(e, cb) - start);
            if (insn < 0 && loops) {
                /* the ops before the first instruction run once per entry */
                sync_all(g, true);
                gen_loop_preheader(g);
            }
            insn++;
            break;
        case INDEX_op_goto_tb:
            sync_all(g, false);
            gen_goto_tb(g, (int)op->args[0]);
            break;
        case INDEX_op_exit_tb:
            sync_all(g, false);
            gen_exit(g, op->args[0]);
            break;
        case INDEX_op_goto_loop:
            gen_goto_loop(g);
            break;
        case INDEX_op_lookup_and_goto:
            sync_all(g, false);
            if ((tb->flags & HF_CS64_MASK) && !log_enabled(LOG_EXEC | LOG_CPU))
                gen_jmp_cache_probe(g);
            mov_rr(e, RDI, RBP);
            call_abs(e, (uintptr_t)lookup_code);
            em_rr(e, 0xff, 1, false, 4, RAX, false);   /* jmp rax */
            break;
        default:
            g->failed = true;
            break;
        }
    }
    if (insn >= 0 && (unsigned)insn < tb->icount)
        tb->insn_host_end[insn] = (uint32_t)(emitter_off(e, cb) - start);
    /* fallbacks first: they patch their slow paths' jumps */
    for (int i = 0; i < g->nb_fallback && !e->overflow; i++)
        emit_mem_fallback(g, &g->fallback[i]);
    for (int i = 0; i < g->nb_slow && !e->overflow; i++)
        emit_slow_path(g, &g->slow[i]);
    for (int i = 0; i < g->nb_stubs && !e->overflow; i++)
        emit_edge_stub(g, &g->stubs[i]);
    if (e->overflow)
        return false;
    if (g->failed)
        fatal("x86_64 backend: cannot generate code for the block at 0x%" PRIx64, tb->pc);
    for (int i = 0; i < g->nb_fwd; i++) {
        int l = g->fwd[i].label;
        if (!g->label_bound[l])
            fatal("x86_64 backend: branch to an unbound label");
        patch_rel32(cb, g->fwd[i].patch, g->label_off[l]);
    }
    size_t end = emitter_off(e, cb);
    tb->code_size = (uint32_t)(end - start);
    cb->used = end;
    return true;
}

/* ---- runtime ------------------------------------------------------------------------------ */
static void emit_runtime(CodeBuffer *cb)
{
    Emitter em, *e = &em;
    emitter_at(e, cb, 0, cb->size);
    cb->prologue = em_rx(e);
    static const int saved[] = { RBP, RBX, R12, R13, R14, R15 };
    for (unsigned i = 0; i < ARRAY_SIZE(saved); i++) {
        em_rex(e, false, 0, 0, saved[i], false);
        em_byte(e, (uint8_t)(0x50 + (saved[i] & 7)));
    }
    em_rr(e, 0x81, 1, true, 5, RSP, false);   /* sub rsp, FRAME_SIZE */
    em_u32(e, FRAME_SIZE);
    mov_rr(e, RBP, RDI);
    mov_rr(e, R12, RSI);
    em_rr(e, 0xff, 1, false, 4, RDX, false);  /* jmp rdx */

    cb->exit0 = em_rx(e);
    movi(e, RAX, 0);
    cb->epilogue = em_rx(e);
    em_rr(e, 0x81, 1, true, 0, RSP, false);   /* add rsp, FRAME_SIZE */
    em_u32(e, FRAME_SIZE);
    for (int i = (int)ARRAY_SIZE(saved) - 1; i >= 0; i--) {
        em_rex(e, false, 0, 0, saved[i], false);
        em_byte(e, (uint8_t)(0x58 + (saved[i] & 7)));
    }
    em_byte(e, 0xc3);
    cb->first_tb = ALIGN_UP(emitter_off(e, cb), 64);
    cb->used = cb->first_tb;
}

static bool x86_64_init(char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    host_has_bmi2 = __builtin_cpu_supports("bmi2");
    return true;
}

static CodeBuffer *buffer_of(TCGCPU *t)
{
    if (!t->backend_state) {
        CodeBuffer *cb = code_buffer_new();
        emit_runtime(cb);
        t->backend_state = cb;
    }
    return t->backend_state;
}

static uintptr_t x86_64_exec(CPUX86State *env, TranslationBlock *tb)
{
    TCGCPU *t = tcg_cpu(env);
    CodeBuffer *cb = buffer_of(t);
    uintptr_t (*entry)(void *, void *, void *) = (uintptr_t (*)(void *, void *, void *))cb->prologue;
    return entry(env, t, tb->code);
}

static void x86_64_set_jump(TranslationBlock *tb, int n, TranslationBlock *dest)
{
    CodeBuffer *cb = tcg_current_cpu->backend_state;
    size_t at = (size_t)((uint8_t *)tb->code - cb->rx) + tb->jmp_patch_ofs[n];
    size_t target = dest ? (size_t)((uint8_t *)dest->code - cb->rx) : at + 4;
    patch_rel32(cb, at, target);
}

static void x86_64_invalidate(TranslationBlock *tb)
{
    CodeBuffer *cb = tcg_current_cpu->backend_state;
    size_t at = (size_t)((uint8_t *)tb->code - cb->rx);
    Emitter em;
    emitter_at(&em, cb, at, at + 5);
    jmp_abs(&em, cb->exit0);
}

static void x86_64_reset(void)
{
    TCGCPU *t = tcg_current_cpu;
    if (t && t->backend_state) {
        CodeBuffer *cb = t->backend_state;
        cb->used = cb->first_tb;
    }
}

static int x86_64_insn_from_ra(TranslationBlock *tb, uintptr_t ra)
{
    uintptr_t off = ra - (uintptr_t)tb->code;
    for (unsigned i = 0; i < tb->icount; i++)
        if (off <= tb->insn_host_end[i])
            return (int)i;
    return (int)tb->icount - 1;
}

static void x86_64_dump(TranslationBlock *tb)
{
    log_printf("OUT: [size=%u]\n", tb->code_size);
    log_disas_x86(tb->code, tb->code_size, (uintptr_t)tb->code, 64);
    log_printf("\n");
}

static void x86_64_free_state(TCGCPU *t)
{
    CodeBuffer *cb = t->backend_state;
    if (!cb)
        return;
    munmap(cb->rx, cb->size);
    if (cb->rw != cb->rx)
        munmap(cb->rw, cb->size);
    free(cb->gen);
    free(cb);
    t->backend_state = NULL;
}

static bool x86_64_gen_code_entry(TCGContext *s, TranslationBlock *tb)
{
    buffer_of(tcg_current_cpu);
    return x86_64_gen_code(s, tb);
}

const TCGBackend tcg_backend_x86_64 = {
    .name = "x86_64",
    .init = x86_64_init,
    .gen_code = x86_64_gen_code_entry,
    .exec = x86_64_exec,
    .set_jump = x86_64_set_jump,
    .invalidate = x86_64_invalidate,
    .reset = x86_64_reset,
    .insn_from_ra = x86_64_insn_from_ra,
    .dump = x86_64_dump,
    .free_state = x86_64_free_state,
};
