/* IR optimiser, one forward pass per block:
 *   - constant propagation and folding (all-constant ops become movi;
 *     branches on constants become br or vanish);
 *   - copy propagation (uses of a mov's destination read its source while
 *     the source is unchanged);
 *   - algebraic identities (x+0, x&-1, x^x, shifts by 0, ...) and redundant
 *     zero-extensions of 32-bit results.
 * Knowledge is dropped at labels (several predecessors), and for globals at
 * non-pure calls (the helper may change them). Dead results left behind are
 * removed by the liveness pass that follows. */
#include <string.h>
#include "system/util.h"
#include "tcg/tcg.h"

typedef struct TempInfo {
    bool is_const;
    uint8_t zbits;        /* the value fits in its low zbits bits (64: unknown) */
    bool copied;          /* some temp may name this one in copy_of */
    uint64_t val;
    int copy_of;          /* -1, or a temp holding the same value */
    int low_copy_of;      /* -1, or a temp with the same low low_bits bits */
    uint8_t low_bits;     /* 8, 16 or 32 */
    bool sext32;          /* the value is its low half sign-extended */
} TempInfo;

static __thread TempInfo info[TCG_MAX_TEMPS];

/* The temps whose info may differ from reset_all's since it last ran: the
 * resets and scans walk these instead of every temp (translation time).
 * Every op marks its temps before anything is learned about them; a copy's
 * source was some earlier op's temp, so it is on the list too. */
static __thread int touched[TCG_MAX_TEMPS];
static __thread bool is_touched[TCG_MAX_TEMPS];
static __thread int nb_touched;
static __thread bool info_ready;

static inline void touch(int t)
{
    if (t >= 0 && !is_touched[t]) {
        is_touched[t] = true;
        touched[nb_touched++] = t;
    }
}

static void reset_temp(int t)
{
    info[t].is_const = false;
    info[t].zbits = 64;
    info[t].copy_of = -1;
    info[t].low_copy_of = -1;
    info[t].sext32 = false;
}

/* t is being overwritten: forget what depended on its old value (a scan of
 * all temps only when some copy may refer to t: translation time matters). */
static void kill_temp(TCGContext *s, int t)
{
    if (info[t].copied) {
        for (int j = 0; j < nb_touched; j++) {
            int i = touched[j];
            if (info[i].copy_of == t)
                info[i].copy_of = -1;
            if (info[i].low_copy_of == t)
                info[i].low_copy_of = -1;
        }
        info[t].copied = false;
    }
    reset_temp(t);
}

static void set_copy(int d, int a)
{
    info[d].copy_of = a;
    info[a].copied = true;
}

static void reset_all(TCGContext *s)
{
    if (!info_ready) {   /* once per thread: then only touched temps change */
        for (int i = 0; i < TCG_MAX_TEMPS; i++) {
            reset_temp(i);
            info[i].copied = false;
        }
        info_ready = true;
    }
    for (int j = 0; j < nb_touched; j++) {
        int i = touched[j];
        reset_temp(i);
        info[i].copied = false;
        is_touched[i] = false;
    }
    nb_touched = 0;
}

static void reset_globals(TCGContext *s)
{
    for (int j = 0; j < nb_touched; j++) {
        int i = touched[j];
        if (s->temps[i].kind == TEMP_GLOBAL)
            reset_temp(i);
        else if (info[i].copy_of >= 0 && s->temps[info[i].copy_of].kind == TEMP_GLOBAL)
            info[i].copy_of = -1;
        if (info[i].low_copy_of >= 0 && s->temps[info[i].low_copy_of].kind == TEMP_GLOBAL)
            info[i].low_copy_of = -1;
    }
}


