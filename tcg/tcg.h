/* The translator's intermediate representation (IR).
 *
 * A translation block (TB) is translated from guest instructions into a list
 * of IR ops, optimised (tcg/optimize.c), then handed to a backend: the x86-64
 * host code emitter (tcg/x86_64/) or the portable IR interpreter
 * (tcg/interp/). Both implement exactly the semantics written here.
 *
 * Values. Every temp holds a 64-bit integer. An op with the TCG_W32 flag works
 * on the low 32 bits of its inputs and zero-extends its 32-bit result (like
 * x86-64's 32-bit instructions); comparisons with W32 compare the low halves.
 *
 * Temps.
 *   global  a field of the CPU state (env + offset, 64 bits): guest registers,
 *           RIP, lazy-flag operands. Backends may cache them in host
 *           registers inside a TB but write them back before every op that
 *           can leave the TB or observe env (calls, guest memory accesses,
 *           exits, branches to labels).
 *   local   a scratch value that survives branches and labels.
 *   normal  a scratch value that is dead at the end of its basic block
 *           (i.e. at every label, br/brcond, or exit).
 *   env     the fixed temp holding the CPU state pointer (tcg_env).
 *
 * Ops take temps only (movi makes constants); backends and the optimiser
 * notice constant inputs themselves.
 *
 * Guest memory: qemu_ld/qemu_st take a linear ("virtual") address temp, a
 * memop (size, sign) and an MMU index; they go through the softmmu TLB and may
 * raise a guest exception (leaving the TB through longjmp, after the backend
 * wrote globals back). They are "insn-precise": the execution engine maps the
 * faulting point back to the last insn_start to restore RIP and cc_op.
 *
 * Block exits: goto_tb n, pc leaves for the TB's successor n, whose RIP is
 * pc (an offset from env->tb_pc_base in a PC-relative block). The
 * successor knows its own PC, so env->rip is written only on the way out
 * to the loop: when the jump is not chained, or when the successor's exit
 * check stops it. exit_tb and lookup_and_goto find RIP in env.
 *
 * Loops: goto_loop jumps back to a label already bound (a loop head: the
 * TB's start, or a label inside a translation region) unless an exit is
 * requested (the check a TB entry does); then it falls through to the ops
 * that leave (they set RIP). Every cycle of a TB's control flow passes
 * through a goto_loop: br and brcond only jump forward. The state on the
 * jump back is as at any label (globals in env, cc_op stored), except that
 * a backend may keep globals in host registers around the back edge. The
 * ops before the first label (block set-up) run once per entry.
 *
 * Probe sharing: qemu_ld_probe/qemu_st_probe are qemu_ld/qemu_st that also
 * output an "addend": when the TLB entry of the page holding the whole
 * window [addr + lo, addr + lo + len) allows the window's accesses (read,
 * write: TCG_WINDOW_*) on plain RAM, the addend is the entry's host addend
 * (host address = guest address + addend; always even: page-aligned);
 * otherwise it is odd. qemu_ld_reuse/qemu_st_reuse take such an addend and
 * access the guest address base + disp (a 64-bit sum; disp a sign-extended
 * 32-bit constant): with an even addend the access (which the producer
 * guarantees lies in the window) goes straight to host memory, otherwise it
 * is an ordinary access. A
 * backend may always output an odd addend. Made only by tcg_mem_reuse.
 * qemu_probe outputs such an addend for the window at addr without
 * accessing anything (it cannot fault); tcg_loop_probe puts it before a
 * looping block's first insn_start, or before a loop head's label on the
 * way in from above, for the loop's reuses.
 *
 * Helper calls: `call` invokes a C function with up to TCG_MAX_CALL_ARGS
 * 64-bit arguments (the env pointer is passed as the env temp) and an
 * optional 64-bit result. Unless flagged TCG_CALL_PURE (reads and writes no
 * globals, raises nothing), globals are written back before the call and
 * reloaded after it, so a helper sees and may change the whole CPU state.
 */
#ifndef TCG_TCG_H
#define TCG_TCG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef uint64_t TCGArg;
typedef int TCGv;           /* a temp index */
#define TCG_NO_TEMP (-1)

