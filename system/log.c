/* Debug logging (-d ITEMS, -D FILE): see system/log.h.
 *
 * Every write to the log goes through one mutex, so lines from vCPU threads
 * and the I/O thread never interleave mid-line. */
#include "system/log.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "system/util.h"

unsigned log_mask;

static FILE *log_stream;     /* NULL: stderr */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct LogItem {
    const char *name;
    unsigned mask;
    const char *help;
} LogItem;

static const LogItem log_items[] = {
    { "in_asm",       LOG_IN_ASM,       "guest code of each translated block" },
    { "out_asm",      LOG_OUT_ASM,      "host code generated for each block" },
    { "op",           LOG_OP,           "the translator's intermediate representation" },
    { "int",          LOG_INT,          "interrupts and exceptions taken by the CPU" },
    { "exec",         LOG_EXEC,         "each translation block executed" },
    { "cpu",          LOG_CPU,          "CPU state before each block executed" },
    { "guest_errors", LOG_GUEST_ERRORS, "the guest doing something invalid (unassigned I/O, bad DMA)" },
    { "unimp",        LOG_UNIMP,        "features the guest used that are not implemented" },
    { "trace",        LOG_TRACE,        "device trace points" },
    { "perfmap",      LOG_PERFMAP,      "write /tmp/perf-PID.map so perf names translated code" },
    { "jit",          LOG_JIT,          "translator statistics at exit (as the monitor's info jit)" },
    { "jitcount",     LOG_JIT_COUNT,    "count translated-block entries for -d jit (slows the code)" },
};

static const LogItem *log_item_find(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(log_items); i++) {
        if (strlen(log_items[i].name) == len && memcmp(log_items[i].name, name, len) == 0)
            return &log_items[i];
    }
    return NULL;
}

bool log_parse_items(const char *s, unsigned *mask, char *err, size_t errlen)
{
    unsigned m = 0;
    if (errlen)
        err[0] = '\0';
    if (strcmp(s, "help") == 0 || strcmp(s, "?") == 0) {
        log_print_items_help(stdout);
        return false;
    }
    if (*s == '\0') {
        snprintf(err, errlen, "no log items given (try -d help)");
        return false;
    }
    for (const char *p = s;;) {
        size_t len = strcspn(p, ",");
        if (len == 0) {
            snprintf(err, errlen, "empty log item in '%s' (try -d help)", s);
            return false;
        }
        const LogItem *item = log_item_find(p, len);
        if (!item) {
            snprintf(err, errlen, "unknown log item '%.*s' (try -d help)", (int)len, p);
            return false;
        }
        m |= item->mask;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    *mask = m;
    return true;
}

void log_print_items_help(FILE *f)
{
    fprintf(f, "Log items (-d item,item,...):\n");
    for (size_t i = 0; i < ARRAY_SIZE(log_items); i++)
        fprintf(f, "  %-13s %s\n", log_items[i].name, log_items[i].help);
}

bool log_set_file(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    /* Line-buffered: a log must survive the emulator dying right after. */
    setvbuf(f, NULL, _IOLBF, 0);
    pthread_mutex_lock(&log_lock);
    FILE *old = log_stream;
    log_stream = f;
    pthread_mutex_unlock(&log_lock);
    if (old)
        fclose(old);
    return true;
}

FILE *log_file(void)
{
    return log_stream ? log_stream : stderr;
}

void log_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&log_lock);
    vfprintf(log_file(), fmt, ap);
    pthread_mutex_unlock(&log_lock);
    va_end(ap);
}

/* ---- LOG_ONCE: a set of (call site, key) already seen ------------------------ */

typedef struct OnceKey {
    const char *file;   /* __FILE__ pointers: compared by address and line */
    int line;
    uint64_t key;
} OnceKey;

static OnceKey *once_table;
static size_t once_cap, once_count;

static size_t once_hash(const OnceKey *k)
{
    uint64_t h = (uint64_t)(uintptr_t)k->file * 0x9e3779b97f4a7c15ULL;
    h ^= (uint64_t)k->line * 0xc2b2ae3d27d4eb4fULL;
    h ^= k->key * 0x165667b19e3779f9ULL;
    h ^= h >> 29;
    return (size_t)h;
}