/* Fold a one- or two-input op on constants; false when not foldable. */
static bool fold(TCGOpcode opc, bool w, uint64_t a, uint64_t b, uint64_t *r)
{
    unsigned sh = (unsigned)b & (w ? 31 : 63);
    switch (opc) {
    case INDEX_op_add: *r = a + b; break;
    case INDEX_op_sub: *r = a - b; break;
    case INDEX_op_mul: *r = a * b; break;
    case INDEX_op_and: *r = a & b; break;
    case INDEX_op_or: *r = a | b; break;
    case INDEX_op_xor: *r = a ^ b; break;
    case INDEX_op_shl: *r = w ? (uint32_t)a << sh : a << sh; break;
    case INDEX_op_shr: *r = w ? (uint32_t)a >> sh : a >> sh; break;
    case INDEX_op_sar: *r = w ? (uint64_t)(uint32_t)((int32_t)a >> sh) : (uint64_t)((int64_t)a >> sh); break;
    case INDEX_op_rotl:
        *r = w ? (uint32_t)(((uint32_t)a << sh) | ((uint32_t)a >> ((32 - sh) & 31)))
               : (a << sh) | (a >> ((64 - sh) & 63));
        break;
    case INDEX_op_rotr:
        *r = w ? (uint32_t)(((uint32_t)a >> sh) | ((uint32_t)a << ((32 - sh) & 31)))
               : (a >> sh) | (a << ((64 - sh) & 63));
        break;
    case INDEX_op_neg: *r = -a; break;
    case INDEX_op_not: *r = ~a; break;
    case INDEX_op_ext8s: *r = (uint64_t)(int64_t)(int8_t)a; return true;
    case INDEX_op_ext8u: *r = (uint8_t)a; return true;
    case INDEX_op_ext16s: *r = (uint64_t)(int64_t)(int16_t)a; return true;
    case INDEX_op_ext16u: *r = (uint16_t)a; return true;
    case INDEX_op_ext32s: *r = (uint64_t)(int64_t)(int32_t)a; return true;
    case INDEX_op_ext32u: *r = (uint32_t)a; return true;
    case INDEX_op_bswap: *r = w ? __builtin_bswap32((uint32_t)a) : __builtin_bswap64(a); break;
    default: return false;
    }
    if (w)
        *r = (uint32_t)*r;
    return true;
}

/* How many low bits a constant needs, in the steps the extensions know. */
static uint8_t const_bits(uint64_t v)
{
    return v <= 0xff ? 8 : v <= 0xffff ? 16 : v <= 0xffffffffULL ? 32 : 64;
}

static void to_movi(TCGOp *op, int d, uint64_t v)
{
    op->opc = INDEX_op_movi;
    op->flags = 0;
    op->args[0] = (TCGArg)d;
    op->args[1] = v;
}

static void to_mov(TCGOp *op, int d, int a)
{
    op->opc = INDEX_op_mov;
    op->flags = 0;
    op->args[0] = (TCGArg)d;
    op->args[1] = (TCGArg)a;
}

/* Algebraic identities with one constant operand: d = a op c. Returns true
 * when the op was rewritten. */
static bool simplify(TCGOp *op, int d, int a, uint64_t c, bool w, bool a_zext32)
{
    uint64_t ones = w ? 0xffffffffULL : ~0ULL;
    switch (op->opc) {
    case INDEX_op_add: case INDEX_op_sub: case INDEX_op_or: case INDEX_op_xor:
    case INDEX_op_shl: case INDEX_op_shr: case INDEX_op_sar: case INDEX_op_rotl: case INDEX_op_rotr:
        if ((c & ones) == 0 && (!w || a_zext32)) {
            to_mov(op, d, a);
            return true;
        }
        return false;
    case INDEX_op_and:
        if ((c & ones) == 0) {
            to_movi(op, d, 0);
            return true;
        }
        if ((c & ones) == ones && (!w || a_zext32)) {
            to_mov(op, d, a);
            return true;
        }
        return false;
    case INDEX_op_mul:
        if ((c & ones) == 0) {
            to_movi(op, d, 0);
            return true;
        }
        if ((c & ones) == 1 && (!w || a_zext32)) {
            to_mov(op, d, a);
            return true;
        }
        return false;
    default:
        return false;
    }
}

static bool is_commutative(TCGOpcode opc)
{
    return opc == INDEX_op_add || opc == INDEX_op_mul || opc == INDEX_op_and ||
           opc == INDEX_op_or || opc == INDEX_op_xor;
}

static int resolve(int t)
{
    if (t < 0)
        return t;
    return info[t].copy_of >= 0 ? info[t].copy_of : t;
}

/* How many leading inputs of a W32 op it reads only the low 32 bits of. */
static int w32_low_inputs(TCGOpcode opc)
{
    switch (opc) {
    case INDEX_op_add: case INDEX_op_sub: case INDEX_op_mul: case INDEX_op_and: case INDEX_op_or:
    case INDEX_op_xor: case INDEX_op_shl: case INDEX_op_shr: case INDEX_op_sar: case INDEX_op_rotl:
    case INDEX_op_rotr: case INDEX_op_setcond: case INDEX_op_brcond:
    case INDEX_op_movcond:   /* the compared values; v1 and v2 move whole */
        return 2;
    case INDEX_op_neg: case INDEX_op_not: case INDEX_op_bswap:
        return 1;
    default:
        return 0;
    }
}

