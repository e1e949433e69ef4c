/* Integer ALU instructions and flags against known answers: the expected
 * values come from running the same instructions natively on the build host
 * (host/gen-alu.c). Undefined flags and results are masked out. */
#include "runtime.h"
#include "alu-ops.h"
#include "alu-expected.h"

static void check_op(size_t o)
{
    const AluOp *op = &alu_ops[o];
    unsigned bad = 0;
    for (size_t i = 0; i < ALU_NIN; i++) {
        for (size_t j = 0; j < ALU_NIN; j++) {
            for (int f = 0; f < ALU_NFLAGS; f++) {
                AluIO io = { alu_inputs[i], alu_inputs[j], alu_flags_in[f], 0, 0, 0 };
                if (!alu_case_valid(op, io.a, io.b))
                    continue;
                op->fn(&io);
                const uint32_t *e = alu_expected[o][i][j][f];
                uint32_t mask = alu_flag_mask(op, io.a, io.b);
                if (io.r1 == e[0] && io.r2 == e[1] && ((io.fout ^ e[2]) & mask) == 0)
                    continue;
                if (bad++ < 3)
                    printf("# %s a=%08x b=%08x flags=%03x: got %08x %08x %03x expected %08x %08x %03x\n",
                           op->name, io.a, io.b, io.fin, io.r1, io.r2, io.fout & mask,
                           e[0], e[1], e[2] & mask);
            }
        }
    }
    char name[40] = "alu ";
    memcpy(name + 4, op->name, strlen(op->name) + 1);
    TEST_EQ(name, bad, 0);
}

void test_main(void)
{
    for (size_t o = 0; o < ALU_NOPS; o++)
        check_op(o);
}
