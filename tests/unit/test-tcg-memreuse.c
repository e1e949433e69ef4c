/* TLB-probe sharing (tcg/mem-reuse.c) at the IR level: which guest accesses
 * of a block share one probe, the window the probe checks, and the cases
 * where sharing must not happen. (Execution of the shared forms on both
 * backends -- page-crossing windows, code pages, read-only pages, faults in
 * the middle, dirty bits -- is in test-tcg-exec.) */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/translate.h"
#include "harness.h"
#include "harness-machine.h"

static CPUX86State *start(void)
{
    return test_ir_cpu_new(true);
}

static void finish(CPUX86State *env)
{
    test_cpu_free(env);
}

static int count_ops(TCGOpcode opc)
{
    int n = 0;
    for (int i = 0; i < tcg_ctx->nb_ops; i++)
        n += tcg_ctx->ops[i].opc == opc;
    return n;
}

static const TCGOp *find_op(TCGOpcode opc)
{
    for (int i = 0; i < tcg_ctx->nb_ops; i++)
        if (tcg_ctx->ops[i].opc == opc)
            return &tcg_ctx->ops[i];
    return NULL;
}

static int probes(void) { return count_ops(INDEX_op_qemu_ld_probe) + count_ops(INDEX_op_qemu_st_probe); }
static int reuses(void) { return count_ops(INDEX_op_qemu_ld_reuse) + count_ops(INDEX_op_qemu_st_reuse); }

/* d = [base + disp] (a fresh temp), as the translator emits it */
static TCGv load_at(TCGv base, int64_t disp, unsigned memop, unsigned flags)
{
    TCGv a = tcg_temp_new(), d = tcg_temp_new();
    tcg_gen_op3i(INDEX_op_add, flags, a, base, (uint64_t)disp);
    tcg_gen_qemu_ld(d, a, memop, 0);
    return d;
}

static void store_at(TCGv base, int64_t disp, TCGv v, unsigned memop)
{
    TCGv a = tcg_temp_new();
    tcg_gen_addi(a, base, (uint64_t)disp);
    tcg_gen_qemu_st(v, a, memop, 0);
}

static void optimise(void)
{
    tcg_gen_exit_tb(0);
    tcg_optimize(tcg_ctx);
    tcg_liveness(tcg_ctx);
}

/* The decompressor's pattern: [rax] read, [rax+0x10] written, [rax+0x28]
 * and [rax+0x10] read, another base in between. */
TEST(same_base_shares_one_probe)
{
    CPUX86State *env = start();
    TCGv rax = cpu_regs[R_EAX], r8 = cpu_regs[8];
    tcg_gen_qemu_ld(r8, rax, MO_64, 0);
    store_at(rax, 0x10, cpu_regs[9], MO_64);
    TCGv b = load_at(r8, 0, MO_8, 0);
    tcg_gen_mov(cpu_regs[R_ECX], b);
    TCGv c = load_at(rax, 0x28, MO_64, 0);
    TCGv d = load_at(rax, 0x10, MO_64, 0);
    tcg_gen_add(cpu_regs[R_ESI], c, d);
    optimise();
    CHECK_EQ(probes(), 1);
    CHECK_EQ(count_ops(INDEX_op_qemu_ld_probe), 1);
    CHECK_EQ(count_ops(INDEX_op_qemu_st_reuse), 1);
    CHECK_EQ(count_ops(INDEX_op_qemu_ld_reuse), 2);
    CHECK_EQ(count_ops(INDEX_op_qemu_ld), 1);   /* [r8]: alone */
    const TCGOp *p = find_op(INDEX_op_qemu_ld_probe);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ((uint64_t)(int64_t)tcg_window_lo(p->args[5]), 0);
        CHECK_EQ(tcg_window_len(p->args[5]), 0x30);
        CHECK_EQ(tcg_window_perms(p->args[5]), TCG_WINDOW_READ | TCG_WINDOW_WRITE);
    }
    finish(env);
}

/* The first access is not the lowest: the window starts below it. */
TEST(window_below_first_access)
{
    CPUX86State *env = start();
    TCGv rbx = cpu_regs[R_EBX];
    tcg_gen_mov(cpu_regs[R_EAX], load_at(rbx, 8, MO_32, 0));
    tcg_gen_mov(cpu_regs[R_ECX], load_at(rbx, -8, MO_64, 0));
    optimise();
    const TCGOp *p = find_op(INDEX_op_qemu_ld_probe);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ((uint64_t)(int64_t)tcg_window_lo(p->args[5]), (uint64_t)-16);
        CHECK_EQ(tcg_window_len(p->args[5]), 20);
        CHECK_EQ(tcg_window_perms(p->args[5]), TCG_WINDOW_READ);
    }
    finish(env);
}