/* How many low bits of its temp input i of op reads (0: all 64). */
static unsigned low_bits_read(const TCGOp *op, int i)
{
    switch (op->opc) {
    case INDEX_op_ext8s: case INDEX_op_ext8u:
        return 8;
    case INDEX_op_ext16s: case INDEX_op_ext16u:
        return 16;
    case INDEX_op_ext32s: case INDEX_op_ext32u:
        return 32;
    case INDEX_op_deposit:   /* the field's bits of b */
        return i == 1 ? (unsigned)op->args[3] : 0;
    default:
        return (op->flags & TCG_W32) && i < w32_low_inputs(op->opc) ? 32 : 0;
    }
}

/* An input of a 32-bit op: only its low half matters, so a zero-extension's
 * source will do (the extension itself then often dies). need: how many low
 * bits the op reads. */
static int resolve_low(int t, unsigned need)
{
    t = resolve(t);
    return t >= 0 && info[t].low_copy_of >= 0 && info[t].low_bits >= need ? info[t].low_copy_of : t;
}

/* t's value is the zero-extension of the low `bits` bits of a. */
static void set_low_copy(int t, int a, unsigned bits)
{
    info[t].low_copy_of = a;
    info[t].low_bits = (uint8_t)bits;
    info[a].copied = true;
}

/* op becomes d = a: d is a's copy, with a's zero-extension fact */
static void become_copy(TCGContext *s, TCGOp *op, int d, int a)
{
    uint8_t z = info[a].zbits;
    to_mov(op, d, a);
    kill_temp(s, d);
    if (a != d)
        set_copy(d, a);
    info[d].zbits = z;
}

/* A 64-bit and/or/xor (or right shift by a constant) of values that fit 32
 * bits computes the same as its W32 form, whose inputs may then be the
 * sources of their zero-extensions. */
static void narrow_to_w32(TCGOp *op, const TCGOpDef *def)
{
    TCGOpcode opc = op->opc;
    if ((op->flags & TCG_W32) || def->nb_oargs != 1 || def->nb_iargs != 2)
        return;
    int a = resolve((int)op->args[1]), b = resolve((int)op->args[2]);
    switch (opc) {
    case INDEX_op_and: case INDEX_op_or: case INDEX_op_xor:
        break;
    case INDEX_op_shr:
        if (!info[b].is_const || info[b].val >= 32)
            return;
        break;
    default:
        return;
    }
    if (info[a].zbits <= 32 && info[b].zbits <= 32 &&
        (info[a].low_copy_of >= 0 || info[b].low_copy_of >= 0))
        op->flags |= TCG_W32;
}

/* Reads of each temp in the block (before any rewriting). */
static __thread uint16_t nb_reads[TCG_MAX_TEMPS];

static void count_reads(TCGContext *s)
{
    memset(nb_reads, 0, sizeof(uint16_t) * (size_t)s->nb_temps);
    for (int n = 0; n < s->nb_ops; n++) {
        const TCGOp *op = &s->ops[n];
        if (op->opc == INDEX_op_call) {
            for (int i = 0; i < op->call->nargs; i++)
                nb_reads[op->call->args[i]]++;
            continue;
        }
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        for (int i = 0; i < def->nb_iargs; i++)
            nb_reads[(int)op->args[def->nb_oargs + i]]++;
    }
}

static bool written_between(const TCGContext *s, int from, int to, int t)
{
    for (int k = from + 1; k < to; k++) {
        const TCGOpDef *def = &tcg_op_defs[s->ops[k].opc];
        for (int i = 0; i < def->nb_oargs; i++)
            if ((int)s->ops[k].args[i] == t)
                return true;
        if (s->ops[k].opc == INDEX_op_discard && (int)(int64_t)s->ops[k].args[0] == t)
            return true;
    }
    return false;
}

/* ext32u d, t where t = op64(...) is read nowhere else: the op's 32-bit form
 * computes the same low half (and zero-extends), so the extension becomes a
 * copy. Shifts only by constants below 32 (the count is taken modulo the
 * width); a right shift needs an input whose high half the low half
 * determines (zero- or sign-extended). */
