/* Random instruction snippets for the oracle, from gen-table.h.
 *
 * A snippet is a few table instructions, each preceded by whatever set-up
 * makes it meaningful and exact: MOVs that point a memory operand's base and
 * index at the data page (or, on purpose, at the unmapped page after it, at
 * an unmapped low address, at a non-canonical address), MOV CL for a shift
 * count chosen from the interesting range, dividend and divisor for DIV,
 * RSI/RDI/RCX and DF for string instructions. Knowing the counts, the
 * generator knows which flags each instruction leaves undefined, keeps
 * later instructions from reading them, and masks them in the comparison.
 *
 * 16-bit mode uses the 32-bit forms: the operand-size prefix goes on the
 * 32-bit forms instead of the 16-bit ones, memory operands are 16-bit
 * ModRM forms (BX/BP/SI/DI) or, with 67, 32-bit ones, and addresses are
 * offsets in the segments (DS and ES at ORACLE_DATA, SS at ORACLE_STACK).
 *
 * Same seed, same cases: the only state is the xorshift generator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include "tests/oracle/gen-table.h"
#include "tests/oracle/oracle.h"

#define NTABLE (sizeof(gen_table) / sizeof(gen_table[0]))
#define MAX_FORMS 1024

/* ---- operand kinds (the "Instruction" column, parsed) ---- */
enum { O_RM, O_M, O_R, O_ACC, O_CL, O_ONE, O_IMM, O_XMM, O_XMMRM, O_ST, O_MM, O_MMRM };

typedef struct Opnd {
    uint8_t kind;
    uint8_t size;     /* bits; 0 = not accessed (LEA's m) */
} Opnd;

typedef struct Form {
    const InsnForm *row;
    uint8_t pfx[2];
    int npfx;          /* mandatory prefixes (66/F2/F3) */
    bool rexw;
    uint8_t op[4];
    int nop;
    bool plusr, pluscc, plusi;
    int digit;         /* /digit, -1 for /r, -2 for no ModRM */
    uint8_t imm[2];    /* immediate sizes in bytes, in order */
    int nimm;
    Opnd ops[3];
    int nops;
    int opsize;        /* GPR operand size in bits: 66 prefix when 16 */
    bool gpr_sized;    /* opsize comes from an operand (or REX.W) */
    char name[48];
} Form;

typedef struct FormSet {
    Form f[MAX_FORMS];
    int n;
} FormSet;

static FormSet formsets[2];   /* [0] 32-bit, [1] 64-bit */

/* ---- random numbers ---- */
uint64_t oracle_rand(OracleGen *g)
{
    uint64_t x = g->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    g->rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static unsigned rn(OracleGen *g, unsigned n) { return (unsigned)(oracle_rand(g) % n); }
static bool chance(OracleGen *g, unsigned percent) { return rn(g, 100) < percent; }

static uint64_t interesting(OracleGen *g)
{
    static const uint64_t v[] = {
        0, 1, 2, 7, 8, 9, 0x0f, 0x10, 0x1f, 0x20, 0x21, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xff,
        0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
        0x100000000ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, ~1ULL,
    };
    switch (rn(g, 5)) {
    case 0: case 1: return v[rn(g, sizeof(v) / sizeof(v[0]))];
    case 2: return oracle_rand(g) & 0xff;
    case 3: return (uint64_t)(int64_t)(int32_t)oracle_rand(g);
    default: return oracle_rand(g);
    }
}

/* ---- parsing the table ---- */
static bool parse_operand(const char *s, Opnd *o)
{
    int n = 0;
    if (sscanf(s, "r/m%d", &n) == 1) { *o = (Opnd){ O_RM, (uint8_t)n }; return true; }
    if (!strcmp(s, "m")) { *o = (Opnd){ O_M, 0 }; return true; }
    if (!strncmp(s, "ST", 2)) { *o = (Opnd){ O_ST, 80 }; return true; }
    if (!strcmp(s, "mm")) { *o = (Opnd){ O_MM, 64 }; return true; }
    if (sscanf(s, "mm/m%d", &n) == 1) { *o = (Opnd){ O_MMRM, (uint8_t)n }; return true; }
    if (sscanf(s, "imm%d", &n) == 1) { *o = (Opnd){ O_IMM, (uint8_t)n }; return true; }
    if (!strncmp(s, "xmm", 3)) {
        const char *slash = strchr(s, '/');
        if (slash && sscanf(slash, "/m%d", &n) == 1) { *o = (Opnd){ O_XMMRM, (uint8_t)n }; return true; }
        *o = (Opnd){ O_XMM, 128 };
        return true;
    }
    if (sscanf(s, "m%d", &n) == 1) { *o = (Opnd){ O_M, (uint8_t)n }; return true; }
    if (sscanf(s, "r%d", &n) == 1) { *o = (Opnd){ O_R, (uint8_t)n }; return true; }
    if (!strcmp(s, "AL")) { *o = (Opnd){ O_ACC, 8 }; return true; }
    if (!strcmp(s, "AX")) { *o = (Opnd){ O_ACC, 16 }; return true; }
    if (!strcmp(s, "EAX")) { *o = (Opnd){ O_ACC, 32 }; return true; }
    if (!strcmp(s, "RAX")) { *o = (Opnd){ O_ACC, 64 }; return true; }
    if (!strcmp(s, "CL")) { *o = (Opnd){ O_CL, 8 }; return true; }
    if (!strcmp(s, "1")) { *o = (Opnd){ O_ONE, 8 }; return true; }
    return false;
}

/* Replace the size placeholders of s for one size: "v" -> 16/32/64,
 * "z" -> 16/32/32, "rAX" -> AX/EAX/RAX, "iz" -> iw/id/id. */
static void subst_size(const char *s, int size, char *out, size_t n)
{
    char buf[128];
    size_t k = 0;
    for (const char *p = s; *p && k + 8 < sizeof(buf); p++) {
        if (!strncmp(p, "rAX", 3)) {
            k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%s", size == 16 ? "AX" : size == 32 ? "EAX" : "RAX");
            p += 2;
        } else if (*p == 'v' && p > s && (p[-1] == 'r' || p[-1] == 'm')) {
            k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%d", size);
        } else if (*p == 'z' && p > s && p[-1] == 'm' && p >= s + 3 && !strncmp(p - 3, "imm", 3)) {
            k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%d", size == 16 ? 16 : 32);
        } else if (*p == 'z' && p > s && p[-1] == 'i') {
            buf[k++] = size == 16 ? 'w' : 'd';
        } else {
            buf[k++] = *p;
        }
    }
    buf[k] = 0;
    snprintf(out, n, "%.*s", (int)(n - 1), buf);
}

static bool compile(const InsnForm *row, const char *opcode, const char *operands, int mode, Form *f)
{
    memset(f, 0, sizeof(*f));
    f->row = row;
    f->digit = -2;
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", opcode);
    bool seen_op = false;
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        unsigned b;
        if (!strcmp(tok, "REX.W")) { f->rexw = true; continue; }
        if (!strcmp(tok, "+")) continue;
        if (tok[0] == '/' && tok[1] == 'r') { f->digit = -1; continue; }
        if (tok[0] == '/') { f->digit = tok[1] - '0'; continue; }
        if (!strcmp(tok, "ib")) { f->imm[f->nimm++] = 1; continue; }
        if (!strcmp(tok, "iw")) { f->imm[f->nimm++] = 2; continue; }
        if (!strcmp(tok, "id")) { f->imm[f->nimm++] = 4; continue; }
        if (!strcmp(tok, "io")) { f->imm[f->nimm++] = 8; continue; }
        if (sscanf(tok, "%2x", &b) != 1)
            return false;
        if (strstr(tok, "+r"))
            f->plusr = true;
        if (strstr(tok, "+cc"))
            f->pluscc = true;
        if (strstr(tok, "+i"))
            f->plusi = true;
        if (!seen_op && (b == 0x66 || b == 0xf2 || b == 0xf3) && f->npfx < 2 && strlen(tok) == 2) {
            f->pfx[f->npfx++] = (uint8_t)b;
            continue;
        }
        seen_op = true;
        f->op[f->nop++] = (uint8_t)b;
    }
    snprintf(buf, sizeof(buf), "%s", operands);
    for (char *tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
        if (f->nops == 3 || !parse_operand(tok, &f->ops[f->nops++]))
            return false;
    }
    f->opsize = 32;
    for (int i = 0; i < f->nops; i++) {
        const Opnd *o = &f->ops[i];
        if (o->kind == O_RM || o->kind == O_R || o->kind == O_ACC || (o->kind == O_M && o->size)) {
            f->opsize = o->size;
            f->gpr_sized = true;
            break;
        }
    }
    for (int i = 0; i < f->nops && !f->gpr_sized; i++) {
        if (f->ops[i].kind == O_IMM && f->ops[i].size == 32) {
            f->opsize = 32;   /* PUSH imm32: its immediate follows the operand size */
            f->gpr_sized = true;
        }
    }
    if (f->rexw)
        f->opsize = 64, f->gpr_sized = true;
    if (row->kind == K_X87)
        f->opsize = 32, f->gpr_sized = false;   /* no operand-size prefix for x87/MMX forms */
    if (mode != 64 && f->rexw)
        return false;
    snprintf(f->name, sizeof(f->name), "%.12s %.34s", row->mnem, operands);
    return true;
}

