/* x86 -> IR translator: shared state of translate*.c. */
#ifndef CPU_X86_TRANSLATE_H
#define CPU_X86_TRANSLATE_H

#include <stddef.h>
#include "cpu/x86/cc.h"
#include "cpu/x86/cpu.h"
#include "cpu/x86/decode.h"
#include "tcg/tb.h"
#include "tcg/tcg.h"

/* How the block continues after an instruction. */
typedef enum DisasJump {
    DISAS_NEXT,        /* fall through to the next instruction */
    DISAS_NORETURN,    /* code already left the block (exception raised, goto_tb emitted) */
    DISAS_EXIT,        /* env->rip is set; state the loop or the TB flags depend on may
                        * have changed: recheck events, look up with the new flags */
    DISAS_JUMP,        /* env->rip is set; look up the next TB (indirect branch) */
    DISAS_TOO_MANY,    /* block full: continue at s->next_pc through goto_tb */
} DisasJump;

/* A translation region (translate-region.c): the instructions of one page a
 * block follows through its branches, translated in address order as one
 * unit, with IR labels where branches land. */
#define REGION_MAX_INSNS 96
#define REGION_MAX_LABELS 48
#define REGION_MAX_STUBS 32

typedef struct RegionLabel {
    uint64_t pc;
    int label;
    bool bound;          /* set_label emitted */
    bool code;           /* bound before its instruction's code (a back edge may come) */
    bool loop_head;      /* a back edge is planned: cc_op dynamic unless hinted */
    bool seen;           /* an edge arrived: cc_op is the edges' static cc_op, or dynamic */
    uint32_t cc_op;
    uint32_t hint;       /* a loop head: the static cc_op all its edges brought last pass */
    bool back_seen;      /* a back edge came: back_cc is their static cc_op, or dynamic */
    uint32_t back_cc;
    uint32_t fwd_cc;     /* a loop head: its forward edges' cc_op, as cc_op before binding */
    uint32_t first_cc;   /* the first forward edge's cc_op */
} RegionLabel;

/* A branch out of the straight-line code, emitted at the end: a back edge
 * (goto_loop with its exit) or an exit of the region. */
typedef struct RegionStub {
    int label;
    uint64_t target;
    uint32_t cc_op;
    bool cc_op_dirty;    /* env->cc_op not stored on the way: the stub stores it if it leaves */
} RegionStub;

/* Loop heads of a region whose edges (forward and back) all bring one static
 * cc_op, found by a first translation: a second one keeps that cc_op static
 * at the head, so back edges do not store it and flag readers there need no
 * run-time cc_op (translate-region.c). */
typedef struct CcHints {
    int n;
    uint64_t pc[REGION_MAX_LABELS];
    uint32_t cc_op[REGION_MAX_LABELS];
} CcHints;

typedef struct Region {
    bool loops;          /* the block's start is a loop head (self-loops) */
    bool on;             /* several basic blocks planned */
    bool flow_ended;     /* the last translated instruction does not fall through */
    int n, next;         /* planned instructions; the next one to translate */
    uint64_t pc[REGION_MAX_INSNS];   /* ascending */
    uint64_t end;        /* end of the highest translated instruction */
    RegionLabel lab[REGION_MAX_LABELS];
    int nb_lab;
    RegionStub stub[REGION_MAX_STUBS];
    int nb_stub;
} Region;