static bool narrow_def(TCGContext *s, int n, int t)
{
    /* read once, and not through a copy (a mov to a global is that read) */
    if (t < 0 || s->temps[t].kind != TEMP_NORMAL || nb_reads[t] != 1 || info[t].copied)
        return false;
    for (int k = n - 1; k >= 0 && k >= n - 32; k--) {
        TCGOp *op = &s->ops[k];
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        if (op->opc == INDEX_op_set_label || op->opc == INDEX_op_call)
            return false;
        if (def->nb_oargs != 1 || (int)op->args[0] != t)
            continue;
        if (op->flags & TCG_W32)
            return false;
        int b = def->nb_iargs > 1 ? (int)op->args[2] : -1;
        bool small_count = b >= 0 && info[b].is_const && info[b].val < 32 && !written_between(s, k, n, b);
        switch (op->opc) {
        case INDEX_op_add: case INDEX_op_sub: case INDEX_op_mul: case INDEX_op_and: case INDEX_op_or:
        case INDEX_op_xor: case INDEX_op_not: case INDEX_op_neg:
            break;
        case INDEX_op_shl:
            if (!small_count)
                return false;
            break;
        case INDEX_op_sar:
            if (!small_count || !info[(int)op->args[1]].sext32 || written_between(s, k, n, (int)op->args[1]))
                return false;
            break;
        default:
            return false;
        }
        op->flags |= TCG_W32;
        return true;
    }
    return false;
}

/* d = a with its low bits from b: constants fold; into a zero (or a value
 * with nothing above the field) it is b's zero-extension. */
static void optimize_deposit(TCGContext *s, TCGOp *op, int d, int a, int b)
{
    unsigned bits = (unsigned)op->args[3];
    uint64_t field = ~0ULL >> (64 - bits);
    if (info[a].is_const && info[b].is_const) {
        uint64_t v = (info[a].val & ~field) | (info[b].val & field);
        to_movi(op, d, v);
        kill_temp(s, d);
        info[d].is_const = true;
        info[d].val = v;
        info[d].zbits = const_bits(v);
        return;
    }
    if (a == b) {
        become_copy(s, op, d, a);
        return;
    }
    if (info[a].zbits <= bits) {
        op->opc = bits == 8 ? INDEX_op_ext8u : INDEX_op_ext16u;
        op->args[1] = (TCGArg)b;
        kill_temp(s, d);
        info[d].zbits = (uint8_t)bits;
        if (b != d)
            set_low_copy(d, b, bits);
        return;
    }
    uint8_t z = info[a].zbits;
    kill_temp(s, d);
    info[d].zbits = z;   /* above bits: the field cannot widen it */
}

