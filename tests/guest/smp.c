/* Multiprocessor start-up and inter-processor interrupts (-smp 3).
 *
 * The boot CPU wakes the others with INIT and two start-up IPIs; each AP runs
 * a real-mode trampoline at 0x8000, enters protected mode and reports its
 * APIC ID (register, CPUID leaves 1 and 0xB, and IA32_APIC_BASE without the
 * BSP flag). All CPUs then update shared counters at the same time with
 * LOCK INC, LOCK XADD, LOCK CMPXCHG and CMPXCHG8B loops, LOCK on a misaligned
 * operand, and an XCHG spinlock around plain increments: nothing may be lost.
 * (Not page-crossing operands: Linux's KVM emulates those as plain writes
 * when it traps them, as the software KVM of some hosts does, so the result
 * there varies from run to run, with QEMU as with Kestrel.) Then the APs idle in HLT and the BSP sends
 * IPIs: fixed to one APIC ID, to all but self, to all including self, to self,
 * in logical flat mode, lowest priority, and an NMI; the BSP rewrites code an
 * AP has run and the AP runs the new code; finally INIT + SIPI restart one AP. Nothing depends on timing: every wait is on memory.
 * test-args: -smp 3
 */
#include "runtime.h"
#include "smp.h"

#define LAPIC LAPIC_BASE
#define APIC_BASE_MSR 0x1b
#define APIC_BASE_BSP (1u << 8)
enum {
    APIC_ID = 0x20, APIC_EOI = 0xb0, APIC_LDR = 0xd0, APIC_DFR = 0xe0, APIC_SVR = 0xf0,
    APIC_ICR_LO = 0x300, APIC_ICR_HI = 0x310,
};
#define NCPUS 3
#define MAX_APS 7
#define ROUNDS 40000
#define IPI_VECTOR 0x40
#define XMC_VECTOR 0x41
#define SPIN_LIMIT 400000000u      /* only so that a broken build fails instead of hanging */

volatile uint32_t aps_arrived, go, done_count, restart_phase, restarted_id;
volatile uint32_t ap_apic_id[MAX_APS], ap_cpuid1_id[MAX_APS], ap_cpuidb_id[MAX_APS], ap_base[MAX_APS];
volatile uint32_t lock_inc_counter, xadd_counter, cmpxchg_counter, spinlocked_counter, spinlock;
volatile uint32_t ipi_count[8], nmi_count[8];
volatile uint64_t cmpxchg8b_counter;
/* LOCK on a misaligned operand */
static volatile uint8_t odd_area[8] __attribute__((aligned(8)));
#define MISALIGNED_COUNTER ((volatile uint32_t *)&odd_area[1])

void ap_main(void);

/* Interrupt handlers shared by every CPU: count per APIC ID, then resume
 * without IRET (the software KVM some hosts have cannot emulate it): an AP
 * drops the frame and goes back to its HLT loop (ap_idle); the BSP resumes
 * where bsp_take_interrupt() saved its stack. */
asm(".text\n"
    "ipi_handler:\n\t"
    "push %eax\n\t"
    "mov 0xfee00020, %eax\n\tshr $24, %eax\n\tand $7, %eax\n\t"
    "lock incl ipi_count(,%eax,4)\n\t"
    "movl $0, 0xfee000b0\n\t"
    "jmp resume\n"
    "nmi_handler:\n\t"
    "push %eax\n\t"
    "mov 0xfee00020, %eax\n\tshr $24, %eax\n\tand $7, %eax\n\t"
    "lock incl nmi_count(,%eax,4)\n"
    "resume:\n\t"
    "test %eax, %eax\n\t"
    "pop %eax\n\t"
    "jz 1f\n\t"
    "add $12, %esp\n"                   /* EIP, CS, EFLAGS: no privilege change */
    ".globl ap_idle\n"
    "ap_idle:\n\t"
    "sti\n\thlt\n\tjmp ap_idle\n"
    "1: mov bsp_saved_esp, %esp\n\t"
    "jmp *bsp_resume\n");
