/* The monitor's commands: a table of names, argument forms, help lines and
 * handlers. Handlers print to `out`; they run on the I/O thread with the
 * machine lock held. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/x86/cpu.h"
#include "system/chardev-internal.h"
#include "system/cpus.h"
#include "system/gdbstub.h"
#include "system/log.h"
#include "system/machine.h"
#include "system/mainloop.h"
#include "system/monitor-internal.h"
#include "system/util.h"

/* Provided by the CPU code when it is linked in (cpu/x86/cpu.c). */
void x86_cpu_dump_state(CPUX86State *env, FILE *f) __attribute__((weak));
void x86_cpu_interrupt(CPUX86State *env, unsigned mask) __attribute__((weak));
uint32_t x86_get_eflags(CPUX86State *env) __attribute__((weak));

/* ---- helpers ---------------------------------------------------------------------------- */

static Machine *need_machine(FILE *out)
{
    if (!current_machine && out)
        fprintf(out, "no machine is running\n");
    return current_machine;
}

static VCPU *monitor_cpu(Monitor *mon, FILE *out)
{
    Machine *m = need_machine(out);
    if (!m)
        return NULL;
    if (m->ncpus == 0) {
        if (out)
            fprintf(out, "the machine has no CPUs yet\n");
        return NULL;
    }
    int idx = mon->cpu_index < m->ncpus ? mon->cpu_index : 0;
    return m->cpus[idx];
}

static bool vm_running(const Machine *m)
{
    for (int i = 0; i < m->ncpus; i++)
        if (!atomic_load(&m->cpus[i]->stop))
            return true;
    return false;
}

/* Registers usable in expressions as $name: where they are in the state. */
typedef struct RegName {
    const char *name;
    size_t offset;
    unsigned size;
} RegName;

#define GPR(n64, n32, i) { n64, offsetof(CPUX86State, regs[i]), 8 }, \
                         { n32, offsetof(CPUX86State, regs[i]), 4 }
#define SEG(name, i) { name, offsetof(CPUX86State, segs[i].selector), 2 }, \
                     { name "_base", offsetof(CPUX86State, segs[i].base), 8 }

static const RegName reg_names[] = {
    GPR("rax", "eax", R_EAX), GPR("rcx", "ecx", R_ECX), GPR("rdx", "edx", R_EDX),
    GPR("rbx", "ebx", R_EBX), GPR("rsp", "esp", R_ESP), GPR("rbp", "ebp", R_EBP),
    GPR("rsi", "esi", R_ESI), GPR("rdi", "edi", R_EDI),
    GPR("r8", "r8d", R_R8), GPR("r9", "r9d", R_R9), GPR("r10", "r10d", R_R10),
    GPR("r11", "r11d", R_R11), GPR("r12", "r12d", R_R12), GPR("r13", "r13d", R_R13),
    GPR("r14", "r14d", R_R14), GPR("r15", "r15d", R_R15),
    { "rip", offsetof(CPUX86State, rip), 8 }, { "eip", offsetof(CPUX86State, rip), 4 },
    { "pc", offsetof(CPUX86State, rip), 8 },
    { "cr0", offsetof(CPUX86State, cr[0]), 8 }, { "cr2", offsetof(CPUX86State, cr[2]), 8 },
    { "cr3", offsetof(CPUX86State, cr[3]), 8 }, { "cr4", offsetof(CPUX86State, cr[4]), 8 },
    { "efer", offsetof(CPUX86State, efer), 8 },
    SEG("es", R_ES), SEG("cs", R_CS), SEG("ss", R_SS), SEG("ds", R_DS), SEG("fs", R_FS),
    SEG("gs", R_GS),
};

static bool reg_value(CPUX86State *env, const char *name, size_t len, uint64_t *v)
{
    if ((len == 6 && strncmp(name, "eflags", 6) == 0) ||
        (len == 6 && strncmp(name, "rflags", 6) == 0)) {
        *v = x86_get_eflags ? x86_get_eflags(env) : env->eflags;
        return true;
    }
    for (size_t i = 0; i < ARRAY_SIZE(reg_names); i++) {
        if (strlen(reg_names[i].name) == len && strncmp(reg_names[i].name, name, len) == 0) {
            *v = ldn((const uint8_t *)env + reg_names[i].offset, reg_names[i].size);
            return true;
        }
    }
    return false;
}