typedef enum TCGTempKind {
    TEMP_NORMAL,
    TEMP_LOCAL,
    TEMP_GLOBAL,
    TEMP_ENV,
} TCGTempKind;

/* Condition codes for setcond / brcond / movcond. */
typedef enum TCGCond {
    TCG_COND_NEVER, TCG_COND_ALWAYS,
    TCG_COND_EQ, TCG_COND_NE,
    TCG_COND_LT, TCG_COND_GE, TCG_COND_LE, TCG_COND_GT,      /* signed */
    TCG_COND_LTU, TCG_COND_GEU, TCG_COND_LEU, TCG_COND_GTU,  /* unsigned */
    TCG_COND_TSTEQ, TCG_COND_TSTNE,                          /* (a & b) == 0, != 0 */
} TCGCond;

/* fpop: one IEEE 754 operation on binary64 (binary32 with TCG_FP_F32: the
 * low 32 bits, result zero-extended) under round-to-nearest-even with every
 * exception masked and no flush-to-zero or denormals-are-zero -- as an
 * x86 SSE scalar instruction under MXCSR 0x1F80 computes it, NaN rules
 * included. The second output is the exception flags raised, as MXCSR bits
 * 0-5 (IE DE ZE OE UE PE). SQRT ignores b. UCOM and COM (UCOMISD and
 * COMISD: quiet and signalling) compare a with b: d = the EFLAGS bits they
 * set (ZF 0x40, PF 0x04, CF 0x01). TO_INT converts a to a signed integer,
 * truncating, as CVTTSD2SI does (the integer indefinite when out of range);
 * FROM_INT converts the signed integer a to floating point; both take
 * TCG_FP_I64 for a 64-bit integer, else 32 bits (zero-extended in d). */
enum TCGFpOp {
    TCG_FP_ADD, TCG_FP_SUB, TCG_FP_MUL, TCG_FP_DIV, TCG_FP_SQRT, TCG_FP_UCOM, TCG_FP_COM,
    TCG_FP_TO_INT, TCG_FP_FROM_INT,
    TCG_FP_OP_MASK = 15,
    TCG_FP_F32 = 16,
    TCG_FP_I64 = 32,
};

/* vecop: one x86 SSE integer instruction on 16-byte vectors held in the
 * CPU state, with that instruction's semantics. Constants: c0 = the
 * instruction (TCG_VEC_DESC), c1 = env offset of the destination (also the
 * first operand), c2 = env offset of the source, c3 = env offset of a 64-bit
 * scalar result. No temps: it touches env memory only, never a global.
 * Forms (map 1 = 0F, 2 = 0F 38, 3 = 0F 3A; every instruction 66-prefixed):
 *   TCG_VEC_RR     66 map opcode /r [ib]: d = d OP s (PXOR, PSHUFB, PALIGNR...)
 *   TCG_VEC_FROM_S 66 map opcode /r ib: d = OP(s, imm) (PSHUFD)
 *   TCG_VEC_SHIFT  66 0F opcode /digit ib: d = OP(d, imm) (PSRLD xmm, imm8)
 *   TCG_VEC_STRI   66 0F 3A opcode /r ib (PCMPISTRI): d unchanged; *r = the
 *                  EFLAGS bits it sets (CF ZF SF OF, the others clear) |
 *                  the index (ECX) << 32
 * fe_op is the front end's own number for the operation: tcg_vecop_c(), the
 * C implementation the front end provides, runs it (the interpreter does).
 * The x86-64 backend emits the host's instruction; emit a vecop only where
 * tcg_vecop_available(c0) says so. */
enum { TCG_VEC_RR, TCG_VEC_FROM_S, TCG_VEC_SHIFT, TCG_VEC_STRI };
#define TCG_VEC_DESC(form, map, opcode, digit, has_imm, imm, fe_op)                                \
    ((uint64_t)(form) | (uint64_t)(map) << 4 | (uint64_t)(has_imm) << 6 | (uint64_t)((imm) & 0xff) << 8 | \
     (uint64_t)(opcode) << 16 | (uint64_t)(digit) << 24 | (uint64_t)(fe_op) << 32)