typedef struct DisasContext {
    CPUX86State *env;
    TranslationBlock *tb;
    X86Decoded d;
    uint64_t pc;            /* EIP/RIP of the current instruction */
    uint64_t next_pc;
    uint64_t cs_base;
    uint32_t flags;         /* tb->flags */
    bool code64, code32, ss32, addseg, pe, vm86;
    int cpl, iopl;
    int mem_idx;
    uint32_t cc_op;         /* statically known cc_op, or CC_OP_DYNAMIC */
    bool cc_op_dirty;       /* env->cc_op differs from cc_op */
    DisasJump is_jmp;
    bool jmp_used[TB_MAX_JMPS];
    /* conditional branches the translation went on through: their taken
     * ways, emitted after the block's end (gen_side_exits) */
    struct { int label; uint64_t target; uint32_t cc_op; } side[TB_MAX_JMPS - 2];
    int nb_side;
    /* indirect branches to a bad target: #GP(0) at the branch, out of the
     * straight-line code (gen_fault_exits) */
    struct { int label; uint64_t pc; } fault[4];
    int nb_fault;
    bool segcheck;          /* check segment limits and types on every access */
    bool smp;               /* several vCPUs: LOCK'ed accesses use host atomics */
    struct { TCGv linear, offset; int seg; unsigned addrsize; } segrec[8];   /* for limit checks */
    int nb_segrec;
    /* The operands of the last CMP/SUB, usable by a Jcc/SETcc/CMOVcc right
     * after it (same basic block): compares them directly. sub: SUB, not
     * CMP; zext: both hold their size's bits zero-extended (operand loads,
     * not an atomic's old value), so unsigned compares need no extension. */
    struct { TCGv a, b; unsigned size; int insn; uint32_t cc_op; bool sub, zext; } last_cmp;
    /* A flag value this instruction reads, computed at its start from a
     * dynamic cc_op (translate-cc.c: gen_cc_prefetch); the ops of the last
     * INC/DEC one and where that INC/DEC wrote cc_src (removed when dead). */
    struct { int insn, what; TCGv value; int guard_first, guard_end, src_written; } cc_pre;
    /* The op storing a run-time cc_op (a shift by CL: gen_shift_var), or -1;
     * replaced: a static cc_op has been set since (translate-cc.c). */
    struct { int st; bool replaced; } dyn_cc;
    /* The first instruction's cc_op guard passed for guess cc_op: a self-loop
     * whose back edge leaves that cc_op re-enters here (-1: no such label). */
    struct { int label; uint32_t cc_op; } loop_entry;
    TCGv ss_linear;         /* the last linear address made through SS (or -1) */
    bool rmw;               /* operand 0 is read, then written (load with write intent) */
    TCGv A0;                /* effective linear address of the memory operand */
    bool a0_valid;
    int insn_count;
    int max_insns;
    Region region;
    const CcHints *hints_in;   /* this pass keeps these loop heads static */
    CcHints *hints_out;        /* this pass finds them (NULL: not asked) */
    bool hints_broken;         /* an edge disagreed with a hint: translate again without */
    /* After a label with a dynamic cc_op: the static cc_op its first forward
     * edge brought, the likely one at run time (CC_OP_DYNAMIC: none). */
    uint32_t label_guess;
    /* The block ends with a near RET in 64-bit code: what its pop added to
     * RSP (the return stack is indexed by the RSP the address was at). */
    unsigned ret_pop;
    /* The instruction's control transfer when it ends the block through a
     * lookup (TCGXferKind; set by direct CALLs and indirect transfers). */
    uint8_t xfer_kind;
} DisasContext;

/* tb->flags bit (beside hflags): a segment is not flat, so accesses are
 * checked against limits and types (protected mode, 16/32-bit). */
#define TBF_SEGCHECK (1u << 31)
/* tb->flags bits 20..25 (one per segment register, R_ES..R_GS): accesses
 * through that segment need only a limit check, which the translated code
 * makes inline (see x86_seg_tb_flags); the others call helper_seg_check. */
#define TBF_SEG_INLINE_SHIFT 20
#define TBF_SEG_INLINE(seg) (1u << (TBF_SEG_INLINE_SHIFT + (seg)))
/* tb->flags bit: debug registers have enabled breakpoints (per-instruction
 * checks are compiled in). */
#define TBF_DEBUG (1u << 30)

/* The globals (tcg temps mapped to env fields), set up per vCPU context. */
extern TCGv cpu_regs[16];   /* same temp indices in every context */
extern TCGv cpu_cc_dst, cpu_cc_src, cpu_cc_src2;
void x86_tcg_init_globals(void);

/* Code fetch for the translator: returns false when the byte cannot be read
 * (fault); *phys is the physical address. Provided by the execution engine. */
bool x86_fetch_code_byte(CPUX86State *env, uint64_t linear, uint8_t *byte, uint64_t *phys);
/* The host address of linear's code page when it is plain memory, else NULL. */
const uint8_t *x86_code_page_ptr(CPUX86State *env, uint64_t linear, uint64_t *phys_page);

/* Translate a block starting at tb->pc into tcg_ctx. */
void x86_translate_block(CPUX86State *env, TranslationBlock *tb, int max_insns);

