/* Global pages (CR4.PGE): a translation from an entry with G=1 stays in the
 * TLB across a CR3 write while one with G=0 does not; toggling CR4.PGE drops
 * global translations too, and so does INVLPG of a global page (4 KiB or
 * 4 MiB); with CR4.PGE clear the G bit means nothing. Checked with 32-bit
 * and PAE paging.
 *
 * A stale translation is only observable because the test rewrites an entry
 * without invalidating it: right after the CR3 write, the global page must
 * still show the old frame. */
#include "runtime.h"

#define P 0x001
#define W 0x002
#define PS 0x080
#define G 0x100
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_PGE (1u << 7)

#define WINDOW 0x40000000u          /* two 4 KiB test pages */
#define BIG 0x80000000u             /* one 4 MiB test page (32-bit paging) */
#define FRAME_A 0x00400000u         /* 4 MiB frames for BIG, in free RAM */
#define FRAME_B 0x00800000u

static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt[1024] __attribute__((aligned(4096)));
static uint8_t frames[3][4096] __attribute__((aligned(4096)));

static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pae_pd0[512] __attribute__((aligned(4096)));
static uint64_t pae_pd1[512] __attribute__((aligned(4096)));
static uint64_t pae_pt[512] __attribute__((aligned(4096)));

static bool pae;

static inline uint32_t peek(uint32_t va)
{
    uint32_t v;
    asm volatile("movl (%1), %0" : "=r"(v) : "r"(va) : "memory");
    return v;
}

/* Point test page i (0 or 1) of the window at frame f with extra flags. */
static void map(int i, int f, uint32_t flags)
{
    uint32_t pa = (uint32_t)frames[f];
    if (pae)
        pae_pt[i] = pa | flags | W | P;
    else
        pt[i] = pa | flags | W | P;
}

static uint8_t at(int i)
{
    return (uint8_t)peek(WINDOW + (uint32_t)i * 0x1000);
}

static void setup_32bit(void)
{
    for (uint32_t i = 0; i < 4; i++)
        pd[i] = (i << 22) | PS | W | P;             /* identity, first 16 MiB */
    pd[WINDOW >> 22] = (uint32_t)pt | W | P;
    write_cr4(read_cr4() | CR4_PSE | CR4_PGE);
    write_cr3((uint32_t)pd);
    write_cr0(read_cr0() | 0x80000000u);
}

static void setup_pae(void)
{
    write_cr0(read_cr0() & ~0x80000000u);
    for (uint32_t i = 0; i < 8; i++)
        pae_pd0[i] = ((uint64_t)i << 21) | PS | W | P;   /* identity, first 16 MiB */
    pae_pd1[0] = (uint32_t)pae_pt | W | P;
    pdpt[0] = (uint32_t)pae_pd0 | P;
    pdpt[1] = (uint32_t)pae_pd1 | P;                     /* 0x40000000 */
    pae = true;
    write_cr4(read_cr4() | CR4_PAE | CR4_PGE);
    write_cr3((uint32_t)pdpt);
    write_cr0(read_cr0() | 0x80000000u);
}

/* "mode: s" into out (the test names of one paging mode) */
static const char *mode_name(char *out, const char *mode, const char *s)
{
    size_t n = strlen(mode);
    memcpy(out, mode, n);
    out[n++] = ':';
    out[n++] = ' ';
    memcpy(out + n, s, strlen(s) + 1);
    return out;
}

