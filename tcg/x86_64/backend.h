/* Shared state of the x86-64 backend (the files of tcg/x86_64/): the code
 * buffer, the register allocator's view of temps, out-of-line paths, and the
 * small instruction helpers every op lowering uses. */
#ifndef TCG_X86_64_BACKEND_H
#define TCG_X86_64_BACKEND_H

#include <stddef.h>
#include "accel/tcg-cpu.h"
#include "system/util.h"
#include "tcg/x86_64/emit.h"

TranslationBlock *tb_lookup_fast(CPUX86State *env);

#define FRAME_SIZE (TCG_MAX_TEMPS * 8 + 8)   /* keeps rsp 16-byte aligned in TB code */

typedef struct CodeBuffer {
    uint8_t *rx, *rw;
    size_t size, used, first_tb;
    uintptr_t prologue, epilogue, exit0;
    /* see emit_jmp_cache_exit and emit_jmp_cache_lookup (tcg/x86_64/indirect.c) */
    uintptr_t jmp_cache_exit, jmp_cache_lookup;
    /* victim TLB probes by [mmu][write][t1][t2] (tcg/x86_64/ldst.c) */
    uintptr_t victim_probe[MMU_MODES][2][16][16];
    struct Gen *gen;      /* the code generator's working state */
} CodeBuffer;

static const uint16_t ALLOCATABLE = 0xffff & ~((1 << RSP) | (1 << RBP) | (1 << R12));
static const uint16_t CALLER_SAVED = (1 << RAX) | (1 << RCX) | (1 << RDX) | (1 << RSI) | (1 << RDI) |
                                     (1 << R8) | (1 << R9) | (1 << R10) | (1 << R11);
static const int call_arg_regs[6] = { RDI, RSI, RDX, RCX, R8, R9 };

static inline size_t emitter_off(const Emitter *e, const CodeBuffer *cb) { return (size_t)(e->rw - cb->rw); }

/* ---- small instruction helpers ------------------------------------------------------- */
static inline void mov_rr(Emitter *e, int d, int s)
{
    if (d != s)
        em_rr(e, 0x89, 1, true, s, d, false);
}

static inline void movi(Emitter *e, int d, uint64_t v)
{
    if (v == 0) {
        em_rr(e, 0x31, 1, false, d, d, false);             /* xor d32, d32 */
        e->flag_clobbers++;
    } else if (v <= 0xffffffffULL) {
        if (em_room(e)) {   /* mov d32, imm32 through a local pointer (emit.h) */
            uint8_t *p = enc_rex(e->rw, false, 0, 0, d, false);
            uint32_t imm = (uint32_t)v;
            *p++ = (uint8_t)(0xb8 + (d & 7));
            memcpy(p, &imm, 4);
            e->rw = p + 4;
            return;
        }
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

static inline void jmp_abs(Emitter *e, uintptr_t target)
{
    em_byte(e, 0xe9);
    em_u32(e, (uint32_t)(target - (em_rx(e) + 4)));
}

static inline void call_abs(Emitter *e, uintptr_t fn)
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
static inline void load_mem(Emitter *e, unsigned memop, int d, int base, int index, int32_t disp)
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

static inline void store_mem(Emitter *e, unsigned memop, int v, int base, int index, int32_t disp)
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
    /* The TLB check's registers at the jump here: t1 free, t2 the page of
     * the access's last byte (-1: none, no victim probe) */
    int8_t t1, t2;
    /* Dirty globals, written back only on this path: the fast path cannot
     * fault, the slow one can (and then the CPU state must be in env). */
    uint8_t nsync;
    struct { int8_t reg; int32_t off; int32_t imm; } sync[24];   /* reg -1: imm */
    /* Cold ops to run after the write-back: Gen.cold[cold_first..+cold_n). */
    int16_t cold_first, cold_n;
} SlowPath;

/* Where a cold op's input is when the slow path is entered. CL_MEM: [reg + off]. */
typedef struct ColdLoc {
    enum { CL_REG, CL_CONST, CL_MEM } kind;
    int8_t reg;
    int32_t off;
    uint64_t cst;
} ColdLoc;

/* A cold op (tcg/x86_64/cold.c) recorded for a slow path. */
typedef struct ColdOp {
    uint16_t opc;
    bool w32;
    uint8_t cond;         /* setcond */
    uint8_t nin;
    ColdLoc in[2];
    ColdLoc out;          /* the result's home */
} ColdOp;

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

#define LOOP_MAX_CARRIED 9
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
    int32_t disp;         /* a reuse with a folded displacement: address = addr_reg + disp */
    uint16_t free_regs;   /* ... and the registers holding nothing at the access */
    uintptr_t done_rx;
    int slow;
    int cache;            /* an access cache to refill on a TLB hit (loop.c), or -1 */
} MemFallback;

/* Access caches (loop.c): a plain access in a loop whose address steps
 * through memory keeps the page it last used and that page's addend in two
 * frame slots past the temps'. */
