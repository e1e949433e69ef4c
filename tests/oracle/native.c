/* The host CPU as the oracle for user-mode snippets. A child process maps
 * code, data and stack at the oracle's fixed addresses, loads a state through
 * a small trampoline and runs the snippet, which ends at a HLT as under the
 * translator. Every run ends in a signal: the HLT's #GP(0) at the snippet's
 * end, or a fault on the way, whose machine context (trap number, error
 * code, CR2, registers at the faulting instruction) is the reference for the
 * exception the translator must raise.
 *
 * 32-bit snippets run in compatibility mode of the same 64-bit child: a far
 * jump to Linux's 32-bit user code segment (0x23), back through the signal. That is
 * what a -m32 process does, without a second toolchain and binary. 16-bit
 * snippets run in 16-bit protected mode the same way, on LDT segments the
 * child installs with modify_ldt (see oracle.h for their bases).
 *
 * This is the one native harness of the project: the oracle driver and the
 * unit tests (test-tcg-oracle*, test-simd) all run the host CPU through it.
 *
 * The child survives every snippet it can: a crash of the child itself (a
 * snippet that hit the harness) marks that case ORACLE_END_CRASH and a new
 * child goes on with the next case. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <asm/ldt.h>
#include <asm/prctl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>
#include "tests/oracle/oracle.h"

#if defined(__x86_64__)

#define USER_CS32 0x23

/* Offsets into OracleState used by the trampoline. */
_Static_assert(offsetof(OracleState, rflags) == 136, "trampoline layout");
_Static_assert(offsetof(OracleState, xmm) == 144, "trampoline layout");
_Static_assert(offsetof(OracleState, mxcsr) == 400, "trampoline layout");

/* oracle_enter64(state): jumps to ORACLE_CODE in 64-bit mode with *state;
 * oracle_enter32/16(state) the same through the far pointer oracle_farptr.
 * They never return: the snippet ends at a HLT, which at CPL 3 is #GP(0),
 * and the signal handler's machine context is the final state (as for any
 * other fault). So the code page holds exactly what the translator's holds
 * (0xcc, the snippet, HLT): a snippet that reads it through a code segment
 * or a stray pointer sees the same bytes on both sides. */
void oracle_enter64(OracleState *st);
void oracle_enter32(OracleState *st);
void oracle_enter16(OracleState *st);
/* m16:32 of the 32- or 16-bit entry */
struct __attribute__((packed)) { uint32_t off; uint16_t sel; } oracle_farptr;

#define LOAD_XMM(n) "  movdqu " #n "*16+144(%rdi), %xmm" #n "\n"
__asm__(
    ".text\n"
    ".globl oracle_enter64\n"
    "oracle_enter64:\n"
    "  call oracle_load\n"
    "  jmp *oracle_code_addr(%rip)\n"
    ".globl oracle_enter32\n"
    "oracle_enter32:\n"
    "  mov $0x2b, %eax\n mov %eax, %ds\n mov %eax, %es\n"
    "  call oracle_load\n"
    "  ljmpl *oracle_farptr(%rip)\n"
    /* 16-bit: DS/ES/SS on the LDT segments (their bases do not matter in
     * 64-bit mode, so oracle_load still runs on the flat stack) */
    ".globl oracle_enter16\n"
    "oracle_enter16:\n"
    "  mov $" ORACLE_STR(ORACLE_SEL_DATA16) ", %eax\n mov %eax, %ds\n mov %eax, %es\n"
    "  mov $" ORACLE_STR(ORACLE_SEL_STACK16) ", %eax\n mov %eax, %ss\n"
    "  call oracle_load\n"
    "  ljmpl *oracle_farptr(%rip)\n"
    /* oracle_load: everything but RIP; returns on the snippet's stack by
     * popping its own return address first. */
    "oracle_load:\n"
    "  pop %rax\n mov %rax, oracle_load_ret(%rip)\n"
    "  mov 32(%rdi), %rax\n"   /* the snippet's RSP */
    LOAD_XMM(0) LOAD_XMM(1) LOAD_XMM(2) LOAD_XMM(3) LOAD_XMM(4) LOAD_XMM(5) LOAD_XMM(6) LOAD_XMM(7)
    LOAD_XMM(8) LOAD_XMM(9) LOAD_XMM(10) LOAD_XMM(11) LOAD_XMM(12) LOAD_XMM(13) LOAD_XMM(14) LOAD_XMM(15)
    "  ldmxcsr 400(%rdi)\n"
    "  mov %rax, %rsp\n"
    "  pushq 136(%rdi)\n popfq\n"    /* writes below the snippet's RSP, then restores it */
    "  movq $0, -8(%rsp)\n"
    "  mov 0(%rdi),%rax\n mov 8(%rdi),%rcx\n mov 16(%rdi),%rdx\n mov 24(%rdi),%rbx\n"
    "  mov 40(%rdi),%rbp\n mov 48(%rdi),%rsi\n mov 64(%rdi),%r8\n mov 72(%rdi),%r9\n"
    "  mov 80(%rdi),%r10\n mov 88(%rdi),%r11\n mov 96(%rdi),%r12\n mov 104(%rdi),%r13\n"
    "  mov 112(%rdi),%r14\n mov 120(%rdi),%r15\n"
    "  mov 56(%rdi),%rdi\n"
    "  jmp *oracle_load_ret(%rip)\n"
    ".data\n"
    "oracle_load_ret: .quad 0\n"
    "oracle_code_addr: .quad 0x10000000\n"
    ".text\n");