/* EXPR: terms joined by + and -; a term is a number (0x hex, decimal) or $reg. */
static bool parse_expr(Monitor *mon, FILE *out, const char *s, uint64_t *value)
{
    uint64_t acc = 0;
    int sign = 1;
    const char *p = s;
    for (;;) {
        while (*p == ' ')
            p++;
        uint64_t term;
        size_t len;
        if (*p == '$') {
            p++;
            len = strcspn(p, " +-");
            VCPU *cpu = monitor_cpu(mon, out);
            if (!cpu)
                return false;
            if (!reg_value(cpu->env, p, len, &term)) {
                fprintf(out, "unknown register '$%.*s'\n", (int)len, p);
                return false;
            }
        } else {
            len = strcspn(p, " +-");
            char *num = strndup(p, len);
            bool ok = len && parse_u64(num, &term);
            free(num);
            if (!ok) {
                fprintf(out, "invalid expression '%s'\n", s);
                return false;
            }
        }
        acc += sign > 0 ? term : -term;
        p += len;
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (*p != '+' && *p != '-') {
            fprintf(out, "invalid expression '%s'\n", s);
            return false;
        }
        sign = *p == '+' ? 1 : -1;
        p++;
    }
    *value = acc;
    return true;
}

/* ---- info ---------------------------------------------------------------------------------- */

static void info_status(Monitor *mon, FILE *out)
{
    Machine *m = need_machine(out);
    if (m)
        fprintf(out, "VM status: %s\n", vm_running(m) ? "running" : "paused");
}

static void info_registers(Monitor *mon, FILE *out)
{
    Machine *m = need_machine(out);
    if (!m)
        return;
    if (!x86_cpu_dump_state) {
        fprintf(out, "register dump is not available in this build\n");
        return;
    }
    bool paused = monitor_pause_for_state();
    for (int i = 0; i < m->ncpus; i++) {
        if (m->ncpus > 1)
            fprintf(out, "CPU#%d\n", i);
        x86_cpu_dump_state(m->cpus[i]->env, out);
    }
    if (paused)
        monitor_resume_after_state();
}

static void info_cpus(Monitor *mon, FILE *out)
{
    Machine *m = need_machine(out);
    if (!m)
        return;
    bool paused = monitor_pause_for_state();
    for (int i = 0; i < m->ncpus; i++) {
        CPUX86State *env = m->cpus[i]->env;
        fprintf(out, "%c CPU #%d: pc=0x%016" PRIx64 "%s%s\n",
                i == mon->cpu_index ? '*' : ' ', i, env->segs[R_CS].base + env->rip,
                env->halted ? " (halted)" : "", paused ? "" : " (stopped)");
    }
    if (paused)
        monitor_resume_after_state();
}

static const char *region_kind(const MemoryRegion *mr)
{
    static const char *const kinds[] = { [MR_RAM] = "ram", [MR_ROM] = "rom", [MR_IO] = "i/o" };
    return mr->kind < ARRAY_SIZE(kinds) ? kinds[mr->kind] : "?";
}