/* Cross-modifying code: runs xmc_code (written by the BSP) after CPUID, the
 * serialising instruction the SDM asks for, and records what it returned. */
asm(".text\n"
    "xmc_handler:\n\t"
    "push %eax\n\tpush %ebx\n\tpush %ecx\n\tpush %edx\n\t"
    "xor %eax, %eax\n\tcpuid\n\t"
    "call xmc_code\n\t"
    "mov 0xfee00020, %ebx\n\tshr $24, %ebx\n\tand $7, %ebx\n\t"
    "mov %eax, xmc_seen(,%ebx,4)\n\t"
    "pop %edx\n\tpop %ecx\n\tpop %ebx\n\t"
    "movl $0, 0xfee000b0\n\t"
    "mov $1, %eax\n\t"                  /* (an AP: back to ap_idle) */
    "jmp resume\n");
extern char ipi_handler[], nmi_handler[], ap_idle[], xmc_handler[];
uint8_t xmc_code[64] __attribute__((aligned(64)));
volatile uint32_t xmc_seen[8];
uint32_t bsp_saved_esp, bsp_resume;

/* BSP: interrupts on until the handler has run (it resumes at 1:). */
static void bsp_take_interrupt(void)
{
    asm volatile("mov %%esp, bsp_saved_esp\n\t"
                 "movl $1f, bsp_resume\n\t"
                 "sti\n\t"
                 "2: jmp 2b\n"
                 "1: cli"
                 ::: "memory", "eax", "ecx", "edx");
}

static uint32_t lapic_read(uint32_t reg) { return *(volatile uint32_t *)(LAPIC + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC + reg) = v; }
static uint32_t my_apic_id(void) { return lapic_read(APIC_ID) >> 24; }

/* Wait (on memory) until *p == want; false when the spin limit ran out. */
static bool wait_for(volatile uint32_t *p, uint32_t want)
{
    for (uint32_t spins = 0; *p != want; spins++) {
        if (spins >= SPIN_LIMIT)
            return false;
        asm volatile("pause");
    }
    return true;
}

/* This CPU's APIC: software-enabled, logical ID bit (flat model) = APIC ID. */
static void apic_setup_local(void)
{
    lapic_write(APIC_SVR, 0x1ff);
    lapic_write(APIC_DFR, 0xffffffffu);
    lapic_write(APIC_LDR, (1u << my_apic_id()) << 24);
}

static void count(void)
{
    for (int i = 0; i < ROUNDS; i++) {
        asm volatile("lock incl %0" : "+m"(lock_inc_counter));
        uint32_t one = 1;
        asm volatile("lock xaddl %0, %1" : "+r"(one), "+m"(xadd_counter));
        uint32_t old = cmpxchg_counter, seen;
        for (;;) {
            asm volatile("lock cmpxchgl %2, %1" : "=a"(seen), "+m"(cmpxchg_counter)
                         : "r"(old + 1), "0"(old) : "cc");
            if (seen == old)
                break;
            old = seen;
        }
        uint64_t seen8 = cmpxchg8b_counter, want8;
        do {
            want8 = seen8;
            uint32_t lo = (uint32_t)(want8 + 1), hi = (uint32_t)((want8 + 1) >> 32);
            asm volatile("lock cmpxchg8b %0" : "+m"(cmpxchg8b_counter), "+A"(seen8)
                         : "b"(lo), "c"(hi) : "cc");
        } while (seen8 != want8);
        asm volatile("lock incl %0" : "+m"(*MISALIGNED_COUNTER));
        uint32_t taken;
        do {
            taken = 1;
            asm volatile("xchgl %0, %1" : "+r"(taken), "+m"(spinlock) :: "memory");
        } while (taken);
        spinlocked_counter = spinlocked_counter + 1;    /* plain load and store */
        asm volatile("movl $0, %0" : "=m"(spinlock) :: "memory");
    }
    asm volatile("lock incl %0" : "+m"(done_count));
}

