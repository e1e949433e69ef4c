/* Comparing two oracle results, and saying how they differ. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "tests/oracle/oracle.h"

static const char *const reg_names[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

static const char *const vec_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "09", "#TS", "#NP",
    "#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};


typedef struct Report {
    char *buf;
    size_t len, used;
    int diffs;
} Report;

static void say(Report *r, const char *fmt, ...)
{
    if (r->used + 1 >= r->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->buf + r->used, r->len - r->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        r->used += (size_t)n < r->len - r->used ? (size_t)n : r->len - r->used - 1;
}

static void describe_end(const OracleResult *r, char *out, size_t len)
{
    switch (r->end) {
    case ORACLE_END_OK:
        snprintf(out, len, "completed");
        break;
    case ORACLE_END_EXCEPTION:
        if (r->vector >= 0 && r->vector < 32 && vec_names[r->vector])
            snprintf(out, len, "%s", vec_names[r->vector]);
        else
            snprintf(out, len, "vector %d", r->vector);
        if (r->vector == 14)
            snprintf(out + strlen(out), len - strlen(out), " cr2=%#" PRIx64, r->cr2);
        if (oracle_pushes_error_code(r->vector))
            snprintf(out + strlen(out), len - strlen(out), " err=%#x", r->error_code);
        break;
    case ORACLE_END_TIMEOUT:
        snprintf(out, len, "did not finish");
        break;
    case ORACLE_END_CRASH:
        snprintf(out, len, "reference crashed (signal %d)", r->vector);
        break;
    }
}

void oracle_describe_result(const OracleResult *r, int mode, char *out, size_t len)
{
    describe_end(r, out, len);
    size_t n = strlen(out);
    snprintf(out + n, len - n, " rip=%#" PRIx64 " rflags=%#" PRIx64, r->st.rip, r->st.rflags);
    for (int i = 0; i < (mode == 64 ? 16 : 8); i++) {
        n = strlen(out);
        snprintf(out + n, len - n, " %s=%#" PRIx64, reg_names[i], r->st.gpr[i]);
    }
}

static void compare_mem(Report *rep, const char *what, uint64_t base, const uint8_t *ref,
                        const uint8_t *got)
{
    if (!memcmp(ref, got, ORACLE_MEM_CMP))
        return;
    int at = 0;
    while (ref[at] == got[at])
        at++;
    int last = ORACLE_MEM_CMP - 1;
    while (ref[last] == got[last])
        last--;
    rep->diffs++;
    say(rep, "  %s differs at %#" PRIx64 "..%#" PRIx64 ": got", what, base + (uint64_t)at,
        base + (uint64_t)last);
    for (int i = at; i <= last && i < at + 16; i++)
        say(rep, " %02x", got[i]);
    say(rep, ", reference");
    for (int i = at; i <= last && i < at + 16; i++)
        say(rep, " %02x", ref[i]);
    say(rep, "\n");
}

int oracle_compare(const OracleCase *c, const OracleResult *ref, const OracleResult *got,
                   char *report, size_t len)
{
    Report rep = { report, len, 0, 0 };
    report[0] = 0;
    char a[128], b[128];
    describe_end(ref, a, sizeof(a));
    describe_end(got, b, sizeof(b));
    bool same_end = ref->end == got->end;
    if (same_end && ref->end == ORACLE_END_EXCEPTION) {
        uint32_t errmask = ~0u;
        /* the host kernel's own pages are present in the native child:
         * #PF there has P = 1 natively, 0 under the translator */
        if (ref->vector == 14 && ref->cr2 >= 0xffff800000000000ULL && !c->system)
            errmask = ~1u;
        same_end = ref->vector == got->vector &&
                   (!oracle_pushes_error_code(ref->vector) || !((ref->error_code ^ got->error_code) & errmask)) &&
                   (ref->vector != 14 || ref->cr2 == got->cr2);
    }
    if (!same_end) {
        rep.diffs++;
        say(&rep, "  end: got %s, reference %s\n", b, a);
    }
    /* registers: the state at the end or at the faulting instruction */
    int nregs = c->mode == 64 ? 16 : 8;
    uint64_t mask = c->mode == 64 ? ~0ULL : 0xffffffffULL;
    for (int i = 0; i < nregs; i++) {
        if ((ref->st.gpr[i] & mask) != (got->st.gpr[i] & mask)) {
            rep.diffs++;
            say(&rep, "  %s: got %#" PRIx64 ", reference %#" PRIx64 "\n", reg_names[i],
                got->st.gpr[i] & mask, ref->st.gpr[i] & mask);
        }
    }
    if ((ref->st.rip & mask) != (got->st.rip & mask)) {
        rep.diffs++;
        say(&rep, "  rip: got %#" PRIx64 ", reference %#" PRIx64 "\n", got->st.rip & mask,
            ref->st.rip & mask);
    }
    uint32_t fmask = ref->end == ORACLE_END_OK ? c->flag_mask : c->flag_mask_fault;
    if ((ref->st.rflags ^ got->st.rflags) & fmask) {
        rep.diffs++;
        say(&rep, "  rflags: got %#" PRIx64 ", reference %#" PRIx64 " (compared %#x)\n",
            got->st.rflags & fmask, ref->st.rflags & fmask, fmask);
    }
    if (c->cmp & ORACLE_CMP_XMM) {
        for (int i = 0; i < (c->mode == 64 ? 16 : 8); i++) {
            if (memcmp(ref->st.xmm[i], got->st.xmm[i], 16)) {
                rep.diffs++;
                say(&rep, "  xmm%d: got %016" PRIx64 "%016" PRIx64 ", reference %016" PRIx64
                    "%016" PRIx64 "\n", i, got->st.xmm[i][1], got->st.xmm[i][0],
                    ref->st.xmm[i][1], ref->st.xmm[i][0]);
            }
        }
        if (ref->st.mxcsr != got->st.mxcsr) {
            rep.diffs++;
            say(&rep, "  mxcsr: got %#x, reference %#x\n", got->st.mxcsr, ref->st.mxcsr);
        }
    }
    compare_mem(&rep, "data", ORACLE_DATA, ref->data, got->data);
    compare_mem(&rep, "stack", ORACLE_RSP - ORACLE_MEM_CMP / 2, ref->stack, got->stack);
    return rep.diffs;
}