static sigjmp_buf fault_jmp;
static OracleResult *cur_result;

static void on_fault(int sig, siginfo_t *si, void *uc_)
{
    (void)si;
    ucontext_t *uc = uc_;
    greg_t *g = uc->uc_mcontext.gregs;
    OracleState *st = &cur_result->st;
    static const int map[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI,
                                 REG_RDI, REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13,
                                 REG_R14, REG_R15 };
    for (int i = 0; i < 16; i++)
        st->gpr[i] = (uint64_t)g[map[i]];
    st->rip = (uint64_t)g[REG_RIP];
    if ((g[REG_CSGSFS] & 0xffff) == ORACLE_SEL_CODE16)   /* an offset in the code segment */
        st->rip = ORACLE_CODE + (st->rip & 0xffff);
    st->rflags = (uint64_t)g[REG_EFL];
    if (uc->uc_mcontext.fpregs) {
        memcpy(st->xmm, uc->uc_mcontext.fpregs->_xmm, sizeof(st->xmm));
        st->mxcsr = uc->uc_mcontext.fpregs->mxcsr;
    }
    if (sig == SIGVTALRM) {
        cur_result->end = ORACLE_END_TIMEOUT;
    } else {
        cur_result->end = ORACLE_END_EXCEPTION;
        cur_result->vector = (int)g[REG_TRAPNO];
        cur_result->error_code = (uint32_t)g[REG_ERR];
        cur_result->cr2 = (uint64_t)g[REG_CR2];
    }
    siglongjmp(fault_jmp, 1);
}

static bool map_fixed(uint64_t addr, uint64_t size, int prot)
{
    void *p = mmap((void *)addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    return p == (void *)addr;
}

/* The 16-bit segments; false when the kernel refuses them. */
static bool have_ldt16;

static bool ldt_entry(unsigned idx, uint64_t base, unsigned contents)
{
    struct user_desc d = {
        .entry_number = idx, .base_addr = (unsigned)base, .limit = 0xffff,
        .seg_32bit = 0, .contents = contents, .read_exec_only = 0, .limit_in_pages = 0,
        .seg_not_present = 0, .useable = 1,
    };
    return syscall(SYS_modify_ldt, 1, &d, sizeof(d)) == 0;
}

static void child_setup(void)
{
    if (!map_fixed(ORACLE_CODE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) ||
        !map_fixed(ORACLE_DATA, ORACLE_DATA_SIZE, PROT_READ | PROT_WRITE) ||
        !map_fixed(ORACLE_STACK, ORACLE_STACK_SIZE, PROT_READ | PROT_WRITE))
        _exit(3);
    /* GS points at the data in 64-bit mode (glibc leaves GS alone; FS is its TLS) */
    syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)ORACLE_DATA);
    have_ldt16 = ldt_entry(ORACLE_SEL_CODE16 >> 3, ORACLE_CODE, MODIFY_LDT_CONTENTS_CODE) &&
                 ldt_entry(ORACLE_SEL_DATA16 >> 3, ORACLE_DATA, MODIFY_LDT_CONTENTS_DATA) &&
                 ldt_entry(ORACLE_SEL_STACK16 >> 3, ORACLE_STACK, MODIFY_LDT_CONTENTS_DATA);
    static uint8_t altstack[65536];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
    sigaltstack(&ss, NULL);
    struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK };
    sigemptyset(&sa.sa_mask);
    const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGVTALRM };
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}

/* The code page, as the translator's: 0xcc, the snippet, the HLT that ends
 * it; and the far pointer of the 32- or 16-bit entry. */
static void place_code(const OracleCase *c)
{
    uint8_t *code = (uint8_t *)ORACLE_CODE;
    memset(code, 0xcc, 4096);
    memcpy(code, c->code, c->len);
    code[c->len] = ORACLE_END_BYTE;
    oracle_farptr.off = c->mode == 16 ? 0 : (uint32_t)ORACLE_CODE;
    oracle_farptr.sel = c->mode == 16 ? ORACLE_SEL_CODE16 : USER_CS32;
}