void tcg_optimize(TCGContext *s)
{
    reset_all(s);
    count_reads(s);
    for (int n = 0; n < s->nb_ops; n++) {
        TCGOp *op = &s->ops[n];
        TCGOpcode opc = op->opc;
        const TCGOpDef *def = &tcg_op_defs[opc];

        if (opc == INDEX_op_set_label) {
            reset_all(s);
            continue;
        }
        if (opc == INDEX_op_call) {
            TCGCall *c = op->call;
            for (int i = 0; i < c->nargs; i++)
                touch(c->args[i]);
            touch((int)(int64_t)op->args[0]);
            for (int i = 0; i < c->nargs; i++)
                c->args[i] = resolve(c->args[i]);
            if (!(c->flags & TCG_CALL_PURE))
                reset_globals(s);
            int ret = (int)(int64_t)op->args[0];
            if (c->has_ret && ret >= 0)
                kill_temp(s, ret);
            continue;
        }
        if (opc == INDEX_op_discard) {
            touch((int)(int64_t)op->args[0]);
            /* no copy may stand for a value that is now undefined */
            if ((int64_t)op->args[0] >= 0)
                kill_temp(s, (int)op->args[0]);
            continue;
        }
        if (opc == INDEX_op_insn_start)
            continue;

        for (int i = 0; i < def->nb_oargs + def->nb_iargs; i++)
            touch((int)op->args[i]);
        narrow_to_w32(op, def);
        /* copy propagation into the inputs */
        for (int i = 0; i < def->nb_iargs; i++) {
            int k = def->nb_oargs + i;
            unsigned need = low_bits_read(op, i);
            op->args[k] = (TCGArg)(need ? resolve_low((int)op->args[k], need) : resolve((int)op->args[k]));
        }

        bool w = op->flags & TCG_W32;
        int d = def->nb_oargs ? (int)op->args[0] : -1;
        int a = def->nb_iargs > 0 ? (int)op->args[def->nb_oargs] : -1;
        int b = def->nb_iargs > 1 ? (int)op->args[def->nb_oargs + 1] : -1;

        switch (opc) {
        case INDEX_op_movi:
            kill_temp(s, d);
            info[d].is_const = true;
            info[d].val = op->args[1];
            info[d].zbits = const_bits(op->args[1]);
            continue;
        case INDEX_op_mov:
            if (a == d) {
                op->opc = INDEX_op_discard;
                op->args[0] = (TCGArg)(int64_t)TCG_NO_TEMP;
                continue;
            }
            if (info[a].is_const) {
                uint64_t v = info[a].val;
                to_movi(op, d, v);
                kill_temp(s, d);
                info[d].is_const = true;
                info[d].val = v;
                info[d].zbits = const_bits(v);
                continue;
            }
            {
                uint8_t z = info[a].zbits;
                kill_temp(s, d);
                info[d].zbits = z;
                /* Locals survive labels; only propagate copies of globals/normals
                 * within the block, which the reset at labels guarantees. */
                set_copy(d, a);
            }
            continue;
        case INDEX_op_brcond:
            /* normal temps end with the block: no copy may refer to one */
            for (int j = 0; j < nb_touched; j++) {
                int i = touched[j];
                if (info[i].copy_of >= 0 && s->temps[info[i].copy_of].kind == TEMP_NORMAL)
                    info[i].copy_of = -1;
                if (info[i].low_copy_of >= 0 && s->temps[info[i].low_copy_of].kind == TEMP_NORMAL)
                    info[i].low_copy_of = -1;
            }
            if (info[a].is_const && info[b].is_const) {
                bool taken = tcg_cond_eval((TCGCond)op->args[2], w, info[a].val, info[b].val);
                if (taken) {
                    int label = (int)op->args[3];
                    op->opc = INDEX_op_br;
                    op->flags = 0;
                    op->args[0] = (TCGArg)label;
                } else {
                    op->opc = INDEX_op_discard;
                    op->args[0] = (TCGArg)(int64_t)TCG_NO_TEMP;
                }
            }
            continue;
        case INDEX_op_setcond:
            if (info[a].is_const && info[b].is_const) {
                uint64_t v = tcg_cond_eval((TCGCond)op->args[3], w, info[a].val, info[b].val);
                to_movi(op, d, v);
                kill_temp(s, d);
                info[d].is_const = true;
                info[d].val = v;
                info[d].zbits = 8;
                continue;
            }
            kill_temp(s, d);
            info[d].zbits = 8;
            continue;
        case INDEX_op_deposit:
            optimize_deposit(s, op, d, a, b);
            continue;
        case INDEX_op_movcond: {
            int c1 = a, c2 = b;
            if (info[c1].is_const && info[c2].is_const) {
                bool t = tcg_cond_eval((TCGCond)op->args[5], w, info[c1].val, info[c2].val);
                int src = (int)op->args[t ? 3 : 4];
                if (info[src].is_const) {
                    uint64_t v = info[src].val;
                    to_movi(op, d, v);
                    kill_temp(s, d);
                    info[d].is_const = true;
                    info[d].val = v;
                } else {
                    to_mov(op, d, src);
                    kill_temp(s, d);
                    if (src != d)
                        set_copy(d, src);
                }
                continue;
            }
            kill_temp(s, d);
            continue;
        }
        default:
            break;
        }

        /* generic arithmetic */
        if (def->nb_oargs == 1 && (def->nb_iargs == 1 || def->nb_iargs == 2) && def->nb_cargs == 0 &&
            opc != INDEX_op_qemu_ld) {
            uint64_t r;
            bool ac = a >= 0 && info[a].is_const, bc = b >= 0 && info[b].is_const;
            if (ac && (def->nb_iargs == 1 || bc) && fold(opc, w, info[a].val, bc ? info[b].val : 0, &r)) {
                to_movi(op, d, r);
                kill_temp(s, d);
                info[d].is_const = true;
                info[d].val = r;
                info[d].zbits = const_bits(r);
                continue;
            }
            if (def->nb_iargs == 2) {
                if (ac && !bc && is_commutative(opc)) {
                    op->args[1] = (TCGArg)b;
                    op->args[2] = (TCGArg)a;
                    int t = a; a = b; b = t;
                    ac = false;
                    bc = true;
                }
                if (bc && opc == INDEX_op_and && info[a].low_copy_of >= 0 && info[a].zbits <= info[a].low_bits &&
                    const_bits(info[b].val) <= info[a].low_bits) {
                    /* zext(x) & c = x & c when c has no bits above the extension's */
                    a = info[a].low_copy_of;
                    op->args[1] = (TCGArg)a;
                }
                if (bc && simplify(op, d, a, info[b].val, w, info[a].zbits <= 32)) {
                    if (op->opc == INDEX_op_movi) {
                        uint64_t v = op->args[1];
                        kill_temp(s, d);
                        info[d].is_const = true;
                        info[d].val = v;
                        info[d].zbits = const_bits(v);
                    } else {
                        uint8_t z = info[a].zbits;
                        kill_temp(s, d);
                        if (a != d)
                            set_copy(d, a);
                        info[d].zbits = z;
                    }
                    continue;
                }
                if (a == b && (opc == INDEX_op_and || opc == INDEX_op_or)) {
                    /* x & x = x | x = x (zero-extended by a 32-bit op) */
                    uint8_t z = info[a].zbits;
                    if (w && z > 32) {
                        op->opc = INDEX_op_ext32u;
                        op->flags = 0;
                        kill_temp(s, d);
                        info[d].zbits = 32;
                        if (a != d)
                            set_low_copy(d, a, 32);
                    } else {
                        become_copy(s, op, d, a);
                    }
                    continue;
                }
                if (a == b && (opc == INDEX_op_xor || opc == INDEX_op_sub)) {
                    to_movi(op, d, 0);
                    kill_temp(s, d);
                    info[d].is_const = true;
                    info[d].val = 0;
                    info[d].zbits = 8;
                    continue;
                }
            }
            unsigned ext_bits = opc == INDEX_op_ext8u ? 8 : opc == INDEX_op_ext16u ? 16 :
                                opc == INDEX_op_ext32u ? 32 : 0;
            if (ext_bits == 32 && info[a].zbits > 32 && narrow_def(s, n, a))
                info[a].zbits = 32;
            if (ext_bits && info[a].zbits <= ext_bits) {
                become_copy(s, op, d, a);
                continue;
            }
        }

        /* outputs: nothing known, except zero-extension facts */
        uint8_t a_bits = a >= 0 ? info[a].zbits : 64;
        uint64_t b_val = b >= 0 && info[b].is_const ? info[b].val : 0;
        bool b_const = b >= 0 && info[b].is_const;
        for (int i = 0; i < def->nb_oargs; i++)
            kill_temp(s, (int)op->args[i]);
        if (d >= 0) {
            uint8_t z = w ? 32 : 64;
            switch (opc) {
            case INDEX_op_ext8u: z = 8; break;
            case INDEX_op_ext16u: z = 16; break;
            case INDEX_op_ext32u: z = 32; break;
            case INDEX_op_qemu_ld: case INDEX_op_ld: {
                unsigned memop = (unsigned)op->args[opc == INDEX_op_ld ? 3 : 2];
                if (!(memop & MO_SIGN) && (memop & MO_SIZE) <= MO_32)
                    z = (uint8_t)(8u << (memop & MO_SIZE));
                break;
            }
            case INDEX_op_and:
                if (b_const && const_bits(b_val) < z)
                    z = const_bits(b_val);
                if (a_bits < z)
                    z = a_bits;
                break;
            case INDEX_op_shr:
                if (a_bits < z)
                    z = a_bits;   /* a right shift never widens */
                break;
            default:
                break;
            }
            info[d].zbits = z;
            info[d].sext32 = opc == INDEX_op_ext32s;
            if ((opc == INDEX_op_ext32u || opc == INDEX_op_ext32s) && a != d)
                set_low_copy(d, a, 32);
            else if ((opc == INDEX_op_ext8u || opc == INDEX_op_ext16u) && a != d)
                set_low_copy(d, a, opc == INDEX_op_ext8u ? 8 : 16);
        }
        if (opc == INDEX_op_br || opc == INDEX_op_goto_tb || opc == INDEX_op_exit_tb ||
            opc == INDEX_op_lookup_and_goto || opc == INDEX_op_goto_loop)
            reset_all(s);
    }
    tcg_coalesce(s);
    tcg_loop_probe(s);
    tcg_mem_reuse(s);
}