#define TCG_VEC_FORM(desc) ((unsigned)(desc) & 15)
#define TCG_VEC_MAP(desc) ((unsigned)((desc) >> 4) & 3)
#define TCG_VEC_HAS_IMM(desc) ((unsigned)((desc) >> 6) & 1)
#define TCG_VEC_IMM(desc) ((unsigned)((desc) >> 8) & 0xff)
#define TCG_VEC_OPCODE(desc) ((unsigned)((desc) >> 16) & 0xff)
#define TCG_VEC_DIGIT(desc) ((unsigned)((desc) >> 24) & 7)
#define TCG_VEC_FE_OP(desc) ((unsigned)((desc) >> 32) & 0xffff)
bool tcg_vecop_available(uint64_t desc);
extern bool tcg_vecop_use_host;   /* false: never available on the x86-64 backend (tests) */
void tcg_vecop_c(uint64_t desc, void *d, const void *s, uint64_t *r);

/* Memory operation descriptor: log2(size) and signedness. */
enum {
    MO_8 = 0, MO_16 = 1, MO_32 = 2, MO_64 = 3,
    MO_SIZE = 3,
    MO_SIGN = 4,
    MO_8S = MO_8 | MO_SIGN, MO_16S = MO_16 | MO_SIGN, MO_32S = MO_32 | MO_SIGN,
    MO_VALUE = MO_SIZE | MO_SIGN,   /* what the loaded value looks like */
    /* qemu_ld/st only: */
    MO_RMW = 8,      /* a load with write intent (read-modify-write): faults as a write */
    MO_STACK = 16,   /* through SS: a non-canonical address is #SS(0), not #GP(0) */
};

/* The window argument of qemu_ld_probe/qemu_st_probe. */
enum { TCG_WINDOW_READ = 1, TCG_WINDOW_WRITE = 2 };
static inline uint64_t tcg_window_pack(int32_t lo, unsigned len, unsigned perms)
{
    return (uint32_t)lo | (uint64_t)(len & 0xffff) << 32 | (uint64_t)perms << 48;
}
static inline int32_t tcg_window_lo(uint64_t w) { return (int32_t)(uint32_t)w; }
static inline unsigned tcg_window_len(uint64_t w) { return (unsigned)(w >> 32) & 0xffff; }
static inline unsigned tcg_window_perms(uint64_t w) { return (unsigned)(w >> 48) & 3; }
/* The odd addend: "not verified, do a full access" */
#define TCG_ADDEND_NONE 1

/* The opcodes, with the argument layout of each: outputs, inputs, constants.
 * X(name, n_out, n_in, n_const) */
