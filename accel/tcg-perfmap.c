/* -d perfmap: /tmp/perf-PID.map, the file perf reads to name samples in JIT
 * code. One line per translated block: "HOSTADDR SIZE kestrel:0xGUESTPC",
 * hex without 0x for the first two, the guest PC being linear (cs_base + pc).
 * Blocks translated as single instructions (self-modifying code, stepping)
 * get a ":1insn" suffix.
 *
 * Each line is one write() to an O_APPEND file: vCPU threads never interleave
 * mid-line and nothing sits in a buffer, so a killed emulator still leaves a
 * usable map. After a code-buffer flush, addresses are reused and new lines
 * describe them; perf resolves overlapping entries to one of them, which is
 * good enough for a profile dominated by steady-state code. The file stays
 * after exit: perf report reads it then. */
#include "accel/tcg-perfmap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "cpu/x86/cpu.h"
#include "system/util.h"
#include "system/log.h"
#include "tcg/tb.h"

static pthread_once_t perfmap_once = PTHREAD_ONCE_INIT;
static int perfmap_fd = -1;
static atomic_bool perfmap_write_failed;   /* reported once */

static void perfmap_open(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
    /* O_NOFOLLOW: /tmp is shared; never write through someone's symlink. */
    perfmap_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (perfmap_fd < 0)
        error_report("-d perfmap: cannot create %s: %s", path, strerror(errno));
}

static void perfmap_write(const char *line, int n)
{
    if (n > 0 && write(perfmap_fd, line, (size_t)n) != n &&
        !atomic_exchange(&perfmap_write_failed, true))
        error_report("-d perfmap: cannot write the map file: %s", strerror(errno));
}

void perfmap_note_runtime(uintptr_t code, size_t size, const char *name)
{
    if (!log_enabled(LOG_PERFMAP) || size == 0)
        return;
    pthread_once(&perfmap_once, perfmap_open);
    if (perfmap_fd < 0)
        return;
    char line[128];
    int n = snprintf(line, sizeof(line), "%" PRIxPTR " %zx kestrel:runtime:%s\n", code, size, name);
    perfmap_write(line, n > 0 && (size_t)n < sizeof(line) ? n : 0);
}

void perfmap_note_tb(const TranslationBlock *tb)
{
    if (tcg_use_interp || !tb->code || tb->code_size == 0)
        return;
    pthread_once(&perfmap_once, perfmap_open);
    if (perfmap_fd < 0)
        return;
    uint64_t linear = tb->cs_base + tb->pc;
    if (!(tb->flags & HF_CS64_MASK))
        linear = (uint32_t)linear;
    char line[96];
    int n = snprintf(line, sizeof(line), "%" PRIxPTR " %x kestrel:0x%" PRIx64 "%s\n",
                     (uintptr_t)tb->code, tb->code_size, linear,
                     (tb->cflags & CF_SINGLE_INSN) ? ":1insn" : "");
    perfmap_write(line, n > 0 && (size_t)n < sizeof(line) ? n : 0);
}
