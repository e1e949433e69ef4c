/* Debug logging: `-d item,item` selects what is logged, `-D file` where
 * (stderr by default). Items, as QEMU users know them:
 *   in_asm   guest code of each translated block (capstone disassembly)
 *   out_asm  host code generated for each block (capstone disassembly)
 *   op       the translator's intermediate representation
 *   int      interrupts and exceptions taken by the CPU
 *   exec     each translation block executed
 *   cpu      CPU state before each block executed
 *   guest_errors  the guest doing something invalid (unassigned I/O, bad DMA)
 *   unimp    features the guest used that are not implemented
 *   trace    device trace points (see -trace)
 *   perfmap  /tmp/perf-PID.map naming translated code for perf (not the log)
 *   jitcount translated code counts its block entries (for -d jit; slower) */
#ifndef SYSTEM_LOG_H
#define SYSTEM_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum {
    LOG_IN_ASM       = 1u << 0,
    LOG_OUT_ASM      = 1u << 1,
    LOG_OP           = 1u << 2,
    LOG_INT          = 1u << 3,
    LOG_EXEC         = 1u << 4,
    LOG_CPU          = 1u << 5,
    LOG_GUEST_ERRORS = 1u << 6,
    LOG_UNIMP        = 1u << 7,
    LOG_TRACE        = 1u << 8,
    LOG_PERFMAP      = 1u << 9,
    LOG_JIT          = 1u << 10,
    LOG_JIT_COUNT    = 1u << 11,
};

extern unsigned log_mask;

static inline bool log_enabled(unsigned mask) { return __builtin_expect((log_mask & mask) != 0, 0); }

/* Parse "in_asm,int" into a mask. "help" prints the list and returns false
 * with err empty; an unknown item returns false with a message in err. */
bool log_parse_items(const char *s, unsigned *mask, char *err, size_t errlen);
void log_print_items_help(FILE *f);
/* Send the log to a file (-D); returns false with errno set when it cannot open. */
bool log_set_file(const char *path);
FILE *log_file(void);

void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define LOG(mask, ...)                          \
    do {                                        \
        if (log_enabled(mask))                  \
            log_printf(__VA_ARGS__);            \
    } while (0)

/* Log the first occurrence only (keyed by the call site and key). */
#define LOG_ONCE(mask, key, ...)                                   \
    do {                                                           \
        if (log_enabled(mask) && log_first_time(__FILE__, __LINE__, (uint64_t)(key))) \
            log_printf(__VA_ARGS__);                               \
    } while (0)
bool log_first_time(const char *file, int line, uint64_t key);

/* Disassemble code with capstone into the log. mode: 16, 32 or 64 (x86).
 * One line per instruction: "0x<addr>:  <bytes>  <mnemonic> <operands>". */
void log_disas_x86(const void *code, size_t len, uint64_t addr, int mode);
/* The same into any stream (monitor "x/i"), at most max_insns instructions
 * (<= 0: all); returns how many bytes were disassembled. */
size_t log_disas_x86_to(FILE *f, const void *code, size_t len, uint64_t addr,
                        int mode, int max_insns);

#endif