static void print_flat_view(FILE *out, AddressSpace *as, int digits)
{
    if (!as)
        return;
    fprintf(out, "address-space: %s\n", as->name);
    for (int i = 0; i < as->nr_flat; i++) {
        const FlatRange *fr = &as->flat[i];
        fprintf(out, "  %0*" PRIx64 "-%0*" PRIx64 " (prio %d, %s): %s", digits, fr->start,
                digits, fr->end, fr->mr->priority, region_kind(fr->mr), fr->mr->name);
        if (fr->start != fr->mr->base)
            fprintf(out, " @%" PRIx64, fr->start - fr->mr->base);
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void info_mtree(Monitor *mon, FILE *out)
{
    Machine *m = need_machine(out);
    if (!m)
        return;
    print_flat_view(out, m->mem, 16);
    print_flat_view(out, m->io, 4);
}

/* Devices as the address spaces show them: each I/O region once. */
static void print_devices(FILE *out, AddressSpace *as, const char *what)
{
    if (!as)
        return;
    for (int i = 0; i < as->nr_regions; i++) {
        MemoryRegion *mr = as->regions[i];
        if (mr->kind != MR_IO)
            continue;
        fprintf(out, "  dev: %-20s %s 0x%" PRIx64 "-0x%" PRIx64 "%s\n", mr->name, what,
                mr->base, mr->base + mr->size - 1, mr->enabled ? "" : " (disabled)");
    }
}

static void info_qtree(Monitor *mon, FILE *out)
{
    Machine *m = need_machine(out);
    if (!m)
        return;
    fprintf(out, "machine: %s, accelerator %s, %d vCPU%s, %" PRIu64 " MiB\n",
            m->cfg && m->cfg->machine_type ? m->cfg->machine_type : "pc",
            m->accel ? m->accel->name : "none", m->ncpus, m->ncpus == 1 ? "" : "s",
            (uint64_t)(m->ram_size / MiB));
    print_devices(out, m->io, "ports");
    print_devices(out, m->mem, "mmio ");
    for (int i = 0; i < MAX_SERIAL; i++)
        if (m->serial_chr[i])
            fprintf(out, "  serial%d -> %s\n", i, chardev_spec(m->serial_chr[i]));
}

static void info_chardev(Monitor *mon, FILE *out)
{
    for (Chardev *c = chardev_first(); c; c = c->next) {
        char desc[256] = "";
        if (c->be->describe)
            c->be->describe(c, desc, sizeof(desc));
        fprintf(out, "%s%s%s: %s, %d user%s%s\n", c->label ? c->label : "", c->label ? " = " : "",
                c->spec, desc, c->nr_fe, c->nr_fe == 1 ? "" : "s",
                c->nr_fe > 1 ? " (mux, Ctrl-A c switches)" : "");
    }
}

static void info_version(Monitor *mon, FILE *out)
{
    fprintf(out, "Kestrel %s\n", KESTREL_VERSION);
}

static void info_history(Monitor *mon, FILE *out)
{
    for (int i = 0; i < mon->nr_history; i++)
        fprintf(out, "%d: '%s'\n", i, mon->history[i]);
}

static void info_kvm(Monitor *mon, FILE *out)
{
    Machine *m = current_machine;
    bool on = m && m->accel && strcmp(m->accel->name, "kvm") == 0;
    fprintf(out, "kvm support: %s\n", on ? "enabled" : "disabled");
}

typedef struct InfoCommand {
    const char *name;
    const char *help;
    MonitorInfoFn fn;
} InfoCommand;

static const InfoCommand builtin_info[] = {
    { "status",    "the VM's run state",                            info_status },
    { "registers", "the CPU registers (every vCPU)",                info_registers },
    { "cpus",      "the vCPUs and where they are",                  info_cpus },
    { "mtree",     "memory and I/O address spaces (flat view)",     info_mtree },
    { "tlb",       "the page-table mappings, page by page",          monitor_info_tlb },
    { "mem",       "the page-table mappings as ranges with rights",  monitor_info_mem },
    { "qtree",     "the machine and its devices",                   info_qtree },
    { "chardev",   "the character devices",                         info_chardev },
    { "version",   "the Kestrel version",                           info_version },
    { "history",   "the command lines typed so far",                 info_history },
    { "kvm",       "whether KVM runs the guest",                     info_kvm },
};

static InfoCommand *extra_info;
static int nr_extra_info;

void monitor_register_info(const char *name, const char *help, MonitorInfoFn fn)
{
    extra_info = xrealloc(extra_info, sizeof(*extra_info) * (size_t)(nr_extra_info + 1));
    extra_info[nr_extra_info++] = (InfoCommand){ name, help, fn };
}

static const InfoCommand *find_info(const char *name)
{
    if (strcmp(name, "qtree-lite") == 0)
        name = "qtree";
    for (size_t i = 0; i < ARRAY_SIZE(builtin_info); i++)
        if (strcmp(builtin_info[i].name, name) == 0)
            return &builtin_info[i];
    for (int i = 0; i < nr_extra_info; i++)
        if (strcmp(extra_info[i].name, name) == 0)
            return &extra_info[i];
    return NULL;
}

static void print_info_list(FILE *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(builtin_info); i++)
        fprintf(out, "info %-12s -- %s\n", builtin_info[i].name, builtin_info[i].help);
    for (int i = 0; i < nr_extra_info; i++)
        fprintf(out, "info %-12s -- %s\n", extra_info[i].name, extra_info[i].help);
}

static void cmd_info(Monitor *mon, FILE *out, const char *args)
{
    if (!*args) {
        print_info_list(out);
        return;
    }
    char name[64];
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(args, " \t"), args);
    const InfoCommand *ic = find_info(name);
    if (!ic) {
        fprintf(out, "unknown info subcommand '%s'; one of:\n", name);
        print_info_list(out);
        return;
    }
    ic->fn(mon, out);
}