#define TCG_OPCODES(X)                                                      \
    X(discard, 1, 0, 0)     /* t is dead from here on                  */  \
    X(mov, 1, 1, 0)         /* d = a                                   */  \
    X(movi, 1, 0, 1)        /* d = imm                                 */  \
    X(add, 1, 2, 0)                                                         \
    X(sub, 1, 2, 0)                                                         \
    X(mul, 1, 2, 0)                                                         \
    X(and, 1, 2, 0)                                                         \
    X(or, 1, 2, 0)                                                          \
    X(xor, 1, 2, 0)                                                         \
    X(shl, 1, 2, 0)         /* count taken modulo the width            */  \
    X(shr, 1, 2, 0)                                                         \
    X(sar, 1, 2, 0)                                                         \
    X(rotl, 1, 2, 0)                                                        \
    X(rotr, 1, 2, 0)                                                        \
    X(neg, 1, 1, 0)                                                         \
    X(not, 1, 1, 0)                                                         \
    X(ext8s, 1, 1, 0)       /* sign/zero extension from the low bits   */  \
    X(ext8u, 1, 1, 0)                                                       \
    X(ext16s, 1, 1, 0)                                                      \
    X(ext16u, 1, 1, 0)                                                      \
    X(ext32s, 1, 1, 0)                                                      \
    X(ext32u, 1, 1, 0)                                                      \
    X(bswap, 1, 1, 0)       /* byte swap of 32 (W32) or 64 bits        */  \
    X(deposit, 1, 2, 1)     /* d = a with its low c bits (8, 16) from b */ \
    X(mulu2, 2, 2, 0)       /* lo:hi = a * b unsigned (128-bit result) */  \
    X(fpop, 2, 2, 1)        /* d, fl = a FPOP b: see TCGFpOp          */  \
    X(muls2, 2, 2, 0)       /* lo:hi = a * b signed                    */  \
    X(vecop, 0, 0, 4)       /* vector op on env slots: see TCGVecOp    */  \
    X(setcond, 1, 2, 1)     /* d = cond(a, b) ? 1 : 0                  */  \
    X(movcond, 1, 4, 1)     /* d = cond(c1, c2) ? v1 : v2              */  \
    X(brcond, 0, 2, 2)      /* if cond(a, b) goto label                */  \
    X(br, 0, 0, 1)          /* goto label                              */  \
    X(set_label, 0, 0, 1)                                                   \
    X(ld, 1, 1, 2)          /* d = *(memop *)(a + offset), host memory */  \
    X(st, 0, 2, 2)          /* *(memop *)(b + offset) = a              */  \
    X(qemu_ld, 1, 1, 2)     /* d = guest_load(addr, memop, mmu_idx)    */  \
    X(qemu_st, 0, 2, 2)     /* guest_store(addr b, value a, memop, mmu) */ \
    /* TLB-probe sharing (tcg/mem-reuse.c): see "Probe sharing" above   */  \
    X(qemu_ld_probe, 2, 1, 3) /* d, addend = load(addr); memop, mmu, window */ \
    X(qemu_st_probe, 1, 2, 3) /* addend = store(addr b, a); memop, mmu, window */ \
    X(qemu_ld_reuse, 1, 2, 3) /* d = load(a + disp) via addend b; memop, mmu, disp */ \
    X(qemu_st_reuse, 0, 3, 3) /* store(b + disp, value a) via addend c    */ \
    X(qemu_probe, 1, 1, 2)  /* addend = window check at addr; mmu, window: no access, no fault */ \
    X(call, 1, 0, 0)        /* see TCGOp.call                          */  \
    X(insn_start, 0, 0, 2)  /* guest pc, cc_op at the insn's start     */  \
    X(goto_tb, 0, 0, 2)     /* chainable jump to successor n, at pc    */  \
    X(exit_tb, 0, 0, 1)     /* return to the loop (value: see exec)    */  \
    X(lookup_and_goto, 0, 0, 3) /* jump to the TB for env->rip, or exit;  \
                               a RET: the bytes its pop added to RSP;  \
                               the kind of transfer (TCGXferKind);     \
                               the linear RIP expected (a hint)        */  \
    X(ras_push, 0, 2, 0)    /* a CALL pushed return address b at RSP a */  \
    X(goto_loop, 0, 0, 1)   /* back to loop head label, or fall through */

typedef enum TCGOpcode {
#define TCG_OPC_ENUM(name, o, i, c) INDEX_op_##name,
    TCG_OPCODES(TCG_OPC_ENUM)
#undef TCG_OPC_ENUM
    NB_OPS
} TCGOpcode;

typedef struct TCGOpDef {
    const char *name;
    uint8_t nb_oargs, nb_iargs, nb_cargs;
} TCGOpDef;
extern const TCGOpDef tcg_op_defs[NB_OPS];

/* Op flags */
#define TCG_W32 1u          /* 32-bit operation */
/* Cold (set by tcg_cold_sink only): the op sits right before a guest memory
 * access, among other cold ops, and its results are dead after that access:
 * only the access's fault could see them. A backend may compute it on the
 * access's slow path only (before anything there can fault); running it in
 * place, as the interpreter does, is always correct. */
#define TCG_COLD 2u

#define TCG_MAX_CALL_ARGS 6
/* Call flags */
#define TCG_CALL_PURE 1u    /* no globals read or written, no exceptions */

typedef struct TCGCall {
    void *func;
    const char *name;
    uint8_t nargs, flags;
    bool has_ret;
    TCGv args[TCG_MAX_CALL_ARGS];
} TCGCall;

typedef struct TCGOp {
    uint16_t opc;
    uint8_t flags;          /* TCG_W32 */
    uint8_t dead;           /* liveness: bit i set = input i dies here */
    TCGArg args[6];         /* outputs, inputs (temp indices), constants */
    TCGCall *call;          /* INDEX_op_call: args[0] = result temp or TCG_NO_TEMP */
} TCGOp;

