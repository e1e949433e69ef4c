/* Hostile code must not hurt the emulator: random instruction bytes, random
 * registers, in 16, 32 and 64-bit modes, on both backends. Whatever the
 * guest does (faults, control register writes, descriptor loads from
 * garbage, port I/O, self-modification, endless loops), the run ends with an
 * exception, a HLT or the turn budget -- never a host crash. (Correctness
 * is the oracles' job; this is only about surviving.) */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"
#include "harness.h"
#include "harness-machine.h"
#include "system/machine.h"
#include "system/memory.h"

#define RAM_SIZE (2ULL << 20)
#define CODE 0x10000ULL

static uint8_t *ram;
static uint64_t rng = 0xdeadbeefcafef00dULL;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void setup_machine(void)
{
    ram = test_machine_ram(0, RAM_SIZE);
}

/* Kicks the vCPU out of long-running translated code now and then. */
static atomic_bool watchdog_run;
static CPUX86State *watched;

static void *watchdog(void *arg)
{
    (void)arg;
    while (atomic_load(&watchdog_run)) {
        CPUX86State *env = watched;
        if (env && env->accel)
            atomic_store(&tcg_cpu(env)->exit_flag, 1);
        usleep(200);
    }
    return NULL;
}

static void reset_env(CPUX86State *env, int mode)
{
    TCGCPU *t = tcg_cpu(env);
    void *accel = env->accel;
    memset(env, 0, sizeof(*env));
    env->accel = accel;
    t->env = env;
    env->a20_mask = ~0ULL;
    env->exception_index = -1;
    env->old_exception = -1;
    env->cr[0] = CR0_PE | CR0_ET;
    env->gdt.limit = 0xffff;
    env->gdt.base = rnd() % RAM_SIZE;
    env->idt.limit = 0xffff;
    env->idt.base = rnd() % RAM_SIZE;
    for (int s = 0; s < 6; s++) {
        env->segs[s].limit = 0xffffffff;
        env->segs[s].flags = DESC_P_MASK | DESC_S_MASK | DESC_W_MASK | DESC_A_MASK |
                             (mode == 32 ? DESC_B_MASK | DESC_G_MASK : 0);
    }
    env->segs[R_CS].flags |= DESC_CS_MASK | DESC_R_MASK;
    if (mode == 64) {
        env->cr[4] = CR4_PAE;
        env->efer = EFER_LME | EFER_LMA;
        env->segs[R_CS].flags |= DESC_L_MASK;
        env->hflags = HF_PE_MASK | HF_CS32_MASK | HF_SS32_MASK | HF_LMA_MASK | HF_CS64_MASK;
    } else if (mode == 32) {
        env->hflags = HF_PE_MASK | HF_CS32_MASK | HF_SS32_MASK;
    } else {
        env->segs[R_CS].limit = 0xffff;
        env->hflags = HF_PE_MASK;
    }
    for (int i = 0; i < 16; i++)
        env->regs[i] = rnd() % 3 ? rnd() % RAM_SIZE : rnd();
    env->regs[R_ESP] = CODE + 0x8000;
    env->rip = CODE;
    env->eflags = 2;
    cc_set_all(env, (uint32_t)rnd() & CC_MASK);
}

/* FUZZ_SCALE=N multiplies the rounds (longer runs by hand). */
static void fuzz(bool interp, int mode, int rounds)
{
    const char *scale = getenv("FUZZ_SCALE");
    if (scale && atoi(scale) > 0)
        rounds *= atoi(scale);
    setup_machine();
    CPUX86State *env = calloc(1, sizeof(*env));
    tcg_select_backend(interp);
    tcg_cpu_create(env, NULL);
    watched = env;
    atomic_store(&watchdog_run, true);
    pthread_t th;
    pthread_create(&th, NULL, watchdog, NULL);
    int budget = 0, halted = 0, faults = 0;
    for (int r = 0; r < rounds; r++) {
        memset(ram, 0xf4, RAM_SIZE);   /* wherever it jumps, a HLT is near */
        unsigned len = 1 + (unsigned)(rnd() % 48);
        for (unsigned i = 0; i < len; i++)
            ram[CODE + i] = (uint8_t)rnd();
        reset_env(env, mode);
        tb_flush(tcg_cpu(env));
        if (!tcg_run_for(env, 50))
            budget++;
        else if (env->halted)
            halted++;
        else
            faults++;
    }
    atomic_store(&watchdog_run, false);
    pthread_join(th, NULL);
    watched = NULL;
    tcg_cpu_destroy(env);
    free(env);
    if (getenv("FUZZ_DEBUG"))
        fprintf(stderr, "mode %d %s: %d halted, %d faulted, %d ran out of turns\n", mode,
                interp ? "interp" : "x86_64", halted, faults, budget);
    CHECK(halted + faults + budget == rounds);   /* reaching here is the test */
}

TEST(random_code_64_x86_64) { fuzz(false, 64, 4000); }
TEST(random_code_32_x86_64) { fuzz(false, 32, 4000); }
TEST(random_code_16_x86_64) { fuzz(false, 16, 4000); }
TEST(random_code_64_interp) { fuzz(true, 64, 2000); }
TEST(random_code_32_interp) { fuzz(true, 32, 2000); }
TEST(random_code_16_interp) { fuzz(true, 16, 2000); }