/* Rows the host CPU must have for the native reference to run them: the
 * translator's model has RDPID, older hosts do not. */
static bool host_runs(const InsnForm *row)
{
#if defined(__x86_64__)
    if (row->kind == K_RDPID) {
        unsigned a, b, c, d;
        return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 22));
    }
#endif
    (void)row;
    return true;
}

static void build_forms(int mode)
{
    FormSet *fs = &formsets[mode == 64];
    if (fs->n)
        return;
    for (unsigned i = 0; i < NTABLE; i++) {
        const InsnForm *row = &gen_table[i];
        if (!(row->modes & (mode == 64 ? M64 : M32)) || !host_runs(row))
            continue;
        bool sized = strchr(row->operands, 'v') || strchr(row->operands, 'z');
        static const int sizes[] = { 16, 32, 64 };
        for (int s = 0; s < (sized ? 3 : 1); s++) {
            int size = sizes[s];
            if (sized && size == 64 && mode != 64)
                continue;
            char opc[96], opnds[96];
            if (sized) {
                char tmp[82];
                subst_size(row->opcode, size, tmp, sizeof(tmp));
                snprintf(opc, sizeof(opc), "%s%.80s", size == 64 && row->kind != K_STACK ? "REX.W + " : "", tmp);
                subst_size(row->operands, size, opnds, sizeof(opnds));
                if (row->kind == K_STACK && size == 32 && mode == 64)
                    continue;   /* PUSH/POP r32 do not exist in 64-bit mode */
                if (row->kind == K_STACK && size == 64) {
                    /* the 64-bit forms need no REX.W; the operands say r64 */
                }
            } else {
                snprintf(opc, sizeof(opc), "%s", row->opcode);
                snprintf(opnds, sizeof(opnds), "%s", row->operands);
            }
            if (fs->n < MAX_FORMS && compile(row, opc, opnds, mode, &fs->f[fs->n]))
                fs->n++;
            else if (fs->n < MAX_FORMS)
                fprintf(stderr, "oracle gen: cannot parse \"%s\" / \"%s\"\n", opc, opnds);
        }
    }
}

unsigned oracle_gen_forms(int mode)
{
    build_forms(mode);
    return (unsigned)formsets[mode == 64].n;
}

void oracle_gen_init(OracleGen *g, uint64_t seed, int mode)
{
    g->rng = seed * 0x9e3779b97f4a7c15ULL + 0x853c49e6748fea9bULL;
    if (!g->rng)
        g->rng = 1;
    g->mode = mode;
    g->max_insns = 4;
    build_forms(mode);
}

/* ---- emitting ---- */
typedef struct Out {
    uint8_t *buf;
    unsigned len, cap;
    bool overflow;
    char *name;
    size_t namecap;
} Out;

static void put(Out *o, uint8_t b)
{
    if (o->len < o->cap)
        o->buf[o->len++] = b;
    else
        o->overflow = true;
}

static void put_n(Out *o, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        put(o, (uint8_t)(v >> (8 * i)));
}

/* Patches bytes already emitted (a displacement known later). */
static void put_n_at(Out *o, unsigned at, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes && at + (unsigned)i < o->len; i++)
        o->buf[at + (unsigned)i] = (uint8_t)(v >> (8 * i));
}

static void name_add(Out *o, const char *s)
{
    size_t l = strlen(o->name);
    if (l + 2 < o->namecap)
        snprintf(o->name + l, o->namecap - l, "%s%s", l ? "; " : "", s);
}

/* MOV reg, value (all 64 bits in 64-bit mode, 32 elsewhere) */
static void emit_mov_imm(OracleGen *g, Out *o, int reg, uint64_t v)
{
    if (g->mode == 16)
        put(o, 0x66);
    if (g->mode == 64) {
        put(o, 0x48 | (reg >= 8 ? 1 : 0));
        put(o, 0xb8 + (reg & 7));
        put_n(o, v, 8);
    } else {
        put(o, 0xb8 + (reg & 7));
        put_n(o, v, 4);
    }
}

/* LEA RBP, [RSP + d8] (EBP, [ESP + d8] in 16-bit mode: its low half is SP's) */
static void emit_lea_rbp_rsp(OracleGen *g, Out *o, int8_t d)
{
    if (g->mode == 64)
        put(o, 0x48);
    if (g->mode == 16) {
        put(o, 0x66);
        put(o, 0x67);
    }
    put(o, 0x8d); put(o, 0x6c); put(o, 0x24); put(o, (uint8_t)d);
}

/* ---- the snippet being built ---- */
typedef struct Snip {
    OracleGen *g;
    Out out;
    uint32_t undef, undef_ever;
    int64_t rsp;            /* offset from ORACLE_RSP */
    bool uses_xmm;
    bool abs_code;          /* the last instruction pushed an absolute code address */
    bool x87_frame;         /* framed by FXRSTOR/FXSAVE through DS */
} Snip;