/* ---- translate.c: infrastructure used by the instruction routines ---------- */
#define ENV_OFF(field) ((int64_t)offsetof(CPUX86State, field))
TCGv gen_reg_load(DisasContext *s, int reg, unsigned size);     /* zero-extended */
void gen_reg_store(DisasContext *s, int reg, unsigned size, TCGv v);
TCGv gen_seg_base(int seg);
void gen_lea_addr(DisasContext *s);            /* sets s->A0 for the ModRM operand */
TCGv gen_ea_offset(DisasContext *s);           /* ModRM effective address, no segment */
TCGv gen_linear(DisasContext *s, TCGv offset, int seg);  /* offset -> linear (s->addrsize mask) */
TCGv gen_linear_sized(DisasContext *s, TCGv offset, int seg, unsigned addrsize);
TCGv gen_ld(DisasContext *s, TCGv addr, unsigned size);           /* zero-extended */
TCGv gen_ld_rmw(DisasContext *s, TCGv addr, unsigned size);       /* ... that will be written */
/* With segment checks on: check a whole access of size bytes (< 64 KiB, e.g. an
 * XMM operand or an FXSAVE area) at an address from gen_linear/gen_lea_addr and return the
 * checked linear address (accesses derived from it are not checked again). */
TCGv gen_checked_linear(DisasContext *s, TCGv addr, unsigned size, bool write);
/* ... for an operand that must be 16-byte aligned: #GP(0) for misalignment
 * comes before the limit check's #GP/#SS (the caller still checks alignment
 * when no segment check applies) */
TCGv gen_checked_linear_align16(DisasContext *s, TCGv addr, unsigned size, bool write);
/* 64-bit mode: addr was made through SS, so non-canonical is #SS(0) */
bool gen_is_stack_addr(DisasContext *s, TCGv addr);
/* addr + delta, still counted as a stack address when addr is one */
TCGv gen_addr_offset(DisasContext *s, TCGv addr, int64_t delta);
void gen_st(DisasContext *s, TCGv addr, TCGv v, unsigned size);
TCGv gen_operand_load(DisasContext *s, int i);
void gen_operand_store(DisasContext *s, int i, TCGv v);
unsigned op_size(DisasContext *s, int i);
int default_data_seg(DisasContext *s);
TCGv gen_ext(TCGv v, unsigned size, bool sign);
TCGv gen_sext(TCGv v, unsigned size);
TCGv gen_zext(TCGv v, unsigned size);
unsigned size_log2(unsigned size);
unsigned stack_size(DisasContext *s);          /* 2, 4 or 8 */
void gen_push(DisasContext *s, TCGv v, unsigned size);
TCGv gen_pop_peek(DisasContext *s, unsigned size, unsigned offset);
void gen_pop_commit(DisasContext *s, unsigned size);
void gen_sp_add(DisasContext *s, int64_t delta);

/* flags */
void set_cc_op(DisasContext *s, uint32_t op);
void gen_update_cc_op(DisasContext *s);
void gen_cc_result(DisasContext *s, unsigned kind, unsigned size, TCGv dst, TCGv src, TCGv src2);
TCGv gen_compute_eflags(DisasContext *s);      /* CC_MASK bits */
TCGv gen_compute_cf(DisasContext *s);          /* 0 / 1 */
TCGv gen_compute_zf(DisasContext *s);          /* 0 / 1, never a helper call */
void gen_set_eflags_cc(DisasContext *s, TCGv flags);  /* switch to CC_OP_EFLAGS */
void gen_discard_dead_cc(DisasContext *s);     /* cc globals the static cc_op ignores */
/* The op just emitted stores a run-time cc_op to env (removed if dead). */
void gen_note_dynamic_cc_op_store(DisasContext *s);
/* First thing of an instruction that reads flags while cc_op is dynamic:
 * computes them inline for the likely cc_op (checked at run time). */
void gen_cc_prefetch(DisasContext *s);
void gen_jcc(DisasContext *s, unsigned cond, int label);  /* branch when condition true */
TCGv gen_setcc(DisasContext *s, unsigned cond);
/* d = condition ? v1 : v2 (the compare straight from the lazy flags) */
void gen_movcond_cc(DisasContext *s, unsigned cond, TCGv d, TCGv v1, TCGv v2);

/* control flow */
/* The RIP value pc as the code computes it (a constant, or relative to
 * env->tb_pc_base in a PC-relative block). */
TCGv gen_pc_value(DisasContext *s, uint64_t pc);
void gen_set_rip(DisasContext *s, uint64_t rip);
void gen_set_rip_tcg(TCGv v);
void gen_jmp_to(DisasContext *s, uint64_t target, int n);  /* direct jump, chainable */
/* A direct JMP (call false) or CALL (after its push) to target: true when
 * the translation goes on at target (s->next_pc) instead of ending. */
