/* The memory both the translator and KVM run the oracle's snippets in:
 * identity-mapped 4-level page tables and the system page (GDT, TSS, IDT,
 * exception handlers). */
#include <string.h>
#include "tests/oracle/oracle.h"

static void put64(uint8_t *ram, uint64_t addr, uint64_t v)
{
    memcpy(ram + (addr - ORACLE_RAM_BASE), &v, 8);
}

void oracle_build_page_tables(uint8_t *ram)
{
    const uint64_t user = 0x7, kernel = 0x3;   /* P | RW (| US) */
    /* data and stack not executable, as the native child maps them (a jump
     * or return into them is a fetch #PF there); EFER.NXE is set */
    const uint64_t user_nx = user | 1ULL << 63;
    memset(ram + (ORACLE_PT - ORACLE_RAM_BASE), 0, 4 * 4096);
    put64(ram, ORACLE_PT, (ORACLE_PT + 0x1000) | user);
    put64(ram, ORACLE_PT + 0x1000 + 8 * ((ORACLE_RAM_BASE >> 30) & 511), (ORACLE_PT + 0x2000) | user);
    put64(ram, ORACLE_PT + 0x2000 + 8 * ((ORACLE_RAM_BASE >> 21) & 511), (ORACLE_PT + 0x3000) | user);
    const struct { uint64_t addr, size, flags; } maps[] = {
        { ORACLE_CODE, 4096, user }, { ORACLE_DATA, ORACLE_DATA_SIZE, user_nx },
        { ORACLE_STACK, ORACLE_STACK_SIZE, user_nx }, { ORACLE_SYS, 4096, kernel },
    };
    for (unsigned i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
        for (uint64_t a = maps[i].addr; a < maps[i].addr + maps[i].size; a += 4096)
            put64(ram, ORACLE_PT + 0x3000 + 8 * ((a >> 12) & 511), a | maps[i].flags);
}

void oracle_build_system_page(uint8_t *ram)
{
    uint8_t *page = ram + (ORACLE_SYS - ORACLE_RAM_BASE);
    memset(page, 0, 4096);
    /* GDT as Linux lays it out: kernel CS64 0x10, DS 0x18, user CS32 0x23,
     * DS 0x2b, CS64 0x33, the TSS at 0x40 (busy, as after LTR) */
    static const uint64_t gdt[8] = {
        0, 0, 0x00af9b000000ffffULL, 0x00cf93000000ffffULL,
        0x00cffb000000ffffULL, 0x00cff3000000ffffULL, 0x00affb000000ffffULL, 0,
    };
    memcpy(page, gdt, sizeof(gdt));
    uint64_t tss = ORACLE_SYS_TSS, limit = 0x67;
    uint64_t lo = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x8bULL << 40) |
                  ((limit >> 16) << 48) | (((tss >> 24) & 0xff) << 56);
    memcpy(page + ORACLE_TSS_SEL, &lo, 8);
    uint64_t hi = tss >> 32;
    memcpy(page + ORACLE_TSS_SEL + 8, &hi, 8);
    /* LDT: the three 16-bit segments the native child installs */
    static const struct { uint16_t sel; uint64_t base; uint8_t access; } ldt[] = {
        { ORACLE_SEL_CODE16, ORACLE_CODE, 0xfb }, { ORACLE_SEL_DATA16, ORACLE_DATA, 0xf3 },
        { ORACLE_SEL_STACK16, ORACLE_STACK, 0xf3 },
    };
    for (unsigned i = 0; i < sizeof(ldt) / sizeof(ldt[0]); i++) {
        uint64_t b = ldt[i].base;
        /* AVL clear: modify_ldt's old mode (func 1) drops the useable bit */
        uint64_t d = 0xffff | ((b & 0xffffff) << 16) | ((uint64_t)ldt[i].access << 40) |
                     (((b >> 24) & 0xff) << 56);
        memcpy(page + (ORACLE_SYS_LDT - ORACLE_SYS) + (ldt[i].sel & ~7u), &d, 8);
    }
    /* TSS: IST1 at the end of the page, no I/O bitmap */
    uint64_t ist = ORACLE_SYS_IST;
    memcpy(page + 0x100 + 0x24, &ist, 8);
    uint16_t iomap = 0x68;
    memcpy(page + 0x100 + 0x66, &iomap, 2);
    /* IDT: interrupt gates on IST1 to "out %al, $vector; hlt"; #BP and #OF
     * with DPL 3, as Linux has them, so INT3 and INTO work at CPL 3 */
    for (unsigned v = 0; v < 32; v++) {
        uint64_t dpl = (v == 3 || v == 4) ? 3 : 0;
        uint64_t stub = ORACLE_SYS_STUBS + 8 * v;
        uint8_t *s = page + (stub - ORACLE_SYS);
        s[0] = 0xe6; s[1] = (uint8_t)v; s[2] = 0xf4; s[3] = 0xeb; s[4] = 0xfd;
        uint64_t g0 = (stub & 0xffff) | ((uint64_t)ORACLE_KERNEL_CS << 16) | (1ULL << 32) |
                      ((0x8eULL | dpl << 5) << 40) | (((stub >> 16) & 0xffff) << 48);
        uint64_t g1 = stub >> 32;
        memcpy(page + 0x200 + 16 * v, &g0, 8);
        memcpy(page + 0x200 + 16 * v + 8, &g1, 8);
    }
}

bool oracle_pushes_error_code(int vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

int oracle_stub_vector(uint64_t rip)
{
    if (rip < ORACLE_SYS_STUBS || rip >= ORACLE_SYS_STUBS + 32 * 8)
        return -1;
    return (int)((rip - ORACLE_SYS_STUBS) / 8);
}

void oracle_read_event_frame(const uint8_t *ram, int vector, bool error_code, OracleResult *r)
{
    uint64_t frame = ORACLE_SYS_IST - (error_code ? 48 : 40), v[6];
    memcpy(v, ram + (frame - ORACLE_RAM_BASE), sizeof(v));
    const uint64_t *f = error_code ? v + 1 : v;   /* RIP CS RFLAGS RSP SS */
    r->end = ORACLE_END_EXCEPTION;
    r->vector = vector;
    r->error_code = error_code ? (uint32_t)v[0] : 0;
    r->st.rip = (f[1] & 0xffff) == ORACLE_SEL_CODE16 ? ORACLE_CODE + (f[0] & 0xffff) : f[0];
    r->st.rflags = f[2];
    r->st.gpr[OR_RSP] = f[3];
}
