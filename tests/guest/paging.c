/* Paging: 32-bit (4 KiB and 4 MiB pages) and PAE (with NX), accessed and
 * dirty bits, write protection (CR0.WP), user/supervisor checks from CPL 3,
 * SMAP with STAC/CLAC, reserved bits, page faults with their error codes and
 * CR2, INVLPG, and a fault handler that maps the page and lets the access
 * restart. */
#include "runtime.h"

#define P 0x001
#define W 0x002
#define U 0x004
#define A 0x020
#define D 0x040
#define PS 0x080
#define PF_P 0x01
#define PF_W 0x02
#define PF_U 0x04
#define PF_RSVD 0x08
#define PF_I 0x10

#define WINDOW 0x40000000u          /* virtual window of test pages */

static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt[1024] __attribute__((aligned(4096)));
static uint8_t pages[4][4096] __attribute__((aligned(4096)));

static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pae_pd0[512] __attribute__((aligned(4096)));
static uint64_t pae_pd1[512] __attribute__((aligned(4096)));
static uint64_t pae_pt[512] __attribute__((aligned(4096)));

/* Accesses through the page tables are invisible to the compiler's alias
 * analysis: order them with every other memory access. */
static inline uint32_t peek(uint32_t va)
{
    uint32_t v;
    asm volatile("movl (%1), %0" : "=r"(v) : "r"(va) : "memory");
    return v;
}
static inline void poke(uint32_t va, uint32_t v)
{
    asm volatile("movl %0, (%1)" :: "r"(v), "r"(va) : "memory");
}

static int try_read(uint32_t va)
{
    uint32_t v;
    return TRY("movl (%1), %0", : "=r"(v) : "r"(va) : "memory");
}
static int try_write(uint32_t va)
{
    return TRY("movl $0x5a5a5a5a, (%0)", :: "r"(va) : "memory");
}

#define EXPECT_PF(name, expr, err, addr)                                    \
    do {                                                                    \
        int v_ = (expr);                                                    \
        TEST_EQ(name ": #PF", v_, EXCP_PF);                                 \
        if (v_ == EXCP_PF) {                                                \
            TEST_EQ(name ": error code", fault_error, err);                 \
            TEST_EQ(name ": CR2", fault_cr2, addr);                         \
        }                                                                   \
    } while (0)

/* ---- 32-bit paging ---- */

static void setup_32bit(void)
{
    /* Identity map of the first 16 MiB with 4 MiB pages, user-accessible so
     * that run_user() code, data and stack work. */
    for (uint32_t i = 0; i < 4; i++)
        pd[i] = (i << 22) | PS | U | W | P;
    pd[WINDOW >> 22] = (uint32_t)pt | U | W | P;
    pt[0] = (uint32_t)pages[0] | U | W | P;          /* plain page */
    pt[1] = (uint32_t)pages[1] | U | P;              /* read-only */
    pt[2] = (uint32_t)pages[2] | W | P;              /* supervisor only */
    pt[3] = 0;                                       /* not present */
    pd[0x200] = 0x00400000 | PS | W | P;             /* 0x80000000 -> 4 MiB */
    write_cr4(read_cr4() | (1u << 4));               /* PSE */
    write_cr3((uint32_t)pd);
    write_cr0(read_cr0() | 0x80000000u);
}

static void test_32bit_basics(void)
{
    pages[0][0] = 0x11;
    TEST_EQ("read through the window", peek(WINDOW) & 0xff, 0x11);
    poke(WINDOW + 4, 0xcafef00d);
    TEST_EQ("write through the window reaches the page", peek((uint32_t)pages[0] + 4), 0xcafef00d);
    TEST_EQ("accessed bit set", pt[0] & A, A);
    TEST_EQ("dirty bit set by the write", pt[0] & D, D);
    pt[1] &= ~(A | D);
    invlpg(WINDOW + 0x1000);
    (void)peek(WINDOW + 0x1000);
    TEST_EQ("read sets accessed", pt[1] & A, A);
    TEST_EQ("read leaves dirty clear", pt[1] & D, 0);
    (void)peek(0x80000010);
    TEST_EQ("4 MiB page: PDE accessed", pd[0x200] & A, A);
    TEST_EQ("4 MiB page maps 4 MiB", peek(0x80000000 + 0x100000 + 0x10) , peek(0x500010));

    EXPECT_PF("read of a not-present page", try_read(WINDOW + 0x3008), 0, WINDOW + 0x3008);
    EXPECT_PF("write to a not-present page", try_write(WINDOW + 0x3010), PF_W, WINDOW + 0x3010);
    EXPECT_PF("not-present directory entry", try_read(0xc0000000), 0, 0xc0000000);

    write_cr0(read_cr0() & ~(1u << 16));
    TEST_EQ("supervisor write to read-only, WP=0", try_write(WINDOW + 0x1000), -1);
    write_cr0(read_cr0() | (1u << 16));
    EXPECT_PF("supervisor write to read-only, WP=1", try_write(WINDOW + 0x1004), PF_P | PF_W, WINDOW + 0x1004);
    write_cr0(read_cr0() & ~(1u << 16));

    /* INVLPG: point the PTE at another page. */
    pages[3][0] = 0x33;
    pt[0] = (uint32_t)pages[3] | U | W | P;
    invlpg(WINDOW);
    TEST_EQ("INVLPG makes the new mapping visible", peek(WINDOW) & 0xff, 0x33);
    pt[0] = (uint32_t)pages[0] | U | W | P;
    write_cr3((uint32_t)pd);
    TEST_EQ("CR3 reload flushes", peek(WINDOW) & 0xff, 0x11);
}

