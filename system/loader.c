/* Direct kernel boot: format dispatch and the helpers the loaders share. */
#include "system/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu/x86/cpu.h"

/* cpu/x86 may be missing from partial builds. */
#pragma weak x86_set_eflags
#pragma weak x86_update_hflags

/* The conventional PC holes: the EBDA at the top of base memory and the
 * VGA/option-ROM/BIOS area. */
#define BASE_MEM_END  0x9fc00
#define BIOS_AREA     0xf0000
#define HIGH_MEM      0x100000

bool loader_range_is_ram(Machine *m, uint64_t addr, uint64_t len)
{
    if (len == 0 || addr + len < addr)
        return false;
    uint64_t last = addr + len - 1;
    for (;;) {
        const FlatRange *fr = as_lookup_range(m->mem, addr);
        if (!fr || fr->mr->kind != MR_RAM || !fr->mr->enabled)
            return false;
        if (fr->end >= last)
            return true;
        addr = fr->end + 1;
    }
}

uint64_t pc_ram_below_4g_end(Machine *m)
{
    uint64_t end = HIGH_MEM;
    while (end < 4 * GiB) {
        const FlatRange *fr = as_lookup_range(m->mem, end);
        if (!fr || fr->mr->kind != MR_RAM || !fr->mr->enabled)
            break;
        end = fr->end + 1;
    }
    return end;
}

static int add_entry(E820Entry *map, int n, int max, uint64_t addr, uint64_t size, uint32_t type)
{
    if (n < max && size)
        map[n++] = (E820Entry){ addr, size, type };
    return n;
}

int pc_memory_map(Machine *m, E820Entry *map, int max)
{
    int n = 0;
    n = add_entry(map, n, max, 0, BASE_MEM_END, E820_RAM);
    n = add_entry(map, n, max, BASE_MEM_END, 0xa0000 - BASE_MEM_END, E820_RESERVED);
    n = add_entry(map, n, max, BIOS_AREA, HIGH_MEM - BIOS_AREA, E820_RESERVED);
    n = add_entry(map, n, max, HIGH_MEM, pc_ram_below_4g_end(m) - HIGH_MEM, E820_RAM);
    if (m->ram_above_4g && m->ram_above_4g->enabled)
        n = add_entry(map, n, max, m->ram_above_4g->base, m->ram_above_4g->size, E820_RAM);
    return n;
}

uint8_t *loader_read_file(const char *path, uint64_t max_size, size_t *size,
                          char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "'%s' is not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > max_size) {
        snprintf(err, errlen, "'%s' is too large (%lld bytes, at most %llu fit in guest RAM)",
                 path, (long long)st.st_size, (unsigned long long)max_size);
        close(fd);
        return NULL;
    }
    uint8_t *buf = xmalloc(st.st_size ? st.st_size : 1);
    int r = pread_full(fd, buf, st.st_size, 0);
    close(fd);
    if (r < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(-r));
        free(buf);
        return NULL;
    }
    *size = st.st_size;
    return buf;
}

static void set_flat_segment(SegmentCache *s, uint16_t selector, bool code)
{
    s->selector = selector;
    s->base = 0;
    s->limit = 0xffffffff;
    s->flags = DESC_P_MASK | DESC_S_MASK | DESC_B_MASK | DESC_G_MASK | DESC_A_MASK |
               (code ? DESC_CS_MASK | DESC_R_MASK : DESC_W_MASK);
}

void loader_enter_flat_pm(CPUX86State *env, uint16_t cs, uint16_t ds, uint32_t entry)
{
    env->rip = entry;
    if (x86_set_eflags)
        x86_set_eflags(env, 0x2, ~0u);
    else
        env->eflags = 0x2;
    env->cr[0] = (env->cr[0] | CR0_PE | CR0_ET) & ~(uint64_t)(CR0_PG | CR0_CD | CR0_NW);
    env->cr[4] &= ~(uint64_t)CR4_PAE;
    env->efer &= ~(uint64_t)(EFER_LME | EFER_LMA);
    for (int i = 0; i < 6; i++)
        set_flat_segment(&env->segs[i], i == R_CS ? cs : ds, i == R_CS);
    /* A usable (busy 32-bit) TSS and no LDT keep the state consistent for
     * hardware virtualisation, which checks TR on entry. */
    env->tr.selector = 0;
    env->tr.base = 0;
    env->tr.limit = 0xffff;
    env->tr.flags = DESC_P_MASK | (0xb << DESC_TYPE_SHIFT);
    env->ldt.selector = 0;
    env->ldt.base = 0;
    env->ldt.limit = 0xffff;
    env->ldt.flags = DESC_P_MASK | (0x2 << DESC_TYPE_SHIFT);
    env->a20_mask = ~0ull;
    env->halted = false;
    if (x86_update_hflags)
        x86_update_hflags(env);
}

int load_kernel(Machine *m, CPUX86State *env, char *err, size_t errlen)
{
    const char *path = m->cfg->kernel;
    size_t size;
    uint8_t *image = loader_read_file(path, m->ram_size, &size, err, errlen);
    if (!image)
        return -1;
    if (size == 0) {
        snprintf(err, errlen, "'%s' is empty", path);
        free(image);
        return -1;
    }
    int r = load_multiboot(m, env, image, size, err, errlen);
    if (r == 0)
        r = load_linux(m, env, image, size, err, errlen);
    free(image);
    if (r == 0) {
        snprintf(err, errlen, "'%s' is not a multiboot or Linux image", path);
        return -1;
    }
    return r < 0 ? -1 : 0;
}