/* Where a memory operand points. */
static uint64_t pick_target(Snip *s, unsigned bytes, bool stack_ok, int asz, bool *noncanon)
{
    OracleGen *g = s->g;
    unsigned r = rn(g, 100);
    *noncanon = false;
    if (bytes == 0)
        bytes = 1;
    if (r < 78)
        return ORACLE_DATA + rn(g, ORACLE_GEN_SPAN - bytes + 1);
    if (r < 86)
        return ORACLE_HOLE - (bytes > 1 ? 1 + rn(g, bytes - 1) : 0);   /* crosses into the hole */
    if (r < 90)
        return 0x1000 + rn(g, 0x3000);                                 /* unmapped */
    if (r < 96 && stack_ok)
        return ORACLE_RSP + (uint64_t)(int64_t)(s->rsp - 64) + rn(g, 64);
    if (g->mode == 64 && asz == 64) {
        *noncanon = true;
        return 0x0000800000000000ULL + (oracle_rand(g) & 0xffff0);
    }
    return ORACLE_DATA + rn(g, ORACLE_GEN_SPAN - bytes + 1);
}

typedef struct ModRM {
    int mod, reg, rm;
    bool sib;
    int scale, index, base;
    int dispsize;
    int64_t disp;
    bool riprel;
} ModRM;

static bool fits8(int64_t v) { return v >= -128 && v <= 127; }
static bool fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

/* The registers of the 16-bit ModRM forms rm = 0..7 (-1: none). */
static const int8_t rm16_regs[8][2] = {
    { OR_RBX, OR_RSI }, { OR_RBX, OR_RDI }, { OR_RBP, OR_RSI }, { OR_RBP, OR_RDI },
    { OR_RSI, -1 }, { OR_RDI, -1 }, { OR_RBP, -1 }, { OR_RBX, -1 },
};

/* A 16-bit ModRM memory operand (16-bit mode) at target: registers with junk
 * in their upper halves (16-bit addressing ignores them), a displacement
 * that makes the offset wrap around 64 KiB now and then. segbase is the base
 * of an overriding segment, or 0: then DS, or SS for the BP forms. */
static void plan_mem16(Snip *s, ModRM *m, uint64_t target, uint64_t segbase, int avoid1, int avoid2)
{
    OracleGen *g = s->g;
    int rm, mod;
    for (int tries = 0;; tries++) {
        rm = (int)rn(g, 8);
        mod = (int)rn(g, 3);
        if (rm == 6 && mod == 0)
            break;   /* disp16 alone */
        const int8_t *r = rm16_regs[rm];
        if (tries > 20) {
            rm = 6, mod = 0;
            break;
        }
        if (r[0] != avoid1 && r[0] != avoid2 && r[1] != avoid1 && r[1] != avoid2)
            break;
    }
    bool bp_form = (rm == 2 || rm == 3 || rm == 6) && !(rm == 6 && mod == 0);
    if (!segbase)
        segbase = bp_form ? ORACLE_STACK : ORACLE_DATA;
    if (bp_form && segbase == ORACLE_STACK && chance(g, 80))
        target = ORACLE_RSP + (uint64_t)(int64_t)(s->rsp - 64) + rn(g, 64);
    uint16_t want = (uint16_t)(target - segbase);
    const int8_t *r = rm16_regs[rm];
    uint16_t v0 = 0, v1 = 0;
    int64_t disp = 0;
    if (rm == 6 && mod == 0) {
        disp = want;
    } else {
        int nregs = r[1] >= 0 ? 2 : 1;
        if (mod == 0) {
            v0 = nregs == 2 ? (uint16_t)rn(g, 0x10000) : want;
            v1 = (uint16_t)(want - v0);
        } else {
            disp = mod == 1 ? (int8_t)rn(g, 256) : (int64_t)(uint16_t)oracle_rand(g);
            v0 = nregs == 2 ? (uint16_t)rn(g, 0x10000) : (uint16_t)(want - (uint16_t)disp);
            v1 = (uint16_t)(want - v0 - (uint16_t)disp);
        }
        emit_mov_imm(g, &s->out, r[0], v0 | (oracle_rand(g) & 0xffff0000u));
        if (r[1] >= 0)
            emit_mov_imm(g, &s->out, r[1], v1 | (oracle_rand(g) & 0xffff0000u));
    }
    m->mod = mod;
    m->rm = rm;
    m->base = m->index = -1;
    m->dispsize = mod == 1 ? 1 : (mod == 2 || rm == 6) ? 2 : 0;
    m->disp = disp;
}

/* A memory operand for ModRM.rm, with the MOVs that make it point at target.
 * asz: address size. Returns false when it chose a RIP-relative form whose
 * displacement is fixed up after the instruction is complete. */
static void plan_mem(Snip *s, ModRM *m, int asz, unsigned bytes, uint64_t segbase, bool align16,
                     int avoid1, int avoid2, bool nomem)
{
    OracleGen *g = s->g;
    bool noncanon;
    uint64_t target = pick_target(s, bytes, false, asz, &noncanon);
    if (align16 && !chance(g, 10))
        target &= ~15ULL;
    if (nomem)
        target = interesting(g);
    uint64_t lin = target - segbase;   /* the effective address wanted */
    int nregs = g->mode == 64 ? 16 : 8;
    if (asz == 16 && g->mode == 16) {
        plan_mem16(s, m, target, segbase, avoid1, avoid2);
        return;
    }
    if (asz == 16) {
        /* 16-bit addressing can only reach the first 64 KiB: unmapped, #PF */
        m->mod = (int)rn(g, 3);
        m->rm = (int)rn(g, 8);
        m->dispsize = m->mod == 1 ? 1 : m->mod == 2 ? 2 : (m->rm == 6 ? 2 : 0);
        m->disp = (int64_t)oracle_rand(g);
        return;
    }
    unsigned kind = rn(g, 10);
    if (kind == 0) {   /* RIP-relative (64-bit) / absolute disp32 (32-bit) */
        m->mod = 0;
        m->rm = 5;
        m->dispsize = 4;
        m->riprel = g->mode == 64;
        if (m->riprel && noncanon)
            lin = ORACLE_DATA + 8;
        m->disp = (int64_t)lin;   /* RIP-relative: made relative once the length is known */
        return;
    }
    int base = -1, index = -1, scale = (int)rn(g, 4);
    if (kind != 1) {
        /* (in 16-bit mode EBP would select SS, whose base differs) */
        do base = (int)rn(g, nregs);
        while (base == OR_RSP || base == avoid1 || base == avoid2 || (g->mode == 16 && base == OR_RBP));
    }
    if (kind == 1 || chance(g, 50)) {
        do index = (int)rn(g, nregs); while (index == OR_RSP || index == avoid1 || index == avoid2);
    }
    int64_t iv = 0;
    if (index >= 0)
        iv = chance(g, 50) ? (int64_t)rn(g, 129) - 64 : (int64_t)(int8_t)rn(g, 256);
    int64_t disp = 0;
    switch (rn(g, 4)) {
    case 0: disp = 0; break;
    case 1: disp = (int8_t)rn(g, 256); break;
    default: disp = (int64_t)rn(g, 0x20000) - 0x10000; break;
    }
    uint64_t bv = 0;
    if (base >= 0 && base == index) {
        /* one register twice: value v with v * (1 + scale) + disp = lin */
        uint64_t v = lin / (1u + (1u << scale));
        disp = (int64_t)(lin - v * (1u + (1u << scale)));
        bv = iv = (int64_t)v;
    } else if (base >= 0) {
        bv = lin - ((uint64_t)iv << scale) - (uint64_t)disp;
    } else {
        disp = (int64_t)(lin - ((uint64_t)iv << scale));
        if (!fits32(disp) || asz == 32)
            disp = (int64_t)(int32_t)(uint32_t)disp;
    }
    if (asz == 32 && g->mode == 64) {
        /* 32-bit addressing in 64-bit mode: the upper halves do not count */
        uint64_t junk = chance(g, 50) ? oracle_rand(g) << 32 : 0;
        bv = (uint32_t)bv | junk;
        if (index >= 0)
            iv = (int64_t)((uint32_t)iv | (chance(g, 50) ? oracle_rand(g) << 32 : 0));
    }
    if (base >= 0)
        emit_mov_imm(g, &s->out, base, bv);
    if (index >= 0 && index != base)
        emit_mov_imm(g, &s->out, index, (uint64_t)iv);
    m->disp = disp;
    m->base = base;
    m->index = index;
    m->scale = scale;
    bool need_sib = index >= 0 || base < 0 || (base & 7) == OR_RSP;
    if (base < 0) {
        m->mod = 0;
        m->dispsize = 4;
    } else if (disp == 0 && (base & 7) != OR_RBP) {
        m->mod = 0;
        m->dispsize = 0;
    } else if (fits8(disp) && chance(g, 80)) {
        m->mod = 1;
        m->dispsize = 1;
    } else {
        m->mod = 2;
        m->dispsize = 4;
    }
    m->sib = need_sib;
    m->rm = need_sib ? 4 : base & 7;
}