bool gen_follow(DisasContext *s, uint64_t target, bool call);
/* A Jcc (cc_op stored): true when the translation goes on at its
 * fall-through, the taken way leaving through a side exit. */
bool gen_follow_jcc(DisasContext *s, unsigned cond, uint64_t target);
/* After the block's end: the taken ways of the Jccs it went on through. */
void gen_side_exits(DisasContext *s);
/* The #GP(0) raises of gen_set_branch_target, after the block's end. */
void gen_fault_exits(DisasContext *s);
void gen_ras_push(DisasContext *s, TCGv ret_addr, unsigned size);   /* a CALL: hint the return stack */
bool gen_is_self_loop(DisasContext *s, uint64_t target);   /* target re-enters this block */
void gen_exception(DisasContext *s, int vector, int error_code, bool has_error);
void gen_sync_for_helper(DisasContext *s);     /* rip of this insn and cc_op into env */
uint64_t mask_ip(DisasContext *s, uint64_t ip);
TCGv gen_env_ld(int64_t off, unsigned memop);
void gen_env_st(TCGv v, int64_t off, unsigned memop);

/* Helper call convenience: h(env, ...) with GETPC-based unwinding. */
#define gen_helper(fn, ret, n, ...) tcg_gen_call((void *)(fn), #fn, 0, ret, n, __VA_ARGS__)
#define gen_helper_pure(fn, ret, n, ...) tcg_gen_call((void *)(fn), #fn, TCG_CALL_PURE, ret, n, __VA_ARGS__)

/* ---- translate-region.c: translation regions ------------------------------------- */
/* Plan a region from tb->pc (decoding with fetch); false: a plain block. */
bool region_plan(DisasContext *s, X86FetchFn fetch, void *opaque);
/* The block's start as a loop head (bound now, before any instruction). */
void region_start(DisasContext *s);
/* Before the instruction at pc: false when it is unreachable (skip it);
 * binds its label and takes the label's cc_op. */
bool region_enter_insn(DisasContext *s, uint64_t pc);
/* The IR label of a jump to target inside the region ahead, or -1. */
int region_forward_label(DisasContext *s, uint64_t target);
/* The loop head label a jump to target goes back to, or -1. */
int region_back_edge(DisasContext *s, uint64_t target);
/* The back edge to target is taken now: notes its cc_op; true when the
 * head's cc_op is static and this edge's, so env->cc_op need not be stored. */
bool region_take_back_edge(DisasContext *s, uint64_t target);
/* A jump to target leaves the region: a hinted loop head there breaks the hints. */
void region_note_exit(DisasContext *s, uint64_t target);
/* After a pass: the hints its loop heads give (s->hints_out). */
void region_collect_hints(DisasContext *s);
/* Jcc inside a region whose fall-through stays in it: branch to target
 * (a label ahead, or a stub out of line) and fall through; false: not one. */
bool gen_region_jcc(DisasContext *s, unsigned cond, uint64_t target);
/* After the last instruction: the stubs, and the labels never reached. */
void region_finish(DisasContext *s);

/* ---- translate-insn.c ------------------------------------------------------- */
/* Emit IR for s->d; sets s->is_jmp. */
void x86_translate_insn(DisasContext *s);

/* ---- hook for the x87/SSE translator (another file); NULL = #UD ----------
 * Set it once (e.g. from a constructor). It is called for I_FPU (D8-DF),
 * I_SSE (0F xx, 0F 38 xx, 0F 3A xx SSE slots), I_FXSAVE/FXRSTOR/LDMXCSR/
 * STMXCSR/XSAVE/XRSTOR and I_WAIT, after the #NM checks (CR0.EM/TS/MP) were
 * made here. s->d is the decoded instruction: d.prefix (66/F2/F3 as
 * mandatory prefixes), d.map and d.opcode, d.modrm/mod/reg/rm (REX applied),
 * d.imm for SSE forms with an imm8. gen_lea_addr(s) puts the memory
 * operand's linear address in s->A0; gen_ld/gen_st access guest memory;
 * gen_helper(fn, ret, n, tcg_env, ...) calls C (sync(s)-style state sync:
 * gen_sync_for_helper before a helper that may fault); gen_exception raises.
 * The hook sets s->is_jmp only when it ends the block. */
extern void (*x86_translate_fpu_hook)(DisasContext *s);

#endif