/* [rbx], then what `between` emits, then [rbx + disp]: shared or not. */
static void check_two_loads(void (*between)(void), int64_t disp, bool shared)
{
    CPUX86State *env = start();
    TCGv rbx = cpu_regs[R_EBX];
    tcg_gen_mov(cpu_regs[R_EAX], load_at(rbx, 0, MO_64, 0));
    between();
    tcg_gen_mov(cpu_regs[R_ECX], load_at(rbx, disp, MO_64, 0));
    optimise();
    CHECK_EQ(probes(), shared ? 1 : 0);
    CHECK_EQ(reuses(), shared ? 1 : 0);
    finish(env);
}

/* A base moved by a constant is still the same value: rbx += 8 then [rbx]. */
static void add_8_to_rbx(void) { tcg_gen_addi(cpu_regs[R_EBX], cpu_regs[R_EBX], 8); }
TEST(base_moved_by_constant) { check_two_loads(add_8_to_rbx, 0, true); }

/* A base changed by a non-constant amount is another value. */
static void add_rdx_to_rbx(void) { tcg_gen_add(cpu_regs[R_EBX], cpu_regs[R_EBX], cpu_regs[R_EDX]); }
TEST(redefined_base_not_shared) { check_two_loads(add_rdx_to_rbx, 8, false); }

/* A helper call may flush the TLB (INVLPG, CR3): no sharing across it; a
 * pure one (a flag computation, as INC emits) cannot touch the TLB. */
static uint64_t helper_nop(uint64_t a) { return a; }
static void call_helper(void) { tcg_gen_call((void *)helper_nop, "nop", 0, cpu_regs[R_EDI], 1, cpu_regs[R_ESI]); }
static void call_pure_helper(void)
{
    tcg_gen_call((void *)helper_nop, "nop", TCG_CALL_PURE, cpu_regs[R_EDI], 1, cpu_regs[R_ESI]);
}
TEST(no_sharing_across_call) { check_two_loads(call_helper, 8, false); }
TEST(sharing_across_pure_call) { check_two_loads(call_pure_helper, 8, true); }

/* More than the window allows apart (a page-crossing probe every time). */
TEST(far_displacements_not_shared)
{
    CPUX86State *env = start();
    TCGv rbx = cpu_regs[R_EBX];
    tcg_gen_mov(cpu_regs[R_EAX], load_at(rbx, 0, MO_64, 0));
    tcg_gen_mov(cpu_regs[R_ECX], load_at(rbx, 0x800, MO_64, 0));
    tcg_gen_mov(cpu_regs[R_EDX], load_at(rbx, -0x1000, MO_64, 0));
    optimise();
    CHECK_EQ(probes(), 0);
    finish(env);
}

/* A brcond's fall-through goes on after the probe: the access there reuses
 * it, through a local addend (normal temps die at the branch); a label
 * (other ways in) ends the group. */
TEST(sharing_across_brcond_not_label)
{
    CPUX86State *env = start();
    TCGv rbx = cpu_regs[R_EBX];
    int l = gen_new_label();
    tcg_gen_mov(cpu_regs[R_EAX], load_at(rbx, 0, MO_64, 0));
    tcg_gen_brcondi(TCG_COND_EQ, 0, cpu_regs[R_EDX], 0, l);
    tcg_gen_mov(cpu_regs[R_ECX], load_at(rbx, 8, MO_64, 0));
    tcg_gen_set_label(l);
    tcg_gen_mov(cpu_regs[R_ESI], load_at(rbx, 16, MO_64, 0));
    optimise();
    CHECK_EQ(probes(), 1);
    CHECK_EQ(reuses(), 1);
    CHECK_EQ(count_ops(INDEX_op_qemu_ld), 1);
    const TCGOp *p = find_op(INDEX_op_qemu_ld_probe), *r = find_op(INDEX_op_qemu_ld_reuse);
    if (p && r) {
        CHECK_EQ(tcg_ctx->temps[(int)p->args[1]].kind, TEMP_LOCAL);
        CHECK_EQ(r->args[2], p->args[1]);
        CHECK(r > find_op(INDEX_op_brcond));
        /* dead after its last reuse: no store of it at later labels */
        CHECK(r[1].opc == INDEX_op_discard && r[1].args[0] == p->args[1]);
    }
    finish(env);
}