void ap_main(void)
{
    apic_setup_local();
    uint32_t id = my_apic_id();
    if (restart_phase) {                                /* woken again by INIT + SIPI */
        restarted_id = id;
        asm volatile("jmp ap_idle");
    }
    uint32_t slot = __atomic_fetch_add(&aps_arrived, 1, __ATOMIC_SEQ_CST);
    if (slot < MAX_APS) {
        uint32_t r[4];
        ap_apic_id[slot] = id;
        cpuid(1, 0, r);
        ap_cpuid1_id[slot] = r[1] >> 24;
        cpuid(0xb, 0, r);
        ap_cpuidb_id[slot] = r[3];
        ap_base[slot] = (uint32_t)rdmsr(APIC_BASE_MSR);
    }
    while (!go)
        asm volatile("pause");
    count();
    asm volatile("jmp ap_idle");                        /* IPIs from here on */
    __builtin_unreachable();
}

static void check_startup(void)
{
    bool all = wait_for(&aps_arrived, NCPUS - 1);   /* (TEST_TRUE evaluates twice) */
    TEST_TRUE("all APs started", all);
    TEST_EQ("APs started, no more", aps_arrived, NCPUS - 1);
    uint32_t seen = 1u << my_apic_id();
    bool cpuid_ok = true, base_ok = true;
    for (uint32_t i = 0; i < aps_arrived && i < MAX_APS; i++) {
        seen |= 1u << ap_apic_id[i];
        cpuid_ok &= ap_cpuid1_id[i] == ap_apic_id[i] && ap_cpuidb_id[i] == ap_apic_id[i];
        base_ok &= (ap_base[i] & (APIC_BASE_BSP | 0xfffff000u | 1u << 11)) == (LAPIC | 1u << 11);
    }
    TEST_EQ("APIC IDs 0..N-1, each once", seen, (1u << NCPUS) - 1);
    TEST_TRUE("AP: CPUID leaves 1 and 0xB give the APIC ID", cpuid_ok);
    TEST_TRUE("AP: IA32_APIC_BASE enabled at 0xfee00000, BSP flag clear", base_ok);
    uint32_t r[4];
    cpuid(1, 0, r);
    TEST_EQ("BSP: APIC ID", my_apic_id(), 0);
    TEST_EQ("BSP: CPUID.1 EBX initial APIC ID", r[1] >> 24, 0);
    TEST_TRUE("BSP: IA32_APIC_BASE has the BSP flag", rdmsr(APIC_BASE_MSR) & APIC_BASE_BSP);
}

static void check_counting(void)
{
    go = 1;
    count();
    bool finished = wait_for(&done_count, NCPUS);
    TEST_TRUE("every CPU finished counting", finished);
    TEST_EQ("LOCK INC loses nothing", lock_inc_counter, NCPUS * ROUNDS);
    TEST_EQ("LOCK XADD loses nothing", xadd_counter, NCPUS * ROUNDS);
    TEST_EQ("LOCK CMPXCHG loop loses nothing", cmpxchg_counter, NCPUS * ROUNDS);
    TEST_EQ("XCHG spinlock protects plain increments", spinlocked_counter, NCPUS * ROUNDS);
    TEST_EQ("LOCK CMPXCHG8B loop loses nothing", cmpxchg8b_counter, NCPUS * ROUNDS);
    TEST_EQ("LOCK INC on a misaligned operand loses nothing", *MISALIGNED_COUNTER, NCPUS * ROUNDS);
}

/* Send an IPI (icr 0: none) and wait until the counts reach want[] (APIC IDs 0..NCPUS-1). */
static bool ipi_and_wait(uint32_t dest, uint32_t icr, volatile uint32_t *counts, const uint32_t *want)
{
    if (icr)
        ap_send_ipi(dest, icr);
    for (int i = 0; i < NCPUS; i++)
        if (!wait_for(&counts[i], want[i]))
            return false;
    return true;
}