/* ---- CPL 3 ---- */

static bool has_smap(void)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    if (r[0] < 7)
        return false;
    cpuid(7, 0, r);
    return r[1] & (1u << 20);
}


static volatile int user_results[5];
static volatile uint32_t user_errors[4], user_cr2[4];

static void user_accesses(void)
{
    user_results[0] = try_read(WINDOW);                 /* user page */
    user_results[1] = try_read(WINDOW + 0x2000);        /* supervisor page */
    user_errors[1] = fault_error;
    user_results[2] = try_write(WINDOW + 0x1000);       /* read-only */
    user_errors[2] = fault_error;
    user_results[3] = try_write(WINDOW + 0x3000);       /* not present */
    user_errors[3] = fault_error;
    user_results[4] = TRY("stac", ::: "memory");        /* CPL 0 only */
}

static void test_user(void)
{
    run_user(user_accesses);
    TEST_EQ("CPL3 read of a user page", user_results[0], -1);
    TEST_EQ("CPL3 read of a supervisor page: #PF", user_results[1], EXCP_PF);
    TEST_EQ("CPL3 read of a supervisor page: error code", user_errors[1], PF_P | PF_U);
    TEST_EQ("CPL3 write to a read-only page: #PF", user_results[2], EXCP_PF);
    TEST_EQ("CPL3 write to a read-only page: error code", user_errors[2], PF_P | PF_W | PF_U);
    TEST_EQ("CPL3 write to a not-present page: error code", user_errors[3], PF_W | PF_U);
    if (has_smap())
        TEST_EQ("CPL3 STAC: #UD", user_results[4], EXCP_UD);
}

/* ---- a handler that fixes the fault ---- */

static int demand_faults;
static void demand_pager(struct frame *f)
{
    uint32_t cr2 = read_cr2v();
    demand_faults++;
    if ((cr2 & ~0xfffu) == WINDOW + 0x3000 && demand_faults < 5) {
        pt[3] = (uint32_t)pages[3] | U | W | P;
        invlpg(cr2);
        return;                    /* restart the faulting instruction */
    }
    printf("demand_pager: unexpected fault at %08x (eip %08x)\n", cr2, f->eip);
    test_abort();
}

static void test_demand_paging(void)
{
    set_handler(EXCP_PF, demand_pager);
    pages[3][0x10] = 0x77;
    uint32_t v = peek(WINDOW + 0x3010);
    set_handler(EXCP_PF, 0);
    TEST_EQ("faulting read restarts after the handler maps the page", v & 0xff, 0x77);
    TEST_EQ("exactly one fault", demand_faults, 1);
    pt[3] = 0;
    invlpg(WINDOW + 0x3000);
}

/* ---- SMAP ---- */

/* Kernel memory supervisor-only (SMAP would otherwise fault on the kernel's
 * own code, stack and tables), the window's first page user. */
static uint32_t smap_pd[1024] __attribute__((aligned(4096)));

