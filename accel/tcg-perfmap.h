/* -d perfmap: tell perf where each translated block's host code is. */
#ifndef ACCEL_TCG_PERFMAP_H
#define ACCEL_TCG_PERFMAP_H

#include "accel/tcg-cpu.h"

/* Append tb's executable host range to /tmp/perf-PID.map (native backend
 * only; the interpreter has no host code of its own). */
void perfmap_note_tb(const TranslationBlock *tb);

/* Name the backend's shared runtime code at [code, code + size) (the
 * prologue, the jump-cache probes...) "kestrel:runtime:NAME". */
void perfmap_note_runtime(uintptr_t code, size_t size, const char *name);

#endif