/* The HLT after the snippet raised #GP(0): the snippet ran to its end. */
static bool reached_end(const OracleCase *c, const OracleResult *r)
{
    return r->end == ORACLE_END_EXCEPTION && r->vector == 13 && r->error_code == 0 &&
           r->st.rip == ORACLE_CODE + c->len;
}

static void child_run_one(const OracleCase *c, OracleResult *r)
{
    memset(r, 0, sizeof(*r));
    place_code(c);
    memset((void *)ORACLE_DATA, 0, ORACLE_DATA_SIZE);
    memcpy((void *)ORACLE_DATA, c->data, ORACLE_MEM_CMP);
    memset((void *)ORACLE_STACK, 0, ORACLE_STACK_SIZE);
    r->st = c->in;
    r->end = ORACLE_END_OK;
    if (c->mode == 16 && !have_ldt16) {
        r->end = ORACLE_END_CRASH;
        r->vector = ORACLE_NO_LDT16;
        return;
    }
    cur_result = r;
    /* a bound, not a timing assertion: a snippet that never ends is reported
     * (CPU time, so that a loaded host does not stop a snippet that ends) */
    struct itimerval it = { .it_value = { .tv_sec = 1 } };
    setitimer(ITIMER_VIRTUAL, &it, NULL);
    if (sigsetjmp(fault_jmp, 1) == 0) {
        if (c->mode == 64)
            oracle_enter64(&r->st);
        else if (c->mode == 32)
            oracle_enter32(&r->st);
        else
            oracle_enter16(&r->st);
    }
    if (reached_end(c, r)) {
        r->end = ORACLE_END_OK;
        r->vector = 0;
        r->cr2 = 0;
        r->st.rflags &= ~0x10000ull;   /* RF: the #GP's, not the snippet's */
    }
    struct itimerval off = { 0 };
    setitimer(ITIMER_VIRTUAL, &off, NULL);
    /* the next case starts from a clean x87/SSE control state */
    uint32_t mxcsr = 0x1f80;
    __asm__ volatile("cld; fninit; ldmxcsr %0" : : "m"(mxcsr));
    /* a fault in 32- or 16-bit code leaves their data selectors loaded */
    __asm__ volatile("mov %0, %%ds; mov %0, %%es" : : "r"(0));
    memcpy(r->data, (void *)ORACLE_DATA, ORACLE_MEM_CMP);
    memcpy(r->stack, (void *)(ORACLE_RSP - ORACLE_MEM_CMP / 2), ORACLE_MEM_CMP);
}

bool oracle_native_run(const OracleCase *cases, OracleResult *results, size_t n,
                       char *why, size_t whylen)
{
    /* shared with the child: the cases done so far */
    size_t shm_size = sizeof(OracleResult) * n + 4096;
    uint8_t *shm = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) {
        snprintf(why, whylen, "mmap: %m");
        return false;
    }
    volatile size_t *done = (volatile size_t *)shm;
    OracleResult *res = (OracleResult *)(shm + 4096);
    size_t next = 0;
    int crashes_in_a_row = 0;
    while (next < n) {
        *done = next;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            snprintf(why, whylen, "fork: %m");
            munmap(shm, shm_size);
            return false;
        }
        if (pid == 0) {
            child_setup();
            for (size_t i = next; i < n; i++) {
                child_run_one(&cases[i], &res[i]);
                *done = i + 1;
            }
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
            snprintf(why, whylen, "cannot map the oracle's fixed addresses at %#llx",
                     (unsigned long long)ORACLE_CODE);
            munmap(shm, shm_size);
            return false;
        }
        size_t d = *done;
        if (d < n && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            /* the child died in case d */
            memset(&res[d], 0, sizeof(res[d]));
            res[d].end = ORACLE_END_CRASH;
            res[d].vector = WIFSIGNALED(st) ? WTERMSIG(st) : -1;
            d++;
            if (++crashes_in_a_row > 50) {
                snprintf(why, whylen, "the native child keeps dying (status %#x)", st);
                munmap(shm, shm_size);
                return false;
            }
        } else {
            crashes_in_a_row = 0;
        }
        next = d;
    }
    memcpy(results, res, sizeof(OracleResult) * n);
    munmap(shm, shm_size);
    return true;
}

#else

bool oracle_native_run(const OracleCase *cases, OracleResult *results, size_t n,
                       char *why, size_t whylen)
{
    (void)cases; (void)results; (void)n;
    snprintf(why, whylen, "native execution needs an x86-64 host");
    return false;
}

#endif