/* Within one basic block the addend stays a normal temp. */
TEST(addend_normal_within_block)
{
    CPUX86State *env = start();
    TCGv rbx = cpu_regs[R_EBX];
    tcg_gen_mov(cpu_regs[R_EAX], load_at(rbx, 0, MO_64, 0));
    tcg_gen_mov(cpu_regs[R_ECX], load_at(rbx, 8, MO_64, 0));
    optimise();
    const TCGOp *p = find_op(INDEX_op_qemu_ld_probe);
    CHECK(p != NULL);
    if (p)
        CHECK_EQ(tcg_ctx->temps[(int)p->args[1]].kind, TEMP_NORMAL);
    finish(env);
}

/* An address temp made before the brcond is dead after it: a member after
 * it never takes it as its base (nor folds into it). */
TEST(brcond_forgets_normal_temps)
{
    CPUX86State *env = start();
    TCGv rbx = cpu_regs[R_EBX];
    int l = gen_new_label();
    TCGv a = tcg_temp_new();
    tcg_gen_addi(a, rbx, 8);
    TCGv d = tcg_temp_new();
    tcg_gen_qemu_ld(d, a, MO_64, 0);
    tcg_gen_mov(cpu_regs[R_EAX], d);
    tcg_gen_brcondi(TCG_COND_EQ, 0, cpu_regs[R_EDX], 0, l);
    tcg_gen_mov(cpu_regs[R_ECX], load_at(rbx, 16, MO_64, 0));
    tcg_gen_set_label(l);
    optimise();
    const TCGOp *r = find_op(INDEX_op_qemu_ld_reuse);
    CHECK(r != NULL);
    if (r)
        CHECK((int)r->args[1] != a);
    finish(env);
}

/* Different MMU indexes are different TLBs; a 32-bit wrapped address is a
 * different value from the 64-bit sum. */
TEST(mmu_index_and_width_separate)
{
    CPUX86State *env = start();
    TCGv rbx = cpu_regs[R_EBX];
    TCGv a = tcg_temp_new(), d = tcg_temp_new();
    tcg_gen_addi(a, rbx, 8);
    tcg_gen_qemu_ld(d, a, MO_64, 1);
    tcg_gen_mov(cpu_regs[R_EAX], d);
    tcg_gen_mov(cpu_regs[R_ECX], load_at(rbx, 0, MO_64, 0));
    tcg_gen_mov(cpu_regs[R_EDX], load_at(rbx, 16, MO_64, TCG_W32));
    optimise();
    CHECK_EQ(probes(), 0);
    finish(env);
}

/* Two 32-bit addresses from one base share (the probe's one-page window
 * guarantees that no 2^32 wrap falls between them). */
TEST(w32_addresses_shared)
{
    CPUX86State *env = start();
    TCGv rbx = cpu_regs[R_EBX];
    tcg_gen_mov(cpu_regs[R_EAX], load_at(rbx, 4, MO_32, TCG_W32));
    tcg_gen_mov(cpu_regs[R_ECX], load_at(rbx, 12, MO_32, TCG_W32));
    optimise();
    CHECK_EQ(probes(), 1);
    CHECK_EQ(reuses(), 1);
    finish(env);
}

/* A read-modify-write load needs the write permission from the probe. */
TEST(rmw_counts_as_write)
{
    CPUX86State *env = start();
    TCGv rbx = cpu_regs[R_EBX];
    tcg_gen_mov(cpu_regs[R_EAX], load_at(rbx, 0, MO_32 | MO_RMW, 0));
    tcg_gen_mov(cpu_regs[R_ECX], load_at(rbx, 4, MO_32, 0));
    optimise();
    const TCGOp *p = find_op(INDEX_op_qemu_ld_probe);
    CHECK(p != NULL);
    if (p)
        CHECK_EQ(tcg_window_perms(p->args[5]), TCG_WINDOW_READ | TCG_WINDOW_WRITE);
    finish(env);
}

/* A reuse through base + constant addresses [base + addend + disp] itself:
 * the add that made the address is gone. */