/* ---- flags of the count-dependent forms (SDM "Flags Affected") ---- */
static void count_flags(int kind, int size, unsigned count, uint16_t *rd, uint16_t *wr, uint16_t *ud)
{
    unsigned c = count & (size == 64 ? 63 : 31);
    *rd = *wr = *ud = 0;
    if (kind == K_RC)
        *rd = FC;
    if (c == 0)
        return;   /* no flag changes */
    switch (kind) {
    case K_SHIFT:
        /* CF undefined when the count is at least the operand size (SHL/SHR);
         * OF only for 1-bit shifts; AF undefined */
        *wr = FC | FS | FZ | FP | FO;
        *ud = FA;
        if (c >= (unsigned)size)
            *ud |= FC;
        if (c != 1)
            *ud |= FO;
        break;
    case K_ROT:
    case K_RC:
        *wr = FC | FO;
        if (c != 1)
            *ud = FO;
        break;
    case K_SHXD:
        *wr = FC | FS | FZ | FP | FO;
        *ud = FA;
        if (c != 1)
            *ud |= FO;
        break;
    }
    *wr &= (uint16_t)~*ud;
}

static unsigned pick_count(OracleGen *g, int size)
{
    static const unsigned edge[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 255 };
    unsigned c = chance(g, 60) ? edge[rn(g, sizeof(edge) / sizeof(edge[0]))] : rn(g, 256);
    (void)size;
    return c;
}

/* A selector for LAR/LSL/VERR/VERW and segment loads: the GDT entries below
 * ORACLE_GDT_LIMIT that the host (Linux's GDT) and the oracle's system page
 * both have, and the LDT's three and one past its end, with various RPLs;
 * descriptors only the host has (entry 1, the LDT descriptor, TLS, beyond
 * the oracle's GDT limit) would differ. */
static uint64_t pick_selector(OracleGen *g)
{
    static const uint16_t sel[] = { 0x00, 0x03, 0x10, 0x13, 0x18, 0x1b, 0x20, 0x23, 0x28, 0x2b,
                                    0x30, 0x33, 0x40, 0x43, 0x04, 0x07, 0x0c, 0x0f, 0x17, 0x1f };
    return sel[rn(g, sizeof(sel) / sizeof(sel[0]))];
}

/* ---- one instruction ---- */
static int pick_reg(OracleGen *g, int size, bool rex_ok, bool *needs_rex, bool *no_rex)
{
    int n = (g->mode == 64 && rex_ok) ? 16 : 8;
    int r;
    do r = (int)rn(g, (unsigned)n); while (r == OR_RSP && size != 8 && !chance(g, 5));
    if (size == 8 && g->mode == 64 && r >= 4 && r < 8) {
        /* SPL..DIL with a REX prefix, AH..BH without */
        if (*no_rex)
            return r;
        if (*needs_rex || chance(g, 50))
            *needs_rex = true;
        else
            *no_rex = true;
    }
    if (r >= 8)
        *needs_rex = true;
    return r;
}

/* After RDPID reg: AND reg, 0xffc00000 at the width RDPID wrote (sign-
 * extended in 64-bit mode), so the host's CPU-dependent TSC_AUX drops out. */
static bool emit_rdpid_mask(OracleGen *g, Out *o, int reg)
{
    if (reg < 0 || reg == OR_RSP)
        return false;
    if (g->mode == 16)
        put(o, 0x66);
    if (g->mode == 64)
        put(o, (uint8_t)(0x48 | (reg >= 8)));
    put(o, 0x81);
    put(o, (uint8_t)(0xe0 | (reg & 7)));
    put_n(o, 0xffc00000u, 4);
    return true;
}