static void check_window(const char *mode)
{
    char name[96];
#define NAME(s) mode_name(name, mode, s)
    frames[0][0] = 0x11;
    frames[1][0] = 0x22;
    frames[2][0] = 0x33;

    /* fill: page 0 global, page 1 not */
    map(0, 0, G);
    map(1, 1, 0);
    invlpg(WINDOW);
    invlpg(WINDOW + 0x1000);
    TEST_EQ(NAME("global page reads its frame"), at(0), 0x11);
    TEST_EQ(NAME("non-global page reads its frame"), at(1), 0x22);

    /* rewrite both entries without INVLPG, then reload CR3 */
    map(0, 2, G);
    map(1, 2, 0);
    write_cr3(read_cr3());
    TEST_EQ(NAME("global translation survives a CR3 write"), at(0), 0x11);
    TEST_EQ(NAME("non-global translation does not"), at(1), 0x33);

    /* toggling CR4.PGE drops global translations */
    write_cr4(read_cr4() & ~CR4_PGE);
    write_cr4(read_cr4() | CR4_PGE);
    TEST_EQ(NAME("CR4.PGE toggle flushes global pages"), at(0), 0x33);

    /* INVLPG of a global page */
    map(0, 0, G);
    invlpg(WINDOW);
    TEST_EQ(NAME("INVLPG flushes a global page"), at(0), 0x11);

    /* CR4.PGE clear: G is ignored */
    write_cr4(read_cr4() & ~CR4_PGE);
    TEST_EQ(NAME("PGE clear: page reads its frame"), at(0), 0x11);
    map(0, 1, G);
    write_cr3(read_cr3());
    TEST_EQ(NAME("PGE clear: G=1 translation dropped by CR3 write"), at(0), 0x22);
    write_cr4(read_cr4() | CR4_PGE);
#undef NAME
}

/* A global 4 MiB page (32-bit paging): INVLPG of any address in it drops it. */
static void check_big_page(void)
{
    *(volatile uint32_t *)FRAME_A = 0xaaaa0001;
    *(volatile uint32_t *)(FRAME_A + 0x201000) = 0xaaaa0002;
    *(volatile uint32_t *)FRAME_B = 0xbbbb0001;
    *(volatile uint32_t *)(FRAME_B + 0x201000) = 0xbbbb0002;
    pd[BIG >> 22] = FRAME_A | PS | G | W | P;
    invlpg(BIG);
    TEST_EQ("4M global page reads its frame", peek(BIG), 0xaaaa0001);
    TEST_EQ("4M global page, another 4K of it", peek(BIG + 0x201000), 0xaaaa0002);
    pd[BIG >> 22] = FRAME_B | PS | G | W | P;
    write_cr3(read_cr3());
    TEST_EQ("4M global translation survives a CR3 write", peek(BIG + 0x201000), 0xaaaa0002);
    invlpg(BIG + 0x3ff000);
    TEST_EQ("INVLPG elsewhere in a 4M global page flushes it", peek(BIG + 0x201000), 0xbbbb0002);
    TEST_EQ("4M page: its first 4K too", peek(BIG), 0xbbbb0001);
}

/* Code on a remapped page: after INVLPG (or a CR3 write for a non-global
 * page) a call to the same address runs the new frame's code. */
static int call_window(void)
{
    int (*fn)(void) = (int (*)(void))WINDOW;
    int v;
    asm volatile("call *%1" : "=a"(v) : "r"(fn) : "memory", "ecx", "edx");
    return v;
}

static void put_code(int f, uint8_t value)
{
    static const uint8_t code[] = { 0xb8, 0, 0, 0, 0, 0xc3 };   /* mov $value, %eax; ret */
    memcpy(frames[f], code, sizeof(code));
    frames[f][1] = value;
}

static void check_code_remap(void)
{
    put_code(0, 0x41);
    put_code(1, 0x42);
    map(0, 0, 0);
    invlpg(WINDOW);
    TEST_EQ("code page runs its frame", call_window(), 0x41);
    TEST_EQ("code page runs its frame again", call_window(), 0x41);
    map(0, 1, 0);
    invlpg(WINDOW);
    TEST_EQ("INVLPG of a code page: the new frame's code runs", call_window(), 0x42);
    map(0, 0, 0);
    write_cr3(read_cr3());
    TEST_EQ("CR3 write: the new frame's code runs", call_window(), 0x41);
    map(0, 1, G);
    invlpg(WINDOW);
    TEST_EQ("global code page runs its frame", call_window(), 0x42);
    map(0, 0, G);
    invlpg(WINDOW);
    TEST_EQ("INVLPG of a global code page: the new frame's code runs", call_window(), 0x41);
}

void test_main(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    TEST_TRUE("CPUID advertises PGE", r[3] & (1u << 13));
    setup_32bit();
    check_window("32-bit");
    check_big_page();
    check_code_remap();
    setup_pae();
    check_window("PAE");
}
