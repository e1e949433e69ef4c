/* Regression cases as small text files in tests/oracle/regressions/:
 *   # free comment lines
 *   mode 64
 *   name ADD r/m32, r32 (mem); ...
 *   code 48 01 d8 ...
 *   flags <mask at the end> <mask at a fault>
 *   cmp <ORACLE_CMP_* bits>
 *   rax 0x...   (every register, rflags, mxcsr; xmmN <high> <low>)
 *   data <offset> <hex bytes...>   (non-zero initial data)
 * The reference result is not stored: replays ask the hardware again. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/oracle/oracle.h"

static const char *const regs[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

bool oracle_case_write(const char *path, const OracleCase *c, const char *comment)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    for (const char *p = comment; p && *p;) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(f, "# %.*s\n", n, p);
        p += n + (nl ? 1 : 0);
    }
    fprintf(f, "mode %d\nname %s\ncode", c->mode, c->name);
    for (unsigned i = 0; i < c->len; i++)
        fprintf(f, " %02x", c->code[i]);
    fprintf(f, "\nflags %#x %#x\ncmp %#x\n", c->flag_mask, c->flag_mask_fault, c->cmp);
    for (int i = 0; i < 16; i++)
        fprintf(f, "%s %#" PRIx64 "\n", regs[i], c->in.gpr[i]);
    fprintf(f, "rflags %#" PRIx64 "\nmxcsr %#x\n", c->in.rflags, c->in.mxcsr);
    for (int i = 0; i < 16; i++)
        fprintf(f, "xmm%d %#" PRIx64 " %#" PRIx64 "\n", i, c->in.xmm[i][1], c->in.xmm[i][0]);
    static const uint8_t zero[32];
    for (unsigned off = 0; off < ORACLE_MEM_CMP; off += 32) {
        if (!memcmp(c->data + off, zero, 32))
            continue;
        fprintf(f, "data %u", off);
        for (unsigned i = off; i < off + 32; i++)
            fprintf(f, " %02x", c->data[i]);
        fprintf(f, "\n");
    }
    return fclose(f) == 0;
}

static bool parse_bytes(char *s, uint8_t *out, unsigned max, unsigned *n)
{
    *n = 0;
    for (char *tok = strtok(s, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
        char *end;
        unsigned long v = strtoul(tok, &end, 16);
        if (*end || v > 0xff || *n >= max)
            return false;
        out[(*n)++] = (uint8_t)v;
    }
    return true;
}

bool oracle_case_read(const char *path, OracleCase *c, char *why, size_t whylen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, whylen, "%s: cannot open", path);
        return false;
    }
    memset(c, 0, sizeof(*c));
    c->in.mxcsr = 0x1f80;
    c->in.rflags = 0x202;
    c->in.gpr[OR_RSP] = ORACLE_RSP;
    c->flag_mask = c->flag_mask_fault = ORACLE_FLAGS_ALL;
    char line[2048];
    int lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof(line), f)) {
        lineno++;
        char key[16];
        int pos = 0;
        if (line[0] == '#' || sscanf(line, "%15s %n", key, &pos) < 1)
            continue;
        char *rest = line + pos;
        rest[strcspn(rest, "\n")] = 0;
        int idx;
        uint64_t a = 0, b = 0;
        if (!strcmp(key, "mode")) {
            c->mode = atoi(rest);
            ok = c->mode == 16 || c->mode == 32 || c->mode == 64;
        } else if (!strcmp(key, "name")) {
            snprintf(c->name, sizeof(c->name), "%s", rest);
        } else if (!strcmp(key, "code")) {
            ok = parse_bytes(rest, c->code, ORACLE_CODE_MAX - 16, &c->len);
        } else if (!strcmp(key, "flags")) {
            ok = sscanf(rest, "%" SCNx64 " %" SCNx64, &a, &b) == 2;
            c->flag_mask = (uint32_t)a;
            c->flag_mask_fault = (uint32_t)b;
        } else if (!strcmp(key, "cmp")) {
            c->cmp = (uint32_t)strtoul(rest, NULL, 0);
        } else if (!strcmp(key, "rflags")) {
            c->in.rflags = strtoull(rest, NULL, 0);
        } else if (!strcmp(key, "mxcsr")) {
            c->in.mxcsr = (uint32_t)strtoul(rest, NULL, 0);
        } else if (sscanf(key, "xmm%d", &idx) == 1 && idx >= 0 && idx < 16) {
            char *end;
            c->in.xmm[idx][1] = strtoull(rest, &end, 0);
            c->in.xmm[idx][0] = strtoull(end, &end, 0);
        } else if (!strcmp(key, "data")) {
            unsigned off, n;
            int p2 = 0;
            ok = sscanf(rest, "%u %n", &off, &p2) == 1 && off < ORACLE_MEM_CMP &&
                 parse_bytes(rest + p2, c->data + off, ORACLE_MEM_CMP - off, &n);
        } else {
            bool found = false;
            for (int i = 0; i < 16; i++) {
                if (!strcmp(key, regs[i])) {
                    c->in.gpr[i] = strtoull(rest, NULL, 0);
                    found = true;
                }
            }
            ok = found;
        }
    }
    fclose(f);
    if (!ok || !c->mode || !c->len) {
        snprintf(why, whylen, "%s:%d: malformed oracle case", path, lineno);
        return false;
    }
    return true;
}
