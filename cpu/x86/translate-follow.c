/* x86 -> IR translator: where a block goes on instead of ending
 * (superblocks). A translation continues through direct JMPs and CALLs
 * whose target lies ahead on its page, and through conditional branches at
 * their fall-through, the taken way leaving by a side exit. Fewer block
 * boundaries: fewer exit checks, and guest registers stay in host
 * registers (they are stored and reloaded at every block boundary). */
#include "cpu/x86/exec.h"
#include "cpu/x86/translate.h"
#include "system/gdbstub.h"
#include "system/util.h"

static bool same_page(uint64_t a, uint64_t b)
{
    return (a >> 12) == (b >> 12);
}

/* On by default: in the Linux workload block entries go from 1434M to
 * 1007M (-d jit,jitcount; JMPs and CALLs alone: 1404M), host code grows
 * 15% (code after a Jcc is also translated where other paths join it),
 * and user+sys CPU time's median over 6 A/B pairs from 8.59 s to 8.09 s. */
unsigned x86_translate_follow = FOLLOW_ALL;

static uint64_t linear_pc_of(DisasContext *s, uint64_t pc)
{
    uint64_t lin = s->cs_base + pc;
    return s->code64 ? lin : (uint32_t)lin;
}

/* Whether the translation may go on past this instruction at all. */
static bool may_go_on(DisasContext *s)
{
    /* the instruction so far ends on the block's first page */
    return !s->region.on && s->insn_count < s->max_insns && tcg_ops_left() >= 256 &&
           !(s->flags & (HF_TF_MASK | HF_INHIBIT_IRQ_MASK | TBF_DEBUG)) &&
           !(s->tb->cflags & CF_SINGLE_INSN) && !atomic_load(&gdb_nr_breakpoints) &&
           same_page(linear_pc_of(s, s->next_pc - 1), linear_pc_of(s, s->tb->pc));
}

/* Only forward on the block's page: the translated addresses then keep
 * rising, so the target is not in the block yet (back edges stay exits,
 * for the loop and region machinery), [pc, pc + size) covers every
 * translated byte for invalidation, and a PC-relative block computes the
 * target from its page base like any other address. Never when the block
 * must stop after each instruction (single-step, interrupt shadow,
 * breakpoints) or is a region (which follows its own plan). */
bool gen_follow(DisasContext *s, uint64_t target, bool call)
{
    TranslationBlock *tb = s->tb;
    target = mask_ip(s, target);
    if (x86_translate_follow < (call ? FOLLOW_JMP_CALL : FOLLOW_JMP) || tb->nb_follow >= TB_MAX_FOLLOW ||
        !may_go_on(s))
        return false;
    uint64_t start = linear_pc_of(s, tb->pc);
    if (target < s->next_pc || target - tb->pc >= 0x2000 || !same_page(linear_pc_of(s, target), start))
        return false;
    tb->follow[tb->nb_follow].jmp_end = (uint16_t)(s->next_pc - tb->pc);
    tb->follow[tb->nb_follow].target = (uint16_t)(target - tb->pc);
    tb->nb_follow++;
    if (call)
        tcg_ctx->stat_follow_call++;
    else
        tcg_ctx->stat_follow_jmp++;
    s->next_pc = target;
    return true;
}

/* The fall-through (on the block's page) goes on in the block; the taken
 * way leaves from a stub after the block's end, through a goto_tb slot of
 * its own. Not in regions (their
 * Jccs branch to labels) nor once the side exits have used the slots the
 * block's last branch does not need. */
bool gen_follow_jcc(DisasContext *s, unsigned cond, uint64_t target)
{
    if (x86_translate_follow < FOLLOW_ALL || s->region.n || s->nb_side >= (int)ARRAY_SIZE(s->side) ||
        !may_go_on(s) || !same_page(linear_pc_of(s, s->next_pc), linear_pc_of(s, s->tb->pc)))
        return false;
    int label = gen_new_label();
    s->side[s->nb_side].label = label;
    s->side[s->nb_side].target = mask_ip(s, target);
    s->side[s->nb_side].cc_op = s->cc_op;
    s->nb_side++;
    tcg_ctx->stat_follow_jcc++;
    gen_jcc(s, cond, label);
    return true;
}

void gen_side_exits(DisasContext *s)
{
    for (int i = 0; i < s->nb_side; i++) {
        tcg_gen_set_label(s->side[i].label);
        s->cc_op = s->side[i].cc_op;   /* stored before the branch */
        s->cc_op_dirty = false;
        s->last_cmp.insn = -100;
        s->cc_pre.insn = -100;
        s->cc_pre.guard_first = -1;
        s->ret_pop = 0;
        s->is_jmp = DISAS_NEXT;
        gen_jmp_to(s, s->side[i].target, 1);
    }
}