/* ---- x / xp ---------------------------------------------------------------------------------- */

typedef struct MemFormat {
    int count;
    char format;     /* x d u o c i */
    int size;        /* 1 2 4 8 */
} MemFormat;

/* "/NFU" with each part optional (defaults: 1, x, w). */
static bool parse_mem_format(const char *s, MemFormat *f, FILE *out)
{
    *f = (MemFormat){ 1, 'x', 0 };
    if (*s != '/')
        return true;
    s++;
    if (*s >= '0' && *s <= '9') {
        char *end;
        long n = strtol(s, &end, 10);
        if (n <= 0 || n > 4096) {
            fprintf(out, "count must be 1..4096\n");
            return false;
        }
        f->count = (int)n;
        s = end;
    }
    for (; *s && *s != ' '; s++) {
        if (strchr("xduoci", *s)) {
            f->format = *s;
        } else if (strchr("bhwg", *s)) {
            static const char sizes[] = "bhwg";
            f->size = 1 << (strchr(sizes, *s) - sizes);
        } else {
            fprintf(out, "invalid format character '%c' (formats x d u o c i; sizes b h w g)\n",
                    *s);
            return false;
        }
    }
    return true;
}

static int cpu_code_bits(CPUX86State *env)
{
    if (env->hflags & HF_CS64_MASK)
        return 64;
    return (env->hflags & HF_CS32_MASK) ? 32 : 16;
}

static void print_value(FILE *out, const MemFormat *f, uint64_t v, const char *sep)
{
    int bits = f->size * 8;
    switch (f->format) {
    case 'd': {
        int64_t sv = bits == 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >> (64 - bits);
        fprintf(out, "%s%" PRId64, sep, sv);
        break;
    }
    case 'u':
        fprintf(out, "%s%" PRIu64, sep, v);
        break;
    case 'o':
        fprintf(out, "%s0%" PRIo64, sep, v);
        break;
    case 'c':
        if (v >= 0x20 && v < 0x7f)
            fprintf(out, "%s'%c'", sep, (int)v);
        else
            fprintf(out, "%s'\\x%02" PRIx64 "'", sep, v & 0xff);
        break;
    default:
        fprintf(out, "%s0x%0*" PRIx64, sep, f->size * 2, v);
        break;
    }
}

/* Reads for x (virtual) or xp (physical); false when nothing could be read. */
static bool mem_read(Monitor *mon, bool physical, uint64_t addr, void *buf, size_t len)
{
    if (physical) {
        as_rw_buf(current_machine->mem, addr, buf, len, false);
        return true;
    }
    VCPU *cpu = monitor_cpu(mon, NULL);
    return cpu && debug_virt_rw(cpu->env, addr, buf, len, false) == 0;
}

static void memory_dump(Monitor *mon, FILE *out, const char *args, bool physical)
{
    MemFormat f;
    if (!parse_mem_format(args, &f, out))
        return;
    const char *expr = args;
    if (*expr == '/')
        expr += strcspn(expr, " ");
    while (*expr == ' ')
        expr++;
    if (!*expr) {
        fprintf(out, "usage: %s/FMT ADDR (e.g. %s/8xg 0x1000, x/10i $rip)\n",
                physical ? "xp" : "x", physical ? "xp" : "x");
        return;
    }
    uint64_t addr;
    if (!need_machine(out) || !parse_expr(mon, out, expr, &addr))
        return;
    if (!physical && !monitor_cpu(mon, out))
        return;

    if (f.format == 'i') {
        VCPU *cpu = monitor_cpu(mon, NULL);
        int bits = cpu ? cpu_code_bits(cpu->env) : 64;
        uint8_t code[4096];
        size_t want = MIN(sizeof(code), (size_t)f.count * 15), got = 0;
        /* page by page, so code just before an unmapped page still shows */
        while (got < want) {
            size_t chunk = MIN(want - got, 4096 - (size_t)((addr + got) & 4095));
            if (!mem_read(mon, physical, addr + got, code + got, chunk))
                break;
            got += chunk;
        }
        if (!got) {
            fprintf(out, "cannot access memory at 0x%" PRIx64 "\n", addr);
            return;
        }
        log_disas_x86_to(out, code, got, addr, bits, f.count);
        return;
    }
    if (!f.size)
        f.size = f.format == 'c' ? 1 : 4;
    int per_line = f.format == 'c' ? 16 : 16 / f.size;
    for (int i = 0; i < f.count; i++) {
        uint64_t a = addr + (uint64_t)i * (uint64_t)f.size;
        if (i % per_line == 0)
            fprintf(out, "%s%016" PRIx64 ":", i ? "\n" : "", a);
        uint8_t b[8];
        if (!mem_read(mon, physical, a, b, (size_t)f.size)) {
            fprintf(out, " (cannot access memory at 0x%" PRIx64 ")", a);
            break;
        }
        print_value(out, &f, ldn(b, (unsigned)f.size), " ");
    }
    fputc('\n', out);
}