static void check_ipis(void)
{
    bool ok;
    uint32_t w1[] = { 0, 1, 0 }, w2[] = { 0, 1, 1 }, w3[] = { 0, 2, 2 }, w4[] = { 1, 2, 2 },
             w5[] = { 2, 3, 3 }, w6[] = { 2, 4, 4 }, wn[] = { 0, 0, 1 };
    /* The BSP keeps IF=0 and takes its own IPIs with bsp_take_interrupt. */
    ok = ipi_and_wait(1, ICR_FIXED | IPI_VECTOR, ipi_count, w1);
    TEST_TRUE("fixed IPI to APIC 1", ok);
    ok = ipi_and_wait(2, ICR_FIXED | IPI_VECTOR, ipi_count, w2);
    TEST_TRUE("fixed IPI to APIC 2", ok);
    ok = ipi_and_wait(0, ICR_ALL_BUT_SELF | IPI_VECTOR, ipi_count, w3);
    TEST_TRUE("all-but-self IPI", ok);
    ap_send_ipi(0, ICR_SELF | IPI_VECTOR);
    bsp_take_interrupt();
    ok = ipi_and_wait(0, 0, ipi_count, w4);
    TEST_TRUE("self IPI", ok);
    ap_send_ipi(0, ICR_ALL | IPI_VECTOR);
    bsp_take_interrupt();
    ok = ipi_and_wait(0, 0, ipi_count, w5);
    TEST_TRUE("all-including-self IPI", ok);
    ok = ipi_and_wait(6, ICR_LOGICAL | IPI_VECTOR, ipi_count, w6);
    TEST_TRUE("logical flat IPI to 0x06", ok);
    ok = ipi_and_wait(2, ICR_NMI, nmi_count, wn);
    TEST_TRUE("NMI IPI to APIC 2", ok);
    /* lowest priority among APICs 1 and 2: exactly one of them takes it */
    ap_send_ipi(6, ICR_LOGICAL | ICR_LOWEST | IPI_VECTOR);
    uint32_t spins = 0;
    while (ipi_count[1] + ipi_count[2] != 9 && spins++ < SPIN_LIMIT)
        asm volatile("pause");
    TEST_EQ("lowest-priority IPI reaches exactly one APIC", ipi_count[1] + ipi_count[2], 9);
    TEST_EQ("no stray IPI on the BSP", ipi_count[0], 2);
    TEST_EQ("no stray NMI", nmi_count[0] + nmi_count[1], 0);
}

/* mov $value, %eax; ret */
static void write_xmc_code(uint32_t value)
{
    volatile uint8_t *p = xmc_code;
    p[0] = 0xb8;
    p[1] = (uint8_t)value;
    p[2] = (uint8_t)(value >> 8);
    p[3] = (uint8_t)(value >> 16);
    p[4] = (uint8_t)(value >> 24);
    p[5] = 0xc3;
}

/* The BSP rewrites code that APIC 2 has run: APIC 2 must run the new code. */
static void check_cross_modifying_code(void)
{
    bool ok = true;
    for (uint32_t v = 1; v <= 3 && ok; v++) {
        write_xmc_code(0x1000 + v);
        ap_send_ipi(2, ICR_FIXED | XMC_VECTOR);
        ok = wait_for(&xmc_seen[2], 0x1000 + v);
    }
    TEST_TRUE("code rewritten by the BSP runs anew on APIC 2", ok);
    TEST_EQ("what APIC 2 ran last", xmc_seen[2], 0x1003);
}

static void check_restart(void)
{
    restart_phase = 1;
    ap_restart(1);
    bool restarted = wait_for(&restarted_id, 1);
    TEST_TRUE("INIT + SIPI restart APIC 1", restarted);
}

void test_main(void)
{
    restarted_id = 0xff;
    idt_set(IPI_VECTOR, make_gate(KERNEL_CS, (uint32_t)ipi_handler, 0xe, 0, 0));
    idt_set(XMC_VECTOR, make_gate(KERNEL_CS, (uint32_t)xmc_handler, 0xe, 0, 0));
    idt_set(2, make_gate(KERNEL_CS, (uint32_t)nmi_handler, 0xe, 0, 0));
    apic_setup_local();

    ap_start_all(ap_main);
    check_startup();
    check_counting();
    check_ipis();
    check_cross_modifying_code();
    check_restart();
}
