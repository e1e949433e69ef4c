/* x86-64 host code backend (placeholder until the emitter lands). */
#include "accel/tcg-cpu.h"
#include "system/util.h"

static bool x86_64_init(char *err, size_t errlen)
{
    snprintf(err, errlen, "the x86_64 backend is not available yet (use -accel tcg,backend=interp)");
    return false;
}

const TCGBackend tcg_backend_x86_64 = {
    .name = "x86_64",
    .init = x86_64_init,
};