static bool once_insert(OnceKey *table, size_t cap, const OnceKey *k)
{
    for (size_t i = once_hash(k) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        OnceKey *e = &table[i];
        if (!e->file) {
            *e = *k;
            return true;
        }
        if (e->file == k->file && e->line == k->line && e->key == k->key)
            return false;
    }
}

static void once_grow(void)
{
    size_t cap = once_cap ? once_cap * 2 : 256;
    OnceKey *t = xzalloc(cap * sizeof(*t));
    for (size_t i = 0; i < once_cap; i++) {
        if (once_table[i].file)
            once_insert(t, cap, &once_table[i]);
    }
    free(once_table);
    once_table = t;
    once_cap = cap;
}

bool log_first_time(const char *file, int line, uint64_t key)
{
    OnceKey k = { file, line, key };
    pthread_mutex_lock(&log_lock);
    if ((once_count + 1) * 2 > once_cap)
        once_grow();
    bool first = once_insert(once_table, once_cap, &k);
    once_count += first;
    pthread_mutex_unlock(&log_lock);
    return first;
}

/* ---- disassembly --------------------------------------------------------------- */

/* One capstone handle per mode, opened on first use; used under log_lock
 * because capstone handles are not thread-safe. */
static csh disas_handles[3];
static bool disas_open[3], disas_failed[3];

static csh *disas_handle(int mode)
{
    int idx = mode == 16 ? 0 : mode == 32 ? 1 : 2;
    static const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
    if (!disas_open[idx] && !disas_failed[idx]) {
        if (cs_open(CS_ARCH_X86, modes[idx], &disas_handles[idx]) == CS_ERR_OK)
            disas_open[idx] = true;
        else
            disas_failed[idx] = true;
    }
    return disas_open[idx] ? &disas_handles[idx] : NULL;
}

static void disas_print_line(FILE *f, uint64_t addr, const uint8_t *bytes, size_t n,
                             const char *mnemonic, const char *operands)
{
    char hex[3 * 16 + 1];
    size_t pos = 0;
    for (size_t i = 0; i < n && i < 15; i++)
        pos += (size_t)snprintf(hex + pos, sizeof(hex) - pos, "%s%02x", i ? " " : "", bytes[i]);
    hex[pos] = '\0';
    fprintf(f, "0x%016" PRIx64 ":  %-24s  %s%s%s\n", addr, hex, mnemonic,
            operands[0] ? " " : "", operands);
}

static size_t disas_locked(FILE *f, const void *code, size_t len, uint64_t addr,
                           int mode, int max_insns)
{
    const uint8_t *p = code;
    size_t off = 0;
    int count = 0;
    csh *h = disas_handle(mode);
    if (!h) {
        fprintf(f, "(capstone cannot open x86 mode %d)\n", mode);
        return 0;
    }
    cs_insn *insn = cs_malloc(*h);
    while (off < len && (max_insns <= 0 || count < max_insns)) {
        const uint8_t *cur = p + off;
        size_t left = len - off;
        uint64_t a = addr + off;
        if (insn && cs_disasm_iter(*h, &cur, &left, &a, insn)) {
            disas_print_line(f, insn->address, insn->bytes, insn->size,
                             insn->mnemonic, insn->op_str);
            off += insn->size;
        } else {
            /* Undecodable (or truncated) byte: show it and resync after it. */
            disas_print_line(f, addr + off, p + off, 1, "(bad)", "");
            off++;
        }
        count++;
    }
    if (insn)
        cs_free(insn, 1);
    return off;
}

size_t log_disas_x86_to(FILE *f, const void *code, size_t len, uint64_t addr,
                        int mode, int max_insns)
{
    pthread_mutex_lock(&log_lock);
    size_t n = disas_locked(f, code, len, addr, mode, max_insns);
    pthread_mutex_unlock(&log_lock);
    return n;
}

void log_disas_x86(const void *code, size_t len, uint64_t addr, int mode)
{
    pthread_mutex_lock(&log_lock);
    disas_locked(log_file(), code, len, addr, mode, 0);
    pthread_mutex_unlock(&log_lock);
}