static bool gen_insn(Snip *s, const Form *f)
{
    OracleGen *g = s->g;
    const InsnForm *row = f->row;
    Out *o = &s->out;
    unsigned start = o->len;
    bool needs_rex = false, no_rex = false;
    int asz = g->mode;
    bool p67 = false;
    if (chance(g, 8)) {
        p67 = true;
        asz = g->mode == 64 ? 32 : g->mode == 32 ? 16 : 32;
    }
    /* which operands go where */
    int rm_op = -1, reg_op = -1, plus_op = -1;
    for (int i = 0; i < f->nops; i++) {
        int k = f->ops[i].kind;
        if (k == O_RM || k == O_M || k == O_XMMRM || k == O_MMRM)
            rm_op = i;
    }
    for (int i = 0; i < f->nops; i++) {
        int k = f->ops[i].kind;
        if ((k == O_R || k == O_XMM || k == O_MM) && i != rm_op) {
            if (f->plusr)
                plus_op = i;
            else if (f->digit >= 0 && rm_op < 0)
                rm_op = i;
            else if (reg_op < 0)
                reg_op = i;
            else if (rm_op < 0)
                rm_op = i;
        }
    }
    int reg = 0, rmreg = -1, plusreg = 0;
    bool mem = false;
    if (reg_op >= 0)
        reg = f->ops[reg_op].kind == O_XMM ? (int)rn(g, g->mode == 64 ? 16 : 8)
            : f->ops[reg_op].kind == O_MM ? (int)rn(g, 8)
                                           : pick_reg(g, f->ops[reg_op].size, true, &needs_rex, &no_rex);
    if (plus_op >= 0) {
        plusreg = pick_reg(g, f->ops[plus_op].size, true, &needs_rex, &no_rex);
        if ((row->attr & A_POP) && plusreg == OR_RSP)
            plusreg = OR_RAX;
    }
    if (rm_op >= 0) {
        int k = f->ops[rm_op].kind;
        mem = k == O_M || (k != O_R && k != O_XMM && k != O_MM && chance(g, 45));
        if (row->kind == K_BTMEM && chance(g, 40))
            mem = true;
        if (!mem) {
            if (k == O_XMM || k == O_XMMRM)
                rmreg = (int)rn(g, g->mode == 64 ? 16 : 8);
            else if (k == O_MM || k == O_MMRM)
                rmreg = (int)rn(g, 8);
            else
                rmreg = pick_reg(g, f->ops[rm_op].size, true, &needs_rex, &no_rex);
            if ((row->attr & A_POP) && rmreg == OR_RSP)
                rmreg = OR_RAX;
        }
    }
    if (rm_op >= 0 && f->ops[rm_op].kind == O_M && !mem)
        return false;
    /* an immediate count or CL count, known here */
    unsigned count = 1;
    bool counted = row->kind == K_SHIFT || row->kind == K_ROT || row->kind == K_RC || row->kind == K_SHXD;
    bool cl_count = false;
    for (int i = 0; i < f->nops; i++)
        if (f->ops[i].kind == O_CL)
            cl_count = true;
    int gsize = f->opsize;
    if (counted) {
        bool has_imm = f->nimm > 0;
        if (has_imm || cl_count)
            count = pick_count(g, gsize);
        if (row->kind == K_SHXD && gsize == 16)
            count &= 15;   /* SHLD/SHRD r16 with a count above 16: result undefined */
    }
    uint16_t rd = row->rd, wr = row->wr, ud = row->ud;
    if (counted)
        count_flags(row->kind, gsize, count, &rd, &wr, &ud);
    if (rd & s->undef)
        return false;   /* would read a flag left undefined before */

    /* ---- set-up ---- */
    if (counted && cl_count) {
        if ((rmreg == OR_RCX && !mem) || reg == OR_RCX)
            return false;
        put(o, 0xb1); put(o, (uint8_t)count);   /* MOV CL, count */
    }
    if (row->kind == K_DIV) {
        int dreg = (!mem && rmreg >= 0) ? rmreg : -1;
        if (dreg == OR_RAX || dreg == OR_RDX)
            return false;
        uint64_t div = chance(g, 5) ? 0 : interesting(g) | (chance(g, 50) ? 1 : 0);
        bool sgn = row->mnem[0] == 'I';
        uint64_t mask = gsize == 64 ? ~0ULL : (1ULL << gsize) - 1;
        uint64_t dv = div & mask;
        uint64_t lo = oracle_rand(g), hi;
        if (!dv || chance(g, 10))
            hi = interesting(g);                       /* #DE likely */
        else if (sgn)
            hi = ((int64_t)(lo << (64 - gsize)) < 0) ? ~0ULL : 0;
        else
            hi = oracle_rand(g) % dv;
        if (gsize == 8) {
            /* AX / r8: AH is the high part */
            uint64_t ax = (lo & 0xff) | ((hi & 0xff) << 8);
            if (sgn)
                ax = (uint64_t)(int64_t)(int8_t)lo & 0xffff;
            emit_mov_imm(g, o, OR_RAX, ax | (oracle_rand(g) & ~0xffffULL));
        } else {
            emit_mov_imm(g, o, OR_RAX, lo);
            emit_mov_imm(g, o, OR_RDX, hi);
        }
        if (dreg >= 0) {
            if (gsize == 8 && dreg >= 4 && dreg < 8 && !needs_rex)
                return false;   /* AH..BH divisors: keep it simple */
            emit_mov_imm(g, o, dreg, div);
        }
    }
    if (row->kind == K_STRING) {
        bool down = chance(g, 25);
        put(o, down ? 0xfd : 0xfc);            /* STD / CLD */
        uint64_t si = ORACLE_DATA + 64 + rn(g, 256), di = ORACLE_DATA + 64 + rn(g, 256);
        if (chance(g, 5))
            di = ORACLE_HOLE - rn(g, 8);
        uint64_t cx = rn(g, 24);
        if (asz == 32 && g->mode == 64) {
            si |= oracle_rand(g) << 32;
            di |= oracle_rand(g) << 32;
        }
        if (g->mode == 16) {
            /* offsets in DS and ES; 16-bit addressing ignores the upper halves */
            si -= ORACLE_DATA;
            di -= ORACLE_DATA;
            if (asz == 16) {
                si |= oracle_rand(g) & 0xffff0000u;
                di |= oracle_rand(g) & 0xffff0000u;
                cx |= oracle_rand(g) & 0xffff0000u;
            }
        }
        emit_mov_imm(g, o, OR_RSI, si);
        emit_mov_imm(g, o, OR_RDI, di);
        emit_mov_imm(g, o, OR_RCX, cx | (asz == 32 && g->mode == 64 ? oracle_rand(g) << 32 : 0));
        s->undef &= ~(uint32_t)FD;
    }
    if (row->kind == K_XLAT) {
        uint64_t bx = ORACLE_DATA + rn(g, 256);
        if (g->mode == 16)
            bx = (bx - ORACLE_DATA) | (asz == 16 ? oracle_rand(g) & 0xffff0000u : 0);
        emit_mov_imm(g, o, OR_RBX, bx | (asz == 32 && g->mode == 64 ? oracle_rand(g) << 32 : 0));
    }
    if (row->kind == K_ENTER || row->kind == K_LEAVE)
        emit_lea_rbp_rsp(g, o, (int8_t)(8 * (int)rn(g, 8)));
    /* far returns: CS:RIP of the next instruction (patched below), and for
     * IRET SS, RSP and the flags under them */
    unsigned ret_patch = 0;
    if (row->kind == K_FARRET || row->kind == K_IRET) {
        if (g->mode == 16)
            return false;
        if (row->kind == K_IRET) {
            put(o, 0x6a); put(o, 0x2b);        /* PUSH SS's selector */
            put(o, 0x54);                      /* PUSH RSP */
            put(o, 0x9c);                      /* PUSHF */
        }
        put(o, 0x6a); put(o, g->mode == 64 ? 0x33 : 0x23);
        put(o, 0x68);
        ret_patch = o->len;
        put_n(o, 0, 4);
    }
    /* a new DS would move the frame's FXSAVE (and which byte of a 512-byte
     * store in an unmapped page faults first is the CPU's choice) */
    if (row->kind == K_SEGLOAD && s->x87_frame)
        return false;
    if (row->kind == K_SELECTOR || row->kind == K_SEGLOAD) {
        if (rmreg < 0 || rmreg == OR_RSP)
            return false;
        emit_mov_imm(g, o, rmreg, pick_selector(g) | (oracle_rand(g) & ~0xffffULL));
    }
    if (row->kind == K_BTMEM && mem) {
        int64_t off = (int64_t)rn(g, 2001) - 1000;
        if (reg == OR_RSP)
            return false;
        emit_mov_imm(g, o, reg, (uint64_t)off);
    }

    /* ---- the instruction: memory operand first (its set-up MOVs come
     * before the prefixes) ---- */
    uint64_t segbase = 0;
    uint8_t segp = 0;
    if (mem && chance(g, 15)) {
        static const uint8_t segs[] = { 0x26, 0x2e, 0x36, 0x3e, 0x65, 0x64 };
        segp = segs[rn(g, g->mode == 64 ? 5 : 6)];
        if (g->mode == 64 && segp == 0x65)
            segbase = ORACLE_DATA;
        if (g->mode == 16)
            segbase = segp == 0x2e ? ORACLE_CODE : segp == 0x36 ? ORACLE_STACK : ORACLE_DATA;
    }
    if (mem && g->mode == 16 && !segbase && asz == 32)
        segbase = ORACLE_DATA;   /* the 32-bit forms avoid EBP: DS */
    ModRM m = { 0 };
    bool has_modrm = f->digit != -2;
    unsigned bytes = rm_op >= 0 ? f->ops[rm_op].size / 8 : 0;
    if (has_modrm) {
        m.reg = f->digit >= 0 ? f->digit : reg;
        if (mem) {
            int avoid = (reg_op >= 0 && f->ops[reg_op].kind == O_R) ? reg : -1;
            if (row->kind == K_DIV)
                avoid = OR_RAX;
            plan_mem(s, &m, asz, bytes, segbase, (row->attr & A_ALIGN16) && bytes == 16,
                     avoid, row->kind == K_DIV ? OR_RDX : cl_count ? OR_RCX : -1, row->attr & A_NOMEM);
            if (row->kind == K_BTMEM && m.base >= 0 && m.base == reg)
                return false;
        } else {
            m.mod = 3;
            m.rm = rmreg;
        }
    }
    /* now and then a REX that a legacy prefix after it cancels (DS: ignored
     * in 64-bit mode, and any segment prefix below wins over it) */
    if (g->mode == 64 && chance(g, 2)) {
        put(o, (uint8_t)(0x40 | rn(g, 16)));
        put(o, 0x3e);
    }
    if (segp)
        put(o, segp);
    if (p67)
        put(o, 0x67);
    bool lock = false;
    if (row->attr & A_LOCK)
        lock = mem ? chance(g, 25) : chance(g, 2);
    else if (chance(g, 1))
        lock = true;   /* #UD */
    if (lock)
        put(o, 0xf0);
    if ((row->attr & (A_REP | A_REPE)) && chance(g, 60)) {
        put(o, (row->attr & A_REPE) && chance(g, 50) ? 0xf2 : 0xf3);
        wr = 0;   /* with RCX = 0 the flags stay as they were */
    }
    bool osize = g->mode == 16 ? f->gpr_sized && f->opsize == 32 : f->opsize == 16;
    if (osize && !(f->npfx && f->pfx[0] == 0x66))
        put(o, 0x66);
    for (int i = 0; i < f->npfx; i++)
        put(o, f->pfx[i]);

    /* REX */
    int rex = 0;
    if (f->rexw)
        rex |= 8;
    if (has_modrm && (f->digit < 0) && reg >= 8)
        rex |= 4;
    if (has_modrm && mem && m.index >= 8 && m.sib)
        rex |= 2;
    if (has_modrm && !mem && rmreg >= 8)
        rex |= 1;
    if (has_modrm && mem && m.sib && m.base >= 8)
        rex |= 1;
    if (has_modrm && mem && !m.sib && !m.riprel && m.mod != 0 && m.base >= 8)
        rex |= 1;
    if (has_modrm && mem && !m.sib && m.mod == 0 && m.rm != 5 && m.base >= 8)
        rex |= 1;
    if (plus_op >= 0 && plusreg >= 8)
        rex |= 1;
    if (g->mode == 64) {
        if (no_rex && rex)
            return false;
        if (rex || needs_rex || (!no_rex && chance(g, 3)))
            put(o, (uint8_t)(0x40 | rex));
    }
    unsigned cc = rn(g, 16);
    for (int i = 0; i < f->nop; i++) {
        uint8_t b = f->op[i];
        if (i == f->nop - 1 && f->plusr)
            b += (uint8_t)(plusreg & 7);
        if (i == f->nop - 1 && f->pluscc)
            b += (uint8_t)cc;
        if (i == f->nop - 1 && f->plusi)
            b += (uint8_t)rn(g, 8);
        put(o, b);
    }
    unsigned disp_at = 0;
    if (has_modrm) {
        put(o, (uint8_t)((m.mod << 6) | ((m.reg & 7) << 3) | (m.rm & 7)));
        if (m.sib) {
            int idx = m.index >= 0 ? (m.index & 7) : 4;
            int base = m.base >= 0 ? (m.base & 7) : 5;
            put(o, (uint8_t)((m.scale << 6) | (idx << 3) | base));
        }
        disp_at = o->len;
        put_n(o, (uint64_t)m.disp, m.dispsize);
    }
    /* immediates */
    for (int i = 0; i < f->nimm; i++) {
        uint64_t v = interesting(g);
        if (counted)
            v = count;
        if (row->kind == K_ENTER)
            v = i == 0 ? 8 * rn(g, 8) : (chance(g, 80) ? rn(g, 3) : rn(g, 40));
        if ((row->kind == K_SSE || row->kind == K_X87) && f->digit >= 0)
            v = rn(g, 80);
        if (row->kind == K_INTN && (v & 0xff) == 0x80)
            v = 0x81;
        if (row->kind == K_FARRET)
            v = 8 * rn(g, 4);
        put_n(o, v, f->imm[i]);
    }
    if (m.riprel) {
        /* displacement from the end of the instruction (EIP-relative with 67) */
        uint64_t next = ORACLE_CODE + o->len;
        int64_t d = (int64_t)((uint64_t)m.disp - next);
        if (asz == 32)
            d = (int32_t)(uint32_t)d;
        if (!fits32(d))
            d = (int64_t)(ORACLE_DATA - next);
        for (int i = 0; i < 4; i++)
            o->buf[disp_at + (unsigned)i] = (uint8_t)((uint64_t)d >> (8 * i));
    }
    if (row->kind == K_RDPID && !emit_rdpid_mask(g, o, rmreg))
        return false;
    if (o->overflow)
        return false;
    s->abs_code = ret_patch != 0;
    if (ret_patch) {
        uint32_t next = (uint32_t)(ORACLE_CODE + o->len);
        memcpy(o->buf + ret_patch, &next, 4);
    }

    /* ---- bookkeeping ---- */
    if (row->kind == K_STACK) {
        int sz = f->opsize == 16 ? 2 : g->mode == 64 ? 8 : 4;
        if (!strcmp(row->mnem, "PUSHA"))
            sz = 32;
        s->rsp += (row->attr & A_POP) ? sz : -sz;
    }
    if (row->kind == K_ENTER || row->kind == K_LEAVE || row->kind == K_FARRET || row->kind == K_IRET)
        s->rsp = 0;   /* unknown but near: the stack is large */
    if (row->kind == K_SSE)
        s->uses_xmm = true;
    if (row->kind == K_STRING && (row->attr & A_REPE)) {
        /* with RCX = 0 under REP the flags stay: treat as written anyway, it
         * is the same in both */
    }
    s->undef = (s->undef & ~(uint32_t)wr) | ud;
    s->undef_ever |= s->undef;
    char nm[80];
    snprintf(nm, sizeof(nm), "%s%s%s", lock ? "lock " : "", f->name, mem ? " (mem)" : "");
    if (counted)
        snprintf(nm + strlen(nm), sizeof(nm) - strlen(nm), " count=%u", count);
    name_add(o, nm);
    (void)start;
    return true;
}