#define LOOP_MAX_CACHES 8
typedef struct AccessCache {
    int op;               /* the access op */
    int32_t tag_slot;     /* [rsp + tag_slot]: the page, or -1 (never matches) */
    int32_t addend_slot;  /* [rsp + addend_slot]: its host addend */
} AccessCache;

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
    /* A label only one conditional branch goes to, bound to a chainable exit
     * (goto_tb n, nothing before it): that n, else -1. The branch's own jcc
     * is then the exit's patched jump (direct_exit[n]). */
    int8_t label_exit[TCG_MAX_LABELS];
    bool direct_exit[TB_MAX_JMPS];
    /* The unchained ways out of goto_tb (RIP store, exit), emitted after
     * the block's other code so that the code run once chained is dense. */
    struct { int8_t n; uint64_t pc; } exit_stub[TB_MAX_JMPS];
    int nb_exit_stubs;
    struct { size_t patch; int label; } fwd[TCG_MAX_LABELS * 4];
    int nb_fwd;
    SlowPath slow[TCG_MAX_OPS / 4];
    int nb_slow;
    MemFallback fallback[TCG_MAX_OPS / 4];
    int nb_fallback;
    bool failed;
    /* allocating for a global: prefer registers that survive helper calls */
    bool prefer_callee;
    /* A looping block (goto_loop): these globals sit in these host
     * registers at every label. */
    int nb_carried;
    struct { int temp; int reg; bool written; } carried[LOOP_MAX_CARRIED];
    EdgeStub stubs[MAX_EDGE_STUBS];
    int nb_stubs;
    AccessCache cache[LOOP_MAX_CACHES];
    int nb_caches;
    /* cold ops (TCG_COLD) waiting for their access, and those recorded for slow paths */
    /* the host flags as the last `sub` left them (flags.c) */
    struct {
        bool valid, w32, b_const, logic;
        int a, b;          /* a - b set them (a sub), or -1 */
        int res, copy;     /* the result they were set from, a copy of it; or -1 */
        int copy_dst, copy_src, snap_dst, snap_src;   /* the last copy (flags.c track_copy) */
        bool copy_low, snap_low;
        int late_forget;   /* a setcond/movcond output: forgotten at the next op */
        int64_t b_val;
        uint32_t clobbers;
    } fl;
    const TCGOp *cold_pending[64];
    int nb_cold_pending;
    ColdOp cold[512];
    int nb_cold;
} Gen;

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


int32_t temp_slot(Gen *g, int t);
int temp_base(Gen *g, int t);
void reg_free(Gen *g, int r);
void temp_spill(Gen *g, int t);
int reg_alloc(Gen *g, uint16_t avoid);
int temp_load(Gen *g, int t, uint16_t avoid);
void reg_evict(Gen *g, int r, uint16_t avoid);
bool is_const(Gen *g, int t, int64_t *v);
void free_dead_inputs(Gen *g, const TCGOp *op, int first_in, int n_in);
void forget_registers(Gen *g);
void sync_all(Gen *g, bool drop);
void sync_globals(Gen *g);
int in_place_reg(Gen *g, const TCGOp *op, int in_index, uint16_t avoid);
int out_reg_from(Gen *g, const TCGOp *op, int in_index, uint16_t avoid);
void set_output(Gen *g, int t, int r);
uint8_t cond_cc(TCGCond c);
TCGCond emit_compare(Gen *g, TCGCond c, bool w32, int ta, int tb);
void gen_alu(Gen *g, const TCGOp *op);
void gen_shift(Gen *g, const TCGOp *op);
bool gen_scaled_add(Gen *g, const TCGOp *op, const TCGOp *next);
void gen_unary(Gen *g, const TCGOp *op);
void gen_mul2(Gen *g, const TCGOp *op);
void gen_deposit(Gen *g, const TCGOp *op);
void gen_setcond(Gen *g, const TCGOp *op);
bool gen_setcond_into_byte(Gen *g, const TCGOp *op, const TCGOp *next);
void gen_movcond(Gen *g, const TCGOp *op);
void gen_fpop(Gen *g, const TCGOp *op);
void gen_vecop(Gen *g, const TCGOp *op);
void gen_guest_mem(Gen *g, const TCGOp *op);
void gen_guest_probe(Gen *g, const TCGOp *op);
void emit_mem_fallback(Gen *g, MemFallback *fb);
void emit_slow_path(Gen *g, SlowPath *sp);
void emit_victim_probes(CodeBuffer *cb, Emitter *e);
void emit_jmp_cache_exit(CodeBuffer *cb, Emitter *e);
void emit_jmp_cache_lookup(CodeBuffer *cb, Emitter *e);
void gen_host_ld(Gen *g, const TCGOp *op);
void gen_host_st(Gen *g, const TCGOp *op);
void cold_queue(Gen *g, const TCGOp *op);
void cold_before_slow_path(Gen *g);
void cold_attach(Gen *g, SlowPath *sp);
void cold_done(Gen *g);
void cold_flush_inline(Gen *g);
void emit_cold_code(Gen *g, const ColdOp *c, int n);
bool plan_loop(Gen *g);
/* The temps a looping block carries in host registers, best first (for tests). */
int loop_homes(const TCGContext *s, int *temps);
int loop_cache_of(const Gen *g, const TCGOp *op);
void loop_caches_reset(Gen *g);
void flags_before_op(Gen *g, const TCGOp *op);
void flags_note_alu(Gen *g, const TCGOp *op, int d, int a, int b, bool w32);
bool flags_hold_compare(Gen *g, TCGCond c, bool w32, int a, int b);
int loop_home_reg(Gen *g, const TCGOp *op, uint16_t avoid);
bool loop_keep_discarded(Gen *g, int t);
void to_label_state(Gen *g);
void gen_loop_brcond(Gen *g, int label, TCGCond c);
void emit_edge_stub(Gen *g, const EdgeStub *st);
void gen_goto_loop(Gen *g, int label);
void gen_lookup_and_goto(Gen *g, const TCGOp *op);
/* xlink.c: a lookup's transfer site (NULL: none); the sites run most */
struct XferSite *gen_xlink_site(Gen *g, const TCGOp *op);

void gen_ras_record(Gen *g, const TCGOp *op);
void *tb_arena_alloc(TCGCPU *t, size_t n);
void jump_to_label(Gen *g, int label, uint8_t jcc /* 0xff = jmp */);
void patch_rel32(CodeBuffer *cb, size_t at, size_t target);

extern bool host_has_bmi2;

#endif
