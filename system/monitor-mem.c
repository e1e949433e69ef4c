/* Guest memory as debuggers see it (monitor x/memsave, gdbstub m/M): virtual
 * addresses through the CPU's debug page walk, which never faults and never
 * sets Accessed/Dirty bits. */
#include "cpu/x86/cpu.h"
#include "system/machine.h"
#include "system/monitor.h"
#include "system/util.h"

/* The page walk lives in cpu/x86/mmu.c; weak so that the monitor links (and
 * works on physical addresses) in builds or tests without it. */
int x86_mmu_debug_translate(CPUX86State *env, uint64_t vaddr, uint64_t *paddr)
    __attribute__((weak));

#define DEBUG_PAGE 4096

int debug_virt_to_phys(CPUX86State *env, uint64_t addr, uint64_t *paddr)
{
    if (!(env->cr[0] & CR0_PG)) {
        *paddr = addr & env->a20_mask;
        return 0;
    }
    if (!x86_mmu_debug_translate)
        return -1;
    return x86_mmu_debug_translate(env, addr, paddr) == 0 ? 0 : -1;
}

int debug_virt_rw(CPUX86State *env, uint64_t addr, void *buf, size_t len, bool is_write)
{
    uint8_t *p = buf;
    if (!current_machine || !current_machine->mem)
        return -1;
    while (len) {
        size_t chunk = MIN(len, DEBUG_PAGE - (size_t)(addr & (DEBUG_PAGE - 1)));
        uint64_t pa;
        if (debug_virt_to_phys(env, addr, &pa) < 0)
            return -1;
        as_rw_buf(current_machine->mem, pa, p, chunk, is_write);
        p += chunk;
        addr += chunk;
        len -= chunk;
    }
    return 0;
}