TEST(reuse_folds_displacement)
{
    CPUX86State *env = start();
    TCGv rax = cpu_regs[R_EAX];
    tcg_gen_mov(cpu_regs[R_ECX], load_at(rax, 0, MO_64, 0));
    /* as the translator builds [rax + 0x28]: the constant in the sum's own temp */
    TCGv a = tcg_temp_new(), d = tcg_temp_new();
    tcg_gen_movi(a, 0x28);
    tcg_gen_add(a, rax, a);
    tcg_gen_qemu_ld(d, a, MO_64, 0);
    tcg_gen_mov(cpu_regs[R_EDX], d);
    optimise();
    const TCGOp *r = find_op(INDEX_op_qemu_ld_reuse);
    CHECK(r != NULL);
    if (r) {
        CHECK_EQ(r->args[1], rax);
        CHECK_EQ(r->args[5], 0x28);
    }
    CHECK_EQ(count_ops(INDEX_op_add), 0);
    finish(env);
}

/* The base changed after the address was computed: the reuse keeps the
 * computed address (still the same value as the group's). */
TEST(reuse_keeps_address_when_base_changes)
{
    CPUX86State *env = start();
    TCGv rbx = cpu_regs[R_EBX];
    tcg_gen_mov(cpu_regs[R_ECX], load_at(rbx, 0, MO_64, 0));
    TCGv a = tcg_temp_new(), d = tcg_temp_new();
    tcg_gen_addi(a, rbx, 8);
    tcg_gen_mov(rbx, cpu_regs[R_ESI]);
    tcg_gen_qemu_ld(d, a, MO_64, 0);
    tcg_gen_mov(cpu_regs[R_EDX], d);
    optimise();
    const TCGOp *r = find_op(INDEX_op_qemu_ld_reuse);
    CHECK(r != NULL);
    if (r) {
        CHECK_EQ(r->args[1], a);
        CHECK_EQ(r->args[5], 0);
    }
    finish(env);
}

/* ---- loop-invariant probes (tcg/loop-probe.c) ------------------------------------------ */
/* The CRC32 loop's table load: ecx ^= [r9 + zext8(r15) * 4] in a self-loop
 * that never writes r9. `index` emits the index into a fresh temp; `body`
 * what else the loop does. */
static void crc_loop(TCGOpcode ext, void (*body)(void))
{
    int head = gen_new_label();
    tcg_gen_set_label(head);
    tcg_gen_insn_start(0x1000, 0);
    TCGv i = tcg_temp_new(), s = tcg_temp_new(), a = tcg_temp_new(), d = tcg_temp_new();
    tcg_gen_op2(ext, 0, i, cpu_regs[15]);
    tcg_gen_shli(s, i, 2);
    tcg_gen_add(a, cpu_regs[9], s);
    tcg_gen_qemu_ld(d, a, MO_32, 0);
    tcg_gen_op3(INDEX_op_xor, TCG_W32, cpu_regs[R_ECX], cpu_regs[R_ECX], d);
    tcg_gen_insn_start(0x1004, 0);
    tcg_gen_addi(cpu_regs[R_EDI], cpu_regs[R_EDI], 1);
    if (body)
        body();
    tcg_gen_goto_loop(head);
    optimise();
}

static const TCGOp *first_op(void)
{
    return tcg_ctx->nb_ops ? &tcg_ctx->ops[0] : NULL;
}

TEST(loop_table_probe_hoisted)
{
    CPUX86State *env = start();
    crc_loop(INDEX_op_ext8u, NULL);
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 1);
    CHECK_EQ(count_ops(INDEX_op_qemu_ld_reuse), 1);
    CHECK_EQ(count_ops(INDEX_op_qemu_ld), 0);
    const TCGOp *p = first_op();
    CHECK(p && p->opc == INDEX_op_qemu_probe);   /* the set-up, before the first insn_start */
    if (p && p->opc == INDEX_op_qemu_probe) {
        CHECK_EQ((int)p->args[1], cpu_regs[9]);
        CHECK_EQ((uint64_t)(int64_t)tcg_window_lo(p->args[3]), 0);
        CHECK_EQ(tcg_window_len(p->args[3]), 1024);
        CHECK_EQ(tcg_window_perms(p->args[3]), TCG_WINDOW_READ);
        CHECK_EQ(tcg_ctx->temps[(int)p->args[0]].kind, TEMP_LOCAL);
    }
    finish(env);
}