/* An instruction with an absolute memory operand: opcode bytes, ModRM.reg. */
static void emit_abs(OracleGen *g, Out *o, const uint8_t *op, int nop, int reg, uint64_t addr)
{
    if (g->mode == 16) {
        put(o, 0x67);               /* a disp32 form, an offset in DS */
        addr -= ORACLE_DATA;
    }
    for (int i = 0; i < nop; i++)
        put(o, op[i]);
    if (g->mode == 64) {
        put(o, (uint8_t)(0x04 | reg << 3));
        put(o, 0x25);
    } else {
        put(o, (uint8_t)(0x05 | reg << 3));
    }
    put_n(o, addr, 4);
}

/* A random x87 register value: mostly normal numbers near 1, sometimes
 * zeros, infinities, NaNs, denormals and unnormals. */
static void random_f80(OracleGen *g, uint8_t *p)
{
    uint64_t mant = oracle_rand(g) | (1ULL << 63);
    unsigned exp = 0x3fff + rn(g, 80) - 40;
    switch (rn(g, 16)) {
    case 0: mant = 0; exp = 0; break;
    case 1: mant = 1ULL << 63; exp = 0x7fff; break;
    case 2: mant |= 3ULL << 62; exp = 0x7fff; break;
    case 3: mant &= ~(1ULL << 63); exp = 0; break;
    case 4: exp = 0x3fff + rn(g, 8); mant &= 0xffff000000000000ULL; mant |= 1ULL << 63; break;
    }
    exp |= chance(g, 30) ? 0x8000 : 0;
    memcpy(p, &mant, 8);
    p[8] = (uint8_t)exp;
    p[9] = (uint8_t)(exp >> 8);
}