typedef struct TCGTemp {
    TCGTempKind kind;
    bool in_use;            /* normal/local temps: allocated */
    int env_offset;         /* globals */
    const char *name;
} TCGTemp;

#define TCG_MAX_TEMPS 1024
#define TCG_MAX_OPS 8192
#define TCG_MAX_LABELS 512

/* Translation context: one per vCPU (not shared between threads). */
typedef struct TCGContext {
    TCGTemp temps[TCG_MAX_TEMPS];
    int nb_globals, nb_temps;
    TCGOp *ops;
    int nb_ops;
    int nb_labels;
    TCGCall *calls;
    int nb_calls;
    bool overflow;          /* too many ops/temps: the translator ends the TB early */
    uint64_t stat_loop_probes;   /* looping blocks given loop-invariant probes (-d jit) */
    uint64_t stat_preheader_probes;   /* loop heads inside a block given probes before them */
    uint64_t stat_static_loop_cc;   /* regions translated again with static cc_op at loop heads */
    uint64_t stat_follow_jmp, stat_follow_call;   /* direct JMPs / CALLs translations went through */
    uint64_t stat_follow_jcc;    /* conditional branches translations went on through */
    uint64_t stat_flags_reused;  /* compares left out: an ALU op's host flags served (x86-64) */
    uint64_t stat_dead_cc_op_stores;   /* run-time cc_op stores (shifts by CL) found dead */
    uint64_t stat_access_caches; /* loop accesses given a page cache (x86-64 loop.c) */
    uint64_t stat_setcc_into_byte;   /* SETcc into a low byte register: setcc on it (x86-64) */
} TCGContext;

extern __thread TCGContext *tcg_ctx;
extern const TCGv tcg_env;  /* temp 0 */

TCGContext *tcg_context_new(void);
void tcg_context_free(TCGContext *s);
/* Declare a global (done once per context, before any TB). */
TCGv tcg_global_new(TCGContext *s, int env_offset, const char *name);
/* Start a new op list (keeps globals). */
void tcg_func_start(TCGContext *s);

TCGv tcg_temp_new(void);
TCGv tcg_temp_local_new(void);
void tcg_temp_free(TCGv t);
int gen_new_label(void);
/* Ops left before the buffer is full; the translator stops at a margin. */
int tcg_ops_left(void);

