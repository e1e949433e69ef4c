/* The translator side of the oracle: one in-process vCPU on flat guest RAM,
 * in long mode with 4-level paging that maps exactly the oracle's pages
 * (code, data, stack) as user pages, so a touch of anything else is a #PF
 * as in the native child. The snippet runs at CPL 3 (64-bit or
 * compatibility mode) and ends at a HLT, which at CPL 3 is #GP(0): a #GP
 * at the HLT's address is the normal end. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/cpu.h"
#include "cpu/x86/exec.h"
#include "cpu/x86/simd.h"
#include "system/machine.h"
#include "system/memory.h"
#include "tests/oracle/oracle.h"

#define RAM_BASE ORACLE_RAM_BASE
#define RAM_SIZE ORACLE_RAM_SIZE
/* A bound on returns to the execution loop (an exit request, a longjmp after
 * self-modifying code); the watchdog below bounds the time. */
#define MAX_TURNS 100000

struct OracleTCG {
    CPUX86State env;
    bool interp;
    unsigned runs;
};

static uint8_t *guest_ram;

/* A snippet that never ends is stopped by wall-clock time (a bound, not a
 * timing assertion): chained blocks and indirect-branch probes run without
 * returning to the execution loop, so no count of turns can stop them. */
#define WATCHDOG_SECONDS 5
static CPUX86State *volatile watched_env;
static volatile sig_atomic_t watchdog_fired;

static void on_watchdog(int sig)
{
    (void)sig;
    CPUX86State *env = watched_env;
    if (!env)
        return;
    watchdog_fired = 1;
    /* the execution loop leaves at a block boundary and sees a halted CPU */
    env->halted = true;
    atomic_store(&tcg_cpu(env)->exit_flag, 1);
}

static void watchdog_arm(CPUX86State *env)
{
    static bool installed;
    if (!installed) {
        struct sigaction sa = { .sa_handler = on_watchdog };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
        installed = true;
    }
    watchdog_fired = 0;
    watched_env = env;
    struct itimerval it = { .it_value = { .tv_sec = WATCHDOG_SECONDS } };
    setitimer(ITIMER_REAL, &it, NULL);
}

/* true when the watchdog stopped the run */
static bool watchdog_disarm(void)
{
    struct itimerval off = { 0 };
    setitimer(ITIMER_REAL, &off, NULL);
    watched_env = NULL;
    return watchdog_fired;
}

static uint8_t *ram_at(uint64_t addr) { return guest_ram + (addr - RAM_BASE); }

static void setup_machine(void)
{
    static Machine m;
    if (guest_ram)
        return;
    guest_ram = aligned_alloc(4096, RAM_SIZE);
    m.mem = address_space_new("memory", 1ULL << 32);
    m.io = address_space_new("io", 0x10000);
    as_add_ram(m.mem, "ram", RAM_BASE, RAM_SIZE, guest_ram, 0);
    current_machine = &m;
}

static void set_seg(SegmentCache *s, uint16_t sel, uint64_t base, uint32_t flags)
{
    s->selector = sel;
    s->base = base;
    s->limit = flags ? 0xffffffff : 0;
    s->flags = flags ? flags | DESC_G_MASK : 0;
}

/* The native child's 16-bit LDT segments: byte granular, 64 KiB. */
static void set_seg16(SegmentCache *s, uint16_t sel, uint64_t base, uint32_t flags)
{
    s->selector = sel;
    s->base = base;
    s->limit = 0xffff;
    s->flags = flags & ~DESC_B_MASK;
}

/* Linux's segments: user 0x33 64-bit code, 0x23 32-bit code, 0x2b data;
 * kernel (system snippets) 0x10 code, 0x18 data. */