static void test_smap(void)
{
    if (!has_smap()) {
        printf("# SMAP not available: skipped\n");
        return;
    }
    for (uint32_t i = 0; i < 4; i++)
        smap_pd[i] = (i << 22) | PS | W | P;
    smap_pd[WINDOW >> 22] = (uint32_t)pt | U | W | P;
    pages[0][0] = 0x55;
    write_cr3((uint32_t)smap_pd);
    write_cr4(read_cr4() | (1u << 21));              /* SMAP */
    EXPECT_PF("SMAP: supervisor read of a user page", try_read(WINDOW), PF_P, WINDOW);
    EXPECT_PF("SMAP: supervisor write to a user page", try_write(WINDOW), PF_P | PF_W, WINDOW);
    TEST_EQ("SMAP: supervisor page still readable", try_read(WINDOW + 0x2000), -1);
    asm volatile("stac" ::: "memory");
    TEST_EQ("SMAP: STAC allows the read", try_read(WINDOW), -1);
    TEST_EQ("SMAP: STAC sets EFLAGS.AC", (read_eflags() >> 18) & 1, 1);
    asm volatile("clac" ::: "memory");
    TEST_EQ("SMAP: CLAC clears EFLAGS.AC", (read_eflags() >> 18) & 1, 0);
    EXPECT_PF("SMAP: CLAC blocks the read again", try_read(WINDOW), PF_P, WINDOW);
    write_cr4(read_cr4() & ~(1u << 21));
    TEST_EQ("SMAP off: the read works", try_read(WINDOW), -1);
    write_cr3((uint32_t)pd);
}

/* ---- PAE ---- */

static bool has_nx(void)
{
    uint32_t r[4];
    cpuid(0x80000000, 0, r);
    if (r[0] < 0x80000001)
        return false;
    cpuid(0x80000001, 0, r);
    return r[3] & (1u << 20);
}

static void test_pae(void)
{
    write_cr0(read_cr0() & ~0x80000000u);
    for (uint32_t i = 0; i < 8; i++)
        pae_pd0[i] = (uint64_t)(i << 21) | PS | U | W | P;  /* 16 MiB of 2 MiB pages */
    pdpt[0] = (uint32_t)pae_pd0 | P;
    pdpt[1] = (uint32_t)pae_pd1 | P;
    pae_pd1[0] = (uint32_t)pae_pt | U | W | P;              /* 0x40000000 */
    pae_pt[0] = (uint32_t)pages[0] | U | W | P;
    pae_pt[1] = (uint32_t)pages[1] | U | W | P | (1ull << 62);   /* reserved bit */
    pae_pt[2] = (uint32_t)pages[2] | U | W | P | (1ull << 63);   /* XD */
    pae_pt[3] = (uint32_t)pages[3] | U | W | P;
    write_cr4(read_cr4() | (1u << 5));
    write_cr3((uint32_t)pdpt);
    write_cr0(read_cr0() | 0x80000000u);

    pages[0][0] = 0x42;
    TEST_EQ("PAE: read through the window", peek(WINDOW) & 0xff, 0x42);
    TEST_EQ("PAE: accessed bit", pae_pt[0] & A, A);
    EXPECT_PF("PAE: reserved bit set", try_read(WINDOW + 0x1000), PF_P | PF_RSVD, WINDOW + 0x1000);

    bool nx = has_nx();
    if (nx) {
        wrmsr(0xc0000080, rdmsr(0xc0000080) | (1u << 11));
        pages[2][0] = 0xc3;                /* ret */
        pages[3][0] = 0xc3;
        int v = TRY("call *%0", :: "r"(WINDOW + 0x3000) : "memory");
        TEST_EQ("PAE NX: executing a normal page", v, -1);
        /* JMP, not CALL: the fetch fault happens after a CALL has pushed. */
        v = TRY("jmp *%0", :: "r"(WINDOW + 0x2000) : "memory");
        TEST_EQ("PAE NX: executing an XD page faults", v, EXCP_PF);
        TEST_EQ("PAE NX: error code has I/D", fault_error, PF_P | PF_I);
        TEST_EQ("PAE NX: CR2", fault_cr2, WINDOW + 0x2000);
        TEST_EQ("PAE NX: data read of an XD page", try_read(WINDOW + 0x2000), -1);
        wrmsr(0xc0000080, rdmsr(0xc0000080) & ~(1u << 11));
        write_cr3((uint32_t)pdpt);         /* EFER.NXE changes do not flush the TLB */
        EXPECT_PF("PAE: XD is reserved without EFER.NXE", try_read(WINDOW + 0x2004),
                  PF_P | PF_RSVD, WINDOW + 0x2004);
    } else {
        printf("# NX not available: skipped\n");
    }
    write_cr0(read_cr0() & ~0x80000000u);
    write_cr4(read_cr4() & ~(1u << 5));
}

void test_main(void)
{
    setup_32bit();
    test_32bit_basics();
    test_user();
    test_demand_paging();
    test_smap();
    test_pae();
}