/* ---- emitters (tcg/tcg-op.c) ---------------------------------------------- */
TCGOp *tcg_emit(TCGOpcode opc, unsigned flags, int nargs, const TCGArg *args);
void tcg_gen_mov(TCGv d, TCGv a);
void tcg_gen_movi(TCGv d, uint64_t imm);
TCGv tcg_const(uint64_t imm);          /* new normal temp holding imm */
void tcg_gen_op2(TCGOpcode opc, unsigned flags, TCGv d, TCGv a);
void tcg_gen_op3(TCGOpcode opc, unsigned flags, TCGv d, TCGv a, TCGv b);
void tcg_gen_op3i(TCGOpcode opc, unsigned flags, TCGv d, TCGv a, uint64_t imm);
#define tcg_gen_add(d, a, b) tcg_gen_op3(INDEX_op_add, 0, d, a, b)
#define tcg_gen_sub(d, a, b) tcg_gen_op3(INDEX_op_sub, 0, d, a, b)
#define tcg_gen_and(d, a, b) tcg_gen_op3(INDEX_op_and, 0, d, a, b)
#define tcg_gen_or(d, a, b) tcg_gen_op3(INDEX_op_or, 0, d, a, b)
#define tcg_gen_xor(d, a, b) tcg_gen_op3(INDEX_op_xor, 0, d, a, b)
#define tcg_gen_shl(d, a, b) tcg_gen_op3(INDEX_op_shl, 0, d, a, b)
#define tcg_gen_shr(d, a, b) tcg_gen_op3(INDEX_op_shr, 0, d, a, b)
#define tcg_gen_sar(d, a, b) tcg_gen_op3(INDEX_op_sar, 0, d, a, b)
#define tcg_gen_addi(d, a, i) tcg_gen_op3i(INDEX_op_add, 0, d, a, i)
#define tcg_gen_subi(d, a, i) tcg_gen_op3i(INDEX_op_sub, 0, d, a, i)
#define tcg_gen_andi(d, a, i) tcg_gen_op3i(INDEX_op_and, 0, d, a, i)
#define tcg_gen_ori(d, a, i) tcg_gen_op3i(INDEX_op_or, 0, d, a, i)
#define tcg_gen_xori(d, a, i) tcg_gen_op3i(INDEX_op_xor, 0, d, a, i)
#define tcg_gen_shli(d, a, i) tcg_gen_op3i(INDEX_op_shl, 0, d, a, i)
#define tcg_gen_shri(d, a, i) tcg_gen_op3i(INDEX_op_shr, 0, d, a, i)
#define tcg_gen_sari(d, a, i) tcg_gen_op3i(INDEX_op_sar, 0, d, a, i)
/* Zero/sign-extend from size bytes (1, 2, 4; 8 is a move). */
void tcg_gen_extu(TCGv d, TCGv a, unsigned size);
void tcg_gen_exts(TCGv d, TCGv a, unsigned size);
/* d = a with its low 8*size bits (size 1 or 2) replaced by b's. */
void tcg_gen_deposit_low(TCGv d, TCGv a, TCGv b, unsigned size);
void tcg_gen_setcond(TCGCond c, unsigned flags, TCGv d, TCGv a, TCGv b);
void tcg_gen_movcond(TCGCond c, unsigned flags, TCGv d, TCGv c1, TCGv c2, TCGv v1, TCGv v2);
void tcg_gen_brcond(TCGCond c, unsigned flags, TCGv a, TCGv b, int label);
void tcg_gen_brcondi(TCGCond c, unsigned flags, TCGv a, uint64_t imm, int label);
void tcg_gen_br(int label);
void tcg_gen_set_label(int label);
void tcg_gen_fpop(unsigned fpop, TCGv d, TCGv flags, TCGv a, TCGv b);
void tcg_gen_vecop(uint64_t desc, int64_t d, int64_t s, int64_t r);
void tcg_gen_mulu2(TCGv lo, TCGv hi, TCGv a, TCGv b);
void tcg_gen_muls2(TCGv lo, TCGv hi, TCGv a, TCGv b);
void tcg_gen_ld(TCGv d, TCGv base, int64_t offset, unsigned memop);
void tcg_gen_st(TCGv v, TCGv base, int64_t offset, unsigned memop);
void tcg_gen_qemu_ld(TCGv d, TCGv addr, unsigned memop, int mmu_idx);
void tcg_gen_qemu_st(TCGv v, TCGv addr, unsigned memop, int mmu_idx);
/* ret may be TCG_NO_TEMP. */
void tcg_gen_call(void *func, const char *name, unsigned flags, TCGv ret, int nargs, ...);
void tcg_gen_insn_start(uint64_t pc, uint32_t cc_op);
void tcg_gen_goto_tb(unsigned n, uint64_t pc);
void tcg_gen_exit_tb(uint64_t val);
/* What kind of control transfer a lookup_and_goto is: for statistics and
 * for how the backend caches its target (a direct jump's is known). */
typedef enum TCGXferKind {
    XFER_OTHER,        /* end of a block after a state change, TF, ... */
    XFER_DIRECT_JMP,   /* direct JMP or Jcc to another page */
    XFER_DIRECT_CALL,  /* direct CALL to another page */
    XFER_REGION_EXIT,  /* a direct jump of a block whose goto_tb slots are used */
    XFER_INDIRECT_JMP,
    XFER_INDIRECT_CALL,
    XFER_RET,
    XFER_NEXT,         /* falling into the next page (size cap, page end) */
    XFER_KINDS
} TCGXferKind;
/* The target of a direct kind is env->rip's value at translation time
 * (relative to the page base in a PC-relative block). */
static inline bool xfer_kind_direct(unsigned kind)
{
    return kind == XFER_DIRECT_JMP || kind == XFER_DIRECT_CALL || kind == XFER_REGION_EXIT || kind == XFER_NEXT;
}
const char *tcg_xfer_kind_name(unsigned kind);   /* for statistics */
/* ret_pop: 0, or the block ends with a RET that added ret_pop to RSP;
 * expect: the linear RIP the jump goes to when the block runs where it was
 * translated (a direct jump's target), else TCG_RIP_UNKNOWN. Only a hint:
 * the backend may look that RIP up first, and must check it. */