static void setup_mode(CPUX86State *env, int mode, bool system)
{
    const uint32_t dpl3 = system ? 0 : 3u << DESC_DPL_SHIFT;
    const uint32_t code = DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK | DESC_R_MASK | DESC_A_MASK | dpl3;
    const uint32_t data = DESC_P_MASK | DESC_S_MASK | DESC_W_MASK | DESC_A_MASK | DESC_B_MASK | dpl3;
    env->cr[0] = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
    env->cr[3] = ORACLE_PT;
    env->cr[4] = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    env->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    env->gdt.base = ORACLE_SYS;
    env->gdt.limit = ORACLE_GDT_LIMIT;
    env->idt.base = ORACLE_SYS_IDT;
    env->idt.limit = 32 * 16 - 1;
    /* the native child's LDT (its LDTR selector is not visible at CPL 3) */
    env->ldt.selector = 0;
    env->ldt.base = ORACLE_SYS_LDT;
    env->ldt.limit = 3 * 8 - 1;
    env->ldt.flags = DESC_P_MASK | (2u << DESC_TYPE_SHIFT);
    /* the TSS has no I/O bitmap: IN/OUT at CPL 3 are #GP(0), as for a Linux
     * process that did not ask for ioperm() */
    env->tr.selector = ORACLE_TSS_SEL;
    env->tr.base = ORACLE_SYS_TSS;
    env->tr.limit = 0x67;
    env->tr.flags = DESC_P_MASK | (11u << DESC_TYPE_SHIFT);
    if (system) {
        set_seg(&env->segs[R_CS], ORACLE_KERNEL_CS, 0, code | DESC_L_MASK);
        set_seg(&env->segs[R_SS], ORACLE_KERNEL_DS, 0, data);
        set_seg(&env->segs[R_DS], 0, 0, 0);
        set_seg(&env->segs[R_ES], 0, 0, 0);
        set_seg(&env->segs[R_FS], 0, 0, 0);
        set_seg(&env->segs[R_GS], 0, 0, 0);
        return;
    }
    if (mode == 16) {
        set_seg16(&env->segs[R_CS], ORACLE_SEL_CODE16, ORACLE_CODE, code);
        set_seg16(&env->segs[R_DS], ORACLE_SEL_DATA16, ORACLE_DATA, data);
        set_seg16(&env->segs[R_ES], ORACLE_SEL_DATA16, ORACLE_DATA, data);
        set_seg16(&env->segs[R_SS], ORACLE_SEL_STACK16, ORACLE_STACK, data);
        set_seg(&env->segs[R_FS], 0, 0, 0);
        set_seg(&env->segs[R_GS], 0, 0, 0);
        return;
    }
    if (mode == 64) {
        set_seg(&env->segs[R_CS], 0x33, 0, code | DESC_L_MASK);
        set_seg(&env->segs[R_DS], 0, 0, 0);
        set_seg(&env->segs[R_ES], 0, 0, 0);
        set_seg(&env->segs[R_GS], 0, ORACLE_DATA, 0);
    } else {
        set_seg(&env->segs[R_CS], 0x23, 0, code | DESC_B_MASK);
        set_seg(&env->segs[R_DS], 0x2b, 0, data);
        set_seg(&env->segs[R_ES], 0x2b, 0, data);
        set_seg(&env->segs[R_GS], 0, 0, 0);
    }
    set_seg(&env->segs[R_SS], 0x2b, 0, data);
    set_seg(&env->segs[R_FS], 0, 0, 0);
}

OracleTCG *oracle_tcg_new(bool interp)
{
    setup_machine();
    OracleTCG *o = calloc(1, sizeof(*o));
    o->interp = interp;
    o->env.a20_mask = ~0ULL;
    x86_cpu_reset(&o->env);
    tcg_select_backend(interp);
    tcg_cpu_create(&o->env, NULL);
    return o;
}

uint8_t *oracle_tcg_ram(void)
{
    setup_machine();
    return guest_ram;
}

void oracle_tcg_free(OracleTCG *o)
{
    tcg_cpu_destroy(&o->env);
    free(o);
}

/* RIP is linear in the oracle's states; 16-bit code counts from its CS base. */
static uint64_t code_base(const OracleCase *c)
{
    return c->mode == 16 ? ORACLE_CODE : 0;
}