/* The FXSAVE image an x87 snippet starts from, at ORACLE_FXAREA. */
static void random_fx_image(OracleGen *g, OracleCase *c)
{
    uint8_t *img = c->data + ORACLE_GEN_SPAN;
    memset(img, 0, 512);
    uint16_t fcw = 0x037f | (chance(g, 25) ? (uint16_t)(rn(g, 4) << 10) : 0);
    uint16_t fsw = (uint16_t)(rn(g, 8) << 11);
    uint32_t mxcsr = 0x1f80;
    memcpy(img, &fcw, 2);
    memcpy(img + 2, &fsw, 2);
    img[4] = (uint8_t)oracle_rand(g);
    memcpy(img + 24, &mxcsr, 4);
    for (int i = 0; i < 8; i++)
        random_f80(g, img + 32 + 16 * i);
    for (int i = 0; i < (g->mode == 64 ? 16 : 8); i++)
        memcpy(img + 160 + 16 * i, c->in.xmm[i], 16);
}

/* FXSAVE at the end, with the fields the implementation chooses cleared:
 * FOP, FIP/FCS, FDP/FDS (AMD saves them only with an exception pending)
 * and MXCSR_MASK. */
static void emit_fx_epilogue(OracleGen *g, Out *o)
{
    static const uint8_t fxsave[] = { 0x0f, 0xae };
    emit_abs(g, o, fxsave, 2, 0, ORACLE_FXAREA);
    /* MOV m16, imm16 and MOV m32, imm32: the operand-size prefix on the
     * one that is not the mode's own size */
    static const uint8_t c7[] = { 0x66, 0xc7 };
    const uint8_t *movw = g->mode == 16 ? c7 + 1 : c7, *movd = g->mode == 16 ? c7 : c7 + 1;
    emit_abs(g, o, movw, g->mode == 16 ? 1 : 2, 0, ORACLE_FXAREA + 6);
    put_n(o, 0, 2);
    const unsigned offs[] = { 8, 12, 16, 20, 28 };
    for (unsigned i = 0; i < 5; i++) {
        emit_abs(g, o, movd, g->mode == 16 ? 2 : 1, 0, ORACLE_FXAREA + offs[i]);
        put_n(o, 0, 4);
    }
}

/* Optionally a Jcc over the instruction just emitted (reads the flags). */
static void wrap_jcc(Snip *s, unsigned start, uint32_t undef_before)
{
    Out *o = &s->out;
    unsigned len = o->len - start;
    if (len > 120 || o->len + 2 > o->cap || (undef_before & FARITH))
        return;
    memmove(o->buf + start + 2, o->buf + start, len);
    o->buf[start] = (uint8_t)(0x70 + rn(s->g, 16));
    o->buf[start + 1] = (uint8_t)len;
    o->len += 2;
    name_add(o, "(jcc over it)");
}

/* ---- control flow around the body: a counted loop, a near call ----
 * Both run the body more than once or through a return address, so the
 * translator's multi-block regions, flag state across back edges and
 * return prediction meet the hardware. */

/* The loop counter: a byte in the bytes of the FXSAVE image that FXSAVE
 * leaves alone (464..511), which random operands never target, inside the
 * compared data. */
#define LOOP_COUNTER (ORACLE_FXAREA + 500)
#define SHAPE_RESERVE 56   /* code bytes kept free for the closing parts */

typedef struct Shape {
    bool loop, call;
    unsigned loop_head;     /* where the body starts again */
    unsigned jmp_rel;       /* the call's JMP over the subroutine: its rel field */
    int64_t call_rsp;       /* s->rsp inside the subroutine, restored before RET */
} Shape;

/* Where the subroutine keeps RSP: high on the stack page (above anything
 * the snippet pushes, outside the compared part), through SS, which no
 * snippet reloads. */
#define CALL_RSP_SAVE (ORACLE_STACK + ORACLE_STACK_SIZE - 0x100)

/* An instruction on an absolute address in the stack page, through SS,
 * which no snippet reloads; wide: the whole rSP-sized register (ESP in
 * 16-bit mode). */
static void emit_ss_abs(OracleGen *g, Out *o, uint8_t op, int reg, uint64_t addr, bool wide)
{
    put(o, 0x36);
    if (g->mode == 16 && wide)
        put(o, 0x66);
    if (g->mode == 64 && wide)
        put(o, 0x48);
    const uint8_t opb[] = { op };
    if (g->mode == 16)
        addr = addr - ORACLE_STACK + ORACLE_DATA;   /* emit_abs makes it DS-relative */
    emit_abs(g, o, opb, 1, reg, addr);
}

/* MOV [SS:CALL_RSP_SAVE], rSP (op 0x89) or MOV rSP, [SS:CALL_RSP_SAVE] (op
 * 0x8b). */
static void emit_rsp_save(OracleGen *g, Out *o, uint8_t op)
{
    emit_ss_abs(g, o, op, OR_RSP, CALL_RSP_SAVE, true);
}

/* rel16 in 16-bit code, rel32 elsewhere */
static int relz_size(const OracleGen *g) { return g->mode == 16 ? 2 : 4; }
static int stack_slot(const OracleGen *g) { return g->mode == 16 ? 2 : g->mode == 64 ? 8 : 4; }

static void loop_open(Snip *s, Shape *sh)
{
    static const uint8_t mov_m8_imm8[] = { 0xc6 };
    unsigned n = 2 + rn(s->g, 3);
    emit_abs(s->g, &s->out, mov_m8_imm8, 1, 0, LOOP_COUNTER);
    put(&s->out, (uint8_t)n);
    sh->loop_head = s->out.len;
    char nm[24];
    snprintf(nm, sizeof(nm), "loop x%u {", n);
    name_add(&s->out, nm);
}

/* DEC the counter, JNZ back. The next pass must not read a flag the body
 * left undefined: DEC defines all but CF, a CLC gives CF a value. */