#define TCG_RIP_UNKNOWN 0x8000000000000000ULL   /* not canonical: no code runs there */
void tcg_gen_lookup_and_goto(uint64_t ret_pop, TCGXferKind kind, uint64_t expect);
/* A CALL pushed ret_addr at rsp (a hint for the return stack; no effect on
 * the guest state) */
void tcg_gen_ras_push(TCGv rsp, TCGv ret_addr);
void tcg_gen_goto_loop(int label);
void tcg_gen_discard(TCGv t);

/* ---- passes ---------------------------------------------------------------- */
void tcg_optimize(TCGContext *s);
/* Compute results straight into the globals they are copied to (after the
 * optimiser's folding, before tcg_mem_reuse). */
void tcg_coalesce(TCGContext *s);
/* Check a loop's accesses through a loop-invariant base once per entry into
 * the loop: at the block entry or before a loop head (before tcg_mem_reuse). */
void tcg_loop_probe(TCGContext *s);
/* Share TLB probes between accesses through one base (after tcg_optimize). */
void tcg_mem_reuse(TCGContext *s);
/* qemu_ld/st or one of their probe/reuse forms */
static inline bool tcg_op_is_guest_mem(unsigned opc);
/* Liveness: first moves what only a fault could read next to the access
 * (tcg_cold_sink), then fills TCGOp.dead and removes ops whose results are
 * unused. */
void tcg_liveness(TCGContext *s);
/* Marks cold ops (TCG_COLD) and moves them before their access; true when
 * it moved any. */
bool tcg_cold_sink(TCGContext *s);
/* The ops tcg_cold_sink may mark: pure integer ops with one output. */
bool tcg_op_can_be_cold(unsigned opc);
void tcg_dump_ops(TCGContext *s, FILE *f);
/* Ops kept whether or not their outputs are read (a table: the passes ask
 * for every op). */
extern const bool tcg_op_side_effects[NB_OPS];
static inline bool tcg_op_has_side_effects(const TCGOp *op) { return tcg_op_side_effects[op->opc]; }

/* The value of condition c on a and b (32-bit compare when w32): one
 * definition for the optimiser's folding and the interpreter. */
static inline bool tcg_cond_eval(TCGCond c, bool w32, uint64_t a, uint64_t b)
{
    if (w32) {
        a = (uint32_t)a;
        b = (uint32_t)b;
        switch (c) {
        case TCG_COND_LT: return (int32_t)a < (int32_t)b;
        case TCG_COND_GE: return (int32_t)a >= (int32_t)b;
        case TCG_COND_LE: return (int32_t)a <= (int32_t)b;
        case TCG_COND_GT: return (int32_t)a > (int32_t)b;
        default: break;
        }
    }
    switch (c) {
    case TCG_COND_NEVER: return false;
    case TCG_COND_ALWAYS: return true;
    case TCG_COND_EQ: return a == b;
    case TCG_COND_NE: return a != b;
    case TCG_COND_LT: return (int64_t)a < (int64_t)b;
    case TCG_COND_GE: return (int64_t)a >= (int64_t)b;
    case TCG_COND_LE: return (int64_t)a <= (int64_t)b;
    case TCG_COND_GT: return (int64_t)a > (int64_t)b;
    case TCG_COND_LTU: return a < b;
    case TCG_COND_GEU: return a >= b;
    case TCG_COND_LEU: return a <= b;
    case TCG_COND_GTU: return a > b;
    case TCG_COND_TSTEQ: return (a & b) == 0;
    case TCG_COND_TSTNE: return (a & b) != 0;
    }
    return false;
}

static inline bool tcg_op_is_guest_mem(unsigned opc)
{
    return opc == INDEX_op_qemu_ld || opc == INDEX_op_qemu_st || opc == INDEX_op_qemu_ld_probe ||
           opc == INDEX_op_qemu_st_probe || opc == INDEX_op_qemu_ld_reuse || opc == INDEX_op_qemu_st_reuse;
}

#endif
