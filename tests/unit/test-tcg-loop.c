/* The x86-64 back end's plan for looping blocks (tcg/x86_64/loop.c) at the
 * IR level: which temps get a home register around the back edges.
 * (Execution of looping blocks on both backends is in test-tcg-exec.) */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/translate.h"
#include "harness.h"
#include "harness-machine.h"
#include "tcg/x86_64/backend.h"

static CPUX86State *start(void)
{
    return test_ir_cpu_new(false);
}

static void finish(CPUX86State *env)
{
    test_cpu_free(env);
}

static bool carried(const int *temps, int n, TCGv t)
{
    for (int i = 0; i < n; i++)
        if (temps[i] == t)
            return true;
    return false;
}

/* A loop that reads and writes nine guest registers once each and sets the
 * lazy flags in every instruction (as ALU code does) without reading them:
 * the registers cost a load and a store per turn when not carried, the
 * flags one store however many instructions write them. */
TEST(flags_written_often_lose_homes_to_registers)
{
    CPUX86State *env = start();
    static const int regs[9] = { R_EAX, R_ECX, R_EDX, R_EBX, R_ESI, R_EDI, 8, 9, 10 };
    int head = gen_new_label();
    tcg_gen_set_label(head);
    for (int i = 0; i < 9; i++) {
        tcg_gen_insn_start(0x1000 + 4 * (uint64_t)i, 0);
        tcg_gen_addi(cpu_regs[regs[i]], cpu_regs[regs[i]], 1);
        tcg_gen_mov(cpu_cc_dst, cpu_regs[regs[i]]);
        tcg_gen_movi(cpu_cc_src, 1);
    }
    tcg_gen_goto_loop(head);
    tcg_gen_exit_tb(0);
    int temps[LOOP_MAX_CARRIED];
    int n = loop_homes(tcg_ctx, temps);
    CHECK_EQ(n, 9);
    for (int i = 0; i < 9; i++)
        CHECK(carried(temps, n, cpu_regs[regs[i]]));
    CHECK(!carried(temps, n, cpu_cc_dst));
    CHECK(!carried(temps, n, cpu_cc_src));
    finish(env);
}

/* Reads count once per basic block too: a register read by every
 * instruction of one block does not outrank one read in three blocks. */
TEST(reads_count_once_per_basic_block)
{
    CPUX86State *env = start();
    int head = gen_new_label(), skip1 = gen_new_label(), skip2 = gen_new_label();
    tcg_gen_set_label(head);
    tcg_gen_insn_start(0x1000, 0);
    for (int i = 0; i < 8; i++)
        tcg_gen_add(cpu_regs[R_EAX], cpu_regs[R_EAX], cpu_regs[R_EBX]);
    tcg_gen_brcondi(TCG_COND_EQ, 0, cpu_regs[R_ECX], 0, skip1);
    tcg_gen_addi(cpu_regs[R_EDX], cpu_regs[R_ECX], 1);
    tcg_gen_set_label(skip1);
    tcg_gen_insn_start(0x1010, 0);
    tcg_gen_brcondi(TCG_COND_EQ, 0, cpu_regs[R_ECX], 1, skip2);
    tcg_gen_addi(cpu_regs[R_ESI], cpu_regs[R_ECX], 2);
    tcg_gen_set_label(skip2);
    tcg_gen_goto_loop(head);
    tcg_gen_exit_tb(0);
    int temps[LOOP_MAX_CARRIED];
    int n = loop_homes(tcg_ctx, temps);
    CHECK(n >= 2);
    /* rcx: read in three blocks; rbx: read eight times in one */
    int rank_rcx = -1, rank_rbx = -1;
    for (int i = 0; i < n; i++) {
        if (temps[i] == cpu_regs[R_ECX])
            rank_rcx = i;
        if (temps[i] == cpu_regs[R_EBX])
            rank_rbx = i;
    }
    CHECK(rank_rcx >= 0 && rank_rbx >= 0 && rank_rcx < rank_rbx);
    finish(env);
}