static void loop_close(Snip *s, Shape *sh)
{
    Out *o = &s->out;
    if (s->undef & FC) {
        put(o, 0xf8);
        s->undef &= ~(uint32_t)FC;
    }
    static const uint8_t dec_m8[] = { 0xfe };
    emit_abs(s->g, o, dec_m8, 1, 1, LOOP_COUNTER);
    int64_t rel = (int64_t)sh->loop_head - (int64_t)(o->len + 2);
    if (rel >= -128) {
        put(o, 0x75);
        put(o, (uint8_t)rel);
    } else {
        int z = relz_size(s->g);
        put(o, 0x0f);
        put(o, 0x85);
        put_n(o, (uint64_t)(rel - z), z);   /* the near form is z bytes longer */
    }
    s->undef &= ~(uint32_t)(FO | FS | FZ | FA | FP);
    name_add(o, "} dec; jnz");
}

/* CALL over a JMP to the subroutine that follows, direct or through a
 * register (MOV reg, its address; CALL reg); it ends with RET, and the JMP
 * goes past it. */
static void call_open(Snip *s, Shape *sh)
{
    OracleGen *g = s->g;
    Out *o = &s->out;
    int z = relz_size(g);
    bool indirect = chance(g, 50);
    int reg = 0;
    unsigned imm_at = 0;
    if (indirect) {
        do reg = (int)rn(g, g->mode == 64 ? 16 : 8); while (reg == OR_RSP);
        emit_mov_imm(g, o, reg, 0);
        imm_at = o->len - (g->mode == 64 ? 8 : 4);
        if (reg >= 8)
            put(o, 0x41);
        put(o, 0xff);
        put(o, (uint8_t)(0xd0 | (reg & 7)));   /* CALL reg (/2) */
    } else {
        put(o, 0xe8);
        put_n(o, (uint64_t)(1 + z), z);     /* the subroutine after the JMP */
    }
    put(o, 0xe9);
    sh->jmp_rel = o->len;
    put_n(o, 0, z);
    if (indirect) {
        /* the subroutine's address: linear, or the offset in CS (16-bit) */
        uint64_t sub = g->mode == 16 ? o->len : ORACLE_CODE + o->len;
        put_n_at(o, imm_at, sub, g->mode == 64 ? 8 : 4);
    }
    s->rsp -= stack_slot(g);
    /* the body may unbalance the stack: RET must still come back here, or
     * it would run unplanned bytes whose undefined flags nobody tracks */
    emit_rsp_save(g, o, 0x89);
    sh->call_rsp = s->rsp;
    name_add(o, indirect ? "call reg {" : "call {");
}

static void call_close(Snip *s, Shape *sh)
{
    Out *o = &s->out;
    int z = relz_size(s->g);
    emit_rsp_save(s->g, o, 0x8b);
    s->rsp = sh->call_rsp;
    /* the body may have written over the return address (a push after a
     * pop, a stack operand): POP it to scratch and PUSH it again, so RET
     * comes back to the JMP after the CALL (neither touches the flags) */
    emit_ss_abs(s->g, o, 0x8f, 0, CALL_RSP_SAVE + 8, false);
    put(o, 0x68);
    unsigned ret = sh->jmp_rel - 1;   /* the JMP's opcode */
    put_n(o, s->g->mode == 16 ? ret : ORACLE_CODE + ret, z);
    put(o, 0xc3);
    s->rsp += stack_slot(s->g);
    put_n_at(o, sh->jmp_rel, o->len - (sh->jmp_rel + (unsigned)z), z);
    name_add(o, "} ret");
}

static void shape_open(Snip *s, Shape *sh)
{
    sh->loop = chance(s->g, 12);
    sh->call = chance(s->g, 12);
    if (sh->loop)
        loop_open(s, sh);
    if (sh->call)
        call_open(s, sh);
    s->out.cap -= SHAPE_RESERVE;
}

static void shape_close(Snip *s, Shape *sh)
{
    s->out.cap += SHAPE_RESERVE;
    if (sh->call)
        call_close(s, sh);
    if (sh->loop)
        loop_close(s, sh);
}

static void random_state(OracleGen *g, OracleCase *c)
{
    for (int i = 0; i < 16; i++)
        c->in.gpr[i] = interesting(g);
    if (g->mode != 64)
        for (int i = 0; i < 16; i++)
            c->in.gpr[i] = i < 8 ? (uint32_t)c->in.gpr[i] : 0;
    c->in.gpr[OR_RSP] = ORACLE_RSP;
    c->in.rip = ORACLE_CODE;
    c->in.rflags = 0x202 | (oracle_rand(g) & FARITH);
    for (int i = 0; i < 16; i++) {
        for (int k = 0; k < 2; k++) {
            uint64_t v = oracle_rand(g);
            if (chance(g, 30)) {
                /* floating-point-looking lanes: small doubles / floats */
                double d = (double)(int64_t)(interesting(g) & 0xffff) / 8.0;
                memcpy(&v, &d, 8);
            }
            c->in.xmm[i][k] = v;
        }
    }
    c->in.mxcsr = 0x1f80;
    for (unsigned i = 0; i < ORACLE_MEM_CMP; i++)
        c->data[i] = chance(g, 70) ? (uint8_t)oracle_rand(g) : (uint8_t)interesting(g);
}

void oracle_gen_case(OracleGen *g, OracleCase *c)
{
    memset(c, 0, sizeof(*c));
    c->mode = g->mode;
    random_state(g, c);
    const FormSet *fs = &formsets[g->mode == 64];
    Snip s = { .g = g };
    s.out = (Out){ .buf = c->code, .cap = ORACLE_CODE_MAX - 16, .name = c->name, .namecap = sizeof(c->name) };
    unsigned n = 1 + rn(g, g->max_insns);
    bool x87 = chance(g, 20);
    s.x87_frame = x87;
    if (x87) {
        random_fx_image(g, c);
        static const uint8_t fxrstor[] = { 0x0f, 0xae };
        emit_abs(g, &s.out, fxrstor, 2, 1, ORACLE_FXAREA);
    }
    Shape shape = { 0 };
    shape_open(&s, &shape);
    for (unsigned i = 0, tries = 0; i < n && tries < 200; tries++) {
        const Form *f = &fs->f[rn(g, (unsigned)fs->n)];
        if ((f->row->attr & A_RARE) && !chance(g, 10))
            continue;
        if ((f->row->kind == K_X87) != x87 && !(x87 && chance(g, 25)))
            continue;   /* x87 forms only in framed snippets, mostly */
        Snip save = s;
        uint8_t codesave[ORACLE_CODE_MAX];
        memcpy(codesave, c->code, sizeof(codesave));
        char namesave[sizeof(c->name)];
        memcpy(namesave, c->name, sizeof(namesave));
        unsigned start = s.out.len;
        if (!gen_insn(&s, f)) {
            s = save;
            memcpy(c->code, codesave, sizeof(codesave));
            memcpy(c->name, namesave, sizeof(namesave));
            continue;
        }
        if (chance(g, 8) && !s.abs_code)   /* moving it would stale its return address */
            wrap_jcc(&s, start, save.undef);
        i++;
    }
    shape_close(&s, &shape);
    if (x87)
        emit_fx_epilogue(g, &s.out);
    c->len = s.out.len;
    c->flag_mask = ORACLE_FLAGS_ALL & ~s.undef;
    c->flag_mask_fault = ORACLE_FLAGS_ALL & ~s.undef_ever;
    c->cmp = s.uses_xmm || x87 ? ORACLE_CMP_XMM : 0;
}