static void load_state(CPUX86State *env, const OracleCase *c)
{
    const OracleState *in = &c->in;
    memcpy(env->regs, in->gpr, sizeof(env->regs));
    if (c->mode != 64)
        for (int i = 0; i < 16; i++)
            env->regs[i] = i < 8 ? (uint32_t)env->regs[i] : 0;
    env->rip = ORACLE_CODE - code_base(c);
    env->eflags = 2;
    x86_set_eflags(env, (uint32_t)in->rflags, ~0u);
    memcpy(env->xmm, in->xmm, sizeof(env->xmm));
    env->mxcsr = in->mxcsr;
    /* x87 as after FNINIT, as the native child leaves it between cases */
    memset(env->fpregs, 0, sizeof(env->fpregs));
    x87_reset(env);                 /* FNINIT state */
    env->halted = false;
    env->exception_index = -1;
    env->old_exception = -1;
    env->cr[2] = 0;
    x86_update_hflags(env);
}

static void store_state(CPUX86State *env, OracleState *st)
{
    memcpy(st->gpr, env->regs, sizeof(st->gpr));
    st->rip = env->rip;
    st->rflags = x86_get_eflags(env);
    memcpy(st->xmm, env->xmm, sizeof(st->xmm));
    st->mxcsr = env->mxcsr;
}

void oracle_tcg_run(OracleTCG *o, const OracleCase *c, OracleResult *r)
{
    CPUX86State *env = &o->env;
    TCGCPU *t = tcg_cpu(env);
    tcg_select_backend(o->interp);
    memset(r, 0, sizeof(*r));
    memset(ram_at(ORACLE_CODE), 0xcc, 4096);
    memcpy(ram_at(ORACLE_CODE), c->code, c->len);
    ram_at(ORACLE_CODE)[c->len] = ORACLE_END_BYTE;
    memset(ram_at(ORACLE_DATA), 0, ORACLE_DATA_SIZE);
    memcpy(ram_at(ORACLE_DATA), c->data, ORACLE_MEM_CMP);
    memset(ram_at(ORACLE_STACK), 0, ORACLE_STACK_SIZE);
    oracle_build_page_tables(guest_ram);
    oracle_build_system_page(guest_ram);
    setup_mode(env, c->mode, c->system);
    load_state(env, c);
    /* Snippet loops run 2-4 times, never hot: regions planned at once
     * (region-trips 0) and after the first back edge (1, the loop head's
     * plain block superseded) in turn, so both meet the hardware. */
    tcg_region_trips = o->runs++ & 1;
    tb_flush(t);
    tlb_flush(env);
    watchdog_arm(env);
    bool finished = tcg_run_for(env, MAX_TURNS);
    if (watchdog_disarm())
        finished = false;
    store_state(env, &r->st);
    r->st.rip += code_base(c);
    uint64_t end = ORACLE_CODE + c->len - code_base(c);
    if (!finished) {
        r->end = ORACLE_END_TIMEOUT;
    } else if (env->exception_index == EXCP_GP && env->rip == end && env->error_code == 0 && !c->system) {
        r->end = ORACLE_END_OK;
    } else if (env->exception_index < 0 && env->halted && c->system && env->rip == end + 1) {
        r->end = ORACLE_END_OK;
        r->st.rip = ORACLE_CODE + c->len;
    } else if (env->exception_index < 0 && env->halted && oracle_stub_vector(env->rip - 3) >= 0) {
        /* a delivered software interrupt (INT3/INTO): its handler stub's
         * OUT, HLT ran; the frame says where it came from */
        oracle_read_event_frame(guest_ram, oracle_stub_vector(env->rip - 3), false, r);
    } else if (env->exception_index >= 0) {
        r->end = ORACLE_END_EXCEPTION;
        r->vector = env->exception_index;
        r->error_code = (uint32_t)env->error_code;
        r->cr2 = env->cr[2];
    } else {
        /* halted elsewhere */
        r->end = ORACLE_END_EXCEPTION;
        r->vector = -2;
    }
    memcpy(r->data, ram_at(ORACLE_DATA), ORACLE_MEM_CMP);
    memcpy(r->stack, ram_at(ORACLE_RSP - ORACLE_MEM_CMP / 2), ORACLE_MEM_CMP);
}