/* A 16-bit index: a 256 KiB window, never inside one page. */
TEST(loop_wide_index_not_hoisted)
{
    CPUX86State *env = start();
    crc_loop(INDEX_op_ext16u, NULL);
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 0);
    CHECK_EQ(count_ops(INDEX_op_qemu_ld), 1);
    finish(env);
}

static void write_r9(void) { tcg_gen_addi(cpu_regs[9], cpu_regs[9], 4); }
TEST(loop_moving_base_not_hoisted)
{
    CPUX86State *env = start();
    crc_loop(INDEX_op_ext8u, write_r9);
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 0);
    finish(env);
}

/* A helper may flush the TLB or change the paging mode mid-loop. */
TEST(loop_with_helper_not_hoisted)
{
    CPUX86State *env = start();
    crc_loop(INDEX_op_ext8u, call_helper);
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 0);
    finish(env);
}

TEST(loop_with_pure_helper_hoisted)
{
    CPUX86State *env = start();
    crc_loop(INDEX_op_ext8u, call_pure_helper);
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 1);
    finish(env);
}

/* Not a loop: the probe would cost as much as the access. */
TEST(no_loop_not_hoisted)
{
    CPUX86State *env = start();
    tcg_gen_insn_start(0x1000, 0);
    TCGv i = tcg_temp_new(), s = tcg_temp_new(), a = tcg_temp_new(), d = tcg_temp_new();
    tcg_gen_op2(INDEX_op_ext8u, 0, i, cpu_regs[15]);
    tcg_gen_shli(s, i, 2);
    tcg_gen_add(a, cpu_regs[9], s);
    tcg_gen_qemu_ld(d, a, MO_32, 0);
    tcg_gen_mov(cpu_regs[R_ECX], d);
    optimise();
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 0);
    finish(env);
}

/* A store and a load at fixed offsets from an invariant base share one
 * read-write window; the byte index of a written global is tracked too. */
static void store_and_load(void)
{
    TCGv a = tcg_temp_new(), b = tcg_temp_new();
    tcg_gen_addi(a, cpu_regs[R_EBX], 0x10);
    tcg_gen_qemu_st(cpu_regs[R_EDI], a, MO_64, 0);
    tcg_gen_addi(b, cpu_regs[R_EBX], -8);
    tcg_gen_qemu_ld(cpu_regs[R_ESI], b, MO_64, 0);
}

TEST(loop_fixed_offsets_share_window)
{
    CPUX86State *env = start();
    int head = gen_new_label();
    tcg_gen_set_label(head);
    tcg_gen_insn_start(0x1000, 0);
    store_and_load();
    tcg_gen_insn_start(0x1008, 0);
    store_and_load();
    tcg_gen_goto_loop(head);
    optimise();
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 1);
    CHECK_EQ(count_ops(INDEX_op_qemu_st_reuse), 2);
    CHECK_EQ(count_ops(INDEX_op_qemu_ld_reuse), 2);
    const TCGOp *p = first_op();
    if (p && p->opc == INDEX_op_qemu_probe) {
        CHECK_EQ((uint64_t)(int64_t)tcg_window_lo(p->args[3]), (uint64_t)-8);
        CHECK_EQ(tcg_window_len(p->args[3]), 32);
        CHECK_EQ(tcg_window_perms(p->args[3]), TCG_WINDOW_READ | TCG_WINDOW_WRITE);
    }
    finish(env);
}

/* A translation region's shape (the decompressor's LZMA loops): a loop head
 * after a prefix, a forward branch over part of the body, back edges from
 * two paths (the second in a stub after the fall-through exit). `mid` runs
 * on the branch's skipped path, `tail` after the first back edge (in the
 * stub before the second). */