static void cmd_x(Monitor *mon, FILE *out, const char *args)
{
    memory_dump(mon, out, args, false);
}

static void cmd_xp(Monitor *mon, FILE *out, const char *args)
{
    memory_dump(mon, out, args, true);
}

/* memsave ADDR SIZE FILE / pmemsave ADDR SIZE FILE */
static void memory_save(Monitor *mon, FILE *out, const char *args, bool physical)
{
    char a[64], s[64], path[400];
    uint64_t addr, size;
    if (sscanf(args, "%63s %63s %399s", a, s, path) != 3) {
        fprintf(out, "usage: %s ADDR SIZE FILE\n", physical ? "pmemsave" : "memsave");
        return;
    }
    if (!need_machine(out) || !parse_expr(mon, out, a, &addr) || !parse_expr(mon, out, s, &size))
        return;
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(out, "cannot open '%s'\n", path);
        return;
    }
    uint8_t buf[4096];
    while (size) {
        size_t n = (size_t)MIN(size, sizeof(buf));
        if (!mem_read(mon, physical, addr, buf, n)) {
            fprintf(out, "cannot access memory at 0x%" PRIx64 "\n", addr);
            break;
        }
        fwrite(buf, 1, n, f);
        addr += n;
        size -= n;
    }
    fclose(f);
}

static void cmd_memsave(Monitor *mon, FILE *out, const char *args)
{
    memory_save(mon, out, args, false);
}

static void cmd_pmemsave(Monitor *mon, FILE *out, const char *args)
{
    memory_save(mon, out, args, true);
}

/* print [/x|/d|/u|/o|/c] EXPR */
static void cmd_print(Monitor *mon, FILE *out, const char *args)
{
    MemFormat f;
    if (!parse_mem_format(args, &f, out))
        return;
    if (*args == '/')
        args += strcspn(args, " ");
    while (*args == ' ')
        args++;
    uint64_t v;
    if (!parse_expr(mon, out, args, &v))
        return;
    f.size = 8;
    if (f.format == 'x') {
        fprintf(out, "0x%" PRIx64 "\n", v);
        return;
    }
    print_value(out, &f, v, "");
    fputc('\n', out);
}

/* ---- control ------------------------------------------------------------------------------------ */

static void cmd_stop(Monitor *mon, FILE *out, const char *args)
{
    Machine *m = need_machine(out);
    if (m && vm_running(m)) {
        cpus_pause(m);
        gdbstub_vm_stopped();
    }
}

static void cmd_cont(Monitor *mon, FILE *out, const char *args)
{
    Machine *m = need_machine(out);
    if (m && !vm_running(m))
        cpus_resume(m);
}

static void cmd_nmi(Monitor *mon, FILE *out, const char *args)
{
    Machine *m = need_machine(out);
    if (m && m->ncpus && x86_cpu_interrupt)
        x86_cpu_interrupt(m->cpus[0]->env, CPU_INTERRUPT_NMI);
}

static void cmd_system_reset(Monitor *mon, FILE *out, const char *args)
{
    machine_request_reset();
}

static void (*powerdown_fn)(void *opaque);
static void *powerdown_opaque;

void monitor_set_powerdown_handler(void (*fn)(void *opaque), void *opaque)
{
    powerdown_fn = fn;
    powerdown_opaque = opaque;
}

static void cmd_system_powerdown(Monitor *mon, FILE *out, const char *args)
{
    if (powerdown_fn)
        powerdown_fn(powerdown_opaque);
    else
        machine_request_shutdown(0);
}

static void cmd_quit(Monitor *mon, FILE *out, const char *args)
{
    main_loop_quit(0);
}