static void region_loop(void (*mid)(void), void (*tail)(void))
{
    int head = gen_new_label(), skip = gen_new_label(), stub = gen_new_label();
    tcg_gen_insn_start(0x1000, 0);   /* the prefix: runs once per entry */
    tcg_gen_addi(cpu_regs[R_ESI], cpu_regs[R_ESI], 1);
    tcg_gen_set_label(head);
    tcg_gen_insn_start(0x1004, 0);
    TCGv i = tcg_temp_new(), s = tcg_temp_new(), a = tcg_temp_new(), d = tcg_temp_new();
    tcg_gen_op2(INDEX_op_ext8u, 0, i, cpu_regs[15]);
    tcg_gen_shli(s, i, 2);
    tcg_gen_add(a, cpu_regs[9], s);
    tcg_gen_qemu_ld(d, a, MO_32, 0);
    tcg_gen_op3(INDEX_op_xor, TCG_W32, cpu_regs[R_ECX], cpu_regs[R_ECX], d);
    tcg_gen_brcondi(TCG_COND_EQ, 0, cpu_regs[R_ECX], 0, skip);
    tcg_gen_insn_start(0x1008, 0);
    TCGv b = tcg_temp_new();
    tcg_gen_addi(b, cpu_regs[9], 0x40);
    tcg_gen_qemu_st(cpu_regs[R_EDI], b, MO_32, 0);
    if (mid)
        mid();
    tcg_gen_set_label(skip);
    tcg_gen_insn_start(0x100c, 0);
    tcg_gen_addi(cpu_regs[R_EDI], cpu_regs[R_EDI], 1);
    tcg_gen_brcondi(TCG_COND_NE, 0, cpu_regs[R_EDI], 100, stub);
    tcg_gen_goto_loop(head);
    tcg_gen_exit_tb(0);
    tcg_gen_set_label(stub);
    if (tail)
        tail();
    tcg_gen_goto_loop(head);
    optimise();
}

TEST(region_loop_probe_hoisted)
{
    CPUX86State *env = start();
    region_loop(NULL, NULL);
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 1);
    CHECK_EQ(count_ops(INDEX_op_qemu_ld_reuse), 1);
    CHECK_EQ(count_ops(INDEX_op_qemu_st_reuse), 1);
    const TCGOp *p = first_op();
    CHECK(p && p->opc == INDEX_op_qemu_probe);   /* before the prefix and the head */
    if (p && p->opc == INDEX_op_qemu_probe) {
        CHECK_EQ((int)p->args[1], cpu_regs[9]);
        CHECK_EQ(tcg_window_len(p->args[3]), 1024);
        CHECK_EQ(tcg_window_perms(p->args[3]), TCG_WINDOW_READ | TCG_WINDOW_WRITE);
    }
    finish(env);
}

/* The base written on one path only: not invariant. */
TEST(region_loop_base_written_on_a_path_not_hoisted)
{
    CPUX86State *env = start();
    region_loop(write_r9, NULL);
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 0);
    finish(env);
}

/* A helper between two back edges is in the loop. */
TEST(region_loop_helper_in_stub_not_hoisted)
{
    CPUX86State *env = start();
    region_loop(NULL, call_helper);
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 0);
    finish(env);
}

/* ---- pre-header probes: loops whose head is a label inside the block ------------------ */
/* dict_repeat's shape: an outer loop that sets rax (so no probe at the block
 * entry covers it), a forward branch straight to the inner head, and an
 * inner loop reading [rax] and [rax+0x28] and writing [rax+0x10]. `inner`
 * runs in the inner loop's body, `outer` after it in the outer one. */
static int inner_head, pre_label_jump;
static void nested_loops(void (*inner)(void), void (*outer)(void))
{
    int outer_head = gen_new_label(), after = gen_new_label();
    inner_head = gen_new_label();
    tcg_gen_set_label(outer_head);
    tcg_gen_insn_start(0x1000, 0);
    tcg_gen_mov(cpu_regs[R_EAX], cpu_regs[R_EDI]);
    tcg_gen_insn_start(0x1003, 0);
    tcg_gen_brcondi(TCG_COND_EQ, 0, cpu_regs[R_ECX], 0, inner_head);
    pre_label_jump = tcg_ctx->nb_ops - 1;
    tcg_gen_insn_start(0x1005, 0);
    tcg_gen_addi(cpu_regs[R_EDX], cpu_regs[R_EDX], 1);
    tcg_gen_set_label(inner_head);
    tcg_gen_insn_start(0x1010, 0);
    tcg_gen_qemu_ld(cpu_regs[8], cpu_regs[R_EAX], MO_64, 0);
    tcg_gen_insn_start(0x1013, 0);
    store_at(cpu_regs[R_EAX], 0x10, cpu_regs[R_EDX], MO_64);
    tcg_gen_insn_start(0x1017, 0);
    TCGv v = load_at(cpu_regs[R_EAX], 0x28, MO_64, 0);
    tcg_gen_add(cpu_regs[R_ESI], cpu_regs[R_ESI], v);
    if (inner)
        inner();
    tcg_gen_insn_start(0x101b, 0);
    tcg_gen_subi(cpu_regs[R_ECX], cpu_regs[R_ECX], 1);
    tcg_gen_brcondi(TCG_COND_EQ, 0, cpu_regs[R_ECX], 0, after);
    tcg_gen_goto_loop(inner_head);
    tcg_gen_exit_tb(0);
    tcg_gen_set_label(after);
    tcg_gen_insn_start(0x1020, 0);
    if (outer)
        outer();
    tcg_gen_subi(cpu_regs[R_EBX], cpu_regs[R_EBX], 1);
    tcg_gen_goto_loop(outer_head);
    optimise();
}

static int op_index(const TCGOp *op) { return (int)(op - tcg_ctx->ops); }

TEST(preheader_probe_before_inner_head)
{
    CPUX86State *env = start();
    nested_loops(NULL, NULL);
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 1);
    CHECK_EQ(count_ops(INDEX_op_qemu_ld_reuse), 2);
    CHECK_EQ(count_ops(INDEX_op_qemu_st_reuse), 1);
    CHECK_EQ(count_ops(INDEX_op_qemu_ld), 0);
    CHECK_EQ(tcg_ctx->stat_preheader_probes, 1);
    const TCGOp *p = find_op(INDEX_op_qemu_probe);
    if (p) {
        int n = op_index(p);
        CHECK_EQ((int)p->args[1], cpu_regs[R_EAX]);
        CHECK_EQ(tcg_window_lo(p->args[3]), 0);
        CHECK_EQ(tcg_window_len(p->args[3]), 0x30);
        CHECK_EQ(tcg_window_perms(p->args[3]), TCG_WINDOW_READ | TCG_WINDOW_WRITE);
        /* on the way in: a new label the forward branch takes, the probe,
         * then the head the back edge takes */
        CHECK(n > 0 && tcg_ctx->ops[n - 1].opc == INDEX_op_set_label);
        CHECK(n + 1 < tcg_ctx->nb_ops && tcg_ctx->ops[n + 1].opc == INDEX_op_set_label);
        if (n > 0 && n + 1 < tcg_ctx->nb_ops) {
            CHECK_EQ((int)tcg_ctx->ops[n + 1].args[0], inner_head);
            CHECK_EQ((int)tcg_ctx->ops[pre_label_jump].args[3], (int)tcg_ctx->ops[n - 1].args[0]);
        }
    }
    /* the reuses take rax plus their displacement */
    for (int i = 0; i < tcg_ctx->nb_ops; i++) {
        const TCGOp *op = &tcg_ctx->ops[i];
        if (op->opc == INDEX_op_qemu_ld_reuse || op->opc == INDEX_op_qemu_st_reuse)
            CHECK_EQ((int)op->args[1], cpu_regs[R_EAX]);
    }
    finish(env);
}

static void write_rax(void) { tcg_gen_addi(cpu_regs[R_EAX], cpu_regs[R_EAX], 8); }
TEST(preheader_base_written_in_inner_loop_not_hoisted)
{
    CPUX86State *env = start();
    nested_loops(write_rax, NULL);
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 0);
    finish(env);
}

/* A helper in the inner loop may flush the TLB between two turns. */
TEST(preheader_helper_in_inner_loop_not_hoisted)
{
    CPUX86State *env = start();
    nested_loops(call_helper, NULL);
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 0);
    finish(env);
}

/* A helper in the outer loop only: the inner head's probe runs after it. */
TEST(preheader_helper_in_outer_loop_hoisted)
{
    CPUX86State *env = start();
    nested_loops(NULL, call_helper);
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 1);
    CHECK_EQ(tcg_ctx->stat_preheader_probes, 1);
    finish(env);
}

/* Accesses outside every loop (the block's prefix) keep their own checks:
 * a probe would cost what the access does. */
TEST(entry_probe_only_for_accesses_in_loops)
{
    CPUX86State *env = start();
    int head = gen_new_label();
    tcg_gen_insn_start(0x1000, 0);
    TCGv d = load_at(cpu_regs[R_EBX], 8, MO_64, 0);
    tcg_gen_mov(cpu_regs[R_ESI], d);
    tcg_gen_set_label(head);
    tcg_gen_insn_start(0x1004, 0);
    tcg_gen_subi(cpu_regs[R_ECX], cpu_regs[R_ECX], 1);
    tcg_gen_goto_loop(head);
    optimise();
    CHECK_EQ(count_ops(INDEX_op_qemu_probe), 0);
    CHECK_EQ(count_ops(INDEX_op_qemu_ld), 1);
    finish(env);
}