static void cmd_cpu(Monitor *mon, FILE *out, const char *args)
{
    uint64_t n;
    Machine *m = need_machine(out);
    if (!m)
        return;
    if (!parse_u64(args, &n) || n >= (uint64_t)m->ncpus) {
        fprintf(out, "usage: cpu N (0..%d)\n", m->ncpus - 1);
        return;
    }
    mon->cpu_index = (int)n;
}

static void cmd_gdbserver(Monitor *mon, FILE *out, const char *args)
{
    char err[256];
    const char *spec = *args ? args : "tcp::1234";
    if (gdbstub_start(spec, err, sizeof(err)) < 0)
        fprintf(out, "gdbserver: %s\n", err);
    else
        fprintf(out, "Waiting for gdb connection on device '%s'\n", spec);
}

static void cmd_log(Monitor *mon, FILE *out, const char *args)
{
    unsigned mask;
    char err[256];
    if (strcmp(args, "none") == 0) {
        log_mask = 0;
        return;
    }
    if (!*args) {
        fprintf(out, "usage: log ITEM[,ITEM...] | none\n");
        log_print_items_help(out);
        return;
    }
    if (!log_parse_items(args, &mask, err, sizeof(err))) {
        if (err[0])
            fprintf(out, "%s\n", err);
        return;
    }
    log_mask = mask;
}

static void cmd_logfile(Monitor *mon, FILE *out, const char *args)
{
    if (!*args || !log_set_file(args))
        fprintf(out, "cannot open log file '%s'\n", args);
}

static void cmd_help(Monitor *mon, FILE *out, const char *args)
{
    monitor_print_help(out, args);
}

static const MonitorCommand builtin_commands[] = {
    { "help", "?", "[cmd]", "show the commands, or one command's help", cmd_help },
    { "info", NULL, "[subcommand]", "show machine state (info alone lists what)", cmd_info },
    { "x", NULL, "/fmt addr", "virtual memory dump (fmt: count, x/d/u/o/c/i, b/h/w/g)", cmd_x, true },
    { "xp", NULL, "/fmt addr", "physical memory dump, same formats as x", cmd_xp, true },
    { "memsave", NULL, "addr size file", "save virtual memory to a file", cmd_memsave, true },
    { "pmemsave", NULL, "addr size file", "save physical memory to a file", cmd_pmemsave, true },
    { "print", "p", "expr", "print an expression (numbers, $reg, + and -)", cmd_print, true },
    { "cpu", NULL, "index", "the CPU that x and print use", cmd_cpu },
    { "stop", "s", "", "stop the vCPUs", cmd_stop },
    { "cont", "c", "", "resume the vCPUs", cmd_cont },
    { "system_reset", NULL, "", "reset the machine", cmd_system_reset },
    { "nmi", NULL, "", "send an NMI to the first CPU", cmd_nmi },
    { "system_powerdown", NULL, "", "press the power button", cmd_system_powerdown },
    { "gdbserver", NULL, "[device]", "start the GDB stub (default tcp::1234)", cmd_gdbserver },
    { "log", NULL, "items|none", "set the -d log items", cmd_log },
    { "logfile", NULL, "file", "send the log to a file", cmd_logfile },
    { "quit", "q", "", "quit the emulator", cmd_quit },
};

static MonitorCommand *extra_commands;
static size_t nr_extra_commands;

void monitor_register_command(const char *name, const char *args_help, const char *help,
                              MonitorCommandFn fn)
{
    extra_commands = xrealloc(extra_commands, sizeof(*extra_commands) * (nr_extra_commands + 1));
    extra_commands[nr_extra_commands++] = (MonitorCommand){ name, NULL, args_help, help, fn, false };
}

const MonitorCommand *monitor_command_at(size_t i)
{
    if (i < ARRAY_SIZE(builtin_commands))
        return &builtin_commands[i];
    i -= ARRAY_SIZE(builtin_commands);
    return i < nr_extra_commands ? &extra_commands[i] : NULL;
}

void monitor_print_help(FILE *out, const char *topic)
{
    const MonitorCommand *c;
    for (size_t i = 0; (c = monitor_command_at(i)); i++) {
        if (*topic && strcmp(topic, c->name) != 0 && !(c->alias && strcmp(topic, c->alias) == 0))
            continue;
        char names[64];
        snprintf(names, sizeof(names), "%s%s%s %s", c->name, c->alias ? "|" : "",
                 c->alias ? c->alias : "", c->args);
        fprintf(out, "%-28s -- %s\n", names, c->help);
        if (*topic && c->fn == cmd_info)
            print_info_list(out);
    }
}
